//! The live link against the in-process reference server, through real sockets: push
//! without polling, restart and catch-up, polling without needless requests, the
//! production profile's route limits, and a fault-injection proxy in between.
//!
//! Every interval is shortened through `LinkConfig` so the file runs in seconds; waits
//! are "until this happens, or fail after a generous deadline", never fixed sleeps that
//! decide a result.
#![cfg(feature = "server")]

mod support;

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use healing_tui::api::{ApiError, Client, ClientOptions};
use healing_tui::commands::watch;
use healing_tui::model::types::{LoginRequest, Message, SendRequest, WsEvent};
use healing_tui::server::{self, Profile, RouteLimit, RunningServer, Seed, ServerOptions};
use healing_tui::sync::budget::{Limits, Windows};
use healing_tui::sync::link::{self, LinkConfig, LinkState, LiveCommand, LiveEvent};
use healing_tui::sync::plan::Cadence;
use support::proxy::Proxy;
use tokio::sync::mpsc;

const PASSWORD: &str = "healing-demo";
const PIN: &str = "1234";

async fn start_server(db: &Path, addr: SocketAddr, tweak: impl FnOnce(&mut ServerOptions)) -> RunningServer {
    let mut opts = ServerOptions::new(addr, db.to_path_buf());
    opts.seed = Some(Seed::Demo);
    tweak(&mut opts);
    server::start(opts).await.expect("server starts")
}

fn any_port() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

async fn login(url: &str, user: &str) -> Client {
    let opts = ClientOptions {
        connect_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_secs(3),
        ..ClientOptions::default()
    };
    let client = Client::new(url, &opts).expect("client");
    let req = LoginRequest {
        username: user.to_string(),
        password: PASSWORD.to_string(),
        pin: PIN.to_string(),
        remember_me: None,
    };
    client.login(&req).await.expect("login");
    client
}

/// Short intervals for tests.
fn fast_config() -> LinkConfig {
    LinkConfig {
        cadence: Cadence {
            active: Duration::from_millis(500),
            idle: Duration::from_secs(5),
            idle_after: Duration::from_secs(300),
        },
        ping_every: Duration::from_millis(300),
        dead_after: Duration::from_secs(3),
        connect_timeout: Duration::from_secs(2),
        backoff_base: Duration::from_millis(100),
        backoff_cap: Duration::from_secs(1),
        rate_limit_wait: Duration::from_millis(500),
        ..LinkConfig::default()
    }
}

/// Where a message was seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Via {
    Push,
    Rest,
}

/// The app side of a link: collects events and merges messages by id.
struct Watch {
    events: mpsc::Receiver<LiveEvent>,
    commands: mpsc::Sender<LiveCommand>,
    task: tokio::task::JoinHandle<()>,
    states: Vec<(Instant, LinkState)>,
    messages: BTreeMap<i64, Message>,
    deliveries: Vec<(i64, Via)>,
    conversations: usize,
    expired: bool,
}

impl Watch {
    /// Start a link for `client` with `open` on screen.
    fn start(client: Client, config: LinkConfig, open: &str) -> Watch {
        let (etx, events) = mpsc::channel(1024);
        let (commands, crx) = mpsc::channel(16);
        commands.try_send(LiveCommand::Open(Some((open.to_string(), 0)))).expect("queue open");
        let task = link::spawn(client, config, etx, crx);
        Watch {
            events,
            commands,
            task,
            states: Vec::new(),
            messages: BTreeMap::new(),
            deliveries: Vec::new(),
            conversations: 0,
            expired: false,
        }
    }

    fn take(&mut self, event: LiveEvent) {
        let add = |m: Message, via: Via, this: &mut Self| {
            this.deliveries.push((m.id, via));
            if let Some(before) = this.messages.get(&m.id) {
                assert_eq!(before.content, m.content, "id {} changed content", m.id);
            }
            this.messages.insert(m.id, m);
        };
        match event {
            LiveEvent::State(s) => self.states.push((Instant::now(), s)),
            LiveEvent::Conversation { messages, .. } => {
                self.conversations += 1;
                for m in messages {
                    add(m, Via::Rest, self);
                }
            }
            LiveEvent::Pushed(WsEvent::MessageNew { message }) => add(message, Via::Push, self),
            LiveEvent::SessionExpired => self.expired = true,
            _ => {}
        }
    }

    fn state(&self) -> Option<&LinkState> {
        self.states.last().map(|(_, s)| s)
    }

    /// Take events until `done` holds; false after `within`.
    async fn until(&mut self, within: Duration, mut done: impl FnMut(&Watch) -> bool) -> bool {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if done(self) {
                return true;
            }
            match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Ok(Some(event)) => self.take(event),
                Ok(None) | Err(_) => return done(self),
            }
        }
    }

    /// Take whatever arrives during `d` (letting time pass with the link running).
    async fn drain_for(&mut self, d: Duration) {
        let _ = self.until(d, |_| false).await;
    }

    fn has(&self, ids: &[i64]) -> bool {
        ids.iter().all(|id| self.messages.contains_key(id))
    }

    /// Stop the link; it must end by itself, not by a panic.
    async fn stop(self) {
        let _ = self.commands.send(LiveCommand::Shutdown).await;
        let ended = tokio::time::timeout(Duration::from_secs(5), self.task).await;
        assert!(matches!(ended, Ok(Ok(()))), "link task ended badly: {ended:?}");
    }
}

async fn send(from: &Client, to: &str, text: &str) -> i64 {
    let req = SendRequest { recipient: to.to_string(), content: text.to_string(), subject: None };
    let key = uuid::Uuid::new_v4().to_string();
    // The same key on a retry: a send that got through but whose reply was lost is not doubled.
    let mut last = None;
    for _ in 0..3 {
        match from.send(&req, Some(&key)).await {
            Ok(r) => return r.message_id,
            Err(e @ ApiError::Offline(_)) => last = Some(e),
            Err(e) => panic!("send failed: {e}"),
        }
    }
    panic!("send failed: {last:?}")
}

fn tempdb() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("server.db");
    (dir, db)
}

/// B sees A's message over the websocket with no REST request at all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_arrives_without_any_rest_request() {
    let (_dir, db) = tempdb();
    let server = start_server(&db, any_port(), |_| {}).await;
    let proxy = Proxy::start(server.addr()).await;
    let a = login(&server.url(), "dr_morgan").await;
    let b = login(&proxy.url(), "alex").await;
    let mut watch = Watch::start(b, fast_config(), "dr_morgan");
    assert!(watch.until(Duration::from_secs(10), |w| w.state() == Some(&LinkState::Live)).await);
    let since = Instant::now();
    let id = send(&a, "alex", "seen live").await;
    assert!(watch.until(Duration::from_secs(10), |w| w.has(&[id])).await, "message not delivered");
    assert!(watch.deliveries.contains(&(id, Via::Push)));
    let rest: Vec<_> = proxy.requests().into_iter().filter(|r| r.at >= since).collect();
    assert!(rest.is_empty(), "REST requests while live: {rest:?}");
    watch.stop().await;
    server.shutdown().await;
}

/// A push larger than the websocket's initial read buffer (8 KiB) still arrives whole:
/// the longest message the server takes, in two-byte characters (about 20 KB of JSON).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_push_arrives_whole() {
    let (_dir, db) = tempdb();
    let server = start_server(&db, any_port(), |_| {}).await;
    let a = login(&server.url(), "dr_morgan").await;
    let b = login(&server.url(), "alex").await;
    let mut watch = Watch::start(b, fast_config(), "dr_morgan");
    assert!(watch.until(Duration::from_secs(10), |w| w.state() == Some(&LinkState::Live)).await);
    let text = "é".repeat(10_000);
    let id = send(&a, "alex", &text).await;
    assert!(watch.until(Duration::from_secs(10), |w| w.has(&[id])).await, "message not delivered");
    assert!(watch.deliveries.contains(&(id, Via::Push)));
    assert_eq!(watch.messages.get(&id).map(|m| m.content.as_str()), Some(text.as_str()));
    watch.stop().await;
    server.shutdown().await;
}

/// The server restarts (same db, same port); 50 messages are sent while the link is
/// down; it reconnects within the backoff bound and catches all 50 up, once each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_then_catch_up_all_fifty() {
    let (_dir, db) = tempdb();
    let server = start_server(&db, any_port(), |_| {}).await;
    let addr = server.addr();
    let proxy = Proxy::start(addr).await;
    let b = login(&proxy.url(), "alex").await;
    let config = fast_config();
    let cap = config.backoff_cap;
    let mut watch = Watch::start(b, config, "dr_morgan");
    assert!(watch.until(Duration::from_secs(10), |w| w.state() == Some(&LinkState::Live)).await);

    // Down: the link cannot get through (the proxy refuses) and the server restarts.
    proxy.refuse(true);
    server.shutdown().await;
    proxy.drop_connections();
    assert!(
        watch.until(Duration::from_secs(10), |w| matches!(w.state(), Some(LinkState::Offline { .. }))).await,
        "the link did not notice"
    );
    let server = start_server(&db, addr, |_| {}).await;
    assert_eq!(server.addr(), addr);
    let a = login(&server.url(), "dr_morgan").await;
    let mut sent = Vec::new();
    for i in 0..50 {
        sent.push(send(&a, "alex", &format!("while you were away {i}")).await);
    }
    let before = watch.deliveries.len();
    proxy.refuse(false);

    // Back: within the backoff ceiling (plus a connect and a catch-up), all 50, once.
    let bound = cap + Duration::from_secs(5);
    let back = watch.until(bound, |w| w.has(&sent) && w.state() == Some(&LinkState::Live)).await;
    assert!(back, "not back and caught up within {bound:?}: state {:?}", watch.state());
    for (_, s) in &watch.states {
        if let LinkState::Offline { retry_in } = s {
            assert!(*retry_in <= cap, "waited {retry_in:?} > cap {cap:?}");
        }
    }
    let mut counts: HashMap<i64, usize> = HashMap::new();
    for (id, _) in &watch.deliveries[before..] {
        *counts.entry(*id).or_default() += 1;
    }
    for id in &sent {
        assert_eq!(counts.get(id), Some(&1), "message {id} delivered {:?} times", counts.get(id));
    }
    watch.stop().await;
    server.shutdown().await;
}

/// Without a websocket the link polls; while nothing changes it asks for no
/// conversation, and when something does, it fetches it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polling_makes_no_conversation_request_when_nothing_changed() {
    let (_dir, db) = tempdb();
    let server = start_server(&db, any_port(), |o| o.websocket = false).await;
    let proxy = Proxy::start(server.addr()).await;
    let a = login(&server.url(), "dr_morgan").await;
    let b = login(&proxy.url(), "alex").await;
    let config = LinkConfig { conversation_every: Duration::from_secs(3600), ..fast_config() };
    let mut watch = Watch::start(b, config, "dr_morgan");
    let polling = |w: &Watch| matches!(w.state(), Some(LinkState::Polling { .. }));
    assert!(watch.until(Duration::from_secs(10), |w| polling(w) && w.conversations > 0).await);

    let since = Instant::now();
    watch.drain_for(Duration::from_secs(3)).await;
    let idle = since.elapsed();
    let per_minute = |n: usize| n as f64 * 60.0 / idle.as_secs_f64();
    let probes = proxy.count("/api/", since);
    let conversation = proxy.count("/api/messages/conversation/", since);
    assert!(probes >= 3, "it should be polling: {probes} requests in {idle:?}");
    assert_eq!(
        conversation,
        0,
        "{:.0} conversation requests/min while idle ({:.0} requests/min in all)",
        per_minute(conversation),
        per_minute(probes)
    );

    let id = send(&a, "alex", "polled").await;
    assert!(watch.until(Duration::from_secs(10), |w| w.has(&[id])).await, "not delivered by polling");
    assert!(proxy.count("/api/messages/conversation/", since) >= 1);
    watch.stop().await;
    server.shutdown().await;
}

/// The production-profile tests' window and per-route limit (`5/10s`).
const WINDOW: Duration = Duration::from_secs(10);
const LIMIT: usize = 5;

/// A production-profile server limited to [`LIMIT`] requests per route per [`WINDOW`],
/// and a proxy in front of it that records requests.
async fn limited_production_server(db: &Path) -> (RunningServer, Proxy) {
    let server = start_server(db, any_port(), |o| {
        o.profile = Profile::Production;
        o.route_limit = Some("5/10s".parse::<RouteLimit>().expect("limit"));
    })
    .await;
    let proxy = Proxy::start(server.addr()).await;
    (server, proxy)
}

/// A link budget below [`limited_production_server`]'s limit, over its window.
fn limited_config() -> LinkConfig {
    LinkConfig {
        // Automatic: the server offers no ETag and no websocket, so this budget applies.
        auto_budget: Limits { per_hour: 4, per_day: 0 },
        budget_windows: Windows { hour: WINDOW, day: Duration::from_secs(240) },
        ..fast_config()
    }
}

/// Production profile with a small route limit: the link's requests per route stay
/// within it, a 429 (another client on the same IP ate the budget) is waited out, and
/// every message is delivered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn production_route_limits_are_kept_and_429_recovered() {
    let (_dir, db) = tempdb();
    let (server, proxy) = limited_production_server(&db).await;
    let a = login(&server.url(), "dr_morgan").await;
    let b = login(&proxy.url(), "alex").await;
    let c = login(&server.url(), "sam").await;
    let config = limited_config();
    let mut watch = Watch::start(b, config, "dr_morgan");
    let polling = |w: &Watch| matches!(w.state(), Some(LinkState::Polling { .. }));
    assert!(watch.until(Duration::from_secs(10), polling).await, "state {:?}", watch.state());

    let mut sent = vec![send(&a, "alex", "first").await];
    // Another client behind the same IP uses up the unread-count route.
    loop {
        match c.unread_count().await {
            Ok(_) => {}
            Err(ApiError::RateLimited { .. }) => break,
            Err(e) => panic!("unexpected: {e}"),
        }
    }
    let limited = |w: &Watch| w.states.iter().any(|(_, s)| matches!(s, LinkState::RateLimited { .. }));
    assert!(watch.until(Duration::from_secs(15), limited).await, "never saw a 429");
    for text in ["second", "third"] {
        sent.push(send(&a, "alex", text).await);
    }
    let recovered = |w: &Watch| {
        let first_limit = w.states.iter().position(|(_, s)| matches!(s, LinkState::RateLimited { .. }));
        first_limit.is_some_and(|i| w.states[i..].iter().any(|(_, s)| matches!(s, LinkState::Polling { .. })))
    };
    assert!(
        watch.until(Duration::from_secs(25), |w| w.has(&sent) && recovered(w)).await,
        "delivered {:?} of {sent:?}; states {:?}",
        sent.iter().filter(|id| watch.messages.contains_key(id)).collect::<Vec<_>>(),
        watch.states
    );
    assert!(!watch.expired);
    // The period the status bar shows is the real one: the budgets (4 per 10 s per
    // route) stretch the 0.5 s cadence, and that is what is said (issue 13, item 9).
    let periods: Vec<Duration> = watch
        .states
        .iter()
        .filter_map(|(_, s)| match s {
            LinkState::Polling { interval } => Some(*interval),
            _ => None,
        })
        .collect();
    assert!(periods.iter().any(|p| *p >= Duration::from_millis(900)), "{periods:?}");
    watch.stop().await;

    assert_route_limits(&proxy, WINDOW, LIMIT);
    server.shutdown().await;
}

/// Per route, never more than `limit` of the requests through `proxy` in any `window`.
fn assert_route_limits(proxy: &Proxy, window: Duration, limit: usize) {
    let mut by_route: HashMap<String, Vec<Instant>> = HashMap::new();
    for r in proxy.requests() {
        let route = if r.path.starts_with("/api/messages/conversation/") {
            "/api/messages/conversation/{user}".to_string()
        } else {
            r.path
        };
        by_route.entry(route).or_default().push(r.at);
    }
    for (route, times) in &by_route {
        for (i, t) in times.iter().enumerate() {
            let in_window = times[..=i].iter().filter(|s| t.duration_since(**s) < window).count();
            assert!(in_window <= limit, "{route}: {in_window} requests within {window:?}");
        }
    }
}

/// `watch --json`'s stream: lines written by the stream task, read by the test.
#[derive(Clone, Default)]
struct Lines(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Lines {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Lines {
    fn json(&self) -> Vec<serde_json::Value> {
        let text = String::from_utf8(self.0.lock().unwrap().clone()).unwrap();
        text.lines().map(|l| serde_json::from_str(l).expect("one JSON object per line")).collect()
    }

    /// Wait until a line satisfies `ok`; false after `within`.
    async fn until(&self, within: Duration, ok: impl Fn(&serde_json::Value) -> bool) -> bool {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if self.json().iter().any(&ok) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    }
}

/// `watch --json`'s stream running for a client: its lines, the states it reported,
/// and how to stop it.
struct Streaming {
    lines: Lines,
    states: std::sync::Arc<std::sync::Mutex<Vec<LinkState>>>,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<watch::Ending>,
}

impl Streaming {
    fn start(client: Client, config: LinkConfig) -> Streaming {
        let lines = Lines::default();
        let states = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (stop, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let (mut out, seen) = (lines.clone(), states.clone());
        let task = tokio::spawn(async move {
            let on_state = move |s: &LinkState| seen.lock().unwrap().push(s.clone());
            let stop = async move {
                let _ = stop_rx.await;
            };
            watch::stream(client, config, true, &mut out, on_state, stop).await
        });
        Streaming { lines, states, stop, task }
    }

    /// Wait until a reported state satisfies `ok`.
    async fn reached(&self, ok: impl Fn(&LinkState) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.states.lock().unwrap().iter().any(&ok) {
            assert!(Instant::now() < deadline, "states so far: {:?}", self.states.lock().unwrap());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Stop it; it must end as asked. Returns the states it reported.
    async fn stop(self) -> Vec<LinkState> {
        self.stop.send(()).unwrap();
        let ending = tokio::time::timeout(Duration::from_secs(5), self.task).await.unwrap().unwrap();
        assert_eq!(ending, watch::Ending::Stopped);
        self.states.lock().unwrap().clone()
    }
}

fn is_message(v: &serde_json::Value, via: &str, text: &str) -> bool {
    v["type"] == "message.new" && v["via"] == via && v["message"]["content"] == text
}

/// `watch --json` prints a message pushed over the websocket, with its id, once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_json_prints_a_pushed_message() {
    let (_dir, db) = tempdb();
    let server = start_server(&db, any_port(), |_| {}).await;
    let a = login(&server.url(), "alex").await;
    let me = login(&server.url(), "dr_morgan").await;
    let watching = Streaming::start(me, fast_config());
    watching.reached(|s| *s == LinkState::Live).await;
    let id = send(&a, "dr_morgan", "pushed to the watch").await;
    let lines = watching.lines.clone();
    assert!(lines.until(Duration::from_secs(10), |v| is_message(v, "push", "pushed to the watch")).await);
    watching.stop().await;
    let got = lines.json();
    let line = got.iter().find(|v| is_message(v, "push", "pushed to the watch")).unwrap();
    assert_eq!(
        (line["message"]["id"].as_i64(), line["message"]["sender"].as_str()),
        (Some(id), Some("alex"))
    );
    assert_eq!(got.len(), 1, "nothing from before the start, nothing twice: {got:?}");
    server.shutdown().await;
}

/// In the production profile (no push, per-route limits) `watch --json` prints a message
/// seen by polling, its requests stay within every route's limit, and it fetches no
/// conversation (that would mark messages read).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_json_prints_a_polled_message_within_production_limits() {
    let (_dir, db) = tempdb();
    let (server, proxy) = limited_production_server(&db).await;
    let a = login(&server.url(), "alex").await;
    let me = login(&proxy.url(), "dr_morgan").await;
    let watching = Streaming::start(me, limited_config());
    watching.reached(|s| matches!(s, LinkState::Polling { .. })).await;
    send(&a, "dr_morgan", "seen by polling").await;
    let lines = watching.lines.clone();
    let printed = lines.until(Duration::from_secs(25), |v| is_message(v, "poll", "seen by polling")).await;
    let states = watching.stop().await;
    assert!(printed, "not printed: {:?}; states {states:?}", lines.json());
    let got = lines.json();
    let line = got.iter().find(|v| is_message(v, "poll", "seen by polling")).unwrap();
    assert_eq!(line["message"]["sender"], "alex", "the inbox's last_sender: {line}");
    assert_eq!(line["preview"], true);
    assert!(!states.iter().any(|s| matches!(s, LinkState::RateLimited { .. })), "refused: {states:?}");
    let fetched =
        proxy.requests().iter().filter(|r| r.path.starts_with("/api/messages/conversation/")).count();
    assert_eq!(fetched, 0, "no conversation fetched (it would mark messages read)");
    assert_route_limits(&proxy, WINDOW, LIMIT);
    server.shutdown().await;
}

/// The fault proxy: dropped connections, a stalled (dead) link and a frame cut in the
/// middle. The link comes back from each, delivers what was said meanwhile exactly once,
/// and its task never panics.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recovers_from_drop_stall_and_cut_frames() {
    let (_dir, db) = tempdb();
    let server = start_server(&db, any_port(), |_| {}).await;
    let proxy = Proxy::start(server.addr()).await;
    let a = login(&server.url(), "dr_morgan").await;
    let b = login(&proxy.url(), "alex").await;
    let mut watch = Watch::start(b, fast_config(), "dr_morgan");
    let live = |w: &Watch| w.state() == Some(&LinkState::Live);
    let offline = |w: &Watch| matches!(w.state(), Some(LinkState::Offline { .. }));
    assert!(watch.until(Duration::from_secs(10), live).await);
    let mut sent = Vec::new();

    // 1. Every connection dropped, and none possible for a moment.
    proxy.refuse(true);
    proxy.drop_connections();
    assert!(watch.until(Duration::from_secs(10), offline).await, "drop unnoticed");
    sent.push(send(&a, "alex", "during the drop").await);
    proxy.refuse(false);
    assert!(watch.until(Duration::from_secs(10), |w| live(w) && w.has(&sent)).await, "after drop");

    // 2. A stalled link: no bytes move but the socket stays open. Pings go unanswered.
    proxy.stall(true);
    assert!(watch.until(Duration::from_secs(10), offline).await, "stall unnoticed");
    sent.push(send(&a, "alex", "during the stall").await);
    proxy.stall(false);
    assert!(watch.until(Duration::from_secs(15), |w| live(w) && w.has(&sent)).await, "after stall");

    // 3. The push frame of a new message is cut after a few bytes and the socket closed.
    proxy.cut_response_containing("cut in the middle", 5);
    sent.push(send(&a, "alex", "cut in the middle").await);
    assert!(watch.until(Duration::from_secs(10), offline).await, "cut unnoticed");
    assert!(watch.until(Duration::from_secs(10), |w| live(w) && w.has(&sent)).await, "after cut");

    let mut counts: HashMap<i64, usize> = HashMap::new();
    for (id, _) in &watch.deliveries {
        *counts.entry(*id).or_default() += 1;
    }
    let doubled: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(doubled.is_empty(), "delivered more than once: {doubled:?}");
    watch.stop().await;
    server.shutdown().await;
}

/// A session the server no longer knows ends the link with `SessionExpired`, over the
/// websocket upgrade (401) and while polling (401 on REST), instead of retrying forever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_session_is_reported_and_ends_the_link() {
    for websocket in [true, false] {
        let (_dir, db) = tempdb();
        let server = start_server(&db, any_port(), |o| o.websocket = websocket).await;
        let b = login(&server.url(), "alex").await;
        // The same session, ended on the server from elsewhere.
        let other = Client::from_session(&b.session(), &ClientOptions::default()).expect("client");
        other.logout().await.expect("logout");
        let mut watch = Watch::start(b, fast_config(), "dr_morgan");
        assert!(
            watch.until(Duration::from_secs(10), |w| w.expired).await,
            "websocket {websocket}: states {:?}",
            watch.states
        );
        let ended = tokio::time::timeout(Duration::from_secs(5), &mut watch.task).await;
        assert!(matches!(ended, Ok(Ok(()))), "the link should end by itself: {ended:?}");
        server.shutdown().await;
    }
}

/// `R` while offline: no waiting out a long backoff, the link tries again at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_now_skips_the_backoff_wait() {
    let (_dir, db) = tempdb();
    let server = start_server(&db, any_port(), |_| {}).await;
    let proxy = Proxy::start(server.addr()).await;
    let b = login(&proxy.url(), "alex").await;
    let config = LinkConfig {
        backoff_base: Duration::from_secs(600),
        backoff_cap: Duration::from_secs(600),
        ..fast_config()
    };
    let mut watch = Watch::start(b, config, "dr_morgan");
    assert!(watch.until(Duration::from_secs(10), |w| w.state() == Some(&LinkState::Live)).await);
    proxy.drop_connections();
    let offline = |w: &Watch| matches!(w.state(), Some(LinkState::Offline { .. }));
    assert!(watch.until(Duration::from_secs(10), offline).await);
    watch.commands.send(LiveCommand::RetryNow).await.expect("command");
    let from = watch.states.len();
    let back = |w: &Watch| {
        let after = &w.states[from..];
        after.first().is_some_and(|(_, s)| *s == LinkState::Connecting)
            && after.last().is_some_and(|(_, s)| *s == LinkState::Live)
    };
    assert!(watch.until(Duration::from_secs(10), back).await, "states {:?}", watch.states);
    watch.stop().await;
    server.shutdown().await;
}

/// The app's effect runner starts the link at login and turns its news into actions:
/// live state, a pushed message, and `R` as a check through the link.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn app_runner_turns_link_events_into_actions() {
    use healing_tui::app::action::{Action, Connection};
    use healing_tui::app::effect::Effect;
    use healing_tui::shell::client_service::ClientConnect;
    use healing_tui::shell::runner::Runner;

    let (dir, db) = tempdb();
    let server = start_server(&db, any_port(), |_| {}).await;
    let a = login(&server.url(), "dr_morgan").await;
    let b = login(&server.url(), "alex").await;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let connect = ClientConnect { opts: ClientOptions::default(), config_dir: dir.path().join("config") };
    let runner = Runner::new(connect, Some(b), tx).with_link_config(fast_config());
    runner.start_polling();
    runner.note_open(Some(("dr_morgan", 0)));
    let mut until = async |want: &(dyn Fn(&Action) -> bool + Sync)| {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while let Ok(Some(action)) = tokio::time::timeout_at(deadline, rx.recv()).await {
            if want(&action) {
                return true;
            }
        }
        false
    };
    assert!(until(&|a| *a == Action::ConnectionChanged(Connection::Live)).await, "never live");
    let id = send(&a, "alex", "to the app").await;
    let arrived = |a: &Action| matches!(a, Action::MessagesArrived(m) if m.iter().any(|m| m.id == id));
    assert!(until(&arrived).await, "the pushed message did not become an action");
    runner.run(Effect::Reconnect);
    assert!(until(&|a| matches!(a, Action::Synced(_))).await, "R did not check through the link");
    runner.run(Effect::Logout);
    assert!(until(&|a| *a == Action::LoggedOut).await);
    server.shutdown().await;
}
