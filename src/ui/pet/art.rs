//! Pet art: one embedded template per species × stage × variant (Unicode or ASCII),
//! whose placeholder digits a [`Mood`] fills in; plus the hat drawn on top.
//! The token scheme is documented in `assets/pets/README.md`.

use unicode_width::UnicodeWidthStr;

use super::mood::Mood;
use crate::model::types::{Pet, STAGES};

/// Widest a drawing may be, in terminal columns.
pub const MAX_WIDTH: usize = 12;
/// Tallest a drawing may be, in rows (including the hat row).
pub const MAX_HEIGHT: usize = 8;

/// Template token: the column the hat is centred on (first row only).
const HAT_ANCHOR: char = '0';
/// Template token: an eye.
const EYE: char = '1';
/// Template token: the mouth.
const MOUTH: char = '3';
/// Template token: decoration left of the head (sparkle, stink lines, …).
const LEFT: char = '7';
/// Template token: decoration right of the head.
const RIGHT: char = '9';

/// The species the art knows; anything else is drawn as [`Species::Other`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Species {
    /// Floppy ears.
    Dog,
    /// Pointy ears and whiskers.
    Cat,
    /// Long ears.
    Bunny,
    /// Horns, wings and a spiky tail.
    Dragon,
    /// A generic round creature for species the server may add later.
    Other,
}

impl Species {
    /// The species with their own drawings (same set as `api::types::KNOWN_SPECIES`).
    pub const KNOWN: [Species; 4] = [Species::Dog, Species::Cat, Species::Bunny, Species::Dragon];

    /// Case-insensitive parse of the API's species string; unknown text gives `Other`.
    pub fn parse(text: &str) -> Species {
        match text.trim().to_ascii_lowercase().as_str() {
            "dog" => Species::Dog,
            "cat" => Species::Cat,
            "bunny" | "rabbit" => Species::Bunny,
            "dragon" => Species::Dragon,
            _ => Species::Other,
        }
    }
}

/// Growth stage; decides how big the drawing is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Stage {
    /// From 0 XP.
    Baby,
    /// From 500 XP.
    Child,
    /// From 1500 XP.
    Adult,
}

impl Stage {
    /// Every stage, youngest first.
    pub const ALL: [Stage; 3] = [Stage::Baby, Stage::Child, Stage::Adult];

    /// Case-insensitive parse of the API's stage string.
    pub fn parse(text: &str) -> Option<Stage> {
        match text.trim().to_ascii_lowercase().as_str() {
            "baby" => Some(Stage::Baby),
            "child" => Some(Stage::Child),
            "adult" => Some(Stage::Adult),
            _ => None,
        }
    }

    /// The stage `xp` has reached, by the contract's thresholds (`api::types::STAGES`).
    pub fn from_xp(xp: i64) -> Stage {
        let reached =
            STAGES.iter().filter(|(_, at)| xp >= *at).max_by_key(|(_, at)| *at).map(|(name, _)| *name);
        reached.and_then(Stage::parse).unwrap_or(Stage::Baby)
    }

    /// The pet's stage as the server names it, or derived from XP when the name is unknown.
    pub fn of(pet: &Pet) -> Stage {
        Stage::parse(&pet.stage).unwrap_or_else(|| Stage::from_xp(pet.xp))
    }

    /// The API's name for this stage.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Baby => "Baby",
            Stage::Child => "Child",
            Stage::Adult => "Adult",
        }
    }
}

/// What the pet wears (bought in the shop).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Hat {
    /// Bare head ("None" or empty in the API).
    None,
    /// 🎩
    TopHat,
    /// 🎀
    Bow,
    /// 👑
    Crown,
    /// A hat value this client does not know; drawn as a plain cap rather than
    /// printing server text of unknown width.
    Other,
}

impl Hat {
    /// Every hat that is drawn.
    pub const WORN: [Hat; 4] = [Hat::TopHat, Hat::Bow, Hat::Crown, Hat::Other];

    /// Parse the API's hat value (an emoji, "None" or empty); shop ids are accepted too.
    pub fn parse(text: &str) -> Hat {
        let t = text.trim();
        // Emoji may arrive with a variation selector (U+FE0F) attached.
        let t = t.trim_end_matches('\u{fe0f}');
        match t {
            "" => Hat::None,
            "🎩" => Hat::TopHat,
            "🎀" => Hat::Bow,
            "👑" => Hat::Crown,
            _ => match t.to_ascii_lowercase().as_str() {
                "none" | "null" => Hat::None,
                "tophat" | "top hat" => Hat::TopHat,
                "bow" => Hat::Bow,
                "crown" => Hat::Crown,
                _ => Hat::Other,
            },
        }
    }

    /// The one-row drawing of the hat (odd width, centred on the anchor).
    pub fn glyphs(self, ascii: bool) -> &'static str {
        match (self, ascii) {
            (Hat::None, _) => "",
            (Hat::TopHat, false) => "▄█▄",
            (Hat::TopHat, true) => "_|#|_",
            (Hat::Bow, false) => "◀●▶",
            (Hat::Bow, true) => ">o<",
            (Hat::Crown, false) => "▲▲▲",
            (Hat::Crown, true) => "\\^^^/",
            (Hat::Other, false) => "▁▄▁",
            (Hat::Other, true) => "_n_",
        }
    }
}

/// The glyphs a mood puts into a template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Face {
    eye: char,
    blink: char,
    mouth: char,
    left: char,
    right: char,
}

fn face(mood: Mood, ascii: bool) -> Face {
    let f = |eye, blink, mouth, left, right| Face { eye, blink, mouth, left, right };
    match (mood, ascii) {
        (Mood::Happy, false) => f('^', '-', 'ω', ' ', '♪'),
        (Mood::Happy, true) => f('^', '-', 'w', ' ', '*'),
        (Mood::Content, false) => f('•', '-', '‿', ' ', ' '),
        (Mood::Content, true) => f('o', '-', 'u', ' ', ' '),
        (Mood::Hungry, false) => f('•', '-', '○', ' ', '?'),
        (Mood::Hungry, true) => f('o', '-', 'O', ' ', '?'),
        (Mood::Tired, false) => f('-', '_', 'ᴗ', ' ', 'z'),
        (Mood::Tired, true) => f('-', '_', '.', ' ', 'z'),
        (Mood::Dirty, false) => f('•', '-', '~', '∴', '∴'),
        (Mood::Dirty, true) => f('o', '-', '~', ';', ';'),
        (Mood::Sad, false) => f('╥', '-', '⌒', ' ', ' '),
        (Mood::Sad, true) => f('T', '-', 'n', ' ', ' '),
    }
}

/// The raw template for a species × stage (`ascii` picks the ASCII-only variant).
pub fn template(species: Species, stage: Stage, ascii: bool) -> &'static str {
    macro_rules! pick {
        ($name:literal) => {
            if ascii {
                include_str!(concat!("../../../assets/pets/", $name, ".ascii.txt"))
            } else {
                include_str!(concat!("../../../assets/pets/", $name, ".txt"))
            }
        };
    }
    match (species, stage) {
        (Species::Dog, Stage::Baby) => pick!("dog_baby"),
        (Species::Dog, Stage::Child) => pick!("dog_child"),
        (Species::Dog, Stage::Adult) => pick!("dog_adult"),
        (Species::Cat, Stage::Baby) => pick!("cat_baby"),
        (Species::Cat, Stage::Child) => pick!("cat_child"),
        (Species::Cat, Stage::Adult) => pick!("cat_adult"),
        (Species::Bunny, Stage::Baby) => pick!("bunny_baby"),
        (Species::Bunny, Stage::Child) => pick!("bunny_child"),
        (Species::Bunny, Stage::Adult) => pick!("bunny_adult"),
        (Species::Dragon, Stage::Baby) => pick!("dragon_baby"),
        (Species::Dragon, Stage::Child) => pick!("dragon_child"),
        (Species::Dragon, Stage::Adult) => pick!("dragon_adult"),
        // One generic creature for every stage: unknown species are rare, and a
        // fixed shape keeps the fallback predictable.
        (Species::Other, _) => pick!("generic"),
    }
}

/// What to draw: everything that changes the picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArtSpec {
    /// Which drawing.
    pub species: Species,
    /// Which size.
    pub stage: Stage,
    /// Which face.
    pub mood: Mood,
    /// What sits on top.
    pub hat: Hat,
    /// ASCII-only glyphs.
    pub ascii: bool,
    /// Idle animation frame: odd frames blink.
    pub frame: u8,
}

/// What a cell of a drawing is, so the pane can colour the parts differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Part {
    /// The outline (and blank space inside it).
    Body,
    /// An eye.
    Eye,
    /// The mouth.
    Mouth,
    /// A mood's decoration beside the head (♪, z, ?, stink lines).
    Decoration,
    /// The hat.
    Hat,
}

/// The finished drawing, one string per row, every glyph one column wide.
///
/// The first template row (the hat row) is left out when there is no hat, so a
/// bare-headed pet does not waste a row of a small pane.
pub fn render(spec: ArtSpec) -> Vec<String> {
    render_parts(spec).iter().map(|row| row.iter().map(|(c, _)| *c).collect()).collect()
}

/// Like [`render`], with each glyph tagged by the [`Part`] it belongs to.
pub fn render_parts(spec: ArtSpec) -> Vec<Vec<(char, Part)>> {
    let face = face(spec.mood, spec.ascii);
    let eye = if spec.frame % 2 == 1 { face.blink } else { face.eye };
    let template = template(spec.species, spec.stage, spec.ascii);
    // Drop the blank columns the template leaves on the left, so the pane centres
    // the picture rather than the template's margin. Measured on the template (tokens
    // and the widest hat count as ink), so a pet does not shift when its mood or hat
    // changes.
    let margin = margin(template);
    let mut rows = Vec::with_capacity(MAX_HEIGHT);
    for (i, line) in template.lines().enumerate() {
        let mut row: Vec<(char, Part)> = if i == 0 {
            if spec.hat == Hat::None {
                continue;
            }
            let hat = hat_row(line, spec.hat.glyphs(spec.ascii));
            hat.chars().map(|c| (c, if c == ' ' { Part::Body } else { Part::Hat })).collect()
        } else {
            line.chars()
                .map(|c| match c {
                    EYE => (eye, Part::Eye),
                    MOUTH => (face.mouth, Part::Mouth),
                    LEFT => (face.left, Part::Decoration),
                    RIGHT => (face.right, Part::Decoration),
                    HAT_ANCHOR => (' ', Part::Body),
                    other => (other, Part::Body),
                })
                .collect()
        };
        while row.last().is_some_and(|(c, _)| *c == ' ') {
            row.pop();
        }
        rows.push(row.into_iter().skip(margin).collect());
    }
    rows
}

/// Widest hat drawing, in columns.
const MAX_HAT: usize = 5;

/// Blank columns every row of a template starts with, counting the hat row as
/// inked from where the widest hat would begin.
fn margin(template: &str) -> usize {
    let mut lines = template.lines();
    let hat = lines.next().and_then(|l| l.find(HAT_ANCHOR)).unwrap_or(0).saturating_sub(MAX_HAT / 2);
    lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.chars().take_while(|&c| c == ' ').count())
        .fold(hat, usize::min)
}

/// The hat row: the template's first line with the hat centred on its anchor.
fn hat_row(template_row: &str, hat: &str) -> String {
    let anchor =
        template_row.find(HAT_ANCHOR).map(|byte| template_row[..byte].width()).unwrap_or(MAX_WIDTH / 2);
    let start = anchor.saturating_sub(hat.width() / 2);
    format!("{}{}", " ".repeat(start), hat)
}

/// Display width of the widest row.
pub fn width(rows: &[String]) -> usize {
    rows.iter().map(|r| r.width()).max().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::model::types::KNOWN_SPECIES;

    const ALL_SPECIES: [Species; 5] =
        [Species::Dog, Species::Cat, Species::Bunny, Species::Dragon, Species::Other];
    const ALL_HATS: [Hat; 5] = [Hat::None, Hat::TopHat, Hat::Bow, Hat::Crown, Hat::Other];

    /// Every combination the pane can ask for.
    fn every_spec() -> Vec<ArtSpec> {
        let mut out = Vec::new();
        for species in ALL_SPECIES {
            for stage in Stage::ALL {
                for mood in Mood::ALL {
                    for hat in ALL_HATS {
                        for ascii in [false, true] {
                            for frame in [0, 1] {
                                out.push(ArtSpec { species, stage, mood, hat, ascii, frame });
                            }
                        }
                    }
                }
            }
        }
        out
    }

    #[test]
    fn every_known_species_has_its_own_drawing() {
        for name in KNOWN_SPECIES {
            let species = Species::parse(name);
            assert_ne!(species, Species::Other, "{name} falls back to the generic pet");
            for stage in Stage::ALL {
                for ascii in [false, true] {
                    assert_ne!(template(species, stage, ascii), template(Species::Other, stage, ascii));
                }
            }
        }
        assert_eq!(Species::KNOWN.len(), KNOWN_SPECIES.len());
    }

    #[test]
    fn templates_follow_the_token_scheme() {
        for species in ALL_SPECIES {
            for stage in Stage::ALL {
                for ascii in [false, true] {
                    let t = template(species, stage, ascii);
                    let lines: Vec<&str> = t.lines().collect();
                    let what = format!("{species:?} {stage:?} ascii={ascii}");
                    assert!(lines.len() <= MAX_HEIGHT, "{what}: {} rows", lines.len());
                    assert_eq!(lines[0].trim(), "0", "{what}: first row is the hat row");
                    let anchor = lines[0].find('0').map(|b| lines[0][..b].width()).unwrap_or(0);
                    assert!((2..=MAX_WIDTH - 3).contains(&anchor), "{what}: a 5-wide hat must fit");
                    assert_eq!(t.matches(EYE).count(), 2, "{what}: two eyes");
                    assert_eq!(t.matches(MOUTH).count(), 1, "{what}: one mouth");
                    assert_eq!(t.matches(LEFT).count(), 1, "{what}: one left slot");
                    assert_eq!(t.matches(RIGHT).count(), 1, "{what}: one right slot");
                    assert_eq!(t.matches(HAT_ANCHOR).count(), 1, "{what}: one hat anchor");
                    assert!(Hat::WORN.iter().all(|h| h.glyphs(ascii).width() <= MAX_HAT));
                    for c in ['2', '4', '5', '6', '8'] {
                        assert!(!t.contains(c), "{what}: digits are reserved for tokens");
                    }
                }
            }
        }
    }

    #[test]
    fn every_combination_fits_and_is_single_width() {
        for spec in every_spec() {
            let rows = render(spec);
            assert!(!rows.is_empty());
            assert!(rows.len() <= MAX_HEIGHT, "{spec:?}: {} rows", rows.len());
            assert!(width(&rows) <= MAX_WIDTH, "{spec:?}: {} columns", width(&rows));
            for row in &rows {
                for c in row.chars() {
                    let w = unicode_width::UnicodeWidthChar::width(c);
                    assert_eq!(w, Some(1), "{spec:?}: {c:?} is not single-width");
                }
                assert!(!row.contains(['0', '1', '3', '7', '9']), "{spec:?}: token left in {row:?}");
            }
            if spec.ascii {
                assert!(rows.iter().all(|r| r.is_ascii()), "{spec:?}: not ASCII: {rows:?}");
            }
        }
    }

    #[test]
    fn every_mood_draws_differently() {
        for species in ALL_SPECIES {
            for stage in Stage::ALL {
                for ascii in [false, true] {
                    for hat in [Hat::None, Hat::Crown] {
                        let drawings: HashSet<Vec<String>> = Mood::ALL
                            .iter()
                            .map(|&mood| render(ArtSpec { species, stage, mood, hat, ascii, frame: 0 }))
                            .collect();
                        assert_eq!(drawings.len(), Mood::ALL.len(), "{species:?} {stage:?} ascii={ascii}");
                    }
                }
            }
        }
    }

    #[test]
    fn blinking_changes_the_eyes_only() {
        for species in ALL_SPECIES {
            for mood in Mood::ALL {
                let spec =
                    ArtSpec { species, stage: Stage::Child, mood, hat: Hat::None, ascii: false, frame: 0 };
                let open = render(spec);
                let shut = render(ArtSpec { frame: 1, ..spec });
                assert_eq!(open.len(), shut.len());
                let changed: usize = open
                    .iter()
                    .zip(&shut)
                    .map(|(a, b)| a.chars().zip(b.chars()).filter(|(x, y)| x != y).count())
                    .sum();
                assert_eq!(changed, 2, "{species:?} {mood:?}: exactly the two eyes change");
                assert_eq!(render(ArtSpec { frame: 2, ..spec }), open, "even frames are open");
            }
        }
    }

    #[test]
    fn stages_and_species_differ() {
        let draw = |species, stage| {
            render(ArtSpec { species, stage, mood: Mood::Content, hat: Hat::None, ascii: false, frame: 0 })
        };
        let all: HashSet<Vec<String>> =
            Species::KNOWN.iter().flat_map(|&s| Stage::ALL.map(|st| draw(s, st))).collect();
        assert_eq!(all.len(), Species::KNOWN.len() * Stage::ALL.len());
    }

    #[test]
    fn a_hat_adds_one_row_on_top() {
        let spec = ArtSpec {
            species: Species::Dog,
            stage: Stage::Baby,
            mood: Mood::Happy,
            hat: Hat::None,
            ascii: true,
            frame: 0,
        };
        let bare = render(spec);
        let hatted = render(ArtSpec { hat: Hat::TopHat, ..spec });
        assert_eq!(hatted.len(), bare.len() + 1);
        assert_eq!(hatted[0].trim(), "_|#|_");
        assert_eq!(&hatted[1..], &bare[..], "the body does not move under a hat");
    }

    #[test]
    fn hat_parsing() {
        assert_eq!(Hat::parse("None"), Hat::None);
        assert_eq!(Hat::parse(""), Hat::None);
        assert_eq!(Hat::parse("🎩"), Hat::TopHat);
        assert_eq!(Hat::parse("🎀"), Hat::Bow);
        assert_eq!(Hat::parse("👑\u{fe0f}"), Hat::Crown);
        assert_eq!(Hat::parse("crown"), Hat::Crown);
        assert_eq!(Hat::parse("🧢"), Hat::Other);
    }

    #[test]
    fn stages_from_names_and_xp() {
        assert_eq!(Stage::parse(" adult "), Some(Stage::Adult));
        assert_eq!(Stage::parse("Elder"), None);
        assert_eq!(Stage::from_xp(-10), Stage::Baby);
        assert_eq!(Stage::from_xp(499), Stage::Baby);
        assert_eq!(Stage::from_xp(500), Stage::Child);
        assert_eq!(Stage::from_xp(1499), Stage::Child);
        assert_eq!(Stage::from_xp(1500), Stage::Adult);
        let pet = Pet { stage: "???".into(), xp: 700, ..Pet::default() };
        assert_eq!(Stage::of(&pet), Stage::Child);
    }

    #[test]
    fn species_parsing() {
        assert_eq!(Species::parse("DOG"), Species::Dog);
        assert_eq!(Species::parse("Unicorn"), Species::Other);
        assert_eq!(Species::parse(""), Species::Other);
    }
}
