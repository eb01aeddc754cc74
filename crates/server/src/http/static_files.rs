//! The PWA's files from `dist/`: the brotli or gzip copy made at build time when the browser takes
//! it, files under `app/<build hash>/` cached for a year, everything else revalidated, and
//! index.html for the app's own paths (never for a missing file, which is a 404).

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use std::convert::Infallible;
use std::path::PathBuf;
use tower::{Layer, Service, ServiceExt};
use tower_http::services::{ServeDir, ServeFile};

/// Where build-hashed files live: their names change with every build.
pub const HASHED_PREFIX: &str = "/app/";

/// How long a response to `path` may be kept: a year for build-hashed files, which never change;
/// index.html, the service worker, the manifest and the icons are asked again each time.
pub fn cache_control(path: &str) -> &'static str {
    if path.starts_with(HASHED_PREFIX) {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    }
}

/// Whether a path names a file (a build asset) rather than a page of the app.
fn names_a_file(path: &str) -> bool {
    path.starts_with(HASHED_PREFIX) || path.rsplit('/').next().is_some_and(|s| s.contains('.'))
}

/// Adds Cache-Control and Vary to every static response.
async fn headers(req: Request, next: Next) -> Response {
    let policy = cache_control(req.uri().path());
    let mut res = next.run(req).await;
    if res.status().is_success() || res.status() == StatusCode::NOT_MODIFIED {
        let h = res.headers_mut();
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
        h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    res
}

/// The static service for `dist`.
pub fn service(
    dist: PathBuf,
) -> impl Service<Request, Response = Response, Error = Infallible, Future: Send> + Clone + Send + 'static
{
    let index = ServeFile::new(dist.join("index.html"))
        .precompressed_br()
        .precompressed_gzip();
    let pages = tower::service_fn(move |req: Request| {
        let index = index.clone();
        async move {
            if names_a_file(req.uri().path()) {
                return Ok::<_, Infallible>(StatusCode::NOT_FOUND.into_response());
            }
            let res = index.oneshot(req).await?;
            Ok(res.map(Body::new))
        }
    });
    let files = ServeDir::new(dist)
        .precompressed_br()
        .precompressed_gzip()
        .append_index_html_on_directories(true)
        .fallback(pages);
    let files = tower::service_fn(move |req: Request| {
        let files = files.clone();
        async move {
            // No file has such a name; the file server would answer a HEAD for it with a 500.
            if unnameable(req.uri().path()) {
                return Ok::<_, Infallible>(StatusCode::NOT_FOUND.into_response());
            }
            Ok::<_, Infallible>(files.oneshot(req).await?.map(Body::new))
        }
    });
    middleware::from_fn(headers).layer(files)
}

/// A path no file can have: a NUL byte (sent as `%00`) or a part longer than a file name may be.
fn unnameable(path: &str) -> bool {
    path.contains("%00") || path.split('/').any(|part| part.len() > 255)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_files_are_immutable_and_the_rest_revalidated() {
        assert_eq!(
            cache_control("/app/0123abcd/patrol_bg.wasm"),
            "public, max-age=31536000, immutable"
        );
        for p in [
            "/",
            "/index.html",
            "/sw.js",
            "/manifest.webmanifest",
            "/icons/icon-192.png",
        ] {
            assert_eq!(cache_control(p), "no-cache", "{p}");
        }
    }

    #[test]
    fn only_pages_fall_back_to_index() {
        assert!(names_a_file("/app/0123/patrol.js"));
        assert!(names_a_file("/missing.js"));
        assert!(names_a_file("/app/"));
        assert!(!names_a_file("/"));
        assert!(!names_a_file("/enroll"));
        assert!(!names_a_file("/log/2026-11-24"));
    }
}
