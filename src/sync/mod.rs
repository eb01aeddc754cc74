//! Sync between a device and its ward server: the wire protocol both sides share.

pub mod protocol;
