//! `/shipments/{id}`: one shipment on a page of its own, with everything about it, to
//! share or to keep open beside Seller Central.

use crate::api::get_shipment;
use crate::components::detail_panel::LoadedShipment;
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

#[component]
pub fn ShipmentPage() -> impl IntoView {
    crate::mark_hydrated();
    crate::components::who::provide_who();
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").unwrap_or_default()));
    let refresh = RwSignal::new(0u64);
    let detail = Resource::new_serde_wb(
        move || (id.get(), refresh.get()),
        |(id, _)| get_shipment(id),
    );
    let menu_open = RwSignal::new(false);
    view! {
        <div class="screen shipment-page">
            <header class="topbar">
                <h1>
                    <a class="brand" href="/">"Shipback"</a>
                    <span class="subtitle">{move || format!("Shipment {}", id.get())}</span>
                </h1>
                <crate::pages::topbar::MenuToggle open=menu_open/>
                <div class="topbar-actions" id="topbar-actions" class:open=move || menu_open.get()>
                    <a class="button" href="/" data-testid="back">"← All shipments"</a>
                    <button class="button primary" on:click=move |_| refresh.update(|n| *n += 1)>
                        "↻ Update"
                    </button>
                    <crate::pages::topbar::UserMenu/>
                </div>
            </header>
            <main class="content">
                <article class="detail-page" data-testid="shipment-page">
                    <h2 class="visually-hidden">"Shipment information"</h2>
                    <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                        <LoadedShipment
                            detail=detail
                            refresh=refresh
                            missing=Signal::derive(move || format!("There is no shipment '{}'.", id.get()))
                        />
                    </Transition>
                </article>
            </main>
        </div>
    }
}
