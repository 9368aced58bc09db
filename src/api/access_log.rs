//! One log line per request, written when the response body ends (or the client goes away),
//! so that a stream's line carries the bytes really sent and its whole duration.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::Response;
use bytes::Bytes;
use http_body::{Frame, SizeHint};

use crate::telemetry as m;

pub async fn log_requests(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    // Stream tokens are bearer secrets: keep them out of logs.
    let is_stream = request.uri().path().starts_with("/stream/");
    let path = if is_stream {
        "/stream/…".to_owned()
    } else {
        request.uri().path().to_owned()
    };
    let in_flight = is_stream.then(|| m::InFlight::new(m::STREAMS_IN_FLIGHT));
    let response = next.run(request).await;
    let status = response.status().as_u16();
    // What the client is to receive: nothing for a HEAD, else the Content-Length the handler
    // set (a file's or a proxied range's length), else what the body knows of itself.
    let declared = response
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    let head_only = method == Method::HEAD;
    response.map(|inner| {
        Body::new(LoggedBody {
            planned: if head_only {
                Some(0)
            } else {
                declared.or(http_body::Body::size_hint(&inner).exact())
            },
            inner,
            bytes: 0,
            finished: false,
            failed: false,
            started,
            method: method.to_string(),
            path,
            status,
            _in_flight: in_flight,
        })
    })
}

struct LoggedBody {
    inner: Body,
    /// The body's length when it is known up front (Content-Length).
    planned: Option<u64>,
    bytes: u64,
    /// The body said it had no more frames.
    finished: bool,
    /// The body failed (an upstream that could not go on).
    failed: bool,
    started: Instant,
    method: String,
    path: String,
    status: u16,
    _in_flight: Option<m::InFlight>,
}

impl http_body::Body for LoggedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    self.bytes += data.len() as u64;
                }
            }
            Poll::Ready(None) => self.finished = true,
            Poll::Ready(Some(Err(_))) => self.failed = true,
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for LoggedBody {
    fn drop(&mut self) {
        // Whole when every planned byte went out (hyper stops polling a body once it has sent
        // its Content-Length, so the end is not always seen), or, with no length planned, when
        // the body ended; never after a failure.
        let complete = !self.failed
            && match self.planned {
                Some(planned) => self.bytes == planned,
                None => self.finished || http_body::Body::is_end_stream(&self.inner),
            };
        metrics::counter!(m::HTTP_REQUESTS, "status" => self.status.to_string()).increment(1);
        metrics::counter!(m::HTTP_RESPONSE_BYTES).increment(self.bytes);
        tracing::info!(
            method = %self.method,
            path = %self.path,
            status = self.status,
            bytes = self.bytes,
            ms = format_args!("{:.2}", self.started.elapsed().as_secs_f64() * 1000.0),
            complete,
            "request"
        );
    }
}
