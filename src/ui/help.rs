//! The help overlay, drawn from the layout `app::help` makes of the live keymap, so it
//! cannot disagree with the keys or with how far `update` lets it scroll.

use std::collections::BTreeMap;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Widget};

use crate::app::action::Action;
use crate::app::help::{HelpLayout, HelpRow};
use crate::app::keymap::{Key, Keymap};
use crate::model::text;
use crate::ui::theme::Theme;

/// Clear `rect` for an overlay. A wide character that starts left of `rect` and reaches
/// into it is blanked as well: left alone it would still cover the overlay's first column
/// (its border) on the terminal, while the frame says the border is there.
pub fn clear_under(rect: Rect, buf: &mut Buffer) {
    Clear.render(rect, buf);
    let rect = rect.intersection(buf.area);
    for y in rect.top()..rect.bottom() {
        for x in rect.x.saturating_sub(3).max(buf.area.x)..rect.x {
            let reaches = x + text::width(buf[(x, y)].symbol()) as u16 > rect.x;
            if reaches {
                buf[(x, y)].set_symbol(" ");
            }
        }
    }
}

/// The styled line of one help row; quick replies are cut to their columns here, where
/// the theme says whether the cut mark is ASCII.
fn row_line(row: &HelpRow, th: &Theme, key_w: usize, col_w: usize) -> Line<'static> {
    match row {
        HelpRow::Blank => Line::default(),
        HelpRow::Heading(title) => Line::from(Span::styled((*title).to_owned(), th.title)),
        HelpRow::Keys { keys, what } => Line::from(vec![
            Span::styled(format!(" {}", text::pad(keys, key_w)), th.info),
            Span::raw(format!(" {what}")),
        ]),
        HelpRow::SnippetHeading { key } => Line::from(vec![
            Span::styled("Quick replies".to_owned(), th.title),
            Span::styled(format!(" ({key}:snippet NAME)"), th.dim),
        ]),
        HelpRow::Snippet { name, body } => Line::from(vec![
            Span::styled(format!(" {}", text::pad(&text::truncate(name, key_w, th.ascii), key_w)), th.info),
            Span::raw(format!(" {}", text::truncate(body, col_w.saturating_sub(key_w + 2), th.ascii))),
        ]),
    }
}

/// The bottom-border label saying there is more above and/or below.
fn more_label(keymap: &Keymap, top: usize, max: usize, th: &Theme) -> Option<String> {
    let (up, down) = if th.ascii { ("^", "v") } else { ("↑", "↓") };
    let key = |a: Action, fallback: &str| keymap.first_key(&a).unwrap_or_else(|| fallback.to_owned());
    match (top > 0, top < max) {
        (false, false) => None,
        (false, true) => {
            Some(format!(" {down} more: {}/{} ", key(Action::Down, "down"), key(Action::PageDown, "pgdn")))
        }
        (true, false) => Some(format!(" {up} more: {}/{} ", key(Action::Up, "up"), key(Action::Top, "top"))),
        (true, true) => {
            Some(format!(" {up}{down} more: {}/{} ", key(Action::Up, "up"), key(Action::Down, "down")))
        }
    }
}

/// Draw the help over `area` (with the quick replies when there are any), scrolled `top`
/// rows down (clamped to what there is).
pub fn render(
    keymap: &Keymap,
    snippets: &BTreeMap<String, String>,
    top: usize,
    area: Rect,
    buf: &mut Buffer,
    th: &Theme,
) {
    let laid = HelpLayout::new(keymap, snippets, area);
    let max = laid.max_top();
    let top = top.min(max);
    clear_under(laid.rect, buf);
    // Ctrl-C quits even over the help, so it is not a way to close it.
    let close = [Action::Help, Action::Cancel, Action::Quit]
        .iter()
        .filter_map(|a| keymap.bindings().iter().find(|b| &b.action == a && b.key != Key::ctrl('c')))
        .map(|b| b.key.to_string())
        .collect::<Vec<_>>()
        .join("/");
    let title = Line::from(th.title_span(format!("Keys {} {close} closes", th.sym.dash)));
    let inner = th.pane(buf, laid.rect, title, true);
    let col_w = laid.col_w as u16;
    for (x, column) in [(inner.x + 1, &laid.left), (inner.x + col_w + 3, &laid.right)] {
        for (y, row) in column.iter().skip(top).take(inner.height as usize).enumerate() {
            buf.set_line(x, inner.y + y as u16, &row_line(row, th, laid.key_w, laid.col_w), col_w);
        }
    }
    if let Some(label) = more_label(keymap, top, max, th) {
        let w = text::width(&label) as u16;
        let r = laid.rect;
        if r.height >= 2 && w + 2 <= r.width {
            buf.set_stringn(r.x + r.width - w - 1, r.y + r.height - 1, &label, w as usize, th.title);
        }
    }
}
