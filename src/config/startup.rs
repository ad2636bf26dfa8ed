//! The one start-up routine every face of the client runs first: where files live, the
//! config file, and the log file. Each face then adds what is its own (the interactive
//! client its key table, a command its runtime).

use crate::config::logging::{self, LogError};
use crate::config::{Config, ConfigError, GlobalFlags, Loaded, Paths};

/// What start-up found: the directories, the config file (with its warnings), and why
/// there is no log file, if there is none.
#[derive(Debug)]
pub struct Started {
    /// Config and data directories.
    pub paths: Paths,
    /// `config.toml` and its warnings (unknown or retired keys).
    pub loaded: Loaded,
    /// Why logging could not start; the program runs on without it, and says so where
    /// the person can read it.
    pub no_log: Option<String>,
}

/// Why start-up cannot go on: both are local problems (exit status 7), said before the
/// terminal is taken.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// No config or data directory (no home directory and no flag naming one).
    #[error("{0:#}")]
    Paths(anyhow::Error),
    /// `config.toml` cannot be read or has a bad value.
    #[error(transparent)]
    Config(#[from] ConfigError),
}

/// Resolve the directories, load `config.toml`, and start the log file (`what` names the
/// face in the log's first line). Logging starts only after the config loaded, so a bad
/// file is reported before anything is written.
pub fn start(global: &GlobalFlags, what: &str) -> Result<Started, StartError> {
    let paths = Paths::resolve(global).map_err(StartError::Paths)?;
    let loaded = Config::load(&paths.config_dir)?;
    let no_log = match logging::init(&paths) {
        Ok(()) => None,
        // Already set: a test, or `demo` that started it for the server side.
        Err(LogError::AlreadySet) => None,
        Err(e) => Some(format!("no log file: {e}")),
    };
    tracing::info!(what, "start");
    Ok(Started { paths, loaded, no_log })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_config_stops_start_up_with_its_place() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("config.toml"), "[poll]\nactive_secs = 0\n").unwrap();
        let global = GlobalFlags {
            config_dir: Some(dir.path().to_path_buf()),
            data_dir: Some(dir.path().join("data")),
            ..GlobalFlags::default()
        };
        let err = start(&global, "test").unwrap_err();
        assert!(matches!(err, StartError::Config(ConfigError::Invalid { line: 2, .. })), "{err}");
    }

    #[test]
    fn a_good_start_finds_paths_and_config() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("config.toml"), "ascii = true\nmouse = true\n").unwrap();
        let global = GlobalFlags {
            config_dir: Some(dir.path().to_path_buf()),
            data_dir: Some(dir.path().join("data")),
            ..GlobalFlags::default()
        };
        let started = start(&global, "test").unwrap();
        assert_eq!(started.paths.config_dir, dir.path());
        assert!(started.loaded.config.ascii);
        assert_eq!(started.loaded.warnings.len(), 1, "the retired key is mentioned");
    }
}
