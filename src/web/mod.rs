//! The web player's assets, embedded in the binary (so `cargo run` needs no front-end build)
//! and served at `/`.

use axum::extract::Path;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use rust_embed::RustEmbed;

use crate::error::Error;
use crate::stream::plan;

#[derive(RustEmbed)]
#[folder = "src/web/assets"]
struct Assets;

pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route(
            "/",
            get(|headers: HeaderMap| async move { asset("index.html", &headers) }),
        )
        .route(
            "/{file}",
            get(|Path(file): Path<String>, headers: HeaderMap| async move { asset(&file, &headers) }),
        )
}

fn asset(name: &str, headers: &HeaderMap) -> Response {
    let Some(file) = Assets::get(name) else {
        return Error::RouteNotFound(format!("/{name}")).into_response();
    };
    let etag = plan::etag_of_digest(&file.metadata.sha256_hash());
    let fresh = plan::not_modified(headers, &etag);
    let mime = file.metadata.mimetype().to_owned();
    let cache = [(header::ETAG, etag), (header::CACHE_CONTROL, "no-cache".to_owned())];
    if fresh {
        return (StatusCode::NOT_MODIFIED, cache).into_response();
    }
    (cache, [(header::CONTENT_TYPE, mime)], file.data.into_owned()).into_response()
}
