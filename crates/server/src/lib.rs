//! The ward server: serving the PWA, the sync API and the admin commands over an embedded SQLite
//! database. `app` builds it from a typed configuration; `admin` holds the commands a ward's
//! administrator runs; `db` the storage, split by what it holds; `http` the routes, the auth
//! extractor, rate limits, forwarded addresses and the accept loop; `tls` the certificates.

pub mod access;
pub mod admin;
pub mod app;
pub mod audience;
pub mod db;
pub mod error;
pub mod http;
pub mod photo_files;
pub mod push_rules;
pub mod secret;
pub mod tls;
