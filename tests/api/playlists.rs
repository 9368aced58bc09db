use crate::support::spawn_app;
use serde_json::Value;

fn names(list: &Value) -> Vec<(String, String)> {
    list["playlists"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["kind"].as_str().unwrap().to_owned(),
                p["name"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn track_titles(playlist: &Value) -> Vec<&str> {
    playlist["tracks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["title"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn predefined_playlists_are_listed_smart_first() {
    let app = spawn_app().await;
    let (status, list) = app.get_json("/api/v1/playlists").await;
    assert_eq!(status, 200);
    let names = names(&list);
    assert_eq!(names[0], ("recent".into(), "Recently added".into()));
    assert_eq!(names[1], ("mix".into(), "Random mix".into()));
    assert_eq!(names[2], ("m3u".into(), "Favourites".into()));
    for expected in [
        ("album", "First Light"),
        ("album", "Demo Sampler"),
        ("artist", "Zoë Lémieux"),
        ("genre", "Chiptune"),
    ] {
        assert!(
            names.contains(&(expected.0.into(), expected.1.into())),
            "{expected:?} missing from {names:?}"
        );
    }
    assert_eq!(list["total"].as_u64().unwrap() as usize, names.len());
}

#[tokio::test]
async fn playlists_filter_by_kind_and_page() {
    let app = spawn_app().await;
    let (_, albums) = app.get_json("/api/v1/playlists?kind=album").await;
    assert_eq!(albums["total"], 5);
    assert!(albums["playlists"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["kind"] == "album"));
    let (_, page) = app.get_json("/api/v1/playlists?kind=album&limit=2&offset=2").await;
    assert_eq!(page["playlists"].as_array().unwrap().len(), 2);
    assert_eq!(page["playlists"][0], albums["playlists"][2]);
    let (_, smart) = app.get_json("/api/v1/playlists?kind=smart").await;
    assert_eq!(smart["total"], 2);
    let (_, all) = app.get_json("/api/v1/playlists?limit=3&offset=1").await;
    assert_eq!(names(&all)[0].0, "mix");
    assert_eq!(names(&all)[1].0, "m3u");
}

#[tokio::test]
async fn an_album_plays_in_track_order() {
    let app = spawn_app().await;
    let (_, albums) = app.get_json("/api/v1/playlists?kind=album").await;
    let id = albums["playlists"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "Demo Sampler")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, album) = app.get_json(&format!("/api/v1/playlists/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(album["subtitle"], "Various Artists");
    assert_eq!(album["track_count"], 2);
    assert_eq!(track_titles(&album), vec!["Halo Tones", "Åce of Sines"]);
}

#[tokio::test]
async fn m3u_playlists_keep_their_order_and_drop_missing_entries() {
    let app = spawn_app().await;
    let (_, list) = app.get_json("/api/v1/playlists?kind=m3u").await;
    let id = list["playlists"][0]["id"].as_str().unwrap().to_owned();
    let (_, favourites) = app.get_json(&format!("/api/v1/playlists/{id}")).await;
    assert_eq!(favourites["name"], "Favourites");
    assert_eq!(
        track_titles(&favourites),
        vec!["Café Noir", "Eight Bit Heart", "Dawn Chorus"]
    );
}

#[tokio::test]
async fn smart_playlists_hold_the_library() {
    let app = spawn_app().await;
    for id in ["recent", "mix"] {
        let (status, p) = app.get_json(&format!("/api/v1/playlists/{id}")).await;
        assert_eq!(status, 200);
        assert_eq!(p["tracks"].as_array().unwrap().len(), 9, "{id}");
        assert_eq!(p["track_count"], 9);
    }
}

#[tokio::test]
async fn related_tracks_start_with_the_rest_of_the_album() {
    let app = spawn_app().await;
    let track = app.track_titled("Dawn Chorus").await;
    let (status, related) = app
        .get_json(&format!(
            "/api/v1/tracks/{}/related?limit=5",
            track["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(status, 200);
    let titles = track_titles(&related);
    assert_eq!(titles.len(), 5);
    assert_eq!(titles[0], "Morning Drift");
    assert!(!titles.contains(&"Dawn Chorus"));
    let unique: std::collections::HashSet<_> = titles.iter().collect();
    assert_eq!(unique.len(), titles.len());
}

#[tokio::test]
async fn unknown_playlists_and_bad_kinds_are_errors() {
    let app = spawn_app().await;
    let (status, body) = app.get_json("/api/v1/playlists/album-000000000000").await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "playlist_not_found");
    let (status, body) = app.get_json("/api/v1/playlists?kind=podcast").await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], "bad_request");
}

/// Every kind a playlist can have filters the list to that kind (`smart` to both smart ones).
#[tokio::test]
async fn every_kind_filters_the_list() {
    let app = spawn_app().await;
    let kinds = [
        "recent", "mix", "album", "artist", "genre", "m3u", "remote", "feed", "youtube",
    ];
    let mut seen = 0;
    for kind in kinds {
        let (status, body) = app.get_json(&format!("/api/v1/playlists?kind={kind}")).await;
        assert_eq!(status, 200, "{kind}: {body}");
        let listed = body["playlists"].as_array().unwrap();
        assert_eq!(body["total"], listed.len(), "{kind}");
        assert!(listed.iter().all(|p| p["kind"] == kind), "{kind}: {body}");
        seen += listed.len();
    }
    let (_, all) = app.get_json("/api/v1/playlists?limit=500").await;
    assert_eq!(all["total"], seen, "the kinds together are all the playlists");
    let (_, smart) = app.get_json("/api/v1/playlists?kind=smart").await;
    let smart: Vec<_> = smart["playlists"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["kind"].clone())
        .collect();
    assert_eq!(smart, ["recent", "mix"]);
}
