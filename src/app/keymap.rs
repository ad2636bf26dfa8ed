//! Keys and the keymap: one table from key to [`Action`], built from defaults plus the
//! `[keys]` overrides in `config.toml`. The help overlay and the hint bar read the same
//! table, so they always tell the truth about the keys.

use std::collections::BTreeMap;
use std::fmt;

use crate::app::action::Action;

/// A key, independent of the terminal library.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyCode {
    /// A printable character (shifted letters arrive upper-case).
    Char(char),
    /// Enter / Return.
    Enter,
    /// Escape.
    Esc,
    /// Tab.
    Tab,
    /// Shift-Tab.
    BackTab,
    /// Backspace.
    Backspace,
    /// Delete.
    Delete,
    /// Arrow up.
    Up,
    /// Arrow down.
    Down,
    /// Arrow left.
    Left,
    /// Arrow right.
    Right,
    /// Home.
    Home,
    /// End.
    End,
    /// Page up.
    PageUp,
    /// Page down.
    PageDown,
    /// A function key.
    F(u8),
}

/// A key with its modifiers. Shift is folded into the character for printable keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    /// Which key.
    pub code: KeyCode,
    /// Control held.
    pub ctrl: bool,
    /// Alt (Meta) held.
    pub alt: bool,
}

impl Key {
    /// A key without modifiers.
    pub const fn plain(code: KeyCode) -> Key {
        Key { code, ctrl: false, alt: false }
    }

    /// A plain character key.
    pub const fn ch(c: char) -> Key {
        Key::plain(KeyCode::Char(c))
    }

    /// Control plus a character.
    pub const fn ctrl(c: char) -> Key {
        Key { code: KeyCode::Char(c), ctrl: true, alt: false }
    }

    /// The character this key types into a text field, if any.
    pub fn typed_char(&self) -> Option<char> {
        match self.code {
            KeyCode::Char(c) if !self.ctrl && !self.alt => Some(c),
            _ => None,
        }
    }

    /// Parse a config key string: `"j"`, `"G"`, `"?"`, `"ctrl-e"`, `"alt-enter"`,
    /// `"shift-tab"`, `"pgup"`, `"f1"`, `"space"`.
    pub fn parse(text: &str) -> Option<Key> {
        let text = text.trim();
        let mut ctrl = false;
        let mut alt = false;
        let mut shift = false;
        let mut rest = text;
        loop {
            let lower = rest.to_ascii_lowercase();
            if rest.chars().count() > 1 {
                if let Some(r) = ["ctrl-", "c-", "control-"].iter().find_map(|p| lower.strip_prefix(p)) {
                    ctrl = true;
                    rest = &rest[rest.len() - r.len()..];
                    continue;
                }
                if let Some(r) = ["alt-", "a-", "m-", "meta-"].iter().find_map(|p| lower.strip_prefix(p)) {
                    alt = true;
                    rest = &rest[rest.len() - r.len()..];
                    continue;
                }
                if let Some(r) = lower.strip_prefix("shift-") {
                    shift = true;
                    rest = &rest[rest.len() - r.len()..];
                    continue;
                }
            }
            break;
        }
        let mut chars = rest.chars();
        let code = match (chars.next(), chars.next()) {
            (Some(c), None) => {
                let c = if ctrl { c.to_ascii_lowercase() } else { c };
                KeyCode::Char(if shift { c.to_ascii_uppercase() } else { c })
            }
            _ => match rest.to_ascii_lowercase().as_str() {
                "enter" | "return" | "cr" => KeyCode::Enter,
                "esc" | "escape" => KeyCode::Esc,
                "tab" if shift => KeyCode::BackTab,
                "tab" => KeyCode::Tab,
                "backtab" => KeyCode::BackTab,
                "backspace" | "bs" => KeyCode::Backspace,
                "delete" | "del" => KeyCode::Delete,
                "up" => KeyCode::Up,
                "down" => KeyCode::Down,
                "left" => KeyCode::Left,
                "right" => KeyCode::Right,
                "home" => KeyCode::Home,
                "end" => KeyCode::End,
                "pgup" | "pageup" => KeyCode::PageUp,
                "pgdn" | "pgdown" | "pagedown" => KeyCode::PageDown,
                "space" => KeyCode::Char(' '),
                f if f.starts_with('f') => KeyCode::F(f[1..].parse().ok().filter(|n| (1..=24).contains(n))?),
                _ => return None,
            },
        };
        Some(Key { code, ctrl, alt })
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ctrl {
            f.write_str("ctrl-")?;
        }
        if self.alt {
            f.write_str("alt-")?;
        }
        match self.code {
            KeyCode::Char(' ') => f.write_str("space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::Enter => f.write_str("enter"),
            KeyCode::Esc => f.write_str("esc"),
            KeyCode::Tab => f.write_str("tab"),
            KeyCode::BackTab => f.write_str("shift-tab"),
            KeyCode::Backspace => f.write_str("backspace"),
            KeyCode::Delete => f.write_str("del"),
            KeyCode::Up => f.write_str("up"),
            KeyCode::Down => f.write_str("down"),
            KeyCode::Left => f.write_str("left"),
            KeyCode::Right => f.write_str("right"),
            KeyCode::Home => f.write_str("home"),
            KeyCode::End => f.write_str("end"),
            KeyCode::PageUp => f.write_str("pgup"),
            KeyCode::PageDown => f.write_str("pgdn"),
            KeyCode::F(n) => write!(f, "f{n}"),
        }
    }
}

/// Where a binding applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Context {
    /// Moving around panes (nothing being typed).
    Normal,
    /// Typing in the compose box.
    Compose,
    /// Everywhere, including while typing.
    Global,
}

impl Context {
    /// Heading in the help overlay.
    pub fn title(self) -> &'static str {
        match self {
            Context::Normal => "Browsing",
            Context::Compose => "Composing",
            Context::Global => "Anywhere",
        }
    }
}

/// One row of the table.
#[derive(Debug, Clone, PartialEq)]
pub struct Binding {
    /// The key.
    pub key: Key,
    /// What it does.
    pub action: Action,
    /// Where it applies.
    pub context: Context,
}

/// A `[keys]` entry that cannot be used: the key as written, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadBinding {
    /// The entry's key, as written in `config.toml`.
    pub key: String,
    /// What is wrong, for people.
    pub reason: String,
}

/// The key table.
#[derive(Debug, Clone, PartialEq)]
pub struct Keymap {
    bindings: Vec<Binding>,
}

fn defaults() -> Vec<Binding> {
    use Action as A;
    use Context::{Compose, Global, Normal};
    use KeyCode as K;
    let k = Key::plain;
    let c = Key::ch;
    [
        (c('q'), A::Quit, Normal),
        (Key::ctrl('c'), A::Quit, Global),
        (c('?'), A::Help, Normal),
        (k(K::Tab), A::NextPane, Global),
        (k(K::BackTab), A::PrevPane, Global),
        (c('k'), A::Up, Normal),
        (k(K::Up), A::Up, Normal),
        (c('j'), A::Down, Normal),
        (k(K::Down), A::Down, Normal),
        (k(K::PageUp), A::PageUp, Global),
        (k(K::PageDown), A::PageDown, Global),
        (c('g'), A::Top, Normal),
        (c('G'), A::Bottom, Normal),
        (k(K::Enter), A::Open, Normal),
        (c('i'), A::Compose, Normal),
        (c('c'), A::NewConversation, Normal),
        (c('d'), A::Delete, Normal),
        (c('e'), A::EditFailed, Normal),
        (c('D'), A::DiscardFailed, Normal),
        // A confirmation's own `y` comes first: dialogs take keys before the keymap.
        (c('y'), A::Copy, Normal),
        (c('r'), A::Refresh, Normal),
        (c('R'), A::Reconnect, Normal),
        (c('u'), A::ToggleUnread, Normal),
        (c('s'), A::ToggleSort, Normal),
        (c('/'), A::Filter, Normal),
        (c(':'), A::CommandLine, Normal),
        (c('p'), A::TogglePet, Normal),
        (c('f'), A::Feed, Normal),
        (c('n'), A::NewPet, Normal),
        (k(K::Esc), A::Cancel, Global),
        (k(K::Enter), A::Send, Compose),
        (Key { code: K::Enter, ctrl: false, alt: true }, A::Newline, Compose),
        (Key::ctrl('j'), A::Newline, Compose),
        (Key::ctrl('e'), A::OpenEditor, Compose),
        (Key::ctrl('t'), A::Snippet, Compose),
    ]
    .into_iter()
    .map(|(key, action, context)| Binding { key, action, context })
    .collect()
}

impl Default for Keymap {
    fn default() -> Self {
        Keymap { bindings: defaults() }
    }
}

impl Keymap {
    /// Defaults plus overrides (`"ctrl-e" = "open_editor"`; `"none"` unbinds a key).
    /// An entry that cannot be used stops here (the caller stops start-up with its
    /// place in the file); the notes say what a binding does differently from what
    /// one might expect (a printable key acts outside the compose box only).
    pub fn with_overrides(overrides: &BTreeMap<String, String>) -> Result<(Keymap, Vec<String>), BadBinding> {
        let mut map = Keymap::default();
        let mut notes = Vec::new();
        for (key_text, action_text) in overrides {
            let bad = |reason: String| BadBinding { key: key_text.clone(), reason };
            let shown = crate::model::sanitize::sanitize_line(key_text);
            let Some(key) = Key::parse(key_text) else {
                return Err(bad(format!(
                    "[keys] unknown key {shown:?} (e.g. \"ctrl-o\", \"alt-x\", \"f2\", \"G\")"
                )));
            };
            if matches!(action_text.trim(), "" | "none") {
                map.bindings.retain(|b| b.key != key);
                continue;
            }
            let Some(action) = Action::from_name(action_text) else {
                let what = crate::model::sanitize::sanitize_line(action_text);
                return Err(bad(format!(
                    "[keys] {shown:?}: unknown action {what:?} (the README lists the actions)"
                )));
            };
            let mut context =
                map.bindings.iter().find(|b| b.action == action).map_or(Context::Normal, |b| b.context);
            if key.typed_char().is_some() && context != Context::Normal {
                // A printable key bound everywhere could never be typed in a message.
                if context == Context::Compose {
                    return Err(bad(format!(
                        "[keys] {shown:?}: a printable key cannot {}: it would type into the \
                         compose box instead; use a ctrl-, alt- or function key",
                        action.describe()
                    )));
                }
                context = Context::Normal;
                notes.push(format!(
                    "[keys] {shown:?} acts outside the compose box only; there it types {shown}"
                ));
            }
            // The new binding replaces whatever this key did where it now applies.
            map.bindings.retain(|b| !(b.key == key && (b.context == context || context == Context::Global)));
            map.bindings.push(Binding { key, action, context });
        }
        Ok((map, notes))
    }

    /// What `key` does in `context` (global bindings apply everywhere; context first).
    pub fn lookup(&self, key: Key, context: Context) -> Option<&Action> {
        let hit = |ctx: Context| self.bindings.iter().find(|b| b.key == key && b.context == ctx);
        hit(context).or_else(|| hit(Context::Global)).map(|b| &b.action)
    }

    /// All bindings, in table order.
    pub fn bindings(&self) -> &[Binding] {
        &self.bindings
    }

    /// The keys bound to `action`, as shown to people (`"j/down"`), or `None` if unbound.
    pub fn keys_for(&self, action: &Action) -> Option<String> {
        let keys: Vec<String> =
            self.bindings.iter().filter(|b| &b.action == action).map(|b| b.key.to_string()).collect();
        (!keys.is_empty()).then(|| keys.join("/"))
    }

    /// The first key bound to `action`, for short hints.
    pub fn first_key(&self, action: &Action) -> Option<String> {
        self.bindings.iter().find(|b| &b.action == action).map(|b| b.key.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_keys() {
        assert_eq!(Key::parse("ctrl-e"), Some(Key::ctrl('e')));
        assert_eq!(Key::parse("C-E"), Some(Key::ctrl('e')));
        assert_eq!(Key::parse("G"), Some(Key::ch('G')));
        assert_eq!(Key::parse("shift-g"), Some(Key::ch('G')));
        assert_eq!(Key::parse("-"), Some(Key::ch('-')));
        assert_eq!(Key::parse("alt-enter"), Some(Key { code: KeyCode::Enter, ctrl: false, alt: true }));
        assert_eq!(Key::parse("shift-tab"), Some(Key::plain(KeyCode::BackTab)));
        assert_eq!(Key::parse("f5"), Some(Key::plain(KeyCode::F(5))));
        assert_eq!(Key::parse("f99"), None);
        assert_eq!(Key::parse("hyper-x"), None);
        for text in ["ctrl-e", "G", "alt-enter", "shift-tab", "pgdn", "space"] {
            assert_eq!(Key::parse(text).unwrap().to_string(), text);
        }
    }

    #[test]
    fn overrides_replace_and_unbind() {
        let mut o = BTreeMap::new();
        o.insert("ctrl-o".to_owned(), "open_editor".to_owned());
        o.insert("q".to_owned(), "none".to_owned());
        o.insert("x".to_owned(), "explode".to_owned());
        let err = Keymap::with_overrides(&o).unwrap_err();
        assert_eq!(err.key, "x");
        assert!(err.reason.contains("unknown action \"explode\""), "{err:?}");
        o.remove("x");
        let (map, notes) = Keymap::with_overrides(&o).unwrap();
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(map.lookup(Key::ctrl('o'), Context::Compose), Some(&Action::OpenEditor));
        assert_eq!(map.lookup(Key::ch('q'), Context::Normal), None);
        assert_eq!(map.lookup(Key::ctrl('c'), Context::Compose), Some(&Action::Quit));
        assert_eq!(map.keys_for(&Action::OpenEditor).as_deref(), Some("ctrl-e/ctrl-o"));
        assert_eq!(map.lookup(Key::plain(KeyCode::Enter), Context::Compose), Some(&Action::Send));
        assert_eq!(map.lookup(Key::plain(KeyCode::Enter), Context::Normal), Some(&Action::Open));
    }

    #[test]
    fn unknown_keys_stop_too() {
        let o = BTreeMap::from([("hyper-x".to_owned(), "quit".to_owned())]);
        let err = Keymap::with_overrides(&o).unwrap_err();
        assert_eq!(err.key, "hyper-x");
        assert!(err.reason.contains("unknown key"), "{err:?}");
    }

    #[test]
    fn a_printable_key_acts_outside_compose_only_and_says_so() {
        let o = BTreeMap::from([
            ("q".to_owned(), "cancel".to_owned()),
            ("space".to_owned(), "page_down".to_owned()),
            ("x".to_owned(), "delete".to_owned()),
        ]);
        let (map, notes) = Keymap::with_overrides(&o).unwrap();
        assert_eq!(map.lookup(Key::ch('q'), Context::Normal), Some(&Action::Cancel));
        assert_eq!(map.lookup(Key::ch('q'), Context::Compose), None, "q types in compose");
        assert_eq!(map.lookup(Key::ch(' '), Context::Compose), None, "space types in compose");
        assert_eq!(map.lookup(Key::ch(' '), Context::Normal), Some(&Action::PageDown));
        assert_eq!(map.lookup(Key::plain(KeyCode::Esc), Context::Compose), Some(&Action::Cancel));
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert!(notes.iter().any(|n| n.contains("\"q\" acts outside the compose box only")), "{notes:?}");
        // A compose-only action cannot take a printable key at all.
        let o = BTreeMap::from([("s".to_owned(), "send".to_owned())]);
        let err = Keymap::with_overrides(&o).unwrap_err();
        assert!(err.reason.contains("printable key cannot send"), "{err:?}");
    }
}
