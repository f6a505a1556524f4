//! Amazon Selling Partner API: Login with Amazon tokens and Orders v0 `confirmShipment`.
//!
//! Request and error bodies follow `amazon-orders-v0.json` (ConfirmShipmentRequest,
//! PackageDetail, ConfirmShipmentOrderItem, ConfirmShipmentErrorResponse) field for field.

use super::rate_limit::AccountLimiter;
use super::{retry_after, WritebackApi, WritebackResult};
use crate::accounts::Account;
use crate::store::ClaimedShipment;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

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

/// Amazon's carrier codes (the `CarrierCode` list); anything else goes as "Other" with
/// the carrier's own name, as Amazon requires.
const CARRIER_CODES: [&str; 16] = [
    "UPS",
    "USPS",
    "FedEx",
    "DHL",
    "DHL eCommerce",
    "OnTrac",
    "Amazon Shipping",
    "Royal Mail",
    "Parcelforce",
    "Hermes",
    "DPD",
    "GLS",
    "Canada Post",
    "Australia Post",
    "Japan Post",
    "Yamato",
];

pub fn carrier_code(carrier: &str) -> (String, Option<String>) {
    match CARRIER_CODES
        .iter()
        .find(|c| c.eq_ignore_ascii_case(carrier.trim()))
    {
        Some(code) => (code.to_string(), None),
        None => ("Other".to_string(), Some(carrier.to_string())),
    }
}

/// The body Amazon expects for one shipment.
pub fn confirm_shipment_request(
    account: &Account,
    shipment: &ClaimedShipment,
) -> ConfirmShipmentRequest {
    let (carrier_code, carrier_name) = carrier_code(&shipment.carrier);
    ConfirmShipmentRequest {
        marketplace_id: account.marketplace_id.clone(),
        package_detail: PackageDetail {
            package_reference_id: shipment.row_id.to_string(),
            carrier_code,
            carrier_name,
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

struct CachedToken {
    access_token: String,
    expires_at: Instant,
}

/// The Amazon client: one per process, shared by all Amazon accounts.
pub struct AmazonClient {
    http: reqwest::Client,
    /// confirmShipment's usage plan, per account.
    confirm_limit: AccountLimiter,
    /// One slot per account; the async lock makes concurrent calls share one refresh.
    tokens: Mutex<HashMap<i64, Arc<tokio::sync::Mutex<Option<CachedToken>>>>>,
}

/// Why a token could not be had.
#[derive(Debug)]
struct TokenError {
    http_status: Option<u16>,
    code: String,
    message: String,
    retryable: bool,
}

impl AmazonClient {
    pub fn new(http: reqwest::Client, confirm_limit: AccountLimiter) -> AmazonClient {
        AmazonClient {
            http,
            confirm_limit,
            tokens: Mutex::new(HashMap::new()),
        }
    }

    fn token_slot(&self, account_id: i64) -> Arc<tokio::sync::Mutex<Option<CachedToken>>> {
        self.tokens
            .lock()
            .expect("token map lock")
            .entry(account_id)
            .or_default()
            .clone()
    }

    /// A valid access token for the account, from the cache or a fresh exchange.
    async fn access_token(
        &self,
        account: &Account,
        force_refresh: bool,
    ) -> Result<String, TokenError> {
        let slot = self.token_slot(account.id);
        let mut cached = slot.lock().await;
        if let Some(token) = cached.as_ref() {
            // A minute's margin so that a token never expires in flight.
            if !force_refresh && token.expires_at > Instant::now() + Duration::from_secs(60) {
                return Ok(token.access_token.clone());
            }
        }
        let url = format!(
            "{}/auth/o2/token",
            account.auth_base_url.trim_end_matches('/')
        );
        let response = self
            .http
            .post(&url)
            .form(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", account.credentials.refresh_token.as_str()),
                ("client_id", account.credentials.client_id.as_str()),
                ("client_secret", account.credentials.client_secret.as_str()),
            ])
            .send()
            .await
            .map_err(|e| TokenError {
                http_status: None,
                code: "NetworkError".into(),
                message: format!("token exchange with {url} failed: {}", describe(&e)),
                retryable: true,
            })?;
        let status = response.status();
        if !status.is_success() {
            let body = response.text().await.unwrap_or_default();
            let (code, message) = serde_json::from_str::<serde_json::Value>(&body)
                .ok()
                .map(|v| {
                    (
                        v["error"].as_str().unwrap_or("TokenError").to_string(),
                        v["error_description"].as_str().unwrap_or(&body).to_string(),
                    )
                })
                .unwrap_or_else(|| ("TokenError".into(), body.clone()));
            return Err(TokenError {
                http_status: Some(status.as_u16()),
                message: format!("Login with Amazon refused the refresh token: {message}"),
                code,
                retryable: status.is_server_error() || status.as_u16() == 429,
            });
        }
        let token: TokenResponse = response.json().await.map_err(|e| TokenError {
            http_status: Some(status.as_u16()),
            code: "InvalidTokenResponse".into(),
            message: format!("Login with Amazon sent an unreadable token: {e}"),
            retryable: true,
        })?;
        let access_token = token.access_token.clone();
        *cached = Some(CachedToken {
            access_token: token.access_token,
            expires_at: Instant::now() + Duration::from_secs(token.expires_in),
        });
        Ok(access_token)
    }

    async fn confirm_once(
        &self,
        account: &Account,
        shipment: &ClaimedShipment,
        token: &str,
    ) -> Result<reqwest::Response, reqwest::Error> {
        let url = format!(
            "{}/orders/v0/orders/{}/shipmentConfirmation",
            account.api_base_url.trim_end_matches('/'),
            app::query::percent_encode(&shipment.order_id)
        );
        self.http
            .post(url)
            .header("x-amz-access-token", token)
            .json(&confirm_shipment_request(account, shipment))
            .send()
            .await
    }
}

#[async_trait::async_trait]
impl WritebackApi for AmazonClient {
    async fn ready(&self, account: &Account) {
        self.confirm_limit.ready(account.id).await;
    }

    async fn write_back(&self, account: &Account, shipment: &ClaimedShipment) -> WritebackResult {
        let mut force_refresh = false;
        // A rejected token is refreshed once and the call repeated, within one attempt.
        for _ in 0..2 {
            let token = match self.access_token(account, force_refresh).await {
                Ok(token) => token,
                Err(e) if e.retryable => {
                    return WritebackResult::Retryable {
                        http_status: e.http_status,
                        code: e.code,
                        message: e.message,
                        retry_after: None,
                    }
                }
                Err(e) => {
                    return WritebackResult::Retryable {
                        http_status: e.http_status,
                        code: e.code,
                        message: format!("{} (check the account's credentials)", e.message),
                        retry_after: None,
                    }
                }
            };
            let response = match self.confirm_once(account, shipment, &token).await {
                Ok(response) => response,
                Err(e) => {
                    return WritebackResult::Retryable {
                        http_status: None,
                        code: if e.is_timeout() {
                            "Timeout"
                        } else {
                            "NetworkError"
                        }
                        .into(),
                        message: describe(&e),
                        retry_after: None,
                    }
                }
            };
            let status = response.status().as_u16();
            if (200..300).contains(&status) {
                return WritebackResult::Accepted {
                    http_status: status,
                };
            }
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
                None => (
                    format!("HTTP{status}"),
                    format!(
                        "unexpected answer: {}",
                        body.chars().take(200).collect::<String>()
                    ),
                ),
            };
            match status {
                401 | 403 if !force_refresh => {
                    force_refresh = true;
                    // The repeated call is a call like any other for the usage plan.
                    self.confirm_limit.ready(account.id).await;
                    continue;
                }
                // Authorisation may be restored by the seller; worth more attempts.
                401 | 403 | 429 | 500..=599 => {
                    return WritebackResult::Retryable {
                        http_status: Some(status),
                        code,
                        message,
                        retry_after: wait,
                    }
                }
                _ => {
                    return WritebackResult::Permanent {
                        http_status: Some(status),
                        code,
                        message,
                    }
                }
            }
        }
        unreachable!("the loop returns on its second pass")
    }
}

/// A reqwest error with its causes, in one line.
fn describe(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
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
        };
        let body = serde_json::to_value(confirm_shipment_request(&account, &shipment)).unwrap();
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

    #[test]
    fn known_carriers_use_their_code() {
        assert_eq!(carrier_code("ups"), ("UPS".to_string(), None));
        assert_eq!(carrier_code("FEDEX"), ("FedEx".to_string(), None));
        assert_eq!(
            carrier_code("Bob's Vans"),
            ("Other".to_string(), Some("Bob's Vans".to_string()))
        );
    }
}
