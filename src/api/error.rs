//! What can go wrong talking to a Healing Space server, as types a caller can act on,
//! each with a one-line message for people. Server texts are sanitized on the way in.

use std::time::Duration;

use thiserror::Error;

/// An API call's failure.
#[derive(Debug, Clone, Error, PartialEq)]
pub enum ApiError {
    /// Could not reach the server (connect, DNS, timeout, connection dropped).
    #[error("offline: cannot reach the server ({0})")]
    Offline(String),
    /// 401: the session is missing or expired; log in again.
    #[error("session expired: please log in again")]
    SessionExpired,
    /// 403 with the server's reason (e.g. the role rule).
    #[error("refused by the server: {0}")]
    Forbidden(String),
    /// 404 (the text is the server's, when it sent one).
    #[error("not found: {0}")]
    NotFound(String),
    /// 400/415/413: the request was not acceptable, with the server's reason.
    #[error("{0}")]
    Invalid(String),
    /// 429: wait before trying again.
    #[error("rate-limited by the server: try again in {}s", retry_after.as_secs())]
    RateLimited {
        /// From the body's `retry_after`, the `Retry-After` header, or 60 s.
        retry_after: Duration,
    },
    /// 5xx, with the server's text and the `error_id` to quote, when given.
    #[error("server error {status}: {text}{}", error_id.as_deref().map(|id| format!(" (error id {id})")).unwrap_or_default())]
    Server {
        /// HTTP status.
        status: u16,
        /// The server's text, or a stand-in.
        text: String,
        /// Production's `error_id`, for support.
        error_id: Option<String>,
    },
    /// The response could not be understood.
    #[error("unexpected reply from the server: {detail}")]
    Protocol {
        /// What was wrong (never contains secrets).
        detail: String,
    },
}

impl ApiError {
    /// True for failures where retrying later may succeed without user action.
    pub fn is_transient(&self) -> bool {
        matches!(self, ApiError::Offline(_) | ApiError::RateLimited { .. } | ApiError::Server { .. })
    }

    /// True for a permanent refusal of this request (4xx other than 401/429).
    pub fn is_refusal(&self) -> bool {
        matches!(self, ApiError::Forbidden(_) | ApiError::NotFound(_) | ApiError::Invalid(_))
    }
}
