//! Reconnect backoff: capped exponential with full jitter, that forgets after a
//! connection that stayed up long enough.
//!
//! Full jitter (a uniformly random delay in `[0, min(cap, base·2ⁿ)]`) spreads the
//! reconnects of many clients after a server restart instead of stampeding it. It is
//! a dozen lines; the retry crates offer "jitter added on top" instead, which keeps
//! clients in step, so it is written here.

use std::time::{Duration, Instant};

use rand::Rng;

/// Backoff state for one link.
#[derive(Debug, Clone)]
pub struct Backoff {
    base: Duration,
    cap: Duration,
    reset_after: Duration,
    attempt: u32,
    connected_at: Option<Instant>,
}

impl Default for Backoff {
    /// 1 s → 30 s cap, reset after a connection that stayed up 60 s (issue 5).
    fn default() -> Self {
        Backoff::new(Duration::from_secs(1), Duration::from_secs(30), Duration::from_secs(60))
    }
}

impl Backoff {
    /// A backoff from `base` doubling up to `cap`, forgetting after `reset_after` connected.
    pub fn new(base: Duration, cap: Duration, reset_after: Duration) -> Self {
        Backoff { base, cap, reset_after, attempt: 0, connected_at: None }
    }

    /// The ceiling of the next delay (before jitter): `min(cap, base·2^attempt)`.
    pub fn ceiling(&self) -> Duration {
        let factor = 1u32.checked_shl(self.attempt.min(31)).unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.cap)
    }

    /// The delay before the next attempt, and count the attempt.
    pub fn next_delay<R: Rng + ?Sized>(&mut self, rng: &mut R) -> Duration {
        let ceiling = self.ceiling();
        self.attempt = self.attempt.saturating_add(1);
        let millis = ceiling.as_millis().min(u64::MAX as u128) as u64;
        Duration::from_millis(rng.random_range(0..=millis))
    }

    /// Consecutive failed attempts so far.
    pub fn attempts(&self) -> u32 {
        self.attempt
    }

    /// The link came up at `now`.
    pub fn connected(&mut self, now: Instant) {
        self.connected_at = Some(now);
    }

    /// The link went down at `now`: forget past failures if it had stayed up long enough.
    pub fn disconnected(&mut self, now: Instant) {
        if let Some(up) = self.connected_at.take() {
            if now.saturating_duration_since(up) >= self.reset_after {
                self.attempt = 0;
            }
        }
    }

    /// Start over (the user asked for an immediate retry, or a request succeeded).
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    #[test]
    fn grows_to_cap_and_stays_within_ceiling() {
        let mut b = Backoff::default();
        let mut rng = StdRng::seed_from_u64(7);
        let mut ceilings = Vec::new();
        for _ in 0..8 {
            let ceiling = b.ceiling();
            let d = b.next_delay(&mut rng);
            assert!(d <= ceiling, "{d:?} > {ceiling:?}");
            ceilings.push(ceiling.as_secs());
        }
        assert_eq!(ceilings, vec![1, 2, 4, 8, 16, 30, 30, 30]);
    }

    #[test]
    fn jitter_is_spread_not_constant() {
        let mut rng = StdRng::seed_from_u64(1);
        let delays: Vec<_> = (0..50)
            .map(|_| {
                let mut b = Backoff::default();
                for _ in 0..5 {
                    b.next_delay(&mut rng);
                }
                b.next_delay(&mut rng)
            })
            .collect();
        let min = delays.iter().min().copied().unwrap_or_default();
        let max = delays.iter().max().copied().unwrap_or_default();
        assert!(max - min > Duration::from_secs(10), "{min:?}..{max:?}");
    }

    #[test]
    fn resets_only_after_a_long_enough_connection() {
        let mut b = Backoff::default();
        let mut rng = StdRng::seed_from_u64(3);
        for _ in 0..4 {
            b.next_delay(&mut rng);
        }
        let t0 = Instant::now();
        b.connected(t0);
        b.disconnected(t0 + Duration::from_secs(5));
        assert_eq!(b.attempts(), 4, "a short connection keeps the backoff");
        b.connected(t0);
        b.disconnected(t0 + Duration::from_secs(61));
        assert_eq!(b.attempts(), 0, "a connection up 60 s forgets");
    }

    #[test]
    fn huge_attempt_counts_do_not_overflow() {
        let mut b = Backoff { attempt: u32::MAX - 1, ..Backoff::default() };
        let mut rng = StdRng::seed_from_u64(0);
        assert!(b.next_delay(&mut rng) <= Duration::from_secs(30));
        assert!(b.next_delay(&mut rng) <= Duration::from_secs(30));
    }
}
