//! Text folding for matching: "Beyoncé" and "beyonce" fold to the same key.

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// Lowercase, diacritics removed (NFKD, combining marks dropped), every run of
/// non-alphanumerics turned into one space, trimmed.
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending_space = false;
    for c in s.nfkd().filter(|c| !is_combining_mark(*c)) {
        if c.is_alphanumeric() {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.extend(c.to_lowercase());
        } else {
            pending_space = true;
        }
    }
    out
}

/// The keys under which a name is found by autocomplete: its folded form and every suffix that
/// starts at a word ("the beatles", "beatles"), so typing any word's start finds it.
pub fn suggestion_keys(name: &str) -> Vec<String> {
    let folded = fold(name);
    let mut keys = vec![folded.clone()];
    keys.extend(folded.match_indices(' ').map(|(i, _)| folded[i + 1..].to_owned()));
    keys.retain(|k| !k.is_empty());
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_diacritics_and_case() {
        assert_eq!(fold("Beyoncé"), "beyonce");
        assert_eq!(fold("Zoë Lémieux"), "zoe lemieux");
        assert_eq!(fold("  Motörhead -- Åce!"), "motorhead ace");
    }

    #[test]
    fn keys_start_at_words() {
        assert_eq!(suggestion_keys("The Beatles"), vec!["the beatles", "beatles"]);
        assert_eq!(suggestion_keys("!!!"), Vec::<String>::new());
    }
}
