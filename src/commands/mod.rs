//! The scriptable one-shot commands: login, logout, inbox, read, send, outbox, pet.
//!
//! Each builds its own small tokio runtime, resumes the saved session (except login),
//! does one thing, saves the session if the server re-issued the cookie, and exits with
//! a documented code ([`EXIT_OK`] … [`EXIT_LOCAL`]). Plain output is for people
//! (aligned, local relative times, sanitized); `--json` prints the API's own shapes.

use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::process::ExitCode;

use chrono::{DateTime, TimeZone, Utc};

use crate::model::time_fmt::relative;
use clap::Args;
use unicode_width::UnicodeWidthStr;
use zeroize::Zeroizing;

use crate::api::client::parse_server_url;
use crate::api::{ApiError, Client, ClientOptions, Fetched};
use crate::config::GlobalFlags;
use crate::config::{Config, Paths};
use crate::model::sanitize::sanitize_line;
use crate::model::time::Timestamp;
use crate::model::types::{
    ConversationResponse, ConversationSummary, InboxResponse, LoginRequest, Message, Pet, PetStatusResponse,
};
use crate::model::waiting::{self, SortMode, WaitHint};
use crate::store::session::Session;

pub mod chat;
mod outbox;
pub mod watch;
pub use chat::{chat, ChatArgs};
pub use outbox::{outbox, send, OutboxArgs};
pub use watch::{watch, WatchArgs};

/// Success.
pub const EXIT_OK: u8 = 0;
/// Bad usage (clap also uses 2), or a setting that cannot work (e.g. plain http to a remote host).
pub const EXIT_USAGE: u8 = 2;
/// Not logged in, or the session expired: run `healing-tui login`.
pub const EXIT_AUTH: u8 = 3;
/// The server refused the request (4xx, including rate limits); its message is on stderr.
pub const EXIT_REFUSED: u8 = 4;
/// Offline: the server could not be reached (connect, DNS, timeout).
pub const EXIT_OFFLINE: u8 = 5;
/// The server failed (5xx) or sent something unreadable.
pub const EXIT_SERVER: u8 = 6;
/// A local file problem: permissions, corrupt config or session, unwritable directory.
pub const EXIT_LOCAL: u8 = crate::config::EXIT_LOCAL;

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
    /// Only conversations waiting for your answer (the other person wrote last), longest wait first
    #[arg(long)]
    pub waiting: bool,
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

/// Why a command stopped: the exit code and one line for stderr.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Failure {
    code: u8,
    message: String,
}

impl Failure {
    fn new(code: u8, message: impl Into<String>) -> Failure {
        Failure { code, message: message.into() }
    }

    /// An API error as an exit code; `server_text` is the server's own words when the
    /// error does not already carry them (429).
    fn api(err: ApiError, server_text: Option<String>) -> Failure {
        let code = match &err {
            ApiError::SessionExpired => EXIT_AUTH,
            ApiError::Forbidden(_) | ApiError::NotFound(_) | ApiError::Invalid(_) => EXIT_REFUSED,
            ApiError::RateLimited { .. } => EXIT_REFUSED,
            ApiError::Offline(_) => EXIT_OFFLINE,
            ApiError::Server { .. } | ApiError::Protocol { .. } => EXIT_SERVER,
        };
        let mut message = err.to_string();
        if code == EXIT_AUTH {
            message.push_str(" (run: healing-tui login)");
        }
        if let (ApiError::RateLimited { .. }, Some(text)) = (&err, server_text) {
            message = format!("{text} ({message})");
        }
        Failure::new(code, message)
    }

    fn from_client(client: &Client) -> impl Fn(ApiError) -> Failure + '_ {
        move |e| Failure::api(e, client.last_error_text())
    }
}

type Outcome = Result<(), Failure>;

fn finish(outcome: Outcome) -> anyhow::Result<ExitCode> {
    match outcome {
        Ok(()) => Ok(ExitCode::from(EXIT_OK)),
        Err(f) => {
            tracing::info!(code = f.code, "command failed");
            eprintln!("healing-tui: {}", sanitize_line(&f.message));
            Ok(ExitCode::from(f.code))
        }
    }
}

/// Paths, config, logging and client options, shared by every command.
struct Ctx {
    paths: Paths,
    config: Config,
    opts: ClientOptions,
    rt: tokio::runtime::Runtime,
}

fn setup(global: &GlobalFlags, command: &str) -> Result<Ctx, Failure> {
    let started = crate::config::startup::start(global, command)
        .map_err(|e| Failure::new(EXIT_LOCAL, e.to_string()))?;
    for warning in started.loaded.warnings.iter().chain(&started.no_log) {
        eprintln!("healing-tui: warning: {}", sanitize_line(warning));
    }
    if let Some(ca) = &global.ca_cert {
        std::fs::metadata(ca).map_err(|e| {
            Failure::new(EXIT_LOCAL, format!("cannot read CA certificate {}: {e}", ca.display()))
        })?;
    }
    let opts = ClientOptions::from_global(global);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::new(EXIT_LOCAL, format!("cannot start the runtime: {e}")))?;
    Ok(Ctx { paths: started.paths, config: started.loaded.config, opts, rt })
}

/// A client bound to the saved session; `--server` must name the same server.
fn resume(ctx: &Ctx, global: &GlobalFlags) -> Result<Client, Failure> {
    let session = Session::load(&ctx.paths.config_dir)
        .map_err(|e| Failure::new(EXIT_LOCAL, e.to_string()))?
        .ok_or_else(|| Failure::new(EXIT_AUTH, "not logged in (run: healing-tui login)"))?;
    if let Some(wanted) = &global.server {
        let same = parse_server_url(wanted, true).map(|u| u.as_str() == session.server).unwrap_or(false);
        if !same {
            return Err(Failure::new(
                EXIT_AUTH,
                format!(
                    "logged in to {}, not {wanted} (run: healing-tui login --server {wanted})",
                    session.server
                ),
            ));
        }
    }
    Client::from_session(&session, &ctx.opts).map_err(|e| Failure::new(EXIT_USAGE, e.to_string()))
}

/// Persist the session if the server changed the cookie (at exit, not per response).
fn save_session(ctx: &Ctx, client: &Client) -> Outcome {
    if client.session_dirty_since().is_some() && client.username().is_some() {
        client.session().save(&ctx.paths.config_dir).map_err(|e| Failure::new(EXIT_LOCAL, e.to_string()))?;
        client.mark_session_saved();
    }
    Ok(())
}

/// Run `op` with a resumed client, then save the session (also after a failure, since
/// the server may have re-issued the cookie before failing).
fn with_client<T>(
    global: &GlobalFlags,
    command: &str,
    op: impl AsyncFnOnce(&Client) -> Result<T, ApiError>,
    show: impl FnOnce(T) -> Outcome,
) -> anyhow::Result<ExitCode> {
    let outcome = (|| {
        let ctx = setup(global, command)?;
        let client = resume(&ctx, global)?;
        let result = ctx.rt.block_on(op(&client));
        let saved = save_session(&ctx, &client);
        let value = result.map_err(Failure::from_client(&client))?;
        saved?;
        show(value)
    })();
    finish(outcome)
}

/// `healing-tui login`.
pub fn login(global: &GlobalFlags, args: LoginArgs) -> anyhow::Result<ExitCode> {
    finish(login_inner(global, args))
}

fn login_inner(global: &GlobalFlags, args: LoginArgs) -> Outcome {
    let ctx = setup(global, "login")?;
    let server = ctx.config.server(global).ok_or_else(|| {
        Failure::new(
            EXIT_USAGE,
            "no server: pass --server URL, set HEALING_SERVER, or put server = \"https://…\" in config.toml",
        )
    })?;
    let client = Client::new(&server, &ctx.opts).map_err(|e| Failure::new(EXIT_USAGE, e.to_string()))?;
    let creds = credentials(&args)?;
    let mut req = LoginRequest {
        username: creds.username.clone(),
        password: creds.password.to_string(),
        pin: creds.pin.to_string(),
        remember_me: args.remember.then_some(true),
    };
    let result = ctx.rt.block_on(client.login(&req));
    zeroize::Zeroize::zeroize(&mut req.password);
    zeroize::Zeroize::zeroize(&mut req.pin);
    let login = result.map_err(Failure::from_client(&client))?;
    client.session().save(&ctx.paths.config_dir).map_err(|e| Failure::new(EXIT_LOCAL, e.to_string()))?;
    client.mark_session_saved();
    let name = if login.username.is_empty() { creds.username } else { login.username };
    println!(
        "Logged in as {} ({}) at {}",
        sanitize_line(&name),
        sanitize_line(role_label(&login.role)),
        client.server_url()
    );
    if login.approval_status.as_deref() == Some("pending") {
        println!("Your account is waiting for approval.");
    }
    Ok(())
}

fn role_label(role: &str) -> &str {
    match role {
        "user" => "patient",
        "" => "unknown role",
        other => other,
    }
}

struct Credentials {
    username: String,
    password: Zeroizing<String>,
    pin: Zeroizing<String>,
}

/// Username from `--username` or the terminal; password and PIN from stdin lines
/// (`--password-stdin`), `HEALING_PASSWORD`/`HEALING_PIN`, or the terminal with echo off.
fn credentials(args: &LoginArgs) -> Result<Credentials, Failure> {
    let username = match &args.username {
        Some(u) => u.trim().to_string(),
        None if args.password_stdin => {
            return Err(Failure::new(EXIT_USAGE, "--password-stdin needs --username"));
        }
        None => ask_line("Username: ")?,
    };
    if username.is_empty() {
        return Err(Failure::new(EXIT_USAGE, "no username given"));
    }
    let env = |name: &str| std::env::var(name).ok().map(Zeroizing::new);
    let (password, pin) = if args.password_stdin {
        let mut lines = std::io::stdin().lock();
        let password = read_secret_line(&mut lines)?.ok_or_else(|| {
            Failure::new(EXIT_USAGE, "--password-stdin: no password line on standard input")
        })?;
        let pin = match read_secret_line(&mut lines)? {
            Some(pin) => pin,
            None => env("HEALING_PIN")
                .ok_or_else(|| Failure::new(EXIT_USAGE, "--password-stdin: no PIN line on standard input"))?,
        };
        (password, pin)
    } else {
        let password = match env("HEALING_PASSWORD") {
            Some(p) => p,
            None => ask_secret("Password: ")?,
        };
        let pin = match env("HEALING_PIN") {
            Some(p) => p,
            None => ask_secret("PIN: ")?,
        };
        (password, pin)
    };
    Ok(Credentials { username, password, pin })
}

fn read_secret_line(input: &mut impl BufRead) -> Result<Option<Zeroizing<String>>, Failure> {
    let mut line = Zeroizing::new(String::new());
    let n = input
        .read_line(&mut line)
        .map_err(|e| Failure::new(EXIT_USAGE, format!("cannot read standard input: {e}")))?;
    if n == 0 {
        return Ok(None);
    }
    let trimmed = line.trim_end_matches(['\r', '\n']);
    Ok(Some(Zeroizing::new(trimmed.to_string())))
}

fn no_terminal() -> Failure {
    Failure::new(
        EXIT_USAGE,
        "no terminal to ask on: pass --username and set HEALING_PASSWORD and HEALING_PIN, or use --password-stdin",
    )
}

fn ask_secret(prompt: &str) -> Result<Zeroizing<String>, Failure> {
    rpassword::prompt_password(prompt).map(Zeroizing::new).map_err(|_| no_terminal())
}

/// A visible prompt on the controlling terminal (not stdout, which may be piped).
fn ask_line(prompt: &str) -> Result<String, Failure> {
    #[cfg(unix)]
    {
        let mut tty =
            std::fs::OpenOptions::new().read(true).write(true).open("/dev/tty").map_err(|_| no_terminal())?;
        tty.write_all(prompt.as_bytes()).map_err(|_| no_terminal())?;
        tty.flush().map_err(|_| no_terminal())?;
        let mut line = String::new();
        std::io::BufReader::new(tty).read_line(&mut line).map_err(|_| no_terminal())?;
        Ok(line.trim().to_string())
    }
    #[cfg(not(unix))]
    {
        if !std::io::IsTerminal::is_terminal(&std::io::stdin()) {
            return Err(no_terminal());
        }
        eprint!("{prompt}");
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).map_err(|_| no_terminal())?;
        Ok(line.trim().to_string())
    }
}

/// `healing-tui logout`.
pub fn logout(global: &GlobalFlags, args: LogoutArgs) -> anyhow::Result<ExitCode> {
    finish(logout_inner(global, args))
}

fn logout_inner(global: &GlobalFlags, args: LogoutArgs) -> Outcome {
    let ctx = setup(global, "logout")?;
    let Some(session) =
        Session::load(&ctx.paths.config_dir).map_err(|e| Failure::new(EXIT_LOCAL, e.to_string()))?
    else {
        println!("Not logged in.");
        return Ok(());
    };
    match Client::from_session(&session, &ctx.opts) {
        Ok(client) => {
            if let Err(e) = ctx.rt.block_on(client.logout()) {
                eprintln!(
                    "healing-tui: warning: the server did not confirm the logout: {}",
                    sanitize_line(&e.to_string())
                );
            }
        }
        Err(e) => eprintln!("healing-tui: warning: {}", sanitize_line(&e.to_string())),
    }
    Session::remove(&ctx.paths.config_dir).map_err(|e| Failure::new(EXIT_LOCAL, e.to_string()))?;
    println!("Logged out {} from {}", sanitize_line(&session.username), sanitize_line(&session.server));
    if args.forget {
        let dir = crate::store::account_dir(&ctx.paths.data_dir, &session.server, &session.username);
        let removed = crate::store::forget_account(&ctx.paths.data_dir, &session.server, &session.username)
            .map_err(|e| Failure::new(EXIT_LOCAL, e.to_string()))?;
        if removed {
            println!("Deleted local data in {}", dir.display());
        }
    }
    tracing::info!(username = %sanitize_line(&session.username), forget = args.forget, "logged out");
    Ok(())
}

/// Most inbox pages to walk for one `inbox` command (50 conversations a page, so 2,000
/// conversations): one run stays well inside production's 50 requests per hour per route.
const MAX_INBOX_PAGES: u32 = 40;

/// Conversations per inbox page (the server's maximum).
const INBOX_PAGE: u32 = 50;

/// The whole inbox, page by page: stops at the server's total, at a short page, at a
/// page that brings nothing new (a server ignoring `page`), or at [`MAX_INBOX_PAGES`]
/// (then `complete` is false).
pub async fn fetch_all_inbox(client: &Client, unread_only: bool) -> Result<(InboxResponse, bool), ApiError> {
    let mut all: Option<InboxResponse> = None;
    for page in 1..=MAX_INBOX_PAGES {
        let Fetched::Fresh { value, .. } = client.inbox(page, INBOX_PAGE, unread_only, None).await? else {
            return Err(ApiError::Protocol { detail: "304 without an ETag".into() });
        };
        let got = value.conversations.len();
        let acc = all.get_or_insert_with(|| InboxResponse { conversations: Vec::new(), ..value.clone() });
        let before = acc.conversations.len();
        for c in value.conversations {
            if !acc.conversations.iter().any(|known| known.with_user == c.with_user) {
                acc.conversations.push(c);
            }
        }
        let added = acc.conversations.len() - before;
        if got < INBOX_PAGE as usize
            || added == 0
            || acc.conversations.len() >= value.total_conversations as usize
        {
            return Ok((all.unwrap_or_default(), true));
        }
    }
    Ok((all.unwrap_or_default(), false))
}

/// One `inbox --json` row: the server's summary plus when it began waiting for an answer.
#[derive(Debug, serde::Serialize)]
struct CaseloadRow {
    #[serde(flatten)]
    summary: ConversationSummary,
    /// When the other person's unanswered message(s) began; `null` when not waiting.
    waiting_since: Option<Timestamp>,
}

/// `inbox --json`: the API's inbox shape with `waiting_since` on every conversation.
#[derive(Debug, serde::Serialize)]
struct CaseloadJson {
    conversations: Vec<CaseloadRow>,
    total_unread: u32,
    page: u32,
    page_size: u32,
    total_conversations: u32,
}

/// What the cache says about who wrote last, when the server's inbox does not say
/// (feb5 has no `last_sender`); empty when every row says, or the store cannot open.
fn cache_hints(ctx: &Ctx, client: &Client, rows: &[ConversationSummary]) -> HashMap<String, WaitHint> {
    if rows.iter().all(|c| c.last_sender.as_deref().is_some_and(|s| !s.trim().is_empty())) {
        return HashMap::new();
    }
    let hints = outbox::open_store(ctx, client).and_then(|store| {
        let store = store.into_inner().unwrap_or_else(|e| e.into_inner());
        store.wait_hints().map_err(|e| Failure::new(EXIT_LOCAL, e.to_string()))
    });
    hints.unwrap_or_else(|f| {
        eprintln!("healing-tui: warning: no cache to tell who wrote last: {}", sanitize_line(&f.message));
        HashMap::new()
    })
}

/// `healing-tui inbox`.
pub fn inbox(global: &GlobalFlags, args: InboxArgs) -> anyhow::Result<ExitCode> {
    finish(inbox_inner(global, &args))
}

fn inbox_inner(global: &GlobalFlags, args: &InboxArgs) -> Outcome {
    let ctx = setup(global, "inbox")?;
    let client = resume(&ctx, global)?;
    let result = ctx.rt.block_on(fetch_all_inbox(&client, args.unread));
    let saved = save_session(&ctx, &client);
    let (mut inbox, complete) = result.map_err(Failure::from_client(&client))?;
    saved?;
    if !complete {
        eprintln!(
            "healing-tui: warning: only the first {} conversations were fetched (the server's per-route \
             limit); run again later for the rest",
            inbox.conversations.len()
        );
    }
    // feb5 ignores unread_only, so filter here too.
    if args.unread {
        inbox.conversations.retain(|c| c.unread_count > 0);
    }
    let me = client.username().unwrap_or_default();
    let hints = cache_hints(&ctx, &client, &inbox.conversations);
    let mut rows: Vec<CaseloadRow> = std::mem::take(&mut inbox.conversations)
        .into_iter()
        .map(|c| {
            let summary = waiting::Summary {
                last_sender: c.last_sender.as_deref(),
                last_time: c.last_message_time.map(|t| t.utc()),
                unread: c.unread_count,
            };
            let since = waiting::waiting_since(&me, summary, hints.get(&c.with_user));
            CaseloadRow { summary: c, waiting_since: since.map(Timestamp) }
        })
        .collect();
    if args.waiting {
        rows.retain(|r| r.waiting_since.is_some());
        waiting::sort_rows(&mut rows, SortMode::Waiting, |r| {
            (r.waiting_since.map(|t| t.utc()), r.summary.last_message_time.map(|t| t.utc()))
        });
    }
    if args.json {
        return print_json(&CaseloadJson {
            conversations: rows,
            total_unread: inbox.total_unread,
            page: inbox.page,
            page_size: inbox.page_size,
            total_conversations: inbox.total_conversations,
        });
    }
    let now = Utc::now();
    let (summaries, whens): (Vec<ConversationSummary>, Vec<String>) = rows
        .into_iter()
        .map(|r| {
            let when = match (args.waiting, r.waiting_since) {
                (true, Some(since)) => format!("waiting {}", waiting::wait_label(since.utc(), now)),
                _ => r
                    .summary
                    .last_message_time
                    .map(|t| relative(t.utc(), now, &chrono::Local))
                    .unwrap_or_default(),
            };
            (r.summary, when)
        })
        .unzip();
    if args.waiting && summaries.is_empty() {
        println!("Nobody is waiting for an answer.");
        return Ok(());
    }
    print!("{}", render_rows(&summaries, &whens));
    Ok(())
}

/// `healing-tui read`.
pub fn read(global: &GlobalFlags, args: ReadArgs) -> anyhow::Result<ExitCode> {
    let user = args.user.clone();
    with_client(
        global,
        "read",
        async move |client: &Client| {
            // The server returns the *oldest* N: ask for the most it allows.
            match client.conversation(&user, 200, None, None).await? {
                Fetched::Fresh { mut value, .. } => {
                    hide_deleted(global, client, &mut value.messages);
                    Ok(value)
                }
                Fetched::NotModified => Err(ApiError::Protocol { detail: "304 without an ETag".into() }),
            }
        },
        |mut conv: ConversationResponse| {
            if let Some(n) = args.limit {
                let skip = conv.messages.len().saturating_sub(n);
                conv.messages.drain(..skip);
            }
            if args.json {
                print_json(&conv)
            } else {
                print!("{}", render_conversation(&args.user, &conv.messages, Utc::now(), &chrono::Local));
                Ok(())
            }
        },
    )
}

/// Drop the messages this account deleted (tombstones in its local store): a server
/// may keep listing them. A store that cannot be read is a warning, not a failure.
fn hide_deleted(global: &GlobalFlags, client: &Client, messages: &mut Vec<crate::model::types::Message>) {
    let Some(username) = client.username() else { return };
    let hidden = Paths::resolve(global).map_err(|e| format!("{e:#}")).and_then(|paths| {
        let opened =
            crate::store::Store::open_account(&paths.data_dir, client.server_url().as_str(), &username)
                .map_err(|e| e.to_string())?;
        opened.store.drop_deleted(messages).map_err(|e| e.to_string())
    });
    if let Err(e) = hidden {
        eprintln!("healing-tui: warning: cannot check deleted messages: {}", sanitize_line(&e));
    }
}

/// Longest message read from standard input (the server's own limit is 10,000 chars).
const MAX_STDIN_BYTES: u64 = 1 << 20;

/// `healing-tui pet`.
pub fn pet(global: &GlobalFlags, args: PetArgs) -> anyhow::Result<ExitCode> {
    with_client(
        global,
        "pet",
        async move |client: &Client| client.pet_status().await,
        |status: PetStatusResponse| {
            if args.json {
                return print_json(&status);
            }
            match (&status.pet, status.exists) {
                (Some(pet), true) => print!("{}", render_pet(pet)),
                _ => println!(
                    "No pet: {}",
                    sanitize_line(status.error.as_deref().unwrap_or("the server has none for you"))
                ),
            }
            Ok(())
        },
    )
}

/// Pretty JSON with every character that could steer a terminal (C1 controls, bidi
/// overrides, line separators) escaped as `\uXXXX`: the same data, safe to print.
fn print_json<T: serde::Serialize>(value: &T) -> Outcome {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| Failure::new(EXIT_SERVER, format!("cannot encode JSON: {e}")))?;
    println!("{}", json_terminal_safe(&text));
    Ok(())
}

fn json_terminal_safe(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for ch in json.chars() {
        let c = ch as u32;
        let risky = (0x7f..=0x9f).contains(&c)
            || matches!(c, 0x061c | 0x200e | 0x200f | 0x2028 | 0x2029 | 0x202a..=0x202e | 0x2066..=0x2069);
        if risky {
            out.push_str(&format!("\\u{c:04x}"));
        } else {
            out.push(ch);
        }
    }
    out
}

fn pad(text: &str, width: usize) -> String {
    let w = text.width();
    format!("{text}{}", " ".repeat(width.saturating_sub(w)))
}

/// Cut `text` to `max` display columns, with `…` when cut.
fn cut(text: &str, max: usize) -> String {
    if text.width() <= max {
        return text.to_string();
    }
    let mut out = String::new();
    for ch in text.chars() {
        if out.width() + unicode_width::UnicodeWidthChar::width(ch).unwrap_or(0) + 1 > max {
            break;
        }
        out.push(ch);
    }
    out.push('…');
    out
}

/// Width plain output aims for (previews are cut to fit).
const LINE_WIDTH: usize = 80;

#[cfg(test)]
fn render_inbox<Tz: TimeZone>(rows: &[ConversationSummary], now: DateTime<Utc>, tz: &Tz) -> String
where
    Tz::Offset: std::fmt::Display,
{
    let whens: Vec<String> = rows
        .iter()
        .map(|c| c.last_message_time.map(|t| relative(t.utc(), now, tz)).unwrap_or_default())
        .collect();
    render_rows(rows, &whens)
}

/// Inbox rows, aligned: unread badge, name, `whens` (one per row), preview.
fn render_rows(rows: &[ConversationSummary], whens: &[String]) -> String {
    if rows.is_empty() {
        return "No conversations.\n".to_string();
    }
    let names: Vec<String> = rows.iter().map(|c| sanitize_line(&c.with_user)).collect();
    let name_w = names.iter().map(|n| n.width()).max().unwrap_or(0).min(24);
    let when_w = whens.iter().map(|w| w.width()).max().unwrap_or(0);
    let mut out = String::new();
    let mut total = 0;
    for ((c, name), when) in rows.iter().zip(&names).zip(whens) {
        total += c.unread_count;
        let badge = if c.unread_count > 0 { format!("({})", c.unread_count) } else { String::new() };
        let prefix = format!("{:>5}  {}  {}  ", badge, pad(&cut(name, name_w), name_w), pad(when, when_w));
        let room = LINE_WIDTH.saturating_sub(prefix.width()).max(10);
        out.push_str(
            &format!("{prefix}{}\n", cut(&sanitize_line(&c.last_message), room)).replace("  \n", "\n"),
        );
    }
    if total > 0 {
        out.push_str(&format!("{total} unread\n"));
    }
    out
}

fn render_conversation<Tz: TimeZone>(user: &str, msgs: &[Message], now: DateTime<Utc>, tz: &Tz) -> String
where
    Tz::Offset: std::fmt::Display,
{
    if msgs.is_empty() {
        return format!("No messages with {}.\n", sanitize_line(user));
    }
    let senders: Vec<String> = msgs.iter().map(|m| sanitize_line(&m.sender)).collect();
    let name_w = senders.iter().map(|n| n.width()).max().unwrap_or(0).min(24);
    let whens: Vec<String> =
        msgs.iter().map(|m| m.sent_at.map(|t| relative(t.utc(), now, tz)).unwrap_or_default()).collect();
    let when_w = whens.iter().map(|w| w.width()).max().unwrap_or(0);
    let indent = " ".repeat(when_w + 2 + name_w + 2);
    let mut out = String::new();
    for ((m, sender), when) in msgs.iter().zip(&senders).zip(&whens) {
        let body = crate::model::sanitize::sanitize(&m.content);
        let mut lines = body.lines();
        let first = lines.next().unwrap_or("");
        let subject = m
            .subject
            .as_deref()
            .map(sanitize_line)
            .filter(|s| !s.trim().is_empty())
            .map(|s| format!("[{s}] "))
            .unwrap_or_default();
        out.push_str(&format!(
            "{}  {}  {subject}{first}\n",
            pad(when, when_w),
            pad(&cut(sender, name_w), name_w)
        ));
        for line in lines {
            out.push_str(&format!("{indent}{line}\n"));
        }
    }
    out
}

fn render_pet(pet: &Pet) -> String {
    let bar = |v: i64| {
        let v = v.clamp(0, 100);
        let filled = (v as usize + 5) / 10;
        format!("{:>3}  [{}{}]", v, "#".repeat(filled), "-".repeat(10 - filled))
    };
    let mut out = format!(
        "{} the {} ({}), {} coins, {} XP\n",
        sanitize_line(&pet.name),
        sanitize_line(&pet.species),
        sanitize_line(&pet.stage),
        pet.coins,
        pet.xp
    );
    for (label, value) in [
        ("hunger", pet.hunger),
        ("happiness", pet.happiness),
        ("energy", pet.energy),
        ("hygiene", pet.hygiene),
    ] {
        out.push_str(&format!("  {label:<10}{}\n", bar(value)));
    }
    if !pet.hat.is_empty() && pet.hat != "None" {
        out.push_str(&format!("  hat       {}\n", sanitize_line(&pet.hat)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::time::Timestamp;

    fn at(s: &str) -> DateTime<Utc> {
        crate::model::time::parse_timestamp(s).unwrap()
    }

    #[test]
    fn exit_codes_for_api_errors() {
        let code = |e| Failure::api(e, None).code;
        assert_eq!(code(ApiError::SessionExpired), EXIT_AUTH);
        assert_eq!(code(ApiError::Forbidden("x".into())), EXIT_REFUSED);
        assert_eq!(code(ApiError::NotFound("x".into())), EXIT_REFUSED);
        assert_eq!(code(ApiError::Invalid("x".into())), EXIT_REFUSED);
        assert_eq!(
            code(ApiError::RateLimited { retry_after: std::time::Duration::from_secs(1) }),
            EXIT_REFUSED
        );
        assert_eq!(code(ApiError::Offline("x".into())), EXIT_OFFLINE);
        assert_eq!(code(ApiError::Server { status: 500, text: "x".into(), error_id: None }), EXIT_SERVER);
        let f = Failure::api(
            ApiError::RateLimited { retry_after: std::time::Duration::from_secs(60) },
            Some("Too many requests. Please wait 60 seconds.".into()),
        );
        assert!(f.message.starts_with("Too many requests. Please wait 60 seconds."), "{}", f.message);
    }

    #[test]
    fn inbox_rows_are_aligned_and_sanitized() {
        let now = at("2026-02-05T16:30:00Z");
        let rows = vec![
            ConversationSummary {
                with_user: "sam".into(),
                last_message: "Hello\x1b[2J there".into(),
                last_message_time: Some(Timestamp(at("2026-02-05T14:02:00Z"))),
                unread_count: 2,
                ..Default::default()
            },
            ConversationSummary {
                with_user: "dr_morgan".into(),
                last_message: "x".repeat(200),
                last_message_time: Some(Timestamp(at("2026-02-03T14:02:00Z"))),
                unread_count: 0,
                ..Default::default()
            },
        ];
        let out = render_inbox(&rows, now, &Utc);
        let lines: Vec<&str> = out.lines().collect();
        assert!(lines[0].starts_with("  (2)  sam        14:02  Hello"), "{out}");
        assert!(lines[1].starts_with("       dr_morgan  Tue    xxx"), "{out}");
        assert!(!out.contains('\x1b'));
        assert!(lines.iter().all(|l| l.width() <= LINE_WIDTH), "{out}");
        assert_eq!(lines[2], "2 unread");
        assert_eq!(render_inbox(&[], now, &Utc), "No conversations.\n");
    }

    #[test]
    fn conversation_indents_continuation_lines() {
        let now = at("2026-02-05T16:30:00Z");
        let msgs = vec![Message {
            id: 1,
            sender: "dr_morgan".into(),
            content: "first\nsecond".into(),
            subject: Some("Check-in".into()),
            sent_at: Some(Timestamp(at("2026-02-05T09:05:00Z"))),
            ..Default::default()
        }];
        let out = render_conversation("dr_morgan", &msgs, now, &Utc);
        assert_eq!(out, "09:05  dr_morgan  [Check-in] first\n                  second\n");
    }

    #[test]
    fn json_escapes_terminal_steering_characters() {
        let safe = json_terminal_safe("{\"a\":\"x\u{202e}y\u{9b}z\"}");
        assert_eq!(safe, "{\"a\":\"x\\u202ey\\u009bz\"}");
        let back: serde_json::Value = serde_json::from_str(&safe).unwrap();
        assert_eq!(back["a"], "x\u{202e}y\u{9b}z");
    }

    #[test]
    fn pet_lines() {
        let pet = Pet {
            name: "Biscuit".into(),
            species: "Dog".into(),
            stage: "Baby".into(),
            coins: 50,
            hunger: 70,
            hat: "None".into(),
            ..Default::default()
        };
        let out = render_pet(&pet);
        assert!(out.starts_with("Biscuit the Dog (Baby), 50 coins, 0 XP\n"), "{out}");
        assert!(out.contains("  hunger     70  [#######---]"), "{out}");
        assert!(!out.contains("hat"));
    }
}
