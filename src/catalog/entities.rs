//! Albums and artists, derived from the tracks whenever the library changes (with the
//! derived playlists), as the Subsonic API browses them.
//!
//! A track is filed under its album artist tag; without one, under "Various Artists" when
//! other tracks of the same album in the same folder have other artists (a compilation
//! tagged without album artists), else under its own artist. An album is its name and the
//! artist it is filed under; its id is a hash of both, so it stays across rescans.

use rusqlite::Transaction;

use crate::model::{UNKNOWN_ALBUM, UNKNOWN_ARTIST, VARIOUS_ARTISTS};

/// The folder of a track's path, with its trailing slash ('' for remote media): SQLite has
/// no dirname, but trimming every character that is not a slash off the end is one.
pub(super) const FOLDER: &str = "coalesce(rtrim(path, replace(path, '/', '')), '')";

/// Rebuilds `albums` and `artists` and each track's `album_id`, `artist_id` and
/// `filed_artist`. Rows whose values stay are not rewritten.
pub fn rebuild(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    let filed = format!(
        "coalesce(album_artist,
                  CASE WHEN (album, {FOLDER}) IN compilations THEN '{VARIOUS_ARTISTS}' END,
                  artist, '{UNKNOWN_ARTIST}')"
    );
    tx.execute_batch(&format!(
        "WITH compilations AS (
             SELECT album, {FOLDER} FROM tracks WHERE album_artist IS NULL AND album IS NOT NULL
             GROUP BY 1, 2 HAVING count(DISTINCT coalesce(artist, '')) > 1)
         UPDATE tracks SET filed_artist = {filed} WHERE filed_artist IS NOT {filed};

         UPDATE tracks SET artist_id = {artist_id}, album_id = {album_id}
         WHERE artist_id IS NOT {artist_id} OR album_id IS NOT {album_id};

         DELETE FROM albums;
         INSERT INTO albums(id, name, folded, artist, artist_id, year, genre, song_count, duration_ms, created_at, cover_track)
           SELECT album_id, min(coalesce(album, '{UNKNOWN_ALBUM}')), fold_text(min(coalesce(album, '{UNKNOWN_ALBUM}'))),
                  min(filed_artist), 'ar-' || substr(stable_id('artist', min(filed_artist)), 1, 12),
                  max(year), max(genre), count(*), sum(coalesce(duration_ms, 0)), min(added_at),
                  min(CASE WHEN picture OR folder_cover OR artwork IS NOT NULL THEN id END)
           FROM tracks GROUP BY album_id;

         DELETE FROM artists;
         INSERT INTO artists(id, name, folded, album_count, cover_album)
           SELECT id, min(name), fold_text(min(name)), sum(albums), min(cover) FROM (
               SELECT artist_id AS id, artist AS name, 1 AS albums,
                      CASE WHEN cover_track IS NOT NULL THEN id END AS cover FROM albums
               UNION ALL
               SELECT artist_id, coalesce(artist, '{UNKNOWN_ARTIST}'), 0, NULL FROM tracks GROUP BY artist_id)
           GROUP BY id;",
        artist_id = format!("'ar-' || substr(stable_id('artist', coalesce(artist, '{UNKNOWN_ARTIST}')), 1, 12)"),
        album_id = format!("'al-' || substr(stable_id('album', coalesce(album, '{UNKNOWN_ALBUM}'), filed_artist), 1, 12)"),
    ))
}

/// The layout these need (migration 5).
pub const LAYOUT: &str = "
ALTER TABLE tracks ADD COLUMN filed_artist TEXT;   -- the album artist the track is filed under
ALTER TABLE tracks ADD COLUMN album_id TEXT;
ALTER TABLE tracks ADD COLUMN artist_id TEXT;      -- the track artist's
CREATE INDEX tracks_album_id ON tracks(album_id);
CREATE INDEX tracks_artist_id ON tracks(artist_id);
CREATE TABLE albums (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    folded      TEXT NOT NULL,                     -- normalize::fold of the name, for search
    artist      TEXT NOT NULL,                     -- the album artist
    artist_id   TEXT NOT NULL,
    year        INTEGER,
    genre       TEXT,
    song_count  INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    cover_track TEXT                               -- a track whose cover is the album's
);
CREATE INDEX albums_artist ON albums(artist_id);
CREATE INDEX albums_name ON albums(name COLLATE NOCASE);
CREATE INDEX albums_created ON albums(created_at);
CREATE TABLE artists (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    folded      TEXT NOT NULL,
    album_count INTEGER NOT NULL,                  -- albums filed under them
    cover_album TEXT
);
CREATE INDEX artists_name ON artists(name COLLATE NOCASE);
";
