//! The HTTP server: the Leptos dashboard (pages and server functions), the station's
//! API and the static files.

use crate::backend::DashboardBackend;
use crate::health::feed::StatusFeed;
use crate::shipments::http::{self as shipments_api, ApiState};
use crate::shipments::live::ShipmentsFeed;
use app::backend::Backend;
use app::{shell, App};
use axum::Router;
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, LeptosRoutes};
use std::net::SocketAddr;
use std::sync::Arc;

/// Where cargo-leptos puts the compiled site (wasm, JS, CSS, assets).
#[derive(Clone, Debug)]
pub struct SiteConfig {
    pub site_root: String,
    pub bind: SocketAddr,
}

pub fn leptos_options(site: &SiteConfig) -> LeptosOptions {
    let env = match std::env::var("LEPTOS_ENV").as_deref() {
        Ok("DEV") | Ok("dev") | Ok("development") => leptos::config::Env::DEV,
        _ => leptos::config::Env::PROD,
    };
    LeptosOptions::builder()
        .output_name("shipback")
        .site_root(site.site_root.as_str())
        .site_pkg_dir("pkg")
        .site_addr(site.bind)
        .env(env)
        .build()
}

/// Every route: the station API (bearer tokens), and the dashboard behind sign-in.
pub fn router(
    site: &SiteConfig,
    api: ApiState,
    status: StatusFeed,
    shipments: ShipmentsFeed,
    sessions: &crate::people::http::SessionConfig,
) -> Router {
    let store = api.store.clone();
    let options = leptos_options(site);
    let backend = Backend(Arc::new(DashboardBackend {
        store: api.store.clone(),
        wake: api.wake.clone(),
        idle_after: status.idle_after(),
    }));
    let routes = generate_route_list(App);
    let dashboard = Router::new()
        .leptos_routes_with_context(
            &options,
            routes,
            move || {
                provide_context(backend.clone());
                crate::security::set_page_policy();
            },
            {
                let options = options.clone();
                move || shell(options.clone())
            },
        )
        .fallback(leptos_axum::file_and_error_handler(shell))
        .with_state(options);
    crate::security::harden(crate::people::http::protect(
        shipments_api::routes(api)
            .merge(status.routes())
            .merge(shipments.routes())
            .merge(dashboard),
        &store,
        sessions,
    ))
}
