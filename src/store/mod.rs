//! The `store` room (see design.md).
pub mod session;
