//! Terminal bytes for what the shared harness does not measure: a keystroke in the
//! compose box, and an incoming message for a conversation that is not open. The real
//! binary in a pty (80x24 and 120x40, default layouts), logged in as `sam` against the
//! reference server in-process; `dr_morgan` writes from another client.
//!
//! Run: `cargo bench --bench pty_costs` (prints a table; nothing asserted).

#[path = "../tests/support/pty.rs"]
#[allow(dead_code)]
mod pty;

use std::time::Duration;

use healing_tui::api::{Client, ClientOptions};
use healing_tui::model::types::{LoginRequest, SendRequest};
use healing_tui::server::{start, ServerOptions};
use pty::PtySession;

const QUIET: Duration = Duration::from_millis(400);
const WAIT: Duration = Duration::from_secs(20);

fn login(rt: &tokio::runtime::Runtime, url: &str, user: &str) -> Client {
    let client = Client::new(url, &ClientOptions::default()).expect("client");
    let req = LoginRequest {
        username: user.into(),
        password: "healing-demo".into(),
        pin: "1234".into(),
        remember_me: Some(true),
    };
    rt.block_on(client.login(&req)).expect("login");
    client
}

fn measure(cols: u16, rows: u16) -> (f64, f64) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let server = rt.block_on(start(ServerOptions::local_demo(dir.path().join("db.sqlite")))).expect("server");
    let url = server.url();
    let (cfg, data) = (dir.path().join("cfg"), dir.path().join("data"));
    let bin = env!("CARGO_BIN_EXE_healing-tui");
    let env = [
        ("HEALING_TUI_CONFIG_DIR", cfg.display().to_string()),
        ("HEALING_TUI_DATA_DIR", data.display().to_string()),
        ("HEALING_PASSWORD", "healing-demo".to_owned()),
        ("HEALING_PIN", "1234".to_owned()),
    ];
    let status = std::process::Command::new(bin)
        .args(["login", "--server", &url, "--username", "sam"])
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(std::process::Stdio::null())
        .status()
        .expect("login");
    assert!(status.success(), "login failed");
    let mut tui = PtySession::spawn(bin, &[], &env, cols, rows);
    tui.wait_for("sam@", WAIT);
    tui.wait_for("live", WAIT);
    tui.send(b":");
    tui.type_text("open alex");
    tui.send(b"\r");
    tui.wait_quiet(QUIET, WAIT);
    tui.send(b"i");
    tui.wait_quiet(QUIET, WAIT);

    // Keystrokes in compose, one at a time, each until the screen is quiet.
    let text = "typing a reply, one key at a time";
    let before = tui.byte_count();
    for c in text.chars() {
        let mut buf = [0u8; 4];
        tui.send(c.encode_utf8(&mut buf).as_bytes());
        tui.wait_quiet(Duration::from_millis(150), WAIT);
    }
    let per_key = (tui.byte_count() - before) as f64 / text.chars().count() as f64;
    tui.send(b"\x1b");
    tui.wait_quiet(QUIET, WAIT);

    // Messages for another conversation (dr_morgan → sam) while alex's is open.
    let doctor = login(&rt, &url, "dr_morgan");
    let n = 20;
    let before = tui.byte_count();
    for i in 0..n {
        let req = SendRequest {
            recipient: "sam".into(),
            content: format!("note {i:02}: a message of about sixty characters for sam."),
            subject: None,
        };
        rt.block_on(doctor.send(&req, None)).expect("send");
        tui.wait_quiet(QUIET, WAIT);
    }
    let per_other = (tui.byte_count() - before) as f64 / f64::from(n);
    tui.send(b"q");
    let _ = tui.wait_exit(WAIT);
    rt.block_on(server.shutdown());
    (per_key, per_other)
}

fn main() {
    println!("{:<10} {:>22} {:>34}", "size", "bytes per compose key", "bytes per message, other conv.");
    for (cols, rows) in [(80, 24), (120, 40)] {
        let (key, other) = measure(cols, rows);
        println!("{:<10} {:>22.1} {:>34.1}", format!("{cols}x{rows}"), key, other);
    }
}
