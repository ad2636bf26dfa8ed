//! Search: `/` inside a conversation searches it, `:search TEXT` searches every cached
//! message (and the server, when it offers search); Enter on a result opens its
//! conversation at that message.

use crate::app::action::Action;
use crate::app::effect::Effect;
use crate::app::keymap::{Context, Key, KeyCode};
use crate::app::state::{Overlay, Pane, Search, State};
use crate::model::sanitize::sanitize_line;
use crate::model::types::Message;

use super::conv;

/// Run a search for `query` (in `scope`, or everywhere) and show the overlay.
pub(crate) fn start(state: &mut State, query: &str, scope: Option<String>, fx: &mut Vec<Effect>) {
    let query = sanitize_line(query).trim().to_owned();
    if query.is_empty() {
        return;
    }
    fx.push(Effect::Search { query: query.clone(), scope: scope.clone() });
    state.overlay = Overlay::Search(Box::new(Search { query, scope, ..Default::default() }));
}

/// Results arrived: shown if they answer the search on screen (merged by id, newest first).
pub(crate) fn results(state: &mut State, query: &str, messages: Vec<Message>) {
    let Overlay::Search(search) = &mut state.overlay else {
        return;
    };
    if search.query != query || search.typing {
        return;
    }
    let scope = search.scope.clone();
    let me = state.me.clone().unwrap_or_default();
    let selected_id = search.results.get(search.selected).map(|m| m.id);
    for m in messages.into_iter().map(conv::clean) {
        if let Some(user) = &scope {
            let peer = if m.sender == me { &m.recipient } else { &m.sender };
            if !peer.eq_ignore_ascii_case(user) {
                continue;
            }
        }
        match search.results.iter_mut().find(|r| r.id == m.id) {
            Some(r) => *r = m,
            None => search.results.push(m),
        }
    }
    search.results.sort_by_key(|m| std::cmp::Reverse(m.id));
    search.selected = selected_id
        .and_then(|id| search.results.iter().position(|m| m.id == id))
        .unwrap_or(0)
        .min(search.results.len().saturating_sub(1));
    search.searched = true;
}

/// A key while the search overlay is up.
pub(crate) fn key(state: &mut State, key: Key, mut search: Search, fx: &mut Vec<Effect>) {
    if key.code == KeyCode::Esc {
        state.overlay = Overlay::None;
        return;
    }
    if search.typing {
        if key.code == KeyCode::Enter {
            start(state, &search.query, search.scope.clone(), fx);
            if search.query.trim().is_empty() {
                state.overlay = Overlay::None;
            }
            return;
        }
        super::input::edit_line(&mut search.query, key);
        state.overlay = Overlay::Search(Box::new(search));
        return;
    }
    let last = search.results.len().saturating_sub(1);
    match (key.code, key.typed_char()) {
        (KeyCode::Up, _) | (_, Some('k')) => search.selected = search.selected.saturating_sub(1),
        (KeyCode::Down, _) | (_, Some('j')) => search.selected = (search.selected + 1).min(last),
        (_, Some('/')) => {
            search.typing = true;
            search.query.clear();
            search.results.clear();
            search.searched = false;
        }
        _ if state.keymap.lookup(key, Context::Normal) == Some(&Action::Copy) => {
            if let Some(text) = search.results.get(search.selected).map(|m| m.content.clone()) {
                super::copy(state, &text, fx);
            }
        }
        (KeyCode::Enter, _) => {
            state.overlay = Overlay::None;
            if let Some(m) = search.results.get(search.selected).cloned() {
                open_at(state, m, fx);
            }
            return;
        }
        _ => {}
    }
    state.overlay = Overlay::Search(Box::new(search));
}

/// Open the conversation of `m` with `m` selected (merged in, in case it is older than
/// what the conversation has loaded).
fn open_at(state: &mut State, m: Message, fx: &mut Vec<Effect>) {
    let me = state.me.clone().unwrap_or_default();
    let other = if m.sender == me { m.recipient.clone() } else { m.sender.clone() };
    super::open_conversation(state, &other, fx);
    let id = m.id;
    if let Some(c) = state.conv.as_mut() {
        conv::merge_messages(c, vec![m]);
        if let Ok(i) = c.messages.binary_search_by_key(&id, |x| x.id) {
            c.selected = i;
            c.show_selection = true;
            c.bottom = i;
            c.follow = false;
        }
    }
    state.focus = Pane::Conversation;
    conv::ensure_visible(state);
    // Stay on the result when newer messages load (even if it is the only one so far).
    if let Some(c) = state.conv.as_mut() {
        c.follow = false;
    }
}
