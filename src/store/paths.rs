//! Where an account's store lives, and owner-only permissions on it.
//!
//! Layout: `<data_dir>/accounts/<host_port>/<username>/store.sqlite3`. Both path
//! components are encoded so that any server URL and any username give one safe,
//! distinct directory name (no `/`, no `..`, no case collisions on case-insensitive
//! file systems, bounded length).

use std::fs;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::error::{Result, StoreError};

/// File name of the SQLite store inside an account directory.
pub const STORE_FILE: &str = "store.sqlite3";

/// Longest encoded component kept verbatim; longer ones are cut and given a hash suffix
/// (file names are limited to 255 bytes on common file systems).
const MAX_COMPONENT: usize = 120;

/// The directory holding everything stored for one (server, username):
/// `<data_dir>/accounts/<host_port>/<username>`. `logout --forget` removes it.
pub fn account_dir(data_dir: &Path, server_url: &str, username: &str) -> PathBuf {
    data_dir.join("accounts").join(server_component(server_url)).join(encode_component(username))
}

/// Path of the SQLite store for one (server, username), inside [`account_dir`].
pub fn store_path(data_dir: &Path, server_url: &str, username: &str) -> PathBuf {
    account_dir(data_dir, server_url, username).join(STORE_FILE)
}

/// Delete everything stored for one (server, username) — `logout --forget`. Close
/// that account's [`crate::store::Store`] first. Returns whether there was anything to
/// delete.
pub fn forget_account(data_dir: &Path, server_url: &str, username: &str) -> Result<bool> {
    let dir = account_dir(data_dir, server_url, username);
    match fs::remove_dir_all(&dir) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(source) => Err(StoreError::Io { action: "delete", path: dir, source }),
    }
}

/// `host_port` for a server URL, encoded. The scheme is left out on purpose: the same
/// host and port is the same account whichever scheme reached it. Text that is not a
/// URL is encoded whole, so a typo never maps onto another server's directory.
fn server_component(server_url: &str) -> String {
    let trimmed = server_url.trim();
    let parsed = url::Url::parse(trimmed)
        .ok()
        .filter(|u| u.host_str().is_some())
        .or_else(|| url::Url::parse(&format!("https://{trimmed}")).ok().filter(|u| u.host_str().is_some()));
    match parsed {
        Some(u) => {
            let host = u.host_str().unwrap_or_default().to_ascii_lowercase();
            match u.port_or_known_default() {
                Some(port) => encode_component(&format!("{host}_{port}")),
                None => encode_component(&host),
            }
        }
        None => encode_component(&trimmed.to_ascii_lowercase()),
    }
}

/// Encode any text as one file-system-safe path component, injectively.
///
/// Kept as is: `a-z 0-9 _ -` and `.` except in first place. Everything else, including
/// upper-case letters (so `Alex` and `alex` differ on case-insensitive file systems),
/// becomes `%XX` per UTF-8 byte. The empty string becomes `%` (no other input gives a
/// lone `%`). Results longer than 120 bytes are cut and suffixed with a hash of
/// the whole input, which keeps them distinct.
pub fn encode_component(text: &str) -> String {
    if text.is_empty() {
        return "%".to_string();
    }
    let mut out = String::with_capacity(text.len());
    for (i, b) in text.bytes().enumerate() {
        let keep =
            b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-' || (b == b'.' && i > 0);
        if keep {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    if out.len() > MAX_COMPONENT {
        let digest = hex::encode(Sha256::digest(text.as_bytes()));
        // Cut on a char boundary (the output is ASCII, so any index is one).
        out.truncate(MAX_COMPONENT - 17);
        out.push('~');
        out.push_str(&digest[..16]);
    }
    out
}

/// Create `dir` and any missing parents with mode 0700, and refuse an existing `dir`
/// that others can access. Parents that already exist are left alone: the data
/// directory may be one the user chose and shares on purpose.
pub(crate) fn ensure_private_dir(dir: &Path) -> Result<()> {
    let mut missing = Vec::new();
    let mut cur = Some(dir);
    while let Some(p) = cur {
        if p.as_os_str().is_empty() || p.exists() {
            break;
        }
        missing.push(p.to_path_buf());
        cur = p.parent();
    }
    for p in missing.iter().rev() {
        match create_dir_0700(p) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(source) => return Err(StoreError::Dir { path: p.clone(), source }),
        }
    }
    let meta = fs::metadata(dir).map_err(|source| StoreError::Dir { path: dir.to_path_buf(), source })?;
    if !meta.is_dir() {
        return Err(StoreError::Dir {
            path: dir.to_path_buf(),
            source: std::io::Error::other("exists but is not a directory"),
        });
    }
    check_mode(dir, &meta, true)
}

#[cfg(unix)]
fn create_dir_0700(p: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    fs::DirBuilder::new().mode(0o700).create(p)?;
    // The umask may have removed bits but never adds any; set the mode explicitly anyway
    // so the result does not depend on the environment.
    fs::set_permissions(p, fs::Permissions::from_mode(0o700))
}

#[cfg(not(unix))]
fn create_dir_0700(p: &Path) -> std::io::Result<()> {
    fs::create_dir(p)
}

/// Refuse `path` when group or others have any access to it.
#[cfg(unix)]
pub(crate) fn check_mode(path: &Path, meta: &fs::Metadata, is_dir: bool) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        let fix = if is_dir {
            format!("chmod 700 {}", shell_quote(path))
        } else {
            format!("chmod 600 {}", shell_quote(path))
        };
        return Err(StoreError::TooOpen { path: path.to_path_buf(), mode, fix });
    }
    Ok(())
}

/// Permission bits are a Unix notion; elsewhere the platform's per-user data
/// directory is what keeps the store private.
#[cfg(not(unix))]
pub(crate) fn check_mode(_path: &Path, _meta: &fs::Metadata, _is_dir: bool) -> Result<()> {
    Ok(())
}

/// Create an empty file with mode 0600 (an empty file is a valid empty SQLite
/// database), so SQLite never creates it with the umask's default mode.
pub(crate) fn create_private_file(path: &Path) -> Result<()> {
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    match opts.open(path) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(source) => return Err(StoreError::Io { action: "create", path: path.to_path_buf(), source }),
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(0o600)).map_err(|source| StoreError::Io {
            action: "set permissions on",
            path: path.to_path_buf(),
            source,
        })?;
    }
    Ok(())
}

/// Quote a path for a shell command line when it needs it (the hint must be
/// copy-pasteable even for a data directory with spaces).
fn shell_quote(path: &Path) -> String {
    let s = path.display().to_string();
    let plain = s.bytes().all(|b| b.is_ascii_alphanumeric() || b"/._-%~+,:@".contains(&b));
    if plain && !s.is_empty() {
        s
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components_are_safe_and_distinct() {
        assert_eq!(encode_component("alex"), "alex");
        assert_eq!(encode_component("dr_morgan"), "dr_morgan");
        assert_ne!(encode_component("Alex"), encode_component("alex"));
        assert_eq!(encode_component(".."), "%2E.");
        assert_eq!(encode_component("a/b"), "a%2Fb");
        assert_eq!(encode_component(""), "%");
        assert_ne!(encode_component("%"), encode_component(""));
        for name in ["..", ".", "a/../b", "x\0y", "é", "😀", "CON", "a b"] {
            let c = encode_component(name);
            assert!(!c.contains('/') && !c.contains('\0') && c != "." && c != "..", "{name:?} -> {c}");
        }
    }

    #[test]
    fn long_components_are_bounded_and_distinct() {
        let a = "x".repeat(500);
        let b = format!("{}y", "x".repeat(499));
        let (ea, eb) = (encode_component(&a), encode_component(&b));
        assert!(ea.len() <= MAX_COMPONENT && eb.len() <= MAX_COMPONENT);
        assert_ne!(ea, eb);
    }

    #[test]
    fn server_components() {
        assert_eq!(server_component("https://healing.example.com"), "healing.example.com_443");
        assert_eq!(server_component("http://127.0.0.1:8080/"), "127.0.0.1_8080");
        assert_eq!(server_component("HTTPS://Healing.Example.com/api"), "healing.example.com_443");
        assert_eq!(server_component("healing.example.com"), "healing.example.com_443");
        assert_eq!(server_component("http://[::1]:9000"), "%5B%3A%3A1%5D_9000");
    }

    #[test]
    fn store_path_layout() {
        let p = store_path(Path::new("/data"), "http://localhost:3000", "sam");
        assert_eq!(p, Path::new("/data/accounts/localhost_3000/sam/store.sqlite3"));
        assert_eq!(
            p.parent(),
            Some(account_dir(Path::new("/data"), "http://localhost:3000", "sam").as_path())
        );
    }

    #[test]
    fn quoting() {
        assert_eq!(shell_quote(Path::new("/a/b.sqlite3")), "/a/b.sqlite3");
        assert_eq!(shell_quote(Path::new("/a b/it's")), r"'/a b/it'\''s'");
    }
}
