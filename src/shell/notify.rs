//! Notifications for news the user cannot see: the terminal bell, a desktop notification
//! by escape sequence (OSC 777 or OSC 9), and the unread count in the window title.
//!
//! Pure: it decides the exact bytes; the caller writes them to the terminal (between
//! frames, never inside one). Privacy first (issue 5): the text is "New message from
//! NAME" and carries the message itself only when the user opted in, because screens are
//! seen by others. Every outside string goes through [`sanitize_line`] and the field
//! separators of the escape sequences are neutralised, so a hostile name or message
//! cannot end the sequence early and inject its own.

use crate::model::sanitize::sanitize_line;
use crate::model::types::Message;

/// How to raise a desktop notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Desktop {
    /// None (the default).
    #[default]
    Off,
    /// `OSC 777 ; notify ; TITLE ; BODY ST` (urxvt, foot, Ghostty, WezTerm, kitty).
    Osc777,
    /// `OSC 9 ; TEXT BEL` (iTerm2, Windows Terminal, ConEmu).
    Osc9,
}

/// What to do on news, from `config.toml` `[notify]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotifyConfig {
    /// Ring the terminal bell (on by default).
    pub bell: bool,
    /// Desktop notification (off by default).
    pub desktop: Desktop,
    /// Put the message text in the notification (off by default: others see screens).
    pub show_content: bool,
    /// Show the unread count in the window title (off by default).
    pub title_unread: bool,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        NotifyConfig { bell: true, desktop: Desktop::Off, show_content: false, title_unread: false }
    }
}

impl Desktop {
    /// The sequence this terminal understands: OSC 9 for iTerm2 and Windows Terminal,
    /// OSC 777 for the rest (foot, urxvt, Ghostty, WezTerm, kitty; ignored elsewhere).
    pub fn for_terminal(term_program: Option<&str>, windows_terminal: bool) -> Desktop {
        if windows_terminal || term_program == Some("iTerm.app") {
            Desktop::Osc9
        } else {
            Desktop::Osc777
        }
    }
}

impl NotifyConfig {
    /// From `config.toml` `[notify]`, with the desktop sequence for this terminal
    /// (see [`Desktop::for_terminal`]) when desktop notifications are on.
    pub fn from_config(c: &crate::config::NotifyConfig, terminal: Desktop) -> NotifyConfig {
        NotifyConfig {
            bell: c.bell,
            desktop: if c.desktop { terminal } else { Desktop::Off },
            show_content: c.show_content,
            title_unread: c.title_unread,
        }
    }
}

/// Characters of message text shown when `show_content` is on.
pub const CONTENT_CHARS: usize = 80;
/// Characters of a sender's name shown.
const NAME_CHARS: usize = 40;

const BEL: &str = "\u{7}";
const ST: &str = "\u{1b}\\";

/// The bytes to write for `message`, which just arrived for `me`. Nothing for one's own
/// messages or when its conversation is on screen (the user sees it already).
pub fn on_new_message(config: &NotifyConfig, me: &str, message: &Message, on_screen: bool) -> Vec<u8> {
    if on_screen || message.sender == me {
        return Vec::new();
    }
    let name = truncate(&field(&message.sender), NAME_CHARS);
    let name = if name.is_empty() { "someone".to_string() } else { name };
    let title = format!("New message from {name}");
    let body = config.show_content.then(|| truncate(&field(&message.content), CONTENT_CHARS));
    let mut out = String::new();
    if config.bell {
        out.push_str(BEL);
    }
    match config.desktop {
        Desktop::Off => {}
        Desktop::Osc777 => {
            let body = body.unwrap_or_default();
            out.push_str(&format!("\u{1b}]777;notify;{title};{body}{ST}"));
        }
        Desktop::Osc9 => {
            let text = match body {
                Some(b) if !b.is_empty() => format!("{title}: {b}"),
                _ => title,
            };
            out.push_str(&format!("\u{1b}]9;{text}{BEL}"));
        }
    }
    out.into_bytes()
}

/// The window title carrying the unread count (`OSC 2`), or nothing when the option is
/// off. `app` is our own name, not outside text, but is cleaned all the same.
pub fn title(config: &NotifyConfig, app: &str, unread: u32) -> Vec<u8> {
    if !config.title_unread {
        return Vec::new();
    }
    let app = field(app);
    let text = if unread == 0 { app } else { format!("({unread}) {app}") };
    format!("\u{1b}]2;{text}{BEL}").into_bytes()
}

/// Outside text made safe inside an OSC payload: no controls or escapes (the sanitizer),
/// and no `;`, which separates OSC 777's fields.
fn field(text: &str) -> String {
    sanitize_line(text).replace(';', ",").trim().to_string()
}

/// At most `max` columns, with `…` when cut: a notification has room for a line.
fn truncate(text: &str, max: usize) -> String {
    crate::model::text::truncate(text, max, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(sender: &str, content: &str) -> Message {
        Message {
            id: 1,
            sender: sender.to_string(),
            recipient: "sam".to_string(),
            content: content.to_string(),
            ..Message::default()
        }
    }

    fn text(bytes: Vec<u8>) -> String {
        String::from_utf8(bytes).unwrap_or_default()
    }

    #[test]
    fn bell_only_by_default_and_no_content() {
        let out = on_new_message(&NotifyConfig::default(), "sam", &msg("alex", "my secret"), false);
        assert_eq!(out, b"\x07");
    }

    #[test]
    fn nothing_when_on_screen_or_own_message() {
        let all = NotifyConfig { desktop: Desktop::Osc777, title_unread: true, ..NotifyConfig::default() };
        assert!(on_new_message(&all, "sam", &msg("alex", "hi"), true).is_empty());
        assert!(on_new_message(&all, "alex", &msg("alex", "hi"), false).is_empty());
        let quiet = NotifyConfig { bell: false, ..NotifyConfig::default() };
        assert!(on_new_message(&quiet, "sam", &msg("alex", "hi"), false).is_empty());
    }

    #[test]
    fn desktop_sequences_exact() {
        let c777 = NotifyConfig { bell: false, desktop: Desktop::Osc777, ..NotifyConfig::default() };
        assert_eq!(
            text(on_new_message(&c777, "sam", &msg("alex", "secret"), false)),
            "\x1b]777;notify;New message from alex;\x1b\\"
        );
        let c9 = NotifyConfig { desktop: Desktop::Osc9, ..NotifyConfig::default() };
        assert_eq!(
            text(on_new_message(&c9, "sam", &msg("alex", "secret"), false)),
            "\x07\x1b]9;New message from alex\x07"
        );
    }

    #[test]
    fn content_only_when_opted_in_and_truncated() {
        let long = "x".repeat(200);
        let c = NotifyConfig { bell: false, desktop: Desktop::Osc9, show_content: true, title_unread: false };
        let out = text(on_new_message(&c, "sam", &msg("alex", &long), false));
        let expected = format!("\x1b]9;New message from alex: {}…\x07", "x".repeat(CONTENT_CHARS - 1));
        assert_eq!(out, expected);
        let c = NotifyConfig { desktop: Desktop::Osc777, ..c };
        assert_eq!(
            text(on_new_message(&c, "sam", &msg("alex", "see you; at 5\nok"), false)),
            "\x1b]777;notify;New message from alex;see you, at 5 ok\x1b\\"
        );
    }

    #[test]
    fn hostile_names_and_content_cannot_inject() {
        let hostile = [
            "\x1b]2;pwned\x07evil",
            "evil\x07\x1b\\\x1b[2J",
            "\u{9d}2;pwned\u{9c}evil",
            "\u{9b}31mevil",
            "ev\u{202e}il;notify;fake",
            "\x1b",
        ];
        for desktop in [Desktop::Off, Desktop::Osc777, Desktop::Osc9] {
            let c = NotifyConfig { bell: true, desktop, show_content: true, title_unread: true };
            for name in hostile {
                for content in hostile {
                    let out = text(on_new_message(&c, "sam", &msg(name, content), false));
                    let (esc, bel) = (out.matches('\x1b').count(), out.matches('\x07').count());
                    let want = match desktop {
                        Desktop::Off => (0, 1),
                        Desktop::Osc777 => (2, 1),
                        Desktop::Osc9 => (1, 2),
                    };
                    assert_eq!((esc, bel), want, "{out:?}");
                    assert!(!out.chars().any(|ch| ('\u{80}'..='\u{9f}').contains(&ch)), "{out:?}");
                    assert!(!out.contains('\u{202e}'), "{out:?}");
                    if desktop == Desktop::Osc777 {
                        assert_eq!(out.matches(';').count(), 3, "fields stay three: {out:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn defaults_match_the_config_file_defaults() {
        let from_file = NotifyConfig::from_config(&crate::config::NotifyConfig::default(), Desktop::Osc9);
        assert_eq!(from_file, NotifyConfig::default());
        let on = crate::config::NotifyConfig { desktop: true, ..Default::default() };
        assert_eq!(NotifyConfig::from_config(&on, Desktop::Osc9).desktop, Desktop::Osc9);
        assert_eq!(Desktop::for_terminal(Some("iTerm.app"), false), Desktop::Osc9);
        assert_eq!(Desktop::for_terminal(None, true), Desktop::Osc9);
        assert_eq!(Desktop::for_terminal(Some("foot"), false), Desktop::Osc777);
    }

    #[test]
    fn title_carries_count_only_when_enabled() {
        assert!(title(&NotifyConfig::default(), "healing-tui", 3).is_empty());
        let c = NotifyConfig { title_unread: true, ..NotifyConfig::default() };
        assert_eq!(text(title(&c, "healing-tui", 3)), "\x1b]2;(3) healing-tui\x07");
        assert_eq!(text(title(&c, "healing-tui", 0)), "\x1b]2;healing-tui\x07");
        assert_eq!(text(title(&c, "a\x07\x1b]0;b", 1)), "\x1b]2;(1) a\x07");
    }
}
