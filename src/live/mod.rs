//! The `live` room: the link that brings news. A websocket when the server offers one
//! (our extension), otherwise smart, budget-aware polling; capped jittered backoff;
//! the connection state the status bar shows; notifications for news off screen; and
//! the sender that empties the outbox.

pub mod backoff;
pub mod budget;
pub mod link;
pub mod notify;
pub mod plan;
pub mod sender;
pub mod status;
