//! The top bar's right-hand side on every screen: who is signed in, Sign out, and the
//! Admin menu; and the top bar of the admin screens. A page-level part: it links to
//! screens and preloads their code, which components must not know about.

use crate::components::who::Who;
use crate::people::{Role, SIGN_OUT_PATH};
use leptos::prelude::*;

/// Fetches the admin screens' code. The app's root provides it (it knows the routes),
/// so that this part names no screen.
#[derive(Clone, Copy)]
pub struct AdminScreensCode(pub fn());

/// The name and role of who is signed in, and a Sign out button.
#[component]
pub fn UserMenu() -> impl IntoView {
    let who = use_context::<Who>();
    // Opening the Admin menu fetches the admin screens' code in the background, so
    // that the screen chosen opens without waiting for it.
    let admin_code = use_context::<AdminScreensCode>();
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
                                    on:toggle=move |_| {
                                        if let Some(AdminScreensCode(preload)) = admin_code {
                                            preload();
                                        }
                                    }
                                >
                                    <summary class="button">"Admin ▾"</summary>
                                    <nav class="admin-links">
                                        <a class="button" href="/admin/accounts" data-testid="accounts-link">
                                            "Accounts"
                                        </a>
                                        <a class="button" href="/admin/carriers" data-testid="carriers-link">
                                            "Carriers"
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
