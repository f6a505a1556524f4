//! The Sell Fulfillment API's `createShippingFulfillment`, its body and error shape as
//! `ebay-sell-fulfillment-v1.json` defines them (`ShippingFulfillmentDetails`,
//! `LineItemReference`, `ErrorDetailV3`).

use super::super::{unexpected_answer, ApiFailure, ApiKind, MarketplacePackage};
use crate::carriers::MarketplaceCarrier;
use crate::records::shipments::ClaimedShipment;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// `ShippingFulfillmentDetails`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShippingFulfillmentDetails {
    pub line_items: Vec<LineItemReference>,
    /// `[YYYY]-[MM]-[DD]T[hh]:[mm]:[ss].[sss]Z`.
    pub shipped_date: String,
    pub shipping_carrier_code: String,
    pub tracking_number: String,
}

/// `LineItemReference`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LineItemReference {
    pub line_item_id: String,
    pub quantity: i32,
}

/// The body for one shipment: its lines are eBay line items (the station's
/// `order_item_id` is eBay's `lineItemId`).
pub fn shipping_fulfillment(
    shipment: &ClaimedShipment,
    carrier: &MarketplaceCarrier,
) -> ShippingFulfillmentDetails {
    ShippingFulfillmentDetails {
        line_items: shipment
            .items
            .iter()
            .map(|i| LineItemReference {
                line_item_id: i.order_item_id.clone(),
                quantity: i32::try_from(i.quantity).unwrap_or(i32::MAX),
            })
            .collect(),
        shipped_date: shipment
            .ship_date
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        shipping_carrier_code: carrier.code.clone(),
        tracking_number: shipment.tracking_number.clone(),
    }
}

/// `ShippingFulfillmentPagedCollection`: what `getShippingFulfillments` answers.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShippingFulfillmentPagedCollection {
    #[serde(default)]
    pub fulfillments: Vec<ShippingFulfillment>,
    #[serde(default)]
    pub total: i32,
}

/// `ShippingFulfillment`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShippingFulfillment {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fulfillment_id: Option<String>,
    #[serde(default)]
    pub line_items: Vec<LineItemReference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipment_tracking_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipped_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_carrier_code: Option<String>,
}

impl ShippingFulfillment {
    /// The fulfillment as a package of the order.
    pub fn package(&self) -> MarketplacePackage {
        MarketplacePackage {
            reference_id: self.fulfillment_id.clone().unwrap_or_default(),
            carrier: self.shipping_carrier_code.clone().unwrap_or_default(),
            service: String::new(),
            tracking_number: self.shipment_tracking_number.clone().unwrap_or_default(),
            ship_time: self
                .shipped_date
                .as_deref()
                .and_then(|d| chrono::DateTime::parse_from_rfc3339(d).ok())
                .map(|d| d.with_timezone(&chrono::Utc)),
            items: self
                .line_items
                .iter()
                .map(|l| {
                    (
                        l.line_item_id.clone(),
                        u32::try_from(l.quantity).unwrap_or(0),
                    )
                })
                .collect(),
        }
    }
}

/// The error body of every eBay REST API.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ErrorResponse {
    #[serde(default)]
    pub errors: Vec<ErrorDetail>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ErrorDetail {
    pub error_id: Option<i64>,
    pub domain: Option<String>,
    pub category: Option<String>,
    pub message: Option<String>,
    pub long_message: Option<String>,
    pub parameters: Vec<ErrorParameter>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ErrorParameter {
    pub name: Option<String>,
    pub value: Option<String>,
}

impl ErrorDetail {
    fn text(&self) -> String {
        let message = self.message.as_deref().unwrap_or("").trim();
        let long = self.long_message.as_deref().unwrap_or("").trim();
        let mut text = match (message.is_empty(), long.is_empty()) {
            (_, true) => message.to_string(),
            (true, false) => long.to_string(),
            (false, false) if long.starts_with(message.trim_end_matches('.')) => long.to_string(),
            (false, false) => format!("{message} ({long})"),
        };
        let parameters: Vec<String> = self
            .parameters
            .iter()
            .filter_map(|p| Some(format!("{}={}", p.name.as_deref()?, p.value.as_deref()?)))
            .collect();
        if !parameters.is_empty() {
            text.push_str(&format!(" [{}]", parameters.join(", ")));
        }
        text
    }
}

/// An error answer, read in the REST error shape and classified by its status.
pub fn failure(status: u16, retry_after: Option<Duration>, body: &str) -> ApiFailure {
    let errors = serde_json::from_str::<ErrorResponse>(body)
        .map(|r| r.errors)
        .unwrap_or_default();
    let (code, message) = match errors.first() {
        Some(first) => (
            first
                .error_id
                .map_or_else(|| format!("HTTP{status}"), |id| id.to_string()),
            errors
                .iter()
                .map(ErrorDetail::text)
                .filter(|t| !t.is_empty())
                .collect::<Vec<_>>()
                .join("; "),
        ),
        None => (format!("HTTP{status}"), unexpected_answer(body)),
    };
    ApiFailure {
        api: ApiKind::Writeback,
        http_status: Some(status),
        code,
        message,
        // 400 (invalid data) and 404 (no such order) cannot pass on a retry; a refused
        // authorisation can be restored by the seller, and eBay's trouble passes.
        retryable: matches!(status, 401 | 403 | 408 | 429 | 500..=599),
        retry_after,
    }
}
