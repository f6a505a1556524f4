//! `/_emulator/...`: what tests and the demo use to set the emulator up and read it back.

use super::{Emulator, Faults};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewOrderItem {
    pub order_item_id: String,
    #[serde(default)]
    pub sku: String,
    pub quantity: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewOrder {
    #[serde(default = "default_marketplace")]
    pub marketplace: String,
    pub order_id: String,
    #[serde(default = "default_marketplace_id")]
    pub marketplace_id: String,
    pub items: Vec<NewOrderItem>,
}

fn default_marketplace() -> String {
    "amazon".into()
}

fn default_marketplace_id() -> String {
    "ATVPDKIKX0DER".into()
}

/// A confirmation the emulator accepted, as it arrived.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConfirmationRecord {
    /// 1, 2, 3... in the order accepted.
    pub sequence: u64,
    pub marketplace: String,
    pub order_id: String,
    pub package_reference_id: String,
    pub received_at: DateTime<Utc>,
    pub body: Value,
}

pub(super) fn routes() -> Router<Emulator> {
    Router::new()
        .route("/_emulator/orders", post(add_orders))
        .route("/_emulator/orders/{order_id}", get(order))
        .route("/_emulator/confirmations", get(confirmations))
        .route("/_emulator/faults", get(faults).put(set_faults))
        .route("/_emulator/limits", put(set_limits))
        .route("/_emulator/calls", get(calls))
}

/// Takes one order or an array of them.
#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    Many(Vec<NewOrder>),
    One(NewOrder),
}

async fn add_orders(State(emulator): State<Emulator>, Json(orders): Json<OneOrMany>) -> Response {
    let orders = match orders {
        OneOrMany::Many(orders) => orders,
        OneOrMany::One(order) => vec![order],
    };
    if let Some(bad) = orders.iter().find(|o| o.marketplace != "amazon") {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({"error": format!("marketplace '{}' is not emulated; use amazon", bad.marketplace)})),
        )
            .into_response();
    }
    let added = orders.len();
    emulator.add_orders(orders);
    (StatusCode::CREATED, Json(json!({ "added": added }))).into_response()
}

async fn order(State(emulator): State<Emulator>, Path(order_id): Path<String>) -> Response {
    let book = emulator.book();
    match book.orders.get(&order_id) {
        None => (StatusCode::NOT_FOUND, Json(json!({"error": "no such order"}))).into_response(),
        Some(order) => Json(json!({
            "order_id": order_id,
            "marketplace_id": order.marketplace_id,
            "status": order.status,
            "items": order.items.iter().map(|(id, i)| json!({"order_item_id": id, "sku": i.sku, "quantity": i.quantity})).collect::<Vec<_>>(),
            "packages": order.packages,
        }))
        .into_response(),
    }
}

async fn confirmations(State(emulator): State<Emulator>) -> Json<Vec<ConfirmationRecord>> {
    Json(emulator.confirmations())
}

async fn faults(State(emulator): State<Emulator>) -> Json<Faults> {
    Json(emulator.book().faults.clone())
}

async fn set_faults(State(emulator): State<Emulator>, Json(faults): Json<Faults>) -> Response {
    if !(0.0..=1.0).contains(&faults.error_rate) {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({"error": "error_rate must be between 0 and 1"})),
        )
            .into_response();
    }
    if let Some(status) = faults.forced_status {
        if !(400..=599).contains(&status) {
            return (
                StatusCode::UNPROCESSABLE_ENTITY,
                Json(json!({"error": "forced_status must be an HTTP error status (400-599)"})),
            )
                .into_response();
        }
    }
    emulator.set_faults(faults.clone());
    Json(faults).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Limits {
    enforce: bool,
}

/// `PUT /_emulator/limits {"enforce": false}` lifts the rate limits (for benchmarks).
async fn set_limits(State(emulator): State<Emulator>, Json(limits): Json<Limits>) -> Json<Value> {
    emulator.enforce_limits(limits.enforce);
    Json(json!({ "enforce": limits.enforce }))
}

/// `GET /_emulator/calls`: the recent calls, and a count per seller, API and status.
async fn calls(State(emulator): State<Emulator>) -> Json<Value> {
    let calls = emulator.calls();
    let mut summary: std::collections::BTreeMap<(String, String, u16), u64> = Default::default();
    for call in &calls {
        *summary
            .entry((call.seller.clone(), call.api.clone(), call.status))
            .or_default() += 1;
    }
    Json(json!({
        "summary": summary
            .into_iter()
            .map(|((seller, api, status), count)| json!({"seller": seller, "api": api, "status": status, "count": count}))
            .collect::<Vec<_>>(),
        "calls": calls,
    }))
}
