//! `GET /healthz` and `GET /readyz`, for a load balancer or a process supervisor:
//! unauthenticated, answering nothing sensitive, one small query at most, so that they
//! can be polled every second.

use super::SiteConfig;
use crate::store::Store;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

/// One thing readiness depends on, and whether it holds.
#[derive(Debug, Serialize)]
pub struct Check {
    pub name: &'static str,
    pub ok: bool,
    /// What is wrong, when it is not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Readiness {
    pub ready: bool,
    pub checks: Vec<Check>,
}

#[derive(Clone)]
struct Probed {
    store: Store,
    site: SiteConfig,
}

pub fn routes(store: Store, site: SiteConfig) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .with_state(Probed { store, site })
}

/// 200 when the database answers with a current schema and the site's files are there;
/// 503 naming what is not.
async fn readyz(State(probed): State<Probed>) -> (StatusCode, Json<Readiness>) {
    let database = match probed.store.schema_is_current().await {
        Ok(true) => Check {
            name: "database",
            ok: true,
            problem: None,
        },
        Ok(false) => Check {
            name: "database",
            ok: false,
            problem: Some("its schema is not this build's: run `shipback migrate`".into()),
        },
        Err(e) => {
            tracing::warn!(error = %e, "readiness: the database does not answer");
            Check {
                name: "database",
                ok: false,
                problem: Some("it does not answer".into()),
            }
        }
    };
    let site = match super::check_site_files(&probed.site) {
        Ok(()) => Check {
            name: "site",
            ok: true,
            problem: None,
        },
        Err(problem) => Check {
            name: "site",
            ok: false,
            problem: Some(problem),
        },
    };
    let checks = vec![database, site];
    let ready = checks.iter().all(|c| c.ok);
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(Readiness { ready, checks }))
}
