//! Full-text search over cached messages (SQLite FTS5).
//!
//! Whatever the user types is searched as one literal phrase, with prefix matching
//! on its last word (so results appear while typing): the text is quoted for FTS5,
//! never interpreted as query syntax, so `"`, `*`, `NEAR(`, `OR` or SQL are just
//! text. Input with no letters or digits (which FTS5 would reduce to nothing) is
//! matched as a plain substring instead.

use rusqlite::params_from_iter;
use rusqlite::types::Value;

use super::cache::{row_to_message, MESSAGE_COLUMNS};
use super::db::Store;
use super::error::Result;
use crate::model::types::Message;

/// Most results returned by one search, newest first.
pub const SEARCH_LIMIT: usize = 500;

/// The FTS5 query for `text` as one literal phrase with a prefix match on the last
/// word, or `None` when the text has no letters or digits.
pub fn fts_phrase(text: &str) -> Option<String> {
    let text = text.trim();
    if !text.chars().any(char::is_alphanumeric) {
        return None;
    }
    // Inside an FTS5 string a `"` is written `""`; nothing else is special there.
    Some(format!("\"{}\" *", text.replace('"', "\"\"")))
}

/// `text` as a LIKE pattern matching it anywhere, with `\` as the escape character.
fn like_pattern(text: &str) -> String {
    let mut p = String::with_capacity(text.len() + 2);
    p.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

impl Store {
    /// Search all cached messages; newest first, at most [`SEARCH_LIMIT`]. Empty input
    /// finds nothing.
    pub fn search(&self, text: &str) -> Result<Vec<Message>> {
        self.search_in(None, text)
    }

    /// Search one conversation's cached messages (the `/` search inside it).
    pub fn search_conversation(&self, with_user: &str, text: &str) -> Result<Vec<Message>> {
        self.search_in(Some(with_user), text)
    }

    fn search_in(&self, with_user: Option<&str>, text: &str) -> Result<Vec<Message>> {
        if text.trim().is_empty() {
            return Ok(Vec::new());
        }
        let peer_clause = if with_user.is_some() { "AND peer = ?2" } else { "" };
        let limit = SEARCH_LIMIT as i64;
        let mut args: Vec<Value> = vec![Value::Null];
        if let Some(u) = with_user {
            args.push(Value::Text(u.to_string()));
        }
        if let Some(phrase) = fts_phrase(text) {
            args[0] = Value::Text(phrase);
            // Walk the index newest first and stop at the limit, rather than collecting
            // every hit of a common word and sorting.
            let columns =
                MESSAGE_COLUMNS.split(", ").map(|c| format!("m.{c}")).collect::<Vec<_>>().join(", ");
            let peer_clause = if with_user.is_some() { "AND m.peer = ?2" } else { "" };
            let sql = format!(
                "SELECT {columns} FROM messages_fts f JOIN messages m ON m.id = f.rowid
                 WHERE messages_fts MATCH ?1 {peer_clause}
                 ORDER BY f.rowid DESC LIMIT {limit}"
            );
            let mut stmt = self.conn.prepare_cached(&sql)?;
            let found = stmt
                .query_map(params_from_iter(args.iter()), row_to_message)?
                .collect::<rusqlite::Result<Vec<_>>>();
            match found {
                Ok(rows) => return Ok(rows),
                // Characters the tokenizer drops entirely can leave an empty phrase,
                // which FTS5 rejects; fall through to the substring match.
                Err(e) => tracing::debug!(error = %e, "fts query failed; using substring match"),
            }
        }
        args[0] = Value::Text(like_pattern(text.trim()));
        let sql = format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages
             WHERE (content LIKE ?1 ESCAPE '\\' OR subject LIKE ?1 ESCAPE '\\') {peer_clause}
             ORDER BY id DESC LIMIT {limit}"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt
            .query_map(params_from_iter(args.iter()), row_to_message)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phrases_are_quoted() {
        assert_eq!(fts_phrase("hello world").as_deref(), Some("\"hello world\" *"));
        assert_eq!(fts_phrase("say \"hi\"").as_deref(), Some("\"say \"\"hi\"\"\" *"));
        assert_eq!(fts_phrase("  "), None);
        assert_eq!(fts_phrase("\"*"), None);
    }

    #[test]
    fn like_escapes_wildcards() {
        assert_eq!(like_pattern("50%_a\\"), "%50\\%\\_a\\\\%");
    }
}
