//! A 1 GiB remote stream, read slowly, keeps the server's memory flat: the proxy holds a few
//! frames per stream, and a slow client slows the upstream (backpressure). Alone in its own
//! test binary so that no other test's allocations blur the measurement.
#![allow(dead_code)]

#[path = "api/origin.rs"]
mod origin;
#[path = "api/support.rs"]
mod support;

use std::sync::atomic::Ordering;
use std::time::Duration;

use origin::{pattern, Content, Faults, Origin};

const MIB: u64 = 1024 * 1024;

/// The largest buffer the kernel may give a TCP socket (`/proc/sys/net/ipv4/tcp_rmem` or
/// `tcp_wmem`: min, default, max).
fn tcp_buffer_max(name: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/sys/net/ipv4/{name}"))
        .ok()
        .and_then(|s| s.split_whitespace().nth(2)?.parse().ok())
        .unwrap_or(6 * MIB)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_1_gib_stream_read_slowly_keeps_memory_flat_and_exact() {
    let origin = Origin::start().await;
    let len = 1024 * MIB;
    let url = origin.put("huge.flac", Content::Generated(len), Faults::default());
    let app = support::spawn_app().await;
    let (status, body) = app.add_http_source(&url).await;
    assert_eq!(status, 201, "{body}");
    let stream = app.stream_path_of(body["tracks"][0]["id"].as_str().unwrap()).await;

    let sent_at_start = origin.state.bytes_sent.load(Ordering::SeqCst);
    let mut response = app.client.get(app.url(&stream)).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let baseline = support::rss_bytes();
    let (mut received, mut peak, mut next_pause, mut max_ahead) = (0u64, baseline, 64 * MIB, 0u64);
    while let Some(chunk) = response.chunk().await.unwrap() {
        for (i, b) in chunk.iter().enumerate() {
            if *b != pattern(received + i as u64) {
                panic!("byte {} differs", received + i as u64);
            }
        }
        received += chunk.len() as u64;
        if received >= next_pause {
            // A slow reader: stop for a while. The upstream must not run ahead by more than the
            // socket buffers and a few frames.
            tokio::time::sleep(Duration::from_millis(300)).await;
            let ahead = (origin.state.bytes_sent.load(Ordering::SeqCst) - sent_at_start).saturating_sub(received);
            max_ahead = max_ahead.max(ahead);
            peak = peak.max(support::rss_bytes());
            next_pause += 64 * MIB;
        }
    }
    assert_eq!(received, len);
    let growth = peak.saturating_sub(baseline);
    eprintln!(
        "RSS baseline {} MiB, peak {} MiB, upstream ahead of the client at most {} MiB",
        baseline / MIB,
        peak / MIB,
        max_ahead / MIB
    );
    assert!(
        growth < 48 * MIB,
        "memory grew by {} MiB while streaming 1 GiB",
        growth / MIB
    );
    // Ahead of the client are: the client's socket receive buffer and the proxy's send buffer
    // (the kernel's, which autotunes up to `tcp_rmem`/`tcp_wmem`'s maximum: 32 MiB + 4 MiB on
    // this workplace's machines, so a fixed bound here was flaky), plus at most two upstream
    // chunks (the one being sent and the prefetched one). Without backpressure it would be
    // most of the gigabyte.
    let kernel = tcp_buffer_max("tcp_rmem") + tcp_buffer_max("tcp_wmem");
    let chunks = 2 * anyaudio::upstream::UpstreamLimits::default().chunk_size;
    let bound = kernel + chunks + 4 * MIB;
    assert!(
        max_ahead < bound,
        "the upstream ran {} MiB ahead of a paused client (bound {} MiB)",
        max_ahead / MIB,
        bound / MIB
    );
}
