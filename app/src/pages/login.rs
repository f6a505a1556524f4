//! The sign-in form. It posts to the server as a plain HTML form, so it works before the
//! wasm has loaded; the server sends the browser back here with what went wrong.

use crate::api::parse_query_pairs;
use crate::people::SIGN_IN_PATH;
use leptos::prelude::*;
use leptos_router::hooks::use_location;

fn message(error: &str, wait: &str) -> Option<String> {
    Some(match error {
        "" => return None,
        "wrong" => "Wrong name or password.".to_string(),
        "slow" => format!("Too many wrong passwords: wait {wait} s, then try again."),
        "form" => "Enter your name and password.".to_string(),
        _ => "Signing in is not possible right now; try again in a moment.".to_string(),
    })
}

super::lazy::lazy_screen!(
    /// The sign-in form, fetched only by those who are signed out.
    LoginRoute => LoginPage
);

#[component]
pub fn LoginPage() -> impl IntoView {
    let location = use_location();
    let query = move || parse_query_pairs(location.search.get().trim_start_matches('?'));
    let param = move |name: &str| {
        query()
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
            .unwrap_or_default()
    };
    let error = move || message(&param("error"), &param("wait"));
    let next = move || {
        let next = param("next");
        if next.is_empty() {
            "/".to_string()
        } else {
            next
        }
    };
    view! {
        <main class="sign-in">
            <form class="sign-in-form" method="post" action=SIGN_IN_PATH data-testid="sign-in-form">
                <h1>
                    <span class="brand">"Shipback"</span>
                    <span class="subtitle">"Sign in"</span>
                </h1>
                {move || error().map(|e| view! { <p class="error-line" role="alert" data-testid="sign-in-error">{e}</p> })}
                <label>
                    <span>"Name"</span>
                    <input type="text" name="name" autocomplete="username" required autofocus/>
                </label>
                <label>
                    <span>"Password"</span>
                    <input type="password" name="password" autocomplete="current-password" required/>
                </label>
                <input type="hidden" name="next" value=next/>
                <button class="button primary" type="submit" data-testid="sign-in">"Sign in"</button>
            </form>
        </main>
    }
}
