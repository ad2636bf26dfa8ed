//! The pet routes. The user always comes from the session; a `username` naming
//! someone else is refused with 403 (production trusts it; we do not).
//!
//! Decay: for every whole hour since `last_updated`, hunger drops by 2 and
//! happiness, energy and hygiene by 1 each (never below 0). It is applied, and
//! stored, whenever the pet is read or changed; `last_updated` advances by the
//! whole hours applied, so partial hours are not lost.

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use rusqlite::{params, Connection, OptionalExtension};

use super::auth::AuthUser;
use super::db::now_f64;
use super::errors::ServerError;
use super::extract::{query_map, JsonBody};
use super::state::AppState;
use crate::model::types::{
    Pet, PetBuyRequest, PetBuyResponse, PetCreateRequest, PetFeedRequest, PetFeedResponse, PetRewardRequest,
    PetRewardResponse, PetStatusResponse, ShopItem, ShopResponse, SuccessResponse, KNOWN_SPECIES, STAGES,
};

/// Seconds per decay step.
pub const DECAY_STEP_SECS: f64 = 3600.0;
/// Hunger lost per step.
pub const HUNGER_DECAY: i64 = 2;
/// Happiness, energy and hygiene lost per step.
pub const OTHER_DECAY: i64 = 1;
/// Coins and XP a reward gives (production's figures).
pub const REWARD_COINS: i64 = 10;
/// XP a reward gives.
pub const REWARD_XP: i64 = 15;

/// The stage for an XP total.
pub fn stage_for(xp: i64) -> &'static str {
    STAGES.iter().rev().find(|(_, min)| xp >= *min).map_or("Baby", |(name, _)| name)
}

/// Apply decay up to `now`; returns whether anything changed.
pub fn decay(pet: &mut Pet, now: f64) -> bool {
    let elapsed = now - pet.last_updated;
    if !elapsed.is_finite() || elapsed < DECAY_STEP_SECS {
        return false;
    }
    let steps = (elapsed / DECAY_STEP_SECS).floor();
    let n = steps.min(1_000.0) as i64;
    pet.hunger = (pet.hunger - HUNGER_DECAY * n).clamp(0, 100);
    pet.happiness = (pet.happiness - OTHER_DECAY * n).clamp(0, 100);
    pet.energy = (pet.energy - OTHER_DECAY * n).clamp(0, 100);
    pet.hygiene = (pet.hygiene - OTHER_DECAY * n).clamp(0, 100);
    pet.last_updated += steps * DECAY_STEP_SECS;
    true
}

/// The shop, exactly as production lists it.
pub fn shop_items() -> Vec<ShopItem> {
    let hat = |id: &str, name: &str, cost: i64, emoji: &str| ShopItem {
        id: id.into(),
        name: format!("{emoji} {name}"),
        description: "Cosmetic".into(),
        cost,
        effect: "hat".into(),
        value: Some(serde_json::Value::String(emoji.into())),
        hunger: None,
        happiness: None,
    };
    vec![
        ShopItem {
            id: "apple".into(),
            name: "🍎 Apple".into(),
            description: "+20 Hunger".into(),
            cost: 10,
            effect: "hunger".into(),
            value: Some(serde_json::Value::from(20)),
            hunger: None,
            happiness: None,
        },
        ShopItem {
            id: "cupcake".into(),
            name: "🧁 Cupcake".into(),
            description: "+40 Hunger, +10 Happiness".into(),
            cost: 25,
            effect: "multi".into(),
            value: None,
            hunger: Some(40),
            happiness: Some(10),
        },
        hat("tophat", "Top Hat", 100, "🎩"),
        hat("bow", "Bow", 100, "🎀"),
        hat("crown", "Crown", 500, "👑"),
    ]
}

fn check_owner(user: &AuthUser, named: &str) -> Result<(), ServerError> {
    let named = named.trim();
    if named.is_empty() || named == user.username {
        Ok(())
    } else {
        Err(ServerError::forbidden("You can only access your own pet"))
    }
}

fn load(conn: &Connection, uid: i64) -> rusqlite::Result<Option<Pet>> {
    let pet = conn
        .query_row(
            "SELECT name, species, gender, hunger, happiness, energy, hygiene, coins, xp, hat,
                    adventure_end, last_updated FROM pets WHERE user_id = ?1",
            [uid],
            |r| {
                let xp: i64 = r.get(8)?;
                Ok(Pet {
                    name: r.get(0)?,
                    species: r.get(1)?,
                    gender: r.get(2)?,
                    hunger: r.get(3)?,
                    happiness: r.get(4)?,
                    energy: r.get(5)?,
                    hygiene: r.get(6)?,
                    coins: r.get(7)?,
                    xp,
                    stage: stage_for(xp).into(),
                    hat: r.get(9)?,
                    adventure_end: r.get(10)?,
                    last_updated: r.get(11)?,
                })
            },
        )
        .optional()?;
    Ok(pet)
}

fn save(conn: &Connection, uid: i64, p: &Pet) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT OR REPLACE INTO pets (user_id, name, species, gender, hunger, happiness, energy, hygiene,
                                      coins, xp, hat, adventure_end, last_updated)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        params![
            uid,
            p.name,
            p.species,
            p.gender,
            p.hunger,
            p.happiness,
            p.energy,
            p.hygiene,
            p.coins,
            p.xp,
            p.hat,
            p.adventure_end,
            p.last_updated
        ],
    )?;
    Ok(())
}

/// Load with decay applied (and stored).
fn load_current(conn: &Connection, uid: i64) -> rusqlite::Result<Option<Pet>> {
    let Some(mut pet) = load(conn, uid)? else { return Ok(None) };
    if decay(&mut pet, now_f64()) {
        save(conn, uid, &pet)?;
    }
    Ok(Some(pet))
}

/// A new pet with production's starting stats.
pub fn new_pet(name: &str, species: &str, gender: &str, now: f64) -> Pet {
    Pet {
        name: name.into(),
        species: species.into(),
        gender: gender.into(),
        hunger: 70,
        happiness: 70,
        energy: 70,
        hygiene: 80,
        coins: 0,
        xp: 0,
        stage: stage_for(0).into(),
        adventure_end: 0.0,
        last_updated: now,
        hat: "None".into(),
    }
}

/// Store a pet for a user (seed data).
pub fn store_pet(conn: &Connection, uid: i64, pet: &Pet) -> rusqlite::Result<()> {
    save(conn, uid, pet)
}

/// `GET /api/pet/status[?username=]`: always 200 for the session's own pet.
pub async fn status(
    State(state): State<AppState>,
    user: AuthUser,
    RawQuery(raw): RawQuery,
) -> Result<Json<PetStatusResponse>, ServerError> {
    let q = query_map(raw.as_deref());
    check_owner(&user, q.get("username").map_or("", String::as_str))?;
    let uid = user.id;
    let pet = state.db.call(move |c| Ok(load_current(c, uid)?)).await?;
    Ok(Json(match pet {
        Some(pet) => PetStatusResponse { exists: true, pet: Some(pet), error: None },
        None => PetStatusResponse { exists: false, pet: None, error: Some("No pet found for user".into()) },
    }))
}

/// `POST /api/pet/create`: 201; creating again resets the pet.
pub async fn create(
    State(state): State<AppState>,
    user: AuthUser,
    JsonBody(req): JsonBody<PetCreateRequest>,
) -> Result<Response, ServerError> {
    check_owner(&user, &req.username)?;
    let name = req.name.trim().to_string();
    if name.is_empty() {
        return Err(ServerError::bad("Pet name required"));
    }
    if name.chars().count() > 50 {
        return Err(ServerError::bad("Pet name cannot exceed 50 characters"));
    }
    let wanted = req.species.as_deref().map(str::trim).filter(|s| !s.is_empty()).unwrap_or("Dog");
    let species = KNOWN_SPECIES
        .iter()
        .find(|s| s.eq_ignore_ascii_case(wanted))
        .ok_or_else(|| ServerError::bad("Invalid species"))?;
    let wanted = req.gender.as_deref().map(str::trim).filter(|s| !s.is_empty()).unwrap_or("Neutral");
    let gender = ["Male", "Female", "Neutral"]
        .into_iter()
        .find(|g| g.eq_ignore_ascii_case(wanted))
        .ok_or_else(|| ServerError::bad("Invalid gender"))?;
    let pet = new_pet(&name, species, gender, now_f64());
    let uid = user.id;
    state.db.call(move |c| Ok(save(c, uid, &pet)?)).await?;
    Ok((StatusCode::CREATED, Json(SuccessResponse { success: true, message: "Pet created!".into() }))
        .into_response())
}

/// `POST /api/pet/feed`: hunger +30 (max 100) for `cost` coins (default 10).
pub async fn feed(
    State(state): State<AppState>,
    user: AuthUser,
    JsonBody(req): JsonBody<PetFeedRequest>,
) -> Result<Json<PetFeedResponse>, ServerError> {
    check_owner(&user, &req.username)?;
    let cost = req.cost.unwrap_or(10);
    if cost < 0 {
        return Err(ServerError::bad("Invalid cost"));
    }
    let uid = user.id;
    let pet = state
        .db
        .call(move |c| {
            let tx = c.transaction()?;
            let mut pet = load_current(&tx, uid)?.ok_or_else(|| ServerError::not_found("No pet found"))?;
            if pet.coins < cost {
                return Err(ServerError::bad("Not enough coins"));
            }
            pet.coins -= cost;
            pet.hunger = (pet.hunger + 30).min(100);
            save(&tx, uid, &pet)?;
            tx.commit()?;
            Ok(pet)
        })
        .await?;
    Ok(Json(PetFeedResponse { success: true, new_hunger: pet.hunger, coins: pet.coins }))
}

/// `GET /api/pet/shop`.
pub async fn shop() -> Json<ShopResponse> {
    Json(ShopResponse { items: shop_items() })
}

/// `POST /api/pet/buy`: pay and apply the item's effect.
pub async fn buy(
    State(state): State<AppState>,
    user: AuthUser,
    JsonBody(req): JsonBody<PetBuyRequest>,
) -> Result<Json<PetBuyResponse>, ServerError> {
    check_owner(&user, &req.username)?;
    // Production looks the exact `item_id` up; a missing field, another field name or
    // an unknown id all get the same answer.
    let item = shop_items()
        .into_iter()
        .find(|i| i.id == req.item_id)
        .ok_or_else(|| ServerError::bad("Invalid item"))?;
    let uid = user.id;
    let pet = state
        .db
        .call(move |c| {
            let tx = c.transaction()?;
            let mut pet = load_current(&tx, uid)?.ok_or_else(|| ServerError::not_found("No pet found"))?;
            if pet.coins < item.cost {
                return Err(ServerError::bad("Not enough coins"));
            }
            pet.coins -= item.cost;
            match item.effect.as_str() {
                "hunger" => {
                    let add = item.value.as_ref().and_then(serde_json::Value::as_i64).unwrap_or(0);
                    pet.hunger = (pet.hunger + add).min(100);
                }
                "multi" => {
                    pet.hunger = (pet.hunger + item.hunger.unwrap_or(0)).min(100);
                    pet.happiness = (pet.happiness + item.happiness.unwrap_or(0)).min(100);
                }
                "hat" => {
                    if let Some(hat) = item.value.as_ref().and_then(serde_json::Value::as_str) {
                        pet.hat = hat.to_string();
                    }
                }
                _ => {}
            }
            save(&tx, uid, &pet)?;
            tx.commit()?;
            Ok(pet)
        })
        .await?;
    Ok(Json(PetBuyResponse {
        success: true,
        new_coins: Some(pet.coins),
        new_hunger: Some(pet.hunger),
        new_happiness: Some(pet.happiness),
        new_hat: Some(pet.hat),
    }))
}

/// `POST /api/pet/reward`: coins and XP for a wellbeing action; may evolve the pet.
pub async fn reward(
    State(state): State<AppState>,
    user: AuthUser,
    JsonBody(req): JsonBody<PetRewardRequest>,
) -> Result<Json<PetRewardResponse>, ServerError> {
    if req.action.trim().is_empty() {
        return Err(ServerError::bad("Action required"));
    }
    let uid = user.id;
    let (before, pet) = state
        .db
        .call(move |c| {
            let tx = c.transaction()?;
            let mut pet = load_current(&tx, uid)?.ok_or_else(|| ServerError::not_found("No pet found"))?;
            let before = pet.stage.clone();
            pet.coins = pet.coins.saturating_add(REWARD_COINS);
            pet.xp = pet.xp.saturating_add(REWARD_XP);
            pet.stage = stage_for(pet.xp).into();
            save(&tx, uid, &pet)?;
            tx.commit()?;
            Ok((before, pet))
        })
        .await?;
    Ok(Json(PetRewardResponse {
        success: true,
        coins_earned: REWARD_COINS,
        xp_earned: REWARD_XP,
        new_coins: pet.coins,
        new_xp: pet.xp,
        evolved: before != pet.stage,
        new_stage: pet.stage,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_follow_thresholds() {
        assert_eq!(stage_for(0), "Baby");
        assert_eq!(stage_for(499), "Baby");
        assert_eq!(stage_for(500), "Child");
        assert_eq!(stage_for(1500), "Adult");
    }

    #[test]
    fn decay_applies_whole_hours_and_keeps_remainder() {
        let mut p = new_pet("B", "Dog", "Male", 1000.0);
        assert!(!decay(&mut p, 1000.0 + 3599.0));
        assert!(decay(&mut p, 1000.0 + 2.5 * 3600.0));
        assert_eq!((p.hunger, p.happiness, p.energy, p.hygiene), (66, 68, 68, 78));
        assert_eq!(p.last_updated, 1000.0 + 7200.0);
        assert!(decay(&mut p, 1e12));
        assert_eq!((p.hunger, p.happiness), (0, 0));
    }

    #[test]
    fn shop_matches_production() {
        let json = serde_json::to_value(ShopResponse { items: shop_items() }).unwrap();
        let fixture = serde_json::json!({"items":[
            {"cost":10,"description":"+20 Hunger","effect":"hunger","id":"apple","name":"🍎 Apple","value":20},
            {"cost":25,"description":"+40 Hunger, +10 Happiness","effect":"multi","happiness":10,"hunger":40,"id":"cupcake","name":"🧁 Cupcake"},
            {"cost":100,"description":"Cosmetic","effect":"hat","id":"tophat","name":"🎩 Top Hat","value":"🎩"},
            {"cost":100,"description":"Cosmetic","effect":"hat","id":"bow","name":"🎀 Bow","value":"🎀"},
            {"cost":500,"description":"Cosmetic","effect":"hat","id":"crown","name":"👑 Crown","value":"👑"}]});
        assert_eq!(json, fixture);
    }
}
