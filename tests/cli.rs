//! The scriptable commands, run as the real binary against an in-process reference
//! server (demo seed: alex, sam, dr_morgan; password `healing-demo`, PIN `1234`), with
//! temporary config and data directories.

#![cfg(feature = "server")]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use healing_tui::server::{start, Profile, RouteLimit, RunningServer, Seed, ServerOptions};

const BIN: &str = env!("CARGO_BIN_EXE_healing-tui");
const PASSWORD: &str = "healing-demo";
const PIN: &str = "1234";

/// A seeded server plus one person's config and data directories.
struct World {
    rt: tokio::runtime::Runtime,
    server: Option<RunningServer>,
    url: String,
    dir: tempfile::TempDir,
}

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

impl std::fmt::Debug for Out {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "exit {}\n--- stdout\n{}--- stderr\n{}", self.code, self.stdout, self.stderr)
    }
}

impl World {
    fn new() -> World {
        World::with(|_| {})
    }

    /// A world whose server options `tweak` adjusts (profile, limits).
    fn with(tweak: impl FnOnce(&mut ServerOptions)) -> World {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let mut opts = ServerOptions::new("127.0.0.1:0".parse().unwrap(), dir.path().join("server.db"));
        opts.seed = Some(Seed::Demo);
        tweak(&mut opts);
        let server = rt.block_on(start(opts)).unwrap();
        let url = server.url();
        World { rt, server: Some(server), url, dir }
    }

    fn stop_server(&mut self) {
        if let Some(s) = self.server.take() {
            self.rt.block_on(s.shutdown());
        }
    }

    /// Config dir for a person (`who` keeps two people apart in one world).
    fn config_dir(&self, who: &str) -> PathBuf {
        self.dir.path().join(who).join("config")
    }

    fn data_dir(&self, who: &str) -> PathBuf {
        self.dir.path().join(who).join("data")
    }

    fn session_file(&self, who: &str) -> PathBuf {
        self.config_dir(who).join("session.json")
    }

    fn run(&self, who: &str, args: &[&str], stdin: Option<&str>, env: &[(&str, &str)]) -> Out {
        let mut cmd = Command::new(BIN);
        cmd.arg("--config-dir").arg(self.config_dir(who)).arg("--data-dir").arg(self.data_dir(who));
        cmd.args(args);
        for var in [
            "HEALING_SERVER",
            "HEALING_PASSWORD",
            "HEALING_PIN",
            "RUST_LOG",
            "HEALING_TUI_CONFIG_DIR",
            "HEALING_TUI_DATA_DIR",
        ] {
            cmd.env_remove(var);
        }
        cmd.envs(env.iter().copied());
        cmd.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() });
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        if let Some(input) = stdin {
            child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
        }
        let out = child.wait_with_output().unwrap();
        Out {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    fn login_as(&self, who: &str, extra_env: &[(&str, &str)]) -> Out {
        let mut env = vec![("HEALING_PASSWORD", PASSWORD), ("HEALING_PIN", PIN)];
        env.extend_from_slice(extra_env);
        self.run(who, &["login", "--server", &self.url, "--username", who], None, &env)
    }

    fn login(&self, who: &str) {
        let out = self.login_as(who, &[]);
        assert_eq!(out.code, 0, "{out:?}");
    }
}

impl Drop for World {
    fn drop(&mut self) {
        self.stop_server();
    }
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// `n` patients (`patient000`…) who each wrote one message to `clinician`, straight
/// into the server's database (logging in as each would take minutes of hashing).
fn add_patients_who_wrote(w: &World, clinician: &str, n: usize) {
    let db = rusqlite::Connection::open(w.dir.path().join("server.db")).unwrap();
    db.busy_timeout(std::time::Duration::from_secs(10)).unwrap();
    let to: i64 =
        db.query_row("SELECT id FROM users WHERE username = ?1", [clinician], |r| r.get(0)).unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    for i in 0..n {
        db.execute(
            "INSERT INTO users (username, password_hash, pin_hash, role, created_at) VALUES (?1, 'x', 'x', 'user', ?2)",
            rusqlite::params![format!("patient{i:03}"), now],
        )
        .unwrap();
        let from = db.last_insert_rowid();
        db.execute(
            "INSERT INTO messages (sender_id, recipient_id, content, sent_at) VALUES (?1, ?2, ?3, ?4)",
            rusqlite::params![from, to, format!("message {i}"), now - 60 * i as i64],
        )
        .unwrap();
    }
}

fn session_json(w: &World, who: &str) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(w.session_file(who)).unwrap()).unwrap()
}

mod login {
    use super::*;

    #[test]
    fn with_env_saves_a_private_session_without_secrets() {
        let w = World::new();
        let out = w.login_as("alex", &[]);
        assert_eq!(out.code, 0, "{out:?}");
        assert_eq!(out.stdout.trim(), format!("Logged in as alex (patient) at {}/", w.url));
        let text = std::fs::read_to_string(w.session_file("alex")).unwrap();
        assert!(!text.contains(PASSWORD) && !text.contains("\"pin\""), "{text}");
        let s = session_json(&w, "alex");
        assert_eq!(s["username"], "alex");
        assert_eq!(s["role"], "user");
        assert!(s["cookies"].as_array().is_some_and(|c| !c.is_empty()), "{s}");
        assert!(s["csrf_token"].as_str().is_some_and(|t| !t.is_empty()));
        #[cfg(unix)]
        {
            assert_eq!(mode(&w.session_file("alex")), 0o600);
            assert_eq!(mode(&w.config_dir("alex")), 0o700);
        }
    }

    #[test]
    fn with_password_stdin() {
        let w = World::new();
        let input = format!("{PASSWORD}\n{PIN}\n");
        let out = w.run(
            "sam",
            &["login", "--server", &w.url, "--username", "sam", "--password-stdin"],
            Some(&input),
            &[],
        );
        assert_eq!(out.code, 0, "{out:?}");
        assert!(out.stdout.contains("Logged in as sam (patient)"), "{out:?}");
        assert!(w.session_file("sam").exists());
    }

    #[test]
    fn server_from_env() {
        let w = World::new();
        let env = [("HEALING_PASSWORD", PASSWORD), ("HEALING_PIN", PIN), ("HEALING_SERVER", w.url.as_str())];
        let out = w.run("dr_morgan", &["login", "--username", "dr_morgan"], None, &env);
        assert_eq!(out.code, 0, "{out:?}");
        assert!(out.stdout.contains("Logged in as dr_morgan (clinician)"), "{out:?}");
    }

    #[test]
    fn wrong_password_is_refused() {
        let w = World::new();
        let out = w.run(
            "alex",
            &["login", "--server", &w.url, "--username", "alex"],
            None,
            &[("HEALING_PASSWORD", "not-the-password"), ("HEALING_PIN", PIN)],
        );
        assert_eq!(out.code, 4, "{out:?}");
        assert!(out.stderr.contains("Invalid credentials"), "{out:?}");
        assert!(!w.session_file("alex").exists());
    }

    #[test]
    fn wrong_pin_is_refused() {
        let w = World::new();
        let out = w.run(
            "alex",
            &["login", "--server", &w.url, "--username", "alex"],
            None,
            &[("HEALING_PASSWORD", PASSWORD), ("HEALING_PIN", "9999")],
        );
        assert_eq!(out.code, 4, "{out:?}");
        assert!(out.stderr.contains("Invalid PIN"), "{out:?}");
    }

    #[test]
    fn sixth_bad_attempt_is_rate_limited() {
        let w = World::new();
        let bad = [("HEALING_PASSWORD", "wrong"), ("HEALING_PIN", PIN)];
        for attempt in 1..=5 {
            let out = w.run("alex", &["login", "--server", &w.url, "--username", "alex"], None, &bad);
            assert_eq!(out.code, 4, "attempt {attempt}: {out:?}");
            assert!(out.stderr.contains("Invalid credentials"), "attempt {attempt}: {out:?}");
        }
        let out = w.run("alex", &["login", "--server", &w.url, "--username", "alex"], None, &bad);
        assert_eq!(out.code, 4, "{out:?}");
        assert!(out.stderr.contains("Too many requests. Please wait"), "{out:?}");
    }

    #[test]
    fn plain_http_to_a_remote_host_is_refused_before_connecting() {
        let w = World::new();
        let out = w.run(
            "alex",
            &["login", "--server", "http://example.invalid", "--username", "alex"],
            None,
            &[("HEALING_PASSWORD", PASSWORD), ("HEALING_PIN", PIN)],
        );
        assert_eq!(out.code, 2, "{out:?}");
        assert!(out.stderr.contains("--allow-http"), "{out:?}");
    }

    #[test]
    fn no_terminal_and_no_secrets_is_a_usage_error() {
        let w = World::new();
        let out = w.run(
            "alex",
            &["login", "--server", &w.url, "--username", "alex", "--password-stdin"],
            Some(""),
            &[],
        );
        assert_eq!(out.code, 2, "{out:?}");
    }
}

mod messages {
    use super::*;

    #[test]
    fn inbox_plain_json_and_unread() {
        let w = World::new();
        w.login("alex");
        let out = w.run("alex", &["inbox"], None, &[]);
        assert_eq!(out.code, 0, "{out:?}");
        let lines: Vec<&str> = out.stdout.lines().collect();
        assert!(lines[0].contains("sam") && lines[0].contains("(1)"), "{out:?}");
        assert!(out.stdout.contains("dr_morgan"), "{out:?}");
        assert!(out.stdout.contains("1 unread"), "{out:?}");

        let out = w.run("alex", &["inbox", "--json"], None, &[]);
        assert_eq!(out.code, 0, "{out:?}");
        let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
        let convs = v["conversations"].as_array().unwrap();
        assert_eq!(convs.len(), 2, "{v}");
        assert_eq!(convs[0]["with_user"], "sam");
        assert_eq!(convs[0]["unread_count"], 1);
        assert!(convs[0]["last_message_time"].is_string());
        assert_eq!(v["total_unread"], 1);

        let out = w.run("alex", &["inbox", "--unread", "--json"], None, &[]);
        let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
        let users: Vec<&str> =
            v["conversations"].as_array().unwrap().iter().map(|c| c["with_user"].as_str().unwrap()).collect();
        assert_eq!(users, ["sam"]);
    }

    #[test]
    fn inbox_waiting_lists_who_wrote_last_longest_wait_first() {
        let w = World::new();
        for who in ["dr_morgan", "alex", "sam"] {
            w.login(who);
        }
        // The seed: dr_morgan wrote last to alex, so nobody waits.
        let out = w.run("dr_morgan", &["inbox", "--waiting", "--json"], None, &[]);
        assert_eq!(out.code, 0, "{out:?}");
        let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
        assert_eq!(v["conversations"].as_array().unwrap().len(), 0, "{v}");
        let out = w.run("dr_morgan", &["inbox", "--waiting"], None, &[]);
        assert_eq!(out.stdout, "Nobody is waiting for an answer.\n", "{out:?}");

        let send = |who: &str, to: &str, text: &str| {
            let out = w.run(who, &["send", to, text], None, &[]);
            assert_eq!(out.code, 0, "{out:?}");
        };
        send("alex", "dr_morgan", "I had a hard night");
        send("dr_morgan", "sam", "Hello Sam, I'm your new clinician");
        // Times are in whole seconds: let sam's reply come clearly later than alex's.
        std::thread::sleep(std::time::Duration::from_millis(1100));
        send("sam", "dr_morgan", "Hi, thanks");

        let out = w.run("dr_morgan", &["inbox", "--waiting", "--json"], None, &[]);
        assert_eq!(out.code, 0, "{out:?}");
        let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
        let convs = v["conversations"].as_array().unwrap();
        let users: Vec<&str> = convs.iter().map(|c| c["with_user"].as_str().unwrap()).collect();
        assert_eq!(users, ["alex", "sam"], "longest wait first: {v}");
        for c in convs {
            assert!(c["waiting_since"].is_string(), "{c}");
            assert_eq!(c["waiting_since"], c["last_message_time"], "{c}");
            assert_eq!(c["last_sender"], c["with_user"], "the API's own fields stay: {c}");
        }
        let out = w.run("dr_morgan", &["inbox", "--waiting"], None, &[]);
        let lines: Vec<&str> = out.stdout.lines().collect();
        assert!(lines[0].contains("alex") && lines[0].contains("waiting now"), "{out:?}");
        assert!(lines[1].contains("sam"), "{out:?}");

        // Once answered, alex no longer waits; the full list still says so with null.
        send("dr_morgan", "alex", "I'm sorry to hear that. Can we talk at 10?");
        let out = w.run("dr_morgan", &["inbox", "--json"], None, &[]);
        let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
        let alex = v["conversations"].as_array().unwrap().iter().find(|c| c["with_user"] == "alex").unwrap();
        assert!(alex["waiting_since"].is_null(), "{alex}");
        let out = w.run("dr_morgan", &["inbox", "--waiting", "--json"], None, &[]);
        let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
        let users: Vec<&str> =
            v["conversations"].as_array().unwrap().iter().map(|c| c["with_user"].as_str().unwrap()).collect();
        assert_eq!(users, ["sam"]);
    }

    #[test]
    fn inbox_json_returns_every_conversation_of_a_large_caseload() {
        // Production's limits: the walk over the pages must fit in them.
        let w = World::with(|o| o.profile = Profile::Production);
        w.login("dr_morgan");
        add_patients_who_wrote(&w, "dr_morgan", 260);
        let out = w.run("dr_morgan", &["inbox", "--json"], None, &[]);
        assert_eq!(out.code, 0, "{out:?}");
        let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
        let convs = v["conversations"].as_array().unwrap();
        // 260 new patients plus alex from the seed.
        assert_eq!(convs.len(), 261, "stderr: {}", out.stderr);
        let mut users: Vec<&str> = convs.iter().map(|c| c["with_user"].as_str().unwrap()).collect();
        users.sort_unstable();
        users.dedup();
        assert_eq!(users.len(), 261, "no conversation twice");
        assert!(out.stderr.is_empty(), "{out:?}");
    }

    /// A running `watch --json` child; its stderr is read by a thread, its stdout is
    /// left to the test.
    struct Watching {
        child: std::process::Child,
        stderr: std::sync::Arc<std::sync::Mutex<String>>,
    }

    fn start_watch(w: &World, who: &str) -> Watching {
        let mut cmd = Command::new(BIN);
        cmd.arg("--config-dir").arg(w.config_dir(who)).arg("--data-dir").arg(w.data_dir(who));
        cmd.args(["watch", "--json"]).env_remove("RUST_LOG");
        cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        let stderr = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let (err, sink) = (child.stderr.take().unwrap(), stderr.clone());
        std::thread::spawn(move || {
            for line in std::io::BufRead::lines(std::io::BufReader::new(err)).map_while(Result::ok) {
                sink.lock().unwrap().push_str(&(line + "\n"));
            }
        });
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while !stderr.lock().unwrap().contains("live (push)") {
            assert!(std::time::Instant::now() < deadline, "never live: {}", stderr.lock().unwrap());
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        Watching { child, stderr }
    }

    fn wait_exit(child: &mut std::process::Child) -> i32 {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status.code().unwrap_or(-1);
            }
            assert!(std::time::Instant::now() < deadline, "still running");
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }

    #[cfg(unix)]
    #[test]
    fn watch_prints_json_lines_and_ends_cleanly_on_sigterm_and_closed_stdout() {
        let w = World::new();
        w.login("dr_morgan");
        w.login("alex");
        let mut watching = start_watch(&w, "dr_morgan");
        let out = w.run("alex", &["send", "dr_morgan", "a line for the watch"], None, &[]);
        assert_eq!(out.code, 0, "{out:?}");
        let mut stdout = std::io::BufReader::new(watching.child.stdout.take().unwrap());
        let mut line = String::new();
        std::io::BufRead::read_line(&mut stdout, &mut line).unwrap();
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["type"], "message.new", "{line}");
        assert_eq!(v["message"]["content"], "a line for the watch");
        assert_eq!(v["message"]["sender"], "alex");
        let kill = Command::new("kill").args(["-TERM", &watching.child.id().to_string()]).status().unwrap();
        assert!(kill.success());
        assert_eq!(wait_exit(&mut watching.child), 0, "stderr: {}", watching.stderr.lock().unwrap());

        // The reader goes away: the watch ends at once, quietly, without waiting for news.
        let mut watching = start_watch(&w, "dr_morgan");
        drop(watching.child.stdout.take());
        assert_eq!(wait_exit(&mut watching.child), 0, "stderr: {}", watching.stderr.lock().unwrap());
        let err = watching.stderr.lock().unwrap().clone();
        assert!(!err.contains("Broken pipe") && !err.contains("panicked"), "{err}");
    }

    #[test]
    fn chat_with_stdin_not_a_terminal_sends_each_line_once() {
        let w = World::new();
        w.login("alex");
        let out = w.run("alex", &["chat", "sam", "--history", "2"], Some("first line\n\nsecond line\n"), &[]);
        assert_eq!(out.code, 0, "{out:?}");
        let lines: Vec<&str> = out.stdout.lines().collect();
        assert_eq!(lines.len(), 4, "two of history, then the two sent: {out:?}");
        assert!(lines[0].ends_with("you: Will do 🙂"), "{out:?}");
        assert!(lines[1].contains("sam: Did you try the breathing exercise"), "{out:?}");
        assert!(lines[2].ends_with("you: first line") && lines[3].ends_with("you: second line"), "{out:?}");
        assert!(!out.stdout.contains("> "), "no prompt without a terminal: {out:?}");
        let out = w.run("alex", &["read", "sam", "--json"], None, &[]);
        let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
        let texts: Vec<&str> =
            v["messages"].as_array().unwrap().iter().map(|m| m["content"].as_str().unwrap()).collect();
        assert_eq!(texts.iter().filter(|t| **t == "first line").count(), 1, "{texts:?}");
        assert_eq!(
            &texts[texts.len() - 2..],
            ["first line", "second line"],
            "in order, the empty line not sent"
        );
    }

    #[test]
    fn read_marks_read_and_limits() {
        let w = World::new();
        w.login("alex");
        let out = w.run("alex", &["read", "sam", "--json"], None, &[]);
        assert_eq!(out.code, 0, "{out:?}");
        let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
        let msgs = v["messages"].as_array().unwrap();
        assert_eq!(msgs.len(), 5, "{v}");
        assert!(msgs[4]["content"].as_str().unwrap().contains("breathing exercise"));
        assert!(msgs[0]["id"].as_i64() < msgs[4]["id"].as_i64(), "oldest first");

        let out = w.run("alex", &["read", "sam", "--limit", "2"], None, &[]);
        assert_eq!(out.code, 0, "{out:?}");
        let lines: Vec<&str> = out.stdout.lines().collect();
        assert_eq!(lines.len(), 2, "{out:?}");
        assert!(lines[0].contains("alex") && lines[0].contains("Will do"), "{out:?}");
        assert!(lines[1].contains("sam") && lines[1].contains("breathing exercise"), "{out:?}");

        // Reading marked sam's message read.
        let out = w.run("alex", &["inbox", "--unread"], None, &[]);
        assert_eq!(out.stdout, "No conversations.\n", "{out:?}");
    }

    #[test]
    fn send_from_argument_and_stdin() {
        let w = World::new();
        w.login("alex");
        let out = w.run("alex", &["send", "sam", "hello from the test"], None, &[]);
        assert_eq!(out.code, 0, "{out:?}");
        let id: i64 = out.stdout.trim().parse().unwrap_or_else(|_| panic!("{out:?}"));

        let out =
            w.run("alex", &["send", "sam", "--subject", "Two lines", "-"], Some("line one\nline two\n"), &[]);
        assert_eq!(out.code, 0, "{out:?}");
        let id2: i64 = out.stdout.trim().parse().unwrap();
        assert!(id2 > id);

        w.login("sam");
        let out = w.run("sam", &["read", "alex", "--json", "--limit", "2"], None, &[]);
        let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
        let msgs = v["messages"].as_array().unwrap();
        assert_eq!(msgs[0]["id"], id);
        assert_eq!(msgs[0]["content"], "hello from the test");
        assert_eq!(msgs[1]["content"], "line one\nline two");
        assert_eq!(msgs[1]["subject"], "Two lines");
    }

    #[test]
    fn patient_may_not_start_a_conversation_with_a_clinician() {
        let w = World::new();
        w.login("sam");
        let out = w.run("sam", &["send", "dr_morgan", "hello doctor"], None, &[]);
        assert_eq!(out.code, 4, "{out:?}");
        assert!(out.stderr.contains("Users may only reply to clinicians, not initiate contact"), "{out:?}");
        assert!(out.stdout.is_empty());
    }

    #[test]
    fn empty_message_is_a_usage_error() {
        let w = World::new();
        w.login("alex");
        let out = w.run("alex", &["send", "sam"], Some("  \n"), &[]);
        assert_eq!(out.code, 2, "{out:?}");
    }

    #[test]
    fn pet_plain_and_json() {
        let w = World::new();
        w.login("alex");
        let out = w.run("alex", &["pet"], None, &[]);
        assert_eq!(out.code, 0, "{out:?}");
        assert!(out.stdout.starts_with("Biscuit the Dog (Baby), 50 coins"), "{out:?}");
        let out = w.run("alex", &["pet", "--json"], None, &[]);
        let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
        assert_eq!(v["exists"], true);
        assert_eq!(v["pet"]["name"], "Biscuit");
        assert_eq!(v["pet"]["coins"], 50);
    }
}

mod session {
    use super::*;

    #[test]
    fn logout_removes_the_session_and_forget_the_data() {
        let w = World::new();
        w.login("alex");
        let account = healing_tui::store::account_dir(&w.data_dir("alex"), &w.url, "alex");
        std::fs::create_dir_all(&account).unwrap();
        std::fs::write(account.join("store.db"), b"x").unwrap();
        let out = w.run("alex", &["logout", "--forget"], None, &[]);
        assert_eq!(out.code, 0, "{out:?}");
        assert!(!w.session_file("alex").exists());
        assert!(!account.exists(), "--forget must delete {}", account.display());
        let out = w.run("alex", &["inbox"], None, &[]);
        assert_eq!(out.code, 3, "{out:?}");
        assert!(out.stderr.contains("not logged in"), "{out:?}");
    }

    #[test]
    fn logged_out_cookie_no_longer_works() {
        let w = World::new();
        w.login("alex");
        let saved = std::fs::read_to_string(w.session_file("alex")).unwrap();
        let out = w.run("alex", &["logout"], None, &[]);
        assert_eq!(out.code, 0, "{out:?}");
        // Put the old session back: the server must have ended it.
        healing_tui::model::private::write_private_atomic(&w.session_file("alex"), saved.as_bytes()).unwrap();
        let out = w.run("alex", &["inbox"], None, &[]);
        assert_eq!(out.code, 3, "{out:?}");
    }

    #[test]
    fn tampered_cookie_is_an_expired_session() {
        let w = World::new();
        w.login("alex");
        let mut s = session_json(&w, "alex");
        for c in s["cookies"].as_array_mut().unwrap() {
            c["value"] = serde_json::Value::String("tampered-value".into());
        }
        let text = serde_json::to_string(&s).unwrap();
        healing_tui::model::private::write_private_atomic(&w.session_file("alex"), text.as_bytes()).unwrap();
        let out = w.run("alex", &["inbox"], None, &[]);
        assert_eq!(out.code, 3, "{out:?}");
        assert!(out.stderr.contains("log in"), "{out:?}");
    }

    #[test]
    fn server_down_is_offline() {
        let mut w = World::new();
        w.login("alex");
        w.stop_server();
        let out = w.run("alex", &["inbox"], None, &[]);
        assert_eq!(out.code, 5, "{out:?}");
        assert!(out.stderr.contains("offline"), "{out:?}");
    }

    #[cfg(unix)]
    #[test]
    fn readable_session_file_is_refused_with_chmod_hint() {
        use std::os::unix::fs::PermissionsExt;
        let w = World::new();
        w.login("alex");
        let path = w.session_file("alex");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let out = w.run("alex", &["inbox"], None, &[]);
        assert_eq!(out.code, 7, "{out:?}");
        assert!(out.stderr.contains(&format!("chmod 600 {}", path.display())), "{out:?}");
    }

    #[test]
    fn bad_config_is_a_local_error_with_line() {
        let w = World::new();
        std::fs::create_dir_all(w.config_dir("alex")).unwrap();
        std::fs::write(w.config_dir("alex").join("config.toml"), "mouse = true\n[poll]\nactive_secs = -3\n")
            .unwrap();
        let out = w.run("alex", &["inbox"], None, &[]);
        assert_eq!(out.code, 7, "{out:?}");
        assert!(out.stderr.contains("config.toml:3:"), "{out:?}");
    }

    #[test]
    fn the_interactive_client_stops_on_a_bad_value_or_binding_with_file_line_col() {
        let w = World::new();
        std::fs::create_dir_all(w.config_dir("alex")).unwrap();
        let file = w.config_dir("alex").join("config.toml");
        let cases = [
            (
                "[keys]\n\"ctrl-o\" = \"open_editor\"\n\"x\" = \"explode\"\n",
                "config.toml:3:7: ",
                "unknown action",
            ),
            ("mouse = true\n[keys]\n\"hyper-x\" = \"quit\"\n", "config.toml:3:13: ", "unknown key"),
            ("[keys]\n\"s\" = \"send\"\n", "config.toml:2:7: ", "printable key cannot send"),
            ("[poll]\nactive_secs = -3\n", "config.toml:2:", "at least 1"),
        ];
        for (text, at, why) in cases {
            std::fs::write(&file, text).unwrap();
            // Before any terminal is needed: stdin is not one here.
            for args in [&[][..], &["demo"][..]] {
                let out = w.run("alex", args, None, &[]);
                assert_eq!(out.code, 7, "{args:?} {text:?}: {out:?}");
                assert!(out.stderr.contains(at) && out.stderr.contains(why), "{args:?} {text:?}: {out:?}");
            }
        }
    }

    #[test]
    fn session_for_another_server_is_not_used() {
        let w = World::new();
        w.login("alex");
        let out = w.run("alex", &["inbox", "--server", "http://127.0.0.1:9"], None, &[]);
        assert_eq!(out.code, 3, "{out:?}");
    }
}

mod production {
    use super::*;

    #[test]
    fn secure_cookie_goes_to_loopback_and_everything_works() {
        let w = World::with(|o| o.profile = Profile::Production);
        w.login("alex");
        let s = session_json(&w, "alex");
        assert_eq!(s["cookies"][0]["secure"], true, "the production profile marks the cookie Secure: {s}");
        let out = w.run("alex", &["inbox"], None, &[]);
        assert_eq!(out.code, 0, "{out:?}");
        assert!(out.stdout.contains("sam"), "{out:?}");
        let out = w.run("alex", &["send", "sam", "over the production profile"], None, &[]);
        assert_eq!(out.code, 0, "{out:?}");
        let out = w.run("alex", &["pet"], None, &[]);
        assert!(out.stdout.starts_with("Biscuit"), "{out:?}");
        let out = w.run("alex", &["logout"], None, &[]);
        assert_eq!(out.code, 0, "{out:?}");
        assert!(out.stderr.is_empty(), "logout needs the CSRF token and must succeed quietly: {out:?}");
    }

    /// A message deleted from this account (the TUI writes a tombstone in the
    /// account's store) stays out of `read`, though the production profile, like
    /// head, keeps listing it in the conversation.
    #[test]
    fn read_hides_a_message_deleted_here() {
        use healing_tui::api::{Client, ClientOptions};
        use healing_tui::model::types::LoginRequest;
        let w = World::with(|o| o.profile = Profile::Production);
        w.login("alex");
        let out = w.run("alex", &["send", "sam", "soon deleted"], None, &[]);
        assert_eq!(out.code, 0, "{out:?}");
        let client = Client::new(&w.url, &ClientOptions::default()).unwrap();
        let login = LoginRequest {
            username: "alex".into(),
            password: PASSWORD.into(),
            pin: PIN.into(),
            remember_me: None,
        };
        let id = w.rt.block_on(async {
            client.login(&login).await.unwrap();
            let id = client.sent().await.unwrap().messages[0].id;
            client.delete_message(id).await.unwrap();
            id
        });
        let out = w.run("alex", &["read", "sam"], None, &[]);
        assert!(out.stdout.contains("soon deleted"), "the server still lists it: {out:?}");
        // What the TUI's delete leaves behind: the tombstone.
        let opened = healing_tui::store::Store::open_account(
            &w.data_dir("alex"),
            client.server_url().as_str(),
            "alex",
        );
        opened.unwrap().store.apply_deleted(id).unwrap();
        let out = w.run("alex", &["read", "sam"], None, &[]);
        assert_eq!(out.code, 0, "{out:?}");
        assert!(!out.stdout.contains("soon deleted"), "deleted message came back: {out:?}");
        let out = w.run("alex", &["read", "sam", "--json"], None, &[]);
        assert!(!out.stdout.contains("soon deleted"), "{out:?}");
    }

    #[test]
    fn route_limit_page_is_a_refusal_with_its_text() {
        let w = World::with(|o| {
            o.profile = Profile::Production;
            o.route_limit = Some("2/h".parse::<RouteLimit>().unwrap());
        });
        w.login("alex");
        for _ in 0..2 {
            let out = w.run("alex", &["inbox"], None, &[]);
            assert_eq!(out.code, 0, "{out:?}");
        }
        let out = w.run("alex", &["inbox"], None, &[]);
        assert_eq!(out.code, 4, "{out:?}");
        assert!(out.stderr.contains("rate-limited"), "{out:?}");
    }

    #[test]
    fn stale_csrf_token_is_refreshed_once() {
        let w = World::new();
        w.login("alex");
        let mut s = session_json(&w, "alex");
        s["csrf_token"] = serde_json::Value::String("0".repeat(64));
        let text = serde_json::to_string(&s).unwrap();
        healing_tui::model::private::write_private_atomic(&w.session_file("alex"), text.as_bytes()).unwrap();
        let out = w.run("alex", &["send", "sam", "after a token refresh"], None, &[]);
        assert_eq!(out.code, 0, "{out:?}");
        let fresh = session_json(&w, "alex")["csrf_token"].as_str().unwrap().to_string();
        assert_ne!(fresh, "0".repeat(64), "the refreshed token is saved");
    }
}

mod logs {
    use super::*;

    /// True when `needle` occurs in `hay` not as part of a longer number.
    fn contains_standalone_number(hay: &str, needle: &str) -> bool {
        hay.match_indices(needle).any(|(i, _)| {
            let before = hay[..i].chars().next_back();
            let after = hay[i + needle.len()..].chars().next();
            !before.is_some_and(|c| c.is_ascii_digit()) && !after.is_some_and(|c| c.is_ascii_digit())
        })
    }

    #[test]
    fn debug_log_of_a_whole_session_holds_no_secrets() {
        let w = World::new();
        let debug = [("RUST_LOG", "trace")];
        let mut secrets: Vec<String> = vec![PASSWORD.to_string()];
        let remember = |w: &World, secrets: &mut Vec<String>| {
            let s = session_json(w, "alex");
            for c in s["cookies"].as_array().unwrap() {
                secrets.push(c["value"].as_str().unwrap().to_string());
            }
            secrets.push(s["csrf_token"].as_str().unwrap().to_string());
        };
        assert_eq!(w.login_as("alex", &debug).code, 0);
        remember(&w, &mut secrets);
        for args in [&["inbox"][..], &["read", "sam"], &["send", "sam", "secret-free hello"], &["pet"]] {
            let out = w.run("alex", args, None, &debug);
            assert_eq!(out.code, 0, "{args:?}: {out:?}");
            remember(&w, &mut secrets);
        }
        assert_eq!(w.run("alex", &["logout"], None, &debug).code, 0);

        let logs = w.data_dir("alex").join("logs");
        let mut all = String::new();
        for entry in std::fs::read_dir(&logs).unwrap() {
            all.push_str(&std::fs::read_to_string(entry.unwrap().path()).unwrap());
        }
        assert!(
            all.contains("logged in") && all.contains("status=200"),
            "the log should record the session:\n{all}"
        );
        for secret in &secrets {
            assert!(secret.len() >= 8, "secret too short to check");
            assert!(!all.contains(secret.as_str()), "a secret leaked into the log:\n{all}");
        }
        assert!(!contains_standalone_number(&all, PIN), "the PIN leaked into the log:\n{all}");
        assert!(!all.contains("secret-free hello"), "message bodies stay out of the log");
    }
}

/// Shell completions and the man page come from the clap definitions, for every subcommand.
mod generated_docs {
    use super::*;
    use clap::CommandFactory;

    fn run_plain(args: &[&str]) -> Out {
        let out = Command::new(BIN).args(args).stdin(Stdio::null()).output().unwrap();
        Out {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    fn subcommands() -> Vec<String> {
        let names: Vec<String> =
            healing_tui::cli::Cli::command().get_subcommands().map(|s| s.get_name().to_owned()).collect();
        assert!(names.len() >= 10 && names.iter().any(|n| n == "serve"), "{names:?}");
        names
    }

    #[test]
    fn completions_for_every_shell_mention_every_subcommand() {
        for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
            let out = run_plain(&["completions", shell]);
            assert_eq!(out.code, 0, "{shell}: {out:?}");
            assert!(out.stdout.len() > 1000, "{shell}: too short: {out:?}");
            for name in subcommands() {
                assert!(out.stdout.contains(&name), "{shell} completion lacks {name}");
            }
            // Options of a subcommand are completed too.
            assert!(out.stdout.contains("password-stdin"), "{shell}: no login options");
        }
        let out = run_plain(&["completions", "tcsh"]);
        assert_eq!(out.code, 2, "an unknown shell is a usage error: {out:?}");
    }

    #[test]
    fn man_page_is_roff_and_mentions_every_subcommand() {
        let out = run_plain(&["man"]);
        assert_eq!(out.code, 0, "{out:?}");
        assert!(out.stdout.contains(".TH healing-tui 1"), "{}", out.stdout);
        assert!(out.stdout.contains(".SH SUBCOMMANDS"), "{}", out.stdout);
        assert!(out.stdout.contains("\\-\\-config\\-dir"), "global options documented");
        for name in subcommands() {
            let page = format!("healing\\-tui\\-{name}(1)");
            assert!(out.stdout.contains(&page), "man page lacks {name}");
        }

        // `--dir` writes the pages the main page refers to, one per subcommand.
        let dir = tempfile::tempdir().unwrap();
        let out = run_plain(&["man", "--dir", dir.path().to_str().unwrap()]);
        assert_eq!(out.code, 0, "{out:?}");
        for name in subcommands() {
            let page = std::fs::read_to_string(dir.path().join(format!("healing-tui-{name}.1"))).unwrap();
            assert!(page.contains(".TH healing-tui-"), "{name}: {page}");
        }
        let login = std::fs::read_to_string(dir.path().join("healing-tui-login.1")).unwrap();
        assert!(login.contains("password\\-stdin"), "{login}");
        assert!(dir.path().join("healing-tui.1").exists());
    }
}
