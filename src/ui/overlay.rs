//! Small dialogs over the panes: the y/n question and the new-conversation form.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Widget};

use crate::app::state::{Confirm, NewField, State};
use crate::ui::help::centered;
use crate::ui::text;
use crate::ui::theme::Theme;

/// Draw a y/n question.
pub fn render_confirm(what: &Confirm, area: Rect, buf: &mut Buffer, th: &Theme) {
    let question = match what {
        Confirm::Delete(_) => "Delete this message for you?",
        Confirm::Discard(_) => "Discard this unsent message?",
    };
    let rect = centered(area, (text::width(question) as u16 + 6).max(24), 4);
    Clear.render(rect, buf);
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
    Clear.render(rect, buf);
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
    if inner.height > 3 && !matches.is_empty() {
        let s = format!(" known: {}", matches.join(", "));
        buf.set_stringn(inner.x, inner.y + 3, text::truncate(&s, w, th.ascii), w, th.dim);
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
