//! The interactive client's main loop: terminal setup and restore, events in, actions
//! through `update`, effects out to the runner, and drawing only when state changed
//! (never on a timer: an idle client writes nothing to its terminal).
//!
//! The loop itself ([`event_loop`]) is generic over the ratatui backend and the input
//! stream, so tests drive the whole app with a `TestBackend` and scripted keys.

use std::future::Future;
use std::io;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use crossterm::event::{Event, KeyEvent, KeyEventKind, KeyModifiers};
use futures_util::{Stream, StreamExt};
use ratatui::backend::Backend;
use ratatui::Terminal;
use tokio::sync::mpsc::UnboundedReceiver;

use crate::app::action::Action;
use crate::app::effect::Effect;
use crate::app::keymap::{Key, KeyCode};
use crate::app::runner::Runner;
use crate::app::service::{Connect, Service};
use crate::app::state::{LayoutPref, Look, State, ThemeKind};
use crate::app::{drafts, update};
use crate::cli::{GlobalOpts, LayoutName, LookOpts, ThemeName};
use chrono::Offset;

/// Open the interactive client: the saved session when there is one (for the server
/// asked for), else the login screen.
pub fn run_tui(global: &GlobalOpts, look: &LookOpts) -> anyhow::Result<ExitCode> {
    crate::app::terminal::install_panic_hook();
    let paths = crate::config::Paths::resolve(global)?;
    let loaded = crate::config::Config::load(&paths.config_dir)?;
    // Logs go to a file: stderr is the screen while the client runs.
    if let Err(e) = crate::logging::init(&paths) {
        if !matches!(e, crate::logging::LogError::AlreadySet) {
            eprintln!(
                "healing-tui: warning: no log file: {}",
                crate::sanitize::sanitize_line(&e.to_string())
            );
        }
    }
    let config = loaded.config;
    let (keymap, mut warnings) = crate::app::keymap::Keymap::with_overrides(&config.keys);
    warnings.extend(loaded.warnings);
    let opts = crate::api::ClientOptions::from_global(global);
    let wanted = config.server(global);
    let session = match crate::store::session::Session::load(&paths.config_dir) {
        Ok(s) => s,
        Err(e) => {
            warnings.push(e.to_string());
            None
        }
    };
    let same_server = |s: &crate::store::session::Session| match &wanted {
        None => true,
        Some(w) => crate::api::client::parse_server_url(w, true).is_ok_and(|u| u.as_str() == s.server),
    };
    let service = session.as_ref().filter(|s| same_server(s)).and_then(|s| {
        crate::api::Client::from_session(s, &opts)
            .ok()
            .map(|c| (crate::app::client_service::ClientService::new(c), s.username.clone()))
    });
    let server = wanted.or_else(|| session.map(|s| s.server));
    let look = look_resolved(&config, look);
    let start = Start {
        connect: crate::app::client_service::ClientConnect { opts, config_dir: paths.config_dir.clone() },
        service,
        look,
        keymap,
        server,
        data_dir: Some(paths.data_dir.clone()),
        warnings,
        link: crate::live::link::LinkConfig::from_config(&config.poll),
        notify: notify_config(&config.notify),
        pet_animate: config.pet.animate,
    };
    // The event loop runs on this thread (`block_on`); one worker carries the effects, so a
    // store write never holds up a frame, and a second worker would only cost memory.
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build()?;
    rt.block_on(run_interactive(start))?;
    Ok(ExitCode::SUCCESS)
}

/// `healing-tui demo`: the client logged in as `username` on the demo server at `url`,
/// with throwaway config and data directories (the user's own session is untouched);
/// looks and keys still come from the user's flags and config file.
pub async fn run_demo(
    url: &str,
    username: &str,
    password: &str,
    pin: &str,
    global: &GlobalOpts,
    look: &LookOpts,
) -> anyhow::Result<ExitCode> {
    crate::app::terminal::install_panic_hook();
    let config = crate::config::Paths::resolve(global)
        .ok()
        .and_then(|p| crate::config::Config::load(&p.config_dir).ok())
        .unwrap_or_default();
    let (keymap, mut warnings) = crate::app::keymap::Keymap::with_overrides(&config.config.keys);
    warnings.extend(config.warnings);
    let dir = tempfile::Builder::new().prefix("healing-tui-demo-client-").tempdir()?;
    let opts = crate::api::ClientOptions::default();
    let client = crate::api::Client::new(url, &opts)?;
    let login = crate::api::types::LoginRequest {
        username: username.to_owned(),
        password: password.to_owned(),
        pin: pin.to_owned(),
        remember_me: None,
    };
    let me = client.login(&login).await?.username;
    let me = if me.trim().is_empty() { username.to_owned() } else { me };
    let start = Start {
        connect: crate::app::client_service::ClientConnect { opts, config_dir: dir.path().join("config") },
        service: Some((crate::app::client_service::ClientService::new(client), me)),
        look: look_resolved(&config.config, look),
        keymap,
        server: Some(url.to_owned()),
        data_dir: Some(dir.path().join("data")),
        warnings,
        link: crate::live::link::LinkConfig::from_config(&config.config.poll),
        notify: notify_config(&config.config.notify),
        pet_animate: config.config.pet.animate,
    };
    run_interactive(start).await?;
    Ok(ExitCode::SUCCESS)
}

/// How to start the interactive client.
pub struct Start<C: Connect> {
    /// Makes services for logins.
    pub connect: C,
    /// Already logged in (a saved session, or the demo): its service and username.
    pub service: Option<(C::Service, String)>,
    /// Looks.
    pub look: Look,
    /// The key table (defaults plus config overrides).
    pub keymap: crate::app::keymap::Keymap,
    /// Server URL to offer on the login form.
    pub server: Option<String>,
    /// Where drafts are kept.
    pub data_dir: Option<PathBuf>,
    /// Problems worth one notice at start (bad `[keys]` entries, config warnings).
    pub warnings: Vec<String>,
    /// Settings of the live link (`[poll]` in `config.toml`).
    pub link: crate::live::link::LinkConfig,
    /// Notifications (`[notify]` in `config.toml`).
    pub notify: crate::live::notify::NotifyConfig,
    /// Animate the pet (`[pet] animate` in `config.toml`; off: an idle client draws nothing).
    pub pet_animate: bool,
}

/// Run the interactive client on the real terminal until the user quits or a signal
/// arrives. The terminal is restored on every way out, panics included.
pub async fn run_interactive<C: Connect>(start: Start<C>) -> anyhow::Result<()> {
    crate::app::terminal::install_panic_hook();
    let tz = *chrono::Local::now().offset();
    let mut state = State::new(chrono::Utc::now(), tz.fix(), start.look, start.keymap);
    // Client ids (outbox keys, Idempotency-Key) must differ from every earlier run's.
    state.client_id_base = uuid::Uuid::new_v4().as_u128();
    state.login.server = start.server.unwrap_or_default();
    if state.login.server.is_empty() {
        state.login.focus = crate::app::state::LoginField::Server;
    }
    if let Some(w) = start.warnings.first() {
        state.notify(crate::app::state::NoticeKind::Error, w);
    }
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let service = start.service.map(|(svc, user)| {
        let _ = tx.send(Action::LoginSucceeded { username: user.clone(), server: svc.server() });
        state.login.username = user;
        svc
    });
    let runner = Runner::new(start.connect, service, tx)
        .with_link_config(start.link)
        .with_pet_animate(start.pet_animate);
    crate::app::terminal::enter()?;
    // Frugal output: unchanged styles are not re-sent, and rows that moved as a block
    // are scrolled by the terminal instead of repainted (see `ui::scroll`).
    let backend = crate::ui::scroll::ScrollBackend::new(io::stdout());
    let mut terminal = match Terminal::new(backend) {
        Ok(t) => t,
        Err(e) => {
            crate::app::terminal::restore();
            return Err(e.into());
        }
    };
    if let Ok(size) = terminal.size() {
        state.size = (size.width, size.height);
    }
    let mut host = Host {
        new_input: Box::new(crossterm::event::EventStream::new),
        edit: Box::new(|text| Box::pin(crate::app::terminal::edit_in_editor(text))),
        drafts: drafts::Drafts::new(start.data_dir),
        notify: Some(start.notify),
        alert: Box::new(|bytes| {
            use std::io::Write;
            let mut out = io::stdout();
            let _ = out.write_all(bytes);
            let _ = out.flush();
        }),
    };
    let result = event_loop(
        &mut terminal,
        &mut state,
        &runner,
        &mut rx,
        &mut host,
        crate::app::terminal::shutdown_signal(),
    )
    .await;
    crate::app::terminal::restore();
    Ok(result?)
}

/// Notification settings for this terminal (OSC 9 or 777 by `TERM_PROGRAM`).
fn notify_config(c: &crate::config::NotifyConfig) -> crate::live::notify::NotifyConfig {
    let term = std::env::var("TERM_PROGRAM").ok();
    let windows_terminal = std::env::var_os("WT_SESSION").is_some();
    crate::live::notify::NotifyConfig::from_config(
        c,
        crate::live::notify::Desktop::for_terminal(term.as_deref(), windows_terminal),
    )
}

/// Looks from flags, environment and the config file.
fn look_resolved(config: &crate::config::Config, opts: &LookOpts) -> Look {
    let mut look = look_from(opts, Some(config.theme(opts)), config.layout(opts));
    look.ascii = config.ascii(opts);
    look.quiet_clock = config.quiet_clock(opts);
    look
}

/// Looks from flags and environment: `--theme` wins, then `NO_COLOR`, then the config
/// file, then 256 colours; `--layout` wins over the config file, else by width.
pub fn look_from(
    opts: &LookOpts,
    theme_from_config: Option<ThemeName>,
    layout_from_config: Option<LayoutName>,
) -> Look {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let theme = match (opts.theme, no_color, theme_from_config) {
        (Some(t), _, _) => t,
        (None, true, _) => ThemeName::Mono,
        (None, false, Some(t)) => t,
        (None, false, None) => ThemeName::C256,
    };
    Look {
        theme: match theme {
            ThemeName::C256 => ThemeKind::C256,
            ThemeName::C16 => ThemeKind::C16,
            ThemeName::Mono => ThemeKind::Mono,
        },
        layout: match opts.layout.or(layout_from_config) {
            None => LayoutPref::Auto,
            Some(LayoutName::Panes) => LayoutPref::Panes,
            Some(LayoutName::Compact) => LayoutPref::Compact,
        },
        ascii: opts.ascii,
        quiet_clock: opts.quiet_clock,
    }
}

/// A crossterm key as ours; `None` for releases and keys we do not use.
pub fn key_from(ev: KeyEvent) -> Option<Key> {
    if ev.kind == KeyEventKind::Release {
        return None;
    }
    use crossterm::event::KeyCode as C;
    let code = match ev.code {
        C::Char(c) => KeyCode::Char(c),
        C::Enter => KeyCode::Enter,
        C::Esc => KeyCode::Esc,
        C::Tab if ev.modifiers.contains(KeyModifiers::SHIFT) => KeyCode::BackTab,
        C::Tab => KeyCode::Tab,
        C::BackTab => KeyCode::BackTab,
        C::Backspace => KeyCode::Backspace,
        C::Delete => KeyCode::Delete,
        C::Up => KeyCode::Up,
        C::Down => KeyCode::Down,
        C::Left => KeyCode::Left,
        C::Right => KeyCode::Right,
        C::Home => KeyCode::Home,
        C::End => KeyCode::End,
        C::PageUp => KeyCode::PageUp,
        C::PageDown => KeyCode::PageDown,
        C::F(n) => KeyCode::F(n),
        _ => return None,
    };
    let ctrl = ev.modifiers.contains(KeyModifiers::CONTROL);
    let code = match code {
        // Terminals send ctrl-letters in either case; bindings use lower case.
        KeyCode::Char(c) if ctrl => KeyCode::Char(c.to_ascii_lowercase()),
        other => other,
    };
    Some(Key { code, ctrl, alt: ev.modifiers.contains(KeyModifiers::ALT) })
}

/// A terminal event as an action.
pub fn action_from(ev: Event) -> Option<Action> {
    match ev {
        Event::Key(k) => key_from(k).map(Action::Key),
        Event::Resize(w, h) => Some(Action::Resize(w, h)),
        Event::Paste(text) => Some(Action::Paste(text)),
        _ => None,
    }
}

/// Backends that can forget what they believe the terminal shows (after `$EDITOR` had
/// it), so the next frame repaints from a known state.
pub trait Forget {
    /// Forget the terminal's contents, pen and cursor.
    fn forget(&mut self) {}
}

impl Forget for ratatui::backend::TestBackend {}

impl<W: io::Write> Forget for ratatui::backend::CrosstermBackend<W> {}

impl<W: io::Write> Forget for crate::ui::scroll::ScrollBackend<W> {
    fn forget(&mut self) {
        self.invalidate();
    }
}

/// Hands the terminal to an editor with some text and returns the edited text.
pub type EditFn<'a> =
    Box<dyn FnMut(String) -> std::pin::Pin<Box<dyn Future<Output = Option<String>> + Send>> + 'a>;

/// What the loop needs from its surroundings besides the terminal.
pub struct Host<'a, I> {
    /// Makes a fresh input stream (again after `$EDITOR` had the terminal).
    pub new_input: Box<dyn FnMut() -> I + 'a>,
    /// Hands the terminal to `$EDITOR` with the text; the edited text, or `None`.
    pub edit: EditFn<'a>,
    /// Where drafts are kept.
    pub drafts: drafts::Drafts,
    /// Bell, desktop notification and title for news (`None`: none at all).
    pub notify: Option<crate::live::notify::NotifyConfig>,
    /// Writes notification bytes to the terminal (outside the frame: no cell changes).
    pub alert: AlertFn<'a>,
}

/// Writes bytes to the terminal outside any frame (bell, OSC notifications, title).
pub type AlertFn<'a> = Box<dyn FnMut(&[u8]) + 'a>;

/// The bytes that announce `action`'s news: a bell or desktop notification for a message
/// in a conversation not on screen (never its text unless configured).
fn alerts(state: &State, action: &Action, config: &crate::live::notify::NotifyConfig) -> Vec<u8> {
    let (Action::MessagesArrived(msgs), Some(me)) = (action, &state.me) else { return Vec::new() };
    msgs.iter()
        .flat_map(|m| {
            let other = if &m.sender == me { &m.recipient } else { &m.sender };
            let on_screen = state.screen == crate::app::state::Screen::Main
                && state.conv.as_ref().is_some_and(|c| c.with_user.eq_ignore_ascii_case(other));
            // The same message again (push, then our own catch-up) rings once.
            let held =
                state.conv.as_ref().is_some_and(|c| c.messages.binary_search_by_key(&m.id, |x| x.id).is_ok());
            if held {
                Vec::new()
            } else {
                crate::live::notify::on_new_message(config, me, m, on_screen)
            }
        })
        .collect()
}

/// Run the client until the user quits, the input ends, or `shutdown` resolves (a
/// signal: drafts are saved first). Draws only when `state.dirty`.
pub async fn event_loop<B, C, I>(
    terminal: &mut Terminal<B>,
    state: &mut State,
    runner: &Runner<C>,
    rx: &mut UnboundedReceiver<Action>,
    host: &mut Host<'_, I>,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()>
where
    B: Backend + Forget,
    C: Connect,
    I: Stream<Item = io::Result<Event>> + Unpin,
{
    let draw_err = |e: B::Error| io::Error::other(e.to_string());
    let mut input = Some((host.new_input)());
    // Relative times change only with the date; a minute tick is enough, and update
    // asks for a redraw only when the day actually changed.
    let mut tick = tokio::time::interval_at(
        tokio::time::Instant::now() + Duration::from_secs(60),
        Duration::from_secs(60),
    );
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tokio::pin!(shutdown);
    loop {
        // Results already waiting are applied before drawing: one frame for a burst, and
        // no login form flashing up before a saved session's `LoginSucceeded` is applied.
        if state.dirty && rx.is_empty() {
            terminal.draw(|f| crate::ui::view(state, f)).map_err(draw_err)?;
            state.dirty = false;
        }
        if state.quit {
            break;
        }
        let next = async {
            match input.as_mut() {
                Some(i) => i.next().await,
                None => std::future::pending().await,
            }
        };
        // Results first: what the user sees should be current before the next key acts on it.
        let action = tokio::select! {
            biased;
            () = &mut shutdown => break,
            Some(a) = rx.recv() => Some(a),
            ev = next => match ev {
                Some(Ok(ev)) => action_from(ev),
                Some(Err(e)) => return Err(e),
                None => break,
            },
            _ = tick.tick(), if !state.look.quiet_clock => Some(Action::Tick(chrono::Utc::now())),
        };
        let Some(action) = action else { continue };
        if let Action::Key(_) = action {
            // Polling goes back to the brisk cadence while someone is there.
            runner.user_input();
        }
        if let Some(config) = &host.notify {
            let bytes = alerts(state, &action, config);
            if !bytes.is_empty() {
                (host.alert)(&bytes);
            }
        }
        let unread_before = state.inbox.total_unread;
        let account = match &action {
            Action::LoginSucceeded { username, server } => Some((server.clone(), username.clone())),
            _ => None,
        };
        let mut effects = update(state, action);
        if let Some((server, username)) = account {
            runner.start_polling();
            let (saved, note) = host.drafts.open(&server, &username);
            // Before the effects below run: the cache shows before the first fetch.
            runner.set_store(host.drafts.shared());
            effects.extend(update(state, Action::DraftsLoaded(saved)));
            if let Some(note) = note {
                effects.extend(update(state, Action::Info(note)));
            }
        }
        while !effects.is_empty() {
            let mut more = Vec::new();
            for fx in effects {
                match fx {
                    Effect::Quit => state.quit = true,
                    Effect::SaveDraft { user, text } => host.drafts.save(&user, &text),
                    Effect::OpenEditor { user, text } => {
                        // The input reader pauses while the editor owns the terminal.
                        drop(input.take());
                        let edited = (host.edit)(text).await;
                        input = Some((host.new_input)());
                        terminal.backend_mut().forget();
                        terminal.clear().map_err(draw_err)?;
                        more.extend(update(state, Action::EditorDone { user, text: edited }));
                        state.dirty = true;
                    }
                    other => runner.run(other),
                }
            }
            effects = more;
        }
        if let (Some(config), true) = (&host.notify, unread_before != state.inbox.total_unread) {
            let title = crate::live::notify::title(config, "healing-tui", state.inbox.total_unread);
            if !title.is_empty() {
                (host.alert)(&title);
            }
        }
        // The live link refreshes the conversation on screen (and only that one).
        runner.note_open(state.conv.as_ref().map(|c| (c.with_user.as_str(), c.last_id().unwrap_or(0))));
    }
    // Every way out keeps every draft (quit, end of input, SIGHUP/SIGTERM).
    host.drafts.save_all(state);
    runner.persist();
    Ok(())
}

#[cfg(test)]
#[path = "run_tests.rs"]
mod tests;
