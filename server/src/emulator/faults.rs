//! Injected failures: rules that pick calls by marketplace, API and seller, and say
//! what goes wrong with them. Tests and the demo set them with `PUT /_emulator/faults`.

use app::marketplace::ApiKind;
use axum::body::Body;
use axum::response::Response;
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};

/// One fault rule. The selectors left out match every call; the first rule that
/// matches a call decides its fate.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultRule {
    /// `amazon` or `ebay`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub marketplace: Option<String>,
    /// `products`, `writeback`, `orders` or `trading`. An outage without one also takes
    /// the marketplace's token endpoint down.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api: Option<ApiKind>,
    /// The selling account, as its refresh token names it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seller: Option<String>,
    /// Share of calls (0 to 1) answered with 503 at random.
    pub error_rate: f64,
    /// Answer every call with this status and the marketplace's error body.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forced_status: Option<u16>,
    /// Added to every answer.
    pub latency_ms: u64,
    /// Never answer: the client's timeout must fire.
    pub timeout: bool,
    /// Drop the connection without an answer.
    pub connection_reset: bool,
    /// Answer 200 with a body that is not what the model says.
    pub malformed: bool,
    /// Answer 200 with an empty body (a front end in trouble, as eBay's Trading API's
    /// sometimes is).
    pub empty_body: bool,
    /// With `forced_status`: answer the status with an HTML error page instead of the
    /// marketplace's own error body (eBay Trading: a bare HTTP 429 rather than its
    /// Ack Failure 518).
    pub html: bool,
    /// Access tokens issued before the rule was set are refused as expired; a fresh
    /// token works.
    pub expired_token: bool,
    /// The marketplace is down: every call, token exchanges included, gets 503.
    pub outage: bool,
    /// The call takes effect, then its answer is lost: the connection drops (or, with
    /// `forced_status`, a gateway answers that status, e.g. 504). The client cannot know
    /// what happened; only reading the marketplace back tells.
    pub lost_answer: bool,
    /// When the rule was set, for `expired_token`.
    #[serde(skip)]
    pub set_at: Option<Instant>,
}

/// What happens to one call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultAction {
    /// An error status with the marketplace's error body.
    Status(u16),
    Outage,
    Timeout,
    ConnectionReset,
    Malformed,
    EmptyBody,
    /// An HTML error page with this status.
    Html(u16),
    ExpiredToken,
    /// Applied, then the connection drops (`None`) or a gateway answers this status.
    LostAnswer(Option<u16>),
}

/// Where a call goes: the selectors a rule is matched against.
#[derive(Clone, Copy, Debug)]
pub struct CallTarget<'a> {
    pub marketplace: &'a str,
    /// `None` for the token endpoint.
    pub api: Option<ApiKind>,
    pub seller: &'a str,
}

impl FaultRule {
    pub fn validate(&self) -> Result<(), String> {
        if !(0.0..=1.0).contains(&self.error_rate) {
            return Err("error_rate must be between 0 and 1".into());
        }
        if let Some(status) = self.forced_status {
            if !(400..=599).contains(&status) {
                return Err("forced_status must be an HTTP error status (400-599)".into());
            }
        }
        if self.lost_answer && self.forced_status.is_some_and(|s| s < 500) {
            return Err(
                "lost_answer goes with no forced_status (the connection drops) \
                        or a 5xx a gateway answers (e.g. 504)"
                    .into(),
            );
        }
        if self.html && self.forced_status.is_none() {
            return Err("html goes with a forced_status".into());
        }
        if let Some(marketplace) = &self.marketplace {
            if !["amazon", "ebay"].contains(&marketplace.as_str()) {
                return Err(format!(
                    "marketplace '{marketplace}' is not emulated; use amazon or ebay"
                ));
            }
        }
        Ok(())
    }

    fn matches(&self, target: &CallTarget<'_>) -> bool {
        self.marketplace
            .as_deref()
            .is_none_or(|m| m == target.marketplace)
            && self.seller.as_deref().is_none_or(|s| s == target.seller)
            && match (self.api, target.api) {
                (None, _) => true,
                (Some(rule), Some(call)) => rule == call,
                // An API's rule leaves the shared token endpoint alone.
                (Some(_), None) => false,
            }
            // Token exchanges fail only when the whole marketplace is down, so that
            // a forced status tests the API's answer rather than the sign-in.
            && (target.api.is_some() || self.outage)
    }

    fn action(&self, token_issued: Option<Instant>, rng: &mut impl Rng) -> Option<FaultAction> {
        if self.outage {
            Some(FaultAction::Outage)
        } else if self.lost_answer {
            Some(FaultAction::LostAnswer(self.forced_status))
        } else if self.timeout {
            Some(FaultAction::Timeout)
        } else if self.connection_reset {
            Some(FaultAction::ConnectionReset)
        } else if self.malformed {
            Some(FaultAction::Malformed)
        } else if self.empty_body {
            Some(FaultAction::EmptyBody)
        } else if self.expired_token
            && token_issued.is_some_and(|issued| self.set_at.is_none_or(|set| issued <= set))
        {
            Some(FaultAction::ExpiredToken)
        } else if let Some(status) = self.forced_status {
            Some(if self.html {
                FaultAction::Html(status)
            } else {
                FaultAction::Status(status)
            })
        } else if self.error_rate > 0.0 && rng.gen_bool(self.error_rate.clamp(0.0, 1.0)) {
            Some(FaultAction::Status(503))
        } else {
            None
        }
    }
}

/// The first matching rule's latency and action for a call. `token_issued` is when the
/// call's access token was issued (`None` for token exchanges).
pub fn decide(
    rules: &[FaultRule],
    target: &CallTarget<'_>,
    token_issued: Option<Instant>,
) -> (Duration, Option<FaultAction>) {
    match rules.iter().find(|r| r.matches(target)) {
        None => (Duration::ZERO, None),
        Some(rule) => (
            Duration::from_millis(rule.latency_ms),
            rule.action(token_issued, &mut rand::thread_rng()),
        ),
    }
}

/// How long a "timeout" call is held: longer than any client waits.
pub const NO_ANSWER: Duration = Duration::from_secs(600);

/// An HTML error page with `status`, as a proxy or front end sends it.
pub fn html_page(status: u16) -> Response {
    use axum::response::IntoResponse;
    let status = axum::http::StatusCode::from_u16(status)
        .unwrap_or(axum::http::StatusCode::SERVICE_UNAVAILABLE);
    (
        status,
        [(axum::http::header::CONTENT_TYPE, "text/html")],
        format!(
            "<!DOCTYPE html><html><head><title>{0} {1}</title></head>\
             <body><h1>{0} {1}</h1></body></html>",
            status.as_u16(),
            status.canonical_reason().unwrap_or("Error")
        ),
    )
        .into_response()
}

/// What a client gets when the answer of a call that took effect is lost: the
/// connection drops, or a gateway answers `status` with its own page.
pub fn lost_answer(status: Option<u16>) -> Response {
    match status {
        Some(status) => html_page(status),
        None => connection_reset(),
    }
}

/// A success status with an empty body.
pub fn empty_body() -> Response {
    use axum::response::IntoResponse;
    (axum::http::StatusCode::OK, "").into_response()
}

/// A response that breaks off the connection before a complete answer: the status
/// line may have left, but the body fails, so the client sees the connection drop.
pub fn connection_reset() -> Response {
    let failing = futures::stream::once(async {
        Err::<axum::body::Bytes, std::io::Error>(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "emulated connection reset",
        ))
    });
    Response::builder()
        .status(200)
        .header("content-length", "4096")
        .body(Body::from_stream(failing))
        .expect("a fixed response is valid")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(api: Option<ApiKind>, seller: &str) -> CallTarget<'_> {
        CallTarget {
            marketplace: "amazon",
            api,
            seller,
        }
    }

    #[test]
    fn selectors_pick_the_calls() {
        let rules = vec![FaultRule {
            marketplace: Some("amazon".into()),
            api: Some(ApiKind::Writeback),
            seller: Some("acme".into()),
            outage: true,
            ..FaultRule::default()
        }];
        let hit = |api, seller| decide(&rules, &target(api, seller), None).1;
        assert_eq!(
            hit(Some(ApiKind::Writeback), "acme"),
            Some(FaultAction::Outage)
        );
        assert_eq!(hit(Some(ApiKind::Orders), "acme"), None);
        assert_eq!(hit(Some(ApiKind::Writeback), "other"), None);
        assert_eq!(hit(None, "acme"), None, "the token endpoint is spared");
        let everywhere = vec![FaultRule {
            outage: true,
            ..FaultRule::default()
        }];
        assert_eq!(
            decide(&everywhere, &target(None, "acme"), None).1,
            Some(FaultAction::Outage)
        );
        let forced = vec![FaultRule {
            forced_status: Some(429),
            ..FaultRule::default()
        }];
        assert_eq!(decide(&forced, &target(None, "acme"), None).1, None);
        let ebay = CallTarget {
            marketplace: "ebay",
            api: Some(ApiKind::Writeback),
            seller: "acme",
        };
        assert_eq!(decide(&rules, &ebay, None).1, None);
    }

    #[test]
    fn expired_token_refuses_only_older_tokens() {
        let set = Instant::now();
        let rules = vec![FaultRule {
            expired_token: true,
            set_at: Some(set),
            ..FaultRule::default()
        }];
        let call = target(Some(ApiKind::Writeback), "s");
        assert_eq!(
            decide(&rules, &call, Some(set - Duration::from_secs(1))).1,
            Some(FaultAction::ExpiredToken)
        );
        assert_eq!(
            decide(&rules, &call, Some(set + Duration::from_millis(1))).1,
            None
        );
    }

    #[test]
    fn first_matching_rule_wins_and_bad_rules_are_refused() {
        let rules = vec![
            FaultRule {
                seller: Some("a".into()),
                forced_status: Some(500),
                ..FaultRule::default()
            },
            FaultRule {
                forced_status: Some(429),
                latency_ms: 7,
                ..FaultRule::default()
            },
        ];
        assert_eq!(
            decide(&rules, &target(Some(ApiKind::Orders), "a"), None).1,
            Some(FaultAction::Status(500))
        );
        assert_eq!(
            decide(&rules, &target(Some(ApiKind::Orders), "b"), None),
            (Duration::from_millis(7), Some(FaultAction::Status(429)))
        );
        assert!(FaultRule {
            error_rate: 2.0,
            ..FaultRule::default()
        }
        .validate()
        .is_err());
        assert!(FaultRule {
            marketplace: Some("etsy".into()),
            ..FaultRule::default()
        }
        .validate()
        .is_err());
    }
}
