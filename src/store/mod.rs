//! The `store` room (see design.md).
