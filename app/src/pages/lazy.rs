//! The lazy screens' plumbing: with `cargo leptos build --split`, each screen declared
//! with [`lazy_screen!`] is a wasm chunk of its own, fetched when someone opens it.

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
