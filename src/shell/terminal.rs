//! The real terminal: raw mode and the alternate screen on the way in, one restore
//! function on every way out (normal exit, panic, SIGTERM/SIGHUP), and handing the
//! terminal to `$EDITOR` and back.

use std::io::{self, Write};
use std::sync::Once;

use crossterm::cursor::{Hide, Show};
use crossterm::event::{DisableBracketedPaste, EnableBracketedPaste};
use crossterm::execute;
use crossterm::terminal::{disable_raw_mode, enable_raw_mode, EnterAlternateScreen, LeaveAlternateScreen};

/// Raw mode, alternate screen, cursor hidden (once: frames never show it), and
/// bracketed paste so a pasted newline is text, not Enter.
pub fn enter() -> io::Result<()> {
    enable_raw_mode()?;
    execute!(io::stdout(), EnterAlternateScreen, Hide, EnableBracketedPaste)
}

/// Back to a normal terminal. Safe to call more than once and from a panic.
pub fn restore() {
    let _ = disable_raw_mode();
    let mut out = io::stdout();
    let _ = execute!(out, DisableBracketedPaste, LeaveAlternateScreen, Show);
    let _ = out.flush();
}

/// Restore the terminal before the default panic message prints. Installed before
/// raw mode is entered, so there is no moment when a panic leaves the terminal raw.
pub fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore();
            previous(info);
        }));
    });
}

/// Resolves on SIGTERM or SIGHUP (an SSH link dropping), or never if they cannot be
/// watched.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match (signal(SignalKind::terminate()), signal(SignalKind::hangup())) {
            (Ok(mut term), Ok(mut hup)) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = hup.recv() => {}
                }
            }
            _ => std::future::pending().await,
        }
    }
    #[cfg(not(unix))]
    std::future::pending::<()>().await
}

/// Edit `text` in `$VISUAL`/`$EDITOR` (default `vi`) with the terminal handed over;
/// `None` when the editor could not run or exited with an error.
pub async fn edit_in_editor(text: String) -> Option<String> {
    let file = tempfile::Builder::new().prefix("healing-tui-").suffix(".txt").tempfile().ok()?;
    std::fs::write(file.path(), text.as_bytes()).ok()?;
    // An empty variable counts as unset (`VISUAL=` must not hide `EDITOR`).
    let set = |name: &str| std::env::var(name).ok().filter(|e| !e.trim().is_empty());
    let editor = set("VISUAL").or_else(|| set("EDITOR")).unwrap_or_else(|| "vi".to_owned());
    restore();
    // Through the shell so EDITOR may carry arguments ("code --wait").
    let status = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(format!("{editor} \"$1\""))
        .arg("sh")
        .arg(file.path())
        .status()
        .await;
    if let Err(e) = enter() {
        tracing::warn!(error = %e, "could not take the terminal back after the editor");
    }
    match status {
        Ok(s) if s.success() => std::fs::read_to_string(file.path()).ok(),
        Ok(s) => {
            tracing::info!(code = ?s.code(), "editor exited with an error; draft unchanged");
            None
        }
        Err(e) => {
            tracing::warn!(error = %e, "could not run the editor");
            None
        }
    }
}
