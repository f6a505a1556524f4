//! The top bar's right-hand side on every screen: who is signed in, Sign out, and the
//! Admin menu; and the top bar of the admin screens. A page-level part: it links to
//! screens and preloads their code, which components must not know about.

use crate::api::{set_time_zone, time_zone_choices};
use crate::components::format::server_error_text;
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
    // The zone list is read when the menu first opens, not with every page.
    let opened = RwSignal::new(false);
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
                            <details class="user-menu" data-testid="user-menu" on:toggle=move |_| opened.set(true)>
                                <summary class="button who" data-testid="who">
                                    {signed_in.name}
                                    <span class="muted">{format!(" · {}", signed_in.role.as_str())}</span>
                                    " ▾"
                                </summary>
                                <div class="user-menu-body">
                                    <TimeZoneChoice opened=opened/>
                                </div>
                            </details>
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

/// The person's own time zone: every zone of the IANA database, or the site's. Saving
/// reloads the page, so that the server draws it again in the new zone.
#[component]
fn TimeZoneChoice(opened: RwSignal<bool>) -> impl IntoView {
    let choices = Resource::new_serde_wb(
        move || opened.get(),
        |opened| async move {
            if opened {
                time_zone_choices().await.map(Some)
            } else {
                Ok(None)
            }
        },
    );
    let save = Action::new(|zone: &String| {
        let zone = zone.clone();
        async move {
            set_time_zone(zone).await?;
            let _ = window().location().reload();
            Ok::<(), ServerFnError>(())
        }
    });
    let failure = move || {
        save.value().get().and_then(Result::err).map(|e| {
            view! { <p class="error-line" role="alert">{server_error_text(&e)}</p> }
        })
    };
    view! {
        <Transition fallback=|| view! { <p class="loading">"Reading time zones…"</p> }>
            {move || {
                choices
                    .get()
                    .map(|read| match read {
                        Ok(Some(c)) => {
                            let chosen = c.chosen.clone().unwrap_or_default();
                            let options = c
                                .zones
                                .into_iter()
                                .map(|zone| {
                                    let selected = Some(&zone) == c.chosen.as_ref();
                                    view! { <option value=zone.clone() selected=selected>{zone.clone()}</option> }
                                })
                                .collect_view();
                            view! {
                                <label class="zone-choice">
                                    <span class="filter-label">"Time zone"</span>
                                    <select
                                        name="time_zone"
                                        data-testid="time-zone-choice"
                                        prop:value=chosen
                                        on:change=move |ev| {
                                            save.dispatch(event_target_value(&ev));
                                        }
                                    >
                                        <option value="" selected=c.chosen.is_none()>
                                            {format!("The site's ({})", c.site)}
                                        </option>
                                        {options}
                                    </select>
                                </label>
                            }
                                .into_any()
                        }
                        Ok(None) => ().into_any(),
                        Err(e) => {
                            view! { <p class="error-line" role="alert">{server_error_text(&e)}</p> }
                                .into_any()
                        }
                    })
            }}
        </Transition>
        {failure}
    }
}

/// On a phone the top bar's actions fold into a menu (style/main.css); this button opens
/// it. Hidden on wider screens, where the actions show themselves.
#[component]
pub fn MenuToggle(open: RwSignal<bool>) -> impl IntoView {
    view! {
        <button
            class="button menu-toggle"
            data-testid="menu-toggle"
            aria-controls="topbar-actions"
            aria-expanded=move || open.get().to_string()
            on:click=move |_| open.update(|o| *o = !*o)
        >
            "☰ Menu"
        </button>
    }
}

/// The top bar of the admin screens: their title, the way back, anything the screen
/// adds (`children`), and who is signed in.
#[component]
pub fn AdminTopbar(
    title: &'static str,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    let menu_open = RwSignal::new(false);
    view! {
        <header class="topbar">
            <h1>
                <a class="brand" href="/">"Shipback"</a>
                <span class="subtitle">{title}</span>
            </h1>
            <MenuToggle open=menu_open/>
            <div class="topbar-actions" id="topbar-actions" class:open=move || menu_open.get()>
                <a class="button" href="/" data-testid="back">"← All shipments"</a>
                {children.map(|c| c())}
                <UserMenu/>
            </div>
        </header>
    }
}
