//! Caring for the pet: the shop (`f`: pick an item, Enter buys it; food feeds), the
//! create-a-pet form (`n`), their results, the 60 s refresh and the optional blink.
//! Every action that changes the pet on the server is followed by a fetch of it,
//! because the server applies decay when it answers.

use crate::app::action::Action;
use crate::app::effect::Effect;
use crate::app::keymap::{Key, KeyCode};
use crate::app::state::{NoticeKind, PetDialog, PetState, Screen, State};
use crate::model::sanitize::sanitize_line;
use crate::model::types::{ShopItem, KNOWN_SPECIES};

/// Longest pet name the form takes, in characters.
pub const NAME_LIMIT: usize = 24;

/// Blink (frame 1) on one animation tick in this many; the frame changes at most once
/// per tick, and the runner ticks every 2 s at most.
const BLINK_EVERY: u8 = 4;

/// Timed refreshes allowed per rolling hour and day: production allows 50 and 200 per
/// route, and the refreshes after actions need some of that too. A 60 s cadence uses
/// the hour's share in 40 minutes; then refreshes wait for the window to move on.
pub const REFRESHES_PER_HOUR: usize = 40;
/// See [`REFRESHES_PER_HOUR`].
pub const REFRESHES_PER_DAY: usize = 150;

/// Whether a timed refresh at `at` stays inside the route's budget (forgets older ones).
fn within_budget(state: &mut State, at: chrono::DateTime<chrono::Utc>) -> bool {
    let hour = chrono::Duration::hours(1);
    state.pet_refreshes.retain(|t| at - *t < chrono::Duration::days(1));
    let last_hour = state.pet_refreshes.iter().filter(|t| at - **t < hour).count();
    last_hour < REFRESHES_PER_HOUR && state.pet_refreshes.len() < REFRESHES_PER_DAY
}

/// `f`: open the shop, fetching its items the first time and the pet every time: the
/// title shows the coins, which the pet pane's timed refresh may not have kept current
/// (it pauses while the pane is hidden, and coins are earned elsewhere too).
pub(crate) fn open_shop(state: &mut State, fx: &mut Vec<Effect>) {
    if state.pet == PetState::None {
        let hint = state.keymap.first_key(&Action::NewPet).unwrap_or_else(|| ":".into());
        state.notify(NoticeKind::Info, format!("no pet yet: press {hint} to create one"));
        return;
    }
    state.pet_dialog = Some(PetDialog::Shop { selected: 0 });
    if state.shop.is_none() {
        fx.push(Effect::FetchShop);
    }
    fx.push(Effect::FetchPet);
}

/// `n`: open the create-a-pet form, unless there is a pet already.
pub(crate) fn open_create(state: &mut State) {
    match state.pet {
        PetState::Some(_) => state.notify(NoticeKind::Info, "you already have a pet"),
        // Until the pet is known, a create could only be refused or duplicate one.
        PetState::Unknown => state.notify(NoticeKind::Info, "the pet is still loading"),
        PetState::None => state.pet_dialog = Some(PetDialog::Create { name: String::new(), species: 0 }),
    }
}

/// A key while a pet dialog is up.
pub(crate) fn key(state: &mut State, key: Key, fx: &mut Vec<Effect>) {
    let Some(dialog) = state.pet_dialog.take() else { return };
    state.pet_dialog = match dialog {
        PetDialog::Shop { selected } => shop_key(state, key, selected, fx),
        PetDialog::Create { name, species } => create_key(key, name, species, fx),
    };
}

fn shop_key(state: &State, key: Key, selected: usize, fx: &mut Vec<Effect>) -> Option<PetDialog> {
    let items: &[ShopItem] = state.shop.as_deref().unwrap_or_default();
    let last = items.len().saturating_sub(1);
    let selected = match (key.code, key.typed_char()) {
        (KeyCode::Esc, _) | (_, Some('q')) => return None,
        (KeyCode::Enter, _) => {
            // Nothing to buy until the items are in; the shop stays up.
            let Some(item) = items.get(selected) else { return Some(PetDialog::Shop { selected }) };
            fx.push(Effect::BuyPetItem { item: item.id.clone() });
            return None;
        }
        (KeyCode::Up, _) | (_, Some('k')) => selected.saturating_sub(1),
        (KeyCode::Down, _) | (_, Some('j')) => (selected + 1).min(last),
        (KeyCode::Home, _) | (_, Some('g')) => 0,
        (KeyCode::End, _) | (_, Some('G')) => last,
        _ => selected,
    };
    Some(PetDialog::Shop { selected })
}

fn create_key(key: Key, mut name: String, species: usize, fx: &mut Vec<Effect>) -> Option<PetDialog> {
    let n = KNOWN_SPECIES.len().max(1);
    let species = match key.code {
        KeyCode::Esc => return None,
        KeyCode::Enter => {
            let clean = sanitize_line(name.trim()).trim().to_owned();
            if clean.is_empty() {
                return Some(PetDialog::Create { name, species });
            }
            let species = KNOWN_SPECIES.get(species).copied().unwrap_or("Dog").to_owned();
            fx.push(Effect::CreatePet { name: clean, species });
            return None;
        }
        KeyCode::Left | KeyCode::BackTab => (species + n - 1) % n,
        KeyCode::Right | KeyCode::Tab => (species + 1) % n,
        KeyCode::Backspace => {
            name.pop();
            species
        }
        _ => {
            if let Some(c) = key.typed_char().filter(|c| !c.is_control()) {
                if name.chars().count() < NAME_LIMIT {
                    name.push(c);
                }
            }
            species
        }
    };
    Some(PetDialog::Create { name, species })
}

/// Text pasted while the create form is up goes into the name.
pub(crate) fn paste(state: &mut State, text: &str) -> bool {
    let Some(PetDialog::Create { name, .. }) = state.pet_dialog.as_mut() else {
        return state.pet_dialog.is_some();
    };
    let room = NAME_LIMIT.saturating_sub(name.chars().count());
    name.extend(sanitize_line(text).trim().chars().take(room));
    true
}

/// Apply a pet result or timer action.
pub(crate) fn apply(state: &mut State, action: Action, fx: &mut Vec<Effect>) {
    match action {
        Action::ShopLoaded(items) => state.shop = Some(items),
        Action::PetBought(message) => {
            let message = sanitize_line(&message);
            let text = if message.trim().is_empty() { "bought" } else { message.trim() };
            state.notify(NoticeKind::Info, text);
            fx.push(Effect::FetchPet);
        }
        Action::PetCreated => {
            state.notify(NoticeKind::Info, "your pet is here");
            fx.push(Effect::FetchPet);
        }
        Action::PetActionFailed(reason) => {
            state.notify(NoticeKind::Error, reason);
            // A shop that could not load would stay "loading" forever.
            if state.shop.is_none() && matches!(state.pet_dialog, Some(PetDialog::Shop { .. })) {
                state.pet_dialog = None;
            }
            fx.push(Effect::FetchPet);
        }
        Action::PetRefreshDue(at)
            if state.screen == Screen::Main
                && crate::app::layout::pet_visible(state)
                && within_budget(state, at) =>
        {
            state.pet_refreshes.push(at);
            fx.push(Effect::FetchPet);
        }
        Action::PetBlink => {
            let shown = crate::app::layout::pet_visible(state) && matches!(state.pet, PetState::Some(_));
            state.pet_ticks = if shown { (state.pet_ticks + 1) % BLINK_EVERY } else { 0 };
            let frame = u8::from(shown && state.pet_ticks == BLINK_EVERY - 1);
            if frame != state.pet_frame {
                state.pet_frame = frame;
            }
        }
        // Not due (another screen, the pane hidden, or over the budget): nothing to do.
        Action::PetRefreshDue(_) => {}
        // `update` sends only the pet's own results and timers here.
        command_actions!() | result_actions!() | event_actions!() => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::fixture::{self, keys, run, type_text};
    use crate::app::state::Look;

    /// The first three items of the shop: the last one is the top hat.
    fn shop() -> Vec<ShopItem> {
        let mut items = fixture::shop();
        items.truncate(3);
        items
    }

    #[test]
    fn shop_opens_selects_and_buys_then_refreshes() {
        let mut s = fixture::main_screen(120, 30, Look::default());
        keys(&mut s, &["esc"]);
        let fx = keys(&mut s, &["f"]);
        assert_eq!(fx, vec![Effect::FetchShop, Effect::FetchPet]);
        assert_eq!(s.pet_dialog, Some(PetDialog::Shop { selected: 0 }));
        // Enter before the items arrived buys nothing and keeps the shop up.
        assert!(keys(&mut s, &["enter"]).is_empty());
        assert!(s.pet_dialog.is_some());
        run(&mut s, [Action::ShopLoaded(shop())]);
        // Keys go to the shop, not to the panes behind it.
        assert!(keys(&mut s, &["j", "down", "down", "k"]).is_empty());
        assert_eq!(s.pet_dialog, Some(PetDialog::Shop { selected: 1 }));
        let fx = keys(&mut s, &["enter"]);
        assert_eq!(fx, vec![Effect::BuyPetItem { item: "cupcake".into() }]);
        assert_eq!(s.pet_dialog, None);
        let fx = run(&mut s, [Action::PetBought("Bought 🧁 Cupcake\x1b[2J".into())]);
        assert_eq!(fx, vec![Effect::FetchPet]);
        let notice = s.notice.clone().unwrap();
        assert_eq!((notice.kind, notice.text.as_str()), (NoticeKind::Info, "Bought 🧁 Cupcake"));
        // The shop is kept: opening it again fetches only the pet (for its coins).
        assert_eq!(keys(&mut s, &["f"]), vec![Effect::FetchPet]);
        keys(&mut s, &["esc"]);
        assert_eq!(s.pet_dialog, None);
    }

    #[test]
    fn a_refusal_is_a_notice_and_the_pet_is_fetched_again() {
        let mut s = fixture::main_screen(120, 30, Look::default());
        run(&mut s, [Action::ShopLoaded(shop())]);
        keys(&mut s, &["esc", "f", "G"]);
        assert_eq!(keys(&mut s, &["enter"]), vec![Effect::BuyPetItem { item: "tophat".into() }]);
        let fx = run(&mut s, [Action::PetActionFailed("Not enough coins\x07".into())]);
        assert_eq!(fx, vec![Effect::FetchPet]);
        let notice = s.notice.clone().unwrap();
        assert_eq!((notice.kind, notice.text.as_str()), (NoticeKind::Error, "Not enough coins"));
    }

    #[test]
    fn a_shop_that_cannot_load_closes() {
        let mut s = fixture::main_screen(120, 30, Look::default());
        keys(&mut s, &["esc", "f"]);
        run(&mut s, [Action::PetActionFailed("shop: offline".into())]);
        assert_eq!(s.pet_dialog, None);
    }

    #[test]
    fn create_form_names_picks_species_and_creates() {
        let mut s = fixture::main_screen(120, 30, Look::default());
        keys(&mut s, &["esc"]);
        // With a pet there is nothing to create, and nothing to feed without one.
        assert!(keys(&mut s, &["n"]).is_empty());
        assert_eq!(s.pet_dialog, None);
        run(&mut s, [Action::PetLoaded(None)]);
        keys(&mut s, &["f"]);
        assert_eq!(s.pet_dialog, None);
        assert!(s.notice.as_ref().unwrap().text.contains("press n"));

        keys(&mut s, &["n"]);
        assert_eq!(s.pet_dialog, Some(PetDialog::Create { name: String::new(), species: 0 }));
        // Enter with no name does nothing; letters that are keys elsewhere are typed.
        assert!(keys(&mut s, &["enter"]).is_empty());
        type_text(&mut s, "Pip qx");
        keys(&mut s, &["backspace", "backspace", "backspace", "right", "right", "left", "left", "left"]);
        assert_eq!(s.pet_dialog, Some(PetDialog::Create { name: "Pip".into(), species: 3 }));
        let fx = keys(&mut s, &["enter"]);
        assert_eq!(fx, vec![Effect::CreatePet { name: "Pip".into(), species: KNOWN_SPECIES[3].into() }]);
        assert_eq!(s.pet_dialog, None);
        assert_eq!(run(&mut s, [Action::PetCreated]), vec![Effect::FetchPet]);
        // A form left open goes with the session.
        keys(&mut s, &["n"]);
        run(&mut s, [Action::SessionExpired]);
        assert_eq!(s.pet_dialog, None);
    }

    /// (What a refresh draws: `ui::tests::a_pet_refresh_draws_only_what_changed`.)
    #[test]
    fn refresh_only_while_the_pane_shows() {
        let mut s = fixture::main_screen(120, 30, Look::default());
        assert_eq!(run(&mut s, [Action::PetRefreshDue(fixture::now())]), vec![Effect::FetchPet]);
        // Narrow: the pane is hidden, so no refresh.
        run(&mut s, [Action::Resize(80, 24)]);
        assert!(run(&mut s, [Action::PetRefreshDue(fixture::now())]).is_empty());
    }

    #[test]
    fn timed_refreshes_stay_inside_the_routes_budget() {
        let mut s = fixture::main_screen(120, 30, Look::default());
        let minute = |m: i64| fixture::now() + chrono::Duration::minutes(m);
        let fetched = |s: &mut State, m: i64| !run(s, [Action::PetRefreshDue(minute(m))]).is_empty();
        // Every minute for an hour: the first 40 go out, the rest wait.
        let first_hour = (0..60).filter(|m| fetched(&mut s, *m)).count();
        assert_eq!(first_hour, REFRESHES_PER_HOUR);
        // An hour after the first, the window has moved on.
        assert!(fetched(&mut s, 60));
        // A whole day at one a minute stays under the day's cap, which then holds.
        let day = (61..24 * 60).filter(|m| fetched(&mut s, *m)).count();
        assert_eq!(day + first_hour + 1, REFRESHES_PER_DAY);
        assert!(!fetched(&mut s, 24 * 60 - 1));
        // A day after the first ones, they are forgotten.
        assert!(fetched(&mut s, 24 * 60 + 1));
    }

    /// (What a blink draws: `ui::tests::a_blink_is_drawn_only_while_the_pet_shows`.)
    #[test]
    fn blinks_once_in_a_while_only_when_shown() {
        let mut s = fixture::main_screen(120, 30, Look::default());
        let mut frames = Vec::new();
        for _ in 0..8 {
            run(&mut s, [Action::PetBlink]);
            frames.push(s.pet_frame);
        }
        assert_eq!(frames, [0, 0, 1, 0, 0, 0, 1, 0]);
        run(&mut s, [Action::Resize(80, 24)]);
        for _ in 0..8 {
            run(&mut s, [Action::PetBlink]);
            assert_eq!(s.pet_frame, 0, "a hidden pet does not blink");
        }
    }
}
