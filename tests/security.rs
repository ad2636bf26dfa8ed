//! Hostile input end to end (issue 9): escape sequences and bidi overrides in messages
//! and usernames reach the screen as harmless text, never as terminal commands; the
//! transport rules (http only to loopback, redirects never carry cookies elsewhere,
//! `--ca-cert`) hold through the real binary and client; every parser survives the
//! hostile seed corpus in `tests/corpus/`.

#![cfg(feature = "server")]

mod support;

use std::time::Duration;

use healing_tui::api::types::{LoginRequest, SendRequest};
use healing_tui::api::{Client, ClientOptions};
use healing_tui::server::{start, ServerOptions};
use support::pty::PtySession;

const WAIT: Duration = Duration::from_secs(30);

/// The attack: retitle the window (OSC 0 and 2), clear the screen, fake a line from
/// someone else with a carriage return, reverse the rest with U+202E.
const HOSTILE: &str =
    "hello \u{1b}]0;PWNED\u{7}\u{1b}]2;PWNED2\u{1b}\\\u{1b}[2J\rdr_morgan: fake line \u{202e}txt.exe ENDMARK";

fn key_by_key(tui: &mut PtySession, keys: &[&[u8]]) {
    for k in keys {
        tui.send(k);
        std::thread::sleep(Duration::from_millis(40));
    }
}

fn login(name: &str) -> LoginRequest {
    LoginRequest { username: name.into(), password: "pw-pw-pw".into(), pin: "1111".into(), remember_me: None }
}

/// Records what the terminal model was asked to do besides drawing.
#[derive(Default)]
struct TitleWatch {
    titles: Vec<Vec<u8>>,
    oscs: usize,
}

impl vt100::Callbacks for TitleWatch {
    fn set_window_icon_name(&mut self, _: &mut vt100::Screen, name: &[u8]) {
        self.titles.push(name.to_vec());
    }
    fn set_window_title(&mut self, _: &mut vt100::Screen, title: &[u8]) {
        self.titles.push(title.to_vec());
    }
    fn unhandled_osc(&mut self, _: &mut vt100::Screen, _params: &[&[u8]]) {
        self.oscs += 1;
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

mod escape_injection {
    use super::*;
    use healing_tui::server::db::Db;
    use healing_tui::server::seed::create_user;

    #[test]
    fn hostile_message_and_username_are_harmless_text() {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let db_path = dir.path().join("db.sqlite");
        let server = rt.block_on(start(ServerOptions::local_demo(db_path.clone()))).unwrap();
        let url = server.url();
        // Two clinicians (only clinicians may start a conversation with a patient): one with
        // an ordinary name, one whose very name is an attack (the reference server has no
        // sign-up, so an operator-made or hostile server is the only way to get one).
        let evil_name = "eve\u{1b}]0;PWNED-NAME\u{7}\u{202e}kcab";
        rt.block_on(async {
            let db = Db::open(&db_path).unwrap();
            create_user(&db, "mallory", "pw-pw-pw", "1111", "clinician").await.unwrap();
            create_user(&db, evil_name, "pw-pw-pw", "1111", "clinician").await.unwrap();
            let opts = ClientOptions { allow_http: true, ..Default::default() };
            let eve = Client::new(&url, &opts).unwrap();
            eve.login(&login(evil_name)).await.unwrap();
            let hi = SendRequest {
                recipient: "alex".into(),
                content: "preview \u{1b}[2J\u{1b}]2;PWNED-PREVIEW\u{7}EVEMARK".into(),
                subject: None,
            };
            eve.send(&hi, None).await.unwrap();
            let mallory = Client::new(&url, &opts).unwrap();
            mallory.login(&login("mallory")).await.unwrap();
            let hi = SendRequest { recipient: "alex".into(), content: "hi alex".into(), subject: None };
            mallory.send(&hi, None).await.unwrap();
        });

        let config = dir.path().join("config");
        let data = dir.path().join("data");
        let args = [
            "--server",
            url.as_str(),
            "--config-dir",
            config.to_str().unwrap(),
            "--data-dir",
            data.to_str().unwrap(),
        ];
        let mut tui = PtySession::spawn(env!("CARGO_BIN_EXE_healing-tui"), &args, &[], 120, 30);
        tui.wait_for("log in", WAIT);
        tui.type_text("alex");
        key_by_key(&mut tui, &[b"\t"]);
        tui.type_text("healing-demo");
        key_by_key(&mut tui, &[b"\t"]);
        tui.type_text("1234");
        key_by_key(&mut tui, &[b"\r"]);
        tui.wait_for("alex@", WAIT);
        // The hostile name shows in the inbox as plain letters.
        tui.wait_for("evekcab", WAIT);
        key_by_key(&mut tui, &[b":"]);
        tui.type_text("open mallory");
        key_by_key(&mut tui, &[b"\r"]);
        tui.wait_for("hi alex", WAIT);
        tui.wait_quiet(Duration::from_millis(500), WAIT);
        let mark = tui.byte_count();

        // With alex's conversation open, mallory sends the attack.
        rt.block_on(async {
            let opts = ClientOptions { allow_http: true, ..Default::default() };
            let mallory = Client::new(&url, &opts).unwrap();
            mallory.login(&login("mallory")).await.unwrap();
            let evil = SendRequest { recipient: "alex".into(), content: HOSTILE.into(), subject: None };
            mallory.send(&evil, None).await.unwrap();
        });
        tui.wait_for("ENDMARK", WAIT);
        tui.wait_quiet(Duration::from_millis(500), WAIT);
        let screen = tui.screen_text();
        let bytes = tui.bytes();
        let after = &bytes[mark..];

        // Harmless text on screen: the visible words, no payloads, nothing reversed.
        assert!(screen.contains("hello"), "{screen}");
        assert!(screen.contains("fake line"), "{screen}");
        assert!(screen.contains("txt.exe ENDMARK"), "{screen}");
        assert!(!screen.contains("PWNED"), "an OSC payload reached the screen:\n{screen}");
        assert!(screen.contains("hi alex"), "the screen was cleared by the message:\n{screen}");

        // The raw bytes: no OSC, DCS, APC, PM or SOS anywhere (the client never sets a title),
        // no bidi override, no payload text.
        for (seq, what) in [
            (&b"\x1b]"[..], "OSC"),
            (b"\x1bP", "DCS"),
            (b"\x1b_", "APC"),
            (b"\x1b^", "PM"),
            (b"\x1bX", "SOS"),
            (b"\x07", "BEL"),
            ("\u{202e}".as_bytes(), "U+202E"),
            ("\u{9d}".as_bytes(), "C1 OSC"),
            (b"PWNED", "payload"),
        ] {
            assert_eq!(find(&bytes, seq), None, "the client wrote {what} to the terminal");
        }
        // Clearing the screen is the client's own business at start (alternate screen);
        // after the message arrived it had no reason to, so any `[2J` came from the message.
        assert_eq!(find(after, b"\x1b[2J"), None, "the message cleared the screen");
        assert_eq!(find(after, b"\x1b[3J"), None, "the message cleared the scrollback");
        // A bare CR in the stream after the message would let text overwrite its own line.
        assert!(!after.contains(&b'\r'), "a carriage return reached the terminal");

        // The terminal model agrees: no title was ever set, no unknown OSC seen.
        let mut model = vt100::Parser::new_with_callbacks(nz(30), nz(120), 0, TitleWatch::default());
        model.process(&bytes);
        assert!(model.callbacks().titles.is_empty(), "title set: {:?}", model.callbacks().titles);
        assert_eq!(model.callbacks().oscs, 0);

        key_by_key(&mut tui, &[b"\x1b", b"q"]);
        assert!(tui.wait_exit(WAIT), "the client did not quit on q");
        rt.block_on(server.shutdown());
    }
}

fn nz(n: u16) -> std::num::NonZeroU16 {
    std::num::NonZeroU16::new(n).unwrap()
}
