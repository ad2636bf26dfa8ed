//! The conversation pane: messages with sender, time and subject, day separators, ✓/✓✓
//! on own messages, wrapped by display width. Only the rows on screen are built: the
//! pane starts at the message anchored at the bottom and walks up until it is full,
//! so a 100k-message conversation costs what one screen of it costs.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use crate::app::layout::{continues_run, starts_day, GUTTER};
use crate::app::state::{Conversation, Pane, SendMark, State};
use crate::model::text;
use crate::model::time_fmt;
use crate::ui::theme::Theme;

/// The rows of message `i`.
fn message_lines(state: &State, c: &Conversation, i: usize, w: usize, th: &Theme) -> Vec<Line<'static>> {
    let Some(m) = c.messages.get(i) else { return Vec::new() };
    let tz = state.tz;
    let full = w + GUTTER as usize;
    let mut lines = Vec::new();
    if starts_day(c, i, tz) {
        if let Some(t) = m.sent_at {
            let label =
                format!(" {} ", time_fmt::day_label(time_fmt::local_date(t.utc(), tz), state.now, tz));
            let rest = full.saturating_sub(text::width(&label));
            lines.push(Line::from(vec![
                Span::styled(th.sym.rule.repeat(rest / 2), th.dim),
                Span::styled(label, th.dim),
                Span::styled(th.sym.rule.repeat(rest - rest / 2), th.dim),
            ]));
        }
    }
    let selected = i == c.selected && c.show_selection && state.focus == Pane::Conversation;
    let mine = state.me.as_deref() == Some(m.sender.as_str());
    let gutter = if selected { format!("{:<2}", th.sym.marker) } else { "  ".to_owned() };
    // Blank gutters carry no style: a styled blank costs an SGR pair on the wire for
    // nothing on screen (bold and a foreground colour do not show on spaces).
    let gutter_style = if selected { th.border_focus } else { ratatui::style::Style::default() };
    let mut header = vec![
        Span::styled(gutter.clone(), gutter_style),
        Span::styled(
            if mine { "you".to_owned() } else { m.sender.clone() },
            if mine { th.me } else { th.other },
        ),
    ];
    if let Some(t) = m.sent_at {
        header.push(Span::styled(format!(" {} {}", th.sym.dot, time_fmt::clock(t.utc(), tz)), th.dim));
    }
    if mine {
        let mark = if m.is_read { th.sym.read } else { th.sym.sent };
        let detail = match (selected, m.is_read, m.read_at) {
            (true, true, Some(at)) => {
                format!(" {mark} read {}", time_fmt::relative(at.utc(), state.now, &tz))
            }
            (true, true, None) => format!(" {mark} read"),
            (true, false, _) => format!(" {mark} sent"),
            _ => format!(" {mark}"),
        };
        header.push(Span::styled(detail, th.dim));
    }
    if let Some(subject) = &m.subject {
        header.push(Span::styled(format!(" {} ", th.sym.dot), th.dim));
        header.push(Span::styled(subject.clone(), th.title));
    }
    if !continues_run(c, i, tz) {
        lines.push(Line::from(header));
    }
    let body_gutter = if selected { gutter } else { "  ".to_owned() };
    for row in text::wrap(&m.content, w) {
        lines.push(Line::from(vec![Span::styled(body_gutter.clone(), gutter_style), Span::raw(row)]));
    }
    lines
}

/// Draw the conversation pane (or the "pick a conversation" hint) into `area`, with
/// borders and a title unless the layout is compact (the activity line has the title).
pub fn render(state: &State, area: Rect, buf: &mut Buffer, th: &Theme, borders: bool) {
    let focused = state.focus == Pane::Conversation;
    let Some(c) = &state.conv else {
        render_hint(area, buf, th, borders, focused);
        return;
    };
    let inner = if borders { th.pane(buf, area, Line::from(title(c, th)), focused) } else { area };
    if inner.width == 0 || inner.height == 0 {
        return;
    }
    let w = inner.width.saturating_sub(GUTTER).max(1) as usize;
    let h = inner.height as usize;
    let rows = visible_rows(state, c, w, h, th);
    let skip = rows.len().saturating_sub(h);
    for (y, line) in rows.iter().skip(skip).enumerate() {
        buf.set_line(inner.x, inner.y + y as u16, line, inner.width);
    }
    if c.unseen > 0 {
        let label = format!(" {} new {} ", c.unseen, th.sym.down);
        let lw = text::width(&label) as u16;
        if area.width > lw + 2 {
            let x = area.x + area.width - lw - 2;
            buf.set_stringn(x, area.y + area.height.saturating_sub(1), &label, lw as usize, th.marker);
        }
    }
}

/// The pane with no conversation open: how to open one.
fn render_hint(area: Rect, buf: &mut Buffer, th: &Theme, borders: bool, focused: bool) {
    let inner = if borders {
        th.pane(buf, area, Line::from(th.title_span("Conversation".to_owned())), focused)
    } else {
        area
    };
    let hint = "Pick a conversation and press Enter, or c for a new one";
    for (y, row) in text::wrap(hint, inner.width as usize).iter().enumerate() {
        if y < inner.height as usize {
            buf.set_stringn(inner.x, inner.y + y as u16, row, inner.width as usize, th.dim);
        }
    }
}

/// The pane's title: who, the subject, and whether it is loading.
fn title(c: &Conversation, th: &Theme) -> Vec<Span<'static>> {
    let mut title = vec![th.title_span(c.with_user.clone())];
    if let Some(s) = &c.subject {
        title.push(Span::styled(format!("{s} "), th.dim));
    }
    if c.loading {
        title.push(Span::styled(format!("loading{} ", th.sym.ellipsis), th.dim));
    }
    title
}

/// The rows below the messages: why the conversation did not load or that it is empty,
/// then the local echoes of our messages on their way.
fn status_rows(state: &State, c: &Conversation, w: usize, th: &Theme) -> Vec<Line<'static>> {
    let mut rows: Vec<Line<'static>> = Vec::new();
    // Only a conversation with nothing in it at all, not even a message of ours on its
    // way or refused, is "empty".
    let ours_pending = state.pending.iter().any(|p| p.recipient == c.with_user);
    if let Some(why) = &c.load_error {
        // Never "No messages yet" for a conversation that did not load: there may be many.
        let text = format!("Could not load this conversation: {why}. Press r to retry.");
        rows.extend(
            text::wrap(&text, w).into_iter().map(|r| Line::from(Span::styled(format!("  {r}"), th.error))),
        );
    } else if c.messages.is_empty() && !c.loading && !ours_pending {
        rows.push(Line::from(Span::styled("  No messages yet. Press i to write.".to_owned(), th.dim)));
    }
    // Local echoes of messages on their way sit below the newest message.
    if c.follow || c.messages.is_empty() {
        for p in state.pending.iter().filter(|p| p.recipient == c.with_user).rev() {
            let style = match p.mark {
                SendMark::Failed(_) | SendMark::Retrying { limited: false, .. } => th.error,
                _ => th.dim,
            };
            let mut lines = vec![Line::from(vec![
                Span::raw("  "),
                Span::styled("you".to_owned(), th.me),
                Span::styled(format!(" {} {}", th.sym.dot, state.pending_label(p)), style),
            ])];
            lines.extend(text::wrap(&p.content, w).into_iter().map(|r| Line::from(format!("  {r}"))));
            rows.splice(0..0, lines);
        }
    }
    rows
}

/// Every row the pane shows, top to bottom (the caller keeps the last `h`).
fn visible_rows(state: &State, c: &Conversation, w: usize, h: usize, th: &Theme) -> Vec<Line<'static>> {
    let mut rows = status_rows(state, c, w, th);
    // Every message takes a row at least, so a pin further up than `h` messages is stale.
    let pinned = c
        .pinned_top
        .filter(|_| c.follow)
        .map(|id| match c.messages.binary_search_by_key(&id, |m| m.id) {
            Ok(i) | Err(i) => i,
        })
        .filter(|&top| c.messages.len() - top.min(c.messages.len()) <= h);
    if let Some(top) = pinned {
        // Filled downward from the pinned message; should the rows not fit after all (local
        // echoes below the newest), the bottom ones win, as without a pin.
        let below = std::mem::take(&mut rows);
        for i in top..c.messages.len() {
            rows.extend(message_lines(state, c, i, w, th));
        }
        rows.extend(below);
    } else if !c.messages.is_empty() {
        rows = rows_up_from_bottom(state, c, w, h, th, rows);
    }
    rows
}

/// The messages from the one anchored at the bottom upward until the pane is full,
/// above `below` (the status rows).
fn rows_up_from_bottom(
    state: &State,
    c: &Conversation,
    w: usize,
    h: usize,
    th: &Theme,
    below: Vec<Line<'static>>,
) -> Vec<Line<'static>> {
    let mut rows = below;
    let bottom = c.bottom.min(c.messages.len() - 1);
    let mut i = bottom;
    // A selected message taller than the pane shows from its start, cut at the
    // bottom: its end alone would not say where it begins or who wrote it.
    let mut tall_selected = false;
    loop {
        let mut lines = message_lines(state, c, i, w, th);
        tall_selected |= i == bottom && c.show_selection && c.selected == bottom && lines.len() > h;
        lines.append(&mut rows);
        rows = lines;
        if rows.len() >= h || i == 0 {
            break;
        }
        i -= 1;
    }
    // Everything up to the oldest message fits with room to spare: what follows
    // (a message too tall to fit whole) fills it, cut at the bottom. Blank rows
    // there would make the conversation look finished.
    if rows.len() < h {
        for next in bottom + 1..c.messages.len() {
            rows.extend(message_lines(state, c, next, w, th));
            if rows.len() >= h {
                break;
            }
        }
        rows.truncate(h);
    }
    if tall_selected {
        rows.truncate(h);
    }
    rows
}
