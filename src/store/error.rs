//! The store room's error type: each variant says what happened and what to do.

use std::path::PathBuf;

use uuid::Uuid;

/// Everything that can go wrong in the local store.
///
/// Messages are written for the person at the terminal: they name the file involved
/// and the next step (a `chmod` to run, a directory to check). Corrupt files found at
/// open time are not errors: they are moved aside and reported through
/// [`crate::store::Recovery`].
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A directory on the way to the store could not be created or inspected.
    #[error(
        "cannot create or read the store directory {}: {source}; check that the data directory is \
         writable by you, or choose another one with --data-dir",
        path.display()
    )]
    Dir {
        /// The directory.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },

    /// The store file or its directory can be read by other users of this machine.
    #[error(
        "{} is accessible by other users (mode {mode:03o}); it holds private messages, so \
         healing-tui refuses to use it. Run `{fix}` and start again",
        path.display()
    )]
    TooOpen {
        /// The file or directory.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
        /// The exact command that fixes it (`chmod 600 <path>` or `chmod 700 <dir>`).
        fix: String,
    },

    /// The store file can be read but not written.
    #[error(
        "the store file {} is read-only; run `chmod 600 {}` and start again",
        path.display(),
        path.display()
    )]
    ReadOnly {
        /// The file.
        path: PathBuf,
    },

    /// Something other than a regular file sits where the store file should be.
    #[error(
        "{} is not a regular file (a directory or a link?); move it away and start again",
        path.display()
    )]
    NotAFile {
        /// The path.
        path: PathBuf,
    },

    /// A file operation (create, set permissions, rename) failed.
    #[error("cannot {action} {}: {source}; check the permissions of the data directory", path.display())]
    Io {
        /// What was being done, e.g. "create" or "move aside".
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },

    /// The database is locked by another process for longer than the busy timeout.
    #[error(
        "the store {} is busy (another healing-tui for this account is writing to it); \
         close the other one or try again",
        path.display()
    )]
    Busy {
        /// The file.
        path: PathBuf,
    },

    /// The file was written by a newer healing-tui with a schema this one does not know.
    #[error(
        "the store {} was written by a newer healing-tui (schema {found}, this one knows up to \
         {known}); upgrade healing-tui, or move the file away to start a fresh cache",
        path.display()
    )]
    TooNew {
        /// The file.
        path: PathBuf,
        /// Schema version in the file.
        found: i64,
        /// Highest version this build can handle.
        known: i64,
    },

    /// The store belongs to a different user than the one asked for.
    #[error(
        "the store {} belongs to user {owner:?}, not {requested:?}; it will not be shown to \
         another user. Log in as {owner:?}, or remove that directory if it is stale",
        path.display()
    )]
    WrongAccount {
        /// The file.
        path: PathBuf,
        /// Who the store belongs to.
        owner: String,
        /// Who asked.
        requested: String,
    },

    /// The outbox has no message with this client id (sent and pruned, or discarded).
    #[error("no message {client_id} in the outbox (already sent or discarded)")]
    NotInOutbox {
        /// The client id asked for.
        client_id: Uuid,
    },

    /// Another process (or task) is sending this message's conversation right now.
    #[error("outbox message {client_id} is being sent right now by healing-tui; try again in a moment")]
    BeingSent {
        /// The message.
        client_id: Uuid,
    },

    /// An outbox transition that the message's current state does not allow.
    #[error("cannot {action} outbox message {client_id}: it is {state}")]
    InvalidTransition {
        /// The message.
        client_id: Uuid,
        /// What was attempted ("edit", "discard", ...).
        action: &'static str,
        /// The state it is in.
        state: &'static str,
    },

    /// Any other SQLite failure while reading or writing the store.
    #[error(
        "the local store failed: {0}; try again, and if it keeps failing quit healing-tui and \
         move the store file aside (a fresh one is started)"
    )]
    Sqlite(#[from] rusqlite::Error),

    /// The store is not there: it could not be opened this run, or its owner stopped.
    #[error("the local store is not open (see the notice at login); nothing was kept on disk")]
    Gone,
}

impl StoreError {
    /// Whether SQLite found the file damaged while in use. The caller should drop the
    /// store, call [`crate::store::Store::recover`], and show its message.
    pub fn is_corrupt(&self) -> bool {
        match self {
            StoreError::Sqlite(e) => matches!(
                e.sqlite_error_code(),
                Some(rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase)
            ),
            _ => false,
        }
    }
}

/// Result alias for the store room.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
