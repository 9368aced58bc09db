//! What a URL holds, read for an import: a direct media file, an M3U/M3U8/PLS playlist of
//! media URLs, or a podcast (RSS/Atom) feed. One range request for the first 64 KiB tells which it is (type,
//! extension, first bytes); playlists and feeds are then read whole (up to 4 MiB).

use std::time::Duration;

use http::header::{CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, RANGE};
use http::StatusCode;

use super::remote_tags;
use crate::error::Error;
use crate::formats;
use crate::formats::playlist::{self as playlist_formats, PlaylistFile};
use crate::model::{
    duration_ms_of_secs, Import, NewPlaylist, NewRemoteTrack, PlaylistKind, SkippedEntry, SourceKind, TrackInfo,
};
use crate::upstream::range::{carry_credentials, parse_content_range};
use crate::upstream::{redact, without_password, ControlClient};

const SNIFF_BYTES: u64 = 64 * 1024;
const MAX_DOCUMENT: usize = 4 * 1024 * 1024;
const MAX_ENTRIES: usize = 5000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Media,
    M3u,
    Pls,
    Feed,
    Hls,
    Unknown,
}

/// What a URL holds, from its path, its Content-Type and its first bytes.
pub fn classify(path: &str, content_type: Option<&str>, head: &[u8]) -> Kind {
    let text = String::from_utf8_lossy(&head[..head.len().min(4096)]);
    let start = text.trim_start_matches('\u{feff}').trim_start();
    let ext = path
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    let ct = content_type.unwrap_or("");
    let m3u_type = ["mpegurl", "x-mpegurl", "vnd.apple.mpegurl"]
        .iter()
        .any(|t| ct.ends_with(t));
    if start.starts_with("#EXTM3U") || m3u_type || ext == "m3u" || ext == "m3u8" {
        return if playlist_formats::is_hls(&text) {
            Kind::Hls
        } else {
            Kind::M3u
        };
    }
    if start.to_ascii_lowercase().starts_with("[playlist]") || ct.ends_with("x-scpls") || ext == "pls" {
        return Kind::Pls;
    }
    if start.starts_with("<?xml")
        || start.starts_with("<rss")
        || start.starts_with("<feed")
        || ct.contains("rss")
        || ct.contains("atom")
    {
        return Kind::Feed;
    }
    if media_mime(content_type, path).is_some() {
        return Kind::Media;
    }
    Kind::Unknown
}

/// The Content-Type to stream media with: the origin's if it is audio (or an audio-capable
/// container), else one guessed from the extension; None if neither says audio.
pub fn media_mime(content_type: Option<&str>, path: &str) -> Option<String> {
    let playable =
        |t: &str| t.starts_with("audio/") || ["video/mp4", "video/webm", "video/ogg", "application/ogg"].contains(&t);
    let normalise = |t: &str| match t {
        "audio/mp3" | "audio/x-mp3" | "audio/mpeg3" => "audio/mpeg".to_owned(),
        "audio/x-m4a" | "audio/m4a" => "audio/mp4".to_owned(),
        "audio/x-flac" => "audio/flac".to_owned(),
        "audio/opus" => "audio/ogg".to_owned(),
        t => t.to_owned(),
    };
    if let Some(t) = content_type.filter(|t| playable(t)) {
        return Some(normalise(t));
    }
    let guessed = match path.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).as_deref() {
        Some("opus") | Some("oga") | Some("ogg") => Some("audio/ogg".to_owned()),
        Some("m4a") | Some("m4b") => Some("audio/mp4".to_owned()),
        _ => mime_guess::from_path(path).first().map(|m| m.essence_str().to_owned()),
    };
    guessed.filter(|t| playable(t)).map(|t| normalise(&t))
}

/// Fetches and reads `url`.
pub async fn read(client: &ControlClient, raw_url: &str, timeout: Duration) -> Result<Import, Error> {
    let url = parse_http_url(raw_url)?;
    let mut sniff = http::HeaderMap::new();
    let range = format!("bytes=0-{}", SNIFF_BYTES - 1);
    sniff.insert(RANGE, http::HeaderValue::try_from(range).expect("an ASCII header"));
    let response = client.get(&url, sniff, timeout).await?;
    let status = response.status();
    if !status.is_success() {
        return Err(Error::upstream(format!("{} answered {status}", redact(&url))));
    }
    let final_url = carry_credentials(&url, response.url().clone());
    let header = |name| {
        response
            .headers()
            .get(name)
            .and_then(|v: &http::HeaderValue| v.to_str().ok())
            .map(str::to_owned)
    };
    let content_type = header(CONTENT_TYPE).map(|t| t.split(';').next().unwrap_or("").trim().to_ascii_lowercase());
    let size = match status {
        StatusCode::PARTIAL_CONTENT => header(CONTENT_RANGE)
            .as_deref()
            .and_then(parse_content_range)
            .and_then(|r| r.total),
        _ => header(CONTENT_LENGTH).and_then(|l| l.parse().ok()),
    };
    let head = read_at_most(response, SNIFF_BYTES as usize, timeout).await?;
    match classify(final_url.path(), content_type.as_deref(), &head) {
        Kind::Media => {
            let mime = media_mime(content_type.as_deref(), final_url.path()).expect("classified as media");
            let info = match size {
                Some(size) if size > 0 => remote_tags::read(client.clone(), final_url.clone(), size, timeout).await,
                _ => None,
            };
            let info = info.unwrap_or_default();
            let title = info.title.clone().unwrap_or_else(|| title_from_url(&url));
            Ok(Import {
                tracks: vec![NewRemoteTrack {
                    source: SourceKind::Http,
                    id: None,
                    artwork: None,
                    url: url.to_string(),
                    title,
                    info,
                    mime,
                    size,
                }],
                ..Import::default()
            })
        }
        Kind::Hls => Err(Error::Unsupported(
            "HLS streams (#EXT-X- playlists) are not supported".into(),
        )),
        Kind::Unknown => Err(Error::Unsupported(format!(
            "{} is not an audio file, an M3U/PLS playlist or a podcast feed (Content-Type {})",
            redact(&url),
            content_type.as_deref().unwrap_or("none")
        ))),
        kind => {
            let document = fetch_document(client, &url, timeout).await?;
            let mut import = match kind {
                Kind::Feed => from_feed(&document, &url)?,
                Kind::Pls => from_playlist(
                    playlist_formats::parse_pls(&String::from_utf8_lossy(&document)),
                    &final_url,
                    &url,
                ),
                _ => from_playlist(
                    playlist_formats::parse_m3u(&String::from_utf8_lossy(&document)),
                    &final_url,
                    &url,
                ),
            };
            if import.tracks.is_empty() {
                return Err(Error::Unsupported(format!(
                    "{} lists no playable http(s) media",
                    redact(&url)
                )));
            }
            import.tracks.truncate(MAX_ENTRIES);
            Ok(import)
        }
    }
}

fn parse_http_url(raw: &str) -> Result<url::Url, Error> {
    let url: url::Url = raw
        .trim()
        .parse()
        .map_err(|e| Error::BadRequest(format!("url is not a valid URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(Error::BadRequest("url must be an http or https URL".into()));
    }
    Ok(url)
}

/// Reads up to `limit` bytes of the body, then drops the rest (closing the connection).
async fn read_at_most(mut response: reqwest::Response, limit: usize, timeout: Duration) -> Result<Vec<u8>, Error> {
    let mut body = Vec::new();
    while body.len() < limit {
        match tokio::time::timeout(timeout, response.chunk()).await {
            Ok(Ok(Some(chunk))) => body.extend_from_slice(&chunk[..chunk.len().min(limit - body.len())]),
            Ok(Ok(None)) => break,
            Ok(Err(e)) => {
                return Err(Error::upstream_because(
                    format!("reading {} failed", redact(response.url())),
                    e.without_url(),
                ))
            }
            Err(_) => return Err(Error::UpstreamTimeout(format!("{} stalled", redact(response.url())))),
        }
    }
    Ok(body)
}

async fn fetch_document(client: &ControlClient, url: &url::Url, timeout: Duration) -> Result<Vec<u8>, Error> {
    let response = client.get(url, http::HeaderMap::new(), timeout).await?;
    if !response.status().is_success() {
        return Err(Error::upstream(format!(
            "{} answered {}",
            redact(url),
            response.status()
        )));
    }
    if response.content_length().is_some_and(|l| l > MAX_DOCUMENT as u64) {
        return Err(Error::Unsupported(format!(
            "{} is larger than {MAX_DOCUMENT} bytes",
            redact(url)
        )));
    }
    let body = read_at_most(response, MAX_DOCUMENT + 1, timeout).await?;
    if body.len() > MAX_DOCUMENT {
        return Err(Error::Unsupported(format!(
            "{} is larger than {MAX_DOCUMENT} bytes",
            redact(url)
        )));
    }
    Ok(body)
}

/// The last path segment, decoded, without extension: a title of last resort.
pub fn title_from_url(url: &url::Url) -> String {
    let segment = url.path_segments().and_then(|mut s| s.next_back()).unwrap_or("");
    let decoded = percent_encoding::percent_decode_str(segment).decode_utf8_lossy();
    let stem = decoded
        .rsplit_once('.')
        .map_or(decoded.as_ref(), |(s, _)| s)
        .trim()
        .to_owned();
    if stem.is_empty() {
        url.host_str().unwrap_or("Untitled").to_owned()
    } else {
        stem
    }
}

fn from_playlist(file: PlaylistFile, base: &url::Url, original: &url::Url) -> Import {
    let mut import = Import::default();
    for entry in file.entries {
        let Ok(url) = base.join(&entry.location) else {
            import.skipped.push(SkippedEntry {
                location: without_password(&entry.location),
                reason: "not a URL".into(),
            });
            continue;
        };
        if !matches!(url.scheme(), "http" | "https") {
            import.skipped.push(SkippedEntry {
                location: without_password(&entry.location),
                reason: "only http(s) entries can be added".into(),
            });
            continue;
        }
        // `#EXTINF:123,Artist - Title` is the common convention.
        let (artist, title) = match entry.title.as_deref().and_then(|t| t.split_once(" - ")) {
            Some((a, t)) => (Some(a.trim().to_owned()), t.trim().to_owned()),
            None => (None, entry.title.clone().unwrap_or_else(|| title_from_url(&url))),
        };
        let info = TrackInfo {
            artist,
            duration_ms: entry.duration.and_then(duration_ms_of_secs),
            ..TrackInfo::default()
        };
        let mime = media_mime(None, url.path()).unwrap_or_else(|| "application/octet-stream".into());
        import.tracks.push(NewRemoteTrack {
            source: SourceKind::Http,
            id: None,
            artwork: None,
            url: url.to_string(),
            title,
            info,
            mime,
            size: None,
        });
    }
    let name = file.name.unwrap_or_else(|| title_from_url(original));
    import.playlist = Some(NewPlaylist {
        kind: PlaylistKind::Remote,
        name,
        url: original.to_string(),
    });
    import
}

fn from_feed(document: &[u8], url: &url::Url) -> Result<Import, Error> {
    let unreadable = || Error::Unsupported(format!("{} is not a readable feed", redact(url)));
    let feed = formats::guarded(|| feed_rs::parser::parse(document))
        .ok_or_else(unreadable)?
        .map_err(|e| {
            tracing::info!(url = %redact(url), error = %e, "not a readable feed");
            unreadable()
        })?;
    let feed_title = feed
        .title
        .map(|t| t.content.trim().to_owned())
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| title_from_url(url));
    let author = feed
        .authors
        .first()
        .map(|a| a.name.trim().to_owned())
        .filter(|a| !a.is_empty());
    let mut import = Import::default();
    for entry in feed.entries {
        let title = entry
            .title
            .map(|t| t.content.trim().to_owned())
            .filter(|t| !t.is_empty());
        let content = entry
            .media
            .iter()
            .flat_map(|m| m.content.iter().map(move |c| (m, c)))
            .find(|(_, c)| {
                // Only what the proxy may fetch: a `file:` enclosure is no podcast episode.
                c.url.as_ref().is_some_and(|u| matches!(u.scheme(), "http" | "https"))
                    && media_mime(
                        c.content_type.as_ref().map(|t| t.to_string()).as_deref(),
                        c.url.as_ref().map_or("", |u| u.path()),
                    )
                    .is_some()
            });
        let Some((media, content)) = content else {
            import.skipped.push(SkippedEntry {
                location: title.unwrap_or_default(),
                reason: "no http(s) audio enclosure".into(),
            });
            continue;
        };
        let media_url = content.url.clone().expect("filtered above");
        let mime = media_mime(
            content.content_type.as_ref().map(|t| t.to_string()).as_deref(),
            media_url.path(),
        )
        .expect("filtered above");
        let duration = content.duration.or(media.duration);
        let info = TrackInfo {
            artist: author.clone().or_else(|| Some(feed_title.clone())),
            album: Some(feed_title.clone()),
            genre: Some("Podcast".into()),
            year: entry.published.and_then(|d| d.format("%Y").to_string().parse().ok()),
            duration_ms: duration.and_then(|d| i64::try_from(d.as_millis()).ok()),
            ..TrackInfo::default()
        };
        let title = title.unwrap_or_else(|| title_from_url(&media_url));
        // The enclosure's length is often 0 or wrong: the size is learnt when the episode is played.
        import.tracks.push(NewRemoteTrack {
            source: SourceKind::Http,
            id: None,
            artwork: None,
            url: media_url.to_string(),
            title,
            info,
            mime,
            size: None,
        });
    }
    import.playlist = Some(NewPlaylist {
        kind: PlaylistKind::Feed,
        name: feed_title,
        url: url.to_string(),
    });
    Ok(import)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// A podcast feed item as feeds write them, and as broken or hostile ones do.
    fn feed_item() -> impl Strategy<Value = String> {
        let text = "\\PC{0,16}".prop_map(|t| t.replace('&', "&amp;").replace('<', "&lt;"));
        let url = prop_oneof![
            "https?://[a-z]{1,8}\\.example/[a-z]{0,8}\\.(mp3|m4a|opus|txt)",
            "(file|javascript|data|ftp):[a-z/]{0,12}\\.mp3",
            "[a-z/.]{0,12}",
        ];
        let kind = prop_oneof![Just("audio/mpeg"), Just("text/html"), Just(""), Just("audio/x-m4a")];
        let length = prop_oneof!["[0-9]{0,25}", "-[0-9]{1,5}", "\\PC{0,6}"];
        let duration = prop_oneof![
            "[0-9]{1,3}:[0-9]{1,2}:[0-9]{1,2}",
            "[0-9]{0,25}",
            "-[0-9]{1,4}",
            "\\PC{0,8}"
        ];
        let date = prop_oneof![Just("Tue, 10 Jun 2003 04:00:00 GMT".to_owned()), "\\PC{0,20}"];
        (text, url, kind, length, duration, date).prop_map(|(title, url, kind, length, duration, date)| {
            let esc = |t: &str| t.replace('&', "&amp;").replace('<', "&lt;").replace('"', "&quot;");
            format!(
                "<item><title>{title}</title><pubDate>{}</pubDate><itunes:duration>{}</itunes:duration>\
                 <enclosure url=\"{}\" type=\"{kind}\" length=\"{}\"/></item>",
                esc(&date),
                esc(&duration),
                esc(&url),
                esc(&length)
            )
        })
    }

    /// Found by `any_feed_imports_or_fails_cleanly`: feed-rs panics on an `<itunes:duration>`
    /// beyond u64 (feed-rs 2.4.0 `parse_npt`, still in 3.0.0).
    #[test]
    fn a_feed_that_panics_its_parser_is_an_error() {
        let feed = br#"<?xml version="1.0"?><rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"><channel><title>Show</title>
            <item><itunes:duration>20000000000000000000</itunes:duration><enclosure url="https://cdn.example/a.mp3" type="audio/mpeg"/></item>
            </channel></rss>"#;
        let error = from_feed(feed, &url::Url::parse("https://feeds.example/show.xml").unwrap()).unwrap_err();
        assert!(matches!(error, Error::Unsupported(_)), "{error:?}");
    }

    /// Found by `any_feed_imports_or_fails_cleanly`: a feed's `file:` enclosure was added.
    #[test]
    fn a_feed_enclosure_that_is_not_http_is_skipped() {
        let feed = br#"<?xml version="1.0"?><rss version="2.0"><channel><title>Show</title>
            <item><title>Local</title><enclosure url="file:///etc/passwd.mp3" type="audio/mpeg" length="1"/></item>
            <item><title>Remote</title><enclosure url="https://cdn.example/a.mp3" type="audio/mpeg" length="1"/></item>
            </channel></rss>"#;
        let import = from_feed(feed, &url::Url::parse("https://feeds.example/show.xml").unwrap()).unwrap();
        assert_eq!(import.tracks.len(), 1);
        assert_eq!(import.tracks[0].url, "https://cdn.example/a.mp3");
        assert_eq!(import.skipped[0].location, "Local");
    }

    proptest! {
        /// Any feed: an import whose tracks are http(s) media, or a clear error; never a panic.
        #[test]
        fn any_feed_imports_or_fails_cleanly(items in proptest::collection::vec(feed_item(), 0..6), cut in any::<prop::sample::Index>(), whole: bool) {
            let mut document = format!(
                "<?xml version=\"1.0\"?><rss version=\"2.0\" xmlns:itunes=\"http://www.itunes.com/dtds/podcast-1.0.dtd\">\
                 <channel><title>Show</title>{}</channel></rss>",
                items.concat()
            );
            if !whole {
                let at = cut.index(document.len() + 1);
                document.truncate((0..=at).rev().find(|&i| document.is_char_boundary(i)).unwrap_or(0));
            }
            let url = url::Url::parse("https://feeds.example/show.xml").unwrap();
            if let Ok(import) = from_feed(document.as_bytes(), &url) {
                prop_assert!(import.tracks.len() + import.skipped.len() <= items.len());
                for track in &import.tracks {
                    prop_assert!(track.url.starts_with("http://") || track.url.starts_with("https://"), "{}", track.url);
                    prop_assert!(track.info.duration_ms.is_none_or(|ms| ms >= 0));
                }
            }
        }

        #[test]
        fn any_classification_input_never_panics(path in "\\PC{0,20}", content_type in proptest::option::of("\\PC{0,20}"), head in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = classify(&path, content_type.as_deref(), &head);
            let _ = media_mime(content_type.as_deref(), &path);
        }
    }

    #[test]
    fn classifies_by_content_type_extension_and_content() {
        assert_eq!(classify("/a.mp3", Some("audio/mpeg"), b"ID3"), Kind::Media);
        assert_eq!(classify("/a.bin", Some("audio/ogg"), b"OggS"), Kind::Media);
        assert_eq!(
            classify("/a.flac", Some("application/octet-stream"), b"fLaC"),
            Kind::Media
        );
        assert_eq!(
            classify("/list", Some("text/plain"), b"#EXTM3U\n#EXTINF:1,a\nx.mp3\n"),
            Kind::M3u
        );
        assert_eq!(
            classify("/list.m3u8", None, b"#EXTM3U\n#EXT-X-VERSION:3\nseg.ts\n"),
            Kind::Hls
        );
        assert_eq!(
            classify("/radio.pls", Some("audio/x-scpls"), b"[playlist]\nFile1=x\n"),
            Kind::Pls
        );
        assert_eq!(
            classify("/feed", Some("application/rss+xml"), b"<?xml version=\"1.0\"?><rss>"),
            Kind::Feed
        );
        assert_eq!(
            classify("/feed", Some("text/xml"), b"\n  <rss version=\"2.0\">"),
            Kind::Feed
        );
        assert_eq!(classify("/page", Some("text/html"), b"<!doctype html>"), Kind::Unknown);
    }

    #[test]
    fn media_types_are_normalised() {
        assert_eq!(media_mime(Some("audio/mp3"), "/x"), Some("audio/mpeg".into()));
        assert_eq!(media_mime(Some("text/plain"), "/x.opus"), Some("audio/ogg".into()));
        assert_eq!(media_mime(None, "/x.m4a"), Some("audio/mp4".into()));
        assert_eq!(media_mime(Some("text/html"), "/x.html"), None);
    }

    #[test]
    fn titles_from_urls() {
        assert_eq!(
            title_from_url(&"http://h/music/My%20Song.mp3?x=1".parse().unwrap()),
            "My Song"
        );
        assert_eq!(title_from_url(&"http://host.example/".parse().unwrap()), "host.example");
    }

    /// A duration no track has (issue 16: `#EXTINF:100000000000000000,x` overflowed a
    /// multiplication) is no duration, not a panic or a wrapped number.
    #[test]
    fn absurd_playlist_durations_are_dropped() {
        let file = playlist_formats::parse_m3u(
            "#EXTM3U\n#EXTINF:100000000000000000,x\na.mp3\n#EXTINF:1e300,y\nb.mp3\n#EXTINF:-5,z\nc.mp3\n",
        );
        let base: url::Url = "http://h/l.m3u".parse().unwrap();
        let import = from_playlist(file, &base, &base);
        let durations: Vec<_> = import.tracks.iter().map(|t| t.info.duration_ms).collect();
        assert_eq!(durations, [None, None, None]);
        let pls = playlist_formats::parse_pls("[playlist]\nFile1=a.mp3\nLength1=9223372036854775807\n");
        let import = from_playlist(pls, &base, &base);
        assert_eq!(import.tracks[0].info.duration_ms, None);
    }

    #[test]
    fn playlist_entries_resolve_against_the_playlist() {
        let file = playlist_formats::parse_m3u(
            "#EXTM3U\n#EXTINF:61,Band - Song\nsong.mp3\nftp://x/y.mp3\nhttp://other/z.ogg\n",
        );
        let base: url::Url = "http://h/lists/l.m3u".parse().unwrap();
        let import = from_playlist(file, &base, &base);
        let urls: Vec<&str> = import.tracks.iter().map(|t| t.url.as_str()).collect();
        assert_eq!(urls, vec!["http://h/lists/song.mp3", "http://other/z.ogg"]);
        assert_eq!(import.tracks[0].title, "Song");
        assert_eq!(import.tracks[0].info.artist.as_deref(), Some("Band"));
        assert_eq!(import.tracks[0].info.duration_ms, Some(61_000));
        assert_eq!(import.skipped.len(), 1);
        assert_eq!(import.playlist.unwrap().name, "l");
    }

    #[test]
    fn feeds_become_episodes() {
        let rss = br#"<?xml version="1.0"?><rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"><channel>
            <title>Loopback Radio</title>
            <item><title>Episode 1</title><pubDate>Mon, 02 Mar 2026 10:00:00 GMT</pubDate>
              <enclosure url="http://h/ep1.mp3" length="0" type="audio/mpeg"/><itunes:duration>00:01:05</itunes:duration></item>
            <item><title>Show notes only</title></item>
        </channel></rss>"#;
        let import = from_feed(rss, &"http://h/feed.xml".parse().unwrap()).unwrap();
        assert_eq!(import.tracks.len(), 1);
        let ep = &import.tracks[0];
        assert_eq!(
            (ep.title.as_str(), ep.url.as_str(), ep.mime.as_str()),
            ("Episode 1", "http://h/ep1.mp3", "audio/mpeg")
        );
        assert_eq!(ep.info.album.as_deref(), Some("Loopback Radio"));
        assert_eq!(ep.info.year, Some(2026));
        assert_eq!(ep.info.duration_ms, Some(65_000));
        assert_eq!(import.skipped.len(), 1);
        assert_eq!(import.playlist.unwrap().kind, PlaylistKind::Feed);
    }
}
