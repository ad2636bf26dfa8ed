//! The link's state and how the status bar says it: `● live`, `◐ polling 15s`,
//! `○ offline · retry in 8s`, `rate-limited · next check 14:05` (ASCII: `[live]`,
//! `[poll 15s]`, `[offline 8s]`, `[rate-limited 14:05]`), followed by the time of the last
//! successful sync. Pure: the caller passes the time zone (local in the app, fixed in
//! tests).

use std::fmt::Display;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};

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

/// Whole seconds, rounded up so a pending retry never reads "0s".
fn secs(d: Duration) -> u64 {
    let s = d.as_secs();
    if d.subsec_nanos() > 0 {
        s + 1
    } else {
        s
    }
}

/// The state alone, e.g. `◐ polling 15s` or `[poll 15s]`.
pub fn state_text<Tz: TimeZone>(state: &LinkState, ascii: bool, tz: &Tz) -> String
where
    Tz::Offset: Display,
{
    match (state, ascii) {
        (LinkState::Connecting, false) => "◌ connecting".to_owned(),
        (LinkState::Connecting, true) => "[connecting]".to_owned(),
        (LinkState::Live, false) => "● live".to_owned(),
        (LinkState::Live, true) => "[live]".to_owned(),
        (LinkState::Polling { interval }, false) => format!("◐ polling {}s", secs(*interval)),
        (LinkState::Polling { interval }, true) => format!("[poll {}s]", secs(*interval)),
        (LinkState::Offline { retry_in }, false) => format!("○ offline · retry in {}s", secs(*retry_in)),
        (LinkState::Offline { retry_in }, true) => format!("[offline {}s]", secs(*retry_in)),
        (LinkState::RateLimited { until }, false) => {
            format!("rate-limited · next check {}", until.with_timezone(tz).format("%H:%M"))
        }
        (LinkState::RateLimited { until }, true) => {
            format!("[rate-limited {}]", until.with_timezone(tz).format("%H:%M"))
        }
    }
}

/// The state and, when known, the last successful sync: `● live · synced 14:02`,
/// `[live] synced 14:02`.
pub fn status_text<Tz: TimeZone>(
    state: &LinkState,
    last_sync: Option<DateTime<Utc>>,
    ascii: bool,
    tz: &Tz,
) -> String
where
    Tz::Offset: Display,
{
    let head = state_text(state, ascii, tz);
    match last_sync {
        None => head,
        Some(at) => {
            let at = at.with_timezone(tz).format("%H:%M");
            if ascii {
                format!("{head} synced {at}")
            } else {
                format!("{head} · synced {at}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::FixedOffset;

    fn tz() -> FixedOffset {
        FixedOffset::east_opt(3600).unwrap()
    }

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 28, h, m, 30).single().unwrap()
    }

    #[test]
    fn every_state_in_both_alphabets() {
        let cases = [
            (LinkState::Connecting, "◌ connecting", "[connecting]"),
            (LinkState::Live, "● live", "[live]"),
            (LinkState::Polling { interval: Duration::from_secs(15) }, "◐ polling 15s", "[poll 15s]"),
            (
                LinkState::Offline { retry_in: Duration::from_secs(8) },
                "○ offline · retry in 8s",
                "[offline 8s]",
            ),
            (
                LinkState::RateLimited { until: at(13, 5) },
                "rate-limited · next check 14:05",
                "[rate-limited 14:05]",
            ),
        ];
        for (state, fancy, ascii) in cases {
            assert_eq!(state_text(&state, false, &tz()), fancy);
            assert_eq!(state_text(&state, true, &tz()), ascii);
            assert!(state_text(&state, true, &tz()).is_ascii());
        }
    }

    #[test]
    fn partial_seconds_round_up() {
        let s = LinkState::Offline { retry_in: Duration::from_millis(7100) };
        assert_eq!(state_text(&s, true, &tz()), "[offline 8s]");
        let s = LinkState::Offline { retry_in: Duration::from_millis(300) };
        assert_eq!(state_text(&s, true, &tz()), "[offline 1s]");
    }

    #[test]
    fn last_sync_follows_the_state() {
        let live = LinkState::Live;
        assert_eq!(status_text(&live, Some(at(13, 2)), false, &tz()), "● live · synced 14:02");
        assert_eq!(status_text(&live, Some(at(13, 2)), true, &tz()), "[live] synced 14:02");
        assert_eq!(status_text(&live, None, false, &tz()), "● live");
    }
}
