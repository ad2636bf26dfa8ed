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
//!
//! # How the app uses it
//!
//! `Store` is `Send` but not `Sync`: the interactive client gives it one owner
//! ([`owner::StoreHandle`], a thread reached by queued calls), so no frame waits on disk. Calls are synchronous and fast (see
//! `benches/store.rs`); every write is committed before the call returns.
//!
//! - **Start-up:** [`Store::open_account`]; if [`Opened::recovered`] is set, show its
//!   [`Recovery::message`] once. Draw from [`Store::load_inbox`], [`Store::all_drafts`]
//!   and [`Store::pending`] before any network call; then refresh with
//!   `If-None-Match` = [`Store::etag`]`(&`[`cache::inbox_resource`]`(1))` and save the
//!   answer with [`Store::store_inbox_page`]. Resume the outbox (see [`outbox`]).
//! - **Opening a conversation:** draw [`Store::load_conversation`]`(user, 200)`,
//!   [`Store::pending_for`] and [`Store::load_draft`]; fetch with
//!   `after_id` = [`Store::after_id`] and the stored ETag, save with
//!   [`Store::store_conversation`], then [`Store::mark_conversation_read`] (the fetch
//!   marked them read on the server). Scrolling up: [`Store::load_messages_before`].
//! - **Live events:** [`Store::apply_event`]; redraw the conversation it returns.
//! - **Search:** [`Store::search`] / [`Store::search_conversation`]; merge server
//!   results with [`Store::merge_messages`].
//! - **Damage while in use:** on an error with [`StoreError::is_corrupt`], drop the
//!   store and call [`Store::recover`].
//! - **`logout --forget`:** drop the store, then [`forget_account`].

pub mod cache;
pub mod claim;
pub mod db;
pub mod drafts;
pub mod error;
pub mod outbox;
pub mod owner;
pub mod paths;
mod schema;
pub mod search;
pub mod session;

pub use cache::CachedInbox;
pub use claim::SendClaim;
pub use db::{Opened, Recovery, Store};
pub use drafts::Draft;
pub use error::StoreError;
pub use outbox::{find_echo, OutboxEntry, OutboxState, OutgoingMessage, ECHO_CLOCK_SKEW};
pub use owner::{Access, StoreHandle};
pub use paths::{account_dir, forget_account, store_path};
/// The schema version this build writes (number of migrations).
pub use schema::LATEST as SCHEMA_VERSION;
