//! The outbox, end to end: messages go through the sender to an in-process reference
//! server behind the fault-injection proxy, across server restarts, dropped and cut
//! connections, a refusing server and a client killed with SIGKILL, and every message
//! must arrive exactly once, in order per conversation.

#![cfg(feature = "server")]

mod support;

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use healing_tui::api::{Client, ClientOptions, Fetched};
use healing_tui::model::types::{LoginRequest, Message};
use healing_tui::server::{self, RunningServer, ServerOptions};
use healing_tui::store::{OutboxState, OutgoingMessage, Store, StoreHandle};
use healing_tui::sync::budget::{Limits, Windows};
use healing_tui::sync::sender::{self, Blocked, FlushReport, OutboxEvent};
use support::proxy::Proxy;

const BIN: &str = env!("CARGO_BIN_EXE_healing-tui");

/// A seeded server that can be killed and restarted on the same address and database,
/// with the proxy in front of it.
struct World {
    dir: tempfile::TempDir,
    opts: ServerOptions,
    server: Option<RunningServer>,
    proxy: Proxy,
}

impl World {
    async fn start(ignore_idempotency_key: bool) -> World {
        let dir = tempfile::tempdir().unwrap();
        let mut opts = ServerOptions::local_demo(dir.path().join("server.db"));
        opts.websocket = false;
        opts.ignore_idempotency_key = ignore_idempotency_key;
        let server = server::start(opts.clone()).await.unwrap();
        opts.addr = server.addr();
        let proxy = Proxy::start(server.addr()).await;
        World { dir, opts, server: Some(server), proxy }
    }

    async fn stop_server(&mut self) {
        // Open proxied connections would hold the graceful shutdown.
        self.proxy.drop_connections();
        if let Some(s) = self.server.take() {
            s.shutdown().await;
        }
    }

    async fn start_server(&mut self) {
        assert!(self.server.is_none());
        // The old listener's port can take a moment to be free again.
        for _ in 0..50 {
            match server::start(self.opts.clone()).await {
                Ok(s) => {
                    self.server = Some(s);
                    return;
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
        panic!("the server could not be restarted on {}", self.opts.addr);
    }

    async fn restart(&mut self) {
        self.stop_server().await;
        self.start_server().await;
    }

    fn direct_url(&self) -> String {
        format!("http://{}", self.opts.addr)
    }

    fn store(&self, who: &str) -> Mutex<Store> {
        Mutex::new(
            Store::open(&self.dir.path().join("stores").join(format!("{who}.sqlite3")), who).unwrap().store,
        )
    }

    fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }
}

fn options() -> ClientOptions {
    ClientOptions {
        connect_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_secs(3),
        ..ClientOptions::default()
    }
}

async fn login(url: &str, who: &str) -> Client {
    let client = Client::new(url, &options()).unwrap();
    let req = LoginRequest {
        username: who.into(),
        password: "healing-demo".into(),
        pin: "1234".into(),
        remember_me: None,
    };
    client.login(&req).await.unwrap();
    client
}

/// The whole conversation as the server has it (page by page).
async fn server_conversation(client: &Client, with: &str) -> Vec<Message> {
    let mut all: Vec<Message> = Vec::new();
    let mut after = None;
    loop {
        let Fetched::Fresh { value, .. } = client.conversation(with, 200, after, None).await.unwrap() else {
            panic!("no ETag was sent, so no 304 is possible");
        };
        let n = value.messages.len();
        after = value.messages.iter().map(|m| m.id).max().or(after);
        all.extend(value.messages);
        if n < 200 {
            return all;
        }
    }
}

/// What `me` wrote to `with` after message `after` (the seed's history), in the
/// server's order.
async fn written(client: &Client, me: &str, with: &str, after: i64) -> Vec<String> {
    server_conversation(client, with)
        .await
        .into_iter()
        .filter(|m| m.id > after && m.sender == me && m.recipient == with)
        .map(|m| m.content)
        .collect()
}

/// The newest message id the server has for `me` (everything later is the test's).
async fn newest_id(client: &Client) -> i64 {
    let Fetched::Fresh { value, .. } = client.inbox(1, 50, false, None).await.unwrap() else {
        panic!("no ETag was sent, so no 304 is possible");
    };
    let mut newest = 0;
    for c in value.conversations {
        let msgs = server_conversation(client, &c.with_user).await;
        newest = msgs.iter().map(|m| m.id).max().unwrap_or(0).max(newest);
    }
    newest
}

fn lock(store: &Mutex<Store>) -> std::sync::MutexGuard<'_, Store> {
    store.lock().unwrap()
}

/// Nothing queued, in doubt or refused is left.
fn assert_outbox_settled(store: &Mutex<Store>) {
    let left: Vec<_> = lock(store)
        .pending()
        .unwrap()
        .into_iter()
        .filter(|e| !matches!(e.state, OutboxState::Sent { .. }))
        .collect();
    assert!(left.is_empty(), "still in the outbox: {left:#?}");
}

/// The binary as a one-shot command, with its config and data under `base`, logged in
/// (when it logs in) as any demo user.
fn cli_command(base: &std::path::Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.arg("--config-dir").arg(base.join("config")).arg("--data-dir").arg(base.join("data"));
    cmd.args(args);
    for var in ["HEALING_SERVER", "RUST_LOG", "HEALING_TUI_CONFIG_DIR", "HEALING_TUI_DATA_DIR"] {
        cmd.env_remove(var);
    }
    cmd.env("HEALING_PASSWORD", "healing-demo").env("HEALING_PIN", "1234");
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd
}

mod exactly_once {
    use super::*;

    /// Each round enqueues ten messages, then one of these happens while they are sent.
    #[derive(Debug, Clone, Copy)]
    enum Fault {
        None,
        /// The server handles the send but the client never sees the 201.
        CutAfterProcessing,
        /// A response cut part-way (whichever request is next).
        CutMidResponse,
        /// The server is down: the proxy accepts and hangs up.
        ServerDown,
        /// The server restarts while messages are being sent.
        RestartDuringFlush,
        /// Every connection is dropped while messages are being sent.
        DropDuringFlush,
        /// New connections are accepted and closed at once.
        Refuse,
        /// No proxy and no server: the connection is refused (the attempt certainly
        /// never left).
        DirectConnectionRefused,
    }

    const FAULTS: [Fault; 8] = [
        Fault::CutAfterProcessing,
        Fault::ServerDown,
        Fault::CutMidResponse,
        Fault::RestartDuringFlush,
        Fault::DropDuringFlush,
        Fault::Refuse,
        Fault::DirectConnectionRefused,
        Fault::None,
    ];

    /// Flush until nothing is left to send (the fault is over). Returns every report.
    async fn flush_until_done(client: &Client, store: &Mutex<Store>) -> Vec<FlushReport> {
        let mut reports = Vec::new();
        for _ in 0..100 {
            let report = sender::flush(client, store).await;
            let blocked = report.blocked.clone();
            reports.push(report);
            match blocked {
                None => return reports,
                Some(Blocked::Offline(_) | Blocked::Server(_)) => {}
                Some(other) => panic!("unexpected stop: {other:?}"),
            }
        }
        panic!("the outbox never emptied: {reports:#?}");
    }

    async fn two_hundred_messages(ignore_idempotency_key: bool) {
        let mut w = World::start(ignore_idempotency_key).await;
        let via_proxy = login(&w.proxy.url(), "alex").await;
        let direct = login(&w.direct_url(), "alex").await;
        let store = w.store("alex");
        let mut expected: [(&str, Vec<String>); 2] = [("sam", Vec::new()), ("dr_morgan", Vec::new())];
        let seed_end = newest_id(&direct).await;
        let mut stops = 0;

        for (round, fault) in FAULTS.iter().cycle().take(20).enumerate() {
            for i in 0..10 {
                let n = round * 10 + i;
                let (to, list) = &mut expected[n % 2];
                // Repeated texts too: the copy search must not take one for another.
                let text =
                    if n % 5 == 0 { format!("ok {}", n % 3) } else { format!("message {n:03} to {to}") };
                lock(&store).enqueue(&OutgoingMessage::new(*to, None, text.clone())).unwrap();
                list.push(text);
            }
            let reports = match fault {
                Fault::None => flush_until_done(&via_proxy, &store).await,
                Fault::CutAfterProcessing | Fault::CutMidResponse => {
                    let n = if matches!(fault, Fault::CutAfterProcessing) { 1 } else { 40 + round * 7 };
                    w.proxy.cut_next_response_after(n);
                    flush_until_done(&via_proxy, &store).await
                }
                Fault::ServerDown => {
                    w.stop_server().await;
                    let first = sender::flush(&via_proxy, &store).await;
                    assert!(matches!(first.blocked, Some(Blocked::Offline(_))), "{first:?}");
                    w.start_server().await;
                    let mut all = vec![first];
                    all.extend(flush_until_done(&via_proxy, &store).await);
                    all
                }
                Fault::Refuse => {
                    w.proxy.drop_connections();
                    w.proxy.refuse(true);
                    let first = sender::flush(&via_proxy, &store).await;
                    assert!(first.blocked.is_some(), "{first:?}");
                    w.proxy.refuse(false);
                    let mut all = vec![first];
                    all.extend(flush_until_done(&via_proxy, &store).await);
                    all
                }
                Fault::DirectConnectionRefused => {
                    w.stop_server().await;
                    let first = sender::flush(&direct, &store).await;
                    assert!(matches!(first.blocked, Some(Blocked::Offline(_))), "{first:?}");
                    // A refused connection carried nothing: back to plain `queued`.
                    let states: Vec<_> = lock(&store).next_to_send().unwrap();
                    assert!(states.iter().all(|e| e.state == OutboxState::Queued), "{states:#?}");
                    w.start_server().await;
                    let mut all = vec![first];
                    all.extend(flush_until_done(&direct, &store).await);
                    all
                }
                Fault::RestartDuringFlush | Fault::DropDuringFlush => {
                    let restart = matches!(fault, Fault::RestartDuringFlush);
                    let pause = Duration::from_millis(5 + (round as u64 * 3) % 20);
                    let sending = sender::flush(&via_proxy, &store);
                    let disturb = async {
                        tokio::time::sleep(pause).await;
                        if restart {
                            w.restart().await;
                        } else {
                            w.proxy.drop_connections();
                        }
                    };
                    let (first, ()) = tokio::join!(sending, disturb);
                    let mut all = vec![first];
                    all.extend(flush_until_done(&via_proxy, &store).await);
                    all
                }
            };
            stops += reports.iter().filter(|r| r.blocked.is_some()).count();
            assert!(reports.iter().all(|r| r.failed.is_empty()), "{reports:#?}");
        }
        assert!(stops >= 8, "the faults should have stopped the sender often (stopped {stops} times)");

        assert_outbox_settled(&store);
        for (with, list) in &expected {
            assert_eq!(list.len(), 100);
            let got = written(&direct, "alex", with, seed_end).await;
            assert_eq!(&got, list, "alex → {with}: every message once, in order");
        }
        w.stop_server().await;
    }

    /// The production profile: no idempotency, no `after_id`, `Connection: close`, route
    /// limits. Every send's answer is cut after the server stored the message.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn against_the_production_profile() {
        let dir = tempfile::tempdir().unwrap();
        let mut opts = ServerOptions::local_demo(dir.path().join("server.db"));
        opts.profile = server::Profile::Production;
        opts.websocket = false;
        let running = server::start(opts).await.unwrap();
        let proxy = Proxy::start(running.addr()).await;
        let client = login(&proxy.url(), "alex").await;
        let direct = login(&running.url(), "alex").await;
        let seed_end = newest_id(&direct).await;
        let store =
            Mutex::new(Store::open(&dir.path().join("stores").join("alex.sqlite3"), "alex").unwrap().store);
        let texts: Vec<String> = (0..8).map(|i| format!("production {i}")).collect();
        for t in &texts {
            lock(&store).enqueue(&OutgoingMessage::new("sam", None, t.clone())).unwrap();
        }
        let mut flushes = 0;
        loop {
            // Cut the send's answer, not the copy search's.
            let head = lock(&store).next_to_send().unwrap();
            if head.first().is_some_and(|e| e.state == OutboxState::Queued) {
                proxy.cut_next_response_after(1);
            }
            let report = sender::flush(&client, &store).await;
            flushes += 1;
            assert!(report.failed.is_empty(), "{report:?}");
            if report.blocked.is_none() {
                break;
            }
            assert!(flushes < 40, "{report:?}");
        }
        assert!(flushes > 1);
        assert_outbox_settled(&store);
        assert_eq!(written(&direct, "alex", "sam", seed_end).await, texts);
        running.shutdown().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn with_the_idempotency_key_honoured() {
        two_hundred_messages(false).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn with_the_idempotency_key_ignored() {
        two_hundred_messages(true).await;
    }
}

mod refusals {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_refused_message_is_kept_with_the_reason_and_others_still_go() {
        let mut w = World::start(false).await;
        let client = login(&w.proxy.url(), "alex").await;
        let store = w.store("alex");
        let nobody = OutgoingMessage::new("nobody_here", None, "hello?");
        let later_to_nobody = OutgoingMessage::new("nobody_here", None, "anyone?");
        for m in [
            &nobody,
            &OutgoingMessage::new("sam", None, "to sam"),
            &later_to_nobody,
            &OutgoingMessage::new("dr_morgan", None, "to the doctor"),
        ] {
            lock(&store).enqueue(m).unwrap();
        }
        let report = sender::flush(&client, &store).await;
        assert_eq!(report.blocked, None, "{report:?}");
        assert_eq!(report.sent.len(), 2, "{report:?}");
        assert_eq!(report.failed.len(), 1, "{report:?}");
        assert_eq!(report.failed[0].client_id, nobody.client_id);
        assert_eq!(report.failed[0].reason, "Recipient not found");
        assert_eq!((report.waiting, report.held), (1, 1), "the later message waits behind the refused one");

        let refused = lock(&store).outbox_entry(nobody.client_id).unwrap().unwrap();
        assert_eq!(refused.state, OutboxState::Failed { reason: "Recipient not found".into() });
        let waiting = lock(&store).outbox_entry(later_to_nobody.client_id).unwrap().unwrap();
        assert_eq!(waiting.state, OutboxState::Queued);
        assert_eq!(written(&client, "alex", "sam", 0).await.last().map(String::as_str), Some("to sam"));
        let to_doctor = written(&client, "alex", "dr_morgan", 0).await;
        assert_eq!(to_doctor.last().map(String::as_str), Some("to the doctor"));

        // A patient may not open a conversation with a clinician: 403, kept with the reason.
        let sam = login(&w.proxy.url(), "sam").await;
        let sam_store = w.store("sam");
        let first = OutgoingMessage::new("dr_morgan", None, "hello doctor");
        lock(&sam_store).enqueue(&first).unwrap();
        let report = sender::flush(&sam, &sam_store).await;
        assert_eq!(report.failed.len(), 1, "{report:?}");
        assert!(report.failed[0].reason.contains("only reply to clinicians"), "{report:?}");
        w.stop_server().await;
    }
}

mod background {
    use super::*;

    async fn next_event(rx: &mut tokio::sync::mpsc::UnboundedReceiver<OutboxEvent>) -> OutboxEvent {
        tokio::time::timeout(Duration::from_secs(20), rx.recv())
            .await
            .expect("an outbox event")
            .expect("the sender is running")
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_task_reports_progress_and_resumes_when_woken() {
        let mut w = World::start(true).await;
        let client = login(&w.proxy.url(), "alex").await;
        let store = StoreHandle::new(w.store("alex").into_inner().unwrap());
        w.stop_server().await;
        let m = OutgoingMessage::new("sam", None, "sent by the task");
        let queued = m.clone();
        store.call(move |s| s.enqueue(&queued)).await.unwrap();

        let (handle, mut rx) = sender::spawn(client.clone(), store.clone(), Limits::NONE, Windows::REAL);
        assert_eq!(
            next_event(&mut rx).await,
            OutboxEvent::Sending { client_id: m.client_id, recipient: "sam".into() }
        );
        match next_event(&mut rx).await {
            OutboxEvent::Waiting { blocked: Blocked::Offline(_), retry_in: Some(_) } => {}
            other => panic!("expected a wait while offline, got {other:?}"),
        }
        w.start_server().await;
        handle.wake();
        let mut sent = None;
        while sent.is_none() {
            match next_event(&mut rx).await {
                OutboxEvent::Sent { client_id, server_id, .. } => {
                    assert_eq!(client_id, m.client_id);
                    sent = Some(server_id);
                }
                OutboxEvent::Sending { .. } | OutboxEvent::Waiting { .. } | OutboxEvent::Queued { .. } => {}
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(next_event(&mut rx).await, OutboxEvent::Idle);
        let got = server_conversation(&client, "sam").await;
        let mine: Vec<_> = got.iter().filter(|x| x.content == "sent by the task").collect();
        assert_eq!(mine.len(), 1);
        assert_eq!(Some(mine[0].id), sent);

        // A message enqueued later goes as soon as the task is woken.
        let m2 = OutgoingMessage::new("sam", None, "second");
        let queued = m2.clone();
        store.call(move |s| s.enqueue(&queued)).await.unwrap();
        handle.wake();
        loop {
            match next_event(&mut rx).await {
                OutboxEvent::Sent { client_id, .. } if client_id == m2.client_id => break,
                OutboxEvent::Sending { .. } => {}
                other => panic!("unexpected {other:?}"),
            }
        }
        drop(handle);
        w.stop_server().await;
    }
}

mod cli {
    use super::*;

    struct Cli<'a> {
        w: &'a World,
    }

    impl Cli<'_> {
        fn command(&self, args: &[&str]) -> Command {
            cli_command(self.w.dir.path(), args)
        }

        async fn run(&self, args: &[&str]) -> Output {
            let mut cmd = self.command(args);
            tokio::task::spawn_blocking(move || cmd.output().unwrap()).await.unwrap()
        }

        /// Start `send`, wait until it has connected to the (stalled) proxy, SIGKILL it.
        async fn send_and_kill(&self, to: &str, text: &str) {
            let before = self.w.proxy.connections();
            let mut child = self.command(&["send", to, text]).spawn().unwrap();
            for _ in 0..400 {
                if self.w.proxy.connections() > before {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            assert!(self.w.proxy.connections() > before, "the send never reached the proxy");
            // Give it time to write the request into the stalled link.
            tokio::time::sleep(Duration::from_millis(200)).await;
            child.kill().unwrap(); // SIGKILL
            let status = child.wait().unwrap();
            assert!(!status.success());
        }
    }

    fn text(out: &[u8]) -> String {
        String::from_utf8_lossy(out).into_owned()
    }

    fn store_path(w: &World) -> PathBuf {
        let data = w.path("data");
        healing_tui::store::store_path(&data, &w.proxy.url(), "alex")
    }

    /// (content, state) of what the binary's outbox still has to send.
    fn unsent(w: &World) -> Vec<(String, String)> {
        let store = Store::open(&store_path(w), "alex").unwrap().store;
        store
            .pending()
            .unwrap()
            .into_iter()
            .filter(|e| !matches!(e.state, OutboxState::Sent { .. }))
            .map(|e| (e.message.content, e.state.name().to_string()))
            .collect()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn killed_while_sending_then_flushed_delivers_each_once() {
        let w = World::start(true).await;
        let cli = Cli { w: &w };
        let out = cli.run(&["login", "--server", &w.proxy.url(), "--username", "alex"]).await;
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let direct = login(&w.direct_url(), "alex").await;
        let seed_end = newest_id(&direct).await;

        let out = cli.run(&["send", "sam", "before the trouble"]).await;
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        assert!(text(&out.stdout).trim().parse::<i64>().is_ok(), "{}", text(&out.stdout));

        // 1. Killed with the request in the stalled link, which then delivers it: the
        //    server has it, the client never heard.
        w.proxy.stall(true);
        cli.send_and_kill("sam", "killed one").await;
        assert_eq!(unsent(&w), [("killed one".to_string(), "sending".to_string())]);
        w.proxy.stall(false);
        tokio::time::sleep(Duration::from_millis(500)).await;
        w.proxy.drop_connections();
        let out = cli.run(&["outbox", "--flush"]).await;
        assert_eq!(out.status.code(), Some(0), "{}\n{}", text(&out.stdout), text(&out.stderr));

        // 2. Killed with the request in the stalled link, which is then cut: it never
        //    arrived and must be sent again.
        w.proxy.stall(true);
        cli.send_and_kill("dr_morgan", "killed two").await;
        w.proxy.drop_connections();
        w.proxy.stall(false);

        // 3. Offline: queued, exit 5, listed; then another send killed behind it.
        w.proxy.refuse(true);
        let out = cli.run(&["send", "sam", "while offline"]).await;
        assert_eq!(out.status.code(), Some(5), "{}", text(&out.stderr));
        assert!(
            text(&out.stderr)
                .contains("queued; will be sent when the server is reachable (healing-tui outbox --flush)"),
            "{}",
            text(&out.stderr)
        );
        let out = cli.run(&["outbox", "--json"]).await;
        assert_eq!(out.status.code(), Some(0));
        let listed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let contents: Vec<&str> =
            listed.as_array().unwrap().iter().filter_map(|e| e["content"].as_str()).collect();
        assert_eq!(contents, ["killed two", "while offline"], "{listed}");
        w.proxy.refuse(false);
        w.proxy.stall(true);
        cli.send_and_kill("sam", "killed three").await;
        assert_eq!(unsent(&w).len(), 3, "{:?}", unsent(&w));
        w.proxy.drop_connections();
        w.proxy.stall(false);

        let out = cli.run(&["outbox", "--flush"]).await;
        assert_eq!(out.status.code(), Some(0), "{}\n{}", text(&out.stdout), text(&out.stderr));
        assert!(text(&out.stdout).contains("The outbox is empty."), "{}", text(&out.stdout));

        assert_eq!(
            written(&direct, "alex", "sam", seed_end).await,
            ["before the trouble", "killed one", "while offline", "killed three"]
        );
        assert_eq!(written(&direct, "alex", "dr_morgan", seed_end).await, ["killed two"]);
    }

    /// Issue 13, item 4: a message whose attempt is in doubt (the process died
    /// mid-send) can be discarded: nobody is sending it now.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_message_in_doubt_can_be_discarded() {
        let w = World::start(true).await;
        let cli = Cli { w: &w };
        let out = cli.run(&["login", "--server", &w.proxy.url(), "--username", "alex"]).await;
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        w.proxy.stall(true);
        cli.send_and_kill("sam", "never mind").await;
        w.proxy.drop_connections();
        w.proxy.stall(false);
        assert_eq!(unsent(&w), [("never mind".to_string(), "sending".to_string())]);
        let out = cli.run(&["outbox", "--json"]).await;
        let listed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let id = listed[0]["client_id"].as_str().unwrap().to_string();
        let out = cli.run(&["outbox", "--discard", &id[..8]]).await;
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        assert!(text(&out.stdout).contains("it may have reached them already"), "{}", text(&out.stdout));
        assert!(unsent(&w).is_empty());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_message_refused_in_a_later_flush_is_listed_until_discarded() {
        let w = World::start(false).await;
        let cli = Cli { w: &w };
        let out = cli.run(&["login", "--server", &w.proxy.url(), "--username", "alex"]).await;
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));

        w.proxy.refuse(true);
        let out = cli.run(&["send", "nobody_here", "hello?"]).await;
        assert_eq!(out.status.code(), Some(5), "{}", text(&out.stderr));
        w.proxy.refuse(false);

        let out = cli.run(&["outbox", "--flush"]).await;
        assert_eq!(out.status.code(), Some(4), "{}\n{}", text(&out.stdout), text(&out.stderr));
        let listing = text(&out.stdout);
        assert!(listing.starts_with("failed"), "{listing}");
        assert!(listing.contains("refused: Recipient not found"), "{listing}");

        let out = cli.run(&["outbox", "--json"]).await;
        let listed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(listed[0]["state"], "failed");
        assert_eq!(listed[0]["reason"], "Recipient not found");
        let id = listed[0]["client_id"].as_str().unwrap().to_string();

        let out = cli.run(&["outbox", "--discard", &id[..8]]).await;
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let out = cli.run(&["outbox"]).await;
        assert_eq!(text(&out.stdout), "The outbox is empty.\n");
    }
}

/// One account's outbox shared by several processes at once (issue 13, item 10).
mod shared {
    use super::*;
    use std::io::{BufRead, BufReader};
    use std::process::Child;

    /// `healing-tui serve` as a child process, so it can be frozen with SIGSTOP.
    struct Served {
        child: Child,
        url: String,
    }

    impl Served {
        fn start(db: &std::path::Path) -> Served {
            let mut child = Command::new(BIN)
                .args(["serve", "--addr", "127.0.0.1:0", "--seed", "demo", "--no-websocket"])
                .arg("--ignore-idempotency-key")
                .arg("--db")
                .arg(db)
                .env("RUST_LOG", "warn")
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            let mut line = String::new();
            let mut stdout = BufReader::new(child.stdout.take().unwrap());
            stdout.read_line(&mut line).unwrap();
            // Keep reading: a closed pipe would end the server at its next line.
            std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
            let url = line.trim().rsplit(' ').next().unwrap().trim_end_matches('/').to_string();
            assert!(url.starts_with("http://127.0.0.1:"), "{line}");
            Served { child, url }
        }

        fn signal(&self, sig: &str) {
            let ok = Command::new("kill").arg(sig).arg(self.child.id().to_string()).status().unwrap();
            assert!(ok.success());
        }
    }

    impl Drop for Served {
        fn drop(&mut self) {
            self.signal("-CONT");
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    /// Rounds of the race: the unguarded code sent duplicates in the first one.
    const ROUNDS: usize = 6;

    fn finish(child: Child) -> Output {
        child.wait_with_output().unwrap()
    }

    /// Many messages queued while the server is frozen, then several processes (`send`
    /// one-liners and `outbox --flush`) flushing the same outbox at once against a
    /// server that ignores the `Idempotency-Key`: each message arrives exactly once.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn several_processes_flushing_at_once_send_each_message_once() {
        let dir = tempfile::tempdir().unwrap();
        let served = Served::start(&dir.path().join("server.db"));
        let base = dir.path().to_path_buf();
        let run = |args: &[&str]| cli_command(&base, args).spawn().unwrap();
        let out = finish(run(&["login", "--server", &served.url, "--username", "alex"]));
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
        let direct = login(&served.url, "alex").await;
        let seed_end = newest_id(&direct).await;
        let store_file = healing_tui::store::store_path(&base.join("data"), &served.url, "alex");
        let mut expected: [(&str, Vec<String>); 2] = [("sam", Vec::new()), ("dr_morgan", Vec::new())];

        for round in 0..ROUNDS {
            served.signal("-STOP");
            {
                let mut store = Store::open(&store_file, "alex").unwrap().store;
                for i in 0..10 {
                    let (to, list) = &mut expected[i % 2];
                    let text = format!("round {round} queued {i}");
                    store.enqueue(&OutgoingMessage::new(*to, None, text.clone())).unwrap();
                    list.push(text);
                }
            }
            let mut children = Vec::new();
            for i in 0..4 {
                let to = expected[i % 2].0;
                children.push(run(&["send", to, &format!("round {round} one-liner {i}")]));
            }
            for _ in 0..3 {
                children.push(run(&["outbox", "--flush"]));
            }
            // Let every process reach the frozen server before it answers anyone.
            tokio::time::sleep(Duration::from_millis(700)).await;
            served.signal("-CONT");
            let outputs =
                tokio::task::spawn_blocking(move || children.into_iter().map(finish).collect::<Vec<_>>())
                    .await
                    .unwrap();
            for out in &outputs {
                let why = format!(
                    "{}{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                );
                assert_eq!(out.status.code(), Some(0), "round {round}: {why}");
            }
        }

        let sent: Vec<String> =
            direct.sent().await.unwrap().messages.into_iter().map(|m| m.content).collect();
        for (with, list) in &expected {
            let got = written(&direct, "alex", with, seed_end).await;
            let queued: Vec<&String> = got.iter().filter(|t| t.contains(" queued ")).collect();
            assert_eq!(queued, list.iter().collect::<Vec<_>>(), "alex → {with}: once each, in order");
        }
        for round in 0..ROUNDS {
            for i in 0..4 {
                let text = format!("round {round} one-liner {i}");
                let copies = sent.iter().filter(|t| **t == text).count();
                assert_eq!(copies, 1, "{text:?} arrived {copies} times");
            }
        }
        assert_eq!(sent.len(), sent.iter().collect::<std::collections::HashSet<_>>().len(), "no duplicates");
    }
}

/// The interactive client's runner and its outbox sender, against the server in-process.
mod app_runner {
    use super::*;
    use healing_tui::app::action::Action;
    use healing_tui::app::effect::Effect;
    use healing_tui::shell::client_service::ClientConnect;
    use healing_tui::shell::runner::Runner;
    use tokio::sync::mpsc::UnboundedReceiver;

    /// Wait for an action that `want` accepts (other actions are skipped).
    async fn until(rx: &mut UnboundedReceiver<Action>, want: impl Fn(&Action) -> bool) -> Action {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        loop {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(action)) if want(&action) => return action,
                Ok(Some(_)) => {}
                other => panic!("no such action within 15 s ({other:?})"),
            }
        }
    }

    fn send(client_id: &str, to: &str, text: &str) -> Effect {
        Effect::Send {
            client_id: client_id.into(),
            recipient: to.into(),
            content: text.into(),
            subject: None,
        }
    }

    /// Issue 13, item 5: discarding a refused message lets the one queued behind it go
    /// at once, without `R`.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn discarding_a_refused_message_sends_the_one_behind_it_at_once() {
        let w = World::start(false).await;
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let connect = ClientConnect { opts: options(), config_dir: w.path("config") };
        let client = login(&w.direct_url(), "alex").await;
        let runner = Runner::new(connect, Some(client.clone()), tx);
        runner.set_store(Some(StoreHandle::new(w.store("alex").into_inner().unwrap())));

        let refused = uuid::Uuid::new_v4().to_string();
        runner.run(send(&refused, "sam", &"x".repeat(12_000)));
        until(&mut rx, |a| matches!(a, Action::SendRefused { client_id, .. } if *client_id == refused)).await;
        let behind = uuid::Uuid::new_v4().to_string();
        runner.run(send(&behind, "sam", "queued behind the refused one"));
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert!(
            !written(&client, "alex", "sam", 0).await.iter().any(|t| t == "queued behind the refused one"),
            "held while the refused message waits"
        );

        runner.run(Effect::Discard { client_id: refused });
        until(&mut rx, |a| matches!(a, Action::SendSucceeded { client_id, .. } if *client_id == behind))
            .await;
        let got = written(&client, "alex", "sam", 0).await;
        assert_eq!(got.last().map(String::as_str), Some("queued behind the refused one"));
    }
}

/// The interactive client's sender against a server failing every send: the message's
/// mark says why and when the next try is (issue 13, item 3).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_shows_a_failing_send_with_its_reason_and_next_try() {
    use healing_tui::app::action::Action;
    use healing_tui::app::effect::Effect;
    use healing_tui::app::state::SendMark;
    use healing_tui::shell::client_service::ClientConnect;
    use healing_tui::shell::runner::Runner;

    let dir = tempfile::tempdir().unwrap();
    let mut opts = ServerOptions::local_demo(dir.path().join("server.db"));
    opts.fail_routes = vec![server::FailRoute::Send];
    let running = server::start(opts).await.unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let connect = ClientConnect { opts: options(), config_dir: dir.path().join("config") };
    let runner = Runner::new(connect, Some(login(&running.url(), "alex").await), tx);
    let store = Store::open(&dir.path().join("stores").join("alex.sqlite3"), "alex").unwrap().store;
    runner.set_store(Some(StoreHandle::new(store)));
    let id = uuid::Uuid::new_v4().to_string();
    runner.run(Effect::Send {
        client_id: id.clone(),
        recipient: "sam".into(),
        content: "hello".into(),
        subject: None,
    });
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    let mark = loop {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(Action::SendProgress { client_id, mark: m @ SendMark::Retrying { .. } }))
                if client_id == id =>
            {
                break m
            }
            Ok(Some(_)) => {}
            other => panic!("no retry mark within 15 s ({other:?})"),
        }
    };
    let SendMark::Retrying { reason, at, limited } = &mark else { unreachable!() };
    assert!(reason.starts_with("server error 500 (id "), "{reason}");
    assert!(!limited);
    assert!(*at > chrono::Utc::now() + chrono::Duration::seconds(50), "{at}");
    assert!(mark.label(false).starts_with("✗ server error 500 (id "), "{}", mark.label(false));
    running.shutdown().await;
}

/// A server that keeps failing sends (the failure switch, as production feb5 does):
/// issue 13, items 3 and 4.
mod failing {
    use super::*;
    use healing_tui::server::FailRoute;

    async fn failing_server(dir: &std::path::Path, limit: Option<&str>) -> RunningServer {
        let mut opts = ServerOptions::local_demo(dir.join("server.db"));
        opts.websocket = false;
        opts.ignore_idempotency_key = true;
        opts.fail_routes = vec![FailRoute::Send];
        opts.route_limit = limit.map(|l| l.parse().unwrap());
        server::start(opts).await.unwrap()
    }

    fn entry(store: &Mutex<Store>, m: &OutgoingMessage) -> healing_tui::store::OutboxEntry {
        lock(store).outbox_entry(m.client_id).unwrap().unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failing_send_waits_its_own_backoff_shows_why_and_is_sent_once_after() {
        let dir = tempfile::tempdir().unwrap();
        let running = failing_server(dir.path(), None).await;
        let client = login(&running.url(), "alex").await;
        let seed_end = newest_id(&client).await;
        let store =
            Mutex::new(Store::open(&dir.path().join("stores").join("alex.sqlite3"), "alex").unwrap().store);
        let first = OutgoingMessage::new("sam", None, "first to sam");
        let behind = OutgoingMessage::new("sam", None, "second to sam");
        let doctor = OutgoingMessage::new("dr_morgan", None, "to the doctor");
        for m in [&first, &behind, &doctor] {
            lock(&store).enqueue(m).unwrap();
        }

        let started = chrono::Utc::now();
        let report = sender::flush(&client, &store).await;
        assert!(report.sent.is_empty() && report.failed.is_empty(), "{report:?}");
        let Some(Blocked::Backoff { reason, until }) = &report.blocked else {
            panic!("expected a backoff, got {report:?}");
        };
        assert!(reason.starts_with("server error 500 (id "), "{reason}");
        let wait = *until - started;
        assert!(wait >= chrono::Duration::seconds(55) && wait <= chrono::Duration::seconds(65), "{wait:?}");
        // Both conversations were tried (one stuck message does not hold the others),
        // each once; the one behind waits for its head.
        for m in [&first, &doctor] {
            let e = entry(&store, m);
            assert_eq!(e.attempts, 1, "{e:?}");
            assert!(e.last_error.as_deref().is_some_and(|r| r.starts_with("server error 500 (id ")), "{e:?}");
            assert!(e.retry_at.is_some(), "{e:?}");
        }
        assert_eq!(entry(&store, &behind).attempts, 0);

        // Flushing again inside the backoff sends nothing.
        let again = sender::flush(&client, &store).await;
        assert!(matches!(again.blocked, Some(Blocked::Backoff { .. })), "{again:?}");
        assert_eq!(entry(&store, &first).attempts, 1, "no request inside the backoff");

        // The server recovers; the user retries now (R, or outbox --flush --now). The
        // attempts in doubt are settled by the sent list (not there: sent again), and
        // everything goes exactly once.
        running.fail_routes(&[]);
        assert_eq!(lock(&store).retry_now().unwrap(), 2);
        let report = sender::flush(&client, &store).await;
        assert_eq!(report.blocked, None, "{report:?}");
        assert_eq!(report.sent.len(), 3, "{report:?}");
        assert_outbox_settled(&store);
        assert_eq!(written(&client, "alex", "sam", seed_end).await, ["first to sam", "second to sam"]);
        assert_eq!(written(&client, "alex", "dr_morgan", seed_end).await, ["to the doctor"]);
        running.shutdown().await;
    }

    /// A 429 is waited out, and the message says until when.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_rate_limited_send_says_when_the_next_try_is() {
        let dir = tempfile::tempdir().unwrap();
        let running = failing_server(dir.path(), Some("3/h")).await;
        running.fail_routes(&[]);
        let client = login(&running.url(), "alex").await;
        let store =
            Mutex::new(Store::open(&dir.path().join("stores").join("alex.sqlite3"), "alex").unwrap().store);
        let msgs: Vec<_> =
            (0..5).map(|i| OutgoingMessage::new("sam", None, format!("limited {i}"))).collect();
        for m in &msgs {
            lock(&store).enqueue(m).unwrap();
        }
        let report = sender::flush(&client, &store).await;
        assert_eq!(report.sent.len(), 3, "{report:?}");
        assert!(matches!(report.blocked, Some(Blocked::RateLimited(_))), "{report:?}");
        let e = entry(&store, &msgs[3]);
        assert_eq!(e.state, OutboxState::Queued, "a 429 carried nothing");
        assert_eq!(e.last_error.as_deref(), Some(sender::RATE_LIMITED));
        assert!(e.retry_at.is_some_and(|t| t > chrono::Utc::now()), "{e:?}");
        running.shutdown().await;
    }
}
