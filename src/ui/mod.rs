//! The `ui` room: panes (inbox, conversation, pet, compose, help, status), theme and
//! layout. Drawing only reads state.

pub mod pet;
pub mod scroll;
