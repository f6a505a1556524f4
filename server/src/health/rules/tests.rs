use super::*;
use app::timed_text::draw_utc;
use chrono::TimeZone;

const OK: CallOutcome = CallOutcome::Ok;
const FAIL: CallOutcome = CallOutcome::ServerError;
const NET: CallOutcome = CallOutcome::Unreachable;
const AUTH: CallOutcome = CallOutcome::AuthFailed;
const THROTTLED: CallOutcome = CallOutcome::Throttled;
const REJECTED: CallOutcome = CallOutcome::Rejected;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 14, 30, 0).unwrap()
}

/// Calls one second apart, the latest one `age` seconds before now.
fn calls(outcomes: &[CallOutcome], age: i64) -> Vec<ApiCall> {
    let n = outcomes.len() as i64;
    outcomes
        .iter()
        .enumerate()
        .map(|(i, &outcome)| ApiCall {
            at: now() - chrono::Duration::seconds(age + (n - 1 - i as i64)),
            outcome,
            latency_ms: 100,
            http_status: match outcome {
                CallOutcome::ServerError => Some(503),
                CallOutcome::Throttled => Some(429),
                CallOutcome::AuthFailed => Some(400),
                CallOutcome::Rejected => Some(400),
                _ => None,
            },
            code: match outcome {
                CallOutcome::ServerError => "ServiceUnavailable".into(),
                CallOutcome::Throttled => "QuotaExceeded".into(),
                CallOutcome::AuthFailed => "invalid_grant".into(),
                CallOutcome::Unreachable => "NetworkError".into(),
                _ => String::new(),
            },
            message: String::new(),
        })
        .collect()
}

fn repeat(outcome: CallOutcome, n: usize) -> Vec<CallOutcome> {
    vec![outcome; n]
}

fn join(parts: &[Vec<CallOutcome>]) -> Vec<CallOutcome> {
    parts.concat()
}

#[test]
fn health_rules_table() {
    let t = HealthThresholds::default();
    // (what, outcomes oldest first, age of the latest call in seconds, expected)
    let cases: Vec<(&str, Vec<CallOutcome>, i64, Health)> = vec![
        ("no call at all", vec![], 0, Health::None),
        ("all good", repeat(OK, 20), 1, Health::Green),
        ("one good call", vec![OK], 1, Health::Green),
        // The 10-minute rule, at its edge.
        ("last call 599 s ago", repeat(OK, 20), 599, Health::Green),
        ("last call 600 s ago", repeat(OK, 20), 600, Health::None),
        (
            "a Red API that stopped calling",
            repeat(FAIL, 10),
            700,
            Health::None,
        ),
        // Error rate: 10 % is Yellow, just under is Green.
        (
            "1 of 11 failed (9 %)",
            join(&[repeat(OK, 5), vec![FAIL], repeat(OK, 5)]),
            1,
            Health::Green,
        ),
        (
            "1 of 10 failed (10 %)",
            join(&[repeat(OK, 5), vec![FAIL], repeat(OK, 4)]),
            1,
            Health::Yellow,
        ),
        // Too few calls to judge a rate.
        ("1 of 4 failed", vec![OK, FAIL, OK, OK], 1, Health::Green),
        (
            "1 of 5 failed (20 %)",
            vec![OK, FAIL, OK, OK, OK],
            1,
            Health::Yellow,
        ),
        // 50 % is Red, just under is Yellow.
        (
            "4 of 9 failed, never 3 in a row",
            vec![OK, FAIL, OK, FAIL, OK, FAIL, OK, FAIL, OK],
            1,
            Health::Yellow,
        ),
        (
            "5 of 10 failed, never 5 in a row",
            vec![FAIL, OK, FAIL, OK, FAIL, OK, FAIL, OK, FAIL, OK],
            1,
            Health::Red,
        ),
        // Consecutive failures: 4 is not yet an outage, 5 is, at once.
        (
            "4 failures in a row after 36 good calls",
            join(&[repeat(OK, 36), repeat(FAIL, 4)]),
            1,
            Health::Yellow,
        ),
        (
            "5 failures in a row after 45 good calls",
            join(&[repeat(OK, 45), repeat(FAIL, 5)]),
            1,
            Health::Red,
        ),
        (
            "unreachable 5 times in a row",
            join(&[repeat(OK, 45), repeat(NET, 5)]),
            1,
            Health::Red,
        ),
        // Credentials refused: Red at once, even after many good calls.
        (
            "credentials refused once",
            join(&[repeat(OK, 49), vec![AUTH]]),
            1,
            Health::Red,
        ),
        // Recovery: a success ends an outage and the outage no longer counts.
        (
            "recovered after an outage",
            join(&[repeat(OK, 5), repeat(FAIL, 12), vec![OK]]),
            1,
            Health::Green,
        ),
        (
            "recovered after refused credentials",
            join(&[repeat(OK, 5), vec![AUTH], vec![OK]]),
            1,
            Health::Green,
        ),
        // Throttling: 3 in the window is Yellow, 2 is not.
        (
            "throttled twice",
            join(&[repeat(OK, 10), vec![THROTTLED, THROTTLED]]),
            1,
            Health::Green,
        ),
        (
            "throttled 3 times",
            join(&[repeat(OK, 10), repeat(THROTTLED, 3)]),
            1,
            Health::Yellow,
        ),
        // The marketplace refusing bad data is not the API's fault.
        ("data refused", repeat(REJECTED, 20), 1, Health::Green),
    ];
    for (what, outcomes, age, expected) in cases {
        let got = assess(&calls(&outcomes, age), now(), &t);
        assert_eq!(got.health, expected, "{what}: {}", got.sentence);
    }
}

#[test]
fn the_window_is_bounded_by_time_and_by_count() {
    let t = HealthThresholds::default();
    // Failures 11 minutes ago are out of the 10-minute window.
    let mut history = calls(&[FAIL, OK, FAIL, OK, FAIL, OK], 11 * 60);
    history.extend(calls(&repeat(OK, 10), 1));
    let got = assess(&history, now(), &t);
    assert_eq!(got.health, Health::Green, "{}", got.sentence);
    assert_eq!(got.figures.calls, 10);

    // Only the latest 50 calls count: 20 failures before 50 good calls are forgotten.
    let outcomes = join(&[[FAIL, OK].repeat(10), repeat(OK, 50)]);
    let got = assess(&calls(&outcomes, 1), now(), &t);
    assert_eq!(got.health, Health::Green);
    assert_eq!(got.figures.calls, 50);
    assert_eq!(got.figures.failed, 0);
}

#[test]
fn slow_answers_are_yellow_at_the_threshold() {
    let t = HealthThresholds::default();
    let with_latencies = |ms: &[u64]| {
        let mut history = calls(&repeat(OK, ms.len()), 1);
        for (call, &ms) in history.iter_mut().zip(ms) {
            call.latency_ms = ms;
        }
        history
    };
    // 5,000 ms is not slower than 5 s; 5,001 is. 1 of 4 (25 %) is Yellow, 1 of 5 is not.
    let got = assess(&with_latencies(&[5_000, 5_000, 100, 100, 100]), now(), &t);
    assert_eq!(got.health, Health::Green, "{}", got.sentence);
    let got = assess(&with_latencies(&[5_001, 100, 100, 100, 100]), now(), &t);
    assert_eq!(
        got.health,
        Health::Green,
        "1 of 5 is 20 %: {}",
        got.sentence
    );
    let got = assess(&with_latencies(&[5_001, 12_300, 100, 100, 100]), now(), &t);
    assert_eq!(got.health, Health::Yellow);
    assert_eq!(
        got.sentence,
        "Slow answers: 2 of 5 calls took longer than 5.0 s in the last 10 minutes (slowest 12.3 s)."
    );
}

#[test]
fn sentences_carry_the_figures() {
    let t = HealthThresholds::default();
    let mut history = calls(&join(&[repeat(OK, 17), repeat(FAIL, 3)]), 1);
    history.last_mut().unwrap().at = Utc.with_ymd_and_hms(2026, 11, 25, 14, 29, 59).unwrap();
    let got = assess(&history, now(), &t);
    assert_eq!(got.health, Health::Yellow);
    // Kept with its times as marks, drawn where it is read; here as the API reads it.
    assert!(got.sentence.contains("[[at:"), "{}", got.sentence);
    assert_eq!(
        draw_utc(&got.sentence),
        "More errors than normal: 3 of 20 calls failed in the last 10 minutes. Last error 503 Service Unavailable (ServiceUnavailable) at 14:29:59 UTC."
    );
    assert_eq!(got.figures.failed, 3);
    assert_eq!(got.figures.consecutive_failures, 3);

    let got = assess(
        &calls(&join(&[repeat(OK, 3), repeat(NET, 5)]), 1),
        now(),
        &t,
    );
    assert_eq!(got.health, Health::Red);
    assert!(
        draw_utc(&got.sentence).starts_with(
            "The API cannot be reached: the last 5 calls failed, since 14:29:55 UTC. Last error no connection at"
        ),
        "{}",
        got.sentence
    );

    let got = assess(&calls(&[OK, AUTH], 1), now(), &t);
    assert_eq!(
        draw_utc(&got.sentence),
        "The marketplace refuses this account's authorisation: the seller must authorise Shipback again. Last error 400 Bad Request (invalid_grant) at 14:29:59 UTC."
    );

    let got = assess(
        &calls(&join(&[repeat(OK, 10), repeat(THROTTLED, 4)]), 1),
        now(),
        &t,
    );
    assert_eq!(
        got.sentence,
        "Throttled: the marketplace refused 4 of 14 calls for rate in the last 10 minutes; Shipback slows down to its limit."
    );
}

#[test]
fn failures_are_classified_by_status_and_code() {
    let cases = [
        (None, "Timeout", true, CallOutcome::Timeout),
        (None, "NetworkError", true, CallOutcome::Unreachable),
        (Some(200), "MalformedResponse", true, CallOutcome::Malformed),
        (Some(429), "QuotaExceeded", true, CallOutcome::Throttled),
        (Some(200), "518", true, CallOutcome::Throttled),
        (Some(401), "Unauthorized", true, CallOutcome::AuthFailed),
        (Some(400), "invalid_grant", true, CallOutcome::AuthFailed),
        (Some(200), "932", true, CallOutcome::AuthFailed),
        (
            Some(503),
            "ServiceUnavailable",
            true,
            CallOutcome::ServerError,
        ),
        (Some(500), "InternalFailure", true, CallOutcome::ServerError),
        (Some(200), "10007", true, CallOutcome::ServerError),
        (Some(400), "InvalidInput", false, CallOutcome::Rejected),
        (Some(404), "NotFound", false, CallOutcome::Rejected),
        (Some(200), "21916", false, CallOutcome::Rejected),
    ];
    for (status, code, retryable, expected) in cases {
        assert_eq!(
            CallOutcome::of_failure(status, code, retryable),
            expected,
            "{status:?} {code}"
        );
    }
}
