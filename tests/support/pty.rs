//! The real binary in a real pseudo-terminal: keys in, every output byte recorded and
//! fed to a terminal model (`vt100`) so tests can read the screen as a person would.

use std::io::{Read, Write};
use std::num::NonZeroU16;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{native_pty_system, Child, CommandBuilder, MasterPty, PtySize};

/// The client's arguments for `server` with its own config and data directories.
pub fn client_args(server: &str, config: &std::path::Path, data: &std::path::Path) -> Vec<String> {
    [
        "--server",
        server,
        "--config-dir",
        &config.display().to_string(),
        "--data-dir",
        &data.display().to_string(),
    ]
    .map(str::to_owned)
    .to_vec()
}

/// Borrow owned arguments as the `&[&str]` that [`PtySession::spawn`] takes.
pub fn as_strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

/// Output recorded so far, and the terminal model it drew.
struct Recorded {
    bytes: Vec<u8>,
    screen: vt100::Parser,
}

/// A child process on a pty of fixed size.
pub struct PtySession {
    child: Box<dyn Child + Send + Sync>,
    _master: Box<dyn MasterPty + Send>,
    writer: Box<dyn Write + Send>,
    recorded: Arc<Mutex<Recorded>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

fn nz(n: u16) -> NonZeroU16 {
    NonZeroU16::new(n.max(1)).unwrap_or(NonZeroU16::MIN)
}

impl PtySession {
    /// Start `program args…` with `env` on a `cols`×`rows` pty (TERM=xterm-256color).
    pub fn spawn(program: &str, args: &[&str], env: &[(&str, String)], cols: u16, rows: u16) -> PtySession {
        let pty = native_pty_system()
            .openpty(PtySize { rows, cols, pixel_width: 0, pixel_height: 0 })
            .expect("openpty");
        let mut cmd = CommandBuilder::new(program);
        cmd.args(args);
        cmd.env("TERM", "xterm-256color");
        cmd.env_remove("NO_COLOR");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = pty.slave.spawn_command(cmd).expect("spawn in pty");
        drop(pty.slave);
        let mut reader = pty.master.try_clone_reader().expect("pty reader");
        let writer = pty.master.take_writer().expect("pty writer");
        let recorded = Arc::new(Mutex::new(Recorded {
            bytes: Vec::new(),
            screen: vt100::Parser::new(nz(rows), nz(cols), 0),
        }));
        let sink = Arc::clone(&recorded);
        let reader = std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            loop {
                match reader.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        let mut rec = sink.lock().expect("recorder lock");
                        rec.bytes.extend_from_slice(&buf[..n]);
                        rec.screen.process(&buf[..n]);
                    }
                }
            }
        });
        PtySession { child, _master: pty.master, writer, recorded, reader: Some(reader) }
    }

    /// Type `keys` (raw bytes, e.g. `b"\r"` for Enter, `b"\x1b"` for Esc).
    pub fn send(&mut self, keys: &[u8]) {
        self.writer.write_all(keys).expect("write to pty");
        self.writer.flush().expect("flush pty");
    }

    /// Press `keys` one after another, as a person types: each key's result lands
    /// before the next.
    pub fn keys(&mut self, keys: &[&[u8]]) {
        for k in keys {
            self.send(k);
            std::thread::sleep(Duration::from_millis(40));
        }
    }

    /// Fill in the login form as `user` with the demo password and PIN, ticking
    /// remember-me when asked, and submit it.
    pub fn log_in_on_form(&mut self, user: &str, remember: bool, timeout: Duration) {
        self.wait_for("log in", timeout);
        self.type_text(user);
        self.keys(&[b"\t"]);
        self.type_text("healing-demo");
        self.keys(&[b"\t"]);
        self.type_text("1234");
        if remember {
            self.keys(&[b"\t", b" "]);
        }
        self.keys(&[b"\r"]);
    }

    /// Run a `:` command: open the command line, type `cmd`, wait until the screen
    /// shows it (so no key lands in a half-changed screen on a slow machine), Enter.
    pub fn run_command(&mut self, cmd: &str, timeout: Duration) {
        self.keys(&[b":"]);
        self.type_text(cmd);
        self.wait_for(cmd, timeout);
        self.keys(&[b"\r"]);
    }

    /// Type text one character at a time, as a person would.
    pub fn type_text(&mut self, text: &str) {
        for c in text.chars() {
            let mut buf = [0u8; 4];
            self.send(c.encode_utf8(&mut buf).as_bytes());
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// The screen as text, rows joined by newlines.
    pub fn screen_text(&self) -> String {
        self.recorded.lock().expect("recorder lock").screen.screen().contents()
    }

    /// Bytes written to the terminal so far.
    pub fn byte_count(&self) -> usize {
        self.recorded.lock().expect("recorder lock").bytes.len()
    }

    /// A copy of every byte written so far.
    pub fn bytes(&self) -> Vec<u8> {
        self.recorded.lock().expect("recorder lock").bytes.clone()
    }

    /// Wait until the screen shows `needle`; panics with the screen after `timeout`.
    pub fn wait_for(&self, needle: &str, timeout: Duration) {
        let end = Instant::now() + timeout;
        loop {
            let text = self.screen_text();
            if text.contains(needle) {
                return;
            }
            if Instant::now() > end {
                panic!("timed out waiting for {needle:?}; screen:\n{text}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Wait until the output has been quiet for `quiet` (at most `timeout`).
    pub fn wait_quiet(&self, quiet: Duration, timeout: Duration) {
        let end = Instant::now() + timeout;
        let mut last = self.byte_count();
        let mut since = Instant::now();
        while Instant::now() < end {
            std::thread::sleep(Duration::from_millis(50));
            let now = self.byte_count();
            if now != last {
                last = now;
                since = Instant::now();
            } else if since.elapsed() >= quiet {
                return;
            }
        }
    }

    /// Whether the child has exited.
    pub fn exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }

    /// Wait up to `timeout` for the child to exit; true if it did.
    pub fn wait_exit(&mut self, timeout: Duration) -> bool {
        let end = Instant::now() + timeout;
        while Instant::now() < end {
            if self.exited() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }
}

impl Drop for PtySession {
    fn drop(&mut self) {
        if !self.exited() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        if let Some(reader) = self.reader.take() {
            // The reader ends when the pty closes; don't hang a failing test on it.
            let _ = reader.is_finished();
        }
    }
}
