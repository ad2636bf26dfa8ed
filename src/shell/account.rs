//! The account's local store as the runner opens, feeds and closes it. It is opened on
//! its own thread at login ([`crate::store::StoreHandle`]); its drafts come back as
//! `DraftsLoaded`; drafts are saved through it; at exit every write queued so far is
//! awaited. The event loop holds no handle: no frame ever waits on disk.

use std::path::PathBuf;

use tokio::sync::mpsc::UnboundedSender;

use crate::app::action::Action;
use crate::shell::local::Shared;
use crate::shell::runner::Runner;
use crate::shell::service::Connect;
use crate::store::{StoreError, StoreHandle};

/// Where accounts' stores are kept.
#[derive(Debug, Clone, Default)]
pub struct Accounts {
    /// The data directory; `None` keeps nothing on disk (drafts live in memory only).
    data_dir: Option<PathBuf>,
    /// Test hook: each store call waits this long first (a slow disk).
    #[cfg(test)]
    pub slow: Option<std::time::Duration>,
}

impl Accounts {
    /// Stores kept under `data_dir` (one per account).
    pub fn new(data_dir: Option<PathBuf>) -> Accounts {
        Accounts {
            data_dir,
            #[cfg(test)]
            slow: None,
        }
    }
}

/// Open the store of `username` on `server` for `runner` and start the live link. The
/// store is in use at once (calls wait for the opening on its thread), so the cache and
/// outbox effects of the login that follow find it; drafts and any note come back as
/// actions on `tx`.
pub fn open<C: Connect>(
    runner: &Runner<C>,
    accounts: &Accounts,
    tx: &UnboundedSender<Action>,
    server: &str,
    username: &str,
) {
    let Some(dir) = &accounts.data_dir else {
        runner.set_store(None);
        runner.start_polling();
        let _ = tx.send(Action::DraftsLoaded(Vec::new()));
        return;
    };
    let (store, opened) = StoreHandle::open_account(dir, server, username);
    #[cfg(test)]
    if let Some(per_call) = accounts.slow {
        store.slow_down(per_call);
    }
    let drafts = store.call(|s| s.all_drafts());
    runner.set_store(Some(store));
    runner.start_polling();
    let tx = tx.clone();
    tokio::spawn(async move {
        let note = match opened.await {
            Ok(recovered) => recovered.map(|r| r.message()),
            Err(e) => {
                tracing::warn!(error = %e, "could not open the local store");
                Some(format!("drafts are not kept on disk: {e}; messages still go, through an outbox kept for this run only"))
            }
        };
        let saved = match drafts.await {
            Ok(d) => d.into_iter().map(|d| (d.with_user, d.text)).collect(),
            // Said once by the note above.
            Err(StoreError::Gone) => Vec::new(),
            Err(e) => {
                tracing::warn!(error = %e, "could not read drafts");
                Vec::new()
            }
        };
        let _ = tx.send(Action::DraftsLoaded(saved));
        if let Some(note) = note {
            let _ = tx.send(Action::Info(note));
        }
    });
}

/// Keep `text` as the draft for `user` (empty text clears it). Queued now, in order
/// with every other store call; nobody waits for it.
pub fn save_draft(store: Option<Shared>, user: String, text: String) {
    let Some(store) = store else { return };
    drop(store.call(move |s| {
        if let Err(e) = s.save_draft(&user, &text) {
            tracing::warn!(error = %e, "could not save a draft");
        }
        Ok(())
    }));
}

/// Resolves when every store call made so far is done (at exit: nothing is lost).
pub async fn close(store: Option<Shared>) {
    if let Some(store) = store {
        store.settled().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn drafts_of(dir: &std::path::Path, user: &str) -> Vec<(String, String)> {
        let (store, _) = StoreHandle::open_account(dir, "http://127.0.0.1:8700/", user);
        let drafts = store.call(|s| s.all_drafts()).await.unwrap();
        drafts.into_iter().map(|d| (d.with_user, d.text)).collect()
    }

    #[tokio::test]
    async fn drafts_survive_a_restart_per_account() {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = StoreHandle::open_account(dir.path(), "http://127.0.0.1:8700/", "alex");
        save_draft(Some(store.clone()), "sam".into(), "half a thought".into());
        save_draft(Some(store.clone()), "jo".into(), "gone".into());
        save_draft(Some(store.clone()), "jo".into(), String::new());
        close(Some(store)).await;
        assert_eq!(
            drafts_of(dir.path(), "alex").await,
            vec![("sam".to_owned(), "half a thought".to_owned())]
        );
        assert!(drafts_of(dir.path(), "sam").await.is_empty(), "another account has its own drafts");
    }

    #[tokio::test]
    async fn without_a_store_nothing_is_written() {
        save_draft(None, "sam".into(), "x".into());
        close(None).await;
    }
}
