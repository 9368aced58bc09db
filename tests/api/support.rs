//! Starts the real server in-process on port 0 against a temporary copy of the demo library
//! and a temporary data dir, and talks to it over real HTTP.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyaudio::config::{Config, YouTubeConfig};
use anyaudio::sources::ytdlp::YtDlpConfig;
use anyaudio::Application;
use lofty::config::WriteOptions;
use lofty::prelude::*;
use lofty::probe::Probe;
use lofty::tag::Tag;
use reqwest::StatusCode;
use serde_json::Value;
use tempfile::TempDir;

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub library: TempDir,
    pub data: TempDir,
}

/// A fresh copy of the shipped demo library.
pub fn demo_library() -> TempDir {
    let dir = TempDir::new().unwrap();
    copy_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("demo/library"), dir.path());
    dir
}

/// A fresh copy of a folder under `tests/fixtures`, as a library.
pub fn fixture_library(name: &str) -> TempDir {
    let dir = TempDir::new().unwrap();
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name),
        dir.path(),
    );
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(demo_library()).await
}

/// Scans `library` before serving, so every test starts from a complete catalog.
pub async fn spawn_app_with(library: TempDir) -> TestApp {
    spawn_app_configured(library, |_| {}).await
}

/// As [`spawn_app_with`], with the config adjusted first (chunk size, timeouts, ...).
pub async fn spawn_app_configured(library: TempDir, adjust: impl FnOnce(&mut Config)) -> TestApp {
    let _ = tracing_subscriber::fmt()
        .with_test_writer()
        .with_env_filter(std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()))
        .try_init();
    let data = TempDir::new().unwrap();
    let base = serve_on(library.path(), data.path(), true, |config| {
        // Every test origin is on loopback, which the server refuses to fetch from by default
        // (SSRF); the tests of that refusal set this back.
        config.net.egress.allow_private = true;
        adjust(config);
    })
    .await;
    TestApp {
        base,
        client: reqwest::Client::new(),
        library,
        data,
    }
}

/// A server on `library` and `data` (a data dir as a test or an earlier server left it), its
/// config adjusted, the library scanned first if `scan`; its base URL.
pub async fn serve_on(library: &Path, data: &Path, scan: bool, adjust: impl FnOnce(&mut Config)) -> String {
    let mut config = Config::for_tests(vec![library.to_owned()], data.to_owned());
    config.scan_at_start = false;
    adjust(&mut config);
    let app = Application::build(config).await.expect("app builds");
    if scan {
        let catalog = app.catalog().clone();
        tokio::task::spawn_blocking(move || catalog.scan_blocking(false))
            .await
            .unwrap()
            .expect("scan");
    }
    let base = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    base
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("request")
    }

    pub async fn get_json(&self, path: &str) -> (StatusCode, Value) {
        let response = self.get(path).await;
        let status = response.status();
        let body = response.json().await.expect("JSON body");
        (status, body)
    }

    /// The track whose title is `title` (from a search), as JSON.
    pub async fn track_titled(&self, title: &str) -> Value {
        let (status, body) = self
            .get_json(&format!("/api/v1/search?q={}&limit=100", urlencode(title)))
            .await;
        assert_eq!(status, 200, "{body}");
        body["tracks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["title"] == title)
            .cloned()
            .unwrap_or_else(|| panic!("no track titled {title}: {body}"))
    }

    /// A fresh stream path (`/stream/<token>`) for the track titled `title`.
    pub async fn stream_path(&self, title: &str) -> String {
        let track = self.track_titled(title).await;
        let (status, body) = self
            .get_json(&format!("/api/v1/tracks/{}/stream_url", track["id"].as_str().unwrap()))
            .await;
        assert_eq!(status, 200, "{body}");
        body["url"].as_str().unwrap().to_owned()
    }

    /// `POST /api/v1/scan`, as a tool sends it (JSON, no Origin).
    pub async fn start_scan(&self) -> reqwest::Response {
        self.client
            .post(self.url("/api/v1/scan"))
            .header("content-type", "application/json")
            .send()
            .await
            .unwrap()
    }

    /// Starts a rescan over HTTP and waits for it to finish; returns its report.
    pub async fn rescan(&self) -> Value {
        let response = self.start_scan().await;
        assert_eq!(response.status(), 202);
        for _ in 0..500 {
            let (_, body) = self.get_json("/api/v1/scan").await;
            if body["scan"]["running"] == false && body["scan"]["finished_at"].is_u64() {
                return body["scan"].clone();
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("scan did not finish");
    }

    pub fn library_file(&self, relative: &str) -> PathBuf {
        self.library.path().join(relative)
    }
}

/// The titles of a search answer's tracks, in order.
pub fn titles(body: &Value) -> Vec<String> {
    body["tracks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["title"].as_str().unwrap().to_owned())
        .collect()
}

/// Logs in through the JSON API: the `Cookie` value of the session it sets.
pub async fn session_cookie(app: &TestApp, name: &str, password: &str) -> String {
    let login = app
        .client
        .post(app.url("/api/v1/login"))
        .json(&serde_json::json!({ "name": name, "password": password }))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    let cookie = login.headers()["set-cookie"].to_str().unwrap();
    cookie.split(';').next().unwrap().to_owned()
}

pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Rewrites a file's title (and optionally artist) tag, as a tag editor would.
pub fn retag(path: &Path, title: &str, artist: Option<&str>) {
    let mut file = Probe::open(path).unwrap().read().unwrap();
    let tag_type = file.primary_tag_type();
    if file.primary_tag().is_none() {
        file.insert_tag(Tag::new(tag_type));
    }
    let tag = file.primary_tag_mut().unwrap();
    tag.set_title(title.to_owned());
    if let Some(artist) = artist {
        tag.set_artist(artist.to_owned());
    }
    tag.save_to_path(path, WriteOptions::default()).unwrap();
}

pub const CAFE_NOIR: &str = "Zoë Lémieux/Éclat/01 Café Noir.opus";
pub const DAWN_CHORUS: &str = "Aurora Sines/First Light/01 Dawn Chorus.flac";
pub const MORNING_DRIFT: &str = "Aurora Sines/First Light/02 Morning Drift.mp3";
pub const EIGHT_BIT_HEART: &str = "The Square Waves/Retro Circuits/01 Eight Bit Heart.m4a";

impl TestApp {
    /// Adds a remote source by URL; returns the status and the JSON answer.
    pub async fn add_http_source(&self, url: &str) -> (StatusCode, Value) {
        let response = self
            .client
            .post(self.url("/api/v1/sources/http"))
            .json(&serde_json::json!({ "url": url }))
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.json().await.unwrap())
    }

    /// A fresh stream path for the track with this id.
    pub async fn stream_path_of(&self, id: &str) -> String {
        let (status, body) = self.get_json(&format!("/api/v1/tracks/{id}/stream_url")).await;
        assert_eq!(status, 200, "{body}");
        body["url"].as_str().unwrap().to_owned()
    }
}

/// The YouTube source with these yt-dlp settings, no suggestions and no predefined playlists.
pub fn youtube_with(ytdlp: YtDlpConfig) -> Option<YouTubeConfig> {
    Some(YouTubeConfig {
        ytdlp,
        suggest_url: None,
        playlists: Vec::new(),
    })
}

/// A valid WAV file of `seconds` of silence (16-bit mono 44.1 kHz): big, and readable by the scanner.
pub fn write_wav(path: &std::path::Path, seconds: u32) {
    let data_len = 44_100 * 2 * seconds;
    let mut header = Vec::new();
    header.extend_from_slice(b"RIFF");
    header.extend_from_slice(&(36 + data_len).to_le_bytes());
    header.extend_from_slice(b"WAVEfmt ");
    header.extend_from_slice(&16u32.to_le_bytes());
    header.extend_from_slice(&1u16.to_le_bytes()); // PCM
    header.extend_from_slice(&1u16.to_le_bytes()); // mono
    header.extend_from_slice(&44_100u32.to_le_bytes());
    header.extend_from_slice(&(44_100u32 * 2).to_le_bytes());
    header.extend_from_slice(&2u16.to_le_bytes());
    header.extend_from_slice(&16u16.to_le_bytes());
    header.extend_from_slice(b"data");
    header.extend_from_slice(&data_len.to_le_bytes());
    let mut file = std::fs::File::create(path).unwrap();
    use std::io::Write;
    file.write_all(&header).unwrap();
    file.write_all(&vec![0u8; data_len as usize]).unwrap();
}

/// The test process's resident memory, in bytes (the memory tests: `tests/memory.rs`,
/// `tests/listeners.rs`).
#[allow(dead_code)]
pub fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .unwrap()
        .trim()
        .trim_end_matches(" kB")
        .trim()
        .parse()
        .unwrap();
    kib * 1024
}
