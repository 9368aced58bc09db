//! yt-dlp's warm workers against the real yt-dlp: calls served by long-lived processes, a hung
//! or crashing worker replaced while others answer, retirement, an upgrade picked up without a
//! restart, and the fallback to a process per call. Faults come from the tests' yt-dlp plugin
//! (`AnyaudioFaultIE`), which runs inside the real yt-dlp, so a "hung worker" is a real worker
//! whose extraction hangs.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyaudio::sources::ytdlp::YtDlpConfig;
use bytes::Bytes;
use tempfile::TempDir;

use crate::origin::{Content, Faults, Origin};
use crate::support::TestApp;
use crate::youtube::{
    assert_mode, in_both_modes, observed_in, post, ready, real_yt_dlp, write_script, youtube_app_with, Mode, Observed,
};

/// The fault plugin's log: `start|end PID MONOTONIC_NS` lines.
struct Faulty {
    observed: Observed,
    dir: TempDir,
}

impl Faulty {
    fn new() -> Faulty {
        Faulty {
            observed: Observed::new(),
            dir: TempDir::new().unwrap(),
        }
    }

    fn log(&self) -> PathBuf {
        self.dir.path().join("faults.log")
    }

    /// The real yt-dlp in `mode`, observed, its fault extractor logging.
    fn yt_dlp(&self, mode: Mode) -> YtDlpConfig {
        let mut config = observed_in(mode, &self.observed);
        config.extra_args.extend([
            "--extractor-args".into(),
            format!("anyaudiofault:log={}", self.log().display()),
        ]);
        config
    }

    /// (event, pid) of each line of the fault log.
    fn events(&self) -> Vec<(String, u32, u128)> {
        std::fs::read_to_string(self.log())
            .unwrap_or_default()
            .lines()
            .map(|l| {
                let mut words = l.split(' ');
                let event = words.next().unwrap().to_owned();
                (
                    event,
                    words.next().unwrap().parse().unwrap(),
                    words.next().unwrap().parse().unwrap(),
                )
            })
            .collect()
    }
}

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| !s.contains(") Z "))
}

fn mp3() -> Bytes {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("demo/library")
            .join(crate::support::MORNING_DRIFT),
    )
    .unwrap()
    .into()
}

/// Imports `url` (a page yt-dlp reads); its status.
async fn import(app: &TestApp, url: &str) -> (reqwest::StatusCode, serde_json::Value) {
    post(app, "/api/v1/tracks/import", url).await
}

/// Calls run on the workers kept, not a process each: over ten imports, at most the two
/// workers' pids extract; per call, every import is a process of its own.
async fn calls_are_served_by_the_processes_the_mode_says(mode: Mode) {
    let origin = Origin::start().await;
    let observed = Observed::new();
    let app = youtube_app_with(observed_in(mode, &observed)).await;
    assert_mode(&app, mode).await;
    for i in 0..10 {
        let url = origin.put(&format!("{i}.mp3"), Content::Bytes(mp3()), Faults::default());
        let (status, body) = import(&app, &url).await;
        assert_eq!(status, 201, "{body}");
    }
    let mut pids: Vec<u64> = observed.pages().iter().map(|p| p["pid"].as_u64().unwrap()).collect();
    assert_eq!(pids.len(), 10);
    pids.sort_unstable();
    pids.dedup();
    match mode {
        Mode::Workers => assert!(pids.len() <= 2, "{pids:?}"),
        Mode::PerCall => assert_eq!(pids.len(), 10, "{pids:?}"),
    }
}

/// With one call at a time, every call ends before the next starts.
async fn calls_at_once_are_bounded(mode: Mode) {
    let faulty = Faulty::new();
    let app = youtube_app_with(YtDlpConfig {
        workers: 1,
        ..faulty.yt_dlp(mode)
    })
    .await;
    assert_mode(&app, mode).await;
    let mut imports = Vec::new();
    for i in 0..3 {
        let (client, endpoint) = (app.client.clone(), app.url("/api/v1/tracks/import"));
        imports.push(tokio::spawn(async move {
            let url = format!("http://127.0.0.1:9/fault/slow/{i}");
            client
                .post(endpoint)
                .json(&serde_json::json!({ "url": url }))
                .send()
                .await
                .unwrap()
                .status()
        }));
    }
    for i in imports {
        assert_eq!(i.await.unwrap(), 201);
    }
    let mut events = faulty.events();
    events.sort_by_key(|(_, _, at)| *at);
    let kinds: Vec<&str> = events.iter().map(|(kind, _, _)| kind.as_str()).collect();
    assert_eq!(
        kinds,
        vec!["start", "end", "start", "end", "start", "end"],
        "{events:?}"
    );
}

in_both_modes!(
    calls_are_served_by_the_processes_the_mode_says,
    calls_at_once_are_bounded
);

/// A worker whose call hangs is killed at the timeout (its process gone) while the other
/// worker answers; a worker that dies mid-call fails that call alone; both are replaced.
#[tokio::test]
async fn a_hung_or_crashing_worker_fails_its_call_alone_and_is_replaced() {
    let origin = Origin::start().await;
    let faulty = Faulty::new();
    let app = youtube_app_with(YtDlpConfig {
        timeout: Duration::from_secs(3),
        ..faulty.yt_dlp(Mode::Workers)
    })
    .await;
    assert_mode(&app, Mode::Workers).await;
    let hung = {
        let app_client = app.client.clone();
        let endpoint = app.url("/api/v1/tracks/import");
        tokio::spawn(async move {
            let response = app_client
                .post(endpoint)
                .json(&serde_json::json!({ "url": "http://127.0.0.1:9/fault/hang/a" }))
                .send()
                .await
                .unwrap();
            (response.status(), response.json::<serde_json::Value>().await.unwrap())
        })
    };
    let mut hung_pid = None;
    for _ in 0..200 {
        hung_pid = faulty.events().first().map(|(_, pid, _)| *pid);
        if hung_pid.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let hung_pid = hung_pid.expect("the hanging call started");
    // While it hangs, the other worker answers.
    let url = origin.put("while.mp3", Content::Bytes(mp3()), Faults::default());
    let (status, body) = import(&app, &url).await;
    assert_eq!(status, 201, "{body}");
    assert!(alive(hung_pid), "the hung worker is still within its timeout");
    let (status, body) = hung.await.unwrap();
    assert_eq!(status, 502, "{body}");
    assert_eq!(body["error"]["code"], "source_failed");
    assert!(
        body["error"]["message"].as_str().unwrap().contains("longer than"),
        "{body}"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!alive(hung_pid), "the hung worker {hung_pid} was not killed");

    let (status, body) = import(&app, "http://127.0.0.1:9/fault/crash/b").await;
    assert_eq!(
        (status.as_u16(), body["error"]["code"].as_str()),
        (502, Some("source_failed")),
        "{body}"
    );
    let crashed_pid = faulty.events().last().unwrap().1;
    for _ in 0..100 {
        if !alive(crashed_pid) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!alive(crashed_pid), "the crashed worker {crashed_pid}");
    // Replaced: the next calls run on workers again, none of them the dead ones.
    for name in ["after1.mp3", "after2.mp3", "after3.mp3"] {
        let url = origin.put(name, Content::Bytes(mp3()), Faults::default());
        let (status, body) = import(&app, &url).await;
        assert_eq!(status, 201, "{body}");
    }
    assert_mode(&app, Mode::Workers).await;
    let pages = faulty.observed.pages();
    let last_pids: Vec<u64> = pages.iter().rev().take(3).map(|p| p["pid"].as_u64().unwrap()).collect();
    assert!(
        last_pids
            .iter()
            .all(|p| *p != u64::from(hung_pid) && *p != u64::from(crashed_pid)),
        "{last_pids:?}"
    );
}

/// A worker is retired after `worker_max_calls` calls: the calls go on, on new processes.
#[tokio::test]
async fn workers_are_retired_after_their_calls() {
    let origin = Origin::start().await;
    let observed = Observed::new();
    let app = youtube_app_with(YtDlpConfig {
        workers: 1,
        worker_max_calls: 3,
        ..observed_in(Mode::Workers, &observed)
    })
    .await;
    for i in 0..6 {
        let url = origin.put(&format!("r{i}.mp3"), Content::Bytes(mp3()), Faults::default());
        let (status, body) = import(&app, &url).await;
        assert_eq!(status, 201, "{body}");
    }
    assert_mode(&app, Mode::Workers).await;
    let pids: Vec<u64> = observed.pages().iter().map(|p| p["pid"].as_u64().unwrap()).collect();
    // A worker's first call is its warm-up (an empty target: nothing extracted, no page), so
    // each serves two imports.
    assert_eq!(pids.len(), 6);
    assert!(pids.windows(2).filter(|w| w[0] != w[1]).count() >= 2, "{pids:?}");
    for run in pids.chunk_by(|a, b| a == b) {
        assert!(run.len() <= 2, "a worker served more than its calls: {pids:?}");
    }
}

/// The real yt-dlp's interpreter and package: (python, the `yt_dlp` directory).
fn real_python_and_package() -> (PathBuf, PathBuf) {
    let launcher = std::fs::read_to_string(real_yt_dlp()).unwrap();
    let python = launcher
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("#!"))
        .expect("the test yt-dlp is a pip launcher")
        .trim()
        .to_owned();
    let output = std::process::Command::new(&python)
        .args(["-c", "import os, yt_dlp; print(os.path.dirname(yt_dlp.__file__))"])
        .output()
        .unwrap();
    let package = String::from_utf8(output.stdout).unwrap().trim().to_owned();
    (python.into(), package.into())
}

/// A user upgrading yt-dlp (pip replacing its files, `version.py` among them) needs no server
/// restart: the next call runs on a worker that imported the new version, and `/healthz` says
/// which. The "installation" is a copy of the real package (its files linked, `version.py`
/// copied), imported through a `--yt-dlp-python` that puts it first on the path.
#[tokio::test]
async fn an_upgrade_of_yt_dlp_on_disk_is_picked_up_without_a_restart() {
    let (python, package) = real_python_and_package();
    let site = TempDir::new().unwrap();
    let copy = site.path().join("yt_dlp");
    std::fs::create_dir(&copy).unwrap();
    for entry in std::fs::read_dir(&package).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name == "version.py" {
            std::fs::copy(entry.path(), copy.join(&name)).unwrap();
        } else if name != "__pycache__" {
            std::os::unix::fs::symlink(entry.path(), copy.join(&name)).unwrap();
        }
    }
    let interpreter = write_script(
        site.path(),
        "python",
        &format!(
            "#!/bin/sh\nPYTHONPATH='{}' PYTHONDONTWRITEBYTECODE=1 exec '{}' \"$@\"\n",
            site.path().display(),
            python.display()
        ),
    );
    let origin = Origin::start().await;
    let observed = Observed::new();
    let app = youtube_app_with(YtDlpConfig {
        python: Some(interpreter),
        ..observed_in(Mode::Workers, &observed)
    })
    .await;
    assert_mode(&app, Mode::Workers).await;
    let url = origin.put("before.mp3", Content::Bytes(mp3()), Faults::default());
    assert_eq!(import(&app, &url).await.0, 201);
    let before = ready(&app).await["sources"]["youtube"]["version"].clone();
    let old_pid = observed.pages().last().unwrap()["pid"].as_u64().unwrap();

    let version = copy.join("version.py");
    let text = std::fs::read_to_string(&version).unwrap();
    let old = before.as_str().unwrap();
    assert!(text.contains(old), "{text}");
    // pip writes a new file in place of the old one.
    std::fs::remove_file(&version).unwrap();
    std::fs::write(&version, text.replace(old, "2099.1.1")).unwrap();

    let url = origin.put("after.mp3", Content::Bytes(mp3()), Faults::default());
    let (status, body) = import(&app, &url).await;
    assert_eq!(status, 201, "{body}");
    let new_pid = observed.pages().last().unwrap()["pid"].as_u64().unwrap();
    assert_ne!(new_pid, old_pid, "the call ran on a worker of the old version");
    let health = ready(&app).await;
    assert_eq!(health["sources"]["youtube"]["version"], "2099.1.1", "{health}");
    assert_mode(&app, Mode::Workers).await;
}

/// Where yt-dlp is no Python script (a standalone build; here a wrapper that runs the real
/// one), every call is a process of its own, `/healthz` says so and why, and calls work.
/// Options with no use to us are refused at start, from a config file too.
#[tokio::test]
async fn a_standalone_yt_dlp_runs_as_a_process_per_call() {
    let dir = TempDir::new().unwrap();
    let standalone = write_script(
        dir.path(),
        "yt-dlp",
        &format!("#!/bin/sh\nexec '{}' \"$@\"\n", real_yt_dlp().display()),
    );
    let origin = Origin::start().await;
    let observed = Observed::new();
    let app = youtube_app_with(YtDlpConfig {
        program: standalone,
        ..observed_in(Mode::Workers, &observed)
    })
    .await;
    assert_runs_a_process_per_call(&app, "not a Python script").await;
    for i in 0..2 {
        let url = origin.put(&format!("s{i}.mp3"), Content::Bytes(mp3()), Faults::default());
        assert_eq!(import(&app, &url).await.0, 201);
    }
    let pids: Vec<u64> = observed.pages().iter().map(|p| p["pid"].as_u64().unwrap()).collect();
    assert!(pids.len() == 2 && pids[0] != pids[1], "{pids:?}");

    // A config file asking yt-dlp to do something else than read pages: no workers, and why.
    let config = dir.path().join("yt-dlp.conf");
    std::fs::write(&config, "--list-extractors\n").unwrap();
    let app = youtube_app_with(YtDlpConfig {
        config_file: Some(config),
        ..observed_in(Mode::Workers, &observed)
    })
    .await;
    assert_runs_a_process_per_call(&app, "--list-extractors").await;
}

/// `/healthz` says calls run as a process each, for a reason that names `why`.
async fn assert_runs_a_process_per_call(app: &TestApp, why: &str) {
    let health = ready(app).await;
    let execution = &health["sources"]["youtube"]["execution"];
    assert_eq!(execution["mode"], "process", "{health}");
    assert!(execution["reason"].as_str().unwrap().contains(why), "{health}");
}
