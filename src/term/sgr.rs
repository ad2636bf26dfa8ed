//! SGR (Select Graphic Rendition) bookkeeping: the "pen" the terminal currently
//! draws with, and the shortest sequence that turns one pen into another.

use std::io::Write;

use ratatui::buffer::Cell;
use ratatui::style::{Color, Modifier};

/// The drawing attributes the terminal applies to the next printed character.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Pen {
    pub fg: Color,
    pub bg: Color,
    pub underline: Color,
    pub modifier: Modifier,
}

impl Pen {
    /// The terminal's state after `ESC [ 0 m`.
    pub const DEFAULT: Pen =
        Pen { fg: Color::Reset, bg: Color::Reset, underline: Color::Reset, modifier: Modifier::empty() };

    /// The pen a ratatui cell needs.
    pub fn of(cell: &Cell) -> Pen {
        Pen { fg: cell.fg, bg: cell.bg, underline: cell.underline_color, modifier: cell.modifier }
    }
}

/// Modifiers with their own "on" SGR code, in the order they are emitted.
const ON_CODES: [(Modifier, u8); 9] = [
    (Modifier::BOLD, 1),
    (Modifier::DIM, 2),
    (Modifier::ITALIC, 3),
    (Modifier::UNDERLINED, 4),
    (Modifier::SLOW_BLINK, 5),
    (Modifier::RAPID_BLINK, 6),
    (Modifier::REVERSED, 7),
    (Modifier::HIDDEN, 8),
    (Modifier::CROSSED_OUT, 9),
];

/// Appends the SGR parameters of a colour; `base` is 30 (fg), 40 (bg) or 50 (underline,
/// which has no 8-colour short form, so it always uses the `58;5;n` form).
fn push_color(params: &mut Vec<String>, color: Color, base: u8) {
    let short = |n: u8| -> Option<u8> { (base != 50).then_some(n) };
    // Named colours map to the same palette slots crossterm uses (Gray = 7, DarkGray = 8...),
    // but in their 2-byte form rather than `38;5;n`.
    let (normal, bright) = match color {
        Color::Reset => {
            params.push((base + 9).to_string());
            return;
        }
        Color::Black => (Some(0), None),
        Color::Red => (Some(1), None),
        Color::Green => (Some(2), None),
        Color::Yellow => (Some(3), None),
        Color::Blue => (Some(4), None),
        Color::Magenta => (Some(5), None),
        Color::Cyan => (Some(6), None),
        Color::Gray => (Some(7), None),
        Color::DarkGray => (None, Some(0)),
        Color::LightRed => (None, Some(1)),
        Color::LightGreen => (None, Some(2)),
        Color::LightYellow => (None, Some(3)),
        Color::LightBlue => (None, Some(4)),
        Color::LightMagenta => (None, Some(5)),
        Color::LightCyan => (None, Some(6)),
        Color::White => (None, Some(7)),
        Color::Indexed(i) => {
            params.push(format!("{};5;{i}", base + 8));
            return;
        }
        Color::Rgb(r, g, b) => {
            params.push(format!("{};2;{r};{g};{b}", base + 8));
            return;
        }
    };
    match (normal, bright) {
        (Some(n), _) => match short(n) {
            Some(n) => params.push((base + n).to_string()),
            None => params.push(format!("58;5;{n}")),
        },
        (None, Some(n)) => match short(n) {
            // 90–97 / 100–107 are the bright variants.
            Some(n) => params.push((base + 60 + n).to_string()),
            None => params.push(format!("58;5;{}", n + 8)),
        },
        (None, None) => {}
    }
}

/// Parameters that set `to` starting from the default pen (used after a `0`).
fn absolute_params(to: &Pen, params: &mut Vec<String>) {
    for (m, code) in ON_CODES {
        if to.modifier.contains(m) {
            params.push(code.to_string());
        }
    }
    if to.fg != Color::Reset {
        push_color(params, to.fg, 30);
    }
    if to.bg != Color::Reset {
        push_color(params, to.bg, 40);
    }
    if to.underline != Color::Reset {
        push_color(params, to.underline, 50);
    }
}

/// Parameters that turn `from` into `to` without a full reset.
fn relative_params(from: &Pen, to: &Pen, params: &mut Vec<String>) {
    let removed = from.modifier - to.modifier;
    let intensity = Modifier::BOLD | Modifier::DIM;
    let blink = Modifier::SLOW_BLINK | Modifier::RAPID_BLINK;
    // 22 clears both bold and dim, 25 both blinks: whatever must stay is re-added below.
    let reset_intensity = removed.intersects(intensity);
    let reset_blink = removed.intersects(blink);
    if reset_intensity {
        params.push("22".into());
    }
    for (m, code) in [
        (Modifier::ITALIC, 23),
        (Modifier::UNDERLINED, 24),
        (Modifier::REVERSED, 27),
        (Modifier::HIDDEN, 28),
        (Modifier::CROSSED_OUT, 29),
    ] {
        if removed.contains(m) {
            params.push(code.to_string());
        }
    }
    if reset_blink {
        params.push("25".into());
    }
    let mut added = to.modifier - from.modifier;
    if reset_intensity {
        added |= to.modifier & intensity;
    }
    if reset_blink {
        added |= to.modifier & blink;
    }
    for (m, code) in ON_CODES {
        if added.contains(m) {
            params.push(code.to_string());
        }
    }
    if from.fg != to.fg {
        push_color(params, to.fg, 30);
    }
    if from.bg != to.bg {
        push_color(params, to.bg, 40);
    }
    if from.underline != to.underline {
        push_color(params, to.underline, 50);
    }
}

fn encoded_len(params: &[String]) -> usize {
    // ESC [ ... m, with ';' between parameters.
    3 + params.iter().map(String::len).sum::<usize>() + params.len().saturating_sub(1)
}

/// Writes the shortest single SGR sequence that changes the pen from `from` (`None`:
/// unknown) to `to`; writes nothing when they are equal.
pub(crate) fn write_transition(out: &mut Vec<u8>, from: Option<&Pen>, to: &Pen) {
    if from == Some(to) {
        return;
    }
    // `ESC [ m` is a full reset; the reset form is "" followed by the absolute parameters.
    let mut absolute = vec![String::new()];
    absolute_params(to, &mut absolute);
    if absolute.len() > 1 {
        absolute[0] = "0".into();
    }
    let params = match from {
        Some(from) => {
            let mut relative = Vec::new();
            relative_params(from, to, &mut relative);
            if encoded_len(&relative) < encoded_len(&absolute) {
                relative
            } else {
                absolute
            }
        }
        None => absolute,
    };
    // Writing into a Vec cannot fail.
    let _ = write!(out, "\x1b[{}m", params.join(";"));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seq(from: Option<&Pen>, to: &Pen) -> String {
        let mut out = Vec::new();
        write_transition(&mut out, from, to);
        String::from_utf8(out).unwrap_or_default()
    }

    #[test]
    fn equal_pens_write_nothing() {
        let pen = Pen { fg: Color::Red, ..Pen::DEFAULT };
        assert_eq!(seq(Some(&pen), &pen), "");
    }

    #[test]
    fn unknown_pen_resets_first() {
        assert_eq!(seq(None, &Pen::DEFAULT), "\x1b[m");
        assert_eq!(seq(None, &Pen { fg: Color::Red, ..Pen::DEFAULT }), "\x1b[0;31m");
    }

    #[test]
    fn picks_relative_or_reset_by_length() {
        let red_bold = Pen { fg: Color::Red, modifier: Modifier::BOLD, ..Pen::DEFAULT };
        let blue_bold = Pen { fg: Color::Blue, ..red_bold };
        assert_eq!(seq(Some(&red_bold), &blue_bold), "\x1b[34m");
        // Back to default: a bare reset is shorter than "22;39".
        assert_eq!(seq(Some(&red_bold), &Pen::DEFAULT), "\x1b[m");
        let dim_bold = Pen { modifier: Modifier::BOLD | Modifier::DIM, ..Pen::DEFAULT };
        let bold = Pen { modifier: Modifier::BOLD, ..Pen::DEFAULT };
        assert_eq!(seq(Some(&dim_bold), &bold), "\x1b[0;1m");
        let rgb = Pen { bg: Color::Rgb(1, 2, 3), fg: Color::DarkGray, ..Pen::DEFAULT };
        assert_eq!(seq(Some(&Pen::DEFAULT), &rgb), "\x1b[90;48;2;1;2;3m");
    }
}
