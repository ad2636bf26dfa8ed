//! `healing-tui chat USER`: a conversation in line mode, for screen readers, dumb
//! terminals and the worst links. No full-screen UI and no cursor addressing: the
//! conversation as plain lines, then a prompt; each line typed goes through the outbox
//! (saved before the first attempt, kept when it cannot go); messages that arrive are
//! printed above the prompt. With standard input not a terminal there is no prompt and
//! each input line is a message; at its end, what is queued is sent and the command
//! exits.

use std::collections::HashSet;
use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};
use clap::Args;
use tokio::sync::mpsc;

use super::{outbox, Failure, Outcome, EXIT_AUTH, EXIT_LOCAL};
use crate::api::{Client, Fetched};
use crate::model::sanitize::{sanitize, sanitize_line};
use crate::model::types::{Message, WsEvent};
use crate::store::{OutgoingMessage, Store};
use crate::sync::link::{self, LinkConfig, LiveCommand, LiveEvent};
use crate::sync::sender::{self, FlushReport};

/// `healing-tui chat` options.
#[derive(Debug, Clone, Args)]
pub struct ChatArgs {
    /// The other person's username
    pub user: String,
    /// How many earlier messages to show first
    #[arg(long, default_value_t = 20)]
    pub history: usize,
}

/// The prompt, when standard input is a terminal.
const PROMPT: &str = "> ";

/// How often to try again to send what is queued (offline, rate-limited).
const RETRY_EVERY: Duration = Duration::from_secs(30);

/// One message as plain lines: `HH:MM name: text`, later lines of the text indented.
/// The logged-in user is `you`. Local time; text sanitized.
pub fn message_lines(m: &Message, me: &str, tz: &chrono::FixedOffset) -> String {
    let who = if m.sender.eq_ignore_ascii_case(me) { "you".to_owned() } else { sanitize_line(&m.sender) };
    let when = m.sent_at.map(|t| t.utc().with_timezone(tz).format("%H:%M").to_string()).unwrap_or_default();
    let body = sanitize(&m.content);
    let mut lines = body.lines();
    let mut out = format!("{when} {who}: {}\n", lines.next().unwrap_or(""));
    for line in lines {
        out.push_str(&format!("      {line}\n"));
    }
    out
}

/// Where lines go: stdout, with the prompt kept at the bottom when interactive.
struct Screen {
    me: String,
    tz: chrono::FixedOffset,
    interactive: bool,
    shown: HashSet<i64>,
}

impl Screen {
    /// Print messages not shown yet, above the prompt (carriage return, then the lines,
    /// then the prompt again: no cursor addressing, so it works on a dumb terminal).
    fn show(&mut self, messages: &[Message]) -> std::io::Result<()> {
        let mut text = String::new();
        for m in messages {
            if m.id > 0 && !self.shown.insert(m.id) {
                continue;
            }
            text.push_str(&message_lines(m, &self.me, &self.tz));
        }
        if text.is_empty() {
            return Ok(());
        }
        let mut out = std::io::stdout().lock();
        if self.interactive {
            out.write_all(b"\r")?;
        }
        out.write_all(text.as_bytes())?;
        self.prompt_on(&mut out)
    }

    fn prompt_on(&self, out: &mut impl Write) -> std::io::Result<()> {
        if self.interactive {
            out.write_all(PROMPT.as_bytes())?;
        }
        out.flush()
    }

    fn note(&self, text: &str) {
        eprintln!("healing-tui: {}", sanitize_line(text));
    }
}

/// `healing-tui chat`.
pub fn chat(global: &crate::config::GlobalFlags, args: ChatArgs) -> anyhow::Result<std::process::ExitCode> {
    super::finish(chat_inner(global, &args))
}

fn chat_inner(global: &crate::config::GlobalFlags, args: &ChatArgs) -> Outcome {
    let ctx = super::setup(global, "chat")?;
    let client = super::resume(&ctx, global)?;
    let store = outbox::open_store(&ctx, &client)?;
    let user = args.user.trim().to_owned();
    let history = ctx.rt.block_on(client.conversation(&user, 200, None, None));
    let saved = super::save_session(&ctx, &client);
    let mut messages = match history.map_err(Failure::from_client(&client))? {
        Fetched::Fresh { value, .. } => value.messages,
        Fetched::NotModified => Vec::new(),
    };
    saved?;
    let mut screen = Screen {
        me: client.username().unwrap_or_default(),
        tz: *chrono::Local::now().offset(),
        interactive: std::io::stdin().is_terminal(),
        shown: HashSet::new(),
    };
    let newest = messages.iter().map(|m| m.id).max().unwrap_or(0);
    screen.shown.extend(messages.iter().map(|m| m.id));
    let skip = messages.len().saturating_sub(args.history);
    messages.drain(..skip);
    let mut out = std::io::stdout().lock();
    let head = match messages.is_empty() {
        true => format!("No messages with {} yet.\n", sanitize_line(&user)),
        false => messages.iter().map(|m| message_lines(m, &screen.me, &screen.tz)).collect(),
    };
    let _ = out.write_all(head.as_bytes()).and_then(|_| screen.prompt_on(&mut out));
    drop(out);
    let config = LinkConfig::from_config(&ctx.config.poll);
    let result = ctx.rt.block_on(converse(&client, &store, &user, newest, config, &mut screen));
    super::save_session(&ctx, &client)?;
    if screen.interactive {
        println!();
    }
    result
}

/// What the loop waits on.
enum Input {
    Line(Option<String>),
    Event(Option<LiveEvent>),
    Retry,
    Stop,
}

async fn converse(
    client: &Client,
    store: &Mutex<Store>,
    user: &str,
    newest: i64,
    config: LinkConfig,
    screen: &mut Screen,
) -> Outcome {
    let (etx, mut events) = mpsc::channel(64);
    let (ctx, crx) = mpsc::channel(4);
    // The link fetches this conversation (only what is newer) when it changes.
    let _ = ctx.send(LiveCommand::Open(Some((user.to_owned(), newest)))).await;
    let task = link::spawn(client.clone(), config, etx, crx);
    let mut lines = stdin_lines();
    let stop = super::watch::stop_signal();
    tokio::pin!(stop);
    let mut retry = tokio::time::interval(RETRY_EVERY);
    let outcome = loop {
        let input = tokio::select! {
            line = lines.recv() => Input::Line(line.flatten()),
            event = events.recv() => Input::Event(event),
            _ = retry.tick() => Input::Retry,
            _ = &mut stop => Input::Stop,
        };
        match input {
            Input::Line(Some(line)) => {
                let _ = ctx.send(LiveCommand::UserInput).await;
                if !line.trim().is_empty() {
                    let msg = OutgoingMessage::new(user.to_owned(), None, line.trim_end().to_owned());
                    outbox::lock(store).enqueue(&msg).map_err(|e| Failure::new(EXIT_LOCAL, e.to_string()))?;
                    flush(client, store, user, screen).await;
                } else {
                    let _ = screen.prompt_on(&mut std::io::stdout());
                }
            }
            Input::Line(None) => {
                // End of input: send what is queued, then leave.
                break finish_queue(client, store, user, screen).await;
            }
            Input::Event(None) => {
                break Err(Failure::new(super::EXIT_SERVER, "the link to the server ended"))
            }
            Input::Event(Some(LiveEvent::SessionExpired)) => {
                break Err(Failure::new(EXIT_AUTH, "the session expired (run: healing-tui login)"))
            }
            Input::Event(Some(event)) => {
                if screen.show(&arrived(&event, user, &screen.me)).is_err() {
                    break Ok(());
                }
            }
            Input::Retry => {
                if has_queued(store, user) {
                    flush(client, store, user, screen).await;
                }
            }
            Input::Stop => break Ok(()),
        }
    };
    let _ = ctx.send(LiveCommand::Shutdown).await;
    drop(events);
    let _ = tokio::time::timeout(Duration::from_secs(2), task).await;
    outcome
}

/// Standard input's lines, read on a plain thread: a blocked read cannot be cancelled,
/// and a runtime's blocking pool would wait for it at exit; a detached thread does not.
/// `None` at the end of input (or a read error).
fn stdin_lines() -> mpsc::Receiver<Option<String>> {
    let (tx, rx) = mpsc::channel(16);
    std::thread::spawn(move || {
        for line in std::io::BufRead::lines(std::io::stdin().lock()) {
            let Ok(line) = line else { break };
            if tx.blocking_send(Some(line)).is_err() {
                return;
            }
        }
        let _ = tx.blocking_send(None);
    });
    rx
}

/// Messages of the conversation with `user` in a link event.
fn arrived(event: &LiveEvent, user: &str, me: &str) -> Vec<Message> {
    let ours = |m: &Message| {
        let other = if m.sender.eq_ignore_ascii_case(me) { &m.recipient } else { &m.sender };
        other.eq_ignore_ascii_case(user)
    };
    match event {
        LiveEvent::Pushed(WsEvent::MessageNew { message }) if ours(message) => vec![message.clone()],
        LiveEvent::Conversation { user: with, messages } if with.eq_ignore_ascii_case(user) => {
            messages.iter().filter(|m| ours(m)).cloned().collect()
        }
        _ => Vec::new(),
    }
}

fn has_queued(store: &Mutex<Store>, user: &str) -> bool {
    let pending = outbox::lock(store).pending().unwrap_or_default();
    pending.iter().any(|e| {
        e.message.recipient.eq_ignore_ascii_case(user)
            && !matches!(e.state, crate::store::OutboxState::Sent { .. })
    })
}

/// Send what is queued; show our sent messages at once (their copies arriving later
/// are not shown twice) and say plainly what could not go.
async fn flush(
    client: &Client,
    store: &Mutex<Store>,
    user: &str,
    screen: &mut Screen,
) -> Option<FlushReport> {
    // The texts, to show what the server confirmed without waiting for its copy.
    let texts: std::collections::HashMap<uuid::Uuid, String> = outbox::lock(store)
        .pending()
        .unwrap_or_default()
        .into_iter()
        .map(|e| (e.message.client_id, e.message.content))
        .collect();
    let report = sender::flush(client, store).await;
    let now = Utc::now();
    let mine: Vec<Message> = report
        .sent
        .iter()
        .filter(|s| s.recipient.eq_ignore_ascii_case(user))
        .filter_map(|s| Some(sent_message(s.server_id, &screen.me, user, texts.get(&s.client_id)?, now)))
        .collect();
    let _ = screen.show(&mine);
    for refused in &report.failed {
        // A refused message would hold the queue: the user has the text on screen.
        let _ = outbox::lock(store).discard(refused.client_id);
        screen.note(&format!("not sent, refused by the server: {}", refused.reason));
    }
    if let Some(blocked) = &report.blocked {
        let why = outbox::blocked_failure(blocked, "the message is").message;
        screen.note(&why);
    }
    let _ = screen.prompt_on(&mut std::io::stdout());
    Some(report)
}

fn sent_message(id: i64, me: &str, to: &str, content: &str, at: DateTime<Utc>) -> Message {
    Message {
        id,
        sender: me.to_owned(),
        recipient: to.to_owned(),
        content: content.to_owned(),
        sent_at: Some(crate::model::time::Timestamp(at)),
        ..Default::default()
    }
}

/// At the end of input: one last flush; what still cannot go stays queued, and the exit
/// code says why (as `send` does).
async fn finish_queue(client: &Client, store: &Mutex<Store>, user: &str, screen: &mut Screen) -> Outcome {
    if !has_queued(store, user) {
        return Ok(());
    }
    let report = flush(client, store, user, screen).await;
    match report.and_then(|r| r.blocked) {
        Some(blocked) => Err(outbox::blocked_failure(&blocked, "unsent messages are")),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::time::Timestamp;
    use chrono::TimeZone;

    #[test]
    fn lines_name_you_indent_and_sanitize() {
        let at = Utc.with_ymd_and_hms(2026, 2, 5, 9, 5, 0).unwrap();
        let m = Message {
            id: 1,
            sender: "alex".into(),
            recipient: "sam".into(),
            content: "first\nsecond \u{1b}]0;title\u{7}line".into(),
            sent_at: Some(Timestamp(at)),
            ..Default::default()
        };
        let utc = chrono::FixedOffset::east_opt(0).unwrap();
        assert_eq!(message_lines(&m, "alex", &utc), "09:05 you: first\n      second line\n");
        assert_eq!(message_lines(&m, "sam", &utc), "09:05 alex: first\n      second line\n");
    }
}
