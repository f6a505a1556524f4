//! `GET /healthz` and `GET /readyz`, for a load balancer or a process supervisor:
//! unauthenticated, answering nothing sensitive, one small query at most, so that they
//! can be polled every second. The dashboard serves them beside its pages; a worker
//! without a dashboard serves them alone on `--health-bind`
//! ([`crate::runtime::start_probes`]).

use super::SiteConfig;
use crate::store::Store;
use crate::worker::Heartbeat;
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

impl Check {
    fn of(name: &'static str, result: Result<(), String>) -> Check {
        Check {
            name,
            ok: result.is_ok(),
            problem: result.err(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Readiness {
    pub ready: bool,
    pub checks: Vec<Check>,
}

/// What this process's readiness depends on: always the database; the site's files
/// where pages are served; the worker's heartbeat where a worker runs.
#[derive(Clone)]
pub struct Probed {
    pub store: Store,
    pub site: Option<SiteConfig>,
    pub worker: Option<Heartbeat>,
}

pub fn routes(probed: Probed) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .with_state(probed)
}

/// 200 when every check holds; 503 naming what does not.
async fn readyz(State(probed): State<Probed>) -> (StatusCode, Json<Readiness>) {
    let database = match probed.store.schema_is_current().await {
        Ok(true) => Ok(()),
        Ok(false) => Err("its schema is not this build's: run `shipback migrate`".into()),
        Err(e) => {
            tracing::warn!(error = %e, "readiness: the database does not answer");
            Err("it does not answer".into())
        }
    };
    let mut checks = vec![Check::of("database", database)];
    if let Some(site) = &probed.site {
        checks.push(Check::of("site", super::check_site_files(site)));
    }
    if let Some(worker) = &probed.worker {
        let beat = worker.check(crate::store::now_millis()).map(|_| ());
        checks.push(Check::of("worker", beat));
    }
    let ready = checks.iter().all(|c| c.ok);
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(Readiness { ready, checks }))
}
