//! Amazon's side: Login with Amazon token exchange and Orders v0 `confirmShipment`,
//! validated as `amazon-orders-v0.json` defines the request.

use super::faults::{connection_reset, CallTarget, FaultAction};
use super::{control::ConfirmationRecord, Emulator};
use app::marketplace::ApiKind;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Form, Json, Router};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::Instant;

pub(super) fn routes() -> Router<Emulator> {
    Router::new().route("/auth/o2/token", post(token)).route(
        "/orders/v0/orders/{order_id}/shipmentConfirmation",
        post(confirm_shipment),
    )
}

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

/// The answer for an injected fault, in Amazon's shapes.
fn injected_fault(action: Option<FaultAction>) -> Option<Response> {
    Some(match action? {
        FaultAction::Status(status) => injected(status),
        FaultAction::Outage | FaultAction::Timeout => injected(503),
        FaultAction::ConnectionReset => connection_reset(),
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
    if field("client_id").is_none() || field("client_secret").is_none() {
        return invalid("invalid_client", "Client authentication failed");
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
    let seller = headers
        .get("x-amz-access-token")
        .and_then(|v| v.to_str().ok())
        .and_then(|token| emulator.book().tokens.get(token).map(|g| g.seller.clone()))
        .unwrap_or_default();
    let response = confirm_shipment_checked(&emulator, &seller, order_id, &headers, &body).await;
    emulator.record_call(&seller, CONFIRM_SHIPMENT, response.status().as_u16());
    response
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
    if let Some(response) = injected_fault(emulator.fault(target, token).await) {
        return response;
    }
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
        return error(
            StatusCode::NOT_FOUND,
            "NotFound",
            "The requested order was not found.",
            Some(&format!("Order {order_id} does not exist")),
        );
    };
    if body["marketplaceId"] != order.marketplace_id.as_str() {
        return error(
            StatusCode::BAD_REQUEST,
            "InvalidInput",
            "Invalid Input",
            Some("The order does not belong to this marketplaceId"),
        );
    }
    let mut package: HashMap<String, u32> = HashMap::new();
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
        let elsewhere: u32 = order
            .packages
            .iter()
            .filter(|(r, _)| **r != reference)
            .filter_map(|(_, p)| p.get(id))
            .sum();
        let total = elsewhere + package.get(id).copied().unwrap_or(0) + quantity;
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
        *package.entry(id.to_string()).or_default() += quantity;
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
