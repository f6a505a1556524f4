//! The status screen: the connection-status panel, and the shipments with their filters,
//! the live grid and the detail panel.
//!
//! The whole view (filters, sort, page, selected shipment) lives in the URL: links
//! change it, so a copied address opens the same view and back/forward work.

use crate::api::{get_shipment, list_shipments, parse_query_pairs};
use crate::components::bulk_actions::BulkActions;
use crate::components::detail_panel::{load_detail_code, DetailPanel};
use crate::components::filter_bar::FilterBar;
use crate::components::live::{follow_events, FeedStamps};
use crate::components::shipment_grid::{keyboard_navigation, GridRead, ShipmentGrid};
use crate::components::status_panel::StatusPanel;
use crate::query::ShipmentQuery;
use leptos::prelude::*;
use leptos_router::hooks::use_location;

/// The CSV export of the grid's query (the station API serves it).
const EXPORT_URL: &str = crate::shipments::DASHBOARD_EXPORT_PATH;

/// Where the server pushes "shipments changed" events.
const SHIPMENT_EVENTS_URL: &str = "/api/v1/events/shipments";

#[component]
pub fn ShipmentsPage() -> impl IntoView {
    crate::mark_hydrated();
    crate::components::who::provide_who();
    let location = use_location();
    let parsed = Memo::new(move |_| {
        let search = location.search.get();
        let pairs = parse_query_pairs(search.trim_start_matches('?'));
        ShipmentQuery::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    });
    let view_query = Memo::new(move |_| parsed.get().unwrap_or_default());
    let url_error = move || parsed.get().err().map(|e| e.to_string());

    // Bumped by the Update button and by the user's actions: the grid shows what it reads.
    let refresh = RwSignal::new(0u64);
    // Bumped by the server's "shipments changed" events: the grid holds new rows back.
    let live_tick = RwSignal::new(0u64);
    let live = RwSignal::new(true);
    // Update button clicks alone: the status panel is pushed its changes, not polled.
    let updates = RwSignal::new(0u64);
    // The server says when shipments changed; while Live is on, the grid reads again.
    let connected = RwSignal::new(true);
    follow_events(
        SHIPMENT_EVENTS_URL,
        "shipments",
        FeedStamps::current().shipments,
        move |event| {
            if event.news && live.get_untracked() {
                live_tick.update(|n| *n += 1);
            }
        },
        connected,
    );
    // Turning Live back on catches up at once.
    Effect::new(move |was_live: Option<bool>| {
        let is_live = live.get();
        if is_live && was_live == Some(false) {
            live_tick.update(|n| *n += 1);
        }
        is_live
    });

    let list_key = Memo::new(move |_| ShipmentQuery {
        selected: None,
        ..view_query.get()
    });
    let page = Resource::new_serde_wb(
        move || {
            (
                list_key.get().to_query_string(),
                refresh.get(),
                live_tick.get(),
            )
        },
        |(query, refresh, _)| async move {
            let page = list_shipments(query.clone()).await;
            GridRead {
                query,
                refresh,
                page,
            }
        },
    );
    let selected = Memo::new(move |_| view_query.get().selected);
    let detail = Resource::new_serde_wb(
        move || (selected.get(), refresh.get(), live_tick.get()),
        |(selected, _, _)| async move {
            match selected {
                Some(id) => get_shipment(id).await,
                None => Ok(None),
            }
        },
    );

    keyboard_navigation(view_query);
    // Once the grid is hydrated, the details' code comes next: opening a shipment then
    // waits for nothing but its data.
    Effect::new(|_| leptos::task::spawn_local(load_detail_code()));
    // Failed shipments ticked for Retry selected; kept across pages until used.
    let picked = RwSignal::new(Vec::<String>::new());
    let menu_open = RwSignal::new(false);
    let export_href = move || {
        let filters = list_key.get().filters_only().to_query_string();
        if filters.is_empty() {
            EXPORT_URL.to_string()
        } else {
            format!("{EXPORT_URL}?{filters}")
        }
    };

    // Typed views nest deeply; erasing this half keeps the page's type small.
    let shipments = view! {
        <div class="shipments-pane">
            <FilterBar view=view_query/>
            <BulkActions picked=picked refresh=refresh/>
            {move || {
                url_error().map(|e| view! { <p class="error-line" role="alert">{e}</p> })
            }}
            <div class="shipments-body">
                <section class="grid-pane" aria-label="Shipments">
                    <ShipmentGrid view=view_query page=page picked=picked refresh=refresh/>
                </section>
                <Show when=move || selected.get().is_some()>
                    <DetailPanel view=view_query detail=detail refresh=refresh/>
                </Show>
            </div>
        </div>
    }
    .into_any();

    view! {
        <div class="screen" class:has-detail=move || selected.get().is_some()>
            <header class="topbar">
                <h1>
                    <span class="brand">"Shipback"</span>
                    <span class="subtitle">"Write-back status"</span>
                </h1>
                <crate::pages::topbar::MenuToggle open=menu_open/>
                <div class="topbar-actions" id="topbar-actions" class:open=move || menu_open.get()>
                    <span class="connection" role="status" data-testid="connection">
                        {move || {
                            (!connected.get()).then_some("⚠ Reconnecting to live updates…")
                        }}
                    </span>
                    <label class="live-toggle">
                        <input
                            type="checkbox"
                            prop:checked=move || live.get()
                            on:change=move |ev| live.set(event_target_checked(&ev))
                        />
                        "Live"
                    </label>
                    <a
                        class="button"
                        data-testid="export"
                        href=export_href
                        download
                        title="Every shipment the filters match, in the grid's order, as a CSV file"
                    >
                        "⤓ Export CSV"
                    </a>
                    <button
                        class="button primary"
                        data-testid="update"
                        on:click=move |_| {
                            refresh.update(|n| *n += 1);
                            updates.update(|n| *n += 1);
                        }
                    >
                        "↻ Update"
                    </button>
                    <crate::pages::topbar::UserMenu/>
                </div>
            </header>
            <main class="content">
                <StatusPanel updates=updates.into()/>
                {shipments}
            </main>
        </div>
    }
}
