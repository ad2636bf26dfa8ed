//! `healing-tui demo`: a seeded reference server on loopback and the interactive client
//! logged in as a demo patient, wired together here (the top room may use both).

use std::process::ExitCode;

use clap::Args;

use crate::config::{GlobalFlags, LookFlags};

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
    // The screen belongs to the client: logs go to the log file, never stderr.
    if let Ok(paths) = crate::config::Paths::resolve(global) {
        let _ = crate::config::logging::init(&paths);
    }
    crate::server::runtime()?.block_on(async move {
        let (server, _dir) = crate::server::start_demo(args.port).await?;
        let result = crate::shell::run::run_demo(
            &server.url(),
            "alex",
            crate::server::seed::DEMO_PASSWORD,
            crate::server::seed::DEMO_PIN,
            global,
            look,
        )
        .await;
        server.shutdown().await;
        result
    })
}
