//! Shipback's dashboard: the pages, their components, the server functions and the
//! types the browser shares with the server.

// The view types of a whole page nest deeply when components are not type-erased.
#![recursion_limit = "512"]

pub mod accounts;
pub mod api;
pub mod audit;
pub mod carriers;
pub mod components;
pub mod deadlines;
pub mod health;
pub mod live_rows;
pub mod marketplace;
pub mod pages;
pub mod people;
pub mod query;
pub mod shipments;
pub mod timed_text;
pub mod viewer;
pub mod wire;

/// The backend interface server functions call; implemented by the `server` crate.
#[cfg(feature = "ssr")]
pub mod backend;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    Lazy, ParamSegment, StaticSegment,
};

/// The HTML document the server renders around the app. `asset_root` is what goes
/// before the site's `/pkg/…` files: the server names them after their build, so that a
/// browser keeps them for good.
pub fn shell(options: LeptosOptions, asset_root: String) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" href="/favicon.ico"/>
                <link id="leptos" rel="stylesheet" href=format!("{asset_root}/pkg/shipback.css")/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options root=asset_root/>
                <MetaTags/>
                <viewer::ViewerMeta/>
                <components::live::FeedStampsMeta/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// What the browser runs before it hydrates the page: it fetches the wasm chunks that
/// draw parts the server already drew, so that hydration finds their code.
pub async fn load_code_for_drawn_parts() {
    components::detail_panel::load_detail_code_if_drawn().await;
}

/// Marks the page hydrated (`<body data-hydrated="true">`), which tests wait for. Each
/// screen calls it: a lazy screen hydrates after its wasm chunk arrives, later than the
/// rest of the page. Effects run only in the browser, once the screen is hydrated.
pub(crate) fn mark_hydrated() {
    Effect::new(|_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
}

/// Fetches the admin screens' chunks in the background (the Admin menu was opened), so
/// that the screen chosen opens without waiting for its code.
fn preload_admin_screens() {
    use leptos::task::spawn_local;
    use leptos_router::LazyRoute;
    spawn_local(<pages::access::AccessRoute as LazyRoute>::preload());
    spawn_local(<pages::accounts::AccountsRoute as LazyRoute>::preload());
    spawn_local(<pages::audit::AuditRoute as LazyRoute>::preload());
    spawn_local(<pages::carriers::CarriersRoute as LazyRoute>::preload());
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // The server provides the viewer's settings and the feeds' stamps per request; the
    // browser reads the ones the server wrote into the page.
    if use_context::<viewer::Viewer>().is_none() {
        provide_context(viewer::Viewer::from_page());
    }
    if use_context::<components::live::FeedStamps>().is_none() {
        provide_context(components::live::FeedStamps::from_page());
    }
    provide_context(pages::topbar::AdminScreensCode(preload_admin_screens));
    view! {
        <Title text="Shipback: write-back status"/>
        <Router>
            <Routes fallback=|| view! { <p class="not-found">"Page not found."</p> }>
                <Route path=StaticSegment("") view=pages::shipments::ShipmentsPage/>
                <Route path=StaticSegment("login") view={Lazy::<pages::login::LoginRoute>::new()}/>
                <Route path=StaticSegment("audit") view={Lazy::<pages::audit::AuditRoute>::new()}/>
                <Route
                    path=(StaticSegment("admin"), StaticSegment("access"))
                    view={Lazy::<pages::access::AccessRoute>::new()}
                />
                <Route
                    path=(StaticSegment("admin"), StaticSegment("accounts"))
                    view={Lazy::<pages::accounts::AccountsRoute>::new()}
                />
                <Route
                    path=(StaticSegment("admin"), StaticSegment("carriers"))
                    view={Lazy::<pages::carriers::CarriersRoute>::new()}
                />
                <Route
                    path=(StaticSegment("shipments"), ParamSegment("id"))
                    view=pages::shipment::ShipmentPage
                />
            </Routes>
        </Router>
    }
}
