//! What the world around the screen hears of an action besides the I/O `update` asks
//! for: a key wakes the poller, a login opens the account's store, news rings the bell
//! and changes the title, a new notice starts its timer, the conversation on screen is
//! told to the live link. Decided here from the state alone, so the event loop has no
//! special cases: it applies [`step`] and hands every effect on.

use crate::app::action::Action;
use crate::app::effect::Effect;
use crate::app::state::{Screen, State};
use crate::model::types::Message;

use super::update;

/// What is compared before and after an action.
struct Before {
    notice_seq: u64,
    unread: u32,
    open: Option<String>,
}

/// Apply one action as the event loop does: `update`, plus the effects around it.
pub fn step(state: &mut State, action: Action) -> Vec<Effect> {
    let mut fx = Vec::new();
    let login = match &action {
        Action::Key(_) => {
            fx.push(Effect::UserActive);
            false
        }
        // First: the cache shows before the first fetch, and the link's first catch-up
        // must reach the store too.
        Action::LoginSucceeded { username, server } => {
            fx.push(Effect::OpenAccount { server: server.clone(), username: username.clone() });
            true
        }
        Action::MessagesArrived(msgs) => {
            fx.extend(announcements(state, msgs));
            false
        }
        _ => false,
    };
    let before = Before {
        notice_seq: state.notice_seq,
        unread: state.inbox.total_unread,
        open: state.conv.as_ref().map(|c| c.with_user.clone()),
    };
    fx.extend(update(state, action));
    fx.extend(after(state, &before, login));
    fx
}

/// The effects owed before the first action: the timer of a notice shown at start.
pub fn opening(state: &State) -> Vec<Effect> {
    state.notice.iter().map(|_| Effect::NoticeTimer { seq: state.notice_seq }).collect()
}

/// The effects owed on the way out, however it came: every draft kept.
pub fn closing(state: &State) -> Vec<Effect> {
    state
        .drafts
        .iter()
        .map(|(user, d)| Effect::SaveDraft { user: user.clone(), text: d.text.clone() })
        .collect()
}

fn after(state: &State, before: &Before, login: bool) -> Vec<Effect> {
    let mut fx = Vec::new();
    if state.notice.is_some() && state.notice_seq != before.notice_seq {
        fx.push(Effect::NoticeTimer { seq: state.notice_seq });
    }
    if state.inbox.total_unread != before.unread {
        fx.push(Effect::UnreadChanged { total: state.inbox.total_unread });
    }
    let open = state.conv.as_ref().map(|c| (c.with_user.clone(), c.last_id().unwrap_or(0)));
    // A login starts a new link, which has been told nothing yet.
    if login || open.as_ref().map(|(u, _)| u) != before.open.as_ref() {
        fx.push(Effect::ShowingConversation(open));
    }
    fx
}

/// A bell or notification for each message not held yet (the same message again, a
/// push then our own catch-up, rings once).
fn announcements(state: &State, msgs: &[Message]) -> Vec<Effect> {
    let Some(me) = &state.me else { return Vec::new() };
    msgs.iter()
        .filter(|m| {
            state.conv.as_ref().is_none_or(|c| c.messages.binary_search_by_key(&m.id, |x| x.id).is_err())
        })
        .map(|m| {
            let other = if &m.sender == me { &m.recipient } else { &m.sender };
            let on_screen = state.screen == Screen::Main
                && state.conv.as_ref().is_some_and(|c| c.with_user.eq_ignore_ascii_case(other));
            Effect::Announce { me: me.clone(), message: m.clone(), on_screen }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::fixture;
    use crate::app::keymap::{Key, KeyCode};

    fn logged_in() -> State {
        let mut s = fixture::fresh(100, 30, crate::app::state::Look::default());
        step(&mut s, Action::LoginSucceeded { username: "alex".into(), server: "http://x/".into() });
        s
    }

    #[test]
    fn a_login_opens_the_account_first_and_tells_the_new_link() {
        let mut s = fixture::fresh(100, 30, crate::app::state::Look::default());
        let fx = step(&mut s, Action::LoginSucceeded { username: "alex".into(), server: "http://x/".into() });
        assert_eq!(
            fx.first(),
            Some(&Effect::OpenAccount { server: "http://x/".into(), username: "alex".into() })
        );
        assert!(fx.contains(&Effect::ShowingConversation(None)), "{fx:?}");
    }

    #[test]
    fn a_key_wakes_the_poller_and_other_actions_do_not() {
        let mut s = logged_in();
        let key = Key { code: KeyCode::Char('j'), ctrl: false, alt: false };
        assert_eq!(step(&mut s, Action::Key(key)).first(), Some(&Effect::UserActive));
        assert!(!step(&mut s, Action::Tick(chrono::Utc::now())).contains(&Effect::UserActive));
    }

    #[test]
    fn a_new_notice_starts_its_timer_once() {
        let mut s = logged_in();
        let fx = step(&mut s, Action::Info("hello".into()));
        assert_eq!(fx, vec![Effect::NoticeTimer { seq: s.notice_seq }]);
        assert_eq!(opening(&s), vec![Effect::NoticeTimer { seq: s.notice_seq }]);
        let fx = step(&mut s, Action::Tick(chrono::Utc::now()));
        assert!(!fx.iter().any(|f| matches!(f, Effect::NoticeTimer { .. })), "{fx:?}");
    }

    #[test]
    fn news_is_announced_once_and_the_unread_count_reaches_the_title() {
        let mut s = logged_in();
        let fx = step(&mut s, Action::InboxLoaded(fixture::inbox()));
        assert!(fx.contains(&Effect::UnreadChanged { total: s.inbox.total_unread }), "{fx:?}");
        let m = fixture::msg(999, "sam", "alex", "news", 0);
        let fx = step(&mut s, Action::MessagesArrived(vec![m.clone()]));
        let announced = Effect::Announce { me: "alex".into(), message: m.clone(), on_screen: false };
        assert_eq!(fx.iter().filter(|f| **f == announced).count(), 1, "{fx:?}");
    }

    #[test]
    fn every_draft_is_kept_on_the_way_out() {
        let mut s = logged_in();
        step(&mut s, Action::DraftsLoaded(vec![("sam".into(), "half".into()), ("jo".into(), "a".into())]));
        let mut fx = closing(&s);
        fx.sort_by_key(|f| format!("{f:?}"));
        assert_eq!(
            fx,
            vec![
                Effect::SaveDraft { user: "jo".into(), text: "a".into() },
                Effect::SaveDraft { user: "sam".into(), text: "half".into() },
            ]
        );
    }
}
