//! The Subsonic API (and OpenSubsonic's extensions of it) at `/rest/<method>` and
//! `/rest/<method>.view`, over the same catalog, streams and sources as the JSON API, so
//! that the apps people already use (DSub, Symfonium, Feishin, ...) play from anyaudio.
//!
//! Every call carries its credentials (`u` with `p` or `t`+`s`, or `apiKey`), in open mode
//! too: apps send them anyway, and a call that carries its own credentials can't be forged by
//! another web page, so `/rest` takes GETs that change state, form POSTs, and any origin
//! (without cookies, which it never reads). `ping`, `getLicense` and
//! `getOpenSubsonicExtensions` answer without credentials; `ping` checks them when given, so
//! that an app's "test connection" means something.

mod annotate;
mod browse;
mod folders;
mod lyrics;
mod media;
mod playlists;
mod render;
pub mod reply;
mod request;
mod system;

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, Method};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;
use tower_http::cors::{AllowOrigin, CorsLayer};

use super::extract::client_addr;
use super::AppState;
use crate::auth::{Credential, Principal, RequestFacts};
use crate::error::Error;
use crate::model::User;
use crate::stream::paced::ClientRoom;
use browse::SearchStyle;
use reply::{respond, Failure, Format, Node};
use request::{presented, Params};

/// The largest form body a call may send (a playlist of thousands of song ids fits).
const MAX_FORM: usize = 1 << 20;

/// What a method sees of its call.
pub struct Call<'a> {
    pub state: &'a AppState,
    pub params: Params,
    pub user: User,
    pub method: &'a Method,
    pub headers: &'a HeaderMap,
    /// The room in the client's socket, for the size of stream frames.
    pub room: ClientRoom,
}

impl Call<'_> {
    /// The caller's annotations of the items named.
    pub async fn marks<'i>(&self, ids: impl IntoIterator<Item = &'i str>) -> Result<render::Marks, Failure> {
        let ids: Vec<String> = ids.into_iter().map(str::to_owned).collect();
        if ids.is_empty() {
            return Ok(render::Marks::default());
        }
        Ok(render::Marks(self.state.catalog.annotations(self.user.id, ids).await?))
    }
}

/// `/rest/*`, with its own CORS: any origin may read, never with credentials of the browser.
pub fn router() -> Router<AppState> {
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::any())
        .allow_methods([Method::GET, Method::POST, Method::HEAD, Method::OPTIONS])
        .allow_headers([header::RANGE, header::CONTENT_TYPE])
        .expose_headers([header::CONTENT_RANGE, header::ACCEPT_RANGES, header::CONTENT_LENGTH]);
    Router::new().route("/rest/{method}", any(call)).layer(cors)
}

/// Whether a path is the Subsonic API's (whose calls carry their own credentials).
pub fn is_subsonic(path: &str) -> bool {
    path.starts_with("/rest/")
}

/// What a method answers: an element for the envelope, or bytes (streams, images).
enum Answer {
    Node(Node),
    Raw(Response),
}

impl From<Node> for Answer {
    fn from(node: Node) -> Answer {
        Answer::Node(node)
    }
}

async fn call(State(state): State<AppState>, Path(name): Path<String>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let form = if parts.method == Method::POST && is_form(&parts.headers) {
        match axum::body::to_bytes(Body::new(body), MAX_FORM).await {
            Ok(bytes) => Some(bytes),
            Err(_) => return Error::PayloadTooLarge.into_response(),
        }
    } else {
        None
    };
    let params = Params::parse(parts.uri.query(), form.as_deref());
    let format = Format::of(params.get("f"), params.get("callback"));
    let name = name.strip_suffix(".view").unwrap_or(&name).to_owned();
    let facts = RequestFacts {
        peer: client_addr(&parts.extensions),
        headers: &parts.headers,
    };
    let outcome = match authenticate(&state, &params, &facts, &name).await {
        Ok(Some(user)) => {
            let call = Call {
                state: &state,
                params,
                user,
                method: &parts.method,
                headers: &parts.headers,
                room: parts.extensions.get::<ClientRoom>().cloned().unwrap_or_default(),
            };
            dispatch(&call, &name).await
        }
        Ok(None) => unauthenticated(&name),
        Err(failure) => Err(failure),
    };
    match outcome {
        Ok(Answer::Raw(response)) => response,
        Ok(Answer::Node(node)) => respond(Ok(node), &format),
        Err(failure) => respond(Err(failure), &format),
    }
}

fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/x-www-form-urlencoded"))
}

/// The methods that answer a call without credentials.
fn public(name: &str) -> bool {
    matches!(name, "ping" | "getLicense" | "getOpenSubsonicExtensions")
}

/// The user a call's credentials name; None for a public method called without any.
async fn authenticate(
    state: &AppState,
    params: &Params,
    facts: &RequestFacts<'_>,
    name: &str,
) -> Result<Option<User>, Failure> {
    if name == "getOpenSubsonicExtensions" {
        return Ok(None);
    }
    let credential = match presented(params)? {
        Some(credential) => credential,
        None if public(name) => return Ok(None),
        None => return Err(Failure::missing("u")),
    };
    let wrong = match credential {
        Credential::ApiKey(_) => Failure::new(44, "invalid API key"),
        _ => Failure::wrong_credentials(),
    };
    match state.auth.authenticate(credential, facts).await {
        Ok(Principal::User(user)) => Ok(Some(user)),
        Ok(_) | Err(Error::BadCredentials) => Err(wrong),
        Err(e) => Err(e.into()),
    }
}

/// A public method called without credentials.
fn unauthenticated(name: &str) -> Result<Answer, Failure> {
    match name {
        "ping" => Ok(system::ping().into()),
        "getLicense" => Ok(system::license().into()),
        "getOpenSubsonicExtensions" => Ok(system::extensions().into()),
        _ => Err(Failure::missing("u")),
    }
}

async fn dispatch(call: &Call<'_>, name: &str) -> Result<Answer, Failure> {
    let node = match name {
        "ping" => system::ping(),
        "getLicense" => system::license(),
        "getOpenSubsonicExtensions" => system::extensions(),
        "getUser" => system::user(call).await?,
        "getMusicFolders" => system::music_folders(call),
        "getScanStatus" => system::scan_status(call).await?,
        "startScan" => system::start_scan(call).await?,
        "getIndexes" => folders::indexes(call).await?,
        "getMusicDirectory" => folders::directory(call).await?,
        "getArtists" => browse::artists(call).await?,
        "getArtist" => browse::artist(call).await?,
        "getAlbum" => browse::album(call).await?,
        "getSong" => browse::song(call).await?,
        "getGenres" => browse::genres(call).await?,
        "getArtistInfo2" => browse::artist_info(call, "artistInfo2").await?,
        "getAlbumInfo2" => browse::album_info(call, "albumInfo").await?,
        "search3" => browse::search(call, SearchStyle::Id3).await?,
        "search2" => browse::search(call, SearchStyle::Folders).await?,
        "getAlbumList2" => browse::album_list(call, SearchStyle::Id3).await?,
        "getAlbumList" => browse::album_list(call, SearchStyle::Folders).await?,
        "getRandomSongs" => browse::random_songs(call).await?,
        "getSongsByGenre" => browse::songs_by_genre(call).await?,
        "getStarred2" => browse::starred(call, SearchStyle::Id3).await?,
        "getStarred" => browse::starred(call, SearchStyle::Folders).await?,
        "star" => annotate::star(call, true).await?,
        "unstar" => annotate::star(call, false).await?,
        "setRating" => annotate::set_rating(call).await?,
        "scrobble" => annotate::scrobble(call).await?,
        "getPlaylists" => playlists::list(call).await?,
        "getPlaylist" => playlists::get(call).await?,
        "createPlaylist" => playlists::create(call).await?,
        "updatePlaylist" => playlists::update(call).await?,
        "deletePlaylist" => playlists::delete(call).await?,
        "savePlayQueue" => playlists::save_queue(call).await?,
        "getPlayQueue" => playlists::queue(call).await?,
        "stream" => return Ok(Answer::Raw(media::stream(call, false).await?)),
        "download" => return Ok(Answer::Raw(media::stream(call, true).await?)),
        "getLyricsBySongId" => return Ok(Answer::Node(lyrics::by_song_id(call).await?)),
        "getLyrics" => return Ok(Answer::Node(lyrics::by_artist_and_title(call).await?)),
        "getCoverArt" => return Ok(Answer::Raw(media::cover_art(call).await?)),
        other => return Err(Failure::generic(format!("anyaudio has no method {other:?}"))),
    };
    Ok(Answer::Node(node))
}
