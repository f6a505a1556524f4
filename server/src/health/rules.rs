//! The health rules: from the outcomes of an API's recent calls to Green, Yellow, Red or
//! None, with the sentence and figures that explain it. Pure functions of the calls and
//! the thresholds, so that every edge is tested in a table.

pub use crate::records::health::{ApiCall, CallOutcome};
use app::health::{idle_sentence, span, Health, HealthFigures, LastError};
use chrono::{DateTime, Utc};
use std::time::Duration;

impl CallOutcome {
    /// The marketplace may have acted on the call though its answer was lost or
    /// unreadable: the next attempt reads the marketplace back before sending again.
    pub fn may_have_applied(self) -> bool {
        matches!(
            self,
            CallOutcome::ServerError
                | CallOutcome::Timeout
                | CallOutcome::Malformed
                | CallOutcome::Unreachable
        )
    }

    /// Counts against the API's health (throttling is counted apart).
    pub fn is_failure(self) -> bool {
        matches!(
            self,
            CallOutcome::AuthFailed
                | CallOutcome::ServerError
                | CallOutcome::Unreachable
                | CallOutcome::Timeout
                | CallOutcome::Malformed
        )
    }

    /// Reads a failed call's status and code. `retryable` is the client's own verdict:
    /// an error it would retry that is neither rate nor credentials is the marketplace's
    /// trouble, not the request's.
    pub fn of_failure(http_status: Option<u16>, code: &str, retryable: bool) -> CallOutcome {
        // OAuth 2.0's token-endpoint errors (RFC 6749, 5.2) and the marketplaces' own.
        const AUTH_CODES: [&str; 11] = [
            "invalid_grant",
            "invalid_client",
            "unauthorized_client",
            "invalid_request",
            "invalid_scope",
            "unsupported_grant_type",
            "access_denied",
            "Unauthorized",
            "931",
            "932",
            "HTTP401",
        ];
        const THROTTLE_CODES: [&str; 3] = ["QuotaExceeded", "TooManyRequests", "518"];
        match (http_status, code) {
            (_, "Timeout") => CallOutcome::Timeout,
            (_, "NetworkError") => CallOutcome::Unreachable,
            (_, "MalformedResponse") => CallOutcome::Malformed,
            (Some(429), _) => CallOutcome::Throttled,
            (_, code) if THROTTLE_CODES.contains(&code) => CallOutcome::Throttled,
            (Some(401 | 403), _) => CallOutcome::AuthFailed,
            (_, code) if AUTH_CODES.contains(&code) => CallOutcome::AuthFailed,
            (Some(408), _) => CallOutcome::Timeout,
            (Some(500..=599), _) => CallOutcome::ServerError,
            // Any other 4xx is about the request (e.g. an order still pending payment),
            // even when worth another try: the API itself works.
            (Some(400..=499), _) => CallOutcome::Rejected,
            _ if retryable => CallOutcome::ServerError,
            _ => CallOutcome::Rejected,
        }
    }
}

/// The named thresholds of the rules; every one is a command-line flag
/// (docs/connection-status.md).
#[derive(Clone, Debug, PartialEq)]
pub struct HealthThresholds {
    /// Calls older than this are not judged.
    pub window: Duration,
    /// At most this many of the latest calls are judged.
    pub window_calls: usize,
    /// No call for this long: None.
    pub idle_after: Duration,
    /// Rates are judged only over at least this many calls.
    pub min_calls: u32,
    /// Failed share at or above which the API is Yellow.
    pub yellow_error_rate: f64,
    /// Failed share at or above which the API is Red.
    pub red_error_rate: f64,
    /// This many failures in a row: Red at once (an outage).
    pub red_consecutive_failures: u32,
    /// This many throttled calls in the window: Yellow.
    pub yellow_throttled: u32,
    /// A call slower than this is slow.
    pub slow_call: Duration,
    /// Slow share at or above which the API is Yellow.
    pub yellow_slow_rate: f64,
}

impl Default for HealthThresholds {
    fn default() -> Self {
        HealthThresholds {
            window: Duration::from_secs(10 * 60),
            window_calls: 50,
            idle_after: Duration::from_secs(10 * 60),
            min_calls: 5,
            yellow_error_rate: 0.10,
            red_error_rate: 0.50,
            red_consecutive_failures: 5,
            yellow_throttled: 3,
            slow_call: Duration::from_secs(5),
            yellow_slow_rate: 0.25,
        }
    }
}

impl HealthThresholds {
    /// Why these thresholds cannot work, named by their command-line flags.
    pub fn check(&self) -> Result<(), String> {
        for (name, rate) in [
            ("--health-yellow-error-rate", self.yellow_error_rate),
            ("--health-red-error-rate", self.red_error_rate),
            ("--health-yellow-slow-rate", self.yellow_slow_rate),
        ] {
            if !(rate > 0.0 && rate <= 1.0) {
                return Err(format!(
                    "{name} is a share of calls: more than 0, at most 1 (got {rate})"
                ));
            }
        }
        if self.yellow_error_rate >= self.red_error_rate {
            return Err(
                "--health-yellow-error-rate must be lower than --health-red-error-rate".into(),
            );
        }
        if self.idle_after.is_zero() || self.window.is_zero() {
            return Err("--health-window and --health-idle-after must be longer than zero".into());
        }
        Ok(())
    }
}

/// A judgement: the health, its sentence and its figures.
#[derive(Clone, Debug, PartialEq)]
pub struct Assessment {
    pub health: Health,
    pub sentence: String,
    pub figures: HealthFigures,
}

/// Judges an API by its calls (oldest first) as of `now`.
///
/// Red at once: the latest call's credentials were refused, or the latest
/// `red_consecutive_failures` calls all failed (an outage). A success ends an outage:
/// the calls before it no longer count, so that a recovered API is Green again at once
/// rather than after the window has forgotten the outage.
pub fn assess(calls: &[ApiCall], now: DateTime<Utc>, t: &HealthThresholds) -> Assessment {
    let Some(latest) = calls.last() else {
        return Assessment {
            health: Health::None,
            sentence: idle_sentence(None, t.idle_after.as_secs()),
            figures: HealthFigures::default(),
        };
    };
    let window_start = now - chrono::Duration::from_std(t.window).unwrap_or(chrono::Duration::MAX);
    let consecutive = calls
        .iter()
        .rev()
        .take_while(|c| c.outcome.is_failure())
        .count() as u32;
    // The calls since the last outage ended, within the window by time and by count.
    let since_outage = last_outage_end(calls, t.red_consecutive_failures);
    let window: Vec<&ApiCall> = calls[since_outage..]
        .iter()
        .filter(|c| c.at >= window_start)
        .collect();
    let window = &window[window.len().saturating_sub(t.window_calls)..];
    let figures = figures(calls, window, consecutive, t);
    let minutes = span(t.window.as_secs());

    if now - latest.at >= chrono::Duration::from_std(t.idle_after).unwrap_or(chrono::Duration::MAX)
    {
        return Assessment {
            health: Health::None,
            sentence: idle_sentence(Some(latest.at), t.idle_after.as_secs()),
            figures,
        };
    }
    let last_error = figures
        .last_error
        .as_ref()
        .map(describe_error)
        .unwrap_or_default();
    let rate = |n: u32| f64::from(n) / f64::from(figures.calls.max(1));
    let judged = figures.calls >= t.min_calls;

    let (health, sentence) = if latest.outcome == CallOutcome::AuthFailed {
        (
            Health::Red,
            format!(
                "The marketplace refuses this account's authorisation: the seller must authorise Shipback again. Last error {last_error}."
            ),
        )
    } else if consecutive >= t.red_consecutive_failures {
        let first_failed = &calls[calls.len() - consecutive as usize];
        let down = match latest.outcome {
            CallOutcome::Unreachable | CallOutcome::Timeout => "cannot be reached",
            _ => "is down",
        };
        (
            Health::Red,
            format!(
                "The API {down}: the last {consecutive} calls failed, since {}. Last error {last_error}.",
                app::timed_text::mark(first_failed.at)
            ),
        )
    } else if judged && rate(figures.failed) >= t.red_error_rate {
        (
            Health::Red,
            format!(
                "Most calls fail: {} of {} calls failed in the last {minutes}. Last error {last_error}.",
                figures.failed, figures.calls
            ),
        )
    } else if judged && rate(figures.failed) >= t.yellow_error_rate {
        (
            Health::Yellow,
            format!(
                "More errors than normal: {} of {} calls failed in the last {minutes}. Last error {last_error}.",
                figures.failed, figures.calls
            ),
        )
    } else if figures.throttled >= t.yellow_throttled {
        (
            Health::Yellow,
            format!(
                "Throttled: the marketplace refused {} of {} calls for rate in the last {minutes}; Shipback slows down to its limit.",
                figures.throttled, figures.calls
            ),
        )
    } else if judged && rate(figures.slow) >= t.yellow_slow_rate {
        (
            Health::Yellow,
            format!(
                "Slow answers: {} of {} calls took longer than {} in the last {minutes} (slowest {}).",
                figures.slow,
                figures.calls,
                seconds(t.slow_call.as_millis() as u64),
                seconds(figures.slowest_latency_ms.unwrap_or(0)),
            ),
        )
    } else {
        let failed = match figures.failed {
            0 => "none failed".to_string(),
            n => format!("{n} failed"),
        };
        (
            Health::Green,
            format!(
                "Connected and operating normally: {} calls in the last {minutes}, {failed}.",
                figures.calls
            ),
        )
    };
    Assessment {
        health,
        sentence,
        figures,
    }
}

/// The index after the last outage that a success ended (0 when there was none): a run
/// of `outage` or more failures, or of failures that include refused credentials.
fn last_outage_end(calls: &[ApiCall], outage: u32) -> usize {
    let mut run = 0u32;
    let mut refused = false;
    let mut end = 0;
    for (i, call) in calls.iter().enumerate() {
        if call.outcome.is_failure() {
            run += 1;
            refused |= call.outcome == CallOutcome::AuthFailed;
        } else {
            if run >= outage.max(1) || refused {
                end = i;
            }
            run = 0;
            refused = false;
        }
    }
    end
}

fn figures(
    all: &[ApiCall],
    window: &[&ApiCall],
    consecutive: u32,
    t: &HealthThresholds,
) -> HealthFigures {
    let slow_ms = t.slow_call.as_millis() as u64;
    let mut latencies: Vec<u64> = window.iter().map(|c| c.latency_ms).collect();
    latencies.sort_unstable();
    HealthFigures {
        calls: window.len() as u32,
        failed: window.iter().filter(|c| c.outcome.is_failure()).count() as u32,
        throttled: window
            .iter()
            .filter(|c| c.outcome == CallOutcome::Throttled)
            .count() as u32,
        slow: window.iter().filter(|c| c.latency_ms > slow_ms).count() as u32,
        consecutive_failures: consecutive,
        window_minutes: (t.window.as_secs() / 60) as u32,
        median_latency_ms: latencies.get(latencies.len() / 2).copied(),
        slowest_latency_ms: latencies.last().copied(),
        // The latest failure even if an outage before it has ended: the user asks "what
        // was the last error" whatever the colour.
        last_error: all
            .iter()
            .rev()
            .find(|c| c.outcome.is_failure() || c.outcome == CallOutcome::Throttled)
            .map(|c| LastError {
                at: c.at,
                http_status: c.http_status,
                code: c.code.clone(),
                message: c.message.clone(),
            }),
    }
}

/// "503 Service Unavailable (ServiceUnavailable) at 14:02:07 UTC" (the time kept as a
/// mark, drawn where the sentence is read: [`app::timed_text`]).
fn describe_error(e: &LastError) -> String {
    let what = match e.http_status {
        Some(status) => {
            let reason = reqwest::StatusCode::from_u16(status)
                .ok()
                .and_then(|s| s.canonical_reason())
                .unwrap_or("");
            let code = if e.code.is_empty() || e.code == format!("HTTP{status}") {
                String::new()
            } else {
                format!(" ({})", e.code)
            };
            format!("{status} {reason}{code}").replace("  ", " ")
        }
        None => match e.code.as_str() {
            "Timeout" => "no answer in time".to_string(),
            "NetworkError" => "no connection".to_string(),
            code => code.to_string(),
        },
    };
    format!("{what} at {}", app::timed_text::mark(e.at))
}

fn seconds(ms: u64) -> String {
    format!("{:.1} s", ms as f64 / 1000.0)
}

#[cfg(test)]
mod tests;
