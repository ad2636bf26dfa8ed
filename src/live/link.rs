//! The live link task: keeps the app up to date with the server, by websocket when the
//! server offers one and by budget-aware polling when it does not, and catches up over
//! REST after every (re)connect so nothing said while disconnected is missed.
//!
//! It talks to the app only through channels: [`LiveEvent`]s out, [`LiveCommand`]s in.
//! The websocket is a hint; REST is the truth, and merging by message id on the app
//! side makes seeing a message twice harmless.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;
use tokio::time::sleep_until;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{header, HeaderValue, StatusCode};
use tokio_tungstenite::tungstenite::{self, Message as WsMessage};

use super::backoff::Backoff;
use super::budget::{Limits, RouteBudget};
use super::plan::{Cadence, PollPlan, Probe};
use crate::api::types::{ConversationSummary, InboxResponse, Message, WsEvent};
use crate::api::{ApiError, Client, Fetched};

/// How the link is connected, for the status bar.
#[derive(Debug, Clone, PartialEq)]
pub enum LinkState {
    /// Trying to connect for the first time.
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
        until: chrono::DateTime<chrono::Utc>,
    },
    /// The server cannot be reached; next try in `retry_in` (from `since`).
    Offline {
        /// Delay before the next attempt, as decided when it failed.
        retry_in: Duration,
    },
}

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
    /// `R`: reconnect / check now.
    RetryNow,
    /// A key was pressed (polling goes back to the active cadence).
    UserInput,
    /// The conversation on screen changed, with the newest message id the app has.
    Open(Option<(String, i64)>),
    /// Stop the link.
    Shutdown,
}

/// Settings of the link (from `config.toml` `[poll]`).
#[derive(Debug, Clone, PartialEq)]
pub struct LinkConfig {
    /// Poll cadence.
    pub cadence: Cadence,
    /// Per-route budget; `None` = automatic (production's limits when the server
    /// offers no extensions, none otherwise).
    pub budget: Option<Limits>,
    /// How often to look for a websocket again while polling.
    pub ws_recheck: Duration,
    /// Client ping interval on the websocket.
    pub ping_every: Duration,
    /// Silence after which the websocket is taken for dead.
    pub dead_after: Duration,
    /// Refresh the open conversation at least this often while polling.
    pub conversation_every: Duration,
}

impl Default for LinkConfig {
    fn default() -> Self {
        LinkConfig {
            cadence: Cadence::default(),
            budget: None,
            ws_recheck: Duration::from_secs(600),
            ping_every: Duration::from_secs(15),
            dead_after: Duration::from_secs(45),
            conversation_every: Duration::from_secs(60),
        }
    }
}

/// Start the link as a task. It ends on [`LiveCommand::Shutdown`], when the command
/// channel closes, or after reporting [`LiveEvent::SessionExpired`].
pub fn spawn(
    client: Client,
    config: LinkConfig,
    events: mpsc::Sender<LiveEvent>,
    commands: mpsc::Receiver<LiveCommand>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut link = Link::new(client, config, events, commands);
        link.run().await;
    })
}

/// Why the link loop stopped one phase.
enum Stop {
    /// Go round again (reconnect, or try the websocket again).
    Again,
    /// Session expired or the app is gone.
    Finish,
}

enum WsFailure {
    /// The server has no websocket route (404) or refused the upgrade.
    NotOffered,
    /// 401: session expired.
    Unauthorized,
    /// Could not connect at all.
    Network(String),
}

struct Link {
    client: Client,
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
}

impl Link {
    fn new(
        client: Client,
        config: LinkConfig,
        events: mpsc::Sender<LiveEvent>,
        commands: mpsc::Receiver<LiveCommand>,
    ) -> Self {
        Link {
            client,
            config,
            events,
            commands,
            backoff: Backoff::default(),
            open: None,
            inbox_etag: None,
            conversation_etags: HashMap::new(),
            last_summary: HashMap::new(),
            last_unread: None,
            after_id_honoured: None,
            server_has_etag: None,
            state: None,
        }
    }

    async fn emit(&mut self, event: LiveEvent) -> bool {
        if let LiveEvent::State(state) = &event {
            if self.state.as_ref() == Some(state) {
                return true;
            }
            self.state = Some(state.clone());
        }
        self.events.send(event).await.is_ok()
    }

    async fn run(&mut self) {
        let _ = self.emit(LiveEvent::State(LinkState::Connecting)).await;
        loop {
            let stop = match self.connect_ws().await {
                Ok(ws) => self.run_ws(ws).await,
                Err(WsFailure::NotOffered) => self.run_polling().await,
                Err(WsFailure::Unauthorized) => {
                    let _ = self.emit(LiveEvent::SessionExpired).await;
                    Stop::Finish
                }
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
                cmd = self.commands.recv() => match cmd {
                    None | Some(LiveCommand::Shutdown) => return Stop::Finish,
                    Some(LiveCommand::RetryNow) => {
                        self.backoff.reset();
                        return Stop::Again;
                    }
                    Some(LiveCommand::Open(open)) => self.open = open,
                    Some(LiveCommand::UserInput) => {}
                },
            }
        }
    }

    async fn connect_ws(
        &mut self,
    ) -> Result<
        tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
        WsFailure,
    > {
        let (url, cookie) = self.client.websocket_request().map_err(|e| WsFailure::Network(e.to_string()))?;
        let mut request =
            url.as_str().into_client_request().map_err(|e| WsFailure::Network(e.to_string()))?;
        if let Some(cookie) = cookie {
            let value = HeaderValue::from_str(&cookie).map_err(|e| WsFailure::Network(e.to_string()))?;
            request.headers_mut().insert(header::COOKIE, value);
        }
        let connect = tokio_tungstenite::connect_async(request);
        match tokio::time::timeout(Duration::from_secs(10), connect).await {
            Err(_) => Err(WsFailure::Network("timed out".into())),
            Ok(Ok((ws, _response))) => Ok(ws),
            Ok(Err(tungstenite::Error::Http(response))) => match response.status() {
                StatusCode::UNAUTHORIZED => Err(WsFailure::Unauthorized),
                // 429 on the upgrade: treat as "no push here" and poll within the budget.
                _ => Err(WsFailure::NotOffered),
            },
            Ok(Err(tungstenite::Error::Io(e))) => Err(WsFailure::Network(e.to_string())),
            Ok(Err(e)) => Err(WsFailure::Network(e.to_string())),
        }
    }

    async fn run_ws(
        &mut self,
        ws: tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
    ) -> Stop {
        let connected_at = Instant::now();
        self.backoff.connected(connected_at);
        if !self.emit(LiveEvent::State(LinkState::Live)).await {
            return Stop::Finish;
        }
        let (mut sink, mut stream) = ws.split();
        // Catch up after subscribing, so nothing falls between the two.
        match self.catch_up().await {
            Ok(()) => {}
            Err(ApiError::SessionExpired) => {
                let _ = self.emit(LiveEvent::SessionExpired).await;
                return Stop::Finish;
            }
            Err(e) => tracing::info!(error = %e, "catch-up after connect failed"),
        }
        let mut ping = tokio::time::interval(self.config.ping_every);
        ping.tick().await;
        let mut last_heard = tokio::time::Instant::now();
        let stop = loop {
            let dead_at = last_heard + self.config.dead_after;
            tokio::select! {
                frame = stream.next() => match frame {
                    Some(Ok(WsMessage::Text(text))) => {
                        last_heard = tokio::time::Instant::now();
                        if let Some(event) = WsEvent::parse(text.as_str()) {
                            if let WsEvent::MessageNew { message } = &event {
                                self.note_message(message);
                            }
                            if !self.emit(LiveEvent::Pushed(event)).await {
                                break Stop::Finish;
                            }
                        }
                    }
                    Some(Ok(WsMessage::Ping(payload))) => {
                        last_heard = tokio::time::Instant::now();
                        if sink.send(WsMessage::Pong(payload)).await.is_err() {
                            break Stop::Again;
                        }
                    }
                    Some(Ok(WsMessage::Close(_))) | None | Some(Err(_)) => break Stop::Again,
                    Some(Ok(_)) => last_heard = tokio::time::Instant::now(),
                },
                _ = ping.tick() => {
                    if sink.send(WsMessage::Ping(Vec::new().into())).await.is_err() {
                        break Stop::Again;
                    }
                }
                _ = sleep_until(dead_at) => {
                    tracing::info!("websocket silent too long; reconnecting");
                    break Stop::Again;
                }
                cmd = self.commands.recv() => match cmd {
                    None | Some(LiveCommand::Shutdown) => break Stop::Finish,
                    Some(LiveCommand::RetryNow) => {
                        if let Err(ApiError::SessionExpired) = self.catch_up().await {
                            let _ = self.emit(LiveEvent::SessionExpired).await;
                            break Stop::Finish;
                        }
                    }
                    Some(LiveCommand::Open(open)) => self.open = open,
                    Some(LiveCommand::UserInput) => {}
                },
            }
        };
        let _ = sink.close().await;
        self.backoff.disconnected(Instant::now());
        if let Stop::Again = stop {
            // A link that dropped is retried after the backoff delay.
            return self.wait_offline().await;
        }
        stop
    }

    fn note_message(&mut self, message: &Message) {
        if let Some((user, newest)) = &mut self.open {
            let me = self.client.username().unwrap_or_default();
            let other = if message.sender == me { &message.recipient } else { &message.sender };
            if other == user {
                *newest = (*newest).max(message.id);
            }
        }
    }

    /// Inbox, then the open conversation.
    async fn catch_up(&mut self) -> Result<(), ApiError> {
        self.fetch_inbox().await?;
        self.fetch_open_conversation().await?;
        let _ = self.emit(LiveEvent::Synced(chrono::Utc::now())).await;
        Ok(())
    }

    /// Fetch the inbox; returns whether the open conversation's summary changed.
    async fn fetch_inbox(&mut self) -> Result<bool, ApiError> {
        let fetched = self.client.inbox(1, 20, false, self.inbox_etag.as_deref()).await?;
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
        self.emit(LiveEvent::Inbox(value)).await;
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
        let fetched = self.client.conversation(&user, 200, after, etag.as_deref()).await?;
        let Fetched::Fresh { value, etag } = fetched else {
            return Ok(());
        };
        if let Some(after) = after {
            let honoured = value.messages.iter().all(|m| m.id > after);
            if !value.messages.is_empty() {
                self.after_id_honoured = Some(honoured);
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
            self.emit(LiveEvent::Conversation { user, messages: value.messages }).await;
        }
        Ok(())
    }

    /// Poll until it is time to look for a websocket again.
    async fn run_polling(&mut self) -> Stop {
        let started = Instant::now();
        let limits = match self.config.budget {
            Some(limits) => limits,
            None => {
                // Decide from what the server offers: one inbox fetch tells about ETags.
                if self.server_has_etag.is_none() {
                    match self.fetch_inbox().await {
                        Ok(_) => {}
                        Err(ApiError::SessionExpired) => {
                            let _ = self.emit(LiveEvent::SessionExpired).await;
                            return Stop::Finish;
                        }
                        Err(ApiError::Offline(_)) => return self.wait_offline().await,
                        Err(_) => {}
                    }
                }
                if self.server_has_etag == Some(true) {
                    Limits::NONE
                } else {
                    Limits::PRODUCTION
                }
            }
        };
        let mut plan = PollPlan::new(self.config.cadence, limits, started);
        let mut conversation_budget = RouteBudget::new(limits);
        let mut conversation_fetched_at: Option<Instant> = None;
        if self.server_has_etag.is_some() {
            // The inbox fetch that probed the server counts against its route.
            plan.record_extra(Probe::Inbox, started);
        }
        let mut first = true;
        loop {
            let now = Instant::now();
            if now.duration_since(started) >= self.config.ws_recheck {
                return Stop::Again;
            }
            let (at, probe) = plan.next_check(now);
            let state = if plan.rate_limited(now) {
                let wait = at.saturating_duration_since(now);
                LinkState::RateLimited {
                    until: chrono::Utc::now() + chrono::Duration::from_std(wait).unwrap_or_default(),
                }
            } else {
                LinkState::Polling { interval: plan.cadence_interval(now) }
            };
            if !self.emit(LiveEvent::State(state)).await {
                return Stop::Finish;
            }
            let deadline = tokio::time::Instant::from_std(at);
            let wake = loop {
                tokio::select! {
                    _ = sleep_until(deadline) => break true,
                    cmd = self.commands.recv() => match cmd {
                        None | Some(LiveCommand::Shutdown) => return Stop::Finish,
                        Some(LiveCommand::RetryNow) => {
                            plan.check_now();
                            plan.user_input(Instant::now());
                            break false;
                        }
                        Some(LiveCommand::UserInput) => {
                            let was_idle = plan.cadence_interval(Instant::now()) != self.config.cadence.active;
                            plan.user_input(Instant::now());
                            if was_idle {
                                break false;
                            }
                        }
                        Some(LiveCommand::Open(open)) => {
                            let changed = open.as_ref().map(|o| &o.0) != self.open.as_ref().map(|o| &o.0);
                            self.open = open;
                            if changed {
                                conversation_fetched_at = None;
                            }
                        }
                    },
                }
            };
            if !wake {
                continue;
            }
            let now = Instant::now();
            plan.sent(probe, now);
            let outcome = self.probe(probe, first).await;
            first = false;
            let news = match outcome {
                Ok(news) => {
                    plan.succeeded();
                    self.backoff.reset();
                    news
                }
                Err(ApiError::NotFound(_)) => {
                    plan.route_missing(probe);
                    continue;
                }
                Err(ApiError::RateLimited { retry_after }) => {
                    let retry = (retry_after > Duration::ZERO).then_some(retry_after);
                    plan.rate_limited_by_server(retry, Instant::now());
                    continue;
                }
                Err(ApiError::SessionExpired) => {
                    let _ = self.emit(LiveEvent::SessionExpired).await;
                    return Stop::Finish;
                }
                Err(ApiError::Offline(_)) => return self.wait_offline().await,
                Err(e) => {
                    tracing::info!(error = %e, "poll failed");
                    continue;
                }
            };
            // Follow up: the inbox when the probe saw news, the conversation when its
            // summary changed or it is stale; each within its own route's budget.
            let now = Instant::now();
            let mut open_changed = news.open_changed;
            if news.unread_changed && probe != Probe::Inbox && plan.can_afford(Probe::Inbox, now) {
                plan.record_extra(Probe::Inbox, now);
                match self.fetch_inbox().await {
                    Ok(changed) => open_changed |= changed,
                    Err(e) => tracing::info!(error = %e, "inbox refresh failed"),
                }
            }
            let stale = conversation_fetched_at
                .is_none_or(|t| now.duration_since(t) >= self.config.conversation_every);
            if self.open.is_some()
                && (open_changed || stale)
                && conversation_budget.next_allowed(now) <= now
                && now
                    >= conversation_budget.last_request().unwrap_or(now)
                        + conversation_budget.spread_interval(now).min(self.config.conversation_every)
            {
                conversation_budget.record(now);
                conversation_fetched_at = Some(now);
                match self.fetch_open_conversation().await {
                    Ok(()) => {
                        let _ = self.emit(LiveEvent::Synced(chrono::Utc::now())).await;
                    }
                    Err(ApiError::RateLimited { retry_after }) => {
                        plan.rate_limited_by_server(Some(retry_after), Instant::now());
                    }
                    Err(e) => tracing::info!(error = %e, "conversation refresh failed"),
                }
            }
        }
    }

    /// Send one probe; says whether it saw news.
    async fn probe(&mut self, probe: Probe, first: bool) -> Result<News, ApiError> {
        match probe {
            Probe::UnreadCount => {
                let count = self.client.unread_count().await?.unread_count;
                let changed = self.last_unread != Some(count) || first;
                self.last_unread = Some(count);
                Ok(News { unread_changed: changed, open_changed: false })
            }
            Probe::Poll => {
                let count = self.client.poll().await?.messages;
                let changed = self.last_unread != Some(count) || first;
                self.last_unread = Some(count);
                Ok(News { unread_changed: changed, open_changed: false })
            }
            Probe::Inbox => {
                let open_changed = self.fetch_inbox().await?;
                let _ = self.emit(LiveEvent::Synced(chrono::Utc::now())).await;
                Ok(News { unread_changed: false, open_changed })
            }
        }
    }
}

struct News {
    unread_changed: bool,
    open_changed: bool,
}
