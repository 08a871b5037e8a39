//! Retrying deliveries to other systems (webhooks, the relay to the national portal): when to
//! try again after a failure, and when to give up.

use std::time::Duration;

/// Exponential back-off: after the n-th failure in a row, wait `base × 2^(n−1)`, at most `cap`,
/// spread by ±`jitter` so that receivers coming back are not hit by every sender at once; after
/// `max_attempts` failures, give up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The wait after the first failure.
    pub base: Duration,
    /// The longest wait.
    pub cap: Duration,
    /// Attempts before giving up (the first included).
    pub max_attempts: u32,
}

impl Backoff {
    /// The wait before the next attempt after `failures` failures in a row, `None` when the
    /// attempts are used up. `jitter` in [0, 1) picks the spot in ±20 % of the wait.
    pub fn after(&self, failures: u32, jitter: f64) -> Option<Duration> {
        if failures == 0 {
            return Some(Duration::ZERO);
        }
        if failures >= self.max_attempts {
            return None;
        }
        let spread = 0.8 + 0.4 * jitter.clamp(0.0, 1.0);
        Some(self.wait(failures).mul_f64(spread))
    }

    /// The wait after the n-th failure, without jitter.
    fn wait(&self, failures: u32) -> Duration {
        let doubling = 2u32.saturating_pow(failures.saturating_sub(1).min(30));
        self.base.saturating_mul(doubling).min(self.cap)
    }

    /// The whole time from the first failure to giving up, without jitter: how long a receiver
    /// may be away before a batch is dead-lettered.
    pub fn patience(&self) -> Duration {
        (1..self.max_attempts).map(|n| self.wait(n)).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const B: Backoff = Backoff {
        base: Duration::from_secs(10),
        cap: Duration::from_secs(3600),
        max_attempts: 12,
    };

    #[test]
    fn waits_double_up_to_the_cap_then_give_up() {
        let waits: Vec<u64> = (1..12)
            .map(|n| B.after(n, 0.5).unwrap().as_secs())
            .collect();
        assert_eq!(
            waits,
            [10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600, 3600]
        );
        assert_eq!(B.after(12, 0.5), None);
        assert_eq!(B.after(40, 0.5), None);
        assert_eq!(B.after(0, 0.9), Some(Duration::ZERO));
    }

    #[test]
    fn jitter_spreads_within_a_fifth() {
        assert_eq!(B.after(1, 0.0), Some(Duration::from_secs(8)));
        assert_eq!(B.after(1, 1.0), Some(Duration::from_secs(12)));
        assert_eq!(B.after(1, 7.0), Some(Duration::from_secs(12)));
    }

    #[test]
    fn patience_sums_the_waits() {
        assert_eq!(
            B.patience(),
            Duration::from_secs(10 + 20 + 40 + 80 + 160 + 320 + 640 + 1280 + 2560 + 3600 + 3600)
        );
        let huge = Backoff {
            base: Duration::from_secs(1),
            cap: Duration::from_secs(60),
            max_attempts: 100,
        };
        assert_eq!(huge.after(99, 0.5), Some(Duration::from_secs(60)));
    }
}
