//! The shipping station's HTTP API: `/api/v1/shipments`.

use super::validate::{parse_batch, FieldError};
use super::IngestOutcome;
use crate::audit::PeerAddress;
use crate::store::{Store, StoreError};
use crate::tokens::{scope, Authorized};
use app::query::{QueryError, ShipmentQuery};
use app::shipments::{ManualConfirmation, MAX_RETRY_BATCH};
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Path, RawQuery, State};
use axum::http::header;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures::TryStreamExt;
use serde_json::json;
use std::sync::Arc;
use tokio::sync::Notify;

#[derive(Clone)]
pub struct ApiState {
    pub store: Store,
    /// Wakes an in-process worker as soon as new work is stored.
    pub wake: Arc<Notify>,
}

impl axum::extract::FromRef<ApiState> for Store {
    fn from_ref(state: &ApiState) -> Store {
        state.store.clone()
    }
}

/// Every route but the OpenAPI document needs a bearer token of the right scope (see
/// `crate::tokens`); the handlers' `Authorized<…>` arguments say which.
pub fn routes(state: ApiState) -> Router {
    let guarded = Router::new()
        .route("/api/v1/shipments", get(list).post(ingest))
        .route("/api/v1/shipments/export.csv", get(export_csv))
        .route("/api/v1/shipments/retry", post(retry))
        .route("/api/v1/shipments/{shipment_id}/confirm", post(confirm))
        .route("/api/v1/shipments/{shipment_id}", get(detail))
        .route_layer(axum::middleware::from_fn_with_state(
            state.store.clone(),
            crate::tokens::require_token,
        ));
    guarded
        .route("/api/v1/openapi.json", get(openapi))
        // The dashboard's Export button: the same file, for the browser, which has no
        // token but a session (`people::http` puts this path behind sign-in).
        .route(DASHBOARD_EXPORT_PATH, get(dashboard_export_csv))
        // A full batch of 1,000 shipments is well under this.
        .layer(DefaultBodyLimit::max(8 * 1024 * 1024))
        .with_state(state)
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("invalid shipments")]
    Invalid(Vec<FieldError>),
    #[error("invalid query: {0}")]
    Query(#[from] QueryError),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::Invalid(errors) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                Json(json!({
                    "error": "the request was refused; nothing was stored",
                    "errors": errors,
                })),
            )
                .into_response(),
            ApiError::Query(e) => (
                StatusCode::BAD_REQUEST,
                Json(json!({"error": e.to_string(), "parameter": e.parameter})),
            )
                .into_response(),
            ApiError::Store(StoreError::InvalidCursor(why)) => (
                StatusCode::BAD_REQUEST,
                Json(json!({"error": format!("invalid cursor: {why}"), "parameter": "cursor"})),
            )
                .into_response(),
            ApiError::NotFound(what) => {
                (StatusCode::NOT_FOUND, Json(json!({ "error": what }))).into_response()
            }
            ApiError::BadRequest(why) => {
                (StatusCode::BAD_REQUEST, Json(json!({ "error": why }))).into_response()
            }
            ApiError::Store(e) => {
                tracing::error!(error = %e, "API request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    Json(json!({"error": "internal error; see the server log"})),
                )
                    .into_response()
            }
        }
    }
}

/// The dashboard's copy of the export route (see `routes`).
pub const DASHBOARD_EXPORT_PATH: &str = app::shipments::DASHBOARD_EXPORT_PATH;

/// `GET /api/v1/openapi.json`: the station API's description, with the registered accounts.
async fn openapi(State(state): State<ApiState>) -> Result<Response, ApiError> {
    let accounts: Vec<String> = state
        .store
        .accounts()
        .await?
        .into_iter()
        .map(|a| a.key)
        .collect();
    Ok((
        [(header::CONTENT_TYPE, "application/json")],
        super::openapi::document(&accounts),
    )
        .into_response())
}

/// `POST /api/v1/shipments`: one shipment or an array of up to 1,000, all or nothing.
async fn ingest(
    _: Authorized<scope::Ingest>,
    State(state): State<ApiState>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let batch = parse_batch(&body).map_err(ApiError::Invalid)?;
    let results = match state.store.ingest(&batch).await {
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
            return Err(ApiError::Invalid(errors));
        }
        Err(e) => return Err(e.into()),
    };
    let count = |wanted: IngestOutcome| results.iter().filter(|(_, o)| *o == wanted).count();
    if results.iter().any(|(_, o)| *o != IngestOutcome::Unchanged) {
        state.wake.notify_one();
    }
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

/// `GET /api/v1/shipments?status=&from=&to=&sort=&limit=&cursor=`: the grid's query.
async fn list(
    _: Authorized<scope::Read>,
    State(state): State<ApiState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let pairs = app::api::parse_query_pairs(raw.as_deref().unwrap_or(""));
    let query = ShipmentQuery::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))?;
    Ok(Json(state.store.list_shipments(&query).await?).into_response())
}

/// `GET /api/v1/shipments/export.csv`: every shipment the grid's query matches, in its
/// order, as a CSV download streamed page by page.
async fn export_csv(
    _: Authorized<scope::Read>,
    state: State<ApiState>,
    query: RawQuery,
) -> Result<Response, ApiError> {
    dashboard_export_csv(state, query).await
}

async fn dashboard_export_csv(
    State(state): State<ApiState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let pairs = app::api::parse_query_pairs(raw.as_deref().unwrap_or(""));
    let query = ShipmentQuery::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))?;
    let name = crate::export::file_name(&query, chrono::Utc::now().date_naive());
    let body = crate::export::stream(state.store.clone(), query).map_err(|e| {
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

#[derive(serde::Deserialize)]
struct RetryRequest {
    shipment_ids: Vec<String>,
}

/// `POST /api/v1/shipments/retry` `{"shipment_ids": [...]}`: Failed shipments start a
/// new round at once; each result says whether it was retried, or why not.
async fn retry(
    caller: Authorized<scope::Operate>,
    PeerAddress(address): PeerAddress,
    State(state): State<ApiState>,
    body: Result<Json<RetryRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(request) = body.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    if request.shipment_ids.is_empty() || request.shipment_ids.len() > MAX_RETRY_BATCH {
        return Err(ApiError::BadRequest(format!(
            "shipment_ids: give between 1 and {MAX_RETRY_BATCH} ids"
        )));
    }
    let results = state
        .store
        .retry_now(&request.shipment_ids, chrono::Utc::now())
        .await?;
    state.wake.notify_one();
    for retried in results.iter().filter(|r| r.done) {
        audit_token(
            &state.store,
            &caller,
            &address,
            "retry",
            &retried.shipment_id,
            "",
        )
        .await;
    }
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
    caller: Authorized<scope::Operate>,
    PeerAddress(address): PeerAddress,
    State(state): State<ApiState>,
    Path(shipment_id): Path<String>,
    body: Result<Json<ConfirmRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(request) = body.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let confirmation =
        ManualConfirmation::new(&request.confirmed_by, &request.note, chrono::Utc::now())
            .map_err(ApiError::BadRequest)?;
    let result = state
        .store
        .confirm_manually(&shipment_id, &confirmation)
        .await?;
    if result.done {
        let detail = format!(
            "confirmed by {}: {}",
            confirmation.confirmed_by, confirmation.note
        );
        audit_token(
            &state.store,
            &caller,
            &address,
            "confirm",
            &shipment_id,
            &detail,
        )
        .await;
        return Ok(Json(result).into_response());
    }
    let message = result.message.clone().unwrap_or_default();
    if message.starts_with("no shipment") {
        Err(ApiError::NotFound(message))
    } else {
        Ok((StatusCode::CONFLICT, Json(json!({ "error": message }))).into_response())
    }
}

/// An action taken through the API goes in the audit log under its token's name.
async fn audit_token<S>(
    store: &Store,
    caller: &Authorized<S>,
    address: &str,
    action: &str,
    target: &str,
    detail: &str,
) {
    let actor = format!("token:{}", caller.token.name);
    let scopes = caller.token.scopes.to_string();
    crate::audit::record(store, &actor, &scopes, action, target, detail, address).await;
}

/// `GET /api/v1/shipments/{shipment_id}`: one shipment with its attempts.
async fn detail(
    _: Authorized<scope::Read>,
    State(state): State<ApiState>,
    Path(shipment_id): Path<String>,
) -> Result<Response, ApiError> {
    match state.store.shipment_detail(&shipment_id).await? {
        Some(detail) => Ok(Json(detail).into_response()),
        None => Err(ApiError::NotFound(format!("no shipment '{shipment_id}'"))),
    }
}
