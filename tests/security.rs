//! Hostile input end to end (issue 9): escape sequences and bidi overrides in messages
//! and usernames reach the screen as harmless text, never as terminal commands; the
//! transport rules (http only to loopback, redirects never carry cookies elsewhere,
//! `--ca-cert`) hold through the real binary and client; every parser survives the
//! hostile seed corpus in `tests/corpus/`.

#[cfg(feature = "server")]
mod support;

#[cfg(feature = "server")]
mod escape_injection {
    use std::time::Duration;

    use crate::support::pty::{as_strs, client_args, PtySession};
    use healing_tui::api::{Client, ClientOptions};
    use healing_tui::model::types::{LoginRequest, SendRequest};
    use healing_tui::server::db::Db;
    use healing_tui::server::seed::create_user;
    use healing_tui::server::{start, ServerOptions};

    const WAIT: Duration = Duration::from_secs(30);

    /// The attack: retitle the window (OSC 0 and 2), clear the screen, fake a line from
    /// someone else with a carriage return, reverse the rest with U+202E.
    const HOSTILE: &str =
        "hello \u{1b}]0;PWNED\u{7}\u{1b}]2;PWNED2\u{1b}\\\u{1b}[2J\rdr_morgan: fake line \u{202e}txt.exe ENDMARK";

    fn login(name: &str) -> LoginRequest {
        LoginRequest {
            username: name.into(),
            password: "pw-pw-pw".into(),
            pin: "1111".into(),
            remember_me: None,
        }
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

    /// `bytes` without the OSC 8 sequences that link to `target` (and their closes);
    /// panics on an OSC 8 link to anything else.
    fn without_links_to(bytes: &[u8], target: &str) -> Vec<u8> {
        let mut out = Vec::with_capacity(bytes.len());
        let mut rest = bytes;
        while let Some(at) = find(rest, b"\x1b]8;;") {
            out.extend_from_slice(&rest[..at]);
            let tail = &rest[at + 5..];
            let end = find(tail, b"\x1b\\").expect("OSC 8 ends with ST");
            let linked = &tail[..end];
            assert!(
                linked.is_empty() || linked == target.as_bytes(),
                "a link to {:?}",
                String::from_utf8_lossy(linked)
            );
            rest = &tail[end + 2..];
        }
        out.extend_from_slice(rest);
        out
    }

    fn nz(n: u16) -> std::num::NonZeroU16 {
        std::num::NonZeroU16::new(n).unwrap()
    }

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
        let owned = client_args(&url, &config, &data);
        let args = as_strs(&owned);
        // The most talkative log there is, to check below that no secret reaches it.
        let env = [("RUST_LOG", "trace".to_string())];
        let mut tui = PtySession::spawn(env!("CARGO_BIN_EXE_healing-tui"), &args, &env, 120, 30);
        // "Remember me", so the session (cookie, CSRF token) lands on disk to compare with.
        tui.log_in_on_form("alex", true, WAIT);
        tui.wait_for("alex@", WAIT);
        // The hostile name shows in the inbox as plain letters.
        tui.wait_for("evekcab", WAIT);
        tui.run_command("open mallory", WAIT);
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
        // The one OSC the client writes on purpose: OSC 8 links, here only around the server
        // URL on the login form (the message has none). Anything else is checked below.
        let raw = tui.bytes();
        let bytes = without_links_to(&raw, &url);
        let after = &without_links_to(&raw[mark..], &url)[..];

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

        tui.keys(&[b"\x1b", b"q"]);
        assert!(tui.wait_exit(WAIT), "the client did not quit on q");
        rt.block_on(server.shutdown());

        // The trace log of this whole session holds no password, PIN, cookie or CSRF token.
        let session = healing_tui::store::session::Session::load(&config).unwrap().expect("remembered");
        let mut secrets: Vec<String> = session.cookies.iter().map(|c| c.value.clone()).collect();
        secrets.extend(session.csrf_token.clone());
        assert!(!secrets.is_empty() && secrets.iter().all(|s| s.len() >= 8), "{session:?}");
        secrets.extend(["healing-demo".to_string(), "\"1234\"".to_string(), "pin=1234".to_string()]);
        let mut log = String::new();
        for entry in std::fs::read_dir(data.join("logs")).unwrap() {
            log.push_str(&std::fs::read_to_string(entry.unwrap().path()).unwrap());
        }
        assert!(log.contains("api"), "the trace log is empty:\n{log}");
        for secret in &secrets {
            assert!(!log.contains(secret.as_str()), "the log holds a secret ({} chars)", secret.len());
        }
        assert!(!log.contains('\u{1b}'), "an escape sequence reached the log");
    }
}

/// Property tests ("fuzzing") for every parser of outside text. Case counts are
/// proptest's defaults (256) so CI stays short; `PROPTEST_CASES=200000` runs each longer.
mod fuzz {
    use std::path::Path;

    use healing_tui::api::cookies::Jar;
    use healing_tui::api::response::Reply;
    use healing_tui::api::ApiError;
    use healing_tui::config::{Config, ConfigError};
    use healing_tui::model::sanitize::is_clean;
    use healing_tui::model::time::parse_timestamp;
    use healing_tui::model::types::*;
    use proptest::prelude::*;

    /// Config-ish text: lines made of the real keys and sections with arbitrary values,
    /// so the parser gets past the first token and into its own checks.
    fn config_text() -> impl Strategy<Value = String> {
        let key = prop::sample::select(vec![
            "server",
            "theme",
            "ascii",
            "layout",
            "quiet_clock",
            "mouse",
            "active_secs",
            "idle_secs",
            "budget_per_hour",
            "bell",
            "desktop",
            "show_content",
            "title_unread",
            "animate",
            "\"j\"",
            "unknown",
        ]);
        let value = prop_oneof![
            any::<i64>().prop_map(|n| n.to_string()),
            any::<bool>().prop_map(|b| b.to_string()),
            "\\PC{0,16}".prop_map(|s| format!("{s:?}")),
            "[ -~\\t\\x1b\\u{202e}]{0,16}",
            Just("\"https://www.healing-space.org.uk\"".to_string()),
            Just("\"dark\"".to_string()),
            Just("[1, \"a\"]".to_string()),
            Just("{ x = 1 }".to_string()),
        ];
        let line = prop_oneof![
            (key, value).prop_map(|(k, v)| format!("{k} = {v}")),
            prop::sample::select(vec!["[poll]", "[notify]", "[pet]", "[keys]", "[other]", "[[pet]]", "["])
                .prop_map(str::to_string),
            "[ -~\\t\\r\\x1b]{0,24}",
        ];
        prop::collection::vec(line, 0..10).prop_map(|l| l.join("\n"))
    }

    fn check_config(text: &str) -> Result<(), TestCaseError> {
        match Config::parse(text, Path::new("/cfg/config.toml")) {
            Ok(loaded) => {
                for w in &loaded.warnings {
                    prop_assert!(w.starts_with("/cfg/config.toml"));
                }
            }
            Err(ConfigError::Invalid { line, column, ref path, .. }) => {
                // The line points into the text (one past the end for a missing token).
                let lines = text.split('\n').count().max(1);
                prop_assert!(line >= 1 && line <= lines + 1, "line {line} of {lines}");
                prop_assert!(column >= 1);
                prop_assert_eq!(path, Path::new("/cfg/config.toml"));
                let shown = Config::parse(text, Path::new("/cfg/config.toml")).unwrap_err().to_string();
                prop_assert!(shown.starts_with(&format!("/cfg/config.toml:{line}:{column}: ")), "{shown}");
            }
            Err(other) => prop_assert!(false, "parse gave a non-parse error: {other}"),
        }
        Ok(())
    }

    /// Websocket frames: the event shapes with hostile fields, or junk.
    fn ws_text() -> impl Strategy<Value = String> {
        let kind = prop::sample::select(vec![
            "message.new",
            "message.read",
            "message.deleted",
            "pet.updated",
            "",
            "MESSAGE.NEW",
        ]);
        let field = prop_oneof![
            Just(serde_json::Value::Null),
            any::<i64>().prop_map(serde_json::Value::from),
            any::<f64>().prop_map(serde_json::Value::from),
            "\\PC{0,12}|[\\x00-\\x1f\\x7f\\u{80}-\\u{9f}\\u{202a}-\\u{202e}a]{0,12}"
                .prop_map(serde_json::Value::from),
        ];
        prop_oneof![
            (kind, field.clone(), field.clone(), field).prop_map(|(k, a, b, c)| {
                serde_json::json!({"type": k, "message_id": a, "message": {"id": b, "content": c, "sender": "x"}})
                    .to_string()
            }),
            "\\PC{0,64}",
            prop::collection::vec(any::<u8>(), 0..128).prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
        ]
    }

    /// Reply bodies: bytes, HTML pages, JSON error bodies with odd fields.
    fn body() -> impl Strategy<Value = Vec<u8>> {
        let text = "\\PC{0,40}|[\\x00-\\x1f\\x7f\\u{80}-\\u{9f}\\u{202e}<>&;a]{0,40}";
        prop_oneof![
            prop::collection::vec(any::<u8>(), 0..200),
            text.prop_map(|t| format!("<!doctype html><title>{t}</title><p>{t}").into_bytes()),
            text.prop_map(|t| format!("<html><p {t}").into_bytes()),
            (text, any::<i64>(), prop::option::of("[a-zA-Z_]{0,12}")).prop_map(|(t, n, code)| {
                serde_json::json!({"error": t, "code": code, "error_id": t, "retry_after": n})
                    .to_string()
                    .into_bytes()
            }),
            (text, "\\PC{0,8}")
                .prop_map(|(t, k)| serde_json::json!({k: t, "retry_after": t}).to_string().into_bytes()),
        ]
    }

    fn content_type() -> impl Strategy<Value = Option<String>> {
        prop::option::of(prop_oneof![
            Just("application/json".to_string()),
            Just("text/html; charset=utf-8".to_string()),
            Just("TEXT/HTML".to_string()),
            "\\PC{0,20}",
        ])
    }

    fn check_reply(
        status: u16,
        ct: Option<&str>,
        retry: Option<&str>,
        body: &[u8],
    ) -> Result<(), TestCaseError> {
        let reply = Reply { status, content_type: ct, retry_after: retry, body };
        let _ = reply.is_csrf_failure();
        let wait = reply.retry_after_duration();
        prop_assert!(wait.as_secs() > 0);
        if let Some(text) = reply.server_text() {
            prop_assert!(is_clean(&text) && !text.contains('\n'), "{text:?}");
            prop_assert!(text.chars().count() <= 301);
        }
        let inbox = reply.json::<InboxResponse>();
        match status {
            200..=299 => {
                prop_assert_eq!(reply.empty(), Ok(()));
                if let Err(e) = inbox {
                    prop_assert!(matches!(e, ApiError::Protocol { .. }), "{e:?}");
                }
                return Ok(());
            }
            _ => prop_assert_eq!(inbox.err(), Some(reply.error())),
        }
        let err = reply.error();
        let shown = err.to_string();
        prop_assert!(is_clean(&shown) && !shown.contains('\n'), "{shown:?}");
        match (status, &err) {
            (401, ApiError::SessionExpired)
            | (403, ApiError::Forbidden(_))
            | (404, ApiError::NotFound(_))
            | (429, ApiError::RateLimited { .. }) => {}
            (400..=499, ApiError::Invalid(_)) if ![401, 403, 404, 429].contains(&status) => {}
            (500..=599, ApiError::Server { status: s, .. }) if *s == status => {}
            (100..=199 | 300..=399, ApiError::Protocol { .. }) => {}
            _ => prop_assert!(false, "status {status} became {err:?}"),
        }
        if let ApiError::Server { error_id: Some(id), .. } = &err {
            prop_assert!(is_clean(id) && !id.contains('\n'));
        }
        Ok(())
    }

    fn check_cookie(line: &str) -> Result<(), TestCaseError> {
        let jar = Jar::new();
        for url in ["http://127.0.0.1:5000/api/auth/login", "https://www.healing-space.org.uk/api/x"] {
            let url = url::Url::parse(url).map_err(|e| TestCaseError::fail(e.to_string()))?;
            jar.store(line, &url);
            if let Some(header) = jar.header_for(&url) {
                // A cookie value must never be able to inject a header line.
                prop_assert!(!header.chars().any(|c| c.is_control()), "{header:?}");
            }
        }
        Ok(())
    }

    proptest! {
        #[test]
        fn config_never_panics_and_errors_carry_line_numbers(text in config_text()) {
            check_config(&text)?;
        }

        #[test]
        fn config_never_panics_on_any_string(text in "\\PC{0,200}|[\\x00-\\x7f]{0,200}") {
            check_config(&text)?;
        }

        #[test]
        fn websocket_events_never_panic(text in ws_text()) {
            if let Some(event) = WsEvent::parse(&text) {
                // Whatever parsed must survive a round trip (the server sends what we parse).
                let again = serde_json::to_string(&event).map_err(|e| TestCaseError::fail(e.to_string()))?;
                prop_assert!(WsEvent::parse(&again).is_some(), "{again}");
            }
        }

        #[test]
        fn replies_map_to_the_right_error(
            status in 100u16..600,
            ct in content_type(),
            retry in prop::option::of("\\PC{0,12}|[0-9]{1,25}"),
            body in body(),
        ) {
            check_reply(status, ct.as_deref(), retry.as_deref(), &body)?;
        }

        #[test]
        fn set_cookie_lines_never_panic_or_inject(line in "\\PC{0,80}|[\\x00-\\x7f]{0,80}|[a-z]{1,8}=[\\x00-\\x7f\\u{80}-\\u{9f}]{0,20}(; [A-Za-z-]{0,10}(=[ -~]{0,20})?){0,4}") {
            check_cookie(&line)?;
        }

        #[test]
        fn timestamps_never_panic(text in "\\PC{0,40}|[0-9:TZ+ ,.-]{0,40}|[A-Za-z]{3}, [0-9]{1,3} [A-Za-z]{3} [0-9]{1,6} [0-9:]{0,9} GMT") {
            let _ = parse_timestamp(&text);
        }
    }

    mod corpus {
        use super::*;

        fn corpus() -> Vec<(String, Vec<u8>)> {
            let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
            let mut files: Vec<_> = std::fs::read_dir(&dir)
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.is_file())
                .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&p).unwrap()))
                .collect();
            files.sort();
            assert!(files.len() >= 10, "the seed corpus went missing: {files:?}");
            files
        }

        /// Every parser over every seed file: no panic, and what reaches people is clean.
        #[test]
        fn every_parser_over_every_corpus_file() {
            for (name, bytes) in corpus() {
                let text = String::from_utf8_lossy(&bytes);
                let fail = |e: TestCaseError| panic!("{name}: {e}");
                for status in [200, 204, 301, 400, 401, 403, 404, 413, 429, 500, 502, 503, 599] {
                    for ct in [None, Some("application/json"), Some("text/html; charset=utf-8")] {
                        check_reply(status, ct, Some(&text), &bytes).unwrap_or_else(fail);
                    }
                }
                check_config(&text).unwrap_or_else(fail);
                for line in text.lines() {
                    check_cookie(line).unwrap_or_else(fail);
                    let _ = parse_timestamp(line);
                }
                let _ = WsEvent::parse(&text);
                let _ = serde_json::from_slice::<InboxResponse>(&bytes);
                let _ = serde_json::from_slice::<ConversationResponse>(&bytes);
                let _ = serde_json::from_slice::<PetStatusResponse>(&bytes);
                let _ = serde_json::from_slice::<ErrorBody>(&bytes);
                let clean = healing_tui::model::sanitize::sanitize(&text);
                assert!(is_clean(&clean), "{name}: {clean:?}");
                if text.contains("\u{1b}]") {
                    assert!(!clean.contains("PWNED"), "{name}: an OSC payload survived: {clean:?}");
                }
                // Each seed read as what it is: a JSON body's escapes decode to real ESCs first.
                let as_type = if name.ends_with(".html") { Some("text/html") } else { None };
                for ct in as_type.into_iter().chain(name.ends_with(".json").then_some("application/json")) {
                    let reply =
                        Reply { status: 400, content_type: Some(ct), retry_after: None, body: &bytes };
                    let shown = reply.error().to_string();
                    assert!(!shown.contains("PWNED") && is_clean(&shown), "{name}: {shown:?}");
                }
                let line = healing_tui::model::sanitize::sanitize_line(&text);
                assert!(is_clean(&line) && !line.contains('\n'), "{name}");
            }
        }

        /// The hostile JSON seeds really do parse (leniently) into the types, and every
        /// field the screen shows is harmless once sanitized.
        #[test]
        fn hostile_json_seeds_parse_leniently() {
            let files = corpus();
            let get = |n: &str| files.iter().find(|(name, _)| name == n).map(|(_, b)| b.clone()).unwrap();
            let inbox: InboxResponse = serde_json::from_slice(&get("inbox-hostile.json")).unwrap();
            let c = &inbox.conversations[0];
            assert_eq!(healing_tui::model::sanitize::sanitize_line(&c.with_user), "eve");
            assert_eq!(healing_tui::model::sanitize::sanitize_line(&c.last_message), "gnp.exe fake: line");
            let conv: ConversationResponse =
                serde_json::from_slice(&get("conversation-odd-types.json")).unwrap();
            assert_eq!(conv.messages.len(), 1);
            assert_eq!(healing_tui::model::sanitize::sanitize(&conv.messages[0].content), "");
            let ws = WsEvent::parse(&String::from_utf8_lossy(&get("ws-new-hostile.json")));
            assert!(ws.is_some());
            let pet: PetStatusResponse = serde_json::from_slice(&get("pet-hostile.json")).unwrap();
            let name =
                pet.pet.map(|p| healing_tui::model::sanitize::sanitize_line(&p.name)).unwrap_or_default();
            assert_eq!(name, "Biscuit");
        }
    }
}

/// Secrets never show in `Debug`/`Display`, and their buffers can be (and are) wiped.
mod secrets {
    use healing_tui::app::effect::{Effect, Secret};
    use healing_tui::app::state::LoginForm;
    use healing_tui::model::private::create_private_dir;
    use healing_tui::model::types::{LoginRequest, LoginResponse};
    use healing_tui::store::session::{Session, SessionCookie};
    use zeroize::Zeroize;

    const PASSWORD: &str = "correct-horse-battery";
    const PIN: &str = "8642";
    const COOKIE: &str = "s3ss10n-c00k13-v4lu3";
    const CSRF: &str = "csrf-t0k3n-v4lu3";

    fn assert_hidden(what: &str, shown: &str) {
        for secret in [PASSWORD, PIN, COOKIE, CSRF] {
            assert!(!shown.contains(secret), "{what} shows a secret: {shown}");
        }
    }

    #[test]
    fn debug_never_shows_a_secret() {
        let req = LoginRequest {
            username: "alex".into(),
            password: PASSWORD.into(),
            pin: PIN.into(),
            remember_me: Some(true),
        };
        assert_hidden("LoginRequest", &format!("{req:?} {req:#?}"));
        let resp: LoginResponse = serde_json::from_str(&format!(
            r#"{{"success":true,"username":"alex","role":"user","csrf_token":"{CSRF}"}}"#
        ))
        .unwrap();
        assert_hidden("LoginResponse", &format!("{resp:?}"));
        let session = Session {
            server: "https://h.example/".into(),
            username: "alex".into(),
            role: "user".into(),
            cookies: vec![SessionCookie {
                name: "session".into(),
                value: COOKIE.into(),
                host: "h.example".into(),
                path: "/".into(),
                expires: None,
                secure: true,
            }],
            csrf_token: Some(CSRF.into()),
            saved_at: None,
        };
        assert_hidden("Session", &format!("{session:?} {session:#?}"));
        let mut form = LoginForm::default();
        form.username = "alex".into();
        form.password = PASSWORD.into();
        form.pin = PIN.into();
        assert_hidden("LoginForm", &format!("{form:?}"));
        let effect = Effect::Login {
            server: "https://h.example/".into(),
            username: "alex".into(),
            password: Secret(PASSWORD.into()),
            pin: Secret(PIN.into()),
            remember: true,
        };
        assert_hidden("Effect::Login", &format!("{effect:?}"));
    }

    #[test]
    fn login_request_secrets_are_wiped() {
        let mut req = LoginRequest {
            username: "alex".into(),
            password: PASSWORD.into(),
            pin: PIN.into(),
            remember_me: None,
        };
        // `Drop` runs exactly this; calling it directly shows what it leaves.
        req.zeroize();
        assert_eq!((req.username.as_str(), req.password.as_str(), req.pin.as_str()), ("alex", "", ""));
    }

    #[cfg(unix)]
    #[test]
    fn private_dirs_are_narrowed_and_session_files_are_0600() {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let dir = tempfile::tempdir().unwrap();
        // A log or config directory left open to others (e.g. made by hand) is narrowed,
        // since log files are created with the default umask inside it.
        let logs = dir.path().join("logs");
        std::fs::create_dir(&logs).unwrap();
        std::fs::set_permissions(&logs, std::fs::Permissions::from_mode(0o755)).unwrap();
        create_private_dir(&logs).unwrap();
        assert_eq!(mode(&logs), 0o700);
        let fresh = dir.path().join("a/b/config");
        create_private_dir(&fresh).unwrap();
        assert_eq!(mode(&fresh), 0o700);

        let config = dir.path().join("config");
        std::fs::create_dir(&config).unwrap();
        std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o775)).unwrap();
        let session =
            Session { server: "https://h.example/".into(), username: "alex".into(), ..Default::default() };
        session.save(&config).unwrap();
        assert_eq!((mode(&config), mode(&Session::path(&config))), (0o700, 0o600));
        for loose in [0o640, 0o604, 0o660] {
            std::fs::set_permissions(Session::path(&config), std::fs::Permissions::from_mode(loose)).unwrap();
            let err = Session::load(&config).unwrap_err().to_string();
            assert!(
                err.contains(&format!("chmod 600 {}", Session::path(&config).display())),
                "{loose:o}: {err}"
            );
        }
    }
}

/// The transport rules through the real client and binary.
#[cfg(feature = "server")]
mod transport {
    use std::net::SocketAddr;
    use std::path::Path;
    use std::process::{Command, Stdio};
    use std::sync::{Arc, Mutex};

    use axum::http::{header, HeaderMap, StatusCode};
    use axum::response::IntoResponse;
    use axum::routing::{any, get, post};
    use axum::Router;
    use healing_tui::api::{ApiError, Client, ClientOptions};
    use healing_tui::model::types::LoginRequest;

    const BIN: &str = env!("CARGO_BIN_EXE_healing-tui");

    fn run(args: &[&str]) -> (i32, String) {
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new(BIN)
            .arg("--config-dir")
            .arg(dir.path().join("c"))
            .arg("--data-dir")
            .arg(dir.path().join("d"))
            .args(args)
            .env("HEALING_PASSWORD", "healing-demo")
            .env("HEALING_PIN", "1234")
            .env_remove("HEALING_SERVER")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into_owned())
    }

    #[test]
    fn plain_http_off_loopback_needs_allow_http() {
        // 192.0.2.1 is TEST-NET-1: not loopback, and refused before any connection is tried.
        let (code, err) = run(&["login", "--server", "http://192.0.2.1:9", "--username", "alex"]);
        assert_eq!(code, 2, "{err}");
        assert!(err.contains("--allow-http") && err.contains("192.0.2.1"), "{err}");
        // With the flag it is allowed, with a warning; the name does not resolve, so offline.
        let (code, err) =
            run(&["--allow-http", "login", "--server", "http://host.invalid:9", "--username", "alex"]);
        assert!(err.contains("warning: using plain http:// to host.invalid"), "{err}");
        assert_ne!(code, 2, "{err}");
        assert_ne!(code, 0, "{err}");
        // Loopback needs no flag and gets no warning.
        let (_, err) = run(&["login", "--server", "http://127.0.0.1:9", "--username", "alex"]);
        assert!(!err.contains("--allow-http") && !err.contains("warning"), "{err}");
    }

    #[test]
    fn ca_cert_errors_name_the_file_and_a_pem_is_accepted() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("no-such-ca.pem");
        let opts = |p: &Path| ClientOptions { ca_cert: Some(p.to_path_buf()), ..Default::default() };
        let err = Client::new("https://h.example", &opts(&missing)).unwrap_err().to_string();
        assert!(err.contains("no-such-ca.pem"), "{err}");
        let junk = dir.path().join("junk.pem");
        std::fs::write(&junk, "this is not a certificate\n").unwrap();
        let err = Client::new("https://h.example", &opts(&junk)).unwrap_err().to_string();
        assert!(err.contains("junk.pem"), "{err}");
        // A PEM block whose body is not a certificate is refused too, naming the file.
        let bad_der = dir.path().join("bad-der.pem");
        std::fs::write(&bad_der, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n").unwrap();
        let err = Client::new("https://h.example", &opts(&bad_der)).unwrap_err().to_string();
        assert!(err.contains("bad-der.pem"), "{err}");
        let pem = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/ca/test-ca.pem");
        assert!(Client::new("https://h.example", &opts(&pem)).is_ok());

        let (code, err) = run(&[
            "--ca-cert",
            missing.to_str().unwrap(),
            "login",
            "--server",
            "https://h.example",
            "--username",
            "alex",
        ]);
        // A file that cannot be read is a local problem (exit 7), one that is not a
        // certificate a usage problem (exit 2); both name the file.
        assert_eq!(code, 7, "{err}");
        assert!(err.contains("no-such-ca.pem"), "{err}");
        let (code, err) = run(&[
            "--ca-cert",
            junk.to_str().unwrap(),
            "login",
            "--server",
            "https://h.example",
            "--username",
            "alex",
        ]);
        assert_eq!(code, 2, "{err}");
        assert!(err.contains("junk.pem") && err.contains("not a PEM certificate"), "{err}");
    }

    /// Server A (127.0.0.1) logs in with a cookie, then answers every API call with a 302
    /// to server B (127.0.0.2, also loopback, so Secure cookies would be sent there too).
    #[tokio::test]
    async fn a_redirect_to_another_host_never_carries_the_cookie() {
        let seen: Arc<Mutex<Vec<Option<String>>>> = Arc::default();
        let record = Arc::clone(&seen);
        let b = Router::new().fallback(any(move |headers: HeaderMap| {
            let record = Arc::clone(&record);
            async move {
                let cookie = headers.get(header::COOKIE).and_then(|v| v.to_str().ok()).map(str::to_string);
                record.lock().unwrap().push(cookie);
                axum::Json(serde_json::json!({"conversations": [], "total_unread": 0}))
            }
        }));
        let b_listener = tokio::net::TcpListener::bind("127.0.0.2:0").await.unwrap();
        let b_addr: SocketAddr = b_listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(b_listener, b).await });

        let target = format!("http://{b_addr}/api/messages/inbox");
        let a = Router::new()
            .route(
                "/api/auth/login",
                post(|| async {
                    (
                        [(header::SET_COOKIE, "session=SECRET-COOKIE; Path=/; HttpOnly; Secure")],
                        axum::Json(serde_json::json!({"success": true, "username": "alex", "role": "user"})),
                    )
                }),
            )
            .route(
                "/api/csrf-token",
                get(|| async { axum::Json(serde_json::json!({"csrf_token": "SECRET-CSRF"})) }),
            )
            .fallback(any(move || {
                let target = target.clone();
                async move { (StatusCode::FOUND, [(header::LOCATION, target)]).into_response() }
            }));
        let a_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let a_addr = a_listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(a_listener, a).await });

        let client = Client::new(&format!("http://{a_addr}"), &ClientOptions::default()).unwrap();
        let req = LoginRequest {
            username: "alex".into(),
            password: "pw".into(),
            pin: "1111".into(),
            remember_me: None,
        };
        client.login(&req).await.unwrap();
        assert!(client.websocket_request().unwrap().1.is_some_and(|c| c.contains("SECRET-COOKIE")));
        // The logged-in client's Debug shows neither the cookie nor the token.
        let shown = format!("{client:?} {:?}", client.session());
        assert!(!shown.contains("SECRET-COOKIE") && !shown.contains("SECRET-CSRF"), "{shown}");
        let err = client.inbox(1, 20, false, None).await.unwrap_err();
        let ApiError::Protocol { detail } = &err else { panic!("not a protocol error: {err:?}") };
        assert!(detail.contains("redirected (302)") && detail.contains("127.0.0.2"), "{detail}");
        assert!(err.to_string().contains("--server"), "the error says what to do: {err}");
        for _ in 0..3 {
            let _ = client
                .send(
                    &healing_tui::model::types::SendRequest {
                        recipient: "x".into(),
                        content: "y".into(),
                        subject: None,
                    },
                    None,
                )
                .await;
            let _ = client.mark_read(1).await;
        }
        let seen = seen.lock().unwrap().clone();
        assert!(seen.iter().all(|c| c.as_deref().is_none_or(|c| !c.contains("SECRET"))), "{seen:?}");
        assert!(seen.is_empty(), "the redirect was followed: {seen:?}");
    }
}

/// Reference-server authorization gaps not covered in tests/server.rs: websocket streams
/// belong to the session's user whatever the URL says, and pet writes that name another
/// user are refused. Hostile pet names are stored literally (as production does) and
/// made harmless by the client.
#[cfg(feature = "server")]
mod server_hardening {
    use std::time::Duration;

    use futures_util::StreamExt;
    use healing_tui::api::{Client, ClientOptions};
    use healing_tui::model::types::{LoginRequest, Pet, PetStatusResponse, WsEvent};
    use healing_tui::server::{start, RunningServer, ServerOptions};
    use serde_json::{json, Value};
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    use tokio_tungstenite::tungstenite::Message as Frame;

    type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

    async fn server(dir: &tempfile::TempDir) -> RunningServer {
        start(ServerOptions::local_demo(dir.path().join("db.sqlite"))).await.unwrap()
    }

    async fn client(url: &str, who: &str) -> Client {
        let c = Client::new(url, &ClientOptions::default()).unwrap();
        let req = LoginRequest {
            username: who.into(),
            password: "healing-demo".into(),
            pin: "1234".into(),
            remember_me: None,
        };
        c.login(&req).await.unwrap();
        c
    }

    /// `who`'s websocket, with `query` appended to the URL (an attempt to pick a stream).
    async fn socket(c: &Client, query: &str) -> Result<Ws, tokio_tungstenite::tungstenite::Error> {
        let (url, cookie) = c.websocket_request().unwrap();
        let mut req = format!("{url}{query}").into_client_request().unwrap();
        if let Some(cookie) = cookie {
            req.headers_mut().insert("Cookie", cookie.parse().unwrap());
        }
        tokio_tungstenite::connect_async(req).await.map(|(ws, _)| ws)
    }

    async fn next_new(ws: &mut Ws) -> (String, String) {
        loop {
            let frame = tokio::time::timeout(Duration::from_secs(20), ws.next())
                .await
                .expect("an event within 20 s")
                .expect("socket open")
                .expect("frame");
            if let Frame::Text(text) = frame {
                if let Some(WsEvent::MessageNew { message }) = WsEvent::parse(&text) {
                    return (message.recipient, message.content);
                }
            }
        }
    }

    #[tokio::test]
    async fn a_websocket_carries_only_its_own_users_events() {
        let dir = tempfile::tempdir().unwrap();
        let srv = server(&dir).await;
        let url = srv.url();
        let (alex, sam, dr) =
            (client(&url, "alex").await, client(&url, "sam").await, client(&url, "dr_morgan").await);
        let mut alex_ws = socket(&alex, "").await.unwrap();
        // Sam asks for alex's stream in every way a URL could.
        let mut sam_ws = socket(&sam, "?username=alex&user=alex&recipient=alex").await.unwrap();
        let send = |to: &str, text: &str| healing_tui::model::types::SendRequest {
            recipient: to.into(),
            content: text.into(),
            subject: None,
        };
        dr.send(&send("alex", "for alex only"), None).await.unwrap();
        dr.send(&send("sam", "for sam"), None).await.unwrap();
        // Events on one socket are in order: sam's first news is his own message.
        assert_eq!(next_new(&mut sam_ws).await, ("sam".into(), "for sam".into()));
        assert_eq!(next_new(&mut alex_ws).await, ("alex".into(), "for alex only".into()));

        // A logged-out session's cookie opens no stream at all.
        let (_, old_cookie) = alex.websocket_request().unwrap();
        alex.logout().await.unwrap();
        let (ws_url, _) = sam.websocket_request().unwrap();
        let mut req = ws_url.as_str().into_client_request().unwrap();
        req.headers_mut().insert("Cookie", old_cookie.unwrap().parse().unwrap());
        assert!(tokio_tungstenite::connect_async(req).await.is_err(), "a revoked session opened a socket");
        srv.shutdown().await;
    }

    /// A refused login's error (what the CLI prints and the TUI shows) never repeats the
    /// password or PIN that was tried.
    #[tokio::test]
    async fn a_refused_login_does_not_echo_the_secrets() {
        let dir = tempfile::tempdir().unwrap();
        let srv = server(&dir).await;
        let c = Client::new(&srv.url(), &ClientOptions::default()).unwrap();
        for (password, pin) in [("wrong-PASSWORD-xyz", "1234"), ("healing-demo", "97531")] {
            let req = LoginRequest {
                username: "alex".into(),
                password: password.into(),
                pin: pin.into(),
                remember_me: None,
            };
            let err = c.login(&req).await.unwrap_err();
            let shown = format!("{err} {err:?}");
            assert!(!shown.contains(password) && !shown.contains(pin), "{shown}");
        }
        srv.shutdown().await;
    }

    #[tokio::test]
    async fn pet_writes_naming_another_user_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let srv = server(&dir).await;
        let url = srv.url();
        let alex = client(&url, "alex").await;
        let session = alex.session();
        let cookie =
            session.cookies.iter().map(|c| format!("{}={}", c.name, c.value)).collect::<Vec<_>>().join("; ");
        let csrf = session.csrf_token.clone().unwrap_or_default();
        let http = reqwest::Client::new();
        let post = |path: &str, body: Value| {
            http.post(format!("{url}{path}"))
                .header("Cookie", &cookie)
                .header("X-CSRF-Token", &csrf)
                .json(&body)
                .send()
        };
        let before = alex.pet_status().await.unwrap();
        for (path, body) in [
            ("/api/pet/create", json!({"username": "sam", "name": "Stolen", "species": "Cat"})),
            ("/api/pet/buy", json!({"username": "sam", "item_id": "tophat"})),
            ("/api/pet/feed", json!({"username": "dr_morgan"})),
            ("/api/pet/reward", json!({"username": "sam", "action": "therapy"})),
        ] {
            let resp = post(path, body).await.unwrap();
            let status = resp.status().as_u16();
            // create/buy/feed name their owner; reward has no username field and acts on alex.
            if path != "/api/pet/reward" {
                assert_eq!(status, 403, "{path}");
            }
        }
        let sam = client(&url, "sam").await;
        let sams: PetStatusResponse = sam.pet_status().await.unwrap();
        assert!(!sams.exists, "a pet was made for sam by alex");
        let resp = http
            .get(format!("{url}/api/pet/status?username=sam"))
            .header("Cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 403);
        let after = alex.pet_status().await.unwrap();
        assert_eq!(before.pet.map(|p| p.name), after.pet.map(|p| p.name));
        srv.shutdown().await;
    }

    /// The server keeps a hostile pet name as typed (production does too); the pet pane
    /// and the compact line show it as harmless text.
    #[tokio::test]
    async fn a_hostile_pet_name_is_stored_literally_and_drawn_harmless() {
        let dir = tempfile::tempdir().unwrap();
        let srv = server(&dir).await;
        let alex = client(&srv.url(), "alex").await;
        let evil = "Rex\u{1b}]0;PWNED\u{7}\u{1b}[2J\u{202e}god";
        alex.pet_create(evil, Some("Dog"), None).await.unwrap();
        let pet: Pet = alex.pet_status().await.unwrap().pet.unwrap();
        assert_eq!(pet.name, evil, "the server changed the name");
        let look = healing_tui::ui::pet::PetLook::default();
        let line = healing_tui::ui::pet::compact_line(&pet, look);
        assert!(line.starts_with("Rexgod") && healing_tui::model::sanitize::is_clean(&line), "{line:?}");
        let area = ratatui::layout::Rect::new(0, 0, 40, 20);
        let mut buf = ratatui::buffer::Buffer::empty(area);
        healing_tui::ui::pet::render_pet(Some(&pet), look, area, &mut buf);
        let drawn: String = buf.content().iter().map(|c| c.symbol()).collect();
        assert!(drawn.contains("Rexgod"), "{drawn}");
        assert!(healing_tui::model::sanitize::is_clean(&drawn) && !drawn.contains("PWNED"), "{drawn:?}");
        srv.shutdown().await;
    }
}
