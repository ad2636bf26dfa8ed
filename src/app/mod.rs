//! The `app` room: `State`, `Action`, `Effect` and `update` (pure, synchronous), plus
//! the runtime that drives them (`run`).

pub mod run;
