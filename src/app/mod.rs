//! The `app` room: the pure core. `State`, `Action`, `Effect` and `update` (synchronous, no
//! I/O, no runtime), the keymap and the geometry `update` needs. Tested by feeding actions;
//! the runtime that drives it lives in `shell`.

pub mod action;
pub mod effect;
#[cfg(test)]
pub(crate) mod fixture;
pub mod help;
pub mod keymap;
pub mod layout;
pub mod state;
pub mod update;

pub use action::Action;
pub use effect::Effect;
pub use state::State;
pub use update::update;
