//! Bytes on the wire for the live link, measured at a counting TCP proxy between the
//! client and the in-process reference server (plain HTTP on loopback: TCP payload
//! bytes, without TCP/IP headers and without TLS; production's `Connection: close` costs
//! a TLS handshake per request on top, so the connection count is reported too).
//!
//! Scenarios: login; first sync (inbox + one conversation); an idle minute on the
//! websocket; an idle minute polling with ETags (`websocket: false`); an idle minute
//! polling the production profile (no ETag, no push, route limits, default budget); and
//! the bytes per delivered message on each link.
//!
//! `cargo bench --bench wire` measures real minutes (after a minute of warm-up for the
//! pollers, so the figures are the steady state). `cargo bench --bench wire -- --quick`
//! shrinks every interval of the link, the budget windows and the server's route limit
//! by 10 and measures a tenth of a minute; figures are reported per (real) minute.
//! (The server's own 30 s websocket ping is not scaled, so quick mode misses it: add
//! about 4 B received and 12 B sent per minute to the websocket row.)
//!
//! Quick run, 2026-11-28 (2 shared cores):
//!
//! | scenario | sent | received |
//! |---|---|---|
//! | login (login + csrf-token), reference / production | 463 B | 794 B / 770 B |
//! | first sync (inbox + conversation), reference / production | 503 B | 1.1 KiB / 1.6 KiB |
//! | idle minute, websocket (15 s pings) | 24 B | 8 B |
//! | idle minute, polling with ETag (5 req/min, 304s) | 1.2 KiB | 1.0 KiB |
//! | idle minute, production polling (1 req/min, 1 connection/min) | 211 B | 210 B |
//!
//! Per delivered message: websocket 210 B, polling with ETag 1.3 KiB, production 1.9 KiB.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/support/proxy.rs"]
#[allow(dead_code)]
mod proxy;

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use healing_tui::api::{Client, ClientOptions};
use healing_tui::model::types::{LoginRequest, SendRequest, WsEvent};
use healing_tui::server::{self, Profile, RouteLimit, RunningServer, Seed, ServerOptions};
use healing_tui::sync::budget::Windows;
use healing_tui::sync::link::{self, LinkConfig, LinkState, LiveCommand, LiveEvent};
use healing_tui::sync::plan::Cadence;
use proxy::Proxy;
use tokio::sync::mpsc;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    /// Reference server, websocket push.
    Ws,
    /// Reference server without websocket: polling with ETag / 304.
    PollEtag,
    /// Production profile: polling, no ETag, Connection: close, route limits, budget.
    Production,
}

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Kind::Ws => "websocket",
            Kind::PollEtag => "polling + ETag",
            Kind::Production => "polling, production",
        }
    }
}

struct Setup {
    _dir: tempfile::TempDir,
    server: RunningServer,
    proxy: Proxy,
    a: Client,
}

async fn login(url: &str, user: &str) -> Client {
    let client = Client::new(url, &ClientOptions::default()).expect("client");
    let req = LoginRequest {
        username: user.into(),
        password: "healing-demo".into(),
        pin: "1234".into(),
        remember_me: None,
    };
    client.login(&req).await.expect("login");
    client
}

async fn setup(kind: Kind, scale: u32) -> Setup {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut opts = ServerOptions::new(SocketAddr::from(([127, 0, 0, 1], 0)), dir.path().join("s.db"));
    opts.seed = Some(Seed::Demo);
    match kind {
        Kind::Ws => {}
        Kind::PollEtag => opts.websocket = false,
        Kind::Production => {
            opts.profile = Profile::Production;
            let rule = format!("50/{}s,200/{}s", 3600 / scale, 86_400 / scale);
            opts.route_limit = Some(rule.parse::<RouteLimit>().expect("route limit"));
        }
    }
    let server = server::start(opts).await.expect("server");
    let proxy = Proxy::start(server.addr()).await;
    let a = login(&server.url(), "dr_morgan").await;
    Setup { _dir: dir, server, proxy, a }
}

fn config(scale: u32) -> LinkConfig {
    let d = LinkConfig::default();
    let s = |x: Duration| x / scale;
    LinkConfig {
        cadence: Cadence {
            active: s(d.cadence.active),
            idle: s(d.cadence.idle),
            idle_after: s(d.cadence.idle_after),
        },
        budget_windows: Windows { hour: s(d.budget_windows.hour), day: s(d.budget_windows.day) },
        rate_limit_wait: s(d.rate_limit_wait),
        ws_recheck: s(d.ws_recheck),
        ping_every: s(d.ping_every),
        dead_after: s(d.dead_after),
        conversation_every: s(d.conversation_every),
        ..d
    }
}

/// The app side, reduced to what the bench needs.
struct Watch {
    events: mpsc::Receiver<LiveEvent>,
    commands: mpsc::Sender<LiveCommand>,
    state: Option<LinkState>,
    seen: BTreeSet<i64>,
    conversations: usize,
}

impl Watch {
    async fn until(&mut self, within: Duration, done: impl Fn(&Watch) -> bool) -> bool {
        let deadline = tokio::time::Instant::now() + within;
        while !done(self) {
            match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Ok(Some(LiveEvent::State(s))) => self.state = Some(s),
                Ok(Some(LiveEvent::Conversation { messages, .. })) => {
                    self.conversations += 1;
                    self.seen.extend(messages.iter().map(|m| m.id));
                }
                Ok(Some(LiveEvent::Pushed(WsEvent::MessageNew { message }))) => {
                    self.seen.insert(message.id);
                }
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => return done(self),
            }
        }
        true
    }
}

fn kb(bytes: f64) -> String {
    if bytes >= 1024.0 {
        format!("{:.1} KiB", bytes / 1024.0)
    } else {
        format!("{bytes:.0} B")
    }
}

struct Figures {
    idle_up: f64,
    idle_down: f64,
    idle_requests: f64,
    idle_connections: f64,
    per_message: f64,
}

async fn run_link(kind: Kind, scale: u32, quick: bool) -> Figures {
    let env = setup(kind, scale).await;
    let b = login(&env.proxy.url(), "alex").await;
    let (etx, events) = mpsc::channel(1024);
    let (commands, crx) = mpsc::channel(16);
    commands.try_send(LiveCommand::Open(Some(("dr_morgan".into(), 0)))).expect("open");
    let task = link::spawn(b, config(scale), etx, crx);
    let mut w = Watch { events, commands, state: None, seen: BTreeSet::new(), conversations: 0 };
    let ready = |w: &Watch| {
        w.conversations > 0 && matches!(w.state, Some(LinkState::Live | LinkState::Polling { .. }))
    };
    assert!(w.until(Duration::from_secs(30), ready).await, "{kind:?} never synced");
    let minute = Duration::from_secs(60) / scale;
    if kind != Kind::Ws && !quick {
        // Steady state: let the first minute's catch-up and empty budgets pass.
        w.until(minute, |_| false).await;
    } else {
        w.until(minute / 10, |_| false).await;
    }
    let (up0, down0) = env.proxy.bytes();
    let (req0, conn0) = (env.proxy.requests().len(), env.proxy.connections());
    let t0 = Instant::now();
    w.until(minute, |_| false).await;
    // Wall time over the (scaled) minute: the rates below are per minute of the link's life.
    let span = t0.elapsed().as_secs_f64() / minute.as_secs_f64();
    let (up1, down1) = env.proxy.bytes();
    let (req1, conn1) = (env.proxy.requests().len(), env.proxy.connections());
    let idle_up = (up1 - up0) as f64 / span;
    let idle_down = (down1 - down0) as f64 / span;
    let idle_per_wall_sec = (idle_up + idle_down) / minute.as_secs_f64();

    // Messages one at a time, each waited for: the bytes the link moved to deliver it,
    // net of what it would have moved idle meanwhile.
    let n = 3;
    let (u0, d0) = env.proxy.bytes();
    let t1 = Instant::now();
    for i in 0..n {
        let req = SendRequest {
            recipient: "alex".into(),
            content: format!("message {i} for the bench"),
            subject: None,
        };
        let id = env.a.send(&req, None).await.expect("send").message_id;
        let delivered = w.until(Duration::from_secs(900) / scale, |w| w.seen.contains(&id)).await;
        assert!(delivered, "{kind:?}: message not delivered");
    }
    let (u1, d1) = env.proxy.bytes();
    let moved = (u1 - u0 + d1 - d0) as f64;
    let per_message = (moved - idle_per_wall_sec * t1.elapsed().as_secs_f64()).max(0.0) / n as f64;
    let _ = w.commands.send(LiveCommand::Shutdown).await;
    let _ = task.await;
    env.server.shutdown().await;
    Figures {
        idle_up,
        idle_down,
        idle_requests: (req1 - req0) as f64 / span,
        idle_connections: (conn1 - conn0) as f64 / span,
        per_message,
    }
}

async fn login_and_first_sync(kind: Kind) -> ((u64, u64), (u64, u64)) {
    let env = setup(kind, 1).await;
    let (u0, d0) = env.proxy.bytes();
    let b = login(&env.proxy.url(), "alex").await;
    let (u1, d1) = env.proxy.bytes();
    b.inbox(1, 20, false, None).await.expect("inbox");
    b.conversation("dr_morgan", 200, None, None).await.expect("conversation");
    let (u2, d2) = env.proxy.bytes();
    env.server.shutdown().await;
    ((u1 - u0, d1 - d0), (u2 - u1, d2 - d1))
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let scale = if quick { 10 } else { 1 };
    let rt =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    rt.block_on(async {
        println!(
            "bytes on the wire (TCP payload, loopback, no TLS){}",
            if quick { " — quick: 1/10 scale, per real minute" } else { "" }
        );
        println!();
        println!("{:<46} {:>10} {:>10}", "one-off", "sent", "received");
        for kind in [Kind::Ws, Kind::Production] {
            let ((lu, ld), (su, sd)) = login_and_first_sync(kind).await;
            let name = if kind == Kind::Ws { "reference" } else { "production" };
            println!("{:<46} {:>10} {:>10}", format!("login ({name})"), kb(lu as f64), kb(ld as f64));
            println!(
                "{:<46} {:>10} {:>10}",
                format!("first sync: inbox + conversation ({name})"),
                kb(su as f64),
                kb(sd as f64)
            );
        }
        println!();
        println!(
            "{:<22} {:>12} {:>12} {:>10} {:>12} {:>14}",
            "idle minute", "sent/min", "recv/min", "req/min", "conn/min", "per message"
        );
        for kind in [Kind::Ws, Kind::PollEtag, Kind::Production] {
            let f = run_link(kind, scale, quick).await;
            println!(
                "{:<22} {:>12} {:>12} {:>10.1} {:>12.1} {:>14}",
                kind.label(),
                kb(f.idle_up),
                kb(f.idle_down),
                f.idle_requests,
                f.idle_connections,
                kb(f.per_message)
            );
        }
    });
}
