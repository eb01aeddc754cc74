//! Photos on observations: their content-hash names, the limits a phone and the server both
//! apply, and what an image file is (read from its bytes, never from its name).

use serde::{Deserialize, Serialize};
use std::fmt;
use thiserror::Error;

/// At most this many photos on one observation.
pub const MAX_PHOTOS: usize = 4;
/// A prepared photo's long edge, pixels.
pub const MAX_EDGE: u32 = 1600;
/// A thumbnail's long edge, pixels.
pub const THUMB_EDGE: u32 = 320;
/// The size a prepared photo aims at, bytes.
pub const TARGET_BYTES: usize = 200 * 1024;
/// The largest prepared photo the server takes, bytes.
pub const MAX_PHOTO_BYTES: u64 = 1024 * 1024;
/// The largest thumbnail the server takes, bytes.
pub const MAX_THUMB_BYTES: u64 = 64 * 1024;
/// The largest original a phone tries to decode (width × height): 100 megapixels.
pub const MAX_DECODE_PIXELS: u64 = 100_000_000;

/// A photo's name: the SHA-256 of its bytes, 64 lowercase hex digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PhotoHash(String);

impl PhotoHash {
    /// The SHA-256 of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        use sha2::Digest;
        Self::from_digest(&sha2::Sha256::digest(bytes).into())
    }

    /// The name of a SHA-256 digest.
    pub fn from_digest(digest: &[u8; 32]) -> Self {
        use fmt::Write;
        let mut s = String::with_capacity(64);
        for b in digest {
            let _ = write!(s, "{b:02x}");
        }
        PhotoHash(s)
    }

    /// The 64 hex digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PhotoHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for PhotoHash {
    type Error = PhotoError;
    fn try_from(s: String) -> Result<Self, PhotoError> {
        if s.len() == 64
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            Ok(PhotoHash(s))
        } else {
            Err(PhotoError::BadHash)
        }
    }
}

impl std::str::FromStr for PhotoHash {
    type Err = PhotoError;
    fn from_str(s: &str) -> Result<Self, PhotoError> {
        PhotoHash::try_from(s.to_string())
    }
}

impl From<PhotoHash> for String {
    fn from(h: PhotoHash) -> String {
        h.0
    }
}

/// A photo as an observation (or a correction) names it: the prepared photo and its thumbnail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhotoRef {
    /// The prepared photo's hash.
    pub hash: PhotoHash,
    /// Its size, bytes.
    pub bytes: u64,
    /// Its width, pixels.
    pub width: u32,
    /// Its height, pixels.
    pub height: u32,
    /// The thumbnail's hash.
    pub thumb: PhotoHash,
    /// The thumbnail's size, bytes.
    pub thumb_bytes: u64,
}

impl PhotoRef {
    /// Checks the sizes against the limits.
    pub fn validate(&self) -> Result<(), PhotoError> {
        if self.bytes == 0 || self.bytes > MAX_PHOTO_BYTES {
            return Err(PhotoError::TooLarge {
                bytes: self.bytes,
                max: MAX_PHOTO_BYTES,
            });
        }
        if self.thumb_bytes == 0 || self.thumb_bytes > MAX_THUMB_BYTES {
            return Err(PhotoError::TooLarge {
                bytes: self.thumb_bytes,
                max: MAX_THUMB_BYTES,
            });
        }
        if self.width == 0 || self.height == 0 || self.width.max(self.height) > MAX_EDGE {
            return Err(PhotoError::TooManyPixels {
                width: self.width as u64,
                height: self.height as u64,
            });
        }
        Ok(())
    }
}

/// Checks a record's photo list: at most [`MAX_PHOTOS`], each within the limits, none twice.
pub fn validate_refs(refs: &[PhotoRef]) -> Result<(), PhotoError> {
    if refs.len() > MAX_PHOTOS {
        return Err(PhotoError::TooMany { max: MAX_PHOTOS });
    }
    for (i, r) in refs.iter().enumerate() {
        r.validate()?;
        if refs[..i].iter().any(|o| o.hash == r.hash) {
            return Err(PhotoError::Twice);
        }
    }
    Ok(())
}

/// A photo made small on the phone, as the UI hands it to the store: the prepared photo and its
/// thumbnail (both re-encoded, so without the original's metadata). Base64 in JSON messages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreparedPhoto {
    /// The photo, long edge at most [`MAX_EDGE`].
    #[serde(with = "b64")]
    pub full: Vec<u8>,
    /// The thumbnail, long edge at most [`THUMB_EDGE`].
    #[serde(with = "b64")]
    pub thumb: Vec<u8>,
}

impl PreparedPhoto {
    /// Checks both images (JPEG, within the edge and byte limits) and names them.
    pub fn to_ref(&self) -> Result<PhotoRef, PhotoError> {
        let full = stored_image(&self.full, MAX_EDGE, MAX_PHOTO_BYTES)?;
        stored_image(&self.thumb, THUMB_EDGE, MAX_THUMB_BYTES)?;
        Ok(PhotoRef {
            hash: PhotoHash::of(&self.full),
            bytes: self.full.len() as u64,
            width: full.width as u32,
            height: full.height as u32,
            thumb: PhotoHash::of(&self.thumb),
            thumb_bytes: self.thumb.len() as u64,
        })
    }
}

/// Checks an image as it may be stored: JPEG, long edge at most `edge`, at most `max` bytes.
pub fn stored_image(bytes: &[u8], edge: u32, max: u64) -> Result<ImageInfo, PhotoError> {
    if bytes.len() as u64 > max {
        return Err(PhotoError::TooLarge {
            bytes: bytes.len() as u64,
            max,
        });
    }
    let info = inspect(bytes)?;
    // Phones store JPEG only (the canvas and the desktop encoder both make it).
    if info.kind != ImageKind::Jpeg {
        return Err(PhotoError::NotImage);
    }
    if info.width.max(info.height) > edge as u64 {
        return Err(PhotoError::TooManyPixels {
            width: info.width,
            height: info.height,
        });
    }
    Ok(info)
}

/// Bytes as base64 in JSON (photos in the messages between the page and the store's worker).
pub mod b64 {
    use base64::Engine;
    use serde::{Deserialize, Deserializer, Serializer};

    /// Writes the bytes as one base64 string.
    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(bytes))
    }

    /// Reads one base64 string.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        base64::engine::general_purpose::STANDARD
            .decode(text.as_bytes())
            .map_err(serde::de::Error::custom)
    }
}

/// The photos a record shows now: its own, then each correction's removals and additions in the
/// order they were made.
pub fn shown<'a>(
    own: &[PhotoRef],
    corrections: impl IntoIterator<Item = (&'a [PhotoRef], &'a [PhotoHash])>,
) -> Vec<PhotoRef> {
    let mut out = own.to_vec();
    for (added, removed) in corrections {
        out.retain(|p| !removed.contains(&p.hash));
        for a in added {
            if !out.iter().any(|p| p.hash == a.hash) {
                out.push(a.clone());
            }
        }
    }
    out
}

/// An image format a photo may be stored in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImageKind {
    /// JPEG.
    Jpeg,
    /// WebP.
    Webp,
    /// PNG (accepted from the gallery, re-encoded before storing).
    Png,
    /// HEIF/HEIC (accepted from the gallery where the browser decodes it).
    Heif,
}

impl ImageKind {
    /// The MIME type.
    pub fn mime(self) -> &'static str {
        match self {
            ImageKind::Jpeg => "image/jpeg",
            ImageKind::Webp => "image/webp",
            ImageKind::Png => "image/png",
            ImageKind::Heif => "image/heif",
        }
    }
    /// The format of a MIME type [`ImageKind::mime`] gives, or `None`.
    pub fn from_mime(mime: &str) -> Option<Self> {
        [
            ImageKind::Jpeg,
            ImageKind::Webp,
            ImageKind::Png,
            ImageKind::Heif,
        ]
        .into_iter()
        .find(|k| k.mime() == mime)
    }
}

/// What an image file is, from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageInfo {
    /// The format.
    pub kind: ImageKind,
    /// Width, pixels (as stored, before any EXIF rotation).
    pub width: u64,
    /// Height, pixels.
    pub height: u64,
}

/// Reads the format and size of an image from its bytes (a header is enough); refuses what is
/// not an image and what is too large to decode on a phone.
pub fn inspect(bytes: &[u8]) -> Result<ImageInfo, PhotoError> {
    let kind = match imagesize::image_type(bytes) {
        Ok(imagesize::ImageType::Jpeg) => ImageKind::Jpeg,
        Ok(imagesize::ImageType::Webp) => ImageKind::Webp,
        Ok(imagesize::ImageType::Png) => ImageKind::Png,
        Ok(imagesize::ImageType::Heif(_)) => ImageKind::Heif,
        _ => return Err(PhotoError::NotImage),
    };
    let size = imagesize::blob_size(bytes).map_err(|_| PhotoError::NotImage)?;
    let (width, height) = (size.width as u64, size.height as u64);
    if width == 0 || height == 0 {
        return Err(PhotoError::NotImage);
    }
    if width.saturating_mul(height) > MAX_DECODE_PIXELS {
        return Err(PhotoError::TooManyPixels { width, height });
    }
    Ok(ImageInfo {
        kind,
        width,
        height,
    })
}

/// `width × height` scaled so that the long edge is at most `edge` (never enlarged, at least 1).
pub fn fit(width: u32, height: u32, edge: u32) -> (u32, u32) {
    let long = width.max(height);
    if long <= edge || long == 0 {
        return (width.max(1), height.max(1));
    }
    let scale = |v: u32| ((v as u64 * edge as u64 + long as u64 / 2) / long as u64).max(1) as u32;
    (scale(width), scale(height))
}

/// Why a photo is refused. Each variant maps to a translated message (`err.photo.<code>`).
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum PhotoError {
    /// The bytes are not a JPEG, WebP, PNG or HEIF image.
    #[error("this file is not a photo")]
    NotImage,
    /// Too many pixels to decode on a phone, or a prepared photo larger than its edge limit.
    #[error("the image is too large ({width} × {height} pixels)")]
    TooManyPixels {
        /// Width.
        width: u64,
        /// Height.
        height: u64,
    },
    /// More bytes than allowed.
    #[error("the photo is too large ({bytes} bytes; at most {max})")]
    TooLarge {
        /// Its size.
        bytes: u64,
        /// The limit.
        max: u64,
    },
    /// A fifth photo.
    #[error("at most {max} photos on one observation")]
    TooMany {
        /// The limit.
        max: usize,
    },
    /// The same photo twice on one record.
    #[error("the same photo is attached twice")]
    Twice,
    /// Not 64 lowercase hex digits.
    #[error("not a photo hash")]
    BadHash,
}

impl PhotoError {
    /// The stable code (the translation key is `err.photo.<code>`).
    pub fn code(&self) -> &'static str {
        match self {
            PhotoError::NotImage => "not_image",
            PhotoError::TooManyPixels { .. } => "too_many_pixels",
            PhotoError::TooLarge { .. } => "too_large",
            PhotoError::TooMany { .. } => "too_many",
            PhotoError::Twice => "twice",
            PhotoError::BadHash => "bad_hash",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn hash(c: char) -> PhotoHash {
        PhotoHash::try_from(c.to_string().repeat(64)).unwrap()
    }

    fn photo(c: char) -> PhotoRef {
        PhotoRef {
            hash: hash(c),
            bytes: 180_000,
            width: 1600,
            height: 1200,
            thumb: hash('f'),
            thumb_bytes: 12_000,
        }
    }

    #[test]
    fn hashes_are_64_lowercase_hex_digits() {
        assert!(PhotoHash::try_from("a".repeat(64)).is_ok());
        assert_eq!(
            PhotoHash::try_from("A".repeat(64)),
            Err(PhotoError::BadHash)
        );
        assert_eq!(
            PhotoHash::try_from("a".repeat(63)),
            Err(PhotoError::BadHash)
        );
        assert_eq!(
            PhotoHash::try_from("../".repeat(21) + "a"),
            Err(PhotoError::BadHash)
        );
        let h = PhotoHash::from_digest(&[0xab; 32]);
        assert_eq!(h.as_str(), "ab".repeat(32));
        let json = serde_json::to_string(&h).unwrap();
        assert_eq!(serde_json::from_str::<PhotoHash>(&json).unwrap(), h);
        assert!(serde_json::from_str::<PhotoHash>("\"zz\"").is_err());
    }

    #[test]
    fn a_record_holds_at_most_four_photos_each_once() {
        assert!(validate_refs(&[photo('1'), photo('2'), photo('3'), photo('4')]).is_ok());
        assert_eq!(
            validate_refs(&[photo('1'), photo('2'), photo('3'), photo('4'), photo('5')]),
            Err(PhotoError::TooMany { max: 4 })
        );
        assert_eq!(
            validate_refs(&[photo('1'), photo('1')]),
            Err(PhotoError::Twice)
        );
        let mut big = photo('1');
        big.bytes = MAX_PHOTO_BYTES + 1;
        assert!(matches!(
            validate_refs(&[big]),
            Err(PhotoError::TooLarge { .. })
        ));
        let mut wide = photo('1');
        wide.width = 4000;
        assert!(matches!(
            validate_refs(&[wide]),
            Err(PhotoError::TooManyPixels { .. })
        ));
    }

    #[test]
    fn inspect_reads_the_content_not_the_name() {
        // A 1×1 PNG.
        let png: &[u8] = &[
            0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, b'I', b'H', b'D', b'R', 0,
            0, 0x0F, 0xA0, 0, 0, 0x0B, 0xB8, 8, 2, 0, 0, 0,
        ];
        let info = inspect(png).unwrap();
        assert_eq!(
            (info.kind, info.width, info.height),
            (ImageKind::Png, 4000, 3000)
        );
        assert_eq!(inspect(b"%PDF-1.7 not a photo"), Err(PhotoError::NotImage));
        assert_eq!(inspect(b""), Err(PhotoError::NotImage));
        // 20000 × 20000: 400 megapixels, too many for a phone.
        let mut huge = png.to_vec();
        huge[16..24].copy_from_slice(&[0, 0, 0x4E, 0x20, 0, 0, 0x4E, 0x20]);
        assert!(matches!(
            inspect(&huge),
            Err(PhotoError::TooManyPixels { .. })
        ));
    }

    #[test]
    fn corrections_take_photos_off_and_add_them_in_order() {
        let (a, b, c) = (photo('1'), photo('2'), photo('3'));
        assert_eq!(
            shown(&[a.clone(), b.clone()], []),
            vec![a.clone(), b.clone()]
        );
        let removed = [a.hash.clone()];
        let added = [c.clone()];
        let steps: Vec<(&[PhotoRef], &[PhotoHash])> = vec![(&[], &removed), (&added, &[])];
        assert_eq!(
            shown(&[a.clone(), b.clone()], steps),
            vec![b.clone(), c.clone()]
        );
        // Added back after being taken off; added twice counts once.
        let again = [a.clone(), c.clone()];
        let steps: Vec<(&[PhotoRef], &[PhotoHash])> = vec![(&[], &removed), (&again, &[])];
        assert_eq!(shown(&[a.clone(), c.clone()], steps), vec![c, a]);
    }

    #[test]
    fn fit_examples() {
        assert_eq!(fit(4000, 3000, 1600), (1600, 1200));
        assert_eq!(fit(3000, 4000, 1600), (1200, 1600));
        assert_eq!(fit(800, 600, 1600), (800, 600));
        assert_eq!(fit(10000, 1, 320), (320, 1));
    }

    proptest! {
        #[test]
        fn fit_keeps_the_long_edge_within_and_the_shape(w in 1u32..20_000, h in 1u32..20_000, edge in 16u32..4000) {
            let (fw, fh) = fit(w, h, edge);
            prop_assert!(fw.max(fh) <= edge.max(w.max(h).min(edge)));
            prop_assert!(fw >= 1 && fh >= 1);
            prop_assert!(fw <= w && fh <= h);
            if w.max(h) > edge {
                prop_assert_eq!(fw.max(fh), edge);
                // The aspect ratio is kept to within a pixel of rounding.
                let want = w as f64 / h as f64 * fh as f64;
                prop_assert!((fw as f64 - want).abs() <= 1.0 + w as f64 / h as f64);
            }
        }
    }
}
