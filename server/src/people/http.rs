//! Signing in and out, and the session cookie. Who may call what is the route table's
//! (`web::routes`).

use super::{Credentials, People, SignInThrottle};
use crate::audit::{self, Action, Actor};
use crate::store::Store;
use app::people::{SignedIn, SIGN_IN_PATH, SIGN_OUT_PATH};
use axum::extract::{FromRequest, Request, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use axum::{Form, Router};
use axum_login::{AuthManagerLayerBuilder, AuthSession};
use chrono::Utc;
use serde::Deserialize;
use std::sync::Arc;
use std::time::Duration;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

/// How the session cookie behaves.
#[derive(Clone, Debug)]
pub struct SessionConfig {
    /// A session ends after this long without a request.
    pub idle: Duration,
    /// Mark the cookie Secure: set when the dashboard is served over HTTPS (directly or
    /// behind a proxy that terminates TLS).
    pub secure_cookie: bool,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            idle: Duration::from_secs(8 * 3600),
            secure_cookie: false,
        }
    }
}

pub const SESSION_COOKIE: &str = "shipback_session";

/// The session layer and axum-login's on top of it: every request finds its session
/// (if any) and the person signed in with it. The route guard (`web::routes`) decides
/// what they may call.
pub fn sign_in_layers(router: Router, store: &Store, config: &SessionConfig) -> Router {
    let sessions = SessionManagerLayer::new(store.session_store())
        .with_name(SESSION_COOKIE)
        .with_http_only(true)
        // Lax: a shared link opens signed in; a form posted from another site does not
        // carry the cookie (and is refused by `web::security::harden` anyway).
        .with_same_site(SameSite::Lax)
        .with_secure(config.secure_cookie)
        .with_expiry(Expiry::OnInactivity(
            time::Duration::try_from(config.idle).unwrap_or(time::Duration::hours(8)),
        ));
    let auth = AuthManagerLayerBuilder::new(
        People {
            store: store.clone(),
        },
        sessions,
    )
    .build();
    router.layer(auth)
}

/// The sign-in form's target and Sign out.
pub fn routes(store: &Store) -> Router {
    Router::new()
        .route(SIGN_IN_PATH, post(sign_in))
        .route(SIGN_OUT_PATH, post(sign_out))
        .with_state(Arc::new(SignInThrottle::new(store.clone())))
}

/// The inactivity timeout counts from the last request, but the session is written
/// back at most this often: a write on every request would be a database commit per
/// call, and every commit wakes the open pages' live refresh.
fn keep_alive_every(idle: Duration) -> i64 {
    (idle / 4).min(Duration::from_secs(60)).as_secs().max(1) as i64
}

const SEEN_KEY: &str = "shipback.seen";

pub async fn keep_alive(session: &tower_sessions::Session, idle: Duration) {
    let now = chrono::Utc::now().timestamp();
    let seen: Option<i64> = session.get(SEEN_KEY).await.ok().flatten();
    if seen.is_none_or(|seen| now - seen >= keep_alive_every(idle)) {
        // Modifying the session saves it, with its expiry moved on.
        if let Err(e) = session.insert(SEEN_KEY, now).await {
            tracing::warn!(error = %e, "cannot extend a session");
        }
    }
}

#[derive(Deserialize)]
struct SignInForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

/// Only a path on this site: never `//elsewhere` nor `https://…`.
fn safe_next(next: &str) -> &str {
    if next.starts_with('/') && !next.starts_with("//") && !next.starts_with("/\\") {
        next
    } else {
        "/"
    }
}

fn back_to_form(error: &str, next: &str, extra: &str) -> Response {
    let next = app::query::percent_encode(safe_next(next));
    Redirect::to(&format!("{SIGN_IN_PATH}?error={error}{extra}&next={next}")).into_response()
}

async fn sign_in(
    State(throttle): State<Arc<SignInThrottle>>,
    mut auth: AuthSession<People>,
    request: Request,
) -> Response {
    let address = crate::audit::peer_address(request.extensions());
    let Ok(Form(form)) = Form::<SignInForm>::from_request(request, &()).await else {
        return back_to_form("form", "/", "");
    };
    let name = form.name.trim().to_string();
    if name.is_empty() || form.password.is_empty() {
        return back_to_form("form", &form.next, "");
    }
    let keys = [format!("user:{name}"), format!("ip:{address}")];
    match throttle.wait(&keys, Utc::now()).await {
        Ok(None) => {}
        Ok(Some(wait)) => {
            return back_to_form(
                "slow",
                &form.next,
                &format!("&wait={}", wait.as_secs().max(1)),
            )
        }
        // Unknown: no guess is let through.
        Err(e) => {
            tracing::error!(error = %e, "cannot read the sign-in throttle");
            return back_to_form("down", &form.next, "");
        }
    }
    let user = match auth
        .authenticate(Credentials {
            name: name.clone(),
            password: form.password,
        })
        .await
    {
        Ok(Some(user)) => user,
        Ok(None) => {
            if let Err(e) = throttle.failed(&keys, Utc::now()).await {
                tracing::error!(error = %e, "cannot count a wrong password");
            }
            tracing::warn!(name = %name, address = %address, "wrong name or password");
            let store = &auth.backend.store;
            let stranger = Actor::Stranger {
                name: name.clone(),
                address,
            };
            let why = "wrong name or password";
            audit::record(store, &stranger, Action::SignInRefused, &name, why).await;
            return back_to_form("wrong", &form.next, "");
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot check a sign-in");
            return back_to_form("down", &form.next, "");
        }
    };
    // A new session id at every sign-in, also over a session that was signed in
    // already (axum-login cycles it only for a fresh one): an id planted or seen before
    // sign-in is worth nothing after.
    if let Err(e) = auth.session.cycle_id().await {
        tracing::error!(error = %e, "cannot renew the session id");
        return back_to_form("down", &form.next, "");
    }
    if let Err(e) = auth.login(&user).await {
        tracing::error!(error = %e, "cannot start a session");
        return back_to_form("down", &form.next, "");
    }
    if let Err(e) = throttle.succeeded(&keys[0]).await {
        tracing::error!(error = %e, "cannot clear the sign-in throttle");
    }
    tracing::info!(name = %user.name, role = user.role.as_str(), address = %address, "signed in");
    let store = &auth.backend.store;
    let who = Actor::Person(SignedIn {
        name: user.name.clone(),
        role: user.role,
        address,
        time_zone: None,
    });
    audit::record(store, &who, Action::SignIn, &user.name, "").await;
    Redirect::to(safe_next(&form.next)).into_response()
}

async fn sign_out(mut auth: AuthSession<People>, request: Request) -> Response {
    let address = crate::audit::peer_address(request.extensions());
    match auth.logout().await {
        Ok(Some(user)) => {
            let store = &auth.backend.store;
            let who = Actor::Person(SignedIn {
                name: user.name.clone(),
                role: user.role,
                address,
                time_zone: None,
            });
            audit::record(store, &who, Action::SignOut, &user.name, "").await;
        }
        Ok(None) => {}
        Err(e) => tracing::error!(error = %e, "cannot end a session"),
    }
    Redirect::to(SIGN_IN_PATH).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(safe_next("/?status=failed"), "/?status=failed");
        assert_eq!(safe_next("//evil.example/"), "/");
        assert_eq!(safe_next("https://evil.example/"), "/");
        assert_eq!(safe_next("/\\evil.example"), "/");
        assert_eq!(safe_next(""), "/");
    }
}
