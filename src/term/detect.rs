//! Finding a band of full-width rows that moved up or down as a block.
//!
//! The cost model counts roughly bytes: repainting a row costs a cursor move per run of
//! cells that differ from what the terminal shows, then a byte per cell, or one erase for
//! a run that turns blank (so the side columns a full-width scroll drags along count).
//! For every shift `k` and band `top..=bottom` the saving of scrolling is "cost to
//! repaint now" minus "cost to repaint after the scroll" (rows scrolled in are blank). Prefix sums make each band
//! O(1), so the search is O(rows³) — 64k steps at 40 rows, far below a frame's cost.
//! The search only guides; correctness never depends on it, because whatever is still
//! different after the scroll is diffed and painted exactly.

use ratatui::buffer::{Buffer, Cell};

/// A scroll of the rows `top..=bottom` by `lines`; `up` moves content towards row 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Scroll {
    pub top: u16,
    pub bottom: u16,
    pub lines: u16,
    pub up: bool,
}

/// Cells the scroll sequence costs, in the cost model's units (a cell is about a byte
/// or more): DECSTBM, a move to the margin, the line feeds, the region reset and a
/// cursor move afterwards.
pub(crate) const SCROLL_OVERHEAD: usize = 16;

fn row(buf: &Buffer, y: usize) -> &[Cell] {
    let w = usize::from(buf.area.width);
    &buf.content[y * w..(y + 1) * w]
}

fn is_blank(cell: &Cell) -> bool {
    *cell == Cell::EMPTY
}

/// A cursor move to the start of a run of cells, in the cost model's units.
const MOVE: usize = 4;
/// Erasing a run of cells (ECH or EL with the pen reset).
const ERASE: usize = 5;

/// What turning `shown` into `wanted` costs, roughly in bytes: each run of differing cells
/// needs a cursor move, then a byte per cell, or one erase when the run turns blank.
fn repaint_cost(wanted: &[Cell], shown: &[Cell]) -> usize {
    let mut cost = 0;
    let mut i = 0;
    while i < wanted.len() {
        if wanted[i] == shown[i] {
            i += 1;
            continue;
        }
        let start = i;
        let mut blank = true;
        while i < wanted.len() && wanted[i] != shown[i] {
            blank &= is_blank(&wanted[i]);
            i += 1;
        }
        cost += MOVE + if blank { (i - start).min(ERASE) } else { i - start };
    }
    cost
}

/// The best scroll turning `shown` (what the terminal shows) closer to `wanted`, if it
/// saves more than it costs. Both buffers must have the same area.
pub(crate) fn best_scroll(shown: &Buffer, wanted: &Buffer) -> Option<Scroll> {
    let h = usize::from(shown.area.height);
    if h < 2 || shown.area != wanted.area {
        return None;
    }
    // cost[r][s]: turning shown row s into wanted row r; blank[r]: painting wanted row r on
    // a blank row (as a scroll leaves them).
    let cost: Vec<Vec<usize>> =
        (0..h).map(|r| (0..h).map(|s| repaint_cost(row(wanted, r), row(shown, s))).collect()).collect();
    let empty = vec![Cell::EMPTY; usize::from(shown.area.width)];
    let blank: Vec<usize> = (0..h).map(|r| repaint_cost(row(wanted, r), &empty)).collect();
    // Rows that are already right cannot gain; without at least two changed rows a
    // scroll cannot pay for itself.
    if (0..h).filter(|&r| cost[r][r] > 0).count() < 2 {
        return None;
    }
    let prefix = |f: &dyn Fn(usize) -> usize, n: usize| -> Vec<usize> {
        let mut p = vec![0; n + 1];
        for i in 0..n {
            p[i + 1] = p[i] + f(i);
        }
        p
    };
    let stay = prefix(&|r| cost[r][r], h);
    let fill = prefix(&|r| blank[r], h);
    let sum = |p: &[usize], a: usize, b: usize| p[b] - p[a]; // rows a..b
    let mut best: Option<(usize, Scroll)> = None;
    for k in 1..h {
        // up: wanted row r comes from shown row r + k.
        let from_below = prefix(&|r| if r + k < h { cost[r][r + k] } else { 0 }, h);
        // down: wanted row r comes from shown row r - k.
        let from_above = prefix(&|r| if r >= k { cost[r][r - k] } else { 0 }, h);
        for top in 0..h {
            for bottom in (top + k)..h {
                let before = sum(&stay, top, bottom + 1);
                // Up: rows top..=bottom-k move, the last k rows are scrolled in blank.
                let up = sum(&from_below, top, bottom + 1 - k) + sum(&fill, bottom + 1 - k, bottom + 1);
                // Down: the first k rows are scrolled in blank, the rest move.
                let down = sum(&fill, top, top + k) + sum(&from_above, top + k, bottom + 1);
                for (after, is_up) in [(up, true), (down, false)] {
                    let Some(saving) = before.checked_sub(after + SCROLL_OVERHEAD) else { continue };
                    if saving > 0 && best.is_none_or(|(s, _)| saving > s) {
                        let scroll =
                            Scroll { top: top as u16, bottom: bottom as u16, lines: k as u16, up: is_up };
                        best = Some((saving, scroll));
                    }
                }
            }
        }
    }
    best.map(|(_, s)| s)
}

/// Applies `scroll` to `buf` the way a terminal does: rows move within the band and the
/// rows scrolled in are blank with the default style (the caller resets SGR first, so
/// background-colour-erase fills with the default background).
pub(crate) fn apply(buf: &mut Buffer, scroll: Scroll) {
    let w = usize::from(buf.area.width);
    let band = &mut buf.content[usize::from(scroll.top) * w..(usize::from(scroll.bottom) + 1) * w];
    let shift = usize::from(scroll.lines) * w;
    if shift >= band.len() {
        band.fill(Cell::EMPTY);
    } else if scroll.up {
        band.rotate_left(shift);
        let len = band.len();
        band[len - shift..].fill(Cell::EMPTY);
    } else {
        band.rotate_right(shift);
        band[..shift].fill(Cell::EMPTY);
    }
}

#[cfg(test)]
mod tests {
    use ratatui::layout::Rect;

    use super::*;

    fn buf(lines: &[&str]) -> Buffer {
        let mut b = Buffer::empty(Rect::new(0, 0, 30, lines.len() as u16));
        for (y, l) in lines.iter().enumerate() {
            b.set_string(0, y as u16, l, ratatui::style::Style::default());
        }
        b
    }

    #[test]
    fn finds_a_one_line_scroll_up_in_a_band() {
        let shown = buf(&[
            "title",
            "line one is long enough",
            "line two is long enough",
            "line three is long enough",
            "line four is long enough",
            "status",
        ]);
        let wanted = buf(&[
            "title",
            "line two is long enough",
            "line three is long enough",
            "line four is long enough",
            "line five is new",
            "status",
        ]);
        let s = best_scroll(&shown, &wanted);
        assert_eq!(s, Some(Scroll { top: 1, bottom: 4, lines: 1, up: true }));
        let mut moved = shown.clone();
        apply(&mut moved, Scroll { top: 1, bottom: 4, lines: 1, up: true });
        assert_eq!(row(&moved, 1), row(&wanted, 1));
        assert!(row(&moved, 4).iter().all(is_blank));
    }

    #[test]
    fn finds_a_scroll_down() {
        let shown = buf(&[
            "aaaaaaaaaaaaaaaaaaaa",
            "bbbbbbbbbbbbbbbbbbbbbbb",
            "ccccccccccccccccccccc",
            "ddddddddddddddddddd",
        ]);
        let wanted = buf(&["zz", "aaaaaaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbbbbbbbbb", "ccccccccccccccccccccc"]);
        assert_eq!(best_scroll(&shown, &wanted), Some(Scroll { top: 0, bottom: 3, lines: 1, up: false }));
    }

    #[test]
    fn no_scroll_when_nothing_moved() {
        let shown = buf(&["a", "b", "c"]);
        let wanted = buf(&["x", "y", "c"]);
        assert_eq!(best_scroll(&shown, &wanted), None);
    }
}
