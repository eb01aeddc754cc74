//! The photo files of a backup: beside the backup file `FILE` in the folder `FILE.photos/`, laid
//! out as in the data directory (`<first 2 hex>/<hash>`). Photo files never change once stored,
//! so a backup hard-links each file it lacks (copies it when the backup is on another disk) and
//! never rewrites one it has; a restore puts back each file the restored database holds and the
//! data directory lacks.

use super::backup::BackupError;
use crate::photo_files::{relative, sync_dir};
use std::path::{Path, PathBuf};

/// The photos' folder of the backup `file`: `FILE.photos` beside it.
pub fn beside(file: &Path) -> PathBuf {
    let mut name = file.file_name().unwrap_or_default().to_os_string();
    name.push(".photos");
    file.with_file_name(name)
}

/// How many photo files a backup or restore wrote, and which it could not find.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PhotoCopies {
    /// Files written (those already there are not counted).
    pub written: usize,
    /// Files already there.
    pub present: usize,
    /// Hashes found in neither folder.
    pub missing: Vec<String>,
}

/// Puts each file of `hashes` that `to` lacks into `to`, from `from`: hard-linked when `link`
/// and both are on one disk, else copied to a temporary name, synced and renamed. A file in
/// neither folder is listed as missing.
pub fn carry(
    from: &Path,
    to: &Path,
    hashes: &[String],
    link: bool,
) -> Result<PhotoCopies, BackupError> {
    let mut out = PhotoCopies::default();
    for hash in hashes {
        let rel = relative(hash);
        let (src, dst) = (from.join(&rel), to.join(&rel));
        if dst.exists() {
            out.present += 1;
            continue;
        }
        if !src.exists() {
            out.missing.push(hash.clone());
            continue;
        }
        let folder = dst.parent().unwrap_or(to).to_path_buf();
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| BackupError::Io { path, source }
        };
        std::fs::create_dir_all(&folder).map_err(io(&folder))?;
        if !(link && std::fs::hard_link(&src, &dst).is_ok()) {
            let tmp = folder.join(format!(".{hash}.partial-{}", std::process::id()));
            let copied = std::fs::copy(&src, &tmp)
                .and_then(|_| std::fs::File::open(&tmp)?.sync_all())
                .and_then(|()| std::fs::rename(&tmp, &dst));
            if let Err(e) = copied {
                let _ = std::fs::remove_file(&tmp);
                return Err(io(&dst)(e));
            }
        }
        sync_dir(&folder).map_err(io(&folder))?;
        out.written += 1;
    }
    Ok(out)
}
