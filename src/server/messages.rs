//! Message routes: send, inbox, conversation, mark read, delete, sent, search,
//! unread count, and head's `poll` probe.
//!
//! Deletion is per side (`deleted_by_sender` / `deleted_by_recipient`); a message
//! is visible to a participant until that participant deleted it, so one deleted by
//! both is gone for both.

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use rusqlite::{params, Connection, OptionalExtension, Row};

use super::auth::{lookup_session, session_cookie, AuthUser};
use super::db::{now_secs, ts};
use super::errors::ServerError;
use super::etag;
use super::extract::{bool_param, int_param, query_map, JsonBody};
use super::faults::FailRoute;
use super::state::AppState;
use crate::model::types::{
    ConversationResponse, ConversationSummary, InboxResponse, MarkReadResponse, Message, SearchResponse,
    SendRequest, SendResponse, SentResponse, UnreadCountResponse, WsEvent,
};

/// Longest message content, in characters (head's limit, the intended one).
pub const MAX_CONTENT: usize = 10_000;
/// Longest subject, in characters.
pub const MAX_SUBJECT: usize = 255;
/// Longest inbox preview, in characters.
pub const PREVIEW_CHARS: usize = 100;
/// How long an `Idempotency-Key` is remembered.
pub const IDEMPOTENCY_SECS: i64 = 24 * 3600;

const SELECT: &str = "SELECT m.id, s.username, r.username, m.content, m.subject, m.read_at, m.sent_at
     FROM messages m JOIN users s ON s.id = m.sender_id JOIN users r ON r.id = m.recipient_id";

fn row_to_message(r: &Row<'_>) -> rusqlite::Result<Message> {
    let read_at: Option<i64> = r.get(5)?;
    Ok(Message {
        id: r.get(0)?,
        sender: r.get(1)?,
        recipient: r.get(2)?,
        content: r.get(3)?,
        subject: r.get(4)?,
        is_read: read_at.is_some(),
        read_at: read_at.and_then(ts),
        sent_at: ts(r.get(6)?),
    })
}

/// A user's id and role by name.
pub fn find_user(conn: &Connection, name: &str) -> rusqlite::Result<Option<(i64, String)>> {
    conn.query_row("SELECT id, role FROM users WHERE username = ?1", [name], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()
}

/// Store a message (no checks) and return it as the wire shape.
pub fn insert_message(
    conn: &Connection,
    sender_id: i64,
    recipient_id: i64,
    subject: Option<&str>,
    content: &str,
    sent_at: i64,
) -> rusqlite::Result<Message> {
    conn.execute(
        "INSERT INTO messages (sender_id, recipient_id, subject, content, sent_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![sender_id, recipient_id, subject, content, sent_at],
    )?;
    let id = conn.last_insert_rowid();
    conn.query_row(&format!("{SELECT} WHERE m.id = ?1"), [id], row_to_message)
}

/// Tell both parties' sockets and in-process observers about a new message.
pub fn deliver(state: &AppState, message: Message) {
    let event = WsEvent::MessageNew { message: message.clone() };
    state.hub.publish(&[&message.sender, &message.recipient], &event);
    // No observer is the normal case outside the demo.
    let _ = state.new_messages.send(message);
}

enum SendOutcome {
    Created(Message),
    Replayed { message_id: i64, recipient: String },
}

fn idempotency_key(state: &AppState, headers: &HeaderMap) -> Result<Option<String>, ServerError> {
    if !state.settings.idempotency {
        return Ok(None);
    }
    let Some(value) = headers.get("idempotency-key") else { return Ok(None) };
    let key = value.to_str().map(str::trim).unwrap_or("");
    if key.is_empty() || key.len() > 255 {
        return Err(ServerError::bad("Invalid Idempotency-Key"));
    }
    Ok(Some(key.to_string()))
}

/// `POST /api/messages/send`, checked in the contract's order.
pub async fn send(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    JsonBody(req): JsonBody<SendRequest>,
) -> Result<Response, ServerError> {
    let recipient = req.recipient.trim().to_string();
    if recipient.is_empty() {
        return Err(ServerError::bad("Recipient is required"));
    }
    if req.content.trim().is_empty() {
        return Err(ServerError::bad("Message content is required"));
    }
    if req.content.chars().count() > MAX_CONTENT {
        return Err(ServerError::bad("Message cannot exceed 10,000 characters"));
    }
    let subject = req.subject.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    if subject.as_ref().is_some_and(|s| s.chars().count() > MAX_SUBJECT) {
        return Err(ServerError::bad("Subject cannot exceed 255 characters"));
    }
    if recipient == user.username {
        return Err(ServerError::bad("You cannot send messages to yourself"));
    }
    let key = idempotency_key(&state, &headers)?;
    // Decided now, raised once the recipient checks passed: feb5 fails only valid sends.
    let switched_off = state.faults.check(FailRoute::Send);
    let content = req.content;
    let me = user.clone();
    let outcome = state
        .db
        .call(move |c| {
            let tx = c.transaction()?;
            let now = now_secs();
            if let Some(key) = &key {
                let earlier = tx
                    .query_row(
                        "SELECT message_id, recipient FROM idempotency_keys
                         WHERE user_id = ?1 AND key = ?2 AND created_at > ?3",
                        params![me.id, key, now - IDEMPOTENCY_SECS],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .optional()?;
                if let Some((message_id, recipient)) = earlier {
                    return Ok(SendOutcome::Replayed { message_id, recipient });
                }
            }
            let (rid, role) =
                find_user(&tx, &recipient)?.ok_or_else(|| ServerError::not_found("Recipient not found"))?;
            if me.role == "user" && role == "clinician" {
                let clinician_wrote: bool = tx.query_row(
                    "SELECT EXISTS (SELECT 1 FROM messages WHERE sender_id = ?1 AND recipient_id = ?2)",
                    params![rid, me.id],
                    |r| r.get(0),
                )?;
                if !clinician_wrote {
                    return Err(ServerError::forbidden(
                        "Users may only reply to clinicians, not initiate contact",
                    ));
                }
            }
            switched_off?;
            let message = insert_message(&tx, me.id, rid, subject.as_deref(), &content, now)?;
            if let Some(key) = &key {
                tx.execute(
                    "INSERT OR REPLACE INTO idempotency_keys (user_id, key, message_id, recipient, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![me.id, key, message.id, message.recipient, now],
                )?;
                tx.execute("DELETE FROM idempotency_keys WHERE created_at <= ?1", [now - IDEMPOTENCY_SECS])?;
            }
            tx.commit()?;
            Ok(SendOutcome::Created(message))
        })
        .await?;
    let body = match outcome {
        SendOutcome::Created(message) => {
            let body = SendResponse {
                message_id: message.id,
                status: "sent".into(),
                recipient: message.recipient.clone(),
                conversation_id: None,
            };
            deliver(&state, message);
            body
        }
        SendOutcome::Replayed { message_id, recipient } => {
            SendResponse { message_id, status: "sent".into(), recipient, conversation_id: None }
        }
    };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// Messages visible to `user_id`, newest first.
fn visible_messages(conn: &Connection, user_id: i64) -> rusqlite::Result<Vec<Message>> {
    let mut stmt = conn.prepare_cached(&format!(
        "{SELECT} WHERE (m.sender_id = ?1 AND m.deleted_by_sender = 0)
                    OR (m.recipient_id = ?1 AND m.deleted_by_recipient = 0)
         ORDER BY m.id DESC"
    ))?;
    let rows = stmt.query_map([user_id], row_to_message)?;
    rows.collect()
}

fn summaries(me: &str, messages: &[Message]) -> Vec<ConversationSummary> {
    let mut out: Vec<ConversationSummary> = Vec::new();
    for m in messages {
        let other = if m.sender == me { &m.recipient } else { &m.sender };
        let unread = u32::from(m.recipient == me && !m.is_read);
        match out.iter_mut().find(|c| &c.with_user == other) {
            Some(c) => {
                c.unread_count += unread;
                if c.subject.is_none() {
                    c.subject = m.subject.clone();
                }
            }
            None => out.push(ConversationSummary {
                with_user: other.clone(),
                last_message: m.content.chars().take(PREVIEW_CHARS).collect(),
                last_message_time: m.sent_at,
                unread_count: unread,
                conversation_id: None,
                last_sender: Some(m.sender.clone()),
                subject: m.subject.clone(),
            }),
        }
    }
    out
}

/// `GET /api/messages/inbox?page&limit&unread_only`: conversations, newest first.
pub async fn inbox(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, ServerError> {
    state.faults.check(FailRoute::Inbox)?;
    let q = query_map(raw.as_deref());
    let page = int_param(&q, "page").filter(|p| *p >= 1).unwrap_or(1);
    let limit = int_param(&q, "limit").filter(|l| (1..=50).contains(l)).unwrap_or(20);
    let unread_only = bool_param(&q, "unread_only");
    let uid = user.id;
    let messages = state.db.call(move |c| Ok(visible_messages(c, uid)?)).await?;
    let mut all = summaries(&user.username, &messages);
    let total_unread = all.iter().map(|c| c.unread_count).sum();
    if unread_only {
        all.retain(|c| c.unread_count > 0);
    }
    let total = all.len();
    let skip = usize::try_from((page - 1).saturating_mul(limit)).unwrap_or(usize::MAX);
    let conversations = all.into_iter().skip(skip).take(limit as usize).collect();
    let body = InboxResponse {
        conversations,
        total_unread,
        page: u32::try_from(page).unwrap_or(u32::MAX),
        page_size: limit as u32,
        total_conversations: u32::try_from(total).unwrap_or(u32::MAX),
    };
    etag::json_response(&headers, &user.username, &body, state.settings.extensions())
}

/// `GET /api/messages/conversation/<user>?limit&after_id`: the oldest `limit`
/// messages (after `after_id`), oldest first. Marks the other's messages read.
pub async fn conversation(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    Path(with_user): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ServerError> {
    state.faults.check(FailRoute::Conversation)?;
    let q = query_map(raw.as_deref());
    let limit = int_param(&q, "limit").map_or(50, |l| l.clamp(1, 200));
    let after_id =
        if state.settings.extensions() { int_param(&q, "after_id").unwrap_or(0).max(0) } else { 0 };
    let me = user.clone();
    let other_name = with_user.clone();
    let shows_deleted = state.settings.conversation_shows_deleted();
    let (messages, marked) = state
        .db
        .call(move |c| {
            let Some((other, _)) = find_user(c, &other_name)? else { return Ok((Vec::new(), Vec::new())) };
            let tx = c.transaction()?;
            let now = now_secs();
            let marked: Vec<(i64, i64)> = {
                let mut stmt = tx.prepare_cached(
                    "UPDATE messages SET read_at = ?3 WHERE sender_id = ?1 AND recipient_id = ?2
                     AND read_at IS NULL AND deleted_by_recipient = 0 RETURNING id, read_at",
                )?;
                let rows = stmt.query_map(params![other, me.id, now], |r| Ok((r.get(0)?, r.get(1)?)))?;
                rows.collect::<rusqlite::Result<_>>()?
            };
            let messages: Vec<Message> = {
                let mut stmt = tx.prepare_cached(&format!(
                    "{SELECT} WHERE ((m.sender_id = ?1 AND m.recipient_id = ?2 AND (?5 OR m.deleted_by_sender = 0))
                                  OR (m.sender_id = ?2 AND m.recipient_id = ?1 AND (?5 OR m.deleted_by_recipient = 0)))
                                 AND m.id > ?3
                     ORDER BY m.id ASC LIMIT ?4"
                ))?;
                let rows =
                    stmt.query_map(params![me.id, other, after_id, limit, shows_deleted], row_to_message)?;
                rows.collect::<rusqlite::Result<_>>()?
            };
            tx.commit()?;
            Ok((messages, marked))
        })
        .await?;
    // Only the sender is told: the reader's own fetch is the news on the reader's side (a
    // client marks a burst of pushed messages read with one such fetch, which would
    // otherwise come back over its socket as a frame per message).
    for (message_id, read_at) in marked {
        let event = WsEvent::MessageRead { message_id, read_at: ts(read_at) };
        state.hub.publish(&[&with_user], &event);
    }
    let body = ConversationResponse { messages, participant_count: 2, with_user };
    etag::json_response(&headers, &user.username, &body, state.settings.extensions())
}

struct Participants {
    sender_id: i64,
    recipient_id: i64,
    sender: String,
    recipient: String,
    read_at: Option<i64>,
    deleted_by_sender: bool,
    deleted_by_recipient: bool,
}

fn participants(conn: &Connection, id: i64) -> rusqlite::Result<Option<Participants>> {
    conn.query_row(
        "SELECT m.sender_id, m.recipient_id, s.username, r.username, m.read_at,
                m.deleted_by_sender, m.deleted_by_recipient
         FROM messages m JOIN users s ON s.id = m.sender_id JOIN users r ON r.id = m.recipient_id
         WHERE m.id = ?1",
        [id],
        |r| {
            Ok(Participants {
                sender_id: r.get(0)?,
                recipient_id: r.get(1)?,
                sender: r.get(2)?,
                recipient: r.get(3)?,
                read_at: r.get(4)?,
                deleted_by_sender: r.get(5)?,
                deleted_by_recipient: r.get(6)?,
            })
        },
    )
    .optional()
}

/// `PATCH /api/messages/<id>/read`.
pub async fn mark_read(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<MarkReadResponse>, ServerError> {
    state.faults.check(FailRoute::Read)?;
    let id: i64 = id.parse().map_err(|_| ServerError::not_found("Message not found"))?;
    let uid = user.id;
    let (p, read_at, newly) = state
        .db
        .call(move |c| {
            let p = participants(c, id)?.ok_or_else(|| ServerError::not_found("Message not found"))?;
            if p.recipient_id != uid {
                return Err(ServerError::forbidden("You are not the recipient of this message"));
            }
            if p.deleted_by_recipient {
                return Err(ServerError::not_found("Message not found"));
            }
            match p.read_at {
                Some(at) => Ok((p, at, false)),
                None => {
                    let now = now_secs();
                    c.execute("UPDATE messages SET read_at = ?2 WHERE id = ?1", params![id, now])?;
                    Ok((p, now, true))
                }
            }
        })
        .await?;
    let read_at = ts(read_at);
    if newly {
        state.hub.publish(&[&p.sender, &p.recipient], &WsEvent::MessageRead { message_id: id, read_at });
    }
    Ok(Json(MarkReadResponse { message_id: id, is_read: true, read_at }))
}

/// `DELETE /api/messages/<id>`: 204 with an empty body, also when already deleted.
pub async fn delete(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> Result<Response, ServerError> {
    state.faults.check(FailRoute::Delete)?;
    let id: i64 = id.parse().map_err(|_| ServerError::not_found("Message not found"))?;
    let uid = user.id;
    let (p, changed) = state
        .db
        .call(move |c| {
            let mut p = participants(c, id)?.ok_or_else(|| ServerError::not_found("Message not found"))?;
            let changed = if p.sender_id == uid && !p.deleted_by_sender {
                p.deleted_by_sender = true;
                true
            } else if p.recipient_id == uid && !p.deleted_by_recipient {
                p.deleted_by_recipient = true;
                true
            } else if p.sender_id == uid || p.recipient_id == uid {
                false
            } else {
                return Err(ServerError::forbidden("You cannot delete this message"));
            };
            if changed {
                c.execute(
                    "UPDATE messages SET deleted_by_sender = ?2, deleted_by_recipient = ?3 WHERE id = ?1",
                    params![id, p.deleted_by_sender, p.deleted_by_recipient],
                )?;
            }
            Ok((p, changed))
        })
        .await?;
    if changed {
        let event = WsEvent::MessageDeleted { message_id: id };
        if p.deleted_by_sender && p.deleted_by_recipient {
            state.hub.publish(&[&p.sender, &p.recipient], &event);
        } else {
            state.hub.publish(&[&user.username], &event);
        }
    }
    Ok((StatusCode::NO_CONTENT, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], Body::empty())
        .into_response())
}

/// `GET /api/messages/sent`: the caller's sent messages, newest first.
pub async fn sent(State(state): State<AppState>, user: AuthUser) -> Result<Json<SentResponse>, ServerError> {
    state.faults.check(FailRoute::Sent)?;
    let uid = user.id;
    let messages: Vec<Message> = state
        .db
        .call(move |c| {
            let mut stmt = c.prepare_cached(&format!(
                "{SELECT} WHERE m.sender_id = ?1 AND m.deleted_by_sender = 0 ORDER BY m.id DESC"
            ))?;
            let rows = stmt.query_map([uid], row_to_message)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await?;
    let count = i64::try_from(messages.len()).ok();
    Ok(Json(SentResponse { success: true, messages, count }))
}

/// `GET /api/messages/search?q=`: visible messages whose content or subject
/// contains `q` (case-insensitive), newest first, at most 100.
pub async fn search(
    State(state): State<AppState>,
    user: AuthUser,
    RawQuery(raw): RawQuery,
) -> Result<Json<SearchResponse>, ServerError> {
    let q = query_map(raw.as_deref());
    let query = q.get("q").map(|s| s.trim().to_string()).unwrap_or_default();
    if query.chars().count() < 2 {
        return Err(ServerError::bad("Search query must be at least 2 characters"));
    }
    let needle = query.to_lowercase();
    let uid = user.id;
    let messages = state.db.call(move |c| Ok(visible_messages(c, uid)?)).await?;
    let results: Vec<Message> = messages
        .into_iter()
        .filter(|m| {
            m.content.to_lowercase().contains(&needle)
                || m.subject.as_ref().is_some_and(|s| s.to_lowercase().contains(&needle))
        })
        .take(100)
        .collect();
    let count = i64::try_from(results.len()).unwrap_or(i64::MAX);
    Ok(Json(SearchResponse { query, results, count }))
}

fn unread_for(conn: &Connection, uid: i64) -> rusqlite::Result<u32> {
    conn.query_row(
        "SELECT COUNT(*) FROM messages WHERE recipient_id = ?1 AND read_at IS NULL AND deleted_by_recipient = 0",
        [uid],
        |r| r.get(0),
    )
}

/// `GET /api/messages/unread-count`.
pub async fn unread_count(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<Json<UnreadCountResponse>, ServerError> {
    let uid = user.id;
    let unread_count = state.db.call(move |c| Ok(unread_for(c, uid)?)).await?;
    Ok(Json(UnreadCountResponse { unread_count }))
}

/// `GET /api/poll` (head): never 401; `{"authenticated":false}` without a session.
pub async fn poll(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ServerError> {
    let user = match session_cookie(&headers) {
        Some(t) => lookup_session(&state, &t).await?,
        None => None,
    };
    let Some(user) = user else {
        return Ok(Json(serde_json::json!({ "authenticated": false })).into_response());
    };
    let uid = user.id;
    let unread = state.db.call(move |c| Ok(unread_for(c, uid)?)).await?;
    Ok(Json(serde_json::json!({
        "authenticated": true,
        "notifications": 0,
        "messages": unread,
        "risk_alerts": 0,
        "role": user.role,
    }))
    .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(id: i64, from: &str, to: &str, text: &str, read: bool) -> Message {
        Message {
            id,
            sender: from.into(),
            recipient: to.into(),
            content: text.into(),
            is_read: read,
            ..Message::default()
        }
    }

    #[test]
    fn summaries_group_newest_first_and_count_unread() {
        let long = "x".repeat(150);
        let list = vec![
            msg(5, "sam", "alex", &long, false),
            msg(4, "dr", "alex", "hi", false),
            msg(3, "sam", "alex", "older", false),
            msg(2, "alex", "sam", "mine", false),
        ];
        let s = summaries("alex", &list);
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].with_user, "sam");
        assert_eq!(s[0].unread_count, 2, "my own unread-by-sam message does not count");
        assert_eq!(s[0].last_message.chars().count(), PREVIEW_CHARS);
        assert_eq!(s[1].with_user, "dr");
    }
}
