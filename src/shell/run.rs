//! The interactive client's main loop: terminal setup and restore, events in, actions
//! through `update` (its `step`), effects out (the terminal's own to
//! [`crate::shell::term_effects`], the rest to the runner), and drawing only when the
//! frame changed (never on a timer: an idle client writes nothing to its terminal). The
//! loop holds no store: nothing it does waits on disk.
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
use crate::app::state::{LayoutPref, Look, State, ThemeKind};
use crate::app::update;
use crate::config::{GlobalFlags, LayoutName, LookFlags, ThemeName};
use crate::shell::runner::Runner;
use crate::shell::service::Connect;
use crate::shell::term_effects;
use crate::sync::service::Service;
use chrono::Offset;

/// Open the interactive client: the saved session when there is one (for the server
/// asked for), else the login screen.
pub fn run_tui(global: &GlobalFlags, look: &LookFlags) -> anyhow::Result<ExitCode> {
    crate::shell::terminal::install_panic_hook();
    let started = match crate::config::startup::start(global, "interactive client") {
        Ok(started) => started,
        Err(crate::config::startup::StartError::Config(e)) => return Ok(config_stop(&e)),
        Err(e) => return Err(e.into()),
    };
    let (keymap, notes) = match keys_for(&started.loaded) {
        Ok(found) => found,
        Err(e) => return Ok(config_stop(&e)),
    };
    // Said now, while stderr is still the person's: from here on it is the screen.
    if let Some(why) = &started.no_log {
        eprintln!("healing-tui: warning: {}", crate::model::sanitize::sanitize_line(why));
    }
    let (paths, loaded) = (started.paths, started.loaded);
    let opts = crate::api::ClientOptions::from_global(global);
    let connect = crate::shell::client_service::ClientConnect {
        opts: opts.clone(),
        config_dir: paths.config_dir.clone(),
    };
    let mut start = Start::configured(connect, &loaded, look, (keymap, notes));
    let wanted = loaded.config.server(global);
    let session = match crate::store::session::Session::load(&paths.config_dir) {
        Ok(s) => s,
        Err(e) => {
            start.warnings.push(e.to_string());
            None
        }
    };
    let same_server = |s: &crate::store::session::Session| match &wanted {
        None => true,
        Some(w) => crate::api::client::parse_server_url(w, true).is_ok_and(|u| u.as_str() == s.server),
    };
    start.service = session
        .as_ref()
        .filter(|s| same_server(s))
        .and_then(|s| crate::api::Client::from_session(s, &opts).ok().map(|c| (c, s.username.clone())));
    start.server = wanted.or_else(|| session.map(|s| s.server));
    start.data_dir = Some(paths.data_dir.clone());
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
    config: &crate::config::Loaded,
    look: &LookFlags,
) -> anyhow::Result<ExitCode> {
    crate::shell::terminal::install_panic_hook();
    let keys = match keys_for(config) {
        Ok(found) => found,
        Err(e) => return Ok(config_stop(&e)),
    };
    let dir = tempfile::Builder::new().prefix("healing-tui-demo-client-").tempdir()?;
    let opts = crate::api::ClientOptions::default();
    let client = crate::api::Client::new(url, &opts)?;
    let login = crate::model::types::LoginRequest {
        username: username.to_owned(),
        password: password.to_owned(),
        pin: pin.to_owned(),
        remember_me: None,
    };
    let me = client.login(&login).await?.username;
    let me = if me.trim().is_empty() { username.to_owned() } else { me };
    let connect = crate::shell::client_service::ClientConnect { opts, config_dir: dir.path().join("config") };
    let mut start = Start::configured(connect, config, look, keys);
    start.service = Some((client, me));
    start.server = Some(url.to_owned());
    start.data_dir = Some(dir.path().join("data"));
    run_interactive(start).await?;
    Ok(ExitCode::SUCCESS)
}

/// The key table: defaults plus the config file's `[keys]`. A `[keys]` entry that
/// cannot be used stops start-up, pointing at its place in the file.
fn keys_for(
    loaded: &crate::config::Loaded,
) -> Result<(crate::app::keymap::Keymap, Vec<String>), crate::config::ConfigError> {
    crate::app::keymap::Keymap::with_overrides(&loaded.config.keys)
        .map_err(|bad| loaded.key_error(&bad.key, bad.reason))
}

/// Say why the config stops start-up (before the terminal is taken: stderr is still
/// the person's), with the exit status of a local file problem.
pub fn config_stop(e: &crate::config::ConfigError) -> ExitCode {
    eprintln!("healing-tui: {}", crate::model::sanitize::sanitize_line(&e.to_string()));
    ExitCode::from(crate::config::EXIT_LOCAL)
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
    /// Problems worth one notice at start (config warnings, a session file unusable).
    pub warnings: Vec<String>,
    /// Things worth knowing at start that are not problems (how a binding acts).
    pub notes: Vec<String>,
    /// Settings of the live link (`[poll]` in `config.toml`).
    pub link: crate::sync::link::LinkConfig,
    /// Notifications (`[notify]` in `config.toml`).
    pub notify: crate::shell::notify::NotifyConfig,
    /// Animate the pet (`[pet] animate` in `config.toml`; off: an idle client draws nothing).
    pub pet_animate: bool,
    /// The inbox order chosen in `config.toml` (`inbox.sort`); `None`: by role.
    pub inbox_sort: Option<crate::model::waiting::SortMode>,
    /// Quick replies (`[snippets]` in `config.toml`).
    pub snippets: std::collections::BTreeMap<String, String>,
    /// `y` copies with OSC 52 (`clipboard` in `config.toml`).
    pub clipboard: bool,
    /// URLs in messages become OSC 8 links (`links` in `config.toml`).
    pub links: bool,
}

impl<C: Connect> Start<C> {
    /// A start as `config.toml` and the look flags say: looks, keys, the link, notifications
    /// and the rest. Not logged in, no server offered, no data directory: those are the
    /// caller's to set.
    fn configured(
        connect: C,
        loaded: &crate::config::Loaded,
        look: &LookFlags,
        (keymap, notes): (crate::app::keymap::Keymap, Vec<String>),
    ) -> Start<C> {
        let config = &loaded.config;
        Start {
            connect,
            service: None,
            look: look_resolved(config, look),
            keymap,
            server: None,
            data_dir: None,
            warnings: loaded.warnings.clone(),
            notes,
            link: crate::sync::link::LinkConfig::from_config(&config.poll),
            notify: notify_config(&config.notify),
            pet_animate: config.pet.animate,
            inbox_sort: config.inbox.sort,
            snippets: config.snippets.clone(),
            clipboard: config.clipboard == crate::config::Clipboard::Osc52,
            links: config.links,
        }
    }
}

/// Run the interactive client on the real terminal until the user quits or a signal
/// arrives. The terminal is restored on every way out, panics included.
pub async fn run_interactive<C: Connect>(start: Start<C>) -> anyhow::Result<()> {
    crate::shell::terminal::install_panic_hook();
    let tz = *chrono::Local::now().offset();
    let mut state = State::new(chrono::Utc::now(), tz.fix(), start.look, start.keymap);
    // Client ids (outbox keys, Idempotency-Key) must differ from every earlier run's.
    state.client_id_base = uuid::Uuid::new_v4().as_u128();
    state.clipboard = start.clipboard;
    state.login.server = start.server.unwrap_or_default();
    if state.login.server.is_empty() {
        state.login.focus = crate::app::state::LoginField::Server;
    }
    if let Some(sort) = start.inbox_sort {
        state.inbox.sort = sort;
        state.inbox.sort_chosen = true;
    }
    state.snippets = start.snippets;
    if let Some(w) = start.warnings.first() {
        state.notify(crate::app::state::NoticeKind::Error, w);
    } else if let Some(n) = start.notes.first() {
        state.notify(crate::app::state::NoticeKind::Info, n);
    }
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let service = start.service.map(|(svc, user)| {
        let _ = tx.send(Action::LoginSucceeded { username: user.clone(), server: svc.server() });
        if let Some(role) = svc.role() {
            let _ = tx.send(Action::RoleKnown(role));
        }
        state.login.username = user;
        svc
    });
    let runner = Runner::new(start.connect, service, tx)
        .with_link_config(start.link)
        .with_pet_animate(start.pet_animate)
        .with_accounts(crate::shell::account::Accounts::new(start.data_dir));
    crate::shell::terminal::enter()?;
    // Frugal output: unchanged styles are not re-sent, and rows that moved as a block
    // are scrolled by the terminal instead of repainted (see `ui::scroll`).
    // URLs become OSC 8 links there too: ratatui's cells cannot carry a link.
    let backend = crate::term::ScrollBackend::new(io::stdout()).with_links(start.links);
    let mut terminal = match Terminal::new(backend) {
        Ok(t) => t,
        Err(e) => {
            crate::shell::terminal::restore();
            return Err(e.into());
        }
    };
    if let Ok(size) = terminal.size() {
        state.size = (size.width, size.height);
    }
    let mut host = Host {
        new_input: Box::new(crossterm::event::EventStream::new),
        edit: Box::new(|text| Box::pin(crate::shell::terminal::edit_in_editor(text))),
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
        crate::shell::terminal::shutdown_signal(),
    )
    .await;
    finish_terminal(terminal, result)
}

/// Give the terminal back. When it is gone (SIGHUP, the pty closed) nobody is there to
/// read a complaint, and stderr is usually that same dead terminal: say nothing (the
/// log has it; the loop saved the drafts), and skip ratatui's own cursor restore, which
/// would print "Failed to show the cursor" on the way out.
fn finish_terminal<B: Backend>(mut terminal: Terminal<B>, result: io::Result<()>) -> anyhow::Result<()> {
    let gone = terminal.show_cursor().is_err();
    crate::shell::terminal::restore();
    if gone {
        if let Err(e) = &result {
            tracing::info!(error = %e, "the terminal went away");
        }
        std::mem::forget(terminal);
        return Ok(());
    }
    Ok(result?)
}

/// Notification settings for this terminal (OSC 9 or 777 by `TERM_PROGRAM`).
fn notify_config(c: &crate::config::NotifyConfig) -> crate::shell::notify::NotifyConfig {
    let term = std::env::var("TERM_PROGRAM").ok();
    let windows_terminal = std::env::var_os("WT_SESSION").is_some();
    crate::shell::notify::NotifyConfig::from_config(
        c,
        crate::shell::notify::Desktop::for_terminal(term.as_deref(), windows_terminal),
    )
}

/// Looks from flags, environment and the config file.
fn look_resolved(config: &crate::config::Config, opts: &LookFlags) -> Look {
    let mut look = look_from(opts, Some(config.theme(opts)), config.layout(opts));
    look.ascii = config.ascii(opts);
    look.quiet_clock = config.quiet_clock(opts);
    look
}

/// Looks from flags and environment: `--theme` wins, then `NO_COLOR`, then the config
/// file, then 256 colours; `--layout` wins over the config file, else by width.
pub fn look_from(
    opts: &LookFlags,
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

impl<W: io::Write> Forget for crate::term::ScrollBackend<W> {
    fn forget(&mut self) {
        self.invalidate();
    }
}

/// Hands the terminal to an editor with some text and returns the edited text.
pub type EditFn<'a> =
    Box<dyn FnMut(String) -> std::pin::Pin<Box<dyn Future<Output = Option<String>> + Send>> + 'a>;

/// What the loop needs from its surroundings besides the terminal. (No store: drafts
/// and everything else on disk go through the runner's effects.)
pub struct Host<'a, I> {
    /// Makes a fresh input stream (again after `$EDITOR` had the terminal).
    pub new_input: Box<dyn FnMut() -> I + 'a>,
    /// Hands the terminal to `$EDITOR` with the text; the edited text, or `None`.
    pub edit: EditFn<'a>,
    /// Bell, desktop notification and title for news (`None`: none at all).
    pub notify: Option<crate::shell::notify::NotifyConfig>,
    /// Writes notification and clipboard bytes to the terminal (outside the frame: no
    /// cell changes).
    pub alert: AlertFn<'a>,
}

/// Writes bytes to the terminal outside any frame (bell, OSC notifications, title,
/// OSC 52 clipboard).
pub type AlertFn<'a> = Box<dyn FnMut(&[u8]) + 'a>;

/// Input events applied in a row without a frame in between: a flood of input must not
/// keep the screen from ever being drawn.
const MAX_UNDRAWN_EVENTS: usize = 4096;

/// What the loop takes in next: an action (`None`: an event it ignores), or the end of
/// the input (`Err(None)`) or its failure.
type Next = Result<Option<Action>, Option<io::Error>>;

fn input_of(ev: Option<io::Result<Event>>) -> Next {
    match ev {
        Some(Ok(ev)) => Ok(action_from(ev)),
        Some(Err(e)) => Err(Some(e)),
        None => Err(None),
    }
}

/// How long the loop waits for more input before drawing: keys of a paste (or typed
/// ahead on a slow link) come a few microseconds apart, a person's keys many
/// milliseconds apart, so a frame per key of a paste is avoided at no visible cost.
const TYPEAHEAD: Duration = Duration::from_millis(3);

/// The next input event; never, while the input is paused (`$EDITOR` has the terminal).
async fn next_input<I>(input: &mut Option<I>) -> Next
where
    I: Stream<Item = io::Result<Event>> + Unpin,
{
    match input.as_mut() {
        // `next` is cancel-safe: an event that comes after a wait stays in the stream.
        Some(i) => input_of(i.next().await),
        None => std::future::pending().await,
    }
}

/// What comes next if it comes within [`TYPEAHEAD`]: a result (first, as in the loop)
/// or an input event. `None`: time to draw.
async fn ready_soon<I>(input: &mut Option<I>, rx: &mut UnboundedReceiver<Action>) -> Option<Next>
where
    I: Stream<Item = io::Result<Event>> + Unpin,
{
    let result = async {
        match rx.recv().await {
            Some(a) => Ok(Some(a)),
            None => std::future::pending().await,
        }
    };
    tokio::time::timeout(TYPEAHEAD, async {
        tokio::select! {
            biased;
            r = result => r,
            ev = next_input(input) => ev,
        }
    })
    .await
    .ok()
}

/// Draw `state` into the terminal's frame; ratatui sends only the cells that differ from
/// the frame it drew last. Every idle moment draws rather than trusting each action to
/// say whether it changed something, so no action (nor a later one) can leave a stale
/// screen; an unchanged screen still writes nothing. ratatui's own previous frame is
/// the comparison: no third full-screen buffer is kept (each is ~48 bytes a cell).
fn show<B: Backend>(terminal: &mut Terminal<B>, state: &State) -> Result<(), B::Error> {
    terminal.draw(|f| crate::ui::view(state, f))?;
    Ok(())
}

/// The loop's hold on the terminal and the input between actions.
struct Loop<'t, 'h, 'a, B: Backend, I> {
    terminal: &'t mut Terminal<B>,
    host: &'h mut Host<'a, I>,
    /// `None` while `$EDITOR` has the terminal.
    input: Option<I>,
    /// Relative times change only with the date; a minute tick is enough, and the
    /// frame differs (and is drawn) only when something shown actually changed.
    tick: tokio::time::Interval,
    /// Input events taken without drawing in between (a paste typed key by key).
    drained: usize,
    /// The terminal can no longer be read or written: the loop ends like on a signal
    /// (drafts saved), and says so afterwards.
    failure: Option<io::Error>,
}

impl<'t, 'h, 'a, B, I> Loop<'t, 'h, 'a, B, I>
where
    B: Backend + Forget,
    I: Stream<Item = io::Result<Event>> + Unpin,
{
    fn new(terminal: &'t mut Terminal<B>, host: &'h mut Host<'a, I>) -> Self {
        let input = Some((host.new_input)());
        let every = Duration::from_secs(60);
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        Loop { terminal, host, input, tick, drained: 0, failure: None }
    }

    /// Draw unless more is ready (results and input waiting, or coming within
    /// [`TYPEAHEAD`], are applied first: one frame for a burst or a paste, and no login
    /// form flashing up before a saved session's `LoginSucceeded`). What was ready, or
    /// `Err(())` when the terminal failed.
    async fn draw_unless_busy(
        &mut self,
        state: &State,
        rx: &mut UnboundedReceiver<Action>,
    ) -> Result<Option<Next>, ()> {
        let mut ready = None;
        if rx.is_empty() {
            if self.drained < MAX_UNDRAWN_EVENTS && !state.quit {
                ready = ready_soon(&mut self.input, rx).await;
            }
            // Before waiting, and before leaving when the input ends.
            if !matches!(ready, Some(Ok(_))) {
                if let Err(e) = show(self.terminal, state) {
                    self.failure = Some(io::Error::other(e.to_string()));
                    return Err(());
                }
                self.drained = 0;
            }
        }
        Ok(ready)
    }

    /// The next action: input, a result, the minute tick. `None`: time to stop (quit,
    /// the input ended or failed, `shutdown` resolved, the terminal failed).
    async fn next_action<F: Future<Output = ()>>(
        &mut self,
        state: &State,
        rx: &mut UnboundedReceiver<Action>,
        shutdown: &mut std::pin::Pin<&mut F>,
    ) -> Option<Action> {
        loop {
            let ready = self.draw_unless_busy(state, rx).await.ok()?;
            if state.quit {
                return None;
            }
            let event = match ready {
                Some(ev) => {
                    self.drained += 1;
                    ev
                }
                // Results first: what the user sees should be current before the next key acts on it.
                None => tokio::select! {
                    biased;
                    () = shutdown.as_mut() => return None,
                    Some(a) = rx.recv() => Ok(Some(a)),
                    ev = next_input(&mut self.input) => ev,
                    _ = self.tick.tick(), if !state.look.quiet_clock => Ok(Some(Action::Tick(chrono::Utc::now()))),
                },
            };
            match event {
                Ok(Some(action)) => return Some(action),
                Ok(None) => {}
                Err(e) => {
                    self.failure = e;
                    return None;
                }
            }
        }
    }

    /// Hand every effect on: the terminal's own here, the rest to the runner. An edit
    /// comes back as `EditorDone`, applied at once with the effects it brings.
    async fn perform<C: Connect>(&mut self, state: &mut State, runner: &Runner<C>, mut effects: Vec<Effect>) {
        while !effects.is_empty() {
            let mut more = Vec::new();
            for fx in effects {
                match fx {
                    Effect::OpenEditor { user, text } => {
                        let text = self.edit(text).await;
                        more.extend(update::step(state, Action::EditorDone { user, text }));
                    }
                    // `update` has set `state.quit`: the loop ends after this batch.
                    Effect::Quit => {}
                    fx => {
                        let host = &mut *self.host;
                        if let Some(fx) = term_effects::perform(host.notify.as_ref(), &mut host.alert, fx) {
                            runner.run(fx);
                        }
                    }
                }
            }
            effects = more;
        }
    }

    /// Lend the terminal to `$EDITOR` with `text`; the edited text, or `None`.
    async fn edit(&mut self, text: String) -> Option<String> {
        // The input reader pauses while the editor owns the terminal.
        drop(self.input.take());
        let edited = (self.host.edit)(text).await;
        self.terminal.backend_mut().forget();
        if let Err(e) = self.terminal.clear() {
            // The remaining effects still run (a send must reach the outbox).
            self.failure = Some(io::Error::other(e.to_string()));
        }
        // Only now: nothing above may wait for the terminal's answers.
        self.input = Some((self.host.new_input)());
        edited
    }
}

/// Run the client until the user quits, the input ends, `shutdown` resolves (a
/// signal) or the terminal fails (it went away): wait for the next action, `step`
/// it, hand its effects on, draw when the frame differs (see [`show`]). Every way out
/// saves every draft through the runner and waits until the store has them.
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
    let mut lp = Loop::new(terminal, host);
    tokio::pin!(shutdown);
    let mut effects = update::opening(state);
    loop {
        lp.perform(state, runner, effects).await;
        // (A quit still draws its last frame: `next_action` says when to stop.)
        if lp.failure.is_some() {
            break;
        }
        match lp.next_action(state, rx, &mut shutdown).await {
            Some(action) => effects = update::step(state, action),
            None => break,
        }
    }
    // Every way out keeps every draft (quit, end of input, SIGHUP/SIGTERM, the terminal gone).
    for fx in update::closing(state) {
        runner.run(fx);
    }
    runner.close().await;
    lp.failure.map_or(Ok(()), Err)
}

#[cfg(test)]
#[path = "run_tests.rs"]
mod tests;
