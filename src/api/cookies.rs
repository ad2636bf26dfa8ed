//! A small cookie jar for one server, as reqwest's `CookieStore`.
//!
//! Why not reqwest's own jar: production marks its `session` cookie `Secure` even on
//! plain http, and browsers still send Secure cookies to loopback hosts; reqwest's
//! jar does not, so a client against `http://127.0.0.1` would never be logged in.
//! Cookies here are host-only (the `Domain` attribute is ignored): they go back to
//! exactly the host that set them and nowhere else. The jar remembers when a value
//! last changed so callers can persist it every few minutes rather than on every
//! response (production re-issues the cookie on every response).

use std::sync::Mutex;
use std::time::Instant;

use reqwest::header::HeaderValue;
use url::{Host, Url};

use crate::model::session::SessionCookie;
use crate::model::time::parse_timestamp;

/// True for 127.0.0.0/8, ::1 and `localhost` (and `*.localhost`).
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(d)) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            d == "localhost" || d.ends_with(".localhost")
        }
        None => false,
    }
}

#[derive(Default)]
struct JarState {
    cookies: Vec<SessionCookie>,
    /// When a cookie last changed and has not been marked saved since.
    dirty_since: Option<Instant>,
}

/// Cookies for one server; cheap to share behind an `Arc`.
#[derive(Default)]
pub struct Jar {
    state: Mutex<JarState>,
}

impl Jar {
    /// An empty jar.
    pub fn new() -> Jar {
        Jar::default()
    }

    /// A jar holding saved cookies (expired ones are dropped).
    pub fn with_cookies(cookies: Vec<SessionCookie>) -> Jar {
        let now = chrono::Utc::now().timestamp();
        let cookies = cookies.into_iter().filter(|c| c.expires.is_none_or(|e| e > now)).collect();
        Jar { state: Mutex::new(JarState { cookies, dirty_since: None }) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, JarState> {
        crate::model::lock::lock(&self.state)
    }

    /// A copy of the cookies, for persisting.
    pub fn snapshot(&self) -> Vec<SessionCookie> {
        self.lock().cookies.clone()
    }

    /// Since when the cookies have changed without being saved, if they have.
    pub fn dirty_since(&self) -> Option<Instant> {
        self.lock().dirty_since
    }

    /// Record that the current cookies were persisted.
    pub fn mark_saved(&self) {
        self.lock().dirty_since = None;
    }

    /// Mark the session changed (e.g. a new CSRF token) so it gets saved.
    pub fn touch(&self) {
        self.lock().dirty_since.get_or_insert_with(Instant::now);
    }

    /// Forget every cookie.
    pub fn clear(&self) {
        let mut st = self.lock();
        st.cookies.clear();
        st.dirty_since.get_or_insert_with(Instant::now);
    }

    /// The `Cookie` header value for a request to `url`, if any cookie applies.
    pub fn header_for(&self, url: &Url) -> Option<String> {
        self.header_at(url, chrono::Utc::now().timestamp())
    }

    /// [`Jar::header_for`] as of `now` (Unix seconds): tests replaying a recorded
    /// exchange judge its cookies' expiry by the time it was recorded.
    pub fn header_at(&self, url: &Url, now: i64) -> Option<String> {
        let host = url.host_str()?.to_ascii_lowercase();
        let secure_ok = matches!(url.scheme(), "https" | "wss") || is_loopback(url);
        let path = url.path();
        let st = self.lock();
        let pairs: Vec<String> = st
            .cookies
            .iter()
            .filter(|c| c.host == host)
            .filter(|c| !c.secure || secure_ok)
            .filter(|c| c.expires.is_none_or(|e| e > now))
            .filter(|c| path_matches(&c.path, path))
            .map(|c| format!("{}={}", c.name, c.value))
            .collect();
        if pairs.is_empty() {
            None
        } else {
            Some(pairs.join("; "))
        }
    }

    /// Apply one `Set-Cookie` header received from `url`.
    pub fn store(&self, set_cookie: &str, url: &Url) {
        self.store_at(set_cookie, url, chrono::Utc::now().timestamp());
    }

    /// [`Jar::store`] as of `now` (Unix seconds), for replaying a recorded response.
    pub fn store_at(&self, set_cookie: &str, url: &Url, now: i64) {
        let Some(host) = url.host_str() else { return };
        let Some(parsed) = parse_set_cookie(set_cookie, &host.to_ascii_lowercase(), now) else { return };
        let mut st = self.lock();
        let existing = st
            .cookies
            .iter()
            .position(|c| c.name == parsed.name && c.host == parsed.host && c.path == parsed.path);
        let expired = parsed.expires.is_some_and(|e| e <= now);
        let changed = match (existing, expired) {
            (Some(i), true) => {
                st.cookies.remove(i);
                true
            }
            (None, true) => false,
            (Some(i), false) => {
                let same = st.cookies[i] == parsed;
                st.cookies[i] = parsed;
                !same
            }
            (None, false) => {
                st.cookies.push(parsed);
                true
            }
        };
        if changed {
            st.dirty_since.get_or_insert_with(Instant::now);
        }
    }
}

impl reqwest::cookie::CookieStore for Jar {
    fn set_cookies(&self, cookie_headers: &mut dyn Iterator<Item = &HeaderValue>, url: &Url) {
        for header in cookie_headers {
            if let Ok(text) = header.to_str() {
                self.store(text, url);
            }
        }
    }

    fn cookies(&self, url: &Url) -> Option<HeaderValue> {
        self.header_for(url).and_then(|v| HeaderValue::from_str(&v).ok())
    }
}

/// RFC 6265 path-match: equal, or a prefix ending at a `/` boundary.
fn path_matches(cookie_path: &str, request_path: &str) -> bool {
    if cookie_path == request_path || cookie_path == "/" {
        return true;
    }
    request_path.starts_with(cookie_path)
        && (cookie_path.ends_with('/') || request_path[cookie_path.len()..].starts_with('/'))
}

/// Parse a `Set-Cookie` value into a host-only cookie for `host`. `Max-Age` wins over
/// `Expires`; an expiry at or before `now` means "delete".
fn parse_set_cookie(text: &str, host: &str, now: i64) -> Option<SessionCookie> {
    let mut parts = text.split(';');
    let (name, value) = parts.next()?.split_once('=')?;
    let name = name.trim();
    let value = value.trim().trim_matches('"');
    // RFC 6265 cookie octets only: a control character, space, quote, comma or backslash
    // in a stored cookie could split the `Cookie` header we send back (or the websocket's).
    let octets = |s: &str| s.bytes().all(|b| (0x21..0x7f).contains(&b) && !b"\",;\\".contains(&b));
    if name.is_empty() || !octets(name) || !octets(value) {
        return None;
    }
    let mut cookie = SessionCookie {
        name: name.to_string(),
        value: value.to_string(),
        host: host.to_string(),
        path: "/".to_string(),
        expires: None,
        secure: false,
    };
    let mut max_age = None;
    for attr in parts {
        let (key, val) = match attr.split_once('=') {
            Some((k, v)) => (k.trim(), v.trim()),
            None => (attr.trim(), ""),
        };
        match key.to_ascii_lowercase().as_str() {
            "secure" => cookie.secure = true,
            "path" if val.starts_with('/') => cookie.path = val.to_string(),
            "expires" => {
                if let Some(at) = parse_timestamp(val) {
                    cookie.expires = Some(at.timestamp());
                }
            }
            "max-age" => max_age = val.parse::<i64>().ok(),
            _ => {}
        }
    }
    if let Some(secs) = max_age {
        cookie.expires = Some(if secs <= 0 { now } else { now.saturating_add(secs) });
    }
    Some(cookie)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROD: &str = "session=.eJx1jsEKwjAM; Expires=Mon, 28 Dec 2099 19:39:06 GMT; Secure; HttpOnly; Path=/; SameSite=Lax";

    #[test]
    fn secure_cookie_goes_to_loopback_over_http_but_not_elsewhere() {
        let jar = Jar::new();
        let local = Url::parse("http://127.0.0.1:5055/api/auth/login").unwrap();
        jar.store(PROD, &local);
        let inbox = Url::parse("http://127.0.0.1:5055/api/messages/inbox").unwrap();
        assert_eq!(jar.header_for(&inbox).as_deref(), Some("session=.eJx1jsEKwjAM"));
        // Another host never sees it.
        assert_eq!(jar.header_for(&Url::parse("http://127.0.0.2:5055/").unwrap()), None);
        // A non-loopback host over http does not get a Secure cookie.
        let jar = Jar::new();
        jar.store(PROD, &Url::parse("https://example.org/").unwrap());
        assert!(jar.header_for(&Url::parse("http://example.org/").unwrap()).is_none());
        assert!(jar.header_for(&Url::parse("https://example.org/x").unwrap()).is_some());
        assert!(jar.header_for(&Url::parse("wss://example.org/api/messages/ws").unwrap()).is_some());
    }

    #[test]
    fn loopback_hosts() {
        for u in ["http://127.0.0.1/", "http://127.9.9.9/", "http://[::1]/", "http://localhost:8080/"] {
            assert!(is_loopback(&Url::parse(u).unwrap()), "{u}");
        }
        for u in ["http://10.0.0.1/", "http://example.org/", "http://localhost.example.org/"] {
            assert!(!is_loopback(&Url::parse(u).unwrap()), "{u}");
        }
    }

    #[test]
    fn newest_value_wins_and_marks_dirty() {
        let url = Url::parse("http://localhost/").unwrap();
        let jar = Jar::new();
        assert!(jar.dirty_since().is_none());
        jar.store("session=one; Path=/", &url);
        assert!(jar.dirty_since().is_some());
        jar.mark_saved();
        jar.store("session=one; Path=/", &url);
        assert!(jar.dirty_since().is_none(), "same value is not a change");
        jar.store("session=two; Path=/", &url);
        assert!(jar.dirty_since().is_some());
        assert_eq!(jar.snapshot().len(), 1);
        assert_eq!(jar.header_for(&url).as_deref(), Some("session=two"));
    }

    #[test]
    fn expiry_deletes() {
        let url = Url::parse("http://localhost/").unwrap();
        let jar = Jar::new();
        jar.store("session=one", &url);
        jar.store("session=; Max-Age=0", &url);
        assert!(jar.header_for(&url).is_none());
        jar.store("session=one", &url);
        jar.store("session=; Expires=Thu, 01 Jan 1970 00:00:00 GMT", &url);
        assert!(jar.snapshot().is_empty());
    }

    #[test]
    fn paths() {
        assert!(path_matches("/", "/anything"));
        assert!(path_matches("/api", "/api/x"));
        assert!(path_matches("/api/", "/api/x"));
        assert!(!path_matches("/api", "/apix"));
    }

    #[test]
    fn garbage_is_ignored() {
        let url = Url::parse("http://localhost/").unwrap();
        let jar = Jar::new();
        jar.store("no equals sign", &url);
        jar.store("=value", &url);
        assert!(jar.snapshot().is_empty());
    }
}
