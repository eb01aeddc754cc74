//! Messages between the UI thread and the store's worker, as JSON strings.
//!
//! Their enums (and those they carry: `Command`, `Local`, `Change`, `i18n::Arg`) are externally
//! tagged, serde's default: an internally or adjacently tagged enum is read through a buffered
//! copy, which compiles every type inside it a second time (124 KB of the phone's wasm). Page and
//! worker always come from the same build, so this shape is never stored nor sent to a server.

use crate::service::{ApiError, Change, Command, Reply};
use serde::{Deserialize, Serialize};

/// A command from the UI, with the id its reply will carry.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Request {
    /// Matches the reply to the call.
    pub id: u64,
    /// What to do.
    pub cmd: Command,
}

/// Why the store could not start; the UI shows a screen for each.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StartError {
    /// The browser has no OPFS sync access handles (old browser, private mode, no secure context).
    Unsupported {
        /// The browser's words.
        detail: String,
    },
    /// The page is not a secure context (http:// on an address other than localhost): browsers
    /// then allow no durable storage, service worker or location, whatever the browser.
    Insecure {
        /// The address the page was opened at.
        origin: String,
    },
    /// Another tab of the app holds the database.
    OtherTab,
    /// The store's own code could not be downloaded (the server answered with an error) or did
    /// not compile; assets/web/worker.js sends it. A lost connection is tried again instead.
    Download {
        /// What failed, in the browser's words.
        detail: String,
    },
    /// The database could not be opened (damaged, too new...).
    Store {
        /// The translated-key error.
        error: ApiError,
    },
}

/// A message from the worker.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Response {
    /// The database is open; commands may be sent. `first` is the answer to the UI's first
    /// `Local::State`, read by the worker while the page builds its screens (see client.rs).
    Ready {
        /// The store's state as it was opened.
        first: Reply,
    },
    /// The database could not be opened; the worker takes no commands.
    Fatal {
        /// Why.
        error: StartError,
    },
    /// Fresh state after a background sync round.
    Update {
        /// What changed.
        change: Change,
    },
    /// The answer to request `id`.
    Reply {
        /// The request's id.
        id: u64,
        /// The answer.
        reply: Reply,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    /// assets/web/worker.js writes this message by hand when the store's module cannot load: it
    /// must read as the fatal answer the page shows.
    #[test]
    fn the_workers_download_failure_reads_as_fatal() {
        let text = r#"{"fatal":{"error":{"download":{"detail":"HTTP 404"}}}}"#;
        let worker_js = include_str!("../../assets/web/worker.js");
        assert!(
            worker_js.contains("JSON.stringify({ fatal: { error: { download: { detail:"),
            "worker.js writes the same shape"
        );
        match serde_json::from_str::<Response>(text) {
            Ok(Response::Fatal {
                error: StartError::Download { detail },
            }) => assert_eq!(detail, "HTTP 404"),
            other => panic!("read as {other:?}"),
        }
    }
}
