use crate::support::spawn_app;

#[tokio::test]
async fn bad_parameters_are_400_with_the_error_shape() {
    let app = spawn_app().await;
    for path in [
        "/api/v1/search",
        "/api/v1/search?q=",
        "/api/v1/search?q=%20%20",
        "/api/v1/search?q=a&limit=0",
        "/api/v1/search?q=a&limit=101",
        "/api/v1/search?q=a&limit=ten",
        "/api/v1/search?q=a&offset=-1",
        "/api/v1/suggest",
        "/api/v1/suggest?q=a&limit=100",
        "/api/v1/playlists?limit=0",
        "/api/v1/tracks/has%20space",
        "/api/v1/tracks/..%2F..%2Fetc/stream_url",
        "/api/v1/tracks/x/related?limit=1000",
    ] {
        let (status, body) = app.get_json(path).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert_eq!(body["error"]["code"], "bad_request", "{path}");
        assert!(body["error"]["message"].as_str().unwrap().len() > 5, "{path}");
    }
    let long = "a".repeat(201);
    let (status, _) = app.get_json(&format!("/api/v1/search?q={long}")).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn unknown_ids_and_routes_are_404() {
    let app = spawn_app().await;
    for (path, code) in [
        ("/api/v1/tracks/ffffffffffffffffffff", "track_not_found"),
        ("/api/v1/tracks/ffffffffffffffffffff/stream_url", "track_not_found"),
        ("/api/v1/tracks/ffffffffffffffffffff/related", "track_not_found"),
        ("/api/v1/nothing-here", "not_found"),
        ("/no-such-file.js", "not_found"),
    ] {
        let (status, body) = app.get_json(path).await;
        assert_eq!(status, 404, "{path}");
        assert_eq!(body["error"]["code"], code, "{path}");
    }
}

#[tokio::test]
async fn wrong_methods_are_405_json() {
    let app = spawn_app().await;
    let response = app.client.delete(app.url("/api/v1/search?q=a")).send().await.unwrap();
    assert_eq!(response.status(), 405);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "method_not_allowed");
}

#[tokio::test]
async fn a_track_is_found_by_id() {
    let app = spawn_app().await;
    let track = app.track_titled("Halo Tones").await;
    let (status, body) = app
        .get_json(&format!("/api/v1/tracks/{}", track["id"].as_str().unwrap()))
        .await;
    assert_eq!(status, 200);
    assert_eq!(body, track);
    assert_eq!(body["album_artist"], "Various Artists");
}

#[tokio::test]
async fn health_openapi_and_the_player_page() {
    let app = spawn_app().await;
    let (status, health) = app.get_json("/healthz").await;
    assert_eq!(status, 200);
    assert_eq!(health["status"], "ok");
    assert_eq!(health["tracks"], 9);

    let (status, doc) = app.get_json("/api/v1/openapi.json").await;
    assert_eq!(status, 200);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/api/v1/search",
        "/api/v1/suggest",
        "/api/v1/tracks/{id}",
        "/api/v1/tracks/{id}/stream_url",
        "/api/v1/tracks/{id}/related",
        "/api/v1/playlists",
        "/api/v1/playlists/{id}",
        "/stream/{token}",
        "/healthz",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} missing from OpenAPI");
    }
    assert!(doc["components"]["schemas"].get("Track").is_some());

    let page = app.get("/").await;
    assert_eq!(page.status(), 200);
    assert!(page.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert!(page.text().await.unwrap().contains("<audio"));
}

/// Query strings and path segments as clients send them and as they don't: known parameters
/// with numbers of any size, enum names, and any bytes percent-encoded (invalid UTF-8 too).
fn odd_requests(track: String) -> impl proptest::strategy::Strategy<Value = String> {
    use proptest::prelude::*;
    let encoded = proptest::collection::vec(any::<u8>(), 0..12)
        .prop_map(|bytes| bytes.iter().map(|b| format!("%{b:02X}")).collect::<String>());
    let value = prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        "[0-9]{15,30}",
        Just(String::new()),
        prop::sample::select(vec![
            "library", "local", "remote", "youtube", "all", "opus", "m4a", "album", "smart", "true", "1"
        ])
        .prop_map(str::to_owned),
        encoded.clone(),
    ];
    let key = prop_oneof![
        prop::sample::select(vec![
            "q", "limit", "offset", "source", "kind", "format", "playlist", "prefetch"
        ])
        .prop_map(str::to_owned),
        encoded.clone(),
    ];
    let segment = prop_oneof![Just(track), encoded, "[A-Za-z0-9._~-]{0,40}"];
    let path = (0usize..12, segment).prop_map(|(route, segment)| match route {
        0 => "/api/v1/search".to_owned(),
        1 => "/api/v1/suggest".to_owned(),
        2 => "/api/v1/playlists".to_owned(),
        3 => format!("/api/v1/playlists/{segment}"),
        4 => format!("/api/v1/tracks/{segment}"),
        5 => format!("/api/v1/tracks/{segment}/stream_url"),
        6 => format!("/api/v1/tracks/{segment}/related"),
        7 => format!("/api/v1/tracks/{segment}/artwork"),
        8 => format!("/stream/{segment}"),
        9 => "/api/v1/stats".to_owned(),
        10 => "/api/v1/scan".to_owned(),
        _ => "/healthz".to_owned(),
    });
    (path, proptest::collection::vec((key, value), 0..5)).prop_map(|(path, pairs)| {
        let query: Vec<String> = pairs.into_iter().map(|(k, v)| format!("{k}={v}")).collect();
        format!("{path}?{}", query.join("&"))
    })
}

/// Property test over HTTP: whatever the path and query, the server answers with a status
/// below 500 (or the documented 503 of a source that is off), and every error in the shape.
/// Cases: PROPTEST_CASES (the test command sets it), else 256.
#[tokio::test]
async fn any_query_or_path_is_a_client_error_never_a_server_error() {
    use proptest::strategy::{Strategy, ValueTree};
    let app = spawn_app().await;
    let track = app.track_titled("Halo Tones").await["id"].as_str().unwrap().to_owned();
    let config = proptest::test_runner::Config::default();
    let mut runner = proptest::test_runner::TestRunner::new(config.clone());
    let strategy = odd_requests(track);
    for _ in 0..config.cases {
        let path = strategy.new_tree(&mut runner).unwrap().current();
        let response = app.get(&path).await;
        let status = response.status();
        let body = response.bytes().await.unwrap();
        if status.is_success() || status.is_redirection() {
            continue;
        }
        let body: serde_json::Value =
            serde_json::from_slice(&body).unwrap_or_else(|_| panic!("{path}: {status} is not JSON"));
        let code = body["error"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("{path}: {body}"));
        assert!(body["error"]["message"].is_string(), "{path}: {body}");
        assert!(
            status.is_client_error() || (status == 503 && code == "source_unavailable"),
            "{path}: {status} {body}"
        );
    }
}
