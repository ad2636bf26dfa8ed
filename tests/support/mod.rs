//! Helpers shared by the integration tests: the real binary in a pty or a tmux pane,
//! and a fault-injection TCP proxy. Each test file uses the parts it needs.
#![allow(dead_code)]

pub mod proxy;
pub mod pty;
pub mod tmux;
