//! The compose box under the conversation: the draft wrapped by display width, a
//! drawn cursor when focused (the terminal cursor stays hidden), and a character
//! counter once the draft nears the server's limit.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use crate::app::state::{Pane, State, MESSAGE_LIMIT};
use crate::model::text;
use crate::ui::theme::Theme;

/// The counter appears from this many characters.
pub const COUNTER_FROM: usize = MESSAGE_LIMIT * 9 / 10;

/// Draw the compose box into `area`: bordered, or (compact layout) a rule line with
/// the title above full-width text.
pub fn render(state: &State, area: Rect, buf: &mut Buffer, th: &Theme, borders: bool) {
    let Some(c) = &state.conv else { return };
    let focused = state.focus == Pane::Compose;
    let mut title = vec![th.title_span("Message".to_owned())];
    if let Some(s) = &c.subject {
        title.push(Span::styled(format!("subject: {s} "), th.dim));
    }
    let inner = if borders {
        th.pane(buf, area, Line::from(title), focused)
    } else {
        let style = if focused { th.border_focus } else { th.border };
        buf.set_stringn(area.x, area.y, th.sym.rule.repeat(area.width as usize), area.width as usize, style);
        buf.set_line(area.x + 1, area.y, &Line::from(title), area.width.saturating_sub(1));
        Rect { y: area.y + 1, height: area.height.saturating_sub(1), ..area }
    };
    if inner.width == 0 || inner.height == 0 {
        return;
    }
    let w = inner.width as usize;
    let draft = state.drafts.get(&c.with_user);
    let text_ = draft.map_or("", |d| d.text.as_str());
    if text_.is_empty() && !focused {
        let hint = match state.keymap.first_key(&crate::app::Action::Compose) {
            Some(k) => format!("press {k} to write"),
            None => String::new(),
        };
        buf.set_stringn(inner.x, inner.y, hint, w, th.dim);
    }
    let lines = text::wrap(text_, w);
    let cursor = draft.map_or(0, |d| d.cursor.min(d.text.len()));
    let before = text_.get(..cursor).unwrap_or(text_);
    let before_lines = text::wrap(before, w);
    let mut cur_row = before_lines.len().saturating_sub(1);
    let mut cur_col = before_lines.last().map_or(0, |l| text::width(l));
    if cur_col >= w {
        cur_row += 1;
        cur_col = 0;
    }
    let h = inner.height as usize;
    let first = (cur_row + 1).saturating_sub(h);
    for (y, row) in lines.iter().skip(first).take(h).enumerate() {
        buf.set_stringn(inner.x, inner.y + y as u16, row, w, Style::new());
    }
    if focused && cur_row >= first && cur_row < first + h {
        let x = inner.x + cur_col as u16;
        let y = inner.y + (cur_row - first) as u16;
        if let Some(cell) = buf.cell_mut((x, y)) {
            if cell.symbol().trim().is_empty() {
                cell.set_symbol(" ");
            }
            cell.set_style(Style::new().add_modifier(Modifier::REVERSED));
        }
    }
    let chars = text_.chars().count();
    if chars >= COUNTER_FROM {
        let label = format!(" {chars}/{MESSAGE_LIMIT} ");
        let style = if chars > MESSAGE_LIMIT { th.error } else { th.dim };
        let lw = text::width(&label) as u16;
        if area.width > lw + 2 {
            buf.set_stringn(
                area.x + area.width - lw - 1,
                area.y + area.height - 1,
                label,
                lw as usize,
                style,
            );
        }
    }
}
