//! Command-line parsing (clap) and dispatch to the rooms that do the work.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, CommandFactory, Parser, Subcommand};

#[cfg(feature = "server")]
pub mod demo;

use crate::config::{GlobalFlags, LayoutName, LookFlags, ThemeName};

/// A terminal client for Healing Space, with an embedded reference server.
#[derive(Debug, Parser)]
#[command(name = "healing-tui", version, about, long_about = None)]
pub struct Cli {
    /// Options every command understands.
    #[command(flatten)]
    pub global: GlobalOpts,
    /// How the interactive client looks (also for `demo`).
    #[command(flatten)]
    pub look: LookOpts,
    /// What to do; with none, the interactive client opens.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Options every command understands.
#[derive(Debug, Clone, Args, Default)]
pub struct GlobalOpts {
    /// Directory for config.toml and session.json [default: the platform's config dir]
    #[arg(long, global = true, env = "HEALING_TUI_CONFIG_DIR", value_name = "DIR")]
    pub config_dir: Option<PathBuf>,
    /// Directory for the local store and logs [default: the platform's data dir]
    #[arg(long, global = true, env = "HEALING_TUI_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Healing Space server URL, e.g. https://www.healing-space.org.uk
    #[arg(long, global = true, env = "HEALING_SERVER", value_name = "URL")]
    pub server: Option<String>,
    /// Allow plain http:// to a host that is not loopback (passwords would cross the network unencrypted)
    #[arg(long, global = true)]
    pub allow_http: bool,
    /// Extra PEM certificate authority to trust (for a private CA)
    #[arg(long, global = true, value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,
}

/// How the interactive client looks.
#[derive(Debug, Clone, Args, Default)]
pub struct LookOpts {
    /// Colour theme [default: 256, or mono when NO_COLOR is set]
    #[arg(long, global = true, value_enum)]
    pub theme: Option<ThemeName>,
    /// ASCII only: no box drawing, no emoji
    #[arg(long, global = true)]
    pub ascii: bool,
    /// Screen layout [default: compact below 100 columns, else panes]
    #[arg(long, global = true, value_enum)]
    pub layout: Option<LayoutName>,
    /// Never redraw just to update the clock
    #[arg(long, global = true)]
    pub quiet_clock: bool,
}

impl GlobalOpts {
    /// The settings these flags give, for the rooms below (converted once, here).
    pub fn flags(&self) -> GlobalFlags {
        GlobalFlags {
            config_dir: self.config_dir.clone(),
            data_dir: self.data_dir.clone(),
            server: self.server.clone(),
            allow_http: self.allow_http,
            ca_cert: self.ca_cert.clone(),
        }
    }
}

impl LookOpts {
    /// The look these flags ask for, for the rooms below (converted once, here).
    pub fn flags(&self) -> LookFlags {
        LookFlags { theme: self.theme, ascii: self.ascii, layout: self.layout, quiet_clock: self.quiet_clock }
    }
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the reference Healing Space server
    #[cfg(feature = "server")]
    Serve(crate::server::ServeArgs),
    /// Start a seeded reference server on loopback and open the client as `alex`
    #[cfg(feature = "server")]
    Demo(demo::DemoArgs),
    /// Log in and keep the session (never the password or PIN)
    Login(crate::commands::LoginArgs),
    /// Log out on the server and remove the session
    Logout(crate::commands::LogoutArgs),
    /// List conversations
    Inbox(crate::commands::InboxArgs),
    /// Show a conversation (the server marks it read)
    Read(crate::commands::ReadArgs),
    /// Send a message (saved in the outbox first: kept and retried if it cannot go now)
    Send(crate::commands::SendArgs),
    /// List messages waiting to be sent or refused by the server; --flush sends them
    Outbox(crate::commands::OutboxArgs),
    /// Show your pet
    Pet(crate::commands::PetArgs),
    /// A conversation in line mode: plain lines and a prompt (screen readers, dumb terminals, slow links)
    Chat(crate::commands::ChatArgs),
    /// Print one line per event (new message, read, deleted) as it happens; --json for scripts
    Watch(crate::commands::WatchArgs),
    /// Print a shell completion script (see the README for where to put it)
    Completions {
        /// The shell to complete for
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), or write one page per command into a directory
    Man {
        /// Write healing-tui.1 and healing-tui-COMMAND.1 here instead of printing
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

/// Entry point: parse, dispatch, and turn the outcome into an exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("healing-tui: {}", crate::model::sanitize::sanitize_line(&format!("{err:#}")));
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let (global, look) = (cli.global.flags(), cli.look.flags());
    let command = cli.command;
    match command {
        #[cfg(feature = "server")]
        Some(Command::Serve(args)) => crate::server::serve_blocking(args),
        #[cfg(feature = "server")]
        Some(Command::Demo(args)) => demo::demo_blocking(args, &global, &look),
        Some(Command::Login(args)) => crate::commands::login(&global, args),
        Some(Command::Logout(args)) => crate::commands::logout(&global, args),
        Some(Command::Inbox(args)) => crate::commands::inbox(&global, args),
        Some(Command::Read(args)) => crate::commands::read(&global, args),
        Some(Command::Send(args)) => crate::commands::send(&global, args),
        Some(Command::Outbox(args)) => crate::commands::outbox(&global, args),
        Some(Command::Pet(args)) => crate::commands::pet(&global, args),
        Some(Command::Watch(args)) => crate::commands::watch(&global, args),
        Some(Command::Chat(args)) => crate::commands::chat(&global, args),
        Some(Command::Completions { shell }) => {
            write_completions(shell, &mut std::io::stdout().lock())?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Man { dir: None }) => {
            write_man(&mut std::io::stdout().lock())?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Man { dir: Some(dir) }) => {
            std::fs::create_dir_all(&dir)?;
            clap_mangen::generate_to(Cli::command(), &dir)?;
            Ok(ExitCode::SUCCESS)
        }
        None => crate::shell::run::run_tui(&global, &look),
    }
}

/// Write the completion script for `shell`, generated from the same clap definitions
/// that parse the arguments, so it can never disagree with `--help`.
pub fn write_completions(shell: clap_complete::Shell, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let mut cmd = Cli::command();
    let name = cmd.get_name().to_owned();
    // clap_complete writes with `write_all` and panics on an error; a closed pipe
    // (`| head`) is not worth a panic, so render into memory first.
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cmd, name, &mut script);
    out.write_all(&script)?;
    out.flush()
}

/// Write the manual page (roff): usage, options, and every subcommand with its summary.
pub fn write_man(out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let mut page = Vec::new();
    clap_mangen::Man::new(Cli::command()).render(&mut page)?;
    out.write_all(&page)?;
    out.flush()
}
