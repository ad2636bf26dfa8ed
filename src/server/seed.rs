//! The `demo` data set: patients `alex` and `sam`, clinician `dr_morgan`, a few
//! days of history, and alex's pet Biscuit. Seeding a database that already has
//! users does nothing.

use rusqlite::params;

use super::auth::hash_secret;
use super::db::{now_f64, now_secs, Db};
use super::errors::ServerError;
use super::messages::{find_user, insert_message};
use super::pet::{new_pet, store_pet};

/// Password of every demo account.
pub const DEMO_PASSWORD: &str = "healing-demo";
/// PIN of every demo account.
pub const DEMO_PIN: &str = "1234";
/// The demo clinician.
pub const CLINICIAN: &str = "dr_morgan";
/// Demo accounts: (username, role, clinician).
pub const DEMO_USERS: &[(&str, &str, Option<&str>)] =
    &[("alex", "user", Some(CLINICIAN)), ("sam", "user", None), (CLINICIAN, "clinician", None)];

const HOUR: i64 = 3600;
const DAY: i64 = 24 * HOUR;

/// One seeded message: (from, to, subject, text, seconds ago, read).
type SeedMessage = (&'static str, &'static str, Option<&'static str>, &'static str, i64, bool);

/// History. Exactly one unread for alex.
const HISTORY: &[SeedMessage] = &[
    (
        CLINICIAN,
        "alex",
        Some("Check-in"),
        "Hi Alex, just checking in after Monday's session. How have you been sleeping this week?",
        3 * DAY,
        true,
    ),
    ("alex", CLINICIAN, None, "A bit better, thanks. Still waking up early some days.", 3 * DAY - HOUR, true),
    (
        CLINICIAN,
        "alex",
        None,
        "That's progress. Try the wind-down routine we talked about and note how it goes.",
        3 * DAY - 2 * HOUR,
        true,
    ),
    (
        "sam",
        "alex",
        Some("Saturday"),
        "Hey Alex! Are you coming to the group walk on Saturday?",
        2 * DAY,
        true,
    ),
    ("alex", "sam", None, "Yes! Meet at the park gate at ten?", 2 * DAY - HOUR, true),
    ("sam", "alex", None, "Perfect, see you there. Bring water, it's meant to be sunny.", DAY, true),
    ("alex", "sam", None, "Will do 🙂", DAY - HOUR, true),
    (
        "sam",
        "alex",
        None,
        "Did you try the breathing exercise from the workbook? It helped me a lot.",
        2 * HOUR,
        false,
    ),
];

/// Load the demo data set into `db` unless it already has users. Returns whether it seeded.
pub async fn seed_demo(db: &Db) -> Result<bool, ServerError> {
    let empty: bool =
        db.call(|c| Ok(c.query_row("SELECT NOT EXISTS (SELECT 1 FROM users)", [], |r| r.get(0))?)).await?;
    if !empty {
        return Ok(false);
    }
    // Hash outside the database lock: argon2 is slow on purpose.
    let hashes = tokio::task::spawn_blocking(|| {
        DEMO_USERS
            .iter()
            .map(|_| Ok((hash_secret(DEMO_PASSWORD)?, hash_secret(DEMO_PIN)?)))
            .collect::<Result<Vec<_>, ServerError>>()
    })
    .await
    .map_err(|e| ServerError::Internal(format!("seed task: {e}")))??;
    db.call(move |c| {
        let tx = c.transaction()?;
        let already: bool = tx.query_row("SELECT EXISTS (SELECT 1 FROM users)", [], |r| r.get(0))?;
        if already {
            return Ok(false);
        }
        let now = now_secs();
        for ((name, role, clinician), (pw, pin)) in DEMO_USERS.iter().zip(hashes) {
            tx.execute(
                "INSERT INTO users (username, password_hash, pin_hash, role, clinician, approval_status, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, 'approved', ?6)",
                params![name, pw, pin, role, clinician, now - 30 * DAY],
            )?;
        }
        for (from, to, subject, text, ago, read) in HISTORY {
            let id = |name: &str| -> Result<i64, ServerError> {
                find_user(&tx, name)?.map(|(id, _)| id).ok_or_else(|| ServerError::Internal(format!("seed user {name}")))
            };
            let sent = now - ago;
            let m = insert_message(&tx, id(from)?, id(to)?, *subject, text, sent)?;
            if *read {
                tx.execute("UPDATE messages SET read_at = ?2 WHERE id = ?1", params![m.id, sent + 600])?;
            }
        }
        let alex = find_user(&tx, "alex")?.map(|(id, _)| id).ok_or_else(|| ServerError::Internal("seed alex".into()))?;
        let mut biscuit = new_pet("Biscuit", "Dog", "Male", now_f64());
        biscuit.coins = 50;
        store_pet(&tx, alex, &biscuit)?;
        tx.commit()?;
        Ok(true)
    })
    .await
}

/// Add an account (tests, benchmarks, administration). The password and PIN are
/// hashed with argon2 before they reach the database.
pub async fn create_user(
    db: &Db,
    username: &str,
    password: &str,
    pin: &str,
    role: &str,
) -> Result<i64, ServerError> {
    let (password, pin) = (password.to_string(), pin.to_string());
    let hashes = tokio::task::spawn_blocking(move || {
        Ok::<_, ServerError>((hash_secret(&password)?, hash_secret(&pin)?))
    })
    .await
    .map_err(|e| ServerError::Internal(format!("hash task: {e}")))??;
    let (username, role) = (username.to_string(), role.to_string());
    db.call(move |c| {
        c.execute(
            "INSERT INTO users (username, password_hash, pin_hash, role, approval_status, created_at)
             VALUES (?1, ?2, ?3, ?4, 'approved', ?5)",
            params![username, hashes.0, hashes.1, role, now_secs()],
        )?;
        Ok(c.last_insert_rowid())
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::HISTORY;

    #[test]
    fn history_is_in_time_order() {
        // Ids follow insertion order; times must too, or day separators and
        // "newest first" disagree with the order messages are shown in.
        for pair in HISTORY.windows(2) {
            assert!(pair[0].4 > pair[1].4, "{:?} is not older than {:?}", pair[0].3, pair[1].3);
        }
    }
}
