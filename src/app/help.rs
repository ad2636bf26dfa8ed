//! What the help overlay lists and where, from the live keymap so it cannot disagree with
//! the keys. One layout serves both sides: `update` scrolls the help by it and `ui` draws
//! it, so the scroll range and the drawn rows are the same rows.

use std::collections::BTreeMap;

use ratatui::layout::Rect;

use crate::app::action::Action;
use crate::app::keymap::{Context, Keymap};
use crate::app::layout::centered;
use crate::model::sanitize::sanitize_line;
use crate::model::text;

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

/// One row of the help, before it is styled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HelpRow {
    /// An empty row between sections.
    Blank,
    /// A section heading ("Browsing", "Writing", ...).
    Heading(&'static str),
    /// The keys of one action and what it does.
    Keys {
        /// Every key bound to the action, joined by `/`.
        keys: String,
        /// What the action does.
        what: &'static str,
    },
    /// The quick replies' heading, with the key that opens the picker (`"ctrl-t or "`,
    /// or empty when nothing is bound to it).
    SnippetHeading {
        /// The picker's key and " or ", or nothing.
        key: String,
    },
    /// One quick reply: its name and text (sanitized, uncut: the screen cuts them).
    Snippet {
        /// The name.
        name: String,
        /// The text.
        body: String,
    },
}

/// The help laid out for one area: the box, its columns and their widths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelpLayout {
    /// The box, borders included.
    pub rect: Rect,
    /// The left (or only) column.
    pub left: Vec<HelpRow>,
    /// The right column (empty when one column is all that fits).
    pub right: Vec<HelpRow>,
    /// Columns for the keys.
    pub key_w: usize,
    /// Columns of one column of text.
    pub col_w: usize,
}

impl HelpLayout {
    /// Two columns when they fit side by side, else one; the box as tall as the text, or
    /// as `area` allows (then it scrolls).
    pub fn new(keymap: &Keymap, snippets: &BTreeMap<String, String>, area: Rect) -> Self {
        let secs = sections(keymap);
        let key_w =
            secs.iter().flat_map(|(_, r)| r.iter().map(|(k, _)| text::width(k))).max().unwrap_or(4).min(18);
        let col_w = key_w + 20;
        let two_cols = area.width as usize >= col_w * 2 + 5;
        let mut left: Vec<HelpRow> = Vec::new();
        let mut right: Vec<HelpRow> = Vec::new();
        for (i, (title, rows)) in secs.into_iter().enumerate() {
            let target = if two_cols && i > 0 { &mut right } else { &mut left };
            if !target.is_empty() {
                target.push(HelpRow::Blank);
            }
            target.push(HelpRow::Heading(title));
            target.extend(rows.into_iter().map(|(keys, what)| HelpRow::Keys { keys, what }));
        }
        // Browsing keys that do not fit the height continue at the top of the right column,
        // so a screen like 80x24 shows every key without scrolling.
        let room = usize::from(area.height.saturating_sub(2));
        if two_cols && left.len() > room && right.len() + left.len() - room < room {
            let mut moved = left.split_off(room);
            moved.push(HelpRow::Blank);
            moved.append(&mut right);
            right = moved;
        }
        let extra = snippet_rows(keymap, snippets);
        if !extra.is_empty() {
            let target = if two_cols { &mut right } else { &mut left };
            target.push(HelpRow::Blank);
            target.extend(extra);
        }
        let rows = left.len().max(right.len()) as u16;
        let width = if two_cols { col_w * 2 + 5 } else { col_w + 4 } as u16;
        HelpLayout { rect: centered(area, width, rows + 2), left, right, key_w, col_w }
    }

    /// Rows of text (the taller column).
    pub fn rows(&self) -> usize {
        self.left.len().max(self.right.len())
    }

    /// Rows visible inside the box.
    pub fn visible(&self) -> usize {
        self.rect.height.saturating_sub(2) as usize
    }

    /// How far the help can scroll: rows of text past the box.
    pub fn max_top(&self) -> usize {
        self.rows().saturating_sub(self.visible())
    }
}

/// The quick replies as help rows: how to insert them, then each name and its text.
fn snippet_rows(keymap: &Keymap, snippets: &BTreeMap<String, String>) -> Vec<HelpRow> {
    if snippets.is_empty() {
        return Vec::new();
    }
    let key = keymap.first_key(&Action::Snippet).map(|k| format!("{k} or ")).unwrap_or_default();
    let mut out = vec![HelpRow::SnippetHeading { key }];
    out.extend(
        snippets
            .iter()
            .map(|(name, body)| HelpRow::Snippet { name: sanitize_line(name), body: sanitize_line(body) }),
    );
    out
}

/// The main area (all but the status bar) of a `w` x `h` screen, where the help goes.
pub fn main_area((w, h): (u16, u16)) -> Rect {
    Rect::new(0, 0, w, h.saturating_sub(1))
}

/// How far the help can scroll on a screen of `size`: rows of text past the box.
pub fn max_top(keymap: &Keymap, snippets: &BTreeMap<String, String>, size: (u16, u16)) -> usize {
    HelpLayout::new(keymap, snippets, main_area(size)).max_top()
}

/// Rows one page of help scrolls on a screen of `size`.
pub fn page(keymap: &Keymap, snippets: &BTreeMap<String, String>, size: (u16, u16)) -> usize {
    HelpLayout::new(keymap, snippets, main_area(size)).visible().saturating_sub(1).max(1)
}
