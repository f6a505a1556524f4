//! Server functions: the dashboard's calls to the backend.

use crate::shipments::{Page, ShipmentDetail, ShipmentRow};
use crate::wire::BrowserJson;
use leptos::prelude::*;

/// One page of the grid. `query` is the grid's URL query string, parsed by the same code
/// as `GET /api/v1/shipments`, so the dashboard and the API cannot disagree.
#[server(prefix = "/rpc", output = BrowserJson)]
pub async fn list_shipments(query: String) -> Result<Page<ShipmentRow>, ServerFnError> {
    use crate::backend::{backend_for_caller, server_fn_error, BackendError};
    use leptos::server_fn::ServerFn;
    let (backend, _) = backend_for_caller(ListShipments::PATH)?;
    let query = crate::query::ShipmentQuery::from_pairs(
        parse_query_pairs(&query)
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str())),
    )
    .map_err(|e| server_fn_error(BackendError::InvalidRequest(e.to_string())))?;
    backend
        .list_shipments(&query)
        .await
        .map_err(server_fn_error)
}

/// Everything about one shipment, with its attempt history.
#[server(prefix = "/rpc", output = BrowserJson)]
pub async fn get_shipment(shipment_id: String) -> Result<Option<ShipmentDetail>, ServerFnError> {
    use crate::backend::{backend_for_caller, server_fn_error};
    use leptos::server_fn::ServerFn;
    let (backend, _) = backend_for_caller(GetShipment::PATH)?;
    backend
        .shipment_detail(&shipment_id)
        .await
        .map_err(server_fn_error)
}

/// The accounts and carriers the filter bar offers.
#[server(prefix = "/rpc", output = BrowserJson)]
pub async fn filter_options() -> Result<crate::shipments::FilterOptions, ServerFnError> {
    use crate::backend::{backend_for_caller, server_fn_error};
    use leptos::server_fn::ServerFn;
    let (backend, _) = backend_for_caller(FilterOptions::PATH)?;
    backend.filter_options().await.map_err(server_fn_error)
}

/// Retry now: Failed shipments start a new round of attempts at once.
#[server(prefix = "/rpc", output = BrowserJson)]
pub async fn retry_shipments(
    shipment_ids: Vec<String>,
) -> Result<Vec<crate::shipments::ActionResult>, ServerFnError> {
    use crate::backend::{backend_for_caller, server_fn_error};
    use leptos::server_fn::ServerFn;
    let (backend, who) = backend_for_caller(RetryShipments::PATH)?;
    backend
        .retry_shipments(&who, &shipment_ids)
        .await
        .map_err(server_fn_error)
}

/// The manual's "Confirm Shipment": a Failed shipment was confirmed by hand in Seller
/// Central or My eBay; who did it, and a note, are kept.
#[server(prefix = "/rpc", output = BrowserJson)]
pub async fn confirm_shipment(
    shipment_id: String,
    confirmed_by: String,
    note: String,
) -> Result<crate::shipments::ActionResult, ServerFnError> {
    use crate::backend::{backend_for_caller, server_fn_error};
    use leptos::server_fn::ServerFn;
    let (backend, who) = backend_for_caller(ConfirmShipment::PATH)?;
    backend
        .confirm_shipment(&who, &shipment_id, &confirmed_by, &note)
        .await
        .map_err(server_fn_error)
}

/// The connection-status panel: every enabled account's API health; with `accounts`,
/// only those accounts' (what a `status` event said changed) and the board's figures.
#[server(prefix = "/rpc", output = BrowserJson)]
pub async fn get_status_board(
    accounts: Option<Vec<String>>,
) -> Result<crate::health::PanelBoard, ServerFnError> {
    use crate::backend::{backend_for_caller, server_fn_error};
    use leptos::server_fn::ServerFn;
    let (backend, _) = backend_for_caller(GetStatusBoard::PATH)?;
    backend
        .status_board(accounts.as_deref())
        .await
        .map(crate::health::PanelBoard)
        .map_err(server_fn_error)
}

/// The person signed in, for the top bar and for hiding what their role cannot do.
#[server(prefix = "/rpc", output = BrowserJson)]
pub async fn who_am_i() -> Result<crate::people::SignedIn, ServerFnError> {
    use leptos::server_fn::ServerFn;
    crate::backend::signed_in(WhoAmI::PATH)
}

/// The time zones a person can choose from, and their own choice.
#[server(prefix = "/rpc", output = BrowserJson)]
pub async fn time_zone_choices() -> Result<crate::people::TimeZoneChoices, ServerFnError> {
    use crate::backend::{backend_for_caller, server_fn_error};
    use leptos::server_fn::ServerFn;
    let (backend, who) = backend_for_caller(TimeZoneChoices::PATH)?;
    backend
        .time_zone_choices(&who)
        .await
        .map_err(server_fn_error)
}

/// Sets the signed-in person's own time zone (an IANA name), or back to the site's
/// when `zone` is empty. Every page draws times in it from the next load.
#[server(prefix = "/rpc", output = BrowserJson)]
pub async fn set_time_zone(zone: String) -> Result<(), ServerFnError> {
    use crate::backend::{backend_for_caller, server_fn_error};
    use leptos::server_fn::ServerFn;
    let (backend, who) = backend_for_caller(SetTimeZone::PATH)?;
    backend
        .set_time_zone(&who, zone.trim())
        .await
        .map_err(server_fn_error)
}

/// The audit log's newest entries, for admins.
#[server(prefix = "/rpc", output = BrowserJson)]
pub async fn audit_log() -> Result<Vec<crate::audit::AuditEntry>, ServerFnError> {
    use crate::backend::{backend_for_caller, server_fn_error};
    use leptos::server_fn::ServerFn;
    let (backend, _) = backend_for_caller(AuditLog::PATH)?;
    backend.audit_log().await.map_err(server_fn_error)
}

/// Every marketplace account, without credentials, for the admin screen.
#[server(prefix = "/rpc", output = BrowserJson)]
pub async fn admin_accounts() -> Result<Vec<crate::accounts::AccountSummary>, ServerFnError> {
    use crate::backend::{backend_for_caller, server_fn_error};
    use leptos::server_fn::ServerFn;
    let (backend, _) = backend_for_caller(AdminAccounts::PATH)?;
    backend.admin_accounts().await.map_err(server_fn_error)
}

/// Registers or edits an account. The answer lists what to correct; empty means saved.
#[server(prefix = "/rpc", output = BrowserJson)]
pub async fn save_account(
    input: crate::accounts::AccountInput,
) -> Result<Vec<crate::accounts::AccountFieldError>, ServerFnError> {
    use crate::backend::{backend_for_caller, server_fn_error};
    use leptos::server_fn::ServerFn;
    let (backend, who) = backend_for_caller(SaveAccount::PATH)?;
    backend
        .save_account(&who, &input)
        .await
        .map_err(server_fn_error)
}

/// Enables or disables an account: a disabled one is not written back to nor shown in
/// the connection status. False if there is no such account.
#[server(prefix = "/rpc", output = BrowserJson)]
pub async fn set_account_enabled(key: String, enabled: bool) -> Result<bool, ServerFnError> {
    use crate::backend::{backend_for_caller, server_fn_error};
    use leptos::server_fn::ServerFn;
    let (backend, who) = backend_for_caller(SetAccountEnabled::PATH)?;
    backend
        .set_account_enabled(&who, &key, enabled)
        .await
        .map_err(server_fn_error)
}

/// Everyone who can sign in, for the admin screen.
#[server(prefix = "/rpc", output = BrowserJson)]
pub async fn admin_people() -> Result<Vec<crate::people::PersonSummary>, ServerFnError> {
    use crate::backend::{backend_for_caller, server_fn_error};
    use leptos::server_fn::ServerFn;
    let (backend, _) = backend_for_caller(AdminPeople::PATH)?;
    backend.admin_people().await.map_err(server_fn_error)
}

/// Adds a person, or gives one a new password and role.
#[server(prefix = "/rpc", output = BrowserJson)]
pub async fn save_person(
    name: String,
    role: String,
    password: String,
) -> Result<(), ServerFnError> {
    use crate::backend::{backend_for_caller, server_fn_error, BackendError};
    use leptos::server_fn::ServerFn;
    let (backend, who) = backend_for_caller(SavePerson::PATH)?;
    let role = crate::people::Role::parse(&role).ok_or_else(|| {
        server_fn_error(BackendError::InvalidRequest(
            "The role is viewer, operator or admin.".to_string(),
        ))
    })?;
    backend
        .save_person(&who, &name, role, &password)
        .await
        .map_err(server_fn_error)
}

/// Every station API token, for the admin screen.
#[server(prefix = "/rpc", output = BrowserJson)]
pub async fn admin_tokens() -> Result<Vec<crate::people::TokenSummary>, ServerFnError> {
    use crate::backend::{backend_for_caller, server_fn_error};
    use leptos::server_fn::ServerFn;
    let (backend, _) = backend_for_caller(AdminTokens::PATH)?;
    backend.admin_tokens().await.map_err(server_fn_error)
}

/// Makes a token (`scopes`: `ingest,read`) and answers it, once.
#[server(prefix = "/rpc", output = BrowserJson)]
pub async fn create_token(name: String, scopes: String) -> Result<String, ServerFnError> {
    use crate::backend::{backend_for_caller, server_fn_error};
    use leptos::server_fn::ServerFn;
    let (backend, who) = backend_for_caller(CreateToken::PATH)?;
    backend
        .create_token(&who, &name, &scopes)
        .await
        .map_err(server_fn_error)
}

/// Revokes a token at once.
#[server(prefix = "/rpc", output = BrowserJson)]
pub async fn revoke_token(name: String) -> Result<bool, ServerFnError> {
    use crate::backend::{backend_for_caller, server_fn_error};
    use leptos::server_fn::ServerFn;
    let (backend, who) = backend_for_caller(RevokeToken::PATH)?;
    backend
        .revoke_token(&who, &name)
        .await
        .map_err(server_fn_error)
}

/// The Carriers screen's data, for admins.
#[server(prefix = "/rpc", output = BrowserJson)]
pub async fn admin_carriers() -> Result<crate::carriers::CarriersScreen, ServerFnError> {
    use crate::backend::{backend_for_caller, server_fn_error};
    use leptos::server_fn::ServerFn;
    let (backend, _) = backend_for_caller(AdminCarriers::PATH)?;
    backend.admin_carriers().await.map_err(server_fn_error)
}

/// Adds or replaces a carrier mapping: the shipments waiting for it go on at once.
#[server(prefix = "/rpc", output = BrowserJson)]
pub async fn save_carrier_mapping(
    mapping: crate::carriers::CarrierMappingRow,
) -> Result<(), ServerFnError> {
    use crate::backend::{backend_for_caller, server_fn_error};
    use leptos::server_fn::ServerFn;
    let (backend, who) = backend_for_caller(SaveCarrierMapping::PATH)?;
    backend
        .save_carrier_mapping(&who, &mapping)
        .await
        .map_err(server_fn_error)
}

/// Removes a carrier mapping. False if there was none.
#[server(prefix = "/rpc", output = BrowserJson)]
pub async fn delete_carrier_mapping(
    marketplace: String,
    station_name: String,
) -> Result<bool, ServerFnError> {
    use crate::backend::{backend_for_caller, server_fn_error};
    use leptos::server_fn::ServerFn;
    let (backend, who) = backend_for_caller(DeleteCarrierMapping::PATH)?;
    backend
        .delete_carrier_mapping(&who, &marketplace, &station_name)
        .await
        .map_err(server_fn_error)
}

/// Imports carrier mappings from CSV (`marketplace,station_carrier,code,name`), all or
/// none; answers how many were saved.
#[server(prefix = "/rpc", output = BrowserJson)]
pub async fn import_carrier_mappings(csv: String) -> Result<usize, ServerFnError> {
    use crate::backend::{backend_for_caller, server_fn_error};
    use leptos::server_fn::ServerFn;
    let (backend, who) = backend_for_caller(ImportCarrierMappings::PATH)?;
    backend
        .import_carrier_mappings(&who, &csv)
        .await
        .map_err(server_fn_error)
}

/// Who may call each server function: the least role. The server's route table takes
/// these entries, and each server function checks its own against the caller. A server
/// function missing here is refused to everyone.
pub fn server_fn_roles() -> [(&'static str, crate::people::Role); 22] {
    use crate::people::Role::{Admin, Operator, Viewer};
    use leptos::server_fn::ServerFn;
    [
        // Read-only: they change nothing.
        (ListShipments::PATH, Viewer),
        (GetShipment::PATH, Viewer),
        (FilterOptions::PATH, Viewer),
        (GetStatusBoard::PATH, Viewer),
        (WhoAmI::PATH, Viewer),
        // Each person's own setting.
        (TimeZoneChoices::PATH, Viewer),
        (SetTimeZone::PATH, Viewer),
        // The operator's actions on shipments.
        (RetryShipments::PATH, Operator),
        (ConfirmShipment::PATH, Operator),
        // Accounts, people, tokens and the audit log.
        (AuditLog::PATH, Admin),
        (AdminAccounts::PATH, Admin),
        (SaveAccount::PATH, Admin),
        (SetAccountEnabled::PATH, Admin),
        (AdminPeople::PATH, Admin),
        (SavePerson::PATH, Admin),
        (AdminTokens::PATH, Admin),
        (CreateToken::PATH, Admin),
        (RevokeToken::PATH, Admin),
        (AdminCarriers::PATH, Admin),
        (SaveCarrierMapping::PATH, Admin),
        (DeleteCarrierMapping::PATH, Admin),
        (ImportCarrierMappings::PATH, Admin),
    ]
}

/// The least role that may call the server function at `path`, if it is declared.
pub fn server_fn_role(path: &str) -> Option<crate::people::Role> {
    server_fn_roles()
        .into_iter()
        .find(|(declared, _)| *declared == path)
        .map(|(_, role)| role)
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
