//! Listener load for `bench/listeners.py`: many clients playing audio the way a listener does,
//! for a bounded time, on loopback. Prints one JSON object.
//!
//! Each client picks one of the `--url`s (round robin), asks `Range: bytes=0-` and reads at
//! `--rate` bytes/s (320 kbit/s by default: 40,000 B/s) in small reads, as a player's decoder
//! takes them; after `--play` seconds it pauses for `--pause` seconds (socket open, nothing
//! read), then seeks: hangs up and asks from the middle of the file, and reads at its rate
//! again until the run ends. A client that reaches the end of the file starts over.
//!
//! Raw HTTP/1.1 over `TcpStream` (no client library): 10,000 clients must cost the generator
//! little, and every byte read is counted where it arrives.
//!
//! Reports per client whether it ever fell behind its rate by more than `--stall` seconds of
//! audio (a stall: the player would have run dry), errors (failed connects, statuses other
//! than 200/206, bodies cut short), and the time to first byte of every request. Stalls are
//! also counted by URL, by play (before or after the seek) and by the 5 s of the run they
//! began in: what a stall comes from shows in where and when it happens.
use std::time::{Duration, Instant};

use clap::Parser;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[derive(Parser)]
struct Args {
    /// Media URLs (http://127.0.0.1:port/path), spread over the clients in turn.
    #[arg(long, required = true)]
    url: Vec<String>,
    #[arg(long, default_value_t = 1000)]
    clients: usize,
    /// How long the run lasts, seconds (clients still connected then hang up).
    #[arg(long, default_value_t = 60)]
    seconds: u64,
    /// Bytes per second each client reads (320 kbit/s).
    #[arg(long, default_value_t = 40_000)]
    rate: u64,
    /// Seconds of playing before the pause.
    #[arg(long, default_value_t = 10)]
    play: u64,
    /// Seconds of pause (nothing read) before the seek.
    #[arg(long, default_value_t = 10)]
    pause: u64,
    /// Seconds over which the clients connect.
    #[arg(long, default_value_t = 10)]
    ramp: u64,
    /// Seconds of audio a client may fall behind before that counts as a stall.
    #[arg(long, default_value_t = 2.0)]
    stall: f64,
    /// Bytes per read (a decoder's read).
    #[arg(long, default_value_t = 8192)]
    read: usize,
}

#[derive(Default)]
struct Outcome {
    requests: u64,
    bytes: u64,
    errors: Vec<String>,
    /// The most this client fell behind its rate, in seconds of audio.
    worst_lag: f64,
    /// When (seconds into the run) and in which play (0: the first, 1: after the seek) this
    /// client first fell behind by more than `--stall`.
    stalled_at: Option<(f64, usize)>,
    ttfb_ms: Vec<f64>,
}

struct Target {
    host_port: String,
    path: String,
}

fn target(url: &str) -> Target {
    let rest = url.strip_prefix("http://").expect("http:// URLs only");
    let (host_port, path) = rest.split_once('/').unwrap_or((rest, ""));
    Target {
        host_port: host_port.to_owned(),
        path: format!("/{path}"),
    }
}

/// An open response: its status, the body's total length (from `Content-Range` or
/// `Content-Length`), and the body bytes that came with the head.
struct Opened {
    stream: TcpStream,
    total: u64,
    remaining: u64,
}

async fn open(t: &Target, from: u64, out: &mut Outcome) -> Result<Opened, String> {
    let started = Instant::now();
    let mut stream = TcpStream::connect(&t.host_port)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nRange: bytes={from}-\r\nUser-Agent: listeners\r\n\r\n",
        t.path, t.host_port
    );
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| format!("write: {e}"))?;
    // The head, byte by byte in small reads until the blank line (heads are small).
    let mut head = Vec::with_capacity(1024);
    let mut buf = [0u8; 1024];
    let body_start = loop {
        let n = stream.read(&mut buf).await.map_err(|e| format!("read head: {e}"))?;
        if n == 0 {
            return Err("closed before the head".into());
        }
        head.extend_from_slice(&buf[..n]);
        if let Some(end) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
        if head.len() > 16 * 1024 {
            return Err("head too large".into());
        }
    };
    out.ttfb_ms.push(started.elapsed().as_secs_f64() * 1000.0);
    out.requests += 1;
    let text = String::from_utf8_lossy(&head[..body_start]).to_ascii_lowercase();
    let status = text.split_whitespace().nth(1).unwrap_or("");
    if status != "200" && status != "206" {
        return Err(format!("status {status}"));
    }
    let header = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.trim().to_owned())
    };
    let length: u64 = header("content-length:")
        .and_then(|v| v.parse().ok())
        .ok_or("no content-length")?;
    let total = match header("content-range:") {
        Some(range) => range
            .rsplit('/')
            .next()
            .and_then(|v| v.parse().ok())
            .ok_or("bad content-range")?,
        None => length,
    };
    let early = (head.len() - body_start) as u64;
    out.bytes += early;
    Ok(Opened {
        stream,
        total,
        remaining: length.saturating_sub(early),
    })
}

/// Reads at `rate` until `until`, `pause_at` (then returns true) or the body's end; `began`
/// is the run's start and `seeked` whether this is the play after the seek (for the stall).
/// Returns Ok(true) when paused, Ok(false) at the end of the body or of the run.
async fn play(
    opened: &mut Opened,
    args: &Args,
    began: Instant,
    seeked: bool,
    until: Instant,
    pause_at: Option<Instant>,
    out: &mut Outcome,
) -> Result<bool, String> {
    let started = Instant::now();
    let mut read_here = 0u64;
    let mut buf = vec![0u8; args.read];
    loop {
        let now = Instant::now();
        if now >= until {
            return Ok(false);
        }
        if pause_at.is_some_and(|p| now >= p) {
            return Ok(true);
        }
        if opened.remaining == 0 {
            return Ok(false);
        }
        // Where a player reading at `rate` would be; read up to it, then wait for the next read.
        let due = (now - started).as_secs_f64() * args.rate as f64;
        let lag = (due - read_here as f64) / args.rate as f64;
        out.worst_lag = out.worst_lag.max(lag);
        if lag > args.stall && out.stalled_at.is_none() {
            out.stalled_at = Some(((now - began).as_secs_f64(), usize::from(seeked)));
        }
        if (read_here as f64) < due {
            let want = (opened.remaining as usize).min(buf.len());
            let n = opened
                .stream
                .read(&mut buf[..want])
                .await
                .map_err(|e| format!("read body: {e}"))?;
            if n == 0 {
                return Err(format!("body cut short, {} bytes missing", opened.remaining));
            }
            read_here += n as u64;
            opened.remaining -= n as u64;
            out.bytes += n as u64;
        } else {
            let ahead = (read_here as f64 - due) / args.rate as f64;
            tokio::time::sleep(Duration::from_secs_f64(ahead.max(0.001))).await;
        }
    }
}

async fn listener(args: &Args, t: &Target, began: Instant, start: Instant, until: Instant) -> Outcome {
    let mut out = Outcome::default();
    tokio::time::sleep_until(start.into()).await;
    let mut from = 0;
    let mut pause_at = Some(Instant::now() + Duration::from_secs(args.play));
    while Instant::now() < until {
        let mut opened = match open(t, from, &mut out).await {
            Ok(o) => o,
            Err(e) => {
                out.errors.push(e);
                return out;
            }
        };
        let seeked = pause_at.is_none();
        match play(&mut opened, args, began, seeked, until, pause_at, &mut out).await {
            Ok(true) => {
                // Paused: the connection stays open, nothing is read.
                tokio::time::sleep(Duration::from_secs(args.pause)).await;
                pause_at = None;
                from = opened.total / 2;
            }
            Ok(false) if opened.remaining == 0 => from = 0, // the end: start over
            Ok(false) => return out,
            Err(e) => {
                out.errors.push(e);
                return out;
            }
        }
    }
    out
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main]
async fn main() {
    let args: &'static Args = Box::leak(Box::new(Args::parse()));
    let targets: &'static Vec<Target> = Box::leak(Box::new(args.url.iter().map(|u| target(u)).collect()));
    let began = Instant::now();
    let until = began + Duration::from_secs(args.seconds);
    let tasks: Vec<_> = (0..args.clients)
        .map(|i| {
            let start = began + Duration::from_secs_f64(args.ramp as f64 * i as f64 / args.clients as f64);
            tokio::spawn(listener(args, &targets[i % targets.len()], began, start, until))
        })
        .collect();
    let (mut requests, mut bytes, mut stalls, mut worst_lag) = (0u64, 0u64, 0usize, 0f64);
    let (mut errors, mut error_count): (Vec<String>, usize) = (Vec::new(), 0);
    let mut ttfb = Vec::new();
    // Stalls by URL, by play (before and after the seek) and by the 5 s of the run they began in.
    let mut stalls_by_url = vec![0usize; targets.len()];
    let mut stalls_by_play = [0usize; 2];
    let mut stalls_by_time = vec![0usize; args.seconds as usize / 5 + 1];
    for (i, task) in tasks.into_iter().enumerate() {
        let out = task.await.expect("listener task");
        requests += out.requests;
        bytes += out.bytes;
        if let Some((at, play)) = out.stalled_at {
            stalls += 1;
            stalls_by_url[i % targets.len()] += 1;
            stalls_by_play[play] += 1;
            let last = stalls_by_time.len() - 1;
            stalls_by_time[(at as usize / 5).min(last)] += 1;
        }
        worst_lag = worst_lag.max(out.worst_lag);
        error_count += out.errors.len();
        errors.extend(out.errors);
        ttfb.extend(out.ttfb_ms);
    }
    ttfb.sort_by(f64::total_cmp);
    errors.sort();
    errors.dedup();
    println!(
        "{}",
        serde_json::json!({
            "clients": args.clients,
            "requests": requests,
            "bytes": bytes,
            "errors": error_count,
            "error_kinds": errors.iter().take(5).collect::<Vec<_>>(),
            "stalls": stalls,
            "stalls_by_url": stalls_by_url,
            "stalls_by_play": stalls_by_play,
            "stalls_by_5s": stalls_by_time,
            "worst_lag_s": worst_lag,
            "ttfb_p50_ms": percentile(&ttfb, 0.5),
            "ttfb_p99_ms": percentile(&ttfb, 0.99),
            "elapsed_s": began.elapsed().as_secs_f64(),
        })
    );
}
