//! Each user's stars, ratings and plays of songs, albums and artists (Subsonic's annotations),
//! and the history of plays. Kept by user id and item id: a rescan never touches them, and a
//! track keeps its id (and so its annotations) while its file stays where it is.

use std::collections::HashMap;

use rusqlite::{params, Connection, OptionalExtension};

use crate::model::{Annotation, TrackId, UserId};

/// The layout these need (migration 6).
pub const LAYOUT: &str = "
CREATE TABLE annotations (
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    item_id    TEXT NOT NULL,              -- a track, album (al-) or artist (ar-) id
    starred_at INTEGER,
    rating     INTEGER,                    -- 1 to 5
    play_count INTEGER NOT NULL DEFAULT 0,
    played_at  INTEGER,
    PRIMARY KEY (user_id, item_id)
) WITHOUT ROWID;
CREATE INDEX annotations_starred ON annotations(user_id, starred_at) WHERE starred_at IS NOT NULL;
CREATE INDEX annotations_played ON annotations(user_id, played_at) WHERE played_at IS NOT NULL;
CREATE TABLE plays (
    id        INTEGER PRIMARY KEY,
    user_id   INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    track_id  TEXT NOT NULL,
    played_at INTEGER NOT NULL
);
CREATE INDEX plays_user ON plays(user_id, played_at);
";

/// What a user asked to change of some items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    Star(u64),
    Unstar,
    /// 0 clears the rating.
    Rate(u8),
}

/// Applies `mark` to every item, in one transaction.
pub fn mark(conn: &mut Connection, user: UserId, items: &[String], mark: Mark) -> anyhow::Result<()> {
    let tx = conn.transaction()?;
    for item in items {
        let (column, value): (&str, Option<i64>) = match mark {
            Mark::Star(at) => ("starred_at", Some(at as i64)),
            Mark::Unstar => ("starred_at", None),
            Mark::Rate(0) => ("rating", None),
            Mark::Rate(stars) => ("rating", Some(i64::from(stars.min(5)))),
        };
        tx.prepare_cached(&format!(
            "INSERT INTO annotations(user_id, item_id, {column}) VALUES (?1, ?2, ?3)
             ON CONFLICT(user_id, item_id) DO UPDATE SET {column} = excluded.{column}"
        ))?
        .execute(params![user.0, item, value])?;
    }
    tx.commit()?;
    Ok(())
}

/// A finished play of `track` at `at`: in the history, and counted for the track, its album
/// and its artist.
pub fn record_play(conn: &mut Connection, user: UserId, track: &TrackId, at: u64) -> anyhow::Result<bool> {
    let tx = conn.transaction()?;
    let known = play_in(&tx, user, track, at)?;
    tx.commit()?;
    Ok(known)
}

/// What a browser kept before its listener logged in (saved songs and plays), copied to their
/// account in one transaction. Tracks the catalog doesn't have are left out; how many of each
/// were copied.
pub fn import(
    conn: &mut Connection,
    user: UserId,
    stars: &[(TrackId, u64)],
    plays: &[(TrackId, u64)],
) -> anyhow::Result<(u64, u64)> {
    let tx = conn.transaction()?;
    let mut starred = 0;
    for (track, at) in stars {
        // A star already given stays as it was (its time too).
        let changed = tx
            .prepare_cached(
                "INSERT INTO annotations(user_id, item_id, starred_at)
                 SELECT ?1, id, ?3 FROM tracks WHERE id = ?2
                 ON CONFLICT(user_id, item_id) DO UPDATE SET starred_at = coalesce(starred_at, excluded.starred_at)",
            )?
            .execute(params![user.0, track.as_str(), *at as i64])?;
        starred += changed as u64;
    }
    let mut played = 0;
    for (track, at) in plays {
        played += u64::from(play_in(&tx, user, track, *at)?);
    }
    tx.commit()?;
    Ok((starred, played))
}

fn play_in(tx: &rusqlite::Transaction<'_>, user: UserId, track: &TrackId, at: u64) -> anyhow::Result<bool> {
    let place: Option<(Option<String>, Option<String>)> = tx
        .query_row(
            "SELECT album_id, artist_id FROM tracks WHERE id = ?1",
            [track.as_str()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((album, artist)) = place else {
        return Ok(false);
    };
    tx.prepare_cached("INSERT INTO plays(user_id, track_id, played_at) VALUES (?1, ?2, ?3)")?
        .execute(params![user.0, track.as_str(), at as i64])?;
    for item in [Some(track.to_string()), album, artist].into_iter().flatten() {
        tx.prepare_cached(
            "INSERT INTO annotations(user_id, item_id, play_count, played_at) VALUES (?1, ?2, 1, ?3)
             ON CONFLICT(user_id, item_id) DO UPDATE SET play_count = play_count + 1,
                 played_at = max(coalesce(played_at, 0), excluded.played_at)",
        )?
        .execute(params![user.0, item, at as i64])?;
    }
    Ok(true)
}

/// A user's annotations of the items among `ids` that have any.
pub fn of(conn: &Connection, user: UserId, ids: &[String]) -> anyhow::Result<HashMap<String, Annotation>> {
    let ids = serde_json::to_string(ids)?;
    let mut stmt = conn.prepare_cached(
        "SELECT item_id, starred_at, rating, play_count, played_at FROM annotations
         WHERE user_id = ?1 AND item_id IN (SELECT value FROM json_each(?2))",
    )?;
    let found = stmt.query_map(params![user.0, ids], |r| {
        Ok((
            r.get::<_, String>(0)?,
            Annotation {
                starred: r.get::<_, Option<i64>>(1)?.map(|t| t.max(0) as u64),
                rating: r.get::<_, Option<i64>>(2)?.map(|n| n.clamp(1, 5) as u8),
                play_count: r.get::<_, i64>(3)?.max(0) as u64,
                played: r.get::<_, Option<i64>>(4)?.map(|t| t.max(0) as u64),
            },
        ))
    })?;
    Ok(found.collect::<Result<_, _>>()?)
}
