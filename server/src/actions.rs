//! What people and scripts do to Shipback's data, each in one place with its audit
//! entry: Retry now, Confirmed manually, account changes, people and station tokens.
//! The station API, the dashboard's server functions and the command line all call
//! these, so that a rule or an audit entry cannot differ between them.

use crate::accounts::MarketplaceKind;
use crate::audit::{self, Action, Actor};
use crate::carriers::CarrierMapping;
use crate::people::PeopleError;
use crate::shipments::{IngestOutcome, NewShipment};
use crate::store::{ShipmentRefusal, Store, StoreError};
use crate::tokens::{Scopes, TokenError};
use app::accounts::{AccountFieldError, AccountInput};
use app::people::Role;
use app::shipments::{ActionResult, ManualConfirmation, MAX_RETRY_BATCH};
use std::sync::Arc;
use tokio::sync::Notify;

/// Why an action was not taken.
#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    /// The request is wrong (no ids, a blank name, a bad scope): the caller can fix it.
    #[error("{0}")]
    Invalid(String),
    /// The shipment does not exist, or is not in a state that allows the action.
    #[error(transparent)]
    Refused(ShipmentRefusal),
    /// No account, person or token by that name.
    #[error("there is no {what} named '{name}'")]
    NotFound { what: &'static str, name: String },
    /// A station token by that name exists already.
    #[error("a token named '{0}' exists already; revoke it first")]
    NameTaken(String),
    #[error(transparent)]
    Store(StoreError),
    /// Hashing a password failed: a fault of the server, not of the request.
    #[error("{0}")]
    Internal(String),
}

impl From<StoreError> for ActionError {
    fn from(e: StoreError) -> ActionError {
        match e {
            StoreError::Refused(refusal) => ActionError::Refused(refusal),
            other => ActionError::Store(other),
        }
    }
}

impl From<PeopleError> for ActionError {
    fn from(e: PeopleError) -> ActionError {
        match e {
            PeopleError::BadName(_) | PeopleError::BadPassword => {
                ActionError::Invalid(e.to_string())
            }
            PeopleError::Store(e) => e.into(),
            PeopleError::Hash(why) => ActionError::Internal(why),
        }
    }
}

impl From<TokenError> for ActionError {
    fn from(e: TokenError) -> ActionError {
        match e {
            TokenError::NameTaken(name) => ActionError::NameTaken(name),
            TokenError::Store(e) => e.into(),
            invalid => ActionError::Invalid(invalid.to_string()),
        }
    }
}

/// The actions, over one database. Cheap to clone.
#[derive(Clone)]
pub struct Actions {
    store: Store,
    /// Wakes a worker in this process when shipments are queued again; a worker in
    /// another process finds them at its next poll.
    wake: Arc<Notify>,
}

impl Actions {
    pub fn new(store: Store, wake: Arc<Notify>) -> Actions {
        Actions { store, wake }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Stores what the station posted (all or nothing) and wakes the worker for what
    /// is new or changed. Not audited: the shipments' own history records it.
    pub async fn ingest(
        &self,
        batch: &[NewShipment],
    ) -> Result<Vec<(String, IngestOutcome)>, StoreError> {
        let results = self.store.ingest(batch).await?;
        if results.iter().any(|(_, o)| *o != IngestOutcome::Unchanged) {
            self.wake.notify_one();
        }
        Ok(results)
    }

    /// Retry now: each Failed shipment starts a new round of attempts at once. Each
    /// result says whether it was retried, or why not.
    pub async fn retry_now(
        &self,
        actor: &Actor,
        shipment_ids: &[String],
    ) -> Result<Vec<ActionResult>, ActionError> {
        if shipment_ids.is_empty() || shipment_ids.len() > MAX_RETRY_BATCH {
            return Err(ActionError::Invalid(format!(
                "shipment_ids: give between 1 and {MAX_RETRY_BATCH} ids"
            )));
        }
        let outcomes = self
            .store
            .retry_now(shipment_ids, chrono::Utc::now())
            .await?;
        self.wake.notify_one();
        let mut results = Vec::with_capacity(shipment_ids.len());
        for (shipment_id, outcome) in shipment_ids.iter().zip(outcomes) {
            if outcome.is_ok() {
                audit::record(&self.store, actor, Action::Retry, shipment_id, "").await;
            }
            results.push(ActionResult {
                shipment_id: shipment_id.clone(),
                done: outcome.is_ok(),
                message: outcome.err().map(|refusal| refusal.to_string()),
            });
        }
        Ok(results)
    }

    /// Confirmed manually: a Failed shipment was confirmed by hand in Seller Central or
    /// My eBay, by `confirmed_by`, with a note.
    pub async fn confirm_manually(
        &self,
        actor: &Actor,
        shipment_id: &str,
        confirmed_by: &str,
        note: &str,
    ) -> Result<(), ActionError> {
        let confirmation = ManualConfirmation::new(confirmed_by, note, chrono::Utc::now())
            .map_err(ActionError::Invalid)?;
        self.store
            .confirm_manually(shipment_id, &confirmation)
            .await?;
        let detail = format!(
            "confirmed by {}: {}",
            confirmation.confirmed_by, confirmation.note
        );
        audit::record(&self.store, actor, Action::Confirm, shipment_id, &detail).await;
        Ok(())
    }

    /// Registers or edits an account. The problems found, or none when it was saved.
    /// An edit that moves the account to another API or token address must carry its
    /// credentials again (see [`AccountInput::problems`]): the stored ones are never
    /// sent to an address they were not entered for.
    pub async fn save_account(
        &self,
        actor: &Actor,
        input: &AccountInput,
    ) -> Result<Vec<AccountFieldError>, ActionError> {
        let existing = self.store.account_by_key(&input.key).await?;
        let stored = existing.as_ref().map(crate::accounts::summary);
        let problems = input.problems(stored.as_ref());
        if !problems.is_empty() {
            return Ok(problems);
        }
        let account = crate::accounts::from_input(input, existing.as_ref());
        let saved = self.store.upsert_account(&account).await?;
        // Enabled, with credentials it can read: what its shipments waited on is mended.
        if saved.enabled && saved.unusable.is_none() {
            let resumed = self
                .store
                .resume_waiting_on(&crate::store::account_keys(saved.id))
                .await?;
            if resumed > 0 {
                self.wake.notify_one();
            }
        }
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
        if let Some(stored) = stored.as_ref() {
            if input.moves_credentials_from(stored) {
                detail.push_str(&format!(
                    "; addresses changed from {} and {} to {} and {}",
                    stored.api_base_url,
                    stored.auth_base_url,
                    account.api_base_url,
                    account.auth_base_url
                ));
            }
        }
        if !input.client_secret.is_empty() || !input.refresh_token.is_empty() {
            detail.push_str("; credentials replaced");
        }
        audit::record(&self.store, actor, Action::AccountSave, &input.key, &detail).await;
        Ok(Vec::new())
    }

    /// Enables or disables an account: a disabled one is not written back to and leaves
    /// the connection status.
    pub async fn set_account_enabled(
        &self,
        actor: &Actor,
        key: &str,
        enabled: bool,
    ) -> Result<(), ActionError> {
        if !self.store.set_account_enabled(key, enabled).await? {
            return Err(ActionError::NotFound {
                what: "account",
                name: key.to_string(),
            });
        }
        if enabled {
            // Its shipments that waited on it go on at once.
            let account_id = self.store.account_by_key(key).await?.map(|a| a.id);
            if let Some(id) = account_id {
                let resumed = self
                    .store
                    .resume_waiting_on(&crate::store::account_keys(id))
                    .await?;
                if resumed > 0 {
                    self.wake.notify_one();
                }
            }
        }
        let action = if enabled {
            Action::AccountEnable
        } else {
            Action::AccountDisable
        };
        audit::record(&self.store, actor, action, key, "").await;
        Ok(())
    }

    /// Adds a person, or gives one a new password and role. `true` when added.
    pub async fn save_person(
        &self,
        actor: &Actor,
        name: &str,
        password: &str,
        role: Role,
    ) -> Result<bool, ActionError> {
        let added = crate::people::add_user(&self.store, name, password, role).await?;
        let detail = format!(
            "{} as {}",
            if added { "added" } else { "reset" },
            role.as_str()
        );
        audit::record(&self.store, actor, Action::UserAdd, name, &detail).await;
        Ok(added)
    }

    /// Adds or replaces a carrier mapping; the shipments waiting for that name on that
    /// marketplace go on at once. How many went on.
    pub async fn save_carrier_mapping(
        &self,
        actor: &Actor,
        mapping: &CarrierMapping,
    ) -> Result<u64, ActionError> {
        if let Some(problem) = mapping.problem() {
            return Err(ActionError::Invalid(problem));
        }
        self.store
            .save_carrier_mappings(std::slice::from_ref(mapping))
            .await?;
        let resumed = self.resume_for(mapping).await?;
        let target = format!(
            "{}: {}",
            mapping.marketplace.as_str(),
            mapping.station_name.trim()
        );
        let mut detail = format!("sent as {}", mapping.code);
        if mapping.code == "Other" {
            detail.push_str(&format!(" ({})", mapping.name.trim()));
        }
        if resumed > 0 {
            detail.push_str(&format!("; {resumed} waiting shipments sent on"));
        }
        audit::record(&self.store, actor, Action::CarrierMap, &target, &detail).await;
        Ok(resumed)
    }

    /// Removes a carrier mapping: the built-in table decides for that name again.
    pub async fn delete_carrier_mapping(
        &self,
        actor: &Actor,
        marketplace: MarketplaceKind,
        station_name: &str,
    ) -> Result<(), ActionError> {
        if !self
            .store
            .delete_carrier_mapping(marketplace, station_name)
            .await?
        {
            return Err(ActionError::NotFound {
                what: "carrier mapping",
                name: station_name.to_string(),
            });
        }
        let target = format!("{}: {}", marketplace.as_str(), station_name.trim());
        audit::record(&self.store, actor, Action::CarrierUnmap, &target, "").await;
        Ok(())
    }

    /// Imports mappings from CSV (`marketplace,station_carrier,code,name`, a header line
    /// first): every line checked, then all saved, or none with what is wrong where.
    pub async fn import_carrier_mappings(
        &self,
        actor: &Actor,
        csv_text: &str,
    ) -> Result<usize, ActionError> {
        let mappings = crate::carriers::parse_csv(csv_text).map_err(ActionError::Invalid)?;
        self.store.save_carrier_mappings(&mappings).await?;
        let mut resumed = 0;
        for mapping in &mappings {
            resumed += self.resume_for(mapping).await?;
        }
        let detail = format!(
            "{} mappings; {resumed} waiting shipments sent on",
            mappings.len()
        );
        audit::record(
            &self.store,
            actor,
            Action::CarrierImport,
            "carriers",
            &detail,
        )
        .await;
        Ok(mappings.len())
    }

    /// Sends on the shipments waiting for `mapping`'s name, and wakes the worker.
    async fn resume_for(&self, mapping: &CarrierMapping) -> Result<u64, ActionError> {
        let key = crate::carriers::waiting_key(mapping.marketplace, &mapping.station_name);
        let resumed = self.store.resume_waiting(&key).await?;
        if resumed > 0 {
            self.wake.notify_one();
        }
        Ok(resumed)
    }

    /// Makes a station API token and returns it: the only time it can be seen.
    pub async fn create_token(
        &self,
        actor: &Actor,
        name: &str,
        scopes: Scopes,
    ) -> Result<String, ActionError> {
        let token =
            crate::tokens::create_token(&self.store, name, scopes, chrono::Utc::now()).await?;
        let detail = format!("scopes {scopes}");
        audit::record(&self.store, actor, Action::TokenCreate, name, &detail).await;
        Ok(token)
    }

    /// Revokes a live token: requests that carry it are refused from now on.
    pub async fn revoke_token(&self, actor: &Actor, name: &str) -> Result<(), ActionError> {
        if !self.store.revoke_token(name, chrono::Utc::now()).await? {
            return Err(ActionError::NotFound {
                what: "live token",
                name: name.to_string(),
            });
        }
        audit::record(&self.store, actor, Action::TokenRevoke, name, "").await;
        Ok(())
    }
}
