//! Starting Shipback's parts: the web server (dashboard, station API, event streams),
//! the write-back worker with the order sync and the connection-status monitor beside
//! it, and the marketplace emulator. The command line, the integration tests and the
//! benchmarks all start them here, so that they run what production runs.

use crate::actions::Actions;
use crate::emulator::Emulator;
use crate::health::feed::StatusFeed;
use crate::health::monitored::Monitored;
use crate::health::{HealthConfig, HealthMonitor};
use crate::marketplaces::{ClientConfig, Marketplaces};
use crate::order_sync::{OrderSync, OrderSyncConfig};
use crate::people::http::SessionConfig;
use crate::shipments::live::ShipmentsFeed;
pub use crate::shutdown::{Shutdown, ShutdownTrigger};
use crate::store::{Store, StoreError};
use crate::web::routes::RouteTableError;
use crate::web::{self, SiteConfig, WebParts};
use crate::worker::{Heartbeat, Worker, WorkerConfig};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tower_sessions::session_store::ExpiredDeletion;

#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("server error: {0}")]
    Serve(#[source] std::io::Error),
    /// The compiled site cannot be served (built without `--split`).
    #[error("{0}")]
    Site(String),
    #[error(transparent)]
    Routes(#[from] RouteTableError),
}

/// Everything the worker part needs.
#[derive(Clone, Debug)]
pub struct WorkerSettings {
    pub worker: WorkerConfig,
    pub clients: ClientConfig,
    /// `None`: no order import, read-back nor catalog data in this process.
    pub sync: Option<OrderSyncConfig>,
    pub health: HealthConfig,
    /// How often to look for shipments that became due soon or late, for the webhook
    /// (`health.webhook`); nothing is looked for without one.
    pub deadline_check_every: Duration,
    /// What to delete, and how often to look; `None`: nothing is deleted here.
    pub retention: Option<(crate::retention::RetentionPolicy, Duration)>,
}

/// Starts the write-back worker and, unless turned off, the order sync; they share the
/// marketplace clients, so that both keep within one set of per-account rate limits.
/// The connection-status monitor sees every call the clients make. The handle ends
/// when all three have stopped.
pub async fn start_worker(
    store: &Store,
    settings: WorkerSettings,
    wake: Arc<Notify>,
    shutdown: Shutdown,
) -> Result<RunningWorker, RuntimeError> {
    let deadlines = settings.health.webhook.clone().map(|webhook| {
        let watch = crate::deadlines::DeadlineWatch {
            check_every: settings.deadline_check_every,
            webhook,
        };
        tokio::spawn(crate::deadlines::watch(
            store.clone(),
            watch,
            shutdown.clone(),
        ))
    });
    let retention = settings.retention.map(|(policy, every)| {
        tokio::spawn(crate::retention::run(
            store.clone(),
            policy,
            every,
            shutdown.clone(),
        ))
    });
    let monitor = HealthMonitor::load(store, settings.health).await?;
    // Every worker on this database keeps the usage plans together with the others.
    let clients = ClientConfig {
        shared_store: Some(store.clone()),
        ..settings.clients
    };
    let marketplaces =
        Marketplaces::new(&clients).map(|adapter| Monitored::wrap(adapter, monitor.clone()));
    let monitor = tokio::spawn(monitor.run(store.clone(), shutdown.clone().wait()));
    let sync = settings.sync.map(|config| {
        let sync = OrderSync::new(store.clone(), marketplaces.clone(), config);
        tokio::spawn(sync.run(shutdown.clone().wait()))
    });
    let worker = Worker::new(store.clone(), marketplaces, settings.worker, wake);
    let heartbeat = worker.heartbeat();
    let task = tokio::spawn(async move {
        worker.run(shutdown).await;
        if let Some(sync) = sync {
            let _ = sync.await;
        }
        let _ = monitor.await;
        if let Some(deadlines) = deadlines {
            let _ = deadlines.await;
        }
        if let Some(retention) = retention {
            let _ = retention.await;
        }
    });
    Ok(RunningWorker { task, heartbeat })
}

/// The worker part, running.
pub struct RunningWorker {
    /// Ends when the worker, the sync, the monitor and the deadline watch have stopped.
    pub task: JoinHandle<()>,
    /// What a readiness probe reads.
    pub heartbeat: Heartbeat,
}

/// Serves `/healthz` and `/readyz` alone (a worker's `--health-bind`): the database and
/// the worker's heartbeat. Returns where they listen; they stop at the shutdown.
pub async fn start_probes(
    store: &Store,
    bind: SocketAddr,
    heartbeat: Heartbeat,
    shutdown: Shutdown,
) -> Result<SocketAddr, RuntimeError> {
    let probed = web::probes::Probed {
        store: store.clone(),
        site: None,
        worker: Some(heartbeat),
    };
    serve_beside(bind, web::probes::routes(probed), "health probes", shutdown).await
}

/// Serves `GET /metrics` alone (`--metrics-bind`); an API idle for `idle_after` is
/// None on its gauges. Returns where it listens; it stops at the shutdown.
pub async fn start_metrics(
    store: &Store,
    bind: SocketAddr,
    idle_after: Duration,
    shutdown: Shutdown,
) -> Result<SocketAddr, RuntimeError> {
    let routes = crate::telemetry::routes(store.clone(), idle_after);
    serve_beside(bind, routes, "metrics", shutdown).await
}

/// `routes` on an address of their own beside the main parts, until the shutdown.
async fn serve_beside(
    bind: SocketAddr,
    routes: axum::Router,
    what: &'static str,
    shutdown: Shutdown,
) -> Result<SocketAddr, RuntimeError> {
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .map_err(|source| RuntimeError::Bind { addr: bind, source })?;
    let addr = listener.local_addr().map_err(RuntimeError::Serve)?;
    tokio::spawn(async move {
        let served = axum::serve(listener, routes)
            .with_graceful_shutdown(shutdown.wait())
            .await;
        if let Err(e) = served {
            tracing::error!(error = %e, "the {what} listener stopped");
        }
    });
    Ok(addr)
}

/// Everything the web part needs.
#[derive(Clone, Debug)]
pub struct WebSettings {
    /// Port 0 takes a free port; [`RunningWeb::addr`] says which.
    pub bind: SocketAddr,
    /// The compiled site (wasm, JS, CSS) as cargo-leptos builds it. A folder without
    /// one serves the API and the pages' HTML alone (tests of the API).
    pub site_root: String,
    pub sessions: SessionConfig,
    /// An API with no call for this long is None on the connection status.
    pub health_idle_after: Duration,
    /// The site's time zone and deadline warning time.
    pub site_time: crate::time_zones::SiteTime,
}

/// How often the dashboard looks for a changed connection status to push to open pages.
const STATUS_FEED_POLL: Duration = Duration::from_millis(250);
/// How often it looks for changed shipments, and the least time between two pushes.
const SHIPMENTS_FEED_POLL: Duration = Duration::from_millis(200);
const SHIPMENTS_FEED_GAP: Duration = Duration::from_millis(500);
/// Expired sessions are deleted this often; they are refused at once regardless.
const EXPIRED_SESSIONS_SWEEP: Duration = Duration::from_secs(3600);

/// The web server, listening.
pub struct RunningWeb {
    pub addr: SocketAddr,
    /// Ends when the server has stopped (after the shutdown, once open requests end).
    pub task: JoinHandle<Result<(), RuntimeError>>,
}

impl RunningWeb {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// Starts the dashboard, the station API and the event streams. `wake` is the worker's
/// in this process, if there is one, so that new work is taken at once.
/// `worker` is the heartbeat of a worker in this process, for the readiness probe.
pub async fn start_web(
    store: &Store,
    settings: &WebSettings,
    wake: Arc<Notify>,
    worker: Option<Heartbeat>,
    shutdown: Shutdown,
) -> Result<RunningWeb, RuntimeError> {
    let listener = tokio::net::TcpListener::bind(settings.bind)
        .await
        .map_err(|source| RuntimeError::Bind {
            addr: settings.bind,
            source,
        })?;
    let addr = listener.local_addr().map_err(RuntimeError::Serve)?;
    let site = SiteConfig {
        site_root: settings.site_root.clone(),
        bind: addr,
    };
    web::check_site(&site).map_err(RuntimeError::Site)?;
    let build = web::site_build(&site).map_err(RuntimeError::Site)?;
    let status =
        StatusFeed::spawn(store.clone(), settings.health_idle_after, STATUS_FEED_POLL).await;
    let shipments = ShipmentsFeed::spawn(store, SHIPMENTS_FEED_POLL, SHIPMENTS_FEED_GAP).await?;
    let router = web::router(
        &site,
        &build,
        WebParts {
            actions: Actions::new(store.clone(), wake),
            status: status.clone(),
            shipments: shipments.clone(),
            sessions: settings.sessions.clone(),
            site_time: settings.site_time,
            worker,
        },
    )?;
    let sessions = store.session_store();
    let sweep_until = shutdown.clone();
    tokio::spawn(async move {
        let sweep = async {
            let mut every = tokio::time::interval(EXPIRED_SESSIONS_SWEEP);
            loop {
                every.tick().await;
                if let Err(e) = sessions.delete_expired().await {
                    tracing::warn!(error = %e, "cannot delete expired sessions");
                }
            }
        };
        tokio::select! {
            _ = sweep => {}
            _ = sweep_until.wait() => {}
        }
    });
    // The peer's address: the sign-in throttle and the audit log use it.
    let service = router.into_make_service_with_connect_info::<SocketAddr>();
    let task = tokio::spawn(async move {
        axum::serve(listener, service)
            .with_graceful_shutdown(async move {
                shutdown.wait().await;
                // Open pages hold event streams; end them, or shutdown would wait for them.
                status.close();
                shipments.close();
            })
            .await
            .map_err(RuntimeError::Serve)
    });
    Ok(RunningWeb { addr, task })
}

/// Starts the marketplace emulator; port 0 takes a free port. Returns where it listens.
pub async fn start_emulator(
    emulator: &Emulator,
    bind: SocketAddr,
) -> Result<SocketAddr, RuntimeError> {
    emulator
        .serve(bind)
        .await
        .map_err(|source| RuntimeError::Bind { addr: bind, source })
}
