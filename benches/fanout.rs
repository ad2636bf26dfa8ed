//! Websocket fan-out of the reference server: N sockets (half as `alex`, half as
//! `dr_morgan`, the two parties of every message), one sender (`dr_morgan` → `alex`
//! over REST). Prints, per N:
//! - latency p50/p99/max from the start of the send request to each socket's receipt
//!   of the `message.new` frame, measured one send at a time (each send waits until
//!   every socket has it, so there is no queueing);
//! - sends/s and deliveries/s for a burst of back-to-back sends, until the last socket
//!   has the last message.
//!
//! Run: `cargo bench --bench fanout -- --clients 10,100,1000 --sends 100 --burst 200`
//! (add `--profile dev` to skip the release build; figures are then slower).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use healing_tui::model::types::WsEvent;
use healing_tui::server::{self, ServerOptions};
use serde_json::json;
use tokio::sync::Notify;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message as Frame;

struct Args {
    clients: Vec<usize>,
    sends: usize,
    burst: usize,
}

fn parse_args() -> Args {
    let mut args = Args { clients: vec![10, 100, 1000], sends: 100, burst: 200 };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--clients" => {
                if let Some(v) = it.next() {
                    args.clients = v.split(',').filter_map(|n| n.trim().parse().ok()).collect();
                }
            }
            "--sends" => args.sends = it.next().and_then(|v| v.parse().ok()).unwrap_or(args.sends),
            "--burst" => args.burst = it.next().and_then(|v| v.parse().ok()).unwrap_or(args.burst),
            _ => {} // cargo passes --bench; ignore anything else
        }
    }
    args
}

struct Session {
    cookie: String,
    csrf: String,
}

async fn login(http: &reqwest::Client, base: &str, user: &str) -> Session {
    let resp = http
        .post(format!("{base}/api/auth/login"))
        .json(&json!({"username": user, "password": "healing-demo", "pin": "1234"}))
        .send()
        .await
        .expect("login");
    let cookie = resp
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.split(';').next().filter(|c| c.starts_with("session=")).map(str::to_string))
        .expect("session cookie");
    let body: serde_json::Value = resp.json().await.expect("login body");
    let csrf = body["csrf_token"].as_str().expect("csrf").to_string();
    Session { cookie, csrf }
}

/// What every socket task shares.
struct Shared {
    started: Mutex<Vec<Option<Instant>>>,
    delivered: AtomicUsize,
    progress: Notify,
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

struct Row {
    clients: usize,
    p50: Duration,
    p99: Duration,
    max: Duration,
    sends_per_s: f64,
    deliveries_per_s: f64,
}

async fn run(n: usize, sends: usize, burst: usize) -> Row {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = server::start(ServerOptions::local_demo(dir.path().join("bench.db"))).await.expect("server");
    let base = server.url();
    let http = reqwest::Client::new();
    let alex = login(&http, &base, "alex").await;
    let dr = login(&http, &base, "dr_morgan").await;
    let total = sends + burst;
    let shared = Arc::new(Shared {
        started: Mutex::new(vec![None; total]),
        delivered: AtomicUsize::new(0),
        progress: Notify::new(),
    });

    let ws_url = base.replace("http://", "ws://") + "/api/messages/ws";
    let mut tasks = Vec::with_capacity(n);
    for i in 0..n {
        let cookie = if i % 2 == 0 { &alex.cookie } else { &dr.cookie };
        let mut req = ws_url.clone().into_client_request().expect("ws request");
        req.headers_mut().insert("Cookie", cookie.parse().expect("cookie header"));
        let (mut ws, _) = tokio_tungstenite::connect_async(req).await.expect("ws connect");
        let shared = Arc::clone(&shared);
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(total);
            let mut got = 0;
            while got < total {
                let Some(Ok(frame)) = ws.next().await else { break };
                let Frame::Text(text) = frame else { continue };
                let now = Instant::now();
                if let Some(WsEvent::MessageNew { message }) = WsEvent::parse(&text) {
                    let seq: usize =
                        message.content.trim_start_matches("bench-").parse().unwrap_or(usize::MAX);
                    let start = shared.started.lock().map(|s| s.get(seq).copied().flatten()).ok().flatten();
                    if let Some(start) = start {
                        latencies.push((seq, now - start));
                    }
                    got += 1;
                    shared.delivered.fetch_add(1, Ordering::AcqRel);
                    shared.progress.notify_waiters();
                }
            }
            latencies
        }));
    }
    while server.open_sockets() < n {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    let send = |seq: usize| {
        if let Ok(mut s) = shared.started.lock() {
            s[seq] = Some(Instant::now());
        }
        http.post(format!("{base}/api/messages/send"))
            .header("Cookie", &dr.cookie)
            .header("X-CSRF-Token", &dr.csrf)
            .json(&json!({"recipient": "alex", "content": format!("bench-{seq}")}))
            .send()
    };
    let wait_for = |count: usize| {
        let shared = Arc::clone(&shared);
        async move {
            loop {
                let notified = shared.progress.notified();
                tokio::pin!(notified);
                // Register before checking, so a delivery in between still wakes us.
                notified.as_mut().enable();
                if shared.delivered.load(Ordering::Acquire) >= count {
                    return;
                }
                let _ = tokio::time::timeout(Duration::from_millis(200), notified).await;
            }
        }
    };

    // Latency: one send at a time.
    for seq in 0..sends {
        let resp = send(seq).await.expect("send");
        assert_eq!(resp.status(), 201);
        wait_for((seq + 1) * n).await;
    }
    // Throughput: back to back.
    let t0 = Instant::now();
    for seq in sends..total {
        let resp = send(seq).await.expect("send");
        assert_eq!(resp.status(), 201);
    }
    wait_for(total * n).await;
    let burst_time = t0.elapsed();

    let mut latencies = Vec::with_capacity(n * sends);
    for t in tasks {
        for (seq, d) in t.await.expect("socket task") {
            if seq < sends {
                latencies.push(d);
            }
        }
    }
    latencies.sort_unstable();
    server.shutdown().await;
    let secs = burst_time.as_secs_f64().max(1e-9);
    Row {
        clients: n,
        p50: percentile(&latencies, 0.50),
        p99: percentile(&latencies, 0.99),
        max: latencies.last().copied().unwrap_or_default(),
        sends_per_s: burst as f64 / secs,
        deliveries_per_s: (burst * n) as f64 / secs,
    }
}

fn main() {
    let args = parse_args();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    println!(
        "fan-out: {} latency sends (one at a time), burst of {} sends; {} cores",
        args.sends,
        args.burst,
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    println!(
        "{:>8} {:>10} {:>10} {:>10} {:>10} {:>14}",
        "clients", "p50 ms", "p99 ms", "max ms", "sends/s", "deliveries/s"
    );
    for &n in &args.clients {
        let row = rt.block_on(run(n, args.sends, args.burst));
        println!(
            "{:>8} {:>10.2} {:>10.2} {:>10.2} {:>10.0} {:>14.0}",
            row.clients,
            ms(row.p50),
            ms(row.p99),
            ms(row.max),
            row.sends_per_s,
            row.deliveries_per_s
        );
    }
}
