//! `getLyricsBySongId` (OpenSubsonic's `songLyrics`: every set of lyrics a song has, timed
//! where they are) and `getLyrics` (the original: plain text, found by artist and title), from
//! a `.lrc` or `.txt` file beside a library track or from its tags. Remote and YouTube tracks
//! have none: nothing is fetched from outside for them.

use super::reply::{Failure, Node};
use super::Call;
use crate::catalog::browse::{Page, SearchPages};
use crate::catalog::normalize::fold;
use crate::formats::lyrics::Lyrics;
use crate::model::{Origin, Track, TrackId};
use crate::sources::local;

/// How many of a search's songs `getLyrics` looks through for the one named.
const CANDIDATES: u32 = 50;

/// Every set of lyrics a track has (none for remote media or a file gone since the scan).
async fn lyrics_of(call: &Call<'_>, id: &TrackId) -> Result<Vec<Lyrics>, Failure> {
    let Some(Origin::LocalFile { path, .. }) = call.state.catalog.origin(id.clone()).await? else {
        return Ok(Vec::new());
    };
    let roots = call.state.catalog.roots().to_vec();
    let found = tokio::task::spawn_blocking(move || local::lyrics(&path, &roots))
        .await
        .map_err(|e| crate::error::Error::Internal(e.into()))??;
    Ok(found.unwrap_or_default())
}

pub async fn by_song_id(call: &Call<'_>) -> Result<Node, Failure> {
    let raw = call.params.required("id")?;
    let not_found = || Failure::not_found(format!("song {raw:?}"));
    let id = TrackId::parse(raw).map_err(|_| not_found())?;
    let track = call.state.catalog.track(id.clone()).await?.ok_or_else(not_found)?;
    let lyrics = lyrics_of(call, &id).await?;
    let structured = lyrics.iter().map(|l| structured(&track, l)).collect();
    Ok(Node::new().child("lyricsList", Node::new().list("structuredLyrics", structured)))
}

fn structured(track: &Track, lyrics: &Lyrics) -> Node {
    let lines = lyrics
        .lines
        .iter()
        .map(|line| Node::valued(line.value.as_str()).maybe("start", line.start_ms))
        .collect();
    Node::new()
        .maybe("displayArtist", track.artist.as_deref())
        .attr("displayTitle", track.title.as_str())
        .attr("lang", lyrics.lang.as_str())
        .attr("offset", lyrics.offset_ms)
        .attr("synced", lyrics.synced)
        .list("line", lines)
}

/// `getLyrics`: the lyrics of the library song with this title (and artist, if given), as
/// plain text; empty when there is no such song or it has none.
pub async fn by_artist_and_title(call: &Call<'_>) -> Result<Node, Failure> {
    let artist = call.params.get("artist").map(str::trim).filter(|a| !a.is_empty());
    let title = call.params.get("title").map(str::trim).filter(|t| !t.is_empty());
    // Nothing found is an empty `value` (the spec has it required), with what was asked for.
    let empty = Node::new().child("lyrics", Node::valued("").maybe("artist", artist).maybe("title", title));
    let Some(title) = title else {
        return Ok(empty);
    };
    let none = Page { count: 0, offset: 0 };
    let pages = SearchPages {
        artists: none,
        albums: none,
        songs: Page {
            count: CANDIDATES,
            offset: 0,
        },
    };
    let query = format!("{} {title}", artist.unwrap_or(""));
    let found = call.state.catalog.search_library(query, pages).await?;
    let wanted = (artist.map(fold), fold(title));
    let matches = found.songs.iter().filter(|song| {
        let t = &song.track;
        fold(&t.title) == wanted.1
            && wanted
                .0
                .as_ref()
                .is_none_or(|a| t.artist.as_deref().map(fold).as_ref() == Some(a))
    });
    for song in matches {
        if let Some(lyrics) = lyrics_of(call, &song.track.id).await?.first() {
            let node = Node::valued(lyrics.text())
                .maybe("artist", song.track.artist.as_deref())
                .attr("title", song.track.title.as_str());
            return Ok(Node::new().child("lyrics", node));
        }
    }
    Ok(empty)
}
