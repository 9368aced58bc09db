//! Autocomplete: a table of (folded key, name) rows, where the keys of a name are its folded
//! form and every word-start suffix, so a prefix lookup is one index range scan.

use rusqlite::{params, Connection, Transaction};

use super::model::Suggestion;
use super::normalize::{fold, suggestion_keys};

/// Rebuilds the table from the tracks. Names weigh as many tracks as carry them.
pub fn rebuild(tx: &Transaction<'_>) -> anyhow::Result<()> {
    tx.execute("DELETE FROM suggest", [])?;
    let sources = [
        ("artist", "SELECT artist, count(*) FROM tracks WHERE artist IS NOT NULL GROUP BY artist"),
        ("artist", "SELECT album_artist, count(*) FROM tracks WHERE album_artist IS NOT NULL AND album_artist NOT IN (SELECT artist FROM tracks WHERE artist IS NOT NULL) GROUP BY album_artist"),
        ("album", "SELECT album, count(*) FROM tracks WHERE album IS NOT NULL GROUP BY album"),
        ("genre", "SELECT genre, count(*) FROM tracks WHERE genre IS NOT NULL GROUP BY genre"),
        ("track", "SELECT title, count(*) FROM tracks GROUP BY title"),
    ];
    let mut insert = tx.prepare_cached("INSERT INTO suggest(norm, text, kind, weight) VALUES (?1, ?2, ?3, ?4)")?;
    for (kind, sql) in sources {
        let mut stmt = tx.prepare(sql)?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let name: String = row.get(0)?;
            let weight: i64 = row.get(1)?;
            for key in suggestion_keys(&name) {
                insert.execute(params![key, name, kind, weight])?;
            }
        }
    }
    Ok(())
}

/// Up to `limit` names with a word starting with `prefix` (folded), heaviest first.
pub fn suggest(conn: &Connection, prefix: &str, limit: usize) -> anyhow::Result<Vec<Suggestion>> {
    let key = fold(prefix);
    if key.is_empty() {
        return Ok(Vec::new());
    }
    let upper = prefix_upper_bound(&key);
    let mut stmt = conn.prepare_cached(
        "SELECT text, kind, max(weight) AS w FROM suggest WHERE norm >= ?1 AND norm < ?2
         GROUP BY text, kind ORDER BY w DESC, length(text), text LIMIT ?3",
    )?;
    let rows = stmt.query_map(params![key, upper, limit as i64], |r| {
        Ok(Suggestion {
            text: r.get(0)?,
            kind: r.get(1)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The smallest string greater than every string that starts with `prefix`.
fn prefix_upper_bound(prefix: &str) -> String {
    let mut s = prefix.to_owned();
    s.push(char::MAX);
    s
}
