//! Stat gauges: a bar whose colour follows the level, with a text percentage when
//! there is no colour to carry that meaning.

use ratatui::style::{Color, Style};
use ratatui::text::Span;

use super::mood::{HIGH, LOW};

/// How well a stat is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Below [`LOW`]: the pet shows this need.
    Low,
    /// Between [`LOW`] and [`HIGH`].
    Middle,
    /// At or above [`HIGH`].
    High,
}

impl Level {
    /// The level of a 0–100 stat (same thresholds as the mood, so a red gauge is
    /// always the need the face shows).
    pub fn of(value: i64) -> Level {
        if value < LOW {
            Level::Low
        } else if value < HIGH {
            Level::Middle
        } else {
            Level::High
        }
    }

    /// Red, yellow or green.
    pub fn color(self) -> Color {
        match self {
            Level::Low => Color::Red,
            Level::Middle => Color::Yellow,
            Level::High => Color::Green,
        }
    }
}

/// Clamp a stat from the server into 0–100.
pub fn clamp(value: i64) -> i64 {
    value.clamp(0, 100)
}

/// Number of filled cells for `value` out of `max` on a bar `width` cells wide,
/// rounded to nearest; any non-zero value shows at least one cell and any value
/// short of `max` leaves at least one empty, so "almost" never looks like "none"/"all".
pub fn filled(value: i64, max: i64, width: usize) -> usize {
    if width == 0 || max <= 0 {
        return 0;
    }
    let value = value.clamp(0, max);
    let w = i64::try_from(width).unwrap_or(i64::MAX);
    let cells = (value * w + max / 2) / max;
    let cells = if value > 0 { cells.max(1) } else { cells };
    let cells = if value < max { cells.min(w - 1) } else { cells };
    usize::try_from(cells).unwrap_or(0)
}

/// The bar as spans: filled part in `fill` style, the rest dimmed.
pub fn bar(value: i64, max: i64, width: usize, ascii: bool, fill: Style, empty: Style) -> Vec<Span<'static>> {
    let (full, blank) = if ascii { ('#', '-') } else { ('█', '░') };
    let n = filled(value, max, width);
    vec![
        Span::styled(full.to_string().repeat(n), fill),
        Span::styled(blank.to_string().repeat(width - n), empty),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_match_mood_thresholds() {
        assert_eq!(Level::of(0), Level::Low);
        assert_eq!(Level::of(29), Level::Low);
        assert_eq!(Level::of(30), Level::Middle);
        assert_eq!(Level::of(69), Level::Middle);
        assert_eq!(Level::of(70), Level::High);
        assert_eq!(Level::of(100), Level::High);
    }

    #[test]
    fn filled_cells() {
        assert_eq!(filled(0, 100, 10), 0);
        assert_eq!(filled(1, 100, 10), 1);
        assert_eq!(filled(50, 100, 10), 5);
        assert_eq!(filled(99, 100, 10), 9);
        assert_eq!(filled(100, 100, 10), 10);
        assert_eq!(filled(250, 100, 10), 10);
        assert_eq!(filled(-3, 100, 10), 0);
        assert_eq!(filled(5, 0, 10), 0);
        assert_eq!(filled(5, 100, 0), 0);
    }

    #[test]
    fn bar_is_exactly_width() {
        for v in [0, 13, 50, 100] {
            let spans = bar(v, 100, 7, true, Style::default(), Style::default());
            let text: String = spans.iter().map(|s| s.content.as_ref()).collect();
            assert_eq!(text.len(), 7);
        }
    }
}
