//! Who may do what, over real HTTP: open on loopback for the person at the machine until the
//! first user exists, closed to everyone else; session cookies, API keys, a trusted proxy's
//! `Remote-User`, `--open-listening`, rate-limited logins, and what a non-admin may not do.

use anyaudio::config::Config;
use reqwest::header::{HeaderMap, COOKIE, SET_COOKIE};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::support::{demo_library, serve_on, spawn_app, spawn_app_configured, TestApp};

const ADA_PASSWORD: &str = "correct horse battery";

/// How a test client presents itself.
#[derive(Clone, Copy)]
enum Who<'a> {
    Nobody,
    /// The value of the `anyaudio_session` cookie.
    Cookie(&'a str),
    /// An API key, sent as `Authorization: Bearer`.
    Key(&'a str),
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
}

impl Answer {
    fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }

    /// Asserts the answer is this error.
    #[track_caller]
    fn refused(&self, status: StatusCode, code: &str) {
        assert_eq!((self.status, self.code()), (status, code), "{}", self.body);
    }
}

/// One request to `base` (a server's `http://127.0.0.1:port`), as `who`, with a JSON body.
async fn call(base: &str, method: Method, path: &str, who: Who<'_>, body: Option<Value>) -> Answer {
    call_with(base, method, path, who, body, &[]).await
}

async fn call_with(
    base: &str,
    method: Method,
    path: &str,
    who: Who<'_>,
    body: Option<Value>,
    headers: &[(&str, &str)],
) -> Answer {
    let mut request = reqwest::Client::new().request(method, format!("{base}{path}"));
    request = match who {
        Who::Nobody => request,
        Who::Cookie(session) => request.header(COOKIE, format!("anyaudio_session={session}")),
        Who::Key(key) => request.bearer_auth(key),
    };
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    // A state change needs JSON (or X-Requested-With), as the web player sends it.
    request = match body {
        Some(body) => request.json(&body),
        None => request.header("x-requested-with", "anyaudio-tests"),
    };
    let response = request.send().await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Answer { status, headers, body }
}

async fn revoke(base: &str, key_id: &str, who: Who<'_>) -> Answer {
    call(base, Method::DELETE, &format!("/api/v1/me/keys/{key_id}"), who, None).await
}

async fn get(base: &str, path: &str, who: Who<'_>) -> Answer {
    call(base, Method::GET, path, who, None).await
}

async fn try_login(base: &str, name: &str, password: &str) -> Answer {
    let body = json!({ "name": name, "password": password });
    call(base, Method::POST, "/api/v1/login", Who::Nobody, Some(body)).await
}

/// Logs in; returns the session cookie's value and the whole `Set-Cookie`.
async fn login(base: &str, name: &str, password: &str) -> (String, String) {
    let answer = try_login(base, name, password).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let set_cookie = answer.headers[SET_COOKIE].to_str().unwrap().to_owned();
    let value = set_cookie
        .strip_prefix("anyaudio_session=")
        .or_else(|| set_cookie.strip_prefix("__Host-anyaudio_session="))
        .and_then(|rest| rest.split(';').next())
        .unwrap_or_else(|| panic!("not the session cookie: {set_cookie}"))
        .to_owned();
    (value, set_cookie)
}

/// The first user, made by the person at the machine while the server is still open; the
/// server is closed from then on. Returns ada's session.
async fn first_user(app: &TestApp) -> String {
    let made = call(
        &app.base,
        Method::POST,
        "/api/v1/users",
        Who::Nobody,
        Some(json!({ "name": "ada", "password": ADA_PASSWORD })),
    )
    .await;
    assert_eq!(made.status, 201, "{}", made.body);
    login(&app.base, "ada", ADA_PASSWORD).await.0
}

/// Another user made by an admin; returns their session.
async fn add_user(base: &str, admin_session: &str, name: &str, password: &str, admin: bool) -> String {
    let made = call(
        base,
        Method::POST,
        "/api/v1/users",
        Who::Cookie(admin_session),
        Some(json!({ "name": name, "password": password, "admin": admin })),
    )
    .await;
    assert_eq!(made.status, 201, "{}", made.body);
    assert_eq!(made.body["admin"], admin);
    login(base, name, password).await.0
}

/// A second server on `app`'s library and data dir (its users as the test made them), with
/// the access settings adjusted; returns its base URL.
async fn second_server(app: &TestApp, adjust: impl FnOnce(&mut Config)) -> String {
    serve_on(app.library.path(), app.data.path(), false, adjust).await
}

/// A track's id and a fresh stream path for it, asked as `who`.
async fn stream_path(base: &str, who: Who<'_>) -> String {
    let found = get(base, "/api/v1/search?q=dawn+chorus", who).await;
    assert_eq!(found.status, 200, "{}", found.body);
    let id = found.body["tracks"][0]["id"].as_str().unwrap().to_owned();
    let resolved = get(base, &format!("/api/v1/tracks/{id}/stream_url"), who).await;
    assert_eq!(resolved.status, 200, "{}", resolved.body);
    resolved.body["url"].as_str().unwrap().to_owned()
}

async fn stream_status(base: &str, path: &str) -> StatusCode {
    reqwest::Client::new()
        .get(format!("{base}{path}"))
        .header("range", "bytes=0-99")
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn on_loopback_the_server_is_open_until_its_first_user_and_then_closed() {
    let app = spawn_app().await;
    let me = get(&app.base, "/api/v1/me", Who::Nobody).await;
    assert_eq!(
        (me.status, &me.body["mode"], &me.body["admin"]),
        (StatusCode::OK, &json!("open"), &json!(true))
    );
    // The person at the machine has no account of their own to keep keys in.
    assert_eq!(
        get(&app.base, "/api/v1/me/keys", Who::Nobody).await.code(),
        "account_required"
    );
    let stream = stream_path(&app.base, Who::Nobody).await;

    // The first user is an admin whatever was asked: someone must be able to run the server.
    let made = call(
        &app.base,
        Method::POST,
        "/api/v1/users",
        Who::Nobody,
        Some(json!({ "name": "ada", "password": ADA_PASSWORD, "admin": false })),
    )
    .await;
    assert_eq!(
        (made.status, &made.body["admin"]),
        (StatusCode::CREATED, &json!(true)),
        "{}",
        made.body
    );

    let refused = get(&app.base, "/api/v1/search?q=dawn", Who::Nobody).await;
    refused.refused(StatusCode::UNAUTHORIZED, "unauthenticated");
    assert!(refused.headers["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Bearer"));
    let scan = call(&app.base, Method::POST, "/api/v1/scan", Who::Nobody, Some(json!({}))).await;
    assert_eq!(scan.status, 401);
    // Still public: liveness, the web player's files (it shows its login form), and a stream
    // URL handed out before, whose signed token is its credential.
    assert_eq!(get(&app.base, "/healthz", Who::Nobody).await.status, 200);
    let shell = reqwest::get(app.url("/")).await.unwrap();
    assert_eq!(shell.status(), 200);
    assert_eq!(stream_status(&app.base, &stream).await, StatusCode::PARTIAL_CONTENT);
    // ... but a stream token is no login, as a key or as a cookie.
    let token = stream.rsplit('/').next().unwrap();
    for who in [Who::Key(token), Who::Cookie(token)] {
        let answer = get(&app.base, "/api/v1/search?q=dawn", who).await;
        answer.refused(StatusCode::UNAUTHORIZED, "bad_credentials");
    }
}

#[tokio::test]
async fn a_login_sets_a_strict_http_only_cookie_that_works_until_logout() {
    let app = spawn_app().await;
    first_user(&app).await;
    let wrong = try_login(&app.base, "ada", "not her password").await;
    wrong.refused(StatusCode::UNAUTHORIZED, "bad_credentials");
    assert!(wrong.headers.get(SET_COOKIE).is_none());
    // A name that doesn't exist gets the same answer.
    let nobody = try_login(&app.base, "nobody", ADA_PASSWORD).await;
    nobody.refused(StatusCode::UNAUTHORIZED, "bad_credentials");

    let (session, set_cookie) = login(&app.base, "ADA", ADA_PASSWORD).await;
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=2592000"] {
        assert!(set_cookie.contains(attribute), "{set_cookie}");
    }
    assert!(!set_cookie.contains("Secure"), "plain http on loopback: {set_cookie}");
    let me = get(&app.base, "/api/v1/me", Who::Cookie(&session)).await;
    assert_eq!(me.body["mode"], "user");
    assert_eq!(me.body["user"]["name"], "ada");
    assert_eq!(me.body["admin"], true);
    let stream = stream_path(&app.base, Who::Cookie(&session)).await;
    assert_eq!(stream_status(&app.base, &stream).await, StatusCode::PARTIAL_CONTENT);

    let out = call(&app.base, Method::POST, "/api/v1/logout", Who::Cookie(&session), None).await;
    assert_eq!(out.status, 204);
    assert!(out.headers[SET_COOKIE].to_str().unwrap().contains("Max-Age=0"));
    let after = get(&app.base, "/api/v1/me", Who::Cookie(&session)).await;
    after.refused(StatusCode::UNAUTHORIZED, "bad_credentials");
}

#[tokio::test]
async fn after_five_quick_failures_a_login_is_refused_with_retry_after_even_with_the_right_password() {
    let app = spawn_app().await;
    first_user(&app).await;
    // Logins that succeed use nothing up (a household behind one address).
    for _ in 0..8 {
        login(&app.base, "ada", ADA_PASSWORD).await;
    }
    for _ in 0..5 {
        let wrong = try_login(&app.base, "ada", "guess guess").await;
        assert_eq!(wrong.status, 401, "{}", wrong.body);
    }
    let limited = try_login(&app.base, "ada", ADA_PASSWORD).await;
    limited.refused(StatusCode::TOO_MANY_REQUESTS, "too_many_attempts");
    let retry: u64 = limited.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=12).contains(&retry), "Retry-After: {retry}");
}

#[tokio::test]
async fn api_keys_work_as_bearer_tokens_until_revoked_and_only_their_owner_revokes_them() {
    let app = spawn_app().await;
    let ada = first_user(&app).await;
    let new_key = |body: Value| {
        call(
            &app.base,
            Method::POST,
            "/api/v1/me/keys",
            Who::Cookie(&ada),
            Some(body),
        )
    };
    // A key outlives the session: a stolen cookie alone can't make one.
    new_key(json!({ "name": "phone" }))
        .await
        .refused(StatusCode::BAD_REQUEST, "bad_request");
    new_key(json!({ "name": "phone", "password": "a guess" }))
        .await
        .refused(StatusCode::FORBIDDEN, "wrong_password");
    let made = new_key(json!({ "name": "phone", "password": ADA_PASSWORD })).await;
    assert_eq!(made.status, 201, "{}", made.body);
    let secret = made.body["secret"].as_str().unwrap().to_owned();
    let id = made.body["key"]["id"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("aa_"), "{secret}");

    let me = get(&app.base, "/api/v1/me", Who::Key(&secret)).await;
    assert_eq!((me.status, &me.body["user"]["name"]), (StatusCode::OK, &json!("ada")));
    let listed = get(&app.base, "/api/v1/me/keys", Who::Cookie(&ada)).await;
    let keys = listed.body["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0]["name"], "phone");
    assert!(keys[0]["last_used_at"].is_u64(), "{}", listed.body);
    assert!(!listed.body.to_string().contains(&secret), "a key is shown once only");

    let forged = get(&app.base, "/api/v1/me", Who::Key("aa_not-a-key")).await;
    forged.refused(StatusCode::UNAUTHORIZED, "bad_credentials");

    // Someone else's key is not theirs to revoke (and they can't tell it exists).
    let bob = add_user(&app.base, &ada, "bob", "bob's password", false).await;
    let theirs = revoke(&app.base, &id, Who::Cookie(&bob)).await;
    theirs.refused(StatusCode::NOT_FOUND, "key_not_found");
    assert_eq!(get(&app.base, "/api/v1/me", Who::Key(&secret)).await.status, 200);

    let revoked = revoke(&app.base, &id, Who::Cookie(&ada)).await;
    assert_eq!(revoked.status, 204);
    let after = get(&app.base, "/api/v1/me", Who::Key(&secret)).await;
    after.refused(StatusCode::UNAUTHORIZED, "bad_credentials");
    let again = revoke(&app.base, &id, Who::Cookie(&ada)).await;
    assert_eq!(again.status, 404);
}

#[tokio::test]
async fn a_user_who_is_not_an_admin_listens_and_manages_their_account_but_changes_nothing_else() {
    let app = spawn_app().await;
    let ada = first_user(&app).await;
    let bob = add_user(&app.base, &ada, "bob", "bob's password", false).await;
    let stream = stream_path(&app.base, Who::Cookie(&bob)).await;
    assert_eq!(stream_status(&app.base, &stream).await, StatusCode::PARTIAL_CONTENT);
    assert_eq!(get(&app.base, "/api/v1/playlists", Who::Cookie(&bob)).await.status, 200);

    let changes = [
        (Method::POST, "/api/v1/scan"),
        (Method::POST, "/api/v1/sources/http"),
        (Method::POST, "/api/v1/users"),
        (Method::GET, "/api/v1/users"),
        (Method::DELETE, "/api/v1/users/ada"),
        (Method::GET, "/metrics"),
    ];
    for (method, path) in changes {
        let answer = call(&app.base, method.clone(), path, Who::Cookie(&bob), Some(json!({}))).await;
        assert_eq!(
            (answer.status, answer.code()),
            (StatusCode::FORBIDDEN, "admin_required"),
            "{method} {path}"
        );
    }

    let password = |current: &str, new: &str| {
        let (base, bob) = (app.base.clone(), bob.clone());
        let body = json!({ "current": current, "new": new });
        async move { call(&base, Method::PUT, "/api/v1/me/password", Who::Cookie(&bob), Some(body)).await }
    };
    let wrong = password("not it", "a new password").await;
    wrong.refused(StatusCode::FORBIDDEN, "wrong_password");
    assert_eq!(password("bob's password", "short").await.status, 400);
    assert_eq!(password("bob's password", "a new password").await.status, 204);
    // Changing the password ends the sessions: log in again, with the new one.
    assert_eq!(get(&app.base, "/api/v1/me", Who::Cookie(&bob)).await.status, 401);
    let bob = login(&app.base, "bob", "a new password").await.0;

    // The only admin stays while anyone else could be left without one.
    let last = call(&app.base, Method::DELETE, "/api/v1/users/ada", Who::Cookie(&ada), None).await;
    last.refused(StatusCode::CONFLICT, "last_admin");
    let removed = call(&app.base, Method::DELETE, "/api/v1/users/bob", Who::Cookie(&ada), None).await;
    assert_eq!(removed.status, 204);
    assert_eq!(get(&app.base, "/api/v1/me", Who::Cookie(&bob)).await.status, 401);
    let users = get(&app.base, "/api/v1/users", Who::Cookie(&ada)).await;
    assert_eq!(users.body["users"].as_array().unwrap().len(), 1, "{}", users.body);
}

#[tokio::test]
async fn open_listening_lets_a_guest_search_and_play_but_not_change_anything() {
    let app = spawn_app().await;
    let ada = first_user(&app).await;
    let base = second_server(&app, |config| config.access.open_listening = true).await;
    let me = get(&base, "/api/v1/me", Who::Nobody).await;
    assert_eq!(
        (me.status, &me.body["mode"], &me.body["admin"]),
        (StatusCode::OK, &json!("guest"), &json!(false))
    );
    let stream = stream_path(&base, Who::Nobody).await;
    assert_eq!(stream_status(&base, &stream).await, StatusCode::PARTIAL_CONTENT);
    let scan = call(&base, Method::POST, "/api/v1/scan", Who::Nobody, Some(json!({}))).await;
    scan.refused(StatusCode::UNAUTHORIZED, "unauthenticated");
    assert_eq!(get(&base, "/api/v1/me/keys", Who::Nobody).await.status, 401);
    // An admin still logs in to change things.
    let scan = call(&base, Method::POST, "/api/v1/scan", Who::Cookie(&ada), Some(json!({}))).await;
    assert_eq!(scan.status, 202, "{}", scan.body);
}

#[tokio::test]
async fn a_forwarded_request_is_never_open_even_on_loopback_with_no_user() {
    let app = spawn_app().await;
    assert_eq!(get(&app.base, "/api/v1/search?q=dawn", Who::Nobody).await.status, 200);
    // A reverse proxy on this machine would otherwise open the server to the internet.
    for (name, value) in [
        ("x-forwarded-for", "203.0.113.9"),
        ("forwarded", "for=203.0.113.9;proto=https"),
        ("x-forwarded-proto", "https"),
    ] {
        let answer = call_with(
            &app.base,
            Method::GET,
            "/api/v1/search?q=dawn",
            Who::Nobody,
            None,
            &[(name, value)],
        )
        .await;
        assert_eq!(
            (answer.status, answer.code()),
            (StatusCode::UNAUTHORIZED, "unauthenticated"),
            "{name}"
        );
    }
}

#[tokio::test]
async fn a_public_url_closes_the_server_even_on_loopback() {
    let app = spawn_app().await;
    let ada = first_user(&app).await;
    let base = second_server(&app, |config| {
        config.access.public_url = Some("https://music.example/".parse().unwrap());
    })
    .await;
    assert_eq!(get(&base, "/api/v1/search?q=dawn", Who::Nobody).await.status, 401);
    assert_eq!(get(&base, "/api/v1/search?q=dawn", Who::Cookie(&ada)).await.status, 200);
    // The public URL is https: a cookie set now is Secure.
    let (session, set_cookie) = login(&base, "ada", ADA_PASSWORD).await;
    assert!(
        set_cookie.starts_with("__Host-anyaudio_session=") && set_cookie.contains("; Secure"),
        "{set_cookie}"
    );
    let me = call_with(
        &base,
        Method::GET,
        "/api/v1/me",
        Who::Nobody,
        None,
        &[("cookie", &format!("__Host-anyaudio_session={session}"))],
    )
    .await;
    assert_eq!(me.body["user"]["name"], "ada", "{}", me.body);
}

#[tokio::test]
async fn a_trusted_proxys_remote_user_is_a_login_and_anyone_elses_is_ignored() {
    let trusted = spawn_app_configured(demo_library(), |config| {
        config.access.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await;
    let as_proxy = |user: &'static str, path: &'static str| {
        let base = trusted.base.clone();
        async move { call_with(&base, Method::GET, path, Who::Nobody, None, &[("remote-user", user)]).await }
    };
    // Behind a proxy the server is never open: the proxy must say who it is.
    assert_eq!(
        get(&trusted.base, "/api/v1/search?q=dawn", Who::Nobody).await.status,
        401
    );
    // The proxy's first user is made on first sight, as the admin; the next are not admins.
    let carol = as_proxy("carol", "/api/v1/me").await;
    assert_eq!(
        (carol.status, &carol.body["user"]["name"], &carol.body["admin"]),
        (StatusCode::OK, &json!("carol"), &json!(true))
    );
    let dave = as_proxy("dave", "/api/v1/me").await;
    assert_eq!(
        (&dave.body["user"]["name"], &dave.body["admin"]),
        (&json!("dave"), &json!(false))
    );
    assert_eq!(as_proxy("dave", "/api/v1/search?q=dawn").await.status, 200);
    assert_eq!(as_proxy("dave", "/api/v1/users").await.code(), "admin_required");
    // The proxy vouches on every request (dave has no password here): a key needs none.
    let key = call_with(
        &trusted.base,
        Method::POST,
        "/api/v1/me/keys",
        Who::Nobody,
        Some(json!({ "name": "phone" })),
        &[("remote-user", "dave")],
    )
    .await;
    assert_eq!(key.status, 201, "{}", key.body);

    // The same header from an address that is not a trusted proxy is nobody's login.
    let untrusted = spawn_app_configured(demo_library(), |config| {
        config.access.trusted_proxies = vec!["10.0.0.0/8".parse().unwrap()];
    })
    .await;
    let answer = call_with(
        &untrusted.base,
        Method::GET,
        "/api/v1/me",
        Who::Nobody,
        None,
        &[("remote-user", "carol")],
    )
    .await;
    answer.refused(StatusCode::UNAUTHORIZED, "unauthenticated");
}

#[tokio::test]
async fn a_cookie_set_through_a_trusted_tls_proxy_is_secure() {
    let app = spawn_app().await;
    let ada = first_user(&app).await;
    let base = second_server(&app, |config| {
        config.access.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await;
    assert_eq!(get(&base, "/api/v1/me", Who::Cookie(&ada)).await.status, 200);
    let answer = call_with(
        &base,
        Method::POST,
        "/api/v1/login",
        Who::Nobody,
        Some(json!({ "name": "ada", "password": ADA_PASSWORD })),
        &[("x-forwarded-proto", "https"), ("x-forwarded-for", "203.0.113.9")],
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert!(answer.headers[SET_COOKIE].to_str().unwrap().contains("; Secure"));
}
