//! The ward server: one binary (src/bin/ward-server.rs) serving the PWA, the sync API and the
//! admin commands, over an embedded SQLite database.

pub mod db;
pub mod error;
pub mod http;
pub mod import;
pub mod secret;
