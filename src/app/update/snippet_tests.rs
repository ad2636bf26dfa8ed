//! Quick replies: the picker (open, filter, insert at the cursor), `:snippet NAME`,
//! `{name}`, and that nothing is ever sent without Enter in the compose box.

use crate::app::action::Action;
use crate::app::effect::Effect;
use crate::app::fixture::*;
use crate::app::state::{Look, NoticeKind, Overlay, Pane, State};

fn with_snippets() -> State {
    let mut s = main_screen(120, 40, Look::default());
    for (name, text) in [
        ("checkin", "Thanks for letting me know, {name}. How are you feeling now?"),
        ("breathing", "Try the 4-7-8 breathing exercise and tell me how it went."),
        ("later", "I'll reply properly this afternoon."),
    ] {
        s.snippets.insert(name.into(), text.into());
    }
    s
}

fn draft(s: &State) -> (String, usize) {
    let d = s.current_draft().cloned().unwrap_or_default();
    (d.text, d.cursor)
}

fn sends(fx: &[Effect]) -> usize {
    fx.iter().filter(|e| matches!(e, Effect::Send { .. } | Effect::Resend { .. })).count()
}

#[test]
fn picker_filters_and_inserts_at_the_cursor_without_sending() {
    let mut s = with_snippets();
    keys(&mut s, &["i"]);
    type_text(&mut s, "Hi. ");
    let mut fx = keys(&mut s, &["ctrl-t"]);
    assert!(matches!(s.overlay, Overlay::Snippets(_)), "{:?}", s.overlay);
    // Typing filters (by name, then by text); Backspace widens again.
    fx.extend(type_text(&mut s, "chk"));
    assert!(s.snippet_matches("chk").is_empty());
    fx.extend(keys(&mut s, &["backspace", "backspace"]));
    let Overlay::Snippets(p) = &s.overlay else { panic!() };
    assert_eq!(p.filter, "c");
    let names: Vec<&str> = s.snippet_matches("c").into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["checkin", "breathing"], "name matches first, then text matches");
    fx.extend(keys(&mut s, &["enter"]));
    assert_eq!(s.overlay, Overlay::None);
    assert_eq!(s.focus, Pane::Compose, "back in the box to edit");
    let (text, cursor) = draft(&s);
    assert_eq!(text, "Hi. Thanks for letting me know, dr_morgan. How are you feeling now?");
    assert_eq!(cursor, text.len());
    assert_eq!(sends(&fx), 0, "a snippet is never sent by picking it");
    // Editable: the cursor moves and typing goes where it is.
    keys(&mut s, &["home"]);
    type_text(&mut s, ">");
    assert!(draft(&s).0.starts_with(">Hi. Thanks"));
    let fx = keys(&mut s, &["enter"]);
    assert_eq!(sends(&fx), 1, "Enter in the compose box sends, once");
}

#[test]
fn picker_moves_and_escape_inserts_nothing() {
    let mut s = with_snippets();
    keys(&mut s, &["i", "ctrl-t", "down", "down", "down", "up"]);
    let Overlay::Snippets(p) = &s.overlay else { panic!() };
    assert_eq!(p.selected, 1, "stops at the last, then moves back");
    let fx = keys(&mut s, &["esc"]);
    assert_eq!(s.overlay, Overlay::None);
    assert_eq!(draft(&s).0, "");
    assert_eq!(s.focus, Pane::Compose);
    assert!(fx.is_empty());
    // Names are in order: breathing, checkin, later; the second is checkin.
    keys(&mut s, &["ctrl-t", "down", "enter"]);
    assert!(draft(&s).0.starts_with("Thanks for letting me know"), "{:?}", draft(&s));
}

#[test]
fn snippet_command_inserts_by_name_or_unique_prefix() {
    let mut s = with_snippets();
    let fx = run(&mut s, [Action::Key(crate::app::keymap::Key::ch(':'))]);
    assert!(fx.is_empty());
    type_text(&mut s, "snippet LAT");
    let fx = keys(&mut s, &["enter"]);
    assert_eq!(draft(&s).0, "I'll reply properly this afternoon.");
    assert_eq!(s.focus, Pane::Compose);
    assert_eq!(sends(&fx), 0);
    keys(&mut s, &["esc", ":"]);
    type_text(&mut s, "snippet nope");
    keys(&mut s, &["enter"]);
    let notice = s.notice.clone().unwrap();
    assert_eq!(notice.kind, NoticeKind::Error);
    assert!(notice.text.contains("breathing, checkin, later"), "{}", notice.text);
}

#[test]
fn without_snippets_or_a_conversation_the_picker_says_why() {
    let mut s = main_screen(120, 40, Look::default());
    keys(&mut s, &["i", "ctrl-t"]);
    assert_eq!(s.overlay, Overlay::None);
    assert!(s.notice.as_ref().unwrap().text.contains("[snippets]"));
    let mut s = clinician(120, 40, Look::default());
    s.snippets.insert("x".into(), "y".into());
    run(&mut s, [Action::Snippet]);
    assert!(s.notice.as_ref().unwrap().text.contains("open a conversation"));
}

#[test]
fn snippet_text_is_sanitized_and_names_the_other_person() {
    assert_eq!(
        crate::app::update::expand_snippet("Hi {name}\r\nbye\u{1b}[2J {name}", "sam"),
        "Hi sam\nbye sam"
    );
}
