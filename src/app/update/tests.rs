//! `update` flows as action sequences.

use crate::app::action::{Action, Connection};
use crate::app::effect::Effect;
use crate::app::fixture::*;
use crate::app::state::{Confirm, Look, NoticeKind, Overlay, Pane, Pending, Screen, SendMark, State};
use crate::model::types::{ConversationResponse, SendResponse};

fn long_conversation(n: i64) -> ConversationResponse {
    ConversationResponse {
        messages: (1..=n)
            .map(|i| {
                let from = if i % 3 == 0 { "alex" } else { "dr_morgan" };
                let to = if from == "alex" { "dr_morgan" } else { "alex" };
                msg(i, from, to, &format!("message number {i} with a few words to wrap"), n - i)
            })
            .collect(),
        participant_count: 2,
        with_user: "dr_morgan".into(),
    }
}

#[test]
fn open_fetches_and_clears_unread() {
    let mut s = fresh(120, 40, Look::default());
    let fx = run(
        &mut s,
        [
            Action::LoginSucceeded { username: "alex".into(), server: "http://x".into() },
            Action::InboxLoaded(inbox()),
        ],
    );
    assert!(fx.contains(&Effect::FetchInbox { page: 1, unread_only: false }));
    assert!(fx.contains(&Effect::FetchPet));
    assert_eq!(s.screen, Screen::Main);
    assert_eq!(s.inbox.total_unread, 3);
    let fx = keys(&mut s, &["enter"]);
    assert_eq!(
        fx,
        vec![
            Effect::LoadConversation { user: "dr_morgan".into() },
            Effect::FetchConversation { user: "dr_morgan".into(), after_id: None }
        ]
    );
    assert_eq!(s.focus, Pane::Conversation);
    assert_eq!(s.inbox.total_unread, 1);
    run(&mut s, [Action::ConversationLoaded(conversation())]);
    let c = s.conv.as_ref().unwrap();
    assert_eq!(c.messages.len(), 5);
    assert_eq!(c.selected, 4);
    assert!(c.follow);
}

#[test]
fn merge_is_idempotent_and_sorted() {
    let mut s = main_screen(120, 40, Look::default());
    let mut resp = conversation();
    resp.messages.reverse();
    run(&mut s, [Action::ConversationLoaded(resp.clone()), Action::ConversationLoaded(resp)]);
    let ids: Vec<i64> = s.conv.as_ref().unwrap().messages.iter().map(|m| m.id).collect();
    assert_eq!(ids, vec![10, 11, 12, 13, 14]);
    run(&mut s, [Action::MessagesArrived(vec![msg(13, "dr_morgan", "alex", "dup", 28)])]);
    assert_eq!(s.conv.as_ref().unwrap().messages.len(), 5);
}

#[test]
fn scrolling_moves_selection_and_anchor() {
    let mut s = main_screen(80, 24, Look::default());
    run(&mut s, [Action::ConversationLoaded(long_conversation(300))]);
    let c = s.conv.as_ref().unwrap();
    assert_eq!((c.selected, c.bottom, c.follow), (299, 299, true));
    keys(&mut s, &["k", "k"]);
    let c = s.conv.as_ref().unwrap();
    assert_eq!(c.selected, 297);
    assert_eq!(c.bottom, 299, "still on screen: no scroll");
    keys(&mut s, &["pgup"]);
    let c = s.conv.as_ref().unwrap();
    assert!(c.bottom < 299 && !c.follow);
    assert!(c.selected <= c.bottom);
    keys(&mut s, &["g"]);
    let c = s.conv.as_ref().unwrap();
    assert_eq!(c.selected, 0);
    assert!(c.bottom > 0 && c.bottom < 20);
    keys(&mut s, &["j"]);
    assert_eq!(s.conv.as_ref().unwrap().selected, 1);
    keys(&mut s, &["pgdn"]);
    assert!(s.conv.as_ref().unwrap().selected > 1);
    keys(&mut s, &["G"]);
    let c = s.conv.as_ref().unwrap();
    assert_eq!((c.selected, c.bottom, c.follow), (299, 299, true));
}

#[test]
fn new_message_while_scrolled_up_counts_and_stays() {
    let mut s = main_screen(80, 24, Look::default());
    run(&mut s, [Action::ConversationLoaded(long_conversation(100))]);
    keys(&mut s, &["g"]);
    let before = s.conv.as_ref().unwrap().bottom;
    let fx = run(&mut s, [Action::MessagesArrived(vec![msg(101, "dr_morgan", "alex", "new!", 0)])]);
    let read = Effect::MarkReadWhenSettled { user: "dr_morgan".into(), up_to: 101 };
    assert!(fx.contains(&read) || fx.contains(&Effect::MarkRead { id: 101 }), "{fx:?}");
    let c = s.conv.as_ref().unwrap();
    assert_eq!(c.unseen, 1);
    assert_eq!(c.bottom, before);
    assert_eq!(c.selected, 0);
    keys(&mut s, &["G"]);
    let c = s.conv.as_ref().unwrap();
    assert_eq!((c.unseen, c.selected), (0, 100));
    // At the bottom, a new message is simply shown.
    run(&mut s, [Action::MessagesArrived(vec![msg(102, "dr_morgan", "alex", "again", 0)])]);
    let c = s.conv.as_ref().unwrap();
    assert_eq!((c.unseen, c.selected, c.bottom), (0, 101, 101));
}

#[test]
fn message_for_another_conversation_bumps_inbox() {
    let mut s = main_screen(120, 40, Look::default());
    let fx = run(&mut s, [Action::MessagesArrived(vec![msg(50, "jo", "alex", "hello there", 0)])]);
    assert!(fx.is_empty());
    assert_eq!(s.inbox.entries[0].with_user, "jo");
    assert_eq!(s.inbox.entries[0].unread, 1);
    assert_eq!(s.inbox.total_unread, 2);
    assert_eq!(s.conv.as_ref().unwrap().messages.len(), 5);
}

#[test]
fn compose_and_send_ok() {
    let mut s = main_screen(120, 40, Look::default());
    keys(&mut s, &["i"]);
    assert_eq!(s.focus, Pane::Compose);
    type_text(&mut s, "hello");
    keys(&mut s, &["alt-enter"]);
    type_text(&mut s, "there");
    assert_eq!(s.current_draft().unwrap().text, "hello\nthere");
    let fx = keys(&mut s, &["enter"]);
    let Some(Effect::Send { client_id, recipient, content, subject }) = fx.first().cloned() else {
        panic!("no send: {fx:?}")
    };
    assert_eq!((recipient.as_str(), content.as_str(), subject), ("dr_morgan", "hello\nthere", None));
    assert_eq!(s.focus, Pane::Compose, "box stays focused");
    assert_eq!(s.current_draft().unwrap().text, "", "and empty");
    assert_eq!(s.pending.len(), 1);
    let response = SendResponse {
        message_id: 99,
        status: "sent".into(),
        recipient: "dr_morgan".into(),
        conversation_id: None,
    };
    let at = s.now;
    run(&mut s, [Action::SendSucceeded { client_id, response, at }]);
    assert!(s.pending.is_empty());
    let c = s.conv.as_ref().unwrap();
    assert_eq!(c.messages.last().unwrap().id, 99);
    assert_eq!(c.messages.last().unwrap().content, "hello\nthere");
    assert_eq!(s.inbox.entries[0].with_user, "dr_morgan");
}

#[test]
fn send_refused_keeps_text_and_says_why() {
    let mut s = main_screen(120, 40, Look::default());
    keys(&mut s, &["i"]);
    type_text(&mut s, "first");
    let fx = keys(&mut s, &["enter"]);
    let Some(Effect::Send { client_id, .. }) = fx.first().cloned() else { panic!() };
    assert_eq!(s.pending[0].mark, SendMark::Queued, "shown at once, queued");
    run(&mut s, [Action::SendProgress { client_id: client_id.clone(), mark: SendMark::Sending }]);
    assert_eq!(s.pending[0].mark, SendMark::Sending);
    type_text(&mut s, "second");
    run(
        &mut s,
        [Action::SendRefused {
            client_id: client_id.clone(),
            reason: "Users may only reply to clinicians, not initiate contact\x1b[2J".into(),
        }],
    );
    // The refused text stays on screen (✗) and the box keeps what was typed since.
    let reason = "Users may only reply to clinicians, not initiate contact";
    assert_eq!(s.pending[0].mark, SendMark::Failed(reason.into()));
    assert_eq!(s.pending[0].content, "first");
    assert_eq!(s.current_draft().unwrap().text, "second");
    let n = s.notice.as_ref().unwrap();
    assert_eq!(n.kind, NoticeKind::Error);
    assert_eq!(n.text, format!("not sent: {reason}"));
    assert_eq!(s.focus, Pane::Compose);
    run(&mut s, [Action::Deleted(13)]);
    let ids: Vec<i64> = s.conv.as_ref().unwrap().messages.iter().map(|m| m.id).collect();
    assert_eq!(ids, vec![10, 11, 12, 14]);

    // e: the text comes back into the box; Enter resends that same message.
    keys(&mut s, &["esc", "e"]);
    assert_eq!(s.focus, Pane::Compose);
    assert_eq!(s.current_draft().unwrap().text, "first\nsecond");
    let fx = keys(&mut s, &["enter"]);
    assert_eq!(
        fx[0],
        Effect::Resend {
            client_id: client_id.clone(),
            recipient: "dr_morgan".into(),
            content: "first\nsecond".into()
        }
    );
    assert_eq!(s.pending.len(), 1, "no second copy");
    assert_eq!(s.pending[0].mark, SendMark::Queued);
    let response = SendResponse {
        message_id: 99,
        status: "sent".into(),
        recipient: "dr_morgan".into(),
        conversation_id: None,
    };
    let at = s.now;
    run(&mut s, [Action::SendSucceeded { client_id, response, at }]);
    assert!(s.pending.is_empty());
    assert_eq!(s.conv.as_ref().unwrap().messages.last().unwrap().content, "first\nsecond");
}

#[test]
fn a_refused_message_is_discarded_only_after_yes() {
    let mut s = main_screen(120, 40, Look::default());
    keys(&mut s, &["i"]);
    type_text(&mut s, "oops");
    let fx = keys(&mut s, &["enter"]);
    let Some(Effect::Send { client_id, .. }) = fx.first().cloned() else { panic!() };
    assert!(keys(&mut s, &["esc", "D"]).iter().all(|f| !matches!(f, Effect::Discard { .. })));
    assert_eq!(s.overlay, Overlay::None, "nothing refused: nothing to discard");
    run(&mut s, [Action::SendRefused { client_id: client_id.clone(), reason: "no".into() }]);
    keys(&mut s, &["D"]);
    assert_eq!(s.overlay, Overlay::Confirm(Confirm::Discard(client_id.clone())));
    keys(&mut s, &["n"]);
    assert_eq!(s.pending.len(), 1, "kept on no");
    keys(&mut s, &["D"]);
    let fx = keys(&mut s, &["y"]);
    assert_eq!(fx, vec![Effect::Discard { client_id }]);
    assert!(s.pending.is_empty());
}

#[test]
fn the_outbox_at_start_shows_and_confirmed_echoes_give_way_to_the_real_message() {
    let mut s = main_screen(120, 40, Look::default());
    let echo = |id: &str, mark: SendMark| Pending {
        client_id: id.into(),
        recipient: "dr_morgan".into(),
        content: format!("echo {id}\x1b[2J"),
        subject: None,
        mark,
    };
    run(&mut s, [Action::OutboxLoaded(vec![echo("a", SendMark::Queued), echo("b", SendMark::Sent(15))])]);
    assert_eq!(s.pending.len(), 2);
    assert_eq!(s.pending[0].content, "echo a", "sanitized");
    let mut real = conversation();
    real.messages.push(msg(15, "alex", "dr_morgan", "echo b", 1));
    run(&mut s, [Action::ConversationLoaded(real)]);
    assert_eq!(s.pending.iter().map(|p| p.client_id.as_str()).collect::<Vec<_>>(), ["a"]);
}

#[test]
fn too_long_is_not_sent() {
    let mut s = main_screen(120, 40, Look::default());
    keys(&mut s, &["i"]);
    let d = s.drafts.entry("dr_morgan".into()).or_default();
    d.text = "x".repeat(10_001);
    d.cursor = d.text.len();
    assert!(keys(&mut s, &["enter"]).is_empty());
    assert!(s.notice.is_some());
    assert_eq!(s.current_draft().unwrap().text.len(), 10_001);
}

#[test]
fn esc_leaves_compose_and_keeps_draft() {
    let mut s = main_screen(120, 40, Look::default());
    keys(&mut s, &["i"]);
    type_text(&mut s, "draft");
    let fx = keys(&mut s, &["esc"]);
    assert_eq!(fx, vec![Effect::SaveDraft { user: "dr_morgan".into(), text: "draft".into() }]);
    assert_eq!(s.focus, Pane::Conversation);
    assert_eq!(s.current_draft().unwrap().text, "draft");
    // j/k in the conversation are movement, not typing.
    keys(&mut s, &["k"]);
    assert_eq!(s.current_draft().unwrap().text, "draft");
    assert_eq!(s.conv.as_ref().unwrap().selected, 3);
}

#[test]
fn delete_confirm_and_cancel() {
    let mut s = main_screen(120, 40, Look::default());
    keys(&mut s, &["k"]);
    let fx = keys(&mut s, &["d"]);
    assert!(fx.is_empty());
    assert_eq!(s.overlay, Overlay::Confirm(Confirm::Delete(13)));
    assert!(keys(&mut s, &["n"]).is_empty());
    assert_eq!(s.overlay, Overlay::None);
    keys(&mut s, &["d"]);
    assert_eq!(keys(&mut s, &["y"]), vec![Effect::Delete { id: 13 }]);
    run(&mut s, [Action::Deleted(13)]);
    let ids: Vec<i64> = s.conv.as_ref().unwrap().messages.iter().map(|m| m.id).collect();
    assert_eq!(ids, vec![10, 11, 12, 14]);
}

#[test]
fn session_expired_goes_to_login_and_keeps_draft() {
    let mut s = main_screen(120, 40, Look::default());
    keys(&mut s, &["i"]);
    type_text(&mut s, "keep me");
    run(&mut s, [Action::SessionExpired]);
    assert_eq!(s.screen, Screen::Login);
    assert_eq!(s.login.username, "alex");
    assert!(s.login.error.as_deref().unwrap().contains("log in again"));
    assert_eq!(s.drafts["dr_morgan"].text, "keep me");
    type_text(&mut s, "pw");
    keys(&mut s, &["tab"]);
    type_text(&mut s, "1234");
    let fx = keys(&mut s, &["enter"]);
    assert!(matches!(&fx[..], [Effect::Login { username, .. }] if username == "alex"));
    let fx = run(&mut s, [Action::LoginSucceeded { username: "alex".into(), server: "http://x".into() }]);
    assert!(fx.contains(&Effect::FetchConversation { user: "dr_morgan".into(), after_id: None }));
    assert_eq!(s.screen, Screen::Main);
    assert_eq!(s.current_draft().unwrap().text, "keep me");
}

#[test]
fn login_form_collects_fields_and_hides_secrets() {
    let mut s = fresh(80, 24, Look::default());
    s.login.server = "http://127.0.0.1:8700".into();
    type_text(&mut s, "alex");
    keys(&mut s, &["enter"]);
    assert_eq!(s.login.error.as_deref(), Some("please enter your password"));
    type_text(&mut s, "healing-demo");
    keys(&mut s, &["tab"]);
    type_text(&mut s, "1234");
    keys(&mut s, &["tab", "space"]);
    assert!(s.login.remember);
    let fx = keys(&mut s, &["enter"]);
    let [Effect::Login { server, username, password, pin, remember }] = &fx[..] else { panic!("{fx:?}") };
    assert_eq!((server.as_str(), username.as_str(), *remember), ("http://127.0.0.1:8700", "alex", true));
    assert_eq!((password.0.as_str(), pin.0.as_str()), ("healing-demo", "1234"));
    assert!(!format!("{fx:?}").contains("healing-demo"));
    assert!(s.login.busy && s.login.password.is_empty());
    run(&mut s, [Action::LoginFailed("Invalid username or password".into())]);
    assert!(!s.login.busy);
    assert_eq!(s.login.error.as_deref(), Some("Invalid username or password"));
}

#[test]
fn filter_then_enter_opens_first_match() {
    let mut s = main_screen(120, 40, Look::default());
    keys(&mut s, &["tab"]);
    assert_eq!(s.focus, Pane::Pet);
    keys(&mut s, &["/"]);
    type_text(&mut s, "me");
    assert_eq!(s.inbox.visible().count(), 1);
    let fx = keys(&mut s, &["enter"]);
    assert!(fx.contains(&Effect::FetchConversation { user: "mei".into(), after_id: None }));
    assert_eq!(s.conv.as_ref().unwrap().with_user, "mei");
    keys(&mut s, &["shift-tab", "esc"]);
    assert_eq!(s.focus, Pane::Inbox);
    assert!(s.inbox.filter.is_empty());
}

#[test]
fn unread_toggle_filters_and_refetches() {
    let mut s = main_screen(120, 40, Look::default());
    let fx = keys(&mut s, &["tab", "tab", "u"]);
    assert_eq!(s.focus, Pane::Inbox);
    assert!(fx.contains(&Effect::FetchInbox { page: 1, unread_only: true }));
    let names: Vec<&str> = s.inbox.visible().map(|e| e.with_user.as_str()).collect();
    assert_eq!(names, vec!["mei"]);
}

#[test]
fn command_line() {
    let mut s = main_screen(120, 40, Look::default());
    keys(&mut s, &[":"]);
    type_text(&mut s, "open sam");
    let fx = keys(&mut s, &["enter"]);
    assert!(fx.contains(&Effect::FetchConversation { user: "sam".into(), after_id: None }));
    keys(&mut s, &[":"]);
    type_text(&mut s, "search pills");
    let fx = keys(&mut s, &["enter"]);
    assert_eq!(fx, vec![Effect::Search { query: "pills".into(), scope: None }]);
    assert!(matches!(&s.overlay, Overlay::Search(b) if b.query == "pills" && !b.typing));
    keys(&mut s, &["esc", ":"]);
    type_text(&mut s, "quit");
    let fx = keys(&mut s, &["enter"]);
    assert!(s.quit && fx.contains(&Effect::Quit));
}

#[test]
fn new_conversation_completes_recipient_and_sends_subject() {
    let mut s = main_screen(120, 40, Look::default());
    keys(&mut s, &["esc", "shift-tab", "c"]);
    type_text(&mut s, "s");
    keys(&mut s, &["tab"]);
    assert!(matches!(&s.overlay, Overlay::NewConversation { recipient, .. } if recipient == "sam"));
    keys(&mut s, &["tab"]);
    type_text(&mut s, "Walk");
    keys(&mut s, &["enter"]);
    assert_eq!(s.focus, Pane::Compose);
    type_text(&mut s, "hi");
    let fx = keys(&mut s, &["enter"]);
    assert!(
        matches!(&fx[0], Effect::Send { recipient, subject: Some(sub), .. } if recipient == "sam" && sub == "Walk")
    );
}

#[test]
fn ctrl_c_quits_even_while_typing_and_saves_draft() {
    let mut s = main_screen(120, 40, Look::default());
    keys(&mut s, &["i"]);
    type_text(&mut s, "q");
    assert!(!s.quit, "q is typed in the box");
    let fx = keys(&mut s, &["ctrl-c"]);
    assert!(s.quit);
    assert_eq!(fx, vec![Effect::SaveDraft { user: "dr_morgan".into(), text: "q".into() }, Effect::Quit]);
}

#[test]
fn outside_text_is_sanitized_on_the_way_in() {
    let mut s = main_screen(120, 40, Look::default());
    run(&mut s, [Action::MessagesArrived(vec![msg(60, "dr_morgan", "alex", "hi\x1b]0;pwned\x07 there", 0)])]);
    let c = s.conv.as_ref().unwrap();
    assert_eq!(c.messages.last().unwrap().content, "hi there");
    assert_eq!(s.inbox.entries[0].preview, "hi there");
}

#[test]
fn paste_is_text_not_enter() {
    let mut s = main_screen(120, 40, Look::default());
    keys(&mut s, &["i"]);
    let fx = run(&mut s, [Action::Paste("line one\r\nline two\x1b[31m".into())]);
    assert!(fx.is_empty(), "nothing sent");
    assert_eq!(s.current_draft().unwrap().text, "line one\nline two");
    keys(&mut s, &["esc", "esc", ":"]);
    run(&mut s, [Action::Paste("open\nsam".into())]);
    assert_eq!(s.overlay, Overlay::Command("open sam".into()));
}

#[test]
fn pushed_delete_is_quiet() {
    let mut s = main_screen(120, 40, Look::default());
    run(&mut s, [Action::MessageDeleted(12)]);
    assert!(s.notice.is_none());
    assert_eq!(s.conv.as_ref().unwrap().messages.len(), 4);
    let before = s.clone();
    run(&mut s, [Action::MessageDeleted(12)]);
    assert_eq!(s, before, "deleting it again changes nothing");
}

#[test]
fn i_in_the_inbox_opens_the_selected_conversation_to_write() {
    let mut s = main_screen(120, 40, Look::default());
    keys(&mut s, &["shift-tab", "j"]);
    assert_eq!(s.focus, Pane::Inbox);
    let fx = keys(&mut s, &["i"]);
    assert!(fx.contains(&Effect::FetchConversation { user: "sam".into(), after_id: None }));
    assert_eq!(s.focus, Pane::Compose);
}

#[test]
fn a_full_page_asks_for_the_next_one() {
    let mut s = main_screen(120, 40, Look::default());
    let page = |from: i64| ConversationResponse {
        messages: (from..from + 200).map(|i| msg(i, "dr_morgan", "alex", "x", 5)).collect(),
        participant_count: 2,
        with_user: "dr_morgan".into(),
    };
    let fx = run(&mut s, [Action::ConversationLoaded(page(1000))]);
    assert_eq!(fx, vec![Effect::FetchConversation { user: "dr_morgan".into(), after_id: Some(1199) }]);
    // A server that ignores after_id sends the same page again: no endless loop.
    let fx = run(&mut s, [Action::ConversationLoaded(page(1000))]);
    assert!(fx.is_empty());
}

#[test]
fn names_are_matched_without_case() {
    let mut s = main_screen(120, 40, Look::default());
    keys(&mut s, &[":"]);
    type_text(&mut s, "open SAM");
    let fx = keys(&mut s, &["enter"]);
    assert!(fx.contains(&Effect::FetchConversation { user: "sam".into(), after_id: None }));
    keys(&mut s, &[":"]);
    type_text(&mut s, "open Newbie");
    keys(&mut s, &["enter", "i"]);
    type_text(&mut s, "hi");
    let mut resp = conversation();
    resp.messages.clear();
    resp.with_user = "newbie".into();
    run(&mut s, [Action::ConversationLoaded(resp)]);
    let c = s.conv.as_ref().unwrap();
    assert_eq!((c.with_user.as_str(), c.loading), ("newbie", false));
    assert_eq!(s.current_draft().unwrap().text, "hi");
}

#[test]
fn saved_drafts_fill_empty_boxes_only() {
    let mut s = main_screen(120, 40, Look::default());
    keys(&mut s, &["i"]);
    type_text(&mut s, "newer");
    run(
        &mut s,
        [Action::DraftsLoaded(vec![("dr_morgan".into(), "older".into()), ("sam".into(), "for sam".into())])],
    );
    assert_eq!(s.drafts["dr_morgan"].text, "newer");
    assert_eq!(s.drafts["sam"].text, "for sam");
}

#[test]
fn esc_on_the_login_form_dismisses_the_error_first() {
    let mut s = fresh(80, 24, Look::default());
    run(&mut s, [Action::LoginFailed("nope".into())]);
    assert!(keys(&mut s, &["esc"]).is_empty());
    assert!(s.login.error.is_none() && !s.quit);
    keys(&mut s, &["esc"]);
    assert!(s.quit);
}

#[test]
fn unreachable_stops_loading_quietly() {
    let mut s = main_screen(120, 40, Look::default());
    keys(&mut s, &["r"]);
    assert!(s.inbox.loading);
    run(&mut s, [Action::Unreachable]);
    assert!(!s.inbox.loading && s.notice.is_none());
}

#[test]
fn cursor_editing_never_splits_a_character() {
    let mut s = main_screen(120, 40, Look::default());
    keys(&mut s, &["i"]);
    type_text(&mut s, "日本");
    keys(&mut s, &["left"]);
    type_text(&mut s, "x");
    assert_eq!(s.current_draft().unwrap().text, "日x本");
    keys(&mut s, &["home", "del", "end", "backspace"]);
    assert_eq!(s.current_draft().unwrap().text, "x");
    s.drafts.get_mut("dr_morgan").unwrap().cursor = 99;
    s.drafts.get_mut("dr_morgan").unwrap().text = "é".into();
    s.drafts.get_mut("dr_morgan").unwrap().cursor = 1;
    type_text(&mut s, "a");
    assert_eq!(s.current_draft().unwrap().text, "aé");
}

#[test]
fn the_cache_shows_first_and_never_overrides_the_server() {
    let mut s = fresh(120, 40, Look::default());
    let fx = run(&mut s, [Action::LoginSucceeded { username: "alex".into(), server: "http://x".into() }]);
    let cache_at = fx.iter().position(|f| *f == Effect::LoadCache).expect("cache asked for");
    let fetch_at = fx.iter().position(|f| matches!(f, Effect::FetchInbox { .. })).unwrap();
    assert!(cache_at < fetch_at, "the cache is read before the network is asked");
    run(&mut s, [Action::CacheLoaded(inbox())]);
    assert_eq!(s.inbox.entries.len(), 4);
    assert!(s.inbox.loading, "still refreshing");
    // Opening shows the cached messages while the fetch runs.
    keys(&mut s, &["enter"]);
    let cached = conversation().messages[..3].to_vec();
    run(&mut s, [Action::ConversationCached { user: "dr_morgan".into(), messages: cached }]);
    let c = s.conv.as_ref().unwrap();
    assert_eq!(c.messages.len(), 3);
    assert!(c.loading);
    run(&mut s, [Action::ConversationLoaded(conversation())]);
    assert_eq!(s.conv.as_ref().unwrap().messages.len(), 5);
    // A late cache answer changes nothing.
    let mut old = inbox();
    old.conversations.truncate(1);
    run(&mut s, [Action::CacheLoaded(old)]);
    assert_eq!(s.inbox.entries.len(), 4);
    run(&mut s, [Action::ConversationCached { user: "dr_morgan".into(), messages: vec![] }]);
    assert_eq!(s.conv.as_ref().unwrap().messages.len(), 5);
}

#[test]
fn the_cache_still_shows_when_an_offline_fetch_ended_first() {
    let mut s = fresh(120, 40, Look::default());
    run(&mut s, [Action::LoginSucceeded { username: "alex".into(), server: "http://x".into() }]);
    run(&mut s, [Action::CacheLoaded(inbox())]);
    keys(&mut s, &["enter"]);
    // On a loaded machine the failed fetch can land before the cache read.
    run(&mut s, [Action::ConversationUnchanged("dr_morgan".into())]);
    assert!(!s.conv.as_ref().unwrap().loading);
    let cached = conversation().messages[..3].to_vec();
    run(&mut s, [Action::ConversationCached { user: "dr_morgan".into(), messages: cached }]);
    assert_eq!(s.conv.as_ref().unwrap().messages.len(), 3, "offline, the cache is what there is");
}

#[test]
fn search_in_a_conversation_and_everywhere_opens_at_the_message() {
    let mut s = main_screen(120, 40, Look::default());
    // `/` in the conversation searches it.
    keys(&mut s, &["/"]);
    assert!(matches!(&s.overlay, Overlay::Search(b) if b.scope.as_deref() == Some("dr_morgan") && b.typing));
    type_text(&mut s, "week");
    let fx = keys(&mut s, &["enter"]);
    assert_eq!(fx, vec![Effect::Search { query: "week".into(), scope: Some("dr_morgan".into()) }]);
    // Results for another query, or another conversation's, are not shown.
    run(
        &mut s,
        [Action::SearchResults { query: "other".into(), messages: vec![msg(1, "sam", "alex", "x", 1)] }],
    );
    run(
        &mut s,
        [Action::SearchResults { query: "week".into(), messages: vec![msg(2, "sam", "alex", "week", 1)] }],
    );
    let Overlay::Search(b) = &s.overlay else { panic!() };
    assert!(b.results.is_empty() && b.searched);
    keys(&mut s, &["esc"]);
    assert_eq!(s.overlay, Overlay::None);

    // `:search` searches everything; server results merge by id, newest first.
    keys(&mut s, &["esc", ":"]);
    type_text(&mut s, "search walk");
    let fx = keys(&mut s, &["enter"]);
    assert_eq!(fx, vec![Effect::Search { query: "walk".into(), scope: None }]);
    run(
        &mut s,
        [Action::SearchResults {
            query: "walk".into(),
            messages: vec![msg(11, "alex", "dr_morgan", "walk", 5)],
        }],
    );
    let old = msg(3, "sam", "alex", "a walk long ago\x1b[2J", 60 * 24 * 90);
    run(
        &mut s,
        [Action::SearchResults {
            query: "walk".into(),
            messages: vec![msg(11, "alex", "dr_morgan", "walk", 5), old],
        }],
    );
    let Overlay::Search(b) = &s.overlay else { panic!() };
    assert_eq!(b.results.iter().map(|m| m.id).collect::<Vec<_>>(), [11, 3]);
    assert_eq!(b.results[1].content, "a walk long ago", "sanitized");
    // Enter opens sam's conversation at that (old) message.
    let fx = keys(&mut s, &["j", "enter"]);
    assert!(fx.contains(&Effect::FetchConversation { user: "sam".into(), after_id: None }));
    assert_eq!(s.overlay, Overlay::None);
    assert_eq!(s.focus, Pane::Conversation);
    let c = s.conv.as_ref().unwrap();
    assert_eq!(c.with_user, "sam");
    assert_eq!(c.messages[c.selected].id, 3);
    assert!(!c.follow);
    // The fetch keeps the view on it.
    let mut resp = conversation();
    resp.with_user = "sam".into();
    resp.messages = vec![msg(50, "sam", "alex", "new", 1), msg(51, "alex", "sam", "newer", 0)];
    run(&mut s, [Action::ConversationLoaded(resp)]);
    let c = s.conv.as_ref().unwrap();
    assert_eq!(c.messages[c.selected].id, 3);
}

#[test]
fn another_account_sees_nothing_of_the_last_one() {
    let mut s = main_screen(120, 40, Look::default());
    keys(&mut s, &["i"]);
    type_text(&mut s, "private");
    keys(&mut s, &["enter"]);
    assert_eq!(s.pending.len(), 1);
    run(&mut s, [Action::SessionExpired]);
    assert_eq!(s.pending.len(), 1, "kept for the same account");
    run(&mut s, [Action::LoginSucceeded { username: "sam".into(), server: "http://x".into() }]);
    assert!(s.pending.is_empty() && s.conv.is_none() && s.inbox.entries.is_empty());
}

/// Issue 13, item 3: a message the server keeps failing says why and when it is tried
/// again; a 429 shows as waiting, not failed.
#[test]
fn a_retrying_message_shows_the_failure_and_the_next_try() {
    use chrono::TimeZone;
    let at = chrono::Utc.with_ymd_and_hms(2026, 12, 2, 14, 5, 0).unwrap();
    let hm = at.with_timezone(&chrono::Local).format("%H:%M").to_string();
    let failed = SendMark::Retrying { reason: "server error 500 (id 1a2b3c4d)".into(), at, limited: false };
    assert_eq!(
        failed.label(false),
        format!("✗ server error 500 (id 1a2b3c4d) · retry {hm} (R now, D discard)")
    );
    let limited = SendMark::Retrying { reason: "rate-limited by the server".into(), at, limited: true };
    assert!(
        limited.label(false).starts_with("⏳ rate-limited by the server · retry"),
        "{}",
        limited.label(false)
    );
    assert_eq!(limited.mark(true), "..");
}

/// Each place a message on its way can be in has its mark and an ASCII fallback; a retry
/// after a rate limit wears the queued mark, a retry after a failure the failed one.
#[test]
fn send_marks_and_their_ascii_fallbacks() {
    let at = chrono::DateTime::<chrono::Utc>::default();
    let retry = |limited| SendMark::Retrying { reason: String::new(), at, limited };
    let cases = [
        (SendMark::Queued, "⏳", ".."),
        (SendMark::Sending, "↑", "^"),
        (SendMark::Sent(7), "✓", "ok"),
        (SendMark::Failed("no".into()), "✗", "x"),
        (retry(false), "✗", "x"),
        (retry(true), "⏳", ".."),
    ];
    for (mark, fancy, plain) in cases {
        assert_eq!((mark.mark(false), mark.mark(true)), (fancy, plain), "{mark:?}");
    }
}

#[test]
fn help_stays_up_for_stray_keys_and_closes_on_help_back_or_quit() {
    for close in ["?", "esc", "q"] {
        let mut s = main_screen(50, 14, Look::default());
        keys(&mut s, &["?"]);
        keys(&mut s, &["x", "enter", "i", "d"]);
        assert_eq!(s.overlay, Overlay::Help { top: 0 }, "a stray key closed the help");
        keys(&mut s, &["j", "j", "pgdn"]);
        assert!(matches!(s.overlay, Overlay::Help { top } if top > 2), "{:?}", s.overlay);
        keys(&mut s, &["k"]);
        let fx = keys(&mut s, &[close]);
        assert_eq!(s.overlay, Overlay::None, "{close} closes the help");
        assert!(!s.quit && fx.is_empty(), "{close} only closes the help: {fx:?}");
    }
}

#[test]
fn tab_never_moves_into_compose_so_typed_text_is_never_sent() {
    let panes = Look { layout: crate::app::state::LayoutPref::Panes, ..Look::default() };
    for (w, h, look) in [(120, 40, panes), (80, 24, Look::default()), (40, 12, Look::default())] {
        let mut s = main_screen(w, h, look);
        keys(&mut s, &["i", "esc", "esc", "tab"]);
        assert_ne!(s.focus, Pane::Compose, "{w}x{h}");
        let mut fx = type_text(&mut s, "/dr");
        fx.extend(keys(&mut s, &["esc", "enter"]));
        assert!(!fx.iter().any(|f| matches!(f, Effect::Send { .. })), "{w}x{h}: sent {fx:?}");
        // Round and round, both ways: never the compose box.
        for key in ["tab", "shift-tab"] {
            for _ in 0..6 {
                keys(&mut s, &[key]);
                assert_ne!(s.focus, Pane::Compose, "{w}x{h} {key}");
            }
        }
    }
}

#[test]
fn tab_out_of_compose_keeps_the_draft_and_i_goes_back_in() {
    let mut s = main_screen(120, 40, Look::default());
    keys(&mut s, &["i"]);
    type_text(&mut s, "half");
    let fx = keys(&mut s, &["tab"]);
    assert_ne!(s.focus, Pane::Compose);
    assert!(fx.contains(&Effect::SaveDraft { user: "dr_morgan".into(), text: "half".into() }), "{fx:?}");
    keys(&mut s, &["shift-tab", "i"]);
    assert_eq!(s.focus, Pane::Compose);
    assert_eq!(s.current_draft().map(|d| d.text.as_str()), Some("half"));
}

#[test]
fn esc_closes_the_compact_inbox_over_the_conversation() {
    for (w, h) in [(80, 24), (40, 12)] {
        let mut s = main_screen(w, h, Look::default());
        assert_eq!(s.focus, Pane::Conversation);
        keys(&mut s, &["esc"]);
        assert_eq!(s.focus, Pane::Inbox, "{w}x{h}: Esc opens the inbox");
        keys(&mut s, &["esc"]);
        assert_eq!(s.focus, Pane::Conversation, "{w}x{h}: Esc closes the inbox again");
        // A filter being typed is cleared first, then the inbox closes.
        keys(&mut s, &["esc", "/"]);
        type_text(&mut s, "sa");
        keys(&mut s, &["esc"]);
        assert_eq!(s.focus, Pane::Inbox);
        keys(&mut s, &["esc"]);
        assert_eq!(s.focus, Pane::Conversation, "{w}x{h}");
    }
}

#[test]
fn the_unknown_command_hint_names_every_command() {
    let mut s = main_screen(80, 24, Look::default());
    keys(&mut s, &[":"]);
    type_text(&mut s, "serch week");
    keys(&mut s, &["enter"]);
    let notice = s.notice.as_ref().map(|n| n.text.clone()).unwrap_or_default();
    for name in [":open", ":new", ":search", ":snippet", ":help", ":logout", ":quit"] {
        assert!(notice.contains(name), "{name} missing: {notice}");
    }
    assert!(notice.chars().count() <= 76, "fits a notice line at 80 columns: {notice}");
    for (line, says) in [("o", ":open needs a user name"), ("search ", ":search needs some text")] {
        keys(&mut s, &[":"]);
        type_text(&mut s, line);
        keys(&mut s, &["enter"]);
        assert_eq!(s.notice.as_ref().map(|n| n.text.as_str()), Some(says));
    }
}

#[test]
fn new_conversation_with_yourself_is_refused_before_anything_is_written() {
    let mut s = main_screen(120, 40, Look::default());
    keys(&mut s, &["c"]);
    type_text(&mut s, "Alex");
    let fx = keys(&mut s, &["enter"]);
    assert!(fx.is_empty(), "{fx:?}");
    assert!(matches!(s.overlay, Overlay::NewConversation { .. }), "the dialog stays for another name");
    assert_eq!(s.conv.as_ref().map(|c| c.with_user.as_str()), Some("dr_morgan"));
    let notice = s.notice.clone().unwrap();
    assert_eq!(notice.kind, NoticeKind::Error);
    assert!(notice.text.contains("is you"), "{notice:?}");
    // `:new` checks the same way.
    keys(&mut s, &["esc", "esc", ":"]);
    type_text(&mut s, "new alex");
    keys(&mut s, &["enter"]);
    assert_eq!(s.conv.as_ref().map(|c| c.with_user.as_str()), Some("dr_morgan"));
    assert!(s.notice.as_ref().is_some_and(|n| n.text.contains("is you")));
}

#[test]
fn new_conversation_says_when_the_name_is_unknown_and_not_when_known() {
    let mut s = main_screen(120, 40, Look::default());
    keys(&mut s, &["c"]);
    type_text(&mut s, "nobody_here");
    keys(&mut s, &["enter"]);
    assert_eq!(s.conv.as_ref().map(|c| c.with_user.as_str()), Some("nobody_here"));
    assert_eq!(s.focus, Pane::Compose);
    let notice = s.notice.clone().unwrap();
    assert_eq!(notice.kind, NoticeKind::Info);
    assert!(
        notice.text.contains("not in your conversations") && notice.text.contains("server"),
        "{notice:?}"
    );
    keys(&mut s, &["esc", "c"]);
    type_text(&mut s, "sam");
    keys(&mut s, &["enter"]);
    assert_eq!(s.conv.as_ref().map(|c| c.with_user.as_str()), Some("sam"));
    assert_eq!(s.notice, None, "a known name needs no word");
}

#[test]
fn y_copies_the_selected_message_sanitized_and_says_how_much() {
    let mut s = main_screen(120, 40, Look::default());
    keys(&mut s, &["k"]);
    let fx = keys(&mut s, &["y"]);
    let text = "Remember to log your mood tonight, and try the breathing exercise 🙂";
    assert_eq!(fx, vec![Effect::Copy { text: text.into() }]);
    let notice = s.notice.as_ref().unwrap();
    assert_eq!((notice.text.as_str(), notice.kind), ("copied 67 characters", NoticeKind::Info));
    assert_eq!(text.chars().count(), 67);

    // Even a message that reached the state unsanitized is copied clean.
    s.conv.as_mut().unwrap().messages[3].content = "a\x1b]52;c;ZXZpbA==\x07b\u{202e}c\nd".into();
    assert_eq!(keys(&mut s, &["y"]), vec![Effect::Copy { text: "abc\nd".into() }]);
    assert_eq!(s.notice.as_ref().unwrap().text, "copied 5 characters");
}

#[test]
fn y_answers_a_confirmation_and_copies_nothing_when_off() {
    let mut s = main_screen(120, 40, Look::default());
    keys(&mut s, &["k", "d"]);
    assert_eq!(keys(&mut s, &["y"]), vec![Effect::Delete { id: 13 }], "y is still the dialog's yes");

    s.clipboard = false;
    assert!(keys(&mut s, &["y"]).is_empty());
    assert!(s.notice.as_ref().unwrap().text.contains("clipboard = \"off\""), "{:?}", s.notice);
}

#[test]
fn y_copies_the_selected_search_result() {
    let mut s = main_screen(120, 40, Look::default());
    type_text(&mut s, ":search week");
    keys(&mut s, &["enter"]);
    let found = vec![msg(2, "sam", "alex", "older week", 1), msg(3, "sam", "alex", "this week", 1)];
    run(&mut s, [Action::SearchResults { query: "week".into(), messages: found }]);
    keys(&mut s, &["j"]);
    assert_eq!(keys(&mut s, &["y"]), vec![Effect::Copy { text: "older week".into() }]);
    assert!(matches!(&s.overlay, Overlay::Search(b) if b.selected == 1), "the results stay up");
}

#[test]
fn selection_shows_only_once_the_user_moves_it() {
    let mut s = main_screen(80, 24, Look::default());
    let shown = |s: &State| s.conv.as_ref().is_some_and(|c| c.show_selection);
    assert!(!shown(&s), "opening a conversation selects nothing visibly");
    run(&mut s, [Action::MessagesArrived(vec![msg(101, "dr_morgan", "alex", "new!", 0)])]);
    assert!(!shown(&s), "a new message does not bring the selection");
    // `d` with no visible selection shows it instead of asking about an unseen message.
    keys(&mut s, &["d"]);
    assert_eq!(s.overlay, Overlay::None);
    assert!(shown(&s));
    keys(&mut s, &["G"]);
    assert!(!shown(&s), "back at the bottom the selection hides again");
    keys(&mut s, &["k"]);
    assert!(shown(&s));
}

/// Rows the messages from id `from` to the newest take in the conversation pane.
fn rows_from(s: &State, from: i64) -> usize {
    let (w, _) = crate::app::layout::conversation_viewport(s);
    let c = s.conv.as_ref().unwrap();
    let first = c.messages.iter().position(|m| m.id == from).unwrap();
    (first..c.messages.len()).map(|i| crate::app::layout::message_rows(c, i, w, s.tz)).sum()
}

#[test]
fn panes_fill_downward_then_jump_by_half_a_pane() {
    let mut s = main_screen(120, 40, Look::default());
    run(&mut s, [Action::ConversationLoaded(long_conversation(300))]);
    let (_, h) = crate::app::layout::conversation_viewport(&s);
    let pin = |s: &State| s.conv.as_ref().unwrap().pinned_top.expect("pinned while following in panes");
    assert!(rows_from(&s, pin(&s)) <= h);
    let mut jumps = 0;
    for i in 0..40 {
        let before = pin(&s);
        let text = "a new message long enough to wrap onto a second row of the pane, or so it seems";
        run(&mut s, [Action::MessagesArrived(vec![msg(1000 + i, "dr_morgan", "alex", text, 0)])]);
        let after = pin(&s);
        assert!(rows_from(&s, after) <= h, "the newest message is on screen");
        if after != before {
            jumps += 1;
            assert!(rows_from(&s, after) <= h / 2, "a jump leaves the lower half free");
        }
    }
    assert!((3..40).contains(&jumps), "{jumps} jumps: most messages land on empty rows");
    // Scrolled up, nothing is pinned; back at the bottom it is again.
    keys(&mut s, &["pgup"]);
    assert_eq!(s.conv.as_ref().unwrap().pinned_top, None);
    keys(&mut s, &["G"]);
    assert!(s.conv.as_ref().unwrap().pinned_top.is_some());
    // The compact layout scrolls the full-width pane instead.
    let mut s = main_screen(80, 24, Look::default());
    run(&mut s, [Action::ConversationLoaded(long_conversation(300))]);
    assert_eq!(s.conv.as_ref().unwrap().pinned_top, None);
}

#[test]
fn pushed_messages_are_marked_read_once_per_burst() {
    let mut s = main_screen(80, 24, Look::default());
    run(&mut s, [Action::ConnectionChanged(Connection::Live)]);
    for id in 101..104 {
        let fx = run(&mut s, [Action::MessagesArrived(vec![msg(id, "dr_morgan", "alex", "hi", 0)])]);
        // The runner replaces a waiting one, so the burst costs one request once it settles.
        assert_eq!(fx, vec![Effect::MarkReadWhenSettled { user: "dr_morgan".into(), up_to: id }]);
    }
    // Without push (polling, or production) each message is marked on its own.
    run(&mut s, [Action::ConnectionChanged(Connection::Polling { every_secs: 15 })]);
    let fx = run(&mut s, [Action::MessagesArrived(vec![msg(104, "dr_morgan", "alex", "hi", 0)])]);
    assert_eq!(fx, vec![Effect::MarkRead { id: 104 }]);
}

/// Keys map to commands only, and `update` routes commands by the same list: every key
/// of the default map is a command with a name (so `config.toml` can rebind it).
#[test]
fn every_bound_key_is_a_named_command() {
    let s = fresh(80, 24, Look::default());
    assert!(!s.keymap.bindings().is_empty());
    for b in s.keymap.bindings() {
        assert!(matches!(b.action, command_actions!()), "{:?} is bound but is no command", b.action);
        assert!(b.action.name().is_some(), "{:?}", b.action);
    }
}
