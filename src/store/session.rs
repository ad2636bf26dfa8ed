//! The saved login: `session.json` in the config dir.
//!
//! It holds the server URL, who is logged in, the session cookies and the CSRF token,
//! never the password or PIN. The directory is created 0700 and the file written 0600,
//! atomically (temp file in the same directory, fsync, rename), so a crash never leaves
//! half a session. A file that group or others can read is refused with the exact
//! `chmod` to run: a cookie there is as good as the password.

use std::fs;
use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::model::time::Timestamp;

/// The file name inside the config dir.
pub const SESSION_FILE: &str = "session.json";

pub use crate::model::session::{Session, SessionCookie};

/// Why the session file could not be read or written.
#[derive(Debug, Error)]
pub enum SessionError {
    /// Reading, writing or creating failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory concerned.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The file is readable by group or others.
    #[error("{} is readable by other users; run: chmod 600 {}", path.display(), path.display())]
    TooOpen {
        /// The session file.
        path: PathBuf,
    },
    /// The file is not a session.
    #[error("{} is not a valid session file ({reason}); log in again", path.display())]
    Corrupt {
        /// The session file.
        path: PathBuf,
        /// What was wrong.
        reason: String,
    },
}

impl Session {
    /// Where the session lives inside `config_dir`.
    pub fn path(config_dir: &Path) -> PathBuf {
        config_dir.join(SESSION_FILE)
    }

    /// Read the session from `config_dir`; `Ok(None)` when there is none.
    pub fn load(config_dir: &Path) -> Result<Option<Session>, SessionError> {
        let path = Session::path(config_dir);
        let meta = match fs::metadata(&path) {
            Ok(meta) => meta,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(SessionError::Io { path, source }),
        };
        check_private(&path, &meta)?;
        let text =
            fs::read_to_string(&path).map_err(|source| SessionError::Io { path: path.clone(), source })?;
        let session: Session = serde_json::from_str(&text)
            .map_err(|e| SessionError::Corrupt { path: path.clone(), reason: e.to_string() })?;
        if session.server.is_empty() || session.username.is_empty() {
            return Err(SessionError::Corrupt { path, reason: "no server or username".into() });
        }
        Ok(Some(session))
    }

    /// Write the session into `config_dir` (created 0700), as a 0600 file, atomically.
    pub fn save(&self, config_dir: &Path) -> Result<(), SessionError> {
        let io = |source| SessionError::Io { path: config_dir.to_path_buf(), source };
        crate::model::private::create_private_dir(config_dir).map_err(io)?;
        let path = Session::path(config_dir);
        let mut stamped = self.clone();
        stamped.saved_at = Some(Timestamp::now());
        let json = serde_json::to_vec_pretty(&stamped)
            .map_err(|e| SessionError::Corrupt { path: path.clone(), reason: e.to_string() })?;
        crate::model::private::write_private_atomic(&path, &json)
            .map_err(|source| SessionError::Io { path, source })
    }

    /// Delete the session file; no error when there is none.
    pub fn remove(config_dir: &Path) -> Result<(), SessionError> {
        let path = Session::path(config_dir);
        match fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(SessionError::Io { path, source }),
        }
    }
}

#[cfg(unix)]
fn check_private(path: &Path, meta: &fs::Metadata) -> Result<(), SessionError> {
    use std::os::unix::fs::PermissionsExt;
    if meta.permissions().mode() & 0o077 != 0 {
        return Err(SessionError::TooOpen { path: path.to_path_buf() });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_path: &Path, _meta: &fs::Metadata) -> Result<(), SessionError> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Session {
        Session {
            server: "http://127.0.0.1:5055/".into(),
            username: "alex".into(),
            role: "user".into(),
            cookies: vec![SessionCookie {
                name: "session".into(),
                value: "s3cr3t-cookie".into(),
                host: "127.0.0.1".into(),
                path: "/".into(),
                expires: Some(1_900_000_000),
                secure: true,
            }],
            csrf_token: Some("tok-abc".into()),
            saved_at: None,
        }
    }

    #[test]
    fn round_trip_and_modes() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("nested").join("cfg");
        sample().save(&cfg).unwrap();
        let loaded = Session::load(&cfg).unwrap().unwrap();
        assert_eq!(loaded.cookies, sample().cookies);
        assert_eq!(loaded.csrf_token.as_deref(), Some("tok-abc"));
        assert!(loaded.saved_at.is_some());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let f = fs::metadata(Session::path(&cfg)).unwrap().permissions().mode() & 0o777;
            let d = fs::metadata(&cfg).unwrap().permissions().mode() & 0o777;
            assert_eq!((f, d), (0o600, 0o700));
        }
        // No stray temp files.
        let names: Vec<_> = fs::read_dir(&cfg).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, vec![std::ffi::OsString::from(SESSION_FILE)]);
    }

    #[test]
    fn missing_is_none_and_remove_is_idempotent() {
        let dir = tempfile::tempdir().unwrap();
        assert!(Session::load(dir.path()).unwrap().is_none());
        Session::remove(dir.path()).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn too_open_is_refused_with_chmod_hint() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        sample().save(dir.path()).unwrap();
        let path = Session::path(dir.path());
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let err = Session::load(dir.path()).unwrap_err();
        assert!(matches!(err, SessionError::TooOpen { .. }));
        assert!(err.to_string().contains(&format!("chmod 600 {}", path.display())));
    }

    #[test]
    fn corrupt_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        crate::model::private::write_private_atomic(&Session::path(dir.path()), b"{not json").unwrap();
        assert!(matches!(Session::load(dir.path()), Err(SessionError::Corrupt { .. })));
    }

    #[test]
    fn debug_hides_secrets() {
        let d = format!("{:?}", sample());
        assert!(!d.contains("s3cr3t-cookie") && !d.contains("tok-abc"));
    }
}
