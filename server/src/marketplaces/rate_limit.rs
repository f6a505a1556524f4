//! Per-account token buckets, so that Shipback stays within each marketplace API's
//! documented rate and does not earn 429s.

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::num::NonZeroU32;
use std::time::Duration;

/// A marketplace's documented usage plan for one operation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct UsagePlan {
    /// Requests per second, as documented.
    pub rate: f64,
    pub burst: u32,
}

/// Amazon Orders v0 `confirmShipment`: 2 requests per second, burst 10.
pub const AMAZON_CONFIRM_SHIPMENT: UsagePlan = UsagePlan {
    rate: 2.0,
    burst: 10,
};

/// Shipback runs this much below the documented rate: requests leave at the pace the
/// bucket allows, but arrive with network jitter, and an early arrival would be a 429.
pub const HEADROOM: f64 = 0.95;

/// One token bucket per account for one operation.
pub struct AccountLimiter {
    limiter: Option<DefaultKeyedRateLimiter<i64>>,
}

impl AccountLimiter {
    pub fn new(plan: UsagePlan) -> AccountLimiter {
        let period = Duration::from_secs_f64(1.0 / (plan.rate * HEADROOM));
        let burst = NonZeroU32::new(plan.burst.max(1)).expect("burst is at least 1");
        let quota = Quota::with_period(period)
            .expect("a positive rate gives a positive period")
            .allow_burst(burst);
        AccountLimiter {
            limiter: Some(RateLimiter::keyed(quota)),
        }
    }

    /// No limit at all: for benchmarks against an emulator with its limits off.
    pub fn unlimited() -> AccountLimiter {
        AccountLimiter { limiter: None }
    }

    /// Waits until `account` may make its next call.
    pub async fn ready(&self, account: i64) {
        if let Some(limiter) = &self.limiter {
            limiter.until_key_ready(&account).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[tokio::test]
    async fn a_burst_then_the_rate_per_account() {
        let limiter = AccountLimiter::new(UsagePlan {
            rate: 20.0,
            burst: 5,
        });
        let start = Instant::now();
        for _ in 0..5 {
            limiter.ready(1).await;
        }
        assert!(
            start.elapsed() < Duration::from_millis(150),
            "the burst is immediate"
        );
        for _ in 0..4 {
            limiter.ready(1).await;
        }
        // 4 more at 20/s less the headroom: about 210 ms.
        let elapsed = start.elapsed();
        assert!(elapsed >= Duration::from_millis(190), "{elapsed:?}");
        // Another account has its own bucket.
        let other = Instant::now();
        for _ in 0..5 {
            limiter.ready(2).await;
        }
        assert!(other.elapsed() < Duration::from_millis(150));
    }
}
