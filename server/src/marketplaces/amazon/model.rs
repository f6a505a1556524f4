//! Orders v0 `getOrders`/`getOrderItems` and Catalog Items 2022-04-01 `getCatalogItem`
//! answers, as `amazon-orders-v0.json` and `amazon-catalog-items-2022-04-01.json`
//! define them. Only the fields Shipback reads are declared; serde skips the rest.

use super::super::{ApiFailure, ApiKind, CatalogItem, MarketplaceOrder, Weight};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// `GetOrdersResponse`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct GetOrdersResponse {
    #[serde(default)]
    pub payload: Option<OrdersList>,
}

/// `OrdersList`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct OrdersList {
    pub orders: Vec<Order>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_updated_before: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_before: Option<String>,
}

/// `Order`: the required fields, and what Shipback shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Order {
    pub amazon_order_id: String,
    pub purchase_date: String,
    pub last_update_date: String,
    pub order_status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marketplace_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number_of_items_shipped: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number_of_items_unshipped: Option<u32>,
}

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

impl Order {
    pub fn into_marketplace_order(self) -> Result<MarketplaceOrder, ApiFailure> {
        Ok(MarketplaceOrder {
            purchase_date: Some(instant(
                ApiKind::Orders,
                "PurchaseDate",
                &self.purchase_date,
            )?),
            last_updated: instant(ApiKind::Orders, "LastUpdateDate", &self.last_update_date)?,
            shipped: self.order_status == "Shipped",
            status: self.order_status,
            order_id: self.amazon_order_id,
            items: None,
        })
    }
}

/// `GetOrderItemsResponse`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct GetOrderItemsResponse {
    #[serde(default)]
    pub payload: Option<OrderItemsList>,
}

/// `OrderItemsList`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct OrderItemsList {
    pub order_items: Vec<OrderItem>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
    pub amazon_order_id: String,
}

/// `OrderItem`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct OrderItem {
    #[serde(rename = "ASIN")]
    pub asin: String,
    #[serde(rename = "SellerSKU", default, skip_serializing_if = "Option::is_none")]
    pub seller_sku: Option<String>,
    pub order_item_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    pub quantity_ordered: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity_shipped: Option<u32>,
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
