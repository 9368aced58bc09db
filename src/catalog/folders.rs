//! The library's folders, derived from the tracks' paths whenever the library changes (with
//! the albums and artists), as the Subsonic API browses them by folder (`getIndexes`,
//! `getMusicDirectory`: DSub, Ultrasonic and others browse this way).
//!
//! Every folder that holds an audio file, and every folder above one up to `/`, is a row; its
//! id is a hash of its path, so it stays across rescans. Which of them a client may see (those
//! inside a library folder) is the caller's business: the catalog doesn't know the roots'
//! order or meaning.

use std::path::PathBuf;

use rusqlite::{Connection, OptionalExtension, Transaction};

use super::entities::timed;
use super::rows::{self, FOLDER_COLUMNS};
use crate::model::{Folder, FolderId, Song};

/// The folder of a track's path, with its trailing slash ('' for remote media): SQLite has
/// no dirname, but trimming every character that is not a slash off the end is one.
const FOLDER: &str = "coalesce(rtrim(path, replace(path, '/', '')), '')";

/// The layout these need (migration 9).
pub const LAYOUT: &str = "
ALTER TABLE tracks ADD COLUMN folder_id TEXT;          -- local files: the folder that holds it
CREATE INDEX tracks_folder ON tracks(folder_id);
CREATE TABLE folders (
    id          TEXT PRIMARY KEY,                      -- fo-<hash of the path>
    path        TEXT NOT NULL UNIQUE,                  -- absolute, with its trailing slash
    parent_id   TEXT,                                  -- NULL for /
    name        TEXT NOT NULL,
    cover_track TEXT                                   -- a track of it or of a folder right below with a cover
);
CREATE INDEX folders_parent ON folders(parent_id);
";

/// The folder id of a path expression (a folder path with its trailing slash).
fn folder_id(path: &str) -> String {
    format!("'fo-' || substr(stable_id('folder', {path}), 1, 12)")
}

/// Rebuilds `folders`, and files under their folder the library tracks that have none (the
/// scan files new and changed tracks as it writes them, and unfiles moved ones; an upgraded
/// catalog has none filed).
pub fn rebuild(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    // A folder path without its trailing slash; its parent is that, trimmed back to the last
    // slash (SQLite has no dirname: see FOLDER), and its name what the trimming took off.
    let trimmed = "substr(path, 1, length(path) - 1)";
    let parent = format!("rtrim({trimmed}, replace({trimmed}, '/', ''))");
    let track_folder = folder_id(FOLDER);
    let id = folder_id("path");
    let parent_id = folder_id(&parent);
    timed(
        tx,
        "tracks filed under folders",
        &format!(
            "UPDATE tracks SET folder_id = {track_folder}
         WHERE folder_id IS NULL AND source = 'local' AND path IS NOT NULL;"
        ),
    )?;
    timed(
        tx,
        "folders",
        &format!(
            "DELETE FROM folders;
         INSERT INTO folders(id, path, parent_id, name)
           WITH RECURSIVE up(path) AS (
               -- One path a folder (off the index, in folder order: no sort of every path).
               SELECT coalesce(rtrim(one, replace(one, '/', '')), '') FROM
                 (SELECT min(path) AS one FROM tracks WHERE folder_id IS NOT NULL GROUP BY folder_id)
               UNION
               SELECT {parent} FROM up WHERE length(path) > 1)
           SELECT {id}, path, CASE WHEN length(path) > 1 THEN {parent_id} END,
                  substr({trimmed}, length({parent}) + 1)
           FROM up WHERE path <> '';"
        ),
    )?;
    timed(
        tx,
        "folder covers",
        "
        UPDATE folders SET cover_track =
          (SELECT min(id) FROM tracks WHERE folder_id = folders.id AND (picture OR folder_cover));
        UPDATE folders SET cover_track =
          (SELECT min(below.cover_track) FROM folders below WHERE below.parent_id = folders.id)
        WHERE cover_track IS NULL;",
    )
}

pub fn folder(conn: &Connection, id: &FolderId) -> anyhow::Result<Option<Folder>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {FOLDER_COLUMNS} FROM folders WHERE id = ?1"))?
        .query_row([id.as_str()], rows::folder)
        .optional()?)
}

/// The folder at `path` (absolute, with its trailing slash), if it holds audio files.
pub fn folder_at(conn: &Connection, path: &str) -> anyhow::Result<Option<Folder>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {FOLDER_COLUMNS} FROM folders WHERE path = ?1"))?
        .query_row([path], rows::folder)
        .optional()?)
}

/// What a folder holds: the folders right below it, by name, and its own songs, in file order.
pub fn contents(conn: &Connection, roots: &[PathBuf], id: &FolderId) -> anyhow::Result<(Vec<Folder>, Vec<Song>)> {
    let folders = conn
        .prepare_cached(&format!(
            "SELECT {FOLDER_COLUMNS} FROM folders WHERE parent_id = ?1 ORDER BY name COLLATE NOCASE, name"
        ))?
        .query_map([id.as_str()], rows::folder)?
        .collect::<Result<_, _>>()?;
    let songs = conn
        .prepare_cached(&format!(
            "SELECT {} FROM tracks t WHERE t.folder_id = ?1 ORDER BY t.path",
            rows::song_columns("t")
        ))?
        .query_map([id.as_str()], |row| rows::song(row, roots))?
        .collect::<Result<_, _>>()?;
    Ok((folders, songs))
}
