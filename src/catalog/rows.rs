//! Reading the model's records out of catalog rows.

use rusqlite::Row;

use crate::model::{PlaylistId, PlaylistKind, PlaylistSummary, SourceKind, Track, TrackId};

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
