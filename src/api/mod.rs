//! The HTTP surface: JSON API under `/api/v1`, `/stream/<token>`, `/healthz`, the web player at
//! `/`; CORS so a PWA on another origin can call the API and play the streams.

mod access_log;
pub mod extract;
pub mod imports;
pub mod library;
pub mod playlists;
pub mod search;
pub mod sources;
pub mod stream;
pub mod tracks;

use std::sync::Arc;

use axum::http::{header, Method, Uri};
use axum::routing::{get, post};
use axum::{Json, Router};
use tower_http::cors::{Any, CorsLayer};
use utoipa::OpenApi;

use crate::catalog::Catalog;
use crate::config::Config;
use crate::error::Error;
use crate::resolve::Resolver;
use crate::stream::proxy::Upstream;
use crate::stream::token::SigningKey;

/// Shared by every handler; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub catalog: Catalog,
    pub resolver: Resolver,
    pub upstream: Upstream,
    /// None when the YouTube source is off.
    pub youtube: Option<Arc<crate::sources::youtube::YouTubeSource>>,
    /// For probes and imports.
    pub http: reqwest::Client,
    pub key: SigningKey,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "anyaudio",
        description = "Self-hosted audio streaming: search, playlists, stream_url, range-correct streams."
    ),
    paths(
        search::search,
        search::suggest,
        tracks::get_track,
        tracks::stream_url,
        tracks::related,
        tracks::artwork,
        playlists::list,
        playlists::get,
        library::healthz,
        library::stats,
        library::scan_status,
        library::start_scan,
        stream::stream,
    ),
    components(schemas(crate::error::ErrorBody, crate::error::ErrorDetail))
)]
pub struct ApiDoc;

pub fn router(state: AppState) -> Router {
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::HEAD, Method::POST, Method::OPTIONS])
        .allow_headers([
            header::RANGE,
            header::IF_RANGE,
            header::IF_NONE_MATCH,
            header::IF_MODIFIED_SINCE,
            header::CONTENT_TYPE,
        ])
        .expose_headers([
            header::CONTENT_RANGE,
            header::ACCEPT_RANGES,
            header::CONTENT_LENGTH,
            header::ETAG,
            header::LAST_MODIFIED,
        ]);
    let api = Router::new()
        .route("/search", get(search::search))
        .route("/suggest", get(search::suggest))
        .route("/tracks/{id}", get(tracks::get_track))
        .route("/tracks/{id}/stream_url", get(tracks::stream_url))
        .route("/tracks/{id}/related", get(tracks::related))
        .route("/tracks/{id}/artwork", get(tracks::artwork))
        .route("/playlists", get(playlists::list))
        .route("/playlists/{id}", get(playlists::get))
        .route("/stats", get(library::stats))
        .route("/sources/http", post(sources::add_http))
        .route("/tracks/import", post(imports::import_tracks))
        .route("/playlists/import", post(imports::import_playlist))
        .route("/playlists/{id}/refresh", post(imports::refresh_playlist))
        .route("/scan", get(library::scan_status).post(library::start_scan))
        .route("/openapi.json", get(|| async { Json(ApiDoc::openapi()) }));
    Router::new()
        .nest("/api/v1", api)
        .route("/healthz", get(library::healthz))
        .route("/metrics", get(library::metrics))
        .route("/stream/{token}", get(stream::stream))
        .merge(crate::web::router())
        .fallback(|uri: Uri| async move { Error::RouteNotFound(uri.path().to_owned()) })
        .method_not_allowed_fallback(|method: Method| async move { Error::MethodNotAllowed(method.to_string()) })
        .layer(cors)
        .layer(axum::middleware::from_fn(access_log::log_requests))
        .with_state(state)
}
