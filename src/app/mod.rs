//! The `app` room: `State`, `Action`, `Effect` and `update` (pure, synchronous), plus
//! the runtime that drives them (`run`).

pub mod action;
pub mod client_service;
pub mod drafts;
pub mod effect;
#[cfg(test)]
pub(crate) mod fixture;
pub mod keymap;
pub mod local;
#[cfg(all(test, feature = "server"))]
mod pet_flow_tests;
pub mod run;
pub mod runner;
#[cfg(all(test, feature = "server"))]
mod server_flow_tests;
pub mod service;
pub mod state;
pub mod terminal;
pub mod update;

pub use action::Action;
pub use effect::Effect;
pub use state::State;
pub use update::update;
