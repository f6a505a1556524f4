//! The interface through which server functions reach the backend.
//!
//! `app` declares it; the `server` crate implements it over its store and provides it
//! through Leptos context, so that the dependency points one way (server -> app).

use crate::health::StatusBoard;
use crate::people::{Role, SignedIn};
use crate::query::ShipmentQuery;
use crate::shipments::{
    ActionResult, FilterOptions, ManualConfirmation, Page, ShipmentDetail, ShipmentRow,
};
use std::sync::Arc;

/// A failure the backend reports to a server function.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    /// The request itself is wrong (a bad cursor, say): the user can fix it.
    #[error("{0}")]
    InvalidRequest(String),
    /// Something broke on the server side (the database, say).
    #[error("{0}")]
    Internal(String),
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

    /// Records that a Failed shipment was confirmed by hand on the marketplace.
    async fn confirm_shipment(
        &self,
        who: &SignedIn,
        shipment_id: &str,
        confirmation: &ManualConfirmation,
    ) -> Result<ActionResult, BackendError>;

    /// Every enabled account's API health, as of now.
    async fn status_board(&self) -> Result<StatusBoard, BackendError>;

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

/// The person behind this request, if their role allows `needed`. Without one the
/// answer is 401, with too low a role 403, each with a sentence that says why. The
/// server's middleware refuses anonymous requests before they get here; this check is
/// what keeps each server function safe on its own.
pub fn require(needed: Role) -> Result<SignedIn, leptos::prelude::ServerFnError> {
    use leptos::prelude::{use_context, ServerFnError};
    let who = use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<SignedIn>().cloned());
    let refuse = |status: http::StatusCode, why: String| {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(status);
        }
        Err(ServerFnError::new(why))
    };
    match who {
        None => refuse(
            http::StatusCode::UNAUTHORIZED,
            "Sign in first: your session has ended.".to_string(),
        ),
        Some(who) if !who.role.allows(needed) => refuse(
            http::StatusCode::FORBIDDEN,
            format!(
                "{} is signed in as a {}; this needs an {} or above.",
                who.name,
                who.role.as_str(),
                needed.as_str()
            ),
        ),
        Some(who) => Ok(who),
    }
}
