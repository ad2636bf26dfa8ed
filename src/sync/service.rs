//! What the client needs from a server, as one trait: the effect runner, the live link
//! and the outbox sender are all written against it. The real [`crate::api::Client`]
//! implements it (`super::client_service`); tests drive the same link and sender with a
//! fake. A method with a default body is an extension or a route some servers lack: the
//! default answers as a server without it would (404, or no websocket), and the callers
//! already fall back for such servers.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use futures_util::stream::BoxStream;
use futures_util::{Sink, SinkExt, StreamExt};

use crate::api::{ApiError, Fetched};
use crate::model::types::{
    ConversationResponse, InboxResponse, LoginRequest, Message, Pet, PollResponse, SendRequest, SendResponse,
    ShopItem,
};

/// Messages a conversation fetch brings at most (the server's maximum).
pub const CONVERSATION_PAGE: u32 = 200;

/// A logged-in (or logging-in) connection to one server. Fetches take the ETag of the
/// caller's copy (each caller keeps its own) and answer [`Fetched::NotModified`] when
/// the server says nothing changed since.
pub trait Service: Clone + Send + Sync + 'static {
    /// Log in (also fetches the CSRF token); the username as the server spells it.
    fn login(&self, req: LoginRequest) -> impl Future<Output = Result<String, ApiError>> + Send;
    /// Log out on the server.
    fn logout(&self) -> impl Future<Output = Result<(), ApiError>> + Send;
    /// One page of the inbox.
    fn inbox(
        &self,
        page: u32,
        unread_only: bool,
        etag: Option<String>,
    ) -> impl Future<Output = Result<Fetched<InboxResponse>, ApiError>> + Send;
    /// The conversation with `user` (at most [`CONVERSATION_PAGE`], the oldest first),
    /// only after `after_id` when given.
    fn conversation(
        &self,
        user: String,
        after_id: Option<i64>,
        etag: Option<String>,
    ) -> impl Future<Output = Result<Fetched<ConversationResponse>, ApiError>> + Send;
    /// Send a message with an idempotency key.
    fn send(
        &self,
        req: SendRequest,
        key: String,
    ) -> impl Future<Output = Result<SendResponse, ApiError>> + Send;
    /// Delete a message for me.
    fn delete(&self, id: i64) -> impl Future<Output = Result<(), ApiError>> + Send;
    /// Mark a message read.
    fn mark_read(&self, id: i64) -> impl Future<Output = Result<(), ApiError>> + Send;
    /// The pet, `None` when there is none.
    fn pet(&self) -> impl Future<Output = Result<Option<Pet>, ApiError>> + Send;
    /// The server URL, for the status bar.
    fn server(&self) -> String;
    /// The pet shop's items.
    fn pet_shop(&self) -> impl Future<Output = Result<Vec<ShopItem>, ApiError>> + Send {
        async { Err(ApiError::NotFound("no pet shop here".into())) }
    }
    /// Buy a shop item for the pet; on success, what to tell the user ("bought apple · 40 coins left").
    fn pet_buy(&self, item: String) -> impl Future<Output = Result<String, ApiError>> + Send {
        let _ = item;
        async { Err(ApiError::NotFound("no pet shop here".into())) }
    }
    /// Create a pet of a species.
    fn pet_create(&self, name: String, species: String) -> impl Future<Output = Result<(), ApiError>> + Send {
        let _ = (name, species);
        async { Err(ApiError::NotFound("no pets here".into())) }
    }
    /// The logged-in user's role as the server named it (`user`, `clinician`), when
    /// known; it sets the inbox's default order.
    fn role(&self) -> Option<String> {
        None
    }
    /// The logged-in user's name, when known (a pushed message of ours is told apart
    /// from theirs by it).
    fn username(&self) -> Option<String> {
        None
    }
    /// The unread count alone (`/api/messages/unread-count`), the cheapest probe.
    fn unread_count(&self) -> impl Future<Output = Result<u32, ApiError>> + Send {
        async { Err(ApiError::NotFound("no unread-count route here".into())) }
    }
    /// `/api/poll` (head's notifications and unread messages).
    fn poll(&self) -> impl Future<Output = Result<PollResponse, ApiError>> + Send {
        async { Err(ApiError::NotFound("no poll route here".into())) }
    }
    /// The messages I sent, newest first (`/api/messages/sent`); the sender looks for
    /// its own copy there before sending again.
    fn sent(&self) -> impl Future<Output = Result<Vec<Message>, ApiError>> + Send {
        async { Err(ApiError::NotFound("no sent route here".into())) }
    }
    /// The server's message search.
    fn search(&self, query: String) -> impl Future<Output = Result<Vec<Message>, ApiError>> + Send {
        let _ = query;
        async { Err(ApiError::NotFound("no search here".into())) }
    }
    /// Open the push channel (our websocket extension), giving up after `timeout`.
    fn websocket(&self, timeout: Duration) -> impl Future<Output = Result<Socket, WsFailure>> + Send {
        let _ = timeout;
        async { Err(WsFailure::NotOffered) }
    }
}

/// Why the push channel could not be opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WsFailure {
    /// The server has no websocket route (404) or refused the upgrade: poll instead.
    NotOffered,
    /// 401: session expired.
    Unauthorized,
    /// Could not connect, or the server failed (5xx): try again later.
    Network(String),
}

/// What arrives on the push channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A text frame (an event in JSON).
    Text(String),
    /// Any other frame (ping, pong, binary): it proves the link alive.
    Alive,
    /// The channel closed or failed.
    Closed,
}

/// An open push channel: frames in, pings out.
pub struct Socket {
    frames: BoxStream<'static, Frame>,
    pings: Pin<Box<dyn Sink<(), Error = String> + Send>>,
}

impl Socket {
    /// A channel from its incoming frames and a sink that sends one ping per `()`.
    pub fn new(
        frames: BoxStream<'static, Frame>,
        pings: impl Sink<(), Error = String> + Send + 'static,
    ) -> Socket {
        Socket { frames, pings: Box::pin(pings) }
    }

    /// The next frame; [`Frame::Closed`] once the channel ended. Cancel-safe.
    pub async fn next(&mut self) -> Frame {
        self.frames.next().await.unwrap_or(Frame::Closed)
    }

    /// Send a ping.
    pub async fn ping(&mut self) -> Result<(), String> {
        self.pings.send(()).await
    }

    /// Close the channel (a courtesy: the caller bounds how long it waits).
    pub async fn close(&mut self) {
        let _ = self.pings.close().await;
    }
}
