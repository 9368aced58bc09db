//! Library files sent by the kernel (`sendfile(2)`) where the page cache holds them: one copy a
//! byte, from the cache to the socket, instead of two (a read into a frame, then its write), as
//! nginx's `sendfile on`.
//!
//! hyper writes the bytes a body's frames hold and has no way to send a file (hyper#3026,
//! tower-http#381). So a frame of a file send holds stand-in bytes (a static region nobody
//! reads) and the connection's socket (`server::TrackedIo`), asked to write those, sends the
//! file's bytes in their place: the frame notes on its connection's [`FileSends`] which bytes
//! of which file it stands for, until it is dropped (written, or its stream over). hyper
//! hands the socket the frames themselves (its `writev` write strategy), so stand-ins are
//! told apart by where they are. A stream lets one frame out at a time
//! ([`Pace`](super::paced::Pace)) and HTTP/1 answers one request at a time, so a connection
//! has at most one file send; stand-ins with none, or of another length, are an error that
//! ends the connection, never other bytes sent. A file cut short under a send sends what is
//! left of it, then nothing, which hyper takes for a broken connection: the client sees the
//! body end early, as when a frame's read finds the file shorter (`local::frames`).

use std::fs::File;
use std::io::{self, IoSlice};
use std::sync::{Arc, Mutex};

use super::paced::MAX_FRAME;

/// What stand-in frames hold. Never read: in `.bss`, it takes no memory.
static STAND_IN: [u8; MAX_FRAME] = [0; MAX_FRAME];

/// `len` stand-in bytes.
pub fn stand_in(len: usize) -> &'static [u8] {
    &STAND_IN[..len]
}

fn is_stand_in(bytes: &[u8]) -> bool {
    let start = STAND_IN.as_ptr() as usize;
    let at = bytes.as_ptr() as usize;
    !bytes.is_empty() && (start..start + STAND_IN.len()).contains(&at)
}

/// A connection's file send waiting to be written, shared by the body that made it and the
/// connection's socket.
#[derive(Clone, Default, Debug)]
pub struct FileSends(Arc<Mutex<Option<FileSend>>>);

#[derive(Debug)]
struct FileSend {
    file: Arc<File>,
    offset: u64,
    left: usize,
}

impl FileSends {
    fn slot(&self) -> std::sync::MutexGuard<'_, Option<FileSend>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Notes that the next stand-in bytes written on the connection are `len` bytes of `file`
    /// at `offset`, until [`end`](Self::end).
    pub(super) fn begin(&self, file: Arc<File>, offset: u64, len: usize) -> io::Result<()> {
        let mut slot = self.slot();
        if slot.is_some() {
            return Err(io::Error::other("a file send is waiting already"));
        }
        *slot = Some(FileSend {
            file,
            offset,
            left: len,
        });
        Ok(())
    }

    /// What to write of `bufs` next: the slices before their first stand-in, or, when they
    /// begin with one, the file's bytes it stands for.
    pub fn next_write(&self, bufs: &[IoSlice<'_>]) -> io::Result<NextWrite> {
        match bufs.iter().position(|b| is_stand_in(b)) {
            None => Ok(NextWrite::Plain(bufs.len())),
            Some(0) => match self.slot().as_ref().filter(|s| s.left == bufs[0].len()) {
                Some(waiting) => Ok(NextWrite::File {
                    file: waiting.file.clone(),
                    offset: waiting.offset,
                    len: waiting.left,
                }),
                None => Err(io::Error::other("stand-in bytes with no file send for them")),
            },
            Some(plain) => Ok(NextWrite::Plain(plain)),
        }
    }

    /// `sent` bytes of the waiting file send went.
    pub fn sent(&self, sent: usize) {
        if let Some(waiting) = self.slot().as_mut() {
            waiting.offset += sent as u64;
            waiting.left -= sent.min(waiting.left);
        }
    }

    /// The frame standing in for the waiting send is gone: written, or its stream over.
    pub(super) fn end(&self) {
        *self.slot() = None;
    }
}

/// What a connection's socket writes next ([`FileSends::next_write`]).
#[derive(Debug)]
pub enum NextWrite {
    /// This many slices, as they are.
    Plain(usize),
    /// These bytes of this file.
    File { file: Arc<File>, offset: u64, len: usize },
}

/// Whether the page cache holds every byte of `file` from `offset` for `len` (`cachestat(2)`,
/// Linux 6.5): then sending them does not wait on the disk, which would stall every stream
/// on the thread. No where it can't tell.
pub fn cached(file: &File, offset: u64, len: usize) -> bool {
    #[cfg(target_os = "linux")]
    #[allow(unsafe_code)]
    {
        use std::os::fd::AsRawFd;
        /// The same on every architecture but alpha (new system calls share one number
        /// since Linux 5.1, `include/uapi/asm-generic/unistd.h`); the libc crate does not
        /// name it for all.
        const SYS_CACHESTAT: libc::c_long = 451;
        /// `struct cachestat_range`, `include/uapi/linux/mman.h`.
        #[repr(C)]
        struct Range {
            off: u64,
            len: u64,
        }
        /// `struct cachestat`: pages cached, dirty, under writeback, evicted, recently evicted.
        #[repr(C)]
        #[derive(Default)]
        struct Stat {
            nr_cache: u64,
            _rest: [u64; 4],
        }
        if len == 0 {
            return false;
        }
        let range = Range {
            off: offset,
            len: len as u64,
        };
        let mut stat = Stat::default();
        // SAFETY: cachestat reads one `cachestat_range` and writes one `cachestat`, both
        // `repr(C)` here with the kernel's layout.
        let got = unsafe {
            libc::syscall(
                SYS_CACHESTAT,
                file.as_raw_fd(),
                &range as *const Range,
                &mut stat as *mut Stat,
                0u32,
            )
        };
        let page = rustix::param::page_size() as u64;
        let pages = (offset + len as u64 - 1) / page - offset / page + 1;
        got == 0 && stat.nr_cache >= pages
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (file, offset, len);
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file() -> Arc<File> {
        Arc::new(tempfile::tempfile().unwrap())
    }

    #[test]
    fn plain_bytes_before_a_stand_in_are_written_and_a_stand_in_is_sent_from_its_file() {
        let sends = FileSends::default();
        sends.begin(file(), 1000, 300).unwrap();
        let head = b"HTTP/1.1 206 Partial Content\r\n\r\n";
        let bufs = [IoSlice::new(head), IoSlice::new(head), IoSlice::new(stand_in(300))];
        assert!(matches!(sends.next_write(&bufs), Ok(NextWrite::Plain(2))));
        assert!(matches!(sends.next_write(&bufs[..2]), Ok(NextWrite::Plain(2))));
        // Sent in two parts, each from where the last one ended.
        let next = sends.next_write(&bufs[2..]).unwrap();
        assert!(
            matches!(
                next,
                NextWrite::File {
                    offset: 1000,
                    len: 300,
                    ..
                }
            ),
            "{next:?}"
        );
        sends.sent(100);
        let next = sends.next_write(&[IoSlice::new(&stand_in(300)[100..])]).unwrap();
        assert!(
            matches!(
                next,
                NextWrite::File {
                    offset: 1100,
                    len: 200,
                    ..
                }
            ),
            "{next:?}"
        );
        sends.sent(200);
        sends.end();
        assert!(sends.slot().is_none());
    }

    #[test]
    fn a_stand_in_with_no_file_send_for_it_is_an_error_not_other_bytes() {
        let sends = FileSends::default();
        let bufs = [IoSlice::new(stand_in(10))];
        assert!(sends.next_write(&bufs).is_err());
        sends.begin(file(), 0, 20).unwrap();
        assert!(sends.next_write(&bufs).is_err(), "of another length");
        assert!(sends.begin(file(), 0, 20).is_err(), "one send waits at a time");
    }

    #[test]
    fn bytes_elsewhere_are_never_taken_for_stand_ins() {
        let copy = stand_in(64).to_vec();
        assert!(!is_stand_in(&copy));
        assert!(!is_stand_in(&[]));
        assert!(is_stand_in(&stand_in(MAX_FRAME)[MAX_FRAME - 1..]));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_page_cache_is_asked_whether_it_holds_the_bytes() {
        use std::io::Write;
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(&vec![7u8; 300_000]).unwrap();
        file.sync_all().unwrap();
        assert!(cached(&file, 12_345, 100_000));
        assert!(!cached(&file, 290_000, 100_000), "past the end is not cached");
        rustix::fs::fadvise(&file, 0, None, rustix::fs::Advice::DontNeed).unwrap();
        assert!(!cached(&file, 12_345, 100_000));
    }
}
