//! The real server for the interactive client: [`Client`] (which implements the
//! `crate::sync::service::Service` seam), made per server URL, its session kept in the
//! config directory.

use std::path::PathBuf;

use crate::api::{ApiError, Client, ClientOptions};
use crate::shell::service::Connect;
use crate::store::session::Session;

/// Makes [`Client`]s and keeps the session file in the config directory.
pub struct ClientConnect {
    /// How clients connect.
    pub opts: ClientOptions,
    /// Where `session.json` lives.
    pub config_dir: PathBuf,
}

impl Connect for ClientConnect {
    type Service = Client;

    fn connect(&self, server: &str) -> Result<Client, ApiError> {
        Client::new(server, &self.opts)
    }

    fn persist(&self, client: &Client) {
        if client.username().is_none() {
            return;
        }
        if let Err(e) = client.session().save(&self.config_dir) {
            tracing::warn!(error = %e, "could not save the session");
        }
    }

    fn forget(&self) {
        if let Err(e) = Session::remove(&self.config_dir) {
            tracing::warn!(error = %e, "could not remove the session");
        }
    }
}
