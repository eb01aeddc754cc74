//! Server errors: each maps to an HTTP status and a stable code; bad input is never a 5xx and a
//! fault of the server is never blamed on the client.

use patrol_store::StoreError;
use patrol_wire::api::CodeRefusal;
use patrol_wire::photo::PhotoRefusal;
use patrol_wire::WireError;
use thiserror::Error;

/// Why a request or admin command failed.
#[derive(Debug, Error)]
pub enum ServerError {
    /// The request body or parameters are not acceptable.
    #[error("{0}")]
    BadRequest(String),
    /// No or unknown token.
    #[error("missing or unknown device token")]
    Unauthorized,
    /// The device was revoked.
    #[error("this device was revoked")]
    Revoked,
    /// The enrollment code is unknown, used or expired.
    #[error("the enrollment code is {}", .0.words())]
    Code(CodeRefusal),
    /// The device id is enrolled for another member.
    #[error("this device id is already enrolled for another member")]
    DeviceTaken,
    /// The token's role may not do this (to this team, member or role).
    #[error("{0}")]
    Forbidden(String),
    /// An id names something in another ward or team, or nothing.
    #[error("{0} not found")]
    NotFound(String),
    /// Too many requests from one address or device.
    #[error("too many requests; try again in a moment")]
    RateLimited,
    /// The server is too busy to start this now; nothing was done. Try again after the seconds
    /// given (503 with `Retry-After`).
    #[error("the server is busy; nothing was done, try again in {0} s")]
    Busy(u64),
    /// Too many announcement streams open, for the device or for the server.
    #[error("{0}")]
    TooManyStreams(String),
    /// A request body larger than the limit, once inflated.
    #[error("too large: {0}")]
    TooLarge(String),
    /// The path does not take this method (405, with `Allow`).
    #[error("{0}")]
    MethodNotAllowed(String),
    /// The body's `Content-Encoding` is not one the server reads (415).
    #[error("{0}")]
    UnsupportedEncoding(String),
    /// The request (or its body) took longer than the server waits (408); nothing was done.
    #[error("{0}")]
    Timeout(String),
    /// A photo request refused (docs/api.md "Photos"): the refusal gives the code and the
    /// status, the words say why.
    #[error("{1}")]
    Photo(PhotoRefusal, String),
    /// A domain rule refused the data.
    #[error("{0}")]
    Invalid(String),
    /// The month's allowance sheet is closed: nothing more is marked on it (409).
    #[error("the allowance sheet of {0} is closed")]
    MonthClosed(String),
    /// A stored row does not parse: kept as it is, reported with its table and id.
    #[error("a stored record is damaged: {0}")]
    Corrupt(WireError),
    /// The database failed.
    #[error("database error: {0}")]
    Db(rusqlite::Error),
    /// The server failed (a panic, a stopped worker): never the client's fault.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<rusqlite::Error> for ServerError {
    fn from(e: rusqlite::Error) -> Self {
        match patrol_store::rows::corrupt_row(&e) {
            Some(row) => ServerError::Corrupt(row),
            None => ServerError::Db(e),
        }
    }
}

impl From<WireError> for ServerError {
    fn from(row: WireError) -> Self {
        ServerError::Corrupt(row)
    }
}

impl From<patrol_domain::ward::WardError> for ServerError {
    fn from(e: patrol_domain::ward::WardError) -> Self {
        ServerError::Invalid(e.to_string())
    }
}

impl From<StoreError> for ServerError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Sqlite(e) => e.into(),
            StoreError::CorruptRow(row) => ServerError::Corrupt(row),
            other => ServerError::Invalid(other.to_string()),
        }
    }
}

impl ServerError {
    /// A stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            ServerError::BadRequest(_) => "bad_request",
            ServerError::Unauthorized => "unauthorized",
            ServerError::Revoked => "revoked",
            ServerError::Code(_) => "bad_code",
            ServerError::DeviceTaken => "device_taken",
            ServerError::Forbidden(_) => "forbidden",
            ServerError::NotFound(_) => "not_found",
            ServerError::RateLimited => "rate_limited",
            ServerError::Busy(_) => "busy",
            ServerError::TooManyStreams(_) => "too_many_streams",
            ServerError::TooLarge(_) => "too_large",
            ServerError::MethodNotAllowed(_) => "method_not_allowed",
            ServerError::UnsupportedEncoding(_) => "unsupported_encoding",
            ServerError::Timeout(_) => "timeout",
            ServerError::Photo(refusal, _) => refusal.code(),
            ServerError::Invalid(_) => "invalid",
            ServerError::MonthClosed(_) => "month_closed",
            ServerError::Corrupt(_) => "corrupt",
            ServerError::Db(_) => "database",
            ServerError::Internal(_) => "internal",
        }
    }
}
