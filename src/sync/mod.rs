//! Sync between a device and its ward server: the engine (push, then pull), when it runs, and the
//! native transport. The bodies both sides share live in [`crate::wire`].

pub mod engine;
#[cfg(not(target_arch = "wasm32"))]
pub mod http;
pub mod schedule;
