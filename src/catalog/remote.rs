//! Remote tracks (HTTP media, playlist entries, podcast episodes) in the catalog. An import is
//! written in one transaction: all of it lands, or nothing does.

use rusqlite::{params, Connection, OptionalExtension};

use super::model::{PlaylistSummary, Track, TRACK_COLUMNS};
use super::{playlists, stable_id, text_index};
use crate::sources::import::Import;
use crate::sources::Origin;

/// Where a track's bytes are, as the sources need it.
pub fn origin(conn: &Connection, id: &str) -> anyhow::Result<Option<Origin>> {
    let row = conn
        .prepare_cached("SELECT source, path, url, mime FROM tracks WHERE id = ?1")?
        .query_row([id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, String>(3)?,
            ))
        })
        .optional()?;
    Ok(
        row.and_then(|(source, path, url, mime)| match (source.as_str(), path, url) {
            ("local", Some(path), _) => Some(Origin::LocalFile {
                path: path.into(),
                mime,
            }),
            ("http", _, Some(url)) => Some(Origin::Http { url, mime }),
            ("youtube" | "ytdlp", _, Some(url)) => Some(Origin::YtDlp { url }),
            _ => None,
        }),
    )
}

/// Adds (or refreshes) the tracks and playlist of an import; returns them as stored.
pub fn add(conn: &mut Connection, import: &Import, now: i64) -> anyhow::Result<(Vec<Track>, Option<PlaylistSummary>)> {
    let tx = conn.transaction()?;
    let mut index = text_index::Pending::default();
    let mut ids = Vec::with_capacity(import.tracks.len());
    for t in &import.tracks {
        let id = t.id.clone().unwrap_or_else(|| stable_id(&["http", &t.url]));
        let i = &t.info;
        let mut upsert = tx.prepare_cached(
            "INSERT INTO tracks (id, source, path, url, title, artist, album, album_artist, track_no, disc_no, year, genre,
                                 duration_ms, codec, mime, bitrate, sample_rate, channels, file_size, mtime_ns, added_at,
                                 artwork)
             VALUES (?1, ?19, NULL, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, NULL, ?18, ?20)
             ON CONFLICT(id) DO UPDATE SET
                 title = excluded.title, artist = excluded.artist, album = excluded.album,
                 album_artist = excluded.album_artist, track_no = excluded.track_no, disc_no = excluded.disc_no,
                 year = excluded.year, genre = excluded.genre, duration_ms = excluded.duration_ms,
                 codec = excluded.codec, mime = excluded.mime, bitrate = excluded.bitrate,
                 sample_rate = excluded.sample_rate, channels = excluded.channels,
                 file_size = coalesce(excluded.file_size, file_size), artwork = excluded.artwork
             RETURNING rowid",
        )?;
        let values = params![
            id,
            t.url,
            t.title,
            i.artist,
            i.album,
            i.album_artist,
            i.track_no,
            i.disc_no,
            i.year,
            i.genre,
            i.duration_ms,
            (i.codec != "unknown" && !i.codec.is_empty()).then_some(i.codec),
            t.mime,
            i.bitrate,
            i.sample_rate,
            i.channels,
            t.size.map(|s| s as i64),
            now,
            t.source,
            t.artwork
        ];
        index.write_track(&tx, &id, || upsert.query_row(values, |r| r.get(0)))?;
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    let playlist_id = match &import.playlist {
        Some(p) => {
            let id = format!("{}-{}", p.kind, &stable_id(&[p.kind, &p.url])[..12]);
            tx.execute("DELETE FROM playlist_tracks WHERE playlist_id = ?1", [&id])?;
            for (position, track_id) in ids.iter().enumerate() {
                tx.execute(
                    "INSERT INTO playlist_tracks(playlist_id, position, track_id) VALUES (?1, ?2, ?3)",
                    params![id, position as i64, track_id],
                )?;
            }
            tx.execute(
                "INSERT OR REPLACE INTO playlists(id, kind, name, subtitle, key1, key2, track_count) VALUES (?1, ?2, ?3, NULL, ?4, NULL, ?5)",
                params![id, p.kind, p.name, p.url, ids.len() as i64],
            )?;
            Some(id)
        }
        None => None,
    };
    index.apply(&tx)?;
    playlists::rebuild_derived(&tx)?;
    tx.commit()?;

    let sql = format!("SELECT {TRACK_COLUMNS} FROM tracks WHERE id = ?1");
    let mut tracks = Vec::with_capacity(ids.len());
    for id in &ids {
        tracks.push(conn.prepare_cached(&sql)?.query_row([id], Track::from_row)?);
    }
    let summary = match playlist_id {
        Some(id) => playlists::summary(conn, &id)?,
        None => None,
    };
    Ok((tracks, summary))
}
