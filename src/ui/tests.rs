//! Screen snapshots (ratatui `TestBackend` + insta) of the whole app at the sizes and
//! looks that matter.

use ratatui::backend::TestBackend;
use ratatui::style::Color;
use ratatui::Terminal;

use crate::app::action::Action;
use crate::app::fixture::*;
use crate::app::state::{LayoutPref, Look, State, ThemeKind};

fn render(state: &State) -> Terminal<TestBackend> {
    let (w, h) = state.size;
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| super::view(state, f)).unwrap();
    t
}

fn screen(state: &State) -> String {
    render(state).backend().to_string()
}

fn mono() -> Look {
    Look { theme: ThemeKind::Mono, ..panes() }
}

fn panes() -> Look {
    Look { layout: LayoutPref::Panes, ..Look::default() }
}

#[test]
fn login_screen() {
    let mut s = fresh(80, 24, Look::default());
    s.login.server = "https://www.healing-space.org.uk".into();
    type_text(&mut s, "alex");
    keys(&mut s, &["tab"]);
    type_text(&mut s, "secret");
    let out = screen(&s);
    assert!(!out.contains("secret"));
    insta::assert_snapshot!("login", out);
}

#[test]
fn login_error_in_place() {
    let mut s = fresh(80, 24, Look::default());
    run(&mut s, [Action::LoginFailed("Invalid username or password".into())]);
    insta::assert_snapshot!("login_error", screen(&s));
}

#[test]
fn main_120x40_with_pet() {
    let s = main_screen(120, 40, Look::default());
    insta::assert_snapshot!("main_120x40", screen(&s));
}

#[test]
fn main_80x24_without_pet() {
    let s = main_screen(80, 24, panes());
    let out = screen(&s);
    assert!(out.contains("Biscuit"), "pet moves to the status bar");
    insta::assert_snapshot!("main_80x24", out);
}

#[test]
fn single_pane_40x12() {
    let mut s = main_screen(40, 12, Look::default());
    insta::assert_snapshot!("single_40x12_conversation", screen(&s));
    keys(&mut s, &["shift-tab"]);
    insta::assert_snapshot!("single_40x12_inbox", screen(&s));
}

#[test]
fn too_small() {
    let s = main_screen(29, 8, Look::default());
    insta::assert_snapshot!("too_small", screen(&s));
}

#[test]
fn help_overlay() {
    let mut s = main_screen(80, 24, panes());
    keys(&mut s, &["?"]);
    insta::assert_snapshot!("help_80x24", screen(&s));
}

#[test]
fn help_follows_keymap_overrides() {
    let mut s = main_screen(80, 24, panes());
    let mut o = std::collections::BTreeMap::new();
    o.insert("ctrl-o".to_owned(), "open_editor".to_owned());
    s.keymap = crate::app::keymap::Keymap::with_overrides(&o).0;
    keys(&mut s, &["?"]);
    assert!(screen(&s).contains("ctrl-e/ctrl-o"));
}

#[test]
fn compose_with_refusal_notice() {
    let mut s = main_screen(80, 24, panes());
    keys(&mut s, &["i"]);
    type_text(&mut s, "Can we talk tomorrow?");
    let fx = keys(&mut s, &["enter"]);
    let Some(crate::app::Effect::Send { client_id, .. }) = fx.first().cloned() else { panic!() };
    run(
        &mut s,
        [Action::SendRefused {
            client_id,
            reason: "Users may only reply to clinicians, not initiate contact".into(),
        }],
    );
    insta::assert_snapshot!("compose_refused", screen(&s));
}

#[test]
fn new_messages_marker_when_scrolled_up() {
    let mut s = main_screen(80, 24, panes());
    let more = (15..=40).map(|i| msg(i, "dr_morgan", "alex", &format!("note {i}"), 10));
    run(&mut s, [Action::MessagesArrived(more.collect())]);
    keys(&mut s, &["pgup"]);
    run(&mut s, [Action::MessagesArrived(vec![msg(41, "dr_morgan", "alex", "Are you there?", 0)])]);
    let out = screen(&s);
    assert!(out.contains("1 new ↓"));
    insta::assert_snapshot!("new_marker", out);
}

#[test]
fn no_color_is_mono() {
    let s = main_screen(80, 24, mono());
    let t = render(&s);
    let colored = t.backend().buffer().content().iter().any(|c| c.fg != Color::Reset || c.bg != Color::Reset);
    assert!(!colored, "mono draws no colour");
    insta::assert_snapshot!("mono_80x24", t.backend().to_string());
}

#[test]
fn ascii_has_no_box_drawing_or_emoji() {
    let mut s = main_screen(120, 40, Look { ascii: true, ..Look::default() });
    run(&mut s, [Action::ConnectionChanged(crate::app::action::Connection::Offline { retry_secs: 8 })]);
    run(&mut s, [Action::Synced(now())]);
    let out = screen(&s);
    // Only the people's own text (the fixture's emoji and Japanese) may be non-ASCII.
    let theirs = |c: &char| {
        ('\u{3000}'..='\u{9fff}').contains(c) || ('\u{ff00}'..='\u{ffef}').contains(c) || *c >= '\u{1f300}'
    };
    let offending: Vec<char> = out.chars().filter(|c| !c.is_ascii() && !theirs(c)).collect();
    assert!(offending.is_empty(), "{offending:?}");
    insta::assert_snapshot!("ascii_120x40", out);
}

#[test]
fn huge_conversation_renders_only_what_is_visible() {
    let mut s = main_screen(80, 24, Look::default());
    let msgs = (1..=100_000).map(|i| msg(i, "dr_morgan", "alex", "scrolling along", 0)).collect();
    run(
        &mut s,
        [Action::ConversationLoaded(crate::api::types::ConversationResponse {
            messages: msgs,
            participant_count: 2,
            with_user: "dr_morgan".into(),
        })],
    );
    keys(&mut s, &["k", "pgup", "pgup"]);
    let out = screen(&s);
    assert!(out.contains("scrolling along"));
    assert!(!s.conv.as_ref().unwrap().follow);
}

#[test]
fn compact_80x24_is_the_default_below_100_columns() {
    let mut s = main_screen(80, 24, Look::default());
    run(&mut s, [Action::MessagesArrived(vec![msg(30, "sam", "alex", "walk at 6?", 0)])]);
    let out = screen(&s);
    assert!(out.contains("[sam 1] [mei 1]"), "activity line: {out}");
    insta::assert_snapshot!("compact_80x24", out);
    keys(&mut s, &["esc"]);
    insta::assert_snapshot!("compact_80x24_inbox", screen(&s));
}

#[test]
fn compact_rows_span_the_full_width() {
    // What lets a scroll-aware output layer move the conversation as a block: no
    // border or neighbouring pane on the message rows.
    let s = main_screen(80, 24, Look { layout: LayoutPref::Compact, ..Look::default() });
    let t = render(&s);
    let buf = t.backend().buffer();
    for y in 1..15 {
        assert_ne!(buf[(0, y)].symbol(), "│", "row {y} starts with a border");
        assert_ne!(buf[(79, y)].symbol(), "│", "row {y} ends with a border");
    }
}

#[test]
fn compact_at_120_when_asked() {
    let s = main_screen(120, 40, Look { layout: LayoutPref::Compact, ..Look::default() });
    let out = screen(&s);
    assert!(!out.contains("Inbox"));
    assert!(out.contains("Biscuit"), "pet in the status bar");
}

#[test]
fn connection_labels() {
    use crate::app::action::Connection;
    use crate::ui::status::connection_label;
    let tz = chrono::FixedOffset::east_opt(0).unwrap();
    assert_eq!(connection_label(Connection::Live, false, tz), "● live");
    assert_eq!(connection_label(Connection::Polling { every_secs: 15 }, false, tz), "◐ polling 15s");
    assert_eq!(connection_label(Connection::Offline { retry_secs: 8 }, false, tz), "○ offline · retry in 8s");
    assert_eq!(connection_label(Connection::Live, true, tz), "[live]");
    assert_eq!(connection_label(Connection::Polling { every_secs: 15 }, true, tz), "[poll 15s]");
    assert_eq!(connection_label(Connection::Offline { retry_secs: 8 }, true, tz), "[offline 8s]");
    let until = now() + chrono::Duration::minutes(5);
    assert_eq!(
        connection_label(Connection::RateLimited { until }, false, tz),
        "◔ rate-limited · next check 16:35"
    );
}

#[test]
fn every_size_draws_without_panicking() {
    let looks = [Look::default(), panes(), Look { ascii: true, theme: ThemeKind::C16, ..Look::default() }];
    for look in looks {
        for w in (0..=130).step_by(7) {
            for h in (0..=45).step_by(4) {
                let mut s = main_screen(w.max(1), h.max(1), look);
                keys(&mut s, &["i"]);
                type_text(&mut s, "a long draft that wraps over several lines in a narrow box, 日本語 too");
                s.notify(crate::app::state::NoticeKind::Error, "something went wrong");
                let _ = screen(&s);
                keys(&mut s, &["esc", "?"]);
                let _ = screen(&s);
                keys(&mut s, &["esc", "c"]);
                let _ = screen(&s);
                keys(&mut s, &["esc", "esc", "shift-tab"]);
                let _ = screen(&s);
                run(&mut s, [Action::SessionExpired]);
                let _ = screen(&s);
            }
        }
    }
}

#[test]
fn start_up_problems_show_on_the_login_screen() {
    let mut s = fresh(80, 24, Look::default());
    s.notify(crate::app::state::NoticeKind::Error, "[keys] unknown action \"explode\"");
    assert!(screen(&s).contains("unknown action"));
}

#[test]
fn search_results_overlay() {
    let mut s = main_screen(80, 24, panes());
    keys(&mut s, &[":"]);
    type_text(&mut s, "search week");
    keys(&mut s, &["enter"]);
    let found = vec![
        msg(10, "dr_morgan", "alex", "Hi Alex, how has this week been?", 60 * 25),
        msg(
            11,
            "alex",
            "dr_morgan",
            "Better than last week. Sleeping a bit more,\nwalking most days.",
            60 * 24,
        ),
        msg(40, "sam", "alex", "Walk next week?\x1b[2J", 60 * 24 * 3),
    ];
    run(&mut s, [Action::SearchResults { query: "week".into(), messages: found }]);
    keys(&mut s, &["j"]);
    insta::assert_snapshot!("search_results", screen(&s));
}

#[test]
fn no_selection_marker_until_the_user_moves() {
    let mut s = main_screen(80, 24, Look::default());
    run(&mut s, [Action::MessagesArrived(vec![msg(101, "dr_morgan", "alex", "new!", 0)])]);
    assert!(!screen(&s).contains('▌'), "{}", screen(&s));
    keys(&mut s, &["k"]);
    assert!(screen(&s).contains('▌'));
}
