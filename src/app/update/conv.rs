//! Moving around: the conversation's scroll position (kept as "which message sits at
//! the bottom", so it survives new messages and resizes) and the inbox selection.

use chrono::FixedOffset;

use crate::app::action::Action;
use crate::app::effect::Effect;
use crate::app::layout::{self, message_rows};
use crate::app::state::{Conversation, Pane, State};
use crate::model::sanitize::{sanitize, sanitize_line};
use crate::model::types::Message;

/// The last message index that still fits when `top` is the first one shown.
fn bottom_for_top(c: &Conversation, top: usize, w: usize, h: usize, tz: FixedOffset) -> usize {
    let mut used = 0;
    let mut b = top;
    for i in top..c.messages.len() {
        used += message_rows(c, i, w, tz);
        if used > h {
            break;
        }
        b = i;
    }
    b
}

/// The first message index shown when `bottom` is the last one (only what fits is measured).
pub(crate) fn top_for_bottom(c: &Conversation, bottom: usize, w: usize, h: usize, tz: FixedOffset) -> usize {
    let mut used = 0;
    let mut t = bottom;
    for i in (0..=bottom).rev() {
        used += message_rows(c, i, w, tz);
        if used > h {
            break;
        }
        t = i;
    }
    t
}

/// Scroll so the selected message is in sight; following resumes at the bottom.
pub fn ensure_visible(state: &mut State) {
    let (w, h) = layout::conversation_viewport(state);
    let tz = state.tz;
    let jumps = layout::mode_for(state, state.size) == layout::Mode::Panes;
    let Some(c) = state.conv.as_mut() else { return };
    if c.messages.is_empty() {
        c.selected = 0;
        c.bottom = 0;
        c.follow = true;
        c.unseen = 0;
        c.pinned_top = None;
        return;
    }
    let last = c.messages.len() - 1;
    c.selected = c.selected.min(last);
    c.bottom = if c.follow { last } else { c.bottom.min(last) };
    if c.selected > c.bottom {
        c.bottom = c.selected;
    } else if c.selected < top_for_bottom(c, c.bottom, w, h, tz) {
        c.bottom = bottom_for_top(c, c.selected, w, h, tz);
    }
    c.follow = c.bottom == last;
    if c.follow {
        c.unseen = 0;
    }
    pin_top(c, jumps, w, h, tz);
}

/// Beside the inbox and pet columns the terminal cannot scroll the conversation without
/// dragging those columns along (full-width scrolling), and repainting the pane for every
/// message costs a pane of bytes. So while following there, the pane fills downward from a
/// pinned top message and, once the newest no longer fits, jumps so that the newest ends
/// half way down: most messages then land on empty rows, and a jump is paid once per
/// half pane.
fn pin_top(c: &mut Conversation, jumps: bool, w: usize, h: usize, tz: FixedOffset) {
    if !jumps || !c.follow || c.messages.is_empty() {
        c.pinned_top = None;
        return;
    }
    let last = c.messages.len() - 1;
    let index = |id: i64| match c.messages.binary_search_by_key(&id, |m| m.id) {
        Ok(i) | Err(i) => i.min(last),
    };
    let fits = |top: usize| {
        let mut used = 0;
        (top..=last).all(|i| {
            used += message_rows(c, i, w, tz);
            used <= h
        })
    };
    let top = match c.pinned_top.map(index) {
        Some(top) if fits(top) => top,
        Some(old) => {
            let jump = top_for_bottom(c, last, w, (h / 2).max(1), tz);
            // Never past a message that was not shown whole under the old pin (several
            // arriving at once): it would be gone before it was seen. It stays the top
            // when everything from it fits.
            let mut used = 0;
            let unshown = (old..=last)
                .find(|&i| {
                    used += message_rows(c, i, w, tz);
                    used > h
                })
                .unwrap_or(last);
            (jump.min(unshown)..=last).find(|&t| fits(t)).unwrap_or(last)
        }
        None => top_for_bottom(c, last, w, h, tz),
    };
    c.pinned_top = c.messages.get(top).map(|m| m.id);
}

/// After a resize: the same bottom message, the selection still in sight.
pub(crate) fn reanchor(state: &mut State) {
    ensure_visible(state);
}

/// Jump to the newest message and follow.
pub(crate) fn to_bottom(c: &mut Conversation) {
    c.selected = c.messages.len().saturating_sub(1);
    c.show_selection = false;
    c.bottom = c.selected;
    c.follow = true;
    c.unseen = 0;
}

/// Handle a movement key in the focused pane.
pub(crate) fn navigate(state: &mut State, action: &Action, fx: &mut Vec<Effect>) {
    match state.focus {
        Pane::Inbox => inbox_nav(state, action, fx),
        Pane::Conversation | Pane::Compose => conv_nav(state, action),
        Pane::Pet => {}
    }
}

fn conv_nav(state: &mut State, action: &Action) {
    let (w, h) = layout::conversation_viewport(state);
    let tz = state.tz;
    let Some(c) = state.conv.as_mut() else { return };
    if c.messages.is_empty() {
        return;
    }
    let last = c.messages.len() - 1;
    c.show_selection = !matches!(action, Action::Bottom);
    match action {
        Action::Up => {
            c.selected = c.selected.saturating_sub(1);
            c.follow = c.follow && c.selected == last;
        }
        Action::Down => c.selected = (c.selected + 1).min(last),
        Action::PageUp => {
            let top = top_for_bottom(c, c.bottom, w, h, tz);
            let new_bottom = if top < c.bottom { top } else { c.bottom.saturating_sub(1) };
            c.bottom = new_bottom;
            c.follow = false;
            c.selected = top_for_bottom(c, new_bottom, w, h, tz);
        }
        Action::PageDown => {
            let mut new_bottom = bottom_for_top(c, c.bottom, w, h, tz);
            if new_bottom == c.bottom {
                new_bottom = (c.bottom + 1).min(last);
            }
            c.bottom = new_bottom;
            c.selected = new_bottom;
        }
        Action::Top => {
            c.selected = 0;
            c.follow = false;
            c.bottom = bottom_for_top(c, 0, w, h, tz);
        }
        Action::Bottom => to_bottom(c),
        _ => {}
    }
    if !matches!(action, Action::Bottom) && c.bottom < last {
        c.follow = false;
    }
    ensure_visible(state);
}

fn inbox_nav(state: &mut State, action: &Action, fx: &mut Vec<Effect>) {
    let count = state.inbox.visible().count();
    if count == 0 {
        return;
    }
    let page = layout::inbox_rows(state).max(1);
    let sel = state.inbox.selected.min(count - 1);
    state.inbox.selected = match action {
        Action::Up => sel.saturating_sub(1),
        Action::Down => (sel + 1).min(count - 1),
        Action::PageUp => sel.saturating_sub(page),
        Action::PageDown => (sel + page).min(count - 1),
        Action::Top => 0,
        Action::Bottom => count - 1,
        _ => sel,
    };
    // More pages load as the selection nears the end of what is loaded.
    let loaded = state.inbox.entries.len() as u32;
    if state.inbox.selected + 3 >= count && loaded < state.inbox.total_conversations && !state.inbox.loading {
        let next = state.inbox.pages_loaded + 1;
        super::fetch_inbox(state, next, fx);
    }
}

/// Clean a message from outside before it is stored.
pub(crate) fn clean(mut m: Message) -> Message {
    m.sender = sanitize_line(&m.sender);
    m.recipient = sanitize_line(&m.recipient);
    m.content = sanitize(&m.content);
    m.subject = m.subject.map(|s| sanitize_line(&s)).filter(|s| !s.trim().is_empty());
    m
}

/// Merge messages into a conversation by id (the same message twice is one message);
/// returns how many are newer than what was there. Keeps the view where it was unless
/// following, and counts news arriving below a scrolled-up view.
pub fn merge_messages(c: &mut Conversation, incoming: Vec<Message>) -> usize {
    let was_empty = c.messages.is_empty();
    let old_last = c.last_id();
    let sel_id = c.messages.get(c.selected).map(|m| m.id);
    let bottom_id = c.messages.get(c.bottom).map(|m| m.id);
    let sel_was_last = c.selected + 1 >= c.messages.len();
    let mut fresh = 0;
    if was_empty {
        c.messages = incoming.into_iter().map(clean).collect();
        c.messages.sort_by_key(|m| m.id);
        c.messages.dedup_by_key(|m| m.id);
        fresh = c.messages.len();
    } else {
        for m in incoming {
            let m = clean(m);
            match c.messages.binary_search_by_key(&m.id, |x| x.id) {
                Ok(i) => c.messages[i] = m,
                Err(i) => {
                    if old_last.is_none_or(|last| m.id > last) {
                        fresh += 1;
                    }
                    c.messages.insert(i, m);
                }
            }
        }
    }
    let index_of = |id: Option<i64>, msgs: &[Message]| match id {
        Some(id) => match msgs.binary_search_by_key(&id, |x| x.id) {
            Ok(i) | Err(i) => i.min(msgs.len().saturating_sub(1)),
        },
        None => msgs.len().saturating_sub(1),
    };
    let last = c.messages.len().saturating_sub(1);
    if was_empty || (c.follow && sel_was_last) {
        c.selected = last;
    } else {
        c.selected = index_of(sel_id, &c.messages);
    }
    if was_empty || c.follow {
        c.bottom = last;
    } else {
        c.bottom = index_of(bottom_id, &c.messages);
        c.unseen += fresh;
    }
    fresh
}

/// Remove a message by id, keeping the view steady.
pub(crate) fn remove_message(c: &mut Conversation, id: i64) {
    let Ok(i) = c.messages.binary_search_by_key(&id, |m| m.id) else { return };
    c.messages.remove(i);
    if c.selected > i || c.selected >= c.messages.len() {
        c.selected = c.selected.saturating_sub(1);
    }
    if c.bottom > i || c.bottom >= c.messages.len() {
        c.bottom = c.bottom.saturating_sub(1);
    }
}
