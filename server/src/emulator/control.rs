//! `/_emulator/...`: what tests and the demo use to set the emulator up and read it back.

use super::{Emulator, FaultRule};
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
    /// Amazon's ASIN or eBay's item id; made up from the SKU when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewOrder {
    #[serde(default = "default_marketplace")]
    pub marketplace: String,
    pub order_id: String,
    #[serde(default = "default_marketplace_id")]
    pub marketplace_id: String,
    /// The selling account the order belongs to, as its refresh token names it; left
    /// out, every seller's token may act on it (and it is listed to none).
    #[serde(default)]
    pub seller: String,
    /// When it was bought; now when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purchase_date: Option<DateTime<Utc>>,
    /// The latest time it must ship by; two days after the purchase when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ship_by: Option<DateTime<Utc>>,
    /// `Unshipped` (the default), `Pending` (payment not cleared) or `Canceled`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
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
        .route(
            "/_emulator/faults",
            get(faults).put(set_faults).delete(clear_faults),
        )
        .route("/_emulator/limits", put(set_limits))
        .route("/_emulator/clients", put(set_clients))
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
    if let Some(bad) = orders.iter().find(|o| {
        !matches!(
            o.status.as_deref(),
            None | Some("Unshipped" | "Pending" | "Canceled")
        )
    }) {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({"error": format!(
                "order {}: status is Unshipped, Pending or Canceled",
                bad.order_id
            )})),
        )
            .into_response();
    }
    if let Some(bad) = orders
        .iter()
        .find(|o| o.marketplace != "amazon" && o.marketplace != "ebay")
    {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({"error": format!("marketplace '{}' is not emulated; use amazon or ebay", bad.marketplace)})),
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
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({"error": "no such order"})),
        )
            .into_response(),
        Some(order) => Json(json!({
            "order_id": order_id,
            "marketplace": order.marketplace,
            "seller": order.seller,
            "marketplace_id": order.marketplace_id,
            "status": order.status,
            "ship_by": order.ship_by,
            "shipped_at": order.shipped_at,
            "last_update": order.last_update,
            "items": order.items.iter().map(|(id, i)| json!({
                "order_item_id": id, "sku": i.sku, "quantity": i.quantity,
                "item_number": i.item_number, "title": i.title,
                "shipped": order.shipped_quantity(id),
            })).collect::<Vec<_>>(),
            // What the buyer sees, package by package.
            "packages": order.packages.iter().map(|(reference, p)| json!({
                "package_reference_id": reference,
                "carrier": p.carrier,
                "service": p.service,
                "tracking_number": p.tracking_number,
                // eBay keeps a corrected package's earlier numbers; the buyer sees them.
                "earlier_tracking_numbers": p.earlier.iter().map(|(_, number)| number).collect::<Vec<_>>(),
                "ship_date": p.ship_date,
                "received_at": p.created,
                "items": p.items.iter().map(|(id, quantity)| json!({
                    "order_item_id": id, "quantity": quantity,
                })).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            // Every tracking number the order was given, oldest first.
            "tracking": order.tracking,
        }))
        .into_response(),
    }
}

async fn confirmations(State(emulator): State<Emulator>) -> Json<Vec<ConfirmationRecord>> {
    Json(emulator.confirmations())
}

async fn faults(State(emulator): State<Emulator>) -> Json<Vec<FaultRule>> {
    Json(emulator.faults())
}

/// One rule or a list of them.
#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrManyRules {
    Many(Vec<FaultRule>),
    One(FaultRule),
}

/// `PUT /_emulator/faults` replaces the rules: one rule (`{}` clears the faults) or a
/// list, the first matching rule deciding each call.
async fn set_faults(
    State(emulator): State<Emulator>,
    body: Result<Json<OneOrManyRules>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let rules = match body {
        Ok(Json(OneOrManyRules::Many(rules))) => rules,
        Ok(Json(OneOrManyRules::One(rule))) if rule == FaultRule::default() => Vec::new(),
        Ok(Json(OneOrManyRules::One(rule))) => vec![rule],
        Err(e) => return (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(
                json!({"error": format!("not a fault rule or a list of them: {}", e.body_text())}),
            ),
        )
            .into_response(),
    };
    match emulator.set_faults(rules) {
        Ok(()) => Json(emulator.faults()).into_response(),
        Err(message) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({ "error": message })),
        )
            .into_response(),
    }
}

async fn clear_faults(State(emulator): State<Emulator>) -> StatusCode {
    let _ = emulator.set_faults(Vec::new());
    StatusCode::NO_CONTENT
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

/// A Login with Amazon application: its client id and secret.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Client {
    client_id: String,
    client_secret: String,
}

/// `PUT /_emulator/clients [{"client_id", "client_secret"}, ...]`: the applications
/// Login with Amazon knows; any other client id or secret is `invalid_client`. An empty
/// list goes back to knowing any well-formed client id with a secret.
async fn set_clients(
    State(emulator): State<Emulator>,
    body: Result<Json<Vec<Client>>, axum::extract::rejection::JsonRejection>,
) -> Response {
    match body {
        Ok(Json(clients)) => {
            let count = clients.len();
            emulator.set_clients(
                clients
                    .into_iter()
                    .map(|c| (c.client_id, c.client_secret))
                    .collect(),
            );
            Json(json!({ "clients": count })).into_response()
        }
        Err(e) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({"error": format!("a list of {{client_id, client_secret}}: {}", e.body_text())})),
        )
            .into_response(),
    }
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
