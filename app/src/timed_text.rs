//! Sentences the server keeps to show later (an API's health, why a shipment waits) say
//! when something happened. The time is kept in them as a mark, `[[at:1764511327]]`, and
//! drawn where the sentence is shown: on the dashboard in the viewer's zone, like every
//! other time; in the API, the CSV export and webhooks in UTC. A sentence kept before
//! marks existed (its time in words, "14:02 UTC") is shown as it is.

use crate::components::format::time_of_day_in;
use crate::viewer::ZoneRules;
use chrono::{DateTime, Utc};
use std::borrow::Cow;

const OPEN: &str = "[[at:";
const CLOSE: &str = "]]";

/// The mark of `t` (to the second), to write into a kept sentence.
pub fn mark(t: DateTime<Utc>) -> String {
    format!("{OPEN}{}{CLOSE}", t.timestamp())
}

/// `text` with each mark drawn as a time of day in `zone`, named: "14:02:07 CST".
pub fn draw<'a>(text: &'a str, zone: &ZoneRules) -> Cow<'a, str> {
    if !text.contains(OPEN) {
        return Cow::Borrowed(text);
    }
    let mut drawn = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(OPEN) {
        let after = &rest[start + OPEN.len()..];
        let Some(end) = after.find(CLOSE) else {
            break;
        };
        let instant = after[..end]
            .parse::<i64>()
            .ok()
            .and_then(|seconds| DateTime::from_timestamp(seconds, 0));
        let taken = start + OPEN.len() + end + CLOSE.len();
        match instant {
            Some(t) => {
                drawn.push_str(&rest[..start]);
                drawn.push_str(&time_of_day_in(t, zone));
            }
            // Not a mark Shipback wrote (a marketplace's message quoted in the
            // sentence): left as it reads.
            None => drawn.push_str(&rest[..taken]),
        }
        rest = &rest[taken..];
    }
    drawn.push_str(rest);
    Cow::Owned(drawn)
}

/// `text` as the API, the CSV export and webhooks carry it: times in UTC.
pub fn draw_utc(text: &str) -> Cow<'_, str> {
    // Most text has no mark (every row of a CSV export passes here): no zone is built.
    if !text.contains(OPEN) {
        return Cow::Borrowed(text);
    }
    draw(text, &ZoneRules::utc())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::viewer::ZonePeriod;
    use chrono::TimeZone;

    fn chicago_winter() -> ZoneRules {
        ZoneRules {
            name: "America/Chicago".to_string(),
            periods: vec![ZonePeriod {
                from_ms: crate::viewer::SINCE_EVER_MS,
                offset_seconds: -6 * 3600,
                abbreviation: "CST".to_string(),
            }],
        }
    }

    #[test]
    fn marks_are_drawn_in_the_readers_zone() {
        let t = Utc.with_ymd_and_hms(2026, 11, 30, 20, 2, 7).unwrap();
        let kept = format!(
            "The API is down since {}. Last error 503 at {}.",
            mark(t),
            mark(t)
        );
        assert_eq!(
            draw(&kept, &chicago_winter()),
            "The API is down since 14:02:07 CST. Last error 503 at 14:02:07 CST."
        );
        assert_eq!(
            draw_utc(&kept),
            "The API is down since 20:02:07 UTC. Last error 503 at 20:02:07 UTC."
        );
    }

    #[test]
    fn text_that_only_looks_like_a_mark_is_left_as_it_reads() {
        for text in [
            "no mark at all: since 14:02 UTC",
            "the marketplace said [[at:soon]] and then [[at:",
            "unclosed [[at:1764511327",
        ] {
            assert_eq!(draw_utc(text), text);
        }
        let t = Utc.with_ymd_and_hms(2026, 11, 30, 20, 2, 7).unwrap();
        assert_eq!(
            draw_utc(&format!("[[at:x]] then {}", mark(t))),
            "[[at:x]] then 20:02:07 UTC"
        );
    }
}
