//! The runner's side of the account's local store (`crate::store`): what the server
//! said is written here as it arrives (inbox pages, conversations, pushed events), and
//! read back at start and when a conversation opens, so the client shows the last known
//! state before any network call and reads fine offline.
//!
//! Every call is awaited by one of the runner's tasks while the store's owner thread
//! runs it ([`StoreHandle`]), never by `update`, `view` or the event loop. A failing
//! store is logged and otherwise ignored: the server stays the truth, the cache only
//! saves waiting.

use crate::model::types::{ConversationResponse, InboxResponse, Message, WsEvent};
use crate::store::{Store, StoreError, StoreHandle};

/// The account's store, as the runner's tasks reach it (its one owner is a thread).
pub type Shared = StoreHandle;

/// Newest cached messages shown when a conversation opens.
pub const CONVERSATION_CACHE: usize = 200;

/// Run `f` on the store, logging a failure as `what`.
pub async fn with<T: Send + 'static>(
    store: &Shared,
    what: &str,
    f: impl FnOnce(&mut Store) -> Result<T, StoreError> + Send + 'static,
) -> Option<T> {
    match store.call(f).await {
        Ok(v) => Some(v),
        // No store this run: said once, at login.
        Err(StoreError::Gone) => None,
        Err(e) => {
            tracing::warn!(error = %e, what, "local store");
            None
        }
    }
}

/// The cached inbox as the server's page 1 would look.
pub async fn cached_inbox(store: &Shared) -> Option<InboxResponse> {
    let cached = with(store, "load inbox", |s| s.load_inbox()).await?;
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
pub async fn cached_conversation(store: &Shared, user: &str) -> Vec<Message> {
    let user = user.to_owned();
    with(store, "load conversation", move |s| s.load_conversation(&user, CONVERSATION_CACHE))
        .await
        .unwrap_or_default()
}

/// Keep a fetched inbox page (only complete-list fetches: an unread-only page would
/// look like the whole inbox to the store).
pub async fn save_inbox(store: &Shared, page: &InboxResponse, unread_only: bool) {
    if !unread_only {
        let page = page.clone();
        with(store, "save inbox", move |s| s.store_inbox_page(&page, None)).await;
    }
}

/// Keep a fetched conversation (everything up to its newest id is now known; the fetch
/// marked it read on the server).
pub async fn save_conversation(store: &Shared, user: &str, resp: &ConversationResponse) {
    let (user, resp) = (user.to_owned(), resp.clone());
    with(store, "save conversation", move |s| {
        s.store_conversation(&user, &resp, None)?;
        s.mark_conversation_read(&user)
    })
    .await;
}

/// Keep messages from anywhere else (catch-up, our own sends), without claiming the
/// conversation is complete up to them.
pub async fn save_messages(store: &Shared, messages: &[Message]) {
    if !messages.is_empty() {
        let messages = messages.to_vec();
        with(store, "save messages", move |s| s.merge_messages(&messages)).await;
    }
}

/// Hide from `messages` those the user deleted (tombstones in the store), so a
/// server that keeps listing them never brings them back on screen. A store that
/// cannot tell hides nothing.
pub async fn hide_deleted(store: &Shared, messages: &mut Vec<Message>) {
    let mut kept = messages.clone();
    let filtered = with(store, "hide deleted", move |s| {
        s.drop_deleted(&mut kept)?;
        Ok(kept)
    });
    if let Some(kept) = filtered.await {
        *messages = kept;
    }
}

/// Apply a pushed event (new message, read, deleted).
pub async fn save_event(store: &Shared, event: &WsEvent) {
    let event = event.clone();
    with(store, "save event", move |s| s.apply_event(&event)).await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::fixture;

    #[tokio::test]
    async fn what_is_saved_comes_back() {
        let dir = tempfile::tempdir().unwrap();
        let opened = Store::open_account(dir.path(), "http://fake:1/", "alex").unwrap();
        let store: Shared = StoreHandle::new(opened.store);
        save_inbox(&store, &fixture::inbox(), true).await;
        assert!(
            cached_inbox(&store).await.unwrap().conversations.is_empty(),
            "unread-only pages are not kept"
        );
        save_inbox(&store, &fixture::inbox(), false).await;
        let back = cached_inbox(&store).await.unwrap();
        let names: Vec<&str> = back.conversations.iter().map(|c| c.with_user.as_str()).collect();
        assert_eq!(names, ["dr_morgan", "sam", "mei", "jo"]);
        save_conversation(&store, "dr_morgan", &fixture::conversation()).await;
        let msgs = cached_conversation(&store, "dr_morgan").await;
        assert_eq!(msgs.iter().map(|m| m.id).collect::<Vec<_>>(), [10, 11, 12, 13, 14]);
        save_event(&store, &WsEvent::MessageDeleted { message_id: 12 }).await;
        assert_eq!(cached_conversation(&store, "dr_morgan").await.len(), 4);
    }
}
