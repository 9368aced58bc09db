//! Resolution: from a track id to something playable, through the track's source.
//!
//! Remote resolutions are slow (a network probe; for YouTube a yt-dlp run), so they are cached
//! until shortly before they expire, and concurrent requests for one track share one
//! resolution (single-flight). Failures are not cached. Library files are re-checked at every
//! play (cheap, and a file may have moved out of the library).

mod cache;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use cache::SingleFlightCache;

use crate::catalog::Catalog;
use crate::error::Error;
use crate::sources::http::HttpSource;
use crate::sources::local::LocalSource;
use crate::sources::{Locator, Origin, Playable, Source};

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
    cache: SingleFlightCache<String, Arc<Locator>>,
}

impl Resolver {
    pub fn new(catalog: Catalog, http: HttpSource) -> Self {
        let local = LocalSource::new(Arc::new(catalog.roots().to_vec()));
        Resolver {
            inner: Arc::new(Inner {
                catalog,
                local,
                http,
                cache: SingleFlightCache::default(),
            }),
        }
    }

    pub async fn resolve(&self, track_id: &str) -> Result<Playable, Error> {
        // The hot path of a remote play: a cached resolution needs no catalog read.
        if let Some(locator) = self.inner.cache.get(track_id, SystemTime::now()) {
            return Ok(Playable::Remote(locator));
        }
        let origin = self
            .inner
            .catalog
            .origin(track_id.to_owned())
            .await?
            .ok_or_else(|| Error::TrackNotFound(track_id.to_owned()))?;
        let source: &dyn Source = match origin {
            Origin::LocalFile { .. } => return self.inner.local.resolve(track_id, &origin).await,
            Origin::Http { .. } => &self.inner.http,
        };
        let locator = self
            .inner
            .cache
            .get_or_try_insert(track_id.to_owned(), SystemTime::now(), || async {
                match source.resolve(track_id, &origin).await? {
                    Playable::Remote(locator) => {
                        let valid_until = locator.expires_at.map(|t| t - EXPIRY_MARGIN);
                        Ok((locator, valid_until))
                    }
                    Playable::LocalFile { .. } => {
                        Err(Error::Internal(anyhow::anyhow!("a remote source resolved to a file")))
                    }
                }
            })
            .await?;
        Ok(Playable::Remote(locator))
    }

    /// Forgets a cached resolution (the upstream refused it), so the next resolve runs again.
    pub fn invalidate(&self, track_id: &str) {
        self.inner.cache.remove(track_id);
    }

    /// A fresh resolution of a remote track, for the proxy after a 403/410.
    pub async fn reresolve(&self, track_id: &str) -> Result<Arc<Locator>, Error> {
        self.invalidate(track_id);
        match self.resolve(track_id).await? {
            Playable::Remote(locator) => Ok(locator),
            Playable::LocalFile { .. } => Err(Error::Internal(anyhow::anyhow!("track {track_id} became a local file"))),
        }
    }
}
