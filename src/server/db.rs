//! The SQLite database: opening (WAL, foreign keys), schema migrations keyed on
//! `PRAGMA user_version`, and the one connection every handler shares.
//!
//! One connection behind a mutex, used from blocking threads, is plenty for a
//! reference server and makes every handler's transaction trivially serial: 100
//! concurrent sends become 100 rows with strictly increasing ids.

use std::path::Path;
use std::sync::{Arc, Mutex};

use chrono::{TimeZone, Utc};
use rusqlite::Connection;

use super::errors::ServerError;
use crate::model::time::Timestamp;

/// Schema steps; step `i` moves `user_version` from `i` to `i + 1`. Never edit a
/// released step, append a new one.
const MIGRATIONS: &[&str] = &[
    // 1: users, sessions, messages, pets, idempotency keys.
    "CREATE TABLE users (
        id INTEGER PRIMARY KEY,
        username TEXT NOT NULL UNIQUE,
        password_hash TEXT NOT NULL,
        pin_hash TEXT NOT NULL,
        role TEXT NOT NULL DEFAULT 'user',
        clinician TEXT,
        approval_status TEXT NOT NULL DEFAULT 'approved',
        created_at INTEGER NOT NULL
    );
    CREATE TABLE sessions (
        token_hash TEXT PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
    );
    CREATE INDEX sessions_user ON sessions(user_id);
    CREATE TABLE messages (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        sender_id INTEGER NOT NULL REFERENCES users(id),
        recipient_id INTEGER NOT NULL REFERENCES users(id),
        subject TEXT,
        content TEXT NOT NULL,
        sent_at INTEGER NOT NULL,
        read_at INTEGER,
        deleted_by_sender INTEGER NOT NULL DEFAULT 0,
        deleted_by_recipient INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX messages_sender ON messages(sender_id, recipient_id);
    CREATE INDEX messages_recipient ON messages(recipient_id, sender_id);
    CREATE TABLE pets (
        user_id INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        species TEXT NOT NULL,
        gender TEXT NOT NULL,
        hunger INTEGER NOT NULL,
        happiness INTEGER NOT NULL,
        energy INTEGER NOT NULL,
        hygiene INTEGER NOT NULL,
        coins INTEGER NOT NULL,
        xp INTEGER NOT NULL,
        hat TEXT NOT NULL DEFAULT 'None',
        adventure_end REAL NOT NULL DEFAULT 0,
        last_updated REAL NOT NULL
    );
    CREATE TABLE idempotency_keys (
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        key TEXT NOT NULL,
        message_id INTEGER NOT NULL,
        recipient TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (user_id, key)
    );",
];

/// The shared database handle (cheap to clone).
#[derive(Clone)]
pub struct Db {
    conn: Arc<Mutex<Connection>>,
}

impl Db {
    /// Open (creating if missing) and migrate the database at `path`.
    pub fn open(path: &Path) -> Result<Db, ServerError> {
        let mut conn = Connection::open(path)?;
        // journal_mode answers with a row, so it cannot go through execute_batch.
        let _mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
        conn.execute_batch("PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;")?;
        migrate(&mut conn)?;
        Ok(Db { conn: Arc::new(Mutex::new(conn)) })
    }

    /// Run `f` with the connection on a blocking thread.
    pub async fn call<R, F>(&self, f: F) -> Result<R, ServerError>
    where
        R: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<R, ServerError> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            // A panic inside a previous call poisons the lock; SQLite rolled back any
            // open transaction when its guard dropped, so the connection is still sound.
            let mut guard = crate::model::lock::lock(&conn);
            f(&mut guard)
        })
        .await
        .map_err(|e| ServerError::Internal(format!("database task failed: {e}")))?
    }
}

fn migrate(conn: &mut Connection) -> Result<(), ServerError> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let start = usize::try_from(version).unwrap_or(0);
    if start > MIGRATIONS.len() {
        return Err(ServerError::Internal(format!(
            "database schema version {version} is newer than this program ({})",
            MIGRATIONS.len()
        )));
    }
    for (i, step) in MIGRATIONS.iter().enumerate().skip(start) {
        let tx = conn.transaction()?;
        tx.execute_batch(step)?;
        tx.pragma_update(None, "user_version", i64::try_from(i + 1).unwrap_or(i64::MAX))?;
        tx.commit()?;
    }
    Ok(())
}

/// Now, in unix seconds.
pub fn now_secs() -> i64 {
    Utc::now().timestamp()
}

/// Now, in fractional unix seconds (the pet's clock).
pub fn now_f64() -> f64 {
    Utc::now().timestamp_micros() as f64 / 1e6
}

/// Unix seconds to a wire timestamp.
pub fn ts(secs: i64) -> Option<Timestamp> {
    Utc.timestamp_opt(secs, 0).single().map(Timestamp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn migrates_once_and_reopens() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let db = Db::open(&path).unwrap();
        let v: i64 = db.call(|c| Ok(c.query_row("PRAGMA user_version", [], |r| r.get(0))?)).await.unwrap();
        assert_eq!(v, MIGRATIONS.len() as i64);
        drop(db);
        let db = Db::open(&path).unwrap();
        let fk: i64 = db.call(|c| Ok(c.query_row("PRAGMA foreign_keys", [], |r| r.get(0))?)).await.unwrap();
        assert_eq!(fk, 1);
    }
}
