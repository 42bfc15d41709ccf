-- `resolved_at`: when the alert was resolved, NULL while it is not: the same column and
-- meaning as migrations/sqlite/0007_alerts_resolved.sql (see the comments there). Rows written
-- before are backfilled from their doc (`Alert::resolved_at`, an RFC 3339 string; rounded to
-- the millisecond).
-- A doc is JSON text; `jsonb` refuses the escape `\u0000` (a NUL in a check's reason, say:
-- "unsupported Unicode escape sequence"), which `text` and `json` store as written. Every doc
-- is read here with it replaced by `\ufffd` (U+FFFD, the replacement character); with
-- standard_conforming_strings, the literal '\u0000' below is those six characters, as the
-- JSON text has them.
ALTER TABLE alerts ADD COLUMN resolved_at BIGINT;
UPDATE alerts
SET resolved_at = round(extract(epoch FROM
        (replace(doc, '\u0000', '\ufffd')::jsonb ->> 'resolved_at')::timestamptz) * 1000)::bigint
WHERE (replace(doc, '\u0000', '\ufffd')::jsonb ->> 'resolved_at') IS NOT NULL;

-- Alerts acknowledged before this release (when an acknowledged alert was done) and not
-- resolved since keep that meaning: resolved when acknowledged (or opened), in the column and
-- the doc, the version moved on in both (see the sqlite migration for why). Such a doc is
-- written back with U+FFFD where it had `\u0000`.
UPDATE alerts
SET resolved_at = round(extract(epoch FROM COALESCE(replace(doc, '\u0000', '\ufffd')::jsonb ->> 'acknowledged_at',
        replace(doc, '\u0000', '\ufffd')::jsonb ->> 'opened_at')::timestamptz) * 1000)::bigint,
    doc = (replace(doc, '\u0000', '\ufffd')::jsonb
        || jsonb_build_object(
            'resolved_at', COALESCE(replace(doc, '\u0000', '\ufffd')::jsonb ->> 'acknowledged_at',
                replace(doc, '\u0000', '\ufffd')::jsonb ->> 'opened_at'),
            'version', version + 1))::text,
    version = version + 1
WHERE resolved_at IS NULL AND NOT active;

-- The dispatcher reads the unresolved alerts, oldest first, at every step.
CREATE INDEX alerts_unresolved ON alerts (opened_at, id) WHERE resolved_at IS NULL;
