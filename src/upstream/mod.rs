//! Other hosts: which of them the server fetches from for a client (`egress`), how it reaches
//! them (`net`: name resolution, address family, proxy),
//! the one place that builds its HTTP clients (`clients`), the data plane's own (`media`), what a resolved remote medium is
//! (`locator`) and the byte-range protocol spoken to it (`range`).
//!
//! Every outbound request goes through a client built here. This module depends on `model`
//! only.

mod clients;
pub mod egress;
mod locator;
mod media;
pub mod net;
pub mod range;

use std::time::Duration;

pub use clients::{redact, without_password, Clients, ControlClient, USER_AGENT};
pub use locator::{Locator, RangeStyle};
pub use media::{MediaBody, MediaClient, MediaError, MediaResponse, ReadAhead};

/// Timeouts and sizes for upstream requests.
#[derive(Debug, Clone)]
pub struct UpstreamLimits {
    /// Bytes asked per upstream request (default 4 MiB; YouTube throttles above ~10 MiB).
    pub chunk_size: u64,
    /// From sending a request to its response headers.
    pub first_byte_timeout: Duration,
    /// Longest wait for the next body bytes before the read counts as stalled.
    pub idle_timeout: Duration,
    /// Resumes and retries (after drops, stalls, 5xx) in a row without progress after which a
    /// stream gives up; one that moved the stream forward does not count.
    pub max_resumes: u32,
    /// How long a client may take no bytes before its stream lets the upstream go (its
    /// connection, and what the kernel holds of it), to ask again from the byte reached when the
    /// client reads on: a paused listener then holds one small frame. Far above the time a
    /// listener at a low bitrate takes for one small frame (8 KiB at 64 kbit/s: 1 s).
    pub pause_lets_go: Duration,
}

impl Default for UpstreamLimits {
    fn default() -> Self {
        UpstreamLimits {
            chunk_size: 4 * 1024 * 1024,
            first_byte_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(15),
            max_resumes: 5,
            pause_lets_go: Duration::from_secs(10),
        }
    }
}
