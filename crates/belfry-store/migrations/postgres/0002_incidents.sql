-- Incidents, their machine timelines, maintenance windows and worker cursors, PostgreSQL
-- flavour: the same tables, columns and meaning as migrations/sqlite/0002_incidents.sql (see
-- the comments there). Aggregates are their serde JSON in a TEXT `doc`; `version` is the
-- optimistic-concurrency counter (a save updates a row only `WHERE version = <expected>`).
-- Times are epoch ms (BIGINT, UTC), as in 0001.

CREATE TABLE incidents (
    id           TEXT    PRIMARY KEY,
    status       TEXT    NOT NULL,
    published    BOOLEAN NOT NULL,
    -- The monitor of an automatic incident, NULL for one opened by hand.
    auto_monitor TEXT,
    created_at   BIGINT  NOT NULL,
    updated_at   BIGINT  NOT NULL,
    resolved_at  BIGINT,
    version      BIGINT  NOT NULL,
    doc          TEXT    NOT NULL
);
CREATE INDEX incidents_created_at ON incidents (created_at);

-- Append-only. `id` orders entries of the same time as they were appended; `sub_ms_ns` holds
-- the nanoseconds of `at` below the millisecond; `data` is JSON (`null` when there is none).
CREATE TABLE incident_timeline (
    id        BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    incident  TEXT    NOT NULL REFERENCES incidents (id),
    at        BIGINT  NOT NULL,
    sub_ms_ns BIGINT  NOT NULL,
    kind      TEXT    NOT NULL,
    author    TEXT,
    text      TEXT    NOT NULL,
    data      TEXT    NOT NULL
);
CREATE INDEX incident_timeline_incident_at ON incident_timeline (incident, at, id);

-- `recurring` windows (with an RRULE) are listed whatever their first occurrence's end.
CREATE TABLE maintenances (
    id        TEXT    PRIMARY KEY,
    starts_at BIGINT  NOT NULL,
    ends_at   BIGINT  NOT NULL,
    recurring BOOLEAN NOT NULL,
    version   BIGINT  NOT NULL,
    doc       TEXT    NOT NULL
);

-- Named progress markers of background workers (opaque strings).
CREATE TABLE cursors (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
