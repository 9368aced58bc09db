//! Local files as stream bodies: open, learn length and validators, decide, then stream only
//! the bytes asked for, in 64 KiB reads (memory per stream stays at one buffer).

use std::io::SeekFrom;
use std::path::Path;

use axum::body::Body;
use axum::http::{HeaderMap, Method};
use axum::response::Response;
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio_util::io::ReaderStream;

use super::plan::{self, Representation};
use super::render_head;

const READ_BUFFER: usize = 64 * 1024;

/// Answers a GET or HEAD for the file at `path` (already checked to be inside the library).
pub async fn serve_file(
    method: &Method,
    headers: &HeaderMap,
    path: &Path,
    content_type: &str,
) -> std::io::Result<Response> {
    let mut file = tokio::fs::File::open(path).await?;
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
            file.seek(SeekFrom::Start(range.start)).await?;
            Body::from_stream(ReaderStream::with_capacity(file.take(range.len()), READ_BUFFER))
        }
        _ => Body::empty(),
    };
    let mut response = Response::new(body);
    *response.status_mut() = status;
    *response.headers_mut() = head;
    Ok(response)
}
