//! Which cells of a frame are hyperlinks (OSC 8), found in the text the cells show.
//!
//! ratatui's cells cannot carry a link target, so the output layer finds URLs in the
//! frame itself: a link's target is always exactly the text on the screen, and a
//! message cannot make a link that says one thing and goes somewhere else. Only
//! `http://`, `https://` and `mailto:` targets that pass [`link_target_ok`] qualify, and
//! only when the URL ends before a blank cell: a URL that runs into the edge of the
//! screen or a pane border may continue on the next row, and half a URL would be a
//! link to somewhere else, so it stays plain text.

use ratatui::buffer::Buffer;

use crate::term::osc::link_target_ok;

/// The links of one frame: per cell, the index of the link it belongs to.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct LinkMap {
    width: usize,
    cells: Vec<Option<u32>>,
    targets: Vec<String>,
}

/// What may start a URL inside a run of text (as in "(https://…)" or "<mailto:…>").
const OPENERS: &[u8] = b"(<[\"'";
/// Left off a URL's end, where they are almost always sentence punctuation.
const TRAILING: &[u8] = b".,;:!?'\")]>";
const SCHEMES: [&str; 3] = ["https://", "http://", "mailto:"];

impl LinkMap {
    /// Finds the links in `frame`.
    pub(super) fn scan(frame: &Buffer) -> LinkMap {
        let width = usize::from(frame.area.width);
        let mut map = LinkMap { width, cells: vec![None; frame.content.len()], targets: Vec::new() };
        for (y, row) in frame.content.chunks(width.max(1)).enumerate() {
            // One byte per cell: the cell's character when it is one printable ASCII
            // character (all a link target may hold), else 0 (a boundary).
            let bytes: Vec<u8> = row
                .iter()
                .map(|c| match c.symbol().as_bytes() {
                    [b] if b.is_ascii_graphic() => *b,
                    _ => 0,
                })
                .collect();
            map.scan_row(y, row, &bytes);
        }
        map
    }

    fn scan_row(&mut self, y: usize, row: &[ratatui::buffer::Cell], bytes: &[u8]) {
        let mut x = 0;
        while x < bytes.len() {
            if bytes[x] == 0 {
                x += 1;
                continue;
            }
            let end = bytes[x..].iter().position(|&b| b == 0).map_or(bytes.len(), |n| x + n);
            // Followed by a blank cell: the run ends here, not at a border or the edge.
            let ends_in_blank = row.get(end).is_some_and(|c| c.symbol() == " ");
            if ends_in_blank {
                if let Some((from, to)) = url_in(&bytes[x..end]) {
                    self.add(y, x + from, x + to, &bytes[x + from..x + to]);
                }
            }
            x = end;
        }
    }

    fn add(&mut self, y: usize, from: usize, to: usize, target: &[u8]) {
        let Ok(target) = std::str::from_utf8(target) else { return };
        if !link_target_ok(target) {
            return;
        }
        let Ok(index) = u32::try_from(self.targets.len()) else { return };
        self.targets.push(target.to_owned());
        let row = y * self.width;
        for cell in &mut self.cells[row + from..row + to] {
            *cell = Some(index);
        }
    }

    /// The link at `(x, y)`, as an index valid for this map.
    pub(super) fn at(&self, x: u16, y: u16) -> Option<u32> {
        let i = usize::from(y) * self.width + usize::from(x);
        self.cells.get(i).copied().flatten()
    }

    /// The target of the link at `(x, y)`.
    pub(super) fn target_at(&self, x: u16, y: u16) -> Option<&str> {
        self.at(x, y).and_then(|i| self.targets.get(i as usize)).map(String::as_str)
    }

    /// A link's target by index.
    pub(super) fn target(&self, index: u32) -> Option<&str> {
        self.targets.get(index as usize).map(String::as_str)
    }

    /// Whether any cell of `x0..x1` on row `y` is part of a link.
    pub(super) fn any_in(&self, y: u16, x0: u16, x1: u16) -> bool {
        (x0..x1).any(|x| self.at(x, y).is_some())
    }

    /// Cells whose link differs between `self` and `other` (another frame of the same
    /// size), row by row: painting them again makes the terminal's links right.
    pub(super) fn differing(&self, other: &LinkMap) -> Vec<(u16, u16)> {
        if self.width == 0 || self.cells.len() != other.cells.len() {
            return Vec::new();
        }
        (0..self.cells.len())
            .filter_map(|i| {
                let (x, y) = ((i % self.width) as u16, (i / self.width) as u16);
                (self.target_at(x, y) != other.target_at(x, y)).then_some((x, y))
            })
            .collect()
    }
}

/// The URL in a run of non-blank ASCII text, as a byte range: it starts with a scheme,
/// at the start of the run or after an opening bracket or quote, and takes the rest of
/// the run but for sentence punctuation at its end. A run with something after the URL
/// that is neither (`https://a.org/x|y`) has no URL: what the link would skip is shown.
fn url_in(run: &[u8]) -> Option<(usize, usize)> {
    let lower = run.to_ascii_lowercase();
    let start = (0..run.len()).find(|&i| {
        (i == 0 || OPENERS.contains(&run[i - 1]))
            && SCHEMES.iter().any(|s| lower[i..].starts_with(s.as_bytes()))
    })?;
    let allowed = |b: &u8| b.is_ascii_alphanumeric() || b"-._~:/?#[]@!$&'()*+,;=%".contains(b);
    let body_end = run[start..].iter().position(|b| !allowed(b)).map_or(run.len(), |n| start + n);
    if !run[body_end..].iter().all(|b| TRAILING.contains(b)) {
        return None;
    }
    let mut end = body_end;
    while end > start && TRAILING.contains(&run[end - 1]) {
        // A closing bracket that closes one inside the URL belongs to it (wiki links).
        let (open, close) = match run[end - 1] {
            b')' => (b'(', b')'),
            b']' => (b'[', b']'),
            _ => (0, 0),
        };
        let body = &run[start..end];
        if open != 0
            && body.iter().filter(|&&b| b == open).count() >= body.iter().filter(|&&b| b == close).count()
        {
            break;
        }
        end -= 1;
    }
    Some((start, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Option<&str> {
        url_in(text.as_bytes()).map(|(a, b)| &text[a..b])
    }

    #[test]
    fn urls_in_runs_of_text() {
        assert_eq!(found("https://example.org/a?b=c#d"), Some("https://example.org/a?b=c#d"));
        assert_eq!(found("(https://example.org/x)."), Some("https://example.org/x"));
        assert_eq!(
            found("https://en.wikipedia.org/wiki/Tea_(drink)"),
            Some("https://en.wikipedia.org/wiki/Tea_(drink)")
        );
        assert_eq!(found("<mailto:dr@clinic.example>"), Some("mailto:dr@clinic.example"));
        assert_eq!(found("\"https://example.org/x\","), Some("https://example.org/x"));
        assert_eq!(found("https://example.org/x\"y"), None);
        assert_eq!(found("see:https://example.org"), None, "a scheme glued to a word");
        assert_eq!(found("javascript:alert('https://x.org')"), Some("https://x.org"));
        assert_eq!(found("javascript:alert(1)"), None);
        assert_eq!(found("https://a.org/x|y"), None, "text after the URL that it would skip");
    }
}
