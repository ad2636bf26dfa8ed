//! The real binary in a tmux pane, for what a pty session cannot do: make the terminal
//! vanish under the client (killing the tmux server closes the pane's pty, and the
//! client gets SIGHUP with a terminal that answers EIO), as a dropped SSH link does.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// A private tmux server (its own socket) running one command in one pane.
pub struct TmuxPane {
    socket: PathBuf,
}

/// `s` quoted for `sh`.
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

impl TmuxPane {
    /// Start `program args…` in a `cols`×`rows` pane; its stderr goes to `stderr_file`.
    pub fn spawn(
        dir: &Path,
        program: &str,
        args: &[&str],
        stderr_file: &Path,
        cols: u16,
        rows: u16,
    ) -> TmuxPane {
        let socket = dir.join("tmux.sock");
        let mut line = format!("exec {}", quote(program));
        for a in args {
            line.push(' ');
            line.push_str(&quote(a));
        }
        line.push_str(&format!(" 2>{}", quote(&stderr_file.display().to_string())));
        let pane = TmuxPane { socket };
        let ok = pane
            .tmux()
            .args(["new-session", "-d", "-s", "t", "-x", &cols.to_string(), "-y", &rows.to_string()])
            .args(["env", "TERM=xterm-256color", "sh", "-c", &line])
            .status()
            .expect("run tmux")
            .success();
        assert!(ok, "tmux new-session failed");
        pane
    }

    fn tmux(&self) -> Command {
        let mut c = Command::new("tmux");
        c.arg("-S").arg(&self.socket).args(["-f", "/dev/null"]);
        c.env_remove("TMUX");
        c
    }

    /// Type `text` literally.
    pub fn type_text(&self, text: &str) {
        for c in text.chars() {
            let _ = self.tmux().args(["send-keys", "-t", "t", "-l", &c.to_string()]).status();
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Press a key by tmux's name for it (`Enter`, `Escape`).
    pub fn key(&self, name: &str) {
        let _ = self.tmux().args(["send-keys", "-t", "t", name]).status();
        std::thread::sleep(Duration::from_millis(50));
    }

    /// The pane as text.
    pub fn screen(&self) -> String {
        self.tmux()
            .args(["capture-pane", "-p", "-t", "t"])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default()
    }

    /// Wait until the pane shows `needle`; panics with the screen after `timeout`.
    pub fn wait_for(&self, needle: &str, timeout: Duration) {
        let end = Instant::now() + timeout;
        loop {
            let text = self.screen();
            if text.contains(needle) {
                return;
            }
            assert!(Instant::now() < end, "timed out waiting for {needle:?}; screen:\n{text}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The process id of the command in the pane.
    pub fn pid(&self) -> u32 {
        let out = self.tmux().args(["list-panes", "-t", "t", "-F", "#{pane_pid}"]).output().expect("tmux");
        String::from_utf8_lossy(&out.stdout).trim().parse().expect("a pane pid")
    }

    /// Kill the tmux server: the pane's terminal is gone from under its process.
    pub fn vanish(&self) {
        let _ = self.tmux().arg("kill-server").status();
    }
}

impl Drop for TmuxPane {
    fn drop(&mut self) {
        self.vanish();
    }
}

/// Wait up to `timeout` for process `pid` to end (a zombie counts as ended).
pub fn wait_gone(pid: u32, timeout: Duration) -> bool {
    let end = Instant::now() + timeout;
    while Instant::now() < end {
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Err(_) => return true,
            // The state follows the command name in parentheses.
            Ok(stat) if stat.rsplit(')').next().is_some_and(|rest| rest.trim_start().starts_with('Z')) => {
                return true
            }
            Ok(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
    false
}
