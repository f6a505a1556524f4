//! How times, numbers and server refusals are written on screen.
//!
//! Times are drawn in the viewer's time zone ([`Viewer`]), from the zone table the server
//! wrote into the page, so that the server-drawn page and the hydrated one agree.
//!
//! Written with plain `format!` rather than chrono's `%Y-%m-%d` patterns: the pattern
//! interpreter is code the browser would download for four fixed layouts.

use crate::viewer::{Viewer, ZoneRules};
use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Timelike, Utc};
use leptos::prelude::ServerFnError;

/// `2026-11-26`
pub fn date(d: NaiveDate) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day())
}

/// `t` on the viewer's wall clock, with the zone's abbreviation then.
fn local(t: DateTime<Utc>) -> (NaiveDateTime, String) {
    let viewer = Viewer::current();
    let (local, abbreviation) = viewer.0.time_zone.local(t);
    (local, abbreviation.to_string())
}

fn minutes(t: NaiveDateTime) -> String {
    format!("{} {:02}:{:02}", date(t.date()), t.hour(), t.minute())
}

/// `14:02:09 CST`
pub fn time_of_day(t: DateTime<Utc>) -> String {
    time_of_day_in(t, &Viewer::current().0.time_zone)
}

/// `14:02:09 CST`, in `zone`.
pub fn time_of_day_in(t: DateTime<Utc>, zone: &ZoneRules) -> String {
    let (t, abbreviation) = zone.local(t);
    format!(
        "{:02}:{:02}:{:02} {abbreviation}",
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// A sentence the server kept, its times drawn in the viewer's zone
/// ([`crate::timed_text`]).
pub fn said(text: &str) -> String {
    crate::timed_text::draw(text, &Viewer::current().0.time_zone).into_owned()
}

/// `2026-11-26`, the viewer's calendar day at `t`.
pub fn local_date(t: DateTime<Utc>) -> String {
    date(local(t).0.date())
}

/// `2026-11-26 14:02`, in the viewer's zone (named once, in the screen's legend).
pub fn date_minutes(t: DateTime<Utc>) -> String {
    minutes(local(t).0)
}

/// `2026-11-26 14:02:09`
pub fn date_seconds(t: DateTime<Utc>) -> String {
    let t = local(t).0;
    format!("{}:{:02}", minutes(t), t.second())
}

/// `2026-11-26 14:02:09 CST`
pub fn date_time(t: DateTime<Utc>) -> String {
    let (local, zone) = local(t);
    format!("{}:{:02} {zone}", minutes(local), local.second())
}

pub fn date_time_or_dash(t: Option<DateTime<Utc>>) -> String {
    t.map(date_time).unwrap_or_else(|| "—".to_string())
}

/// The name of the viewer's zone, for a screen's legend: `America/Chicago`.
pub fn zone_name() -> String {
    Viewer::current().0.time_zone.name.clone()
}

pub fn duration_ms(ms: u64) -> String {
    if ms < 1000 {
        format!("{ms} ms")
    } else {
        format!("{:.1} s", ms as f64 / 1000.0)
    }
}

/// A server function's refusal as the person should read it: the server's own sentence,
/// without the error kind's prefix.
pub fn server_error_text(e: &ServerFnError) -> String {
    match e {
        ServerFnError::ServerError(message) => message.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn layouts_match_chronos_patterns() {
        for t in [
            Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap(),
            Utc.with_ymd_and_hms(999, 12, 31, 23, 59, 59).unwrap(),
        ] {
            assert_eq!(date(t.date_naive()), t.format("%Y-%m-%d").to_string());
            assert_eq!(date_minutes(t), t.format("%Y-%m-%d %H:%M").to_string());
            assert_eq!(date_seconds(t), t.format("%Y-%m-%d %H:%M:%S").to_string());
            assert_eq!(date_time(t), t.format("%Y-%m-%d %H:%M:%S UTC").to_string());
            assert_eq!(time_of_day(t), t.format("%H:%M:%S UTC").to_string());
        }
    }
}
