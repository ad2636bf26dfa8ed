//! The whole loop with a `TestBackend`, scripted keys and a fake server.

use std::sync::{Arc, Mutex};

use crossterm::event::{Event, KeyCode as C, KeyEvent, KeyModifiers};
use futures_util::stream::{self, BoxStream, StreamExt};
use ratatui::backend::TestBackend;
use ratatui::Terminal;

use super::*;
use crate::api::ApiError;
use crate::api::Fetched;
use crate::app::fixture;
use crate::app::state::Screen;
use crate::model::types::*;
use crate::shell::account::Accounts;
use crate::sync::service::Service;

#[derive(Default)]
struct Data {
    sent: Vec<(SendRequest, String)>,
    messages: Vec<Message>,
    persisted: usize,
    /// Deletes never answer (the test plays the answer itself).
    stall_delete: bool,
    /// Bytes written to the terminal outside frames.
    alerts: Vec<u8>,
}

#[derive(Clone, Default)]
struct Fake(Arc<Mutex<Data>>);

impl Service for Fake {
    async fn login(&self, req: LoginRequest) -> Result<String, ApiError> {
        if req.password == "pw" && req.pin == "1234" {
            Ok(req.username.clone())
        } else {
            Err(ApiError::SessionExpired)
        }
    }
    async fn logout(&self) -> Result<(), ApiError> {
        Ok(())
    }
    async fn inbox(
        &self,
        _page: u32,
        _unread: bool,
        _etag: Option<String>,
    ) -> Result<Fetched<InboxResponse>, ApiError> {
        Ok(Fetched::Fresh { value: fixture::inbox(), etag: None })
    }
    async fn conversation(
        &self,
        user: String,
        _after: Option<i64>,
        _etag: Option<String>,
    ) -> Result<Fetched<ConversationResponse>, ApiError> {
        let d = self.0.lock().unwrap();
        let messages =
            d.messages.iter().filter(|m| m.sender == user || m.recipient == user).cloned().collect();
        let value = ConversationResponse { messages, participant_count: 2, with_user: user };
        Ok(Fetched::Fresh { value, etag: None })
    }
    async fn send(&self, req: SendRequest, key: String) -> Result<SendResponse, ApiError> {
        if req.recipient == "mei" {
            return Err(ApiError::Forbidden(
                "Users may only reply to clinicians, not initiate contact".into(),
            ));
        }
        let mut d = self.0.lock().unwrap();
        let id = 100 + d.messages.len() as i64;
        d.messages.push(Message {
            id,
            sender: "alex".into(),
            recipient: req.recipient.clone(),
            content: req.content.clone(),
            sent_at: fixture::ago(0),
            ..Default::default()
        });
        d.sent.push((req.clone(), key));
        Ok(SendResponse {
            message_id: id,
            status: "sent".into(),
            recipient: req.recipient,
            conversation_id: None,
        })
    }
    async fn delete(&self, _id: i64) -> Result<(), ApiError> {
        let stall = self.0.lock().unwrap().stall_delete;
        if stall {
            std::future::pending::<()>().await;
        }
        Ok(())
    }
    async fn mark_read(&self, _id: i64) -> Result<(), ApiError> {
        Ok(())
    }
    async fn pet(&self) -> Result<Option<Pet>, ApiError> {
        Ok(Some(fixture::pet()))
    }
    fn server(&self) -> String {
        "http://fake:1".into()
    }
}

struct FakeConnect(Fake);

impl Connect for FakeConnect {
    type Service = Fake;
    fn connect(&self, _server: &str) -> Result<Fake, ApiError> {
        Ok(self.0.clone())
    }
    fn persist(&self, _s: &Fake) {
        self.0 .0.lock().unwrap().persisted += 1;
    }
    fn forget(&self) {}
}

fn key(code: C) -> Event {
    Event::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

thread_local! {
    /// The store slot of the runner the current test drives (set by `drive_with`): the
    /// store answers from a thread of its own, so a script waits for it between keys.
    static STORE: std::cell::RefCell<Option<Arc<Mutex<Option<crate::shell::local::Shared>>>>> =
        const { std::cell::RefCell::new(None) };
}

/// Let the tasks spawned so far and the store's thread finish what they were given.
/// A store answer may start a task that asks the store again, so rounds go on until one
/// makes no new store call (a fixed number of rounds once lost the end of a long chain in
/// release builds, where the store's thread answers between the test's yields).
async fn settle() {
    let mut seen = None;
    for _ in 0..200 {
        let store = STORE.with(|s| s.borrow().as_ref().and_then(|slot| slot.lock().unwrap().clone()));
        if let Some(store) = &store {
            store.settled().await;
        }
        for _ in 0..20 {
            tokio::task::yield_now().await;
        }
        let Some(store) = store else { break };
        let calls = store.calls_made();
        if seen.replace(calls) == Some(calls) {
            break;
        }
    }
}

/// Keys as terminal events, each after the tasks spawned so far had their turn; the
/// stream ends (and with it the loop) once the last key's effects have settled.
fn script(text_and_keys: Vec<Event>) -> BoxStream<'static, io::Result<Event>> {
    stream::unfold(text_and_keys.into_iter(), |mut keys| async move {
        settle().await;
        let next = keys.next()?;
        Some((Ok(next), keys))
    })
    .boxed()
}

fn typed(s: &str) -> Vec<Event> {
    s.chars().map(|c| key(C::Char(c))).collect()
}

/// The keys that fill the login form as alex with `password` and PIN 1234, the focus left
/// on the PIN (the server is already filled in).
fn login_form(password: &str) -> Vec<Event> {
    let mut events = typed("alex");
    events.push(key(C::Tab));
    events.extend(typed(password));
    events.push(key(C::Tab));
    events.extend(typed("1234"));
    events
}

/// The keys of a good login as alex on the form.
fn login_as_alex() -> Vec<Event> {
    let mut events = login_form("pw");
    events.push(key(C::Enter));
    events
}

async fn drive(state: &mut State, fake: &Fake, events: Vec<Event>) -> Terminal<TestBackend> {
    drive_with(state, fake, script(events), None, std::future::pending()).await
}

async fn drive_with(
    state: &mut State,
    fake: &Fake,
    input: BoxStream<'static, io::Result<Event>>,
    data_dir: Option<std::path::PathBuf>,
    shutdown: impl std::future::Future<Output = ()>,
) -> Terminal<TestBackend> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let runner = Runner::new(FakeConnect(fake.clone()), None, tx).with_accounts(Accounts::new(data_dir));
    STORE.with(|s| *s.borrow_mut() = Some(runner.store_slot()));
    let mut terminal = Terminal::new(TestBackend::new(state.size.0, state.size.1)).unwrap();
    let mut input = Some(input);
    let out = fake.clone();
    let mut host = Host {
        new_input: Box::new(move || input.take().unwrap_or_else(|| script(Vec::new()))),
        edit: Box::new(|t: String| Box::pin(async move { Some(format!("{t} (edited)")) })),
        notify: None,
        alert: Box::new(move |bytes| out.0.lock().unwrap().alerts.extend_from_slice(bytes)),
    };
    event_loop(&mut terminal, state, &runner, &mut rx, &mut host, shutdown).await.unwrap();
    terminal
}

#[tokio::test]
async fn log_in_filter_open_type_send() {
    let fake = Fake::default();
    let mut state = fixture::fresh(80, 24, Look::default());
    state.login.server = "http://fake:1".into();
    let mut events = login_as_alex();
    events.extend(typed("/sa"));
    events.push(key(C::Enter));
    events.extend(typed("ihello sam"));
    events.push(key(C::Enter));
    events.push(Event::Key(KeyEvent::new(C::Char('e'), KeyModifiers::CONTROL)));
    let terminal = drive(&mut state, &fake, events).await;
    assert_eq!(state.screen, Screen::Main);
    let d = fake.0.lock().unwrap();
    assert_eq!(d.sent.len(), 1, "exactly one copy");
    assert_eq!(d.sent[0].0.content, "hello sam");
    assert_eq!(d.sent[0].0.recipient, "sam");
    let screen = terminal.backend().to_string();
    assert!(screen.contains("hello sam"), "{screen}");
    assert!(screen.contains("alex@fake:1"), "{screen}");
    // ctrl-e handed the (empty) draft to the editor and took its text back.
    assert_eq!(state.current_draft().unwrap().text, " (edited)");
    assert!(state.pending.is_empty());
}

#[tokio::test]
async fn refusal_keeps_text_and_wrong_password_shows_in_place() {
    let fake = Fake::default();
    let mut state = fixture::fresh(80, 24, Look::default());
    state.login.server = "http://fake:1".into();
    let mut events = login_form("nope");
    events.push(key(C::Enter));
    let _ = drive(&mut state, &fake, events).await;
    assert_eq!(state.screen, Screen::Login);
    assert!(state.login.error.as_deref().unwrap().contains("check the username"));

    let mut events = typed("pw");
    events.push(key(C::Tab));
    events.extend(typed("1234"));
    events.push(key(C::Enter));
    events.extend(typed(":new mei"));
    events.push(key(C::Enter));
    events.extend(typed("hi there"));
    events.push(key(C::Enter));
    let terminal = drive(&mut state, &fake, events).await;
    assert!(fake.0.lock().unwrap().sent.is_empty());
    // The refused text stays on screen, marked, with the reason.
    assert_eq!(state.current_draft().unwrap().text, "");
    assert!(matches!(state.pending[0].mark, crate::app::state::SendMark::Failed(_)));
    let screen = terminal.backend().to_string();
    assert!(screen.contains("not sent: Users may only reply"), "{screen}");
    assert!(screen.contains("hi there"), "{screen}");
    // e puts it back into the box.
    let _ = drive(&mut state, &fake, vec![key(C::Esc), key(C::Char('e'))]).await;
    assert_eq!(state.current_draft().unwrap().text, "hi there");
}

/// An error notice goes by itself after a while with no key pressed, and the screen
/// is redrawn without it (it once stayed 24 minutes).
#[tokio::test(start_paused = true)]
async fn a_notice_clears_itself_with_no_key() {
    let fake = Fake::default();
    let mut state = fixture::fresh(80, 24, Look::default());
    state.login.server = "http://fake:1".into();
    // Log in, then write to someone a patient may not write to first: refused.
    let events: Vec<Event> = ["alex", "\t", "pw", "\t", "1234", "\n", ":new mei", "\n", "hi there", "\n"]
        .into_iter()
        .flat_map(|t| match t {
            "\t" => vec![key(C::Tab)],
            "\n" => vec![key(C::Enter)],
            text => typed(text),
        })
        .collect();
    let notice = "not sent: Users may only reply";
    let terminal = drive(&mut state, &fake, events).await;
    assert!(terminal.backend().to_string().contains(notice));
    // Then nobody types: a run that ends before the lifetime is up still shows it,
    // one that lasts past it does not.
    // (Each run starts on a fresh terminal, which it must draw once.)
    let idle = |secs: u64| {
        let stop = tokio::time::sleep(std::time::Duration::from_secs(secs));
        (script(Vec::new()).chain(stream::pending()).boxed(), stop)
    };
    let lifetime = crate::app::state::NOTICE_LIFETIME.as_secs();
    let (input, stop) = idle(lifetime - 2);
    let terminal = drive_with(&mut state, &fake, input, None, stop).await;
    assert!(terminal.backend().to_string().contains(notice));
    let (input, stop) = idle(lifetime + 2);
    let terminal = drive_with(&mut state, &fake, input, None, stop).await;
    assert!(state.notice.is_none(), "{:?}", state.notice);
    let screen = terminal.backend().to_string();
    assert!(!screen.contains(notice), "{screen}");
    assert!(screen.contains("hi there"), "the refused text itself stays: {screen}");
}

#[tokio::test]
async fn quits_on_q_and_persists_session() {
    let fake = Fake::default();
    let mut state = fixture::fresh(80, 24, Look::default());
    state.login.server = "http://fake:1".into();
    let mut events = login_form("pw");
    events.extend([key(C::Tab), key(C::Char(' ')), key(C::Enter)]);
    events.push(key(C::Char('q')));
    events.extend(typed("this never arrives"));
    let _ = drive(&mut state, &fake, events).await;
    assert!(state.quit);
    assert!(state.login.remember);
    // At login (remember me) and again at exit (the cookie may have been renewed).
    assert_eq!(fake.0.lock().unwrap().persisted, 2);
}

#[tokio::test]
async fn without_remember_me_nothing_is_kept() {
    let fake = Fake::default();
    let mut state = fixture::fresh(80, 24, Look::default());
    state.login.server = "http://fake:1".into();
    let mut events = login_form("pw");
    events.extend([key(C::Enter), key(C::Char('q'))]);
    let _ = drive(&mut state, &fake, events).await;
    assert!(state.quit && state.screen == Screen::Main);
    assert_eq!(fake.0.lock().unwrap().persisted, 0);
}

#[test]
fn keys_from_crossterm() {
    let k = key_from(KeyEvent::new(C::Char('E'), KeyModifiers::CONTROL)).unwrap();
    assert_eq!(k, Key::ctrl('e'));
    let k = key_from(KeyEvent::new(C::Tab, KeyModifiers::SHIFT)).unwrap();
    assert_eq!(k, Key::plain(KeyCode::BackTab));
    let k = key_from(KeyEvent::new(C::Enter, KeyModifiers::ALT)).unwrap();
    assert_eq!(k, Key::parse("alt-enter").unwrap());
    assert_eq!(key_from(KeyEvent::new(C::Char('G'), KeyModifiers::SHIFT)), Some(Key::ch('G')));
}

/// Keys that log in as alex and start writing `draft` to sam.
fn log_in_and_write_to_sam(draft: &str) -> Vec<Event> {
    let mut events = login_as_alex();
    events.extend(typed(":new sam"));
    events.push(key(C::Enter));
    events.extend(typed(draft));
    events
}

/// Run the loop from the login screen on `input` until `shutdown` or the input ends
/// or fails, with drafts kept in `dir`; the loop's outcome and the drafts a next start
/// finds.
async fn run_then_reopen(
    input: BoxStream<'static, io::Result<Event>>,
    dir: &std::path::Path,
    shutdown: impl std::future::Future<Output = ()>,
) -> (io::Result<()>, State, Vec<(String, String)>) {
    let fake = Fake::default();
    let mut state = fixture::fresh(80, 24, Look::default());
    state.login.server = "http://fake:1".into();
    let (atx, mut arx) = tokio::sync::mpsc::unbounded_channel();
    let accounts = Accounts::new(Some(dir.to_path_buf()));
    let runner = Runner::new(FakeConnect(fake.clone()), None, atx).with_accounts(accounts);
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
    let mut input = Some(input);
    let mut host = Host {
        new_input: Box::new(move || input.take().unwrap_or_else(|| stream::pending().boxed())),
        edit: Box::new(|t: String| Box::pin(async move { Some(t) })),
        notify: None,
        alert: Box::new(|_| {}),
    };
    let end = event_loop(&mut terminal, &mut state, &runner, &mut arx, &mut host, shutdown).await;
    let (next, _) = crate::store::StoreHandle::open_account(dir, "http://fake:1", "alex");
    let saved = next.call(|s| s.all_drafts()).await.unwrap();
    (end, state, saved.into_iter().map(|d| (d.with_user, d.text)).collect())
}

#[tokio::test]
async fn a_signal_keeps_the_draft_for_the_next_login() {
    let dir = tempfile::tempdir().unwrap();
    // The "signal" arrives once the keys are in; the input never ends by itself.
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let endless = script(log_in_and_write_to_sam("don't lose me")).chain(stream::once(async move {
        let _ = tx.send(());
        std::future::pending::<io::Result<Event>>().await
    }));
    let shutdown = async move {
        let _ = rx.await;
    };
    let (end, state, saved) = run_then_reopen(endless.boxed(), dir.path(), shutdown).await;
    end.unwrap();
    assert!(!state.quit, "ended by the signal, not a quit");
    assert_eq!(saved, vec![("sam".to_owned(), "don't lose me".to_owned())]);
}

/// Run the loop from the login screen on `input` (then nothing) with `accounts`, for
/// `millis` ms, keeping every frame; then the loop ends as on a signal.
async fn run_recorded(fake: &Fake, accounts: Accounts, input: Vec<Event>, millis: u64) -> (State, Frames) {
    let mut state = fixture::fresh(80, 24, Look::default());
    state.login.server = "http://fake:1".into();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let runner = Runner::new(FakeConnect(fake.clone()), None, tx).with_accounts(accounts);
    let frames = Frames::default();
    let mut terminal = Terminal::new(Terminalish(TestBackend::new(80, 24), Some(frames.clone()))).unwrap();
    let mut input = Some(script(input).chain(stream::pending()).boxed());
    let mut host = Host {
        new_input: Box::new(move || input.take().unwrap_or_else(|| stream::pending().boxed())),
        edit: Box::new(|t: String| Box::pin(async move { Some(t) })),
        notify: None,
        alert: Box::new(|_| {}),
    };
    let shutdown = tokio::time::sleep(std::time::Duration::from_millis(millis));
    event_loop(&mut terminal, &mut state, &runner, &mut rx, &mut host, shutdown).await.unwrap();
    (state, frames)
}

/// A slow disk holds up no frame: with every store call taking 500 ms (opening the
/// account's store at login, reading its drafts and cache, saving drafts), what is
/// typed right after the login is drawn at once; the draft still reaches the disk,
/// because the way out waits for the store.
#[tokio::test]
async fn a_slow_store_holds_up_no_frame() {
    const SLOW: std::time::Duration = std::time::Duration::from_millis(500);
    let dir = tempfile::tempdir().unwrap();
    let mut accounts = Accounts::new(Some(dir.path().to_path_buf()));
    accounts.slow = Some(SLOW);
    let started = std::time::Instant::now();
    let (_, frames) = run_recorded(&Fake::default(), accounts, log_in_and_write_to_sam("quick"), 300).await;
    let ended = started.elapsed();
    let drawn = frames.lock().unwrap().iter().find(|(_, screen)| screen.contains("quick")).map(|(at, _)| *at);
    let drawn = drawn.expect("the typed text was drawn before the loop ended").duration_since(started);
    // Opening the store alone takes longer than this; the login and the keys did not wait for it.
    assert!(drawn < SLOW, "the keys were drawn after {drawn:?}");
    assert!(ended >= 2 * SLOW, "the store was really slow, and the way out waited for it ({ended:?})");
    let (next, _) = crate::store::StoreHandle::open_account(dir.path(), "http://fake:1", "alex");
    let saved = next.call(|s| s.all_drafts()).await.unwrap();
    assert_eq!(
        saved.into_iter().map(|d| (d.with_user, d.text)).collect::<Vec<_>>(),
        [("sam".to_owned(), "quick".to_owned())]
    );
}

/// A store that cannot be opened (the data directory is a file): the login says drafts
/// are not kept on disk, and a message still goes out, straight to the server.
#[tokio::test]
async fn without_a_usable_store_the_login_says_so_and_sends_still_go() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("data");
    std::fs::write(&file, "not a directory").unwrap();
    // (Any key clears a notice: only the login here.)
    let (state, _) =
        run_recorded(&Fake::default(), Accounts::new(Some(file.clone())), login_as_alex(), 500).await;
    let notice = state.notice.map(|n| n.text).unwrap_or_default();
    assert!(notice.starts_with("drafts are not kept on disk"), "{notice}");
    let fake = Fake::default();
    let mut events = log_in_and_write_to_sam("still sent");
    events.push(key(C::Enter));
    let _ = run_recorded(&fake, Accounts::new(Some(file)), events, 500).await;
    let sent = fake.0.lock().unwrap().sent.iter().map(|(r, _)| r.content.clone()).collect::<Vec<_>>();
    assert_eq!(sent, ["still sent"]);
}

#[tokio::test]
async fn a_terminal_that_fails_keeps_the_draft() {
    let dir = tempfile::tempdir().unwrap();
    // Then the terminal goes: reading it fails (EIO, as on a closed pty).
    let dead = script(log_in_and_write_to_sam("still here"))
        .chain(stream::once(async { Err(io::Error::from_raw_os_error(5)) }));
    let (end, _, saved) = run_then_reopen(dead.boxed(), dir.path(), std::future::pending()).await;
    assert!(end.is_err(), "the failure is reported to the caller");
    assert_eq!(saved, vec![("sam".to_owned(), "still here".to_owned())]);
}

/// The bytes the loop writes for `action`'s news (bell, notification).
fn alerts(state: &State, action: &Action, config: &crate::shell::notify::NotifyConfig) -> Vec<u8> {
    let mut out = Vec::new();
    let mut write = |b: &[u8]| out.extend_from_slice(b);
    for fx in crate::app::update::step(&mut state.clone(), action.clone()) {
        if matches!(fx, Effect::Announce { .. }) {
            crate::shell::term_effects::perform(Some(config), &mut write, fx);
        }
    }
    out
}

#[test]
fn news_off_screen_rings_without_content() {
    let config = crate::shell::notify::NotifyConfig::default();
    let mut state = fixture::main_screen(80, 24, Look::default());
    let other = Action::MessagesArrived(vec![fixture::msg(90, "sam", "alex", "private words", 0)]);
    assert_eq!(alerts(&state, &other, &config), b"\x07");
    let here = Action::MessagesArrived(vec![fixture::msg(91, "dr_morgan", "alex", "hello", 0)]);
    assert!(alerts(&state, &here, &config).is_empty(), "on screen: no bell");
    let again = Action::MessagesArrived(vec![fixture::msg(13, "dr_morgan", "alex", "dup", 0)]);
    crate::app::update(&mut state, Action::Key(Key::parse("shift-tab").unwrap()));
    assert!(alerts(&state, &again, &config).is_empty(), "held already");
}

/// A stretch of the loop's life: maybe a resize, results already waiting, then keys,
/// and results that arrive together with the last key (before the loop could draw).
#[derive(Debug, Clone, Default)]
struct Segment {
    resize: Option<(u16, u16)>,
    results: Vec<Action>,
    keys: Vec<Event>,
    racing: Vec<Action>,
}

/// [`script`], and `racing` sent to the loop's channel as the last key is handed over.
fn script_racing(
    keys: Vec<Event>,
    racing: Vec<Action>,
    tx: tokio::sync::mpsc::UnboundedSender<Action>,
) -> BoxStream<'static, io::Result<Event>> {
    let last = keys.len();
    let mut racing = Some(racing);
    script(keys)
        .enumerate()
        .map(move |(i, ev)| {
            if i + 1 == last {
                for a in racing.take().unwrap_or_default() {
                    let _ = tx.send(a);
                }
            }
            ev
        })
        .boxed()
}

/// Results, pushes and ticks as effects and the live link report them (kind, id).
fn result_action(kind: u8, id: i64) -> Action {
    let at = fixture::now() + chrono::Duration::minutes(id);
    match kind {
        0 => Action::MessagesArrived(vec![fixture::msg(
            100 + id,
            "dr_morgan",
            "alex",
            &format!("news {id}"),
            0,
        )]),
        1 => {
            Action::MessagesArrived(vec![fixture::msg(200 + id, "sam", "alex", &format!("from sam {id}"), 0)])
        }
        2 => Action::Synced(at),
        3 => Action::Tick(fixture::now() + chrono::Duration::hours(id)),
        4 => Action::ConnectionChanged(crate::app::action::Connection::Polling { every_secs: 15 }),
        5 => Action::ConnectionChanged(crate::app::action::Connection::Offline { retry_secs: id as u32 }),
        6 => Action::MessageDeleted(10 + id % 8),
        7 => Action::Deleted(10 + id % 8),
        8 => Action::InboxLoaded(fixture::inbox()),
        9 => Action::ConversationLoaded(fixture::conversation()),
        10 => Action::InboxUnchanged,
        11 => Action::ConversationUnchanged("dr_morgan".into()),
        12 => Action::Failed(format!("failure {id}")),
        13 => Action::MessageRead { id: 10 + id % 8, at: Some(at) },
        14 => Action::PetLoaded(Some(fixture::pet())),
        _ => Action::PollDue,
    }
}

fn any_segment() -> impl proptest::strategy::Strategy<Value = Segment> {
    use proptest::prelude::*;
    let keys: Vec<Event> = ["j", "k", "g", "G", "i", "x", "d", "y", "n", "e", "D", "/", "?", ":", "r", "u"]
        .iter()
        .filter_map(|k| k.chars().next())
        .map(|c| key(C::Char(c)))
        .chain(
            [C::Enter, C::Esc, C::Tab, C::BackTab, C::Backspace, C::Up, C::Down, C::PageUp, C::PageDown]
                .map(key),
        )
        .collect();
    (
        proptest::option::of((20u16..120, 6u16..40)),
        proptest::collection::vec((0u8..16, 0i64..40).prop_map(|(k, id)| result_action(k, id)), 0..5),
        proptest::collection::vec(proptest::sample::select(keys), 0..6),
        proptest::collection::vec((0u8..16, 0i64..40).prop_map(|(k, id)| result_action(k, id)), 0..3),
    )
        .prop_map(|(resize, results, keys, racing)| Segment { resize, results, keys, racing })
}

/// A `TestBackend` that covers the cell after a wide character as a terminal does
/// (the plain one keeps whatever was there, which no terminal would still show); with
/// `Frames`, every frame is kept with the time it was finished.
struct Terminalish(TestBackend, Option<Frames>);

/// Frames as drawn: when, and the screen's text.
type Frames = Arc<Mutex<Vec<(std::time::Instant, String)>>>;

impl ratatui::backend::Backend for Terminalish {
    type Error = std::convert::Infallible;
    fn draw<'a, I>(&mut self, content: I) -> Result<(), Self::Error>
    where
        I: Iterator<Item = (u16, u16, &'a ratatui::buffer::Cell)>,
    {
        let blank = ratatui::buffer::Cell::default();
        let mut cells = Vec::new();
        for (x, y, cell) in content {
            cells.push((x, y, cell));
            if unicode_width::UnicodeWidthStr::width(cell.symbol()) > 1 {
                cells.push((x.saturating_add(1), y, &blank));
            }
        }
        // Cells of the frame come after the covers, so a real cell always wins.
        cells.sort_by_key(|&(x, y, c)| (y, x, !std::ptr::eq(c, &blank)));
        self.0.draw(cells.into_iter())
    }
    fn hide_cursor(&mut self) -> Result<(), Self::Error> {
        self.0.hide_cursor()
    }
    fn show_cursor(&mut self) -> Result<(), Self::Error> {
        self.0.show_cursor()
    }
    fn get_cursor_position(&mut self) -> Result<ratatui::layout::Position, Self::Error> {
        self.0.get_cursor_position()
    }
    fn set_cursor_position<P: Into<ratatui::layout::Position>>(&mut self, p: P) -> Result<(), Self::Error> {
        self.0.set_cursor_position(p)
    }
    fn clear(&mut self) -> Result<(), Self::Error> {
        self.0.clear()
    }
    fn clear_region(&mut self, t: ratatui::backend::ClearType) -> Result<(), Self::Error> {
        self.0.clear_region(t)
    }
    fn size(&self) -> Result<ratatui::layout::Size, Self::Error> {
        self.0.size()
    }
    fn window_size(&mut self) -> Result<ratatui::backend::WindowSize, Self::Error> {
        self.0.window_size()
    }
    fn flush(&mut self) -> Result<(), Self::Error> {
        if let Some(frames) = &self.1 {
            frames.lock().unwrap().push((std::time::Instant::now(), self.0.to_string()));
        }
        self.0.flush()
    }
}

impl Forget for Terminalish {}

/// Every cell a person can see: cells behind a wide character are not drawn by the
/// terminal (ratatui skips them), so what they hold does not count.
fn visible(buf: &ratatui::buffer::Buffer) -> Vec<ratatui::buffer::Cell> {
    let mut cells = Vec::new();
    for y in 0..buf.area.height {
        let mut hidden = 0;
        for x in 0..buf.area.width {
            let Some(cell) = buf.cell((x, y)) else { continue };
            if hidden > 0 {
                hidden -= 1;
                cells.push(ratatui::buffer::Cell::default());
                continue;
            }
            hidden = unicode_width::UnicodeWidthStr::width(cell.symbol()).saturating_sub(1);
            cells.push(cell.clone());
        }
    }
    cells
}

/// The loop, segment by segment on one terminal; after each (the loop idle, its input
/// drained), what the terminal shows must be what `view` draws for the state afresh.
fn screen_matches_state_whenever_idle(segments: Vec<Segment>) -> Result<(), String> {
    let state = fixture::main_screen(80, 24, Look::default());
    run_segments(state, Fake::default(), segments).map(|_| ())
}

/// Run `segments` from `state`; the screen after the last one, or what went wrong.
fn run_segments(mut state: State, fake: Fake, segments: Vec<Segment>) -> Result<String, String> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
    rt.block_on(async {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let runner = Runner::new(FakeConnect(fake.clone()), Some(fake.clone()), tx.clone());
        let mut terminal =
            Terminal::new(Terminalish(TestBackend::new(80, 24), None)).map_err(|e| e.to_string())?;
        for (n, seg) in segments.into_iter().enumerate() {
            if let Some((w, h)) = seg.resize {
                terminal.backend_mut().0.resize(w, h);
                let _ = tx.send(Action::Resize(w, h));
            }
            for a in seg.results {
                let _ = tx.send(a);
            }
            let mut keys = Some((seg.keys, seg.racing));
            let racing_tx = tx.clone();
            let mut host = quiet_host(Box::new(move || {
                let (keys, racing) = keys.take().unwrap_or_default();
                script_racing(keys, racing, racing_tx.clone())
            }));
            event_loop(&mut terminal, &mut state, &runner, &mut rx, &mut host, std::future::pending())
                .await
                .map_err(|e| e.to_string())?;
            let area = terminal.backend().0.buffer().area;
            let mut fresh =
                Terminal::new(TestBackend::new(area.width, area.height)).map_err(|e| e.to_string())?;
            fresh.draw(|f| crate::ui::view(&state, f)).map_err(|e| e.to_string())?;
            if visible(terminal.backend().0.buffer()) != visible(fresh.backend().buffer()) {
                return Err(format!(
                    "after segment {n} the screen shows\n{}\nbut the state draws\n{}",
                    terminal.backend().0,
                    fresh.backend()
                ));
            }
        }
        Ok(terminal.backend().0.to_string())
    })
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]
    #[test]
    fn the_screen_is_the_state_whenever_the_loop_is_idle(
        segments in proptest::collection::vec(any_segment(), 1..6)
    ) {
        if let Err(e) = screen_matches_state_whenever_idle(segments) {
            proptest::prop_assert!(false, "{}", e);
        }
    }
}

/// The production fault: news sets the hint, the `Synced` right behind it cleared it.
#[tokio::test]
async fn news_followed_by_a_sync_is_drawn_without_a_key() {
    let segment = Segment {
        results: vec![
            Action::MessagesArrived(vec![fixture::msg(300, "dr_morgan", "alex", "are you there?", 0)]),
            Action::Synced(fixture::now()),
        ],
        ..Default::default()
    };
    let first = Segment::default();
    let outcome =
        tokio::task::spawn_blocking(move || screen_matches_state_whenever_idle(vec![first, segment]))
            .await
            .unwrap();
    outcome.unwrap();
}

fn run_segments_blocking(state: State, fake: Fake, segments: Vec<Segment>) -> String {
    std::thread::spawn(move || run_segments(state, fake, segments)).join().unwrap().unwrap()
}

/// `d`, `y`: the server's push of the same deletion comes right behind our own result;
/// the message leaves the screen without another key.
#[test]
fn a_deleted_message_leaves_the_screen_at_once() {
    let state = fixture::main_screen(80, 24, Look::default());
    let gone = "Will do. Thanks!";
    assert!(run_segments_blocking(state.clone(), Fake::default(), vec![Segment::default()]).contains(gone));
    // The server's answer and its push are played here, so they come in together.
    let fake = Fake::default();
    fake.0.lock().unwrap().stall_delete = true;
    let segment = Segment {
        keys: vec![key(C::Char('d')), key(C::Char('y'))],
        racing: vec![Action::Deleted(14), Action::MessageDeleted(14)],
        ..Default::default()
    };
    let screen = run_segments_blocking(state, fake, vec![segment]);
    assert!(!screen.contains(gone), "{screen}");
}

/// `e` on a refused message, Esc, `D`: the question shows at once, even when a result
/// that changes nothing comes in before the loop draws.
#[test]
fn the_discard_question_shows_at_once() {
    let mut state = fixture::main_screen(80, 24, Look::default());
    fixture::run(
        &mut state,
        [
            Action::Key(Key::ch('i')),
            Action::Paste("refused words".into()),
            Action::Key(Key::plain(KeyCode::Enter)),
        ],
    );
    let id = state.pending[0].client_id.clone();
    fixture::run(&mut state, [Action::SendRefused { client_id: id, reason: "blocked".into() }]);
    let segment = Segment {
        keys: vec![key(C::Esc), key(C::Char('e')), key(C::Esc), key(C::Char('D'))],
        racing: vec![Action::ConnectionChanged(crate::app::action::Connection::Live)],
        ..Default::default()
    };
    let screen = run_segments_blocking(state, Fake::default(), vec![segment]);
    assert!(screen.contains("Discard this unsent message?"), "{screen}");
}

#[tokio::test]
async fn y_writes_osc52_with_the_sanitized_text_and_nothing_when_off() {
    let fake = Fake::default();
    let evil = "copy me \u{1b}]0;owned\u{7} ✓\u{202e}";
    fake.0.lock().unwrap().messages.push(Message {
        id: 7,
        sender: "sam".into(),
        recipient: "alex".into(),
        content: evil.into(),
        sent_at: fixture::ago(5),
        ..Default::default()
    });
    let mut state = fixture::fresh(80, 24, Look::default());
    state.login.server = "http://fake:1".into();
    let mut events = login_as_alex();
    events.extend(typed("/sa"));
    events.extend([key(C::Enter), key(C::Char('y'))]);
    let terminal = drive(&mut state, &fake, events).await;
    // "copy me  ✓" in base64, in one OSC 52 sequence ended by ST.
    let expected = b"\x1b]52;c;Y29weSBtZSAg4pyT\x1b\\".to_vec();
    assert_eq!(fake.0.lock().unwrap().alerts, expected);
    assert!(terminal.backend().to_string().contains("copied 10 characters"));

    fake.0.lock().unwrap().alerts.clear();
    state.clipboard = false;
    let _ = drive(&mut state, &fake, vec![key(C::Char('y'))]).await;
    assert!(fake.0.lock().unwrap().alerts.is_empty(), "clipboard = \"off\" writes nothing");
}

/// OSC 8 links as the real view writes them through the scroll-aware backend, in both
/// layouts: the one place where the screen and the terminal layer meet.
mod links_through_the_backend {
    use ratatui::Terminal;

    use crate::app::action::Action;
    use crate::app::fixture::{main_screen, msg, run};
    use crate::app::state::{LayoutPref, Look, State};

    /// Bytes the real view writes through the scroll-aware backend with links on.
    fn drawn_with_links(state: &State) -> String {
        let (w, h) = state.size;
        let backend = crate::term::ScrollBackend::with_size(Vec::new(), w, h).with_links(true);
        let mut t = Terminal::new(backend).unwrap();
        t.draw(|f| crate::ui::view(state, f)).unwrap();
        String::from_utf8_lossy(t.backend().writer()).into_owned()
    }

    #[test]
    fn urls_in_messages_are_links_in_both_layouts_and_hostile_ones_are_not() {
        let url = "https://www.healing-space.org.uk/help?topic=sleep";
        // Longer than a line: its first row runs into the edge, so it is no link at all.
        let long = format!("https://example.org/{}", "a".repeat(300));
        for look in [Look::default(), Look { layout: LayoutPref::Panes, ..Look::default() }] {
            let mut s = main_screen(80, 24, look);
            let hostile = msg(20, "dr_morgan", "alex", &format!("Long: {long} and javascript:alert(1)"), 2);
            let good = msg(21, "dr_morgan", "alex", &format!("Worth a read: {url}."), 1);
            run(&mut s, [Action::MessagesArrived(vec![hostile, good])]);
            let out = drawn_with_links(&s);
            assert!(out.contains("Long: https://example.org/aaa"), "the long one is on screen: {out:?}");
            let opens: Vec<&str> =
                out.split("\x1b]8;;").skip(1).map(|p| p.split("\x1b\\").next().unwrap()).collect();
            let targets: Vec<&str> = opens.iter().copied().filter(|t| !t.is_empty()).collect();
            assert_eq!(targets, vec![url], "{look:?}: {out:?}");
            assert!(out.contains(&format!("\x1b]8;;{url}\x1b\\{url}\x1b]8;;\x1b\\")), "{out:?}");
        }
    }
}

/// A host reading `new_input`, with an editor that changes nothing and no notifications
/// or alerts.
fn quiet_host<'a, I>(new_input: Box<dyn FnMut() -> I + 'a>) -> Host<'a, I> {
    Host {
        new_input,
        edit: Box::new(|t: String| Box::pin(async move { Some(t) })),
        notify: None,
        alert: Box::new(|_| {}),
    }
}

/// Every idle moment draws (see `show`): over the real output layer, a frame like the
/// one on screen must cost no bytes, in this loop and in the next on the same terminal.
#[tokio::test]
async fn an_unchanged_screen_writes_nothing() {
    let fake = Fake::default();
    let mut state = fixture::main_screen(120, 40, Look::default());
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let runner = Runner::new(FakeConnect(fake.clone()), Some(fake.clone()), tx);
    let backend = crate::term::ScrollBackend::with_size(Vec::new(), 120, 40);
    let mut terminal = Terminal::new(backend).unwrap();
    let mut written = Vec::new();
    for events in [Vec::new(), vec![Event::FocusLost, Event::FocusGained], vec![Event::FocusLost]] {
        let mut input = Some(script(events));
        let mut host = quiet_host(Box::new(move || input.take().unwrap_or_else(|| script(Vec::new()))));
        event_loop(&mut terminal, &mut state, &runner, &mut rx, &mut host, std::future::pending())
            .await
            .unwrap();
        written.push(terminal.backend().bytes_written());
    }
    assert!(written[0] > 0, "the first frame is drawn");
    assert_eq!(written, vec![written[0]; 3], "idle frames wrote bytes");
}
