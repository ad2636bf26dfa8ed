//! The real server behind the [`Service`] trait: `crate::api::Client`, with the ETags
//! of the last fetches remembered so polls cost a 304 when nothing changed.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use crate::api::{ApiError, Client, ClientOptions, Fetched};
use crate::model::types::{
    ConversationResponse, InboxResponse, LoginRequest, Pet, SendRequest, SendResponse, ShopItem,
};
use crate::shell::service::{Connect, Service};
use crate::store::session::Session;

/// Messages asked for per conversation fetch (the server's maximum).
const CONVERSATION_LIMIT: u32 = 200;

/// A [`Client`] plus the ETags of its last fetches.
#[derive(Clone)]
pub struct ClientService {
    client: Client,
    etags: Arc<Mutex<HashMap<String, String>>>,
    saw_etag: Arc<AtomicBool>,
}

impl ClientService {
    /// Wrap a client.
    pub fn new(client: Client) -> ClientService {
        ClientService { client, etags: Arc::default(), saw_etag: Arc::default() }
    }

    /// The client inside.
    pub fn client(&self) -> &Client {
        &self.client
    }

    fn etag(&self, key: &str) -> Option<String> {
        self.etags.lock().unwrap_or_else(|e| e.into_inner()).get(key).cloned()
    }

    fn fresh<T>(&self, key: String, fetched: Fetched<T>) -> Option<T> {
        match fetched {
            Fetched::Fresh { value, etag } => {
                let mut tags = self.etags.lock().unwrap_or_else(|e| e.into_inner());
                match etag {
                    Some(tag) => {
                        self.saw_etag.store(true, Ordering::Relaxed);
                        tags.insert(key, tag);
                    }
                    None => {
                        tags.remove(&key);
                    }
                }
                Some(value)
            }
            Fetched::NotModified => None,
        }
    }
}

impl Service for ClientService {
    async fn login(&self, req: LoginRequest) -> Result<String, ApiError> {
        let resp = self.client.login(&req).await?;
        Ok(if resp.username.trim().is_empty() { req.username.clone() } else { resp.username })
    }

    async fn logout(&self) -> Result<(), ApiError> {
        self.client.logout().await
    }

    async fn inbox(&self, page: u32, unread_only: bool) -> Result<Option<InboxResponse>, ApiError> {
        let key = format!("inbox:{page}:{unread_only}");
        let tag = self.etag(&key);
        let fetched =
            self.client.inbox(page, crate::api::INBOX_PAGE_LIMIT, unread_only, tag.as_deref()).await?;
        Ok(self.fresh(key, fetched))
    }

    async fn conversation(
        &self,
        user: String,
        after_id: Option<i64>,
    ) -> Result<Option<ConversationResponse>, ApiError> {
        let key = format!("conv:{user}:{after_id:?}");
        let tag = self.etag(&key);
        let fetched = self.client.conversation(&user, CONVERSATION_LIMIT, after_id, tag.as_deref()).await?;
        Ok(self.fresh(key, fetched))
    }

    async fn send(&self, req: SendRequest, key: String) -> Result<SendResponse, ApiError> {
        self.client.send(&req, Some(&key)).await
    }

    async fn delete(&self, id: i64) -> Result<(), ApiError> {
        self.client.delete_message(id).await
    }

    async fn mark_read(&self, id: i64) -> Result<(), ApiError> {
        self.client.mark_read(id).await.map(|_| ())
    }

    async fn pet(&self) -> Result<Option<Pet>, ApiError> {
        let status = self.client.pet_status().await?;
        Ok(if status.exists { status.pet } else { None })
    }

    async fn pet_shop(&self) -> Result<Vec<ShopItem>, ApiError> {
        Ok(self.client.pet_shop().await?.items)
    }

    async fn pet_buy(&self, item: String) -> Result<String, ApiError> {
        let resp = self.client.pet_buy(&item).await?;
        if !resp.success {
            // A 200 that says no (the contract's success body has no words of its own).
            return Err(ApiError::Invalid("the shop said no".into()));
        }
        Ok(match resp.new_coins {
            Some(coins) => format!("bought {item} · {coins} coins left"),
            None => format!("bought {item}"),
        })
    }

    async fn pet_create(&self, name: String, species: String) -> Result<(), ApiError> {
        let resp = self.client.pet_create(&name, Some(&species), None).await?;
        if !resp.success {
            let why = if resp.message.trim().is_empty() {
                "the pet could not be created".into()
            } else {
                resp.message
            };
            return Err(ApiError::Invalid(why));
        }
        Ok(())
    }

    fn has_etags(&self) -> bool {
        self.saw_etag.load(Ordering::Relaxed)
    }

    fn live_client(&self) -> Option<Client> {
        Some(self.client.clone())
    }

    fn role(&self) -> Option<String> {
        self.client.role()
    }

    fn server(&self) -> String {
        self.client.server_url().to_string()
    }
}

/// Makes [`ClientService`]s and keeps the session file in the config directory.
pub struct ClientConnect {
    /// How clients connect.
    pub opts: ClientOptions,
    /// Where `session.json` lives.
    pub config_dir: PathBuf,
}

impl Connect for ClientConnect {
    type Service = ClientService;

    fn connect(&self, server: &str) -> Result<ClientService, ApiError> {
        Client::new(server, &self.opts).map(ClientService::new)
    }

    fn persist(&self, service: &ClientService) {
        if service.client.username().is_none() {
            return;
        }
        if let Err(e) = service.client.session().save(&self.config_dir) {
            tracing::warn!(error = %e, "could not save the session");
        }
    }

    fn forget(&self) {
        if let Err(e) = Session::remove(&self.config_dir) {
            tracing::warn!(error = %e, "could not remove the session");
        }
    }
}
