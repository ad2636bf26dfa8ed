//! The typed Healing Space client: one `reqwest` client, our own cookie jar, the CSRF
//! token, and one method per endpoint. Cheap to clone (an `Arc` inside).
//!
//! Rules it keeps (see `shared/docs/healing-space-api.md`):
//! - after login it fetches `GET /api/csrf-token` and sends that token as `X-CSRF-Token`
//!   on every POST/PATCH/DELETE; a `403 CSRF_FAILED` gets one fresh token and one retry;
//! - cookies go only to the host that set them; Secure cookies also to loopback over http;
//! - redirects are never followed (a redirect must not carry the session elsewhere);
//! - plain `http://` is refused for non-loopback hosts unless `allow_http`.
//!
//! Logs carry method, path and status only: never headers, bodies, cookies or tokens.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde::Serialize;
use url::Url;

use super::cookies::{is_loopback, Jar};
use super::error::ApiError;
use super::response::Reply;
use crate::model::lock::lock;
use crate::model::sanitize::sanitize_line;
use crate::model::session::Session;
use crate::model::types::*;

/// How the client connects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientOptions {
    /// Allow plain `http://` to a host that is not loopback.
    pub allow_http: bool,
    /// An extra PEM root certificate to trust.
    pub ca_cert: Option<PathBuf>,
    /// TCP + TLS connect timeout.
    pub connect_timeout: Duration,
    /// Whole-request timeout.
    pub request_timeout: Duration,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            allow_http: false,
            ca_cert: None,
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
        }
    }
}

impl ClientOptions {
    /// Options from the global flags (`--allow-http`, `--ca-cert`), default timeouts.
    pub fn from_global(global: &crate::config::GlobalFlags) -> ClientOptions {
        ClientOptions {
            allow_http: global.allow_http,
            ca_cert: global.ca_cert.clone(),
            ..ClientOptions::default()
        }
    }
}

/// A conditional GET's outcome: a fresh value (with the server's ETag, if it sent one)
/// or "not modified" (304, the caller's copy is current).
#[derive(Debug, Clone, PartialEq)]
pub enum Fetched<T> {
    /// A new body.
    Fresh {
        /// The decoded body.
        value: T,
        /// The `ETag` to send as `If-None-Match` next time.
        etag: Option<String>,
    },
    /// 304: nothing changed since the ETag given.
    NotModified,
}

/// The client. Clones share the connection pool, cookies and CSRF token.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the cookies or the token.
        f.debug_struct("Client")
            .field("server", &self.inner.base.as_str())
            .field("username", &self.username())
            .finish_non_exhaustive()
    }
}

struct Inner {
    http: reqwest::Client,
    base: Url,
    jar: Arc<Jar>,
    csrf: Mutex<Option<String>>,
    who: Mutex<Option<(String, String)>>,
    last_error_text: Mutex<Option<String>>,
}

/// A reply read whole: status, the headers we use, the body.
struct Raw {
    status: u16,
    content_type: Option<String>,
    retry_after: Option<String>,
    etag: Option<String>,
    body: Vec<u8>,
}

impl Raw {
    fn reply(&self) -> Reply<'_> {
        Reply {
            status: self.status,
            content_type: self.content_type.as_deref(),
            retry_after: self.retry_after.as_deref(),
            body: &self.body,
        }
    }
}

static HTTP_WARNED: AtomicBool = AtomicBool::new(false);

/// Parse and check a server URL: http(s) only, a host, no credentials; plain http only
/// to loopback unless `allow_http` (then a warning on stderr, once per process).
pub fn parse_server_url(server: &str, allow_http: bool) -> Result<Url, ApiError> {
    let bad = |why: &str| ApiError::Invalid(sanitize_line(&format!("bad server URL {server:?}: {why}")));
    let mut url = Url::parse(server.trim()).map_err(|e| bad(&e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad("use http:// or https://"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("credentials do not belong in the URL"));
    }
    if url.scheme() == "http" && !is_loopback(&url) {
        if !allow_http {
            return Err(ApiError::Invalid(sanitize_line(&format!(
                "refusing plain http:// to {}: your password would cross the network unencrypted; \
                 use https:// or pass --allow-http",
                url.host_str().unwrap_or_default()
            ))));
        }
        if !HTTP_WARNED.swap(true, Ordering::Relaxed) {
            eprintln!(
                "healing-tui: warning: using plain http:// to {}; passwords and messages are not encrypted",
                sanitize_line(url.host_str().unwrap_or_default())
            );
        }
    }
    url.set_query(None);
    url.set_fragment(None);
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

/// The short reason of a transport failure (innermost cause), for `ApiError::Offline`.
fn describe(err: &reqwest::Error) -> String {
    let mut cause: &dyn std::error::Error = err;
    while let Some(next) = cause.source() {
        cause = next;
    }
    let what = if err.is_timeout() { "timed out".to_string() } else { cause.to_string() };
    sanitize_line(&what)
}

impl Client {
    /// A client for `server` (not logged in).
    pub fn new(server: &str, opts: &ClientOptions) -> Result<Client, ApiError> {
        Client::with_jar(server, opts, Jar::new())
    }

    /// A client resuming a saved session (cookies, CSRF token, who).
    pub fn from_session(session: &Session, opts: &ClientOptions) -> Result<Client, ApiError> {
        let client = Client::with_jar(&session.server, opts, Jar::with_cookies(session.cookies.clone()))?;
        *lock(&client.inner.csrf) = session.csrf_token.clone();
        if !session.username.is_empty() {
            *lock(&client.inner.who) = Some((session.username.clone(), session.role.clone()));
        }
        Ok(client)
    }

    fn with_jar(server: &str, opts: &ClientOptions, jar: Jar) -> Result<Client, ApiError> {
        let base = parse_server_url(server, opts.allow_http)?;
        let jar = Arc::new(jar);
        let mut builder = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(opts.connect_timeout)
            .timeout(opts.request_timeout)
            .user_agent(concat!("healing-tui/", env!("CARGO_PKG_VERSION")));
        if base.scheme() == "http" {
            // No TLS on this server (redirects are not followed): the system's root
            // certificates would only take memory.
            builder = builder.tls_built_in_root_certs(false);
        }
        if let Some(path) = &opts.ca_cert {
            for cert in load_ca(path)? {
                builder = builder.add_root_certificate(cert);
            }
        }
        let http = builder.build().map_err(|e| {
            let ca = opts.ca_cert.as_ref().map(|p| format!(" with CA certificate {}", p.display()));
            ApiError::Invalid(sanitize_line(&format!("cannot set up HTTPS{}: {e}", ca.unwrap_or_default())))
        })?;
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                base,
                jar,
                csrf: Mutex::new(None),
                who: Mutex::new(None),
                last_error_text: Mutex::new(None),
            }),
        })
    }

    /// The current login as a [`Session`] to persist (cookies + CSRF token + who).
    pub fn session(&self) -> Session {
        let (username, role) = lock(&self.inner.who).clone().unwrap_or_default();
        Session {
            server: self.inner.base.to_string(),
            username,
            role,
            cookies: self.inner.jar.snapshot(),
            csrf_token: lock(&self.inner.csrf).clone(),
            saved_at: None,
        }
    }

    /// Since when the session (cookies or token) changed without being saved.
    pub fn session_dirty_since(&self) -> Option<Instant> {
        self.inner.jar.dirty_since()
    }

    /// Record that [`Client::session`] was persisted.
    pub fn mark_session_saved(&self) {
        self.inner.jar.mark_saved();
    }

    /// The server's base URL (always ends with `/`).
    pub fn server_url(&self) -> &Url {
        &self.inner.base
    }

    /// Who is logged in, if known.
    pub fn username(&self) -> Option<String> {
        lock(&self.inner.who).as_ref().map(|(u, _)| u.clone())
    }

    /// The logged-in user's role as the server names it (`user`, `clinician`, …).
    pub fn role(&self) -> Option<String> {
        lock(&self.inner.who).as_ref().map(|(_, r)| r.clone())
    }

    /// The server's own text for the most recent failed request (e.g. "Too many
    /// requests. Please wait 60 seconds." for a 429), for callers that show it.
    /// Shared by clones, so it is only meaningful right after the failing call.
    pub fn last_error_text(&self) -> Option<String> {
        lock(&self.inner.last_error_text).clone()
    }

    fn url(&self, path: &str) -> Result<Url, ApiError> {
        self.inner
            .base
            .join(path)
            .map_err(|e| ApiError::Protocol { detail: format!("cannot build URL for {path}: {e}") })
    }

    fn url_with_segment(&self, prefix: &str, segment: &str, suffix: Option<&str>) -> Result<Url, ApiError> {
        let mut url = self.url(prefix)?;
        {
            let mut segs = url
                .path_segments_mut()
                .map_err(|_| ApiError::Protocol { detail: "server URL cannot have a path".into() })?;
            segs.pop_if_empty().push(segment);
            if let Some(s) = suffix {
                segs.push(s);
            }
        }
        Ok(url)
    }

    /// One request, read whole. Mutating methods carry the CSRF token; a 403 CSRF_FAILED
    /// fetches a fresh token and retries once.
    async fn exchange(
        &self,
        method: Method,
        url: Url,
        json: Option<Vec<u8>>,
        headers: &[(&'static str, String)],
    ) -> Result<Raw, ApiError> {
        let mutating = method != Method::GET && method != Method::HEAD;
        let mut raw =
            self.exchange_once(method.clone(), url.clone(), json.clone(), headers, mutating).await?;
        if mutating && raw.reply().is_csrf_failure() {
            tracing::debug!(path = url.path(), "CSRF token refused; fetching a fresh one");
            self.refresh_csrf().await?;
            raw = self.exchange_once(method, url, json, headers, mutating).await?;
        }
        if raw.reply().is_success() || raw.status == 304 {
            *lock(&self.inner.last_error_text) = None;
        } else {
            *lock(&self.inner.last_error_text) = raw.reply().server_text();
        }
        Ok(raw)
    }

    async fn exchange_once(
        &self,
        method: Method,
        url: Url,
        json: Option<Vec<u8>>,
        headers: &[(&'static str, String)],
        with_csrf: bool,
    ) -> Result<Raw, ApiError> {
        let path = url.path().to_string();
        let mut req = self.inner.http.request(method.clone(), url).header("Accept", "application/json");
        if let Some(body) = json {
            req = req.header("Content-Type", "application/json").body(body);
        }
        if with_csrf {
            if let Some(token) = lock(&self.inner.csrf).clone() {
                req = req.header("X-CSRF-Token", token);
            }
        }
        for (name, value) in headers {
            req = req.header(*name, value);
        }
        let resp = match req.send().await {
            Ok(resp) => resp,
            Err(e) => {
                let why = describe(&e);
                tracing::info!(%method, path, error = %why, "request failed");
                return Err(ApiError::Offline(why));
            }
        };
        let status = resp.status().as_u16();
        let header =
            |name: &str| resp.headers().get(name).and_then(|v| v.to_str().ok()).map(|s| s.to_string());
        let (content_type, retry_after, etag, location) =
            (header("content-type"), header("retry-after"), header("etag"), header("location"));
        let body = resp.bytes().await.map_err(|e| ApiError::Offline(describe(&e)))?.to_vec();
        tracing::debug!(%method, path, status, bytes = body.len(), "api");
        if (300..400).contains(&status) && status != 304 {
            let to = location.as_deref().map(sanitize_line).unwrap_or_default();
            return Err(ApiError::Protocol {
                detail: format!("the server redirected ({status}) to {to:?}; use that address with --server"),
            });
        }
        Ok(Raw { status, content_type, retry_after, etag, body })
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, url: Url) -> Result<T, ApiError> {
        self.exchange(Method::GET, url, None, &[]).await?.reply().json()
    }

    async fn send_json<B: Serialize, T: serde::de::DeserializeOwned>(
        &self,
        method: Method,
        url: Url,
        body: &B,
        headers: &[(&'static str, String)],
    ) -> Result<T, ApiError> {
        let bytes = serde_json::to_vec(body)
            .map_err(|e| ApiError::Protocol { detail: format!("cannot encode request: {e}") })?;
        self.exchange(method, url, Some(bytes), headers).await?.reply().json()
    }

    async fn get_conditional<T: serde::de::DeserializeOwned>(
        &self,
        url: Url,
        etag: Option<&str>,
    ) -> Result<Fetched<T>, ApiError> {
        let headers: Vec<(&'static str, String)> =
            etag.map(|e| vec![("If-None-Match", e.to_string())]).unwrap_or_default();
        let raw = self.exchange(Method::GET, url, None, &headers).await?;
        if raw.status == StatusCode::NOT_MODIFIED.as_u16() {
            return Ok(Fetched::NotModified);
        }
        let value = raw.reply().json()?;
        Ok(Fetched::Fresh { value, etag: raw.etag.clone() })
    }

    async fn refresh_csrf(&self) -> Result<(), ApiError> {
        // Straight to `exchange_once`: this runs inside `exchange`'s CSRF retry.
        let raw = self.exchange_once(Method::GET, self.url("api/csrf-token")?, None, &[], false).await?;
        let token: CsrfTokenResponse = raw.reply().json()?;
        if token.csrf_token.is_empty() {
            return Err(ApiError::Protocol { detail: "empty CSRF token".into() });
        }
        *lock(&self.inner.csrf) = Some(token.csrf_token);
        self.inner.jar.touch();
        Ok(())
    }

    /// Log in. A 401 here means bad credentials, so it becomes `Forbidden` with the
    /// server's text (not `SessionExpired`). Then fetches the CSRF token to use (falls
    /// back to the login's token when the server has no `/api/csrf-token`).
    pub async fn login(&self, req: &LoginRequest) -> Result<LoginResponse, ApiError> {
        let bytes = serde_json::to_vec(req)
            .map_err(|e| ApiError::Protocol { detail: format!("cannot encode login: {e}") })?;
        let raw = self.exchange(Method::POST, self.url("api/auth/login")?, Some(bytes), &[]).await?;
        let reply = raw.reply();
        if reply.status == 401 {
            let text = reply.server_text().unwrap_or_else(|| "Invalid credentials".into());
            tracing::info!(username = %sanitize_line(&req.username), "login refused");
            return Err(ApiError::Forbidden(text));
        }
        let login: LoginResponse = reply.json()?;
        let username = if login.username.is_empty() { req.username.clone() } else { login.username.clone() };
        *lock(&self.inner.who) = Some((username.clone(), login.role.clone()));
        match self.refresh_csrf().await {
            Ok(()) => {}
            Err(ApiError::NotFound(_)) | Err(ApiError::Protocol { .. }) if !login.csrf_token.is_empty() => {
                *lock(&self.inner.csrf) = Some(login.csrf_token.clone());
            }
            Err(e) => return Err(e),
        }
        self.inner.jar.touch();
        tracing::info!(username = %sanitize_line(&username), role = %sanitize_line(&login.role), "logged in");
        Ok(login)
    }

    /// Log out on the server; local cookies and token are forgotten whatever it says.
    pub async fn logout(&self) -> Result<(), ApiError> {
        let result = async {
            let raw =
                self.exchange(Method::POST, self.url("api/auth/logout")?, Some(b"{}".to_vec()), &[]).await?;
            raw.reply().empty()
        }
        .await;
        self.inner.jar.clear();
        *lock(&self.inner.csrf) = None;
        result
    }

    /// `GET /api/auth/status` (head and reference server; 404 → `NotFound` on feb5).
    pub async fn auth_status(&self) -> Result<AuthStatus, ApiError> {
        self.get_json(self.url("api/auth/status")?).await
    }

    /// `GET /api/messages/inbox`, conditional on `etag`.
    pub async fn inbox(
        &self,
        page: u32,
        limit: u32,
        unread_only: bool,
        etag: Option<&str>,
    ) -> Result<Fetched<InboxResponse>, ApiError> {
        let mut url = self.url("api/messages/inbox")?;
        url.query_pairs_mut()
            .append_pair("page", &page.max(1).to_string())
            .append_pair("limit", &limit.clamp(1, 50).to_string())
            .append_pair("unread_only", if unread_only { "true" } else { "false" });
        self.get_conditional(url, etag).await
    }

    /// `GET /api/messages/conversation/<user>` (oldest first; `limit` 1–200 returns the
    /// oldest N, so callers normally ask for 200), conditional on `etag`.
    pub async fn conversation(
        &self,
        user: &str,
        limit: u32,
        after_id: Option<i64>,
        etag: Option<&str>,
    ) -> Result<Fetched<ConversationResponse>, ApiError> {
        let mut url = self.url_with_segment("api/messages/conversation/", user, None)?;
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("limit", &limit.clamp(1, 200).to_string());
            if let Some(id) = after_id {
                q.append_pair("after_id", &id.to_string());
            }
        }
        self.get_conditional(url, etag).await
    }

    /// `POST /api/messages/send` (201), with an `Idempotency-Key` when given.
    pub async fn send(
        &self,
        req: &SendRequest,
        idempotency_key: Option<&str>,
    ) -> Result<SendResponse, ApiError> {
        let headers: Vec<(&'static str, String)> =
            idempotency_key.map(|k| vec![("Idempotency-Key", k.to_string())]).unwrap_or_default();
        self.send_json(Method::POST, self.url("api/messages/send")?, req, &headers).await
    }

    /// `PATCH /api/messages/<id>/read`.
    pub async fn mark_read(&self, id: i64) -> Result<MarkReadResponse, ApiError> {
        let url = self.url_with_segment("api/messages/", &id.to_string(), Some("read"))?;
        self.send_json(Method::PATCH, url, &serde_json::json!({}), &[]).await
    }

    /// `DELETE /api/messages/<id>` (204, possibly `text/html`).
    pub async fn delete_message(&self, id: i64) -> Result<(), ApiError> {
        let url = self.url_with_segment("api/messages/", &id.to_string(), None)?;
        self.exchange(Method::DELETE, url, None, &[]).await?.reply().empty()
    }

    /// `GET /api/messages/sent`.
    pub async fn sent(&self) -> Result<SentResponse, ApiError> {
        self.get_json(self.url("api/messages/sent")?).await
    }

    /// `GET /api/messages/search?q=` (head; q of 2+ characters).
    pub async fn search(&self, q: &str) -> Result<SearchResponse, ApiError> {
        let mut url = self.url("api/messages/search")?;
        url.query_pairs_mut().append_pair("q", q);
        self.get_json(url).await
    }

    /// `GET /api/messages/unread-count` (head).
    pub async fn unread_count(&self) -> Result<UnreadCountResponse, ApiError> {
        self.get_json(self.url("api/messages/unread-count")?).await
    }

    /// `GET /api/poll` (head): a cheap "anything new?" probe on its own rate budget.
    pub async fn poll(&self) -> Result<PollResponse, ApiError> {
        self.get_json(self.url("api/poll")?).await
    }

    fn me(&self) -> String {
        self.username().unwrap_or_default()
    }

    /// `GET /api/pet/status?username=<me>`: always 200, `exists:false` inside.
    pub async fn pet_status(&self) -> Result<PetStatusResponse, ApiError> {
        let mut url = self.url("api/pet/status")?;
        url.query_pairs_mut().append_pair("username", &self.me());
        self.get_json(url).await
    }

    /// `POST /api/pet/create` (201).
    pub async fn pet_create(
        &self,
        name: &str,
        species: Option<&str>,
        gender: Option<&str>,
    ) -> Result<SuccessResponse, ApiError> {
        let body = PetCreateRequest {
            username: self.me(),
            name: name.to_string(),
            species: species.map(str::to_string),
            gender: gender.map(str::to_string),
        };
        self.send_json(Method::POST, self.url("api/pet/create")?, &body, &[]).await
    }

    /// `POST /api/pet/feed` (cost defaults to 10 on the server).
    pub async fn pet_feed(&self, cost: Option<i64>) -> Result<PetFeedResponse, ApiError> {
        let body = PetFeedRequest { username: self.me(), cost };
        self.send_json(Method::POST, self.url("api/pet/feed")?, &body, &[]).await
    }

    /// `GET /api/pet/shop`.
    pub async fn pet_shop(&self) -> Result<ShopResponse, ApiError> {
        self.get_json(self.url("api/pet/shop")?).await
    }

    /// `POST /api/pet/buy`.
    pub async fn pet_buy(&self, item: &str) -> Result<PetBuyResponse, ApiError> {
        let body = PetBuyRequest { username: self.me(), item_id: item.to_string() };
        self.send_json(Method::POST, self.url("api/pet/buy")?, &body, &[]).await
    }

    /// `POST /api/pet/reward`.
    pub async fn pet_reward(&self, action: &str) -> Result<PetRewardResponse, ApiError> {
        let body = PetRewardRequest { action: action.to_string() };
        self.send_json(Method::POST, self.url("api/pet/reward")?, &body, &[]).await
    }

    /// The websocket URL (`ws(s)://host/api/messages/ws`) and the `Cookie` header to send.
    pub fn websocket_request(&self) -> Result<(Url, Option<String>), ApiError> {
        let http_url = self.url("api/messages/ws")?;
        let cookie = self.inner.jar.header_for(&http_url);
        let mut ws = http_url;
        let scheme = if ws.scheme() == "https" { "wss" } else { "ws" };
        ws.set_scheme(scheme)
            .map_err(|_| ApiError::Protocol { detail: "cannot form a websocket URL".into() })?;
        Ok((ws, cookie))
    }
}

/// The certificates in a PEM file; an error naming the file when it cannot be read or
/// holds none (reqwest would otherwise accept a non-PEM file and silently add nothing).
fn load_ca(path: &Path) -> Result<Vec<reqwest::Certificate>, ApiError> {
    let pem = std::fs::read(path).map_err(|e| {
        ApiError::Invalid(sanitize_line(&format!("cannot read CA certificate {}: {e}", path.display())))
    })?;
    let not_pem = |why: &str| {
        ApiError::Invalid(sanitize_line(&format!("{} is not a PEM certificate: {why}", path.display())))
    };
    let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| not_pem(&e.to_string()))?;
    if certs.is_empty() {
        return Err(not_pem("no BEGIN CERTIFICATE block found"));
    }
    Ok(certs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_urls() {
        assert_eq!(
            parse_server_url("http://127.0.0.1:5055", false).unwrap().as_str(),
            "http://127.0.0.1:5055/"
        );
        assert_eq!(
            parse_server_url("https://h.example/app?x#y", false).unwrap().as_str(),
            "https://h.example/app/"
        );
        assert!(parse_server_url("http://example.org", false).is_err());
        assert!(parse_server_url("http://example.org", true).is_ok());
        assert!(parse_server_url("ftp://example.org", true).is_err());
        assert!(parse_server_url("https://u:p@example.org", true).is_err());
        assert!(parse_server_url("not a url", true).is_err());
    }

    #[test]
    fn websocket_url_and_cookie() {
        let session = Session {
            server: "http://localhost:8080/".into(),
            username: "alex".into(),
            role: "user".into(),
            cookies: vec![crate::model::session::SessionCookie {
                name: "session".into(),
                value: "abc".into(),
                host: "localhost".into(),
                path: "/".into(),
                expires: None,
                secure: true,
            }],
            csrf_token: Some("t".into()),
            saved_at: None,
        };
        let client = Client::from_session(&session, &ClientOptions::default()).unwrap();
        let (url, cookie) = client.websocket_request().unwrap();
        assert_eq!(url.as_str(), "ws://localhost:8080/api/messages/ws");
        assert_eq!(cookie.as_deref(), Some("session=abc"));
        assert_eq!(client.username().as_deref(), Some("alex"));
        let back = client.session();
        assert_eq!((back.cookies, back.csrf_token), (session.cookies, session.csrf_token));
    }

    #[test]
    fn path_segments_are_escaped() {
        let client = Client::new("https://h.example/base", &ClientOptions::default()).unwrap();
        let url = client.url_with_segment("api/messages/conversation/", "a/b c", None).unwrap();
        assert_eq!(url.as_str(), "https://h.example/base/api/messages/conversation/a%2Fb%20c");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn closed_port_is_offline() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let client = Client::new(&format!("http://{addr}"), &ClientOptions::default()).unwrap();
        assert!(matches!(client.auth_status().await, Err(ApiError::Offline(_))));
    }
}
