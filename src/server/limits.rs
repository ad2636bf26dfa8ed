//! Rate limits: the login limiter (5 per 60 s per username and per IP) and
//! production's per-route limiter (`50/h,200/d` per route per client IP).

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// One rule of a route limit: at most `count` requests per `window`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RateRule {
    /// Requests allowed in one window.
    pub count: u32,
    /// The window length.
    pub window: Duration,
}

impl RateRule {
    /// Flask-Limiter's wording, as it appears in the 429 page: "50 per 1 hour".
    pub fn label(&self) -> String {
        let secs = self.window.as_secs();
        let (n, unit) = if secs % 86_400 == 0 {
            (secs / 86_400, "day")
        } else if secs % 3_600 == 0 {
            (secs / 3_600, "hour")
        } else if secs % 60 == 0 {
            (secs / 60, "minute")
        } else {
            (secs, "second")
        };
        format!("{} per {n} {unit}", self.count)
    }
}

/// A per-route limit, e.g. `50/h,200/d` (units `s`, `m`, `h`, `d`, optionally
/// with a count: `100/2h`). Each rule applies per route and per client IP.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteLimit {
    /// All rules; a request must pass every one.
    pub rules: Vec<RateRule>,
}

impl RouteLimit {
    /// Production's default: 50 per hour and 200 per day.
    pub fn production_default() -> Self {
        RouteLimit {
            rules: vec![
                RateRule { count: 50, window: Duration::from_secs(3_600) },
                RateRule { count: 200, window: Duration::from_secs(86_400) },
            ],
        }
    }
}

/// Why a `--route-limit` value was refused.
#[derive(Debug, thiserror::Error)]
#[error("invalid route limit {0:?}: expected rules like 50/h,200/d (units s, m, h, d)")]
pub struct RouteLimitParseError(String);

impl FromStr for RouteLimit {
    type Err = RouteLimitParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || RouteLimitParseError(s.to_string());
        let mut rules = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (count, per) = part.split_once('/').ok_or_else(err)?;
            let count: u32 = count.trim().parse().map_err(|_| err())?;
            let per = per.trim();
            let unit_at = per.find(|c: char| c.is_ascii_alphabetic()).ok_or_else(err)?;
            let n: u64 = if unit_at == 0 { 1 } else { per[..unit_at].parse().map_err(|_| err())? };
            let unit = match &per[unit_at..] {
                "s" | "sec" | "second" => 1,
                "m" | "min" | "minute" => 60,
                "h" | "hour" => 3_600,
                "d" | "day" => 86_400,
                _ => return Err(err()),
            };
            if count == 0 || n == 0 {
                return Err(err());
            }
            rules.push(RateRule { count, window: Duration::from_secs(n * unit) });
        }
        if rules.is_empty() {
            return Err(err());
        }
        Ok(RouteLimit { rules })
    }
}

impl fmt::Display for RouteLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> =
            self.rules.iter().map(|r| format!("{}/{}s", r.count, r.window.as_secs())).collect();
        f.write_str(&parts.join(","))
    }
}

/// Sliding-window log of events per key.
struct Windows<K> {
    map: HashMap<K, VecDeque<Instant>>,
}

impl<K: std::hash::Hash + Eq + Clone> Windows<K> {
    fn new() -> Self {
        Windows { map: HashMap::new() }
    }

    fn prune(&mut self, key: &K, now: Instant, keep: Duration) -> &mut VecDeque<Instant> {
        let log = self.map.entry(key.clone()).or_default();
        while log.front().is_some_and(|t| now.duration_since(*t) >= keep) {
            log.pop_front();
        }
        log
    }

    /// Forget keys with empty logs once the map grows, so memory stays bounded.
    fn sweep(&mut self, now: Instant, keep: Duration) {
        if self.map.len() > 10_000 {
            self.map.retain(|_, log| log.back().is_some_and(|t| now.duration_since(*t) < keep));
        }
    }
}

/// Login attempts: failed logins count, per username and per client IP; once a key
/// holds `max` failures within `window`, every attempt for it (even a correct one,
/// as production does) gets 429 until the oldest failure ages out. Only failures
/// count so that several people behind one address can still log in.
pub struct LoginLimiter {
    max: usize,
    window: Duration,
    windows: Mutex<Windows<String>>,
}

impl LoginLimiter {
    /// The contract's limit: 5 per 60 s.
    pub fn new() -> Self {
        Self::with(5, Duration::from_secs(60))
    }

    /// A custom limit (tests).
    pub fn with(max: usize, window: Duration) -> Self {
        LoginLimiter { max, window, windows: Mutex::new(Windows::new()) }
    }

    fn keys(username: &str, ip: IpAddr) -> [String; 2] {
        [format!("user:{}", username.to_lowercase()), format!("ip:{ip}")]
    }

    /// `Err(seconds to wait)` when this username or address is over the limit.
    pub fn check(&self, username: &str, ip: IpAddr) -> Result<(), u64> {
        let now = Instant::now();
        let mut w = crate::model::lock::lock(&self.windows);
        let mut wait = Duration::ZERO;
        for key in Self::keys(username, ip) {
            let log = w.prune(&key, now, self.window);
            if log.len() >= self.max {
                if let Some(oldest) = log.front() {
                    wait = wait.max(self.window.saturating_sub(now.duration_since(*oldest)));
                }
            }
        }
        if wait.is_zero() {
            Ok(())
        } else {
            Err(wait.as_secs_f64().ceil().max(1.0) as u64)
        }
    }

    /// Record a failed attempt for both keys.
    pub fn failed(&self, username: &str, ip: IpAddr) {
        let now = Instant::now();
        let mut w = crate::model::lock::lock(&self.windows);
        for key in Self::keys(username, ip) {
            w.prune(&key, now, self.window).push_back(now);
        }
        w.sweep(now, self.window);
    }
}

impl Default for LoginLimiter {
    fn default() -> Self {
        Self::new()
    }
}

/// Production's Flask-Limiter default: every request counts, per route and client IP.
pub struct RouteLimiter {
    limit: RouteLimit,
    longest: Duration,
    windows: Mutex<Windows<(String, IpAddr)>>,
}

impl RouteLimiter {
    /// A limiter enforcing `limit`.
    pub fn new(limit: RouteLimit) -> Self {
        let longest = limit.rules.iter().map(|r| r.window).max().unwrap_or(Duration::ZERO);
        RouteLimiter { limit, longest, windows: Mutex::new(Windows::new()) }
    }

    /// Count one request; `Err(label)` of the first exceeded rule when it is over.
    pub fn hit(&self, route: &str, ip: IpAddr) -> Result<(), String> {
        let now = Instant::now();
        let mut w = crate::model::lock::lock(&self.windows);
        let log = w.prune(&(route.to_string(), ip), now, self.longest);
        for rule in &self.limit.rules {
            let in_window = log.iter().rev().take_while(|t| now.duration_since(**t) < rule.window).count();
            if in_window >= rule.count as usize {
                return Err(rule.label());
            }
        }
        log.push_back(now);
        w.sweep(now, self.longest);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_route_limits() {
        let l: RouteLimit = "50/h,200/d".parse().unwrap();
        assert_eq!(l, RouteLimit::production_default());
        assert_eq!(l.rules[0].label(), "50 per 1 hour");
        assert_eq!(l.rules[1].label(), "200 per 1 day");
        let l: RouteLimit = "3/10s".parse().unwrap();
        assert_eq!(l.rules[0].window, Duration::from_secs(10));
        assert_eq!(l.rules[0].label(), "3 per 10 second");
        for bad in ["", "50", "x/h", "50/y", "0/h", "5/0h"] {
            assert!(bad.parse::<RouteLimit>().is_err(), "{bad}");
        }
    }

    #[test]
    fn route_limiter_is_per_route_and_ip() {
        let r = RouteLimiter::new("2/h".parse().unwrap());
        let ip: IpAddr = [127, 0, 0, 1].into();
        let other: IpAddr = [127, 0, 0, 2].into();
        assert!(r.hit("/a", ip).is_ok());
        assert!(r.hit("/a", ip).is_ok());
        assert_eq!(r.hit("/a", ip), Err("2 per 1 hour".to_string()));
        assert!(r.hit("/b", ip).is_ok());
        assert!(r.hit("/a", other).is_ok());
    }

    #[test]
    fn login_limiter_counts_failures_per_user_and_ip() {
        let l = LoginLimiter::with(2, Duration::from_secs(60));
        let ip: IpAddr = [10, 0, 0, 1].into();
        assert!(l.check("alex", ip).is_ok());
        l.failed("alex", ip);
        l.failed("Alex", [10, 0, 0, 2].into());
        let wait = l.check("alex", [10, 0, 0, 3].into()).unwrap_err();
        assert!((1..=60).contains(&wait));
        assert!(l.check("sam", [10, 0, 0, 3].into()).is_ok());
        l.failed("sam", ip);
        assert!(l.check("dr", ip).is_err(), "two failures from one IP block it");
    }
}
