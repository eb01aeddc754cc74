//! Photo uploads and downloads (API v1; docs/api.md "Photos"). Records travel first, in pushes;
//! a photo is uploaded afterwards, in pieces, by the device whose pushed observation (or
//! correction) names it, and is read by whoever may read that observation.
//!
//! - `GET  /api/v1/photos/{hash}/upload` → [`UploadState`]: how much the server holds.
//! - `PUT  /api/v1/photos/{hash}/upload?offset=N` with at most [`CHUNK_BYTES`] bytes
//!   (`application/octet-stream`) → [`UploadState`]. `offset` must equal `received`; the last
//!   piece makes the server check the hash and the image, then keep the file.
//! - `GET  /api/v1/photos/{hash}` → the image bytes (its MIME type), for readers of a naming
//!   observation.
//!
//! Refusals are an [`crate::api::ErrorBody`] whose `error` is a [`PhotoRefusal`] code.

use patrol_domain::photo::PhotoHash;
use serde::{Deserialize, Serialize};

/// The largest piece of one upload request, bytes: a cut connection loses at most this much.
pub const CHUNK_BYTES: usize = 64 * 1024;

/// The header of a 409 `offset_mismatch` answer that holds [`UploadState::received`]: where the
/// next piece must start.
pub const RECEIVED_HEADER: &str = "upload-offset";
/// The header of a 409 `offset_mismatch` answer that holds [`UploadState::size`].
pub const SIZE_HEADER: &str = "upload-length";

/// What the server holds of one photo.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadState {
    /// Bytes received so far (all of them once stored).
    pub received: u64,
    /// The photo's size, as its record names it.
    pub size: u64,
    /// The whole photo is stored and checked.
    pub stored: bool,
}

/// The path of a photo's upload.
pub fn upload_path(hash: &PhotoHash) -> String {
    format!("/api/v1/photos/{hash}/upload")
}

/// The path a photo is read at.
pub fn photo_path(hash: &PhotoHash) -> String {
    format!("/api/v1/photos/{hash}")
}

/// Why the server refused a photo request: the `error` code of the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PhotoRefusal {
    /// No record of this device (for uploads) or readable by this device (for reads) names it,
    /// or (for reads) it is not uploaded whole yet (404).
    UnknownPhoto,
    /// The piece does not start where the server's copy ends (409); the answer's
    /// [`RECEIVED_HEADER`] says where it ends (or ask the state again).
    OffsetMismatch,
    /// A piece larger than [`CHUNK_BYTES`], or more bytes than the record says (413).
    TooLarge,
    /// The bytes do not hash to the name (422); the partial copy is dropped.
    HashMismatch,
    /// The bytes are not a whole JPEG within the limits (422); dropped.
    NotImage,
    /// The file still carries metadata (EXIF, XMP, IPTC: location, camera) (422); dropped.
    Metadata,
    /// The ward's photo storage is full (507).
    WardQuota,
}

impl PhotoRefusal {
    /// The stable code on the wire (the phone's translation key is `err.photo.<code>`).
    pub fn code(self) -> &'static str {
        match self {
            PhotoRefusal::UnknownPhoto => "unknown_photo",
            PhotoRefusal::OffsetMismatch => "offset_mismatch",
            PhotoRefusal::TooLarge => "too_large",
            PhotoRefusal::HashMismatch => "hash_mismatch",
            PhotoRefusal::NotImage => "not_image",
            PhotoRefusal::Metadata => "metadata",
            PhotoRefusal::WardQuota => "ward_quota",
        }
    }

    /// The refusal with `code`, or `None` for a code this build does not know.
    pub fn from_code(code: &str) -> Option<Self> {
        [
            Self::UnknownPhoto,
            Self::OffsetMismatch,
            Self::TooLarge,
            Self::HashMismatch,
            Self::NotImage,
            Self::Metadata,
            Self::WardQuota,
        ]
        .into_iter()
        .find(|c| c.code() == code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_paths_hold_only_the_hash() {
        for r in [
            PhotoRefusal::UnknownPhoto,
            PhotoRefusal::OffsetMismatch,
            PhotoRefusal::TooLarge,
            PhotoRefusal::HashMismatch,
            PhotoRefusal::NotImage,
            PhotoRefusal::Metadata,
            PhotoRefusal::WardQuota,
        ] {
            assert_eq!(PhotoRefusal::from_code(r.code()), Some(r));
            assert_eq!(
                serde_json::to_string(&r).unwrap(),
                format!("\"{}\"", r.code())
            );
        }
        assert_eq!(PhotoRefusal::from_code("nope"), None);
        let h = PhotoHash::from_digest(&[1; 32]);
        assert_eq!(
            upload_path(&h),
            format!("/api/v1/photos/{}/upload", "01".repeat(32))
        );
        assert_eq!(
            photo_path(&h),
            format!("/api/v1/photos/{}", "01".repeat(32))
        );
    }
}
