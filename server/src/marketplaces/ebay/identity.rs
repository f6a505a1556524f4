//! eBay OAuth user tokens: the refresh-token grant of `POST /identity/v1/oauth2/token`,
//! cached per account until a minute before they expire.

use super::super::access_tokens::{AccessTokenError, FreshToken};
use crate::accounts::Account;
use serde::{Deserialize, Serialize};

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

/// One refresh-token grant.
pub async fn exchange(
    http: &reqwest::Client,
    account: &Account,
) -> Result<FreshToken, AccessTokenError> {
    let url = format!(
        "{}/identity/v1/oauth2/token",
        account.auth_base_url.trim_end_matches('/')
    );
    let response = http
        .post(&url)
        .basic_auth(
            &account.credentials.client_id,
            Some(account.credentials.client_secret.expose()),
        )
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", account.credentials.refresh_token.expose()),
            ("scope", SCOPES),
        ])
        .send()
        .await
        .map_err(|e| AccessTokenError::network(&url, &e))?;
    let status = response.status();
    let body = response
        .text()
        .await
        .map_err(|e| AccessTokenError::network(&url, &e))?;
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
        return Err(AccessTokenError {
            http_status: Some(status.as_u16()),
            message: if code == "invalid_client" {
                format!(
                    "eBay refused the application's client id or secret (check them under \
                     Admin → Accounts): {description}"
                )
            } else {
                format!(
                    "eBay refused the refresh token: {description} (check the account's \
                     authorisation: the seller may need to grant Shipback access again)"
                )
            },
            code,
            transient: status.is_server_error() || status.as_u16() == 429,
        });
    }
    serde_json::from_str::<TokenResponse>(&body)
        .ok()
        .filter(|t| !t.access_token.is_empty())
        .map(|t| FreshToken {
            access_token: t.access_token,
            expires_in: t.expires_in,
        })
        .ok_or_else(|| AccessTokenError {
            http_status: Some(status.as_u16()),
            code: "MalformedResponse".into(),
            message: format!(
                "eBay sent an unreadable token answer: {}",
                body.chars().take(200).collect::<String>()
            ),
            transient: true,
        })
}
