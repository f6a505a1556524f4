//! The admin screen for marketplace accounts: register, edit, enable and disable. The
//! credentials can be typed in (and replaced) but are never shown again.

use crate::accounts::{AccountFieldError, AccountInput, AccountSummary};
use crate::api::{admin_accounts, save_account, set_account_enabled};
use crate::components::format::server_error_text;
use crate::components::who::provide_who;
use crate::pages::topbar::AdminTopbar;
use leptos::prelude::*;

/// One text field of the form, bound to one `AccountInput` field, with its red line.
fn field(
    form: RwSignal<AccountInput>,
    problems: RwSignal<Vec<AccountFieldError>>,
    name: &'static str,
    label: &'static str,
    kind: &'static str,
    get: fn(&AccountInput) -> String,
    set: fn(&mut AccountInput, String),
) -> impl IntoView {
    let error = move || {
        problems
            .get()
            .into_iter()
            .find(|p| p.field == name)
            .map(|p| view! { <span class="error-line" role="alert">{p.message}</span> })
    };
    view! {
        <label class="account-field">
            <span>{label}</span>
            <input
                type=kind
                name=name
                autocomplete="off"
                prop:value=move || form.with(get)
                on:input=move |ev| form.update(|f| set(f, event_target_value(&ev)))
            />
            {error}
        </label>
    }
}

super::lazy::lazy_screen!(
    /// Marketplace accounts, fetched when an admin opens them.
    AccountsRoute => AccountsPage
);

#[component]
pub fn AccountsPage() -> impl IntoView {
    provide_who();
    let saved = RwSignal::new(0u64);
    let accounts = Resource::new_serde_wb(move || saved.get(), |_| admin_accounts());
    let form = RwSignal::new(AccountInput {
        marketplace: "amazon".into(),
        region: "na".into(),
        enabled: true,
        ..AccountInput::default()
    });
    let editing = RwSignal::new(None::<String>);
    let problems = RwSignal::new(Vec::<AccountFieldError>::new());
    let message = RwSignal::new(None::<Result<String, String>>);

    let save = Action::new(move |input: &AccountInput| save_account(input.clone()));
    Effect::new(move |_| match save.value().get() {
        Some(Ok(found)) if found.is_empty() => {
            problems.set(Vec::new());
            message.set(Some(Ok(format!("Saved {}.", form.get_untracked().key))));
            editing.set(Some(form.get_untracked().key));
            form.update(|f| {
                f.client_secret.clear();
                f.refresh_token.clear();
            });
            saved.update(|n| *n += 1);
        }
        Some(Ok(found)) => {
            problems.set(found);
            message.set(Some(Err("Correct the fields in red.".into())));
        }
        Some(Err(e)) => message.set(Some(Err(server_error_text(&e)))),
        None => {}
    });
    let toggle = Action::new(move |(key, enabled): &(String, bool)| {
        set_account_enabled(key.clone(), *enabled)
    });
    Effect::new(move |_| {
        if let Some(result) = toggle.value().get() {
            match result {
                Ok(_) => saved.update(|n| *n += 1),
                Err(e) => message.set(Some(Err(server_error_text(&e)))),
            }
        }
    });

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let input = form.get_untracked();
        // The same rules as the server's, so a mistake shows at once.
        let stored = accounts
            .get_untracked()
            .and_then(Result::ok)
            .and_then(|list| list.into_iter().find(|a| a.key == input.key));
        let found = input.problems(stored.as_ref());
        if found.is_empty() {
            save.dispatch(input);
        } else {
            problems.set(found);
            message.set(Some(Err("Correct the fields in red.".into())));
        }
    };
    let edit = move |account: AccountSummary| {
        form.set(AccountInput::from_summary(&account));
        editing.set(Some(account.key));
        problems.set(Vec::new());
        message.set(None);
    };
    let new_account = move |_| {
        form.set(AccountInput {
            marketplace: "amazon".into(),
            region: "na".into(),
            enabled: true,
            ..AccountInput::default()
        });
        editing.set(None);
        problems.set(Vec::new());
        message.set(None);
    };

    let table = move || {
        accounts.get().map(|result| match result {
            Err(e) => view! { <p class="error-line" role="alert">{server_error_text(&e)}</p> }.into_any(),
            Ok(list) => {
                let rows = list
                    .into_iter()
                    .map(|a| {
                        let (key, enabled) = (a.key.clone(), a.enabled);
                        let edited = a.clone();
                        view! {
                            <tr data-testid="account-row" data-account=a.key.clone()>
                                <td class="mono">{a.key.clone()}</td>
                                <td>{a.display_name.clone()}<div class="muted">{a.company.clone()}</div></td>
                                <td>
                                    {a.marketplace.clone()}
                                    <div class="muted mono">{format!("{} {}", a.marketplace_id, a.region)}</div>
                                </td>
                                <td>{if a.enabled { "Enabled" } else { "Disabled" }}</td>
                                <td class="account-actions">
                                    <button class="button" type="button" data-testid="edit-account"
                                        on:click=move |_| edit(edited.clone())>"Edit"</button>
                                    <button class="button" type="button" data-testid="toggle-account"
                                        on:click=move |_| {
                                            // The form shows the new state too, so that saving it keeps it.
                                            if editing.get_untracked().as_deref() == Some(key.as_str()) {
                                                form.update(|f| f.enabled = !enabled);
                                            }
                                            toggle.dispatch((key.clone(), !enabled));
                                        }>
                                        {if enabled { "Disable" } else { "Enable" }}
                                    </button>
                                </td>
                            </tr>
                        }
                    })
                    .collect_view();
                view! {
                    <table class="accounts-table" data-testid="accounts-table">
                        <thead>
                            <tr>
                                <th scope="col">"Key"</th>
                                <th scope="col">"Name"</th>
                                <th scope="col">"Marketplace"</th>
                                <th scope="col">"State"</th>
                                <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                            </tr>
                        </thead>
                        <tbody>{rows}</tbody>
                    </table>
                }
                .into_any()
            }
        })
    };

    view! {
        <div class="screen">
            <AdminTopbar title="Marketplace accounts"/>
            <main class="content admin">
                <section class="panel">
                    <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>{table}</Transition>
                </section>
                <form class="panel account-form" on:submit=submit data-testid="account-form">
                    <h2>
                        {move || match editing.get() {
                            Some(key) => format!("Edit {key}"),
                            None => "Register an account".to_string(),
                        }}
                    </h2>
                    <button class="button link" type="button" on:click=new_account>"New account"</button>
                    {field(form, problems, "key", "Key (what the station sends)", "text", |f| f.key.clone(), |f, v| f.key = v)}
                    <label class="account-field">
                        <span>"Marketplace"</span>
                        <select
                            name="marketplace"
                            prop:value=move || form.with(|f| f.marketplace.clone())
                            on:change=move |ev| form.update(|f| f.marketplace = event_target_value(&ev))
                        >
                            <option value="amazon">"Amazon"</option>
                            <option value="ebay">"eBay"</option>
                        </select>
                    </label>
                    {field(form, problems, "display_name", "Name", "text", |f| f.display_name.clone(), |f, v| f.display_name = v)}
                    {field(form, problems, "company", "Company", "text", |f| f.company.clone(), |f, v| f.company = v)}
                    {field(form, problems, "marketplace_id", "Marketplace id / site", "text", |f| f.marketplace_id.clone(), |f, v| f.marketplace_id = v)}
                    {field(form, problems, "region", "Region (Amazon: na, eu, fe)", "text", |f| f.region.clone(), |f, v| f.region = v)}
                    {field(form, problems, "api_base_url", "API base URL", "url", |f| f.api_base_url.clone(), |f, v| f.api_base_url = v)}
                    {field(form, problems, "auth_base_url", "Token (auth) base URL", "url", |f| f.auth_base_url.clone(), |f, v| f.auth_base_url = v)}
                    {field(form, problems, "client_id", "Client id", "text", |f| f.client_id.clone(), |f, v| f.client_id = v)}
                    {field(form, problems, "client_secret", "Client secret (blank: keep)", "password", |f| f.client_secret.clone(), |f, v| f.client_secret = v)}
                    {field(form, problems, "refresh_token", "Refresh token (blank: keep)", "password", |f| f.refresh_token.clone(), |f, v| f.refresh_token = v)}
                    {field(form, problems, "writeback_api", "Write-back API (eBay: trading or fulfillment)", "text", |f| f.writeback_api.clone(), |f, v| f.writeback_api = v)}
                    <label class="account-check">
                        <input
                            type="checkbox"
                            name="enabled"
                            prop:checked=move || form.with(|f| f.enabled)
                            on:change=move |ev| form.update(|f| f.enabled = event_target_checked(&ev))
                        />
                        "Enabled"
                    </label>
                    {move || message.get().map(|m| match m {
                        Ok(text) => view! { <p class="saved" role="status" data-testid="account-saved">{text}</p> }.into_any(),
                        Err(text) => view! { <p class="error-line" role="alert" data-testid="account-error">{text}</p> }.into_any(),
                    })}
                    <button class="button primary" type="submit" data-testid="save-account"
                        disabled=move || save.pending().get()>"Save"</button>
                </form>
            </main>
        </div>
    }
}
