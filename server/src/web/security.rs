//! Hardening every response and every state-changing request, whatever route serves it.
//!
//! - Cross-site forgery: Leptos server functions check no Origin of their own, so any
//!   request that changes state (every method but GET, HEAD and OPTIONS) is refused
//!   when the browser says it comes from another site: an `Origin` that is not this
//!   server's host, or `Sec-Fetch-Site: cross-site`. Scripts and the shipping station
//!   send neither header and are not affected.
//! - Headers: no MIME sniffing, no framing by other sites, no full URL (with its
//!   filters) in the Referer sent to marketplaces' pages.
//! - A rendered page's Content-Security-Policy runs only this server's scripts and the
//!   page's own inline ones, which carry a nonce fresh for each response; the wasm
//!   needs `'wasm-unsafe-eval'`. Other responses get a policy without scripts.

use axum::extract::Request;
use axum::http::header::{self, HeaderName, HeaderValue};
use axum::http::Method;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use tower_http::set_header::SetResponseHeaderLayer;

/// The headers every response carries, unless its handler set them.
const RESPONSE_HEADERS: [(&str, &str); 4] = [
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "same-origin"),
    ("x-frame-options", "DENY"),
    (
        "content-security-policy",
        "default-src 'self'; script-src 'none'; frame-ancestors 'none'; base-uri 'self'; \
         object-src 'none'; form-action 'self'",
    ),
];

/// The policy of a rendered page whose inline scripts carry `nonce`. Pictures may come
/// from the marketplaces' catalogs, on any host.
pub fn page_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data: https: http:; connect-src 'self'; \
         frame-ancestors 'none'; base-uri 'self'; object-src 'none'; form-action 'self'"
    )
}

/// Sets the page policy on the response being rendered, with the nonce leptos_axum
/// made for it. Called in the context of every page render.
pub fn set_page_policy() {
    use leptos::prelude::use_context;
    if let (Some(nonce), Some(response)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) {
        if let Ok(policy) = HeaderValue::from_str(&page_policy(&nonce)) {
            response.insert_header(header::CONTENT_SECURITY_POLICY, policy);
        }
    }
}

/// `router` with the forgery check and the security headers on every route.
pub fn harden(router: Router) -> Router {
    let mut router = router.layer(middleware::from_fn(refuse_cross_site));
    for (name, value) in RESPONSE_HEADERS {
        router = router.layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        ));
    }
    router
}

/// Why a state-changing request is refused, if it is.
fn cross_site_reason(request: &Request) -> Option<String> {
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        return None;
    }
    let headers = request.headers();
    if headers
        .get("sec-fetch-site")
        .is_some_and(|site| site.as_bytes() == b"cross-site")
    {
        return Some("the browser marked it cross-site".to_string());
    }
    let origin = headers
        .get(header::ORIGIN)?
        .to_str()
        .unwrap_or("(unreadable)");
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    let origin_host = origin.split_once("://").map(|(_, rest)| rest).unwrap_or("");
    (origin_host.is_empty() || !origin_host.eq_ignore_ascii_case(host))
        .then(|| format!("its Origin {origin} is not this server ({host})"))
}

async fn refuse_cross_site(request: Request, next: Next) -> Response {
    match cross_site_reason(&request) {
        Some(reason) => {
            tracing::warn!(method = %request.method(), path = %request.uri().path(), %reason, "cross-site request refused");
            super::error::HttpError::Forbidden(format!("Cross-site request refused: {reason}."))
                .into_response()
        }
        None => next.run(request).await,
    }
}
