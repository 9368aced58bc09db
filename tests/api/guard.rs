//! Same-origin by default, as a page on another site would try it (issue 15): rebinding by Host,
//! simple cross-site POSTs, preflights, and what `--cors-origin` opens for reading.

use reqwest::Method;

use crate::support::{demo_library, spawn_app, spawn_app_configured, TestApp};

/// `method path` with these headers.
async fn send(app: &TestApp, method: Method, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut request = app.client.request(method, app.url(path));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap()
}

async fn error_code(response: reqwest::Response) -> String {
    let body: serde_json::Value = response.json().await.unwrap();
    body["error"]["code"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn a_host_the_server_does_not_answer_to_is_421() {
    let app = spawn_app().await;
    for path in ["/api/v1/search?q=a", "/healthz", "/"] {
        let response = send(&app, Method::GET, path, &[("host", "evil.example:8080")]).await;
        assert_eq!(response.status(), 421, "{path}");
        assert_eq!(error_code(response).await, "unknown_host");
    }
    for host in ["localhost:1", "127.0.0.1:1", "[::1]:1"] {
        let response = send(&app, Method::GET, "/healthz", &[("host", host)]).await;
        assert_eq!(response.status(), 200, "{host}");
    }
    let app = spawn_app_configured(demo_library(), |c| c.hosts = vec!["music.example".into()]).await;
    let response = send(&app, Method::GET, "/healthz", &[("host", "music.example")]).await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn state_changes_from_another_origin_or_as_simple_requests_are_refused() {
    let app = spawn_app().await;
    let scan = |headers: &'static [(&'static str, &'static str)]| send(&app, Method::POST, "/api/v1/scan", headers);
    // The CSRF of the issue: a form or `fetch(..., {mode: "no-cors"})` with text/plain.
    let response = scan(&[("content-type", "text/plain"), ("origin", "http://evil.example")]).await;
    assert_eq!(response.status(), 403);
    assert_eq!(error_code(response).await, "cross_origin");
    // The same page's JSON POST would need a preflight, which fails; refused anyway.
    let response = scan(&[("content-type", "application/json"), ("origin", "http://evil.example")]).await;
    assert_eq!(response.status(), 403);
    // Without Origin (not a browser page) but simple: refused, with the way to do it.
    let response = scan(&[("content-type", "text/plain")]).await;
    assert_eq!(response.status(), 415);
    assert_eq!(error_code(response).await, "json_required");
    let response = app
        .client
        .post(app.url("/api/v1/sources/http"))
        .body(r#"{"url":"http://x/a.mp3"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 415, "no content type is a simple request too");
    // What works: JSON from a tool, or from the server's own page.
    assert_eq!(app.start_scan().await.status(), 202);
    let own = [("x-requested-with", "anyaudio"), ("origin", app.base.as_str())];
    let response = send(&app, Method::POST, "/api/v1/scan", &own).await;
    assert_eq!(response.status(), 202);
}

#[tokio::test]
async fn cors_is_for_configured_origins_and_for_reading_only() {
    let allowed = |response: &reqwest::Response| {
        response
            .headers()
            .get("access-control-allow-origin")
            .map(|v| v.to_str().unwrap().to_owned())
    };
    let app = spawn_app().await;
    let response = send(
        &app,
        Method::GET,
        "/api/v1/search?q=a",
        &[("origin", "http://evil.example")],
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(allowed(&response), None, "no CORS by default");

    let pwa = "https://player.example";
    let app = spawn_app_configured(demo_library(), |c| c.cors_origins = vec![pwa.into()]).await;
    let response = send(&app, Method::GET, "/api/v1/search?q=a", &[("origin", pwa)]).await;
    assert_eq!(allowed(&response).as_deref(), Some(pwa));
    let response = send(
        &app,
        Method::GET,
        "/api/v1/search?q=a",
        &[("origin", "http://evil.example")],
    )
    .await;
    assert_eq!(allowed(&response), None);
    // Reading with an API key (a closed server) passes its preflight.
    let preflight = [
        ("origin", pwa),
        ("access-control-request-method", "GET"),
        ("access-control-request-headers", "authorization,range"),
    ];
    let preflight = send(&app, Method::OPTIONS, "/api/v1/search?q=a", &preflight).await;
    let headers = preflight.headers();
    assert_eq!(allowed(&preflight).as_deref(), Some(pwa));
    let allowed_headers = headers["access-control-allow-headers"].to_str().unwrap().to_owned();
    assert!(allowed_headers.contains("authorization"), "{allowed_headers}");
    assert!(headers.get("access-control-allow-credentials").is_none());
    // A preflight for a POST gets no POST back, and the POST itself is refused.
    let preflight = [
        ("origin", pwa),
        ("access-control-request-method", "POST"),
        ("access-control-request-headers", "content-type"),
    ];
    let preflight = send(&app, Method::OPTIONS, "/api/v1/scan", &preflight).await;
    let methods = preflight
        .headers()
        .get("access-control-allow-methods")
        .map(|v| v.to_str().unwrap().to_owned());
    assert!(
        !methods.unwrap_or_default().contains("POST"),
        "{:?}",
        preflight.headers()
    );
    let post = [("content-type", "application/json"), ("origin", pwa)];
    assert_eq!(send(&app, Method::POST, "/api/v1/scan", &post).await.status(), 403);
}
