//! Browsing by tags: `getArtists`, `getArtist`, `getAlbum`, `getSong`, `getGenres`, the info
//! methods, `search2`/`search3`, `getAlbumList`/`getAlbumList2`, `getRandomSongs`,
//! `getSongsByGenre`.

use super::render::{self, IGNORED_ARTICLES};
use super::reply::{Failure, Node};
use super::Call;
use crate::catalog::browse::{AlbumOrder, Found, Page, SearchPages};
use crate::model::{unix_now, AlbumId, ArtistId, Song, Track, TrackId, Variant};
use crate::sources::youtube::youtube_mime;

/// The most of a kind one call returns: a client paging through the library asks for pages
/// of up to this many (the offsets themselves are not capped).
const MAX_PAGE: u32 = 10_000;

fn id<T>(call: &Call<'_>, parse: fn(&str) -> Result<T, crate::model::IdError>, what: &str) -> Result<T, Failure> {
    let raw = call.params.required("id")?;
    parse(raw).map_err(|_| Failure::not_found(format!("{what} {raw:?}")))
}

pub async fn artists(call: &Call<'_>) -> Result<Node, Failure> {
    let artists = call.state.catalog.artists().await?;
    let marks = call.marks(artists.iter().map(|a| a.id.as_str())).await?;
    let indexes = render::indexed(artists.iter().map(|a| (a.name.as_str(), render::artist(a, &marks))));
    Ok(Node::new().child(
        "artists",
        Node::new()
            .attr("ignoredArticles", IGNORED_ARTICLES)
            .list("index", indexes),
    ))
}

pub async fn artist(call: &Call<'_>) -> Result<Node, Failure> {
    let id = id(call, ArtistId::parse, "artist")?;
    let (artist, albums) = call
        .state
        .catalog
        .artist(id.clone())
        .await?
        .ok_or_else(|| Failure::not_found(format!("artist {id}")))?;
    let marks = call
        .marks(std::iter::once(artist.id.as_str()).chain(albums.iter().map(|a| a.id.as_str())))
        .await?;
    Ok(Node::new().child(
        "artist",
        render::artist(&artist, &marks).list("album", albums.iter().map(|a| render::album(a, &marks)).collect()),
    ))
}

pub async fn album(call: &Call<'_>) -> Result<Node, Failure> {
    let id = id(call, AlbumId::parse, "album")?;
    let (album, songs) = call
        .state
        .catalog
        .album(id.clone())
        .await?
        .ok_or_else(|| Failure::not_found(format!("album {id}")))?;
    let marks = call
        .marks(std::iter::once(album.id.as_str()).chain(songs.iter().map(|s| s.track.id.as_str())))
        .await?;
    Ok(Node::new().child(
        "album",
        render::album(&album, &marks).list("song", songs.iter().map(|s| render::song(s, &marks)).collect()),
    ))
}

pub async fn song(call: &Call<'_>) -> Result<Node, Failure> {
    let id = id(call, TrackId::parse, "song")?;
    let song = call
        .state
        .catalog
        .song(id.clone())
        .await?
        .ok_or_else(|| Failure::not_found(format!("song {id}")))?;
    let marks = call.marks([song.track.id.as_str()]).await?;
    Ok(Node::new().child("song", render::song(&song, &marks)))
}

pub async fn genres(call: &Call<'_>) -> Result<Node, Failure> {
    let genres = call.state.catalog.genres().await?;
    Ok(Node::new().child(
        "genres",
        Node::new().list("genre", genres.iter().map(render::genre).collect()),
    ))
}

/// `getArtistInfo2` / `getAlbumInfo2`: no biographies or notes are kept (nothing is fetched
/// from outside), so an existing item's info is empty; an unknown one is not found.
pub async fn artist_info(call: &Call<'_>, element: &'static str) -> Result<Node, Failure> {
    let id = id(call, ArtistId::parse, "artist")?;
    if call.state.catalog.artist(id.clone()).await?.is_none() {
        return Err(Failure::not_found(format!("artist {id}")));
    }
    Ok(Node::new().child(element, Node::new()))
}

pub async fn album_info(call: &Call<'_>, element: &'static str) -> Result<Node, Failure> {
    let id = id(call, AlbumId::parse, "album")?;
    if call.state.catalog.album(id.clone()).await?.is_none() {
        return Err(Failure::not_found(format!("album {id}")));
    }
    Ok(Node::new().child(element, Node::new()))
}

/// Which search answer: `search3` (ID3 records) or `search2` (directory style).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum SearchStyle {
    Id3,
    Folders,
}

pub async fn search(call: &Call<'_>, style: SearchStyle) -> Result<Node, Failure> {
    let p = &call.params;
    // OpenSubsonic: an empty query (or `""`, as some clients send it) is everything.
    let query = p.get("query").unwrap_or("").trim().trim_matches('"').to_owned();
    let page = |count: &str, offset: &str| -> Result<Page, Failure> {
        Ok(Page {
            count: p.bounded(count, 20, MAX_PAGE)?,
            offset: p.number::<u32>(offset)?.unwrap_or(0),
        })
    };
    let pages = SearchPages {
        artists: page("artistCount", "artistOffset")?,
        albums: page("albumCount", "albumOffset")?,
        songs: page("songCount", "songOffset")?,
    };
    let mut found = call.state.catalog.search_library(query.clone(), pages).await?;
    found
        .songs
        .extend(youtube_songs(call, &query, &found, pages.songs).await);
    let element = match style {
        SearchStyle::Id3 => "searchResult3",
        SearchStyle::Folders => "searchResult2",
    };
    Ok(Node::new().child(element, found_node(call, &found, style).await?))
}

/// The shortest query sent to YouTube: shorter ones (and the empty one, a library sync) never
/// run yt-dlp.
const YOUTUBE_MIN_QUERY: usize = 3;

/// The album and genre YouTube results show, so that clients show where they come from.
const YOUTUBE_LABEL: &str = "YouTube";

/// YouTube's results for `query` that fall in the songs page after the library's matches,
/// when the YouTube source is on; playable at once (`stream` resolves them by id). A failed
/// YouTube search leaves the library's answer whole.
async fn youtube_songs(call: &Call<'_>, query: &str, found: &Found, page: Page) -> Vec<Song> {
    let Some(youtube) = &call.state.youtube else {
        return Vec::new();
    };
    let room = (page.count as usize).saturating_sub(found.songs.len());
    if query.chars().count() < YOUTUBE_MIN_QUERY || room == 0 {
        return Vec::new();
    }
    let skip = u64::from(page.offset).saturating_sub(found.songs_total) as usize;
    let results = match youtube.search(query, 50).await {
        Ok(results) => results,
        Err(error) => {
            tracing::warn!(%error, "subsonic: YouTube search failed; answering with the library's results");
            return Vec::new();
        }
    };
    let user_agent = call
        .headers
        .get(axum::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok());
    let mime = youtube_mime(Variant::for_client(None, user_agent).unwrap_or(Variant::Opus));
    results
        .iter()
        .filter(|t| t.live.is_none())
        .skip(skip)
        .take(room)
        .map(|t| Song {
            track: Track {
                mime: mime.to_owned(),
                album: Some(YOUTUBE_LABEL.to_owned()),
                genre: Some(YOUTUBE_LABEL.to_owned()),
                ..t.clone()
            },
            album_id: None,
            artist_id: None,
            created: unix_now(),
            music_folder: None,
            path: None,
            folder_id: None,
            artists: Vec::new(),
        })
        .collect()
}

/// Artists, albums and songs as `search3`, `search2`, `getStarred2` and `getStarred` show them.
async fn found_node(call: &Call<'_>, found: &Found, style: SearchStyle) -> Result<Node, Failure> {
    let ids = found
        .artists
        .iter()
        .map(|a| a.id.as_str())
        .chain(found.albums.iter().map(|a| a.id.as_str()))
        .chain(found.songs.iter().map(|s| s.track.id.as_str()));
    let marks = call.marks(ids).await?;
    let album = match style {
        SearchStyle::Id3 => render::album,
        SearchStyle::Folders => render::album_child,
    };
    Ok(Node::new()
        .list(
            "artist",
            found.artists.iter().map(|a| render::artist(a, &marks)).collect(),
        )
        .list("album", found.albums.iter().map(|a| album(a, &marks)).collect())
        .list("song", found.songs.iter().map(|s| render::song(s, &marks)).collect()))
}

/// `getStarred2` (ID3 records) or `getStarred`.
pub async fn starred(call: &Call<'_>, style: SearchStyle) -> Result<Node, Failure> {
    let found = call.state.catalog.starred(call.user.id).await?;
    let element = match style {
        SearchStyle::Id3 => "starred2",
        SearchStyle::Folders => "starred",
    };
    Ok(Node::new().child(element, found_node(call, &found, style).await?))
}

/// `getAlbumList2` (`albumList2` of `AlbumID3`) or `getAlbumList` (`albumList` of directories).
pub async fn album_list(call: &Call<'_>, style: SearchStyle) -> Result<Node, Failure> {
    let p = &call.params;
    let kind = p.required("type")?;
    let order = match kind {
        "random" => AlbumOrder::Random,
        "newest" => AlbumOrder::Newest,
        "alphabeticalByName" => AlbumOrder::AlphabeticalByName,
        "alphabeticalByArtist" => AlbumOrder::AlphabeticalByArtist,
        "byYear" => AlbumOrder::ByYear {
            from: p.number("fromYear")?.ok_or_else(|| Failure::missing("fromYear"))?,
            to: p.number("toYear")?.ok_or_else(|| Failure::missing("toYear"))?,
        },
        "byGenre" => AlbumOrder::ByGenre(p.required("genre")?.to_owned()),
        "frequent" => AlbumOrder::Frequent(call.user.id),
        "recent" => AlbumOrder::Recent(call.user.id),
        "starred" => AlbumOrder::Starred(call.user.id),
        other => {
            return Err(Failure::generic(format!(
                "unknown list type {other:?}: random, newest, frequent, recent, starred, alphabeticalByName, \
                 alphabeticalByArtist, byYear or byGenre"
            )))
        }
    };
    let size = p.bounded("size", 10, 500)?;
    let offset = p.number::<u32>("offset")?.unwrap_or(0);
    let albums = call.state.catalog.album_list(order, size, offset).await?;
    let marks = call.marks(albums.iter().map(|a| a.id.as_str())).await?;
    let (element, render): (&'static str, fn(&crate::model::Album, &render::Marks) -> Node) = match style {
        SearchStyle::Id3 => ("albumList2", render::album),
        SearchStyle::Folders => ("albumList", render::album_child),
    };
    Ok(Node::new().child(
        element,
        Node::new().list("album", albums.iter().map(|a| render(a, &marks)).collect()),
    ))
}

pub async fn random_songs(call: &Call<'_>) -> Result<Node, Failure> {
    let p = &call.params;
    let size = p.bounded("size", 10, 500)?;
    let genre = p.get("genre").filter(|g| !g.is_empty()).map(str::to_owned);
    let years = (p.number("fromYear")?, p.number("toYear")?);
    let songs = call.state.catalog.random_songs(size, genre, years).await?;
    songs_node(call, "randomSongs", &songs).await
}

pub async fn songs_by_genre(call: &Call<'_>) -> Result<Node, Failure> {
    let p = &call.params;
    let genre = p.required("genre")?.to_owned();
    let count = p.bounded("count", 10, 500)?;
    let offset = p.number::<u32>("offset")?.unwrap_or(0);
    let songs = call.state.catalog.songs_by_genre(genre, count, offset).await?;
    songs_node(call, "songsByGenre", &songs).await
}

async fn songs_node(call: &Call<'_>, element: &'static str, songs: &[Song]) -> Result<Node, Failure> {
    let marks = call.marks(songs.iter().map(|s| s.track.id.as_str())).await?;
    Ok(Node::new().child(
        element,
        Node::new().list("song", songs.iter().map(|s| render::song(s, &marks)).collect()),
    ))
}
