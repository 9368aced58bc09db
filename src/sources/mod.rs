//! Where bytes come from. Every source turns what the catalog knows of a track (its [`Origin`])
//! into something playable: a library file, or a [`Locator`] for the streaming proxy.
//!
//! - `local`: files of the library, checked to lie inside it at play time.
//! - `http`: direct media URLs, and the entries of M3U/PLS playlists and podcast feeds
//!   (`import` reads those), probed with a one-byte range to learn size and validators.

pub mod http;
pub mod import;
pub mod local;
pub mod remote_tags;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

use ::http::header::{HeaderName, HeaderValue};
use futures_util::future::BoxFuture;

use crate::error::Error;

/// What the catalog stores about where a track's bytes are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    LocalFile { path: PathBuf, mime: String },
    Http { url: String, mime: String },
}

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
}

/// What `/stream/<token>` plays.
#[derive(Debug, Clone)]
pub enum Playable {
    LocalFile { path: PathBuf, mime: String },
    Remote(Arc<Locator>),
}

/// One kind of source. Resolution may be slow (network probes, subprocesses): the resolver
/// caches what it returns and makes concurrent callers share one call.
pub trait Source: Send + Sync {
    fn resolve<'a>(&'a self, track_id: &'a str, origin: &'a Origin) -> BoxFuture<'a, Result<Playable, Error>>;
}
