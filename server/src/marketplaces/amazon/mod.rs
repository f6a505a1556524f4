//! Amazon Selling Partner API: Login with Amazon tokens, Orders v0 `confirmShipment`
//! (the write-back, which stays on v0), Orders API 2026-01-01 (`searchOrders` to
//! import orders, `getOrder` to read them back) and Catalog Items 2022-04-01
//! (`getCatalogItem`).
//!
//! Request and error bodies follow `amazon-orders-v0.json` (ConfirmShipmentRequest,
//! PackageDetail, ConfirmShipmentOrderItem, ConfirmShipmentErrorResponse) field for field.

pub mod model;

use super::access_tokens::{AccessTokenCache, AccessTokenError, FreshToken};
use super::rate_limit::{self, AccountLimiter};
use super::{
    network_failure, retry_after, unexpected_answer, unmapped_carrier, ApiFailure, ApiKind,
    CatalogItem, ClientConfig, MarketplaceAdapter, MarketplaceOrder, Operation, OrderUpdates,
    WritebackResult,
};
use crate::accounts::Account;
use crate::carriers::MarketplaceCarrier;
use crate::records::shipments::ClaimedShipment;
use chrono::{DateTime, Utc};
use model::catalog;
use model::orders::{GetOrderResponse, SearchOrdersResponse};
use serde::{Deserialize, Serialize};

/// `POST /orders/v0/orders/{orderId}/shipmentConfirmation` body.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfirmShipmentRequest {
    pub marketplace_id: String,
    pub package_detail: PackageDetail,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cod_collection_method: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PackageDetail {
    /// Positive number, unique per package within the order.
    pub package_reference_id: String,
    pub carrier_code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub carrier_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shipping_method: Option<String>,
    pub tracking_number: String,
    /// ISO 8601 date-time.
    pub ship_date: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ship_from_supply_source_id: Option<String>,
    pub order_items: Vec<ConfirmShipmentOrderItem>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfirmShipmentOrderItem {
    pub order_item_id: String,
    pub quantity: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transparency_codes: Option<Vec<String>>,
}

/// `ConfirmShipmentErrorResponse` / `ErrorList` / `Error`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ErrorResponse {
    #[serde(default)]
    pub errors: Vec<ApiError>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ApiError {
    pub code: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
}

/// Login with Amazon's answer to a refresh-token exchange.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: String,
    pub expires_in: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

/// The body Amazon expects for one shipment, its carrier as mapped for Amazon.
pub fn confirm_shipment_request(
    account: &Account,
    shipment: &ClaimedShipment,
    carrier: &MarketplaceCarrier,
) -> ConfirmShipmentRequest {
    ConfirmShipmentRequest {
        marketplace_id: account.marketplace_id.clone(),
        package_detail: PackageDetail {
            package_reference_id: shipment.row_id.to_string(),
            carrier_code: carrier.code.clone(),
            carrier_name: carrier.name.clone(),
            shipping_method: (!shipment.service.is_empty()).then(|| shipment.service.clone()),
            tracking_number: shipment.tracking_number.clone(),
            ship_date: shipment
                .ship_date
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            ship_from_supply_source_id: None,
            order_items: shipment
                .items
                .iter()
                .map(|i| ConfirmShipmentOrderItem {
                    order_item_id: i.order_item_id.clone(),
                    quantity: i64::from(i.quantity),
                    transparency_codes: None,
                })
                .collect(),
        },
        cod_collection_method: None,
    }
}

/// The Amazon client: one per process, shared by all Amazon accounts.
pub struct AmazonClient {
    http: reqwest::Client,
    /// Each operation's usage plan, per account.
    confirm_limit: AccountLimiter,
    search_orders_limit: AccountLimiter,
    get_order_limit: AccountLimiter,
    catalog_limit: AccountLimiter,
    tokens: AccessTokenCache,
}

impl AmazonClient {
    pub fn new(http: reqwest::Client, config: &ClientConfig) -> AmazonClient {
        AmazonClient {
            http,
            confirm_limit: config.limiter(
                "amazon.confirmShipment",
                rate_limit::AMAZON_CONFIRM_SHIPMENT,
            ),
            search_orders_limit: config
                .limiter("amazon.searchOrders", rate_limit::AMAZON_SEARCH_ORDERS),
            get_order_limit: config.limiter("amazon.getOrder", rate_limit::AMAZON_GET_ORDER),
            catalog_limit: config
                .limiter("amazon.getCatalogItem", rate_limit::AMAZON_GET_CATALOG_ITEM),
            tokens: AccessTokenCache::new(config.shared_store.clone(), "amazon"),
        }
    }

    /// One Login with Amazon refresh-token exchange.
    async fn exchange(&self, account: &Account) -> Result<FreshToken, AccessTokenError> {
        let url = format!(
            "{}/auth/o2/token",
            account.auth_base_url.trim_end_matches('/')
        );
        let response = self
            .http
            .post(&url)
            .form(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", account.credentials.refresh_token.expose()),
                ("client_id", account.credentials.client_id.as_str()),
                ("client_secret", account.credentials.client_secret.expose()),
            ])
            .send()
            .await
            .map_err(|e| AccessTokenError::network(&url, &e))?;
        let status = response.status();
        if !status.is_success() {
            let body = response.text().await.unwrap_or_default();
            let (code, message) = serde_json::from_str::<serde_json::Value>(&body)
                .ok()
                .map(|v| {
                    (
                        v["error"]
                            .as_str()
                            .unwrap_or("AccessTokenError")
                            .to_string(),
                        v["error_description"].as_str().unwrap_or(&body).to_string(),
                    )
                })
                .unwrap_or_else(|| ("AccessTokenError".into(), body.clone()));
            let refused = if code == "invalid_client" {
                "the application's client id or secret (check them under Admin → Accounts)"
            } else {
                "the refresh token (the seller may need to authorise Shipback again)"
            };
            return Err(AccessTokenError {
                http_status: Some(status.as_u16()),
                message: format!("Login with Amazon refused {refused}: {message} ({code})"),
                code,
                transient: status.is_server_error() || status.as_u16() == 429,
            });
        }
        let token: TokenResponse = response.json().await.map_err(|e| AccessTokenError {
            http_status: Some(status.as_u16()),
            code: "InvalidTokenResponse".into(),
            message: format!("Login with Amazon sent an unreadable token: {e}"),
            transient: true,
        })?;
        Ok(FreshToken {
            access_token: token.access_token,
            expires_in: token.expires_in,
        })
    }

    /// Sends one SP-API request with the account's access token. A rejected token
    /// (401/403) is refreshed once and the request repeated, within the same call. The
    /// first request is paced by `limit` only when `pace_first` (the worker paces
    /// write-backs itself, before it checks its lease); the repeat always is.
    async fn send(
        &self,
        account: &Account,
        api: ApiKind,
        limit: &AccountLimiter,
        pace_first: bool,
        request: impl Fn(&str) -> reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, ApiFailure> {
        if pace_first {
            limit.ready(account.id).await;
        }
        let mut refused: Option<String> = None;
        loop {
            let token = self
                .tokens
                .access_token(account.id, refused.as_deref(), || self.exchange(account))
                .await
                .map_err(|e| e.into_api_failure(api))?;
            let response = request(&token)
                .send()
                .await
                .map_err(|e| network_failure(api, &e))?;
            if let Some(rate) = rate_limit::amazon_rate_limit(response.headers()) {
                limit.observe_rate(account.id, rate);
            }
            let status = response.status().as_u16();
            if (200..300).contains(&status) {
                return Ok(response);
            }
            if matches!(status, 401 | 403) && refused.is_none() {
                refused = Some(token);
                // The repeated call is a call like any other for the usage plan.
                limit.ready(account.id).await;
                continue;
            }
            return Err(failure(api, response).await);
        }
    }

    /// A GET answered with JSON of type `T`, paced by `limit` unless the caller took
    /// the call's turn already (`paced: false`).
    async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        account: &Account,
        api: ApiKind,
        (limit, pace): (&AccountLimiter, bool),
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T, ApiFailure> {
        let url = format!("{}{path}", account.api_base_url.trim_end_matches('/'));
        let response = self
            .send(account, api, limit, pace, |token| {
                self.http
                    .get(&url)
                    .query(query)
                    .header("x-amz-access-token", token)
            })
            .await?;
        let status = response.status().as_u16();
        let body = response
            .bytes()
            .await
            .map_err(|e| network_failure(api, &e))?;
        serde_json::from_slice(&body).map_err(|e| {
            ApiFailure::malformed(
                api,
                Some(status),
                format!("the answer is not what the model says: {e}"),
            )
        })
    }

    /// Orders API 2026-01-01 `searchOrders`, every page: the orders changed since
    /// `since`, with their lines, fulfillment (the ship-by window) and packages. The
    /// first page's turn of the usage plan was taken by [`MarketplaceAdapter::take_import_turn`].
    async fn search_orders(
        &self,
        account: &Account,
        since: DateTime<Utc>,
    ) -> Result<OrderUpdates, ApiFailure> {
        let asked_at = Utc::now();
        let mut orders = Vec::new();
        let mut next_token: Option<String> = None;
        let mut complete_until = None;
        loop {
            let mut query = vec![
                ("marketplaceIds", account.marketplace_id.clone()),
                (
                    "lastUpdatedAfter",
                    since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                ),
                ("includedData", INCLUDED_DATA.to_string()),
                ("maxResultsPerPage", "100".to_string()),
            ];
            if let Some(token) = &next_token {
                query.push(("paginationToken", token.clone()));
            }
            let page: SearchOrdersResponse = self
                .get_json(
                    account,
                    ApiKind::Orders,
                    (&self.search_orders_limit, next_token.is_some()),
                    "/orders/2026-01-01/orders",
                    &query,
                )
                .await?;
            if complete_until.is_none() {
                complete_until = page
                    .last_updated_before
                    .as_deref()
                    .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                    .map(|t| t.with_timezone(&Utc));
            }
            for order in page.orders {
                orders.push(order.into_marketplace_order()?);
            }
            match page
                .pagination
                .and_then(|p| p.next_token)
                .filter(|t| !t.is_empty())
            {
                Some(token) => next_token = Some(token),
                None => break,
            }
        }
        Ok(OrderUpdates {
            orders,
            // Amazon lists orders up to two minutes old; without its word, up to when we asked.
            complete_until: complete_until.unwrap_or(asked_at),
        })
    }

    /// Orders API 2026-01-01 `getOrder`: one order with its lines, fulfillment and
    /// packages (what the buyer sees of each package Shipback confirmed).
    async fn get_order(
        &self,
        account: &Account,
        order_id: &str,
    ) -> Result<MarketplaceOrder, ApiFailure> {
        let path = format!(
            "/orders/2026-01-01/orders/{}",
            app::query::percent_encode(order_id)
        );
        let answer: GetOrderResponse = self
            .get_json(
                account,
                ApiKind::Orders,
                (&self.get_order_limit, true),
                &path,
                &[("includedData", INCLUDED_DATA.to_string())],
            )
            .await?;
        answer.order.into_marketplace_order()
    }

    /// getCatalogItem with the summaries, dimensions and images Shipback shows.
    async fn get_catalog_item(
        &self,
        account: &Account,
        asin: &str,
    ) -> Result<Option<CatalogItem>, ApiFailure> {
        let path = format!(
            "/catalog/2022-04-01/items/{}",
            app::query::percent_encode(asin)
        );
        let query = [
            ("marketplaceIds", account.marketplace_id.clone()),
            ("includedData", "summaries,dimensions,images".to_string()),
        ];
        match self
            .get_json::<catalog::Item>(
                account,
                ApiKind::Products,
                (&self.catalog_limit, true),
                &path,
                &query,
            )
            .await
        {
            Ok(item) => Ok(Some(item.into_catalog_item(&account.marketplace_id))),
            Err(e) if e.http_status == Some(404) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// What Shipback reads of an order besides its lines: the fulfillment (status and
/// ship-by window) and the packages.
const INCLUDED_DATA: &str = "FULFILLMENT,PACKAGES";

/// An error answer, read as the model's `ErrorList`, classified by its status.
async fn failure(api: ApiKind, response: reqwest::Response) -> ApiFailure {
    let status = response.status().as_u16();
    let wait = retry_after(response.headers());
    let body = response.text().await.unwrap_or_default();
    let error = serde_json::from_str::<ErrorResponse>(&body)
        .ok()
        .and_then(|r| r.errors.into_iter().next());
    let (code, message) = match error {
        Some(e) => {
            let message = match e.details.filter(|d| !d.is_empty()) {
                Some(details) => format!("{} ({details})", e.message),
                None => e.message,
            };
            (e.code, message)
        }
        None => (format!("HTTP{status}"), unexpected_answer(&body)),
    };
    // An order whose payment is not yet verified becomes Unshipped on its own: the
    // write-back is tried again then, not given up. Amazon says so only in words.
    let pending = status == 400 && message.contains("is Pending");
    ApiFailure {
        api,
        http_status: Some(status),
        code,
        message,
        // Authorisation may be restored by the seller; throttling and server errors pass.
        retryable: pending || matches!(status, 401 | 403 | 408 | 429 | 500..=599),
        retry_after: wait,
    }
}

#[async_trait::async_trait]
impl MarketplaceAdapter for AmazonClient {
    fn api_for(&self, _account: &Account, operation: Operation) -> Option<ApiKind> {
        Some(match operation {
            Operation::WriteBack => ApiKind::Writeback,
            Operation::OrdersUpdatedSince | Operation::OrdersById | Operation::ReadBack => {
                ApiKind::Orders
            }
            Operation::CatalogItem => ApiKind::Products,
        })
    }

    async fn writeback_ready(&self, account: &Account, deadline: std::time::Instant) -> bool {
        self.confirm_limit.ready_before(account.id, deadline).await
    }

    async fn take_import_turn(&self, account: &Account) -> bool {
        self.search_orders_limit.try_ready(account.id).await
    }

    async fn orders_updated_since(
        &self,
        account: &Account,
        since: DateTime<Utc>,
    ) -> Result<OrderUpdates, ApiFailure> {
        self.search_orders(account, since).await
    }

    async fn orders_by_id(
        &self,
        account: &Account,
        order_ids: &[String],
    ) -> Result<Vec<MarketplaceOrder>, ApiFailure> {
        let mut orders = Vec::with_capacity(order_ids.len());
        for order_id in order_ids {
            match self.get_order(account, order_id).await {
                Ok(order) => orders.push(order),
                // An order Amazon does not show (not yet, or another seller's) is left
                // out, as eBay's GetOrders leaves it out; the others are read.
                Err(failure) if failure.http_status == Some(404) => {}
                Err(failure) => return Err(failure),
            }
        }
        Ok(orders)
    }

    async fn catalog_item(
        &self,
        account: &Account,
        item_number: &str,
    ) -> Result<Option<CatalogItem>, ApiFailure> {
        self.get_catalog_item(account, item_number).await
    }

    async fn lines_held(
        &self,
        account: &Account,
        shipment: &ClaimedShipment,
    ) -> Result<Vec<String>, ApiFailure> {
        let order = match self.get_order(account, &shipment.order_id).await {
            Ok(order) => order,
            // An order Amazon does not show holds no package: the call decides.
            Err(failure) if failure.http_status == Some(404) => return Ok(Vec::new()),
            Err(failure) => return Err(failure),
        };
        let reference = shipment.row_id.to_string();
        // A package is confirmed whole: held as sent, or sent again whole (under the
        // same reference, it replaces what Amazon holds).
        let held = order
            .packages
            .iter()
            .any(|p| p.reference_id == reference && p.holds_all(shipment));
        Ok(if held {
            shipment.line_ids()
        } else {
            Vec::new()
        })
    }

    async fn write_back(&self, account: &Account, shipment: &ClaimedShipment) -> WritebackResult {
        let url = format!(
            "{}/orders/v0/orders/{}/shipmentConfirmation",
            account.api_base_url.trim_end_matches('/'),
            app::query::percent_encode(&shipment.order_id)
        );
        let Some(carrier) = &shipment.marketplace_carrier else {
            return unmapped_carrier(shipment);
        };
        let body = confirm_shipment_request(account, shipment, carrier);
        let request = |token: &str| {
            self.http
                .post(&url)
                .header("x-amz-access-token", token)
                .json(&body)
        };
        match self
            .send(
                account,
                ApiKind::Writeback,
                &self.confirm_limit,
                false,
                request,
            )
            .await
        {
            // The model answers 204 No Content; any other success is not what it says,
            // and what happened is read back before anything is sent again.
            Ok(response) if response.status().as_u16() != 204 => ApiFailure::malformed(
                ApiKind::Writeback,
                Some(response.status().as_u16()),
                format!(
                    "confirmShipment answered {} where Amazon's model says 204 No Content",
                    response.status()
                ),
            )
            .into(),
            Ok(response) => WritebackResult::Accepted {
                http_status: response.status().as_u16(),
                warning: None,
            },
            Err(failure) => failure.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::{Credentials, MarketplaceKind};
    use app::shipments::ShipmentItem;

    #[test]
    fn body_follows_the_model() {
        let account = Account {
            id: 1,
            key: "acme-us".into(),
            marketplace: MarketplaceKind::Amazon,
            display_name: "Acme".into(),
            company: "Acme Inc".into(),
            enabled: true,
            marketplace_id: "ATVPDKIKX0DER".into(),
            region: "na".into(),
            api_base_url: "http://x".into(),
            auth_base_url: "http://x".into(),
            credentials: Credentials {
                client_id: "c".into(),
                client_secret: "s".into(),
                refresh_token: "r".into(),
            },
            writeback_api: String::new(),
            unusable: None,
        };
        let shipment = ClaimedShipment {
            row_id: 77,
            fence: 1,
            shipment_id: "S-1".into(),
            account_id: 1,
            order_id: "113-1234567-1234567".into(),
            carrier: "Acme Freight".into(),
            service: "Next day".into(),
            tracking_number: "T1".into(),
            ship_date: "2026-11-25T14:02:00Z".parse().unwrap(),
            items: vec![ShipmentItem {
                order_item_id: "111".into(),
                sku: Some("SKU".into()),
                quantity: 2,
            }],
            revision: 0,
            error_count: 0,
            marketplace_carrier: None,
            outcome_unknown: false,
            waiting_on: None,
        };
        // An admin mapped the station's name to Other, with the name buyers read.
        let carrier = MarketplaceCarrier {
            code: "Other".into(),
            name: Some("Acme Freight".into()),
        };
        let body =
            serde_json::to_value(confirm_shipment_request(&account, &shipment, &carrier)).unwrap();
        assert_eq!(
            body,
            serde_json::json!({
                "marketplaceId": "ATVPDKIKX0DER",
                "packageDetail": {
                    "packageReferenceId": "77",
                    "carrierCode": "Other",
                    "carrierName": "Acme Freight",
                    "shippingMethod": "Next day",
                    "trackingNumber": "T1",
                    "shipDate": "2026-11-25T14:02:00.000Z",
                    "orderItems": [{"orderItemId": "111", "quantity": 2}]
                }
            })
        );
    }
}
