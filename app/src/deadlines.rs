//! How much time a shipment has before it is late, in the words the grid, the detail
//! panel and the CSV use.
//!
//! A shipment's deadline is its order's latest ship date as the marketplace gave it
//! (Amazon `fulfillment.shipByWindow.latest`, eBay's ship-by date); the marketplace
//! judges a shipment by when it was first confirmed to it. Nothing is guessed: a
//! shipment whose order Shipback has not read says so.

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

/// The warning time when the site sets none: a day, which is what a late-shipment rate
/// is counted in.
pub const DEFAULT_WARNING_MINUTES: u32 = 24 * 60;

/// Where a shipment stands against its deadline, as of one instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Deadline {
    /// Its order has not been read, or its marketplace gives no deadline.
    Unknown,
    /// Not confirmed yet, with this much time left; `soon` when that is within the
    /// warning time.
    Open {
        left: TimeDelta,
        soon: bool,
    },
    /// Not confirmed, and the deadline has passed by this much.
    Late {
        by: TimeDelta,
    },
    ConfirmedOnTime,
    /// Confirmed this long after the deadline.
    ConfirmedLate {
        by: TimeDelta,
    },
}

/// How loudly a deadline is shown: colour only where it matters, always with words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Urgency {
    Quiet,
    Soon,
    Late,
}

impl Deadline {
    pub fn of(
        ship_by: Option<DateTime<Utc>>,
        confirmed_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
        warning_minutes: u32,
    ) -> Deadline {
        let Some(ship_by) = ship_by else {
            return Deadline::Unknown;
        };
        match confirmed_at {
            Some(at) if at > ship_by => Deadline::ConfirmedLate { by: at - ship_by },
            Some(_) => Deadline::ConfirmedOnTime,
            None if now >= ship_by => Deadline::Late { by: now - ship_by },
            None => {
                let left = ship_by - now;
                Deadline::Open {
                    left,
                    soon: left <= TimeDelta::minutes(i64::from(warning_minutes)),
                }
            }
        }
    }

    /// `5 h 20 min left`, `Late by 3 h 12 min`, `Confirmed late (3 h 12 min)`.
    pub fn words(&self) -> String {
        match self {
            Deadline::Unknown => "No deadline known".to_string(),
            Deadline::Open { left, soon: true } => format!("Due in {}", span_words(*left)),
            Deadline::Open { left, soon: false } => format!("{} left", span_words(*left)),
            Deadline::Late { by } => format!("Late by {}", span_words(*by)),
            Deadline::ConfirmedOnTime => "Confirmed on time".to_string(),
            Deadline::ConfirmedLate { by } => format!("Confirmed late ({})", span_words(*by)),
        }
    }

    pub fn urgency(&self) -> Urgency {
        match self {
            Deadline::Open { soon: true, .. } => Urgency::Soon,
            Deadline::Late { .. } | Deadline::ConfirmedLate { .. } => Urgency::Late,
            _ => Urgency::Quiet,
        }
    }
}

/// A span of time in the largest two units a supervisor reads at a glance: `45 min`,
/// `3 h 12 min`, `24 h`, `3 d 4 h`. Under a minute is `under 1 min`.
pub fn span_words(span: TimeDelta) -> String {
    let minutes = span.num_minutes().max(0);
    let (days, hours, mins) = (minutes / 1440, (minutes / 60) % 24, minutes % 60);
    match minutes {
        0 => "under 1 min".to_string(),
        1..60 => format!("{mins} min"),
        // Up to two days in hours: "24 h" and "36 h" read better than "1 d 12 h".
        60..2880 if mins == 0 => format!("{} h", minutes / 60),
        60..2880 => format!("{} h {mins} min", minutes / 60),
        _ if hours == 0 => format!("{days} d"),
        _ => format!("{days} d {hours} h"),
    }
}

/// A filter of the grid by deadline (`deadline=` in the URL and the API).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DeadlineFilter {
    /// Not confirmed, due within the warning time.
    DueSoon,
    /// Not confirmed, past its deadline.
    Late,
    /// No deadline known.
    Unknown,
    /// Confirmed after its deadline.
    ConfirmedLate,
}

impl DeadlineFilter {
    pub const ALL: [DeadlineFilter; 4] = [
        DeadlineFilter::DueSoon,
        DeadlineFilter::Late,
        DeadlineFilter::Unknown,
        DeadlineFilter::ConfirmedLate,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DeadlineFilter::DueSoon => "due",
            DeadlineFilter::Late => "late",
            DeadlineFilter::Unknown => "none",
            DeadlineFilter::ConfirmedLate => "confirmed_late",
        }
    }

    pub fn parse(text: &str) -> Option<DeadlineFilter> {
        Self::ALL.into_iter().find(|f| f.as_str() == text)
    }

    /// The chip's words, with the site's warning time: "Due within 24 h".
    pub fn label(self, warning_minutes: u32) -> String {
        match self {
            DeadlineFilter::DueSoon => format!(
                "Due within {}",
                span_words(TimeDelta::minutes(i64::from(warning_minutes)))
            ),
            DeadlineFilter::Late => "Late".to_string(),
            DeadlineFilter::Unknown => "No deadline known".to_string(),
            DeadlineFilter::ConfirmedLate => "Confirmed late".to_string(),
        }
    }

    /// Whether a shipment in this state is one the filter lists: the definition the
    /// database's conditions are tested against.
    pub fn matches(self, deadline: &Deadline) -> bool {
        matches!(
            (self, deadline),
            (DeadlineFilter::DueSoon, Deadline::Open { soon: true, .. })
                | (DeadlineFilter::Late, Deadline::Late { .. })
                | (DeadlineFilter::Unknown, Deadline::Unknown)
                | (
                    DeadlineFilter::ConfirmedLate,
                    Deadline::ConfirmedLate { .. }
                )
        )
    }
}

/// Per account, what is still to be confirmed close to or past its deadline: the status
/// panel's at-risk counts and `GET /api/v1/status`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadlineCounts {
    /// Not confirmed, due within the warning time.
    pub due_soon: u64,
    /// Not confirmed, past the deadline.
    pub late: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 30, h, m, 0).unwrap()
    }

    #[test]
    fn spans_read_in_two_units() {
        let words = |m: i64| span_words(TimeDelta::minutes(m));
        assert_eq!(span_words(TimeDelta::seconds(59)), "under 1 min");
        assert_eq!(words(45), "45 min");
        assert_eq!(words(60), "1 h");
        assert_eq!(words(192), "3 h 12 min");
        assert_eq!(words(24 * 60), "24 h");
        assert_eq!(words(48 * 60), "2 d");
        assert_eq!(words(76 * 60 + 5), "3 d 4 h");
        assert_eq!(words(-5), "under 1 min");
    }

    #[test]
    fn a_shipment_stands_where_its_times_put_it() {
        let day = DEFAULT_WARNING_MINUTES;
        assert_eq!(Deadline::of(None, None, at(12, 0), day), Deadline::Unknown);
        assert_eq!(
            Deadline::of(None, Some(at(1, 0)), at(12, 0), day),
            Deadline::Unknown
        );
        let open = Deadline::of(Some(at(17, 20)), None, at(12, 0), day);
        assert_eq!(open.words(), "Due in 5 h 20 min");
        assert_eq!(open.urgency(), Urgency::Soon);
        let far = Deadline::of(Some(at(17, 20)), None, at(12, 0), 60);
        assert_eq!(far.words(), "5 h 20 min left");
        assert_eq!(far.urgency(), Urgency::Quiet);
        let late = Deadline::of(Some(at(8, 48)), None, at(12, 0), day);
        assert_eq!(late.words(), "Late by 3 h 12 min");
        assert_eq!(late.urgency(), Urgency::Late);
        let confirmed_late = Deadline::of(Some(at(8, 48)), Some(at(12, 0)), at(23, 0), day);
        assert_eq!(confirmed_late.words(), "Confirmed late (3 h 12 min)");
        assert_eq!(
            Deadline::of(Some(at(12, 0)), Some(at(12, 0)), at(23, 0), day),
            Deadline::ConfirmedOnTime
        );
        // The very instant of the deadline is late: the marketplace's "latest" is the
        // last moment that still counts, and it has gone.
        assert!(matches!(
            Deadline::of(Some(at(12, 0)), None, at(12, 0), day),
            Deadline::Late { .. }
        ));
    }

    #[test]
    fn filters_read_back_and_name_the_warning_time() {
        for f in DeadlineFilter::ALL {
            assert_eq!(DeadlineFilter::parse(f.as_str()), Some(f));
        }
        assert_eq!(DeadlineFilter::DueSoon.label(24 * 60), "Due within 24 h");
        assert_eq!(DeadlineFilter::DueSoon.label(90), "Due within 1 h 30 min");
    }
}
