//! Signals are process-wide, so these tests run the real binary.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::support::write_wav;

struct Server {
    child: Child,
    addr: String,
    /// Every log line so far.
    log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    _dirs: (TempDir, TempDir),
}

impl Drop for Server {
    /// A test that fails must not leave its server running.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_server(grace_secs: u32) -> Server {
    let library = TempDir::new().unwrap();
    write_wav(&library.path().join("Long Silence.wav"), 240); // ~21 MB
    start_server_on(library, TempDir::new().unwrap(), grace_secs)
}

fn start_server_on(library: TempDir, data: TempDir, grace_secs: u32) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_anyaudio"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--shutdown-grace",
            &grace_secs.to_string(),
        ])
        .arg("--library")
        .arg(library.path())
        .arg("--data-dir")
        .arg(data.path())
        .env("ANYAUDIO_LOG", "info")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let addr = loop {
        let line = lines.next().expect("server exited before listening").unwrap();
        if let Some(rest) = line.split("url=http://").nth(1) {
            break rest.split_whitespace().next().unwrap().to_owned();
        }
    };
    let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let kept = log.clone();
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            kept.lock().unwrap().push(line);
        }
    });
    Server {
        child,
        addr,
        log,
        _dirs: (library, data),
    }
}

fn http_get(addr: &str, path: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

/// Opens a stream of the one track and reads its head; returns the socket and the body length.
fn open_stream(addr: &str) -> (TcpStream, usize) {
    // Wait for the start-up scan.
    let deadline = Instant::now() + Duration::from_secs(20);
    let id = loop {
        let body = http_get(addr, "/api/v1/search?q=silence");
        if let Some(i) = body.find("\"id\":\"") {
            break body[i + 6..].split('"').next().unwrap().to_owned();
        }
        assert!(Instant::now() < deadline, "scan never finished");
        std::thread::sleep(Duration::from_millis(50));
    };
    let answer = http_get(addr, &format!("/api/v1/tracks/{id}/stream_url"));
    let url = answer
        .split("\"url\":\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let mut s = TcpStream::connect(addr).unwrap();
    write!(s, "GET {url} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        s.read_exact(&mut byte).unwrap();
        head.push(byte[0]);
    }
    let head = String::from_utf8(head).unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let len = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length: "))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    (s, len)
}

fn sigterm(child: &Child) {
    assert!(Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap()
        .success());
}

fn wait_exit(child: &mut Child, within: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "server did not exit");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn sigterm_lets_a_stream_in_flight_finish() {
    let mut server = start_server(10);
    let (mut stream, len) = open_stream(&server.addr);
    let mut first = vec![0u8; 64 * 1024];
    stream.read_exact(&mut first).unwrap();
    sigterm(&server.child);
    std::thread::sleep(Duration::from_millis(300));
    // New connections are no longer accepted...
    assert!(
        TcpStream::connect(&server.addr).is_err(),
        "listener still open after SIGTERM"
    );
    // ...but the stream in flight runs to its end.
    let mut rest = Vec::new();
    stream.read_to_end(&mut rest).unwrap();
    assert_eq!(first.len() + rest.len(), len);
    assert!(wait_exit(&mut server.child, Duration::from_secs(10)).success());
}

#[test]
fn a_stalled_stream_is_cut_when_the_grace_period_ends() {
    let mut server = start_server(1);
    let (_stalled, _) = open_stream(&server.addr); // never read further
    let signalled = Instant::now();
    sigterm(&server.child);
    assert!(wait_exit(&mut server.child, Duration::from_secs(10)).success());
    assert!(
        signalled.elapsed() >= Duration::from_millis(900),
        "exited before the grace period"
    );
}

/// The access log's line for the `n`-th stream request (0-based), once it is written.
fn stream_log_line(server: &Server, n: usize) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let lines = server.log.lock().unwrap().clone();
        let streams: Vec<String> = lines.into_iter().filter(|l| l.contains("path=/stream/")).collect();
        if let Some(line) = streams.get(n) {
            return line.clone();
        }
        assert!(Instant::now() < deadline, "no access log line for stream {n}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn the_access_log_says_complete_exactly_when_the_whole_body_went_out() {
    let mut server = start_server(1);
    let (mut whole, len) = open_stream(&server.addr);
    let mut body = Vec::new();
    whole.read_to_end(&mut body).unwrap();
    assert_eq!(body.len(), len);
    let line = stream_log_line(&server, 0);
    assert!(
        line.contains(&format!("bytes={len}")) && line.contains("complete=true"),
        "{line}"
    );

    let (mut cut, _) = open_stream(&server.addr);
    let mut first = vec![0u8; 64 * 1024];
    cut.read_exact(&mut first).unwrap();
    drop(cut); // the listener goes away mid-stream
    let line = stream_log_line(&server, 1);
    assert!(line.contains("complete=false"), "{line}");
    sigterm(&server.child);
    assert!(wait_exit(&mut server.child, Duration::from_secs(10)).success());
}

fn open_descriptors(child: &Child) -> usize {
    std::fs::read_dir(format!("/proc/{}/fd", child.id())).unwrap().count()
}

/// Descriptors come back after load (issue 16: closed SQLite pool connections kept their files
/// open, 17 -> 164 under load and never released).
#[cfg(target_os = "linux")]
#[test]
fn descriptors_return_to_their_level_after_load() {
    let server = start_server(1);
    let (stream, _) = open_stream(&server.addr); // waits for the scan
    drop(stream);
    std::thread::sleep(Duration::from_millis(200));
    let idle = open_descriptors(&server.child);
    let mut after = Vec::new();
    for _ in 0..2 {
        let threads: Vec<_> = (0..64)
            .map(|i| {
                let addr = server.addr.clone();
                std::thread::spawn(move || {
                    for j in 0..5 {
                        let answer = http_get(&addr, &format!("/api/v1/search?q=silence&offset={}", (i + j) % 3));
                        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        std::thread::sleep(Duration::from_millis(300)); // connections closed
        after.push(open_descriptors(&server.child));
    }
    // After each wave, at most what the pool's 8 read connections hold (the catalog and its
    // WAL each: 16). Before the fix: idle 17, then 52.
    assert!(
        after.iter().all(|&n| n <= idle + 16),
        "idle {idle}, after load {after:?}"
    );
}

/// SIGTERM while a scan runs (issue 16: the server ran on after its grace period until
/// SIGKILL): the scan stops, what it wrote stays, the process exits within the grace period,
/// and the next start's scan finishes the job.
#[test]
fn sigterm_stops_a_running_scan_and_the_next_scan_finishes_it() {
    let library = TempDir::new().unwrap();
    let song = library.path().join("song.wav");
    write_wav(&song, 1);
    const FILES: usize = 40_000; // hard links: a long scan, no disk
    for i in 0..FILES {
        std::fs::hard_link(&song, library.path().join(format!("copy {i:05}.wav"))).unwrap();
    }
    let mut server = start_server_on(library, TempDir::new().unwrap(), 1);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let status = http_get(&server.addr, "/api/v1/scan");
        if status.contains("\"running\":true") && !status.contains("\"files_seen\":0") {
            break;
        }
        assert!(
            !status.contains("\"running\":false"),
            "the scan ended before the signal: {status}"
        );
        assert!(Instant::now() < deadline, "the scan never started: {status}");
        std::thread::sleep(Duration::from_millis(20));
    }
    let signalled = Instant::now();
    sigterm(&server.child);
    assert!(wait_exit(&mut server.child, Duration::from_secs(4)).success());
    assert!(
        signalled.elapsed() < Duration::from_secs(3),
        "{:?}",
        signalled.elapsed()
    );
    let stopped = server.log.lock().unwrap().join("\n");
    assert!(stopped.contains("the scan was stopped"), "{stopped}");

    // The same library and data dir again: its scan goes on and ends with every file.
    let (library, data) = std::mem::replace(&mut server._dirs, (TempDir::new().unwrap(), TempDir::new().unwrap()));
    drop(server);
    let restarted = start_server_on(library, data, 1);
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let stats = http_get(&restarted.addr, "/api/v1/stats");
        if stats.contains(&format!("\"tracks\":{}", FILES + 1)) {
            break;
        }
        assert!(Instant::now() < deadline, "the next scan did not finish: {stats}");
        std::thread::sleep(Duration::from_millis(100));
    }
}
