//! Each user's saved play queue (Subsonic's `savePlayQueue`/`getPlayQueue`), so that a
//! listener carries on, on another device, where they stopped.

use rusqlite::{params, Connection, OptionalExtension};

use crate::model::{TrackId, UserId};

/// The layout this needs (migration 8).
pub const LAYOUT: &str = "
CREATE TABLE play_queues (
    user_id     INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    tracks      TEXT NOT NULL,                 -- a JSON array of track ids, in order
    current     TEXT,                          -- the track playing
    position_ms INTEGER NOT NULL DEFAULT 0,    -- how far into it
    changed_at  INTEGER NOT NULL,
    changed_by  TEXT NOT NULL                  -- the client that saved it
);
";

/// A saved queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlayQueue {
    pub tracks: Vec<TrackId>,
    pub current: Option<TrackId>,
    pub position_ms: u64,
    pub changed_at: u64,
    pub changed_by: String,
}

/// Keeps `queue` as the user's (an empty one removes it).
pub fn save(conn: &Connection, user: UserId, queue: &PlayQueue) -> anyhow::Result<()> {
    if queue.tracks.is_empty() {
        conn.execute("DELETE FROM play_queues WHERE user_id = ?1", [user.0])?;
        return Ok(());
    }
    let tracks = serde_json::to_string(&queue.tracks)?;
    conn.execute(
        "INSERT OR REPLACE INTO play_queues(user_id, tracks, current, position_ms, changed_at, changed_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            user.0,
            tracks,
            queue.current.as_ref().map(TrackId::as_str),
            i64::try_from(queue.position_ms).unwrap_or(i64::MAX),
            queue.changed_at as i64,
            queue.changed_by
        ],
    )?;
    Ok(())
}

pub fn load(conn: &Connection, user: UserId) -> anyhow::Result<Option<PlayQueue>> {
    let row = conn
        .query_row(
            "SELECT tracks, current, position_ms, changed_at, changed_by FROM play_queues WHERE user_id = ?1",
            [user.0],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, Option<String>>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, String>(4)?,
                ))
            },
        )
        .optional()?;
    let Some((tracks, current, position, changed_at, changed_by)) = row else {
        return Ok(None);
    };
    Ok(Some(PlayQueue {
        tracks: serde_json::from_str(&tracks)?,
        current: current.map(TrackId::from_trusted),
        position_ms: position.max(0) as u64,
        changed_at: changed_at.max(0) as u64,
        changed_by,
    }))
}
