-- `resolved_at`: when the alert was resolved, NULL while it is not: the same column and
-- meaning as migrations/sqlite/0007_alerts_resolved.sql (see the comments there). Rows written
-- before are backfilled from their doc (`Alert::resolved_at`, an RFC 3339 string; rounded to
-- the millisecond).
ALTER TABLE alerts ADD COLUMN resolved_at BIGINT;
UPDATE alerts
SET resolved_at = round(extract(epoch FROM (doc::jsonb ->> 'resolved_at')::timestamptz) * 1000)::bigint
WHERE (doc::jsonb ->> 'resolved_at') IS NOT NULL;

-- The dispatcher reads the unresolved alerts, oldest first, at every step.
CREATE INDEX alerts_unresolved ON alerts (opened_at, id) WHERE resolved_at IS NULL;
