//! The one mapping from what the server refuses to an HTTP answer: every route outside
//! the server functions (station API, status, exports, the route guard) answers its
//! errors through [`HttpError`], a JSON body `{"error": "…"}` with the status below.

use crate::actions::ActionError;
use crate::shipments::validate::FieldError;
use crate::store::{ShipmentRefusal, StoreError};
use app::query::QueryError;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// A batch of shipments breaks the rules; each field error names the shipment and
    /// the field. Nothing of the batch was stored.
    #[error("the request was refused; nothing was stored")]
    InvalidShipments(Vec<FieldError>),
    /// A query parameter is wrong; the body names it.
    #[error("{message}")]
    InvalidQuery { message: String, parameter: String },
    /// The request is malformed, or a value is out of range.
    #[error("{0}")]
    BadRequest(String),
    /// No credentials, or credentials that are not valid (any more).
    #[error("{message}")]
    Unauthenticated {
        message: String,
        /// The `WWW-Authenticate` challenge, for a route that takes a bearer token.
        challenge: Option<&'static str>,
    },
    /// The caller is known, but may not do this.
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    /// The request is right, but what it names is not in a state that allows it.
    #[error("{0}")]
    Conflict(String),
    /// The database did not answer: the same request may succeed in a moment.
    #[error("{0}")]
    Unavailable(String),
    /// A fault of the server. The cause is logged where it is made; the answer says no
    /// more than that.
    #[error("internal error; see the server log")]
    Internal,
}

impl HttpError {
    fn status(&self) -> StatusCode {
        match self {
            // 422, each refused field named: the station can tell "fix these shipments"
            // from an error of the request itself (a bad query, a missing token).
            HttpError::InvalidShipments(_) => StatusCode::UNPROCESSABLE_ENTITY,
            HttpError::InvalidQuery { .. } | HttpError::BadRequest(_) => StatusCode::BAD_REQUEST,
            // 401 tells the caller to (re)authenticate: sign in again, or send a token.
            HttpError::Unauthenticated { .. } => StatusCode::UNAUTHORIZED,
            // 403: authenticating again would not help, the role or scope is too small.
            HttpError::Forbidden(_) => StatusCode::FORBIDDEN,
            HttpError::NotFound(_) => StatusCode::NOT_FOUND,
            // 409: e.g. confirming a shipment that is not Failed; the same request may be
            // right later, after the shipment changes.
            HttpError::Conflict(_) => StatusCode::CONFLICT,
            // 503 rather than 500: a database that is busy or restarting is worth a retry.
            HttpError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            HttpError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A store failure, logged with what was being done; the caller gets no details.
    pub fn store(doing: &str, e: StoreError) -> HttpError {
        match e {
            StoreError::InvalidCursor(why) => HttpError::InvalidQuery {
                message: format!("invalid cursor: {why}"),
                parameter: "cursor".to_string(),
            },
            StoreError::Refused(refusal) => refusal.into(),
            // Busy past its timeout, no free connection, or restarting: the same
            // request may well succeed in a moment.
            e @ (StoreError::Busy(_) | StoreError::Unavailable(_)) => {
                tracing::warn!(error = %e, "{doing}: the database cannot answer now");
                let why = match e {
                    StoreError::Busy(_) => "busy",
                    _ => "unreachable",
                };
                HttpError::Unavailable(format!("the database is {why}; try again"))
            }
            e => {
                tracing::error!(error = %e, "{doing} failed");
                HttpError::Internal
            }
        }
    }
}

impl From<ShipmentRefusal> for HttpError {
    fn from(refusal: ShipmentRefusal) -> HttpError {
        match refusal {
            ShipmentRefusal::NotFound(_) => HttpError::NotFound(refusal.to_string()),
            ShipmentRefusal::NotFailed { .. } => HttpError::Conflict(refusal.to_string()),
        }
    }
}

impl From<StoreError> for HttpError {
    fn from(e: StoreError) -> HttpError {
        HttpError::store("an API request", e)
    }
}

impl From<QueryError> for HttpError {
    fn from(e: QueryError) -> HttpError {
        HttpError::InvalidQuery {
            message: e.to_string(),
            parameter: e.parameter,
        }
    }
}

impl From<ActionError> for HttpError {
    fn from(e: ActionError) -> HttpError {
        match e {
            ActionError::Invalid(why) => HttpError::BadRequest(why),
            ActionError::Refused(refusal) => refusal.into(),
            e @ ActionError::NotFound { .. } => HttpError::NotFound(e.to_string()),
            e @ ActionError::NameTaken(_) => HttpError::Conflict(e.to_string()),
            ActionError::Store(e) => HttpError::store("an action", e),
            ActionError::Internal(why) => {
                tracing::error!(error = %why, "an action failed");
                HttpError::Internal
            }
        }
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = self.to_string();
        match self {
            HttpError::InvalidShipments(errors) => {
                (status, Json(json!({"error": message, "errors": errors}))).into_response()
            }
            HttpError::InvalidQuery { parameter, .. } => (
                status,
                Json(json!({"error": message, "parameter": parameter})),
            )
                .into_response(),
            HttpError::Unauthenticated {
                challenge: Some(challenge),
                ..
            } => (
                status,
                [(header::WWW_AUTHENTICATE, challenge)],
                Json(json!({ "error": message })),
            )
                .into_response(),
            _ => (status, Json(json!({ "error": message }))).into_response(),
        }
    }
}
