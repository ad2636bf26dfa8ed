//! The help overlay, generated from the live keymap so it cannot disagree with the keys.

use std::collections::BTreeMap;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Widget};

use crate::app::action::Action;
use crate::app::keymap::{Context, Key, Keymap};
use crate::model::text;
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

/// The help laid out for one area: the box, its columns and their width.
struct Laid {
    rect: Rect,
    left: Vec<Line<'static>>,
    right: Vec<Line<'static>>,
    col_w: u16,
}

impl Laid {
    /// Rows of text (the taller column).
    fn rows(&self) -> usize {
        self.left.len().max(self.right.len())
    }

    /// Rows visible inside the box.
    fn visible(&self) -> usize {
        self.rect.height.saturating_sub(2) as usize
    }
}

/// The quick replies as help lines: how to insert them, then each name and its start.
fn snippet_lines(
    keymap: &Keymap,
    snippets: &BTreeMap<String, String>,
    th: &Theme,
    key_w: usize,
    col_w: usize,
) -> Vec<Line<'static>> {
    if snippets.is_empty() {
        return Vec::new();
    }
    let key = keymap.first_key(&Action::Snippet).map(|k| format!("{k} or ")).unwrap_or_default();
    let mut out = vec![Line::from(vec![
        Span::styled("Quick replies".to_owned(), th.title),
        Span::styled(format!(" ({key}:snippet NAME)"), th.dim),
    ])];
    for (name, body) in snippets {
        let name = crate::model::sanitize::sanitize_line(name);
        let body = crate::model::sanitize::sanitize_line(body);
        out.push(Line::from(vec![
            Span::styled(format!(" {}", text::pad(&text::truncate(&name, key_w, th.ascii), key_w)), th.info),
            Span::raw(format!(" {}", text::truncate(&body, col_w.saturating_sub(key_w + 2), th.ascii))),
        ]));
    }
    out
}

/// Two columns when they fit side by side, else one; the box as tall as the text, or
/// as `area` allows (then it scrolls).
fn lay_out(keymap: &Keymap, snippets: &BTreeMap<String, String>, area: Rect, th: &Theme) -> Laid {
    let secs = sections(keymap);
    let key_w =
        secs.iter().flat_map(|(_, r)| r.iter().map(|(k, _)| text::width(k))).max().unwrap_or(4).min(18);
    let col_w = key_w + 20;
    let two_cols = area.width as usize >= col_w * 2 + 5;
    let mut left: Vec<Line<'static>> = Vec::new();
    let mut right: Vec<Line<'static>> = Vec::new();
    for (i, (t, rows)) in secs.iter().enumerate() {
        let target = if two_cols && i > 0 { &mut right } else { &mut left };
        if !target.is_empty() {
            target.push(Line::default());
        }
        target.extend(section_lines(t, rows, th, key_w));
    }
    // Browsing keys that do not fit the height continue at the top of the right column,
    // so a screen like 80x24 shows every key without scrolling.
    let room = usize::from(area.height.saturating_sub(2));
    if two_cols && left.len() > room && right.len() + left.len() - room < room {
        let mut moved = left.split_off(room);
        moved.push(Line::default());
        moved.append(&mut right);
        right = moved;
    }
    let extra = snippet_lines(keymap, snippets, th, key_w, col_w);
    if !extra.is_empty() {
        let target = if two_cols { &mut right } else { &mut left };
        target.push(Line::default());
        target.extend(extra);
    }
    let rows = left.len().max(right.len()) as u16;
    let width = if two_cols { col_w * 2 + 5 } else { col_w + 4 } as u16;
    Laid { rect: centered(area, width, rows + 2), left, right, col_w: col_w as u16 }
}

/// The main area (all but the status bar) of a `w` x `h` screen, where the help goes.
fn main_area((w, h): (u16, u16)) -> Rect {
    Rect::new(0, 0, w, h.saturating_sub(1))
}

/// How far the help can scroll on a screen of `size`: rows of text past the box.
pub fn max_top(keymap: &Keymap, snippets: &BTreeMap<String, String>, size: (u16, u16)) -> usize {
    // Styles do not change the layout, so any theme gives the same geometry.
    let laid = lay_out(keymap, snippets, main_area(size), &Theme::new(Default::default()));
    laid.rows().saturating_sub(laid.visible())
}

/// Rows one page of help scrolls on a screen of `size`.
pub fn page(keymap: &Keymap, snippets: &BTreeMap<String, String>, size: (u16, u16)) -> usize {
    let laid = lay_out(keymap, snippets, main_area(size), &Theme::new(Default::default()));
    laid.visible().saturating_sub(1).max(1)
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
    let laid = lay_out(keymap, snippets, area, th);
    let max = laid.rows().saturating_sub(laid.visible());
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
    let col_w = laid.col_w;
    for (x, column) in [(inner.x + 1, &laid.left), (inner.x + col_w + 3, &laid.right)] {
        for (y, line) in column.iter().skip(top).take(inner.height as usize).enumerate() {
            buf.set_line(x, inner.y + y as u16, line, col_w);
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
