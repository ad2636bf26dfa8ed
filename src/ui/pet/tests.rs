//! Pane tests: insta snapshots of the rendered buffer, plus checks on colour and
//! text that a snapshot of symbols cannot show.

use insta::assert_snapshot;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Color;

use super::art::{self, ArtSpec, Hat, Species, Stage};
use super::mood::Mood;
use super::*;

/// Biscuit from the demo seed, with stats that make `mood` whatever the test needs.
fn biscuit() -> Pet {
    Pet {
        name: "Biscuit".into(),
        species: "Dog".into(),
        gender: "Neutral".into(),
        hunger: 80,
        happiness: 72,
        energy: 90,
        hygiene: 75,
        coins: 50,
        xp: 120,
        stage: "Baby".into(),
        hat: "None".into(),
        ..Pet::default()
    }
}

fn with_mood(mood: Mood) -> Pet {
    let mut pet = biscuit();
    match mood {
        Mood::Happy => {}
        Mood::Content => pet.energy = 55,
        Mood::Hungry => pet.hunger = 12,
        Mood::Tired => pet.energy = 8,
        Mood::Dirty => pet.hygiene = 20,
        Mood::Sad => pet.happiness = 15,
    }
    assert_eq!(mood::mood(&pet), mood, "fixture gives the wanted mood");
    pet
}

/// The buffer's symbols, one framed row per line so trailing blanks stay visible.
fn text(buf: &Buffer) -> String {
    let area = buf.area;
    let mut out = String::new();
    for y in area.top()..area.bottom() {
        out.push('|');
        let mut skip = 0;
        for x in area.left()..area.right() {
            if skip > 0 {
                skip -= 1;
                continue;
            }
            let symbol = buf[(x, y)].symbol();
            skip = symbol.width().saturating_sub(1);
            out.push_str(symbol);
        }
        out.push_str("|\n");
    }
    out
}

fn draw(pet: Option<&Pet>, look: PetLook, width: u16, height: u16) -> Buffer {
    let area = Rect::new(0, 0, width, height);
    let mut buf = Buffer::empty(area);
    render_pet(pet, look, area, &mut buf);
    buf
}

fn screen(pet: Option<&Pet>, look: PetLook, width: u16, height: u16) -> String {
    text(&draw(pet, look, width, height))
}

const UNICODE: PetLook = PetLook { ascii: false, mono: false, animate_frame: 0 };
const ASCII: PetLook = PetLook { ascii: true, mono: false, animate_frame: 0 };
const MONO: PetLook = PetLook { ascii: false, mono: true, animate_frame: 0 };

#[test]
fn mood_happy() {
    assert_snapshot!(screen(Some(&with_mood(Mood::Happy)), UNICODE, 26, 16));
}

#[test]
fn mood_content() {
    assert_snapshot!(screen(Some(&with_mood(Mood::Content)), UNICODE, 26, 16));
}

#[test]
fn mood_hungry() {
    assert_snapshot!(screen(Some(&with_mood(Mood::Hungry)), UNICODE, 26, 16));
}

#[test]
fn mood_tired() {
    assert_snapshot!(screen(Some(&with_mood(Mood::Tired)), UNICODE, 26, 16));
}

#[test]
fn mood_dirty() {
    assert_snapshot!(screen(Some(&with_mood(Mood::Dirty)), UNICODE, 26, 16));
}

#[test]
fn mood_sad() {
    assert_snapshot!(screen(Some(&with_mood(Mood::Sad)), UNICODE, 26, 16));
}

#[test]
fn hats_unicode() {
    let mut out = String::new();
    for (hat, species) in [("🎩", "Dog"), ("🎀", "Cat"), ("👑", "Dragon")] {
        let pet =
            Pet { hat: hat.into(), species: species.into(), stage: "Adult".into(), xp: 1600, ..biscuit() };
        out.push_str(&screen(Some(&pet), UNICODE, 26, 18));
    }
    assert_snapshot!(out);
}

#[test]
fn hats_ascii() {
    let mut out = String::new();
    for (hat, species) in [("🎩", "Bunny"), ("🎀", "Cat"), ("👑", "Dog")] {
        let pet =
            Pet { hat: hat.into(), species: species.into(), stage: "Child".into(), xp: 700, ..biscuit() };
        out.push_str(&screen(Some(&pet), ASCII, 26, 17));
    }
    assert_snapshot!(out);
}

#[test]
fn ascii_mode_is_pure_ascii() {
    let pet = with_mood(Mood::Hungry);
    let shown = screen(Some(&pet), ASCII, 26, 16);
    assert!(shown.is_ascii(), "{shown}");
    assert_snapshot!(shown);
}

#[test]
fn mono_shows_percentages_and_no_colour() {
    let pet = with_mood(Mood::Dirty);
    let buf = draw(Some(&pet), MONO, 26, 16);
    for cell in buf.content() {
        assert_eq!(cell.fg, Color::Reset, "mono draws no colour");
        assert_eq!(cell.bg, Color::Reset, "mono draws no colour");
    }
    let shown = text(&buf);
    assert!(shown.contains(" 20%!"), "low hygiene marked: {shown}");
    assert_snapshot!(shown);
}

#[test]
fn gauges_are_coloured_by_level() {
    let pet = Pet { hunger: 10, happiness: 50, energy: 90, ..biscuit() };
    let buf = draw(Some(&pet), UNICODE, 26, 16);
    let shown = text(&buf);
    let row_of =
        |label: &str| shown.lines().position(|l| l.starts_with(&format!("|{label}"))).map(|r| r as u16);
    // The first bar cell of each gauge line, right after the 10-column label.
    for (label, colour) in [("Hunger", Color::Red), ("Happiness", Color::Yellow), ("Energy", Color::Green)] {
        let y = row_of(label).unwrap_or_else(|| panic!("no {label} line in\n{shown}"));
        assert_eq!(buf[(10, y)].fg, colour, "{label}");
        assert!(!shown.contains('%'), "percentages only without colour");
    }
}

#[test]
fn hat_and_mood_touches_are_coloured() {
    let pet = Pet { hat: "👑".into(), ..with_mood(Mood::Happy) };
    let buf = draw(Some(&pet), UNICODE, 26, 16);
    let colour_of = |glyph: &str| buf.content().iter().find(|c| c.symbol() == glyph).map(|c| c.fg);
    assert_eq!(colour_of("▲"), Some(Color::Yellow), "crown");
    assert_eq!(colour_of("♪"), Some(Color::Magenta), "happy note");
    assert_eq!(colour_of("╭"), Some(Color::Reset), "outline keeps the terminal colour");
}

#[test]
fn narrow_pane_is_one_line() {
    let pet = with_mood(Mood::Content);
    let shown = screen(Some(&pet), UNICODE, 15, 6);
    assert!(shown.starts_with("|Biscuit ♥72"), "{shown}");
    assert_snapshot!(shown);
}

#[test]
fn very_short_pane_is_one_line() {
    let pet = with_mood(Mood::Content);
    assert_snapshot!(screen(Some(&pet), ASCII, 30, 2));
}

#[test]
fn short_pane_drops_art_first() {
    let pet = with_mood(Mood::Happy);
    let shown = screen(Some(&pet), UNICODE, 26, 8);
    assert!(shown.contains("XP") && shown.contains("Coins"), "text kept when the art goes: {shown}");
    assert!(!shown.contains('^'), "art dropped: {shown}");
    assert_snapshot!(shown);
}

#[test]
fn shorter_pane_drops_subtitle_then_xp_then_coins() {
    let pet = with_mood(Mood::Happy);
    let s7 = screen(Some(&pet), UNICODE, 26, 7);
    assert!(!s7.contains("Baby Dog") && s7.contains("XP") && s7.contains("Coins"), "{s7}");
    let s6 = screen(Some(&pet), UNICODE, 26, 6);
    assert!(!s6.contains("XP") && s6.contains("Coins"), "{s6}");
    let s5 = screen(Some(&pet), UNICODE, 26, 5);
    assert!(!s5.contains("Coins") && s5.contains("Hygiene"), "{s5}");
    assert_snapshot!(screen(Some(&pet), UNICODE, 26, 4));
}

#[test]
fn wide_pane_names_the_next_stage() {
    let pet = with_mood(Mood::Content);
    let shown = screen(Some(&pet), ASCII, 40, 16);
    assert!(shown.contains(" 120/500 -> Child"), "{shown}");
    assert_snapshot!(shown);
}

#[test]
fn slim_pane_uses_short_labels() {
    let pet = with_mood(Mood::Tired);
    let shown = screen(Some(&pet), MONO, 18, 16);
    assert!(shown.contains("|Hap ") && !shown.contains("Happiness"), "{shown}");
    assert_snapshot!(shown);
}

#[test]
fn no_pet() {
    assert_snapshot!(screen(None, UNICODE, 40, 3));
}

#[test]
fn no_pet_narrow_ascii_wraps() {
    let shown = screen(None, ASCII, 14, 4);
    assert!(shown.is_ascii());
    assert_snapshot!(shown);
}

#[test]
fn blink_frame() {
    let pet = with_mood(Mood::Happy);
    let open = screen(Some(&pet), UNICODE, 26, 16);
    let look = PetLook { animate_frame: 1, ..UNICODE };
    let shut = screen(Some(&pet), look, 26, 16);
    assert_ne!(open, shut);
    assert_snapshot!(shut);
}

#[test]
fn unknown_species_and_stage_fall_back() {
    let pet = Pet { species: "Axolotl".into(), stage: "".into(), xp: 2000, ..with_mood(Mood::Content) };
    let shown = screen(Some(&pet), UNICODE, 26, 16);
    assert!(shown.contains("Adult Axolotl"), "stage from XP, species text kept: {shown}");
    assert_snapshot!(shown);
}

#[test]
fn hostile_name_is_sanitized() {
    let pet = Pet { name: "Bis\u{1b}]0;pwned\u{7}cuit\u{202e}\nX".into(), ..biscuit() };
    let buf = draw(Some(&pet), UNICODE, 26, 16);
    for cell in buf.content() {
        assert!(!cell.symbol().chars().any(|c| c.is_control() || c == '\u{202e}'), "{:?}", cell.symbol());
    }
    let line = compact_line(&pet, UNICODE);
    assert!(!line.chars().any(char::is_control), "{line:?}");
}

#[test]
fn compact_line_forms() {
    let pet = biscuit();
    assert_eq!(compact_line(&pet, UNICODE), "Biscuit ♥72");
    assert_eq!(compact_line(&pet, ASCII), "Biscuit <3 72");
    let odd = Pet { name: "  ".into(), happiness: 140, ..biscuit() };
    assert_eq!(compact_line(&odd, UNICODE), "(unnamed) ♥100");
}

#[test]
fn xp_progress_follows_stage_thresholds() {
    assert_eq!(xp_progress(0), Some((0, 500)));
    assert_eq!(xp_progress(499), Some((0, 500)));
    assert_eq!(xp_progress(500), Some((500, 1500)));
    assert_eq!(xp_progress(1500), None);
    assert_eq!(xp_progress(-20), Some((0, 500)));
}

#[test]
fn tiny_and_offscreen_areas_do_not_panic() {
    let pet = biscuit();
    let mut buf = Buffer::empty(Rect::new(0, 0, 10, 10));
    for area in
        [Rect::new(0, 0, 0, 0), Rect::new(0, 0, 1, 1), Rect::new(8, 8, 40, 40), Rect::new(50, 50, 5, 5)]
    {
        for look in [UNICODE, ASCII, MONO] {
            render_pet(Some(&pet), look, area, &mut buf);
            render_pet(None, look, area, &mut buf);
            render_shop(&[], 3, look, area, &mut buf);
        }
    }
}

/// Every drawing in every mood, side by side, so a reviewer sees the whole set in
/// one snapshot file.
fn gallery(ascii: bool) -> String {
    let mut out = String::new();
    for species in [Species::Dog, Species::Cat, Species::Bunny, Species::Dragon, Species::Other] {
        for stage in Stage::ALL {
            out.push_str(&format!("{species:?} {stage:?}\n"));
            let drawings: Vec<Vec<String>> = Mood::ALL
                .iter()
                .map(|&mood| art::render(ArtSpec { species, stage, mood, hat: Hat::None, ascii, frame: 0 }))
                .collect();
            let height = drawings.iter().map(Vec::len).max().unwrap_or(0);
            for row in 0..height {
                let cells: Vec<String> = drawings
                    .iter()
                    .map(|d| {
                        let r = d.get(row).map(String::as_str).unwrap_or("");
                        format!("{r}{}", " ".repeat(art::MAX_WIDTH.saturating_sub(r.width())))
                    })
                    .collect();
                out.push_str(&format!("|{}|\n", cells.join("|")));
            }
        }
    }
    out
}

#[test]
fn art_gallery_unicode() {
    assert_snapshot!(gallery(false));
}

#[test]
fn art_gallery_ascii() {
    let shown = gallery(true);
    assert!(shown.is_ascii());
    assert_snapshot!(shown);
}

fn shop_items() -> Vec<ShopItem> {
    let item = |id: &str, name: &str, description: &str, cost: i64| ShopItem {
        id: id.into(),
        name: name.into(),
        description: description.into(),
        cost,
        ..ShopItem::default()
    };
    vec![
        item("apple", "🍎 Apple", "+20 Hunger", 10),
        item("cupcake", "🧁 Cupcake", "+40 Hunger, +10 Happiness", 25),
        item("tophat", "🎩 Top Hat", "Cosmetic", 100),
        item("bow", "🎀 Bow", "Cosmetic", 100),
        item("crown", "👑 Crown", "Cosmetic", 500),
    ]
}

#[test]
fn shop_list() {
    let items = shop_items();
    let area = Rect::new(0, 0, 44, 5);
    let mut buf = Buffer::empty(area);
    render_shop(&items, 1, UNICODE, area, &mut buf);
    assert_snapshot!(text(&buf));
}

#[test]
fn shop_list_ascii_scrolls_to_selection() {
    let items = shop_items();
    let area = Rect::new(0, 0, 36, 3);
    let mut buf = Buffer::empty(area);
    render_shop(&items, 4, ASCII, area, &mut buf);
    let shown = text(&buf);
    assert!(shown.is_ascii());
    assert!(shown.contains("> Crown"), "{shown}");
    assert_snapshot!(shown);
}

/// A name longer than its column is cut with the same mark as every other name on
/// screen (`…`, `~` in ASCII), so it does not read as a whole name.
#[test]
fn shop_names_too_long_are_cut_with_a_mark() {
    let long = ShopItem {
        id: "scarf".into(),
        name: "🧣 Extraordinarily long scarf".into(),
        description: "Cosmetic".into(),
        cost: 5,
        ..ShopItem::default()
    };
    for (look, mark) in [(UNICODE, "🧣 Extraordin…"), (ASCII, "Extraordinari~")] {
        let area = Rect::new(0, 0, 44, 1);
        let mut buf = Buffer::empty(area);
        render_shop(std::slice::from_ref(&long), 0, look, area, &mut buf);
        let shown = text(&buf);
        assert!(shown.contains(mark), "{shown}");
    }
}

mod props {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Any pet, any look, any area: no panic, and nothing drawn outside the area.
        #[test]
        fn render_stays_inside_its_area(
            name in ".{0,30}",
            species in prop::sample::select(vec!["Dog", "Cat", "Bunny", "Dragon", "", "Hydra"]),
            stage in prop::sample::select(vec!["Baby", "Child", "Adult", "", "Elder"]),
            hat in prop::sample::select(vec!["None", "🎩", "🎀", "👑", "", "🧢"]),
            stats in prop::array::uniform4(-50i64..200),
            coins in any::<i64>(),
            xp in any::<i64>(),
            (ascii, mono, frame) in (any::<bool>(), any::<bool>(), any::<u8>()),
            (x, y, w, h) in (0u16..6, 0u16..6, 0u16..40, 0u16..24),
        ) {
            let pet = Pet {
                name,
                species: species.into(),
                stage: stage.into(),
                hat: hat.into(),
                hunger: stats[0],
                happiness: stats[1],
                energy: stats[2],
                hygiene: stats[3],
                coins,
                xp,
                ..Pet::default()
            };
            let look = PetLook { ascii, mono, animate_frame: frame };
            let whole = Rect::new(0, 0, 48, 32);
            let area = Rect::new(x, y, w, h);
            for pet in [Some(&pet), None] {
                let mut buf = Buffer::empty(whole);
                for cell in buf.content.iter_mut() {
                    cell.set_symbol("X");
                }
                render_pet(pet, look, area, &mut buf);
                for py in whole.top()..whole.bottom() {
                    for px in whole.left()..whole.right() {
                        if !area.contains((px, py).into()) {
                            prop_assert_eq!(buf[(px, py)].symbol(), "X", "drew at {},{} outside {:?}", px, py, area);
                        }
                    }
                }
            }
        }
    }
}
