//! Compose drafts on disk, in the account's local store (`store::Store`): opened once
//! the account is known (after login), written on every change that matters and on
//! SIGHUP/SIGTERM, read back at the next login.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use crate::app::state::State;
use crate::store::Store;

/// Where drafts go: the account's store, or nowhere (tests, no data directory).
pub struct Drafts {
    data_dir: Option<PathBuf>,
    /// Shared with the effect runner (cache, outbox): one connection per account.
    store: Option<Arc<Mutex<Store>>>,
}

impl Drafts {
    /// Drafts kept under `data_dir` (per account); `None` keeps them in memory only.
    pub fn new(data_dir: Option<PathBuf>) -> Drafts {
        Drafts { data_dir, store: None }
    }

    /// Open the store of `username` on `server`; returns its saved drafts, and a
    /// message for people when the store had to be recovered or could not be opened.
    pub fn open(&mut self, server: &str, username: &str) -> (Vec<(String, String)>, Option<String>) {
        let Some(dir) = &self.data_dir else { return (Vec::new(), None) };
        self.store = None;
        match Store::open_account(dir, server, username) {
            Ok(opened) => {
                let note = opened.recovered.as_ref().map(|r| r.message());
                let saved = match opened.store.all_drafts() {
                    Ok(d) => d.into_iter().map(|d| (d.with_user, d.text)).collect(),
                    Err(e) => {
                        tracing::warn!(error = %e, "could not read drafts");
                        Vec::new()
                    }
                };
                self.store = Some(Arc::new(Mutex::new(opened.store)));
                (saved, note)
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not open the local store");
                (Vec::new(), Some(format!("drafts are not kept on disk: {e}")))
            }
        }
    }

    /// The account's store, once opened, for the runner's cache and outbox.
    pub fn shared(&self) -> Option<Arc<Mutex<Store>>> {
        self.store.clone()
    }

    /// Keep `text` as the draft for `user` (empty text clears it).
    pub fn save(&mut self, user: &str, text: &str) {
        if let Some(store) = self.store.as_ref() {
            // Each store write is one committed transaction: a poisoned lock still guards
            // consistent data.
            let mut store = store.lock().unwrap_or_else(|e| e.into_inner());
            if let Err(e) = store.save_draft(user, text) {
                tracing::warn!(error = %e, "could not save a draft");
            }
        }
    }

    /// Keep every draft in `state` (on the way out).
    pub fn save_all(&mut self, state: &State) {
        for (user, d) in &state.drafts {
            self.save(user, &d.text);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drafts_survive_a_restart_per_account() {
        let dir = tempfile::tempdir().unwrap();
        let mut d = Drafts::new(Some(dir.path().to_path_buf()));
        let (saved, note) = d.open("http://127.0.0.1:8700/", "alex");
        assert!(saved.is_empty() && note.is_none());
        d.save("sam", "half a thought");
        d.save("jo", "gone");
        d.save("jo", "");
        let mut again = Drafts::new(Some(dir.path().to_path_buf()));
        let (saved, _) = again.open("http://127.0.0.1:8700/", "alex");
        assert_eq!(saved, vec![("sam".to_owned(), "half a thought".to_owned())]);
        let (other, _) = again.open("http://127.0.0.1:8700/", "sam");
        assert!(other.is_empty(), "another account has its own drafts");
    }

    #[test]
    fn without_a_data_dir_nothing_is_written() {
        let mut d = Drafts::new(None);
        assert!(d.open("http://x/", "alex").0.is_empty());
        d.save("sam", "x");
    }
}
