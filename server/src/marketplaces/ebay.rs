//! eBay: OAuth user tokens, Trading API CompleteSale and GetOrders, and the Sell
//! Fulfillment API's createShippingFulfillment.

use super::{
    ApiFailure, ApiKind, CatalogItem, ClientConfig, MarketplaceAdapter, MarketplaceOrder,
    MarketplaceOrderItem, OrderUpdates, WritebackResult,
};
use crate::accounts::Account;
use crate::store::ClaimedShipment;
use chrono::{DateTime, Utc};

pub struct EbayClient {
    http: reqwest::Client,
}

impl EbayClient {
    pub fn new(http: reqwest::Client, _config: &ClientConfig) -> EbayClient {
        EbayClient { http }
    }
}

fn not_built(api: ApiKind) -> ApiFailure {
    ApiFailure {
        api,
        http_status: None,
        code: "NotBuilt".into(),
        message: "the eBay client is being built".into(),
        retryable: false,
        retry_after: None,
    }
}

#[async_trait::async_trait]
impl MarketplaceAdapter for EbayClient {
    fn apis(&self) -> &'static [ApiKind] {
        &[ApiKind::Trading, ApiKind::Writeback]
    }

    fn orders_api(&self) -> ApiKind {
        ApiKind::Trading
    }

    async fn writeback_ready(&self, _account: &Account) {}

    async fn write_back(&self, _account: &Account, _shipment: &ClaimedShipment) -> WritebackResult {
        let _ = &self.http;
        WritebackResult::Permanent {
            http_status: None,
            code: "NotBuilt".into(),
            message: "the eBay client is being built".into(),
        }
    }

    async fn orders_updated_since(
        &self,
        _account: &Account,
        _since: DateTime<Utc>,
    ) -> Result<OrderUpdates, ApiFailure> {
        Err(not_built(ApiKind::Trading))
    }

    async fn orders_by_id(
        &self,
        _account: &Account,
        _order_ids: &[String],
    ) -> Result<Vec<MarketplaceOrder>, ApiFailure> {
        Err(not_built(ApiKind::Trading))
    }

    async fn order_items(
        &self,
        _account: &Account,
        _order_id: &str,
    ) -> Result<Vec<MarketplaceOrderItem>, ApiFailure> {
        Err(not_built(ApiKind::Trading))
    }

    async fn catalog_item(
        &self,
        _account: &Account,
        _item_number: &str,
    ) -> Result<Option<CatalogItem>, ApiFailure> {
        Ok(None)
    }
}
