//! Library files: playable if the file still lies inside a library folder, following every
//! symlink (a file swapped for a link out of the library after the scan is refused).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;

use crate::error::Error;
use crate::formats::{covers, lyrics};
use crate::model::TrackId;

/// The library's files; cheap to clone.
#[derive(Clone)]
pub struct LocalSource {
    roots: Arc<Vec<PathBuf>>,
}

impl LocalSource {
    pub fn new(roots: Arc<Vec<PathBuf>>) -> Self {
        LocalSource { roots }
    }

    /// The canonical path of track `track_id`'s file `path`, if it still lies in the library.
    pub async fn resolve(&self, track_id: &TrackId, path: &Path) -> Result<PathBuf, Error> {
        let (path, roots) = (path.to_owned(), self.roots.clone());
        let checked = tokio::task::spawn_blocking(move || inside_library(&path, &roots))
            .await
            .context("resolve task panicked")??;
        checked.ok_or_else(|| Error::MediaGone(track_id.to_string()))
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

/// What a library file's cover is.
#[derive(Debug)]
pub enum Artwork {
    /// The file is gone or outside the library.
    FileGone,
    /// It has no cover.
    None,
    Image {
        bytes: Vec<u8>,
        mime: String,
    },
}

/// The cover of the library file `path`: the picture embedded in its tags, else a cover image
/// beside it (`cover.jpg`, `folder.png`, ...).
pub fn artwork(path: &Path, roots: &[PathBuf]) -> anyhow::Result<Artwork> {
    let Some(path) = inside_library(path, roots)? else {
        return Ok(Artwork::FileGone);
    };
    match covers::embedded(&path) {
        Ok(Some((bytes, mime))) => return Ok(Artwork::Image { bytes, mime }),
        Ok(None) => {}
        Err(error) => tracing::debug!(path = %path.display(), %error, "no embedded cover"),
    }
    let Some(dir) = path.parent() else {
        return Ok(Artwork::None);
    };
    let mut best: Option<(usize, PathBuf, &str)> = None;
    for entry in std::fs::read_dir(dir)
        .with_context(|| format!("listing {}", dir.display()))?
        .flatten()
    {
        if let Some((rank, mime)) = covers::folder_cover(&entry.file_name().to_string_lossy()) {
            if best.as_ref().is_none_or(|(r, ..)| rank < *r) {
                best = Some((rank, entry.path(), mime));
            }
        }
    }
    let Some((_, file, mime)) = best else {
        return Ok(Artwork::None);
    };
    // The image, too, must lie inside the library (it could be a link out of it), and be small.
    let Some(file) = inside_library(&file, roots)? else {
        return Ok(Artwork::None);
    };
    if file.metadata()?.len() > covers::MAX_COVER as u64 {
        return Ok(Artwork::None);
    }
    let bytes = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
    Ok(Artwork::Image {
        bytes,
        mime: mime.to_owned(),
    })
}

/// Endings of lyrics files beside a track (`Song.lrc` for `Song.flac`), in the order taken.
const LYRICS_FILES: &[&str] = &["lrc", "LRC", "txt", "TXT"];

/// The lyrics of the library file `path`: from a lyrics file beside it (`.lrc`, `.txt`), then
/// from its tags. None if the file is gone or outside the library.
pub fn lyrics(path: &Path, roots: &[PathBuf]) -> anyhow::Result<Option<Vec<lyrics::Lyrics>>> {
    let Some(path) = inside_library(path, roots)? else {
        return Ok(None);
    };
    let mut found = Vec::new();
    for ending in LYRICS_FILES {
        // Like a cover, the lyrics file must lie inside the library (it could be a link out).
        let Some(file) = inside_library(&path.with_extension(ending), roots)? else {
            continue;
        };
        if !file.is_file() || file.metadata()?.len() > lyrics::MAX_LYRICS {
            continue;
        }
        let bytes = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
        found.extend(lyrics::parse(&String::from_utf8_lossy(&bytes), None));
        break;
    }
    match lyrics::embedded(&path) {
        Ok(embedded) => found.extend(embedded),
        Err(error) => tracing::debug!(path = %path.display(), %error, "no embedded lyrics"),
    }
    Ok(Some(found))
}
