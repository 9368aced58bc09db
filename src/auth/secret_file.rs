//! 32-byte keys kept in the data dir (`stream.key` signs stream URLs, `secret.key` seals
//! passwords): made on first use, readable by the owner only.

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use rand::RngCore;

/// The key at `path`, made if there is none. A new key is written whole to a temporary file
/// (mode 0600, synced) and linked into place, which fails if another process (a CLI command
/// beside the first start) linked its own first: then that one is read. So a crash never
/// leaves a short key, and two first starts agree on one key.
pub fn load_or_create(path: &Path) -> anyhow::Result<[u8; 32]> {
    match read(path)? {
        Some(key) => Ok(key),
        None => {
            let mut key = [0u8; 32];
            rand::rngs::OsRng.fill_bytes(&mut key);
            let temporary = path.with_extension(format!("new-{:016x}", rand::rngs::OsRng.next_u64()));
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create(true).truncate(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let written = options.open(&temporary).and_then(|mut file| {
                file.write_all(&key)?;
                file.sync_all()
            });
            let linked = written.and_then(|()| std::fs::hard_link(&temporary, path));
            let _ = std::fs::remove_file(&temporary);
            match linked {
                Ok(()) => Ok(key),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    read(path)?.with_context(|| format!("{} vanished", path.display()))
                }
                Err(e) => Err(e).with_context(|| format!("creating {}", path.display())),
            }
        }
    }
}

fn read(path: &Path) -> anyhow::Result<Option<[u8; 32]>> {
    match std::fs::read(path) {
        Ok(bytes) => bytes.try_into().map(Some).map_err(|_| {
            anyhow::anyhow!(
                "{} is not a 32-byte key (restore it from a backup; see the README)",
                path.display()
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_key_is_made_once_private_and_read_back() {
        let dir = tempfile::TempDir::new().unwrap();
        let path = dir.path().join("k.key");
        let made = super::load_or_create(&path).unwrap();
        assert_eq!(super::load_or_create(&path).unwrap(), made);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        std::fs::write(&path, b"short").unwrap();
        assert!(super::load_or_create(&path).is_err());
        let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temporary file left behind");
    }

    #[test]
    fn two_first_starts_at_once_agree_on_one_key() {
        let dir = tempfile::TempDir::new().unwrap();
        let path = dir.path().join("k.key");
        let keys: Vec<[u8; 32]> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..8)
                .map(|_| scope.spawn(|| super::load_or_create(&path).unwrap()))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(keys.iter().all(|k| *k == keys[0]), "every caller got the key on disk");
    }
}
