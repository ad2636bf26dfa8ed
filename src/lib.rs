//! healing-tui: a terminal client for the Healing Space service, and the reference
//! server it is tested against. See `README.md` and `shared/docs/design.md`.
//!
//! Rooms, top to bottom (a room uses only rooms below it; `tests/architecture.rs` holds
//! that): [`cli`] parses arguments and dispatches to the faces; [`shell`] is the interactive
//! runtime (event loop, effect runner, terminal); [`commands`] are the one-shot commands;
//! [`server`] is the reference server; [`ui`] draws; [`term`] writes frames to the terminal
//! frugally; [`app`] is the pure core (`State`, `Action`, `update`); [`sync`] brings news and
//! sends the outbox; [`api`] is the REST client; [`store`] keeps local state on disk;
//! [`config`] resolves settings and paths; [`model`] is the data they all speak.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod api;
pub mod app;
pub mod cli;
pub mod commands;
pub mod config;
pub mod model;
#[cfg(feature = "server")]
pub mod server;
pub mod shell;
pub mod store;
pub mod sync;
pub mod term;
pub mod ui;
