//! The HTTP server: the Leptos dashboard (pages and server functions), the station's
//! API, the event streams, the exports and the static files, behind one route table
//! ([`routes`]) and the hardening every response gets ([`security`]).

pub mod assets;
pub mod error;
pub mod probes;
pub mod request_log;
pub mod routes;
pub mod security;

use crate::actions::Actions;
use crate::backend::DashboardBackend;
use crate::health::feed::StatusFeed;
use crate::people::http::SessionConfig;
use crate::shipments::http::{self as shipments_api, ApiState};
use crate::shipments::live::ShipmentsFeed;
use app::backend::Backend;
use app::components::live::FeedStamps;
use app::{shell, App};
use axum::Router;
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, LeptosRoutes};
use std::net::SocketAddr;
use std::sync::Arc;

/// The name cargo-leptos gives the wasm and its JS (`LEPTOS_OUTPUT_NAME`).
const OUTPUT_NAME: &str = "shipback";
/// The folder of the site root that holds them.
const PKG_DIR: &str = "pkg";

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
        .output_name(OUTPUT_NAME)
        .site_root(site.site_root.as_str())
        .site_pkg_dir(PKG_DIR)
        .site_addr(site.bind)
        .env(env)
        .build()
}

/// What wasm-bindgen's JS imports when the wasm was built without `--split`: the lazy
/// routes' calls are left pointing at a module no browser can load.
const UNSPLIT_MARKER: &str = "__wasm_split_placeholder__";

/// Refuses a site whose wasm was built without `cargo leptos build --split`: its JS would
/// fail to load in every browser, and no page would hydrate. A site without JS (tests
/// of the API alone) is let through.
pub fn check_site(site: &SiteConfig) -> Result<(), String> {
    let js = site_file(site, "js");
    match std::fs::read_to_string(&js) {
        Ok(text) if text.contains(UNSPLIT_MARKER) => Err(format!(
            "{} was built without --split, so no page would load: \
             build with `cargo leptos build --split` (add --release for production)",
            js.display()
        )),
        _ => Ok(()),
    }
}

/// Whether the compiled site's JS and wasm are where the pages will ask for them: the
/// readiness probe's check (a site-less server answers the API but draws no page).
pub fn check_site_files(site: &SiteConfig) -> Result<(), String> {
    for extension in ["js", "wasm"] {
        let file = site_file(site, extension);
        if !file.is_file() {
            return Err(format!(
                "{} is missing: build the site with `cargo leptos build --release --split`",
                file.display()
            ));
        }
    }
    Ok(())
}

/// The name this build of the site is served under (see [`assets::SiteBuild`]).
pub fn site_build(site: &SiteConfig) -> Result<assets::SiteBuild, String> {
    let pkg = std::path::Path::new(&site.site_root).join(PKG_DIR);
    assets::SiteBuild::of(&pkg)
        .map_err(|e| format!("cannot read the site's files under {}: {e}", pkg.display()))
}

/// The compiled site's main file with this extension: `{site_root}/pkg/shipback.js`.
fn site_file(site: &SiteConfig, extension: &str) -> std::path::PathBuf {
    std::path::Path::new(&site.site_root)
        .join(PKG_DIR)
        .join(format!("{OUTPUT_NAME}.{extension}"))
}

/// The settings the page is drawn with: the signed-in person's zone, else the site's.
fn viewer_of_request(site_time: &crate::time_zones::SiteTime) -> app::viewer::Viewer {
    let own_zone = leptos::prelude::use_context::<axum::http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<app::people::SignedIn>().cloned())
        .and_then(|who| who.time_zone);
    app::viewer::Viewer(Arc::new(site_time.viewer(own_zone.as_deref())))
}

/// What the routes serve besides the site.
#[derive(Clone)]
pub struct WebParts {
    pub actions: Actions,
    pub status: StatusFeed,
    pub shipments: ShipmentsFeed,
    pub sessions: SessionConfig,
    pub site_time: crate::time_zones::SiteTime,
    /// The heartbeat of the worker in this process, if one runs here: the readiness
    /// probe checks it.
    pub worker: Option<crate::worker::Heartbeat>,
}

/// Every route, behind the route table's guard, the sign-in layers and the hardening.
pub fn router(
    site: &SiteConfig,
    build: &assets::SiteBuild,
    parts: WebParts,
) -> Result<Router, routes::RouteTableError> {
    let store = parts.actions.store().clone();
    let options = leptos_options(site);
    let asset_root = build.root();
    let site_time = parts.site_time;
    let backend = Backend(Arc::new(DashboardBackend {
        actions: parts.actions.clone(),
        idle_after: parts.status.idle_after(),
        site_time,
    }));
    let (shipments_feed, status_feed) = (parts.shipments.clone(), parts.status.clone());
    let pages = generate_route_list(App);
    let table = routes::RouteTable::new(
        &pages
            .iter()
            .map(|page| page.path().to_string())
            .collect::<Vec<_>>(),
    )?;
    let dashboard = Router::new()
        .leptos_routes_with_context(
            &options,
            pages,
            move || {
                provide_context(backend.clone());
                provide_context(viewer_of_request(&site_time));
                // Taken before the page reads anything: what it reads is as new.
                provide_context(FeedStamps {
                    shipments: shipments_feed.stamp(),
                    status: status_feed.stamp(),
                });
                security::set_page_policy();
            },
            {
                let options = options.clone();
                let asset_root = asset_root.clone();
                move || shell(options.clone(), asset_root.clone())
            },
        )
        .fallback(leptos_axum::file_and_error_handler(move |options| {
            shell(options, asset_root.clone())
        }))
        .with_state(options);
    let guard = routes::GuardState {
        table: Arc::new(table),
        store: store.clone(),
        session_idle: parts.sessions.idle,
    };
    let everything = shipments_api::routes(ApiState {
        actions: parts.actions,
    })
    .merge(parts.status.routes())
    .merge(parts.shipments.routes())
    .merge(crate::audit::routes(store.clone()))
    .merge(crate::people::http::routes(&store))
    .merge(assets::site_files(&site.site_root, PKG_DIR, build))
    .merge(probes::routes(probes::Probed {
        store: store.clone(),
        site: Some(site.clone()),
        worker: parts.worker,
    }))
    .merge(dashboard)
    .layer(axum::middleware::from_fn_with_state(guard, routes::guard));
    Ok(request_log::layers(
        security::harden(crate::people::http::sign_in_layers(
            everything,
            &store,
            &parts.sessions,
        ))
        .layer(assets::compression()),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site_with_js(js: &str) -> (tempfile::TempDir, SiteConfig) {
        let dir = tempfile::tempdir().unwrap();
        let pkg = dir.path().join(PKG_DIR);
        std::fs::create_dir(&pkg).unwrap();
        std::fs::write(pkg.join(format!("{OUTPUT_NAME}.js")), js).unwrap();
        let site = SiteConfig {
            site_root: dir.path().to_string_lossy().into_owned(),
            bind: "127.0.0.1:0".parse().unwrap(),
        };
        (dir, site)
    }

    #[test]
    fn a_site_built_without_split_is_refused_with_the_fix() {
        let (_dir, site) =
            site_with_js("import * as import1 from \"__wasm_split_placeholder__\"\n");
        let error = check_site(&site).unwrap_err();
        assert!(error.contains("cargo leptos build --split"), "{error}");
    }

    #[test]
    fn a_split_site_or_none_at_all_is_accepted() {
        let (_dir, site) = site_with_js("import { __wbg_init } from './snippets';\n");
        assert_eq!(check_site(&site), Ok(()));
        let none = SiteConfig {
            site_root: "/nonexistent/site".into(),
            bind: "127.0.0.1:0".parse().unwrap(),
        };
        assert_eq!(check_site(&none), Ok(()));
    }
}
