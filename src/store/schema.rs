//! The store's schema, as a list of forward migrations.
//!
//! `PRAGMA user_version` holds how many migrations ran. Each migration runs in its own
//! immediate transaction together with the version bump, so a crash mid-migration
//! leaves the previous version intact and two processes never migrate twice. Never edit
//! a migration that has shipped: append a new one.

/// Migration `i` brings the schema from version `i` to `i + 1`.
pub(crate) const MIGRATIONS: &[&str] = &[V1, V2];

/// Highest schema version this build knows.
pub const LATEST: i64 = MIGRATIONS.len() as i64;

/// Times are unix microseconds (UTC); booleans 0/1.
const V1: &str = r#"
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

-- Last ETag seen per resource ("inbox", "conversation:<user>").
CREATE TABLE etags (
    resource TEXT PRIMARY KEY,
    etag     TEXT NOT NULL
) WITHOUT ROWID;

-- Inbox summaries, one per other participant.
CREATE TABLE conversations (
    with_user         TEXT PRIMARY KEY,
    last_message      TEXT NOT NULL DEFAULT '',
    last_message_time INTEGER,
    last_message_id   INTEGER,
    unread_count      INTEGER NOT NULL DEFAULT 0,
    conversation_id   INTEGER,
    last_sender       TEXT,
    subject           TEXT
) WITHOUT ROWID;

-- Highest message id up to which a conversation was fetched without gaps (after_id).
CREATE TABLE sync_state (
    peer           TEXT PRIMARY KEY,
    synced_through INTEGER NOT NULL
) WITHOUT ROWID;

-- Cached messages; id is the server's id, peer the other participant (spelled as
-- the server spells it).
CREATE TABLE messages (
    id        INTEGER PRIMARY KEY,
    peer      TEXT NOT NULL,
    sender    TEXT NOT NULL,
    recipient TEXT NOT NULL,
    content   TEXT NOT NULL,
    subject   TEXT,
    is_read   INTEGER NOT NULL DEFAULT 0,
    read_at   INTEGER,
    sent_at   INTEGER
);
CREATE INDEX messages_by_peer ON messages (peer, id);

-- Ids deleted here, so a server that still lists them does not bring them back.
CREATE TABLE deleted_messages (
    id INTEGER PRIMARY KEY
);

-- Full-text index over messages, kept in sync by the triggers below.
CREATE VIRTUAL TABLE messages_fts USING fts5 (
    content, subject,
    content = 'messages', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts (rowid, content, subject) VALUES (new.id, new.content, new.subject);
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content, subject)
        VALUES ('delete', old.id, old.content, old.subject);
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF content, subject ON messages
WHEN old.content IS NOT new.content OR old.subject IS NOT new.subject BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content, subject)
        VALUES ('delete', old.id, old.content, old.subject);
    INSERT INTO messages_fts (rowid, content, subject) VALUES (new.id, new.content, new.subject);
END;

-- Messages written here before the first send attempt; seq gives the send order.
CREATE TABLE outbox (
    seq                INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id          TEXT NOT NULL UNIQUE,
    recipient          TEXT NOT NULL,
    subject            TEXT,
    content            TEXT NOT NULL,
    created_at         INTEGER NOT NULL,
    state              TEXT NOT NULL CHECK (state IN ('queued', 'sending', 'sent', 'failed')),
    attempts           INTEGER NOT NULL DEFAULT 0,
    first_attempt_at   INTEGER,
    last_attempt_at    INTEGER,
    server_id          INTEGER,
    failure            TEXT
);
CREATE INDEX outbox_by_recipient ON outbox (recipient, seq);
CREATE INDEX outbox_by_server_id ON outbox (server_id) WHERE server_id IS NOT NULL;

CREATE TABLE drafts (
    peer       TEXT PRIMARY KEY,
    text       TEXT NOT NULL,
    updated_at INTEGER NOT NULL
) WITHOUT ROWID;
"#;

/// Per-message retries: when the next attempt may start (the message's own backoff, or
/// the server's 429 wait) and why the last one did not get through, shown on its mark.
const V2: &str = r#"
ALTER TABLE outbox ADD COLUMN retry_at INTEGER;
ALTER TABLE outbox ADD COLUMN last_error TEXT;
"#;
