//! The outbox sender: sends what the user wrote, in order per conversation, so that
//! every message arrives exactly once however the link behaves (issue 6).
//!
//! The caller has already saved the message with [`Store::enqueue`](crate::store::Store::enqueue); the sender only
//! moves outbox entries along (see [`crate::store::outbox`] for the states):
//!
//! - every attempt is preceded by [`Store::mark_sending`](crate::store::Store::mark_sending) and carries
//!   `Idempotency-Key: <client id>`;
//! - 201 with an id → [`Store::mark_sent`](crate::store::Store::mark_sent);
//! - a permanent refusal (4xx, [`ApiError::is_refusal`]) → [`Store::mark_failed`](crate::store::Store::mark_failed) with the
//!   server's reason; the entry holds its conversation until the user edits or discards
//!   it, other conversations keep going;
//! - 401 → stop and keep everything (log in again, then [`SenderHandle::wake`]);
//! - 429 → stop for the server's `retry_after`, written on the message
//!   ([`Store::set_retry`](crate::store::Store::set_retry)) so its mark says when the next try is;
//! - 5xx → this message alone waits its own backoff ([`retry_delay`]: 1, 2, 4, 8, then
//!   every 15 minutes), its mark showing the failure (`server error 500 (id …)`) and the
//!   next try; other conversations go on, and the messages behind it wait no longer than
//!   that backoff. The background sender also keeps the routes it uses (`send`, `sent`)
//!   inside the per-route budget the poller keeps;
//! - a connection that was certainly never made (refused, DNS) → [`Store::mark_retry`](crate::store::Store::mark_retry);
//! - anything else (timeout, connection dropped after the body left, 5xx, an unreadable
//!   answer) is also **ambiguous**: the entry stays `sending`, and before it is sent again
//!   the server's copy is looked for ([`Store::resolve_echo`](crate::store::Store::resolve_echo)) and, if found, confirmed
//!   instead. A server that honours the key would make the resend safe anyway; one that
//!   ignores it (production) would store a duplicate without this check.
//!
//! The server's copy is looked for in `GET /api/messages/sent` (newest first, all of
//! them, and without side effects), falling back to the conversation when a server has
//! no such route. The conversation is the second choice because fetching it marks the
//! other person's messages read, which the user has not done.
//!
//! [`flush`] runs until the outbox has nothing sendable or something blocks; [`spawn`]
//! keeps doing that in the background with the live link's [`Backoff`], and reports
//! every change as an [`OutboxEvent`] for the screen's ⏳/↑/✓/✗ marks.
//!
//! # How the app uses it
//!
//! - At start, with the store's owner ([`StoreHandle`]) and any [`Service`] (the real
//!   `api::Client`, or a test's fake): `let (sender, events) =
//!   spawn(service.clone(), store.clone(), limits, windows)`. It flushes at once, so an outbox left by a
//!   crash or `kill -9` resumes; forward `events` into the app's action channel.
//! - On Enter: `store.enqueue(&OutgoingMessage::new(..))`, show it from
//!   [`Store::pending_for`](crate::store::Store::pending_for) (as the app's `SendMark`), then `sender.wake()`.
//! - Also `wake()` when the live link comes back, after a new login, and when the user
//!   edits ([`Store::edit_failed`](crate::store::Store::edit_failed)) a refused message.
//! - The one-shot CLI (`healing-tui send`, `outbox --flush`) calls [`flush`] directly.
//!
//! Several processes may flush the same account's outbox at once (the app, `send`,
//! `outbox --flush` from cron). A message is only checked for and sent while its
//! conversation is claimed ([`Store::try_claim`](crate::store::Store::try_claim), an OS lock the kernel releases when
//! the process ends), and it is read again under the claim, so each message is sent by
//! one process at a time and never again once confirmed, even against a server that
//! ignores the `Idempotency-Key` (production). A conversation claimed by another process
//! is skipped and tried again shortly; the flush gives up after [`CLAIM_WAIT`] with
//! [`Blocked::Elsewhere`].

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, Notify};
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::api::{ApiError, Fetched};
use crate::model::types::Message;
use crate::store::{Access, OutboxEntry, OutboxState, StoreError, StoreHandle};
use crate::sync::backoff::Backoff;
use crate::sync::budget::{Limits, RouteBudget, Windows};
use crate::sync::service::{Service, CONVERSATION_PAGE};

/// How long a flush keeps waiting for conversations another process is sending: longer
/// than one request may take, so a `send` one-liner normally sees its message through.
pub const CLAIM_WAIT: Duration = Duration::from_secs(45);
/// How often a claim held elsewhere is tried again.
const CLAIM_POLL: Duration = Duration::from_millis(100);
/// The reason a message waits out a 429, as its mark says it.
pub const RATE_LIMITED: &str = "rate-limited by the server";
/// The reason a message waits for its routes' budget, as its mark says it.
pub const BUDGET_WAIT: &str = "keeping within the server's request limits";

/// Whether a stored retry reason is a wait (429 or budget) rather than a failure.
pub fn is_wait(reason: &str) -> bool {
    reason == RATE_LIMITED || reason == BUDGET_WAIT
}
/// The longest wait between retries of a message the server keeps failing.
pub const RETRY_CAP: Duration = Duration::from_secs(15 * 60);

/// Pages of a conversation read while looking for our own copy (40,000 messages).
const MAX_PAGES: usize = 200;

/// A change in the outbox, for the screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutboxEvent {
    /// An attempt to send this message starts (↑).
    Sending {
        /// The message's client id.
        client_id: Uuid,
        /// Its conversation.
        recipient: String,
    },
    /// The attempt certainly did not reach the server; the message waits (⏳).
    Queued {
        /// The message's client id.
        client_id: Uuid,
        /// Its conversation.
        recipient: String,
    },
    /// The server has the message (✓).
    Sent {
        /// The message's client id.
        client_id: Uuid,
        /// Its conversation.
        recipient: String,
        /// The server's id for it.
        server_id: i64,
    },
    /// The server refused the message for good (✗); it stays until edited or discarded.
    Failed {
        /// The message's client id.
        client_id: Uuid,
        /// Its conversation.
        recipient: String,
        /// The server's reason, as it said it (sanitize before display).
        reason: String,
    },
    /// Sending paused; the next try is in `retry_in` (or on [`SenderHandle::wake`] when
    /// `None`, e.g. after a new login).
    Waiting {
        /// Why.
        blocked: Blocked,
        /// When the sender tries again by itself.
        retry_in: Option<Duration>,
    },
    /// The message waits until `at` before its next attempt: the server failed it
    /// (✗, with its backoff), or asked to wait (429, `limited`).
    Retrying {
        /// The message's client id.
        client_id: Uuid,
        /// Its conversation.
        recipient: String,
        /// Why (sanitize before display), e.g. `server error 500 (id 1a2b3c4d)`.
        reason: String,
        /// When it is tried again.
        at: DateTime<Utc>,
        /// A rate limit rather than a failure.
        limited: bool,
    },
    /// Nothing left that can be sent (the outbox is empty, or only refused messages
    /// wait for the user).
    Idle,
}

/// Why sending stopped before the outbox was empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Blocked {
    /// The server could not be reached, or the link failed mid-request.
    Offline(String),
    /// 429: the server asked to wait this long.
    RateLimited(Duration),
    /// 401: log in again; everything is kept.
    SessionExpired,
    /// 5xx or an answer that could not be read (the message may have arrived; the next
    /// attempt checks first).
    Server(String),
    /// The local store failed.
    Store(String),
    /// Another healing-tui process of this account was sending these conversations for
    /// longer than [`CLAIM_WAIT`]; the messages stay queued (that process sends them).
    Elsewhere,
    /// Everything else that is left waits for its own retry time; the earliest is
    /// `until`, for `reason` (e.g. the server failed it: `server error 500 (id …)`).
    Backoff {
        /// Why the earliest one waits.
        reason: String,
        /// When the next attempt is.
        until: DateTime<Utc>,
    },
}

impl std::fmt::Display for Blocked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Blocked::Offline(why) => write!(f, "offline: cannot reach the server ({why})"),
            Blocked::RateLimited(d) => write!(f, "rate-limited by the server: try again in {}s", d.as_secs()),
            Blocked::SessionExpired => write!(f, "session expired: please log in again"),
            Blocked::Server(why) => write!(f, "{why}"),
            Blocked::Store(why) => write!(f, "local store: {why}"),
            Blocked::Elsewhere => write!(f, "another healing-tui of this account is sending them"),
            Blocked::Backoff { reason, until } => {
                write!(f, "{reason}; next try at {}", until.with_timezone(&chrono::Local).format("%H:%M"))
            }
        }
    }
}

/// A message the server confirmed during a flush.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirmed {
    /// The message's client id.
    pub client_id: Uuid,
    /// Its conversation.
    pub recipient: String,
    /// The server's id for it.
    pub server_id: i64,
}

/// A message the server refused during a flush.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// The message's client id.
    pub client_id: Uuid,
    /// Its conversation.
    pub recipient: String,
    /// The server's reason (sanitize before display).
    pub reason: String,
}

/// What one [`flush`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlushReport {
    /// Confirmed by the server, in the order confirmed.
    pub sent: Vec<Confirmed>,
    /// Refused by the server in this flush.
    pub failed: Vec<Refused>,
    /// Why it stopped early; `None` when nothing sendable is left.
    pub blocked: Option<Blocked>,
    /// Messages still waiting to be sent (queued or with an attempt in doubt).
    pub waiting: usize,
    /// Refused messages in the outbox (from this flush or earlier), each holding its
    /// conversation until the user edits or discards it.
    pub held: usize,
}

/// Send every queued message, oldest first within each conversation, until nothing
/// sendable is left or something blocks. The store is only locked between requests.
///
/// A message whose retry time has not come is left for later (see
/// [`Store::set_retry`](crate::store::Store::set_retry)); the one-shot commands keep no route budget of their own (each
/// message's backoff is in the store, so a cron job cannot hammer a failing server).
pub async fn flush<'a, S: Service>(svc: &S, store: impl Into<Access<'a>>) -> FlushReport {
    let store = store.into();
    let budget = Budgets::new(Limits::NONE, Windows::REAL);
    Flusher { svc, store, events: None, confirmed: HashSet::new(), budget }.run().await
}

/// One flush in progress.
struct Flusher<'a, S> {
    svc: &'a S,
    store: Access<'a>,
    events: Option<&'a mpsc::UnboundedSender<OutboxEvent>>,
    /// Server ids confirmed by this process: never taken for another message's copy.
    confirmed: HashSet<i64>,
    budget: Budgets,
}

/// What one message's turn came to.
enum Step {
    /// Sent or refused, or moved along by another process meanwhile: go on.
    Done,
    /// Its conversation is claimed by another process: try again shortly.
    Busy,
    /// Not before this time (its backoff, or a route budget), for this reason; the
    /// other conversations go on.
    Later(DateTime<Utc>, String),
    /// Stop the flush.
    Stop(Blocked),
}

/// Why the check for an earlier copy could not be made.
enum CopyError {
    Api(ApiError),
    Store(StoreError),
}

/// The two routes the sender uses.
#[derive(Clone, Copy)]
enum Route {
    /// `POST /api/messages/send`.
    Send,
    /// `GET /api/messages/sent` (the copy check).
    Sent,
}

/// The sender's route budgets (production counts every route on its own), so retries
/// never spend more than the server allows: with [`Limits::NONE`] nothing is held back.
struct Budgets {
    send: RouteBudget,
    sent: RouteBudget,
}

impl Budgets {
    fn new(limits: Limits, windows: Windows) -> Budgets {
        Budgets {
            send: RouteBudget::new(limits).with_windows(windows),
            sent: RouteBudget::new(limits).with_windows(windows),
        }
    }

    /// When the routes an attempt needs are out of budget: the time both fit again.
    fn wait(&mut self, check_first: bool) -> Option<DateTime<Utc>> {
        let now = Instant::now();
        let mut at = self.send.next_allowed(now);
        if check_first {
            at = at.max(self.sent.next_allowed(now));
        }
        let wait = at.saturating_duration_since(now);
        (!wait.is_zero()).then(|| Utc::now() + wait)
    }

    fn record(&mut self, route: Route) {
        match route {
            Route::Send => self.send.record(Instant::now()),
            Route::Sent => self.sent.record(Instant::now()),
        }
    }
}

/// The wait before retrying a message the server failed `failures` times in a row:
/// 1, 2, 4, 8 minutes, then every [`RETRY_CAP`].
pub fn retry_delay(failures: u32) -> Duration {
    let minutes = 1u64.checked_shl(failures.saturating_sub(1).min(16)).unwrap_or(u64::MAX);
    Duration::from_secs(minutes.saturating_mul(60)).min(RETRY_CAP)
}

/// The reason shown on a message's mark for a failure: short, with the server's
/// error id when it gave one (`server error 500 (id 1a2b3c4d)`).
fn short_reason(err: &ApiError) -> String {
    match err {
        ApiError::Server { status, error_id: Some(id), .. } => format!("server error {status} (id {id})"),
        ApiError::Server { status, .. } => format!("server error {status}"),
        other => other.to_string(),
    }
}

fn store_blocked(e: &StoreError) -> Blocked {
    Blocked::Store(e.to_string())
}

/// The attempt certainly never reached the server: the connection was never made.
/// Only these are safe to retry without looking for our copy first.
fn never_left(why: &str) -> bool {
    let why = why.to_ascii_lowercase();
    ["connection refused", "dns error", "failed to lookup address", "name or service not known"]
        .iter()
        .any(|s| why.contains(s))
}

/// Where sending stops for an error other than a refusal.
fn blocked_by(err: &ApiError) -> Blocked {
    match err {
        ApiError::Offline(why) => Blocked::Offline(why.clone()),
        ApiError::SessionExpired => Blocked::SessionExpired,
        ApiError::RateLimited { retry_after } => Blocked::RateLimited(*retry_after),
        other => Blocked::Server(other.to_string()),
    }
}

/// The server's reason in a refusal, without our own prefix.
fn refusal_reason(err: &ApiError) -> String {
    match err {
        ApiError::Forbidden(text) | ApiError::NotFound(text) | ApiError::Invalid(text) => text.clone(),
        other => other.to_string(),
    }
}

impl<S: Service> Flusher<'_, S> {
    fn emit(&self, event: OutboxEvent) {
        if let Some(tx) = self.events {
            // A closed receiver means nobody is watching; the outbox itself is the record.
            let _ = tx.send(event);
        }
    }

    async fn run(&mut self) -> FlushReport {
        let mut report = FlushReport::default();
        let mut busy_since: Option<std::time::Instant> = None;
        report.blocked = loop {
            let batch = self.store.call(|s| s.next_to_send()).await;
            let batch = match batch {
                Ok(b) => b,
                Err(e) => break Some(store_blocked(&e)),
            };
            if batch.is_empty() {
                break None;
            }
            let (mut stop, mut moved, mut busy) = (None, false, false);
            let mut later: Option<(DateTime<Utc>, String)> = None;
            for entry in batch {
                match self.one(entry, &mut report).await {
                    Step::Done => moved = true,
                    Step::Busy => busy = true,
                    Step::Later(at, why) => {
                        if later.as_ref().is_none_or(|(t, _)| at < *t) {
                            later = Some((at, why));
                        }
                    }
                    Step::Stop(blocked) => {
                        stop = Some(blocked);
                        break;
                    }
                }
            }
            if stop.is_some() {
                break stop;
            }
            if moved {
                busy_since = None;
                continue;
            }
            if !busy {
                // What is left waits for its own retry time.
                break later.map(|(until, reason)| Blocked::Backoff { reason, until });
            }
            // Every head is being sent by another process: wait for it to finish.
            let since = *busy_since.get_or_insert_with(std::time::Instant::now);
            if since.elapsed() >= CLAIM_WAIT {
                break Some(Blocked::Elsewhere);
            }
            tokio::time::sleep(CLAIM_POLL).await;
        };
        let pending = self.store.call(|s| s.pending()).await;
        match pending {
            Ok(entries) => {
                for e in entries {
                    match e.state {
                        OutboxState::Queued | OutboxState::Sending { .. } => report.waiting += 1,
                        OutboxState::Failed { .. } => report.held += 1,
                        OutboxState::Sent { .. } => {}
                    }
                }
            }
            Err(e) => {
                report.blocked.get_or_insert_with(|| store_blocked(&e));
            }
        }
        report
    }

    /// One message's turn, under its conversation's claim: read it again (another
    /// process may have sent it meanwhile), settle an earlier attempt in doubt, then send.
    async fn one(&mut self, entry: OutboxEntry, report: &mut FlushReport) -> Step {
        let recipient = entry.message.recipient.clone();
        let claimed = self.store.call(move |s| s.try_claim(&recipient)).await;
        let _claim = match claimed {
            Ok(Some(claim)) => claim,
            Ok(None) => return Step::Busy,
            Err(e) => return Step::Stop(store_blocked(&e)),
        };
        let recipient = entry.message.recipient.clone();
        let head = self.store.call(move |s| s.head_for(&recipient)).await;
        match head {
            Ok(Some(head)) if head.message.client_id == entry.message.client_id => {
                self.attempt(head, report).await
            }
            // Sent, refused or discarded by another process since the batch was read.
            Ok(_) => Step::Done,
            Err(e) => Step::Stop(store_blocked(&e)),
        }
    }

    /// Settle an earlier attempt in doubt, then send (the caller holds the claim). A
    /// message in its backoff, or whose routes are out of budget, waits its turn
    /// ([`Step::Later`]) while other conversations go on.
    async fn attempt(&mut self, entry: OutboxEntry, report: &mut FlushReport) -> Step {
        let client_id = entry.message.client_id;
        let recipient = entry.message.recipient.clone();
        let now = Utc::now();
        if let Some(at) = entry.retry_at.filter(|at| *at > now) {
            return Step::Later(at, entry.last_error.unwrap_or_default());
        }
        let in_doubt = matches!(entry.state, OutboxState::Sending { .. });
        if let Some(at) = self.budget.wait(in_doubt) {
            return self.later(&entry, BUDGET_WAIT, at, true).await;
        }
        if in_doubt {
            self.budget.record(Route::Sent);
            match self.find_copy(&entry).await {
                Ok(Some(server_id)) => {
                    tracing::info!(%client_id, server_id, "an earlier attempt had arrived");
                    return self.confirm(client_id, recipient, server_id, report).await;
                }
                Ok(None) => tracing::debug!(%client_id, "no copy on the server; sending again"),
                Err(CopyError::Store(e)) => return Step::Stop(store_blocked(&e)),
                Err(CopyError::Api(e)) => {
                    return self.not_through(&entry, &e, "cannot check whether it arrived: ").await
                }
            }
        }
        let marked = self.store.call(move |s| s.mark_sending(client_id, Utc::now())).await;
        if let Err(e) = marked {
            return Step::Stop(store_blocked(&e));
        }
        self.emit(OutboxEvent::Sending { client_id, recipient: recipient.clone() });
        let key = client_id.to_string();
        self.budget.record(Route::Send);
        let result = self.svc.send(entry.message.send_request(), key).await;
        match result {
            Ok(resp) if resp.message_id > 0 => {
                self.confirm(client_id, recipient, resp.message_id, report).await
            }
            // Accepted but without an id: it is most likely there; the next attempt
            // looks for it before sending again.
            Ok(_) => {
                Step::Stop(Blocked::Server("the server accepted a message without giving its id".into()))
            }
            Err(err) if err.is_refusal() => {
                let reason = refusal_reason(&err);
                let why = reason.clone();
                let marked = self.store.call(move |s| s.mark_failed(client_id, &why)).await;
                if let Err(e) = marked {
                    return Step::Stop(store_blocked(&e));
                }
                tracing::info!(%client_id, "message refused by the server");
                self.emit(OutboxEvent::Failed {
                    client_id,
                    recipient: recipient.clone(),
                    reason: reason.clone(),
                });
                report.failed.push(Refused { client_id, recipient, reason });
                Step::Done
            }
            Err(err) => {
                // 401 and 429 are answered before the message is looked at, and a refused
                // connection carried nothing: the attempt certainly did not store it.
                let not_sent = match &err {
                    ApiError::SessionExpired | ApiError::RateLimited { .. } => true,
                    ApiError::Offline(why) => never_left(why),
                    _ => false,
                };
                if not_sent {
                    let marked = self.store.call(move |s| s.mark_retry(client_id)).await;
                    if let Err(e) = marked {
                        return Step::Stop(store_blocked(&e));
                    }
                    self.emit(OutboxEvent::Queued { client_id, recipient });
                } else {
                    tracing::info!(%client_id, error = %err, "send attempt in doubt");
                }
                self.not_through(&entry, &err, "").await
            }
        }
    }

    /// A request for `entry` did not get through with `err`. A server error (5xx) puts
    /// this message alone into its backoff (others go on); a 429 records the server's
    /// wait on it and stops the flush; anything else stops the flush as before (the
    /// link's backoff retries).
    async fn not_through(&mut self, entry: &OutboxEntry, err: &ApiError, prefix: &str) -> Step {
        match err {
            ApiError::Server { .. } => {
                let at = Utc::now() + retry_delay(entry.attempts.max(1));
                self.later(entry, &format!("{prefix}{}", short_reason(err)), at, false).await
            }
            ApiError::RateLimited { retry_after } => {
                let at = Utc::now() + *retry_after;
                if let Step::Stop(b) = self.later(entry, RATE_LIMITED, at, true).await {
                    return Step::Stop(b);
                }
                Step::Stop(blocked_by(err))
            }
            other => Step::Stop(blocked_by(other)),
        }
    }

    /// Keep `entry` until `at`, saying `why` on its mark.
    async fn later(&mut self, entry: &OutboxEntry, why: &str, at: DateTime<Utc>, limited: bool) -> Step {
        let client_id = entry.message.client_id;
        let reason = why.to_owned();
        if let Err(e) = self.store.call(move |s| s.set_retry(client_id, &reason, at)).await {
            return Step::Stop(store_blocked(&e));
        }
        tracing::info!(%client_id, %at, why, "send retried later");
        self.emit(OutboxEvent::Retrying {
            client_id,
            recipient: entry.message.recipient.clone(),
            reason: why.to_string(),
            at,
            limited,
        });
        Step::Later(at, why.to_string())
    }

    async fn confirm(
        &mut self,
        client_id: Uuid,
        recipient: String,
        server_id: i64,
        report: &mut FlushReport,
    ) -> Step {
        let marked = self.store.call(move |s| s.mark_sent(client_id, server_id)).await;
        if let Err(e) = marked {
            return Step::Stop(store_blocked(&e));
        }
        self.confirmed.insert(server_id);
        self.emit(OutboxEvent::Sent { client_id, recipient: recipient.clone(), server_id });
        report.sent.push(Confirmed { client_id, recipient, server_id });
        Step::Done
    }

    /// Look for the server's copy of a message whose last attempt is in doubt.
    async fn find_copy(&self, entry: &OutboxEntry) -> Result<Option<i64>, CopyError> {
        let me = self.store.call(|s| Ok(s.username().to_string())).await.map_err(CopyError::Store)?;
        let copies = match self.svc.sent().await {
            Ok(sent) => sent,
            // No `/sent` here (or an odd one): the conversation has them too.
            Err(ApiError::NotFound(_) | ApiError::Protocol { .. }) => {
                self.conversation(&entry.message.recipient).await.map_err(CopyError::Api)?
            }
            Err(e) => return Err(CopyError::Api(e)),
        };
        let copies: Vec<Message> = copies
            .into_iter()
            .filter(|m| !self.confirmed.contains(&m.id))
            .map(|mut m| {
                // head's `/sent` leaves the sender out: it is us.
                if m.sender.is_empty() {
                    m.sender.clone_from(&me);
                }
                m
            })
            .collect();
        let client_id = entry.message.client_id;
        let found = self.store.call(move |s| s.resolve_echo(client_id, &copies)).await;
        found.map_err(CopyError::Store)
    }

    /// A whole conversation, page by page (`after_id`; a server that ignores it gives
    /// the same page again, which ends the walk).
    async fn conversation(&self, user: &str) -> Result<Vec<Message>, ApiError> {
        let mut all = Vec::new();
        let mut after: Option<i64> = None;
        for _ in 0..MAX_PAGES {
            let page = match self.svc.conversation(user.to_owned(), after, None).await {
                Ok(Fetched::Fresh { value, .. }) => value.messages,
                Ok(Fetched::NotModified) => break,
                Err(e) => return Err(e),
            };
            let full = page.len() >= CONVERSATION_PAGE as usize;
            let newest = page.iter().map(|m| m.id).max();
            all.extend(page);
            match newest {
                Some(id) if full && after.is_none_or(|a| id > a) => after = Some(id),
                _ => break,
            }
        }
        Ok(all)
    }
}

/// The background sender started by [`spawn`]. Dropping it stops the task (an attempt
/// cut short stays `sending` and is settled on the next start).
#[derive(Debug)]
pub struct SenderHandle {
    wake: Arc<Notify>,
    task: JoinHandle<()>,
}

impl SenderHandle {
    /// Try now: a message was enqueued, the user asked for a retry, the link came
    /// back, or the user logged in again. A rate limit is still waited out.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Whether the task has ended (it only ends when stopped).
    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }
}

impl Drop for SenderHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Start the background sender on the current tokio runtime: it flushes at once (the
/// outbox resumes where the last run left it), then whenever woken, and while blocked
/// retries with the live link's backoff. Events go to the returned receiver.
///
/// Its requests stay inside `limits` per route (counted over `windows`), on top of each
/// message's own backoff; [`Limits::NONE`] for a server without limits.
pub fn spawn<S: Service>(
    svc: S,
    store: StoreHandle,
    limits: Limits,
    windows: Windows,
) -> (SenderHandle, mpsc::UnboundedReceiver<OutboxEvent>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let wake = Arc::new(Notify::new());
    let budget = Budgets::new(limits, windows);
    // Boxed for the reason given in `link::spawn`.
    let task =
        tokio::spawn(Box::pin(run_task(svc, store, Arc::clone(&wake), tx, Backoff::default(), budget)));
    (SenderHandle { wake, task }, rx)
}

async fn run_task<S: Service>(
    svc: S,
    store: StoreHandle,
    wake: Arc<Notify>,
    events: mpsc::UnboundedSender<OutboxEvent>,
    mut backoff: Backoff,
    budget: Budgets,
) {
    let mut flusher = Flusher {
        svc: &svc,
        store: (&store).into(),
        events: Some(&events),
        confirmed: HashSet::new(),
        budget,
    };
    loop {
        let report = flusher.run().await;
        if !report.sent.is_empty() || !report.failed.is_empty() {
            backoff.reset();
        }
        let Some(blocked) = report.blocked else {
            backoff.reset();
            let _ = events.send(OutboxEvent::Idle);
            wake.notified().await;
            continue;
        };
        let retry_in = match &blocked {
            Blocked::SessionExpired => None,
            Blocked::RateLimited(d) => Some(*d),
            Blocked::Backoff { until, .. } => {
                backoff.reset();
                Some((*until - Utc::now()).to_std().unwrap_or_default())
            }
            Blocked::Offline(_) | Blocked::Server(_) | Blocked::Store(_) | Blocked::Elsewhere => {
                Some(backoff.next_delay(&mut rand::rng()))
            }
        };
        tracing::debug!(%blocked, ?retry_in, "outbox sender waiting");
        let rate_limited = matches!(blocked, Blocked::RateLimited(_));
        let _ = events.send(OutboxEvent::Waiting { blocked, retry_in });
        match retry_in {
            // The server's wait is kept even when woken: trying earlier only earns another 429.
            Some(d) if rate_limited => tokio::time::sleep(d).await,
            Some(d) => {
                tokio::select! {
                    _ = tokio::time::sleep(d) => {}
                    _ = wake.notified() => backoff.reset(),
                }
            }
            None => wake.notified().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_connection_never_made_counts_as_not_sent() {
        assert!(never_left("Connection refused (os error 111)"));
        assert!(never_left("dns error: failed to lookup address information: Name or service not known"));
        for doubtful in [
            "connection closed before message completed",
            "Connection reset by peer (os error 104)",
            "timed out",
            "broken pipe",
            "",
        ] {
            assert!(!never_left(doubtful), "{doubtful}");
        }
    }

    #[test]
    fn retries_back_off_to_fifteen_minutes() {
        let minutes: Vec<u64> = (1..=7).map(|n| retry_delay(n).as_secs() / 60).collect();
        assert_eq!(minutes, [1, 2, 4, 8, 15, 15, 15]);
        assert_eq!(retry_delay(u32::MAX), RETRY_CAP);
    }

    #[test]
    fn the_route_budget_holds_attempts_back() {
        let mut b = Budgets::new(Limits { per_hour: 2, per_day: 0 }, Windows::REAL);
        assert_eq!(b.wait(true), None);
        b.record(Route::Sent);
        b.record(Route::Send);
        assert_eq!(b.wait(true), None, "one of each used, two allowed");
        b.record(Route::Sent);
        assert_eq!(b.wait(false), None, "a plain send needs only the send route");
        let until = b.wait(true).expect("the sent route is spent");
        assert!(until > Utc::now() + chrono::Duration::minutes(59), "{until}");
        let mut none = Budgets::new(Limits::NONE, Windows::REAL);
        for _ in 0..1000 {
            none.record(Route::Send);
        }
        assert_eq!(none.wait(true), None);
    }

    #[test]
    fn server_errors_read_short_with_their_id() {
        let e = ApiError::Server {
            status: 500,
            text: "An unexpected error".into(),
            error_id: Some("1a2b".into()),
        };
        assert_eq!(short_reason(&e), "server error 500 (id 1a2b)");
        let e = ApiError::Server { status: 502, text: "Bad Gateway".into(), error_id: None };
        assert_eq!(short_reason(&e), "server error 502");
    }

    #[test]
    fn errors_map_to_why_sending_stopped() {
        assert_eq!(blocked_by(&ApiError::SessionExpired), Blocked::SessionExpired);
        let wait = Duration::from_secs(7);
        assert_eq!(blocked_by(&ApiError::RateLimited { retry_after: wait }), Blocked::RateLimited(wait));
        assert_eq!(blocked_by(&ApiError::Offline("timed out".into())), Blocked::Offline("timed out".into()));
        let server = ApiError::Server { status: 502, text: "Bad Gateway".into(), error_id: None };
        assert!(matches!(blocked_by(&server), Blocked::Server(t) if t.contains("502")));
        assert_eq!(refusal_reason(&ApiError::NotFound("Recipient not found".into())), "Recipient not found");
        assert_eq!(
            refusal_reason(&ApiError::Invalid("Message content is required".into())),
            "Message content is required"
        );
    }
}
