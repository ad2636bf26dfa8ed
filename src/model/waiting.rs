//! Who is waiting for an answer: a conversation is *waiting* when the other person wrote
//! last and the logged-in user has not replied. Pure functions over what the inbox
//! summary says (head sends `last_sender`) and, where it says nothing (feb5), what the
//! local cache knows; no request is ever made just to find out.

use std::cmp::Ordering;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::types::Message;

/// How the inbox is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SortMode {
    /// Longest-waiting first, then the rest newest first: a clinician's caseload.
    Waiting,
    /// Newest first: a chat list.
    #[default]
    Recent,
}

impl SortMode {
    /// The other mode.
    pub fn toggled(self) -> SortMode {
        match self {
            SortMode::Waiting => SortMode::Recent,
            SortMode::Recent => SortMode::Waiting,
        }
    }

    /// The default for a role as the server names it: `waiting` for clinicians (and
    /// other staff), `recent` for patients (`user`) and unknown roles.
    pub fn for_role(role: &str) -> SortMode {
        match role.trim().to_ascii_lowercase().as_str() {
            "clinician" | "therapist" | "admin" | "staff" => SortMode::Waiting,
            _ => SortMode::Recent,
        }
    }
}

/// What the cached messages of one conversation say about who wrote last.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WaitHint {
    /// Sender of the newest cached message.
    pub last_sender: String,
    /// When the newest cached message was sent.
    pub last_time: Option<DateTime<Utc>>,
    /// When the other person's unanswered run began: their first message after the
    /// user's last one (`None` when the user wrote last).
    pub run_start: Option<DateTime<Utc>>,
}

/// The hint for one conversation from its messages (any order; ids decide). `None`
/// without messages.
pub fn hint_from_messages(me: &str, messages: &[Message]) -> Option<WaitHint> {
    let newest = messages.iter().max_by_key(|m| m.id)?;
    let my_last = messages.iter().filter(|m| m.sender.eq_ignore_ascii_case(me)).map(|m| m.id).max();
    let run_start = messages
        .iter()
        .filter(|m| my_last.is_none_or(|mine| m.id > mine))
        .min_by_key(|m| m.id)
        .and_then(|m| m.sent_at.map(|t| t.utc()));
    Some(WaitHint {
        last_sender: newest.sender.clone(),
        last_time: newest.sent_at.map(|t| t.utc()),
        run_start: if newest.sender.eq_ignore_ascii_case(me) { None } else { run_start },
    })
}

/// What is known about one conversation, from its inbox summary.
#[derive(Debug, Clone, Copy)]
pub struct Summary<'a> {
    /// Sender of the newest message, when the server says (head).
    pub last_sender: Option<&'a str>,
    /// When the newest message was sent.
    pub last_time: Option<DateTime<Utc>>,
    /// Messages from the other person not yet read.
    pub unread: u32,
}

/// Since when the conversation has been waiting for `me` to answer, or `None` when it
/// is not waiting (or nobody can tell).
///
/// A cache that holds a newer message than the summary decides; else the summary's
/// `last_sender` when present; else a cache that holds the summary's newest message;
/// else an unread message means the other person wrote after the user last read, and
/// so last. The wait starts at the other person's first unanswered message when the
/// cache knows it, else at the newest message (an underestimate, never an invention).
pub fn waiting_since(me: &str, s: Summary<'_>, hint: Option<&WaitHint>) -> Option<DateTime<Utc>> {
    let is_me = |who: &str| who.eq_ignore_ascii_case(me);
    // `Option` orders `None` first: a cache with a time is newer than a summary without.
    let current = hint.filter(|h| s.last_time.is_none() || h.last_time >= s.last_time);
    let newer = current.filter(|h| h.last_time > s.last_time);
    let sender_is_other = match (newer, s.last_sender.filter(|x| !x.trim().is_empty()), current) {
        (Some(h), _, _) => !is_me(&h.last_sender),
        (None, Some(sender), _) => !is_me(sender),
        (None, None, Some(h)) => !is_me(&h.last_sender),
        (None, None, None) => s.unread > 0,
    };
    if !sender_is_other {
        return None;
    }
    let from_cache = current.filter(|h| !is_me(&h.last_sender)).and_then(|h| h.run_start);
    let last = s.last_time.max(current.and_then(|h| h.last_time));
    match (from_cache, last) {
        (Some(start), Some(last)) => Some(start.min(last)),
        (start, last) => start.or(last),
    }
}

/// Order rows for `mode`: with `Waiting`, the waiting ones first, longest wait first,
/// then the others newest first; with `Recent`, newest first. Stable, and rows without
/// a time go last. `key` gives a row's (waiting since, newest message time).
pub fn sort_rows<T>(
    rows: &mut [T],
    mode: SortMode,
    key: impl Fn(&T) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>),
) {
    let newest_first = |a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>| match (a, b) {
        (Some(a), Some(b)) => b.cmp(&a),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    };
    rows.sort_by(|a, b| {
        let (wa, ta) = key(a);
        let (wb, tb) = key(b);
        match mode {
            SortMode::Recent => newest_first(ta, tb),
            SortMode::Waiting => match (wa, wb) {
                (Some(x), Some(y)) => x.cmp(&y).then_with(|| newest_first(ta, tb)),
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (None, None) => newest_first(ta, tb),
            },
        }
    });
}

/// How long, for a row: `12m`, `3h`, `2d` (under a minute: `now`).
pub fn wait_label(since: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let mins = (now - since).num_minutes().max(0);
    match mins {
        0 => "now".to_owned(),
        1..=59 => format!("{mins}m"),
        60..=1439 => format!("{}h", mins / 60),
        _ => format!("{}d", mins / 1440),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::time::Timestamp;
    use chrono::TimeZone;

    fn t(h: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 2, 5, 0, 0, 0).unwrap() + chrono::Duration::hours(h)
    }

    fn m(id: i64, from: &str, to: &str, h: i64) -> Message {
        Message {
            id,
            sender: from.into(),
            recipient: to.into(),
            sent_at: Some(Timestamp(t(h))),
            ..Default::default()
        }
    }

    fn summary(last_sender: Option<&str>, h: i64, unread: u32) -> Summary<'_> {
        Summary { last_sender, last_time: Some(t(h)), unread }
    }

    #[test]
    fn last_sender_decides_when_the_server_gives_it() {
        assert_eq!(waiting_since("dr", summary(Some("pat"), 5, 0), None), Some(t(5)));
        assert_eq!(waiting_since("dr", summary(Some("DR"), 5, 3), None), None, "case-insensitive");
        // Even an unread message does not make a conversation waiting when I wrote last.
        assert_eq!(waiting_since("dr", summary(Some("dr"), 5, 1), None), None);
    }

    #[test]
    fn the_wait_starts_at_the_first_unanswered_message() {
        let msgs = [m(1, "pat", "dr", 1), m(2, "dr", "pat", 2), m(3, "pat", "dr", 3), m(4, "pat", "dr", 5)];
        let hint = hint_from_messages("dr", &msgs).unwrap();
        assert_eq!(hint.run_start, Some(t(3)));
        assert_eq!(waiting_since("dr", summary(Some("pat"), 5, 2), Some(&hint)), Some(t(3)));
        // A summary newer than the cache: the cache's run may have been answered since.
        assert_eq!(waiting_since("dr", summary(Some("pat"), 9, 1), Some(&hint)), Some(t(9)));
        // Only messages from the other person, none from me: from the very first.
        let hint = hint_from_messages("dr", &msgs[2..]).unwrap();
        assert_eq!(hint.run_start, Some(t(3)));
    }

    #[test]
    fn without_last_sender_a_current_cache_decides() {
        let answered = hint_from_messages("dr", &[m(1, "pat", "dr", 1), m(2, "dr", "pat", 2)]).unwrap();
        assert_eq!(answered.run_start, None);
        assert_eq!(waiting_since("dr", summary(None, 2, 0), Some(&answered)), None);
        let asked = hint_from_messages("dr", &[m(1, "dr", "pat", 1), m(2, "pat", "dr", 2)]).unwrap();
        assert_eq!(waiting_since("dr", summary(None, 2, 0), Some(&asked)), Some(t(2)));
        // A stale cache (the summary is newer) does not decide; unread does.
        assert_eq!(waiting_since("dr", summary(None, 7, 0), Some(&answered)), None);
        assert_eq!(waiting_since("dr", summary(None, 7, 1), Some(&answered)), Some(t(7)));
        // Nothing known at all: not waiting rather than a guess.
        assert_eq!(waiting_since("dr", summary(None, 7, 0), None), None);
    }

    #[test]
    fn a_cache_newer_than_the_summary_decides() {
        // The summary (fetched before my reply) says the patient wrote last.
        let replied = hint_from_messages("dr", &[m(1, "pat", "dr", 1), m(2, "dr", "pat", 3)]).unwrap();
        assert_eq!(waiting_since("dr", summary(Some("pat"), 1, 1), Some(&replied)), None);
        let wrote_again = hint_from_messages("dr", &[m(1, "dr", "pat", 1), m(2, "pat", "dr", 3)]).unwrap();
        assert_eq!(waiting_since("dr", summary(Some("dr"), 1, 0), Some(&wrote_again)), Some(t(3)));
    }

    #[test]
    fn waiting_first_longest_wait_first_then_recent() {
        // (name, waiting since, newest)
        let mut rows = vec![
            ("recent-answered", None, Some(t(10))),
            ("waiting-short", Some(t(9)), Some(t(9))),
            ("no-time", None, None),
            ("waiting-long", Some(t(1)), Some(t(8))),
            ("old-answered", None, Some(t(2))),
        ];
        sort_rows(&mut rows, SortMode::Waiting, |r| (r.1, r.2));
        let names: Vec<_> = rows.iter().map(|r| r.0).collect();
        assert_eq!(names, ["waiting-long", "waiting-short", "recent-answered", "old-answered", "no-time"]);
        sort_rows(&mut rows, SortMode::Recent, |r| (r.1, r.2));
        let names: Vec<_> = rows.iter().map(|r| r.0).collect();
        assert_eq!(names, ["recent-answered", "waiting-short", "waiting-long", "old-answered", "no-time"]);
    }

    #[test]
    fn labels_and_roles() {
        assert_eq!(wait_label(t(0), t(0)), "now");
        assert_eq!(wait_label(t(0), t(0) + chrono::Duration::minutes(12)), "12m");
        assert_eq!(wait_label(t(0), t(3)), "3h");
        assert_eq!(wait_label(t(0), t(49)), "2d");
        assert_eq!(SortMode::for_role("clinician"), SortMode::Waiting);
        assert_eq!(SortMode::for_role("user"), SortMode::Recent);
        assert_eq!(SortMode::Waiting.toggled(), SortMode::Recent);
    }
}
