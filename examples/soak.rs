//! The soak test's listeners (`bench/soak.py` runs it): many clients that play, seek, pause and
//! hang up at random across the tracks of a manifest, checking every byte they get against the
//! file it must be. Prints one JSON object.
//!
//! - `run`: `--clients` clients for `--seconds`, each in a loop: ask a track's `stream_url`,
//!   then one of: play it all at full speed; seek and hang up after a while; pause (socket
//!   open, nothing read) and play on to the end; ask a bounded range; listen at 320 kbit/s
//!   and hang up.
//! - `drain`: `--clients` listeners at 320 kbit/s, each on a long track; prints `ready` once
//!   all have their first bytes, then reads until the stream ends, and reports how each ended
//!   (the whole file, or closed early: never a wrong byte, never a short body passed off as
//!   whole). The script sends SIGTERM to the server after `ready`.
//!
//! Manifest: `[{"id": "...", "file": "/path/to/expected/bytes", "format": "opus"?}]`.
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Parser;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

#[derive(Parser)]
struct Args {
    #[arg(long)]
    base: String,
    #[arg(long)]
    manifest: std::path::PathBuf,
    #[arg(long, default_value = "run")]
    mode: String,
    #[arg(long, default_value_t = 300)]
    clients: usize,
    #[arg(long, default_value_t = 120)]
    seconds: u64,
}

#[derive(serde::Deserialize)]
struct Entry {
    id: String,
    file: std::path::PathBuf,
    format: Option<String>,
}

struct Track {
    id: String,
    format: Option<String>,
    bytes: Vec<u8>,
}

/// 320 kbit/s, a listener's rate.
const LISTENER_RATE: f64 = 40_000.0;

#[derive(Default)]
struct Counts {
    requests: AtomicU64,
    whole_bodies: AtomicU64,
    partial_bodies: AtomicU64,
    hung_up: AtomicU64,
    paused: AtomicU64,
    bytes: AtomicU64,
    errors: AtomicU64,
    wrong_bytes: AtomicU64,
    closed_early: AtomicU64,
    samples: Mutex<Vec<String>>,
}

impl Counts {
    fn error(&self, what: String) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        let mut samples = self.samples.lock().unwrap();
        if samples.len() < 20 {
            samples.push(what);
        }
    }
}

/// How a read of a response ended.
enum Ended {
    /// Every byte the response promised, each the right one.
    Whole,
    /// The client stopped reading first (hung up).
    HungUp,
}

#[derive(Debug)]
enum Failure {
    WrongBytes(String),
    /// The request failed or the body ended early, after this many bytes.
    Closed(String, u64),
}

/// How a client reads one response.
#[derive(Default)]
struct Reading {
    /// Hang up after this many bytes.
    stop_after: Option<u64>,
    /// Stop reading this long (socket open) after the first 64 KiB.
    pause: Option<Duration>,
    /// Bytes per second to read at; as fast as they come when None.
    rate: Option<f64>,
    /// Counted up once the first bytes are in (the drain waits for every stream to start).
    started: Option<Arc<AtomicU64>>,
}

/// What a client does with one stream.
#[derive(Clone, Copy)]
enum Act {
    PlayAll,
    SeekAndHangUp,
    PauseThenPlayOn,
    BoundedRange,
    ListenAndHangUp,
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let entries: Vec<Entry> = serde_json::from_slice(&std::fs::read(&args.manifest).unwrap()).unwrap();
    let tracks: Arc<Vec<Track>> = Arc::new(
        entries
            .into_iter()
            .map(|e| Track {
                bytes: std::fs::read(&e.file).unwrap(),
                id: e.id,
                format: e.format,
            })
            .collect(),
    );
    let counts = Arc::new(Counts::default());
    let started = Instant::now();
    match args.mode.as_str() {
        "run" => run(&args, tracks, counts.clone()).await,
        "drain" => drain(&args, tracks, counts.clone()).await,
        other => panic!("unknown mode {other}"),
    }
    let c = &counts;
    let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
    let summary = serde_json::json!({
        "mode": args.mode,
        "clients": args.clients,
        "seconds": started.elapsed().as_secs_f64(),
        "requests": load(&c.requests),
        "whole_bodies_checked": load(&c.whole_bodies),
        "partial_bodies_checked": load(&c.partial_bodies),
        "hung_up": load(&c.hung_up),
        "paused": load(&c.paused),
        "mib": load(&c.bytes) as f64 / (1024.0 * 1024.0),
        "errors": load(&c.errors),
        "wrong_bytes": load(&c.wrong_bytes),
        "closed_early": load(&c.closed_early),
        "error_samples": *c.samples.lock().unwrap(),
    });
    println!("{summary}");
}

async fn run(args: &Args, tracks: Arc<Vec<Track>>, counts: Arc<Counts>) {
    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    let mut clients = tokio::task::JoinSet::new();
    for n in 0..args.clients {
        let (tracks, counts, base) = (tracks.clone(), counts.clone(), args.base.clone());
        clients.spawn(async move {
            let mut rng = StdRng::seed_from_u64(n as u64);
            let client = reqwest::Client::builder()
                .timeout(Duration::from_secs(120))
                .build()
                .unwrap();
            while Instant::now() < deadline {
                let track = &tracks[rng.gen_range(0..tracks.len())];
                let act = match rng.gen_range(0..100) {
                    0..30 => Act::PlayAll,
                    30..55 => Act::SeekAndHangUp,
                    55..70 => Act::PauseThenPlayOn,
                    70..85 => Act::BoundedRange,
                    _ => Act::ListenAndHangUp,
                };
                if let Err(e) = play(&client, &base, track, act, &mut rng, &counts).await {
                    match e {
                        Failure::WrongBytes(what) => {
                            counts.wrong_bytes.fetch_add(1, Ordering::Relaxed);
                            counts.error(what);
                        }
                        Failure::Closed(what, _) => counts.error(what),
                    }
                }
            }
        });
    }
    while clients.join_next().await.is_some() {}
}

async fn stream_url(client: &reqwest::Client, base: &str, track: &Track) -> Result<String, Failure> {
    let mut url = format!("{base}/api/v1/tracks/{}/stream_url", track.id);
    if let Some(format) = &track.format {
        url.push_str(&format!("?format={format}"));
    }
    let response = client
        .get(&url)
        .send()
        .await
        .map_err(|e| Failure::Closed(format!("stream_url: {e}"), 0))?;
    let status = response.status();
    let body: serde_json::Value = response
        .json()
        .await
        .map_err(|e| Failure::Closed(format!("stream_url body: {e}"), 0))?;
    if !status.is_success() {
        return Err(Failure::Closed(format!("stream_url {status}: {body}"), 0));
    }
    Ok(format!("{base}{}", body["url"].as_str().unwrap_or_default()))
}

async fn play(
    client: &reqwest::Client,
    base: &str,
    track: &Track,
    act: Act,
    rng: &mut StdRng,
    counts: &Counts,
) -> Result<(), Failure> {
    let url = stream_url(client, base, track).await?;
    let len = track.bytes.len() as u64;
    let (start, end) = match act {
        Act::PlayAll => (0, None),
        Act::BoundedRange => {
            let a = rng.gen_range(0..len);
            (a, Some(rng.gen_range(a..len.min(a + 2 * 1024 * 1024))))
        }
        _ => (rng.gen_range(0..len), None),
    };
    let reading = match act {
        Act::SeekAndHangUp => Reading {
            stop_after: Some(rng.gen_range(1..2 * 1024 * 1024)),
            ..Default::default()
        },
        Act::PauseThenPlayOn => Reading {
            pause: Some(Duration::from_millis(rng.gen_range(500..4000))),
            ..Default::default()
        },
        Act::ListenAndHangUp => Reading {
            stop_after: Some(rng.gen_range(20_000..200_000)),
            rate: Some(LISTENER_RATE),
            ..Default::default()
        },
        _ => Reading::default(),
    };
    let pause = reading.pause;
    counts.requests.fetch_add(1, Ordering::Relaxed);
    let ended = read(client, &url, track, (start, end), &reading, counts).await?;
    match (ended, end) {
        (Ended::Whole, None) if start == 0 => counts.whole_bodies.fetch_add(1, Ordering::Relaxed),
        (Ended::Whole, _) => counts.partial_bodies.fetch_add(1, Ordering::Relaxed),
        (Ended::HungUp, _) => counts.hung_up.fetch_add(1, Ordering::Relaxed),
    };
    if pause.is_some() {
        counts.paused.fetch_add(1, Ordering::Relaxed);
    }
    Ok(())
}

/// Reads `start..=end` (to the end when None) of `url` as `reading` says, checking every byte
/// against the track's file.
async fn read(
    client: &reqwest::Client,
    url: &str,
    track: &Track,
    (start, end): (u64, Option<u64>),
    reading: &Reading,
    counts: &Counts,
) -> Result<Ended, Failure> {
    let len = track.bytes.len() as u64;
    let range = match end {
        Some(end) => format!("bytes={start}-{end}"),
        None => format!("bytes={start}-"),
    };
    let last = end.unwrap_or(len - 1);
    let mut response = client
        .get(url)
        .header("range", &range)
        .send()
        .await
        .map_err(|e| Failure::Closed(format!("{range}: {e}"), 0))?;
    let status = response.status();
    if status != 206 {
        return Err(Failure::Closed(format!("{range}: status {status}"), 0));
    }
    let content_range = response.headers().get("content-range").and_then(|v| v.to_str().ok());
    let expected = format!("bytes {start}-{last}/{len}");
    if content_range != Some(expected.as_str()) {
        return Err(Failure::WrongBytes(format!(
            "{range}: Content-Range {content_range:?}, not {expected}"
        )));
    }
    let began = Instant::now();
    let mut pos = start;
    let mut paused = reading.pause.is_none();
    let mut started = reading.started.as_ref();
    loop {
        let chunk = match response.chunk().await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => break,
            Err(e) => return Err(Failure::Closed(format!("{range}: closed at {pos}: {e}"), pos - start)),
        };
        let want = &track.bytes[pos as usize..(pos as usize + chunk.len()).min(track.bytes.len())];
        if chunk.len() != want.len() || chunk[..] != *want {
            return Err(Failure::WrongBytes(format!("{range}: wrong bytes at {pos}")));
        }
        pos += chunk.len() as u64;
        counts.bytes.fetch_add(chunk.len() as u64, Ordering::Relaxed);
        if let Some(started) = started.take() {
            started.fetch_add(1, Ordering::SeqCst);
        }
        if reading.stop_after.is_some_and(|n| pos - start >= n) {
            return Ok(Ended::HungUp);
        }
        if let (false, Some(pause)) = (paused, reading.pause) {
            if pos - start > 64 * 1024 {
                paused = true;
                tokio::time::sleep(pause).await;
            }
        }
        if let Some(rate) = reading.rate {
            let due = Duration::from_secs_f64((pos - start) as f64 / rate);
            if let Some(wait) = due.checked_sub(began.elapsed()) {
                tokio::time::sleep(wait).await;
            }
        }
    }
    if pos != last + 1 {
        return Err(Failure::WrongBytes(format!(
            "{range}: the body ended at {pos} as if whole"
        )));
    }
    Ok(Ended::Whole)
}

async fn drain(args: &Args, tracks: Arc<Vec<Track>>, counts: Arc<Counts>) {
    // Streams that have their first bytes, and clients that failed before that.
    let started = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let mut clients = tokio::task::JoinSet::new();
    for n in 0..args.clients {
        let (tracks, counts, base) = (tracks.clone(), counts.clone(), args.base.clone());
        let (started, failed) = (started.clone(), failed.clone());
        clients.spawn(async move {
            // The longest tracks: these streams are still going when the server is told to stop.
            let longest = tracks.iter().map(|t| t.bytes.len()).max().unwrap();
            let long: Vec<&Track> = tracks.iter().filter(|t| t.bytes.len() * 2 > longest).collect();
            let track = long[n % long.len()];
            let client = reqwest::Client::new();
            let reading = Reading {
                rate: Some(LISTENER_RATE),
                started: Some(started),
                ..Default::default()
            };
            let outcome = match stream_url(&client, &base, track).await {
                Ok(url) => {
                    counts.requests.fetch_add(1, Ordering::Relaxed);
                    read(&client, &url, track, (0, None), &reading, &counts).await
                }
                Err(e) => Err(e),
            };
            match outcome {
                Ok(_) => {
                    counts.whole_bodies.fetch_add(1, Ordering::Relaxed);
                }
                Err(Failure::Closed(what, 0)) => {
                    // Never started: counted, or the drain would wait for it forever.
                    failed.fetch_add(1, Ordering::SeqCst);
                    counts.error(what);
                }
                Err(Failure::Closed(..)) => {
                    counts.closed_early.fetch_add(1, Ordering::Relaxed);
                }
                Err(Failure::WrongBytes(what)) => {
                    counts.wrong_bytes.fetch_add(1, Ordering::Relaxed);
                    counts.error(what);
                }
            }
        });
    }
    while started.load(Ordering::SeqCst) + failed.load(Ordering::SeqCst) < args.clients as u64 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    println!("ready {}", started.load(Ordering::SeqCst));
    std::io::stdout().flush().unwrap();
    while clients.join_next().await.is_some() {}
}
