//! The full-text index (`tracks_fts`, FTS5 over the `tracks` table's text columns), kept in
//! step by the code that writes tracks rather than by triggers.
//!
//! Why: FTS5 flushes its pending terms into a new segment at every statement savepoint once it
//! has been written in a transaction, and triggers (or an upsert) give every write a statement
//! savepoint. Written row by row, a 100,000-track scan spent a quarter of its time flushing and
//! merging one-row segments. So a transaction collects its index changes in [`Pending`] while
//! it writes tracks, and applies them all at its end, in one flush.

use rusqlite::{params, Connection, OptionalExtension};

const COLUMNS: &str = "title, artist, album, album_artist, genre";

type Text = (String, Option<String>, Option<String>, Option<String>, Option<String>);

fn text_of(conn: &Connection, rowid: i64) -> rusqlite::Result<Option<Text>> {
    conn.prepare_cached(&format!("SELECT {COLUMNS} FROM tracks WHERE rowid = ?1"))?
        .query_row([rowid], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
        .optional()
}

/// Index changes of one transaction, applied by [`Pending::apply`] before it commits.
#[derive(Default)]
pub struct Pending {
    /// Rows to take out of the index, with the values they were indexed with (an
    /// external-content FTS5 table needs them).
    removals: Vec<(i64, Text)>,
    /// Rows to index as they are when the changes are applied.
    additions: Vec<i64>,
}

impl Pending {
    /// Records that the row at `rowid` is about to change or go.
    fn before_change(&mut self, conn: &Connection, rowid: i64) -> rusqlite::Result<()> {
        if let Some(at) = self.additions.iter().position(|&r| r == rowid) {
            self.additions.swap_remove(at); // written in this transaction: not indexed yet
        } else if let Some(text) = text_of(conn, rowid)? {
            self.removals.push((rowid, text));
        }
        Ok(())
    }

    /// Inserts or updates the track `id` with `write`, a statement that returns the row's
    /// rowid (`INSERT ... ON CONFLICT DO UPDATE ... RETURNING rowid`).
    pub fn write_track(
        &mut self,
        conn: &Connection,
        id: &str,
        write: impl FnOnce() -> rusqlite::Result<i64>,
    ) -> rusqlite::Result<i64> {
        let before: Option<i64> = conn
            .prepare_cached("SELECT rowid FROM tracks WHERE id = ?1")?
            .query_row([id], |r| r.get(0))
            .optional()?;
        if let Some(rowid) = before {
            self.before_change(conn, rowid)?;
        }
        let rowid = write()?;
        self.additions.push(rowid);
        Ok(rowid)
    }

    /// Deletes the local track read from `path`, if any; returns whether there was one.
    pub fn delete_by_path(&mut self, conn: &Connection, path: &str) -> rusqlite::Result<bool> {
        let rowid: Option<i64> = conn
            .prepare_cached("SELECT rowid FROM tracks WHERE path = ?1")?
            .query_row([path], |r| r.get(0))
            .optional()?;
        let Some(rowid) = rowid else {
            return Ok(false);
        };
        self.before_change(conn, rowid)?;
        conn.prepare_cached("DELETE FROM tracks WHERE rowid = ?1")?
            .execute([rowid])?;
        Ok(true)
    }

    /// Brings the index up to date with this transaction's writes.
    pub fn apply(self, conn: &Connection) -> rusqlite::Result<()> {
        let mut remove = conn.prepare_cached(&format!(
            "INSERT INTO tracks_fts(tracks_fts, rowid, {COLUMNS}) VALUES ('delete', ?1, ?2, ?3, ?4, ?5, ?6)"
        ))?;
        for (rowid, t) in self.removals {
            remove.execute(params![rowid, t.0, t.1, t.2, t.3, t.4])?;
        }
        let mut add = conn.prepare_cached(&format!(
            "INSERT INTO tracks_fts(rowid, {COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
        ))?;
        for rowid in self.additions {
            if let Some(t) = text_of(conn, rowid)? {
                add.execute(params![rowid, t.0, t.1, t.2, t.3, t.4])?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE tracks (id TEXT PRIMARY KEY, path TEXT UNIQUE, title TEXT NOT NULL, artist TEXT,
                                  album TEXT, album_artist TEXT, genre TEXT);
             CREATE VIRTUAL TABLE tracks_fts USING fts5(title, artist, album, album_artist, genre,
                 content = 'tracks', content_rowid = 'rowid');",
        )
        .unwrap();
        conn
    }

    fn upsert(pending: &mut Pending, conn: &Connection, id: &str, title: &str) {
        pending
            .write_track(conn, id, || {
                conn.query_row(
                    "INSERT INTO tracks(id, path, title) VALUES (?1, ?1, ?2)
                     ON CONFLICT(id) DO UPDATE SET title = excluded.title RETURNING rowid",
                    [id, title],
                    |r| r.get(0),
                )
            })
            .unwrap();
    }

    fn found(conn: &Connection, word: &str) -> Vec<String> {
        let mut stmt = conn
            .prepare("SELECT t.id FROM tracks_fts JOIN tracks t ON t.rowid = tracks_fts.rowid WHERE tracks_fts MATCH ?1 ORDER BY t.id")
            .unwrap();
        stmt.query_map([word], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }

    #[test]
    fn inserts_updates_and_deletes_reach_the_index() {
        let conn = catalog();
        let mut pending = Pending::default();
        upsert(&mut pending, &conn, "a", "Morning Drift");
        upsert(&mut pending, &conn, "b", "Evening Drift");
        upsert(&mut pending, &conn, "b", "Evening Tide"); // written twice in one transaction
        pending.apply(&conn).unwrap();
        assert_eq!(found(&conn, "drift"), ["a"]);
        assert_eq!(found(&conn, "tide"), ["b"]);

        let mut pending = Pending::default();
        upsert(&mut pending, &conn, "a", "Morning Tide");
        assert!(pending.delete_by_path(&conn, "b").unwrap());
        assert!(!pending.delete_by_path(&conn, "nowhere").unwrap());
        pending.apply(&conn).unwrap();
        assert_eq!(found(&conn, "tide"), ["a"]);
        assert_eq!(found(&conn, "drift"), Vec::<String>::new());
        // The index agrees with its content table.
        conn.execute(
            "INSERT INTO tracks_fts(tracks_fts, rank) VALUES ('integrity-check', 1)",
            [],
        )
        .unwrap();
    }
}
