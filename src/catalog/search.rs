//! Full-text search over title, artist, album, album artist and genre (FTS5, diacritics folded).
//! Every word of the query must match the start of a word in the track; title and artist hits
//! rank first (bm25 column weights).

use rusqlite::{params, Connection};

use super::model::{Track, TRACK_COLUMNS};
use super::normalize::fold;

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
            Scope::All => "1",
            Scope::Local => "tracks.source = 'local'",
            Scope::Remote => "tracks.source != 'local'",
        }
    }
}

pub fn search(conn: &Connection, input: &str, scope: Scope, limit: u32, offset: u32) -> anyhow::Result<SearchPage> {
    let Some(query) = fts_query(input) else {
        return Ok(SearchPage {
            total: 0,
            tracks: Vec::new(),
        });
    };
    let (count_sql, page_sql) = if scope == Scope::All {
        // The common case ranks inside FTS5 alone and joins only the page.
        (
            "SELECT count(*) FROM tracks_fts WHERE tracks_fts MATCH ?1".to_owned(),
            format!(
                "SELECT {TRACK_COLUMNS} FROM tracks JOIN (
                     SELECT rowid AS hit, {RANK} AS score FROM tracks_fts WHERE tracks_fts MATCH ?1
                     ORDER BY score LIMIT ?2 OFFSET ?3
                 ) ON tracks.rowid = hit ORDER BY score"
            ),
        )
    } else {
        let condition = scope.condition();
        (
            format!(
                "SELECT count(*) FROM tracks_fts JOIN tracks ON tracks.rowid = tracks_fts.rowid
                 WHERE tracks_fts MATCH ?1 AND {condition}"
            ),
            format!(
                "SELECT {TRACK_COLUMNS} FROM tracks JOIN (
                     SELECT rowid AS hit, {RANK} AS score FROM tracks_fts WHERE tracks_fts MATCH ?1
                 ) ON tracks.rowid = hit WHERE {condition} ORDER BY score LIMIT ?2 OFFSET ?3"
            ),
        )
    };
    let total: i64 = conn.prepare_cached(&count_sql)?.query_row([&query], |r| r.get(0))?;
    let tracks = conn
        .prepare_cached(&page_sql)?
        .query_map(params![query, limit, offset], Track::from_row)?
        .collect::<Result<_, _>>()?;
    Ok(SearchPage {
        total: total as u64,
        tracks,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
