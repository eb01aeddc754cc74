//! The core's face to the UI: the UI sends a [`Command`] through the one door
//! ([`door::handle`]) and gets back what changed ([`Change`]) or an [`ApiError`] whose message is a
//! translation key. The same door runs in the browser's worker and in the desktop app.

pub mod api;
pub mod door;
pub mod error;
pub mod handle;
pub mod report_tables;
pub mod share;

pub use api::{AppState, Change, Command, Local, Notice, Reply, SyncInfo, Tonight};
pub use error::ApiError;
pub use handle::Service;
