//! Resolution: from a track id to something playable. For library tracks that is the file,
//! checked to still lie inside the library at the moment it is served.

use std::path::PathBuf;

use anyhow::Context;

use crate::catalog::Catalog;
use crate::error::Error;
use crate::stream::local::inside_library;

/// What `/stream/<token>` plays.
#[derive(Debug, Clone)]
pub enum Playable {
    LocalFile { path: PathBuf, mime: String },
}

#[derive(Clone)]
pub struct Resolver {
    catalog: Catalog,
}

impl Resolver {
    pub fn new(catalog: Catalog) -> Self {
        Resolver { catalog }
    }

    pub async fn resolve(&self, track_id: &str) -> Result<Playable, Error> {
        let location = self
            .catalog
            .media_location(track_id.to_owned())
            .await?
            .ok_or_else(|| Error::TrackNotFound(track_id.to_owned()))?;
        let roots = self.catalog.roots().to_vec();
        let path = location.path.clone();
        let checked = tokio::task::spawn_blocking(move || inside_library(&path, &roots))
            .await
            .context("resolve task panicked")??;
        match checked {
            Some(path) => Ok(Playable::LocalFile {
                path,
                mime: location.mime,
            }),
            None => Err(Error::MediaGone(track_id.to_owned())),
        }
    }
}
