//! When to poll, and which route to ask, for servers without push.
//!
//! Pure and clock-driven (every method takes `now`), so it is tested without a runtime.
//! The poller asks [`PollPlan::next_check`] when to wake and which probe to send, and
//! reports back what happened. Rules (issue 5):
//! - cadence 15 s while the user is active, 60 s after 5 minutes without input, back to
//!   15 s on the next key;
//! - when the server offers no push, each route has a [`RouteBudget`] and the probe
//!   rotates over the routes the server has (a route that answers 404 drops out), the
//!   cheapest first: `/api/messages/unread-count`, `/api/poll`, then the inbox;
//! - a 429 means "wait": the body's `retry_after`, else 60 s doubling per repeat.

use std::time::{Duration, Instant};

use super::budget::{Limits, RouteBudget, Windows};

/// A request the poller can use to ask "anything new?".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Probe {
    /// `GET /api/messages/unread-count` (head): a few bytes.
    UnreadCount,
    /// `GET /api/poll` (head): a few bytes, its own budget.
    Poll,
    /// `GET /api/messages/inbox`: the full inbox; always present.
    Inbox,
}

/// Poll intervals, from `config.toml` `[poll]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cadence {
    /// Interval while the user is active.
    pub active: Duration,
    /// Interval once the user has been idle for `idle_after`.
    pub idle: Duration,
    /// Inactivity that counts as idle.
    pub idle_after: Duration,
}

impl Default for Cadence {
    fn default() -> Self {
        Cadence {
            active: Duration::from_secs(15),
            idle: Duration::from_secs(60),
            idle_after: Duration::from_secs(300),
        }
    }
}

#[derive(Debug, Clone)]
struct Route {
    probe: Probe,
    budget: RouteBudget,
    available: bool,
}

/// The polling schedule and its memory of requests, 429s and missing routes.
#[derive(Debug, Clone)]
pub struct PollPlan {
    cadence: Cadence,
    routes: Vec<Route>,
    next_route: usize,
    last_input: Instant,
    last_check: Option<Instant>,
    wait_until: Option<Instant>,
    first_rate_limit_wait: Duration,
    rate_limit_wait: Duration,
    check_now: bool,
}

const FIRST_RATE_LIMIT_WAIT: Duration = Duration::from_secs(60);
const MAX_RATE_LIMIT_WAIT: Duration = Duration::from_secs(3600);

impl PollPlan {
    /// A plan with this cadence; `limits` applies to every route (use [`Limits::NONE`]
    /// for servers that offer our extensions).
    pub fn new(cadence: Cadence, limits: Limits, now: Instant) -> Self {
        let routes = [Probe::UnreadCount, Probe::Poll, Probe::Inbox]
            .into_iter()
            .map(|probe| Route { probe, budget: RouteBudget::new(limits), available: true })
            .collect();
        PollPlan {
            cadence,
            routes,
            next_route: 0,
            last_input: now,
            last_check: None,
            wait_until: None,
            first_rate_limit_wait: FIRST_RATE_LIMIT_WAIT,
            rate_limit_wait: FIRST_RATE_LIMIT_WAIT,
            check_now: true,
        }
    }

    /// Count the budgets over other windows than an hour and a day (tests).
    pub fn with_windows(mut self, windows: Windows) -> Self {
        for r in &mut self.routes {
            r.budget = r.budget.clone().with_windows(windows);
        }
        self
    }

    /// Wait this long after a 429 that says nothing about how long (then doubling);
    /// 60 s by default.
    pub fn with_rate_limit_wait(mut self, first: Duration) -> Self {
        self.first_rate_limit_wait = first.max(Duration::from_millis(1));
        self.rate_limit_wait = self.first_rate_limit_wait;
        self
    }

    /// Whether any budget applies.
    pub fn is_budgeted(&self) -> bool {
        self.routes.iter().any(|r| !r.budget.limits().is_unlimited())
    }

    /// The interval the cadence asks for at `now` (active or idle).
    pub fn cadence_interval(&self, now: Instant) -> Duration {
        if now.saturating_duration_since(self.last_input) >= self.cadence.idle_after {
            self.cadence.idle
        } else {
            self.cadence.active
        }
    }

    /// The real gap between checks that a check planned for `at` makes: from the last
    /// check to `at` (the budgets may stretch it well past the cadence: three routes
    /// at production's limits give about one check a minute, not every 15 s). Before
    /// the first check, or when the user asked for one now, the cadence's interval.
    pub fn period(&self, at: Instant, now: Instant) -> Duration {
        match self.last_check {
            Some(last) if !self.check_now => at.saturating_duration_since(last),
            _ => self.cadence_interval(now),
        }
    }

    /// The user pressed a key: back to the active cadence.
    pub fn user_input(&mut self, now: Instant) {
        self.last_input = now;
    }

    /// The user asked to check now (`R`): as soon as the budget and any 429 wait allow.
    pub fn check_now(&mut self) {
        self.check_now = true;
    }

    /// True while waiting out a 429.
    pub fn rate_limited(&self, now: Instant) -> bool {
        self.wait_until.is_some_and(|t| t > now)
    }

    /// When to check next, and with which probe.
    pub fn next_check(&mut self, now: Instant) -> (Instant, Probe) {
        let earliest = match (self.check_now, self.last_check) {
            (true, _) | (false, None) => now,
            (false, Some(last)) => last + self.cadence_interval(now),
        };
        let earliest = earliest.max(self.wait_until.unwrap_or(now));
        // Among the available routes, starting at the rotation point, the one that can go
        // soonest (ties go to rotation order, so the cheap probes are shared out).
        let n = self.routes.len();
        let mut best: Option<(Instant, usize)> = None;
        for k in 0..n {
            let i = (self.next_route + k) % n;
            let route = &mut self.routes[i];
            if !route.available {
                continue;
            }
            let pace = route.budget.spread_interval(now);
            let last = route_last(&route.budget);
            let by_budget = match last {
                Some(t) if !pace.is_zero() => t + pace,
                _ => now,
            }
            .max(route.budget.next_allowed(now));
            let at = earliest.max(by_budget);
            if best.is_none_or(|(b, _)| at < b) {
                best = Some((at, i));
            }
        }
        match best {
            Some((at, i)) => (at, self.routes[i].probe),
            // Inbox never drops out (see `route_missing`), so this is only a fallback.
            None => (earliest, Probe::Inbox),
        }
    }

    /// A probe was sent at `now`.
    pub fn sent(&mut self, probe: Probe, now: Instant) {
        self.check_now = false;
        self.last_check = Some(now);
        if let Some(i) = self.routes.iter().position(|r| r.probe == probe) {
            self.routes[i].budget.record(now);
            self.next_route = (i + 1) % self.routes.len();
        }
    }

    /// The probe succeeded: forget past 429s.
    pub fn succeeded(&mut self) {
        self.wait_until = None;
        self.rate_limit_wait = self.first_rate_limit_wait;
    }

    /// The server answered 429: wait `retry_after` if it said, else 60 s doubling.
    pub fn rate_limited_by_server(&mut self, retry_after: Option<Duration>, now: Instant) -> Instant {
        let wait = match retry_after {
            Some(d) if !d.is_zero() => d,
            _ => {
                let w = self.rate_limit_wait;
                self.rate_limit_wait = (w * 2).min(MAX_RATE_LIMIT_WAIT);
                w
            }
        };
        let until = now + wait;
        self.wait_until = Some(until);
        until
    }

    /// The server has no such route (404): drop it from the rotation (never the inbox).
    pub fn route_missing(&mut self, probe: Probe) {
        if probe == Probe::Inbox {
            return;
        }
        for r in &mut self.routes {
            if r.probe == probe {
                r.available = false;
            }
        }
    }

    /// Record a request made outside the probe rotation (e.g. an inbox refresh after a
    /// probe saw news), so it counts against that route's budget.
    pub fn record_extra(&mut self, probe: Probe, now: Instant) {
        if let Some(r) = self.routes.iter_mut().find(|r| r.probe == probe) {
            r.budget.record(now);
        }
    }

    /// Whether one more request on `probe`'s route fits its budget right now.
    pub fn can_afford(&mut self, probe: Probe, now: Instant) -> bool {
        self.routes.iter_mut().find(|r| r.probe == probe).is_some_and(|r| r.budget.next_allowed(now) <= now)
    }
}

fn route_last(budget: &RouteBudget) -> Option<Instant> {
    budget.last_request()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn active_then_idle_then_active() {
        let t0 = Instant::now();
        let mut p = PollPlan::new(Cadence::default(), Limits::NONE, t0);
        let (at, probe) = p.next_check(t0);
        assert_eq!((at, probe), (t0, Probe::UnreadCount));
        p.sent(probe, at);
        let (at, _) = p.next_check(t0);
        assert_eq!(at, t0 + secs(15));
        let later = t0 + secs(301);
        p.sent(Probe::Poll, later);
        assert_eq!(p.next_check(later).0, later + secs(60));
        p.user_input(later);
        assert_eq!(p.next_check(later).0, later + secs(15));
    }

    /// Issue 13, item 9: with production's budgets the checks are far apart than the
    /// 15 s cadence, and the period said is the real one.
    #[test]
    fn the_period_is_the_real_gap_between_checks() {
        let t0 = Instant::now();
        let mut p = PollPlan::new(Cadence::default(), Limits::PRODUCTION, t0);
        assert_eq!(p.period(t0, t0), secs(15), "before the first check: the cadence");
        let mut now = t0;
        let mut gaps = Vec::new();
        for _ in 0..9 {
            let (at, probe) = p.next_check(now);
            if now > t0 {
                assert_eq!(p.period(at, now), at - now, "said = planned gap");
                gaps.push(((at - now).as_secs(), p.cadence_interval(now).as_secs()));
            }
            now = at;
            p.sent(probe, now);
        }
        // Each route may go once per 189 s (190 a day over 10 h): the budgets, not the
        // cadence, set some of the gaps.
        assert!(gaps.iter().any(|(gap, cadence)| gap > cadence), "{gaps:?}");
    }

    #[test]
    fn rotates_and_drops_missing_routes() {
        let t0 = Instant::now();
        let mut p = PollPlan::new(Cadence::default(), Limits::NONE, t0);
        let mut seen = Vec::new();
        let mut now = t0;
        for _ in 0..3 {
            let (at, probe) = p.next_check(now);
            now = at;
            p.sent(probe, now);
            seen.push(probe);
        }
        assert_eq!(seen, vec![Probe::UnreadCount, Probe::Poll, Probe::Inbox]);
        p.route_missing(Probe::UnreadCount);
        p.route_missing(Probe::Poll);
        p.route_missing(Probe::Inbox);
        for _ in 0..3 {
            let (at, probe) = p.next_check(now);
            assert_eq!(probe, Probe::Inbox);
            now = at;
            p.sent(probe, now);
        }
    }

    #[test]
    fn rate_limit_waits_and_doubles() {
        let t0 = Instant::now();
        let mut p = PollPlan::new(Cadence::default(), Limits::NONE, t0);
        let until = p.rate_limited_by_server(None, t0);
        assert_eq!(until, t0 + secs(60));
        assert!(p.next_check(t0).0 >= until);
        assert!(p.rate_limited(t0));
        let until = p.rate_limited_by_server(None, t0);
        assert_eq!(until, t0 + secs(120));
        let until = p.rate_limited_by_server(Some(secs(7)), t0);
        assert_eq!(until, t0 + secs(7));
        p.succeeded();
        assert!(!p.rate_limited(t0));
        assert_eq!(p.rate_limited_by_server(None, t0), t0 + secs(60));
    }

    #[test]
    fn budget_bounds_an_hour_of_eager_polling() {
        let t0 = Instant::now();
        let limits = Limits { per_hour: 45, per_day: 190 };
        let mut p = PollPlan::new(Cadence::default(), limits, t0);
        let mut now = t0;
        let mut per_route = std::collections::HashMap::new();
        while now < t0 + secs(3600) {
            p.user_input(now); // an always-active user
            p.check_now(); // and one who keeps pressing R
            let (at, probe) = p.next_check(now);
            now = at;
            if now >= t0 + secs(3600) {
                break;
            }
            p.sent(probe, now);
            *per_route.entry(probe).or_insert(0) += 1;
            now += Duration::from_millis(1);
        }
        for (probe, n) in per_route {
            assert!(n <= 45, "{probe:?}: {n} in an hour");
        }
    }
}
