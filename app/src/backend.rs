//! The interface through which server functions reach the backend.
//!
//! `app` declares it; the `server` crate implements it over its store and provides it
//! through Leptos context, so that the dependency points one way (server -> app).

use crate::health::StatusBoard;
use crate::people::{Role, SignedIn};
use crate::query::ShipmentQuery;
use crate::shipments::{ActionResult, FilterOptions, Page, ShipmentDetail, ShipmentRow};
use std::sync::Arc;

/// Why the backend did not do what a server function asked: the one error type of this
/// boundary. [`server_fn_error`] turns it into the server function's answer, once.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    /// The request itself is wrong (a bad cursor, a blank name): the user can fix it.
    #[error("{0}")]
    InvalidRequest(String),
    /// What the request names does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The request is right but the thing is not in a state that allows it.
    #[error("{0}")]
    Conflict(String),
    /// No one is signed in (the session ended).
    #[error("Sign in first: your session has ended.")]
    SignedOut,
    /// Signed in, but the role does not allow it.
    #[error("{0}")]
    Forbidden(String),
    /// Something broke on the server side (the database, say); the details are in the
    /// server's log, not in the answer.
    #[error("{0}")]
    Internal(String),
}

impl BackendError {
    /// The HTTP status of the server function's answer.
    fn status(&self) -> http::StatusCode {
        use http::StatusCode;
        match self {
            // The person can correct the request and send it again.
            BackendError::InvalidRequest(_) => StatusCode::BAD_REQUEST,
            BackendError::NotFound(_) => StatusCode::NOT_FOUND,
            // Nothing is wrong with the request; the thing's state forbids it now.
            BackendError::Conflict(_) => StatusCode::CONFLICT,
            // The page should send the person to the sign-in form.
            BackendError::SignedOut => StatusCode::UNAUTHORIZED,
            // Signing in again would not help: the role is too low.
            BackendError::Forbidden(_) => StatusCode::FORBIDDEN,
            BackendError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// A backend refusal as the server function's answer: its status on the response, and
/// its sentence as the error the page shows.
pub fn server_fn_error(error: BackendError) -> leptos::prelude::ServerFnError {
    if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(error.status());
    }
    leptos::prelude::ServerFnError::new(error.to_string())
}

#[async_trait::async_trait]
pub trait ShipmentsBackend: Send + Sync + 'static {
    async fn list_shipments(
        &self,
        query: &ShipmentQuery,
    ) -> Result<Page<ShipmentRow>, BackendError>;

    async fn shipment_detail(
        &self,
        shipment_id: &str,
    ) -> Result<Option<ShipmentDetail>, BackendError>;

    /// The accounts and carriers the filter bar offers.
    async fn filter_options(&self) -> Result<FilterOptions, BackendError>;

    /// Queues these Failed shipments for a new round now; `who` goes in the audit log.
    async fn retry_shipments(
        &self,
        who: &SignedIn,
        shipment_ids: &[String],
    ) -> Result<Vec<ActionResult>, BackendError>;

    /// Records that a Failed shipment was confirmed by hand on the marketplace, by
    /// `confirmed_by`, with a note.
    async fn confirm_shipment(
        &self,
        who: &SignedIn,
        shipment_id: &str,
        confirmed_by: &str,
        note: &str,
    ) -> Result<ActionResult, BackendError>;

    /// Every enabled account's API health, as of now; with `only`, those accounts
    /// alone (and the board's own figures).
    async fn status_board(&self, only: Option<&[String]>) -> Result<StatusBoard, BackendError>;

    /// Every account, without its credentials, for the admin screen.
    async fn admin_accounts(&self) -> Result<Vec<crate::accounts::AccountSummary>, BackendError>;

    /// Registers or edits an account; the problems found, or none when it was saved.
    async fn save_account(
        &self,
        who: &SignedIn,
        input: &crate::accounts::AccountInput,
    ) -> Result<Vec<crate::accounts::AccountFieldError>, BackendError>;

    /// Enables or disables an account; false if there is no such account.
    async fn set_account_enabled(
        &self,
        who: &SignedIn,
        key: &str,
        enabled: bool,
    ) -> Result<bool, BackendError>;

    /// Everyone who can sign in.
    async fn admin_people(&self) -> Result<Vec<crate::people::PersonSummary>, BackendError>;

    /// Adds a person or resets their password and role. `Err(InvalidRequest)` says what
    /// is wrong with the name or password.
    async fn save_person(
        &self,
        who: &SignedIn,
        name: &str,
        role: Role,
        password: &str,
    ) -> Result<(), BackendError>;

    /// Every station API token, revoked ones too.
    async fn admin_tokens(&self) -> Result<Vec<crate::people::TokenSummary>, BackendError>;

    /// Makes a token and returns it: the only time it is seen.
    async fn create_token(
        &self,
        who: &SignedIn,
        name: &str,
        scopes: &str,
    ) -> Result<String, BackendError>;

    /// Revokes a live token; false if there is none by that name.
    async fn revoke_token(&self, who: &SignedIn, name: &str) -> Result<bool, BackendError>;

    /// The carrier mappings, the names shipments wait on, and each marketplace's codes.
    async fn admin_carriers(&self) -> Result<crate::carriers::CarriersScreen, BackendError>;

    /// Adds or replaces a carrier mapping; the shipments waiting for it go on.
    async fn save_carrier_mapping(
        &self,
        who: &SignedIn,
        mapping: &crate::carriers::CarrierMappingRow,
    ) -> Result<(), BackendError>;

    /// Removes a carrier mapping; false if there was none.
    async fn delete_carrier_mapping(
        &self,
        who: &SignedIn,
        marketplace: &str,
        station_name: &str,
    ) -> Result<bool, BackendError>;

    /// Imports mappings from CSV (all or none); how many were saved.
    async fn import_carrier_mappings(
        &self,
        who: &SignedIn,
        csv: &str,
    ) -> Result<usize, BackendError>;

    /// The zones the person may choose from, and their choice.
    async fn time_zone_choices(
        &self,
        who: &SignedIn,
    ) -> Result<crate::people::TimeZoneChoices, BackendError>;

    /// Keeps the person's own time zone; empty goes back to the site's. An unknown
    /// name is `InvalidRequest`.
    async fn set_time_zone(&self, who: &SignedIn, zone: &str) -> Result<(), BackendError>;

    /// The newest entries of the audit log, newest first.
    async fn audit_log(&self) -> Result<Vec<crate::audit::AuditEntry>, BackendError>;
}

/// The handle server functions find in context.
#[derive(Clone)]
pub struct Backend(pub Arc<dyn ShipmentsBackend>);

impl Backend {
    /// The backend the server provided, or an error naming the misconfiguration.
    pub fn from_context() -> Result<Backend, leptos::prelude::ServerFnError> {
        leptos::prelude::use_context::<Backend>().ok_or_else(|| {
            leptos::prelude::ServerFnError::new("server misconfigured: no backend in context")
        })
    }
}

/// The person behind this request, if the role the route table gives the server
/// function at `server_fn` ([`crate::api::server_fn_roles`]) allows them. The server's
/// route guard refuses everyone else before a server function's own request runs it;
/// checking again here keeps each server function safe on its own, also when a page
/// being rendered on the server calls it, from the same declaration.
pub fn signed_in(server_fn: &str) -> Result<SignedIn, leptos::prelude::ServerFnError> {
    use leptos::prelude::use_context;
    let who = use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<SignedIn>().cloned());
    let needed = crate::api::server_fn_role(server_fn);
    let Some(who) = who else {
        return Err(server_fn_error(BackendError::SignedOut));
    };
    match needed {
        Some(needed) if who.role.allows(needed) => Ok(who),
        Some(needed) => Err(server_fn_error(BackendError::Forbidden(Role::refusal(
            &who, needed,
        )))),
        None => Err(server_fn_error(BackendError::Forbidden(
            "This server function is not in the route table.".to_string(),
        ))),
    }
}

/// The backend and the person calling the server function at `server_fn`, if they may:
/// what every server function starts with.
pub fn backend_for_caller(
    server_fn: &str,
) -> Result<(Arc<dyn ShipmentsBackend>, SignedIn), leptos::prelude::ServerFnError> {
    let who = signed_in(server_fn)?;
    Ok((Backend::from_context()?.0, who))
}
