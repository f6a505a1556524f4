//! The compiled site (wasm, JS, CSS) and what keeps its bytes on the wire few: each file
//! is sent as the Brotli or gzip copy made at build time (`cargo leptos build --release
//! --precompress`), by the browser's `Accept-Encoding`. Pages ask for the files under
//! the build's own name, `/build/{build}/pkg/…`, where `{build}` is a digest of every
//! file's bytes: a new build has a new name, so a browser may keep a copy for good
//! (`immutable`) and a return visit downloads nothing. Pages and answers are compressed
//! on the fly (`compression`).

use axum::extract::Path as UrlPath;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use tower_http::compression::CompressionLayer;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;

/// Under `/pkg/…`, the names stay the same from build to build: a browser keeps its copy
/// and asks whether it changed (If-Modified-Since), a 304 of no body when not. Only
/// pages drawn elsewhere (the guard's own short pages) still ask for these.
const SAME_NAME_CACHE: &str = "no-cache";

/// Under `/build/{build}/…` a name never changes its bytes. A year is what HTTP caches
/// treat as "for good".
const BUILD_NAME_CACHE: &str = "public, max-age=31536000, immutable";

/// The compiled site under one name per build: the digest of its files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SiteBuild {
    id: String,
}

impl SiteBuild {
    /// Reads every file under `pkg` (the `.br` and `.gz` twins follow from the others)
    /// in name order. The same files give the same name on every host, so instances
    /// behind one load balancer serve one another's pages' files. A missing folder (a
    /// server of the API alone) is a build with no files.
    pub fn of(pkg: &Path) -> std::io::Result<SiteBuild> {
        let mut files = Vec::new();
        if pkg.is_dir() {
            list_files(pkg, &mut files)?;
        }
        files.retain(|f| !matches!(f.extension().and_then(|e| e.to_str()), Some("br" | "gz")));
        files.sort();
        let mut digest = Sha256::new();
        for file in &files {
            let name = file.strip_prefix(pkg).unwrap_or(file);
            let bytes = std::fs::read(file)?;
            digest.update(name.to_string_lossy().as_bytes());
            digest.update([0]);
            digest.update((bytes.len() as u64).to_le_bytes());
            digest.update(&bytes);
        }
        let id = digest.finalize()[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Ok(SiteBuild { id })
    }

    /// What pages put before `/pkg/…`: `/build/{build}`.
    pub fn root(&self) -> String {
        format!("/build/{}", self.id)
    }
}

fn list_files(dir: &Path, into: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            list_files(&path, into)?;
        } else {
            into.push(path);
        }
    }
    Ok(())
}

/// `/build/{build}/pkg/…` and `/pkg/…`, both from `{site_root}/{pkg_dir}`, each file's
/// `.br` or `.gz` twin when there is one and the browser takes it. A page of another
/// build (open in a browser across a deploy) is told to reload rather than given files
/// that do not match it.
pub fn site_files(site_root: &str, pkg_dir: &str, build: &SiteBuild) -> Router {
    let files = || {
        ServeDir::new(format!("{site_root}/{pkg_dir}"))
            .precompressed_br()
            .precompressed_gzip()
    };
    let this_build = Router::new()
        .nest_service(&format!("{}/{pkg_dir}", build.root()), files())
        .layer(axum::middleware::map_response(keep_for_good));
    let same_name = Router::new()
        .nest_service(&format!("/{pkg_dir}"), files())
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static(SAME_NAME_CACHE),
        ));
    this_build.merge(same_name).route(
        &format!("/build/{{build}}/{pkg_dir}/{{*file}}"),
        get(another_build),
    )
}

/// Only what was found is kept for good: a 404 must not outlive the next deploy.
async fn keep_for_good(mut response: Response) -> Response {
    let found = response.status().is_success() || response.status() == StatusCode::NOT_MODIFIED;
    let cache = if found { BUILD_NAME_CACHE } else { "no-store" };
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    response
}

async fn another_build(UrlPath((build, file)): UrlPath<(String, String)>) -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CACHE_CONTROL, "no-store")],
        format!(
            "{file} of build {build} is not served here (this server runs another build of \
             Shipback): reload the page"
        ),
    )
        .into_response()
}

/// Compresses what has no encoding yet: pages, server-function answers, the API, the
/// CSV export. Event streams are left alone (they must arrive as they are written), as
/// are files already sent precompressed.
pub fn compression() -> CompressionLayer {
    CompressionLayer::new().br(true).gzip(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_build_name_follows_the_bytes_not_the_twins() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("snippets")).unwrap();
        std::fs::write(dir.path().join("shipback.js"), "one").unwrap();
        std::fs::write(dir.path().join("snippets/inline0.js"), "two").unwrap();
        let first = SiteBuild::of(dir.path()).unwrap();
        assert!(first.root().starts_with("/build/"), "{}", first.root());
        assert_eq!(first.root().len(), "/build/".len() + 16);

        std::fs::write(dir.path().join("shipback.js.br"), "compressed").unwrap();
        assert_eq!(SiteBuild::of(dir.path()).unwrap(), first);
        std::fs::write(dir.path().join("snippets/inline0.js"), "three").unwrap();
        assert_ne!(SiteBuild::of(dir.path()).unwrap(), first);
    }
}
