//! The scriptable one-shot commands: login, logout, inbox, read, send, pet.

use std::process::ExitCode;

use clap::Args;

use crate::cli::GlobalOpts;

/// `healing-tui login` options.
#[derive(Debug, Clone, Args)]
pub struct LoginArgs {
    /// Account name (asked for when missing)
    #[arg(long)]
    pub username: Option<String>,
    /// Ask the server for a 30-day session
    #[arg(long)]
    pub remember: bool,
    /// Read the password, then the PIN, as lines from standard input
    #[arg(long)]
    pub password_stdin: bool,
}

/// `healing-tui logout` options.
#[derive(Debug, Clone, Args)]
pub struct LogoutArgs {
    /// Also delete this account's local data
    #[arg(long)]
    pub forget: bool,
}

/// `healing-tui inbox` options.
#[derive(Debug, Clone, Args)]
pub struct InboxArgs {
    /// Only conversations with unread messages
    #[arg(long)]
    pub unread: bool,
    /// Machine-readable output
    #[arg(long)]
    pub json: bool,
}

/// `healing-tui read` options.
#[derive(Debug, Clone, Args)]
pub struct ReadArgs {
    /// The other person's username
    pub user: String,
    /// Show at most this many (newest) messages
    #[arg(long)]
    pub limit: Option<usize>,
    /// Machine-readable output
    #[arg(long)]
    pub json: bool,
}

/// `healing-tui send` options.
#[derive(Debug, Clone, Args)]
pub struct SendArgs {
    /// Recipient's username
    pub user: String,
    /// The message; `-` or nothing reads it from standard input
    pub text: Option<String>,
    /// Subject line
    #[arg(long)]
    pub subject: Option<String>,
}

/// `healing-tui pet` options.
#[derive(Debug, Clone, Args)]
pub struct PetArgs {
    /// Machine-readable output
    #[arg(long)]
    pub json: bool,
}

/// `healing-tui login`.
pub fn login(_global: &GlobalOpts, _args: LoginArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not built yet")
}

/// `healing-tui logout`.
pub fn logout(_global: &GlobalOpts, _args: LogoutArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not built yet")
}

/// `healing-tui inbox`.
pub fn inbox(_global: &GlobalOpts, _args: InboxArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not built yet")
}

/// `healing-tui read`.
pub fn read(_global: &GlobalOpts, _args: ReadArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not built yet")
}

/// `healing-tui send`.
pub fn send(_global: &GlobalOpts, _args: SendArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not built yet")
}

/// `healing-tui pet`.
pub fn pet(_global: &GlobalOpts, _args: PetArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not built yet")
}
