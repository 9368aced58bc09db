//! `/api/v1/playlists` and `/api/v1/playlists/{id}`.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::extract::{bounded, ApiPath, ApiQuery};
use super::AppState;
use crate::catalog::PlaylistFilter;
use crate::error::{Error, ErrorBody};
use crate::model::{Playlist, PlaylistId, PlaylistSummary};

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Only this kind: `smart` (recently added and random mix), or one kind of playlist
    /// (`recent`, `mix`, `album`, `artist`, `genre`, `m3u`, `remote`, `feed`, `youtube`).
    kind: Option<String>,
    /// 1 to 500, default 100.
    limit: Option<u32>,
    /// Default 0.
    offset: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct PlaylistList {
    pub total: u64,
    pub limit: u32,
    pub offset: u32,
    pub playlists: Vec<PlaylistSummary>,
}

#[utoipa::path(get, path = "/api/v1/playlists", tag = "playlists", params(ListParams),
    responses((status = 200, body = PlaylistList), (status = 400, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<Json<PlaylistList>, Error> {
    let filter = match params.kind.as_deref() {
        None => None,
        Some(kind) => Some(
            PlaylistFilter::parse(kind)
                .ok_or_else(|| Error::BadRequest(format!("kind must be one of {}", PlaylistFilter::names())))?,
        ),
    };
    let limit = bounded("limit", params.limit, 100, 1, 500)?;
    let offset = bounded("offset", params.offset, 0, 0, u32::MAX)?;
    let (total, playlists) = state.catalog.playlists(filter, limit, offset).await?;
    Ok(Json(PlaylistList {
        total,
        limit,
        offset,
        playlists,
    }))
}

#[utoipa::path(get, path = "/api/v1/playlists/{id}", tag = "playlists",
    params(("id" = String, Path, description = "Playlist id, e.g. `recent`, `mix`, `album-…`")),
    responses((status = 200, body = Playlist), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get(State(state): State<AppState>, ApiPath(id): ApiPath<PlaylistId>) -> Result<Json<Playlist>, Error> {
    let playlist = state
        .catalog
        .playlist(id.clone())
        .await?
        .ok_or_else(|| Error::PlaylistNotFound(id.to_string()))?;
    Ok(Json(playlist))
}
