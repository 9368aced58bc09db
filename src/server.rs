//! Connections: accepting them within limits an attacker can't exhaust, serving each with
//! hyper, and closing the ones that sit idle.
//!
//! - **Idle connections.** A connection with no request in progress must start one within
//!   `--idle-timeout` of opening or of its last answer's end, whatever it is doing meanwhile
//!   (sending nothing, trickling a header, or holding a connection open between answers). A
//!   request in progress is never cut by this, nor an answer whose last bytes still wait for
//!   the client to read them: a paused listener's stream stays open.
//! - **Request bodies** must keep arriving (`--request-body-timeout` between frames).
//! - **Connection caps**, in total and per client address (an IPv6 /64 counts as one), answered
//!   with `503 too_many_connections` by hyper itself rather than left to fail at accept.
//!   Trusted proxies are exempt from the per-address cap (everyone behind them shares it).
//! - The process's descriptor soft limit is raised to its hard limit at start, and the total
//!   cap kept below it.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{ConnectInfo, Request};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, Semaphore};
use tokio::time::Instant;
use tower_http::add_extension::AddExtension;

use crate::auth::AddressKey;
use crate::config::ConnectionLimits;
use crate::error::Error;
use crate::stream::paced::{ClientRoom, SocketQueue, Taker, Uptake};

/// Per-connection write buffer (hyper's default is ~400 KiB): with the proxy's own small
/// buffers, what one stream holds in memory.
const CONNECTION_BUFFER: usize = 64 * 1024;

/// Descriptors kept free of connections: the catalog, library files, upstream sockets, yt-dlp.
const RESERVED_DESCRIPTORS: u64 = 256;

/// Refusals answered at once; past this, a connection over the caps is closed unanswered.
const REFUSALS_AT_ONCE: usize = 256;

/// How long a refusal may take (reading the request, writing the 503).
const REFUSAL_TIME: Duration = Duration::from_secs(5);

/// Raises the soft limit on open descriptors to the hard limit; answers the limit now in force.
pub fn raise_descriptor_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        match rlimit::increase_nofile_limit(u64::MAX) {
            Ok(limit) => Some(limit),
            Err(error) => {
                tracing::warn!(%error, "could not raise the open-file limit");
                rlimit::getrlimit(rlimit::Resource::NOFILE).ok().map(|(soft, _)| soft)
            }
        }
    }
    #[cfg(not(unix))]
    None
}

/// The total cap given the descriptor limit: never so many that accepting fails.
pub fn effective_total(configured: usize, descriptors: Option<u64>) -> usize {
    match descriptors {
        Some(limit) => configured.min(limit.saturating_sub(RESERVED_DESCRIPTORS).max(16) as usize),
        None => configured,
    }
}

/// Serves `app` on `listener` until `stop` completes; then stops accepting, calls `stopped`,
/// and lets requests in flight finish for `grace`.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    grace: Duration,
    stop: impl std::future::Future<Output = ()>,
    stopped: impl FnOnce(),
) -> std::io::Result<()> {
    let app =
        app.layer(axum::middleware::from_fn(track_requests))
            .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(
                limits.request_body_timeout,
            ));
    // HTTP/1 only: browsers speak HTTP/2 only over TLS, which a proxy in front terminates, and
    // hyper-util's protocol detection (`auto::Builder`) hands hyper a request's first 24 bytes
    // alone, so the read buffer every connection keeps grows from 8 to 16 KiB (issue 18).
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        // Frames go to the socket as the bodies made them, never copied into one buffer: a
        // library file's are stand-ins the socket sends the file's bytes for
        // (`stream::file_send`).
        .writev(true)
        .max_buf_size(CONNECTION_BUFFER)
        .timer(TokioTimer::new())
        .header_read_timeout(limits.idle_timeout);
    let total = effective_total(limits.max_connections, raise_descriptor_limit());
    let admission = Arc::new(Admission::new(total, limits.max_per_address, limits.exempt.clone()));
    let refusals = Arc::new(Semaphore::new(REFUSALS_AT_ONCE));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    tokio::pin!(stop);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(error) => {
                    // Out of descriptors and the like (the caps should keep this away): wait
                    // instead of spinning.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        let _ = stream.set_nodelay(true);
        stream.hold_for(Taker::Listener);
        // On a dual-stack listener an IPv4 client is `::ffff:a.b.c.d`: as itself, so that
        // `--trusted-proxy 10.0.0.1` and the per-address counts see the address it is.
        let peer = SocketAddr::new(peer.ip().to_canonical(), peer.port());
        let permit = match admission.admit(peer.ip()) {
            Ok(permit) => permit,
            Err(refused) => {
                refuse(stream, peer, refused, &refusals);
                continue;
            }
        };
        let activity = Arc::new(Activity::new());
        let room = if cfg!(target_os = "linux") {
            ClientRoom::sending_files()
        } else {
            ClientRoom::default()
        };
        // The client's address, for the auth layer (trusted proxies, login limits), the
        // connection's activity, for the idle watch, and its socket's room, for the size
        // of stream frames.
        let service = hyper_util::service::TowerToHyperService::new(AddExtension::new(
            AddExtension::new(AddExtension::new(app.clone(), ConnectInfo(peer)), activity.clone()),
            room.clone(),
        ));
        let io = TrackedIo {
            stream,
            activity: activity.clone(),
            pending: None,
            room,
            uptake: Uptake::new(std::time::Instant::now()),
        };
        let connection = builder.serve_connection(TokioIo::new(io), service);
        let connection = graceful.watch(connection);
        let idle = limits.idle_timeout;
        tokio::spawn(async move {
            let _permit = permit;
            tokio::select! {
                ended = connection => if let Err(error) = ended {
                    tracing::debug!(%error, "connection ended with an error");
                },
                () = activity.idle_for(idle) => tracing::debug!(%peer, "closed an idle connection"),
            }
        });
    }
    drop(listener); // new connections are refused from here on
    stopped();
    tracing::info!(
        grace_secs = grace.as_secs(),
        "shutting down; letting streams in flight finish"
    );
    tokio::select! {
        () = graceful.shutdown() => tracing::info!("all connections closed"),
        () = tokio::time::sleep(grace) => tracing::warn!("grace period over; closing the streams still open"),
    }
    Ok(())
}

/// Answers a connection over the caps with one `503` (hyper reads its request, so the client
/// sees the answer rather than a reset) and closes it; or, past [`REFUSALS_AT_ONCE`], closes it.
fn refuse(stream: TcpStream, peer: SocketAddr, refused: Refused, refusals: &Arc<Semaphore>) {
    metrics::counter!(crate::telemetry::CONNECTIONS_REFUSED, "cap" => refused.label()).increment(1);
    tracing::debug!(%peer, cap = refused.label(), "connection refused");
    let Ok(slot) = refusals.clone().try_acquire_owned() else {
        return;
    };
    tokio::spawn(async move {
        let _slot = slot;
        let answer = hyper::service::service_fn(|_request| async {
            Ok::<_, std::convert::Infallible>(Error::TooManyConnections.into_response())
        });
        let mut http1 = hyper::server::conn::http1::Builder::new();
        http1
            .keep_alive(false)
            .timer(TokioTimer::new())
            .header_read_timeout(REFUSAL_TIME);
        let connection = http1.serve_connection(TokioIo::new(stream), answer);
        let _ = tokio::time::timeout(REFUSAL_TIME, connection).await;
    });
}

/// Which cap a connection met.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    Total,
    PerAddress,
}

impl Refused {
    fn label(self) -> &'static str {
        match self {
            Refused::Total => "total",
            Refused::PerAddress => "per_address",
        }
    }
}

/// Counts of open connections, in total and per address.
pub struct Admission {
    max_total: usize,
    max_per_address: usize,
    exempt: Vec<ipnet::IpNet>,
    open: Mutex<(usize, HashMap<AddressKey, usize>)>,
}

/// One admitted connection; its count goes when it is dropped.
pub struct Permit {
    admission: Arc<Admission>,
    key: Option<AddressKey>,
}

impl Admission {
    pub fn new(max_total: usize, max_per_address: usize, exempt: Vec<ipnet::IpNet>) -> Self {
        Admission {
            max_total,
            max_per_address,
            exempt,
            open: Mutex::new((0, HashMap::new())),
        }
    }

    pub fn admit(self: &Arc<Self>, ip: IpAddr) -> Result<Permit, Refused> {
        let key = (!self.exempt.iter().any(|net| net.contains(&ip))).then(|| AddressKey::of(ip));
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if open.0 >= self.max_total {
            return Err(Refused::Total);
        }
        if let Some(key) = key {
            let count = open.1.entry(key).or_insert(0);
            if *count >= self.max_per_address {
                return Err(Refused::PerAddress);
            }
            *count += 1;
        }
        open.0 += 1;
        Ok(Permit {
            admission: self.clone(),
            key,
        })
    }

    #[cfg(test)]
    fn open(&self) -> (usize, usize) {
        let open = self.open.lock().unwrap();
        (open.0, open.1.len())
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut open = self.admission.open.lock().unwrap_or_else(|e| e.into_inner());
        open.0 -= 1;
        if let Some(key) = self.key {
            if let Some(count) = open.1.get_mut(&key) {
                *count -= 1;
                if *count == 0 {
                    open.1.remove(&key);
                }
            }
        }
    }
}

/// A connection's requests in progress, and since when it has had none.
pub struct Activity {
    state: Mutex<(usize, Instant)>,
    changed: Notify,
}

/// One request in progress, until its answer's body is written (or dropped).
struct InFlight(Arc<Activity>);

impl Activity {
    fn new() -> Self {
        Activity {
            state: Mutex::new((0, Instant::now())),
            changed: Notify::new(),
        }
    }

    fn begin(self: &Arc<Self>) -> InFlight {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).0 += 1;
        self.changed.notify_waiters();
        InFlight(self.clone())
    }

    /// Completes once the connection has had no request in progress for `limit`.
    async fn idle_for(&self, limit: Duration) {
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            let (in_flight, since) = *self.state.lock().unwrap_or_else(|e| e.into_inner());
            if in_flight > 0 {
                changed.await;
                continue;
            }
            tokio::select! {
                () = tokio::time::sleep_until(since + limit) => {
                    let now = *self.state.lock().unwrap_or_else(|e| e.into_inner());
                    if now == (0, since) {
                        return;
                    }
                }
                () = &mut changed => {}
            }
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut state = self.0.state.lock().unwrap_or_else(|e| e.into_inner());
        state.0 -= 1;
        if state.0 == 0 {
            state.1 = Instant::now();
        }
        drop(state);
        self.0.changed.notify_waiters();
    }
}

/// A connection's socket, noting on its [`Activity`] while a write waits for the client (an
/// answer's body can be over, its last part taken from it, while hyper still holds bytes the
/// client has not read yet; until those are written, the connection is not idle), and after
/// each write the room left in it ([`ClientRoom`]).
struct TrackedIo<S> {
    stream: S,
    activity: Arc<Activity>,
    /// Held while a write is pending.
    pending: Option<InFlight>,
    room: ClientRoom,
    uptake: Uptake,
}

impl<S: Room> TrackedIo<S> {
    fn note<T>(&mut self, poll: std::task::Poll<T>) -> std::task::Poll<T> {
        if poll.is_pending() {
            if self.pending.is_none() {
                self.pending = Some(self.activity.begin());
            }
        } else {
            self.pending = None;
        }
        poll
    }

    /// After a write: three system calls, next to a write of up to a quarter MiB (and a fourth
    /// when the client turns out to take bytes otherwise than it did).
    fn note_write(&mut self, poll: std::task::Poll<std::io::Result<usize>>) -> std::task::Poll<std::io::Result<usize>> {
        if let std::task::Poll::Ready(Ok(written)) = &poll {
            if let Some(mut queue) = self.stream.queue() {
                if let Some(taker) = self.uptake.written(*written, queue.unsent, std::time::Instant::now()) {
                    self.stream.hold_for(taker);
                }
                queue.not_sent_low = Some(self.uptake.taker().not_sent_low());
                self.room.record(queue, self.uptake.taker());
            }
        }
        self.note(poll)
    }
}

/// A socket that tells what it holds for its peer ([`SocketQueue`]), and holds as much as its
/// client's [`Taker`] needs.
trait Room {
    fn queue(&self) -> Option<SocketQueue>;

    /// Holds the bytes not sent to what `taker` needs ([`Taker::not_sent_low`]) with
    /// `TCP_NOTSENT_LOWAT` (tcp(7)): beyond it a write finds the socket full, and the writer
    /// is woken when half of it has gone.
    fn hold_for(&self, taker: Taker);

    /// Sends `len` bytes of `file` from `offset` (`sendfile(2)`), as many as the socket takes.
    /// A socket that can't is never asked: its connection makes no file sends.
    fn poll_send_file(
        &self,
        _: &mut std::task::Context<'_>,
        _: &std::fs::File,
        _: u64,
        _: usize,
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::task::Poll::Ready(Err(std::io::Error::other("this socket does not send files")))
    }
}

impl Room for TcpStream {
    #[cfg(target_os = "linux")]
    fn poll_send_file(
        &self,
        cx: &mut std::task::Context<'_>,
        file: &std::fs::File,
        offset: u64,
        len: usize,
    ) -> std::task::Poll<std::io::Result<usize>> {
        loop {
            std::task::ready!(self.poll_write_ready(cx))?;
            let sent = self.try_io(tokio::io::Interest::WRITABLE, || {
                let mut at = offset;
                rustix::fs::sendfile(self, file, Some(&mut at), len).map_err(std::io::Error::from)
            });
            match sent {
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
                sent => return std::task::Poll::Ready(sent),
            }
        }
    }

    fn hold_for(&self, taker: Taker) {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        let _ = socket2::SockRef::from(self).set_tcp_notsent_lowat(taker.not_sent_low());
    }

    #[cfg(target_os = "linux")]
    #[allow(unsafe_code)]
    fn queue(&self) -> Option<SocketQueue> {
        use std::os::fd::AsRawFd;
        /// `include/uapi/asm-generic/socket.h` (the libc crate does not name it).
        const SO_MEMINFO: libc::c_int = 55;
        /// `SK_MEMINFO_VARS`, `include/uapi/linux/sock_diag.h`.
        const MEMINFO_VARS: usize = 9;
        // SAFETY: SIOCOUTQ (= TIOCOUTQ) and SIOCOUTQNSD on a TCP socket write one int (tcp(7)).
        let unsent = unsafe {
            let ctl = rustix::ioctl::Getter::<{ libc::TIOCOUTQ as rustix::ioctl::Opcode }, libc::c_int>::new();
            rustix::ioctl::ioctl(self, ctl)
        };
        let not_sent = unsafe {
            let ctl = rustix::ioctl::Getter::<{ libc::SIOCOUTQNSD as rustix::ioctl::Opcode }, libc::c_int>::new();
            rustix::ioctl::ioctl(self, ctl)
        };
        let mut meminfo = [0u32; MEMINFO_VARS];
        let mut len = std::mem::size_of_val(&meminfo) as libc::socklen_t;
        // SAFETY: SO_MEMINFO writes at most `len` bytes of u32 counters to `meminfo`
        // (sock_getsockopt in net/core/sock.c), and `len` is its size.
        let got = unsafe {
            libc::getsockopt(
                self.as_raw_fd(),
                libc::SOL_SOCKET,
                SO_MEMINFO,
                meminfo.as_mut_ptr().cast(),
                &mut len,
            )
        };
        if got != 0 {
            return None;
        }
        Some(SocketQueue {
            unsent: unsent.ok()?.max(0) as u32,
            not_sent: not_sent.ok()?.max(0) as u32,
            not_sent_low: None,
            queued: meminfo[libc::SK_MEMINFO_WMEM_QUEUED as usize],
            send_buffer: meminfo[libc::SK_MEMINFO_SNDBUF as usize],
        })
    }

    #[cfg(not(target_os = "linux"))]
    fn queue(&self) -> Option<SocketQueue> {
        None
    }
}

#[cfg(test)]
impl Room for tokio::io::DuplexStream {
    fn queue(&self) -> Option<SocketQueue> {
        None
    }

    fn hold_for(&self, _: Taker) {}
}

impl<S: tokio::io::AsyncRead + Unpin> tokio::io::AsyncRead for TrackedIo<S> {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl<S: tokio::io::AsyncWrite + Room + Unpin> tokio::io::AsyncWrite for TrackedIo<S> {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        self.poll_write_vectored(cx, &[std::io::IoSlice::new(buf)])
    }

    /// What the bufs hold; or, for the stand-in bytes of a library file's frame, the file's
    /// bytes they stand for ([`crate::stream::file_send`]).
    fn poll_write_vectored(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> std::task::Poll<std::io::Result<usize>> {
        use crate::stream::file_send::NextWrite;
        use std::task::Poll;
        let this = &mut *self;
        let poll = match this.room.file_sends().map(|sends| (sends.next_write(bufs), sends)) {
            None => std::pin::Pin::new(&mut this.stream).poll_write_vectored(cx, bufs),
            Some((Ok(NextWrite::Plain(slices)), _)) => {
                std::pin::Pin::new(&mut this.stream).poll_write_vectored(cx, &bufs[..slices])
            }
            Some((Ok(NextWrite::File { file, offset, len }), sends)) => {
                let poll = this.stream.poll_send_file(cx, &file, offset, len);
                if let Poll::Ready(Ok(sent)) = poll {
                    sends.sent(sent);
                }
                poll
            }
            Some((Err(e), _)) => Poll::Ready(Err(e)),
        };
        self.note_write(poll)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let poll = std::pin::Pin::new(&mut self.stream).poll_flush(cx);
        self.note(poll)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// Marks each request in progress on its connection's [`Activity`] until its answer's body has
/// been written: a stream being sent is never idle, however slowly it is read.
async fn track_requests(request: Request, next: Next) -> Response {
    let in_flight = request.extensions().get::<Arc<Activity>>().map(Activity::begin);
    let response = next.run(request).await;
    match in_flight {
        Some(in_flight) => response.map(|body| {
            axum::body::Body::new(TrackedBody {
                body,
                _in_flight: in_flight,
            })
        }),
        None => response,
    }
}

struct TrackedBody {
    body: axum::body::Body,
    _in_flight: InFlight,
}

impl http_body::Body for TrackedBody {
    type Data = bytes::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        std::pin::Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_are_capped_in_total_and_per_address_and_given_back() {
        let admission = Arc::new(Admission::new(4, 2, vec!["10.0.0.1/32".parse().unwrap()]));
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let first = admission.admit(a).unwrap();
        let _second = admission.admit(a).unwrap();
        assert_eq!(admission.admit(a).err(), Some(Refused::PerAddress));
        // The same address written as IPv4-mapped IPv6 is the same client.
        assert_eq!(
            admission.admit("::ffff:192.0.2.1".parse().unwrap()).err(),
            Some(Refused::PerAddress)
        );
        drop(first);
        let _third = admission.admit(a).unwrap();
        // A trusted proxy is counted in the total only.
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let _p1 = admission.admit(proxy).unwrap();
        let _p2 = admission.admit(proxy).unwrap();
        assert_eq!(admission.admit(proxy).err(), Some(Refused::Total));
        assert_eq!(admission.open(), (4, 1));
    }

    #[test]
    fn an_ipv6_network_counts_as_one_address() {
        let admission = Arc::new(Admission::new(100, 2, Vec::new()));
        let _a = admission.admit("2001:db8:1:2::1".parse().unwrap()).unwrap();
        let _b = admission.admit("2001:db8:1:2:ffff::9".parse().unwrap()).unwrap();
        assert_eq!(
            admission.admit("2001:db8:1:2::3".parse().unwrap()).err(),
            Some(Refused::PerAddress)
        );
        assert!(admission.admit("2001:db8:1:3::1".parse().unwrap()).is_ok());
    }

    #[test]
    fn the_total_stays_below_the_descriptor_limit() {
        assert_eq!(effective_total(4096, Some(1024)), 768);
        assert_eq!(effective_total(4096, Some(1 << 20)), 4096);
        assert_eq!(effective_total(4096, None), 4096);
        assert_eq!(effective_total(4096, Some(100)), 16);
    }

    #[tokio::test(start_paused = true)]
    async fn a_connection_is_idle_only_with_no_request_in_progress() {
        let activity = Arc::new(Activity::new());
        let limit = Duration::from_secs(30);
        // No request: idle once the limit has passed since the start.
        let started = Instant::now();
        activity.idle_for(limit).await;
        assert_eq!(started.elapsed(), limit);
        // A request in progress for longer than the limit holds it open; its end starts the clock.
        let request = activity.begin();
        let watch = {
            let activity = activity.clone();
            tokio::spawn(async move { activity.idle_for(limit).await })
        };
        tokio::time::sleep(limit * 4).await;
        assert!(!watch.is_finished());
        let ended = Instant::now();
        drop(request);
        watch.await.unwrap();
        assert_eq!(ended.elapsed(), limit);
    }

    #[tokio::test]
    async fn bytes_waiting_for_the_client_keep_a_connection_busy() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let activity = Arc::new(Activity::new());
        let (ours, mut client) = tokio::io::duplex(1024);
        let mut io = TrackedIo {
            stream: ours,
            activity: activity.clone(),
            pending: None,
            room: ClientRoom::default(),
            uptake: Uptake::new(std::time::Instant::now()),
        };
        let in_flight = |a: &Activity| a.state.lock().unwrap().0;
        // More than the pipe holds: the write waits for the client, and the connection is busy.
        let writer = tokio::spawn(async move {
            io.write_all(&[7u8; 4096]).await.unwrap();
            io
        });
        tokio::time::timeout(Duration::from_secs(5), async {
            while in_flight(&activity) == 0 {
                tokio::task::yield_now().await;
            }
        })
        .await
        .expect("a pending write counts as activity");
        let mut read = vec![0u8; 4096];
        client.read_exact(&mut read).await.unwrap();
        let _io = writer.await.unwrap();
        assert_eq!(in_flight(&activity), 0, "written: idle again");
    }
}
