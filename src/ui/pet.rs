//! The pet pane: art, mood, gauges, coins and XP, and its one-line compact form.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

use crate::api::types::Pet;

/// How the pet pane should draw.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PetLook {
    /// ASCII art and symbols only.
    pub ascii: bool,
    /// No colour: gauges carry text percentages.
    pub mono: bool,
}

/// Draw the pet pane into `area`; `None` shows "no pet yet".
pub fn render_pet(pet: Option<&Pet>, look: PetLook, area: Rect, buf: &mut Buffer) {
    let _ = (pet, look, area, buf);
}

/// One-line summary for the status bar when the pane is hidden, e.g. "Biscuit ♥72".
pub fn compact_line(pet: &Pet, look: PetLook) -> String {
    let heart = if look.ascii { "<3" } else { "♥" };
    format!("{} {}{}", crate::sanitize::sanitize_line(&pet.name), heart, pet.happiness)
}
