//! Shipment information: what the manual lists, plus the full attempt history.

use crate::components::filter_bar::href;
use crate::components::format::server_error_text;
use crate::components::format::{
    date_seconds, date_time, date_time_or_dash, duration_ms, said, zone_name,
};
use crate::components::shipment_actions::{ActionSubject, ShipmentActions};
use crate::components::status_badge::StatusBadge;
use crate::query::ShipmentQuery;
use crate::shipments::ShipmentDetail;
use leptos::prelude::*;

type DetailResource = crate::wire::BrowserResource<Result<Option<ShipmentDetail>, ServerFnError>>;

#[component]
pub fn DetailPanel(
    view: Memo<ShipmentQuery>,
    detail: DetailResource,
    refresh: RwSignal<u64>,
) -> impl IntoView {
    let close_href = move || {
        href(&ShipmentQuery {
            selected: None,
            ..view.get()
        })
    };
    view! {
        <aside class="detail-panel" aria-label="Shipment information" data-testid="detail-panel">
            <div class="detail-head">
                <h2>"Shipment information"</h2>
                <a class="button close" href=close_href aria-label="Close shipment information">
                    "✕"
                </a>
            </div>
            <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                <LoadedShipment
                    detail=detail
                    refresh=refresh
                    missing="This shipment does not exist (any more).".to_string()
                />
            </Transition>
        </aside>
    }
}

/// What became of loading a shipment; its contents are read separately.
#[derive(Clone, PartialEq)]
enum LoadState {
    Loading,
    Shown,
    Missing,
    Failed(String),
}

/// A shipment as loaded: its details, or a red line saying why there are none.
///
/// The resource is read again on every live event. Memos stand between it and the view so
/// that only a real change re-renders, and only the part that changed: an operator halfway
/// through the confirmation form keeps their text and focus while the worker runs.
/// Rendered inside a `Transition`, so that the memos' reads register with it.
#[component]
pub fn LoadedShipment(
    detail: DetailResource,
    refresh: RwSignal<u64>,
    /// What to say when there is no such shipment.
    #[prop(into)]
    missing: Signal<String>,
) -> impl IntoView {
    // Classified in place: the shipment itself is copied only by `shown`.
    let state = Memo::new(move |_| {
        detail.with(|loaded| match loaded {
            None => LoadState::Loading,
            Some(Ok(Some(_))) => LoadState::Shown,
            Some(Ok(None)) => LoadState::Missing,
            Some(Err(e)) => LoadState::Failed(server_error_text(e)),
        })
    });
    let shown = Memo::new(move |_| detail.get().and_then(Result::ok).flatten());
    // Bumped by "Try again" when the details' code could not be fetched.
    let fetch_again = RwSignal::new(0u32);
    move || match state.get() {
        LoadState::Loading => ().into_any(),
        LoadState::Shown => {
            fetch_again.track();
            let shown = ShownShipment {
                detail: shown,
                refresh,
            };
            Suspend::new(async move {
                detail_code(shown).await.unwrap_or_else(|e| {
                    view! {
                        <p class="error-line" role="alert">
                            {e.to_string()}
                            " "
                            <button
                                class="button"
                                data-testid="fetch-details-again"
                                on:click=move |_| fetch_again.update(|n| *n += 1)
                            >
                                "Try again"
                            </button>
                        </p>
                    }
                    .into_any()
                })
            })
            .into_any()
        }
        LoadState::Missing => {
            view! { <p class="error-line" role="alert">{move || missing.get()}</p> }.into_any()
        }
        LoadState::Failed(why) => view! {
            <p class="error-line" role="alert">{format!("Could not load the shipment: {why}")}</p>
        }
        .into_any(),
    }
}

/// A shipment as the details draw it.
#[derive(Clone, Copy)]
struct ShownShipment {
    detail: Memo<Option<ShipmentDetail>>,
    refresh: RwSignal<u64>,
}

/// The code that draws a shipment's details could not be fetched (the network, or a new
/// release replaced the files): the page goes on, and a later attempt fetches it again.
#[derive(Debug, Clone, thiserror::Error)]
#[error("Could not load the code that shows a shipment ({0}).")]
pub struct DetailCodeError(String);

impl From<leptos::wasm_split::SplitLoaderError> for DetailCodeError {
    fn from(e: leptos::wasm_split::SplitLoaderError) -> DetailCodeError {
        DetailCodeError(e.to_string())
    }
}

/// Draws a shipment's facts, actions and history.
///
/// That code (the manual confirmation included) is a wasm chunk of its own, 37 KB
/// gzipped: the grid hydrates without waiting for it, and fetches it once hydrated,
/// before anyone opens a shipment. `fallible`: a failed fetch is an error shown in the
/// panel, not a panic that would stop the whole page. Off wasm it is a plain call.
#[leptos::wasm_split::wasm_split(
    shipment_details,
    wasm_split_path = ::leptos::wasm_split,
    fallible,
    preload(fetch_detail_code)
)]
fn detail_code(shown: ShownShipment) -> Result<AnyView, DetailCodeError> {
    let ShownShipment { detail, refresh } = shown;
    Ok(view! { <DetailBody detail=detail refresh=refresh/> }.into_any())
}

/// Fetches the code that draws a shipment's details, unless it is here already. A
/// failure is left for the panel to report when a shipment is opened.
pub async fn load_detail_code() {
    if let Err(e) = fetch_detail_code().await {
        leptos::logging::warn!("{}", DetailCodeError::from(e));
    }
}

/// The element only the details' code draws.
const DETAILS_DRAWN: &str = "dl.facts";

/// Before the page hydrates: when the server drew a shipment's details, their code has
/// to be here first, or hydration could not take over what the server drew.
pub async fn load_detail_code_if_drawn() {
    let drawn = web_sys::window()
        .and_then(|window| window.document())
        .and_then(|document| document.query_selector(DETAILS_DRAWN).ok().flatten())
        .is_some();
    if drawn {
        load_detail_code().await;
    }
}

#[component]
fn DetailBody(detail: Memo<Option<ShipmentDetail>>, refresh: RwSignal<u64>) -> impl IntoView {
    let subject = Memo::new(move |_| detail.with(|d| d.as_ref().map(ActionSubject::of)));
    view! {
        {move || detail.get().map(facts)}
        {move || subject.get().map(|subject| view! { <ShipmentActions subject=subject refresh=refresh/> })}
        {move || detail.get().map(history)}
    }
}

/// The manual's shipment information.
fn facts(detail: ShipmentDetail) -> impl IntoView {
    let buyer_sees = detail.buyer_sees();
    let row = detail.row;
    let own_page = format!(
        "/shipments/{}",
        crate::query::percent_encode(&row.shipment_id)
    );
    let tracking = row.tracking_number.clone();
    let copied = RwSignal::new(false);
    let copy = move |_| {
        if let Some(window) = web_sys::window() {
            // The promise is dropped: the clipboard write goes on without us waiting.
            let _ = window.navigator().clipboard().write_text(&tracking);
            copied.set(true);
        }
    };
    let marketplace_label = if row.marketplace == "ebay" {
        "eBay"
    } else {
        "Amazon"
    };
    // Nothing is guessed: without the order's ship-by date, the panel says why.
    let order_read = detail.marketplace_order.is_some();
    let viewer = crate::viewer::Viewer::current();
    let deadline = match row.ship_by {
        Some(ship_by) => {
            let words = row
                .deadline(crate::viewer::now(), viewer.0.deadline_warning_minutes)
                .words();
            format!("{} · {words}", date_time(ship_by))
        }
        None if order_read => {
            "No deadline known: the marketplace gave no ship-by date for this order".to_string()
        }
        None => "No deadline known: Shipback has not read this order from the marketplace yet"
            .to_string(),
    };
    let order_state = detail.marketplace_order.map(|o| {
        let class = if o.shipped { "order-state shipped" } else { "order-state" };
        let icon = if o.shipped { "✓ " } else { "" };
        let buyer_sees = buyer_sees.map(|sentence| {
            view! { <span class="buyer-sees" data-testid="detail-buyer-sees">{sentence}</span> }
        });
        view! {
            <span class=class data-testid="detail-order-status">{format!("{icon}{}", o.status_words())}</span>
            <span class="muted">{format!(" checked {}", date_time(o.checked_at))}</span>
            {buyer_sees}
        }
    });
    view! {
        <dl class="facts">
            <dt>"Status"</dt>
            <dd>
                <StatusBadge status=row.status waiting=row.waiting/>
            </dd>
            <dt>"Order"</dt>
            <dd class="mono" data-testid="detail-order">{row.order_id}</dd>
            <dt>{format!("Order in {marketplace_label}")}</dt>
            <dd>{order_state.map(IntoAny::into_any).unwrap_or_else(|| view! { <span class="muted">"not read yet"</span> }.into_any())}</dd>
            <dt>"Account"</dt>
            <dd>{format!("{} ({marketplace_label})", row.account_name)}</dd>
            <dt>"Carrier / service"</dt>
            <dd>{format!("{} / {}", row.carrier, row.service)}</dd>
            <dt>"Shipment ID"</dt>
            <dd class="mono">
                <a
                    href=own_page
                    data-testid="shipment-link"
                    title="This shipment's own page"
                >
                    {row.shipment_id}
                </a>
            </dd>
            <dt>"Tracking number"</dt>
            <dd>
                <button class="button copy mono" on:click=copy title="Copy the tracking number">
                    {row.tracking_number}
                    <span class="copy-hint">
                        {move || if copied.get() { "✓ Copied" } else { "Copy" }}
                    </span>
                </button>
            </dd>
            <dt>"Shipped quantity"</dt>
            <dd class="num">{row.quantity}</dd>
            <dt>"Ship date"</dt>
            <dd>{date_time(row.ship_date)}</dd>
            <dt>"Ship by"</dt>
            <dd data-testid="detail-ship-by">{deadline}</dd>
            <dt>"Last attempt"</dt>
            <dd>{date_time_or_dash(row.last_attempt_at)}</dd>
            <dt>"Next attempt"</dt>
            <dd>
                {if row.waiting && row.status.is_open() {
                    "when what it waits on is mended".to_string()
                } else {
                    date_time_or_dash(row.next_attempt_at)
                }}
            </dd>
            <dt>"Error count"</dt>
            <dd class="num" data-testid="detail-error-count">{format!("{} of 5", row.error_count)}</dd>
        </dl>
        {row
            .last_error
            .map(|e| {
                let e = said(&e);
                if row.waiting && row.status.is_open() {
                    // The sentence says what it waits on ("Waiting: …").
                    view! { <p class="waiting-line" data-testid="detail-waiting">{e}</p> }
                        .into_any()
                } else {
                    view! { <p class="error-line last-error">{format!("Last error: {e}")}</p> }
                        .into_any()
                }
            })}
    }
}

/// What was shipped, and every write-back attempt, newest first.
fn history(detail: ShipmentDetail) -> impl IntoView {
    let current_revision = detail.revision;
    let items = detail
        .items
        .into_iter()
        .map(|item| {
            let name = item
                .title
                .clone()
                .unwrap_or_else(|| item.sku.clone().unwrap_or_else(|| "(no SKU)".to_string()));
            let picture = item.image_url.clone().map(|src| {
                view! { <img class="item-image" src=src alt="" width="48" height="48" loading="lazy"/> }
            });
            let mut facts = Vec::new();
            if let Some(sku) = &item.sku {
                facts.push(format!("SKU {sku}"));
            }
            if let Some(number) = &item.item_number {
                facts.push(number.clone());
            }
            if !item.order_item_id.is_empty() {
                facts.push(format!("item {}", item.order_item_id));
            }
            if let Some(weight) = &item.weight {
                facts.push(weight.clone());
            }
            view! {
                <li class="item" data-testid="detail-item">
                    {picture}
                    <span class="item-text">
                        <span class="item-name">
                            <span class="num">{item.quantity}</span>
                            " × "
                            {name}
                        </span>
                        <span class="muted item-facts">{facts.join(" · ")}</span>
                    </span>
                </li>
            }
        })
        .collect_view();

    let attempts = detail
        .attempts
        .into_iter()
        .rev()
        .map(|a| {
            let http = a
                .http_status
                .map(|s| s.to_string())
                .unwrap_or_else(|| "—".to_string());
            let message = match (&a.error_code, &a.error_message) {
                (Some(code), Some(message)) => format!("{code}: {message}"),
                (None, Some(message)) => message.clone(),
                (Some(code), None) => code.clone(),
                (None, None) => String::new(),
            };
            let outcome_class = format!("attempt-outcome-{}", a.outcome.as_str());
            let has_message = !message.is_empty();
            let number = if a.number == 0 {
                "—".to_string()
            } else {
                a.number.to_string()
            };
            // Which revision the call carried, once the shipment was corrected.
            let revision = (a.revision > 0 || current_revision > 0)
                .then(|| view! { <span class="attempt-revision muted">{format!("rev {}", a.revision)}</span> });
            view! {
                <tr class="attempt" class:has-message=has_message class:uncounted=a.number == 0>
                    <td class="num">{number} {revision}</td>
                    <td>{date_seconds(a.started_at)}</td>
                    <td class="num">{duration_ms(a.duration_ms)}</td>
                    <td class=outcome_class>{a.outcome_words()}</td>
                    <td class="num">{http}</td>
                </tr>
                {has_message
                    .then(|| {
                        view! {
                            <tr class="attempt-detail">
                                <td></td>
                                <td class="attempt-message" colspan="4">
                                    {message}
                                </td>
                            </tr>
                        }
                    })}
            }
        })
        .collect_view();
    view! {
        <h3>"Items"</h3>
        <ul class="items">{items}</ul>
        <h3>"Write-back attempts"</h3>
        <table class="attempts" data-testid="attempts">
            <thead>
                <tr>
                    <th scope="col">"#"</th>
                    <th scope="col">{format!("Started ({})", zone_name())}</th>
                    <th scope="col">"Took"</th>
                    <th scope="col">"Outcome"</th>
                    <th scope="col">"HTTP"</th>
                </tr>
            </thead>
            <tbody>{attempts}</tbody>
        </table>
    }
}
