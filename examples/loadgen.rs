//! Load generator for `bench/run.py`: measures one HTTP media endpoint the way players use it
//! and prints one JSON object. Modes:
//! - `fresh`: N plays from byte 0 (`Range: bytes=0-`), each on a new connection; time to first byte.
//! - `seek`: N plays from random offsets (`Range: bytes=X-`), new connections; time to first byte.
//! - `throughput`: read the whole file as a player does (asking `bytes=pos-` again whenever a
//!   response ends early, as the seed's 3 MiB cap forces); MiB/s.
//! - `concurrent`: C clients for D seconds, each asking 1 MiB ranges at random offsets on a
//!   keep-alive connection; requests/s, latency p50/p99, errors.
use std::time::{Duration, Instant};

use clap::Parser;
use rand::Rng;

#[derive(Parser)]
struct Args {
    #[arg(long)]
    url: String,
    #[arg(long)]
    size: u64,
    #[arg(long)]
    mode: String,
    #[arg(long, default_value_t = 300)]
    requests: usize,
    #[arg(long, default_value_t = 256)]
    concurrency: usize,
    #[arg(long, default_value_t = 10)]
    seconds: u64,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

async fn first_byte(client: &reqwest::Client, url: &str, offset: u64) -> Result<f64, String> {
    let started = Instant::now();
    let mut response = client
        .get(url)
        .header("range", format!("bytes={offset}-"))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if !response.status().is_success() {
        return Err(format!("status {}", response.status()));
    }
    let chunk = response.chunk().await.map_err(|e| e.to_string())?;
    let elapsed = started.elapsed().as_secs_f64() * 1000.0;
    chunk.filter(|c| !c.is_empty()).ok_or("empty body")?;
    Ok(elapsed)
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let fresh = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let pooled = reqwest::Client::builder()
        .pool_max_idle_per_host(1024)
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let mut rng = rand::thread_rng();
    let result = match args.mode.as_str() {
        "fresh" | "seek" => {
            let (mut times, mut errors) = (Vec::new(), 0);
            for _ in 0..args.requests {
                let offset = if args.mode == "seek" {
                    rng.gen_range(0..args.size - 1)
                } else {
                    0
                };
                match first_byte(&fresh, &args.url, offset).await {
                    Ok(ms) => times.push(ms),
                    Err(_) => errors += 1,
                }
            }
            times.sort_by(f64::total_cmp);
            serde_json::json!({"p50_ms": percentile(&times, 0.5), "p99_ms": percentile(&times, 0.99), "errors": errors, "n": times.len()})
        }
        "throughput" => {
            let started = Instant::now();
            let (mut pos, mut requests) = (0u64, 0);
            while pos < args.size {
                requests += 1;
                let mut response = pooled
                    .get(&args.url)
                    .header("range", format!("bytes={pos}-"))
                    .send()
                    .await
                    .unwrap();
                assert!(response.status().is_success(), "status {}", response.status());
                while let Some(chunk) = response.chunk().await.unwrap() {
                    pos += chunk.len() as u64;
                }
            }
            let secs = started.elapsed().as_secs_f64();
            serde_json::json!({"mib_per_s": args.size as f64 / 1048576.0 / secs, "requests": requests})
        }
        "concurrent" => {
            let deadline = Instant::now() + Duration::from_secs(args.seconds);
            let mut tasks = Vec::new();
            for _ in 0..args.concurrency {
                let (client, url, size) = (pooled.clone(), args.url.clone(), args.size);
                tasks.push(tokio::spawn(async move {
                    let (mut times, mut errors, mut bytes) = (Vec::new(), 0u64, 0u64);
                    while Instant::now() < deadline {
                        let start = rand::thread_rng().gen_range(0..size - 1_048_576);
                        let end = start + 1_048_575;
                        let began = Instant::now();
                        let outcome = async {
                            let mut r = client
                                .get(&url)
                                .header("range", format!("bytes={start}-{end}"))
                                .send()
                                .await
                                .map_err(|e| e.to_string())?;
                            if r.status() != 206 {
                                return Err(format!("status {}", r.status()));
                            }
                            let mut n = 0u64;
                            while let Some(c) = r.chunk().await.map_err(|e| e.to_string())? {
                                n += c.len() as u64;
                            }
                            // The seed answers closed ranges exactly too; anything else is an error.
                            if n != end - start + 1 {
                                Err(format!("short body {n}"))
                            } else {
                                Ok(n)
                            }
                        }
                        .await;
                        match outcome {
                            Ok(n) => {
                                bytes += n;
                                times.push(began.elapsed().as_secs_f64() * 1000.0);
                            }
                            Err(_) => errors += 1,
                        }
                    }
                    (times, errors, bytes)
                }));
            }
            let (mut times, mut errors, mut bytes) = (Vec::new(), 0, 0);
            for t in tasks {
                let (t, e, b) = t.await.unwrap();
                times.extend(t);
                errors += e;
                bytes += b;
            }
            times.sort_by(f64::total_cmp);
            let secs = args.seconds as f64;
            serde_json::json!({
                "requests_per_s": times.len() as f64 / secs, "p50_ms": percentile(&times, 0.5), "p99_ms": percentile(&times, 0.99),
                "errors": errors, "mib_per_s": bytes as f64 / 1048576.0 / secs
            })
        }
        other => panic!("unknown mode {other}"),
    };
    println!("{result}");
}
