//! Orders API 2026-01-01 `searchOrders`/`getOrder` and Catalog Items 2022-04-01
//! `getCatalogItem` answers, as `amazon-orders-2026-01-01.json` and
//! `amazon-catalog-items-2022-04-01.json` define them. Only the fields Shipback reads
//! are declared; serde skips the rest.

use super::super::{ApiFailure, ApiKind, CatalogItem, MarketplaceOrder, Weight};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

fn instant(api: ApiKind, field: &str, text: &str) -> Result<DateTime<Utc>, ApiFailure> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| {
            ApiFailure::malformed(
                api,
                Some(200),
                format!("{field} '{text}' is not an ISO 8601 date-time: {e}"),
            )
        })
}

/// Orders API 2026-01-01 (`searchOrders`, `getOrder`), as
/// `amazon-orders-2026-01-01.json` defines it.
pub mod orders {
    use super::*;
    use crate::marketplaces::{MarketplaceOrderItem, MarketplacePackage, ShipByWindow};

    /// `SearchOrdersResponse`.
    #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct SearchOrdersResponse {
        pub orders: Vec<Order>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub pagination: Option<Pagination>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub last_updated_before: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub created_before: Option<String>,
    }

    /// `Pagination`.
    #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Pagination {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub next_token: Option<String>,
    }

    /// `GetOrderResponse`.
    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    pub struct GetOrderResponse {
        pub order: Order,
    }

    /// `Order`: the required fields, and what Shipback reads.
    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Order {
        pub order_id: String,
        pub created_time: String,
        pub last_updated_time: String,
        pub sales_channel: SalesChannel,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub fulfillment: Option<OrderFulfillment>,
        pub order_items: Vec<OrderItem>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub packages: Option<Vec<OrderPackage>>,
    }

    /// `SalesChannel`.
    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct SalesChannel {
        pub channel_name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub marketplace_id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub marketplace_name: Option<String>,
    }

    /// `OrderFulfillment`.
    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct OrderFulfillment {
        pub fulfillment_status: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub fulfilled_by: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub ship_by_window: Option<DateTimeRange>,
    }

    /// `DateTimeRange`.
    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct DateTimeRange {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub earliest_date_time: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub latest_date_time: Option<String>,
    }

    /// `OrderItem`.
    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct OrderItem {
        pub order_item_id: String,
        pub quantity_ordered: u32,
        pub product: ItemProduct,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub fulfillment: Option<ItemFulfillment>,
    }

    /// `ItemProduct`.
    #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct ItemProduct {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub asin: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub title: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub seller_sku: Option<String>,
    }

    /// `ItemFulfillment`.
    #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct ItemFulfillment {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub quantity_fulfilled: Option<u32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub quantity_unfulfilled: Option<u32>,
    }

    /// `OrderPackage`.
    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct OrderPackage {
        pub package_reference_id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub created_time: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub package_status: Option<PackageStatus>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub carrier: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub ship_time: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub shipping_service: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub tracking_number: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub package_items: Option<Vec<PackageItem>>,
    }

    /// `PackageStatus`.
    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct PackageStatus {
        pub status: String,
    }

    /// `PackageItem`.
    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct PackageItem {
        pub order_item_id: String,
        pub quantity: u32,
    }

    fn optional_instant(
        field: &str,
        text: Option<&str>,
    ) -> Result<Option<DateTime<Utc>>, ApiFailure> {
        text.map(|t| instant(ApiKind::Orders, field, t)).transpose()
    }

    impl Order {
        /// The order as Shipback keeps it. Its state is the `fulfillmentStatus`
        /// (`UNSHIPPED`, `PARTIALLY_SHIPPED`, `SHIPPED`, …), shown as Amazon words it.
        pub fn into_marketplace_order(self) -> Result<MarketplaceOrder, ApiFailure> {
            let status = self
                .fulfillment
                .as_ref()
                .map(|f| f.fulfillment_status.clone())
                .unwrap_or_default();
            let window = self
                .fulfillment
                .as_ref()
                .and_then(|f| f.ship_by_window.as_ref());
            let ship_by = match window {
                None => None,
                Some(w) => {
                    let earliest = optional_instant(
                        "shipByWindow.earliestDateTime",
                        w.earliest_date_time.as_deref(),
                    )?;
                    let latest = optional_instant(
                        "shipByWindow.latestDateTime",
                        w.latest_date_time.as_deref(),
                    )?;
                    latest.map(|latest| ShipByWindow { earliest, latest })
                }
            };
            let mut packages = Vec::new();
            for p in self.packages.unwrap_or_default() {
                packages.push(MarketplacePackage {
                    ship_time: optional_instant("packages.shipTime", p.ship_time.as_deref())?,
                    reference_id: p.package_reference_id,
                    carrier: p.carrier.unwrap_or_default(),
                    service: p.shipping_service.unwrap_or_default(),
                    tracking_number: p.tracking_number.unwrap_or_default(),
                    items: p
                        .package_items
                        .unwrap_or_default()
                        .into_iter()
                        .map(|i| (i.order_item_id, i.quantity))
                        .collect(),
                });
            }
            Ok(MarketplaceOrder {
                purchase_date: Some(instant(ApiKind::Orders, "createdTime", &self.created_time)?),
                last_updated: instant(ApiKind::Orders, "lastUpdatedTime", &self.last_updated_time)?,
                shipped: status == "SHIPPED",
                status,
                order_id: self.order_id,
                items: Some(
                    self.order_items
                        .into_iter()
                        .map(|i| MarketplaceOrderItem {
                            quantity_shipped: i
                                .fulfillment
                                .and_then(|f| f.quantity_fulfilled)
                                .unwrap_or(0),
                            order_item_id: i.order_item_id,
                            sku: i.product.seller_sku,
                            item_number: i.product.asin,
                            title: i.product.title,
                            quantity_ordered: i.quantity_ordered,
                        })
                        .collect(),
                ),
                ship_by,
                packages,
            })
        }
    }
}

/// Catalog Items 2022-04-01.
pub mod catalog {
    use super::*;

    /// `Item`.
    #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
    pub struct Item {
        pub asin: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub summaries: Vec<Summary>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub dimensions: Vec<DimensionsByMarketplace>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub images: Vec<ImagesByMarketplace>,
    }

    /// `ItemSummaryByMarketplace`.
    #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Summary {
        pub marketplace_id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub item_name: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub brand: Option<String>,
    }

    /// `ItemDimensionsByMarketplace`.
    #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct DimensionsByMarketplace {
        pub marketplace_id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub item: Option<Dimensions>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub package: Option<Dimensions>,
    }

    /// `Dimensions`.
    #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
    pub struct Dimensions {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub weight: Option<Dimension>,
    }

    /// `Dimension`.
    #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
    pub struct Dimension {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub unit: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub value: Option<f64>,
    }

    /// `ItemImagesByMarketplace`.
    #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct ImagesByMarketplace {
        pub marketplace_id: String,
        pub images: Vec<Image>,
    }

    /// `ItemImage`.
    #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
    pub struct Image {
        pub variant: String,
        pub link: String,
        pub height: u32,
        pub width: u32,
    }

    impl Item {
        /// What Shipback keeps of an item: its name, its weight (the package's, which is
        /// what ships, else the item's) and its main image, for one marketplace.
        pub fn into_catalog_item(self, marketplace_id: &str) -> CatalogItem {
            let here = |id: &String| id == marketplace_id;
            let title = self
                .summaries
                .iter()
                .find(|s| here(&s.marketplace_id))
                .or(self.summaries.first())
                .and_then(|s| s.item_name.clone());
            let weight = self
                .dimensions
                .iter()
                .find(|d| here(&d.marketplace_id))
                .or(self.dimensions.first())
                .and_then(|d| {
                    d.package
                        .as_ref()
                        .and_then(|p| p.weight.clone())
                        .or_else(|| d.item.as_ref().and_then(|i| i.weight.clone()))
                })
                .and_then(|w| {
                    Some(Weight {
                        value: w.value?,
                        unit: w.unit.unwrap_or_else(|| "pounds".into()),
                    })
                });
            let image_url = self
                .images
                .iter()
                .find(|i| here(&i.marketplace_id))
                .or(self.images.first())
                .and_then(|i| {
                    i.images
                        .iter()
                        .filter(|img| img.variant == "MAIN")
                        .max_by_key(|img| img.width)
                })
                .map(|img| img.link.clone());
            CatalogItem {
                item_number: self.asin,
                title,
                weight,
                image_url,
            }
        }
    }
}
