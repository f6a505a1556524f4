//! What a person can do about a Failed shipment: retry it now, or follow the manual's
//! "Confirm Shipment" procedure on the marketplace and record it here.

use crate::api::{confirm_shipment, retry_shipments};
use crate::components::format::date_time;
use crate::components::format::server_error_text;
use crate::shipments::{ManualConfirmation, ShipmentDetail, WritebackStatus};
use leptos::prelude::*;

/// The order's page where a seller confirms it by hand.
pub fn marketplace_order_url(marketplace: &str, order_id: &str) -> String {
    let id = crate::query::percent_encode(order_id);
    match marketplace {
        "ebay" => format!("https://www.ebay.com/sh/ord/details?orderid={id}"),
        _ => format!("https://sellercentral.amazon.com/orders-v3/order/{id}"),
    }
}

/// The part of a shipment its actions depend on. The rest (attempts, order status) changes
/// under a live refresh without rebuilding the actions, and so without emptying a
/// half-filled confirmation form.
#[derive(Clone, Debug, PartialEq)]
pub struct ActionSubject {
    pub shipment_id: String,
    pub marketplace: String,
    pub order_id: String,
    pub status: WritebackStatus,
    pub confirmation: Option<ManualConfirmation>,
}

impl ActionSubject {
    pub fn of(detail: &ShipmentDetail) -> Self {
        Self {
            shipment_id: detail.row.shipment_id.clone(),
            marketplace: detail.row.marketplace.clone(),
            order_id: detail.row.order_id.clone(),
            status: detail.row.status,
            confirmation: detail.manual_confirmation.clone(),
        }
    }
}

/// `refresh` is bumped after an action, so the grid and the detail show its effect.
#[component]
pub fn ShipmentActions(subject: ActionSubject, refresh: RwSignal<u64>) -> impl IntoView {
    if let Some(c) = subject
        .confirmation
        .clone()
        .filter(|_| subject.status == WritebackStatus::ConfirmedManually)
    {
        let note = (!c.note.is_empty()).then(|| format!(" — “{}”", c.note));
        return view! {
            <p class="confirmed-by" data-testid="confirmed-by">
                {format!("Confirmed manually by {} on {}", c.confirmed_by, date_time(c.confirmed_at))}
                {note}
            </p>
        }
        .into_any();
    }
    if subject.status != WritebackStatus::Failed {
        return ().into_any();
    }
    if !crate::components::who::may(crate::people::Role::Operator) {
        return view! {
            <p class="muted" data-testid="operators-only">
                "An operator can retry this shipment, or confirm it by hand."
            </p>
        }
        .into_any();
    }

    let shipment_id = subject.shipment_id.clone();
    let retry = Action::new(move |id: &String| retry_shipments(vec![id.clone()]));
    let retry_error = move || {
        retry.value().get().and_then(|result| match result {
            Ok(results) => results
                .into_iter()
                .find(|r| !r.done)
                .and_then(|r| r.message),
            Err(e) => Some(server_error_text(&e)),
        })
    };
    Effect::new(move |_| {
        if let Some(Ok(results)) = retry.value().get() {
            if results.iter().any(|r| r.done) {
                refresh.update(|n| *n += 1);
            }
        }
    });

    let name = RwSignal::new(String::new());
    let note = RwSignal::new(String::new());
    let form_error = RwSignal::new(None::<String>);
    let confirm = Action::new(move |(id, by, note): &(String, String, String)| {
        confirm_shipment(id.clone(), by.clone(), note.clone())
    });
    Effect::new(move |_| match confirm.value().get() {
        Some(Ok(result)) if result.done => refresh.update(|n| *n += 1),
        Some(Ok(result)) => form_error.set(result.message),
        Some(Err(e)) => form_error.set(Some(server_error_text(&e))),
        None => {}
    });
    let submit = {
        let shipment_id = shipment_id.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            let (by, text) = (name.get_untracked(), note.get_untracked());
            // The same check as the server's, so a mistake shows at once.
            match ManualConfirmation::new(&by, &text, chrono::DateTime::UNIX_EPOCH) {
                Err(why) => form_error.set(Some(why)),
                Ok(_) => {
                    form_error.set(None);
                    confirm.dispatch((shipment_id.clone(), by, text));
                }
            }
        }
    };

    let steps = if subject.marketplace == "ebay" {
        vec![
            "In the Sold section of My eBay, select “Awaiting Shipment” and the order (the link opens it).",
            "Select the item's check box and click “Add tracking number”.",
            "Paste the tracking number (copy it above) and enter the carrier.",
            "Click Submit, then record it here.",
        ]
    } else {
        vec![
            "Log in to Amazon Seller Central and open the order (the link opens it).",
            "Click “Confirm shipment”.",
            "Paste the tracking number (copy it above) and set the carrier and service.",
            "Confirm there, then record it here.",
        ]
    };
    let place = if subject.marketplace == "ebay" {
        "My eBay"
    } else {
        "Seller Central"
    };
    let order_url = marketplace_order_url(&subject.marketplace, &subject.order_id);
    let retry_id = shipment_id.clone();

    view! {
        <section class="actions" aria-label="Actions">
            <button
                class="button primary"
                data-testid="retry-now"
                disabled=move || retry.pending().get()
                on:click=move |_| {
                    retry.dispatch(retry_id.clone());
                }
            >
                {move || if retry.pending().get() { "Retrying…" } else { "↻ Retry now" }}
            </button>
            {move || retry_error().map(|e| view! { <p class="error-line" role="alert">{e}</p> })}
            <h3>"Confirm the shipment by hand"</h3>
            <ol class="steps">
                {steps.into_iter().map(|s| view! { <li>{s}</li> }).collect_view()}
            </ol>
            <a class="button" href=order_url target="_blank" rel="noopener noreferrer" data-testid="order-link">
                {format!("Open order {} in {place} ↗", subject.order_id)}
            </a>
            <form class="confirm-form" on:submit=submit>
                <label>
                    <span>"Confirmed by"</span>
                    <input
                        type="text"
                        name="confirmed_by"
                        maxlength=ManualConfirmation::MAX_NAME_CHARS.to_string()
                        autocomplete="name"
                        prop:value=move || name.get()
                        on:input=move |ev| name.set(event_target_value(&ev))
                    />
                </label>
                <label>
                    <span>"Note (optional)"</span>
                    <textarea
                        name="note"
                        rows="2"
                        maxlength=ManualConfirmation::MAX_NOTE_CHARS.to_string()
                        prop:value=move || note.get()
                        on:input=move |ev| note.set(event_target_value(&ev))
                    ></textarea>
                </label>
                {move || form_error.get().map(|e| view! { <p class="error-line" role="alert">{e}</p> })}
                <button
                    class="button"
                    type="submit"
                    data-testid="confirm-manually"
                    disabled=move || confirm.pending().get()
                >
                    "✔ Confirmed manually"
                </button>
            </form>
        </section>
    }
    .into_any()
}
