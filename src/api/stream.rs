//! `/stream/<token>`: verify the token, resolve the track, serve its bytes.

use axum::extract::State;
use axum::http::{HeaderMap, Method};
use axum::response::Response;
use axum::Extension;

use super::extract::ApiPath;
use super::AppState;
use crate::error::{Error, ErrorBody};
use crate::model::{unix_now, TrackId, Variant};
use crate::resolve::Playable;
use crate::stream::paced::ClientRoom;
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
    room: Option<Extension<ClientRoom>>,
    ApiPath(raw): ApiPath<String>,
) -> Result<Response, Error> {
    let claims = token::verify(&state.key, &raw, unix_now()).map_err(|e| match e {
        TokenError::Malformed => Error::UnknownToken,
        TokenError::Forged => Error::ForgedToken,
        TokenError::Expired => Error::ExpiredToken,
    })?;
    let variant = claims.variant.unwrap_or(Variant::Opus);
    let room = room.map(|Extension(b)| b).unwrap_or_default();
    serve_track(&state, &claims.track_id, variant, &method, &headers, room).await
}

/// A track's bytes as `method` and `headers` ask (ranges, conditions): a library file from
/// disk, remote media through the proxy, in frames sized by the room in the client's socket
/// (`room`). Shared by `/stream/<token>` and Subsonic's `stream`.
pub async fn serve_track(
    state: &AppState,
    track_id: &TrackId,
    variant: Variant,
    method: &Method,
    headers: &HeaderMap,
    room: ClientRoom,
) -> Result<Response, Error> {
    match state.resolver.resolve(track_id, variant).await? {
        Playable::LocalFile { path, mime } => {
            match local::serve_file(method, headers, &state.open_files, &path, &mime, room).await {
                Ok(response) => Ok(response),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(Error::MediaGone(track_id.to_string())),
                // Out of descriptors (every listener's connection holds one, and each file being
                // played one more): a full server, not a fault; the client may try again.
                Err(e) if out_of_descriptors(&e) => {
                    tracing::warn!(error = %e, "no descriptor left to open a library file");
                    Err(Error::Busy)
                }
                Err(e) => Err(Error::Internal(anyhow::Error::new(e).context("serving a library file"))),
            }
        }
        Playable::Remote(locator) => {
            let (resolver, track_id) = (state.resolver.clone(), track_id.clone());
            let reresolve: proxy::ReResolve = std::sync::Arc::new(move |pin: Option<String>| {
                let (resolver, track_id) = (resolver.clone(), track_id.clone());
                Box::pin(async move { resolver.reresolve(&track_id, variant, pin.as_deref()).await })
            });
            proxy::serve(&state.upstream, locator, reresolve, method, headers, room).await
        }
    }
}

/// Whether `e` says the process or the system has no file descriptor left.
fn out_of_descriptors(e: &std::io::Error) -> bool {
    use rustix::io::Errno;
    matches!(Errno::from_io_error(e), Some(Errno::MFILE | Errno::NFILE))
}

#[cfg(test)]
mod tests {
    #[test]
    fn running_out_of_descriptors_is_told_apart_from_other_failures() {
        use rustix::io::Errno;
        assert!(super::out_of_descriptors(&std::io::Error::from(Errno::MFILE)));
        assert!(super::out_of_descriptors(&std::io::Error::from(Errno::NFILE)));
        assert!(!super::out_of_descriptors(&std::io::Error::from(Errno::ACCESS)));
        assert!(!super::out_of_descriptors(&std::io::Error::other("disk on fire")));
    }
}
