//! Everything that can happen to the interactive client, as one enum: the user
//! commands a key can be bound to (deserializable from `config.toml` names such as
//! `"open_editor"`), raw keys, and the results effects report back.

use serde::Deserialize;

use crate::app::keymap::Key;
use crate::model::types::{ConversationResponse, InboxResponse, Message, Pet, SendResponse, ShopItem};

/// How the live link is doing, as the status bar shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Connection {
    /// Not yet known (starting up, or logged out).
    #[default]
    Unknown,
    /// Connecting or catching up.
    Connecting,
    /// Websocket push is up.
    Live,
    /// Polling every `every_secs` seconds.
    Polling {
        /// The current poll interval.
        every_secs: u32,
    },
    /// Cannot reach the server; next attempt in `retry_secs`.
    Offline {
        /// Seconds until the next attempt.
        retry_secs: u32,
    },
    /// The server asked us to wait (429) until this time.
    RateLimited {
        /// When the next check is due.
        until: chrono::DateTime<chrono::Utc>,
    },
}

/// One thing that happens. User commands come first (these are the names the keymap
/// uses); the variants marked `serde(skip)` are internal and cannot be bound to keys.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Leave the client.
    Quit,
    /// Show or hide the key help.
    Help,
    /// Focus the next pane.
    NextPane,
    /// Focus the previous pane.
    PrevPane,
    /// Move the selection up one.
    Up,
    /// Move the selection down one.
    Down,
    /// Scroll up a page.
    PageUp,
    /// Scroll down a page.
    PageDown,
    /// Jump to the top (oldest).
    Top,
    /// Jump to the bottom (newest).
    Bottom,
    /// Open the selected conversation, or start composing in an open one.
    Open,
    /// Focus the compose box.
    Compose,
    /// Send the compose box.
    Send,
    /// Insert a newline in the compose box.
    Newline,
    /// Edit the compose box in `$EDITOR`.
    OpenEditor,
    /// Pick a quick reply (`[snippets]` in config.toml) to insert at the cursor.
    Snippet,
    /// Close the overlay, leave compose (keeping the draft) or clear the filter.
    Cancel,
    /// Delete the selected message (asks first).
    Delete,
    /// Fetch the inbox and the open conversation again.
    Refresh,
    /// Show only conversations with unread messages, or all.
    ToggleUnread,
    /// Order the inbox by who has waited longest, or by the newest message.
    ToggleSort,
    /// Filter conversations by name as you type.
    Filter,
    /// Start a new conversation.
    NewConversation,
    /// Open the `:` command line.
    CommandLine,
    /// Show or hide the pet pane.
    TogglePet,
    /// Reconnect or poll now.
    Reconnect,
    /// Put a refused message's text back into the compose box to resend it.
    EditFailed,
    /// Discard a refused message (asks first).
    DiscardFailed,
    /// Copy the selected message (or search result) to the clipboard of the terminal
    /// the user sits at (OSC 52: works over SSH and tmux).
    Copy,
    /// Answer "yes" to a confirmation.
    Confirm,
    /// Answer "no" to a confirmation.
    Deny,

    /// A key press, mapped through the keymap (or typed into a text field) by `update`.
    #[serde(skip)]
    Key(Key),
    /// Text pasted or returned from `$EDITOR` for the compose box of `user`.
    #[serde(skip)]
    EditorDone {
        /// Whose conversation the text belongs to.
        user: String,
        /// The edited text (replaces the draft); `None` when the editor failed.
        text: Option<String>,
    },
    /// Text pasted into the terminal (bracketed paste): typed into the focused field as
    /// one piece, so a pasted newline never sends a half message.
    #[serde(skip)]
    Paste(String),
    /// The terminal changed size.
    #[serde(skip)]
    Resize(u16, u16),
    /// The clock moved on (once a minute at most; only when the clock is visible).
    #[serde(skip)]
    Tick(chrono::DateTime<chrono::Utc>),
    /// Login worked; the runner now holds a client for `username` at `server`.
    #[serde(skip)]
    LoginSucceeded {
        /// Who is logged in.
        username: String,
        /// The server URL.
        server: String,
    },
    /// Login failed, with the reason for people.
    #[serde(skip)]
    LoginFailed(String),
    /// The server says the session is gone.
    #[serde(skip)]
    SessionExpired,
    /// A page of the inbox arrived.
    #[serde(skip)]
    InboxLoaded(InboxResponse),
    /// The inbox as the local store last knew it (shown until the server answers).
    #[serde(skip)]
    CacheLoaded(InboxResponse),
    /// Cached messages of the conversation with `user` (shown until the fetch answers).
    #[serde(skip)]
    ConversationCached {
        /// The other participant.
        user: String,
        /// Its newest cached messages, oldest first.
        messages: Vec<Message>,
    },
    /// Messages of the conversation with a user arrived (full or `after_id`).
    #[serde(skip)]
    ConversationLoaded(ConversationResponse),
    /// The server accepted a message.
    #[serde(skip)]
    SendSucceeded {
        /// The client id the send carried.
        client_id: String,
        /// The server's answer.
        response: SendResponse,
        /// When the answer came (the message's time until the server's own copy
        /// arrives; not the last clock tick, which is up to a minute old).
        at: chrono::DateTime<chrono::Utc>,
    },
    /// The server refused a message; the text goes back into the box.
    #[serde(skip)]
    SendRefused {
        /// The client id the send carried.
        client_id: String,
        /// The reason, for people.
        reason: String,
    },
    /// A message on its way moved along (queued again, or an attempt started).
    #[serde(skip)]
    SendProgress {
        /// The message's client id.
        client_id: String,
        /// Where it is now.
        mark: crate::app::state::SendMark,
    },
    /// The outbox as the local store holds it (at start): the echoes to show.
    #[serde(skip)]
    OutboxLoaded(Vec<crate::app::state::Pending>),
    /// Search results for `query` (cached first, then merged with the server's).
    #[serde(skip)]
    SearchResults {
        /// The query they answer.
        query: String,
        /// Matches, newest first.
        messages: Vec<Message>,
    },
    /// A message was deleted (for me).
    #[serde(skip)]
    Deleted(i64),
    /// Messages arrived by push (websocket) or poll.
    #[serde(skip)]
    MessagesArrived(Vec<Message>),
    /// A message was read by its recipient.
    #[serde(skip)]
    MessageRead {
        /// Which message.
        id: i64,
        /// When.
        at: Option<chrono::DateTime<chrono::Utc>>,
    },
    /// The pet arrived (`None`: no pet yet).
    #[serde(skip)]
    PetLoaded(Option<Pet>),
    /// The live link changed state.
    #[serde(skip)]
    ConnectionChanged(Connection),
    /// A request failed in a way worth a one-line notice.
    #[serde(skip)]
    Failed(String),
    /// A fetch could not reach the server (the connection state says so).
    #[serde(skip)]
    Unreachable,
    /// The user was logged out.
    #[serde(skip)]
    LoggedOut,
    /// A message was deleted elsewhere (pushed): removed quietly.
    #[serde(skip)]
    MessageDeleted(i64),
    /// A sync with the server completed at this time.
    #[serde(skip)]
    Synced(chrono::DateTime<chrono::Utc>),
    /// Drafts saved on disk for this account (after login): (conversation, text).
    #[serde(skip)]
    DraftsLoaded(Vec<(String, String)>),
    /// Something worth one notice that is not an error (a recovered store).
    #[serde(skip)]
    Info(String),
    /// The inbox had not changed (304).
    #[serde(skip)]
    InboxUnchanged,
    /// The conversation with this user had not changed (304).
    #[serde(skip)]
    ConversationUnchanged(String),
    /// A conversation could not be fetched: the pane says so, why, and how to retry.
    #[serde(skip)]
    ConversationFailed {
        /// The other participant.
        user: String,
        /// Why, in the client's words (status, server text, error id).
        reason: String,
    },
    /// A notice's time is up: the run loop's timer fired
    /// [`crate::app::state::NOTICE_LIFETIME`] after the notice with this number was
    /// set. Clears it if it is still that one.
    #[serde(skip)]
    NoticeExpired(u64),
    /// Time to check for news (from the poller, or `R`).
    #[serde(skip)]
    PollDue,

    /// Open the pet shop (feed, buy a hat).
    Feed,
    /// Create a pet, when there is none yet.
    NewPet,
    /// The shop's items arrived (fetched once, then kept).
    #[serde(skip)]
    ShopLoaded(Vec<ShopItem>),
    /// A purchase went through, with words to show ("bought apple · 40 coins left").
    #[serde(skip)]
    PetBought(String),
    /// The new pet was created.
    #[serde(skip)]
    PetCreated,
    /// A pet request was refused or failed ("Not enough coins"), for people.
    #[serde(skip)]
    PetActionFailed(String),
    /// The logged-in user's role as the server names it (`user`, `clinician`): sets
    /// the inbox order unless the user chose one.
    #[serde(skip)]
    RoleKnown(String),
    /// What the cache says about who wrote last in each conversation (see
    /// `crate::model::waiting`), read once after login.
    #[serde(skip)]
    WaitHintsLoaded(Vec<(String, crate::model::waiting::WaitHint)>),
    /// Time to refresh the pet (every 60 s, at this time; the server applies decay).
    #[serde(skip)]
    PetRefreshDue(chrono::DateTime<chrono::Utc>),
    /// The pet's idle animation may move on (only with `pet.animate = true`).
    #[serde(skip)]
    PetBlink,
}

impl Action {
    /// The config name of a user command (`"open_editor"`), `None` for internal events.
    pub fn name(&self) -> Option<&'static str> {
        Some(match self {
            Action::Quit => "quit",
            Action::Help => "help",
            Action::NextPane => "next_pane",
            Action::PrevPane => "prev_pane",
            Action::Up => "up",
            Action::Down => "down",
            Action::PageUp => "page_up",
            Action::PageDown => "page_down",
            Action::Top => "top",
            Action::Bottom => "bottom",
            Action::Open => "open",
            Action::Compose => "compose",
            Action::Send => "send",
            Action::Newline => "newline",
            Action::OpenEditor => "open_editor",
            Action::Snippet => "snippet",
            Action::Cancel => "cancel",
            Action::Delete => "delete",
            Action::Refresh => "refresh",
            Action::ToggleUnread => "toggle_unread",
            Action::ToggleSort => "toggle_sort",
            Action::Filter => "filter",
            Action::NewConversation => "new_conversation",
            Action::CommandLine => "command_line",
            Action::TogglePet => "toggle_pet",
            Action::Reconnect => "reconnect",
            Action::EditFailed => "edit_failed",
            Action::DiscardFailed => "discard_failed",
            Action::Copy => "copy",
            Action::Confirm => "confirm",
            Action::Deny => "deny",
            Action::Feed => "feed",
            Action::NewPet => "new_pet",
            _ => return None,
        })
    }

    /// Parse a config name such as `"open_editor"` into a user command.
    pub fn from_name(name: &str) -> Option<Action> {
        let value = serde_json::Value::String(name.trim().to_owned());
        serde_json::from_value(value).ok()
    }

    /// A few words for the help overlay.
    pub fn describe(&self) -> &'static str {
        match self {
            Action::Quit => "quit",
            Action::Help => "this help",
            Action::NextPane => "next pane",
            Action::PrevPane => "previous pane",
            Action::Up => "up",
            Action::Down => "down",
            Action::PageUp => "page up",
            Action::PageDown => "page down",
            Action::Top => "oldest / top",
            Action::Bottom => "newest / bottom",
            Action::Open => "open / compose",
            Action::Compose => "compose",
            Action::Send => "send",
            Action::Newline => "new line",
            Action::OpenEditor => "edit in $EDITOR",
            Action::Snippet => "quick reply",
            Action::Cancel => "back (keeps draft)",
            Action::Delete => "delete message",
            Action::Refresh => "refresh",
            Action::ToggleUnread => "unread only",
            Action::ToggleSort => "waiting / recent",
            Action::Filter => "filter / search",
            Action::NewConversation => "new conversation",
            Action::CommandLine => "command line",
            Action::TogglePet => "pet pane",
            Action::Reconnect => "reconnect now",
            Action::EditFailed => "edit refused",
            Action::DiscardFailed => "discard refused",
            Action::Copy => "copy message",
            Action::Confirm => "yes",
            Action::Deny => "no",
            Action::Feed => "feed / pet shop",
            Action::NewPet => "create a pet",
            _ => "",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for a in [
            Action::OpenEditor,
            Action::Quit,
            Action::ToggleUnread,
            Action::NewConversation,
            Action::Feed,
            Action::NewPet,
            Action::Copy,
        ] {
            let name = a.name().unwrap();
            assert_eq!(Action::from_name(name), Some(a));
        }
        assert_eq!(Action::from_name("resize"), None);
        assert_eq!(Action::from_name("nonsense"), None);
    }
}
