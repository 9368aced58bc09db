//! The catalog: an embedded SQLite index of the library (tracks, playlists, autocomplete keys).
//!
//! [`Catalog`] is the async face the API uses: every query runs on a blocking thread on a
//! pooled read connection; scans hold the one writer connection and never block readers.

pub mod db;
pub mod model;
pub mod normalize;
pub mod playlists;
pub mod remote;
pub mod scan;
pub mod search;
pub mod suggest;
pub mod text_index;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use rusqlite::OptionalExtension;
use sha2::{Digest, Sha256};

use db::Db;
pub use model::{Live, Playlist, PlaylistSummary, Suggestion, Track};
pub use scan::{ScanProgress, ScanReport};

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// A stable, URL-safe id: hex of SHA-256 over the parts, NUL-separated, cut to 20 digits (80 bits).
pub fn stable_id(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    let digest = hasher.finalize();
    digest.iter().take(10).map(|b| format!("{b:02x}")).collect()
}

#[derive(Clone)]
pub struct Catalog {
    db: Db,
    roots: Arc<Vec<PathBuf>>,
    progress: Arc<ScanProgress>,
    suggestions: suggest::Suggestions,
}

impl Catalog {
    /// Opens (or creates) the catalog at `path` for the library folders `roots` (canonical).
    pub fn open(path: &Path, roots: Vec<PathBuf>) -> anyhow::Result<Self> {
        let db = Db::open(path)?;
        let progress = Arc::new(ScanProgress::default());
        Ok(Catalog {
            db,
            roots: Arc::new(roots),
            progress,
            suggestions: suggest::Suggestions::default(),
        })
    }

    /// Builds the autocomplete index from what the catalog holds (scans and imports keep it
    /// current afterwards).
    pub async fn load_suggestions(&self) -> anyhow::Result<()> {
        let suggestions = self.suggestions.clone();
        self.read(move |conn| suggestions.rebuild(conn)).await
    }

    pub fn roots(&self) -> &[PathBuf] {
        &self.roots
    }

    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&rusqlite::Connection) -> anyhow::Result<T> + Send + 'static,
    ) -> anyhow::Result<T> {
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || db.read(f))
            .await
            .context("catalog task panicked")?
    }

    /// Scans the library on this thread. Errors if a scan is already running. The autocomplete
    /// index follows if this catalog serves one (not in the CLI's `scan`).
    pub fn scan_blocking(&self, show_progress: bool) -> anyhow::Result<ScanReport> {
        anyhow::ensure!(self.progress.try_start(), "a scan is already running");
        let suggestions = self.suggestions.in_use().then_some(&self.suggestions);
        scan::scan(&self.db, &self.roots, &self.progress, suggestions, show_progress)
    }

    /// Starts a scan in the background; false if one is already running.
    pub fn start_scan(&self) -> bool {
        if !self.progress.try_start() {
            return false;
        }
        let catalog = self.clone();
        tokio::task::spawn_blocking(move || {
            match scan::scan(
                &catalog.db,
                &catalog.roots,
                &catalog.progress,
                Some(&catalog.suggestions),
                false,
            ) {
                Ok(report) => tracing::info!(?report, "scan finished"),
                Err(error) => tracing::error!(error = ?error, "scan failed"),
            }
        });
        true
    }

    /// The running scan's progress, else the last scan's report (also across restarts).
    pub async fn scan_status(&self) -> anyhow::Result<Option<ScanReport>> {
        if let Some(report) = self.progress.snapshot() {
            return Ok(Some(report));
        }
        self.read(scan::last_report).await
    }

    pub async fn track(&self, id: String) -> anyhow::Result<Option<Track>> {
        self.read(move |conn| {
            let sql = format!("SELECT {} FROM tracks WHERE id = ?1", model::TRACK_COLUMNS);
            Ok(conn.prepare_cached(&sql)?.query_row([id], Track::from_row).optional()?)
        })
        .await
    }

    /// Where a track's bytes are (None: no such track).
    pub async fn origin(&self, id: String) -> anyhow::Result<Option<crate::sources::Origin>> {
        self.read(move |conn| remote::origin(conn, &id)).await
    }

    /// A kept resolution for `key` that is still valid, with its end of validity.
    pub async fn stored_resolution(
        &self,
        key: String,
    ) -> anyhow::Result<Option<(crate::sources::Locator, std::time::SystemTime)>> {
        let now = unix_now();
        self.read(move |conn| {
            let row: Option<(String, i64)> = conn
                .prepare_cached("SELECT locator, valid_until FROM resolutions WHERE key = ?1 AND valid_until > ?2")?
                .query_row(rusqlite::params![key, now], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            Ok(row.and_then(|(json, until)| {
                let record: crate::sources::LocatorRecord = serde_json::from_str(&json).ok()?;
                Some((
                    record.into_locator()?,
                    std::time::UNIX_EPOCH + std::time::Duration::from_secs(until as u64),
                ))
            }))
        })
        .await
    }

    pub async fn store_resolution(
        &self,
        key: String,
        locator: &crate::sources::Locator,
        until: std::time::SystemTime,
    ) -> anyhow::Result<()> {
        let json = serde_json::to_string(&crate::sources::LocatorRecord::from(locator))?;
        let until = until
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let now = unix_now();
        self.write(move |conn| {
            conn.execute("DELETE FROM resolutions WHERE valid_until <= ?1", [now])?;
            conn.execute(
                "INSERT OR REPLACE INTO resolutions(key, locator, valid_until) VALUES (?1, ?2, ?3)",
                rusqlite::params![key, json, until],
            )?;
            Ok(())
        })
        .await
    }

    pub async fn forget_resolution(&self, key: String) -> anyhow::Result<()> {
        self.write(move |conn| {
            conn.execute("DELETE FROM resolutions WHERE key = ?1", [key])?;
            Ok(())
        })
        .await
    }

    async fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut rusqlite::Connection) -> anyhow::Result<T> + Send + 'static,
    ) -> anyhow::Result<T> {
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || db.write(f))
            .await
            .context("catalog task panicked")?
    }

    /// Adds the tracks (and playlist) of a remote import, all or nothing.
    pub async fn add_remote(
        &self,
        import: crate::sources::import::Import,
    ) -> anyhow::Result<(Vec<Track>, Option<PlaylistSummary>)> {
        let db = self.db.clone();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let suggestions = self.suggestions.clone();
        tokio::task::spawn_blocking(move || {
            let added = db.write(|conn| remote::add(conn, &import, now))?;
            db.read(|conn| suggestions.rebuild(conn))?;
            Ok(added)
        })
        .await
        .context("catalog task panicked")?
    }

    pub async fn search(
        &self,
        q: String,
        scope: search::Scope,
        limit: u32,
        offset: u32,
    ) -> anyhow::Result<search::SearchPage> {
        self.read(move |conn| search::search(conn, &q, scope, limit, offset))
            .await
    }

    /// Autocomplete from memory: no SQLite work, so it never waits.
    pub fn suggest(&self, q: &str, limit: usize) -> Vec<Suggestion> {
        self.suggestions.lookup(q, limit)
    }

    pub async fn playlists(
        &self,
        kind: Option<String>,
        limit: u32,
        offset: u32,
    ) -> anyhow::Result<(u64, Vec<PlaylistSummary>)> {
        self.read(move |conn| playlists::list(conn, kind.as_deref(), limit, offset))
            .await
    }

    pub async fn playlist(&self, id: String) -> anyhow::Result<Option<Playlist>> {
        self.read(move |conn| playlists::get(conn, &id)).await
    }

    /// An imported playlist's kind and source URL.
    pub async fn playlist_source(&self, id: String) -> anyhow::Result<Option<(String, Option<String>)>> {
        self.read(move |conn| {
            Ok(conn
                .prepare_cached("SELECT kind, key1 FROM playlists WHERE id = ?1")?
                .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?)
        })
        .await
    }

    pub async fn related(&self, id: String, limit: u32) -> anyhow::Result<Option<Vec<Track>>> {
        self.read(move |conn| playlists::related(conn, &id, limit)).await
    }

    pub async fn stats(&self) -> anyhow::Result<(u64, u64, u64)> {
        self.read(|conn| {
            Ok(conn.query_row(
                "SELECT (SELECT count(*) FROM tracks), (SELECT count(*) FROM playlists WHERE kind = 'album'),
                        (SELECT count(*) FROM playlists WHERE kind = 'artist')",
                [],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)? as u64,
                        r.get::<_, i64>(1)? as u64,
                        r.get::<_, i64>(2)? as u64,
                    ))
                },
            )?)
        })
        .await
    }
}
