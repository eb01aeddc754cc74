//! Platform glue: where the store lives on each target, and the device sensors the UI reads.
//! The UI only sees [`Core`] (send a command, get a reply) and the sensor signals.

pub mod protocol;

#[cfg(all(any(feature = "web", feature = "web-store"), target_arch = "wasm32"))]
pub mod web;
#[cfg(all(feature = "web", target_arch = "wasm32"))]
pub use web::client::Core;

#[cfg(all(feature = "desktop", not(target_arch = "wasm32")))]
pub mod desktop;
#[cfg(all(feature = "desktop", not(target_arch = "wasm32")))]
pub use desktop::Core;

use crate::domain::geofence::Fix;

/// Writes an error's details to the log (the browser's console, or standard error on the
/// desktop): what a person is not shown unless they open them.
pub fn log_detail(key: &str, detail: &str) {
    #[cfg(all(feature = "web", target_arch = "wasm32"))]
    web_sys::console::warn_1(&format!("{key}: {detail}").into());
    #[cfg(not(all(feature = "web", target_arch = "wasm32")))]
    eprintln!("{key}: {detail}");
}

/// The enrollment link the app was opened with: (server url, code). On desktop, $PATROL_ENROLL.
pub fn take_enroll_link() -> Option<(String, String)> {
    #[cfg(all(feature = "web", target_arch = "wasm32"))]
    {
        web::sensors::take_enroll_link()
    }
    #[cfg(not(all(feature = "web", target_arch = "wasm32")))]
    {
        std::env::var("PATROL_ENROLL")
            .ok()
            .and_then(|l| crate::wire::api::parse_enroll_link(&l))
    }
}

/// How a tip was handed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shared {
    /// The phone's share sheet took it.
    Sheet,
    /// The member closed the share sheet.
    Cancelled,
    /// Copied for pasting (no share sheet here).
    Copied,
}

/// A photo handed to the share sheet as a file.
#[derive(Debug, Clone, PartialEq)]
pub struct SharedFile {
    /// Its file name.
    pub name: String,
    /// Its MIME type.
    pub mime: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

/// Hands `text` (and the photos, where the share sheet takes files) to the phone's share sheet,
/// or copies the text where there is none; `Err` with why not.
pub async fn share(title: &str, text: &str, photos: &[SharedFile]) -> Result<Shared, String> {
    #[cfg(all(feature = "web", target_arch = "wasm32"))]
    {
        web::sensors::share(title, text, photos).await
    }
    #[cfg(not(all(feature = "web", target_arch = "wasm32")))]
    {
        Err(format!(
            "no share sheet on this platform ({title}, {} bytes, {} photos)",
            text.len(),
            photos.len()
        ))
    }
}

/// Makes the photos chosen in a file input small (orientation applied, long edge at most 1600 px,
/// re-encoded without the original's metadata), ready to store with an observation: in the
/// browser from the input `input_id` with its own decoder, on the desktop from the event's `files`.
pub async fn prepare_photos(
    input_id: &str,
    files: Vec<dioxus::html::FileData>,
) -> Result<Vec<crate::domain::photo::PreparedPhoto>, crate::service::ApiError> {
    #[cfg(all(feature = "web", target_arch = "wasm32"))]
    {
        drop(files);
        web::camera::prepare(input_id).await
    }
    #[cfg(all(feature = "desktop", not(target_arch = "wasm32")))]
    {
        let _ = input_id;
        let mut out = Vec::with_capacity(files.len());
        for f in files {
            let bytes = f
                .read_bytes()
                .await
                .map_err(|e| crate::service::ApiError::new("err.photo.unreadable").detail(e))?;
            out.push(crate::service::photo_prep::prepare(&bytes)?);
        }
        Ok(out)
    }
    #[cfg(not(any(
        all(feature = "web", target_arch = "wasm32"),
        all(feature = "desktop", not(target_arch = "wasm32"))
    )))]
    {
        Err(crate::service::ApiError::new("err.photo.unsupported")
            .detail(format!("{input_id}: {} files", files.len())))
    }
}

/// Reads a QR code from the photo in file input `input_id`; `Err` when the platform cannot.
pub async fn scan_qr(input_id: &str) -> Result<Option<String>, String> {
    #[cfg(all(feature = "web", target_arch = "wasm32"))]
    {
        web::sensors::scan_qr(input_id).await
    }
    #[cfg(not(all(feature = "web", target_arch = "wasm32")))]
    {
        Err(format!("no QR reader on this platform ({input_id})"))
    }
}

/// What the phone's GPS says right now.
#[derive(Debug, Clone, PartialEq)]
pub enum Gps {
    /// No fix yet.
    Waiting,
    /// The latest fix.
    Fix(Fix),
    /// GPS is off, denied or missing, and why (said in the phone's words, never the browser's).
    Unavailable(NoGps),
}

/// Why there is no GPS position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoGps {
    /// The person (or the browser's settings) refused the location.
    Denied,
    /// The phone could not find its position (location off, indoors).
    NotFound,
    /// No position came in time.
    Timeout,
    /// This device or browser has no location at all (the desktop app).
    Missing,
}

impl NoGps {
    /// Every reason.
    pub const ALL: [NoGps; 4] = [
        NoGps::Denied,
        NoGps::NotFound,
        NoGps::Timeout,
        NoGps::Missing,
    ];

    /// The translation key saying it, with what to do.
    pub fn key(self) -> &'static str {
        match self {
            NoGps::Denied => "route.gps_denied",
            NoGps::NotFound => "route.gps_not_found",
            NoGps::Timeout => "route.gps_timeout",
            NoGps::Missing => "route.gps_missing",
        }
    }
}

impl Gps {
    /// The fix, if there is one.
    pub fn fix(&self) -> Option<Fix> {
        match self {
            Gps::Fix(f) => Some(*f),
            _ => None,
        }
    }
}
