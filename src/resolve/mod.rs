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
use crate::sources::http::HttpSource;
use crate::sources::local::LocalSource;
use crate::sources::youtube::YouTubeSource;
use crate::sources::ytdlp::youtube_url;
use crate::sources::{Locator, Origin, Playable, Source, Variant};

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
    http: HttpSource,
    youtube: Option<Arc<YouTubeSource>>,
    cache: SingleFlightCache<String, Arc<Locator>>,
}

/// Sources with several formats cache one resolution per variant.
fn cache_key(track_id: &str, variant: Variant) -> String {
    if track_id.starts_with("yt-") || track_id.starts_with("x-") {
        format!("{track_id}~{}", variant.as_str())
    } else {
        track_id.to_owned()
    }
}

impl Resolver {
    pub fn new(catalog: Catalog, http: HttpSource, youtube: Option<Arc<YouTubeSource>>) -> Self {
        let local = LocalSource::new(Arc::new(catalog.roots().to_vec()));
        Resolver {
            inner: Arc::new(Inner {
                catalog,
                local,
                http,
                youtube,
                cache: SingleFlightCache::default(),
            }),
        }
    }

    /// Where a track's bytes are: the catalog's word, or for a YouTube id not in the catalog
    /// (a search result), its watch page.
    async fn origin(&self, track_id: &str) -> Result<Origin, Error> {
        if let Some(origin) = self.inner.catalog.origin(track_id.to_owned()).await? {
            return Ok(origin);
        }
        match youtube_url(track_id) {
            Some(url) if self.inner.youtube.is_some() => Ok(Origin::YtDlp { url }),
            _ => Err(Error::TrackNotFound(track_id.to_owned())),
        }
    }

    pub async fn resolve(&self, track_id: &str, variant: Variant) -> Result<Playable, Error> {
        self.resolve_pinned(track_id, variant, None).await
    }

    /// As [`Resolver::resolve`]; with `pin`, the source's format of that id rather than the
    /// best one for `variant` (the resolution still replaces the variant's cached one).
    async fn resolve_pinned(&self, track_id: &str, variant: Variant, pin: Option<&str>) -> Result<Playable, Error> {
        let key = cache_key(track_id, variant);
        // The hot path of a remote play: a cached resolution needs no catalog read.
        if let Some(locator) = self.inner.cache.get(&key, SystemTime::now()) {
            return Ok(Playable::Remote(locator));
        }
        let origin = self.origin(track_id).await?;
        let source: &dyn Source = match &origin {
            Origin::LocalFile { .. } => return self.inner.local.resolve(track_id, &origin, variant, None).await,
            Origin::Http { .. } => &self.inner.http,
            Origin::YtDlp { .. } => match &self.inner.youtube {
                Some(youtube) => youtube.as_ref(),
                None => {
                    return Err(Error::SourceUnavailable(
                        "the YouTube source is not enabled (start with --youtube)".into(),
                    ))
                }
            },
        };
        let catalog = &self.inner.catalog;
        let locator = self
            .inner
            .cache
            .get_or_try_insert(key.clone(), SystemTime::now(), || async {
                if let Some((locator, until)) = catalog.stored_resolution(key.clone()).await? {
                    return Ok((Arc::new(locator), Some(until)));
                }
                let Playable::Remote(locator) = source.resolve(track_id, &origin, variant, pin).await? else {
                    return Err(Error::Internal(anyhow::anyhow!("a remote source resolved to a file")));
                };
                let until = locator.expires_at.map(|t| t - EXPIRY_MARGIN);
                if let Some(until) = until {
                    if let Err(error) = catalog.store_resolution(key.clone(), &locator, until).await {
                        tracing::warn!(error = ?error, "could not keep a resolution");
                    }
                }
                Ok((locator, until))
            })
            .await?;
        Ok(Playable::Remote(locator))
    }

    /// A fresh resolution of a remote track, for the proxy after a 403/410: the cached one
    /// (memory and catalog) is dropped first. `pin` keeps the format the stream was playing.
    pub async fn reresolve(&self, track_id: &str, variant: Variant, pin: Option<&str>) -> Result<Arc<Locator>, Error> {
        let key = cache_key(track_id, variant);
        self.inner.cache.remove(&key);
        self.inner.catalog.forget_resolution(key).await?;
        match self.resolve_pinned(track_id, variant, pin).await? {
            Playable::Remote(locator) => Ok(locator),
            Playable::LocalFile { .. } => Err(Error::Internal(anyhow::anyhow!("track {track_id} became a local file"))),
        }
    }

    /// Resolves `track_ids` in the background (the next tracks of a queue), so that their
    /// stream_url answers at once. Failures are left for the real request to report.
    pub fn prefetch(&self, track_ids: Vec<String>, variant: Variant) {
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
