//! The SQLite file behind the catalog: schema, pragmas, and a small pool of read connections
//! so that searches never wait behind a scan (WAL lets readers run beside the one writer).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};

use anyhow::Context;
use rusqlite::functions::FunctionFlags;
use rusqlite::Connection;
use rusqlite_migration::{Migrations, M};

/// The catalog's layouts, in order; a file's `PRAGMA user_version` says how many it has had.
/// Each step runs once, in place and whole (in a transaction): what a user owns (accounts, keys)
/// is never dropped by an upgrade; library rows may be marked for a rescan.
fn migrations() -> Migrations<'static> {
    Migrations::new(vec![
        // 1: tracks, their full-text index, skipped files, playlists, resolutions.
        M::up(LAYOUT_1),
        // 2: the autocomplete table is gone (its index lives in memory), and so are the
        // triggers that kept the full-text index in step (catalog::text_index does).
        M::up(
            "DROP TABLE IF EXISTS suggest;
             DROP TRIGGER IF EXISTS tracks_ai; DROP TRIGGER IF EXISTS tracks_ad; DROP TRIGGER IF EXISTS tracks_au;",
        ),
        // 3: whether a file's tags hold a picture and whether a cover lies beside it. A negative
        // mtime matches no file: the next scan reads every library file again to learn them.
        M::up(
            "ALTER TABLE tracks ADD COLUMN picture INTEGER NOT NULL DEFAULT 0;
             ALTER TABLE tracks ADD COLUMN folder_cover INTEGER NOT NULL DEFAULT 0;
             UPDATE tracks SET mtime_ns = -1 WHERE source = 'local';",
        ),
        // 4: accounts, their API keys and web sessions.
        M::up(LAYOUT_4_ACCOUNTS),
        // 5: albums and artists (filed by album artist); derived from the tracks by layout 10.
        M::up(super::entities::LAYOUT),
        // 6: each user's stars, ratings and plays, and the history of plays.
        M::up(super::annotations::LAYOUT),
        // 7: users' own playlists.
        M::up(super::user_playlists::LAYOUT),
        // 8: each user's saved play queue.
        M::up(super::play_queue::LAYOUT),
        // 9: the library's folders.
        M::up(super::folders::LAYOUT),
        // 10: several artists to a track or album; then albums, artists and folders are derived
        // from the tracks at once (whatever layout the file had).
        M::up_with_hook(
            super::entities::LAYOUT_ARTIST_LISTS,
            |tx: &rusqlite::Transaction<'_>| {
                super::folders::rebuild(tx)?;
                super::entities::rebuild(tx)?;
                Ok(())
            },
        ),
        // 11: album and artist lists in index order.
        M::up(super::entities::LAYOUT_LIST_ORDERS),
    ])
}

const LAYOUT_1: &str = r#"
CREATE TABLE IF NOT EXISTS tracks (
    id           TEXT PRIMARY KEY,
    source       TEXT NOT NULL,          -- model::SourceKind: local | http | youtube | ytdlp
    path         TEXT UNIQUE,            -- local files: absolute path
    url          TEXT,                   -- remote media: where the bytes are
    title        TEXT NOT NULL,
    artist       TEXT,
    album        TEXT,
    album_artist TEXT,
    track_no     INTEGER,
    disc_no      INTEGER,
    year         INTEGER,
    genre        TEXT,
    duration_ms  INTEGER,
    codec        TEXT,
    mime         TEXT NOT NULL,
    bitrate      INTEGER,
    sample_rate  INTEGER,
    channels     INTEGER,
    file_size    INTEGER,                -- unknown for remote media until first played
    mtime_ns     INTEGER,
    added_at     INTEGER NOT NULL,
    artwork      TEXT                    -- image URL (remote thumbnails)
);
CREATE INDEX IF NOT EXISTS tracks_artist ON tracks(artist);
CREATE INDEX IF NOT EXISTS tracks_album ON tracks(album);
CREATE INDEX IF NOT EXISTS tracks_genre ON tracks(genre);
CREATE INDEX IF NOT EXISTS tracks_added ON tracks(added_at);

CREATE VIRTUAL TABLE IF NOT EXISTS tracks_fts USING fts5(
    title, artist, album, album_artist, genre,
    content = 'tracks', content_rowid = 'rowid',
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '1 2 3'
);
-- Kept in step by catalog::text_index (no triggers: see there why).

-- Files the scanner could not read, remembered so an unchanged rescan does not retry them.
CREATE TABLE IF NOT EXISTS skipped (
    path      TEXT PRIMARY KEY,
    file_size INTEGER NOT NULL,
    mtime_ns  INTEGER NOT NULL,
    error     TEXT NOT NULL
);

-- Playlists derived from the library (albums, artists, genres) and read from M3U files;
-- rebuilt at the end of every scan that changed anything.
CREATE TABLE IF NOT EXISTS playlists (
    id          TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,     -- album | artist | genre | m3u | remote | feed | youtube
    name        TEXT NOT NULL,
    subtitle    TEXT,
    key1        TEXT,              -- album / artist / genre value the tracks are selected by
    key2        TEXT,              -- album: the album artist
    track_count INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS playlists_kind ON playlists(kind, name);
CREATE TABLE IF NOT EXISTS playlist_tracks (
    playlist_id TEXT NOT NULL,
    position    INTEGER NOT NULL,
    track_id    TEXT NOT NULL,
    PRIMARY KEY (playlist_id, position)
);

CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

-- Remote resolutions (a yt-dlp run is slow), kept until they expire so a restart stays warm.
CREATE TABLE IF NOT EXISTS resolutions (
    key         TEXT PRIMARY KEY,
    locator     TEXT NOT NULL,
    valid_until INTEGER NOT NULL
);
"#;

const LAYOUT_4_ACCOUNTS: &str = r#"
CREATE TABLE users (
    id              INTEGER PRIMARY KEY,
    name            TEXT NOT NULL UNIQUE COLLATE NOCASE,
    password_hash   TEXT NOT NULL,    -- argon2id, PHC string
    password_sealed BLOB NOT NULL,    -- the password, encrypted with the data dir's secret.key
    admin           INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL
);
CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,    -- public, shown in lists
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    secret_hash  BLOB NOT NULL UNIQUE, -- SHA-256 of the key: it is random, not a password
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER
);
CREATE INDEX api_keys_user ON api_keys(user_id);
CREATE TABLE sessions (
    token_hash BLOB PRIMARY KEY,      -- SHA-256 of the cookie's value
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);
"#;

/// Brings a catalog file to the latest layout, in place. Version 0 with tables is the
/// unversioned layout of development builds, whose content a scan rebuilds entirely: it is
/// dropped first.
fn migrate(conn: &mut Connection) -> anyhow::Result<()> {
    let migrations = migrations();
    let version: usize = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let known = LAYOUTS;
    if version > known {
        anyhow::bail!("the catalog was written by a newer anyaudio (layout {version}; this one knows {known})");
    }
    let tables: i64 = conn.query_row("SELECT count(*) FROM sqlite_master WHERE type = 'table'", [], |r| {
        r.get(0)
    })?;
    if version == 0 && tables > 0 {
        tracing::warn!("the catalog has an unversioned layout; rebuilding it (the library is rescanned)");
        conn.execute_batch(
            "DROP TRIGGER IF EXISTS tracks_ai; DROP TRIGGER IF EXISTS tracks_ad; DROP TRIGGER IF EXISTS tracks_au;
             DROP TABLE IF EXISTS tracks_fts; DROP TABLE IF EXISTS tracks; DROP TABLE IF EXISTS skipped;
             DROP TABLE IF EXISTS playlists; DROP TABLE IF EXISTS playlist_tracks; DROP TABLE IF EXISTS suggest;
             DROP TABLE IF EXISTS meta; DROP TABLE IF EXISTS resolutions;",
        )?;
    }
    if version < known {
        tracing::info!(from = version, to = known, "upgrading the catalog's layout");
    }
    migrations.to_latest(conn)?;
    Ok(())
}

/// How many layouts [`migrations`] knows.
pub const LAYOUTS: usize = 11;

/// Statement journals (every upsert writes one) stay in memory rather than in temp files: a
/// 100,000-track scan's writer was a quarter faster so. [`Db::write_bulk`] is the exception.
const TEMP_STORE: &str = "MEMORY";

fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "cache_size", -8000)?; // 8 MiB per connection
    conn.pragma_update(None, "temp_store", TEMP_STORE)?;
    conn.set_prepared_statement_cache_capacity(64);
    // `fold_text(s)`: normalize::fold, for what is searched by folded names.
    conn.create_scalar_function(
        "fold_text",
        1,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| Ok(ctx.get::<Option<String>>(0)?.map(|s| super::normalize::fold(&s))),
    )?;
    // `stable_id(parts...)`: the same ids in SQL as in Rust (derived playlist ids).
    conn.create_scalar_function(
        "stable_id",
        -1,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            let parts = (0..ctx.len())
                .map(|i| ctx.get::<Option<String>>(i).map(Option::unwrap_or_default))
                .collect::<rusqlite::Result<Vec<String>>>()?;
            Ok(crate::model::stable_id(
                &parts.iter().map(String::as_str).collect::<Vec<_>>(),
            ))
        },
    )?;
    Ok(())
}

/// Read connections at most. They are opened as needed and never closed: SQLite keeps the file
/// descriptor of a closed connection open while other connections of the process hold locks on
/// the file (POSIX locks belong to the process, `unixUnusedFd` in sqlite3.c), so a pool that
/// closed its extra connections under load leaked one descriptor each (17 -> 164, issue 16).
const MAX_READERS: usize = 8;

/// One writer, many readers, all on the same file.
#[derive(Clone)]
pub struct Db {
    path: PathBuf,
    writer: Arc<Mutex<Connection>>,
    readers: Arc<Readers>,
}

#[derive(Default)]
struct Readers {
    /// Idle connections, and how many exist in all.
    idle: Mutex<(Vec<Connection>, usize)>,
    returned: Condvar,
}

impl Db {
    pub fn open(path: &Path) -> anyhow::Result<Self> {
        let mut conn = Connection::open(path).with_context(|| format!("opening catalog {}", path.display()))?;
        configure(&conn).context("configuring catalog")?;
        migrate(&mut conn).with_context(|| format!("preparing catalog {}", path.display()))?;
        Ok(Db {
            path: path.to_owned(),
            writer: Arc::new(Mutex::new(conn)),
            readers: Arc::default(),
        })
    }

    /// Runs `f` on the writer connection, on the calling (blocking) thread.
    pub fn write<T>(&self, f: impl FnOnce(&mut Connection) -> anyhow::Result<T>) -> anyhow::Result<T> {
        let mut conn = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut conn)
    }

    /// [`write`](Self::write) for work that rewrites much of a table (the derived albums,
    /// artists and folders after a scan). A statement inside a transaction keeps a copy of
    /// every page it changes until it ends (its statement journal); the writer keeps those
    /// in memory, which suits the scan's one-row upserts but made a rebuild of 100,000
    /// tracks hold 31 MiB more at its peak. Here they go to a temporary file past 64 KiB.
    pub fn write_bulk<T>(&self, f: impl FnOnce(&mut Connection) -> anyhow::Result<T>) -> anyhow::Result<T> {
        self.write(|conn| {
            conn.pragma_update(None, "temp_store", "FILE")?;
            let result = f(conn);
            let restored = conn.pragma_update(None, "temp_store", TEMP_STORE);
            let value = result?;
            restored?;
            Ok(value)
        })
    }

    /// Runs `f` on a pooled read connection, on the calling (blocking) thread; waits for one
    /// when all [`MAX_READERS`] are busy.
    pub fn read<T>(&self, f: impl FnOnce(&Connection) -> anyhow::Result<T>) -> anyhow::Result<T> {
        let conn = self.take_reader()?;
        let result = f(&conn);
        let mut idle = self.readers.idle.lock().unwrap_or_else(|p| p.into_inner());
        idle.0.push(conn);
        drop(idle);
        self.readers.returned.notify_one();
        result
    }

    fn take_reader(&self) -> anyhow::Result<Connection> {
        let mut idle = self.readers.idle.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if let Some(conn) = idle.0.pop() {
                return Ok(conn);
            }
            if idle.1 < MAX_READERS {
                idle.1 += 1;
                drop(idle);
                let opened = Connection::open(&self.path)
                    .context("opening a read connection")
                    .and_then(|conn| Ok(configure(&conn).map(|()| conn)?));
                if opened.is_err() {
                    self.readers.idle.lock().unwrap_or_else(|p| p.into_inner()).1 -= 1;
                    self.readers.returned.notify_one();
                }
                return opened;
            }
            idle = self.readers.returned.wait(idle).unwrap_or_else(|p| p.into_inner());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(conn: &Connection) -> usize {
        conn.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap()
    }

    #[test]
    fn the_migrations_are_well_formed_and_a_new_file_gets_them_all() {
        // (Not `Migrations::validate`: its bare connection lacks the functions `configure`
        // adds, which layout 5's derivation calls; a new file gets every step instead.)
        let dir = tempfile::TempDir::new().unwrap();
        let db = Db::open(&dir.path().join("new.sqlite3")).unwrap();
        db.read(|conn| {
            assert_eq!(version(conn), LAYOUTS);
            Ok(())
        })
        .unwrap();
    }

    /// A catalog written by the last release before migrations (layout 3;
    /// tests/fixtures/catalog/README.md says how it was made) is upgraded in place: its rows
    /// stay, and the accounts added since stay through every later opening.
    #[test]
    fn a_layout_3_catalog_is_upgraded_in_place_and_keeps_its_rows() {
        let dir = tempfile::TempDir::new().unwrap();
        let path = dir.path().join("catalog.sqlite3");
        std::fs::copy(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/catalog/layout-3.sqlite3"),
            &path,
        )
        .unwrap();
        let count = |db: &Db, table: &str| -> i64 {
            db.read(|conn| Ok(conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))?))
                .unwrap()
        };
        let db = Db::open(&path).unwrap();
        assert_eq!(count(&db, "tracks"), 9);
        assert!(count(&db, "playlists") > 0);
        db.write(|conn| {
            assert_eq!(version(conn), LAYOUTS);
            conn.execute(
                "INSERT INTO users (name, password_hash, password_sealed, admin, created_at) VALUES ('ana', 'h', x'00', 1, 0)",
                [],
            )?;
            Ok(())
        })
        .unwrap();
        drop(db);
        let again = Db::open(&path).unwrap();
        assert_eq!((count(&again, "tracks"), count(&again, "users")), (9, 1));
    }

    #[test]
    fn a_catalog_from_a_newer_release_is_refused_untouched() {
        let dir = tempfile::TempDir::new().unwrap();
        let path = dir.path().join("future.sqlite3");
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch("CREATE TABLE mine (x); PRAGMA user_version = 99;")
            .unwrap();
        drop(conn);
        let error = Db::open(&path).err().unwrap();
        assert!(format!("{error:#}").contains("newer anyaudio"), "{error:#}");
        let conn = Connection::open(&path).unwrap();
        assert_eq!(version(&conn), 99);
    }
}
