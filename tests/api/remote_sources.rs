//! Adding remote media by URL: direct files (tags read through range requests), M3U and PLS
//! playlists, podcast feeds; and every way that can go wrong.

use bytes::Bytes;

use crate::origin::{Content, Faults, Origin};
use crate::support::{spawn_app, titles, MORNING_DRIFT};

fn demo_file(relative: &str) -> Bytes {
    std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("demo/library")
            .join(relative),
    )
    .unwrap()
    .into()
}

fn text(content_type: &'static str) -> Faults {
    Faults {
        content_type: Some(content_type),
        ..Default::default()
    }
}

#[tokio::test]
async fn a_media_url_becomes_a_searchable_playable_track_with_its_tags() {
    let origin = Origin::start().await;
    let mp3 = demo_file(MORNING_DRIFT);
    let url = origin.put("music/drift.mp3", Content::Bytes(mp3.clone()), Faults::default());
    let app = spawn_app().await;
    let (status, body) = app.add_http_source(&url).await;
    assert_eq!(status, 201, "{body}");
    let track = &body["tracks"][0];
    assert_eq!(track["source"], "http");
    assert_eq!(track["title"], "Morning Drift");
    assert_eq!(track["artist"], "Aurora Sines");
    assert_eq!(track["codec"], "mp3");
    assert_eq!(track["mime"], "audio/mpeg");
    assert_eq!(track["size"], mp3.len());
    assert!(track["duration"].as_f64().unwrap() > 20.0, "{track}");
    // Tags came from range requests, never the whole file.
    let asked: Vec<String> = origin
        .requests("music/drift.mp3")
        .into_iter()
        .map(|r| r.range.unwrap_or_default())
        .collect();
    assert!(asked.iter().all(|r| r.starts_with("bytes=")), "{asked:?}");

    let (_, found) = app.get_json("/api/v1/search?q=drift").await;
    let ids: Vec<&str> = found["tracks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["source"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 2, "the library track and the remote one: {found}");
    let stream = app.stream_path_of(track["id"].as_str().unwrap()).await;
    let played = app.get(&stream).await.bytes().await.unwrap();
    assert!(played == mp3);

    // Adding it again refreshes the same track.
    let (status, again) = app.add_http_source(&url).await;
    assert_eq!(status, 201);
    assert_eq!(again["tracks"][0]["id"], track["id"]);
    let (_, stats) = app.get_json("/api/v1/stats").await;
    assert_eq!(stats["tracks"], 10);
}

#[tokio::test]
async fn an_m3u_playlist_adds_its_entries_and_a_playlist() {
    let origin = Origin::start().await;
    origin.put("a/one.mp3", Content::Generated(5000), Faults::default());
    origin.put("b/two.ogg", Content::Generated(7000), text("audio/ogg"));
    let m3u = format!(
        "#EXTM3U\n#PLAYLIST:Loopback Mix\n#EXTINF:61,Band One - First Song\na/one.mp3\n#EXTINF:42,Second Song\n{}/b/two.ogg\n/etc/passwd\n",
        origin.base
    );
    let url = origin.put("lists/mix.m3u", Content::Bytes(m3u.into()), text("audio/x-mpegurl"));
    let app = spawn_app().await;
    // Relative entries resolve against the playlist's URL, so a/one.mp3 is under lists/.
    origin.put("lists/a/one.mp3", Content::Generated(5000), Faults::default());
    let (status, body) = app.add_http_source(&url).await;
    assert_eq!(status, 201, "{body}");
    let titles: Vec<&str> = body["tracks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, vec!["First Song", "Second Song", "passwd"]);
    assert_eq!(body["tracks"][0]["artist"], "Band One");
    assert_eq!(body["tracks"][0]["duration"], 61.0);
    assert_eq!(body["playlist"]["name"], "Loopback Mix");
    assert_eq!(body["playlist"]["kind"], "remote");
    assert_eq!(body["playlist"]["track_count"], 3);

    let (_, playlist) = app
        .get_json(&format!(
            "/api/v1/playlists/{}",
            body["playlist"]["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(playlist["tracks"].as_array().unwrap().len(), 3);
    let (_, listed) = app.get_json("/api/v1/playlists?kind=remote").await;
    assert_eq!(listed["total"], 1);

    // The first entry plays through the proxy, byte-exact.
    let stream = app.stream_path_of(body["tracks"][0]["id"].as_str().unwrap()).await;
    let bytes = app.get(&stream).await.bytes().await.unwrap();
    assert_eq!(bytes.len(), 5000);
    assert!(bytes
        .iter()
        .enumerate()
        .all(|(i, b)| *b == crate::origin::pattern(i as u64)));
}

#[tokio::test]
async fn a_pls_playlist_is_read_too() {
    let origin = Origin::start().await;
    let pls = format!(
        "[playlist]\nFile1={0}/x.mp3\nTitle1=Radio X\nFile2={0}/y.mp3\nNumberOfEntries=2\n",
        origin.base
    );
    let url = origin.put("radio.pls", Content::Bytes(pls.into()), text("audio/x-scpls"));
    let app = spawn_app().await;
    let (status, body) = app.add_http_source(&url).await;
    assert_eq!(status, 201, "{body}");
    let titles: Vec<&str> = body["tracks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, vec!["Radio X", "y"]);
}

#[tokio::test]
async fn a_podcast_feed_becomes_episodes_and_a_playlist() {
    let origin = Origin::start().await;
    origin.put("ep1.mp3", Content::Generated(3000), Faults::default());
    let feed = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"><channel>
  <title>Loopback Radio</title><itunes:author>Anya Host</itunes:author>
  <item><title>Épisode un</title><pubDate>Mon, 02 Mar 2026 10:00:00 GMT</pubDate>
    <enclosure url="{0}/ep1.mp3" length="3000" type="audio/mpeg"/><itunes:duration>00:01:05</itunes:duration></item>
  <item><title>Episode two</title><enclosure url="{0}/ep2.m4a" length="0" type="audio/x-m4a"/></item>
  <item><title>Just text</title></item>
</channel></rss>"#,
        origin.base
    );
    let url = origin.put("feed.xml", Content::Bytes(feed.into()), text("application/rss+xml"));
    let app = spawn_app().await;
    let (status, body) = app.add_http_source(&url).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["playlist"]["kind"], "feed");
    assert_eq!(body["playlist"]["name"], "Loopback Radio");
    assert_eq!(body["tracks"].as_array().unwrap().len(), 2);
    assert_eq!(body["tracks"][0]["album"], "Loopback Radio");
    assert_eq!(body["tracks"][0]["genre"], "Podcast");
    assert_eq!(body["tracks"][0]["duration"], 65.0);
    assert_eq!(body["tracks"][1]["mime"], "audio/mp4");
    assert_eq!(body["skipped"].as_array().unwrap().len(), 1);
    let (_, found) = app.get_json("/api/v1/search?q=episode%20un").await;
    assert_eq!(found["tracks"][0]["title"], "Épisode un");
    let (_, suggested) = app.get_json("/api/v1/suggest?q=loopb").await;
    assert_eq!(suggested["suggestions"][0]["text"], "Loopback Radio");

    // The source filter: remote media alone, or library files alone.
    let (_, remote) = app.get_json("/api/v1/search?q=episode&source=remote").await;
    assert_eq!(
        (remote["total"].as_u64(), titles(&remote).len()),
        (Some(2), 2),
        "{remote}"
    );
    let (_, local) = app.get_json("/api/v1/search?q=episode&source=local").await;
    assert_eq!(local["total"], 0, "{local}");
    let (_, local) = app.get_json("/api/v1/search?q=cafe&source=local").await;
    assert_eq!(titles(&local), ["Café Noir"]);
    let (_, remote) = app.get_json("/api/v1/search?q=cafe&source=remote").await;
    assert_eq!(remote["total"], 0, "{remote}");
}

#[tokio::test]
async fn bad_urls_and_unsupported_content_are_clear_errors_that_write_nothing() {
    let origin = Origin::start().await;
    let html = origin.put(
        "page.html",
        Content::Bytes("<!doctype html><p>hi</p>".into()),
        text("text/html"),
    );
    let hls = origin.put(
        "live.m3u8",
        Content::Bytes("#EXTM3U\n#EXT-X-TARGETDURATION:6\nseg.ts\n".into()),
        text("application/vnd.apple.mpegurl"),
    );
    let empty = origin.put(
        "empty.m3u",
        Content::Bytes("#EXTM3U\nfile:///music/a.mp3\nC:\\Music\\b.mp3\n".into()),
        text("audio/x-mpegurl"),
    );
    let app = spawn_app().await;
    let cases = [
        (html, 422, "unsupported_media"),
        (hls, 422, "unsupported_media"),
        (empty, 422, "unsupported_media"),
        (format!("{}/missing.mp3", origin.base), 502, "upstream_failed"),
        (
            "http://127.0.0.1:9/nothing-listens-here.mp3".to_string(),
            502,
            "upstream_failed",
        ),
        ("ftp://example.org/a.mp3".to_string(), 400, "bad_request"),
        ("file:///etc/passwd".to_string(), 400, "bad_request"),
        ("not a url".to_string(), 400, "bad_request"),
    ];
    for (url, status, code) in cases {
        let (got, body) = app.add_http_source(&url).await;
        assert_eq!(got, status, "{url}: {body}");
        assert_eq!(body["error"]["code"], code, "{url}");
        // Our words only: no HTTP client's or operating system's error text.
        let message = body["error"]["message"].as_str().unwrap();
        for leak in [
            "error sending request",
            "os error",
            "onnection refused",
            "tcp connect",
            "hyper",
        ] {
            assert!(!message.contains(leak), "{url}: {message}");
        }
    }
    for raw in ["{", "{\"link\": \"x\"}", "[]"] {
        let response = app
            .client
            .post(app.url("/api/v1/sources/http"))
            .header("content-type", "application/json")
            .body(raw)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{raw}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "bad_request");
    }
    let (_, stats) = app.get_json("/api/v1/stats").await;
    assert_eq!(stats["tracks"], 9, "nothing may be written by a failed add");
}

#[tokio::test]
async fn a_url_that_never_answers_is_a_504() {
    let origin = Origin::start().await;
    let url = origin.put(
        "hang.mp3",
        Content::Generated(10),
        Faults {
            hang: true,
            ..Default::default()
        },
    );
    let app = crate::support::spawn_app_configured(crate::support::demo_library(), |c| {
        c.upstream.first_byte_timeout = std::time::Duration::from_millis(500);
    })
    .await;
    let (status, body) = app.add_http_source(&url).await;
    assert_eq!(status, 504, "{body}");
    assert_eq!(body["error"]["code"], "upstream_timeout");
}

#[tokio::test]
async fn a_rescan_of_the_library_keeps_remote_tracks() {
    let origin = Origin::start().await;
    let url = origin.put("keep.mp3", Content::Generated(4000), Faults::default());
    let app = spawn_app().await;
    let (status, _) = app.add_http_source(&url).await;
    assert_eq!(status, 201);
    let report = app.rescan().await;
    assert_eq!(report["removed"], 0, "{report}");
    let (_, stats) = app.get_json("/api/v1/stats").await;
    assert_eq!(stats["tracks"], 10);
}

/// A source behind HTTP basic auth (`http://user:password@host/…`): its credentials go with
/// every request, the probe's and every stream chunk's, and never back to a client.
#[tokio::test]
async fn credentials_in_a_source_url_go_with_every_request_and_are_never_shown() {
    let origin = Origin::start().await;
    let mp3 = demo_file(MORNING_DRIFT);
    // base64("al@home:s3cr3t pw")
    let faults = Faults {
        basic_auth: Some("YWxAaG9tZTpzM2NyM3QgcHc=".into()),
        ..Default::default()
    };
    let plain = origin.put("private/drift.mp3", Content::Bytes(mp3.clone()), faults);
    let url = plain.replacen("http://", "http://al%40home:s3cr3t%20pw@", 1);
    let app = spawn_app().await;
    let (status, body) = app.add_http_source(&url).await;
    assert_eq!(status, 201, "{body}");
    // Its tags were read through range requests, which carried the credentials too.
    assert_eq!(body["tracks"][0]["title"], "Morning Drift", "{body}");
    let id = body["tracks"][0]["id"].as_str().unwrap().to_owned();
    let (_, track) = app.get_json(&format!("/api/v1/tracks/{id}")).await;
    let (_, playlists) = app.get_json("/api/v1/playlists?limit=100").await;
    for shown in [body.to_string(), track.to_string(), playlists.to_string()] {
        assert!(!shown.contains("s3cr3t"), "{shown}");
    }

    let stream = app.stream_path_of(&id).await;
    let full = app.get(&stream).await;
    assert_eq!(full.status(), 200);
    assert_eq!(full.bytes().await.unwrap(), mp3);
    let ranged = app
        .client
        .get(app.url(&stream))
        .header("range", "bytes=1000-1999")
        .send()
        .await
        .unwrap();
    assert_eq!(ranged.status(), 206);
    assert_eq!(ranged.bytes().await.unwrap(), mp3.slice(1000..2000));
    let requests = origin.requests("private/drift.mp3");
    assert!(requests.len() >= 3, "{requests:?}");
    for request in requests {
        assert_eq!(
            request.headers.get("authorization").map(|v| v.to_str().unwrap()),
            Some("Basic YWxAaG9tZTpzM2NyM3QgcHc="),
            "{request:?}"
        );
    }
}
