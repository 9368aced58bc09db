//! Writing a track: the one upsert that scans and imports share.

use rusqlite::{params, Connection};

use super::text_index;
use crate::model::{ArtistId, FolderId, SourceKind, TrackId, TrackInfo, UNKNOWN_ARTIST};

/// A track as it is written: a library file (`path`) or remote media (`url`).
pub struct NewTrack<'a> {
    pub id: &'a TrackId,
    pub source: SourceKind,
    pub path: Option<&'a str>,
    pub url: Option<&'a str>,
    pub title: &'a str,
    pub info: &'a TrackInfo,
    pub mime: &'a str,
    pub size: Option<u64>,
    pub mtime_ns: Option<i64>,
    pub artwork: Option<&'a str>,
    /// Library files: the tags hold a picture.
    pub picture: bool,
    /// Library files: a cover image lies beside.
    pub folder_cover: bool,
}

/// Names as the catalog keeps a list of them (a JSON array, which SQLite's `json_each`
/// reads); None for fewer than two, where the one name column says it all.
fn name_list(names: &[String]) -> Option<String> {
    (names.len() > 1).then(|| serde_json::to_string(names).expect("strings serialise"))
}

/// Inserts the track or updates what it says of itself (its id, source, place and time of
/// adding stay); a size it does not know keeps the one learnt before. Keeps the full-text
/// index in step through `index`. Files it under its folder and artist; its album is left to
/// the derived rebuild (`entities`), which files the tracks without one.
pub fn upsert(conn: &Connection, index: &mut text_index::Pending, t: &NewTrack<'_>, now: i64) -> anyhow::Result<()> {
    let mut upsert = conn.prepare_cached(
        "INSERT INTO tracks (id, source, path, url, title, artist, album, album_artist, track_no, disc_no, year, genre,
                             duration_ms, codec, mime, bitrate, sample_rate, channels, file_size, mtime_ns, added_at,
                             artwork, picture, folder_cover, artists, album_artists, folder_id, artist_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24,
                 ?25, ?26, ?27, ?28)
         ON CONFLICT(id) DO UPDATE SET
             title = excluded.title, artist = excluded.artist, album = excluded.album,
             album_artist = excluded.album_artist, track_no = excluded.track_no, disc_no = excluded.disc_no,
             year = excluded.year, genre = excluded.genre, duration_ms = excluded.duration_ms,
             codec = excluded.codec, mime = excluded.mime, bitrate = excluded.bitrate,
             sample_rate = excluded.sample_rate, channels = excluded.channels,
             file_size = coalesce(excluded.file_size, file_size), mtime_ns = excluded.mtime_ns,
             artwork = excluded.artwork, picture = excluded.picture, folder_cover = excluded.folder_cover,
             artists = excluded.artists, album_artists = excluded.album_artists, folder_id = excluded.folder_id,
             artist_id = excluded.artist_id, album_id = NULL
         RETURNING rowid",
    )?;
    let i = t.info;
    let codec = (!i.codec.is_empty() && i.codec != "unknown").then_some(i.codec);
    let values = params![
        t.id.as_str(),
        t.source.as_str(),
        t.path,
        t.url,
        t.title,
        i.artist,
        i.album,
        i.album_artist,
        i.track_no,
        i.disc_no,
        i.year,
        i.genre,
        i.duration_ms,
        codec,
        t.mime,
        i.bitrate,
        i.sample_rate,
        i.channels,
        // A size no file has (an origin may claim any) is stored as unknown.
        t.size.and_then(|s| i64::try_from(s).ok()),
        t.mtime_ns,
        now,
        t.artwork,
        t.picture,
        t.folder_cover,
        name_list(&i.artists),
        name_list(&i.album_artists),
        t.path.map(|path| FolderId::holding(path).to_string()),
        // Its artist entity: its first listed artist's, else its one artist's. Its album is
        // filed by the derived rebuild (it depends on the other tracks of the folder).
        ArtistId::named(
            i.artists
                .first()
                .or(i.artist.as_ref())
                .map_or(UNKNOWN_ARTIST, String::as_str)
        )
        .to_string(),
    ];
    index.write_track(conn, t.id.as_str(), || upsert.query_row(values, |r| r.get(0)))?;
    Ok(())
}
