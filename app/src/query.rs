//! The shipments view as a URL query: filters, sort and page.
//!
//! The grid keeps its whole state in the page URL and the HTTP API takes the same
//! parameters, so one parser serves both and a copied link reproduces a view exactly.

use crate::deadlines::DeadlineFilter;
use crate::shipments::WritebackStatus;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

pub const DEFAULT_LIMIT: u32 = 50;
/// The marketplaces a view can be filtered by.
pub const MARKETPLACES: [&str; 2] = ["amazon", "ebay"];
pub const MAX_LIMIT: u32 = 1000;

/// A column the grid can be sorted by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SortKey {
    ShipDate,
    LastAttemptAt,
    OrderId,
    Account,
    Carrier,
    TrackingNumber,
    Quantity,
    Status,
    ErrorCount,
    ShipmentId,
    /// The order's latest ship date; shipments without one come last going up.
    ShipBy,
}

impl SortKey {
    pub const ALL: [SortKey; 11] = [
        SortKey::ShipDate,
        SortKey::LastAttemptAt,
        SortKey::OrderId,
        SortKey::Account,
        SortKey::Carrier,
        SortKey::TrackingNumber,
        SortKey::Quantity,
        SortKey::Status,
        SortKey::ErrorCount,
        SortKey::ShipmentId,
        SortKey::ShipBy,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SortKey::ShipDate => "ship_date",
            SortKey::LastAttemptAt => "last_attempt_at",
            SortKey::OrderId => "order_id",
            SortKey::Account => "account",
            SortKey::Carrier => "carrier",
            SortKey::TrackingNumber => "tracking_number",
            SortKey::Quantity => "quantity",
            SortKey::Status => "status",
            SortKey::ErrorCount => "error_count",
            SortKey::ShipmentId => "shipment_id",
            SortKey::ShipBy => "ship_by",
        }
    }

    pub fn parse(text: &str) -> Option<SortKey> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Sort {
    pub key: SortKey,
    pub descending: bool,
}

impl Default for Sort {
    /// Newest shipments first: what a warehouse looks at most.
    fn default() -> Self {
        Sort {
            key: SortKey::ShipDate,
            descending: true,
        }
    }
}

impl fmt::Display for Sort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.descending {
            write!(f, "-")?;
        }
        write!(f, "{}", self.key.as_str())
    }
}

/// A filtered, sorted page of shipments, as named by `status`, `account`, `marketplace`,
/// `carrier`, `q`, `deadline`, `from`, `to`, `sort`, `limit` and `cursor` (and, for the
/// grid only, `selected`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ShipmentQuery {
    /// Empty means every status.
    pub statuses: Vec<WritebackStatus>,
    /// Account keys; empty means every account.
    pub accounts: Vec<String>,
    /// `amazon`, `ebay`; empty means every marketplace.
    pub marketplaces: Vec<String>,
    /// Carriers as the station names them; empty means every carrier.
    pub carriers: Vec<String>,
    /// An order id, tracking number or shipment id, exactly.
    pub search: Option<String>,
    /// Where shipments stand against their deadlines (any of them); empty means all.
    pub deadlines: Vec<DeadlineFilter>,
    /// Ship date at or after this instant.
    pub from: Option<DateTime<Utc>>,
    /// Ship date strictly before this instant.
    pub to: Option<DateTime<Utc>>,
    pub sort: Sort,
    pub limit: u32,
    pub cursor: Option<String>,
    /// The shipment whose detail panel is open (grid only; the API ignores it).
    pub selected: Option<String>,
}

impl Default for ShipmentQuery {
    fn default() -> Self {
        ShipmentQuery {
            statuses: Vec::new(),
            accounts: Vec::new(),
            marketplaces: Vec::new(),
            carriers: Vec::new(),
            search: None,
            deadlines: Vec::new(),
            from: None,
            to: None,
            sort: Sort::default(),
            limit: DEFAULT_LIMIT,
            cursor: None,
            selected: None,
        }
    }
}

/// A query parameter that could not be understood.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[error("{parameter}: {message}")]
pub struct QueryError {
    pub parameter: String,
    pub message: String,
}

impl QueryError {
    fn new(parameter: &str, message: impl Into<String>) -> Self {
        QueryError {
            parameter: parameter.to_string(),
            message: message.into(),
        }
    }
}

impl ShipmentQuery {
    /// Reads decoded `key=value` pairs; unknown keys are ignored so links stay forward compatible.
    pub fn from_pairs<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, QueryError> {
        let mut query = ShipmentQuery::default();
        for (key, value) in pairs {
            match key {
                "status" => {
                    // Accept both `status=a&status=b` and `status=a,b`.
                    for part in value.split(',').filter(|p| !p.is_empty()) {
                        let status = WritebackStatus::parse(part).ok_or_else(|| {
                            QueryError::new(
                                "status",
                                format!(
                                    "unknown status '{part}'; expected one of {}",
                                    WritebackStatus::ALL.map(|s| s.as_str()).join(", ")
                                ),
                            )
                        })?;
                        if !query.statuses.contains(&status) {
                            query.statuses.push(status);
                        }
                    }
                }
                "account" => {
                    for part in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                        if part.chars().count() > 100 {
                            return Err(QueryError::new(
                                "account",
                                "an account key is at most 100 characters",
                            ));
                        }
                        if !query.accounts.iter().any(|a| a == part) {
                            query.accounts.push(part.to_string());
                        }
                    }
                }
                "marketplace" => {
                    for part in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                        if !MARKETPLACES.contains(&part) {
                            return Err(QueryError::new(
                                "marketplace",
                                format!(
                                    "unknown marketplace '{part}'; expected one of {}",
                                    MARKETPLACES.join(", ")
                                ),
                            ));
                        }
                        if !query.marketplaces.iter().any(|m| m == part) {
                            query.marketplaces.push(part.to_string());
                        }
                    }
                }
                "carrier" => {
                    let carrier = value.trim();
                    if carrier.chars().count() > 100 {
                        return Err(QueryError::new(
                            "carrier",
                            "a carrier is at most 100 characters",
                        ));
                    }
                    if !carrier.is_empty() && !query.carriers.iter().any(|c| c == carrier) {
                        query.carriers.push(carrier.to_string());
                    }
                }
                "deadline" => {
                    for part in value.split(',').filter(|p| !p.is_empty()) {
                        let filter = DeadlineFilter::parse(part).ok_or_else(|| {
                            QueryError::new(
                                "deadline",
                                format!(
                                    "unknown deadline '{part}'; expected one of {}",
                                    DeadlineFilter::ALL.map(|f| f.as_str()).join(", ")
                                ),
                            )
                        })?;
                        if !query.deadlines.contains(&filter) {
                            query.deadlines.push(filter);
                        }
                    }
                }
                "q" => {
                    let text = value.trim();
                    if text.chars().count() > 200 {
                        return Err(QueryError::new("q", "search for at most 200 characters"));
                    }
                    query.search = (!text.is_empty()).then(|| text.to_string());
                }
                "from" => query.from = Some(parse_instant("from", value)?),
                "to" => query.to = Some(parse_instant("to", value)?),
                "sort" => {
                    let (descending, name) = match value.strip_prefix('-') {
                        Some(name) => (true, name),
                        None => (false, value),
                    };
                    let key = SortKey::parse(name).ok_or_else(|| {
                        QueryError::new(
                            "sort",
                            format!(
                                "unknown column '{name}'; expected one of {} (prefix - for descending)",
                                SortKey::ALL.map(|k| k.as_str()).join(", ")
                            ),
                        )
                    })?;
                    query.sort = Sort { key, descending };
                }
                "limit" => {
                    let limit: u32 = value.parse().map_err(|_| {
                        QueryError::new("limit", format!("'{value}' is not a whole number"))
                    })?;
                    if !(1..=MAX_LIMIT).contains(&limit) {
                        return Err(QueryError::new(
                            "limit",
                            format!("must be between 1 and {MAX_LIMIT}"),
                        ));
                    }
                    query.limit = limit;
                }
                "cursor" if !value.is_empty() => query.cursor = Some(value.to_string()),
                "selected" if !value.is_empty() => query.selected = Some(value.to_string()),
                _ => {}
            }
        }
        if let (Some(from), Some(to)) = (query.from, query.to) {
            if from >= to {
                return Err(QueryError::new("to", "must be later than 'from'"));
            }
        }
        Ok(query)
    }

    /// The URL query string (without `?`) that [`ShipmentQuery::from_pairs`] reads back.
    /// Defaults are left out so that links stay short.
    pub fn to_query_string(&self) -> String {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        for status in &self.statuses {
            pairs.push(("status", status.as_str().to_string()));
        }
        for account in &self.accounts {
            pairs.push(("account", account.clone()));
        }
        for marketplace in &self.marketplaces {
            pairs.push(("marketplace", marketplace.clone()));
        }
        for carrier in &self.carriers {
            pairs.push(("carrier", carrier.clone()));
        }
        if let Some(search) = &self.search {
            pairs.push(("q", search.clone()));
        }
        for deadline in &self.deadlines {
            pairs.push(("deadline", deadline.as_str().to_string()));
        }
        if let Some(from) = self.from {
            pairs.push(("from", format_instant(from)));
        }
        if let Some(to) = self.to {
            pairs.push(("to", format_instant(to)));
        }
        if self.sort != Sort::default() {
            pairs.push(("sort", self.sort.to_string()));
        }
        if self.limit != DEFAULT_LIMIT {
            pairs.push(("limit", self.limit.to_string()));
        }
        if let Some(cursor) = &self.cursor {
            pairs.push(("cursor", cursor.clone()));
        }
        if let Some(selected) = &self.selected {
            pairs.push(("selected", selected.clone()));
        }
        pairs
            .iter()
            .map(|(k, v)| format!("{k}={}", percent_encode(v)))
            .collect::<Vec<_>>()
            .join("&")
    }

    /// The same view without paging or selection: what identifies the result set.
    pub fn filters_only(&self) -> ShipmentQuery {
        ShipmentQuery {
            cursor: None,
            selected: None,
            ..self.clone()
        }
    }
}

fn parse_instant(parameter: &str, value: &str) -> Result<DateTime<Utc>, QueryError> {
    DateTime::parse_from_rfc3339(value)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| {
            QueryError::new(
                parameter,
                format!(
                    "'{value}' is not an RFC 3339 date-time ({e}); example: 2026-11-25T00:00:00Z"
                ),
            )
        })
}

fn format_instant(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

/// Encodes everything but RFC 3986's unreserved characters.
pub fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(q: &str) -> Result<ShipmentQuery, QueryError> {
        let pairs: Vec<(String, String)> = q
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (k.to_string(), v.replace("%3A", ":").replace("%2B", "+"))
            })
            .collect();
        ShipmentQuery::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    }

    #[test]
    fn empty_query_is_the_default_view() {
        assert_eq!(parse("").unwrap(), ShipmentQuery::default());
        assert_eq!(ShipmentQuery::default().to_query_string(), "");
    }

    #[test]
    fn round_trips_through_the_url() {
        let q = parse(
            "status=failed&status=retrying&account=acme-us&account=northwind&marketplace=ebay&carrier=UPS&carrier=DHL&q=1Z999&deadline=due,late&deadline=none&from=2026-11-01T00:00:00Z&to=2026-11-02T00:00:00Z&sort=carrier&limit=20&selected=S-1",
        )
        .unwrap();
        assert_eq!(q.accounts, vec!["acme-us", "northwind"]);
        assert_eq!(q.marketplaces, vec!["ebay"]);
        assert_eq!(q.carriers, vec!["UPS", "DHL"]);
        assert_eq!(q.search.as_deref(), Some("1Z999"));
        assert_eq!(
            q.deadlines,
            vec![
                DeadlineFilter::DueSoon,
                DeadlineFilter::Late,
                DeadlineFilter::Unknown
            ]
        );
        assert_eq!(parse("deadline=soon").unwrap_err().parameter, "deadline");
        assert!(parse("marketplace=etsy").is_err());
        assert_eq!(
            q.statuses,
            vec![WritebackStatus::Failed, WritebackStatus::Retrying]
        );
        assert_eq!(
            q.sort,
            Sort {
                key: SortKey::Carrier,
                descending: false
            }
        );
        assert_eq!(q.limit, 20);
        assert_eq!(parse(&q.to_query_string()).unwrap(), q);
    }

    #[test]
    fn comma_separated_statuses_are_accepted() {
        let q = parse("status=failed,success").unwrap();
        assert_eq!(
            q.statuses,
            vec![WritebackStatus::Failed, WritebackStatus::Success]
        );
    }

    #[test]
    fn bad_values_name_the_parameter() {
        assert_eq!(parse("status=lost").unwrap_err().parameter, "status");
        assert_eq!(parse("sort=-colour").unwrap_err().parameter, "sort");
        assert_eq!(parse("limit=0").unwrap_err().parameter, "limit");
        assert_eq!(parse("limit=1001").unwrap_err().parameter, "limit");
        assert_eq!(parse("limit=ten").unwrap_err().parameter, "limit");
        assert_eq!(parse("from=yesterday").unwrap_err().parameter, "from");
        assert_eq!(
            parse("from=2026-11-02T00:00:00Z&to=2026-11-01T00:00:00Z")
                .unwrap_err()
                .parameter,
            "to"
        );
    }

    #[test]
    fn descending_sort_has_a_minus() {
        let q = parse("sort=-error_count").unwrap();
        assert!(q.sort.descending);
        assert_eq!(q.sort.to_string(), "-error_count");
    }

    #[test]
    fn percent_encoding_keeps_unreserved() {
        assert_eq!(percent_encode("a-b_c.d~e"), "a-b_c.d~e");
        assert_eq!(
            percent_encode("2026-11-01T00:00:00+01:00"),
            "2026-11-01T00%3A00%3A00%2B01%3A00"
        );
        assert_eq!(percent_encode("a b&c"), "a%20b%26c");
    }

    mod properties {
        use super::super::*;
        use crate::api::parse_query_pairs;
        use proptest::prelude::*;

        fn read(query: &str) -> Result<ShipmentQuery, QueryError> {
            let pairs = parse_query_pairs(query);
            ShipmentQuery::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        }

        /// Parameter names the grid knows, and some it does not.
        fn key() -> impl Strategy<Value = String> {
            prop_oneof![
                Just("status"),
                Just("account"),
                Just("marketplace"),
                Just("carrier"),
                Just("q"),
                Just("deadline"),
                Just("from"),
                Just("to"),
                Just("sort"),
                Just("limit"),
                Just("cursor"),
                Just("selected"),
                Just("colour"),
            ]
            .prop_map(str::to_string)
        }

        /// Values that mean something to some parameter, and any text at all.
        fn value() -> impl Strategy<Value = String> {
            prop_oneof![
                Just("failed".to_string()),
                Just("confirmed_manually".to_string()),
                Just("ebay".to_string()),
                Just("confirmed_late".to_string()),
                Just("-carrier".to_string()),
                Just("ship_date".to_string()),
                Just("2026-11-05T00:00:00Z".to_string()),
                Just("2026-11-05T10:30:00+02:00".to_string()),
                "[0-9]{1,5}",
                "\\PC{0,24}",
            ]
        }

        /// `k=v` pairs, percent-encoded as a browser would.
        fn encode(pairs: &[(String, String)]) -> String {
            let enc = |t: &str| {
                t.bytes()
                    .map(|b| match b {
                        b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                            (b as char).to_string()
                        }
                        _ => format!("%{b:02X}"),
                    })
                    .collect::<String>()
            };
            pairs
                .iter()
                .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
                .collect::<Vec<_>>()
                .join("&")
        }

        proptest! {
            /// Whatever arrives in a URL is read or refused with a message: never a panic.
            #[test]
            fn any_query_string_is_read_or_refused(text in "\\PC{0,300}") {
                if let Err(e) = read(&text) {
                    prop_assert!(!e.to_string().is_empty());
                }
            }

            /// A view that was read writes a link that reads back as the same view.
            #[test]
            fn a_view_survives_its_own_link(pairs in proptest::collection::vec((key(), value()), 0..8)) {
                if let Ok(view) = read(&encode(&pairs)) {
                    prop_assert_eq!(read(&view.to_query_string()), Ok(view));
                }
            }
        }
    }
}
