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
    /// Why Shipback cannot use the account as stored. Its shipments wait, and its
    /// connection status is Red, until an admin corrects it; the others go on.
    pub unusable: Option<AccountProblem>,
}

/// Why an account cannot be used as stored.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AccountProblem {
    /// A credential cannot be opened: sealed with another key, damaged or missing.
    #[error("Shipback cannot read this account's credentials: {0}")]
    Credentials(String),
    /// A setting the account form would refuse, written around it (an older version,
    /// a hand edit).
    #[error("Shipback cannot use this account's settings: {0}")]
    Settings(String),
}

impl Account {
    /// What in the stored settings the account form would refuse: a value written
    /// around the form (an older version, a hand edit) must not stop the worker.
    pub fn settings_problem(&self) -> Option<String> {
        let mut input = app::accounts::AccountInput::from_summary(&summary(self));
        // The secrets are checked apart (they are sealed); present here.
        input.client_secret = "set".into();
        input.refresh_token = "set".into();
        let problems = input.problems(None);
        (!problems.is_empty()).then(|| {
            problems
                .iter()
                .map(|p| format!("{} must be {}", p.field.replace('_', " "), p.message))
                .collect::<Vec<_>>()
                .join("; ")
        })
    }
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

/// What the admin screen may see of an account: everything but the credentials.
pub fn summary(a: &Account) -> app::accounts::AccountSummary {
    app::accounts::AccountSummary {
        key: a.key.clone(),
        marketplace: a.marketplace.as_str().to_string(),
        display_name: a.display_name.clone(),
        company: a.company.clone(),
        enabled: a.enabled,
        marketplace_id: a.marketplace_id.clone(),
        region: a.region.clone(),
        api_base_url: a.api_base_url.clone(),
        auth_base_url: a.auth_base_url.clone(),
        client_id: a.credentials.client_id.clone(),
        writeback_api: a.writeback_api.clone(),
    }
}

/// The account to store from a checked admin form: a blank secret keeps the one the
/// account has.
pub fn from_input(input: &app::accounts::AccountInput, existing: Option<&Account>) -> NewAccount {
    let keep_or = |typed: &str, stored: Option<&Secret>| {
        if typed.is_empty() {
            stored.cloned().unwrap_or_else(|| Secret::new(""))
        } else {
            Secret::new(typed)
        }
    };
    NewAccount {
        key: input.key.clone(),
        marketplace: MarketplaceKind::parse(&input.marketplace).unwrap_or(MarketplaceKind::Amazon),
        display_name: input.display_name.trim().to_string(),
        company: input.company.trim().to_string(),
        enabled: input.enabled,
        marketplace_id: input.marketplace_id.trim().to_string(),
        region: input.region.trim().to_string(),
        api_base_url: input.api_base_url.trim_end_matches('/').to_string(),
        auth_base_url: input.auth_base_url.trim_end_matches('/').to_string(),
        credentials: Credentials {
            client_id: input.client_id.trim().to_string(),
            client_secret: keep_or(
                &input.client_secret,
                existing.map(|a| &a.credentials.client_secret),
            ),
            refresh_token: keep_or(
                &input.refresh_token,
                existing.map(|a| &a.credentials.refresh_token),
            ),
        },
        writeback_api: input.writeback_api.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(writeback_api: &str, api_base_url: &str) -> Account {
        Account {
            id: 1,
            key: "gadget".into(),
            marketplace: MarketplaceKind::Ebay,
            display_name: "Gadget".into(),
            company: String::new(),
            enabled: true,
            marketplace_id: "0".into(),
            region: "us".into(),
            api_base_url: api_base_url.into(),
            auth_base_url: "https://api.ebay.com".into(),
            credentials: Credentials {
                client_id: "c".into(),
                client_secret: "s".into(),
                refresh_token: "r".into(),
            },
            writeback_api: writeback_api.into(),
            unusable: None,
        }
    }

    #[test]
    fn stored_settings_the_form_would_refuse_are_named() {
        assert_eq!(
            account("fulfillment", "https://api.ebay.com").settings_problem(),
            None
        );
        let problem = account("rest", "ftp://api.ebay.com")
            .settings_problem()
            .unwrap();
        assert!(problem.contains("api base url must be"), "{problem}");
        assert!(problem.contains("writeback api must be"), "{problem}");
    }
}
