//! The shipping station's HTTP API: `/api/v1/shipments`.

use super::validate::{parse_batch, FieldError};
use super::IngestOutcome;
use crate::actions::Actions;
use crate::audit::Actor;
use crate::store::{ShipmentRefusal, Store, StoreError};
use crate::tokens::{ApiToken, Scope};
use crate::web::error::HttpError;
use app::query::ShipmentQuery;
use app::shipments::{ActionResult, ShipmentRow};
use axum::body::Body;
use axum::extract::rejection::JsonRejection;
use axum::extract::{DefaultBodyLimit, Path, RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use futures::TryStreamExt;
use serde_json::json;

#[derive(Clone)]
pub struct ApiState {
    pub actions: Actions,
}

impl ApiState {
    fn store(&self) -> &Store {
        self.actions.store()
    }
}

/// The routes; who may call each is in the route table (`web::routes`), which the
/// server's guard enforces before any handler here runs.
pub fn routes(state: ApiState) -> Router {
    Router::new()
        .route("/api/v1/shipments", get(list).post(ingest))
        .route("/api/v1/shipments/export.csv", get(export_csv))
        .route("/api/v1/shipments/retry", post(retry))
        .route("/api/v1/shipments/{shipment_id}/confirm", post(confirm))
        .route("/api/v1/shipments/{shipment_id}", get(detail))
        .route("/api/v1/openapi.json", get(openapi))
        // The dashboard's Export button: the same file, for a signed-in browser, which
        // has a session rather than a token.
        .route(DASHBOARD_EXPORT_PATH, get(export_csv))
        // A full batch of 1,000 shipments is well under this.
        .layer(DefaultBodyLimit::max(8 * 1024 * 1024))
        .with_state(state)
}

/// The dashboard's copy of the export route (see `routes`).
pub const DASHBOARD_EXPORT_PATH: &str = app::shipments::DASHBOARD_EXPORT_PATH;

/// `GET /api/v1/openapi.json`: the station API's description. A caller with an `ingest`
/// token also sees the registered accounts (the values `account` takes); anyone else
/// gets the document without them.
async fn openapi(
    State(state): State<ApiState>,
    token: Option<Extension<ApiToken>>,
) -> Result<Response, HttpError> {
    let may_ingest = token.is_some_and(|Extension(t)| t.scopes.contains(Scope::Ingest));
    let accounts: Vec<String> = if may_ingest {
        state
            .store()
            .accounts()
            .await?
            .into_iter()
            .map(|a| a.key)
            .collect()
    } else {
        Vec::new()
    };
    Ok((
        [(header::CONTENT_TYPE, "application/json")],
        super::openapi::document(&accounts),
    )
        .into_response())
}

/// `POST /api/v1/shipments`: one shipment or an array of up to 1,000, all or nothing.
async fn ingest(
    State(state): State<ApiState>,
    body: axum::body::Bytes,
) -> Result<Response, HttpError> {
    let answer = ingest_batch(&state, &body).await;
    match &answer {
        Ok(_) => {}
        Err(HttpError::InvalidShipments(_)) => crate::telemetry::ingest("refused", &[]),
        Err(_) => crate::telemetry::ingest("failed", &[]),
    }
    answer
}

async fn ingest_batch(state: &ApiState, body: &[u8]) -> Result<Response, HttpError> {
    let batch = parse_batch(body).map_err(HttpError::InvalidShipments)?;
    let results = match state.actions.ingest(&batch).await {
        Ok(results) => results,
        Err(StoreError::UnknownAccounts(keys)) => {
            let errors = batch
                .iter()
                .enumerate()
                .filter(|(_, s)| keys.contains(&s.account))
                .map(|(index, s)| FieldError {
                    index,
                    field: "account".into(),
                    message: format!("unknown account '{}'", s.account),
                })
                .collect();
            return Err(HttpError::InvalidShipments(errors));
        }
        Err(e) => return Err(HttpError::store("ingest", e)),
    };
    let count = |wanted: IngestOutcome| results.iter().filter(|(_, o)| *o == wanted).count();
    crate::telemetry::ingest(
        "accepted",
        &[
            ("created", count(IngestOutcome::Created)),
            ("updated", count(IngestOutcome::Updated)),
            ("unchanged", count(IngestOutcome::Unchanged)),
        ],
    );
    Ok(Json(json!({
        "created": count(IngestOutcome::Created),
        "updated": count(IngestOutcome::Updated),
        "unchanged": count(IngestOutcome::Unchanged),
        "results": results
            .iter()
            .map(|(id, outcome)| json!({"shipment_id": id, "outcome": outcome}))
            .collect::<Vec<_>>(),
    }))
    .into_response())
}

/// The grid's query from a URL's query string, read as the dashboard reads it.
fn shipment_query(raw: Option<&str>) -> Result<ShipmentQuery, HttpError> {
    let pairs = app::api::parse_query_pairs(raw.unwrap_or(""));
    Ok(ShipmentQuery::from_pairs(
        pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())),
    )?)
}

/// `GET /api/v1/shipments?status=&from=&to=&sort=&limit=&cursor=`: the grid's query.
async fn list(
    State(state): State<ApiState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, HttpError> {
    let query = shipment_query(raw.as_deref())?;
    let mut page = state.store().list_shipments(&query).await?;
    page.items = page
        .items
        .into_iter()
        .map(ShipmentRow::times_in_utc)
        .collect();
    Ok(Json(page).into_response())
}

/// `GET /api/v1/shipments/export.csv` (and the dashboard's copy): every shipment the
/// grid's query matches, in its order, as a CSV download streamed page by page.
async fn export_csv(
    State(state): State<ApiState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, HttpError> {
    let query = shipment_query(raw.as_deref())?;
    let name = crate::export::file_name(&query, chrono::Utc::now().date_naive());
    let body = crate::export::stream(state.store().clone(), query).map_err(|e| {
        tracing::error!(error = %e, "export broke off");
        e
    });
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        Body::from_stream(body),
    )
        .into_response())
}

/// A JSON body, or the reason it cannot be read.
fn json_body<T>(body: Result<Json<T>, JsonRejection>) -> Result<T, HttpError> {
    body.map(|Json(value)| value)
        .map_err(|e| HttpError::BadRequest(e.body_text()))
}

#[derive(serde::Deserialize)]
struct RetryRequest {
    shipment_ids: Vec<String>,
}

/// `POST /api/v1/shipments/retry` `{"shipment_ids": [...]}`: Failed shipments start a
/// new round at once; each result says whether it was retried, or why not.
async fn retry(
    State(state): State<ApiState>,
    Extension(actor): Extension<Actor>,
    body: Result<Json<RetryRequest>, JsonRejection>,
) -> Result<Response, HttpError> {
    let request = json_body(body)?;
    let results = state
        .actions
        .retry_now(&actor, &request.shipment_ids)
        .await?;
    Ok(Json(json!({ "results": results })).into_response())
}

#[derive(serde::Deserialize)]
struct ConfirmRequest {
    confirmed_by: String,
    #[serde(default)]
    note: String,
}

/// `POST /api/v1/shipments/{shipment_id}/confirm` `{"confirmed_by": "...", "note": "..."}`:
/// a Failed shipment was confirmed by hand on the marketplace.
async fn confirm(
    State(state): State<ApiState>,
    Extension(actor): Extension<Actor>,
    Path(shipment_id): Path<String>,
    body: Result<Json<ConfirmRequest>, JsonRejection>,
) -> Result<Response, HttpError> {
    let request = json_body(body)?;
    state
        .actions
        .confirm_manually(&actor, &shipment_id, &request.confirmed_by, &request.note)
        .await?;
    Ok(Json(ActionResult {
        shipment_id,
        done: true,
        message: None,
    })
    .into_response())
}

/// `GET /api/v1/shipments/{shipment_id}`: one shipment with its attempts.
async fn detail(
    State(state): State<ApiState>,
    Path(shipment_id): Path<String>,
) -> Result<Response, HttpError> {
    match state.store().shipment_detail(&shipment_id).await? {
        Some(mut detail) => {
            detail.row = detail.row.times_in_utc();
            Ok(Json(detail).into_response())
        }
        None => Err(ShipmentRefusal::NotFound(shipment_id).into()),
    }
}
