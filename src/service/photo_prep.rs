//! Photos made small with the `image` crate (the desktop), as the browser does with its canvas
//! (platform/web/camera.rs): content checked first, EXIF orientation applied, the long edge fitted,
//! re-encoded as JPEG (which writes no metadata), and a thumbnail.

use crate::domain::photo::{self, PhotoError, PreparedPhoto};
use image::imageops::FilterType;
use image::{DynamicImage, ImageDecoder, ImageReader};
use std::io::Cursor;

/// JPEG qualities tried for a photo, best first, until it fits [`photo::TARGET_BYTES`].
const QUALITIES: [u8; 6] = [82, 74, 66, 58, 50, 42];
/// JPEG qualities tried for a thumbnail.
const THUMB_QUALITIES: [u8; 3] = [70, 60, 50];
/// The size a thumbnail aims at, bytes.
const THUMB_TARGET: usize = 24 * 1024;

/// Prepares the image file `bytes` (JPEG, PNG or WebP) for storing with an observation.
pub fn prepare(bytes: &[u8]) -> Result<PreparedPhoto, PhotoError> {
    photo::inspect(bytes)?;
    let mut decoder = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|_| PhotoError::NotImage)?
        .into_decoder()
        .map_err(|_| PhotoError::NotImage)?;
    let orientation = decoder.orientation().map_err(|_| PhotoError::NotImage)?;
    let mut img = DynamicImage::from_decoder(decoder).map_err(|_| PhotoError::NotImage)?;
    img.apply_orientation(orientation);
    let prepared = PreparedPhoto {
        full: encode(&img, photo::MAX_EDGE, &QUALITIES, photo::TARGET_BYTES)?,
        thumb: encode(&img, photo::THUMB_EDGE, &THUMB_QUALITIES, THUMB_TARGET)?,
    };
    prepared.to_ref()?;
    Ok(prepared)
}

/// `img` fitted within `edge` and encoded as JPEG at the first quality within `target` bytes.
fn encode(
    img: &DynamicImage,
    edge: u32,
    qualities: &[u8],
    target: usize,
) -> Result<Vec<u8>, PhotoError> {
    let (w, h) = photo::fit(img.width(), img.height(), edge);
    let small = img.resize_exact(w, h, FilterType::Triangle).into_rgb8();
    let mut out = Vec::new();
    for &q in qualities {
        out.clear();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, q)
            .encode_image(&small)
            .map_err(|_| PhotoError::NotImage)?;
        if out.len() <= target {
            break;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 3000 × 2000 JPEG with grain, and an EXIF segment saying "rotate 90°" with a GPS pointer.
    fn camera_jpeg() -> Vec<u8> {
        let (w, h) = (3000u32, 2000u32);
        let mut state = 7u32;
        let mut px = Vec::with_capacity((w * h * 3) as usize);
        for y in 0..h {
            for x in 0..w {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                let g = (state % 24) as u8;
                px.extend([(x * 255 / w) as u8 ^ g, (y * 255 / h) as u8 ^ g, 90 ^ g]);
            }
        }
        let mut jpeg = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 90)
            .encode(&px, w, h, image::ExtendedColorType::Rgb8)
            .unwrap();
        // TIFF, little-endian: IFD0 with Orientation = 6 and a GPS IFD pointer.
        let mut tiff = b"II*\0\x08\0\0\0\x02\0".to_vec();
        tiff.extend([0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0]);
        tiff.extend([0x25, 0x88, 4, 0, 1, 0, 0, 0, 38, 0, 0, 0]);
        tiff.extend([0, 0, 0, 0, 0, 0]);
        let mut app1 = vec![0xFF, 0xE1];
        app1.extend(((2 + 6 + tiff.len()) as u16).to_be_bytes());
        app1.extend(b"Exif\0\0");
        app1.extend(&tiff);
        let mut out = jpeg[..2].to_vec();
        out.extend(app1);
        out.extend(&jpeg[2..]);
        out
    }

    #[test]
    fn a_camera_photo_is_turned_upright_fitted_and_stripped() {
        let original = camera_jpeg();
        assert!(crate::domain::photo_meta::has_exif(&original, photo::ImageKind::Jpeg).unwrap());
        let p = prepare(&original).unwrap();
        let r = p.to_ref().unwrap();
        assert_eq!(
            (r.width, r.height),
            (1067, 1600),
            "portrait after orientation 6"
        );
        assert!(p.full.len() <= photo::MAX_PHOTO_BYTES as usize);
        assert!(
            p.full.len() < original.len() / 3,
            "{} from {}",
            p.full.len(),
            original.len()
        );
        assert!(!crate::domain::photo_meta::has_exif(&p.full, photo::ImageKind::Jpeg).unwrap());
        let thumb = photo::inspect(&p.thumb).unwrap();
        assert_eq!((thumb.width, thumb.height), (213, 320));
    }

    #[test]
    fn not_an_image_is_refused_by_its_content() {
        assert_eq!(
            prepare(b"%PDF-1.7 a report").unwrap_err(),
            PhotoError::NotImage
        );
        // A JPEG header over garbage: the header passes, the decoder refuses.
        let mut broken = camera_jpeg()[..600].to_vec();
        broken.extend([0u8; 100]);
        assert!(prepare(&broken).is_err());
    }
}
