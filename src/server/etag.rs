//! The ETag extension: a per-user hash of the JSON body; a matching
//! `If-None-Match` gets 304 with no body.

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::errors::ServerError;

/// The tag for `body` as seen by `user` (quoted, strong).
pub fn tag(user: &str, body: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(user.as_bytes());
    h.update([0]);
    h.update(body);
    format!("\"{}\"", hex::encode(&h.finalize()[..16]))
}

fn matches(if_none_match: &str, etag: &str) -> bool {
    if_none_match.split(',').map(str::trim).any(|t| t == "*" || t.trim_start_matches("W/") == etag)
}

/// A 200 JSON response; with `enabled`, tagged, or 304 when the client's tag matches.
pub fn json_response<T: Serialize>(
    headers: &HeaderMap,
    user: &str,
    value: &T,
    enabled: bool,
) -> Result<Response, ServerError> {
    let body = serde_json::to_vec(value).map_err(|e| ServerError::Internal(format!("serialize: {e}")))?;
    let json = HeaderValue::from_static("application/json");
    if !enabled {
        return Ok(([(header::CONTENT_TYPE, json)], body).into_response());
    }
    let etag = tag(user, &body);
    let etag_value = HeaderValue::from_str(&etag).map_err(|e| ServerError::Internal(format!("etag: {e}")))?;
    let fresh = headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| matches(v, &etag));
    if fresh {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, etag_value)]).into_response());
    }
    Ok(([(header::CONTENT_TYPE, json), (header::ETAG, etag_value)], body).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_differ_per_user_and_match_lists() {
        let a = tag("alex", b"{}");
        assert_ne!(a, tag("sam", b"{}"));
        assert!(matches(&format!("\"x\", W/{a}"), &a));
        assert!(!matches("\"x\"", &a));
        assert!(matches("*", &a));
    }
}
