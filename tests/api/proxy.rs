//! The streaming proxy against real origins on loopback, with injected faults. Every body the
//! client sees is compared byte for byte.

use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::Bytes;
use reqwest::StatusCode;

use crate::origin::{pattern, Content, Faults, Origin};
use crate::support::{demo_library, spawn_app_configured, TestApp};

const KIB: u64 = 1024;

fn generated(len: u64) -> Vec<u8> {
    (0..len).map(pattern).collect()
}

/// The id of the track that adding the media URL `url` as a source makes.
async fn added_track(app: &TestApp, url: &str) -> String {
    let (status, body) = app.add_http_source(url).await;
    assert_eq!(status, 201, "{body}");
    body["tracks"][0]["id"].as_str().unwrap().to_owned()
}

/// An app with small chunks and short timeouts, and one remote track at `path` on `origin`.
async fn app_with_remote(origin: &Origin, path: &str, content: Content, faults: Faults) -> (TestApp, String) {
    let app = spawn_app_configured(demo_library(), |c| {
        c.upstream.chunk_size = 64 * KIB;
        c.upstream.first_byte_timeout = Duration::from_secs(2);
        c.upstream.idle_timeout = Duration::from_millis(500);
        c.upstream.pause_lets_go = Duration::from_millis(300);
    })
    .await;
    let url = origin.put(path, content, Faults { ..Default::default() });
    let id = added_track(&app, &url).await;
    origin.set_faults(path, faults);
    origin.clear_log();
    (app, id)
}

async fn get(
    app: &TestApp,
    path: &str,
    range: Option<&str>,
) -> (StatusCode, reqwest::header::HeaderMap, Result<Bytes, reqwest::Error>) {
    let mut request = app.client.get(app.url(path));
    if let Some(r) = range {
        request = request.header("range", r);
    }
    let response = request.send().await.unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    (status, headers, response.bytes().await)
}

fn ranges_asked(origin: &Origin, path: &str) -> Vec<String> {
    origin
        .requests(path)
        .into_iter()
        .map(|r| r.range.unwrap_or_default())
        .collect()
}

/// `bytes=a-b` as `(a, b)`.
fn bounds(range: &str) -> (u64, u64) {
    let (a, b) = range.strip_prefix("bytes=").unwrap().split_once('-').unwrap();
    (a.parse().unwrap(), b.parse().unwrap())
}

#[tokio::test]
async fn a_remote_file_streams_whole_in_chunks_asking_only_what_is_needed() {
    let origin = Origin::start().await;
    let len = 300 * KIB + 17;
    let (app, id) = app_with_remote(&origin, "long.mp3", Content::Generated(len), Faults::default()).await;
    let stream = app.stream_path_of(&id).await;
    let (status, headers, body) = get(&app, &stream, None).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-length"], len.to_string());
    assert_eq!(headers["accept-ranges"], "bytes");
    assert_eq!(headers["etag"], "\"v1\"");
    assert!(body.unwrap() == generated(len), "body differs");
    // One probe for the size, then 64 KiB chunks, in order, covering the file exactly once.
    let asked = ranges_asked(&origin, "long.mp3");
    assert_eq!(asked[0], "bytes=0-0");
    let chunks: Vec<(u64, u64)> = asked[1..].iter().map(|r| bounds(r)).collect();
    assert_eq!(chunks.len(), 5, "{asked:?}");
    assert_eq!(chunks[0].0, 0);
    assert_eq!(chunks.last().unwrap().1, len - 1);
    for pair in chunks.windows(2) {
        assert_eq!(pair[1].0, pair[0].1 + 1, "{asked:?}");
    }
    assert!(chunks.iter().all(|(a, b)| b - a < 64 * KIB), "{asked:?}");
}

#[tokio::test]
async fn remote_ranges_are_exact_and_ask_the_origin_for_just_those_bytes() {
    let origin = Origin::start().await;
    let len = 200 * KIB;
    let file = generated(len);
    let (app, id) = app_with_remote(&origin, "r.mp3", Content::Generated(len), Faults::default()).await;
    let stream = app.stream_path_of(&id).await;
    for (range, start, end) in [
        ("bytes=1000-1999", 1000, 1999),
        ("bytes=150000-", 150_000, len - 1),
        ("bytes=-4096", len - 4096, len - 1),
    ] {
        origin.clear_log();
        let (status, headers, body) = get(&app, &stream, Some(range)).await;
        assert_eq!(status, 206, "{range}");
        assert_eq!(
            headers["content-range"],
            format!("bytes {start}-{end}/{len}"),
            "{range}"
        );
        assert!(body.unwrap() == file[start as usize..=end as usize], "{range}");
        // (The first play also probes the size with bytes=0-0.)
        let asked: Vec<String> = ranges_asked(&origin, "r.mp3")
            .into_iter()
            .filter(|r| r != "bytes=0-0")
            .collect();
        assert_eq!(
            asked[0],
            format!("bytes={start}-{}", end.min(start + 64 * KIB - 1)),
            "{range}: {asked:?}"
        );
    }
    origin.clear_log();
    let (status, headers, _) = get(&app, &stream, Some(&format!("bytes={len}-"))).await;
    assert_eq!(status, 416);
    assert_eq!(headers["content-range"], format!("bytes */{len}"));
    assert!(origin.requests("r.mp3").is_empty(), "a 416 needs no upstream request");
}

#[tokio::test]
async fn head_and_conditional_requests_make_no_upstream_body_request() {
    let origin = Origin::start().await;
    let (app, id) = app_with_remote(&origin, "h.mp3", Content::Generated(100 * KIB), Faults::default()).await;
    let stream = app.stream_path_of(&id).await;
    let head = app
        .client
        .head(app.url(&stream))
        .header("range", "bytes=-100")
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 206);
    assert_eq!(head.headers()["content-length"], "100");
    assert_eq!(
        head.headers()["content-range"],
        format!("bytes {}-{}/{}", 100 * KIB - 100, 100 * KIB - 1, 100 * KIB)
    );
    let not_modified = app
        .client
        .get(app.url(&stream))
        .header("if-none-match", "\"v1\"")
        .send()
        .await
        .unwrap();
    assert_eq!(not_modified.status(), 304);
    // Only the resolution's one-byte probe reached the origin.
    assert_eq!(ranges_asked(&origin, "h.mp3"), vec!["bytes=0-0"]);
}

#[tokio::test]
async fn a_dropped_upstream_connection_is_resumed_and_the_body_stays_exact() {
    let origin = Origin::start().await;
    let len = 200 * KIB;
    // Request 2 is the first chunk (1 is the probe); 3 is the resume of that chunk; it drops again.
    let faults = Faults {
        drop_after: vec![(2, 10_000), (3, 5_000)],
        ..Default::default()
    };
    let (app, id) = app_with_remote(&origin, "d.mp3", Content::Generated(len), faults).await;
    let stream = app.stream_path_of(&id).await;
    let (status, _, body) = get(&app, &stream, None).await;
    assert_eq!(status, 200);
    assert!(body.unwrap() == generated(len), "body differs after resumes");
    let asked = ranges_asked(&origin, "d.mp3");
    assert_eq!(
        &asked[1..4],
        &[
            "bytes=0-65535".to_string(),
            "bytes=10000-65535".into(),
            "bytes=15000-65535".into()
        ],
        "{asked:?}"
    );
}

#[tokio::test]
async fn a_stalled_upstream_is_resumed() {
    let origin = Origin::start().await;
    let len = 100 * KIB;
    let faults = Faults {
        stall_after: vec![(2, 30_000)],
        ..Default::default()
    };
    let (app, id) = app_with_remote(&origin, "s.mp3", Content::Generated(len), faults).await;
    let stream = app.stream_path_of(&id).await;
    let (status, _, body) = get(&app, &stream, None).await;
    assert_eq!(status, 200);
    assert!(body.unwrap() == generated(len));
    assert!(ranges_asked(&origin, "s.mp3").contains(&"bytes=30000-65535".to_string()));
}

#[tokio::test]
async fn an_expired_url_is_resolved_again_once_and_the_stream_goes_on() {
    let origin = Origin::start().await;
    let len = 150 * KIB;
    // Request 2 (first chunk) is refused; 3 is the new probe; 4 the retried chunk.
    let faults = Faults {
        forbidden: vec![2],
        ..Default::default()
    };
    let (app, id) = app_with_remote(&origin, "e.mp3", Content::Generated(len), faults).await;
    let stream = app.stream_path_of(&id).await;
    let (status, _, body) = get(&app, &stream, None).await;
    assert_eq!(status, 200);
    assert!(body.unwrap() == generated(len));
    let asked = ranges_asked(&origin, "e.mp3");
    assert_eq!(
        &asked[..4],
        &["bytes=0-0", "bytes=0-65535", "bytes=0-0", "bytes=0-65535"],
        "{asked:?}"
    );
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(metrics.contains("anyaudio_reresolutions_total"), "{metrics}");
}

#[tokio::test]
async fn a_refusal_after_re_resolution_is_a_502_before_the_first_byte() {
    let origin = Origin::start().await;
    let faults = Faults {
        forbidden: (2..10).collect(),
        ..Default::default()
    };
    let (app, id) = app_with_remote(&origin, "f.mp3", Content::Generated(10 * KIB), faults).await;
    let stream = app.stream_path_of(&id).await;
    let (status, body) = app.get_json(&stream).await;
    assert_eq!(status, 502);
    assert_eq!(body["error"]["code"], "upstream_failed");
}

#[tokio::test]
async fn an_upstream_that_changes_its_size_mid_stream_ends_the_connection() {
    let origin = Origin::start().await;
    let len = 200 * KIB;
    let faults = Faults {
        wrong_total_from: Some(3),
        ..Default::default()
    };
    let (app, id) = app_with_remote(&origin, "w.mp3", Content::Generated(len), faults).await;
    let stream = app.stream_path_of(&id).await;
    let (status, headers, body) = get(&app, &stream, None).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-length"], len.to_string());
    assert!(body.is_err(), "a short body must not pass for a complete one");
}

#[tokio::test]
async fn an_upstream_that_ignores_ranges_still_gives_exact_ranges() {
    let origin = Origin::start().await;
    let len = 120 * KIB;
    let file = generated(len);
    let faults = Faults {
        ignore_range: true,
        ..Default::default()
    };
    let (app, id) = app_with_remote(&origin, "i.mp3", Content::Generated(len), faults).await;
    // The add happened before the fault; make the next resolution see it.
    app.start_scan().await;
    let stream = app.stream_path_of(&id).await;
    for (range, start, end) in [
        (None, 0, len - 1),
        (Some("bytes=70000-80000"), 70_000, 80_000),
        (Some("bytes=-10"), len - 10, len - 1),
    ] {
        let (status, _, body) = get(&app, &stream, range).await;
        assert_eq!(status, if range.is_some() { 206 } else { 200 });
        assert!(body.unwrap() == file[start as usize..=end as usize], "{range:?}");
    }
}

#[tokio::test]
async fn bytes_are_streamed_as_they_arrive() {
    let origin = Origin::start().await;
    let len = 64 * KIB;
    // 16 KiB every 300 ms: the whole file takes over a second to leave the origin.
    let faults = Faults {
        piece_delay: Some(Duration::from_millis(300)),
        ..Default::default()
    };
    let (app, id) = app_with_remote(&origin, "slow.mp3", Content::Generated(len), faults).await;
    let stream = app.stream_path_of(&id).await;
    let mut response = app.client.get(app.url(&stream)).send().await.unwrap();
    let sent_before = origin.state.bytes_sent.load(Ordering::SeqCst);
    let first = response.chunk().await.unwrap().unwrap();
    let sent_when_first_arrived = origin.state.bytes_sent.load(Ordering::SeqCst) - sent_before;
    assert!(!first.is_empty());
    assert!(
        sent_when_first_arrived < len,
        "the proxy waited for the whole file ({sent_when_first_arrived} bytes) before sending"
    );
    let mut body = first.to_vec();
    while let Some(c) = response.chunk().await.unwrap() {
        body.extend_from_slice(&c);
    }
    assert!(body == generated(len));
}

#[tokio::test]
async fn a_client_that_goes_away_ends_the_upstream_request() {
    let origin = Origin::start().await;
    let (app, id) = app_with_remote(
        &origin,
        "big.mp3",
        Content::Generated(512 * 1024 * KIB),
        Faults::default(),
    )
    .await;
    let stream = app.stream_path_of(&id).await;
    let mut response = app.client.get(app.url(&stream)).send().await.unwrap();
    let _ = response.chunk().await.unwrap();
    drop(response);
    // Once the proxy notices (its next write fails), the origin's bodies close and nothing more is read.
    let mut last = u64::MAX;
    for _ in 0..30 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let sent = origin.state.bytes_sent.load(Ordering::SeqCst);
        if sent == last && origin.state.open_bodies.load(Ordering::SeqCst) == 0 {
            assert!(
                sent < 16 * 1024 * KIB,
                "the proxy read {sent} bytes for a client that took one chunk"
            );
            return;
        }
        last = sent;
    }
    panic!("the upstream body is still open after the client went away");
}

#[tokio::test]
async fn a_paused_client_lets_the_upstream_go_and_plays_on_from_where_it_was() {
    let origin = Origin::start().await;
    // More than the kernel's socket buffers take in while the client pauses (megabytes).
    let len = 32 * 1024 * KIB;
    let (app, id) = app_with_remote(&origin, "pause.mp3", Content::Generated(len), Faults::default()).await;
    let stream = app.stream_path_of(&id).await;
    let mut response = app.client.get(app.url(&stream)).send().await.unwrap();
    let mut body = Vec::with_capacity(len as usize);
    while body.len() < 256 * KIB as usize {
        body.extend_from_slice(&response.chunk().await.unwrap().unwrap());
    }
    // Paused: once the socket buffers are full and the pause outlasts `pause_lets_go`, the
    // stream holds no upstream request open.
    let mut open = i64::MAX;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        open = origin.state.open_bodies.load(Ordering::SeqCst);
        if open == 0 {
            break;
        }
    }
    assert_eq!(open, 0, "the paused stream still holds its upstream request");
    let asked_before = origin.requests("pause.mp3").len();
    while let Some(chunk) = response.chunk().await.unwrap() {
        body.extend_from_slice(&chunk);
    }
    assert!(body == generated(len), "the body differs after the pause");
    // Played on with a new request from the byte reached (past what the client had taken
    // and the socket buffers held), not from the start.
    let resumed = &origin.requests("pause.mp3")[asked_before];
    let first = resumed.range.as_deref().unwrap_or_default();
    let start: u64 = first["bytes=".len()..first.find('-').unwrap()].parse().unwrap();
    assert!(start > 256 * KIB && start < len, "{first}");
}

/// A player that fills its buffer at once, then plays at its bitrate: the stream reads ahead
/// of it as of a download at first (a raised receive buffer on its upstream connection), and
/// once it listens, asks the origin again on a listener's connection from the byte reached
/// (`upstream::media::ReadAhead`: a raised buffer is never lowered), the body unbroken. A raw
/// client with a small receive buffer, so that its reads decide what it takes (reqwest's
/// socket would grow to megabytes in the fast part and take in the slow one as fast).
#[tokio::test]
async fn a_download_that_turns_to_listening_is_asked_again_at_a_listener_s_pace() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let origin = Origin::start().await;
    let len = 32 * 1024 * KIB;
    let app = spawn_app_configured(demo_library(), |c| {
        // A download asks for the whole file at once.
        c.upstream.chunk_size = len;
        c.upstream.pause_lets_go = Duration::from_secs(60);
    })
    .await;
    let url = origin.put("turn.mp3", Content::Generated(len), Faults::default());
    let id = added_track(&app, &url).await;
    let stream = app.stream_path_of(&id).await;
    origin.clear_log();

    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(64 * 1024).unwrap();
    let address = app.base.trim_start_matches("http://").parse().unwrap();
    let mut client = socket.connect(address).await.unwrap();
    let request = format!("GET {stream} HTTP/1.1\r\nHost: {address}\r\nRange: bytes=0-\r\n\r\n");
    client.write_all(request.as_bytes()).await.unwrap();
    let mut received = Vec::with_capacity(len as usize + 1024);
    let mut buffer = vec![0u8; 64 * 1024];
    // As fast as it comes, 4 MiB: a download.
    while received.len() < 4 * 1024 * KIB as usize {
        let n = client.read(&mut buffer).await.unwrap();
        assert!(n > 0, "the server closed the connection");
        received.extend_from_slice(&buffer[..n]);
    }
    // Then 160 KB/s for six seconds: a listener. The turn is judged at a write (a second's
    // taking at a time), and what the socket took ahead of it as a download's (up to 512 KiB
    // not sent) drains at this pace first: about three seconds, or four.
    for _ in 0..60 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let n = client.read(&mut buffer[..16 * 1024]).await.unwrap();
        received.extend_from_slice(&buffer[..n]);
    }
    // Before it showed itself a download, a listener's chunks; then the rest of the file in
    // one request; then, listening, a listener's chunk from the byte reached.
    let asked: Vec<(u64, u64)> = ranges_asked(&origin, "turn.mp3").iter().map(|r| bounds(r)).collect();
    let (download, again) = (asked[asked.len() - 2], asked[asked.len() - 1]);
    assert_eq!(asked[0].0, 0, "{asked:?}");
    for pair in asked[..asked.len() - 1].windows(2) {
        assert_eq!(pair[1].0, pair[0].1 + 1, "{asked:?}");
    }
    assert_eq!(download.1, len - 1, "{asked:?}");
    assert!(again.0 > 4 * 1024 * KIB && again.0 < len, "{asked:?}");
    assert!(again.1 - again.0 < 512 * KIB, "{asked:?}");
    // The rest, whole and exact.
    let head_end = received.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    assert!(
        received.starts_with(b"HTTP/1.1 206"),
        "{:?}",
        String::from_utf8_lossy(&received[..head_end])
    );
    while received.len() - head_end < len as usize {
        let n = client.read(&mut buffer).await.unwrap();
        assert!(n > 0, "the body ended early");
        received.extend_from_slice(&buffer[..n]);
    }
    assert!(
        received[head_end..] == generated(len)[..],
        "the body differs after the turn"
    );
}

#[tokio::test]
async fn upstream_failures_before_the_first_byte_are_json_errors() {
    let origin = Origin::start().await;
    let faults = Faults {
        server_error: (2..20).collect(),
        ..Default::default()
    };
    let (app, id) = app_with_remote(&origin, "500.mp3", Content::Generated(10 * KIB), faults).await;
    let (status, body) = app.get_json(&app.stream_path_of(&id).await).await;
    assert_eq!(status, 502);
    assert_eq!(body["error"]["code"], "upstream_failed");

    let faults = Faults {
        hang: true,
        ..Default::default()
    };
    let (app, id) = app_with_remote(&origin, "hang.mp3", Content::Generated(10 * KIB), faults).await;
    // stream_url resolves (a one-byte probe), which hangs: the client learns it there.
    let (status, body) = app.get_json(&format!("/api/v1/tracks/{id}/stream_url")).await;
    assert_eq!(status, 504, "{body}");
    assert_eq!(body["error"]["code"], "upstream_timeout");
}

/// Found by the soak test: a 500 from the origin to the probe of a `stream_url` failed the
/// play, though the same 500 mid-stream is retried.
#[tokio::test]
async fn a_server_error_to_the_probe_is_retried_and_the_track_plays() {
    let origin = Origin::start().await;
    let faults = Faults {
        server_error: vec![1],
        ..Default::default()
    };
    let (app, id) = app_with_remote(&origin, "probe500.mp3", Content::Generated(100 * KIB), faults).await;
    let (status, body) = app.get_json(&format!("/api/v1/tracks/{id}/stream_url")).await;
    assert_eq!(status, 200, "{body}");
    let probes = origin.requests("probe500.mp3");
    assert_eq!(probes.len(), 2, "one 500, then the probe again");
    assert!(probes.iter().all(|r| r.range.as_deref() == Some("bytes=0-0")));
    let (status, _, bytes) = get(&app, body["url"].as_str().unwrap(), None).await;
    assert_eq!(status, 200);
    assert!(bytes.unwrap() == generated(100 * KIB), "the body is the file");
}

#[tokio::test]
async fn client_cookies_and_credentials_never_reach_the_upstream() {
    let origin = Origin::start().await;
    let (app, id) = app_with_remote(&origin, "c.mp3", Content::Generated(10 * KIB), Faults::default()).await;
    let stream = app.stream_path_of(&id).await;
    let response = app
        .client
        .get(app.url(&stream))
        .header("cookie", "session=secret")
        .header("authorization", "Bearer secret")
        .header("x-forwarded-for", "10.0.0.1")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let _ = response.bytes().await.unwrap();
    for request in origin.requests("c.mp3") {
        for name in ["cookie", "authorization", "x-forwarded-for"] {
            assert!(request.headers.get(name).is_none(), "{name} was forwarded");
        }
    }
}

#[tokio::test]
async fn upstream_requests_are_capped_and_the_excess_is_a_503() {
    let origin = Origin::start().await;
    let app = spawn_app_configured(demo_library(), |c| {
        c.max_upstream_requests = 1;
        c.upstream.first_byte_timeout = Duration::from_millis(500);
    })
    .await;
    let url = origin.put("cap.mp3", Content::Generated(64 * 1024 * KIB), Faults::default());
    let (status, body) = app.add_http_source(&url).await;
    assert_eq!(status, 201, "{body}");
    let stream = app.stream_path_of(body["tracks"][0]["id"].as_str().unwrap()).await;
    // The first stream holds the only upstream request (its client does not read on).
    let mut first = app.client.get(app.url(&stream)).send().await.unwrap();
    assert_eq!(first.status(), 200);
    let _ = first.chunk().await.unwrap();
    let (status, body) = app.get_json(&stream).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"]["code"], "busy");
    // Once the first client leaves, streams flow again.
    drop(first);
    let mut ok = false;
    for _ in 0..40 {
        let response = app
            .client
            .get(app.url(&stream))
            .header("range", "bytes=0-99")
            .send()
            .await
            .unwrap();
        if response.status() == 206 {
            assert_eq!(response.bytes().await.unwrap().len(), 100);
            ok = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ok, "the upstream request was never released");
}

/// A listener asks the origin for a listener's share at a time, and a download, once it shows
/// itself one, for whole chunks: an origin sends all it was asked for at once, whoever reads it.
#[tokio::test]
async fn a_listener_asks_the_origin_for_less_at_a_time_than_a_download() {
    let origin = Origin::start().await;
    let len = 2 * 1024 * KIB + 5;
    let app = spawn_app_configured(demo_library(), |c| c.upstream.chunk_size = 4 * 1024 * KIB).await;
    let url = origin.put("listened.mp3", Content::Generated(len), Faults::default());
    let id = added_track(&app, &url).await;
    let stream = app.stream_path_of(&id).await;
    let media_ranges = |origin: &Origin| -> Vec<(u64, u64)> {
        ranges_asked(origin, "listened.mp3")
            .iter()
            .filter(|r| *r != "bytes=0-0")
            .map(|r| bounds(r))
            .collect()
    };

    // A player at 300 KiB/s (a listener takes less than 1 MiB a second) reads 700 KiB.
    origin.clear_log();
    let mut response = app.client.get(app.url(&stream)).send().await.unwrap();
    let started = std::time::Instant::now();
    let mut read = 0u64;
    while read < 700 * KIB {
        read += response.chunk().await.unwrap().expect("more body").len() as u64;
        let due = Duration::from_secs_f64(read as f64 / (300.0 * KIB as f64));
        tokio::time::sleep(due.saturating_sub(started.elapsed())).await;
    }
    drop(response);
    let listened = media_ranges(&origin);
    assert!(listened.len() >= 2, "{listened:?}");
    assert_eq!(listened[0].0, 0, "{listened:?}");
    for pair in listened.windows(2) {
        assert_eq!(pair[1].0, pair[0].1 + 1, "{listened:?}");
    }
    assert!(listened.iter().all(|(a, b)| b - a < 512 * KIB), "{listened:?}");

    // A download of the whole: once it took more than a listener would, the rest in one request.
    origin.clear_log();
    let (status, _, body) = get(&app, &stream, None).await;
    assert_eq!(status, 200);
    assert!(body.unwrap() == generated(len), "body differs");
    let downloaded = media_ranges(&origin);
    assert_eq!(downloaded.last().unwrap().1, len - 1, "{downloaded:?}");
    assert!(downloaded.iter().any(|(a, b)| b - a >= 512 * KIB), "{downloaded:?}");
}

/// A link that drops every 256 KiB: resumes that move the stream forward cost nothing, so a
/// track many times longer than the resume budget still plays to the end, byte for byte.
#[tokio::test]
async fn a_flaky_origin_that_makes_progress_plays_to_the_end() {
    let origin = Origin::start().await;
    let len = 6 * 1024 * KIB + 123;
    let app = spawn_app_configured(demo_library(), |c| {
        c.upstream.chunk_size = 1024 * KIB;
        c.upstream.idle_timeout = Duration::from_millis(500);
    })
    .await;
    let url = origin.put("flaky.mp3", Content::Generated(len), Faults::default());
    let id = added_track(&app, &url).await;
    origin.set_faults(
        "flaky.mp3",
        Faults {
            drop_every: Some(256 * KIB),
            ..Default::default()
        },
    );
    let stream = app.stream_path_of(&id).await;
    let (status, _, body) = get(&app, &stream, None).await;
    assert_eq!(status, 200);
    let body = body.expect("the whole body");
    assert!(
        body.len() as u64 == len && body == generated(len),
        "body differs ({} bytes)",
        body.len()
    );
    // Far more resumes than the budget of 5: about four per 1 MiB chunk.
    let asked = ranges_asked(&origin, "flaky.mp3");
    assert!(asked.len() > 20, "{asked:?}");
}

/// An origin that never moves the stream forward ends it: the client's connection is closed
/// before Content-Length, never a short body passed off as complete.
#[tokio::test]
async fn an_origin_that_makes_no_progress_ends_the_stream_cleanly() {
    let origin = Origin::start().await;
    let len = 300 * KIB;
    let faults = Faults {
        drop_every: Some(0),
        ..Default::default()
    };
    let (app, id) = app_with_remote(&origin, "stuck.mp3", Content::Generated(len), faults).await;
    let stream = app.stream_path_of(&id).await;
    let (status, _, body) = get(&app, &stream, None).await;
    // The head went out with the first chunk's; its body never came.
    assert_eq!(status, 200);
    assert!(
        body.is_err(),
        "a cut body must be an error, got {:?} bytes",
        body.map(|b| b.len())
    );
    let asked = ranges_asked(&origin, "stuck.mp3");
    // The resolution's one-byte probe, the first request, and five resumes without progress.
    assert_eq!(asked.len(), 7, "{asked:?}");
    assert_eq!(asked[0], "bytes=0-0");
    assert!(asked[1..].iter().all(|r| r.starts_with("bytes=0-")), "{asked:?}");
}
