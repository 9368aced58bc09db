//! Scanning music folders into the catalog.
//!
//! Steps: (1) load what the catalog knows (path -> size, mtime); (2) walk every library folder,
//! following symlinks only while they stay inside it, and sort files into unchanged and to-read;
//! (3) read tags of the to-read files in parallel (lofty, one thread per core) while this thread
//! writes them in batched transactions; (4) drop tracks whose files vanished; (5) rebuild M3U
//! playlists, and derived playlists and the autocomplete index if anything changed.
//! Unreadable files are logged, remembered with their size and mtime, and skipped.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Mutex};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use walkdir::WalkDir;

use super::db::Db;
use super::suggest::Suggestions;
use super::{playlists, stable_id};
use crate::tags::{self, TrackInfo};

/// Files per write transaction.
const BATCH: usize = 500;

const AUDIO_EXTENSIONS: &[&str] = &[
    "mp3", "flac", "ogg", "oga", "opus", "m4a", "m4b", "mp4", "aac", "wav", "aif", "aiff", "ape", "wv", "mpc", "spx",
];
const PLAYLIST_EXTENSIONS: &[&str] = &["m3u", "m3u8"];

/// Live counters of the scan in progress (or the last one).
#[derive(Default)]
pub struct ScanProgress {
    running: AtomicBool,
    files_seen: AtomicU64,
    added: AtomicU64,
    changed: AtomicU64,
    removed: AtomicU64,
    errors: AtomicU64,
    started_at: AtomicU64,
    last: Mutex<Option<ScanReport>>,
}

/// What a scan did.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct ScanReport {
    pub running: bool,
    /// Audio files found in the library folders.
    pub files_seen: u64,
    pub added: u64,
    pub changed: u64,
    pub removed: u64,
    /// Files that could not be read (corrupt, unsupported, unreadable) and were skipped.
    pub errors: u64,
    /// Unix seconds.
    pub started_at: u64,
    pub finished_at: Option<u64>,
    pub duration_ms: Option<u64>,
}

impl ScanProgress {
    /// Marks a scan as started; false if one is already running.
    pub fn try_start(&self) -> bool {
        if self.running.swap(true, Ordering::SeqCst) {
            return false;
        }
        for counter in [
            &self.files_seen,
            &self.added,
            &self.changed,
            &self.removed,
            &self.errors,
        ] {
            counter.store(0, Ordering::Relaxed);
        }
        self.started_at.store(unix_now(), Ordering::Relaxed);
        true
    }

    pub fn is_running(&self) -> bool {
        self.running.load(Ordering::SeqCst)
    }

    fn finish(&self, report: ScanReport) {
        *self.last.lock().unwrap_or_else(|p| p.into_inner()) = Some(report);
        self.running.store(false, Ordering::SeqCst);
    }

    /// The running scan's counters, or the last finished scan's report.
    pub fn snapshot(&self) -> Option<ScanReport> {
        let last = self.last.lock().unwrap_or_else(|p| p.into_inner()).clone();
        if !self.is_running() {
            return last;
        }
        Some(ScanReport {
            running: true,
            files_seen: self.files_seen.load(Ordering::Relaxed),
            added: self.added.load(Ordering::Relaxed),
            changed: self.changed.load(Ordering::Relaxed),
            removed: self.removed.load(Ordering::Relaxed),
            errors: self.errors.load(Ordering::Relaxed),
            started_at: self.started_at.load(Ordering::Relaxed),
            finished_at: None,
            duration_ms: None,
        })
    }
}

/// A file on disk as the walk saw it.
struct FileEntry {
    path: String,
    size: u64,
    mtime_ns: i64,
}

/// Tags and properties read from one file.
struct ReadTrack {
    entry: FileEntry,
    title: String,
    info: TrackInfo,
}

/// Scans `roots` into the catalog. The caller must have called `progress.try_start()`.
/// `show_progress` draws a progress bar on a terminal.
pub fn scan(
    db: &Db,
    roots: &[PathBuf],
    progress: &ScanProgress,
    suggestions: &Suggestions,
    show_progress: bool,
) -> anyhow::Result<ScanReport> {
    let started = Instant::now();
    let started_at = progress.started_at.load(Ordering::Relaxed);
    let result = run(db, roots, progress, suggestions, show_progress);
    let mut report = ScanReport {
        running: false,
        files_seen: progress.files_seen.load(Ordering::Relaxed),
        added: progress.added.load(Ordering::Relaxed),
        changed: progress.changed.load(Ordering::Relaxed),
        removed: progress.removed.load(Ordering::Relaxed),
        errors: progress.errors.load(Ordering::Relaxed),
        started_at,
        finished_at: Some(unix_now()),
        duration_ms: Some(started.elapsed().as_millis() as u64),
    };
    if result.is_ok() {
        let json = serde_json::to_string(&report)?;
        db.write(|conn| {
            conn.execute(
                "INSERT OR REPLACE INTO meta(key, value) VALUES ('last_scan', ?1)",
                [json],
            )?;
            Ok(())
        })?;
    }
    report.running = false;
    progress.finish(report.clone());
    result.map(|()| report)
}

/// The last finished scan, as stored in the catalog.
pub fn last_report(conn: &Connection) -> anyhow::Result<Option<ScanReport>> {
    let json: Option<String> = conn
        .query_row("SELECT value FROM meta WHERE key = 'last_scan'", [], |r| r.get(0))
        .optional()?;
    Ok(json.and_then(|j| serde_json::from_str(&j).ok()))
}

/// Holds the writer only per transaction, so other writers (API imports) interleave with a long scan.
fn run(
    db: &Db,
    roots: &[PathBuf],
    progress: &ScanProgress,
    suggestions: &Suggestions,
    show_progress: bool,
) -> anyhow::Result<()> {
    let known = db.read(|conn| {
        load_known(
            conn,
            "SELECT path, file_size, mtime_ns FROM tracks WHERE source = 'local'",
        )
    })?;
    let skipped = db.read(|conn| load_known(conn, "SELECT path, file_size, mtime_ns FROM skipped"))?;

    let mut seen: HashSet<String> = HashSet::with_capacity(known.len());
    let mut to_read = Vec::new();
    let mut playlist_files = Vec::new();
    for root in roots {
        for entry in walk(root) {
            if is_playlist(&entry.path) {
                playlist_files.push(PathBuf::from(&entry.path));
                continue;
            }
            progress.files_seen.fetch_add(1, Ordering::Relaxed);
            let stamp = (entry.size, entry.mtime_ns);
            let unchanged = known.get(&entry.path) == Some(&stamp) || skipped.get(&entry.path) == Some(&stamp);
            seen.insert(entry.path.clone());
            if !unchanged {
                to_read.push(entry);
            }
        }
    }

    let bar = if show_progress {
        ProgressBar::new(to_read.len() as u64)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{spinner} reading tags {bar:40} {pos}/{len} files, {per_sec}, eta {eta}")
            .expect("valid template"),
    );
    let changes = write_read_tracks(db, to_read, &known, progress, &bar)?;
    bar.finish_and_clear();

    let removed = db.write(|conn| remove_vanished(conn, &known, &skipped, &seen))?;
    progress.removed.store(removed, Ordering::Relaxed);

    let changed = changes + removed > 0;
    db.write(|conn| {
        let tx = conn.transaction()?;
        playlists::rebuild_m3u(&tx, &playlist_files)?;
        if changed {
            playlists::rebuild_derived(&tx)?;
        }
        tx.commit()?;
        Ok(())
    })?;
    if changed {
        db.read(|conn| suggestions.rebuild(conn))?;
    }
    Ok(())
}

fn load_known(conn: &Connection, sql: &str) -> anyhow::Result<HashMap<String, (u64, i64)>> {
    let mut stmt = conn.prepare(sql)?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            (r.get::<_, i64>(1)? as u64, r.get::<_, i64>(2)?),
        ))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Every audio and playlist file under `root`. Symlinks are followed only when their target
/// stays inside `root`; hidden entries are skipped.
fn walk(root: &Path) -> impl Iterator<Item = FileEntry> + '_ {
    WalkDir::new(root)
        .follow_links(true)
        .into_iter()
        .filter_entry(move |e| {
            let hidden = e.depth() > 0 && e.file_name().to_str().is_some_and(|n| n.starts_with('.'));
            !hidden && (!e.path_is_symlink() || e.path().canonicalize().is_ok_and(|target| target.starts_with(root)))
        })
        .filter_map(|e| match e {
            Ok(e) => Some(e),
            Err(err) => {
                tracing::warn!(error = %err, "skipping unreadable library entry");
                None
            }
        })
        .filter(|e| e.file_type().is_file() && (is_audio(e.path()) || is_playlist(e.path())))
        .filter_map(|e| {
            let meta = e.metadata().ok()?;
            let path = e.path().to_str()?.to_owned(); // non-UTF-8 paths cannot round-trip through the API
            Some(FileEntry {
                path,
                size: meta.len(),
                mtime_ns: mtime_ns(meta.modified().ok()),
            })
        })
}

fn extension(path: impl AsRef<Path>) -> Option<String> {
    path.as_ref()
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
}

fn is_audio(path: impl AsRef<Path>) -> bool {
    extension(path).is_some_and(|e| AUDIO_EXTENSIONS.contains(&e.as_str()))
}

fn is_playlist(path: impl AsRef<Path>) -> bool {
    extension(path).is_some_and(|e| PLAYLIST_EXTENSIONS.contains(&e.as_str()))
}

pub fn mtime_ns(modified: Option<SystemTime>) -> i64 {
    modified
        .and_then(|m| m.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos() as i64)
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Reads tags on a rayon pool while this thread writes batches. Returns how many tracks changed.
fn write_read_tracks(
    db: &Db,
    to_read: Vec<FileEntry>,
    known: &HashMap<String, (u64, i64)>,
    progress: &ScanProgress,
    bar: &ProgressBar,
) -> anyhow::Result<u64> {
    if to_read.is_empty() {
        return Ok(0);
    }
    let (tx, rx) = mpsc::sync_channel::<Result<ReadTrack, (FileEntry, String)>>(BATCH);
    let now = unix_now() as i64;
    let mut changes = 0;
    std::thread::scope(|s| -> anyhow::Result<()> {
        s.spawn(move || {
            to_read.into_par_iter().for_each_with(tx, |tx, entry| {
                // A send fails only if the writer stopped on an error; nothing left to do then.
                let _ = tx.send(read_track(entry));
            });
        });
        let mut batch = Vec::with_capacity(BATCH);
        let mut rx = rx.into_iter().peekable();
        while rx.peek().is_some() {
            batch.extend(rx.by_ref().take(BATCH));
            db.write(|conn| {
                let txn = conn.transaction()?;
                for item in batch.drain(..) {
                    bar.inc(1);
                    match item {
                        Ok(track) => {
                            let is_new = !known.contains_key(&track.entry.path);
                            upsert_track(&txn, &track, now)?;
                            txn.execute("DELETE FROM skipped WHERE path = ?1", [&track.entry.path])?;
                            let counter = if is_new { &progress.added } else { &progress.changed };
                            counter.fetch_add(1, Ordering::Relaxed);
                            changes += 1;
                        }
                        Err((entry, error)) => {
                            tracing::warn!(path = %entry.path, %error, "skipping unreadable audio file");
                            progress.errors.fetch_add(1, Ordering::Relaxed);
                            // A file that became unreadable no longer plays: drop its old track.
                            changes += txn.execute("DELETE FROM tracks WHERE path = ?1", [&entry.path])? as u64;
                            txn.execute(
                            "INSERT OR REPLACE INTO skipped(path, file_size, mtime_ns, error) VALUES (?1, ?2, ?3, ?4)",
                            params![entry.path, entry.size as i64, entry.mtime_ns, error],
                        )?;
                        }
                    }
                }
                txn.commit()?;
                Ok(())
            })?;
        }
        Ok(())
    })?;
    Ok(changes)
}

fn upsert_track(conn: &Connection, t: &ReadTrack, now: i64) -> anyhow::Result<()> {
    let id = stable_id(&["local", &t.entry.path]);
    conn.prepare_cached(
        "INSERT INTO tracks (id, source, path, title, artist, album, album_artist, track_no, disc_no, year, genre,
                             duration_ms, codec, mime, bitrate, sample_rate, channels, file_size, mtime_ns, added_at)
         VALUES (?1, 'local', ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)
         ON CONFLICT(id) DO UPDATE SET
             title = excluded.title, artist = excluded.artist, album = excluded.album,
             album_artist = excluded.album_artist, track_no = excluded.track_no, disc_no = excluded.disc_no,
             year = excluded.year, genre = excluded.genre, duration_ms = excluded.duration_ms,
             codec = excluded.codec, mime = excluded.mime, bitrate = excluded.bitrate,
             sample_rate = excluded.sample_rate, channels = excluded.channels,
             file_size = excluded.file_size, mtime_ns = excluded.mtime_ns",
    )?
    .execute(params![
        id,
        t.entry.path,
        t.title,
        t.info.artist,
        t.info.album,
        t.info.album_artist,
        t.info.track_no,
        t.info.disc_no,
        t.info.year,
        t.info.genre,
        t.info.duration_ms,
        t.info.codec,
        t.info.mime,
        t.info.bitrate,
        t.info.sample_rate,
        t.info.channels,
        t.entry.size as i64,
        t.entry.mtime_ns,
        now
    ])
    .with_context(|| format!("saving {}", t.entry.path))?;
    Ok(())
}

fn remove_vanished(
    conn: &mut Connection,
    known: &HashMap<String, (u64, i64)>,
    skipped: &HashMap<String, (u64, i64)>,
    seen: &HashSet<String>,
) -> anyhow::Result<u64> {
    let tx = conn.transaction()?;
    let mut removed = 0;
    for path in known.keys().filter(|p| !seen.contains(*p)) {
        removed += tx
            .prepare_cached("DELETE FROM tracks WHERE path = ?1")?
            .execute([path])? as u64;
    }
    for path in skipped.keys().filter(|p| !seen.contains(*p)) {
        tx.prepare_cached("DELETE FROM skipped WHERE path = ?1")?
            .execute([path])?;
    }
    tx.commit()?;
    Ok(removed)
}

fn read_track(entry: FileEntry) -> Result<ReadTrack, (FileEntry, String)> {
    match tags::read_path(Path::new(&entry.path)) {
        Ok(info) => {
            let stem = Path::new(&entry.path)
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or("Untitled");
            let title = info.title.clone().unwrap_or_else(|| stem.to_owned());
            Ok(ReadTrack { entry, title, info })
        }
        Err(e) => Err((entry, e.to_string())),
    }
}
