use crate::support::{fixture_library, retag, spawn_app, spawn_app_with, CAFE_NOIR, DAWN_CHORUS, MORNING_DRIFT};

/// `tests/fixtures/formats`: every extension the library reads, and the Content-Type its
/// stream has (made by ffmpeg 5.1 and mpcenc 1.30; the APE file is lofty's test file).
const FORMATS: &[(&str, &str)] = &[
    ("mp3", "audio/mpeg"),
    ("flac", "audio/flac"),
    ("ogg", "audio/ogg"),
    ("oga", "audio/ogg"),
    ("opus", "audio/ogg"),
    ("spx", "audio/ogg"),
    ("m4a", "audio/mp4"),
    ("m4b", "audio/mp4"),
    ("mp4", "audio/mp4"),
    ("aac", "audio/aac"),
    ("wav", "audio/wav"),
    ("aif", "audio/aiff"),
    ("aiff", "audio/aiff"),
    ("wv", "audio/x-wavpack"),
    ("mpc", "audio/x-musepack"),
    ("ape", "audio/x-ape"),
    ("webm", "audio/webm"),
    ("weba", "audio/webm"),
    ("mka", "audio/x-matroska"),
];

#[tokio::test]
async fn every_supported_format_is_indexed_and_streams_byte_exact() {
    let app = spawn_app_with(fixture_library("formats")).await;
    let (_, status) = app.get_json("/api/v1/scan").await;
    let scan = &status["scan"];
    assert_eq!(scan["files_seen"], FORMATS.len(), "{scan}");
    assert_eq!(scan["added"], FORMATS.len(), "{scan}");
    assert_eq!(scan["errors"], 0, "{scan}");

    for (ext, mime) in FORMATS {
        // The APE file (lofty's) has an artist and no title: it is named by its file.
        let title = format!("Format {ext}");
        let track = app.track_titled(&title).await;
        assert_eq!(track["mime"], *mime, "{ext}: {track}");
        let duration = track["duration"]
            .as_f64()
            .unwrap_or_else(|| panic!("{ext}: no duration: {track}"));
        assert!((0.9..1.5).contains(&duration), "{ext}: {duration} s");
        if *ext != "ape" {
            assert_eq!(track["artist"], "Fixture Artist", "{ext}: {track}");
            assert_eq!(track["album"], "Every Format", "{ext}: {track}");
        }
        let (status, body) = app
            .get_json(&format!("/api/v1/tracks/{}/stream_url", track["id"].as_str().unwrap()))
            .await;
        assert_eq!(status, 200, "{body}");
        let response = app.get(body["url"].as_str().unwrap()).await;
        assert_eq!(response.status(), 200, "{ext}");
        assert_eq!(response.headers()["content-type"], *mime, "{ext}");
        let bytes = response.bytes().await.unwrap();
        let file = std::fs::read(app.library_file(&format!("Format {ext}.{ext}"))).unwrap();
        assert!(bytes == file, "{ext}: the stream is not the file");
    }
}

#[tokio::test]
async fn matroska_tags_are_read_as_ffmpeg_wrote_them() {
    let app = spawn_app_with(fixture_library("formats")).await;
    for (ext, codec) in [("webm", "opus"), ("weba", "opus"), ("mka", "flac")] {
        let track = app.track_titled(&format!("Format {ext}")).await;
        assert_eq!(track["album_artist"], "Fixture Band", "{track}");
        assert_eq!(track["year"], 2024, "{track}");
        assert_eq!(track["genre"], "Test", "{track}");
        assert_eq!(track["codec"], codec, "{track}");
        assert_eq!(track["channels"], 1, "{track}");
        assert!(track["track_number"].as_u64().is_some_and(|n| n > 0), "{track}");
        assert!(track["bitrate"].as_u64().is_some_and(|n| n > 0), "{track}");
    }
}

#[tokio::test]
async fn a_rescan_sees_added_changed_and_removed_files() {
    let app = spawn_app().await;
    let old_id = app.track_titled("Morning Drift").await["id"].clone();

    // Added: a copy with new tags. Changed: a retitled track. Removed: a deleted file.
    let added = app.library_file("New Artist/New Album/01 Brand New.opus");
    std::fs::create_dir_all(added.parent().unwrap()).unwrap();
    std::fs::copy(app.library_file(CAFE_NOIR), &added).unwrap();
    retag(&added, "Brand New", Some("New Artist"));
    retag(&app.library_file(MORNING_DRIFT), "Evening Drift", None);
    std::fs::remove_file(app.library_file(DAWN_CHORUS)).unwrap();

    let report = app.rescan().await;
    assert_eq!(report["added"], 1, "{report}");
    assert_eq!(report["changed"], 1, "{report}");
    assert_eq!(report["removed"], 1, "{report}");
    assert_eq!(report["errors"], 0, "{report}");
    assert_eq!(report["files_seen"], 9, "{report}");

    let (_, stats) = app.get_json("/api/v1/stats").await;
    assert_eq!(stats["tracks"], 9);
    let (_, body) = app.get_json("/api/v1/search?q=brand%20new").await;
    assert_eq!(body["tracks"][0]["artist"], "New Artist");
    let (_, body) = app.get_json("/api/v1/search?q=evening").await;
    assert_eq!(body["tracks"][0]["id"], old_id, "a retagged file keeps its id");
    let (_, body) = app.get_json("/api/v1/search?q=morning").await;
    assert_eq!(body["total"], 0);
    let (_, body) = app.get_json("/api/v1/search?q=dawn").await;
    assert_eq!(body["total"], 0);

    // Autocomplete and derived playlists follow.
    let (_, body) = app.get_json("/api/v1/suggest?q=new%20art").await;
    assert_eq!(body["suggestions"][0]["text"], "New Artist");
    let (_, albums) = app.get_json("/api/v1/playlists?kind=album").await;
    // The copy kept its album tag, so "Éclat" by New Artist is an album of its own.
    assert!(
        albums["playlists"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "Éclat" && p["subtitle"] == "New Artist"),
        "{albums}"
    );
    assert!(
        !albums["playlists"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "First Light" && p["track_count"] == 2),
        "{albums}"
    );

    // Nothing changed: nothing read.
    let report = app.rescan().await;
    assert_eq!(
        (
            report["added"].as_u64(),
            report["changed"].as_u64(),
            report["removed"].as_u64()
        ),
        (Some(0), Some(0), Some(0))
    );
    assert_eq!(report["files_seen"], 9);
}

#[tokio::test]
async fn a_second_scan_request_while_one_runs_does_not_start_another() {
    let app = spawn_app().await;
    let first = app.start_scan().await;
    assert_eq!(first.status(), 202);
    let first: serde_json::Value = first.json().await.unwrap();
    assert_eq!(first["started"], true);
    // Whether or not the first is still running, the answer has the same shape.
    let second: serde_json::Value = app.start_scan().await.json().await.unwrap();
    assert!(second["started"].is_boolean());
    assert!(second["scan"].is_object());
}

#[tokio::test]
async fn the_catalog_survives_a_restart() {
    let app = spawn_app().await;
    let (_, before) = app.get_json("/api/v1/search?q=cafe").await;
    drop(app.client);
    let mut config =
        anyaudio::config::Config::for_tests(vec![app.library.path().to_owned()], app.data.path().to_owned());
    config.scan_at_start = false;
    let again = anyaudio::Application::build(config).await.unwrap();
    let base = format!("http://127.0.0.1:{}", again.port());
    tokio::spawn(again.run_until_stopped());
    let after: serde_json::Value = reqwest::get(format!("{base}/api/v1/search?q=cafe"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(before["tracks"], after["tracks"]);
    let path = app_stream(&base, after["tracks"][0]["id"].as_str().unwrap()).await;
    assert_eq!(reqwest::get(format!("{base}{path}")).await.unwrap().status(), 200);
}

async fn app_stream(base: &str, id: &str) -> String {
    let body: serde_json::Value = reqwest::get(format!("{base}/api/v1/tracks/{id}/stream_url"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["url"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_renamed_file_is_one_track_under_its_new_path_and_its_old_id_and_a_moved_folder_too() {
    let app = spawn_app().await;
    let (_, before) = app.get_json("/api/v1/stats").await;
    let old_id = app.track_titled("Café Noir").await["id"].clone();

    std::fs::rename(
        app.library_file(CAFE_NOIR),
        app.library_file("Zoë Lémieux/Éclat/01 Café Noir (renamed).opus"),
    )
    .unwrap();
    std::fs::rename(
        app.library_file("Aurora Sines"),
        app.library_file("Aurora Sines (moved)"),
    )
    .unwrap();
    let report = app.rescan().await;
    // Each moved file is paired with its track (catalog::scan::keep_moved): changed, not
    // removed and added again.
    assert_eq!(
        (
            report["added"].as_u64(),
            report["removed"].as_u64(),
            report["changed"].as_u64()
        ),
        (Some(0), Some(0), Some(3)),
        "{report}"
    );

    let (_, after) = app.get_json("/api/v1/stats").await;
    assert_eq!(after["tracks"], before["tracks"], "exact count after renames");
    let (_, found) = app.get_json("/api/v1/search?q=cafe%20noir").await;
    assert_eq!(found["total"], 1, "{found}");
    assert_eq!(
        found["tracks"][0]["id"], old_id,
        "a track keeps its id when its file moves"
    );
    // It plays from where it is now.
    let (status, _) = app
        .get_json(&format!("/api/v1/tracks/{}/stream_url", old_id.as_str().unwrap()))
        .await;
    assert_eq!(status, 200);
    let (_, found) = app.get_json("/api/v1/search?q=dawn%20chorus").await;
    assert_eq!(found["total"], 1, "{found}");
}
