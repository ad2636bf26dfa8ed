//! Sessions, CSRF and login.
//!
//! The session is a random 256-bit token in the `session` cookie; the server keeps
//! only its SHA-256. The CSRF token is derived from the session token (SHA-256 of a
//! domain tag and the token), so it is tied to the session, changes when the session
//! rotates, and needs no storage. Passwords and PINs are argon2id hashes.

use std::net::SocketAddr;
use std::sync::OnceLock;

use argon2::password_hash::SaltString;
use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{Duration as ChronoDuration, TimeZone, Utc};
use rusqlite::OptionalExtension;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::db::now_secs;
use super::errors::ServerError;
use super::extract::JsonBody;
use super::state::AppState;
use crate::model::time::format_rfc1123;
use crate::model::types::{AuthStatus, CsrfTokenResponse, LoginRequest, LoginResponse, SuccessResponse};

/// Session cookie name (as production).
pub const COOKIE: &str = "session";
/// Session lifetime without `remember_me`.
pub const SESSION_DAYS: i64 = 7;
/// Session lifetime with `remember_me`.
pub const REMEMBER_DAYS: i64 = 30;

/// Hash a password or PIN with argon2id (OWASP default parameters).
pub fn hash_secret(secret: &str) -> Result<String, ServerError> {
    let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>())
        .map_err(|e| ServerError::Internal(format!("salt: {e}")))?;
    Argon2::default()
        .hash_password(secret.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ServerError::Internal(format!("hash: {e}")))
}

/// Check a secret against a stored argon2 hash (argon2 compares in constant time).
pub fn verify_secret(secret: &str, stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|h| Argon2::default().verify_password(secret.as_bytes(), &h).is_ok())
}

/// A hash to verify against for unknown users, so their logins take as long as real ones.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash_secret(&hex::encode(rand::random::<[u8; 16]>())).unwrap_or_default())
}

fn sha256_hex(parts: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    hex::encode(h.finalize())
}

/// What the server stores for a session token.
pub fn token_hash(token: &str) -> String {
    sha256_hex(&[b"session:", token.as_bytes()])
}

/// The CSRF token belonging to a session token (64 hex, as production's).
pub fn csrf_for(token: &str) -> String {
    sha256_hex(&[b"csrf:", token.as_bytes()])
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The `session` cookie's value, from any `Cookie` header.
pub fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, value)| *name == COOKIE && !value.is_empty())
        .map(|(_, value)| value.trim_matches('"').to_string())
}

/// The user behind a valid session. As an extractor it also enforces CSRF on
/// every method that changes state.
#[derive(Clone, Debug)]
pub struct AuthUser {
    /// users.id
    pub id: i64,
    /// Account name.
    pub username: String,
    /// `user` or `clinician`.
    pub role: String,
}

/// Look a session token up; `None` when unknown or expired.
pub async fn lookup_session(state: &AppState, token: &str) -> Result<Option<AuthUser>, ServerError> {
    let hash = token_hash(token);
    state
        .db
        .call(move |c| {
            Ok(c.query_row(
                "SELECT u.id, u.username, u.role FROM sessions s JOIN users u ON u.id = s.user_id
                 WHERE s.token_hash = ?1 AND s.expires_at > ?2",
                rusqlite::params![hash, now_secs()],
                |r| Ok(AuthUser { id: r.get(0)?, username: r.get(1)?, role: r.get(2)? }),
            )
            .optional()?)
        })
        .await
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ServerError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = session_cookie(&parts.headers).ok_or(ServerError::Unauthenticated)?;
        let user = lookup_session(state, &token).await?.ok_or(ServerError::Unauthenticated)?;
        if !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS) {
            let sent = parts.headers.get("x-csrf-token").and_then(|v| v.to_str().ok()).unwrap_or("");
            if !constant_time_eq(sent.trim().as_bytes(), csrf_for(&token).as_bytes()) {
                return Err(ServerError::Csrf);
            }
        }
        Ok(user)
    }
}

struct LoginRow {
    id: i64,
    username: String,
    password_hash: String,
    pin_hash: String,
    role: String,
    clinician: Option<String>,
    approval_status: String,
}

fn session_cookie_header(token: &str, expires: i64, secure: bool) -> Option<HeaderValue> {
    let when = Utc.timestamp_opt(expires, 0).single()?;
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{COOKIE}={token}; Expires={}; HttpOnly; Path=/; SameSite=Lax{secure}",
        format_rfc1123(when)
    ))
    .ok()
}

fn clear_cookie_header(secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{COOKIE}=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; HttpOnly; Path=/; SameSite=Lax{secure}"
    ))
    .unwrap_or(HeaderValue::from_static("session=; Max-Age=0; Path=/"))
}

/// `POST /api/auth/login`.
pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<JsonBody<LoginRequest>, ServerError>,
) -> Result<Response, ServerError> {
    let mut req = match body {
        Ok(JsonBody(req)) => req,
        // Production's login answers malformed JSON with Flask's HTML 400 page.
        Err(ServerError::BadRequest(_)) if state.settings.profile == super::Profile::Production => {
            return Err(ServerError::HtmlPage {
                status: axum::http::StatusCode::BAD_REQUEST,
                text: super::errors::BAD_REQUEST_TEXT,
            });
        }
        Err(e) => return Err(e),
    };
    let ip = peer.ip();
    let username = req.username.trim().to_string();
    // Secrets are wiped from memory when these drop.
    let password = Zeroizing::new(std::mem::take(&mut req.password));
    let pin = Zeroizing::new(std::mem::take(&mut req.pin));
    if let Err(wait) = state.login_limiter.check(&username, ip) {
        return Err(ServerError::LoginRateLimited {
            retry_after: wait,
            header: state.settings.retry_after_header(),
        });
    }
    if username.is_empty() || password.is_empty() {
        return Err(ServerError::bad("Username and password required"));
    }
    if pin.is_empty() {
        return Err(ServerError::bad("PIN required for 2FA authentication"));
    }
    let name = username.clone();
    let row = state
        .db
        .call(move |c| {
            Ok(c.query_row(
                "SELECT id, username, password_hash, pin_hash, role, clinician, approval_status
                 FROM users WHERE username = ?1",
                [name],
                |r| {
                    Ok(LoginRow {
                        id: r.get(0)?,
                        username: r.get(1)?,
                        password_hash: r.get(2)?,
                        pin_hash: r.get(3)?,
                        role: r.get(4)?,
                        clinician: r.get(5)?,
                        approval_status: r.get(6)?,
                    })
                },
            )
            .optional()?)
        })
        .await?;
    // Argon2 is deliberately slow; keep it off the async workers.
    let (row, verdict) = tokio::task::spawn_blocking(move || {
        let verdict = match &row {
            None => {
                verify_secret(&password, dummy_hash());
                Err(ServerError::LoginFailed("Invalid credentials"))
            }
            Some(u) if !verify_secret(&password, &u.password_hash) => {
                Err(ServerError::LoginFailed("Invalid credentials"))
            }
            Some(u) if !verify_secret(&pin, &u.pin_hash) => Err(ServerError::LoginFailed("Invalid PIN")),
            Some(_) => Ok(()),
        };
        (row, verdict)
    })
    .await
    .map_err(|e| ServerError::Internal(format!("login task: {e}")))?;
    if let Err(e) = verdict {
        state.login_limiter.failed(&username, ip);
        tracing::info!(username = %crate::model::sanitize::sanitize_line(&username), "login refused");
        return Err(e);
    }
    let Some(user) = row else { return Err(ServerError::LoginFailed("Invalid credentials")) };

    let token = hex::encode(rand::random::<[u8; 32]>());
    let days = if req.remember_me == Some(true) { REMEMBER_DAYS } else { SESSION_DAYS };
    let now = now_secs();
    let expires = now + ChronoDuration::days(days).num_seconds();
    let new_hash = token_hash(&token);
    let old_hash = session_cookie(&headers).map(|t| token_hash(&t));
    let user_id = user.id;
    state
        .db
        .call(move |c| {
            let tx = c.transaction()?;
            // Rotation: the session the request came with (if any) ends here.
            if let Some(old) = old_hash {
                tx.execute("DELETE FROM sessions WHERE token_hash = ?1", [old])?;
            }
            tx.execute("DELETE FROM sessions WHERE expires_at <= ?1", [now])?;
            tx.execute(
                "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
                rusqlite::params![new_hash, user_id, now, expires],
            )?;
            tx.commit()?;
            Ok(())
        })
        .await?;
    tracing::info!(username = %crate::model::sanitize::sanitize_line(&user.username), "login");
    let body = LoginResponse {
        success: true,
        message: "Login successful".into(),
        username: user.username,
        role: user.role,
        approval_status: Some(user.approval_status),
        clinician_id: user.clinician.clone(),
        clinician_name: user.clinician,
        disclaimer_accepted: true,
        csrf_token: csrf_for(&token),
    };
    let mut resp = Json(body).into_response();
    if let Some(cookie) = session_cookie_header(&token, expires, state.settings.secure_cookie()) {
        resp.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    Ok(resp)
}

/// `POST /api/auth/logout`: ends the session and clears the cookie.
pub async fn logout(
    State(state): State<AppState>,
    _user: AuthUser,
    headers: HeaderMap,
) -> Result<Response, ServerError> {
    if let Some(token) = session_cookie(&headers) {
        let hash = token_hash(&token);
        state.db.call(move |c| Ok(c.execute("DELETE FROM sessions WHERE token_hash = ?1", [hash])?)).await?;
    }
    let mut resp =
        Json(SuccessResponse { success: true, message: "Logged out successfully".into() }).into_response();
    resp.headers_mut().insert(header::SET_COOKIE, clear_cookie_header(state.settings.secure_cookie()));
    Ok(resp)
}

/// `GET /api/auth/status`: never 401.
pub async fn status(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<AuthStatus>, ServerError> {
    let token = session_cookie(&headers);
    let user = match &token {
        Some(t) => lookup_session(&state, t).await?,
        None => None,
    };
    Ok(Json(AuthStatus {
        authenticated: user.is_some(),
        username: user.as_ref().map(|u| u.username.clone()),
        role: user.map(|u| u.role),
        session_exists: token.is_some(),
        debug_mode: false,
    }))
}

/// `GET /api/csrf-token`: this session's token; without a session, a random one
/// (as production answers), which no state-changing request will accept.
pub async fn csrf_token(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<CsrfTokenResponse>, ServerError> {
    let token = match session_cookie(&headers) {
        Some(t) if lookup_session(&state, &t).await?.is_some() => csrf_for(&t),
        _ => hex::encode(rand::random::<[u8; 32]>()),
    };
    Ok(Json(CsrfTokenResponse { csrf_token: token }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_differ() {
        let a = hash_secret("1234").unwrap();
        let b = hash_secret("1234").unwrap();
        assert_ne!(a, b, "salted");
        assert!(verify_secret("1234", &a));
        assert!(!verify_secret("1235", &a));
        assert!(!verify_secret("1234", "not a hash"));
    }

    #[test]
    fn csrf_is_64_hex_and_tied_to_token() {
        let t = csrf_for("abc");
        assert_eq!(t.len(), 64);
        assert!(t.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(t, csrf_for("abd"));
        assert_ne!(token_hash("abc"), csrf_for("abc"));
    }

    #[test]
    fn finds_session_cookie_among_others() {
        let mut h = HeaderMap::new();
        h.append(header::COOKIE, HeaderValue::from_static("theme=dark; session=tok123; x=y"));
        assert_eq!(session_cookie(&h).as_deref(), Some("tok123"));
        let mut h = HeaderMap::new();
        h.append(header::COOKIE, HeaderValue::from_static("session="));
        assert_eq!(session_cookie(&h), None);
    }
}
