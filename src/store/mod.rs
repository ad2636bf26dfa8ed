//! The `store` room: the local, per-account SQLite store (see design.md).
//!
//! One database per (server, username) at [`store_path`]; owner-only permissions;
//! forward migrations at open; a damaged file is moved aside, never deleted.
//!
//! - cache ([`cache`]): inbox summaries and conversation messages, ETags, `after_id`,
//!   live events, full-text search, so start-up shows the last known state at once and
//!   reading works offline;
//! - outbox ([`outbox`]): messages are saved before the first send attempt and leave
//!   only when the server confirmed them;
//! - drafts ([`drafts`]) per conversation.

pub mod cache;
pub mod db;
pub mod drafts;
pub mod error;
pub mod outbox;
pub mod paths;
mod schema;
pub mod search;

pub use cache::CachedInbox;
pub use db::{Opened, Recovery, Store};
pub use drafts::Draft;
pub use error::StoreError;
pub use outbox::{find_echo, OutboxEntry, OutboxState, OutgoingMessage, ECHO_CLOCK_SKEW};
pub use paths::{account_dir, forget_account, store_path};
/// The schema version this build writes (number of migrations).
pub use schema::LATEST as SCHEMA_VERSION;
