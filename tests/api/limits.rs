//! What an attacker's connections can't hold: ones that send nothing, trickle a header or sit
//! idle between keep-alive requests are closed after the idle timeout; a paused listener's
//! stream is not; connections over the caps get a 503; a body that stops arriving is a 408 and
//! one too big a 413. Raw TCP, as a misbehaving client would send it.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{timeout, Instant};

use crate::support::{demo_library, spawn_app_configured, write_wav, TestApp};

const IDLE: Duration = Duration::from_secs(1);
/// Far more than any wait below: a test that would hang fails instead.
const PATIENCE: Duration = Duration::from_secs(20);

async fn app_with(adjust: impl FnOnce(&mut anyaudio::config::ConnectionLimits)) -> TestApp {
    spawn_app_configured(demo_library(), |config| {
        config.connections.idle_timeout = IDLE;
        config.connections.request_body_timeout = IDLE;
        adjust(&mut config.connections);
    })
    .await
}

async fn connect(app: &TestApp) -> TcpStream {
    TcpStream::connect(app.base.trim_start_matches("http://"))
        .await
        .unwrap()
}

/// Reads until the server closes the connection; what it sent.
async fn read_to_close(stream: &mut TcpStream) -> Vec<u8> {
    let mut out = Vec::new();
    timeout(PATIENCE, stream.read_to_end(&mut out))
        .await
        .expect("the server closes the connection")
        .ok();
    out
}

/// Reads one answer with a `Content-Length` body: its head and its body.
async fn read_answer(stream: &mut TcpStream) -> (String, Vec<u8>) {
    let mut buf = Vec::new();
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let mut chunk = [0u8; 4096];
        let n = timeout(PATIENCE, stream.read(&mut chunk)).await.unwrap().unwrap();
        assert!(n > 0, "closed before an answer: {}", String::from_utf8_lossy(&buf));
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8(buf[..head_end].to_vec()).unwrap();
    let length: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse().unwrap())
        })
        .expect("a content-length");
    let mut body = buf[head_end..].to_vec();
    while body.len() < length {
        let mut chunk = vec![0u8; 64 * 1024];
        let n = timeout(PATIENCE, stream.read(&mut chunk)).await.unwrap().unwrap();
        assert!(n > 0, "closed mid-body");
        body.extend_from_slice(&chunk[..n]);
    }
    (head, body)
}

const HEALTHZ: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n";

#[tokio::test]
async fn a_connection_that_sends_nothing_is_closed_after_the_idle_timeout() {
    let app = app_with(|_| {}).await;
    let mut silent = connect(&app).await;
    let started = Instant::now();
    assert_eq!(read_to_close(&mut silent).await, b"", "closed without a word");
    assert!(started.elapsed() >= IDLE, "{:?}", started.elapsed());
}

#[tokio::test]
async fn a_keep_alive_connection_is_closed_once_idle_between_requests() {
    let app = app_with(|_| {}).await;
    let mut client = connect(&app).await;
    for round in 0..3 {
        if round > 0 {
            // Requests within the timeout of each other keep it open.
            tokio::time::sleep(IDLE / 2).await;
        }
        client.write_all(HEALTHZ).await.unwrap();
        let (head, _) = read_answer(&mut client).await;
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    }
    let quiet = Instant::now();
    assert_eq!(read_to_close(&mut client).await, b"");
    // The server's clock started when it had written the answer, a little before it was read.
    assert!(quiet.elapsed() >= IDLE * 9 / 10, "{:?}", quiet.elapsed());
}

#[tokio::test]
async fn a_header_sent_a_byte_at_a_time_is_cut_off() {
    let app = app_with(|_| {}).await;
    let mut slow = connect(&app).await;
    let started = Instant::now();
    let mut cut = false;
    for byte in HEALTHZ.iter().cycle().take(200) {
        if slow.write_all(&[*byte]).await.is_err() {
            cut = true;
            break;
        }
        let mut probe = [0u8; 1024];
        match timeout(Duration::from_millis(250), slow.read(&mut probe)).await {
            Ok(Ok(0)) | Ok(Err(_)) => {
                cut = true;
                break;
            }
            Ok(Ok(_)) => panic!("an answer to a header that never ended"),
            Err(_) => {}
        }
    }
    assert!(cut, "still open after {:?}", started.elapsed());
    assert!(started.elapsed() < PATIENCE);
}

#[tokio::test]
async fn a_paused_listener_keeps_its_stream_well_past_the_idle_timeout() {
    let library = tempfile::TempDir::new().unwrap();
    write_wav(&library.path().join("Long Silence.wav"), 120); // ~10 MB: more than the socket buffers
    let app = spawn_app_configured(library, |config| config.connections.idle_timeout = IDLE).await;
    let stream = app.stream_path("Long Silence").await;
    let mut client = connect(&app).await;
    client
        .write_all(format!("GET {stream} HTTP/1.1\r\nHost: localhost\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut first = [0u8; 16 * 1024];
    let n = timeout(PATIENCE, client.read(&mut first)).await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&first[..n]).starts_with("HTTP/1.1 200"));
    // Paused (nothing read) for three idle timeouts: the server is blocked writing, not idle.
    tokio::time::sleep(IDLE * 3).await;
    let mut rest = first[..n].to_vec();
    let (head, body) = {
        let mut more = vec![0u8; 1 << 20];
        let expected = 44 + 44_100 * 2 * 120;
        loop {
            let head_end = rest.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
            if rest.len() - head_end >= expected {
                break (
                    String::from_utf8_lossy(&rest[..head_end]).into_owned(),
                    rest[head_end..].to_vec(),
                );
            }
            let got = timeout(PATIENCE, client.read(&mut more)).await.unwrap().unwrap();
            assert!(got > 0, "the stream was cut after {} bytes", rest.len());
            rest.extend_from_slice(&more[..got]);
        }
    };
    assert!(head.contains(&format!("content-length: {}", body.len())), "{head}");
    assert_eq!(body, std::fs::read(app.library_file("Long Silence.wav")).unwrap());
}

#[tokio::test]
async fn connections_over_the_per_address_cap_get_a_503_until_one_closes() {
    let app = app_with(|limits| {
        limits.max_per_address = 3;
        limits.idle_timeout = PATIENCE;
    })
    .await;
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut client = connect(&app).await;
        client.write_all(HEALTHZ).await.unwrap();
        let (head, _) = read_answer(&mut client).await;
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        held.push(client);
    }
    let mut fourth = connect(&app).await;
    fourth.write_all(HEALTHZ).await.unwrap();
    let (head, body) = read_answer(&mut fourth).await;
    assert!(head.starts_with("HTTP/1.1 503"), "{head}");
    assert!(head.to_ascii_lowercase().contains("retry-after: 5"), "{head}");
    let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["error"]["code"], "too_many_connections");
    assert_eq!(read_to_close(&mut fourth).await, b"", "and closed");

    // One held connection goes: a new one is let in (once the server has seen it close).
    drop(held.pop());
    let deadline = Instant::now() + PATIENCE;
    loop {
        let mut client = connect(&app).await;
        client.write_all(HEALTHZ).await.unwrap();
        let (head, _) = read_answer(&mut client).await;
        if head.starts_with("HTTP/1.1 200") {
            break;
        }
        assert!(Instant::now() < deadline, "never let in again: {head}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn connections_over_the_total_cap_get_a_503() {
    let app = app_with(|limits| {
        limits.max_connections = 2;
        limits.idle_timeout = PATIENCE;
    })
    .await;
    let _one = connect(&app).await;
    let _two = connect(&app).await;
    tokio::time::sleep(Duration::from_millis(100)).await; // both accepted
    let mut third = connect(&app).await;
    third.write_all(HEALTHZ).await.unwrap();
    let (head, _) = read_answer(&mut third).await;
    assert!(head.starts_with("HTTP/1.1 503"), "{head}");
}

#[tokio::test]
async fn a_request_body_that_stops_arriving_is_a_408() {
    let app = app_with(|limits| limits.idle_timeout = PATIENCE).await;
    let mut client = connect(&app).await;
    client
        .write_all(
            b"POST /api/v1/sources/http HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"url\":",
        )
        .await
        .unwrap();
    let started = Instant::now();
    let (head, body) = read_answer(&mut client).await;
    assert!(head.starts_with("HTTP/1.1 408"), "{head}");
    let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["error"]["code"], "request_timeout");
    assert!(started.elapsed() >= IDLE);
}

#[tokio::test]
async fn a_body_over_the_limit_is_a_413() {
    let app = app_with(|_| {}).await;
    let url = format!("http://example.com/{}", "a".repeat(3 << 20));
    let (status, body) = app.add_http_source(&url).await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["error"]["code"], "payload_too_large");
}
