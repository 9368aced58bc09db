//! The googlevideo stand-in of the tests (`tests/api/googlevideo.rs`) as a program, for
//! `bench/run.py`: serves one file to every `/videoplayback?…&clen=<its size>&range=a-b` URL,
//! answering as googlevideo does (a 200 carrying the range, no Content-Range).
//!
//! Usage: googlevideo --listen 127.0.0.1:18105 --file bench.mp3
#![allow(dead_code)]

#[path = "../tests/api/origin.rs"]
mod origin;

#[path = "../tests/api/googlevideo.rs"]
mod googlevideo;

use clap::Parser;

#[derive(Parser)]
struct Args {
    #[arg(long)]
    listen: String,
    #[arg(long)]
    file: std::path::PathBuf,
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let file = bytes::Bytes::from(std::fs::read(&args.file).expect("the media file"));
    let _origin = googlevideo::GoogleVideo::serving(Some(file), &args.listen).await;
    std::future::pending::<()>().await;
}
