//! The account and backup commands, run as a self-hoster runs them: the built binary on a
//! data dir, then a server on that data dir over real HTTP.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use serde_json::json;
use tempfile::TempDir;

use crate::support::{demo_library, serve_on};

/// `anyaudio ARGS --data-dir DATA` with `stdin` written to it.
fn anyaudio(data: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_anyaudio"))
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .env("ANYAUDIO_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn ok(output: &Output) -> String {
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn failed(output: &Output) -> String {
    assert!(!output.status.success(), "{}", String::from_utf8_lossy(&output.stdout));
    String::from_utf8(output.stderr.clone()).unwrap()
}

async fn status_with_key(base: &str, key: &str) -> u16 {
    reqwest::Client::new()
        .get(format!("{base}/api/v1/search?q=dawn"))
        .bearer_auth(key)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn users_and_keys_made_at_the_command_line_log_in_and_a_backup_keeps_them() {
    let data = TempDir::new().unwrap();
    let library = demo_library();
    // The first admin, before the server ever ran (the data dir is made).
    let added = ok(&anyaudio(
        data.path(),
        &["user", "add", "ada", "--password-stdin"],
        "correct horse battery\n",
    ));
    assert_eq!(added.trim(), "added ada (admin)");
    ok(&anyaudio(
        data.path(),
        &["user", "add", "bob", "--password-stdin"],
        "bob's password\n",
    ));
    let listed = ok(&anyaudio(data.path(), &["user", "list"], ""));
    assert_eq!(listed, "ada\tadmin\nbob\tuser\n");
    let again = failed(&anyaudio(
        data.path(),
        &["user", "add", "ADA", "--password-stdin"],
        "another password\n",
    ));
    assert!(again.contains("ADA"), "{again}");
    let short = failed(&anyaudio(
        data.path(),
        &["user", "add", "cy", "--password-stdin"],
        "short\n",
    ));
    assert!(short.contains("8"), "{short}");
    let key = ok(&anyaudio(data.path(), &["key", "add", "bob", "--name", "phone"], ""));
    let key = key.trim();
    assert!(key.starts_with("aa_"), "{key}");

    let base = serve_on(library.path(), data.path(), true, |_| {}).await;
    assert_eq!(status_with_key(&base, key).await, 200);
    let nobody = reqwest::get(format!("{base}/api/v1/search?q=dawn")).await.unwrap();
    assert_eq!(nobody.status(), 401, "users exist: the server is closed");
    let login = reqwest::Client::new()
        .post(format!("{base}/api/v1/login"))
        .json(&json!({ "name": "ada", "password": "correct horse battery" }))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);

    let keys = ok(&anyaudio(data.path(), &["key", "list"], ""));
    let row: Vec<&str> = keys.trim().split('\t').collect();
    assert_eq!(&row[1..3], ["bob", "phone"], "{keys}");
    assert!(row[3].starts_with("last used "), "{keys}");

    // A consistent copy while the server runs, with its users and tracks.
    let copy = data.path().join("copy.sqlite3");
    let said = ok(&anyaudio(data.path(), &["backup", copy.to_str().unwrap()], ""));
    assert!(said.contains("9 tracks, 2 users"), "{said}");
    let conn = rusqlite::Connection::open(&copy).unwrap();
    let users: i64 = conn.query_row("SELECT count(*) FROM users", [], |r| r.get(0)).unwrap();
    let tracks: i64 = conn.query_row("SELECT count(*) FROM tracks", [], |r| r.get(0)).unwrap();
    assert_eq!((users, tracks), (2, 9));
    assert!(!data.path().join("copy.sqlite3.partial").exists());

    ok(&anyaudio(data.path(), &["key", "revoke", row[0]], ""));
    assert_eq!(status_with_key(&base, key).await, 401);
    let last = failed(&anyaudio(data.path(), &["user", "remove", "ada"], ""));
    assert!(last.contains("admin"), "{last}");
    ok(&anyaudio(
        data.path(),
        &["user", "password", "bob", "--password-stdin"],
        "bob's new password\n",
    ));
    ok(&anyaudio(data.path(), &["user", "remove", "bob"], ""));
    assert_eq!(ok(&anyaudio(data.path(), &["user", "list"], "")), "ada\tadmin\n");
}

#[test]
fn a_mistyped_data_dir_is_an_error_not_a_new_empty_server() {
    let nowhere = TempDir::new().unwrap();
    let missing = nowhere.path().join("typo");
    for args in [&["user", "list"][..], &["key", "list"], &["backup", "out.sqlite3"]] {
        let said = failed(&anyaudio(&missing, args, ""));
        assert!(said.contains("has no catalog"), "{args:?}: {said}");
    }
    assert!(!missing.exists());
}

/// Closed with no user (here by `--public-url`, as beyond loopback), the server makes `admin`
/// and prints a one-time password, the way Jupyter prints its token; it logs in.
#[tokio::test]
async fn a_closed_server_with_no_user_prints_a_one_time_password_that_logs_in() {
    let data = TempDir::new().unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_anyaudio"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--no-scan",
            "--public-url",
            "https://music.example/",
        ])
        .arg("--data-dir")
        .arg(data.path())
        .env("ANYAUDIO_LOG", "info")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut child = KillOnDrop(child);
    let mut lines = BufReader::new(child.0.stderr.take().unwrap()).lines();
    let (mut password, mut addr) = (None, None);
    let mut announced = false;
    while addr.is_none() {
        let line = lines.next().expect("the server exited").unwrap();
        if line.contains("with the password") {
            announced = true;
        } else if announced && password.is_none() && !line.trim().is_empty() {
            // The password stands alone on the next line that isn't blank.
            password = Some(line.trim().to_owned());
        }
        if let Some(rest) = line.split("url=http://").nth(1) {
            addr = Some(rest.split_whitespace().next().unwrap().to_owned());
        }
    }
    let (password, addr) = (password.expect("a one-time password"), addr.unwrap());
    let base = format!("http://{addr}");
    let login = |password: String| {
        let base = base.clone();
        async move {
            reqwest::Client::new()
                .post(format!("{base}/api/v1/login"))
                .json(&json!({ "name": "admin", "password": password }))
                .timeout(Duration::from_secs(10))
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(login("not it at all".into()).await.status(), 401);
    let answer = login(password).await;
    assert_eq!(answer.status(), 200);
    let me: serde_json::Value = answer.json().await.unwrap();
    assert_eq!((&me["user"]["name"], &me["admin"]), (&json!("admin"), &json!(true)));
    drop(child);
}

/// A test that fails must not leave its server running.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
