//! Opening the store: permissions, pragmas, migrations, and recovery from a damaged file.

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::types::Value;
use rusqlite::{params_from_iter, Connection, ErrorCode, OpenFlags, OptionalExtension, TransactionBehavior};

use super::error::{Result, StoreError};
use super::paths::{check_mode, create_private_file, ensure_private_dir, store_path};
use super::schema::MIGRATIONS;

/// How long a statement waits for another process's write lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// One account's local store: cached inbox and messages, outbox, drafts.
///
/// Not `Sync`: run it on one task or thread (or behind a mutex) and talk to it through
/// messages, like every other piece of I/O in this app. Every write method commits
/// before it returns, so what it reported survives a crash or `kill -9`.
#[derive(Debug)]
pub struct Store {
    pub(crate) conn: Connection,
    pub(crate) path: PathBuf,
    pub(crate) me: String,
}

/// The result of opening a store.
#[derive(Debug)]
pub struct Opened {
    /// The store, ready to use.
    pub store: Store,
    /// Set when the old file was damaged and has been moved aside: show
    /// [`Recovery::message`] to the user once (nothing was deleted).
    pub recovered: Option<Recovery>,
}

/// A damaged store file that was moved aside and replaced by a fresh one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recovery {
    /// Where the store was (and the fresh one now is).
    pub original: PathBuf,
    /// Where the damaged file now is.
    pub moved_to: PathBuf,
    /// What SQLite said about the old file.
    pub reason: String,
    /// Outbox messages read back from the old file into the new one.
    pub salvaged_outbox: usize,
    /// Drafts read back from the old file into the new one.
    pub salvaged_drafts: usize,
}

impl Recovery {
    /// A message for the user, saying what happened and what it means for them.
    pub fn message(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Recovery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "The local store {} could not be read ({}). It was moved to {} (kept for inspection) \
             and a fresh one was started; cached messages will be fetched again from the server.",
            self.original.display(),
            self.reason,
            self.moved_to.display()
        )?;
        if self.salvaged_outbox + self.salvaged_drafts > 0 {
            write!(
                f,
                " Recovered from the old file: {} unsent message(s), {} draft(s).",
                self.salvaged_outbox, self.salvaged_drafts
            )
        } else {
            write!(f, " No unsent messages or drafts could be read from the old file.")
        }
    }
}

/// Why an open attempt failed: a damaged file (move it aside) or anything else (report).
enum OpenFailure {
    Damaged(String),
    Fatal(StoreError),
}

impl From<StoreError> for OpenFailure {
    fn from(e: StoreError) -> Self {
        OpenFailure::Fatal(e)
    }
}

impl Store {
    /// Open (or create) the store of `username` on `server_url` under `data_dir`, at
    /// [`store_path`].
    pub fn open_account(data_dir: &Path, server_url: &str, username: &str) -> Result<Opened> {
        Store::open(&store_path(data_dir, server_url, username), username)
    }

    /// Open (or create) the store file at `path` for `username`.
    ///
    /// Creates missing directories 0700 and the file 0600; refuses an existing file or
    /// directory that others can access ([`StoreError::TooOpen`], with the `chmod` to
    /// run). Runs pending migrations. A file that is not a readable SQLite database of
    /// ours is moved to `store.sqlite3.corrupt-<timestamp>` and a fresh store is
    /// started; [`Opened::recovered`] then says so.
    pub fn open(path: &Path, username: &str) -> Result<Opened> {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        ensure_private_dir(&dir)?;
        prepare_file(path)?;
        match Store::try_open(path, username) {
            Ok(store) => Ok(Opened { store, recovered: None }),
            Err(OpenFailure::Fatal(e)) => Err(e),
            Err(OpenFailure::Damaged(reason)) => Store::start_fresh(path, username, reason),
        }
    }

    /// Move the store file aside and start a fresh one, salvaging what can still be
    /// read of the old outbox and drafts. For a store that failed with
    /// [`StoreError::is_corrupt`] while in use: drop that [`Store`] first, then call
    /// this and show [`Recovery::message`].
    pub fn recover(path: &Path, username: &str) -> Result<Opened> {
        Store::start_fresh(path, username, "the store reported damage while in use".to_string())
    }

    fn start_fresh(path: &Path, username: &str, reason: String) -> Result<Opened> {
        let moved_to = move_aside(path)?;
        tracing::warn!(from = %path.display(), to = %moved_to.display(), %reason, "store moved aside");
        create_private_file(path)?;
        let mut store = match Store::try_open(path, username) {
            Ok(s) => s,
            Err(OpenFailure::Fatal(e)) => return Err(e),
            // A brand-new file that is "damaged" means SQLite cannot work here at all.
            Err(OpenFailure::Damaged(reason)) => {
                return Err(StoreError::Io {
                    action: "open a fresh store at",
                    path: path.to_path_buf(),
                    source: std::io::Error::other(reason),
                })
            }
        };
        let salvaged = salvage(&moved_to, &mut store);
        let (salvaged_outbox, salvaged_drafts) = salvaged.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "nothing salvaged from the damaged store");
            (0, 0)
        });
        Ok(Opened {
            store,
            recovered: Some(Recovery {
                original: path.to_path_buf(),
                moved_to,
                reason,
                salvaged_outbox,
                salvaged_drafts,
            }),
        })
    }

    fn try_open(path: &Path, username: &str) -> std::result::Result<Store, OpenFailure> {
        // No SQLITE_OPEN_CREATE: `prepare_file` made the file with the right mode.
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let mut conn = Connection::open_with_flags(path, flags).map_err(|e| classify(path, e))?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(|e| classify(path, e))?;
        // The first statement that reads the file: a non-database fails here.
        let mode: String =
            conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0)).map_err(|e| classify(path, e))?;
        if conn.is_readonly(rusqlite::MAIN_DB).map_err(|e| classify(path, e))? {
            return Err(OpenFailure::Fatal(StoreError::ReadOnly { path: path.to_path_buf() }));
        }
        if !mode.eq_ignore_ascii_case("wal") {
            tracing::warn!(%mode, "store is not in WAL mode");
        }
        // FULL: each commit is durable on power loss too; outbox writes are the point.
        conn.execute_batch("PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;")
            .map_err(|e| classify(path, e))?;
        migrate(&mut conn, path, MIGRATIONS)?;
        check_owner(&conn, path, username)?;
        Ok(Store { conn, path: path.to_path_buf(), me: username.to_string() })
    }

    /// The store file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The user this store belongs to.
    pub fn username(&self) -> &str {
        &self.me
    }

    /// Schema version of the open file (the number of migrations applied).
    pub fn schema_version(&self) -> Result<i64> {
        Ok(self.conn.query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }

    /// A full integrity check (reads every page: slow on a big store, so not done at
    /// open). `Ok(None)` when healthy, else SQLite's first complaint.
    pub fn check_integrity(&self) -> Result<Option<String>> {
        let first: String = self.conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
        Ok(if first == "ok" { None } else { Some(first) })
    }
}

/// Start a write transaction. IMMEDIATE takes the write lock up front (waiting up to
/// the busy timeout), so a read-then-write transaction never fails half-way because
/// another process wrote in between.
pub(crate) fn write_tx(conn: &mut Connection) -> Result<rusqlite::Transaction<'_>> {
    Ok(conn.transaction_with_behavior(TransactionBehavior::Immediate)?)
}

/// Make sure the store file exists with mode 0600, or that the existing one is a
/// private regular file.
fn prepare_file(path: &Path) -> Result<()> {
    match fs::symlink_metadata(path) {
        Ok(meta) => {
            if !meta.file_type().is_file() {
                return Err(StoreError::NotAFile { path: path.to_path_buf() });
            }
            check_mode(path, &meta, false)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => create_private_file(path),
        Err(source) => Err(StoreError::Io { action: "inspect", path: path.to_path_buf(), source }),
    }
}

/// Sort an open-time SQLite error into "the file is damaged" or a reportable error.
fn classify(path: &Path, e: rusqlite::Error) -> OpenFailure {
    match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => OpenFailure::Damaged(e.to_string()),
        // "Cannot open" is only the file's fault when we cannot read it either; otherwise
        // it is the environment (no file descriptors left, an unwritable directory for
        // the WAL) and moving a healthy file aside would help nothing.
        Some(ErrorCode::CannotOpen | ErrorCode::PermissionDenied) if !readable_sqlite_or_empty(path) => {
            OpenFailure::Damaged(e.to_string())
        }
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
            OpenFailure::Fatal(StoreError::Busy { path: path.to_path_buf() })
        }
        Some(ErrorCode::ReadOnly) => OpenFailure::Fatal(StoreError::ReadOnly { path: path.to_path_buf() }),
        _ => OpenFailure::Fatal(StoreError::Sqlite(e)),
    }
}

/// Whether the file can be read and starts like an SQLite database (or is empty).
fn readable_sqlite_or_empty(path: &Path) -> bool {
    use std::io::Read;
    let Ok(mut f) = fs::File::open(path) else { return false };
    let mut head = [0u8; 16];
    match f.read(&mut head) {
        Ok(0) => true,
        Ok(n) => n == head.len() && &head == b"SQLite format 3\0",
        Err(_) => false,
    }
}

/// Run the migrations the file has not had yet.
fn migrate(conn: &mut Connection, path: &Path, migrations: &[&str]) -> std::result::Result<(), OpenFailure> {
    let latest = migrations.len() as i64;
    let version: i64 =
        conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(|e| classify(path, e))?;
    if version > latest {
        return Err(StoreError::TooNew { path: path.to_path_buf(), found: version, known: latest }.into());
    }
    if version == 0 {
        let objects: i64 = conn
            .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
            .map_err(|e| classify(path, e))?;
        if objects > 0 {
            return Err(OpenFailure::Damaged("an SQLite file, but not a healing-tui store".into()));
        }
    }
    for (i, sql) in migrations.iter().enumerate() {
        let target = i as i64 + 1;
        if target <= version {
            continue;
        }
        let tx =
            conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(|e| classify(path, e))?;
        // Another process may have migrated while we waited for the lock.
        let now: i64 =
            tx.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(|e| classify(path, e))?;
        if now >= target {
            continue;
        }
        tx.execute_batch(sql).map_err(|e| classify(path, e))?;
        tx.pragma_update(None, "user_version", target).map_err(|e| classify(path, e))?;
        tx.commit().map_err(|e| classify(path, e))?;
    }
    Ok(())
}

/// Record the owner in a fresh store; refuse a store that belongs to someone else.
fn check_owner(conn: &Connection, path: &Path, username: &str) -> std::result::Result<(), OpenFailure> {
    let owner: Option<String> = conn
        .query_row("SELECT value FROM meta WHERE key = 'owner'", [], |r| r.get(0))
        .optional()
        .map_err(|e| classify(path, e))?;
    match owner {
        Some(owner) if owner.eq_ignore_ascii_case(username) => Ok(()),
        Some(owner) => {
            Err(StoreError::WrongAccount { path: path.to_path_buf(), owner, requested: username.to_string() }
                .into())
        }
        None => {
            conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('owner', ?1)", [username])
                .map_err(|e| classify(path, e))?;
            Ok(())
        }
    }
}

/// Copy the outbox and drafts that can still be read from a damaged store file into
/// `store`, row by row (rows before a damaged page are kept). Rows keep their state, so
/// a message caught mid-send is still resolved with the echo check. Columns read here
/// must exist in every schema version.
fn salvage(old: &Path, store: &mut Store) -> Result<(usize, usize)> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let old = Connection::open_with_flags(old, flags)?;
    let read_rows = |sql: &str, width: usize| -> Vec<Vec<Value>> {
        let mut rows = Vec::new();
        let Ok(mut stmt) = old.prepare(sql) else { return rows };
        let Ok(mut cursor) = stmt.query([]) else { return rows };
        while let Ok(Some(row)) = cursor.next() {
            let values: rusqlite::Result<Vec<Value>> = (0..width).map(|i| row.get::<_, Value>(i)).collect();
            match values {
                Ok(v) => rows.push(v),
                Err(_) => continue,
            }
        }
        rows
    };
    let outbox = read_rows(
        "SELECT client_id, recipient, subject, content, created_at, state, attempts, first_attempt_at,
                last_attempt_at, server_id, failure FROM outbox ORDER BY seq",
        11,
    );
    let drafts = read_rows("SELECT peer, text, updated_at FROM drafts", 3);
    let tx = write_tx(&mut store.conn)?;
    let (mut n_out, mut n_drafts) = (0, 0);
    for row in &outbox {
        let ok = tx.execute(
            "INSERT OR IGNORE INTO outbox (client_id, recipient, subject, content, created_at, state, attempts,
                 first_attempt_at, last_attempt_at, server_id, failure)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            params_from_iter(row.iter()),
        );
        n_out += usize::from(matches!(ok, Ok(1)));
    }
    for row in &drafts {
        let ok = tx.execute(
            "INSERT OR IGNORE INTO drafts (peer, text, updated_at) VALUES (?1, ?2, ?3)",
            params_from_iter(row.iter()),
        );
        n_drafts += usize::from(matches!(ok, Ok(1)));
    }
    tx.commit()?;
    Ok((n_out, n_drafts))
}

/// Rename the store (and its `-wal`/`-shm` companions) to `<name>.corrupt-<UTC time>`,
/// adding `-2`, `-3`, ... if that name is taken. Returns the new path of the main file.
fn move_aside(path: &Path) -> Result<PathBuf> {
    let stamp = Utc::now().format("%Y%m%dT%H%M%SZ");
    let base = format!("{}.corrupt-{stamp}", path.display());
    let mut target = PathBuf::from(&base);
    let mut n = 2;
    while target.exists() {
        target = PathBuf::from(format!("{base}-{n}"));
        n += 1;
    }
    fs::rename(path, &target).map_err(|source| StoreError::Io {
        action: "move aside the damaged store",
        path: path.to_path_buf(),
        source,
    })?;
    for suffix in ["-wal", "-shm"] {
        let from = PathBuf::from(format!("{}{suffix}", path.display()));
        if from.exists() {
            let to = PathBuf::from(format!("{}{suffix}", target.display()));
            fs::rename(&from, &to).map_err(|source| StoreError::Io {
                action: "move aside the damaged store's",
                path: from.clone(),
                source,
            })?;
        }
    }
    Ok(target)
}

/// UTC time to the stored form (unix microseconds).
pub(crate) fn to_micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

/// Stored unix microseconds back to UTC; `None` when out of range.
pub(crate) fn from_micros(us: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_micros(us)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::schema::LATEST;

    #[test]
    fn fresh_store_is_migrated_and_owned() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a").join("store.sqlite3");
        let opened = Store::open(&path, "alex").unwrap();
        assert!(opened.recovered.is_none());
        assert_eq!(opened.store.schema_version().unwrap(), LATEST);
        assert_eq!(opened.store.check_integrity().unwrap(), None);
        drop(opened);
        let err = Store::open(&path, "sam").unwrap_err();
        assert!(matches!(err, StoreError::WrongAccount { .. }), "{err}");
        // Same user, other ASCII case: same account.
        assert!(Store::open(&path, "Alex").is_ok());
    }

    #[test]
    fn too_new_is_refused_not_moved() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("acct").join("store.sqlite3");
        drop(Store::open(&path, "alex").unwrap());
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", LATEST + 5).unwrap();
        drop(conn);
        let err = Store::open(&path, "alex").unwrap_err();
        assert!(matches!(err, StoreError::TooNew { .. }), "{err}");
        assert!(err.to_string().contains("upgrade"));
        assert!(path.exists());
    }

    #[test]
    fn foreign_sqlite_file_is_moved_aside() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("acct").join("store.sqlite3");
        crate::store::paths::ensure_private_dir(path.parent().unwrap()).unwrap();
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch("CREATE TABLE other (x)").unwrap();
        drop(conn);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        }
        let opened = Store::open(&path, "alex").unwrap();
        let rec = opened.recovered.unwrap();
        assert!(rec.reason.contains("not a healing-tui store"));
        assert!(rec.moved_to.exists());
    }

    #[test]
    fn later_migrations_run_forward_and_keep_data() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("acct").join("store.sqlite3");
        let mut s = Store::open(&path, "alex").unwrap().store;
        s.save_draft("sam", "kept").unwrap();
        drop(s);
        let mut conn = Connection::open(&path).unwrap();
        let mut next: Vec<&str> = MIGRATIONS.to_vec();
        next.push("ALTER TABLE drafts ADD COLUMN cursor INTEGER NOT NULL DEFAULT 0;");
        next.push("CREATE TABLE later (x INTEGER);");
        assert!(migrate(&mut conn, &path, &next).is_ok());
        let v: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
        assert_eq!(v, LATEST + 2);
        let (text, cursor): (String, i64) = conn
            .query_row("SELECT text, cursor FROM drafts WHERE peer = 'sam'", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        assert_eq!((text.as_str(), cursor), ("kept", 0));
        // Running again is a no-op.
        assert!(migrate(&mut conn, &path, &next).is_ok());
        // A failing migration leaves the previous version intact.
        next.push("THIS IS NOT SQL;");
        assert!(migrate(&mut conn, &path, &next).is_err());
        let v: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
        assert_eq!(v, LATEST + 2);
    }

    #[test]
    fn readable_check() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        assert!(!readable_sqlite_or_empty(&p), "missing");
        fs::write(&p, b"").unwrap();
        assert!(readable_sqlite_or_empty(&p));
        fs::write(&p, b"definitely not sqlite at all").unwrap();
        assert!(!readable_sqlite_or_empty(&p));
        let db = dir.path().join("db");
        Connection::open(&db).unwrap().execute_batch("CREATE TABLE t (x)").unwrap();
        assert!(readable_sqlite_or_empty(&db));
    }

    #[test]
    fn micros_round_trip() {
        let t = Utc::now();
        assert_eq!(from_micros(to_micros(t)).unwrap().timestamp_micros(), t.timestamp_micros());
    }
}
