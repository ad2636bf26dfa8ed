//! Which log lines are kept: `RUST_LOG` read as a level (`debug`) and/or a list of
//! `target=level` directives (`healing_tui::api=debug,info`).
//!
//! Parsed here instead of by tracing-subscriber's `EnvFilter`, whose regex engine made
//! the release binary 460 KB larger (measured 7 Dec 2026; code is most of the client's
//! resident memory) for a filter the client reads once at start. A directive that does not
//! parse is skipped rather than silencing the whole log.

use std::str::FromStr;

use tracing::level_filters::LevelFilter;
use tracing_subscriber::filter::Targets;

/// The level kept for targets no directive names, unless the spec gives a bare level.
pub const DEFAULT_LEVEL: LevelFilter = LevelFilter::INFO;

/// The filter a `RUST_LOG`-style spec describes; empty or unreadable parts keep [`DEFAULT_LEVEL`].
pub fn targets(spec: &str) -> Targets {
    let mut filter = Targets::new().with_default(DEFAULT_LEVEL);
    for directive in spec.split(',').map(str::trim).filter(|d| !d.is_empty()) {
        match directive.split_once('=') {
            Some((target, level)) => {
                let target = target.trim();
                let valid_target =
                    !target.is_empty() && target.chars().all(|c| c.is_alphanumeric() || "_:-".contains(c));
                if let (true, Ok(level)) = (valid_target, LevelFilter::from_str(level.trim())) {
                    filter = filter.with_target(target, level);
                }
            }
            None => {
                if let Ok(level) = LevelFilter::from_str(directive) {
                    filter = filter.with_default(level);
                }
            }
        }
    }
    filter
}

/// The filter `RUST_LOG` asks for, or [`DEFAULT_LEVEL`] when it is unset or not UTF-8.
pub fn from_rust_log() -> Targets {
    targets(&std::env::var("RUST_LOG").unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn level_for(filter: &Targets, target: &str, level: tracing::Level) -> bool {
        filter.would_enable(target, &level)
    }

    #[test]
    fn bare_level_and_target_directives() {
        use tracing::Level;
        let f = targets("warn, healing_tui::api=debug");
        assert!(level_for(&f, "healing_tui::api::client", Level::DEBUG));
        assert!(!level_for(&f, "healing_tui::api::client", Level::TRACE));
        assert!(level_for(&f, "hyper", Level::WARN));
        assert!(!level_for(&f, "hyper", Level::INFO));
        let empty = targets("");
        assert!(level_for(&empty, "anything", Level::INFO));
        assert!(!level_for(&empty, "anything", Level::DEBUG));
    }

    #[test]
    fn unreadable_directives_are_skipped_not_fatal() {
        use tracing::Level;
        let f = targets("loud, healing_tui=verbose, a[span{x}]=trace, healing_tui::store=trace,");
        assert!(level_for(&f, "healing_tui::store", Level::TRACE));
        assert!(level_for(&f, "healing_tui::shell", Level::INFO));
        assert!(!level_for(&f, "healing_tui::shell", Level::DEBUG));
        assert!(!level_for(&f, "a", Level::TRACE));
    }
}
