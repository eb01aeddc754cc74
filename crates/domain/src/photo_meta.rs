//! The metadata a photo file carries: EXIF (camera, time, often the place) or XMP in a JPEG's APP1
//! segments, IPTC in APP13, or bytes after its end; a WebP's `EXIF` chunk; found by walking the file's segments or chunks exactly (a
//! byte pattern inside the image data is not a segment, and a segment after the first scan still
//! counts).

use super::photo::{ImageKind, PhotoError};

/// Whether the image `bytes` of format `kind` carry EXIF metadata; a JPEG or WebP whose
/// structure does not hold together is [`PhotoError::NotImage`]. Other formats are never stored
/// by the server and are answered as not images.
pub fn has_exif(bytes: &[u8], kind: ImageKind) -> Result<bool, PhotoError> {
    match kind {
        ImageKind::Jpeg => jpeg_has_exif(bytes),
        ImageKind::Webp => webp_has_exif(bytes),
        ImageKind::Png | ImageKind::Heif => Err(PhotoError::NotImage),
    }
}

/// The APP1 marker (EXIF, XMP).
const APP1: u8 = 0xE1;
/// The identifier an EXIF APP1 segment starts with.
#[cfg(test)]
const EXIF_ID: &[u8] = b"Exif\0\0";
/// The APP13 marker (Photoshop IPTC: captions, places, names).
const APP13: u8 = 0xED;

fn jpeg_has_exif(b: &[u8]) -> Result<bool, PhotoError> {
    if !b.starts_with(&[0xFF, 0xD8]) {
        return Err(PhotoError::NotImage);
    }
    let mut i = 2;
    loop {
        // A marker: 0xFF (any number of fill bytes), then its code.
        if b.get(i) != Some(&0xFF) {
            return Err(PhotoError::NotImage);
        }
        while b.get(i) == Some(&0xFF) {
            i += 1;
        }
        let Some(&marker) = b.get(i) else {
            return Err(PhotoError::NotImage);
        };
        i += 1;
        match marker {
            // Bytes after the end of the image (another image, an EXIF block) count as metadata.
            0xD9 => return Ok(i < b.len()),
            0x01 | 0xD0..=0xD7 => continue,
            0x00 => return Err(PhotoError::NotImage),
            _ => {}
        }
        let len = match b.get(i..i + 2) {
            Some(l) => u16::from_be_bytes([l[0], l[1]]) as usize,
            None => return Err(PhotoError::NotImage),
        };
        let Some(_data) = (len >= 2).then(|| b.get(i + 2..i + len)).flatten() else {
            return Err(PhotoError::NotImage);
        };
        // EXIF, and any other APP1 (XMP, which may hold a GPS position) or APP13 (IPTC).
        if marker == APP1 || marker == APP13 {
            return Ok(true);
        }
        i += len;
        if marker == 0xDA {
            // Entropy-coded data runs to the next marker that is not a stuffed 0xFF00 or a
            // restart marker; a file cut inside it ends without metadata after the cut.
            match next_marker(b, i) {
                Some(at) => i = at,
                // No end of image: a cut file.
                None => return Err(PhotoError::NotImage),
            }
        }
    }
}

/// The index of the first marker at or after `from` in entropy-coded data.
fn next_marker(b: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while i + 1 < b.len() {
        if b[i] == 0xFF {
            match b[i + 1] {
                0x00 | 0xD0..=0xD7 => i += 2,
                0xFF => i += 1,
                _ => return Some(i),
            }
        } else {
            i += 1;
        }
    }
    None
}

fn webp_has_exif(b: &[u8]) -> Result<bool, PhotoError> {
    if b.len() < 12 || &b[0..4] != b"RIFF" || &b[8..12] != b"WEBP" {
        return Err(PhotoError::NotImage);
    }
    let riff_end = (u32::from_le_bytes([b[4], b[5], b[6], b[7]]) as usize).saturating_add(8);
    let end = riff_end.min(b.len());
    let mut i = 12;
    while i < end {
        let Some(head) = b.get(i..i + 8).filter(|_| i + 8 <= end) else {
            return Err(PhotoError::NotImage);
        };
        if &head[0..4] == b"EXIF" {
            return Ok(true);
        }
        let size = u32::from_le_bytes([head[4], head[5], head[6], head[7]]) as usize;
        let data_end = i + 8 + size;
        if data_end > end {
            return Err(PhotoError::NotImage);
        }
        // Chunks are padded to an even size.
        i = data_end + (size & 1);
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SOI, APP0 (JFIF), a scan whose entropy data holds the bytes of an EXIF header, EOI.
    fn jpeg(extra: &[&[u8]]) -> Vec<u8> {
        let mut v = vec![0xFF, 0xD8];
        v.extend([0xFF, 0xE0, 0, 7]);
        v.extend(b"JFIF\0");
        for seg in extra {
            v.extend(*seg);
        }
        v.extend([0xFF, 0xDA, 0, 2]);
        // Entropy data: a stuffed 0xFF00, a restart marker, and "Exif\0\0" as plain data.
        v.extend([0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0]);
        v.extend(b"\xFF\x00Exif\0\0");
        v.extend([0xFF, 0xD9]);
        v
    }

    fn app1(id: &[u8]) -> Vec<u8> {
        let len = (2 + id.len() + 4) as u16;
        let mut v = vec![0xFF, APP1];
        v.extend(len.to_be_bytes());
        v.extend(id);
        v.extend([1, 2, 3, 4]);
        v
    }

    #[test]
    fn jpeg_metadata_is_a_segment_or_a_tail_not_a_byte_pattern() {
        assert_eq!(has_exif(&jpeg(&[]), ImageKind::Jpeg), Ok(false));
        let exif = app1(EXIF_ID);
        assert_eq!(has_exif(&jpeg(&[&exif]), ImageKind::Jpeg), Ok(true));
        // XMP in APP1 may hold a GPS position too; IPTC in APP13 names places and people.
        let xmp = app1(b"http://ns.adobe.com/xap/1.0/\0");
        assert_eq!(has_exif(&jpeg(&[&xmp]), ImageKind::Jpeg), Ok(true));
        let iptc = [0xFF, APP13, 0, 6, b'8', b'B', b'I', b'M'];
        assert_eq!(has_exif(&jpeg(&[&iptc]), ImageKind::Jpeg), Ok(true));
        // Anything after the end of the image (an appended camera file) counts as metadata.
        let mut appended = jpeg(&[]);
        appended.extend(jpeg(&[&exif]));
        assert_eq!(has_exif(&appended, ImageKind::Jpeg), Ok(true));
        // A scan cut before the end of the image is not a whole image.
        let mut cut = jpeg(&[]);
        cut.truncate(cut.len() - 2);
        assert_eq!(has_exif(&cut, ImageKind::Jpeg), Err(PhotoError::NotImage));
        // An EXIF segment between two scans (progressive JPEG) counts too.
        let mut two_scans = jpeg(&[]);
        two_scans.truncate(two_scans.len() - 2);
        two_scans.extend(&exif);
        two_scans.extend([0xFF, 0xDA, 0, 2, 0x55, 0xFF, 0xD9]);
        assert_eq!(has_exif(&two_scans, ImageKind::Jpeg), Ok(true));
    }

    #[test]
    fn a_broken_structure_is_not_an_image() {
        assert_eq!(
            has_exif(b"%PDF-1.7", ImageKind::Jpeg),
            Err(PhotoError::NotImage)
        );
        // A segment longer than the file.
        assert_eq!(
            has_exif(&[0xFF, 0xD8, 0xFF, 0xE1, 0x40, 0], ImageKind::Jpeg),
            Err(PhotoError::NotImage)
        );
        // No marker where one must be.
        assert_eq!(
            has_exif(&[0xFF, 0xD8, 0x12, 0x34], ImageKind::Jpeg),
            Err(PhotoError::NotImage)
        );
        assert_eq!(has_exif(&[], ImageKind::Png), Err(PhotoError::NotImage));
    }

    fn webp(chunks: &[(&[u8; 4], &[u8])]) -> Vec<u8> {
        let mut body = b"WEBP".to_vec();
        for (fourcc, data) in chunks {
            body.extend(*fourcc);
            body.extend((data.len() as u32).to_le_bytes());
            body.extend(*data);
            if data.len() % 2 == 1 {
                body.push(0);
            }
        }
        let mut v = b"RIFF".to_vec();
        v.extend((body.len() as u32).to_le_bytes());
        v.extend(body);
        v
    }

    #[test]
    fn webp_exif_is_a_chunk() {
        let vp8x: &[u8] = &[8, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        let image: &[u8] = b"Exif\0\0 inside image data";
        assert_eq!(
            has_exif(&webp(&[(b"VP8X", vp8x), (b"VP8L", image)]), ImageKind::Webp),
            Ok(false)
        );
        assert_eq!(
            has_exif(
                &webp(&[(b"VP8X", vp8x), (b"VP8L", b"odd"), (b"EXIF", b"II*\0")]),
                ImageKind::Webp
            ),
            Ok(true)
        );
        let mut cut = webp(&[(b"VP8L", image)]);
        cut.truncate(cut.len() - 3);
        assert_eq!(has_exif(&cut, ImageKind::Webp), Err(PhotoError::NotImage));
    }
}
