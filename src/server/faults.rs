//! The failure switch: chosen routes answer 500 with an `error_id`, the way the
//! production versions do (`feb5`: every valid send and every conversation; `head`:
//! every mark-read), so the client's handling of them can be tried on demand.
//!
//! Set at start (`serve --fail-route send,conversation`) or at run time by tests
//! through [`super::RunningServer::fail_routes`]. Each route fails where its
//! production counterpart does: after authentication, and for `send` after the
//! request was found valid (bad requests still get their 400/404).

use std::sync::atomic::{AtomicU8, Ordering};

use super::errors::ServerError;

/// A route the failure switch can make answer 500.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum FailRoute {
    /// `POST /api/messages/send`, once the message is valid (feb5).
    Send,
    /// `GET /api/messages/conversation/<user>` (feb5).
    Conversation,
    /// `GET /api/messages/inbox`.
    Inbox,
    /// `GET /api/messages/sent`.
    Sent,
    /// `PATCH /api/messages/<id>/read` (head).
    Read,
    /// `DELETE /api/messages/<id>`.
    Delete,
}

impl FailRoute {
    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// Which routes fail now; shared by every handler, switchable while serving.
#[derive(Debug, Default)]
pub struct Faults {
    failing: AtomicU8,
}

impl Faults {
    /// Faults for `routes` (none when empty).
    pub fn new(routes: &[FailRoute]) -> Self {
        let faults = Faults::default();
        faults.set(routes);
        faults
    }

    /// Make exactly `routes` fail from the next request on.
    pub fn set(&self, routes: &[FailRoute]) {
        let bits = routes.iter().fold(0, |acc, r| acc | r.bit());
        self.failing.store(bits, Ordering::SeqCst);
    }

    /// `Err` (a 500 with a fresh `error_id`, logged) when `route` is switched to fail.
    pub fn check(&self, route: FailRoute) -> Result<(), ServerError> {
        if self.failing.load(Ordering::SeqCst) & route.bit() != 0 {
            return Err(ServerError::Internal(format!("failure switch on for {route:?}")));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_chosen_routes_fail_and_the_switch_turns_off() {
        let faults = Faults::new(&[FailRoute::Send, FailRoute::Read]);
        assert!(faults.check(FailRoute::Send).is_err());
        assert!(faults.check(FailRoute::Read).is_err());
        assert!(faults.check(FailRoute::Conversation).is_ok());
        faults.set(&[]);
        assert!(faults.check(FailRoute::Send).is_ok());
    }
}
