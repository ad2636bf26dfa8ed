//! healing-tui: a terminal client for the Healing Space service, and the reference
//! server it is tested against. See `README.md` and `shared/docs/design.md`.
//!
//! Rooms: [`cli`] parses arguments and dispatches; [`config`] owns paths and the
//! config file; [`api`] is the REST client; [`live`] brings news (websocket or
//! polling); [`store`] keeps local state on disk; [`app`] holds `State`, `Action`
//! and `update`; [`ui`] draws; [`server`] is the reference server.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod api;
pub mod app;
pub mod cli;
pub mod commands;
pub mod config;
pub mod live;
pub mod logging;
pub mod sanitize;
#[cfg(feature = "server")]
pub mod server;
pub mod store;
pub mod ui;
