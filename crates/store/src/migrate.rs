//! Versioned migrations from migrations/, applied in order, all that are pending in one transaction
//! (a new phone's database is made with one journal commit, not one per migration).

use super::{map_open_error, StoreError};
use rusqlite::{Connection, TransactionBehavior};

/// Every migration, oldest first; a database's `user_version` is how many it has applied.
pub const MIGRATIONS: &[(&str, &str)] = &[
    (
        "0001_init",
        include_str!("../../../migrations/device_0001_init.sql"),
    ),
    (
        "0002_corrections_settings",
        include_str!("../../../migrations/device_0002_corrections_settings.sql"),
    ),
    (
        "0003_sync",
        include_str!("../../../migrations/device_0003_sync.sql"),
    ),
    (
        "0004_feed_rejected",
        include_str!("../../../migrations/device_0004_feed_rejected.sql"),
    ),
    (
        "0005_team_view",
        include_str!("../../../migrations/device_0005_team_view.sql"),
    ),
    (
        "0006_roster",
        include_str!("../../../migrations/device_0006_roster.sql"),
    ),
    (
        "0007_photos",
        include_str!("../../../migrations/device_0007_photos.sql"),
    ),
    (
        "0008_photo_keep_days",
        include_str!("../../../migrations/device_0008_photo_keep_days.sql"),
    ),
];

/// The version a fully migrated device database has.
pub fn latest() -> u32 {
    MIGRATIONS.len() as u32
}

/// The database's schema version.
pub fn version(conn: &Connection) -> Result<u32, StoreError> {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(map_open_error)
}

/// Brings the device database up to the latest version; refuses a newer one.
pub fn migrate(conn: &mut Connection) -> Result<u32, StoreError> {
    migrate_to(conn, latest())
}

/// Applies device migrations up to `target`.
pub fn migrate_to(conn: &mut Connection, target: u32) -> Result<u32, StoreError> {
    run(conn, MIGRATIONS, target)
}

/// The one migration runner, for the device's and the server's lists: applies `migrations` up to
/// `target` and the version bump in one transaction, so a failure leaves the database as it was;
/// refuses a database newer than the list. An up-to-date database is only read (it may be
/// read-only). Otherwise the version is read again under the write lock, so two processes opening
/// one database migrate it once. As every step runs in that one transaction, none may hold `BEGIN`,
/// `COMMIT`, `VACUUM` or `PRAGMA journal_mode` (and `PRAGMA foreign_keys` would be ignored).
pub fn run(
    conn: &mut Connection,
    migrations: &[(&str, &str)],
    target: u32,
) -> Result<u32, StoreError> {
    let latest = migrations.len() as u32;
    let target = target.min(latest);
    // The database's version, refused if newer than the list.
    let known = |conn: &Connection| match version(conn)? {
        found if found > latest => Err(StoreError::TooNew {
            found,
            supported: latest,
        }),
        found => Ok(found),
    };
    let found = known(conn)?;
    if found >= target {
        return Ok(found);
    }
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(map_open_error)?;
    let found = known(&tx)?;
    if found >= target {
        return Ok(found);
    }
    for (_, sql) in &migrations[found as usize..target as usize] {
        tx.execute_batch(sql).map_err(map_open_error)?;
    }
    tx.pragma_update(None, "user_version", target)?;
    tx.commit()?;
    Ok(target)
}
