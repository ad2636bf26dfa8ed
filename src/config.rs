//! Where files live (config dir, data dir) and the `config.toml` settings.

use std::path::PathBuf;

use crate::cli::GlobalOpts;

/// The directories the client uses, after flags, environment and platform defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    /// Holds `config.toml` and `session.json`.
    pub config_dir: PathBuf,
    /// Holds the local store and logs.
    pub data_dir: PathBuf,
}

impl Paths {
    /// Resolve from `--config-dir`/`--data-dir` (or their env vars), else the platform's
    /// directories for "healing-tui".
    pub fn resolve(global: &GlobalOpts) -> anyhow::Result<Paths> {
        let dirs = directories::ProjectDirs::from("org", "healing-space", "healing-tui");
        let config_dir = match (&global.config_dir, &dirs) {
            (Some(dir), _) => dir.clone(),
            (None, Some(d)) => d.config_dir().to_path_buf(),
            (None, None) => anyhow::bail!("no home directory: pass --config-dir"),
        };
        let data_dir = match (&global.data_dir, &dirs) {
            (Some(dir), _) => dir.clone(),
            (None, Some(d)) => d.data_dir().to_path_buf(),
            (None, None) => anyhow::bail!("no home directory: pass --data-dir"),
        };
        Ok(Paths { config_dir, data_dir })
    }
}
