use crate::support::{demo_library, retag, spawn_app, spawn_app_with, CAFE_NOIR};

#[tokio::test]
async fn a_corrupt_file_is_skipped_and_the_scan_goes_on() {
    let library = demo_library();
    std::fs::write(library.path().join("broken.mp3"), vec![0x42; 4096]).unwrap();
    std::fs::write(library.path().join("empty.flac"), b"").unwrap();
    std::fs::write(library.path().join("notes.txt"), b"not music").unwrap();
    let app = spawn_app_with(library).await;
    let (_, stats) = app.get_json("/api/v1/stats").await;
    assert_eq!(stats["tracks"], 9, "{stats}");
    assert_eq!(stats["last_scan"]["errors"], 2, "{stats}");
    assert_eq!(stats["last_scan"]["files_seen"], 11, "{stats}");
    let (_, body) = app.get_json("/api/v1/search?q=broken").await;
    assert_eq!(body["total"], 0);

    // An unchanged rescan does not read them again.
    let report = app.rescan().await;
    assert_eq!(
        (
            report["added"].as_u64(),
            report["changed"].as_u64(),
            report["errors"].as_u64()
        ),
        (Some(0), Some(0), Some(0)),
        "{report}"
    );
}

#[cfg(unix)]
#[tokio::test]
async fn symlinks_out_of_the_library_are_not_followed() {
    let library = demo_library();
    let outside = tempfile::TempDir::new().unwrap();
    std::fs::create_dir(outside.path().join("album")).unwrap();
    std::fs::copy(
        library.path().join(CAFE_NOIR),
        outside.path().join("album/Outside.opus"),
    )
    .unwrap();
    crate::support::retag(&outside.path().join("album/Outside.opus"), "Outside Song", None);
    std::os::unix::fs::symlink(outside.path().join("album"), library.path().join("linked-dir")).unwrap();
    std::os::unix::fs::symlink(
        outside.path().join("album/Outside.opus"),
        library.path().join("linked.opus"),
    )
    .unwrap();
    // A link that stays inside the library is fine; it leads to a file indexed already.
    std::os::unix::fs::symlink(library.path().join(CAFE_NOIR), library.path().join("inside-link.opus")).unwrap();

    let app = spawn_app_with(library).await;
    let (_, body) = app.get_json("/api/v1/search?q=outside").await;
    assert_eq!(body["total"], 0, "{body}");
    let (_, stats) = app.get_json("/api/v1/stats").await;
    assert_eq!(
        stats["tracks"], 9,
        "each file once, whatever number of paths lead to it: {stats}"
    );
}

/// Links that make the tree a graph (issue 16: two `-> .` links and one song gave 174,000
/// tracks in 30 s and a catalog growing without end): every folder is entered once, every file
/// indexed once, under its real path.
#[cfg(unix)]
#[tokio::test]
async fn symlink_loops_and_repeated_folders_end_the_scan_with_each_file_once() {
    let library = tempfile::TempDir::new().unwrap();
    let album = library.path().join("Album");
    std::fs::create_dir(&album).unwrap();
    let demo = demo_library();
    std::fs::copy(demo.path().join(CAFE_NOIR), album.join("song.opus")).unwrap();
    std::fs::write(album.join("list.m3u"), "song.opus\n").unwrap();
    std::os::unix::fs::symlink(".", library.path().join("loopA")).unwrap();
    std::os::unix::fs::symlink(".", library.path().join("loopB")).unwrap();
    std::os::unix::fs::symlink("..", album.join("up")).unwrap();
    std::os::unix::fs::symlink(&album, library.path().join("Same Album")).unwrap();
    std::os::unix::fs::symlink(album.join("song.opus"), library.path().join("link.opus")).unwrap();
    // A hidden folder is reached only through links: once, with a loop inside it.
    let stash = library.path().join(".stash");
    std::fs::create_dir(&stash).unwrap();
    std::fs::copy(demo.path().join(CAFE_NOIR), stash.join("kept.opus")).unwrap();
    crate::support::retag(&stash.join("kept.opus"), "Kept Song", None);
    std::os::unix::fs::symlink(&stash, library.path().join("Stash")).unwrap();
    std::os::unix::fs::symlink(&stash, library.path().join("Stash Again")).unwrap();
    std::os::unix::fs::symlink(".", stash.join("again")).unwrap();
    std::os::unix::fs::symlink(stash.join("kept.opus"), library.path().join("kept link.opus")).unwrap();

    let app = spawn_app_with(library).await; // scans before it serves: it must end
    let (_, stats) = app.get_json("/api/v1/stats").await;
    assert_eq!(stats["tracks"], 2, "{stats}");
    let (_, found) = app.get_json("/api/v1/search?q=kept").await;
    assert_eq!(found["total"], 1, "{found}");
    let (_, lists) = app.get_json("/api/v1/playlists?kind=m3u").await;
    assert_eq!(lists["total"], 1, "{lists}");
    // Nothing changed, nothing moves on a rescan.
    let report = app.rescan().await;
    assert_eq!(
        (
            report["added"].as_u64(),
            report["changed"].as_u64(),
            report["removed"].as_u64()
        ),
        (Some(0), Some(0), Some(0)),
        "{report}"
    );
}

#[tokio::test]
async fn search_answers_while_a_scan_runs() {
    let app = crate::support::spawn_app().await;
    // Enough new files that the rescan takes a while.
    for i in 0..2000 {
        std::fs::copy(
            app.library_file(CAFE_NOIR),
            app.library.path().join(format!("copy-{i}.opus")),
        )
        .unwrap();
    }
    let response = app.start_scan().await;
    assert_eq!(response.status(), 202);
    let mut answered_during_scan = 0;
    loop {
        let (_, before) = app.get_json("/api/v1/scan").await;
        let (status, body) = app.get_json("/api/v1/search?q=eight%20bit").await;
        assert_eq!(status, 200);
        assert_eq!(body["tracks"][0]["title"], "Eight Bit Heart");
        let (_, after) = app.get_json("/api/v1/scan").await;
        if before["scan"]["running"] == true && after["scan"]["running"] == true {
            answered_during_scan += 1;
        }
        if after["scan"]["running"] == false {
            assert_eq!(after["scan"]["added"], 2000, "{after}");
            break;
        }
    }
    assert!(answered_during_scan > 0, "no search ran while the scan did");
    let (_, stats) = app.get_json("/api/v1/stats").await;
    assert_eq!(stats["tracks"], 2009);
}

#[tokio::test]
async fn a_catalog_from_an_older_build_is_rebuilt_not_a_500() {
    // The unversioned layout of early builds: no `url` or `artwork` columns.
    let data = tempfile::TempDir::new().unwrap();
    let old = rusqlite::Connection::open(data.path().join("catalog.sqlite3")).unwrap();
    old.execute_batch(
        "CREATE TABLE tracks (id TEXT PRIMARY KEY, source TEXT NOT NULL, path TEXT UNIQUE, title TEXT NOT NULL,
                              file_size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, added_at INTEGER NOT NULL, mime TEXT NOT NULL);
         INSERT INTO tracks VALUES ('abc', 'local', '/gone.mp3', 'Old', 1, 1, 1, 'audio/mpeg');
         CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);",
    )
    .unwrap();
    drop(old);
    let library = demo_library();
    // An old catalog (no layout version) is rebuilt.
    let base = crate::support::serve_on(library.path(), data.path(), true, |_| {}).await;
    let response = reqwest::get(format!("{base}/api/v1/search?q=cafe")).await.unwrap();
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["tracks"][0]["title"], "Café Noir");
    let stats: serde_json::Value = reqwest::get(format!("{base}/api/v1/stats"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats["tracks"], 9);
}

/// What layouts 4 to 10 added (accounts; albums and artists; annotations; user playlists; play
/// queues; folders; artist lists), undone, so that a current catalog becomes one from before
/// accounts (layout 3); the tests below take it back further.
const BEFORE_ACCOUNTS: &str =
    "DROP TABLE album_artists; ALTER TABLE tracks DROP COLUMN artists; ALTER TABLE tracks DROP COLUMN album_artists;
     DROP TABLE folders; DROP INDEX tracks_folder; ALTER TABLE tracks DROP COLUMN folder_id;
     DROP TABLE play_queues; DROP TABLE user_playlist_tracks; DROP TABLE user_playlists; DROP TABLE plays; DROP TABLE annotations;
     DROP TABLE albums; DROP TABLE artists;
     DROP INDEX tracks_album_id; DROP INDEX tracks_artist_id;
     ALTER TABLE tracks DROP COLUMN filed_artist; ALTER TABLE tracks DROP COLUMN album_id;
     ALTER TABLE tracks DROP COLUMN artist_id;
     DROP TABLE sessions; DROP TABLE api_keys; DROP TABLE users;";

#[tokio::test]
async fn a_layout_1_catalog_is_upgraded_in_place_and_its_index_stays_right() {
    // Layout 1 kept autocomplete keys in a table and the full-text index in step by triggers.
    let app = spawn_app().await;
    let catalog = anyaudio::catalog_path(app.data.path());
    {
        let conn = rusqlite::Connection::open(&catalog).unwrap();
        conn.execute_batch(&format!(
            "{BEFORE_ACCOUNTS}
             ALTER TABLE tracks DROP COLUMN picture; ALTER TABLE tracks DROP COLUMN folder_cover;
             CREATE TABLE suggest (norm TEXT NOT NULL, text TEXT NOT NULL, kind TEXT NOT NULL, weight INTEGER NOT NULL);
             CREATE TRIGGER tracks_au AFTER UPDATE ON tracks BEGIN
                 INSERT INTO tracks_fts(tracks_fts, rowid, title, artist, album, album_artist, genre)
                 VALUES ('delete', old.rowid, old.title, old.artist, old.album, old.album_artist, old.genre);
                 INSERT INTO tracks_fts(rowid, title, artist, album, album_artist, genre)
                 VALUES (new.rowid, new.title, new.artist, new.album, new.album_artist, new.genre);
             END;
             PRAGMA user_version = 1;"
        ))
        .unwrap();
    }
    let upgraded = reopen(&app).await;
    {
        let conn = rusqlite::Connection::open(&catalog).unwrap();
        let left: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE name IN ('suggest', 'tracks_au')",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(left, 0, "layout 1's table and trigger are gone");
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
        assert_eq!(version, anyaudio::catalog::db::LAYOUTS as i64);
    }
    // Tracks were kept (ids and all), autocomplete works from them, and a retag reaches the index
    // once. Layout 3 has every library file read again (for its cover columns): 9 changed, none added.
    retag(&app.library_file(CAFE_NOIR), "Café Blanc", None);
    let catalog = upgraded.catalog().clone();
    let report = tokio::task::spawn_blocking(move || catalog.scan_blocking(false))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((report.added, report.changed, report.removed), (0, 9, 0), "{report:?}");
    let base = format!("http://127.0.0.1:{}", upgraded.port());
    tokio::spawn(upgraded.run_until_stopped());
    let get = |path: String| async move {
        reqwest::get(path)
            .await
            .unwrap()
            .json::<serde_json::Value>()
            .await
            .unwrap()
    };
    assert_eq!(get(format!("{base}/api/v1/search?q=blanc")).await["total"], 1);
    assert_eq!(get(format!("{base}/api/v1/search?q=noir")).await["total"], 0);
    assert_eq!(
        get(format!("{base}/api/v1/suggest?q=blan")).await["suggestions"][0]["text"],
        "Café Blanc"
    );
    let conn = rusqlite::Connection::open(anyaudio::catalog_path(app.data.path())).unwrap();
    conn.execute(
        "INSERT INTO tracks_fts(tracks_fts, rank) VALUES ('integrity-check', 1)",
        [],
    )
    .expect("the full-text index agrees with the tracks");
}

#[tokio::test]
async fn a_layout_2_catalog_gains_cover_columns_and_its_files_are_read_again() {
    let app = spawn_app().await;
    let catalog = anyaudio::catalog_path(app.data.path());
    {
        let conn = rusqlite::Connection::open(&catalog).unwrap();
        conn.execute_batch(&format!(
            "{BEFORE_ACCOUNTS}
             ALTER TABLE tracks DROP COLUMN picture; ALTER TABLE tracks DROP COLUMN folder_cover;
             PRAGMA user_version = 2;"
        ))
        .unwrap();
    }
    let upgraded = reopen(&app).await;
    let scanner = upgraded.catalog().clone();
    let report = tokio::task::spawn_blocking(move || scanner.scan_blocking(false))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((report.added, report.changed, report.removed), (0, 9, 0), "{report:?}");
    let base = format!("http://127.0.0.1:{}", upgraded.port());
    tokio::spawn(upgraded.run_until_stopped());
    let found: serde_json::Value = reqwest::get(format!("{base}/api/v1/search?q=dawn+chorus"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let dawn = &found["tracks"][0];
    assert_eq!(
        dawn["artwork"],
        format!("/api/v1/tracks/{}/artwork", dawn["id"].as_str().unwrap())
    );
    let conn = rusqlite::Connection::open(&catalog).unwrap();
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    assert_eq!(version, anyaudio::catalog::db::LAYOUTS as i64);
}

/// A name that is not UTF-8 cannot be stored or shown faithfully: the file is counted in the
/// scan's errors (and logged with its path), not skipped in silence.
#[cfg(unix)]
#[tokio::test]
async fn a_file_whose_name_is_not_utf8_is_a_scan_error() {
    use std::os::unix::ffi::OsStrExt;
    let library = demo_library();
    let name = std::ffi::OsStr::from_bytes(b"bad\xff.opus");
    std::fs::copy(library.path().join(CAFE_NOIR), library.path().join(name)).unwrap();
    let app = spawn_app_with(library).await;
    let (_, stats) = app.get_json("/api/v1/stats").await;
    assert_eq!(stats["tracks"], 9, "{stats}");
    assert_eq!(stats["last_scan"]["errors"], 1, "{stats}");
    assert_eq!(stats["last_scan"]["files_seen"], 10, "{stats}");
}

/// A second server on `app`'s library and data dir (its catalog as the test left it), not yet
/// scanning or serving.
async fn reopen(app: &crate::support::TestApp) -> anyaudio::Application {
    let mut config =
        anyaudio::config::Config::for_tests(vec![app.library.path().to_owned()], app.data.path().to_owned());
    config.scan_at_start = false;
    anyaudio::Application::build(config)
        .await
        .expect("the catalog opens again")
}
