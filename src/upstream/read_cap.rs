//! Media connections whose reads the stream reading them can make small.
//!
//! hyper's client reads as much as its buffer holds (it grows to `http1_max_buf_size`), and
//! each body chunk it hands out is a slice of that buffer: a stream whose client is slow, or
//! paused, holds the whole allocation with the one chunk it waits to send. A quarter-MiB read
//! halves the proxy's CPU a byte for a client that keeps up, so the size is the stream's to
//! choose, read by read: every connection carries a [`ReadCap`], which hyper-util hands to each
//! response on it (`Connected::extra`), and a read on the connection takes at most that much.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use hyper::rt::{Read, ReadBuf, ReadBufCursor, Write};
use hyper_util::client::legacy::connect::{Connected, Connection};

/// The most a capped read takes at once; larger caps leave reads to hyper's buffer size.
pub const SMALL_READ: usize = 16 * 1024;

/// The most the next read of a connection may take; set by the stream reading a response.
#[derive(Clone, Debug)]
pub struct ReadCap(Arc<AtomicUsize>);

impl Default for ReadCap {
    fn default() -> Self {
        ReadCap(Arc::new(AtomicUsize::new(usize::MAX)))
    }
}

impl ReadCap {
    pub fn set(&self, most: usize) {
        self.0.store(most, Ordering::Relaxed);
    }

    fn get(&self) -> usize {
        self.0.load(Ordering::Relaxed)
    }
}

/// Gives every connection of the connector `C` its [`ReadCap`].
#[derive(Clone)]
pub struct CappedConnector<C>(pub C);

impl<C> tower_service::Service<http::Uri> for CappedConnector<C>
where
    C: tower_service::Service<http::Uri>,
    C::Future: Send + 'static,
{
    type Response = Capped<C::Response>;
    type Error = C::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, C::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, dst: http::Uri) -> Self::Future {
        let connecting = self.0.call(dst);
        Box::pin(async move {
            Ok(Capped {
                inner: connecting.await?,
                cap: ReadCap::default(),
            })
        })
    }
}

/// A connection whose reads take at most its [`ReadCap`].
pub struct Capped<S> {
    inner: S,
    cap: ReadCap,
}

impl<S: Read + Unpin> Read for Capped<S> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, mut buf: ReadBufCursor<'_>) -> Poll<io::Result<()>> {
        let cap = self.cap.get();
        if cap > SMALL_READ || buf.remaining() <= cap {
            return Pin::new(&mut self.inner).poll_read(cx, buf);
        }
        // A cursor can't be narrowed without `unsafe`: read into a small buffer and copy,
        // which costs only streams whose clients are slow (a few reads a second).
        let mut small = [0u8; SMALL_READ];
        let mut read = ReadBuf::new(&mut small[..cap.max(1)]);
        std::task::ready!(Pin::new(&mut self.inner).poll_read(cx, read.unfilled()))?;
        buf.put_slice(read.filled());
        Poll::Ready(Ok(()))
    }
}

impl<S: Write + Unpin> Write for Capped<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

impl<S: Connection> Connection for Capped<S> {
    fn connected(&self) -> Connected {
        self.inner.connected().extra(self.cap.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper_util::rt::TokioIo;
    use tokio::io::AsyncWriteExt;

    #[tokio::test]
    async fn a_read_takes_at_most_the_cap_and_all_it_may_without_one() {
        let (ours, mut theirs) = tokio::io::duplex(64 * 1024);
        theirs.write_all(&[7u8; 40 * 1024]).await.unwrap();
        let mut conn = Capped {
            inner: TokioIo::new(ours),
            cap: ReadCap::default(),
        };
        let mut storage = vec![0u8; 64 * 1024];
        let mut read_once = |conn: &mut Capped<_>| {
            let mut buf = ReadBuf::new(&mut storage);
            let waker = futures_util::task::noop_waker();
            let poll = Pin::new(conn).poll_read(&mut Context::from_waker(&waker), buf.unfilled());
            assert!(matches!(poll, Poll::Ready(Ok(()))));
            buf.filled().len()
        };
        conn.cap.set(1000);
        assert_eq!(read_once(&mut conn), 1000);
        conn.cap.set(SMALL_READ);
        assert_eq!(read_once(&mut conn), SMALL_READ);
        conn.cap.set(usize::MAX);
        assert_eq!(read_once(&mut conn), 40 * 1024 - 1000 - SMALL_READ);
    }
}
