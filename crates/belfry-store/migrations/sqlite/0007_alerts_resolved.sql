-- `resolved_at`: when the alert was resolved (epoch ms, UTC, as in 0001), NULL while it is not:
-- active or acknowledged. Before this column only the JSON `doc` told an acknowledged alert
-- from a resolved one (both are not `active`), so reading the unresolved alerts parsed every
-- alert ever stored; alerts are never pruned. Rows written before are backfilled from their
-- doc (`Alert::resolved_at`, an RFC 3339 string; rounded to the millisecond).
ALTER TABLE alerts ADD COLUMN resolved_at BIGINT;
UPDATE alerts
SET resolved_at = CAST(ROUND((julianday(json_extract(doc, '$.resolved_at')) - 2440587.5) * 86400000.0) AS INTEGER)
WHERE json_extract(doc, '$.resolved_at') IS NOT NULL;

-- Before this release an acknowledged alert was done: a recovery resolved only active ones, so
-- every alert acknowledged before it (and long since recovered) is still unresolved. Now a
-- recovery resolves acknowledged alerts too and tells the channels they paged; left as they
-- are, these would be read at every dispatcher step for ever and the next recovery of each
-- subject would send a months-late "resolved". They keep their old meaning instead: resolved
-- when they were acknowledged (when they were opened, if the doc has no acknowledgement), in
-- the column and the doc, as a save does (the version moves on, in both).
UPDATE alerts
SET resolved_at = CAST(ROUND((julianday(COALESCE(json_extract(doc, '$.acknowledged_at'),
        json_extract(doc, '$.opened_at'))) - 2440587.5) * 86400000.0) AS INTEGER),
    doc = json_set(doc,
        '$.resolved_at', COALESCE(json_extract(doc, '$.acknowledged_at'), json_extract(doc, '$.opened_at')),
        '$.version', version + 1),
    version = version + 1
WHERE resolved_at IS NULL AND NOT active;

-- The dispatcher reads the unresolved alerts, oldest first, at every step: only those rows are
-- indexed, so the read does not grow with the history of resolved alerts.
CREATE INDEX alerts_unresolved ON alerts (opened_at, id) WHERE resolved_at IS NULL;
