//! One owner for an account's store: the [`Store`] lives on a thread of its own and is
//! reached only through a [`StoreHandle`], whose calls are queued in order and answered
//! as futures. Whoever waits for SQLite is a task that asked, never the screen: the
//! event loop holds no handle at all.
//!
//! Calls are run one at a time in the order they were made (a draft saved twice keeps
//! the second text); the job is queued when the call is made, not when its answer is
//! awaited, so a caller that does not wait (a draft save) still keeps its place.

use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::task::{Context, Poll};

use tokio::sync::oneshot;

use crate::store::{Recovery, Store, StoreError};

/// One call: run on the owner's thread with the store (`None`: it could not be opened).
type Job = Box<dyn FnOnce(&mut Option<Store>) + Send>;

/// A handle on the thread that owns an account's store. Clones share the one store.
#[derive(Clone)]
pub struct StoreHandle {
    jobs: mpsc::Sender<Job>,
    /// Set once it is known there is no store (it could not be opened, or its thread
    /// could not start).
    gone: Arc<AtomicBool>,
    /// The temporary directory of a stand-in store, kept as long as a handle is.
    scratch: Arc<Mutex<Option<tempfile::TempDir>>>,
    /// Test hook: how long the owner waits before each job (a slow disk).
    #[cfg(test)]
    delay: Arc<std::sync::atomic::AtomicU64>,
    /// Test hook: how many calls were made through any handle of this store, so a test
    /// can tell when a chain of store answers starting further calls has ended.
    #[cfg(test)]
    calls: Arc<std::sync::atomic::AtomicUsize>,
}

impl std::fmt::Debug for StoreHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StoreHandle")
    }
}

/// The answer to one call; `Err(StoreError::Gone)` when the store is not there (it
/// could not be opened, or its owner stopped).
pub struct Reply<T>(Option<oneshot::Receiver<Result<T, StoreError>>>);

impl<T> Future for Reply<T> {
    type Output = Result<T, StoreError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.0.as_mut() {
            None => Poll::Ready(Err(StoreError::Gone)),
            Some(rx) => Pin::new(rx).poll(cx).map(|r| r.unwrap_or(Err(StoreError::Gone))),
        }
    }
}

impl StoreHandle {
    /// Own `store` on a new thread.
    pub fn new(store: Store) -> StoreHandle {
        StoreHandle::start(Some(store))
    }

    /// Open the store of `username` on `server` under `dir` on its owner's thread. The
    /// handle is usable at once: calls made meanwhile wait for the opening. The reply
    /// says whether a damaged file had to be moved aside, or why the account's store could
    /// not be opened: then a stand-in (see [`StoreHandle::stand_in`]) takes its place for
    /// this run, so messages still go through an outbox.
    pub fn open_account(dir: &Path, server: &str, username: &str) -> (StoreHandle, Reply<Option<Recovery>>) {
        let handle = StoreHandle::start(None);
        let (dir, server, username) = (dir.to_path_buf(), server.to_owned(), username.to_owned());
        let (gone, scratch) = (handle.gone.clone(), handle.scratch.clone());
        let opened = handle.queue(move |slot| match Store::open_account(&dir, &server, &username) {
            Ok(opened) => {
                *slot = Some(opened.store);
                Ok(opened.recovered)
            }
            Err(e) => {
                *slot = open_stand_in(&username, &scratch);
                gone.store(slot.is_none(), Ordering::Relaxed);
                Err(e)
            }
        });
        (handle, opened)
    }

    /// A store for this run only, in a fresh private temporary directory (removed when
    /// the last handle goes): for a client with no data directory, or whose account
    /// store cannot be opened. Opened on the owner's thread like any other.
    pub fn stand_in(username: &str) -> StoreHandle {
        let handle = StoreHandle::start(None);
        let (username, gone, scratch) = (username.to_owned(), handle.gone.clone(), handle.scratch.clone());
        drop(handle.queue(move |slot| {
            *slot = open_stand_in(&username, &scratch);
            gone.store(slot.is_none(), Ordering::Relaxed);
            Ok(())
        }));
        handle
    }

    fn start(store: Option<Store>) -> StoreHandle {
        let (jobs, queue) = mpsc::channel::<Job>();
        let handle = StoreHandle {
            jobs,
            gone: Arc::default(),
            scratch: Arc::default(),
            #[cfg(test)]
            delay: Arc::default(),
            #[cfg(test)]
            calls: Arc::default(),
        };
        #[cfg(test)]
        let delay = handle.delay.clone();
        let owner = move || {
            let mut store = store;
            // Ends when the last handle is gone (the store closes with it).
            while let Ok(job) = queue.recv() {
                #[cfg(test)]
                std::thread::sleep(std::time::Duration::from_millis(
                    delay.load(std::sync::atomic::Ordering::Relaxed),
                ));
                // Each write is one committed transaction, so a call that panicked left
                // consistent data: the owner goes on serving the others.
                let run = std::panic::AssertUnwindSafe(|| job(&mut store));
                if std::panic::catch_unwind(run).is_err() {
                    tracing::error!("a local store call panicked");
                }
            }
        };
        if let Err(e) = std::thread::Builder::new().name("store".into()).spawn(owner) {
            // Every call then answers `Gone`: the client works on without a cache.
            tracing::warn!(error = %e, "could not start the local store's thread");
            handle.gone.store(true, Ordering::Relaxed);
        }
        handle
    }

    fn queue<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Option<Store>) -> Result<T, StoreError> + Send + 'static,
    ) -> Reply<T> {
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move |store| {
            // Nobody waiting for the answer (a fire-and-forget write) is fine.
            let _ = tx.send(f(store));
        });
        match self.jobs.send(job) {
            Ok(()) => Reply(Some(rx)),
            Err(_) => Reply(None),
        }
    }

    /// Run `f` on the store, after every call made before this one.
    pub fn call<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Store) -> Result<T, StoreError> + Send + 'static,
    ) -> Reply<T> {
        #[cfg(test)]
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.queue(move |slot| match slot {
            Some(store) => f(store),
            None => Err(StoreError::Gone),
        })
    }

    /// Whether `other` reaches the same store as this handle (tests check which store a
    /// runner took).
    #[cfg(test)]
    pub fn is_same(&self, other: &StoreHandle) -> bool {
        Arc::ptr_eq(&self.gone, &other.gone)
    }

    /// Whether it is known that there is no store (every call answers `Gone`); `false`
    /// while it is still being opened.
    pub fn is_gone(&self) -> bool {
        self.gone.load(Ordering::Relaxed)
    }

    /// Resolves when every call made before this one is done (writes committed).
    pub fn settled(&self) -> impl Future<Output = ()> {
        let done = self.queue(|_| Ok(()));
        async move {
            let _ = done.await;
        }
    }

    /// Test hook: how many calls have been made on this store so far.
    #[cfg(test)]
    pub fn calls_made(&self) -> usize {
        self.calls.load(Ordering::Relaxed)
    }

    /// Test hook: make every later call wait `per_call` first, like a slow disk.
    #[cfg(test)]
    pub fn slow_down(&self, per_call: std::time::Duration) {
        let ms = u64::try_from(per_call.as_millis()).unwrap_or(u64::MAX);
        self.delay.store(ms, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Open a stand-in store in a new private temporary directory, kept in `scratch`.
fn open_stand_in(username: &str, scratch: &Mutex<Option<tempfile::TempDir>>) -> Option<Store> {
    let opened =
        tempfile::Builder::new().prefix("healing-tui-outbox-").tempdir().map_err(|e| e.to_string()).and_then(
            |dir| {
                let store = Store::open(&dir.path().join("outbox").join("store.sqlite3"), username)
                    .map_err(|e| e.to_string())?;
                Ok((dir, store.store))
            },
        );
    match opened {
        Ok((dir, store)) => {
            *crate::model::lock::lock(scratch) = Some(dir);
            Some(store)
        }
        Err(e) => {
            tracing::warn!(error = %e, "no stand-in store either: messages cannot be sent");
            None
        }
    }
}

/// The store as the outbox sender reaches it: owned by a [`StoreHandle`] (the
/// interactive client), or behind a mutex in a one-shot command that owns it alone.
#[derive(Clone, Copy)]
pub enum Access<'a> {
    /// The one-shot commands' store.
    Locked(&'a Mutex<Store>),
    /// The interactive client's store.
    Owned(&'a StoreHandle),
}

impl<'a> From<&'a Mutex<Store>> for Access<'a> {
    fn from(store: &'a Mutex<Store>) -> Access<'a> {
        Access::Locked(store)
    }
}

impl<'a> From<&'a StoreHandle> for Access<'a> {
    fn from(store: &'a StoreHandle) -> Access<'a> {
        Access::Owned(store)
    }
}

impl Access<'_> {
    /// Run `f` on the store.
    pub async fn call<T: Send + 'static>(
        self,
        f: impl FnOnce(&mut Store) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        match self {
            Access::Locked(m) => f(&mut crate::model::lock::lock(m)),
            Access::Owned(h) => h.call(f).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn calls_run_in_the_order_they_were_made_even_unawaited() {
        let dir = tempfile::tempdir().unwrap();
        let (store, opened) = StoreHandle::open_account(dir.path(), "http://x:1/", "alex");
        // Queued before the opening finished: they wait for it.
        drop(store.call(|s| s.save_draft("sam", "first")));
        drop(store.call(|s| s.save_draft("sam", "second")));
        assert!(opened.await.unwrap().is_none());
        assert!(!store.is_gone());
        let drafts = store.call(|s| s.all_drafts()).await.unwrap();
        assert_eq!(drafts.len(), 1);
        assert_eq!(drafts[0].text, "second");
    }

    #[tokio::test]
    async fn an_account_store_that_cannot_open_gives_way_to_a_stand_in() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("not-a-dir");
        std::fs::write(&file, "x").unwrap();
        let (store, opened) = StoreHandle::open_account(&file, "http://x:1/", "alex");
        assert!(opened.await.is_err(), "the caller learns why, to say so");
        assert!(!store.is_gone(), "a stand-in serves this run");
        let msg = crate::store::OutgoingMessage::new("sam", None, "kept for this run");
        let id = msg.client_id;
        store.call(move |s| s.enqueue(&msg).map(drop)).await.unwrap();
        let held = store.call(move |s| s.outbox_entry(id)).await.unwrap();
        assert_eq!(held.map(|e| e.message.content), Some("kept for this run".to_owned()));
        let stand_in_dir = crate::model::lock::lock(&store.scratch).as_ref().map(|d| d.path().to_path_buf());
        let stand_in_dir = stand_in_dir.expect("a private temporary directory");
        assert!(stand_in_dir.exists());
        drop(store);
        // The last handle gone, the directory goes too (the owner thread lets go of it).
        for _ in 0..100 {
            if !stand_in_dir.exists() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        assert!(!stand_in_dir.exists(), "nothing of a stand-in outlives the run");
    }

    #[tokio::test]
    async fn a_store_whose_thread_has_stopped_answers_gone() {
        let (jobs, queue) = mpsc::channel::<Job>();
        drop(queue);
        let store = StoreHandle {
            jobs,
            gone: Arc::default(),
            scratch: Arc::default(),
            delay: Arc::default(),
            calls: Arc::default(),
        };
        assert!(matches!(store.call(|s| s.all_drafts()).await, Err(StoreError::Gone)));
        store.settled().await;
    }

    #[tokio::test]
    async fn a_panicking_call_does_not_stop_the_owner() {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = StoreHandle::open_account(dir.path(), "http://x:1/", "alex");
        let boom = store.call(|_| -> Result<(), StoreError> { panic!("boom") });
        assert!(matches!(boom.await, Err(StoreError::Gone)));
        assert!(store.call(|s| s.all_drafts()).await.unwrap().is_empty());
    }
}
