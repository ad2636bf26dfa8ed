//! Small dialogs over the panes: the y/n question, the new-conversation form and the
//! quick-reply picker.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};

use crate::app::layout::centered;
use crate::app::state::{Confirm, NewField, Search, SnippetPicker, State};
use crate::app::update::Recipient;
use crate::model::text;
use crate::ui::help::clear_under;
use crate::ui::theme::Theme;

/// Draw a y/n question.
pub fn render_confirm(what: &Confirm, area: Rect, buf: &mut Buffer, th: &Theme) {
    let question = match what {
        Confirm::Delete(_) => "Delete this message for you?",
        Confirm::Discard(_) => "Discard this unsent message?",
    };
    let rect = centered(area, (text::width(question) as u16 + 6).max(24), 4);
    clear_under(rect, buf);
    let inner = th.pane(buf, rect, Line::from(th.title_span("Confirm".to_owned())), true);
    if inner.height >= 1 {
        buf.set_stringn(inner.x + 1, inner.y, question, inner.width as usize, Style::new());
    }
    if inner.height >= 2 {
        buf.set_stringn(inner.x + 1, inner.y + 1, "y: yes   n: no", inner.width as usize, th.info);
    }
}

/// Draw the new-conversation form with recipient suggestions from known users.
pub fn render_new(
    state: &State,
    recipient: &str,
    subject: &str,
    field: NewField,
    area: Rect,
    buf: &mut Buffer,
    th: &Theme,
) {
    let rect = centered(area, 50, 8);
    clear_under(rect, buf);
    let inner = th.pane(buf, rect, Line::from(th.title_span("New conversation".to_owned())), true);
    let w = inner.width as usize;
    let label_w = 9;
    let rows = [(NewField::Recipient, "To", recipient), (NewField::Subject, "Subject", subject)];
    for (i, (f, label, value)) in rows.iter().enumerate() {
        let y = inner.y + i as u16;
        if i as u16 >= inner.height {
            return;
        }
        let focused = *f == field;
        let shown = if focused { format!("{value}{}", th.sym.cursor) } else { (*value).to_owned() };
        let line = Line::from(vec![
            Span::styled(format!(" {}", text::pad(label, label_w)), if focused { th.title } else { th.dim }),
            Span::styled(
                text::pad(&shown, w.saturating_sub(label_w + 2)),
                if focused { th.selected } else { Style::new() },
            ),
        ]);
        buf.set_line(inner.x, y, &line, inner.width);
    }
    let lower = recipient.to_lowercase();
    let matches: Vec<&str> = state
        .known_users
        .iter()
        .filter(|u| !lower.is_empty() && u.to_lowercase().starts_with(&lower))
        .map(String::as_str)
        .take(5)
        .collect();
    // Said while the name is typed, before anything is written to them.
    let (line, style) = match crate::app::update::check_recipient(state, recipient) {
        _ if recipient.trim().is_empty() => (String::new(), th.dim),
        Recipient::Me => (" that is you: pick someone else".to_owned(), th.error),
        Recipient::Unknown if matches.is_empty() => {
            (" not in your conversations: the server decides on send".to_owned(), th.dim)
        }
        _ => (format!(" known: {}", matches.join(", ")), th.dim),
    };
    if inner.height > 3 && !line.is_empty() {
        buf.set_stringn(inner.x, inner.y + 3, text::truncate(&line, w, th.ascii), w, style);
    }
    if inner.height > 5 {
        let help = "Tab: complete / next   Enter: open   Esc: cancel";
        buf.set_stringn(
            inner.x + 1,
            inner.y + 5,
            text::truncate(help, w.saturating_sub(1), th.ascii),
            w,
            th.dim,
        );
    }
}

/// Draw the search box and its results (newest first; the selected one highlighted).
pub fn render_search(state: &State, search: &Search, area: Rect, buf: &mut Buffer, th: &Theme) {
    let rect = centered(area, area.width.saturating_sub(4).max(20), area.height.saturating_sub(2).max(6));
    clear_under(rect, buf);
    let title = match &search.scope {
        Some(user) => format!("Search {user}"),
        None => "Search all messages".to_owned(),
    };
    let inner = th.pane(buf, rect, Line::from(th.title_span(title)), true);
    let w = inner.width as usize;
    if inner.height == 0 || w == 0 {
        return;
    }
    let cursor = if search.typing { th.sym.cursor } else { "" };
    let query = format!(" / {}{cursor}", search.query);
    buf.set_stringn(inner.x, inner.y, text::truncate(&query, w, th.ascii), w, th.title);
    let help = if search.typing {
        "Enter: search   Esc: close"
    } else if search.results.is_empty() {
        "nothing found   /: search again   Esc: close"
    } else {
        "j/k: move   Enter: open   /: search again   Esc: close"
    };
    let rows = inner.height.saturating_sub(2) as usize;
    if !search.typing && search.searched {
        let top = search.selected.saturating_sub(rows.saturating_sub(1));
        for (n, (i, m)) in search.results.iter().enumerate().skip(top).take(rows).enumerate() {
            let me = state.me.as_deref() == Some(m.sender.as_str());
            let who = if me { format!("you → {}", m.recipient) } else { m.sender.clone() };
            let when = m
                .sent_at
                .map(|t| crate::model::time_fmt::relative(t.utc(), state.now, &state.tz))
                .unwrap_or_default();
            let one_line: String = m.content.split_whitespace().collect::<Vec<_>>().join(" ");
            let row = format!(" {} · {} · {}", who, when, one_line);
            let style = if i == search.selected { th.selected } else { Style::new() };
            let shown = text::pad(&text::truncate(&row, w, th.ascii), w);
            buf.set_stringn(inner.x, inner.y + 1 + n as u16, shown, w, style);
        }
    }
    if inner.height >= 2 {
        let y = inner.y + inner.height - 1;
        buf.set_stringn(inner.x + 1, y, text::truncate(help, w.saturating_sub(1), th.ascii), w, th.dim);
    }
}

/// Draw the quick-reply picker: the filter, the matching snippets (name and the text as
/// it would be inserted), and its keys.
pub fn render_snippets(state: &State, picker: &SnippetPicker, area: Rect, buf: &mut Buffer, th: &Theme) {
    let matches = state.snippet_matches(&picker.filter);
    let rows = matches.len().clamp(1, 8) as u16;
    let rect = centered(area, 64, rows + 5);
    clear_under(rect, buf);
    let inner = th.pane(buf, rect, Line::from(th.title_span("Quick replies".to_owned())), true);
    let w = inner.width as usize;
    if inner.height == 0 {
        return;
    }
    let filter = format!(" / {}{}", picker.filter, th.sym.cursor);
    buf.set_stringn(inner.x, inner.y, text::truncate(&filter, w, th.ascii), w, th.info);
    let with = state.conv.as_ref().map(|c| c.with_user.as_str()).unwrap_or("");
    let name_w = matches.iter().map(|(n, _)| text::width(n)).max().unwrap_or(0).clamp(4, 16);
    let list_h = inner.height.saturating_sub(3) as usize;
    let first = (picker.selected + 1).saturating_sub(list_h.max(1));
    if matches.is_empty() {
        buf.set_stringn(inner.x + 1, inner.y + 1, "no matches", w.saturating_sub(1), th.dim);
    }
    for (row, (i, (name, body))) in matches.iter().enumerate().skip(first).take(list_h).enumerate() {
        let style = if i == picker.selected { th.selected } else { Style::new() };
        let y = inner.y + 1 + row as u16;
        buf.set_style(Rect::new(inner.x, y, inner.width, 1), style);
        let preview = crate::model::sanitize::sanitize_line(&crate::app::update::expand_snippet(body, with));
        let line = Line::from(vec![
            Span::styled(
                format!(" {} ", text::pad(&text::truncate(name, name_w, th.ascii), name_w)),
                style.patch(th.title),
            ),
            Span::styled(text::truncate(&preview, w.saturating_sub(name_w + 3), th.ascii), style),
        ]);
        buf.set_line(inner.x, y, &line, inner.width);
    }
    if inner.height >= 3 {
        let help = "type: filter   Enter: insert (edit, then send)   Esc: cancel";
        let y = inner.y + inner.height - 1;
        buf.set_stringn(inner.x + 1, y, text::truncate(help, w.saturating_sub(1), th.ascii), w, th.dim);
    }
}
