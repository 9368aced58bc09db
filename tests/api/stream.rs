use std::time::{SystemTime, UNIX_EPOCH};

use anyaudio::stream::token::{self, Claims, SigningKey};
use reqwest::header::{HeaderMap, ACCEPT_RANGES, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, ETAG, LAST_MODIFIED};
use reqwest::StatusCode;

use crate::support::{
    demo_library, spawn_app, spawn_app_configured, TestApp, CAFE_NOIR, DAWN_CHORUS, EIGHT_BIT_HEART, MORNING_DRIFT,
};

async fn fetch(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> (StatusCode, HeaderMap, Vec<u8>) {
    let mut request = app.client.get(app.url(path));
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.bytes().await.unwrap().to_vec();
    (status, headers, body)
}

fn header(headers: &HeaderMap, name: impl reqwest::header::AsHeaderName) -> &str {
    headers.get(name).map(|v| v.to_str().unwrap()).unwrap_or("")
}

#[tokio::test]
async fn a_stream_url_plays_the_whole_file_byte_for_byte() {
    let app = spawn_app().await;
    let file = std::fs::read(app.library_file(CAFE_NOIR)).unwrap();
    let track = app.track_titled("Café Noir").await;
    let (status, body) = app
        .get_json(&format!("/api/v1/tracks/{}/stream_url", track["id"].as_str().unwrap()))
        .await;
    assert_eq!(status, 200);
    let url = body["url"].as_str().unwrap();
    assert!(url.starts_with("/stream/"), "{url}");
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    assert!(body["expires_at"].as_u64().unwrap() > now + 3600);
    assert_eq!(body["mime"], "audio/ogg");

    let (status, headers, bytes) = fetch(&app, url, &[]).await;
    assert_eq!(status, 200);
    assert_eq!(header(&headers, ACCEPT_RANGES), "bytes");
    assert_eq!(header(&headers, CONTENT_LENGTH), file.len().to_string());
    assert_eq!(header(&headers, CONTENT_TYPE), "audio/ogg");
    assert!(header(&headers, ETAG).starts_with('"'));
    assert!(!header(&headers, LAST_MODIFIED).is_empty());
    assert!(bytes == file, "body differs from the file");
}

#[tokio::test]
async fn content_type_follows_the_format() {
    let app = spawn_app().await;
    for (title, mime) in [
        ("Café Noir", "audio/ogg"),
        ("Dawn Chorus", "audio/flac"),
        ("Morning Drift", "audio/mpeg"),
        ("Eight Bit Heart", "audio/mp4"),
        ("Bientôt", "audio/ogg"),
    ] {
        let path = app.stream_path(title).await;
        let (status, headers, _) = fetch(&app, &path, &[("range", "bytes=0-0")]).await;
        assert_eq!(status, 206);
        assert_eq!(header(&headers, CONTENT_TYPE), mime, "{title}");
    }
}

#[tokio::test]
async fn every_range_form_is_served_exactly() {
    let app = spawn_app().await;
    let file = std::fs::read(app.library_file(DAWN_CHORUS)).unwrap();
    let len = file.len();
    let path = app.stream_path("Dawn Chorus").await;
    let cases: Vec<(String, usize, usize)> = vec![
        ("bytes=0-0".into(), 0, 0),
        ("bytes=0-1023".into(), 0, 1023),
        ("bytes=1000-1999".into(), 1000, 1999),
        (format!("bytes={}-", len - 100), len - 100, len - 1),
        ("bytes=5000-".into(), 5000, len - 1),
        ("bytes=-500".into(), len - 500, len - 1),
        (format!("bytes=-{}", len * 2), 0, len - 1),
        (format!("bytes=100-{}", len * 10), 100, len - 1),
        ("bytes=0-99,50-199".into(), 0, 199),
    ];
    for (range, start, end) in cases {
        let (status, headers, bytes) = fetch(&app, &path, &[("range", &range)]).await;
        assert_eq!(status, 206, "{range}");
        assert_eq!(
            header(&headers, CONTENT_RANGE),
            format!("bytes {start}-{end}/{len}"),
            "{range}"
        );
        assert_eq!(
            header(&headers, CONTENT_LENGTH),
            (end - start + 1).to_string(),
            "{range}"
        );
        assert!(bytes == file[start..=end], "{range}: body differs");
    }
}

#[tokio::test]
async fn unsatisfiable_ranges_are_416_with_the_size() {
    let app = spawn_app().await;
    let len = std::fs::metadata(app.library_file(DAWN_CHORUS)).unwrap().len();
    let path = app.stream_path("Dawn Chorus").await;
    for range in [format!("bytes={len}-"), format!("bytes={}-{}", len + 10, len + 20)] {
        let (status, headers, bytes) = fetch(&app, &path, &[("range", &range)]).await;
        assert_eq!(status, 416, "{range}");
        assert_eq!(header(&headers, CONTENT_RANGE), format!("bytes */{len}"));
        assert!(bytes.is_empty());
    }
}

#[tokio::test]
async fn malformed_and_disjoint_ranges_get_the_whole_file() {
    let app = spawn_app().await;
    let file = std::fs::read(app.library_file(MORNING_DRIFT)).unwrap();
    let path = app.stream_path("Morning Drift").await;
    for range in [
        "bytes=abc",
        "bytes=50-10",
        "items=0-10",
        "bytes=",
        "bytes=-0",
        "bytes=0-9,100-109",
    ] {
        let (status, headers, bytes) = fetch(&app, &path, &[("range", range)]).await;
        assert_eq!(status, 200, "{range}");
        assert_eq!(header(&headers, CONTENT_RANGE), "", "{range}");
        assert!(bytes == file, "{range}");
    }
}

#[tokio::test]
async fn head_has_the_headers_of_get_and_no_body() {
    let app = spawn_app().await;
    let path = app.stream_path("Eight Bit Heart").await;
    let len = std::fs::metadata(app.library_file(EIGHT_BIT_HEART)).unwrap().len();
    for range in [None, Some("bytes=10-19")] {
        let mut head = app.client.head(app.url(&path));
        let mut get = app.client.get(app.url(&path));
        if let Some(r) = range {
            head = head.header("range", r);
            get = get.header("range", r);
        }
        let head = head.send().await.unwrap();
        let get = get.send().await.unwrap();
        assert_eq!(head.status(), get.status());
        for name in [
            CONTENT_LENGTH,
            CONTENT_RANGE,
            CONTENT_TYPE,
            ETAG,
            LAST_MODIFIED,
            ACCEPT_RANGES,
        ] {
            assert_eq!(
                head.headers().get(&name),
                get.headers().get(&name),
                "{name} for {range:?}"
            );
        }
        let expected = if range.is_some() { 10 } else { len };
        assert_eq!(header(head.headers(), CONTENT_LENGTH), expected.to_string());
        assert!(head.bytes().await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn conditional_requests() {
    let app = spawn_app().await;
    let path = app.stream_path("Dawn Chorus").await;
    let (_, headers, _) = fetch(&app, &path, &[("range", "bytes=0-0")]).await;
    let etag = header(&headers, ETAG).to_owned();
    let modified = header(&headers, LAST_MODIFIED).to_owned();

    let (status, h, body) = fetch(&app, &path, &[("if-none-match", &etag)]).await;
    assert_eq!(status, 304);
    assert_eq!(header(&h, ETAG), etag);
    assert!(body.is_empty());
    let (status, _, _) = fetch(&app, &path, &[("if-none-match", "\"something-else\"")]).await;
    assert_eq!(status, 200);
    let (status, _, _) = fetch(&app, &path, &[("if-modified-since", &modified)]).await;
    assert_eq!(status, 304);
    let (status, _, _) = fetch(&app, &path, &[("if-modified-since", "Mon, 01 Jan 2001 00:00:00 GMT")]).await;
    assert_eq!(status, 200);

    // If-Range: the range holds only while the validator is current.
    let (status, _, body) = fetch(&app, &path, &[("range", "bytes=0-9"), ("if-range", &etag)]).await;
    assert_eq!((status, body.len()), (StatusCode::PARTIAL_CONTENT, 10));
    let (status, _, body) = fetch(&app, &path, &[("range", "bytes=0-9"), ("if-range", &modified)]).await;
    assert_eq!((status, body.len()), (StatusCode::PARTIAL_CONTENT, 10));
    let len = std::fs::metadata(app.library_file(DAWN_CHORUS)).unwrap().len() as usize;
    let (status, _, body) = fetch(&app, &path, &[("range", "bytes=0-9"), ("if-range", "\"stale\"")]).await;
    assert_eq!((status, body.len()), (StatusCode::OK, len));

    let (status, _, _) = fetch(&app, &path, &[("if-match", "\"stale\"")]).await;
    assert_eq!(status, 412);
}

#[tokio::test]
async fn a_changed_file_gets_a_new_etag_and_if_range_sends_it_whole() {
    let app = spawn_app().await;
    let path = app.stream_path("Morning Drift").await;
    let (_, headers, _) = fetch(&app, &path, &[("range", "bytes=0-0")]).await;
    let etag = header(&headers, ETAG).to_owned();
    crate::support::retag(&app.library_file(MORNING_DRIFT), "Morning Drift", Some("Someone Else"));
    let file = std::fs::read(app.library_file(MORNING_DRIFT)).unwrap();
    let (status, headers, body) = fetch(&app, &path, &[("range", "bytes=0-9"), ("if-range", &etag)]).await;
    assert_eq!(status, 200);
    assert_ne!(header(&headers, ETAG), etag);
    assert!(body == file);
}

fn data_dir_key(app: &TestApp) -> SigningKey {
    let bytes: [u8; 32] = std::fs::read(app.data.path().join("stream.key"))
        .unwrap()
        .try_into()
        .unwrap();
    SigningKey::from_bytes(bytes)
}

#[tokio::test]
async fn forged_expired_and_unknown_tokens_are_refused() {
    let app = spawn_app().await;
    let track = app.track_titled("Café Noir").await;
    let id = track["id"].as_str().unwrap().to_owned();
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();

    let forged = token::sign(
        &SigningKey::random(),
        &Claims {
            track_id: anyaudio::model::TrackId::parse(&id).unwrap(),
            variant: None,
            expires_at: now + 3600,
        },
    );
    let (status, body) = app.get_json(&format!("/stream/{forged}")).await;
    assert_eq!(status, 403);
    assert_eq!(body["error"]["code"], "forged_token");

    // A real token with its payload swapped for another track is forged too.
    let real = app.stream_path("Café Noir").await;
    let other = token::sign(
        &SigningKey::random(),
        &Claims {
            track_id: anyaudio::model::TrackId::parse("0000").unwrap(),
            variant: None,
            expires_at: now + 3600,
        },
    );
    let spliced = format!(
        "/stream/{}.{}",
        other.split('.').next().unwrap(),
        real.rsplit('.').next().unwrap()
    );
    let (status, body) = app.get_json(&spliced).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("forged_token"))
    );

    let expired = token::sign(
        &data_dir_key(&app),
        &Claims {
            track_id: anyaudio::model::TrackId::parse(&id).unwrap(),
            variant: None,
            expires_at: now - 1,
        },
    );
    let (status, body) = app.get_json(&format!("/stream/{expired}")).await;
    assert_eq!(status, 403);
    assert_eq!(body["error"]["code"], "expired_token");

    for garbage in ["abc", "not.base64!", "%20"] {
        let (status, body) = app.get_json(&format!("/stream/{garbage}")).await;
        assert_eq!(status, 404, "{garbage}");
        assert_eq!(body["error"]["code"], "unknown_token");
    }

    let gone = token::sign(
        &data_dir_key(&app),
        &Claims {
            track_id: anyaudio::model::TrackId::parse("ffffffffffffffffffff").unwrap(),
            variant: None,
            expires_at: now + 60,
        },
    );
    let (status, body) = app.get_json(&format!("/stream/{gone}")).await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "track_not_found");
}

/// A library file cut short while it streams (a tagger rewriting it in place) ends the stream
/// short, never with other bytes: frames read from it and frames the kernel sends from it
/// (`stream::file_send`) alike.
#[tokio::test]
async fn a_file_cut_short_while_it_streams_ends_the_stream_short_never_with_other_bytes() {
    use std::io::Write;
    let app = spawn_app().await;
    let path = app.stream_path("Café Noir").await;
    // Rewritten in place, larger: 8 MiB the client reads a little of at a time.
    let original: Vec<u8> = (0..8u32 << 20).map(|n| (n % 251) as u8).collect();
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(app.library_file(CAFE_NOIR))
        .unwrap();
    file.write_all(&original).unwrap();
    let mut response = app.get(&path).await;
    assert_eq!(header(response.headers(), CONTENT_LENGTH), original.len().to_string());
    let mut received = Vec::new();
    while received.len() < 256 * 1024 {
        received.extend_from_slice(&response.chunk().await.unwrap().unwrap());
    }
    file.set_len(1 << 20).unwrap();
    let cut = tokio::time::timeout(std::time::Duration::from_secs(30), async {
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => received.extend_from_slice(&chunk),
                Ok(None) => return false,
                Err(_) => return true,
            }
        }
    })
    .await
    .expect("the stream ends");
    assert!(cut, "the body is cut short, not ended as if whole");
    assert!(received.len() < original.len());
    assert!(received == original[..received.len()], "every byte sent is the file's");
}

/// Requests sent one after another without waiting (HTTP/1.1 pipelining, RFC 9112 §9.3) get
/// their answers in order, each with its own bytes: a library file's frames are sent from the
/// file by the connection's socket (`stream::file_send`), one response's after the other's.
#[tokio::test]
async fn pipelined_requests_on_one_connection_each_get_their_own_bytes() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = spawn_app().await;
    let path = app.stream_path("Café Noir").await;
    let file: Vec<u8> = (0..6u32 << 20).map(|n| (n * 7 % 253) as u8).collect();
    std::fs::write(app.library_file(CAFE_NOIR), &file).unwrap();
    let ranges = [(0, 3_000_000), (5, 999_999), (4_000_000, (6 << 20) - 1)];
    let host = app.base.trim_start_matches("http://");
    let mut requests = String::new();
    for (start, end) in ranges {
        requests.push_str(&format!(
            "GET {path} HTTP/1.1\r\nHost: {host}\r\nRange: bytes={start}-{end}\r\n\r\n"
        ));
    }
    let mut connection = tokio::net::TcpStream::connect(host).await.unwrap();
    connection.write_all(requests.as_bytes()).await.unwrap();
    // Each answer's head, then its body: the length of all of them once they are all in.
    let answers_len = |received: &[u8]| {
        let mut at = 0;
        for (start, end) in ranges {
            let head = received.get(at..)?.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
            at += head + (end - start + 1);
        }
        (received.len() >= at).then_some(at)
    };
    let mut received = Vec::new();
    let mut buffer = vec![0u8; 1 << 16];
    // Read slowly at first, so that the later requests wait while the first answer does.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    tokio::time::timeout(std::time::Duration::from_secs(30), async {
        while answers_len(&received).is_none() {
            match connection.read(&mut buffer).await.unwrap() {
                0 => break,
                n => received.extend_from_slice(&buffer[..n]),
            }
        }
    })
    .await
    .expect("every answer, before the connection closes");
    assert_eq!(
        answers_len(&received),
        Some(received.len()),
        "nothing after the answers"
    );
    let mut rest = &received[..];
    for (start, end) in ranges {
        let head_end = rest
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("an answer's head")
            + 4;
        let head = String::from_utf8_lossy(&rest[..head_end]).to_lowercase();
        assert!(head.starts_with("http/1.1 206"), "{head}");
        assert!(
            head.contains(&format!("content-range: bytes {start}-{end}/{}", file.len())),
            "{head}"
        );
        let body = &rest[head_end..];
        let len = end - start + 1;
        assert!(body.len() >= len, "answer to {start}-{end} cut short");
        assert!(
            body[..len] == file[start..=end],
            "answer to {start}-{end} has other bytes"
        );
        rest = &body[len..];
    }
}

#[tokio::test]
async fn a_deleted_file_is_404_not_500() {
    let app = spawn_app().await;
    let path = app.stream_path("Café Noir").await;
    std::fs::remove_file(app.library_file(CAFE_NOIR)).unwrap();
    let (status, body) = app.get_json(&path).await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "media_gone");
}

#[cfg(unix)]
#[tokio::test]
async fn a_file_swapped_for_a_link_out_of_the_library_is_not_served() {
    let app = spawn_app().await;
    let path = app.stream_path("Café Noir").await;
    let outside = tempfile::TempDir::new().unwrap();
    let secret = outside.path().join("secret.opus");
    std::fs::write(&secret, b"not for you").unwrap();
    let file = app.library_file(CAFE_NOIR);
    std::fs::remove_file(&file).unwrap();
    std::os::unix::fs::symlink(&secret, &file).unwrap();
    let (status, body) = app.get_json(&path).await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "media_gone");
}

#[tokio::test]
async fn cors_lets_a_configured_origin_play_and_seek() {
    let app = spawn_app_configured(demo_library(), |c| c.cors_origins = vec!["https://pwa.example".into()]).await;
    let path = app.stream_path("Café Noir").await;
    let response = app
        .client
        .get(app.url(&path))
        .header("origin", "https://pwa.example")
        .header("range", "bytes=0-9")
        .send()
        .await
        .unwrap();
    assert_eq!(
        header(response.headers(), "access-control-allow-origin"),
        "https://pwa.example"
    );
    let exposed = header(response.headers(), "access-control-expose-headers").to_lowercase();
    assert!(
        exposed.contains("content-range") && exposed.contains("accept-ranges"),
        "{exposed}"
    );
    let preflight = app
        .client
        .request(reqwest::Method::OPTIONS, app.url(&path))
        .header("origin", "https://pwa.example")
        .header("access-control-request-method", "GET")
        .header("access-control-request-headers", "range")
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success());
    assert!(header(preflight.headers(), "access-control-allow-headers")
        .to_lowercase()
        .contains("range"));
}
