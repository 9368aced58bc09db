//! Resolution: from a track id (and the client's preferred audio variant) to something
//! playable, through the track's source.
//!
//! Remote resolutions are slow (a network probe; a yt-dlp run), so they are cached until
//! shortly before they expire, in memory and in the catalog (a restart keeps warm entries), and
//! concurrent requests for one track share one resolution (single-flight). Failures are not
//! cached. Library files are re-checked at every play (cheap, and a file may have moved).

mod cache;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use cache::SingleFlightCache;

use crate::catalog::Catalog;
use crate::error::Error;
use crate::model::{Origin, TrackId, Variant};
use crate::sources::local::LocalSource;
use crate::sources::remote::RemoteSource;
use crate::sources::youtube::YouTubeSource;
use crate::upstream::Locator;

/// What `/stream/<token>` plays.
#[derive(Debug, Clone)]
pub enum Playable {
    LocalFile { path: std::path::PathBuf, mime: String },
    Remote(Arc<Locator>),
}

/// Resolutions are dropped this long before their URL expires, so a stream never starts on a
/// URL about to die.
const EXPIRY_MARGIN: Duration = Duration::from_secs(60);

#[derive(Clone)]
pub struct Resolver {
    inner: Arc<Inner>,
}

struct Inner {
    catalog: Catalog,
    local: LocalSource,
    remote: RemoteSource,
    youtube: Option<Arc<YouTubeSource>>,
    cache: SingleFlightCache<String, Arc<Locator>>,
}

/// A track whose bytes are elsewhere, and what resolves it.
enum Remote<'a> {
    Http { url: String, mime: String },
    YtDlp { url: String, source: &'a YouTubeSource },
}

/// Sources with several formats cache one resolution per variant. The id tells (yt-dlp ids
/// name their source), so that a cached play needs no catalog read.
fn cache_key(track_id: &TrackId, variant: Variant) -> String {
    if track_id.scheme_source().is_some_and(|s| s.has_formats()) {
        format!("{track_id}~{variant}")
    } else {
        track_id.to_string()
    }
}

impl Resolver {
    pub fn new(catalog: Catalog, remote: RemoteSource, youtube: Option<Arc<YouTubeSource>>) -> Self {
        let local = LocalSource::new(Arc::new(catalog.roots().to_vec()));
        Resolver {
            inner: Arc::new(Inner {
                catalog,
                local,
                remote,
                youtube,
                cache: SingleFlightCache::default(),
            }),
        }
    }

    /// Where a track's bytes are: the catalog's word, or for a YouTube id not in the catalog
    /// (a search result, a shared link), its watch page.
    async fn origin(&self, track_id: &TrackId) -> Result<Origin, Error> {
        if let Some(origin) = self.inner.catalog.origin(track_id.clone()).await? {
            return Ok(origin);
        }
        match track_id.youtube_url() {
            Some(url) if self.inner.youtube.is_some() => Ok(Origin::YtDlp { url }),
            _ => Err(Error::TrackNotFound(track_id.to_string())),
        }
    }

    pub async fn resolve(&self, track_id: &TrackId, variant: Variant) -> Result<Playable, Error> {
        self.resolve_pinned(track_id, variant, None).await
    }

    /// As [`Resolver::resolve`]; with `pin`, the source's format of that id rather than the
    /// best one for `variant` (the resolution still replaces the variant's cached one).
    async fn resolve_pinned(&self, track_id: &TrackId, variant: Variant, pin: Option<&str>) -> Result<Playable, Error> {
        let key = cache_key(track_id, variant);
        // The hot path of a remote play: a cached resolution needs no catalog read.
        if let Some(locator) = self.inner.cache.get(&key, SystemTime::now()) {
            return Ok(Playable::Remote(locator));
        }
        let remote = match self.origin(track_id).await? {
            Origin::LocalFile { path, mime } => {
                // Checked at every play: cheap, and a file may have moved.
                let path = self.inner.local.resolve(track_id, &path).await?;
                return Ok(Playable::LocalFile { path, mime });
            }
            Origin::Http { url, mime } => Remote::Http { url, mime },
            Origin::YtDlp { url } => Remote::YtDlp {
                url,
                source: self.inner.youtube.as_deref().ok_or_else(Error::youtube_off)?,
            },
        };
        let catalog = &self.inner.catalog;
        let locator = self
            .inner
            .cache
            .get_or_try_insert(key.clone(), SystemTime::now(), || async {
                if let Some((record, until)) = catalog.stored_resolution(key.clone()).await? {
                    if let Some(locator) = Locator::from_record(&record) {
                        return Ok::<_, Error>((Arc::new(locator), Some(until)));
                    }
                }
                let locator = match &remote {
                    Remote::Http { url, mime } => self.inner.remote.resolve(url, mime).await?,
                    Remote::YtDlp { url, source } => {
                        YouTubeSource::usable(Some(source))
                            .await?
                            .resolve(track_id, url, variant, pin)
                            .await?
                    }
                };
                let until = locator.expires_at.map(|t| t - EXPIRY_MARGIN);
                if let Some(until) = until {
                    if let Err(error) = catalog.store_resolution(key.clone(), locator.to_record(), until).await {
                        tracing::warn!(error = ?error, "could not keep a resolution");
                    }
                }
                Ok((Arc::new(locator), until))
            })
            .await?;
        Ok(Playable::Remote(locator))
    }

    /// A fresh resolution of a remote track, for the proxy after a 403/410: the cached one
    /// (memory and catalog) is dropped first. `pin` keeps the format the stream was playing.
    pub async fn reresolve(
        &self,
        track_id: &TrackId,
        variant: Variant,
        pin: Option<&str>,
    ) -> Result<Arc<Locator>, Error> {
        let key = cache_key(track_id, variant);
        self.inner.cache.remove(&key);
        self.inner.catalog.forget_resolution(key).await?;
        match self.resolve_pinned(track_id, variant, pin).await? {
            Playable::Remote(locator) => Ok(locator),
            // The track is a library file now: the remote bytes a stream was playing are gone.
            Playable::LocalFile { .. } => Err(Error::MediaGone(track_id.to_string())),
        }
    }

    /// Resolves `track_ids` in the background (the next tracks of a queue), so that their
    /// stream_url answers at once. Failures are left for the real request to report.
    pub fn prefetch(&self, track_ids: Vec<TrackId>, variant: Variant) {
        let resolver = self.clone();
        tokio::spawn(async move {
            for id in track_ids {
                if let Err(error) = resolver.resolve(&id, variant).await {
                    tracing::debug!(track = %id, %error, "prefetch failed");
                }
            }
        });
    }
}
