//! The interactive client's main loop: terminal setup and restore, events in, actions
//! through `update`, effects out to tasks, and drawing only when state changed.

use std::process::ExitCode;

use crate::cli::{GlobalOpts, LookOpts};

/// Open the interactive client.
pub fn run_tui(_global: &GlobalOpts, _look: &LookOpts) -> anyhow::Result<ExitCode> {
    anyhow::bail!("the interactive client is not built yet; try `healing-tui demo` or `--help`")
}
