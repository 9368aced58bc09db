//! What an import adds to the catalog: remote tracks, perhaps the playlist they came in, and
//! the entries left out.

use serde::Serialize;
use utoipa::ToSchema;

use super::{PlaylistKind, SourceKind, TrackId, TrackInfo};

/// A track to add, from a URL.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRemoteTrack {
    /// Http, YouTube or YtDlp.
    pub source: SourceKind,
    /// The track id, if the source has its own (`yt-<video id>`); else one is made from the URL.
    pub id: Option<TrackId>,
    pub url: String,
    pub title: String,
    pub info: TrackInfo,
    pub mime: String,
    pub size: Option<u64>,
    pub artwork: Option<String>,
}

impl NewRemoteTrack {
    pub fn id(&self) -> TrackId {
        self.id
            .clone()
            .unwrap_or_else(|| TrackId::stable(self.source, &self.url))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewPlaylist {
    /// Remote (M3U/PLS), Feed or YouTube (a yt-dlp playlist).
    pub kind: PlaylistKind,
    pub name: String,
    pub url: String,
}

/// An entry that could not be added, and why.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct SkippedEntry {
    pub location: String,
    pub reason: String,
}

#[derive(Debug, Clone, Default)]
pub struct Import {
    pub tracks: Vec<NewRemoteTrack>,
    pub playlist: Option<NewPlaylist>,
    pub skipped: Vec<SkippedEntry>,
}
