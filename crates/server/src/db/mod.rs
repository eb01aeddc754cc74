//! The server's database: one writer connection (SQLite serialises writers, which keeps cursors
//! in commit order) and a pool of read-only connections, so in WAL a long read never waits for a
//! push and a push never waits for a read. The code is split by what it holds: [`setup`],
//! [`enrollment`], [`events`] and [`feed`].

pub mod allowance;
pub mod audit;
pub mod backup;
pub mod backup_photos;
pub mod enrollment;
pub mod events;
pub mod feed;
pub mod photos;
pub mod report;
pub mod report_nights;
pub mod review;
pub mod roster;
pub mod setup;
pub mod team;

pub use enrollment::{DeviceAuth, DeviceRow};
pub use feed::FeedNote;

use super::error::ServerError;
use patrol_store::migrate;
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The server's migrations, oldest first (run by the device's runner, [`migrate::run`]).
pub const MIGRATIONS: &[(&str, &str)] = &[
    (
        "0001_init",
        include_str!("../../../../migrations/server_0001_init.sql"),
    ),
    (
        "0002_feed_audience",
        include_str!("../../../../migrations/server_0002_feed_audience.sql"),
    ),
    (
        "0003_team_admin",
        include_str!("../../../../migrations/server_0003_team_admin.sql"),
    ),
    (
        "0004_event_team",
        include_str!("../../../../migrations/server_0004_event_team.sql"),
    ),
    (
        "0005_report_nights",
        include_str!("../../../../migrations/server_0005_report_nights.sql"),
    ),
    (
        "0006_photos",
        include_str!("../../../../migrations/server_0006_photos.sql"),
    ),
    (
        "0007_photo_keep_days",
        include_str!("../../../../migrations/server_0007_photo_keep_days.sql"),
    ),
    (
        "0008_photo_started",
        include_str!("../../../../migrations/server_0008_photo_started.sql"),
    ),
    (
        "0009_photo_pair",
        include_str!("../../../../migrations/server_0009_photo_pair.sql"),
    ),
    (
        "0010_photo_ward",
        include_str!("../../../../migrations/server_0010_photo_ward.sql"),
    ),
    (
        "0011_report_dirty",
        include_str!("../../../../migrations/server_0011_report_dirty.sql"),
    ),
    (
        "0012_feed_setups",
        include_str!("../../../../migrations/server_0012_feed_setups.sql"),
    ),
    (
        "0013_allowance",
        include_str!("../../../../migrations/server_0013_allowance.sql"),
    ),
];

/// The database file inside the data directory.
pub const DB_FILE: &str = "ward.db";

/// The server database's writer (and the admin commands' connection).
pub struct ServerDb {
    conn: Connection,
    path: PathBuf,
    /// Feed items committed and not yet taken for announcing (see [`ServerDb::take_fresh`]).
    fresh: Vec<FeedNote>,
}

impl ServerDb {
    /// Opens or creates `dir/ward.db`, migrates it, and gives it an epoch on first open.
    pub fn open(dir: &Path) -> Result<Self, ServerError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| ServerError::Invalid(format!("data directory {}: {e}", dir.display())))?;
        let path = dir.join(DB_FILE);
        let mut conn = Connection::open(&path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        // Migrations run with foreign keys off (with them on, dropping a table made again, as 0013
        // makes `member`, would fail on its rows' children); once a migration ran, every key is
        // checked before they are turned on, and a broken one stops the server from starting.
        conn.pragma_update(None, "foreign_keys", "OFF")?;
        let before = migrate::version(&conn)?;
        let after = migrate::run(&mut conn, MIGRATIONS, MIGRATIONS.len() as u32)?;
        let broken: Option<String> = if after != before {
            conn.query_row("PRAGMA foreign_key_check", [], |r| r.get(0))
                .optional()?
        } else {
            None
        };
        if let Some(table) = broken {
            return Err(ServerError::Internal(format!(
                "after migrating, table {table} names a row that does not exist"
            )));
        }
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.execute(
            "INSERT OR IGNORE INTO meta(key, value) VALUES ('epoch', ?1)",
            [uuid::Uuid::now_v7().to_string()],
        )?;
        // Events stored by other means (a restored or older database) get their nights' figures,
        // all of them again if this build counts other categories or actions.
        let tx = conn.transaction()?;
        report_nights::reshape(&tx)?;
        report_nights::catch_up(&tx, true, patrol_clock::now())?;
        tx.commit()?;
        Ok(Self {
            conn,
            path,
            fresh: Vec::new(),
        })
    }

    /// The feed items committed since the last call, oldest first, for the announcements. The
    /// server takes them after every write; a process that never does (an admin command) holds
    /// them until it exits, and announces nothing.
    pub fn take_fresh(&mut self) -> Vec<FeedNote> {
        std::mem::take(&mut self.fresh)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The server's epoch.
    pub fn epoch(&self) -> Result<String, ServerError> {
        epoch(&self.conn)
    }

    /// Gives the database a new epoch: run after restoring it from a backup, so devices re-send.
    pub fn new_epoch(&self) -> Result<String, ServerError> {
        let e = uuid::Uuid::now_v7().to_string();
        self.conn
            .execute("UPDATE meta SET value = ?1 WHERE key = 'epoch'", [&e])?;
        Ok(e)
    }

    /// Closes the database file, leaving this value on an empty in-memory database: `restore`
    /// needs the file to itself.
    pub fn release(&mut self) -> Result<(), ServerError> {
        let old = std::mem::replace(&mut self.conn, Connection::open_in_memory()?);
        old.close().map_err(|(_, e)| e)?;
        Ok(())
    }

    /// The connection to write rows directly, for benchmarks that load a year of events.
    pub fn conn_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// The connection, for tests that need to look at or damage rows directly.
    pub fn conn(&self) -> &Connection {
        &self.conn
    }
}

/// The server's epoch, on any connection.
pub fn epoch(conn: &Connection) -> Result<String, ServerError> {
    Ok(conn
        .prepare_cached("SELECT value FROM meta WHERE key = 'epoch'")?
        .query_row([], |r| r.get(0))?)
}

/// Refuses an id that names no row of `table` ("ward" or "team").
fn exists(conn: &Connection, table: &str, id: &str) -> Result<(), ServerError> {
    let found: bool = conn.query_row(
        &format!("SELECT EXISTS(SELECT 1 FROM {table} WHERE id = ?1)"),
        [id],
        |r| r.get(0),
    )?;
    if found {
        Ok(())
    } else {
        Err(ServerError::NotFound(format!("{table} {id}")))
    }
}

/// Read-only connections to the database, opened on demand and reused.
pub struct ReadPool {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl ReadPool {
    /// A pool over the database at `path` (already created and migrated by [`ServerDb::open`]).
    pub fn new(path: &Path) -> Self {
        ReadPool {
            path: path.to_path_buf(),
            idle: Mutex::new(Vec::new()),
        }
    }

    /// Runs `f` on a read-only connection (blocking: call it off the async threads).
    pub fn read<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, ServerError>,
    ) -> Result<T, ServerError> {
        let taken = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let conn = match taken {
            Some(c) => c,
            None => {
                let c = Connection::open_with_flags(
                    &self.path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )?;
                c.busy_timeout(std::time::Duration::from_secs(10))?;
                c
            }
        };
        let out = f(&conn);
        self.idle
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(conn);
        out
    }
}
