//! `healing-tui send` and `healing-tui outbox`: every message goes through the account's
//! outbox (saved before the first attempt), so a message typed while offline, or cut off
//! by a crash or `kill -9`, is sent later instead of lost.

use std::process::ExitCode;
use std::sync::Mutex;

use chrono::Utc;
use clap::Args;
use uuid::Uuid;

use super::{
    cut, finish, pad, print_json, relative_time, resume, save_session, setup, Ctx, Failure, Outcome,
    SendArgs, EXIT_AUTH, EXIT_LOCAL, EXIT_OFFLINE, EXIT_REFUSED, EXIT_SERVER, EXIT_USAGE, MAX_STDIN_BYTES,
};
use crate::api::Client;
use crate::cli::GlobalOpts;
use crate::live::sender::{self, Blocked, FlushReport};
use crate::sanitize::sanitize_line;
use crate::store::{OutboxEntry, OutboxState, OutgoingMessage, Store};

/// `healing-tui outbox` options.
#[derive(Debug, Clone, Args)]
pub struct OutboxArgs {
    /// Send what is queued now, then list what is left
    #[arg(long)]
    pub flush: bool,
    /// Remove one message (by the id shown in the list; a prefix is enough)
    #[arg(long, value_name = "ID", conflicts_with = "flush")]
    pub discard: Option<String>,
    /// Machine-readable output
    #[arg(long)]
    pub json: bool,
}

/// Everything `send` needs before it talks to the server.
fn message_text(args: &SendArgs) -> Result<String, Failure> {
    use std::io::Read;
    let content = match args.text.as_deref() {
        Some(text) if text != "-" => text.to_string(),
        _ => {
            let mut buf = String::new();
            std::io::stdin().take(MAX_STDIN_BYTES).read_to_string(&mut buf).map_err(|e| {
                Failure::new(EXIT_USAGE, format!("cannot read the message from standard input: {e}"))
            })?;
            buf.strip_suffix('\n').map(|s| s.strip_suffix('\r').unwrap_or(s)).unwrap_or(&buf).to_string()
        }
    };
    if content.trim().is_empty() {
        return Err(Failure::new(EXIT_USAGE, "the message is empty"));
    }
    Ok(content)
}

/// The account's store, for the logged-in user.
pub(super) fn open_store(ctx: &Ctx, client: &Client) -> Result<Mutex<Store>, Failure> {
    let username =
        client.username().ok_or_else(|| Failure::new(EXIT_AUTH, "not logged in (run: healing-tui login)"))?;
    let opened = Store::open_account(&ctx.paths.data_dir, client.server_url().as_str(), &username)
        .map_err(|e| Failure::new(EXIT_LOCAL, e.to_string()))?;
    if let Some(recovery) = &opened.recovered {
        eprintln!("healing-tui: warning: {}", sanitize_line(&recovery.message()));
    }
    Ok(Mutex::new(opened.store))
}

pub(super) fn lock(store: &Mutex<Store>) -> std::sync::MutexGuard<'_, Store> {
    // Each store write commits on its own: a poisoned lock still guards consistent data.
    store.lock().unwrap_or_else(|e| e.into_inner())
}

/// Why messages are still waiting after a flush, as an exit code and a line.
pub(super) fn blocked_failure(blocked: &Blocked, what: &str) -> Failure {
    match blocked {
        Blocked::Offline(why) => Failure::new(
            EXIT_OFFLINE,
            format!(
                "cannot reach the server ({why}); {what} queued; will be sent when the server is \
                 reachable (healing-tui outbox --flush)"
            ),
        ),
        Blocked::SessionExpired => Failure::new(
            EXIT_AUTH,
            format!("session expired: please log in again (run: healing-tui login); {what} queued"),
        ),
        Blocked::RateLimited(d) => Failure::new(
            EXIT_REFUSED,
            format!(
                "rate-limited by the server: try again in {}s; {what} queued (healing-tui outbox --flush)",
                d.as_secs()
            ),
        ),
        Blocked::Server(why) => Failure::new(
            EXIT_SERVER,
            format!("{why}; {what} queued (healing-tui outbox --flush checks whether it arrived)"),
        ),
        Blocked::Store(why) => Failure::new(EXIT_LOCAL, format!("local store: {why}")),
    }
}

/// Tell about messages queued earlier that this run sent as well.
fn note_others(report: &FlushReport, except: Option<Uuid>) {
    let others = report.sent.iter().filter(|c| Some(c.client_id) != except).count();
    if others > 0 {
        eprintln!("healing-tui: also sent {others} message(s) queued earlier");
    }
}

/// `healing-tui send`: save the message in the outbox, send everything queued (this
/// message last in its conversation) and print the new message's id.
pub fn send(global: &GlobalOpts, args: SendArgs) -> anyhow::Result<ExitCode> {
    finish(message_text(&args).and_then(|content| send_inner(global, &args, content)))
}

fn send_inner(global: &GlobalOpts, args: &SendArgs, content: String) -> Outcome {
    let ctx = setup(global, "send")?;
    let client = resume(&ctx, global)?;
    let store = open_store(&ctx, &client)?;
    let msg = OutgoingMessage::new(args.user.clone(), args.subject.clone(), content);
    lock(&store).enqueue(&msg).map_err(|e| Failure::new(EXIT_LOCAL, e.to_string()))?;
    let report = ctx.rt.block_on(sender::flush(&client, &store));
    let saved = save_session(&ctx, &client);
    note_others(&report, Some(msg.client_id));
    if let Some(sent) = report.sent.iter().find(|c| c.client_id == msg.client_id) {
        tracing::info!(message_id = sent.server_id, "sent");
        println!("{}", sent.server_id);
        return saved;
    }
    if let Some(refused) = report.failed.iter().find(|r| r.client_id == msg.client_id) {
        // The caller learns of the refusal right here (exit code and reason), and has
        // the text in hand: keeping it would only hold this conversation's queue.
        if let Err(e) = lock(&store).discard(msg.client_id) {
            tracing::warn!(error = %e, "refused message left in the outbox");
        }
        return Err(Failure::new(EXIT_REFUSED, format!("refused by the server: {}", refused.reason)));
    }
    if let Some(blocked) = &report.blocked {
        return Err(blocked_failure(blocked, "the message is"));
    }
    Err(Failure::new(
        EXIT_REFUSED,
        format!(
            "queued behind an earlier message to {} that the server refused; see healing-tui outbox",
            args.user
        ),
    ))
}

/// `healing-tui outbox`: list unsent and refused messages; `--flush` sends first;
/// `--discard ID` removes one.
pub fn outbox(global: &GlobalOpts, args: OutboxArgs) -> anyhow::Result<ExitCode> {
    finish(outbox_inner(global, &args))
}

fn outbox_inner(global: &GlobalOpts, args: &OutboxArgs) -> Outcome {
    let ctx = setup(global, "outbox")?;
    let client = resume(&ctx, global)?;
    let store = open_store(&ctx, &client)?;
    if let Some(prefix) = &args.discard {
        return discard(&store, prefix);
    }
    let report = if args.flush {
        let report = ctx.rt.block_on(sender::flush(&client, &store));
        save_session(&ctx, &client)?;
        if !args.json {
            for sent in &report.sent {
                println!("sent {} to {}", sent.server_id, sanitize_line(&sent.recipient));
            }
        }
        Some(report)
    } else {
        None
    };
    let entries: Vec<OutboxEntry> = lock(&store)
        .pending()
        .map_err(|e| Failure::new(EXIT_LOCAL, e.to_string()))?
        .into_iter()
        .filter(|e| !matches!(e.state, OutboxState::Sent { .. }))
        .collect();
    if args.json {
        print_json(&entries.iter().map(entry_json).collect::<Vec<_>>())?;
    } else {
        print!("{}", render_outbox(&entries, Utc::now(), &chrono::Local));
    }
    let Some(report) = report else { return Ok(()) };
    if let Some(blocked) = &report.blocked {
        return Err(blocked_failure(blocked, &format!("{} message(s) still", report.waiting)));
    }
    if report.held > 0 {
        return Err(Failure::new(
            EXIT_REFUSED,
            format!(
                "{} message(s) refused by the server wait for you: edit them in the app, or \
                 healing-tui outbox --discard ID",
                report.held
            ),
        ));
    }
    Ok(())
}

fn discard(store: &Mutex<Store>, prefix: &str) -> Outcome {
    let prefix = prefix.trim().to_ascii_lowercase();
    let pending = lock(store).pending().map_err(|e| Failure::new(EXIT_LOCAL, e.to_string()))?;
    let matching: Vec<&OutboxEntry> = pending
        .iter()
        .filter(|e| !prefix.is_empty() && e.message.client_id.to_string().starts_with(&prefix))
        .collect();
    let entry = match matching.as_slice() {
        [one] => *one,
        [] => return Err(Failure::new(EXIT_USAGE, format!("no outbox message with id {prefix}"))),
        _ => {
            return Err(Failure::new(
                EXIT_USAGE,
                format!("{prefix} matches several messages; give more of it"),
            ))
        }
    };
    lock(store).discard(entry.message.client_id).map_err(|e| {
        // Refused while `sending`: the server may have it already.
        Failure::new(EXIT_USAGE, format!("{e}; run healing-tui outbox --flush first"))
    })?;
    println!("discarded the message to {}", sanitize_line(&entry.message.recipient));
    Ok(())
}

fn entry_json(e: &OutboxEntry) -> serde_json::Value {
    let reason = match &e.state {
        OutboxState::Failed { reason } => Some(reason.as_str()),
        _ => None,
    };
    serde_json::json!({
        "client_id": e.message.client_id.to_string(),
        "recipient": e.message.recipient,
        "subject": e.message.subject,
        "content": e.message.content,
        "created_at": e.message.created_at.to_rfc3339(),
        "state": e.state.name(),
        "reason": reason,
        "attempts": e.attempts,
    })
}

/// One line per message (state, short id, recipient, age, text), plus the server's
/// reason under a refused one.
fn render_outbox<Tz: chrono::TimeZone>(entries: &[OutboxEntry], now: chrono::DateTime<Utc>, tz: &Tz) -> String
where
    Tz::Offset: std::fmt::Display,
{
    if entries.is_empty() {
        return "The outbox is empty.\n".to_string();
    }
    let mut out = String::new();
    for e in entries {
        let state = match e.state {
            OutboxState::Sending { .. } => "in doubt",
            ref other => other.name(),
        };
        let id = e.message.client_id.to_string();
        out.push_str(&format!(
            "{}  {}  {}  {}  {}\n",
            pad(state, 8),
            &id[..8],
            pad(&cut(&sanitize_line(&e.message.recipient), 16), 16),
            pad(&relative_time(e.message.created_at, now, tz), 9),
            cut(&sanitize_line(&e.message.content), 60),
        ));
        if let OutboxState::Failed { reason } = &e.state {
            out.push_str(&format!("          refused: {}\n", sanitize_line(reason)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn entry(state: OutboxState, content: &str) -> OutboxEntry {
        let mut message = OutgoingMessage::new("dr_morgan", None, content);
        message.client_id = Uuid::from_u128(0x1234_5678_0000_0000_0000_0000_0000_0001);
        message.created_at = Utc.with_ymd_and_hms(2026, 11, 28, 10, 0, 0).unwrap();
        OutboxEntry { message, state, attempts: 1, first_attempt_at: None, seq: 1 }
    }

    #[test]
    fn outbox_lines_show_state_id_and_reason() {
        let now = Utc.with_ymd_and_hms(2026, 11, 28, 10, 5, 0).unwrap();
        let text = render_outbox(
            &[
                entry(OutboxState::Queued, "see you\x1b[2J tomorrow"),
                entry(OutboxState::Failed { reason: "Recipient not found".into() }, "hello"),
            ],
            now,
            &Utc,
        );
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert!(lines[0].starts_with("queued    12345678  dr_morgan"), "{text}");
        assert!(!text.contains('\x1b'), "sanitized: {text:?}");
        assert!(lines[1].starts_with("failed    12345678"), "{text}");
        assert_eq!(lines[2].trim(), "refused: Recipient not found");
        assert_eq!(render_outbox(&[], now, &Utc), "The outbox is empty.\n");
    }

    #[test]
    fn offline_says_queued_and_exits_5() {
        let f = blocked_failure(&Blocked::Offline("Connection refused".into()), "the message is");
        assert_eq!(f.code, EXIT_OFFLINE);
        assert!(f
            .message
            .contains("queued; will be sent when the server is reachable (healing-tui outbox --flush)"));
        assert_eq!(blocked_failure(&Blocked::SessionExpired, "x").code, EXIT_AUTH);
    }
}
