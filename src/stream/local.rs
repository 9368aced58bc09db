//! Local files as stream bodies: open, learn length and validators, decide, then stream only
//! the bytes asked for, a frame at a time as the client takes them ([`paced`](super::paced):
//! one small buffer per stream, read into again and again; or, for what the page cache holds,
//! no buffer at all: the client's socket sends the bytes from the file, [`file_send`]).
//!
//! A file is opened once however many listen to it ([`OpenFiles`]): every read says where it
//! reads (`pread`), so streams share a descriptor as nginx's `open_file_cache` does. A listener
//! of a library file then costs one descriptor, its connection's; ten thousand listeners of a
//! few albums fit a process that may hold 20,000 (issue 18).

use std::collections::HashMap;
use std::fs::{File, Metadata};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Weak};

use axum::body::Body;
use axum::http::{HeaderMap, Method};
use axum::response::Response;
use bytes::Bytes;
use futures_util::Stream;

use super::file_send::{self, FileSends};
use super::paced::{ClientRoom, Pace};
use super::plan::{self, Representation};
use super::range::ByteRange;
use super::render_head;

/// The library files being streamed, each open once while any stream reads it.
#[derive(Clone, Default)]
pub struct OpenFiles(Arc<Mutex<Shared>>);

#[derive(Default)]
struct Shared {
    files: HashMap<PathBuf, Weak<File>>,
    /// When the table is this long, the files nobody reads any more are dropped from it.
    sweep_at: usize,
}

impl OpenFiles {
    /// The file at `path` and what it is now: the one open already if it is still the file
    /// there (the same device and inode: a file replaced under the path is opened anew), else
    /// a new one. Blocking (a `stat`, and an `open` when it is not open).
    fn open(&self, path: &Path) -> io::Result<(Arc<File>, Metadata)> {
        let meta = std::fs::metadata(path)?;
        let kept = self.shared().files.get(path).and_then(Weak::upgrade);
        if let Some(file) = kept {
            if same_file(&file.metadata()?, &meta) {
                return Ok((file, meta));
            }
        }
        let file = Arc::new(File::open(path)?);
        let meta = file.metadata()?;
        let mut shared = self.shared();
        if shared.files.len() >= shared.sweep_at {
            shared.files.retain(|_, file| file.strong_count() > 0);
            shared.sweep_at = (2 * shared.files.len()).max(64);
        }
        shared.files.insert(path.to_owned(), Arc::downgrade(&file));
        Ok((file, meta))
    }

    fn shared(&self) -> std::sync::MutexGuard<'_, Shared> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Whether two metadata are of one file.
fn same_file(a: &Metadata, b: &Metadata) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        (a.dev(), a.ino()) == (b.dev(), b.ino())
    }
    #[cfg(not(unix))]
    {
        let _ = (a, b);
        false
    }
}

/// Answers a GET or HEAD for the file at `path` (already checked to be inside the library).
pub async fn serve_file(
    method: &Method,
    headers: &HeaderMap,
    files: &OpenFiles,
    path: &Path,
    content_type: &str,
    room: ClientRoom,
) -> std::io::Result<Response> {
    let (files, path) = (files.clone(), path.to_owned());
    let (file, meta) = tokio::task::spawn_blocking(move || files.open(&path))
        .await
        .map_err(io::Error::other)??;
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
            let sends = room.file_sends().cloned();
            Body::from_stream(frames(file, range, Pace::new(room), sends))
        }
        _ => Body::empty(),
    };
    let mut response = Response::new(body);
    *response.status_mut() = status;
    *response.headers_mut() = head;
    Ok(response)
}

/// Bytes `range` of `file`, a frame once the client has taken the one before: sent from the
/// file by the client's socket where it can (`sends`) and the page cache holds the frame's
/// bytes, else read into the frame's buffer (on a blocking thread where they are not cached).
/// A file that shrank under the stream ends it with an error: the client sees a body cut
/// short, never a wrong one.
fn frames(
    file: Arc<File>,
    range: ByteRange,
    pace: Pace,
    sends: Option<FileSends>,
) -> impl Stream<Item = io::Result<Bytes>> {
    futures_util::stream::try_unfold(range.start, move |pos| {
        let (file, pace, sends) = (file.clone(), pace.clone(), sends.clone());
        async move {
            if pos > range.end {
                return Ok(None);
            }
            let size = pace.ready().await;
            let want = (range.end - pos + 1).min(size as u64) as usize;
            if let Some(sends) = sends.filter(|_| file_send::cached(&file, pos, want)) {
                return Ok(Some((
                    pace.frame_sent_from(&sends, file, pos, want)?,
                    pos + want as u64,
                )));
            }
            let mut buffer = pace.buffer(want);
            let (buffer, read) = match read_cached(&file, &mut buffer[..want], pos) {
                Some(read) => (buffer, read),
                None => tokio::task::spawn_blocking(move || {
                    let read = read_at(&file, &mut buffer[..want], pos)?;
                    Ok::<_, io::Error>((buffer, read))
                })
                .await
                .map_err(io::Error::other)??,
            };
            if read == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the file shrank while streaming",
                ));
            }
            Ok(Some((pace.frame_of_buffer(buffer, read), pos + read as u64)))
        }
    })
}

/// What the page cache has of the bytes at `pos`, read into `buffer` on the stream's own thread
/// without waiting on the disk (`preadv2` with `RWF_NOWAIT`, preadv2(2)); `None` where the
/// read would wait (nothing of it cached), or could not tell.
///
/// Why: a frame read on a blocking thread is two thread hand-offs, and for a file the page
/// cache holds (a track being played, the benchmark's) they cost more than the read: a quarter
/// of the server's samples were task switches out of futex waits, and one stream ran at 0.71×
/// nginx's `sendfile`; read here, 0.83× (issue 18, BENCHMARKS.md). nginx reads from the cache
/// on its event loop too.
fn read_cached(file: &File, buffer: &mut [u8], pos: u64) -> Option<usize> {
    #[cfg(target_os = "linux")]
    loop {
        use rustix::io::{preadv2, Errno, ReadWriteFlags};
        let slices = &mut [io::IoSliceMut::new(buffer)];
        return match preadv2(file, slices, pos, ReadWriteFlags::NOWAIT) {
            // Nothing read says the end of the file, which the blocking read confirms: a
            // file system may answer short where it cannot read without waiting.
            Ok(0) => None,
            Ok(read) => Some(read),
            Err(Errno::INTR) => continue,
            // EAGAIN: not in the cache; EOPNOTSUPP: a file system that cannot say.
            Err(_) => None,
        };
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (file, buffer, pos);
        None
    }
}

/// Fills `buffer` from `file` at `pos`, short only at the end of the file.
fn read_at(file: &File, buffer: &mut [u8], pos: u64) -> io::Result<usize> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn a_file_is_opened_once_while_it_is_read_and_anew_when_it_was_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("track.mp3");
        std::fs::write(&path, b"first").unwrap();
        let files = OpenFiles::default();
        let (one, meta) = files.open(&path).unwrap();
        assert_eq!(meta.len(), 5);
        let (two, _) = files.open(&path).unwrap();
        assert!(Arc::ptr_eq(&one, &two), "a second listener shares the descriptor");
        // Replaced under its path (as a tagger or a sync tool writes): the new file is opened,
        // and its length told; the streams reading the old one go on reading it.
        let new = dir.path().join("new.mp3");
        std::fs::write(&new, b"second!").unwrap();
        std::fs::rename(&new, &path).unwrap();
        let (three, meta) = files.open(&path).unwrap();
        assert!(!Arc::ptr_eq(&one, &three));
        assert_eq!(meta.len(), 7);
        let mut buffer = [0u8; 8];
        assert_eq!(read_at(&one, &mut buffer, 0).unwrap(), 5);
        assert_eq!(read_at(&three, &mut buffer, 0).unwrap(), 7);
        // Nobody reads them any more: nothing is held open.
        let weak = Arc::downgrade(&three);
        drop((one, two, three));
        assert!(weak.upgrade().is_none());
        assert_eq!(
            files.open(&dir.path().join("gone.mp3")).unwrap_err().kind(),
            io::ErrorKind::NotFound
        );
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn what_the_page_cache_holds_is_read_at_once_and_the_rest_left_to_a_blocking_read() {
        use std::io::Write;
        let mut file = tempfile::tempfile().unwrap();
        let written: Vec<u8> = (0..300_000u32).map(|n| (n % 251) as u8).collect();
        file.write_all(&written).unwrap();
        file.sync_all().unwrap();
        let mut buffer = vec![0u8; 100_000];
        assert_eq!(read_cached(&file, &mut buffer, 123_456), Some(100_000));
        assert_eq!(buffer, written[123_456..223_456]);
        // The end of the file is told by the blocking read, not taken from a short answer.
        assert_eq!(read_cached(&file, &mut buffer, 300_000), None);
        assert_eq!(read_at(&file, &mut buffer, 300_000).unwrap(), 0);
        // Out of the cache (written back, then dropped from it), the read would wait on the disk.
        rustix::fs::fadvise(&file, 0, None, rustix::fs::Advice::DontNeed).unwrap();
        assert_eq!(read_cached(&file, &mut buffer, 0), None);
        assert_eq!(read_at(&file, &mut buffer, 0).unwrap(), 100_000);
        assert_eq!(buffer, written[..100_000]);
    }

    #[test]
    fn the_table_forgets_files_nobody_reads() {
        let dir = tempfile::tempdir().unwrap();
        let files = OpenFiles::default();
        for n in 0..1000 {
            let path = dir.path().join(format!("{n}.mp3"));
            std::fs::write(&path, b"x").unwrap();
            drop(files.open(&path).unwrap());
        }
        assert!(files.shared().files.len() <= 64, "{}", files.shared().files.len());
    }
}
