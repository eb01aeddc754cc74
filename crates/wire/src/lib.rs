//! What the phone and the ward server exchange: events and their kinds, the API v1 bodies, and the
//! feed. The store, the sync engine and the server all import these types from here, and a value
//! that does not parse is refused with the record's id, never mapped to a default.

pub mod api;
pub mod event;
pub mod feed;
pub mod photo;
pub mod team;
pub mod ymd;

use thiserror::Error;

/// A value from the wire or from a stored row that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{what} {id}: {detail}")]
pub struct WireError {
    /// What it is: "event", "feed item", "setup".
    pub what: &'static str,
    /// Its id (an event id, a cursor).
    pub id: String,
    /// What is wrong with it.
    pub detail: String,
}

impl WireError {
    /// A value named `what` with id `id` that does not parse, and why.
    pub fn new(what: &'static str, id: impl ToString, detail: impl ToString) -> Self {
        WireError {
            what,
            id: id.to_string(),
            detail: detail.to_string(),
        }
    }
}
