//! Tracks, playlists and suggestions as the API shows them, and where a track's bytes are.

use std::path::PathBuf;

use serde::Serialize;
use utoipa::ToSchema;

use super::{PlaylistId, PlaylistKind, SourceKind, SuggestionKind, TrackId};

/// A playable track. File paths are never shown to clients.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct Track {
    pub id: TrackId,
    /// Where the media comes from: `local` (the library), `http` (remote media), `youtube`, or
    /// `ytdlp` (another site yt-dlp supports).
    pub source: SourceKind,
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
    /// The track's cover, when it has one: `/api/v1/tracks/{id}/artwork` for a library file
    /// (its embedded picture or a cover image beside it), a remote source's thumbnail URL
    /// otherwise; null when there is none.
    pub artwork: Option<String>,
    /// `live` (a live stream: not playable) or `upcoming` (a premiere or scheduled live event);
    /// null for media that can be played. Set on YouTube search results.
    pub live: Option<Live>,
    /// For `upcoming`: when it is scheduled to start (unix seconds), if known.
    pub starts_at: Option<u64>,
}

impl Track {
    /// Where the API serves a library track's cover.
    pub fn artwork_route(id: &TrackId) -> String {
        format!("/api/v1/tracks/{id}/artwork")
    }
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

/// What the catalog stores of a file's tags and properties (read by `formats::tags`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrackInfo {
    pub title: Option<String>,
    pub artist: Option<String>,
    pub album: Option<String>,
    pub album_artist: Option<String>,
    pub track_no: Option<u32>,
    pub disc_no: Option<u32>,
    pub year: Option<u32>,
    pub genre: Option<String>,
    pub duration_ms: Option<i64>,
    pub codec: &'static str,
    pub mime: &'static str,
    pub bitrate: Option<u32>,
    pub sample_rate: Option<u32>,
    pub channels: Option<u8>,
    /// The file's tags hold a picture.
    pub has_picture: bool,
    /// Each artist, when the tags name more than one (several `ARTIST` fields, an ID3v2.4
    /// list, or an `ARTISTS` tag); empty when `artist` is the one.
    pub artists: Vec<String>,
    /// Each album artist, likewise.
    pub album_artists: Vec<String>,
}

/// A duration given in seconds by a file, a playlist, a feed or yt-dlp, as the catalog's
/// milliseconds; None for what no track can last (negative, not a number, beyond ~292 million
/// years), rather than an overflow.
pub fn duration_ms(seconds: f64) -> Option<i64> {
    let ms = seconds * 1000.0;
    (ms.is_finite() && ms >= 0.0 && ms < i64::MAX as f64).then(|| ms.round() as i64)
}

/// As [`duration_ms`], for whole seconds.
pub fn duration_ms_of_secs(seconds: u64) -> Option<i64> {
    i64::try_from(seconds).ok()?.checked_mul(1000)
}

/// Where a track's bytes are: what the catalog keeps for the sources.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    LocalFile {
        path: PathBuf,
        mime: String,
    },
    Http {
        url: String,
        mime: String,
    },
    /// A page yt-dlp understands (a YouTube watch URL, a SoundCloud track, ...).
    YtDlp {
        url: String,
    },
}

/// A playlist as listed (without its tracks).
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct PlaylistSummary {
    pub id: PlaylistId,
    /// `recent`, `mix`, `album`, `artist`, `genre`, `m3u` (a file in the library), `remote` (an
    /// M3U/PLS playlist added by URL), `feed` (a podcast) or `youtube` (read by yt-dlp).
    pub kind: PlaylistKind,
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
    pub kind: SuggestionKind,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn durations_in_range_convert_and_others_are_none() {
        assert_eq!(duration_ms(61.5), Some(61_500));
        assert_eq!(duration_ms_of_secs(61), Some(61_000));
        for bad in [-1.0, f64::NAN, f64::INFINITY, 1e300] {
            assert_eq!(duration_ms(bad), None, "{bad}");
        }
        assert_eq!(duration_ms_of_secs(u64::MAX), None);
        assert_eq!(duration_ms_of_secs(100_000_000_000_000_000), None);
    }

    proptest! {
        #[test]
        fn no_duration_panics(secs in any::<u64>(), f in any::<f64>()) {
            if let Some(ms) = duration_ms_of_secs(secs) { prop_assert!(ms >= 0); }
            if let Some(ms) = duration_ms(f) { prop_assert!(ms >= 0); }
        }
    }
}
