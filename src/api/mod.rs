//! The Healing Space REST client: typed requests and responses, cookies and CSRF,
//! the error taxonomy, and tolerant parsing of what production really sends.

pub mod error;
pub mod lenient;
pub mod time;
pub mod types;

pub use error::ApiError;
