//! Orders and catalog items as the marketplaces report them, kept so that a shipment
//! can be checked against its order and shown with its items.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// An order as the marketplace reports it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MarketplaceOrder {
    pub order_id: String,
    /// The marketplace's own word for the order's state (Amazon `OrderStatus`, eBay
    /// `OrderStatus`), shown as is.
    pub status: String,
    /// The marketplace shows the order as shipped (Amazon `Shipped`, eBay `ShippedTime`).
    pub shipped: bool,
    pub purchase_date: Option<DateTime<Utc>>,
    pub last_updated: DateTime<Utc>,
    /// The order's lines, when the answer carries them (it does for Amazon's Orders
    /// API 2026-01-01 and eBay's GetOrders).
    pub items: Option<Vec<MarketplaceOrderItem>>,
    /// When the order must ship at the latest, if the marketplace says (Amazon
    /// `fulfillment.shipByWindow`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ship_by: Option<ShipByWindow>,
    /// The packages the marketplace holds for the order, with what the buyer sees of
    /// each: carrier, service, tracking number.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub packages: Vec<MarketplacePackage>,
}

/// The window in which an order must be shipped.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ShipByWindow {
    pub earliest: Option<DateTime<Utc>>,
    pub latest: DateTime<Utc>,
}

/// One package of an order, as the marketplace holds it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MarketplacePackage {
    /// Amazon `packageReferenceId`: what Shipback sent it under (the shipment's row id).
    pub reference_id: String,
    pub carrier: String,
    pub service: String,
    pub tracking_number: String,
    pub ship_time: Option<DateTime<Utc>>,
    /// (order item id, quantity).
    pub items: Vec<(String, u32)>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MarketplaceOrderItem {
    /// Amazon `OrderItemId`, eBay line item id: what a write-back names the line by.
    pub order_item_id: String,
    pub sku: Option<String>,
    /// Amazon's ASIN or eBay's item id: the key of the item in the marketplace catalog.
    pub item_number: Option<String>,
    pub title: Option<String>,
    pub quantity_ordered: u32,
    pub quantity_shipped: u32,
}

/// Catalog data of one item (Amazon Catalog Items).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CatalogItem {
    pub item_number: String,
    pub title: Option<String>,
    pub weight: Option<Weight>,
    pub image_url: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Weight {
    pub value: f64,
    pub unit: String,
}
