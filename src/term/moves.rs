//! Cursor bookkeeping and the shortest cursor movement between two cells.
//!
//! Every candidate (absolute CUP, relative CUU/CUD/CUF/CUB, CHA/VPA, backspaces, CR
//! plus line feeds) is rendered to bytes and the shortest one wins; these are a
//! handful of bytes each, so building them is cheaper than being clever.

use std::io::Write;

/// What the backend knows about the terminal cursor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cursor {
    /// Nothing known (start-up, or after output we cannot model).
    Unknown,
    /// At this column and row.
    At { x: u16, y: u16 },
    /// On this row, column not trusted: after printing into the last column (the
    /// terminal then holds a pending wrap, where relative moves differ between
    /// terminals), or after a grapheme whose width terminals disagree on. Only moves
    /// that start with CR or are absolute are safe from here.
    Row { y: u16 },
}

fn csi(out: &mut Vec<u8>, n: u16, letter: char) {
    // The parameter 1 is the default and can be left out.
    // Writing into a Vec cannot fail.
    let _ = if n == 1 { write!(out, "\x1b[{letter}") } else { write!(out, "\x1b[{n}{letter}") };
}

/// Absolute move (CUP), shortened when the column or both coordinates are 1.
fn absolute(out: &mut Vec<u8>, x: u16, y: u16) {
    // Writing into a Vec cannot fail.
    let _ = match (x, y) {
        (0, 0) => write!(out, "\x1b[H"),
        (0, _) => write!(out, "\x1b[{}H", y + 1),
        _ => write!(out, "\x1b[{};{}H", y + 1, x + 1),
    };
}

/// Vertical part of a relative move; `after_cr` allows line feeds, which are only safe
/// at column 0 (with ONLCR a line feed also returns the carriage, which is harmless there).
fn vertical(out: &mut Vec<u8>, from: u16, to: u16, after_cr: bool) {
    if to > from {
        let n = to - from;
        // "\n" is 1 byte, CUD is at least 3.
        if after_cr && n <= 3 {
            out.extend(std::iter::repeat_n(b'\n', usize::from(n)));
        } else {
            csi(out, n, 'B');
        }
    } else if to < from {
        csi(out, from - to, 'A');
    }
}

fn horizontal(out: &mut Vec<u8>, from: u16, to: u16) {
    if to > from {
        csi(out, to - from, 'C');
    } else if to < from {
        let n = from - to;
        // A backspace is 1 byte, CUB at least 3.
        if n <= 3 {
            out.extend(std::iter::repeat_n(b'\x08', usize::from(n)));
        } else {
            csi(out, n, 'D');
        }
    }
}

/// Writes the shortest known sequence that moves the cursor from `from` to `(x, y)`;
/// nothing when it is already there.
pub(crate) fn write_move(out: &mut Vec<u8>, from: Cursor, x: u16, y: u16) {
    if from == (Cursor::At { x, y }) {
        return;
    }
    let mut best = Vec::with_capacity(12);
    absolute(&mut best, x, y);
    let mut consider = |candidate: Vec<u8>| {
        if candidate.len() < best.len() {
            best = candidate;
        }
    };
    if let Cursor::At { x: cx, y: cy } = from {
        let mut rel = Vec::new();
        vertical(&mut rel, cy, y, false);
        horizontal(&mut rel, cx, x);
        consider(rel);
        if cx == x {
            // VPA: absolute row, same column.
            let mut vpa = Vec::new();
            csi(&mut vpa, y + 1, 'd');
            consider(vpa);
        }
    }
    if let Cursor::At { y: cy, .. } | Cursor::Row { y: cy } = from {
        if cy == y {
            // CHA: absolute column on the same row (also clears a pending wrap).
            let mut cha = Vec::new();
            csi(&mut cha, x + 1, 'G');
            consider(cha);
        }
        let mut cr = vec![b'\r'];
        vertical(&mut cr, cy, y, true);
        horizontal(&mut cr, 0, x);
        consider(cr);
    }
    out.extend_from_slice(&best);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mv(from: Cursor, x: u16, y: u16) -> String {
        let mut out = Vec::new();
        write_move(&mut out, from, x, y);
        String::from_utf8(out).unwrap_or_default()
    }

    #[test]
    fn no_move_when_already_there() {
        assert_eq!(mv(Cursor::At { x: 4, y: 2 }, 4, 2), "");
    }

    #[test]
    fn unknown_uses_absolute() {
        assert_eq!(mv(Cursor::Unknown, 0, 0), "\x1b[H");
        assert_eq!(mv(Cursor::Unknown, 0, 9), "\x1b[10H");
        assert_eq!(mv(Cursor::Unknown, 11, 9), "\x1b[10;12H");
    }

    #[test]
    fn picks_the_shortest() {
        // Next line, column 0: CR LF.
        assert_eq!(mv(Cursor::At { x: 30, y: 4 }, 0, 5), "\r\n");
        // Two to the right on the same row: CUF.
        assert_eq!(mv(Cursor::At { x: 5, y: 3 }, 7, 3), "\x1b[2C");
        // One to the left: backspace.
        assert_eq!(mv(Cursor::At { x: 5, y: 3 }, 4, 3), "\x08");
        // One up: CUU.
        assert_eq!(mv(Cursor::At { x: 5, y: 3 }, 5, 2), "\x1b[A");
        // Far away: absolute.
        assert_eq!(mv(Cursor::At { x: 70, y: 20 }, 3, 1), "\x1b[2;4H");
        // Pending wrap: never relative, CR based is fine.
        assert_eq!(mv(Cursor::Row { y: 3 }, 0, 4), "\r\n");
        assert_eq!(mv(Cursor::Row { y: 3 }, 79, 3), "\x1b[80G");
        assert_eq!(mv(Cursor::Row { y: 3 }, 2, 3), "\x1b[3G");
        assert_eq!(mv(Cursor::Row { y: 3 }, 0, 3), "\r");
    }
}
