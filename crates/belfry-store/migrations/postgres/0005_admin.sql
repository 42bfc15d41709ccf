-- Console users, their sessions, the audit log and the vault of sealed secrets, PostgreSQL
-- flavour: the same tables, columns and meaning as migrations/sqlite/0005_admin.sql (see the
-- comments there). Times are epoch ms (BIGINT, UTC), as in 0001. Names that lists sort by
-- (`users.name`, `vault.name`) use the "C" collation, so "by name" is byte (code point)
-- order, as on SQLite, whatever the database's default collation.

CREATE TABLE users (
    id            TEXT             PRIMARY KEY,
    name          TEXT COLLATE "C" NOT NULL UNIQUE,
    role          TEXT             NOT NULL,
    password_hash TEXT             NOT NULL,
    totp          BOOLEAN          NOT NULL,
    created_at    BIGINT           NOT NULL
);

CREATE TABLE sessions (
    hash       TEXT   PRIMARY KEY,
    user_id    TEXT   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf       TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_user_id ON sessions (user_id);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

-- Append-only; identity values only ever grow.
CREATE TABLE audit (
    id          BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          BIGINT  NOT NULL,
    actor       TEXT    NOT NULL,
    action      TEXT    NOT NULL,
    object      TEXT    NOT NULL,
    before_json TEXT,
    after_json  TEXT
);

CREATE TABLE vault (
    name       TEXT COLLATE "C" PRIMARY KEY,
    sealed     TEXT             NOT NULL,
    updated_at BIGINT           NOT NULL
);
