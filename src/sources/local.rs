//! Library files: playable if the file still lies inside a library folder, following every
//! symlink (a file swapped for a link out of the library after the scan is refused).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use futures_util::future::BoxFuture;

use super::{Origin, Playable, Source};
use crate::error::Error;

pub struct LocalSource {
    roots: Arc<Vec<PathBuf>>,
}

impl LocalSource {
    pub fn new(roots: Arc<Vec<PathBuf>>) -> Self {
        LocalSource { roots }
    }
}

impl Source for LocalSource {
    fn resolve<'a>(
        &'a self,
        track_id: &'a str,
        origin: &'a Origin,
        _: super::Variant,
    ) -> BoxFuture<'a, Result<Playable, Error>> {
        Box::pin(async move {
            let Origin::LocalFile { path, mime } = origin else {
                return Err(Error::Internal(anyhow::anyhow!(
                    "local source asked to resolve {origin:?}"
                )));
            };
            let (path, roots) = (path.clone(), self.roots.clone());
            let checked = tokio::task::spawn_blocking(move || inside_library(&path, &roots))
                .await
                .context("resolve task panicked")??;
            match checked {
                Some(path) => Ok(Playable::LocalFile {
                    path,
                    mime: mime.clone(),
                }),
                None => Err(Error::MediaGone(track_id.to_owned())),
            }
        })
    }
}

/// The canonical path of `path` if it lies inside one of `roots` (canonical); None if it is
/// gone or outside.
pub fn inside_library(path: &Path, roots: &[PathBuf]) -> anyhow::Result<Option<PathBuf>> {
    let canonical = match path.canonicalize() {
        Ok(p) => p,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("resolving {}", path.display())),
    };
    Ok(roots
        .iter()
        .any(|root| canonical.starts_with(root))
        .then_some(canonical))
}
