//! eBay's side: the identity token endpoint, the Trading API (CompleteSale, GetOrders)
//! and the Sell Fulfillment API (createShippingFulfillment, getShippingFulfillments,
//! getShippingFulfillment), each validated and answered in eBay's own shapes.
//!
//! Choices where eBay leaves room (the emulator's documented behaviour):
//! - an unknown or foreign `OrderID` is Ack Failure `21916811` ("The order ID is
//!   invalid"), RequestError; a missing or invalid tag is `37` ("Input data for tag
//!   <X> is invalid or missing."), unreadable XML `5`, an unknown call `2`, a missing
//!   or invalid header `10012`;
//! - a parcel (package) is named by the tracking number it was first sent with; the
//!   lines a call sends under a number the order holds join (or update) that parcel,
//!   so CompleteSale, which names one line at a time, builds the parcel line by line,
//!   and the same call sent again is a plain Success (see `take_package`);
//! - a line already shipped in full, sent again under another tracking number, is a
//!   correction: the number is added (eBay keeps the earlier one) and CompleteSale
//!   answers Ack Warning `21917091`;
//! - createShippingFulfillment follows the same rules; getShippingFulfillments lists
//!   each parcel as a fulfillment, `fulfillmentId` its first tracking number.

use super::control::ConfirmationRecord;
use super::faults::{connection_reset, lost_answer, CallTarget, FaultAction};
use super::{Emulator, Order};
use app::marketplace::ApiKind;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use base64::Engine;
use chrono::{DateTime, SecondsFormat, Utc};
use quick_xml::escape::escape;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::Instant;

/// The Trading API's daily call quota, per seller.
pub(super) const TRADING_QUOTA: &str = "ebay.trading";
/// The Sell Fulfillment API's daily call quota, per seller.
pub(super) const FULFILLMENT_QUOTA: &str = "ebay.fulfillment";

const NAMESPACE: &str = "urn:ebay:apis:eBLBaseComponents";
const VERSION: &str = "1331";
const BUILD: &str = "E1331_CORE_APISELLING_19187371_R1";

/// Trading error codes the emulator answers with.
const UNSUPPORTED_CALL: &str = "2";
const XML_PARSE_ERROR: &str = "5";
const INVALID_INPUT: &str = "37";
const CALL_LIMIT: &str = "518";
const TOKEN_INVALID: &str = "931";
const TOKEN_HARD_EXPIRED: &str = "932";
const INVALID_HEADER: &str = "10012";
const INVALID_ORDER_ID: &str = "21916811";
const TRACKING_ADDED: &str = "21917091";

/// What prefixes a refresh token; the seller's name follows its last `#`.
const REFRESH_TOKEN_PREFIX: &str = "v^1.1#";
const ACCESS_TOKEN_PREFIX: &str = "v^1.1#i^1#p^3#";
const SCOPE_PREFIX: &str = "https://api.ebay.com/oauth/api_scope";

pub(super) fn routes() -> Router<Emulator> {
    Router::new()
        .route("/identity/v1/oauth2/token", post(token))
        .route("/ws/api.dll", post(trading))
        .route(
            "/sell/fulfillment/v1/order/{order_id}/shipping_fulfillment",
            post(create_shipping_fulfillment).get(get_shipping_fulfillments),
        )
        .route(
            "/sell/fulfillment/v1/order/{order_id}/shipping_fulfillment/{fulfillment_id}",
            get(get_shipping_fulfillment),
        )
}

fn now_iso() -> String {
    iso(Utc::now())
}

fn iso(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn header_text<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// The seller a refresh token stands for: what follows its last `#`.
fn seller_of_refresh_token(token: &str) -> &str {
    token.rsplit('#').next().unwrap_or_default().trim()
}

// --- identity -------------------------------------------------------------------

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        Json(json!({"error": error, "error_description": description})),
    )
        .into_response()
}

async fn token(
    State(emulator): State<Emulator>,
    headers: HeaderMap,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let form = form.map(|Form(f)| f).ok();
    let refresh_token = form
        .as_ref()
        .and_then(|f| f.get("refresh_token"))
        .map(|t| t.trim().to_string())
        .unwrap_or_default();
    let seller = seller_of_refresh_token(&refresh_token).to_string();
    let response = token_checked(&emulator, &seller, &headers, form, &refresh_token).await;
    emulator.record_call(&seller, "ebay.token", response.status().as_u16());
    response
}

async fn token_checked(
    emulator: &Emulator,
    seller: &str,
    headers: &HeaderMap,
    form: Option<HashMap<String, String>>,
    refresh_token: &str,
) -> Response {
    let target = CallTarget {
        marketplace: "ebay",
        api: None,
        seller,
    };
    match emulator.fault(target, None).await {
        None | Some(FaultAction::ExpiredToken) => {}
        Some(FaultAction::ConnectionReset) => return connection_reset(),
        Some(FaultAction::LostAnswer(status)) => return lost_answer(status),
        Some(FaultAction::Malformed) => {
            return (StatusCode::OK, "{\"access_token\": \"v^1.1#i^1#p^3#").into_response()
        }
        Some(FaultAction::EmptyBody) => return crate::emulator::faults::empty_body(),
        Some(FaultAction::Html(status)) => return crate::emulator::faults::html_page(status),
        Some(FaultAction::Status(status)) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            return oauth_error(status, "server_error", "Service temporarily unavailable");
        }
        Some(FaultAction::Outage | FaultAction::Timeout) => {
            return oauth_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily_unavailable",
                "The service is temporarily unavailable",
            )
        }
    }
    let client_ok = header_text(headers, "authorization")
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| {
            base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .ok()
        })
        .and_then(|raw| String::from_utf8(raw).ok())
        .is_some_and(|pair| {
            pair.split_once(':')
                .is_some_and(|(id, secret)| !id.is_empty() && !secret.is_empty())
        });
    if !client_ok {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "client authentication failed",
        );
    }
    let Some(form) = form else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "request is missing a required parameter or malformed",
        );
    };
    let field = |name: &str| form.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
    if field("grant_type") != Some("refresh_token") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "grant type in request is not supported by the authorization server",
        );
    }
    if refresh_token.is_empty() {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "request is missing a required parameter : refresh_token",
        );
    }
    if let Some(scope) = field("scope") {
        if scope
            .split_whitespace()
            .any(|s| !s.starts_with(SCOPE_PREFIX))
        {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_scope",
                "the requested scope is invalid, unknown, malformed, or exceeds the scope granted to the client",
            );
        }
    }
    if !refresh_token.starts_with(REFRESH_TOKEN_PREFIX)
        || refresh_token.contains("revoked")
        || seller.is_empty()
    {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "the provided authorization refresh token is invalid or was issued to another client",
        );
    }
    let access_token = emulator.issue_token(ACCESS_TOKEN_PREFIX, seller.to_string());
    Json(json!({
        "access_token": access_token,
        "expires_in": emulator.token_lifetime.as_secs(),
        "token_type": "User Access Token",
    }))
    .into_response()
}

/// Whether a token is unknown, expired, or good; and whose.
enum TokenState {
    Unknown,
    Expired,
    Valid,
}

fn token_state(emulator: &Emulator, token: Option<&str>) -> TokenState {
    let book = emulator.book();
    match token.and_then(|t| book.tokens.get(t)) {
        None => TokenState::Unknown,
        Some(grant) if grant.expires_at <= Instant::now() => TokenState::Expired,
        Some(_) => TokenState::Valid,
    }
}

// --- Trading API ----------------------------------------------------------------

/// One entry of a Trading answer's `Errors`.
struct TradingError {
    code: &'static str,
    short: String,
    long: String,
    warning: bool,
    system: bool,
}

impl TradingError {
    fn request(code: &'static str, short: &str, long: &str) -> TradingError {
        TradingError {
            code,
            short: short.to_string(),
            long: long.to_string(),
            warning: false,
            system: false,
        }
    }

    fn invalid_tag(tag: &str) -> TradingError {
        TradingError::request(
            INVALID_INPUT,
            "Input data is invalid.",
            &format!(
                "Input data for tag <{tag}> is invalid or missing. Please check API documentation."
            ),
        )
    }

    fn xml(&self) -> String {
        format!(
            "<Errors><ShortMessage>{}</ShortMessage><LongMessage>{}</LongMessage>\
             <ErrorCode>{}</ErrorCode><SeverityCode>{}</SeverityCode>\
             <ErrorClassification>{}</ErrorClassification></Errors>",
            escape(self.short.as_str()),
            escape(self.long.as_str()),
            self.code,
            if self.warning { "Warning" } else { "Error" },
            if self.system {
                "SystemError"
            } else {
                "RequestError"
            },
        )
    }
}

/// A Trading answer: HTTP 200, the call's `...Response` root, Ack, Errors and the
/// call's own elements.
fn trading_answer(call: &str, ack: &str, errors: &[TradingError], inner: &str) -> Response {
    // The root is named after the call; a name that is not a plain word is not echoed.
    let root = if !call.is_empty() && call.bytes().all(|b| b.is_ascii_alphanumeric()) {
        call
    } else {
        "Generic"
    };
    let errors: String = errors.iter().map(TradingError::xml).collect();
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><{root}Response xmlns=\"{NAMESPACE}\">\
         <Timestamp>{}</Timestamp><Ack>{ack}</Ack>{errors}<Version>{VERSION}</Version>\
         <Build>{BUILD}</Build>{inner}</{root}Response>",
        now_iso()
    );
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/xml;charset=utf-8")],
        body,
    )
        .into_response()
}

fn trading_failure(call: &str, error: TradingError) -> Response {
    trading_answer(call, "Failure", &[error], "")
}

fn token_invalid() -> TradingError {
    TradingError::request(
        TOKEN_INVALID,
        "Auth token is invalid.",
        "Validation of the authentication token in API request failed.",
    )
}

fn token_expired() -> TradingError {
    TradingError::request(
        TOKEN_HARD_EXPIRED,
        "Auth token is hard expired.",
        "Auth token is hard expired, User needs to generate a new token for this application.",
    )
}

fn call_limit() -> TradingError {
    TradingError::request(
        CALL_LIMIT,
        "Call usage limit has been reached.",
        "Your application has exceeded usage limit on this call, please make call to GetAPIAccessRules to check your call usage.",
    )
}

/// The answer for an injected fault, in the Trading API's shapes.
fn trading_fault(call: &str, action: Option<FaultAction>) -> Option<Response> {
    Some(match action? {
        // eBay throttles Trading calls with an Ack Failure, not with a 429.
        FaultAction::Status(429) => trading_failure(call, call_limit()),
        FaultAction::Status(status) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            (
                status,
                [(header::CONTENT_TYPE, "text/html")],
                format!(
                    "<html><body>{} {}</body></html>",
                    status.as_u16(),
                    status.canonical_reason().unwrap_or("Error")
                ),
            )
                .into_response()
        }
        FaultAction::Outage | FaultAction::Timeout => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::CONTENT_TYPE, "text/html")],
            "<html><body>503 Service Unavailable</body></html>",
        )
            .into_response(),
        FaultAction::ConnectionReset => connection_reset(),
        FaultAction::LostAnswer(status) => lost_answer(status),
        FaultAction::EmptyBody => crate::emulator::faults::empty_body(),
        FaultAction::Html(status) => crate::emulator::faults::html_page(status),
        // Cut off before the Ack: a client must not read it as an answer.
        FaultAction::Malformed => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/xml;charset=utf-8")],
            format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><{call}Response xmlns=\"{NAMESPACE}\"><Timestamp>2026-"),
        )
            .into_response(),
        FaultAction::ExpiredToken => trading_failure(call, token_expired()),
    })
}

async fn trading(
    State(emulator): State<Emulator>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let call = header_text(&headers, "X-EBAY-API-CALL-NAME")
        .unwrap_or_default()
        .to_string();
    let token = header_text(&headers, "X-EBAY-API-IAF-TOKEN");
    let seller = emulator.seller_of(token);
    let response = trading_checked(&emulator, &call, token, &seller, &headers, &body).await;
    let api = match call.as_str() {
        "CompleteSale" => "ebay.CompleteSale",
        "GetOrders" => "ebay.GetOrders",
        _ => "ebay.trading",
    };
    emulator.record_call(&seller, api, response.status().as_u16());
    response
}

async fn trading_checked(
    emulator: &Emulator,
    call: &str,
    token: Option<&str>,
    seller: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    let api = if call == "CompleteSale" {
        ApiKind::Writeback
    } else {
        ApiKind::Trading
    };
    let target = CallTarget {
        marketplace: "ebay",
        api: Some(api),
        seller,
    };
    let action = emulator.fault(target, token).await;
    if let Some(FaultAction::LostAnswer(status)) = action {
        // The call takes effect; its answer never reaches the client.
        trading_served(emulator, call, token, seller, headers, body).await;
        return lost_answer(status);
    }
    if let Some(response) = trading_fault(call, action) {
        return response;
    }
    trading_served(emulator, call, token, seller, headers, body).await
}

/// A Trading call past the injected faults: checked, applied and answered.
async fn trading_served(
    emulator: &Emulator,
    call: &str,
    token: Option<&str>,
    seller: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    if !matches!(call, "CompleteSale" | "GetOrders") {
        return trading_failure(
            call,
            TradingError::request(
                UNSUPPORTED_CALL,
                "Unsupported API call.",
                &format!("The API call \"{call}\" is invalid or not supported in this release."),
            ),
        );
    }
    for (name, what) in [
        ("X-EBAY-API-SITEID", "site id"),
        ("X-EBAY-API-COMPATIBILITY-LEVEL", "compatibility level"),
    ] {
        if header_text(headers, name)
            .and_then(|v| v.parse::<u32>().ok())
            .is_none()
        {
            return trading_failure(
                call,
                TradingError::request(
                    INVALID_HEADER,
                    "Invalid header.",
                    &format!("Header {name} (the {what}) is missing or not a number."),
                ),
            );
        }
    }
    match token_state(emulator, token) {
        TokenState::Unknown => return trading_failure(call, token_invalid()),
        TokenState::Expired => return trading_failure(call, token_expired()),
        TokenState::Valid => {}
    }
    {
        let book = emulator.book();
        if !emulator.within_limit(&book, TRADING_QUOTA, seller) {
            return trading_failure(call, call_limit());
        }
    }
    let Some(text) = std::str::from_utf8(body).ok().filter(|t| {
        root_element(t)
            .is_some_and(|(name, ns)| name == format!("{call}Request") && ns == NAMESPACE)
    }) else {
        return trading_failure(
            call,
            TradingError::request(
                XML_PARSE_ERROR,
                "XML Parse error.",
                &format!(
                    "XML Error Text: the body is not a {call}Request in namespace {NAMESPACE}."
                ),
            ),
        );
    };
    match call {
        "CompleteSale" => complete_sale(emulator, seller, text),
        _ => get_orders(emulator, seller, text),
    }
}

/// The document's root element name and its default namespace.
fn root_element(text: &str) -> Option<(String, String)> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(text);
    loop {
        match reader.read_event().ok()? {
            Event::Start(e) | Event::Empty(e) => {
                let name = e.local_name().as_ref().to_string();
                let namespace = e
                    .attributes()
                    .flatten()
                    .find(|a| a.key.as_ref() == "xmlns")
                    .map(|a| a.value.to_string())
                    .unwrap_or_default();
                return Some((name, namespace));
            }
            Event::Eof => return None,
            _ => {}
        }
    }
}

fn parse_xml<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, TradingError> {
    quick_xml::de::from_str(text).map_err(|e| {
        TradingError::request(
            XML_PARSE_ERROR,
            "XML Parse error.",
            &format!("XML Error Text: {e}"),
        )
    })
}

fn text_of(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct CompleteSaleIn {
    #[serde(rename = "OrderID")]
    order_id: Option<String>,
    #[serde(rename = "OrderLineItemID")]
    order_line_item_id: Option<String>,
    #[serde(rename = "ItemID")]
    item_id: Option<String>,
    #[serde(rename = "TransactionID")]
    transaction_id: Option<String>,
    shipped: Option<String>,
    shipment: Option<ShipmentIn>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct ShipmentIn {
    shipment_tracking_details: Option<TrackingIn>,
    shipped_time: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct TrackingIn {
    shipment_tracking_number: Option<String>,
    shipping_carrier_used: Option<String>,
    shipment_line_item: Option<ShipmentLineItemIn>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct ShipmentLineItemIn {
    line_item: Vec<LineItemIn>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct LineItemIn {
    #[serde(rename = "ItemID")]
    item_id: Option<String>,
    #[serde(rename = "TransactionID")]
    transaction_id: Option<String>,
    quantity: Option<String>,
}

/// An order line item's id as eBay forms it: `ItemID-TransactionID`.
fn line_id(item_id: &str, transaction_id: &str) -> String {
    format!("{item_id}-{transaction_id}")
}

/// The parcel a CompleteSale tells of, as the units of each line in it: the lines of
/// its `ShipmentLineItem` and the line it names (`OrderLineItemID`, or `ItemID` and
/// `TransactionID`); without either, every line of the order in full. A line without a
/// `Quantity` is the whole line.
fn lines_shipped(
    request: &CompleteSaleIn,
    named_line: Option<&str>,
    order: &Order,
) -> Result<std::collections::BTreeMap<String, u32>, TradingError> {
    let listed: Vec<(String, Option<u32>)> = request
        .shipment
        .as_ref()
        .and_then(|s| s.shipment_tracking_details.as_ref())
        .and_then(|d| d.shipment_line_item.as_ref())
        .map(|s| {
            s.line_item
                .iter()
                .map(|l| {
                    let (Some(item), Some(transaction)) =
                        (text_of(&l.item_id), text_of(&l.transaction_id))
                    else {
                        return Err(TradingError::invalid_tag("LineItem"));
                    };
                    let quantity = match text_of(&l.quantity) {
                        None => None,
                        Some(q) => Some(
                            q.parse::<u32>()
                                .ok()
                                .filter(|q| *q > 0)
                                .ok_or_else(|| TradingError::invalid_tag("Quantity"))?,
                        ),
                    };
                    Ok((line_id(item, transaction), quantity))
                })
                .collect::<Result<_, _>>()
        })
        .transpose()?
        .unwrap_or_default();
    let mut lines = std::collections::BTreeMap::new();
    let ship =
        |lines: &mut std::collections::BTreeMap<String, u32>, line: &str, quantity: Option<u32>| {
            let Some(item) = order.items.get(line) else {
                return Err(TradingError::request(
                    INVALID_INPUT,
                    "Input data is invalid.",
                    &format!("Order line item {line} is not part of this order."),
                ));
            };
            lines.insert(line.to_string(), quantity.unwrap_or(item.quantity));
            Ok(())
        };
    // The parcel: the lines its ShipmentLineItem lists (a call naming one line sends
    // the whole parcel's content with it), the named line in any case, and without
    // either every line of the order.
    for (line, quantity) in &listed {
        ship(&mut lines, line, *quantity)?;
    }
    match named_line {
        Some(line) if !lines.contains_key(line) => ship(&mut lines, line, None)?,
        Some(_) => {}
        None if listed.is_empty() => {
            for line in order.items.keys() {
                ship(&mut lines, line, None)?;
            }
        }
        None => {}
    }
    Ok(lines)
}

/// What taking a package did to the order.
#[derive(Debug, PartialEq)]
enum Taken {
    /// A new package (parcel): its units count as shipped.
    Added,
    /// The tracking number of a package eBay has: its content is what was sent now (a
    /// parcel written back line by line sends it with each line; the same request
    /// again changes nothing).
    Updated,
    /// A parcel that cannot be a new one (its units would be more than the buyer
    /// bought) with the content of one eBay has, under a new tracking number: a
    /// correction. eBay keeps the earlier number beside the new one, and no unit counts
    /// twice.
    TrackingAdded,
}

/// A package that would ship more of a line than the buyer bought: (line, the total it
/// would make, the quantity bought).
struct TooMany(String, u32, u32);

/// The first line of `items` that, with what other packages than `except` ship, would
/// ship more than the buyer bought.
fn too_many(
    order: &Order,
    items: &std::collections::BTreeMap<String, u32>,
    except: &str,
) -> Option<TooMany> {
    items.iter().find_map(|(line, quantity)| {
        let ordered = order.items.get(line).map_or(0, |i| i.quantity);
        let total = order.shipped_elsewhere(line, except) + quantity;
        (total > ordered).then(|| TooMany(line.clone(), total, ordered))
    })
}

/// Takes a parcel as eBay does (see [`Taken`]). Parcels are named by the tracking
/// number they were first sent with. A parcel that would ship more of a line than was
/// bought, and is no correction, is refused and changes nothing.
///
/// Where eBay cannot tell (and neither can the emulator): a correction whose parcel
/// could also be a new one, because the line still has units unshipped, counts as a
/// new parcel.
fn take_package(order: &mut Order, package: super::Package) -> Result<Taken, TooMany> {
    let tracking = package.tracking_number.clone();
    let holding = order
        .packages
        .iter()
        .find(|(key, p)| **key == tracking || p.tracking_number == tracking)
        .map(|(key, _)| key.clone());
    if holding.is_none() && too_many(order, &package.items, &tracking).is_some() {
        // The newest parcel with the same content is the one corrected, whole.
        let corrected = order
            .packages
            .values_mut()
            .filter(|p| p.items == package.items)
            .max_by_key(|p| p.created);
        if let Some(corrected) = corrected {
            let before = (corrected.carrier.clone(), corrected.tracking_number.clone());
            corrected.earlier.push(before);
            corrected.carrier = package.carrier;
            corrected.service = package.service;
            corrected.tracking_number = package.tracking_number;
            corrected.ship_date = package.ship_date;
            return Ok(Taken::TrackingAdded);
        }
    }
    let key = holding.clone().unwrap_or_else(|| tracking.clone());
    let mut packages = order.packages.clone();
    let held = holding.as_ref().and_then(|k| packages.remove(k));
    // The parcel's lines as now sent replace what it held of them; its other lines stay
    // (CompleteSale names one line at a time, and the parcel holds them all).
    let mut items = held.as_ref().map(|p| p.items.clone()).unwrap_or_default();
    items.extend(package.items.clone());
    let mut earlier = held.as_ref().map(|p| p.earlier.clone()).unwrap_or_default();
    // Back to the number the parcel was first sent with: the one it has now is kept
    // among the earlier ones, as any other change of number.
    let mut moved = false;
    if let Some(held) = held.as_ref().filter(|p| p.tracking_number != tracking) {
        let before = (held.carrier.clone(), held.tracking_number.clone());
        if !earlier.contains(&before) {
            earlier.push(before);
        }
        moved = true;
    }
    // A line another parcel holds with the same quantity, which this one would ship a
    // second time, is a correction of that line's tracking: it moves here, and eBay
    // keeps the number it had beside the new one.
    for (line, quantity) in &package.items {
        let ordered = order.items.get(line).map_or(0, |i| i.quantity);
        let elsewhere: u32 = packages.values().map(|p| p.quantity_of(line)).sum();
        if elsewhere + quantity <= ordered {
            continue;
        }
        let from = packages
            .values_mut()
            .filter(|p| p.items.get(line) == Some(quantity))
            .max_by_key(|p| p.created);
        if let Some(from) = from {
            from.items.remove(line);
            let number = (from.carrier.clone(), from.tracking_number.clone());
            if !earlier.contains(&number) {
                earlier.push(number);
            }
            moved = true;
        }
    }
    packages.retain(|_, p| !p.items.is_empty());
    for (line, quantity) in &items {
        let ordered = order.items.get(line).map_or(0, |i| i.quantity);
        let total = packages.values().map(|p| p.quantity_of(line)).sum::<u32>() + quantity;
        if total > ordered {
            return Err(TooMany(line.clone(), total, ordered));
        }
    }
    let taken = if moved {
        Taken::TrackingAdded
    } else if held.is_some() {
        Taken::Updated
    } else {
        Taken::Added
    };
    packages.insert(
        key,
        super::Package {
            items,
            earlier,
            created: held.as_ref().map_or(package.created, |p| p.created),
            ..package
        },
    );
    order.packages = packages;
    Ok(taken)
}

/// Whether eBay knows the carrier code (its `ShippingCarrierCodeType` values).
fn ebay_carrier(code: &str) -> bool {
    crate::carriers::accepted_codes(crate::accounts::MarketplaceKind::Ebay).any(|c| c == code)
}

/// The order the seller may act on, if the book has it.
fn order_of<'a>(
    orders: &'a mut HashMap<String, Order>,
    order_id: &str,
    seller: &str,
) -> Option<&'a mut Order> {
    orders
        .get_mut(order_id)
        .filter(|o| o.marketplace == "ebay" && (o.seller.is_empty() || o.seller == seller))
}

fn complete_sale(emulator: &Emulator, seller: &str, text: &str) -> Response {
    const CALL: &str = "CompleteSale";
    let request: CompleteSaleIn = match parse_xml(text) {
        Ok(request) => request,
        Err(error) => return trading_failure(CALL, error),
    };
    let named_line = match (
        text_of(&request.order_line_item_id),
        text_of(&request.item_id),
        text_of(&request.transaction_id),
    ) {
        (Some(line), _, _) => Some(line.to_string()),
        (None, Some(item), Some(transaction)) => Some(line_id(item, transaction)),
        (None, Some(_), None) => {
            return trading_failure(CALL, TradingError::invalid_tag("TransactionID"))
        }
        _ => None,
    };
    match text_of(&request.shipped) {
        None | Some("true") => {}
        // Un-marking an order is not emulated; a request for it is refused, not ignored.
        Some(_) => return trading_failure(CALL, TradingError::invalid_tag("Shipped")),
    }
    let mut tracking = None;
    let mut shipped_time = Utc::now();
    if let Some(shipment) = &request.shipment {
        let details = shipment.shipment_tracking_details.as_ref();
        let Some(number) = details.and_then(|d| text_of(&d.shipment_tracking_number)) else {
            return trading_failure(CALL, TradingError::invalid_tag("ShipmentTrackingNumber"));
        };
        let Some(carrier) = details
            .and_then(|d| text_of(&d.shipping_carrier_used))
            .filter(|c| ebay_carrier(c))
        else {
            return trading_failure(CALL, TradingError::invalid_tag("ShippingCarrierUsed"));
        };
        tracking = Some((carrier.to_string(), number.to_string()));
        if let Some(time) = text_of(&shipment.shipped_time) {
            match DateTime::parse_from_rfc3339(time) {
                Ok(time) => shipped_time = time.with_timezone(&Utc),
                Err(_) => return trading_failure(CALL, TradingError::invalid_tag("ShippedTime")),
            }
        }
    }

    let mut book = emulator.book();
    // The order: the one named, or the one holding the line named.
    let order_id = match (text_of(&request.order_id), named_line.as_deref()) {
        (Some(order_id), _) => Some(order_id.to_string()),
        (None, Some(line)) => book
            .orders
            .iter()
            .find(|(_, o)| {
                o.marketplace == "ebay"
                    && (o.seller.is_empty() || o.seller == seller)
                    && o.items.contains_key(line)
            })
            .map(|(id, _)| id.clone()),
        (None, None) => return trading_failure(CALL, TradingError::invalid_tag("OrderID")),
    };
    let unknown = |what: &str| {
        trading_failure(
            CALL,
            TradingError::request(
                INVALID_ORDER_ID,
                "The order ID is invalid.",
                &format!("The {what} is invalid or does not belong to this seller."),
            ),
        )
    };
    let Some(order_id) = order_id else {
        return unknown(&format!(
            "order line item ID {}",
            named_line.unwrap_or_default()
        ));
    };
    let Some(order) = order_of(&mut book.orders, &order_id, seller) else {
        return unknown(&format!("order ID {order_id}"));
    };
    let lines = match lines_shipped(&request, named_line.as_deref(), order) {
        Ok(lines) => lines,
        Err(error) => return trading_failure(CALL, error),
    };
    let (carrier, number) = tracking.clone().unwrap_or_default();
    let package = super::Package {
        items: lines.clone(),
        carrier: carrier.clone(),
        service: String::new(),
        // Without tracking, the lines are marked shipped under a name of their own.
        tracking_number: if number.is_empty() {
            format!(
                "untracked:{}",
                lines.keys().cloned().collect::<Vec<_>>().join(",")
            )
        } else {
            number.clone()
        },
        ship_date: shipped_time,
        created: Utc::now(),
        earlier: Vec::new(),
    };
    let taken = match take_package(order, package) {
        Ok(taken) => taken,
        Err(TooMany(line, total, ordered)) => {
            return trading_failure(
                CALL,
                TradingError::request(
                    INVALID_INPUT,
                    "Input data is invalid.",
                    &format!(
                        "The quantity shipped for order line item {line} ({total}) exceeds the quantity purchased ({ordered})."
                    ),
                ),
            )
        }
    };
    if order.shipped_at.is_none() {
        order.shipped_at = Some(shipped_time);
    }
    if let Some(t) = tracking.clone().filter(|t| !order.tracking.contains(t)) {
        order.tracking.push(t);
    }
    order.settle(Utc::now());
    let warning = (taken == Taken::TrackingAdded).then(|| TradingError {
        code: TRACKING_ADDED,
        short: "The order was already shipped.".into(),
        long: format!(
            "Order {order_id} was already marked as shipped; the tracking number was added to it."
        ),
        warning: true,
        system: false,
    });
    let record = ConfirmationRecord {
        sequence: book.confirmations.len() as u64 + 1,
        marketplace: "ebay".into(),
        order_id: order_id.clone(),
        package_reference_id: number.clone(),
        received_at: Utc::now(),
        body: json!({
            "call": CALL,
            "OrderID": order_id,
            "OrderLineItemID": named_line,
            "Shipped": text_of(&request.shipped).unwrap_or("true"),
            "Lines": lines,
            "Shipment": request.shipment.as_ref().map(|_| json!({
                "ShipmentTrackingDetails": {
                    "ShipmentTrackingNumber": number,
                    "ShippingCarrierUsed": carrier,
                },
                "ShippedTime": iso(shipped_time),
            })),
        }),
    };
    book.confirmations.push(record);
    drop(book);
    match warning {
        Some(warning) => trading_answer(CALL, "Warning", &[warning], ""),
        None => trading_answer(CALL, "Success", &[], ""),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct GetOrdersIn {
    #[serde(rename = "OrderIDArray")]
    order_id_array: Option<OrderIdsIn>,
    mod_time_from: Option<String>,
    mod_time_to: Option<String>,
    order_role: Option<String>,
    order_status: Option<String>,
    pagination: Option<PaginationIn>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct OrderIdsIn {
    #[serde(rename = "OrderID")]
    order_ids: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct PaginationIn {
    entries_per_page: Option<String>,
    page_number: Option<String>,
}

/// The emulator's order states in eBay's words: a paid order is `Completed` whether
/// shipped or not (`ShippedTime` tells that).
fn ebay_status(_order: &Order) -> &'static str {
    "Completed"
}

fn order_xml(id: &str, order: &Order) -> String {
    let mut xml = format!(
        "<Order><OrderID>{}</OrderID><OrderStatus>{}</OrderStatus>\
         <CheckoutStatus><eBayPaymentStatus>NoPaymentFailure</eBayPaymentStatus>\
         <LastModifiedTime>{}</LastModifiedTime><Status>Complete</Status></CheckoutStatus>\
         <CreatedTime>{}</CreatedTime>",
        escape(id),
        ebay_status(order),
        iso(order.last_update),
        iso(order.purchase_date),
    );
    // The order counts as shipped once every line is; each line says so on its own.
    if let Some(shipped) = order.shipped_at.filter(|_| order.status == "Shipped") {
        xml.push_str(&format!("<ShippedTime>{}</ShippedTime>", iso(shipped)));
    }
    if !order.seller.is_empty() {
        xml.push_str(&format!(
            "<SellerUserID>{}</SellerUserID>",
            escape(order.seller.as_str())
        ));
    }
    xml.push_str("<TransactionArray>");
    for (line, item) in &order.items {
        xml.push_str(&format!(
            "<Transaction><Item><ItemID>{}</ItemID><Title>{}</Title><SKU>{}</SKU></Item>\
             <QuantityPurchased>{}</QuantityPurchased><OrderLineItemID>{}</OrderLineItemID>",
            escape(item.item_number.as_str()),
            escape(item.title.as_str()),
            escape(item.sku.as_str()),
            item.quantity,
            escape(line.as_str()),
        ));
        xml.push_str(&format!(
            "<ShippingServiceSelected><ShippingPackageInfo><HandleByTime>{}</HandleByTime>\
             </ShippingPackageInfo></ShippingServiceSelected>",
            iso(order.ship_by)
        ));
        // Every tracking number of every package holding this line, the earlier
        // numbers of a corrected package first: what the buyer sees.
        let tracking: String = order
            .packages
            .values()
            .filter(|p| p.quantity_of(line) > 0 && !p.tracking_number.starts_with("untracked:"))
            .flat_map(|p| {
                p.earlier.iter().cloned().chain(std::iter::once((
                    p.carrier.clone(),
                    p.tracking_number.clone(),
                )))
            })
            .map(|(carrier, number)| {
                format!(
                    "<ShipmentTrackingDetails><ShippingCarrierUsed>{}</ShippingCarrierUsed>\
                     <ShipmentTrackingNumber>{}</ShipmentTrackingNumber></ShipmentTrackingDetails>",
                    escape(carrier.as_str()),
                    escape(number.as_str())
                )
            })
            .collect();
        if !tracking.is_empty() {
            xml.push_str(&format!("<ShippingDetails>{tracking}</ShippingDetails>"));
        }
        if order.shipped_quantity(line) >= item.quantity {
            let shipped = order
                .packages
                .values()
                .filter(|p| p.quantity_of(line) > 0)
                .map(|p| p.ship_date)
                .max()
                .unwrap_or(order.last_update);
            xml.push_str(&format!("<ShippedTime>{}</ShippedTime>", iso(shipped)));
        }
        xml.push_str("</Transaction>");
    }
    xml.push_str("</TransactionArray></Order>");
    xml
}

fn get_orders(emulator: &Emulator, seller: &str, text: &str) -> Response {
    const CALL: &str = "GetOrders";
    let request: GetOrdersIn = match parse_xml(text) {
        Ok(request) => request,
        Err(error) => return trading_failure(CALL, error),
    };
    if text_of(&request.order_role).is_some_and(|r| r != "Seller") {
        // Shipback's sellers only sell; a buyer's view is not emulated.
        return trading_failure(CALL, TradingError::invalid_tag("OrderRole"));
    }
    let status = text_of(&request.order_status).unwrap_or("All");
    if ![
        "All",
        "Active",
        "Completed",
        "Cancelled",
        "CancelPending",
        "Inactive",
    ]
    .contains(&status)
    {
        return trading_failure(CALL, TradingError::invalid_tag("OrderStatus"));
    }
    let pagination = request.pagination.unwrap_or_default();
    let entries = match text_of(&pagination.entries_per_page).map(str::parse::<usize>) {
        None => 25,
        Some(Ok(n)) if (1..=100).contains(&n) => n,
        Some(_) => return trading_failure(CALL, TradingError::invalid_tag("EntriesPerPage")),
    };
    let page = match text_of(&pagination.page_number).map(str::parse::<usize>) {
        None => 1,
        Some(Ok(n)) if n >= 1 => n,
        Some(_) => return trading_failure(CALL, TradingError::invalid_tag("PageNumber")),
    };
    let ids: Vec<String> = request
        .order_id_array
        .map(|a| a.order_ids)
        .unwrap_or_default()
        .into_iter()
        .map(|id| id.trim().to_string())
        .filter(|id| !id.is_empty())
        .collect();
    if ids.len() > 100 {
        return trading_failure(CALL, TradingError::invalid_tag("OrderIDArray"));
    }
    let parse_time =
        |value: &Option<String>, tag: &str| -> Result<Option<DateTime<Utc>>, TradingError> {
            match text_of(value) {
                None => Ok(None),
                Some(t) => DateTime::parse_from_rfc3339(t)
                    .map(|t| Some(t.with_timezone(&Utc)))
                    .map_err(|_| TradingError::invalid_tag(tag)),
            }
        };
    let window = if ids.is_empty() {
        let from = match parse_time(&request.mod_time_from, "ModTimeFrom") {
            Ok(Some(from)) => from,
            // Without ids, eBay needs a time filter.
            Ok(None) => return trading_failure(CALL, TradingError::invalid_tag("ModTimeFrom")),
            Err(error) => return trading_failure(CALL, error),
        };
        let to = match parse_time(&request.mod_time_to, "ModTimeTo") {
            Ok(to) => to.unwrap_or_else(Utc::now),
            Err(error) => return trading_failure(CALL, error),
        };
        if from > to {
            return trading_failure(CALL, TradingError::invalid_tag("ModTimeTo"));
        }
        Some((from, to))
    } else {
        None
    };

    let book = emulator.book();
    let mut selected: Vec<(&String, &Order)> = book
        .orders
        .iter()
        .filter(|(_, o)| o.marketplace == "ebay")
        .filter(|(_, o)| status == "All" || ebay_status(o) == status)
        .filter(|(id, o)| match window {
            // An order without a seller may be acted on by any, but is listed to none.
            Some((from, to)) => o.seller == seller && from <= o.last_update && o.last_update <= to,
            None => ids.contains(id) && (o.seller.is_empty() || o.seller == seller),
        })
        .collect();
    // A stable order, so that pages neither repeat nor skip orders.
    selected.sort_by(|a, b| (a.1.last_update, a.0).cmp(&(b.1.last_update, b.0)));
    let total = selected.len();
    let pages = total.div_ceil(entries);
    let shown: Vec<String> = selected
        .iter()
        .skip((page - 1).saturating_mul(entries))
        .take(entries)
        .map(|(id, o)| order_xml(id, o))
        .collect();
    drop(book);
    let inner = format!(
        "<PaginationResult><TotalNumberOfPages>{pages}</TotalNumberOfPages>\
         <TotalNumberOfEntries>{total}</TotalNumberOfEntries></PaginationResult>\
         <HasMoreOrders>{}</HasMoreOrders><OrderArray>{}</OrderArray>\
         <OrdersPerPage>{entries}</OrdersPerPage><PageNumber>{page}</PageNumber>\
         <ReturnedOrderCountActual>{}</ReturnedOrderCountActual>",
        page < pages,
        shown.concat(),
        shown.len(),
    );
    trading_answer(CALL, "Success", &[], &inner)
}

// --- Sell Fulfillment API -------------------------------------------------------

/// The REST error shape: `{"errors": [{errorId, domain, category, message, ...}]}`.
fn rest_error(
    status: StatusCode,
    error_id: u32,
    domain: &str,
    category: &str,
    message: &str,
    long_message: Option<&str>,
    parameters: &[(&str, &str)],
) -> Response {
    let mut error = json!({
        "errorId": error_id,
        "domain": domain,
        "category": category,
        "message": message,
    });
    if let Some(long) = long_message {
        error["longMessage"] = json!(long);
    }
    if !parameters.is_empty() {
        error["parameters"] = parameters
            .iter()
            .map(|(name, value)| json!({"name": name, "value": value}))
            .collect();
    }
    let mut response = (status, Json(json!({ "errors": [error] }))).into_response();
    if status == StatusCode::TOO_MANY_REQUESTS {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    response
}

fn invalid_data(error_id: u32, message: &str, long: &str) -> Response {
    rest_error(
        StatusCode::BAD_REQUEST,
        error_id,
        "API_FULFILLMENT",
        "REQUEST",
        message,
        Some(long),
        &[],
    )
}

fn invalid_token() -> Response {
    rest_error(
        StatusCode::UNAUTHORIZED,
        1001,
        "OAuth",
        "REQUEST",
        "Invalid access token",
        Some("Invalid access token. Check the value of the Authorization HTTP request header."),
        &[],
    )
}

fn too_many_requests() -> Response {
    rest_error(
        StatusCode::TOO_MANY_REQUESTS,
        2001,
        "ACCESS",
        "REQUEST",
        "Too many requests",
        Some("The request limit has been reached for the resource."),
        &[],
    )
}

fn system_error(status: StatusCode) -> Response {
    rest_error(
        status,
        30500,
        "API_FULFILLMENT",
        "APPLICATION",
        "System error",
        Some("There was a problem with an eBay internal system or process. Contact eBay developer support for assistance."),
        &[],
    )
}

/// The answer for an injected fault, in the REST shapes.
fn rest_fault(action: Option<FaultAction>) -> Option<Response> {
    Some(match action? {
        FaultAction::Status(429) => too_many_requests(),
        FaultAction::Status(401) | FaultAction::ExpiredToken => invalid_token(),
        FaultAction::Status(404) => rest_error(
            StatusCode::NOT_FOUND,
            32100,
            "API_FULFILLMENT",
            "REQUEST",
            "Invalid order Id",
            None,
            &[],
        ),
        FaultAction::Status(status) if status < 500 => {
            let mut response = invalid_data(32600, "Invalid input data", "Invalid input data");
            *response.status_mut() =
                StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
            response
        }
        FaultAction::Status(status) => {
            system_error(StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE))
        }
        FaultAction::Outage | FaultAction::Timeout => system_error(StatusCode::SERVICE_UNAVAILABLE),
        FaultAction::ConnectionReset => connection_reset(),
        FaultAction::LostAnswer(status) => lost_answer(status),
        FaultAction::EmptyBody => crate::emulator::faults::empty_body(),
        FaultAction::Html(status) => crate::emulator::faults::html_page(status),
        FaultAction::Malformed => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            "{\"errors\": [{\"errorId\": ",
        )
            .into_response(),
    })
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    header_text(headers, "authorization")?
        .strip_prefix("Bearer ")
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

async fn create_shipping_fulfillment(
    State(emulator): State<Emulator>,
    Path(order_id): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let token = bearer(&headers);
    let seller = emulator.seller_of(token);
    let response =
        create_shipping_fulfillment_checked(&emulator, &seller, token, order_id, &headers, &body)
            .await;
    emulator.record_call(
        &seller,
        "ebay.createShippingFulfillment",
        response.status().as_u16(),
    );
    response
}

/// `getShippingFulfillments`: every fulfillment of the order, as a
/// `ShippingFulfillmentPagedCollection`.
async fn get_shipping_fulfillments(
    State(emulator): State<Emulator>,
    Path(order_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let token = bearer(&headers);
    let seller = emulator.seller_of(token);
    let response = match fulfillments_checked(&emulator, &seller, token, &order_id).await {
        Ok(fulfillments) => Json(json!({
            "fulfillments": fulfillments,
            "total": fulfillments.len(),
        }))
        .into_response(),
        Err(refusal) => refusal,
    };
    emulator.record_call(
        &seller,
        "ebay.getShippingFulfillments",
        response.status().as_u16(),
    );
    response
}

/// `getShippingFulfillment`: one fulfillment, by its id.
async fn get_shipping_fulfillment(
    State(emulator): State<Emulator>,
    Path((order_id, fulfillment_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let token = bearer(&headers);
    let seller = emulator.seller_of(token);
    let response = match fulfillments_checked(&emulator, &seller, token, &order_id).await {
        Ok(fulfillments) => match fulfillments
            .into_iter()
            .find(|f| f["fulfillmentId"] == fulfillment_id.as_str())
        {
            Some(fulfillment) => Json(fulfillment).into_response(),
            None => rest_error(
                StatusCode::NOT_FOUND,
                32110,
                "API_FULFILLMENT",
                "REQUEST",
                "Invalid shipping fulfillment Id",
                Some(&format!(
                    "Fulfillment {fulfillment_id} is not a fulfillment of order {order_id}."
                )),
                &[("fulfillmentId", &fulfillment_id)],
            ),
        },
        Err(refusal) => refusal,
    };
    emulator.record_call(
        &seller,
        "ebay.getShippingFulfillment",
        response.status().as_u16(),
    );
    response
}

/// The order's fulfillments as `ShippingFulfillment` objects (a fulfillment is named
/// by its first tracking number and shows its current one), or the refusal.
async fn fulfillments_checked(
    emulator: &Emulator,
    seller: &str,
    token: Option<&str>,
    order_id: &str,
) -> Result<Vec<Value>, Response> {
    let target = CallTarget {
        marketplace: "ebay",
        api: Some(ApiKind::Writeback),
        seller,
    };
    if let Some(response) = rest_fault(emulator.fault(target, token).await) {
        return Err(response);
    }
    match token_state(emulator, token) {
        TokenState::Unknown | TokenState::Expired => return Err(invalid_token()),
        TokenState::Valid => {}
    }
    let mut book = emulator.book();
    if !emulator.within_limit(&book, FULFILLMENT_QUOTA, seller) {
        return Err(too_many_requests());
    }
    let Some(order) = order_of(&mut book.orders, order_id, seller) else {
        return Err(rest_error(
            StatusCode::NOT_FOUND,
            32100,
            "API_FULFILLMENT",
            "REQUEST",
            "Invalid order Id",
            Some(&format!("Order {order_id} was not found.")),
            &[("orderId", order_id)],
        ));
    };
    Ok(order
        .packages
        .iter()
        .map(|(id, package)| {
            json!({
                "fulfillmentId": id,
                "lineItems": package.items.iter().map(|(line, quantity)| json!({
                    "lineItemId": line,
                    "quantity": quantity,
                })).collect::<Vec<_>>(),
                "shipmentTrackingNumber": package.tracking_number,
                "shippedDate": iso(package.ship_date),
                "shippingCarrierCode": package.carrier,
            })
        })
        .collect())
}

/// `ShippingFulfillmentDetails`' properties; anything else is refused.
const DETAILS_FIELDS: [&str; 4] = [
    "lineItems",
    "shippedDate",
    "shippingCarrierCode",
    "trackingNumber",
];

/// A valid `ShippingFulfillmentDetails`, read.
struct Fulfillment {
    lines: Vec<(String, u32)>,
    tracking: String,
    carrier: String,
}

/// Why a body is refused: the spec's errorId, message and long message.
type Invalid = (u32, &'static str, String);

/// The checks the spec implies; the first that fails names what is wrong.
fn validate_fulfillment(body: &Value) -> Result<Fulfillment, Invalid> {
    let Some(object) = body.as_object() else {
        return Err((
            32600,
            "Invalid input data",
            "The request body must be a ShippingFulfillmentDetails object.".to_string(),
        ));
    };
    if let Some(unknown) = object
        .keys()
        .find(|k| !DETAILS_FIELDS.contains(&k.as_str()))
    {
        return Err((
            32600,
            "Invalid input data",
            format!("'{unknown}' is not a field of ShippingFulfillmentDetails."),
        ));
    }
    let Some(lines) = object
        .get("lineItems")
        .and_then(Value::as_array)
        .filter(|a| !a.is_empty())
    else {
        return Err((
            32200,
            "Invalid line item id",
            "lineItems must be a non-empty array.".to_string(),
        ));
    };
    let mut quantities = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(id) = line
            .get("lineItemId")
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
        else {
            return Err((
                32200,
                "Invalid line item id",
                format!("lineItems[{i}].lineItemId is required and must be a string."),
            ));
        };
        let Some(quantity) = line
            .get("quantity")
            .and_then(Value::as_i64)
            .filter(|q| *q > 0)
            .and_then(|q| u32::try_from(q).ok())
        else {
            return Err((
                32600,
                "Invalid input data",
                format!("lineItems[{i}].quantity must be a positive integer."),
            ));
        };
        if let Some(extra) = line.as_object().and_then(|o| {
            o.keys()
                .find(|k| !["lineItemId", "quantity"].contains(&k.as_str()))
        }) {
            return Err((
                32600,
                "Invalid input data",
                format!("'{extra}' is not a field of LineItemReference."),
            ));
        }
        quantities.push((id.to_string(), quantity));
    }
    let text = |name: &str| {
        object
            .get(name)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
    };
    let (Some(tracking), Some(carrier)) = (
        text("trackingNumber"),
        text("shippingCarrierCode").filter(|c| ebay_carrier(c)),
    ) else {
        return Err((
            32300,
            "Invalid shipment tracking number or carrier",
            "trackingNumber and shippingCarrierCode are both required.".to_string(),
        ));
    };
    if let Some(date) = object.get("shippedDate") {
        let valid = date
            .as_str()
            .is_some_and(|d| DateTime::parse_from_rfc3339(d).is_ok());
        if !valid {
            return Err((
                32500,
                "Invalid shipped date",
                "shippedDate must be an ISO 8601 date-time, e.g. 2015-08-04T19:09:02.768Z."
                    .to_string(),
            ));
        }
    }
    Ok(Fulfillment {
        lines: quantities,
        tracking: tracking.to_string(),
        carrier: carrier.to_string(),
    })
}

async fn create_shipping_fulfillment_checked(
    emulator: &Emulator,
    seller: &str,
    token: Option<&str>,
    order_id: String,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    let target = CallTarget {
        marketplace: "ebay",
        api: Some(ApiKind::Writeback),
        seller,
    };
    let action = emulator.fault(target, token).await;
    if let Some(FaultAction::LostAnswer(status)) = action {
        // The fulfillment is created; its answer never reaches the client.
        fulfillment_served(emulator, seller, token, order_id, headers, body).await;
        return lost_answer(status);
    }
    if let Some(response) = rest_fault(action) {
        return response;
    }
    fulfillment_served(emulator, seller, token, order_id, headers, body).await
}

/// A createShippingFulfillment past the injected faults: checked, applied, answered.
async fn fulfillment_served(
    emulator: &Emulator,
    seller: &str,
    token: Option<&str>,
    order_id: String,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    match token_state(emulator, token) {
        TokenState::Unknown | TokenState::Expired => return invalid_token(),
        TokenState::Valid => {}
    }
    {
        let book = emulator.book();
        if !emulator.within_limit(&book, FULFILLMENT_QUOTA, seller) {
            return too_many_requests();
        }
    }
    let body: Value = match serde_json::from_slice(body) {
        Ok(body) => body,
        Err(e) => {
            return invalid_data(
                32600,
                "Invalid input data",
                &format!("The body is not JSON: {e}"),
            )
        }
    };
    let Fulfillment {
        lines,
        tracking,
        carrier,
    } = match validate_fulfillment(&body) {
        Ok(valid) => valid,
        Err((error_id, message, long)) => return invalid_data(error_id, message, &long),
    };
    let shipped_date = body
        .get("shippedDate")
        .and_then(Value::as_str)
        .and_then(|d| DateTime::parse_from_rfc3339(d).ok())
        .map_or_else(Utc::now, |d| d.with_timezone(&Utc));

    let mut book = emulator.book();
    let Some(order) = order_of(&mut book.orders, &order_id, seller) else {
        return rest_error(
            StatusCode::NOT_FOUND,
            32100,
            "API_FULFILLMENT",
            "REQUEST",
            "Invalid order Id",
            Some(&format!("Order {order_id} was not found.")),
            &[("orderId", &order_id)],
        );
    };
    // The fulfillment is named by its tracking number: the same one again replaces it;
    // the same lines under a new number add the number (see `take_package`).
    let mut items: std::collections::BTreeMap<String, u32> = Default::default();
    for (id, quantity) in &lines {
        if !order.items.contains_key(id) {
            return rest_error(
                StatusCode::BAD_REQUEST,
                32200,
                "API_FULFILLMENT",
                "REQUEST",
                "Invalid line item id",
                Some(&format!("Line item {id} is not part of order {order_id}.")),
                &[("lineItemId", id)],
            );
        }
        *items.entry(id.clone()).or_default() += quantity;
    }
    let package = super::Package {
        items,
        carrier: carrier.clone(),
        service: String::new(),
        tracking_number: tracking.clone(),
        ship_date: shipped_date,
        created: Utc::now(),
        earlier: Vec::new(),
    };
    if let Err(TooMany(line, total, ordered)) = take_package(order, package) {
        return invalid_data(
            32600,
            "Invalid input data",
            &format!("Quantity {total} for line item {line} exceeds the {ordered} ordered."),
        );
    }
    if order.shipped_at.is_none() {
        order.shipped_at = Some(shipped_date);
    }
    let entry = (carrier, tracking.clone());
    if !order.tracking.contains(&entry) {
        order.tracking.push(entry);
    }
    order.settle(Utc::now());
    let record = ConfirmationRecord {
        sequence: book.confirmations.len() as u64 + 1,
        marketplace: "ebay".into(),
        order_id: order_id.clone(),
        package_reference_id: tracking.clone(),
        received_at: Utc::now(),
        body,
    };
    book.confirmations.push(record);
    drop(book);

    let host = header_text(headers, "host").unwrap_or("localhost");
    let location = format!(
        "http://{host}/sell/fulfillment/v1/order/{}/shipping_fulfillment/{}",
        app::query::percent_encode(&order_id),
        app::query::percent_encode(&tracking)
    );
    let mut response = StatusCode::CREATED.into_response();
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn details() -> Value {
        json!({
            "lineItems": [{"lineItemId": "10001", "quantity": 1}],
            "shippedDate": "2026-11-25T14:02:00.000Z",
            "shippingCarrierCode": "UPS",
            "trackingNumber": "1Z"
        })
    }

    #[test]
    fn accepts_the_spec_example() {
        assert!(validate_fulfillment(&details()).is_ok());
    }

    #[test]
    fn refuses_what_the_spec_forbids() {
        let cases: Vec<(&str, Value)> = vec![
            ("/lineItems", json!([])),
            ("/lineItems/0/lineItemId", json!("")),
            ("/lineItems/0/quantity", json!(0)),
            ("/lineItems/0/quantity", json!("1")),
            ("/trackingNumber", Value::Null),
            ("/shippingCarrierCode", json!("")),
            ("/shippedDate", json!("25/11/2026")),
        ];
        for (pointer, value) in cases {
            let mut body = details();
            *body.pointer_mut(pointer).unwrap() = value.clone();
            assert!(
                validate_fulfillment(&body).is_err(),
                "{pointer} = {value} was accepted"
            );
        }
        let mut body = details();
        body["packageReferenceId"] = json!("1");
        assert!(
            validate_fulfillment(&body).is_err(),
            "unknown field accepted"
        );
    }

    #[test]
    fn reads_the_root_and_the_seller() {
        assert_eq!(
            root_element("<?xml version=\"1.0\"?><GetOrdersRequest xmlns=\"urn:ebay:apis:eBLBaseComponents\"/>"),
            Some(("GetOrdersRequest".into(), NAMESPACE.into()))
        );
        assert_eq!(root_element("not xml"), None);
        assert_eq!(
            seller_of_refresh_token("v^1.1#i^1#r^1#gadget-ebay"),
            "gadget-ebay"
        );
    }
}
