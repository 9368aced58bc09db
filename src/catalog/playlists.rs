//! Playlists: smart ones computed on demand (`recent`, `mix`), ones derived from the library at
//! scan time (one per album, artist and genre), and M3U/M3U8 files found in the library.
//! Also "related tracks", the basis of "up next".

use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, OptionalExtension, Transaction};

use super::model::{Playlist, PlaylistSummary, Track, TRACK_COLUMNS};
use super::stable_id;

/// How many tracks the smart playlists hold.
const SMART_SIZE: i64 = 50;

pub const KINDS: &[&str] = &["smart", "m3u", "remote", "feed", "youtube", "genre", "artist", "album"];

/// Reads every M3U file into `playlists` + `playlist_tracks`; entries that are not tracks of
/// the library (missing files, files outside it, URLs) are left out.
pub fn rebuild_m3u(tx: &Transaction<'_>, files: &[PathBuf]) -> anyhow::Result<()> {
    tx.execute(
        "DELETE FROM playlist_tracks WHERE playlist_id IN (SELECT id FROM playlists WHERE kind = 'm3u')",
        [],
    )?;
    tx.execute("DELETE FROM playlists WHERE kind = 'm3u'", [])?;
    for file in files {
        let Ok(bytes) = std::fs::read(file) else {
            tracing::warn!(path = %file.display(), "skipping unreadable playlist");
            continue;
        };
        let parsed = crate::playlist_formats::parse_m3u(&String::from_utf8_lossy(&bytes));
        let (name, entries) = (parsed.name, parsed.entries.into_iter().map(|e| e.location));
        let name = name.unwrap_or_else(|| {
            file.file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or("Playlist")
                .to_owned()
        });
        let id = format!("m3u-{}", &stable_id(&["m3u", &file.to_string_lossy()])[..12]);
        let dir = file.parent().unwrap_or(Path::new("/"));
        let mut position = 0;
        for entry in entries {
            let Some(path) = resolve_entry(dir, &entry) else {
                continue;
            };
            let track: Option<String> = tx
                .prepare_cached("SELECT id FROM tracks WHERE path = ?1")?
                .query_row([&path], |r| r.get(0))
                .optional()?;
            if let Some(track_id) = track {
                tx.execute(
                    "INSERT INTO playlist_tracks(playlist_id, position, track_id) VALUES (?1, ?2, ?3)",
                    params![id, position, track_id],
                )?;
                position += 1;
            }
        }
        tx.execute(
            "INSERT OR REPLACE INTO playlists(id, kind, name, subtitle, key1, key2, track_count) VALUES (?1, 'm3u', ?2, NULL, NULL, NULL, ?3)",
            params![id, name, position],
        )?;
    }
    Ok(())
}

/// A local path for an M3U entry (relative to the playlist, absolute, or `file://`), if it exists.
fn resolve_entry(dir: &Path, entry: &str) -> Option<String> {
    if entry.contains("://") && !entry.starts_with("file://") {
        return None; // remote entries belong to the HTTP source
    }
    let entry = entry.trim_start_matches("file://").replace('\\', "/");
    let path = dir.join(entry);
    path.canonicalize().ok()?.to_str().map(str::to_owned)
}

/// Rebuilds the album, artist and genre playlists from the tracks.
pub fn rebuild_derived(tx: &Transaction<'_>) -> anyhow::Result<()> {
    tx.execute("DELETE FROM playlists WHERE kind IN ('album', 'artist', 'genre')", [])?;
    tx.execute_batch(
        "INSERT INTO playlists(id, kind, name, subtitle, key1, key2, track_count)
           SELECT 'album-' || substr(stable_id('album', album, coalesce(album_artist, artist, '')), 1, 12), 'album', album,
                  coalesce(album_artist, artist), album, coalesce(album_artist, artist, ''), count(*)
           FROM tracks WHERE album IS NOT NULL GROUP BY album, coalesce(album_artist, artist, '');
         INSERT INTO playlists(id, kind, name, subtitle, key1, key2, track_count)
           SELECT 'artist-' || substr(stable_id('artist', artist), 1, 12), 'artist', artist, NULL, artist, NULL, count(*)
           FROM tracks WHERE artist IS NOT NULL GROUP BY artist;
         INSERT INTO playlists(id, kind, name, subtitle, key1, key2, track_count)
           SELECT 'genre-' || substr(stable_id('genre', genre), 1, 12), 'genre', genre, NULL, genre, NULL, count(*)
           FROM tracks WHERE genre IS NOT NULL GROUP BY genre;",
    )?;
    Ok(())
}

fn smart_summaries(conn: &Connection) -> anyhow::Result<Vec<PlaylistSummary>> {
    let count: i64 = conn.query_row("SELECT min(count(*), ?1) FROM tracks", [SMART_SIZE], |r| r.get(0))?;
    Ok(vec![
        PlaylistSummary {
            id: "recent".into(),
            kind: "recent".into(),
            name: "Recently added".into(),
            subtitle: None,
            track_count: count as u64,
        },
        PlaylistSummary {
            id: "mix".into(),
            kind: "mix".into(),
            name: "Random mix".into(),
            subtitle: None,
            track_count: count as u64,
        },
    ])
}

/// One page of playlists, optionally of one kind (see [`KINDS`]); smart ones first, then by kind and name.
pub fn list(
    conn: &Connection,
    kind: Option<&str>,
    limit: u32,
    offset: u32,
) -> anyhow::Result<(u64, Vec<PlaylistSummary>)> {
    let smart = if matches!(kind, None | Some("smart")) {
        smart_summaries(conn)?
    } else {
        Vec::new()
    };
    let stored_kind = kind.filter(|k| *k != "smart");
    if kind == Some("smart") {
        let total = smart.len() as u64;
        return Ok((
            total,
            smart.into_iter().skip(offset as usize).take(limit as usize).collect(),
        ));
    }
    let order = "CASE kind WHEN 'm3u' THEN 0 WHEN 'remote' THEN 1 WHEN 'feed' THEN 2 WHEN 'genre' THEN 3 WHEN 'artist' THEN 4 ELSE 5 END, name COLLATE NOCASE, subtitle";
    let stored_total: i64 = conn
        .prepare_cached("SELECT count(*) FROM playlists WHERE ?1 IS NULL OR kind = ?1")?
        .query_row([stored_kind], |r| r.get(0))?;
    let skip_smart = (offset as usize).min(smart.len());
    let mut page: Vec<PlaylistSummary> = smart.iter().skip(skip_smart).take(limit as usize).cloned().collect();
    let remaining = limit as usize - page.len();
    let stored_offset = offset as usize - skip_smart;
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT id, kind, name, subtitle, track_count FROM playlists WHERE ?1 IS NULL OR kind = ?1 ORDER BY {order} LIMIT ?2 OFFSET ?3"
    ))?;
    let rows = stmt.query_map(
        params![stored_kind, remaining as i64, stored_offset as i64],
        summary_from_row,
    )?;
    for row in rows {
        page.push(row?);
    }
    Ok((smart.len() as u64 + stored_total as u64, page))
}

pub fn summary(conn: &Connection, id: &str) -> anyhow::Result<Option<PlaylistSummary>> {
    Ok(conn
        .prepare_cached("SELECT id, kind, name, subtitle, track_count FROM playlists WHERE id = ?1")?
        .query_row([id], summary_from_row)
        .optional()?)
}

fn summary_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<PlaylistSummary> {
    Ok(PlaylistSummary {
        id: r.get(0)?,
        kind: r.get(1)?,
        name: r.get(2)?,
        subtitle: r.get(3)?,
        track_count: r.get::<_, i64>(4)? as u64,
    })
}

/// A playlist with its tracks, or None if there is no such playlist.
pub fn get(conn: &Connection, id: &str) -> anyhow::Result<Option<Playlist>> {
    let cols = TRACK_COLUMNS;
    let tracks_of = |sql: &str, p: &[&dyn rusqlite::ToSql]| -> anyhow::Result<Vec<Track>> {
        let mut stmt = conn.prepare_cached(sql)?;
        let rows = stmt.query_map(p, Track::from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    };
    if let Some(summary) = smart_summaries(conn)?.into_iter().find(|s| s.id == id) {
        let order = if id == "recent" {
            "added_at DESC, title"
        } else {
            "random()"
        };
        let tracks = tracks_of(
            &format!("SELECT {cols} FROM tracks ORDER BY {order} LIMIT ?1"),
            &[&SMART_SIZE],
        )?;
        return Ok(Some(Playlist { summary, tracks }));
    }
    let row = conn
        .prepare_cached("SELECT id, kind, name, subtitle, track_count, key1, key2 FROM playlists WHERE id = ?1")?
        .query_row([id], |r| {
            Ok((
                summary_from_row(r)?,
                r.get::<_, Option<String>>(5)?,
                r.get::<_, Option<String>>(6)?,
            ))
        })
        .optional()?;
    let Some((summary, key1, key2)) = row else {
        return Ok(None);
    };
    let tracks = match summary.kind.as_str() {
        "album" => tracks_of(
            &format!("SELECT {cols} FROM tracks WHERE album = ?1 AND coalesce(album_artist, artist, '') = ?2 ORDER BY disc_no, track_no, title"),
            &[&key1, &key2],
        )?,
        "artist" => tracks_of(&format!("SELECT {cols} FROM tracks WHERE artist = ?1 ORDER BY album, disc_no, track_no, title"), &[&key1])?,
        "genre" => tracks_of(&format!("SELECT {cols} FROM tracks WHERE genre = ?1 ORDER BY artist, album, disc_no, track_no"), &[&key1])?,
        _ => tracks_of(
            &format!("SELECT {} FROM playlist_tracks p JOIN tracks t ON t.id = p.track_id WHERE p.playlist_id = ?1 ORDER BY p.position", prefixed_columns("t")),
            &[&id],
        )?,
    };
    Ok(Some(Playlist { summary, tracks }))
}

fn prefixed_columns(alias: &str) -> String {
    TRACK_COLUMNS
        .split(", ")
        .map(|c| format!("{alias}.{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Tracks related to `track`: the rest of its album in order, then its artist, then its genre,
/// then anything, up to `limit`.
pub fn related(conn: &Connection, track_id: &str, limit: u32) -> anyhow::Result<Option<Vec<Track>>> {
    let seed = conn
        .prepare_cached("SELECT album, coalesce(album_artist, artist, ''), artist, genre FROM tracks WHERE id = ?1")?
        .query_row([track_id], |r| {
            Ok((
                r.get::<_, Option<String>>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, Option<String>>(3)?,
            ))
        })
        .optional()?;
    let Some((album, album_key, artist, genre)) = seed else {
        return Ok(None);
    };
    let sql = format!(
        "SELECT {cols} FROM (
             SELECT *, (CASE WHEN album = ?2 AND coalesce(album_artist, artist, '') = ?3 THEN 4 ELSE 0 END
                      + CASE WHEN artist = ?4 THEN 2 ELSE 0 END
                      + CASE WHEN genre = ?5 THEN 1 ELSE 0 END) AS score
             FROM tracks WHERE id != ?1 AND (album = ?2 OR artist = ?4 OR genre = ?5)
         ) ORDER BY score DESC,
                    CASE WHEN score >= 4 THEN coalesce(disc_no, 0) * 10000 + coalesce(track_no, 0) ELSE random() END
         LIMIT ?6",
        cols = TRACK_COLUMNS
    );
    let mut tracks: Vec<Track> = conn
        .prepare_cached(&sql)?
        .query_map(
            params![track_id, album, album_key, artist, genre, limit],
            Track::from_row,
        )?
        .collect::<Result<_, _>>()?;
    if (tracks.len() as u32) < limit {
        let more = limit as usize - tracks.len();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {TRACK_COLUMNS} FROM tracks WHERE id != ?1 ORDER BY random() LIMIT ?2"
        ))?;
        let fill = stmt.query_map(params![track_id, (more + tracks.len()) as i64], Track::from_row)?;
        for t in fill {
            let t = t?;
            if tracks.len() < limit as usize && !tracks.iter().any(|x| x.id == t.id) {
                tracks.push(t);
            }
        }
    }
    Ok(Some(tracks))
}
