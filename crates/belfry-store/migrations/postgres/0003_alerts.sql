-- Alerts and the notification outbox, PostgreSQL flavour: the same tables, columns and meaning
-- as migrations/sqlite/0003_alerts.sql (see the comments there). Aggregates are their serde
-- JSON in a TEXT `doc`; `alerts.version` is the optimistic-concurrency counter. Times are
-- epoch ms (BIGINT, UTC), as in 0001. Routing cursors live in `cursors` (0002).

CREATE TABLE alerts (
    id        TEXT    PRIMARY KEY,
    subject   TEXT    NOT NULL,
    active    BOOLEAN NOT NULL,
    next_at   BIGINT,
    opened_at BIGINT  NOT NULL,
    version   BIGINT  NOT NULL,
    doc       TEXT    NOT NULL
);
CREATE INDEX alerts_active_next_at ON alerts (active, next_at);

CREATE TABLE deliveries (
    id              TEXT   PRIMARY KEY,
    idempotency_key TEXT   NOT NULL UNIQUE,
    alert           TEXT,
    channel         TEXT   NOT NULL,
    status          TEXT   NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    attempts        BIGINT NOT NULL,
    doc             TEXT   NOT NULL
);
CREATE INDEX deliveries_status_next_attempt_at ON deliveries (status, next_attempt_at);
CREATE INDEX deliveries_created_at ON deliveries (created_at);
