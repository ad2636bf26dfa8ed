//! Test fixtures: a logged-in state with a few conversations, a fixed clock and zone.

use chrono::{DateTime, FixedOffset, TimeZone, Utc};

use crate::app::action::{Action, Connection};
use crate::app::keymap::{Key, Keymap};
use crate::app::state::{Look, State};
use crate::app::update;
use crate::model::time::Timestamp;
use crate::model::types::{ConversationResponse, ConversationSummary, InboxResponse, Message, Pet, ShopItem};

/// Thursday 5 Feb 2026, 16:30 UTC.
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 2, 5, 16, 30, 0).unwrap()
}

/// A time `mins` minutes before [`now`].
pub fn ago(mins: i64) -> Option<Timestamp> {
    Some(Timestamp(now() - chrono::Duration::minutes(mins)))
}

/// A message.
pub fn msg(id: i64, from: &str, to: &str, text: &str, mins_ago: i64) -> Message {
    Message {
        id,
        sender: from.into(),
        recipient: to.into(),
        content: text.into(),
        sent_at: ago(mins_ago),
        ..Default::default()
    }
}

/// A fresh logged-out state of the given size.
pub fn fresh(w: u16, h: u16, look: Look) -> State {
    let mut s = State::new(now(), FixedOffset::east_opt(0).unwrap(), look, Keymap::default());
    s.size = (w, h);
    s
}

/// The inbox the fixtures use.
pub fn inbox() -> InboxResponse {
    let conv = |with: &str, last: &str, mins: i64, unread: u32| ConversationSummary {
        with_user: with.into(),
        last_message: last.into(),
        last_message_time: ago(mins),
        unread_count: unread,
        ..Default::default()
    };
    InboxResponse {
        conversations: vec![
            conv("dr_morgan", "Remember to log your mood tonight, and try the breathing exercise 🙂", 28, 2),
            conv("sam", "Are we still on for the walk?", 60 * 26, 0),
            conv("mei", "今日はとても良い一日でした。ありがとう！", 60 * 24 * 3, 1),
            conv("jo", "see you", 60 * 24 * 40, 0),
        ],
        total_unread: 3,
        page: 1,
        page_size: 50,
        total_conversations: 4,
    }
}

/// A clinician's (dr_morgan's) inbox as head sends it, with `last_sender`: mei has
/// waited 2 days, alex 3 hours, jo 25 minutes; sam was answered; kit's summary does not
/// say who wrote last.
pub fn caseload() -> InboxResponse {
    let conv = |with: &str, sender: Option<&str>, last: &str, mins: i64, unread: u32| ConversationSummary {
        with_user: with.into(),
        last_message: last.into(),
        last_message_time: ago(mins),
        unread_count: unread,
        last_sender: sender.map(Into::into),
        ..Default::default()
    };
    InboxResponse {
        conversations: vec![
            conv("sam", Some("dr_morgan"), "See you on Thursday, Sam.", 10, 0),
            conv("jo", Some("jo"), "Is it normal to feel worse before better?", 25, 1),
            conv("alex", Some("alex"), "I couldn't sleep again last night", 60 * 3, 2),
            conv("kit", None, "ok", 60 * 5, 0),
            conv("mei", Some("mei"), "Thank you. Can we move Friday's session?", 60 * 48, 0),
        ],
        total_unread: 3,
        page: 1,
        page_size: 50,
        total_conversations: 5,
    }
}

/// dr_morgan logged in as a clinician, with the [`caseload`] inbox.
pub fn clinician(w: u16, h: u16, look: Look) -> State {
    let mut s = fresh(w, h, look);
    run(
        &mut s,
        [
            Action::LoginSucceeded { username: "dr_morgan".into(), server: "http://127.0.0.1:8700".into() },
            Action::RoleKnown("clinician".into()),
            Action::InboxLoaded(caseload()),
            Action::PetLoaded(None),
            Action::ConnectionChanged(Connection::Live),
        ],
    );
    s
}

/// The conversation with dr_morgan.
pub fn conversation() -> ConversationResponse {
    let mut first = msg(10, "dr_morgan", "alex", "Hi Alex, how has this week been?", 60 * 25);
    first.subject = Some("Weekly check-in".into());
    let mut reply = msg(
        11,
        "alex",
        "dr_morgan",
        "Better than last week. Sleeping a bit more, walking most days.",
        60 * 24,
    );
    reply.is_read = true;
    reply.read_at = ago(60 * 23);
    let mut mine = msg(14, "alex", "dr_morgan", "Will do. Thanks!", 20);
    mine.is_read = false;
    ConversationResponse {
        messages: vec![
            first,
            reply,
            msg(12, "dr_morgan", "alex", "That's real progress. Keep the walks going.", 60),
            msg(
                13,
                "dr_morgan",
                "alex",
                "Remember to log your mood tonight, and try the breathing exercise 🙂",
                28,
            ),
            mine,
        ],
        participant_count: 2,
        with_user: "dr_morgan".into(),
    }
}

/// Biscuit.
pub fn pet() -> Pet {
    Pet {
        name: "Biscuit".into(),
        species: "Dog".into(),
        gender: "Male".into(),
        hunger: 70,
        happiness: 72,
        energy: 55,
        hygiene: 90,
        coins: 50,
        xp: 120,
        stage: "Baby".into(),
        hat: "None".into(),
        ..Default::default()
    }
}

/// The contract's shop (apple, cupcake, top hat, bow, crown).
pub fn shop() -> Vec<ShopItem> {
    let item = |id: &str, name: &str, cost: i64, description: &str| ShopItem {
        id: id.into(),
        name: name.into(),
        cost,
        description: description.into(),
        ..Default::default()
    };
    vec![
        item("apple", "🍎 Apple", 10, "+20 Hunger"),
        item("cupcake", "🧁 Cupcake", 25, "+40 Hunger, +10 Happiness"),
        item("tophat", "🎩 Top Hat", 100, "Cosmetic"),
        item("bow", "🎀 Bow", 50, "Cosmetic"),
        item("crown", "👑 Crown", 500, "Cosmetic"),
    ]
}

/// Run actions, collecting effects.
pub fn run(state: &mut State, actions: impl IntoIterator<Item = Action>) -> Vec<crate::app::Effect> {
    actions.into_iter().flat_map(|a| update(state, a)).collect()
}

/// Press keys given as config strings ("j", "ctrl-e", "enter").
pub fn keys(state: &mut State, keys: &[&str]) -> Vec<crate::app::Effect> {
    run(state, keys.iter().map(|k| Action::Key(Key::parse(k).unwrap())))
}

/// Type text into whatever has the keys.
pub fn type_text(state: &mut State, text: &str) -> Vec<crate::app::Effect> {
    run(state, text.chars().map(|c| Action::Key(Key::ch(c))))
}

/// A logged-in state with the inbox, pet and the dr_morgan conversation open.
pub fn main_screen(w: u16, h: u16, look: Look) -> State {
    let mut s = fresh(w, h, look);
    run(
        &mut s,
        [
            Action::LoginSucceeded { username: "alex".into(), server: "http://127.0.0.1:8700".into() },
            Action::InboxLoaded(inbox()),
            Action::PetLoaded(Some(pet())),
            Action::ConnectionChanged(Connection::Live),
        ],
    );
    keys(&mut s, &["enter"]);
    run(&mut s, [Action::ConversationLoaded(conversation())]);
    s
}
