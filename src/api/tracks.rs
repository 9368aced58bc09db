//! `/api/v1/tracks/{id}`, its `stream_url`, its `related` tracks and its `artwork`.

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use sha2::Digest;
use utoipa::{IntoParams, ToSchema};

use super::extract::{bounded, ApiPath, ApiQuery};
use super::AppState;
use crate::error::{Error, ErrorBody};
use crate::formats::covers;
use crate::model::{unix_now, Origin, PlaylistId, SourceKind, Track, TrackId, Variant};
use crate::resolve::Playable;
use crate::sources::local::{self, Artwork};
use crate::sources::scaled_covers::Scaled;
use crate::stream::plan;
use crate::stream::token::{self, Claims};

/// A track of the catalog, or a YouTube search result seen recently.
async fn find_track(state: &AppState, id: &TrackId) -> Result<Track, Error> {
    if let Some(track) = state.catalog.track(id.clone()).await? {
        return Ok(track);
    }
    state
        .youtube
        .as_ref()
        .and_then(|yt| yt.seen(id))
        .ok_or_else(|| Error::TrackNotFound(id.to_string()))
}

#[utoipa::path(get, path = "/api/v1/tracks/{id}", tag = "tracks",
    params(("id" = String, Path, description = "Track id")),
    responses((status = 200, body = Track), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_track(State(state): State<AppState>, ApiPath(id): ApiPath<TrackId>) -> Result<Json<Track>, Error> {
    Ok(Json(find_track(&state, &id).await?))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StreamUrlParams {
    /// `opus` (WebM/Opus) or `m4a` (AAC), for sources with several formats. Default: chosen by
    /// the client's User-Agent (M4A for Safari and ExoPlayer, Opus otherwise).
    format: Option<String>,
    /// Ids of the tracks that play next (comma-separated, up to 5): resolved in the background
    /// so that their stream_url answers at once.
    prefetch: Option<String>,
    /// The playlist this track is played from: its next two tracks are resolved in the background.
    playlist: Option<PlaylistId>,
}

/// Where to play a track from.
#[derive(Serialize, ToSchema)]
pub struct StreamUrl {
    /// A URL on this server (relative to the API's origin) to put in `<audio src>` or ExoPlayer.
    pub url: String,
    /// Unix seconds after which `url` is refused (403); ask again for a new one.
    pub expires_at: u64,
    /// The Content-Type the stream will have.
    pub mime: String,
}

/// Resolves the track now (for remote sources: the slow part, done once and cached), then
/// hands out a signed URL on this server.
#[utoipa::path(get, path = "/api/v1/tracks/{id}/stream_url", tag = "tracks",
    params(("id" = String, Path, description = "Track id"), StreamUrlParams),
    responses((status = 200, body = StreamUrl), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 403, body = ErrorBody, description = "The source is on a private network"),
              (status = 502, body = ErrorBody, description = "The source failed (yt-dlp, an unreachable URL)"),
              (status = 503, body = ErrorBody, description = "The track's source is off or unavailable")))]
pub async fn stream_url(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<TrackId>,
    ApiQuery(params): ApiQuery<StreamUrlParams>,
    headers: HeaderMap,
) -> Result<Json<StreamUrl>, Error> {
    // Any YouTube video plays by its id, seen in a search or not (a shared link, an app's list).
    let source = match find_track(&state, &id).await {
        Ok(track) => track.source,
        Err(Error::TrackNotFound(_)) if state.youtube.is_some() && id.youtube_video().is_some() => SourceKind::YouTube,
        Err(e) => return Err(e),
    };
    let user_agent = headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok());
    let variant = Variant::for_client(params.format.as_deref(), user_agent)
        .ok_or_else(|| Error::BadRequest("format must be opus or m4a".into()))?;
    let mut next: Vec<TrackId> = match params.prefetch.as_deref() {
        Some(list) => list
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .take(5)
            .map(TrackId::parse)
            .collect::<Result<_, _>>()
            .map_err(|e| Error::BadRequest(e.to_string()))?,
        None => Vec::new(),
    };
    if let Some(playlist) = params.playlist {
        if let Some(p) = state.catalog.playlist(playlist).await? {
            let after = p.tracks.iter().skip_while(|t| t.id != id).skip(1).take(2);
            next.extend(after.map(|t| t.id.clone()));
        }
    }
    if !next.is_empty() {
        state.resolver.prefetch(next, variant);
    }
    let mime = match state.resolver.resolve(&id, variant).await? {
        Playable::Remote(locator) => locator.mime.clone(),
        Playable::LocalFile { mime, .. } => mime,
    };
    let expires_at = unix_now() + state.config.token_ttl.as_secs();
    let variant = source.has_formats().then_some(variant);
    let token = token::sign(
        &state.key,
        &Claims {
            track_id: id,
            variant,
            expires_at,
        },
    );
    Ok(Json(StreamUrl {
        url: format!("/stream/{token}"),
        expires_at,
        mime,
    }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RelatedParams {
    /// 1 to 100, default 20.
    limit: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct RelatedTracks {
    pub tracks: Vec<Track>,
}

#[utoipa::path(get, path = "/api/v1/tracks/{id}/related", tag = "tracks",
    params(("id" = String, Path, description = "Track id"), RelatedParams),
    responses((status = 200, body = RelatedTracks), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn related(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<TrackId>,
    ApiQuery(params): ApiQuery<RelatedParams>,
) -> Result<Json<RelatedTracks>, Error> {
    let limit = bounded("limit", params.limit, 20, 1, 100)?;
    let tracks = state
        .catalog
        .related(id.clone(), limit)
        .await?
        .ok_or_else(|| Error::TrackNotFound(id.to_string()))?;
    Ok(Json(RelatedTracks { tracks }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ArtworkParams {
    /// Scale a library cover down to fit this many pixels a side (16 to 2048); the original
    /// when it is no larger. Scaled copies are kept, so each size is scaled once.
    size: Option<u32>,
}

/// The track's cover: for a library file the picture in its tags, else a `cover.jpg` (or
/// `folder.png`, ...) beside it; for a remote track a redirect to its thumbnail.
#[utoipa::path(get, path = "/api/v1/tracks/{id}/artwork", tag = "tracks",
    params(("id" = String, Path, description = "Track id"), ArtworkParams),
    responses((status = 200, description = "The image (Content-Type image/...)"),
              (status = 303, description = "A remote track's thumbnail, elsewhere"),
              (status = 304, description = "Not modified (If-None-Match)"),
              (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn artwork(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<TrackId>,
    ApiQuery(params): ApiQuery<ArtworkParams>,
    headers: HeaderMap,
) -> Result<Response, Error> {
    let size = params
        .size
        .map(|size| bounded("size", Some(size), size, 16, covers::MAX_SCALED_SIDE))
        .transpose()?;
    artwork_of(&state, &id, size, &headers).await
}

/// A track's cover as a response (the image, a 304, or a redirect to a remote thumbnail),
/// scaled to fit `size` pixels a side if asked (remote thumbnails are as they are).
pub async fn artwork_of(
    state: &AppState,
    id: &TrackId,
    size: Option<u32>,
    headers: &HeaderMap,
) -> Result<Response, Error> {
    let id = id.clone();
    let track = find_track(state, &id).await?;
    let Some(Origin::LocalFile { path, .. }) = state.catalog.origin(id.clone()).await? else {
        return match track.artwork {
            Some(url) => Ok((StatusCode::SEE_OTHER, [(header::LOCATION, url)]).into_response()),
            None => Err(Error::ArtworkNotFound(id.to_string())),
        };
    };
    let roots = state.catalog.roots().to_vec();
    let found = tokio::task::spawn_blocking(move || local::artwork(&path, &roots))
        .await
        .map_err(|e| Error::Internal(e.into()))??;
    let (bytes, mime) = match found {
        Artwork::FileGone => return Err(Error::MediaGone(id.to_string())),
        Artwork::None => return Err(Error::ArtworkNotFound(id.to_string())),
        Artwork::Image { bytes, mime } => (bytes, mime),
    };
    let digest = sha2::Sha256::digest(&bytes);
    // The scaled copy's validator is the original's and the size: it changes with either.
    let etag = match size {
        Some(size) => plan::etag_of_digest(&sha2::Sha256::digest(format!("{digest:x}-{size}"))),
        None => plan::etag_of_digest(&digest),
    };
    let cache = [
        (header::ETAG, etag.clone()),
        (header::CACHE_CONTROL, "private, max-age=86400".to_owned()),
    ];
    if plan::not_modified(headers, &etag) {
        return Ok((StatusCode::NOT_MODIFIED, cache).into_response());
    }
    let (bytes, mime) = match size {
        None => (bytes, mime),
        Some(size) => match state.covers.scaled(bytes, &format!("{digest:x}"), size).await? {
            Scaled::Image { bytes, mime } => (bytes, mime.to_owned()),
            Scaled::Original(bytes) => (bytes, mime),
        },
    };
    Ok((cache, [(header::CONTENT_TYPE, mime)], bytes).into_response())
}
