//! The `live` room (see design.md).
