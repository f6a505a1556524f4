//! CSV export of exactly what the grid lists, in its order: every shipment the filters
//! match (not only the page on screen), streamed page by page, so that a million rows
//! neither time out nor fill memory. RFC 4180 through the csv crate, UTF-8, a header
//! row; a cell a spreadsheet would read as a formula is neutralised, as OWASP advises.

use crate::store::{Store, StoreError};
use app::query::ShipmentQuery;
use app::shipments::ShipmentRow;
use axum::body::Bytes;
use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};
use futures::{Stream, StreamExt};
use std::borrow::Cow;

pub const COLUMNS: [&str; 19] = [
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
    "Ship by",
    "Confirmed",
    "Deadline",
];

/// When the export judges each shipment against its deadline (its start), and the site's
/// warning time: the "Deadline" column's words.
#[derive(Clone, Copy, Debug)]
pub struct JudgedAt {
    pub now: DateTime<Utc>,
    pub warning_minutes: u32,
}

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

/// `t` as RFC 3339 in UTC to the second (`2026-11-25T14:02:00Z`), digit by digit:
/// chrono's `format` parses its pattern on every call (a tenth of a million-row export),
/// and `write!` with padded fields still cost more than the digits. Read from the
/// naive time: each field of a `DateTime<Utc>` adds its (zero) offset again. `None`
/// for a year with no four-digit form.
fn rfc3339_seconds(t: DateTime<Utc>) -> Option<[u8; 20]> {
    let t = t.naive_utc();
    fn digits(out: &mut [u8], mut n: u32) {
        for place in out.iter_mut().rev() {
            *place = b'0' + (n % 10) as u8;
            n /= 10;
        }
    }
    let year = u32::try_from(t.year()).ok().filter(|y| *y <= 9999)?;
    let mut text = *b"0000-00-00T00:00:00Z";
    digits(&mut text[0..4], year);
    digits(&mut text[5..7], t.month());
    digits(&mut text[8..10], t.day());
    digits(&mut text[11..13], t.hour());
    digits(&mut text[14..16], t.minute());
    digits(&mut text[17..19], t.second());
    Some(text)
}

/// Writes one shipment as a CSV record, every cell neutralised.
fn write_row<W: std::io::Write>(
    writer: &mut csv::Writer<W>,
    row: &ShipmentRow,
    judged: JudgedAt,
) -> Result<(), csv::Error> {
    let cell =
        |writer: &mut csv::Writer<W>, text: &str| writer.write_field(neutralise(text).as_bytes());
    cell(writer, &row.shipment_id)?;
    cell(writer, &row.order_id)?;
    cell(writer, &row.account)?;
    cell(writer, &row.account_name)?;
    cell(writer, &row.marketplace)?;
    cell(writer, &row.carrier)?;
    cell(writer, &row.service)?;
    cell(writer, &row.tracking_number)?;
    writer.write_field(itoa::Buffer::new().format(row.quantity))?;
    let instant = |writer: &mut csv::Writer<W>, t: Option<DateTime<Utc>>| match t {
        Some(t) => match rfc3339_seconds(t) {
            Some(text) => writer.write_field(text),
            None => writer.write_field(t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        },
        None => writer.write_field(b""),
    };
    instant(writer, Some(row.ship_date))?;
    writer.write_field(row.status_label())?;
    writer.write_field(itoa::Buffer::new().format(row.error_count))?;
    instant(writer, row.last_attempt_at)?;
    instant(writer, row.next_attempt_at)?;
    cell(
        writer,
        &app::timed_text::draw_utc(row.last_error.as_deref().unwrap_or_default()),
    )?;
    instant(writer, Some(row.updated_at))?;
    instant(writer, row.ship_by)?;
    instant(writer, row.confirmed_at)?;
    writer.write_field(row.deadline(judged.now, judged.warning_minutes).words())?;
    writer.write_record(None::<&[u8]>)
}

/// Rows as CSV text (with the header row first when `header`).
pub fn to_csv(rows: &[ShipmentRow], header: bool, judged: JudgedAt) -> Result<Vec<u8>, csv::Error> {
    let mut writer = csv_writer(Vec::with_capacity(rows.len() * 160));
    if header {
        writer.write_record(COLUMNS)?;
    }
    for row in rows {
        write_row(&mut writer, row, judged)?;
    }
    writer
        .into_inner()
        .map_err(|e| csv::Error::from(e.into_error()))
}

/// RFC 4180: CRLF line ends, quotes doubled.
pub(crate) fn csv_writer(buffer: Vec<u8>) -> csv::Writer<Vec<u8>> {
    csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(buffer)
}

/// "shipments-2026-11-25-failed-retrying-acme-us.csv": the date and the filter.
pub fn file_name(query: &ShipmentQuery, today: NaiveDate) -> String {
    let mut parts = vec![format!("shipments-{}", today.format("%Y-%m-%d"))];
    parts.extend(query.statuses.iter().map(|s| s.as_str().replace('_', "-")));
    parts.extend(query.accounts.iter().cloned());
    parts.extend(query.deadlines.iter().map(|d| d.as_str().replace('_', "-")));
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

/// The whole export as a stream of CSV chunks, one per step the store reads: the
/// header, then every row in the grid's order.
pub fn stream(
    store: Store,
    query: ShipmentQuery,
) -> impl Stream<Item = Result<Bytes, ExportError>> + Send {
    let header = futures::stream::once(async {
        let mut writer = csv_writer(Vec::new());
        writer.write_record(COLUMNS)?;
        let header = writer
            .into_inner()
            .map_err(|e| csv::Error::from(e.into_error()))?;
        Ok(Bytes::from(header))
    });
    let judged = JudgedAt {
        now: Utc::now(),
        warning_minutes: store.deadline_warning_minutes(),
    };
    let rows = store
        .export_rows(&query)
        .map(move |step| Ok(Bytes::from(to_csv(&step?, false, judged)?)));
    header.chain(rows)
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
            waiting: false,
            ship_by: None,
            confirmed_at: None,
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
        let judged = JudgedAt {
            now: "2026-11-25T18:00:00Z".parse().unwrap(),
            warning_minutes: 24 * 60,
        };
        let mut late = row("=1+1", Some("Bad carrier,\nline \"two\""));
        late.ship_by = Some("2026-11-25T14:48:00Z".parse().unwrap());
        let csv = String::from_utf8(to_csv(&[late], true, judged).unwrap()).unwrap();
        assert_eq!(
            csv,
            "Shipment ID,Order ID,Account,Account name,Marketplace,Carrier,Service,Tracking number,Quantity,Ship date,Status,Error count,Last attempt,Next attempt,Last error,Updated,Ship by,Confirmed,Deadline\r\n\
             S-1,113-1,acme-us,\"Acme, \"\"US\"\"\",amazon,UPS,Ground,'=1+1,3,2026-11-25T14:02:00Z,Failed,5,2026-11-25T14:02:00Z,,\"Bad carrier,\nline \"\"two\"\"\",2026-11-25T14:02:00Z,2026-11-25T14:48:00Z,,Late by 3 h 12 min\r\n"
        );
    }

    #[test]
    fn instants_are_rfc_3339_to_the_second() {
        for text in [
            "2026-11-25T14:02:09Z",
            "0001-01-01T00:00:00Z",
            "9999-12-31T23:59:59Z",
            "2024-02-29T00:00:00Z",
        ] {
            let t: DateTime<Utc> = text.parse().unwrap();
            assert_eq!(
                rfc3339_seconds(t).as_ref().map(|b| &b[..]),
                Some(text.as_bytes())
            );
        }
        let far: DateTime<Utc> = "+10000-01-01T00:00:00Z".parse().unwrap();
        assert_eq!(rfc3339_seconds(far), None);
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
            deadlines: vec![app::deadlines::DeadlineFilter::ConfirmedLate],
            ..ShipmentQuery::default()
        };
        assert_eq!(
            file_name(&query, today),
            "shipments-2026-11-25-failed-confirmed-manually-acme_us-confirmed-late.csv"
        );
    }
}
