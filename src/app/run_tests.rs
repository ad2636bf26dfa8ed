//! The whole loop with a `TestBackend`, scripted keys and a fake server.

use std::sync::{Arc, Mutex};

use crossterm::event::{Event, KeyCode as C, KeyEvent, KeyModifiers};
use futures_util::stream::{self, BoxStream, StreamExt};
use ratatui::backend::TestBackend;
use ratatui::Terminal;

use super::*;
use crate::api::types::*;
use crate::api::ApiError;
use crate::app::fixture;
use crate::app::service::Service;
use crate::app::state::Screen;

#[derive(Default)]
struct Data {
    sent: Vec<(SendRequest, String)>,
    messages: Vec<Message>,
    persisted: usize,
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
    async fn inbox(&self, _page: u32, _unread: bool) -> Result<Option<InboxResponse>, ApiError> {
        Ok(Some(fixture::inbox()))
    }
    async fn conversation(
        &self,
        user: String,
        _after: Option<i64>,
    ) -> Result<Option<ConversationResponse>, ApiError> {
        let d = self.0.lock().unwrap();
        let messages =
            d.messages.iter().filter(|m| m.sender == user || m.recipient == user).cloned().collect();
        Ok(Some(ConversationResponse { messages, participant_count: 2, with_user: user }))
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
        Ok(())
    }
    async fn mark_read(&self, _id: i64) -> Result<(), ApiError> {
        Ok(())
    }
    async fn pet(&self) -> Result<Option<Pet>, ApiError> {
        Ok(Some(fixture::pet()))
    }
    fn has_etags(&self) -> bool {
        true
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

/// Keys as terminal events, each after the tasks spawned so far had their turn; the
/// stream ends (and with it the loop) once the last key's effects have settled.
fn script(text_and_keys: Vec<Event>) -> BoxStream<'static, io::Result<Event>> {
    stream::unfold(text_and_keys.into_iter(), |mut keys| async move {
        for _ in 0..20 {
            tokio::task::yield_now().await;
        }
        let next = keys.next()?;
        Some((Ok(next), keys))
    })
    .boxed()
}

fn typed(s: &str) -> Vec<Event> {
    s.chars().map(|c| key(C::Char(c))).collect()
}

/// The keys of a good login as alex on the form (the server is already filled in).
fn login_as_alex() -> Vec<Event> {
    let mut events = typed("alex");
    events.push(key(C::Tab));
    events.extend(typed("pw"));
    events.extend([key(C::Tab)].into_iter().chain(typed("1234")));
    events.push(key(C::Enter));
    events
}

async fn drive(state: &mut State, fake: &Fake, events: Vec<Event>) -> Terminal<TestBackend> {
    drive_with(state, fake, events, None, std::future::pending()).await
}

async fn drive_with(
    state: &mut State,
    fake: &Fake,
    events: Vec<Event>,
    data_dir: Option<std::path::PathBuf>,
    shutdown: impl std::future::Future<Output = ()>,
) -> Terminal<TestBackend> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let runner = Runner::new(FakeConnect(fake.clone()), None, tx);
    let mut terminal = Terminal::new(TestBackend::new(state.size.0, state.size.1)).unwrap();
    let mut events = Some(events);
    let out = fake.clone();
    let mut host = Host {
        new_input: Box::new(move || script(events.take().unwrap_or_default())),
        edit: Box::new(|t: String| Box::pin(async move { Some(format!("{t} (edited)")) })),
        drafts: crate::app::drafts::Drafts::new(data_dir),
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
    let mut events = typed("alex");
    events.push(key(C::Tab));
    events.extend(typed("pw"));
    events.push(key(C::Tab));
    events.extend(typed("1234"));
    events.push(key(C::Enter));
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
    let mut events = typed("alex");
    events.push(key(C::Tab));
    events.extend(typed("nope"));
    events.push(key(C::Tab));
    events.extend(typed("1234"));
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

#[tokio::test]
async fn quits_on_q_and_persists_session() {
    let fake = Fake::default();
    let mut state = fixture::fresh(80, 24, Look::default());
    state.login.server = "http://fake:1".into();
    let mut events = typed("alex");
    events.push(key(C::Tab));
    events.extend(typed("pw"));
    events.push(key(C::Tab));
    events.extend(typed("1234"));
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
    let mut events = typed("alex");
    events.push(key(C::Tab));
    events.extend(typed("pw"));
    events.push(key(C::Tab));
    events.extend(typed("1234"));
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

#[tokio::test]
async fn a_signal_keeps_the_draft_for_the_next_login() {
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::default();
    let mut state = fixture::fresh(80, 24, Look::default());
    state.login.server = "http://fake:1".into();
    let mut events = typed("alex");
    events.push(key(C::Tab));
    events.extend(typed("pw"));
    events.push(key(C::Tab));
    events.extend(typed("1234"));
    events.push(key(C::Enter));
    events.extend(typed(":new sam"));
    events.push(key(C::Enter));
    events.extend(typed("don't lose me"));
    // The "signal" arrives once the keys are in; the input never ends by itself.
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let keys = script(events);
    let endless = keys.chain(stream::once(async move {
        let _ = tx.send(());
        std::future::pending::<io::Result<Event>>().await
    }));
    let (atx, mut arx) = tokio::sync::mpsc::unbounded_channel();
    let runner = Runner::new(FakeConnect(fake.clone()), None, atx);
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
    let mut input = Some(endless.boxed());
    let mut host = Host {
        new_input: Box::new(move || input.take().unwrap_or_else(|| stream::pending().boxed())),
        edit: Box::new(|t: String| Box::pin(async move { Some(t) })),
        drafts: crate::app::drafts::Drafts::new(Some(dir.path().to_path_buf())),
        notify: None,
        alert: Box::new(|_| {}),
    };
    let shutdown = async move {
        let _ = rx.await;
    };
    event_loop(&mut terminal, &mut state, &runner, &mut arx, &mut host, shutdown).await.unwrap();
    assert!(!state.quit, "ended by the signal, not a quit");

    let mut next = crate::app::drafts::Drafts::new(Some(dir.path().to_path_buf()));
    let (saved, _) = next.open("http://fake:1", "alex");
    assert_eq!(saved, vec![("sam".to_owned(), "don't lose me".to_owned())]);
}

#[test]
fn news_off_screen_rings_without_content() {
    let config = crate::live::notify::NotifyConfig::default();
    let mut state = fixture::main_screen(80, 24, Look::default());
    let other = Action::MessagesArrived(vec![fixture::msg(90, "sam", "alex", "private words", 0)]);
    assert_eq!(alerts(&state, &other, &config), b"\x07");
    let here = Action::MessagesArrived(vec![fixture::msg(91, "dr_morgan", "alex", "hello", 0)]);
    assert!(alerts(&state, &here, &config).is_empty(), "on screen: no bell");
    let again = Action::MessagesArrived(vec![fixture::msg(13, "dr_morgan", "alex", "dup", 0)]);
    crate::app::update(&mut state, Action::Key(Key::parse("shift-tab").unwrap()));
    assert!(alerts(&state, &again, &config).is_empty(), "held already");
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
