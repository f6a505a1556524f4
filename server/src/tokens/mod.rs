//! Bearer tokens for the station API: the shipping station posts shipments with an
//! `ingest` token, monitoring tools and scripts read with a `read` token, and scripted
//! retries and manual confirmations need `operate`.
//!
//! A token is shown once, when it is created, and only its SHA-256 is stored. Each use
//! is recorded (to the minute), and an admin can revoke it at any time.

pub use crate::records::tokens::{ApiToken, Scope, Scopes, TokenHash};
use crate::store::{Store, StoreError};
use crate::web::error::HttpError;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use chrono::{DateTime, Utc};
use std::str::FromStr;

impl FromStr for Scopes {
    type Err = TokenError;

    fn from_str(text: &str) -> Result<Scopes, TokenError> {
        let mut scopes = Vec::new();
        for word in text.split(',').map(str::trim).filter(|w| !w.is_empty()) {
            let scope = Scope::ALL
                .into_iter()
                .find(|s| s.as_str() == word)
                .ok_or_else(|| TokenError::UnknownScope(word.to_string()))?;
            scopes.push(scope);
        }
        if scopes.is_empty() {
            return Err(TokenError::NoScope);
        }
        Ok(Scopes::of(&scopes))
    }
}

/// Tokens start with this, so that a leaked one is easy to recognise in a log or a
/// repository scan.
pub const TOKEN_PREFIX: &str = "sbk_";

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("unknown scope '{0}': use ingest, read or operate")]
    UnknownScope(String),
    #[error("a token needs at least one scope: ingest, read or operate")]
    NoScope,
    #[error("a token name is 1 to 64 letters, digits, '-', '_' or '.'; '{0}' is not")]
    BadName(String),
    #[error("a token named '{0}' exists already; revoke it first")]
    NameTaken(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Creates a token and returns it: the only time it can be seen.
pub async fn create_token(
    store: &Store,
    name: &str,
    scopes: Scopes,
    now: DateTime<Utc>,
) -> Result<String, TokenError> {
    let valid_name = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !valid_name {
        return Err(TokenError::BadName(name.to_string()));
    }
    if scopes.is_empty() {
        return Err(TokenError::NoScope);
    }
    let mut secret = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut secret);
    let token = format!(
        "{TOKEN_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret)
    );
    if !store
        .insert_token(name, scopes, &TokenHash::of(&token), now)
        .await?
    {
        return Err(TokenError::NameTaken(name.to_string()));
    }
    Ok(token)
}

/// An HTTP client that sends `token` with every request (the demo's station, the
/// benchmarks and the tests call the API with one).
pub fn client_with_token(token: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    let value = format!("Bearer {token}")
        .parse()
        .expect("a token is base64url text, valid in a header");
    headers.insert(reqwest::header::AUTHORIZATION, value);
    reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .expect("a client with default settings builds")
}

/// Uses are recorded to the minute: one write a minute per token, not one per request.
const RECORD_USE_EVERY: chrono::TimeDelta = chrono::TimeDelta::seconds(60);

/// Why a request to the station API was refused.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("this API needs a token: send 'Authorization: Bearer <token>'")]
    Missing,
    #[error("the token is not valid, or has been revoked")]
    Invalid,
    #[error("the token '{token}' may not {}: it needs the '{}' scope", .needed.what(), .needed.as_str())]
    NotAllowed { token: String, needed: Scope },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<AuthError> for HttpError {
    fn from(e: AuthError) -> HttpError {
        let message = e.to_string();
        match e {
            AuthError::Missing => HttpError::Unauthenticated {
                message,
                challenge: Some("Bearer realm=\"shipback\""),
            },
            AuthError::Invalid => HttpError::Unauthenticated {
                message,
                challenge: Some("Bearer realm=\"shipback\", error=\"invalid_token\""),
            },
            AuthError::NotAllowed { .. } => HttpError::Forbidden(message),
            AuthError::Store(e) => {
                tracing::error!(error = %e, "cannot check an API token");
                HttpError::Unavailable("cannot check the token now; try again".to_string())
            }
        }
    }
}

impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        HttpError::from(self).into_response()
    }
}

/// The live token the request carries, its use recorded. Scopes are not looked at.
pub async fn authenticate(
    store: &Store,
    authorization: Option<&str>,
    now: DateTime<Utc>,
) -> Result<ApiToken, AuthError> {
    let token = authorization
        .and_then(|value| {
            let (kind, token) = value.trim().split_once(' ')?;
            kind.eq_ignore_ascii_case("bearer").then(|| token.trim())
        })
        .filter(|t| !t.is_empty())
        .ok_or(AuthError::Missing)?;
    let found = store
        .token_by_hash(&TokenHash::of(token))
        .await?
        .ok_or(AuthError::Invalid)?;
    let stale = found
        .last_used_at
        .is_none_or(|t| now - t >= RECORD_USE_EVERY);
    if stale {
        store.touch_token(&found.name, now).await?;
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_read_and_write_back() {
        let scopes: Scopes = "read, ingest".parse().unwrap();
        assert!(scopes.contains(Scope::Ingest) && scopes.contains(Scope::Read));
        assert!(!scopes.contains(Scope::Operate));
        assert_eq!(scopes.to_string(), "ingest,read");
        assert_eq!(scopes.to_string().parse::<Scopes>().unwrap(), scopes);
    }

    #[test]
    fn bad_scopes_are_named() {
        assert!(
            matches!("ingest,admin".parse::<Scopes>(), Err(TokenError::UnknownScope(w)) if w == "admin")
        );
        assert!(matches!(" , ".parse::<Scopes>(), Err(TokenError::NoScope)));
    }

    #[test]
    fn the_hash_is_sha256() {
        // echo -n abc | sha256sum
        assert_eq!(
            TokenHash::of("abc").as_bytes()[..4],
            [0xba, 0x78, 0x16, 0xbf]
        );
    }
}
