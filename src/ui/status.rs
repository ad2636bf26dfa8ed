//! The status bar (user@server, connection state, total unread, the pet in one line
//! when its pane is hidden, key hints from the live keymap) and the notice line.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use crate::app::action::{Action, Connection};
use crate::app::state::{NoticeKind, Overlay, Pane, PetState, State};
use crate::model::text;
use crate::ui::theme::Theme;

/// The connection state as the status bar shows it; `tz` for the time of a 429's end.
pub fn connection_label(c: Connection, ascii: bool, tz: chrono::FixedOffset) -> String {
    match (c, ascii) {
        (Connection::RateLimited { until }, false) => {
            format!("◔ rate-limited · next check {}", crate::model::time_fmt::clock(until, tz))
        }
        (Connection::RateLimited { until }, true) => {
            format!("[rate-limited {}]", crate::model::time_fmt::clock(until, tz))
        }
        (Connection::Unknown, _) => String::new(),
        (Connection::Connecting, false) => "◌ connecting".to_owned(),
        (Connection::Connecting, true) => "[connecting]".to_owned(),
        (Connection::Live, false) => "● live".to_owned(),
        (Connection::Live, true) => "[live]".to_owned(),
        (Connection::Polling { every_secs }, false) => format!("◐ polling {every_secs}s"),
        (Connection::Polling { every_secs }, true) => format!("[poll {every_secs}s]"),
        (Connection::Offline { retry_secs }, false) => format!("○ offline · retry in {retry_secs}s"),
        (Connection::Offline { retry_secs }, true) => format!("[offline {retry_secs}s]"),
    }
}

/// The server as a short host[:port].
fn short_server(url: &str) -> &str {
    let s = url.split_once("://").map_or(url, |(_, rest)| rest);
    s.trim_end_matches('/')
}

/// Key hints for the focused pane, from the keymap (so they are always the real keys).
fn hints(state: &State) -> Vec<(Action, String, &'static str)> {
    let actions: &[(Action, &'static str)] = match state.focus {
        Pane::Compose => &[(Action::Send, "send"), (Action::Newline, "newline"), (Action::Cancel, "back")],
        Pane::Conversation => &[
            (Action::Compose, "write"),
            (Action::Delete, "delete"),
            (Action::Help, "help"),
            (Action::Quit, "quit"),
        ],
        Pane::Pet if state.pet == PetState::None => &[(Action::NewPet, "new pet"), (Action::Help, "help")],
        Pane::Pet => &[(Action::Feed, "feed"), (Action::Help, "help"), (Action::Quit, "quit")],
        _ => &[
            (Action::Open, "open"),
            (Action::NewConversation, "new"),
            (Action::Filter, "filter"),
            (Action::Help, "help"),
            (Action::Quit, "quit"),
        ],
    };
    actions
        .iter()
        .filter_map(|(a, label)| state.keymap.first_key(a).map(|k| (a.clone(), k, *label)))
        .collect()
}

/// Draw the status bar (or the command line while it is open).
pub fn render(state: &State, area: Rect, buf: &mut Buffer, th: &Theme) {
    buf.set_style(area, th.status);
    let w = area.width as usize;
    if let Overlay::Command(line) = &state.overlay {
        let text_ = format!(":{line}{}", th.sym.cursor);
        buf.set_stringn(area.x, area.y, text_, w, th.status);
        return;
    }
    let mut left = Vec::new();
    if let Some(me) = &state.me {
        left.push(format!("{me}@{}", short_server(&state.server)));
    }
    let mut conn = connection_label(state.connection, th.ascii, state.tz);
    if let (Some(at), true) = (state.last_sync, state.shows_sync_time()) {
        conn.push_str(&format!(" {} synced {}", th.sym.dot, crate::model::time_fmt::clock(at, state.tz)));
    }
    if !conn.is_empty() {
        left.push(conn);
    }
    if state.inbox.total_unread > 0 {
        left.push(format!("{} unread", state.inbox.total_unread));
    }
    let waiting = state.inbox.waiting_count();
    if state.inbox.sort == crate::model::waiting::SortMode::Waiting && waiting > 0 {
        left.push(format!("{waiting} waiting"));
    }
    if let PetState::Some(pet) = &state.pet {
        if !crate::app::layout::pet_visible(state) {
            let look = crate::ui::pet_look(th);
            left.push(crate::ui::pet::compact_line(pet, look));
        }
    }
    let left = format!(" {}", left.join(th.sym.sep));
    let hints = hints(state);
    let shown = fit_hints(&hints, w.saturating_sub(text::width(&left) + 2));
    let right: String = hints
        .iter()
        .zip(&shown)
        .filter(|(_, keep)| **keep)
        .map(|((_, k, l), _)| format!("{k}:{l} "))
        .collect();
    let rw = text::width(&right);
    // The left side gives way to the hints that must stay (`?:help`).
    let left = text::truncate(&left, w.saturating_sub(rw + 1), th.ascii);
    buf.set_stringn(area.x, area.y, &left, w, th.status);
    if rw > 0 && rw <= w {
        buf.set_stringn(area.x + (w - rw) as u16, area.y, &right, rw, th.status);
    }
}

/// Which hints fit in `room` columns: the least important (last listed) go first, and
/// the help hint goes last of all, shown even when the rest of the bar must shrink.
fn fit_hints(hints: &[(Action, String, &'static str)], room: usize) -> Vec<bool> {
    let width = |(_, k, l): &(Action, String, &str)| text::width(k) + text::width(l) + 2;
    let is_help = |(a, _, _): &(Action, String, &str)| *a == Action::Help;
    let mut keep: Vec<bool> = hints.iter().map(is_help).collect();
    let mut used: usize = hints.iter().filter(|h| is_help(h)).map(width).sum();
    for (i, h) in hints.iter().enumerate() {
        if keep[i] {
            continue;
        }
        if used + width(h) > room {
            break;
        }
        used += width(h);
        keep[i] = true;
    }
    keep
}

/// Draw the one-line notice.
pub fn render_notice(state: &State, area: Rect, buf: &mut Buffer, th: &Theme) {
    let Some(n) = &state.notice else { return };
    let (mark, style) = match (n.kind, th.ascii) {
        (NoticeKind::Error, false) => ("✗ ", th.error),
        (NoticeKind::Error, true) => ("! ", th.error),
        (NoticeKind::Info, false) => ("· ", th.info),
        (NoticeKind::Info, true) => ("- ", th.info),
    };
    let line = Line::from(vec![
        Span::styled(format!(" {mark}"), style),
        Span::styled(text::truncate(&n.text, (area.width as usize).saturating_sub(4), th.ascii), style),
    ]);
    buf.set_line(area.x, area.y, &line, area.width);
}

/// The activity line of the compact layout: the open conversation on the left, other
/// conversations with news on the right (`[sam 2] [dr_morgan 1]`, like irssi's act line).
pub fn render_activity(state: &State, area: Rect, buf: &mut Buffer, th: &Theme) {
    let w = area.width as usize;
    let mut left = vec![Span::raw(" ")];
    match &state.conv {
        Some(c) => {
            left.push(Span::styled(c.with_user.clone(), th.title));
            if let Some(s) = &c.subject {
                left.push(Span::styled(format!(" {} {s}", th.sym.dot), th.dim));
            }
            if c.loading {
                left.push(Span::styled(format!(" loading{}", th.sym.ellipsis), th.dim));
            }
        }
        None => left.push(Span::styled("Inbox".to_owned(), th.title)),
    }
    let open = state.conv.as_ref().map(|c| c.with_user.as_str());
    let acts: Vec<String> = state
        .inbox
        .entries
        .iter()
        .filter(|e| e.unread > 0 && Some(e.with_user.as_str()) != open)
        .map(|e| format!("[{} {}]", e.with_user, e.unread))
        .collect();
    let left_w: usize = left.iter().map(|s| text::width(&s.content)).sum();
    buf.set_line(area.x, area.y, &Line::from(left), area.width);
    let mut right = String::new();
    for a in acts {
        if left_w + text::width(&right) + text::width(&a) + 3 > w {
            break;
        }
        right.push_str(&a);
        right.push(' ');
    }
    let rw = text::width(&right);
    if rw > 0 {
        buf.set_stringn(area.x + (w - rw) as u16, area.y, &right, rw, th.unread);
    }
}
