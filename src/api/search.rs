//! `/api/v1/search` and `/api/v1/suggest`.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::extract::{bounded, ApiQuery};
use super::AppState;
use crate::catalog::search::Scope;
use crate::error::{Error, ErrorBody};
use crate::model::{Suggestion, SuggestionKind, Track, Variant};
use crate::sources::youtube::youtube_mime;

const MAX_QUERY: usize = 200;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// What to look for: words matched as prefixes against title, artist, album and genre,
    /// case- and diacritic-insensitively.
    q: Option<String>,
    /// 1 to 100, default 20.
    limit: Option<u32>,
    /// 0 to 10000, default 0.
    offset: Option<u32>,
    /// `library` (the catalog: local and added remote tracks; the default), `local` (library
    /// files only), `remote` (added remote media only), `youtube`, or `all` (the catalog's page,
    /// then YouTube's results).
    source: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct SearchResults {
    pub query: String,
    /// Matches in all, beyond this page.
    pub total: u64,
    pub limit: u32,
    pub offset: u32,
    pub tracks: Vec<Track>,
}

fn required_query(q: Option<String>) -> Result<String, Error> {
    let q = q.map(|q| q.trim().to_owned()).unwrap_or_default();
    if q.is_empty() {
        return Err(Error::BadRequest("q is required".into()));
    }
    if q.chars().count() > MAX_QUERY {
        return Err(Error::BadRequest(format!("q is longer than {MAX_QUERY} characters")));
    }
    Ok(q)
}

#[utoipa::path(get, path = "/api/v1/search", tag = "search", params(SearchParams),
    responses((status = 200, body = SearchResults), (status = 400, body = ErrorBody)))]
pub async fn search(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<SearchParams>,
    headers: axum::http::HeaderMap,
) -> Result<Json<SearchResults>, Error> {
    let query = required_query(params.q)?;
    let limit = bounded("limit", params.limit, 20, 1, 100)?;
    let offset = bounded("offset", params.offset, 0, 0, 10_000)?;
    let (library, youtube) = match params.source.as_deref().unwrap_or("library") {
        "library" => (Some(Scope::All), false),
        "local" => (Some(Scope::Local), false),
        "remote" => (Some(Scope::Remote), false),
        "youtube" => (None, true),
        "all" => (Some(Scope::All), true),
        other => {
            return Err(Error::BadRequest(format!(
                "source must be library, local, remote, youtube or all (got {other})"
            )))
        }
    };
    let (mut total, mut tracks) = (0, Vec::new());
    if let Some(scope) = library {
        let page = state.catalog.search(query.clone(), scope, limit, offset).await?;
        (total, tracks) = (page.total, page.tracks);
    }
    if youtube {
        let source = state.youtube.as_ref().ok_or_else(Error::youtube_off)?;
        // YouTube search has no offsets: one list of up to 50 results, paged here.
        let found = source.search(&query, 50).await?;
        total += found.len() as u64;
        let skip = if library.is_some() { 0 } else { offset as usize };
        // The type this client will be streamed (M4A for Safari and ExoPlayer, as stream_url
        // decides), so a player can tell before it asks.
        let user_agent = headers
            .get(axum::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok());
        let mime = youtube_mime(Variant::for_client(None, user_agent).unwrap_or(Variant::Opus));
        tracks.extend(found.iter().skip(skip).take(limit as usize).map(|t| Track {
            mime: mime.to_owned(),
            ..t.clone()
        }));
    }
    Ok(Json(SearchResults {
        query,
        total,
        limit,
        offset,
        tracks,
    }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SuggestParams {
    /// The prefix typed so far.
    q: Option<String>,
    /// 1 to 20, default 10.
    limit: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct Suggestions {
    pub query: String,
    pub suggestions: Vec<Suggestion>,
}

#[utoipa::path(get, path = "/api/v1/suggest", tag = "search", params(SuggestParams),
    responses((status = 200, body = Suggestions), (status = 400, body = ErrorBody)))]
pub async fn suggest(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<SuggestParams>,
    headers: axum::http::HeaderMap,
) -> Result<Json<Suggestions>, Error> {
    let query = required_query(params.q)?;
    let limit = bounded("limit", params.limit, 10, 1, 20)?;
    let mut suggestions = state.catalog.suggest(&query, limit as usize);
    // YouTube's completions follow the library's; if the service fails, the library's stand alone.
    if let Some(youtube) = &state.youtube {
        let language = headers
            .get(axum::http::header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .and_then(first_language);
        match youtube.suggest(&query, limit as usize, language.as_deref()).await {
            Ok(more) => {
                for text in more {
                    if suggestions.len() < limit as usize
                        && !suggestions.iter().any(|s| s.text.eq_ignore_ascii_case(&text))
                    {
                        suggestions.push(Suggestion {
                            text,
                            kind: SuggestionKind::YouTube,
                        });
                    }
                }
            }
            Err(error) => tracing::debug!(%error, "YouTube suggestions unavailable; local ones only"),
        }
    }
    Ok(Json(Suggestions { query, suggestions }))
}

/// The listener's first language in an `Accept-Language` header (`fr-CH, fr;q=0.9` -> `fr-CH`),
/// if it is a plausible language tag (RFC 5646: letters, digits, hyphens).
fn first_language(header: &str) -> Option<String> {
    let tag = header.split(',').next()?.split(';').next()?.trim();
    let plausible = (2..=16).contains(&tag.len())
        && tag.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && tag.bytes().next().is_some_and(|b| b.is_ascii_alphabetic());
    plausible.then(|| tag.to_owned())
}

#[cfg(test)]
mod tests {
    use super::first_language;

    #[test]
    fn the_first_language_of_accept_language() {
        assert_eq!(first_language("fr-CH, fr;q=0.9, en;q=0.8").as_deref(), Some("fr-CH"));
        assert_eq!(first_language("de").as_deref(), Some("de"));
        for bad in ["*", "", "x", ";q=1", "fr&gl=us", "12"] {
            assert_eq!(first_language(bad), None, "{bad}");
        }
    }
}
