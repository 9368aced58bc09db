//! Browsing the library by tags: artists, their albums, an album's songs, genres, and the
//! search and lists the Subsonic API serves.

use std::path::PathBuf;

use rusqlite::{params, Connection, OptionalExtension, ToSql};

use super::normalize::fold;
use super::rows::{self, ALBUM_COLUMNS, ARTIST_COLUMNS};
use super::search::{matching_rowids, Scope};
use crate::model::{Album, AlbumId, Artist, ArtistId, Genre, Song, TrackId, UserId};

/// Artists that have albums, by name.
pub fn artists(conn: &Connection) -> anyhow::Result<Vec<Artist>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {ARTIST_COLUMNS} FROM artists WHERE album_count > 0 ORDER BY name COLLATE NOCASE"
    ))?;
    let found = stmt.query_map([], rows::artist)?;
    Ok(found.collect::<Result<_, _>>()?)
}

/// An artist and the albums they are an album artist of, oldest first.
pub fn artist(conn: &Connection, id: &ArtistId) -> anyhow::Result<Option<(Artist, Vec<Album>)>> {
    let Some(artist) = conn
        .prepare_cached(&format!("SELECT {ARTIST_COLUMNS} FROM artists WHERE id = ?1"))?
        .query_row([id.as_str()], rows::artist)
        .optional()?
    else {
        return Ok(None);
    };
    let albums = albums_where(
        conn,
        "id IN (SELECT album_id FROM album_artists WHERE artist_id = ?1) ORDER BY year, name COLLATE NOCASE",
        &[&id.as_str()],
    )?;
    Ok(Some((artist, albums)))
}

fn albums_where(conn: &Connection, condition: &str, values: &[&dyn ToSql]) -> anyhow::Result<Vec<Album>> {
    let mut stmt = conn.prepare_cached(&format!("SELECT {ALBUM_COLUMNS} FROM albums WHERE {condition}"))?;
    let found = stmt.query_map(values, rows::album)?;
    Ok(found.collect::<Result<_, _>>()?)
}

fn songs_where(
    conn: &Connection,
    roots: &[PathBuf],
    condition: &str,
    values: &[&dyn ToSql],
) -> anyhow::Result<Vec<Song>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {} FROM tracks t WHERE {condition}",
        rows::song_columns("t")
    ))?;
    let found = stmt.query_map(values, |row| rows::song(row, roots))?;
    Ok(found.collect::<Result<_, _>>()?)
}

pub fn album(conn: &Connection, roots: &[PathBuf], id: &AlbumId) -> anyhow::Result<Option<(Album, Vec<Song>)>> {
    let Some(album) = albums_where(conn, "id = ?1", &[&id.as_str()])?.pop() else {
        return Ok(None);
    };
    let songs = songs_where(
        conn,
        roots,
        "t.album_id = ?1 ORDER BY t.disc_no, t.track_no, t.title",
        &[&id.as_str()],
    )?;
    Ok(Some((album, songs)))
}

pub fn song(conn: &Connection, roots: &[PathBuf], id: &TrackId) -> anyhow::Result<Option<Song>> {
    Ok(songs_where(conn, roots, "t.id = ?1", &[&id.as_str()])?.pop())
}

/// Every genre, with how many songs and albums have it, by name.
pub fn genres(conn: &Connection) -> anyhow::Result<Vec<Genre>> {
    let mut stmt = conn.prepare_cached(
        "SELECT genre, count(*), count(DISTINCT album_id) FROM tracks WHERE genre IS NOT NULL
         GROUP BY genre ORDER BY genre COLLATE NOCASE",
    )?;
    let found = stmt.query_map([], |r| {
        Ok(Genre {
            name: r.get(0)?,
            song_count: r.get(1)?,
            album_count: r.get(2)?,
        })
    })?;
    Ok(found.collect::<Result<_, _>>()?)
}

/// How many of each kind a search returns, and from where in its results.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SearchPages {
    pub artists: Page,
    pub albums: Page,
    pub songs: Page,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub count: u32,
    pub offset: u32,
}

/// What a search found, each kind a page.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Found {
    pub artists: Vec<Artist>,
    pub albums: Vec<Album>,
    pub songs: Vec<Song>,
    /// How many songs match in all (for a query with words; 0 for the empty query).
    pub songs_total: u64,
}

/// Artists, albums and songs matching `query` (every word the start of a word of the name, or
/// for songs of any of their tags); an empty query matches everything, in a stable order, so
/// that clients page through the whole library with it.
pub fn search(conn: &Connection, roots: &[PathBuf], query: &str, pages: SearchPages) -> anyhow::Result<Found> {
    let limits = |p: Page| [i64::from(p.count), i64::from(p.offset)];
    if query.trim().is_empty() {
        let [ar_count, ar_offset] = limits(pages.artists);
        let [al_count, al_offset] = limits(pages.albums);
        let [so_count, so_offset] = limits(pages.songs);
        return Ok(Found {
            artists: {
                let mut stmt = conn.prepare_cached(&format!(
                    "SELECT {ARTIST_COLUMNS} FROM artists WHERE album_count > 0
                     ORDER BY name COLLATE NOCASE, id LIMIT ?1 OFFSET ?2"
                ))?;
                let found = stmt.query_map([ar_count, ar_offset], rows::artist)?;
                found.collect::<Result<_, _>>()?
            },
            albums: albums_where(
                conn,
                "1 ORDER BY name COLLATE NOCASE, id LIMIT ?1 OFFSET ?2",
                &[&al_count, &al_offset],
            )?,
            songs: songs_where(
                conn,
                roots,
                "1 ORDER BY t.rowid LIMIT ?1 OFFSET ?2",
                &[&so_count, &so_offset],
            )?,
            songs_total: 0,
        });
    }
    // Each folded word must start a word of the folded name.
    let words: Vec<String> = fold(query)
        .split(' ')
        .filter(|w| !w.is_empty())
        .map(like_prefix)
        .collect();
    if words.is_empty() {
        return Ok(Found::default());
    }
    let condition = (1..=words.len())
        .map(|i| format!("(' ' || folded) LIKE ?{i} ESCAPE '\\'"))
        .collect::<Vec<_>>()
        .join(" AND ");
    let n = words.len();
    let mut values: Vec<&dyn ToSql> = words.iter().map(|w| w as &dyn ToSql).collect();
    let [ar_count, ar_offset] = limits(pages.artists);
    values.extend([&ar_count as &dyn ToSql, &ar_offset]);
    let artists = {
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {ARTIST_COLUMNS} FROM artists WHERE {condition} AND album_count > 0
             ORDER BY name COLLATE NOCASE, id LIMIT ?{} OFFSET ?{}",
            n + 1,
            n + 2
        ))?;
        let found = stmt.query_map(values.as_slice(), rows::artist)?;
        found.collect::<Result<_, _>>()?
    };
    let [al_count, al_offset] = limits(pages.albums);
    values.truncate(n);
    values.extend([&al_count as &dyn ToSql, &al_offset]);
    let albums = albums_where(
        conn,
        &format!(
            "{condition} ORDER BY name COLLATE NOCASE, id LIMIT ?{} OFFSET ?{}",
            n + 1,
            n + 2
        ),
        &values,
    )?;
    let (songs_total, rowids) = matching_rowids(conn, query, Scope::All, pages.songs.count, pages.songs.offset)?;
    let mut songs = Vec::with_capacity(rowids.len());
    for rowid in rowids {
        songs.extend(songs_where(conn, roots, "t.rowid = ?1", &[&rowid])?);
    }
    Ok(Found {
        artists,
        albums,
        songs,
        songs_total,
    })
}

/// A LIKE pattern for names with a word that starts with `word` (wildcards in it escaped).
fn like_prefix(word: &str) -> String {
    let escaped = word.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("% {escaped}%")
}

/// The orders `getAlbumList2` offers that need no listening history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AlbumOrder {
    Random,
    Newest,
    AlphabeticalByName,
    AlphabeticalByArtist,
    /// From one year to another (descending when `from` is the later one).
    ByYear {
        from: u32,
        to: u32,
    },
    ByGenre(String),
    /// The user's most played first.
    Frequent(UserId),
    /// The user's last played first.
    Recent(UserId),
    /// The user's starred, last starred first.
    Starred(UserId),
}

/// A page of albums in `order`.
pub fn album_list(conn: &Connection, order: &AlbumOrder, size: u32, offset: u32) -> anyhow::Result<Vec<Album>> {
    let (size, offset) = (i64::from(size), i64::from(offset));
    match order {
        AlbumOrder::Random => albums_where(conn, "1 ORDER BY random() LIMIT ?1 OFFSET ?2", &[&size, &offset]),
        AlbumOrder::Newest => albums_where(
            conn,
            "1 ORDER BY created_at DESC, id LIMIT ?1 OFFSET ?2",
            &[&size, &offset],
        ),
        AlbumOrder::AlphabeticalByName => albums_where(
            conn,
            "1 ORDER BY name COLLATE NOCASE, id LIMIT ?1 OFFSET ?2",
            &[&size, &offset],
        ),
        AlbumOrder::AlphabeticalByArtist => albums_where(
            conn,
            "1 ORDER BY artist COLLATE NOCASE, year, name COLLATE NOCASE, id LIMIT ?1 OFFSET ?2",
            &[&size, &offset],
        ),
        AlbumOrder::ByYear { from, to } => {
            let (low, high, direction) = if from <= to { (from, to, "") } else { (to, from, "DESC") };
            albums_where(
                conn,
                &format!(
                    "year BETWEEN ?3 AND ?4 ORDER BY year {direction}, name COLLATE NOCASE, id LIMIT ?1 OFFSET ?2"
                ),
                &[&size, &offset, low, high],
            )
        }
        AlbumOrder::Frequent(user) => annotated_albums(
            conn,
            *user,
            "play_count > 0",
            "play_count DESC, played_at DESC",
            size,
            offset,
        ),
        AlbumOrder::Recent(user) => {
            annotated_albums(conn, *user, "played_at IS NOT NULL", "played_at DESC", size, offset)
        }
        AlbumOrder::Starred(user) => {
            annotated_albums(conn, *user, "starred_at IS NOT NULL", "starred_at DESC", size, offset)
        }
        AlbumOrder::ByGenre(genre) => albums_where(
            conn,
            "id IN (SELECT album_id FROM tracks WHERE genre = ?3) ORDER BY name COLLATE NOCASE, id LIMIT ?1 OFFSET ?2",
            &[&size, &offset, genre],
        ),
    }
}

/// A page of the albums a user's annotations select, in their order (the annotation's
/// columns don't clash with the album's, so neither needs a prefix).
fn annotated_albums(
    conn: &Connection,
    user: UserId,
    condition: &str,
    order: &str,
    size: i64,
    offset: i64,
) -> anyhow::Result<Vec<Album>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {ALBUM_COLUMNS} FROM albums JOIN annotations ON item_id = albums.id AND user_id = ?1
         WHERE {condition} ORDER BY {order}, albums.id LIMIT ?2 OFFSET ?3"
    ))?;
    let found = stmt.query_map(params![user.0, size, offset], rows::album)?;
    Ok(found.collect::<Result<_, _>>()?)
}

/// What a user starred: artists, albums and songs, last starred first.
pub fn starred(conn: &Connection, roots: &[PathBuf], user: UserId) -> anyhow::Result<Found> {
    Ok(Found {
        artists: starred_in(conn, user, "artists", &prefixed(ARTIST_COLUMNS, "x"), rows::artist)?,
        albums: starred_in(conn, user, "albums", &prefixed(ALBUM_COLUMNS, "x"), rows::album)?,
        songs: starred_in(conn, user, "tracks", &rows::song_columns("x"), |row| {
            rows::song(row, roots)
        })?,
        songs_total: 0,
    })
}

/// The rows of `table` (as `x`) the user starred, last starred first.
fn starred_in<T>(
    conn: &Connection,
    user: UserId,
    table: &str,
    columns: &str,
    read: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> anyhow::Result<Vec<T>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {columns} FROM {table} x
         JOIN annotations n ON n.item_id = x.id AND n.user_id = ?1 AND n.starred_at IS NOT NULL
         ORDER BY n.starred_at DESC"
    ))?;
    let found = stmt.query_map([user.0], read)?;
    Ok(found.collect::<Result<_, _>>()?)
}

fn prefixed(columns: &str, alias: &str) -> String {
    columns
        .split(", ")
        .map(|c| format!("{alias}.{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Up to `size` random songs, of a genre and from a span of years if given.
pub fn random_songs(
    conn: &Connection,
    roots: &[PathBuf],
    size: u32,
    genre: Option<&str>,
    years: (Option<u32>, Option<u32>),
) -> anyhow::Result<Vec<Song>> {
    songs_where(
        conn,
        roots,
        "(?2 IS NULL OR t.genre = ?2) AND (?3 IS NULL OR t.year >= ?3) AND (?4 IS NULL OR t.year <= ?4)
         ORDER BY random() LIMIT ?1",
        &[&size, &genre, &years.0, &years.1],
    )
}

/// A page of a genre's songs.
pub fn songs_by_genre(
    conn: &Connection,
    roots: &[PathBuf],
    genre: &str,
    count: u32,
    offset: u32,
) -> anyhow::Result<Vec<Song>> {
    songs_where(
        conn,
        roots,
        "t.genre = ?1 ORDER BY t.filed_artist, t.album, t.disc_no, t.track_no, t.rowid LIMIT ?2 OFFSET ?3",
        params![genre, count, offset].as_ref(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_prefix("beat"), "% beat%");
        assert_eq!(like_prefix("100%_a\\"), "% 100\\%\\_a\\\\%");
    }
}
