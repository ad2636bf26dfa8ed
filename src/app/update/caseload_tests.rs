//! The waiting order: the role's default, the sort key, config, and how arriving
//! messages, replies and cache hints move conversations.

use crate::app::action::Action;
use crate::app::fixture::*;
use crate::app::state::{Look, State};
use crate::model::waiting::{SortMode, WaitHint};

fn order(s: &State) -> Vec<&str> {
    s.inbox.entries.iter().map(|e| e.with_user.as_str()).collect()
}

fn waited_mins(s: &State, user: &str) -> Option<i64> {
    let e = s.inbox.entries.iter().find(|e| e.with_user == user)?;
    e.waiting_since.map(|t| (now() - t).num_minutes())
}

#[test]
fn clinicians_see_the_longest_wait_first() {
    let s = clinician(80, 24, Look::default());
    assert_eq!(s.inbox.sort, SortMode::Waiting);
    assert_eq!(order(&s), ["mei", "alex", "jo", "sam", "kit"]);
    assert_eq!(s.inbox.waiting_count(), 3);
    assert_eq!(waited_mins(&s, "mei"), Some(60 * 48));
    assert_eq!(waited_mins(&s, "sam"), None, "answered");
    assert_eq!(waited_mins(&s, "kit"), None, "unknown is not waiting");
}

#[test]
fn patients_keep_the_newest_first() {
    let mut s = fresh(80, 24, Look::default());
    run(
        &mut s,
        [
            Action::LoginSucceeded { username: "alex".into(), server: "http://x".into() },
            Action::RoleKnown("user".into()),
            Action::InboxLoaded(caseload()),
        ],
    );
    assert_eq!(s.inbox.sort, SortMode::Recent);
    assert_eq!(order(&s), ["sam", "jo", "alex", "kit", "mei"]);
}

#[test]
fn the_sort_key_switches_and_keeps_the_selection() {
    let mut s = clinician(80, 24, Look::default());
    keys(&mut s, &["j"]);
    assert_eq!(s.inbox.selected_entry().unwrap().with_user, "alex");
    keys(&mut s, &["s"]);
    assert_eq!(s.inbox.sort, SortMode::Recent);
    assert_eq!(order(&s), ["sam", "jo", "alex", "kit", "mei"]);
    assert_eq!(s.inbox.selected_entry().unwrap().with_user, "alex", "same conversation selected");
    keys(&mut s, &["s"]);
    assert_eq!(order(&s), ["mei", "alex", "jo", "sam", "kit"]);
    // Chosen by key (or config): a later role does not override it.
    keys(&mut s, &["s"]);
    run(&mut s, [Action::RoleKnown("clinician".into())]);
    assert_eq!(s.inbox.sort, SortMode::Recent);
}

#[test]
fn a_new_message_waits_and_an_ongoing_wait_keeps_its_start() {
    let mut s = clinician(80, 24, Look::default());
    run(&mut s, [Action::MessagesArrived(vec![msg(40, "sam", "dr_morgan", "one more thing", 0)])]);
    assert_eq!(waited_mins(&s, "sam"), Some(0));
    assert_eq!(order(&s), ["mei", "alex", "jo", "sam", "kit"], "the shortest wait last among waiting");
    run(&mut s, [Action::MessagesArrived(vec![msg(41, "mei", "dr_morgan", "also, thanks", 0)])]);
    assert_eq!(waited_mins(&s, "mei"), Some(60 * 48), "mei still waits since her first message");
    assert_eq!(order(&s)[0], "mei");
}

#[test]
fn a_reply_ends_the_wait() {
    let mut s = clinician(80, 24, Look::default());
    keys(&mut s, &["enter"]);
    keys(&mut s, &["i"]);
    type_text(&mut s, "Of course, how about Monday?");
    let fx = keys(&mut s, &["enter"]);
    let client_id = fx
        .iter()
        .find_map(|e| match e {
            crate::app::Effect::Send { client_id, .. } => Some(client_id.clone()),
            _ => None,
        })
        .unwrap();
    let at = s.now;
    run(
        &mut s,
        [Action::SendSucceeded {
            client_id,
            response: crate::model::types::SendResponse { message_id: 50, ..Default::default() },
            at,
        }],
    );
    assert_eq!(waited_mins(&s, "mei"), None);
    assert_eq!(order(&s), ["alex", "jo", "mei", "sam", "kit"]);
    assert_eq!(s.inbox.waiting_count(), 2);
}

#[test]
fn the_cache_decides_where_the_summary_does_not() {
    let mut s = clinician(80, 24, Look::default());
    let hint = |sender: &str, last: i64, run: Option<i64>| WaitHint {
        last_sender: sender.into(),
        last_time: ago(last).map(|t| t.utc()),
        run_start: run.and_then(ago).map(|t| t.utc()),
    };
    run(
        &mut s,
        [Action::WaitHintsLoaded(vec![
            // kit wrote last (the cache holds the newest message): waiting from 6 h ago.
            ("kit".into(), hint("kit", 60 * 5, Some(60 * 6))),
            // alex's run began before the summary's newest message.
            ("alex".into(), hint("alex", 60 * 3, Some(60 * 20))),
            // A stale hint (older than the summary) says nothing about jo.
            ("jo".into(), hint("dr_morgan", 60 * 9, None)),
        ])],
    );
    assert_eq!(waited_mins(&s, "kit"), Some(60 * 6));
    assert_eq!(waited_mins(&s, "alex"), Some(60 * 20));
    assert_eq!(waited_mins(&s, "jo"), Some(25));
    assert_eq!(order(&s), ["mei", "alex", "kit", "jo", "sam"]);
}

#[test]
fn an_opened_conversation_teaches_the_start_of_the_wait() {
    let mut s = clinician(80, 24, Look::default());
    keys(&mut s, &["j", "enter"]);
    let mut conv = crate::model::types::ConversationResponse {
        messages: vec![
            msg(1, "dr_morgan", "alex", "How was the week?", 60 * 30),
            msg(2, "alex", "dr_morgan", "Hard.", 60 * 10),
            msg(3, "alex", "dr_morgan", "I couldn't sleep again last night", 60 * 3),
        ],
        participant_count: 2,
        with_user: "alex".into(),
    };
    run(&mut s, [Action::ConversationLoaded(conv.clone())]);
    assert_eq!(waited_mins(&s, "alex"), Some(60 * 10));
    // Opening (reading) is not answering.
    assert_eq!(s.inbox.waiting_count(), 3);
    conv.messages.push(msg(4, "dr_morgan", "alex", "I'm sorry. Let's talk tomorrow.", 1));
    run(&mut s, [Action::ConversationLoaded(conv)]);
    assert_eq!(waited_mins(&s, "alex"), None);
}

/// Page `page` of an inbox of `total` patients, `size` a page, newest first; every
/// patient wrote last.
fn page_of(total: usize, page: usize, size: usize) -> crate::model::types::InboxResponse {
    let conversations = (0..total)
        .skip((page - 1) * size)
        .take(size)
        .map(|i| crate::model::types::ConversationSummary {
            with_user: format!("p{i:03}"),
            last_message: "hello".into(),
            last_message_time: ago(i as i64 + 1),
            last_sender: Some(format!("p{i:03}")),
            ..Default::default()
        })
        .collect();
    crate::model::types::InboxResponse {
        conversations,
        total_unread: 0,
        page: page as u32,
        page_size: size as u32,
        total_conversations: total as u32,
    }
}

fn inbox_fetches(fx: &[crate::app::Effect]) -> Vec<u32> {
    fx.iter()
        .filter_map(|e| match e {
            crate::app::Effect::FetchInbox { page, .. } => Some(*page),
            _ => None,
        })
        .collect()
}

#[test]
fn the_waiting_order_loads_every_page_once_and_a_first_page_refresh_keeps_them() {
    let mut s = fresh(80, 24, Look::default());
    run(
        &mut s,
        [
            Action::LoginSucceeded { username: "dr_morgan".into(), server: "http://x".into() },
            Action::RoleKnown("clinician".into()),
        ],
    );
    let fx = run(&mut s, [Action::InboxLoaded(page_of(120, 1, 50))]);
    assert_eq!(inbox_fetches(&fx), [2], "the longest wait may be on a later page");
    let fx = run(&mut s, [Action::InboxLoaded(page_of(120, 2, 50))]);
    assert_eq!(inbox_fetches(&fx), [3]);
    let fx = run(&mut s, [Action::InboxLoaded(page_of(120, 3, 50))]);
    assert_eq!(inbox_fetches(&fx), Vec::<u32>::new(), "all there");
    assert_eq!(s.inbox.entries.len(), 120);
    assert_eq!(s.inbox.entries[0].with_user, "p119", "the longest wait first, from the last page");
    // The live link refreshes the first 20: the rest stay, and nothing more is fetched.
    let fx = run(&mut s, [Action::InboxLoaded(page_of(120, 1, 20))]);
    assert_eq!(s.inbox.entries.len(), 120);
    assert_eq!(inbox_fetches(&fx), Vec::<u32>::new());
}

#[test]
fn the_recent_order_loads_more_only_when_scrolled_to() {
    let mut s = fresh(80, 24, Look::default());
    run(&mut s, [Action::LoginSucceeded { username: "alex".into(), server: "http://x".into() }]);
    let fx = run(&mut s, [Action::RoleKnown("user".into()), Action::InboxLoaded(page_of(120, 1, 50))]);
    assert_eq!(inbox_fetches(&fx), Vec::<u32>::new());
    // A complete first page (the whole list) still replaces what was there.
    run(&mut s, [Action::InboxLoaded(page_of(3, 1, 50))]);
    assert_eq!(s.inbox.entries.len(), 3);
}
