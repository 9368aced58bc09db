//! The catalog: an embedded SQLite index of the library (tracks, playlists, autocomplete keys).
//!
//! [`Catalog`] is the async face the layers above use: every query runs on a blocking thread on
//! a pooled read connection; scans hold the one writer connection and never block readers.
//!
//! It depends on `model` (what it stores) and `formats` (what a scan reads) only. Remote
//! resolutions are kept as opaque text that `upstream` writes and reads.

pub mod accounts;
pub mod annotations;
pub mod browse;
pub mod db;
mod entities;
pub mod folders;
pub mod normalize;
pub mod play_queue;
pub mod playlists;
pub mod remote;
mod rows;
pub mod scan;
pub mod search;
pub mod suggest;
pub mod text_index;
mod tracks;
pub mod user_playlists;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use rusqlite::OptionalExtension;

use crate::model::{
    unix, unix_now, Album, AlbumId, Annotation, Artist, ArtistId, Folder, FolderId, Genre, Import, ListedPlaylist,
    Origin, Playlist, PlaylistId, PlaylistKind, PlaylistSummary, Song, Suggestion, Track, TrackId, UserId,
};
use db::Db;
pub use playlists::PlaylistFilter;
pub use scan::{ScanProgress, ScanReport};

#[derive(Clone)]
pub struct Catalog {
    db: Db,
    roots: Arc<Vec<PathBuf>>,
    progress: Arc<ScanProgress>,
    suggestions: suggest::Suggestions,
}

/// The catalog's file in a data dir.
pub fn path_in(data_dir: &std::path::Path) -> std::path::PathBuf {
    data_dir.join("catalog.sqlite3")
}

/// Makes a data dir (and its parents) if it is missing; a new one is the owner's alone (mode
/// 0700: the catalog holds password hashes). An existing one is left as its owner set it.
pub fn create_data_dir(dir: &std::path::Path) -> std::io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
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

    /// Stops the running scan, if any, soon (at shutdown): what it wrote stays, and the next
    /// scan goes on from there.
    pub fn cancel_scan(&self) {
        self.progress.cancel();
    }

    /// The running scan's progress, else the last scan's report (also across restarts).
    pub async fn scan_status(&self) -> anyhow::Result<Option<ScanReport>> {
        if let Some(report) = self.progress.snapshot() {
            return Ok(Some(report));
        }
        self.read(scan::last_report).await
    }

    pub async fn track(&self, id: TrackId) -> anyhow::Result<Option<Track>> {
        self.read(move |conn| {
            let sql = format!("SELECT {} FROM tracks WHERE id = ?1", rows::TRACK_COLUMNS);
            Ok(conn
                .prepare_cached(&sql)?
                .query_row([id.as_str()], rows::track)
                .optional()?)
        })
        .await
    }

    /// Where a track's bytes are (None: no such track).
    pub async fn origin(&self, id: TrackId) -> anyhow::Result<Option<Origin>> {
        self.read(move |conn| remote::origin(conn, &id)).await
    }

    /// A kept resolution for `key` that is still valid (the record as it was stored), with its
    /// end of validity.
    pub async fn stored_resolution(&self, key: String) -> anyhow::Result<Option<(String, std::time::SystemTime)>> {
        let now = unix_now() as i64;
        self.read(move |conn| {
            let row: Option<(String, i64)> = conn
                .prepare_cached("SELECT locator, valid_until FROM resolutions WHERE key = ?1 AND valid_until > ?2")?
                .query_row(rusqlite::params![key, now], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            Ok(row.map(|(record, until)| (record, crate::model::from_unix(until as u64))))
        })
        .await
    }

    /// Keeps `record` (a resolution in its stored form) for `key` until `until`.
    pub async fn store_resolution(
        &self,
        key: String,
        record: String,
        until: std::time::SystemTime,
    ) -> anyhow::Result<()> {
        let until = unix(until) as i64;
        let now = unix_now() as i64;
        self.write(move |conn| {
            conn.execute("DELETE FROM resolutions WHERE valid_until <= ?1", [now])?;
            conn.execute(
                "INSERT OR REPLACE INTO resolutions(key, locator, valid_until) VALUES (?1, ?2, ?3)",
                rusqlite::params![key, record, until],
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
    pub async fn add_remote(&self, import: Import) -> anyhow::Result<(Vec<Track>, Option<PlaylistSummary>)> {
        let db = self.db.clone();
        let now = unix_now() as i64;
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
        filter: Option<PlaylistFilter>,
        limit: u32,
        offset: u32,
    ) -> anyhow::Result<(u64, Vec<PlaylistSummary>)> {
        self.read(move |conn| playlists::list(conn, filter, limit, offset))
            .await
    }

    pub async fn playlist(&self, id: PlaylistId) -> anyhow::Result<Option<Playlist>> {
        self.read(move |conn| playlists::get(conn, &id)).await
    }

    /// A playlist's kind and, for one imported from a URL, that URL.
    pub async fn playlist_source(&self, id: PlaylistId) -> anyhow::Result<Option<(PlaylistKind, Option<String>)>> {
        self.read(move |conn| {
            let row: Option<(String, Option<String>)> = conn
                .prepare_cached("SELECT kind, key1 FROM playlists WHERE id = ?1")?
                .query_row([id.as_str()], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            Ok(row.and_then(|(kind, url)| {
                let kind = PlaylistKind::parse(&kind)?;
                Some((kind, url.filter(|_| kind.is_imported())))
            }))
        })
        .await
    }

    pub async fn related(&self, id: TrackId, limit: u32) -> anyhow::Result<Option<Vec<Track>>> {
        self.read(move |conn| playlists::related(conn, &id, limit)).await
    }

    /// Runs a browsing query with the library folders at hand (they number the music folders).
    async fn browse<T: Send + 'static>(
        &self,
        f: impl FnOnce(&rusqlite::Connection, &[PathBuf]) -> anyhow::Result<T> + Send + 'static,
    ) -> anyhow::Result<T> {
        let roots = self.roots.clone();
        self.read(move |conn| f(conn, &roots)).await
    }

    /// Artists with albums, by name.
    pub async fn artists(&self) -> anyhow::Result<Vec<Artist>> {
        self.read(browse::artists).await
    }

    pub async fn artist(&self, id: ArtistId) -> anyhow::Result<Option<(Artist, Vec<Album>)>> {
        self.read(move |conn| browse::artist(conn, &id)).await
    }

    pub async fn album(&self, id: AlbumId) -> anyhow::Result<Option<(Album, Vec<Song>)>> {
        self.browse(move |conn, roots| browse::album(conn, roots, &id)).await
    }

    pub async fn song(&self, id: TrackId) -> anyhow::Result<Option<Song>> {
        self.browse(move |conn, roots| browse::song(conn, roots, &id)).await
    }

    pub async fn folder(&self, id: FolderId) -> anyhow::Result<Option<Folder>> {
        self.read(move |conn| folders::folder(conn, &id)).await
    }

    /// The folder of the library at `path` (absolute, with its trailing slash), if it holds
    /// audio files.
    pub async fn folder_at(&self, path: String) -> anyhow::Result<Option<Folder>> {
        self.read(move |conn| folders::folder_at(conn, &path)).await
    }

    /// The folders right below a folder, and its songs.
    pub async fn folder_contents(&self, id: FolderId) -> anyhow::Result<(Vec<Folder>, Vec<Song>)> {
        self.browse(move |conn, roots| folders::contents(conn, roots, &id))
            .await
    }

    pub async fn genres(&self) -> anyhow::Result<Vec<Genre>> {
        self.read(browse::genres).await
    }

    pub async fn search_library(&self, query: String, pages: browse::SearchPages) -> anyhow::Result<browse::Found> {
        self.browse(move |conn, roots| browse::search(conn, roots, &query, pages))
            .await
    }

    pub async fn album_list(&self, order: browse::AlbumOrder, size: u32, offset: u32) -> anyhow::Result<Vec<Album>> {
        self.read(move |conn| browse::album_list(conn, &order, size, offset))
            .await
    }

    pub async fn random_songs(
        &self,
        size: u32,
        genre: Option<String>,
        years: (Option<u32>, Option<u32>),
    ) -> anyhow::Result<Vec<Song>> {
        self.browse(move |conn, roots| browse::random_songs(conn, roots, size, genre.as_deref(), years))
            .await
    }

    pub async fn songs_by_genre(&self, genre: String, count: u32, offset: u32) -> anyhow::Result<Vec<Song>> {
        self.browse(move |conn, roots| browse::songs_by_genre(conn, roots, &genre, count, offset))
            .await
    }

    /// Stars, unstars or rates items (songs, albums, artists) for a user.
    pub async fn mark(&self, user: UserId, items: Vec<String>, mark: annotations::Mark) -> anyhow::Result<()> {
        self.write(move |conn| annotations::mark(conn, user, &items, mark))
            .await
    }

    /// A finished play; false if there is no such track in the catalog.
    pub async fn record_play(&self, user: UserId, track: TrackId, at: u64) -> anyhow::Result<bool> {
        self.write(move |conn| annotations::record_play(conn, user, &track, at))
            .await
    }

    /// Saved songs and plays a browser kept, copied to a user's account all at once; how many
    /// of each (tracks the catalog lacks are left out).
    pub async fn import_marks(
        &self,
        user: UserId,
        stars: Vec<(TrackId, u64)>,
        plays: Vec<(TrackId, u64)>,
    ) -> anyhow::Result<(u64, u64)> {
        self.write(move |conn| annotations::import(conn, user, &stars, &plays))
            .await
    }

    /// A user's annotations of the items among `ids` that have any.
    pub async fn annotations(
        &self,
        user: UserId,
        ids: Vec<String>,
    ) -> anyhow::Result<std::collections::HashMap<String, Annotation>> {
        self.read(move |conn| annotations::of(conn, user, &ids)).await
    }

    pub async fn starred(&self, user: UserId) -> anyhow::Result<browse::Found> {
        self.browse(move |conn, roots| browse::starred(conn, roots, user)).await
    }

    /// The playlists `user` sees in the Subsonic API.
    pub async fn user_playlists(&self, user: UserId) -> anyhow::Result<Vec<ListedPlaylist>> {
        self.read(move |conn| user_playlists::list(conn, user)).await
    }

    pub async fn user_playlist(
        &self,
        user: UserId,
        id: PlaylistId,
    ) -> anyhow::Result<Option<(ListedPlaylist, Vec<Song>)>> {
        self.browse(move |conn, roots| user_playlists::get(conn, roots, user, &id))
            .await
    }

    pub async fn create_user_playlist(
        &self,
        user: UserId,
        name: String,
        songs: Vec<TrackId>,
    ) -> anyhow::Result<Result<PlaylistId, user_playlists::Refused>> {
        let now = unix_now();
        self.write(move |conn| user_playlists::create(conn, user, &name, &songs, now))
            .await
    }

    pub async fn update_user_playlist(
        &self,
        user: UserId,
        id: PlaylistId,
        update: user_playlists::Update,
    ) -> anyhow::Result<Result<(), user_playlists::Refused>> {
        let now = unix_now();
        self.write(move |conn| user_playlists::update(conn, user, &id, &update, now))
            .await
    }

    pub async fn delete_user_playlist(
        &self,
        user: UserId,
        id: PlaylistId,
    ) -> anyhow::Result<Result<(), user_playlists::Refused>> {
        self.write(move |conn| user_playlists::delete(conn, user, &id)).await
    }

    pub async fn save_play_queue(&self, user: UserId, queue: play_queue::PlayQueue) -> anyhow::Result<()> {
        self.write(move |conn| play_queue::save(conn, user, &queue)).await
    }

    /// The user's saved queue, with the songs of it the catalog still has.
    pub async fn play_queue(&self, user: UserId) -> anyhow::Result<Option<(play_queue::PlayQueue, Vec<Song>)>> {
        self.browse(move |conn, roots| {
            let Some(queue) = play_queue::load(conn, user)? else {
                return Ok(None);
            };
            let mut songs = Vec::with_capacity(queue.tracks.len());
            for id in &queue.tracks {
                songs.extend(browse::song(conn, roots, id)?);
            }
            Ok(Some((queue, songs)))
        })
        .await
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
