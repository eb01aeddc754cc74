//! Real JPEGs for photo tests, made with the `image` crate: the same bytes every run.

use image::codecs::jpeg::JpegEncoder;

/// A JPEG of `width` × `height` pixels: smooth colour with fixed pseudo-random grain of `grain`
/// levels (no clock, no randomness), at JPEG `quality`; more grain, more bytes (64 levels at
/// quality 85 is about a byte per pixel).
pub fn jpeg(width: u32, height: u32, seed: u32, grain: u32, quality: u8) -> Vec<u8> {
    let mut state = seed.wrapping_mul(2_654_435_761).max(1);
    let mut pixels = Vec::with_capacity((width * height * 3) as usize);
    for y in 0..height {
        for x in 0..width {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            let g = (state % grain.max(1)) as u8;
            pixels.push(((x * 255 / width) as u8).wrapping_add(g));
            pixels.push(((y * 255 / height) as u8).wrapping_add(g / 2));
            pixels.push((seed as u8).wrapping_mul(40).wrapping_add(g));
        }
    }
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, quality)
        .encode(&pixels, width, height, image::ExtendedColorType::Rgb8)
        .unwrap();
    out
}
