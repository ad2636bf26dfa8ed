//! The websocket extension: `GET /api/messages/ws`, authenticated by the session
//! cookie, pushing [`WsEvent`] text frames to every open socket of the users an
//! event concerns. The server pings every 30 s and drops a socket silent for 90 s.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use axum::extract::ws::{Message as WsMessage, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::Response;
use futures_util::{SinkExt, StreamExt};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use super::auth::{lookup_session, session_cookie};
use super::errors::ServerError;
use super::state::AppState;
use crate::model::types::WsEvent;

/// How often the server pings.
pub const PING_EVERY: Duration = Duration::from_secs(30);
/// A socket that sent nothing (not even a pong) for this long is dropped.
pub const SILENT_LIMIT: Duration = Duration::from_secs(90);
/// A socket whose client stopped reading (a frame cannot be written for this long) is dropped.
pub const WRITE_LIMIT: Duration = Duration::from_secs(10);

type Outbox = mpsc::UnboundedSender<Utf8Bytes>;

/// Open sockets per username.
pub struct Hub {
    sockets: Mutex<HashMap<String, Vec<(u64, Outbox)>>>,
    next_id: AtomicU64,
    closing: watch::Sender<bool>,
}

impl Default for Hub {
    fn default() -> Self {
        Self::new()
    }
}

impl Hub {
    /// An empty hub.
    pub fn new() -> Self {
        Hub {
            sockets: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(1),
            closing: watch::channel(false).0,
        }
    }

    fn register(&self, user: &str) -> (u64, mpsc::UnboundedReceiver<Utf8Bytes>) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = mpsc::unbounded_channel();
        let mut map = crate::model::lock::lock(&self.sockets);
        map.entry(user.to_string()).or_default().push((id, tx));
        (id, rx)
    }

    fn unregister(&self, user: &str, id: u64) {
        let mut map = crate::model::lock::lock(&self.sockets);
        if let Some(list) = map.get_mut(user) {
            list.retain(|(i, _)| *i != id);
            if list.is_empty() {
                map.remove(user);
            }
        }
    }

    /// Number of open sockets (all users).
    pub fn open_sockets(&self) -> usize {
        crate::model::lock::lock(&self.sockets).values().map(Vec::len).sum()
    }

    /// Send `event` to every open socket of each user in `users` (each user once).
    pub fn publish(&self, users: &[&str], event: &WsEvent) {
        let Ok(text) = serde_json::to_string(event) else { return };
        let frame = Utf8Bytes::from(text);
        let map = crate::model::lock::lock(&self.sockets);
        let mut seen: Vec<&str> = Vec::with_capacity(users.len());
        for user in users {
            if seen.contains(user) {
                continue;
            }
            seen.push(user);
            for (_, tx) in map.get(*user).into_iter().flatten() {
                // A closed receiver means the socket task is ending; it unregisters itself.
                let _ = tx.send(frame.clone());
            }
        }
    }

    /// Ask every socket to close (server shutdown).
    pub fn close_all(&self) {
        self.closing.send_replace(true);
    }
}

/// `GET /api/messages/ws`: 401 before the upgrade without a valid session.
pub async fn handler(
    State(state): State<AppState>,
    headers: HeaderMap,
    upgrade: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Result<Response, ServerError> {
    let token = session_cookie(&headers).ok_or(ServerError::Unauthenticated)?;
    let user = lookup_session(&state, &token).await?.ok_or(ServerError::Unauthenticated)?;
    // A browser page on another site could open this socket with the user's cookie;
    // refuse any Origin that is not this host.
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
        let origin_host = origin.split_once("://").map_or(origin, |(_, rest)| rest);
        if origin_host != host {
            return Err(ServerError::forbidden("Origin not allowed"));
        }
    }
    let upgrade = upgrade.map_err(|_| ServerError::bad("Websocket upgrade required"))?;
    // Register before answering 101, so an event published right after the client's
    // handshake completes is not missed.
    let (id, outbox) = state.hub.register(&user.username);
    let registration = Registration { state: state.clone(), user: user.username, id };
    Ok(upgrade.on_upgrade(move |socket| run(socket, registration, outbox)))
}

/// Removes a socket from the hub when dropped (also if the upgrade never completes).
struct Registration {
    state: AppState,
    user: String,
    id: u64,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.state.hub.unregister(&self.user, self.id);
    }
}

async fn run(socket: WebSocket, registration: Registration, mut outbox: mpsc::UnboundedReceiver<Utf8Bytes>) {
    let state = &registration.state;
    let mut closing = state.hub.closing.subscribe();
    // The flag only ever changes to true; a socket opened after that closes at once.
    if *closing.borrow() {
        closing.mark_changed();
    }
    let (mut sink, mut stream) = socket.split();
    let mut ping = tokio::time::interval_at(Instant::now() + PING_EVERY, PING_EVERY);
    let mut last_heard = Instant::now();
    loop {
        tokio::select! {
            frame = outbox.recv() => {
                let Some(frame) = frame else { break };
                if !matches!(tokio::time::timeout(WRITE_LIMIT, sink.send(WsMessage::Text(frame))).await, Ok(Ok(()))) {
                    break;
                }
            }
            incoming = stream.next() => match incoming {
                Some(Ok(WsMessage::Close(_))) | Some(Err(_)) | None => break,
                Some(Ok(_)) => last_heard = Instant::now(),
            },
            _ = ping.tick() => {
                if last_heard.elapsed() >= SILENT_LIMIT {
                    break;
                }
                let ping = sink.send(WsMessage::Ping(Vec::new().into()));
                if !matches!(tokio::time::timeout(WRITE_LIMIT, ping).await, Ok(Ok(()))) {
                    break;
                }
            }
            _ = closing.changed() => break,
        }
    }
    let _ = tokio::time::timeout(WRITE_LIMIT, sink.send(WsMessage::Close(None))).await;
}
