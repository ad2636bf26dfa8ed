//! Quick replies: named snippets from `config.toml`, picked in the compose box (a key
//! opens the picker; typing filters; Enter inserts at the cursor) or by `:snippet NAME`.
//! A snippet only ever becomes draft text to edit: sending still takes Enter.

use crate::app::keymap::{Key, KeyCode};
use crate::app::state::{NoticeKind, Overlay, Pane, SnippetPicker, State};

/// The snippet's text for the open conversation: `{name}` becomes the other person's
/// username; line endings are normalised and the text sanitized like a paste.
pub fn expand(text: &str, with_user: &str) -> String {
    let text = text.replace("\r\n", "\n").replace('\r', "\n").replace("{name}", with_user);
    crate::model::sanitize::sanitize(&text)
}

/// Open the picker over the compose box of the open conversation.
pub(crate) fn open(state: &mut State) {
    if state.conv.is_none() {
        state.notify(NoticeKind::Error, "open a conversation first (quick replies go into its compose box)");
        return;
    }
    if state.snippets.is_empty() {
        state.notify(NoticeKind::Error, "no quick replies yet: add a [snippets] table to config.toml");
        return;
    }
    state.focus = Pane::Compose;
    state.overlay = Overlay::Snippets(SnippetPicker::default());
}

/// A key while the picker is up.
pub(crate) fn key(state: &mut State, key: Key, mut picker: SnippetPicker) {
    let count = state.snippet_matches(&picker.filter).len();
    match key.code {
        KeyCode::Esc => {
            state.overlay = Overlay::None;
            return;
        }
        KeyCode::Enter => {
            let chosen =
                state.snippet_matches(&picker.filter).get(picker.selected).map(|(n, _)| n.to_string());
            state.overlay = Overlay::None;
            if let Some(name) = chosen {
                insert(state, &name);
            }
            return;
        }
        KeyCode::Up => picker.selected = picker.selected.saturating_sub(1),
        KeyCode::Down => picker.selected = (picker.selected + 1).min(count.saturating_sub(1)),
        _ => {
            if super::input::edit_line(&mut picker.filter, key) {
                picker.selected = 0;
            }
        }
    }
    state.overlay = Overlay::Snippets(picker);
}

/// `:snippet NAME`: the snippet of that name (any case), or the only one starting with
/// it; without a name, the picker.
pub(crate) fn by_name(state: &mut State, name: &str) {
    if name.is_empty() {
        open(state);
        return;
    }
    let lower = name.to_lowercase();
    let exact = state.snippets.keys().find(|k| k.to_lowercase() == lower).cloned();
    let prefixed: Vec<String> =
        state.snippets.keys().filter(|k| k.to_lowercase().starts_with(&lower)).cloned().collect();
    let found = exact.or_else(|| (prefixed.len() == 1).then(|| prefixed[0].clone()));
    match found {
        Some(name) if state.conv.is_some() => {
            insert(state, &name);
        }
        Some(_) => open(state),
        None => {
            let names: Vec<&str> = state.snippets.keys().map(String::as_str).collect();
            let known = if names.is_empty() { "none in config.toml".to_owned() } else { names.join(", ") };
            let name = crate::model::sanitize::sanitize_line(name);
            state.notify(NoticeKind::Error, format!("no quick reply named {name:?} (known: {known})"));
        }
    }
}

/// Insert the snippet `name` at the compose cursor and put the user in the box to edit.
fn insert(state: &mut State, name: &str) {
    let Some(user) = state.conv.as_ref().map(|c| c.with_user.clone()) else { return };
    let Some(text) = state.snippets.get(name).map(|t| expand(t, &user)) else { return };
    state.focus = Pane::Compose;
    super::input::insert(state, &text);
}
