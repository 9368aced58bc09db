//! The tests' faulty HTTP origin (`tests/api/origin.rs`) as a program, for `bench/soak.py`:
//! serves one file at `/<its name>` with the faults given, as a flaky link would.
//!
//! Usage: origin --listen 127.0.0.1:18106 --file track.mp3 [--drop-every BYTES]
//!        [--server-error-at 7,50,300]
#![allow(dead_code)]

#[path = "../tests/api/origin.rs"]
mod origin;

use std::time::Duration;

use clap::Parser;

#[derive(Parser)]
struct Args {
    #[arg(long)]
    listen: String,
    #[arg(long)]
    file: std::path::PathBuf,
    /// Every response's connection drops after this many body bytes.
    #[arg(long)]
    drop_every: Option<u64>,
    /// These request numbers (1-based) are answered 500.
    #[arg(long, value_delimiter = ',')]
    server_error_at: Vec<usize>,
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let file = bytes::Bytes::from(std::fs::read(&args.file).expect("the media file"));
    let name = args
        .file
        .file_name()
        .expect("a file name")
        .to_string_lossy()
        .into_owned();
    let origin = origin::Origin::start_on(&args.listen).await;
    let faults = origin::Faults {
        drop_every: args.drop_every,
        server_error: args.server_error_at,
        ..Default::default()
    };
    origin.put(&name, origin::Content::Bytes(file), faults);
    // The origin logs every request for the tests; a long run needs none of it.
    loop {
        tokio::time::sleep(Duration::from_secs(5)).await;
        origin.clear_log();
    }
}
