//! `/api/v1/me/saved`, `/api/v1/me/plays` and `/api/v1/me/import`: a logged-in listener's saved
//! songs and plays, kept in their account, the same the Subsonic API shows.

use serde_json::{json, Value};

use crate::support::{spawn_app, TestApp};

const PASSWORD: &str = "correct horse battery";

/// Makes a user (the first is made while the server is open) and logs in: the session cookie.
async fn user(app: &TestApp, name: &str, admin_cookie: Option<&str>) -> String {
    let mut made = app.client.post(app.url("/api/v1/users"));
    if let Some(cookie) = admin_cookie {
        made = made.header("cookie", cookie);
    }
    let made = made
        .json(&json!({ "name": name, "password": PASSWORD, "admin": admin_cookie.is_none() }))
        .send()
        .await
        .unwrap();
    assert_eq!(made.status(), 201);
    crate::support::session_cookie(app, name, PASSWORD).await
}

async fn call(app: &TestApp, cookie: &str, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut request = app.client.request(method, app.url(path)).header("cookie", cookie);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn saved_titles(body: &Value) -> Vec<String> {
    body["tracks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["track"]["title"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn saved_songs_and_plays_are_kept_in_the_account_and_the_subsonic_api_sees_them() {
    let app = spawn_app().await;
    let (dawn, drift) = (
        app.track_titled("Dawn Chorus").await,
        app.track_titled("Morning Drift").await,
    );
    let (dawn, drift) = (dawn["id"].as_str().unwrap(), drift["id"].as_str().unwrap());

    // Open mode: the person at the machine has no account to keep them in.
    let (status, body) = call(&app, "", reqwest::Method::GET, "/api/v1/me/saved", None).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("account_required"))
    );

    let ana = user(&app, "ana", None).await;
    let (status, _) = call(
        &app,
        &ana,
        reqwest::Method::PUT,
        &format!("/api/v1/me/saved/{dawn}"),
        None,
    )
    .await;
    assert_eq!(status, 204);
    let (status, body) = call(
        &app,
        &ana,
        reqwest::Method::PUT,
        "/api/v1/me/saved/0123456789abcdef0123",
        None,
    )
    .await;
    assert_eq!((status, body["error"]["code"].as_str()), (404, Some("track_not_found")));
    let (status, body) = call(&app, &ana, reqwest::Method::GET, "/api/v1/me/saved", None).await;
    assert_eq!(status, 200);
    assert_eq!(saved_titles(&body), ["Dawn Chorus"]);
    assert!(body["tracks"][0]["saved_at"].as_u64().unwrap() > 1_700_000_000);

    let play = json!({ "track": drift, "at": 1_700_000_000 });
    let (status, _) = call(&app, &ana, reqwest::Method::POST, "/api/v1/me/plays", Some(play)).await;
    assert_eq!(status, 204);
    let bad = json!({ "track": "0123456789abcdef0123" });
    let (status, _) = call(&app, &ana, reqwest::Method::POST, "/api/v1/me/plays", Some(bad)).await;
    assert_eq!(status, 404);

    // The Subsonic API shows the same: the star and the play.
    let auth = format!("u=ana&p={}&v=1.16.1&c=t&f=json", crate::support::urlencode(PASSWORD));
    let starred: Value = app
        .get(&format!("/rest/getStarred2?{auth}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(starred["subsonic-response"]["starred2"]["song"][0]["id"], dawn);
    let song: Value = app
        .get(&format!("/rest/getSong?{auth}&id={drift}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(song["subsonic-response"]["song"]["playCount"], 1);
    assert_eq!(song["subsonic-response"]["song"]["played"], "2023-11-14T22:13:20Z");

    let (status, _) = call(
        &app,
        &ana,
        reqwest::Method::DELETE,
        &format!("/api/v1/me/saved/{dawn}"),
        None,
    )
    .await;
    assert_eq!(status, 204);
    let (_, body) = call(&app, &ana, reqwest::Method::GET, "/api/v1/me/saved", None).await;
    assert_eq!(saved_titles(&body), Vec::<String>::new());

    // What a browser kept before the login, copied up at once; songs the server lacks left out,
    // a song saved already stays as it was.
    let (status, _) = call(
        &app,
        &ana,
        reqwest::Method::PUT,
        &format!("/api/v1/me/saved/{drift}"),
        None,
    )
    .await;
    assert_eq!(status, 204);
    let kept = json!({
        "saved": [{ "track": dawn, "at": 1_600_000_000 }, { "track": drift, "at": 1_600_000_000 },
                  { "track": "0123456789abcdef0123", "at": 1 }],
        "plays": [{ "track": dawn, "at": 1_650_000_000 }, { "track": dawn }, { "track": "0123456789abcdef0123" }],
    });
    let (status, body) = call(&app, &ana, reqwest::Method::POST, "/api/v1/me/import", Some(kept)).await;
    assert_eq!((status, body), (200, json!({ "saved": 2, "plays": 2 })));
    let (_, body) = call(&app, &ana, reqwest::Method::GET, "/api/v1/me/saved", None).await;
    assert_eq!(saved_titles(&body), ["Morning Drift", "Dawn Chorus"], "{body}");
    let song: Value = app
        .get(&format!("/rest/getSong?{auth}&id={dawn}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(song["subsonic-response"]["song"]["playCount"], 2);

    // Each user's own.
    let bo = user(&app, "bo", Some(&ana)).await;
    let (_, body) = call(&app, &bo, reqwest::Method::GET, "/api/v1/me/saved", None).await;
    assert_eq!(saved_titles(&body), Vec::<String>::new());
}
