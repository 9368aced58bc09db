//! Full-text search over title, artist, album, album artist and genre (FTS5, diacritics folded).
//! Every word of the query must match the start of a word in the track; title and artist hits
//! rank first (bm25 column weights, or relevance tiers for very broad queries: see [`RANK_ALL`]).

use rusqlite::{params, Connection};

use super::normalize::fold;
use super::rows::{self, TRACK_COLUMNS};
use crate::model::Track;

/// A page of results.
pub struct SearchPage {
    pub total: u64,
    pub tracks: Vec<Track>,
}

/// bm25 weights for title, artist, album, album_artist, genre.
const RANK: &str = "bm25(tracks_fts, 10.0, 8.0, 4.0, 3.0, 1.0)";

/// The FTS5 query for what a user typed: every folded word as a quoted prefix term, so no
/// input can be FTS5 syntax. None if the input has no letter or digit.
pub fn fts_query(input: &str) -> Option<String> {
    let folded = fold(input);
    let terms: Vec<String> = folded
        .split(' ')
        .filter(|w| !w.is_empty())
        .map(|w| format!("\"{w}\"*"))
        .collect();
    (!terms.is_empty()).then(|| terms.join(" "))
}

/// Which of the catalog's tracks a search looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Everything in the catalog.
    All,
    /// Files of the local library.
    Local,
    /// Remote media: HTTP, podcasts, imported YouTube and yt-dlp tracks.
    Remote,
}

impl Scope {
    /// The SQL condition on `tracks` for this scope.
    fn condition(self) -> &'static str {
        match self {
            Scope::All => "1", // not used: the query needs no join then
            Scope::Local => "tracks.source = 'local'",
            Scope::Remote => "tracks.source != 'local'",
        }
    }
}

/// Up to this many matches are ranked by bm25. Ranking costs about a microsecond a match (a
/// column-size lookup each), so past this a broad query ("love" matches one track in ten of
/// a large library) is answered in relevance tiers instead, each read in catalog order and
/// only as far as the page needs.
const RANK_ALL: i64 = 1000;

/// The FTS5 queries of the relevance tiers of `query`: every word in the title or artist;
/// else in the album or album artist; else anywhere (genre, or words across those columns).
fn tiers(query: &str) -> [String; 3] {
    let top = format!("{{title artist}} : ({query})");
    let album = format!("{{album album_artist}} : ({query})");
    [
        top.clone(),
        format!("({album}) NOT ({top})"),
        format!("({query}) NOT ({top}) NOT ({album})"),
    ]
}

pub fn search(conn: &Connection, input: &str, scope: Scope, limit: u32, offset: u32) -> anyhow::Result<SearchPage> {
    let (total, rowids) = matching_rowids(conn, input, scope, limit, offset)?;
    let mut by_rowid = conn.prepare_cached(&format!("SELECT {TRACK_COLUMNS} FROM tracks WHERE rowid = ?1"))?;
    let tracks = rowids
        .iter()
        .map(|rowid| by_rowid.query_row([rowid], rows::track))
        .collect::<Result<_, _>>()?;
    Ok(SearchPage { total, tracks })
}

/// How many tracks match, and the rowids of one page of them, best first.
pub fn matching_rowids(
    conn: &Connection,
    input: &str,
    scope: Scope,
    limit: u32,
    offset: u32,
) -> anyhow::Result<(u64, Vec<i64>)> {
    let Some(query) = fts_query(input) else {
        return Ok((0, Vec::new()));
    };
    let from = match scope {
        Scope::All => "FROM tracks_fts WHERE tracks_fts MATCH ?1".to_owned(),
        _ => format!(
            "FROM tracks_fts JOIN tracks ON tracks.rowid = tracks_fts.rowid WHERE tracks_fts MATCH ?1 AND {}",
            scope.condition()
        ),
    };
    let total: i64 = conn
        .prepare_cached(&format!("SELECT count(*) {from}"))?
        .query_row([&query], |r| r.get(0))?;
    let rowids: Vec<i64> = if total <= RANK_ALL {
        conn.prepare_cached(&format!(
            "SELECT tracks_fts.rowid {from} ORDER BY {RANK} LIMIT ?2 OFFSET ?3"
        ))?
        .query_map(params![query, limit, offset], |r| r.get(0))?
        .collect::<Result<_, _>>()?
    } else {
        let mut page = Vec::with_capacity(limit as usize);
        let mut skip = offset as usize;
        let mut tier_page = conn.prepare_cached(&format!(
            "SELECT tracks_fts.rowid {from} ORDER BY tracks_fts.rowid LIMIT ?2"
        ))?;
        for tier in tiers(&query) {
            let wanted = skip + (limit as usize - page.len());
            let found: Vec<i64> = tier_page
                .query_map(params![tier, wanted], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            page.extend(found.iter().skip(skip));
            skip = skip.saturating_sub(found.len());
            if page.len() == limit as usize {
                break;
            }
        }
        page
    };
    Ok((total as u64, rowids))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::db::Db;
    use crate::catalog::text_index::Pending;

    /// A catalog of `n` tracks titled "Love Song i" by "Artist i", then `n` on albums "Love
    /// Album i" titled "Tune i", then `n` of genre "Love Rock".
    fn broad_catalog(n: usize) -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("c.sqlite3")).unwrap();
        db.write(|conn| {
            let tx = conn.transaction()?;
            let mut index = Pending::default();
            for i in 0..3 * n {
                let (title, album, genre) = match i / n {
                    0 => (format!("Love Song {i}"), "Plain".to_owned(), "Pop"),
                    1 => (format!("Tune {i}"), format!("Love Album {i}"), "Pop"),
                    _ => (format!("Tune {i}"), "Plain".to_owned(), "Love Rock"),
                };
                let id = format!("t{i}");
                index.write_track(&tx, &id, || {
                    tx.query_row(
                        "INSERT INTO tracks(id, source, path, title, artist, album, genre, mime, added_at)
                         VALUES (?1, 'local', ?1, ?2, ?3, ?4, ?5, 'audio/mpeg', 0) RETURNING rowid",
                        params![id, title, format!("Artist {i}"), album, genre],
                        |r| r.get(0),
                    )
                })?;
            }
            index.apply(&tx)?;
            tx.commit()?;
            Ok(())
        })
        .unwrap();
        (dir, db)
    }

    #[test]
    fn a_broad_query_pages_through_the_tiers_title_first_without_repeats() {
        let n = RANK_ALL as usize / 2 + 10; // 3n matches: past RANK_ALL
        let (_dir, db) = broad_catalog(n);
        db.read(|conn| {
            let mut seen = std::collections::HashSet::new();
            let mut titles = Vec::new();
            let mut offset = 0;
            loop {
                let page = search(conn, "love", Scope::All, 100, offset)?;
                assert_eq!(page.total, 3 * n as u64);
                if page.tracks.is_empty() {
                    break;
                }
                for t in page.tracks {
                    assert!(seen.insert(t.id.clone()), "{} twice", t.id);
                    titles.push((t.title, t.album, t.genre));
                }
                offset += 100;
            }
            assert_eq!(titles.len(), 3 * n);
            // Title matches, then album matches, then the rest.
            let tier = |(title, album, _): &(String, Option<String>, Option<String>)| {
                if title.starts_with("Love") {
                    0
                } else if album.as_deref().is_some_and(|a| a.starts_with("Love")) {
                    1
                } else {
                    2
                }
            };
            assert!(titles.windows(2).all(|w| tier(&w[0]) <= tier(&w[1])));
            // A page across a tier boundary.
            let page = search(conn, "love", Scope::All, 20, n as u32 - 5)?;
            assert_eq!(page.tracks.iter().filter(|t| t.title.starts_with("Love")).count(), 5);
            assert_eq!(page.tracks.len(), 20);
            Ok(())
        })
        .unwrap();
    }

    #[test]
    fn a_narrow_query_is_ranked_by_bm25() {
        let (_dir, db) = broad_catalog(20);
        db.read(|conn| {
            let page = search(conn, "love", Scope::All, 5, 0)?;
            assert_eq!(page.total, 60);
            assert!(
                page.tracks.iter().all(|t| t.title.starts_with("Love")),
                "title hits first"
            );
            assert!(search(conn, "love", Scope::Remote, 5, 0)?.tracks.is_empty());
            assert_eq!(search(conn, "love", Scope::Local, 5, 0)?.total, 60);
            Ok(())
        })
        .unwrap();
    }

    #[test]
    fn query_words_become_quoted_prefixes() {
        assert_eq!(fts_query("Beyoncé  halo").as_deref(), Some("\"beyonce\"* \"halo\"*"));
    }

    #[test]
    fn fts_syntax_is_neutralised() {
        assert_eq!(
            fts_query("a\" OR title:* NEAR(").as_deref(),
            Some("\"a\"* \"or\"* \"title\"* \"near\"*")
        );
        assert_eq!(fts_query("-- \"*"), None);
    }
}
