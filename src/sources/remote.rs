//! Remote HTTP media: resolution is a one-byte range request that learns the size (from
//! `Content-Range`), the validators and the type, and whether the origin honours ranges.

use std::time::{Duration, SystemTime};

use http::header::{CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, ETAG, LAST_MODIFIED};
use http::StatusCode;

use crate::error::Error;
use crate::upstream::range::{carry_credentials, parse_content_range, range_request};
use crate::upstream::{redact, ControlClient, Locator, RangeStyle};

/// Remote media by URL; cheap to clone.
#[derive(Clone)]
pub struct RemoteSource {
    client: ControlClient,
    timeout: Duration,
    /// How long a probe's answer is trusted before the next play probes again.
    ttl: Duration,
}

impl RemoteSource {
    pub fn new(client: ControlClient, timeout: Duration, ttl: Duration) -> Self {
        RemoteSource { client, timeout, ttl }
    }

    /// A locator for the media at `url`, served as `mime`, probed for its size and validators.
    pub async fn resolve(&self, url: &str, mime: &str) -> Result<Locator, Error> {
        let url: url::Url = url
            .parse()
            .map_err(|e: url::ParseError| Error::upstream_because("the track's stored URL is not valid", e))?;
        let locator = Locator {
            url,
            headers: Vec::new(),
            mime: mime.to_owned(),
            size: None,
            etag: None,
            last_modified: None,
            expires_at: Some(SystemTime::now() + self.ttl),
            range_style: RangeStyle::Header,
            supports_ranges: true,
            max_chunk: None,
            format_id: None,
            available_at: None,
        };
        complete(&self.client, locator, self.timeout).await
    }
}

/// What a one-byte range request tells about a media URL.
#[derive(Debug, Clone)]
pub struct Probe {
    /// After redirects.
    pub final_url: url::Url,
    pub size: Option<u64>,
    pub supports_ranges: bool,
    pub content_type: Option<String>,
    /// Strong ETags only: a weak one cannot validate byte ranges.
    pub etag: Option<String>,
    pub last_modified: Option<SystemTime>,
}

/// Fills in what a one-byte probe learns (size, validators, range support, the URL after
/// redirects; the type only if the locator has none), with the locator's headers.
///
/// The probe always asks with a `Range` header, whatever the locator's style: googlevideo
/// answers its `range=` query parameter with a 200 whose Content-Length is the range's (so a
/// one-byte probe would read a size of 1), and the header with a 206 carrying the total
/// (piped-proxy `src/main.rs` `handle_range_response_correction`; yt-dlp's own downloader
/// sends `Range: bytes=a-b`, `downloader/http.py`).
pub async fn complete(client: &ControlClient, mut locator: Locator, timeout: Duration) -> Result<Locator, Error> {
    let by_header = Locator {
        range_style: RangeStyle::Header,
        supports_ranges: true,
        ..locator.clone()
    };
    let (url, headers) = range_request(&by_header, 0, 0);
    let probe = probe_with_retries(client, &url, &headers, timeout).await?;
    locator.url = match locator.range_style {
        RangeStyle::Header => carry_credentials(&locator.url, probe.final_url),
        RangeStyle::QueryParam(_) => locator.url, // the probe's URL carries its own range
    };
    locator.size = locator.size.or(probe.size);
    locator.etag = probe.etag;
    locator.last_modified = probe.last_modified;
    locator.supports_ranges = probe.supports_ranges;
    if locator.mime == "application/octet-stream" {
        if let Some(t) = probe
            .content_type
            .filter(|t| t.starts_with("audio/") || t.starts_with("video/"))
        {
            locator.mime = t;
        }
    }
    Ok(locator)
}

/// Probes at most this many times when the origin answers a server error (5xx, 429): a
/// hiccup of the origin should not fail a play, as it does not end a stream (the proxy retries
/// those too).
const PROBE_ATTEMPTS: u32 = 3;

async fn probe_with_retries(
    client: &ControlClient,
    url: &url::Url,
    headers: &http::HeaderMap,
    timeout: Duration,
) -> Result<Probe, Error> {
    let mut attempt = 1;
    loop {
        match probe(client, url, headers, timeout).await {
            Err(ProbeFailure::Answered(status))
                if (status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS)
                    && attempt < PROBE_ATTEMPTS =>
            {
                tracing::info!(url = %redact(url), %status, attempt, "probe failed; retrying");
                tokio::time::sleep(Duration::from_millis(100 << attempt)).await;
                attempt += 1;
            }
            Err(ProbeFailure::Answered(status)) => {
                return Err(Error::upstream(format!("{} answered {status}", redact(url))))
            }
            Err(ProbeFailure::Failed(e)) => return Err(e),
            Ok(probe) => return Ok(probe),
        }
    }
}

enum ProbeFailure {
    /// The origin answered, with a status that says nothing of the media.
    Answered(StatusCode),
    Failed(Error),
}

async fn probe(
    client: &ControlClient,
    url: &url::Url,
    headers: &http::HeaderMap,
    timeout: Duration,
) -> Result<Probe, ProbeFailure> {
    let response = client
        .get(url, headers.clone(), timeout)
        .await
        .map_err(ProbeFailure::Failed)?;
    let status = response.status();
    let header = |name| {
        response
            .headers()
            .get(name)
            .and_then(|v: &http::HeaderValue| v.to_str().ok())
    };
    let (size, supports_ranges) = match status {
        StatusCode::PARTIAL_CONTENT => (
            header(CONTENT_RANGE)
                .and_then(parse_content_range)
                .and_then(|r| r.total),
            true,
        ),
        StatusCode::OK => (header(CONTENT_LENGTH).and_then(|l| l.parse().ok()), false),
        StatusCode::RANGE_NOT_SATISFIABLE => (Some(0), true),
        s => return Err(ProbeFailure::Answered(s)),
    };
    Ok(Probe {
        final_url: response.url().clone(),
        size,
        supports_ranges,
        content_type: header(CONTENT_TYPE).map(|t| t.split(';').next().unwrap_or(t).trim().to_ascii_lowercase()),
        etag: header(ETAG).filter(|e| !e.starts_with("W/")).map(str::to_owned),
        last_modified: header(LAST_MODIFIED).and_then(|d| httpdate::parse_http_date(d).ok()),
    })
    // Dropping `response` here closes the connection without reading more than the one byte.
}
