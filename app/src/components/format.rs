//! How times and numbers are written on screen.
//!
//! Times are shown in UTC, in the same words on the server and in the browser, so that
//! hydration never disagrees with the server's HTML.

use chrono::{DateTime, Utc};

pub fn date_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

pub fn date_time_or_dash(t: Option<DateTime<Utc>>) -> String {
    t.map(date_time).unwrap_or_else(|| "—".to_string())
}

pub fn duration_ms(ms: u64) -> String {
    if ms < 1000 {
        format!("{ms} ms")
    } else {
        format!("{:.1} s", ms as f64 / 1000.0)
    }
}
