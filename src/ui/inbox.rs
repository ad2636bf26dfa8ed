//! The inbox pane: conversations newest first, an unread badge and bold for unread,
//! a one-line preview cut by display width, relative times; unread-only and the name
//! filter in the title.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};

use crate::app::layout::{self, INBOX_ENTRY_ROWS};
use crate::app::state::{InboxEntry, Overlay, Pane, State};
use crate::model::text;
use crate::model::time_fmt;
use crate::model::waiting::{wait_label, SortMode};
use crate::ui::theme::Theme;

/// Draw the inbox into `area`.
pub fn render(state: &State, area: Rect, buf: &mut Buffer, th: &Theme) {
    let inbox = &state.inbox;
    let focused = state.focus == Pane::Inbox;
    let mut title = vec![th.title_span(if inbox.total_unread > 0 {
        format!("Inbox ({})", inbox.total_unread)
    } else {
        "Inbox".to_owned()
    })];
    if inbox.unread_only {
        title.push(Span::styled("unread ".to_owned(), th.dim));
    }
    if inbox.sort == SortMode::Waiting {
        title.push(Span::styled("waiting first ".to_owned(), th.dim));
    }
    let filtering = state.overlay == Overlay::Filter;
    if filtering || !inbox.filter.is_empty() {
        let cursor = if filtering { th.sym.cursor } else { "" };
        title.push(Span::styled(format!("/{}{cursor} ", inbox.filter), th.info));
    }
    let inner = th.pane(buf, area, Line::from(title), focused || filtering);
    if inner.width == 0 || inner.height == 0 {
        return;
    }
    let w = inner.width as usize;
    let per_page = layout::inbox_rows(state).max(1);
    let count = inbox.visible().count();
    if count == 0 {
        let loading = format!("loading{}", th.sym.ellipsis);
        let msg = if inbox.loading {
            loading.as_str()
        } else if !inbox.filter.is_empty() || inbox.unread_only {
            "no matches"
        } else {
            "no conversations yet"
        };
        buf.set_stringn(inner.x + 1, inner.y, msg, w.saturating_sub(1), th.dim);
        return;
    }
    // The conversation on screen beside the inbox shows its newest message already; its
    // row says so instead of repeating it, so a message arriving there repaints nothing here.
    let beside = state.conv.as_ref().filter(|_| layout::areas(state).conversation.is_some());
    let selected = inbox.selected.min(count - 1);
    let first = (selected + 1).saturating_sub(per_page);
    for (row, (i, e)) in inbox.visible().enumerate().skip(first).take(per_page).enumerate() {
        let y = inner.y + (row * INBOX_ENTRY_ROWS) as u16;
        let is_sel = i == selected;
        let base = if is_sel && (focused || filtering) { th.selected } else { Style::new() };
        let time = row_time(state, e, w);
        let badge = if e.unread > 0 { format!(" {} ", e.unread) } else { String::new() };
        let right_w = text::width(&time) + text::width(&badge) + 1;
        let name_w = w.saturating_sub(right_w + 1);
        let name_style = if e.unread > 0 { th.unread } else { Style::new() };
        let name = text::pad(&text::truncate(&e.with_user, name_w, th.ascii), name_w);
        let line = Line::from(vec![
            Span::styled(" ".to_owned(), base),
            Span::styled(name, base.patch(name_style)),
            Span::styled(badge, th.badge),
            Span::styled(format!("{:>width$}", time, width = text::width(&time) + 1), base.patch(th.dim)),
        ]);
        buf.set_style(Rect::new(inner.x, y, inner.width, 1), base);
        buf.set_line(inner.x, y, &line, inner.width);
        if row * INBOX_ENTRY_ROWS + 1 < inner.height as usize {
            let open = beside.is_some_and(|c| c.with_user == e.with_user);
            let preview = if open { "(open)" } else { &e.preview };
            let preview = text::truncate(preview, w.saturating_sub(2), th.ascii);
            let prev_style = if e.unread > 0 { Style::new() } else { th.dim };
            buf.set_style(Rect::new(inner.x, y + 1, inner.width, 1), base);
            buf.set_stringn(inner.x + 2, y + 1, &preview, w.saturating_sub(2), base.patch(prev_style));
        }
    }
}

/// The right-hand time of a row: how long it has waited (`waiting 3h`, or `3h` when
/// narrow) in the waiting order, else when the newest message came.
fn row_time(state: &State, e: &InboxEntry, width: usize) -> String {
    match (state.inbox.sort, e.waiting_since) {
        (SortMode::Waiting, Some(since)) if width >= 28 => {
            format!("waiting {}", wait_label(since, state.now))
        }
        (SortMode::Waiting, Some(since)) => wait_label(since, state.now),
        _ => e.last_time.map(|t| time_fmt::relative(t, state.now, &state.tz)).unwrap_or_default(),
    }
}
