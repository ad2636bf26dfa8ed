//! The saved login as data: who, on which server, the session cookies and the CSRF token,
//! never the password or PIN. The API client makes and takes it; `store::session` keeps
//! it in `session.json`. `Debug` hides every secret, so a log line cannot leak one.

use serde::{Deserialize, Serialize};

use crate::model::time::{self, Timestamp};

/// One cookie as the server set it. `Debug` hides the value.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SessionCookie {
    /// Cookie name (production: `session`).
    pub name: String,
    /// Cookie value: a bearer secret.
    pub value: String,
    /// The host it was received from; it is only ever sent back there.
    pub host: String,
    /// Path prefix it applies to.
    #[serde(default = "root_path")]
    pub path: String,
    /// Expiry as unix seconds; `None` for a browser-session cookie.
    #[serde(default)]
    pub expires: Option<i64>,
    /// Marked `Secure` (still sent to loopback over http, as browsers do).
    #[serde(default)]
    pub secure: bool,
}

fn root_path() -> String {
    "/".to_string()
}

impl std::fmt::Debug for SessionCookie {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionCookie")
            .field("name", &self.name)
            .field("value", &"<redacted>")
            .field("host", &self.host)
            .field("path", &self.path)
            .field("expires", &self.expires)
            .field("secure", &self.secure)
            .finish()
    }
}

/// A saved login. `Debug` hides the cookie values and the CSRF token.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
pub struct Session {
    /// Server base URL, e.g. `https://www.healing-space.org.uk/`.
    pub server: String,
    /// Account name as the server spells it.
    pub username: String,
    /// Role as the server names it (`user` is a patient, `clinician`, …).
    #[serde(default)]
    pub role: String,
    /// Cookies received from the server.
    #[serde(default)]
    pub cookies: Vec<SessionCookie>,
    /// The token sent as `X-CSRF-Token` (from `GET /api/csrf-token`).
    #[serde(default)]
    pub csrf_token: Option<String>,
    /// When this was written.
    #[serde(default, deserialize_with = "time::lenient")]
    pub saved_at: Option<Timestamp>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("server", &self.server)
            .field("username", &self.username)
            .field("role", &self.role)
            .field("cookies", &self.cookies)
            .field("csrf_token", &self.csrf_token.as_ref().map(|_| "<redacted>"))
            .field("saved_at", &self.saved_at)
            .finish()
    }
}
