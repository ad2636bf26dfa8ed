//! The live link task: keeps the app up to date with the server, by websocket when the
//! server offers one and by budget-aware polling when it does not, and catches up over
//! REST after every (re)connect so nothing said while disconnected is missed.
//!
//! It talks to the app only through channels: [`LiveEvent`]s out, [`LiveCommand`]s in.
//! The websocket is a hint; REST is the truth, and merging by message id on the app
//! side makes seeing a message twice harmless.
//!
//! Phases: connect the websocket → (up) catch up, then listen, ping, and watch for
//! silence; (refused: 404 and the like) poll per [`PollPlan`] and look for a websocket
//! again every `ws_recheck`; (unreachable) wait the backoff delay, or until `R`. The poll
//! plan, with its per-route budgets, lives as long as the link, so a day's budget is
//! remembered across reconnects.
//!
//! Use from the app: [`spawn`] after login with [`LinkConfig::from_config`]; send
//! [`LiveCommand::Open`] whenever the conversation on screen changes (with the newest
//! message id the app holds), [`LiveCommand::UserInput`] on keys (cheap; it only moves
//! polling back to the active cadence), [`LiveCommand::RetryNow`] on `R`, and
//! [`LiveCommand::Shutdown`] at logout or exit. Merge `Inbox`, `Conversation` and
//! `Pushed` by message id; show `State` and `Synced` in the status bar (`ui::status::connection_label`);
//! on `SessionExpired` go to the login screen (the task has ended; spawn a new one
//! after the next login). For news off screen, [`super::notify::on_new_message`].

use std::collections::HashMap;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tokio::time::sleep_until;

use super::backoff::Backoff;
use super::budget::{Limits, RouteBudget, Windows};
use super::plan::{Cadence, PollPlan, Probe};
use super::service::{Frame, Service, Socket, WsFailure};
use crate::api::response::DEFAULT_RETRY_AFTER;
use crate::api::{ApiError, Fetched};
use crate::model::types::{ConversationSummary, InboxResponse, Message, WsEvent};

pub use super::status::LinkState;

/// What the link tells the app.
#[derive(Debug, Clone, PartialEq)]
pub enum LiveEvent {
    /// Connection state changed.
    State(LinkState),
    /// A fresh first page of the inbox.
    Inbox(InboxResponse),
    /// Messages of a conversation (all of it, or those after the known newest id).
    Conversation {
        /// The other participant.
        user: String,
        /// Messages, oldest first; merge by id.
        messages: Vec<Message>,
    },
    /// A pushed event.
    Pushed(WsEvent),
    /// A REST sync completed at this time (for "last sync" in the status bar).
    Synced(chrono::DateTime<chrono::Utc>),
    /// The session is no longer valid: log in again (drafts and outbox are kept).
    SessionExpired,
}

/// What the app tells the link.
#[derive(Debug, Clone, PartialEq)]
pub enum LiveCommand {
    /// `R`: reconnect / check now (polling stays within its budget).
    RetryNow,
    /// A key was pressed (polling goes back to the active cadence).
    UserInput,
    /// The conversation on screen changed, with the newest message id the app has
    /// (0 when none), or `None` when no conversation is open.
    Open(Option<(String, i64)>),
    /// Stop the link.
    Shutdown,
}

/// Settings of the link (from `config.toml` `[poll]`; tests shorten every interval).
#[derive(Debug, Clone, PartialEq)]
pub struct LinkConfig {
    /// Poll cadence.
    pub cadence: Cadence,
    /// Per-route budget for every server; `None` = automatic: [`LinkConfig::auto_budget`]
    /// when the server offers no ETag and no websocket (production), none otherwise.
    /// `Some(Limits::NONE)` = never a budget.
    pub budget: Option<Limits>,
    /// The budget the automatic choice applies (`poll.budget_per_hour/day`; 45/h, 190/day).
    pub auto_budget: Limits,
    /// The windows the budget counts over (an hour and a day; shorter in tests).
    pub budget_windows: Windows,
    /// The first wait after a 429 that does not say how long (then doubling).
    pub rate_limit_wait: Duration,
    /// How often to look for a websocket again while polling.
    pub ws_recheck: Duration,
    /// Client ping interval on the websocket.
    pub ping_every: Duration,
    /// Silence after which the websocket is taken for dead.
    pub dead_after: Duration,
    /// Refresh the open conversation at least this often while polling.
    pub conversation_every: Duration,
    /// Give up a websocket handshake after this long.
    pub connect_timeout: Duration,
    /// First reconnect delay ceiling (doubling, full jitter).
    pub backoff_base: Duration,
    /// Largest reconnect delay.
    pub backoff_cap: Duration,
    /// A connection up this long forgets past failures.
    pub backoff_reset: Duration,
}

impl Default for LinkConfig {
    fn default() -> Self {
        LinkConfig {
            cadence: Cadence::default(),
            budget: None,
            auto_budget: Limits::PRODUCTION,
            budget_windows: Windows::REAL,
            rate_limit_wait: Duration::from_secs(60),
            ws_recheck: Duration::from_secs(600),
            ping_every: Duration::from_secs(15),
            dead_after: Duration::from_secs(45),
            conversation_every: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            backoff_base: Duration::from_secs(1),
            backoff_cap: Duration::from_secs(30),
            backoff_reset: Duration::from_secs(60),
        }
    }
}

impl LinkConfig {
    /// The link settings from `config.toml` `[poll]`; the rest keep their defaults.
    pub fn from_config(poll: &crate::config::PollConfig) -> LinkConfig {
        let secs = |n: u64| Duration::from_secs(n.max(1));
        let per = |n: u64| u32::try_from(n).unwrap_or(u32::MAX);
        let d = LinkConfig::default();
        LinkConfig {
            cadence: Cadence { active: secs(poll.active_secs), idle: secs(poll.idle_secs), ..d.cadence },
            auto_budget: Limits { per_hour: per(poll.budget_per_hour), per_day: per(poll.budget_per_day) },
            ..d
        }
    }
}

/// Start the link as a task. It ends on [`LiveCommand::Shutdown`], when either channel
/// closes, or after reporting [`LiveEvent::SessionExpired`].
pub fn spawn<S: Service>(
    svc: S,
    config: LinkConfig,
    events: mpsc::Sender<LiveEvent>,
    commands: mpsc::Receiver<LiveCommand>,
) -> tokio::task::JoinHandle<()> {
    // Boxed here: tokio moves a task's future through several stack frames before it
    // reaches the heap, and this one is tens of KiB; each copy is stack the process keeps.
    tokio::spawn(Box::pin(async move {
        let mut link = Link::new(svc, config, events, commands);
        link.run().await;
    }))
}

/// Why the link loop stopped one phase.
enum Stop {
    /// Go round again (reconnect, or try the websocket again).
    Again,
    /// Session expired or the app is gone.
    Finish,
}

/// What to do after a REST call failed while polling.
enum Flow {
    /// Carry on polling (the plan has taken note).
    Continue,
    /// The server is unreachable: back off.
    Offline,
    /// 401: log in again.
    Expired,
}

/// Polling memory that outlives one polling phase.
struct Polling {
    plan: PollPlan,
    conversation_budget: RouteBudget,
    conversation_fetched_at: Option<Instant>,
    /// The open conversation changed (per the inbox) and has not been fetched yet.
    conversation_pending: bool,
}

struct Link<S> {
    svc: S,
    config: LinkConfig,
    events: mpsc::Sender<LiveEvent>,
    commands: mpsc::Receiver<LiveCommand>,
    backoff: Backoff,
    open: Option<(String, i64)>,
    inbox_etag: Option<String>,
    conversation_etags: HashMap<String, String>,
    last_summary: HashMap<String, ConversationSummary>,
    last_unread: Option<u32>,
    after_id_honoured: Option<bool>,
    server_has_etag: Option<bool>,
    state: Option<LinkState>,
    polling: Option<Polling>,
}

impl<S: Service> Link<S> {
    fn new(
        svc: S,
        config: LinkConfig,
        events: mpsc::Sender<LiveEvent>,
        commands: mpsc::Receiver<LiveCommand>,
    ) -> Self {
        let backoff = Backoff::new(config.backoff_base, config.backoff_cap, config.backoff_reset);
        Link {
            svc,
            config,
            events,
            commands,
            backoff,
            open: None,
            inbox_etag: None,
            conversation_etags: HashMap::new(),
            last_summary: HashMap::new(),
            last_unread: None,
            after_id_honoured: None,
            server_has_etag: None,
            state: None,
            polling: None,
        }
    }

    /// Send an event; false when the app is gone. Repeated states are not resent.
    async fn emit(&mut self, event: LiveEvent) -> bool {
        if let LiveEvent::State(state) = &event {
            if self.state.as_ref() == Some(state) {
                return true;
            }
            self.state = Some(state.clone());
        }
        self.events.send(event).await.is_ok()
    }

    async fn expire(&mut self) -> Stop {
        let _ = self.emit(LiveEvent::SessionExpired).await;
        Stop::Finish
    }

    async fn run(&mut self) {
        if !self.emit(LiveEvent::State(LinkState::Connecting)).await {
            return;
        }
        loop {
            // Commands sent before the link started (or while it was busy connecting),
            // e.g. the conversation already on screen, count for this attempt.
            while let Ok(cmd) = self.commands.try_recv() {
                if self.note_command(&Some(cmd)) {
                    return;
                }
            }
            let stop = match self.svc.websocket(self.config.connect_timeout).await {
                Ok(ws) => self.run_ws(ws).await,
                Err(WsFailure::NotOffered) => self.run_polling().await,
                Err(WsFailure::Unauthorized) => self.expire().await,
                Err(WsFailure::Network(why)) => {
                    tracing::info!(%why, "websocket connect failed");
                    self.wait_offline().await
                }
            };
            if let Stop::Finish = stop {
                return;
            }
        }
    }

    /// Apply a command that needs no reply in any phase; true to stop the link.
    fn note_command(&mut self, cmd: &Option<LiveCommand>) -> bool {
        match cmd {
            None | Some(LiveCommand::Shutdown) => true,
            Some(LiveCommand::Open(open)) => {
                let changed = open.as_ref().map(|o| &o.0) != self.open.as_ref().map(|o| &o.0);
                self.open = open.clone();
                if let (true, Some(p)) = (changed, self.polling.as_mut()) {
                    p.conversation_fetched_at = None;
                }
                false
            }
            Some(LiveCommand::RetryNow | LiveCommand::UserInput) => false,
        }
    }

    /// Offline: wait the backoff delay (or until `R`), saying so.
    async fn wait_offline(&mut self) -> Stop {
        let delay = self.backoff.next_delay(&mut rand::rng());
        if !self.emit(LiveEvent::State(LinkState::Offline { retry_in: delay })).await {
            return Stop::Finish;
        }
        let deadline = tokio::time::Instant::now() + delay;
        loop {
            tokio::select! {
                _ = sleep_until(deadline) => return Stop::Again,
                cmd = self.commands.recv() => {
                    if self.note_command(&cmd) {
                        return Stop::Finish;
                    }
                    if let Some(LiveCommand::RetryNow) = cmd {
                        self.backoff.reset();
                        if !self.emit(LiveEvent::State(LinkState::Connecting)).await {
                            return Stop::Finish;
                        }
                        return Stop::Again;
                    }
                }
            }
        }
    }

    async fn run_ws(&mut self, mut socket: Socket) -> Stop {
        self.backoff.connected(Instant::now());
        // Catch up after subscribing, so nothing falls between the two; frames pushed
        // meanwhile wait in the socket. A link that cannot reach REST is not up; a server
        // that fails one request (a 500) is, or it would never be.
        match self.catch_up().await {
            Ok(()) => {}
            Err(ApiError::SessionExpired) => return self.expire().await,
            Err(e) if !matches!(e, ApiError::Offline(_)) => {
                tracing::info!(error = %e, "catch-up after connect incomplete");
            }
            Err(e) => {
                tracing::info!(error = %e, "catch-up after connect failed");
                let _ = tokio::time::timeout(Duration::from_secs(1), socket.close()).await;
                self.backoff.disconnected(Instant::now());
                return self.wait_offline().await;
            }
        }
        let stop = if self.emit(LiveEvent::State(LinkState::Live)).await {
            self.listen(&mut socket).await
        } else {
            Stop::Finish
        };
        // A stalled link must not hold us here: the close frame is a courtesy.
        let _ = tokio::time::timeout(Duration::from_secs(1), socket.close()).await;
        self.backoff.disconnected(Instant::now());
        match stop {
            Stop::Again => self.wait_offline().await,
            Stop::Finish => Stop::Finish,
        }
    }

    /// Pass pushed events on, ping, and watch for silence, until the socket fails (go
    /// round again) or the link is stopped.
    async fn listen(&mut self, socket: &mut Socket) -> Stop {
        let mut ping = tokio::time::interval(self.config.ping_every);
        ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ping.tick().await;
        let mut last_heard = tokio::time::Instant::now();
        loop {
            let dead_at = last_heard + self.config.dead_after;
            tokio::select! {
                frame = socket.next() => {
                    if frame == Frame::Closed {
                        return Stop::Again;
                    }
                    last_heard = tokio::time::Instant::now();
                    if !self.on_frame(frame).await {
                        return Stop::Finish;
                    }
                }
                _ = ping.tick() => {
                    match tokio::time::timeout(self.config.dead_after, socket.ping()).await {
                        Ok(Ok(())) => {}
                        _ => return Stop::Again,
                    }
                }
                _ = sleep_until(dead_at) => {
                    tracing::info!("websocket silent too long; reconnecting");
                    return Stop::Again;
                }
                cmd = self.commands.recv() => {
                    if self.note_command(&cmd) {
                        return Stop::Finish;
                    }
                    if let Some(LiveCommand::RetryNow) = cmd {
                        match self.catch_up().await {
                            Err(ApiError::SessionExpired) => return self.expire().await,
                            Err(e) => tracing::info!(error = %e, "catch-up on request failed"),
                            Ok(()) => {}
                        }
                    }
                }
            }
        }
    }

    /// Pass on a pushed event; false when the app is gone.
    async fn on_frame(&mut self, frame: Frame) -> bool {
        let Frame::Text(text) = frame else { return true };
        let Some(event) = WsEvent::parse(&text) else { return true };
        if let WsEvent::MessageNew { message } = &event {
            self.note_message(message);
        }
        self.emit(LiveEvent::Pushed(event)).await
    }

    /// A pushed message in the open conversation advances its newest id, so the next
    /// catch-up asks only for what came after.
    fn note_message(&mut self, message: &Message) {
        let me = self.svc.username().unwrap_or_default();
        if let Some((user, newest)) = &mut self.open {
            let other = if message.sender == me { &message.recipient } else { &message.sender };
            if other == user {
                *newest = (*newest).max(message.id);
            }
        }
    }

    /// Inbox, then the open conversation (also after an inbox failure other than
    /// offline or 401: what can be had is worth having).
    async fn catch_up(&mut self) -> Result<(), ApiError> {
        let inbox = self.fetch_inbox().await;
        if let Err(e) = &inbox {
            if matches!(e, ApiError::Offline(_) | ApiError::SessionExpired) {
                return Err(e.clone());
            }
            tracing::info!(error = %e, "inbox fetch failed during catch-up");
        }
        self.fetch_open_conversation().await?;
        if inbox.is_ok() {
            let _ = self.emit(LiveEvent::Synced(chrono::Utc::now())).await;
        }
        Ok(())
    }

    /// Fetch the inbox; returns whether the open conversation's summary changed.
    async fn fetch_inbox(&mut self) -> Result<bool, ApiError> {
        let fetched = self.svc.inbox(1, false, self.inbox_etag.clone()).await?;
        let Fetched::Fresh { value, etag } = fetched else {
            return Ok(false);
        };
        self.server_has_etag = Some(etag.is_some());
        self.inbox_etag = etag;
        self.last_unread = Some(value.total_unread);
        let mut open_changed = false;
        for summary in &value.conversations {
            let before = self.last_summary.insert(summary.with_user.clone(), summary.clone());
            let changed = before.is_none_or(|b| {
                b.last_message_time != summary.last_message_time || b.unread_count != summary.unread_count
            });
            if changed && self.open.as_ref().is_some_and(|(u, _)| *u == summary.with_user) {
                open_changed = true;
            }
        }
        let _ = self.emit(LiveEvent::Inbox(value)).await;
        Ok(open_changed)
    }

    async fn fetch_open_conversation(&mut self) -> Result<(), ApiError> {
        let Some((user, newest)) = self.open.clone() else {
            return Ok(());
        };
        // `after_id` asks only for what is new; a server that ignores it sends it all,
        // which merging by id absorbs (and then we stop asking).
        let after = (newest > 0 && self.after_id_honoured != Some(false)).then_some(newest);
        let etag = self.conversation_etags.get(&user).cloned();
        let fetched = self.svc.conversation(user.clone(), after, etag).await?;
        // Fetching marks the other side's messages read on the server: count them read
        // here too, or the next probe would take the drop in unread for news.
        if let Some(summary) = self.last_summary.get_mut(&user) {
            if let Some(total) = self.last_unread.as_mut() {
                *total = total.saturating_sub(summary.unread_count);
            }
            summary.unread_count = 0;
        }
        let Fetched::Fresh { value, etag } = fetched else {
            return Ok(());
        };
        if let Some(after) = after {
            if !value.messages.is_empty() {
                self.after_id_honoured = Some(value.messages.iter().all(|m| m.id > after));
            }
        }
        match etag {
            Some(tag) => {
                self.conversation_etags.insert(user.clone(), tag);
            }
            None => {
                self.conversation_etags.remove(&user);
            }
        }
        if let Some(max) = value.messages.iter().map(|m| m.id).max() {
            if let Some((open_user, newest)) = &mut self.open {
                if *open_user == user {
                    *newest = (*newest).max(max);
                }
            }
        }
        if !value.messages.is_empty() || after.is_none() {
            let _ = self.emit(LiveEvent::Conversation { user, messages: value.messages }).await;
        }
        Ok(())
    }

    /// The budget to keep: configured, or decided by what the server offers.
    fn limits(&self) -> Limits {
        match self.config.budget {
            Some(limits) => limits,
            None if self.server_has_etag == Some(true) => Limits::NONE,
            None => self.config.auto_budget,
        }
    }

    /// What a failed REST call while polling means; the plan takes note of 404s and 429s.
    fn classify(&mut self, error: ApiError, probe: Option<Probe>) -> Flow {
        let Some(p) = self.polling.as_mut() else {
            return Flow::Offline;
        };
        match error {
            ApiError::NotFound(_) => {
                if let Some(probe) = probe {
                    p.plan.route_missing(probe);
                }
                Flow::Continue
            }
            ApiError::RateLimited { retry_after } => {
                // The client reports its 60 s stand-in when the server said nothing
                // (production's HTML 429): then the plan's own doubling wait applies.
                let said = (retry_after != DEFAULT_RETRY_AFTER).then_some(retry_after);
                p.plan.rate_limited_by_server(said, Instant::now());
                Flow::Continue
            }
            ApiError::SessionExpired => Flow::Expired,
            ApiError::Offline(why) => {
                tracing::info!(%why, "poll failed: offline");
                Flow::Offline
            }
            e => {
                tracing::info!(error = %e, "poll failed");
                Flow::Continue
            }
        }
    }

    async fn follow(&mut self, flow: Flow) -> Option<Stop> {
        match flow {
            Flow::Continue => None,
            Flow::Offline => Some(self.wait_offline().await),
            Flow::Expired => Some(self.expire().await),
        }
    }

    /// Set up the polling memory once (the first inbox fetch tells whether the server
    /// has ETags, which decides the automatic budget), and catch up within the budget.
    async fn start_polling(&mut self) -> Option<Stop> {
        let now = Instant::now();
        let mut inbox_fetched = false;
        if self.polling.is_none() {
            if self.config.budget.is_none() && self.server_has_etag.is_none() {
                match self.fetch_inbox().await {
                    Ok(_) => inbox_fetched = true,
                    Err(ApiError::SessionExpired) => return Some(self.expire().await),
                    Err(ApiError::Offline(_)) => return Some(self.wait_offline().await),
                    Err(e) => tracing::info!(error = %e, "first inbox fetch failed"),
                }
            }
            let limits = self.limits();
            let windows = self.config.budget_windows;
            let plan = PollPlan::new(self.config.cadence, limits, now)
                .with_windows(windows)
                .with_rate_limit_wait(self.config.rate_limit_wait);
            self.polling = Some(Polling {
                plan,
                conversation_budget: RouteBudget::new(limits).with_windows(windows),
                conversation_fetched_at: None,
                conversation_pending: true,
            });
        }
        let p = self.polling.as_mut()?;
        if inbox_fetched {
            // The probe that decided the budget counts against the inbox route.
            p.plan.record_extra(Probe::Inbox, now);
        } else if p.plan.can_afford(Probe::Inbox, now) && !p.plan.rate_limited(now) {
            p.plan.record_extra(Probe::Inbox, now);
            match self.fetch_inbox().await {
                Ok(changed) => {
                    if let Some(p) = self.polling.as_mut() {
                        p.conversation_pending |= changed;
                    }
                }
                Err(e) => {
                    let flow = self.classify(e, Some(Probe::Inbox));
                    if let Some(stop) = self.follow(flow).await {
                        return Some(stop);
                    }
                }
            }
        }
        if let Some(p) = self.polling.as_mut() {
            // After a gap the open conversation may have moved on: refresh it.
            p.conversation_pending = true;
        }
        self.maybe_fetch_conversation().await
    }

    /// Fetch the open conversation when it changed or is stale, within its budget.
    async fn maybe_fetch_conversation(&mut self) -> Option<Stop> {
        let open = self.open.is_some();
        let p = self.polling.as_mut()?;
        if !open {
            p.conversation_pending = false;
            return None;
        }
        let now = Instant::now();
        let stale =
            p.conversation_fetched_at.is_none_or(|t| now.duration_since(t) >= self.config.conversation_every);
        if !(p.conversation_pending || stale) || p.plan.rate_limited(now) {
            return None;
        }
        let budget = &mut p.conversation_budget;
        let pace = budget.spread_interval(now);
        let by_budget = budget.last_request().map_or(now, |t| t + pace).max(budget.next_allowed(now));
        if by_budget > now {
            return None;
        }
        budget.record(now);
        p.conversation_fetched_at = Some(now);
        p.conversation_pending = false;
        match self.fetch_open_conversation().await {
            Ok(()) => {
                let _ = self.emit(LiveEvent::Synced(chrono::Utc::now())).await;
                None
            }
            Err(e) => {
                if let Some(p) = self.polling.as_mut() {
                    p.conversation_pending = true;
                }
                let flow = self.classify(e, None);
                self.follow(flow).await
            }
        }
    }

    /// Poll until it is time to look for a websocket again.
    async fn run_polling(&mut self) -> Stop {
        let started = Instant::now();
        if let Some(stop) = self.start_polling().await {
            return stop;
        }
        let recheck_at = started + self.config.ws_recheck;
        loop {
            let now = Instant::now();
            if now >= recheck_at {
                return Stop::Again;
            }
            let Some(p) = self.polling.as_mut() else {
                return Stop::Again;
            };
            let (at, probe) = p.plan.next_check(now);
            let state = if p.plan.rate_limited(now) {
                let wait = chrono::Duration::from_std(at.saturating_duration_since(now)).unwrap_or_default();
                LinkState::RateLimited { until: chrono::Utc::now() + wait }
            } else {
                LinkState::Polling { interval: p.plan.period(at, now) }
            };
            if !self.emit(LiveEvent::State(state)).await {
                return Stop::Finish;
            }
            match self.wait_for_check(at, recheck_at).await {
                Ok(true) => {}
                // Plan again with what changed.
                Ok(false) => continue,
                Err(stop) => return stop,
            }
            if let Some(stop) = self.poll_once(probe).await {
                return stop;
            }
        }
    }

    /// Wait for the check planned at `at` (true), or for a command that changes the
    /// plan or a time to look for the websocket again (false).
    async fn wait_for_check(&mut self, at: Instant, recheck_at: Instant) -> Result<bool, Stop> {
        let deadline = tokio::time::Instant::from_std(at.min(recheck_at));
        tokio::select! {
            _ = sleep_until(deadline) => Ok(at <= recheck_at),
            cmd = self.commands.recv() => {
                if self.note_command(&cmd) {
                    return Err(Stop::Finish);
                }
                if let Some(p) = self.polling.as_mut() {
                    let now = Instant::now();
                    match cmd {
                        Some(LiveCommand::RetryNow) => {
                            p.plan.check_now();
                            p.plan.user_input(now);
                        }
                        Some(LiveCommand::UserInput) => p.plan.user_input(now),
                        _ => {}
                    }
                }
                Ok(false)
            }
        }
    }

    /// Send the probe that is due, then follow up: the inbox when a cheap probe saw news
    /// (within the inbox route's budget; otherwise the rotation's inbox turn will see
    /// it), then the conversation when its summary changed or it is stale.
    async fn poll_once(&mut self, probe: Probe) -> Option<Stop> {
        if let Some(p) = self.polling.as_mut() {
            p.plan.sent(probe, Instant::now());
        }
        let news = match self.probe(probe).await {
            Ok(news) => {
                if let Some(p) = self.polling.as_mut() {
                    p.plan.succeeded();
                }
                self.backoff.reset();
                news
            }
            Err(e) => {
                let flow = self.classify(e, Some(probe));
                return self.follow(flow).await;
            }
        };
        let now = Instant::now();
        let mut open_changed = news.open_changed;
        let inbox_affordable = self.polling.as_mut().is_some_and(|p| p.plan.can_afford(Probe::Inbox, now));
        if news.unread_changed && probe != Probe::Inbox && inbox_affordable {
            if let Some(p) = self.polling.as_mut() {
                p.plan.record_extra(Probe::Inbox, now);
            }
            match self.fetch_inbox().await {
                Ok(changed) => open_changed |= changed,
                Err(e) => {
                    let flow = self.classify(e, Some(Probe::Inbox));
                    if let Some(stop) = self.follow(flow).await {
                        return Some(stop);
                    }
                }
            }
        }
        if let Some(p) = self.polling.as_mut() {
            p.conversation_pending |= open_changed;
        }
        self.maybe_fetch_conversation().await
    }

    /// Send one probe; says whether it saw news.
    async fn probe(&mut self, probe: Probe) -> Result<News, ApiError> {
        let count = match probe {
            Probe::UnreadCount => self.svc.unread_count().await?,
            Probe::Poll => {
                let poll = self.svc.poll().await?;
                // `/api/poll` never answers 401; it says so in the body.
                if !poll.authenticated {
                    return Err(ApiError::SessionExpired);
                }
                poll.messages
            }
            Probe::Inbox => {
                let open_changed = self.fetch_inbox().await?;
                let _ = self.emit(LiveEvent::Synced(chrono::Utc::now())).await;
                return Ok(News { unread_changed: false, open_changed });
            }
        };
        let changed = self.last_unread != Some(count);
        self.last_unread = Some(count);
        Ok(News { unread_changed: changed, open_changed: false })
    }
}

struct News {
    unread_changed: bool,
    open_changed: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_file_defaults_give_the_default_link() {
        let from_file = LinkConfig::from_config(&crate::config::PollConfig::default());
        assert_eq!(from_file, LinkConfig::default());
        let poll = crate::config::PollConfig {
            active_secs: 20,
            idle_secs: 120,
            budget_per_hour: 30,
            budget_per_day: 100,
        };
        let c = LinkConfig::from_config(&poll);
        assert_eq!((c.cadence.active, c.cadence.idle), (Duration::from_secs(20), Duration::from_secs(120)));
        assert_eq!(c.auto_budget, Limits { per_hour: 30, per_day: 100 });
        assert_eq!(c.budget, None, "the budget stays automatic: none for servers with extensions");
    }
}
