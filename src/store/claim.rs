//! Send claims: which process may send a conversation's queue right now.
//!
//! One account's outbox can be shared by several processes (a TUI, a `send` one-liner,
//! `outbox --flush` from cron). Against a server that ignores `Idempotency-Key`
//! (production), two of them sending the same head message would store it twice. So a
//! message is only sent (and only checked for an earlier copy) while its conversation is
//! claimed: an exclusive OS lock (`flock`) on a small file beside the store, one file per
//! conversation. The kernel drops the lock when the process ends however it ends (crash,
//! `kill -9`), so a claim never outlives its holder, and a stopped or hung holder keeps
//! it, so nobody sends behind its back. The files are never deleted (deleting a locked
//! file lets a second process lock a new file of the same name).

use std::fs::{File, OpenOptions};
use std::path::PathBuf;

use sha2::{Digest, Sha256};

use super::db::Store;
use super::error::{Result, StoreError};
use super::paths::ensure_private_dir;

/// Where the claim files live, inside the account's directory.
const CLAIM_DIR: &str = "send-claims";

/// An exclusive claim on sending one conversation's queue; released on drop (or when
/// the process ends).
#[derive(Debug)]
pub struct SendClaim {
    // Held only for its lock: closing the file releases it.
    _file: File,
    recipient: String,
}

impl SendClaim {
    /// The conversation claimed.
    pub fn recipient(&self) -> &str {
        &self.recipient
    }
}

impl Store {
    /// The file whose lock is the claim on `recipient`'s queue. Usernames compare
    /// without ASCII case, as the server does, and are hashed so any name makes a
    /// valid file name.
    fn claim_path(&self, recipient: &str) -> PathBuf {
        let digest = Sha256::digest(recipient.to_ascii_lowercase().as_bytes());
        let dir = self.path.parent().map(|p| p.join(CLAIM_DIR)).unwrap_or_else(|| PathBuf::from(CLAIM_DIR));
        dir.join(format!("{}.lock", hex::encode(&digest[..12])))
    }

    /// Claim `recipient`'s queue for sending, without waiting: `None` when another
    /// process (or another task of this one) holds it.
    pub fn try_claim(&self, recipient: &str) -> Result<Option<SendClaim>> {
        let path = self.claim_path(recipient);
        if let Some(dir) = path.parent() {
            ensure_private_dir(dir)?;
        }
        let mut opts = OpenOptions::new();
        opts.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let file = opts.open(&path).map_err(|source| StoreError::Io {
            action: "open",
            path: path.clone(),
            source,
        })?;
        match try_lock(&file) {
            Ok(true) => Ok(Some(SendClaim { _file: file, recipient: recipient.to_string() })),
            Ok(false) => Ok(None),
            Err(source) => Err(StoreError::Io { action: "lock", path, source }),
        }
    }
}

/// Take the file's exclusive lock without waiting: `false` when someone else holds it.
#[cfg(unix)]
fn try_lock(file: &File) -> std::io::Result<bool> {
    use rustix::fs::{flock, FlockOperation};
    match flock(file, FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => Ok(true),
        Err(e) if e == rustix::io::Errno::WOULDBLOCK => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Without `flock`, claims are not shared between processes: one process per account.
#[cfg(not(unix))]
fn try_lock(_file: &File) -> std::io::Result<bool> {
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_claim_per_conversation_until_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("account").join("store.sqlite3");
        let a = Store::open(&path, "alex").unwrap().store;
        let b = Store::open(&path, "alex").unwrap().store;
        let held = a.try_claim("sam").unwrap().expect("free at first");
        assert_eq!(held.recipient(), "sam");
        assert!(b.try_claim("sam").unwrap().is_none(), "held by the other store");
        assert!(b.try_claim("SAM").unwrap().is_none(), "usernames ignore case");
        assert!(a.try_claim("sam").unwrap().is_none(), "not re-entrant either");
        let other = b.try_claim("dr_morgan").unwrap();
        assert!(other.is_some(), "other conversations are free");
        drop(held);
        assert!(b.try_claim("sam").unwrap().is_some(), "released on drop");
    }
}
