//! The `shell` room: the interactive runtime around the pure `app` core. The event loop
//! (`run`), the effect runner and the services that carry effects to `api`, `store` and
//! `sync`, terminal set-up and restore, notifications.

pub mod account;
pub mod client_service;
pub mod local;
pub mod notify;
#[cfg(all(test, feature = "server"))]
mod pet_flow_tests;
pub mod run;
pub mod runner;
#[cfg(all(test, feature = "server"))]
mod server_flow_tests;
pub mod service;
pub mod term_effects;
pub mod terminal;
pub mod timers;
