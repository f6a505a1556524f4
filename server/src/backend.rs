//! The dashboard's backend: the store, behind the interface `app` declares.

use crate::store::{Store, StoreError};
use app::accounts::{AccountFieldError, AccountInput, AccountSummary};
use app::backend::{BackendError, ShipmentsBackend};
use app::health::StatusBoard;
use app::people::{PersonSummary, Role, SignedIn, TokenSummary};
use app::query::ShipmentQuery;
use app::shipments::{
    ActionResult, FilterOptions, ManualConfirmation, Page, ShipmentDetail, ShipmentRow,
};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

pub struct DashboardBackend {
    pub store: Store,
    /// Wakes an in-process worker when shipments are queued again.
    pub wake: Arc<Notify>,
    /// An API with no call for this long is None.
    pub idle_after: Duration,
}

fn to_backend_error(e: StoreError) -> BackendError {
    match e {
        StoreError::InvalidCursor(why) => {
            BackendError::InvalidRequest(format!("invalid cursor: {why}"))
        }
        other => {
            tracing::error!(error = %other, "dashboard request failed");
            BackendError::Internal("the database could not answer; see the server log".into())
        }
    }
}

#[async_trait::async_trait]
impl ShipmentsBackend for DashboardBackend {
    async fn list_shipments(
        &self,
        query: &ShipmentQuery,
    ) -> Result<Page<ShipmentRow>, BackendError> {
        self.store
            .list_shipments(query)
            .await
            .map_err(to_backend_error)
    }

    async fn shipment_detail(
        &self,
        shipment_id: &str,
    ) -> Result<Option<ShipmentDetail>, BackendError> {
        self.store
            .shipment_detail(shipment_id)
            .await
            .map_err(to_backend_error)
    }

    async fn filter_options(&self) -> Result<FilterOptions, BackendError> {
        self.store.filter_options().await.map_err(to_backend_error)
    }

    async fn retry_shipments(
        &self,
        who: &SignedIn,
        shipment_ids: &[String],
    ) -> Result<Vec<ActionResult>, BackendError> {
        let results = self
            .store
            .retry_now(shipment_ids, chrono::Utc::now())
            .await
            .map_err(to_backend_error)?;
        self.wake.notify_one();
        for retried in results.iter().filter(|r| r.done) {
            crate::audit::record_person(&self.store, who, "retry", &retried.shipment_id, "").await;
        }
        Ok(results)
    }

    async fn confirm_shipment(
        &self,
        who: &SignedIn,
        shipment_id: &str,
        confirmation: &ManualConfirmation,
    ) -> Result<ActionResult, BackendError> {
        let result = self
            .store
            .confirm_manually(shipment_id, confirmation)
            .await
            .map_err(to_backend_error)?;
        if result.done {
            let detail = format!(
                "confirmed by {}: {}",
                confirmation.confirmed_by, confirmation.note
            );
            crate::audit::record_person(&self.store, who, "confirm", shipment_id, &detail).await;
        }
        Ok(result)
    }

    async fn admin_accounts(&self) -> Result<Vec<AccountSummary>, BackendError> {
        let accounts = self.store.accounts().await.map_err(to_backend_error)?;
        Ok(accounts.iter().map(crate::accounts::summary).collect())
    }

    async fn save_account(
        &self,
        who: &SignedIn,
        input: &AccountInput,
    ) -> Result<Vec<AccountFieldError>, BackendError> {
        let existing = self
            .store
            .account_by_key(&input.key)
            .await
            .map_err(to_backend_error)?;
        let problems = input.problems(existing.is_some());
        if !problems.is_empty() {
            return Ok(problems);
        }
        let account = crate::accounts::from_input(input, existing.as_ref());
        self.store
            .upsert_account(&account)
            .await
            .map_err(to_backend_error)?;
        let mut detail = format!(
            "{} ({}, {})",
            if existing.is_some() {
                "edited"
            } else {
                "registered"
            },
            input.marketplace,
            if input.enabled { "enabled" } else { "disabled" }
        );
        if !input.client_secret.is_empty() || !input.refresh_token.is_empty() {
            detail.push_str("; credentials replaced");
        }
        crate::audit::record_person(&self.store, who, "account_save", &input.key, &detail).await;
        Ok(Vec::new())
    }

    async fn set_account_enabled(
        &self,
        who: &SignedIn,
        key: &str,
        enabled: bool,
    ) -> Result<bool, BackendError> {
        let changed = self
            .store
            .set_account_enabled(key, enabled)
            .await
            .map_err(to_backend_error)?;
        if changed {
            let action = if enabled {
                "account_enable"
            } else {
                "account_disable"
            };
            crate::audit::record_person(&self.store, who, action, key, "").await;
        }
        Ok(changed)
    }

    async fn admin_people(&self) -> Result<Vec<PersonSummary>, BackendError> {
        let people = self.store.users().await.map_err(to_backend_error)?;
        Ok(people
            .into_iter()
            .map(|u| PersonSummary {
                name: u.name,
                role: u.role,
                created_at: u.created_at,
            })
            .collect())
    }

    async fn save_person(
        &self,
        who: &SignedIn,
        name: &str,
        role: Role,
        password: &str,
    ) -> Result<(), BackendError> {
        use crate::people::PeopleError;
        let added = match crate::people::add_user(&self.store, name, password, role).await {
            Ok(added) => added,
            Err(e @ (PeopleError::BadName(_) | PeopleError::BadPassword)) => {
                return Err(BackendError::InvalidRequest(e.to_string()))
            }
            Err(PeopleError::Store(e)) => return Err(to_backend_error(e)),
            Err(e) => return Err(BackendError::Internal(e.to_string())),
        };
        let detail = format!(
            "{} as {}",
            if added { "added" } else { "reset" },
            role.as_str()
        );
        crate::audit::record_person(&self.store, who, "user_add", name, &detail).await;
        Ok(())
    }

    async fn admin_tokens(&self) -> Result<Vec<TokenSummary>, BackendError> {
        let tokens = self.store.tokens().await.map_err(to_backend_error)?;
        Ok(tokens
            .into_iter()
            .map(|t| TokenSummary {
                name: t.name,
                scopes: t.scopes.to_string(),
                created_at: t.created_at,
                last_used_at: t.last_used_at,
                revoked_at: t.revoked_at,
            })
            .collect())
    }

    async fn create_token(
        &self,
        who: &SignedIn,
        name: &str,
        scopes: &str,
    ) -> Result<String, BackendError> {
        use crate::tokens::TokenError;
        let invalid = |e: TokenError| BackendError::InvalidRequest(e.to_string());
        let scopes: crate::tokens::Scopes = scopes.parse().map_err(invalid)?;
        let token = match crate::tokens::create_token(&self.store, name, scopes, chrono::Utc::now())
            .await
        {
            Ok(token) => token,
            Err(TokenError::Store(e)) => return Err(to_backend_error(e)),
            Err(e) => return Err(invalid(e)),
        };
        let detail = format!("scopes {scopes}");
        crate::audit::record_person(&self.store, who, "token_create", name, &detail).await;
        Ok(token)
    }

    async fn revoke_token(&self, who: &SignedIn, name: &str) -> Result<bool, BackendError> {
        let revoked = self
            .store
            .revoke_token(name, chrono::Utc::now())
            .await
            .map_err(to_backend_error)?;
        if revoked {
            crate::audit::record_person(&self.store, who, "token_revoke", name, "").await;
        }
        Ok(revoked)
    }

    async fn audit_log(&self) -> Result<Vec<app::audit::AuditEntry>, BackendError> {
        self.store
            .audit_entries(Some(app::audit::AUDIT_PAGE_ROWS))
            .await
            .map_err(to_backend_error)
    }

    async fn status_board(&self) -> Result<StatusBoard, BackendError> {
        crate::health::board::status_board(&self.store, self.idle_after, chrono::Utc::now())
            .await
            .map_err(to_backend_error)
    }
}
