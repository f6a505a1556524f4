//! eBay OAuth user tokens: the refresh-token grant of `POST /identity/v1/oauth2/token`,
//! cached per account until a minute before they expire.

use super::describe;
use crate::accounts::Account;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What Shipback asks the seller's consent for: writing fulfillments (REST) and the
/// general scope the Trading API accepts an OAuth token with.
pub const SCOPES: &str =
    "https://api.ebay.com/oauth/api_scope/sell.fulfillment https://api.ebay.com/oauth/api_scope";

/// The identity service's answer to a refresh-token grant.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub expires_in: u64,
    #[serde(default)]
    pub token_type: String,
}

/// The identity service's error body (`invalid_grant`, `invalid_client`...).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct TokenErrorBody {
    #[serde(default)]
    pub error: String,
    #[serde(default)]
    pub error_description: String,
}

/// Why a token could not be had.
#[derive(Clone, Debug, PartialEq)]
pub struct TokenError {
    pub http_status: Option<u16>,
    pub code: String,
    pub message: String,
    /// `false`: the grant itself was refused (revoked or wrong credentials); only the
    /// seller can mend that by authorising Shipback again.
    pub transient: bool,
}

struct CachedToken {
    access_token: String,
    expires_at: Instant,
}

type Slot = Arc<tokio::sync::Mutex<Option<CachedToken>>>;

/// Access tokens by account. One async slot per account, so that concurrent calls that
/// find the token missing or rejected share one refresh instead of racing.
#[derive(Default)]
pub struct TokenCache {
    slots: Mutex<HashMap<i64, Slot>>,
}

impl TokenCache {
    fn slot(&self, account_id: i64) -> Slot {
        self.slots
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .entry(account_id)
            .or_default()
            .clone()
    }

    /// A valid access token for the account: cached, or fresh when none is cached,
    /// it expires within a minute, or `rejected` is the token the API just refused.
    pub async fn access_token(
        &self,
        http: &reqwest::Client,
        account: &Account,
        rejected: Option<&str>,
    ) -> Result<String, TokenError> {
        let slot = self.slot(account.id);
        let mut cached = slot.lock().await;
        if let Some(token) = cached.as_ref() {
            // Another call may have refreshed while this one waited for the slot: a
            // token other than the rejected one is fresh and can be used as is.
            let refused = rejected == Some(token.access_token.as_str());
            if !refused && token.expires_at > Instant::now() + Duration::from_secs(60) {
                return Ok(token.access_token.clone());
            }
        }
        let token = exchange(http, account).await?;
        let access_token = token.access_token.clone();
        *cached = Some(CachedToken {
            access_token: token.access_token,
            expires_at: Instant::now() + Duration::from_secs(token.expires_in),
        });
        Ok(access_token)
    }
}

/// One refresh-token grant.
async fn exchange(http: &reqwest::Client, account: &Account) -> Result<TokenResponse, TokenError> {
    let url = format!(
        "{}/identity/v1/oauth2/token",
        account.auth_base_url.trim_end_matches('/')
    );
    let response = http
        .post(&url)
        .basic_auth(
            &account.credentials.client_id,
            Some(&account.credentials.client_secret),
        )
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", account.credentials.refresh_token.as_str()),
            ("scope", SCOPES),
        ])
        .send()
        .await
        .map_err(|e| TokenError {
            http_status: None,
            code: if e.is_timeout() {
                "Timeout"
            } else {
                "NetworkError"
            }
            .into(),
            message: format!("token exchange with {url} failed: {}", describe(&e)),
            transient: true,
        })?;
    let status = response.status();
    let body = response.text().await.map_err(|e| TokenError {
        http_status: Some(status.as_u16()),
        code: "NetworkError".into(),
        message: format!("token exchange with {url} broke off: {}", describe(&e)),
        transient: true,
    })?;
    if !status.is_success() {
        let error = serde_json::from_str::<TokenErrorBody>(&body).unwrap_or_default();
        let code = if error.error.is_empty() {
            format!("HTTP{}", status.as_u16())
        } else {
            error.error
        };
        let description = if error.error_description.is_empty() {
            body.chars().take(200).collect()
        } else {
            error.error_description
        };
        return Err(TokenError {
            http_status: Some(status.as_u16()),
            message: format!("eBay refused the refresh token: {description}"),
            code,
            transient: status.is_server_error() || status.as_u16() == 429,
        });
    }
    serde_json::from_str::<TokenResponse>(&body)
        .ok()
        .filter(|t| !t.access_token.is_empty())
        .ok_or_else(|| TokenError {
            http_status: Some(status.as_u16()),
            code: "MalformedResponse".into(),
            message: format!(
                "eBay sent an unreadable token answer: {}",
                body.chars().take(200).collect::<String>()
            ),
            transient: true,
        })
}
