//! The runner's side of the account's local store (`crate::store`): what the server
//! said is written here as it arrives (inbox pages, conversations, pushed events), and
//! read back at start and when a conversation opens, so the client shows the last known
//! state before any network call and reads fine offline.
//!
//! Every call is made from the runner's tasks (the store's calls are synchronous and
//! fast), never from `update` or `view`. A failing store is logged and otherwise
//! ignored: the server stays the truth, the cache only saves waiting.

use std::sync::{Arc, Mutex, MutexGuard};

use crate::model::types::{ConversationResponse, InboxResponse, Message, WsEvent};
use crate::store::{Store, StoreError};

/// The account's store, shared by the runner's tasks (and the drafts).
pub type Shared = Arc<Mutex<Store>>;

/// Newest cached messages shown when a conversation opens.
pub const CONVERSATION_CACHE: usize = 200;

/// The store itself, for a call whose error the caller handles.
pub fn lock(store: &Shared) -> MutexGuard<'_, Store> {
    // Each store write is one committed transaction: a poisoned lock still guards
    // consistent data.
    store.lock().unwrap_or_else(|e| e.into_inner())
}

/// Run `f` on the store, logging a failure as `what`.
pub fn with<T>(store: &Shared, what: &str, f: impl FnOnce(&mut Store) -> Result<T, StoreError>) -> Option<T> {
    match f(&mut lock(store)) {
        Ok(v) => Some(v),
        Err(e) => {
            tracing::warn!(error = %e, what, "local store");
            None
        }
    }
}

/// The cached inbox as the server's page 1 would look.
pub fn cached_inbox(store: &Shared) -> Option<InboxResponse> {
    let cached = with(store, "load inbox", |s| s.load_inbox())?;
    let n = cached.conversations.len() as u32;
    Some(InboxResponse {
        conversations: cached.conversations,
        total_unread: cached.total_unread,
        page: 1,
        page_size: n,
        total_conversations: n,
    })
}

/// The newest cached messages with `user`, oldest first.
pub fn cached_conversation(store: &Shared, user: &str) -> Vec<Message> {
    with(store, "load conversation", |s| s.load_conversation(user, CONVERSATION_CACHE)).unwrap_or_default()
}

/// Keep a fetched inbox page (only complete-list fetches: an unread-only page would
/// look like the whole inbox to the store).
pub fn save_inbox(store: &Shared, page: &InboxResponse, unread_only: bool) {
    if !unread_only {
        with(store, "save inbox", |s| s.store_inbox_page(page, None));
    }
}

/// Keep a fetched conversation (everything up to its newest id is now known; the fetch
/// marked it read on the server).
pub fn save_conversation(store: &Shared, user: &str, resp: &ConversationResponse) {
    with(store, "save conversation", |s| {
        s.store_conversation(user, resp, None)?;
        s.mark_conversation_read(user)
    });
}

/// Keep messages from anywhere else (catch-up, our own sends), without claiming the
/// conversation is complete up to them.
pub fn save_messages(store: &Shared, messages: &[Message]) {
    if !messages.is_empty() {
        with(store, "save messages", |s| s.merge_messages(messages));
    }
}

/// Hide from `messages` those the user deleted (tombstones in the store), so a
/// server that keeps listing them never brings them back on screen.
pub fn hide_deleted(store: &Shared, messages: &mut Vec<Message>) {
    with(store, "hide deleted", |s| s.drop_deleted(messages));
}

/// Apply a pushed event (new message, read, deleted).
pub fn save_event(store: &Shared, event: &WsEvent) {
    with(store, "save event", |s| s.apply_event(event));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::fixture;

    #[test]
    fn what_is_saved_comes_back() {
        let dir = tempfile::tempdir().unwrap();
        let opened = Store::open_account(dir.path(), "http://fake:1/", "alex").unwrap();
        let store: Shared = Arc::new(Mutex::new(opened.store));
        save_inbox(&store, &fixture::inbox(), true);
        assert!(cached_inbox(&store).unwrap().conversations.is_empty(), "unread-only pages are not kept");
        save_inbox(&store, &fixture::inbox(), false);
        let back = cached_inbox(&store).unwrap();
        let names: Vec<&str> = back.conversations.iter().map(|c| c.with_user.as_str()).collect();
        assert_eq!(names, ["dr_morgan", "sam", "mei", "jo"]);
        save_conversation(&store, "dr_morgan", &fixture::conversation());
        let msgs = cached_conversation(&store, "dr_morgan");
        assert_eq!(msgs.iter().map(|m| m.id).collect::<Vec<_>>(), [10, 11, 12, 13, 14]);
        save_event(&store, &WsEvent::MessageDeleted { message_id: 12 });
        assert_eq!(cached_conversation(&store, "dr_morgan").len(), 4);
    }
}
