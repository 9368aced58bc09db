//! A logged-in listener's saved songs and plays, kept in their account: the same stars, play
//! counts and times the Subsonic API shows, so the web player and a phone's app agree.
//! `/api/v1/me/import` copies what a browser kept before its first login (in open mode the
//! web player keeps everything in localStorage), once, all at once.

use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::extract::{ApiJson, ApiPath};
use super::AppState;
use crate::auth::Principal;
use crate::catalog::annotations::Mark;
use crate::error::{Error, ErrorBody};
use crate::model::{unix_now, Track, TrackId, User};

/// The most saved songs or plays one import copies (a browser keeps 500 plays).
const MAX_IMPORT: usize = 10_000;

fn user_of(principal: &Principal) -> Result<&User, Error> {
    principal.user().ok_or(Error::AccountRequired)
}

/// A time a client gives (unix seconds), never later than now.
fn when(at: Option<u64>) -> u64 {
    at.map_or_else(unix_now, |at| at.min(unix_now()))
}

async fn known(state: &AppState, id: &TrackId) -> Result<(), Error> {
    match state.catalog.track(id.clone()).await? {
        Some(_) => Ok(()),
        None => Err(Error::TrackNotFound(id.to_string())),
    }
}

#[derive(Serialize, ToSchema)]
pub struct SavedTrack {
    pub track: Track,
    /// When it was saved (unix seconds).
    pub saved_at: u64,
}

#[derive(Serialize, ToSchema)]
pub struct SavedTracks {
    /// Last saved first.
    pub tracks: Vec<SavedTrack>,
}

/// The songs the user saved (starred), last first.
#[utoipa::path(get, path = "/api/v1/me/saved", tag = "account",
    responses((status = 200, body = SavedTracks), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn saved(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
) -> Result<Json<SavedTracks>, Error> {
    let user = user_of(&principal)?;
    let found = state.catalog.starred(user.id).await?;
    let ids = found.songs.iter().map(|s| s.track.id.to_string()).collect();
    let marks = state.catalog.annotations(user.id, ids).await?;
    let tracks = found
        .songs
        .into_iter()
        .map(|song| SavedTrack {
            saved_at: marks
                .get(song.track.id.as_str())
                .and_then(|m| m.starred)
                .unwrap_or_default(),
            track: song.track,
        })
        .collect();
    Ok(Json(SavedTracks { tracks }))
}

/// Saves a song (stars it); saving it again keeps it saved.
#[utoipa::path(put, path = "/api/v1/me/saved/{id}", tag = "account",
    params(("id" = String, Path, description = "Track id")),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn save(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    ApiPath(id): ApiPath<TrackId>,
) -> Result<StatusCode, Error> {
    let user = user_of(&principal)?;
    known(&state, &id).await?;
    state
        .catalog
        .mark(user.id, vec![id.to_string()], Mark::Star(unix_now()))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Removes a song from the saved ones (unstars it).
#[utoipa::path(delete, path = "/api/v1/me/saved/{id}", tag = "account",
    params(("id" = String, Path, description = "Track id")),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn unsave(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    ApiPath(id): ApiPath<TrackId>,
) -> Result<StatusCode, Error> {
    let user = user_of(&principal)?;
    state.catalog.mark(user.id, vec![id.to_string()], Mark::Unstar).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
pub struct Play {
    pub track: TrackId,
    /// When it was played (unix seconds); now if absent.
    pub at: Option<u64>,
}

/// A finished play: counted for the song, its album and artist, and in the user's history.
#[utoipa::path(post, path = "/api/v1/me/plays", tag = "account", request_body = Play,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn play(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    ApiJson(play): ApiJson<Play>,
) -> Result<StatusCode, Error> {
    let user = user_of(&principal)?;
    if !state
        .catalog
        .record_play(user.id, play.track.clone(), when(play.at))
        .await?
    {
        return Err(Error::TrackNotFound(play.track.to_string()));
    }
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
pub struct Kept {
    pub track: TrackId,
    /// Unix seconds.
    pub at: Option<u64>,
}

#[derive(Deserialize, ToSchema)]
pub struct Import {
    /// Songs saved in the browser.
    #[serde(default)]
    pub saved: Vec<Kept>,
    /// Plays the browser remembers.
    #[serde(default)]
    pub plays: Vec<Kept>,
}

#[derive(Serialize, ToSchema)]
pub struct Imported {
    /// How many saved songs and plays were copied (songs the server doesn't have are not).
    pub saved: u64,
    pub plays: u64,
}

/// Copies what a browser kept (saved songs, plays) to the user's account, all or nothing.
#[utoipa::path(post, path = "/api/v1/me/import", tag = "account", request_body = Import,
    responses((status = 200, body = Imported), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn import(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    ApiJson(import): ApiJson<Import>,
) -> Result<Json<Imported>, Error> {
    let user = user_of(&principal)?;
    if import.saved.len() > MAX_IMPORT || import.plays.len() > MAX_IMPORT {
        return Err(Error::BadRequest(format!(
            "at most {MAX_IMPORT} saved songs and {MAX_IMPORT} plays at once"
        )));
    }
    let pairs = |kept: Vec<Kept>| kept.into_iter().map(|k| (k.track, when(k.at))).collect();
    let (saved, plays) = state
        .catalog
        .import_marks(user.id, pairs(import.saved), pairs(import.plays))
        .await?;
    Ok(Json(Imported { saved, plays }))
}
