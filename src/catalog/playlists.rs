//! Playlists: smart ones computed on demand (`recent`, `mix`), ones derived from the library at
//! scan time (one per album, artist and genre), and M3U/M3U8 files found in the library.
//! Also "related tracks", the basis of "up next".

use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, OptionalExtension, Transaction};

use super::rows::{self, PLAYLIST_COLUMNS, TRACK_COLUMNS};
use crate::model::{Playlist, PlaylistId, PlaylistKind, PlaylistSummary, Track, TrackId};

/// How many tracks the smart playlists hold.
const SMART_SIZE: i64 = 50;

/// Which playlists a listing shows: the smart ones, or those of one kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlaylistFilter {
    Smart,
    Kind(PlaylistKind),
}

impl PlaylistFilter {
    pub fn parse(s: &str) -> Option<PlaylistFilter> {
        match s {
            "smart" => Some(PlaylistFilter::Smart),
            kind => PlaylistKind::parse(kind).map(PlaylistFilter::Kind),
        }
    }

    /// Every name a filter can have, for error messages.
    pub fn names() -> String {
        format!("smart, {}", PlaylistKind::names())
    }

    fn shows_smart(filter: Option<Self>) -> bool {
        match filter {
            None | Some(PlaylistFilter::Smart) => true,
            Some(PlaylistFilter::Kind(kind)) => kind.is_smart(),
        }
    }
}

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
        let parsed = crate::formats::playlist::parse_m3u(&String::from_utf8_lossy(&bytes));
        let (name, entries) = (parsed.name, parsed.entries.into_iter().map(|e| e.location));
        let name = name.unwrap_or_else(|| {
            file.file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or("Playlist")
                .to_owned()
        });
        let id = PlaylistId::read_from(PlaylistKind::M3u, &file.to_string_lossy());
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
                    params![id.as_str(), position, track_id],
                )?;
                position += 1;
            }
        }
        tx.execute(
            "INSERT OR REPLACE INTO playlists(id, kind, name, subtitle, key1, key2, track_count) VALUES (?1, 'm3u', ?2, NULL, NULL, NULL, ?3)",
            params![id.as_str(), name, position],
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

/// Rebuilds the album, artist and genre playlists from the tracks, and the albums and artists.
pub fn rebuild_derived(tx: &Transaction<'_>) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
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
    tracing::debug!(elapsed = ?started.elapsed(), "rebuild: album, artist and genre playlists");
    // Folders first: albums are told apart by folder (compilations).
    super::folders::rebuild(tx)?;
    tracing::debug!(elapsed = ?started.elapsed(), "rebuild: folders");
    super::entities::rebuild(tx)?;
    tracing::debug!(elapsed = ?started.elapsed(), "rebuild: albums and artists");
    Ok(())
}

fn smart_summaries(conn: &Connection) -> anyhow::Result<Vec<PlaylistSummary>> {
    let count: i64 = conn.query_row("SELECT min(count(*), ?1) FROM tracks", [SMART_SIZE], |r| r.get(0))?;
    Ok(vec![
        PlaylistSummary {
            id: PlaylistId::from_trusted("recent".into()),
            kind: PlaylistKind::Recent,
            name: "Recently added".into(),
            subtitle: None,
            track_count: count as u64,
        },
        PlaylistSummary {
            id: PlaylistId::from_trusted("mix".into()),
            kind: PlaylistKind::Mix,
            name: "Random mix".into(),
            subtitle: None,
            track_count: count as u64,
        },
    ])
}

/// One page of playlists, all or those `filter` keeps; smart ones first, then by kind and name.
pub fn list(
    conn: &Connection,
    filter: Option<PlaylistFilter>,
    limit: u32,
    offset: u32,
) -> anyhow::Result<(u64, Vec<PlaylistSummary>)> {
    let smart: Vec<PlaylistSummary> = if PlaylistFilter::shows_smart(filter) {
        let wanted = |s: &PlaylistSummary| !matches!(filter, Some(PlaylistFilter::Kind(k)) if k != s.kind);
        smart_summaries(conn)?.into_iter().filter(wanted).collect()
    } else {
        Vec::new()
    };
    let stored_kind = match filter {
        None => None,
        Some(PlaylistFilter::Kind(kind)) if !kind.is_smart() => Some(kind.as_str()),
        Some(_) => {
            let total = smart.len() as u64;
            return Ok((
                total,
                smart.into_iter().skip(offset as usize).take(limit as usize).collect(),
            ));
        }
    };
    let order = "CASE kind WHEN 'm3u' THEN 0 WHEN 'remote' THEN 1 WHEN 'feed' THEN 2 WHEN 'genre' THEN 3 WHEN 'artist' THEN 4 ELSE 5 END, name COLLATE NOCASE, subtitle";
    let stored_total: i64 = conn
        .prepare_cached("SELECT count(*) FROM playlists WHERE ?1 IS NULL OR kind = ?1")?
        .query_row([stored_kind], |r| r.get(0))?;
    let skip_smart = (offset as usize).min(smart.len());
    let mut page: Vec<PlaylistSummary> = smart.iter().skip(skip_smart).take(limit as usize).cloned().collect();
    let remaining = limit as usize - page.len();
    let stored_offset = offset as usize - skip_smart;
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {PLAYLIST_COLUMNS} FROM playlists WHERE ?1 IS NULL OR kind = ?1 ORDER BY {order} LIMIT ?2 OFFSET ?3"
    ))?;
    let found = stmt.query_map(
        params![stored_kind, remaining as i64, stored_offset as i64],
        rows::playlist_summary,
    )?;
    for row in found {
        page.push(row?);
    }
    Ok((smart.len() as u64 + stored_total as u64, page))
}

pub fn summary(conn: &Connection, id: &PlaylistId) -> anyhow::Result<Option<PlaylistSummary>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {PLAYLIST_COLUMNS} FROM playlists WHERE id = ?1"))?
        .query_row([id.as_str()], rows::playlist_summary)
        .optional()?)
}

/// A playlist with its tracks, or None if there is no such playlist.
pub fn get(conn: &Connection, id: &PlaylistId) -> anyhow::Result<Option<Playlist>> {
    let cols = TRACK_COLUMNS;
    let tracks_of = |sql: &str, p: &[&dyn rusqlite::ToSql]| -> anyhow::Result<Vec<Track>> {
        let mut stmt = conn.prepare_cached(sql)?;
        let found = stmt.query_map(p, rows::track)?;
        Ok(found.collect::<Result<_, _>>()?)
    };
    if let Some(summary) = smart_summaries(conn)?.into_iter().find(|s| s.id == *id) {
        let order = if summary.kind == PlaylistKind::Recent {
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
        .prepare_cached(&format!(
            "SELECT {PLAYLIST_COLUMNS}, key1, key2 FROM playlists WHERE id = ?1"
        ))?
        .query_row([id.as_str()], |r| {
            Ok((
                rows::playlist_summary(r)?,
                r.get::<_, Option<String>>(5)?,
                r.get::<_, Option<String>>(6)?,
            ))
        })
        .optional()?;
    let Some((summary, key1, key2)) = row else {
        return Ok(None);
    };
    let tracks = match summary.kind {
        PlaylistKind::Album => tracks_of(
            &format!("SELECT {cols} FROM tracks WHERE album = ?1 AND coalesce(album_artist, artist, '') = ?2 ORDER BY disc_no, track_no, title"),
            &[&key1, &key2],
        )?,
        PlaylistKind::Artist => tracks_of(&format!("SELECT {cols} FROM tracks WHERE artist = ?1 ORDER BY album, disc_no, track_no, title"), &[&key1])?,
        PlaylistKind::Genre => tracks_of(&format!("SELECT {cols} FROM tracks WHERE genre = ?1 ORDER BY artist, album, disc_no, track_no"), &[&key1])?,
        _ => tracks_of(
            &format!("SELECT {} FROM playlist_tracks p JOIN tracks t ON t.id = p.track_id WHERE p.playlist_id = ?1 ORDER BY p.position", prefixed_columns("t")),
            &[&id.as_str()],
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
pub fn related(conn: &Connection, track_id: &TrackId, limit: u32) -> anyhow::Result<Option<Vec<Track>>> {
    let seed = conn
        .prepare_cached("SELECT album, coalesce(album_artist, artist, ''), artist, genre FROM tracks WHERE id = ?1")?
        .query_row([track_id.as_str()], |r| {
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
            params![track_id.as_str(), album, album_key, artist, genre, limit],
            rows::track,
        )?
        .collect::<Result<_, _>>()?;
    if (tracks.len() as u32) < limit {
        let more = limit as usize - tracks.len();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {TRACK_COLUMNS} FROM tracks WHERE id != ?1 ORDER BY random() LIMIT ?2"
        ))?;
        let fill = stmt.query_map(params![track_id.as_str(), (more + tracks.len()) as i64], rows::track)?;
        for t in fill {
            let t = t?;
            if tracks.len() < limit as usize && !tracks.iter().any(|x| x.id == t.id) {
                tracks.push(t);
            }
        }
    }
    Ok(Some(tracks))
}
