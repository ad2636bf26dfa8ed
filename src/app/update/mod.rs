//! `update(&mut State, Action) -> Vec<Effect>`: the only place state changes. Pure and
//! synchronous: no I/O, no clock, no randomness, so a flow is a list of actions in a test.

#[macro_use]
mod kinds;
mod around;
mod conv;
mod input;
mod pet;
mod results;
mod search;
mod snippets;

use crate::app::action::Action;
use crate::app::effect::Effect;
use crate::app::state::{Confirm, Conversation, NewField, NoticeKind, Overlay, Pane, Search, State};
use crate::model::sanitize::sanitize_line;
use crate::model::waiting::SortMode;

pub use around::{closing, opening, step};
pub use conv::{ensure_visible, merge_messages};
pub use snippets::expand as expand_snippet;

/// Apply one action; return the I/O it calls for.
pub fn update(state: &mut State, action: Action) -> Vec<Effect> {
    let mut fx = Vec::new();
    match action {
        Action::Key(key) => input::key(state, key, &mut fx),
        Action::Paste(text) => input::paste(state, &text),
        Action::Resize(w, h) => {
            state.size = (w, h);
            conv::reanchor(state);
        }
        Action::NoticeExpired(seq) => {
            if state.notice_seq == seq {
                state.notice = None;
            }
        }
        Action::Tick(now) => state.now = now,
        Action::EditorDone { user, text } => match text {
            Some(text) => {
                let text = crate::model::sanitize::sanitize(text.trim_end_matches('\n'));
                let cursor = text.len();
                state.drafts.insert(user.clone(), crate::app::state::Draft { text: text.clone(), cursor });
                fx.push(Effect::SaveDraft { user, text });
            }
            None => state.notify(crate::app::state::NoticeKind::Error, "the editor failed; draft kept"),
        },
        action @ pet_results!() => pet::apply(state, action, &mut fx),
        action @ command_actions!() => command(state, action, &mut fx),
        action @ result_actions!() => results::apply(state, action, &mut fx),
    }
    if state.screen == crate::app::state::Screen::Login {
        // A pet dialog belongs to the session that opened it.
        state.pet_dialog = None;
    }
    fx
}

/// Run a user command (already mapped from a key, or given directly).
pub(crate) fn command(state: &mut State, action: Action, fx: &mut Vec<Effect>) {
    match action {
        Action::Quit => quit(state, fx),
        Action::Help => {
            state.overlay = match state.overlay {
                Overlay::Help { .. } => Overlay::None,
                _ => Overlay::Help { top: 0 },
            }
        }
        Action::NextPane => cycle_pane(state, true, fx),
        Action::PrevPane => cycle_pane(state, false, fx),
        Action::Up | Action::Down | Action::PageUp | Action::PageDown | Action::Top | Action::Bottom => {
            conv::navigate(state, &action, fx)
        }
        Action::Open => open_or_compose(state, fx),
        Action::Compose => compose(state, fx),
        Action::Send => send(state, fx),
        Action::Newline => input::insert(state, "\n"),
        Action::OpenEditor => open_editor(state, fx),
        Action::Snippet => snippets::open(state),
        Action::Cancel => cancel(state, fx),
        Action::Delete => ask_delete(state),
        Action::EditFailed => edit_failed(state, fx),
        Action::DiscardFailed => {
            if let Some(id) = failed_here(state).or_else(|| retrying_here(state)) {
                state.overlay = Overlay::Confirm(Confirm::Discard(id));
            }
        }
        Action::Refresh => refresh(state, fx),
        Action::ToggleUnread => {
            state.inbox.unread_only = !state.inbox.unread_only;
            state.inbox.selected = 0;
            fetch_inbox(state, 1, fx);
        }
        Action::ToggleSort => toggle_sort(state, fx),
        Action::Filter => filter(state),
        Action::NewConversation => {
            state.overlay = Overlay::NewConversation {
                recipient: String::new(),
                subject: String::new(),
                field: NewField::Recipient,
            }
        }
        Action::CommandLine => state.overlay = Overlay::Command(String::new()),
        Action::TogglePet => toggle_pet(state),
        Action::Reconnect => fx.push(Effect::Reconnect),
        Action::Copy => {
            let selected = state.conv.as_ref().and_then(|c| c.messages.get(c.selected));
            if let (Some(text), Pane::Conversation) = (selected.map(|m| m.content.clone()), state.focus) {
                copy(state, &text, fx);
            }
        }
        Action::Feed => pet::open_shop(state, fx),
        Action::NewPet => pet::open_create(state),
        // Confirm/Deny only mean something while a question is up (see input).
        Action::Confirm | Action::Deny => {}
        // Only commands come here: `update` routes by kind and keys map to commands.
        event_actions!() | result_actions!() | pet_results!() => {}
    }
}

/// Enter: in the inbox opens the selected conversation, in a conversation goes to
/// the compose box.
fn open_or_compose(state: &mut State, fx: &mut Vec<Effect>) {
    match state.focus {
        Pane::Inbox => {
            if let Some(user) = state.inbox.selected_entry().map(|e| e.with_user.clone()) {
                open_conversation(state, &user, fx);
            }
        }
        Pane::Conversation => focus_compose(state),
        _ => {}
    }
}

fn compose(state: &mut State, fx: &mut Vec<Effect>) {
    // From the inbox, `i` opens the selected conversation ready to write.
    if state.focus == Pane::Inbox {
        if let Some(user) = state.inbox.selected_entry().map(|e| e.with_user.clone()) {
            open_conversation(state, &user, fx);
        }
    }
    focus_compose(state)
}

fn open_editor(state: &mut State, fx: &mut Vec<Effect>) {
    if let Some(c) = &state.conv {
        let user = c.with_user.clone();
        let text = state.drafts.get(&user).map(|d| d.text.clone()).unwrap_or_default();
        fx.push(Effect::OpenEditor { user, text });
    }
}

fn ask_delete(state: &mut State) {
    let id = state.conv.as_ref().and_then(|c| c.messages.get(c.selected)).map(|m| m.id);
    let shown = state.conv.as_ref().is_some_and(|c| c.show_selection);
    match (id, state.focus) {
        // Never ask about a message the user cannot see selected: show it first.
        (Some(_), Pane::Conversation) if !shown => {
            if let Some(c) = state.conv.as_mut() {
                c.show_selection = true;
            }
        }
        (Some(id), Pane::Conversation) => state.overlay = Overlay::Confirm(Confirm::Delete(id)),
        _ => {}
    }
}

fn toggle_sort(state: &mut State, fx: &mut Vec<Effect>) {
    state.inbox.sort = state.inbox.sort.toggled();
    state.inbox.sort_chosen = true;
    let me = state.me.clone().unwrap_or_default();
    state.inbox.resort(&me);
    walk_inbox(state, fx);
    let label = match state.inbox.sort {
        SortMode::Waiting => "waiting first (longest wait at the top)",
        SortMode::Recent => "newest first",
    };
    state.notify(NoticeKind::Info, format!("inbox: {label}"));
}

/// `/`: inside a conversation searches it, elsewhere filters the inbox by name.
fn filter(state: &mut State) {
    if state.focus == Pane::Conversation && state.conv.is_some() {
        let scope = state.conv.as_ref().map(|c| c.with_user.clone());
        state.overlay = Overlay::Search(Box::new(Search { scope, typing: true, ..Default::default() }));
        return;
    }
    state.overlay = Overlay::Filter;
    state.focus = Pane::Inbox;
    state.inbox.filter.clear();
    state.inbox.selected = 0;
}

fn toggle_pet(state: &mut State) {
    let shown = crate::app::layout::pet_visible(state);
    state.pet_pane = Some(!shown);
    if state.focus == Pane::Pet && shown {
        state.focus = Pane::Inbox;
    }
}

/// Copy `text` to the clipboard (sanitized again: what reaches the terminal is what
/// the screen shows, never an escape sequence), or say that copying is off.
pub(crate) fn copy(state: &mut State, text: &str, fx: &mut Vec<Effect>) {
    if !state.clipboard {
        state.notify(
            crate::app::state::NoticeKind::Info,
            "copying is off (clipboard = \"off\" in config.toml)",
        );
        return;
    }
    let text = crate::model::sanitize::sanitize(text);
    let n = text.chars().count();
    state.notify(
        crate::app::state::NoticeKind::Info,
        format!("copied {n} character{}", if n == 1 { "" } else { "s" }),
    );
    fx.push(Effect::Copy { text });
}

fn quit(state: &mut State, fx: &mut Vec<Effect>) {
    save_current_draft(state, fx);
    state.quit = true;
    fx.push(Effect::Quit);
}

/// Ask for the current draft to be kept on disk.
pub(crate) fn save_current_draft(state: &State, fx: &mut Vec<Effect>) {
    if let Some(c) = &state.conv {
        let text = state.drafts.get(&c.with_user).map(|d| d.text.clone()).unwrap_or_default();
        fx.push(Effect::SaveDraft { user: c.with_user.clone(), text });
    }
}

fn focus_compose(state: &mut State) {
    if state.conv.is_some() {
        state.focus = Pane::Compose;
    }
}

/// Tab and Shift-Tab move between the panes one browses (inbox, conversation, pet),
/// never into the compose box: keys typed after a Tab must not become a message.
/// Writing takes a deliberate `i` or Enter.
fn cycle_pane(state: &mut State, forward: bool, fx: &mut Vec<Effect>) {
    let mut order = vec![Pane::Inbox];
    if state.conv.is_some() {
        order.push(Pane::Conversation);
    }
    if crate::app::layout::pet_visible(state) {
        order.push(Pane::Pet);
    }
    if state.focus == Pane::Compose {
        // Leaving the box by Tab keeps the draft as Esc does.
        save_current_draft(state, fx);
        state.focus = Pane::Conversation;
    }
    let at = order.iter().position(|p| *p == state.focus).unwrap_or(0);
    let n = order.len();
    let next = if forward { (at + 1) % n } else { (at + n - 1) % n };
    state.focus = order[next];
}

fn cancel(state: &mut State, fx: &mut Vec<Effect>) {
    match state.focus {
        Pane::Compose => {
            state.focus = Pane::Conversation;
            save_current_draft(state, fx);
        }
        Pane::Inbox if !state.inbox.filter.is_empty() => {
            state.inbox.filter.clear();
            state.inbox.selected = 0;
        }
        // With one pane at a time, Esc goes back to the inbox, and from the inbox
        // (shown over the open conversation) back to the conversation.
        Pane::Conversation if one_pane_at_a_time(state) => {
            state.focus = Pane::Inbox;
            state.notice = None;
        }
        Pane::Inbox if state.conv.is_some() && one_pane_at_a_time(state) => {
            state.focus = Pane::Conversation;
            state.notice = None;
        }
        _ => state.notice = None,
    }
}

/// What the new-conversation check says about `user` before anything is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recipient {
    /// Someone in the inbox or the cache.
    Known,
    /// The logged-in user: the server refuses messages to yourself.
    Me,
    /// Nobody we have seen: the server decides on the first send.
    Unknown,
}

/// Check a recipient against yourself and the people known from the inbox and cache.
/// The API has no cheap "does this user exist" lookup (an unknown user's conversation
/// is simply empty), so an unknown name is allowed, with a word that it is unknown.
pub fn check_recipient(state: &State, user: &str) -> Recipient {
    let user = user.trim();
    if state.me.as_deref().is_some_and(|me| me.eq_ignore_ascii_case(user)) {
        Recipient::Me
    } else if state.known_users.iter().any(|u| u.eq_ignore_ascii_case(user)) {
        Recipient::Known
    } else {
        Recipient::Unknown
    }
}

/// Start writing to `user` (with an optional subject for the first message); false when
/// refused before anything is written (yourself).
pub(crate) fn start_new_conversation(
    state: &mut State,
    user: &str,
    subject: &str,
    fx: &mut Vec<Effect>,
) -> bool {
    let user = sanitize_line(user).trim().to_owned();
    let check = check_recipient(state, &user);
    if check == Recipient::Me {
        state.notify(
            crate::app::state::NoticeKind::Error,
            format!("{user} is you: messages go to someone else; pick another name"),
        );
        return false;
    }
    open_conversation(state, &user, fx);
    let subject = sanitize_line(subject.trim());
    if let Some(c) = state.conv.as_mut() {
        c.subject = (!subject.is_empty()).then_some(subject);
    }
    state.focus = Pane::Compose;
    if check == Recipient::Unknown {
        state.notify(
            crate::app::state::NoticeKind::Info,
            format!("{user} is not in your conversations; the server decides when you send whether they can get it"),
        );
    }
    true
}

/// The compact and single-pane layouts show the inbox or the conversation, not both.
fn one_pane_at_a_time(state: &State) -> bool {
    !matches!(crate::app::layout::mode_for(state, state.size), crate::app::layout::Mode::Panes)
}

/// Open the conversation with `user` (already sanitized) and fetch it.
pub(crate) fn open_conversation(state: &mut State, user: &str, fx: &mut Vec<Effect>) {
    let mut user = sanitize_line(user).trim().to_owned();
    if user.is_empty() {
        return;
    }
    // Use the spelling the server uses when we know it (`:open Sam` for "sam").
    if let Some(known) = state.known_users.iter().find(|u| u.eq_ignore_ascii_case(&user)) {
        user = known.clone();
    }
    state.focus = Pane::Conversation;
    if state.conv.as_ref().is_some_and(|c| c.with_user == user) {
        return;
    }
    save_current_draft(state, fx);
    state.conv = Some(Conversation::new(&user));
    // The server marks the conversation read when it is fetched.
    if let Some(e) = state.inbox.entries.iter_mut().find(|e| e.with_user == user) {
        state.inbox.total_unread = state.inbox.total_unread.saturating_sub(e.unread);
        e.unread = 0;
    }
    // What the store knew shows at once; the fetch refreshes it.
    fx.push(Effect::LoadConversation { user: user.clone() });
    fx.push(Effect::FetchConversation { user, after_id: None });
}

/// Ask for a page of the inbox, unless the same request is already in flight.
pub(crate) fn fetch_inbox(state: &mut State, page: u32, fx: &mut Vec<Effect>) {
    if state.inbox.loading && page > 1 {
        return;
    }
    state.inbox.loading = true;
    fx.push(Effect::FetchInbox { page, unread_only: state.inbox.unread_only });
}

/// Most inbox pages (of 50) loaded on their own for the waiting order: 1,000
/// conversations in at most 19 requests beyond the first, once per login (after that
/// a conversation with news comes back on the first page), inside production's 50
/// requests per hour on the inbox route. Beyond that, scrolling loads more.
pub(crate) const WALK_PAGES: u32 = 20;

/// In the waiting order every conversation counts (the longest wait may be on the last
/// page): ask for the next page while some are missing, one request at a time.
pub(crate) fn walk_inbox(state: &mut State, fx: &mut Vec<Effect>) {
    let inbox = &state.inbox;
    let missing = (inbox.entries.len() as u32) < inbox.total_conversations;
    let next = inbox.pages_loaded + 1;
    if inbox.sort == crate::model::waiting::SortMode::Waiting
        && missing
        && !inbox.loading
        && !inbox.unread_only
        && inbox.pages_loaded >= 1
        && next <= WALK_PAGES
    {
        fetch_inbox(state, next, fx);
    }
}

fn refresh(state: &mut State, fx: &mut Vec<Effect>) {
    fetch_inbox(state, 1, fx);
    if let Some(c) = state.conv.as_mut() {
        c.loading = true;
        c.load_error = None;
        fx.push(Effect::FetchConversation { user: c.with_user.clone(), after_id: None });
    }
    fx.push(Effect::FetchPet);
}

/// The client id of the refused message held in the open conversation, if any (a
/// refused message holds its conversation's queue, so there is at most one that counts).
fn failed_here(state: &State) -> Option<String> {
    let user = &state.conv.as_ref()?.with_user;
    state
        .pending
        .iter()
        .find(|p| &p.recipient == user && matches!(p.mark, crate::app::state::SendMark::Failed(_)))
        .map(|p| p.client_id.clone())
}

/// The client id of the message in the open conversation that waits out a retry after
/// the server failed it, if any: `D` may discard it too.
fn retrying_here(state: &State) -> Option<String> {
    let user = &state.conv.as_ref()?.with_user;
    state
        .pending
        .iter()
        .find(|p| &p.recipient == user && matches!(p.mark, crate::app::state::SendMark::Retrying { .. }))
        .map(|p| p.client_id.clone())
}

/// `e`: the refused message's text goes back into the compose box; sending it resends
/// that message in its place.
fn edit_failed(state: &mut State, fx: &mut Vec<Effect>) {
    let Some(id) = failed_here(state) else { return };
    let Some(p) = state.pending.iter().find(|p| p.client_id == id).cloned() else { return };
    let d = state.drafts.entry(p.recipient.clone()).or_default();
    if d.text.trim().is_empty() {
        *d = crate::app::state::Draft { cursor: p.content.len(), text: p.content.clone() };
    } else if !d.text.contains(&p.content) {
        let joined = format!("{}\n{}", p.content, d.text);
        *d = crate::app::state::Draft { cursor: joined.len(), text: joined };
    }
    state.editing = Some(id);
    state.focus = Pane::Compose;
    save_current_draft(state, fx);
}

/// A new client id: unique per run (random base) and per message (counter).
fn new_client_id(state: &mut State) -> String {
    state.next_client_id += 1;
    uuid::Uuid::from_u128(state.client_id_base.wrapping_add(u128::from(state.next_client_id))).to_string()
}

fn send(state: &mut State, fx: &mut Vec<Effect>) {
    let Some(conv) = state.conv.as_mut() else { return };
    let user = conv.with_user.clone();
    let Some(draft) = state.drafts.get_mut(&user) else { return };
    let content = draft.text.trim_end().to_owned();
    if content.trim().is_empty() {
        return;
    }
    let chars = content.chars().count();
    if chars > crate::app::state::MESSAGE_LIMIT {
        let limit = crate::app::state::MESSAGE_LIMIT;
        state.notify(
            crate::app::state::NoticeKind::Error,
            format!("too long: {chars} characters, the limit is {limit}; shorten it or split it"),
        );
        return;
    }
    *draft = crate::app::state::Draft::default();
    // Sending means the user wants to see the newest messages, their own included.
    conv.follow = true;
    let editing = state.editing.take().and_then(|id| {
        state.pending.iter_mut().find(|p| {
            p.client_id == id
                && p.recipient == user
                && matches!(p.mark, crate::app::state::SendMark::Failed(_))
        })
    });
    if let Some(p) = editing {
        // The refused message goes again, in its old place, with the new text.
        p.content = content.clone();
        p.mark = crate::app::state::SendMark::Queued;
        fx.push(Effect::Resend { client_id: p.client_id.clone(), recipient: user.clone(), content });
    } else {
        let client_id = new_client_id(state);
        let subject = state.conv.as_mut().and_then(|c| c.subject.take());
        state.pending.push(crate::app::state::Pending {
            client_id: client_id.clone(),
            recipient: user.clone(),
            content: content.clone(),
            subject: subject.clone(),
            mark: crate::app::state::SendMark::Queued,
        });
        fx.push(Effect::Send { client_id, recipient: user.clone(), content, subject });
    }
    fx.push(Effect::SaveDraft { user, text: String::new() });
    if let Some(c) = state.conv.as_mut() {
        conv::to_bottom(c);
    }
}

#[cfg(test)]
mod caseload_tests;
#[cfg(test)]
mod snippet_tests;
#[cfg(test)]
mod tests;
