//! `/api/v1/tracks/{id}`, its `stream_url` and its `related` tracks.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::extract::{bounded, check_id, ApiPath, ApiQuery};
use super::AppState;
use crate::catalog::Track;
use crate::error::{Error, ErrorBody};
use crate::stream::token::{self, Claims};

#[utoipa::path(get, path = "/api/v1/tracks/{id}", tag = "tracks",
    params(("id" = String, Path, description = "Track id")),
    responses((status = 200, body = Track), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_track(State(state): State<AppState>, ApiPath(id): ApiPath<String>) -> Result<Json<Track>, Error> {
    check_id("track", &id)?;
    let track = state.catalog.track(id.clone()).await?.ok_or(Error::TrackNotFound(id))?;
    Ok(Json(track))
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

#[utoipa::path(get, path = "/api/v1/tracks/{id}/stream_url", tag = "tracks",
    params(("id" = String, Path, description = "Track id")),
    responses((status = 200, body = StreamUrl), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn stream_url(State(state): State<AppState>, ApiPath(id): ApiPath<String>) -> Result<Json<StreamUrl>, Error> {
    check_id("track", &id)?;
    let track = state.catalog.track(id.clone()).await?.ok_or(Error::TrackNotFound(id))?;
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let expires_at = now + state.config.token_ttl.as_secs();
    let token = token::sign(
        &state.key,
        &Claims {
            track_id: track.id,
            expires_at,
        },
    );
    Ok(Json(StreamUrl {
        url: format!("/stream/{token}"),
        expires_at,
        mime: track.mime,
    }))
}

#[derive(Deserialize, IntoParams)]
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
    ApiPath(id): ApiPath<String>,
    ApiQuery(params): ApiQuery<RelatedParams>,
) -> Result<Json<RelatedTracks>, Error> {
    check_id("track", &id)?;
    let limit = bounded("limit", params.limit, 20, 1, 100)?;
    let tracks = state
        .catalog
        .related(id.clone(), limit)
        .await?
        .ok_or(Error::TrackNotFound(id))?;
    Ok(Json(RelatedTracks { tracks }))
}
