//! Every request gets an id (the caller's `x-request-id` if it sent one, else a new
//! UUID), carried by every log line written while it is served and sent back in the
//! `x-request-id` answer header, so that one request can be followed from a station's
//! log to Shipback's. One line per answer, at info: method, path, status, time taken.
//! Never the query string's values, headers or bodies: a token or a password would be
//! in them.

use axum::http::{HeaderName, Request};
use axum::Router;
use tower_http::request_id::{
    MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::{DefaultOnFailure, DefaultOnResponse, TraceLayer};
use tracing::Level;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The longest request id taken from a caller; a longer one is replaced by a new one.
const MAX_CALLER_ID: usize = 128;

pub fn layers(router: Router) -> Router {
    let trace = TraceLayer::new_for_http()
        .make_span_with(|request: &Request<_>| {
            let id = request
                .extensions()
                .get::<RequestId>()
                .and_then(|id| id.header_value().to_str().ok())
                .unwrap_or("");
            tracing::info_span!(
                "request",
                request_id = %id,
                method = %request.method(),
                path = %request.uri().path(),
            )
        })
        .on_request(())
        .on_response(DefaultOnResponse::new().level(Level::INFO))
        .on_failure(DefaultOnFailure::new().level(Level::WARN));
    // The last layer added is the first a request meets: the id is set (or a caller's
    // too long one replaced), then copied to the answer, then the span opens with it.
    router
        .layer(trace)
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .layer(axum::middleware::map_request(drop_long_caller_id))
}

async fn drop_long_caller_id<B>(mut request: Request<B>) -> Request<B> {
    let too_long = request
        .headers()
        .get(&REQUEST_ID)
        .is_some_and(|id| id.len() > MAX_CALLER_ID || id.to_str().is_err());
    if too_long {
        request.headers_mut().remove(&REQUEST_ID);
    }
    request
}
