//! What effects report back: data from the server (sanitized here, on the way in),
//! refusals, the session ending, the live link's state.

use chrono::{DateTime, Utc};

use crate::app::action::{Action, Connection};
use crate::app::effect::Effect;
use crate::app::state::{
    Draft, InboxEntry, LoginField, NoticeKind, Overlay, Pane, Pending, PetState, Screen, SendMark, State,
    CONVERSATION_PAGE,
};
use crate::model::sanitize::{sanitize, sanitize_line};
use crate::model::time::Timestamp;
use crate::model::types::{ConversationResponse, InboxResponse, Message, Pet, SendResponse};
use crate::model::waiting::{SortMode, WaitHint};

use super::conv;

/// Apply a result action. Every variant is named, results one by one and the rest by
/// kind (see `kinds`): a new result does not compile until it is handled here.
pub(crate) fn apply(state: &mut State, action: Action, fx: &mut Vec<Effect>) {
    match action {
        Action::LoginSucceeded { username, server } => logged_in(state, &username, &server, fx),
        Action::LoginFailed(reason) => login_failed(state, &reason),
        Action::SessionExpired => session_expired(state),
        Action::LoggedOut => logged_out(state),
        Action::InboxLoaded(resp) => inbox_fetched(state, resp, fx),
        Action::CacheLoaded(resp) => inbox_cached(state, resp),
        Action::InboxUnchanged => state.inbox.loading = false,
        Action::RoleKnown(role) => role_known(state, &role, fx),
        Action::WaitHintsLoaded(hints) => wait_hints_loaded(state, hints),
        Action::PollDue => poll_due(state, fx),
        Action::ConversationCached { user, messages } => conversation_cached(state, &user, messages),
        Action::ConversationLoaded(resp) => conversation_loaded(state, resp, fx),
        Action::ConversationUnchanged(user) => conversation_unchanged(state, &user),
        Action::ConversationFailed { user, reason } => conversation_failed(state, &user, &reason),
        Action::MessagesArrived(msgs) => {
            messages_arrived(state, msgs, fx);
            prune_sent(state);
        }
        Action::MessageRead { id, at } => message_read(state, id, at),
        Action::Deleted(id) => deleted(state, id),
        // Deleted elsewhere (pushed): quietly.
        Action::MessageDeleted(id) => remove_message(state, id),
        Action::SearchResults { query, messages } => super::search::results(state, &query, messages),
        Action::SendSucceeded { client_id, response, at } => {
            send_succeeded(state, &client_id, &response, at, fx)
        }
        Action::SendRefused { client_id, reason } => send_refused(state, &client_id, &reason),
        Action::SendProgress { client_id, mark } => send_progress(state, &client_id, mark),
        Action::OutboxLoaded(entries) => outbox_loaded(state, entries),
        Action::DraftsLoaded(saved) => drafts_loaded(state, saved),
        Action::PetLoaded(pet) => pet_loaded(state, pet),
        Action::ConnectionChanged(c) => connection_changed(state, c),
        Action::Synced(at) => state.last_sync = Some(at),
        // Whatever was loading stops quietly: the connection label says why.
        Action::Unreachable => stop_loading(state),
        Action::Failed(text) => failed(state, text),
        Action::Info(text) => state.notify(NoticeKind::Info, text),
        // `update` handles these itself or sends them elsewhere: they never come here.
        command_actions!() | pet_results!() | event_actions!() => {}
    }
}

// Login and session.

/// What a new login leaves of the last account's screen: nothing.
fn forget_account(state: &mut State) {
    state.pending.clear();
    state.editing = None;
    state.inbox = state.inbox.cleared();
    state.conv = None;
    state.focus = Pane::Inbox;
}

fn logged_in(state: &mut State, username: &str, server: &str, fx: &mut Vec<Effect>) {
    let me = sanitize_line(username);
    if state.me.as_ref().is_some_and(|old| *old != me) {
        // Another account (after an expired session): nothing of the last one stays.
        forget_account(state);
    }
    state.me = Some(me);
    state.server = sanitize_line(server);
    state.screen = Screen::Main;
    state.login.busy = false;
    state.login.error = None;
    zeroize::Zeroize::zeroize(&mut state.login.password);
    zeroize::Zeroize::zeroize(&mut state.login.pin);
    state.connection = Connection::Connecting;
    // The cache first (no network), then the refresh.
    fx.push(Effect::LoadCache);
    super::fetch_inbox(state, 1, fx);
    fx.push(Effect::FetchPet);
    if let Some(c) = state.conv.as_mut() {
        c.loading = true;
        fx.push(Effect::FetchConversation { user: c.with_user.clone(), after_id: None });
    }
}

fn login_failed(state: &mut State, reason: &str) {
    // Password and PIN were handed over and cleared: ask for them again.
    state.login.focus = LoginField::Password;
    state.login.busy = false;
    state.login.error = Some(sanitize_line(reason));
}

fn session_expired(state: &mut State) {
    // Drafts, the open conversation and the outbox all stay for after the login.
    state.screen = Screen::Login;
    state.overlay = Overlay::None;
    state.login.busy = false;
    state.login.error = Some("session expired: please log in again".to_owned());
    state.login.focus = LoginField::Password;
    if state.login.username.is_empty() {
        state.login.username = state.me.clone().unwrap_or_default();
    }
    if state.login.server.is_empty() {
        state.login.server = state.server.clone();
    }
    state.connection = Connection::Unknown;
}

fn logged_out(state: &mut State) {
    state.screen = Screen::Login;
    state.me = None;
    // The outbox stays in the account's store; its echoes leave the screen.
    forget_account(state);
    state.pet = PetState::Unknown;
    state.login.busy = false;
    state.login.error = None;
    state.connection = Connection::Unknown;
}

// The inbox.

fn inbox_fetched(state: &mut State, resp: InboxResponse, fx: &mut Vec<Effect>) {
    inbox_loaded(state, resp);
    super::walk_inbox(state, fx);
}

fn inbox_cached(state: &mut State, resp: InboxResponse) {
    // Only before the server's answer: the cache is older than any fetch.
    if state.inbox.pages_loaded > 0 || resp.conversations.is_empty() {
        return;
    }
    let loading = state.inbox.loading;
    inbox_loaded(state, resp);
    state.inbox.loading = loading;
}

fn role_known(state: &mut State, role: &str, fx: &mut Vec<Effect>) {
    if !state.inbox.sort_chosen {
        let sort = SortMode::for_role(role);
        state.inbox.sort = sort;
        let me = state.me.clone().unwrap_or_default();
        state.inbox.resort(&me);
        super::walk_inbox(state, fx);
    }
}

fn wait_hints_loaded(state: &mut State, hints: Vec<(String, WaitHint)>) {
    // Hints learnt here since (messages seen, conversations fetched) are newer.
    for (user, hint) in hints {
        let user = sanitize_line(&user);
        let hint = WaitHint { last_sender: sanitize_line(&hint.last_sender), ..hint };
        let slot = state.inbox.hints.entry(user).or_insert_with(|| hint.clone());
        if hint.last_time > slot.last_time {
            *slot = hint;
        }
    }
    let me = state.me.clone().unwrap_or_default();
    state.inbox.resort(&me);
}

fn poll_due(state: &mut State, fx: &mut Vec<Effect>) {
    if !state.inbox.loading {
        super::fetch_inbox(state, 1, fx);
    }
    if let Some(c) = &state.conv {
        fx.push(Effect::FetchConversation { user: c.with_user.clone(), after_id: c.last_id() });
    }
}

// The open conversation.

fn conversation_cached(state: &mut State, user: &str, messages: Vec<Message>) {
    let user = sanitize_line(user);
    // While the fetch runs, or when it ended with nothing (offline: the failure can
    // beat the cache read), the cache is what there is. After fresh data it is stale.
    let Some(c) = state.conv.as_mut().filter(|c| c.with_user == user && (c.loading || c.messages.is_empty()))
    else {
        return;
    };
    conv::merge_messages(c, messages);
    for m in c.messages.clone() {
        remember_users(state, &m);
    }
    conv::ensure_visible(state);
    prune_sent(state);
    learn_from_open_conversation(state);
}

fn conversation_loaded(state: &mut State, resp: ConversationResponse, fx: &mut Vec<Effect>) {
    let user = sanitize_line(&resp.with_user);
    let matches =
        state.conv.as_ref().is_some_and(|c| user.is_empty() || c.with_user.eq_ignore_ascii_case(&user));
    if !matches {
        return;
    }
    // Adopt the server's spelling of the name (drafts follow it).
    if let Some(c) = state.conv.as_mut().filter(|c| !user.is_empty() && c.with_user != user) {
        if let Some(d) = state.drafts.remove(&c.with_user) {
            state.drafts.insert(user.clone(), d);
        }
        c.with_user = user.clone();
    }
    for m in &resp.messages {
        remember_users(state, m);
    }
    let full_page = resp.messages.len() >= CONVERSATION_PAGE;
    if let Some(c) = state.conv.as_mut() {
        c.loading = false;
        c.load_error = None;
        let fresh = conv::merge_messages(c, resp.messages);
        // The server sends the oldest messages first: a full page means there may
        // be newer ones (a server that ignores `after_id` repeats itself: stop then).
        if full_page && fresh > 0 {
            fx.push(Effect::FetchConversation { user: c.with_user.clone(), after_id: c.last_id() });
        }
    }
    conv::ensure_visible(state);
    prune_sent(state);
    learn_from_open_conversation(state);
}

fn conversation_unchanged(state: &mut State, user: &str) {
    if let Some(c) = state.conv.as_mut().filter(|c| c.with_user == user) {
        c.loading = false;
        c.load_error = None;
    }
}

fn conversation_failed(state: &mut State, user: &str, reason: &str) {
    if let Some(c) = state.conv.as_mut().filter(|c| c.with_user.eq_ignore_ascii_case(user)) {
        c.loading = false;
        c.load_error = Some(sanitize_line(reason));
    }
}

fn message_read(state: &mut State, id: i64, at: Option<DateTime<Utc>>) {
    let Some(c) = state.conv.as_mut() else { return };
    if let Ok(i) = c.messages.binary_search_by_key(&id, |m| m.id) {
        let m = &mut c.messages[i];
        m.is_read = true;
        m.read_at = at.map(Timestamp).or(m.read_at);
    }
}

fn deleted(state: &mut State, id: i64) {
    remove_message(state, id);
    state.notify(NoticeKind::Info, "message deleted");
}

fn remove_message(state: &mut State, id: i64) {
    if let Some(c) = state.conv.as_mut() {
        conv::remove_message(c, id);
    }
    conv::ensure_visible(state);
}

// Sending: the outbox and drafts.

fn send_succeeded(
    state: &mut State,
    client_id: &str,
    response: &SendResponse,
    at: DateTime<Utc>,
    fx: &mut Vec<Effect>,
) {
    let Some(i) = state.pending.iter().position(|p| p.client_id == client_id) else { return };
    let p = state.pending.remove(i);
    if state.editing.as_deref() == Some(client_id) {
        state.editing = None;
    }
    // The server's copy under its id: the real one (push or fetch) replaces it.
    let msg = Message {
        id: response.message_id,
        sender: state.me.clone().unwrap_or_default(),
        recipient: p.recipient.clone(),
        content: p.content,
        subject: p.subject,
        is_read: false,
        read_at: None,
        sent_at: Some(Timestamp(at)),
    };
    messages_arrived(state, vec![msg], fx);
}

fn send_refused(state: &mut State, client_id: &str, reason: &str) {
    let reason = sanitize_line(reason);
    if let Some(p) = state.pending.iter_mut().find(|p| p.client_id == client_id) {
        // The text stays on screen (✗) until the user edits or discards it.
        p.mark = SendMark::Failed(reason.clone());
    }
    state.notify(NoticeKind::Error, format!("not sent: {reason}"));
}

fn send_progress(state: &mut State, client_id: &str, mark: SendMark) {
    let mark = sanitize_mark(mark);
    if let Some(p) = state.pending.iter_mut().find(|p| p.client_id == client_id) {
        p.mark = mark;
    }
}

fn outbox_loaded(state: &mut State, entries: Vec<Pending>) {
    for e in entries {
        let e = Pending {
            recipient: sanitize_line(&e.recipient),
            content: sanitize(&e.content),
            subject: e.subject.map(|s| sanitize_line(&s)),
            mark: sanitize_mark(e.mark),
            client_id: e.client_id,
        };
        match state.pending.iter_mut().find(|p| p.client_id == e.client_id) {
            Some(p) => p.mark = e.mark,
            None => state.pending.push(e),
        }
    }
    prune_sent(state);
}

fn drafts_loaded(state: &mut State, saved: Vec<(String, String)>) {
    // What is in memory is newer than what was on disk.
    for (user, text) in saved {
        let user = sanitize_line(&user);
        let d = state.drafts.entry(user).or_default();
        if d.text.trim().is_empty() {
            let text = sanitize(&text);
            *d = Draft { cursor: text.len(), text };
        }
    }
}

// The pet.

fn pet_loaded(state: &mut State, pet: Option<Pet>) {
    let pet = match pet {
        Some(p) => PetState::Some(Box::new(clean_pet(p))),
        None => PetState::None,
    };
    state.pet = pet;
}

// The link and failures.

fn connection_changed(state: &mut State, c: Connection) {
    // The link brings the start-up inbox; offline, it will not come for now.
    if matches!(c, Connection::Offline { .. }) && state.inbox.loading {
        state.inbox.loading = false;
    }
    state.connection = c;
}

fn failed(state: &mut State, text: String) {
    stop_loading(state);
    state.notify(NoticeKind::Error, text);
}

fn stop_loading(state: &mut State) {
    state.inbox.loading = false;
    if let Some(c) = state.conv.as_mut() {
        c.loading = false;
    }
}

/// The open conversation's messages say who wrote last there: keep that as its hint
/// (unless a newer one is known) and re-sort.
fn learn_from_open_conversation(state: &mut State) {
    let me = state.me.clone().unwrap_or_default();
    let Some(c) = &state.conv else { return };
    let Some(hint) = crate::model::waiting::hint_from_messages(&me, &c.messages) else { return };
    let user = c.with_user.clone();
    let old = state.inbox.hints.get(&user);
    if old.is_some_and(|old| old.last_time > hint.last_time || *old == hint) {
        return;
    }
    state.inbox.hints.insert(user, hint);
    state.inbox.resort(&me);
}

/// Drop the echoes of confirmed messages whose server copy is on screen now.
fn prune_sent(state: &mut State) {
    let Some(c) = state.conv.as_ref() else { return };
    let here = |id: i64| c.messages.binary_search_by_key(&id, |m| m.id).is_ok();
    state.pending.retain(|p| !matches!(p.mark, SendMark::Sent(id) if here(id)));
}

fn remember_users(state: &mut State, m: &Message) {
    for u in [&m.sender, &m.recipient] {
        let u = sanitize_line(u);
        if !u.is_empty() && state.me.as_deref() != Some(u.as_str()) {
            state.known_users.insert(u);
        }
    }
}

fn clean_pet(mut p: Pet) -> Pet {
    p.name = sanitize_line(&p.name);
    p.species = sanitize_line(&p.species);
    p.gender = sanitize_line(&p.gender);
    p.stage = sanitize_line(&p.stage);
    p.hat = sanitize_line(&p.hat);
    p
}

fn inbox_loaded(state: &mut State, resp: InboxResponse) {
    let me = state.me.clone().unwrap_or_default();
    let inbox = &mut state.inbox;
    inbox.loading = false;
    let selected_user = inbox.selected_entry().map(|e| e.with_user.clone());
    let page = resp.page.max(1);
    // A first page that is the whole list replaces it; a first page of a longer list
    // (the live link's refresh) only updates what it holds, so the pages loaded after
    // it stay (a conversation with news comes back to the first page anyway).
    let complete = resp.is_complete_list();
    if complete {
        inbox.entries.clear();
    }
    for s in resp.conversations {
        let entry = InboxEntry {
            with_user: sanitize_line(&s.with_user),
            preview: sanitize_line(&s.last_message),
            last_time: s.last_message_time.map(|t| t.utc()),
            unread: s.unread_count,
            subject: s.subject.map(|x| sanitize_line(&x)).filter(|x| !x.trim().is_empty()),
            last_sender: s.last_sender.map(|x| sanitize_line(&x)).filter(|x| !x.trim().is_empty()),
            waiting_since: None,
        };
        if entry.with_user.is_empty() {
            continue;
        }
        state.known_users.insert(entry.with_user.clone());
        match inbox.entries.iter_mut().find(|e| e.with_user == entry.with_user) {
            Some(old) => *old = entry,
            None => inbox.entries.push(entry),
        }
    }
    // The open conversation is being read right now.
    let mut open_unread = 0;
    if let Some(c) = &state.conv {
        if let Some(e) = inbox.entries.iter_mut().find(|e| e.with_user == c.with_user) {
            open_unread = e.unread;
            e.unread = 0;
        }
    }
    inbox.order_rows(&me);
    if page <= 1 {
        inbox.total_unread = resp.total_unread.saturating_sub(open_unread);
    }
    inbox.pages_loaded = if complete { 1 } else { inbox.pages_loaded.max(page) };
    inbox.total_conversations = resp.total_conversations.max(inbox.entries.len() as u32);
    if let Some(user) = selected_user {
        let found = inbox.visible().position(|e| e.with_user == user);
        if let Some(i) = found {
            inbox.selected = i;
        }
    }
    let count = inbox.visible().count();
    inbox.selected = inbox.selected.min(count.saturating_sub(1));
}

/// New messages from push, poll or our own sends: into the open conversation, the inbox
/// and the unread counts.
fn messages_arrived(state: &mut State, msgs: Vec<Message>, fx: &mut Vec<Effect>) {
    let me = state.me.clone().unwrap_or_default();
    let selected = state.inbox.selected_entry().map(|e| e.with_user.clone());
    for m in msgs {
        let m = conv::clean(m);
        remember_users(state, &m);
        let other = if m.sender == me { m.recipient.clone() } else { m.sender.clone() };
        let from_other = m.sender != me;
        let open_here = state.conv.as_ref().is_some_and(|c| c.with_user == other);
        let known =
            state.conv.as_ref().is_some_and(|c| c.messages.binary_search_by_key(&m.id, |x| x.id).is_ok());
        if open_here {
            let unread = from_other && !m.is_read;
            let up_to = state.conv.as_mut().and_then(|c| {
                conv::merge_messages(c, vec![m.clone()]);
                c.last_id()
            });
            if unread && state.connection == Connection::Live {
                // Pushed: the socket's server has `after_id`, so a burst costs one request.
                fx.retain(|e| !matches!(e, Effect::MarkReadWhenSettled { .. }));
                fx.push(Effect::MarkReadWhenSettled { user: other.clone(), up_to: up_to.unwrap_or(m.id) });
            } else if unread {
                fx.push(Effect::MarkRead { id: m.id });
            }
        }
        if known {
            continue;
        }
        let time = m.sent_at.map(|t| t.utc()).or(Some(state.now));
        let entries = &mut state.inbox.entries;
        let mut entry = match entries.iter().position(|e| e.with_user == other) {
            Some(i) => entries.remove(i),
            None => InboxEntry { with_user: other.clone(), ..Default::default() },
        };
        entry.preview = sanitize_line(&m.content);
        entry.last_time = time;
        entry.last_sender = Some(m.sender.clone());
        // The other person's run goes on from where it began; my answer ends it.
        let run_start = if from_other { entry.waiting_since.or(time) } else { None };
        let hint = WaitHint { last_sender: m.sender.clone(), last_time: time, run_start };
        state.inbox.hints.insert(other.clone(), hint);
        if from_other && !open_here && !m.is_read {
            entry.unread += 1;
            state.inbox.total_unread += 1;
        }
        entries.insert(0, entry);
        state.inbox.total_conversations = state.inbox.total_conversations.max(entries.len() as u32);
    }
    // The same conversation stays selected while rows move.
    state.inbox.order_rows(&me);
    state.inbox.select_user(selected.as_deref());
    conv::ensure_visible(state);
}

/// A mark with the server's words in it made safe for the screen.
fn sanitize_mark(mark: SendMark) -> SendMark {
    match mark {
        SendMark::Failed(r) => SendMark::Failed(sanitize_line(&r)),
        SendMark::Retrying { reason, at, limited } => {
            SendMark::Retrying { reason: sanitize_line(&reason), at, limited }
        }
        m => m,
    }
}
