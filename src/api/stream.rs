//! `/stream/<token>`: verify the token, resolve the track, serve its bytes.

use axum::extract::State;
use axum::http::{HeaderMap, Method};
use axum::response::Response;

use super::extract::ApiPath;
use super::AppState;
use crate::error::{Error, ErrorBody};
use crate::model::{unix_now, TrackId, Variant};
use crate::resolve::Playable;
use crate::stream::token::{self, TokenError};
use crate::stream::{local, proxy};

#[utoipa::path(get, path = "/stream/{token}", tag = "stream",
    params(("token" = String, Path, description = "Token from a stream_url")),
    responses(
        (status = 200, description = "The whole media file", content_type = "audio/*"),
        (status = 206, description = "The byte range asked for"),
        (status = 304, description = "Not modified"),
        (status = 403, body = ErrorBody, description = "Forged or expired token, or the source is on a private network"),
        (status = 404, body = ErrorBody, description = "Unknown token or track"),
        (status = 416, description = "Range not satisfiable")))]
pub async fn stream(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    ApiPath(raw): ApiPath<String>,
) -> Result<Response, Error> {
    let claims = token::verify(&state.key, &raw, unix_now()).map_err(|e| match e {
        TokenError::Malformed => Error::UnknownToken,
        TokenError::Forged => Error::ForgedToken,
        TokenError::Expired => Error::ExpiredToken,
    })?;
    let variant = claims.variant.unwrap_or(Variant::Opus);
    serve_track(&state, &claims.track_id, variant, &method, &headers).await
}

/// A track's bytes as `method` and `headers` ask (ranges, conditions): a library file from
/// disk, remote media through the proxy. Shared by `/stream/<token>` and Subsonic's `stream`.
pub async fn serve_track(
    state: &AppState,
    track_id: &TrackId,
    variant: Variant,
    method: &Method,
    headers: &HeaderMap,
) -> Result<Response, Error> {
    match state.resolver.resolve(track_id, variant).await? {
        Playable::LocalFile { path, mime } => match local::serve_file(method, headers, &path, &mime).await {
            Ok(response) => Ok(response),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(Error::MediaGone(track_id.to_string())),
            Err(e) => Err(Error::Internal(anyhow::Error::new(e).context("serving a library file"))),
        },
        Playable::Remote(locator) => {
            let (resolver, track_id) = (state.resolver.clone(), track_id.clone());
            let reresolve: proxy::ReResolve = std::sync::Arc::new(move |pin: Option<String>| {
                let (resolver, track_id) = (resolver.clone(), track_id.clone());
                Box::pin(async move { resolver.reresolve(&track_id, variant, pin.as_deref()).await })
            });
            proxy::serve(&state.upstream, locator, reresolve, method, headers).await
        }
    }
}
