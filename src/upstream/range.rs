//! Talking to an upstream: how to ask it for a byte range (header or query parameter), and
//! whether what came back is the range we asked for (the checks nginx's slice module makes:
//! a 206, the expected start, the same total size, the same ETag).

use http::header::{AUTHORIZATION, CONTENT_LENGTH, CONTENT_RANGE, ETAG, RANGE};
use http::{HeaderMap, HeaderValue, StatusCode};

use super::{Locator, RangeStyle};

/// `Content-Range: bytes a-b/total` (total may be `*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContentRange {
    pub start: u64,
    pub end: u64,
    pub total: Option<u64>,
}

pub fn parse_content_range(value: &str) -> Option<ContentRange> {
    let rest = value.trim().strip_prefix("bytes ")?;
    let (span, total) = rest.split_once('/')?;
    let (start, end) = span.split_once('-')?;
    let (start, end): (u64, u64) = (start.trim().parse().ok()?, end.trim().parse().ok()?);
    let total = match total.trim() {
        "*" => None,
        t => Some(t.parse().ok()?),
    };
    (start <= end && total.is_none_or(|t| end < t)).then_some(ContentRange { start, end, total })
}

/// The URL and headers of a request for bytes `start..=end` of `locator`.
pub fn range_request(locator: &Locator, start: u64, end: u64) -> (url::Url, HeaderMap) {
    range_request_at(locator, &locator.url, start, end)
}

/// As [`range_request`], for `locator`'s media at another URL (after a redirect).
pub fn range_request_at(locator: &Locator, at: &url::Url, start: u64, end: u64) -> (url::Url, HeaderMap) {
    let mut headers = HeaderMap::new();
    for (name, value) in &locator.headers {
        headers.append(name.clone(), value.clone());
    }
    let mut url = at.clone();
    if let Some(credentials) = take_credentials(&mut url) {
        if !headers.contains_key(AUTHORIZATION) {
            headers.insert(AUTHORIZATION, credentials);
        }
    }
    if locator.supports_ranges {
        match locator.range_style {
            RangeStyle::Header => {
                headers.insert(
                    RANGE,
                    HeaderValue::from_str(&format!("bytes={start}-{end}")).expect("ASCII"),
                );
            }
            RangeStyle::QueryParam(name) => set_query_param(&mut url, name, &format!("{start}-{end}")),
        }
    }
    (url, headers)
}

/// `url` with its query's parameter `name` set to `value` (both needing no percent-encoding),
/// last; every other parameter kept as it was written. Why not decode the query and encode it
/// again: a googlevideo URL carries dozens of parameters, and doing that for each request was
/// 1.7 % of the proxy's samples at 256 clients (issue 18).
fn set_query_param(url: &mut url::Url, name: &str, value: &str) {
    let is_name = |pair: &&str| {
        let key = pair.split_once('=').map_or(*pair, |(key, _)| key);
        key == name
            || (key.contains(['%', '+'])
                && url::form_urlencoded::parse(key.as_bytes())
                    .next()
                    .is_some_and(|(key, _)| key == name))
    };
    let mut query: String = url
        .query()
        .unwrap_or("")
        .split('&')
        .filter(|pair| !pair.is_empty() && !is_name(pair))
        .flat_map(|pair| [pair, "&"])
        .collect();
    query.push_str(name);
    query.push('=');
    query.push_str(value);
    url.set_query(Some(&query));
}

/// A URL's `user:password@` as `Authorization: Basic` (RFC 7617; percent-decoded, as curl and
/// reqwest send it), taken out of the URL: it never goes on the request line, and a redirect
/// to another URL carries no credentials.
pub fn take_credentials(url: &mut url::Url) -> Option<HeaderValue> {
    use base64::Engine as _;
    if url.username().is_empty() && url.password().is_none() {
        return None;
    }
    let decode = |s: &str| percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned();
    let pair = format!("{}:{}", decode(url.username()), decode(url.password().unwrap_or("")));
    let _ = url.set_username("");
    let _ = url.set_password(None);
    let mut value = HeaderValue::from_str(&format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    ))
    .expect("base64 is a valid header value");
    value.set_sensitive(true);
    Some(value)
}

/// `to` (where `from` redirected) with `from`'s credentials if it is on the same origin: a
/// redirect within a server keeps them, one to another host never gets them (as curl and
/// reqwest do).
pub fn carry_credentials(from: &url::Url, mut to: url::Url) -> url::Url {
    if to.origin() == from.origin() && to.username().is_empty() && to.password().is_none() {
        let _ = to.set_username(from.username());
        let _ = to.set_password(from.password());
    }
    to
}

/// What an upstream answer to a range request means for the proxy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChunkCheck {
    /// The body carries bytes `start..=end` (perhaps fewer than asked; the rest is asked again).
    Range { start: u64, end: u64 },
    /// A 200: the upstream ignores ranges and sends the whole representation from byte 0.
    Whole,
    /// 403/410: the URL expired or was refused; re-resolve.
    Refused(StatusCode),
    /// Worth another try (5xx, 429).
    Retry(String),
    /// Never going to work for this stream (wrong total, changed ETag, 404, 416, ...).
    Fatal(String),
}

/// Judges an upstream answer to a request for `start..=end` of `locator` (its total size and
/// ETag as learnt at resolution).
pub fn check_chunk(status: StatusCode, headers: &HeaderMap, locator: &Locator, start: u64, end: u64) -> ChunkCheck {
    let (size, etag) = (locator.size, locator.etag.as_deref());
    let header = |name| headers.get(name).and_then(|v: &HeaderValue| v.to_str().ok());
    if let (Some(ours), Some(theirs)) = (etag, header(ETAG)) {
        if ours != theirs && status.is_success() {
            return ChunkCheck::Fatal(format!("upstream changed: ETag {theirs} is not {ours}"));
        }
    }
    match status {
        StatusCode::PARTIAL_CONTENT => {
            let Some(range) = header(CONTENT_RANGE).and_then(parse_content_range) else {
                return ChunkCheck::Fatal("206 without a valid Content-Range".into());
            };
            if range.start != start || range.end > end {
                return ChunkCheck::Fatal(format!("asked for {start}-{end}, got {}-{}", range.start, range.end));
            }
            if let (Some(total), Some(size)) = (range.total, size) {
                if total != size {
                    return ChunkCheck::Fatal(format!("upstream size changed from {size} to {total}"));
                }
            }
            ChunkCheck::Range { start, end: range.end }
        }
        StatusCode::OK => {
            let length = header(CONTENT_LENGTH).and_then(|l| l.parse::<u64>().ok());
            if locator.ranges_in_query() {
                // googlevideo answers `range=a-b` with a 200 carrying just those bytes and no
                // Content-Range (piped-proxy `src/main.rs` `handle_range_response_correction`
                // rebuilds the 206; invidious-companion `videoPlaybackProxy.ts` builds its
                // own). Its length is the only check there is: it must be the range's.
                return match length {
                    Some(l) if l == end - start + 1 => ChunkCheck::Range { start, end },
                    Some(l) => ChunkCheck::Fatal(format!("asked for {start}-{end} by query, got a 200 of {l} bytes")),
                    None => ChunkCheck::Fatal(format!("asked for {start}-{end} by query, got a 200 of unknown length")),
                };
            }
            match (length, size) {
                (Some(l), Some(s)) if l != s => ChunkCheck::Fatal(format!("upstream size changed from {s} to {l}")),
                _ => ChunkCheck::Whole,
            }
        }
        // Expired or refused; a redirect means the URL moved: either way, resolve it again
        // (redirects the proxy may follow are followed before this judgement).
        StatusCode::FORBIDDEN | StatusCode::GONE => ChunkCheck::Refused(status),
        s if s.is_redirection() => ChunkCheck::Refused(s),
        StatusCode::TOO_MANY_REQUESTS => ChunkCheck::Retry(status.to_string()),
        s if s.is_server_error() => ChunkCheck::Retry(s.to_string()),
        s => ChunkCheck::Fatal(format!("upstream answered {s}")),
    }
}

/// Where a redirect from `from` may be followed by the proxy itself, keeping the request: only
/// from one googlevideo cache host to another (YouTube's CDN sends players on to another
/// node; re-resolving would be slow and get the same answer). Anything else re-resolves.
pub fn followable_redirect(from: &url::Url, location: &str) -> Option<url::Url> {
    let to = from.join(location).ok()?;
    let googlevideo = |u: &url::Url| u.host_str().is_some_and(|h| h.ends_with(".googlevideo.com"));
    (googlevideo(from) && googlevideo(&to) && matches!(to.scheme(), "http" | "https")).then_some(to)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn credentials_in_a_url_become_basic_auth_and_leave_the_url() {
        let mut url = url::Url::parse("http://al%40home:p%3Ass%20w@music.example:8000/a.mp3?x=1").unwrap();
        let value = take_credentials(&mut url).unwrap();
        // base64("al@home:p:ss w")
        assert_eq!(value.to_str().unwrap(), "Basic YWxAaG9tZTpwOnNzIHc=");
        assert!(value.is_sensitive());
        assert_eq!(url.as_str(), "http://music.example:8000/a.mp3?x=1");
        let mut plain = url::Url::parse("http://music.example/a.mp3").unwrap();
        assert!(take_credentials(&mut plain).is_none());
        let mut user_only = url::Url::parse("http://al@music.example/a.mp3").unwrap();
        assert_eq!(
            take_credentials(&mut user_only).unwrap().to_str().unwrap(),
            "Basic YWw6"
        );

        let from = url::Url::parse("http://al:pw@music.example/a.mp3").unwrap();
        let moved = |to: &str| carry_credentials(&from, url::Url::parse(to).unwrap()).to_string();
        assert_eq!(moved("http://music.example/b.mp3"), "http://al:pw@music.example/b.mp3");
        assert_eq!(moved("http://cdn.example/b.mp3"), "http://cdn.example/b.mp3");
        assert_eq!(moved("https://music.example/b.mp3"), "https://music.example/b.mp3");
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, v.parse().unwrap());
        }
        map
    }

    /// `check_chunk` for a header-style locator of `size` bytes with ETag `etag`.
    fn check(
        status: StatusCode,
        h: &HeaderMap,
        start: u64,
        end: u64,
        size: Option<u64>,
        etag: Option<&str>,
    ) -> ChunkCheck {
        let l = Locator {
            size,
            etag: etag.map(str::to_owned),
            ..locator(RangeStyle::Header)
        };
        check_chunk(status, h, &l, start, end)
    }

    #[test]
    fn content_range_parses() {
        assert_eq!(
            parse_content_range("bytes 0-0/1234"),
            Some(ContentRange {
                start: 0,
                end: 0,
                total: Some(1234)
            })
        );
        assert_eq!(
            parse_content_range("bytes 5-9/*"),
            Some(ContentRange {
                start: 5,
                end: 9,
                total: None
            })
        );
        for bad in [
            "bytes */100",
            "bytes 9-5/100",
            "bytes 0-100/100",
            "items 0-1/2",
            "bytes 0-1",
            "",
        ] {
            assert_eq!(parse_content_range(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_matching_206_is_a_range() {
        let h = headers(&[("content-range", "bytes 100-199/1000")]);
        assert_eq!(
            check(StatusCode::PARTIAL_CONTENT, &h, 100, 199, Some(1000), None),
            ChunkCheck::Range { start: 100, end: 199 }
        );
    }

    #[test]
    fn a_short_206_is_accepted_and_continued() {
        let h = headers(&[("content-range", "bytes 100-149/1000")]);
        assert_eq!(
            check(StatusCode::PARTIAL_CONTENT, &h, 100, 199, Some(1000), None),
            ChunkCheck::Range { start: 100, end: 149 }
        );
    }

    #[test]
    fn wrong_start_total_or_etag_is_fatal() {
        let h = headers(&[("content-range", "bytes 0-99/1000")]);
        assert!(matches!(
            check(StatusCode::PARTIAL_CONTENT, &h, 100, 199, Some(1000), None),
            ChunkCheck::Fatal(_)
        ));
        let h = headers(&[("content-range", "bytes 100-199/2000")]);
        assert!(matches!(
            check(StatusCode::PARTIAL_CONTENT, &h, 100, 199, Some(1000), None),
            ChunkCheck::Fatal(_)
        ));
        let h = headers(&[("content-range", "bytes 100-199/1000"), ("etag", "\"b\"")]);
        assert!(matches!(
            check(StatusCode::PARTIAL_CONTENT, &h, 100, 199, Some(1000), Some("\"a\"")),
            ChunkCheck::Fatal(_)
        ));
        assert!(matches!(
            check(StatusCode::PARTIAL_CONTENT, &HeaderMap::new(), 0, 9, Some(10), None),
            ChunkCheck::Fatal(_)
        ));
    }

    #[test]
    fn statuses() {
        let none = HeaderMap::new();
        assert_eq!(check(StatusCode::OK, &none, 0, 9, Some(10), None), ChunkCheck::Whole);
        assert_eq!(
            check(StatusCode::FORBIDDEN, &none, 0, 9, Some(10), None),
            ChunkCheck::Refused(StatusCode::FORBIDDEN)
        );
        assert_eq!(
            check(StatusCode::GONE, &none, 0, 9, Some(10), None),
            ChunkCheck::Refused(StatusCode::GONE)
        );
        assert!(matches!(
            check(StatusCode::SERVICE_UNAVAILABLE, &none, 0, 9, Some(10), None),
            ChunkCheck::Retry(_)
        ));
        assert!(matches!(
            check(StatusCode::NOT_FOUND, &none, 0, 9, Some(10), None),
            ChunkCheck::Fatal(_)
        ));
        let h = headers(&[("content-length", "5")]);
        assert!(matches!(
            check(StatusCode::OK, &h, 0, 9, Some(10), None),
            ChunkCheck::Fatal(_)
        ));
    }

    fn locator(style: RangeStyle) -> Locator {
        Locator {
            url: "http://127.0.0.1:1/media?a=1&range=0-1".parse().unwrap(),
            headers: vec![(http::header::USER_AGENT, HeaderValue::from_static("yt"))],
            mime: "audio/webm".into(),
            size: Some(1000),
            etag: None,
            last_modified: None,
            expires_at: None,
            range_style: style,
            supports_ranges: true,
            max_chunk: None,
            format_id: None,
            available_at: None,
        }
    }

    #[test]
    fn a_200_to_a_query_range_is_that_range_when_its_length_matches() {
        // googlevideo's answer to `range=100-199`: 200, Content-Length 100, no Content-Range.
        let l = locator(RangeStyle::QueryParam("range"));
        let h = headers(&[("content-length", "100")]);
        assert_eq!(
            check_chunk(StatusCode::OK, &h, &l, 100, 199),
            ChunkCheck::Range { start: 100, end: 199 }
        );
        // A one-byte read is not a size change (the bug of issue 13: "size changed to 1").
        let h = headers(&[("content-length", "1")]);
        assert_eq!(
            check_chunk(StatusCode::OK, &h, &l, 0, 0),
            ChunkCheck::Range { start: 0, end: 0 }
        );
        // Any other length, or none, cannot be placed in the file.
        for h in [
            headers(&[("content-length", "1000")]),
            headers(&[("content-length", "99")]),
            HeaderMap::new(),
        ] {
            assert!(
                matches!(check_chunk(StatusCode::OK, &h, &l, 100, 199), ChunkCheck::Fatal(_)),
                "{h:?}"
            );
        }
        // The Range header form of the same upstream still gets 206s judged as usual.
        let h = headers(&[("content-range", "bytes 100-199/1000")]);
        assert_eq!(
            check_chunk(StatusCode::PARTIAL_CONTENT, &h, &l, 100, 199),
            ChunkCheck::Range { start: 100, end: 199 }
        );
    }

    #[test]
    fn only_redirects_between_googlevideo_hosts_are_followed() {
        let from: url::Url = "https://rr1---sn-a.googlevideo.com/videoplayback?itag=251"
            .parse()
            .unwrap();
        assert_eq!(
            followable_redirect(
                &from,
                "https://rr5---sn-b.googlevideo.com/videoplayback?itag=251&cms_redirect=yes"
            )
            .map(|u| u.host_str().unwrap().to_owned()),
            Some("rr5---sn-b.googlevideo.com".to_owned())
        );
        assert!(
            followable_redirect(&from, "/videoplayback?x=1").is_some(),
            "relative, same host"
        );
        for elsewhere in [
            "http://127.0.0.1/secret",
            "https://evil.example/googlevideo.com",
            "file:///etc/passwd",
        ] {
            assert_eq!(followable_redirect(&from, elsewhere), None, "{elsewhere}");
        }
        let plain: url::Url = "https://cdn.example/a.mp3".parse().unwrap();
        assert_eq!(followable_redirect(&plain, "https://cdn2.example/a.mp3"), None);
    }

    #[test]
    fn ranges_go_in_a_header_or_the_query() {
        let (url, h) = range_request(&locator(RangeStyle::Header), 10, 19);
        assert_eq!(h.get(RANGE).unwrap(), "bytes=10-19");
        assert_eq!(h.get(http::header::USER_AGENT).unwrap(), "yt");
        assert_eq!(url.query(), Some("a=1&range=0-1"));
        let (url, h) = range_request(&locator(RangeStyle::QueryParam("range")), 10, 19);
        assert!(h.get(RANGE).is_none());
        assert_eq!(url.query(), Some("a=1&range=10-19"));
    }

    #[test]
    fn a_query_range_replaces_the_one_there_and_keeps_the_rest_as_written() {
        let mut url: url::Url =
            "https://rr1---sn-a.googlevideo.com/videoplayback?sig=AB%3D%3D&r%61nge=5-6&x=a+b&range=0-1&&n=%2F"
                .parse()
                .unwrap();
        set_query_param(&mut url, "range", "10-19");
        assert_eq!(url.query(), Some("sig=AB%3D%3D&x=a+b&n=%2F&range=10-19"));
        let mut bare: url::Url = "http://127.0.0.1:1/media".parse().unwrap();
        set_query_param(&mut bare, "range", "0-0");
        assert_eq!(bare.as_str(), "http://127.0.0.1:1/media?range=0-0");
    }

    proptest! {
        /// Whatever a query holds, the answer decodes to its pairs without `range`, then
        /// `range` with the value set.
        #[test]
        fn a_query_range_is_set_and_every_other_pair_kept(
            pairs in proptest::collection::vec(("(range|[a-z%+=]{0,6})", "[a-zA-Z0-9%+=/ ]{0,8}"), 0..8),
        ) {
            let mut url = url::Url::parse("https://rr1---sn-a.googlevideo.com/videoplayback").unwrap();
            url.query_pairs_mut().extend_pairs(&pairs);
            let expected: Vec<(String, String)> = url
                .query_pairs()
                .filter(|(k, _)| k != "range")
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .chain([("range".to_owned(), "3-4".to_owned())])
                .collect();
            set_query_param(&mut url, "range", "3-4");
            let got: Vec<(String, String)> = url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
            prop_assert_eq!(got, expected);
        }

        #[test]
        fn rendered_content_ranges_parse_back(start in 0u64..1_000_000, len in 1u64..1_000_000, extra in 0u64..1000) {
            let end = start + len - 1;
            let total = end + 1 + extra;
            let parsed = parse_content_range(&format!("bytes {start}-{end}/{total}"));
            prop_assert_eq!(parsed, Some(ContentRange { start, end, total: Some(total) }));
        }

        /// Whatever an upstream answers (any status, any Content-Range, Content-Length and
        /// ETag), the judgement never panics, and a range it accepts is the one asked for.
        #[test]
        fn any_upstream_answer_is_judged_in_bounds(
            status in 100u16..600,
            content_range in prop_oneof![
                "bytes [0-9]{1,21}-[0-9]{1,21}/([0-9]{1,21}|\\*)",
                "\\PC{0,30}",
            ],
            content_length in prop_oneof!["[0-9]{1,21}", "\\PC{0,10}"],
            etag in proptest::option::of("\"[a-z0-9]{0,4}\""),
            ours in proptest::option::of("\"[a-z0-9]{0,4}\""),
            start in 0u64..1 << 40,
            len in 1u64..1 << 30,
            size in proptest::option::of(0u64..1 << 41),
            query: bool,
        ) {
            let end = start + len - 1;
            let mut h = HeaderMap::new();
            for (name, value) in [(CONTENT_RANGE, Some(content_range)), (CONTENT_LENGTH, Some(content_length)), (ETAG, etag)] {
                if let Some(value) = value.and_then(|v| HeaderValue::from_str(&v).ok()) {
                    h.insert(name, value);
                }
            }
            let style = if query { RangeStyle::QueryParam("range") } else { RangeStyle::Header };
            let l = Locator { size, etag: ours, ..locator(style) };
            let status = StatusCode::from_u16(status).unwrap();
            if let ChunkCheck::Range { start: s, end: e } = check_chunk(status, &h, &l, start, end) {
                prop_assert!(s == start && s <= e && e <= end, "{s}-{e} for {start}-{end}");
            }
        }

        #[test]
        fn any_content_range_or_location_never_panics(value in "\\PC{0,40}") {
            if let Some(r) = parse_content_range(&value) {
                prop_assert!(r.start <= r.end && r.total.is_none_or(|t| r.end < t));
            }
            let from = url::Url::parse("https://rr1---sn-a.googlevideo.com/videoplayback?a=1").unwrap();
            if let Some(to) = followable_redirect(&from, &value) {
                prop_assert!(to.host_str().is_some_and(|h| h.ends_with(".googlevideo.com")));
            }
        }
    }
}
