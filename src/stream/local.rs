//! Local files as stream bodies: open, learn length and validators, decide, then stream only
//! the bytes asked for, a frame at a time as the client takes them ([`paced`](super::paced):
//! one small buffer per stream, read into again and again).

use std::io;
use std::path::Path;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, Method};
use axum::response::Response;
use bytes::Bytes;
use futures_util::Stream;

use super::paced::{ClientRoom, Pace};
use super::plan::{self, Representation};
use super::range::ByteRange;
use super::render_head;

/// Answers a GET or HEAD for the file at `path` (already checked to be inside the library).
pub async fn serve_file(
    method: &Method,
    headers: &HeaderMap,
    path: &Path,
    content_type: &str,
    room: ClientRoom,
) -> std::io::Result<Response> {
    let file = tokio::fs::File::open(path).await?;
    let meta = file.metadata().await?;
    let modified = meta.modified().ok();
    let rep = Representation {
        len: meta.len(),
        etag: Some(plan::etag_for(meta.len(), modified)),
        last_modified: modified,
    };
    let decision = plan::decide(headers, &rep);
    let (status, head, bytes) = render_head(&decision, &rep, content_type);
    let body = match bytes {
        Some(range) if method != Method::HEAD => {
            Body::from_stream(frames(file.into_std().await, range, Pace::new(room)))
        }
        _ => Body::empty(),
    };
    let mut response = Response::new(body);
    *response.status_mut() = status;
    *response.headers_mut() = head;
    Ok(response)
}

/// Bytes `range` of `file`, each frame read (on a blocking thread, straight into the frame's
/// buffer) once the client has taken the one before. A file that shrank under the stream ends
/// it with an error: the client sees a body cut short, never a wrong one.
fn frames(file: std::fs::File, range: ByteRange, pace: Pace) -> impl Stream<Item = io::Result<Bytes>> {
    let file = Arc::new(file);
    futures_util::stream::try_unfold(range.start, move |pos| {
        let (file, pace) = (file.clone(), pace.clone());
        async move {
            if pos > range.end {
                return Ok(None);
            }
            let size = pace.ready().await;
            let want = (range.end - pos + 1).min(size as u64) as usize;
            let mut buffer = pace.buffer(size);
            let buffer = tokio::task::spawn_blocking(move || {
                // A reused buffer is as long as its last frame: resizing it writes nothing.
                buffer.resize(want, 0);
                let read = read_at(&file, &mut buffer, pos)?;
                buffer.truncate(read);
                Ok::<_, io::Error>(buffer)
            })
            .await
            .map_err(io::Error::other)??;
            if buffer.is_empty() {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the file shrank while streaming",
                ));
            }
            let next = pos + buffer.len() as u64;
            Ok(Some((pace.frame_of_buffer(buffer), next)))
        }
    })
}

/// Fills `buffer` from `file` at `pos`, short only at the end of the file.
fn read_at(file: &std::fs::File, buffer: &mut [u8], pos: u64) -> io::Result<usize> {
    #[cfg(unix)]
    use std::os::unix::fs::FileExt;
    #[cfg(windows)]
    use std::os::windows::fs::FileExt;
    let mut filled = 0;
    while filled < buffer.len() {
        let at = pos + filled as u64;
        #[cfg(unix)]
        let read = file.read_at(&mut buffer[filled..], at);
        #[cfg(windows)]
        let read = file.seek_read(&mut buffer[filled..], at);
        match read {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}
