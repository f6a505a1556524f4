//! The compiled site (wasm, JS, CSS) and what keeps its bytes on the wire few: each file
//! is sent as the Brotli or gzip copy made at build time (`cargo leptos build --release
//! --precompress`), by the browser's `Accept-Encoding`, and revalidated rather than
//! downloaded again on a return visit. Pages and answers are compressed on the fly
//! (`compression`).

use axum::http::{header, HeaderValue};
use axum::Router;
use tower_http::compression::CompressionLayer;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;

/// The site's files are rebuilt in place under the same names: a browser keeps its copy
/// and asks whether it changed (If-Modified-Since), a 304 of no body when not.
const SITE_FILES_CACHE: &str = "no-cache";

/// `/pkg/…` from `{site_root}/pkg`, each file's `.br` or `.gz` twin when there is one
/// and the browser takes it.
pub fn site_files(site_root: &str, pkg_dir: &str) -> Router {
    let files = ServeDir::new(format!("{site_root}/{pkg_dir}"))
        .precompressed_br()
        .precompressed_gzip();
    Router::new()
        .nest_service(&format!("/{pkg_dir}"), files)
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static(SITE_FILES_CACHE),
        ))
}

/// Compresses what has no encoding yet: pages, server-function answers, the API, the
/// CSV export. Event streams are left alone (they must arrive as they are written), as
/// are files already sent precompressed.
pub fn compression() -> CompressionLayer {
    CompressionLayer::new().br(true).gzip(true)
}
