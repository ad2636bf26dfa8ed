//! The pet pane: art, mood, gauges, coins and XP, and its one-line compact form.
//!
//! Submodules: [`mood`] (which face a pet shows), [`art`] (the embedded drawings and
//! hats), [`gauge`] (bars and their colours). Drawing is pure: it reads a [`Pet`]
//! and writes into a [`Buffer`], nothing else.
//!
//! As the area shrinks the pane gives things up in this order: the art, the
//! species/stage/mood subtitle, the XP line, the coins line, then full labels
//! (3-letter ones instead); below [`NARROW_WIDTH`] columns or [`SHORT_HEIGHT`] rows
//! it becomes one line, the same text as [`compact_line`].

pub mod art;
pub mod gauge;
pub mod mood;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget, Wrap};
use unicode_width::UnicodeWidthStr;

use self::art::{ArtSpec, Hat, Part, Species, Stage};
use self::gauge::Level;
use self::mood::Mood;
use crate::model::sanitize::sanitize_line;
use crate::model::types::{Pet, ShopItem, STAGES};

/// Below this many columns the pane shows only the compact line.
pub const NARROW_WIDTH: u16 = 16;
/// Below this many rows the pane shows only the compact line.
pub const SHORT_HEIGHT: u16 = 3;
/// Bars never grow wider than this, so a wide pane does not turn into a bar chart.
const MAX_BAR: usize = 20;
/// Full labels are this wide (longest label "Happiness" plus a space).
const LONG_LABEL: usize = 10;
/// Short labels ("Hap") are this wide, with their space.
const SHORT_LABEL: usize = 4;
/// Narrowest bar worth drawing.
const MIN_BAR: usize = 4;

/// How the pet pane should draw.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PetLook {
    /// ASCII art and symbols only.
    pub ascii: bool,
    /// No colour: gauges carry text percentages.
    pub mono: bool,
    /// Idle animation frame; odd frames blink. 0 (the default) is the still picture;
    /// the TUI advances it at most every 2 s, and only when `pet.animate = true`.
    pub animate_frame: u8,
}

impl PetLook {
    fn style(self, style: Style) -> Style {
        if self.mono {
            // Keep emphasis (bold, reverse) but no colour: NO_COLOR.
            Style { fg: None, bg: None, underline_color: None, ..style }
        } else {
            style
        }
    }

    fn heart(self) -> &'static str {
        // "<3 72", not "<372".
        if self.ascii {
            "<3 "
        } else {
            "♥"
        }
    }
}

/// Draw the pet pane into `area`; `None` shows "no pet yet".
pub fn render_pet(pet: Option<&Pet>, look: PetLook, area: Rect, buf: &mut Buffer) {
    let area = area.intersection(buf.area);
    if area.is_empty() {
        return;
    }
    let Some(pet) = pet else {
        render_no_pet(look, area, buf);
        return;
    };
    if area.width < NARROW_WIDTH || area.height < SHORT_HEIGHT {
        let line = compact_spans(pet, look);
        buf.set_line(area.x, area.y, &line, area.width);
        return;
    }
    render_full(pet, look, area, buf);
}

/// One-line summary for the status bar when the pane is hidden, e.g. "Biscuit ♥72".
pub fn compact_line(pet: &Pet, look: PetLook) -> String {
    format!("{} {}{}", display_name(pet), look.heart(), gauge::clamp(pet.happiness))
}

fn compact_spans(pet: &Pet, look: PetLook) -> Line<'static> {
    let happiness = gauge::clamp(pet.happiness);
    Line::from(vec![
        Span::styled(display_name(pet), look.style(Style::new().add_modifier(Modifier::BOLD))),
        Span::raw(" "),
        Span::styled(
            format!("{}{}", look.heart(), happiness),
            look.style(Style::new().fg(Level::of(happiness).color())),
        ),
    ])
}

/// The server's name for the pet, cleaned for the screen.
fn display_name(pet: &Pet) -> String {
    let name = sanitize_line(&pet.name);
    let name = name.trim();
    if name.is_empty() {
        "(unnamed)".to_owned()
    } else {
        name.to_owned()
    }
}

fn render_no_pet(look: PetLook, area: Rect, buf: &mut Buffer) {
    let dash = if look.ascii { "-" } else { "—" };
    let text = format!("no pet yet {dash} press n to create one");
    Paragraph::new(text)
        .style(look.style(Style::new().fg(Color::DarkGray)))
        .wrap(Wrap { trim: true })
        .render(area, buf);
}

/// Which optional parts fit, decided once from the area.
struct Fit {
    art: bool,
    spacer: bool,
    subtitle: bool,
    xp: bool,
    coins: bool,
}

fn fit(height: usize, art_rows: usize) -> Fit {
    // name + four gauges are always drawn (and clipped if even they do not fit).
    let essential = 5;
    let with = |n: usize| height >= essential + n;
    let all_text = 3; // subtitle, xp, coins
    Fit {
        art: with(all_text + art_rows),
        spacer: with(all_text + art_rows + 1),
        // Given up in this order as the height shrinks: subtitle, XP, coins.
        coins: with(1),
        xp: with(2),
        subtitle: with(3),
    }
}

fn render_full(pet: &Pet, look: PetLook, area: Rect, buf: &mut Buffer) {
    let width = usize::from(area.width);
    let mood = mood::mood(pet);
    let stage = Stage::of(pet);
    let hat = Hat::parse(&pet.hat);
    let art_rows = art::render_parts(ArtSpec {
        species: Species::parse(&pet.species),
        stage,
        mood,
        hat,
        ascii: look.ascii,
        frame: look.animate_frame,
    });
    let fit = fit(usize::from(area.height), art_rows.len());

    let mut lines: Vec<Line<'static>> = Vec::new();
    lines.push(Line::from(Span::styled(
        display_name(pet),
        look.style(Style::new().add_modifier(Modifier::BOLD)),
    )));
    if fit.subtitle {
        lines.push(subtitle(pet, stage, mood, look));
    }
    let art_top = lines.len();
    if fit.art {
        lines.extend(std::iter::repeat_n(Line::default(), art_rows.len()));
        if fit.spacer {
            lines.push(Line::default());
        }
    }

    let gauges = Gauges::new(width, look);
    for (long, short, value) in [
        ("Hunger", "Hun", pet.hunger),
        ("Happiness", "Hap", pet.happiness),
        ("Energy", "Nrg", pet.energy),
        ("Hygiene", "Hyg", pet.hygiene),
    ] {
        lines.push(gauges.stat(long, short, value));
    }
    if fit.coins {
        lines.push(gauges.coins(pet.coins));
    }
    if fit.xp {
        lines.push(gauges.xp(pet.xp));
    }

    for (row, line) in lines.iter().enumerate().take(usize::from(area.height)) {
        buf.set_line(area.x, row_y(area, row), line, area.width);
    }

    if fit.art {
        // Centred over the gauges rather than the whole pane, so on a wide pane the
        // picture stays with the bars it belongs to.
        let art_width = art_rows.iter().map(Vec::len).max().unwrap_or(0);
        let left = gauges.block_width().min(width).saturating_sub(art_width) / 2;
        for (i, row) in art_rows.iter().enumerate() {
            let y = row_y(area, art_top + i);
            for (j, (glyph, part)) in row.iter().enumerate().take(width.saturating_sub(left)) {
                let x = area.x.saturating_add(u16::try_from(left + j).unwrap_or(u16::MAX));
                let style = look.style(Style::new().fg(part_color(*part, hat, mood)));
                if let Some(cell) = buf.cell_mut((x, y)) {
                    cell.set_char(*glyph).set_style(style);
                }
            }
        }
    }
}

/// Colour of one part of the drawing: the outline keeps the terminal's colour; the
/// hat and the mood's touches get a little.
fn part_color(part: Part, hat: Hat, mood: Mood) -> Color {
    match (part, mood) {
        (Part::Hat, _) => hat_color(hat),
        (Part::Decoration, Mood::Happy) => Color::Magenta,
        (Part::Decoration, Mood::Hungry) => Color::Yellow,
        (Part::Decoration, Mood::Tired) => Color::Blue,
        (Part::Decoration, Mood::Dirty) => Color::Green,
        (Part::Eye, Mood::Sad) => Color::Cyan,
        _ => Color::Reset,
    }
}

/// Screen row of the `row`-th line of `area` (callers stay below `area.height`).
fn row_y(area: Rect, row: usize) -> u16 {
    area.y.saturating_add(u16::try_from(row).unwrap_or(u16::MAX))
}

fn hat_color(hat: Hat) -> Color {
    match hat {
        Hat::Crown => Color::Yellow,
        Hat::Bow => Color::Magenta,
        Hat::TopHat | Hat::Other | Hat::None => Color::Reset,
    }
}

fn subtitle(pet: &Pet, stage: Stage, mood: Mood, look: PetLook) -> Line<'static> {
    let species = sanitize_line(&pet.species);
    let species = match species.trim() {
        "" => "pet".to_owned(),
        s => s.to_owned(),
    };
    let dot = if look.ascii { "," } else { " ·" };
    Line::from(Span::styled(
        format!("{} {}{} {}", stage.name(), species, dot, mood.label()),
        look.style(Style::new().fg(Color::DarkGray)),
    ))
}

/// Shared geometry of the gauge lines, so their bars line up.
struct Gauges {
    look: PetLook,
    label: usize,
    bar: usize,
    width: usize,
    long: bool,
}

impl Gauges {
    /// Width of the mono suffix " 100%!".
    const PERCENT: usize = 6;

    fn new(width: usize, look: PetLook) -> Gauges {
        let suffix = if look.mono { Self::PERCENT } else { 0 };
        let long = width >= LONG_LABEL + MIN_BAR + suffix;
        let label = if long { LONG_LABEL } else { SHORT_LABEL };
        let bar = width.saturating_sub(label + suffix).min(MAX_BAR);
        Gauges { look, label, bar, width, long }
    }

    /// Columns a stat line takes: label, bar and (mono) percentage.
    fn block_width(&self) -> usize {
        let suffix = if self.look.mono { Self::PERCENT } else { 0 };
        self.label + self.bar + suffix
    }

    fn label(&self, long: &str, short: &str) -> Span<'static> {
        let text = if self.long { long } else { short };
        Span::raw(format!("{text:<w$}", w = self.label))
    }

    fn stat(&self, long: &str, short: &str, value: i64) -> Line<'static> {
        let value = gauge::clamp(value);
        let level = Level::of(value);
        let mut spans = vec![self.label(long, short)];
        spans.extend(gauge::bar(
            value,
            100,
            self.bar,
            self.look.ascii,
            self.look.style(Style::new().fg(level.color())),
            self.look.style(Style::new().fg(Color::DarkGray)),
        ));
        if self.look.mono {
            let mark = if level == Level::Low { "!" } else { "" };
            spans.push(Span::raw(format!(" {value:>3}%{mark}")));
        }
        Line::from(spans)
    }

    fn coins(&self, coins: i64) -> Line<'static> {
        Line::from(vec![
            self.label("Coins", "$"),
            Span::styled(coins.to_string(), self.look.style(Style::new().fg(Color::Yellow))),
        ])
    }

    /// XP as a bar from the current stage's threshold to the next, and "xp/next".
    fn xp(&self, xp: i64) -> Line<'static> {
        let xp = xp.max(0);
        let (into, span, texts) = match xp_progress(xp) {
            Some((start, next)) => {
                let arrow = if self.look.ascii { "->" } else { "→" };
                let name = STAGES.iter().find(|(_, at)| *at == next).map_or("", |(name, _)| *name);
                let short = format!(" {xp}/{next}");
                (xp - start, next - start, vec![format!("{short} {arrow} {name}"), short])
            }
            None => (1, 1, vec![format!(" {xp}")]),
        };
        let mut spans = vec![self.label("XP", "XP")];
        // The longest text that still leaves room for a bar; else the shortest, bare.
        let room = |text: &String| self.bar.min(self.width.saturating_sub(self.label + text.width()));
        match texts.iter().find(|t| room(t) >= MIN_BAR) {
            Some(text) => {
                spans.extend(gauge::bar(
                    into,
                    span,
                    room(text),
                    self.look.ascii,
                    self.look.style(Style::new().fg(Color::Cyan)),
                    self.look.style(Style::new().fg(Color::DarkGray)),
                ));
                spans.push(Span::raw(text.clone()));
            }
            None => {
                let text = texts.last().map_or("", |t| t.trim_start());
                spans.push(Span::raw(text.to_owned()));
            }
        }
        Line::from(spans)
    }
}

/// The XP where the current stage began and where the next begins (contract
/// thresholds), or `None` at the last stage.
pub fn xp_progress(xp: i64) -> Option<(i64, i64)> {
    let xp = xp.max(0);
    let next = STAGES.iter().map(|(_, at)| *at).find(|&at| at > xp)?;
    let start = STAGES.iter().map(|(_, at)| *at).filter(|&at| at <= xp).max().unwrap_or(0);
    Some((start, next))
}

/// Draw the shop as a list: marker, item name, cost and description, with `selected`
/// highlighted and scrolled into view. Names and descriptions come from the server,
/// so they are sanitized; in ASCII mode their emoji are dropped.
pub fn render_shop(items: &[ShopItem], selected: usize, look: PetLook, area: Rect, buf: &mut Buffer) {
    let area = area.intersection(buf.area);
    if area.is_empty() {
        return;
    }
    if items.is_empty() {
        buf.set_stringn(area.x, area.y, "the shop is empty", usize::from(area.width), Style::new());
        return;
    }
    let rows = usize::from(area.height);
    let selected = selected.min(items.len() - 1);
    let first = (selected + 1).saturating_sub(rows);
    let width = usize::from(area.width);
    for (row, (index, item)) in items.iter().enumerate().skip(first).take(rows).enumerate() {
        let is_selected = index == selected;
        let marker = match (is_selected, look.ascii) {
            (true, true) => "> ",
            (true, false) => "▸ ",
            (false, _) => "  ",
        };
        let cost = format!("{:>4}c ", item.cost);
        let name = shop_text(&item.name, look.ascii);
        let description = shop_text(&item.description, look.ascii);
        let name_width = 14usize;
        // Cut like every other name on screen: with a mark, so a cut name does not read
        // as a whole one.
        let name = crate::model::text::truncate(&name, name_width, look.ascii);
        let name = format!("{name}{}", " ".repeat(name_width.saturating_sub(name.width()) + 1));
        let base = if is_selected { Style::new().add_modifier(Modifier::REVERSED) } else { Style::new() };
        let line = Line::from(vec![
            Span::styled(marker, base),
            Span::styled(name, base.add_modifier(Modifier::BOLD)),
            Span::styled(cost, look.style(base.fg(Color::Yellow))),
            Span::styled(description, look.style(base.fg(Color::DarkGray))),
        ]);
        let y = row_y(area, row);
        buf.set_line(area.x, y, &line, area.width);
        if is_selected {
            // Reverse the whole row so the selection reads as a bar.
            let used = line.width().min(width);
            let pad = " ".repeat(width - used);
            let x = area.x.saturating_add(u16::try_from(used).unwrap_or(0));
            buf.set_stringn(x, y, pad, width - used, base);
        }
    }
}

fn shop_text(text: &str, ascii: bool) -> String {
    let clean = sanitize_line(text);
    if ascii {
        clean.chars().filter(char::is_ascii).collect::<String>().trim().to_owned()
    } else {
        clean.trim().to_owned()
    }
}

#[cfg(test)]
mod tests;
