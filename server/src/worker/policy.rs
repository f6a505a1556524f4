//! What a write-back result does to a shipment: the status it moves to and when it is
//! tried again.

use crate::health::rules::CallOutcome;
use crate::marketplaces::WritebackResult;
use app::shipments::{AttemptOutcome, WritebackStatus};
use rand::Rng;
use std::time::Duration;

/// The retry schedule: how long to wait after each failure of the shipment's own (a
/// marketplace in trouble pauses its queue instead, see `crate::worker`). The default
/// spans half a working day, so that an attempt is still left when a marketplace's
/// incident ends; tests and the demo run it in seconds.
#[derive(Clone, Debug)]
pub struct RetryPolicy {
    /// Attempts per round before a shipment is Failed.
    pub max_attempts: u32,
    /// The wait after failure 1, 2, 3…; the last one repeats if the list is short.
    pub delays: Vec<Duration>,
    /// Spread of the random jitter, as a fraction of the delay (0.2 = ±20 %).
    pub jitter: f64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            // 1 min, 10 min, 1 h, 4 h: about five hours from the first attempt to the last.
            delays: vec![
                Duration::from_secs(60),
                Duration::from_secs(600),
                Duration::from_secs(3600),
                Duration::from_secs(4 * 3600),
            ],
            jitter: 0.2,
        }
    }
}

impl RetryPolicy {
    /// A schedule that starts at `base` and doubles up to `max` (the older flags).
    pub fn doubling(base: Duration, max: Duration, max_attempts: u32) -> Vec<Duration> {
        (0..max_attempts.saturating_sub(1).max(1))
            .map(|n| base.saturating_mul(2u32.saturating_pow(n.min(30))).min(max))
            .collect()
    }
}

/// Whose trouble a failed call is: it decides whether the shipment spends an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trouble {
    /// The shipment's own (its data, its order's state): the retry schedule applies.
    Shipment,
    /// The marketplace's (down, throttling, refusing the account's credentials or a
    /// role): the account's API pauses and the shipment waits, no attempt spent.
    Marketplace(CallOutcome),
    /// Shipback's own (its database did not answer): tried again soon, nothing spent.
    Shipback,
}

impl Trouble {
    /// Whose trouble a retryable result is; `None` for a success or a permanent failure.
    pub fn of(result: &WritebackResult) -> Option<Trouble> {
        let WritebackResult::Retryable {
            http_status, code, ..
        } = result
        else {
            return None;
        };
        if code == STORAGE_ERROR {
            return Some(Trouble::Shipback);
        }
        Some(match CallOutcome::of_failure(*http_status, code, true) {
            CallOutcome::Rejected => Trouble::Shipment,
            outcome => Trouble::Marketplace(outcome),
        })
    }
}

/// The code of a write-back that failed on Shipback's own database.
pub const STORAGE_ERROR: &str = "StorageError";

/// Reads a schedule written `1m,10m,1h,4h`.
pub fn parse_schedule(text: &str) -> Result<Vec<Duration>, String> {
    let delays: Vec<Duration> = text
        .split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(crate::cli::args::parse_duration)
        .collect::<Result<_, _>>()?;
    if delays.is_empty() {
        return Err("a retry schedule lists at least one wait, e.g. 1m,10m,1h,4h".into());
    }
    Ok(delays)
}

/// The shipment's next state after one attempt.
#[derive(Clone, Debug, PartialEq)]
pub struct Decision {
    pub outcome: AttemptOutcome,
    pub status: WritebackStatus,
    pub error_count: u32,
    /// When to try again; `None` when nothing more is scheduled.
    pub retry_in: Option<Duration>,
    pub http_status: Option<u16>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
}

impl RetryPolicy {
    /// The delay before the attempt after failure number `failures` (1-based), before jitter.
    pub fn backoff(&self, failures: u32) -> Duration {
        let index = (failures.max(1) as usize - 1).min(self.delays.len().saturating_sub(1));
        self.delays
            .get(index)
            .copied()
            .unwrap_or(Duration::from_secs(60))
    }

    /// `errors_before`: failed attempts already made in this round.
    pub fn decide(
        &self,
        errors_before: u32,
        result: &WritebackResult,
        rng: &mut impl Rng,
    ) -> Decision {
        match result {
            WritebackResult::Accepted {
                http_status,
                warning,
            } => Decision {
                outcome: AttemptOutcome::Success,
                status: WritebackStatus::Success,
                error_count: errors_before,
                retry_in: None,
                http_status: Some(*http_status),
                error_code: None,
                // A success's warning is kept on the attempt, for the record.
                error_message: warning.clone(),
            },
            WritebackResult::Permanent {
                http_status,
                code,
                message,
            } => Decision {
                outcome: AttemptOutcome::PermanentError,
                status: WritebackStatus::Failed,
                error_count: errors_before + 1,
                retry_in: None,
                http_status: *http_status,
                error_code: Some(code.clone()),
                error_message: Some(message.clone()),
            },
            WritebackResult::Retryable {
                http_status,
                code,
                message,
                retry_after,
            } => {
                let failures = errors_before + 1;
                let (status, retry_in) = if failures >= self.max_attempts {
                    (WritebackStatus::Failed, None)
                } else {
                    let spread = 1.0 + self.jitter * rng.gen_range(-1.0..=1.0);
                    let delay = self.backoff(failures).mul_f64(spread.max(0.0));
                    // The marketplace's own Retry-After wins when it asks for longer.
                    let delay = retry_after.map_or(delay, |wait| delay.max(wait));
                    (WritebackStatus::Retrying, Some(delay))
                };
                Decision {
                    outcome: AttemptOutcome::RetryableError,
                    status,
                    error_count: failures,
                    retry_in,
                    http_status: *http_status,
                    error_code: Some(code.clone()),
                    error_message: Some(message.clone()),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::mock::StepRng;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 5,
            delays: RetryPolicy::doubling(Duration::from_secs(10), Duration::from_secs(60), 5),
            jitter: 0.0,
        }
    }

    fn retryable(retry_after: Option<Duration>) -> WritebackResult {
        WritebackResult::Retryable {
            http_status: Some(503),
            code: "ServiceUnavailable".into(),
            message: "down".into(),
            retry_after,
        }
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let p = policy();
        let delays: Vec<u64> = (1..=5).map(|n| p.backoff(n).as_secs()).collect();
        assert_eq!(delays, vec![10, 20, 40, 60, 60]);
    }

    #[test]
    fn the_default_schedule_spans_hours_and_a_list_is_read() {
        let p = RetryPolicy::default();
        let delays: Vec<u64> = (1..=4).map(|n| p.backoff(n).as_secs()).collect();
        assert_eq!(delays, vec![60, 600, 3600, 14_400]);
        assert_eq!(
            parse_schedule("30s, 5m,2h").unwrap(),
            vec![
                Duration::from_secs(30),
                Duration::from_secs(300),
                Duration::from_secs(7200)
            ]
        );
        assert!(parse_schedule("").is_err());
        assert!(parse_schedule("1m,soon").is_err());
    }

    #[test]
    fn success_ends_the_round() {
        let d = policy().decide(
            2,
            &WritebackResult::Accepted {
                http_status: 204,
                warning: None,
            },
            &mut StepRng::new(0, 1),
        );
        assert_eq!(d.status, WritebackStatus::Success);
        assert_eq!(d.error_count, 2);
        assert_eq!(d.retry_in, None);
    }

    #[test]
    fn a_warning_is_kept_on_the_success() {
        let d = policy().decide(
            0,
            &WritebackResult::Accepted {
                http_status: 200,
                warning: Some("21917091 tracking added".into()),
            },
            &mut StepRng::new(0, 1),
        );
        assert_eq!(d.outcome, AttemptOutcome::Success);
        assert_eq!(d.status, WritebackStatus::Success);
        assert_eq!(d.error_code, None);
        assert_eq!(d.error_message.as_deref(), Some("21917091 tracking added"));
    }

    #[test]
    fn retryable_failures_retry_until_the_fifth() {
        let p = policy();
        let mut rng = StepRng::new(0, 1);
        for before in 0..4 {
            let d = p.decide(before, &retryable(None), &mut rng);
            assert_eq!(
                d.status,
                WritebackStatus::Retrying,
                "after {} failures",
                before + 1
            );
            assert_eq!(d.error_count, before + 1);
            assert!(d.retry_in.is_some());
        }
        let d = p.decide(4, &retryable(None), &mut rng);
        assert_eq!(d.status, WritebackStatus::Failed);
        assert_eq!(d.error_count, 5);
        assert_eq!(d.error_message.as_deref(), Some("down"));
        assert_eq!(d.retry_in, None);
    }

    #[test]
    fn permanent_errors_fail_at_once() {
        let result = WritebackResult::Permanent {
            http_status: Some(400),
            code: "InvalidInput".into(),
            message: "unknown order item".into(),
        };
        let d = policy().decide(0, &result, &mut StepRng::new(0, 1));
        assert_eq!(d.status, WritebackStatus::Failed);
        assert_eq!(d.outcome, AttemptOutcome::PermanentError);
        assert_eq!(d.error_code.as_deref(), Some("InvalidInput"));
    }

    #[test]
    fn retry_after_wins_when_longer() {
        let p = policy();
        let d = p.decide(
            0,
            &retryable(Some(Duration::from_secs(45))),
            &mut StepRng::new(0, 1),
        );
        assert_eq!(d.retry_in, Some(Duration::from_secs(45)));
        let d = p.decide(
            0,
            &retryable(Some(Duration::from_secs(1))),
            &mut StepRng::new(0, 1),
        );
        assert_eq!(d.retry_in, Some(Duration::from_secs(10)));
    }

    #[test]
    fn jitter_stays_within_its_spread() {
        let p = RetryPolicy {
            jitter: 0.2,
            ..policy()
        };
        let mut rng = rand::thread_rng();
        for _ in 0..200 {
            let d = p.decide(0, &retryable(None), &mut rng).retry_in.unwrap();
            assert!(
                d >= Duration::from_secs(8) && d <= Duration::from_secs(12),
                "{d:?}"
            );
        }
    }
}
