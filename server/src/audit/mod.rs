//! The audit log: what operators and admins did, and every sign-in, with who, when and
//! from where. Written by the dashboard's backend, the station API, the sign-in routes
//! and the command line; read by admins on the audit page and as CSV.

use crate::store::Store;
use app::audit::{AuditEntry, AUDIT_EXPORT_PATH};
use app::people::{Role, SignedIn};
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use chrono::Utc;

/// The client's address, as the listener saw it ("unknown" where it is not recorded:
/// a server started without connect info, as in some tests).
pub fn peer_address(extensions: &axum::http::Extensions) -> String {
    extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "unknown".to_string())
}

/// The same, as a handler argument.
pub struct PeerAddress(pub String);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for PeerAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(PeerAddress(peer_address(&parts.extensions)))
    }
}

/// The actor of the command line's entries.
pub const COMMAND_LINE: &str = "command line";

/// Adds an entry. A failure to record is logged, not returned: the action it records
/// has happened already.
pub async fn record(
    store: &Store,
    actor: &str,
    role: &str,
    action: &str,
    target: &str,
    detail: &str,
    address: &str,
) {
    let entry = AuditEntry {
        id: 0,
        at: Utc::now(),
        actor: actor.to_string(),
        role: role.to_string(),
        action: action.to_string(),
        target: target.to_string(),
        detail: detail.to_string(),
        address: address.to_string(),
    };
    if let Err(e) = store.record_audit(&entry).await {
        tracing::error!(error = %e, action, target, "cannot write the audit log");
    }
}

/// What a signed-in person did.
pub async fn record_person(
    store: &Store,
    who: &SignedIn,
    action: &str,
    target: &str,
    detail: &str,
) {
    record(
        store,
        &who.name,
        who.role.as_str(),
        action,
        target,
        detail,
        &who.address,
    )
    .await;
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

/// `GET /export/audit.csv`, for admins (behind sign-in; the role is checked here).
pub fn routes(store: Store) -> Router {
    Router::new()
        .route(AUDIT_EXPORT_PATH, get(export_csv))
        .with_state(store)
}

async fn export_csv(State(store): State<Store>, who: Option<Extension<SignedIn>>) -> Response {
    let Some(Extension(who)) = who else {
        return (StatusCode::UNAUTHORIZED, "Sign in first.").into_response();
    };
    if !who.role.allows(Role::Admin) {
        return (StatusCode::FORBIDDEN, "The audit log is for admins.").into_response();
    }
    let csv = match store
        .audit_entries(None)
        .await
        .map(|entries| to_csv(&entries))
    {
        Ok(Ok(csv)) => csv,
        Ok(Err(e)) => {
            tracing::error!(error = %e, "cannot write the audit CSV");
            return (StatusCode::INTERNAL_SERVER_ERROR, "cannot write the CSV").into_response();
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot read the audit log");
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                "the database could not answer",
            )
                .into_response();
        }
    };
    let name = format!("audit-{}.csv", Utc::now().format("%Y-%m-%d"));
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        csv,
    )
        .into_response()
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
