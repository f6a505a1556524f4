//! The dashboard's backend: the store, behind the interface `app` declares.

use crate::accounts::MarketplaceKind;
use crate::actions::{ActionError, Actions};
use crate::audit::Actor;
use crate::store::{ShipmentRefusal, Store, StoreError};
use crate::tokens::Scopes;
use app::accounts::{AccountFieldError, AccountInput, AccountSummary};
use app::backend::{BackendError, ShipmentsBackend};
use app::health::StatusBoard;
use app::people::{PersonSummary, Role, SignedIn, TokenSummary};
use app::query::ShipmentQuery;
use app::shipments::{ActionResult, FilterOptions, Page, ShipmentDetail, ShipmentRow};
use std::time::Duration;

pub struct DashboardBackend {
    pub actions: Actions,
    /// An API with no call for this long is None.
    pub idle_after: Duration,
    pub site_time: crate::time_zones::SiteTime,
}

impl DashboardBackend {
    fn store(&self) -> &Store {
        self.actions.store()
    }
}

/// The one mapping from what the server refuses to what a server function answers:
/// a store failure other than a bad cursor is logged here and answered without its
/// details.
impl From<ActionError> for BackendError {
    fn from(e: ActionError) -> BackendError {
        match e {
            ActionError::Invalid(why) => BackendError::InvalidRequest(why),
            ActionError::Store(StoreError::InvalidCursor(why)) => {
                BackendError::InvalidRequest(format!("invalid cursor: {why}"))
            }
            ActionError::Refused(refusal @ ShipmentRefusal::NotFound(_)) => {
                BackendError::NotFound(refusal.to_string())
            }
            ActionError::Refused(refusal @ ShipmentRefusal::NotFailed { .. }) => {
                BackendError::Conflict(refusal.to_string())
            }
            e @ ActionError::NotFound { .. } => BackendError::NotFound(e.to_string()),
            e @ ActionError::NameTaken(_) => BackendError::Conflict(e.to_string()),
            ActionError::Store(e) => {
                tracing::error!(error = %e, "dashboard request failed");
                BackendError::Internal("the database could not answer; see the server log".into())
            }
            ActionError::Internal(why) => {
                tracing::error!(error = %why, "dashboard request failed");
                BackendError::Internal("the server could not do it; see the server log".into())
            }
        }
    }
}

fn refused(e: impl Into<ActionError>) -> BackendError {
    BackendError::from(e.into())
}

fn marketplace_of(text: &str) -> Result<MarketplaceKind, BackendError> {
    MarketplaceKind::parse(text).ok_or_else(|| {
        BackendError::InvalidRequest(format!("the marketplace is amazon or ebay, not '{text}'"))
    })
}

fn person(who: &SignedIn) -> Actor {
    Actor::Person(who.clone())
}

/// A refusal of one shipment's action, as the dashboard shows it: on the shipment, not
/// as an error of the call.
fn not_done(shipment_id: &str, refusal: ShipmentRefusal) -> ActionResult {
    ActionResult {
        shipment_id: shipment_id.to_string(),
        done: false,
        message: Some(refusal.to_string()),
    }
}

#[async_trait::async_trait]
impl ShipmentsBackend for DashboardBackend {
    async fn list_shipments(
        &self,
        query: &ShipmentQuery,
    ) -> Result<Page<ShipmentRow>, BackendError> {
        self.store().list_shipments(query).await.map_err(refused)
    }

    async fn shipment_detail(
        &self,
        shipment_id: &str,
    ) -> Result<Option<ShipmentDetail>, BackendError> {
        self.store()
            .shipment_detail(shipment_id)
            .await
            .map_err(refused)
    }

    async fn filter_options(&self) -> Result<FilterOptions, BackendError> {
        self.store().filter_options().await.map_err(refused)
    }

    async fn retry_shipments(
        &self,
        who: &SignedIn,
        shipment_ids: &[String],
    ) -> Result<Vec<ActionResult>, BackendError> {
        self.actions
            .retry_now(&person(who), shipment_ids)
            .await
            .map_err(refused)
    }

    async fn confirm_shipment(
        &self,
        who: &SignedIn,
        shipment_id: &str,
        confirmed_by: &str,
        note: &str,
    ) -> Result<ActionResult, BackendError> {
        match self
            .actions
            .confirm_manually(&person(who), shipment_id, confirmed_by, note)
            .await
        {
            Ok(()) => Ok(ActionResult {
                shipment_id: shipment_id.to_string(),
                done: true,
                message: None,
            }),
            Err(ActionError::Refused(refusal)) => Ok(not_done(shipment_id, refusal)),
            Err(e) => Err(refused(e)),
        }
    }

    async fn admin_accounts(&self) -> Result<Vec<AccountSummary>, BackendError> {
        let accounts = self.store().accounts().await.map_err(refused)?;
        Ok(accounts.iter().map(crate::accounts::summary).collect())
    }

    async fn save_account(
        &self,
        who: &SignedIn,
        input: &AccountInput,
    ) -> Result<Vec<AccountFieldError>, BackendError> {
        self.actions
            .save_account(&person(who), input)
            .await
            .map_err(refused)
    }

    async fn set_account_enabled(
        &self,
        who: &SignedIn,
        key: &str,
        enabled: bool,
    ) -> Result<bool, BackendError> {
        match self
            .actions
            .set_account_enabled(&person(who), key, enabled)
            .await
        {
            Ok(()) => Ok(true),
            Err(ActionError::NotFound { .. }) => Ok(false),
            Err(e) => Err(refused(e)),
        }
    }

    async fn admin_people(&self) -> Result<Vec<PersonSummary>, BackendError> {
        let people = self.store().users().await.map_err(refused)?;
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
        self.actions
            .save_person(&person(who), name, password, role)
            .await
            .map(|_| ())
            .map_err(refused)
    }

    async fn admin_tokens(&self) -> Result<Vec<TokenSummary>, BackendError> {
        let tokens = self.store().tokens().await.map_err(refused)?;
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
        let scopes: Scopes = scopes.parse().map_err(refused)?;
        self.actions
            .create_token(&person(who), name, scopes)
            .await
            .map_err(refused)
    }

    async fn revoke_token(&self, who: &SignedIn, name: &str) -> Result<bool, BackendError> {
        match self.actions.revoke_token(&person(who), name).await {
            Ok(()) => Ok(true),
            Err(ActionError::NotFound { .. }) => Ok(false),
            Err(e) => Err(refused(e)),
        }
    }

    async fn admin_carriers(&self) -> Result<app::carriers::CarriersScreen, BackendError> {
        use app::carriers::{CarrierMappingRow, CarriersScreen, UnmappedCarrier};
        let mappings = self.store().carrier_mappings().await.map_err(refused)?;
        let unmapped = self.store().unmapped_carriers().await.map_err(refused)?;
        let codes = |m: MarketplaceKind| {
            crate::carriers::accepted_codes(m)
                .map(str::to_string)
                .collect()
        };
        Ok(CarriersScreen {
            mappings: mappings
                .into_iter()
                .map(|m| CarrierMappingRow {
                    marketplace: m.marketplace.as_str().to_string(),
                    station_name: m.station_name,
                    code: m.code,
                    name: m.name,
                })
                .collect(),
            unmapped: unmapped
                .into_iter()
                .map(|(marketplace, station_name, waiting)| UnmappedCarrier {
                    marketplace: marketplace.as_str().to_string(),
                    station_name,
                    waiting,
                })
                .collect(),
            amazon_codes: codes(MarketplaceKind::Amazon),
            ebay_codes: codes(MarketplaceKind::Ebay),
        })
    }

    async fn save_carrier_mapping(
        &self,
        who: &SignedIn,
        mapping: &app::carriers::CarrierMappingRow,
    ) -> Result<(), BackendError> {
        let marketplace = marketplace_of(&mapping.marketplace)?;
        let mapping = crate::carriers::CarrierMapping {
            marketplace,
            station_name: mapping.station_name.clone(),
            code: mapping.code.clone(),
            name: mapping.name.clone(),
        };
        self.actions
            .save_carrier_mapping(&person(who), &mapping)
            .await
            .map(|_| ())
            .map_err(refused)
    }

    async fn delete_carrier_mapping(
        &self,
        who: &SignedIn,
        marketplace: &str,
        station_name: &str,
    ) -> Result<bool, BackendError> {
        let marketplace = marketplace_of(marketplace)?;
        match self
            .actions
            .delete_carrier_mapping(&person(who), marketplace, station_name)
            .await
        {
            Ok(()) => Ok(true),
            Err(ActionError::NotFound { .. }) => Ok(false),
            Err(e) => Err(refused(e)),
        }
    }

    async fn import_carrier_mappings(
        &self,
        who: &SignedIn,
        csv: &str,
    ) -> Result<usize, BackendError> {
        self.actions
            .import_carrier_mappings(&person(who), csv)
            .await
            .map_err(refused)
    }

    async fn time_zone_choices(
        &self,
        who: &SignedIn,
    ) -> Result<app::people::TimeZoneChoices, BackendError> {
        Ok(app::people::TimeZoneChoices {
            chosen: who.time_zone.clone(),
            site: self.site_time.zone.name().to_string(),
            zones: crate::time_zones::names(),
        })
    }

    async fn set_time_zone(&self, who: &SignedIn, zone: &str) -> Result<(), BackendError> {
        let zone = if zone.is_empty() {
            None
        } else {
            let parsed = crate::time_zones::parse(zone).map_err(BackendError::InvalidRequest)?;
            Some(parsed.name())
        };
        match self.store().set_user_time_zone(&who.name, zone).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(BackendError::SignedOut),
            Err(e) => Err(refused(e)),
        }
    }

    async fn audit_log(&self) -> Result<Vec<app::audit::AuditEntry>, BackendError> {
        self.store()
            .audit_entries(Some(app::audit::AUDIT_PAGE_ROWS))
            .await
            .map_err(refused)
    }

    async fn status_board(&self, only: Option<&[String]>) -> Result<StatusBoard, BackendError> {
        crate::health::board::status_board_of(
            self.store(),
            self.idle_after,
            chrono::Utc::now(),
            only,
        )
        .await
        .map_err(refused)
    }
}
