//! The `model` room, at the bottom: the data every other room speaks. Wire types of the
//! Healing Space API and the serde helpers that tolerate the production server, ids, times
//! and their parsing and wording, display-width text, and the one sanitizer for text that
//! came from outside.

pub mod lenient;
pub mod lock;
pub mod log_level;
pub mod private;
pub mod sanitize;
pub mod session;
pub mod text;
pub mod time;
pub mod time_fmt;
pub mod types;
pub mod waiting;
