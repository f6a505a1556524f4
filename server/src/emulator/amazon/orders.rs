//! Orders API 2026-01-01: `searchOrders` and `getOrder`, answered as
//! `amazon-orders-2026-01-01.json` defines them, at their documented usage plans
//! (searchOrders 0.0056 per second, burst 20; getOrder 0.5 per second, burst 30).
//!
//! Each order carries its lines; `includedData=FULFILLMENT` adds the fulfillment status,
//! the ship-by window and each line's shipped quantity, `includedData=PACKAGES` the
//! packages with what the buyer sees of each (carrier, service, tracking number).

use super::super::{Emulator, Order};
use super::{
    admit, answered, base64_json, invalid_input, iso, order_not_found, to_base64_json, visible_to,
    with_rate,
};
use app::marketplace::ApiKind;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use std::collections::HashMap;

pub(in crate::emulator) const SEARCH_ORDERS: &str = "amazon.searchOrders";
pub(in crate::emulator) const GET_ORDER: &str = "amazon.getOrder";

/// The rates the answers' `x-amzn-RateLimit-Limit` header states.
const SEARCH_ORDERS_RATE: &str = "0.0056";
const GET_ORDER_RATE: &str = "0.5";

pub(super) fn routes() -> Router<Emulator> {
    Router::new()
        .route("/orders/2026-01-01/orders", get(search_orders))
        .route("/orders/2026-01-01/orders/{order_id}", get(get_order))
}

/// The datasets `includedData` may name.
const DATASETS: [&str; 11] = [
    "BUYER",
    "RECIPIENT",
    "PROCEEDS",
    "EXPENSE",
    "PROMOTION",
    "CANCELLATION",
    "FULFILLMENT",
    "PACKAGES",
    "TAX",
    "PAYMENT",
    "FULFILLMENT_ORDERS",
];

const FULFILLMENT_STATUSES: [&str; 7] = [
    "PENDING_AVAILABILITY",
    "PENDING",
    "UNSHIPPED",
    "PARTIALLY_SHIPPED",
    "SHIPPED",
    "CANCELLED",
    "UNFULFILLABLE",
];

/// A query's parameters, each with its values: an array parameter is sent as a
/// comma-separated list (the model's `csv`) or repeated, and both are taken.
type Params = HashMap<String, Vec<String>>;

fn params(raw: &str) -> Params {
    let mut params = Params::new();
    for (name, value) in app::api::parse_query_pairs(raw) {
        params.entry(name).or_default().extend(
            value
                .split(',')
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_string),
        );
    }
    params
}

/// searchOrders' parameters, as the model names them.
const SEARCH_PARAMETERS: [&str; 10] = [
    "createdAfter",
    "createdBefore",
    "lastUpdatedAfter",
    "lastUpdatedBefore",
    "fulfillmentStatuses",
    "marketplaceIds",
    "fulfilledBy",
    "maxResultsPerPage",
    "paginationToken",
    "includedData",
];

/// A parameter the model does not define, if the query has one.
fn unknown_parameter(params: &Params, known: &[&str]) -> Result<(), String> {
    match params.keys().find(|name| !known.contains(&name.as_str())) {
        Some(name) => Err(format!("'{name}' is not a parameter of this operation")),
        None => Ok(()),
    }
}

/// The one value of a scalar parameter.
fn single<'a>(params: &'a Params, name: &str) -> Result<Option<&'a str>, String> {
    match params.get(name).map(Vec::as_slice) {
        None | Some([]) => Ok(None),
        Some([one]) => Ok(Some(one.as_str())),
        Some(_) => Err(format!("{name} takes one value")),
    }
}

fn date(params: &Params, name: &str) -> Result<Option<DateTime<Utc>>, String> {
    single(params, name)?
        .map(|text| {
            DateTime::parse_from_rfc3339(text)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| format!("{name} must be an ISO 8601 date-time, not '{text}'"))
        })
        .transpose()
}

/// Which optional datasets the answer carries.
#[derive(Clone, Copy, Debug, Default, serde::Serialize, serde::Deserialize)]
struct Included {
    fulfillment: bool,
    packages: bool,
}

fn included(params: &Params) -> Result<Included, String> {
    let mut included = Included::default();
    for value in params.get("includedData").into_iter().flatten() {
        match value.as_str() {
            "FULFILLMENT" => included.fulfillment = true,
            "PACKAGES" => included.packages = true,
            other if DATASETS.contains(&other) => {}
            other => {
                return Err(format!(
                    "includedData '{other}' is not one of {}",
                    DATASETS.join(", ")
                ))
            }
        }
    }
    Ok(included)
}

/// The order's `fulfillmentStatus`, from the order book's status.
fn fulfillment_status(order: &Order) -> &'static str {
    match order.status {
        "Pending" => "PENDING",
        "PartiallyShipped" => "PARTIALLY_SHIPPED",
        "Shipped" => "SHIPPED",
        "Canceled" => "CANCELLED",
        _ => "UNSHIPPED",
    }
}

/// One order, as the model's `Order` with the datasets asked for.
fn order_json(id: &str, order: &Order, included: Included) -> Value {
    let items: Vec<Value> = order
        .items
        .iter()
        .map(|(item_id, item)| {
            let mut line = json!({
                "orderItemId": item_id,
                "quantityOrdered": item.quantity,
                "product": {
                    "asin": item.item_number,
                    "title": item.title,
                    "sellerSku": item.sku,
                },
            });
            if included.fulfillment {
                let shipped = order.shipped_quantity(item_id).min(item.quantity);
                line["fulfillment"] = json!({
                    "quantityFulfilled": shipped,
                    "quantityUnfulfilled": item.quantity - shipped,
                });
            }
            line
        })
        .collect();
    let mut answer = json!({
        "orderId": id,
        "createdTime": iso(order.purchase_date),
        "lastUpdatedTime": iso(order.last_update),
        "salesChannel": {
            "channelName": "AMAZON",
            "marketplaceId": order.marketplace_id,
        },
        "orderItems": items,
    });
    if included.fulfillment {
        answer["fulfillment"] = json!({
            "fulfillmentStatus": fulfillment_status(order),
            "fulfilledBy": "MERCHANT",
            "shipByWindow": {
                "earliestDateTime": iso(order.ship_by_earliest),
                "latestDateTime": iso(order.ship_by),
            },
        });
    }
    if included.packages {
        let packages: Vec<Value> = order
            .packages
            .iter()
            .map(|(reference, package)| {
                json!({
                    "packageReferenceId": reference,
                    "createdTime": iso(package.created),
                    "packageStatus": {"status": "SHIPPED"},
                    "carrier": package.carrier,
                    "shipTime": iso(package.ship_date),
                    "shippingService": package.service,
                    "trackingNumber": package.tracking_number,
                    "packageItems": package.items.iter().map(|(item_id, quantity)| json!({
                        "orderItemId": item_id,
                        "quantity": quantity,
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        answer["packages"] = json!(packages);
    }
    answer
}

/// searchOrders' paging state, carried by the `nextToken` it hands out.
#[derive(serde::Serialize, serde::Deserialize)]
struct SearchCursor {
    query: Params,
    offset: usize,
}

/// `GET /orders/2026-01-01/orders`.
async fn search_orders(
    State(emulator): State<Emulator>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let seller = match admit(&emulator, &headers, ApiKind::Orders, SEARCH_ORDERS).await {
        Ok(seller) => seller,
        Err(response) => return response,
    };
    let response = match search(&emulator, &seller, raw.as_deref().unwrap_or("")) {
        Ok(answer) => Json(answer).into_response(),
        Err(details) => invalid_input(&details),
    };
    answered(
        &emulator,
        &seller,
        SEARCH_ORDERS,
        with_rate(response, SEARCH_ORDERS_RATE),
    )
}

/// The page a search asks for, or why it is refused (the model's 400 `InvalidInput`).
fn search(emulator: &Emulator, seller: &str, raw: &str) -> Result<Value, String> {
    let mut query = params(raw);
    unknown_parameter(&query, &SEARCH_PARAMETERS)?;
    let mut offset = 0;
    // A next page is asked for by its token; the token carries the first page's query.
    if let Some(token) = single(&query, "paginationToken")? {
        let cursor = base64_json::<SearchCursor>(token)
            .ok_or_else(|| "paginationToken is not valid".to_string())?;
        offset = cursor.offset;
        query = cursor.query;
    }
    let created_after = date(&query, "createdAfter")?;
    let created_before = date(&query, "createdBefore")?;
    let updated_after = date(&query, "lastUpdatedAfter")?;
    let updated_before = date(&query, "lastUpdatedBefore")?;
    match (created_after.is_some(), updated_after.is_some()) {
        (false, false) => {
            return Err("exactly one of createdAfter and lastUpdatedAfter is required".into())
        }
        (true, true) => return Err("createdAfter and lastUpdatedAfter cannot both be given".into()),
        _ => {}
    }
    if created_after.is_some() && updated_before.is_some() {
        return Err("lastUpdatedBefore cannot be given with createdAfter".into());
    }
    if updated_after.is_some() && created_before.is_some() {
        return Err("createdBefore cannot be given with lastUpdatedAfter".into());
    }
    let now = Utc::now();
    // Orders are listed up to two minutes old, so that a page never misses a change
    // still being written; the next import continues from `lastUpdatedBefore`.
    let horizon = now - chrono::Duration::minutes(2);
    for (name, after, before) in [
        ("createdBefore", created_after, created_before),
        ("lastUpdatedBefore", updated_after, updated_before),
    ] {
        if let (Some(after), Some(before)) = (after, before) {
            if before < after {
                return Err(format!("{name} must not be before the matching After"));
            }
        }
        if before.is_some_and(|before| before > horizon) {
            return Err(format!(
                "{name} must be at least two minutes before the time of the request"
            ));
        }
    }
    let marketplaces = query.get("marketplaceIds").cloned().unwrap_or_default();
    if marketplaces.len() > 50 {
        return Err("marketplaceIds takes at most 50 values".into());
    }
    let statuses = query
        .get("fulfillmentStatuses")
        .cloned()
        .unwrap_or_default();
    if let Some(bad) = statuses
        .iter()
        .find(|s| !FULFILLMENT_STATUSES.contains(&s.as_str()))
    {
        return Err(format!(
            "fulfillmentStatuses '{bad}' is not a FulfillmentStatus"
        ));
    }
    for value in query.get("fulfilledBy").into_iter().flatten() {
        if value != "MERCHANT" && value != "AMAZON" {
            return Err(format!("fulfilledBy '{value}' is not MERCHANT or AMAZON"));
        }
    }
    let merchant_fulfilled = query
        .get("fulfilledBy")
        .is_none_or(|by| by.iter().any(|b| b == "MERCHANT"));
    let page_size = match single(&query, "maxResultsPerPage")? {
        None => 100,
        Some(text) => match text.parse::<usize>() {
            Ok(n) if (1..=100).contains(&n) => n,
            _ => return Err("maxResultsPerPage must be between 1 and 100".into()),
        },
    };
    let included = included(&query)?;
    let updated_before = updated_before.unwrap_or(horizon);
    let created_before = created_before.unwrap_or(horizon);
    let book = emulator.book();
    let mut matching: Vec<(&String, &Order)> = book
        .orders
        .iter()
        .filter(|(_, o)| visible_to(o, seller) && merchant_fulfilled)
        .filter(|(_, o)| marketplaces.is_empty() || marketplaces.contains(&o.marketplace_id))
        .filter(|(_, o)| statuses.is_empty() || statuses.iter().any(|s| s == fulfillment_status(o)))
        .filter(|(_, o)| match created_after {
            Some(after) => o.purchase_date >= after && o.purchase_date <= created_before,
            None => {
                o.last_update >= updated_after.unwrap_or(now) && o.last_update <= updated_before
            }
        })
        .collect();
    matching.sort_by(|a, b| (a.1.last_update, a.0).cmp(&(b.1.last_update, b.0)));
    let orders: Vec<Value> = matching
        .iter()
        .skip(offset)
        .take(page_size)
        .map(|(id, o)| order_json(id, o, included))
        .collect();
    let mut answer = json!({ "orders": orders });
    if offset + page_size < matching.len() {
        let next = to_base64_json(&SearchCursor {
            query: query.clone(),
            offset: offset + page_size,
        });
        answer["pagination"] = json!({ "nextToken": next });
    }
    if created_after.is_some() {
        answer["createdBefore"] = json!(iso(created_before));
    } else {
        answer["lastUpdatedBefore"] = json!(iso(updated_before));
    }
    Ok(answer)
}

/// `GET /orders/2026-01-01/orders/{orderId}`.
async fn get_order(
    State(emulator): State<Emulator>,
    Path(order_id): Path<String>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let seller = match admit(&emulator, &headers, ApiKind::Orders, GET_ORDER).await {
        Ok(seller) => seller,
        Err(response) => return response,
    };
    let query = params(raw.as_deref().unwrap_or(""));
    let checked = unknown_parameter(&query, &["includedData"]).and_then(|()| included(&query));
    let response = match checked {
        Err(details) => invalid_input(&details),
        Ok(included) => {
            let book = emulator.book();
            match book
                .orders
                .get(&order_id)
                .filter(|o| visible_to(o, &seller))
            {
                None => order_not_found(&order_id),
                Some(order) => {
                    Json(json!({ "order": order_json(&order_id, order, included) })).into_response()
                }
            }
        }
    };
    answered(
        &emulator,
        &seller,
        GET_ORDER,
        with_rate(response, GET_ORDER_RATE),
    )
}
