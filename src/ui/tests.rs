//! Screen snapshots (ratatui `TestBackend` + insta) of the whole app at the sizes and
//! looks that matter.

use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::Color;
use ratatui::Terminal;

use crate::app::action::Action;
use crate::app::effect::Effect;
use crate::app::fixture::*;
use crate::app::state::{LayoutPref, Look, NoticeKind, State, ThemeKind};
use crate::model::types::SendResponse;

fn render(state: &State) -> Terminal<TestBackend> {
    let (w, h) = state.size;
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| super::view(state, f)).unwrap();
    t
}

fn screen(state: &State) -> String {
    render(state).backend().to_string()
}

/// Every cell `view` draws (symbols and styles): the run loop draws only when this
/// differs from what the terminal shows.
fn frame(state: &State) -> Buffer {
    render(state).backend().buffer().clone()
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

/// Every row of the help, from the keymap itself: "keys what".
fn help_rows(s: &State) -> Vec<String> {
    crate::app::help::sections(&s.keymap)
        .into_iter()
        .flat_map(|(title, rows)| {
            std::iter::once(title.to_owned()).chain(rows.into_iter().map(|(k, w)| format!("{k} {w}")))
        })
        .collect()
}

/// The screen with runs of spaces squeezed to one, so "k/up    up" reads "k/up up".
fn squeezed(out: &str) -> String {
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn help_is_reachable_in_full_at_every_supported_size() {
    for (w, h) in [(80, 24), (50, 14), (40, 12), (60, 15), (120, 40)] {
        let mut s = main_screen(w, h, Look::default());
        keys(&mut s, &["?"]);
        let mut seen = squeezed(&screen(&s));
        // Scroll to the end one row at a time, collecting what shows.
        for _ in 0..60 {
            keys(&mut s, &["j"]);
            seen.push_str(&squeezed(&screen(&s)));
        }
        for row in help_rows(&s) {
            assert!(seen.contains(&row), "{w}x{h}: help row {row:?} never shows");
        }
        assert!(matches!(s.overlay, crate::app::state::Overlay::Help { .. }), "{w}x{h}: j closed it");
    }
}

#[test]
fn help_small_screens_scroll_and_say_there_is_more() {
    for (w, h, name) in [(50, 14, "help_50x14"), (40, 12, "help_40x12")] {
        let mut s = main_screen(w, h, Look::default());
        keys(&mut s, &["?"]);
        let out = screen(&s);
        assert!(out.contains("↓ more"), "{w}x{h}: {out}");
        insta::assert_snapshot!(name, out);
        keys(&mut s, &["G"]);
        let out = screen(&s);
        assert!(out.contains("Anywhere") && out.contains("↑ more"), "{w}x{h}: {out}");
        insta::assert_snapshot!(format!("{name}_end"), out);
        keys(&mut s, &["pgup", "g"]);
        assert!(screen(&s).contains("Browsing"), "{w}x{h}: g goes back to the top");
    }
}

#[test]
fn status_bar_keeps_the_help_hint_last() {
    for (w, h) in [(80, 24), (50, 14), (40, 12)] {
        let mut s = main_screen(w, h, Look::default());
        keys(&mut s, &["shift-tab"]);
        assert_eq!(s.focus, crate::app::state::Pane::Inbox);
        let out = screen(&s);
        let status = out.lines().last().unwrap_or_default().to_owned();
        assert!(status.contains("?:help"), "{w}x{h}: {status}");
        keys(&mut s, &["tab"]);
        let status = screen(&s).lines().last().unwrap_or_default().to_owned();
        assert!(status.contains("?:help"), "{w}x{h} conversation: {status}");
    }
    // With room to spare, the less important hints are kept as well, in their order.
    let mut s = main_screen(120, 40, panes());
    keys(&mut s, &["shift-tab"]);
    let status = screen(&s).lines().last().unwrap_or_default().to_owned();
    assert!(status.contains("enter:open c:new /:filter ?:help q:quit"), "{status}");
}

#[test]
fn help_title_names_only_keys_that_close_it() {
    let mut s = main_screen(80, 24, panes());
    let o = std::collections::BTreeMap::from([("q".to_owned(), "none".to_owned())]);
    s.keymap = crate::app::keymap::Keymap::with_overrides(&o).unwrap().0;
    keys(&mut s, &["?"]);
    let out = screen(&s);
    assert!(out.contains("Keys — ?/esc closes"), "ctrl-c quits, it does not close: {out}");
}

#[test]
fn help_follows_keymap_overrides() {
    let mut s = main_screen(80, 24, panes());
    let mut o = std::collections::BTreeMap::new();
    o.insert("ctrl-o".to_owned(), "open_editor".to_owned());
    s.keymap = crate::app::keymap::Keymap::with_overrides(&o).unwrap().0;
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
        [Action::ConversationLoaded(crate::model::types::ConversationResponse {
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

/// Issue 14, item 4: a message written after a refused one (kept after a cancelled
/// `D`) waits behind it, and says what it waits for and how to release it.
#[test]
fn a_message_queued_behind_a_refused_one_says_what_it_waits_for() {
    let mut s = main_screen(120, 30, panes());
    keys(&mut s, &["i"]);
    type_text(&mut s, "oops");
    let fx = crate::app::update(&mut s, Action::Key(crate::app::keymap::Key::parse("enter").unwrap()));
    let Some(crate::app::effect::Effect::Send { client_id, .. }) = fx.first().cloned() else {
        panic!("no send: {fx:?}")
    };
    crate::app::update(&mut s, Action::SendRefused { client_id, reason: "Recipient not found".into() });
    keys(&mut s, &["esc", "D", "n", "i"]);
    type_text(&mut s, "later one");
    keys(&mut s, &["enter"]);
    let out = screen(&s);
    assert!(out.contains("⏳ waits for the refused one above (e edit, D discard)"), "{out}");
}

#[test]
fn no_messages_yet_never_shows_under_a_message_of_ours() {
    let mut s = main_screen(80, 24, panes());
    keys(&mut s, &[":"]);
    type_text(&mut s, "new jo");
    keys(&mut s, &["enter"]);
    run(
        &mut s,
        [Action::ConversationLoaded(crate::model::types::ConversationResponse {
            messages: Vec::new(),
            participant_count: 2,
            with_user: "jo".into(),
        })],
    );
    assert!(screen(&s).contains("No messages yet"), "an empty conversation says so");
    type_text(&mut s, "hello jo");
    let fx = keys(&mut s, &["enter"]);
    let Some(crate::app::Effect::Send { client_id, .. }) = fx.first().cloned() else { panic!("{fx:?}") };
    let out = screen(&s);
    assert!(out.contains("queued") && !out.contains("No messages yet"), "{out}");
    run(&mut s, [Action::SendRefused { client_id, reason: "Recipient not found".into() }]);
    let out = screen(&s);
    assert!(out.contains("not sent") && !out.contains("No messages yet"), "{out}");
}

#[test]
fn new_conversation_dialog_says_who_before_writing() {
    let mut s = main_screen(80, 24, panes());
    keys(&mut s, &["c"]);
    type_text(&mut s, "alex");
    assert!(screen(&s).contains("that is you"), "{}", screen(&s));
    keys(&mut s, &["backspace"; 4]);
    type_text(&mut s, "zed");
    assert!(screen(&s).contains("not in your conversations"), "{}", screen(&s));
    keys(&mut s, &["backspace"; 3]);
    type_text(&mut s, "s");
    assert!(screen(&s).contains("known: sam"), "{}", screen(&s));
}

/// Three short messages, then one of ~2,000 characters, then a short one the next day.
fn long_message_after_short_ones() -> State {
    let mut s = fresh(100, 30, panes());
    run(
        &mut s,
        [
            Action::LoginSucceeded { username: "alex".into(), server: "http://127.0.0.1:8700".into() },
            Action::InboxLoaded(inbox()),
        ],
    );
    keys(&mut s, &["enter"]);
    let long =
        format!("Longstart of a long letter. {}", "I kept a diary this week as you asked. ".repeat(52));
    assert!(long.chars().count() >= 2000);
    let messages = vec![
        msg(20, "dr_morgan", "alex", "Good morning", 60 * 50),
        msg(21, "alex", "dr_morgan", "Morning", 60 * 49),
        msg(22, "dr_morgan", "alex", "How did the week go?", 60 * 48),
        msg(23, "alex", "dr_morgan", &long, 60 * 47),
        msg(24, "dr_morgan", "alex", "Thank you for writing all that", 60),
    ];
    run(
        &mut s,
        [Action::ConversationLoaded(crate::model::types::ConversationResponse {
            messages,
            participant_count: 2,
            with_user: "dr_morgan".into(),
        })],
    );
    s
}

/// Issue 14, item 3, by the selection: `k` onto a message taller than the pane shows its
/// start (header and first words), cut at the bottom, not its end.
#[test]
fn selecting_a_tall_message_shows_its_start() {
    let mut s = long_message_after_short_ones();
    keys(&mut s, &["k"]);
    let out = screen(&s);
    assert!(out.contains("Longstart of a long letter"), "{out}");
    assert!(!out.contains("Thank you for writing all that"), "the next message is below it: {out}");
    keys(&mut s, &["j"]);
    let out = screen(&s);
    assert!(out.contains("Thank you for writing all that"), "{out}");
}

#[test]
fn top_shows_the_start_of_a_long_message_cut_at_the_bottom() {
    let mut s = long_message_after_short_ones();
    keys(&mut s, &["g"]);
    let out = screen(&s);
    assert!(out.contains("Good morning") && out.contains("Longstart"), "{out}");
    insta::assert_snapshot!("long_message_at_top", out);
}

#[test]
fn a_search_result_opens_with_the_long_message_below_it() {
    let mut s = long_message_after_short_ones();
    keys(&mut s, &["/"]);
    type_text(&mut s, "week");
    keys(&mut s, &["enter"]);
    run(
        &mut s,
        [Action::SearchResults {
            query: "week".into(),
            messages: vec![msg(22, "dr_morgan", "alex", "How did the week go?", 60 * 48)],
        }],
    );
    keys(&mut s, &["enter"]);
    let out = screen(&s);
    assert!(out.contains("How did the week go?") && out.contains("Longstart"), "{out}");
    insta::assert_snapshot!("long_message_below_search_hit", out);
}

#[test]
fn waiting_inbox_80x24() {
    let mut s = clinician(80, 24, Look::default());
    let out = screen(&s);
    assert!(out.contains("waiting 2d") && out.contains("waiting 3h") && out.contains("waiting 25m"), "{out}");
    assert!(out.contains("3 waiting"), "status bar count: {out}");
    insta::assert_snapshot!("waiting_inbox_80x24", out);
    keys(&mut s, &["s"]);
    let out = screen(&s);
    assert!(!out.contains("waiting 2d") && !out.contains("3 waiting"), "{out}");
    insta::assert_snapshot!("recent_inbox_80x24", out);
}

#[test]
fn snippet_picker_and_help_80x24() {
    let mut s = main_screen(80, 24, Look::default());
    s.snippets
        .insert("checkin".into(), "Thanks for letting me know, {name}. How are you feeling now?".into());
    s.snippets.insert("breathing".into(), "Try the 4-7-8 breathing exercise.".into());
    keys(&mut s, &["i", "ctrl-t"]);
    type_text(&mut s, "in");
    let out = screen(&s);
    assert!(out.contains("Thanks for letting me know, dr_morgan."), "{{name}} shown expanded: {out}");
    insta::assert_snapshot!("snippet_picker_80x24", out);
    keys(&mut s, &["esc", "esc", "?"]);
    let out = screen(&s);
    assert!(out.contains("quick reply") && out.contains("checkin"), "{out}");
}

#[test]
fn no_selection_marker_until_the_user_moves() {
    let mut s = main_screen(80, 24, Look::default());
    run(&mut s, [Action::MessagesArrived(vec![msg(101, "dr_morgan", "alex", "new!", 0)])]);
    assert!(!screen(&s).contains('▌'), "{}", screen(&s));
    keys(&mut s, &["k"]);
    assert!(screen(&s).contains('▌'));
}

/// A message sent at 01:11:02 is labelled 01:11 in the conversation and the inbox,
/// though the last clock tick said 01:10.
#[test]
fn a_sent_message_is_labelled_with_its_own_time_not_the_last_tick() {
    use chrono::TimeZone;
    let mut s = main_screen(120, 40, Look::default());
    let tick = chrono::Utc.with_ymd_and_hms(2026, 11, 30, 1, 10, 0).unwrap();
    run(&mut s, [Action::Tick(tick)]);
    keys(&mut s, &["i"]);
    type_text(&mut s, "on time");
    let Some(Effect::Send { client_id, .. }) = keys(&mut s, &["enter"]).first().cloned() else { panic!() };
    let response = SendResponse {
        message_id: 99,
        status: "sent".into(),
        recipient: "dr_morgan".into(),
        conversation_id: None,
    };
    let at = tick + chrono::Duration::seconds(62);
    run(&mut s, [Action::SendSucceeded { client_id, response, at }]);
    let sent = s.conv.as_ref().unwrap().messages.last().unwrap().sent_at.map(|t| t.utc());
    assert_eq!(sent, Some(at));
    assert_eq!(s.inbox.entries[0].last_time, Some(at), "the inbox row says the same");
    let utc = chrono::FixedOffset::east_opt(0).unwrap();
    assert_eq!(crate::model::time_fmt::clock(at, utc), "01:11");
    let out = screen(&s);
    assert!(out.contains("01:11") && !out.contains("01:10"), "{out}");
}

/// A conversation that failed to load (feb5 answers 500 to every one) says so, why
/// and how to retry; never "No messages yet" while the inbox lists messages.
#[test]
fn a_conversation_that_failed_to_load_says_so_and_r_retries() {
    let mut s = fresh(120, 30, Look::default());
    run(
        &mut s,
        [
            Action::LoginSucceeded { username: "alex".into(), server: "http://127.0.0.1:8700".into() },
            Action::InboxLoaded(inbox()),
        ],
    );
    keys(&mut s, &["enter"]);
    let loading = frame(&s);
    let reason = "server error 500: An unexpected error occurred. Please try again. (error id d05da737)";
    run(
        &mut s,
        [Action::ConversationFailed { user: "dr_morgan".into(), reason: format!("{reason}\x1b[2J") }],
    );
    assert_ne!(frame(&s), loading, "the pane must be redrawn");
    let out = screen(&s);
    assert!(!out.contains("No messages yet"), "{out}");
    for part in ["Could not load this conversation", "server error 500", "d05da737", "Press r to retry"] {
        assert!(out.contains(part), "{part:?} missing: {out}");
    }
    // r fetches again; while it runs the pane no longer blames the old failure.
    let fx = keys(&mut s, &["r"]);
    assert!(fx.contains(&Effect::FetchConversation { user: "dr_morgan".into(), after_id: None }), "{fx:?}");
    assert!(!screen(&s).contains("Could not load"));
    run(&mut s, [Action::ConversationFailed { user: "dr_morgan".into(), reason: reason.into() }]);
    run(&mut s, [Action::ConversationLoaded(conversation())]);
    assert_eq!(s.conv.as_ref().unwrap().load_error, None, "a good fetch clears it");
    assert!(!screen(&s).contains("Could not load"));
}

/// The title's coins are the server's: opening the shop fetches the pet, and its
/// answer redraws the title (the pane was hidden, so no timed refresh had run).
#[test]
fn shop_title_shows_the_servers_coins() {
    let mut s = main_screen(80, 24, Look::default());
    let mut poor = pet();
    poor.coins = 0;
    run(&mut s, [Action::PetLoaded(Some(poor))]);
    keys(&mut s, &["esc"]);
    let fx = keys(&mut s, &["f"]);
    assert!(fx.contains(&Effect::FetchPet), "{fx:?}");
    let mut rich = pet();
    rich.coins = 30;
    let before = frame(&s);
    run(&mut s, [Action::PetLoaded(Some(rich))]);
    assert_ne!(frame(&s), before, "the title must be redrawn");
    let out = screen(&s);
    assert!(out.contains("Pet shop") && out.contains("30 coins"), "{out}");
}

/// An expiry clears only the notice it was meant for: one meant for an older notice
/// draws nothing; the shown notice's own expiry draws it away.
#[test]
fn an_expired_notice_is_drawn_away_and_a_stale_expiry_draws_nothing() {
    let mut s = main_screen(120, 40, Look::default());
    s.notify(NoticeKind::Error, "an older notice");
    let older = s.notice_seq;
    s.notify(NoticeKind::Error, "the notice on screen");
    let current = s.notice_seq;
    let shown = frame(&s);
    assert!(screen(&s).contains("the notice on screen"));
    run(&mut s, [Action::NoticeExpired(older)]);
    assert_eq!(frame(&s), shown, "a stale expiry draws nothing");
    assert_eq!(s.notice.as_ref().map(|n| n.text.as_str()), Some("the notice on screen"));
    run(&mut s, [Action::NoticeExpired(current)]);
    assert!(s.notice.is_none());
    assert_ne!(frame(&s), shown);
    assert!(!screen(&s).contains("the notice on screen"), "the cleared notice must be drawn away");
}

/// Relative times change only with the local day: the minute tick draws nothing
/// until the day turns over.
#[test]
fn a_tick_draws_only_when_the_day_changes() {
    let mut s = main_screen(120, 40, Look::default());
    let before = frame(&s);
    run(&mut s, [Action::Tick(now() + chrono::Duration::minutes(5))]);
    assert_eq!(frame(&s), before, "same day");
    run(&mut s, [Action::Tick(now() + chrono::Duration::hours(8))]);
    assert_ne!(frame(&s), before, "the next day relabels the times");
}

/// The last sync time shows (to the minute) only while the link is degraded: healthy
/// polling and `--quiet-clock` draw nothing on a sync, and a degraded link draws at
/// most once a minute.
#[test]
fn the_sync_time_is_drawn_once_a_minute_at_most_and_only_when_degraded() {
    use crate::app::action::Connection;
    let synced = |secs: i64| Action::Synced(now() + chrono::Duration::seconds(secs));
    let mut s = main_screen(120, 40, Look::default());
    run(&mut s, [Action::ConnectionChanged(Connection::Polling { every_secs: 15 })]);
    let before = frame(&s);
    run(&mut s, [synced(75)]);
    assert_eq!(frame(&s), before, "healthy polling shows no clock");
    run(&mut s, [Action::ConnectionChanged(Connection::Offline { retry_secs: 8 })]);
    let before = frame(&s);
    run(&mut s, [synced(140)]);
    assert_ne!(frame(&s), before);
    assert!(screen(&s).contains("synced 16:32"), "{}", screen(&s));
    let before = frame(&s);
    run(&mut s, [synced(150)]);
    assert_eq!(frame(&s), before, "same minute");
    run(&mut s, [synced(215)]);
    assert_ne!(frame(&s), before, "next minute");
    s.look.quiet_clock = true;
    let before = frame(&s);
    run(&mut s, [synced(300)]);
    assert_eq!(frame(&s), before, "--quiet-clock");
}

/// The timed pet refresh draws nothing when the pet is the same (`last_updated` is
/// not shown), and draws a pet whose stats changed.
#[test]
fn a_pet_refresh_draws_only_what_changed() {
    let mut s = main_screen(120, 30, Look::default());
    let before = frame(&s);
    run(&mut s, [Action::PetRefreshDue(now())]);
    assert_eq!(frame(&s), before, "asking draws nothing");
    let mut same = pet();
    same.last_updated += 60.0;
    run(&mut s, [Action::PetLoaded(Some(same))]);
    assert_eq!(frame(&s), before, "the same pet draws nothing");
    let mut hungrier = pet();
    hungrier.hunger -= 1;
    run(&mut s, [Action::PetLoaded(Some(hungrier))]);
    assert_ne!(frame(&s), before, "a hungrier pet is drawn");
}

/// A blink is drawn (and drawn away) while the pet pane shows; a hidden pet's blink
/// timer draws nothing.
#[test]
fn a_blink_is_drawn_only_while_the_pet_shows() {
    let mut s = main_screen(120, 30, Look::default());
    let mut draws = 0;
    for _ in 0..8 {
        let before = frame(&s);
        run(&mut s, [Action::PetBlink]);
        draws += usize::from(frame(&s) != before);
    }
    assert_eq!(draws, 4, "two blinks, each drawn and drawn away");
    run(&mut s, [Action::Resize(80, 24)]);
    let hidden = frame(&s);
    for _ in 0..8 {
        run(&mut s, [Action::PetBlink]);
        assert_eq!(frame(&s), hidden);
    }
}
