//! Patrol companion: an offline-first app for people's patrol teams (tổ nhân dân tuần tra).
//!
//! `domain` holds pure rules, `store` the local SQLite database and outbox, `service` the command
//! handler every platform shares, `ui` the Dioxus screens, and `platform` the glue for each target.

/// "Now", from one place the tests can move (crates/clock).
pub use patrol_clock as clock;
/// The rules, in their own crate (crates/domain): no I/O, no platform code.
pub use patrol_domain as domain;
pub mod i18n;
pub mod service;
/// The device database, in its own crate (crates/store).
pub use patrol_store as store;
pub mod sync;
/// What the phone and the ward server exchange, in its own crate (crates/wire).
pub use patrol_wire as wire;

#[cfg(any(feature = "web", feature = "web-store", feature = "desktop"))]
pub mod platform;
#[cfg(any(feature = "web", feature = "desktop"))]
pub mod ui;
