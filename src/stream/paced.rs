//! Stream bodies whose bytes wait in the kernel's socket buffers, not in ours.
//!
//! hyper asks a body for frames as long as its write queue holds less than `max_buf_size`,
//! and writes only when that is full or the body has nothing ready (`poll_write` in
//! hyper's `proto/h1/dispatch.rs`). So a listener who reads at 320 kbit/s, or pauses, had a
//! full queue held for it, and a library file its read buffer besides: 167 KiB a listener
//! (issue 18). Here a frame goes to hyper only when the one before it has been written to the
//! socket, which hyper tells by dropping it: each frame's bytes are owned by a [`Frame`] that
//! reports its drop. A stream then holds one small frame (16 KiB) while its client takes
//! bytes at an audio rate or pauses; only a client that has been taking more than 16 MiB/s
//! (a download, a player filling its buffer on a fast link) gets large frames, two at once,
//! for fewer reads and wake-ups a byte.
//!
//! The buffers of written frames are kept for the next read: a stream allocates once.

use std::future::poll_fn;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use bytes::Bytes;

/// The frame size while the client takes bytes at a listener's pace.
pub const SLOW_FRAME: usize = 16 * 1024;
/// The frame size for a client that takes bytes as fast as they come.
pub const FAST_FRAME: usize = 128 * 1024;
/// Bytes a client must take within one [`RATE_WINDOW`] to count as fast: 16 MiB/s, far above
/// any audio rate, and more than the kernel's socket buffers take in at a stream's start
/// (`tcp_wmem` and `tcp_rmem` reach 4 and 6 MiB), which a listener's player fills at once.
const FAST_BYTES: u64 = 16 * 1024 * 1024;
const RATE_WINDOW: Duration = Duration::from_secs(1);

/// How much a stream may send: shared by the body and the frames it has handed out.
#[derive(Clone)]
pub struct Pace(Arc<Mutex<State>>);

struct State {
    /// Frames handed to hyper and not yet dropped.
    in_flight: usize,
    /// The body's task, waiting for a frame to be written.
    waiting: Option<Waker>,
    /// A written frame's buffer, for the next read.
    spare: Option<Vec<u8>>,
    fast: bool,
    window_start: Instant,
    window_bytes: u64,
}

impl Default for Pace {
    fn default() -> Self {
        Pace(Arc::new(Mutex::new(State {
            in_flight: 0,
            waiting: None,
            spare: None,
            fast: false,
            window_start: Instant::now(),
            window_bytes: 0,
        })))
    }
}

/// How large the next frame should be and how many may be in flight, given the client's pace.
fn frame_plan(fast: bool) -> (usize, usize) {
    if fast {
        (FAST_FRAME, 2)
    } else {
        (SLOW_FRAME, 1)
    }
}

/// Whether a client is fast after `written` more bytes at `now`: a window of [`RATE_WINDOW`]
/// that took [`FAST_BYTES`] makes it fast; one that ends with fewer makes it slow again.
fn judge(fast: bool, window_start: &mut Instant, window_bytes: &mut u64, written: u64, now: Instant) -> bool {
    if now.duration_since(*window_start) >= RATE_WINDOW {
        let was_fast = *window_bytes >= FAST_BYTES;
        *window_start = now;
        *window_bytes = written;
        return was_fast || written >= FAST_BYTES;
    }
    *window_bytes += written;
    fast || *window_bytes >= FAST_BYTES
}

impl Pace {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Ready when another frame may go out; answers the size it should have.
    pub fn poll_ready(&self, cx: &mut Context<'_>) -> Poll<usize> {
        let mut state = self.state();
        let (size, at_once) = frame_plan(state.fast);
        if state.in_flight < at_once {
            return Poll::Ready(size);
        }
        state.waiting = Some(cx.waker().clone());
        Poll::Pending
    }

    /// Waits until another frame may go out; answers the size it should have.
    pub async fn ready(&self) -> usize {
        poll_fn(|cx| self.poll_ready(cx)).await
    }

    /// A buffer with room for `size` bytes: a written frame's, when there is one (holding
    /// that frame's bytes still: the caller overwrites them).
    pub fn buffer(&self, size: usize) -> Vec<u8> {
        let mut buffer = self.state().spare.take().unwrap_or_default();
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
        self.state().in_flight += 1;
        Bytes::from_owner(Frame {
            data,
            pace: self.clone(),
        })
    }

    fn written(&self, len: usize, buffer: Option<Vec<u8>>) {
        let mut state = self.state();
        state.in_flight -= 1;
        let State {
            fast,
            window_start,
            window_bytes,
            ..
        } = &mut *state;
        *fast = judge(*fast, window_start, window_bytes, len as u64, Instant::now());
        // Only a buffer of the size the next frame wants is worth keeping.
        if let Some(buffer) = buffer.filter(|b| b.capacity() == frame_plan(state.fast).0) {
            state.spare = Some(buffer);
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
        let len = self.as_ref().len();
        let buffer = match &mut self.data {
            Owned::Buffer(buffer) => Some(std::mem::take(buffer)),
            Owned::Shared(_) => None,
        };
        self.pace.written(len, buffer);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_is_fast_only_while_it_takes_a_window_s_worth_in_a_window() {
        let t0 = Instant::now();
        let (mut start, mut bytes) = (t0, 0);
        let ms = |n| t0 + Duration::from_millis(n);
        // A player filling the socket buffers at its start (6 MiB at once), then 40 KB/s
        // (320 kbit/s): never fast.
        let mut fast = judge(false, &mut start, &mut bytes, 6 << 20, ms(1));
        assert!(!fast);
        for i in 1..=50 {
            fast = judge(fast, &mut start, &mut bytes, 16 * 1024, ms(i * 400));
            assert!(!fast);
        }
        // A download: fast as soon as a window holds FAST_BYTES.
        let t1 = 50 * 400 + 1000;
        for i in 0..=(FAST_BYTES / (128 * 1024)) {
            fast = judge(fast, &mut start, &mut bytes, 128 * 1024, ms(t1 + i));
        }
        assert!(fast);
        // Still fast in the next window while the last one was full ...
        fast = judge(fast, &mut start, &mut bytes, 128 * 1024, ms(t1 + 1500));
        assert!(fast);
        // ... and slow after a window that took little.
        fast = judge(fast, &mut start, &mut bytes, 16 * 1024, ms(t1 + 3000));
        assert!(!fast);
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
    fn a_written_buffer_is_read_into_again() {
        let pace = Pace::default();
        let mut buffer = pace.buffer(SLOW_FRAME);
        buffer.extend_from_slice(b"abc");
        let at = buffer.as_ptr();
        drop(pace.frame_of_buffer(buffer));
        let again = pace.buffer(SLOW_FRAME);
        assert_eq!((again.as_ptr(), again.capacity()), (at, SLOW_FRAME));
    }
}
