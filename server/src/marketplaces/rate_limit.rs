//! Per-account token buckets, so that Shipback stays within each marketplace API's
//! documented rate and does not earn 429s.

use crate::store::Store;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use std::collections::HashMap;
use std::future::Future;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

tokio::task_local! {
    /// Microseconds this task spent waiting in [`AccountLimiter::ready`], when counted.
    static PACING: Arc<AtomicU64>;
}

/// Runs `call` and tells how long it waited for Shipback's own rate limits, so that a
/// call paced to the marketplace's rate is not mistaken for a slow answer.
pub async fn time_spent_pacing<F: Future>(call: F) -> (F::Output, Duration) {
    let waited = Arc::new(AtomicU64::new(0));
    let output = PACING.scope(waited.clone(), call).await;
    (
        output,
        Duration::from_micros(waited.load(Ordering::Relaxed)),
    )
}

/// A marketplace's documented usage plan for one operation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct UsagePlan {
    /// Requests per second, as documented.
    pub rate: f64,
    pub burst: u32,
}

impl UsagePlan {
    /// A daily call quota: the whole day's calls may come at once, and the quota
    /// refills evenly over the day.
    pub fn per_day(calls: u32) -> UsagePlan {
        UsagePlan {
            rate: f64::from(calls.max(1)) / 86_400.0,
            burst: calls.max(1),
        }
    }

    /// The marketplace's own bucket for this plan, exactly as documented.
    pub fn quota(self) -> Quota {
        Self::quota_of(self.rate, self.burst)
    }

    /// The bucket Shipback paces itself by: [`HEADROOM`] below the documented rate,
    /// and [`RESERVE`] calls short of the documented burst where jitter can matter.
    pub fn paced_quota(self) -> Quota {
        Self::quota_of(self.rate * HEADROOM, self.burst - self.reserve())
    }

    /// Calls of the burst Shipback leaves unused: [`RESERVE`] when a period of the plan
    /// is within [`JITTER_REACH`], none for slower plans such as a daily quota (whose
    /// burst is the day's whole allowance), and never the burst's last call.
    pub fn reserve(self) -> u32 {
        let period = Duration::from_secs_f64(1.0 / self.rate);
        if period <= JITTER_REACH {
            RESERVE.min(self.burst.saturating_sub(1))
        } else {
            0
        }
    }

    fn quota_of(rate: f64, burst: u32) -> Quota {
        let period = Duration::from_secs_f64(1.0 / rate);
        let burst = NonZeroU32::new(burst.max(1)).expect("burst is at least 1");
        Quota::with_period(period)
            .expect("a positive rate gives a positive period")
            .allow_burst(burst)
    }
}

/// Amazon Orders v0 `confirmShipment`: 2 requests per second, burst 10.
pub const AMAZON_CONFIRM_SHIPMENT: UsagePlan = UsagePlan {
    rate: 2.0,
    burst: 10,
};

/// Amazon Orders API 2026-01-01 `searchOrders`: 0.0056 requests per second (one in
/// three minutes), burst 20.
pub const AMAZON_SEARCH_ORDERS: UsagePlan = UsagePlan {
    rate: 0.0056,
    burst: 20,
};

/// Amazon Orders API 2026-01-01 `getOrder`: 0.5 requests per second, burst 30.
pub const AMAZON_GET_ORDER: UsagePlan = UsagePlan {
    rate: 0.5,
    burst: 30,
};

/// Amazon Orders v0 `getOrders` (deprecated; Shipback reads with the 2026-01-01
/// operations, the emulator still answers it): 0.0167 requests per second, burst 20.
pub const AMAZON_GET_ORDERS_V0: UsagePlan = UsagePlan {
    rate: 0.0167,
    burst: 20,
};

/// Amazon Orders v0 `getOrderItems` (deprecated, as above): 0.5 per second, burst 30.
pub const AMAZON_GET_ORDER_ITEMS_V0: UsagePlan = UsagePlan {
    rate: 0.5,
    burst: 30,
};

/// Amazon Catalog Items 2022-04-01 `getCatalogItem`: 2 requests per second, burst 2.
pub const AMAZON_GET_CATALOG_ITEM: UsagePlan = UsagePlan {
    rate: 2.0,
    burst: 2,
};

/// eBay's default daily call quota for an application's calls on one seller's behalf.
pub const EBAY_DAILY_QUOTA: u32 = 5_000;

/// The Sell Fulfillment API's daily quota per application.
pub const EBAY_FULFILLMENT_DAILY_QUOTA: u32 = 100_000;

/// Shipback runs this much below the documented rate, so that over many calls the
/// marketplace's bucket fills faster than Shipback empties it.
pub const HEADROOM: f64 = 0.95;

/// Calls of the documented burst that Shipback never uses. Requests leave at the pace
/// the bucket allows but arrive with network jitter: a slow first request (a new
/// connection on a busy host) starts the marketplace's clock late, and the next one
/// would arrive before its token. A token kept in reserve absorbs up to one period of
/// jitter at any point, where the headroom alone covers only a few milliseconds at
/// first. (Seen in CI: one 429 among 300 calls on five accounts, without it.)
pub const RESERVE: u32 = 1;

/// The longest a request can be held up on its way and still count: beyond it the
/// call has timed out. A plan whose period is longer needs no reserve.
pub const JITTER_REACH: Duration = Duration::from_secs(10);

/// An account's bucket and the rate it was made for.
struct Bucket {
    rate: f64,
    limiter: Arc<DefaultDirectRateLimiter>,
}

/// Where the turns of every process are kept, so that several workers together keep
/// the plan one would (see `store/pacing.rs`).
#[derive(Clone, Debug)]
pub struct SharedPacing {
    store: Store,
    /// Names the operation in the keys: `amazon.confirmShipment:<account id>`.
    operation: &'static str,
}

/// One token bucket per account for one operation.
pub struct AccountLimiter {
    /// `None`: no limit at all (benchmarks against an emulator with its limits off).
    plan: Option<UsagePlan>,
    buckets: Mutex<HashMap<i64, Bucket>>,
    /// The turns kept in the database; `None`: in this process only.
    shared: Option<SharedPacing>,
}

impl AccountLimiter {
    pub fn new(plan: UsagePlan) -> AccountLimiter {
        AccountLimiter {
            plan: Some(plan),
            buckets: Mutex::new(HashMap::new()),
            shared: None,
        }
    }

    /// The plan kept together with every process on `store`'s database.
    pub fn shared(plan: UsagePlan, store: Store, operation: &'static str) -> AccountLimiter {
        AccountLimiter {
            shared: Some(SharedPacing { store, operation }),
            ..AccountLimiter::new(plan)
        }
    }

    /// No limit at all: for benchmarks against an emulator with its limits off.
    pub fn unlimited() -> AccountLimiter {
        AccountLimiter {
            plan: None,
            buckets: Mutex::new(HashMap::new()),
            shared: None,
        }
    }

    /// Waits for the account's turn in the database, if it comes before `deadline`.
    /// `None` when the database cannot tell (the caller then paces by this process's
    /// bucket alone); `Some(false)` when the turn would come too late (none is taken).
    async fn shared_turn(
        &self,
        account: i64,
        plan: UsagePlan,
        deadline: Option<std::time::Instant>,
    ) -> Option<bool> {
        let shared = self.shared.as_ref()?;
        let rate = self.rate(account).unwrap_or(plan.rate);
        let paced = UsagePlan { rate, ..plan };
        let interval = Duration::from_secs_f64(1.0 / (rate * HEADROOM));
        let key = format!("{}:{account}", shared.operation);
        let latest = deadline.map(|d| d.saturating_duration_since(std::time::Instant::now()));
        match shared
            .store
            .take_turn(&key, interval, paced.burst - paced.reserve(), latest)
            .await
        {
            Ok(Some(wait)) => {
                tokio::time::sleep(wait).await;
                Some(true)
            }
            Ok(None) => Some(false),
            Err(e) => {
                tracing::warn!(error = %e, key, "shared pacing unavailable; pacing in this process alone");
                None
            }
        }
    }

    fn bucket(&self, account: i64, plan: UsagePlan) -> Arc<DefaultDirectRateLimiter> {
        let mut buckets = self.buckets.lock().expect("rate limiter lock");
        buckets
            .entry(account)
            .or_insert_with(|| Bucket {
                rate: plan.rate,
                limiter: Arc::new(RateLimiter::direct(plan.paced_quota())),
            })
            .limiter
            .clone()
    }

    /// Waits until `account` may make its next call.
    pub async fn ready(&self, account: i64) {
        if let Some(plan) = self.plan {
            let started = std::time::Instant::now();
            if self.shared_turn(account, plan, None).await.is_none() {
                self.bucket(account, plan).until_ready().await;
            }
            let waited = started.elapsed().as_micros() as u64;
            let _ = PACING.try_with(|total| total.fetch_add(waited, Ordering::Relaxed));
        }
    }

    /// Waits for the account's next call if its turn comes before `deadline`; `false`
    /// (and, where the turns are shared, none taken) when it would come later.
    pub async fn ready_before(&self, account: i64, deadline: std::time::Instant) -> bool {
        let Some(plan) = self.plan else {
            return true;
        };
        let started = std::time::Instant::now();
        let turn = match self.shared_turn(account, plan, Some(deadline)).await {
            Some(turn) => turn,
            None => {
                self.bucket(account, plan).until_ready().await;
                std::time::Instant::now() <= deadline
            }
        };
        let waited = started.elapsed().as_micros() as u64;
        let _ = PACING.try_with(|total| total.fetch_add(waited, Ordering::Relaxed));
        turn
    }

    /// Takes a call's turn if there is one now; `false` (and nothing taken) when the
    /// plan would make it wait.
    pub async fn try_ready(&self, account: i64) -> bool {
        let Some(plan) = self.plan else {
            return true;
        };
        match self
            .shared_turn(account, plan, Some(std::time::Instant::now()))
            .await
        {
            Some(turn) => turn,
            None => self.bucket(account, plan).check().is_ok(),
        }
    }

    /// The marketplace told us the account's rate for this operation
    /// (`x-amzn-RateLimit-Limit`): from now on the account is paced at that rate when
    /// it differs from the documented one. The burst stays as documented.
    pub fn observe_rate(&self, account: i64, rate: f64) {
        let Some(plan) = self.plan else { return };
        if !rate.is_finite() || rate <= 0.0 {
            return;
        }
        let mut buckets = self.buckets.lock().expect("rate limiter lock");
        let current = buckets.get(&account).map(|b| b.rate).unwrap_or(plan.rate);
        if (current - rate).abs() <= current * 0.01 {
            return;
        }
        let plan = UsagePlan { rate, ..plan };
        // The new bucket starts empty, so that a lowered rate takes effect at once
        // instead of after a fresh burst.
        let limiter = RateLimiter::direct(plan.paced_quota());
        for _ in 0..plan.burst {
            if limiter.check().is_err() {
                break;
            }
        }
        buckets.insert(
            account,
            Bucket {
                rate,
                limiter: Arc::new(limiter),
            },
        );
    }

    /// The rate the account is paced at now.
    pub fn rate(&self, account: i64) -> Option<f64> {
        let plan = self.plan?;
        let buckets = self.buckets.lock().expect("rate limiter lock");
        Some(buckets.get(&account).map(|b| b.rate).unwrap_or(plan.rate))
    }
}

/// Reads Amazon's `x-amzn-RateLimit-Limit` header (requests per second).
pub fn amazon_rate_limit(headers: &reqwest::header::HeaderMap) -> Option<f64> {
    headers
        .get("x-amzn-RateLimit-Limit")?
        .to_str()
        .ok()?
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|r| r.is_finite() && *r > 0.0)
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
        for _ in 0..4 {
            limiter.ready(1).await;
        }
        assert!(
            start.elapsed() < Duration::from_millis(150),
            "the burst less the reserve is immediate"
        );
        for _ in 0..4 {
            limiter.ready(1).await;
        }
        // 4 more at 20/s less the headroom: about 210 ms.
        let elapsed = start.elapsed();
        assert!(elapsed >= Duration::from_millis(190), "{elapsed:?}");
        // Another account has its own bucket.
        let other = Instant::now();
        for _ in 0..4 {
            limiter.ready(2).await;
        }
        assert!(other.elapsed() < Duration::from_millis(150));
    }

    #[tokio::test]
    async fn a_lower_announced_rate_slows_the_account_at_once() {
        let limiter = AccountLimiter::new(UsagePlan {
            rate: 100.0,
            burst: 5,
        });
        limiter.observe_rate(1, 10.0);
        assert_eq!(limiter.rate(1), Some(10.0));
        assert_eq!(limiter.rate(2), Some(100.0));
        let start = Instant::now();
        for _ in 0..3 {
            limiter.ready(1).await;
        }
        // No fresh burst: three calls at 10/s less the headroom take over 200 ms.
        assert!(start.elapsed() >= Duration::from_millis(200));
        // The same rate again changes nothing.
        limiter.observe_rate(1, 10.0);
        assert_eq!(limiter.rate(1), Some(10.0));
    }

    #[test]
    fn a_daily_quota_is_a_day_long_bucket() {
        let plan = UsagePlan::per_day(5_000);
        assert_eq!(plan.burst, 5_000);
        assert!((plan.rate * 86_400.0 - 5_000.0).abs() < 1e-6);
    }

    #[test]
    fn the_reserve_is_kept_only_where_a_period_is_short() {
        assert_eq!(AMAZON_CONFIRM_SHIPMENT.reserve(), 1);
        assert_eq!(AMAZON_GET_ORDER.reserve(), 1, "a period of 2 s");
        assert_eq!(AMAZON_GET_CATALOG_ITEM.reserve(), 1);
        assert_eq!(
            AMAZON_SEARCH_ORDERS.reserve(),
            0,
            "a period of three minutes"
        );
        assert_eq!(UsagePlan::per_day(3).reserve(), 0, "a day's allowance");
        let one = UsagePlan {
            rate: 5.0,
            burst: 1,
        };
        assert_eq!(one.reserve(), 0, "a burst of one stays one");
    }

    #[tokio::test]
    async fn a_small_daily_quota_is_usable_at_once() {
        let limiter = AccountLimiter::new(UsagePlan::per_day(3));
        let start = Instant::now();
        for _ in 0..3 {
            limiter.ready(1).await;
        }
        assert!(start.elapsed() < Duration::from_millis(150));
    }
}
