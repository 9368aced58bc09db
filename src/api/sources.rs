//! `POST /api/v1/sources/http`: add remote media by URL.

use axum::extract::rejection::JsonRejection;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::AppState;
use crate::catalog::{PlaylistSummary, Track};
use crate::error::{Error, ErrorBody};
use crate::sources::import::{self, SkippedEntry};

#[derive(Deserialize, ToSchema)]
pub struct AddHttpSource {
    /// A direct media URL, an M3U/M3U8/PLS playlist, or a podcast RSS/Atom feed (http or https).
    pub url: String,
}

#[derive(Serialize, ToSchema)]
pub struct AddedSource {
    /// The tracks added (or refreshed), searchable and playable like library tracks.
    pub tracks: Vec<Track>,
    /// For a playlist or a feed, the playlist holding its entries.
    pub playlist: Option<PlaylistSummary>,
    /// Entries that could not be added.
    pub skipped: Vec<SkippedEntry>,
}

#[utoipa::path(post, path = "/api/v1/sources/http", tag = "sources", request_body = AddHttpSource,
    responses(
        (status = 201, body = AddedSource),
        (status = 400, body = ErrorBody, description = "Not an http(s) URL, or a malformed body"),
        (status = 422, body = ErrorBody, description = "Not audio, a playlist or a feed"),
        (status = 502, body = ErrorBody, description = "The URL could not be fetched"),
        (status = 504, body = ErrorBody, description = "The URL did not answer in time")))]
pub async fn add_http(
    State(state): State<AppState>,
    body: Result<Json<AddHttpSource>, JsonRejection>,
) -> Result<(StatusCode, Json<AddedSource>), Error> {
    let Json(request) = body.map_err(|e| Error::BadRequest(e.body_text()))?;
    let imported = import::import(&state.http, &request.url, state.upstream.limits().first_byte_timeout).await?;
    let skipped = imported.skipped.clone();
    let (tracks, playlist) = state.catalog.add_remote(imported).await?;
    Ok((
        StatusCode::CREATED,
        Json(AddedSource {
            tracks,
            playlist,
            skipped,
        }),
    ))
}
