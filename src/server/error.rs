//! Server errors: each maps to an HTTP status and a stable code, never a 5xx for bad input.

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
    #[error("the enrollment code is {0}")]
    Code(&'static str),
    /// An id names something in another ward or team, or nothing.
    #[error("{0} not found")]
    NotFound(String),
    /// Too many requests from one address.
    #[error("too many requests; try again in a moment")]
    RateLimited,
    /// A domain rule refused the data.
    #[error("{0}")]
    Invalid(String),
    /// The database failed.
    #[error("database error: {0}")]
    Db(#[from] rusqlite::Error),
}

impl ServerError {
    /// A stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            ServerError::BadRequest(_) => "bad_request",
            ServerError::Unauthorized => "unauthorized",
            ServerError::Revoked => "revoked",
            ServerError::Code(_) => "bad_code",
            ServerError::NotFound(_) => "not_found",
            ServerError::RateLimited => "rate_limited",
            ServerError::Invalid(_) => "invalid",
            ServerError::Db(_) => "database",
        }
    }
}
