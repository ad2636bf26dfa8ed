//! What effects report back: data from the server (sanitized here, on the way in),
//! refusals, the session ending, the live link's state.

use crate::api::types::{Message, Pet};
use crate::app::action::{Action, Connection};
use crate::app::effect::Effect;
use crate::app::state::{Draft, InboxEntry, NoticeKind, Pane, Pending, PetState, Screen, SendMark, State};
use crate::sanitize::sanitize_line;

use super::conv;

/// Apply a result action.
pub(crate) fn apply(state: &mut State, action: Action, fx: &mut Vec<Effect>) {
    state.dirty = true;
    match action {
        Action::LoginSucceeded { username, server } => {
            let me = sanitize_line(&username);
            if state.me.as_ref().is_some_and(|old| *old != me) {
                // Another account (after an expired session): nothing of the last one stays.
                state.pending.clear();
                state.editing = None;
                state.inbox = Default::default();
                state.conv = None;
                state.focus = Pane::Inbox;
            }
            state.me = Some(me);
            state.server = sanitize_line(&server);
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
        Action::LoginFailed(reason) => {
            // Password and PIN were handed over and cleared: ask for them again.
            state.login.focus = crate::app::state::LoginField::Password;
            state.login.busy = false;
            state.login.error = Some(sanitize_line(&reason));
        }
        Action::SessionExpired => {
            // Drafts, the open conversation and the outbox all stay for after the login.
            state.screen = Screen::Login;
            state.overlay = crate::app::state::Overlay::None;
            state.login.busy = false;
            state.login.error = Some("session expired: please log in again".to_owned());
            state.login.focus = crate::app::state::LoginField::Password;
            if state.login.username.is_empty() {
                state.login.username = state.me.clone().unwrap_or_default();
            }
            if state.login.server.is_empty() {
                state.login.server = state.server.clone();
            }
            state.connection = Connection::Unknown;
        }
        Action::LoggedOut => {
            state.screen = Screen::Login;
            state.me = None;
            // The outbox stays in the account's store; its echoes leave the screen.
            state.pending.clear();
            state.editing = None;
            state.inbox = Default::default();
            state.conv = None;
            state.pet = PetState::Unknown;
            state.focus = Pane::Inbox;
            state.login.busy = false;
            state.login.error = None;
            state.connection = Connection::Unknown;
        }
        Action::InboxLoaded(resp) => {
            let before = state.inbox.clone();
            inbox_loaded(state, resp);
            state.dirty = state.inbox != before;
        }
        Action::CacheLoaded(resp) => {
            // Only before the server's answer: the cache is older than any fetch.
            if state.inbox.pages_loaded > 0 || resp.conversations.is_empty() {
                state.dirty = false;
                return;
            }
            let loading = state.inbox.loading;
            inbox_loaded(state, resp);
            state.inbox.loading = loading;
        }
        Action::ConversationCached { user, messages } => {
            let user = sanitize_line(&user);
            // While the fetch runs, or when it ended with nothing (offline: the failure can
            // beat the cache read), the cache is what there is. After fresh data it is stale.
            let Some(c) =
                state.conv.as_mut().filter(|c| c.with_user == user && (c.loading || c.messages.is_empty()))
            else {
                state.dirty = false;
                return;
            };
            let (_, changed) = conv::merge_messages(c, messages);
            for m in c.messages.clone() {
                remember_users(state, &m);
            }
            conv::ensure_visible(state);
            prune_sent(state);
            state.dirty = changed;
        }
        Action::InboxUnchanged => {
            state.dirty = state.inbox.loading;
            state.inbox.loading = false;
        }
        Action::ConversationUnchanged(user) => {
            state.dirty = false;
            if let Some(c) = state.conv.as_mut().filter(|c| c.with_user == user) {
                state.dirty = c.loading;
                c.loading = false;
            }
        }
        Action::PollDue => {
            state.dirty = false;
            if !state.inbox.loading {
                super::fetch_inbox(state, 1, fx);
            }
            if let Some(c) = &state.conv {
                fx.push(Effect::FetchConversation { user: c.with_user.clone(), after_id: c.last_id() });
            }
        }
        Action::ConversationLoaded(resp) => {
            let user = sanitize_line(&resp.with_user);
            let matches = state
                .conv
                .as_ref()
                .is_some_and(|c| user.is_empty() || c.with_user.eq_ignore_ascii_case(&user));
            if !matches {
                state.dirty = false;
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
            let mut changed = false;
            let full_page = resp.messages.len() >= crate::app::state::CONVERSATION_PAGE;
            if let Some(c) = state.conv.as_mut() {
                changed = c.loading;
                c.loading = false;
                let (fresh, merged) = conv::merge_messages(c, resp.messages);
                changed |= merged;
                // The server sends the oldest messages first: a full page means there may
                // be newer ones (a server that ignores `after_id` repeats itself: stop then).
                if full_page && fresh > 0 {
                    fx.push(Effect::FetchConversation { user: c.with_user.clone(), after_id: c.last_id() });
                }
            }
            conv::ensure_visible(state);
            prune_sent(state);
            state.dirty = changed;
        }
        Action::SendSucceeded { client_id, response } => {
            let Some(i) = state.pending.iter().position(|p| p.client_id == client_id) else {
                state.dirty = false;
                return;
            };
            let p = state.pending.remove(i);
            if state.editing.as_ref() == Some(&client_id) {
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
                sent_at: Some(crate::api::time::Timestamp(state.now)),
            };
            messages_arrived(state, vec![msg], fx);
        }
        Action::SendRefused { client_id, reason } => {
            let reason = sanitize_line(&reason);
            if let Some(p) = state.pending.iter_mut().find(|p| p.client_id == client_id) {
                // The text stays on screen (✗) until the user edits or discards it.
                p.mark = SendMark::Failed(reason.clone());
            }
            state.notify(NoticeKind::Error, format!("not sent: {reason}"));
        }
        Action::SendProgress { client_id, mark } => {
            let found = state.pending.iter_mut().find(|p| p.client_id == client_id);
            match found {
                Some(p) if p.mark != mark => p.mark = mark,
                _ => state.dirty = false,
            }
        }
        Action::OutboxLoaded(entries) => {
            for e in entries {
                let e = Pending {
                    recipient: sanitize_line(&e.recipient),
                    content: crate::sanitize::sanitize(&e.content),
                    subject: e.subject.map(|s| sanitize_line(&s)),
                    mark: match e.mark {
                        SendMark::Failed(r) => SendMark::Failed(sanitize_line(&r)),
                        m => m,
                    },
                    client_id: e.client_id,
                };
                match state.pending.iter_mut().find(|p| p.client_id == e.client_id) {
                    Some(p) => p.mark = e.mark,
                    None => state.pending.push(e),
                }
            }
            prune_sent(state);
        }
        Action::SearchResults { query, messages } => super::search::results(state, &query, messages),
        Action::Deleted(id) => {
            if let Some(c) = state.conv.as_mut() {
                conv::remove_message(c, id);
            }
            conv::ensure_visible(state);
            state.notify(NoticeKind::Info, "message deleted");
        }
        Action::MessagesArrived(msgs) => {
            messages_arrived(state, msgs, fx);
            prune_sent(state);
        }
        Action::DraftsLoaded(saved) => {
            // What is in memory is newer than what was on disk.
            for (user, text) in saved {
                let user = sanitize_line(&user);
                let d = state.drafts.entry(user).or_default();
                if d.text.trim().is_empty() {
                    let text = crate::sanitize::sanitize(&text);
                    *d = Draft { cursor: text.len(), text };
                }
            }
        }
        Action::Info(text) => state.notify(NoticeKind::Info, text),
        Action::MessageDeleted(id) => {
            let removed = state.conv.as_mut().is_some_and(|c| conv::remove_message(c, id));
            conv::ensure_visible(state);
            state.dirty = removed;
        }
        Action::Synced(at) => {
            // Shown (to the minute) only while the link is degraded, where it matters:
            // a healthy idle client must write nothing.
            let shown = |t: Option<chrono::DateTime<chrono::Utc>>| t.map(|t| t.timestamp() / 60);
            state.dirty =
                crate::ui::status::shows_sync_time(state) && shown(state.last_sync) != shown(Some(at));
            state.last_sync = Some(at);
        }
        Action::MessageRead { id, at } => {
            let found = state.conv.as_mut().and_then(|c| {
                let i = c.messages.binary_search_by_key(&id, |m| m.id).ok()?;
                let m = &mut c.messages[i];
                m.is_read = true;
                m.read_at = at.map(crate::api::time::Timestamp).or(m.read_at);
                Some(())
            });
            state.dirty = found.is_some();
        }
        Action::PetLoaded(pet) => {
            let pet = match pet {
                Some(p) => PetState::Some(Box::new(clean_pet(p))),
                None => PetState::None,
            };
            // The 60 s refresh must not redraw an unchanged pet (`last_updated` is not drawn).
            state.dirty = match (&state.pet, &pet) {
                (PetState::Some(a), PetState::Some(b)) => {
                    Pet { last_updated: 0.0, ..(**a).clone() } != Pet { last_updated: 0.0, ..(**b).clone() }
                }
                (a, b) => a != b,
            };
            state.pet = pet;
        }
        Action::ConnectionChanged(c) => {
            state.dirty = state.connection != c;
            state.connection = c;
        }
        Action::Unreachable => {
            let was_loading = state.inbox.loading || state.conv.as_ref().is_some_and(|c| c.loading);
            state.inbox.loading = false;
            if let Some(c) = state.conv.as_mut() {
                c.loading = false;
            }
            state.dirty = was_loading;
        }
        Action::Failed(text) => {
            let before = state.notice.clone();
            state.inbox.loading = false;
            if let Some(c) = state.conv.as_mut() {
                c.loading = false;
            }
            state.notify(NoticeKind::Error, text);
            state.dirty = state.notice != before;
        }
        _ => state.dirty = false,
    }
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

fn inbox_loaded(state: &mut State, resp: crate::api::types::InboxResponse) {
    let inbox = &mut state.inbox;
    inbox.loading = false;
    let selected_user = inbox.selected_entry().map(|e| e.with_user.clone());
    let page = resp.page.max(1);
    if page <= 1 {
        inbox.entries.clear();
    }
    for s in resp.conversations {
        let entry = InboxEntry {
            with_user: sanitize_line(&s.with_user),
            preview: sanitize_line(&s.last_message),
            last_time: s.last_message_time.map(|t| t.utc()),
            unread: s.unread_count,
            subject: s.subject.map(|x| sanitize_line(&x)).filter(|x| !x.trim().is_empty()),
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
    inbox.entries.sort_by_key(|e| std::cmp::Reverse(e.last_time));
    if page <= 1 {
        inbox.total_unread = resp.total_unread.saturating_sub(open_unread);
    }
    inbox.pages_loaded = page;
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
        if from_other && !open_here && !m.is_read {
            entry.unread += 1;
            state.inbox.total_unread += 1;
        }
        entries.insert(0, entry);
        state.inbox.total_conversations = state.inbox.total_conversations.max(entries.len() as u32);
    }
    conv::ensure_visible(state);
}
