//! Status and date filters. Each change is a new URL, so filters are shareable.

use crate::query::ShipmentQuery;
use crate::shipments::WritebackStatus;
use chrono::{DateTime, NaiveDate, Utc};
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
    let set_date = move |bound: DateBound, value: String| {
        let mut q = view.get_untracked().filters_only();
        let day = NaiveDate::parse_from_str(&value, "%Y-%m-%d").ok();
        match bound {
            // "from" includes the whole day, "to" too: the bound is the next midnight.
            DateBound::From => q.from = day.map(start_of),
            DateBound::To => q.to = day.and_then(|d| d.succ_opt()).map(start_of),
        }
        navigate(&href(&q), Default::default());
    };
    let set_from = set_date.clone();
    let set_to = set_date;

    let from_value = move || {
        view.get()
            .from
            .map(|t| t.format("%Y-%m-%d").to_string())
            .unwrap_or_default()
    };
    let to_value = move || {
        view.get()
            .to
            .and_then(|t| t.date_naive().pred_opt())
            .map(|d| d.format("%Y-%m-%d").to_string())
            .unwrap_or_default()
    };
    let any_filter = move || {
        let q = view.get();
        !q.statuses.is_empty() || !q.accounts.is_empty() || q.from.is_some() || q.to.is_some()
    };
    let clear_href = move || {
        let q = view.get();
        href(&ShipmentQuery {
            sort: q.sort,
            ..ShipmentQuery::default()
        })
    };

    view! {
        <nav class="filter-bar" aria-label="Filters">
            <div class="status-filters" role="group" aria-label="Status">
                <span class="filter-label">"Status"</span>
                {WritebackStatus::ALL
                    .into_iter()
                    .map(|status| {
                        let active = move || view.get().statuses.contains(&status);
                        let toggle_href = move || {
                            let mut q = view.get().filters_only();
                            if q.statuses.contains(&status) {
                                q.statuses.retain(|s| *s != status);
                            } else {
                                q.statuses.push(status);
                            }
                            href(&q)
                        };
                        view! {
                            <a
                                class="chip"
                                class:active=active
                                href=toggle_href
                                aria-pressed=move || active().to_string()
                                data-status=status.as_str()
                            >
                                {status.label()}
                            </a>
                        }
                    })
                    .collect_view()}
            </div>
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
            <Show when=any_filter>
                <a class="button link" href=clear_href data-testid="clear-filters">
                    "Clear filters"
                </a>
            </Show>
        </nav>
    }
}

#[derive(Clone, Copy)]
enum DateBound {
    From,
    To,
}

fn start_of(day: NaiveDate) -> DateTime<Utc> {
    day.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc()
}
