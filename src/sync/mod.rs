//! The `sync` room: bringing news and sending. The live link (a websocket when the server
//! offers one, our extension, otherwise smart polling within per-route budgets), capped
//! jittered backoff, catch-up after a reconnect, the connection state it reports, and the
//! outbox sender; and the [`service::Service`] seam they all reach the server through.

pub mod backoff;
pub mod budget;
pub mod client_service;
pub mod link;
pub mod plan;
pub mod sender;
pub mod service;
pub mod status;
