//! The library's records as Subsonic elements: `Child` (a song), `AlbumID3`, `ArtistID3`,
//! with the OpenSubsonic additions clients read (`mediaType`, `displayArtist`, `genres`, ...).

use std::collections::HashMap;

use super::reply::Node;
use crate::model::{Album, Annotation, Artist, ArtistId, Folder, Genre, Song};

/// OpenSubsonic's `artists` of a song or album: each named artist as an `ArtistID3` stub
/// (`id`, `name`), the one shown (with its entity) when none are listed.
fn artist_stubs(listed: &[String], one: Option<(&str, &str)>) -> Vec<Node> {
    if listed.is_empty() {
        return one
            .map(|(id, name)| Node::new().attr("id", id).attr("name", name))
            .into_iter()
            .collect();
    }
    listed
        .iter()
        .map(|name| {
            Node::new()
                .attr("id", ArtistId::named(name).as_str())
                .attr("name", name.as_str())
        })
        .collect()
}

/// A user's annotations of what an answer shows, by item id.
#[derive(Debug, Default)]
pub struct Marks(pub HashMap<String, Annotation>);

impl Marks {
    /// `node` with what the user marked of `id`: `starred`, `userRating`, and for songs and
    /// albums `playCount` and `played`.
    pub fn on(&self, node: Node, id: &str, plays: bool) -> Node {
        let Some(a) = self.0.get(id) else {
            return if plays { node.attr("playCount", 0u64) } else { node };
        };
        let node = node
            .maybe("starred", a.starred.map(date_time))
            .maybe("userRating", a.rating);
        if plays {
            node.attr("playCount", a.play_count)
                .maybe("played", a.played.map(date_time))
        } else {
            node
        }
    }
}

/// Unix seconds as the ISO 8601 time the schema's `xs:dateTime` wants.
pub fn date_time(unix: u64) -> String {
    chrono::DateTime::from_timestamp(i64::try_from(unix).unwrap_or(0), 0)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The file suffix clients show and name downloads by, from the Content-Type served.
pub fn suffix_of(mime: &str) -> &'static str {
    match mime.split(';').next().unwrap_or("").trim() {
        "audio/mpeg" | "audio/mp3" => "mp3",
        "audio/flac" | "audio/x-flac" => "flac",
        "audio/ogg" | "audio/vorbis" => "ogg",
        "audio/opus" => "opus",
        "audio/mp4" | "audio/x-m4a" | "audio/m4a" => "m4a",
        "audio/aac" | "audio/aacp" => "aac",
        "audio/webm" => "webm",
        "audio/wav" | "audio/x-wav" | "audio/wave" => "wav",
        "audio/aiff" | "audio/x-aiff" => "aiff",
        "audio/x-matroska" => "mka",
        "audio/x-ape" | "audio/ape" => "ape",
        "audio/x-wavpack" | "audio/wavpack" => "wv",
        _ => "bin",
    }
}

/// A song as a `Child`.
pub fn song(song: &Song, marks: &Marks) -> Node {
    let t = &song.track;
    let cover = t.artwork.is_some().then(|| t.id.to_string());
    let artist = t.artist.clone();
    let album_artist = t.album_artist.clone();
    let node = Node::new()
        .attr("id", t.id.as_str())
        .maybe("parent", song.album_id.as_ref().map(|a| a.as_str()))
        .attr("isDir", false)
        .attr("title", &t.title)
        .maybe("album", t.album.as_deref())
        .maybe("artist", artist.as_deref())
        .maybe("track", t.track_number)
        .maybe("year", t.year)
        .maybe("genre", t.genre.as_deref())
        .maybe("coverArt", cover)
        .maybe("size", t.size)
        .maybe("path", song.path.as_deref())
        .attr("contentType", t.mime.as_str())
        .attr("suffix", suffix_of(&t.mime))
        .maybe("duration", t.duration.map(|d| d.round() as u64))
        .maybe("bitRate", t.bitrate)
        .maybe("discNumber", t.disc_number)
        .attr("created", date_time(song.created))
        .maybe("albumId", song.album_id.as_ref().map(|a| a.as_str()))
        .maybe("artistId", song.artist_id.as_ref().map(|a| a.as_str()))
        .attr("type", "music")
        .attr("isVideo", false)
        // OpenSubsonic.
        .attr("mediaType", "song")
        .maybe("samplingRate", t.sample_rate)
        .maybe("channelCount", t.channels)
        .attr("displayArtist", artist.clone().unwrap_or_default())
        .attr("displayAlbumArtist", album_artist.or(artist).unwrap_or_default())
        .list(
            "genres",
            t.genre.iter().map(|g| Node::new().attr("name", g.as_str())).collect(),
        )
        .list(
            "artists",
            artist_stubs(
                &song.artists,
                song.artist_id
                    .as_ref()
                    .zip(t.artist.as_deref())
                    .map(|(id, name)| (id.as_str(), name)),
            ),
        );
    marks.on(node, t.id.as_str(), true)
}

/// An album as an `AlbumID3`.
pub fn album(album: &Album, marks: &Marks) -> Node {
    let node = Node::new()
        .attr("id", album.id.as_str())
        .attr("name", &album.name)
        .attr("artist", &album.artist)
        .attr("artistId", album.artist_id.as_str())
        .maybe("coverArt", album.cover_track.as_ref().map(|_| album.id.as_str()))
        .attr("songCount", album.song_count)
        .attr("duration", album.duration)
        .attr("created", date_time(album.created))
        .maybe("year", album.year)
        .maybe("genre", album.genre.as_deref())
        // OpenSubsonic.
        .attr("displayArtist", &album.artist)
        .list(
            "genres",
            album
                .genre
                .iter()
                .map(|g| Node::new().attr("name", g.as_str()))
                .collect(),
        )
        .list(
            "artists",
            artist_stubs(&album.artists, Some((album.artist_id.as_str(), &album.artist))),
        );
    marks.on(node, album.id.as_str(), true)
}

/// An album as a directory `Child` (`getAlbumList`, `search2`: the folder-style answers), with
/// the `AlbumID3` fields the spec's own `getAlbumList` example carries (`name`, `songCount`),
/// which clients that read both styles with one model need.
pub fn album_child(album: &Album, marks: &Marks) -> Node {
    let node = Node::new()
        .attr("id", album.id.as_str())
        .attr("parent", album.artist_id.as_str())
        .attr("isDir", true)
        .attr("title", &album.name)
        .attr("name", &album.name)
        .attr("songCount", album.song_count)
        .attr("album", &album.name)
        .attr("artist", &album.artist)
        .maybe("year", album.year)
        .maybe("genre", album.genre.as_deref())
        .maybe("coverArt", album.cover_track.as_ref().map(|_| album.id.as_str()))
        .attr("duration", album.duration)
        .attr("created", date_time(album.created))
        .attr("albumId", album.id.as_str())
        .attr("artistId", album.artist_id.as_str())
        .attr("mediaType", "album");
    marks.on(node, album.id.as_str(), true)
}

/// A folder as a directory `Child` (`getMusicDirectory`).
pub fn folder_child(folder: &Folder, marks: &Marks) -> Node {
    let node = Node::new()
        .attr("id", folder.id.as_str())
        .maybe("parent", folder.parent.as_ref().map(|p| p.as_str()))
        .attr("isDir", true)
        .attr("title", &folder.name)
        .maybe("coverArt", folder.cover_track.as_ref().map(|t| t.as_str()));
    marks.on(node, folder.id.as_str(), true)
}

/// A folder as an `Artist` of `getIndexes` (the folders at the top of a library folder).
pub fn folder_artist(folder: &Folder, marks: &Marks) -> Node {
    let node = Node::new()
        .attr("id", folder.id.as_str())
        .attr("name", &folder.name)
        .maybe("coverArt", folder.cover_track.as_ref().map(|t| t.as_str()));
    marks.on(node, folder.id.as_str(), false)
}

/// An artist as an `ArtistID3`.
pub fn artist(artist: &Artist, marks: &Marks) -> Node {
    let node = Node::new()
        .attr("id", artist.id.as_str())
        .attr("name", &artist.name)
        .maybe("coverArt", artist.cover_album.as_ref().map(|_| artist.id.as_str()))
        .attr("albumCount", artist.album_count);
    marks.on(node, artist.id.as_str(), false)
}

pub fn genre(genre: &Genre) -> Node {
    Node::text(genre.name.as_str())
        .attr("songCount", genre.song_count)
        .attr("albumCount", genre.album_count)
}

/// `index` elements (`getArtists`, `getIndexes`): each item under the letter its name files
/// under, the letters in order.
pub fn indexed<'a>(items: impl IntoIterator<Item = (&'a str, Node)>) -> Vec<Node> {
    let mut index: std::collections::BTreeMap<String, Vec<Node>> = std::collections::BTreeMap::new();
    for (name, node) in items {
        index.entry(index_letter(name)).or_default().push(node);
    }
    index
        .into_iter()
        .map(|(letter, artists)| Node::new().attr("name", letter).list("artist", artists))
        .collect()
}

/// The articles `getArtists` and `getIndexes` file names without ("The Beatles" under B).
pub const IGNORED_ARTICLES: &str = "The El La Los Las Le Les";

/// The index letter a name files under: its first letter after an ignored article,
/// uppercased; `#` for what starts with anything else.
pub fn index_letter(name: &str) -> String {
    let mut rest = name.trim();
    for article in IGNORED_ARTICLES.split(' ') {
        if let Some(after) = rest.strip_prefix(article).and_then(|r| r.strip_prefix(' ')) {
            rest = after.trim_start();
            break;
        }
    }
    match rest.chars().next() {
        Some(c) if c.is_alphabetic() => c.to_uppercase().collect(),
        _ => "#".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_file_under_their_first_letter_past_an_article() {
        assert_eq!(index_letter("The Beatles"), "B");
        assert_eq!(index_letter("beck"), "B");
        assert_eq!(index_letter("Theory"), "T");
        assert_eq!(index_letter("Los Lobos"), "L");
        assert_eq!(index_letter("ørjan"), "Ø");
        assert_eq!(index_letter("2Pac"), "#");
        assert_eq!(index_letter(""), "#");
        assert_eq!(index_letter("The"), "T");
    }

    #[test]
    fn dates_are_iso_8601_and_suffixes_follow_the_type() {
        assert_eq!(date_time(0), "1970-01-01T00:00:00Z");
        assert_eq!(date_time(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(suffix_of("audio/mpeg"), "mp3");
        assert_eq!(suffix_of("audio/webm; codecs=opus"), "webm");
    }
}
