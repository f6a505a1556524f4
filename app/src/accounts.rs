//! Marketplace accounts as the admin screen sees them. Credentials go from the browser
//! to the server only: a summary says whether they are set, never what they are.

use serde::{Deserialize, Serialize};

/// An account on the admin screen: everything but its credentials.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AccountSummary {
    pub key: String,
    pub marketplace: String,
    pub display_name: String,
    pub company: String,
    pub enabled: bool,
    pub marketplace_id: String,
    pub region: String,
    pub api_base_url: String,
    pub auth_base_url: String,
    pub client_id: String,
    pub writeback_api: String,
}

/// What the admin form sends. On an existing account a blank secret keeps the stored one.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AccountInput {
    pub key: String,
    pub marketplace: String,
    pub display_name: String,
    pub company: String,
    pub enabled: bool,
    pub marketplace_id: String,
    pub region: String,
    pub api_base_url: String,
    pub auth_base_url: String,
    pub client_id: String,
    pub client_secret: String,
    pub refresh_token: String,
    pub writeback_api: String,
}

/// A field the form must correct, and why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AccountFieldError {
    pub field: String,
    pub message: String,
}

impl AccountInput {
    /// The form filled with an account, secrets blank (kept unless typed again).
    pub fn from_summary(a: &AccountSummary) -> AccountInput {
        AccountInput {
            key: a.key.clone(),
            marketplace: a.marketplace.clone(),
            display_name: a.display_name.clone(),
            company: a.company.clone(),
            enabled: a.enabled,
            marketplace_id: a.marketplace_id.clone(),
            region: a.region.clone(),
            api_base_url: a.api_base_url.clone(),
            auth_base_url: a.auth_base_url.clone(),
            client_id: a.client_id.clone(),
            client_secret: String::new(),
            refresh_token: String::new(),
            writeback_api: a.writeback_api.clone(),
        }
    }

    /// Whether saving this would send `stored`'s credentials to another address: its
    /// API or token base URL differs (a trailing `/` aside).
    pub fn moves_credentials_from(&self, stored: &AccountSummary) -> bool {
        let same = |a: &str, b: &str| a.trim_end_matches('/') == b.trim_end_matches('/');
        !same(&self.api_base_url, &stored.api_base_url)
            || !same(&self.auth_base_url, &stored.auth_base_url)
    }

    /// The same rules in the browser (a red line at once) and on the server (the
    /// protection). `stored`: the account as registered already, if it is; then blank
    /// secrets keep the stored ones, unless an address changed: stored credentials are
    /// never sent to a new address, so both must be typed again.
    pub fn problems(&self, stored: Option<&AccountSummary>) -> Vec<AccountFieldError> {
        let mut problems = Vec::new();
        let mut problem = |field: &str, message: &str| {
            problems.push(AccountFieldError {
                field: field.to_string(),
                message: message.to_string(),
            })
        };
        let key_ok = (1..=64).contains(&self.key.len())
            && self.key.chars().all(|c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.')
            });
        if !key_ok {
            problem(
                "key",
                "1 to 64 lower-case letters, digits, '-', '_' or '.': the name the station uses",
            );
        }
        let amazon = self.marketplace == "amazon";
        if !amazon && self.marketplace != "ebay" {
            problem("marketplace", "Amazon or eBay");
        }
        if self.display_name.trim().is_empty() || self.display_name.chars().count() > 200 {
            problem("display_name", "a name of 1 to 200 characters");
        }
        if self.company.chars().count() > 200 {
            problem("company", "at most 200 characters");
        }
        if self.marketplace_id.trim().is_empty() || self.marketplace_id.len() > 40 {
            problem(
                "marketplace_id",
                "the marketplace id (ATVPDKIKX0DER for amazon.com) or eBay's site id",
            );
        }
        if amazon && !["na", "eu", "fe"].contains(&self.region.as_str()) {
            problem("region", "Amazon's region: na, eu or fe");
        }
        for (field, url) in [
            ("api_base_url", &self.api_base_url),
            ("auth_base_url", &self.auth_base_url),
        ] {
            let ok = (url.starts_with("https://") || url.starts_with("http://"))
                && url.len() > "https://".len()
                && url.len() <= 300
                && !url.contains(char::is_whitespace);
            if !ok {
                problem(field, "an http:// or https:// address");
            }
        }
        if self.client_id.trim().is_empty() {
            problem("client_id", "the app's client id");
        }
        let moved = stored.is_some_and(|stored| self.moves_credentials_from(stored));
        for (field, secret) in [
            ("client_secret", &self.client_secret),
            ("refresh_token", &self.refresh_token),
        ] {
            if secret.is_empty() && stored.is_none() {
                problem(field, "required for a new account");
            }
            if secret.is_empty() && moved {
                problem(
                    field,
                    "the API or token address changed: type the credentials again \
                     (the stored ones are never sent to a new address)",
                );
            }
            if secret.len() > 4096 {
                problem(field, "at most 4,096 characters");
            }
        }
        let writeback_ok = match self.writeback_api.as_str() {
            "" => true,
            "trading" | "fulfillment" => !amazon,
            _ => false,
        };
        if !writeback_ok {
            problem(
                "writeback_api",
                "empty (the marketplace's default), or for eBay: trading or fulfillment",
            );
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn amazon() -> AccountInput {
        AccountInput {
            key: "acme-ca".into(),
            marketplace: "amazon".into(),
            display_name: "Acme Canada".into(),
            company: "Acme Inc.".into(),
            enabled: true,
            marketplace_id: "A2EUQ1WTGCTBG2".into(),
            region: "na".into(),
            api_base_url: "https://sellingpartnerapi-na.amazon.com".into(),
            auth_base_url: "https://api.amazon.com".into(),
            client_id: "amzn1.application-oa2-client.x".into(),
            client_secret: "s".into(),
            refresh_token: "Atzr|r".into(),
            writeback_api: String::new(),
        }
    }

    #[test]
    fn a_complete_account_passes_and_each_mistake_is_named() {
        assert_eq!(amazon().problems(None), vec![]);
        let stored = AccountSummary {
            key: "acme-ca".into(),
            marketplace: "amazon".into(),
            display_name: "Acme Canada".into(),
            company: "Acme Inc.".into(),
            enabled: true,
            marketplace_id: "A2EUQ1WTGCTBG2".into(),
            region: "na".into(),
            api_base_url: "https://sellingpartnerapi-na.amazon.com".into(),
            auth_base_url: "https://api.amazon.com".into(),
            client_id: "amzn1.application-oa2-client.x".into(),
            writeback_api: String::new(),
        };
        let fields = |input: AccountInput, existing: bool| -> Vec<String> {
            input
                .problems(existing.then_some(&stored))
                .into_iter()
                .map(|p| p.field)
                .collect()
        };
        assert_eq!(
            fields(
                AccountInput {
                    key: "Acme CA".into(),
                    ..amazon()
                },
                false
            ),
            ["key"]
        );
        assert_eq!(
            fields(
                AccountInput {
                    region: "us".into(),
                    ..amazon()
                },
                false
            ),
            ["region"]
        );
        assert_eq!(
            fields(
                AccountInput {
                    api_base_url: "ftp://x".into(),
                    ..amazon()
                },
                false
            ),
            ["api_base_url"]
        );
        assert_eq!(
            fields(
                AccountInput {
                    writeback_api: "trading".into(),
                    ..amazon()
                },
                false
            ),
            ["writeback_api"]
        );
        // Blank secrets: refused for a new account, kept for an existing one.
        let blank = AccountInput {
            client_secret: String::new(),
            refresh_token: String::new(),
            ..amazon()
        };
        assert_eq!(
            fields(blank.clone(), false),
            ["client_secret", "refresh_token"]
        );
        assert_eq!(fields(blank.clone(), true), Vec::<String>::new());
        // An address changed: the stored secrets are not kept for it.
        let elsewhere = AccountInput {
            api_base_url: "https://collector.example".into(),
            ..blank.clone()
        };
        assert_eq!(
            fields(elsewhere.clone(), true),
            ["client_secret", "refresh_token"]
        );
        let token_elsewhere = AccountInput {
            auth_base_url: "https://collector.example/".into(),
            ..blank.clone()
        };
        assert_eq!(
            fields(token_elsewhere, true),
            ["client_secret", "refresh_token"]
        );
        // Typed again with the new address: accepted. A trailing slash is no change.
        assert_eq!(
            fields(
                AccountInput {
                    client_secret: "s2".into(),
                    refresh_token: "Atzr|r2".into(),
                    ..elsewhere
                },
                true
            ),
            Vec::<String>::new()
        );
        let slash = AccountInput {
            api_base_url: "https://sellingpartnerapi-na.amazon.com/".into(),
            ..blank
        };
        assert_eq!(fields(slash, true), Vec::<String>::new());
    }
}
