//! The core's face to the UI: the UI sends a [`Command`] through the one door
//! ([`door::handle`]) and gets back what changed ([`Change`]) or an [`ApiError`] whose message is a
//! translation key. The same door runs in the browser's worker and in the desktop app.

pub mod api;
pub mod door;
pub mod error;
pub mod handle;
/// Photos made small with the `image` crate, where the browser's canvas is not there (desktop).
#[cfg(all(not(target_arch = "wasm32"), any(feature = "desktop", test)))]
pub mod photo_prep;
pub mod report_tables;
pub mod share;

pub use api::{AppState, Change, Command, Local, Notice, Reply, SyncInfo, Tonight};
pub use error::ApiError;
pub use handle::Service;
