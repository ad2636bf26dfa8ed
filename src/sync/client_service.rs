//! The real server behind the [`Service`] trait: [`Client`]'s requests, and its
//! websocket opened with the session's cookie.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{header, HeaderValue};
use tokio_tungstenite::tungstenite::{self, Message as WsMessage};

use super::service::{Frame, Service, Socket, WsFailure, CONVERSATION_PAGE};
use crate::api::{ApiError, Client, Fetched};
use crate::model::types::{
    ConversationResponse, InboxResponse, LoginRequest, Message, Pet, PollResponse, SendRequest, SendResponse,
    ShopItem,
};

/// Initial read buffer of the websocket (see `websocket`).
const WS_READ_BUFFER: usize = 8 * 1024;

impl Service for Client {
    async fn login(&self, req: LoginRequest) -> Result<String, ApiError> {
        let resp = Client::login(self, &req).await?;
        Ok(if resp.username.trim().is_empty() { req.username.clone() } else { resp.username })
    }

    async fn logout(&self) -> Result<(), ApiError> {
        Client::logout(self).await
    }

    async fn inbox(
        &self,
        page: u32,
        unread_only: bool,
        etag: Option<String>,
    ) -> Result<Fetched<InboxResponse>, ApiError> {
        Client::inbox(self, page, crate::api::INBOX_PAGE_LIMIT, unread_only, etag.as_deref()).await
    }

    async fn conversation(
        &self,
        user: String,
        after_id: Option<i64>,
        etag: Option<String>,
    ) -> Result<Fetched<ConversationResponse>, ApiError> {
        Client::conversation(self, &user, CONVERSATION_PAGE, after_id, etag.as_deref()).await
    }

    async fn send(&self, req: SendRequest, key: String) -> Result<SendResponse, ApiError> {
        Client::send(self, &req, Some(&key)).await
    }

    async fn delete(&self, id: i64) -> Result<(), ApiError> {
        self.delete_message(id).await
    }

    async fn mark_read(&self, id: i64) -> Result<(), ApiError> {
        Client::mark_read(self, id).await.map(|_| ())
    }

    async fn pet(&self) -> Result<Option<Pet>, ApiError> {
        let status = self.pet_status().await?;
        Ok(if status.exists { status.pet } else { None })
    }

    async fn pet_shop(&self) -> Result<Vec<ShopItem>, ApiError> {
        Ok(Client::pet_shop(self).await?.items)
    }

    async fn pet_buy(&self, item: String) -> Result<String, ApiError> {
        let resp = Client::pet_buy(self, &item).await?;
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
        let resp = Client::pet_create(self, &name, Some(&species), None).await?;
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

    fn role(&self) -> Option<String> {
        Client::role(self)
    }

    fn username(&self) -> Option<String> {
        Client::username(self)
    }

    fn server(&self) -> String {
        self.server_url().to_string()
    }

    async fn unread_count(&self) -> Result<u32, ApiError> {
        Ok(Client::unread_count(self).await?.unread_count)
    }

    async fn poll(&self) -> Result<PollResponse, ApiError> {
        Client::poll(self).await
    }

    async fn sent(&self) -> Result<Vec<Message>, ApiError> {
        Ok(Client::sent(self).await?.messages)
    }

    async fn search(&self, query: String) -> Result<Vec<Message>, ApiError> {
        Ok(Client::search(self, &query).await?.results)
    }

    async fn websocket(&self, timeout: Duration) -> Result<Socket, WsFailure> {
        let (url, cookie) = self.websocket_request().map_err(|e| WsFailure::Network(e.to_string()))?;
        let mut request =
            url.as_str().into_client_request().map_err(|e| WsFailure::Network(e.to_string()))?;
        if let Some(cookie) = cookie {
            let value = HeaderValue::from_str(&cookie).map_err(|e| WsFailure::Network(e.to_string()))?;
            request.headers_mut().insert(header::COOKIE, value);
        }
        // Frames here are small JSON events; tungstenite's default 128 KiB read buffer is
        // allocated and zeroed up front and held for the session. A larger frame still
        // reserves its full length.
        let config = tungstenite::protocol::WebSocketConfig::default().read_buffer_size(WS_READ_BUFFER);
        let connect = tokio_tungstenite::connect_async_with_config(request, Some(config), false);
        let ws = match tokio::time::timeout(timeout, connect).await {
            Err(_) => return Err(WsFailure::Network("websocket handshake timed out".into())),
            Ok(Ok((ws, _response))) => ws,
            Ok(Err(tungstenite::Error::Http(response))) => {
                return Err(match response.status().as_u16() {
                    401 => WsFailure::Unauthorized,
                    // A server in trouble (or a gateway in front of one being restarted) may
                    // offer the websocket again in a moment: back off, do not poll for 10 min.
                    s @ 500..=599 => WsFailure::Network(format!("websocket upgrade answered {s}")),
                    // 404, 405, 426, 403, 429…: no push here; poll within the budget.
                    _ => WsFailure::NotOffered,
                });
            }
            Ok(Err(e)) => {
                return Err(WsFailure::Network(crate::model::sanitize::sanitize_line(&e.to_string())))
            }
        };
        let (sink, stream) = ws.split();
        let frames = stream
            .map(|frame| match frame {
                Ok(WsMessage::Text(text)) => Frame::Text(text.as_str().to_owned()),
                Ok(WsMessage::Close(_)) | Err(_) => Frame::Closed,
                // Pings are answered by tungstenite itself; any frame proves life.
                Ok(_) => Frame::Alive,
            })
            .boxed();
        let pings = sink
            .with(|()| std::future::ready(Ok::<_, tungstenite::Error>(WsMessage::Ping(Vec::new().into()))))
            .sink_map_err(|e| e.to_string());
        Ok(Socket::new(frames, pings))
    }
}
