//! Start-up from a warm local store: process start → first frame that shows the cached
//! inbox, with 100,000 cached messages in one conversation and the server unreachable
//! (so nothing but the cache can draw it), in a real pseudo-terminal at 80x24. Also the
//! peak RSS (VmHWM) of the process once that frame is on screen. Targets: ≤ 30 ms,
//! ≤ 40 MB. Prints a table; nothing is asserted (the machines are shared and noisy).
//!
//! Run: `cargo bench --bench startup` (release build; `-- --runs N` for more runs).

use std::io::Read;
use std::num::NonZeroU16;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use healing_tui::model::time::Timestamp;
use healing_tui::model::types::{ConversationSummary, InboxResponse, Message};
use healing_tui::store::session::{Session, SessionCookie};
use healing_tui::store::Store;
use portable_pty::{native_pty_system, CommandBuilder, PtySize};

const MESSAGES: i64 = 100_000;

fn fill_store(data_dir: &std::path::Path, server: &str) {
    let opened = Store::open_account(data_dir, server, "alex").expect("open store");
    let mut store = opened.store;
    let start = Utc.with_ymd_and_hms(2026, 1, 1, 9, 0, 0).single().expect("valid date");
    let messages: Vec<Message> = (1..=MESSAGES)
        .map(|i| Message {
            id: i,
            sender: if i % 3 == 0 { "alex" } else { "dr_morgan" }.into(),
            recipient: if i % 3 == 0 { "dr_morgan" } else { "alex" }.into(),
            content: format!("message {i}: a sentence or two of ordinary text, as people write"),
            is_read: true,
            sent_at: Some(Timestamp(start + chrono::Duration::minutes(i))),
            ..Default::default()
        })
        .collect();
    for chunk in messages.chunks(10_000) {
        store.merge_messages(chunk).expect("merge");
    }
    let last = messages.last().cloned().unwrap_or_default();
    let inbox = InboxResponse {
        conversations: vec![ConversationSummary {
            with_user: "dr_morgan".into(),
            last_message: last.content.clone(),
            last_message_time: last.sent_at,
            unread_count: 0,
            ..Default::default()
        }],
        total_unread: 0,
        page: 1,
        page_size: 20,
        total_conversations: 1,
    };
    store.store_inbox_page(&inbox, None).expect("inbox");
}

fn vm_hwm_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// One start: (ms to first output, ms to the cached inbox on screen, peak RSS KiB).
fn one_start(bin: &str, cfg: &std::path::Path, data: &std::path::Path) -> (f64, f64, u64) {
    let pty = native_pty_system()
        .openpty(PtySize { rows: 24, cols: 80, pixel_width: 0, pixel_height: 0 })
        .expect("openpty");
    let mut cmd = CommandBuilder::new(bin);
    cmd.env("TERM", "xterm-256color");
    cmd.env("HEALING_TUI_CONFIG_DIR", cfg);
    cmd.env("HEALING_TUI_DATA_DIR", data);
    let t0 = Instant::now();
    let mut child = pty.slave.spawn_command(cmd).expect("spawn");
    drop(pty.slave);
    let pid = child.process_id().unwrap_or(0);
    let mut reader = pty.master.try_clone_reader().expect("reader");
    let mut writer = pty.master.take_writer().expect("writer");
    let screen = Arc::new(Mutex::new((
        vt100::Parser::new(NonZeroU16::new(24).expect("24"), NonZeroU16::new(80).expect("80"), 0),
        None::<Duration>,
    )));
    let sink = Arc::clone(&screen);
    std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            let mut s = sink.lock().expect("lock");
            s.1.get_or_insert(t0.elapsed());
            s.0.process(&buf[..n]);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    let shown = loop {
        if screen.lock().expect("lock").0.screen().contents().contains("dr_morgan") {
            break t0.elapsed();
        }
        if Instant::now() > deadline {
            panic!("the cached inbox never showed:\n{}", screen.lock().expect("lock").0.screen().contents());
        }
        std::thread::sleep(Duration::from_micros(200));
    };
    let hwm = vm_hwm_kib(pid).unwrap_or(0);
    let first = screen.lock().expect("lock").1.unwrap_or(shown);
    let _ = writer.write_all(b"q");
    let _ = child.kill();
    let _ = child.wait();
    (first.as_secs_f64() * 1e3, shown.as_secs_f64() * 1e3, hwm)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let runs: usize =
        std::env::args().skip_while(|a| a != "--runs").nth(1).and_then(|n| n.parse().ok()).unwrap_or(11);
    let bin = env!("CARGO_BIN_EXE_healing-tui");
    let dir = tempfile::tempdir().expect("tempdir");
    let (cfg, data) = (dir.path().join("cfg"), dir.path().join("data"));
    // A server that refuses connections: only the cache can draw the first frame.
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("port").port();
    let server = format!("http://127.0.0.1:{port}/");
    let session = Session {
        server: server.clone(),
        username: "alex".into(),
        role: "user".into(),
        cookies: vec![SessionCookie {
            name: "session".into(),
            value: "bench".into(),
            host: "127.0.0.1".into(),
            path: "/".into(),
            expires: None,
            secure: false,
        }],
        csrf_token: Some("bench".into()),
        saved_at: None,
    };
    session.save(&cfg).expect("session");
    let t = Instant::now();
    fill_store(&data, &server);
    println!("warm store: {MESSAGES} messages written in {:.1} s", t.elapsed().as_secs_f64());
    one_start(bin, &cfg, &data); // untimed: page cache warm, as for a returning user
    let mut first = Vec::new();
    let mut shown = Vec::new();
    let mut hwm = Vec::new();
    for _ in 0..runs {
        let (f, s, h) = one_start(bin, &cfg, &data);
        first.push(f);
        shown.push(s);
        hwm.push(h as f64);
    }
    println!("{:<52} {:>10}", format!("start-up, 80x24, {MESSAGES} cached messages ({runs} runs)"), "median");
    println!("{:<52} {:>7.1} ms", "process start → first output", median(first));
    println!("{:<52} {:>7.1} ms", "process start → cached inbox on screen", median(shown));
    println!("{:<52} {:>7.1} MB", "peak RSS (VmHWM) with the first frame shown", median(hwm) / 1024.0);
}
