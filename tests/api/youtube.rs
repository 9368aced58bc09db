//! The yt-dlp source, end to end and offline: the real yt-dlp (installed by the test command)
//! resolves media on a loopback origin through its generic extractor. Fake yt-dlp scripts stand
//! in only to inject faults: hangs, garbage output, slowness.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyaudio::config::YouTubeConfig;
use anyaudio::sources::ytdlp::YtDlpConfig;
use bytes::Bytes;
use tempfile::TempDir;

use crate::origin::{Content, Faults, Origin};
use crate::support::{demo_library, spawn_app_configured, youtube_with, TestApp, MORNING_DRIFT};

/// The real yt-dlp: `ANYAUDIO_TEST_YT_DLP` (set by scripts/test.sh), else `yt-dlp` on PATH.
pub fn real_yt_dlp() -> PathBuf {
    let path = std::env::var_os("ANYAUDIO_TEST_YT_DLP")
        .map(PathBuf::from)
        .unwrap_or_else(|| "yt-dlp".into());
    let ok = std::process::Command::new(&path)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "yt-dlp not found at {}: run the tests through scripts/test.sh, which installs it",
        path.display()
    );
    path
}

/// How the server runs yt-dlp in a test: the yt-dlp tests run in both.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Workers,
    PerCall,
}

impl Mode {
    /// What `/healthz` says of it (`sources.youtube.execution.mode`).
    pub fn name(self) -> &'static str {
        match self {
            Mode::Workers => "workers",
            Mode::PerCall => "process",
        }
    }
}

/// Runs `$case(Mode)` as two tests, `$case::workers` and `$case::per_call`.
macro_rules! in_both_modes {
    ($($case:ident),* $(,)?) => {$(
        mod $case {
            #![allow(unused_imports)]
            #[tokio::test]
            async fn workers() {
                super::$case(super::Mode::Workers).await
            }
            #[tokio::test]
            async fn per_call() {
                super::$case(super::Mode::PerCall).await
            }
        }
    )*};
}
pub(crate) use in_both_modes;

/// The tests' yt-dlp plugins (tests/fixtures/ytdlp/plugins): stand-ins and an observer that
/// run inside the real yt-dlp.
pub fn plugin_dirs() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ytdlp/plugins");
    vec!["--plugin-dirs".into(), dir.display().to_string()]
}

/// What the real yt-dlp extracted, seen from inside it (the observer plugin, run after every
/// extraction): one JSON object per page, with the options of its call.
pub struct Observed {
    _dir: TempDir,
    log: PathBuf,
}

impl Observed {
    pub fn new() -> Observed {
        let dir = TempDir::new().unwrap();
        let log = dir.path().join("extracted.log");
        Observed { _dir: dir, log }
    }

    /// yt-dlp options that load the observer.
    pub fn options(&self) -> Vec<String> {
        let mut options = plugin_dirs();
        options.extend([
            "--use-postprocessor".into(),
            format!("AnyaudioObserve:when=pre_process;log={}", self.log.display()),
        ]);
        options
    }

    pub fn pages(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// The pages resolved for playing (`-f` given), as (page, format selection).
    pub fn resolutions(&self) -> Vec<(String, String)> {
        self.pages()
            .iter()
            .filter_map(|p| Some((p["target"].as_str()?.to_owned(), p["format"].as_str()?.to_owned())))
            .collect()
    }
}

/// Recorded YouTube answers inside the real yt-dlp (the recorded-YouTube plugin): each target
/// (exactly, or by a prefix ending in `*`) answers with a recorded listing, video or error.
pub struct Recorded {
    pub dir: TempDir,
    targets: serde_json::Map<String, serde_json::Value>,
}

impl Recorded {
    pub fn new() -> Recorded {
        Recorded {
            dir: TempDir::new().unwrap(),
            targets: serde_json::Map::new(),
        }
    }

    /// yt-dlp options that load the recordings.
    pub fn options(&self) -> Vec<String> {
        let mut options = plugin_dirs();
        options.extend([
            "--extractor-args".into(),
            format!("anyaudiorecorded:dir={}", self.dir.path().display()),
        ]);
        options
    }

    fn answer(&mut self, target: &str, answer: serde_json::Value) {
        self.targets.insert(target.into(), answer);
        std::fs::write(
            self.dir.path().join("targets.json"),
            serde_json::to_string(&self.targets).unwrap(),
        )
        .unwrap();
    }

    /// `target` answers with the listing at `fixture` (under tests/fixtures/ytdlp).
    pub fn listing(&mut self, target: &str, fixture: &str) {
        let file = format!("listing-{}.json", self.targets.len());
        std::fs::copy(fixtures().join(fixture), self.dir.path().join(&file)).unwrap();
        self.answer(target, serde_json::json!({ "print": file }));
    }

    /// `target` answers with the video `info` (a recorded `-J`), yt-dlp selecting its format.
    pub fn video(&mut self, target: &str, info: &serde_json::Value) {
        let file = format!("video-{}.json", self.targets.len());
        std::fs::write(self.dir.path().join(&file), info.to_string()).unwrap();
        self.answer(target, serde_json::json!({ "info": file }));
    }

    /// `target` fails with the recorded ERROR `line`.
    pub fn error(&mut self, target: &str, line: &str) {
        self.answer(target, serde_json::json!({ "error": line }));
    }

    /// Every call so far: its target and the options of the call (`format`, `flat`,
    /// `noplaylist`, `items`, `proxy`, `source_address`).
    pub fn calls(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(self.dir.path().join("calls.log"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ytdlp")
}

/// The real yt-dlp, run in `mode`.
pub fn real_in(mode: Mode) -> YtDlpConfig {
    YtDlpConfig {
        program: real_yt_dlp(),
        per_call: mode == Mode::PerCall,
        timeout: Duration::from_secs(60),
        ..YtDlpConfig::default()
    }
}

/// The real yt-dlp in `mode`, watched by `observed`.
pub fn observed_in(mode: Mode, observed: &Observed) -> YtDlpConfig {
    YtDlpConfig {
        extra_args: observed.options(),
        ..real_in(mode)
    }
}

pub fn write_script(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, body).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

async fn youtube_app(program: PathBuf, workers: usize, timeout: Duration) -> TestApp {
    youtube_app_with(YtDlpConfig {
        program,
        workers,
        timeout,
        ..YtDlpConfig::default()
    })
    .await
}

/// The demo library with the YouTube source on `ytdlp`, once its start-up check is done.
pub async fn youtube_app_with(ytdlp: YtDlpConfig) -> TestApp {
    youtube_app_in(ytdlp, None).await
}

async fn youtube_app_in(ytdlp: YtDlpConfig, data: Option<&Path>) -> TestApp {
    let app = spawn_app_configured(demo_library(), |c| {
        c.youtube = youtube_with(ytdlp);
        if let Some(data) = data {
            c.data_dir = data.to_owned();
        }
    })
    .await;
    ready(&app).await;
    app
}

/// `/healthz` once the availability check (run in the background at start) is done.
pub async fn ready(app: &TestApp) -> serde_json::Value {
    for _ in 0..400 {
        let (_, health) = app.get_json("/healthz").await;
        let youtube = &health["sources"]["youtube"];
        if youtube["reason"] != "not checked yet" && youtube["execution"]["reason"] != "not started yet" {
            return health;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the yt-dlp check never finished");
}

/// Asserts yt-dlp runs in `mode` (a test of the workers must not pass on the fallback).
pub async fn assert_mode(app: &TestApp, mode: Mode) {
    let health = ready(app).await;
    assert_eq!(
        health["sources"]["youtube"]["execution"]["mode"],
        mode.name(),
        "{health}"
    );
}

pub async fn post(app: &TestApp, path: &str, url: &str) -> (reqwest::StatusCode, serde_json::Value) {
    let response = app
        .client
        .post(app.url(path))
        .json(&serde_json::json!({ "url": url }))
        .send()
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap())
}

fn demo_mp3() -> Bytes {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("demo/library")
            .join(MORNING_DRIFT),
    )
    .unwrap()
    .into()
}

in_both_modes!(
    a_page_resolved_by_real_yt_dlp_streams_byte_exact_with_seeking,
    concurrent_plays_of_one_track_run_one_yt_dlp_and_a_restart_stays_warm,
    the_format_follows_the_client_and_the_next_tracks_are_resolved_ahead,
    a_playlist_is_imported_listed_played_and_refreshed,
    a_query_or_url_is_never_a_yt_dlp_option,
);

async fn a_page_resolved_by_real_yt_dlp_streams_byte_exact_with_seeking(mode: Mode) {
    let origin = Origin::start().await;
    let mp3 = demo_mp3();
    let url = origin.put("songs/drift.mp3", Content::Bytes(mp3.clone()), Faults::default());
    let app = youtube_app_with(real_in(mode)).await;
    assert_mode(&app, mode).await;
    let (_, health) = app.get_json("/healthz").await;
    assert_eq!(health["sources"]["youtube"]["available"], true, "{health}");

    let (status, body) = post(&app, "/api/v1/tracks/import", &url).await;
    assert_eq!(status, 201, "{body}");
    let track = &body["tracks"][0];
    assert_eq!(track["source"], "ytdlp");
    assert!(track["id"].as_str().unwrap().starts_with("x-"));
    let (status, answer) = app
        .get_json(&format!("/api/v1/tracks/{}/stream_url", track["id"].as_str().unwrap()))
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["mime"], "audio/mpeg");
    let stream = answer["url"].as_str().unwrap();
    let whole = app.get(stream).await;
    assert_eq!(whole.status(), 200);
    assert_eq!(whole.headers()["content-length"], mp3.len().to_string());
    assert!(whole.bytes().await.unwrap() == mp3);
    let seek = app
        .client
        .get(app.url(stream))
        .header("range", "bytes=100000-")
        .send()
        .await
        .unwrap();
    assert_eq!(seek.status(), 206);
    assert_eq!(
        seek.headers()["content-range"],
        format!("bytes 100000-{}/{}", mp3.len() - 1, mp3.len())
    );
    assert!(seek.bytes().await.unwrap() == mp3[100_000..]);
    // yt-dlp's own headers went upstream with every request.
    let asked = origin.requests("songs/drift.mp3");
    assert!(
        asked
            .iter()
            .filter(|r| r.range.is_some())
            .all(|r| r.headers.get("sec-fetch-mode").is_some()),
        "{asked:?}"
    );
}

async fn concurrent_plays_of_one_track_run_one_yt_dlp_and_a_restart_stays_warm(mode: Mode) {
    let origin = Origin::start().await;
    let url = origin.put("one.mp3", Content::Bytes(demo_mp3()), Faults::default());
    let observed = Observed::new();
    let data = TempDir::new().unwrap();
    let data_path = data.path().to_owned();
    let ytdlp = YtDlpConfig {
        workers: 4,
        ..observed_in(mode, &observed)
    };
    let app = youtube_app_in(ytdlp.clone(), Some(&data_path)).await;
    assert_mode(&app, mode).await;
    let (status, body) = post(&app, "/api/v1/tracks/import", &url).await;
    assert_eq!(status, 201, "{body}");
    let id = body["tracks"][0]["id"].as_str().unwrap().to_owned();
    let mut requests = Vec::new();
    for _ in 0..12 {
        let (client, endpoint) = (app.client.clone(), app.url(&format!("/api/v1/tracks/{id}/stream_url")));
        requests.push(tokio::spawn(async move {
            client.get(endpoint).send().await.unwrap().status()
        }));
    }
    for r in requests {
        assert_eq!(r.await.unwrap(), 200);
    }
    assert_eq!(observed.resolutions().len(), 1, "{:?}", observed.pages());

    // A new server on the same data dir answers from the kept resolution.
    let mut again = anyaudio::config::Config::for_tests(vec![app.library.path().to_owned()], data_path);
    again.scan_at_start = false;
    again.youtube = youtube_with(YtDlpConfig { workers: 1, ..ytdlp });
    let server = anyaudio::Application::build(again).await.unwrap();
    let base = format!("http://127.0.0.1:{}", server.port());
    tokio::spawn(server.run_until_stopped());
    tokio::time::sleep(Duration::from_millis(500)).await; // its --version check
    let response = reqwest::get(format!("{base}/api/v1/tracks/{id}/stream_url"))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(observed.resolutions().len(), 1, "a restart ran yt-dlp again");
    drop((app, data));
}

async fn the_format_follows_the_client_and_the_next_tracks_are_resolved_ahead(mode: Mode) {
    let origin = Origin::start().await;
    let a = origin.put("a.mp3", Content::Bytes(demo_mp3()), Faults::default());
    let b = origin.put("b.mp3", Content::Bytes(demo_mp3()), Faults::default());
    let observed = Observed::new();
    let app = youtube_app_with(observed_in(mode, &observed)).await;
    assert_mode(&app, mode).await;
    let resolved = |page: &str, selection: &str| {
        observed
            .resolutions()
            .iter()
            .any(|(p, f)| p.ends_with(page) && f.contains(selection))
    };
    let id_a = post(&app, "/api/v1/tracks/import", &a).await.1["tracks"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let id_b = post(&app, "/api/v1/tracks/import", &b).await.1["tracks"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let safari = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1";
    let response = app
        .client
        .get(app.url(&format!("/api/v1/tracks/{id_a}/stream_url?prefetch={id_b}")))
        .header("user-agent", safari)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(resolved("/a.mp3", "ba[ext=m4a]"), "{:?}", observed.pages());
    // b was resolved in the background: its stream_url runs no yt-dlp of its own.
    for _ in 0..100 {
        if resolved("/b.mp3", "") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let before = observed.pages().len();
    let response = app
        .client
        .get(app.url(&format!("/api/v1/tracks/{id_b}/stream_url")))
        .header("user-agent", safari)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        observed.pages().len(),
        before,
        "the prefetched track was resolved again"
    );
    // An explicit format wins; an unknown one is a 400.
    let response = app
        .client
        .get(app.url(&format!("/api/v1/tracks/{id_a}/stream_url?format=opus")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(resolved("/a.mp3", "ba[acodec=opus]"), "{:?}", observed.pages());
    let (status, body) = app
        .get_json(&format!("/api/v1/tracks/{id_a}/stream_url?format=flac"))
        .await;
    assert_eq!(
        (status.as_u16(), body["error"]["code"].as_str()),
        (400, Some("bad_request"))
    );
}

async fn a_playlist_is_imported_listed_played_and_refreshed(mode: Mode) {
    let origin = Origin::start().await;
    origin.put("e1.mp3", Content::Bytes(demo_mp3()), Faults::default());
    origin.put("e2.mp3", Content::Bytes(demo_mp3()), Faults::default());
    let feed = format!(
        r#"<?xml version="1.0"?><rss version="2.0"><channel><title>Loop Feed</title>
<item><title>First</title><enclosure url="{0}/e1.mp3" type="audio/mpeg" length="1"/><link>{0}/e1.mp3</link></item>
<item><title>Second</title><enclosure url="{0}/e2.mp3" type="audio/mpeg" length="1"/><link>{0}/e2.mp3</link></item>
</channel></rss>"#,
        origin.base
    );
    let url = origin.put(
        "feed.xml",
        Content::Bytes(feed.into()),
        Faults {
            content_type: Some("application/rss+xml"),
            ..Default::default()
        },
    );
    let app = youtube_app_with(real_in(mode)).await;
    assert_mode(&app, mode).await;
    let (status, body) = post(&app, "/api/v1/playlists/import", &url).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["playlist"]["kind"], "youtube");
    assert_eq!(body["playlist"]["name"], "Loop Feed");
    let titles: Vec<&str> = body["tracks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, vec!["First", "Second"]);
    let playlist_id = body["playlist"]["id"].as_str().unwrap().to_owned();
    let (_, listed) = app.get_json("/api/v1/playlists").await;
    assert!(listed["playlists"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["id"] == playlist_id.as_str()));
    let (_, found) = app.get_json("/api/v1/search?q=second").await;
    assert_eq!(found["tracks"][0]["source"], "ytdlp");

    let second = body["tracks"][1]["id"].as_str().unwrap();
    let (status, answer) = app
        .get_json(&format!("/api/v1/tracks/{second}/stream_url?playlist={playlist_id}"))
        .await;
    assert_eq!(status, 200, "{answer}");
    let bytes = app.get(answer["url"].as_str().unwrap()).await.bytes().await.unwrap();
    assert!(bytes == demo_mp3());

    let response = app
        .client
        .post(app.url(&format!("/api/v1/playlists/{playlist_id}/refresh")))
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let (_, stats) = app.get_json("/api/v1/stats").await;
    assert_eq!(stats["tracks"], 11, "a refresh updates, it does not duplicate");
    // A single page is not a playlist.
    let single = origin.put("single.mp3", Content::Bytes(demo_mp3()), Faults::default());
    let (status, body) = post(&app, "/api/v1/playlists/import", &single).await;
    assert_eq!(status, 422, "{body}");
}

/// Searches answer from the recorded search listing (the recorded-YouTube plugin), which sees
/// each query whole, as the page it was asked for.
async fn a_query_or_url_is_never_a_yt_dlp_option(mode: Mode) {
    let mut recorded = Recorded::new();
    recorded.listing("ytsearch*", "derived/youtube-search-flat.json");
    let scripts = TempDir::new().unwrap();
    let marker = scripts.path().join("pwned");
    let app = youtube_app_with(YtDlpConfig {
        extra_args: recorded.options(),
        ..real_in(mode)
    })
    .await;
    assert_mode(&app, mode).await;
    let evil = format!("--exec \"touch {}\"", marker.display());
    for query in [evil.as_str(), "--version", "-J --flat-playlist"] {
        let (status, body) = app
            .get_json(&format!(
                "/api/v1/search?source=youtube&q={}",
                crate::support::urlencode(query)
            ))
            .await;
        assert_eq!(status, 200, "{query}: {body}");
        assert_eq!(body["tracks"][0]["id"], "yt-Je8iIWgavh4", "{body}");
        let asked: Vec<String> = recorded
            .calls()
            .iter()
            .map(|c| c["target"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(asked.last(), Some(&format!("ytsearch50:{query}")), "{asked:?}");
    }
    for start in ["-o /tmp/x", "--exec=id", "-"] {
        let (status, body) = post(&app, "/api/v1/tracks/import", start).await;
        assert_eq!(status, 400, "{start}: {body}");
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!marker.exists(), "a query ran as an option");
}

#[tokio::test]
async fn a_hung_yt_dlp_is_killed_and_garbage_is_a_502() {
    let scripts = TempDir::new().unwrap();
    let pid_file = scripts.path().join("pid");
    let hang = write_script(
        scripts.path(),
        "yt-dlp-hang",
        &format!(
            "#!/bin/sh\ncase \" $* \" in *\" --version \"*|*\" -v \"*) echo 2099.01.01; exit 0;; esac\necho $$ > '{}'\nsleep 60\n",
            pid_file.display()
        ),
    );
    let app = youtube_app(hang, 2, Duration::from_secs(1)).await;
    let (status, body) = post(&app, "/api/v1/tracks/import", "http://127.0.0.1:9/x.mp3").await;
    assert_eq!(status, 502, "{body}");
    assert!(
        body["error"]["message"].as_str().unwrap().contains("longer than"),
        "{body}"
    );
    let pid = std::fs::read_to_string(&pid_file).unwrap().trim().to_owned();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let alive = std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| !s.contains(") Z "));
    assert!(!alive, "the hung yt-dlp ({pid}) is still running");

    for (name, output) in [
        ("yt-dlp-garbage", "echo 'this is not json'"),
        ("yt-dlp-empty", "true"),
        ("yt-dlp-no-url", "echo '{\"title\": \"x\"}'"),
    ] {
        let fake = write_script(
            scripts.path(),
            name,
            &format!(
                "#!/bin/sh\ncase \" $* \" in *\" --version \"*|*\" -v \"*) echo 2099.01.01; exit 0;; esac\n{output}\n"
            ),
        );
        let app = youtube_app(fake, 2, Duration::from_secs(10)).await;
        let (status, body) = post(&app, "/api/v1/tracks/import", "http://127.0.0.1:9/x.mp3").await;
        assert_eq!(status, 502, "{name}: {body}");
        assert_eq!(body["error"]["code"], "source_failed");
        let (status, body) = app.get_json("/api/v1/tracks/yt-dQw4w9WgXcQ/stream_url").await;
        assert_eq!(
            (status.as_u16(), body["error"]["code"].as_str()),
            (502, Some("source_failed")),
            "{name}: a video never seen is resolved, and fails"
        );
        let (_, stats) = app.get_json("/api/v1/stats").await;
        assert_eq!(stats["tracks"], 9, "{name}: nothing stored");
    }
}

#[tokio::test]
async fn without_yt_dlp_the_server_works_and_says_why_youtube_does_not() {
    let app = youtube_app("/nonexistent/yt-dlp".into(), 2, Duration::from_secs(5)).await;
    let (status, health) = app.get_json("/healthz").await;
    assert_eq!(status, 200);
    assert_eq!(health["sources"]["youtube"]["enabled"], true);
    assert_eq!(health["sources"]["youtube"]["available"], false);
    assert!(
        health["sources"]["youtube"]["reason"]
            .as_str()
            .unwrap()
            .contains("/nonexistent/yt-dlp"),
        "{health}"
    );
    let (status, body) = post(
        &app,
        "/api/v1/tracks/import",
        "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
    )
    .await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"]["code"], "source_unavailable");
    let (status, body) = app.get_json("/api/v1/tracks/yt-dQw4w9WgXcQ/stream_url").await;
    assert_eq!(
        (status.as_u16(), body["error"]["code"].as_str()),
        (503, Some("source_unavailable")),
        "{body}"
    );
    let (status, body) = app.get_json("/api/v1/search?q=cafe").await;
    assert_eq!(
        (status.as_u16(), body["total"].as_u64()),
        (200, Some(1)),
        "the library still answers"
    );
    let (status, body) = app.get_json("/api/v1/suggest?q=zo").await;
    assert_eq!(
        (status.as_u16(), &body["suggestions"][0]["text"]),
        (200, &serde_json::json!("Zoë Lémieux"))
    );

    // With the source off entirely, YouTube searches say so.
    let plain = crate::support::spawn_app().await;
    let (status, body) = plain.get_json("/api/v1/search?q=x&source=youtube").await;
    assert_eq!(
        (status.as_u16(), body["error"]["code"].as_str()),
        (503, Some("source_unavailable"))
    );
    let (status, _) = plain.get_json("/api/v1/search?q=x&source=elsewhere").await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn youtube_completions_follow_the_librarys_and_fall_back_to_them() {
    let origin = Origin::start().await;
    // The service's answer in ISO-8859-1, labelled as it labels it (FirefoxLite#884):
    // "zoë lemieux live" with ë as the one byte 0xEB.
    let service = origin.put(
        "complete/search",
        Content::Bytes(Bytes::from_static(
            b"[\"zo\",[\"zo\xeb lemieux live\",\"zombie song\"]]",
        )),
        Faults {
            content_type: Some("text/javascript; charset=ISO-8859-1"),
            ..Default::default()
        },
    );
    let with_service = |url: Option<String>| {
        move |c: &mut anyaudio::config::Config| {
            c.youtube = Some(YouTubeConfig {
                ytdlp: YtDlpConfig {
                    program: real_yt_dlp(),
                    workers: 1,
                    timeout: Duration::from_secs(30),
                    ..YtDlpConfig::default()
                },
                suggest_url: url,
                playlists: Vec::new(),
            });
        }
    };
    let app = spawn_app_configured(demo_library(), with_service(Some(service))).await;
    let response = app
        .client
        .get(app.url("/api/v1/suggest?q=zo"))
        .header("accept-language", "fr-CH, fr;q=0.9, en;q=0.8")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    let got: Vec<(&str, &str)> = body["suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["text"].as_str().unwrap(), s["kind"].as_str().unwrap()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("Zoë Lémieux", "artist"),
            ("zoë lemieux live", "youtube"),
            ("zombie song", "youtube")
        ]
    );
    let asked = origin.requests("complete/search");
    assert_eq!(asked.len(), 1);
    let query: std::collections::HashMap<String, String> =
        url::form_urlencoded::parse(asked[0].query.as_deref().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    assert_eq!(query.get("oe").map(String::as_str), Some("utf-8"), "{query:?}");
    assert_eq!(query.get("hl").map(String::as_str), Some("fr-CH"), "{query:?}");
    assert_eq!(query.get("q").map(String::as_str), Some("zo"));

    // An unreachable service: the library's suggestions alone, still a 200.
    let app = spawn_app_configured(demo_library(), with_service(Some("http://127.0.0.1:9/complete".into()))).await;
    let (status, body) = app.get_json("/api/v1/suggest?q=zo").await;
    assert_eq!(status, 200);
    assert_eq!(body["suggestions"].as_array().unwrap().len(), 1, "{body}");
}

in_both_modes!(health_says_what_yt_dlp_finds_and_a_users_config_is_read_before_our_network_options);

async fn health_says_what_yt_dlp_finds_and_a_users_config_is_read_before_our_network_options(mode: Mode) {
    let origin = Origin::start().await;
    let url = origin.put("v4.mp3", Content::Bytes(demo_mp3()), Faults::default());
    let scripts = TempDir::new().unwrap();
    let observed = Observed::new();
    let config = scripts.path().join("yt-dlp.conf");
    // The user's config turns JavaScript runtimes off and asks for IPv6; the server's IPv4
    // comes after it and wins (yt-dlp: the last of two options counts).
    std::fs::write(&config, "--no-js-runtimes\n--force-ipv6\n").unwrap();
    let app = youtube_app_with(YtDlpConfig {
        config_file: Some(config.clone()),
        forced_args: vec!["--force-ipv4".into()],
        ..observed_in(mode, &observed)
    })
    .await;
    assert_mode(&app, mode).await;
    let health = ready(&app).await;
    let env = &health["sources"]["youtube"]["environment"];
    assert_eq!(env["js_runtimes"], "none (disabled)", "{health}");
    assert_eq!(env["js_runtime_usable"], false);
    assert_eq!(env["yt_dlp_ejs"], serde_json::Value::Null);
    let (status, body) = post(&app, "/api/v1/tracks/import", &url).await;
    assert_eq!(status, 201, "{body}");
    let pages = observed.pages();
    assert!(
        !pages.is_empty() && pages.iter().all(|p| p["source_address"] == "0.0.0.0"),
        "{pages:?}"
    );
}

/// A request that arrives while the start-up check of yt-dlp still runs waits for it (issue
/// 16: it was told the source is unavailable, a 503), then gets yt-dlp's real answer.
#[tokio::test]
async fn a_request_during_the_start_up_check_waits_for_it() {
    let dir = tempfile::TempDir::new().unwrap();
    // Its answer to the extraction is a line yt-dlp 2026.10.26 printed for a private video
    // (tests/fixtures/ytdlp/recorded/error-lines.json, case video_unavailable).
    let program = write_script(
        dir.path(),
        "yt-dlp-slow-start",
        "#!/bin/sh\ncase \" $* \" in *\" --version \"*) sleep 1.5; echo 2099.01.01; exit 0;; *\" -v \"*) exit 0;; esac\n\
         echo 'ERROR: [youtube] a07iwuDWhys: Video unavailable. This video is private' >&2; exit 1\n",
    );
    let app = spawn_app_configured(demo_library(), |c| {
        c.youtube = youtube_with(YtDlpConfig {
            program,
            ..YtDlpConfig::default()
        });
    })
    .await;
    let (_, health) = app.get_json("/healthz").await;
    assert_eq!(health["sources"]["youtube"]["reason"], "not checked yet", "{health}");
    let (status, body) = app.get_json("/api/v1/tracks/yt-a07iwuDWhys/stream_url").await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error"]["code"], "video_unavailable", "{body}");
}
