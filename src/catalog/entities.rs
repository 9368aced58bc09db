//! Albums and artists, derived from the tracks whenever the library changes (with the
//! derived playlists), as the Subsonic API browses them.
//!
//! A track is filed under its album artist tag; without one, under "Various Artists" when
//! other tracks of the same album in the same folder (`folder_id`: the folders are rebuilt
//! first) have other (first) artists (a
//! compilation tagged without album artists), else under its own first artist. An album is
//! its name and the artist it is filed under; its id is a hash of both, so it stays across
//! rescans. Where the tags list several album artists, the album is also listed under each
//! (`album_artists`); where they list several artists, each is an artist.

use rusqlite::Transaction;

use crate::model::{UNKNOWN_ALBUM, UNKNOWN_ARTIST, VARIOUS_ARTISTS};

/// The artist id of a name expression ([`ArtistId::named`](crate::model::ArtistId::named) in SQL).
fn artist_id_of(name: &str) -> String {
    format!("'ar-' || substr(stable_id('artist', {name}), 1, 12)")
}

/// Rebuilds `albums`, `album_artists` and `artists`, and each track's `filed_artist` and
/// `album_id` where they change (the scan leaves `album_id` empty on what it writes, and
/// files each track under its artist as it writes it; an upgraded catalog's tracks without
/// an artist id get one here). Rows whose values stay are not rewritten, and the hashes
/// behind the ids are computed only for rows that change.
pub fn rebuild(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    // A track's (first) artist: its first listed artist, else its one artist. An album whose
    // tracks have one first artist is theirs ("A feat. B" on A's album is no compilation).
    let first_artist = "coalesce(json_extract(artists, '$[0]'), artist)";
    let track_artist = format!("coalesce({first_artist}, '{UNKNOWN_ARTIST}')");
    let filed = format!(
        "coalesce(album_artist,
                  CASE WHEN (album, coalesce(folder_id, '')) IN compilations THEN '{VARIOUS_ARTISTS}' END,
                  {track_artist})"
    );
    let album_id = format!("'al-' || substr(stable_id('album', coalesce(album, '{UNKNOWN_ALBUM}'), {filed}), 1, 12)");
    let album_artist_id = artist_id_of("coalesce(json_extract(min(album_artists), '$[0]'), min(filed_artist))");
    let listed_id = artist_id_of("name.value");
    let artist_id = artist_id_of(&track_artist);
    timed(
        tx,
        "tracks filed",
        &format!(
            "WITH compilations AS (
             SELECT album, coalesce(folder_id, '') FROM tracks WHERE album_artist IS NULL AND album IS NOT NULL
             GROUP BY 1, 2 HAVING count(DISTINCT coalesce({first_artist}, '')) > 1)
         UPDATE tracks SET filed_artist = {filed}, album_id = {album_id}
         WHERE filed_artist IS NOT {filed} OR album_id IS NULL;
         UPDATE tracks SET artist_id = {artist_id} WHERE artist_id IS NULL;"
        ),
    )?;
    timed(
        tx,
        "albums",
        &format!(
            "DELETE FROM albums;
         INSERT INTO albums(id, name, folded, artist, artist_id, artists, year, genre, song_count, duration_ms,
                            created_at, cover_track)
           SELECT album_id, min(coalesce(album, '{UNKNOWN_ALBUM}')), fold_text(min(coalesce(album, '{UNKNOWN_ALBUM}'))),
                  min(filed_artist), {album_artist_id},
                  min(album_artists), max(year), max(genre), count(*), sum(coalesce(duration_ms, 0)), min(added_at),
                  min(CASE WHEN picture OR folder_cover OR artwork IS NOT NULL THEN id END)
           FROM tracks GROUP BY album_id;
         DELETE FROM album_artists;
         INSERT OR IGNORE INTO album_artists(album_id, artist_id, name, position)
           SELECT albums.id, {listed_id}, name.value, name.key
           FROM albums, json_each(coalesce(albums.artists, json_array(albums.artist))) name;"
        ),
    )?;
    timed(
        tx,
        "artists",
        &format!(
            "DELETE FROM artists;
         INSERT INTO artists(id, name, folded, album_count, cover_album)
           SELECT id, min(name), fold_text(min(name)), sum(albums), min(cover) FROM (
               SELECT m.artist_id AS id, m.name AS name, 1 AS albums,
                      CASE WHEN a.cover_track IS NOT NULL THEN a.id END AS cover
               FROM album_artists m JOIN albums a ON a.id = m.album_id
               UNION ALL
               SELECT artist_id, {track_artist}, 0, NULL FROM tracks GROUP BY artist_id
               UNION ALL
               SELECT {listed_id}, name.value, 0, NULL
               FROM tracks, json_each(tracks.artists) name WHERE tracks.artists IS NOT NULL)
           GROUP BY id;"
        ),
    )
}

/// Runs `sql`, with its time in the debug log (the rebuild's steps, for profiling a large
/// library).
pub(super) fn timed(tx: &Transaction<'_>, step: &str, sql: &str) -> rusqlite::Result<()> {
    let started = std::time::Instant::now();
    tx.execute_batch(sql)?;
    tracing::debug!(elapsed = ?started.elapsed(), step, "rebuild");
    Ok(())
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

/// Several artists to a track or an album (migration 10). The files are read again at the
/// next scan (a negative mtime matches none), to learn the lists their tags hold.
pub const LAYOUT_ARTIST_LISTS: &str = "
ALTER TABLE tracks ADD COLUMN artists TEXT;        -- each artist, a JSON array, when the tags name several
ALTER TABLE tracks ADD COLUMN album_artists TEXT;  -- each album artist, likewise
ALTER TABLE albums ADD COLUMN artists TEXT;        -- its album artists, when several
CREATE TABLE album_artists (                       -- every album under each of its album artists
    album_id  TEXT NOT NULL,
    artist_id TEXT NOT NULL,
    name      TEXT NOT NULL,
    position  INTEGER NOT NULL,
    PRIMARY KEY (album_id, artist_id)
) WITHOUT ROWID;
CREATE INDEX album_artists_artist ON album_artists(artist_id);
UPDATE tracks SET mtime_ns = -1 WHERE source = 'local';
";

/// Indexes that hold each album and artist list's whole order, ties broken by id (migration
/// 11): a page of `getAlbumList2` newest or by artist, or of an empty-query sync, reads its
/// rows off an index instead of sorting every album (all of a first scan's albums share
/// their `created_at` second, so an index on it alone left the whole list to sort).
pub const LAYOUT_LIST_ORDERS: &str = "
DROP INDEX albums_name;
DROP INDEX albums_created;
DROP INDEX artists_name;
CREATE INDEX albums_name ON albums(name COLLATE NOCASE, id);
CREATE INDEX albums_created ON albums(created_at DESC, id);
CREATE INDEX albums_by_artist ON albums(artist COLLATE NOCASE, year, name COLLATE NOCASE, id);
CREATE INDEX artists_name ON artists(name COLLATE NOCASE, id);
";
