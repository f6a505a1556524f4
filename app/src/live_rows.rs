//! What a live refresh may change in a grid someone is reading.
//!
//! Rows already on screen take their new values in place, but shipments that were not
//! on screen are held back and announced ("3 new shipments — show"): inserting them
//! would push the row under the reader's finger or eyes down the page.

use crate::shipments::{Page, ShipmentRow};
use std::collections::{HashMap, HashSet};

/// The grid after a live refresh, and how many shipments it holds back.
#[derive(Clone, Debug, PartialEq)]
pub struct LiveRefresh {
    pub shown: Page<ShipmentRow>,
    pub held_back: usize,
}

/// Folds a freshly read page into the one on screen.
///
/// - No new shipment: the fresh page is shown as it is (a row that left the filter goes).
/// - New shipments: the rows on screen stay, in their order, with their fresh values; a
///   row the new ones pushed off the page stays too, as last read. The count is the
///   fresh one, since it is true whatever is shown.
pub fn fold_live_refresh(on_screen: &Page<ShipmentRow>, fresh: Page<ShipmentRow>) -> LiveRefresh {
    let known: HashSet<&str> = on_screen
        .items
        .iter()
        .map(|r| r.shipment_id.as_str())
        .collect();
    let held_back = fresh
        .items
        .iter()
        .filter(|r| !known.contains(r.shipment_id.as_str()))
        .count();
    if held_back == 0 {
        return LiveRefresh {
            shown: fresh,
            held_back,
        };
    }
    let total = fresh.total;
    let mut fresh_rows: HashMap<String, ShipmentRow> = fresh
        .items
        .into_iter()
        .map(|r| (r.shipment_id.clone(), r))
        .collect();
    let items = on_screen
        .items
        .iter()
        .map(|old| {
            fresh_rows
                .remove(&old.shipment_id)
                .unwrap_or_else(|| old.clone())
        })
        .collect();
    LiveRefresh {
        shown: Page {
            items,
            next_cursor: on_screen.next_cursor.clone(),
            total,
        },
        held_back,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shipments::WritebackStatus;
    use chrono::{TimeZone, Utc};

    fn row(id: &str, status: WritebackStatus) -> ShipmentRow {
        let at = Utc.with_ymd_and_hms(2026, 11, 1, 12, 0, 0).unwrap();
        ShipmentRow {
            shipment_id: id.into(),
            account: "acme-us".into(),
            account_name: "Acme US".into(),
            marketplace: "amazon".into(),
            order_id: format!("order-{id}"),
            carrier: "UPS".into(),
            service: "Ground".into(),
            tracking_number: format!("1Z{id}"),
            quantity: 1,
            ship_date: at,
            status,
            error_count: 0,
            last_attempt_at: None,
            next_attempt_at: None,
            last_error: None,
            updated_at: at,
            waiting: false,
            ship_by: None,
            confirmed_at: None,
        }
    }

    fn page(rows: &[(&str, WritebackStatus)], total: u64) -> Page<ShipmentRow> {
        Page {
            items: rows.iter().map(|(id, s)| row(id, *s)).collect(),
            next_cursor: Some("cursor".into()),
            total,
        }
    }

    fn ids(page: &Page<ShipmentRow>) -> Vec<&str> {
        page.items.iter().map(|r| r.shipment_id.as_str()).collect()
    }

    use WritebackStatus::{Failed, Pending, Success};

    #[test]
    fn changed_rows_update_in_place_when_nothing_is_new() {
        let on_screen = page(&[("a", Pending), ("b", Pending)], 2);
        let fresh = page(&[("a", Success), ("b", Failed)], 2);
        let refresh = fold_live_refresh(&on_screen, fresh.clone());
        assert_eq!(refresh.held_back, 0);
        assert_eq!(refresh.shown, fresh);
    }

    #[test]
    fn a_row_that_left_the_filter_goes_when_nothing_is_new() {
        let on_screen = page(&[("a", Failed), ("b", Failed)], 2);
        let fresh = page(&[("b", Failed)], 1);
        let refresh = fold_live_refresh(&on_screen, fresh);
        assert_eq!(ids(&refresh.shown), ["b"]);
        assert_eq!(refresh.held_back, 0);
    }

    #[test]
    fn new_rows_are_held_back_and_counted_while_the_rows_on_screen_stay_put() {
        let on_screen = page(&[("a", Pending), ("b", Pending), ("c", Pending)], 3);
        // Two new shipments sort first and push "c" off a page of three.
        let fresh = page(&[("new1", Pending), ("new2", Pending), ("a", Success)], 5);
        let refresh = fold_live_refresh(&on_screen, fresh);
        assert_eq!(refresh.held_back, 2);
        assert_eq!(ids(&refresh.shown), ["a", "b", "c"]);
        assert_eq!(refresh.shown.items[0].status, Success, "a's fresh values");
        assert_eq!(refresh.shown.items[1].status, Pending, "b as last read");
        assert_eq!(refresh.shown.total, 5, "the count is always the fresh one");
        assert_eq!(refresh.shown.next_cursor.as_deref(), Some("cursor"));
    }

    #[test]
    fn an_empty_grid_shows_nothing_until_asked() {
        let on_screen = page(&[], 0);
        let fresh = page(&[("new", Pending)], 1);
        let refresh = fold_live_refresh(&on_screen, fresh);
        assert_eq!(refresh.held_back, 1);
        assert!(refresh.shown.items.is_empty());
        assert_eq!(refresh.shown.total, 1);
    }
}
