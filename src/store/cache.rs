//! The cache: inbox summaries, conversation messages, ETags, `after_id`, live events.
//!
//! Everything here is a copy of what the server said; the server stays the truth. Merges
//! are idempotent by server id, so the same message arriving by websocket, by a
//! conversation fetch and by search gives one row.

use std::collections::HashMap;

use chrono::Utc;
use rusqlite::{params, OptionalExtension, Row, Transaction};

use super::db::{from_micros, to_micros, write_tx, Store};
use super::error::Result;
use crate::model::time::Timestamp;
use crate::model::types::{ConversationResponse, ConversationSummary, InboxResponse, Message, WsEvent};
use crate::model::waiting::WaitHint;

/// Longest inbox preview kept (the server's limit).
const PREVIEW_CHARS: usize = 100;

/// Columns read into a [`Message`], in [`row_to_message`] order.
pub(crate) const MESSAGE_COLUMNS: &str = "id, sender, recipient, content, subject, is_read, read_at, sent_at";

/// The inbox as last known.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CachedInbox {
    /// Conversations, newest first.
    pub conversations: Vec<ConversationSummary>,
    /// Unread messages over all conversations, as the server last said (adjusted by
    /// read events since).
    pub total_unread: u32,
}

/// ETag resource name for an inbox page.
pub fn inbox_resource(page: u32) -> String {
    format!("inbox:{}", page.max(1))
}

/// ETag resource name for a conversation.
pub fn conversation_resource(with_user: &str) -> String {
    format!("conversation:{with_user}")
}

/// Read one row selected with [`MESSAGE_COLUMNS`].
pub(crate) fn row_to_message(r: &Row<'_>) -> rusqlite::Result<Message> {
    Ok(Message {
        id: r.get(0)?,
        sender: r.get(1)?,
        recipient: r.get(2)?,
        content: r.get(3)?,
        subject: r.get(4)?,
        is_read: r.get(5)?,
        read_at: r.get::<_, Option<i64>>(6)?.and_then(from_micros).map(Timestamp),
        sent_at: r.get::<_, Option<i64>>(7)?.and_then(from_micros).map(Timestamp),
    })
}

fn micros(t: Option<Timestamp>) -> Option<i64> {
    t.map(|t| to_micros(t.utc()))
}

fn preview(content: &str) -> String {
    content.chars().take(PREVIEW_CHARS).collect()
}

/// What one merged message did.
struct Merged {
    peer: String,
    inserted: bool,
    incoming_unread: bool,
}

impl Store {
    // ----- inbox -----

    /// Save one page of `GET /api/messages/inbox` (and its ETag). Summaries are
    /// upserted; when the page is the complete list (page 1 holding every
    /// conversation), conversations no longer listed are dropped from the inbox
    /// (their cached messages stay). Store only pages fetched with
    /// `unread_only=false`: an unread-only page would look like a complete list.
    pub fn store_inbox_page(&mut self, page: &InboxResponse, etag: Option<&str>) -> Result<()> {
        let tx = write_tx(&mut self.conn)?;
        {
            let mut upsert = tx.prepare_cached(
                "INSERT INTO conversations (with_user, last_message, last_message_time, last_message_id,
                     unread_count, conversation_id, last_sender, subject)
                 VALUES (?1, ?2, ?3, NULL, ?4, ?5, ?6, ?7)
                 ON CONFLICT (with_user) DO UPDATE SET
                     last_message = excluded.last_message,
                     last_message_time = excluded.last_message_time,
                     last_message_id = NULL,
                     unread_count = excluded.unread_count,
                     conversation_id = coalesce(excluded.conversation_id, conversation_id),
                     last_sender = coalesce(excluded.last_sender, last_sender),
                     subject = coalesce(excluded.subject, subject)",
            )?;
            for c in page.conversations.iter().filter(|c| !c.with_user.is_empty()) {
                upsert.execute(params![
                    c.with_user,
                    c.last_message,
                    micros(c.last_message_time),
                    c.unread_count,
                    c.conversation_id,
                    c.last_sender,
                    c.subject,
                ])?;
            }
        }
        // Only trust "this is everything" when the server said so explicitly: a missing
        // total (read as 0) must not wipe the cached inbox.
        if page.is_complete_list() {
            let keep: Vec<&str> = page.conversations.iter().map(|c| c.with_user.as_str()).collect();
            let mut all = tx.prepare("SELECT with_user FROM conversations")?;
            let stale: Vec<String> = all
                .query_map([], |r| r.get::<_, String>(0))?
                .collect::<rusqlite::Result<Vec<_>>>()?
                .into_iter()
                .filter(|u| !keep.contains(&u.as_str()))
                .collect();
            drop(all);
            for u in stale {
                tx.execute("DELETE FROM conversations WHERE with_user = ?1", [u])?;
            }
        }
        set_meta(&tx, "total_unread", &page.total_unread.to_string())?;
        put_etag(&tx, &inbox_resource(page.page), etag)?;
        tx.commit()?;
        Ok(())
    }

    /// The inbox as last known, newest conversation first: what start-up shows before
    /// any network call.
    pub fn load_inbox(&self) -> Result<CachedInbox> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT with_user, last_message, last_message_time, unread_count, conversation_id,
                    last_sender, subject
             FROM conversations
             ORDER BY last_message_time IS NULL, last_message_time DESC, with_user",
        )?;
        let conversations = stmt
            .query_map([], |r| {
                Ok(ConversationSummary {
                    with_user: r.get(0)?,
                    last_message: r.get(1)?,
                    last_message_time: r.get::<_, Option<i64>>(2)?.and_then(from_micros).map(Timestamp),
                    unread_count: r.get::<_, i64>(3)?.clamp(0, i64::from(u32::MAX)) as u32,
                    conversation_id: r.get(4)?,
                    last_sender: r.get(5)?,
                    subject: r.get(6)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let total_unread = match get_meta(&self.conn, "total_unread")?.and_then(|v| v.parse::<u32>().ok()) {
            Some(n) => n,
            None => conversations.iter().map(|c| c.unread_count).sum(),
        };
        Ok(CachedInbox { conversations, total_unread })
    }

    /// Per conversation, who wrote the newest cached message and when the other
    /// person's unanswered run began ([`crate::model::waiting::WaitHint`]): what decides
    /// "waiting" when the server's inbox has no `last_sender` (feb5). One pass over
    /// the messages, no network.
    pub fn wait_hints(&self) -> Result<HashMap<String, WaitHint>> {
        let mut stmt = self.conn.prepare_cached(
            "WITH ends AS (
                 SELECT peer, max(id) AS last_id,
                        max(CASE WHEN sender = ?1 COLLATE NOCASE THEN id END) AS mine
                 FROM messages GROUP BY peer)
             SELECT e.peer, m.sender, m.sent_at,
                    CASE WHEN m.sender = ?1 COLLATE NOCASE THEN NULL ELSE
                        (SELECT x.sent_at FROM messages x
                         WHERE x.peer = e.peer AND x.id > coalesce(e.mine, 0) ORDER BY x.id LIMIT 1)
                    END
             FROM ends e JOIN messages m ON m.id = e.last_id",
        )?;
        let rows = stmt.query_map([&self.me], |r| {
            let at = |i: usize| r.get::<_, Option<i64>>(i).map(|v| v.and_then(from_micros));
            Ok((
                r.get::<_, String>(0)?,
                WaitHint { last_sender: r.get(1)?, last_time: at(2)?, run_start: at(3)? },
            ))
        })?;
        Ok(rows.collect::<rusqlite::Result<HashMap<_, _>>>()?)
    }

    // ----- ETags -----

    /// The last ETag stored for `resource` (see [`inbox_resource`],
    /// [`conversation_resource`]), to send as `If-None-Match`.
    pub fn etag(&self, resource: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row("SELECT etag FROM etags WHERE resource = ?1", [resource], |r| r.get(0))
            .optional()?)
    }

    /// Store (or with `None`, forget) the ETag for `resource`.
    pub fn set_etag(&mut self, resource: &str, etag: Option<&str>) -> Result<()> {
        let tx = write_tx(&mut self.conn)?;
        put_etag(&tx, resource, etag)?;
        tx.commit()?;
        Ok(())
    }

    // ----- messages -----

    /// Merge messages from any source (conversation, search, sent list, websocket).
    /// Idempotent by server id: a known id is updated in place (read state only moves
    /// forward), never duplicated. Ids deleted here, and messages without an id or a
    /// peer, are skipped (head's `/sent` list has no `sender`: fill it in first). Also moves the inbox preview forward and drops outbox
    /// entries whose confirmed server id has arrived. Returns how many were new.
    pub fn merge_messages(&mut self, messages: &[Message]) -> Result<usize> {
        let tx = write_tx(&mut self.conn)?;
        let merged = merge_in(&tx, &self.me, messages)?;
        tx.commit()?;
        Ok(merged.iter().filter(|m| m.inserted).count())
    }

    /// Save a `GET /api/messages/conversation/<user>` response: merge its messages,
    /// store its ETag, and advance the conversation's [`Store::after_id`] to the newest
    /// id it holds (the server returns the oldest messages after `after_id` without
    /// gaps, so everything up to that id is now known). Returns how many were new.
    pub fn store_conversation(
        &mut self,
        with_user: &str,
        response: &ConversationResponse,
        etag: Option<&str>,
    ) -> Result<usize> {
        let tx = write_tx(&mut self.conn)?;
        let merged = merge_in(&tx, &self.me, &response.messages)?;
        if let Some(max) = response.messages.iter().map(|m| m.id).filter(|id| *id > 0).max() {
            tx.execute(
                "INSERT INTO sync_state (peer, synced_through) VALUES (?1, ?2)
                 ON CONFLICT (peer) DO UPDATE SET synced_through = max(synced_through, excluded.synced_through)",
                params![with_user, max],
            )?;
        }
        put_etag(&tx, &conversation_resource(with_user), etag)?;
        tx.commit()?;
        Ok(merged.iter().filter(|m| m.inserted).count())
    }

    /// The `after_id` to ask the server for: the highest id up to which this
    /// conversation was fetched without gaps. Messages that came only by websocket do
    /// not advance it (ones before them may have been missed while offline).
    pub fn after_id(&self, with_user: &str) -> Result<Option<i64>> {
        Ok(self
            .conn
            .query_row("SELECT synced_through FROM sync_state WHERE peer = ?1", [with_user], |r| r.get(0))
            .optional()?)
    }

    /// The highest cached message id in a conversation.
    pub fn max_message_id(&self, with_user: &str) -> Result<Option<i64>> {
        Ok(self.conn.query_row("SELECT max(id) FROM messages WHERE peer = ?1", [with_user], |r| r.get(0))?)
    }

    /// How many messages of a conversation are cached.
    pub fn message_count(&self, with_user: &str) -> Result<u64> {
        let n: i64 =
            self.conn
                .query_row("SELECT count(*) FROM messages WHERE peer = ?1", [with_user], |r| r.get(0))?;
        Ok(n.max(0) as u64)
    }

    /// One cached message by server id.
    pub fn message(&self, id: i64) -> Result<Option<Message>> {
        let sql = format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = ?1");
        Ok(self.conn.query_row(&sql, [id], row_to_message).optional()?)
    }

    /// The newest `limit_newest` cached messages with `with_user`, oldest first (ready
    /// to draw top to bottom).
    pub fn load_conversation(&self, with_user: &str, limit_newest: usize) -> Result<Vec<Message>> {
        let sql = format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE peer = ?1 ORDER BY id DESC LIMIT ?2");
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut out = stmt
            .query_map(params![with_user, limit(limit_newest)], row_to_message)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        out.reverse();
        Ok(out)
    }

    /// The `n` cached messages just before `before_id` with `with_user`, oldest first:
    /// the page to show when the user scrolls above what is loaded.
    pub fn load_messages_before(&self, with_user: &str, before_id: i64, n: usize) -> Result<Vec<Message>> {
        let sql = format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages WHERE peer = ?1 AND id < ?2 ORDER BY id DESC LIMIT ?3"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut out = stmt
            .query_map(params![with_user, before_id, limit(n)], row_to_message)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        out.reverse();
        Ok(out)
    }

    // ----- events -----

    /// Apply a websocket event. Returns the conversation (other user) it changed, so
    /// the caller can redraw it; `None` when the event concerned nothing cached.
    pub fn apply_event(&mut self, event: &WsEvent) -> Result<Option<String>> {
        match event {
            WsEvent::MessageNew { message } => {
                let tx = write_tx(&mut self.conn)?;
                let merged = merge_in(&tx, &self.me, std::slice::from_ref(message))?;
                for m in merged.iter().filter(|m| m.inserted && m.incoming_unread) {
                    tx.execute(
                        "UPDATE conversations SET unread_count = unread_count + 1 WHERE with_user = ?1",
                        [&m.peer],
                    )?;
                    add_total_unread(&tx, 1)?;
                }
                tx.commit()?;
                Ok(merged.into_iter().next().map(|m| m.peer))
            }
            WsEvent::MessageRead { message_id, read_at } => self.apply_read(*message_id, *read_at),
            WsEvent::MessageDeleted { message_id } => self.apply_deleted(*message_id),
        }
    }

    /// A message was read (`message.read`, or our own mark-read call). Returns its
    /// conversation when the message is cached.
    pub fn apply_read(&mut self, id: i64, read_at: Option<Timestamp>) -> Result<Option<String>> {
        let tx = write_tx(&mut self.conn)?;
        let row: Option<(String, String, bool)> = tx
            .query_row("SELECT peer, recipient, is_read FROM messages WHERE id = ?1", [id], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()?;
        let Some((peer, recipient, was_read)) = row else {
            return Ok(None);
        };
        let at = micros(read_at).unwrap_or_else(|| to_micros(Utc::now()));
        tx.execute(
            "UPDATE messages SET is_read = 1, read_at = coalesce(read_at, ?2) WHERE id = ?1",
            params![id, at],
        )?;
        if !was_read && recipient.eq_ignore_ascii_case(&self.me) {
            tx.execute(
                "UPDATE conversations SET unread_count = max(unread_count - 1, 0) WHERE with_user = ?1",
                [&peer],
            )?;
            add_total_unread(&tx, -1)?;
        }
        tx.commit()?;
        Ok(Some(peer))
    }

    /// A message was deleted (`message.deleted`, or our own delete call). It is
    /// removed from the cache and remembered, so a server that still lists it does not
    /// bring it back. Returns its conversation when the message was cached.
    pub fn apply_deleted(&mut self, id: i64) -> Result<Option<String>> {
        let tx = write_tx(&mut self.conn)?;
        tx.execute("INSERT OR IGNORE INTO deleted_messages (id) VALUES (?1)", [id])?;
        let peer: Option<String> =
            tx.query_row("SELECT peer FROM messages WHERE id = ?1", [id], |r| r.get(0)).optional()?;
        if let Some(peer) = &peer {
            tx.execute("DELETE FROM messages WHERE id = ?1", [id])?;
            // If it was the preview, show the newest remaining message instead.
            let newest =
                format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE peer = ?1 ORDER BY id DESC LIMIT 1");
            let newest: Option<Message> = tx.query_row(&newest, [peer], row_to_message).optional()?;
            let is_preview: bool = tx
                .query_row(
                    "SELECT last_message_id = ?2 FROM conversations WHERE with_user = ?1",
                    params![peer, id],
                    |r| r.get::<_, Option<bool>>(0),
                )
                .optional()?
                .flatten()
                .unwrap_or(false);
            if is_preview {
                match newest {
                    Some(m) => set_preview(&tx, peer, &m, true)?,
                    None => {
                        tx.execute(
                            "UPDATE conversations SET last_message = '', last_message_id = NULL
                             WHERE with_user = ?1",
                            [peer],
                        )?;
                    }
                }
            }
        }
        tx.commit()?;
        Ok(peer)
    }

    /// Drop from `messages` those deleted here: a server may keep listing a message
    /// its caller deleted (head does, in the conversation), and it must stay hidden.
    pub fn drop_deleted(&self, messages: &mut Vec<Message>) -> Result<()> {
        let mut stmt =
            self.conn.prepare_cached("SELECT EXISTS (SELECT 1 FROM deleted_messages WHERE id = ?1)")?;
        let mut keep = Vec::with_capacity(messages.len());
        for m in messages.drain(..) {
            if !stmt.query_row([m.id], |r| r.get::<_, bool>(0))? {
                keep.push(m);
            }
        }
        *messages = keep;
        Ok(())
    }

    /// The user opened a conversation (fetching it marks everything they received in
    /// it read on the server): mark those cached messages read and zero its unread count.
    pub fn mark_conversation_read(&mut self, with_user: &str) -> Result<()> {
        let tx = write_tx(&mut self.conn)?;
        let now = to_micros(Utc::now());
        tx.execute(
            "UPDATE messages SET is_read = 1, read_at = coalesce(read_at, ?3)
             WHERE peer = ?1 AND recipient = ?2 COLLATE NOCASE AND is_read = 0",
            params![with_user, self.me, now],
        )?;
        let unread: Option<i64> = tx
            .query_row("SELECT unread_count FROM conversations WHERE with_user = ?1", [with_user], |r| {
                r.get(0)
            })
            .optional()?;
        if let Some(n) = unread.filter(|n| *n > 0) {
            tx.execute("UPDATE conversations SET unread_count = 0 WHERE with_user = ?1", [with_user])?;
            add_total_unread(&tx, -n)?;
        }
        tx.commit()?;
        Ok(())
    }
}

/// `usize` limit to SQLite's integer, saturating.
fn limit(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Merge inside a transaction; one entry per message actually stored.
fn merge_in(tx: &Transaction<'_>, me: &str, messages: &[Message]) -> Result<Vec<Merged>> {
    let mut out = Vec::with_capacity(messages.len());
    // Newest inserted message per conversation, for the inbox preview.
    let mut newest: HashMap<String, &Message> = HashMap::new();
    {
        let mut insert = tx.prepare_cached(
            "INSERT OR IGNORE INTO messages (id, peer, sender, recipient, content, subject, is_read, read_at, sent_at)
             SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9
             WHERE NOT EXISTS (SELECT 1 FROM deleted_messages WHERE id = ?1)",
        )?;
        let mut update = tx.prepare_cached(
            // A source that leaves a field out (empty content, no subject, no time) never
            // erases what another source told us.
            "UPDATE messages SET
                 content = CASE WHEN ?2 = '' THEN content ELSE ?2 END,
                 subject = coalesce(?3, subject),
                 is_read = max(is_read, ?4),
                 read_at = coalesce(?5, read_at),
                 sent_at = coalesce(?6, sent_at)
             WHERE id = ?1 AND ((?2 != '' AND content IS NOT ?2) OR (?3 IS NOT NULL AND subject IS NOT ?3)
                   OR is_read < ?4 OR (?5 IS NOT NULL AND read_at IS NOT ?5)
                   OR (?6 IS NOT NULL AND sent_at IS NOT ?6))",
        )?;
        let mut confirm = tx.prepare_cached("DELETE FROM outbox WHERE state = 'sent' AND server_id = ?1")?;
        for m in messages {
            let outgoing = m.sender.eq_ignore_ascii_case(me);
            let peer = if outgoing { &m.recipient } else { &m.sender };
            if m.id <= 0 || peer.is_empty() {
                continue;
            }
            let (read_at, sent_at) = (micros(m.read_at), micros(m.sent_at));
            let inserted = insert.execute(params![
                m.id,
                peer,
                m.sender,
                m.recipient,
                m.content,
                m.subject,
                m.is_read,
                read_at,
                sent_at
            ])? == 1;
            if inserted {
                let slot = newest.entry(peer.clone()).or_insert(m);
                if m.id > slot.id {
                    *slot = m;
                }
            } else {
                update.execute(params![m.id, m.content, m.subject, m.is_read, read_at, sent_at])?;
            }
            // The real message replaces the local echo of a confirmed send.
            confirm.execute([m.id])?;
            out.push(Merged { peer: peer.clone(), inserted, incoming_unread: !outgoing && !m.is_read });
        }
    }
    for (peer, m) in newest {
        set_preview(tx, &peer, m, false)?;
    }
    Ok(out)
}

/// Make `m` the conversation's preview if it is newer than the current one (or
/// unconditionally with `force`), creating the conversation if needed.
fn set_preview(tx: &Transaction<'_>, peer: &str, m: &Message, force: bool) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO conversations (with_user, last_message, last_message_time, last_message_id, last_sender, subject)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (with_user) DO UPDATE SET
             last_message = excluded.last_message,
             last_message_time = coalesce(excluded.last_message_time, last_message_time),
             last_message_id = excluded.last_message_id,
             last_sender = excluded.last_sender,
             subject = coalesce(subject, excluded.subject)
         WHERE ?7 OR ((last_message_id IS NULL OR excluded.last_message_id > last_message_id)
               AND (last_message_time IS NULL OR excluded.last_message_time IS NULL
                    OR excluded.last_message_time >= last_message_time))",
    )?
    .execute(params![peer, preview(&m.content), micros(m.sent_at), m.id, m.sender, m.subject, force])?;
    Ok(())
}

fn put_etag(tx: &Transaction<'_>, resource: &str, etag: Option<&str>) -> Result<()> {
    match etag {
        Some(e) => tx.execute(
            "INSERT INTO etags (resource, etag) VALUES (?1, ?2)
             ON CONFLICT (resource) DO UPDATE SET etag = excluded.etag",
            params![resource, e],
        )?,
        None => tx.execute("DELETE FROM etags WHERE resource = ?1", [resource])?,
    };
    Ok(())
}

pub(crate) fn get_meta(conn: &rusqlite::Connection, key: &str) -> Result<Option<String>> {
    Ok(conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0)).optional()?)
}

fn set_meta(tx: &Transaction<'_>, key: &str, value: &str) -> Result<()> {
    tx.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )?;
    Ok(())
}

/// Adjust the stored total unread count, never below zero. No-op until the server has
/// told us a total (the inbox then sums the per-conversation counts).
fn add_total_unread(tx: &Transaction<'_>, delta: i64) -> Result<()> {
    if let Some(n) = get_meta(tx, "total_unread")?.and_then(|v| v.parse::<i64>().ok()) {
        set_meta(tx, "total_unread", &(n + delta).max(0).to_string())?;
    }
    Ok(())
}
