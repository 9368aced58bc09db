//! Server-side request forgery: a client names a URL, and the server must not fetch it from
//! inside its own network. Every spelling of loopback, a name that resolves inside, a redirect
//! into the inside, playlist and feed entries, yt-dlp pages and the upstream proxy's path are
//! each refused with `403 forbidden_target`, before anything reaches the inside and with nothing
//! stored. The test origins are on loopback, so each app here turns the refusal back on.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;

use anyaudio::config::Config;
use anyaudio::upstream::net::UpstreamProxy;
use serde_json::Value;

use crate::connect_proxy::ConnectProxy;
use crate::origin::{Content, Faults, Origin};
use crate::support::{demo_library, spawn_app_configured, youtube_with, TestApp};

/// A server as shipped: no private address fetched; `adjust` for the rest.
async fn guarded_app(adjust: impl FnOnce(&mut Config)) -> TestApp {
    spawn_app_configured(demo_library(), |c| {
        c.net.egress.allow_private = false;
        adjust(c);
    })
    .await
}

/// Names whose answers lead inside; `split.example` has a public answer too, so a connection
/// (made by a proxy, where it cannot be limited to the public one) could go either way.
fn inside_names() -> HashMap<String, Vec<IpAddr>> {
    HashMap::from([
        ("inside.example".to_owned(), vec!["127.0.0.1".parse().unwrap()]),
        (
            "split.example".to_owned(),
            vec!["93.184.216.34".parse().unwrap(), "10.1.2.3".parse().unwrap()],
        ),
    ])
}

fn requests_seen(origin: &Origin) -> usize {
    origin.state.log.lock().unwrap().len()
}

async fn track_count(app: &TestApp) -> u64 {
    app.get_json("/api/v1/stats").await.1["tracks"].as_u64().unwrap()
}

/// The answer must be our refusal, naming no more than the host.
fn assert_forbidden(status: reqwest::StatusCode, body: &Value, what: &str) {
    assert_eq!(status, 403, "{what}: {body}");
    assert_eq!(body["error"]["code"], "forbidden_target", "{what}: {body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("--allow-private-sources"), "{message}");
    assert!(!message.contains("secret"), "the path is not repeated: {message}");
}

#[tokio::test]
async fn every_spelling_of_loopback_and_every_inside_name_is_refused_unfetched() {
    let origin = Origin::start().await;
    origin.put("secret.mp3", Content::Generated(20_000), Faults::default());
    let port = origin.base.rsplit(':').next().unwrap().to_owned();
    let app = guarded_app(|c| c.net.hosts = inside_names()).await;
    let before = track_count(&app).await;
    let hosts = [
        "127.0.0.1",
        "[::1]",
        "0x7f000001",
        "2130706433",
        "017700000001",
        "127.1",
        "0.0.0.0",
        "[::]",
        "[::ffff:127.0.0.1]",
        "[::ffff:7f00:1]",
        "[64:ff9b::7f00:1]",
        "localhost",
        "LOCALHOST",
        "inside.example",
        "10.0.0.1",
        "192.168.1.1",
        "172.16.0.1",
        "169.254.169.254",
        "100.64.0.1",
        "[fe80::1]",
        "[fd00::1]",
        "224.0.0.1",
    ];
    for host in hosts {
        let url = format!("http://{host}:{port}/secret.mp3");
        let (status, body) = app.add_http_source(&url).await;
        assert_forbidden(status, &body, &url);
    }
    assert_eq!(requests_seen(&origin), 0, "nothing reached the inside");
    assert_eq!(track_count(&app).await, before, "nothing was stored");
}

#[tokio::test]
async fn a_redirect_into_the_inside_is_refused_at_its_hop_while_the_allowed_host_plays() {
    // 127.0.0.2 stands for a LAN host the operator allowed with --allow-source-net.
    let lan = Origin::start_on("127.0.0.2:0").await;
    let inside = Origin::start().await;
    let secret = inside.put("secret.mp3", Content::Generated(20_000), Faults::default());
    let song = lan.put("song.mp3", Content::Generated(50_000), Faults::default());
    let jump = lan.put(
        "jump.mp3",
        Content::Generated(10),
        Faults {
            redirect: Some(secret.clone()),
            ..Default::default()
        },
    );
    let app = guarded_app(|c| c.net.egress.allowed_nets = vec!["127.0.0.2/32".parse().unwrap()]).await;
    let before = track_count(&app).await;

    let (status, body) = app.add_http_source(&jump).await;
    assert_forbidden(status, &body, &jump);
    assert_eq!(lan.requests("jump.mp3").len(), 1, "the allowed hop was asked");
    assert_eq!(track_count(&app).await, before);

    let (status, added) = app.add_http_source(&song).await;
    assert_eq!(status, 201, "{added}");
    let stream = app.stream_path_of(added["tracks"][0]["id"].as_str().unwrap()).await;
    let played = app.get(&stream).await;
    assert_eq!(played.status(), 200);
    assert_eq!(played.bytes().await.unwrap().len(), 50_000);

    assert_eq!(requests_seen(&inside), 0, "nothing reached the inside");
}

#[tokio::test]
async fn playlist_and_feed_entries_pointing_inside_are_listed_but_never_fetched() {
    let lan = Origin::start_on("127.0.0.2:0").await;
    let inside = Origin::start().await;
    let secret = inside.put("secret.mp3", Content::Generated(20_000), Faults::default());
    let text = |content_type| Faults {
        content_type: Some(content_type),
        ..Default::default()
    };
    let m3u = lan.put(
        "mix.m3u",
        Content::Bytes(format!("#EXTM3U\n#EXTINF:61,Inside Song\n{secret}\n").into()),
        text("audio/x-mpegurl"),
    );
    let feed = lan.put(
        "feed.xml",
        Content::Bytes(
            format!(
                r#"<?xml version="1.0"?><rss version="2.0"><channel><title>Inside Radio</title>
<item><title>Inside Episode</title><enclosure url="{secret}" length="20000" type="audio/mpeg"/></item>
</channel></rss>"#
            )
            .into(),
        ),
        text("application/rss+xml"),
    );
    let app = guarded_app(|c| c.net.egress.allowed_nets = vec!["127.0.0.2/32".parse().unwrap()]).await;
    for list in [m3u, feed] {
        let (status, body) = app.add_http_source(&list).await;
        assert_eq!(status, 201, "{list}: {body}");
        // Playing starts with a probe of the entry's URL, which is refused.
        let id = body["tracks"][0]["id"].as_str().unwrap();
        let (status, refused) = app.get_json(&format!("/api/v1/tracks/{id}/stream_url")).await;
        assert_forbidden(status, &refused, &list);
    }
    assert_eq!(requests_seen(&inside), 0, "nothing reached the inside");
}

#[tokio::test]
async fn a_yt_dlp_import_of_an_inside_page_is_refused_before_yt_dlp_runs() {
    let inside = Origin::start().await;
    let page = inside.put("page.html", Content::Generated(100), Faults::default());
    let observed = crate::youtube::Observed::new();
    let app = guarded_app(|c| {
        c.net.hosts = inside_names();
        c.youtube = youtube_with(crate::youtube::observed_in(crate::youtube::Mode::Workers, &observed));
    })
    .await;
    let port = inside.base.rsplit(':').next().unwrap().to_owned();
    for (endpoint, url) in [
        ("/api/v1/tracks/import", page.clone()),
        ("/api/v1/playlists/import", page.clone()),
        (
            "/api/v1/tracks/import",
            format!("http://inside.example:{port}/page.html"),
        ),
        (
            "/api/v1/tracks/import",
            format!("http://[::ffff:127.0.0.1]:{port}/page.html"),
        ),
    ] {
        let (status, body) = crate::youtube::post(&app, endpoint, &url).await;
        assert_forbidden(status, &body, &url);
    }
    // yt-dlp extracted nothing.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(observed.pages(), Vec::<serde_json::Value>::new());
    assert_eq!(requests_seen(&inside), 0);
}

/// With `--upstream-proxy` the proxy makes the connection, so the target is judged here by its
/// name's addresses before the proxy is asked; the proxy's own loopback address is allowed.
#[tokio::test]
async fn through_the_upstream_proxy_public_names_play_and_inside_targets_never_reach_it() {
    let origin = Origin::start().await;
    let port = origin.base.rsplit(':').next().unwrap().to_owned();
    origin.put("song.mp3", Content::Generated(40_000), Faults::default());
    // The proxy's DNS finds the origin under a public name; ours says it is public.
    let proxy = ConnectProxy::start(HashMap::from([(
        "music.example".to_owned(),
        vec!["127.0.0.1".parse().unwrap()],
    )]))
    .await;
    let proxy_url = proxy.url.clone();
    let app = guarded_app(move |c| {
        c.net.proxy = Some(UpstreamProxy::parse(&proxy_url).unwrap());
        let mut hosts = inside_names();
        hosts.insert("music.example".into(), vec!["93.184.216.34".parse().unwrap()]);
        c.net.hosts = hosts;
    })
    .await;
    let (status, added) = app
        .add_http_source(&format!("http://music.example:{port}/song.mp3"))
        .await;
    assert_eq!(status, 201, "{added}");
    let stream = app.stream_path_of(added["tracks"][0]["id"].as_str().unwrap()).await;
    let played = app.get(&stream).await;
    assert_eq!(played.status(), 200);
    assert_eq!(played.bytes().await.unwrap().len(), 40_000);
    let asked = proxy.requests().len();
    assert!(asked >= 2, "the probe and the stream went through the proxy");

    for host in ["127.0.0.1", "inside.example", "split.example", "[::1]"] {
        let url = format!("http://{host}:{port}/song.mp3");
        let (status, body) = app.add_http_source(&url).await;
        assert_forbidden(status, &body, &url);
    }
    assert_eq!(proxy.requests().len(), asked, "{:?}", proxy.requests());
}
