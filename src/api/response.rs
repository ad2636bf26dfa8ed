//! From an HTTP reply (status, a few headers, body bytes) to a typed value or an
//! [`ApiError`]. Pure functions, no sockets: the client uses them on live replies and
//! the fixture test on recorded production replies.
//!
//! Production sends errors as JSON (`{"error","code"?,"error_id"?,"retry_after"?}`) or,
//! for 405, malformed-JSON 400s and the generic 429, as a small HTML page; both become
//! the same typed error with the server's text, sanitized.

use std::time::Duration;

use serde::de::DeserializeOwned;

use super::error::ApiError;
use crate::model::sanitize::sanitize_line;
use crate::model::types::ErrorBody;

/// Wait this long after a 429 that says nothing about how long.
pub const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(60);

/// Longest server text kept in an error (pages are cut, not shown whole).
const MAX_TEXT: usize = 300;

/// The parts of an HTTP reply that decoding looks at.
#[derive(Debug, Clone, Copy)]
pub struct Reply<'a> {
    /// HTTP status code.
    pub status: u16,
    /// `Content-Type` header, if any.
    pub content_type: Option<&'a str>,
    /// `Retry-After` header, if any.
    pub retry_after: Option<&'a str>,
    /// The (decompressed) body.
    pub body: &'a [u8],
}

impl Reply<'_> {
    /// 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The JSON error body, when the body is one.
    pub fn error_body(&self) -> Option<ErrorBody> {
        if looks_like_html(self.content_type, self.body) {
            return None;
        }
        serde_json::from_slice::<ErrorBody>(self.body).ok()
    }

    /// True for production's `403 {"code":"CSRF_FAILED"}`: fetch a new token and retry.
    pub fn is_csrf_failure(&self) -> bool {
        self.status == 403 && self.error_body().and_then(|b| b.code).is_some_and(|c| c == "CSRF_FAILED")
    }

    /// The server's human text: the JSON `error`, the HTML page's `<p>` or `<title>`,
    /// or the first line of a plain body; sanitized and shortened.
    pub fn server_text(&self) -> Option<String> {
        let raw = if looks_like_html(self.content_type, self.body) {
            html_text(&String::from_utf8_lossy(self.body))
        } else if let Some(body) = self.error_body() {
            body.error.or(body.code)
        } else {
            let text = String::from_utf8_lossy(self.body);
            text.lines().map(str::trim).find(|l| !l.is_empty()).map(str::to_string)
        }?;
        let clean = shorten(&sanitize_line(&raw));
        (!clean.trim().is_empty()).then_some(clean)
    }

    /// The error this reply stands for (call only when it is not a success).
    pub fn error(&self) -> ApiError {
        let text = || self.server_text().unwrap_or_else(|| reason(self.status).to_string());
        match self.status {
            401 => ApiError::SessionExpired,
            403 => ApiError::Forbidden(text()),
            404 => ApiError::NotFound(text()),
            429 => ApiError::RateLimited { retry_after: self.retry_after_duration() },
            400..=499 => ApiError::Invalid(text()),
            500..=599 => ApiError::Server {
                status: self.status,
                text: text(),
                error_id: self.error_body().and_then(|b| b.error_id).map(|id| shorten(&sanitize_line(&id))),
            },
            s => ApiError::Protocol { detail: format!("unexpected HTTP status {s}") },
        }
    }

    /// For a 429: the body's `retry_after`, else the `Retry-After` header (seconds), else 60 s.
    pub fn retry_after_duration(&self) -> Duration {
        let from_body = self.error_body().and_then(|b| b.retry_after).filter(|s| *s > 0);
        let from_header = self.retry_after.and_then(|h| h.trim().parse::<u64>().ok()).filter(|s| *s > 0);
        match (from_body, from_header) {
            (Some(s), _) => Duration::from_secs(s.unsigned_abs()),
            (None, Some(s)) => Duration::from_secs(s),
            (None, None) => DEFAULT_RETRY_AFTER,
        }
    }

    /// Decode a JSON success body into `T`, or the reply's error.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        if !self.is_success() {
            return Err(self.error());
        }
        serde_json::from_slice::<T>(self.body).map_err(|e| ApiError::Protocol {
            detail: sanitize_line(&format!(
                "status {} with a body that is not the expected JSON: {e}",
                self.status
            )),
        })
    }

    /// A success whose body does not matter (DELETE's 204 with `text/html`), or the error.
    pub fn empty(&self) -> Result<(), ApiError> {
        if self.is_success() {
            Ok(())
        } else {
            Err(self.error())
        }
    }
}

fn looks_like_html(content_type: Option<&str>, body: &[u8]) -> bool {
    if content_type.is_some_and(|ct| ct.to_ascii_lowercase().contains("html")) && !body.is_empty() {
        return true;
    }
    let start = String::from_utf8_lossy(&body[..body.len().min(64)]).trim_start().to_ascii_lowercase();
    start.starts_with("<!doctype html") || start.starts_with("<html")
}

/// Text of the first `<p>`, else the `<title>`, else all text with tags removed.
fn html_text(html: &str) -> Option<String> {
    let pick = |tag: &str| -> Option<String> {
        let lower = html.to_ascii_lowercase();
        let open = format!("<{tag}");
        let start = lower.find(&open)?;
        let after = start + lower[start..].find('>')? + 1;
        let end = lower[after..].find(&format!("</{tag}")).map(|e| after + e).unwrap_or(html.len());
        let text = strip_tags(&html[after..end]);
        (!text.is_empty()).then_some(text)
    };
    pick("p").or_else(|| pick("title")).or_else(|| {
        let text = strip_tags(html);
        (!text.is_empty()).then_some(text)
    })
}

fn strip_tags(fragment: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for ch in fragment.chars() {
        match ch {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    let out = out
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// At most `MAX_TEXT` columns: a server's error text is shown on one line.
fn shorten(text: &str) -> String {
    crate::model::text::truncate(text, MAX_TEXT, false)
}

/// A stand-in text for a status when the server sent none.
pub fn reason(status: u16) -> &'static str {
    match status {
        400 => "Bad request",
        403 => "Forbidden",
        404 => "Not found",
        405 => "Method not allowed",
        413 => "Message too large",
        415 => "Unsupported content type",
        500 => "Internal server error",
        502 => "Bad gateway",
        503 => "Service unavailable",
        504 => "Gateway timeout",
        _ => "Request failed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::types::InboxResponse;

    fn reply<'a>(status: u16, ct: &'a str, body: &'a str) -> Reply<'a> {
        Reply { status, content_type: Some(ct), retry_after: None, body: body.as_bytes() }
    }

    #[test]
    fn json_errors() {
        let r = reply(
            403,
            "application/json",
            r#"{"error":"Users may only reply to clinicians, not initiate contact"}"#,
        );
        assert_eq!(
            r.error(),
            ApiError::Forbidden("Users may only reply to clinicians, not initiate contact".into())
        );
        assert!(!r.is_csrf_failure());
        let r = reply(
            403,
            "application/json",
            r#"{"code":"CSRF_FAILED","error":"CSRF token missing or invalid"}"#,
        );
        assert!(r.is_csrf_failure());
        assert_eq!(reply(401, "application/json", "{}").error(), ApiError::SessionExpired);
        assert_eq!(
            reply(415, "application/json", r#"{"error":"Invalid Content-Type."}"#).error(),
            ApiError::Invalid("Invalid Content-Type.".into())
        );
        let r = reply(
            500,
            "application/json",
            r#"{"code":"INTERNAL_ERROR","error":"An unexpected error occurred. Please try again.","error_id":"d05da737"}"#,
        );
        assert_eq!(
            r.error(),
            ApiError::Server {
                status: 500,
                text: "An unexpected error occurred. Please try again.".into(),
                error_id: Some("d05da737".into())
            }
        );
    }

    #[test]
    fn html_errors() {
        let page = "<!doctype html>\n<html lang=en>\n<title>429 Too Many Requests</title>\n<h1>Too Many Requests</h1>\n<p>50 per 1 hour</p>\n";
        let r = reply(429, "text/html; charset=utf-8", page);
        assert_eq!(r.error(), ApiError::RateLimited { retry_after: DEFAULT_RETRY_AFTER });
        assert_eq!(r.server_text().as_deref(), Some("50 per 1 hour"));
        let r = reply(405, "text/html", "<html><title>405 Method Not Allowed</title></html>");
        assert_eq!(r.error(), ApiError::Invalid("405 Method Not Allowed".into()));
        // Escape sequences from a hostile page never survive.
        let r = reply(400, "text/html", "<p>bad\x1b[2Jthing</p>");
        assert!(!r.server_text().unwrap().contains('\x1b'));
    }

    #[test]
    fn retry_after_sources() {
        let body = r#"{"code":"RATE_LIMITED","error":"Too many requests. Please wait 59 seconds.","retry_after":59}"#;
        assert_eq!(reply(429, "application/json", body).retry_after_duration(), Duration::from_secs(59));
        let r = Reply { status: 429, content_type: None, retry_after: Some("7"), body: b"" };
        assert_eq!(r.error(), ApiError::RateLimited { retry_after: Duration::from_secs(7) });
        let r = Reply { status: 429, content_type: None, retry_after: None, body: b"" };
        assert_eq!(r.retry_after_duration(), DEFAULT_RETRY_AFTER);
    }

    #[test]
    fn success_bodies() {
        let r = reply(200, "application/json", r#"{"conversations":[],"total_unread":"3"}"#);
        assert_eq!(r.json::<InboxResponse>().unwrap().total_unread, 3);
        assert!(matches!(
            reply(200, "application/json", "<html>").json::<InboxResponse>(),
            Err(ApiError::Protocol { .. })
        ));
        assert_eq!(reply(204, "text/html; charset=utf-8", "").empty(), Ok(()));
        assert!(matches!(reply(302, "text/html", "").error(), ApiError::Protocol { .. }));
    }

    #[test]
    fn long_text_is_cut() {
        let long = format!(r#"{{"error":"{}"}}"#, "x".repeat(1000));
        let ApiError::Invalid(text) = reply(400, "application/json", &long).error() else { panic!() };
        assert!(text.chars().count() <= MAX_TEXT + 1);
    }
}

#[cfg(test)]
#[path = "fixture_walk.rs"]
mod fixture_walk;
