//! The shipment grid: sortable headings, one row per shipment, keyset paging.

use crate::components::filter_bar::href;
use crate::components::format::{date_time_or_dash, server_error_text};
use crate::components::status_badge::StatusBadge;
use crate::live_rows::fold_live_refresh;
use crate::query::{ShipmentQuery, Sort, SortKey};
use crate::shipments::{Page, ShipmentRow, WritebackStatus};
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use serde::{Deserialize, Serialize};

/// One read of the grid's page, with what asked for it: a read with the same query and
/// the same `refresh` as the page on screen was asked for by a live event.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct GridRead {
    pub query: String,
    pub refresh: u64,
    pub page: Result<Page<ShipmentRow>, ServerFnError>,
}

type PageResource = crate::wire::BrowserResource<GridRead>;

/// The page on screen, and the read it came from.
struct OnScreen {
    query: String,
    refresh: u64,
    page: Page<ShipmentRow>,
}

/// The grid's columns: heading, the sort key behind it (none: not sortable), and a
/// class by which narrow screens hide the less needed ones (style/main.css). "Time left"
/// sorts by the deadline: going up, the most urgent first.
const COLUMNS: [(&str, Option<SortKey>, &str); 11] = [
    ("Order", Some(SortKey::OrderId), "col-order"),
    ("Account", Some(SortKey::Account), "col-account"),
    ("Carrier / service", Some(SortKey::Carrier), "col-carrier"),
    (
        "Tracking number",
        Some(SortKey::TrackingNumber),
        "col-tracking",
    ),
    ("Qty", Some(SortKey::Quantity), "col-qty"),
    ("Ship date", Some(SortKey::ShipDate), "col-date"),
    ("Status", Some(SortKey::Status), "col-status"),
    ("Time left", Some(SortKey::ShipBy), "col-left"),
    ("Ship by", None, "col-shipby"),
    ("Errors", Some(SortKey::ErrorCount), "col-errors"),
    ("Last attempt", Some(SortKey::LastAttemptAt), "col-last"),
];

/// How often the "Time left" column counts down.
const TIME_LEFT_TICK_MS: u32 = 30_000;

#[component]
/// `picked`: the Failed shipments ticked for a bulk action.
/// `refresh`: bumped to show the shipments a live refresh held back.
pub fn ShipmentGrid(
    view: Memo<ShipmentQuery>,
    page: PageResource,
    picked: RwSignal<Vec<String>>,
    refresh: RwSignal<u64>,
) -> impl IntoView {
    let on_screen = StoredValue::new(None::<OnScreen>);
    let held_back = RwSignal::new(0usize);
    let now = ticking_now(TIME_LEFT_TICK_MS);
    let announcement = move || {
        let n = held_back.get();
        (n > 0).then(|| {
            let text = if n == 1 {
                "1 new shipment".to_string()
            } else {
                format!("{n} new shipments")
            };
            view! {
                <button
                    class="new-rows"
                    data-testid="new-rows"
                    on:click=move |_| refresh.update(|r| *r += 1)
                >
                    {text}
                    " — show"
                </button>
            }
        })
    };
    view! {
        <div class="new-rows-line" role="status" aria-live="polite">{announcement}</div>
        <Transition fallback=|| view! { <p class="loading">"Loading shipments…"</p> }>
            <ReadPage page=page on_screen=on_screen held_back=held_back view=view picked=picked now=now/>
        </Transition>
    }
}

/// The grid as read. A memo stands between the reads and the table: a live event whose
/// read brings the page on screen unchanged (another page's shipment changed) rebuilds
/// nothing, where each one rebuilt the whole table (about 100 ms on a mid-range tablet).
/// Rendered inside the `Transition`, so that the memo's read registers with it.
#[component]
fn ReadPage(
    page: PageResource,
    on_screen: StoredValue<Option<OnScreen>>,
    held_back: RwSignal<usize>,
    view: Memo<ShipmentQuery>,
    picked: RwSignal<Vec<String>>,
    now: Signal<chrono::DateTime<chrono::Utc>>,
) -> impl IntoView {
    let shown = Memo::new(move |_| {
        page.get().map(|read| match read.page {
            Ok(fresh) => Ok(show(on_screen, held_back, read.query, read.refresh, fresh)),
            Err(e) => Err(server_error_text(&e)),
        })
    });
    move || {
        shown.get().map(|read| match read {
            Ok(shown) => {
                // Ticking shipments is for a bulk retry, which viewers cannot do.
                let may_pick = crate::components::who::may(crate::people::Role::Operator);
                view! { <GridTable view=view page=shown picked=picked may_pick=may_pick now=now/> }
                    .into_any()
            }
            Err(why) => view! {
                <p class="error-line" role="alert">{format!("Could not load shipments: {why}")}</p>
            }
            .into_any(),
        })
    }
}

/// What the grid shows of a fresh read: all of it, unless a live event asked for it.
fn show(
    on_screen: StoredValue<Option<OnScreen>>,
    held_back: RwSignal<usize>,
    query: String,
    refresh: u64,
    fresh: Page<ShipmentRow>,
) -> Page<ShipmentRow> {
    let live = on_screen.with_value(|s| {
        s.as_ref()
            .filter(|s| s.query == query && s.refresh == refresh)
            .map(|s| fold_live_refresh(&s.page, fresh.clone()))
    });
    let (shown, held) = match live {
        Some(refresh) => (refresh.shown, refresh.held_back),
        None => (fresh, 0),
    };
    on_screen.set_value(Some(OnScreen {
        query,
        refresh,
        page: shown.clone(),
    }));
    if held_back.get_untracked() != held {
        held_back.set(held);
    }
    shown
}

/// The time now, read again every `every_ms` in the browser; the server draws with its
/// own clock once.
fn ticking_now(every_ms: u32) -> Signal<chrono::DateTime<chrono::Utc>> {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let now = RwSignal::new(crate::viewer::now());
    Effect::new(move |_| {
        let running = Arc::new(AtomicBool::new(true));
        let still_running = running.clone();
        leptos::task::spawn_local(async move {
            loop {
                gloo_timers::future::TimeoutFuture::new(every_ms).await;
                // The grid may have gone meanwhile; its signal with it.
                if !still_running.load(Ordering::Relaxed)
                    || now.try_set(crate::viewer::now()).is_some()
                {
                    break;
                }
            }
        });
        on_cleanup(move || running.store(false, Ordering::Relaxed));
    });
    now.into()
}

/// The keyboard on a desktop: ↓ and ↑ move through the rows, Enter (on a row) opens its
/// detail, Escape closes it. Keys typed into a field are left alone.
pub fn keyboard_navigation(view: Memo<ShipmentQuery>) {
    use wasm_bindgen::JsCast;
    let navigate = use_navigate();
    // The row that had focus last, so that a live update that rebuilds the grid gives
    // it back (see `restore_row_focus`).
    let focused_row = StoredValue::new(None::<String>);
    provide_context(FocusedRow(focused_row));
    let focus_handle = window_event_listener(leptos::ev::focusin, move |ev| {
        let row = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .filter(|e| e.class_list().contains("row"));
        focused_row.set_value(row.and_then(|r| r.get_attribute("data-shipment-id")));
    });
    on_cleanup(move || focus_handle.remove());
    let handle = window_event_listener(leptos::ev::keydown, move |ev| {
        let Some(document) = web_sys::window().and_then(|w| w.document()) else {
            return;
        };
        let focused = document.active_element();
        let typing = focused
            .as_ref()
            .is_some_and(|e| matches!(e.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT"));
        if typing {
            return;
        }
        match ev.key().as_str() {
            key @ ("ArrowDown" | "ArrowUp") => {
                let on_row = focused.filter(|e| e.class_list().contains("row"));
                let next = match (&on_row, key) {
                    (Some(row), "ArrowDown") => row.next_element_sibling(),
                    (Some(row), _) => row.previous_element_sibling(),
                    (None, _) => document
                        .query_selector("table.grid tbody tr.row")
                        .ok()
                        .flatten(),
                };
                if let Some(row) = next.and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok()) {
                    ev.prevent_default();
                    let _ = row.focus();
                }
            }
            "Escape" if view.get_untracked().selected.is_some() => {
                navigate(
                    &href(&ShipmentQuery {
                        selected: None,
                        ..view.get_untracked()
                    }),
                    Default::default(),
                );
            }
            _ => {}
        }
    });
    on_cleanup(move || handle.remove());
}

#[derive(Clone, Copy)]
struct FocusedRow(StoredValue<Option<String>>);

/// After the grid was rebuilt, gives keyboard focus back to the row that had it, if
/// the rebuild took it away (focus left on the page's body) and the row is still shown.
fn restore_row_focus() {
    use wasm_bindgen::JsCast;
    let Some(FocusedRow(focused_row)) = use_context::<FocusedRow>() else {
        return;
    };
    Effect::new(move |_| {
        let Some(id) = focused_row.get_value() else {
            return;
        };
        let Some(document) = web_sys::window().and_then(|w| w.document()) else {
            return;
        };
        let lost = document
            .active_element()
            .is_none_or(|e| e.tag_name() == "BODY");
        if !lost {
            return;
        }
        let selector = format!(
            "table.grid tbody tr.row[data-shipment-id=\"{}\"]",
            id.replace('\\', "\\\\").replace('"', "\\\"")
        );
        if let Some(row) = document
            .query_selector(&selector)
            .ok()
            .flatten()
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
        {
            let _ = row.focus();
        }
    });
}

/// The message of a server-function error, without the library's prefix.
#[component]
fn GridTable(
    view: Memo<ShipmentQuery>,
    page: Page<ShipmentRow>,
    picked: RwSignal<Vec<String>>,
    may_pick: bool,
    now: Signal<chrono::DateTime<chrono::Utc>>,
) -> impl IntoView {
    restore_row_focus();
    let viewer = crate::viewer::Viewer::current();
    let warning = viewer.0.deadline_warning_minutes;
    let zone_name = viewer.0.time_zone.name.clone();
    let failed_here: Vec<String> = page
        .items
        .iter()
        .filter(|r| may_pick && r.status == WritebackStatus::Failed)
        .map(|r| r.shipment_id.clone())
        .collect();
    let navigate = use_navigate();
    let shown = page.items.len();
    let total = page.total;
    let next_href = page.next_cursor.clone().map(|cursor| {
        href(&ShipmentQuery {
            cursor: Some(cursor),
            selected: None,
            ..view.get_untracked()
        })
    });
    let first_href = view.get_untracked().cursor.is_some().then(|| {
        href(&ShipmentQuery {
            cursor: None,
            selected: None,
            ..view.get_untracked()
        })
    });
    let empty = page.items.is_empty();
    let pick_all = (!failed_here.is_empty()).then(|| {
        let all = failed_here.clone();
        let all_picked = move || picked.with(|p| all.iter().all(|id| p.contains(id)));
        view! {
            <label class="pick-target">
            <input
                type="checkbox"
                class="pick"
                aria-label="Select every Failed shipment on this page"
                data-testid="pick-all"
                prop:checked=all_picked
                on:change=move |ev| {
                    let on = event_target_checked(&ev);
                    picked.update(|p| {
                        p.retain(|id| !failed_here.contains(id));
                        if on {
                            p.extend(failed_here.iter().cloned());
                        }
                    });
                }
            />
            </label>
        }
    });

    let rows = page
        .items
        .into_iter()
        .map(|row| {
            let id = row.shipment_id.clone();
            let select_href = href(&ShipmentQuery {
                selected: Some(id.clone()),
                ..view.get_untracked()
            });
            let is_selected = {
                let id = id.clone();
                move || view.get().selected.as_deref() == Some(id.as_str())
            };
            let navigate = navigate.clone();
            let row_href = select_href.clone();
            let navigate_key = navigate.clone();
            let key_href = select_href.clone();
            let pick = (may_pick && row.status == WritebackStatus::Failed).then(|| {
                let id = id.clone();
                let checked = {
                    let id = id.clone();
                    move || picked.with(|p| p.contains(&id))
                };
                view! {
                    <label class="pick-target" on:click=|ev| ev.stop_propagation()>
                    <input
                        type="checkbox"
                        class="pick"
                        aria-label=format!("Select {} for a bulk action", row.order_id)
                        prop:checked=checked
                        on:change=move |ev| {
                            let on = event_target_checked(&ev);
                            picked.update(|p| {
                                p.retain(|x| *x != id);
                                if on {
                                    p.push(id.clone());
                                }
                            });
                        }
                    />
                    </label>
                }
            });
            view! {
                <tr
                    class="row"
                    class:selected=is_selected.clone()
                    aria-selected=move || is_selected().to_string()
                    data-shipment-id=id
                    tabindex="0"
                    on:click=move |_| navigate(&row_href, Default::default())
                    on:keydown=move |ev| {
                        if ev.key() == "Enter" {
                            navigate_key(&key_href, Default::default());
                        }
                    }
                >
                    <td class="col-pick">{pick}</td>
                    <td class="col-order">
                        <a href=select_href class="row-link">
                            {row.order_id}
                        </a>
                    </td>
                    <td class="col-account" title=row.account.clone()>
                        {row.account_name}
                    </td>
                    <td class="col-carrier">
                        <span class="carrier">{row.carrier}</span>
                        <span class="service">{row.service}</span>
                    </td>
                    <td class="col-tracking mono">{row.tracking_number}</td>
                    <td class="col-qty num">{row.quantity}</td>
                    <td class="col-date">{crate::components::format::date_minutes(row.ship_date)}</td>
                    <td class="col-status">
                        <StatusBadge status=row.status waiting=row.waiting/>
                    </td>
                    <td class="col-left">
                        <DeadlineWords ship_by=row.ship_by confirmed_at=row.confirmed_at now=now warning=warning/>
                        // Where the Ship by column does not fit, its date goes under the words.
                        {row
                            .ship_by
                            .map(|t| {
                                view! {
                                    <span class="deadline-date muted">
                                        {format!("by {}", crate::components::format::date_minutes(t))}
                                    </span>
                                }
                            })}
                    </td>
                    <td class="col-shipby">
                        {row.ship_by.map(crate::components::format::date_minutes).unwrap_or_else(|| "—".to_string())}
                    </td>
                    <td class="col-errors num">{row.error_count}</td>
                    <td class="col-last">{date_time_or_dash(row.last_attempt_at)}</td>
                </tr>
            }
        })
        .collect_view();

    view! {
        <div class="grid-summary" data-testid="grid-summary">
            <span data-testid="total">{format!("{total} shipments")}</span>
            {((shown as u64) < total)
                .then(|| view! { <span class="muted">{format!(" · showing {shown} on this page")}</span> })}
            <span class="muted" data-testid="time-zone">{format!(" · times in {zone_name}")}</span>
        </div>
        <div class="table-wrap">
            <table class="grid">
                <thead>
                    <tr>
                        <th class="col-pick" scope="col">
                            <span class="visually-hidden">"Select"</span>
                            {pick_all}
                        </th>
                        {COLUMNS
                            .into_iter()
                            .map(|(title, key, class)| match key {
                                Some(key) => view! { <SortHeading view title key class/> }.into_any(),
                                None => view! { <th class=class scope="col">{title}</th> }.into_any(),
                            })
                            .collect_view()}
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
            {empty.then(|| view! { <p class="empty">"No shipments match these filters."</p> })}
        </div>
        <div class="pager">
            {first_href.map(|h| view! { <a class="button" href=h>"« First page"</a> })}
            {next_href.map(|h| view! { <a class="button" href=h data-testid="next-page">"Next page »"</a> })}
        </div>
    }
}

/// Where a shipment stands against its deadline, in words, counting down; coloured
/// only when it is due soon or late.
#[component]
pub fn DeadlineWords(
    ship_by: Option<chrono::DateTime<chrono::Utc>>,
    confirmed_at: Option<chrono::DateTime<chrono::Utc>>,
    now: Signal<chrono::DateTime<chrono::Utc>>,
    warning: u32,
) -> impl IntoView {
    use crate::deadlines::{Deadline, Urgency};
    let deadline = move || Deadline::of(ship_by, confirmed_at, now.get(), warning);
    let urgency = move || match deadline().urgency() {
        Urgency::Quiet => "quiet",
        Urgency::Soon => "soon",
        Urgency::Late => "late",
    };
    view! {
        <span class="deadline" data-urgency=urgency data-testid="deadline">
            {move || deadline().words()}
        </span>
    }
}

#[component]
fn SortHeading(
    view: Memo<ShipmentQuery>,
    title: &'static str,
    key: SortKey,
    class: &'static str,
) -> impl IntoView {
    let sort = move || view.get().sort;
    let next_href = move || {
        let current = sort();
        let descending = current.key == key && !current.descending;
        href(&ShipmentQuery {
            sort: Sort { key, descending },
            ..view.get().filters_only()
        })
    };
    let aria_sort = move || {
        let current = sort();
        match (current.key == key, current.descending) {
            (false, _) => "none",
            (true, false) => "ascending",
            (true, true) => "descending",
        }
    };
    let arrow = move || {
        let current = sort();
        match (current.key == key, current.descending) {
            (false, _) => "",
            (true, false) => " ▲",
            (true, true) => " ▼",
        }
    };
    view! {
        <th class=class aria-sort=aria_sort scope="col">
            <a href=next_href data-sort=key.as_str()>
                {title}
                <span class="sort-arrow" aria-hidden="true">{arrow}</span>
            </a>
        </th>
    }
}
