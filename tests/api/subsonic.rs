//! The Subsonic API at `/rest`: driven by py-sonic (a client library nobody here wrote) over
//! real HTTP, and by raw requests for what py-sonic can't send (API keys, conflicting
//! credentials, JSONP, other origins).

use std::path::{Path, PathBuf};
use std::process::Command;

use lofty::config::WriteOptions;
use lofty::prelude::*;
use lofty::probe::Probe;
use lofty::tag::Tag;
use serde_json::{json, Value};
use tempfile::TempDir;

use crate::support::{spawn_app, spawn_app_with, TestApp};

const PASSWORD: &str = "correct horse battery";

/// The tests' Python (the venv scripts/test.sh makes, with py-sonic), next to their yt-dlp.
fn python() -> PathBuf {
    let yt_dlp = crate::youtube::real_yt_dlp();
    let python = yt_dlp.parent().unwrap().join("python");
    let ok = Command::new(&python)
        .args(["-c", "import libsonic"])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "py-sonic not importable by {}: run the tests through scripts/test.sh",
        python.display()
    );
    python
}

/// Runs a client script of tests/subsonic with the app's port, then `args` (waiting without
/// blocking the server, which runs on the test's runtime); its JSON line on success.
async fn client(script: &str, app: &TestApp, args: &[&str]) -> Value {
    let port = app.base.rsplit(':').next().unwrap().to_owned();
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/subsonic")
        .join(script);
    let output = tokio::process::Command::new(python())
        .arg(path)
        .arg(&port)
        .args(args)
        .kill_on_drop(true)
        .output()
        .await
        .unwrap();
    assert!(
        output.status.success(),
        "{script} {args:?}: {}\n{}",
        String::from_utf8_lossy(&output.stderr),
        String::from_utf8_lossy(&output.stdout)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// tests/subsonic/pysonic_client.py in `mode`, as `user`.
async fn pysonic(mode: &str, app: &TestApp, user: &str, arg: &str) -> Value {
    client("pysonic_client.py", app, &[mode, user, PASSWORD, arg]).await
}

/// The first user (an admin), made while the server is open.
async fn add_admin(app: &TestApp, name: &str) {
    let made = app
        .client
        .post(app.url("/api/v1/users"))
        .json(&json!({ "name": name, "password": PASSWORD, "admin": true }))
        .send()
        .await
        .unwrap();
    assert_eq!(made.status(), 201);
}

/// `GET /rest/<method>?<query>&f=json`: the `subsonic-response`.
async fn rest(app: &TestApp, method: &str, query: &str) -> Value {
    let response = app.get(&format!("/rest/{method}?{query}&f=json&v=1.16.1&c=test")).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    body["subsonic-response"].clone()
}

fn code(response: &Value) -> Option<u64> {
    assert_eq!(
        response["status"],
        if response["error"].is_null() { "ok" } else { "failed" }
    );
    response["error"]["code"].as_u64()
}

#[tokio::test]
async fn py_sonic_browses_by_tags_searches_streams_with_ranges_gets_covers_and_stars_and_scrobbles() {
    let app = spawn_app().await;
    add_admin(&app, "ana").await;
    let seen = pysonic("browse", &app, "ana", app.library.path().to_str().unwrap()).await;
    assert_eq!(
        seen["artists"],
        json!([
            "anyaudio",
            "Aurora Sines",
            "The Square Waves",
            "Various Artists",
            "Zoë Lémieux"
        ])
    );
    assert_eq!(seen["genres"].as_array().unwrap().len(), 6, "{seen}");
}

#[tokio::test]
async fn py_sonic_browses_by_folders_to_every_file_and_no_folder_outside_the_library() {
    let app = spawn_app().await;
    add_admin(&app, "ana").await;
    let seen = pysonic("folders", &app, "ana", app.library.path().to_str().unwrap()).await;
    assert_eq!(seen, json!({ "directories": 10, "songs": 9 }));

    // Folders above a library folder are in the catalog (as every folder up to /), but no
    // client sees them, even knowing how their ids are made.
    let auth = format!("u=ana&p={}", crate::support::urlencode(PASSWORD));
    let root = app.library.path().canonicalize().unwrap();
    let above = format!("{}/", root.parent().unwrap().to_str().unwrap());
    let above_id = format!("fo-{}", &anyaudio::model::stable_id(&["folder", &above])[..12]);
    let inside = format!("{}/Aurora Sines/", root.to_str().unwrap());
    let inside_id = format!("fo-{}", &anyaudio::model::stable_id(&["folder", &inside])[..12]);
    let listed = rest(&app, "getMusicDirectory", &format!("{auth}&id={inside_id}")).await;
    assert_eq!(listed["directory"]["name"], "Aurora Sines", "{listed}");
    for id in [above_id.as_str(), "fo-..%2F..", "0", "2"] {
        let refused = rest(&app, "getMusicDirectory", &format!("{auth}&id={id}")).await;
        assert_eq!(code(&refused), Some(70), "{id}: {refused}");
    }
    let unknown_folder = rest(&app, "getIndexes", &format!("{auth}&musicFolderId=7")).await;
    assert_eq!(code(&unknown_folder), Some(70), "{unknown_folder}");
}

#[tokio::test]
async fn lyrics_come_from_an_lrc_file_beside_a_song_or_its_tags_timed_where_they_are() {
    let library = crate::support::demo_library();
    let album = library.path().join("Aurora Sines/First Light");
    std::fs::write(
        album.join("02 Morning Drift.lrc"),
        "[ar:Aurora Sines]\r\n[ti:Morning Drift]\r\n[offset:-150]\r\n[00:01.20]Mist on the water\r\n\
         [00:04.75][00:09.00]Drifting, drifting\r\n",
    )
    .unwrap();
    // Vorbis comments' LYRICS (FLAC), and ID3v2's USLT with its language (MP3).
    let flac = album.join("01 Dawn Chorus.flac");
    let mut file = Probe::open(&flac).unwrap().read().unwrap();
    file.primary_tag_mut()
        .unwrap()
        .insert_text(ItemKey::Lyrics, "Birds at dawn\n\nSinging on".to_owned());
    file.save_to_path(&flac, WriteOptions::default()).unwrap();
    let mp3 = library
        .path()
        .join("The Square Waves/Retro Circuits/02 Pulse Width.mp3");
    let file = Probe::open(&mp3).unwrap().read().unwrap();
    let mut id3: lofty::id3::v2::Id3v2Tag = file.primary_tag().unwrap().clone().into();
    id3.insert(lofty::id3::v2::Frame::UnsynchronizedText(
        lofty::id3::v2::UnsynchronizedTextFrame::new(
            lofty::TextEncoding::UTF8,
            *b"eng",
            String::new(),
            "Square and bright".to_owned(),
        ),
    ));
    id3.save_to_path(&mp3, WriteOptions::default()).unwrap();
    // ID3v2's timed SYLT, written by mutagen (tests/fixtures/lyrics/README.md).
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lyrics/Timed Lyrics.mp3"),
        album.join("09 Timed Lyrics.mp3"),
    )
    .unwrap();

    let app = spawn_app_with(library).await;
    add_admin(&app, "ana").await;
    let auth = format!("u=ana&p={}", crate::support::urlencode(PASSWORD));
    let song_id = |title: &'static str| {
        let app = &app;
        let auth = auth.clone();
        async move {
            let found = rest(
                app,
                "search3",
                &format!("{auth}&query={}", crate::support::urlencode(title)),
            )
            .await;
            found["searchResult3"]["song"][0]["id"].as_str().unwrap().to_owned()
        }
    };
    let lyrics = |id: String| {
        let app = &app;
        let auth = auth.clone();
        async move { rest(app, "getLyricsBySongId", &format!("{auth}&id={id}")).await }
    };

    let drift = lyrics(song_id("Morning Drift").await).await;
    assert_eq!(
        drift["lyricsList"]["structuredLyrics"],
        json!([{
            "displayArtist": "Aurora Sines", "displayTitle": "Morning Drift", "lang": "xxx",
            "offset": -150, "synced": true,
            "line": [
                { "start": 1200, "value": "Mist on the water" },
                { "start": 4750, "value": "Drifting, drifting" },
                { "start": 9000, "value": "Drifting, drifting" },
            ]
        }]),
        "{drift}"
    );
    let dawn = lyrics(song_id("Dawn Chorus").await).await;
    assert_eq!(
        dawn["lyricsList"]["structuredLyrics"][0]["line"],
        json!([{ "value": "Birds at dawn" }, { "value": "" }, { "value": "Singing on" }]),
        "{dawn}"
    );
    assert_eq!(dawn["lyricsList"]["structuredLyrics"][0]["synced"], false);
    let pulse = lyrics(song_id("Pulse Width").await).await;
    assert_eq!(pulse["lyricsList"]["structuredLyrics"][0]["lang"], "eng", "{pulse}");
    // Only the frame of lyrics timed in milliseconds, its lines in time order.
    let timed = lyrics(song_id("Timed Lyrics").await).await;
    assert_eq!(
        timed["lyricsList"]["structuredLyrics"],
        json!([{
            "displayArtist": "Fixture Artist", "displayTitle": "Timed Lyrics", "lang": "deu",
            "offset": 0, "synced": true,
            "line": [
                { "start": 800, "value": "Erste Zeile" },
                { "start": 2500, "value": "Zweite Zeile" },
                { "start": 4100, "value": "Dritte Zeile" },
            ]
        }]),
        "{timed}"
    );
    let none = lyrics(song_id("Bientôt").await).await;
    assert_eq!(none["lyricsList"]["structuredLyrics"], json!([]), "{none}");
    assert_eq!(code(&lyrics("0123456789abcdef0123".to_owned()).await), Some(70));

    // XML: each line's text is its content, its start an attribute.
    let id = song_id("Morning Drift").await;
    let xml = app
        .get(&format!("/rest/getLyricsBySongId?{auth}&id={id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        xml.contains(r#"<structuredLyrics displayArtist="Aurora Sines" displayTitle="Morning Drift" lang="xxx" offset="-150" synced="true"><line start="1200">Mist on the water</line>"#),
        "{xml}"
    );
    let extensions = rest(&app, "getOpenSubsonicExtensions", "").await;
    assert!(
        extensions["openSubsonicExtensions"]
            .as_array()
            .unwrap()
            .contains(&json!({ "name": "songLyrics", "versions": [1] })),
        "{extensions}"
    );

    // The original getLyrics, through py-sonic: plain text by artist and title.
    let found = pysonic("lyrics", &app, "ana", "Aurora Sines|morning drift").await;
    assert_eq!(
        found,
        json!({ "artist": "Aurora Sines", "title": "Morning Drift",
                "value": "Mist on the water\nDrifting, drifting\nDrifting, drifting" })
    );
    assert_eq!(
        pysonic("lyrics", &app, "ana", "|Dawn Chorus").await["value"],
        "Birds at dawn\n\nSinging on"
    );
    assert_eq!(
        pysonic("lyrics", &app, "ana", "Nobody|Dawn Chorus").await,
        json!({ "artist": "Nobody", "title": "Dawn Chorus", "value": "" })
    );
}

/// Sets every value of `key` in a file's tags to `values` (several fields of one name,
/// several MP4 data atoms, or an ID3v2.4 list: one frame, its values apart by NULs, as the
/// standard's §4.2 has it; lofty writes repeated items as repeated frames, which readers drop).
fn tag_values(path: &Path, key: ItemKey, values: &[&str]) {
    let mut file = Probe::open(path).unwrap().read().unwrap();
    let id3 = file.file_type() == lofty::file::FileType::Mpeg;
    let tag = file.primary_tag_mut().unwrap();
    tag.remove_key(&key);
    let joined = [values.join("\0")];
    let values: Vec<&str> = if id3 { vec![joined[0].as_str()] } else { values.to_vec() };
    for value in values {
        tag.push(lofty::tag::TagItem::new(
            key.clone(),
            lofty::tag::ItemValue::Text(value.to_owned()),
        ));
    }
    file.save_to_path(path, WriteOptions::default()).unwrap();
}

#[tokio::test]
async fn several_artists_in_the_tags_are_each_an_artist_and_an_album_is_under_each_album_artist() {
    let library = crate::support::demo_library();
    tag_values(
        &library.path().join("Aurora Sines/First Light/01 Dawn Chorus.flac"),
        ItemKey::TrackArtist,
        &["Aurora Sines", "Guest Voice"],
    );
    for file in ["01 Eight Bit Heart.m4a", "02 Pulse Width.mp3"] {
        tag_values(
            &library.path().join("The Square Waves/Retro Circuits").join(file),
            ItemKey::AlbumArtist,
            &["The Square Waves", "Chip Tune"],
        );
    }
    let app = spawn_app_with(library).await;
    add_admin(&app, "ana").await;
    let auth = format!("u=ana&p={}", crate::support::urlencode(PASSWORD));
    let artists = rest(&app, "getArtists", &auth).await;
    let by_name: std::collections::HashMap<String, Value> = artists["artists"]["index"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|i| i["artist"].as_array().unwrap().clone())
        .map(|a| (a["name"].as_str().unwrap().to_owned(), a))
        .collect();
    assert!(by_name.contains_key("Chip Tune"), "{artists}");
    assert!(
        !by_name.contains_key("Guest Voice"),
        "a track artist alone has no albums: {artists}"
    );
    let albums_of = |name: &str| {
        let id = by_name[name]["id"].as_str().unwrap().to_owned();
        let (app, auth) = (&app, auth.clone());
        async move {
            let artist = rest(app, "getArtist", &format!("{auth}&id={id}")).await;
            artist["artist"]["album"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["name"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(albums_of("Chip Tune").await, ["Retro Circuits"]);
    assert_eq!(albums_of("The Square Waves").await, ["Retro Circuits"]);
    assert_eq!(by_name["Chip Tune"]["albumCount"], 1);

    let found = rest(&app, "search3", &format!("{auth}&query=retro+circuits&songCount=0")).await;
    let album = &found["searchResult3"]["album"][0];
    assert_eq!(album["artist"], "The Square Waves, Chip Tune", "{album}");
    assert_eq!(album["artistId"], by_name["The Square Waves"]["id"], "{album}");
    assert_eq!(
        album["artists"],
        json!([
            { "id": by_name["The Square Waves"]["id"], "name": "The Square Waves" },
            { "id": by_name["Chip Tune"]["id"], "name": "Chip Tune" },
        ])
    );

    // A song of two artists: shown together, each an artist (the first its entity).
    let found = rest(&app, "search3", &format!("{auth}&query=guest+voice")).await;
    let song = &found["searchResult3"]["song"][0];
    assert_eq!(song["title"], "Dawn Chorus", "{found}");
    assert_eq!(song["artist"], "Aurora Sines, Guest Voice");
    assert_eq!(song["artistId"], by_name["Aurora Sines"]["id"]);
    let guest = song["artists"][1].clone();
    assert_eq!(guest["name"], "Guest Voice", "{song}");
    let artist = rest(
        &app,
        "getArtist",
        &format!("{auth}&id={}", guest["id"].as_str().unwrap()),
    )
    .await;
    assert_eq!(artist["artist"]["name"], "Guest Voice", "{artist}");
    assert_eq!(artist["artist"]["albumCount"], 0);
}

#[tokio::test]
async fn py_opensonic_walks_every_method_and_each_json_answer_has_the_shape_of_its_model() {
    // Lyrics beside every song, so that their answers have lines to check too.
    let library = crate::support::demo_library();
    for entry in jwalk::WalkDir::new(library.path()).into_iter().flatten() {
        let path = entry.path();
        if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("mp3" | "flac" | "ogg" | "opus" | "m4a")
        ) {
            std::fs::write(
                path.with_extension("lrc"),
                "[00:00.50]First line\n[00:02.00]Second line\n",
            )
            .unwrap();
        }
    }
    let app = spawn_app_with(library).await;
    add_admin(&app, "ana").await;
    let key = api_key(&app, "ana", "opensonic").await;
    let walked = client("opensonic_client.py", &app, &[&key]).await;
    assert_eq!(walked.as_object().unwrap().len(), 34, "{walked}");
    assert_eq!(walked["getLyricsBySongId"], 1, "{walked}");
    assert_eq!(walked["getAlbumList2(newest)"], 5, "{walked}");
}

/// A library of `albums` albums of ten tracks, each a copy of a small MP3 with its own tags.
fn generated_library(albums: usize) -> TempDir {
    let dir = TempDir::new().unwrap();
    let mp3 =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/formats/Format mp3.mp3")).unwrap();
    for album in 0..albums {
        let artist = format!("Artist {:03}", album / 5);
        let folder = dir.path().join(&artist).join(format!("Album {album:04}"));
        std::fs::create_dir_all(&folder).unwrap();
        for track in 0..10u32 {
            let path = folder.join(format!("{track:02}.mp3"));
            std::fs::write(&path, &mp3).unwrap();
            let mut file = Probe::open(&path).unwrap().read().unwrap();
            let mut tag = Tag::new(file.primary_tag_type());
            tag.set_title(format!("Song {album}-{track}"));
            tag.set_artist(artist.clone());
            tag.set_album(format!("Album {album:04}"));
            tag.set_track(track + 1);
            file.insert_tag(tag);
            file.save_to_path(&path, WriteOptions::default()).unwrap();
        }
    }
    dir
}

#[tokio::test]
async fn an_empty_search3_pages_through_a_library_of_thousands_as_clients_sync() {
    let app = spawn_app_with(generated_library(300)).await;
    add_admin(&app, "ana").await;
    let paged = pysonic("page", &app, "ana", "3000").await;
    assert_eq!(paged, json!({ "songs": 3000, "pages": 7, "albums": 300 }));
    // Past the 10,000th there is no cap on offsets: the last song's offset answers.
    let auth = format!("u=ana&p={}", crate::support::urlencode(PASSWORD));
    let last = rest(
        &app,
        "search3",
        &format!("{auth}&query=&artistCount=0&albumCount=0&songCount=5&songOffset=2999"),
    )
    .await;
    assert_eq!(last["searchResult3"]["song"].as_array().unwrap().len(), 1, "{last}");
}

#[tokio::test]
async fn every_credential_is_checked_and_each_mistake_has_the_specs_code() {
    let app = spawn_app().await;
    // No user yet, the server open on loopback: /rest still asks for credentials.
    assert_eq!(code(&rest(&app, "getArtists", "").await), Some(10));
    add_admin(&app, "ana").await;
    let pass = crate::support::urlencode(PASSWORD);
    assert_eq!(code(&rest(&app, "getArtists", &format!("u=ana&p={pass}")).await), None);
    // md5("correct horse battery" + "c19b2d"), computed by coreutils' md5sum.
    let salt = "c19b2d";
    let token = md5_hex(&format!("{PASSWORD}{salt}"));
    assert_eq!(
        code(&rest(&app, "ping", &format!("u=ana&t={token}&s={salt}")).await),
        None
    );
    assert_eq!(
        code(&rest(&app, "ping", &format!("u=ana&t={token}&s=other")).await),
        Some(40)
    );

    // An API key, made in the JSON API, works alone; with `u` it conflicts.
    let key = api_key(&app, "ana", "phone").await;
    let secret = key.as_str();
    let me = rest(&app, "getUser", &format!("apiKey={secret}&username=ana")).await;
    assert_eq!(me["user"]["username"], "ana", "{me}");
    assert_eq!(
        code(&rest(&app, "ping", &format!("apiKey={secret}&u=ana")).await),
        Some(43)
    );
    assert_eq!(code(&rest(&app, "ping", "apiKey=aa_not_a_key").await), Some(44));
    assert_eq!(
        code(&rest(&app, "ping", &format!("u=ana&p={pass}&t={token}&s={salt}")).await),
        Some(43)
    );
    assert_eq!(code(&rest(&app, "ping", "u=ana&t=abc").await), Some(10));

    // The public three answer without credentials; the extensions list what is served.
    assert_eq!(code(&rest(&app, "ping", "").await), None);
    let extensions = rest(&app, "getOpenSubsonicExtensions", "").await;
    let names: Vec<&str> = extensions["openSubsonicExtensions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["apiKeyAuthentication", "formPost", "songLyrics"]);

    // Wrong passwords are rate-limited like logins: after five failures (the wrong token
    // above was the first), even the right one waits.
    for _ in 0..4 {
        assert_eq!(code(&rest(&app, "ping", "u=ana&p=wrong").await), Some(40));
    }
    let limited = rest(&app, "ping", &format!("u=ana&p={pass}")).await;
    assert_eq!(code(&limited), Some(0), "{limited}");
    assert!(
        limited["error"]["message"].as_str().unwrap().contains("too many"),
        "{limited}"
    );
}

#[tokio::test]
async fn only_admins_scan_and_see_other_users_and_marks_and_playlists_are_each_users_own() {
    let app = spawn_app().await;
    add_admin(&app, "ana").await;
    let session = login(&app, "ana").await;
    let made = app
        .client
        .post(app.url("/api/v1/users"))
        .header("cookie", &session)
        .json(&json!({ "name": "bo", "password": PASSWORD, "admin": false }))
        .send()
        .await
        .unwrap();
    assert_eq!(made.status(), 201);
    let bo = format!("u=bo&p={}", crate::support::urlencode(PASSWORD));
    assert_eq!(code(&rest(&app, "startScan", &bo).await), Some(50));
    assert_eq!(
        code(&rest(&app, "getUser", &format!("{bo}&username=ana")).await),
        Some(50)
    );
    let me = rest(&app, "getUser", &format!("{bo}&username=bo")).await;
    assert_eq!(
        (me["user"]["adminRole"].clone(), me["user"]["streamRole"].clone()),
        (json!(false), json!(true))
    );
    let ana = format!("u=ana&p={}", crate::support::urlencode(PASSWORD));
    // Stars and plays are each user's own.
    let album = rest(&app, "getAlbumList2", &format!("{ana}&type=alphabeticalByName&size=1")).await;
    let album_id = album["albumList2"]["album"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        code(&rest(&app, "star", &format!("{ana}&albumId={album_id}")).await),
        None
    );
    let starred = |who: String| {
        let app = &app;
        async move {
            rest(app, "getStarred2", &who).await["starred2"]["album"]
                .as_array()
                .unwrap()
                .len()
        }
    };
    assert_eq!((starred(ana.clone()).await, starred(bo.clone()).await), (1, 0));
    assert_eq!(
        code(&rest(&app, "star", &format!("{ana}&albumId=../x")).await),
        Some(70)
    );
    assert_eq!(code(&rest(&app, "star", &ana).await), Some(10));
    assert_eq!(
        code(&rest(&app, "scrobble", &format!("{ana}&id=0123456789abcdef0123")).await),
        Some(70)
    );
    assert_eq!(
        code(&rest(&app, "setRating", &format!("{ana}&id={album_id}&rating=9")).await),
        Some(0)
    );
    // A playlist is its owner's: others don't see it, and can't change it.
    let made = rest(&app, "createPlaylist", &format!("{ana}&name=Private")).await;
    let playlist = made["playlist"]["id"].as_str().unwrap().to_owned();
    let listed = rest(&app, "getPlaylists", &bo).await;
    assert!(listed["playlists"]["playlist"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["id"] != playlist.as_str()));
    assert_eq!(
        code(&rest(&app, "getPlaylist", &format!("{bo}&id={playlist}")).await),
        Some(70)
    );
    assert_eq!(
        code(&rest(&app, "deletePlaylist", &format!("{bo}&id={playlist}")).await),
        Some(50)
    );
    assert_eq!(
        code(
            &rest(
                &app,
                "createPlaylist",
                &format!("{ana}&name=x&songId=0123456789abcdef0123")
            )
            .await
        ),
        Some(70)
    );
    let started = rest(&app, "startScan", &ana).await;
    assert_eq!(code(&started), None, "{started}");
    assert!(started["scanStatus"]["scanning"].is_boolean(), "{started}");
}

#[tokio::test]
async fn answers_come_as_xml_by_default_json_or_jsonp_and_to_any_origin() {
    let app = spawn_app().await;
    add_admin(&app, "ana").await;
    let auth = format!("u=ana&p={}", crate::support::urlencode(PASSWORD));
    let xml = app.get(&format!("/rest/getAlbumList2.view?{auth}&type=newest")).await;
    assert_eq!(xml.headers()["content-type"], "text/xml; charset=utf-8");
    let xml = xml.text().await.unwrap();
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?><subsonic-response xmlns=\"http://subsonic.org/restapi\" status=\"ok\" version=\"1.16.1\" type=\"anyaudio\""), "{xml}");
    assert_eq!(xml.matches("<album ").count(), 5, "{xml}");

    let jsonp = app.get(&format!("/rest/ping?{auth}&f=jsonp&callback=done")).await;
    assert_eq!(jsonp.headers()["content-type"], "application/javascript");
    let jsonp = jsonp.text().await.unwrap();
    assert!(
        jsonp.starts_with("done({\"subsonic-response\":") && jsonp.ends_with(");"),
        "{jsonp}"
    );

    // A web client elsewhere: a preflight and a form POST from its origin are answered, with
    // no credentials of the browser's allowed.
    let preflight = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/rest/ping.view"))
        .header("origin", "https://player.example")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.headers()["access-control-allow-origin"], "*");
    assert!(preflight.headers().get("access-control-allow-credentials").is_none());
    let posted = app
        .client
        .post(app.url("/rest/getGenres"))
        .header("origin", "https://player.example")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("{auth}&f=json&v=1.16.1&c=web"))
        .send()
        .await
        .unwrap();
    assert_eq!(posted.headers()["access-control-allow-origin"], "*");
    let body: Value = posted.json().await.unwrap();
    assert_eq!(
        body["subsonic-response"]["genres"]["genre"].as_array().unwrap().len(),
        6,
        "{body}"
    );
    // The JSON API still refuses a state change from that origin.
    let scan = app
        .client
        .post(app.url("/api/v1/scan"))
        .header("origin", "https://player.example")
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(scan.status(), 403);

    // Unknown methods and ids are Subsonic errors, never a 500.
    assert_eq!(code(&rest(&app, "getNothing", &auth).await), Some(0));
    assert_eq!(
        code(&rest(&app, "getAlbum", &format!("{auth}&id=al-000000000000")).await),
        Some(70)
    );
    assert_eq!(
        code(&rest(&app, "getAlbum", &format!("{auth}&id=../../etc")).await),
        Some(70)
    );
    assert_eq!(code(&rest(&app, "getAlbum", &auth).await), Some(10));
    assert_eq!(
        code(&rest(&app, "getAlbumList2", &format!("{auth}&type=newest&size=x")).await),
        Some(0)
    );
}

/// An album artist tag files tracks under it; without one, an album of several artists in
/// one folder is a compilation by "Various Artists", and a single-artist one is theirs.
#[tokio::test]
async fn albums_are_filed_under_their_album_artist() {
    let dir = generated_library(1);
    let folder = dir.path().join("Artist 000/Album 0000");
    for (track, artist, album_artist) in [(0, "Guest One", None), (1, "Guest Two", None)] {
        retag(&folder.join(format!("{track:02}.mp3")), artist, album_artist);
    }
    let solo = dir.path().join("Solo/Own");
    std::fs::create_dir_all(&solo).unwrap();
    std::fs::copy(folder.join("05.mp3"), solo.join("a.mp3")).unwrap();
    retag(&solo.join("a.mp3"), "Feat Singer", Some("Band Leader"));
    let app = spawn_app_with(dir).await;
    add_admin(&app, "ana").await;
    let auth = format!("u=ana&p={}", crate::support::urlencode(PASSWORD));
    let artists = rest(&app, "getArtists", &auth).await;
    let names: Vec<&str> = artists["artists"]["index"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|i| i["artist"].as_array().unwrap())
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Band Leader", "Various Artists"], "{artists}");
    // Two albums of one name: the compilation's ten tracks, and the one filed under its
    // album artist.
    let found = rest(&app, "search3", &format!("{auth}&query=album 0000")).await;
    let mut albums: Vec<(&str, u64)> = found["searchResult3"]["album"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["artist"].as_str().unwrap(), a["songCount"].as_u64().unwrap()))
        .collect();
    albums.sort();
    assert_eq!(albums, [("Band Leader", 1), ("Various Artists", 10)], "{found}");
    // A track artist who files no album is still an artist a song links to.
    let song = rest(&app, "search3", &format!("{auth}&query=feat singer")).await;
    let song = &song["searchResult3"]["song"][0];
    let artist = rest(
        &app,
        "getArtist",
        &format!("{auth}&id={}", song["artistId"].as_str().unwrap()),
    )
    .await;
    assert_eq!(
        (
            artist["artist"]["name"].as_str(),
            artist["artist"]["albumCount"].as_u64()
        ),
        (Some("Feat Singer"), Some(0))
    );
    assert_eq!(song["displayAlbumArtist"], "Band Leader", "{song}");
}

fn retag(path: &Path, artist: &str, album_artist: Option<&str>) {
    let mut file = Probe::open(path).unwrap().read().unwrap();
    let tag = file.primary_tag_mut().unwrap();
    tag.set_artist(artist.to_owned());
    if let Some(album_artist) = album_artist {
        tag.insert_text(ItemKey::AlbumArtist, album_artist.to_owned());
    }
    tag.save_to_path(path, WriteOptions::default()).unwrap();
}

/// A new API key of `user` (made in the JSON API, after a login).
async fn api_key(app: &TestApp, user: &str, name: &str) -> String {
    let session = login(app, user).await;
    let key: Value = app
        .client
        .post(app.url("/api/v1/me/keys"))
        .header("cookie", &session)
        .json(&json!({ "name": name, "password": PASSWORD }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    key["secret"].as_str().unwrap().to_owned()
}

async fn login(app: &TestApp, name: &str) -> String {
    crate::support::session_cookie(app, name, PASSWORD).await
}

/// md5 in hex, from coreutils' md5sum: not the server's code.
fn md5_hex(text: &str) -> String {
    use std::io::Write;
    let mut child = Command::new("md5sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .to_owned()
}

/// Starts a scan through `/rest` and waits for it to end.
async fn rescan(app: &TestApp, auth: &str) {
    assert_eq!(code(&rest(app, "startScan", auth).await), None);
    for _ in 0..500 {
        if rest(app, "getScanStatus", auth).await["scanStatus"]["scanning"] == false {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("the scan did not end");
}

/// A file renamed and moved to another folder keeps its track: its id, its star, its play
/// count and its place in a playlist; it plays from where it is now, and a later change to
/// its tags keeps the id too.
#[tokio::test]
async fn a_renamed_or_moved_file_keeps_its_id_stars_plays_and_playlist_places() {
    let app = spawn_app().await;
    add_admin(&app, "ana").await;
    let auth = format!("u=ana&p={}", crate::support::urlencode(PASSWORD));
    let found = rest(&app, "search3", &format!("{auth}&query=morning drift")).await;
    let id = found["searchResult3"]["song"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(code(&rest(&app, "star", &format!("{auth}&id={id}")).await), None);
    assert_eq!(code(&rest(&app, "scrobble", &format!("{auth}&id={id}")).await), None);
    let made = rest(&app, "createPlaylist", &format!("{auth}&name=Keep&songId={id}")).await;
    let playlist = made["playlist"]["id"].as_str().unwrap().to_owned();

    let old = app.library_file(crate::support::MORNING_DRIFT);
    let bytes = std::fs::read(&old).unwrap();
    let new = app.library_file("Elsewhere/renamed drift.mp3");
    std::fs::create_dir_all(new.parent().unwrap()).unwrap();
    std::fs::rename(&old, &new).unwrap();
    rescan(&app, &auth).await;

    let song = rest(&app, "getSong", &format!("{auth}&id={id}")).await;
    assert_eq!(song["song"]["title"], "Morning Drift", "{song}");
    assert_eq!(song["song"]["playCount"], 1, "{song}");
    assert!(song["song"]["starred"].is_string(), "{song}");
    let listed = rest(&app, "getPlaylist", &format!("{auth}&id={playlist}")).await;
    assert_eq!(listed["playlist"]["entry"][0]["id"], id.as_str(), "{listed}");
    let all = rest(&app, "search3", &format!("{auth}&query=&songCount=100")).await;
    assert_eq!(
        all["searchResult3"]["song"].as_array().unwrap().len(),
        9,
        "one track, not two"
    );
    let streamed = app.get(&format!("/rest/stream?{auth}&id={id}")).await;
    assert_eq!(streamed.bytes().await.unwrap(), bytes);
    // Browsed by folder, it is in its new one.
    assert_eq!(song["song"]["path"], "Elsewhere/renamed drift.mp3", "{song}");
    let folder = format!(
        "{}/Elsewhere/",
        app.library.path().canonicalize().unwrap().to_str().unwrap()
    );
    let folder_id = format!("fo-{}", &anyaudio::model::stable_id(&["folder", &folder])[..12]);
    let listed = rest(&app, "getMusicDirectory", &format!("{auth}&id={folder_id}")).await;
    assert_eq!(listed["directory"]["child"][0]["id"], id.as_str(), "{listed}");
    assert_eq!(
        listed["directory"]["child"][0]["parent"],
        folder_id.as_str(),
        "{listed}"
    );

    // Retagged where it is now: still the same track.
    crate::support::retag(&new, "Morning Drift (remaster)", None);
    rescan(&app, &auth).await;
    let song = rest(&app, "getSong", &format!("{auth}&id={id}")).await;
    assert_eq!(song["song"]["title"], "Morning Drift (remaster)", "{song}");
    assert!(song["song"]["starred"].is_string(), "{song}");
}

/// With the YouTube source on, `search3` answers the library's songs first, then YouTube's
/// (from the recorded search listing, inside the real yt-dlp), marked as YouTube's and
/// playable by their ids; an empty or short query never runs yt-dlp (a library sync stays
/// offline and fast).
#[tokio::test]
async fn search3_adds_youtube_after_the_library_and_a_sync_never_asks_youtube() {
    use crate::youtube::{real_in, youtube_app_with, Mode, Recorded};
    let mut recorded = Recorded::new();
    recorded.listing("ytsearch*", "derived/youtube-search-flat.json");
    let app = youtube_app_with(anyaudio::sources::ytdlp::YtDlpConfig {
        extra_args: recorded.options(),
        ..real_in(Mode::Workers)
    })
    .await;
    add_admin(&app, "ana").await;
    let auth = format!("u=ana&p={}", crate::support::urlencode(PASSWORD));
    // The recorded listing holds three playable videos, a live one and an upcoming one.
    let page = |offset: u32| {
        let (app, auth) = (&app, &auth);
        async move {
            let found = rest(
                app,
                "search3",
                &format!("{auth}&query=morning&songCount=2&songOffset={offset}"),
            )
            .await;
            found["searchResult3"]["song"].as_array().unwrap().clone()
        }
    };
    let first = page(0).await;
    let ids = |songs: &[Value]| {
        songs
            .iter()
            .map(|s| s["id"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(first[0]["title"], "Morning Drift", "the library's first: {first:?}");
    assert_eq!(ids(&first)[1], "yt-Je8iIWgavh4");
    assert_eq!(
        (first[1]["album"].as_str(), first[1]["genre"].as_str()),
        (Some("YouTube"), Some("YouTube"))
    );
    // The next pages go on in YouTube's list, without the live and upcoming ones.
    assert_eq!(ids(&page(2).await), ["yt-nvQNUxoN8gw", "yt-ZxnMdkQ-OXE"]);
    assert!(page(4).await.is_empty());
    let asked = recorded.calls().len();
    for query in ["", "mo", "\"\""] {
        let synced = rest(&app, "search3", &format!("{auth}&query={query}&songCount=50")).await;
        assert!(
            synced["searchResult3"]["song"]
                .as_array()
                .unwrap()
                .iter()
                .all(|s| !s["id"].as_str().unwrap().starts_with("yt-")),
            "{synced}"
        );
    }
    assert_eq!(recorded.calls().len(), asked, "yt-dlp ran for a sync or a short query");
}
