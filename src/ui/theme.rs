//! Colours and symbols: 256 colours by default, 16, or mono (bold and reverse only,
//! also chosen by `NO_COLOR`); Unicode or ASCII borders and symbols.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::symbols::border;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Widget};

use crate::app::state::{Look, ThemeKind};

/// Borders made of `+`, `-` and `|`.
pub const ASCII_BORDER: border::Set<'static> = border::Set {
    top_left: "+",
    top_right: "+",
    bottom_left: "+",
    bottom_right: "+",
    vertical_left: "|",
    vertical_right: "|",
    horizontal_top: "-",
    horizontal_bottom: "-",
};

/// Symbols that have an ASCII stand-in.
#[derive(Debug, Clone, Copy)]
pub struct Symbols {
    /// Own message delivered.
    pub sent: &'static str,
    /// Own message read.
    pub read: &'static str,
    /// Selection marker.
    pub marker: &'static str,
    /// Separator in the status bar.
    pub sep: &'static str,
    /// Horizontal rule for day separators.
    pub rule: &'static str,
    /// Arrow for "N new".
    pub down: &'static str,
    /// Cursor in text fields.
    pub cursor: &'static str,
    /// Separator inside a line ("sam · 14:02").
    pub dot: &'static str,
    /// Something is on its way ("loading…").
    pub ellipsis: &'static str,
    /// A dash in titles.
    pub dash: &'static str,
}

const UNICODE_SYMBOLS: Symbols = Symbols {
    sent: "✓",
    read: "✓✓",
    marker: "▌",
    sep: " │ ",
    rule: "─",
    down: "↓",
    cursor: "▏",
    dot: "·",
    ellipsis: "…",
    dash: "—",
};
const ASCII_SYMBOLS: Symbols = Symbols {
    sent: "+",
    read: "++",
    marker: ">",
    sep: " | ",
    rule: "-",
    down: "v",
    cursor: "_",
    dot: "-",
    ellipsis: "...",
    dash: "-",
};

/// Styles for every kind of thing on screen.
#[derive(Debug, Clone, Copy)]
pub struct Theme {
    /// Unfocused borders.
    pub border: Style,
    /// The focused pane's border.
    pub border_focus: Style,
    /// Pane titles.
    pub title: Style,
    /// Unread conversations.
    pub unread: Style,
    /// Unread count badge.
    pub badge: Style,
    /// Secondary text (times, previews).
    pub dim: Style,
    /// Own name.
    pub me: Style,
    /// The other person's name.
    pub other: Style,
    /// Selected row.
    pub selected: Style,
    /// Errors.
    pub error: Style,
    /// Information.
    pub info: Style,
    /// The status bar.
    pub status: Style,
    /// "N new" marker.
    pub marker: Style,
    /// Symbols.
    pub sym: Symbols,
    /// Borders.
    pub borders: border::Set<'static>,
    /// ASCII only.
    pub ascii: bool,
    /// No colour.
    pub mono: bool,
}

impl Theme {
    /// The theme for these looks.
    pub fn new(look: Look) -> Theme {
        let sym = if look.ascii { ASCII_SYMBOLS } else { UNICODE_SYMBOLS };
        let borders = if look.ascii { ASCII_BORDER } else { border::PLAIN };
        let bold = Style::new().add_modifier(Modifier::BOLD);
        let rev = Style::new().add_modifier(Modifier::REVERSED);
        let plain = Style::new();
        let base = Theme {
            border: plain,
            border_focus: bold,
            title: bold,
            unread: bold,
            badge: rev,
            dim: plain,
            me: plain,
            other: bold,
            selected: rev,
            error: bold,
            info: plain,
            status: rev,
            marker: rev,
            sym,
            borders,
            ascii: look.ascii,
            mono: true,
        };
        let fg = |c: Color| Style::new().fg(c);
        match look.theme {
            ThemeKind::Mono => base,
            ThemeKind::C16 => Theme {
                border: fg(Color::DarkGray),
                border_focus: fg(Color::Cyan).add_modifier(Modifier::BOLD),
                unread: fg(Color::White).add_modifier(Modifier::BOLD),
                badge: Style::new().fg(Color::Black).bg(Color::Cyan),
                dim: fg(Color::DarkGray),
                me: fg(Color::Green),
                other: fg(Color::Yellow).add_modifier(Modifier::BOLD),
                selected: Style::new().bg(Color::DarkGray),
                error: fg(Color::Red).add_modifier(Modifier::BOLD),
                info: fg(Color::Cyan),
                status: Style::new().fg(Color::White).bg(Color::Blue),
                marker: Style::new().fg(Color::Black).bg(Color::Yellow),
                mono: false,
                ..base
            },
            ThemeKind::C256 => Theme {
                border: fg(Color::Indexed(240)),
                border_focus: fg(Color::Indexed(75)).add_modifier(Modifier::BOLD),
                unread: fg(Color::Indexed(231)).add_modifier(Modifier::BOLD),
                badge: Style::new().fg(Color::Indexed(16)).bg(Color::Indexed(75)),
                dim: fg(Color::Indexed(245)),
                me: fg(Color::Indexed(114)),
                other: fg(Color::Indexed(180)).add_modifier(Modifier::BOLD),
                selected: Style::new().bg(Color::Indexed(237)),
                error: fg(Color::Indexed(203)).add_modifier(Modifier::BOLD),
                info: fg(Color::Indexed(110)),
                status: Style::new().fg(Color::Indexed(252)).bg(Color::Indexed(236)),
                marker: Style::new().fg(Color::Indexed(16)).bg(Color::Indexed(179)),
                mono: false,
                ..base
            },
        }
    }

    /// Draw a bordered pane with a title and return its inside.
    pub fn pane(&self, buf: &mut Buffer, area: Rect, title: Line<'_>, focused: bool) -> Rect {
        let block = Block::bordered()
            .border_set(self.borders)
            .border_style(if focused { self.border_focus } else { self.border })
            .title(title);
        let inner = block.inner(area);
        block.render(area, buf);
        inner
    }

    /// A title span.
    pub fn title_span(&self, text: String) -> Span<'static> {
        Span::styled(format!(" {text} "), self.title)
    }
}
