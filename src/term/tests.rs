//! Tests of the whole backend through ratatui's `Terminal` and the `vt100` terminal
//! model: the screen must match what ratatui's plain crossterm backend produces, with
//! fewer bytes.

use std::cell::RefCell;
use std::io::Write;
use std::rc::Rc;

use proptest::prelude::*;
use ratatui::backend::CrosstermBackend;
use ratatui::buffer::{Buffer, CellWidth};
use ratatui::layout::{Position, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::{Terminal, TerminalOptions, Viewport};

use super::ScrollBackend;

/// One row of a frame: an optional background fill for the whole row, then spans.
#[derive(Debug, Clone, Default, PartialEq)]
struct Row {
    fill: Option<Style>,
    spans: Vec<(String, Style)>,
}

impl Row {
    fn plain(text: &str) -> Row {
        Row { fill: None, spans: vec![(text.to_string(), Style::default())] }
    }
}

/// A frame: a side column of `side_width` cells (which stays put), the main area, and a
/// right column of `right_width` cells (like the inbox and pet panes beside a conversation).
#[derive(Debug, Clone, PartialEq, Default)]
struct Frame {
    side_width: u16,
    side: Vec<Row>,
    main: Vec<Row>,
    cursor: Option<(u16, u16)>,
    right_width: u16,
    right: Vec<Row>,
}

fn draw_row(buf: &mut Buffer, x0: u16, width: u16, y: u16, row: &Row) {
    if width == 0 {
        return;
    }
    if let Some(fill) = row.fill {
        buf.set_style(Rect::new(x0, y, width, 1), fill);
    }
    let mut x = x0;
    for (text, style) in &row.spans {
        let room = usize::from((x0 + width).saturating_sub(x));
        let (next, _) = buf.set_stringn(x, y, text, room, *style);
        x = next;
    }
}

fn render(buf: &mut Buffer, frame: &Frame) {
    let width = buf.area.width;
    let side = frame.side_width.min(width);
    let right = frame.right_width.min(width - side);
    let main = width - side - right;
    for y in 0..buf.area.height {
        if let Some(row) = frame.side.get(usize::from(y)) {
            draw_row(buf, 0, side, y, row);
        }
        if let Some(row) = frame.main.get(usize::from(y)) {
            draw_row(buf, side, main, y, row);
        }
        if let Some(row) = frame.right.get(usize::from(y)) {
            draw_row(buf, side + main, right, y, row);
        }
    }
}

/// Cell-by-cell view of a vt100 screen: contents and every attribute vt100 models.
type ScreenCell = (String, vt100::Color, vt100::Color, bool, bool, bool, bool, bool, bool, bool);
type Screen = Vec<ScreenCell>;

fn screen(parser: &vt100::Parser) -> Screen {
    let s = parser.screen();
    let (rows, cols) = s.size();
    let (rows, cols) = (rows.get(), cols.get());
    let mut cells = Vec::new();
    for r in 0..rows {
        for c in 0..cols {
            let cell = s.cell(r, c).expect("cell inside the screen");
            // A never-written cell ("") and a written space look the same.
            let contents = match cell.contents() {
                "" if !cell.is_wide_continuation() => " ",
                other => other,
            };
            cells.push((
                contents.to_string(),
                cell.fgcolor(),
                cell.bgcolor(),
                cell.bold(),
                cell.dim(),
                cell.italic(),
                cell.underline(),
                cell.inverse(),
                cell.is_wide(),
                cell.is_wide_continuation(),
            ));
        }
    }
    cells
}

fn describe(parser: &vt100::Parser) -> String {
    parser.screen().rows(0, parser.screen().size().1.get()).collect::<Vec<_>>().join("|\n")
}

fn vt100_parser(width: u16, height: u16) -> vt100::Parser {
    let nz = |n: u16| std::num::NonZeroU16::new(n).expect("non-empty test terminal");
    vt100::Parser::new(nz(height), nz(width), 0)
}

/// A `Write` whose bytes can be taken out while a backend owns it (ratatui's
/// `CrosstermBackend` does not hand out its writer mutably).
#[derive(Debug, Clone, Default)]
struct Shared(Rc<RefCell<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Shared {
    fn take(&self) -> Vec<u8> {
        std::mem::take(&mut *self.0.borrow_mut())
    }
}

fn vt_color(color: Color) -> vt100::Color {
    match color {
        Color::Reset => vt100::Color::Default,
        Color::Black => vt100::Color::Idx(0),
        Color::Red => vt100::Color::Idx(1),
        Color::Green => vt100::Color::Idx(2),
        Color::Yellow => vt100::Color::Idx(3),
        Color::Blue => vt100::Color::Idx(4),
        Color::Magenta => vt100::Color::Idx(5),
        Color::Cyan => vt100::Color::Idx(6),
        Color::Gray => vt100::Color::Idx(7),
        Color::DarkGray => vt100::Color::Idx(8),
        Color::LightRed => vt100::Color::Idx(9),
        Color::LightGreen => vt100::Color::Idx(10),
        Color::LightYellow => vt100::Color::Idx(11),
        Color::LightBlue => vt100::Color::Idx(12),
        Color::LightMagenta => vt100::Color::Idx(13),
        Color::LightCyan => vt100::Color::Idx(14),
        Color::White => vt100::Color::Idx(15),
        Color::Indexed(i) => vt100::Color::Idx(i),
        Color::Rgb(r, g, b) => vt100::Color::Rgb(r, g, b),
    }
}

/// Whether a vt100 cell shows exactly what the frame has at `(x, y)`.
fn matches_frame(cell: &ScreenCell, frame: &Buffer, x: u16, y: u16) -> bool {
    let under_wide = x > 0 && frame[(x - 1, y)].symbol().cell_width() > 1;
    if under_wide {
        return cell.9;
    }
    let c = &frame[(x, y)];
    let m = c.modifier;
    // A space shows neither its foreground colour nor bold, dim or italic: any of those may
    // be left out.
    let invisible = c.symbol() == " "
        && c.bg == Color::Reset
        && !m.intersects(Modifier::REVERSED | Modifier::UNDERLINED | Modifier::CROSSED_OUT);
    if invisible {
        return cell.0 == " " && cell.2 == vt100::Color::Default && !cell.6 && !cell.7 && !cell.8 && !cell.9;
    }
    *cell
        == (
            c.symbol().to_string(),
            vt_color(c.fg),
            vt_color(c.bg),
            m.contains(Modifier::BOLD),
            m.contains(Modifier::DIM),
            m.contains(Modifier::ITALIC),
            m.contains(Modifier::UNDERLINED),
            m.contains(Modifier::REVERSED),
            c.symbol().cell_width() > 1,
            false,
        )
}

/// The two terminals under test: ours and ratatui's plain crossterm backend, each
/// feeding its own vt100 model.
struct Pair {
    ours: Terminal<ScrollBackend<Vec<u8>>>,
    plain: Terminal<CrosstermBackend<Shared>>,
    plain_out: Shared,
    /// The last frame as ratatui renders it.
    expected: Buffer,
    ours_vt: vt100::Parser,
    plain_vt: vt100::Parser,
    /// What our backend wrote for the last frame.
    last: Vec<u8>,
}

/// Bytes each backend wrote for one frame.
#[derive(Debug, Clone, Copy)]
struct Bytes {
    ours: usize,
    plain: usize,
}

impl Pair {
    fn new(width: u16, height: u16) -> Pair {
        Pair::with_links(width, height, false)
    }

    fn with_links(width: u16, height: u16, links: bool) -> Pair {
        let backend = ScrollBackend::with_size(Vec::new(), width, height).with_links(links);
        let ours = Terminal::new(backend).expect("terminal");
        // The plain backend would ask the real terminal for its size; a fixed viewport
        // of the same size avoids that.
        let plain_out = Shared::default();
        let plain = Terminal::with_options(
            CrosstermBackend::new(plain_out.clone()),
            TerminalOptions { viewport: Viewport::Fixed(Rect::new(0, 0, width, height)) },
        )
        .expect("terminal");
        Pair {
            ours,
            plain,
            plain_out,
            expected: Buffer::empty(Rect::new(0, 0, width, height)),
            ours_vt: vt100_parser(width, height),
            plain_vt: vt100_parser(width, height),
            last: Vec::new(),
        }
    }

    fn draw(&mut self, frame: &Frame) -> Bytes {
        let draw = |f: &mut ratatui::Frame| {
            render(f.buffer_mut(), frame);
            if let Some((x, y)) = frame.cursor {
                f.set_cursor_position(Position { x, y });
            }
        };
        self.expected.reset();
        render(&mut self.expected, frame);
        self.ours.draw(draw).expect("draw");
        self.plain.draw(draw).expect("draw");
        let ours: Vec<u8> = self.ours.backend_mut().writer_mut().drain(..).collect();
        let plain: Vec<u8> = self.plain_out.take();
        self.last = ours.clone();
        self.ours_vt.process(&ours);
        self.plain_vt.process(&plain);
        Bytes { ours: ours.len(), plain: plain.len() }
    }

    /// Every cell of our screen must match the plain backend's screen, or else be exactly
    /// what the frame says. (ratatui's cell diff leaves some emulator-specific artifacts
    /// when a character overwrites half of a wide one; where our history differs from the
    /// plain backend's, we may not reproduce the same artifact, but must then be right.)
    fn assert_same_screen(&self, context: &str) {
        let (ours, plain) = (screen(&self.ours_vt), screen(&self.plain_vt));
        let width = usize::from(self.ours_vt.screen().size().1.get());
        let bad = (0..ours.len()).find(|&i| {
            let (x, y) = ((i % width) as u16, (i / width) as u16);
            ours[i] != plain[i] && !matches_frame(&ours[i], &self.expected, x, y)
        });
        if let Some(i) = bad {
            panic!(
                "{context}: screens differ first at column {} row {}:\n ours {:?}\nplain {:?}\nours:\n{}\nplain:\n{}",
                i % width,
                i / width,
                ours[i],
                plain[i],
                describe(&self.ours_vt),
                describe(&self.plain_vt)
            );
        }
    }
}

/// A deterministic, varied message text of about `len` characters (message `n`).
fn message_text(n: usize, len: usize) -> String {
    const WORDS: [&str; 16] = [
        "feeling", "better", "today", "thanks", "for", "asking", "the", "walk", "helped", "a", "lot",
        "slept", "badly", "again", "see", "you",
    ];
    let mut text = String::new();
    let mut i = n.wrapping_mul(7);
    while text.len() < len {
        i = i.wrapping_mul(31).wrapping_add(n + 11);
        text.push_str(WORDS[i % WORDS.len()]);
        text.push(' ');
    }
    text.truncate(len);
    text
}

/// A conversation-like frame: title bar, `band` message rows, compose line, status bar.
fn conversation(width: u16, height: u16, first: usize) -> Frame {
    let bar = Style::default().fg(Color::Black).bg(Color::Cyan);
    let mut main =
        vec![Row { fill: Some(bar), spans: vec![(" sam".into(), bar.add_modifier(Modifier::BOLD))] }];
    for i in 0..usize::from(height) - 3 {
        let n = first + i;
        main.push(Row {
            fill: None,
            spans: vec![
                (format!("12:{:02} ", n % 60), Style::default().fg(Color::DarkGray)),
                ("sam: ".into(), Style::default().fg(Color::Green).add_modifier(Modifier::BOLD)),
                (message_text(n, 45), Style::default()),
            ],
        });
    }
    main.push(Row::plain("> "));
    main.push(Row { fill: Some(bar), spans: vec![(format!(" {width}x{height} Biscuit ♥72"), bar)] });
    Frame { main, ..Frame::default() }
}

#[test]
fn one_line_scroll_of_a_20_row_band_costs_far_less_than_a_repaint() {
    let (width, height) = (80, 23); // 20 message rows + title, compose and status
    let mut pair = Pair::new(width, height);
    pair.draw(&conversation(width, height, 0));
    pair.assert_same_screen("first frame");
    let bytes = pair.draw(&conversation(width, height, 1));
    pair.assert_same_screen("scrolled frame");
    assert_eq!(pair.ours.backend().scrolls(), 1);
    assert!(
        (bytes.ours as f64) < 0.5 * bytes.plain as f64,
        "ours {} bytes, plain {} bytes",
        bytes.ours,
        bytes.plain
    );
}

#[test]
fn scrolling_down_is_found_too() {
    let (width, height) = (60, 12);
    let mut pair = Pair::new(width, height);
    pair.draw(&conversation(width, height, 5));
    let bytes = pair.draw(&conversation(width, height, 3));
    pair.assert_same_screen("scrolled down two rows");
    assert_eq!(pair.ours.backend().scrolls(), 1);
    assert!(bytes.ours < bytes.plain / 2, "{bytes:?}");
}

#[test]
fn an_unchanged_frame_writes_nothing() {
    let mut pair = Pair::new(40, 10);
    let mut frame = conversation(40, 10, 0);
    pair.draw(&frame);
    assert_eq!(pair.draw(&frame).ours, 0, "hidden cursor");
    frame.cursor = Some((2, 8));
    assert!(pair.draw(&frame).ours > 0, "showing the cursor is output");
    assert_eq!(pair.draw(&frame).ours, 0, "cursor shown at the same place");
    pair.assert_same_screen("after idle frames");
}

fn sgr_count(bytes: &[u8]) -> usize {
    let text = String::from_utf8_lossy(bytes);
    text.split("\x1b[")
        .skip(1)
        .filter(|rest| rest.find(|c: char| c.is_ascii_alphabetic()).is_some_and(|i| &rest[i..=i] == "m"))
        .count()
}

#[test]
fn sgr_is_not_repeated_for_runs_of_the_same_style() {
    let style = Style::default().fg(Color::Red).bg(Color::Blue).add_modifier(Modifier::BOLD);
    let row = |text: &str| Frame {
        main: vec![Row { fill: None, spans: vec![(text.into(), style)] }],
        ..Frame::default()
    };
    let mut term = Terminal::new(ScrollBackend::with_size(Vec::new(), 20, 1)).expect("terminal");
    term.draw(|f| render(f.buffer_mut(), &row("hello world"))).expect("draw");
    let first: Vec<u8> = term.backend_mut().writer_mut().drain(..).collect();
    assert_eq!(sgr_count(&first), 1, "{:?}", String::from_utf8_lossy(&first));
    // Same style in the next frame: the pen is still set, no SGR at all.
    term.draw(|f| render(f.buffer_mut(), &row("jello world"))).expect("draw");
    let second: Vec<u8> = term.backend_mut().writer_mut().drain(..).collect();
    assert_eq!(sgr_count(&second), 0, "{:?}", String::from_utf8_lossy(&second));
    // The cursor sits in the last column (pending wrap), so CR is the shortest safe move.
    assert_eq!(second, b"\rj", "one cursor move, one character");
}

#[test]
fn wide_characters_advance_two_columns_without_extra_moves() {
    let frame = Frame { main: vec![Row::plain("中文ab😀c")], ..Frame::default() };
    let mut pair = Pair::new(12, 2);
    pair.draw(&frame);
    pair.assert_same_screen("wide characters");
    let mut term = Terminal::new(ScrollBackend::with_size(Vec::new(), 12, 2)).expect("terminal");
    term.draw(|f| render(f.buffer_mut(), &frame)).expect("draw");
    let out = String::from_utf8_lossy(term.backend().writer()).into_owned();
    assert!(out.contains("中文ab😀c"), "{out:?}");
}

#[test]
fn clear_resets_the_shadow() {
    let mut pair = Pair::new(30, 8);
    let frame = conversation(30, 8, 0);
    pair.draw(&frame);
    // (The plain backend cannot clear without a real terminal to ask for its size: a
    // fresh pair stands in for it.)
    pair.ours.clear().expect("clear");
    let mut fresh = Pair::new(30, 8);
    fresh.draw(&frame);
    let before = pair.ours.backend().bytes_written();
    pair.draw(&frame);
    let repaint = pair.ours.backend().bytes_written() - before;
    assert!(repaint > 100, "everything is repainted after a clear: {repaint}");
    fresh.ours_vt = pair.ours_vt;
    fresh.assert_same_screen("after clear");
}

#[test]
fn a_side_column_that_stays_put_prevents_a_wrong_scroll() {
    let (width, height) = (50, 12);
    let mut pair = Pair::new(width, height);
    let with_side = |first: usize| {
        let mut f = conversation(width - 10, height, first);
        f.side_width = 10;
        f.side = (0..height).map(|i| Row::plain(&format!("inbox {i}"))).collect();
        f
    };
    pair.draw(&with_side(0));
    pair.draw(&with_side(1));
    pair.assert_same_screen("side column");
}

fn lines_frame(lines: &[String]) -> Frame {
    Frame { main: lines.iter().map(|l| Row::plain(l)).collect(), ..Frame::default() }
}

#[test]
fn a_whole_screen_scroll_is_a_line_feed_and_a_band_uses_dl_il() {
    let texts: Vec<String> = (0..12).map(|n| message_text(n, 30)).collect();
    let mut pair = Pair::new(30, 10);
    pair.draw(&lines_frame(&texts[0..10]));
    pair.draw(&lines_frame(&texts[1..11]));
    pair.assert_same_screen("whole screen scrolled");
    // Check the sequences on a fresh backend.
    let mut term = Terminal::new(ScrollBackend::with_size(Vec::new(), 30, 10)).expect("terminal");
    term.draw(|f| render(f.buffer_mut(), &lines_frame(&texts[0..10]))).expect("draw");
    term.backend_mut().writer_mut().clear();
    term.draw(|f| render(f.buffer_mut(), &lines_frame(&texts[1..11]))).expect("draw");
    let out = String::from_utf8_lossy(term.backend().writer()).into_owned();
    // The cursor was left on the last row: CR, then a line feed there scrolls the screen.
    assert!(out.starts_with("\r\n"), "{out:?}");
    // A band in the middle (first and last rows fixed): DL at its top, IL at its bottom.
    let mut fixed = texts[1..11].to_vec();
    fixed[0] = "title".into();
    fixed[9] = "status".into();
    let mut next = texts[2..12].to_vec();
    next[0] = "title".into();
    next[9] = "status".into();
    let mut pair = Pair::new(30, 10);
    pair.draw(&lines_frame(&fixed));
    pair.draw(&lines_frame(&next));
    pair.assert_same_screen("band scrolled");
    term.draw(|f| render(f.buffer_mut(), &lines_frame(&fixed))).expect("draw");
    term.backend_mut().writer_mut().clear();
    term.draw(|f| render(f.buffer_mut(), &lines_frame(&next))).expect("draw");
    let out = String::from_utf8_lossy(term.backend().writer()).into_owned();
    assert!(out.starts_with("\x1b[2H\x1b[M\x1b[9H\x1b[L"), "{out:?}");
}

#[test]
fn a_row_that_got_shorter_is_erased_with_el() {
    let row = |text: &str| Frame { main: vec![Row::plain(text)], ..Frame::default() };
    let mut pair = Pair::new(40, 2);
    pair.draw(&row("a fairly long line of text that ends here"));
    pair.draw(&row("a short one"));
    pair.assert_same_screen("shorter row");
    let mut term = Terminal::new(ScrollBackend::with_size(Vec::new(), 40, 2)).expect("terminal");
    term.draw(|f| render(f.buffer_mut(), &row("a fairly long line of text that ends here"))).expect("draw");
    term.backend_mut().writer_mut().clear();
    term.draw(|f| render(f.buffer_mut(), &row("a short one"))).expect("draw");
    let out = String::from_utf8_lossy(term.backend().writer()).into_owned();
    assert!(out.ends_with("\x1b[K"), "{out:?}");
    assert!(out.len() < 20, "{out:?}");
}

#[test]
fn a_blank_run_between_columns_is_erased_with_ech() {
    let frame = |text: &str| Frame {
        main: vec![Row::plain(text)],
        right_width: 3,
        right: vec![Row::plain("│ab")],
        ..Frame::default()
    };
    let long = "a fairly long line of text, then more";
    let mut pair = Pair::new(40, 1);
    pair.draw(&frame(long));
    pair.draw(&frame("a fair"));
    pair.assert_same_screen("blank run beside a column");
    let mut term = Terminal::new(ScrollBackend::with_size(Vec::new(), 40, 1)).expect("terminal");
    term.draw(|f| render(f.buffer_mut(), &frame(long))).expect("draw");
    term.backend_mut().writer_mut().clear();
    term.draw(|f| render(f.buffer_mut(), &frame("a fair"))).expect("draw");
    let out = String::from_utf8_lossy(term.backend().writer()).into_owned();
    // The column on the right keeps EL away; 31 cells go with one ECH instead of spaces.
    assert!(out.ends_with("\x1b[31X"), "{out:?}");
    assert!(out.len() < 12, "{out:?}");
}

#[test]
fn a_resize_repaints_at_the_new_size() {
    let mut term = Terminal::new(ScrollBackend::with_size(Vec::new(), 30, 8)).expect("terminal");
    term.draw(|f| render(f.buffer_mut(), &conversation(30, 8, 0))).expect("draw");
    term.backend_mut().writer_mut().clear();
    term.backend_mut().set_size(24, 6);
    let frame = conversation(24, 6, 3);
    term.draw(|f| render(f.buffer_mut(), &frame)).expect("draw");
    // A terminal that was resized to 24x6 (its old contents are cleared by ratatui's clear).
    let mut vt = vt100_parser(24, 6);
    vt.process(term.backend().writer());
    let mut expected = Buffer::empty(Rect::new(0, 0, 24, 6));
    render(&mut expected, &frame);
    let cells = screen(&vt);
    for (i, cell) in cells.iter().enumerate() {
        let (x, y) = ((i % 24) as u16, (i / 24) as u16);
        assert!(matches_frame(cell, &expected, x, y), "cell {x},{y}: {cell:?}\n{}", describe(&vt));
    }
}

// ---- property test ----

/// Styles for whole-row fills: spans patch them, so a fill never brings an intensity
/// (vt100 models bold and dim as one setting; a span's dim over a bold fill would make
/// the result depend on the order of SGR parameters, which real terminals do not).
fn arb_fill() -> impl Strategy<Value = Style> {
    (arb_style(), prop_oneof![Just(Modifier::empty()), Just(Modifier::UNDERLINED), Just(Modifier::REVERSED)])
        .prop_map(|(style, m)| Style { add_modifier: m, sub_modifier: Modifier::empty(), ..style })
}

fn arb_style() -> impl Strategy<Value = Style> {
    let color = prop_oneof![
        Just(Color::Reset),
        Just(Color::Red),
        Just(Color::LightBlue),
        Just(Color::Gray),
        Just(Color::Indexed(200)),
        Just(Color::Rgb(10, 20, 30)),
    ];
    // vt100 models bold/dim as one intensity, so bold and dim never come together here.
    let modifier = prop_oneof![
        Just(Modifier::empty()),
        Just(Modifier::BOLD),
        Just(Modifier::DIM | Modifier::ITALIC),
        Just(Modifier::UNDERLINED),
        Just(Modifier::REVERSED),
        Just(Modifier::BOLD | Modifier::UNDERLINED | Modifier::ITALIC),
    ];
    (color.clone(), color, modifier).prop_map(|(fg, bg, m)| Style::default().fg(fg).bg(bg).add_modifier(m))
}

fn arb_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        1 => Just(" https://example.org/a?b=1 ".to_string()),
        1 => Just("(mailto:dr@clinic.example) ".to_string()),
        1 => "https://[a-c]{1,3}\\.org[/x]{0,2}",
        4 => "[a-z ]{1,8}",
        1 => Just("中文".to_string()),
        1 => Just("コード".to_string()),
        1 => Just("😀".to_string()),
        1 => Just("é─│".to_string()),
        1 => Just("   ".to_string()),
    ];
    prop::collection::vec(piece, 0..5).prop_map(|p| p.concat())
}

fn arb_row() -> impl Strategy<Value = Row> {
    (
        prop_oneof![3 => Just(None), 1 => arb_fill().prop_map(Some)],
        prop::collection::vec((arb_text(), arb_style()), 0..3),
    )
        .prop_map(|(fill, spans)| Row { fill, spans })
}

/// How the next frame derives from the previous one.
#[derive(Debug, Clone)]
enum Step {
    Fresh(Vec<Row>),
    /// Scroll the main rows of a band, fill the rows scrolled in, then edit some rows.
    Scroll {
        top: usize,
        len: usize,
        lines: usize,
        up: bool,
        new_rows: Vec<Row>,
        edits: Vec<(usize, Row)>,
    },
    /// Jump scrolling: the main rows move up by half the screen and the rest turn blank,
    /// with (usually) content in the columns on both sides, so rows can neither be scrolled
    /// by the terminal nor erased to their end.
    Jump,
    Edit(Vec<(usize, Row)>),
    Side(Vec<(usize, Row)>),
    Right(Vec<(usize, Row)>),
    Cursor(Option<(u16, u16)>),
    Same,
}

fn arb_step() -> impl Strategy<Value = Step> {
    let edits = || prop::collection::vec((0usize..64, arb_row()), 0..3);
    prop_oneof![
        1 => prop::collection::vec(arb_row(), 0..12).prop_map(Step::Fresh),
        6 => (0usize..64, 0usize..64, 1usize..5, any::<bool>(), prop::collection::vec(arb_row(), 0..4), edits())
            .prop_map(|(top, len, lines, up, new_rows, edits)| Step::Scroll { top, len, lines, up, new_rows, edits }),
        2 => edits().prop_map(Step::Edit),
        1 => Just(Step::Jump),
        1 => edits().prop_map(Step::Side),
        1 => edits().prop_map(Step::Right),
        1 => prop::option::of((0u16..64, 0u16..64)).prop_map(Step::Cursor),
        1 => Just(Step::Same),
    ]
}

fn apply_step(frame: &mut Frame, step: &Step, width: u16, height: usize) {
    let edit = |rows: &mut Vec<Row>, edits: &[(usize, Row)]| {
        for (i, row) in edits {
            rows[i % height] = row.clone();
        }
    };
    match step {
        Step::Fresh(rows) => {
            frame.main = rows.clone();
            frame.main.resize(height, Row::default());
        }
        Step::Scroll { top, len, lines, up, new_rows, edits } => {
            let top = top % height;
            let len = 1 + len % (height - top);
            let lines = (*lines).min(len);
            let band = &mut frame.main[top..top + len];
            let mut fresh = new_rows.iter().cloned().chain(std::iter::repeat(Row::default()));
            if *up {
                band.rotate_left(lines);
                for row in &mut band[len - lines..] {
                    *row = fresh.next().unwrap_or_default();
                }
            } else {
                band.rotate_right(lines);
                for row in &mut band[..lines] {
                    *row = fresh.next().unwrap_or_default();
                }
            }
            edit(&mut frame.main, edits);
        }
        Step::Jump => {
            frame.main.rotate_left(height / 2);
            for row in &mut frame.main[height - height / 2..] {
                *row = Row::default();
            }
        }
        Step::Edit(edits) => edit(&mut frame.main, edits),
        Step::Side(edits) => edit(&mut frame.side, edits),
        Step::Right(edits) => edit(&mut frame.right, edits),
        Step::Cursor(c) => frame.cursor = c.map(|(x, y)| (x % width, y % height as u16)),
        Step::Same => {}
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, max_shrink_iters: 2000, ..ProptestConfig::default() })]

    #[test]
    fn screen_matches_a_plain_repaint_after_every_frame(
        size in prop_oneof![Just((24u16, 8u16)), Just((17, 6)), Just((40, 12))],
        links in any::<bool>(),
        side_width in prop_oneof![3 => Just(0u16), 1 => Just(5u16)],
        right_width in prop_oneof![2 => Just(0u16), 1 => Just(4u16)],
        first in prop::collection::vec(arb_row(), 0..12),
        steps in prop::collection::vec(arb_step(), 1..10),
    ) {
        let (width, height) = size;
        let h = usize::from(height);
        let mut frame = Frame {
            side_width,
            side: vec![Row::default(); h],
            main: first,
            cursor: None,
            right_width,
            right: vec![Row::plain("│ pet"); h],
        };
        frame.main.resize(h, Row::default());
        let mut pair = Pair::with_links(width, height, links);
        pair.draw(&frame);
        pair.assert_same_screen("first frame");
        for (i, step) in steps.iter().enumerate() {
            apply_step(&mut frame, step, width, h);
            pair.draw(&frame);
            pair.assert_same_screen(&format!("after step {i} {step:?}"));
            for (target, shown) in printed_links(&pair.last) {
                prop_assert!(target.contains(&shown), "link {target:?} printed over {shown:?}");
            }
        }
    }
}

/// The OSC 8 links in `bytes`: each target with the text printed while it was open.
/// Panics on anything but text and SGR inside a link (a move would link other cells).
fn printed_links(bytes: &[u8]) -> Vec<(String, String)> {
    let mut links = Vec::new();
    let mut open: Option<(String, String)> = None;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i..].starts_with(b"\x1b]8;;") {
            let end = bytes[i..].windows(2).position(|w| w == b"\x1b\\").expect("OSC 8 ends with ST") + i;
            let target = String::from_utf8(bytes[i + 5..end].to_vec()).expect("ASCII target");
            if let Some(link) = open.take() {
                assert!(target.is_empty(), "a link opened inside another");
                links.push(link);
            } else {
                assert!(!target.is_empty(), "a close without an open");
                open = Some((target, String::new()));
            }
            i = end + 2;
        } else if bytes[i..].starts_with(b"\x1b[") {
            let len = bytes[i + 2..].iter().position(|b| (0x40..=0x7e).contains(b)).expect("CSI ends") + 3;
            assert!(
                open.is_none() || bytes[i + len - 1] == b'm',
                "only SGR inside a link: {:?}",
                &bytes[i..i + len]
            );
            i += len;
        } else {
            assert!(open.is_none() || bytes[i] >= 0x20, "a control byte inside a link");
            let ch =
                std::str::from_utf8(&bytes[i..]).map_or(1, |s| s.chars().next().map_or(1, char::len_utf8));
            if let Some((_, text)) = open.as_mut() {
                text.push_str(std::str::from_utf8(&bytes[i..i + ch]).unwrap_or("?"));
            }
            i += ch;
        }
    }
    assert!(open.is_none(), "a link left open at the end of a frame");
    links
}

fn rows_frame(rows: &[&str]) -> Frame {
    Frame {
        side_width: 0,
        side: Vec::new(),
        main: rows.iter().map(|r| Row::plain(r)).collect(),
        cursor: None,
        right_width: 0,
        right: Vec::new(),
    }
}

#[test]
fn urls_become_osc8_links_to_exactly_the_text_shown() {
    let rows = [
        "see https://example.org/a?b=1 now",
        "javascript:alert(1) and ftp://files.example.org x",
        "mail <mailto:dr@clinic.example> today",
        "HTTP://EXAMPLE.ORG/Up.",
        "https://runs.into.the.edge.example.org/and/on/and/on/a",
    ];
    let frame = rows_frame(&rows);
    let mut with = Pair::with_links(54, 6, true);
    let mut without = Pair::new(54, 6);
    let cost_with = with.draw(&frame).ours;
    let cost_without = without.draw(&frame).ours;
    let links = printed_links(&with.last);
    let expected = ["https://example.org/a?b=1", "mailto:dr@clinic.example", "HTTP://EXAMPLE.ORG/Up"];
    let shown: Vec<(&str, &str)> = links.iter().map(|(t, s)| (t.as_str(), s.as_str())).collect();
    assert_eq!(shown, expected.iter().map(|t| (*t, *t)).collect::<Vec<_>>());
    // The visible screen is the same as without links, cell for cell.
    assert_eq!(screen(&with.ours_vt), screen(&without.ours_vt));
    with.assert_same_screen("links");
    // The figure the README gives: 14 bytes plus the target, per link painted.
    let overhead: usize = expected.iter().map(|t| 14 + t.len()).sum();
    assert_eq!(cost_with - cost_without, overhead);
}

#[test]
fn hostile_targets_stay_plain_text() {
    let huge = format!("https://example.org/{}", "a".repeat(10 * 1024));
    let mut rows: Vec<String> =
        huge.as_bytes().chunks(60).take(5).map(|c| String::from_utf8_lossy(c).into_owned()).collect();
    rows.push("javascript:alert(document.cookie) ".into());
    let frame = rows_frame(&rows.iter().map(String::as_str).collect::<Vec<_>>());
    let mut pair = Pair::with_links(60, 8, true);
    pair.draw(&frame);
    assert!(printed_links(&pair.last).is_empty(), "{:?}", String::from_utf8_lossy(&pair.last));

    // A C1 control character in a cell (which the sanitizer never lets through) ends the
    // text run without a blank: no link, and nothing of it in a target.
    let mut backend = ScrollBackend::with_size(Vec::new(), 40, 2).with_links(true);
    let mut buf = Buffer::empty(Rect::new(0, 0, 40, 2));
    buf.set_string(0, 0, "https://evil.example/x", Style::default());
    buf[(22, 0)].set_symbol("\u{9c}");
    buf.set_string(0, 1, "https://ok.example/y", Style::default());
    let diff: Vec<(u16, u16, &ratatui::buffer::Cell)> = Buffer::empty(buf.area).diff(&buf);
    ratatui::backend::Backend::draw(&mut backend, diff.into_iter()).unwrap();
    ratatui::backend::Backend::flush(&mut backend).unwrap();
    let links = printed_links(backend.writer());
    assert_eq!(links, vec![("https://ok.example/y".to_owned(), "https://ok.example/y".to_owned())]);
}

#[test]
fn a_link_whose_text_changes_is_painted_again_and_a_scrolled_one_costs_nothing() {
    let mut pair = Pair::with_links(40, 6, true);
    pair.draw(&rows_frame(&["go to https://a.example/x now"]));
    // One more character: every cell of the link now has another target.
    pair.draw(&rows_frame(&["go to https://a.example/xy now"]));
    assert_eq!(
        printed_links(&pair.last),
        vec![("https://a.example/xy".to_owned(), "https://a.example/xy".to_owned())]
    );
    // A border drawn right after it: it may go on in the next row, so it is no link now,
    // and the terminal must forget the link too (the cells are printed again, plainly).
    pair.draw(&rows_frame(&["go to https://a.example/xy│now"]));
    assert!(printed_links(&pair.last).is_empty());
    assert!(
        pair.last.windows(20).any(|w| w == b"https://a.example/xy"),
        "{:?}",
        String::from_utf8_lossy(&pair.last)
    );

    let mut rows: Vec<String> = (0..30).map(|i| format!("message {i} https://example.org/{i} ok")).collect();
    let mut pair = Pair::with_links(40, 30, true);
    pair.draw(&rows_frame(&rows.iter().map(String::as_str).collect::<Vec<_>>()));
    rows.remove(0);
    rows.push("message 30 plain text".into());
    pair.draw(&rows_frame(&rows.iter().map(String::as_str).collect::<Vec<_>>()));
    assert_eq!(pair.ours.backend().scrolls(), 1);
    assert!(printed_links(&pair.last).is_empty(), "scrolled links are not sent again");
    pair.assert_same_screen("scrolled links");
}
