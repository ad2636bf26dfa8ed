//! `healing-tui watch`: one line per event as it happens (a new message, a message
//! read, a message deleted), for scripts, notifications, logs and screen readers.
//!
//! The news comes from the same live link as the interactive client (`crate::sync::link`):
//! websocket push where the server offers it, else budget-aware polling that never goes
//! over production's per-route limits. A polled message is known only from the inbox
//! summary (its preview, up to 100 characters, and no id); conversations are never
//! fetched, since fetching one marks it read on the server. Reads and deletions are only
//! seen with push.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::io::Write;
use std::time::Duration;

use chrono::TimeZone;
use clap::Args;
use tokio::sync::mpsc;

use crate::api::Client;
use crate::model::sanitize::sanitize_line;
use crate::model::time::Timestamp;
use crate::model::types::{InboxResponse, Message, WsEvent};
use crate::sync::link::{self, LinkConfig, LinkState, LiveCommand, LiveEvent};

/// `healing-tui watch` options.
#[derive(Debug, Clone, Args)]
pub struct WatchArgs {
    /// One JSON object per line, with the API's field names
    #[arg(long)]
    pub json: bool,
}

/// Something worth one line.
#[derive(Debug, Clone, PartialEq)]
pub enum Happening {
    /// A new message: complete when pushed; from the inbox summary when polled (the
    /// preview as content, id 0, and an empty sender when the server does not say).
    Message {
        /// The message.
        message: Message,
        /// Seen by polling the inbox rather than pushed.
        polled: bool,
    },
    /// A message was read by its recipient (push only).
    Read {
        /// Which message.
        message_id: i64,
        /// When.
        read_at: Option<Timestamp>,
    },
    /// A message was deleted (push only).
    Deleted {
        /// Which message.
        message_id: i64,
    },
}

/// What a conversation looked like at the last inbox: newest time and unread count.
type Seen = (Option<Timestamp>, u32);

/// Turns the live link's events into [`Happening`]s, each once: the first inbox is the
/// starting point (nothing in it is news), a pushed message is not reported again when
/// the next inbox shows it, and the same pushed id twice is one message.
#[derive(Debug, Default)]
pub struct Feed {
    me: String,
    baseline: Option<HashMap<String, Seen>>,
    /// Anything newer than the newest conversation at the start is news, even from a
    /// conversation that was not on the first page then.
    floor: Option<Timestamp>,
    seen_ids: HashSet<i64>,
}

impl Feed {
    /// A feed for the logged-in user `me`.
    pub fn new(me: &str) -> Feed {
        Feed { me: me.to_owned(), ..Default::default() }
    }

    /// The happenings in one link event (none for state changes and sync times).
    pub fn take(&mut self, event: &LiveEvent) -> Vec<Happening> {
        match event {
            LiveEvent::Inbox(inbox) => self.inbox(inbox),
            LiveEvent::Pushed(WsEvent::MessageNew { message }) => self.message(message.clone(), false),
            LiveEvent::Conversation { messages, .. } => {
                messages.iter().flat_map(|m| self.message(m.clone(), false)).collect()
            }
            LiveEvent::Pushed(WsEvent::MessageRead { message_id, read_at }) => {
                vec![Happening::Read { message_id: *message_id, read_at: *read_at }]
            }
            LiveEvent::Pushed(WsEvent::MessageDeleted { message_id }) => {
                vec![Happening::Deleted { message_id: *message_id }]
            }
            LiveEvent::State(_) | LiveEvent::Synced(_) | LiveEvent::SessionExpired => Vec::new(),
        }
    }

    fn other<'a>(&self, m: &'a Message) -> &'a str {
        if m.sender.eq_ignore_ascii_case(&self.me) {
            &m.recipient
        } else {
            &m.sender
        }
    }

    fn message(&mut self, message: Message, polled: bool) -> Vec<Happening> {
        if message.id > 0 && !self.seen_ids.insert(message.id) {
            return Vec::new();
        }
        // The inbox that shows this message later is not news again.
        let other = self.other(&message).to_owned();
        if let Some(base) = self.baseline.as_mut() {
            let slot = base.entry(other).or_insert((None, 0));
            slot.0 = slot.0.max(message.sent_at);
        }
        vec![Happening::Message { message, polled }]
    }

    fn inbox(&mut self, inbox: &InboxResponse) -> Vec<Happening> {
        let Some(base) = self.baseline.as_mut() else {
            self.floor = inbox.conversations.iter().filter_map(|c| c.last_message_time).max();
            self.baseline = Some(
                inbox
                    .conversations
                    .iter()
                    .map(|c| (c.with_user.clone(), (c.last_message_time, c.unread_count)))
                    .collect(),
            );
            return Vec::new();
        };
        let mut news = Vec::new();
        for c in &inbox.conversations {
            let before = base.insert(c.with_user.clone(), (c.last_message_time, c.unread_count));
            let newer = match before {
                Some((time, _)) => c.last_message_time > time,
                None => c.last_message_time > self.floor,
            };
            if !newer || c.with_user.is_empty() {
                continue;
            }
            let unread_before = before.map_or(0, |(_, n)| n);
            let sender = match c.last_sender.as_deref().filter(|s| !s.trim().is_empty()) {
                Some(s) => s.to_owned(),
                None if c.unread_count > unread_before => c.with_user.clone(),
                None => String::new(),
            };
            let recipient = if sender.is_empty() {
                String::new()
            } else if sender.eq_ignore_ascii_case(&self.me) {
                c.with_user.clone()
            } else {
                self.me.clone()
            };
            let message = Message {
                sender,
                recipient,
                content: c.last_message.clone(),
                sent_at: c.last_message_time,
                ..Default::default()
            };
            news.push(Happening::Message { message, polled: true });
        }
        news
    }
}

/// A happening as one plain line for people (local time, sanitized text, no newline).
pub fn plain_line<Tz: TimeZone>(h: &Happening, tz: &Tz) -> String
where
    Tz::Offset: std::fmt::Display,
{
    let when = |t: Option<Timestamp>| {
        t.map(|t| t.utc().with_timezone(tz).format("%Y-%m-%d %H:%M:%S").to_string())
            .unwrap_or_else(|| "-".repeat(19))
    };
    match h {
        Happening::Message { message: m, polled } => {
            let who = match (m.sender.is_empty(), m.recipient.is_empty()) {
                (false, false) => format!("{} -> {}", sanitize_line(&m.sender), sanitize_line(&m.recipient)),
                _ => format!("conversation with {}", sanitize_line(&m.recipient)),
            };
            let cut = if *polled && m.content.chars().count() >= 100 { "…" } else { "" };
            format!("{}  message  {who}: {}{cut}", when(m.sent_at), sanitize_line(&m.content))
        }
        Happening::Read { message_id, read_at } => {
            format!("{}  read     message {message_id}", when(*read_at))
        }
        Happening::Deleted { message_id } => {
            format!("{}  deleted  message {message_id}", when(Some(Timestamp::now())))
        }
    }
}

/// A happening as one JSON object: the API's websocket event shape (`type`,
/// `message` / `message_id`, `read_at`) plus `"via": "push" | "poll"`.
pub fn json_line(h: &Happening) -> String {
    let (event, via) = match h {
        Happening::Message { message, polled } => {
            (WsEvent::MessageNew { message: message.clone() }, if *polled { "poll" } else { "push" })
        }
        Happening::Read { message_id, read_at } => {
            (WsEvent::MessageRead { message_id: *message_id, read_at: *read_at }, "push")
        }
        Happening::Deleted { message_id } => (WsEvent::MessageDeleted { message_id: *message_id }, "push"),
    };
    let mut value = serde_json::to_value(&event).unwrap_or_default();
    if let (serde_json::Value::Object(map), Happening::Message { polled: true, .. }) = (&mut value, h) {
        // A polled message is known from the inbox only: no id, a preview for content.
        if let Some(serde_json::Value::Object(m)) = map.get_mut("message") {
            m.remove("id");
            m.remove("is_read");
            m.remove("read_at");
            for who in ["sender", "recipient"] {
                if m.get(who).and_then(|v| v.as_str()) == Some("") {
                    m.insert(who.to_owned(), serde_json::Value::Null);
                }
            }
        }
        map.insert("preview".to_owned(), serde_json::Value::Bool(true));
    }
    if let serde_json::Value::Object(map) = &mut value {
        map.insert("via".to_owned(), serde_json::Value::String(via.to_owned()));
    }
    super::json_terminal_safe(&value.to_string())
}

/// How a stream ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// Asked to stop (SIGINT, SIGTERM).
    Stopped,
    /// Standard output was closed (the reader went away).
    OutputClosed,
    /// The session expired: log in again.
    SessionExpired,
    /// The link ended by itself.
    LinkEnded,
}

/// A connection state worth a line on stderr, in the status bar's words.
pub fn state_words(s: &LinkState) -> String {
    match s {
        LinkState::Connecting => "connecting".to_owned(),
        LinkState::Live => "live (push)".to_owned(),
        LinkState::Polling { interval } => {
            format!("polling every {}s (no push on this server)", interval.as_secs())
        }
        LinkState::RateLimited { until } => {
            format!("rate-limited by the server; next check at {}", until.format("%H:%M:%S UTC"))
        }
        LinkState::Offline { retry_in } => format!("offline; retrying in {}s", retry_in.as_secs().max(1)),
    }
}

/// Print every happening on `out` (plain or JSON lines) until `stop` resolves, `out`
/// fails (a closed pipe), the session expires, or the link ends. Connection changes
/// go to `on_state` (the binary prints them on stderr, only when the kind changes).
pub async fn stream(
    client: Client,
    config: LinkConfig,
    json: bool,
    out: &mut (dyn Write + Send),
    mut on_state: impl FnMut(&LinkState) + Send,
    stop: impl Future<Output = ()> + Send,
) -> Ending {
    let me = client.username().unwrap_or_default();
    let (etx, mut events) = mpsc::channel(256);
    let (ctx, crx) = mpsc::channel(4);
    let task = link::spawn(client, config, etx, crx);
    let mut feed = Feed::new(&me);
    let tz = chrono::Local;
    tokio::pin!(stop);
    let ending = loop {
        let event = tokio::select! {
            _ = &mut stop => break Ending::Stopped,
            event = events.recv() => event,
        };
        let Some(event) = event else { break Ending::LinkEnded };
        match &event {
            LiveEvent::SessionExpired => break Ending::SessionExpired,
            LiveEvent::State(s) => on_state(s),
            _ => {}
        }
        let mut failed = false;
        for h in feed.take(&event) {
            let line = if json { json_line(&h) } else { plain_line(&h, &tz) };
            failed |= writeln!(out, "{line}").and_then(|_| out.flush()).is_err();
        }
        if failed {
            break Ending::OutputClosed;
        }
    };
    let _ = ctx.send(LiveCommand::Shutdown).await;
    drop(events);
    let _ = tokio::time::timeout(Duration::from_secs(2), task).await;
    ending
}

/// Resolves when the process should stop: SIGINT, SIGTERM, SIGHUP (the terminal went
/// away), or standard output closing (a pipe whose reader left).
pub async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate()).ok();
        let mut hup = signal(SignalKind::hangup()).ok();
        let recv = |s: &mut Option<tokio::signal::unix::Signal>| {
            let s = s.take();
            async move {
                match s {
                    Some(mut s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = recv(&mut term) => {}
            _ = recv(&mut hup) => {}
            _ = stdout_closed() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Resolves when standard output reports an error or hang-up (the reader of a pipe
/// went away); never, where stdout cannot be watched (a regular file).
#[cfg(unix)]
async fn stdout_closed() {
    use tokio::io::unix::AsyncFd;
    use tokio::io::Interest;
    // SAFETY: fd 1 is never closed by this process, so it stays the same open file
    // description for the whole life of the `AsyncFd`, which only waits for readiness.
    let registered = unsafe { AsyncFd::register_with_interest(std::io::stdout(), Interest::ERROR) };
    match registered {
        Ok(fd) => {
            let _ = fd.ready(Interest::ERROR).await;
        }
        Err(_) => std::future::pending::<()>().await,
    }
}

/// `healing-tui watch`: after the saved session, one line per event until stopped.
pub fn watch(global: &crate::config::GlobalFlags, args: WatchArgs) -> anyhow::Result<std::process::ExitCode> {
    super::finish(watch_inner(global, &args))
}

fn watch_inner(global: &crate::config::GlobalFlags, args: &WatchArgs) -> super::Outcome {
    let ctx = super::setup(global, "watch")?;
    let client = super::resume(&ctx, global)?;
    let config = LinkConfig::from_config(&ctx.config.poll);
    let mut last_kind = None;
    let on_state = move |s: &LinkState| {
        // One line per kind of state, not per countdown tick.
        let kind = std::mem::discriminant(s);
        if last_kind != Some(kind) {
            last_kind = Some(kind);
            eprintln!("healing-tui: {}", state_words(s));
        }
    };
    let ending = ctx.rt.block_on(async {
        let mut out = std::io::stdout();
        stream(client.clone(), config, args.json, &mut out, on_state, stop_signal()).await
    });
    super::save_session(&ctx, &client)?;
    tracing::info!(?ending, "watch ended");
    match ending {
        Ending::Stopped | Ending::OutputClosed => Ok(()),
        Ending::SessionExpired => {
            Err(super::Failure::new(super::EXIT_AUTH, "the session expired (run: healing-tui login)"))
        }
        Ending::LinkEnded => Err(super::Failure::new(super::EXIT_SERVER, "the link to the server ended")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::types::ConversationSummary;
    use chrono::Utc;

    fn ts(secs: i64) -> Option<Timestamp> {
        Some(Timestamp(Utc.timestamp_opt(1_800_000_000 + secs, 0).unwrap()))
    }

    fn inbox(rows: &[(&str, Option<&str>, &str, i64, u32)]) -> LiveEvent {
        LiveEvent::Inbox(InboxResponse {
            conversations: rows
                .iter()
                .map(|(with, sender, text, at, unread)| ConversationSummary {
                    with_user: (*with).into(),
                    last_sender: sender.map(Into::into),
                    last_message: (*text).into(),
                    last_message_time: ts(*at),
                    unread_count: *unread,
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        })
    }

    fn pushed(id: i64, from: &str, to: &str, text: &str, at: i64) -> LiveEvent {
        let message = Message {
            id,
            sender: from.into(),
            recipient: to.into(),
            content: text.into(),
            sent_at: ts(at),
            ..Default::default()
        };
        LiveEvent::Pushed(WsEvent::MessageNew { message })
    }

    #[test]
    fn the_first_inbox_is_the_start_and_later_ones_bring_news_once() {
        let mut feed = Feed::new("dr");
        assert!(feed.take(&inbox(&[("sam", Some("sam"), "old", 10, 1)])).is_empty());
        let news = feed.take(&inbox(&[("sam", Some("sam"), "new", 20, 2), ("kit", None, "hello", 30, 1)]));
        let got: Vec<(String, String, String)> = news
            .iter()
            .map(|h| match h {
                Happening::Message { message: m, polled: true } => {
                    (m.sender.clone(), m.recipient.clone(), m.content.clone())
                }
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            got,
            [("sam".into(), "dr".into(), "new".into()), ("kit".into(), "dr".into(), "hello".into())]
        );
        // The same inbox again: nothing new.
        assert!(feed
            .take(&inbox(&[("sam", Some("sam"), "new", 20, 2), ("kit", None, "hello", 30, 1)]))
            .is_empty());
    }

    #[test]
    fn a_pushed_message_is_not_reported_again_by_the_inbox_or_twice() {
        let mut feed = Feed::new("dr");
        feed.take(&inbox(&[("sam", Some("sam"), "old", 10, 0)]));
        assert_eq!(feed.take(&pushed(7, "sam", "dr", "hi", 20)).len(), 1);
        assert!(feed.take(&pushed(7, "sam", "dr", "hi", 20)).is_empty(), "same id twice");
        assert!(feed.take(&inbox(&[("sam", Some("sam"), "hi", 20, 1)])).is_empty(), "the inbox catching up");
    }

    #[test]
    fn an_older_conversation_sliding_onto_the_first_page_is_not_news() {
        let mut feed = Feed::new("dr");
        feed.take(&inbox(&[("sam", Some("sam"), "x", 50, 0)]));
        assert!(feed
            .take(&inbox(&[("sam", Some("sam"), "x", 50, 0), ("jo", Some("jo"), "old", 5, 0)]))
            .is_empty());
        // Without last_sender and no new unread, the sender is not invented.
        let news = feed.take(&inbox(&[("sam", None, "sent elsewhere", 60, 0)]));
        let Happening::Message { message, .. } = &news[0] else { panic!() };
        assert_eq!((message.sender.as_str(), message.recipient.as_str()), ("", ""));
        assert!(json_line(&news[0]).contains("\"sender\":null"), "{}", json_line(&news[0]));
    }

    #[test]
    fn lines_plain_and_json() {
        let h = Happening::Message {
            message: Message {
                id: 9,
                sender: "sam".into(),
                recipient: "dr".into(),
                content: "two\nlines \u{1b}[31mred\u{202e}".into(),
                sent_at: ts(0),
                ..Default::default()
            },
            polled: false,
        };
        let plain = plain_line(&h, &Utc);
        assert_eq!(plain, "2027-01-15 08:00:00  message  sam -> dr: two lines red");
        let v: serde_json::Value = serde_json::from_str(&json_line(&h)).unwrap();
        assert_eq!(v["type"], "message.new");
        assert_eq!(v["via"], "push");
        assert_eq!(v["message"]["id"], 9);
        assert_eq!(v["message"]["sender"], "sam");
        assert!(!json_line(&h).contains('\u{202e}'), "escaped for terminals");
        let read = Happening::Read { message_id: 9, read_at: ts(60) };
        assert_eq!(plain_line(&read, &Utc), "2027-01-15 08:01:00  read     message 9");
        let v: serde_json::Value = serde_json::from_str(&json_line(&read)).unwrap();
        assert_eq!((v["type"].as_str(), v["message_id"].as_i64()), (Some("message.read"), Some(9)));
        let v: serde_json::Value =
            serde_json::from_str(&json_line(&Happening::Deleted { message_id: 3 })).unwrap();
        assert_eq!(v["type"], "message.deleted");
    }
}
