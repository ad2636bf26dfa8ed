//! The `live` room: the link that brings news. A websocket when the server offers one
//! (our extension), otherwise smart, budget-aware polling; capped jittered backoff;
//! and the connection state the status bar shows.

pub mod backoff;
pub mod budget;
pub mod plan;
pub mod sender;
