//! The help overlay, generated from the live keymap so it cannot disagree with the keys.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Widget};

use crate::app::action::Action;
use crate::app::keymap::{Context, Keymap};
use crate::ui::text;
use crate::ui::theme::Theme;

/// The help as (heading, rows of (keys, what)) per context, from the keymap.
pub fn sections(keymap: &Keymap) -> Vec<(&'static str, Vec<(String, &'static str)>)> {
    [Context::Normal, Context::Compose, Context::Global]
        .into_iter()
        .map(|ctx| {
            let mut seen: Vec<&Action> = Vec::new();
            let mut rows = Vec::new();
            for b in keymap.bindings().iter().filter(|b| b.context == ctx) {
                if seen.contains(&&b.action) {
                    continue;
                }
                seen.push(&b.action);
                let keys: Vec<String> = keymap
                    .bindings()
                    .iter()
                    .filter(|o| o.context == ctx && o.action == b.action)
                    .map(|o| o.key.to_string())
                    .collect();
                rows.push((keys.join("/"), b.action.describe()));
            }
            (ctx.title(), rows)
        })
        .filter(|(_, rows)| !rows.is_empty())
        .collect()
}

fn section_lines(title: &str, rows: &[(String, &str)], th: &Theme, key_w: usize) -> Vec<Line<'static>> {
    let mut out = vec![Line::from(Span::styled(title.to_owned(), th.title))];
    for (keys, what) in rows {
        out.push(Line::from(vec![
            Span::styled(format!(" {}", text::pad(keys, key_w)), th.info),
            Span::raw(format!(" {what}")),
        ]));
    }
    out
}

/// A centred rectangle of at most `w` x `h` inside `area`.
pub fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect::new(area.x + (area.width - w) / 2, area.y + (area.height - h) / 2, w, h)
}

/// Draw the help over `area`.
pub fn render(keymap: &Keymap, area: Rect, buf: &mut Buffer, th: &Theme) {
    let secs = sections(keymap);
    let key_w =
        secs.iter().flat_map(|(_, r)| r.iter().map(|(k, _)| text::width(k))).max().unwrap_or(4).min(18);
    let col_w = key_w + 20;
    let two_cols = area.width as usize >= col_w * 2 + 5;
    let (left, right): (Vec<Line>, Vec<Line>) = if two_cols {
        let mut l = Vec::new();
        let mut r = Vec::new();
        for (i, (t, rows)) in secs.iter().enumerate() {
            let target = if i == 0 { &mut l } else { &mut r };
            if !target.is_empty() {
                target.push(Line::default());
            }
            target.extend(section_lines(t, rows, th, key_w));
        }
        // Browsing keys that do not fit the height continue at the top of the right
        // column, so no key goes missing on a small screen.
        let room = usize::from(area.height.saturating_sub(2));
        if l.len() > room && r.len() + l.len() - room < room {
            let mut moved = l.split_off(room);
            moved.push(Line::default());
            moved.append(&mut r);
            r = moved;
        }
        (l, r)
    } else {
        let mut l = Vec::new();
        for (t, rows) in &secs {
            if !l.is_empty() {
                l.push(Line::default());
            }
            l.extend(section_lines(t, rows, th, key_w));
        }
        (l, Vec::new())
    };
    let rows = left.len().max(right.len()) as u16;
    let width = if two_cols { col_w * 2 + 5 } else { col_w + 4 } as u16;
    let rect = centered(area, width, rows + 2);
    Clear.render(rect, buf);
    let title = Line::from(th.title_span(format!("Keys {} any key closes", th.sym.dash)));
    let inner = th.pane(buf, rect, title, true);
    for (y, line) in left.iter().enumerate().take(inner.height as usize) {
        buf.set_line(inner.x + 1, inner.y + y as u16, line, col_w as u16);
    }
    for (y, line) in right.iter().enumerate().take(inner.height as usize) {
        buf.set_line(inner.x + col_w as u16 + 3, inner.y + y as u16, line, col_w as u16);
    }
}
