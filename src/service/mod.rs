//! The one door into the core: the UI sends a [`Command`] and gets back the new [`AppState`] or an
//! [`ApiError`] whose message is a translation key. The same handler runs in the browser's worker
//! and in the desktop app, so every platform behaves alike.

pub mod api;
pub mod error;
pub mod handle;
pub mod shared;

pub use api::{AppState, Command, Notice, Reply, SyncInfo, Tonight};
pub use error::ApiError;
pub use handle::Service;
