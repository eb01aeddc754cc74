//! The local store: one SQLite database per device, versioned migrations, and every record
//! written together with its outbox event in one transaction.

pub mod migrate;
pub mod outbox;
pub mod photos;
pub mod records;
pub mod roster;
pub mod rows;
pub mod setup;
pub mod sync_state;
pub mod team;

use patrol_domain::lang::Lang;
use patrol_domain::records::RecordError;
use patrol_domain::ward::WardError;
use patrol_wire::WireError;
use rusqlite::Connection;
use thiserror::Error;

impl From<WireError> for StoreError {
    fn from(row: WireError) -> Self {
        StoreError::CorruptRow(row)
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        match rows::corrupt_row(&e) {
            Some(row) => StoreError::CorruptRow(row),
            None => StoreError::Sqlite(e),
        }
    }
}

/// What can go wrong in the store. Every variant leaves the database as it was.
#[derive(Debug, Error)]
pub enum StoreError {
    /// SQLite itself failed (disk full, I/O error...).
    #[error("database error: {0}")]
    Sqlite(rusqlite::Error),
    /// A stored row does not parse; it is kept as it is and reported with its table and id.
    #[error("a stored record is damaged: {0}")]
    CorruptRow(WireError),
    /// The file is not a SQLite database or is damaged.
    #[error("the database file is damaged or is not a database")]
    Corrupt,
    /// The file was written by a newer version of the app.
    #[error("the database is version {found}; this app knows up to {supported}")]
    TooNew {
        /// The file's version.
        found: u32,
        /// The newest this build knows.
        supported: u32,
    },
    /// A record breaks a domain rule.
    #[error(transparent)]
    Record(#[from] RecordError),
    /// A ward setup or checkpoint file breaks a rule.
    #[error(transparent)]
    Ward(#[from] WardError),
    /// No ward is set up on this device yet.
    #[error("no ward is set up on this device")]
    NoWard,
    /// The request needs a running shift and none is.
    #[error("no shift is running")]
    NoActiveShift,
    /// A shift is already running.
    #[error("a shift is already running")]
    ShiftRunning,
    /// The device is enrolled with a real ward; the demo would overwrite it.
    #[error("this device belongs to a real ward; the demo cannot replace it")]
    Enrolled,
    /// Following tips up is for leaders, officers and admins (enrolled as such).
    #[error("only a team leader or a ward officer can follow a tip up")]
    NotReviewer,
    /// A photo is not an image, too large, or one too many.
    #[error(transparent)]
    Photo(#[from] patrol_domain::photo::PhotoError),
    /// A tip step breaks the order or the note's limit.
    #[error(transparent)]
    Tip(#[from] patrol_domain::tip::TipError),
    /// An id names nothing known here (a checkpoint, member, slot or record).
    #[error("unknown {what}: {id}")]
    Unknown {
        /// What kind of thing.
        what: &'static str,
        /// The id given.
        id: String,
    },
}

/// Whether SQLite's error comes from the storage under the database (an I/O error, a full disk
/// or quota, a file that became read-only or cannot be opened): closing and reopening the
/// database may cure it (the door does, on `ApiError::STORAGE` (crate patrol, service)).
pub fn storage_failed(e: &rusqlite::Error) -> bool {
    use rusqlite::ErrorCode::*;
    matches!(
        e.sqlite_error_code(),
        Some(SystemIoFailure | DiskFull | ReadOnly | CannotOpen)
    )
}

/// How hard the store pushes data to disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// A native file: WAL with synchronous=FULL (each commit is fsynced).
    NativeWal,
    /// OPFS in a browser worker: no WAL there (no shared memory), so a persisted rollback journal.
    OpfsJournal,
}

/// The device's database.
pub struct Store {
    conn: Connection,
    /// The database could not be reopened after its storage failed: `conn` is an empty stand-in.
    stand_in: bool,
}

impl Store {
    /// Opens (creating if needed) a database file on a native platform.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn open_file(path: &std::path::Path) -> Result<Self, StoreError> {
        Self::from_connection(
            Connection::open(path).map_err(map_open_error)?,
            Durability::NativeWal,
        )
    }

    /// Sets the pragmas for `durability`, migrates, and makes sure the device has an id.
    pub fn from_connection(
        mut conn: Connection,
        durability: Durability,
    ) -> Result<Self, StoreError> {
        if durability == Durability::OpfsJournal {
            // One connection owns the OPFS pool: exclusive locking spares re-checking the file at
            // every transaction, and 4 KiB pages (this SQLite defaults to 8) halve journal writes.
            // page_size only takes effect on a new, empty database.
            conn.pragma_update(None, "page_size", 4096)
                .map_err(map_open_error)?;
            conn.pragma_update(None, "locking_mode", "EXCLUSIVE")
                .map_err(map_open_error)?;
        }
        let journal = match durability {
            Durability::NativeWal => "WAL",
            Durability::OpfsJournal => "PERSIST",
        };
        conn.pragma_update(None, "journal_mode", journal)
            .map_err(map_open_error)?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        migrate::migrate(&mut conn)?;
        outbox::ensure_device(&conn)?;
        Ok(Self {
            conn,
            stand_in: false,
        })
    }

    /// Closes the database and opens it again with `open`, after its storage failed. The old
    /// connection is closed first (it holds the file exclusively). If `open` fails, the store is
    /// left on an empty, read-only stand-in ([`Store::is_stand_in`]) that nothing can be written
    /// to, and the next command reopens first.
    pub fn reopen(
        &mut self,
        open: impl FnOnce() -> Result<Store, StoreError>,
    ) -> Result<(), StoreError> {
        let stand_in = Connection::open_in_memory()?;
        stand_in.pragma_update(None, "query_only", true)?;
        drop(std::mem::replace(&mut self.conn, stand_in));
        self.stand_in = true;
        *self = open()?;
        Ok(())
    }

    /// Whether the last [`Store::reopen`] failed, leaving no database open.
    pub fn is_stand_in(&self) -> bool {
        self.stand_in
    }

    /// The connection, for reads in this module's children and tests.
    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    /// A local setting (not synced), such as the UI language.
    pub fn setting(&self, key: &str) -> Result<Option<String>, StoreError> {
        use rusqlite::OptionalExtension;
        Ok(self
            .conn
            .query_row("SELECT value FROM setting WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()?)
    }

    /// The UI language (Vietnamese until chosen); a stored one this build does not know is a
    /// corrupt row.
    pub fn lang(&self) -> Result<Lang, StoreError> {
        match self.setting("lang")? {
            None => Ok(Lang::default()),
            Some(code) => Ok(rows::stored(
                "setting",
                "lang",
                "language",
                &code,
                Lang::from_code,
            )?),
        }
    }

    /// Saves the UI language.
    pub fn set_lang(&self, lang: Lang) -> Result<(), StoreError> {
        self.set_setting("lang", lang.code())
    }

    /// Saves a local setting.
    pub fn set_setting(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO setting(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [key, value],
        )?;
        Ok(())
    }
}

/// Turns "file is not a database" into [`StoreError::Corrupt`].
pub fn map_open_error(e: rusqlite::Error) -> StoreError {
    match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::NotADatabase) | Some(rusqlite::ErrorCode::DatabaseCorrupt) => {
            StoreError::Corrupt
        }
        _ => StoreError::Sqlite(e),
    }
}
