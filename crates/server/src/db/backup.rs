//! `ward-server backup` and `ward-server restore`.
//!
//! A backup is `VACUUM INTO` a temporary file beside the target, checked, synced and renamed into
//! place: one read transaction, so in WAL the server goes on serving and writing while it runs,
//! and the copy is one consistent moment of the database. A failed backup leaves no file behind.
//! The photo files the copy holds as stored go into `FILE.photos/` beside it before the rename
//! ([`backup_photos`]), so a backup file never names a photo its folder lacks.
//!
//! A restore needs the server stopped: it takes an exclusive lock on `ward.db` (refused at once if
//! anything holds it) and keeps it to the end. It copies the backup into the data directory,
//! refuses a file that is not a ward database or is newer than this server, migrates an older one
//! up, and carries over from the database it replaces what phones depend on:
//! - every device (token hash, revocation) and enrollment code the backup lacks, with the
//!   member, team and ward they belong to when the backup lacks those too; for devices in both,
//!   the newer token hash and any revocation, so no phone has to enroll again and no revoked
//!   phone comes back;
//! - refusals logged after the backup, so the refused events' sequence numbers stay settled;
//! - the feed and event cursor sequences, so everything stored after the restore gets a cursor
//!   above any the phones already hold (phones keep their pull cursor across epochs).
//!
//! Events stored after the backup are not carried: the restore starts a new epoch, every phone
//! re-sends what it holds, and the server stores each event once (by its id). Every team's setup
//! is published again so phones take the restored setup. The replaced database is kept as
//! `ward.db.before-restore-<UTC time>`.
//!
//! Photos: the restore puts back into `DATA/photos` every file the restored database holds as
//! stored and the data directory lacks, from `FILE.photos/`; photo files stored after the backup
//! stay in the data directory and are carried over as stored. A file found in neither place is
//! marked as not uploaded, so the phone that still holds it uploads it again.

use super::backup_photos::{self, PhotoCopies};
use super::{DB_FILE, MIGRATIONS};
use crate::audience::Audience;
use crate::photo_files::PHOTOS_DIR;
use chrono::{DateTime, Utc};
use patrol_store::migrate;
use patrol_store::StoreError;
use patrol_wire::feed::setup_payload;
use rusqlite::{params, Connection, ErrorCode, OpenFlags};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;
use thiserror::Error;

/// The tables every ward database has had since its first migration.
const WARD_TABLES: &[&str] = &[
    "meta",
    "ward",
    "team",
    "member",
    "checkpoint",
    "enrollment",
    "device",
    "event",
    "refusal",
    "feed",
];

/// How long restore waits for the database lock before it says the server is running.
const LOCK_WAIT: Duration = Duration::from_millis(300);

/// Why a backup or restore was refused or failed. Nothing was replaced in any of these cases.
#[derive(Debug, Error)]
pub enum BackupError {
    /// The backup file exists and `--force` was not given.
    #[error("{0} already exists; pass --force to replace it")]
    Exists(PathBuf),
    /// The backup would overwrite the live database.
    #[error("{0} is the live database; write the backup somewhere else")]
    IsLive(PathBuf),
    /// The backup could not be written there (full disk, missing folder, no permission).
    #[error("cannot write the backup {path}: {reason}; the live database is untouched")]
    Write {
        /// The file asked for.
        path: PathBuf,
        /// Why, in words.
        reason: String,
    },
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The file to restore is not an SQLite database.
    #[error("{0} is not an SQLite database; nothing was restored")]
    NotSqlite(PathBuf),
    /// The file is SQLite but not a ward server's database.
    #[error("{path} is not a ward server database ({why}); nothing was restored")]
    NotWard {
        /// The file.
        path: PathBuf,
        /// What is missing.
        why: String,
    },
    /// The file was written by a newer ward server.
    #[error("{path} has schema version {found}, newer than this server's {supported}: restore it with the newer ward-server; nothing was restored")]
    TooNew {
        /// The file.
        path: PathBuf,
        /// Its version.
        found: u32,
        /// This server's.
        supported: u32,
    },
    /// The file fails SQLite's integrity check.
    #[error("{path} is damaged ({detail}); nothing was restored")]
    Damaged {
        /// The file.
        path: PathBuf,
        /// The first problem SQLite reports.
        detail: String,
    },
    /// Something else has the live database open.
    #[error("{0} is in use: stop the server (ward-server serve) first, then run restore again; nothing was restored")]
    InUse(PathBuf),
    /// The database being replaced cannot be read, so its enrollments cannot be carried over.
    #[error("cannot read the database being replaced, {path} ({detail}): move it out of the data directory and run restore again (phones enrolled after the backup will then have to enroll again); nothing was restored")]
    LiveUnreadable {
        /// The live database.
        path: PathBuf,
        /// The error.
        detail: String,
    },
    /// The database failed during the restore.
    #[error("restore failed, nothing was replaced: {0}")]
    Db(#[from] rusqlite::Error),
}

/// What a backup wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct BackupReport {
    /// The backup file.
    pub path: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
    /// Events it holds.
    pub events: i64,
    /// Photo files in its photos' folder for it (`FILE.photos`), and how many it wrote.
    pub photos: PhotoCopies,
}

/// What a restore did.
#[derive(Debug, Clone, PartialEq)]
pub struct RestoreReport {
    /// The replaced database, kept (None when there was none).
    pub kept: Option<PathBuf>,
    /// The restored database's new epoch.
    pub epoch: String,
    /// The backup's schema version, before it was migrated up.
    pub from_version: u32,
    /// Events the backup holds.
    pub events: i64,
    /// Devices carried over from the replaced database (absent from the backup).
    pub devices_carried: usize,
    /// Members carried over with them.
    pub members_carried: usize,
    /// The cursor the restored feed continues above.
    pub feed_cursor_floor: i64,
    /// Whether the replaced database carried on from the backup. When not (a new machine), new
    /// cursors start [`UNKNOWN_HISTORY_GAP`] above the backup's, and whatever happened after the
    /// backup (devices enrolled, revoked, members who left) is as the backup has it.
    pub history_known: bool,
    /// Photo files put back into the data directory, and those found nowhere (marked as not
    /// uploaded).
    pub photos: PhotoCopies,
}

/// Writes a consistent copy of the database `conn` is open on to `file` (see the module docs).
pub fn backup(conn: &Connection, file: &Path, force: bool) -> Result<BackupReport, BackupError> {
    if let Some(live) = conn.path().filter(|p| !p.is_empty()) {
        if same_file(Path::new(live), file) {
            return Err(BackupError::IsLive(file.to_path_buf()));
        }
    }
    if file.exists() && !force {
        return Err(BackupError::Exists(file.to_path_buf()));
    }
    let name = file
        .file_name()
        .ok_or_else(|| BackupError::Write {
            path: file.to_path_buf(),
            reason: "not a file name".into(),
        })?
        .to_string_lossy();
    let tmp = file.with_file_name(format!(".{name}.partial-{}", std::process::id()));
    let fail = |reason: String| BackupError::Write {
        path: file.to_path_buf(),
        reason,
    };
    let _ = std::fs::remove_file(&tmp);
    let written = (|| {
        conn.execute("VACUUM INTO ?1", [tmp.to_string_lossy()])
            .map_err(|e| fail(sqlite_reason(&e)))?;
        let copy = Connection::open_with_flags(&tmp, OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(|e| fail(sqlite_reason(&e)))?;
        let check: String = copy
            .query_row("PRAGMA quick_check", [], |r| r.get(0))
            .map_err(|e| fail(sqlite_reason(&e)))?;
        if check != "ok" {
            return Err(fail(format!("the copy failed its check: {check}")));
        }
        let events: i64 = copy
            .query_row("SELECT COUNT(*) FROM event", [], |r| r.get(0))
            .map_err(|e| fail(sqlite_reason(&e)))?;
        let hashes = super::photos::stored_hashes(&copy).map_err(|e| fail(sqlite_reason(&e)))?;
        drop(copy);
        sync_file(&tmp).map_err(|e| fail(e.to_string()))?;
        // The photos before the database: a backup file never names a photo its folder lacks.
        let photos = match conn.path().filter(|p| !p.is_empty()) {
            Some(live) => {
                let data = Path::new(live).parent().unwrap_or(Path::new("."));
                backup_photos::carry(
                    &data.join(PHOTOS_DIR),
                    &backup_photos::beside(file),
                    &hashes,
                    true,
                )?
            }
            None => PhotoCopies::default(),
        };
        Ok((events, photos))
    })();
    let (events, photos) = match written {
        Ok(n) => n,
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
    };
    if let Err(e) = std::fs::rename(&tmp, file) {
        let _ = std::fs::remove_file(&tmp);
        return Err(fail(e.to_string()));
    }
    sync_dir(file);
    let bytes = std::fs::metadata(file)
        .map_err(|source| BackupError::Io {
            path: file.to_path_buf(),
            source,
        })?
        .len();
    Ok(BackupReport {
        path: file.to_path_buf(),
        bytes,
        events,
        photos,
    })
}

/// Replaces the database at `live` (`DATA/ward.db`) with the backup `file` and starts a new epoch
/// (see the module docs). `now` names the kept copy of the replaced database.
pub fn restore(live: &Path, file: &Path, now: DateTime<Utc>) -> Result<RestoreReport, BackupError> {
    let dir = live.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!("{DB_FILE}.restoring-{}", std::process::id()));
    let result = restore_via(live, file, &tmp, now);
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
        let _ = std::fs::remove_file(tmp.with_file_name(format!(
            "{}-journal",
            tmp.file_name().unwrap_or_default().to_string_lossy()
        )));
    }
    result
}

fn restore_via(
    live: &Path,
    file: &Path,
    tmp: &Path,
    now: DateTime<Utc>,
) -> Result<RestoreReport, BackupError> {
    // The live database, locked for the whole restore; None when there is none yet.
    let lock = if live.exists() {
        Some(lock_live(live)?)
    } else {
        None
    };
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| BackupError::Io { path, source }
    };

    // A private copy of the backup, so the file given is never changed.
    check_header(file)?;
    std::fs::copy(file, tmp).map_err(io(file))?;
    let mut restored = Connection::open(tmp)?;
    let from_version = check_ward(&restored, file)?;
    restored.pragma_update(None, "journal_mode", "DELETE")?;
    migrate::run(&mut restored, MIGRATIONS, MIGRATIONS.len() as u32).map_err(|e| match e {
        StoreError::TooNew { found, supported } => BackupError::TooNew {
            path: file.to_path_buf(),
            found,
            supported,
        },
        other => BackupError::NotWard {
            path: file.to_path_buf(),
            why: format!("migrating it failed: {other}"),
        },
    })?;
    let backup_high = highest_cursor(&restored, "main", "feed")?;
    drop(restored);

    let mut carried = (0, 0);
    let mut floor = 0;
    if let Some(lock) = &lock {
        lock.execute("ATTACH DATABASE ?1 AS restored", [tmp.to_string_lossy()])?;
        lock.pragma_update(Some("restored"), "locking_mode", "NORMAL")?;
        let merged = carry_over(lock);
        lock.execute("DETACH DATABASE restored", [])?;
        match merged {
            Ok((c, f)) => {
                carried = c;
                floor = f;
            }
            Err(e) if is_unreadable(&e) => {
                return Err(BackupError::LiveUnreadable {
                    path: live.to_path_buf(),
                    detail: e.to_string(),
                })
            }
            Err(e) => return Err(e.into()),
        }
    }

    // The new epoch and every team's setup, on the restored copy.
    let mut history_known = true;
    let mut restored = Connection::open(tmp)?;
    let epoch = uuid::Uuid::now_v7().to_string();
    let events: i64 = {
        let tx = restored.transaction()?;
        tx.execute(
            "INSERT INTO meta(key, value) VALUES ('epoch', ?1)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [&epoch],
        )?;
        // No database here carries on from the backup (a new machine, an emptied directory):
        // the cursors handed out after it are unknown, and phones may hold some. New cursors
        // start past any of them, so a phone's kept cursor never hides what comes next.
        if !(floor > 0 && floor >= backup_high) {
            for table in ["feed", "event"] {
                let high = highest_cursor(&tx, "main", table)?;
                raise_sequence(&tx, "main", table, high + UNKNOWN_HISTORY_GAP)?;
            }
            floor = highest_cursor(&tx, "main", "feed")?;
            history_known = false;
        }
        let teams: Vec<String> = tx
            .prepare("SELECT id FROM team ORDER BY id")?
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        for team in &teams {
            let setup = super::setup::team_setup(&tx, team).map_err(|e| BackupError::NotWard {
                path: file.to_path_buf(),
                why: format!("team {team}: {e}"),
            })?;
            super::feed::replace_setup(
                &tx,
                Audience::setup(team, &setup.ward.id),
                &setup_payload(&setup),
            )?;
        }
        let events = tx.query_row("SELECT COUNT(*) FROM event", [], |r| r.get(0))?;
        tx.commit()?;
        events
    };
    let photos = put_photos_back(&restored, file, live)?;
    let check: String = restored.query_row("PRAGMA quick_check", [], |r| r.get(0))?;
    if check != "ok" {
        return Err(BackupError::Damaged {
            path: file.to_path_buf(),
            detail: check,
        });
    }
    drop(restored);
    sync_file(tmp).map_err(io(tmp))?;

    // Keep the replaced database, then put the restored one in its place.
    let kept = match &lock {
        None => None,
        Some(lock) => {
            let kept = free_name(live, now);
            lock.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
            lock.execute("VACUUM main INTO ?1", [kept.to_string_lossy()])
                .map_err(|e| BackupError::Write {
                    path: kept.clone(),
                    reason: sqlite_reason(&e),
                })?;
            sync_file(&kept).map_err(io(&kept))?;
            // A WAL left with frames would be read as the restored file's: there must be none.
            let wal = live.with_file_name(format!("{DB_FILE}-wal"));
            if std::fs::metadata(&wal).is_ok_and(|m| m.len() > 0) {
                return Err(BackupError::InUse(live.to_path_buf()));
            }
            // Empty, it is the replaced database's: removed so the restored file starts alone.
            match std::fs::remove_file(&wal) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(BackupError::Io {
                        path: wal,
                        source: e,
                    })
                }
                _ => {}
            }
            Some(kept)
        }
    };
    std::fs::rename(tmp, live).map_err(io(live))?;
    sync_dir(live);
    drop(lock);
    Ok(RestoreReport {
        kept,
        epoch,
        from_version,
        events,
        devices_carried: carried.0,
        members_carried: carried.1,
        feed_cursor_floor: floor,
        history_known,
        photos,
    })
}

/// Cursors left unused above a restored feed when the cursors handed out after the backup are
/// unknown: more than a feed hands out between two backups (10,000 a day for over a thousand
/// years), and far below 2^53, so every JSON reader keeps cursors exact.
pub const UNKNOWN_HISTORY_GAP: i64 = 1 << 32;

/// The highest cursor `schema.table` ever handed out, whether or not its row is still there.
fn highest_cursor(c: &Connection, schema: &str, table: &str) -> rusqlite::Result<i64> {
    c.query_row(
        &format!(
            "SELECT MAX(COALESCE((SELECT seq FROM {schema}.sqlite_sequence WHERE name = ?1), 0),
                        COALESCE((SELECT MAX(cursor) FROM {schema}.{table}), 0))"
        ),
        [table],
        |r| r.get(0),
    )
}

/// Makes `schema.table`'s next cursor come after `floor`.
fn raise_sequence(c: &Connection, schema: &str, table: &str, floor: i64) -> rusqlite::Result<()> {
    c.execute(
        &format!("UPDATE {schema}.sqlite_sequence SET seq = MAX(seq, ?2) WHERE name = ?1"),
        params![table, floor],
    )?;
    c.execute(
        &format!(
            "INSERT INTO {schema}.sqlite_sequence(name, seq) SELECT ?1, ?2
             WHERE NOT EXISTS (SELECT 1 FROM {schema}.sqlite_sequence WHERE name = ?1)"
        ),
        params![table, floor],
    )?;
    Ok(())
}

/// Puts the photo files the `restored` database holds as stored back into the data directory of
/// `live`, from the backup `file`'s photos' folder; marks the files found nowhere as not uploaded.
fn put_photos_back(
    restored: &Connection,
    file: &Path,
    live: &Path,
) -> Result<PhotoCopies, BackupError> {
    let hashes = super::photos::stored_hashes(restored)?;
    let data = live.parent().unwrap_or(Path::new("."));
    let copies = backup_photos::carry(
        &backup_photos::beside(file),
        &data.join(PHOTOS_DIR),
        &hashes,
        false,
    )?;
    let mut unmark =
        restored.prepare("UPDATE photo_blob SET stored_at = NULL, mime = NULL WHERE hash = ?1")?;
    for hash in &copies.missing {
        unmark.execute([hash])?;
    }
    Ok(copies)
}

/// Opens the live database and takes an exclusive lock that lasts until the connection closes;
/// refused quickly when a server (or anything else) has it open.
fn lock_live(live: &Path) -> Result<Connection, BackupError> {
    let conn = Connection::open_with_flags(
        live,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| BackupError::LiveUnreadable {
        path: live.to_path_buf(),
        detail: e.to_string(),
    })?;
    conn.busy_timeout(LOCK_WAIT)?;
    conn.pragma_update(None, "locking_mode", "EXCLUSIVE")?;
    let locked = conn
        .execute_batch("BEGIN EXCLUSIVE")
        .and_then(|()| conn.query_row("SELECT COUNT(*) FROM sqlite_master", [], |_| Ok(())))
        .and_then(|()| conn.execute_batch("COMMIT"))
        .map_err(|e| match e.sqlite_error_code() {
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
                BackupError::InUse(live.to_path_buf())
            }
            _ => BackupError::LiveUnreadable {
                path: live.to_path_buf(),
                detail: e.to_string(),
            },
        });
    locked?;
    Ok(conn)
}

/// Copies into `restored` what phones depend on from `main` (the live database), in one
/// transaction. Returns (devices, members) carried and the feed cursor floor.
fn carry_over(conn: &Connection) -> rusqlite::Result<((usize, usize), i64)> {
    let tx = conn.unchecked_transaction()?;
    tx.execute_batch(
        "CREATE TEMP TABLE need_member AS
           SELECT member_id AS id FROM main.device WHERE id NOT IN (SELECT id FROM restored.device)
           UNION SELECT member_id FROM main.enrollment
             WHERE code_hash NOT IN (SELECT code_hash FROM restored.enrollment);
         DELETE FROM temp.need_member WHERE id IN (SELECT id FROM restored.member);
         CREATE TEMP TABLE need_team AS
           SELECT DISTINCT team_id AS id FROM main.member WHERE id IN (SELECT id FROM temp.need_member)
             AND team_id NOT IN (SELECT id FROM restored.team);
         INSERT INTO restored.ward(id, name, tz, police_phone, demo)
           SELECT id, name, tz, police_phone, demo FROM main.ward
           WHERE id IN (SELECT ward_id FROM main.team WHERE id IN (SELECT id FROM temp.need_team))
             AND id NOT IN (SELECT id FROM restored.ward);
         INSERT INTO restored.team(id, ward_id, name, leader_phone, slots_json)
           SELECT id, ward_id, name, leader_phone, slots_json FROM main.team
           WHERE id IN (SELECT id FROM temp.need_team);
         INSERT INTO restored.checkpoint(id, team_id, name, seq, lat, lon, radius_m, qr_code)
           SELECT id, team_id, name, seq, lat, lon, radius_m, qr_code FROM main.checkpoint
           WHERE team_id IN (SELECT id FROM temp.need_team);
         INSERT INTO restored.member(id, team_id, name, role)
           SELECT id, team_id, name, role FROM main.member WHERE id IN (SELECT id FROM temp.need_member);",
    )?;
    let members: i64 = tx.query_row("SELECT COUNT(*) FROM temp.need_member", [], |r| r.get(0))?;
    let devices = tx.execute(
        "INSERT INTO restored.device(id, member_id, token_hash, enrolled_at, revoked_at, last_seen, clock_offset_ms, stored_through)
         SELECT id, member_id, token_hash, enrolled_at, revoked_at, last_seen, clock_offset_ms, 0 FROM main.device
         WHERE id NOT IN (SELECT id FROM restored.device)",
        [],
    )?;
    tx.execute_batch(
        "UPDATE restored.device AS d
           SET token_hash = o.token_hash,
               revoked_at = COALESCE(d.revoked_at, o.revoked_at),
               last_seen = COALESCE(o.last_seen, d.last_seen)
           FROM main.device AS o WHERE o.id = d.id;
         INSERT INTO restored.enrollment(code_hash, member_id, expires_at, used_at)
           SELECT code_hash, member_id, expires_at, used_at FROM main.enrollment
           WHERE code_hash NOT IN (SELECT code_hash FROM restored.enrollment);
         UPDATE restored.enrollment AS e SET used_at = o.used_at
           FROM main.enrollment AS o
           WHERE o.code_hash = e.code_hash AND e.used_at IS NULL AND o.used_at IS NOT NULL;
         INSERT INTO restored.refusal(event_id, device_id, seq, code, payload, received_at)
           SELECT event_id, device_id, seq, code, payload, received_at FROM main.refusal AS o
           WHERE NOT EXISTS (SELECT 1 FROM restored.refusal AS r
                             WHERE r.event_id = o.event_id AND r.device_id = o.device_id
                               AND r.received_at = o.received_at);
         DROP TABLE temp.need_member;
         DROP TABLE temp.need_team;",
    )?;
    // Photo files stored after the backup are still in the data directory: they stay stored.
    let live_photos: bool = tx.query_row(
        "SELECT EXISTS(SELECT 1 FROM main.sqlite_master WHERE type = 'table' AND name = 'photo_blob')",
        [],
        |r| r.get(0),
    )?;
    if live_photos {
        tx.execute_batch(
            "INSERT INTO restored.photo_blob(ward_id, hash, size, mime, stored_at)
               SELECT ward_id, hash, size, mime, stored_at FROM main.photo_blob AS o
               WHERE stored_at IS NOT NULL AND NOT EXISTS (
                 SELECT 1 FROM restored.photo_blob AS r
                 WHERE r.ward_id = o.ward_id AND r.hash = o.hash);
             UPDATE restored.photo_blob AS b
               SET size = o.size, mime = o.mime, stored_at = o.stored_at
               FROM main.photo_blob AS o
               WHERE o.ward_id = b.ward_id AND o.hash = b.hash
                 AND b.stored_at IS NULL AND o.stored_at IS NOT NULL;",
        )?;
    }
    let mut floor = 0;
    for table in ["feed", "event"] {
        let high = highest_cursor(&tx, "main", table)?;
        raise_sequence(&tx, "restored", table, high)?;
        if table == "feed" {
            floor = high;
        }
    }
    tx.commit()?;
    Ok(((devices, members as usize), floor))
}

/// Refuses a file that does not start with SQLite's header.
fn check_header(file: &Path) -> Result<(), BackupError> {
    let mut head = [0u8; 16];
    let mut f = std::fs::File::open(file).map_err(|source| BackupError::Io {
        path: file.to_path_buf(),
        source,
    })?;
    match f.read_exact(&mut head) {
        Ok(()) if &head == b"SQLite format 3\0" => Ok(()),
        _ => Err(BackupError::NotSqlite(file.to_path_buf())),
    }
}

/// Refuses a database that is not a ward server's or is newer than this server; returns its
/// schema version.
fn check_ward(conn: &Connection, file: &Path) -> Result<u32, BackupError> {
    let not_sqlite = |e: rusqlite::Error| match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) => BackupError::NotSqlite(file.to_path_buf()),
        _ => BackupError::Damaged {
            path: file.to_path_buf(),
            detail: e.to_string(),
        },
    };
    let version: u32 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(not_sqlite)?;
    let supported = MIGRATIONS.len() as u32;
    if version > supported {
        return Err(BackupError::TooNew {
            path: file.to_path_buf(),
            found: version,
            supported,
        });
    }
    if version == 0 {
        return Err(BackupError::NotWard {
            path: file.to_path_buf(),
            why: "no migration history".into(),
        });
    }
    let mut missing = Vec::new();
    for table in WARD_TABLES {
        let found: bool = conn
            .query_row(
                "SELECT EXISTS(SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1)",
                [table],
                |r| r.get(0),
            )
            .map_err(not_sqlite)?;
        if !found {
            missing.push(*table);
        }
    }
    if !missing.is_empty() {
        return Err(BackupError::NotWard {
            path: file.to_path_buf(),
            why: format!("no table {}", missing.join(", ")),
        });
    }
    let check: String = conn
        .query_row("PRAGMA quick_check", [], |r| r.get(0))
        .map_err(not_sqlite)?;
    if check != "ok" {
        return Err(BackupError::Damaged {
            path: file.to_path_buf(),
            detail: check,
        });
    }
    Ok(version)
}

/// `ward.db.before-restore-<UTC time>` beside `live`, not yet taken.
fn free_name(live: &Path, now: DateTime<Utc>) -> PathBuf {
    let stamp = now.format("%Y%m%dT%H%M%SZ");
    let first = live.with_file_name(format!("{DB_FILE}.before-restore-{stamp}"));
    let mut path = first.clone();
    let mut n = 2;
    while path.exists() {
        path = live.with_file_name(format!("{DB_FILE}.before-restore-{stamp}-{n}"));
        n += 1;
    }
    path
}

/// A database error that means the live database itself cannot be read.
fn is_unreadable(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt)
    )
}

/// The reason a write failed, in words.
fn sqlite_reason(e: &rusqlite::Error) -> String {
    match e.sqlite_error_code() {
        Some(ErrorCode::DiskFull) => "the disk is full".into(),
        Some(ErrorCode::CannotOpen) => {
            "cannot create a file there (does the folder exist, and may this user write to it?)"
                .into()
        }
        Some(ErrorCode::ReadOnly) | Some(ErrorCode::PermissionDenied) => {
            "no permission to write there".into()
        }
        _ => e.to_string(),
    }
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

fn sync_file(path: &Path) -> std::io::Result<()> {
    std::fs::File::open(path)?.sync_all()
}

/// Makes a rename in `file`'s folder durable (where the platform allows syncing a folder).
fn sync_dir(file: &Path) {
    let dir = match file.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::ServerDb;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 22, 13, 0, 0).unwrap()
    }

    #[test]
    fn the_lock_is_refused_while_any_connection_is_open_and_taken_after() {
        let dir = tempfile::tempdir().unwrap();
        let db = ServerDb::open(dir.path()).unwrap();
        let live = db.path().to_path_buf();
        assert!(matches!(lock_live(&live), Err(BackupError::InUse(_))));
        drop(db);
        // A read-only connection alone (the server's pool) holds it too.
        let reader = Connection::open_with_flags(&live, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
        reader
            .query_row("SELECT COUNT(*) FROM event", [], |r| r.get::<_, i64>(0))
            .unwrap();
        assert!(matches!(lock_live(&live), Err(BackupError::InUse(_))));
        drop(reader);
        let lock = lock_live(&live).unwrap();
        // And while it is held, a server could not open the database.
        let other = Connection::open(&live).unwrap();
        other.busy_timeout(Duration::from_millis(50)).unwrap();
        assert!(other
            .query_row("SELECT COUNT(*) FROM event", [], |r| r.get::<_, i64>(0))
            .is_err());
        drop(lock);
    }

    #[test]
    fn tokens_and_revocations_changed_after_the_backup_win_and_codes_stay_used() {
        let dir = tempfile::tempdir().unwrap();
        let mut db = ServerDb::open(dir.path()).unwrap();
        db.load_setup(
            &patrol_domain::ward::WardSetup::from_json(patrol_domain::ward::DEMO_WARD).unwrap(),
        )
        .unwrap();
        let day = chrono::Duration::days(1);
        let c1 = db.issue_code("demo-m1", day, now()).unwrap();
        let c2 = db.issue_code("demo-m2", day, now()).unwrap();
        let unused = db.issue_code("demo-m3", day, now()).unwrap();
        let (_, _) = db.redeem(&c1, "dev-1", now()).unwrap();
        let (_, _) = db.redeem(&c2, "dev-2", now()).unwrap();
        let file = dir.path().join("b.db");
        backup(db.conn(), &file, false).unwrap();
        // After the backup: dev-1 enrolls again (new token), dev-2 is revoked, the code is used.
        let again = db.issue_code("demo-m1", day, now()).unwrap();
        let (token1, _) = db.redeem(&again, "dev-1", now()).unwrap();
        db.revoke("dev-2", now()).unwrap();
        db.redeem(&unused, "dev-3", now()).unwrap();
        let live = db.path().to_path_buf();
        drop(db);
        let report = restore(&live, &file, now()).unwrap();
        assert_eq!(report.devices_carried, 1, "dev-3");
        let mut files: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        files.sort();
        assert_eq!(
            files,
            ["b.db", "ward.db", "ward.db.before-restore-20261122T130000Z"],
            "no WAL, journal or temporary file is left beside the restored database"
        );
        let db = ServerDb::open(dir.path()).unwrap();
        assert_eq!(db.authenticate(&token1).unwrap().device_id, "dev-1");
        let revoked = db
            .devices("demo-ward")
            .unwrap()
            .into_iter()
            .find(|d| d.id == "dev-2")
            .unwrap();
        assert!(revoked.revoked_at.is_some());
        let mut db = db;
        assert!(matches!(
            db.redeem(&unused, "dev-4", now()),
            Err(crate::error::ServerError::Code(
                patrol_wire::api::CodeRefusal::Used
            ))
        ));
        assert_eq!(
            report.kept.unwrap().file_name().unwrap().to_string_lossy(),
            "ward.db.before-restore-20261122T130000Z"
        );
    }
}
