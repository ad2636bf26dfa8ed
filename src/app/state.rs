//! Everything the interactive client knows, in one plain struct that `update` changes
//! and `view` reads. Text from outside is sanitized before it is stored here.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, FixedOffset, Utc};

use crate::app::action::Connection;
use crate::app::keymap::Keymap;
use crate::model::types::{Message, Pet, ShopItem};
use crate::model::waiting::{self, SortMode, WaitHint};

/// The server's limit for one message, in characters.
pub const MESSAGE_LIMIT: usize = 10_000;

/// Messages the server returns per conversation fetch at most (the oldest ones).
pub const CONVERSATION_PAGE: usize = 200;

/// Which screen is up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Screen {
    /// The login form.
    #[default]
    Login,
    /// Inbox, conversation, compose, pet.
    Main,
}

/// The focusable panes of the main screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Pane {
    /// The conversation list.
    #[default]
    Inbox,
    /// The open conversation.
    Conversation,
    /// The compose box (typing).
    Compose,
    /// The pet.
    Pet,
}

/// Fields of the login form, in Tab order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LoginField {
    /// Server URL.
    Server,
    /// Username.
    #[default]
    Username,
    /// Password (masked).
    Password,
    /// PIN (masked).
    Pin,
    /// Remember me (checkbox).
    Remember,
}

impl LoginField {
    /// The next field (wrapping).
    pub fn next(self) -> LoginField {
        match self {
            LoginField::Server => LoginField::Username,
            LoginField::Username => LoginField::Password,
            LoginField::Password => LoginField::Pin,
            LoginField::Pin => LoginField::Remember,
            LoginField::Remember => LoginField::Server,
        }
    }

    /// The previous field (wrapping).
    pub fn prev(self) -> LoginField {
        match self {
            LoginField::Server => LoginField::Remember,
            LoginField::Username => LoginField::Server,
            LoginField::Password => LoginField::Username,
            LoginField::Pin => LoginField::Password,
            LoginField::Remember => LoginField::Pin,
        }
    }
}

/// The login form. `Debug` masks the password and PIN.
#[derive(Clone, Default, PartialEq)]
pub struct LoginForm {
    /// Server URL.
    pub server: String,
    /// Username.
    pub username: String,
    /// Password (shown masked).
    pub password: String,
    /// PIN (shown masked).
    pub pin: String,
    /// Ask for a long session and keep it on disk.
    pub remember: bool,
    /// Focused field.
    pub focus: LoginField,
    /// The server's complaint, shown in place.
    pub error: Option<String>,
    /// A login request is in flight.
    pub busy: bool,
}

impl Drop for LoginForm {
    // A half-typed password or PIN is wiped when the form goes (quit, or login done).
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.password);
        zeroize::Zeroize::zeroize(&mut self.pin);
    }
}

impl std::fmt::Debug for LoginForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginForm")
            .field("server", &self.server)
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("pin", &"<redacted>")
            .field("remember", &self.remember)
            .field("focus", &self.focus)
            .field("error", &self.error)
            .field("busy", &self.busy)
            .finish()
    }
}

/// One conversation in the inbox (sanitized).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct InboxEntry {
    /// The other participant.
    pub with_user: String,
    /// The newest message, one line.
    pub preview: String,
    /// When the newest message was sent.
    pub last_time: Option<DateTime<Utc>>,
    /// Unread messages from `with_user`.
    pub unread: u32,
    /// Subject, when the server sends one.
    pub subject: Option<String>,
    /// Who sent the newest message, when known (head's inbox, or a message seen here).
    pub last_sender: Option<String>,
    /// Since when the other person has been waiting for an answer (`None`: not waiting).
    pub waiting_since: Option<DateTime<Utc>>,
}

/// The inbox pane.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Inbox {
    /// Conversations, newest first.
    pub entries: Vec<InboxEntry>,
    /// Selected row among the visible (filtered) entries.
    pub selected: usize,
    /// Show only conversations with unread messages.
    pub unread_only: bool,
    /// Name filter typed after `/`.
    pub filter: String,
    /// Unread over all conversations (from the server).
    pub total_unread: u32,
    /// Pages loaded so far.
    pub pages_loaded: u32,
    /// All conversations the server has.
    pub total_conversations: u32,
    /// A fetch is in flight.
    pub loading: bool,
    /// The order of the rows.
    pub sort: SortMode,
    /// The user chose the order (`inbox.sort` in config.toml, or the key): the role's
    /// default no longer applies.
    pub sort_chosen: bool,
    /// What the cache and the messages seen here say about who wrote last, per
    /// conversation (decides "waiting" where the inbox has no `last_sender`).
    pub hints: BTreeMap<String, WaitHint>,
}

impl Inbox {
    /// An empty inbox (another account, or logged out) that keeps the chosen order.
    pub fn cleared(&self) -> Inbox {
        Inbox { sort: self.sort, sort_chosen: self.sort_chosen, ..Default::default() }
    }

    /// How many conversations are waiting for an answer.
    pub fn waiting_count(&self) -> usize {
        self.entries.iter().filter(|e| e.waiting_since.is_some()).count()
    }

    /// Work out who is waiting (for `me`) and order the rows by [`Inbox::sort`],
    /// keeping the selected conversation selected.
    pub fn resort(&mut self, me: &str) {
        let selected = self.selected_entry().map(|e| e.with_user.clone());
        self.order_rows(me);
        self.select_user(selected.as_deref());
    }

    /// Select the row of `user` when it is visible.
    pub fn select_user(&mut self, user: Option<&str>) {
        let found = user.and_then(|user| self.visible().position(|e| e.with_user == user));
        if let Some(i) = found {
            self.selected = i;
        }
    }

    /// Work out who is waiting and order the rows, leaving the selection index alone
    /// (for callers that re-select themselves).
    pub fn order_rows(&mut self, me: &str) {
        for e in &mut self.entries {
            let summary = waiting::Summary {
                last_sender: e.last_sender.as_deref(),
                last_time: e.last_time,
                unread: e.unread,
            };
            e.waiting_since = waiting::waiting_since(me, summary, self.hints.get(&e.with_user));
        }
        waiting::sort_rows(&mut self.entries, self.sort, |e| (e.waiting_since, e.last_time));
    }

    /// The entries the pane shows, after the unread and name filters.
    pub fn visible(&self) -> impl Iterator<Item = &InboxEntry> {
        let needle = self.filter.to_lowercase();
        self.entries.iter().filter(move |e| {
            (!self.unread_only || e.unread > 0)
                && (needle.is_empty() || e.with_user.to_lowercase().contains(&needle))
        })
    }

    /// The selected entry, if any.
    pub fn selected_entry(&self) -> Option<&InboxEntry> {
        self.visible().nth(self.selected)
    }
}

/// Where a message on its way is (the outbox's states, as the screen shows them).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum SendMark {
    /// Saved, waiting for its turn or for the link (⏳).
    #[default]
    Queued,
    /// An attempt is under way (↑).
    Sending,
    /// The server has it under this id; shown until its copy arrives (✓).
    Sent(i64),
    /// Refused for good, with the server's reason (sanitized) (✗).
    Failed(String),
    /// Not through yet; tried again by itself at `at`: the server failed it (✗, e.g.
    /// `server error 500 (id …)`) or asked to wait (429, `limited`, ⏳).
    Retrying {
        /// Why (sanitized).
        reason: String,
        /// When the next attempt is.
        at: DateTime<Utc>,
        /// A rate limit, not a failure.
        limited: bool,
    },
}

impl SendMark {
    /// The status mark: ⏳ ↑ ✓ ✗, or the ASCII fallbacks `..` `^` `ok` `x`.
    pub fn mark(&self, ascii: bool) -> &'static str {
        // A rate-limited retry is waiting, not failing: it wears the queued mark.
        match (self, ascii) {
            (SendMark::Queued | SendMark::Retrying { limited: true, .. }, false) => "⏳",
            (SendMark::Sending, false) => "↑",
            (SendMark::Sent(_), false) => "✓",
            (SendMark::Failed(_) | SendMark::Retrying { limited: false, .. }, false) => "✗",
            (SendMark::Queued | SendMark::Retrying { limited: true, .. }, true) => "..",
            (SendMark::Sending, true) => "^",
            (SendMark::Sent(_), true) => "ok",
            (SendMark::Failed(_) | SendMark::Retrying { limited: false, .. }, true) => "x",
        }
    }

    /// The mark with a word or two, for the line above the message.
    pub fn label(&self, ascii: bool) -> String {
        let mark = self.mark(ascii);
        match self {
            SendMark::Queued => format!("{mark} queued"),
            SendMark::Sending => format!("{mark} sending"),
            SendMark::Sent(_) => format!("{mark} sent"),
            SendMark::Failed(reason) => format!("{mark} not sent (e edit, D discard): {reason}"),
            SendMark::Retrying { reason, at, .. } => {
                format!(
                    "{mark} {reason} · retry {} (R now, D discard)",
                    at.with_timezone(&chrono::Local).format("%H:%M")
                )
            }
        }
    }
}

/// A message being sent, shown as a local echo until the server answers.
#[derive(Debug, Clone, PartialEq)]
pub struct Pending {
    /// Client id (a UUID; also the idempotency key and the outbox key).
    pub client_id: String,
    /// Recipient.
    pub recipient: String,
    /// Text.
    pub content: String,
    /// Subject, when given.
    pub subject: Option<String>,
    /// Where it is.
    pub mark: SendMark,
}

/// The open conversation.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Conversation {
    /// The other participant (sanitized).
    pub with_user: String,
    /// Messages sorted by id, sanitized, no duplicates.
    pub messages: Vec<Message>,
    /// Index of the selected message.
    pub selected: usize,
    /// Whether the selection is on screen: only once the user moved it. New messages never
    /// switch it on, so a message arriving while following repaints no gutter.
    pub show_selection: bool,
    /// Index of the message drawn at the bottom of the pane.
    pub bottom: usize,
    /// Stick to the newest message as new ones arrive.
    pub follow: bool,
    /// While following in the panes layout: the id of the message drawn at the top of the
    /// pane, which fills downward from it (see `update::conv::pin_top`); `None` draws the
    /// newest message at the bottom.
    pub pinned_top: Option<i64>,
    /// Messages that arrived below the view while scrolled up.
    pub unseen: usize,
    /// A fetch is in flight.
    pub loading: bool,
    /// Why the last fetch failed (sanitized), until one succeeds or `r` retries.
    pub load_error: Option<String>,
    /// Subject for the first message of a new conversation.
    pub subject: Option<String>,
}

impl Conversation {
    /// An empty conversation with `user`, following new messages.
    pub fn new(user: &str) -> Conversation {
        Conversation { with_user: user.to_owned(), follow: true, loading: true, ..Default::default() }
    }

    /// Newest message id held.
    pub fn last_id(&self) -> Option<i64> {
        self.messages.last().map(|m| m.id)
    }
}

/// A compose draft with its cursor (a byte offset on a char boundary).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Draft {
    /// The text.
    pub text: String,
    /// Cursor byte offset.
    pub cursor: usize,
}

/// What a confirmation would do.
#[derive(Debug, Clone, PartialEq)]
pub enum Confirm {
    /// Delete the message with this id.
    Delete(i64),
    /// Discard the refused outbox message with this client id.
    Discard(String),
}

/// Fields of the new-conversation dialog.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NewField {
    /// Recipient.
    #[default]
    Recipient,
    /// Optional subject.
    Subject,
}

/// The search box and its results (`/` in a conversation, `:search TEXT` everywhere).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Search {
    /// What is searched for.
    pub query: String,
    /// Only this conversation; `None`: all cached messages (plus the server's results).
    pub scope: Option<String>,
    /// Matches, newest first, sanitized, one per id.
    pub results: Vec<Message>,
    /// Selected result.
    pub selected: usize,
    /// The query is being typed (Enter searches).
    pub typing: bool,
    /// A search has run for `query`.
    pub searched: bool,
}

/// The quick-reply picker: typing filters, Enter inserts the selected snippet at the
/// compose cursor (never sends).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SnippetPicker {
    /// What has been typed to filter by.
    pub filter: String,
    /// Selected row among the matches.
    pub selected: usize,
}

/// Something drawn over the panes, taking the keys while it is up.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Overlay {
    /// Nothing.
    #[default]
    None,
    /// Key help, scrolled this many rows down (it may be taller than the screen).
    Help {
        /// First row shown.
        top: usize,
    },
    /// A y/n question.
    Confirm(Confirm),
    /// The `:` command line, with what has been typed.
    Command(String),
    /// Typing the inbox name filter.
    Filter,
    /// Search and its results.
    Search(Box<Search>),
    /// The quick-reply picker (over the compose box).
    Snippets(SnippetPicker),
    /// The new-conversation dialog.
    NewConversation {
        /// Recipient typed so far.
        recipient: String,
        /// Subject typed so far.
        subject: String,
        /// Focused field.
        field: NewField,
    },
}

/// How long a notice stays when no key is pressed (a key clears it at once).
pub const NOTICE_LIFETIME: std::time::Duration = std::time::Duration::from_secs(15);

/// How serious a notice is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeKind {
    /// For information.
    Info,
    /// Something failed.
    Error,
}

/// A one-line message for the user.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    /// The text (sanitized).
    pub text: String,
    /// Info or error.
    pub kind: NoticeKind,
}

/// The pet as far as we know.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum PetState {
    /// Not fetched yet.
    #[default]
    Unknown,
    /// The user has no pet.
    None,
    /// The pet (name sanitized).
    Some(Box<Pet>),
}

/// A pet dialog over the panes; it takes the keys while it is up.
#[derive(Debug, Clone, PartialEq)]
pub enum PetDialog {
    /// The shop list (`f`), with the selected row.
    Shop {
        /// Selected item index.
        selected: usize,
    },
    /// The create-a-pet form (`n`).
    Create {
        /// Name typed so far.
        name: String,
        /// Index into `KNOWN_SPECIES`.
        species: usize,
    },
}

/// Colour depth of the theme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ThemeKind {
    /// 256 colours.
    #[default]
    C256,
    /// 16 colours.
    C16,
    /// No colour: bold and reverse only.
    Mono,
}

/// Which arrangement of panes to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LayoutPref {
    /// Compact below 100 columns, panes from there.
    #[default]
    Auto,
    /// Inbox, conversation and pet side by side.
    Panes,
    /// The conversation full width, an activity line, the inbox on a key; cheapest to
    /// redraw over a slow link (full-width rows can be scrolled by the terminal).
    Compact,
}

/// How the screen looks (from flags and environment).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Look {
    /// Arrangement of panes.
    pub layout: LayoutPref,
    /// Colours.
    pub theme: ThemeKind,
    /// ASCII borders and symbols.
    pub ascii: bool,
    /// Don't redraw just for the clock.
    pub quiet_clock: bool,
}

/// The whole client state.
#[derive(Debug, Clone, PartialEq)]
pub struct State {
    /// Login or main screen.
    pub screen: Screen,
    /// The login form.
    pub login: LoginForm,
    /// Logged-in user (sanitized).
    pub me: Option<String>,
    /// Server URL shown in the status bar.
    pub server: String,
    /// The inbox.
    pub inbox: Inbox,
    /// The open conversation.
    pub conv: Option<Conversation>,
    /// Compose drafts per conversation partner.
    pub drafts: BTreeMap<String, Draft>,
    /// Messages on their way.
    pub pending: Vec<Pending>,
    /// Focused pane.
    pub focus: Pane,
    /// Overlay, if any.
    pub overlay: Overlay,
    /// The one-line notice.
    pub notice: Option<Notice>,
    /// Counts notices set, so an expiry meant for an older one leaves a newer one be.
    pub notice_seq: u64,
    /// The live link.
    pub connection: Connection,
    /// When the last successful sync with the server finished.
    pub last_sync: Option<DateTime<Utc>>,
    /// The pet.
    pub pet: PetState,
    /// Pet pane forced on/off with `p`; `None`: shown when the terminal is wide enough.
    pub pet_pane: Option<bool>,
    /// Terminal size (columns, rows).
    pub size: (u16, u16),
    /// The clock, an input so screens are deterministic.
    pub now: DateTime<Utc>,
    /// Local time zone offset for showing times.
    pub tz: FixedOffset,
    /// Looks.
    pub look: Look,
    /// The key table.
    pub keymap: Keymap,
    /// Users seen (for completing recipients).
    pub known_users: BTreeSet<String>,
    /// The user asked to leave.
    pub quit: bool,
    /// Client ids handed out so far (part of each new id).
    pub next_client_id: u64,
    /// Random per run (set by the runtime; 0 in tests): new client ids are this plus
    /// [`State::next_client_id`], so `update` stays pure and ids stay unique.
    pub client_id_base: u128,
    /// The refused message (client id) whose text is being edited in the compose box:
    /// sending it resends that message in its place.
    pub editing: Option<String>,
    /// The pet shop or create form, when up.
    pub pet_dialog: Option<PetDialog>,
    /// The shop's items, fetched once per login (`None`: not yet).
    pub shop: Option<Vec<ShopItem>>,
    /// The pet's drawn animation frame (0: still; see `ui::pet::PetLook`).
    pub pet_frame: u8,
    /// Animation ticks seen, to blink now and then rather than every tick.
    pub pet_ticks: u8,
    /// When the timed pet refreshes of the last day went out (the route's budget).
    pub pet_refreshes: Vec<DateTime<Utc>>,
    /// Quick replies by name (`[snippets]` in config.toml).
    pub snippets: BTreeMap<String, String>,
    /// `y` copies with OSC 52 (`clipboard = "osc52"`, the default); off: it only says so.
    pub clipboard: bool,
}

impl State {
    /// Whether the status bar shows the last sync time: only while the link is degraded
    /// (offline or rate-limited), and never with `--quiet-clock`: a healthy idle client
    /// draws nothing when a poll succeeds.
    pub fn shows_sync_time(&self) -> bool {
        !self.look.quiet_clock
            && matches!(self.connection, Connection::Offline { .. } | Connection::RateLimited { .. })
    }

    /// The line above a message on its way: its mark and, for a queued one held behind
    /// an earlier unsent message to the same person, what it waits for and how to
    /// release it (issue 14: a queue that waits must say so).
    pub fn pending_label(&self, p: &Pending) -> String {
        if p.mark != SendMark::Queued {
            return p.mark.label(self.look.ascii);
        }
        let mark = p.mark.mark(self.look.ascii);
        let holder = self
            .pending
            .iter()
            .take_while(|q| q.client_id != p.client_id)
            .filter(|q| q.recipient == p.recipient)
            .find(|q| matches!(q.mark, SendMark::Failed(_) | SendMark::Retrying { .. }));
        match holder.map(|q| &q.mark) {
            Some(SendMark::Failed(_)) => {
                format!("{mark} waits for the refused one above (e edit, D discard)")
            }
            Some(SendMark::Retrying { at, .. }) => format!(
                "{mark} waits for the one above (its retry {}, R now)",
                at.with_timezone(&chrono::Local).format("%H:%M")
            ),
            _ => p.mark.label(self.look.ascii),
        }
    }

    /// A fresh state on the login screen.
    pub fn new(now: DateTime<Utc>, tz: FixedOffset, look: Look, keymap: Keymap) -> State {
        State {
            screen: Screen::Login,
            login: LoginForm::default(),
            me: None,
            server: String::new(),
            inbox: Inbox::default(),
            conv: None,
            drafts: BTreeMap::new(),
            pending: Vec::new(),
            focus: Pane::Inbox,
            overlay: Overlay::None,
            notice: None,
            notice_seq: 0,
            connection: Connection::Unknown,
            last_sync: None,
            pet: PetState::Unknown,
            pet_pane: None,
            size: (80, 24),
            now,
            tz,
            look,
            keymap,
            known_users: BTreeSet::new(),
            quit: false,
            next_client_id: 0,
            client_id_base: 0,
            editing: None,
            pet_dialog: None,
            shop: None,
            pet_frame: 0,
            pet_ticks: 0,
            pet_refreshes: Vec::new(),
            snippets: BTreeMap::new(),
            clipboard: true,
        }
    }

    /// The draft for the open conversation.
    pub fn current_draft(&self) -> Option<&Draft> {
        self.conv.as_ref().and_then(|c| self.drafts.get(&c.with_user))
    }

    /// Snippets whose name or text contains `filter` (any case), names first, each
    /// group in name order.
    pub fn snippet_matches(&self, filter: &str) -> Vec<(&str, &str)> {
        let needle = filter.to_lowercase();
        let (mut by_name, mut by_text) = (Vec::new(), Vec::new());
        for (name, text) in &self.snippets {
            if name.to_lowercase().contains(&needle) {
                by_name.push((name.as_str(), text.as_str()));
            } else if text.to_lowercase().contains(&needle) {
                by_text.push((name.as_str(), text.as_str()));
            }
        }
        by_name.extend(by_text);
        by_name
    }

    /// Set a notice.
    pub fn notify(&mut self, kind: NoticeKind, text: impl AsRef<str>) {
        self.notice = Some(Notice { text: crate::model::sanitize::sanitize_line(text.as_ref()), kind });
        self.notice_seq += 1;
    }
}
