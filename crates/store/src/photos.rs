//! Photos on this device: each image (a prepared photo or its thumbnail) stored under its hash in
//! the transaction of the record naming it, uploaded after that record's event reached the ward
//! server (thumbnails first), and dropped here (full size only) once the server has held it for
//! the ward's keeping period (`Ward::photo_keep_days`).

use super::{Store, StoreError};
use chrono::{DateTime, Utc};
use patrol_domain::photo::{self, PhotoError, PhotoHash, PhotoRef, PreparedPhoto};
use patrol_wire::photo::PhotoRefusal;
use rusqlite::{params, OptionalExtension, Transaction};

/// Checks the prepared photos of one record (at most four, each an image within the limits) and
/// names them.
pub fn refs(photos: &[PreparedPhoto]) -> Result<Vec<PhotoRef>, PhotoError> {
    if photos.len() > photo::MAX_PHOTOS {
        return Err(PhotoError::TooMany {
            max: photo::MAX_PHOTOS,
        });
    }
    let refs = photos
        .iter()
        .map(PreparedPhoto::to_ref)
        .collect::<Result<Vec<_>, _>>()?;
    photo::validate_refs(&refs)?;
    Ok(refs)
}

/// Writes the images of `photos` (named by `refs`, same order) for record `record_id`, inside the
/// caller's transaction: the record and its photos are stored together or not at all. An image
/// this device already holds (the same bytes) is kept once.
pub(crate) fn insert(
    tx: &Transaction<'_>,
    record_id: &str,
    refs: &[PhotoRef],
    photos: &[PreparedPhoto],
    now: DateTime<Utc>,
) -> rusqlite::Result<()> {
    if refs.is_empty() {
        return Ok(());
    }
    let mut stmt = tx.prepare(
        "INSERT OR IGNORE INTO photo(hash, record_id, is_thumb, mime, size, data, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    for (r, p) in refs.iter().zip(photos) {
        for (hash, bytes, is_thumb) in [(&r.thumb, &p.thumb, true), (&r.hash, &p.full, false)] {
            stmt.execute(params![
                hash.as_str(),
                record_id,
                is_thumb,
                // `refs` were checked by `PreparedPhoto::to_ref`: JPEG is the one format stored.
                photo::ImageKind::Jpeg.mime(),
                bytes.len() as i64,
                bytes,
                now.to_rfc3339()
            ])?;
        }
    }
    Ok(())
}

/// Photos taken off observation `observation_id` by a correction, inside its transaction: those
/// not yet on the ward server and named by no other observation are deleted here (full size and
/// thumbnail), so a photo taken off by mistake (a bystander's face) never leaves the phone.
pub(crate) fn withdraw(
    tx: &Transaction<'_>,
    observation_id: &str,
    taken_off: &[PhotoRef],
) -> rusqlite::Result<()> {
    for r in taken_off {
        for hash in [&r.hash, &r.thumb] {
            tx.execute(
                "DELETE FROM photo WHERE hash = ?1 AND uploaded_at IS NULL
                 AND NOT EXISTS (SELECT 1 FROM observation WHERE id <> ?2 AND instr(photos_json, ?1) > 0)
                 AND NOT EXISTS (SELECT 1 FROM correction WHERE target_id <> ?2 AND instr(photos_added_json, ?1) > 0)",
                params![hash.as_str(), observation_id],
            )?;
        }
    }
    Ok(())
}

/// An image held on this device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPhoto {
    /// Its MIME type.
    pub mime: String,
    /// Its bytes; `None` for a full-size photo dropped here after the server had it long enough.
    pub data: Option<Vec<u8>>,
}

/// An image waiting to be uploaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitingPhoto {
    /// Its name.
    pub hash: PhotoHash,
    /// Its size, bytes.
    pub size: u64,
    /// A thumbnail (sent before any full-size photo).
    pub is_thumb: bool,
}

/// What photos take on this device, for the sync card.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PhotoUsage {
    /// Full-size photos not yet on the ward server.
    pub waiting: u32,
    /// Their bytes, thumbnails included.
    pub waiting_bytes: u64,
    /// Bytes of photos and thumbnails held here.
    pub stored_bytes: u64,
    /// Full-size photos the server refused for good, or whose record it refused.
    pub refused: u32,
}

impl Store {
    /// The image named `hash`, if this device holds it.
    pub fn photo(&self, hash: &PhotoHash) -> Result<Option<StoredPhoto>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT mime, data FROM photo WHERE hash = ?1",
                [hash.as_str()],
                |r| {
                    Ok(StoredPhoto {
                        mime: r.get(0)?,
                        data: r.get(1)?,
                    })
                },
            )
            .optional()?)
    }

    /// Images to upload now, thumbnails first then oldest first: those whose record's event the
    /// ward server acknowledged (so it knows which record names them). With `thumbs_only`, the
    /// thumbnails alone (photos wait for Wi-Fi).
    pub fn photos_waiting(&self, thumbs_only: bool) -> Result<Vec<WaitingPhoto>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT p.hash, p.size, p.is_thumb FROM photo p
             WHERE p.uploaded_at IS NULL AND p.refused_code IS NULL AND p.data IS NOT NULL
               AND (p.is_thumb = 1 OR ?1 = 0)
               AND EXISTS (SELECT 1 FROM outbox o WHERE o.entity_id = p.record_id AND o.sent_at IS NOT NULL)
             ORDER BY p.is_thumb DESC, p.created_at, p.rowid",
        )?;
        let rows = stmt.query_map([thumbs_only], |r| {
            let hash: String = r.get(0)?;
            Ok(WaitingPhoto {
                hash: super::rows::parsed(r, 0, ("photo", &hash), "hash", |t| t.parse().ok())?,
                size: r.get::<_, i64>(1)? as u64,
                is_thumb: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Marks an image as held whole by the ward server.
    pub fn photo_uploaded(&self, hash: &PhotoHash, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE photo SET uploaded_at = ?2 WHERE hash = ?1 AND uploaded_at IS NULL",
            params![hash.as_str(), now.to_rfc3339()],
        )?;
        Ok(())
    }

    /// Marks an image the server refused for good (it is kept here, and not sent again).
    pub fn photo_refused(&self, hash: &PhotoHash, why: PhotoRefusal) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE photo SET refused_code = ?2 WHERE hash = ?1",
            params![hash.as_str(), why.code()],
        )?;
        Ok(())
    }

    /// What photos take here: waiting, stored, refused.
    pub fn photo_usage(&self) -> Result<PhotoUsage, StoreError> {
        Ok(self.conn.query_row(
            // A photo whose record the server refused will never be uploaded: it counts as
            // refused, not as waiting.
            "WITH p AS (
               SELECT photo.*, (refused_code IS NOT NULL OR EXISTS (
                   SELECT 1 FROM outbox o WHERE o.entity_id = photo.record_id AND o.refused_code IS NOT NULL
               )) AS stuck
               FROM photo
             )
             SELECT
               COALESCE(SUM(uploaded_at IS NULL AND NOT stuck AND is_thumb = 0), 0),
               COALESCE(SUM(CASE WHEN uploaded_at IS NULL AND NOT stuck THEN size ELSE 0 END), 0),
               COALESCE(SUM(LENGTH(data)), 0),
               COALESCE(SUM(stuck AND is_thumb = 0), 0)
             FROM p",
            [],
            |r| {
                Ok(PhotoUsage {
                    waiting: r.get::<_, i64>(0)? as u32,
                    waiting_bytes: r.get::<_, i64>(1)? as u64,
                    stored_bytes: r.get::<_, i64>(2)? as u64,
                    refused: r.get::<_, i64>(3)? as u32,
                })
            },
        )?)
    }

    /// Frees space: drops the bytes of full-size photos the ward server has held since `cutoff`
    /// or earlier (thumbnails stay). Returns how many were dropped.
    pub fn drop_uploaded_photos(&self, cutoff: DateTime<Utc>) -> Result<usize, StoreError> {
        Ok(self.conn.execute(
            "UPDATE photo SET data = NULL
             WHERE is_thumb = 0 AND data IS NOT NULL AND uploaded_at IS NOT NULL AND uploaded_at <= ?1",
            [cutoff.to_rfc3339()],
        )?)
    }
}
