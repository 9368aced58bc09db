//! Decide, then render: from a request's headers and what we know of the representation
//! (length and validators), decide what to answer (RFC 9110 §13.2.2 order of preconditions,
//! then §14 ranges). Pure: no I/O, so every case is a unit test.

use std::time::SystemTime;

use crate::model::{unix, unix_nanos};

use http::header::{IF_MATCH, IF_MODIFIED_SINCE, IF_NONE_MATCH, IF_RANGE, IF_UNMODIFIED_SINCE, RANGE};
use http::HeaderMap;

use super::range::{self, ByteRange, RangeAnswer};

/// What the server knows about the bytes it is about to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Representation {
    pub len: u64,
    /// A strong entity tag, quotes included (`"1a2b-3c"`).
    pub etag: Option<String>,
    pub last_modified: Option<SystemTime>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// 304: the client's copy is current.
    NotModified,
    /// 412: an If-Match / If-Unmodified-Since precondition failed.
    PreconditionFailed,
    /// 416 with `Content-Range: bytes */len`.
    Unsatisfiable,
    /// 200 with the whole representation.
    Full,
    /// 206 with one range.
    Partial(ByteRange),
}

pub fn decide(headers: &HeaderMap, rep: &Representation) -> Plan {
    let header = |name| headers.get(name).and_then(|v: &http::HeaderValue| v.to_str().ok());

    // §13.2.2 step 1-2: If-Match, else If-Unmodified-Since.
    if let Some(if_match) = header(IF_MATCH) {
        if !etag_list_matches(if_match, rep.etag.as_deref(), true) {
            return Plan::PreconditionFailed;
        }
    } else if let (Some(since), Some(modified)) = (header(IF_UNMODIFIED_SINCE).and_then(parse_date), rep.last_modified)
    {
        if unix(modified) > unix(since) {
            return Plan::PreconditionFailed;
        }
    }

    // Step 3-4: If-None-Match, else If-Modified-Since (we only serve GET and HEAD).
    if let Some(if_none_match) = header(IF_NONE_MATCH) {
        if etag_list_matches(if_none_match, rep.etag.as_deref(), false) {
            return Plan::NotModified;
        }
    } else if let (Some(since), Some(modified)) = (header(IF_MODIFIED_SINCE).and_then(parse_date), rep.last_modified) {
        if unix(modified) <= unix(since) {
            return Plan::NotModified;
        }
    }

    // Step 5: Range, honoured only if If-Range (when present) still matches.
    let range_header = header(RANGE);
    if range_header.is_some() {
        if let Some(if_range) = headers.get(IF_RANGE) {
            if !if_range_matches(if_range.to_str().unwrap_or(""), rep) {
                return Plan::Full;
            }
        }
    }
    match range::answer(range_header, rep.len) {
        RangeAnswer::Full => Plan::Full,
        RangeAnswer::Partial(r) => Plan::Partial(r),
        RangeAnswer::Unsatisfiable => Plan::Unsatisfiable,
    }
}

/// A strong ETag from a file's size and modification time (as nginx and static-web-server do).
pub fn etag_for(len: u64, modified: Option<SystemTime>) -> String {
    let nanos = modified.map_or(0, unix_nanos);
    format!("\"{len:x}-{nanos:x}\"")
}

pub fn http_date(t: SystemTime) -> String {
    httpdate::fmt_http_date(t)
}

fn parse_date(s: &str) -> Option<SystemTime> {
    httpdate::parse_http_date(s).ok()
}

/// A strong entity tag for content known by its digest (the first 8 bytes, in hex).
pub fn etag_of_digest(digest: &[u8]) -> String {
    format!(
        "\"{}\"",
        digest.iter().take(8).map(|b| format!("{b:02x}")).collect::<String>()
    )
}

/// Whether the request's If-None-Match names `etag`: the client's copy is current (304).
pub fn not_modified(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get(IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|list| etag_list_matches(list, Some(etag), false))
}

/// `*` or a comma-separated list of entity tags. Strong comparison (If-Match, If-Range) never
/// matches a weak tag; weak comparison (If-None-Match) ignores the `W/` prefix (§8.8.3.2).
fn etag_list_matches(list: &str, ours: Option<&str>, strong: bool) -> bool {
    let Some(ours) = ours else { return false };
    if list.trim() == "*" {
        return true;
    }
    list.split(',').map(str::trim).any(|tag| match tag.strip_prefix("W/") {
        Some(weak) => !strong && weak == ours.trim_start_matches("W/"),
        None => tag == ours,
    })
}

/// If-Range holds an entity tag (strong comparison) or an HTTP-date (exact match with
/// Last-Modified, §13.1.5). Anything else fails, so the client gets the full, current file.
fn if_range_matches(value: &str, rep: &Representation) -> bool {
    let value = value.trim();
    if value.starts_with('"') || value.starts_with("W/") {
        return !value.starts_with("W/") && rep.etag.as_deref() == Some(value);
    }
    match (parse_date(value), rep.last_modified) {
        (Some(date), Some(modified)) => unix(date) == unix(modified),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    fn rep() -> Representation {
        let modified = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        Representation {
            len: 1000,
            etag: Some(etag_for(1000, Some(modified))),
            last_modified: Some(modified),
        }
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, v.parse().unwrap());
        }
        map
    }

    fn etag() -> String {
        rep().etag.unwrap()
    }

    fn date(offset: i64) -> String {
        http_date(UNIX_EPOCH + Duration::from_secs((1_700_000_000 + offset) as u64))
    }

    #[test]
    fn plain_get_is_full() {
        assert_eq!(decide(&headers(&[]), &rep()), Plan::Full);
    }

    #[test]
    fn range_is_partial() {
        assert_eq!(
            decide(&headers(&[("range", "bytes=10-19")]), &rep()),
            Plan::Partial(ByteRange { start: 10, end: 19 })
        );
    }

    #[test]
    fn range_past_end_is_unsatisfiable() {
        assert_eq!(
            decide(&headers(&[("range", "bytes=5000-")]), &rep()),
            Plan::Unsatisfiable
        );
    }

    #[test]
    fn if_none_match_with_our_tag_is_not_modified() {
        let tag = etag();
        assert_eq!(decide(&headers(&[("if-none-match", &tag)]), &rep()), Plan::NotModified);
        assert_eq!(
            decide(&headers(&[("if-none-match", &format!("\"x\", W/{tag}"))]), &rep()),
            Plan::NotModified
        );
        assert_eq!(decide(&headers(&[("if-none-match", "*")]), &rep()), Plan::NotModified);
        assert_eq!(decide(&headers(&[("if-none-match", "\"other\"")]), &rep()), Plan::Full);
    }

    #[test]
    fn content_etags_and_not_modified() {
        let tag = etag_of_digest(&[0xab; 32]);
        assert_eq!(tag, "\"abababababababab\"");
        assert!(not_modified(&headers(&[("if-none-match", &tag)]), &tag));
        assert!(not_modified(
            &headers(&[("if-none-match", &format!("\"x\", W/{tag}"))]),
            &tag
        ));
        assert!(!not_modified(&headers(&[("if-none-match", "\"other\"")]), &tag));
        assert!(!not_modified(&headers(&[]), &tag));
    }

    #[test]
    fn if_modified_since() {
        assert_eq!(
            decide(&headers(&[("if-modified-since", &date(0))]), &rep()),
            Plan::NotModified
        );
        assert_eq!(
            decide(&headers(&[("if-modified-since", &date(10))]), &rep()),
            Plan::NotModified
        );
        assert_eq!(
            decide(&headers(&[("if-modified-since", &date(-10))]), &rep()),
            Plan::Full
        );
        assert_eq!(
            decide(&headers(&[("if-modified-since", "not a date")]), &rep()),
            Plan::Full
        );
    }

    #[test]
    fn if_none_match_wins_over_if_modified_since() {
        let h = headers(&[("if-none-match", "\"other\""), ("if-modified-since", &date(10))]);
        assert_eq!(decide(&h, &rep()), Plan::Full);
    }

    #[test]
    fn if_range_with_current_etag_keeps_the_range() {
        let h = headers(&[("range", "bytes=0-9"), ("if-range", &etag())]);
        assert_eq!(decide(&h, &rep()), Plan::Partial(ByteRange { start: 0, end: 9 }));
    }

    #[test]
    fn if_range_with_stale_validator_sends_everything() {
        for stale in [
            "\"stale\"".to_string(),
            format!("W/{}", etag()),
            date(-5),
            "garbage".into(),
        ] {
            let h = headers(&[("range", "bytes=0-9"), ("if-range", &stale)]);
            assert_eq!(decide(&h, &rep()), Plan::Full, "{stale}");
        }
    }

    #[test]
    fn if_range_with_exact_date_keeps_the_range() {
        let h = headers(&[("range", "bytes=0-9"), ("if-range", &date(0))]);
        assert_eq!(decide(&h, &rep()), Plan::Partial(ByteRange { start: 0, end: 9 }));
    }

    #[test]
    fn if_match_failures_are_412() {
        assert_eq!(
            decide(&headers(&[("if-match", "\"other\"")]), &rep()),
            Plan::PreconditionFailed
        );
        assert_eq!(
            decide(&headers(&[("if-match", &format!("W/{}", etag()))]), &rep()),
            Plan::PreconditionFailed
        );
        assert_eq!(decide(&headers(&[("if-match", &etag())]), &rep()), Plan::Full);
        assert_eq!(
            decide(&headers(&[("if-unmodified-since", &date(-1))]), &rep()),
            Plan::PreconditionFailed
        );
        assert_eq!(
            decide(&headers(&[("if-unmodified-since", &date(0))]), &rep()),
            Plan::Full
        );
    }

    /// Header values as clients send them, and as they don't: well-formed ranges, tags and
    /// dates mixed with any bytes a header value may hold (visible ASCII and obs-text).
    fn header_value() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            "bytes=[0-9]{0,20}-[0-9]{0,20}(,[0-9]{0,6}-[0-9]{0,6}){0,3}".prop_map(String::into_bytes),
            "(W/)?\"[a-z0-9-]{0,12}\"(, *(W/)?\"[a-z0-9-]{0,12}\"){0,2}|\\*".prop_map(String::into_bytes),
            (-1_700_000_000i64..2_000_000_000).prop_map(|offset| date(offset).into_bytes()),
            proptest::collection::vec(prop_oneof![0x20u8..0x7f, 0x80u8..=0xff, Just(b'\t')], 0..48),
        ]
    }

    proptest! {
        /// Any mix of Range and conditional headers, on any representation: a plan, never a
        /// panic, and a partial plan always within the representation.
        #[test]
        fn any_headers_give_a_plan_in_bounds(
            values in proptest::collection::vec((0usize..6, header_value()), 0..6),
            len in prop_oneof![Just(0u64), 1u64..5000, Just(u64::MAX)],
            tagged: bool,
        ) {
            const NAMES: [http::HeaderName; 6] =
                [RANGE, IF_RANGE, IF_MATCH, IF_NONE_MATCH, IF_MODIFIED_SINCE, IF_UNMODIFIED_SINCE];
            let mut map = HeaderMap::new();
            for (name, value) in values {
                if let Ok(value) = http::HeaderValue::from_bytes(&value) {
                    map.append(NAMES[name].clone(), value);
                }
            }
            let rep = Representation { len, etag: tagged.then(etag), ..rep() };
            match decide(&map, &rep) {
                Plan::Partial(r) => prop_assert!(r.start <= r.end && r.end < len, "{r:?} of {len}"),
                Plan::Unsatisfiable => prop_assert!(map.contains_key(RANGE)),
                Plan::NotModified => prop_assert!(map.contains_key(IF_NONE_MATCH) || map.contains_key(IF_MODIFIED_SINCE)),
                Plan::PreconditionFailed => prop_assert!(map.contains_key(IF_MATCH) || map.contains_key(IF_UNMODIFIED_SINCE)),
                Plan::Full => {}
            }
            let _ = not_modified(&map, &etag());
        }
    }
}
