//! The middleman: serves a remote [`Locator`] to a client with the same range semantics as a
//! local file, asking the upstream only for the bytes needed, in bounded chunks.
//!
//! Steps: decide the answer from the client's headers and the size learnt at resolution (HEAD
//! and `bytes=-n` need no upstream request to decide); open the first upstream chunk *before*
//! the first byte goes out, so an upstream failure is a 502/504 JSON error; then the response
//! body reads the upstream into each frame it sends, as much as the client has room for
//! (backpressure: a slow client slows the upstream reads), opening the next chunk when half of
//! the current one is sent.
//! Drops and stalls resume from the byte reached; 403/410 re-resolve once; anything that
//! would make the body wrong ends the client's connection instead of sending a short body.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use axum::body::Body;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use bytes::Bytes;
use futures_util::future::BoxFuture;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinHandle;
use tokio::time::Sleep;

use super::paced::{ClientRoom, Pace};
use super::plan::{self, Representation};
use super::range::ByteRange;
use super::render_head;
use crate::error::{Causes, Detail, Error};
use crate::model::unix;
use crate::telemetry as m;
use crate::upstream::egress::forbidden_in;
use crate::upstream::range::{check_chunk, followable_redirect, range_request_at, ChunkCheck};
use crate::upstream::{Locator, MediaBody, MediaClient, MediaResponse, ReadAhead, UpstreamLimits, USER_AGENT};

/// Re-resolves the track being streamed (after a 403/410 from the upstream), pinned to the
/// format id it is playing, if the source has one.
pub type ReResolve = Arc<dyn Fn(Option<String>) -> BoxFuture<'static, Result<Arc<Locator>, Error>> + Send + Sync>;

/// The pooled keep-alive upstream client with its limits; cheap to clone.
#[derive(Clone)]
pub struct Upstream {
    client: MediaClient,
    limits: Arc<UpstreamLimits>,
    permits: Arc<Semaphore>,
}

impl Upstream {
    /// `max_requests` caps upstream requests in flight (each stream holds one at a time, two
    /// while it prefetches).
    pub fn new(client: MediaClient, limits: UpstreamLimits, max_requests: usize) -> Self {
        Upstream {
            client,
            limits: Arc::new(limits),
            permits: Arc::new(Semaphore::new(max_requests)),
        }
    }

    pub fn limits(&self) -> &UpstreamLimits {
        &self.limits
    }

    /// Opens bytes `start..=end` of `locator`, which the origin may send `read_ahead` ahead of
    /// the stream's reads: response headers checked, body not yet read. Redirects between
    /// googlevideo hosts are followed here (a few hops); others re-resolve.
    async fn open(
        &self,
        locator: &Locator,
        start: u64,
        end: u64,
        read_ahead: ReadAhead,
    ) -> Result<OpenChunk, FetchError> {
        let permit = tokio::time::timeout(self.limits.first_byte_timeout, self.permits.clone().acquire_owned())
            .await
            .map_err(|_| FetchError::Busy)?
            .expect("the semaphore is never closed");
        let mut at = locator.url.clone();
        let started = Instant::now();
        for _ in 0..=MAX_REDIRECTS {
            let (url, headers) = range_request_at(locator, &at, start, end);
            let mut request = http::Request::get(url.as_str())
                .body(())
                .map_err(|e| FetchError::Fatal(e.to_string()))?;
            *request.headers_mut() = headers;
            // The source's own User-Agent goes as it is (yt-dlp's for YouTube media: a
            // mismatched one can get a 403); ours only where it gave none.
            if !request.headers().contains_key(http::header::USER_AGENT) {
                request
                    .headers_mut()
                    .insert(http::header::USER_AGENT, http::HeaderValue::from_static(USER_AGENT));
            }
            let sent = tokio::time::timeout(self.limits.first_byte_timeout, self.client.get(request, read_ahead)).await;
            let response = match sent {
                Err(_) => return Err(FetchError::Timeout("no response headers in time".into())),
                Ok(Err(e)) => {
                    return Err(match forbidden_in(&e) {
                        Some(refused) => FetchError::Forbidden(refused.host.clone()),
                        None => FetchError::Retry(format!("request failed: {}", error_chain(&e))),
                    })
                }
                Ok(Ok(r)) => r,
            };
            if response.status.is_redirection() {
                let next = response
                    .headers
                    .get(http::header::LOCATION)
                    .and_then(|l| l.to_str().ok())
                    .and_then(|l| followable_redirect(&at, l));
                if let Some(next) = next {
                    tracing::debug!(host = next.host_str(), "following the upstream's redirect");
                    at = next;
                    continue;
                }
            }
            metrics::histogram!(m::UPSTREAM_TTFB).record(started.elapsed().as_secs_f64());
            let MediaResponse { status, headers, body } = response;
            return match check_chunk(status, &headers, locator, start, end) {
                ChunkCheck::Range { start, end } => Ok(OpenChunk {
                    body,
                    _permit: permit,
                    start,
                    end,
                    whole: false,
                }),
                ChunkCheck::Whole => {
                    let last = locator.size.map_or(u64::MAX, |s| s.saturating_sub(1));
                    Ok(OpenChunk {
                        body,
                        _permit: permit,
                        start: 0,
                        end: last,
                        whole: true,
                    })
                }
                ChunkCheck::Refused(status) => Err(FetchError::Refused(status.as_u16())),
                ChunkCheck::Retry(why) => Err(FetchError::Retry(why)),
                ChunkCheck::Fatal(why) => Err(FetchError::Fatal(why)),
            };
        }
        // Redirected in circles: a fresh resolution may get a URL that answers.
        Err(FetchError::Refused(StatusCode::FOUND.as_u16()))
    }
}

/// Redirects followed for one upstream request (googlevideo hosts only).
const MAX_REDIRECTS: usize = 3;

/// How long the first media request of a stream may wait for the media to become available
/// (yt-dlp's `available_at`: yt-dlp itself sleeps until then, and googlevideo answers 403
/// before it, museofficial/muse#1342); later than this is a `not_yet_available` error.
pub const MAX_AVAILABILITY_WAIT: Duration = Duration::from_secs(30);

/// How long to wait before asking for media that becomes available at `at` (None: no wait),
/// or the error when that is beyond [`MAX_AVAILABILITY_WAIT`].
pub fn availability_wait(at: Option<SystemTime>, now: SystemTime) -> Result<Duration, Error> {
    let Some(wait) = at.and_then(|at| at.duration_since(now).ok()) else {
        return Ok(Duration::ZERO);
    };
    if wait > MAX_AVAILABILITY_WAIT {
        return Err(Error::NotYetAvailable(at.map(unix)));
    }
    Ok(wait)
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// An upstream response whose headers say it carries bytes `start..=end`.
struct OpenChunk {
    body: MediaBody,
    _permit: OwnedSemaphorePermit,
    start: u64,
    end: u64,
    /// The upstream ignored the range and sends everything from byte 0.
    whole: bool,
}

#[derive(Debug)]
enum FetchError {
    Busy,
    /// The egress policy refused the host (a redirect or a new DNS answer led inside).
    Forbidden(String),
    Timeout(String),
    Refused(u16),
    Retry(String),
    Fatal(String),
}

impl From<FetchError> for Error {
    fn from(e: FetchError) -> Self {
        match e {
            FetchError::Busy => Error::Busy,
            FetchError::Forbidden(host) => Error::ForbiddenTarget(host),
            FetchError::Timeout(why) => Error::UpstreamTimeout(why),
            FetchError::Refused(status) => Error::upstream(format!("the origin refused the media URL ({status})")),
            FetchError::Retry(why) | FetchError::Fatal(why) => {
                Error::upstream_because("the origin's answer could not be used", Detail(why))
            }
        }
    }
}

/// Answers a GET or HEAD for `locator` (a resolution of `track_id`).
pub async fn serve(
    upstream: &Upstream,
    locator: Arc<Locator>,
    reresolve: ReResolve,
    method: &Method,
    headers: &HeaderMap,
    room: ClientRoom,
) -> Result<Response, Error> {
    let Some(size) = locator.size else {
        return Err(Error::upstream("the origin does not tell the media's size"));
    };
    let rep = Representation {
        len: size,
        etag: locator.etag.clone(),
        last_modified: locator.last_modified,
    };
    let decision = plan::decide(headers, &rep);
    let (status, head, bytes) = render_head(&decision, &rep, &locator.mime);
    let body = match bytes {
        Some(range) if method != Method::HEAD => {
            let wait = availability_wait(locator.available_at, SystemTime::now())?;
            if !wait.is_zero() {
                // Not `sleep(ZERO)` on every play: tokio rounds a sleep up to its next 1 ms tick.
                tokio::time::sleep(wait).await;
            }
            let mut opener = Opener {
                upstream: upstream.clone(),
                room: room.clone(),
                budget: ResumeBudget::new(upstream.limits.max_resumes, range.start),
                locator,
                reresolve,
                reresolved: false,
            };
            let first = opener
                .open(range.start, opener.chunk_end(range.start, range.end))
                .await?;
            Pump::new(opener, range, first, Pace::new(room)).into_body()
        }
        _ => Body::empty(),
    };
    let mut response = Response::new(body);
    *response.status_mut() = status;
    *response.headers_mut() = head;
    Ok(response)
}

/// The resumes and retries a stream may make. Only failures with no progress since the one
/// before spend it: a long stream on a link that drops now and then never runs out, while an
/// origin that makes no progress ends the stream after `max` attempts, waiting longer each time.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ResumeBudget {
    max: u32,
    left: u32,
    /// The stream's position at the last failure.
    failed_at: u64,
}

/// The longest wait between two attempts that make no progress.
const MAX_BACKOFF: Duration = Duration::from_secs(2);

impl ResumeBudget {
    fn new(max: u32, pos: u64) -> Self {
        ResumeBudget {
            max,
            left: max,
            failed_at: pos,
        }
    }

    /// After a failure with the stream at `pos`: how long to wait before the next attempt, or
    /// None when the attempts without progress are spent.
    fn spend(&mut self, pos: u64) -> Option<Duration> {
        if pos > self.failed_at {
            self.left = self.max;
        }
        self.failed_at = pos;
        self.left = self.left.checked_sub(1)?;
        // The first attempt after progress at once; then 50 ms, 100 ms, ... up to the cap.
        let consecutive = self.max - self.left;
        Some(match consecutive {
            1 => Duration::ZERO,
            n => (Duration::from_millis(50) * 2u32.saturating_pow((n - 2).min(16))).min(MAX_BACKOFF),
        })
    }
}

/// Opens upstream requests for one stream, recovering from what can be recovered from.
struct Opener {
    upstream: Upstream,
    /// The stream's client: how far ahead of it the origin may send follows how it takes bytes.
    room: ClientRoom,
    locator: Arc<Locator>,
    reresolve: ReResolve,
    reresolved: bool,
    budget: ResumeBudget,
}

impl Opener {
    /// The last byte of the upstream request that starts at `start`, for a client that needs
    /// bytes up to `end`.
    fn chunk_end(&self, start: u64, end: u64) -> u64 {
        let most = match self.read_ahead() {
            ReadAhead::Download => self.upstream.limits.chunk_size,
            ReadAhead::Listener => self.upstream.limits.chunk_size.min(LISTENER_CHUNK),
        };
        let chunk = self.locator.max_chunk.map_or(most, |max| max.clamp(1, most));
        start.saturating_add(chunk - 1).min(end)
    }

    /// How far ahead of the stream its origin may send.
    fn read_ahead(&self) -> ReadAhead {
        self.room.taker().into()
    }

    /// Opens `start..=end`, re-resolving once on 403/410 and retrying 5xx, timeouts and
    /// connection errors while the resume budget lasts.
    async fn open(&mut self, start: u64, end: u64) -> Result<OpenChunk, FetchError> {
        loop {
            match self.upstream.open(&self.locator, start, end, self.read_ahead()).await {
                Ok(chunk) => return Ok(chunk),
                Err(FetchError::Refused(status)) if !self.reresolved => {
                    self.reresolved = true;
                    metrics::counter!(m::RERESOLUTIONS).increment(1);
                    tracing::info!(status, "upstream refused the media URL; resolving it again");
                    let pin = self.locator.format_id.clone();
                    let fresh = (self.reresolve)(pin)
                        .await
                        .map_err(|e| FetchError::Fatal(format!("re-resolution failed: {e} ({})", Causes(&e))))?;
                    if fresh.size != self.locator.size {
                        return Err(FetchError::Fatal("the media changed size on re-resolution".into()));
                    }
                    self.locator = fresh;
                }
                Err(e @ (FetchError::Retry(_) | FetchError::Timeout(_))) => {
                    let Some(wait) = self.budget.spend(start) else {
                        return Err(e);
                    };
                    metrics::counter!(m::UPSTREAM_RETRIES).increment(1);
                    tracing::warn!(error = ?e, start, "upstream request failed; retrying");
                    if !wait.is_zero() {
                        tokio::time::sleep(wait).await;
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }
}

/// Moves bytes `pos..=end` from the upstream to the client, chunk by chunk. The client's
/// connection task polls it as the response body, and it reads the upstream connection into
/// the frame it sends next (no task, channel or buffer between the upstream read and the
/// client's write: each hop was a wake-up a frame, each buffer memory a listener).
struct Pump {
    opener: Opener,
    /// The next byte the client needs from the upstream (those before it were sent).
    pos: u64,
    /// The last byte the client needs.
    end: u64,
    /// The next frame waits until the client has taken the last one (see
    /// [`paced`](super::paced)), and is as large as the client's pace allows.
    pace: Pace,
    /// The upstream response being read; None once let go during a pause.
    chunk: Option<OpenChunk>,
    /// The upstream offset of `chunk`'s next body byte.
    cursor: u64,
    prefetch: Option<Prefetch>,
    /// The upstream stall check's timer ([`read_upstream`]).
    stall_check: Pin<Box<Sleep>>,
    proxied_bytes: metrics::Counter,
    _in_flight: m::InFlight,
}

/// The most a listener's stream asks its origin for at a time: 13 s of a 320 kbit/s track, 4 s
/// of a 1 Mbit/s FLAC; the next chunk is asked when this one ends, on the connection it ended
/// on. An origin sends what it was asked for as fast as its socket takes it, whoever reads it:
/// asked for a download's 4 MiB, a listener's origin held about 900 KiB for it in its socket
/// (`ss -tm`; Linux grows a send buffer with the congestion window, not with what the reader
/// takes); and a next chunk asked at half of the current one, as a download's is, holds a
/// second connection's read-ahead and its origin's queue besides (for 50 s of a 320 kbit/s
/// track, at half of 4 MiB). With two thousand listeners and
/// their origins on one machine (loopback), that took its TCP memory to `tcp_mem`'s limit,
/// where receivers drop segments and streams stall for seconds; asking this, the same run held
/// half as much and none stalled (`bench/listeners.py`, BENCHMARKS.md, issue 18).
const LISTENER_CHUNK: u64 = 512 * 1024;

/// Aborts the prefetch task if the pump ends first (client gone, error).
struct Prefetch {
    start: u64,
    task: JoinHandle<Result<OpenChunk, FetchError>>,
}

impl Drop for Prefetch {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Pump {
    fn new(opener: Opener, range: ByteRange, first: OpenChunk, pace: Pace) -> Self {
        let idle_timeout = opener.upstream.limits.idle_timeout;
        Pump {
            opener,
            pos: range.start,
            end: range.end,
            pace,
            cursor: first.start,
            chunk: Some(first),
            prefetch: None,
            stall_check: Box::pin(tokio::time::sleep(idle_timeout)),
            proxied_bytes: metrics::counter!(m::PROXIED_BYTES),
            _in_flight: m::InFlight::new(m::UPSTREAM_STREAMS_IN_FLIGHT),
        }
    }

    /// The response body: the pump's frames; an error (the client's connection is closed
    /// before Content-Length is reached, never a short body passed off as complete) ends it.
    fn into_body(self) -> Body {
        // Boxed: the pump moves into and out of each frame's future, and a pointer moves for
        // less than the pump (copying it was the largest part of the proxy's `memmove`).
        let frames = futures_util::stream::unfold(Some(Box::new(self)), |pump| async move {
            let mut pump = pump?;
            match pump.next_frame().await? {
                Ok(frame) => Some((Ok(frame), Some(pump))),
                Err(why) => {
                    metrics::counter!(m::STREAM_ERRORS).increment(1);
                    tracing::warn!(%why, pos = pump.pos, end = pump.end, "upstream stream failed; closing the client's connection");
                    Some((Err(io::Error::other(why)), None))
                }
            }
        });
        Body::from_stream(frames)
    }

    /// The next frame for the client: None when every byte was sent, Err when the stream
    /// cannot go on.
    async fn next_frame(&mut self) -> Option<Result<Bytes, String>> {
        if self.pos > self.end {
            return None;
        }
        let pause_lets_go = self.opener.upstream.limits.pause_lets_go;
        let size = match tokio::time::timeout(pause_lets_go, self.pace.ready()).await {
            Ok(size) => size,
            Err(_) => {
                self.let_go("the client paused");
                self.pace.ready().await
            }
        };
        Some(self.fill(size).await.map(|(buffer, len)| {
            self.proxied_bytes.increment(len as u64);
            self.pace.frame_of_buffer(buffer, len)
        }))
    }

    /// Lets the upstream go (its connection, and what the origin sent that the kernel holds
    /// for it) while the client is paused, or once it turned to listening: the stream asks
    /// again from the byte reached when the client next reads.
    fn let_go(&mut self, why: &'static str) {
        tracing::debug!(pos = self.pos, why, "letting the upstream go");
        self.chunk = None;
        self.prefetch = None;
    }

    /// The next frame's bytes, at most `size`, read from the upstream (opening the next chunk
    /// and resuming after failures as needed): a buffer and how many of its bytes they are.
    async fn fill(&mut self, size: usize) -> Result<(Vec<u8>, usize), String> {
        let mut buffer = self.pace.buffer(size);
        loop {
            let chunk = match &mut self.chunk {
                Some(chunk) if self.pos <= chunk.end => chunk,
                _ => {
                    // Boxed, as `resume` below: what opening a request needs is allocated
                    // while it opens, not held in the state of every stream (7 KiB).
                    let chunk = Box::pin(self.next_chunk()).await?;
                    self.cursor = chunk.start;
                    self.chunk.insert(chunk)
                }
            };
            let (cursor, last) = (self.cursor, chunk.end.min(self.end));
            // An upstream that answered from byte 0 sends bytes before `pos`: read, not sent.
            let skip = self.pos.saturating_sub(cursor);
            let want = if skip > 0 { skip } else { last - self.pos + 1 };
            let frame = &mut buffer[..usize::try_from(want).unwrap_or(usize::MAX).min(size)];
            match (self.opener.read_ahead(), chunk.body.read_ahead()) {
                (ReadAhead::Download, ReadAhead::Listener) => chunk.body.raise_for_download(),
                // Its client turned to listening: what the origin sends ahead of a download would
                // wait in the kernel for a listener (up to 2 MiB), and a connection's buffer is
                // never lowered ([`ReadAhead`]). Asked again, on a listener's connection.
                (ReadAhead::Listener, ReadAhead::Download) => {
                    self.let_go("the client turned to listening");
                    continue;
                }
                _ => {}
            }
            let idle_timeout = self.opener.upstream.limits.idle_timeout;
            let problem = match read_upstream(chunk, frame, &mut self.stall_check, idle_timeout).await {
                Ok(Ok(0)) => format!("upstream body ended at byte {cursor}, before {last}"),
                Ok(Ok(n)) => {
                    self.cursor += n as u64;
                    if skip > 0 {
                        continue;
                    }
                    self.pos += n as u64;
                    self.start_prefetch();
                    return Ok((buffer, n));
                }
                Ok(Err(e)) => format!("upstream connection failed at byte {cursor}: {}", error_chain(&e)),
                Err(()) => format!("upstream stalled at byte {cursor}"),
            };
            Box::pin(self.resume(problem)).await?;
        }
    }

    /// Opens the next chunk in the background once half of this one is read, for a download.
    /// A listener's next chunk is asked when this one ends, on the connection it ends on.
    fn start_prefetch(&mut self) {
        let Some(chunk) = &self.chunk else { return };
        if self.opener.read_ahead() == ReadAhead::Download
            && self.prefetch.is_none()
            && !chunk.whole
            && chunk.end < self.end
            && self.pos <= chunk.end
            && self.pos >= chunk.start + (chunk.end - chunk.start) / 2
        {
            let (start, end) = (chunk.end + 1, self.opener.chunk_end(chunk.end + 1, self.end));
            let (upstream, locator) = (self.opener.upstream.clone(), self.opener.locator.clone());
            let read_ahead = self.opener.read_ahead();
            let task = tokio::spawn(async move { upstream.open(&locator, start, end, read_ahead).await });
            self.prefetch = Some(Prefetch { start, task });
        }
    }

    /// After `problem`, opens the rest of the chunk we were in from the byte reached.
    async fn resume(&mut self, problem: String) -> Result<(), String> {
        let Some(wait) = self.opener.budget.spend(self.pos) else {
            return Err(format!("{problem}; no progress in {} attempts", self.opener.budget.max));
        };
        metrics::counter!(m::RESUMES).increment(1);
        tracing::info!(%problem, pos = self.pos, "resuming the upstream stream");
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        let end = match &self.chunk {
            Some(chunk) if !chunk.whole => chunk.end,
            _ => self.opener.chunk_end(self.pos, self.end),
        };
        let chunk = self
            .opener
            .open(self.pos, end)
            .await
            .map_err(|e| format!("{problem}; resume failed: {e:?}"))?;
        self.cursor = chunk.start;
        self.chunk = Some(chunk);
        Ok(())
    }

    /// The chunk starting at `self.pos`: the prefetched one if it is that, else a new request.
    async fn next_chunk(&mut self) -> Result<OpenChunk, String> {
        if let Some(p) = self.prefetch.take().filter(|p| p.start == self.pos) {
            let mut p = p;
            match (&mut p.task).await {
                Ok(Ok(chunk)) => return Ok(chunk),
                Ok(Err(e)) => tracing::info!(error = ?e, "prefetched chunk failed; asking again"),
                Err(e) => tracing::info!(error = %e, "prefetch task failed; asking again"),
            }
        }
        let end = self.opener.chunk_end(self.pos, self.end);
        self.opener
            .open(self.pos, end)
            .await
            .map_err(|e| format!("opening bytes {}-{end}: {e:?}", self.pos))
    }
}

/// Reads the next bytes of `chunk`'s body into `frame`; Err(()) when none came for
/// `idle_timeout`. The stall check's timer is re-armed only when it fires early, not for every
/// read.
async fn read_upstream(
    chunk: &mut OpenChunk,
    frame: &mut [u8],
    stall_check: &mut Pin<Box<Sleep>>,
    idle_timeout: Duration,
) -> Result<io::Result<usize>, ()> {
    let started = Instant::now();
    let read = chunk.body.read(frame);
    tokio::pin!(read);
    loop {
        tokio::select! {
            biased;
            n = &mut read => return Ok(n),
            () = stall_check.as_mut() => {
                let deadline = started + idle_timeout;
                if Instant::now() >= deadline {
                    stall_check.as_mut().reset(tokio::time::Instant::now() + idle_timeout);
                    return Err(());
                }
                stall_check.as_mut().reset(deadline.into());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn failures_without_progress_spend_the_budget_with_a_growing_wait() {
        let mut budget = ResumeBudget::new(4, 100);
        let waits: Vec<_> = (0..5).map(|_| budget.spend(100)).collect();
        let ms = |n| Some(Duration::from_millis(n));
        assert_eq!(waits, [Some(Duration::ZERO), ms(50), ms(100), ms(200), None]);
    }

    #[test]
    fn progress_gives_the_budget_back() {
        let mut budget = ResumeBudget::new(2, 0);
        assert!(budget.spend(0).is_some());
        assert!(budget.spend(0).is_some());
        // Spent at 0; a drop after the stream moved on is a new start.
        assert_eq!(budget.spend(1), Some(Duration::ZERO));
        assert!(budget.spend(1).is_some());
        assert_eq!(budget.spend(1), None);
    }

    proptest! {
        /// A stream that moves forward between failures never runs out, however many there are;
        /// one that never moves runs out after exactly `max` attempts; no wait exceeds the cap.
        #[test]
        fn only_consecutive_failures_count(max in 1u32..8, steps in proptest::collection::vec(1u64..1_000_000, 1..500)) {
            let mut budget = ResumeBudget::new(max, 0);
            let mut pos = 0;
            for step in &steps {
                pos += step;
                let wait = budget.spend(pos);
                prop_assert_eq!(wait, Some(Duration::ZERO));
            }
            let mut stuck = ResumeBudget::new(max, pos);
            for _ in 0..max {
                let wait = stuck.spend(pos).unwrap();
                prop_assert!(wait <= MAX_BACKOFF);
            }
            prop_assert_eq!(stuck.spend(pos), None);
        }
    }
}
