//! Library covers scaled to the sizes clients ask for (`getCoverArt?size=`), kept in the data
//! dir so that each is scaled once: a phone's album grid asks for hundreds of them.
//!
//! A scaled copy is named by a digest of the original image and the size, so an edited cover
//! gets new copies and old ones are never served for it. The folder is bounded: past
//! [`MAX_BYTES`] the least recently written copies go. At most one scaling runs per core.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use anyhow::Context;
use tokio::sync::{OnceCell, Semaphore};

use crate::formats::covers;

/// How much the scaled copies may take on disk.
pub const MAX_BYTES: u64 = 256 << 20;

/// Scaled covers, cached in a folder; cheap to clone.
#[derive(Clone)]
pub struct ScaledCovers {
    inner: Arc<Inner>,
}

struct Inner {
    dir: PathBuf,
    max_bytes: u64,
    /// What the folder holds, learned at the first use, then counted.
    used: OnceCell<AtomicU64>,
    scaling: Semaphore,
}

/// A scaled cover, or the original given back: it is no larger, or no image this can decode
/// (a cover the decoder can't read is still a cover, and the client may show it).
pub enum Scaled {
    Image { bytes: Vec<u8>, mime: &'static str },
    Original(Vec<u8>),
}

const ENDINGS: [(&str, &str); 2] = [("jpg", "image/jpeg"), ("png", "image/png")];

impl ScaledCovers {
    /// Copies kept in `dir` (made when first needed), at most `max_bytes` of them.
    pub fn new(dir: PathBuf, max_bytes: u64) -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        ScaledCovers {
            inner: Arc::new(Inner {
                dir,
                max_bytes,
                used: OnceCell::new(),
                scaling: Semaphore::new(cores),
            }),
        }
    }

    /// `original` (whose SHA-256 is `digest`, in hex) scaled to fit `side` pixels.
    pub async fn scaled(&self, original: Vec<u8>, digest: &str, side: u32) -> anyhow::Result<Scaled> {
        let side = side.clamp(1, covers::MAX_SCALED_SIDE);
        let name = format!("{digest}-{side}");
        let inner = self.inner.clone();
        let kept = {
            let (dir, name) = (inner.dir.clone(), name.clone());
            tokio::task::spawn_blocking(move || read_kept(&dir, &name)).await??
        };
        if let Some((bytes, mime)) = kept {
            return Ok(Scaled::Image { bytes, mime });
        }
        let _permit = inner.scaling.acquire().await?;
        let (original, scaled) = tokio::task::spawn_blocking(move || {
            let scaled = covers::scaled(&original, side);
            (original, scaled)
        })
        .await?;
        let (bytes, mime) = match scaled {
            Ok(Some(scaled)) => scaled,
            Ok(None) => return Ok(Scaled::Original(original)),
            Err(error) => {
                tracing::debug!(%error, "cover not scaled; serving the original");
                return Ok(Scaled::Original(original));
            }
        };
        let ending = ENDINGS.iter().find(|(_, m)| *m == mime).map_or("jpg", |(e, _)| *e);
        let path = inner.dir.join(format!("{name}.{ending}"));
        let copy = bytes.clone();
        let used = inner
            .used
            .get_or_try_init(|| async {
                let dir = inner.dir.clone();
                let total = tokio::task::spawn_blocking(move || folder_size(&dir)).await??;
                anyhow::Ok(AtomicU64::new(total))
            })
            .await?;
        let written = tokio::task::spawn_blocking(move || write_whole(&path, &copy)).await?;
        match written {
            Ok(()) => {
                let total = used.fetch_add(bytes.len() as u64, Ordering::Relaxed) + bytes.len() as u64;
                if total > inner.max_bytes {
                    let (dir, keep) = (inner.dir.clone(), inner.max_bytes * 3 / 4);
                    let left = tokio::task::spawn_blocking(move || prune(&dir, keep)).await??;
                    used.store(left, Ordering::Relaxed);
                }
            }
            // A full disk or a read-only data dir costs the next client a scaling, no more.
            Err(error) => tracing::warn!(%error, "could not keep a scaled cover"),
        }
        Ok(Scaled::Image { bytes, mime })
    }
}

fn read_kept(dir: &Path, name: &str) -> anyhow::Result<Option<(Vec<u8>, &'static str)>> {
    for (ending, mime) in ENDINGS {
        match std::fs::read(dir.join(format!("{name}.{ending}"))) {
            Ok(bytes) => return Ok(Some((bytes, mime))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).context("reading a scaled cover"),
        }
    }
    Ok(None)
}

/// Writes `bytes` to a temporary file and renames it into place: a reader never sees half.
fn write_whole(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = path.parent().context("a cover path has a folder")?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut temporary = tempfile::NamedTempFile::new_in(dir)?;
    std::io::Write::write_all(&mut temporary, bytes)?;
    temporary.persist(path)?;
    Ok(())
}

fn entries(dir: &Path) -> anyhow::Result<Vec<(PathBuf, u64, std::time::SystemTime)>> {
    let listing = match std::fs::read_dir(dir) {
        Ok(listing) => listing,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("listing {}", dir.display())),
    };
    Ok(listing
        .flatten()
        .filter_map(|entry| {
            let meta = entry.metadata().ok().filter(|m| m.is_file())?;
            Some((entry.path(), meta.len(), meta.modified().ok()?))
        })
        .collect())
}

fn folder_size(dir: &Path) -> anyhow::Result<u64> {
    Ok(entries(dir)?.iter().map(|(_, len, _)| len).sum())
}

/// Removes the oldest copies until at most `keep` bytes are left; what is left.
fn prune(dir: &Path, keep: u64) -> anyhow::Result<u64> {
    let mut files = entries(dir)?;
    files.sort_by_key(|(_, _, modified)| std::cmp::Reverse(*modified));
    let mut total = 0;
    for (path, len, _) in files {
        if total + len <= keep {
            total += len;
        } else if let Err(error) = std::fs::remove_file(&path) {
            tracing::warn!(%error, path = %path.display(), "could not remove a scaled cover");
            total += len;
        }
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pruning_keeps_the_newest_copies_within_the_bound() {
        let dir = tempfile::TempDir::new().unwrap();
        for (i, name) in ["old", "middle", "new"].iter().enumerate() {
            let path = dir.path().join(name);
            std::fs::write(&path, vec![0u8; 100]).unwrap();
            let when = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000 + i as u64);
            std::fs::File::options()
                .write(true)
                .open(&path)
                .unwrap()
                .set_modified(when)
                .unwrap();
        }
        assert_eq!(folder_size(dir.path()).unwrap(), 300);
        assert_eq!(prune(dir.path(), 250).unwrap(), 200);
        assert!(!dir.path().join("old").exists());
        assert!(dir.path().join("middle").exists() && dir.path().join("new").exists());
    }
}
