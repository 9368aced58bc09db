//! Stream bodies whose bytes wait in the kernel's socket buffers, not in ours.
//!
//! hyper asks a body for frames as long as its write queue holds less than `max_buf_size`,
//! and writes only when that is full or the body has nothing ready (`poll_write` in
//! hyper's `proto/h1/dispatch.rs`). So a listener who reads at 320 kbit/s, or pauses, had a
//! full queue held for it, and a library file its read buffer besides: 167 KiB a listener
//! (issue 18). Here a frame goes to hyper only when the one before it has been written to the
//! socket, which hyper tells by dropping it: each frame's bytes are owned by a [`Frame`] that
//! reports its drop.
//!
//! Frames are sized by the client's socket ([`ClientRoom`], measured after each write). While
//! it holds no more than [`KEEPING_UP`] bytes that the client has not acknowledged (the kernel
//! acknowledges what lands in the client's receive buffer: a client with room there, one that
//! keeps up, leaves little), or the client downloads ([`Taker`]), a frame is as large as the
//! socket has room for, up to [`MAX_FRAME`]: taken whole by the kernel, it is written at once
//! and its buffer is free again. A client that keeps up, whose send buffer the kernel grows
//! with the connection's window, gets quarter-MiB frames (fewer reads, wake-ups and writes a
//! byte: a quarter-MiB read halves the proxy's CPU a byte). The socket of a listener at its
//! bitrate, a paused one or one on a slow link fills with what the client has not taken: its
//! frames are what the socket has room for, up to [`LISTENER_FRAME`] (a large one read for a
//! client at 40 kB/s would wait seconds, and be held as long), and the one that finds it full,
//! held until the client reads on, is a [`MIN_FRAME`].
//!
//! The buffers of written frames are kept for the next read: a stream allocates (and zeroes)
//! once a size. A library file's frame that the client's socket sends from the file holds no
//! buffer ([`file_send`]).

use std::future::poll_fn;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::file_send::{self, FileSends};
use crate::upstream::ReadAhead;

/// The smallest frame for a client that keeps up or downloads, the step of its frames' sizes,
/// and the size of a frame nobody has measured a socket for.
pub const SLOW_FRAME: usize = 16 * 1024;
/// The largest frame for a client that does not keep up (its socket holds bytes it has not
/// taken): a listener at its bitrate, paused, or on a slow link. When the machine's CPU is
/// saturated, nearly every listener's frame waits in hyper to be written: 10,000 mixed
/// listeners held 46 KiB each at the peak with 16 KiB frames, 42 with these, for the same CPU a
/// listener (`bench/listeners.py --tcp-mem-scale 3`, BENCHMARKS.md, issue 18).
pub const LISTENER_FRAME: usize = 8 * 1024;
/// The smallest frame: what is held for a paused listener, or one whose socket is full
/// between the kernel's wake-ups (it wakes a writer once a third of the send buffer is free,
/// `sk_stream_write_space`), is one of these. A write has to find the socket full for the
/// kernel to wake the stream when the client reads on, so something is always held.
pub const MIN_FRAME: usize = 2 * 1024;
/// The largest frame, for a client that takes bytes as fast as they come.
pub const MAX_FRAME: usize = 256 * 1024;
/// The most a client's socket may hold unacknowledged for the client to count as keeping up.
/// A fast client sharing two cores with hundreds of others lags by a few frames now and then;
/// a listener's receive buffer fills (128 KiB by default, `tcp_rmem`), and then its socket
/// holds every byte it is sent until the listener reads on. Measured (`bench/run.py --runs 3`, `bench/listeners.py`): one frame (16 KiB) made
/// 256 clients asking MiB ranges 0.73× a tuned nginx, four 0.80×, with the same 57 KiB for
/// each of 2,000 listeners; a quarter of the send buffer, 0.90×, but 256 KiB a listener and
/// 455 stalls (the send buffers of listeners grew with their large frames).
pub const KEEPING_UP: u32 = 4 * SLOW_FRAME as u32;
/// What the kernel may hold for a listener that it has not sent yet (`TCP_NOTSENT_LOWAT`, set
/// on the client's socket by the server, [`Uptake`]): beside what is in flight to it, what a
/// listener who reads at its bitrate or pauses has queued for it in the kernel. A frame no
/// larger than what is left of it is taken whole.
pub const LISTENER_NOT_SENT: u32 = 64 * 1024;
/// ...and for a download: enough for a few of its largest frames, so that it is written in few
/// wake-ups, while a client that took its first MiB at once into its receive buffer and then
/// paused (a player filling its buffer) has no more than this queued for it. Unbounded, the
/// kernel grows the send buffer to `tcp_wmem`'s 4 MiB.
pub const DOWNLOAD_NOT_SENT: u32 = 512 * 1024;
/// A client that acknowledges this much within [`JUDGED_OVER`] takes bytes like a download.
const DOWNLOAD_BYTES: u64 = 1024 * 1024;
/// How long a client has to show it downloads; one that takes less is a listener.
const JUDGED_OVER: Duration = Duration::from_secs(1);
/// A download stays one while it takes this much a [`JUDGED_OVER`]. Why not [`DOWNLOAD_BYTES`]:
/// a client whose pace hovers around it (a player on an 8 Mbit/s link) turned each second or
/// two, and each turn to listening asks the origin again for what it had sent ahead
/// (`stream::proxy`): at 1.1 MB/s its origin sent 76 MiB for 21.5 taken in 20 s, 3.5 times.
const STILL_DOWNLOAD_BYTES: u64 = DOWNLOAD_BYTES / 2;

/// How a client takes bytes, which decides what the kernel may hold for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Taker {
    /// At a bitrate (320 kbit/s is 40 kB/s), or paused, or on a slow link: less than
    /// [`DOWNLOAD_BYTES`] a [`JUDGED_OVER`].
    Listener,
    /// As fast as bytes come.
    Download,
}

impl Taker {
    /// The most its socket holds not sent.
    pub fn not_sent_low(self) -> u32 {
        match self {
            Taker::Listener => LISTENER_NOT_SENT,
            Taker::Download => DOWNLOAD_NOT_SENT,
        }
    }
}

/// What a stream's origin may send ahead of it: as much as a download takes, or a listener's
/// share (what waits in the kernel for a listener, see [`ReadAhead`]).
impl From<Taker> for ReadAhead {
    fn from(taker: Taker) -> Self {
        match taker {
            Taker::Listener => ReadAhead::Listener,
            Taker::Download => ReadAhead::Download,
        }
    }
}

/// Judges a connection's [`Taker`] by what the client acknowledged, after each write.
///
/// Why: the kernel grows a socket's send buffer with the connection's window, and a listener's
/// first second is as fast as loopback (its receive buffer, then ours, fill at once). A
/// listener that then read at 320 kbit/s, or paused, had its send buffer filled: 3 to 4 MiB
/// of kernel memory (`tests/listeners.rs`), half a MiB in `bench/listeners.py`. With their
/// upstream connections' receive queues (`upstream::net`), two thousand of them took this
/// machine's TCP memory past `tcp_mem`'s pressure mark, where the kernel drops segments, and
/// streams stalled for seconds (issue 18). Held to a listener's bound from the start, a client
/// shows it downloads within its first MiB.
#[derive(Clone, Debug)]
pub struct Uptake {
    taker: Taker,
    /// Bytes written to the socket so far.
    written: u64,
    /// When the current judgement began, and what the client had acknowledged then.
    since: Instant,
    acknowledged_then: u64,
}

impl Uptake {
    pub fn new(now: Instant) -> Self {
        Uptake {
            taker: Taker::Listener,
            written: 0,
            since: now,
            acknowledged_then: 0,
        }
    }

    pub fn taker(&self) -> Taker {
        self.taker
    }

    /// After a write of `bytes` that left `unsent` unacknowledged (`SIOCOUTQ`) at `now`: the
    /// client's new [`Taker`] when it changed.
    pub fn written(&mut self, bytes: usize, unsent: u32, now: Instant) -> Option<Taker> {
        self.written += bytes as u64;
        let acknowledged = self.written.saturating_sub(u64::from(unsent));
        let taken = acknowledged.saturating_sub(self.acknowledged_then);
        let elapsed = now.saturating_duration_since(self.since);
        if taken < DOWNLOAD_BYTES && elapsed < JUDGED_OVER {
            return None;
        }
        let keeps_a_download_s_pace = self.taker == Taker::Download
            && u128::from(taken) * JUDGED_OVER.as_millis() >= u128::from(STILL_DOWNLOAD_BYTES) * elapsed.as_millis();
        let taker = if (taken >= DOWNLOAD_BYTES && elapsed <= JUDGED_OVER) || keeps_a_download_s_pace {
            Taker::Download
        } else {
            Taker::Listener
        };
        self.since = now;
        self.acknowledged_then = acknowledged;
        (taker != std::mem::replace(&mut self.taker, taker)).then_some(taker)
    }
}

/// What a client's socket held after a write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SocketQueue {
    /// Bytes written and not yet acknowledged by the client: `SIOCOUTQ`, tcp(7).
    pub unsent: u32,
    /// Of those, the bytes not sent yet: `SIOCOUTQNSD`.
    pub not_sent: u32,
    /// The most the kernel holds not sent ([`Taker::not_sent_low`]), where it is bounded.
    pub not_sent_low: Option<u32>,
    /// The same bytes as the kernel counts them against the send buffer, each buffer with its
    /// overhead: `SK_MEMINFO_WMEM_QUEUED` of `SO_MEMINFO`, socket(7).
    pub queued: u32,
    /// The kernel's send buffer for the socket, which it grows with the connection's window:
    /// `SK_MEMINFO_SNDBUF`.
    pub send_buffer: u32,
}

impl SocketQueue {
    /// The bytes of data a write would have taken whole. The kernel takes a write while what
    /// it has queued is below the send buffer (`sk_stream_memory_free`), so the room is the
    /// buffer's free part at the queue's ratio of data to what it is counted as, or half of it
    /// (the kernel's own assumption, `tcp_adv_win_scale`, tcp(7)) where the queue's ratio is
    /// lower: a few small buffers left unacknowledged say nothing of the large ones a write
    /// makes. Where the bytes not sent are bounded, no more than is left below the bound
    /// (beyond it a write finds the socket full, `tcp_stream_memory_free`).
    fn room(self) -> u32 {
        let free = u64::from(self.send_buffer.saturating_sub(self.queued));
        let at_ratio = match self.queued {
            0 => 0,
            queued => free * u64::from(self.unsent) / u64::from(queued),
        };
        let below_mark = self
            .not_sent_low
            .map_or(u64::MAX, |low| u64::from(low.saturating_sub(self.not_sent)));
        at_ratio.clamp(free / 2, free).min(below_mark) as u32
    }
}

/// What the frame rule needs of a socket: the bytes it holds for the client, and its room.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Measured {
    unsent: u32,
    room: u32,
}

impl From<SocketQueue> for Measured {
    fn from(queue: SocketQueue) -> Self {
        Measured {
            unsent: queue.unsent,
            room: queue.room(),
        }
    }
}

/// The client's socket as last measured by its connection (after each write), and how the
/// client takes bytes; unknown until then, and where it can't be measured.
#[derive(Clone, Debug, Default)]
pub struct ClientRoom(Arc<Measures>);

#[derive(Debug)]
struct Measures {
    /// [`Measured`], packed; [`UNKNOWN`] before the first write.
    socket: AtomicU64,
    download: AtomicBool,
    /// Where the socket can send files itself: its file send waiting.
    file_sends: Option<FileSends>,
}

const UNKNOWN: u64 = u64::MAX;

impl Default for Measures {
    fn default() -> Self {
        Measures {
            socket: AtomicU64::new(UNKNOWN),
            download: AtomicBool::new(false),
            file_sends: None,
        }
    }
}

impl ClientRoom {
    /// The room of a socket that sends files itself ([`file_send`](super::file_send)).
    pub fn sending_files() -> Self {
        ClientRoom(Arc::new(Measures {
            file_sends: Some(FileSends::default()),
            ..Measures::default()
        }))
    }

    /// The socket's file send waiting, where it sends files itself.
    pub fn file_sends(&self) -> Option<&FileSends> {
        self.0.file_sends.as_ref()
    }

    pub fn record(&self, queue: SocketQueue, taker: Taker) {
        let measured = Measured::from(queue);
        let packed = (u64::from(measured.unsent) << 32) | u64::from(measured.room);
        self.0.socket.store(packed.min(UNKNOWN - 1), Ordering::Relaxed);
        self.0.download.store(taker == Taker::Download, Ordering::Relaxed);
    }

    fn measured(&self) -> Option<Measured> {
        let packed = Some(self.0.socket.load(Ordering::Relaxed)).filter(|&n| n != UNKNOWN)?;
        Some(Measured {
            unsent: (packed >> 32) as u32,
            room: packed as u32,
        })
    }

    /// How the client takes bytes, as last judged ([`Uptake`]): a listener until shown
    /// otherwise.
    pub fn taker(&self) -> Taker {
        match self.0.download.load(Ordering::Relaxed) {
            true => Taker::Download,
            false => Taker::Listener,
        }
    }
}

/// The size of the next frame: while the client's socket holds no more than [`KEEPING_UP`]
/// bytes unacknowledged (the client keeps up), or the client downloads, as much as the socket
/// has room for, in steps of [`SLOW_FRAME`], up to [`MAX_FRAME`]; otherwise as much as it has
/// room for up to [`LISTENER_FRAME`], in steps of [`MIN_FRAME`] (the frame that finds the socket
/// full waits in hyper until the client reads on: it should be small); while nobody knows
/// (before the connection's first write, or where it can't be measured), [`SLOW_FRAME`].
///
/// A download's socket holds more than [`KEEPING_UP`] whenever it falls a little behind (at
/// 256 clients on two cores most of the time, a single stream now and then). Its frames are
/// then still as large as the socket has room for: held to small ones, a single stream of a
/// library file ran at 0.83× nginx's `sendfile` and with these at 1.15×, and a proxied one
/// read its origin 9,000 times for 256 MiB (each read with a write and three socket
/// measurements) where these read it 1,900 times (BENCHMARKS.md, seventh and eighth steps).
/// What the kernel holds for it is bounded all the same ([`DOWNLOAD_NOT_SENT`]), and so its
/// room.
fn frame_size(socket: Option<Measured>, taker: Taker) -> usize {
    let room = |socket: Measured, step: usize, max: usize| (socket.room as usize / step * step).clamp(step, max);
    match socket {
        Some(socket) if socket.unsent <= KEEPING_UP || taker == Taker::Download => room(socket, SLOW_FRAME, MAX_FRAME),
        Some(socket) => room(socket, MIN_FRAME, LISTENER_FRAME),
        None => SLOW_FRAME,
    }
}

/// How much a stream may send: shared by the body and the frames it has handed out.
#[derive(Clone, Default)]
pub struct Pace(Arc<Mutex<State>>);

#[derive(Default)]
struct State {
    /// A frame handed to hyper and not yet dropped.
    in_flight: bool,
    /// The body's task, waiting for a frame to be written.
    waiting: Option<Waker>,
    /// A written frame's buffer, for the next read.
    spare: Option<Vec<u8>>,
    room: ClientRoom,
}

impl Pace {
    /// The pace of a stream to the client whose socket's room `room` measures.
    pub fn new(room: ClientRoom) -> Self {
        Pace(Arc::new(Mutex::new(State {
            room,
            ..State::default()
        })))
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Ready when another frame may go out; answers the size it should have.
    pub fn poll_ready(&self, cx: &mut Context<'_>) -> Poll<usize> {
        let mut state = self.state();
        if state.in_flight {
            state.waiting = Some(cx.waker().clone());
            return Poll::Pending;
        }
        Poll::Ready(frame_size(state.room.measured(), state.room.taker()))
    }

    /// Waits until another frame may go out; answers the size it should have.
    pub async fn ready(&self) -> usize {
        poll_fn(|cx| self.poll_ready(cx)).await
    }

    /// A buffer of at least `size` bytes to read a frame into: a written frame's, when there is
    /// one of about that size (holding that frame's bytes still: the caller overwrites them).
    /// A larger one is let go: a stream that slowed down holds a small buffer, not the largest
    /// it ever read. A kept buffer stays as long as it ever was, so that it is zeroed once, not
    /// before each read (the zeroing was 3 % of the proxy's cycles at 256 clients); one too
    /// small is let go, not grown (growing copies the bytes it holds, which are spent).
    pub fn buffer(&self, size: usize) -> Vec<u8> {
        let spare = self.state().spare.take().filter(|b| b.capacity() <= size * 2);
        match spare {
            Some(mut buffer) if buffer.capacity() >= size => {
                if buffer.len() < size {
                    buffer.resize(size, 0);
                }
                buffer
            }
            _ => vec![0; size],
        }
    }

    /// The first `len` bytes read into a [`buffer`](Self::buffer) (a file's, an upstream's),
    /// as a frame whose drop lets the next one go (and gives the buffer back).
    pub fn frame_of_buffer(&self, buffer: Vec<u8>, len: usize) -> Bytes {
        assert!(len <= buffer.len());
        self.frame(Held::Read(buffer), len)
    }

    /// A frame standing in for `len` bytes of `file` at `offset`, which the client's socket
    /// sends from the file itself (`sends`, [`file_send`]); its drop lets the next one go.
    pub fn frame_sent_from(
        &self,
        sends: &FileSends,
        file: Arc<std::fs::File>,
        offset: u64,
        len: usize,
    ) -> std::io::Result<Bytes> {
        sends.begin(file, offset, len)?;
        Ok(self.frame(Held::Sent(sends.clone()), len))
    }

    fn frame(&self, held: Held, len: usize) -> Bytes {
        self.state().in_flight = true;
        Bytes::from_owner(Frame {
            held,
            len,
            pace: self.clone(),
        })
    }

    fn written(&self, buffer: Option<Vec<u8>>) {
        let mut state = self.state();
        state.in_flight = false;
        if buffer.is_some() {
            state.spare = buffer;
        }
        if let Some(waker) = state.waiting.take() {
            waker.wake();
        }
    }
}

/// The bytes of one frame; dropped when hyper has written them (or the stream ended).
struct Frame {
    held: Held,
    /// How many bytes the frame has.
    len: usize,
    pace: Pace,
}

/// Where a frame's bytes are.
enum Held {
    /// Read into this buffer, from its start.
    Read(Vec<u8>),
    /// In a file, which the client's socket sends itself (the frame holds stand-ins for them):
    /// its send ends with the frame.
    Sent(FileSends),
}

impl AsRef<[u8]> for Frame {
    fn as_ref(&self) -> &[u8] {
        match &self.held {
            Held::Read(buffer) => &buffer[..self.len],
            Held::Sent(_) => file_send::stand_in(self.len),
        }
    }
}

impl Drop for Frame {
    fn drop(&mut self) {
        match std::mem::replace(&mut self.held, Held::Read(Vec::new())) {
            Held::Read(buffer) => self.pace.written(Some(buffer)),
            Held::Sent(sends) => {
                sends.end();
                self.pace.written(None);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_room_is_the_free_part_of_the_send_buffer_in_bytes_of_data() {
        let queue = |unsent, queued, send_buffer| SocketQueue {
            unsent,
            not_sent: 0,
            not_sent_low: None,
            queued,
            send_buffer,
        };
        // Nothing queued: half the buffer.
        assert_eq!(queue(0, 0, 4 << 20).room(), 2 << 20);
        // Data counted at twice its size: the free 600 KiB hold 300 KiB of it.
        assert_eq!(queue(200 << 10, 400 << 10, 1000 << 10).room(), 300 << 10);
        // Data counted at ten times its size (small buffers): half, as the kernel assumes.
        assert_eq!(queue(10 << 10, 100 << 10, 1000 << 10).room(), 450 << 10);
        // Counted at little more than its size (loopback's large buffers): nearly all of it.
        assert_eq!(queue(900 << 10, 1000 << 10, 2000 << 10).room(), 900 << 10);
        // A full buffer (the kernel may overshoot it by one write) has none.
        assert_eq!(queue(500 << 10, 1010 << 10, 1000 << 10).room(), 0);
        // A listener's socket takes no more than is left below its bound on bytes not sent.
        let listener = |not_sent| SocketQueue {
            not_sent,
            not_sent_low: Some(LISTENER_NOT_SENT),
            ..queue(not_sent, 2 * not_sent, 4 << 20)
        };
        assert_eq!(listener(40 << 10).room(), LISTENER_NOT_SENT - (40 << 10));
        assert_eq!(listener(LISTENER_NOT_SENT + 1).room(), 0);
        assert_eq!(listener(0).room(), LISTENER_NOT_SENT);
    }

    #[test]
    fn a_client_is_a_listener_until_it_takes_a_mib_within_a_second() {
        let start = Instant::now();
        let at = |ms: u64| start + Duration::from_millis(ms);
        let mut uptake = Uptake::new(start);
        assert_eq!(uptake.taker(), Taker::Listener);
        // A listener at 40 kB/s, in reads of 4 KB, for five seconds: always one.
        let mut unsent = 0;
        for tick in 1..=50 {
            unsent = 128 * 1024; // what its full receive buffer left in the socket
            assert_eq!(uptake.written(4_000, unsent, at(tick * 100)), None);
        }
        assert_eq!(uptake.taker(), Taker::Listener);
        // Bytes written are not bytes taken: 2 MiB written, all of it still in the socket.
        assert_eq!(uptake.written(2 << 20, unsent + (2 << 20), at(5_050)), None);
        // The client takes them within the second: a download, told once.
        assert_eq!(uptake.written(16 * 1024, 0, at(5_900)), Some(Taker::Download));
        assert_eq!(uptake.written(16 * 1024, 0, at(5_950)), None);
        assert_eq!(uptake.taker(), Taker::Download);
        // A MiB a second on: still one.
        assert_eq!(uptake.written(1 << 20, 0, at(6_900)), None);
        assert_eq!(uptake.taker(), Taker::Download);
        // Then it pauses: the next write, seconds later, finds it took little. A listener.
        assert_eq!(uptake.written(2_048, 100 * 1024, at(9_000)), Some(Taker::Listener));
        // A MiB taken over two seconds is a listener's pace too.
        let mut slow = Uptake::new(start);
        assert_eq!(slow.written(1 << 20, 0, at(2_000)), None);
        assert_eq!(slow.taker(), Taker::Listener);
    }

    #[test]
    fn a_download_stays_one_at_half_its_pace_and_no_less() {
        let start = Instant::now();
        let at = |ms: u64| start + Duration::from_millis(ms);
        // A client at 700 KB/s, in writes of 70 KB every 100 ms: a listener from the start...
        let mut hovering = Uptake::new(start);
        for tick in 1..=30 {
            assert_eq!(hovering.written(70_000, 0, at(tick * 100)), None);
        }
        assert_eq!(hovering.taker(), Taker::Listener);
        // ...and once it took a MiB within a second, a download while it keeps that pace.
        assert_eq!(hovering.written(1 << 20, 0, at(3_200)), Some(Taker::Download));
        for tick in 33..=80 {
            assert_eq!(hovering.written(70_000, 0, at(tick * 100)), None, "at {tick}");
        }
        assert_eq!(hovering.taker(), Taker::Download);
        // Slowed to 300 KB/s: a listener at the end of the second.
        let turned: Vec<_> = (81..=100)
            .filter_map(|tick| hovering.written(30_000, 0, at(tick * 100)))
            .collect();
        assert_eq!(turned, [Taker::Listener]);
    }

    #[test]
    fn frames_fill_the_socket_of_a_client_that_keeps_up_or_downloads_and_are_small_for_a_listener() {
        let socket = |unsent: u32, room: u32| Some(Measured { unsent, room });
        let frame_size_l = |socket| frame_size(socket, Taker::Listener);
        // A client that takes bytes as they come: its send buffer grew to megabytes, empty.
        assert_eq!(frame_size_l(socket(0, 2 << 20)), MAX_FRAME);
        assert_eq!(frame_size_l(socket(8 * 1024, 100 * 1024)), 96 * 1024);
        // A fresh connection: the kernel's first send buffer (`tcp_wmem`) has room for little.
        assert_eq!(frame_size_l(socket(0, 8 * 1024)), SLOW_FRAME);
        // A listener at its bitrate or paused: its socket holds what it has not taken. Its
        // frames are what the socket has room for, up to a small size...
        assert_eq!(frame_size_l(socket(KEEPING_UP + 1, 2 << 20)), LISTENER_FRAME);
        assert_eq!(frame_size_l(socket(300 * 1024, 7 * 1024)), 6 * 1024);
        // ...and the smallest once it is full (what waits in hyper for the client).
        assert_eq!(frame_size_l(socket(300 * 1024, 0)), MIN_FRAME);
        // A fast client a few frames behind still counts as keeping up.
        assert_eq!(frame_size_l(socket(KEEPING_UP, 2 << 20)), MAX_FRAME);
        // A download a few hundred KiB behind (two cores shared by hundreds of streams): as
        // large as its socket has room for, its bytes not sent bounded by the kernel.
        let download = |socket| frame_size(socket, Taker::Download);
        assert_eq!(download(socket(300 * 1024, 2 << 20)), MAX_FRAME);
        assert_eq!(download(socket(300 * 1024, 100 * 1024)), 96 * 1024);
        assert_eq!(download(socket(300 * 1024, 0)), SLOW_FRAME);
        // Nobody measured it (a first write, or no way to measure): small.
        assert_eq!(frame_size(None, Taker::Download), SLOW_FRAME);
        assert_eq!(frame_size(None, Taker::Listener), SLOW_FRAME);
        let room = ClientRoom::default();
        assert_eq!(room.measured(), None);
        room.record(
            SocketQueue {
                unsent: 5,
                not_sent: 0,
                not_sent_low: None,
                queued: 10,
                send_buffer: 1 << 20,
            },
            Taker::Listener,
        );
        assert_eq!(
            room.measured(),
            Some(Measured {
                unsent: 5,
                room: ((1 << 20) - 10) / 2
            })
        );
        assert_eq!(room.taker(), Taker::Listener);
        room.record(
            SocketQueue {
                unsent: 0,
                not_sent: 0,
                not_sent_low: None,
                queued: 0,
                send_buffer: 1 << 20,
            },
            Taker::Download,
        );
        assert_eq!(room.taker(), Taker::Download, "the pump reads ahead for a download");
    }

    #[tokio::test]
    async fn a_frame_goes_out_only_when_the_one_before_was_written() {
        let pace = Pace::default();
        let waker = futures_util::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        assert_eq!(pace.ready().await, SLOW_FRAME);
        let first = pace.frame_of_buffer(vec![0; 10], 10);
        assert_eq!(first, vec![0; 10]);
        // The next waits while the first is held (hyper has not written it).
        assert!(pace.poll_ready(&mut cx).is_pending());
        drop(first);
        assert!(pace.poll_ready(&mut cx).is_ready());
        // A slice of a frame keeps it in flight until the last slice goes.
        let second = pace.frame_of_buffer(vec![1; 10], 10);
        let tail = second.slice(5..);
        drop(second);
        assert!(pace.poll_ready(&mut cx).is_pending());
        drop(tail);
        assert!(pace.poll_ready(&mut cx).is_ready());
    }

    #[test]
    fn a_written_buffer_is_read_into_again_unless_it_is_far_larger_than_needed() {
        let pace = Pace::default();
        let mut buffer = pace.buffer(SLOW_FRAME);
        assert_eq!(buffer.len(), SLOW_FRAME);
        buffer[..3].copy_from_slice(b"abc");
        let at = buffer.as_ptr();
        let frame = pace.frame_of_buffer(buffer, 3);
        assert_eq!(frame, &b"abc"[..]);
        drop(frame);
        // The same buffer, as long as it was (a short read leaves it so: nothing to zero).
        let again = pace.buffer(SLOW_FRAME / 2);
        assert_eq!(
            (again.as_ptr(), again.len(), again.capacity()),
            (at, SLOW_FRAME, SLOW_FRAME)
        );
        assert_eq!(&again[..3], b"abc");
        drop(pace.frame_of_buffer(again, 0));
        let larger = pace.buffer(2 * SLOW_FRAME);
        assert_eq!(larger.len(), 2 * SLOW_FRAME);
        drop(pace.frame_of_buffer(larger, 1));
        let smaller = pace.buffer(SLOW_FRAME / 2);
        assert_eq!(smaller.capacity(), SLOW_FRAME / 2, "the large buffer was let go");
    }
}
