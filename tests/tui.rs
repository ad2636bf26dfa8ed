//! The interactive client end to end, in a real pseudo-terminal, against the reference
//! server in-process: log in, filter to a user, open, type, send; the server holds
//! exactly one copy. Then an idle client writes nothing to its terminal for 10 s.

#![cfg(feature = "server")]

mod support;

use std::time::Duration;

use healing_tui::api::{Client, ClientOptions, Fetched};
use healing_tui::model::types::{LoginRequest, SendRequest};
use healing_tui::server::{start, FailRoute, Profile, ServerOptions};
use support::pty::{as_strs, client_args, PtySession};
use support::tmux::{wait_gone, TmuxPane};

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
    tui.keys(&[b"\t", b"\t"]);
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

/// Log in as `user` over the API (as another person would, from elsewhere) and send
/// `text` to `to`.
async fn send_as(url: &str, user: &str, to: &str, text: &str) {
    let opts = ClientOptions { allow_http: true, ..Default::default() };
    let client = Client::new(url, &opts).unwrap();
    let login = LoginRequest {
        username: user.into(),
        password: "healing-demo".into(),
        pin: "1234".into(),
        remember_me: None,
    };
    client.login(&login).await.unwrap();
    let req = SendRequest { recipient: to.into(), content: text.into(), subject: None };
    client.send(&req, None).await.unwrap();
}

/// The production fault: polled news was fetched but never drawn on an idle screen
/// (a later `Synced` cancelled the redraw). Against the production profile (no
/// websocket, polling only), with no key pressed after the message is sent, it shows
/// within a poll period: in the open conversation, and as the inbox preview of a closed
/// one.
#[test]
fn polled_news_shows_on_an_idle_screen_within_a_poll_period() {
    const PERIOD: u64 = 2;
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut opts = ServerOptions::local_demo(dir.path().join("db.sqlite"));
    opts.profile = Profile::Production;
    let server = rt.block_on(start(opts)).unwrap();
    let url = server.url();
    let config = dir.path().join("config");
    let data = dir.path().join("data");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(config.join("config.toml"), format!(
            "[poll]\nactive_secs = {PERIOD}\nidle_secs = {PERIOD}\nbudget_per_hour = 3600\nbudget_per_day = 86400\n"
        ))
        .unwrap();
    let owned = client_args(&url, &config, &data);
    let mut tui = PtySession::spawn(env!("CARGO_BIN_EXE_healing-tui"), &as_strs(&owned), &[], 100, 30);
    tui.log_in_on_form("alex", false, WAIT);
    tui.wait_for("alex@", WAIT);
    tui.wait_for("sam", WAIT);
    // The newest conversation, first in the inbox, is sam's.
    tui.keys(&[b"\r"]);
    tui.wait_for("┌ sam", WAIT);
    tui.wait_quiet(Duration::from_secs(1), WAIT);

    // Within a period, plus what a loaded two-core machine needs to fetch and draw.
    let within = Duration::from_secs(PERIOD * 2 + 2);
    rt.block_on(send_as(&url, "sam", "alex", "still up? the night is long"));
    let sent = std::time::Instant::now();
    tui.wait_for("still up? the night is long", WAIT);
    assert!(sent.elapsed() <= within, "the open conversation showed the news after {:?}", sent.elapsed());

    rt.block_on(send_as(&url, "dr_morgan", "alex", "checking in before the weekend"));
    let sent = std::time::Instant::now();
    tui.wait_for("checking in before", WAIT);
    assert!(sent.elapsed() <= within, "the inbox preview showed the news after {:?}", sent.elapsed());

    tui.keys(&[b"q"]);
    assert!(tui.wait_exit(WAIT), "the client did not quit on q");
    rt.block_on(server.shutdown());
}

/// Ctrl-E hands the draft to `$EDITOR` and takes the text back: the client used to die
/// with "The cursor position could not be read within a normal duration" and lose it.
#[test]
fn ctrl_e_takes_the_editors_text_into_compose() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let server = rt.block_on(start(ServerOptions::local_demo(dir.path().join("db.sqlite")))).unwrap();
    let editor = dir.path().join("editor.sh");
    std::fs::write(
        &editor,
        "#!/bin/sh\nprintf 'first line from the editor\\nsecond line from it\\n' > \"$1\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&editor, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let owned = client_args(&server.url(), &dir.path().join("config"), &dir.path().join("data"));
    let env = [("EDITOR", editor.display().to_string()), ("VISUAL", String::new())];
    let mut tui = PtySession::spawn(env!("CARGO_BIN_EXE_healing-tui"), &as_strs(&owned), &env, 100, 30);
    tui.log_in_on_form("alex", false, WAIT);
    tui.wait_for("alex@", WAIT);
    tui.wait_for("sam", WAIT);
    tui.keys(&[b"\r", b"i"]);
    tui.wait_for("Message", WAIT);
    tui.keys(&[b"\x05"]);
    tui.wait_for("second line from it", WAIT);
    tui.wait_quiet(Duration::from_secs(3), WAIT);
    assert!(!tui.exited(), "the client died after the editor:\n{}", tui.screen_text());
    let screen = tui.screen_text();
    assert!(screen.contains("first line from the editor"), "{screen}");
    // Still alive and answering keys: Esc leaves compose, q quits.
    tui.keys(&[b"\x1b", b"q"]);
    assert!(tui.wait_exit(WAIT), "the client did not quit on q");
    rt.block_on(server.shutdown());
}

#[test]
fn a_vanishing_terminal_keeps_the_draft_and_says_nothing_on_stderr() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let server = rt.block_on(start(ServerOptions::local_demo(dir.path().join("db.sqlite")))).unwrap();
    let owned = client_args(&server.url(), &dir.path().join("config"), &dir.path().join("data"));
    let args = as_strs(&owned);
    let bin = env!("CARGO_BIN_EXE_healing-tui");
    // A saved session, so that the next starts need no login.
    let mut tui = PtySession::spawn(bin, &args, &[], 100, 30);
    tui.log_in_on_form("alex", true, WAIT);
    tui.wait_for("alex@", WAIT);
    tui.keys(&[b"q"]);
    assert!(tui.wait_exit(WAIT));
    drop(tui);

    // In a terminal that goes away mid-sentence, as when an SSH link drops.
    let stderr = dir.path().join("stderr.txt");
    let pane = TmuxPane::spawn(dir.path(), bin, &args, &stderr, 100, 30);
    pane.wait_for("alex@", WAIT);
    pane.type_text(":open dr_morgan");
    pane.wait_for(":open dr_morgan", WAIT);
    pane.key("Enter");
    pane.wait_for("Check-in", WAIT);
    pane.key("i");
    pane.type_text("the link dropped mid-sentence");
    pane.wait_for("the link dropped mid-sentence", WAIT);
    let pid = pane.pid();
    pane.vanish();
    assert!(wait_gone(pid, WAIT), "the client outlived its terminal");
    let said = std::fs::read_to_string(&stderr).unwrap_or_default();
    assert_eq!(said, "", "stderr after the terminal went away");

    let mut tui = PtySession::spawn(bin, &args, &[], 100, 30);
    tui.wait_for("alex@", WAIT);
    tui.run_command("open dr_morgan", WAIT);
    tui.wait_for("the link dropped mid-sentence", WAIT);
    tui.keys(&[b"q"]);
    assert!(tui.wait_exit(WAIT));
    rt.block_on(server.shutdown());
}

#[test]
fn a_printable_key_bound_to_an_action_still_types_in_compose_and_the_client_says_so() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let server = rt.block_on(start(ServerOptions::local_demo(dir.path().join("db.sqlite")))).unwrap();
    let config = dir.path().join("config");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(config.join("config.toml"), "[keys]\nq = \"cancel\"\n").unwrap();
    let owned = client_args(&server.url(), &config, &dir.path().join("data"));
    let mut tui = PtySession::spawn(env!("CARGO_BIN_EXE_healing-tui"), &as_strs(&owned), &[], 100, 30);
    tui.wait_for("acts outside the compose box only", WAIT);
    tui.log_in_on_form("alex", false, WAIT);
    tui.wait_for("alex@", WAIT);
    tui.run_command("open dr_morgan", WAIT);
    tui.keys(&[b"i"]);
    tui.type_text("quite quiet");
    tui.wait_for("quite quiet", WAIT);
    // Outside the box, q does what it was bound to (back), not quit.
    tui.keys(&[b"\x1b", b"q"]);
    std::thread::sleep(Duration::from_millis(300));
    assert!(!tui.exited(), "q quit although it was bound to cancel");
    tui.keys(&[b"\x03"]);
    assert!(tui.wait_exit(WAIT), "ctrl-c quits");
    rt.block_on(server.shutdown());
}

/// A long paste into compose is drawn to its end at once, without another key: once
/// as a terminal with bracketed paste sends it, once as plain typed keys (a terminal
/// without it, or a slow link splitting it), in one write each.
#[test]
fn a_long_paste_is_drawn_whole_at_once() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let server = rt.block_on(start(ServerOptions::local_demo(dir.path().join("db.sqlite")))).unwrap();
    let owned = client_args(&server.url(), &dir.path().join("config"), &dir.path().join("data"));
    let mut tui = PtySession::spawn(env!("CARGO_BIN_EXE_healing-tui"), &as_strs(&owned), &[], 100, 30);
    tui.log_in_on_form("alex", false, WAIT);
    tui.wait_for("alex@", WAIT);
    tui.wait_for("sam", WAIT);
    tui.keys(&[b"\r", b"i"]);
    tui.wait_for("Message", WAIT);
    let body = "breathe in for four, hold for seven, out for eight. ".repeat(40);
    for (how, end) in [("bracketed", "firstpasteends"), ("typed", "secondpasteends")] {
        let text = format!("{body}{end}");
        assert!(text.len() > 2000);
        let bytes = match how {
            "bracketed" => format!("\x1b[200~{text}\x1b[201~"),
            _ => text.clone(),
        };
        tui.send(bytes.as_bytes());
        // No key after the paste: its end must show by itself, and soon.
        tui.wait_for(end, Duration::from_secs(10));
        tui.wait_quiet(Duration::from_secs(1), WAIT);
    }
    tui.keys(&[b"\x1b", b"q"]);
    assert!(tui.wait_exit(WAIT), "the client did not quit on q");
    rt.block_on(server.shutdown());
}

/// A conversation the server fails to send (feb5 answers 500 to every one) says in its
/// pane that it could not load, why, and that `r` retries; `r` once the server is well
/// loads it.
#[test]
fn a_conversation_that_fails_to_load_says_so_and_r_retries() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let opts = ServerOptions {
        profile: Profile::Production,
        fail_routes: vec![FailRoute::Conversation],
        ..ServerOptions::local_demo(dir.path().join("db.sqlite"))
    };
    let server = rt.block_on(start(opts)).unwrap();
    let owned = client_args(&server.url(), &dir.path().join("config"), &dir.path().join("data"));
    let mut tui = PtySession::spawn(env!("CARGO_BIN_EXE_healing-tui"), &as_strs(&owned), &[], 100, 30);
    tui.log_in_on_form("alex", false, WAIT);
    tui.wait_for("sam", WAIT);
    tui.run_command("open dr_morgan", WAIT);
    tui.wait_for("Could not load this conversation", WAIT);
    tui.wait_for("server error 500", WAIT);
    tui.wait_for("r to retry", WAIT);
    assert!(!tui.screen_text().contains("No messages yet"));
    server.fail_routes(&[]);
    tui.keys(&[b"r"]);
    tui.wait_for("wind-down routine", WAIT);
    assert!(!tui.screen_text().contains("Could not load"));
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
