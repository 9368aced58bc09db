//! Warm yt-dlp workers: long-lived Python processes running `worker.py`, which imports
//! `yt_dlp` once and answers one request at a time as JSON lines. A call then costs yt-dlp's
//! work alone (tens of milliseconds on a loopback page, against most of a second for a new
//! interpreter that imports every extractor), and YouTube's extractor keeps what it caches in
//! memory (player code, challenge solutions).
//!
//! A worker that outlives its call's timeout is killed with its process group, one that dies
//! mid-call fails only that call; both are replaced in the background. Workers are retired
//! after a number of calls or above a memory size, and when the file an upgrade of yt-dlp
//! replaces has changed (its `version.py`), so an upgrade needs no server restart. When no
//! worker can start, calls run as a process each until a retry succeeds.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde::Deserialize;
use tokio::io::AsyncWriteExt;
use tokio::process::{ChildStdin, ChildStdout};
use tokio::sync::OwnedSemaphorePermit;
use tokio_util::codec::{FramedRead, LinesCodec};

use super::launcher::Interpreter;
use super::{kill_group, Output};

/// The worker, shipped inside the binary and run as `python -c`.
const SCRIPT: &str = include_str!("worker.py");
/// Longest answer line: a flat listing of a large playlist is a few MiB.
const MAX_LINE: usize = 64 * 1024 * 1024;
/// A worker that has not said it is ready by then is given up.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// After a worker failed to start, calls run as processes for this long before a new try.
const RETRY_AFTER: Duration = Duration::from_secs(30);

/// How workers are started and when they are retired.
#[derive(Debug, Clone)]
pub struct WorkerSpec {
    pub interpreter: Interpreter,
    /// The `yt-dlp` launcher (a zipimport build carries the module inside it).
    pub launcher: PathBuf,
    /// The options every call starts with.
    pub options: Vec<String>,
    /// A request's options, run once on an empty target when a worker starts: yt-dlp loads its
    /// extractors at its first extraction (about 0.4 s), before any client waits for it.
    pub warm_up: Vec<String>,
    /// Workers kept.
    pub size: usize,
    pub max_calls: u32,
    pub max_memory: u64,
}

/// How a call on a worker went wrong.
#[derive(Debug)]
pub enum Failure {
    /// It ran past its timeout; the worker was killed.
    TimedOut,
    /// The worker died or broke the protocol mid-call.
    Crashed,
}

/// The file an upgrade replaces, as `stat` describes it: (size, mtime in ns, inode).
type Signature = [u64; 3];

fn signature_of(path: &Path) -> Option<Signature> {
    let m = std::fs::metadata(path).ok()?;
    let mtime = (m.mtime() as i128 * 1_000_000_000 + m.mtime_nsec() as i128) as u64;
    Some([m.size(), mtime, m.ino()])
}

#[derive(Deserialize)]
struct Hello {
    ready: bool,
    version: Option<String>,
    watch: Option<PathBuf>,
    signature: Option<Signature>,
    error: Option<String>,
}

#[derive(Deserialize)]
struct Answer {
    id: u64,
    exit: i32,
    stdout: String,
    stderr: String,
    rss: u64,
}

struct Worker {
    pid: Option<u32>,
    // Held for kill_on_drop; the pipes are taken out of it.
    _child: tokio::process::Child,
    stdin: ChildStdin,
    lines: FramedRead<ChildStdout, LinesCodec>,
    version: String,
    watch: PathBuf,
    signature: Signature,
    calls: u32,
    rss: u64,
}

impl Worker {
    async fn start(spec: &WorkerSpec) -> Result<Worker, String> {
        let mut command = tokio::process::Command::new(&spec.interpreter.program);
        command
            .args(&spec.interpreter.args)
            .arg("-c")
            .arg(SCRIPT)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .process_group(0);
        let mut child = command
            .spawn()
            .map_err(|e| format!("cannot run {} ({e})", spec.interpreter.program.display()))?;
        let pid = child.id();
        let (Some(stdin), Some(stdout), Some(stderr)) = (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            unreachable!("all three are piped");
        };
        tokio::spawn(log_stderr(stderr, pid));
        let mut worker = Worker {
            pid,
            _child: child,
            stdin,
            lines: FramedRead::new(stdout, LinesCodec::new_with_max_length(MAX_LINE)),
            version: String::new(),
            watch: PathBuf::new(),
            signature: [0; 3],
            calls: 0,
            rss: 0,
        };
        let setup = serde_json::json!({
            "launcher": spec.launcher,
            "options": spec.options,
        });
        let hello: Hello = tokio::time::timeout(START_TIMEOUT, async {
            worker.send(&setup).await?;
            worker.receive().await
        })
        .await
        .map_err(|_| format!("the worker did not start in {START_TIMEOUT:?}"))??;
        let (true, Some(version), Some(watch), Some(signature)) =
            (hello.ready, hello.version, hello.watch, hello.signature)
        else {
            return Err(hello.error.unwrap_or_else(|| "the worker could not start".into()));
        };
        (worker.version, worker.watch, worker.signature) = (version, watch, signature);
        tokio::time::timeout(START_TIMEOUT, worker.ask(&spec.warm_up, ""))
            .await
            .map_err(|_| format!("the worker's first extraction took over {START_TIMEOUT:?}"))??;
        Ok(worker)
    }

    async fn send(&mut self, message: &serde_json::Value) -> Result<(), String> {
        let mut line = message.to_string().into_bytes();
        line.push(b'\n');
        let write = async {
            self.stdin.write_all(&line).await?;
            self.stdin.flush().await
        };
        write.await.map_err(|e| format!("the worker stopped reading ({e})"))
    }

    async fn receive<T: serde::de::DeserializeOwned>(&mut self) -> Result<T, String> {
        match self.lines.next().await {
            Some(Ok(line)) => serde_json::from_str(&line).map_err(|e| format!("the worker's answer is not JSON ({e})")),
            Some(Err(e)) => Err(format!("the worker's answer is unreadable ({e})")),
            None => Err("the worker stopped".into()),
        }
    }

    /// One call: what `yt-dlp <options> -- <target>` would have printed.
    async fn ask(&mut self, options: &[String], target: &str) -> Result<Output, String> {
        let id = u64::from(self.calls) + 1;
        self.send(&serde_json::json!({ "id": id, "options": options, "target": target }))
            .await?;
        let answer: Answer = self.receive().await?;
        if answer.id != id {
            return Err(format!("the worker answered call {} for call {id}", answer.id));
        }
        self.calls += 1;
        self.rss = answer.rss;
        Ok(Output {
            success: answer.exit == 0,
            stdout: answer.stdout.into_bytes(),
            stderr: answer.stderr,
        })
    }

    fn worn_out(&self, spec: &WorkerSpec) -> bool {
        self.calls >= spec.max_calls || self.rss >= spec.max_memory
    }

    /// Whether yt-dlp on disk is no longer the one this worker imported.
    fn outdated(&self) -> bool {
        signature_of(&self.watch) != Some(self.signature)
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        // The worker and whatever it started (a JavaScript runtime, ffmpeg).
        kill_group(self.pid);
    }
}

/// The worker's own stderr (not a call's: that is in its answer): Python's last words.
async fn log_stderr(stderr: tokio::process::ChildStderr, pid: Option<u32>) {
    let mut lines = FramedRead::new(stderr, LinesCodec::new_with_max_length(4096));
    while let Some(line) = lines.next().await {
        if let Ok(line) = line {
            tracing::warn!(target: "anyaudio::yt_dlp", worker = ?pid, "{line}");
        }
    }
}

#[derive(Default)]
struct State {
    /// The yt-dlp version of the newest worker.
    version: Option<String>,
    /// Why the last worker could not start, and when.
    failure: Option<(String, Instant)>,
}

pub struct Pool {
    spec: WorkerSpec,
    idle: Mutex<Vec<Worker>>,
    state: Mutex<State>,
}

/// A worker taken for one call.
pub struct Lease(Worker);

impl Pool {
    /// Starts the first worker (which checks the options), then the others in the background.
    pub async fn start(spec: WorkerSpec) -> Result<Arc<Pool>, String> {
        let first = Worker::start(&spec).await?;
        let pool = Arc::new(Pool {
            idle: Mutex::new(Vec::with_capacity(spec.size)),
            state: Mutex::new(State {
                version: Some(first.version.clone()),
                failure: None,
            }),
            spec,
        });
        pool.check_in(first);
        for _ in 1..pool.spec.size {
            pool.replenish();
        }
        Ok(pool)
    }

    /// The version of yt-dlp the workers run, and why calls run as processes for now (a
    /// worker could not start), if they do.
    pub fn status(&self) -> (Option<String>, Option<String>) {
        let state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let failing = state
            .failure
            .as_ref()
            .filter(|(_, at)| at.elapsed() < RETRY_AFTER)
            .map(|(reason, _)| reason.clone());
        (state.version.clone(), failing)
    }

    /// A warm worker, or a new one; None when none can start now (run a process instead).
    pub async fn lease(&self) -> Option<Lease> {
        loop {
            let next = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
            match next {
                Some(worker) if worker.outdated() => {
                    tracing::info!(version = %worker.version, "yt-dlp changed on disk: its worker is replaced");
                }
                Some(worker) => return Some(Lease(worker)),
                None => break,
            }
        }
        if self.status().1.is_some() {
            return None;
        }
        self.spawn().await.map(Lease)
    }

    /// Runs one call on `lease` with `options` and `target`, within `timeout`. It runs to its
    /// end even when the caller stops waiting (the worker stays usable), holding `permit`.
    pub async fn call(
        self: &Arc<Self>,
        lease: Lease,
        options: Vec<String>,
        target: String,
        timeout: Duration,
        permit: OwnedSemaphorePermit,
    ) -> Result<Output, Failure> {
        let pool = self.clone();
        let Lease(mut worker) = lease;
        let call = tokio::spawn(async move {
            let _permit = permit;
            match tokio::time::timeout(timeout, worker.ask(&options, &target)).await {
                Ok(Ok(output)) => {
                    pool.check_in(worker);
                    Ok(output)
                }
                Ok(Err(reason)) => {
                    tracing::warn!(%reason, worker = ?worker.pid, "a yt-dlp worker failed mid-call: replaced");
                    drop(worker);
                    pool.replenish();
                    Err(Failure::Crashed)
                }
                Err(_) => {
                    tracing::warn!(worker = ?worker.pid, ?timeout, "a yt-dlp worker ran past its timeout: killed and replaced");
                    drop(worker);
                    pool.replenish();
                    Err(Failure::TimedOut)
                }
            }
        });
        call.await.unwrap_or(Err(Failure::Crashed))
    }

    async fn spawn(&self) -> Option<Worker> {
        let started = Worker::start(&self.spec).await;
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        match started {
            Ok(worker) => {
                if state.version.as_deref() != Some(&worker.version) {
                    tracing::info!(version = %worker.version, "yt-dlp workers now run this version");
                }
                state.version = Some(worker.version.clone());
                state.failure = None;
                Some(worker)
            }
            Err(reason) => {
                tracing::warn!(%reason, "a yt-dlp worker could not start: yt-dlp runs as a process per call for now");
                state.failure = Some((reason, Instant::now()));
                None
            }
        }
    }

    /// Keeps `worker` for the next call, unless it is worn out (then a fresh one replaces it)
    /// or enough are kept already.
    fn check_in(self: &Arc<Self>, worker: Worker) {
        if worker.worn_out(&self.spec) {
            tracing::debug!(calls = worker.calls, rss = worker.rss, "a yt-dlp worker is retired");
            drop(worker);
            self.replenish();
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < self.spec.size {
            idle.push(worker);
        }
    }

    /// Starts a worker in the background, kept for the next call.
    fn replenish(self: &Arc<Self>) {
        let pool = self.clone();
        tokio::spawn(async move {
            if let Some(worker) = pool.spawn().await {
                pool.check_in(worker);
            }
        });
    }
}
