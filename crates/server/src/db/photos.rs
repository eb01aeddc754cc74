//! Photos named by pushed records: which device may upload which file, how much the server
//! holds of it, and who reads it. The files themselves live in [`crate::photo_files`].

use super::enrollment::DeviceAuth;
use super::ServerDb;
use crate::audience::Audience;
use crate::error::ServerError;
use crate::push_rules::NamedPhotos;
use chrono::{DateTime, Utc};
use patrol_domain::photo::{ImageKind, PhotoHash};
use patrol_store::rows;
use patrol_wire::photo::PhotoRefusal;
use rusqlite::{params, Connection, OptionalExtension};

/// What one device may upload of one file: the size its record declares, and the file as the
/// server holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    /// The size this device's record declares, bytes.
    pub declared: u64,
    /// The ward whose copy it is (and whose quota it counts against): the device's.
    pub ward_id: String,
    /// The ward's copy, when it is whole and checked (sent by any device of the ward).
    pub stored: Option<StoredBlob>,
}

/// A whole, checked photo file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredBlob {
    /// Its size, bytes.
    pub size: u64,
    /// Its format.
    pub kind: ImageKind,
}

/// Records the files `named` (each photo and its thumbnail) as named by `auth`'s device, and
/// forgets those a correction took off, in the push's transaction; a file already named keeps
/// its first row. The ward's copy is made unstored when the ward has none: a hash another ward
/// stored gives this ward nothing until one of its own devices sends the bytes.
pub fn record(tx: &Connection, auth: &DeviceAuth, named: &NamedPhotos) -> Result<(), ServerError> {
    let mut photo = tx.prepare_cached(
        "INSERT OR IGNORE INTO photo(hash, observation_id, device_id, team_id, ward_id, size, is_thumb, pair)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    let mut blob = tx.prepare_cached(
        "INSERT OR IGNORE INTO photo_blob(ward_id, hash, size) VALUES (?1, ?2, ?3)",
    )?;
    for r in &named.refs {
        for (hash, size, is_thumb, pair) in [
            (&r.hash, r.bytes, false, &r.thumb),
            (&r.thumb, r.thumb_bytes, true, &r.hash),
        ] {
            photo.execute(params![
                hash.as_str(),
                named.observation_id,
                auth.device_id,
                auth.team_id,
                auth.ward_id,
                size as i64,
                is_thumb,
                pair.as_str()
            ])?;
            blob.execute(params![auth.ward_id, hash.as_str(), size as i64])?;
        }
    }
    // Photos taken off the observation: no longer read through it (nor uploaded for it), the
    // photo and its thumbnail alike. Only those this device named: the target id comes from the
    // pushed body, so another device's (or ward's) photos are out of its reach. A file still
    // named by another observation stays readable through that one.
    for hash in &named.removed {
        tx.prepare_cached(
            "DELETE FROM photo WHERE observation_id = ?1 AND device_id = ?3 AND (hash = ?2 OR pair = ?2)",
        )?
        .execute(params![named.observation_id, hash.as_str(), auth.device_id])?;
    }
    Ok(())
}

/// The upload of `hash` by `auth`'s device: `None` when no record pushed by that device names it.
/// Its state is its ward's copy only: another ward's copy of the same bytes is never told.
pub fn upload(
    conn: &Connection,
    auth: &DeviceAuth,
    hash: &PhotoHash,
) -> Result<Option<Upload>, ServerError> {
    let declared: Option<i64> = conn
        .prepare_cached(
            "SELECT size FROM photo WHERE device_id = ?1 AND hash = ?2 ORDER BY id LIMIT 1",
        )?
        .query_row(params![auth.device_id, hash.as_str()], |r| r.get(0))
        .optional()?;
    let Some(declared) = declared else {
        return Ok(None);
    };
    let stored = ward_copy(conn, &auth.ward_id, hash)?.flatten();
    Ok(Some(Upload {
        declared: declared as u64,
        ward_id: auth.ward_id.clone(),
        stored,
    }))
}

/// `ward`'s copy of `hash`: `None` when none of its records names it, `Some(None)` while it is
/// not stored whole.
fn ward_copy(
    conn: &Connection,
    ward: &str,
    hash: &PhotoHash,
) -> Result<Option<Option<StoredBlob>>, ServerError> {
    Ok(conn
        .prepare_cached(
            "SELECT ward_id, size, mime, stored_at FROM photo_blob WHERE ward_id = ?1 AND hash = ?2",
        )?
        .query_row(params![ward, hash.as_str()], |r| stored_blob(r, hash))
        .optional()?)
}

/// Columns (size, mime, stored_at) from 1 on, as a stored file or `None`.
fn stored_blob(r: &rusqlite::Row<'_>, hash: &PhotoHash) -> rusqlite::Result<Option<StoredBlob>> {
    let stored_at: Option<String> = r.get(3)?;
    if stored_at.is_none() {
        return Ok(None);
    }
    let kind = rows::parsed(
        r,
        2,
        ("photo_blob", hash.as_str()),
        "mime",
        ImageKind::from_mime,
    )?;
    Ok(Some(StoredBlob {
        size: r.get::<_, i64>(1)? as u64,
        kind,
    }))
}

/// How long an upload may stay unfinished before its partial copy is dropped (and its bytes
/// stop counting against the ward's quota).
pub const ABANDONED_AFTER_HOURS: i64 = 24;

impl ServerDb {
    /// Counts `ward`'s upload of `hash` (`declared` bytes) against its `quota` from its first
    /// piece on: refused with `ward_quota` when the ward's stored files and started uploads would
    /// pass it. One transaction on the one writer, so uploads started together cannot overshoot.
    pub fn start_photo_upload(
        &mut self,
        ward: &str,
        hash: &PhotoHash,
        declared: u64,
        quota: u64,
        now: DateTime<Utc>,
    ) -> Result<(), ServerError> {
        let tx = self.conn.transaction()?;
        let held: i64 = tx.query_row(
            "SELECT COALESCE(SUM(size), 0) FROM photo_blob
             WHERE ward_id = ?1 AND hash <> ?2 AND (stored_at IS NOT NULL OR started_at IS NOT NULL)",
            params![ward, hash.as_str()],
            |r| r.get(0),
        )?;
        let held = held as u64;
        if held.saturating_add(declared) > quota {
            tracing::warn!(ward = %ward, held, quota, "a ward's photo storage is full");
            return Err(ServerError::Photo(
                PhotoRefusal::WardQuota,
                format!(
                    "the ward's photo storage is full ({held} of {quota} bytes used or under way); \
                     ask the ward's administrator"
                ),
            ));
        }
        tx.execute(
            "UPDATE photo_blob SET started_at = ?3
             WHERE ward_id = ?1 AND hash = ?2 AND stored_at IS NULL",
            params![ward, hash.as_str(), now.to_rfc3339()],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Forgets uploads started before `before` and still unfinished; returns their (ward, hash),
    /// whose partial copies the caller drops.
    pub fn abandon_photo_uploads(
        &mut self,
        before: DateTime<Utc>,
    ) -> Result<Vec<(String, PhotoHash)>, ServerError> {
        let tx = self.conn.transaction()?;
        let copies: Vec<(String, String)> = tx
            .prepare(
                "SELECT ward_id, hash FROM photo_blob
                 WHERE stored_at IS NULL AND started_at IS NOT NULL AND started_at < ?1",
            )?
            .query_map([before.to_rfc3339()], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        tx.execute(
            "UPDATE photo_blob SET started_at = NULL
             WHERE stored_at IS NULL AND started_at IS NOT NULL AND started_at < ?1",
            [before.to_rfc3339()],
        )?;
        tx.commit()?;
        Ok(copies
            .into_iter()
            .filter_map(|(w, h)| Some((w, h.parse().ok()?)))
            .collect())
    }
}

impl ServerDb {
    /// Marks `ward`'s copy of `hash` as stored: one of its devices sent it whole, it was
    /// checked, and it is in its place.
    pub fn mark_photo_stored(
        &self,
        ward: &str,
        hash: &PhotoHash,
        blob: StoredBlob,
        now: DateTime<Utc>,
    ) -> Result<(), ServerError> {
        self.conn
            .prepare_cached(
                "UPDATE photo_blob SET size = ?2, mime = ?3, stored_at = COALESCE(stored_at, ?4)
                 WHERE hash = ?1 AND ward_id = ?5",
            )?
            .execute(params![
                hash.as_str(),
                blob.size as i64,
                blob.kind.mime(),
                now.to_rfc3339(),
                ward
            ])?;
        Ok(())
    }
}

/// What `auth`'s device may read of the file `hash`: it reads the file when some observation
/// naming it is read by that device (its member took it, or the device's role reaches that
/// team's events: [`Audience::seen_by`]) and its ward's own copy is stored (another ward's copy
/// of the same bytes gives it nothing). [`Reading::Unseen`] and [`Reading::NotStored`] differ
/// in the words of the answer only, never in its status.
pub fn reading(
    conn: &Connection,
    auth: &DeviceAuth,
    hash: &PhotoHash,
) -> Result<Reading, ServerError> {
    let mut namers = conn.prepare_cached(
        "SELECT p.team_id, p.ward_id, d.member_id FROM photo p JOIN device d ON d.id = p.device_id
         WHERE p.hash = ?1",
    )?;
    let mut seen = false;
    for row in namers.query_map([hash.as_str()], |r| {
        Ok(Audience {
            team_id: r.get(0)?,
            ward_id: r.get(1)?,
            log: true,
            member_id: Some(r.get(2)?),
        })
    })? {
        if row?.seen_by(auth) {
            seen = true;
            break;
        }
    }
    if !seen {
        return Ok(Reading::Unseen);
    }
    Ok(match ward_copy(conn, &auth.ward_id, hash)?.flatten() {
        Some(blob) => Reading::Stored(blob),
        None => Reading::NotStored,
    })
}

/// What a device may read of one photo file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reading {
    /// No observation it reads names the file (or none does at all).
    Unseen,
    /// It may read it, but the file is not uploaded whole yet.
    NotStored,
    /// It may read it: the stored file.
    Stored(StoredBlob),
}

/// Every stored photo file's hash (once, whichever wards hold it), for backups.
pub fn stored_hashes(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    conn.prepare("SELECT DISTINCT hash FROM photo_blob WHERE stored_at IS NOT NULL ORDER BY hash")?
        .query_map([], |r| r.get(0))?
        .collect()
}

#[cfg(test)]
mod tests {
    use patrol_store::migrate;
    use rusqlite::Connection;

    /// A database from before photos belonged to wards: a file stored (named by wards 1 and 2),
    /// one under way (named by ward 1), and a partial upload. Migrated, the stored file is stored
    /// for both wards that name it (their phones were told so), the other is each ward's own copy
    /// still to send, and the upload under way keeps its start.
    #[test]
    fn the_migration_keeps_what_each_ward_was_told() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = Connection::open(dir.path().join("ward.db")).unwrap();
        migrate::run(&mut conn, super::super::MIGRATIONS, 9).unwrap();
        let (a, b) = ("a".repeat(64), "b".repeat(64));
        conn.execute_batch(&format!(
            "INSERT INTO ward(id, name, tz, police_phone, demo) VALUES
               ('w1', 'W1', 'Asia/Ho_Chi_Minh', '113', 0), ('w2', 'W2', 'Asia/Ho_Chi_Minh', '113', 0);
             INSERT INTO team VALUES ('t1', 'w1', 'T1', '090', '[]'), ('t2', 'w2', 'T2', '090', '[]');
             INSERT INTO member VALUES ('m1', 't1', 'M1', 'member', NULL), ('m2', 't2', 'M2', 'member', NULL);
             INSERT INTO device(id, member_id, token_hash, enrolled_at)
               VALUES ('d1', 'm1', 'h1', 'x'), ('d2', 'm2', 'h2', 'x');
             INSERT INTO photo_blob(hash, size, mime, ward_id, stored_at, started_at) VALUES
               ('{a}', 100, 'image/jpeg', 'w1', '2026-12-01T00:00:00Z', '2026-12-01T00:00:00Z'),
               ('{b}', 200, NULL, 'w1', NULL, '2026-12-02T00:00:00Z');
             INSERT INTO photo(hash, observation_id, device_id, team_id, ward_id, size, is_thumb, pair) VALUES
               ('{a}', 'o1', 'd1', 't1', 'w1', 100, 0, NULL),
               ('{a}', 'o2', 'd2', 't2', 'w2', 100, 0, NULL),
               ('{b}', 'o1', 'd1', 't1', 'w1', 200, 0, NULL),
               ('{b}', 'o3', 'd2', 't2', 'w2', 201, 0, NULL);"
        ))
        .unwrap();
        migrate::run(&mut conn, super::super::MIGRATIONS, 10).unwrap();
        type Row = (String, String, i64, Option<String>, Option<String>);
        let rows: Vec<Row> = conn
            .prepare(
                "SELECT ward_id, substr(hash, 1, 1), size, stored_at, started_at FROM photo_blob
                 ORDER BY hash, ward_id",
            )
            .unwrap()
            .query_map([], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let stored = Some("2026-12-01T00:00:00Z".to_string());
        assert_eq!(
            rows,
            [
                ("w1".into(), "a".into(), 100, stored.clone(), stored.clone()),
                ("w2".into(), "a".into(), 100, stored, None),
                (
                    "w1".into(),
                    "b".into(),
                    200,
                    None,
                    Some("2026-12-02T00:00:00Z".into())
                ),
                ("w2".into(), "b".into(), 201, None, None),
            ]
        );
    }
}
