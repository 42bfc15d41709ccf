-- A transition into `maintenance` held by windows that count the monitor's failing time as
-- downtime (`count_downtime`; `belfry_core::policy::Transition::counts_downtime`). Down periods
-- add the time its checks failed from then until its next transition. Rows written before
-- this column existed are not counted.
ALTER TABLE transitions ADD COLUMN counts_downtime BOOLEAN NOT NULL DEFAULT FALSE;

-- Progress markers of an earlier, unreleased way of counting this downtime; nothing reads them.
DELETE FROM cursors WHERE name LIKE 'counted-downtime/%';
