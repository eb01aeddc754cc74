//! Patrol companion: an offline-first app for people's patrol teams (tổ nhân dân tuần tra).
//!
//! `domain` holds pure rules, `store` the local SQLite database and outbox, `service` the command
//! handler every platform shares, `ui` the Dioxus screens, and `platform` the glue for each target.

pub mod clock;
pub mod domain;
pub mod i18n;
#[cfg(not(target_arch = "wasm32"))]
pub mod server;
pub mod service;
pub mod store;
pub mod sync;
pub mod wire;

#[cfg(any(feature = "web", feature = "web-store", feature = "desktop"))]
pub mod platform;
#[cfg(any(feature = "web", feature = "desktop"))]
pub mod ui;
