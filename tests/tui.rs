//! The interactive client end to end, in a real pseudo-terminal, against the reference
//! server in-process: log in, filter to a user, open, type, send; the server holds
//! exactly one copy. Then an idle client writes nothing to its terminal for 10 s.

#![cfg(feature = "server")]

mod support;

use std::time::Duration;

use healing_tui::api::types::{LoginRequest, SendRequest};
use healing_tui::api::{Client, ClientOptions, Fetched};
use healing_tui::server::{start, ServerOptions};
use support::pty::{as_strs, client_args, PtySession};

const WAIT: Duration = Duration::from_secs(30);

/// A demo server on loopback and client arguments with their own config and data
/// directories (inside the returned temporary directory).
fn demo() -> (tokio::runtime::Runtime, tempfile::TempDir, healing_tui::server::RunningServer, Vec<String>) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let server = rt.block_on(start(ServerOptions::local_demo(dir.path().join("db.sqlite")))).unwrap();
    let owned = client_args(&server.url(), &dir.path().join("config"), &dir.path().join("data"));
    (rt, dir, server, owned)
}

/// A client logged in as dr_morgan.
async fn dr_morgan(url: &str) -> Client {
    let opts = ClientOptions { allow_http: true, ..Default::default() };
    let client = Client::new(url, &opts).unwrap();
    let login = LoginRequest {
        username: "dr_morgan".into(),
        password: "healing-demo".into(),
        pin: "1234".into(),
        remember_me: None,
    };
    client.login(&login).await.unwrap();
    client
}

/// As dr_morgan: how many copies of alex's `text` the server holds; then reply `reply`.
async fn copies_then_reply(url: &str, text: &str, reply: &str) -> usize {
    let client = dr_morgan(url).await;
    let copies = match client.conversation("alex", 200, None, None).await.unwrap() {
        Fetched::Fresh { value, .. } => value.messages.iter().filter(|m| m.content == text).count(),
        Fetched::NotModified => 0,
    };
    let reply = SendRequest { recipient: "alex".into(), content: reply.into(), subject: None };
    client.send(&reply, None).await.unwrap();
    copies
}

#[test]
fn log_in_filter_open_type_send_then_idle() {
    let (rt, _dir, server, owned) = demo();
    let url = server.url();
    let args = as_strs(&owned);
    let mut tui =
        PtySession::spawn(env!("CARGO_BIN_EXE_healing-tui"), &args, &[("EDITOR", "true".into())], 80, 24);
    tui.log_in_on_form("alex", false, WAIT);
    tui.wait_for("alex@", WAIT);
    tui.wait_for("dr_morgan", WAIT);
    tui.keys(&[b"/"]);
    tui.type_text("dr_");
    tui.keys(&[b"\r", b"i"]);
    let text = "hello from a real terminal";
    tui.type_text(text);
    tui.keys(&[b"\r"]);
    // The box empties at once; the text shows as "sending…" until the server confirms.
    tui.wait_for(text, WAIT);
    tui.wait_quiet(Duration::from_secs(2), WAIT);
    let screen = tui.screen_text();
    assert!(!screen.contains("sending"), "not confirmed:\n{screen}");

    // Idle: 10 s without a single byte to the terminal.
    let before = tui.byte_count();
    std::thread::sleep(Duration::from_secs(10));
    assert_eq!(tui.byte_count() - before, 0, "an idle client wrote to its terminal");

    // And news arrives without a key pressed.
    let copies = rt.block_on(copies_then_reply(&url, text, "got it, thanks"));
    assert_eq!(copies, 1, "the server holds exactly one copy");
    tui.wait_for("got it, thanks", WAIT);

    tui.keys(&[b"\x1b", b"q"]);
    assert!(tui.wait_exit(WAIT), "the client did not quit on q");
    rt.block_on(server.shutdown());
}

#[test]
fn remember_me_resumes_the_session_and_keeps_the_draft() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let server = rt.block_on(start(ServerOptions::local_demo(dir.path().join("db.sqlite")))).unwrap();
    let url = server.url();
    let config = dir.path().join("config");
    let data = dir.path().join("data");
    let owned = client_args(&url, &config, &data);
    let args = as_strs(&owned);
    let bin = env!("CARGO_BIN_EXE_healing-tui");

    let mut tui = PtySession::spawn(bin, &args, &[], 100, 30);
    tui.log_in_on_form("alex", true, WAIT);
    tui.wait_for("alex@", WAIT);
    tui.wait_for("dr_morgan", WAIT);
    tui.run_command("open dr_morgan", WAIT);
    tui.keys(&[b"i"]);
    tui.type_text("half a thought");
    tui.keys(&[b"\x1b", b"q"]);
    assert!(tui.wait_exit(WAIT), "the client did not quit on q");
    drop(tui);

    // No login screen the second time, and the draft is waiting in its conversation.
    let mut tui = PtySession::spawn(bin, &args, &[], 100, 30);
    tui.wait_for("alex@", WAIT);
    assert!(!tui.screen_text().contains("log in"));
    // Not even for one frame: the saved session is applied before anything is drawn.
    let written = String::from_utf8_lossy(&tui.bytes()).into_owned();
    assert!(!written.contains("Remember me"), "the login form was drawn before the session resumed");
    tui.run_command("open dr_morgan", WAIT);
    tui.wait_for("half a thought", WAIT);
    tui.keys(&[b"q"]);
    assert!(tui.wait_exit(WAIT));
    rt.block_on(server.shutdown());
}

#[test]
fn the_cached_inbox_and_conversation_show_with_the_server_unreachable() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let server = rt.block_on(start(ServerOptions::local_demo(dir.path().join("db.sqlite")))).unwrap();
    let url = server.url();
    let config = dir.path().join("config");
    let data = dir.path().join("data");
    let owned = client_args(&url, &config, &data);
    let args = as_strs(&owned);
    let bin = env!("CARGO_BIN_EXE_healing-tui");

    // First run: log in (remembered), read the conversation: the store fills.
    let mut tui = PtySession::spawn(bin, &args, &[], 100, 30);
    tui.log_in_on_form("alex", true, WAIT);
    tui.wait_for("alex@", WAIT);
    tui.wait_for("sam", WAIT);
    tui.run_command("open dr_morgan", WAIT);
    tui.wait_for("wind-down routine", WAIT);
    tui.keys(&[b"q"]);
    assert!(tui.wait_exit(WAIT), "the client did not quit on q");
    drop(tui);

    // The server goes away; the second run shows what the first one saw, and says offline.
    rt.block_on(server.shutdown());
    let mut tui = PtySession::spawn(bin, &args, &[], 100, 30);
    tui.wait_for("alex@", WAIT);
    tui.wait_for("sam", WAIT);
    tui.wait_for("offline", WAIT);
    tui.run_command("open dr_morgan", WAIT);
    tui.wait_for("wind-down routine", WAIT);
    // Searching the cache works offline too; Enter opens the conversation at the result.
    tui.keys(&[b"\t", b"\t", b"\t"]);
    tui.run_command("search sleeping", WAIT);
    tui.wait_for("Search all messages", WAIT);
    tui.wait_for("checking in after Monday", WAIT);
    tui.keys(&[b"/"]);
    tui.type_text("early");
    tui.keys(&[b"\r"]);
    tui.wait_for("you → dr_morgan", WAIT);
    tui.keys(&[b"\r"]);
    tui.wait_quiet(Duration::from_millis(300), WAIT);
    let screen = tui.screen_text();
    assert!(!screen.contains("Search all") && screen.contains("waking up early"), "{screen}");
    tui.keys(&[b"q"]);
    assert!(tui.wait_exit(WAIT));
}

#[test]
fn a_message_written_offline_waits_in_the_outbox_and_goes_once_at_the_next_start() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db.sqlite");
    let server = rt.block_on(start(ServerOptions::local_demo(db.clone()))).unwrap();
    let addr = server.addr();
    let url = server.url();
    let config = dir.path().join("config");
    let data = dir.path().join("data");
    let owned = client_args(&url, &config, &data);
    let args = as_strs(&owned);
    let bin = env!("CARGO_BIN_EXE_healing-tui");

    let mut tui = PtySession::spawn(bin, &args, &[], 100, 30);
    tui.log_in_on_form("alex", true, WAIT);
    tui.wait_for("sam", WAIT);
    tui.keys(&[b"q"]);
    assert!(tui.wait_exit(WAIT));
    drop(tui);

    // Offline: the message is kept and shown as queued.
    rt.block_on(server.shutdown());
    let text = "written on a train";
    let mut tui = PtySession::spawn(bin, &args, &[], 100, 30);
    tui.wait_for("offline", WAIT);
    tui.run_command("open dr_morgan", WAIT);
    tui.keys(&[b"i"]);
    tui.type_text(text);
    tui.keys(&[b"\r"]);
    tui.wait_for(text, WAIT);
    tui.wait_for("queued", WAIT);
    tui.keys(&[b"\x1b", b"q"]);
    assert!(tui.wait_exit(WAIT));
    drop(tui);

    // The server is back (same address, same data): the next start sends it, once.
    let server = rt.block_on(start(ServerOptions { addr, ..ServerOptions::local_demo(db) })).unwrap();
    let mut tui = PtySession::spawn(bin, &args, &[], 100, 30);
    tui.wait_for("alex@", WAIT);
    let copies = rt.block_on(async {
        let client = dr_morgan(&url).await;
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let copies = match client.conversation("alex", 200, None, None).await.unwrap() {
                Fetched::Fresh { value, .. } => value.messages.iter().filter(|m| m.content == text).count(),
                Fetched::NotModified => 0,
            };
            if copies > 0 || tokio::time::Instant::now() > deadline {
                // Give a duplicate, if any, the time to land too.
                tokio::time::sleep(Duration::from_millis(500)).await;
                break match client.conversation("alex", 200, None, None).await.unwrap() {
                    Fetched::Fresh { value, .. } => {
                        value.messages.iter().filter(|m| m.content == text).count()
                    }
                    Fetched::NotModified => copies,
                };
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    assert_eq!(copies, 1, "delivered exactly once");
    tui.keys(&[b"q"]);
    assert!(tui.wait_exit(WAIT));
    rt.block_on(server.shutdown());
}

#[test]
fn a_refused_message_stays_marked_until_discarded_and_stays_discarded() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let server = rt.block_on(start(ServerOptions::local_demo(dir.path().join("db.sqlite")))).unwrap();
    let url = server.url();
    let config = dir.path().join("config");
    let data = dir.path().join("data");
    let owned = client_args(&url, &config, &data);
    let args = as_strs(&owned);
    let bin = env!("CARGO_BIN_EXE_healing-tui");
    let mut tui = PtySession::spawn(bin, &args, &[], 100, 30);
    tui.log_in_on_form("alex", true, WAIT);
    tui.wait_for("sam", WAIT);
    tui.run_command("new nobody_at_all", WAIT);
    tui.type_text("hello stranger");
    tui.keys(&[b"\r"]);
    tui.wait_for("not sent (e edit, D discard)", WAIT);
    assert!(tui.screen_text().contains("hello stranger"), "the refused text stays visible");
    // e: the text is back in the box; Esc, then D and y discard it.
    tui.keys(&[b"\x1b", b"e"]);
    tui.wait_quiet(Duration::from_millis(300), WAIT);
    tui.keys(&[b"\x1b", b"D"]);
    tui.wait_for("Discard this unsent message?", WAIT);
    tui.keys(&[b"y"]);
    tui.wait_quiet(Duration::from_millis(300), WAIT);
    assert!(!tui.screen_text().contains("not sent"), "{}", tui.screen_text());
    tui.keys(&[b"q"]);
    assert!(tui.wait_exit(WAIT));
    drop(tui);

    // Not in the outbox any more: the next start shows nothing of it.
    let mut tui = PtySession::spawn(bin, &args, &[], 100, 30);
    tui.wait_for("alex@", WAIT);
    tui.run_command("open nobody_at_all", WAIT);
    tui.wait_quiet(Duration::from_millis(500), WAIT);
    assert!(!tui.screen_text().contains("not sent"), "{}", tui.screen_text());
    tui.keys(&[b"q"]);
    assert!(tui.wait_exit(WAIT));
    rt.block_on(server.shutdown());
}

/// `chat USER` on a dumb terminal: the conversation as plain lines and a prompt; a typed
/// line is sent once; a message from the other side appears above the prompt; no
/// escape sequence is ever written.
#[test]
fn chat_line_mode_on_a_dumb_terminal() {
    let (rt, _dir, server, owned) = demo();
    let url = server.url();
    let login = std::process::Command::new(env!("CARGO_BIN_EXE_healing-tui"))
        .args(&owned)
        .args(["login", "--username", "alex"])
        .env("HEALING_PASSWORD", "healing-demo")
        .env("HEALING_PIN", "1234")
        .output()
        .unwrap();
    assert!(login.status.success(), "{login:?}");
    let mut args = as_strs(&owned);
    args.extend(["chat", "dr_morgan"]);
    let mut chat =
        PtySession::spawn(env!("CARGO_BIN_EXE_healing-tui"), &args, &[("TERM", "dumb".into())], 80, 24);
    chat.wait_for("dr_morgan: That's progress", WAIT);
    chat.wait_for("> ", WAIT);
    let text = "hello from line mode";
    chat.type_text(text);
    chat.keys(&[b"\r"]);
    chat.wait_for(&format!("you: {text}"), WAIT);
    let copies = rt.block_on(copies_then_reply(&url, text, "reply in line mode"));
    assert_eq!(copies, 1, "the server holds exactly one copy");
    chat.wait_for("dr_morgan: reply in line mode", WAIT);
    chat.wait_quiet(Duration::from_millis(500), WAIT);
    let screen = chat.screen_text();
    let rows: Vec<&str> = screen.lines().map(str::trim_end).filter(|l| !l.is_empty()).collect();
    let at = rows.iter().position(|l| l.ends_with("dr_morgan: reply in line mode")).unwrap();
    assert_eq!(rows[at + 1..], [">"], "the prompt comes back below the new message:\n{screen}");
    assert_eq!(screen.matches(&format!("you: {text}")).count(), 1, "shown once:\n{screen}");
    assert!(!chat.bytes().contains(&0x1b), "no escape sequences on a dumb terminal");

    chat.keys(&[b"\x04"]);
    assert!(chat.wait_exit(WAIT), "chat did not end at the end of input");
    rt.block_on(server.shutdown());
}
