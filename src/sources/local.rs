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
        _: Option<&'a str>,
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

/// Image files beside a track that are its album's cover, best first (any case; .jpg, .jpeg,
/// .png or .webp).
const FOLDER_COVERS: &[&str] = &["cover", "folder", "front", "album"];
const IMAGE_TYPES: &[(&str, &str)] = &[
    ("jpg", "image/jpeg"),
    ("jpeg", "image/jpeg"),
    ("png", "image/png"),
    ("webp", "image/webp"),
];

/// The cover of the library file `path`: the picture embedded in its tags, else a cover image
/// beside it (`cover.jpg`, `folder.png`, ...). `Ok(None)` if the file is gone or outside the
/// library; `Ok(Some(None))` if it has no cover.
pub fn artwork(path: &Path, roots: &[PathBuf]) -> anyhow::Result<Option<Option<(Vec<u8>, String)>>> {
    let Some(path) = inside_library(path, roots)? else {
        return Ok(None);
    };
    match crate::tags::cover(&path) {
        Ok(Some(cover)) => return Ok(Some(Some(cover))),
        Ok(None) => {}
        Err(error) => tracing::debug!(path = %path.display(), %error, "no embedded cover"),
    }
    let Some(dir) = path.parent() else {
        return Ok(Some(None));
    };
    let mut best: Option<(usize, PathBuf, &str)> = None;
    for entry in std::fs::read_dir(dir)
        .with_context(|| format!("listing {}", dir.display()))?
        .flatten()
    {
        let name = entry.file_name().to_string_lossy().to_lowercase();
        let Some((stem, ext)) = name.rsplit_once('.') else {
            continue;
        };
        let rank = FOLDER_COVERS.iter().position(|c| *c == stem);
        let mime = IMAGE_TYPES.iter().find(|(e, _)| *e == ext).map(|(_, m)| *m);
        if let (Some(rank), Some(mime)) = (rank, mime) {
            if best.as_ref().is_none_or(|(r, ..)| rank < *r) {
                best = Some((rank, entry.path(), mime));
            }
        }
    }
    let Some((_, file, mime)) = best else {
        return Ok(Some(None));
    };
    // The image, too, must lie inside the library (it could be a link out of it), and be small.
    let Some(file) = inside_library(&file, roots)? else {
        return Ok(Some(None));
    };
    if file.metadata()?.len() > crate::tags::MAX_COVER as u64 {
        return Ok(Some(None));
    }
    let bytes = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
    Ok(Some(Some((bytes, mime.to_owned()))))
}
