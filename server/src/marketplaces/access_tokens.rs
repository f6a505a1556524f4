//! Access tokens, shared by every marketplace client: a refresh-token exchange is made
//! only when no token is cached, the cached one expires within a minute, or the API
//! just refused it; concurrent calls of one account share that one exchange. With a
//! shared store, the tokens are also kept (sealed) in the database, so that every
//! worker uses the token one of them fetched.

use super::{describe, ApiFailure, ApiKind};
use crate::secrets::Secret;
use crate::store::Store;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A token fresh from the marketplace's token endpoint.
pub struct FreshToken {
    pub access_token: String,
    /// Seconds it stays valid.
    pub expires_in: u64,
}

/// Why a token could not be had.
#[derive(Clone, Debug, PartialEq)]
pub struct AccessTokenError {
    pub http_status: Option<u16>,
    pub code: String,
    pub message: String,
    /// `false`: the grant itself was refused (revoked or wrong credentials); only the
    /// seller can mend that by authorising Shipback again.
    pub transient: bool,
}

impl AccessTokenError {
    /// The token endpoint could not be reached, or its answer broke off.
    pub fn network(url: &str, e: &reqwest::Error) -> AccessTokenError {
        AccessTokenError {
            http_status: e.status().map(|s| s.as_u16()),
            code: if e.is_timeout() {
                "Timeout"
            } else {
                "NetworkError"
            }
            .into(),
            message: format!("token exchange with {url} failed: {}", describe(e)),
            transient: true,
        }
    }

    /// The failure of the call that needed the token.
    pub fn into_api_failure(self, api: ApiKind) -> ApiFailure {
        ApiFailure {
            api,
            http_status: self.http_status,
            code: self.code,
            // The message of a refusal says what to check; others are passing trouble.
            message: self.message,
            // Even a refused grant is worth retrying: the seller may authorise again.
            retryable: true,
            retry_after: None,
        }
    }
}

struct CachedToken {
    access_token: String,
    expires_at: Instant,
}

type Slot = Arc<tokio::sync::Mutex<Option<CachedToken>>>;

/// Access tokens by account. One async slot per account, so that concurrent calls that
/// find the token missing or rejected share one refresh instead of racing.
#[derive(Default)]
pub struct AccessTokenCache {
    slots: Mutex<HashMap<i64, Slot>>,
    /// The database the tokens are shared through, and the marketplace's name in keys.
    shared: Option<(Store, &'static str)>,
}

impl AccessTokenCache {
    /// Tokens shared through `store` (when given) under `<marketplace>:<account id>`.
    pub fn new(store: Option<Store>, marketplace: &'static str) -> AccessTokenCache {
        AccessTokenCache {
            slots: Mutex::default(),
            shared: store.map(|store| (store, marketplace)),
        }
    }

    /// The token another process shared, if it is not the rejected one and lasts more
    /// than a minute; (token, time left).
    async fn shared_token(
        &self,
        account_id: i64,
        rejected: Option<&str>,
    ) -> Option<(String, Duration)> {
        let (store, marketplace) = self.shared.as_ref()?;
        let key = format!("{marketplace}:{account_id}");
        match store.shared_access_token(&key).await {
            Ok(Some((token, expires_at))) => {
                let left = expires_at - chrono::Utc::now().timestamp_millis();
                let token = token.expose().to_string();
                (rejected != Some(token.as_str()) && left > 60_000)
                    .then(|| (token, Duration::from_millis(left as u64)))
            }
            Ok(None) => None,
            Err(e) => {
                tracing::warn!(error = %e, key, "cannot read the shared access token");
                None
            }
        }
    }

    async fn share(&self, account_id: i64, token: &str, lasts: Duration) {
        let Some((store, marketplace)) = &self.shared else {
            return;
        };
        let key = format!("{marketplace}:{account_id}");
        let expires_at = chrono::Utc::now().timestamp_millis() + lasts.as_millis() as i64;
        if let Err(e) = store
            .share_access_token(&key, &Secret::new(token), expires_at)
            .await
        {
            tracing::warn!(error = %e, key, "cannot share the access token");
        }
    }

    fn slot(&self, account_id: i64) -> Slot {
        self.slots
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .entry(account_id)
            .or_default()
            .clone()
    }

    /// A valid access token for the account: cached, or from `exchange` when none is
    /// cached, it expires within a minute, or `rejected` is the token the API just
    /// refused.
    pub async fn access_token<Exchange>(
        &self,
        account_id: i64,
        rejected: Option<&str>,
        exchange: impl FnOnce() -> Exchange,
    ) -> Result<String, AccessTokenError>
    where
        Exchange: Future<Output = Result<FreshToken, AccessTokenError>>,
    {
        let slot = self.slot(account_id);
        let mut cached = slot.lock().await;
        if let Some(token) = cached.as_ref() {
            // Another call may have refreshed while this one waited for the slot: a
            // token other than the rejected one is fresh and can be used as is.
            let refused = rejected == Some(token.access_token.as_str());
            if !refused && token.expires_at > Instant::now() + Duration::from_secs(60) {
                return Ok(token.access_token.clone());
            }
        }
        if let Some((token, left)) = self.shared_token(account_id, rejected).await {
            *cached = Some(CachedToken {
                access_token: token.clone(),
                expires_at: Instant::now() + left,
            });
            return Ok(token);
        }
        let token = exchange().await?;
        let lasts = Duration::from_secs(token.expires_in);
        *cached = Some(CachedToken {
            access_token: token.access_token.clone(),
            expires_at: Instant::now() + lasts,
        });
        self.share(account_id, &token.access_token, lasts).await;
        Ok(token.access_token)
    }
}
