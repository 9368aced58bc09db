//! YouTube (and every yt-dlp site) as a source: search, listing pages and playlists, lazy
//! resolution of the best audio format for the client, and YouTube's autocomplete.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};

use http::header::{HeaderName, HeaderValue};

use super::remote;
use super::ytdlp::{Entry, Environment, Execution, Listing, YtDlp, YtDlpConfig};
use crate::error::Error;
use crate::model::{duration_ms, Live, NewRemoteTrack, SourceKind, Track, TrackId, TrackInfo, Variant};
use crate::upstream::{ControlClient, Locator};

/// How long search results are reused.
const SEARCH_TTL: Duration = Duration::from_secs(600);
/// Tracks seen in search results, kept so `GET /tracks/{id}` can describe them.
const SEEN_MAX: usize = 10_000;

/// When a search ran, and what it found.
type CachedSearch = (Instant, Arc<Vec<Track>>);

pub struct YouTubeSource {
    ytdlp: YtDlp,
    http: ControlClient,
    timeout: Duration,
    suggest_url: Option<String>,
    /// None until the first check ends; then the yt-dlp version, or why the source cannot work.
    availability: tokio::sync::watch::Sender<Option<Result<String, String>>>,
    environment: RwLock<Environment>,
    searches: Mutex<HashMap<String, CachedSearch>>,
    seen: Mutex<HashMap<TrackId, Track>>,
}

impl YouTubeSource {
    pub fn new(config: YtDlpConfig, http: ControlClient, timeout: Duration, suggest_url: Option<String>) -> Self {
        YouTubeSource {
            ytdlp: YtDlp::new(config),
            http,
            timeout,
            suggest_url,
            availability: tokio::sync::watch::Sender::new(None),
            environment: RwLock::default(),
            searches: Mutex::default(),
            seen: Mutex::default(),
        }
    }

    /// Runs `yt-dlp --version` and remembers whether the source can work, then what yt-dlp
    /// finds for YouTube (a JavaScript runtime, yt-dlp-ejs), logged and kept for `/healthz`.
    pub async fn check(&self) -> Result<String, String> {
        let result = self.ytdlp.version().await;
        match &result {
            Ok(version) => {
                let (env, ()) = tokio::join!(self.ytdlp.environment(), self.ytdlp.start_workers());
                tracing::info!(%version, js_runtimes = ?env.js_runtimes, yt_dlp_ejs = ?env.yt_dlp_ejs, "yt-dlp found: the YouTube source is available");
                if !env.js_runtime_usable || env.yt_dlp_ejs.is_none() {
                    tracing::warn!(
                        "yt-dlp has no usable JavaScript runtime or no yt-dlp-ejs: YouTube will miss formats or videos \
                         (install deno, or node 22+ with --yt-dlp-arg=--js-runtimes --yt-dlp-arg=node, and pip install yt-dlp-ejs)"
                    );
                }
                *self.environment.write().unwrap_or_else(|p| p.into_inner()) = env;
            }
            Err(reason) => tracing::warn!(%reason, "the YouTube source is unavailable"),
        }
        self.availability.send_replace(Some(result.clone()));
        result
    }

    /// What yt-dlp found for YouTube extraction at the last check.
    pub fn environment(&self) -> Environment {
        self.environment.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// How yt-dlp runs (warm workers or a process per call).
    pub fn execution(&self) -> Execution {
        self.ytdlp.execution()
    }

    /// The yt-dlp version (the workers' own once they run, so an upgrade shows), or why the
    /// source is unavailable (now: "not checked yet" while the start-up check runs).
    pub fn availability(&self) -> Result<String, String> {
        let checked = self
            .availability
            .borrow()
            .clone()
            .unwrap_or_else(|| Err("not checked yet".into()))?;
        Ok(self.ytdlp.worker_version().unwrap_or(checked))
    }

    /// The source, if it is on (`--youtube`) and yt-dlp works; else why not, as a 503. A
    /// request that comes while the start-up check runs waits for it (issue 16: it was a 503).
    pub async fn usable(source: Option<&YouTubeSource>) -> Result<&YouTubeSource, Error> {
        let source = source.ok_or_else(Error::youtube_off)?;
        let mut checked = source.availability.subscribe();
        // The check itself gives up after 20 s (`YtDlp::version`).
        let _ = tokio::time::timeout(Duration::from_secs(30), checked.wait_for(Option::is_some)).await;
        source
            .availability()
            .map_err(|reason| Error::SourceUnavailable(format!("the YouTube source is unavailable: {reason}")))?;
        Ok(source)
    }

    pub async fn search(&self, query: &str, limit: usize) -> Result<Arc<Vec<Track>>, Error> {
        let key = format!("{limit}:{query}");
        if let Some((at, tracks)) = self.searches.lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
            if at.elapsed() < SEARCH_TTL {
                return Ok(tracks.clone());
            }
        }
        let listing = self.ytdlp.search(query, limit).await?;
        let tracks: Arc<Vec<Track>> = Arc::new(listing.entries.iter().map(entry_track).collect());
        {
            let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
            if seen.len() > SEEN_MAX {
                seen.clear();
            }
            seen.extend(tracks.iter().map(|t| (t.id.clone(), t.clone())));
        }
        let mut searches = self.searches.lock().unwrap_or_else(|p| p.into_inner());
        searches.retain(|_, (at, _)| at.elapsed() < SEARCH_TTL);
        searches.insert(key, (Instant::now(), tracks.clone()));
        Ok(tracks)
    }

    /// A track seen in recent search results.
    pub fn seen(&self, id: &TrackId) -> Option<Track> {
        self.seen.lock().unwrap_or_else(|p| p.into_inner()).get(id).cloned()
    }

    /// What `url` holds, as tracks to store (at most `max` entries of a playlist).
    pub async fn list(&self, url: &str, max: usize, playlist: bool) -> Result<(Listing, Vec<NewRemoteTrack>), Error> {
        self.http.admit_for_program(url).await?;
        let listing = self.ytdlp.list(url, max, playlist).await?;
        let tracks = listing.entries.iter().map(new_track).collect();
        Ok((listing, tracks))
    }

    /// Completions from YouTube's suggestion service (Firefox's JSON format:
    /// `["query", ["completion", ...]]`), in `language` (`hl=`) when given.
    ///
    /// Asked for UTF-8 (`oe=utf-8`), and decoded by the charset the answer names all the same:
    /// without `oe` the service answers in a legacy charset of the language
    /// (`text/javascript; charset=ISO-8859-1`, FirefoxLite#884).
    pub async fn suggest(&self, prefix: &str, limit: usize, language: Option<&str>) -> Result<Vec<String>, Error> {
        let Some(base) = &self.suggest_url else {
            return Err(Error::SourceUnavailable("no suggestion service".into()));
        };
        let mut url: url::Url = base
            .parse()
            .map_err(|e| Error::upstream_because("the suggestion service's URL is not valid", e))?;
        url.query_pairs_mut()
            .extend_pairs([("client", "firefox"), ("ds", "yt"), ("oe", "utf-8"), ("q", prefix)])
            .extend_pairs(language.map(|hl| ("hl", hl)));
        let failed = |e: reqwest::Error| Error::upstream_because("YouTube suggestions failed", e.without_url());
        let timed_out = |_| Error::UpstreamTimeout("YouTube suggestions".into());
        let response = self
            .http
            .get(&url, http::HeaderMap::new(), Duration::from_secs(2))
            .await?;
        let content_type = response
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let bytes = tokio::time::timeout(Duration::from_secs(2), response.bytes())
            .await
            .map_err(timed_out)?
            .map_err(failed)?;
        let text = decode_text(&bytes, content_type.as_deref());
        let body: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| Error::upstream_because("unexpected suggestion format", e))?;
        let list = body
            .get(1)
            .and_then(|l| l.as_array())
            .ok_or_else(|| Error::upstream("unexpected suggestion format"))?;
        Ok(list
            .iter()
            .filter_map(|s| s.as_str().map(str::to_owned))
            .take(limit)
            .collect())
    }
}

/// The Content-Type a client gets for `variant` from YouTube (before resolution).
pub fn youtube_mime(variant: Variant) -> &'static str {
    match variant {
        Variant::Opus => "audio/webm",
        Variant::M4a => "audio/mp4",
    }
}

/// `bytes` as text in the charset its Content-Type names (UTF-8 when it names none or one
/// unknown to the Encoding Standard).
pub fn decode_text(bytes: &[u8], content_type: Option<&str>) -> String {
    let charset = content_type.and_then(|t| {
        t.split(';')
            .filter_map(|p| p.trim().split_once('='))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case("charset"))
            .map(|(_, v)| v.trim().trim_matches('"').to_owned())
    });
    let encoding = charset
        .and_then(|c| encoding_rs::Encoding::for_label(c.as_bytes()))
        .unwrap_or(encoding_rs::UTF_8);
    encoding.decode(bytes).0.into_owned()
}

impl YouTubeSource {
    /// The media of the page `url` (track `track_id`) in the best format for `variant`, or in
    /// the format `pin` (a re-resolution mid-stream must keep the bytes it plays).
    pub async fn resolve(
        &self,
        track_id: &TrackId,
        url: &str,
        variant: Variant,
        pin: Option<&str>,
    ) -> Result<Locator, Error> {
        // Search results say what is live or upcoming: refused before any extraction.
        if let Some(seen) = self.seen(track_id) {
            match seen.live {
                Some(Live::Live) => return Err(Error::LiveStream),
                Some(Live::Upcoming) => return Err(Error::NotYetAvailable(seen.starts_at)),
                None => {}
            }
        }
        self.http.admit_for_program(url).await?;
        let format = self.ytdlp.resolve(url, variant, pin).await?;
        let locator = Locator {
            url: format
                .url
                .parse()
                .map_err(|_| Error::source_failed("yt-dlp returned a malformed URL"))?,
            headers: format
                .headers
                .iter()
                .filter_map(|(k, v)| {
                    Some((
                        HeaderName::from_bytes(k.as_bytes()).ok()?,
                        HeaderValue::from_str(v).ok()?,
                    ))
                })
                .collect(),
            mime: format.mime,
            size: format.size,
            etag: None,
            last_modified: None,
            // Without an expiry in the URL, trust a resolution for an hour.
            expires_at: Some(
                format
                    .expires_at
                    .unwrap_or_else(|| SystemTime::now() + Duration::from_secs(3600)),
            ),
            range_style: format.range_style,
            supports_ranges: true,
            max_chunk: format.max_chunk,
            format_id: format.format_id,
            available_at: format.available_at,
        };
        // The size must be known before the first byte goes out; a one-byte probe learns it
        // (and the validators) when yt-dlp did not say.
        let locator = if locator.size.is_some() {
            locator
        } else {
            remote::complete(&self.http, locator, self.timeout).await?
        };
        Ok(locator)
    }
}

fn source_of(entry: &Entry) -> SourceKind {
    entry.track_id.scheme_source().unwrap_or(SourceKind::YtDlp)
}

/// yt-dlp's `live_status` as `Track::live` (`was_live`, `post_live`, `not_live`: playable).
fn live_of(e: &Entry) -> Option<Live> {
    match e.live_status.as_deref() {
        Some("is_live") => Some(Live::Live),
        Some("is_upcoming") => Some(Live::Upcoming),
        _ => None,
    }
}

/// A search result as the API shows tracks.
fn entry_track(e: &Entry) -> Track {
    Track {
        id: e.track_id.clone(),
        source: source_of(e),
        title: e.title.clone(),
        artist: e.artist.clone(),
        album: e.album.clone(),
        album_artist: None,
        track_number: None,
        disc_number: None,
        year: None,
        genre: None,
        duration: e.duration,
        codec: None,
        mime: "audio/webm".into(),
        bitrate: None,
        sample_rate: None,
        channels: None,
        size: None,
        artwork: e.thumbnail.clone(),
        live: live_of(e),
        starts_at: e.release_timestamp.filter(|_| live_of(e) == Some(Live::Upcoming)),
    }
}

fn new_track(e: &Entry) -> NewRemoteTrack {
    NewRemoteTrack {
        source: source_of(e),
        id: Some(e.track_id.clone()),
        url: e.url.clone(),
        title: e.title.clone(),
        info: TrackInfo {
            artist: e.artist.clone(),
            album: e.album.clone(),
            duration_ms: e.duration.and_then(duration_ms),
            ..TrackInfo::default()
        },
        mime: "audio/webm".into(),
        size: None,
        artwork: e.thumbnail.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::decode_text;

    #[test]
    fn suggestions_are_decoded_by_their_charset() {
        // "zoë" as ISO-8859-1 (0xEB), as the service answers without oe=utf-8.
        let latin1 = b"[\"zo\",[\"zo\xeb l\xe9mieux\"]]";
        assert_eq!(
            decode_text(latin1, Some("text/javascript; charset=ISO-8859-1")),
            "[\"zo\",[\"zoë lémieux\"]]"
        );
        let utf8 = "[\"zo\",[\"zoë\"]]";
        assert_eq!(
            decode_text(utf8.as_bytes(), Some("text/javascript; charset=UTF-8")),
            utf8
        );
        assert_eq!(decode_text(utf8.as_bytes(), None), utf8);
        assert_eq!(
            decode_text(utf8.as_bytes(), Some("text/javascript; charset=nonsense")),
            utf8
        );
    }
}
