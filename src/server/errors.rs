//! Every way a request can fail, and the response each one becomes.
//!
//! Texts are the production ones from the contract; a client that understands the
//! reference server's errors understands production's.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::model::types::ErrorBody;

/// A request that did not succeed. Each variant maps to one status and body.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// 400 with `{"error": text}`.
    #[error("{0}")]
    BadRequest(String),
    /// 401 `{"error":"Authentication required"}`: no, unknown or expired session.
    #[error("Authentication required")]
    Unauthenticated,
    /// 401 with a login failure text ("Invalid credentials", "Invalid PIN").
    #[error("{0}")]
    LoginFailed(&'static str),
    /// 403 with `{"error": text}`.
    #[error("{0}")]
    Forbidden(String),
    /// 403 `{"code":"CSRF_FAILED",…}`.
    #[error("CSRF token missing or invalid")]
    Csrf,
    /// 404 with `{"error": text}`.
    #[error("{0}")]
    NotFound(String),
    /// 405 for a known path with the wrong method.
    #[error("Method not allowed")]
    MethodNotAllowed,
    /// 413: body over the 64 KiB limit.
    #[error("Request body too large")]
    PayloadTooLarge,
    /// 415: body is not declared as JSON.
    #[error("Invalid Content-Type. Only application/json is allowed.")]
    UnsupportedMediaType,
    /// 429 on login, JSON with `retry_after`; `header` adds `Retry-After` (reference profile).
    #[error("Too many requests. Please wait {retry_after} seconds.")]
    LoginRateLimited {
        /// Seconds until an attempt is allowed again.
        retry_after: u64,
        /// Whether to send the `Retry-After` header too.
        header: bool,
    },
    /// 429 from the per-route limiter: production's HTML page naming the limit, no `Retry-After`.
    #[error("route limit {0}")]
    RouteLimited(String),
    /// An error as Flask's HTML page (production profile: 405, malformed login JSON).
    #[error("{status}: {text}")]
    HtmlPage {
        /// The status.
        status: StatusCode,
        /// The paragraph of the page.
        text: &'static str,
    },
    /// 500: the database failed. Logged with an id the body repeats.
    #[error("database error: {0}")]
    Db(#[from] rusqlite::Error),
    /// 500: something else inside the server failed.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ServerError {
    /// Shorthand for a 400 with the given text.
    pub fn bad(text: impl Into<String>) -> Self {
        ServerError::BadRequest(text.into())
    }

    /// Shorthand for a 403 with the given text.
    pub fn forbidden(text: impl Into<String>) -> Self {
        ServerError::Forbidden(text.into())
    }

    /// Shorthand for a 404 with the given text.
    pub fn not_found(text: impl Into<String>) -> Self {
        ServerError::NotFound(text.into())
    }
}

fn json(status: StatusCode, body: ErrorBody) -> Response {
    (status, Json(body)).into_response()
}

fn text_body(text: impl Into<String>) -> ErrorBody {
    ErrorBody { error: Some(text.into()), ..ErrorBody::default() }
}

/// Flask's (Werkzeug's) error page, byte for byte as production sends it.
pub fn flask_page(status: StatusCode, text: &str) -> String {
    let reason = status.canonical_reason().unwrap_or("Error");
    format!(
        "<!doctype html>\n<html lang=en>\n<title>{} {reason}</title>\n<h1>{reason}</h1>\n<p>{text}</p>\n",
        status.as_u16()
    )
}

/// Production's Flask-Limiter page (fixture `head/D1-flask-limiter-429.txt`).
pub fn route_limit_page(limit: &str) -> String {
    flask_page(StatusCode::TOO_MANY_REQUESTS, limit)
}

/// Production's 405 page text (fixture `head/B0-method-not-allowed.txt`).
pub const METHOD_NOT_ALLOWED_TEXT: &str = "The method is not allowed for the requested URL.";
/// Production's 400 page text for malformed JSON (fixture `head/C4-login-malformed-json.txt`).
pub const BAD_REQUEST_TEXT: &str =
    "The browser (or proxy) sent a request that this server could not understand.";

fn html(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response()
}

impl IntoResponse for ServerError {
    fn into_response(self) -> Response {
        let text = self.to_string();
        match self {
            ServerError::BadRequest(_) => json(StatusCode::BAD_REQUEST, text_body(text)),
            ServerError::Unauthenticated | ServerError::LoginFailed(_) => {
                json(StatusCode::UNAUTHORIZED, text_body(text))
            }
            ServerError::Forbidden(_) => json(StatusCode::FORBIDDEN, text_body(text)),
            ServerError::Csrf => {
                json(StatusCode::FORBIDDEN, ErrorBody { code: Some("CSRF_FAILED".into()), ..text_body(text) })
            }
            ServerError::NotFound(_) => json(StatusCode::NOT_FOUND, text_body(text)),
            ServerError::MethodNotAllowed => json(StatusCode::METHOD_NOT_ALLOWED, text_body(text)),
            ServerError::PayloadTooLarge => json(StatusCode::PAYLOAD_TOO_LARGE, text_body(text)),
            ServerError::UnsupportedMediaType => json(StatusCode::UNSUPPORTED_MEDIA_TYPE, text_body(text)),
            ServerError::LoginRateLimited { retry_after, header } => {
                let body = ErrorBody {
                    code: Some("RATE_LIMITED".into()),
                    retry_after: i64::try_from(retry_after).ok(),
                    ..text_body(text)
                };
                let mut resp = json(StatusCode::TOO_MANY_REQUESTS, body);
                if header {
                    resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
                }
                resp
            }
            ServerError::RouteLimited(limit) => html(StatusCode::TOO_MANY_REQUESTS, route_limit_page(&limit)),
            ServerError::HtmlPage { status, text } => html(status, flask_page(status, text)),
            ServerError::Db(_) | ServerError::Internal(_) => {
                let error_id = hex::encode(rand::random::<[u8; 4]>());
                tracing::error!(error_id = %error_id, "request failed: {text}");
                json(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    ErrorBody {
                        error: Some("An unexpected error occurred. Please try again.".into()),
                        code: Some("INTERNAL_ERROR".into()),
                        error_id: Some(error_id),
                        retry_after: None,
                    },
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limiter_page_matches_production_length() {
        // The fixture's body is 116 bytes for "50 per 1 hour".
        assert_eq!(route_limit_page("50 per 1 hour").len(), 116);
        // head/B0 and head/C4 give 153 and 167 bytes.
        assert_eq!(flask_page(StatusCode::METHOD_NOT_ALLOWED, METHOD_NOT_ALLOWED_TEXT).len(), 153);
        assert_eq!(flask_page(StatusCode::BAD_REQUEST, BAD_REQUEST_TEXT).len(), 167);
    }
}
