//! Effects: the I/O `update` asks for, as plain data. The runner turns each into a
//! task and reports the outcome back as an [`Action`](crate::app::action::Action).

use std::fmt;

/// A secret typed by the user (password, PIN); never printed by `Debug`.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(pub String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.0);
    }
}

/// Something for the runner to do (or, for the terminal's own effects: clipboard,
/// editor, bell, title, for the terminal handler beside the event loop).
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Log in and, when `remember` is set, keep the session on disk.
    Login {
        /// Server URL.
        server: String,
        /// Account.
        username: String,
        /// Password.
        password: Secret,
        /// PIN.
        pin: Secret,
        /// Ask for a 30-day session and persist it.
        remember: bool,
    },
    /// Log out and forget the session.
    Logout,
    /// Show what the account's local store knew (inbox, outbox) before any network
    /// answer; comes back as `CacheLoaded` (and `OutboxLoaded`).
    LoadCache,
    /// Show the cached messages of the conversation with `user` while it is fetched;
    /// comes back as `ConversationCached`.
    LoadConversation {
        /// The other participant.
        user: String,
    },
    /// Fetch one page of the inbox.
    FetchInbox {
        /// 1-based page.
        page: u32,
        /// Only conversations with unread messages.
        unread_only: bool,
    },
    /// Fetch the conversation with `user` (only messages after `after_id` when given).
    FetchConversation {
        /// The other participant.
        user: String,
        /// Newest id already held.
        after_id: Option<i64>,
    },
    /// Send a message.
    Send {
        /// Client-generated id (also the `Idempotency-Key`).
        client_id: String,
        /// Recipient.
        recipient: String,
        /// Text.
        content: String,
        /// Subject, for the first message of a conversation.
        subject: Option<String>,
    },
    /// Send a refused message again with new text (it keeps its place in the order).
    Resend {
        /// The message's client id.
        client_id: String,
        /// Recipient.
        recipient: String,
        /// The new text.
        content: String,
    },
    /// Drop a refused message from the outbox (the user confirmed).
    Discard {
        /// The message's client id.
        client_id: String,
    },
    /// Search cached messages (one conversation, or all plus the server's search);
    /// comes back as `SearchResults`.
    Search {
        /// The text.
        query: String,
        /// Only the conversation with this user.
        scope: Option<String>,
    },
    /// Delete a message for me.
    Delete {
        /// Message id.
        id: i64,
    },
    /// Mark a message read.
    MarkRead {
        /// Message id.
        id: i64,
    },
    /// Mark what `user` sent us read once messages stop arriving for a moment: one fetch
    /// of the conversation after `up_to` (fetching marks it read; the answer holds only
    /// what is newer, usually nothing) instead of a request per pushed message. A later
    /// one for the same user replaces one still waiting.
    MarkReadWhenSettled {
        /// The other participant.
        user: String,
        /// Newest message id already held.
        up_to: i64,
    },
    /// Fetch the pet.
    FetchPet,
    /// Keep the compose draft for `user` (empty text deletes it).
    SaveDraft {
        /// Whose conversation.
        user: String,
        /// The draft.
        text: String,
    },
    /// Hand the terminal to `$EDITOR` with `text`; the result comes back as `EditorDone`.
    OpenEditor {
        /// Whose conversation.
        user: String,
        /// The current draft.
        text: String,
    },
    /// Reconnect the live link or poll now.
    Reconnect,
    /// Leave the client.
    Quit,
    /// Put this (sanitized) text on the terminal's clipboard with OSC 52.
    Copy {
        /// The text, already sanitized.
        text: String,
    },
    /// Fetch the pet shop's items.
    FetchShop,
    /// Buy a shop item for the pet (food items feed it).
    BuyPetItem {
        /// The shop item id (`apple`, `tophat`, …).
        item: String,
    },
    /// Create a pet.
    CreatePet {
        /// Its name.
        name: String,
        /// One of `KNOWN_SPECIES`.
        species: String,
    },
    /// Open the account's local store (logged in): its drafts come back as
    /// `DraftsLoaded` (and a note as `Info` when it had to be recovered or cannot be
    /// used); the cache and outbox use it from now on, and the live link starts.
    OpenAccount {
        /// Server URL.
        server: String,
        /// Account.
        username: String,
    },
    /// The notice numbered `seq` goes after its lifetime unless replaced first; comes
    /// back as `NoticeExpired(seq)`.
    NoticeTimer {
        /// The notice's number (`State::notice_seq`).
        seq: u64,
    },
    /// Someone pressed a key: polling returns to its brisk cadence.
    UserActive,
    /// The conversation now on screen (with the newest message id held), so the live
    /// link refreshes that one; `None`: none.
    ShowingConversation(Option<(String, i64)>),
    /// A message arrived that was not held yet: ring the bell or notify, as configured
    /// (never its text unless configured).
    Announce {
        /// This account's username.
        me: String,
        /// The message.
        message: crate::model::types::Message,
        /// Its conversation is the one on screen.
        on_screen: bool,
    },
    /// The number of unread messages changed (the terminal title may show it).
    UnreadChanged {
        /// Unread messages now.
        total: u32,
    },
}
