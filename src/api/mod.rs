//! The Healing Space REST client: typed requests and responses, cookies and CSRF,
//! the error taxonomy, and tolerant parsing of what production really sends.

pub mod client;
pub mod cookies;
pub mod error;
pub mod response;

pub use client::{Client, ClientOptions, Fetched};

/// Conversations per inbox page (the server's maximum). The app and the live link ask
/// for the same page, so either one's answer serves both.
pub const INBOX_PAGE_LIMIT: u32 = 50;
pub use error::ApiError;
