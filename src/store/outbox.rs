//! The outbox: every outgoing message is saved here before the first send attempt and
//! leaves only when the server has confirmed it.
//!
//! States: `queued` → `sending` → `sent(server id)`, or `failed(reason)` on a permanent
//! refusal (4xx), which stays visible until the user edits (→ `queued`) or discards it.
//! Each transition is one committed transaction, so a crash or `kill -9` at any point
//! leaves the message in its last reported state and the next start resumes.
//!
//! # The sender's loop (for the caller)
//!
//! 1. [`Store::next_to_send`] gives the head of each conversation's queue. Send them
//!    in any order across conversations, but within a conversation only that head:
//!    [`Store::mark_sending`] refuses a message while an earlier one to the same
//!    recipient is unsent (including a `failed` one, which holds the queue until the
//!    user edits or discards it — order matters more than speed in a conversation).
//! 2. Before each attempt call [`Store::mark_sending`] with the time the attempt
//!    starts, then send with `Idempotency-Key: <client_id>`.
//! 3. On 201 call [`Store::mark_sent`]; on a 4xx refusal [`Store::mark_failed`] with the
//!    server's reason; when the request certainly never reached the server (connection
//!    refused, DNS failure) [`Store::mark_retry`] and retry with backoff.
//! 4. **Ambiguous failure** (timeout, or the connection dropped after the body was
//!    sent): leave the message `sending`. A server that honours the `Idempotency-Key`
//!    makes resending safe. Against one that does not (production), first fetch the
//!    conversation and look for our own copy with [`Store::resolve_echo`] (built on the
//!    pure [`find_echo`]): found → [`Store::mark_sent`] with its id; not found → send
//!    again. A `sending` entry found at start-up is exactly this case (the process died
//!    mid-attempt) and is resolved the same way.
//! 5. Do steps 2–4 holding the conversation's claim ([`Store::try_claim`]) and read the
//!    head again under it ([`Store::head_for`]): several processes may share the outbox.
//! 6. A failure worth waiting out (5xx, 429) is written on the message with
//!    [`Store::set_retry`] (reason and next try); skip it until then.
//!    [`Store::retry_now`] forgets those waits when the user asks.

use chrono::{DateTime, Duration, DurationRound, Utc};
use rusqlite::{params, OptionalExtension, Row};
use uuid::Uuid;

use super::db::{from_micros, to_micros, write_tx, Store};
use super::error::{Result, StoreError};
use crate::model::types::{Message, SendRequest};

/// How far before the attempt start a server timestamp may be and still count as our
/// echo: the server's clock may run a few seconds behind ours, and it reports whole
/// seconds.
pub const ECHO_CLOCK_SKEW: Duration = Duration::seconds(5);

/// A message the user wrote, as saved in the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMessage {
    /// Our id for it; sent as the `Idempotency-Key`.
    pub client_id: Uuid,
    /// Who it is for.
    pub recipient: String,
    /// Optional subject.
    pub subject: Option<String>,
    /// The text.
    pub content: String,
    /// When the user sent it (for display until the server's time is known). Stored to
    /// the microsecond.
    pub created_at: DateTime<Utc>,
}

impl OutgoingMessage {
    /// A new message with a fresh client id, created now (to the microsecond, the
    /// precision the outbox stores, so what is read back equals what was written).
    pub fn new(recipient: impl Into<String>, subject: Option<String>, content: impl Into<String>) -> Self {
        let now = Utc::now();
        OutgoingMessage {
            client_id: Uuid::new_v4(),
            recipient: recipient.into(),
            subject,
            content: content.into(),
            created_at: now.duration_trunc(Duration::microseconds(1)).unwrap_or(now),
        }
    }

    /// The body of `POST /api/messages/send` for it.
    pub fn send_request(&self) -> SendRequest {
        SendRequest {
            recipient: self.recipient.clone(),
            content: self.content.clone(),
            subject: self.subject.clone(),
        }
    }
}

/// Where an outbox message is in its life.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutboxState {
    /// Waiting for its turn or for the link.
    Queued,
    /// An attempt started at this time and its outcome is not known yet.
    Sending {
        /// When the latest attempt started.
        attempt_started_at: DateTime<Utc>,
    },
    /// The server confirmed it; kept (as the local echo) until the real message is
    /// in the cache, then removed.
    Sent {
        /// The server's id for it.
        server_id: i64,
    },
    /// The server refused it; kept until the user edits or discards it.
    Failed {
        /// The server's reason, as it said it (sanitize before display).
        reason: String,
    },
}

impl OutboxState {
    /// Short name: `queued`, `sending`, `sent`, `failed`.
    pub fn name(&self) -> &'static str {
        match self {
            OutboxState::Queued => "queued",
            OutboxState::Sending { .. } => "sending",
            OutboxState::Sent { .. } => "sent",
            OutboxState::Failed { .. } => "failed",
        }
    }
}

/// One outbox row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEntry {
    /// The message.
    pub message: OutgoingMessage,
    /// Its state.
    pub state: OutboxState,
    /// Send attempts started so far (since the last edit).
    pub attempts: u32,
    /// When the first attempt whose outcome may be unknown started: the time to give
    /// [`find_echo`].
    pub first_attempt_at: Option<DateTime<Utc>>,
    /// Position in the global send order (enqueue order).
    pub seq: i64,
    /// Not to be tried before this time: the message's own backoff after the server
    /// failed it, or the server's wait after a 429. `None`: at once.
    pub retry_at: Option<DateTime<Utc>>,
    /// Why the last attempt did not get through (sanitize before display); cleared when
    /// the message is sent or edited.
    pub last_error: Option<String>,
}

const ENTRY_COLUMNS: &str = "seq, client_id, recipient, subject, content, created_at, state, attempts, \
                             first_attempt_at, last_attempt_at, server_id, failure, retry_at, last_error";

fn bad_row(column: usize, what: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        column,
        rusqlite::types::Type::Text,
        format!("outbox row has an invalid {what}").into(),
    )
}

fn row_to_entry(r: &Row<'_>) -> rusqlite::Result<OutboxEntry> {
    let id: String = r.get(1)?;
    let client_id = Uuid::parse_str(&id).map_err(|_| bad_row(1, "client id"))?;
    let created_at = from_micros(r.get(5)?).ok_or_else(|| bad_row(5, "creation time"))?;
    let state: String = r.get(6)?;
    let last_attempt = r.get::<_, Option<i64>>(9)?.and_then(from_micros);
    let state = match state.as_str() {
        "queued" => OutboxState::Queued,
        "sending" => OutboxState::Sending { attempt_started_at: last_attempt.unwrap_or(created_at) },
        "sent" => OutboxState::Sent {
            server_id: r.get::<_, Option<i64>>(10)?.ok_or_else(|| bad_row(10, "server id"))?,
        },
        "failed" => OutboxState::Failed { reason: r.get::<_, Option<String>>(11)?.unwrap_or_default() },
        _ => return Err(bad_row(6, "state")),
    };
    Ok(OutboxEntry {
        seq: r.get(0)?,
        message: OutgoingMessage {
            client_id,
            recipient: r.get(2)?,
            subject: r.get(3)?,
            content: r.get(4)?,
            created_at,
        },
        state,
        attempts: r.get::<_, i64>(7)?.clamp(0, i64::from(u32::MAX)) as u32,
        first_attempt_at: r.get::<_, Option<i64>>(8)?.and_then(from_micros),
        retry_at: r.get::<_, Option<i64>>(12)?.and_then(from_micros),
        last_error: r.get(13)?,
    })
}

impl Store {
    /// Save a message to the outbox as `queued`. Call this before any send attempt.
    /// Enqueuing the same client id again changes nothing.
    pub fn enqueue(&mut self, msg: &OutgoingMessage) -> Result<OutboxEntry> {
        self.conn.execute(
            "INSERT OR IGNORE INTO outbox (client_id, recipient, subject, content, created_at, state)
             VALUES (?1, ?2, ?3, ?4, ?5, 'queued')",
            params![
                msg.client_id.to_string(),
                msg.recipient,
                msg.subject,
                msg.content,
                to_micros(msg.created_at)
            ],
        )?;
        self.outbox_entry(msg.client_id)?.ok_or(StoreError::NotInOutbox { client_id: msg.client_id })
    }

    /// One outbox entry by client id.
    pub fn outbox_entry(&self, client_id: Uuid) -> Result<Option<OutboxEntry>> {
        let sql = format!("SELECT {ENTRY_COLUMNS} FROM outbox WHERE client_id = ?1");
        Ok(self.conn.query_row(&sql, [client_id.to_string()], row_to_entry).optional()?)
    }

    /// The messages to send now: for each conversation, its oldest unconfirmed message,
    /// if that one is `queued` or `sending` (a `sending` one had an attempt with an
    /// unknown outcome: resolve it first, see the module docs). A `failed` head holds
    /// its conversation. In enqueue order.
    pub fn next_to_send(&self) -> Result<Vec<OutboxEntry>> {
        let sql = format!(
            "SELECT {ENTRY_COLUMNS} FROM outbox o
             WHERE o.state IN ('queued', 'sending')
               AND o.seq = (SELECT min(seq) FROM outbox e WHERE e.recipient = o.recipient AND e.state != 'sent')
             ORDER BY o.seq"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map([], row_to_entry)?.collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// The head of `recipient`'s queue (its oldest unconfirmed message) as it is now, if
    /// that one is `queued` or `sending`. Read again under the conversation's
    /// [`crate::store::SendClaim`]: another process may have moved it along meanwhile.
    pub fn head_for(&self, recipient: &str) -> Result<Option<OutboxEntry>> {
        let sql = format!(
            "SELECT {ENTRY_COLUMNS} FROM outbox
             WHERE recipient = ?1 AND state != 'sent' ORDER BY seq LIMIT 1"
        );
        let head = self.conn.query_row(&sql, [recipient], row_to_entry).optional()?;
        Ok(head.filter(|e| matches!(e.state, OutboxState::Queued | OutboxState::Sending { .. })))
    }

    /// Everything in the outbox, in enqueue order: the local echoes to show, with their
    /// status marks.
    pub fn pending(&self) -> Result<Vec<OutboxEntry>> {
        let sql = format!("SELECT {ENTRY_COLUMNS} FROM outbox ORDER BY seq");
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map([], row_to_entry)?.collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// The outbox entries for one conversation, in order (shown after its messages).
    pub fn pending_for(&self, with_user: &str) -> Result<Vec<OutboxEntry>> {
        let sql = format!("SELECT {ENTRY_COLUMNS} FROM outbox WHERE recipient = ?1 ORDER BY seq");
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map([with_user], row_to_entry)?.collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// A send attempt starts now (`attempt_started_at`). Allowed from `queued` and
    /// `sending` (a retry), and only for the head of its conversation's queue.
    pub fn mark_sending(&mut self, client_id: Uuid, attempt_started_at: DateTime<Utc>) -> Result<()> {
        let at = to_micros(attempt_started_at);
        let n = self.conn.execute(
            "UPDATE outbox SET state = 'sending', attempts = attempts + 1,
                 first_attempt_at = coalesce(first_attempt_at, ?2), last_attempt_at = ?2
             WHERE client_id = ?1 AND state IN ('queued', 'sending')
               AND NOT EXISTS (SELECT 1 FROM outbox e WHERE e.recipient = outbox.recipient
                               AND e.seq < outbox.seq AND e.state != 'sent')",
            params![client_id.to_string(), at],
        )?;
        if n == 1 {
            return Ok(());
        }
        let entry = self.outbox_entry(client_id)?.ok_or(StoreError::NotInOutbox { client_id })?;
        match entry.state {
            OutboxState::Queued | OutboxState::Sending { .. } => Err(StoreError::InvalidTransition {
                client_id,
                action: "send (an earlier message to the same person is not sent yet)",
                state: entry.state.name(),
            }),
            other => Err(StoreError::InvalidTransition { client_id, action: "send", state: other.name() }),
        }
    }

    /// The attempt certainly did not reach the server (e.g. connection refused): back
    /// to `queued` for a later retry. The first uncertain attempt time is kept.
    pub fn mark_retry(&mut self, client_id: Uuid) -> Result<()> {
        self.transition(
            client_id,
            "retry",
            "UPDATE outbox SET state = 'queued' WHERE client_id = ?1 AND state IN ('queued', 'sending')",
            None,
        )
    }

    /// The attempt did not get through: try again not before `retry_at`, and say
    /// `error` on the message's mark meanwhile. The state is left as it is: `queued`
    /// when the attempt certainly carried nothing, `sending` (in doubt: checked against
    /// the server's sent list before the next attempt) otherwise.
    pub fn set_retry(&mut self, client_id: Uuid, error: &str, retry_at: DateTime<Utc>) -> Result<()> {
        let n = self.conn.execute(
            "UPDATE outbox SET last_error = ?2, retry_at = ?3
             WHERE client_id = ?1 AND state IN ('queued', 'sending')",
            params![client_id.to_string(), error, to_micros(retry_at)],
        )?;
        if n == 1 {
            Ok(())
        } else {
            self.transition_error(client_id, "schedule a retry")
        }
    }

    /// The user asked to try again now (`R`): forget every message's backoff. The
    /// server's 429 wait is kept by the sender itself. Returns how many were waiting.
    pub fn retry_now(&mut self) -> Result<usize> {
        Ok(self.conn.execute(
            "UPDATE outbox SET retry_at = NULL WHERE retry_at IS NOT NULL AND state IN ('queued', 'sending')",
            [],
        )?)
    }

    /// The server confirmed the message with `server_id`. It stays as `sent` (the
    /// local echo) until the real message is merged into the cache, which removes it;
    /// if that message is already cached it is removed at once. Never sent again.
    pub fn mark_sent(&mut self, client_id: Uuid, server_id: i64) -> Result<()> {
        let tx = write_tx(&mut self.conn)?;
        let n = tx.execute(
            "UPDATE outbox SET state = 'sent', server_id = ?2, failure = NULL, retry_at = NULL, last_error = NULL
             WHERE client_id = ?1 AND (state IN ('queued', 'sending') OR (state = 'sent' AND server_id = ?2))",
            params![client_id.to_string(), server_id],
        )?;
        if n == 1 {
            tx.execute(
                "DELETE FROM outbox WHERE client_id = ?1 AND EXISTS (SELECT 1 FROM messages WHERE id = ?2)",
                params![client_id.to_string(), server_id],
            )?;
            tx.commit()?;
            return Ok(());
        }
        drop(tx);
        self.transition_error(client_id, "mark as sent")
    }

    /// The server refused the message for good (4xx): `failed` with its reason, kept
    /// and shown until the user edits or discards it.
    pub fn mark_failed(&mut self, client_id: Uuid, reason: &str) -> Result<()> {
        self.transition(
            client_id,
            "mark as failed",
            "UPDATE outbox SET state = 'failed', failure = ?2 WHERE client_id = ?1 AND state IN ('queued', 'sending')",
            Some(reason),
        )
    }

    /// The user edited a failed message: new content, back to `queued` in its old
    /// place in the order, attempts reset.
    pub fn edit_failed(&mut self, client_id: Uuid, new_content: &str) -> Result<()> {
        self.transition(
            client_id,
            "edit",
            "UPDATE outbox SET state = 'queued', content = ?2, failure = NULL, attempts = 0,
                 first_attempt_at = NULL, last_attempt_at = NULL, retry_at = NULL, last_error = NULL
             WHERE client_id = ?1 AND state = 'failed'",
            Some(new_content),
        )
    }

    /// The user discarded a message (after confirming): any message that is not being
    /// sent this very moment, including one whose last attempt is in doubt (it may
    /// have reached the server; the user decides). Refused with
    /// [`StoreError::BeingSent`] while a process holds its conversation's claim.
    pub fn discard(&mut self, client_id: Uuid) -> Result<()> {
        let entry = self.outbox_entry(client_id)?.ok_or(StoreError::NotInOutbox { client_id })?;
        let Some(_claim) = self.try_claim(&entry.message.recipient)? else {
            return Err(StoreError::BeingSent { client_id });
        };
        self.transition(client_id, "discard", "DELETE FROM outbox WHERE client_id = ?1", None)
    }

    /// After an ambiguous failure, look in `messages` (a fresh fetch of the
    /// conversation) for the server's copy of this outbox message, using its first
    /// uncertain attempt time and skipping ids already claimed by other outbox
    /// entries. `Some(id)`: it arrived, call [`Store::mark_sent`]; `None`: send again.
    pub fn resolve_echo(&self, client_id: Uuid, messages: &[Message]) -> Result<Option<i64>> {
        let entry = self.outbox_entry(client_id)?.ok_or(StoreError::NotInOutbox { client_id })?;
        let Some(started) = entry.first_attempt_at else {
            return Ok(None);
        };
        let mut stmt =
            self.conn.prepare_cached("SELECT server_id FROM outbox WHERE server_id IS NOT NULL")?;
        let claimed = stmt.query_map([], |r| r.get::<_, i64>(0))?.collect::<rusqlite::Result<Vec<_>>>()?;
        let unclaimed: Vec<Message> = messages.iter().filter(|m| !claimed.contains(&m.id)).cloned().collect();
        Ok(find_echo(&entry.message, started, &unclaimed, &self.me))
    }

    /// Run a one-statement transition (`?1` = client id, `?2` = `arg`); explain a no-op.
    fn transition(
        &mut self,
        client_id: Uuid,
        action: &'static str,
        sql: &str,
        arg: Option<&str>,
    ) -> Result<()> {
        let id = client_id.to_string();
        let n = match arg {
            Some(a) => self.conn.execute(sql, params![id, a])?,
            None => self.conn.execute(sql, params![id])?,
        };
        if n == 1 {
            Ok(())
        } else {
            self.transition_error(client_id, action)
        }
    }

    fn transition_error(&self, client_id: Uuid, action: &'static str) -> Result<()> {
        match self.outbox_entry(client_id)? {
            None => Err(StoreError::NotInOutbox { client_id }),
            Some(e) => Err(StoreError::InvalidTransition { client_id, action, state: e.state.name() }),
        }
    }
}

/// Find the server's copy of `outgoing` in `messages` after an ambiguous send failure.
///
/// A match is a message from `me` to the same recipient with the same content
/// (surrounding whitespace ignored, as servers trim), whose `sent_at` is no earlier
/// than `attempt_started_at` truncated to the second minus [`ECHO_CLOCK_SKEW`]. A
/// message without a `sent_at` never matches: wrongly concluding "it arrived" would
/// lose the message, while wrongly resending only duplicates it. Usernames compare
/// without ASCII case. Returns the lowest matching id (the first copy).
pub fn find_echo(
    outgoing: &OutgoingMessage,
    attempt_started_at: DateTime<Utc>,
    messages: &[Message],
    me: &str,
) -> Option<i64> {
    let start = attempt_started_at.duration_trunc(Duration::seconds(1)).unwrap_or(attempt_started_at);
    let earliest = start - ECHO_CLOCK_SKEW;
    let content = outgoing.content.trim();
    messages
        .iter()
        .filter(|m| m.id > 0)
        .filter(|m| m.sender.eq_ignore_ascii_case(me))
        .filter(|m| m.recipient.eq_ignore_ascii_case(&outgoing.recipient))
        .filter(|m| m.content.trim() == content)
        .filter(|m| m.sent_at.is_some_and(|t| t.utc() >= earliest))
        .map(|m| m.id)
        .min()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::time::Timestamp;
    use chrono::TimeZone;

    fn at(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_800_000_000 + secs, 0).unwrap()
    }

    fn msg(id: i64, sender: &str, recipient: &str, content: &str, sent: Option<DateTime<Utc>>) -> Message {
        Message {
            id,
            sender: sender.into(),
            recipient: recipient.into(),
            content: content.into(),
            sent_at: sent.map(Timestamp),
            ..Message::default()
        }
    }

    fn outgoing(content: &str) -> OutgoingMessage {
        OutgoingMessage {
            client_id: Uuid::new_v4(),
            recipient: "dr_morgan".into(),
            subject: None,
            content: content.into(),
            created_at: at(0),
        }
    }

    #[test]
    fn echo_found_after_attempt_start() {
        let o = outgoing("hello");
        let msgs = [
            msg(1, "alex", "dr_morgan", "hello", Some(at(-600))),
            msg(7, "alex", "dr_morgan", "hello", Some(at(11))),
        ];
        assert_eq!(find_echo(&o, at(10), &msgs, "alex"), Some(7));
    }

    #[test]
    fn echo_tolerates_second_resolution_and_skew() {
        let o = outgoing("hello");
        // Attempt began at 10.9 s; the server (3 s behind, whole seconds) says 7.
        let start = at(10) + Duration::milliseconds(900);
        let msgs = [msg(3, "alex", "dr_morgan", "hello", Some(at(7)))];
        assert_eq!(find_echo(&o, start, &msgs, "alex"), Some(3));
        // Beyond the allowed skew it is an older, different message.
        let old =
            [msg(2, "alex", "dr_morgan", "hello", Some(at(10) - ECHO_CLOCK_SKEW - Duration::seconds(1)))];
        assert_eq!(find_echo(&o, start, &old, "alex"), None);
    }

    #[test]
    fn echo_requires_same_sender_recipient_content_and_time() {
        let o = outgoing("  hello \n");
        let t = Some(at(20));
        let msgs = [
            msg(1, "dr_morgan", "alex", "hello", t),    // from them, not us
            msg(2, "alex", "sam", "hello", t),          // to someone else
            msg(3, "alex", "dr_morgan", "hello!", t),   // other text
            msg(4, "alex", "dr_morgan", "hello", None), // no time: cannot tell
            msg(0, "alex", "dr_morgan", "hello", t),    // no id
        ];
        assert_eq!(find_echo(&o, at(10), &msgs, "alex"), None);
        let ok = [msg(9, "Alex", "DR_MORGAN", "hello", t), msg(8, "alex", "dr_morgan", "hello", t)];
        assert_eq!(find_echo(&o, at(10), &ok, "alex"), Some(8));
    }
}
