//! Reading the model's records out of catalog rows.

use rusqlite::Row;

use crate::model::{
    Album, AlbumId, Artist, ArtistId, Folder, FolderId, PlaylistId, PlaylistKind, PlaylistSummary, Song, SourceKind,
    Track, TrackId,
};

/// The columns [`track`] reads, in order; prefix with a table alias where needed.
pub const TRACK_COLUMNS: &str = "id, source, title, artist, album, album_artist, track_no, disc_no, year, genre, \
     duration_ms, codec, mime, bitrate, sample_rate, channels, file_size, artwork, picture, folder_cover";

/// A text column that must hold one of an enum's names (the catalog writes only those).
fn named<T>(row: &Row<'_>, index: usize, parse: fn(&str) -> Option<T>) -> rusqlite::Result<T> {
    let text: String = row.get(index)?;
    parse(&text).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            index,
            rusqlite::types::Type::Text,
            format!("unknown name {text:?}").into(),
        )
    })
}

/// A track from a row of [`TRACK_COLUMNS`].
pub fn track(row: &Row<'_>) -> rusqlite::Result<Track> {
    let id = TrackId::from_trusted(row.get(0)?);
    let source = named(row, 1, SourceKind::parse)?;
    // A remote track's artwork is its thumbnail; a library file's, its cover if it has one.
    let has_cover = source == SourceKind::Local && (row.get::<_, bool>(18)? || row.get::<_, bool>(19)?);
    let artwork: Option<String> = row.get(17)?;
    Ok(Track {
        artwork: artwork.or_else(|| has_cover.then(|| Track::artwork_route(&id))),
        id,
        source,
        title: row.get(2)?,
        artist: row.get(3)?,
        album: row.get(4)?,
        album_artist: row.get(5)?,
        track_number: row.get(6)?,
        disc_number: row.get(7)?,
        year: row.get(8)?,
        genre: row.get(9)?,
        duration: row.get::<_, Option<i64>>(10)?.map(|ms| ms as f64 / 1000.0),
        codec: row.get(11)?,
        mime: row.get(12)?,
        bitrate: row.get(13)?,
        sample_rate: row.get(14)?,
        channels: row.get(15)?,
        size: row.get::<_, Option<i64>>(16)?.and_then(|n| u64::try_from(n).ok()),
        live: None,
        starts_at: None,
    })
}

/// The columns [`playlist_summary`] reads, in order.
pub const PLAYLIST_COLUMNS: &str = "id, kind, name, subtitle, track_count";

pub fn playlist_summary(row: &Row<'_>) -> rusqlite::Result<PlaylistSummary> {
    Ok(PlaylistSummary {
        id: PlaylistId::from_trusted(row.get(0)?),
        kind: named(row, 1, PlaylistKind::parse)?,
        name: row.get(2)?,
        subtitle: row.get(3)?,
        track_count: row.get::<_, i64>(4)? as u64,
    })
}

/// The columns [`song`] reads: [`TRACK_COLUMNS`], then the track's place in the library.
pub fn song_columns(alias: &str) -> String {
    let place = ["album_id", "artist_id", "added_at", "path", "folder_id", "artists"];
    TRACK_COLUMNS
        .split(", ")
        .chain(place)
        .map(|c| format!("{alias}.{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A song from a row of [`song_columns`]; `roots` are the library folders, whose order
/// numbers the music folders.
pub fn song(row: &Row<'_>, roots: &[std::path::PathBuf]) -> rusqlite::Result<Song> {
    let path: Option<String> = row.get(23)?;
    let place = path.as_deref().and_then(|path| {
        let path = std::path::Path::new(path);
        let (position, root) = roots.iter().enumerate().find(|(_, root)| path.starts_with(root))?;
        let inside = path.strip_prefix(root).ok()?.to_string_lossy().into_owned();
        Some((u32::try_from(position + 1).ok()?, inside))
    });
    let (music_folder, path) = place.unzip();
    Ok(Song {
        track: track(row)?,
        album_id: row.get::<_, Option<String>>(20)?.map(AlbumId::from_trusted),
        artist_id: row.get::<_, Option<String>>(21)?.map(ArtistId::from_trusted),
        created: row.get::<_, i64>(22)?.max(0) as u64,
        music_folder,
        path,
        folder_id: row.get::<_, Option<String>>(24)?.map(FolderId::from_trusted),
        artists: names(row, 25)?,
    })
}

/// The columns [`folder`] reads.
pub const FOLDER_COLUMNS: &str = "id, name, path, parent_id, cover_track";

pub fn folder(row: &Row<'_>) -> rusqlite::Result<Folder> {
    Ok(Folder {
        id: FolderId::from_trusted(row.get(0)?),
        name: row.get(1)?,
        path: row.get(2)?,
        parent: row.get::<_, Option<String>>(3)?.map(FolderId::from_trusted),
        cover_track: row.get::<_, Option<String>>(4)?.map(TrackId::from_trusted),
    })
}

/// The columns [`album`] reads.
pub const ALBUM_COLUMNS: &str =
    "id, name, artist, artist_id, year, genre, song_count, duration_ms, created_at, cover_track, artists";

/// A list of names the catalog keeps as a JSON array (NULL: none listed).
fn names(row: &Row<'_>, index: usize) -> rusqlite::Result<Vec<String>> {
    let Some(text) = row.get::<_, Option<String>>(index)? else {
        return Ok(Vec::new());
    };
    serde_json::from_str(&text)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(index, rusqlite::types::Type::Text, e.into()))
}

pub fn album(row: &Row<'_>) -> rusqlite::Result<Album> {
    Ok(Album {
        id: AlbumId::from_trusted(row.get(0)?),
        name: row.get(1)?,
        artist: row.get(2)?,
        artist_id: ArtistId::from_trusted(row.get(3)?),
        year: row.get(4)?,
        genre: row.get(5)?,
        song_count: row.get(6)?,
        duration: (row.get::<_, i64>(7)?.max(0) as u64).div_ceil(1000),
        created: row.get::<_, i64>(8)?.max(0) as u64,
        cover_track: row.get::<_, Option<String>>(9)?.map(TrackId::from_trusted),
        artists: names(row, 10)?,
    })
}

/// The columns [`artist`] reads.
pub const ARTIST_COLUMNS: &str = "id, name, album_count, cover_album";

pub fn artist(row: &Row<'_>) -> rusqlite::Result<Artist> {
    Ok(Artist {
        id: ArtistId::from_trusted(row.get(0)?),
        name: row.get(1)?,
        album_count: row.get(2)?,
        cover_album: row.get::<_, Option<String>>(3)?.map(AlbumId::from_trusted),
    })
}
