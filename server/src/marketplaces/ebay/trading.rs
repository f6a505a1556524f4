//! The Trading API's XML (namespace `urn:ebay:apis:eBLBaseComponents`): the
//! CompleteSale and GetOrders requests Shipback sends, their answers, and how an
//! answer's `Ack` and `Errors` read as an outcome.

use super::super::{
    ApiFailure, ApiKind, MarketplaceOrder, MarketplaceOrderItem, MarketplacePackage, ShipByWindow,
};
use crate::carriers::MarketplaceCarrier;
use crate::records::shipments::ClaimedShipment;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use std::time::Duration;

pub const NAMESPACE: &str = "urn:ebay:apis:eBLBaseComponents";
/// The schema version Shipback's requests and parsing follow.
pub const COMPATIBILITY_LEVEL: &str = "1331";
/// GetOrders' largest page.
pub const MAX_ENTRIES_PER_PAGE: u32 = 100;

/// "Auth token is invalid."
pub const TOKEN_INVALID: &str = "931";
/// "Auth token is hard expired."
pub const TOKEN_HARD_EXPIRED: &str = "932";
/// "Your application has exceeded usage limit on this call."
pub const CALL_LIMIT_EXCEEDED: &str = "518";
/// How long to wait after a 518: the daily quota refills over the day, so an hour is
/// the shortest wait that is likely to find calls again.
pub const CALL_LIMIT_WAIT: Duration = Duration::from_secs(3600);

fn iso(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Serialises a request with its root element and the XML declaration. quick-xml
/// escapes every text and attribute value.
fn to_xml<T: Serialize>(root: &str, request: &T) -> Result<String, quick_xml::SeError> {
    let body = quick_xml::se::to_string_with_root(root, request)?;
    Ok(format!("<?xml version=\"1.0\" encoding=\"utf-8\"?>{body}"))
}

/// `CompleteSaleRequest`, for one order line item: a shipment that covers some lines of
/// an order, or part of a line, is written back line by line (`OrderLineItemID`), each
/// with the units of the line in the package (`ShipmentLineItem`).
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CompleteSaleRequest {
    #[serde(rename = "@xmlns")]
    pub xmlns: &'static str,
    #[serde(rename = "OrderLineItemID")]
    pub order_line_item_id: String,
    pub shipped: bool,
    pub shipment: Shipment,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Shipment {
    pub shipment_tracking_details: ShipmentTrackingDetails,
    /// ISO 8601, UTC.
    pub shipped_time: String,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ShipmentTrackingDetails {
    pub shipment_tracking_number: String,
    pub shipping_carrier_used: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shipment_line_item: Option<ShipmentLineItem>,
}

/// `ShipmentLineItemType`: the order line items in the package, and how many of each.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ShipmentLineItem {
    pub line_item: Vec<LineItem>,
}

/// `LineItemType`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LineItem {
    #[serde(rename = "ItemID")]
    pub item_id: String,
    #[serde(rename = "TransactionID")]
    pub transaction_id: String,
    pub quantity: u32,
}

/// The CompleteSale requests of one shipment, one per order line item. Each names its
/// line (`OrderLineItemID`) and tells the whole parcel: every line in it with its units
/// (`ShipmentLineItem`), so that eBay knows the parcel whichever call it reads. An order
/// line item id is eBay's `ItemID-TransactionID`; a line given in another form is
/// written back whole, without units.
pub fn complete_sale_requests(
    shipment: &ClaimedShipment,
    carrier: &MarketplaceCarrier,
) -> Vec<CompleteSaleRequest> {
    let parcel: Vec<LineItem> = shipment
        .items
        .iter()
        .filter_map(|item| {
            let (item_id, transaction_id) = item.order_item_id.trim().rsplit_once('-')?;
            (!item_id.is_empty() && !transaction_id.is_empty()).then(|| LineItem {
                item_id: item_id.to_string(),
                transaction_id: transaction_id.to_string(),
                quantity: item.quantity,
            })
        })
        .collect();
    shipment
        .items
        .iter()
        .map(|item| CompleteSaleRequest {
            xmlns: NAMESPACE,
            order_line_item_id: item.order_item_id.trim().to_string(),
            shipped: true,
            shipment: Shipment {
                shipment_tracking_details: ShipmentTrackingDetails {
                    shipment_tracking_number: shipment.tracking_number.clone(),
                    shipping_carrier_used: carrier.code.clone(),
                    shipment_line_item: (!parcel.is_empty()).then(|| ShipmentLineItem {
                        line_item: parcel.clone(),
                    }),
                },
                shipped_time: iso(shipment.ship_date),
            },
        })
        .collect()
}

pub fn complete_sale_body(request: &CompleteSaleRequest) -> Result<String, quick_xml::SeError> {
    to_xml("CompleteSaleRequest", request)
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetOrdersRequest {
    #[serde(rename = "@xmlns")]
    pub xmlns: &'static str,
    #[serde(rename = "OrderIDArray", skip_serializing_if = "Option::is_none")]
    pub order_id_array: Option<OrderIdArray>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mod_time_from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mod_time_to: Option<String>,
    pub order_role: &'static str,
    pub order_status: &'static str,
    pub pagination: Pagination,
}

#[derive(Clone, Debug, Serialize)]
pub struct OrderIdArray {
    #[serde(rename = "OrderID")]
    pub order_ids: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Pagination {
    pub entries_per_page: u32,
    pub page_number: u32,
}

/// Which orders a GetOrders call asks for.
#[derive(Clone, Debug)]
pub enum OrdersFilter {
    /// Modified in `[from, to]`.
    Modified {
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    },
    /// These orders (at most 100).
    Ids(Vec<String>),
}

pub fn get_orders_body(filter: &OrdersFilter, page: u32) -> Result<String, quick_xml::SeError> {
    let (order_id_array, mod_time_from, mod_time_to) = match filter {
        OrdersFilter::Modified { from, to } => (None, Some(iso(*from)), Some(iso(*to))),
        OrdersFilter::Ids(ids) => (
            Some(OrderIdArray {
                order_ids: ids.clone(),
            }),
            None,
            None,
        ),
    };
    to_xml(
        "GetOrdersRequest",
        &GetOrdersRequest {
            xmlns: NAMESPACE,
            order_id_array,
            mod_time_from,
            mod_time_to,
            order_role: "Seller",
            order_status: "All",
            pagination: Pagination {
                entries_per_page: MAX_ENTRIES_PER_PAGE,
                page_number: page,
            },
        },
    )
}

/// `ErrorType`: one entry of an answer's `Errors`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ErrorType {
    pub short_message: Option<String>,
    pub long_message: Option<String>,
    pub error_code: Option<String>,
    /// `Error` or `Warning`.
    pub severity_code: Option<String>,
    /// `RequestError` or `SystemError`.
    pub error_classification: Option<String>,
}

impl ErrorType {
    fn code(&self) -> &str {
        self.error_code.as_deref().map(str::trim).unwrap_or("")
    }

    fn is_warning(&self) -> bool {
        self.severity_code.as_deref().map(str::trim) == Some("Warning")
    }

    /// "ShortMessage: LongMessage" without repeating what is the same.
    fn text(&self) -> String {
        let short = self.short_message.as_deref().unwrap_or("").trim();
        let long = self.long_message.as_deref().unwrap_or("").trim();
        match (short.is_empty(), long.is_empty()) {
            (_, true) => short.to_string(),
            (true, false) => long.to_string(),
            (false, false) if long.starts_with(short.trim_end_matches('.')) => long.to_string(),
            (false, false) => format!("{short} {long}"),
        }
    }
}

/// The part every Trading answer has (`AbstractResponseType`).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct AckResponse {
    pub ack: Option<String>,
    pub errors: Vec<ErrorType>,
}

/// What a Trading answer says happened.
#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    /// `Ack` Success, or Warning with the warnings' text.
    Success { warning: Option<String> },
    /// 931/932: the access token was refused; a fresh one may work.
    TokenRejected { code: String, message: String },
    /// 518: the daily call quota is spent.
    CallLimit { code: String, message: String },
    /// Any other Failure/PartialFailure: `SystemError` may pass, `RequestError` will not.
    Failed {
        code: String,
        message: String,
        retryable: bool,
    },
}

impl AckResponse {
    pub fn verdict(&self) -> Verdict {
        let ack = self.ack.as_deref().map(str::trim).unwrap_or("");
        match ack {
            "Success" => Verdict::Success { warning: None },
            "Warning" => {
                let warnings: Vec<String> = self
                    .errors
                    .iter()
                    .map(|e| format!("{} {}", e.code(), e.text()).trim().to_string())
                    .collect();
                Verdict::Success {
                    warning: Some(if warnings.is_empty() {
                        "eBay accepted the call with a warning".to_string()
                    } else {
                        warnings.join("; ")
                    }),
                }
            }
            "Failure" | "PartialFailure" => {
                // Warnings ride along with errors; the errors say why it failed.
                let errors: Vec<&ErrorType> =
                    self.errors.iter().filter(|e| !e.is_warning()).collect();
                let errors = if errors.is_empty() {
                    self.errors.iter().collect()
                } else {
                    errors
                };
                if let Some(e) = errors
                    .iter()
                    .find(|e| [TOKEN_INVALID, TOKEN_HARD_EXPIRED].contains(&e.code()))
                {
                    return Verdict::TokenRejected {
                        code: e.code().to_string(),
                        message: e.text(),
                    };
                }
                if let Some(e) = errors.iter().find(|e| e.code() == CALL_LIMIT_EXCEEDED) {
                    return Verdict::CallLimit {
                        code: e.code().to_string(),
                        message: e.text(),
                    };
                }
                let Some(first) = errors.first() else {
                    return Verdict::Failed {
                        code: format!("Ack{ack}"),
                        message: format!("eBay answered {ack} without saying why"),
                        retryable: true,
                    };
                };
                let message = errors
                    .iter()
                    .map(|e| e.text())
                    .filter(|t| !t.is_empty())
                    .collect::<Vec<_>>()
                    .join("; ");
                Verdict::Failed {
                    code: if first.code().is_empty() {
                        format!("Ack{ack}")
                    } else {
                        first.code().to_string()
                    },
                    message,
                    // Only eBay's own trouble is worth repeating; an unclassified error
                    // is taken as the request's fault, which retrying cannot mend.
                    retryable: errors.iter().any(|e| {
                        e.error_classification.as_deref().map(str::trim) == Some("SystemError")
                    }),
                }
            }
            other => Verdict::Failed {
                code: "MalformedResponse".into(),
                message: format!("the answer has no known Ack ({other:?})"),
                retryable: true,
            },
        }
    }
}

/// Parses a Trading answer.
pub fn parse<T: serde::de::DeserializeOwned>(api: ApiKind, body: &str) -> Result<T, ApiFailure> {
    let trimmed = body.trim_start();
    if trimmed.is_empty()
        || trimmed.to_ascii_lowercase().starts_with("<!doctype html")
        || trimmed.to_ascii_lowercase().starts_with("<html")
    {
        return Err(ApiFailure::malformed(
            api,
            Some(200),
            format!(
                "eBay's Trading API did not answer in XML: {}",
                super::super::unexpected_answer(body)
            ),
        ));
    }
    quick_xml::de::from_str(body).map_err(|e| {
        ApiFailure::malformed(
            api,
            Some(200),
            format!(
                "the answer is not Trading API XML ({e}): {}",
                body.chars().take(200).collect::<String>()
            ),
        )
    })
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct GetOrdersResponse {
    // Not a flattened `AckResponse`: quick-xml cannot read lists through `flatten`.
    pub ack: Option<String>,
    pub errors: Vec<ErrorType>,
    pub order_array: Option<OrderArray>,
    pub has_more_orders: Option<bool>,
    pub pagination_result: Option<PaginationResult>,
    pub page_number: Option<u32>,
    pub returned_order_count_actual: Option<u32>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct OrderArray {
    #[serde(rename = "Order")]
    pub orders: Vec<Order>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct PaginationResult {
    pub total_number_of_pages: Option<u32>,
    pub total_number_of_entries: Option<u32>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Order {
    #[serde(rename = "OrderID")]
    pub order_id: String,
    pub order_status: Option<String>,
    pub created_time: Option<String>,
    pub shipped_time: Option<String>,
    pub checkout_status: Option<CheckoutStatus>,
    pub transaction_array: Option<TransactionArray>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct CheckoutStatus {
    pub last_modified_time: Option<String>,
    pub status: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct TransactionArray {
    #[serde(rename = "Transaction")]
    pub transactions: Vec<Transaction>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Transaction {
    pub item: Option<Item>,
    pub quantity_purchased: Option<String>,
    #[serde(rename = "OrderLineItemID")]
    pub order_line_item_id: Option<String>,
    pub shipping_details: Option<ShippingDetails>,
    pub shipped_time: Option<String>,
    pub shipping_service_selected: Option<ShippingServiceSelected>,
}

/// The line's shipping as the buyer chose it; its packages' `HandleByTime` is when the
/// seller must have shipped at the latest.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ShippingServiceSelected {
    pub shipping_package_info: Vec<ShippingPackageInfo>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ShippingPackageInfo {
    pub handle_by_time: Option<String>,
}

/// The tracking numbers of the line's packages, as the buyer sees them.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ShippingDetails {
    pub shipment_tracking_details: Vec<TrackingDetails>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct TrackingDetails {
    pub shipping_carrier_used: Option<String>,
    pub shipment_tracking_number: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Item {
    #[serde(rename = "ItemID")]
    pub item_id: Option<String>,
    pub title: Option<String>,
    #[serde(rename = "SKU")]
    pub sku: Option<String>,
}

impl GetOrdersResponse {
    pub fn verdict(&self) -> Verdict {
        AckResponse {
            ack: self.ack.clone(),
            errors: self.errors.clone(),
        }
        .verdict()
    }
}

fn malformed(message: String) -> ApiFailure {
    ApiFailure::malformed(ApiKind::Trading, Some(200), message)
}

fn time(
    order_id: &str,
    field: &str,
    text: Option<&str>,
) -> Result<Option<DateTime<Utc>>, ApiFailure> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(t) => DateTime::parse_from_rfc3339(t)
            .map(|t| Some(t.with_timezone(&Utc)))
            .map_err(|e| {
                malformed(format!(
                    "order {order_id}: {field} {t:?} is not ISO 8601: {e}"
                ))
            }),
    }
}

fn non_empty(text: Option<String>) -> Option<String> {
    text.map(|t| t.trim().to_string()).filter(|t| !t.is_empty())
}

impl Order {
    pub fn into_marketplace_order(self) -> Result<MarketplaceOrder, ApiFailure> {
        let id = self.order_id.trim().to_string();
        if id.is_empty() {
            return Err(malformed("an order without OrderID".into()));
        }
        let created = time(&id, "CreatedTime", self.created_time.as_deref())?;
        let shipped_time = time(&id, "ShippedTime", self.shipped_time.as_deref())?;
        let modified = time(
            &id,
            "LastModifiedTime",
            self.checkout_status
                .as_ref()
                .and_then(|c| c.last_modified_time.as_deref()),
        )?;
        let last_updated = modified.or(created).ok_or_else(|| {
            malformed(format!(
                "order {id} has neither LastModifiedTime nor CreatedTime"
            ))
        })?;
        let shipped = shipped_time.is_some();
        // The order is late once its first line is: the earliest handle-by time.
        let mut handle_by: Option<DateTime<Utc>> = None;
        let mut packages: Vec<MarketplacePackage> = Vec::new();
        let mut items = Vec::new();
        for t in self
            .transaction_array
            .map(|a| a.transactions)
            .unwrap_or_default()
        {
            let line = non_empty(t.order_line_item_id)
                .ok_or_else(|| malformed(format!("order {id}: a line without OrderLineItemID")))?;
            let quantity = t
                .quantity_purchased
                .as_deref()
                .map(str::trim)
                .unwrap_or("")
                .parse::<u32>()
                .map_err(|_| {
                    malformed(format!(
                        "order {id}, line {line}: QuantityPurchased is not a count"
                    ))
                })?;
            let line_shipped = shipped
                || time(&id, "Transaction.ShippedTime", t.shipped_time.as_deref())?.is_some();
            // Each tracking number is a package; a line in several packages appears in
            // each. eBay does not say how many units each holds: the line's.
            for detail in t
                .shipping_details
                .map(|d| d.shipment_tracking_details)
                .unwrap_or_default()
            {
                let Some(number) = non_empty(detail.shipment_tracking_number) else {
                    continue;
                };
                let carrier = non_empty(detail.shipping_carrier_used).unwrap_or_default();
                match packages.iter_mut().find(|p| p.tracking_number == number) {
                    Some(package) => package.items.push((line.clone(), quantity)),
                    None => packages.push(MarketplacePackage {
                        reference_id: number.clone(),
                        carrier,
                        service: String::new(),
                        tracking_number: number,
                        ship_time: None,
                        items: vec![(line.clone(), quantity)],
                    }),
                }
            }
            for info in t
                .shipping_service_selected
                .map(|s| s.shipping_package_info)
                .unwrap_or_default()
            {
                let line_by = time(&id, "HandleByTime", info.handle_by_time.as_deref())?;
                handle_by = match (handle_by, line_by) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
            }
            let item = t.item.unwrap_or_default();
            items.push(MarketplaceOrderItem {
                order_item_id: line,
                sku: non_empty(item.sku),
                item_number: non_empty(item.item_id),
                title: non_empty(item.title),
                quantity_ordered: quantity,
                quantity_shipped: if line_shipped { quantity } else { 0 },
            });
        }
        Ok(MarketplaceOrder {
            order_id: id,
            status: non_empty(self.order_status).unwrap_or_else(|| "Unknown".into()),
            shipped,
            purchase_date: created,
            last_updated,
            items: Some(items),
            ship_by: handle_by.map(|latest| ShipByWindow {
                earliest: None,
                latest,
            }),
            packages,
        })
    }
}
