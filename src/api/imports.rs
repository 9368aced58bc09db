//! Importing from yt-dlp sites: `POST /api/v1/tracks/import` (a video, a track, or a playlist's
//! entries), `POST /api/v1/playlists/import` (a playlist), and refreshing imported playlists.

use axum::extract::rejection::JsonRejection;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use utoipa::ToSchema;

use super::extract::{check_id, ApiPath};
use super::sources::AddedSource;
use super::AppState;
use crate::catalog::Catalog;
use crate::error::{Error, ErrorBody};
use crate::sources::import::{self, Import, NewPlaylist, SkippedEntry};
use crate::sources::youtube::YouTubeSource;

/// Entries read from one playlist at most.
const MAX_ENTRIES: usize = 500;

#[derive(Deserialize, ToSchema)]
pub struct ImportRequest {
    /// A page yt-dlp understands (a YouTube video or playlist, a SoundCloud or Bandcamp page, a
    /// direct media link), or for playlists a bare YouTube playlist id (`PL…`).
    pub url: String,
}

fn youtube(state: &AppState) -> Result<&YouTubeSource, Error> {
    let source = state
        .youtube
        .as_deref()
        .ok_or_else(|| Error::SourceUnavailable("the YouTube source is not enabled (start with --youtube)".into()))?;
    source
        .availability()
        .map_err(|reason| Error::SourceUnavailable(format!("the YouTube source is unavailable: {reason}")))?;
    Ok(source)
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

/// Lists `url` with yt-dlp and stores its entries (and, for a playlist, the playlist), all or
/// nothing; returns them with the entries left out.
pub async fn import_listing(
    source: &YouTubeSource,
    catalog: &Catalog,
    url: &str,
    require_playlist: bool,
) -> Result<AddedSource, Error> {
    let (listing, tracks) = source.list(url, MAX_ENTRIES, require_playlist).await?;
    if require_playlist && !listing.is_playlist {
        return Err(Error::Unsupported(format!("{url} is not a playlist")));
    }
    if tracks.is_empty() {
        return Err(Error::Unsupported(format!("{url} lists nothing to play")));
    }
    let playlist = listing.is_playlist.then(|| NewPlaylist {
        kind: "youtube",
        name: listing.title.clone().unwrap_or_else(|| url.to_owned()),
        url: url.to_owned(),
    });
    let skipped: Vec<SkippedEntry> = listing
        .skipped
        .into_iter()
        .map(|(location, reason)| SkippedEntry { location, reason })
        .collect();
    let (tracks, playlist) = catalog
        .add_remote(Import {
            tracks,
            playlist,
            skipped: Vec::new(),
        })
        .await?;
    Ok(AddedSource {
        tracks,
        playlist,
        skipped,
    })
}

fn body(body: Result<Json<ImportRequest>, JsonRejection>) -> Result<ImportRequest, Error> {
    body.map(|Json(b)| b).map_err(|e| Error::BadRequest(e.body_text()))
}

#[utoipa::path(post, path = "/api/v1/tracks/import", tag = "sources", request_body = ImportRequest,
    responses((status = 201, body = AddedSource), (status = 400, body = ErrorBody), (status = 422, body = ErrorBody),
              (status = 502, body = ErrorBody, description = "yt-dlp failed"), (status = 503, body = ErrorBody, description = "YouTube source off or yt-dlp missing")))]
pub async fn import_tracks(
    State(state): State<AppState>,
    request: Result<Json<ImportRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<AddedSource>), Error> {
    import(&state, request, false).await
}

#[utoipa::path(post, path = "/api/v1/playlists/import", tag = "playlists", request_body = ImportRequest,
    responses((status = 201, body = AddedSource), (status = 400, body = ErrorBody), (status = 422, body = ErrorBody),
              (status = 502, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn import_playlist(
    State(state): State<AppState>,
    request: Result<Json<ImportRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<AddedSource>), Error> {
    import(&state, request, true).await
}

async fn import(
    state: &AppState,
    request: Result<Json<ImportRequest>, JsonRejection>,
    playlist: bool,
) -> Result<(StatusCode, Json<AddedSource>), Error> {
    let url = page_url(&body(request)?.url, playlist)?;
    let added = import_listing(youtube(state)?, &state.catalog, &url, playlist).await?;
    Ok((StatusCode::CREATED, Json(added)))
}

/// Reads an imported playlist (YouTube, M3U/PLS by URL, podcast feed) again from its source.
#[utoipa::path(post, path = "/api/v1/playlists/{id}/refresh", tag = "playlists",
    params(("id" = String, Path, description = "An imported playlist's id")),
    responses((status = 200, body = AddedSource), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody),
              (status = 502, body = ErrorBody)))]
pub async fn refresh_playlist(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<AddedSource>, Error> {
    check_id("playlist", &id)?;
    let (kind, url) = state
        .catalog
        .playlist_source(id.clone())
        .await?
        .ok_or(Error::PlaylistNotFound(id.clone()))?;
    let Some(url) = url.filter(|_| matches!(kind.as_str(), "youtube" | "remote" | "feed")) else {
        return Err(Error::Unsupported(format!("playlist {id} is not imported from a URL")));
    };
    if kind == "youtube" {
        return Ok(Json(
            import_listing(youtube(&state)?, &state.catalog, &url, true).await?,
        ));
    }
    let imported = import::import(&state.http, &url, state.upstream.limits().first_byte_timeout).await?;
    let skipped = imported.skipped.clone();
    let (tracks, playlist) = state.catalog.add_remote(imported).await?;
    Ok(Json(AddedSource {
        tracks,
        playlist,
        skipped,
    }))
}
