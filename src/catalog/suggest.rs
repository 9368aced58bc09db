//! Autocomplete: an in-memory index of the names in the catalog (artists, albums, track titles,
//! genres). A name is found under its folded form and under every suffix that starts at a word
//! ("the beatles", "beatles"), so typing the start of any word finds it.
//!
//! Steps: (1) [`SuggestIndex::build`] reads the names and their weights (how many tracks carry
//! them) from the tracks table and ranks them once, best first; (2) keys are sorted, so a prefix
//! is one binary search and a short contiguous run; (3) the best names of every one- and
//! two-character prefix, whose runs are long, are kept ready; (4) [`Suggestions`] swaps a new
//! index in whole after a scan or import changed the catalog, so a lookup never waits on a scan.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use rusqlite::Connection;

use super::normalize::fold;
use crate::model::{Suggestion, SuggestionKind};

/// The most suggestions one lookup returns (the API's upper bound).
pub const MAX_LIMIT: usize = 20;

/// Prefixes up to this many characters are answered from precomputed lists.
const SHORT_PREFIX: usize = 2;

/// Where names come from, with the kind they are suggested as.
const SOURCES: [(SuggestionKind, &str); 5] = [
    (SuggestionKind::Artist, "SELECT artist, count(*) FROM tracks WHERE artist IS NOT NULL GROUP BY artist"),
    (SuggestionKind::Artist, "SELECT album_artist, count(*) FROM tracks WHERE album_artist IS NOT NULL AND album_artist NOT IN (SELECT artist FROM tracks WHERE artist IS NOT NULL) GROUP BY album_artist"),
    (SuggestionKind::Album, "SELECT album, count(*) FROM tracks WHERE album IS NOT NULL GROUP BY album"),
    (SuggestionKind::Genre, "SELECT genre, count(*) FROM tracks WHERE genre IS NOT NULL GROUP BY genre"),
    (SuggestionKind::Track, "SELECT title, count(*) FROM tracks GROUP BY title"),
];

/// One searchable key: `folded[start..end]`, pointing at the name ranked `rank`.
#[derive(Clone, Copy)]
struct Key {
    start: u32,
    end: u32,
    rank: u32,
}

/// An immutable autocomplete index; see the module docs.
#[derive(Default)]
pub struct SuggestIndex {
    /// Names best first: heavier, then shorter, then alphabetical. A name's position is its rank.
    names: Vec<(Box<str>, SuggestionKind)>,
    /// Every name's folded form, concatenated; keys are slices of it.
    folded: String,
    /// Sorted by key text, then rank.
    keys: Vec<Key>,
    /// The best ranks (at most [`MAX_LIMIT`]) for each prefix of up to [`SHORT_PREFIX`] characters.
    short: HashMap<Box<str>, Vec<u32>>,
}

impl SuggestIndex {
    /// Reads every name from the catalog and indexes it.
    pub fn build(conn: &Connection) -> anyhow::Result<Self> {
        let mut weighted: Vec<(i64, String, SuggestionKind)> = Vec::new();
        for (kind, sql) in SOURCES {
            let mut stmt = conn.prepare_cached(sql)?;
            let mut rows = stmt.query([])?;
            while let Some(row) = rows.next()? {
                weighted.push((row.get(1)?, row.get(0)?, kind));
            }
        }
        Ok(Self::from_names(weighted))
    }

    /// Indexes `(weight, name, kind)` triples.
    fn from_names(mut weighted: Vec<(i64, String, SuggestionKind)>) -> Self {
        weighted.sort_by(|a, b| {
            b.0.cmp(&a.0)
                .then_with(|| a.1.chars().count().cmp(&b.1.chars().count()))
                .then_with(|| a.1.cmp(&b.1))
                .then_with(|| a.2.as_str().cmp(b.2.as_str()))
        });
        let mut index = SuggestIndex {
            names: Vec::with_capacity(weighted.len()),
            ..Default::default()
        };
        for (rank, (_, name, kind)) in weighted.into_iter().enumerate() {
            let base = index.folded.len();
            let folded = fold(&name);
            let word_starts = std::iter::once(0).chain(folded.match_indices(' ').map(|(i, _)| i + 1));
            for start in word_starts {
                if start < folded.len() {
                    index.keys.push(Key {
                        start: (base + start) as u32,
                        end: (base + folded.len()) as u32,
                        rank: rank as u32,
                    });
                }
            }
            index.folded.push_str(&folded);
            index.names.push((name.into_boxed_str(), kind));
        }
        let folded = &index.folded;
        let text = |k: &Key| &folded[k.start as usize..k.end as usize];
        index
            .keys
            .sort_unstable_by(|a, b| text(a).cmp(text(b)).then(a.rank.cmp(&b.rank)));

        let mut short: HashMap<Box<str>, Vec<u32>> = HashMap::new();
        for key in &index.keys {
            for (i, c) in text(key).char_indices().take(SHORT_PREFIX) {
                let best = short.entry(text(key)[..i + c.len_utf8()].into()).or_default();
                insert_best(best, key.rank, MAX_LIMIT);
            }
        }
        index.short = short;
        index
    }

    /// Up to `limit` names with a word starting with `prefix` (folded), best first.
    pub fn lookup(&self, prefix: &str, limit: usize) -> Vec<Suggestion> {
        let key = fold(prefix);
        if key.is_empty() {
            return Vec::new();
        }
        let ranks = if key.chars().count() <= SHORT_PREFIX {
            self.short.get(key.as_str()).cloned().unwrap_or_default()
        } else {
            let text = |k: &Key| &self.folded[k.start as usize..k.end as usize];
            let from = self.keys.partition_point(|k| text(k) < key.as_str());
            let run = &self.keys[from..];
            let len = run.partition_point(|k| text(k).starts_with(key.as_str()));
            let mut best = Vec::with_capacity(limit + 1);
            for k in &run[..len] {
                insert_best(&mut best, k.rank, limit);
            }
            best
        };
        ranks
            .into_iter()
            .take(limit)
            .map(|rank| {
                let (text, kind) = &self.names[rank as usize];
                Suggestion {
                    text: text.to_string(),
                    kind: *kind,
                }
            })
            .collect()
    }

    /// How many names are indexed.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

/// Keeps `best` the `limit` smallest distinct ranks seen, ascending.
fn insert_best(best: &mut Vec<u32>, rank: u32, limit: usize) {
    if best.len() == limit && best.last().is_some_and(|&worst| rank >= worst) {
        return;
    }
    if let Err(at) = best.binary_search(&rank) {
        best.insert(at, rank);
        best.truncate(limit);
    }
}

/// The current index, shared by every request; replaced whole when the catalog changes.
#[derive(Clone, Default)]
pub struct Suggestions {
    current: Arc<RwLock<Arc<SuggestIndex>>>,
    /// Whether an index was ever built: a process that serves none (the CLI scan) builds none.
    in_use: Arc<std::sync::atomic::AtomicBool>,
    /// Serialises rebuilds, so the last change is always the last index swapped in.
    rebuilding: Arc<std::sync::Mutex<()>>,
}

impl Suggestions {
    pub fn lookup(&self, prefix: &str, limit: usize) -> Vec<Suggestion> {
        let index = self.current.read().unwrap_or_else(|p| p.into_inner()).clone();
        index.lookup(prefix, limit)
    }

    pub fn in_use(&self) -> bool {
        self.in_use.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Rebuilds the index from `conn` (blocking) and swaps it in.
    pub fn rebuild(&self, conn: &Connection) -> anyhow::Result<()> {
        self.in_use.store(true, std::sync::atomic::Ordering::Relaxed);
        let _one_at_a_time = self.rebuilding.lock().unwrap_or_else(|p| p.into_inner());
        let started = std::time::Instant::now();
        let index = Arc::new(SuggestIndex::build(conn)?);
        tracing::debug!(names = index.len(), elapsed = ?started.elapsed(), "autocomplete index built");
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = index;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn index(names: &[(i64, &str, SuggestionKind)]) -> SuggestIndex {
        SuggestIndex::from_names(names.iter().map(|(w, n, k)| (*w, n.to_string(), *k)).collect())
    }

    fn texts(s: Vec<Suggestion>) -> Vec<String> {
        s.into_iter().map(|s| s.text).collect()
    }

    #[test]
    fn any_word_start_finds_a_name_heaviest_first() {
        let idx = index(&[
            (1, "The Beatles", SuggestionKind::Artist),
            (5, "Beat It", SuggestionKind::Track),
            (2, "Zoë Lémieux", SuggestionKind::Artist),
        ]);
        assert_eq!(texts(idx.lookup("beat", 10)), ["Beat It", "The Beatles"]);
        assert_eq!(texts(idx.lookup("lemi", 10)), ["Zoë Lémieux"]);
        assert_eq!(texts(idx.lookup("the b", 10)), ["The Beatles"]);
        assert_eq!(texts(idx.lookup("eatles", 10)), Vec::<String>::new());
        assert_eq!(texts(idx.lookup("!!", 10)), Vec::<String>::new());
    }

    #[test]
    fn a_name_with_two_matching_words_is_suggested_once() {
        let idx = index(&[
            (1, "Love Love Love", SuggestionKind::Track),
            (1, "Lovely", SuggestionKind::Track),
        ]);
        assert_eq!(texts(idx.lookup("lov", 10)), ["Lovely", "Love Love Love"]);
        assert_eq!(texts(idx.lookup("lo", 10)), ["Lovely", "Love Love Love"]);
    }

    #[test]
    fn the_same_text_of_two_kinds_is_two_suggestions() {
        let idx = index(&[(3, "Blue", SuggestionKind::Album), (3, "Blue", SuggestionKind::Track)]);
        let found = idx.lookup("b", 10);
        assert_eq!(found.len(), 2);
        assert_ne!(found[0].kind, found[1].kind);
    }

    proptest! {
        /// The index answers exactly what a scan over every name would, for short and long prefixes.
        #[test]
        fn lookup_matches_a_linear_scan(
            names in proptest::collection::btree_map("[a-cé ]{1,12}", 1i64..5, 0..40),
            prefix in "[a-cé]{1,4}",
            limit in 1usize..8,
        ) {
            let triples: Vec<(i64, String, SuggestionKind)> =
                names.iter().map(|(n, w)| (*w, n.clone(), SuggestionKind::Track)).collect();
            let idx = SuggestIndex::from_names(triples.clone());
            let mut expected: Vec<(i64, usize, String)> = triples
                .iter()
                .filter(|(_, n, _)| {
                    let f = fold(n);
                    let p = fold(&prefix);
                    f.starts_with(&p) || f.split(' ').any(|w| w.starts_with(&p))
                })
                .map(|(w, n, _)| (-*w, n.chars().count(), n.clone()))
                .collect();
            expected.sort();
            let expected: Vec<String> = expected.into_iter().take(limit).map(|(_, _, n)| n).collect();
            prop_assert_eq!(texts(idx.lookup(&prefix, limit)), expected);
        }
    }
}
