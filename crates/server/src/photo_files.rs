//! Photo files on disk: each kept once, named by its content, under
//! `<data>/photos/<first 2 hex>/<hash>`; a ward's upload in progress under
//! `<data>/photos/partial/<ward key>-<hash>` (one per ward: one ward's upload never touches
//! another's), which grows by whole pieces only. The last piece makes the file checked (its SHA-256 is its
//! name, it is a JPEG within [`MAX_EDGE`], it carries no EXIF), synced and renamed into
//! place, so a file in place is always whole. Everything here blocks: call it off the async
//! threads.

use crate::db::photos::StoredBlob;
use patrol_domain::photo::{inspect, ImageKind, PhotoError, PhotoHash, MAX_EDGE};
use patrol_domain::photo_meta::has_exif;
use patrol_wire::photo::PhotoRefusal;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use thiserror::Error;

/// The photos' folder inside the data directory (and beside a backup file, as `<file>.photos`).
pub const PHOTOS_DIR: &str = "photos";
/// Uploads in progress, inside the photos' folder.
const PARTIAL_DIR: &str = "partial";
/// A ward's photo storage when not configured: 5 GiB.
pub const DEFAULT_WARD_QUOTA: u64 = 5 * 1024 * 1024 * 1024;

/// Why a photo file could not be written, kept or read.
#[derive(Debug, Error)]
pub enum FileError {
    /// The disk failed (the server's fault, never the phone's).
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The piece does not start where the partial copy ends.
    #[error("the piece starts at byte {offset}, but the server holds {received} bytes")]
    Offset {
        /// Where the piece starts.
        offset: u64,
        /// What the server holds.
        received: u64,
    },
    /// The bytes do not hash to the photo's name.
    #[error("the bytes hash to {got}, not to the photo's name; the upload starts again from 0")]
    HashMismatch {
        /// Their hash.
        got: PhotoHash,
    },
    /// Not an image the server keeps.
    #[error("not a JPEG photo ({0}); the upload starts again from 0")]
    NotImage(PhotoError),
    /// An image of another format than JPEG.
    #[error("a {} image; the server keeps JPEG photos only (phones send JPEG)", .0.mime())]
    Format(ImageKind),
    /// A long edge above [`MAX_EDGE`].
    #[error("the photo is {width} × {height} pixels; its long edge may be at most {MAX_EDGE}")]
    Edge {
        /// Width.
        width: u64,
        /// Height.
        height: u64,
    },
    /// The file carries EXIF metadata.
    #[error("the photo still carries EXIF metadata (camera, time, perhaps the place); prepare it again without")]
    Metadata,
}

impl FileError {
    /// The refusal the phone reads, or `None` for the server's own failure.
    pub fn refusal(&self) -> Option<PhotoRefusal> {
        match self {
            FileError::Io { .. } => None,
            FileError::Offset { .. } => Some(PhotoRefusal::OffsetMismatch),
            FileError::HashMismatch { .. } => Some(PhotoRefusal::HashMismatch),
            FileError::NotImage(_) | FileError::Format(_) | FileError::Edge { .. } => {
                Some(PhotoRefusal::NotImage)
            }
            FileError::Metadata => Some(PhotoRefusal::Metadata),
        }
    }
}

/// The photos' folder, its quota per ward, and one lock per ward's upload of a file.
pub struct PhotoFiles {
    root: PathBuf,
    ward_quota: u64,
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

/// Holds one ward's upload of one photo to itself; let go when dropped.
pub struct UploadLock<'a> {
    files: &'a PhotoFiles,
    name: String,
    guard: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl Drop for UploadLock<'_> {
    fn drop(&mut self) {
        drop(self.guard.take());
        let mut locks = self.files.locks.lock().unwrap_or_else(|p| p.into_inner());
        // Nobody holds or waits for it (waiters hold a clone): forget it.
        if locks
            .get(&self.name)
            .is_some_and(|l| Arc::strong_count(l) == 1)
        {
            locks.remove(&self.name);
        }
    }
}

/// The name of `ward`'s upload of `hash` in the partial folder: `<ward key>-<hash>`, the ward key
/// being the first 16 hex digits of the SHA-256 of its id (any id, one safe file name).
fn upload_name(ward: &str, hash: &PhotoHash) -> String {
    let key = hex::encode(Sha256::digest(ward.as_bytes()));
    format!("{}-{}", &key[..16], hash.as_str())
}

/// Where `hash` is kept, relative to a photos' folder: `<first 2 hex>/<hash>`.
pub fn relative(hash: &str) -> PathBuf {
    Path::new(&hash[..2.min(hash.len())]).join(hash)
}

impl PhotoFiles {
    /// The photos of the data directory `data`, at most `ward_quota` bytes per ward.
    pub fn new(data: &Path, ward_quota: u64) -> Self {
        PhotoFiles {
            root: data.join(PHOTOS_DIR),
            ward_quota,
            locks: Mutex::new(HashMap::new()),
        }
    }

    /// Drops the partial copies kept under their hash alone, before uploads were kept per ward:
    /// nothing continues them (their phones start again from 0). Gives how many.
    pub fn drop_unowned_partials(&self) -> usize {
        let Ok(entries) = std::fs::read_dir(self.root.join(PARTIAL_DIR)) else {
            return 0;
        };
        let mut dropped = 0;
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            // A bare hash is the old layout; a ward's upload is `<ward key>-<hash>`.
            if name.parse::<PhotoHash>().is_ok() {
                match std::fs::remove_file(entry.path()) {
                    Ok(()) => dropped += 1,
                    Err(e) => {
                        tracing::warn!(path = %entry.path().display(), error = %e, "cannot drop a partial photo")
                    }
                }
            }
        }
        dropped
    }

    /// The bytes of stored photos a ward may hold.
    pub fn ward_quota(&self) -> u64 {
        self.ward_quota
    }

    /// Waits until nobody else uploads `ward`'s copy of `hash`, and holds it.
    pub async fn lock(&self, ward: &str, hash: &PhotoHash) -> UploadLock<'_> {
        let name = upload_name(ward, hash);
        let lock = self
            .locks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(name.clone())
            .or_default()
            .clone();
        UploadLock {
            files: self,
            name,
            guard: Some(lock.lock_owned().await),
        }
    }

    /// Where the stored file `hash` is.
    pub fn path(&self, hash: &PhotoHash) -> PathBuf {
        self.root.join(relative(hash.as_str()))
    }

    /// Where `ward`'s upload of `hash` grows.
    pub fn partial(&self, ward: &str, hash: &PhotoHash) -> PathBuf {
        self.root.join(PARTIAL_DIR).join(upload_name(ward, hash))
    }

    /// Bytes of `ward`'s upload of `hash` received so far (0 when none is in progress).
    pub fn received(&self, ward: &str, hash: &PhotoHash) -> Result<u64, FileError> {
        let path = self.partial(ward, hash);
        match std::fs::metadata(&path) {
            Ok(m) => Ok(m.len()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
            Err(source) => Err(FileError::Io { path, source }),
        }
    }

    /// Appends the whole `piece` at `offset`, which must be where the partial copy ends, and
    /// syncs it; answers the bytes now held. A write that fails is cut back off.
    pub fn append(
        &self,
        ward: &str,
        hash: &PhotoHash,
        offset: u64,
        piece: &[u8],
    ) -> Result<u64, FileError> {
        let path = self.partial(ward, hash);
        let io = |source| FileError::Io {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(self.root.join(PARTIAL_DIR)).map_err(io)?;
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(io)?;
        let received = file.metadata().map_err(io)?.len();
        if received != offset {
            return Err(FileError::Offset { offset, received });
        }
        if piece.is_empty() {
            return Ok(received);
        }
        if let Err(e) = file.write_all(piece).and_then(|()| file.sync_data()) {
            let _ = file.set_len(received);
            return Err(io(e));
        }
        Ok(received + piece.len() as u64)
    }

    /// Checks `ward`'s whole partial copy of `hash` and renames it into place (synced first, then
    /// its folder; the same bytes another ward stored are replaced by themselves); a copy that
    /// fails a check is dropped.
    pub fn finish(&self, ward: &str, hash: &PhotoHash) -> Result<StoredBlob, FileError> {
        let partial = self.partial(ward, hash);
        let bytes = std::fs::read(&partial).map_err(|source| FileError::Io {
            path: partial.clone(),
            source,
        })?;
        let checked = check(hash, &bytes);
        let kind = match checked {
            Ok(kind) => kind,
            Err(e) => {
                self.drop_partial(ward, hash);
                return Err(e);
            }
        };
        let target = self.path(hash);
        let folder = target.parent().unwrap_or(&self.root).to_path_buf();
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| FileError::Io { path, source }
        };
        File::open(&partial)
            .and_then(|f| f.sync_all())
            .map_err(io(&partial))?;
        std::fs::create_dir_all(&folder).map_err(io(&folder))?;
        std::fs::rename(&partial, &target).map_err(io(&target))?;
        sync_dir(&folder).map_err(io(&folder))?;
        Ok(StoredBlob {
            size: bytes.len() as u64,
            kind,
        })
    }

    /// Drops `ward`'s partial copy of `hash`, if any.
    pub fn drop_partial(&self, ward: &str, hash: &PhotoHash) {
        let path = self.partial(ward, hash);
        if let Err(e) = std::fs::remove_file(&path) {
            if e.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!(path = %path.display(), error = %e, "cannot drop a partial photo");
            }
        }
    }

    /// The stored file `hash`.
    pub fn read(&self, hash: &PhotoHash) -> Result<Vec<u8>, FileError> {
        let path = self.path(hash);
        std::fs::read(&path).map_err(|source| FileError::Io { path, source })
    }
}

/// The checks of a whole file: its hash, its format and size, no EXIF.
fn check(hash: &PhotoHash, bytes: &[u8]) -> Result<ImageKind, FileError> {
    let got = PhotoHash::from_digest(&Sha256::digest(bytes).into());
    if &got != hash {
        return Err(FileError::HashMismatch { got });
    }
    let info = inspect(bytes).map_err(FileError::NotImage)?;
    // Phones send JPEG only: one format to check for metadata, nothing animated to decode.
    if info.kind != ImageKind::Jpeg {
        return Err(FileError::Format(info.kind));
    }
    if info.width.max(info.height) > MAX_EDGE as u64 {
        return Err(FileError::Edge {
            width: info.width,
            height: info.height,
        });
    }
    if has_exif(bytes, info.kind).map_err(FileError::NotImage)? {
        return Err(FileError::Metadata);
    }
    Ok(info.kind)
}

/// Syncs a folder, so a rename into it survives a power cut.
pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}
