//! The demo library embedded in the binary, so a fresh machine with no network and no
//! configuration has music to play. Unpacked into the data dir; files already there and
//! identical are left alone (their mtimes stay, so rescans skip them).

use std::path::{Path, PathBuf};

use anyhow::Context;
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "demo/library"]
struct DemoFiles;

/// Writes the demo library into `dir` and returns it.
pub fn unpack(dir: &Path) -> anyhow::Result<PathBuf> {
    for name in DemoFiles::iter() {
        let file = DemoFiles::get(&name).expect("listed files exist");
        let target = dir.join(name.as_ref());
        let same = std::fs::read(&target).is_ok_and(|existing| existing == file.data.as_ref());
        if !same {
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
            }
            std::fs::write(&target, &file.data).with_context(|| format!("writing {}", target.display()))?;
        }
    }
    Ok(dir.to_owned())
}
