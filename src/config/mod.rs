//! Where files live (config dir, data dir) and the `config.toml` settings.
//!
//! Precedence for every setting: command-line flag > environment > `config.toml` >
//! built-in default (clap already folds flag and env together). Unknown keys in the
//! file are warnings (listed, so typos are visible); bad values are errors naming the
//! file, line and reason.

pub mod logging;
pub mod startup;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Deserializer};
use thiserror::Error;

use clap::ValueEnum;

/// The config file's name inside the config dir.
pub const CONFIG_FILE: &str = "config.toml";

/// What the command line (flags or their environment variables) said for every command;
/// `None`: not given. `cli` builds it once from its clap definitions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GlobalFlags {
    /// `--config-dir`: holds config.toml and session.json.
    pub config_dir: Option<PathBuf>,
    /// `--data-dir`: holds the local store and logs.
    pub data_dir: Option<PathBuf>,
    /// `--server`: the Healing Space server URL.
    pub server: Option<String>,
    /// `--allow-http`: plain http:// to a host that is not loopback.
    pub allow_http: bool,
    /// `--ca-cert`: an extra PEM certificate authority to trust.
    pub ca_cert: Option<PathBuf>,
}

/// How the interactive client should look, as the command line said; the config file
/// fills what it leaves out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LookFlags {
    /// `--theme`.
    pub theme: Option<ThemeName>,
    /// `--ascii`.
    pub ascii: bool,
    /// `--layout`.
    pub layout: Option<LayoutName>,
    /// `--quiet-clock`.
    pub quiet_clock: bool,
}

/// Colour themes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ThemeName {
    /// 256 colours (default).
    #[default]
    #[value(name = "256")]
    #[serde(rename = "256")]
    C256,
    /// The 16 basic colours.
    #[value(name = "16")]
    #[serde(rename = "16")]
    C16,
    /// No colour: bold and reverse only (also chosen by NO_COLOR).
    Mono,
}

/// Screen layouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LayoutName {
    /// Inbox, conversation and pet side by side.
    Panes,
    /// The conversation full width, an activity line, the inbox as an overlay: cheapest over SSH.
    Compact,
}

/// The directories the client uses, after flags, environment and platform defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    /// Holds `config.toml` and `session.json`.
    pub config_dir: PathBuf,
    /// Holds the local store and logs.
    pub data_dir: PathBuf,
}

impl Paths {
    /// Resolve from `--config-dir`/`--data-dir` (or their env vars), else the platform's
    /// directories for "healing-tui".
    pub fn resolve(global: &GlobalFlags) -> anyhow::Result<Paths> {
        let dirs = directories::ProjectDirs::from("org", "healing-space", "healing-tui");
        let config_dir = match (&global.config_dir, &dirs) {
            (Some(dir), _) => dir.clone(),
            (None, Some(d)) => d.config_dir().to_path_buf(),
            (None, None) => anyhow::bail!("no home directory: pass --config-dir"),
        };
        let data_dir = match (&global.data_dir, &dirs) {
            (Some(dir), _) => dir.clone(),
            (None, Some(d)) => d.data_dir().to_path_buf(),
            (None, None) => anyhow::bail!("no home directory: pass --data-dir"),
        };
        Ok(Paths { config_dir, data_dir })
    }

    /// `config.toml`.
    pub fn config_file(&self) -> PathBuf {
        self.config_dir.join(CONFIG_FILE)
    }

    /// Where the rotating log files go.
    pub fn log_dir(&self) -> PathBuf {
        self.data_dir.join("logs")
    }
}

/// Polling: how often, and the per-route request budgets that keep us under
/// production's 50/hour and 200/day limits.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct PollConfig {
    /// Seconds between checks while the user is active.
    #[serde(deserialize_with = "at_least_one")]
    pub active_secs: u64,
    /// Seconds between checks while idle.
    #[serde(deserialize_with = "at_least_one")]
    pub idle_secs: u64,
    /// Requests per route per hour.
    #[serde(deserialize_with = "at_least_one")]
    pub budget_per_hour: u64,
    /// Requests per route per day.
    #[serde(deserialize_with = "at_least_one")]
    pub budget_per_day: u64,
}

impl Default for PollConfig {
    fn default() -> Self {
        PollConfig { active_secs: 15, idle_secs: 60, budget_per_hour: 45, budget_per_day: 190 }
    }
}

/// Notifications for new messages.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct NotifyConfig {
    /// Ring the terminal bell.
    pub bell: bool,
    /// Desktop notifications.
    pub desktop: bool,
    /// Show the message text in notifications (off: only who wrote).
    pub show_content: bool,
    /// Put the unread count in the terminal title.
    pub title_unread: bool,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        NotifyConfig { bell: true, desktop: false, show_content: false, title_unread: false }
    }
}

/// The pet pane.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Default)]
#[serde(default)]
pub struct PetConfig {
    /// Animate the pet (costs redraws; off by default for SSH).
    pub animate: bool,
}

/// The inbox.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Default)]
#[serde(default)]
pub struct InboxConfig {
    /// `waiting` (longest wait first) or `recent` (newest first); unset: `waiting` for
    /// clinicians, `recent` for patients.
    pub sort: Option<crate::model::waiting::SortMode>,
}

/// What `y` does with a message's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Clipboard {
    /// Put it on the clipboard of the terminal the user sits at (OSC 52).
    #[default]
    Osc52,
    /// Copy nothing (for terminals that show OSC 52 as garbage, or by policy).
    Off,
}

/// The settings in `config.toml`. Every field is optional in the file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Server URL used when neither `--server` nor `HEALING_SERVER` is given.
    pub server: Option<String>,
    /// Colour theme.
    pub theme: Option<ThemeName>,
    /// ASCII only.
    pub ascii: bool,
    /// Screen layout (default: by terminal width).
    pub layout: Option<LayoutName>,
    /// Never redraw just for the clock.
    pub quiet_clock: bool,
    /// Polling.
    pub poll: PollConfig,
    /// Notifications.
    pub notify: NotifyConfig,
    /// Pet pane.
    pub pet: PetConfig,
    /// The inbox's order.
    pub inbox: InboxConfig,
    /// Named quick replies for the compose box (`{name}` becomes the other person's
    /// username).
    pub snippets: BTreeMap<String, String>,
    /// Key string → action name; interpreted by the TUI's keymap.
    pub keys: BTreeMap<String, String>,
    /// What `y` does.
    pub clipboard: Clipboard,
    /// URLs in messages become clickable OSC 8 links.
    pub links: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            server: None,
            theme: None,
            ascii: false,
            layout: None,
            quiet_clock: false,
            poll: PollConfig::default(),
            notify: NotifyConfig::default(),
            pet: PetConfig::default(),
            inbox: InboxConfig::default(),
            snippets: BTreeMap::new(),
            keys: BTreeMap::new(),
            clipboard: Clipboard::default(),
            links: true,
        }
    }
}

/// Why `config.toml` could not be used.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// The file exists but could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The config file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// Bad syntax or a bad value.
    #[error("{}:{line}:{column}: {reason}", path.display())]
    Invalid {
        /// The config file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        reason: String,
    },
}

/// Exit status for a local file problem (a bad config value, an unusable session file).
pub const EXIT_LOCAL: u8 = 7;

/// A loaded config and the warnings about it (unknown keys).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Loaded {
    /// The settings.
    pub config: Config,
    /// One line per problem that did not stop loading.
    pub warnings: Vec<String>,
    /// The file it came from (empty when there was none).
    pub path: PathBuf,
    /// Where each `[keys]` entry's value is (line, column), for pointing at a bad one.
    pub keys_at: BTreeMap<String, (usize, usize)>,
}

impl Loaded {
    /// A `[keys]` entry that cannot be used, as a config error at its place in the file.
    pub fn key_error(&self, key: &str, reason: impl Into<String>) -> ConfigError {
        let (line, column) = self.keys_at.get(key).copied().unwrap_or((1, 1));
        ConfigError::Invalid { path: self.path.clone(), line, column, reason: reason.into() }
    }
}

/// Only the `[keys]` table, with where each value sits in the text.
#[derive(Deserialize, Default)]
struct KeysAt {
    #[serde(default)]
    keys: BTreeMap<String, toml::Spanned<String>>,
}

const TOP_KEYS: &[&str] = &["server", "theme", "ascii", "layout", "quiet_clock", "clipboard", "links"];
/// Keys older versions accepted and this one no longer reads, with what to tell the user.
const RETIRED_KEYS: &[(&str, &str)] = &[(
    "mouse",
    "`mouse` is no longer read: it never did anything, and every action has a key (press ? for the list); remove the line",
)];
/// Tables; `[keys]` and `[snippets]` hold free-form names, so only the others are checked.
const SECTIONS: &[&str] = &["poll", "notify", "pet", "inbox", "keys", "snippets"];
const POLL_KEYS: &[&str] = &["active_secs", "idle_secs", "budget_per_hour", "budget_per_day"];
const NOTIFY_KEYS: &[&str] = &["bell", "desktop", "show_content", "title_unread"];
const PET_KEYS: &[&str] = &["animate"];
const INBOX_KEYS: &[&str] = &["sort"];

fn at_least_one<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    let v = i64::deserialize(d)?;
    if v < 1 {
        return Err(serde::de::Error::custom(format!("must be at least 1, not {v}")));
    }
    Ok(v.unsigned_abs())
}

impl Config {
    /// Read `config.toml` from `config_dir`; defaults when the file does not exist.
    pub fn load(config_dir: &Path) -> Result<Loaded, ConfigError> {
        let path = config_dir.join(CONFIG_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => Config::parse(&text, &path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Loaded::default()),
            Err(source) => Err(ConfigError::Io { path, source }),
        }
    }

    /// Parse config text; `path` is only used in messages.
    pub fn parse(text: &str, path: &Path) -> Result<Loaded, ConfigError> {
        let invalid = |e: toml::de::Error| {
            let (line, column) = e.span().map(|s| line_col(text, s.start)).unwrap_or((1, 1));
            ConfigError::Invalid {
                path: path.to_path_buf(),
                line,
                column,
                reason: e.message().trim().to_string(),
            }
        };
        let table: toml::Table = toml::from_str(text).map_err(invalid)?;
        let config: Config = toml::from_str(text).map_err(invalid)?;
        if let Some(server) = &config.server {
            if url::Url::parse(server).is_err() {
                let at = text.find(server.as_str()).unwrap_or(0);
                let (line, column) = line_col(text, at);
                return Err(ConfigError::Invalid {
                    path: path.to_path_buf(),
                    line,
                    column,
                    reason: "server must be a URL like https://www.healing-space.org.uk".into(),
                });
            }
        }
        let mut unknown = Vec::new();
        let mut warnings = Vec::new();
        for (key, value) in &table {
            if let Some((_, why)) = RETIRED_KEYS.iter().find(|(k, _)| k == key) {
                warnings.push(format!("{}: {why}", path.display()));
                continue;
            }
            let sub = match key.as_str() {
                "poll" => POLL_KEYS,
                "notify" => NOTIFY_KEYS,
                "pet" => PET_KEYS,
                "inbox" => INBOX_KEYS,
                k if TOP_KEYS.contains(&k) || SECTIONS.contains(&k) => continue,
                _ => {
                    unknown.push(key.clone());
                    continue;
                }
            };
            if let Some(t) = value.as_table() {
                unknown.extend(t.keys().filter(|k| !sub.contains(&k.as_str())).map(|k| format!("{key}.{k}")));
            }
        }
        if !unknown.is_empty() {
            warnings.push(format!("{}: unknown keys ignored: {}", path.display(), unknown.join(", ")));
        }
        let keys_at = toml::from_str::<KeysAt>(text)
            .map_err(invalid)?
            .keys
            .into_iter()
            .map(|(k, v)| (k, line_col(text, v.span().start)))
            .collect();
        Ok(Loaded { config, warnings, path: path.to_path_buf(), keys_at })
    }

    /// The server URL: `--server`/`HEALING_SERVER`, else the file's `server`.
    pub fn server(&self, global: &GlobalFlags) -> Option<String> {
        global.server.clone().or_else(|| self.server.clone())
    }

    /// The theme: `--theme`, else mono when `NO_COLOR` is set, else the file, else 256.
    pub fn theme(&self, look: &LookFlags) -> ThemeName {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        resolve_theme(look.theme, no_color, self.theme)
    }

    /// The layout: `--layout`, else the file's; `None` means "by terminal width".
    pub fn layout(&self, look: &LookFlags) -> Option<LayoutName> {
        look.layout.or(self.layout)
    }

    /// ASCII only, when either the flag or the file asks.
    pub fn ascii(&self, look: &LookFlags) -> bool {
        look.ascii || self.ascii
    }

    /// Quiet clock, when either the flag or the file asks.
    pub fn quiet_clock(&self, look: &LookFlags) -> bool {
        look.quiet_clock || self.quiet_clock
    }
}

fn resolve_theme(flag: Option<ThemeName>, no_color: bool, file: Option<ThemeName>) -> ThemeName {
    match (flag, no_color, file) {
        (Some(t), _, _) => t,
        (None, true, _) => ThemeName::Mono,
        (None, false, Some(t)) => t,
        (None, false, None) => ThemeName::default(),
    }
}

/// 1-based line and column (in characters) of byte offset `at` in `text`.
fn line_col(text: &str, at: usize) -> (usize, usize) {
    let at = at.min(text.len());
    let before = text.get(..at).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map(|l| l.chars().count()).unwrap_or(0) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Loaded, ConfigError> {
        Config::parse(text, Path::new("/cfg/config.toml"))
    }

    #[test]
    fn empty_is_defaults() {
        let loaded = parse("").unwrap();
        assert_eq!(loaded.config, Config::default());
        assert_eq!(loaded.config.poll.active_secs, 15);
        assert_eq!(loaded.config.poll.budget_per_day, 190);
        assert!(loaded.config.notify.bell && !loaded.config.notify.show_content);
        assert!(loaded.warnings.is_empty());
        assert_eq!((loaded.config.clipboard, loaded.config.links), (Clipboard::Osc52, true));
        let c = parse("clipboard = \"off\"\nlinks = false\n").unwrap().config;
        assert_eq!((c.clipboard, c.links), (Clipboard::Off, false));
        assert!(matches!(parse("clipboard = \"xclip\"\n"), Err(ConfigError::Invalid { line: 1, .. })));
    }

    #[test]
    fn full_file() {
        let text = r#"
server = "https://www.healing-space.org.uk"
theme = "mono"
ascii = true
layout = "compact"

[poll]
active_secs = 20
idle_secs = 120

[notify]
desktop = true

[pet]
animate = true

[keys]
"ctrl-s" = "send"
j = "down"
"#;
        let c = parse(text).unwrap().config;
        assert_eq!(c.server.as_deref(), Some("https://www.healing-space.org.uk"));
        assert_eq!((c.theme, c.layout, c.ascii), (Some(ThemeName::Mono), Some(LayoutName::Compact), true));
        assert_eq!((c.poll.active_secs, c.poll.idle_secs, c.poll.budget_per_hour), (20, 120, 45));
        assert!(c.notify.desktop && c.notify.bell);
        assert!(c.pet.animate);
        assert_eq!(c.keys.get("ctrl-s").map(String::as_str), Some("send"));
    }

    #[test]
    fn unknown_keys_are_listed() {
        let loaded = parse("colour = 1\n[poll]\nactiv_secs = 3\n[notify]\nbel = false\n").unwrap();
        assert_eq!(loaded.warnings.len(), 1);
        let w = &loaded.warnings[0];
        assert!(w.contains("colour") && w.contains("poll.activ_secs") && w.contains("notify.bel"), "{w}");
        assert!(w.contains("/cfg/config.toml"));
    }

    #[test]
    fn the_retired_mouse_key_warns_and_changes_nothing() {
        let loaded = parse("mouse = true\nascii = true\n").unwrap();
        assert_eq!(loaded.config, Config { ascii: true, ..Config::default() });
        assert_eq!(loaded.warnings.len(), 1, "{:?}", loaded.warnings);
        let w = &loaded.warnings[0];
        assert!(w.starts_with("/cfg/config.toml: `mouse` is no longer read"), "{w}");
        assert!(!w.contains("unknown keys"), "{w}");
    }

    #[test]
    fn bad_values_name_file_line_and_reason() {
        let err = parse("ascii = true\n\n[poll]\nactive_secs = 0\n").unwrap_err();
        let ConfigError::Invalid { line, reason, .. } = &err else { panic!("{err}") };
        assert_eq!(*line, 4, "{err}");
        assert!(reason.contains("at least 1"), "{err}");
        assert!(err.to_string().starts_with("/cfg/config.toml:4:"), "{err}");

        let err = parse("theme = \"purple\"\n").unwrap_err();
        assert!(matches!(err, ConfigError::Invalid { line: 1, .. }), "{err}");
        let err = parse("\nascii = \"yes\"\n").unwrap_err();
        assert!(matches!(err, ConfigError::Invalid { line: 2, .. }), "{err}");
        let err = parse("[poll\n").unwrap_err();
        assert!(matches!(err, ConfigError::Invalid { line: 1, .. }), "{err}");
        let err = parse("x = 1\nserver = \"not a url\"\n").unwrap_err();
        assert!(matches!(err, ConfigError::Invalid { line: 2, .. }), "{err}");
    }

    #[test]
    fn a_bad_binding_is_pointed_at_in_the_file() {
        let loaded = parse("ascii = true\n[keys]\n\"ctrl-s\" = \"send\"\nj =   \"explode\"\n").unwrap();
        assert_eq!(loaded.keys_at.get("ctrl-s"), Some(&(3, 12)));
        let err = loaded.key_error("j", "unknown action");
        assert_eq!(err.to_string(), "/cfg/config.toml:4:7: unknown action");
    }

    #[test]
    fn inbox_sort_and_snippets() {
        let text = "[inbox]\nsort = \"waiting\"\n[snippets]\ncheckin = \"Hi {name}\"\n";
        let loaded = parse(text).unwrap();
        assert_eq!(loaded.config.inbox.sort, Some(crate::model::waiting::SortMode::Waiting));
        assert_eq!(loaded.config.snippets.get("checkin").map(String::as_str), Some("Hi {name}"));
        assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
        let err = parse("[inbox]\nsort = \"alphabetical\"\n").unwrap_err();
        assert!(matches!(err, ConfigError::Invalid { line: 2, .. }), "{err}");
    }

    #[test]
    fn missing_file_is_defaults() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(Config::load(dir.path()).unwrap(), Loaded::default());
        std::fs::write(dir.path().join(CONFIG_FILE), "ascii = true\n").unwrap();
        assert!(Config::load(dir.path()).unwrap().config.ascii);
    }

    #[test]
    fn precedence_flag_env_file_default() {
        let file = Config { server: Some("https://file.example".into()), ..Config::default() };
        let mut global = GlobalFlags::default();
        assert_eq!(file.server(&global).as_deref(), Some("https://file.example"));
        global.server = Some("https://flag.example".into());
        assert_eq!(file.server(&global).as_deref(), Some("https://flag.example"));
        assert_eq!(Config::default().server(&GlobalFlags::default()), None);

        assert_eq!(resolve_theme(Some(ThemeName::C16), true, Some(ThemeName::C256)), ThemeName::C16);
        assert_eq!(resolve_theme(None, true, Some(ThemeName::C256)), ThemeName::Mono);
        assert_eq!(resolve_theme(None, false, Some(ThemeName::C16)), ThemeName::C16);
        assert_eq!(resolve_theme(None, false, None), ThemeName::C256);

        let look = LookFlags { layout: Some(LayoutName::Panes), ..LookFlags::default() };
        let c = Config { layout: Some(LayoutName::Compact), ascii: true, ..Config::default() };
        assert_eq!(c.layout(&look), Some(LayoutName::Panes));
        assert_eq!(c.layout(&LookFlags::default()), Some(LayoutName::Compact));
        assert!(c.ascii(&LookFlags::default()));
    }
}
