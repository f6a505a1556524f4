//! Who is signed in, and what their role lets them do. Shared with the browser so that
//! the dashboard can hide what a role cannot do; the server checks it on every call.

use serde::{Deserialize, Serialize};

/// Ordered: each role may do everything the ones before it may.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Sees everything and exports.
    Viewer,
    /// Also retries and confirms shipments by hand.
    Operator,
    /// Also manages accounts, users and tokens.
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Viewer, Role::Operator, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Admin => "admin",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == text.trim())
    }

    /// The role with its article, as a sentence says it: "a viewer", "an operator".
    pub fn with_article(self) -> &'static str {
        match self {
            Role::Viewer => "a viewer",
            Role::Operator => "an operator",
            Role::Admin => "an admin",
        }
    }

    /// Why `who` may not do what `needed` may, in one sentence.
    pub fn refusal(who: &SignedIn, needed: Role) -> String {
        format!(
            "{} is signed in as {}; this needs {} or above.",
            who.name,
            who.role.with_article(),
            needed.with_article()
        )
    }

    /// Whether this role may do what `needed` may.
    pub fn allows(self, needed: Role) -> bool {
        self >= needed
    }
}

/// The person behind a request, as the server put it in the request's extensions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SignedIn {
    pub name: String,
    pub role: Role,
    /// Where the request came from, for the audit log.
    #[serde(default)]
    pub address: String,
    /// Their own time zone (an IANA name); `None` follows the site's.
    #[serde(default)]
    pub time_zone: Option<String>,
}

/// What the user menu offers for the time zone.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TimeZoneChoices {
    /// The person's own choice; `None` follows the site's.
    pub chosen: Option<String>,
    /// The site's zone (`--time-zone`).
    pub site: String,
    /// Every IANA zone name, in order.
    pub zones: Vec<String>,
}

/// Where the sign-in form posts, and where signing out goes.
pub const SIGN_IN_PATH: &str = "/login";
pub const SIGN_OUT_PATH: &str = "/logout";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_role_allows_those_below_it_only() {
        assert!(Role::Admin.allows(Role::Operator) && Role::Admin.allows(Role::Viewer));
        assert!(Role::Operator.allows(Role::Viewer) && !Role::Operator.allows(Role::Admin));
        assert!(!Role::Viewer.allows(Role::Operator));
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("root"), None);
    }
}

/// A person on the admin screen (no password, not even its hash).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PersonSummary {
    pub name: String,
    pub role: Role,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// A station API token on the admin screen: never the token itself.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TokenSummary {
    pub name: String,
    /// `ingest,read`
    pub scopes: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub last_used_at: Option<chrono::DateTime<chrono::Utc>>,
    pub revoked_at: Option<chrono::DateTime<chrono::Utc>>,
}
