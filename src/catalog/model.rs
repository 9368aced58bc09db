//! The catalog's records as the API shows them.

use rusqlite::Row;
use serde::Serialize;
use utoipa::ToSchema;

/// A playable track. File paths are never shown to clients.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct Track {
    pub id: String,
    /// Where the media comes from: `local` (the library), `http` (remote media), `youtube`, or
    /// `ytdlp` (another site yt-dlp supports).
    pub source: String,
    pub title: String,
    pub artist: Option<String>,
    pub album: Option<String>,
    pub album_artist: Option<String>,
    pub track_number: Option<u32>,
    pub disc_number: Option<u32>,
    pub year: Option<u32>,
    pub genre: Option<String>,
    /// Duration in seconds.
    pub duration: Option<f64>,
    /// Container/codec family: `flac`, `mp3`, `opus`, `vorbis`, `aac`, ...
    pub codec: Option<String>,
    /// The Content-Type the stream is served with.
    pub mime: String,
    /// Audio bitrate, kbit/s.
    pub bitrate: Option<u32>,
    pub sample_rate: Option<u32>,
    pub channels: Option<u8>,
    /// Size in bytes (null for remote media not yet played).
    pub size: Option<u64>,
    /// An image URL for the track (remote sources' thumbnails).
    pub artwork: Option<String>,
    /// `live` (a live stream: not playable) or `upcoming` (a premiere or scheduled live event);
    /// null for media that can be played. Set on YouTube search results.
    pub live: Option<Live>,
    /// For `upcoming`: when it is scheduled to start (unix seconds), if known.
    pub starts_at: Option<u64>,
}

/// Why a track cannot be played yet or at all, though it exists.
#[derive(Debug, Clone, Copy, Serialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Live {
    /// Being streamed live now.
    Live,
    /// A premiere or a scheduled live stream.
    Upcoming,
}

/// The columns [`Track::from_row`] reads, in order; prefix with a table alias where needed.
pub const TRACK_COLUMNS: &str = "id, source, title, artist, album, album_artist, track_no, disc_no, year, genre, \
     duration_ms, codec, mime, bitrate, sample_rate, channels, file_size, artwork";

impl Track {
    pub fn from_row(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Track {
            id: row.get(0)?,
            source: row.get(1)?,
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
            size: row.get::<_, Option<i64>>(16)?.map(|n| n as u64),
            artwork: row.get(17)?,
            live: None,
            starts_at: None,
        })
    }
}

/// A playlist as listed (without its tracks).
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct PlaylistSummary {
    pub id: String,
    /// `recent`, `mix`, `album`, `artist`, `genre`, `m3u` (a file in the library), `remote` (an
    /// M3U/PLS playlist added by URL) or `feed` (a podcast).
    pub kind: String,
    pub name: String,
    /// For albums, the album artist.
    pub subtitle: Option<String>,
    pub track_count: u64,
}

/// A playlist with its tracks.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Playlist {
    #[serde(flatten)]
    pub summary: PlaylistSummary,
    pub tracks: Vec<Track>,
}

/// One autocomplete suggestion.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct Suggestion {
    pub text: String,
    /// `artist`, `album`, `track`, `genre`, or `youtube` (a completion from YouTube).
    pub kind: String,
}
