//! The `term` room: the terminal output layer. A frugal, scroll-aware ratatui backend
//! ([`ScrollBackend`]) and the control strings written on purpose ([`osc`]).
//!
//! Over SSH every byte written to the terminal crosses the link. ratatui diffs frames
//! cell by cell, so when a conversation pane moves up by one message every row of the
//! pane "changed" and gets repainted. This backend sits between ratatui and the
//! terminal the way ncurses does:
//!
//! - it keeps a shadow of what the terminal shows and rebuilds the full wanted frame
//!   from the cells ratatui reports as changed;
//! - it looks for a band of full-width rows that moved up or down as a block and
//!   scrolls it (a scroll region with index / reverse index, or line deletion and
//!   insertion, whichever is shorter), then paints only the cells that still differ;
//! - it never re-sends an SGR sequence for an unchanged style (also across frames), and
//!   combines style changes into one sequence;
//! - it picks the shortest cursor move (CR, LF, backspace, relative or absolute moves),
//!   and none when printing already left the cursor in place;
//! - it shows/hides the cursor only when that changes, writes nothing for a frame that
//!   changed nothing, and hands the terminal one write per frame.
//!
//! The result on screen is the same as a full repaint would give; the property test in
//! `scroll/tests.rs` checks that through a terminal emulator model.
//!
//! # Example
//!
//! ```no_run
//! use healing_tui::term::ScrollBackend;
//! use ratatui::Terminal;
//!
//! # fn main() -> std::io::Result<()> {
//! let mut terminal = Terminal::new(ScrollBackend::new(std::io::stdout()))?;
//! terminal.clear()?; // starts from a known (blank) screen
//! terminal.draw(|frame| frame.render_widget("hello", frame.area()))?;
//! # Ok(())
//! # }
//! ```
//!
//! Scroll regions always span the full terminal width, so a pane only benefits when
//! the rows it shares with other panes also moved (or are the same on every row, like
//! borders). The `scrolling-regions` ratatui feature is not needed: scrolls are found
//! by comparing frames.

mod detect;
mod links;
mod moves;
pub mod osc;
mod sgr;
#[cfg(test)]
mod tests;

use std::io::{self, Write};

use ratatui::backend::{Backend, ClearType, WindowSize};
use ratatui::buffer::{Buffer, Cell, CellDiffOption, CellWidth};
use ratatui::layout::{Position, Rect, Size};
use ratatui::style::Modifier;

use self::detect::Scroll;
use self::links::LinkMap;
use self::moves::Cursor;
use self::sgr::Pen;

/// Scrolls are only looked for when at least this many cells changed: below that a
/// scroll cannot pay for its own escape sequences.
const MIN_CHANGES_FOR_SCROLL: usize = 2 * detect::SCROLL_OVERHEAD;

/// At most this many separate bands are scrolled per frame.
const MAX_SCROLLS_PER_FRAME: usize = 3;

/// Where the terminal size comes from.
#[derive(Debug, Clone, Copy)]
enum SizeSource {
    /// Ask the controlling terminal (through crossterm) every time.
    Terminal,
    /// A size set by the owner (tests, benches, or a size known by other means).
    Fixed(Size),
}

/// A ratatui [`Backend`] that writes frugal escape sequences to any [`Write`]r,
/// scrolling bands of rows instead of repainting them. See the [module docs](self).
///
/// Output is buffered and written to the inner writer once per frame, in
/// [`Backend::flush`] (which ratatui's `Terminal::draw` calls at the end of a frame).
#[derive(Debug)]
pub struct ScrollBackend<W: Write> {
    writer: W,
    /// Bytes of the frame being built; written out in one piece on flush.
    out: Vec<u8>,
    size: SizeSource,
    /// What the terminal shows, in ratatui's cell terms.
    shadow: Buffer,
    /// False when the terminal was changed in ways the shadow cannot follow; scroll
    /// detection is then off until the next full clear.
    shadow_valid: bool,
    cursor: Cursor,
    /// `None` while the terminal's SGR state is unknown.
    pen: Option<Pen>,
    /// `None` while unknown, so the first hide/show is always sent.
    cursor_visible: Option<bool>,
    bytes_written: u64,
    scrolls: u64,
    /// URLs on screen become OSC 8 links (see [`links`]).
    links: bool,
    /// While a frame is painted: the links it wants and the links the terminal shows.
    frame_links: Option<FrameLinks>,
    /// The link (of `frame_links.wanted`) the terminal is printing into, if any.
    open_link: Option<u32>,
}

/// The links of the frame being painted, and of what the terminal showed before it.
/// The terminal's links always match the links found in the shadow: cells it scrolls
/// keep their link, cells printed outside a link lose theirs.
#[derive(Debug)]
struct FrameLinks {
    wanted: LinkMap,
    shown: LinkMap,
}

impl<W: Write> ScrollBackend<W> {
    /// A backend writing to `writer`, sized like the controlling terminal (queried through
    /// crossterm whenever ratatui asks for the size).
    pub fn new(writer: W) -> Self {
        let size = crossterm::terminal::size()
            .map(|(width, height)| Size { width, height })
            .unwrap_or(Size { width: 0, height: 0 });
        Self::build(writer, SizeSource::Terminal, size)
    }

    /// A backend writing to `writer` with a fixed size (for tests, benches, or when the
    /// owner tracks the size itself; change it with [`ScrollBackend::set_size`]).
    pub fn with_size(writer: W, width: u16, height: u16) -> Self {
        let size = Size { width, height };
        Self::build(writer, SizeSource::Fixed(size), size)
    }

    fn build(writer: W, source: SizeSource, size: Size) -> Self {
        Self {
            writer,
            out: Vec::with_capacity(4096),
            size: source,
            shadow: Buffer::empty(Rect::new(0, 0, size.width, size.height)),
            shadow_valid: true,
            cursor: Cursor::Unknown,
            pen: None,
            cursor_visible: None,
            bytes_written: 0,
            scrolls: 0,
            links: false,
            frame_links: None,
            open_link: None,
        }
    }

    /// Makes `http(s)://` and `mailto:` URLs on screen clickable OSC 8 links (off by
    /// default). The target is the text the cells show; terminals without OSC 8 show
    /// the text unchanged. A link costs its target's length plus 14 bytes each time
    /// its cells are painted, nothing when they are scrolled.
    pub fn with_links(mut self, on: bool) -> Self {
        self.links = on;
        self
    }

    /// Changes the size reported to ratatui (only for backends made with
    /// [`ScrollBackend::with_size`]); ratatui then clears and repaints on its next draw.
    pub fn set_size(&mut self, width: u16, height: u16) {
        if let SizeSource::Fixed(_) = self.size {
            self.size = SizeSource::Fixed(Size { width, height });
        }
    }

    /// Forgets everything known about the terminal and assumes a blank screen, the
    /// cursor sent home. Call it
    /// after something else wrote to the terminal (a shell-out, a suspended session),
    /// together with ratatui's `Terminal::clear`, which makes ratatui repaint everything.
    pub fn invalidate(&mut self) {
        let size = self.current_size();
        self.shadow = Buffer::empty(Rect::new(0, 0, size.width, size.height));
        self.shadow_valid = true;
        self.cursor = Cursor::Unknown;
        self.pen = None;
        self.cursor_visible = None;
        // Put the cursor somewhere known rather than leave it unknown: ratatui's `clear`
        // asks for the cursor position, and asking the terminal means reading its answer
        // from stdin, which the input reader owns (that read timed out after `$EDITOR`).
        self.move_to(0, 0);
    }

    /// The inner writer.
    pub fn writer(&self) -> &W {
        &self.writer
    }

    /// The inner writer, mutably (tests drain a `Vec<u8>` through it).
    pub fn writer_mut(&mut self) -> &mut W {
        &mut self.writer
    }

    /// Bytes handed to the writer so far.
    pub fn bytes_written(&self) -> u64 {
        self.bytes_written
    }

    /// Band scrolls emitted so far.
    pub fn scrolls(&self) -> u64 {
        self.scrolls
    }

    fn current_size(&self) -> Size {
        match self.size {
            SizeSource::Fixed(size) => size,
            SizeSource::Terminal => crossterm::terminal::size()
                .map(|(width, height)| Size { width, height })
                .unwrap_or(self.shadow.area.as_size()),
        }
    }

    fn set_pen(&mut self, pen: Pen) {
        sgr::write_transition(&mut self.out, self.pen.as_ref(), &pen);
        self.pen = Some(pen);
    }

    fn move_to(&mut self, x: u16, y: u16) {
        moves::write_move(&mut self.out, self.cursor, x, y);
        self.cursor = Cursor::At { x, y };
    }

    /// Moves right along the row by printing again what the terminal already shows
    /// there, when that is shorter than a cursor move (ncurses does the same): a one-
    /// column gap costs 1 byte this way, 3 as CUF. Only plain ASCII cells in the current
    /// pen qualify, so the screen does not change. Returns whether it did so.
    fn reprint_gap(&mut self, x: u16, y: u16) -> bool {
        let (Cursor::At { x: cx, y: cy }, Some(pen)) = (self.cursor, self.pen) else { return false };
        if cy != y || cx >= x || x - cx > 6 || (cx > 0 && self.shadow[(cx - 1, y)].symbol().cell_width() > 1)
        {
            return false;
        }
        // Printing a link's cells outside the link would take their link away.
        let linked = |l: &FrameLinks| l.wanted.any_in(y, cx, x) || l.shown.any_in(y, cx, x);
        if self.open_link.is_some() || self.frame_links.as_ref().is_some_and(linked) {
            return false;
        }
        let gap = (cx..x).map(|t| &self.shadow[(t, y)]);
        // A blank may be reprinted as a space in any pen that shows nothing on a space.
        let blank_pen = pen.bg == ratatui::style::Color::Reset
            && !pen.modifier.intersects(Modifier::REVERSED | Modifier::UNDERLINED | Modifier::CROSSED_OUT);
        let reprintable = gap
            .clone()
            .all(|c| c.symbol().len() == 1 && (Pen::of(c) == pen || (blank_pen && *c == Cell::EMPTY)));
        let mut mv = Vec::new();
        moves::write_move(&mut mv, self.cursor, x, y);
        if !reprintable || usize::from(x - cx) >= mv.len() {
            return false;
        }
        let bytes: Vec<u8> = gap.flat_map(|c| c.symbol().bytes()).collect();
        self.out.extend_from_slice(&bytes);
        self.cursor = Cursor::At { x, y };
        true
    }

    /// Prints one cell and tracks where the terminal leaves the cursor.
    fn put(&mut self, x: u16, y: u16, cell: &Cell) {
        let want = self.frame_links.as_ref().and_then(|l| l.wanted.at(x, y));
        if self.open_link.is_some() && (want != self.open_link || self.cursor != (Cursor::At { x, y })) {
            self.close_link();
        }
        if !self.reprint_gap(x, y) {
            self.move_to(x, y);
        }
        self.set_pen(Pen::of(cell));
        if let (Some(index), None) = (want, self.open_link) {
            if let Some(target) = self.frame_links.as_ref().and_then(|l| l.wanted.target(index)) {
                crate::term::osc::link_open(&mut self.out, target);
                self.open_link = Some(index);
            }
        }
        let symbol = cell.symbol();
        self.out.extend_from_slice(symbol.as_bytes());
        let width = symbol.cell_width();
        let mut chars = symbol.chars();
        // Terminals agree with unicode-width on single code points; on multi-code-point
        // graphemes (emoji sequences, VS16) they do not, so the column is not trusted.
        let trusted = width > 0 && chars.next().is_some() && chars.next().is_none();
        let next = x.saturating_add(width);
        self.cursor = if trusted && next < self.shadow.area.width {
            Cursor::At { x: next, y }
        } else {
            // Includes the pending-wrap state after printing into the last column.
            Cursor::Row { y }
        };
    }

    fn close_link(&mut self) {
        if self.open_link.take().is_some() {
            crate::term::osc::link_close(&mut self.out);
        }
    }

    /// Cells to paint besides ratatui's changes so the terminal's links match `wanted`'s:
    /// where a link begins, ends or changes target, even if the text stayed. Sets up
    /// `frame_links` for painting; `todo` comes back sorted by row and column.
    fn plan_links<'a>(&mut self, wanted: &'a Buffer, todo: &mut Vec<(u16, u16, &'a Cell)>) {
        if !self.links {
            return;
        }
        let links = FrameLinks { wanted: LinkMap::scan(wanted), shown: LinkMap::scan(&self.shadow) };
        let extra = links.shown.differing(&links.wanted);
        if !extra.is_empty() {
            // Never a cell hidden under a wide character: painting it would cut that in half.
            let hidden = |x: u16, y: u16| x > 0 && wanted[(x - 1, y)].symbol().cell_width() > 1;
            todo.extend(
                extra.into_iter().filter(|&(x, y)| !hidden(x, y)).map(|(x, y)| (x, y, &wanted[(x, y)])),
            );
            todo.sort_by_key(|&(x, y, _)| (y, x));
            todo.dedup_by_key(|&mut (x, y, _)| (y, x));
        }
        self.frame_links = Some(links);
    }

    /// Prints a cell and follows what the terminal does to wide characters it partly
    /// overwrites: their other half turns blank (with emulator-specific attributes).
    /// Those cells are recorded in `damaged` unless painted over later.
    fn paint(&mut self, x: u16, y: u16, cell: &Cell, damaged: &mut Vec<(u16, u16)>) {
        self.put(x, y, cell);
        let width = self.shadow.area.width;
        let w = cell.symbol().cell_width().max(1);
        let end = x.saturating_add(w).min(width);
        let mut damage = |shadow: &mut Buffer, from: u16, to: u16| {
            for t in from..to {
                shadow[(t, y)] = Cell::EMPTY;
                damaged.push((t, y));
            }
        };
        // A wide character starting left of us loses its right half.
        if x > 0 && self.shadow[(x - 1, y)].symbol().cell_width() > 1 {
            damage(&mut self.shadow, x - 1, x);
        }
        // A wide character starting under us may stick out to the right.
        for s in x..end {
            let tail = s.saturating_add(self.shadow[(s, y)].symbol().cell_width()).min(width);
            if tail > end {
                damage(&mut self.shadow, end, tail);
            }
        }
        self.shadow[(x, y)] = cell.clone();
        for t in x + 1..end {
            self.shadow[(t, y)] = Cell::EMPTY;
        }
        damaged.retain(|&(dx, dy)| dy != y || dx < x || dx >= end);
    }

    /// Erases from `(x, y)` to the end of the row with EL when the wanted row is blank
    /// (default style) from there on and that is shorter than painting the `pending`
    /// cells left on this row. Returns whether it did.
    fn erase_rest_of_row(&mut self, x: u16, y: u16, pending: usize, wanted: &Buffer) -> bool {
        let width = self.shadow.area.width;
        // EL costs 3 bytes, plus 3 to reset the pen (erased cells take its background).
        let cost = if self.pen == Some(Pen::DEFAULT) { 3 } else { 6 };
        if pending <= cost
            || (x > 0 && self.shadow[(x - 1, y)].symbol().cell_width() > 1)
            || (x..width).any(|t| wanted[(t, y)] != Cell::EMPTY)
        {
            return false;
        }
        self.close_link();
        if !self.reprint_gap(x, y) {
            self.move_to(x, y);
        }
        self.set_pen(Pen::DEFAULT);
        self.out.extend_from_slice(b"\x1b[K");
        for t in x..width {
            self.shadow[(t, y)] = Cell::EMPTY;
        }
        true
    }

    /// Erases a run of cells with ECH when the wanted frame is blank (default style) from
    /// `(x, y)` on and that is shorter than painting the `pending` cells (`(column, cell)`,
    /// in order, on this row from `x`) that fall into the run; the cursor stays. Returns the
    /// column after the erased run. The blank run may cross cells that are already blank.
    fn erase_run(&mut self, x: u16, y: u16, pending: &[u16], wanted: &Buffer) -> Option<u16> {
        let width = self.shadow.area.width;
        let blank_to = (x..width).find(|&t| wanted[(t, y)] != Cell::EMPTY).unwrap_or(width);
        // Cells that are wide in the shadow would be cut in half by an erase: stop before them.
        let end = (x..blank_to).find(|&t| self.shadow[(t, y)].symbol().cell_width() > 1).unwrap_or(blank_to);
        let covered: Vec<u16> = pending.iter().copied().take_while(|&t| t < end).collect();
        let last = *covered.last()?;
        let n = last + 1 - x;
        // CSI n X, plus 3 to reset the pen (erased cells take its background).
        let cost = 3 + n.to_string().len() + if self.pen == Some(Pen::DEFAULT) { 0 } else { 3 };
        // Painting them costs a byte each, plus a cursor move per gap between them.
        let gaps = covered.windows(2).filter(|p| p[1] > p[0] + 1).count();
        let paint = covered.len() + 3 * gaps;
        if paint <= cost || (x > 0 && self.shadow[(x - 1, y)].symbol().cell_width() > 1) {
            return None;
        }
        // Blanks are no link's: a move or an erase inside an open link would carry it
        // onto cells it does not cover.
        self.close_link();
        if !self.reprint_gap(x, y) {
            self.move_to(x, y);
        }
        self.set_pen(Pen::DEFAULT);
        // Writing into a Vec cannot fail.
        let _ = if n == 1 { write!(self.out, "\x1b[X") } else { write!(self.out, "\x1b[{n}X") };
        for t in x..=last {
            self.shadow[(t, y)] = Cell::EMPTY;
        }
        Some(last + 1)
    }

    /// Repaints cells that a partial overwrite of a wide character blanked, so the screen
    /// shows the wanted frame there too (ratatui's cell diff does not know about them).
    fn repair(&mut self, wanted: &Buffer, mut damaged: Vec<(u16, u16)>) {
        // Each repair paints a blank-shown cell; bounded in case of a pathological frame.
        let mut budget = self.shadow.content.len();
        while let Some((x, y)) = damaged.pop() {
            if budget == 0 {
                break;
            }
            budget -= 1;
            let hidden = x > 0 && wanted[(x - 1, y)].symbol().cell_width() > 1;
            // The blank the terminal left has unknown attributes: always repaint it.
            if !hidden {
                self.paint(x, y, &wanted[(x, y)], &mut damaged);
            }
        }
    }

    /// Scrolls a band, with whichever of two equivalent sequences is shorter (counting
    /// the move to the first scrolled-in row, where painting starts):
    /// - a scroll region: DECSTBM, line feeds or reverse indexes at its margin, region
    ///   reset (which homes the cursor);
    /// - line deletion and insertion: DL at one edge of the band and IL at the other,
    ///   which leaves the rows outside the band where they were and the cursor on the
    ///   first scrolled-in row.
    fn emit_scroll(&mut self, scroll: Scroll) {
        // Rows scrolled in take the current background (BCE): make it the default.
        self.set_pen(Pen::DEFAULT);
        let (region, region_cursor) = self.region_scroll(scroll);
        let (lines, lines_cursor) = self.line_scroll(scroll);
        let first_new = if scroll.up { scroll.bottom + 1 - scroll.lines } else { scroll.top };
        let cost = |bytes: &[u8], cursor: Cursor| {
            let mut mv = Vec::new();
            moves::write_move(&mut mv, cursor, 0, first_new);
            bytes.len() + mv.len()
        };
        if cost(&lines, lines_cursor) < cost(&region, region_cursor) {
            self.out.extend_from_slice(&lines);
            self.cursor = lines_cursor;
        } else {
            self.out.extend_from_slice(&region);
            self.cursor = region_cursor;
        }
        detect::apply(&mut self.shadow, scroll);
        self.scrolls += 1;
    }

    /// The scroll-region form of `scroll` and the cursor it leaves: line feeds at the
    /// bottom margin (up) or reverse index at the top margin (down). SU/SD would be
    /// shorter for several lines but are missing from some terminals (the Linux console).
    fn region_scroll(&self, scroll: Scroll) -> (Vec<u8>, Cursor) {
        let mut out = Vec::new();
        let height = self.shadow.area.height;
        let whole_screen = scroll.top == 0 && scroll.bottom + 1 == height;
        let mut cursor = self.cursor;
        if !whole_screen {
            // Writing into a Vec cannot fail.
            let _ = if scroll.bottom + 1 == height {
                write!(out, "\x1b[{}r", scroll.top + 1)
            } else {
                write!(out, "\x1b[{};{}r", scroll.top + 1, scroll.bottom + 1)
            };
            // Terminals disagree on where DECSTBM leaves the cursor (home, or the top
            // margin), so the next move must be absolute.
            cursor = Cursor::Unknown;
        }
        let (margin, step): (u16, &[u8]) =
            if scroll.up { (scroll.bottom, b"\n") } else { (scroll.top, b"\x1bM") };
        moves::write_move(&mut out, cursor, 0, margin);
        for _ in 0..scroll.lines {
            out.extend_from_slice(step);
        }
        if whole_screen {
            (out, Cursor::At { x: 0, y: margin })
        } else {
            // Resetting the region homes the cursor.
            out.extend_from_slice(b"\x1b[r");
            (out, Cursor::At { x: 0, y: 0 })
        }
    }

    /// The DL/IL form of `scroll` and the cursor it leaves.
    fn line_scroll(&self, scroll: Scroll) -> (Vec<u8>, Cursor) {
        let mut out = Vec::new();
        let mut cursor = self.cursor;
        let below_band = scroll.bottom + 1 < self.shadow.area.height;
        let n = scroll.lines;
        let mut op = |out: &mut Vec<u8>, y: u16, letter: char| {
            moves::write_move(out, cursor, 0, y);
            // Writing into a Vec cannot fail.
            let _ = if n == 1 { write!(out, "\x1b[{letter}") } else { write!(out, "\x1b[{n}{letter}") };
            // IL and DL leave the cursor at (or move it to) the left margin of its row.
            cursor = Cursor::At { x: 0, y };
        };
        let tail = scroll.bottom + 1 - n;
        if scroll.up {
            op(&mut out, scroll.top, 'M');
            if below_band {
                op(&mut out, tail, 'L');
            }
        } else {
            if below_band {
                op(&mut out, tail, 'M');
            }
            op(&mut out, scroll.top, 'L');
        }
        (out, cursor)
    }

    /// Blanks `cells` of the shadow (by index) after an erase.
    fn blank_shadow(&mut self, range: std::ops::Range<usize>) {
        let len = self.shadow.content.len();
        let range = range.start.min(len)..range.end.min(len);
        self.shadow.content[range].fill(Cell::EMPTY);
    }
}

/// Whether `cell` looks on screen exactly like a blank cell of the default style: a space
/// whose style shows nothing (a foreground colour, bold or italic do not show on a space;
/// a background, reverse video, underline or strike-through do). Such cells are kept as
/// blanks, so erases and cursor moves can stand in for them and no SGR is sent for them.
fn shows_as_blank(cell: &Cell) -> bool {
    use ratatui::style::Color;
    let shows = Modifier::REVERSED | Modifier::UNDERLINED | Modifier::CROSSED_OUT;
    cell.symbol() == " "
        && cell.bg == Color::Reset
        && !cell.modifier.intersects(shows)
        && matches!(cell.diff_option, CellDiffOption::None)
}

/// Applies a changed cell to a full frame the way ratatui's own buffer holds it: the
/// columns hidden under a wide character are blank.
fn apply_change(frame: &mut Buffer, x: u16, y: u16, cell: &Cell) {
    let width = frame.area.width;
    let index = usize::from(y) * usize::from(width) + usize::from(x);
    frame.content[index] = if shows_as_blank(cell) { Cell::EMPTY } else { cell.clone() };
    if !matches!(cell.diff_option, CellDiffOption::ForcedWidth(_)) {
        let wide = cell.symbol().cell_width();
        for i in 1..wide {
            if x + i < width {
                frame.content[index + usize::from(i)] = Cell::EMPTY;
            }
        }
    }
}

impl<W: Write> Backend for ScrollBackend<W> {
    type Error = io::Error;

    fn draw<'a, I>(&mut self, content: I) -> io::Result<()>
    where
        I: Iterator<Item = (u16, u16, &'a Cell)>,
    {
        let changes: Vec<(u16, u16, &Cell)> = content.collect();
        if changes.is_empty() {
            return Ok(());
        }
        let area = self.shadow.area;
        if changes.iter().any(|&(x, y, _)| x >= area.width || y >= area.height) {
            // The frame does not fit the shadow (a resize nobody told us about): paint
            // exactly what ratatui asked for and stop trusting the shadow.
            self.shadow_valid = false;
            for (x, y, cell) in changes {
                self.put(x, y, cell);
                if x < area.width && y < area.height {
                    apply_change(&mut self.shadow, x, y, cell);
                }
            }
            return Ok(());
        }
        let mut wanted = self.shadow.clone();
        for &(x, y, cell) in &changes {
            apply_change(&mut wanted, x, y, cell);
        }
        if self.shadow_valid && changes.len() >= MIN_CHANGES_FOR_SCROLL {
            for _ in 0..MAX_SCROLLS_PER_FRAME {
                let Some(scroll) = detect::best_scroll(&self.shadow, &wanted) else { break };
                self.emit_scroll(scroll);
            }
        }
        let mut todo: Vec<(u16, u16, &Cell)> = if self.shadow_valid {
            // Diff what the terminal shows now against the wanted frame with ratatui's own
            // rules (wide characters, forced updates), so only really new cells are sent
            // (after a scroll, or where a change only turned a styled space into a blank);
            // ratatui's own list is all there is once the shadow is not trusted.
            self.shadow.diff_iter(&wanted).map(|(x, y, _)| (x, y, &wanted[(x, y)])).collect()
        } else {
            changes
        };
        self.plan_links(&wanted, &mut todo);
        let mut damaged = Vec::new();
        // Cells `from..to` of row `y` erased as wanted: (y, from, to).
        let mut erased: Option<(u16, u16, u16)> = None;
        for (i, &(x, y, cell)) in todo.iter().enumerate() {
            if erased.is_some_and(|(ey, from, to)| ey == y && x >= from && x < to) {
                // Already blank since the erase, as wanted.
                continue;
            }
            let rest: Vec<u16> =
                todo[i..].iter().take_while(|&&(_, ty, _)| ty == y).map(|&(tx, _, _)| tx).collect();
            if self.erase_rest_of_row(x, y, rest.len(), &wanted) {
                erased = Some((y, x, u16::MAX));
                damaged.retain(|&(dx, dy)| dy != y || dx < x);
                continue;
            }
            if let Some(to) = self.erase_run(x, y, &rest, &wanted) {
                erased = Some((y, x, to));
                damaged.retain(|&(dx, dy)| dy != y || dx < x || dx >= to);
                continue;
            }
            self.paint(x, y, cell, &mut damaged);
        }
        self.repair(&wanted, damaged);
        self.close_link();
        self.frame_links = None;
        self.shadow = wanted;
        Ok(())
    }

    fn append_lines(&mut self, n: u16) -> io::Result<()> {
        // New lines take the current background (BCE).
        self.set_pen(Pen::DEFAULT);
        for _ in 0..n {
            self.out.push(b'\n');
            // With or without ONLCR the row is known; the column is not.
            self.cursor = match self.cursor {
                Cursor::At { y, .. } | Cursor::Row { y } => {
                    let last = self.shadow.area.height.saturating_sub(1);
                    if y >= last {
                        if last > 0 {
                            detect::apply(
                                &mut self.shadow,
                                Scroll { top: 0, bottom: last, lines: 1, up: true },
                            );
                        }
                        Cursor::Row { y: last }
                    } else {
                        Cursor::Row { y: y + 1 }
                    }
                }
                Cursor::Unknown => {
                    self.shadow_valid = false;
                    Cursor::Unknown
                }
            };
        }
        // Called outside frames (inline viewports): write it now, as crossterm's does.
        self.flush()
    }

    fn hide_cursor(&mut self) -> io::Result<()> {
        if self.cursor_visible != Some(false) {
            self.out.extend_from_slice(b"\x1b[?25l");
            self.cursor_visible = Some(false);
            // Also called outside frames (start-up, shutdown): write it now. Inside a
            // frame this only happens when the visibility changes.
            self.flush()?;
        }
        Ok(())
    }

    fn show_cursor(&mut self) -> io::Result<()> {
        if self.cursor_visible != Some(true) {
            self.out.extend_from_slice(b"\x1b[?25h");
            self.cursor_visible = Some(true);
            // As in `hide_cursor`: rare, and may come outside a frame.
            self.flush()?;
        }
        Ok(())
    }

    fn get_cursor_position(&mut self) -> io::Result<Position> {
        match (self.cursor, self.size) {
            (Cursor::At { x, y }, _) => Ok(Position { x, y }),
            (_, SizeSource::Terminal) => {
                // Only the terminal knows; it answers on stdin, after seeing our output.
                self.flush()?;
                let (x, y) = crossterm::cursor::position()?;
                self.cursor = Cursor::At { x, y };
                Ok(Position { x, y })
            }
            (Cursor::Row { y }, SizeSource::Fixed(_)) => Ok(Position { x: 0, y }),
            (Cursor::Unknown, SizeSource::Fixed(_)) => Ok(Position::ORIGIN),
        }
    }

    fn set_cursor_position<P: Into<Position>>(&mut self, position: P) -> io::Result<()> {
        let Position { x, y } = position.into();
        self.move_to(x, y);
        Ok(())
    }

    fn clear(&mut self) -> io::Result<()> {
        self.clear_region(ClearType::All)
    }

    fn clear_region(&mut self, clear_type: ClearType) -> io::Result<()> {
        // Erased cells take the current background (BCE): make it the default.
        self.set_pen(Pen::DEFAULT);
        let width = usize::from(self.shadow.area.width);
        let at = match self.cursor {
            Cursor::At { x, y } => Some((usize::from(x), usize::from(y))),
            _ => None,
        };
        let row = match self.cursor {
            Cursor::At { y, .. } | Cursor::Row { y } => Some(usize::from(y)),
            Cursor::Unknown => None,
        };
        let (sequence, erased): (&[u8], Option<std::ops::Range<usize>>) = match clear_type {
            ClearType::All => {
                self.out.extend_from_slice(b"\x1b[2J");
                // A full clear is the one moment the screen is known again: resize the
                // shadow to the current size, blank.
                let size = self.current_size();
                self.shadow = Buffer::empty(Rect::new(0, 0, size.width, size.height));
                self.shadow_valid = true;
                return self.flush();
            }
            ClearType::AfterCursor => (b"\x1b[J", at.map(|(x, y)| y * width + x..usize::MAX)),
            ClearType::BeforeCursor => (b"\x1b[1J", at.map(|(x, y)| 0..y * width + x + 1)),
            ClearType::CurrentLine => (b"\x1b[2K", row.map(|y| y * width..(y + 1) * width)),
            ClearType::UntilNewLine => (b"\x1b[K", at.map(|(x, y)| y * width + x..(y + 1) * width)),
        };
        self.out.extend_from_slice(sequence);
        match erased {
            Some(range) => self.blank_shadow(range),
            None => self.shadow_valid = false,
        }
        // Clears come outside frames too (ratatui's `Terminal::clear`): write them now.
        self.flush()
    }

    fn size(&self) -> io::Result<Size> {
        match self.size {
            SizeSource::Fixed(size) => Ok(size),
            SizeSource::Terminal => {
                let (width, height) = crossterm::terminal::size()?;
                Ok(Size { width, height })
            }
        }
    }

    fn window_size(&mut self) -> io::Result<WindowSize> {
        match self.size {
            SizeSource::Fixed(size) => {
                Ok(WindowSize { columns_rows: size, pixels: Size { width: 0, height: 0 } })
            }
            SizeSource::Terminal => {
                let ws = crossterm::terminal::window_size()?;
                Ok(WindowSize {
                    columns_rows: Size { width: ws.columns, height: ws.rows },
                    pixels: Size { width: ws.width, height: ws.height },
                })
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        if !self.out.is_empty() {
            self.writer.write_all(&self.out)?;
            self.bytes_written += self.out.len() as u64;
            self.out.clear();
        }
        self.writer.flush()
    }
}

impl<W: Write> Drop for ScrollBackend<W> {
    /// Leaves the terminal with the default style, so colours do not bleed into
    /// whatever runs after the application. Errors cannot be reported from here.
    fn drop(&mut self) {
        if self.pen.is_some_and(|pen| pen != Pen::DEFAULT) {
            self.set_pen(Pen::DEFAULT);
        }
        let _ = self.flush();
    }
}
