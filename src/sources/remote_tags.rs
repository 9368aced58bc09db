//! Tags of a remote file without downloading it: lofty reads through a `Read + Seek` that
//! fetches 64 KiB blocks with range requests, on a small budget (tags sit at the start, and
//! lofty seeks to the end for ID3v1/APE tags, Ogg's last page or an MP4 index). Over budget,
//! the caller falls back to what the URL and playlist say.

use std::collections::HashMap;
use std::io::{self, Read, Seek, SeekFrom};
use std::time::Duration;

use bytes::Bytes;
use http::header::RANGE;
use tokio::runtime::Handle;

use crate::formats::tags::{self, TrackInfo};
use crate::upstream::ControlClient;

const BLOCK: u64 = 64 * 1024;
/// At most this many blocks (1 MiB) per file.
const MAX_BLOCKS: usize = 16;

/// Reads the tags of the `size`-byte file at `url`; None if that is not cheap or not possible.
pub async fn read(client: ControlClient, url: url::Url, size: u64, timeout: Duration) -> Option<TrackInfo> {
    let handle = Handle::current();
    let extension = std::path::Path::new(url.path())
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_owned);
    tokio::task::spawn_blocking(move || {
        let reader = RangeReader {
            handle,
            client,
            url,
            size,
            pos: 0,
            blocks: HashMap::new(),
            timeout,
        };
        tags::read(reader, extension.as_deref(), false)
            .map_err(|e| tracing::debug!(error = %e, "remote tags unreadable"))
            .ok()
    })
    .await
    .ok()
    .flatten()
}

struct RangeReader {
    handle: Handle,
    client: ControlClient,
    url: url::Url,
    size: u64,
    pos: u64,
    blocks: HashMap<u64, Bytes>,
    timeout: Duration,
}

impl RangeReader {
    fn block(&mut self, index: u64) -> io::Result<Bytes> {
        if let Some(b) = self.blocks.get(&index) {
            return Ok(b.clone());
        }
        if self.blocks.len() >= MAX_BLOCKS {
            return Err(io::Error::other("remote tag budget spent"));
        }
        let start = index * BLOCK;
        let end = (start + BLOCK).min(self.size) - 1;
        let mut range = http::HeaderMap::new();
        range.insert(
            RANGE,
            http::HeaderValue::try_from(format!("bytes={start}-{end}")).map_err(io::Error::other)?,
        );
        let timeout = self.timeout;
        let bytes = self.handle.block_on(async {
            let response = self
                .client
                .get(&self.url, range, timeout)
                .await
                .map_err(io::Error::other)?;
            if response.status() != http::StatusCode::PARTIAL_CONTENT {
                return Err(io::Error::other(format!(
                    "range request answered {}",
                    response.status()
                )));
            }
            tokio::time::timeout(timeout, response.bytes())
                .await
                .map_err(|_| io::Error::other("timeout"))?
                .map_err(io::Error::other)
        })?;
        if bytes.len() as u64 != end - start + 1 {
            return Err(io::Error::other("short block"));
        }
        self.blocks.insert(index, bytes.clone());
        Ok(bytes)
    }
}

impl Read for RangeReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos >= self.size || buf.is_empty() {
            return Ok(0);
        }
        let block = self.block(self.pos / BLOCK)?;
        let offset = (self.pos % BLOCK) as usize;
        let n = (block.len() - offset).min(buf.len());
        buf[..n].copy_from_slice(&block[offset..offset + n]);
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for RangeReader {
    fn seek(&mut self, from: SeekFrom) -> io::Result<u64> {
        let target = match from {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::End(d) => self.size.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        self.pos = target.ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek before start"))?;
        Ok(self.pos)
    }
}
