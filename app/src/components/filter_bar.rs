//! Status and date filters. Each change is a new URL, so filters are shareable.

use crate::api::filter_options;
use crate::deadlines::DeadlineFilter;
use crate::query::{ShipmentQuery, MARKETPLACES};
use crate::shipments::WritebackStatus;
use chrono::NaiveDate;
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

/// The link to `query`, on this page.
pub fn href(query: &ShipmentQuery) -> String {
    let qs = query.to_query_string();
    if qs.is_empty() {
        "/".to_string()
    } else {
        format!("/?{qs}")
    }
}

#[component]
pub fn FilterBar(view: Memo<ShipmentQuery>) -> impl IntoView {
    let navigate = use_navigate();
    // Days are the viewer's: "from the 26th" starts at midnight in their zone.
    let viewer = crate::viewer::Viewer::current();
    let warning = viewer.0.deadline_warning_minutes;
    let zone = viewer.0.clone();
    let start_of = move |day: NaiveDate| {
        zone.time_zone
            .instant_at(day.and_hms_opt(0, 0, 0).expect("midnight exists"))
    };
    let set_date = move |bound: DateBound, value: String| {
        let mut q = view.get_untracked().filters_only();
        let day = NaiveDate::parse_from_str(&value, "%Y-%m-%d").ok();
        match bound {
            // "from" includes the whole day, "to" too: the bound is the next midnight.
            DateBound::From => q.from = day.map(&start_of),
            DateBound::To => q.to = day.and_then(|d| d.succ_opt()).map(&start_of),
        }
        navigate(&href(&q), Default::default());
    };
    let set_from = set_date.clone();
    let set_to = set_date;

    let from_value = move || {
        view.get()
            .from
            .map(crate::components::format::local_date)
            .unwrap_or_default()
    };
    let to_value = move || {
        // "to" names the last day included; the bound is the midnight after it.
        view.get()
            .to
            .map(|t| crate::components::format::local_date(t - chrono::TimeDelta::seconds(1)))
            .unwrap_or_default()
    };
    let options = Resource::new_serde_wb(|| (), |_| filter_options());
    let navigate_to = use_navigate();
    let go = move |q: ShipmentQuery| navigate_to(&href(&q), Default::default());
    let search = {
        let go = go.clone();
        move |text: String| {
            let mut q = view.get_untracked().filters_only();
            let text = text.trim().to_string();
            q.search = (!text.is_empty()).then_some(text);
            go(q);
        }
    };
    let pick = move |field: Pick, value: String| {
        let mut q = view.get_untracked().filters_only();
        let list = match field {
            Pick::Account => &mut q.accounts,
            Pick::Carrier => &mut q.carriers,
        };
        if !value.is_empty() && !list.contains(&value) {
            list.push(value);
        }
        go(q);
    };
    let pick_account = pick.clone();
    let pick_carrier = pick;
    let clear_href = move || {
        let q = view.get();
        href(&ShipmentQuery {
            sort: q.sort,
            ..ShipmentQuery::default()
        })
    };

    // On a phone the filters fold behind one button that says how many are on.
    let open = RwSignal::new(false);
    let active_count = move || {
        let q = view.get();
        q.statuses.len()
            + q.deadlines.len()
            + q.accounts.len()
            + q.marketplaces.len()
            + q.carriers.len()
            + usize::from(q.search.is_some())
            + usize::from(q.from.is_some() || q.to.is_some())
    };

    view! {
        <nav class="filter-bar" class:open=move || open.get() aria-label="Filters">
            <button
                class="button filters-toggle"
                data-testid="filters-toggle"
                aria-expanded=move || open.get().to_string()
                on:click=move |_| open.update(|o| *o = !*o)
            >
                {move || format!("Filters ({})", active_count())}
            </button>
            <form class="search" role="search" on:submit=move |ev: leptos::ev::SubmitEvent| ev.prevent_default()>
                <input
                    type="search"
                    name="q"
                    aria-label="Find a shipment"
                    placeholder="Order id, tracking number or shipment id"
                    prop:value=move || view.get().search.unwrap_or_default()
                    on:change=move |ev| search(event_target_value(&ev))
                />
            </form>
            <div class="status-filters" role="group" aria-label="Status">
                <span class="filter-label">"Status"</span>
                {WritebackStatus::ALL
                    .into_iter()
                    .map(|status| {
                        view! {
                            <ToggleChip
                                view
                                on=move |q: &ShipmentQuery| q.statuses.contains(&status)
                                toggle=move |q: &mut ShipmentQuery| flip(&mut q.statuses, status)
                                label=status.label().to_string()
                                attr:data-status=status.as_str()
                            />
                        }
                    })
                    .collect_view()}
            </div>
            <div class="status-filters" role="group" aria-label="Deadline">
                <span class="filter-label">"Deadline"</span>
                {DeadlineFilter::ALL
                    .into_iter()
                    .map(|filter| {
                        view! {
                            <ToggleChip
                                view
                                on=move |q: &ShipmentQuery| q.deadlines.contains(&filter)
                                toggle=move |q: &mut ShipmentQuery| flip(&mut q.deadlines, filter)
                                label=filter.label(warning)
                                attr:data-deadline=filter.as_str()
                            />
                        }
                    })
                    .collect_view()}
            </div>
            <div class="status-filters" role="group" aria-label="Marketplace">
                <span class="filter-label">"Marketplace"</span>
                {MARKETPLACES
                    .into_iter()
                    .map(|marketplace| {
                        let label = if marketplace == "ebay" { "eBay" } else { "Amazon" };
                        view! {
                            <ToggleChip
                                view
                                on=move |q: &ShipmentQuery| q.marketplaces.iter().any(|m| m == marketplace)
                                toggle=move |q: &mut ShipmentQuery| {
                                    flip(&mut q.marketplaces, marketplace.to_string())
                                }
                                label=label.to_string()
                                attr:data-marketplace=marketplace
                            />
                        }
                    })
                    .collect_view()}
            </div>
            <Transition fallback=|| ()>
                {move || {
                    options
                        .get()
                        .and_then(Result::ok)
                        .map(|o| {
                            let pick_account = pick_account.clone();
                            let pick_carrier = pick_carrier.clone();
                            view! {
                                <label class="select-filter">
                                    <span class="filter-label">"Account"</span>
                                    <select
                                        name="account"
                                        prop:value=""
                                        on:change=move |ev| pick_account(Pick::Account, event_target_value(&ev))
                                    >
                                        <option value="">"Any"</option>
                                        {o
                                            .accounts
                                            .into_iter()
                                            .map(|(key, name)| view! { <option value=key>{name}</option> })
                                            .collect_view()}
                                    </select>
                                </label>
                                <label class="select-filter">
                                    <span class="filter-label">"Carrier"</span>
                                    <select
                                        name="carrier"
                                        prop:value=""
                                        on:change=move |ev| pick_carrier(Pick::Carrier, event_target_value(&ev))
                                    >
                                        <option value="">"Any"</option>
                                        {o
                                            .carriers
                                            .into_iter()
                                            .map(|c| {
                                                let label = c.clone();
                                                view! { <option value=c>{label}</option> }
                                            })
                                            .collect_view()}
                                    </select>
                                </label>
                            }
                        })
                }}
            </Transition>
            <div class="date-filters">
                <label>
                    <span class="filter-label">"Shipped from"</span>
                    <input
                        type="date"
                        name="from"
                        prop:value=from_value
                        on:change=move |ev| set_from(DateBound::From, event_target_value(&ev))
                    />
                </label>
                <label>
                    <span class="filter-label">"to"</span>
                    <input
                        type="date"
                        name="to"
                        prop:value=to_value
                        on:change=move |ev| set_to(DateBound::To, event_target_value(&ev))
                    />
                </label>
            </div>
            {move || {
                view.get()
                    .accounts
                    .into_iter()
                    .map(|account| {
                        let remove_href = {
                            let account = account.clone();
                            move || {
                                let mut q = view.get().filters_only();
                                q.accounts.retain(|a| *a != account);
                                href(&q)
                            }
                        };
                        view! {
                            <a
                                class="chip active account-chip"
                                href=remove_href
                                data-account=account.clone()
                                aria-label=format!("Account {account}: remove this filter")
                            >
                                {format!("Account: {account}")}
                                <span class="chip-remove" aria-hidden="true">"✕"</span>
                            </a>
                        }
                    })
                    .collect_view()
            }}
            {move || {
                let q = view.get();
                let carriers = q.carriers.into_iter().map(|carrier| {
                    let remove = {
                        let carrier = carrier.clone();
                        move || {
                            let mut q = view.get().filters_only();
                            q.carriers.retain(|c| *c != carrier);
                            href(&q)
                        }
                    };
                    view! {
                        <a class="chip active account-chip" href=remove data-carrier=carrier.clone()>
                            {format!("Carrier: {}", carrier)}
                            <span class="chip-remove" aria-hidden="true">"✕"</span>
                        </a>
                    }
                });
                let search = q.search.map(|text| {
                    let remove = move || {
                        let mut q = view.get().filters_only();
                        q.search = None;
                        href(&q)
                    };
                    view! {
                        <a class="chip active account-chip" href=remove data-testid="search-chip">
                            {format!("Search: {text}")}
                            <span class="chip-remove" aria-hidden="true">"✕"</span>
                        </a>
                    }
                });
                view! {
                    {carriers.collect_view()}
                    {search}
                }
            }}
            <Show when=move || { active_count() > 0 }>
                <a class="button link" href=clear_href data-testid="clear-filters">
                    "Clear filters"
                </a>
            </Show>
        </nav>
    }
}

/// A filter chip: a link to the same view with its filter turned on or off. `on` says
/// whether the filter is on in a view; `toggle` turns it on or off.
#[component]
fn ToggleChip<On, Toggle>(
    view: Memo<ShipmentQuery>,
    on: On,
    toggle: Toggle,
    label: String,
) -> impl IntoView
where
    On: Fn(&ShipmentQuery) -> bool + Copy + Send + Sync + 'static,
    Toggle: Fn(&mut ShipmentQuery) + Copy + Send + Sync + 'static,
{
    let active = move || on(&view.get());
    let toggle_href = move || {
        let mut q = view.get().filters_only();
        toggle(&mut q);
        href(&q)
    };
    view! {
        <a
            class="chip"
            class:active=active
            href=toggle_href
            aria-current=move || active().then_some("true")
        >
            {label}
        </a>
    }
}

/// Takes `item` out of `list` if it is there, puts it in if not.
fn flip<T: PartialEq>(list: &mut Vec<T>, item: T) {
    if list.contains(&item) {
        list.retain(|x| *x != item);
    } else {
        list.push(item);
    }
}

#[derive(Clone, Copy)]
enum Pick {
    Account,
    Carrier,
}

#[derive(Clone, Copy)]
enum DateBound {
    From,
    To,
}
