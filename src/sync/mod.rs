//! Sync between a device and its ward server: the wire protocol both sides share.

pub mod engine;
#[cfg(not(target_arch = "wasm32"))]
pub mod http;
pub mod protocol;
