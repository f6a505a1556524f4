//! The route table: for every route the server has (pages, server functions, station
//! API, event streams, exports, the OpenAPI document, static files), who may call it.
//! One guard in front of the whole router enforces it. A route missing from the table
//! is refused, whoever asks, so a route added without a line here stays closed.

use super::error::HttpError;
use crate::audit::Actor;
use crate::people::People;
use crate::store::Store;
use crate::tokens::{ApiToken, Scope};
use app::people::{Role, SignedIn, SIGN_IN_PATH, SIGN_OUT_PATH};
use axum::extract::{Request, State};
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum_login::AuthSession;
use std::sync::Arc;
use std::time::Duration;

/// Who may call a route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Anyone, signed in or not: the sign-in form, the compiled site, the OpenAPI
    /// document. A token or session that comes along is still recognised.
    Anyone,
    /// A person signed in to the dashboard, with this role or above.
    Person(Role),
    /// A station API bearer token with this scope.
    Token(Scope),
}

impl Access {
    /// Whether `caller` may pass.
    pub fn allows(self, caller: &Caller) -> bool {
        match (self, caller) {
            (Access::Anyone, _) => true,
            (Access::Person(needed), Caller::Person(who)) => who.role.allows(needed),
            (Access::Token(needed), Caller::Token(token)) => token.scopes.contains(needed),
            _ => false,
        }
    }
}

/// Who is calling, as far as the request shows.
#[derive(Clone, Debug)]
pub enum Caller {
    Nobody,
    Person(SignedIn),
    Token(ApiToken),
}

/// One line of the table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteRule {
    pub method: Method,
    /// In axum's syntax: `/shipments/{id}`, `/pkg/{*file}`.
    pub path: String,
    pub access: Access,
}

/// The hand-written routes. Pages and server functions are added from the app's own
/// lists by [`RouteTable::new`].
fn fixed_rules() -> Vec<RouteRule> {
    use Access::{Anyone, Person, Token};
    let rule = |method: Method, path: &str, access: Access| RouteRule {
        method,
        path: path.to_string(),
        access,
    };
    vec![
        // The station API (docs/api.md).
        rule(Method::POST, "/api/v1/shipments", Token(Scope::Ingest)),
        rule(Method::GET, "/api/v1/shipments", Token(Scope::Read)),
        rule(
            Method::GET,
            "/api/v1/shipments/export.csv",
            Token(Scope::Read),
        ),
        rule(
            Method::GET,
            "/api/v1/shipments/{shipment_id}",
            Token(Scope::Read),
        ),
        rule(
            Method::POST,
            "/api/v1/shipments/retry",
            Token(Scope::Operate),
        ),
        rule(
            Method::POST,
            "/api/v1/shipments/{shipment_id}/confirm",
            Token(Scope::Operate),
        ),
        rule(Method::GET, "/api/v1/status", Token(Scope::Read)),
        // Anonymous callers get the document without the registered accounts.
        rule(Method::GET, "/api/v1/openapi.json", Anyone),
        // The dashboard's own calls besides its server functions.
        rule(
            Method::GET,
            "/api/v1/events/shipments",
            Person(Role::Viewer),
        ),
        rule(Method::GET, "/api/v1/status/events", Person(Role::Viewer)),
        rule(
            Method::GET,
            app::shipments::DASHBOARD_EXPORT_PATH,
            Person(Role::Viewer),
        ),
        rule(
            Method::GET,
            app::audit::AUDIT_EXPORT_PATH,
            Person(Role::Admin),
        ),
        // Signing in and out.
        rule(Method::POST, SIGN_IN_PATH, Anyone),
        rule(Method::POST, SIGN_OUT_PATH, Person(Role::Viewer)),
        // For load balancers and supervisors: nothing sensitive in either.
        rule(Method::GET, "/healthz", Anyone),
        rule(Method::GET, "/readyz", Anyone),
        // The compiled site: wasm, JS, CSS, and the icon.
        rule(Method::GET, "/pkg/{*file}", Anyone),
        rule(Method::GET, "/build/{build}/pkg/{*file}", Anyone),
        rule(Method::GET, "/favicon.ico", Anyone),
    ]
}

/// Who may open each page of the app (`app::App`'s routes).
pub const PAGES: [(&str, Access); 7] = [
    ("/", Access::Person(Role::Viewer)),
    ("/shipments/{id}", Access::Person(Role::Viewer)),
    (SIGN_IN_PATH, Access::Anyone),
    ("/audit", Access::Person(Role::Admin)),
    ("/admin/access", Access::Person(Role::Admin)),
    ("/admin/accounts", Access::Person(Role::Admin)),
    ("/admin/carriers", Access::Person(Role::Admin)),
];

/// The table, and a matcher over its paths.
pub struct RouteTable {
    rules: Vec<RouteRule>,
    matcher: matchit::Router<Vec<(Method, Access)>>,
}

/// Why the table could not be built: a programming error, found at start.
#[derive(Debug, thiserror::Error)]
pub enum RouteTableError {
    #[error("the page {0} has no line in the route table (web::routes::PAGES)")]
    UndeclaredPage(String),
    #[error("route {path}: {source}")]
    Path {
        path: String,
        #[source]
        source: matchit::InsertError,
    },
}

impl RouteTable {
    /// The fixed routes, the app's `pages` (as Leptos lists them) with their declared
    /// access, and every server function with the least role the app declares for it.
    pub fn new(pages: &[String]) -> Result<RouteTable, RouteTableError> {
        let mut rules = fixed_rules();
        for page in pages {
            let access = PAGES
                .iter()
                .find(|(path, _)| path == page)
                .map(|(_, access)| *access)
                .ok_or_else(|| RouteTableError::UndeclaredPage(page.clone()))?;
            rules.push(RouteRule {
                method: Method::GET,
                path: page.clone(),
                access,
            });
        }
        for (path, role) in app::api::server_fn_roles() {
            rules.push(RouteRule {
                method: Method::POST,
                path: path.to_string(),
                access: Access::Person(role),
            });
        }
        let mut by_path: Vec<(String, Vec<(Method, Access)>)> = Vec::new();
        for rule in &rules {
            match by_path.iter_mut().find(|(path, _)| *path == rule.path) {
                Some((_, methods)) => methods.push((rule.method.clone(), rule.access)),
                None => by_path.push((rule.path.clone(), vec![(rule.method.clone(), rule.access)])),
            }
        }
        let mut matcher = matchit::Router::new();
        for (path, methods) in by_path {
            matcher
                .insert(path.clone(), methods)
                .map_err(|source| RouteTableError::Path { path, source })?;
        }
        Ok(RouteTable { rules, matcher })
    }

    /// Every line, for documentation and for the test that tries each route.
    pub fn rules(&self) -> &[RouteRule] {
        &self.rules
    }

    /// Who may call `method path`; `None` when the table has no such route.
    pub fn access(&self, method: &Method, path: &str) -> Option<Access> {
        // HEAD is answered by the GET route.
        let method = if method == Method::HEAD {
            &Method::GET
        } else {
            method
        };
        let found = self.matcher.at(path).ok()?;
        found
            .value
            .iter()
            .find(|(m, _)| m == method)
            .map(|(_, access)| *access)
    }
}

/// What the guard needs besides the table.
#[derive(Clone)]
pub struct GuardState {
    pub table: Arc<RouteTable>,
    pub store: Store,
    /// A session ends after this long without a request.
    pub session_idle: Duration,
}

/// A page a browser navigates to, as opposed to a call made by the page's code: a
/// signed-out visitor is sent to the sign-in form rather than answered 401.
fn is_page(method: &Method, path: &str) -> bool {
    *method == Method::GET
        && !["/rpc/", "/api/", "/export/", "/pkg/", "/build/"]
            .iter()
            .any(|prefix| path.starts_with(prefix))
}

/// The guard in front of every route: finds the route's line, recognises the caller
/// (the session's person, or the bearer token), and lets through only who the line
/// allows. The caller goes into the request's extensions as an [`Actor`] (and a person
/// also as [`SignedIn`], which server functions read).
pub async fn guard(
    State(state): State<GuardState>,
    auth: AuthSession<People>,
    mut request: Request,
    next: Next,
) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let address = crate::audit::peer_address(request.extensions());
    // Owned, so that no borrow of the request (whose body is not `Sync`) lives across
    // the token check's await.
    let authorization = request
        .headers()
        .get(header::AUTHORIZATION)
        .map(|value| value.to_str().unwrap_or("").to_string());
    let Some(access) = state.table.access(&method, &path) else {
        return refuse_unknown(&method, &path, auth.user.is_some());
    };
    let caller = match access {
        Access::Token(_) => match bearer_token(&state.store, authorization).await {
            Some(Ok(token)) => Caller::Token(token),
            Some(Err(refusal)) => return refusal.into_response(),
            None => return HttpError::from(crate::tokens::AuthError::Missing).into_response(),
        },
        Access::Person(_) => match &auth.user {
            Some(user) => {
                crate::people::http::keep_alive(&auth.session, state.session_idle).await;
                Caller::Person(SignedIn {
                    name: user.name.clone(),
                    role: user.role,
                    address: address.clone(),
                    time_zone: user.time_zone.clone(),
                })
            }
            None if is_page(&method, &path) => return to_sign_in(&request),
            None => {
                return HttpError::Unauthenticated {
                    message: "Sign in first: your session has ended.".to_string(),
                    challenge: None,
                }
                .into_response()
            }
        },
        // Recognised if it comes along (the OpenAPI document shows more to a token),
        // never required.
        Access::Anyone => match bearer_token(&state.store, authorization).await {
            Some(Ok(token)) => Caller::Token(token),
            _ => Caller::Nobody,
        },
    };
    if !access.allows(&caller) {
        if let (Access::Person(needed), Caller::Person(who)) = (access, &caller) {
            if is_page(&method, &path) {
                return refused_page(&Role::refusal(who, needed));
            }
        }
        return refuse_caller(access, &caller).into_response();
    }
    match caller {
        Caller::Person(who) => {
            request.extensions_mut().insert(Actor::Person(who.clone()));
            request.extensions_mut().insert(who);
        }
        Caller::Token(token) => {
            request
                .extensions_mut()
                .insert(Actor::token(&token, address));
            request.extensions_mut().insert(token);
        }
        Caller::Nobody => {}
    }
    next.run(request).await
}

/// The live token the request carries (its use recorded), a refusal, or `None` when it
/// carries none.
async fn bearer_token(
    store: &Store,
    authorization: Option<String>,
) -> Option<Result<ApiToken, crate::tokens::AuthError>> {
    let authorization = authorization?;
    Some(crate::tokens::authenticate(store, Some(&authorization), chrono::Utc::now()).await)
}

/// A caller the line does not allow: 403 with the reason, or 401 when the line wants
/// another kind of caller than the one that came.
fn refuse_caller(access: Access, caller: &Caller) -> HttpError {
    match (access, caller) {
        (Access::Person(needed), Caller::Person(who)) => {
            HttpError::Forbidden(Role::refusal(who, needed))
        }
        (Access::Token(needed), Caller::Token(token)) => crate::tokens::AuthError::NotAllowed {
            token: token.name.clone(),
            needed,
        }
        .into(),
        _ => HttpError::Forbidden("not allowed".to_string()),
    }
}

/// No line for this route: a signed-out browser is sent to sign in, as for any page; a
/// signed-in one gets a page that says so; anything else gets 404.
fn refuse_unknown(method: &Method, path: &str, signed_in: bool) -> Response {
    if !is_page(method, path) {
        return HttpError::NotFound(format!("no route {method} {path}")).into_response();
    }
    if !signed_in {
        return Redirect::to(&format!("{SIGN_IN_PATH}?next=/")).into_response();
    }
    plain_page(
        axum::http::StatusCode::NOT_FOUND,
        "Not found",
        "<p class=\"not-found\">Page not found.</p>",
    )
}

/// A page the signed-in person's role may not open: the reason, and the way back.
fn refused_page(reason: &str) -> Response {
    let reason = reason
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    plain_page(
        axum::http::StatusCode::FORBIDDEN,
        "Not allowed",
        &format!("<p class=\"error-line\" role=\"alert\">{reason}</p>"),
    )
}

/// A short page of the guard's own, in the dashboard's style.
fn plain_page(status: axum::http::StatusCode, title: &str, body: &str) -> Response {
    let page = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} · Shipback</title>\
         <link rel=\"stylesheet\" href=\"/pkg/shipback.css\"></head>\
         <body><main class=\"plain-page\">{body}<p><a class=\"button\" href=\"/\">\
         ← All shipments</a></p></main></body></html>"
    );
    (status, Html(page)).into_response()
}

fn to_sign_in(request: &Request) -> Response {
    let wanted = request
        .uri()
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let next = app::query::percent_encode(wanted);
    Redirect::to(&format!("{SIGN_IN_PATH}?next={next}")).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> RouteTable {
        let pages: Vec<String> = PAGES.iter().map(|(p, _)| p.to_string()).collect();
        RouteTable::new(&pages).expect("the table builds")
    }

    #[test]
    fn each_route_has_its_line_and_unknown_routes_none() {
        let t = table();
        assert_eq!(
            t.access(&Method::POST, "/api/v1/shipments"),
            Some(Access::Token(Scope::Ingest))
        );
        assert_eq!(
            t.access(&Method::GET, "/api/v1/shipments/S-1"),
            Some(Access::Token(Scope::Read))
        );
        assert_eq!(
            t.access(&Method::GET, "/api/v1/shipments/export.csv"),
            Some(Access::Token(Scope::Read))
        );
        assert_eq!(
            t.access(&Method::HEAD, "/pkg/shipback.wasm"),
            Some(Access::Anyone)
        );
        assert_eq!(
            t.access(&Method::GET, "/admin/accounts"),
            Some(Access::Person(Role::Admin))
        );
        assert_eq!(t.access(&Method::DELETE, "/api/v1/shipments"), None);
        assert_eq!(t.access(&Method::GET, "/api/v1/secret"), None);
        assert_eq!(t.access(&Method::GET, "/api/v2/shipments"), None);
    }

    #[test]
    fn a_page_without_a_line_stops_the_server_at_start() {
        let error = RouteTable::new(&["/new-page".to_string()])
            .err()
            .expect("refused");
        assert!(error.to_string().contains("/new-page"), "{error}");
    }

    #[test]
    fn pages_that_a_browser_opens() {
        assert!(is_page(&Method::GET, "/"));
        assert!(is_page(&Method::GET, "/shipments/S-1"));
        assert!(!is_page(&Method::GET, "/api/v1/events/shipments"));
        assert!(!is_page(&Method::POST, "/logout"));
        assert!(!is_page(&Method::GET, "/export/shipments.csv"));
    }
}
