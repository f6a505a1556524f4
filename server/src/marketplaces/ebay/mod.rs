//! eBay: OAuth user tokens, Trading API CompleteSale and GetOrders, and the Sell
//! Fulfillment API's createShippingFulfillment.
//!
//! The account's `marketplace_id` is the eBay site id ("0" = US), `api_base_url` the
//! API host (Trading at `/ws/api.dll`, REST under `/sell/fulfillment/v1`) and
//! `auth_base_url` the identity host. `writeback_api` picks CompleteSale ("" or
//! "trading") or createShippingFulfillment ("fulfillment").

pub mod fulfillment;
pub mod identity;
pub mod trading;

use super::access_tokens::AccessTokenCache;
use super::rate_limit::{self, AccountLimiter, UsagePlan};
use super::{
    network_failure, retry_after, unexpected_answer, unmapped_carrier, ApiFailure, ApiKind,
    CatalogItem, ClientConfig, MarketplaceAdapter, MarketplaceOrder, MarketplacePackage, Operation,
    OrderUpdates, WritebackResult,
};
use crate::accounts::Account;
use crate::records::shipments::ClaimedShipment;
use chrono::{DateTime, Utc};
use reqwest::header::{HeaderMap, CONTENT_TYPE, LOCATION};
use trading::{AckResponse, GetOrdersResponse, OrdersFilter, Verdict};

/// GetOrders takes at most 100 ids in `OrderIDArray`.
const IDS_PER_CALL: usize = 100;
/// A guard against an answer that keeps saying `HasMoreOrders`: 1,000 pages are
/// 100,000 orders, more than any window Shipback asks for.
const MAX_PAGES: u32 = 1_000;
/// GetOrders refuses a `ModTimeFrom` more than 30 days back; a minute's margin keeps
/// the request valid by the time it arrives.
const MOD_TIME_REACH: chrono::Duration = chrono::Duration::minutes(30 * 24 * 60 - 1);

/// The API an account writes back with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WritebackApi {
    /// Trading API CompleteSale.
    Trading,
    /// Sell Fulfillment API createShippingFulfillment.
    Fulfillment,
}

impl WritebackApi {
    pub fn of(account: &Account) -> Result<WritebackApi, String> {
        match account.writeback_api.trim() {
            "" | "trading" => Ok(WritebackApi::Trading),
            "fulfillment" => Ok(WritebackApi::Fulfillment),
            other => Err(format!(
                "account '{}' names write-back API '{other}'; eBay's are 'trading' and 'fulfillment'",
                account.key
            )),
        }
    }
}

/// An HTTP answer, read to the end.
struct Answer {
    status: u16,
    headers: HeaderMap,
    body: String,
}

/// The eBay client: one per process, shared by all eBay accounts.
pub struct EbayClient {
    http: reqwest::Client,
    /// The Trading API's daily quota, per account.
    trading_limit: AccountLimiter,
    /// The Sell Fulfillment API's daily quota, per account.
    fulfillment_limit: AccountLimiter,
    tokens: AccessTokenCache,
}

impl EbayClient {
    pub fn new(http: reqwest::Client, config: &ClientConfig) -> EbayClient {
        EbayClient {
            http,
            trading_limit: config
                .limiter("ebay.trading", UsagePlan::per_day(config.ebay_daily_quota)),
            fulfillment_limit: config.limiter(
                "ebay.fulfillment",
                UsagePlan::per_day(rate_limit::EBAY_FULFILLMENT_DAILY_QUOTA),
            ),
            tokens: AccessTokenCache::new(config.shared_store.clone(), "ebay"),
        }
    }

    /// Sends one request with the account's access token. When `rejected` reads the
    /// answer as a refused token, the token is refreshed once and the request repeated
    /// within the same call; refused again, the call fails (retryable: the seller can
    /// authorise Shipback again). The first request is paced by `limit` only when
    /// `pace_first` (the worker paces write-backs itself, before it checks its lease);
    /// the repeat always is.
    async fn send(
        &self,
        account: &Account,
        api: ApiKind,
        limit: &AccountLimiter,
        pace_first: bool,
        request: impl Fn(&str) -> reqwest::RequestBuilder,
        rejected: impl Fn(&Answer) -> Option<(String, String)>,
    ) -> Result<Answer, ApiFailure> {
        if pace_first {
            limit.ready(account.id).await;
        }
        let mut refused: Option<String> = None;
        loop {
            let token = self
                .tokens
                .access_token(account.id, refused.as_deref(), || {
                    identity::exchange(&self.http, account)
                })
                .await
                .map_err(|e| e.into_api_failure(api))?;
            let response = request(&token)
                .send()
                .await
                .map_err(|e| network_failure(api, &e))?;
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            // A connection dropped mid-body is as retryable as one never made.
            let body = response
                .text()
                .await
                .map_err(|e| network_failure(api, &e))?;
            let answer = Answer {
                status,
                headers,
                body,
            };
            match rejected(&answer) {
                None => return Ok(answer),
                Some(_) if refused.is_none() => {
                    refused = Some(token);
                    // The repeated call is a call like any other for the quota.
                    limit.ready(account.id).await;
                }
                Some((code, message)) => {
                    return Err(ApiFailure {
                        api,
                        http_status: Some(status),
                        code,
                        message: format!(
                            "{message} (a freshly issued token was refused too: check the account's authorisation)"
                        ),
                        retryable: true,
                        retry_after: None,
                    })
                }
            }
        }
    }

    /// One Trading API call; the answer is a 2xx whose `Ack` is still to be read.
    async fn trading_call(
        &self,
        account: &Account,
        api: ApiKind,
        call: &str,
        body: String,
        pace_first: bool,
    ) -> Result<Answer, ApiFailure> {
        let url = format!("{}/ws/api.dll", account.api_base_url.trim_end_matches('/'));
        let request = |token: &str| {
            self.http
                .post(&url)
                .header("X-EBAY-API-CALL-NAME", call)
                .header("X-EBAY-API-SITEID", account.marketplace_id.trim())
                .header(
                    "X-EBAY-API-COMPATIBILITY-LEVEL",
                    trading::COMPATIBILITY_LEVEL,
                )
                .header("X-EBAY-API-IAF-TOKEN", token)
                .header(CONTENT_TYPE, "text/xml")
                .body(body.clone())
        };
        let answer = self
            .send(
                account,
                api,
                &self.trading_limit,
                pace_first,
                request,
                trading_rejection,
            )
            .await?;
        if (200..300).contains(&answer.status) {
            Ok(answer)
        } else {
            Err(http_failure(api, &answer))
        }
    }

    /// GetOrders, every page.
    async fn get_orders(
        &self,
        account: &Account,
        filter: &OrdersFilter,
    ) -> Result<Vec<MarketplaceOrder>, ApiFailure> {
        let mut orders = Vec::new();
        let mut page = 1;
        loop {
            let body = trading::get_orders_body(filter, page).map_err(|e| ApiFailure {
                api: ApiKind::Trading,
                http_status: None,
                code: "InvalidRequest".into(),
                message: format!("GetOrders request could not be written: {e}"),
                retryable: false,
                retry_after: None,
            })?;
            let answer = self
                .trading_call(account, ApiKind::Trading, "GetOrders", body, true)
                .await?;
            let response: GetOrdersResponse = trading::parse(ApiKind::Trading, &answer.body)?;
            verdict_result(ApiKind::Trading, response.verdict())?;
            let found = response.order_array.map(|a| a.orders).unwrap_or_default();
            let returned = found.len();
            for order in found {
                orders.push(order.into_marketplace_order()?);
            }
            let total_pages = response
                .pagination_result
                .and_then(|p| p.total_number_of_pages);
            let more = response.has_more_orders.unwrap_or(false)
                || total_pages.is_some_and(|total| page < total);
            // An empty page ends the listing even when eBay claims more: asking on
            // would only repeat the empty answer.
            if !more || returned == 0 {
                return Ok(orders);
            }
            if page >= MAX_PAGES {
                return Err(ApiFailure {
                    api: ApiKind::Trading,
                    http_status: Some(answer.status),
                    code: "TooManyPages".into(),
                    message: format!("GetOrders still had more orders after {MAX_PAGES} pages"),
                    retryable: true,
                    retry_after: None,
                });
            }
            page += 1;
        }
    }

    /// CompleteSale for each order line item of the shipment. The calls are made in
    /// turn; the first refusal ends the attempt (the next attempt sends every line
    /// again: a line eBay has with the same tracking number is a plain Success). A
    /// warning of any call is kept.
    async fn complete_sale(
        &self,
        account: &Account,
        shipment: &ClaimedShipment,
    ) -> WritebackResult {
        let Some(carrier) = &shipment.marketplace_carrier else {
            return unmapped_carrier(shipment);
        };
        let requests = trading::complete_sale_requests(shipment, carrier);
        if requests.is_empty() {
            return WritebackResult::Permanent {
                http_status: None,
                code: "NoLineItems".into(),
                message: "CompleteSale needs the shipment's order line items".into(),
            };
        }
        let mut warnings = Vec::new();
        let mut status = 200;
        for (n, request) in requests.iter().enumerate() {
            let body = match trading::complete_sale_body(request) {
                Ok(body) => body,
                Err(e) => {
                    return WritebackResult::Permanent {
                        http_status: None,
                        code: "InvalidShipment".into(),
                        message: format!("the CompleteSale request could not be written: {e}"),
                    }
                }
            };
            let answer = match self
                // The worker paced the first call; the usage plan paces the others.
                .trading_call(account, ApiKind::Writeback, "CompleteSale", body, n > 0)
                .await
            {
                Ok(answer) => answer,
                Err(failure) => return failure.into(),
            };
            status = answer.status;
            let parsed: AckResponse = match trading::parse(ApiKind::Writeback, &answer.body) {
                Ok(parsed) => parsed,
                Err(failure) => return failure.into(),
            };
            match verdict_result(ApiKind::Writeback, parsed.verdict()) {
                Ok(warning) => warnings.extend(warning),
                Err(failure) => return failure.into(),
            }
        }
        WritebackResult::Accepted {
            http_status: status,
            warning: (!warnings.is_empty()).then(|| warnings.join("; ")),
        }
    }

    /// `getShippingFulfillments`: the fulfillments eBay holds for an order.
    async fn shipping_fulfillments(
        &self,
        account: &Account,
        order_id: &str,
    ) -> Result<Vec<fulfillment::ShippingFulfillment>, ApiFailure> {
        let url = format!(
            "{}/sell/fulfillment/v1/order/{}/shipping_fulfillment",
            account.api_base_url.trim_end_matches('/'),
            app::query::percent_encode(order_id)
        );
        let request = |token: &str| {
            self.http
                .get(&url)
                .bearer_auth(token)
                .header(reqwest::header::ACCEPT, "application/json")
        };
        // A token eBay refuses (401) is refreshed once, as for the write-back itself.
        let rejected = |answer: &Answer| {
            (answer.status == 401).then(|| {
                let f = fulfillment::failure(401, None, &answer.body);
                (f.code, f.message)
            })
        };
        let answer = self
            .send(
                account,
                ApiKind::Writeback,
                &self.fulfillment_limit,
                true,
                request,
                rejected,
            )
            .await?;
        if !(200..300).contains(&answer.status) {
            return Err(fulfillment::failure(
                answer.status,
                retry_after(&answer.headers),
                &answer.body,
            ));
        }
        serde_json::from_str::<fulfillment::ShippingFulfillmentPagedCollection>(&answer.body)
            .map(|c| c.fulfillments)
            .map_err(|e| {
                ApiFailure::malformed(
                    ApiKind::Writeback,
                    Some(answer.status),
                    format!("getShippingFulfillments answered what the model does not: {e}"),
                )
            })
    }

    async fn create_shipping_fulfillment(
        &self,
        account: &Account,
        shipment: &ClaimedShipment,
    ) -> WritebackResult {
        let Some(carrier) = &shipment.marketplace_carrier else {
            return unmapped_carrier(shipment);
        };
        let body = fulfillment::shipping_fulfillment(shipment, carrier);
        if body.line_items.is_empty() {
            return WritebackResult::Permanent {
                http_status: None,
                code: "NoLineItems".into(),
                message: "createShippingFulfillment needs the shipment's line items".into(),
            };
        }
        let url = format!(
            "{}/sell/fulfillment/v1/order/{}/shipping_fulfillment",
            account.api_base_url.trim_end_matches('/'),
            app::query::percent_encode(&shipment.order_id)
        );
        let request = |token: &str| {
            self.http
                .post(&url)
                .bearer_auth(token)
                .header(reqwest::header::ACCEPT, "application/json")
                .json(&body)
        };
        let rejected = |answer: &Answer| {
            (answer.status == 401).then(|| {
                let f = fulfillment::failure(401, None, &answer.body);
                (f.code, f.message)
            })
        };
        let answer = match self
            .send(
                account,
                ApiKind::Writeback,
                &self.fulfillment_limit,
                false,
                request,
                rejected,
            )
            .await
        {
            Ok(answer) => answer,
            Err(failure) => return failure.into(),
        };
        match answer.status {
            201 => {
                if let Some(location) = answer.headers.get(LOCATION) {
                    tracing::debug!(order = %shipment.order_id, ?location, "eBay fulfillment created");
                }
                WritebackResult::Accepted {
                    http_status: 201,
                    warning: None,
                }
            }
            // The spec's only success is 201 Created; another 2xx (a proxy's page, a
            // cut-off answer) does not show that eBay created the fulfillment.
            status @ 200..=299 => WritebackResult::Retryable {
                http_status: Some(status),
                code: "MalformedResponse".into(),
                message: format!(
                    "expected 201 Created, got {status}: {}",
                    answer.body.chars().take(200).collect::<String>()
                ),
                retry_after: None,
            },
            status => {
                fulfillment::failure(status, retry_after(&answer.headers), &answer.body).into()
            }
        }
    }
}

/// Reads a Trading answer as a refused token: HTTP 401, or Ack Failure with 931/932.
fn trading_rejection(answer: &Answer) -> Option<(String, String)> {
    if answer.status == 401 {
        return Some(("HTTP401".into(), "eBay refused the access token".into()));
    }
    if !(200..300).contains(&answer.status) {
        return None;
    }
    let parsed: AckResponse = quick_xml::de::from_str(&answer.body).ok()?;
    match parsed.verdict() {
        Verdict::TokenRejected { code, message } => Some((code, message)),
        _ => None,
    }
}

/// A Trading answer's outcome: the warning of a success, or why it failed.
fn verdict_result(api: ApiKind, verdict: Verdict) -> Result<Option<String>, ApiFailure> {
    let failure = |code: String, message: String, retryable, retry_after| ApiFailure {
        api,
        // Trading answers its errors with HTTP 200.
        http_status: Some(200),
        code,
        message,
        retryable,
        retry_after,
    };
    match verdict {
        Verdict::Success { warning } => Ok(warning),
        Verdict::TokenRejected { code, message } => Err(failure(
            code,
            format!("{message} (check the account's authorisation)"),
            true,
            None,
        )),
        Verdict::CallLimit { code, message } => {
            Err(failure(code, message, true, Some(trading::CALL_LIMIT_WAIT)))
        }
        Verdict::Failed {
            code,
            message,
            retryable,
        } => Err(failure(code, message, retryable, None)),
    }
}

/// A non-2xx Trading answer: the gateway's, not the API's (which answers with 200).
fn http_failure(api: ApiKind, answer: &Answer) -> ApiFailure {
    ApiFailure {
        api,
        http_status: Some(answer.status),
        code: format!("HTTP{}", answer.status),
        message: unexpected_answer(&answer.body),
        retryable: matches!(answer.status, 401 | 403 | 408 | 429 | 500..=599),
        retry_after: retry_after(&answer.headers),
    }
}

#[async_trait::async_trait]
impl MarketplaceAdapter for EbayClient {
    fn api_for(&self, account: &Account, operation: Operation) -> Option<ApiKind> {
        match operation {
            Operation::WriteBack => Some(ApiKind::Writeback),
            // Trading reads back with GetOrders; the Fulfillment API (the account's
            // Writeback) with getShippingFulfillments.
            Operation::ReadBack => Some(match WritebackApi::of(account) {
                Ok(WritebackApi::Fulfillment) => ApiKind::Writeback,
                _ => ApiKind::Trading,
            }),
            Operation::OrdersUpdatedSince | Operation::OrdersById => Some(ApiKind::Trading),
            // eBay offers Shipback no Products API: `catalog_item` calls nothing.
            Operation::CatalogItem => None,
        }
    }

    async fn writeback_ready(&self, account: &Account, deadline: std::time::Instant) -> bool {
        match WritebackApi::of(account) {
            Ok(WritebackApi::Fulfillment) => {
                self.fulfillment_limit
                    .ready_before(account.id, deadline)
                    .await
            }
            Ok(WritebackApi::Trading) => {
                self.trading_limit.ready_before(account.id, deadline).await
            }
            // An unknown API fails at once in `write_back`; nothing to wait for.
            Err(_) => true,
        }
    }

    async fn write_back(&self, account: &Account, shipment: &ClaimedShipment) -> WritebackResult {
        match WritebackApi::of(account) {
            Ok(WritebackApi::Trading) => self.complete_sale(account, shipment).await,
            Ok(WritebackApi::Fulfillment) => {
                self.create_shipping_fulfillment(account, shipment).await
            }
            Err(message) => WritebackResult::Permanent {
                http_status: None,
                code: "UnsupportedWritebackApi".into(),
                message,
            },
        }
    }

    async fn orders_updated_since(
        &self,
        account: &Account,
        since: DateTime<Utc>,
    ) -> Result<OrderUpdates, ApiFailure> {
        let to = Utc::now();
        let reach = to - MOD_TIME_REACH;
        if since < reach {
            tracing::warn!(account = %account.key, %since, "GetOrders reaches back 30 days at most; older changes are skipped");
        }
        let from = since.max(reach).min(to - chrono::Duration::seconds(1));
        let orders = self
            .get_orders(account, &OrdersFilter::Modified { from, to })
            .await?;
        Ok(OrderUpdates {
            orders,
            complete_until: to,
        })
    }

    async fn orders_by_id(
        &self,
        account: &Account,
        order_ids: &[String],
    ) -> Result<Vec<MarketplaceOrder>, ApiFailure> {
        let mut orders = Vec::new();
        for chunk in order_ids.chunks(IDS_PER_CALL) {
            orders.extend(
                self.get_orders(account, &OrdersFilter::Ids(chunk.to_vec()))
                    .await?,
            );
        }
        Ok(orders)
    }

    async fn lines_held(
        &self,
        account: &Account,
        shipment: &ClaimedShipment,
    ) -> Result<Vec<String>, ApiFailure> {
        let packages: Vec<MarketplacePackage> = match WritebackApi::of(account) {
            // One fulfillment holds the whole shipment: it is there whole, or not.
            Ok(WritebackApi::Fulfillment) => {
                let fulfillments = self
                    .shipping_fulfillments(account, &shipment.order_id)
                    .await?;
                let whole = fulfillments
                    .iter()
                    .map(fulfillment::ShippingFulfillment::package)
                    .any(|p| p.holds_all(shipment));
                return Ok(if whole {
                    shipment.line_ids()
                } else {
                    Vec::new()
                });
            }
            // CompleteSale goes line by line: each line's tracking is read on its own.
            _ => self
                .orders_by_id(account, std::slice::from_ref(&shipment.order_id))
                .await?
                .into_iter()
                .filter(|o| o.order_id == shipment.order_id)
                .flat_map(|o| o.packages)
                .collect(),
        };
        let mut held: Vec<String> = Vec::new();
        for package in &packages {
            for line in package.lines_of(shipment) {
                if !held.iter().any(|h| h == line) {
                    held.push(line.to_string());
                }
            }
        }
        Ok(held)
    }

    async fn catalog_item(
        &self,
        _account: &Account,
        _item_number: &str,
    ) -> Result<Option<CatalogItem>, ApiFailure> {
        // eBay offers Shipback no Products API.
        Ok(None)
    }
}

#[cfg(test)]
mod tests;
