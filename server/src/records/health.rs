//! Calls to a marketplace API as the connection status keeps them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// How one call to a marketplace API ended, as far as the API's health goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallOutcome {
    /// Answered and done.
    Ok,
    /// Answered, but the marketplace refused the request's data (an unknown order, a
    /// bad tracking number): the API works, the data is wrong.
    Rejected,
    /// Refused for rate (HTTP 429, eBay 518).
    Throttled,
    /// The marketplace refused the account's credentials, even after a token refresh.
    AuthFailed,
    /// A 5xx answer, or a marketplace-side error in a 200 (eBay's SystemError).
    ServerError,
    /// No answer: connection refused or reset, name not found.
    Unreachable,
    /// No answer in time.
    Timeout,
    /// An answer that does not follow the marketplace's model.
    Malformed,
}

/// One call as the health rules see it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ApiCall {
    pub at: DateTime<Utc>,
    pub outcome: CallOutcome,
    /// Time the marketplace took, without Shipback's own pacing to its rate limits.
    pub latency_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_status: Option<u16>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub code: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
}
