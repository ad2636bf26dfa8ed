//! Unsent compose text per conversation, saved so a dropped SSH link loses nothing.

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension};

use super::db::{from_micros, to_micros, Store};
use super::error::Result;

/// A saved draft.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draft {
    /// The conversation (other user) it belongs to.
    pub with_user: String,
    /// The text.
    pub text: String,
    /// When it was last saved.
    pub updated_at: Option<DateTime<Utc>>,
}

impl Store {
    /// Save the draft for a conversation (replacing the previous one). Saving text that
    /// is empty or only whitespace clears it.
    pub fn save_draft(&mut self, with_user: &str, text: &str) -> Result<()> {
        if text.trim().is_empty() {
            return self.clear_draft(with_user);
        }
        self.conn.execute(
            "INSERT INTO drafts (peer, text, updated_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (peer) DO UPDATE SET text = excluded.text, updated_at = excluded.updated_at",
            params![with_user, text, to_micros(Utc::now())],
        )?;
        Ok(())
    }

    /// The saved draft for a conversation.
    pub fn load_draft(&self, with_user: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row("SELECT text FROM drafts WHERE peer = ?1", [with_user], |r| r.get(0))
            .optional()?)
    }

    /// Forget the draft for a conversation (after it was sent, or emptied).
    pub fn clear_draft(&mut self, with_user: &str) -> Result<()> {
        self.conn.execute("DELETE FROM drafts WHERE peer = ?1", [with_user])?;
        Ok(())
    }

    /// Every saved draft, most recently saved first (to mark conversations that have one).
    pub fn all_drafts(&self) -> Result<Vec<Draft>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT peer, text, updated_at FROM drafts ORDER BY updated_at DESC, peer")?;
        let rows = stmt
            .query_map([], |r| {
                Ok(Draft {
                    with_user: r.get(0)?,
                    text: r.get(1)?,
                    updated_at: r.get::<_, Option<i64>>(2)?.and_then(from_micros),
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }
}

#[cfg(test)]
mod tests {
    use crate::store::Store;

    #[test]
    fn save_load_clear() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("acct").join("s.sqlite3"), "alex").unwrap().store;
        assert_eq!(s.load_draft("sam").unwrap(), None);
        s.save_draft("sam", "half a thought").unwrap();
        s.save_draft("sam", "a whole thought").unwrap();
        s.save_draft("dr_morgan", "hi").unwrap();
        assert_eq!(s.load_draft("sam").unwrap().as_deref(), Some("a whole thought"));
        assert_eq!(s.all_drafts().unwrap().len(), 2);
        s.save_draft("sam", "   ").unwrap();
        assert_eq!(s.load_draft("sam").unwrap(), None);
        s.clear_draft("dr_morgan").unwrap();
        assert!(s.all_drafts().unwrap().is_empty());
    }
}
