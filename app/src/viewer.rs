//! What the page needs to know about the person looking at it before it draws a time:
//! their time zone and the site's deadline warning time.
//!
//! The server knows the zone database; the browser should not download it. So the
//! server hands the page the zone's offsets for the years around now ([`ZoneRules`]),
//! written into the page it renders (`<meta name="shipback-viewer">`), and both sides
//! draw every time from that same table: the server-drawn page and the hydrated one
//! agree to the minute and the abbreviation.

use crate::deadlines::DEFAULT_WARNING_MINUTES;
use chrono::{DateTime, FixedOffset, NaiveDateTime, Utc};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The name of the `<meta>` element that carries the settings into the browser.
pub const META_NAME: &str = "shipback-viewer";

/// The start of a zone's first period: the earliest instant a browser's number holds
/// exactly (JavaScript's `Number.MIN_SAFE_INTEGER`), so that the table reads back in the
/// browser as it was written.
pub const SINCE_EVER_MS: i64 = -9_007_199_254_740_991;

/// One stretch of time during which a zone keeps one offset from UTC.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZonePeriod {
    /// The instant the period starts, in milliseconds since 1970 ([`SINCE_EVER_MS`] for
    /// the first period, which applies before the table's span too).
    pub from_ms: i64,
    pub offset_seconds: i32,
    /// `CST`, `CEST`, or the offset (`+0530`) where the zone has no abbreviation.
    pub abbreviation: String,
}

/// A time zone's offsets over a span of years, enough to draw any time on the screens.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZoneRules {
    /// The IANA name: `America/Chicago`.
    pub name: String,
    /// In order of `from_ms`; never empty.
    pub periods: Vec<ZonePeriod>,
}

impl ZoneRules {
    pub fn utc() -> ZoneRules {
        ZoneRules {
            name: "UTC".to_string(),
            periods: vec![ZonePeriod {
                from_ms: SINCE_EVER_MS,
                offset_seconds: 0,
                abbreviation: "UTC".to_string(),
            }],
        }
    }

    fn period(&self, t: DateTime<Utc>) -> &ZonePeriod {
        let ms = t.timestamp_millis();
        let after = self.periods.partition_point(|p| p.from_ms <= ms);
        &self.periods[after.saturating_sub(1)]
    }

    /// The wall-clock time in this zone at `t`, and the zone's abbreviation then.
    pub fn local(&self, t: DateTime<Utc>) -> (NaiveDateTime, &str) {
        let period = self.period(t);
        let offset = FixedOffset::east_opt(period.offset_seconds)
            .unwrap_or_else(|| FixedOffset::east_opt(0).expect("zero is a valid offset"));
        (
            t.with_timezone(&offset).naive_local(),
            period.abbreviation.as_str(),
        )
    }

    /// The instant the zone's wall clock reads `local`: for a day's start, the midnight
    /// of that day here. A time skipped by a clock change is read with the offset
    /// before it; a time that happens twice, at its first occurrence.
    pub fn instant_at(&self, local: NaiveDateTime) -> DateTime<Utc> {
        let as_utc = local.and_utc();
        let mut offsets: Vec<i32> = self.periods.iter().map(|p| p.offset_seconds).collect();
        offsets.sort_unstable_by(|a, b| b.cmp(a));
        offsets.dedup();
        offsets
            .iter()
            .map(|offset| as_utc - chrono::TimeDelta::seconds(i64::from(*offset)))
            .find(|t| {
                let at = t.timestamp_millis();
                self.period(*t).offset_seconds == (as_utc.timestamp_millis() - at) as i32 / 1000
            })
            .unwrap_or_else(|| {
                as_utc - chrono::TimeDelta::seconds(i64::from(self.period(as_utc).offset_seconds))
            })
    }
}

/// The viewer's settings, provided to every component through context.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ViewerSettings {
    pub time_zone: ZoneRules,
    /// An open shipment due within this many minutes is "due soon".
    pub deadline_warning_minutes: u32,
}

impl Default for ViewerSettings {
    fn default() -> Self {
        ViewerSettings {
            time_zone: ZoneRules::utc(),
            deadline_warning_minutes: DEFAULT_WARNING_MINUTES,
        }
    }
}

/// The time now: the browser's clock in the browser (the wasm has no other), the
/// system's on the server.
pub fn now() -> DateTime<Utc> {
    if cfg!(target_arch = "wasm32") {
        DateTime::from_timestamp_millis(js_sys::Date::now() as i64).unwrap_or_default()
    } else {
        Utc::now()
    }
}

/// The settings as components hold them: shared, cheap to copy into closures.
#[derive(Clone, Debug)]
pub struct Viewer(pub Arc<ViewerSettings>);

impl Viewer {
    /// The settings in context (the server provides them per request, the browser reads
    /// them from the page at start); UTC and the default warning outside any page.
    pub fn current() -> Viewer {
        use_context::<Viewer>().unwrap_or_else(|| Viewer(Arc::new(ViewerSettings::default())))
    }

    /// In the browser: the settings the server wrote into the page. Off the browser
    /// (the server listing its routes, with no request) there is no page: the defaults.
    pub fn from_page() -> Viewer {
        let settings = match crate::wire::page_meta::<ViewerSettings>(META_NAME) {
            Some(Ok(settings)) => settings,
            // The page would draw times in UTC where the server drew them in the zone:
            // say so where a developer looks.
            Some(Err(e)) => {
                leptos::logging::warn!("the page's viewer settings do not read ({e}): UTC");
                ViewerSettings::default()
            }
            None => ViewerSettings::default(),
        };
        Viewer(Arc::new(settings))
    }
}

/// The `<meta>` element that hands the settings to the browser, drawn by the server.
#[component]
pub fn ViewerMeta() -> impl IntoView {
    let settings = Viewer::current();
    let content = serde_json::to_string(&*settings.0).unwrap_or_default();
    view! { <meta name=META_NAME content=content/> }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    /// America/Chicago around the end of daylight saving time on 2026-11-01 at 07:00 UTC.
    fn chicago() -> ZoneRules {
        ZoneRules {
            name: "America/Chicago".to_string(),
            periods: vec![
                ZonePeriod {
                    from_ms: SINCE_EVER_MS,
                    offset_seconds: -5 * 3600,
                    abbreviation: "CDT".to_string(),
                },
                ZonePeriod {
                    from_ms: Utc
                        .with_ymd_and_hms(2026, 11, 1, 7, 0, 0)
                        .unwrap()
                        .timestamp_millis(),
                    offset_seconds: -6 * 3600,
                    abbreviation: "CST".to_string(),
                },
            ],
        }
    }

    #[test]
    fn a_time_is_drawn_with_the_offset_of_its_period() {
        let zone = chicago();
        let before = Utc.with_ymd_and_hms(2026, 11, 1, 6, 59, 0).unwrap();
        let (local, abbreviation) = zone.local(before);
        assert_eq!(local.to_string(), "2026-11-01 01:59:00");
        assert_eq!(abbreviation, "CDT");
        let after = Utc.with_ymd_and_hms(2026, 11, 1, 7, 0, 0).unwrap();
        let (local, abbreviation) = zone.local(after);
        assert_eq!(local.to_string(), "2026-11-01 01:00:00");
        assert_eq!(abbreviation, "CST");
        let parcel = Utc.with_ymd_and_hms(2026, 11, 26, 20, 10, 0).unwrap();
        assert_eq!(zone.local(parcel).0.to_string(), "2026-11-26 14:10:00");
    }

    #[test]
    fn a_local_midnight_is_found_in_either_period() {
        let zone = chicago();
        let day = |d: u32| {
            chrono::NaiveDate::from_ymd_opt(2026, 10, d)
                .or_else(|| chrono::NaiveDate::from_ymd_opt(2026, 11, d - 31))
                .unwrap()
                .and_hms_opt(0, 0, 0)
                .unwrap()
        };
        assert_eq!(
            zone.instant_at(day(31)),
            Utc.with_ymd_and_hms(2026, 10, 31, 5, 0, 0).unwrap()
        );
        assert_eq!(
            zone.instant_at(day(33)),
            Utc.with_ymd_and_hms(2026, 11, 2, 6, 0, 0).unwrap()
        );
        for d in [31, 32, 33] {
            assert_eq!(zone.local(zone.instant_at(day(d))).0, day(d));
        }
    }

    #[test]
    fn utc_is_the_default() {
        let t = Utc.with_ymd_and_hms(2026, 11, 26, 20, 10, 0).unwrap();
        assert_eq!(ZoneRules::utc().local(t), (t.naive_utc(), "UTC"));
    }
}
