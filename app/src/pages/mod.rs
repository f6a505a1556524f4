//! One module per screen. The shipments screen is in the main wasm, except for the code
//! that draws a shipment's details (`detail_code`, in the detail panel). The rarely used
//! screens (sign-in and the admin screens) are lazy routes: with `cargo leptos build
//! --split` their code is a wasm chunk of its own, fetched when someone opens them.

pub mod access;
pub mod accounts;
pub mod audit;
pub mod login;
pub mod shipment;
pub mod shipments;

/// Declares `$route`, a lazy route that renders the component `$page`.
macro_rules! lazy_screen {
    ($(#[$doc:meta])* $route:ident => $page:ident) => {
        $(#[$doc])*
        pub struct $route;

        #[leptos_router::lazy_route]
        impl leptos_router::LazyRoute for $route {
            fn data() -> Self {
                $route
            }

            fn view(_this: Self) -> leptos::prelude::AnyView {
                use leptos::prelude::*;
                crate::mark_hydrated();
                view! { <$page/> }.into_any()
            }
        }
    };
}
pub(crate) use lazy_screen;

/// Fetches the admin screens' chunks in the background (the Admin menu was opened), so
/// that the screen chosen opens without waiting for its code.
pub fn preload_admin_screens() {
    use leptos::task::spawn_local;
    use leptos_router::LazyRoute;
    spawn_local(<access::AccessRoute as LazyRoute>::preload());
    spawn_local(<accounts::AccountsRoute as LazyRoute>::preload());
    spawn_local(<audit::AuditRoute as LazyRoute>::preload());
}
