//! `healing-tui send` and `healing-tui outbox`: every message goes through the account's
//! outbox (saved before the first attempt), so a message typed while offline, or cut off
//! by a crash or `kill -9`, is sent later instead of lost.

use std::process::ExitCode;
use std::sync::Mutex;

use chrono::Utc;
use clap::Args;
use uuid::Uuid;

use super::{
    cut, finish, pad, print_json, resume, save_session, setup, Ctx, Failure, Outcome, SendArgs, EXIT_AUTH,
    EXIT_LOCAL, EXIT_OFFLINE, EXIT_REFUSED, EXIT_SERVER, EXIT_USAGE, MAX_STDIN_BYTES,
};
use crate::api::Client;
use crate::config::GlobalFlags;
use crate::model::sanitize::sanitize_line;
use crate::store::{OutboxEntry, OutboxState, OutgoingMessage, Store};
use crate::sync::sender::{self, Blocked, FlushReport};

/// `healing-tui outbox` options.
#[derive(Debug, Clone, Args)]
pub struct OutboxArgs {
    /// Send what is queued now, then list what is left
    #[arg(long)]
    pub flush: bool,
    /// With --flush: also try at once the messages waiting out their backoff
    #[arg(long, requires = "flush")]
    pub now: bool,
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

pub(super) use crate::model::lock::lock;

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
        Blocked::Backoff { reason, until } => Failure::new(
            EXIT_SERVER,
            format!(
                "{reason}; {what} queued: next try at {} (healing-tui outbox --flush then, or \
                 --flush --now to try at once)",
                until.with_timezone(&chrono::Local).format("%H:%M")
            ),
        ),
        Blocked::Elsewhere => Failure::new(
            EXIT_OFFLINE,
            format!(
                "another healing-tui of this account has been sending to the same person for a while \
                 (a slow server?); {what} queued and that one sends it (or: healing-tui outbox --flush)"
            ),
        ),
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
pub fn send(global: &GlobalFlags, args: SendArgs) -> anyhow::Result<ExitCode> {
    finish(message_text(&args).and_then(|content| send_inner(global, &args, content)))
}

fn send_inner(global: &GlobalFlags, args: &SendArgs, content: String) -> Outcome {
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
    // Another process flushing the same outbox may have sent it meanwhile.
    let entry =
        lock(&store).outbox_entry(msg.client_id).map_err(|e| Failure::new(EXIT_LOCAL, e.to_string()))?;
    match entry.map(|e| e.state) {
        Some(OutboxState::Sent { server_id }) => {
            println!("{server_id}");
            return saved;
        }
        None => {
            eprintln!("healing-tui: no longer in the outbox: sent (or discarded) by another healing-tui of this account");
            return saved;
        }
        _ => {}
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
pub fn outbox(global: &GlobalFlags, args: OutboxArgs) -> anyhow::Result<ExitCode> {
    finish(outbox_inner(global, &args))
}

fn outbox_inner(global: &GlobalFlags, args: &OutboxArgs) -> Outcome {
    let ctx = setup(global, "outbox")?;
    let client = resume(&ctx, global)?;
    let store = open_store(&ctx, &client)?;
    if let Some(prefix) = &args.discard {
        return discard(&store, prefix);
    }
    let report = if args.flush {
        if args.now {
            lock(&store).retry_now().map_err(|e| Failure::new(EXIT_LOCAL, e.to_string()))?;
        }
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
    // Refused only while a process is sending it this very moment.
    lock(store).discard(entry.message.client_id).map_err(|e| Failure::new(EXIT_LOCAL, e.to_string()))?;
    println!("discarded the message to {}", sanitize_line(&entry.message.recipient));
    if matches!(entry.state, OutboxState::Sending { .. }) {
        println!("(its last attempt's outcome was unknown: it may have reached them already)");
    }
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
        "last_error": e.last_error,
        "retry_at": e.retry_at.map(|t| t.to_rfc3339()),
    })
}

/// The shortest id length (at least 8) at which every one of `ids` reads differently,
/// so any id shown can be given to `--discard`.
fn unique_prefix_len(mut ids: Vec<String>) -> usize {
    ids.sort();
    ids.dedup();
    let longest = ids.iter().map(String::len).max().unwrap_or(8);
    // Neighbours in sorted order share the longest prefixes.
    let shared = ids
        .windows(2)
        .map(|w| w[0].bytes().zip(w[1].bytes()).take_while(|(a, b)| a == b).count())
        .max()
        .unwrap_or(0);
    (shared + 1).clamp(8, longest.max(8))
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
    let id_len = unique_prefix_len(entries.iter().map(|e| e.message.client_id.to_string()).collect());
    for (i, e) in entries.iter().enumerate() {
        let state = match e.state {
            OutboxState::Sending { .. } => "in doubt",
            ref other => other.name(),
        };
        let id = e.message.client_id.to_string();
        out.push_str(&format!(
            "{}  {}  {}  {}  {}\n",
            pad(state, 8),
            &id[..id_len.min(id.len())],
            pad(&cut(&sanitize_line(&e.message.recipient), 16), 16),
            pad(&crate::model::time_fmt::relative(e.message.created_at, now, tz), 9),
            cut(&sanitize_line(&e.message.content), 60),
        ));
        if let OutboxState::Failed { reason } = &e.state {
            out.push_str(&format!("          refused: {}\n", sanitize_line(reason)));
        }
        if let (Some(why), Some(at)) = (&e.last_error, e.retry_at) {
            let at = at.with_timezone(tz).format("%H:%M");
            out.push_str(&format!("          {} · retry {at}\n", sanitize_line(why)));
        }
        let refused_before = entries[..i].iter().any(|b| {
            b.message.recipient == e.message.recipient && matches!(b.state, OutboxState::Failed { .. })
        });
        if e.state == OutboxState::Queued && refused_before {
            out.push_str(
                "          waits for the refused message above: edit it in the app, or --discard it\n",
            );
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
        OutboxEntry {
            message,
            state,
            attempts: 1,
            first_attempt_at: None,
            seq: 1,
            retry_at: None,
            last_error: None,
        }
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
        let held = render_outbox(
            &[entry(OutboxState::Failed { reason: "no".into() }, "a"), entry(OutboxState::Queued, "b")],
            now,
            &Utc,
        );
        assert!(
            held.ends_with("waits for the refused message above: edit it in the app, or --discard it\n"),
            "{held}"
        );
        assert!(lines[0].starts_with("queued    12345678  dr_morgan"), "{text}");
        assert!(!text.contains('\x1b'), "sanitized: {text:?}");
        assert!(lines[1].starts_with("failed    12345678"), "{text}");
        assert_eq!(lines[2].trim(), "refused: Recipient not found");
        assert_eq!(render_outbox(&[], now, &Utc), "The outbox is empty.\n");
    }

    #[test]
    fn short_ids_are_unique_among_those_listed() {
        let now = Utc.with_ymd_and_hms(2026, 11, 28, 10, 5, 0).unwrap();
        let mut a = entry(OutboxState::Queued, "one");
        let mut b = entry(OutboxState::Queued, "two");
        a.message.client_id = Uuid::parse_str("834d96a0-1111-4000-8000-000000000001").unwrap();
        b.message.client_id = Uuid::parse_str("834d96a0-1122-4000-8000-000000000002").unwrap();
        let text = render_outbox(&[a.clone(), b], now, &Utc);
        let ids: Vec<&str> = text.lines().map(|l| l.split_whitespace().nth(1).unwrap()).collect();
        assert_eq!(ids, ["834d96a0-111", "834d96a0-112"], "{text}");
        let alone = render_outbox(&[a], now, &Utc);
        assert!(alone.contains(" 834d96a0 "), "eight characters when they suffice: {alone}");
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
