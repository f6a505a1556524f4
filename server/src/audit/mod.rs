//! The audit log: what operators and admins did, and every sign-in, with who, when and
//! from where. Written by the dashboard's backend, the station API, the sign-in routes
//! and the command line; read by admins on the audit page and as CSV.

use crate::store::Store;
use crate::web::error::HttpError;
use app::audit::{AuditEntry, AUDIT_EXPORT_PATH};
use app::people::SignedIn;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chrono::Utc;

/// The client's address, as the listener saw it ("unknown" where it is not recorded:
/// a server started without connect info, as in some tests).
pub fn peer_address(extensions: &axum::http::Extensions) -> String {
    extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "unknown".to_string())
}

/// Who did something, as the audit log names them.
#[derive(Clone, Debug, PartialEq)]
pub enum Actor {
    /// A person signed in to the dashboard.
    Person(SignedIn),
    /// A station API token, from the address that used it.
    Token {
        name: String,
        scopes: crate::tokens::Scopes,
        address: String,
    },
    /// Someone at the server's command line.
    CommandLine,
    /// Someone who tried to sign in under `name` and was refused.
    Stranger { name: String, address: String },
}

impl Actor {
    /// The token behind an API request, from `address`.
    pub fn token(token: &crate::tokens::ApiToken, address: String) -> Actor {
        Actor::Token {
            name: token.name.clone(),
            scopes: token.scopes,
            address,
        }
    }

    /// The log's actor column: a person's name, `token:NAME`, or `command line`.
    fn name(&self) -> String {
        match self {
            Actor::Person(who) => who.name.clone(),
            Actor::Token { name, .. } => format!("token:{name}"),
            Actor::CommandLine => "command line".to_string(),
            Actor::Stranger { name, .. } => name.clone(),
        }
    }

    /// The role column: a person's role, or a token's scopes.
    fn role(&self) -> String {
        match self {
            Actor::Person(who) => who.role.as_str().to_string(),
            Actor::Token { scopes, .. } => scopes.to_string(),
            Actor::CommandLine | Actor::Stranger { .. } => String::new(),
        }
    }

    fn address(&self) -> String {
        match self {
            Actor::Person(who) => who.address.clone(),
            Actor::Token { address, .. } | Actor::Stranger { address, .. } => address.clone(),
            Actor::CommandLine => "local".to_string(),
        }
    }
}

/// What was done. The stored names are the log's `action` column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    SignIn,
    SignInRefused,
    SignOut,
    Retry,
    Confirm,
    AccountSave,
    AccountEnable,
    AccountDisable,
    UserAdd,
    TokenCreate,
    TokenRevoke,
    KeysRotate,
    CarrierMap,
    CarrierUnmap,
    CarrierImport,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::SignIn => "sign_in",
            Action::SignInRefused => "sign_in_refused",
            Action::SignOut => "sign_out",
            Action::Retry => "retry",
            Action::Confirm => "confirm",
            Action::AccountSave => "account_save",
            Action::AccountEnable => "account_enable",
            Action::AccountDisable => "account_disable",
            Action::UserAdd => "user_add",
            Action::TokenCreate => "token_create",
            Action::TokenRevoke => "token_revoke",
            Action::KeysRotate => "keys_rotate",
            Action::CarrierMap => "carrier_map",
            Action::CarrierUnmap => "carrier_unmap",
            Action::CarrierImport => "carrier_import",
        }
    }
}

/// Adds an entry: `actor` did `action` to `target` (a shipment, person, token or
/// account), with `detail`. A failure to record is logged, not returned: the action it
/// records has happened already.
pub async fn record(store: &Store, actor: &Actor, action: Action, target: &str, detail: &str) {
    let entry = AuditEntry {
        id: 0,
        at: Utc::now(),
        actor: actor.name(),
        role: actor.role(),
        action: action.as_str().to_string(),
        target: target.to_string(),
        detail: detail.to_string(),
        address: actor.address(),
    };
    if let Err(e) = store.record_audit(&entry).await {
        tracing::error!(error = %e, action = action.as_str(), target, "cannot write the audit log");
    }
}

pub const COLUMNS: [&str; 8] = [
    "ID", "At (UTC)", "Actor", "Role", "Action", "Target", "Detail", "Address",
];

/// The entries as CSV, with the same rules as the shipments' export (RFC 4180, every
/// cell that a spreadsheet would run as a formula neutralised).
pub fn to_csv(entries: &[AuditEntry]) -> Result<Vec<u8>, csv::Error> {
    use crate::export::neutralise;
    let mut writer = crate::export::csv_writer(Vec::new());
    writer.write_record(COLUMNS)?;
    for e in entries {
        let at = e.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let id = e.id.to_string();
        let cells = [
            &id, &at, &e.actor, &e.role, &e.action, &e.target, &e.detail, &e.address,
        ];
        writer.write_record(cells.iter().map(|c| neutralise(c).into_owned()))?;
    }
    writer
        .into_inner()
        .map_err(|e| csv::Error::from(e.into_error()))
}

/// `GET /export/audit.csv`, for admins (the route table says so).
pub fn routes(store: Store) -> Router {
    Router::new()
        .route(AUDIT_EXPORT_PATH, get(export_csv))
        .with_state(store)
}

async fn export_csv(State(store): State<Store>) -> Result<Response, HttpError> {
    let entries = store
        .audit_entries(None)
        .await
        .map_err(|e| HttpError::store("reading the audit log", e))?;
    let csv = to_csv(&entries).map_err(|e| {
        tracing::error!(error = %e, "cannot write the audit CSV");
        HttpError::Internal
    })?;
    let name = format!("audit-{}.csv", Utc::now().format("%Y-%m-%d"));
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        csv,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_csv_neutralises_formulas_and_quotes_as_rfc_4180() {
        let entry = AuditEntry {
            id: 7,
            at: chrono::DateTime::UNIX_EPOCH,
            actor: "=cmd|' /C calc'!A0".into(),
            role: "operator".into(),
            action: "confirm".into(),
            target: "S-1".into(),
            detail: "note: \"done\", by phone".into(),
            address: "10.0.0.7".into(),
        };
        let text = String::from_utf8(to_csv(&[entry]).unwrap()).unwrap();
        assert_eq!(
            text,
            "ID,At (UTC),Actor,Role,Action,Target,Detail,Address\r\n\
             7,1970-01-01T00:00:00Z,'=cmd|' /C calc'!A0,operator,confirm,S-1,\"note: \"\"done\"\", by phone\",10.0.0.7\r\n"
        );
    }
}
