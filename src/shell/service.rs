//! How the interactive client gets a [`Service`] (the seam to the server, defined in
//! `crate::sync::service`) for a server URL and keeps its session, and the ETag memory
//! of the runner's own fetches.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::api::{ApiError, Fetched};
use crate::sync::service::Service;

/// Makes a [`Service`] for a server URL, and keeps or forgets sessions on disk.
pub trait Connect: Send + Sync + 'static {
    /// The service it makes.
    type Service: Service;
    /// A fresh, logged-out service for `server`.
    fn connect(&self, server: &str) -> Result<Self::Service, ApiError>;
    /// Keep the session of `service` on disk (after a login with remember-me, and at exit).
    fn persist(&self, service: &Self::Service);
    /// Forget the saved session (logout).
    fn forget(&self);
}

/// The ETags of the last fetches, by what was fetched, so fetching the same thing
/// again costs a 304 when nothing changed. Clones share the memory.
#[derive(Clone, Default)]
pub struct Etags(Arc<Mutex<HashMap<String, String>>>);

impl Etags {
    /// The ETag of the copy held of `key`.
    pub fn get(&self, key: &str) -> Option<String> {
        self.lock().get(key).cloned()
    }

    /// Remember the ETag of a fetch of `key`; the value when it is fresh, `None` when
    /// the copy held is current.
    pub fn fresh<T>(&self, key: String, fetched: Fetched<T>) -> Option<T> {
        match fetched {
            Fetched::Fresh { value, etag } => {
                let mut tags = self.lock();
                match etag {
                    Some(tag) => tags.insert(key, tag),
                    None => tags.remove(&key),
                };
                Some(value)
            }
            Fetched::NotModified => None,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, String>> {
        crate::model::lock::lock(&self.0)
    }
}
