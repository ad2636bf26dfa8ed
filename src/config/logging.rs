//! Logging: `tracing` to a daily-rotating file in `data_dir/logs` (the last
//! [`KEEP_FILES`] kept), level from `RUST_LOG` (a level or `target=level` list, default
//! `info`; see [`crate::model::log_level`]), never to the terminal.
//!
//! What may be logged: usernames, paths, HTTP methods and statuses, timings. Never a
//! password, PIN, cookie, CSRF token, header or message body; our own code only logs
//! the former, and the HTTP/TLS libraries are capped at `info` whatever `RUST_LOG`
//! says, since their debug output can include headers.

use std::path::PathBuf;

use thiserror::Error;
use tracing::Level;
use tracing_appender::rolling::{RollingFileAppender, Rotation};
use tracing_subscriber::filter::filter_fn;
use tracing_subscriber::prelude::*;

use crate::config::Paths;

/// How many daily log files to keep.
pub const KEEP_FILES: usize = 7;

/// Log files are `healing-tui.YYYY-MM-DD.log`.
pub const FILE_PREFIX: &str = "healing-tui";

/// Why logging could not start (the program runs on without it).
#[derive(Debug, Error)]
pub enum LogError {
    /// The log directory could not be created.
    #[error("cannot create log directory {}: {reason}", path.display())]
    Dir {
        /// The directory.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The appender could not be set up.
    #[error("cannot open log file in {}: {reason}", path.display())]
    File {
        /// The directory.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// A global subscriber was already installed (e.g. by a test).
    #[error("logging already initialised")]
    AlreadySet,
}

/// Crates whose debug/trace output may contain headers or payloads.
fn is_transport_crate(target: &str) -> bool {
    ["hyper", "hyper_util", "reqwest", "rustls", "h2", "tungstenite", "tokio_tungstenite", "axum", "tower"]
        .iter()
        .any(|c| target == *c || target.starts_with(&format!("{c}::")))
}

/// Install the file logger. Call once, early; errors are for the caller to mention.
pub fn init(paths: &Paths) -> Result<(), LogError> {
    let dir = paths.log_dir();
    crate::model::private::create_private_dir(&dir)
        .map_err(|e| LogError::Dir { path: dir.clone(), reason: e.to_string() })?;
    let appender = RollingFileAppender::builder()
        .rotation(Rotation::DAILY)
        .filename_prefix(FILE_PREFIX)
        .filename_suffix("log")
        .max_log_files(KEEP_FILES)
        .build(&dir)
        .map_err(|e| LogError::File { path: dir.clone(), reason: e.to_string() })?;
    let level = crate::model::log_level::from_rust_log();
    let quiet_transport =
        filter_fn(|meta| !(is_transport_crate(meta.target()) && *meta.level() > Level::INFO));
    let file_layer =
        tracing_subscriber::fmt::layer().with_writer(appender).with_ansi(false).with_filter(quiet_transport);
    tracing_subscriber::registry().with(level).with(file_layer).try_init().map_err(|_| LogError::AlreadySet)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transport_crates() {
        assert!(is_transport_crate("hyper_util::client::legacy"));
        assert!(is_transport_crate("reqwest"));
        assert!(is_transport_crate("rustls::client"));
        assert!(!is_transport_crate("healing_tui::api::client"));
        assert!(!is_transport_crate("hyperion"));
    }
}
