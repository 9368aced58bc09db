//! Users' own playlists (the Subsonic API's): made, renamed, reordered and removed by their
//! owners, seen by others when public. The library's playlists (M3U files, imported feeds and
//! YouTube playlists) are listed beside them, read-only.

use std::path::PathBuf;

use rand::RngCore;
use rusqlite::{params, Connection, OptionalExtension, Transaction};

use super::rows;
use crate::model::{ListedPlaylist, PlaylistId, Song, TrackId, UserId};

/// The layout these need (migration 7).
pub const LAYOUT: &str = "
CREATE TABLE user_playlists (
    id         TEXT PRIMARY KEY,              -- pl-<random>
    owner      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    comment    TEXT,
    public     INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    changed_at INTEGER NOT NULL
);
CREATE INDEX user_playlists_owner ON user_playlists(owner);
CREATE TABLE user_playlist_tracks (
    playlist_id TEXT NOT NULL REFERENCES user_playlists(id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    track_id    TEXT NOT NULL,                -- kept while its file is away: it plays again when back
    PRIMARY KEY (playlist_id, position)
) WITHOUT ROWID;
";

/// The library's kinds of playlist that the Subsonic API lists (albums, artists and genres
/// it browses by tags instead).
const LIBRARY_KINDS: &str = "('m3u', 'remote', 'feed', 'youtube')";

/// Why a change to a playlist was not made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    NotFound,
    /// Someone else's, or the library's.
    NotOwner,
    /// A song id the catalog has no track for.
    UnknownSong,
}

/// A listing's columns over both kinds: user playlists, then the library's.
fn listing(visible_to: &str) -> String {
    format!(
        "SELECT p.id, p.name, p.comment, u.name, p.public, p.created_at, p.changed_at,
                count(t.id), coalesce(sum(t.duration_ms), 0)
         FROM user_playlists p JOIN users u ON u.id = p.owner
         LEFT JOIN user_playlist_tracks e ON e.playlist_id = p.id LEFT JOIN tracks t ON t.id = e.track_id
         WHERE {visible_to} GROUP BY p.id
         UNION ALL
         SELECT p.id, p.name, NULL, NULL, 1, 0, 0, count(t.id), coalesce(sum(t.duration_ms), 0)
         FROM playlists p LEFT JOIN playlist_tracks e ON e.playlist_id = p.id LEFT JOIN tracks t ON t.id = e.track_id
         WHERE p.kind IN {LIBRARY_KINDS} AND ?2 IN (p.id, '*') GROUP BY p.id"
    )
}

fn listed(row: &rusqlite::Row<'_>) -> rusqlite::Result<ListedPlaylist> {
    Ok(ListedPlaylist {
        id: PlaylistId::from_trusted(row.get(0)?),
        name: row.get(1)?,
        comment: row.get(2)?,
        owner: row.get(3)?,
        public: row.get(4)?,
        created: row.get::<_, i64>(5)?.max(0) as u64,
        changed: row.get::<_, i64>(6)?.max(0) as u64,
        song_count: row.get(7)?,
        duration: (row.get::<_, i64>(8)?.max(0) as u64).div_ceil(1000),
    })
}

/// What `user` sees: their own, others' public ones, and the library's.
pub fn list(conn: &Connection, user: UserId) -> anyhow::Result<Vec<ListedPlaylist>> {
    let sql = format!(
        "{} ORDER BY 2 COLLATE NOCASE",
        listing("(p.owner = ?1 OR p.public) AND ?2 = '*'")
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let found = stmt.query_map(params![user.0, "*"], listed)?;
    Ok(found.collect::<Result<_, _>>()?)
}

/// A playlist `user` may see, with its songs in order (entries whose track is gone are left
/// out).
pub fn get(
    conn: &Connection,
    roots: &[PathBuf],
    user: UserId,
    id: &PlaylistId,
) -> anyhow::Result<Option<(ListedPlaylist, Vec<Song>)>> {
    let sql = listing("(p.owner = ?1 OR p.public) AND p.id = ?2");
    let Some(playlist) = conn
        .prepare_cached(&sql)?
        .query_row(params![user.0, id.as_str()], listed)
        .optional()?
    else {
        return Ok(None);
    };
    let entries = if playlist.owner.is_some() {
        "user_playlist_tracks"
    } else {
        "playlist_tracks"
    };
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {} FROM {entries} e JOIN tracks t ON t.id = e.track_id WHERE e.playlist_id = ?1 ORDER BY e.position",
        rows::song_columns("t")
    ))?;
    let songs = stmt
        .query_map([id.as_str()], |row| rows::song(row, roots))?
        .collect::<Result<_, _>>()?;
    Ok(Some((playlist, songs)))
}

/// A new playlist of `songs`; its id.
pub fn create(
    conn: &mut Connection,
    user: UserId,
    name: &str,
    songs: &[TrackId],
    now: u64,
) -> anyhow::Result<Result<PlaylistId, Refused>> {
    let mut bytes = [0u8; 8];
    rand::thread_rng().fill_bytes(&mut bytes);
    let id = PlaylistId::from_trusted(format!(
        "pl-{}",
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
    ));
    let tx = conn.transaction()?;
    tx.execute(
        "INSERT INTO user_playlists(id, owner, name, created_at, changed_at) VALUES (?1, ?2, ?3, ?4, ?4)",
        params![id.as_str(), user.0, name, now as i64],
    )?;
    if let Err(refused) = set_songs(&tx, &id, songs)? {
        return Ok(Err(refused));
    }
    tx.commit()?;
    Ok(Ok(id))
}

/// What an update changes; what is None or empty stays.
#[derive(Debug, Default)]
pub struct Update {
    pub name: Option<String>,
    pub comment: Option<String>,
    pub public: Option<bool>,
    /// Replaces every song (createPlaylist with a playlistId).
    pub songs: Option<Vec<TrackId>>,
    /// Removed first, by their places before the change.
    pub remove: Vec<u32>,
    /// Then added at the end.
    pub add: Vec<TrackId>,
}

/// Changes one of `user`'s playlists, all or nothing.
pub fn update(
    conn: &mut Connection,
    user: UserId,
    id: &PlaylistId,
    update: &Update,
    now: u64,
) -> anyhow::Result<Result<(), Refused>> {
    let tx = conn.transaction()?;
    if let Err(refused) = owned(&tx, user, id)? {
        return Ok(Err(refused));
    }
    tx.execute(
        "UPDATE user_playlists SET name = coalesce(?2, name), comment = coalesce(?3, comment),
                public = coalesce(?4, public), changed_at = ?5 WHERE id = ?1",
        params![id.as_str(), update.name, update.comment, update.public, now as i64],
    )?;
    let mut songs: Vec<TrackId> = match &update.songs {
        Some(songs) => songs.clone(),
        None => {
            let mut stmt = tx
                .prepare_cached("SELECT track_id FROM user_playlist_tracks WHERE playlist_id = ?1 ORDER BY position")?;
            let found = stmt.query_map([id.as_str()], |r| Ok(TrackId::from_trusted(r.get(0)?)))?;
            found.collect::<Result<_, _>>()?
        }
    };
    let mut index = 0;
    songs.retain(|_| {
        let keep = !update.remove.contains(&index);
        index += 1;
        keep
    });
    songs.extend(update.add.iter().cloned());
    if let Err(refused) = set_songs(&tx, id, &songs)? {
        return Ok(Err(refused));
    }
    tx.commit()?;
    Ok(Ok(()))
}

pub fn delete(conn: &mut Connection, user: UserId, id: &PlaylistId) -> anyhow::Result<Result<(), Refused>> {
    let tx = conn.transaction()?;
    if let Err(refused) = owned(&tx, user, id)? {
        return Ok(Err(refused));
    }
    tx.execute("DELETE FROM user_playlists WHERE id = ?1", [id.as_str()])?;
    tx.commit()?;
    Ok(Ok(()))
}

fn owned(tx: &Transaction<'_>, user: UserId, id: &PlaylistId) -> anyhow::Result<Result<(), Refused>> {
    let owner: Option<i64> = tx
        .query_row("SELECT owner FROM user_playlists WHERE id = ?1", [id.as_str()], |r| {
            r.get(0)
        })
        .optional()?;
    let library: bool = tx.query_row(
        &format!("SELECT count(*) > 0 FROM playlists WHERE id = ?1 AND kind IN {LIBRARY_KINDS}"),
        [id.as_str()],
        |r| r.get(0),
    )?;
    Ok(match owner {
        Some(owner) if owner == user.0 => Ok(()),
        Some(_) => Err(Refused::NotOwner),
        None if library => Err(Refused::NotOwner),
        None => Err(Refused::NotFound),
    })
}

/// The playlist's songs become `songs`, each a track of the catalog.
fn set_songs(tx: &Transaction<'_>, id: &PlaylistId, songs: &[TrackId]) -> anyhow::Result<Result<(), Refused>> {
    tx.execute("DELETE FROM user_playlist_tracks WHERE playlist_id = ?1", [id.as_str()])?;
    for (position, song) in songs.iter().enumerate() {
        let known: bool = tx
            .prepare_cached("SELECT count(*) > 0 FROM tracks WHERE id = ?1")?
            .query_row([song.as_str()], |r| r.get(0))?;
        if !known {
            return Ok(Err(Refused::UnknownSong));
        }
        tx.prepare_cached("INSERT INTO user_playlist_tracks(playlist_id, position, track_id) VALUES (?1, ?2, ?3)")?
            .execute(params![id.as_str(), position as i64, song.as_str()])?;
    }
    Ok(Ok(()))
}
