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
