//! The reference Healing Space server (`healing-tui serve` / `demo`): faithful to the
//! production API in `shared/docs/healing-space-api.md`, plus our extensions
//! (websocket push, ETag/304, gzip, `after_id`, `Idempotency-Key`). It shares only
//! wire types (`api::types`) with the client rooms, never logic.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

/// `healing-tui serve` options.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on
    #[arg(long, default_value = "127.0.0.1:8700")]
    pub addr: SocketAddr,
    /// SQLite database file (created if missing)
    #[arg(long, value_name = "PATH")]
    pub db: PathBuf,
    /// Seed data set to load into an empty database
    #[arg(long, value_name = "NAME", value_parser = ["demo"])]
    pub seed: Option<String>,
    /// Turn the websocket route off (404), as on the production server
    #[arg(long)]
    pub no_websocket: bool,
}

/// `healing-tui demo` options.
#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    /// Port on 127.0.0.1 [default: a free one]
    #[arg(long)]
    pub port: Option<u16>,
}

/// Run `serve` until Ctrl-C.
pub fn serve_blocking(_args: ServeArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not built yet")
}

/// Run `demo` until Ctrl-C.
pub fn demo_blocking(
    _args: DemoArgs,
    _global: &crate::cli::GlobalOpts,
    _look: &crate::cli::LookOpts,
) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not built yet")
}
