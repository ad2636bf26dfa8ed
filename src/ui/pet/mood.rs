//! The pet's mood, derived from its four stats. Pure, so the pane, the status bar
//! and tests all agree on what a given pet feels.

use crate::model::types::Pet;

/// A stat below this is a need the pet shows (and its gauge turns red).
pub const LOW: i64 = 30;
/// Every stat at or above this makes a happy pet (and a stat here turns its gauge green).
pub const HIGH: i64 = 70;

/// How the pet feels; picks the face drawn on the art.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mood {
    /// Every stat is high.
    Happy,
    /// Nothing urgent, nothing glowing.
    Content,
    /// Hunger is low (hunger 100 = full).
    Hungry,
    /// Energy is low.
    Tired,
    /// Hygiene is low.
    Dirty,
    /// Happiness is low.
    Sad,
}

impl Mood {
    /// Every mood, in the order the pane documents them.
    pub const ALL: [Mood; 6] =
        [Mood::Happy, Mood::Content, Mood::Hungry, Mood::Tired, Mood::Dirty, Mood::Sad];

    /// Lower-case word for the pane's subtitle (also what a NO_COLOR reader sees).
    pub fn label(self) -> &'static str {
        match self {
            Mood::Happy => "happy",
            Mood::Content => "content",
            Mood::Hungry => "hungry",
            Mood::Tired => "tired",
            Mood::Dirty => "dirty",
            Mood::Sad => "sad",
        }
    }
}

/// The mood a pet shows, first match wins:
///
/// 1. hungry — hunger < [`LOW`] (the server's decay hits hunger first, and food is
///    the one need the user can fix right away with `f`),
/// 2. dirty — hygiene < [`LOW`],
/// 3. tired — energy < [`LOW`],
/// 4. sad — happiness < [`LOW`] (sadness is usually a consequence of the needs
///    above, so those are shown first as the actionable cause),
/// 5. happy — all four ≥ [`HIGH`],
/// 6. content — otherwise.
///
/// Stats outside 0–100 (a misbehaving server) simply compare as they are.
pub fn mood(pet: &Pet) -> Mood {
    if pet.hunger < LOW {
        Mood::Hungry
    } else if pet.hygiene < LOW {
        Mood::Dirty
    } else if pet.energy < LOW {
        Mood::Tired
    } else if pet.happiness < LOW {
        Mood::Sad
    } else if [pet.hunger, pet.happiness, pet.energy, pet.hygiene].iter().all(|&s| s >= HIGH) {
        Mood::Happy
    } else {
        Mood::Content
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pet(hunger: i64, happiness: i64, energy: i64, hygiene: i64) -> Pet {
        Pet { hunger, happiness, energy, hygiene, ..Pet::default() }
    }

    #[test]
    fn each_low_stat_gives_its_mood() {
        assert_eq!(mood(&pet(10, 80, 80, 80)), Mood::Hungry);
        assert_eq!(mood(&pet(80, 80, 80, 10)), Mood::Dirty);
        assert_eq!(mood(&pet(80, 80, 10, 80)), Mood::Tired);
        assert_eq!(mood(&pet(80, 10, 80, 80)), Mood::Sad);
    }

    #[test]
    fn all_high_is_happy_otherwise_content() {
        assert_eq!(mood(&pet(70, 70, 70, 70)), Mood::Happy);
        assert_eq!(mood(&pet(100, 100, 100, 100)), Mood::Happy);
        assert_eq!(mood(&pet(69, 100, 100, 100)), Mood::Content);
        assert_eq!(mood(&pet(50, 50, 50, 50)), Mood::Content);
    }

    #[test]
    fn thresholds_are_exclusive_below_low() {
        assert_eq!(mood(&pet(29, 50, 50, 50)), Mood::Hungry);
        assert_eq!(mood(&pet(30, 50, 50, 50)), Mood::Content);
        assert_eq!(mood(&pet(50, 30, 30, 30)), Mood::Content);
    }

    #[test]
    fn priority_hungry_dirty_tired_sad() {
        assert_eq!(mood(&pet(0, 0, 0, 0)), Mood::Hungry);
        assert_eq!(mood(&pet(50, 0, 0, 0)), Mood::Dirty);
        assert_eq!(mood(&pet(50, 0, 0, 50)), Mood::Tired);
        assert_eq!(mood(&pet(50, 0, 50, 50)), Mood::Sad);
    }

    #[test]
    fn out_of_range_stats_do_not_panic() {
        assert_eq!(mood(&pet(-5, 500, 500, 500)), Mood::Hungry);
        assert_eq!(mood(&pet(500, 500, 500, 500)), Mood::Happy);
    }

    #[test]
    fn labels_are_distinct() {
        let labels: std::collections::HashSet<_> = Mood::ALL.iter().map(|m| m.label()).collect();
        assert_eq!(labels.len(), Mood::ALL.len());
    }
}
