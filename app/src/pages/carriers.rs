//! The admin screen for carrier names: what each marketplace is sent for the names the
//! stations use, the names shipments wait on, and a CSV import of many at once.

use crate::api::{
    admin_carriers, delete_carrier_mapping, import_carrier_mappings, save_carrier_mapping,
};
use crate::carriers::{CarrierMappingRow, CarriersScreen, CSV_HEADER};
use crate::components::format::server_error_text;
use crate::components::who::provide_who;
use crate::pages::topbar::AdminTopbar;
use leptos::prelude::*;

super::lazy::lazy_screen!(
    /// Carrier mappings, fetched when an admin opens them.
    CarriersRoute => CarriersPage
);

fn marketplace_label(marketplace: &str) -> &'static str {
    if marketplace == "ebay" {
        "eBay"
    } else {
        "Amazon"
    }
}

#[component]
pub fn CarriersPage() -> impl IntoView {
    provide_who();
    let changed = RwSignal::new(0u64);
    let screen = Resource::new_serde_wb(move || changed.get(), |_| admin_carriers());
    let form = RwSignal::new(CarrierMappingRow {
        marketplace: "amazon".into(),
        ..CarrierMappingRow::default()
    });
    let save = Action::new(move |m: &CarrierMappingRow| save_carrier_mapping(m.clone()));
    let remove =
        Action::new(move |(m, s): &(String, String)| delete_carrier_mapping(m.clone(), s.clone()));
    let import = Action::new(move |csv: &String| import_carrier_mappings(csv.clone()));
    let csv = RwSignal::new(String::new());
    Effect::new(move |_| {
        if let Some(Ok(())) = save.value().get() {
            changed.update(|n| *n += 1);
            form.update(|f| {
                f.station_name.clear();
                f.name.clear();
            });
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(_)) = remove.value().get() {
            changed.update(|n| *n += 1);
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(_)) = import.value().get() {
            changed.update(|n| *n += 1);
            csv.set(String::new());
        }
    });
    let saved = move || {
        save.value().get().map(|result| match result {
            Ok(()) => view! { <p class="saved" role="status" data-testid="carrier-saved">"Saved; shipments waiting for it go on."</p> }.into_any(),
            Err(e) => view! { <p class="error-line" role="alert" data-testid="carrier-error">{server_error_text(&e)}</p> }.into_any(),
        })
    };
    let imported = move || {
        import.value().get().map(|result| match result {
            Ok(n) => view! { <p class="saved" role="status" data-testid="carrier-imported">{format!("Imported {n} mappings.")}</p> }.into_any(),
            Err(e) => view! { <p class="error-line" role="alert" data-testid="carrier-import-error">{server_error_text(&e)}</p> }.into_any(),
        })
    };
    let body = move || {
        screen.get().map(|result| match result {
            Err(e) => {
                view! { <p class="error-line" role="alert">{server_error_text(&e)}</p> }.into_any()
            }
            Ok(screen) => view! { <Mappings screen=screen form=form remove=remove/> }.into_any(),
        })
    };
    let codes = move || {
        let marketplace = form.with(|f| f.marketplace.clone());
        screen
            .get()
            .and_then(Result::ok)
            .map(|s| {
                if marketplace == "ebay" {
                    s.ebay_codes
                } else {
                    s.amazon_codes
                }
            })
            .unwrap_or_default()
            .into_iter()
            .map(|code| view! { <option value=code.clone()>{code.clone()}</option> })
            .collect_view()
    };
    view! {
        <div class="screen">
            <AdminTopbar title="Carriers"/>
            <main class="content admin">
                <section class="panel access-section" aria-label="Carrier mappings">
                    <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>{body}</Transition>
                </section>
                <div class="access-section">
                    <form
                        class="account-form panel"
                        data-testid="carrier-form"
                        on:submit=move |ev| {
                            ev.prevent_default();
                            save.dispatch(form.get_untracked());
                        }
                    >
                        <h3>"Map a carrier name"</h3>
                        <label class="account-field">
                            <span>"Marketplace"</span>
                            <select name="marketplace" prop:value=move || form.with(|f| f.marketplace.clone())
                                on:change=move |ev| form.update(|f| { f.marketplace = event_target_value(&ev); f.code.clear(); })>
                                <option value="amazon">"Amazon"</option>
                                <option value="ebay">"eBay"</option>
                            </select>
                        </label>
                        <label class="account-field">
                            <span>"The station's name for the carrier"</span>
                            <input type="text" name="station_name" autocomplete="off"
                                prop:value=move || form.with(|f| f.station_name.clone())
                                on:input=move |ev| form.update(|f| f.station_name = event_target_value(&ev))/>
                        </label>
                        <label class="account-field">
                            <span>"Sent as"</span>
                            <select name="code" prop:value=move || form.with(|f| f.code.clone())
                                on:change=move |ev| form.update(|f| f.code = event_target_value(&ev))>
                                <option value="">"Choose a code"</option>
                                <Transition fallback=|| ()>{codes}</Transition>
                            </select>
                        </label>
                        <label class="account-field">
                            <span>"Carrier name (with Other: as the buyer reads it)"</span>
                            <input type="text" name="name" autocomplete="off"
                                prop:value=move || form.with(|f| f.name.clone())
                                on:input=move |ev| form.update(|f| f.name = event_target_value(&ev))/>
                        </label>
                        {saved}
                        <button class="button primary" type="submit" data-testid="save-carrier"
                            disabled=move || save.pending().get()>"Save"</button>
                    </form>
                    <form
                        class="account-form panel"
                        data-testid="carrier-import"
                        on:submit=move |ev| {
                            ev.prevent_default();
                            import.dispatch(csv.get_untracked());
                        }
                    >
                        <h3>"Import from CSV"</h3>
                        <p class="muted">{format!("A header line, then one mapping a line: {CSV_HEADER}")}</p>
                        <textarea name="csv" rows="6" data-testid="carrier-csv"
                            placeholder=format!("{CSV_HEADER}\namazon,Bob's Vans,Other,Bob's Vans Ltd")
                            prop:value=move || csv.get()
                            on:input=move |ev| csv.set(event_target_value(&ev))></textarea>
                        {imported}
                        <button class="button" type="submit" data-testid="import-carriers"
                            disabled=move || import.pending().get()>"Import"</button>
                    </form>
                </div>
            </main>
        </div>
    }
}

#[component]
fn Mappings(
    screen: CarriersScreen,
    form: RwSignal<CarrierMappingRow>,
    remove: Action<(String, String), Result<bool, ServerFnError>>,
) -> impl IntoView {
    let waiting = (!screen.unmapped.is_empty()).then(|| {
        let rows = screen
            .unmapped
            .into_iter()
            .map(|u| {
                let pick = CarrierMappingRow {
                    marketplace: u.marketplace.clone(),
                    station_name: u.station_name.clone(),
                    ..CarrierMappingRow::default()
                };
                view! {
                    <tr data-testid="unmapped-carrier">
                        <td>{marketplace_label(&u.marketplace)}</td>
                        <td>{u.station_name.clone()}</td>
                        <td>{format!("{} waiting", u.waiting)}</td>
                        <td>
                            <button class="button" type="button" on:click=move |_| form.set(pick.clone())>
                                "Map it"
                            </button>
                        </td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <div class="error-line" role="alert">
                "Shipments wait for these carrier names: no marketplace code is known for them."
            </div>
            <table class="accounts-table" data-testid="unmapped-carriers">
                <thead>
                    <tr><th scope="col">"Marketplace"</th><th scope="col">"Station's name"</th><th scope="col">"Shipments"</th><th scope="col"><span class="visually-hidden">"Actions"</span></th></tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        }
    });
    let count = screen.mappings.len();
    let rows = screen
        .mappings
        .into_iter()
        .map(|m| {
            let key = (m.marketplace.clone(), m.station_name.clone());
            let edit = m.clone();
            view! {
                <tr data-testid="carrier-row">
                    <td>{marketplace_label(&m.marketplace)}</td>
                    <td>{m.station_name.clone()}</td>
                    <td class="mono">{m.code.clone()}</td>
                    <td>{m.name.clone()}</td>
                    <td class="row-actions">
                        <button class="button" type="button" on:click=move |_| form.set(edit.clone())>"Edit"</button>
                        <button class="button" type="button" on:click=move |_| { remove.dispatch(key.clone()); }>"Remove"</button>
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <h2>"Carrier names"</h2>
        {waiting}
        <p class="muted">
            "Each marketplace is sent a carrier code from its own list. A name the stations use is mapped \
             here first, then by the built-in list of each marketplace's codes (\"UPS Ground\" is UPS). \
             A name neither knows is never sent: its shipments wait here until it is mapped."
        </p>
        <table class="accounts-table" data-testid="carrier-table">
            <thead>
                <tr><th scope="col">"Marketplace"</th><th scope="col">"Station's name"</th><th scope="col">"Sent as"</th><th scope="col">"Name"</th><th scope="col"><span class="visually-hidden">"Actions"</span></th></tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
        {(count == 0).then(|| view! { <p class="empty">"No mapping yet: the built-in lists decide."</p> })}
    }
}
