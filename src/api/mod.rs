//! The HTTP surface: JSON API under `/api/v1`, `/stream/<token>`, `/healthz`, the Subsonic API
//! under `/rest`, the web player at `/`; same-origin by default (`guard`), CORS for reading
//! only, for the origins configured.

mod access_log;
pub mod account;
pub mod extract;
pub mod guard;
pub mod imports;
pub mod library;
pub mod marks;
pub mod playlists;
pub mod search;
pub mod stream;
pub mod subsonic;
pub mod tracks;

use std::sync::Arc;

use axum::http::{header, Method, Uri};
use axum::routing::get;
use axum::{Json, Router};
use tower_http::cors::{AllowOrigin, CorsLayer};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::catalog::Catalog;
use crate::config::Config;
use crate::error::Error;
use crate::importer::Importer;
use crate::resolve::Resolver;
use crate::sources::youtube::YouTubeSource;
use crate::stream::proxy::Upstream;
use crate::stream::token::SigningKey;

/// Shared by every handler: one `Arc`, cloned for each extractor and middleware of every
/// request (cloning each service's own `Arc`s, and dropping them, was 1 to 1.5 % of the proxy's
/// CPU at 256 clients asking MiB ranges, issue 18).
#[derive(Clone)]
pub struct AppState(Arc<Services>);

impl AppState {
    pub fn new(services: Services) -> Self {
        AppState(Arc::new(services))
    }
}

impl std::ops::Deref for AppState {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.0
    }
}

/// What the handlers use: the configuration, the catalog, the sources and the stream path.
pub struct Services {
    pub config: Arc<Config>,
    pub catalog: Catalog,
    pub resolver: Resolver,
    pub importer: Importer,
    pub upstream: Upstream,
    /// None when the YouTube source is off.
    pub youtube: Option<Arc<YouTubeSource>>,
    pub key: SigningKey,
    pub auth: crate::auth::Auth,
    pub covers: crate::sources::scaled_covers::ScaledCovers,
    /// Library files being streamed, shared by their streams.
    pub open_files: crate::stream::local::OpenFiles,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "anyaudio",
        description = "Self-hosted audio streaming: search, playlists, stream_url, range-correct streams."
    ),
    components(schemas(crate::error::ErrorBody, crate::error::ErrorDetail))
)]
struct ApiDoc;

/// The documented routes: each handler's `#[utoipa::path]` is both its route and its entry in
/// the OpenAPI document, so neither can miss one. Handlers of one path go in one `routes!`.
pub fn documented_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(search::search))
        .routes(routes!(search::suggest))
        .routes(routes!(tracks::get_track))
        .routes(routes!(tracks::stream_url))
        .routes(routes!(tracks::related))
        .routes(routes!(tracks::artwork))
        .routes(routes!(imports::import_tracks))
        .routes(routes!(playlists::list))
        .routes(routes!(playlists::get))
        .routes(routes!(imports::import_playlist))
        .routes(routes!(imports::refresh_playlist))
        .routes(routes!(imports::add_http))
        .routes(routes!(library::stats))
        .routes(routes!(library::scan_status, library::start_scan))
        .routes(routes!(library::healthz))
        .routes(routes!(stream::stream))
        .routes(routes!(account::login))
        .routes(routes!(account::logout))
        .routes(routes!(account::me))
        .routes(routes!(account::change_password))
        .routes(routes!(account::keys, account::add_key))
        .routes(routes!(account::revoke_key))
        .routes(routes!(marks::saved))
        .routes(routes!(marks::save, marks::unsave))
        .routes(routes!(marks::play))
        .routes(routes!(marks::import))
        .routes(routes!(account::users, account::add_user))
        .routes(routes!(account::remove_user))
}

/// The OpenAPI document of [`documented_routes`].
pub fn openapi() -> utoipa::openapi::OpenApi {
    documented_routes().into_openapi()
}

pub fn router(state: AppState) -> Router {
    // Reading only, and only for the origins the operator names: state changes are never
    // allowed cross-origin (guard.rs).
    let origins: Vec<header::HeaderValue> = state
        .config
        .cors_origins
        .iter()
        .filter_map(|o| header::HeaderValue::from_str(o).ok())
        .collect();
    let hosts = guard::Hosts(Arc::new(state.config.hosts.clone()));
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::GET, Method::HEAD, Method::OPTIONS])
        .allow_headers([
            header::RANGE,
            header::IF_RANGE,
            header::IF_NONE_MATCH,
            header::IF_MODIFIED_SINCE,
            header::CONTENT_TYPE,
            // A page elsewhere reads a closed server with an API key it holds (no cookie is
            // ever sent cross-site: SameSite=Strict, and no allow-credentials).
            header::AUTHORIZATION,
        ])
        .expose_headers([
            header::CONTENT_RANGE,
            header::ACCEPT_RANGES,
            header::CONTENT_LENGTH,
            header::ETAG,
            header::LAST_MODIFIED,
        ]);
    let (documented, doc) = documented_routes().split_for_parts();
    let doc = Arc::new(doc);
    let main = documented
        .route(
            "/api/v1/openapi.json",
            get(move || async move { Json(doc.as_ref().clone()) }),
        )
        .route("/metrics", get(library::metrics))
        .merge(crate::web::router())
        .fallback(|uri: Uri| async move { Error::RouteNotFound(uri.path().to_owned()) })
        .method_not_allowed_fallback(|method: Method| async move { Error::MethodNotAllowed(method.to_string()) })
        .layer(axum::middleware::from_fn_with_state(state.clone(), account::access))
        .layer(cors);
    // The Subsonic API authenticates each call itself, and has CORS of its own.
    main.merge(subsonic::router())
        .layer(axum::middleware::from_fn_with_state(hosts, guard::same_origin))
        .layer(axum::middleware::from_fn(access_log::log_requests))
        .with_state(state)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every operation the API has, as the README lists them: the four POSTs were once served
    /// but missing from the document.
    #[test]
    fn the_document_has_every_operation() {
        let doc = openapi();
        let mut operations: Vec<String> = Vec::new();
        for (path, item) in &doc.paths.paths {
            for (method, op) in [
                ("get", &item.get),
                ("post", &item.post),
                ("put", &item.put),
                ("delete", &item.delete),
            ] {
                if op.is_some() {
                    operations.push(format!("{method} {path}"));
                }
            }
        }
        operations.sort();
        assert_eq!(
            operations,
            [
                "delete /api/v1/me/keys/{id}",
                "delete /api/v1/me/saved/{id}",
                "delete /api/v1/users/{name}",
                "get /api/v1/me",
                "get /api/v1/me/keys",
                "get /api/v1/me/saved",
                "get /api/v1/playlists",
                "get /api/v1/playlists/{id}",
                "get /api/v1/scan",
                "get /api/v1/search",
                "get /api/v1/stats",
                "get /api/v1/suggest",
                "get /api/v1/tracks/{id}",
                "get /api/v1/tracks/{id}/artwork",
                "get /api/v1/tracks/{id}/related",
                "get /api/v1/tracks/{id}/stream_url",
                "get /api/v1/users",
                "get /healthz",
                "get /stream/{token}",
                "post /api/v1/login",
                "post /api/v1/logout",
                "post /api/v1/me/import",
                "post /api/v1/me/keys",
                "post /api/v1/me/plays",
                "post /api/v1/playlists/import",
                "post /api/v1/playlists/{id}/refresh",
                "post /api/v1/scan",
                "post /api/v1/sources/http",
                "post /api/v1/tracks/import",
                "post /api/v1/users",
                "put /api/v1/me/password",
                "put /api/v1/me/saved/{id}",
            ]
        );
    }
}
