//! Server functions: the dashboard's calls to the backend.

use crate::shipments::{Page, ShipmentDetail, ShipmentRow};
use crate::wire::BrowserJson;
use leptos::prelude::*;

/// One page of the grid. `query` is the grid's URL query string, parsed by the same code
/// as `GET /api/v1/shipments`, so the dashboard and the API cannot disagree.
#[server(prefix = "/rpc", output = BrowserJson)]
pub async fn list_shipments(query: String) -> Result<Page<ShipmentRow>, ServerFnError> {
    crate::backend::require(crate::people::Role::Viewer)?;
    use crate::backend::Backend;
    let query = crate::query::ShipmentQuery::from_pairs(
        parse_query_pairs(&query)
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str())),
    )
    .map_err(|e| ServerFnError::new(e.to_string()))?;
    Backend::from_context()?
        .0
        .list_shipments(&query)
        .await
        .map_err(|e| ServerFnError::new(e.to_string()))
}

/// Everything about one shipment, with its attempt history.
#[server(prefix = "/rpc", output = BrowserJson)]
pub async fn get_shipment(shipment_id: String) -> Result<Option<ShipmentDetail>, ServerFnError> {
    crate::backend::require(crate::people::Role::Viewer)?;
    use crate::backend::Backend;
    Backend::from_context()?
        .0
        .shipment_detail(&shipment_id)
        .await
        .map_err(|e| ServerFnError::new(e.to_string()))
}

/// The accounts and carriers the filter bar offers.
#[server(prefix = "/rpc", output = BrowserJson)]
pub async fn filter_options() -> Result<crate::shipments::FilterOptions, ServerFnError> {
    crate::backend::require(crate::people::Role::Viewer)?;
    use crate::backend::Backend;
    Backend::from_context()?
        .0
        .filter_options()
        .await
        .map_err(|e| ServerFnError::new(e.to_string()))
}

/// Retry now: Failed shipments start a new round of attempts at once.
#[server(prefix = "/rpc", output = BrowserJson)]
pub async fn retry_shipments(
    shipment_ids: Vec<String>,
) -> Result<Vec<crate::shipments::ActionResult>, ServerFnError> {
    let who = crate::backend::require(crate::people::Role::Operator)?;
    use crate::backend::Backend;
    if shipment_ids.is_empty() || shipment_ids.len() > crate::shipments::MAX_RETRY_BATCH {
        return Err(ServerFnError::new(format!(
            "retry between 1 and {} shipments at a time",
            crate::shipments::MAX_RETRY_BATCH
        )));
    }
    Backend::from_context()?
        .0
        .retry_shipments(&who, &shipment_ids)
        .await
        .map_err(|e| ServerFnError::new(e.to_string()))
}

/// The manual's "Confirm Shipment": a Failed shipment was confirmed by hand in Seller
/// Central or My eBay; who did it, and a note, are kept.
#[server(prefix = "/rpc", output = BrowserJson)]
pub async fn confirm_shipment(
    shipment_id: String,
    confirmed_by: String,
    note: String,
) -> Result<crate::shipments::ActionResult, ServerFnError> {
    let who = crate::backend::require(crate::people::Role::Operator)?;
    use crate::backend::Backend;
    let confirmation =
        crate::shipments::ManualConfirmation::new(&confirmed_by, &note, chrono::Utc::now())
            .map_err(ServerFnError::new)?;
    Backend::from_context()?
        .0
        .confirm_shipment(&who, &shipment_id, &confirmation)
        .await
        .map_err(|e| ServerFnError::new(e.to_string()))
}

/// The connection-status panel: every enabled account's API health.
#[server(prefix = "/rpc", output = BrowserJson)]
pub async fn get_status_board() -> Result<crate::health::StatusBoard, ServerFnError> {
    crate::backend::require(crate::people::Role::Viewer)?;
    use crate::backend::Backend;
    Backend::from_context()?
        .0
        .status_board()
        .await
        .map_err(|e| ServerFnError::new(e.to_string()))
}

/// The person signed in, for the top bar and for hiding what their role cannot do.
#[server(prefix = "/rpc", output = BrowserJson)]
pub async fn who_am_i() -> Result<crate::people::SignedIn, ServerFnError> {
    crate::backend::require(crate::people::Role::Viewer)
}

/// The audit log's newest entries, for admins.
#[server(prefix = "/rpc", output = BrowserJson)]
pub async fn audit_log() -> Result<Vec<crate::audit::AuditEntry>, ServerFnError> {
    use crate::backend::Backend;
    crate::backend::require(crate::people::Role::Admin)?;
    Backend::from_context()?
        .0
        .audit_log()
        .await
        .map_err(|e| ServerFnError::new(e.to_string()))
}

/// Every marketplace account, without credentials, for the admin screen.
#[server(prefix = "/rpc", output = BrowserJson)]
pub async fn admin_accounts() -> Result<Vec<crate::accounts::AccountSummary>, ServerFnError> {
    use crate::backend::Backend;
    crate::backend::require(crate::people::Role::Admin)?;
    Backend::from_context()?
        .0
        .admin_accounts()
        .await
        .map_err(|e| ServerFnError::new(e.to_string()))
}

/// Registers or edits an account. The answer lists what to correct; empty means saved.
#[server(prefix = "/rpc", output = BrowserJson)]
pub async fn save_account(
    input: crate::accounts::AccountInput,
) -> Result<Vec<crate::accounts::AccountFieldError>, ServerFnError> {
    use crate::backend::Backend;
    let who = crate::backend::require(crate::people::Role::Admin)?;
    Backend::from_context()?
        .0
        .save_account(&who, &input)
        .await
        .map_err(|e| ServerFnError::new(e.to_string()))
}

/// Enables or disables an account: a disabled one is not written back to nor shown in
/// the connection status. False if there is no such account.
#[server(prefix = "/rpc", output = BrowserJson)]
pub async fn set_account_enabled(key: String, enabled: bool) -> Result<bool, ServerFnError> {
    use crate::backend::Backend;
    let who = crate::backend::require(crate::people::Role::Admin)?;
    Backend::from_context()?
        .0
        .set_account_enabled(&who, &key, enabled)
        .await
        .map_err(|e| ServerFnError::new(e.to_string()))
}

/// Everyone who can sign in, for the admin screen.
#[server(prefix = "/rpc", output = BrowserJson)]
pub async fn admin_people() -> Result<Vec<crate::people::PersonSummary>, ServerFnError> {
    use crate::backend::Backend;
    crate::backend::require(crate::people::Role::Admin)?;
    Backend::from_context()?
        .0
        .admin_people()
        .await
        .map_err(|e| ServerFnError::new(e.to_string()))
}

/// Adds a person, or gives one a new password and role.
#[server(prefix = "/rpc", output = BrowserJson)]
pub async fn save_person(
    name: String,
    role: String,
    password: String,
) -> Result<(), ServerFnError> {
    use crate::backend::Backend;
    let who = crate::backend::require(crate::people::Role::Admin)?;
    let role = crate::people::Role::parse(&role)
        .ok_or_else(|| ServerFnError::new("The role is viewer, operator or admin."))?;
    Backend::from_context()?
        .0
        .save_person(&who, &name, role, &password)
        .await
        .map_err(|e| ServerFnError::new(e.to_string()))
}

/// Every station API token, for the admin screen.
#[server(prefix = "/rpc", output = BrowserJson)]
pub async fn admin_tokens() -> Result<Vec<crate::people::TokenSummary>, ServerFnError> {
    use crate::backend::Backend;
    crate::backend::require(crate::people::Role::Admin)?;
    Backend::from_context()?
        .0
        .admin_tokens()
        .await
        .map_err(|e| ServerFnError::new(e.to_string()))
}

/// Makes a token (`scopes`: `ingest,read`) and answers it, once.
#[server(prefix = "/rpc", output = BrowserJson)]
pub async fn create_token(name: String, scopes: String) -> Result<String, ServerFnError> {
    use crate::backend::Backend;
    let who = crate::backend::require(crate::people::Role::Admin)?;
    Backend::from_context()?
        .0
        .create_token(&who, &name, &scopes)
        .await
        .map_err(|e| ServerFnError::new(e.to_string()))
}

/// Revokes a token at once.
#[server(prefix = "/rpc", output = BrowserJson)]
pub async fn revoke_token(name: String) -> Result<bool, ServerFnError> {
    use crate::backend::Backend;
    let who = crate::backend::require(crate::people::Role::Admin)?;
    Backend::from_context()?
        .0
        .revoke_token(&who, &name)
        .await
        .map_err(|e| ServerFnError::new(e.to_string()))
}

/// The server functions only an admin may call (the route test holds each to refusing
/// an operator).
pub fn admin_server_fns() -> [&'static str; 9] {
    use leptos::server_fn::ServerFn;
    [
        AuditLog::PATH,
        AdminAccounts::PATH,
        SaveAccount::PATH,
        SetAccountEnabled::PATH,
        AdminPeople::PATH,
        SavePerson::PATH,
        AdminTokens::PATH,
        CreateToken::PATH,
        RevokeToken::PATH,
    ]
}

/// The server functions a viewer may call: they read and change nothing. Every other
/// one must refuse a viewer (the server's route test holds each to that).
pub fn read_only_server_fns() -> [&'static str; 5] {
    use leptos::server_fn::ServerFn;
    [
        ListShipments::PATH,
        GetShipment::PATH,
        FilterOptions::PATH,
        GetStatusBoard::PATH,
        WhoAmI::PATH,
    ]
}

/// Splits and percent-decodes `a=1&b=2`.
pub fn parse_query_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(hi), Some(lo)) => {
                    out.push(hi * 16 + lo);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(digit: u8) -> Option<u8> {
    (digit as char).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_pairs() {
        assert_eq!(
            parse_query_pairs("status=failed&from=2026-11-01T00%3A00%3A00%2B01%3A00&x"),
            vec![
                ("status".to_string(), "failed".to_string()),
                ("from".to_string(), "2026-11-01T00:00:00+01:00".to_string()),
                ("x".to_string(), String::new()),
            ]
        );
    }

    #[test]
    fn tolerates_broken_escapes() {
        assert_eq!(
            parse_query_pairs("a=%zz&b=%4"),
            vec![
                ("a".to_string(), "%zz".to_string()),
                ("b".to_string(), "%4".to_string()),
            ]
        );
    }
}
