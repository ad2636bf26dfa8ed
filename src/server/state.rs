//! What every handler shares: the database, the websocket hub, the limiters and
//! the profile switches.

use std::sync::Arc;

use tokio::sync::broadcast;

use super::db::Db;
use super::faults::Faults;
use super::limits::{LoginLimiter, RouteLimiter};
use super::ws::Hub;
use super::Profile;
use crate::model::types::Message;

/// Switches derived from [`super::ServerOptions`].
#[derive(Clone, Debug)]
pub struct Settings {
    /// Reference (all extensions) or production (degraded, like the real server).
    pub profile: Profile,
    /// Whether `/api/messages/ws` exists.
    pub websocket: bool,
    /// Whether `Idempotency-Key` is honoured.
    pub idempotency: bool,
}

impl Settings {
    /// ETag/304, gzip, `after_id`: reference only.
    pub fn extensions(&self) -> bool {
        self.profile == Profile::Reference
    }

    /// `Retry-After` on login 429s: reference only (production sends none).
    pub fn retry_after_header(&self) -> bool {
        self.profile == Profile::Reference
    }

    /// head's bug: a conversation still lists the messages the caller deleted
    /// (production profile only; the client must keep them hidden itself).
    pub fn conversation_shows_deleted(&self) -> bool {
        self.profile == Profile::Production
    }

    /// `Secure` on the session cookie: production does it even on plain http.
    pub fn secure_cookie(&self) -> bool {
        self.profile == Profile::Production
    }
}

/// The state behind every handler.
pub struct Shared {
    /// The database.
    pub db: Db,
    /// Open websockets per user.
    pub hub: Hub,
    /// Profile switches.
    pub settings: Settings,
    /// Login attempts.
    pub login_limiter: LoginLimiter,
    /// Per-route limits, when configured.
    pub route_limiter: Option<RouteLimiter>,
    /// Routes switched to answer 500 (the failure switch).
    pub faults: Faults,
    /// Every new message, for in-process observers (the demo's dr_morgan).
    pub new_messages: broadcast::Sender<Message>,
}

/// Handler state.
pub type AppState = Arc<Shared>;
