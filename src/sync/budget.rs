//! Per-route request budgets, so polling stays inside the production server's limits.
//!
//! Production allows 50 requests per hour and 200 per day, per route, per client IP,
//! and answers 429 past that (contract, "Rate limits"). The poller keeps a little
//! below (45/h and 190/day by default) and spreads its checks so the budget lasts
//! instead of being burnt in the first minutes: the hourly budget at an even pace
//! (80 s apart at 45/h), the daily one over a working day (`horizon`, 10 h: 190 per
//! 10 h is one every 189 s), and past that horizon what is left of the rolling day
//! is spread until its oldest request ages out, so it never runs dry. Rotating the
//! probe over several routes (each with its own budget) multiplies the rate.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

const HOUR: Duration = Duration::from_secs(3600);
const DAY: Duration = Duration::from_secs(24 * 3600);

/// Requests allowed per window for one route; 0 means no limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Requests per rolling hour.
    pub per_hour: u32,
    /// Requests per rolling day.
    pub per_day: u32,
}

impl Limits {
    /// The defaults for servers without push (production): 45/h, 190/day.
    pub const PRODUCTION: Limits = Limits { per_hour: 45, per_day: 190 };
    /// No budget (servers that offer our extensions).
    pub const NONE: Limits = Limits { per_hour: 0, per_day: 0 };

    /// True when neither window limits anything.
    pub fn is_unlimited(&self) -> bool {
        self.per_hour == 0 && self.per_day == 0
    }
}

/// The span over which a day's budget is planned to last by default: a working day.
pub const DEFAULT_HORIZON: Duration = Duration::from_secs(10 * 3600);

/// The lengths of the two windows the limits count over. Real servers use an hour and a
/// day; tests shrink both (a server started with `--route-limit 5/10s`) to watch a
/// budget at work in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Windows {
    /// The window of [`Limits::per_hour`].
    pub hour: Duration,
    /// The window of [`Limits::per_day`].
    pub day: Duration,
}

impl Windows {
    /// An hour and a day.
    pub const REAL: Windows = Windows { hour: HOUR, day: DAY };
}

impl Default for Windows {
    fn default() -> Self {
        Windows::REAL
    }
}

/// The requests one route made within the last day, and its limits.
#[derive(Debug, Clone)]
pub struct RouteBudget {
    limits: Limits,
    hour: Duration,
    day: Duration,
    horizon: Duration,
    sent: VecDeque<Instant>,
}

impl RouteBudget {
    /// An empty budget with these limits, planned over [`DEFAULT_HORIZON`].
    pub fn new(limits: Limits) -> Self {
        RouteBudget { limits, hour: HOUR, day: DAY, horizon: DEFAULT_HORIZON, sent: VecDeque::new() }
    }

    /// Count over other windows than an hour and a day; the planning horizon keeps its
    /// proportion to the day (10 h of 24).
    pub fn with_windows(mut self, windows: Windows) -> Self {
        self.hour = windows.hour.max(Duration::from_millis(1));
        self.day = windows.day.max(self.hour);
        self.horizon = self.day.mul_f64(DEFAULT_HORIZON.as_secs_f64() / DAY.as_secs_f64());
        self
    }

    /// Plan the daily budget to last `horizon` of continuous use (at most a day).
    pub fn with_horizon(mut self, horizon: Duration) -> Self {
        self.horizon = horizon.clamp(Duration::from_secs(60).min(self.day), self.day);
        self
    }

    /// The limits in force.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    fn forget_old(&mut self, now: Instant) {
        while self.sent.front().is_some_and(|&t| now.saturating_duration_since(t) >= self.day) {
            self.sent.pop_front();
        }
    }

    fn in_last(&self, window: Duration, now: Instant) -> usize {
        self.sent.iter().rev().take_while(|&&t| now.saturating_duration_since(t) < window).count()
    }

    /// When the last request was made, if any within the day.
    pub fn last_request(&self) -> Option<Instant> {
        self.sent.back().copied()
    }

    /// Record one request made at `now`.
    pub fn record(&mut self, now: Instant) {
        self.forget_old(now);
        self.sent.push_back(now);
    }

    /// Requests left in the hour and day windows at `now` (`u32::MAX` where unlimited).
    pub fn remaining(&mut self, now: Instant) -> (u32, u32) {
        self.forget_old(now);
        let left = |limit: u32, used: usize| {
            if limit == 0 {
                u32::MAX
            } else {
                limit.saturating_sub(used.min(u32::MAX as usize) as u32)
            }
        };
        (left(self.limits.per_hour, self.in_last(self.hour, now)), left(self.limits.per_day, self.sent.len()))
    }

    /// The earliest instant at or after `now` when one more request fits both windows.
    pub fn next_allowed(&mut self, now: Instant) -> Instant {
        let (hour_left, day_left) = self.remaining(now);
        let mut at = now;
        if hour_left == 0 {
            // The oldest request inside the hour window must age out.
            let used = self.in_last(self.hour, now);
            if let Some(&oldest) = self.sent.get(self.sent.len() - used) {
                at = at.max(oldest + self.hour);
            }
        }
        if day_left == 0 {
            if let Some(&oldest) = self.sent.front() {
                at = at.max(oldest + self.day);
            }
        }
        at
    }

    /// The least spacing between two requests of this route that keeps it inside its
    /// budget (see the module doc). Zero when unlimited.
    pub fn spread_interval(&mut self, now: Instant) -> Duration {
        if self.limits.is_unlimited() {
            return Duration::ZERO;
        }
        let (_, day_left) = self.remaining(now);
        let mut interval = Duration::ZERO;
        if self.limits.per_hour > 0 {
            interval = interval.max(self.hour / self.limits.per_hour);
        }
        if self.limits.per_day > 0 {
            interval = interval.max(self.horizon / self.limits.per_day);
            // Past the horizon: stretch what is left until the oldest request ages out.
            if let Some(&oldest) = self.sent.front() {
                let frees_in = (oldest + self.day).saturating_duration_since(now);
                let used = self.limits.per_day.saturating_sub(day_left);
                if used >= self.limits.per_day / 2 {
                    interval = interval.max(frees_in / day_left.max(1));
                }
            }
        }
        interval.max(self.next_allowed(now).saturating_duration_since(now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_exceeds_limits_when_followed() {
        let mut b = RouteBudget::new(Limits { per_hour: 5, per_day: 8 });
        let start = Instant::now();
        let mut now = start;
        let mut times = Vec::new();
        while now < start + Duration::from_secs(30 * 3600) {
            now = b.next_allowed(now);
            b.record(now);
            times.push(now);
            now += Duration::from_secs(1);
        }
        for (i, &t) in times.iter().enumerate() {
            let in_hour = times[..=i].iter().filter(|&&s| t.duration_since(s) < HOUR).count();
            let in_day = times[..=i].iter().filter(|&&s| t.duration_since(s) < DAY).count();
            assert!(in_hour <= 5 && in_day <= 8, "at {i}: {in_hour}/h {in_day}/d");
        }
        assert!(times.len() > 8, "the day window frees up again after 24 h");
    }

    #[test]
    fn spread_interval_paces_to_last_the_window() {
        let mut b = RouteBudget::new(Limits::PRODUCTION);
        let now = Instant::now();
        // 3600/45 = 80 s; 10 h/190 ≈ 189 s: the day budget is the tighter one.
        assert_eq!(b.spread_interval(now).as_secs(), 189);
        let mut b = RouteBudget::new(Limits { per_hour: 45, per_day: 0 });
        assert_eq!(b.spread_interval(now).as_secs(), 80);
        let mut b = RouteBudget::new(Limits::NONE);
        assert_eq!(b.spread_interval(now), Duration::ZERO);
    }

    #[test]
    fn pacing_by_spread_interval_never_runs_dry_over_two_days() {
        let limits = Limits { per_hour: 45, per_day: 190 };
        let mut b = RouteBudget::new(limits);
        let start = Instant::now();
        let mut now = start;
        let mut times: Vec<Instant> = Vec::new();
        let mut longest_gap = Duration::ZERO;
        while now < start + 2 * DAY {
            let gap = b.spread_interval(now);
            longest_gap = longest_gap.max(gap);
            now += gap.max(Duration::from_secs(15));
            b.record(now);
            times.push(now);
        }
        for (i, &t) in times.iter().enumerate() {
            let in_day = times[..=i].iter().filter(|&&s| t.duration_since(s) < DAY).count();
            let in_hour = times[..=i].iter().filter(|&&s| t.duration_since(s) < HOUR).count();
            assert!(in_day <= 190 && in_hour <= 45, "request {i}: {in_hour}/h {in_day}/day");
        }
        // It never stalls for hours: what is left is spread, not burnt then waited out.
        assert!(longest_gap < Duration::from_secs(2 * 3600), "{longest_gap:?}");
    }

    #[test]
    fn shrunk_windows_scale_pacing_and_limits() {
        let windows = Windows { hour: Duration::from_secs(10), day: Duration::from_secs(240) };
        let mut b = RouteBudget::new(Limits { per_hour: 4, per_day: 0 }).with_windows(windows);
        let t = Instant::now();
        assert_eq!(b.spread_interval(t), Duration::from_millis(2500));
        for i in 0..4 {
            b.record(t + Duration::from_secs(i));
        }
        assert_eq!(b.remaining(t + Duration::from_secs(4)).0, 0);
        assert_eq!(b.next_allowed(t + Duration::from_secs(4)), t + Duration::from_secs(10));
        let mut d = RouteBudget::new(Limits { per_hour: 0, per_day: 24 }).with_windows(windows);
        // The horizon keeps its 10/24 share of the day: 100 s / 24.
        assert_eq!(d.spread_interval(t).as_millis(), 4166);
    }

    #[test]
    fn remaining_counts_down_and_recovers() {
        let mut b = RouteBudget::new(Limits { per_hour: 2, per_day: 0 });
        let t = Instant::now();
        b.record(t);
        b.record(t + Duration::from_secs(10));
        assert_eq!(b.remaining(t + Duration::from_secs(20)).0, 0);
        assert_eq!(b.next_allowed(t + Duration::from_secs(20)), t + HOUR);
        assert_eq!(b.remaining(t + HOUR).0, 1);
    }
}
