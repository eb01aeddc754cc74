//! QR codes drawn as SVG (black on white, with the quiet zone a camera needs), for the enrollment
//! code on a leader's screen and the checkpoint posters.

use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};

/// The SVG of a QR code holding `text`, at least 240 px wide; empty when `text` is too long for a
/// QR code (the screens show the text beside it either way).
pub fn svg(text: &str) -> String {
    match QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M) {
        Ok(code) => code
            .render::<svg::Color>()
            .min_dimensions(240, 240)
            .quiet_zone(true)
            .dark_color(svg::Color("#000000"))
            .light_color(svg::Color("#ffffff"))
            .build(),
        Err(_) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_link_becomes_an_svg_and_an_overlong_text_nothing() {
        let s = super::svg("https://phuong.example.vn/#enroll=K2ABCDEFGH");
        assert!(s.starts_with("<?xml") || s.starts_with("<svg"), "{s}");
        assert!(s.contains("<path") || s.contains("<rect"));
        assert_eq!(super::svg(&"x".repeat(5000)), "");
    }
}
