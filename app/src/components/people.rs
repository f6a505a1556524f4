//! Who is signed in, as the pages see it: the top bar's name and Sign out, and what the
//! role lets the page offer. Hiding is for the user's sake; the server checks every call.

use crate::api::who_am_i;
use crate::people::{Role, SignedIn, SIGN_OUT_PATH};
use crate::wire::BrowserResource;
use leptos::prelude::*;

#[derive(Clone, Copy)]
pub struct Who(pub BrowserResource<Result<SignedIn, ServerFnError>>);

/// Reads who is signed in, for the page and everything in it.
pub fn provide_who() {
    provide_context(Who(Resource::new_serde_wb(|| (), |_| who_am_i())));
}

/// Whether the signed-in person may do what `role` may. Call it inside a `Suspense` or
/// `Transition`, so that the server waits for the answer before rendering.
pub fn may(role: Role) -> bool {
    use_context::<Who>()
        .and_then(|who| who.0.get())
        .and_then(Result::ok)
        .is_some_and(|signed_in| signed_in.role.allows(role))
}

/// The name and role of who is signed in, and a Sign out button.
#[component]
pub fn UserMenu() -> impl IntoView {
    let who = use_context::<Who>();
    view! {
        <Transition fallback=|| ()>
            {move || {
                who.and_then(|w| w.0.get())
                    .and_then(Result::ok)
                    .map(|signed_in| {
                        // One menu for the admin screens keeps the top bar short on a tablet.
                        let audit = signed_in.role.allows(Role::Admin).then(|| {
                            view! {
                                <details
                                    class="admin-menu"
                                    data-testid="admin-menu"
                                    on:toggle=|_| crate::pages::preload_admin_screens()
                                >
                                    <summary class="button">"Admin ▾"</summary>
                                    <nav class="admin-links">
                                        <a class="button" href="/admin/accounts" data-testid="accounts-link">
                                            "Accounts"
                                        </a>
                                        <a class="button" href="/admin/access" data-testid="access-link">
                                            "People and tokens"
                                        </a>
                                        <a class="button" href="/audit" data-testid="audit-link">
                                            "Audit log"
                                        </a>
                                    </nav>
                                </details>
                            }
                        });
                        view! {
                            {audit}
                            <span class="who" data-testid="who">
                                {signed_in.name}
                                <span class="muted">{format!(" · {}", signed_in.role.as_str())}</span>
                            </span>
                            <form class="sign-out" method="post" action=SIGN_OUT_PATH>
                                <button class="button" type="submit" data-testid="sign-out">
                                    "Sign out"
                                </button>
                            </form>
                        }
                    })
            }}
        </Transition>
    }
}

/// The top bar of the admin screens: their title, the way back, anything the screen
/// adds (`children`), and who is signed in.
#[component]
pub fn AdminTopbar(
    title: &'static str,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    view! {
        <header class="topbar">
            <h1>
                <a class="brand" href="/">"Shipback"</a>
                <span class="subtitle">{title}</span>
            </h1>
            <div class="topbar-actions">
                <a class="button" href="/" data-testid="back">"← All shipments"</a>
                {children.map(|c| c())}
                <UserMenu/>
            </div>
        </header>
    }
}
