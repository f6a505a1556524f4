//! Amazon's side: Login with Amazon token exchange, Orders v0 `confirmShipment`
//! (validated as `amazon-orders-v0.json` defines the request) and the deprecated v0
//! reads (`getOrders`, `getOrderItems`), Catalog Items, and in [`orders`] the Orders API
//! 2026-01-01 (`searchOrders`, `getOrder`).

mod orders;

use super::faults::{connection_reset, lost_answer, CallTarget, FaultAction};
use super::{control::ConfirmationRecord, Emulator};
use app::marketplace::ApiKind;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::Instant;

pub(super) fn routes() -> Router<Emulator> {
    Router::new()
        .route("/auth/o2/token", post(token))
        .route(
            "/orders/v0/orders/{order_id}/shipmentConfirmation",
            post(confirm_shipment),
        )
        .route("/orders/v0/orders", get(get_orders))
        .route(
            "/orders/v0/orders/{order_id}/orderItems",
            get(get_order_items),
        )
        .route("/catalog/2022-04-01/items/{asin}", get(get_catalog_item))
        .route("/_emulator/images/{asin}", get(catalog_image))
        .merge(orders::routes())
}

pub(super) use orders::{GET_ORDER, SEARCH_ORDERS};

/// The model's error body: `{"errors": [{"code", "message", "details"}]}`.
fn error(status: StatusCode, code: &str, message: &str, details: Option<&str>) -> Response {
    let mut error = json!({"code": code, "message": message});
    if let Some(details) = details {
        error["details"] = json!(details);
    }
    let mut response = (status, Json(json!({ "errors": [error] }))).into_response();
    let headers = response.headers_mut();
    headers.insert("x-amzn-RequestId", request_id());
    if status == StatusCode::TOO_MANY_REQUESTS {
        headers.insert("Retry-After", HeaderValue::from_static("1"));
    }
    response
}

/// Amazon's 404 for an order it does not show this seller.
fn order_not_found(order_id: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        "NotFound",
        "The requested order was not found.",
        Some(&format!("Order {order_id} does not exist")),
    )
}

/// The answer for an injected fault, in Amazon's shapes.
fn injected_fault(action: Option<FaultAction>) -> Option<Response> {
    Some(match action? {
        FaultAction::Status(status) => injected(status),
        FaultAction::Outage | FaultAction::Timeout => injected(503),
        FaultAction::ConnectionReset => connection_reset(),
        FaultAction::LostAnswer(status) => lost_answer(status),
        FaultAction::EmptyBody => crate::emulator::faults::empty_body(),
        FaultAction::Html(status) => crate::emulator::faults::html_page(status),
        FaultAction::Malformed => (
            StatusCode::OK,
            [("content-type", "application/json")],
            "{\"payload\": {\"Orders\": [{\"AmazonOrderId\": ",
        )
            .into_response(),
        FaultAction::ExpiredToken => error(
            StatusCode::FORBIDDEN,
            "Unauthorized",
            "Access to requested resource is denied.",
            Some("The access token you provided has expired."),
        ),
    })
}

fn request_id() -> HeaderValue {
    HeaderValue::from_str(&format!("{:032x}", rand::random::<u128>()))
        .expect("hex is a valid header")
}

/// The error Amazon sends for each status the fault injector can force.
fn injected(status: u16) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    let (code, message) = match status.as_u16() {
        400 => ("InvalidInput", "Invalid Input"),
        401 => ("Unauthorized", "Access to requested resource is denied."),
        403 => ("Unauthorized", "Access to requested resource is denied."),
        404 => ("NotFound", "The requested resource was not found."),
        429 => (
            "QuotaExceeded",
            "You exceeded your quota for the requested resource.",
        ),
        500 => (
            "InternalFailure",
            "We encountered an internal error. Please try again.",
        ),
        _ => (
            "ServiceUnavailable",
            "Service temporarily unavailable. Please try again.",
        ),
    };
    error(status, code, message, None)
}

async fn token(
    State(emulator): State<Emulator>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let seller = form
        .get("refresh_token")
        .map(|t| t.trim().trim_start_matches("Atzr|").to_string())
        .unwrap_or_default();
    let target = CallTarget {
        marketplace: "amazon",
        api: None,
        seller: &seller,
    };
    match emulator.fault(target, None).await {
        None | Some(FaultAction::ExpiredToken) => {}
        Some(FaultAction::ConnectionReset) => return connection_reset(),
        Some(FaultAction::Malformed) => {
            return (StatusCode::OK, "<html>Bad gateway").into_response()
        }
        Some(_) => {
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"error": "server_error", "error_description": "Service unavailable"})),
            )
                .into_response()
        }
    }
    let field = |name: &str| form.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
    let invalid = |error: &str, description: &str| {
        (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": error, "error_description": description})),
        )
            .into_response()
    };
    if field("grant_type") != Some("refresh_token") {
        return invalid("unsupported_grant_type", "grant_type must be refresh_token");
    }
    let Some(refresh_token) = field("refresh_token") else {
        return invalid(
            "invalid_request",
            "The request is missing a required parameter : refresh_token",
        );
    };
    let known_client = match (field("client_id"), field("client_secret")) {
        (Some(id), Some(secret)) => emulator.knows_client(id, secret),
        _ => false,
    };
    if !known_client {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": "invalid_client", "error_description": "Client authentication failed"})),
        )
            .into_response();
    }
    if !refresh_token.starts_with("Atzr|") || refresh_token.contains("revoked") {
        return invalid(
            "invalid_grant",
            "The request has an invalid grant parameter : refresh_token",
        );
    }
    // The refresh token stands for the seller who authorised the application.
    let access_token = emulator.issue_token("Atza|", seller);
    Json(json!({
        "access_token": access_token,
        "token_type": "bearer",
        "expires_in": emulator.token_lifetime.as_secs(),
        "refresh_token": refresh_token,
    }))
    .into_response()
}

fn is_amazon_order_id(id: &str) -> bool {
    let parts: Vec<&str> = id.split('-').collect();
    parts.len() == 3
        && [3, 7, 7]
            .iter()
            .zip(&parts)
            .all(|(len, part)| part.len() == *len && part.bytes().all(|b| b.is_ascii_digit()))
}

/// The checks the model implies, in the order Amazon makes them; the first one that
/// fails names what is wrong.
fn validate_body(body: &Value) -> Result<(), String> {
    let Some(object) = body.as_object() else {
        return Err("The request body must be a JSON object".into());
    };
    match object.get("marketplaceId") {
        Some(Value::String(s)) if !s.is_empty() => {}
        Some(_) => return Err("marketplaceId must be a non-empty string".into()),
        None => return Err("Missing required field: marketplaceId".into()),
    }
    let Some(detail) = object.get("packageDetail") else {
        return Err("Missing required field: packageDetail".into());
    };
    let Some(detail) = detail.as_object() else {
        return Err("packageDetail must be an object".into());
    };
    for field in [
        "packageReferenceId",
        "carrierCode",
        "trackingNumber",
        "shipDate",
    ] {
        match detail.get(field) {
            Some(Value::String(s)) if !s.is_empty() => {}
            Some(_) => return Err(format!("packageDetail.{field} must be a non-empty string")),
            None => return Err(format!("Missing required field: packageDetail.{field}")),
        }
    }
    for field in ["carrierName", "shippingMethod", "shipFromSupplySourceId"] {
        if let Some(value) = detail.get(field) {
            if !value.is_string() {
                return Err(format!("packageDetail.{field} must be a string"));
            }
        }
    }
    let reference = detail["packageReferenceId"].as_str().unwrap_or_default();
    if !reference.bytes().all(|b| b.is_ascii_digit())
        || reference.trim_start_matches('0').is_empty()
    {
        return Err("packageReferenceId: only positive numeric values are supported".into());
    }
    let carrier = detail["carrierCode"].as_str().unwrap_or_default();
    if !crate::carriers::accepted_codes(crate::accounts::MarketplaceKind::Amazon)
        .any(|code| code == carrier)
    {
        return Err(format!(
            "packageDetail.carrierCode '{carrier}' is not a valid carrier code; use one from \
             the carrier code list, or Other with a carrierName"
        ));
    }
    if detail["carrierCode"] == "Other"
        && detail
            .get("carrierName")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
    {
        return Err("carrierName is required when carrierCode is Other".into());
    }
    if DateTime::parse_from_rfc3339(detail["shipDate"].as_str().unwrap_or_default()).is_err() {
        return Err("packageDetail.shipDate must be an ISO 8601 date-time".into());
    }
    let Some(items) = detail.get("orderItems") else {
        return Err("Missing required field: packageDetail.orderItems".into());
    };
    let Some(items) = items.as_array().filter(|a| !a.is_empty()) else {
        return Err("packageDetail.orderItems must be a non-empty array".into());
    };
    for (i, item) in items.iter().enumerate() {
        match item.get("orderItemId") {
            Some(Value::String(s)) if !s.is_empty() => {}
            _ => {
                return Err(format!(
                    "orderItems[{i}].orderItemId is required and must be a string"
                ))
            }
        }
        match item.get("quantity").and_then(Value::as_i64) {
            Some(q) if q > 0 => {}
            Some(_) => return Err(format!("orderItems[{i}].quantity must be positive")),
            None => {
                return Err(format!(
                    "orderItems[{i}].quantity is required and must be an integer"
                ))
            }
        }
        if let Some(codes) = item.get("transparencyCodes") {
            if !codes
                .as_array()
                .is_some_and(|c| c.iter().all(Value::is_string))
            {
                return Err(format!(
                    "orderItems[{i}].transparencyCodes must be an array of strings"
                ));
            }
        }
    }
    Ok(())
}

pub(super) const CONFIRM_SHIPMENT: &str = "amazon.confirmShipment";
pub(super) const GET_ORDERS: &str = "amazon.getOrders";
pub(super) const GET_ORDER_ITEMS: &str = "amazon.getOrderItems";
pub(super) const GET_CATALOG_ITEM: &str = "amazon.getCatalogItem";

async fn confirm_shipment(
    State(emulator): State<Emulator>,
    Path(order_id): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let seller = emulator.seller_of(
        headers
            .get("x-amz-access-token")
            .and_then(|v| v.to_str().ok()),
    );
    let response = confirm_shipment_checked(&emulator, &seller, order_id, &headers, &body).await;
    answered(&emulator, &seller, CONFIRM_SHIPMENT, response)
}

async fn confirm_shipment_checked(
    emulator: &Emulator,
    seller: &str,
    order_id: String,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    let token = headers
        .get("x-amz-access-token")
        .and_then(|v| v.to_str().ok());
    let target = CallTarget {
        marketplace: "amazon",
        api: Some(ApiKind::Writeback),
        seller,
    };
    let action = emulator.fault(target, token).await;
    if let Some(FaultAction::LostAnswer(status)) = action {
        // The package is added; its answer never reaches the client.
        confirmation_served(emulator, seller, order_id, headers, body);
        return lost_answer(status);
    }
    if let Some(response) = injected_fault(action) {
        return response;
    }
    confirmation_served(emulator, seller, order_id, headers, body)
}

/// A confirmShipment past the injected faults: checked, applied and answered.
fn confirmation_served(
    emulator: &Emulator,
    seller: &str,
    order_id: String,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    let Some(token) = headers
        .get("x-amz-access-token")
        .and_then(|v| v.to_str().ok())
    else {
        return error(
            StatusCode::UNAUTHORIZED,
            "Unauthorized",
            "Access to requested resource is denied.",
            Some("The request has no x-amz-access-token header."),
        );
    };
    let body: Value = match serde_json::from_slice(body) {
        Ok(body) => body,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                "InvalidInput",
                "Invalid Input",
                Some(&format!("The body is not JSON: {e}")),
            )
        }
    };

    let mut book = emulator.book();
    match book.tokens.get(token) {
        None => {
            return error(
                StatusCode::FORBIDDEN,
                "Unauthorized",
                "Access to requested resource is denied.",
                Some("The access token you provided is revoked, malformed or invalid."),
            )
        }
        Some(grant) if grant.expires_at <= Instant::now() => {
            return error(
                StatusCode::FORBIDDEN,
                "Unauthorized",
                "Access to requested resource is denied.",
                Some("The access token you provided has expired."),
            )
        }
        Some(_) => {}
    }
    if !emulator.within_limit(&book, CONFIRM_SHIPMENT, seller) {
        return error(
            StatusCode::TOO_MANY_REQUESTS,
            "QuotaExceeded",
            "You exceeded your quota for the requested resource.",
            None,
        );
    }
    if !is_amazon_order_id(&order_id) {
        return error(
            StatusCode::BAD_REQUEST,
            "InvalidInput",
            "Invalid Input",
            Some("orderId must be in 3-7-7 format"),
        );
    }
    if let Err(details) = validate_body(&body) {
        return error(
            StatusCode::BAD_REQUEST,
            "InvalidInput",
            "Invalid Input",
            Some(&details),
        );
    }
    let detail = &body["packageDetail"];
    let reference = detail["packageReferenceId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let Some(order) = book.orders.get_mut(&order_id) else {
        return order_not_found(&order_id);
    };
    // Amazon does not show one seller another's orders.
    if !order.seller.is_empty() && order.seller != seller {
        return error(
            StatusCode::NOT_FOUND,
            "NotFound",
            "The requested order was not found.",
            Some(&format!("Order {order_id} is not an order of this seller")),
        );
    }
    if body["marketplaceId"] != order.marketplace_id.as_str() {
        return error(
            StatusCode::BAD_REQUEST,
            "InvalidInput",
            "Invalid Input",
            Some("The order does not belong to this marketplaceId"),
        );
    }
    match order.status {
        "Canceled" => {
            return invalid_input(&format!(
                "Order {order_id} has been canceled; a canceled order cannot be confirmed"
            ))
        }
        "Pending" => {
            return invalid_input(&format!(
                "Order {order_id} is Pending: its payment is not yet verified; confirm the \
                 shipment once the order is Unshipped"
            ))
        }
        _ => {}
    }
    let ship_date = DateTime::parse_from_rfc3339(detail["shipDate"].as_str().unwrap_or_default())
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|_| Utc::now());
    // A few minutes' grace for the clocks of the warehouse and of Amazon.
    if ship_date > Utc::now() + chrono::Duration::minutes(10) {
        return invalid_input("packageDetail.shipDate cannot be in the future");
    }
    if ship_date < order.purchase_date {
        return invalid_input(&format!(
            "packageDetail.shipDate cannot be before the order's purchase date ({})",
            iso(order.purchase_date)
        ));
    }
    // A new package on an order Amazon holds as fully shipped: nothing to attach it to.
    if order.status == "Shipped" && !order.packages.contains_key(&reference) {
        return error(
            StatusCode::BAD_REQUEST,
            "PackageToUpdateNotFound",
            "Failed to create package due to not finding a matching package or order already fulfilled",
            None,
        );
    }
    let mut items: std::collections::BTreeMap<String, u32> = Default::default();
    for item in detail["orderItems"].as_array().into_iter().flatten() {
        let id = item["orderItemId"].as_str().unwrap_or_default();
        let quantity = item["quantity"].as_i64().unwrap_or_default() as u32;
        let Some(ordered) = order.items.get(id) else {
            return error(
                StatusCode::BAD_REQUEST,
                "InvalidInput",
                "Invalid Input",
                Some(&format!("Order item {id} is not part of order {order_id}")),
            );
        };
        // Other packages of the order count; this package's earlier version does not.
        let elsewhere = order.shipped_elsewhere(id, &reference);
        let total = elsewhere + items.get(id).copied().unwrap_or(0) + quantity;
        if total > ordered.quantity {
            return error(
                StatusCode::BAD_REQUEST,
                "InvalidInput",
                "Invalid Input",
                Some(&format!(
                    "Quantity {total} for order item {id} ({}) exceeds the {} ordered",
                    ordered.sku, ordered.quantity
                )),
            );
        }
        *items.entry(id.to_string()).or_default() += quantity;
    }
    // The package as the buyer sees it: a correction under the same reference replaces
    // every detail, carrier and tracking number included.
    let text = |field: &str| detail[field].as_str().unwrap_or_default().to_string();
    let carrier = match text("carrierCode").as_str() {
        "Other" => text("carrierName"),
        code => code.to_string(),
    };
    let now = Utc::now();
    let created = order
        .packages
        .get(&reference)
        .map_or(now, |earlier| earlier.created);
    let package = super::Package {
        items,
        carrier,
        service: text("shippingMethod"),
        tracking_number: text("trackingNumber"),
        ship_date: DateTime::parse_from_rfc3339(&text("shipDate"))
            .map_or(now, |t| t.with_timezone(&Utc)),
        created,
        // Amazon replaces the package: the earlier tracking number is gone.
        earlier: Vec::new(),
    };
    let tracking = (package.carrier.clone(), package.tracking_number.clone());
    if !order.tracking.contains(&tracking) {
        order.tracking.push(tracking);
    }
    order.packages.insert(reference.clone(), package);
    order.settle(Utc::now());
    let record = ConfirmationRecord {
        sequence: book.confirmations.len() as u64 + 1,
        marketplace: "amazon".into(),
        order_id,
        package_reference_id: reference,
        received_at: Utc::now(),
        body,
    };
    book.confirmations.push(record);
    drop(book);

    let mut response = StatusCode::NO_CONTENT.into_response();
    response
        .headers_mut()
        .insert("x-amzn-RequestId", request_id());
    response
        .headers_mut()
        .insert("x-amzn-RateLimit-Limit", HeaderValue::from_static("2.0"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body() -> Value {
        json!({
            "marketplaceId": "ATVPDKIKX0DER",
            "packageDetail": {
                "packageReferenceId": "1",
                "carrierCode": "UPS",
                "trackingNumber": "1Z",
                "shipDate": "2026-11-25T14:02:00.000Z",
                "orderItems": [{"orderItemId": "1", "quantity": 1}]
            }
        })
    }

    #[test]
    fn accepts_the_model_example() {
        assert_eq!(validate_body(&body()), Ok(()));
    }

    #[test]
    fn refuses_what_the_model_forbids() {
        let cases: Vec<(&str, Value)> = vec![
            ("/marketplaceId", Value::Null),
            ("/packageDetail/packageReferenceId", json!("A1")),
            ("/packageDetail/packageReferenceId", json!("0")),
            ("/packageDetail/carrierCode", json!("")),
            ("/packageDetail/shipDate", json!("02/21/2022")),
            ("/packageDetail/orderItems", json!([])),
            ("/packageDetail/orderItems/0/quantity", json!("1")),
            ("/packageDetail/orderItems/0/quantity", json!(0)),
            ("/packageDetail/carrierCode", json!("Other")),
        ];
        for (pointer, value) in cases {
            let mut b = body();
            *b.pointer_mut(pointer).unwrap() = value.clone();
            assert!(
                validate_body(&b).is_err(),
                "{pointer} = {value} was accepted"
            );
        }
    }

    #[test]
    fn order_ids_are_3_7_7() {
        assert!(is_amazon_order_id("113-1234567-1234567"));
        assert!(!is_amazon_order_id("113-123456-1234567"));
        assert!(!is_amazon_order_id("abc-1234567-1234567"));
    }
}

/// What every read call checks first: an injected fault, the access token, the
/// operation's usage plan. `Ok` carries the seller the token was issued to; a refused
/// call is recorded and its answer returned.
async fn admit(
    emulator: &Emulator,
    headers: &HeaderMap,
    api: ApiKind,
    operation: &str,
) -> Result<String, Response> {
    let token = headers
        .get("x-amz-access-token")
        .and_then(|v| v.to_str().ok());
    let seller = emulator.seller_of(token);
    match check_call(emulator, token, &seller, api, operation).await {
        Ok(()) => Ok(seller),
        Err(response) => Err(answered(emulator, &seller, operation, response)),
    }
}

async fn check_call(
    emulator: &Emulator,
    token: Option<&str>,
    seller: &str,
    api: ApiKind,
    operation: &str,
) -> Result<(), Response> {
    let target = CallTarget {
        marketplace: "amazon",
        api: Some(api),
        seller,
    };
    if let Some(response) = injected_fault(emulator.fault(target, token).await) {
        return Err(response);
    }
    let Some(token) = token else {
        return Err(error(
            StatusCode::UNAUTHORIZED,
            "Unauthorized",
            "Access to requested resource is denied.",
            Some("The request has no x-amz-access-token header."),
        ));
    };
    let book = emulator.book();
    match book.tokens.get(token) {
        Some(grant) if grant.expires_at > Instant::now() => {}
        Some(_) => {
            return Err(error(
                StatusCode::FORBIDDEN,
                "Unauthorized",
                "Access to requested resource is denied.",
                Some("The access token you provided has expired."),
            ))
        }
        None => {
            return Err(error(
                StatusCode::FORBIDDEN,
                "Unauthorized",
                "Access to requested resource is denied.",
                Some("The access token you provided is revoked, malformed or invalid."),
            ))
        }
    }
    if !emulator.within_limit(&book, operation, seller) {
        return Err(error(
            StatusCode::TOO_MANY_REQUESTS,
            "QuotaExceeded",
            "You exceeded your quota for the requested resource.",
            None,
        ));
    }
    Ok(())
}

/// Answers `operation` after recording the call; every answer, refusals included,
/// states the operation's rate limit (`x-amzn-RateLimit-Limit`) as Amazon's do.
fn answered(emulator: &Emulator, seller: &str, operation: &str, response: Response) -> Response {
    emulator.record_call(seller, operation, response.status().as_u16());
    stamp_rate(response, operation)
}

/// The documented rate of each operation, as the header writes it.
fn documented_rate(operation: &str) -> Option<&'static str> {
    Some(match operation {
        CONFIRM_SHIPMENT => "2.0",
        GET_ORDERS => "0.0167",
        GET_ORDER_ITEMS => "0.5",
        GET_CATALOG_ITEM => "2.0",
        orders::SEARCH_ORDERS => "0.0056",
        orders::GET_ORDER => "0.5",
        _ => return None,
    })
}

fn stamp_rate(mut response: Response, operation: &str) -> Response {
    let headers = response.headers_mut();
    if !headers.contains_key("x-amzn-RateLimit-Limit") {
        if let Some(rate) = documented_rate(operation) {
            headers.insert("x-amzn-RateLimit-Limit", HeaderValue::from_static(rate));
        }
    }
    if !headers.contains_key("x-amzn-RequestId") {
        headers.insert("x-amzn-RequestId", request_id());
    }
    response
}

fn with_rate(mut response: Response, rate: &'static str) -> Response {
    response
        .headers_mut()
        .insert("x-amzn-RequestId", request_id());
    response
        .headers_mut()
        .insert("x-amzn-RateLimit-Limit", HeaderValue::from_static(rate));
    response
}

fn invalid_input(details: &str) -> Response {
    error(
        StatusCode::BAD_REQUEST,
        "InvalidInput",
        "Invalid Input",
        Some(details),
    )
}

fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Orders a seller may see: its own, and those given to every seller ("").
fn visible_to(order: &super::Order, seller: &str) -> bool {
    order.marketplace == "amazon" && (order.seller.is_empty() || order.seller == seller)
}

fn order_json(id: &str, order: &super::Order) -> Value {
    let shipped: u32 = order.items.keys().map(|i| order.shipped_quantity(i)).sum();
    let ordered: u32 = order.items.values().map(|i| i.quantity).sum();
    json!({
        "AmazonOrderId": id,
        "PurchaseDate": iso(order.purchase_date),
        "LastUpdateDate": iso(order.last_update),
        "OrderStatus": order.status,
        "FulfillmentChannel": "MFN",
        "SalesChannel": "Amazon.com",
        "MarketplaceId": order.marketplace_id,
        "NumberOfItemsShipped": shipped,
        "NumberOfItemsUnshipped": ordered.saturating_sub(shipped),
        "OrderType": "StandardOrder",
        "IsPrime": false,
        "IsBusinessOrder": false,
    })
}

/// getOrders' paging state, carried by the NextToken it hands out.
#[derive(serde::Serialize, serde::Deserialize)]
struct OrdersCursor {
    query: HashMap<String, String>,
    offset: usize,
}

/// `GET /orders/v0/orders`: by last update (or creation) time, or by order ids,
/// filtered by marketplace and status, paged by NextToken.
async fn get_orders(
    State(emulator): State<Emulator>,
    headers: HeaderMap,
    axum::extract::RawQuery(raw): axum::extract::RawQuery,
) -> Response {
    let seller = match admit(&emulator, &headers, ApiKind::Orders, GET_ORDERS).await {
        Ok(seller) => seller,
        Err(response) => return response,
    };
    let response = list_orders(&emulator, &seller, raw.as_deref().unwrap_or(""));
    answered(
        &emulator,
        &seller,
        GET_ORDERS,
        with_rate(response, "0.0167"),
    )
}

fn list_orders(emulator: &Emulator, seller: &str, raw: &str) -> Response {
    let mut query: HashMap<String, String> = url_pairs(raw);
    let mut offset = 0;
    if let Some(token) = query.get("NextToken").cloned() {
        let Some(cursor) = base64_json::<OrdersCursor>(&token) else {
            return invalid_input("Invalid NextToken");
        };
        offset = cursor.offset;
        query = cursor.query;
    }
    let Some(marketplaces) = query.get("MarketplaceIds").filter(|m| !m.is_empty()) else {
        return invalid_input("Missing required parameter: MarketplaceIds");
    };
    let marketplaces: Vec<&str> = marketplaces.split(',').collect();
    if marketplaces.len() > 50 {
        return invalid_input("MarketplaceIds takes at most 50 values");
    }
    let date = |name: &str| -> Result<Option<DateTime<Utc>>, String> {
        match query.get(name) {
            None => Ok(None),
            Some(text) => DateTime::parse_from_rfc3339(text)
                .map(|t| Some(t.with_timezone(&Utc)))
                .map_err(|_| format!("{name} must be an ISO 8601 date-time")),
        }
    };
    let dates = (|| {
        Ok::<_, String>((
            date("CreatedAfter")?,
            date("CreatedBefore")?,
            date("LastUpdatedAfter")?,
            date("LastUpdatedBefore")?,
        ))
    })();
    let (created_after, created_before, updated_after, updated_before) = match dates {
        Ok(dates) => dates,
        Err(details) => return invalid_input(&details),
    };
    let ids: Option<Vec<&str>> = query
        .get("AmazonOrderIds")
        .map(|ids| ids.split(',').filter(|i| !i.is_empty()).collect());
    if ids.as_ref().is_some_and(|ids| ids.len() > 50) {
        return invalid_input("AmazonOrderIds takes at most 50 values");
    }
    if ids.is_none() && created_after.is_none() && updated_after.is_none() {
        return invalid_input("Either CreatedAfter or LastUpdatedAfter must be specified");
    }
    if created_after.is_some() && updated_after.is_some() {
        return invalid_input("CreatedAfter and LastUpdatedAfter cannot both be specified");
    }
    let page_size = match query.get("MaxResultsPerPage").map(|n| n.parse::<usize>()) {
        None => 100,
        Some(Ok(n)) if (1..=100).contains(&n) => n,
        Some(_) => return invalid_input("MaxResultsPerPage must be 1 - 100"),
    };
    let statuses: Option<Vec<&str>> = query.get("OrderStatuses").map(|s| s.split(',').collect());
    // Amazon lists changes up to two minutes old, so that a page is never missing a
    // change still being written; the import continues from LastUpdatedBefore.
    let now = Utc::now();
    let horizon = now - chrono::Duration::minutes(2);
    let updated_before = updated_before.unwrap_or(horizon).min(horizon);
    let book = emulator.book();
    let mut matching: Vec<(&String, &super::Order)> = book
        .orders
        .iter()
        .filter(|(_, o)| visible_to(o, seller) && marketplaces.contains(&o.marketplace_id.as_str()))
        .filter(|(id, _)| ids.as_ref().is_none_or(|ids| ids.contains(&id.as_str())))
        .filter(|(_, o)| statuses.as_ref().is_none_or(|s| s.contains(&o.status)))
        .filter(|(_, o)| created_after.is_none_or(|t| o.purchase_date >= t))
        .filter(|(_, o)| created_before.is_none_or(|t| o.purchase_date <= t))
        .filter(|(_, o)| {
            updated_after.is_none_or(|t| o.last_update >= t && o.last_update <= updated_before)
        })
        .collect();
    matching.sort_by(|a, b| (a.1.last_update, a.0).cmp(&(b.1.last_update, b.0)));
    let page: Vec<Value> = matching
        .iter()
        .skip(offset)
        .take(page_size)
        .map(|(id, o)| order_json(id, o))
        .collect();
    let mut payload = json!({ "Orders": page });
    if offset + page_size < matching.len() {
        payload["NextToken"] = json!(to_base64_json(&OrdersCursor {
            query: query.clone(),
            offset: offset + page_size,
        }));
    }
    if updated_after.is_some() {
        payload["LastUpdatedBefore"] = json!(iso(updated_before));
    } else if created_after.is_some() {
        payload["CreatedBefore"] = json!(iso(created_before.unwrap_or(horizon).min(horizon)));
    }
    Json(json!({ "payload": payload })).into_response()
}

/// `GET /orders/v0/orders/{orderId}/orderItems`.
async fn get_order_items(
    State(emulator): State<Emulator>,
    Path(order_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let seller = match admit(&emulator, &headers, ApiKind::Orders, GET_ORDER_ITEMS).await {
        Ok(seller) => seller,
        Err(response) => return response,
    };
    if !is_amazon_order_id(&order_id) {
        return answered(
            &emulator,
            &seller,
            GET_ORDER_ITEMS,
            invalid_input("orderId must be in 3-7-7 format"),
        );
    }
    let response = {
        let book = emulator.book();
        match book
            .orders
            .get(&order_id)
            .filter(|o| visible_to(o, &seller))
        {
            None => order_not_found(&order_id),
            Some(order) => {
                let items: Vec<Value> = order
                    .items
                    .iter()
                    .map(|(id, item)| {
                        json!({
                            "ASIN": item.item_number,
                            "SellerSKU": item.sku,
                            "OrderItemId": id,
                            "Title": item.title,
                            "QuantityOrdered": item.quantity,
                            "QuantityShipped": order.shipped_quantity(id),
                        })
                    })
                    .collect();
                with_rate(
                    Json(json!({"payload": {"AmazonOrderId": order_id, "OrderItems": items}}))
                        .into_response(),
                    "0.5",
                )
            }
        }
    };
    answered(&emulator, &seller, GET_ORDER_ITEMS, response)
}

/// `GET /catalog/2022-04-01/items/{asin}`: the catalog knows every item of the order
/// book, and makes up its weight and picture from the ASIN.
async fn get_catalog_item(
    State(emulator): State<Emulator>,
    Path(asin): Path<String>,
    headers: HeaderMap,
    axum::extract::Query(query): axum::extract::Query<HashMap<String, String>>,
) -> Response {
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost")
        .to_string();
    let seller = match admit(&emulator, &headers, ApiKind::Products, GET_CATALOG_ITEM).await {
        Ok(seller) => seller,
        Err(response) => return response,
    };
    let response = catalog_item(&emulator, &asin, &query, &host);
    answered(&emulator, &seller, GET_CATALOG_ITEM, response)
}

const INCLUDED_DATA: [&str; 10] = [
    "attributes",
    "classifications",
    "dimensions",
    "identifiers",
    "images",
    "productTypes",
    "relationships",
    "salesRanks",
    "summaries",
    "vendorDetails",
];

fn catalog_item(
    emulator: &Emulator,
    asin: &str,
    query: &HashMap<String, String>,
    host: &str,
) -> Response {
    let Some(marketplace_id) = query
        .get("marketplaceIds")
        .and_then(|m| m.split(',').next())
        .filter(|m| !m.is_empty())
    else {
        return invalid_input("Missing required parameter: marketplaceIds");
    };
    let included: Vec<&str> = query
        .get("includedData")
        .map(|d| d.split(',').collect())
        .unwrap_or_else(|| vec!["summaries"]);
    if let Some(bad) = included.iter().find(|d| !INCLUDED_DATA.contains(d)) {
        return invalid_input(&format!("includedData value '{bad}' is not supported"));
    }
    if asin.len() != 10 || !asin.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return invalid_input("asin must be a 10-character ASIN");
    }
    let title = {
        let book = emulator.book();
        book.orders
            .values()
            .flat_map(|o| o.items.values())
            .find(|i| i.item_number == asin)
            .map(|i| i.title.clone())
    };
    let Some(title) = title else {
        return error(
            StatusCode::NOT_FOUND,
            "NotFound",
            &format!("Requested item '{asin}' not found in marketplace '{marketplace_id}'."),
            None,
        );
    };
    let seed = asin
        .bytes()
        .fold(7u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)));
    let pounds = 0.2 + (seed % 480) as f64 / 100.0;
    let mut item = json!({ "asin": asin });
    if included.contains(&"summaries") {
        item["summaries"] =
            json!([{ "marketplaceId": marketplace_id, "itemName": title, "brand": "Emulated" }]);
    }
    if included.contains(&"dimensions") {
        item["dimensions"] = json!([{
            "marketplaceId": marketplace_id,
            "item": {"weight": {"unit": "pounds", "value": (pounds * 0.9 * 100.0).round() / 100.0}},
            "package": {"weight": {"unit": "pounds", "value": pounds}}
        }]);
    }
    if included.contains(&"images") {
        let link = format!("http://{host}/_emulator/images/{asin}");
        item["images"] = json!([{
            "marketplaceId": marketplace_id,
            "images": [
                {"variant": "MAIN", "link": link, "height": 500, "width": 500},
                {"variant": "MAIN", "link": format!("{link}?size=75"), "height": 75, "width": 75}
            ]
        }]);
    }
    if included.contains(&"identifiers") {
        item["identifiers"] = json!([{
            "marketplaceId": marketplace_id,
            "identifiers": [{"identifierType": "EAN", "identifier": format!("{:013}", seed % 10_000_000_000_000)}]
        }]);
    }
    with_rate(Json(item).into_response(), "2.0")
}

/// A product picture: a tile in a colour of the ASIN, so that items look different.
async fn catalog_image(Path(asin): Path<String>) -> Response {
    let seed = asin
        .bytes()
        .fold(7u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
    let hue = seed % 360;
    let label: String = asin
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let svg = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="500" height="500" viewBox="0 0 100 100"><rect width="100" height="100" rx="12" fill="hsl({hue},55%,88%)"/><rect x="22" y="30" width="56" height="44" rx="4" fill="hsl({hue},45%,55%)"/><path d="M22 42h56M50 30v44" stroke="hsl({hue},45%,35%)" stroke-width="3"/><text x="50" y="92" font-family="sans-serif" font-size="11" text-anchor="middle" fill="hsl({hue},40%,25%)">{label}</text></svg>"##
    );
    (
        [
            ("content-type", "image/svg+xml"),
            ("cache-control", "public, max-age=86400"),
        ],
        svg,
    )
        .into_response()
}

/// `a=1&b=2` into a map, percent-decoded; a repeated name keeps its last value.
fn url_pairs(raw: &str) -> HashMap<String, String> {
    app::api::parse_query_pairs(raw).into_iter().collect()
}

fn to_base64_json<T: serde::Serialize>(value: &T) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(serde_json::to_vec(value).unwrap_or_default())
}

fn base64_json<T: serde::de::DeserializeOwned>(text: &str) -> Option<T> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}
