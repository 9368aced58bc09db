//! A stand-in for googlevideo (YouTube's media CDN) on loopback, answering as googlevideo is
//! documented and observed to answer, not as nginx would:
//!
//! - `range=a-b` in the query is answered with a **200** carrying just those bytes, a
//!   Content-Length of the range and no Content-Range (TeamPiped/piped-proxy `src/main.rs`,
//!   `handle_range_response_correction`, rebuilds the 206 from `clen`;
//!   iv-org/invidious-companion `src/routes/videoPlaybackProxy.ts` builds its own).
//! - A bounded `Range: bytes=a-b` header is answered with a 206 and `Content-Range: bytes
//!   a-b/clen` (yt-dlp's own downloader asks so, in 10 MiB chunks, `downloader/http.py`).
//! - Open-ended ranges, no range at all and HEAD get a 403 (reported in
//!   `shared/reference/streaming-facts.md`: "some reports say open-ended `bytes=N-`, HEAD, and
//!   GET without a range get 403"), so a test fails if the proxy ever asks that way.
//! - `expire=` (unix seconds) in the past is a 403 (piped-proxy and invidious-companion both
//!   refuse an expired `expire` before asking upstream, since googlevideo would).
//! - Before a format's `available_at` the media is a 403 (yt-dlp `_video.py`
//!   `_get_available_at_timestamp`; museofficial/muse#1342 measured the 403 before it).
//! - A host may redirect to another googlevideo host (a 302 keeping the query, as the CDN sends
//!   players on to another cache node; invidious-companion follows such `Location`s itself).
//!
//! The resource is `clen` bytes of [`pattern`], so any URL yt-dlp prints can be served.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use axum::routing::any;
use axum::Router;

use crate::origin::pattern;

/// Cache hosts the tests use; the app resolves them to this origin.
pub const HOST: &str = "rr1---sn-test.googlevideo.com";
pub const OTHER_HOST: &str = "rr5---sn-other.googlevideo.com";

#[derive(Debug, Clone)]
pub struct Hit {
    pub host: String,
    pub query: HashMap<String, String>,
    pub range_header: Option<String>,
    pub headers: HeaderMap,
    pub status: u16,
    pub at: SystemTime,
}

#[derive(Default)]
pub struct GoogleVideoState {
    pub log: Mutex<Vec<Hit>>,
    /// Seconds the origin's clock is ahead of the real one (a URL's `expire` passes sooner).
    skew: AtomicU64,
    /// After this many requests, the clock jumps by `jump` seconds (an expiry mid-stream).
    jump_after: AtomicUsize,
    jump: AtomicU64,
    served: AtomicUsize,
    /// itag -> unix seconds before which that format is refused.
    available_at: Mutex<HashMap<String, u64>>,
    /// Hosts that send every request on to `OTHER_HOST`.
    redirecting: Mutex<HashSet<String>>,
    port: AtomicU64,
}

pub struct GoogleVideo {
    pub port: u16,
    pub state: Arc<GoogleVideoState>,
}

impl GoogleVideo {
    pub async fn start() -> GoogleVideo {
        let state = Arc::new(GoogleVideoState::default());
        let app = Router::new()
            .route("/videoplayback", any(videoplayback))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        state.port.store(u64::from(port), Ordering::SeqCst);
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        GoogleVideo { port, state }
    }

    /// The hosts to resolve to this origin (for the app's `NetConfig`).
    pub fn hosts() -> HashMap<String, Vec<std::net::IpAddr>> {
        [HOST, OTHER_HOST]
            .into_iter()
            .map(|h| (h.to_owned(), vec!["127.0.0.1".parse().unwrap()]))
            .collect()
    }

    pub fn hits(&self) -> Vec<Hit> {
        self.state.log.lock().unwrap().clone()
    }

    /// After `requests` more answered requests, the clock moves `by` ahead.
    pub fn jump_clock_after(&self, requests: usize, by: Duration) {
        self.state
            .jump_after
            .store(self.state.served.load(Ordering::SeqCst) + requests, Ordering::SeqCst);
        self.state.jump.store(by.as_secs(), Ordering::SeqCst);
    }

    pub fn refuse_before(&self, itag: &str, unix: u64) {
        self.state.available_at.lock().unwrap().insert(itag.to_owned(), unix);
    }

    pub fn redirect_from(&self, host: &str) {
        self.state.redirecting.lock().unwrap().insert(host.to_owned());
    }
}

pub fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

/// The `len`-byte resource every URL of that `clen` names.
pub fn media(len: u64) -> Vec<u8> {
    (0..len).map(pattern).collect()
}

fn status_only(status: u16) -> Response {
    Response::builder().status(status).body(Body::empty()).unwrap()
}

async fn videoplayback(
    State(state): State<Arc<GoogleVideoState>>,
    method: Method,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let raw = raw.unwrap_or_default();
    let query: HashMap<String, String> = url::form_urlencoded::parse(raw.as_bytes()).into_owned().collect();
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .map(|h| h.split(':').next().unwrap_or(h).to_owned())
        .unwrap_or_default();
    let range_header = headers.get("range").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let now = unix_now() + state.skew.load(Ordering::SeqCst);
    let response = answer(&state, &method, &host, &query, &raw, range_header.as_deref(), now);
    let served = state.served.fetch_add(1, Ordering::SeqCst) + 1;
    let jump_after = state.jump_after.load(Ordering::SeqCst);
    if jump_after > 0 && served >= jump_after {
        state.jump_after.store(0, Ordering::SeqCst);
        state
            .skew
            .fetch_add(state.jump.load(Ordering::SeqCst), Ordering::SeqCst);
    }
    state.log.lock().unwrap().push(Hit {
        host,
        query,
        range_header,
        headers,
        status: response.status().as_u16(),
        at: SystemTime::now(),
    });
    response
}

fn answer(
    state: &GoogleVideoState,
    method: &Method,
    host: &str,
    query: &HashMap<String, String>,
    raw_query: &str,
    range_header: Option<&str>,
    now: u64,
) -> Response {
    if state.redirecting.lock().unwrap().contains(host) {
        let port = state.port.load(Ordering::SeqCst);
        return Response::builder()
            .status(StatusCode::FOUND)
            .header(
                "location",
                format!("http://{OTHER_HOST}:{port}/videoplayback?{raw_query}&cms_redirect=yes"),
            )
            .body(Body::empty())
            .unwrap();
    }
    let (Some(expire), Some(clen)) = (
        query.get("expire").and_then(|e| e.parse::<u64>().ok()),
        query.get("clen").and_then(|c| c.parse::<u64>().ok()),
    ) else {
        return status_only(403);
    };
    if expire <= now || *method != Method::GET {
        return status_only(403);
    }
    let itag = query.get("itag").cloned().unwrap_or_default();
    if state
        .available_at
        .lock()
        .unwrap()
        .get(&itag)
        .is_some_and(|&at| now < at)
    {
        return status_only(403);
    }
    let mime = query.get("mime").cloned().unwrap_or_else(|| "audio/webm".into());
    let bounded = |spec: &str| -> Option<(u64, u64)> {
        let (a, b) = spec.split_once('-')?;
        let (a, b) = (a.parse::<u64>().ok()?, b.parse::<u64>().ok()?);
        (a <= b && a < clen).then_some((a, b.min(clen - 1)))
    };
    let (status, start, end) = if let Some(spec) = query.get("range") {
        match bounded(spec) {
            Some((a, b)) => (StatusCode::OK, a, b),
            None => return status_only(416),
        }
    } else if let Some(spec) = range_header.and_then(|r| r.strip_prefix("bytes=")) {
        match bounded(spec) {
            Some((a, b)) => (StatusCode::PARTIAL_CONTENT, a, b),
            None => return status_only(403), // open-ended or suffix
        }
    } else {
        return status_only(403);
    };
    let mut builder = Response::builder()
        .status(status)
        .header("content-type", mime)
        .header("content-length", end - start + 1);
    if status == StatusCode::PARTIAL_CONTENT {
        builder = builder.header("content-range", format!("bytes {start}-{end}/{clen}"));
    }
    let body = futures_util::stream::unfold(start, move |pos| async move {
        if pos > end {
            return None;
        }
        let piece = (16 * 1024).min(end - pos + 1);
        let bytes: Vec<u8> = (pos..pos + piece).map(pattern).collect();
        Some((Ok::<_, std::io::Error>(bytes::Bytes::from(bytes)), pos + piece))
    });
    builder.body(Body::from_stream(body)).unwrap()
}
