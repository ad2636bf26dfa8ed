//! What the interactive client needs from a server, as a trait: the runner is written
//! against it, the real [`crate::api::Client`] implements it, and tests drive the
//! runner and the whole loop with a fake.

use std::future::Future;

use crate::api::ApiError;
use crate::model::types::{
    ConversationResponse, InboxResponse, LoginRequest, Pet, SendRequest, SendResponse, ShopItem,
};

/// A logged-in (or logging-in) connection to one server. Fetches return `None` when the
/// server says nothing changed since the last fetch of the same thing (ETag / 304).
pub trait Service: Clone + Send + Sync + 'static {
    /// Log in (also fetches the CSRF token).
    fn login(&self, req: LoginRequest) -> impl Future<Output = Result<String, ApiError>> + Send;
    /// Log out on the server.
    fn logout(&self) -> impl Future<Output = Result<(), ApiError>> + Send;
    /// One page of the inbox.
    fn inbox(
        &self,
        page: u32,
        unread_only: bool,
    ) -> impl Future<Output = Result<Option<InboxResponse>, ApiError>> + Send;
    /// The conversation with `user`, only after `after_id` when given.
    fn conversation(
        &self,
        user: String,
        after_id: Option<i64>,
    ) -> impl Future<Output = Result<Option<ConversationResponse>, ApiError>> + Send;
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
    /// Whether the server offers cheap conditional fetches (ETag), so polling may be brisk.
    fn has_etags(&self) -> bool;
    /// The server URL, for the status bar.
    fn server(&self) -> String;
    /// The pet shop's items. Services without a shop (test fakes) say "not found".
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
    /// The API client for the live link (`crate::sync::link`); `None` (test fakes) keeps
    /// the runner's plain poller.
    fn live_client(&self) -> Option<crate::api::Client> {
        None
    }
}

/// Makes a [`Service`] for a server URL, and keeps or forgets sessions on disk.
pub trait Connect: Send + Sync + 'static {
    /// The service it makes.
    type Service: Service;
    /// A fresh, logged-out service for `server`.
    fn connect(&self, server: &str) -> Result<Self::Service, ApiError>;
    /// Keep the session of `service` on disk (after a login with remember-me, and at exit).
    fn persist(&self, service: &Self::Service);
    /// Forget the saved session (logout).
    fn forget(&self);
}
