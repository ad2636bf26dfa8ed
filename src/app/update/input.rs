//! Keys: typed into whichever text field has them (login form, compose box, command
//! line, filter, dialogs), or looked up in the keymap and run as commands.

use crate::app::action::Action;
use crate::app::effect::{Effect, Secret};
use crate::app::keymap::{Context, Key, KeyCode};
use crate::app::state::{LoginField, NewField, NoticeKind, Overlay, Pane, Screen, State};

/// Handle one key press.
pub(crate) fn key(state: &mut State, key: Key, fx: &mut Vec<Effect>) {
    // A notice lasts until the next key.
    state.notice = None;
    if key == Key::ctrl('c') {
        super::command(state, Action::Quit, fx);
        return;
    }
    if state.screen == Screen::Login {
        login_key(state, key, fx);
        return;
    }
    if state.pet_dialog.is_some() {
        super::pet::key(state, key, fx);
        return;
    }
    match state.overlay.clone() {
        Overlay::None => {}
        Overlay::Help { top } => {
            help_key(state, key, top);
            return;
        }
        Overlay::Confirm(what) => {
            confirm_key(state, key, what, fx);
            return;
        }
        Overlay::Command(line) => {
            command_key(state, key, line, fx);
            return;
        }
        Overlay::Filter => {
            filter_key(state, key, fx);
            return;
        }
        Overlay::Search(search) => {
            super::search::key(state, key, *search, fx);
            return;
        }
        Overlay::NewConversation { recipient, subject, field } => {
            new_conv_key(state, key, recipient, subject, field, fx);
            return;
        }
        Overlay::Snippets(picker) => {
            super::snippets::key(state, key, picker);
            return;
        }
    }
    if state.focus == Pane::Compose {
        if let Some(action) = state.keymap.lookup(key, Context::Compose).cloned() {
            super::command(state, action, fx);
        } else {
            edit_draft(state, key);
        }
        return;
    }
    if let Some(action) = state.keymap.lookup(key, Context::Normal).cloned() {
        super::command(state, action, fx);
    }
}

/// Keys while the help is up: the browsing keys scroll it; help, back and quit close
/// it; any other key does nothing (so a stray key cannot hide what is being read).
fn help_key(state: &mut State, key: Key, top: usize) {
    let max = crate::app::help::max_top(&state.keymap, &state.snippets, state.size);
    let page = crate::app::help::page(&state.keymap, &state.snippets, state.size);
    let top = top.min(max);
    let new_top = match state.keymap.lookup(key, Context::Normal) {
        Some(Action::Help | Action::Cancel | Action::Quit) => {
            state.overlay = Overlay::None;
            return;
        }
        Some(Action::Up) => top.saturating_sub(1),
        Some(Action::Down) => (top + 1).min(max),
        Some(Action::PageUp) => top.saturating_sub(page),
        Some(Action::PageDown) => (top + page).min(max),
        Some(Action::Top) => 0,
        Some(Action::Bottom) => max,
        _ => match key.code {
            KeyCode::Home => 0,
            KeyCode::End => max,
            _ => top,
        },
    };
    if new_top != top {
        state.overlay = Overlay::Help { top: new_top };
    }
}

/// Edit a single-line field; true when the key was an edit.
pub(crate) fn edit_line(field: &mut String, key: Key) -> bool {
    match (key.typed_char(), key.code) {
        (Some(c), _) => {
            field.push(c);
            true
        }
        (None, KeyCode::Backspace) => {
            field.pop();
            true
        }
        _ => false,
    }
}

fn login_key(state: &mut State, key: Key, fx: &mut Vec<Effect>) {
    let form = &mut state.login;
    match key.code {
        KeyCode::Tab | KeyCode::Down => form.focus = form.focus.next(),
        KeyCode::BackTab | KeyCode::Up => form.focus = form.focus.prev(),
        // Esc first dismisses a complaint; on a clean form it leaves.
        KeyCode::Esc if form.error.is_some() => form.error = None,
        KeyCode::Esc => super::command(state, Action::Quit, fx),
        KeyCode::Enter => submit_login(state, fx),
        KeyCode::Char(' ') if form.focus == LoginField::Remember => form.remember = !form.remember,
        _ if form.busy => {}
        _ => {
            let field = match form.focus {
                LoginField::Server => &mut form.server,
                LoginField::Username => &mut form.username,
                LoginField::Password => &mut form.password,
                LoginField::Pin => &mut form.pin,
                LoginField::Remember => return,
            };
            edit_line(field, key);
        }
    }
}

fn submit_login(state: &mut State, fx: &mut Vec<Effect>) {
    let form = &mut state.login;
    if form.busy {
        return;
    }
    let missing = [
        (form.server.trim().is_empty(), "server", LoginField::Server),
        (form.username.trim().is_empty(), "username", LoginField::Username),
        (form.password.is_empty(), "password", LoginField::Password),
        (form.pin.is_empty(), "PIN", LoginField::Pin),
    ]
    .into_iter()
    .find(|(empty, _, _)| *empty);
    if let Some((_, name, field)) = missing {
        form.error = Some(format!("please enter your {name}"));
        form.focus = field;
        return;
    }
    form.error = None;
    form.busy = true;
    fx.push(Effect::Login {
        server: form.server.trim().to_owned(),
        username: form.username.trim().to_owned(),
        password: Secret(std::mem::take(&mut form.password)),
        pin: Secret(std::mem::take(&mut form.pin)),
        remember: form.remember,
    });
}

fn confirm_key(state: &mut State, key: Key, what: crate::app::state::Confirm, fx: &mut Vec<Effect>) {
    let yes = matches!(key.code, KeyCode::Char('y' | 'Y') | KeyCode::Enter);
    let no = matches!(key.code, KeyCode::Char('n' | 'N') | KeyCode::Esc);
    if yes {
        match what {
            crate::app::state::Confirm::Delete(id) => fx.push(Effect::Delete { id }),
            crate::app::state::Confirm::Discard(client_id) => {
                state.pending.retain(|p| p.client_id != client_id);
                if state.editing.as_ref() == Some(&client_id) {
                    state.editing = None;
                }
                fx.push(Effect::Discard { client_id });
            }
        }
    }
    if yes || no {
        state.overlay = Overlay::None;
    }
}

fn command_key(state: &mut State, key: Key, mut line: String, fx: &mut Vec<Effect>) {
    match key.code {
        KeyCode::Esc => state.overlay = Overlay::None,
        KeyCode::Enter => {
            state.overlay = Overlay::None;
            run_command_line(state, &line, fx);
        }
        KeyCode::Backspace if line.is_empty() => state.overlay = Overlay::None,
        _ => {
            if edit_line(&mut line, key) {
                state.overlay = Overlay::Command(line);
            }
        }
    }
}

/// A `:` command: its name, its short form, and what it takes (for the hints).
pub(crate) struct CommandSpec {
    /// The full name (`open`).
    pub name: &'static str,
    /// The short form (`o`), if any.
    pub short: Option<&'static str>,
    /// What must follow the name, in words (`a user name`), if anything.
    pub needs: Option<&'static str>,
}

/// Every `:` command. The unknown-command hint is made from this table, so it names
/// every command there is.
pub(crate) const COMMANDS: &[CommandSpec] = &[
    CommandSpec { name: "open", short: Some("o"), needs: Some("a user name") },
    CommandSpec { name: "new", short: Some("n"), needs: Some("a user name") },
    CommandSpec { name: "search", short: Some("s"), needs: Some("some text") },
    CommandSpec { name: "snippet", short: Some("sn"), needs: None },
    CommandSpec { name: "help", short: None, needs: None },
    CommandSpec { name: "logout", short: None, needs: None },
    CommandSpec { name: "quit", short: Some("q"), needs: None },
];

/// The commands as a hint: `:open :new …` (names only, to fit one line at 80 columns).
fn commands_hint() -> String {
    COMMANDS.iter().map(|c| format!(":{}", c.name)).collect::<Vec<_>>().join(" ")
}

/// Run a `:` command.
pub(crate) fn run_command_line(state: &mut State, line: &str, fx: &mut Vec<Effect>) {
    let line = line.trim();
    let (cmd, arg) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
    let arg = arg.trim();
    if cmd.is_empty() {
        return;
    }
    let Some(spec) = COMMANDS.iter().find(|c| c.name == cmd || c.short == Some(cmd)) else {
        let other = crate::model::sanitize::sanitize_line(cmd);
        state.notify(NoticeKind::Error, format!(":{other} is not a command: {}", commands_hint()));
        return;
    };
    if let (Some(what), true) = (spec.needs, arg.is_empty()) {
        state.notify(NoticeKind::Error, format!(":{} needs {what}", spec.name));
        return;
    }
    match spec.name {
        "quit" => super::command(state, Action::Quit, fx),
        "open" => super::open_conversation(state, arg, fx),
        "new" => {
            super::start_new_conversation(state, arg, "", fx);
        }
        "logout" => {
            super::save_current_draft(state, fx);
            fx.push(Effect::Logout);
        }
        "search" => super::search::start(state, arg, None, fx),
        "help" => state.overlay = Overlay::Help { top: 0 },
        "snippet" => super::snippets::by_name(state, arg),
        // Every name in the table has its arm above.
        _ => {}
    }
}

fn filter_key(state: &mut State, key: Key, fx: &mut Vec<Effect>) {
    match key.code {
        KeyCode::Esc => {
            state.overlay = Overlay::None;
            state.inbox.filter.clear();
        }
        KeyCode::Enter => {
            state.overlay = Overlay::None;
            state.inbox.selected = 0;
            if let Some(user) = state.inbox.selected_entry().map(|e| e.with_user.clone()) {
                super::open_conversation(state, &user, fx);
            }
        }
        KeyCode::Up | KeyCode::Down => {
            let action = if key.code == KeyCode::Up { Action::Up } else { Action::Down };
            super::conv::navigate(state, &action, fx);
        }
        _ => {
            if edit_line(&mut state.inbox.filter, key) {
                state.inbox.selected = 0;
            }
        }
    }
}

/// Complete `prefix` from known users: the unique match, or the longest common prefix.
fn complete(state: &State, prefix: &str) -> Option<String> {
    let lower = prefix.to_lowercase();
    let matches: Vec<&String> =
        state.known_users.iter().filter(|u| u.to_lowercase().starts_with(&lower)).collect();
    let first = matches.first()?;
    let mut common: String = first.to_string();
    for m in &matches[1..] {
        let n = common.chars().zip(m.chars()).take_while(|(a, b)| a == b).count();
        common = common.chars().take(n).collect();
    }
    (common.chars().count() > prefix.chars().count()).then_some(common)
}

fn new_conv_key(
    state: &mut State,
    key: Key,
    mut recipient: String,
    mut subject: String,
    mut field: NewField,
    fx: &mut Vec<Effect>,
) {
    match key.code {
        KeyCode::Esc => {
            state.overlay = Overlay::None;
            return;
        }
        KeyCode::Enter => {
            let user = recipient.trim().to_owned();
            if user.is_empty() {
                return;
            }
            if super::start_new_conversation(state, &user, &subject, fx) {
                state.overlay = Overlay::None;
                return;
            }
        }
        KeyCode::Tab if field == NewField::Recipient => match complete(state, &recipient) {
            Some(done) => recipient = done,
            None => field = NewField::Subject,
        },
        KeyCode::Tab | KeyCode::BackTab | KeyCode::Up | KeyCode::Down => {
            field = if field == NewField::Recipient { NewField::Subject } else { NewField::Recipient }
        }
        _ => {
            let target = if field == NewField::Recipient { &mut recipient } else { &mut subject };
            edit_line(target, key);
        }
    }
    state.overlay = Overlay::NewConversation { recipient, subject, field };
}

/// Pasted text: multi-line into the compose box, one line into other fields.
pub(crate) fn paste(state: &mut State, text: &str) {
    let line = crate::model::sanitize::sanitize_line(text);
    if state.screen == Screen::Login {
        let form = &mut state.login;
        match form.focus {
            LoginField::Server => form.server.push_str(line.trim()),
            LoginField::Username => form.username.push_str(line.trim()),
            LoginField::Password => form.password.push_str(&line),
            LoginField::Pin => form.pin.push_str(line.trim()),
            LoginField::Remember => {}
        }
        return;
    }
    if super::pet::paste(state, text) {
        return;
    }
    match &mut state.overlay {
        Overlay::Command(l) => l.push_str(&line),
        Overlay::Filter => state.inbox.filter.push_str(&line),
        Overlay::Snippets(picker) => {
            picker.filter.push_str(&line);
            picker.selected = 0;
        }
        Overlay::NewConversation { recipient, subject, field } => match field {
            NewField::Recipient => recipient.push_str(line.trim()),
            NewField::Subject => subject.push_str(&line),
        },
        Overlay::None if state.focus == Pane::Compose => {
            let text = crate::model::sanitize::sanitize(&text.replace("\r\n", "\n").replace('\r', "\n"));
            insert(state, &text);
        }
        _ => {}
    }
}

/// The nearest char boundary at or before `at` (a cursor never splits a character).
fn boundary(text: &str, at: usize) -> usize {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// Insert text at the compose cursor.
pub(crate) fn insert(state: &mut State, text: &str) {
    let Some(user) = state.conv.as_ref().map(|c| c.with_user.clone()) else { return };
    let d = state.drafts.entry(user).or_default();
    let at = boundary(&d.text, d.cursor);
    d.text.insert_str(at, text);
    d.cursor = at + text.len();
}

fn edit_draft(state: &mut State, key: Key) {
    if let Some(c) = key.typed_char() {
        let mut buf = [0u8; 4];
        insert(state, c.encode_utf8(&mut buf));
        return;
    }
    let Some(user) = state.conv.as_ref().map(|c| c.with_user.clone()) else { return };
    let d = state.drafts.entry(user).or_default();
    let at = boundary(&d.text, d.cursor);
    let prev = d.text[..at].char_indices().next_back().map(|(i, _)| i);
    let next = d.text[at..].chars().next().map(|c| at + c.len_utf8());
    match key.code {
        KeyCode::Backspace => {
            if let Some(p) = prev {
                d.text.replace_range(p..at, "");
                d.cursor = p;
            }
        }
        KeyCode::Delete => {
            if let Some(n) = next {
                d.text.replace_range(at..n, "");
            }
        }
        KeyCode::Left => d.cursor = prev.unwrap_or(at),
        KeyCode::Right => d.cursor = next.unwrap_or(at),
        KeyCode::Home => d.cursor = d.text[..at].rfind('\n').map_or(0, |i| i + 1),
        KeyCode::End => d.cursor = d.text[at..].find('\n').map_or(d.text.len(), |i| at + i),
        _ => {}
    }
}
