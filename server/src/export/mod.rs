//! CSV export of exactly what the grid lists, in its order: every shipment the filters
//! match (not only the page on screen), streamed page by page, so that a million rows
//! neither time out nor fill memory. RFC 4180 through the csv crate, UTF-8, a header
//! row; a cell a spreadsheet would read as a formula is neutralised, as OWASP advises.

use crate::store::{Store, StoreError};
use app::query::ShipmentQuery;
use app::shipments::ShipmentRow;
use axum::body::Bytes;
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use futures::Stream;
use std::borrow::Cow;

/// Rows read from the database per step of the stream.
const ROWS_PER_STEP: u32 = 2_000;

pub const COLUMNS: [&str; 16] = [
    "Shipment ID",
    "Order ID",
    "Account",
    "Account name",
    "Marketplace",
    "Carrier",
    "Service",
    "Tracking number",
    "Quantity",
    "Ship date",
    "Status",
    "Error count",
    "Last attempt",
    "Next attempt",
    "Last error",
    "Updated",
];

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("reading shipments for the export failed: {0}")]
    Store(#[from] StoreError),
    #[error("writing the CSV failed: {0}")]
    Csv(#[from] csv::Error),
}

/// A cell that starts like a formula (`=`, `+`, `-`, `@`, tab, carriage return) gets a
/// leading apostrophe, so a spreadsheet shows it as text instead of running it.
pub fn neutralise(cell: &str) -> Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

fn instant(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn optional_instant(t: Option<DateTime<Utc>>) -> String {
    t.map(instant).unwrap_or_default()
}

fn record(row: &ShipmentRow) -> [String; 16] {
    [
        row.shipment_id.clone(),
        row.order_id.clone(),
        row.account.clone(),
        row.account_name.clone(),
        row.marketplace.clone(),
        row.carrier.clone(),
        row.service.clone(),
        row.tracking_number.clone(),
        row.quantity.to_string(),
        instant(row.ship_date),
        row.status.label().to_string(),
        row.error_count.to_string(),
        optional_instant(row.last_attempt_at),
        optional_instant(row.next_attempt_at),
        row.last_error.clone().unwrap_or_default(),
        instant(row.updated_at),
    ]
}

/// Rows as CSV text (with the header row first when `header`).
pub fn to_csv(rows: &[ShipmentRow], header: bool) -> Result<Vec<u8>, csv::Error> {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::with_capacity(rows.len() * 160));
    if header {
        writer.write_record(COLUMNS)?;
    }
    for row in rows {
        writer.write_record(record(row).iter().map(|cell| neutralise(cell).into_owned()))?;
    }
    writer
        .into_inner()
        .map_err(|e| csv::Error::from(e.into_error()))
}

/// "shipments-2026-11-25-failed-retrying-acme-us.csv": the date and the filter.
pub fn file_name(query: &ShipmentQuery, today: NaiveDate) -> String {
    let mut parts = vec![format!("shipments-{}", today.format("%Y-%m-%d"))];
    parts.extend(query.statuses.iter().map(|s| s.as_str().replace('_', "-")));
    parts.extend(query.accounts.iter().cloned());
    if let Some(from) = query.from {
        parts.push(format!("from-{}", from.format("%Y-%m-%d")));
    }
    if let Some(to) = query.to {
        parts.push(format!("to-{}", to.format("%Y-%m-%d")));
    }
    let name: String = parts
        .join("-")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(150)
        .collect();
    format!("{name}.csv")
}

/// The whole export as a stream of CSV chunks: the header, then the rows of each step
/// in the grid's order, each step continuing from the last one's keyset cursor.
pub fn stream(
    store: Store,
    query: ShipmentQuery,
) -> impl Stream<Item = Result<Bytes, ExportError>> + Send {
    let first = ShipmentQuery {
        limit: ROWS_PER_STEP,
        cursor: None,
        selected: None,
        ..query
    };
    futures::stream::try_unfold(Some((first, true)), move |step| {
        let store = store.clone();
        async move {
            let Some((query, header)) = step else {
                return Ok(None);
            };
            let (rows, next) = store.shipment_rows(&query).await?;
            let chunk = Bytes::from(to_csv(&rows, header)?);
            let next = next.map(|cursor| {
                (
                    ShipmentQuery {
                        cursor: Some(cursor),
                        ..query
                    },
                    false,
                )
            });
            Ok(Some((chunk, next)))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::shipments::WritebackStatus;

    fn row(tracking: &str, error: Option<&str>) -> ShipmentRow {
        let at = "2026-11-25T14:02:00Z".parse().unwrap();
        ShipmentRow {
            shipment_id: "S-1".into(),
            account: "acme-us".into(),
            account_name: "Acme, \"US\"".into(),
            marketplace: "amazon".into(),
            order_id: "113-1".into(),
            carrier: "UPS".into(),
            service: "Ground".into(),
            tracking_number: tracking.into(),
            quantity: 3,
            ship_date: at,
            status: WritebackStatus::Failed,
            error_count: 5,
            last_attempt_at: Some(at),
            next_attempt_at: None,
            last_error: error.map(str::to_string),
            updated_at: at,
        }
    }

    #[test]
    fn formulas_are_neutralised() {
        for (cell, expected) in [
            ("=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"),
            ("+1", "'+1"),
            ("-1", "'-1"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("1Z999", "1Z999"),
            ("a=b", "a=b"),
            ("", ""),
        ] {
            assert_eq!(neutralise(cell), expected);
        }
    }

    #[test]
    fn rows_are_rfc_4180() {
        let csv = String::from_utf8(
            to_csv(&[row("=1+1", Some("Bad carrier,\nline \"two\""))], true).unwrap(),
        )
        .unwrap();
        assert_eq!(
            csv,
            "Shipment ID,Order ID,Account,Account name,Marketplace,Carrier,Service,Tracking number,Quantity,Ship date,Status,Error count,Last attempt,Next attempt,Last error,Updated\r\n\
             S-1,113-1,acme-us,\"Acme, \"\"US\"\"\",amazon,UPS,Ground,'=1+1,3,2026-11-25T14:02:00Z,Failed,5,2026-11-25T14:02:00Z,,\"Bad carrier,\nline \"\"two\"\"\",2026-11-25T14:02:00Z\r\n"
        );
    }

    #[test]
    fn file_names_say_the_date_and_filter() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
        assert_eq!(
            file_name(&ShipmentQuery::default(), today),
            "shipments-2026-11-25.csv"
        );
        let query = ShipmentQuery {
            statuses: vec![WritebackStatus::Failed, WritebackStatus::ConfirmedManually],
            accounts: vec!["acme/us".into()],
            ..ShipmentQuery::default()
        };
        assert_eq!(
            file_name(&query, today),
            "shipments-2026-11-25-failed-confirmed-manually-acme_us.csv"
        );
    }
}
