//! Versioned migrations from migrations/, applied in order, each in its own transaction.

use super::{map_open_error, StoreError};
use rusqlite::Connection;

/// Every migration, oldest first; a database's `user_version` is how many it has applied.
pub const MIGRATIONS: &[(&str, &str)] = &[
    (
        "0001_init",
        include_str!("../../migrations/device_0001_init.sql"),
    ),
    (
        "0002_corrections_settings",
        include_str!("../../migrations/device_0002_corrections_settings.sql"),
    ),
    (
        "0003_sync",
        include_str!("../../migrations/device_0003_sync.sql"),
    ),
];

/// The version a fully migrated database has.
pub fn latest() -> u32 {
    MIGRATIONS.len() as u32
}

/// The database's schema version.
pub fn version(conn: &Connection) -> Result<u32, StoreError> {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(map_open_error)
}

/// Brings the database up to the latest version; refuses a newer one.
pub fn migrate(conn: &mut Connection) -> Result<u32, StoreError> {
    migrate_to(conn, latest())
}

/// Applies migrations up to `target`; each one and its version bump commit together.
pub fn migrate_to(conn: &mut Connection, target: u32) -> Result<u32, StoreError> {
    let found = version(conn)?;
    if found > latest() {
        return Err(StoreError::TooNew {
            found,
            supported: latest(),
        });
    }
    for v in found..target.min(latest()) {
        let (_, sql) = MIGRATIONS[v as usize];
        let tx = conn.transaction()?;
        tx.execute_batch(sql).map_err(map_open_error)?;
        tx.pragma_update(None, "user_version", v + 1)?;
        tx.commit()?;
    }
    version(conn)
}
