//! Remote tracks (HTTP media, playlist entries, podcast episodes) in the catalog. An import is
//! written in one transaction: all of it lands, or nothing does.

use rusqlite::{params, Connection, OptionalExtension};

use super::rows::{self, TRACK_COLUMNS};
use super::tracks::{self, NewTrack};
use super::{playlists, text_index};
use crate::model::{Import, Origin, PlaylistId, PlaylistSummary, SourceKind, Track, TrackId};

/// Where a track's bytes are, as the sources need it.
pub fn origin(conn: &Connection, id: &TrackId) -> anyhow::Result<Option<Origin>> {
    let row = conn
        .prepare_cached("SELECT source, path, url, mime FROM tracks WHERE id = ?1")?
        .query_row([id.as_str()], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, String>(3)?,
            ))
        })
        .optional()?;
    Ok(row.and_then(
        |(source, path, url, mime)| match (SourceKind::parse(&source)?, path, url) {
            (SourceKind::Local, Some(path), _) => Some(Origin::LocalFile {
                path: path.into(),
                mime,
            }),
            (SourceKind::Http, _, Some(url)) => Some(Origin::Http { url, mime }),
            (SourceKind::YouTube | SourceKind::YtDlp, _, Some(url)) => Some(Origin::YtDlp { url }),
            _ => None,
        },
    ))
}

/// Adds (or refreshes) the tracks and playlist of an import; returns them as stored.
pub fn add(conn: &mut Connection, import: &Import, now: i64) -> anyhow::Result<(Vec<Track>, Option<PlaylistSummary>)> {
    let tx = conn.transaction()?;
    let mut index = text_index::Pending::default();
    let mut ids = Vec::with_capacity(import.tracks.len());
    for t in &import.tracks {
        let id = t.id();
        let track = NewTrack {
            id: &id,
            source: t.source,
            path: None,
            url: Some(&t.url),
            title: &t.title,
            info: &t.info,
            mime: &t.mime,
            size: t.size,
            mtime_ns: None,
            artwork: t.artwork.as_deref(),
            picture: false,
            folder_cover: false,
        };
        tracks::upsert(&tx, &mut index, &track, now)?;
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    let playlist_id = match &import.playlist {
        Some(p) => {
            let id = PlaylistId::read_from(p.kind, &p.url);
            tx.execute("DELETE FROM playlist_tracks WHERE playlist_id = ?1", [id.as_str()])?;
            for (position, track_id) in ids.iter().enumerate() {
                tx.execute(
                    "INSERT INTO playlist_tracks(playlist_id, position, track_id) VALUES (?1, ?2, ?3)",
                    params![id.as_str(), position as i64, track_id.as_str()],
                )?;
            }
            tx.execute(
                "INSERT OR REPLACE INTO playlists(id, kind, name, subtitle, key1, key2, track_count) VALUES (?1, ?2, ?3, NULL, ?4, NULL, ?5)",
                params![id.as_str(), p.kind.as_str(), p.name, p.url, ids.len() as i64],
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
        tracks.push(conn.prepare_cached(&sql)?.query_row([id.as_str()], rows::track)?);
    }
    let summary = match playlist_id {
        Some(id) => playlists::summary(conn, &id)?,
        None => None,
    };
    Ok((tracks, summary))
}
