//! A resolved remote media location, and its stored form.
//!
//! The catalog keeps resolutions as opaque JSON text ([`Locator::to_record`],
//! [`Locator::from_record`]): only this module knows what is in them.

use std::time::SystemTime;

use http::header::{HeaderName, HeaderValue};

use crate::model::{from_unix, unix};

/// How an upstream takes a byte range: the standard `Range` header, or a query parameter
/// (`range=a-b`, as YouTube's own player asks googlevideo).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RangeStyle {
    Header,
    QueryParam(&'static str),
}

/// A resolved remote media location: everything the proxy needs to fetch any byte range.
#[derive(Debug, Clone)]
pub struct Locator {
    pub url: url::Url,
    /// Headers the upstream needs on every request (yt-dlp's `http_headers`); never the client's.
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub mime: String,
    /// Total size, learnt before the first byte goes out (None: the upstream would not say).
    pub size: Option<u64>,
    /// A strong validator of the upstream representation, to detect a change mid-stream.
    pub etag: Option<String>,
    pub last_modified: Option<SystemTime>,
    /// When the URL stops working (signed URLs); the resolver re-resolves before then.
    pub expires_at: Option<SystemTime>,
    pub range_style: RangeStyle,
    /// False when the upstream answered a range request with a 200 (it ignores ranges).
    pub supports_ranges: bool,
    /// The most bytes one upstream request may ask for (yt-dlp's `http_chunk_size`: YouTube
    /// throttles or refuses larger ranges); None: the configured chunk size.
    pub max_chunk: Option<u64>,
    /// The source's id of the format these bytes are (yt-dlp's `format_id`): a re-resolution
    /// mid-stream must pin it, since another format would not continue the same bytes.
    pub format_id: Option<String>,
    /// Before this the upstream refuses the media (yt-dlp's `available_at`); the first request
    /// waits for it.
    pub available_at: Option<SystemTime>,
}

impl Locator {
    /// Whether ranges are asked in the query string (and answered with 200s, googlevideo-style).
    pub fn ranges_in_query(&self) -> bool {
        self.supports_ranges && matches!(self.range_style, RangeStyle::QueryParam(_))
    }
}

/// A locator as stored in the catalog, so warm resolutions survive a restart.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct LocatorRecord {
    url: String,
    headers: Vec<(String, String)>,
    mime: String,
    size: Option<u64>,
    etag: Option<String>,
    last_modified: Option<u64>,
    expires_at: Option<u64>,
    range_param: Option<String>,
    supports_ranges: bool,
    #[serde(default)]
    max_chunk: Option<u64>,
    #[serde(default)]
    format_id: Option<String>,
    #[serde(default)]
    available_at: Option<u64>,
}

impl From<&Locator> for LocatorRecord {
    fn from(l: &Locator) -> Self {
        LocatorRecord {
            url: l.url.to_string(),
            headers: l
                .headers
                .iter()
                .filter_map(|(k, v)| Some((k.to_string(), v.to_str().ok()?.to_owned())))
                .collect(),
            mime: l.mime.clone(),
            size: l.size,
            etag: l.etag.clone(),
            last_modified: l.last_modified.map(unix),
            expires_at: l.expires_at.map(unix),
            range_param: match l.range_style {
                RangeStyle::Header => None,
                RangeStyle::QueryParam(p) => Some(p.to_owned()),
            },
            supports_ranges: l.supports_ranges,
            max_chunk: l.max_chunk,
            format_id: l.format_id.clone(),
            available_at: l.available_at.map(unix),
        }
    }
}

impl LocatorRecord {
    fn into_locator(self) -> Option<Locator> {
        let at = from_unix;
        Some(Locator {
            url: self.url.parse().ok()?,
            headers: self
                .headers
                .into_iter()
                .filter_map(|(k, v)| {
                    Some((
                        HeaderName::from_bytes(k.as_bytes()).ok()?,
                        HeaderValue::from_str(&v).ok()?,
                    ))
                })
                .collect(),
            mime: self.mime,
            size: self.size,
            etag: self.etag,
            last_modified: self.last_modified.map(at),
            expires_at: self.expires_at.map(at),
            // The only query-parameter style we know is googlevideo's `range`.
            range_style: if self.range_param.is_some() {
                RangeStyle::QueryParam("range")
            } else {
                RangeStyle::Header
            },
            supports_ranges: self.supports_ranges,
            max_chunk: self.max_chunk,
            format_id: self.format_id,
            available_at: self.available_at.map(at),
        })
    }
}

impl Locator {
    /// The stored form of this locator (JSON text).
    pub fn to_record(&self) -> String {
        serde_json::to_string(&LocatorRecord::from(self)).expect("a record serialises")
    }

    /// A locator from its stored form; None if the record is unreadable (an older or damaged
    /// one: the track is resolved again).
    pub fn from_record(json: &str) -> Option<Locator> {
        serde_json::from_str::<LocatorRecord>(json).ok()?.into_locator()
    }
}
