//! Marketplace accounts: the seller accounts shipments are written back to.

use crate::secrets::Secret;
use app::marketplace::ApiKind;
use serde::{Deserialize, Serialize};

/// Which marketplace an account sells on. The worker never branches on it: it picks
/// the marketplace's adapter from [`crate::marketplaces::Marketplaces`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MarketplaceKind {
    Amazon,
    Ebay,
}

impl MarketplaceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MarketplaceKind::Amazon => "amazon",
            MarketplaceKind::Ebay => "ebay",
        }
    }

    pub fn parse(text: &str) -> Option<MarketplaceKind> {
        match text {
            "amazon" => Some(MarketplaceKind::Amazon),
            "ebay" => Some(MarketplaceKind::Ebay),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            MarketplaceKind::Amazon => "Amazon",
            MarketplaceKind::Ebay => "eBay",
        }
    }

    /// The APIs the status panel shows for this marketplace's accounts, in the manual's
    /// order.
    pub fn apis(self) -> &'static [ApiKind] {
        match self {
            MarketplaceKind::Amazon => &[ApiKind::Products, ApiKind::Writeback, ApiKind::Orders],
            MarketplaceKind::Ebay => &[ApiKind::Trading, ApiKind::Writeback],
        }
    }
}

/// The secrets a marketplace client signs in with. The secret parts are [`Secret`]s:
/// sealed in the database, redacted in `Debug`, never serialised.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credentials {
    pub client_id: String,
    pub client_secret: Secret,
    pub refresh_token: Secret,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    pub id: i64,
    /// The name the shipping station uses for this account.
    pub key: String,
    pub marketplace: MarketplaceKind,
    pub display_name: String,
    pub company: String,
    pub enabled: bool,
    /// Amazon's marketplace id (ATVPDKIKX0DER for amazon.com), or eBay's site id.
    pub marketplace_id: String,
    pub region: String,
    /// Where the marketplace's API is served: the real endpoint or the emulator.
    pub api_base_url: String,
    /// Where access tokens are obtained.
    pub auth_base_url: String,
    pub credentials: Credentials,
    /// Which API writes back where the marketplace offers two ("" = its default). eBay:
    /// `trading` (CompleteSale) or `fulfillment` (createShippingFulfillment).
    pub writeback_api: String,
}

/// An account to register (the id is given by the store).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewAccount {
    pub key: String,
    pub marketplace: MarketplaceKind,
    pub display_name: String,
    pub company: String,
    pub enabled: bool,
    pub marketplace_id: String,
    pub region: String,
    pub api_base_url: String,
    pub auth_base_url: String,
    pub credentials: Credentials,
    pub writeback_api: String,
}
