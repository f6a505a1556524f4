//! Signing in to the dashboard: every page, server function and dashboard route refuses
//! a signed-out visitor, every action refuses a viewer, and the session cookie is
//! rotated at sign-in, expires when idle, ends at sign-out and is refused cross-site.

use crate::common;

use app::people::Role;
use reqwest::redirect::Policy;
use reqwest::{Method, StatusCode};
use shipback::people::http::{SessionConfig, SESSION_COOKIE};
use shipback::runtime::{self, Shutdown, ShutdownTrigger, WebSettings};
use shipback::store::Store;
use shipback::web::routes::{Access, RouteTable, PAGES};
use std::sync::Arc;
use std::time::Duration;

const PASSWORD: &str = "a long enough password";

pub(crate) struct Dashboard {
    pub(crate) base: String,
    pub(crate) store: Store,
    pub(crate) http: reqwest::Client,
    _shutdown: ShutdownTrigger,
    pub(crate) database: common::database::TestDatabase,
}

pub(crate) async fn dashboard(sessions: SessionConfig) -> Dashboard {
    dashboard_on(common::database::TestDatabase::new().await, sessions).await
}

/// The dashboard over a database whose folder (the site root) the caller prepared.
pub(crate) async fn dashboard_on(
    database: common::database::TestDatabase,
    sessions: SessionConfig,
) -> Dashboard {
    let store = database.open_store().await;
    common::add_account(&store, common::ACCOUNT, "http://127.0.0.1:9").await;
    for role in Role::ALL {
        shipback::people::add_user(&store, role.as_str(), PASSWORD, role)
            .await
            .unwrap();
    }
    let (shutdown, stop) = Shutdown::manual();
    let web = runtime::start_web(
        &store,
        &WebSettings {
            bind: "127.0.0.1:0".parse().unwrap(),
            site_root: database.dir.path().display().to_string(),
            sessions,
            health_idle_after: Duration::from_secs(600),
            site_time: Default::default(),
        },
        Arc::new(tokio::sync::Notify::new()),
        None,
        stop,
    )
    .await
    .unwrap();
    Dashboard {
        base: web.url(),
        store,
        http: reqwest::Client::builder()
            .redirect(Policy::none())
            .build()
            .unwrap(),
        _shutdown: shutdown,
        database,
    }
}

/// The session cookie a response sets, as `name=value`, and its attributes.
fn set_cookie(response: &reqwest::Response) -> Option<(String, String)> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with(SESSION_COOKIE))
        .map(|c| {
            let (pair, attributes) = c.split_once(';').unwrap_or((&c, ""));
            (pair.to_string(), attributes.to_string())
        })
}

impl Dashboard {
    async fn sign_in_with(
        &self,
        name: &str,
        password: &str,
        cookie: Option<&str>,
    ) -> reqwest::Response {
        let mut request = self.http.post(format!("{}/login", self.base)).form(&[
            ("name", name),
            ("password", password),
            ("next", "/?status=failed"),
        ]);
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        request.send().await.unwrap()
    }

    /// The page at `path` as the session `cookie` reads it, as HTML.
    pub(crate) async fn page(&self, path: &str, cookie: &str) -> String {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .header("cookie", cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        response.text().await.unwrap()
    }

    /// Signs in and returns the session cookie.
    pub(crate) async fn sign_in(&self, role: Role) -> String {
        let response = self.sign_in_with(role.as_str(), PASSWORD, None).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(response.headers()["location"], "/?status=failed");
        set_cookie(&response).expect("a session cookie").0
    }

    async fn request(
        &self,
        method: Method,
        path: &str,
        cookie: Option<&str>,
        body: &str,
    ) -> reqwest::Response {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.to_string());
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        request.send().await.unwrap()
    }

    /// A server function's answer, as text.
    async fn call(&self, path: &str, cookie: &str, body: &str) -> String {
        let response = self.request(Method::POST, path, Some(cookie), body).await;
        response.text().await.unwrap()
    }

    async fn who(&self, cookie: &str) -> StatusCode {
        self.request(Method::POST, &who_am_i_path(), Some(cookie), "")
            .await
            .status()
    }
}

fn who_am_i_path() -> String {
    use leptos::server_fn::ServerFn;
    app::api::WhoAmI::PATH.to_string()
}

/// Arguments that each server function accepts, so that a refusal can only come from
/// the role check. A new server function fails the test until it is listed here.
fn arguments(path: &str) -> &'static str {
    use app::api::*;
    use leptos::server_fn::ServerFn;
    match path {
        p if p == ListShipments::PATH => "query=",
        p if p == GetShipment::PATH => "shipment_id=S-1",
        p if p == FilterOptions::PATH
            || p == GetStatusBoard::PATH
            || p == WhoAmI::PATH
            || p == AuditLog::PATH =>
        {
            ""
        }
        p if p == RetryShipments::PATH => "shipment_ids[0]=S-1",
        p if p == AdminAccounts::PATH => "",
        // Nothing valid to save: the answer lists the problems, with 200.
        p if p == SaveAccount::PATH => "input[key]=Not%20Valid",
        p if p == SetAccountEnabled::PATH => "key=no-such-account&enabled=false",
        p if p == AdminPeople::PATH || p == AdminTokens::PATH => "",
        p if p == RevokeToken::PATH => "name=no-such-token",
        // Valid, so that the admin's call succeeds and a refusal can only be the role's.
        p if p == SavePerson::PATH => {
            "name=route-test&role=viewer&password=route%20test%20password"
        }
        p if p == CreateToken::PATH => "name=route-test&scopes=read",
        p if p == ConfirmShipment::PATH => "shipment_id=S-1&confirmed_by=Dana&note=",
        p if p == AdminCarriers::PATH => "",
        p if p == TimeZoneChoices::PATH => "",
        // Valid, so that the call succeeds and a refusal can only be the role's.
        p if p == SetTimeZone::PATH => "zone=Europe%2FBerlin",
        p if p == SaveCarrierMapping::PATH => {
            "mapping[marketplace]=amazon&mapping[station_name]=Route%20Test&mapping[code]=UPS&mapping[name]="
        }
        p if p == DeleteCarrierMapping::PATH => "marketplace=amazon&station_name=nobody",
        p if p == ImportCarrierMappings::PATH => {
            "csv=marketplace%2Cstation_carrier%2Ccode%2Cname%0Aebay%2CRoute%20Test%2CUPS%2C%0A"
        }
        other => panic!("the route test needs arguments for the new server function {other}"),
    }
}

/// A concrete path for a line of the route table, and a body its handler accepts, so
/// that a refusal can only come from the guard.
fn concrete(path: &str) -> (String, &'static str) {
    let concrete = path
        .replace("{shipment_id}", "S-1")
        .replace("{id}", "S-1")
        .replace("{build}", "0123456789abcdef")
        .replace("{*file}", "shipback.css");
    let body = if path.starts_with("/rpc/") {
        arguments(path)
    } else {
        ""
    };
    (concrete, body)
}

/// Whether an answer is the guard's refusal: 401, 403, or the way to the sign-in form.
fn refused(status: StatusCode, location: Option<&str>) -> bool {
    status == StatusCode::UNAUTHORIZED
        || status == StatusCode::FORBIDDEN
        || (status == StatusCode::SEE_OTHER
            && location.is_some_and(|l| l.starts_with("/login?next=")))
}

#[tokio::test]
async fn every_route_in_the_table_lets_in_exactly_whom_it_names() {
    let d = dashboard(SessionConfig::default()).await;
    let mut sessions = Vec::new();
    for role in Role::ALL {
        sessions.push((role, d.sign_in(role).await));
    }
    let mut tokens = Vec::new();
    for scope in shipback::tokens::Scope::ALL {
        let token = shipback::tokens::create_token(
            &d.store,
            &format!("route-test-{}", scope.as_str()),
            shipback::tokens::Scopes::of(&[scope]),
            chrono::Utc::now(),
        )
        .await
        .unwrap();
        tokens.push((scope, token));
    }
    let pages: Vec<String> = leptos_axum::generate_route_list(app::App)
        .iter()
        .map(|r| r.path().to_string())
        .collect();
    let table = RouteTable::new(&pages).unwrap();
    // Every page and server function the app has is a line of the table.
    for page in &pages {
        assert!(PAGES.iter().any(|(p, _)| p == page), "{page}");
    }
    for (path, _) in leptos::server_fn::axum::server_fn_paths() {
        assert!(
            table.access(&Method::POST, path).is_some(),
            "{path} has no line"
        );
    }
    assert!(table.rules().len() >= 30, "{}", table.rules().len());

    for rule in table.rules() {
        let (path, body) = concrete(&rule.path);
        let what = format!("{} {}", rule.method, rule.path);
        let d = &d;
        let call = |cookie: Option<String>, token: Option<String>| {
            let mut request = d
                .http
                .request(rule.method.clone(), format!("{}{path}", d.base))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body);
            if let Some(cookie) = cookie {
                request = request.header("cookie", cookie);
            }
            if let Some(token) = token {
                request = request.header("authorization", format!("Bearer {token}"));
            }
            async move {
                let response = request.send().await.unwrap();
                let location = response
                    .headers()
                    .get("location")
                    .map(|l| l.to_str().unwrap().to_string());
                (response.status(), location)
            }
        };

        let (status, location) = call(None, None).await;
        let anonymous_refused = refused(status, location.as_deref());
        assert_eq!(
            anonymous_refused,
            rule.access != Access::Anyone,
            "{what} without credentials: {status}"
        );
        for role in Role::ALL {
            // Signing out ends the session it is called with: that try gets its own.
            let session = if rule.path == "/logout" {
                d.sign_in(role).await
            } else {
                sessions.iter().find(|(r, _)| *r == role).unwrap().1.clone()
            };
            let (status, location) = call(Some(session), None).await;
            let allowed = match rule.access {
                Access::Anyone => true,
                Access::Person(needed) => role.allows(needed),
                Access::Token(_) => false,
            };
            assert_eq!(
                !refused(status, location.as_deref()),
                allowed,
                "{what} as a signed-in {}: {status}",
                role.as_str()
            );
        }
        for (scope, token) in &tokens {
            let (status, location) = call(None, Some(token.clone())).await;
            let allowed = match rule.access {
                Access::Anyone => true,
                Access::Person(_) => false,
                Access::Token(needed) => needed == *scope,
            };
            assert_eq!(
                !refused(status, location.as_deref()),
                allowed,
                "{what} with a token of scope {}: {status}",
                scope.as_str()
            );
        }
    }
}

#[tokio::test]
async fn a_route_missing_from_the_table_is_refused_to_everyone() {
    let d = dashboard(SessionConfig::default()).await;
    let admin = d.sign_in(Role::Admin).await;
    let token = shipback::tokens::create_token(
        &d.store,
        "everything",
        common::ALL_SCOPES.parse().unwrap(),
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    for (method, path) in [
        (Method::GET, "/api/v1/not-a-route"),
        (Method::DELETE, "/api/v1/shipments"),
        (Method::POST, "/rpc/not_a_server_fn"),
        (Method::GET, "/export/everything.csv"),
    ] {
        let response = d
            .http
            .request(method.clone(), format!("{}{path}", d.base))
            .header("cookie", admin.clone())
            .header("authorization", format!("Bearer {token}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{method} {path}");
    }
    // A page that does not exist: the sign-in form for a stranger, a plain "not found"
    // for someone signed in.
    let stranger = d.request(Method::GET, "/no-such-page", None, "").await;
    assert_eq!(stranger.status(), StatusCode::SEE_OTHER);
    let signed_in = d
        .request(Method::GET, "/no-such-page", Some(&admin), "")
        .await;
    assert_eq!(signed_in.status(), StatusCode::NOT_FOUND);
    assert!(signed_in.text().await.unwrap().contains("Page not found"));
}

#[tokio::test]
async fn a_route_mounted_without_a_line_in_the_table_stays_closed() {
    use shipback::web::routes::{guard, GuardState};
    let d = dashboard(SessionConfig::default()).await;
    let admin = d.sign_in(Role::Admin).await;
    let pages: Vec<String> = PAGES.iter().map(|(p, _)| p.to_string()).collect();
    let state = GuardState {
        table: Arc::new(RouteTable::new(&pages).unwrap()),
        store: d.store.clone(),
        session_idle: Duration::from_secs(600),
    };
    // The web server's layers around a route that someone forgot to declare.
    let router = shipback::people::http::sign_in_layers(
        axum::Router::new()
            .route("/api/v1/forgotten", axum::routing::get(|| async { "open" }))
            .layer(axum::middleware::from_fn_with_state(state, guard)),
        &d.store,
        &SessionConfig::default(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/api/v1/forgotten", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let token = shipback::tokens::create_token(
        &d.store,
        "forgotten",
        common::ALL_SCOPES.parse().unwrap(),
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    let response = reqwest::Client::new()
        .get(&url)
        .header("authorization", format!("Bearer {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    // The admin's session cookie belongs to the other server's store: same database.
    let response = reqwest::Client::new()
        .get(&url)
        .header("cookie", admin)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_session_is_rotated_at_sign_in_and_ends_at_sign_out() {
    let d = dashboard(SessionConfig::default()).await;
    // A session id planted before sign-in is not the one that signs in.
    let planted = format!("{SESSION_COOKIE}=planted-by-someone-else");
    let response = d.sign_in_with("operator", PASSWORD, Some(&planted)).await;
    let (cookie, attributes) = set_cookie(&response).unwrap();
    assert_ne!(cookie, planted);
    assert!(attributes.contains("HttpOnly"), "{attributes}");
    assert!(attributes.contains("SameSite=Lax"), "{attributes}");
    assert!(
        !attributes.contains("Secure"),
        "not over plain HTTP: {attributes}"
    );
    assert_eq!(d.who(&planted).await, StatusCode::UNAUTHORIZED);
    assert_eq!(d.who(&cookie).await, StatusCode::OK);

    // Signing in again, with the session, gives a new id; the old one is worthless.
    let again = set_cookie(&d.sign_in_with("operator", PASSWORD, Some(&cookie)).await)
        .unwrap()
        .0;
    assert_ne!(again, cookie);
    assert_eq!(d.who(&cookie).await, StatusCode::UNAUTHORIZED);

    // Sign out ends it on the server, not only in the browser.
    let out = d.request(Method::POST, "/logout", Some(&again), "").await;
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    assert_eq!(d.who(&again).await, StatusCode::UNAUTHORIZED);

    // Each sign-in and the sign-out are in the audit log, with the address.
    let log: Vec<(String, String, String)> = d
        .store
        .audit_entries(None)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.actor, e.action, e.address))
        .collect();
    let expected = |action: &str| {
        (
            "operator".to_string(),
            action.to_string(),
            "127.0.0.1".to_string(),
        )
    };
    assert_eq!(
        log,
        [
            expected("sign_out"),
            expected("sign_in"),
            expected("sign_in")
        ]
    );
}

#[tokio::test]
async fn an_idle_session_expires_and_the_cookie_is_secure_when_asked() {
    let d = dashboard(SessionConfig {
        idle: Duration::from_secs(4),
        secure_cookie: true,
    })
    .await;
    let response = d.sign_in_with("viewer", PASSWORD, None).await;
    let (cookie, attributes) = set_cookie(&response).unwrap();
    assert!(attributes.contains("Secure"), "{attributes}");
    assert_eq!(d.who(&cookie).await, StatusCode::OK);
    // Activity keeps it alive (the store keeps expiry to the second, hence the margin)…
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(d.who(&cookie).await, StatusCode::OK);
    }
    // …idleness ends it.
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(d.who(&cookie).await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn wrong_passwords_are_refused_then_slowed_and_passwords_are_stored_as_argon2id() {
    let d = dashboard(SessionConfig::default()).await;
    for _ in 0..5 {
        let response = d.sign_in_with("operator", "not the password!", None).await;
        assert!(set_cookie(&response).is_none());
        let location = response.headers()["location"].to_str().unwrap().to_string();
        assert!(location.starts_with("/login?error=wrong"), "{location}");
    }
    // The sixth try waits, even with the right password.
    let response = d.sign_in_with("operator", PASSWORD, None).await;
    let location = response.headers()["location"].to_str().unwrap().to_string();
    assert!(
        location.starts_with("/login?error=slow&wait="),
        "{location}"
    );
    assert!(set_cookie(&response).is_none());
    // An unknown name is refused the same way as a wrong password.
    let response = d.sign_in_with("nobody", PASSWORD, None).await;
    let location = response.headers()["location"].to_str().unwrap().to_string();
    assert!(location.starts_with("/login?error="), "{location}");

    // Each refusal is in the audit log, under the name that was tried.
    let refused: Vec<(String, String, String)> = d
        .store
        .audit_entries(None)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "sign_in_refused")
        .map(|e| (e.actor, e.detail, e.role))
        .collect();
    assert_eq!(refused.len(), 5, "{refused:?}");
    assert!(refused
        .iter()
        .all(|(actor, detail, role)| actor == "operator"
            && detail == "wrong name or password"
            && role.is_empty()));

    let stored = d.store.user_by_name("operator").await.unwrap().unwrap();
    assert!(stored
        .password_hash
        .starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
    assert!(
        !format!("{stored:?}").contains("argon2"),
        "Debug leaves the hash out"
    );
}

#[tokio::test]
async fn a_signed_in_request_from_another_site_is_refused() {
    let d = dashboard(SessionConfig::default()).await;
    let operator = d.sign_in(Role::Operator).await;
    use leptos::server_fn::ServerFn;
    let response = d
        .http
        .post(format!("{}{}", d.base, app::api::RetryShipments::PATH))
        .header("cookie", &operator)
        .header("origin", "http://evil.example")
        .header("content-type", "application/x-www-form-urlencoded")
        .body("shipment_ids[0]=S-1")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    // Nor can another site sign someone in (login forgery).
    let response = d
        .http
        .post(format!("{}/login", d.base))
        .header("origin", "http://evil.example")
        .form(&[("name", "operator"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn an_admin_registers_edits_and_disables_an_account_and_its_credentials_never_come_back() {
    use leptos::server_fn::ServerFn;
    let d = dashboard(SessionConfig::default()).await;
    let admin = d.sign_in(Role::Admin).await;
    let form = |secret: &str, refresh: &str, name: &str| {
        let fields = [
            ("key", "acme-ca"),
            ("marketplace", "amazon"),
            ("display_name", name),
            ("company", "Acme Inc."),
            ("enabled", "true"),
            ("marketplace_id", "A2EUQ1WTGCTBG2"),
            ("region", "na"),
            ("api_base_url", "https://sellingpartnerapi-na.amazon.com"),
            ("auth_base_url", "https://api.amazon.com"),
            ("client_id", "amzn1.application-oa2-client.ca"),
            ("client_secret", secret),
            ("refresh_token", refresh),
        ];
        fields
            .iter()
            .map(|(k, v)| format!("input[{k}]={}", app::query::percent_encode(v)))
            .collect::<Vec<_>>()
            .join("&")
    };
    let save = app::api::SaveAccount::PATH;

    // A mistake is named, nothing is stored.
    let refused = d
        .request(
            Method::POST,
            save,
            Some(&admin),
            &form("", "", "Acme Canada"),
        )
        .await;
    assert_eq!(refused.status(), 200);
    let problems = refused.text().await.unwrap();
    assert!(
        problems.contains("client_secret") && problems.contains("refresh_token"),
        "{problems}"
    );
    assert!(d.store.account_by_key("acme-ca").await.unwrap().is_none());

    let saved = d
        .call(
            save,
            &admin,
            &form("ca-secret-1", "Atzr|ca-refresh-1", "Acme Canada"),
        )
        .await;
    assert_eq!(saved, "[]");
    // Edited with blank secrets: the name changes, the credentials stay.
    d.request(
        Method::POST,
        save,
        Some(&admin),
        &form("", "", "Acme Canada Ltd."),
    )
    .await;
    let stored = d.store.account_by_key("acme-ca").await.unwrap().unwrap();
    assert_eq!(stored.display_name, "Acme Canada Ltd.");
    assert_eq!(
        stored.credentials.refresh_token.expose(),
        "Atzr|ca-refresh-1"
    );

    // The admin list never carries a secret.
    let list = d.call(app::api::AdminAccounts::PATH, &admin, "").await;
    assert!(list.contains("Acme Canada Ltd."), "{list}");
    assert!(
        !list.contains("ca-secret-1") && !list.contains("Atzr|ca-refresh-1"),
        "{list}"
    );

    // Disabled: no longer written back to, nor in the connection status.
    let toggled = d
        .call(
            app::api::SetAccountEnabled::PATH,
            &admin,
            "key=acme-ca&enabled=false",
        )
        .await;
    assert_eq!(toggled, "true");
    assert!(
        !d.store
            .account_by_key("acme-ca")
            .await
            .unwrap()
            .unwrap()
            .enabled
    );
    let board = d.call(app::api::GetStatusBoard::PATH, &admin, "").await;
    assert!(
        board.contains(&format!("\"account\":\"{}\"", common::ACCOUNT)),
        "{board}"
    );
    assert!(!board.contains("\"account\":\"acme-ca\""), "{board}");

    // Each change is in the audit log, without the secrets.
    let log = d.store.audit_entries(None).await.unwrap();
    let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        &actions[..3],
        ["account_disable", "account_save", "account_save"]
    );
    assert!(
        log[2].detail.contains("credentials replaced"),
        "{:?}",
        log[2]
    );
    assert!(log.iter().all(|e| !e.detail.contains("ca-secret-1")));
}

#[tokio::test]
async fn session_ids_are_stored_only_as_their_hash() {
    use base64::Engine;
    use sha2::{Digest, Sha256};
    let d = dashboard(SessionConfig::default()).await;
    let cookie = d.sign_in(Role::Admin).await;
    assert_eq!(d.who(&cookie).await, StatusCode::OK);
    let id = cookie.split_once('=').unwrap().1.to_string();
    let id_bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(&id)
        .unwrap();
    let bytes = common::database::stored_bytes(&d.database.url).await;
    let contains = |needle: &[u8]| common::database::holds(&bytes, needle);
    assert!(
        contains(&Sha256::digest(&id_bytes)),
        "the id's hash is stored"
    );
    assert!(!contains(id.as_bytes()), "the cookie's id is not stored");
    assert!(!contains(&id_bytes), "nor its bytes");
}
