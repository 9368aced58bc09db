//! Adding remote media to the catalog: the sources read what a URL holds (`sources::listing`
//! for media, M3U/PLS and feeds; yt-dlp for its sites), the catalog stores it in one
//! transaction (all of it, or nothing). Also reading an imported playlist again.
//!
//! Same layer as `resolve`: it uses the sources and the catalog, and the API calls it.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use utoipa::ToSchema;

use crate::catalog::Catalog;
use crate::error::Error;
use crate::model::{Import, NewPlaylist, PlaylistId, PlaylistKind, PlaylistSummary, SkippedEntry, Track};
use crate::sources::listing;
use crate::sources::youtube::YouTubeSource;
use crate::upstream::{without_password, ControlClient};

/// Entries read from one yt-dlp playlist at most.
const MAX_ENTRIES: usize = 500;

/// What an import added.
#[derive(Debug, Serialize, ToSchema)]
pub struct AddedSource {
    /// The tracks added (or refreshed), searchable and playable like library tracks.
    pub tracks: Vec<Track>,
    /// For a playlist or a feed, the playlist holding its entries.
    pub playlist: Option<PlaylistSummary>,
    /// Entries that could not be added.
    pub skipped: Vec<SkippedEntry>,
}

/// Cheap to clone.
#[derive(Clone)]
pub struct Importer {
    catalog: Catalog,
    http: ControlClient,
    timeout: Duration,
    youtube: Option<Arc<YouTubeSource>>,
}

impl Importer {
    pub fn new(catalog: Catalog, http: ControlClient, timeout: Duration, youtube: Option<Arc<YouTubeSource>>) -> Self {
        Importer {
            catalog,
            http,
            timeout,
            youtube,
        }
    }

    /// Adds a direct media URL, an M3U/PLS playlist or a podcast feed.
    pub async fn add_url(&self, url: &str) -> Result<AddedSource, Error> {
        let imported = listing::read(&self.http, url, self.timeout).await?;
        self.store(imported).await
    }

    /// Lists `url` with yt-dlp and stores its entries (and, for a playlist, the playlist);
    /// `require_playlist` refuses a page that is not one.
    pub async fn add_ytdlp(&self, url: &str, require_playlist: bool) -> Result<AddedSource, Error> {
        let source = YouTubeSource::usable(self.youtube.as_deref()).await?;
        let (listing, tracks) = source.list(url, MAX_ENTRIES, require_playlist).await?;
        if require_playlist && !listing.is_playlist {
            return Err(Error::Unsupported(format!(
                "{} is not a playlist",
                without_password(url)
            )));
        }
        if tracks.is_empty() {
            return Err(Error::Unsupported(format!(
                "{} lists nothing to play",
                without_password(url)
            )));
        }
        let playlist = listing.is_playlist.then(|| NewPlaylist {
            kind: PlaylistKind::YouTube,
            name: listing.title.clone().unwrap_or_else(|| url.to_owned()),
            url: url.to_owned(),
        });
        let skipped = listing
            .skipped
            .into_iter()
            .map(|(location, reason)| SkippedEntry { location, reason })
            .collect();
        self.store(Import {
            tracks,
            playlist,
            skipped,
        })
        .await
    }

    /// Reads an imported playlist (yt-dlp, M3U/PLS by URL, podcast feed) again from its source.
    pub async fn refresh(&self, id: &PlaylistId) -> Result<AddedSource, Error> {
        let (kind, url) = self
            .catalog
            .playlist_source(id.clone())
            .await?
            .ok_or_else(|| Error::PlaylistNotFound(id.to_string()))?;
        let Some(url) = url else {
            return Err(Error::Unsupported(format!("playlist {id} is not imported from a URL")));
        };
        match kind {
            PlaylistKind::YouTube => self.add_ytdlp(&url, true).await,
            _ => self.add_url(&url).await,
        }
    }

    async fn store(&self, mut import: Import) -> Result<AddedSource, Error> {
        let skipped = std::mem::take(&mut import.skipped);
        let (tracks, playlist) = self.catalog.add_remote(import).await?;
        Ok(AddedSource {
            tracks,
            playlist,
            skipped,
        })
    }
}
