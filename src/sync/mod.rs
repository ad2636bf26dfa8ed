//! The `sync` room: bringing news and sending. The live link (a websocket when the server
//! offers one, our extension, otherwise smart polling within per-route budgets), capped
//! jittered backoff, catch-up after a reconnect, the connection state it reports, and the
//! outbox sender.

pub mod backoff;
pub mod budget;
pub mod link;
pub mod plan;
pub mod sender;
pub mod status;
