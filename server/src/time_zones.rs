//! Time zones: the site's (`--time-zone`) and each person's own, turned into the table
//! of offsets the pages draw times from ([`app::viewer::ZoneRules`]), so that the
//! browser never downloads the zone database.

use app::viewer::{ViewerSettings, ZonePeriod, ZoneRules, SINCE_EVER_MS};
use chrono::{DateTime, Offset, TimeDelta, TimeZone, Utc};
use chrono_tz::{OffsetName, Tz};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// The table spans this many years before now (old shipments, the audit log)...
const YEARS_BEFORE: i64 = 10;
/// ...and this many after (deadlines ahead).
const YEARS_AFTER: i64 = 2;

/// What the site sets for everyone.
#[derive(Clone, Copy, Debug)]
pub struct SiteTime {
    pub zone: Tz,
    /// An open shipment due within this many minutes is "due soon".
    pub deadline_warning_minutes: u32,
}

impl Default for SiteTime {
    fn default() -> Self {
        SiteTime {
            zone: Tz::UTC,
            deadline_warning_minutes: app::deadlines::DEFAULT_WARNING_MINUTES,
        }
    }
}

impl SiteTime {
    /// The settings a person's pages are drawn with: their own zone if they chose one
    /// that still exists, else the site's.
    pub fn viewer(&self, own_zone: Option<&str>) -> ViewerSettings {
        let zone = own_zone
            .and_then(|name| parse(name).ok())
            .unwrap_or(self.zone);
        ViewerSettings {
            time_zone: (*rules(zone, Utc::now())).clone(),
            deadline_warning_minutes: self.deadline_warning_minutes,
        }
    }
}

/// An IANA zone name (`America/Chicago`), or a message naming what is wrong.
pub fn parse(name: &str) -> Result<Tz, String> {
    name.parse::<Tz>().map_err(|_| {
        format!("'{name}' is not a time zone of the IANA database; examples: America/Chicago, Europe/Berlin, UTC")
    })
}

/// Every zone name a person may choose, in order.
pub fn names() -> Vec<String> {
    let mut names: Vec<String> = chrono_tz::TZ_VARIANTS
        .iter()
        .map(|tz| tz.name().to_string())
        .collect();
    names.sort();
    names
}

/// The zone's offsets from [`YEARS_BEFORE`] years before `now` to [`YEARS_AFTER`] after,
/// kept for the day: every page of the day draws from the same table.
pub fn rules(zone: Tz, now: DateTime<Utc>) -> Arc<ZoneRules> {
    type Cache = Mutex<HashMap<(Tz, chrono::NaiveDate), Arc<ZoneRules>>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let key = (zone, now.date_naive());
    let cache = CACHE.get_or_init(Default::default);
    if let Some(found) = cache.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
        return found.clone();
    }
    let made = Arc::new(compute_rules(zone, now));
    let mut cache = cache.lock().unwrap_or_else(|e| e.into_inner());
    // Yesterday's tables are no longer asked for.
    cache.retain(|(_, day), _| *day == key.1);
    cache.insert(key, made.clone());
    made
}

/// (offset in seconds, abbreviation) at `t`.
fn offset_at(zone: Tz, t: DateTime<Utc>) -> (i32, String) {
    let offset = zone.offset_from_utc_datetime(&t.naive_utc());
    let seconds = offset.fix().local_minus_utc();
    let abbreviation = match offset.abbreviation() {
        Some(name) if !name.is_empty() => name.to_string(),
        _ => {
            let sign = if seconds < 0 { '-' } else { '+' };
            let minutes = seconds.abs() / 60;
            format!("{sign}{:02}{:02}", minutes / 60, minutes % 60)
        }
    };
    (seconds, abbreviation)
}

fn compute_rules(zone: Tz, now: DateTime<Utc>) -> ZoneRules {
    let start = now - TimeDelta::days(365 * YEARS_BEFORE);
    let end = now + TimeDelta::days(365 * YEARS_AFTER);
    let (offset_seconds, abbreviation) = offset_at(zone, start);
    let mut periods = vec![ZonePeriod {
        from_ms: SINCE_EVER_MS,
        offset_seconds,
        abbreviation,
    }];
    // Zones change offset at most a few times a year, never twice in a day: a day's
    // step finds each change, and halving the day finds its second.
    let mut before = start;
    while before < end {
        let after = before + TimeDelta::days(1);
        let current = offset_at(zone, after);
        let last = periods.last().expect("the table starts with one period");
        if current.0 != last.offset_seconds || current.1 != last.abbreviation {
            let (mut low, mut high) = (before, after);
            while high - low > TimeDelta::seconds(1) {
                let middle = low + (high - low) / 2;
                if offset_at(zone, middle) == current {
                    high = middle;
                } else {
                    low = middle;
                }
            }
            periods.push(ZonePeriod {
                from_ms: high.timestamp_millis(),
                offset_seconds: current.0,
                abbreviation: current.1,
            });
        }
        before = after;
    }
    ZoneRules {
        name: zone.name().to_string(),
        periods,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_draws_times_as_the_zone_database_does() {
        let now = Utc.with_ymd_and_hms(2026, 11, 30, 12, 0, 0).unwrap();
        for name in [
            "America/Chicago",
            "Europe/Berlin",
            "Asia/Kolkata",
            "Australia/Lord_Howe",
            "UTC",
        ] {
            let zone = parse(name).unwrap();
            let table = rules(zone, now);
            assert_eq!(table.name, name);
            // Every hour over two years, and the seconds around each change.
            let mut t = now - TimeDelta::days(400);
            while t < now + TimeDelta::days(400) {
                let (local, abbreviation) = table.local(t);
                let expected = t.with_timezone(&zone);
                assert_eq!(local, expected.naive_local(), "{name} at {t}");
                assert_eq!(abbreviation, offset_at(zone, t).1, "{name} at {t}");
                t += TimeDelta::minutes(59);
            }
            for period in &table.periods[1..] {
                let change = DateTime::from_timestamp_millis(period.from_ms).unwrap();
                for t in [change - TimeDelta::seconds(1), change] {
                    assert_eq!(table.local(t).0, t.with_timezone(&zone).naive_local());
                }
            }
        }
    }

    #[test]
    fn chicago_is_named_by_its_abbreviations() {
        let zone = parse("America/Chicago").unwrap();
        let winter = Utc.with_ymd_and_hms(2026, 11, 26, 20, 10, 0).unwrap();
        let table = rules(zone, winter);
        assert_eq!(table.local(winter).0.to_string(), "2026-11-26 14:10:00");
        assert_eq!(table.local(winter).1, "CST");
        let summer = Utc.with_ymd_and_hms(2026, 7, 1, 19, 10, 0).unwrap();
        assert_eq!(table.local(summer).1, "CDT");
    }

    /// The browser reads the table with `JSON.parse`: every number must be one a
    /// JavaScript number holds exactly, or the page falls back to UTC.
    #[test]
    fn the_table_reads_back_in_a_browser() {
        let settings = SiteTime::default().viewer(Some("America/Chicago"));
        let json = serde_json::to_value(&settings).unwrap();
        for period in json["time_zone"]["periods"].as_array().unwrap() {
            let from = period["from_ms"].as_i64().unwrap();
            assert!(from.abs() < (1 << 53), "{from} is not a safe integer");
        }
    }

    #[test]
    fn unknown_zones_are_refused_with_examples() {
        let refusal = parse("Mars/Olympus").unwrap_err();
        assert!(refusal.contains("America/Chicago"), "{refusal}");
        assert!(names().contains(&"Europe/Berlin".to_string()));
    }
}
