//! YouTube, and every site yt-dlp supports, through yt-dlp (a separate program: no GPL client
//! linked in, and users update it as sites change).
//!
//! yt-dlp runs in one of two ways, with the same options and the same answers:
//! - **warm workers** ([`pool`]): Python processes that imported `yt_dlp` once and take one
//!   call at a time, under the interpreter the `yt-dlp` launcher names ([`launcher`]);
//! - **a process per call**: `yt-dlp <options> -- <target>`, where yt-dlp is a standalone build,
//!   a wrapper script, or `--yt-dlp-per-call` says so.
//!
//! Whatever a user types is the target: after `--` as one argument without a shell, or a JSON
//! field handed to `YoutubeDL.download()`; so `--exec "rm -rf ~"` is a search, never an option.
//! A semaphore bounds the calls running at once; a timeout kills a hung one and its children
//! (each runs in its own process group).

mod launcher;
mod pool;

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant, SystemTime};

use serde_json::Value;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::{Detail, Error};
use crate::model::{from_unix, TrackId, Variant};
use crate::telemetry;
use crate::upstream::RangeStyle;
use pool::{Failure, Pool, WorkerSpec};

#[derive(Debug, Clone)]
pub struct YtDlpConfig {
    /// The program to run (`yt-dlp` on PATH by default).
    pub program: PathBuf,
    /// Extra options for every call (e.g. `--js-runtimes node`, `--cookies FILE`).
    pub extra_args: Vec<String>,
    /// A yt-dlp config file of the user's, read instead of none (`--config-locations`).
    pub config_file: Option<PathBuf>,
    /// Options that must match the server's own egress (`--force-ipv4`, `--proxy URL`): after
    /// the user's, so neither a config file nor an extra option can undo them.
    pub forced_args: Vec<String>,
    /// Calls at once: warm workers kept, or processes alive.
    pub workers: usize,
    /// A process per call even where workers could run.
    pub per_call: bool,
    /// The Python the workers run under, instead of the one the launcher names.
    pub python: Option<PathBuf>,
    /// A worker is replaced after this many calls...
    pub worker_max_calls: u32,
    /// ... or once its resident memory is above this many bytes.
    pub worker_max_memory: u64,
    /// A call still running after this is killed.
    pub timeout: Duration,
}

impl Default for YtDlpConfig {
    fn default() -> Self {
        YtDlpConfig {
            program: "yt-dlp".into(),
            extra_args: Vec::new(),
            config_file: None,
            forced_args: Vec::new(),
            workers: 2,
            per_call: false,
            python: None,
            worker_max_calls: 1000,
            worker_max_memory: 512 * 1024 * 1024,
            timeout: Duration::from_secs(30),
        }
    }
}

/// Options of yt-dlp's that do something else than extract (yt-dlp's `_real_main` acts on
/// them instead of printing the JSON asked for): refused at start.
pub const NOT_EXTRACTING: &[&str] = &[
    "-U",
    "--update",
    "--update-to",
    "--rm-cache-dir",
    "--list-extractors",
    "--extractor-descriptions",
    "--ap-list-mso",
    "--list-impersonate-targets",
    "--load-info-json",
    "-a",
    "--batch-file",
    "--version",
    "-h",
    "--help",
];

/// The first of `options` that stops yt-dlp from extracting (see [`NOT_EXTRACTING`]).
pub fn not_extracting(options: &[String]) -> Option<&str> {
    options
        .iter()
        .map(|o| o.split_once('=').map_or(o.as_str(), |(name, _)| name))
        .find(|name| NOT_EXTRACTING.contains(name))
}

pub struct YtDlp {
    config: YtDlpConfig,
    permits: Arc<Semaphore>,
    /// Set once, by [`YtDlp::start_workers`]: the workers, or why calls run as processes.
    pool: OnceLock<Result<Arc<Pool>, String>>,
}

/// Options on every call after the user's: JSON out. Warnings are kept: they are logged (a
/// missing JavaScript runtime shows up there first).
const FIXED: &[&str] = &["--no-progress", "-J"];

/// How yt-dlp runs now, for `/healthz`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Execution {
    /// `workers`: warm yt-dlp workers answer; `process`: a yt-dlp process per call.
    #[schema(example = "workers")]
    pub mode: &'static str,
    /// Calls at once.
    pub workers: usize,
    /// Why yt-dlp runs as a process per call, when it does.
    pub reason: Option<String>,
}

/// What one call printed, and whether it succeeded: the same from a worker as from a process.
struct Output {
    success: bool,
    stdout: Vec<u8>,
    stderr: String,
}

/// What yt-dlp's verbose header says of what YouTube extraction needs (yt-dlp 2025.11 on):
/// a JavaScript runtime for YouTube's challenges, and the `yt-dlp-ejs` scripts that use it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Environment {
    /// The `[debug] JS runtimes:` line: `deno-2.5.6`, `node-20.20.2 (unsupported)`, `none`.
    pub js_runtimes: Option<String>,
    /// Whether one of them is supported.
    pub js_runtime_usable: bool,
    /// The yt-dlp-ejs version, when installed (`yt_dlp_ejs-0.3.0` among optional libraries).
    pub yt_dlp_ejs: Option<String>,
}

/// Reads [`Environment`] from yt-dlp's `-v` output (`YoutubeDL.py` `print_debug_header`).
pub fn parse_environment(stderr: &str) -> Environment {
    let field = |prefix: &str| {
        stderr
            .lines()
            .find_map(|l| l.trim().strip_prefix(prefix))
            .map(|v| v.trim().to_owned())
    };
    let js_runtimes = field("[debug] JS runtimes:");
    let js_runtime_usable = js_runtimes.as_deref().is_some_and(|r| {
        !r.starts_with("none")
            && r.split(", ")
                .any(|one| !one.contains("(unsupported)") && !one.contains("(unknown)"))
    });
    let yt_dlp_ejs = field("[debug] Optional libraries:").and_then(|libs| {
        libs.split(", ")
            .find_map(|l| l.strip_prefix("yt_dlp_ejs-"))
            .map(str::to_owned)
    });
    Environment {
        js_runtimes,
        js_runtime_usable,
        yt_dlp_ejs,
    }
}

impl YtDlp {
    pub fn new(config: YtDlpConfig) -> Self {
        let permits = Arc::new(Semaphore::new(config.workers.max(1)));
        YtDlp {
            config,
            permits,
            pool: OnceLock::new(),
        }
    }

    /// Starts the warm workers, unless yt-dlp cannot run that way (then calls run as a
    /// process each, and [`YtDlp::execution`] says why). Called once yt-dlp is known to run.
    pub async fn start_workers(&self) {
        let pool = match self.worker_spec() {
            Ok(spec) => Pool::start(spec).await,
            Err(reason) => Err(reason),
        };
        match &pool {
            Ok(_) => tracing::info!(workers = self.config.workers, "yt-dlp runs in warm workers"),
            Err(reason) => tracing::info!(%reason, "yt-dlp runs as a process per call"),
        }
        let _ = self.pool.set(pool);
    }

    fn worker_spec(&self) -> Result<WorkerSpec, String> {
        if self.config.per_call {
            return Err("--yt-dlp-per-call".into());
        }
        let (launcher, interpreter) = match &self.config.python {
            Some(python) => (
                self.config.program.clone(),
                launcher::Interpreter {
                    program: python.clone(),
                    args: Vec::new(),
                },
            ),
            None => launcher::interpreter_of_program(&self.config.program)?,
        };
        let warm_up = self.call_options(&["--no-playlist", "-f", &selector(Variant::Opus)]);
        Ok(WorkerSpec {
            interpreter,
            launcher,
            options: self.base_options(),
            warm_up,
            size: self.config.workers.max(1),
            max_calls: self.config.worker_max_calls.max(1),
            max_memory: self.config.worker_max_memory,
        })
    }

    /// How yt-dlp runs now.
    pub fn execution(&self) -> Execution {
        let reason = match self.pool.get() {
            None => Some("not started yet".to_owned()),
            Some(Err(reason)) => Some(reason.clone()),
            Some(Ok(pool)) => pool.status().1,
        };
        Execution {
            mode: if reason.is_none() { "workers" } else { "process" },
            workers: self.config.workers,
            reason,
        }
    }

    /// The version the newest worker imported (it changes when yt-dlp is upgraded).
    pub fn worker_version(&self) -> Option<String> {
        self.pool.get()?.as_ref().ok()?.status().0
    }

    /// `yt-dlp --version`, or why it cannot run (in our words: the details go to the log).
    pub async fn version(&self) -> Result<String, String> {
        let output = tokio::time::timeout(
            Duration::from_secs(20),
            tokio::process::Command::new(&self.config.program)
                .arg("--version")
                .kill_on_drop(true)
                .output(),
        )
        .await
        .map_err(|_| "yt-dlp --version did not answer in 20 s".to_owned())?
        .map_err(|e| {
            tracing::warn!(program = %self.config.program.display(), error = %e, "cannot run yt-dlp");
            match e.kind() {
                std::io::ErrorKind::NotFound => {
                    format!("yt-dlp is not installed (no program {})", self.config.program.display())
                }
                _ => "yt-dlp could not be started (the server log says why)".to_owned(),
            }
        })?;
        if !output.status.success() {
            tracing::warn!(line = %last_error(&String::from_utf8_lossy(&output.stderr)), "yt-dlp --version failed");
            return Err("yt-dlp --version failed (the server log has its message)".to_owned());
        }
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
    }

    /// The options every call starts with: the user's config file (or none), the user's extra
    /// options, then the forced ones.
    fn base_options(&self) -> Vec<String> {
        let mut options = vec!["--ignore-config".to_owned()];
        if let Some(file) = &self.config.config_file {
            options.extend(["--config-locations".to_owned(), file.display().to_string()]);
        }
        options.extend(self.config.extra_args.iter().cloned());
        options.extend(self.config.forced_args.iter().cloned());
        options
    }

    /// A call's own options after the base ones: [`FIXED`], then `options`.
    fn call_options(&self, options: &[&str]) -> Vec<String> {
        FIXED.iter().chain(options).map(|o| (*o).to_owned()).collect()
    }

    fn base_command(&self) -> tokio::process::Command {
        let mut command = tokio::process::Command::new(&self.config.program);
        command.args(self.base_options());
        command
    }

    /// What yt-dlp finds for YouTube extraction (a JavaScript runtime, yt-dlp-ejs), from its
    /// verbose header: a run that stops at once on an empty URL, without network.
    pub async fn environment(&self) -> Environment {
        let _permit = self.permits.acquire().await.expect("never closed");
        let mut command = self.base_command();
        command.args(["-v", "--no-progress", "-J", "--", ""]).kill_on_drop(true);
        match tokio::time::timeout(Duration::from_secs(20), command.output()).await {
            Ok(Ok(output)) => parse_environment(&String::from_utf8_lossy(&output.stderr)),
            _ => Environment::default(),
        }
    }

    /// Runs yt-dlp with `options` on `target` (on a warm worker, else as a process); returns
    /// its JSON.
    async fn run(&self, options: &[&str], target: &str) -> Result<Value, Error> {
        let permit = self.permits.clone().acquire_owned().await.expect("never closed");
        let started = Instant::now();
        let options = self.call_options(options);
        let lease = match self.pool.get() {
            Some(Ok(pool)) => pool.lease().await.map(|lease| (pool, lease)),
            _ => None,
        };
        let (mode, output) = match lease {
            Some((pool, lease)) => {
                let call = pool.call(lease, options, target.to_owned(), self.config.timeout, permit);
                ("workers", call.await.map_err(|failure| self.failed(failure)))
            }
            None => ("process", self.run_process(&options, target, permit).await),
        };
        let outcome = match &output {
            Ok(o) if o.success => "ok",
            Ok(_) => "failed",
            Err(_) => "broken",
        };
        metrics::counter!(telemetry::YT_DLP_CALLS, "mode" => mode, "outcome" => outcome).increment(1);
        metrics::histogram!(telemetry::YT_DLP_SECONDS, "mode" => mode).record(started.elapsed().as_secs_f64());
        finish(target, output?)
    }

    fn failed(&self, failure: Failure) -> Error {
        match failure {
            Failure::TimedOut => self.timed_out(),
            Failure::Crashed => Error::source_failed("yt-dlp stopped while reading this page"),
        }
    }

    fn timed_out(&self) -> Error {
        Error::source_failed(format!(
            "yt-dlp took longer than {:?} and was stopped",
            self.config.timeout
        ))
    }

    /// `yt-dlp <base options> <options> -- <target>`, a process of its own.
    async fn run_process(
        &self,
        options: &[String],
        target: &str,
        _permit: OwnedSemaphorePermit,
    ) -> Result<Output, Error> {
        let mut command = self.base_command();
        command
            .args(options)
            .arg("--")
            .arg(target)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        #[cfg(unix)]
        command.process_group(0);
        let child = command.spawn().map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => Error::source_failed_because("yt-dlp is not installed", e),
            _ => Error::source_failed_because("cannot run yt-dlp", e),
        })?;
        let pid = child.id();
        let output = match tokio::time::timeout(self.config.timeout, child.wait_with_output()).await {
            Ok(output) => output.map_err(|e| Error::source_failed_because("yt-dlp failed", e))?,
            Err(_) => {
                kill_group(pid);
                return Err(self.timed_out());
            }
        };
        kill_group(pid); // anything it left behind (ffmpeg, a JS runtime)
        Ok(Output {
            success: output.status.success(),
            stdout: output.stdout,
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        })
    }

    /// Up to `n` results for `query` (one flat listing: no per-result resolution).
    pub async fn search(&self, query: &str, n: usize) -> Result<Listing, Error> {
        let json = self.run(&["--flat-playlist"], &format!("ytsearch{n}:{query}")).await?;
        listing(&json)
    }

    /// What a URL holds, flat: one entry, or a playlist's entries (at most `max`). Without
    /// `playlist`, a URL naming a video and a playlist (`watch?v=X&list=RD…`, a mix) is the video.
    pub async fn list(&self, url: &str, max: usize, playlist: bool) -> Result<Listing, Error> {
        let items = format!("1:{max}");
        let mut options = vec!["--flat-playlist", "-I", &items];
        if !playlist {
            options.push("--no-playlist");
        }
        let json = self.run(&options, url).await?;
        listing(&json)
    }

    /// The media URL of the best audio format for `variant`, or of the format `pin` (a
    /// format id the stream already plays).
    pub async fn resolve(&self, page_url: &str, variant: Variant, pin: Option<&str>) -> Result<Format, Error> {
        let selector = match pin {
            Some(id) if is_format_id(id) => id.to_owned(),
            Some(id) => return Err(Error::source_failed(format!("{id:?} is not a format id"))),
            None => selector(variant),
        };
        let json = self.run(&["--no-playlist", "-f", &selector], page_url).await?;
        format(&json)
    }
}

fn kill_group(pid: Option<u32>) {
    #[cfg(unix)]
    if let Some(pid) = pid.and_then(|p| rustix::process::Pid::from_raw(p as i32)) {
        // The group we created; ESRCH (already gone) is fine.
        let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
    }
}

/// yt-dlp's answer to a call on `target`: its warnings logged, its JSON, or the error its
/// last ERROR line stands for.
fn finish(target: &str, output: Output) -> Result<Value, Error> {
    for warning in output.stderr.lines().filter(|l| l.starts_with("WARNING:")) {
        tracing::warn!(target: "anyaudio::yt_dlp", "{warning}");
    }
    if !output.success {
        let line = last_error(&output.stderr);
        tracing::warn!(%target, %line, "yt-dlp failed");
        return Err(classify_failure(&line).because(Detail(line)));
    }
    match serde_json::from_slice::<Value>(&output.stdout) {
        Ok(value) if value.is_object() => Ok(value),
        _ => Err(Error::source_failed("yt-dlp returned no usable JSON")),
    }
}

/// The last `ERROR:` line yt-dlp printed (or its last line).
fn last_error(stderr: &str) -> String {
    let lines: Vec<&str> = stderr.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    let line = lines
        .iter()
        .rev()
        .find(|l| l.starts_with("ERROR:"))
        .or(lines.last())
        .copied()
        .unwrap_or("no output");
    line.chars().take(300).collect()
}

/// The client's answer for yt-dlp's last ERROR line: a code per case a user meets (the texts
/// are YouTube's reasons as yt-dlp prints them, `_video.py` `raise_no_formats`; recorded lines
/// in `tests/fixtures/ytdlp/recorded/error-lines.json`), never the line itself.
pub fn classify_failure(line: &str) -> Error {
    let l = line.to_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| l.contains(w));
    if has(&["not a bot"]) {
        Error::SignInRequired
    } else if has(&["confirm your age", "age-restricted", "inappropriate for some users"]) {
        Error::AgeRestricted
    } else if has(&["members-only content"]) {
        Error::MembersOnly
    } else if has(&["drm protected"]) {
        Error::DrmProtected
    } else if has(&["premieres in", "live event will begin", "scheduled to start"]) {
        Error::NotYetAvailable(None)
    } else if has(&["private video", "video is private"]) {
        Error::VideoUnavailable("it is private")
    } else if has(&[
        "video unavailable",
        "has been removed",
        "no longer available",
        "does not exist",
        "content isn’t available",
        "content isn't available",
    ]) {
        Error::VideoUnavailable("it was removed or does not exist")
    } else if has(&["requested format is not available"]) {
        Error::source_failed("no audio format that can be streamed (live streams and HLS-only media cannot be)")
    } else if has(&["unsupported url", "is not a valid url"]) {
        Error::source_failed("yt-dlp does not know this page")
    } else {
        Error::source_failed("yt-dlp could not read this page (the server log has its message)")
    }
}

/// yt-dlp's format selection for `variant`: the preferred audio-only format, else any
/// audio-only, else the best format with audio (sites without separate audio); each only among
/// formats with a direct http(s) URL, since HLS, DASH, ISM and F4M manifests cannot be proxied
/// as one file (yt-dlp's `protocol` field: `https`, `m3u8_native`, `http_dash_segments`, ...);
/// [`format`] refuses what the last, unfiltered choice finds.
pub fn selector(variant: Variant) -> String {
    let alternatives: &[&str] = match variant {
        Variant::Opus => &["ba[acodec=opus]", "ba[ext=webm]", "ba", "b"],
        Variant::M4a => &["ba[ext=m4a]", "ba[acodec^=mp4a]", "ba", "b"],
    };
    // The unfiltered `ba/b` last: a video with no direct format (an HLS-only live stream)
    // still answers with its JSON, whose `live_status` and `protocol` tell why it can't play.
    let direct: Vec<String> = alternatives.iter().map(|a| format!("{a}[protocol^=http]")).collect();
    format!("{}/ba/b", direct.join("/"))
}

/// One flat entry: a video or track that can be resolved later.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Our track id: `yt-<video id>` for YouTube, else `x-<hash of the URL>`.
    pub track_id: TrackId,
    /// The page yt-dlp resolves.
    pub url: String,
    pub title: String,
    pub artist: Option<String>,
    pub album: Option<String>,
    pub duration: Option<f64>,
    pub thumbnail: Option<String>,
    /// yt-dlp's `live_status` for flat entries: `is_live`, `is_upcoming`, `was_live`, ...
    pub live_status: Option<String>,
    /// yt-dlp's `release_timestamp`: the scheduled start of an upcoming one.
    pub release_timestamp: Option<u64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Listing {
    pub title: Option<String>,
    pub is_playlist: bool,
    pub entries: Vec<Entry>,
    /// Entries left out, and why: (the entry's URL or id, the reason).
    pub skipped: Vec<(String, String)>,
}

fn str_field<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

fn is_youtube(v: &Value) -> bool {
    let extractor = str_field(v, "ie_key")
        .or(str_field(v, "extractor_key"))
        .or(str_field(v, "extractor"))
        .unwrap_or("");
    extractor.to_ascii_lowercase().starts_with("youtube")
        || str_field(v, "url").is_some_and(|u| u.contains("youtube.com/") || u.contains("youtu.be/"))
}

fn entry(v: &Value) -> Option<Entry> {
    let id = str_field(v, "id");
    let youtube_id = id.filter(|_| is_youtube(v)).and_then(TrackId::youtube);
    let url = match &youtube_id {
        Some(track_id) => track_id.youtube_url()?,
        None => str_field(v, "webpage_url").or(str_field(v, "url"))?.to_owned(),
    };
    let track_id = youtube_id.unwrap_or_else(|| TrackId::ytdlp_page(&url));
    let thumbnail = str_field(v, "thumbnail").map(str::to_owned).or_else(|| {
        v.get("thumbnails")?
            .as_array()?
            .iter()
            .rev()
            .find_map(|t| str_field(t, "url"))
            .map(str::to_owned)
    });
    // YouTube Music's `track`, `artist` and `album` are the song's own words; else the video
    // title and the channel, whose auto-generated music channels are named "<artist> - Topic".
    let artist = str_field(v, "artist")
        .or(str_field(v, "creator"))
        .map(str::to_owned)
        .or_else(|| {
            str_field(v, "channel")
                .or(str_field(v, "uploader"))
                .map(|c| c.strip_suffix(" - Topic").unwrap_or(c).to_owned())
        });
    Some(Entry {
        track_id,
        title: str_field(v, "track")
            .or(str_field(v, "title"))
            .unwrap_or(&url)
            .to_owned(),
        artist,
        album: str_field(v, "album").map(str::to_owned),
        duration: v.get("duration").and_then(Value::as_f64),
        thumbnail,
        url,
        live_status: str_field(v, "live_status").map(str::to_owned),
        release_timestamp: v.get("release_timestamp").and_then(Value::as_u64),
    })
}

/// Maps yt-dlp's `-J --flat-playlist` output (a playlist or a single item).
///
/// A channel's listing nests one playlist per tab ("<channel> - Videos", "- Shorts", ...;
/// yt-dlp `_tab.py`): those are flattened into their videos. Entries that are not videos (tab
/// links) or cannot be played ("[Private video]", "[Deleted video]") are skipped and reported.
pub fn listing(json: &Value) -> Result<Listing, Error> {
    if json.get("_type").and_then(Value::as_str) == Some("playlist") {
        let mut listing = Listing {
            title: str_field(json, "title").map(str::to_owned),
            is_playlist: true,
            entries: Vec::new(),
            skipped: Vec::new(),
        };
        let mut seen = std::collections::HashSet::new();
        collect_entries(json, 0, &mut seen, &mut listing);
        return Ok(listing);
    }
    let single = entry(json).ok_or_else(|| Error::source_failed("yt-dlp's answer has no URL to play"))?;
    Ok(Listing {
        title: Some(single.title.clone()),
        is_playlist: false,
        entries: vec![single],
        skipped: Vec::new(),
    })
}

/// The titles yt-dlp's flat listings give entries YouTube will not play.
const UNPLAYABLE_TITLES: &[&str] = &["[Private video]", "[Deleted video]", "[Unavailable video]"];

fn collect_entries(
    playlist: &Value,
    depth: usize,
    seen: &mut std::collections::HashSet<TrackId>,
    listing: &mut Listing,
) {
    for v in playlist.get("entries").and_then(Value::as_array).into_iter().flatten() {
        let location = || {
            str_field(v, "url")
                .or(str_field(v, "id"))
                .unwrap_or("an entry")
                .to_owned()
        };
        if v.get("_type").and_then(Value::as_str) == Some("playlist") {
            if depth < 2 {
                collect_entries(v, depth + 1, seen, listing);
            }
            continue;
        }
        if str_field(v, "ie_key").is_some_and(|k| k == "YoutubeTab") {
            listing
                .skipped
                .push((location(), "a channel tab or playlist, not a video".into()));
            continue;
        }
        if str_field(v, "title").is_some_and(|t| UNPLAYABLE_TITLES.contains(&t)) {
            let title = str_field(v, "title").unwrap_or_default();
            listing
                .skipped
                .push((location(), format!("{title}: YouTube does not play it")));
            continue;
        }
        match entry(v) {
            Some(e) if seen.insert(e.track_id.clone()) => listing.entries.push(e),
            Some(_) => {}
            None => listing.skipped.push((location(), "no id or URL to play".into())),
        }
    }
}

/// yt-dlp format ids: `251`, `140-drc`, `hls-128`, `http-mp3-128` (never an option).
fn is_format_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && !id.starts_with('-')
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
}

/// What yt-dlp's YouTube extractor asks its own downloader to use per request for googlevideo
/// formats, when the JSON does not say (`downloader_options.http_chunk_size`, 10 MiB).
const GOOGLEVIDEO_CHUNK: u64 = 10 * 1024 * 1024;

/// A resolved audio format.
#[derive(Debug, Clone, PartialEq)]
pub struct Format {
    /// yt-dlp's `format_id` (`251`), to pin the format on a re-resolution.
    pub format_id: Option<String>,
    /// The most bytes per upstream request (`downloader_options.http_chunk_size`).
    pub max_chunk: Option<u64>,
    /// yt-dlp's `available_at` (unix seconds): googlevideo refuses the media before then.
    pub available_at: Option<SystemTime>,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub mime: String,
    pub codec: Option<String>,
    pub bitrate: Option<f64>,
    /// Exact size, when yt-dlp or the URL (`clen=`) says; never an approximation.
    pub size: Option<u64>,
    pub expires_at: Option<SystemTime>,
    pub range_style: RangeStyle,
}

/// Maps yt-dlp's `-J -f …` output: the chosen format's fields sit at the top level (or, for
/// merged formats, in `requested_formats`; we take the audio one).
pub fn format(json: &Value) -> Result<Format, Error> {
    // A live stream's formats grow as it plays (yt-dlp marks its https ones "(incomplete)",
    // `_video.py` `adjust_incomplete_format`): never a file to proxy, whatever was selected.
    match str_field(json, "live_status") {
        Some("is_live") => return Err(Error::LiveStream),
        Some("is_upcoming") => {
            return Err(Error::NotYetAvailable(
                json.get("release_timestamp").and_then(Value::as_u64),
            ))
        }
        _ => {}
    }
    let chosen = json
        .get("requested_formats")
        .and_then(Value::as_array)
        .and_then(|f| f.iter().find(|f| str_field(f, "acodec").is_some_and(|a| a != "none")))
        .unwrap_or(json);
    let url = str_field(chosen, "url").ok_or_else(|| Error::source_failed("yt-dlp found no playable format"))?;
    let parsed: url::Url = url
        .parse()
        .map_err(|_| Error::source_failed("yt-dlp returned a malformed media URL"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(Error::source_failed(format!(
            "yt-dlp returned a {} URL, which cannot be proxied",
            parsed.scheme()
        )));
    }
    let protocol = str_field(chosen, "protocol").unwrap_or("https");
    if protocol.contains("m3u8") || protocol.contains("dash") {
        return Err(Error::source_failed(format!(
            "yt-dlp chose a {protocol} stream; only plain HTTP files can be proxied"
        )));
    }
    let headers = chosen
        .get("http_headers")
        .and_then(Value::as_object)
        .map(|h| {
            h.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default();
    let ext = str_field(chosen, "ext").unwrap_or("");
    let query = |key: &str| {
        parsed
            .query_pairs()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.into_owned())
    };
    let size = chosen
        .get("filesize")
        .and_then(Value::as_u64)
        .or_else(|| query("clen")?.parse().ok());
    let googlevideo = parsed.host_str().is_some_and(|h| h.ends_with(".googlevideo.com"));
    let max_chunk = chosen
        .get("downloader_options")
        .and_then(|o| o.get("http_chunk_size"))
        .and_then(Value::as_u64)
        .filter(|&n| n > 0)
        .or(googlevideo.then_some(GOOGLEVIDEO_CHUNK));
    let unix = |v: Option<&Value>| {
        v.and_then(|t| t.as_u64().or_else(|| t.as_f64().map(|f| f as u64)))
            .map(from_unix)
    };
    Ok(Format {
        format_id: str_field(chosen, "format_id")
            .filter(|id| is_format_id(id))
            .map(str::to_owned),
        max_chunk,
        available_at: unix(chosen.get("available_at")),
        url: url.to_owned(),
        headers,
        mime: mime_for_ext(ext, str_field(chosen, "acodec")).to_owned(),
        codec: str_field(chosen, "acodec").filter(|a| *a != "none").map(str::to_owned),
        bitrate: chosen.get("abr").and_then(Value::as_f64),
        size,
        expires_at: query("expire").and_then(|e| e.parse::<u64>().ok()).map(from_unix),
        range_style: if googlevideo {
            RangeStyle::QueryParam("range")
        } else {
            RangeStyle::Header
        },
    })
}

fn mime_for_ext(ext: &str, acodec: Option<&str>) -> &'static str {
    match ext {
        "webm" | "weba" => "audio/webm",
        "m4a" | "mp4" | "m4b" => "audio/mp4",
        "mp3" => "audio/mpeg",
        "ogg" | "opus" | "oga" => "audio/ogg",
        "flac" => "audio/flac",
        "wav" => "audio/wav",
        "aac" => "audio/aac",
        _ => match acodec {
            Some(a) if a.starts_with("opus") => "audio/webm",
            Some(a) if a.starts_with("mp4a") => "audio/mp4",
            _ => "application/octet-stream",
        },
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use std::time::UNIX_EPOCH;

    fn fixture(name: &str) -> Value {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/ytdlp")
            .join(name);
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    #[test]
    fn generic_single_from_a_real_run() {
        let json = fixture("recorded/generic-single.json");
        let f = format(&json).unwrap();
        assert_eq!(f.url, "http://127.0.0.1:18555/drift.mp3");
        assert_eq!(f.mime, "audio/mpeg");
        assert_eq!(f.size, None, "the generic extractor gives no size");
        assert_eq!(f.range_style, RangeStyle::Header);
        assert!(f.headers.iter().any(|(k, _)| k == "User-Agent"));
        let l = listing(&json).unwrap();
        assert!(!l.is_playlist);
        assert_eq!(l.entries[0].title, "drift");
        assert!(l.entries[0].track_id.as_str().starts_with("x-"));
    }

    #[test]
    fn generic_playlist_from_a_real_run() {
        let l = listing(&fixture("recorded/generic-rss-playlist.json")).unwrap();
        assert!(l.is_playlist);
        assert_eq!(l.title.as_deref(), Some("Loop Feed"));
        let titles: Vec<&str> = l.entries.iter().map(|e| e.title.as_str()).collect();
        assert_eq!(titles, vec!["First", "Second"]);
        assert_eq!(l.entries[1].url, "http://127.0.0.1:18555/two.mp3");
    }

    #[test]
    fn a_recorded_youtube_playlist_and_the_search_derived_from_it() {
        let l = listing(&fixture("recorded/youtube-playlist-flat.json")).unwrap();
        assert!(l.is_playlist);
        assert_eq!(l.title.as_deref(), Some("HighAction/Preparing for War"));
        let e = &l.entries[0];
        assert_eq!(e.track_id, "yt-Je8iIWgavh4");
        assert_eq!(e.url, "https://www.youtube.com/watch?v=Je8iIWgavh4");
        assert_eq!(e.artist.as_deref(), Some("Synapsidae"));
        assert_eq!(e.duration, Some(115.0));
        assert!(e.thumbnail.as_deref().unwrap().starts_with("https://i.ytimg.com/"));
        assert_eq!(l.entries.len(), 4);
        let s = listing(&fixture("derived/youtube-search-flat.json")).unwrap();
        let live: Vec<Option<&str>> = s.entries.iter().map(|e| e.live_status.as_deref()).collect();
        assert_eq!(live, vec![None, None, Some("is_live"), Some("is_upcoming"), None]);
        assert_eq!(s.entries[3].release_timestamp, Some(1_893_456_000));
    }

    #[test]
    fn a_channel_is_its_tabs_videos_and_tab_links_or_private_entries_are_skipped() {
        let l = listing(&fixture("derived/youtube-channel-flat.json")).unwrap();
        assert_eq!(l.title.as_deref(), Some("Negocios TV"));
        assert_eq!(l.entries.len(), 4);
        assert!(l.entries.iter().all(|e| e.track_id.as_str().starts_with("yt-")));
        let json = serde_json::json!({"_type": "playlist", "title": "c", "entries": [
            {"_type": "url", "ie_key": "YoutubeTab", "id": "UCwd8Byi93KbnsYmCcKLExvQ", "url": "https://www.youtube.com/channel/UCwd8Byi93KbnsYmCcKLExvQ/videos"},
            {"_type": "url", "ie_key": "Youtube", "id": "Je8iIWgavh4", "url": "https://www.youtube.com/watch?v=Je8iIWgavh4", "title": "[Private video]"},
            {"_type": "url", "ie_key": "Youtube", "id": "nvQNUxoN8gw", "url": "https://www.youtube.com/watch?v=nvQNUxoN8gw", "title": "Song", "channel": "Aurora Sines - Topic"},
            {"_type": "url", "ie_key": "Youtube", "id": "nvQNUxoN8gw", "url": "https://www.youtube.com/watch?v=nvQNUxoN8gw", "title": "Song again"}
        ]});
        let l = listing(&json).unwrap();
        assert_eq!(
            l.entries.len(),
            1,
            "tab links, private and repeated entries are left out"
        );
        assert_eq!(l.entries[0].artist.as_deref(), Some("Aurora Sines"));
        assert_eq!(l.skipped.len(), 2);
    }

    #[test]
    fn youtube_music_fields_win_when_present() {
        let e = entry(
            &serde_json::json!({"id": "Je8iIWgavh4", "ie_key": "Youtube", "title": "Artist - Song (Official Audio)",
            "track": "Song", "artist": "Artist", "album": "Album", "channel": "Artist - Topic"}),
        )
        .unwrap();
        assert_eq!(
            (e.title.as_str(), e.artist.as_deref(), e.album.as_deref()),
            ("Song", Some("Artist"), Some("Album"))
        );
    }

    #[test]
    fn the_recorded_video_and_its_formats() {
        // Recorded with `-f best`: its top level is format 18. What yt-dlp's own selection
        // makes of it for us is checked end to end (real yt-dlp, `--load-info-json`).
        let json = fixture("recorded/youtube-video.json");
        let f = format(&json).unwrap();
        assert_eq!(f.format_id.as_deref(), Some("18"));
        assert_eq!(f.size, Some(12_888_266), "filesize (and clen=)");
        assert_eq!(f.range_style, RangeStyle::QueryParam("range"));
        assert_eq!(
            f.max_chunk,
            Some(10 * 1024 * 1024),
            "downloader_options.http_chunk_size"
        );
        assert_eq!(f.expires_at, Some(UNIX_EPOCH + Duration::from_secs(1_741_625_847)));
        assert!(f
            .headers
            .iter()
            .any(|(k, v)| k == "User-Agent" && v.contains("Chrome/93")));
        let formats = json["formats"].as_array().unwrap();
        let opus = formats.iter().find(|f| f["format_id"] == "251").unwrap();
        let f = format(opus).unwrap();
        assert_eq!(
            (f.mime.as_str(), f.codec.as_deref(), f.size),
            ("audio/webm", Some("opus"), Some(2_308_321))
        );
        let hls = formats.iter().find(|f| f["protocol"] == "m3u8_native").unwrap();
        assert!(format(hls).is_err(), "an HLS format cannot be proxied");
    }

    #[test]
    fn recorded_error_lines_get_their_codes_and_none_of_their_text() {
        for case in fixture("recorded/error-lines.json").as_array().unwrap() {
            let error = classify_failure(case["line"].as_str().unwrap());
            let (_, code) = error.status_and_code();
            assert_eq!(code, case["case"].as_str().unwrap(), "{case}");
            assert!(!error.to_string().contains("ERROR"), "{error}");
        }
    }

    #[test]
    fn no_playable_format_is_an_error() {
        assert!(format(&serde_json::json!({"title": "x"})).is_err());
        assert!(format(&serde_json::json!({"url": "rtmp://x/y"})).is_err());
        assert!(format(&serde_json::json!({"url": "https://x/y.m3u8", "protocol": "m3u8_native"})).is_err());
        assert!(listing(&serde_json::json!({"nothing": 1})).is_err());
        let live = serde_json::json!({"live_status": "is_live", "url": "https://x/y", "protocol": "https"});
        assert!(matches!(format(&live), Err(Error::LiveStream)));
        let soon = serde_json::json!({"live_status": "is_upcoming", "release_timestamp": 1_893_456_000u64});
        assert!(matches!(
            format(&soon),
            Err(Error::NotYetAvailable(Some(1_893_456_000)))
        ));
    }

    #[test]
    fn youtube_ids_from_yt_dlp_are_data() {
        // A video id that looks like an option is still only an id (it goes after `--`).
        assert_eq!(TrackId::youtube("--exec_rm-x").unwrap().as_str(), "yt---exec_rm-x");
        assert_eq!(
            TrackId::parse("yt-../../etc").unwrap_err(),
            crate::model::IdError("track")
        );
    }

    #[test]
    fn the_environment_from_yt_dlps_verbose_header() {
        // As yt-dlp 2026.10.26 printed it here (`yt-dlp -v --js-runtimes node -J -- ""`), and as
        // reported in yt-dlp#14867 (a machine with bun, deno and yt-dlp-ejs).
        let here = "[debug] Optional libraries: sqlite3-3.40.1\n[debug] JS runtimes: node-20.20.2 (unsupported)\n";
        assert_eq!(
            parse_environment(here),
            Environment {
                js_runtimes: Some("node-20.20.2 (unsupported)".into()),
                js_runtime_usable: false,
                yt_dlp_ejs: None
            }
        );
        let reported = "[debug] Optional libraries: Cryptodome-3.23.0, brotli-1.1.0, certifi-2025.10.05, mutagen-1.47.0, requests-2.32.5, sqlite3-3.49.1, urllib3-2.5.0, websockets-15.0.1, yt_dlp_ejs-0.3.0\n[debug] JS runtimes: bun-1.3.1, deno-2.5.6\n";
        let env = parse_environment(reported);
        assert!(env.js_runtime_usable);
        assert_eq!(env.yt_dlp_ejs.as_deref(), Some("0.3.0"));
        assert!(!parse_environment("[debug] JS runtimes: none\n").js_runtime_usable);
        assert_eq!(parse_environment(""), Environment::default());
    }

    #[test]
    fn the_last_error_line_is_reported() {
        assert_eq!(
            last_error("WARNING: x\nERROR: [generic] '--exec rm' is not a valid URL\n"),
            "ERROR: [generic] '--exec rm' is not a valid URL"
        );
        assert_eq!(last_error(""), "no output");
    }

    /// Every JSON value's place in `json`, as JSON pointers.
    fn pointers(json: &Value, here: String, out: &mut Vec<String>) {
        out.push(here.clone());
        match json {
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    pointers(item, format!("{here}/{i}"), out);
                }
            }
            Value::Object(fields) => {
                for (key, value) in fields {
                    pointers(
                        value,
                        format!("{here}/{}", key.replace('~', "~0").replace('/', "~1")),
                        out,
                    );
                }
            }
            _ => {}
        }
    }

    /// What a field of yt-dlp's JSON could hold instead, in a newer version or a broken one.
    fn odd_value() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            prop_oneof![Just(f64::MAX), Just(-1.0), Just(1e300), any::<f64>()].prop_map(|f| serde_json::json!(f)),
            "\\PC{0,20}".prop_map(Value::from),
            Just(serde_json::json!([])),
            Just(serde_json::json!({})),
            Just(serde_json::json!([{"url": "x"}])),
        ]
    }

    proptest! {
        /// A recorded yt-dlp answer with any of its values replaced by another of any type:
        /// a listing, a format or an error, never a panic.
        #[test]
        fn damaged_yt_dlp_json_never_panics(
            pick in any::<prop::sample::Index>(),
            changes in proptest::collection::vec((any::<prop::sample::Index>(), odd_value()), 1..8),
        ) {
            const RECORDED: [&str; 5] = [
                "recorded/generic-single.json",
                "recorded/generic-rss-playlist.json",
                "recorded/youtube-playlist-flat.json",
                "recorded/youtube-channel-flat-items0.json",
                "recorded/youtube-video.json",
            ];
            let mut json = fixture(RECORDED[pick.index(RECORDED.len())]);
            for (at, value) in changes {
                let mut places = Vec::new();
                pointers(&json, String::new(), &mut places);
                let place = &places[at.index(places.len())];
                match json.pointer_mut(place) {
                    Some(slot) => *slot = value,
                    None => unreachable!("{place} was listed"),
                }
            }
            let _ = listing(&json);
            let _ = format(&json);
        }

        #[test]
        fn any_stderr_is_read_without_panic(text in "(\\[debug\\] (JS runtimes|Optional libraries): )?\\PC{0,60}") {
            let _ = parse_environment(&text);
            let _ = classify_failure(&text);
            prop_assert!(last_error(&text).chars().count() <= 300);
        }
    }
}
