//! A real HTTP origin on loopback for the proxy tests, with faults to inject: drops, stalls,
//! 403s, 5xx, wrong totals, ignored ranges, slowness. It records every request it gets and
//! counts bodies still open (to see the proxy hang up).

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use bytes::Bytes;

/// Byte `i` of a generated file: cheap, and not periodic at any power of two.
pub fn pattern(i: u64) -> u8 {
    (i.wrapping_mul(31).wrapping_add(i >> 13) % 251) as u8
}

#[derive(Clone)]
pub enum Content {
    Bytes(Bytes),
    /// `len` bytes of [`pattern`], made as they are sent.
    Generated(u64),
}

impl Content {
    fn len(&self) -> u64 {
        match self {
            Content::Bytes(b) => b.len() as u64,
            Content::Generated(n) => *n,
        }
    }
    fn slice(&self, start: u64, len: usize) -> Bytes {
        match self {
            Content::Bytes(b) => b.slice(start as usize..start as usize + len),
            Content::Generated(_) => (start..start + len as u64).map(pattern).collect::<Vec<u8>>().into(),
        }
    }
}

#[derive(Clone, Default)]
pub struct Faults {
    /// Request numbers (1-based, per path) answered 403.
    pub forbidden: Vec<usize>,
    /// Request numbers answered 500.
    pub server_error: Vec<usize>,
    /// For these request numbers, the connection drops after this many body bytes.
    pub drop_after: Vec<(usize, u64)>,
    /// Every response's connection drops after this many body bytes: a flaky link, as issue 16
    /// observed it against the binary (`curl: (18) transfer closed with ... bytes remaining`).
    pub drop_every: Option<u64>,
    /// For these request numbers, the body stalls forever after this many bytes.
    pub stall_after: Vec<(usize, u64)>,
    /// From this request number on, Content-Range claims a different total.
    pub wrong_total_from: Option<usize>,
    /// Answer every request with the whole file and a 200.
    pub ignore_range: bool,
    /// Sleep this long before each 16 KiB piece.
    pub piece_delay: Option<Duration>,
    /// Never answer (no headers).
    pub hang: bool,
    pub content_type: Option<&'static str>,
    /// Answer every request with a 302 to this URL.
    pub redirect: Option<String>,
    /// Every request must carry `Authorization: Basic` with this value (base64 of `user:pass`),
    /// else a 401 with `WWW-Authenticate: Basic` (RFC 7617 §2), as nginx's `auth_basic` does.
    pub basic_auth: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Logged {
    pub path: String,
    pub query: Option<String>,
    pub range: Option<String>,
    pub headers: HeaderMap,
}

#[derive(Default)]
pub struct OriginState {
    files: Mutex<HashMap<String, (Content, Faults)>>,
    counts: Mutex<HashMap<String, usize>>,
    pub log: Mutex<Vec<Logged>>,
    pub open_bodies: AtomicI64,
    pub bytes_sent: AtomicU64,
}

pub struct Origin {
    pub base: String,
    pub state: Arc<OriginState>,
}

impl Origin {
    pub async fn start() -> Origin {
        Origin::start_on("127.0.0.1:0").await
    }

    pub async fn start_on(addr: &str) -> Origin {
        let state = Arc::new(OriginState::default());
        let app = Router::new().route("/{*path}", get(serve)).with_state(state.clone());
        let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Origin { base, state }
    }

    pub fn put(&self, path: &str, content: Content, faults: Faults) -> String {
        self.state
            .files
            .lock()
            .unwrap()
            .insert(path.to_owned(), (content, faults));
        format!("{}/{}", self.base, path)
    }

    pub fn set_faults(&self, path: &str, faults: Faults) {
        self.state.files.lock().unwrap().get_mut(path).unwrap().1 = faults;
        self.state.counts.lock().unwrap().remove(path);
    }

    /// The requests for `path`, in order.
    pub fn requests(&self, path: &str) -> Vec<Logged> {
        self.state
            .log
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.path == path)
            .cloned()
            .collect()
    }

    pub fn clear_log(&self) {
        self.state.log.lock().unwrap().clear();
    }
}

fn parse_range(value: &str, len: u64) -> Option<(u64, u64)> {
    let spec = value.strip_prefix("bytes=")?;
    let (a, b) = spec.split_once('-')?;
    if a.is_empty() {
        let n: u64 = b.parse().ok()?;
        return Some((len.saturating_sub(n), len - 1));
    }
    let start: u64 = a.parse().ok()?;
    let end = if b.is_empty() {
        len - 1
    } else {
        b.parse::<u64>().ok()?.min(len - 1)
    };
    (start <= end).then_some((start, end))
}

struct BodyGuard(Arc<OriginState>);

impl Drop for BodyGuard {
    fn drop(&mut self) {
        self.0.open_bodies.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn serve(
    State(state): State<Arc<OriginState>>,
    Path(path): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let range = headers.get("range").and_then(|v| v.to_str().ok()).map(str::to_owned);
    state.log.lock().unwrap().push(Logged {
        path: path.clone(),
        query,
        range: range.clone(),
        headers: headers.clone(),
    });
    let n = {
        let mut counts = state.counts.lock().unwrap();
        let c = counts.entry(path.clone()).or_default();
        *c += 1;
        *c
    };
    let Some((content, faults)) = state.files.lock().unwrap().get(&path).cloned() else {
        return Response::builder()
            .status(404)
            .body(Body::from("no such file"))
            .unwrap();
    };
    if faults.hang {
        std::future::pending::<()>().await;
    }
    if let Some(to) = &faults.redirect {
        return Response::builder()
            .status(302)
            .header("location", to)
            .body(Body::empty())
            .unwrap();
    }
    if let Some(expected) = &faults.basic_auth {
        let given = headers.get("authorization").and_then(|v| v.to_str().ok());
        if given != Some(format!("Basic {expected}").as_str()) {
            return Response::builder()
                .status(401)
                .header("www-authenticate", "Basic realm=\"music\"")
                .body(Body::from("401 Authorization Required"))
                .unwrap();
        }
    }
    if faults.forbidden.contains(&n) {
        return Response::builder().status(403).body(Body::from("expired")).unwrap();
    }
    if faults.server_error.contains(&n) {
        return Response::builder().status(500).body(Body::from("oops")).unwrap();
    }
    let len = content.len();
    let (status, start, end) = match range
        .as_deref()
        .filter(|_| !faults.ignore_range)
        .map(|r| parse_range(r, len))
    {
        Some(Some((s, e))) => (StatusCode::PARTIAL_CONTENT, s, e),
        Some(None) => {
            return Response::builder()
                .status(416)
                .header("content-range", format!("bytes */{len}"))
                .body(Body::empty())
                .unwrap()
        }
        None => (StatusCode::OK, 0, len - 1),
    };
    let mut builder = Response::builder()
        .status(status)
        .header("content-type", faults.content_type.unwrap_or("audio/mpeg"))
        .header("etag", "\"v1\"")
        .header("accept-ranges", "bytes")
        .header("content-length", end - start + 1);
    if status == StatusCode::PARTIAL_CONTENT {
        let total = if faults.wrong_total_from.is_some_and(|from| n >= from) {
            len + 1000
        } else {
            len
        };
        builder = builder.header("content-range", format!("bytes {start}-{end}/{total}"));
    }
    let drop_after = faults
        .drop_after
        .iter()
        .find(|(r, _)| *r == n)
        .map(|(_, b)| *b)
        .or(faults.drop_every);
    let stall_after = faults.stall_after.iter().find(|(r, _)| *r == n).map(|(_, b)| *b);
    state.open_bodies.fetch_add(1, Ordering::SeqCst);
    let guard = BodyGuard(state.clone());
    let body = futures_util::stream::unfold((start, 0u64, guard), move |(pos, sent, guard)| {
        let content = content.clone();
        let delay = faults.piece_delay;
        async move {
            if pos > end {
                return None;
            }
            if stall_after.is_some_and(|s| sent >= s) {
                std::future::pending::<()>().await;
            }
            if drop_after.is_some_and(|d| sent >= d) {
                // Let the bytes already sent reach the peer before the connection drops.
                tokio::time::sleep(Duration::from_millis(30)).await;
                return Some((Err(std::io::Error::other("injected drop")), (end + 1, sent, guard)));
            }
            if let Some(d) = delay {
                tokio::time::sleep(d).await;
            }
            let mut piece = (16 * 1024).min(end - pos + 1);
            for limit in [drop_after, stall_after].into_iter().flatten() {
                if sent < limit {
                    piece = piece.min(limit - sent);
                }
            }
            let bytes = content.slice(pos, piece as usize);
            guard.0.bytes_sent.fetch_add(piece, Ordering::SeqCst);
            Some((Ok::<Bytes, std::io::Error>(bytes), (pos + piece, sent + piece, guard)))
        }
    });
    builder.body(Body::from_stream(body)).unwrap()
}
