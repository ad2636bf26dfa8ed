//! The link's state, as the link reports it. The status bar's wording for it (`● live`,
//! `◐ polling 15s`, `○ offline · retry in 8s`, …) lives in one place, the ui room's
//! `ui::status::connection_label`, which the app's connection state feeds.

use std::time::Duration;

use chrono::{DateTime, Utc};

/// How the link is connected, for the status bar.
#[derive(Debug, Clone, PartialEq)]
pub enum LinkState {
    /// Trying to connect (first time, or again after `R`).
    Connecting,
    /// Websocket up: news arrives as it happens.
    Live,
    /// Polling every `interval` (no websocket on this server).
    Polling {
        /// The current cadence.
        interval: Duration,
    },
    /// Waiting out a 429 until `until` (wall clock, for "next check 14:05").
    RateLimited {
        /// When the next check is due.
        until: DateTime<Utc>,
    },
    /// The server cannot be reached; next try in `retry_in`.
    Offline {
        /// Delay before the next attempt, as decided when it failed.
        retry_in: Duration,
    },
}
