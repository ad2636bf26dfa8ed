//! Terminal bytes per frame: ratatui's plain `CrosstermBackend` against
//! `healing_tui::term::ScrollBackend`, for a conversation receiving one new
//! 60-character message (see issue 10). Bytes, not time: run with
//! `cargo bench --bench term_bytes`.

use std::cell::RefCell;
use std::io::Write;
use std::rc::Rc;

use healing_tui::term::ScrollBackend;
use ratatui::backend::{Backend, CrosstermBackend};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use ratatui::{Frame, Terminal, TerminalOptions, Viewport};

/// A writer that counts and keeps nothing but the byte count.
#[derive(Clone, Default)]
struct Counter(Rc<RefCell<usize>>);

impl Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        *self.0.borrow_mut() += buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Counter {
    fn take(&self) -> usize {
        std::mem::take(&mut *self.0.borrow_mut())
    }
}

const WORDS: [&str; 20] = [
    "feeling",
    "better",
    "today",
    "thanks",
    "for",
    "asking",
    "the",
    "walk",
    "helped",
    "a",
    "lot",
    "slept",
    "badly",
    "again",
    "see",
    "you",
    "on",
    "thursday",
    "breathing",
    "exercise",
];

/// Message `n`, exactly `len` characters.
fn text(n: usize, len: usize) -> String {
    let mut s = String::new();
    let mut i = n;
    while s.len() < len {
        i = i.wrapping_mul(2654435761).wrapping_add(97) % 1_000_003;
        s.push_str(WORDS[i % WORDS.len()]);
        s.push(' ');
    }
    s.truncate(len);
    s
}

#[derive(Clone, Copy, PartialEq)]
enum Layout_ {
    /// Conversation over the full width (the "compact" layout), in a bordered block.
    Compact,
    /// Conversation over the full width without borders (the leanest screen).
    Bare,
    /// A 30-column inbox beside the conversation (the pane layout).
    Panes,
}

#[derive(Clone, Copy, PartialEq)]
enum Style_ {
    /// "12:34 sam: text" on one line.
    OneLine,
    /// A header line "sam · 12:34" above the text.
    Header,
}

/// The rows message `n` takes at `width` columns (hard-wrapped, as a chat pane does).
fn message_rows(n: usize, style: Style_, width: usize) -> Vec<Line<'static>> {
    let who = if n % 3 == 0 { "alex" } else { "sam" };
    let time = format!("12:{:02}", n % 60);
    let who_style = Style::default().fg(Color::Green).add_modifier(Modifier::BOLD);
    let body = text(n, if n % 4 == 1 { 90 } else { 60 });
    let (mut rows, first_room) = match style {
        Style_::OneLine => {
            let prefix = vec![
                Span::styled(format!("{time} "), Style::default().fg(Color::DarkGray)),
                Span::styled(format!("{who}: "), who_style),
            ];
            let used = time.len() + 1 + who.len() + 2;
            (vec![prefix], width.saturating_sub(used))
        }
        Style_::Header => {
            let header = Line::from(vec![
                Span::styled(who.to_string(), who_style),
                Span::styled(format!(" · {time}"), Style::default().fg(Color::DarkGray)),
            ]);
            (vec![header.spans, Vec::new()], width)
        }
    };
    let (first, mut rest) = body.split_at(first_room.min(body.len()));
    if let Some(row) = rows.last_mut() {
        row.push(Span::raw(first.to_string()));
    }
    while !rest.is_empty() {
        let (chunk, tail) = rest.split_at(width.min(rest.len()));
        rows.push(vec![Span::raw(chunk.to_string())]);
        rest = tail;
    }
    rows.into_iter().map(Line::from).collect()
}

/// Draws the screen with messages `0..count`, bottom-aligned like a chat.
fn draw(frame: &mut Frame, count: usize, layout: Layout_, style: Style_) {
    let bar = Style::default().fg(Color::Black).bg(Color::Cyan);
    let [title, body, compose, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Fill(1),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    frame.render_widget(Paragraph::new(" sam — Healing Space").style(bar), title);
    let conversation = if layout == Layout_::Panes {
        let [inbox, conv] = Layout::horizontal([Constraint::Length(30), Constraint::Fill(1)]).areas(body);
        let items: Vec<Line> = ["sam (1)", "dr_morgan", "alex", "group: tuesday"]
            .iter()
            .map(|s| Line::from(format!(" {s}")))
            .collect();
        frame.render_widget(Paragraph::new(items).block(Block::bordered().title("Inbox")), inbox);
        conv
    } else {
        body
    };
    let border = if layout == Layout_::Bare { 0 } else { 2 };
    let inner_width = usize::from(conversation.width.saturating_sub(border));
    let rows: Vec<Line> = (0..count).flat_map(|n| message_rows(n, style, inner_width)).collect();
    // Newest at the bottom: show the last rows that fit.
    let visible = usize::from(conversation.height.saturating_sub(border));
    let shown = Paragraph::new(rows[rows.len().saturating_sub(visible)..].to_vec());
    if layout == Layout_::Bare {
        frame.render_widget(shown, conversation);
    } else {
        frame.render_widget(shown.block(Block::bordered().title("sam")), conversation);
    }
    frame.render_widget(Paragraph::new("> "), compose);
    frame.render_widget(Paragraph::new(" Biscuit ♥72 · 2 unread · 12:34").style(bar), status);
}

struct Figures {
    startup: usize,
    message: usize,
    idle: usize,
}

fn run<B: Backend>(term: &mut Terminal<B>, counter: &Counter, layout: Layout_, style: Style_) -> Figures
where
    B::Error: std::fmt::Debug,
{
    let count = 40;
    term.draw(|f| draw(f, count, layout, style)).expect("draw");
    let startup = counter.take();
    term.draw(|f| draw(f, count + 1, layout, style)).expect("draw");
    let message = counter.take();
    term.draw(|f| draw(f, count + 1, layout, style)).expect("draw");
    let idle = counter.take();
    Figures { startup, message, idle }
}

fn main() {
    if std::env::var_os("TERM_BYTES_DUMP").is_some() {
        let out = Rc::new(RefCell::new(Vec::new()));
        #[derive(Clone)]
        struct Keep(Rc<RefCell<Vec<u8>>>);
        impl Write for Keep {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                self.0.borrow_mut().extend_from_slice(buf);
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let mut ours = Terminal::new(ScrollBackend::with_size(Keep(out.clone()), 80, 24)).expect("terminal");
        ours.draw(|f| draw(f, 40, Layout_::Bare, Style_::OneLine)).expect("draw");
        out.borrow_mut().clear();
        ours.draw(|f| draw(f, 41, Layout_::Bare, Style_::OneLine)).expect("draw");
        println!("{:?}", String::from_utf8_lossy(&out.borrow()));
        return;
    }
    println!("terminal bytes per frame: plain CrosstermBackend vs ScrollBackend");
    println!(
        "{:<34} {:>9} {:>9} {:>11} {:>11} {:>7} {:>6}",
        "scenario", "start/pl", "start/sb", "message/pl", "message/sb", "ratio", "idle"
    );
    for (width, height) in [(80u16, 24u16), (120, 40)] {
        for layout in [Layout_::Bare, Layout_::Compact, Layout_::Panes] {
            for style in [Style_::OneLine, Style_::Header] {
                let plain_counter = Counter::default();
                let mut plain = Terminal::with_options(
                    CrosstermBackend::new(plain_counter.clone()),
                    TerminalOptions { viewport: Viewport::Fixed(Rect::new(0, 0, width, height)) },
                )
                .expect("terminal");
                let ours_counter = Counter::default();
                let mut ours = Terminal::new(ScrollBackend::with_size(ours_counter.clone(), width, height))
                    .expect("terminal");
                let p = run(&mut plain, &plain_counter, layout, style);
                let o = run(&mut ours, &ours_counter, layout, style);
                let name = format!(
                    "{width}x{height} {} {}",
                    match layout {
                        Layout_::Bare => "bare",
                        Layout_::Compact => "compact",
                        Layout_::Panes => "panes",
                    },
                    if style == Style_::OneLine { "one-line msgs" } else { "header+text msgs" }
                );
                println!(
                    "{:<34} {:>9} {:>9} {:>11} {:>11} {:>7.2} {:>3}/{:<2}",
                    name,
                    p.startup,
                    o.startup,
                    p.message,
                    o.message,
                    o.message as f64 / p.message.max(1) as f64,
                    p.idle,
                    o.idle
                );
            }
        }
    }
}
