//! Request extractors with the contract's error answers: JSON bodies (415 when not
//! declared as JSON, 400 when malformed, 413 when too large) and query strings that
//! never fail (bad values fall back to defaults in the handlers).

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{header, StatusCode};
use serde::de::DeserializeOwned;

use super::errors::ServerError;

/// Request body limit (64 KiB).
pub const BODY_LIMIT: usize = 64 * 1024;

/// A JSON request body, checked the way the contract wants.
pub struct JsonBody<T>(pub T);

fn is_json(req: &Request) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"))
}

impl<S, T> FromRequest<S> for JsonBody<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ServerError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(&req) {
            return Err(ServerError::UnsupportedMediaType);
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ServerError::PayloadTooLarge
            } else {
                ServerError::bad("Could not read request body")
            }
        })?;
        // Only an object is a valid body; `null`, arrays and scalars are malformed here.
        match serde_json::from_slice::<serde_json::Value>(&bytes) {
            Ok(serde_json::Value::Object(_)) => {}
            _ => return Err(ServerError::bad("Invalid JSON body")),
        }
        serde_json::from_slice(&bytes).map(JsonBody).map_err(|_| ServerError::bad("Invalid JSON body"))
    }
}

/// Parse a raw query string into its last value per name; never fails.
pub fn query_map(raw: Option<&str>) -> HashMap<String, String> {
    url::form_urlencoded::parse(raw.unwrap_or("").as_bytes()).into_owned().collect()
}

/// A whole number parameter, `None` when absent or not a number.
pub fn int_param(map: &HashMap<String, String>, name: &str) -> Option<i64> {
    map.get(name).and_then(|v| v.trim().parse::<i64>().ok())
}

/// A boolean parameter the way Flask apps read them ("true", "1", "yes").
pub fn bool_param(map: &HashMap<String, String>, name: &str) -> bool {
    map.get(name)
        .is_some_and(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "true" | "1" | "yes" | "on"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_never_fails() {
        let m = query_map(Some("page=abc&limit=%ZZ&unread_only=TRUE&x"));
        assert_eq!(int_param(&m, "page"), None);
        assert_eq!(int_param(&m, "limit"), None);
        assert!(bool_param(&m, "unread_only"));
        assert!(!bool_param(&m, "missing"));
        assert!(query_map(None).is_empty());
    }
}
