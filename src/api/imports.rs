//! Adding remote media: `POST /api/v1/sources/http` (a media URL, an M3U/PLS playlist, a
//! podcast feed), `POST /api/v1/tracks/import` (a yt-dlp page: a video, a track, or a
//! playlist's entries), `POST /api/v1/playlists/import` (a yt-dlp playlist), and refreshing
//! imported playlists. The work is the importer's; these parse and render.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use utoipa::ToSchema;

use super::extract::{ApiJson, ApiPath};
use super::AppState;
use crate::error::{Error, ErrorBody};
use crate::importer::AddedSource;
use crate::model::PlaylistId;

#[derive(Deserialize, ToSchema)]
pub struct ImportRequest {
    /// A page yt-dlp understands (a YouTube video or playlist, a SoundCloud or Bandcamp page, a
    /// direct media link), or for playlists a bare YouTube playlist id (`PL…`).
    pub url: String,
}

fn page_url(raw: &str, playlist: bool) -> Result<String, Error> {
    let raw = raw.trim();
    let is_playlist_id =
        raw.len() >= 10 && raw.len() <= 64 && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if playlist && is_playlist_id {
        return Ok(format!("https://www.youtube.com/playlist?list={raw}"));
    }
    let url: url::Url = raw
        .parse()
        .map_err(|e| Error::BadRequest(format!("url is not a valid URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(Error::BadRequest("url must be an http or https URL".into()));
    }
    Ok(url.to_string())
}

#[utoipa::path(post, path = "/api/v1/tracks/import", tag = "sources", request_body = ImportRequest,
    responses((status = 201, body = AddedSource), (status = 400, body = ErrorBody), (status = 422, body = ErrorBody),
              (status = 403, body = ErrorBody, description = "The page is on a private network"), (status = 502, body = ErrorBody, description = "yt-dlp failed"), (status = 503, body = ErrorBody, description = "YouTube source off or yt-dlp missing")))]
pub async fn import_tracks(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<ImportRequest>,
) -> Result<(StatusCode, Json<AddedSource>), Error> {
    import(&state, request, false).await
}

#[utoipa::path(post, path = "/api/v1/playlists/import", tag = "playlists", request_body = ImportRequest,
    responses((status = 201, body = AddedSource), (status = 400, body = ErrorBody), (status = 422, body = ErrorBody),
              (status = 403, body = ErrorBody, description = "The page is on a private network"),
              (status = 502, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn import_playlist(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<ImportRequest>,
) -> Result<(StatusCode, Json<AddedSource>), Error> {
    import(&state, request, true).await
}

async fn import(
    state: &AppState,
    request: ImportRequest,
    playlist: bool,
) -> Result<(StatusCode, Json<AddedSource>), Error> {
    let url = page_url(&request.url, playlist)?;
    let added = state.importer.add_ytdlp(&url, playlist).await?;
    Ok((StatusCode::CREATED, Json(added)))
}

/// Reads an imported playlist (YouTube, M3U/PLS by URL, podcast feed) again from its source.
#[utoipa::path(post, path = "/api/v1/playlists/{id}/refresh", tag = "playlists",
    params(("id" = String, Path, description = "An imported playlist's id")),
    responses((status = 200, body = AddedSource), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody),
              (status = 403, body = ErrorBody, description = "The source is on a private network"),
              (status = 502, body = ErrorBody)))]
pub async fn refresh_playlist(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<PlaylistId>,
) -> Result<Json<AddedSource>, Error> {
    Ok(Json(state.importer.refresh(&id).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct AddHttpSource {
    /// A direct media URL, an M3U/M3U8/PLS playlist, or a podcast RSS/Atom feed (http or https).
    pub url: String,
}

#[utoipa::path(post, path = "/api/v1/sources/http", tag = "sources", request_body = AddHttpSource,
    responses(
        (status = 201, body = AddedSource),
        (status = 400, body = ErrorBody, description = "Not an http(s) URL, or a malformed body"),
        (status = 422, body = ErrorBody, description = "Not audio, a playlist or a feed"),
        (status = 403, body = ErrorBody, description = "The URL is on a private network (forbidden_target)"),
        (status = 502, body = ErrorBody, description = "The URL could not be fetched"),
        (status = 504, body = ErrorBody, description = "The URL did not answer in time")))]
pub async fn add_http(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<AddHttpSource>,
) -> Result<(StatusCode, Json<AddedSource>), Error> {
    Ok((StatusCode::CREATED, Json(state.importer.add_url(&request.url).await?)))
}
