//! sqlx errors translated to `StoreError` at the boundary, with SQLite's result codes.

use belfry_core::store::StoreError;

use crate::error::Class;

// SQLite primary result codes (the low byte of an extended code).
const SQLITE_IOERR: i64 = 10;
const SQLITE_BUSY: i64 = 5;
const SQLITE_LOCKED: i64 = 6;
const SQLITE_CORRUPT: i64 = 11;
const SQLITE_FULL: i64 = 13;
const SQLITE_CANTOPEN: i64 = 14;
const SQLITE_NOTADB: i64 = 26;

pub(super) fn db(err: sqlx::Error) -> StoreError {
    crate::error::translate(err, |e| {
        let primary = e.code().and_then(|c| c.parse::<i64>().ok()).map(|c| c & 0xff)?;
        match primary {
            SQLITE_CORRUPT | SQLITE_NOTADB => Some(Class::Corrupt),
            SQLITE_BUSY | SQLITE_LOCKED | SQLITE_IOERR | SQLITE_FULL | SQLITE_CANTOPEN => {
                Some(Class::Unavailable)
            }
            _ => None,
        }
    })
}

pub(super) fn migrate(err: sqlx::migrate::MigrateError) -> StoreError {
    crate::error::migrate(err, db)
}
