//! The marketplace APIs an account uses, as the connection-status panel names them.

use serde::{Deserialize, Serialize};

/// One of an account's marketplace APIs. Amazon accounts use Products, Writeback and
/// Orders; eBay accounts use Trading and Writeback.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApiKind {
    /// Catalog data of the items shipped (Amazon Catalog Items).
    Products,
    /// Writing shipments back (Amazon confirmShipment, eBay CompleteSale or
    /// createShippingFulfillment).
    Writeback,
    /// Importing orders and checking their status (Amazon Orders).
    Orders,
    /// Importing orders and checking their status (eBay Trading GetOrders).
    Trading,
}

impl ApiKind {
    pub const ALL: [ApiKind; 4] = [
        ApiKind::Products,
        ApiKind::Writeback,
        ApiKind::Orders,
        ApiKind::Trading,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ApiKind::Products => "products",
            ApiKind::Writeback => "writeback",
            ApiKind::Orders => "orders",
            ApiKind::Trading => "trading",
        }
    }

    pub fn parse(text: &str) -> Option<ApiKind> {
        Self::ALL.into_iter().find(|a| a.as_str() == text)
    }

    pub fn label(self) -> &'static str {
        match self {
            ApiKind::Products => "Products",
            ApiKind::Writeback => "Writeback",
            ApiKind::Orders => "Orders",
            ApiKind::Trading => "Trading",
        }
    }
}
