//! The waiting order: the role's default, the sort key, config, and how arriving
//! messages, replies and cache hints move conversations.

use crate::api::waiting::{SortMode, WaitHint};
use crate::app::action::Action;
use crate::app::fixture::*;
use crate::app::state::{Look, State};

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
    run(
        &mut s,
        [Action::SendSucceeded {
            client_id,
            response: crate::api::types::SendResponse { message_id: 50, ..Default::default() },
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
    let mut conv = crate::api::types::ConversationResponse {
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
