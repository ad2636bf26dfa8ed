//! Wire types of the Healing Space API (see `shared/docs/healing-space-api.md`).
//!
//! Reading is tolerant: unknown fields are ignored, missing optional fields default,
//! numbers sent as strings are accepted, and every timestamp form is parsed by
//! [`crate::model::time`]. These are the only types the client and the reference
//! server share: the server writes them, the client reads them.

use serde::{Deserialize, Serialize};

use super::lenient;
use super::time::{self, Timestamp};

/// `POST /api/auth/login` body. The password and PIN are never logged: `Debug` hides them.
#[derive(Clone, Serialize, Deserialize, Default)]
pub struct LoginRequest {
    /// Account name.
    #[serde(default, deserialize_with = "lenient::string_or_empty")]
    pub username: String,
    /// Password in clear (TLS protects it on the wire).
    #[serde(default, deserialize_with = "lenient::string_or_empty")]
    pub password: String,
    /// Second factor PIN.
    #[serde(default, deserialize_with = "lenient::string_or_empty")]
    pub pin: String,
    /// Ask for a 30-day session instead of 7.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remember_me: Option<bool>,
}

impl std::fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginRequest")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("pin", &"<redacted>")
            .field("remember_me", &self.remember_me)
            .finish()
    }
}

impl zeroize::Zeroize for LoginRequest {
    /// Wipe the password and PIN (the username is not secret).
    fn zeroize(&mut self) {
        self.password.zeroize();
        self.pin.zeroize();
    }
}

impl Drop for LoginRequest {
    // Every copy (the CLI's, the TUI runner's, the demo's, the server's) is wiped when it goes.
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(self);
    }
}

/// `POST /api/auth/login` success body.
#[derive(Clone, Serialize, Deserialize, Default, PartialEq)]
pub struct LoginResponse {
    /// Always true on 200.
    #[serde(default, deserialize_with = "lenient::bool_or_false")]
    pub success: bool,
    /// "Login successful".
    #[serde(default, deserialize_with = "lenient::string_or_empty")]
    pub message: String,
    /// The account name as the server spells it.
    #[serde(default, deserialize_with = "lenient::string_or_empty")]
    pub username: String,
    /// `user` (patient), `clinician`, or another role.
    #[serde(default, deserialize_with = "lenient::string_or_empty")]
    pub role: String,
    /// `pending` or `approved`.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub approval_status: Option<String>,
    /// The patient's clinician, if any.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub clinician_id: Option<String>,
    /// Display name of the patient's clinician.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub clinician_name: Option<String>,
    /// Whether the web disclaimer was accepted.
    #[serde(default, deserialize_with = "lenient::bool_or_false")]
    pub disclaimer_accepted: bool,
    /// A CSRF token; production rejects it, so the client fetches `/api/csrf-token`.
    #[serde(default, deserialize_with = "lenient::string_or_empty")]
    pub csrf_token: String,
}

impl std::fmt::Debug for LoginResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginResponse")
            .field("username", &self.username)
            .field("role", &self.role)
            .field("approval_status", &self.approval_status)
            .field("csrf_token", &"<redacted>")
            .finish_non_exhaustive()
    }
}

/// `GET /api/csrf-token` body.
#[derive(Clone, Serialize, Deserialize, Default)]
pub struct CsrfTokenResponse {
    /// 64 hex characters on production.
    #[serde(default, deserialize_with = "lenient::string_or_empty")]
    pub csrf_token: String,
}

/// `GET /api/auth/status` body (head only; 404 on feb5).
#[derive(Clone, Debug, Serialize, Deserialize, Default, PartialEq)]
pub struct AuthStatus {
    /// Whether the session cookie is valid.
    #[serde(default, deserialize_with = "lenient::bool_or_false")]
    pub authenticated: bool,
    /// Account name, when authenticated.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub username: Option<String>,
    /// Role, when authenticated.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub role: Option<String>,
    /// Whether a session exists at all.
    #[serde(default, deserialize_with = "lenient::bool_or_false")]
    pub session_exists: bool,
    /// Server debug flag.
    #[serde(default, deserialize_with = "lenient::bool_or_false")]
    pub debug_mode: bool,
}

/// `POST /api/auth/logout` and other `{"success","message"}` bodies.
#[derive(Clone, Debug, Serialize, Deserialize, Default, PartialEq)]
pub struct SuccessResponse {
    /// True when the action happened.
    #[serde(default, deserialize_with = "lenient::bool_or_false")]
    pub success: bool,
    /// Human text.
    #[serde(default, deserialize_with = "lenient::string_or_empty")]
    pub message: String,
}

/// `POST /api/messages/send` body.
#[derive(Clone, Debug, Serialize, Deserialize, Default, PartialEq)]
pub struct SendRequest {
    /// Recipient's username.
    #[serde(default, deserialize_with = "lenient::string_or_empty")]
    pub recipient: String,
    /// Message text.
    #[serde(default, deserialize_with = "lenient::string_or_empty")]
    pub content: String,
    /// Optional subject line.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient::opt_string")]
    pub subject: Option<String>,
}

/// `POST /api/messages/send` success body (201).
#[derive(Clone, Debug, Serialize, Deserialize, Default, PartialEq)]
pub struct SendResponse {
    /// The new message's id.
    #[serde(default, deserialize_with = "lenient::i64_or_zero")]
    pub message_id: i64,
    /// "sent".
    #[serde(default, deserialize_with = "lenient::string_or_empty")]
    pub status: String,
    /// Recipient's username.
    #[serde(default, deserialize_with = "lenient::string_or_empty")]
    pub recipient: String,
    /// head adds the conversation id.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient::opt_i64")]
    pub conversation_id: Option<i64>,
}

/// One row of `GET /api/messages/inbox`.
#[derive(Clone, Debug, Serialize, Deserialize, Default, PartialEq)]
pub struct ConversationSummary {
    /// The other participant.
    #[serde(default, deserialize_with = "lenient::string_or_empty")]
    pub with_user: String,
    /// Preview of the newest message (≤ 100 chars).
    #[serde(default, deserialize_with = "lenient::string_or_empty")]
    pub last_message: String,
    /// When the newest message was sent.
    #[serde(default, deserialize_with = "time::lenient")]
    pub last_message_time: Option<Timestamp>,
    /// Messages from `with_user` not yet read.
    #[serde(default, deserialize_with = "lenient::u32_or_zero")]
    pub unread_count: u32,
    /// head: conversation id.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient::opt_i64")]
    pub conversation_id: Option<i64>,
    /// head: who sent the newest message.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient::opt_string")]
    pub last_sender: Option<String>,
    /// head: subject of the conversation.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient::opt_string")]
    pub subject: Option<String>,
}

/// `GET /api/messages/inbox` body.
#[derive(Clone, Debug, Serialize, Deserialize, Default, PartialEq)]
pub struct InboxResponse {
    /// Conversations, newest first.
    #[serde(default, deserialize_with = "lenient::vec_skip_bad")]
    pub conversations: Vec<ConversationSummary>,
    /// Unread messages over all conversations.
    #[serde(default, deserialize_with = "lenient::u32_or_zero")]
    pub total_unread: u32,
    /// Page number (1-based).
    #[serde(default, deserialize_with = "lenient::u32_or_zero")]
    pub page: u32,
    /// Page size actually used.
    #[serde(default, deserialize_with = "lenient::u32_or_zero")]
    pub page_size: u32,
    /// All conversations, over all pages.
    #[serde(default, deserialize_with = "lenient::u32_or_zero")]
    pub total_conversations: u32,
}

impl InboxResponse {
    /// This is the whole list: the first page, holding every conversation the server
    /// counts (or fewer than a page). Only trusted when the server said so: a missing
    /// total (read as 0) does not make a page complete.
    pub fn is_complete_list(&self) -> bool {
        let len = self.conversations.len() as u64;
        self.page <= 1
            && ((self.total_conversations > 0 && len >= u64::from(self.total_conversations))
                || (self.page_size > 0 && len < u64::from(self.page_size)))
    }
}

/// One message as `conversation`, `search` and the websocket carry it.
#[derive(Clone, Debug, Serialize, Deserialize, Default, PartialEq)]
pub struct Message {
    /// Server id; strictly increasing, so it orders messages within a second.
    #[serde(default, deserialize_with = "lenient::i64_or_zero")]
    pub id: i64,
    /// Sender's username.
    #[serde(default, deserialize_with = "lenient::string_or_empty")]
    pub sender: String,
    /// Recipient's username.
    #[serde(default, deserialize_with = "lenient::string_or_empty")]
    pub recipient: String,
    /// Text.
    #[serde(default, deserialize_with = "lenient::string_or_empty")]
    pub content: String,
    /// Subject, when one was given.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub subject: Option<String>,
    /// Whether the recipient has read it.
    #[serde(default, deserialize_with = "lenient::bool_or_false")]
    pub is_read: bool,
    /// When it was read.
    #[serde(default, deserialize_with = "time::lenient")]
    pub read_at: Option<Timestamp>,
    /// When it was sent.
    #[serde(default, deserialize_with = "time::lenient")]
    pub sent_at: Option<Timestamp>,
}

/// `GET /api/messages/conversation/<user>` body.
#[derive(Clone, Debug, Serialize, Deserialize, Default, PartialEq)]
pub struct ConversationResponse {
    /// Messages, oldest first.
    #[serde(default, deserialize_with = "lenient::vec_skip_bad")]
    pub messages: Vec<Message>,
    /// Always 2 for direct messages.
    #[serde(default, deserialize_with = "lenient::u32_or_zero")]
    pub participant_count: u32,
    /// The other participant.
    #[serde(default, deserialize_with = "lenient::string_or_empty")]
    pub with_user: String,
}

/// `PATCH /api/messages/<id>/read` body.
#[derive(Clone, Debug, Serialize, Deserialize, Default, PartialEq)]
pub struct MarkReadResponse {
    /// The message marked.
    #[serde(default, deserialize_with = "lenient::i64_or_zero")]
    pub message_id: i64,
    /// Always true.
    #[serde(default, deserialize_with = "lenient::bool_or_false")]
    pub is_read: bool,
    /// When it was (first) read.
    #[serde(default, deserialize_with = "time::lenient")]
    pub read_at: Option<Timestamp>,
}

/// `GET /api/messages/sent` body.
#[derive(Clone, Debug, Serialize, Deserialize, Default, PartialEq)]
pub struct SentResponse {
    /// True on success.
    #[serde(default, deserialize_with = "lenient::bool_or_false")]
    pub success: bool,
    /// Sent messages, newest first (head drops `sender` and `read_at`).
    #[serde(default, deserialize_with = "lenient::vec_skip_bad")]
    pub messages: Vec<Message>,
    /// head: number of messages.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient::opt_i64")]
    pub count: Option<i64>,
}

/// `GET /api/messages/search?q=` body.
#[derive(Clone, Debug, Serialize, Deserialize, Default, PartialEq)]
pub struct SearchResponse {
    /// The query as the server understood it.
    #[serde(default, deserialize_with = "lenient::string_or_empty")]
    pub query: String,
    /// Matching messages.
    #[serde(default, deserialize_with = "lenient::vec_skip_bad")]
    pub results: Vec<Message>,
    /// Number of results.
    #[serde(default, deserialize_with = "lenient::i64_or_zero")]
    pub count: i64,
}

/// `GET /api/messages/unread-count` body.
#[derive(Clone, Debug, Serialize, Deserialize, Default, PartialEq)]
pub struct UnreadCountResponse {
    /// Unread messages for the session's user.
    #[serde(default, deserialize_with = "lenient::u32_or_zero")]
    pub unread_count: u32,
}

/// `GET /api/poll` body (head).
#[derive(Clone, Debug, Serialize, Deserialize, Default, PartialEq)]
pub struct PollResponse {
    /// False instead of a 401.
    #[serde(default, deserialize_with = "lenient::bool_or_false")]
    pub authenticated: bool,
    /// Unread notifications.
    #[serde(default, deserialize_with = "lenient::u32_or_zero")]
    pub notifications: u32,
    /// Unread messages.
    #[serde(default, deserialize_with = "lenient::u32_or_zero")]
    pub messages: u32,
}

/// The pet, as `GET /api/pet/status` sends it. Stats are 0–100.
#[derive(Clone, Debug, Serialize, Deserialize, Default, PartialEq)]
pub struct Pet {
    /// The pet's name.
    #[serde(default, deserialize_with = "lenient::string_or_empty")]
    pub name: String,
    /// Dog, Cat, …
    #[serde(default, deserialize_with = "lenient::string_or_empty")]
    pub species: String,
    /// Male, Female, Neutral.
    #[serde(default, deserialize_with = "lenient::string_or_empty")]
    pub gender: String,
    /// 100 = full.
    #[serde(default, deserialize_with = "lenient::i64_or_zero")]
    pub hunger: i64,
    /// 0–100.
    #[serde(default, deserialize_with = "lenient::i64_or_zero")]
    pub happiness: i64,
    /// 0–100.
    #[serde(default, deserialize_with = "lenient::i64_or_zero")]
    pub energy: i64,
    /// 0–100.
    #[serde(default, deserialize_with = "lenient::i64_or_zero")]
    pub hygiene: i64,
    /// Coins to spend in the shop.
    #[serde(default, deserialize_with = "lenient::i64_or_zero")]
    pub coins: i64,
    /// Experience; Child at 500, Adult at 1500.
    #[serde(default, deserialize_with = "lenient::i64_or_zero")]
    pub xp: i64,
    /// Baby, Child or Adult.
    #[serde(default, deserialize_with = "lenient::string_or_empty")]
    pub stage: String,
    /// Unix seconds; 0 when not on an adventure.
    #[serde(default, deserialize_with = "lenient::f64_or_zero")]
    pub adventure_end: f64,
    /// Unix seconds of the last decay step.
    #[serde(default, deserialize_with = "lenient::f64_or_zero")]
    pub last_updated: f64,
    /// "None" or an emoji: 🎩 🎀 👑.
    #[serde(default, deserialize_with = "lenient::string_or_empty")]
    pub hat: String,
}

/// `GET /api/pet/status` body: always 200, errors inside (`exists:false`).
#[derive(Clone, Debug, Serialize, Deserialize, Default, PartialEq)]
pub struct PetStatusResponse {
    /// Whether there is a pet.
    #[serde(default, deserialize_with = "lenient::bool_or_false")]
    pub exists: bool,
    /// The pet, when it exists.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient::opt_object")]
    pub pet: Option<Pet>,
    /// Why there is none ("No pet found for user", "User not found", …).
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient::opt_string")]
    pub error: Option<String>,
}

/// `POST /api/pet/create` body.
#[derive(Clone, Debug, Serialize, Deserialize, Default, PartialEq)]
pub struct PetCreateRequest {
    /// Owner (production trusts it; the reference server checks it against the session).
    #[serde(default, deserialize_with = "lenient::string_or_empty")]
    pub username: String,
    /// Pet name.
    #[serde(default, deserialize_with = "lenient::string_or_empty")]
    pub name: String,
    /// Species, default Dog.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient::opt_string")]
    pub species: Option<String>,
    /// Gender, default Neutral.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient::opt_string")]
    pub gender: Option<String>,
}

/// `POST /api/pet/feed` body.
#[derive(Clone, Debug, Serialize, Deserialize, Default, PartialEq)]
pub struct PetFeedRequest {
    /// Owner.
    #[serde(default, deserialize_with = "lenient::string_or_empty")]
    pub username: String,
    /// Coins to spend, default 10.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient::opt_i64")]
    pub cost: Option<i64>,
}

/// `POST /api/pet/feed` success body.
#[derive(Clone, Debug, Serialize, Deserialize, Default, PartialEq)]
pub struct PetFeedResponse {
    /// True on success.
    #[serde(default, deserialize_with = "lenient::bool_or_false")]
    pub success: bool,
    /// Hunger after feeding (max 100).
    #[serde(default, deserialize_with = "lenient::i64_or_zero")]
    pub new_hunger: i64,
    /// Coins left.
    #[serde(default, deserialize_with = "lenient::i64_or_zero")]
    pub coins: i64,
}

/// One item of `GET /api/pet/shop`. Shapes differ per effect, so every effect field is optional.
#[derive(Clone, Debug, Serialize, Deserialize, Default, PartialEq)]
pub struct ShopItem {
    /// apple, cupcake, tophat, bow, crown.
    #[serde(default, deserialize_with = "lenient::string_or_empty")]
    pub id: String,
    /// Display name, with an emoji.
    #[serde(default, deserialize_with = "lenient::string_or_empty")]
    pub name: String,
    /// "+20 Hunger", "Cosmetic".
    #[serde(default, deserialize_with = "lenient::string_or_empty")]
    pub description: String,
    /// Price in coins.
    #[serde(default, deserialize_with = "lenient::i64_or_zero")]
    pub cost: i64,
    /// hunger, multi, hat, …
    #[serde(default, deserialize_with = "lenient::string_or_empty")]
    pub effect: String,
    /// Amount (number) or hat emoji (string), depending on `effect`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<serde_json::Value>,
    /// `multi` items: hunger added.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient::opt_i64")]
    pub hunger: Option<i64>,
    /// `multi` items: happiness added.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient::opt_i64")]
    pub happiness: Option<i64>,
}

/// `GET /api/pet/shop` body.
#[derive(Clone, Debug, Serialize, Deserialize, Default, PartialEq)]
pub struct ShopResponse {
    /// Items for sale.
    #[serde(default, deserialize_with = "lenient::vec_skip_bad")]
    pub items: Vec<ShopItem>,
}

/// `POST /api/pet/buy` body.
#[derive(Clone, Debug, Serialize, Deserialize, Default, PartialEq)]
pub struct PetBuyRequest {
    /// Owner.
    #[serde(default, deserialize_with = "lenient::string_or_empty")]
    pub username: String,
    /// The shop item's `id` (e.g. `"apple"`). Production reads exactly this field
    /// name and answers 400 `Invalid item` to any other.
    #[serde(default, deserialize_with = "lenient::string_or_empty")]
    pub item_id: String,
}

/// `POST /api/pet/buy` success body, as the contract gives it; every field is
/// optional for the client.
#[derive(Clone, Debug, Serialize, Deserialize, Default, PartialEq)]
pub struct PetBuyResponse {
    /// True on success.
    #[serde(default, deserialize_with = "lenient::bool_or_false")]
    pub success: bool,
    /// Coins left.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient::opt_i64")]
    pub new_coins: Option<i64>,
    /// Hunger after the purchase.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient::opt_i64")]
    pub new_hunger: Option<i64>,
    /// Happiness after the purchase.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient::opt_i64")]
    pub new_happiness: Option<i64>,
    /// The hat worn after the purchase (`"None"` or an emoji).
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient::opt_string")]
    pub new_hat: Option<String>,
}

/// Species the reference server accepts (production's own list is not recorded; the
/// client draws a generic pet for any other).
pub const KNOWN_SPECIES: &[&str] = &["Dog", "Cat", "Bunny", "Dragon"];

/// Pet stages and the XP at which each begins (contract: Child at 500, Adult at 1500).
pub const STAGES: &[(&str, i64)] = &[("Baby", 0), ("Child", 500), ("Adult", 1500)];

/// `POST /api/pet/reward` body.
#[derive(Clone, Debug, Serialize, Deserialize, Default, PartialEq)]
pub struct PetRewardRequest {
    /// What the user did (e.g. "journal", "mood_log").
    #[serde(default, deserialize_with = "lenient::string_or_empty")]
    pub action: String,
}

/// `POST /api/pet/reward` success body.
#[derive(Clone, Debug, Serialize, Deserialize, Default, PartialEq)]
pub struct PetRewardResponse {
    /// True on success.
    #[serde(default, deserialize_with = "lenient::bool_or_false")]
    pub success: bool,
    /// Coins given.
    #[serde(default, deserialize_with = "lenient::i64_or_zero")]
    pub coins_earned: i64,
    /// XP given.
    #[serde(default, deserialize_with = "lenient::i64_or_zero")]
    pub xp_earned: i64,
    /// Coins after.
    #[serde(default, deserialize_with = "lenient::i64_or_zero")]
    pub new_coins: i64,
    /// XP after.
    #[serde(default, deserialize_with = "lenient::i64_or_zero")]
    pub new_xp: i64,
    /// Stage after.
    #[serde(default, deserialize_with = "lenient::string_or_empty")]
    pub new_stage: String,
    /// Whether the stage changed.
    #[serde(default, deserialize_with = "lenient::bool_or_false")]
    pub evolved: bool,
}

/// The JSON error body production sends: `{"error", "code"?, "error_id"?, "retry_after"?}`.
#[derive(Clone, Debug, Serialize, Deserialize, Default, PartialEq)]
pub struct ErrorBody {
    /// Human text.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub error: Option<String>,
    /// Machine code: CSRF_FAILED, RATE_LIMITED, SESSION_EXPIRED, INTERNAL_ERROR.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient::opt_string")]
    pub code: Option<String>,
    /// 500s: an id the user can quote to support.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient::opt_string")]
    pub error_id: Option<String>,
    /// 429 on login: seconds to wait.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient::opt_i64")]
    pub retry_after: Option<i64>,
}

/// A websocket event from the reference server's `/api/messages/ws` (our extension).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "type")]
pub enum WsEvent {
    /// A message was sent to or by the user.
    #[serde(rename = "message.new")]
    MessageNew {
        /// The message, in the conversation shape.
        message: Message,
    },
    /// A message was read by its recipient.
    #[serde(rename = "message.read")]
    MessageRead {
        /// Which message.
        #[serde(deserialize_with = "lenient::i64_or_zero")]
        message_id: i64,
        /// When.
        #[serde(default, deserialize_with = "time::lenient")]
        read_at: Option<Timestamp>,
    },
    /// A message was deleted (for this user, or for both).
    #[serde(rename = "message.deleted")]
    MessageDeleted {
        /// Which message.
        #[serde(deserialize_with = "lenient::i64_or_zero")]
        message_id: i64,
    },
}

impl WsEvent {
    /// Parse one text frame; `None` for unknown event types or malformed JSON (ignored,
    /// since the websocket is only a hint and REST catch-up is the truth).
    pub fn parse(text: &str) -> Option<WsEvent> {
        serde_json::from_str(text).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn head_inbox_with_date_as_participant_count() {
        let body = r#"{"conversations":[{"conversation_id":1,"last_message":"hi","last_message_time":"2026-11-28T19:41:22.509122","last_sender":"alice_p","participant_count":"Sat, 28 Nov 2026 19:41:22 GMT","subject":"Hello","type":"direct","unread_count":1,"with_user":"bob_p"}],"page":1,"page_size":20,"total_conversations":2,"total_unread":2}"#;
        let inbox: InboxResponse = serde_json::from_str(body).unwrap();
        assert_eq!(inbox.conversations[0].with_user, "bob_p");
        assert!(inbox.conversations[0].last_message_time.is_some());
        assert_eq!(inbox.total_unread, 2);
    }

    #[test]
    fn ws_events() {
        let e = WsEvent::parse(
            r#"{"type":"message.read","message_id":"7","read_at":"2026-11-28T19:39:09.658039Z"}"#,
        );
        assert!(matches!(e, Some(WsEvent::MessageRead { message_id: 7, read_at: Some(_) })));
        assert!(WsEvent::parse(r#"{"type":"typing"}"#).is_none());
        assert!(WsEvent::parse("not json").is_none());
        let e = WsEvent::parse(
            r#"{"type":"message.new","message":{"id":3,"sender":"a","recipient":"b","content":"x","sent_at":"Sat, 28 Nov 2026 19:26:24 GMT"}}"#,
        );
        assert!(matches!(e, Some(WsEvent::MessageNew { .. })));
    }

    #[test]
    fn secrets_not_in_debug() {
        let r = LoginRequest {
            username: "u".into(),
            password: "hunter2".into(),
            pin: "9876".into(),
            remember_me: None,
        };
        let d = format!("{r:?}");
        assert!(!d.contains("hunter2") && !d.contains("9876"));
    }

    mod fuzz {
        use super::super::*;
        use proptest::prelude::*;

        /// Arbitrary JSON, biased towards the field names the wire types use, so the
        /// lenient paths (wrong types, nulls, numbers as strings) are really exercised.
        fn json() -> impl Strategy<Value = serde_json::Value> {
            let names = prop::sample::select(vec![
                "id",
                "sender",
                "recipient",
                "content",
                "subject",
                "is_read",
                "read_at",
                "sent_at",
                "messages",
                "conversations",
                "with_user",
                "last_message",
                "last_message_time",
                "unread_count",
                "total_unread",
                "page",
                "exists",
                "pet",
                "hunger",
                "coins",
                "xp",
                "items",
                "cost",
                "value",
                "type",
                "message",
                "message_id",
                "error",
                "retry_after",
                "csrf_token",
                "username",
                "role",
                "hat",
                "last_updated",
            ]);
            let leaf = prop_oneof![
                Just(serde_json::Value::Null),
                any::<bool>().prop_map(serde_json::Value::Bool),
                any::<i64>().prop_map(|n| serde_json::json!(n)),
                any::<f64>().prop_map(|f| serde_json::json!(f)),
                "\\PC{0,12}".prop_map(serde_json::Value::String),
                prop::sample::select(vec![
                    "message.new",
                    "message.read",
                    "message.deleted",
                    "12",
                    "1.5",
                    "Sat, 28 Nov 2026 19:26:24 GMT",
                    "2026-11-28T19:35:56.802116",
                    "true",
                ])
                .prop_map(|s| serde_json::Value::String(s.into())),
            ];
            leaf.prop_recursive(4, 48, 6, move |inner| {
                prop_oneof![
                    prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::Array),
                    prop::collection::btree_map(names.clone(), inner, 0..6).prop_map(|m| {
                        serde_json::Value::Object(m.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
                    }),
                ]
            })
        }

        fn parse_all(bytes: &[u8]) {
            let _ = serde_json::from_slice::<InboxResponse>(bytes);
            let _ = serde_json::from_slice::<ConversationResponse>(bytes);
            let _ = serde_json::from_slice::<SentResponse>(bytes);
            let _ = serde_json::from_slice::<SearchResponse>(bytes);
            let _ = serde_json::from_slice::<PetStatusResponse>(bytes);
            let _ = serde_json::from_slice::<ShopResponse>(bytes);
            let _ = serde_json::from_slice::<LoginResponse>(bytes);
            let _ = serde_json::from_slice::<SendResponse>(bytes);
            let _ = serde_json::from_slice::<ErrorBody>(bytes);
            let _ = serde_json::from_slice::<PetRewardResponse>(bytes);
            let _ = serde_json::from_slice::<PetBuyResponse>(bytes);
            let _ = serde_json::from_slice::<MarkReadResponse>(bytes);
            let _ = WsEvent::parse(&String::from_utf8_lossy(bytes));
        }

        proptest! {
            #[test]
            fn parsers_never_panic_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
                parse_all(&bytes);
            }

            #[test]
            fn parsers_never_panic_on_odd_json(value in json()) {
                let bytes = serde_json::to_vec(&value).unwrap_or_default();
                parse_all(&bytes);
                // Objects always parse into the lenient types: wrong field types default.
                if value.is_object() {
                    prop_assert!(serde_json::from_slice::<InboxResponse>(&bytes).is_ok());
                    prop_assert!(serde_json::from_slice::<ConversationResponse>(&bytes).is_ok());
                    prop_assert!(serde_json::from_slice::<PetStatusResponse>(&bytes).is_ok());
                    prop_assert!(serde_json::from_slice::<ShopResponse>(&bytes).is_ok());
                    prop_assert!(serde_json::from_slice::<Message>(&bytes).is_ok());
                    prop_assert!(serde_json::from_slice::<ConversationSummary>(&bytes).is_ok());
                    prop_assert!(serde_json::from_slice::<Pet>(&bytes).is_ok());
                }
            }
        }
    }
}
