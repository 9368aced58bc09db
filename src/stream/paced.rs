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
//! Frames are sized by what the client's socket still holds for it ([`ClientBacklog`],
//! measured after each write): while the client takes bytes as fast as they come the frames
//! double, up to [`MAX_FRAME`] (fewer reads, wake-ups and writes a byte: a quarter-MiB read
//! halves the proxy's CPU a byte); once the socket holds more than [`BACKLOG_LIMIT`] the
//! client is not keeping up (a listener at its rate, a paused one, a slow link) and frames are
//! [`SLOW_FRAME`]. The backlog turns before the socket is full, so the frame a paused listener
//! leaves in hyper's queue is a small one.
//!
//! The buffers of written frames are kept for the next read: a stream allocates once a size.

use std::future::poll_fn;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use bytes::Bytes;

/// The frame size while the client does not keep up.
pub const SLOW_FRAME: usize = 16 * 1024;
/// The largest frame, for a client that takes bytes as fast as they come.
pub const MAX_FRAME: usize = 256 * 1024;
/// Bytes the client's socket may hold, not yet taken by the client, for frames to grow: a
/// client on loopback or a LAN keeps this near zero; one that reads at an audio rate or
/// paused lets it grow to the socket buffers' size (megabytes).
pub const BACKLOG_LIMIT: u32 = 256 * 1024;

/// What the client's socket holds that the client has not taken yet, as last measured by the
/// connection (after each write); unknown until then, and where it can't be measured.
#[derive(Clone, Debug)]
pub struct ClientBacklog(Arc<AtomicU32>);

const UNKNOWN: u32 = u32::MAX;

impl Default for ClientBacklog {
    fn default() -> Self {
        ClientBacklog(Arc::new(AtomicU32::new(UNKNOWN)))
    }
}

impl ClientBacklog {
    pub fn record(&self, unsent: u32) {
        self.0.store(unsent.min(UNKNOWN - 1), Ordering::Relaxed);
    }

    pub fn unsent(&self) -> Option<u32> {
        Some(self.0.load(Ordering::Relaxed)).filter(|&n| n != UNKNOWN)
    }
}

/// The size of the frame after one of `last` bytes, given what the client's socket holds:
/// doubled while the client keeps up, [`SLOW_FRAME`] when it does not or nobody knows.
fn next_frame_size(last: usize, unsent: Option<u32>) -> usize {
    match unsent {
        Some(unsent) if unsent <= BACKLOG_LIMIT => (last * 2).clamp(SLOW_FRAME, MAX_FRAME),
        _ => SLOW_FRAME,
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
    /// The size of the last frame planned (0: none yet).
    size: usize,
    backlog: ClientBacklog,
}

impl Pace {
    /// The pace of a stream to the client whose socket `backlog` measures.
    pub fn new(backlog: ClientBacklog) -> Self {
        Pace(Arc::new(Mutex::new(State {
            backlog,
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
        state.size = next_frame_size(state.size, state.backlog.unsent());
        Poll::Ready(state.size)
    }

    /// Waits until another frame may go out; answers the size it should have.
    pub async fn ready(&self) -> usize {
        poll_fn(|cx| self.poll_ready(cx)).await
    }

    /// A buffer with room for `size` bytes: a written frame's, when there is one of about that
    /// size (holding that frame's bytes still: the caller overwrites them). A larger one is let
    /// go: a stream that slowed down holds a small buffer, not the largest it ever read.
    pub fn buffer(&self, size: usize) -> Vec<u8> {
        let spare = self.state().spare.take().filter(|b| b.capacity() <= size * 2);
        let mut buffer = spare.unwrap_or_default();
        buffer.reserve_exact(size.saturating_sub(buffer.len()));
        buffer
    }

    /// A file's bytes, read into a [`buffer`](Self::buffer), as a frame whose drop lets the
    /// next one go (and gives the buffer back).
    pub fn frame_of_buffer(&self, buffer: Vec<u8>) -> Bytes {
        self.frame(Owned::Buffer(buffer))
    }

    /// Bytes from elsewhere (an upstream's) as a frame whose drop lets the next one go.
    pub fn frame_of_bytes(&self, bytes: Bytes) -> Bytes {
        self.frame(Owned::Shared(bytes))
    }

    fn frame(&self, data: Owned) -> Bytes {
        self.state().in_flight = true;
        Bytes::from_owner(Frame {
            data,
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

enum Owned {
    Buffer(Vec<u8>),
    Shared(Bytes),
}

/// The bytes of one frame; dropped when hyper has written them (or the stream ended).
struct Frame {
    data: Owned,
    pace: Pace,
}

impl AsRef<[u8]> for Frame {
    fn as_ref(&self) -> &[u8] {
        match &self.data {
            Owned::Buffer(buffer) => buffer,
            Owned::Shared(bytes) => bytes,
        }
    }
}

impl Drop for Frame {
    fn drop(&mut self) {
        let buffer = match &mut self.data {
            Owned::Buffer(buffer) => Some(std::mem::take(buffer)),
            Owned::Shared(_) => None,
        };
        self.pace.written(buffer);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_grow_while_the_client_keeps_up_and_shrink_at_once_when_it_does_not() {
        let mut size = 0;
        let mut sizes = vec![];
        for _ in 0..7 {
            size = next_frame_size(size, Some(0));
            sizes.push(size / 1024);
        }
        assert_eq!(sizes, [16, 32, 64, 128, 256, 256, 256]);
        // The socket holds more than the limit: the client is behind, paused or slow.
        assert_eq!(next_frame_size(MAX_FRAME, Some(BACKLOG_LIMIT + 1)), SLOW_FRAME);
        assert_eq!(next_frame_size(MAX_FRAME, Some(BACKLOG_LIMIT)), MAX_FRAME);
        // Nobody measured it (a first write, or no way to measure): small.
        assert_eq!(next_frame_size(MAX_FRAME, None), SLOW_FRAME);
        let backlog = ClientBacklog::default();
        assert_eq!(backlog.unsent(), None);
        backlog.record(5);
        assert_eq!(backlog.unsent(), Some(5));
    }

    #[tokio::test]
    async fn a_frame_goes_out_only_when_the_one_before_was_written() {
        let pace = Pace::default();
        let waker = futures_util::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        assert_eq!(pace.ready().await, SLOW_FRAME);
        let first = pace.frame_of_bytes(Bytes::from(vec![0; 10]));
        assert_eq!(first, vec![0; 10]);
        // The next waits while the first is held (hyper has not written it).
        assert!(pace.poll_ready(&mut cx).is_pending());
        drop(first);
        assert!(pace.poll_ready(&mut cx).is_ready());
        // A slice of a frame keeps it in flight until the last slice goes.
        let second = pace.frame_of_bytes(Bytes::from(vec![1; 10]));
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
        buffer.extend_from_slice(b"abc");
        let at = buffer.as_ptr();
        drop(pace.frame_of_buffer(buffer));
        let again = pace.buffer(SLOW_FRAME);
        assert_eq!((again.as_ptr(), again.capacity()), (at, SLOW_FRAME));
        drop(pace.frame_of_buffer(again));
        let larger = pace.buffer(2 * SLOW_FRAME);
        assert!(larger.capacity() >= 2 * SLOW_FRAME);
        drop(pace.frame_of_buffer(larger));
        let smaller = pace.buffer(SLOW_FRAME / 2);
        assert_eq!(smaller.capacity(), SLOW_FRAME / 2, "the large buffer was let go");
    }
}
