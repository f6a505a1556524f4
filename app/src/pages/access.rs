//! The admin screen for who may get in: people (name, role, password) and the station
//! API's tokens (made here and shown once, revoked here).

use crate::api::{admin_people, admin_tokens, create_token, revoke_token, save_person};
use crate::components::format::server_error_text;
use crate::components::format::{date_time, date_time_or_dash};
use crate::components::who::provide_who;
use crate::pages::topbar::AdminTopbar;
use crate::people::Role;
use leptos::prelude::*;

super::lazy::lazy_screen!(
    /// People and tokens, fetched when an admin opens them.
    AccessRoute => AccessPage
);

#[component]
pub fn AccessPage() -> impl IntoView {
    provide_who();
    view! {
        <div class="screen">
            <AdminTopbar title="People and tokens"/>
            <main class="content admin">
                <People/>
                <Tokens/>
            </main>
        </div>
    }
}

#[component]
fn People() -> impl IntoView {
    let changed = RwSignal::new(0u64);
    let people = Resource::new_serde_wb(move || changed.get(), |_| admin_people());
    let (name, role, password) = (
        RwSignal::new(String::new()),
        RwSignal::new("viewer".to_string()),
        RwSignal::new(String::new()),
    );
    let save = Action::new(move |(n, r, p): &(String, String, String)| {
        save_person(n.clone(), r.clone(), p.clone())
    });
    let outcome = move || {
        save.value().get().map(|result| match result {
            Ok(()) => view! { <p class="saved" role="status" data-testid="person-saved">"Saved."</p> }.into_any(),
            Err(e) => view! { <p class="error-line" role="alert" data-testid="person-error">{server_error_text(&e)}</p> }
                .into_any(),
        })
    };
    Effect::new(move |_| {
        if let Some(Ok(())) = save.value().get() {
            password.set(String::new());
            changed.update(|n| *n += 1);
        }
    });
    let rows = move || {
        people.get().map(|result| match result {
            Err(e) => {
                view! { <p class="error-line" role="alert">{server_error_text(&e)}</p> }.into_any()
            }
            Ok(list) => list
                .into_iter()
                .map(|p| {
                    view! {
                        <tr data-testid="person-row" data-person=p.name.clone()>
                            <td>{p.name.clone()}</td>
                            <td>{p.role.as_str()}</td>
                            <td class="muted">{date_time(p.created_at)}</td>
                        </tr>
                    }
                })
                .collect_view()
                .into_any(),
        })
    };
    view! {
        <section class="panel access-section" aria-label="People">
            <h2>"People"</h2>
            <table class="accounts-table">
                <thead>
                    <tr><th scope="col">"Name"</th><th scope="col">"Role"</th><th scope="col">"Added (UTC)"</th></tr>
                </thead>
                <tbody><Transition fallback=|| ()>{rows}</Transition></tbody>
            </table>
            <form
                class="account-form"
                data-testid="person-form"
                on:submit=move |ev| {
                    ev.prevent_default();
                    save.dispatch((name.get_untracked(), role.get_untracked(), password.get_untracked()));
                }
            >
                <h3>"Add a person, or reset a password"</h3>
                <label class="account-field">
                    <span>"Name"</span>
                    <input type="text" name="name" autocomplete="off" prop:value=move || name.get()
                        on:input=move |ev| name.set(event_target_value(&ev))/>
                </label>
                <label class="account-field">
                    <span>"Role"</span>
                    <select name="role" prop:value=move || role.get() on:change=move |ev| role.set(event_target_value(&ev))>
                        {Role::ALL.into_iter().map(|r| view! { <option value=r.as_str()>{r.as_str()}</option> }).collect_view()}
                    </select>
                </label>
                <label class="account-field">
                    <span>"Password (12 to 128 characters)"</span>
                    <input type="password" name="password" autocomplete="new-password" prop:value=move || password.get()
                        on:input=move |ev| password.set(event_target_value(&ev))/>
                </label>
                {outcome}
                <button class="button primary" type="submit" data-testid="save-person"
                    disabled=move || save.pending().get()>"Save"</button>
            </form>
        </section>
    }
}

#[component]
fn Tokens() -> impl IntoView {
    let changed = RwSignal::new(0u64);
    let tokens = Resource::new_serde_wb(move || changed.get(), |_| admin_tokens());
    let name = RwSignal::new(String::new());
    let scopes = RwSignal::new(vec!["ingest".to_string()]);
    let create = Action::new(move |(n, s): &(String, String)| create_token(n.clone(), s.clone()));
    let revoke = Action::new(move |n: &String| revoke_token(n.clone()));
    Effect::new(move |_| {
        if let Some(Ok(_)) = create.value().get() {
            changed.update(|n| *n += 1);
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(_)) = revoke.value().get() {
            changed.update(|n| *n += 1);
        }
    });
    let created = move || {
        create.value().get().map(|result| match result {
            Ok(token) => view! {
                <div class="token-once" role="status">
                    <p>"The new token, shown this once: copy it now."</p>
                    <code class="mono" data-testid="new-token">{token}</code>
                </div>
            }
            .into_any(),
            Err(e) => view! { <p class="error-line" role="alert" data-testid="token-error">{server_error_text(&e)}</p> }
                .into_any(),
        })
    };
    let scope_box = move |scope: &'static str, label: &'static str| {
        view! {
            <label class="account-check">
                <input
                    type="checkbox"
                    name=scope
                    prop:checked=move || scopes.with(|s| s.iter().any(|x| x == scope))
                    on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        scopes.update(|s| {
                            s.retain(|x| x != scope);
                            if on {
                                s.push(scope.to_string());
                            }
                        });
                    }
                />
                {label}
            </label>
        }
    };
    let rows = move || {
        tokens.get().map(|result| match result {
            Err(e) => view! { <p class="error-line" role="alert">{server_error_text(&e)}</p> }.into_any(),
            Ok(list) => list
                .into_iter()
                .map(|t| {
                    let live = t.revoked_at.is_none();
                    let token_name = t.name.clone();
                    view! {
                        <tr data-testid="token-row" data-token=t.name.clone()>
                            <td>{t.name.clone()}</td>
                            <td>{t.scopes.clone()}</td>
                            <td class="muted">{date_time_or_dash(t.last_used_at)}</td>
                            <td>
                                {if live {
                                    view! {
                                        <button class="button" type="button" data-testid="revoke-token"
                                            on:click=move |_| { revoke.dispatch(token_name.clone()); }>"Revoke"</button>
                                    }
                                        .into_any()
                                } else {
                                    view! { <span class="muted">{format!("revoked {}", date_time_or_dash(t.revoked_at))}</span> }
                                        .into_any()
                                }}
                            </td>
                        </tr>
                    }
                })
                .collect_view()
                .into_any(),
        })
    };
    view! {
        <section class="panel access-section" aria-label="Station API tokens">
            <h2>"Station API tokens"</h2>
            <table class="accounts-table">
                <thead>
                    <tr>
                        <th scope="col">"Name"</th>
                        <th scope="col">"Scopes"</th>
                        <th scope="col">"Last used (UTC)"</th>
                        <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody><Transition fallback=|| ()>{rows}</Transition></tbody>
            </table>
            <form
                class="account-form"
                data-testid="token-form"
                on:submit=move |ev| {
                    ev.prevent_default();
                    create.dispatch((name.get_untracked(), scopes.get_untracked().join(",")));
                }
            >
                <h3>"Make a token"</h3>
                <label class="account-field">
                    <span>"Name (who uses it)"</span>
                    <input type="text" name="token_name" autocomplete="off" prop:value=move || name.get()
                        on:input=move |ev| name.set(event_target_value(&ev))/>
                </label>
                {scope_box("ingest", "ingest: post shipments")}
                {scope_box("read", "read: shipments, export, status")}
                {scope_box("operate", "operate: retry, confirm")}
                {created}
                <button class="button primary" type="submit" data-testid="create-token"
                    disabled=move || create.pending().get()>"Make token"</button>
            </form>
        </section>
    }
}
