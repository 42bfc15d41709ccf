-- Status page subscribers (`belfry_core::subscriber`). The subscriber is stored whole as JSON
-- (`doc`); the other columns copy what lookups use. `address_key` is the normalised address
-- (`SubscriberKind::key`), unique so one address subscribes once; `token_hash` is the hex
-- SHA-256 of the confirm/unsubscribe token, so links are looked up by hash. Times are epoch
-- ms (UTC), as in 0001. The "which incident updates were announced" marker lives in
-- `cursors` (0002).
CREATE TABLE subscribers (
    id           TEXT   PRIMARY KEY,
    address_key  TEXT   NOT NULL UNIQUE,
    token_hash   TEXT   NOT NULL UNIQUE,
    confirmed_at BIGINT,
    created_at   BIGINT NOT NULL,
    doc          TEXT   NOT NULL
);
CREATE INDEX subscribers_confirmed_at ON subscribers (confirmed_at);
