//! `/api/v1/tracks/{id}/artwork`: the picture in a file's tags, else a cover image beside it;
//! never a file outside the library.

use lofty::config::WriteOptions;
use lofty::picture::{MimeType, Picture, PictureType};
use lofty::prelude::*;
use lofty::probe::Probe;

use crate::support::{spawn_app, TestApp};

const HALO_TONES: &str = "Various Artists/Demo Sampler/01 Halo Tones.m4a";

async fn artwork(app: &TestApp, title: &str) -> reqwest::Response {
    let id = app.track_titled(title).await["id"].as_str().unwrap().to_owned();
    app.get(&format!("/api/v1/tracks/{id}/artwork")).await
}

fn embed_cover(path: &std::path::Path, bytes: &[u8]) {
    let mut file = Probe::open(path).unwrap().read().unwrap();
    let tag = file.primary_tag_mut().expect("the demo file is tagged");
    tag.push_picture(Picture::new_unchecked(
        PictureType::CoverFront,
        Some(MimeType::Jpeg),
        None,
        bytes.to_vec(),
    ));
    tag.save_to_path(path, WriteOptions::default()).unwrap();
}

#[tokio::test]
async fn a_cover_beside_the_tracks_is_served_with_a_validator() {
    let app = spawn_app().await;
    let expected = std::fs::read(app.library_file("Aurora Sines/First Light/cover.png")).unwrap();
    let response = artwork(&app, "Dawn Chorus").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "image/png");
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    assert_eq!(response.bytes().await.unwrap().as_ref(), expected.as_slice());

    let id = app.track_titled("Dawn Chorus").await["id"].as_str().unwrap().to_owned();
    let again = app
        .client
        .get(app.url(&format!("/api/v1/tracks/{id}/artwork")))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
}

#[tokio::test]
async fn the_picture_in_the_tags_comes_first_and_no_picture_is_a_clear_404() {
    let app = spawn_app().await;
    let response = artwork(&app, "Halo Tones").await;
    assert_eq!(response.status(), 404);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "artwork_not_found");

    let embedded = b"\xff\xd8\xff\xe0 not really a jpeg, but ours".to_vec();
    embed_cover(&app.library_file(HALO_TONES), &embedded);
    std::fs::write(
        app.library_file("Various Artists/Demo Sampler/Folder.JPG"),
        b"folder image",
    )
    .unwrap();
    let response = artwork(&app, "Halo Tones").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "image/jpeg");
    assert_eq!(response.bytes().await.unwrap().as_ref(), embedded.as_slice());

    // The other track of that album has no picture of its own: the folder's image (any case).
    let response = artwork(&app, "Åce of Sines").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.bytes().await.unwrap().as_ref(), b"folder image");
}

#[cfg(unix)]
#[tokio::test]
async fn a_cover_linked_from_outside_the_library_is_not_served() {
    let app = spawn_app().await;
    let outside = tempfile::TempDir::new().unwrap();
    std::fs::write(outside.path().join("secret.png"), b"outside the library").unwrap();
    std::os::unix::fs::symlink(
        outside.path().join("secret.png"),
        app.library_file("Various Artists/Demo Sampler/cover.png"),
    )
    .unwrap();
    let response = artwork(&app, "Halo Tones").await;
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn unknown_and_malformed_ids_are_404_and_400() {
    let app = spawn_app().await;
    let (status, body) = app.get_json("/api/v1/tracks/0123456789abcdef0123/artwork").await;
    assert_eq!(
        (status.as_u16(), body["error"]["code"].as_str()),
        (404, Some("track_not_found"))
    );
    let (status, _) = app.get_json("/api/v1/tracks/..%2F..%2Fetc/artwork").await;
    assert_eq!(status, 400);
}

/// The API's `artwork` is a URL exactly when there is a cover to fetch, so players need not
/// ask for the covers of tracks that have none.
#[tokio::test]
async fn tracks_say_whether_they_have_a_cover_and_a_rescan_notices_a_new_one() {
    let app = spawn_app().await;
    let artwork_of = |t: &serde_json::Value| t["artwork"].as_str().map(str::to_owned);
    let route = |t: &serde_json::Value| format!("/api/v1/tracks/{}/artwork", t["id"].as_str().unwrap());

    let (_, all) = app.get_json("/api/v1/playlists/recent").await;
    let tracks = all["tracks"].as_array().unwrap();
    assert!(tracks.iter().any(|t| artwork_of(t).is_some()), "{all}");
    for track in tracks {
        let status = app.get(&route(track)).await.status();
        match artwork_of(track) {
            Some(url) => {
                assert_eq!(url, route(track));
                assert_eq!(status, 200, "{track}");
            }
            None => assert_eq!(status, 404, "{track}"),
        }
    }

    let halo = app.track_titled("Halo Tones").await;
    assert_eq!(artwork_of(&halo), None);
    // A cover image put beside unchanged audio files: the next scan sees it, and its removal.
    let cover = app.library_file("Various Artists/Demo Sampler/cover.jpg");
    std::fs::write(&cover, b"a cover").unwrap();
    app.rescan().await;
    assert_eq!(artwork_of(&app.track_titled("Halo Tones").await), Some(route(&halo)));
    std::fs::remove_file(&cover).unwrap();
    app.rescan().await;
    assert_eq!(artwork_of(&app.track_titled("Halo Tones").await), None);
    // A picture in the file's own tags.
    embed_cover(&app.library_file(HALO_TONES), b"\xff\xd8\xff\xe0 a jpeg");
    app.rescan().await;
    assert_eq!(artwork_of(&app.track_titled("Halo Tones").await), Some(route(&halo)));
    assert_eq!(artwork_of(&app.track_titled("Åce of Sines").await), None);
}

/// A remote file's own picture is not a library cover: its track has no artwork link (the
/// endpoint would have nothing to serve), whatever its tags hold.
#[tokio::test]
async fn a_remote_file_with_a_picture_has_no_artwork_link() {
    use crate::origin::{Content, Faults, Origin};
    let dir = tempfile::TempDir::new().unwrap();
    let file = dir.path().join("pictured.m4a");
    std::fs::copy(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("demo/library")
            .join(HALO_TONES),
        &file,
    )
    .unwrap();
    embed_cover(&file, b"\xff\xd8\xff\xe0 a jpeg");
    let origin = Origin::start().await;
    let url = origin.put(
        "pictured.m4a",
        Content::Bytes(std::fs::read(&file).unwrap().into()),
        Faults::default(),
    );
    let app = spawn_app().await;
    let (status, body) = app.add_http_source(&url).await;
    assert_eq!(status, 201, "{body}");
    let track = &body["tracks"][0];
    assert!(track["artwork"].is_null(), "{track}");
    let response = app
        .get(&format!("/api/v1/tracks/{}/artwork", track["id"].as_str().unwrap()))
        .await;
    assert_eq!(response.status(), 404);
}

/// The width and height of an image's bytes.
fn dimensions(bytes: &[u8]) -> (u32, u32) {
    let image = image::load_from_memory(bytes).expect("an image");
    (image.width(), image.height())
}

#[tokio::test]
async fn a_cover_is_scaled_to_the_size_asked_once_and_kept_with_its_own_validator() {
    let app = spawn_app().await;
    let original = std::fs::read(app.library_file("Aurora Sines/First Light/cover.png")).unwrap();
    assert_eq!(dimensions(&original), (240, 240));
    let id = app.track_titled("Dawn Chorus").await["id"].as_str().unwrap().to_owned();
    let sized = |size: &str| {
        let url = app.url(&format!("/api/v1/tracks/{id}/artwork?size={size}"));
        app.client.get(url).send()
    };

    let small = sized("64").await.unwrap();
    assert_eq!(small.status(), 200);
    let mime = small.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(mime == "image/jpeg" || mime == "image/png", "{mime}");
    let etag = small.headers()["etag"].to_str().unwrap().to_owned();
    let bytes = small.bytes().await.unwrap();
    assert_eq!(dimensions(&bytes), (64, 64));
    // Kept in the data dir, and served from there the next time.
    let kept: Vec<_> = std::fs::read_dir(app.data.path().join("cache/covers"))
        .unwrap()
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(sized("64").await.unwrap().bytes().await.unwrap(), bytes);

    // Another size has its own validator; the original's does not match a scaled copy.
    let original_etag = app.get(&format!("/api/v1/tracks/{id}/artwork")).await.headers()["etag"].clone();
    assert_ne!(original_etag.to_str().unwrap(), etag);
    let revalidated = app
        .client
        .get(app.url(&format!("/api/v1/tracks/{id}/artwork?size=64")))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(revalidated.status(), 304);

    // No larger than it is: the original, as it is.
    let large = sized("1000").await.unwrap();
    assert_eq!(large.bytes().await.unwrap().as_ref(), original.as_slice());
    for bad in ["8", "5000", "big"] {
        assert_eq!(sized(bad).await.unwrap().status(), 400, "size={bad}");
    }

    // The Subsonic API scales the same way (its calls carry credentials: a user is made).
    let song = app.track_titled("Dawn Chorus").await;
    app.client
        .post(app.url("/api/v1/users"))
        .json(&serde_json::json!({ "name": "ana", "password": "correct horse battery", "admin": true }))
        .send()
        .await
        .unwrap();
    let cover = app
        .get(&format!(
            "/rest/getCoverArt?u=ana&p=correct%20horse%20battery&v=1.16.1&c=t&id={}&size=100",
            song["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(cover.status(), 200);
    assert_eq!(dimensions(&cover.bytes().await.unwrap()), (100, 100));
}

#[tokio::test]
async fn a_cover_the_decoder_cannot_read_is_served_as_it_is_when_scaled() {
    let app = spawn_app().await;
    let embedded = b"\xff\xd8\xff\xe0 not really a jpeg, but ours".to_vec();
    embed_cover(&app.library_file(HALO_TONES), &embedded);
    let id = app.track_titled("Halo Tones").await["id"].as_str().unwrap().to_owned();
    let response = app.get(&format!("/api/v1/tracks/{id}/artwork?size=64")).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.bytes().await.unwrap().as_ref(), embedded.as_slice());
}
