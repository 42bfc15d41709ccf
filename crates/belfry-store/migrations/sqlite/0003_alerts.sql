-- Alerts (escalations in progress) and the notification outbox. Aggregates are stored whole as
-- JSON (`doc`, the serde form of `belfry_core::alert::Alert` and `belfry_core::alert::Delivery`);
-- the other columns copy the few fields that queries filter and sort on. `alerts.version` is
-- the optimistic-concurrency counter, as in 0002. Times are epoch ms (UTC), as in 0001.
-- Routing cursors live in `cursors` (0002).

-- `active`: neither acknowledged nor resolved. `next_at`: when the next notification is due,
-- NULL when nothing more will be sent.
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

-- One row per message to one channel. `idempotency_key` is unique: routing the same step
-- twice never queues a notification twice. `alert` is NULL for a "send test". `status` is
-- `pending`, `sent` or `dead` (`DeliveryStatus::as_str`).
CREATE TABLE deliveries (
    id              TEXT    PRIMARY KEY,
    idempotency_key TEXT    NOT NULL UNIQUE,
    alert           TEXT,
    channel         TEXT    NOT NULL,
    status          TEXT    NOT NULL,
    next_attempt_at BIGINT  NOT NULL,
    created_at      BIGINT  NOT NULL,
    attempts        INTEGER NOT NULL,
    doc             TEXT    NOT NULL
);
CREATE INDEX deliveries_status_next_attempt_at ON deliveries (status, next_attempt_at);
CREATE INDEX deliveries_created_at ON deliveries (created_at);
