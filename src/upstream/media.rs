//! The data plane's HTTP/1.1 client: a stream reads its upstream connection itself, straight
//! into the frame it sends its client next.
//!
//! hyper's client, which this replaced (issue 18), runs each connection as a task of its own
//! and hands the body over through a channel, as slices of a read buffer it grows and never
//! shrinks: 27 KiB a connection before the first body byte (the task, the channel, an 8 KiB
//! head buffer), and 60 to 100 KiB a listener at 320 kbit/s once the read buffers were counted
//! (BENCHMARKS.md). Here a connection costs its socket (and its TLS state over https), and the
//! stream's reads are as large as its client has room for.
//!
//! The protocol is ureq-proto's (sans-IO HTTP/1.1: request heads, response heads, chunked and
//! close-delimited bodies). A body of known length, which every ranged answer is, is read
//! without it, so no byte is copied twice.
//!
//! Only HTTP/1.1 is spoken (TLS offers no other protocol): streams never share a connection,
//! so what a paused listener has not taken waits in its connection's kernel buffers, not in an
//! HTTP/2 flow-control window in ours, with other listeners of the connection waiting behind it.

use std::collections::HashMap;
use std::error::Error as StdError;
use std::fmt;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use http::header::CONNECTION;
use http::{HeaderMap, Request, StatusCode, Uri, Version};
use hyper_rustls::{HttpsConnector, MaybeHttpsStream};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt, ReadBuf};
use ureq_proto::client::state::RecvBody;
use ureq_proto::client::{Call, RecvBodyResult, RecvResponseResult, SendRequestResult};
use ureq_proto::BodyMode;

use super::net::Connector;

type Io = TokioIo<MaybeHttpsStream<TokioIo<tokio::net::TcpStream>>>;
type BoxError = Box<dyn StdError + Send + Sync>;

/// The largest response head read (nginx's `large_client_header_buffers` allows 32 KiB of
/// request head; googlevideo's answers carry under 2).
const MAX_HEAD: usize = 64 * 1024;
/// What a head is read in, and what a chunked or close-delimited body is read in before it is
/// decoded.
const READ_STEP: usize = 8 * 1024;

/// What an origin may send ahead of a stream's reads: the receive buffer of its connection
/// (`SO_RCVBUF`, socket(7); the kernel doubles it for its bookkeeping), which fills while the
/// stream's client reads at a bitrate or pauses.
///
/// Left to itself, the kernel grows the buffer with the connection's first, fast second (a
/// listener's buffers fill at once) and keeps it: 300 to 800 KiB a listener (`ss -tm`), and two
/// thousand listeners took this machine's TCP memory past `tcp_mem`'s pressure mark, where
/// segments are dropped and streams stall for seconds (issue 18). A download, though, wants
/// the origin's bytes as fast as they come.
///
/// A connection's buffer is raised for a download and never lowered: the kernel does not take
/// back a window it advertised, and what the origin sends within it beyond a lowered buffer is
/// dropped, and sent again only after a timeout. (Lowered when a download's connection went
/// back to the pool, a single stream ran at 26 MiB/s instead of 1,000, `ss` counting the drops;
/// `TCP_WINDOW_CLAMP` on a raised one did not keep its queue from filling to 2 MiB again.) So a
/// wide connection is kept for downloads only, and a stream whose client turns to listening
/// lets its wide one go (`stream::proxy`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadAhead {
    /// A listener's: 256 KiB in the kernel, which carries about 60 Mbit/s over a 30 ms path (a
    /// 320 kbit/s track at 150 times its rate). Every connection starts with it.
    Listener,
    /// A download's: 2 MiB, or as much of it as `rmem_max` allows (208 KiB by the kernel's
    /// default, 416 with its share). Held to a listener's, a download from a fast origin lost
    /// 13 to 18 % of its throughput at 256 clients on loopback (`bench/run.py`, BENCHMARKS.md).
    Download,
}

impl ReadAhead {
    /// The receive buffer asked for.
    fn receive_buffer(self) -> usize {
        match self {
            ReadAhead::Listener => 128 * 1024,
            ReadAhead::Download => 1024 * 1024,
        }
    }

    /// Sets the receive buffer of `io`'s socket to this one's.
    fn set_on(self, io: &Io) {
        let _ = socket2::SockRef::from(tcp_of(io)).set_recv_buffer_size(self.receive_buffer());
    }

    /// A connection at `self` made ready for `wanted`: a download's buffer if one is wanted
    /// (never a listener's again).
    fn raised_for(self, io: &Io, wanted: ReadAhead) -> ReadAhead {
        if self == ReadAhead::Listener && wanted == ReadAhead::Download {
            wanted.set_on(io);
            return wanted;
        }
        self
    }
}

/// Turns off the delayed acknowledgements Linux turns on for a kept connection, for the answer
/// about to come (`TCP_QUICKACK`, tcp(7)).
///
/// Why: a request sent within the delayed-ACK time of the last answer's bytes (the next
/// chunk's, on a kept connection) counts as the reply of an interactive exchange, and the
/// kernel enters "pingpong" mode (`tcp_event_data_sent`, net/ipv4/tcp_output.c), delaying
/// acknowledgements as for requests and replies. An answer is a bulk transfer, whose sender
/// paces itself by them. On loopback here (BBR's paced segments arrive out of order across two
/// cores, and the origin goes into recovery: `nstat`'s `TCPSackRecovery`), an origin then sent
/// one 64 KiB segment every 3 to 40 ms: over a 256 MiB download (in a download's large frames),
/// `perf trace` counted 25 to 400 ms of waits on the upstream, and 7 to 9 ms with this. It
/// lasts until the kernel's heuristics next change the mode, so it is set after each request.
fn acknowledge_at_once(io: &Io) {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    let _ = socket2::SockRef::from(tcp_of(io)).set_tcp_quickack(true);
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let _ = io;
}

/// The TCP connection under a media connection (to the origin, or to the upstream proxy).
fn tcp_of(io: &Io) -> &tokio::net::TcpStream {
    match io.inner() {
        MaybeHttpsStream::Http(tcp) => tcp.inner(),
        MaybeHttpsStream::Https(tls) => tls.inner().get_ref().0.inner().inner(),
    }
}

/// A pooled keep-alive HTTP/1.1 client for media GETs; cheap to clone.
#[derive(Clone)]
pub struct MediaClient {
    shared: Arc<Shared>,
}

struct Shared {
    connector: HttpsConnector<Connector>,
    idle: Mutex<HashMap<Origin, Vec<Idle>>>,
    idle_timeout: Duration,
    max_idle_per_origin: usize,
}

/// Where a connection goes: scheme, host and port (as hyper-util's pool keys them).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Origin(String);

impl Origin {
    fn of(uri: &Uri) -> Option<Origin> {
        let scheme = uri.scheme_str()?;
        let port = uri.port_u16().unwrap_or(if scheme == "https" { 443 } else { 80 });
        Some(Origin(format!(
            "{scheme}://{}:{port}",
            uri.host()?.to_ascii_lowercase()
        )))
    }
}

struct Idle {
    io: Io,
    /// What its origin may send ahead: a download's once it was raised for one.
    read_ahead: ReadAhead,
    since: Instant,
}

impl MediaClient {
    /// Connections made by `connector`; an idle one is kept `idle_timeout` for reuse, at most
    /// `max_idle_per_origin` of them an origin. Inside a Tokio runtime: a task sweeps the pool.
    pub fn new(connector: HttpsConnector<Connector>, idle_timeout: Duration, max_idle_per_origin: usize) -> Self {
        let shared = Arc::new(Shared {
            connector,
            idle: Mutex::new(HashMap::new()),
            idle_timeout,
            max_idle_per_origin,
        });
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(sweep(Arc::downgrade(&shared)));
        }
        MediaClient { shared }
    }

    /// Sends `request` (a GET: no body) on a kept connection to its origin, or a new one, and
    /// reads the answer's head; the origin may send `read_ahead` ahead of the body's reads. A
    /// kept connection the origin closed as it was reused (nothing of an answer came) is
    /// replaced by a new one, once.
    pub async fn get(&self, request: Request<()>, read_ahead: ReadAhead) -> Result<MediaResponse, MediaError> {
        let origin = Origin::of(request.uri()).ok_or_else(|| MediaError::new("the URL has no host", "no host"))?;
        if let Some(kept) = self.shared.checkout(&origin, read_ahead) {
            let given = kept.read_ahead.raised_for(&kept.io, read_ahead);
            match exchange(kept.io, copy_of(&request)).await {
                Ok((head, body)) => return Ok(self.response(origin, head, body, given)),
                Err(Failure::Unanswered(e)) => tracing::debug!(error = %e, "a kept connection was closed; a new one"),
                Err(Failure::Failed(e)) => return Err(e),
            }
        }
        let io = self.connect(request.uri()).await?;
        ReadAhead::Listener.set_on(&io);
        let given = ReadAhead::Listener.raised_for(&io, read_ahead);
        match exchange(io, request).await {
            Ok((head, body)) => Ok(self.response(origin, head, body, given)),
            Err(Failure::Unanswered(e) | Failure::Failed(e)) => Err(e),
        }
    }

    async fn connect(&self, uri: &Uri) -> Result<Io, MediaError> {
        use tower_service::Service;
        let mut connector = self.shared.connector.clone();
        std::future::poll_fn(|cx| connector.poll_ready(cx))
            .await
            .map_err(|e| MediaError::new("could not connect", e))?;
        let stream = connector
            .call(uri.clone())
            .await
            .map_err(|e| MediaError::new("could not connect", e))?;
        Ok(TokioIo::new(stream))
    }

    fn response(
        &self,
        origin: Origin,
        head: http::response::Parts,
        body: Body,
        read_ahead: ReadAhead,
    ) -> MediaResponse {
        MediaResponse {
            status: head.status,
            headers: head.headers,
            body: MediaBody {
                body,
                pool: Arc::downgrade(&self.shared),
                origin,
                read_ahead,
            },
        }
    }
}

impl Shared {
    /// The most recently kept connection to `origin` that is still open and fits `read_ahead`:
    /// for a download, one raised for a download if there is one; for a listener, never one of
    /// those ([`ReadAhead`]: its origin might send a download's window ahead).
    fn checkout(&self, origin: &Origin, read_ahead: ReadAhead) -> Option<Idle> {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        let kept = idle.get_mut(origin)?;
        let kinds: &[ReadAhead] = match read_ahead {
            ReadAhead::Listener => &[ReadAhead::Listener],
            ReadAhead::Download => &[ReadAhead::Download, ReadAhead::Listener],
        };
        for &kind in kinds {
            while let Some(at) = kept.iter().rposition(|entry| entry.read_ahead == kind) {
                let mut entry = kept.remove(at);
                if entry.since.elapsed() < self.idle_timeout && still_open(&mut entry.io) {
                    return Some(entry);
                }
            }
        }
        None
    }

    fn checkin(&self, origin: Origin, io: Io, read_ahead: ReadAhead) {
        if self.max_idle_per_origin == 0 {
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        let kept = idle.entry(origin).or_default();
        if kept.len() >= self.max_idle_per_origin {
            kept.remove(0);
        }
        kept.push(Idle {
            io,
            read_ahead,
            since: Instant::now(),
        });
    }

    fn sweep(&self) {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        idle.retain(|_, kept| {
            kept.retain(|entry| entry.since.elapsed() < self.idle_timeout);
            !kept.is_empty()
        });
    }
}

/// Drops the connections kept longer than the timeout, every timeout, while the client lives.
async fn sweep(shared: Weak<Shared>) {
    let Some(every) = shared.upgrade().map(|s| s.idle_timeout) else {
        return;
    };
    let mut tick = tokio::time::interval(every);
    tick.tick().await;
    loop {
        tick.tick().await;
        let Some(shared) = shared.upgrade() else { return };
        shared.sweep();
    }
}

/// Whether a kept connection is still open: a read finds nothing to read (an origin that
/// closed it, or sent bytes nobody asked for, makes it unusable).
fn still_open(io: &mut Io) -> bool {
    let mut byte = [0u8; 1];
    let mut buf = ReadBuf::new(&mut byte);
    let mut cx = Context::from_waker(Waker::noop());
    matches!(Pin::new(io).poll_read(&mut cx, &mut buf), Poll::Pending)
}

fn copy_of(request: &Request<()>) -> Request<()> {
    let mut copy = Request::new(());
    *copy.method_mut() = request.method().clone();
    *copy.uri_mut() = request.uri().clone();
    *copy.version_mut() = request.version();
    *copy.headers_mut() = request.headers().clone();
    copy
}

/// An answer: its status and headers, and its body to read.
pub struct MediaResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: MediaBody,
}

/// The body of an answer, read by its stream. Read to its end, its connection is kept for
/// reuse (unless the origin said to close it); dropped before, the connection is closed.
pub struct MediaBody {
    body: Body,
    pool: Weak<Shared>,
    origin: Origin,
    /// What its connection lets the origin send ahead of the reads.
    read_ahead: ReadAhead,
}

enum Body {
    /// Read through (or nothing to read); the connection went back to the pool or was closed.
    Done,
    /// `left` bytes to come, read straight into the caller's buffer; `early` holds those that
    /// came with the head.
    Length {
        io: Io,
        left: u64,
        early: Vec<u8>,
        keep_alive: bool,
    },
    /// Chunked or close-delimited: read into `raw`, decoded by ureq-proto.
    Decoded {
        io: Io,
        call: Box<Call<RecvBody>>,
        raw: Vec<u8>,
    },
}

impl MediaBody {
    /// What the origin may send ahead of the reads.
    pub fn read_ahead(&self) -> ReadAhead {
        self.read_ahead
    }

    /// Lets the origin send a download's read-ahead from now on (the stream's client turned
    /// out to download).
    pub fn raise_for_download(&mut self) {
        if let Body::Length { io, .. } | Body::Decoded { io, .. } = &self.body {
            self.read_ahead = self.read_ahead.raised_for(io, ReadAhead::Download);
        }
    }

    /// Reads the next bytes of the body into `out`: how many, 0 once the body is over.
    /// Cancel-safe: dropping the future loses nothing that was read.
    pub async fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        match &mut self.body {
            Body::Done => Ok(0),
            Body::Length { left: 0, .. } => {
                self.finish();
                Ok(0)
            }
            Body::Length { io, left, early, .. } => {
                let want = out.len().min(usize::try_from(*left).unwrap_or(usize::MAX));
                let n = if early.is_empty() {
                    io.read(&mut out[..want]).await?
                } else {
                    let n = want.min(early.len());
                    out[..n].copy_from_slice(&early[..n]);
                    early.drain(..n);
                    if early.is_empty() {
                        *early = Vec::new();
                    }
                    n
                };
                if n == 0 {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        format!("the connection closed {left} bytes before the end of the body"),
                    ));
                }
                *left -= n as u64;
                if *left == 0 {
                    self.finish();
                }
                Ok(n)
            }
            Body::Decoded { io, call, raw } => loop {
                if !raw.is_empty() {
                    let (used, written) = call.read(raw, out).map_err(io::Error::other)?;
                    raw.drain(..used);
                    if written > 0 {
                        return Ok(written);
                    }
                }
                let close_delimited = call.body_mode() == BodyMode::CloseDelimited;
                if call.can_proceed() && !close_delimited {
                    self.finish();
                    return Ok(0);
                }
                let at = raw.len();
                raw.resize(at + READ_STEP, 0);
                let n = io.read(&mut raw[at..]).await;
                raw.truncate(at + *n.as_ref().unwrap_or(&0));
                match n? {
                    0 if close_delimited => {
                        self.body = Body::Done;
                        return Ok(0);
                    }
                    0 => {
                        return Err(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            "the connection closed before the end of the chunked body",
                        ))
                    }
                    _ => {}
                }
            },
        }
    }

    /// The body was read through: its connection goes back to the pool if it may be reused.
    fn finish(&mut self) {
        let reusable = match std::mem::replace(&mut self.body, Body::Done) {
            Body::Length {
                io, early, keep_alive, ..
            } => (keep_alive && early.is_empty()).then_some(io),
            Body::Decoded { io, call, raw } => match call.proceed() {
                Some(RecvBodyResult::Cleanup(cleanup)) if !cleanup.must_close_connection() && raw.is_empty() => {
                    Some(io)
                }
                _ => None,
            },
            Body::Done => None,
        };
        if let (Some(io), Some(pool)) = (reusable, self.pool.upgrade()) {
            pool.checkin(self.origin.clone(), io, self.read_ahead);
        }
    }
}

/// Why an exchange failed: before any answer on a kept connection (worth one more try on a
/// new one), or otherwise.
enum Failure {
    Unanswered(MediaError),
    Failed(MediaError),
}

/// Writes `request` on `io` and reads the answer's head.
async fn exchange(mut io: Io, request: Request<()>) -> Result<(http::response::Parts, Body), Failure> {
    let protocol = |e: ureq_proto::Error| Failure::Failed(MediaError::new("the origin's answer could not be read", e));
    let mut call = Call::new(request).map_err(protocol)?.proceed();
    let mut buf = vec![0u8; READ_STEP];
    loop {
        let n = call.write(&mut buf).map_err(protocol)?;
        if n == 0 && !call.can_proceed() {
            return Err(Failure::Failed(MediaError::new(
                "the request is too large",
                "request head",
            )));
        }
        io.write_all(&buf[..n]).await.map_err(unanswered)?;
        if call.can_proceed() {
            break;
        }
    }
    io.flush().await.map_err(unanswered)?;
    acknowledge_at_once(&io);
    let Some(SendRequestResult::RecvResponse(mut call)) = call.proceed().map_err(protocol)? else {
        return Err(Failure::Failed(MediaError::new("a GET with a body", "request")));
    };
    let mut filled = 0;
    let response = loop {
        if filled == buf.len() {
            if buf.len() >= MAX_HEAD {
                return Err(Failure::Failed(MediaError::new(
                    "the origin's answer head is too large",
                    "head",
                )));
            }
            buf.resize(buf.len() * 2, 0);
        }
        let n = io.read(&mut buf[filled..]).await;
        match n {
            Ok(0) | Err(_) if filled == 0 => {
                let e = n.err().unwrap_or_else(|| io::ErrorKind::UnexpectedEof.into());
                return Err(unanswered(e));
            }
            Ok(0) => {
                let e = io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the connection closed within the answer's head",
                );
                return Err(Failure::Failed(MediaError::new(
                    "the origin's answer could not be read",
                    e,
                )));
            }
            Err(e) => {
                return Err(Failure::Failed(MediaError::new(
                    "the origin's answer could not be read",
                    e,
                )))
            }
            Ok(n) => filled += n,
        }
        let (used, response) = call.try_response(&buf[..filled], false).map_err(protocol)?;
        buf.copy_within(used..filled, 0);
        filled -= used;
        if let Some(response) = response {
            break response;
        }
    };
    let (head, ()) = response.into_parts();
    // No body (a 204, a 304, a redirect without one) is one of length 0: read through at once.
    let (left, decoded) = match call.proceed() {
        Some(RecvResponseResult::RecvBody(call)) => match call.body_mode() {
            BodyMode::LengthDelimited(left) => (left, None),
            BodyMode::NoBody => (0, None),
            BodyMode::Chunked | BodyMode::CloseDelimited => (0, Some(Box::new(call))),
        },
        _ => (0, None),
    };
    let body = match decoded {
        Some(call) => {
            buf.truncate(filled);
            Body::Decoded { io, call, raw: buf }
        }
        None => Body::Length {
            io,
            left,
            // Only what came: the head's buffer is not held for the body.
            early: buf[..filled].to_vec(),
            keep_alive: keeps_alive(head.version, &head.headers),
        },
    };
    Ok((head, body))
}

fn unanswered(e: io::Error) -> Failure {
    Failure::Unanswered(MediaError::new("the origin did not answer", e))
}

/// Whether a connection may carry another request after this answer: HTTP/1.1 unless the
/// origin says `Connection: close` (RFC 9112 §9.3, as ureq-proto decides for the bodies it
/// reads). An HTTP/1.0 answer's connection is not reused.
fn keeps_alive(version: Version, headers: &HeaderMap) -> bool {
    let closes = headers
        .get_all(CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|token| token.trim().eq_ignore_ascii_case("close"));
    version == Version::HTTP_11 && !closes
}

/// A media request that failed, in our words; the cause is its source.
#[derive(Debug)]
pub struct MediaError {
    what: &'static str,
    cause: BoxError,
}

impl MediaError {
    fn new(what: &'static str, cause: impl Into<BoxError>) -> Self {
        MediaError {
            what,
            cause: cause.into(),
        }
    }
}

impl fmt::Display for MediaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.what)
    }
}

impl StdError for MediaError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(&*self.cause)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::upstream::net::{NetConfig, Resolver};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::net::TcpListener;

    /// A client of loopback origins (the egress policy allows them here).
    fn client() -> MediaClient {
        let mut net = NetConfig::default();
        net.egress.allow_private = true;
        let connector = Connector::new(&net, Resolver::new(net.clone()), Duration::from_secs(5));
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_webpki_roots()
            .https_or_http()
            .enable_http1()
            .wrap_connector(connector);
        MediaClient::new(https, Duration::from_secs(30), 32)
    }

    /// An origin on loopback that reads each request's head and writes the next of `answers`
    /// (raw HTTP/1.1, RFC 9112), on whichever connection asked; `close_after` answers on a
    /// connection, it closes it. Counts the connections it accepted.
    async fn scripted_origin(answers: Vec<&'static str>, close_after: usize) -> (String, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/media", listener.local_addr().unwrap());
        let accepted = Arc::new(AtomicUsize::new(0));
        let answers = Arc::new(Mutex::new(answers.into_iter()));
        let counted = accepted.clone();
        tokio::spawn(async move {
            loop {
                let (mut socket, _) = listener.accept().await.unwrap();
                counted.fetch_add(1, Ordering::SeqCst);
                let answers = answers.clone();
                tokio::spawn(async move {
                    for _ in 0..close_after {
                        let mut head = Vec::new();
                        while !head.ends_with(b"\r\n\r\n") {
                            let mut byte = [0u8; 1];
                            if socket.read(&mut byte).await.unwrap_or(0) == 0 {
                                return;
                            }
                            head.push(byte[0]);
                        }
                        let Some(answer) = answers.lock().unwrap().next() else {
                            return;
                        };
                        socket.write_all(answer.as_bytes()).await.unwrap();
                    }
                });
            }
        });
        (url, accepted)
    }

    /// GETs `url` and reads the whole body, `step` bytes at a time at most.
    async fn body_of(client: &MediaClient, url: &str, step: usize) -> Result<(StatusCode, Vec<u8>), io::Error> {
        let request = Request::get(url).body(()).unwrap();
        let mut response = client
            .get(request, ReadAhead::Listener)
            .await
            .map_err(io::Error::other)?;
        let mut body = Vec::new();
        let mut buf = vec![0u8; step];
        loop {
            match response.body.read(&mut buf).await? {
                0 => return Ok((response.status, body)),
                n => body.extend_from_slice(&buf[..n]),
            }
        }
    }

    #[tokio::test]
    async fn bodies_of_known_length_chunked_or_empty_are_read_whole_on_one_kept_connection() {
        let (url, accepted) = scripted_origin(
            vec![
                "HTTP/1.1 206 Partial Content\r\nContent-Length: 11\r\n\r\nhello world",
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
                "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
                "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
            ],
            10,
        )
        .await;
        let client = client();
        let read = body_of(&client, &url, 4).await.unwrap();
        assert_eq!(read, (StatusCode::PARTIAL_CONTENT, b"hello world".to_vec()));
        let read = body_of(&client, &url, 3).await.unwrap();
        assert_eq!(read, (StatusCode::OK, b"hello world".to_vec()));
        assert_eq!(body_of(&client, &url, 8).await.unwrap().1, b"");
        assert_eq!(body_of(&client, &url, 8).await.unwrap().1, b"ok");
        assert_eq!(
            accepted.load(Ordering::SeqCst),
            1,
            "every answer came on one connection"
        );
    }

    #[tokio::test]
    async fn a_connection_the_origin_closes_is_not_reused_and_a_kept_one_it_closed_is_replaced() {
        // `Connection: close`: the next request needs a new connection.
        let (url, accepted) = scripted_origin(
            vec![
                "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\na",
                "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb",
                "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nc",
            ],
            1,
        )
        .await;
        let client = client();
        assert_eq!(body_of(&client, &url, 8).await.unwrap().1, b"a");
        assert_eq!(body_of(&client, &url, 8).await.unwrap().1, b"b");
        // The origin closed the kept connection after one answer (as a keep-alive timeout
        // does): the request goes on a new one, and succeeds.
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(body_of(&client, &url, 8).await.unwrap().1, b"c");
        assert_eq!(accepted.load(Ordering::SeqCst), 3);
    }

    /// A connection's receive buffer as the kernel reports it (twice what was asked, socket(7)).
    fn receive_buffer(io: &Io) -> usize {
        socket2::SockRef::from(tcp_of(io)).recv_buffer_size().unwrap()
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn a_download_reads_further_ahead_and_a_listener_never_gets_its_connection() {
        let (url, accepted) = scripted_origin(
            vec![
                "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
                "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nthere",
                "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nworld",
                "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nagain",
            ],
            10,
        )
        .await;
        // The kernel caps what is asked at `rmem_max`.
        let rmem_max: usize = std::fs::read_to_string("/proc/sys/net/core/rmem_max")
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        let kernel = |read_ahead: ReadAhead| 2 * read_ahead.receive_buffer().min(rmem_max);
        assert!(
            kernel(ReadAhead::Download) > kernel(ReadAhead::Listener),
            "rmem_max {rmem_max}"
        );
        // A body's connection: where it comes from, and its receive buffer.
        let socket = |body: &MediaBody| match &body.body {
            Body::Length { io, .. } | Body::Decoded { io, .. } => {
                (tcp_of(io).local_addr().unwrap(), receive_buffer(io))
            }
            Body::Done => panic!("the body was read through"),
        };
        let client = client();
        let get = |read_ahead| {
            let client = client.clone();
            let request = Request::get(&url).body(()).unwrap();
            async move { client.get(request, read_ahead).await.unwrap() }
        };
        let mut read = [0u8; 16];

        let mut first = get(ReadAhead::Listener).await;
        let (wide, buffer) = socket(&first.body);
        assert_eq!(buffer, kernel(ReadAhead::Listener), "a new connection is a listener's");
        // Its client turns out to download: the buffer is raised.
        first.body.raise_for_download();
        assert_eq!(socket(&first.body).1, kernel(ReadAhead::Download));
        assert_eq!(first.body.read_ahead(), ReadAhead::Download);
        assert_eq!(first.body.read(&mut read).await.unwrap(), 5);

        // Kept, it is not a listener's again: a listener gets a new connection...
        let mut second = get(ReadAhead::Listener).await;
        assert_eq!(accepted.load(Ordering::SeqCst), 2);
        assert_eq!(socket(&second.body).1, kernel(ReadAhead::Listener));
        assert_eq!(second.body.read(&mut read).await.unwrap(), 5);
        assert_eq!(&read[..5], b"there");
        // ...and a download the wide one, and then the narrow one, raised.
        let third = get(ReadAhead::Download).await;
        assert_eq!(socket(&third.body), (wide, kernel(ReadAhead::Download)));
        let fourth = get(ReadAhead::Download).await;
        assert_eq!(socket(&fourth.body).1, kernel(ReadAhead::Download));
        assert_eq!(accepted.load(Ordering::SeqCst), 2);
    }

    /// Whether the kernel acknowledges what comes on `io`'s connection at once: off in its
    /// "pingpong" mode (`TCP_QUICKACK` as read back, tcp(7)).
    #[cfg(target_os = "linux")]
    fn acknowledges_at_once(io: &Io) -> bool {
        socket2::SockRef::from(tcp_of(io)).tcp_quickack().unwrap()
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn a_kept_connection_acknowledges_each_answer_at_once() {
        // The origin keeps a connection for seven requests, one more than are made: an answer
        // that came with its FIN would be in pingpong mode whatever was set (`tcp_fin`).
        let (url, accepted) = scripted_origin(vec!["HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"; 6], 7).await;
        let client = client();
        // Requests sent as soon as the answer before them is read, as a stream's next chunk is
        // asked for: an interactive exchange to the kernel's heuristics (without the option,
        // every answer after the first is acknowledged late).
        for nth in 0..6 {
            let request = Request::get(&url).body(()).unwrap();
            let mut response = client.get(request, ReadAhead::Download).await.unwrap();
            let Body::Length { io, .. } = &response.body.body else {
                panic!("a body of known length")
            };
            assert!(acknowledges_at_once(io), "answer {nth}");
            let mut read = [0u8; 8];
            assert_eq!(response.body.read(&mut read).await.unwrap(), 5);
        }
        assert_eq!(accepted.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_body_cut_short_is_an_error_not_an_end() {
        let (url, _) = scripted_origin(
            vec![
                "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel",
            ],
            1,
        )
        .await;
        let client = client();
        for _ in 0..2 {
            let e = body_of(&client, &url, 8).await.unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof, "{e}");
        }
    }

    #[test]
    fn a_connection_is_kept_for_http_1_1_unless_the_origin_closes_it() {
        let headers = |value: &str| {
            let mut h = HeaderMap::new();
            h.insert(CONNECTION, value.parse().unwrap());
            h
        };
        assert!(keeps_alive(Version::HTTP_11, &HeaderMap::new()));
        assert!(keeps_alive(Version::HTTP_11, &headers("keep-alive")));
        assert!(!keeps_alive(Version::HTTP_11, &headers("Close")));
        assert!(!keeps_alive(Version::HTTP_11, &headers("upgrade, close")));
        assert!(!keeps_alive(Version::HTTP_10, &HeaderMap::new()));
    }

    #[test]
    fn origins_are_keyed_by_scheme_host_and_port() {
        let origin = |s: &str| Origin::of(&s.parse().unwrap());
        assert_eq!(origin("http://Example.com/a"), origin("http://example.com:80/b"));
        assert_ne!(origin("http://example.com/"), origin("https://example.com/"));
        assert_ne!(origin("http://example.com/"), origin("http://example.com:8080/"));
        assert_eq!(origin("/relative"), None);
    }
}
