//! Same-origin by default, as a page on another site would try it (issue 15): rebinding by Host,
//! simple cross-site POSTs, preflights, and what `--cors-origin` opens for reading.

use crate::support::{demo_library, spawn_app, spawn_app_configured};

#[tokio::test]
async fn a_host_the_server_does_not_answer_to_is_421() {
    let app = spawn_app().await;
    for path in ["/api/v1/search?q=a", "/healthz", "/"] {
        let response = app
            .client
            .get(app.url(path))
            .header("host", "evil.example:8080")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 421, "{path}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "unknown_host");
    }
    for host in ["localhost:1", "127.0.0.1:1", "[::1]:1"] {
        let response = app
            .client
            .get(app.url("/healthz"))
            .header("host", host)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{host}");
    }
    let app = spawn_app_configured(demo_library(), |c| c.hosts = vec!["music.example".into()]).await;
    let response = app
        .client
        .get(app.url("/healthz"))
        .header("host", "music.example")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn state_changes_from_another_origin_or_as_simple_requests_are_refused() {
    let app = spawn_app().await;
    let scan = || app.client.post(app.url("/api/v1/scan"));
    // The CSRF of the issue: a form or `fetch(..., {mode: "no-cors"})` with text/plain.
    let response = scan()
        .header("content-type", "text/plain")
        .header("origin", "http://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "cross_origin");
    // The same page's JSON POST would need a preflight, which fails; refused anyway.
    let response = scan()
        .header("content-type", "application/json")
        .header("origin", "http://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    // Without Origin (not a browser page) but simple: refused, with the way to do it.
    let response = scan().header("content-type", "text/plain").send().await.unwrap();
    assert_eq!(response.status(), 415);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "json_required");
    let response = app
        .client
        .post(app.url("/api/v1/sources/http"))
        .body(r#"{"url":"http://x/a.mp3"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 415, "no content type is a simple request too");
    // What works: JSON from a tool, or from the server's own page.
    let response = scan().header("content-type", "application/json").send().await.unwrap();
    assert_eq!(response.status(), 202);
    let own = app.base.clone();
    let response = scan()
        .header("x-requested-with", "anyaudio")
        .header("origin", &own)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
}

#[tokio::test]
async fn cors_is_for_configured_origins_and_for_reading_only() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(app.url("/api/v1/search?q=a"))
        .header("origin", "http://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers().get("access-control-allow-origin").is_none(),
        "no CORS by default"
    );

    let pwa = "https://player.example";
    let app = spawn_app_configured(demo_library(), |c| c.cors_origins = vec![pwa.into()]).await;
    let response = app
        .client
        .get(app.url("/api/v1/search?q=a"))
        .header("origin", pwa)
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["access-control-allow-origin"], pwa);
    let response = app
        .client
        .get(app.url("/api/v1/search?q=a"))
        .header("origin", "http://evil.example")
        .send()
        .await
        .unwrap();
    assert!(response.headers().get("access-control-allow-origin").is_none());
    // A preflight for a POST gets no POST back, and the POST itself is refused.
    let preflight = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/api/v1/scan"))
        .header("origin", pwa)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .unwrap();
    let methods = preflight
        .headers()
        .get("access-control-allow-methods")
        .map(|v| v.to_str().unwrap().to_owned());
    assert!(
        !methods.unwrap_or_default().contains("POST"),
        "{:?}",
        preflight.headers()
    );
    let response = app
        .client
        .post(app.url("/api/v1/scan"))
        .header("content-type", "application/json")
        .header("origin", pwa)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
}
