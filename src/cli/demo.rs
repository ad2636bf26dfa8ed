//! `healing-tui demo`: a seeded reference server on loopback and the interactive client
//! logged in as a demo patient, wired together here (the top room may use both).

use std::process::ExitCode;

use clap::Args;

use crate::config::startup::StartError;
use crate::config::{GlobalFlags, Loaded, LookFlags};

/// `healing-tui demo` options.
#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    /// Port on 127.0.0.1 [default: a free one]
    #[arg(long)]
    pub port: Option<u16>,
}

/// Run `demo`: a seeded server on loopback and the interactive client logged in as
/// alex; both stop when the client quits.
pub fn demo_blocking(args: DemoArgs, global: &GlobalFlags, look: &LookFlags) -> anyhow::Result<ExitCode> {
    // The screen belongs to the client: logs go to the log file, never stderr. Without a
    // home directory the demo still runs, with the default looks and keys.
    let loaded = match crate::config::startup::start(global, "demo") {
        Ok(started) => started.loaded,
        Err(StartError::Paths(_)) => Loaded::default(),
        Err(StartError::Config(e)) => return Ok(crate::shell::run::config_stop(&e)),
    };
    crate::server::runtime()?.block_on(async move {
        let (server, _dir) = crate::server::start_demo(args.port).await?;
        let result = crate::shell::run::run_demo(
            &server.url(),
            "alex",
            crate::server::seed::DEMO_PASSWORD,
            crate::server::seed::DEMO_PIN,
            &loaded,
            look,
        )
        .await;
        server.shutdown().await;
        result
    })
}
