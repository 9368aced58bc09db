use crate::support::{demo_library, retag, spawn_app, spawn_app_with, titles};

#[tokio::test]
async fn search_finds_a_demo_track_with_its_details() {
    let app = spawn_app().await;
    let (status, body) = app.get_json("/api/v1/search?q=dawn").await;
    assert_eq!(status, 200);
    assert_eq!(body["total"], 1);
    let track = &body["tracks"][0];
    assert_eq!(track["title"], "Dawn Chorus");
    assert_eq!(track["artist"], "Aurora Sines");
    assert_eq!(track["album"], "First Light");
    assert_eq!(track["track_number"], 1);
    assert_eq!(track["year"], 2024);
    assert_eq!(track["genre"], "Ambient");
    assert_eq!(track["codec"], "flac");
    assert_eq!(track["mime"], "audio/flac");
    assert_eq!(track["sample_rate"], 22050);
    assert_eq!(track["channels"], 1);
    assert!(track["duration"].as_f64().unwrap() > 20.0, "{track}");
    assert!(track.get("path").is_none(), "file paths must not leak: {track}");
}

#[tokio::test]
async fn search_ignores_case_and_diacritics() {
    let app = spawn_app().await;
    for q in [
        "zoe lemieux",
        "ZOË",
        "cafe noir",
        "eclat",
        "motorhead",
        "ace of sines",
        "beyonce",
    ] {
        let (status, body) = app
            .get_json(&format!("/api/v1/search?q={}", crate::support::urlencode(q)))
            .await;
        assert_eq!(status, 200);
        assert!(body["total"].as_u64().unwrap() >= 1, "{q} found nothing: {body}");
    }
    let (_, body) = app.get_json("/api/v1/search?q=cafe").await;
    assert_eq!(titles(&body), vec!["Café Noir"]);
}

#[tokio::test]
async fn search_matches_word_prefixes_and_needs_every_word() {
    let app = spawn_app().await;
    let (_, body) = app.get_json("/api/v1/search?q=eigh%20hea").await;
    assert_eq!(titles(&body), vec!["Eight Bit Heart"]);
    let (_, body) = app.get_json("/api/v1/search?q=eight%20noir").await;
    assert_eq!(body["total"], 0);
    assert_eq!(titles(&body), Vec::<String>::new());
}

#[tokio::test]
async fn title_hits_rank_above_genre_hits() {
    let library = demo_library();
    // Dawn Chorus gets the title "Ambient Light"; Morning Drift stays in genre Ambient only.
    retag(&library.path().join(crate::support::DAWN_CHORUS), "Ambient Light", None);
    let app = spawn_app_with(library).await;
    let (_, body) = app.get_json("/api/v1/search?q=ambient").await;
    assert_eq!(titles(&body), vec!["Ambient Light", "Morning Drift"]);
}

#[tokio::test]
async fn search_pages_through_results() {
    let app = spawn_app().await;
    let (_, all) = app.get_json("/api/v1/search?q=a&limit=100").await;
    let total = all["total"].as_u64().unwrap();
    assert!(total >= 3, "{all}");
    let mut paged = Vec::new();
    for offset in 0..total {
        let (status, page) = app
            .get_json(&format!("/api/v1/search?q=a&limit=1&offset={offset}"))
            .await;
        assert_eq!(status, 200);
        assert_eq!(page["total"], total);
        assert_eq!(page["limit"], 1);
        assert_eq!(page["offset"], offset);
        paged.extend(titles(&page));
    }
    assert_eq!(paged, titles(&all));
    let (_, past) = app.get_json(&format!("/api/v1/search?q=a&offset={total}")).await;
    assert_eq!(past["tracks"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn query_syntax_is_never_interpreted() {
    let app = spawn_app().await;
    for q in [
        "\"",
        "title:*",
        "a OR b",
        "NEAR(a b)",
        "*",
        "-x",
        "^",
        "a\" OR \"b",
        "🎵",
    ] {
        let (status, body) = app
            .get_json(&format!("/api/v1/search?q={}", crate::support::urlencode(q)))
            .await;
        assert_eq!(status, 200, "{q}: {body}");
    }
}

#[tokio::test]
async fn suggest_completes_names_from_any_word() {
    let app = spawn_app().await;
    let (status, body) = app.get_json("/api/v1/suggest?q=zo").await;
    assert_eq!(status, 200);
    assert_eq!(
        body["suggestions"][0],
        serde_json::json!({"text": "Zoë Lémieux", "kind": "artist"})
    );
    let (_, body) = app.get_json("/api/v1/suggest?q=lemi").await;
    assert_eq!(body["suggestions"][0]["text"], "Zoë Lémieux");
    let (_, body) = app.get_json("/api/v1/suggest?q=squa").await;
    assert_eq!(body["suggestions"][0]["text"], "The Square Waves");
    let (_, body) = app.get_json("/api/v1/suggest?q=beyonc").await;
    assert_eq!(body["suggestions"][0]["text"], "Beyoncé Tribute Band");
    let (_, body) = app.get_json("/api/v1/suggest?q=e").await;
    let texts: Vec<&str> = body["suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["text"].as_str().unwrap())
        .collect();
    assert!(
        texts.contains(&"Eight Bit Heart") && texts.contains(&"Éclat"),
        "{texts:?}"
    );
    let (_, body) = app.get_json("/api/v1/suggest?q=e&limit=2").await;
    assert_eq!(body["suggestions"].as_array().unwrap().len(), 2);
    let (_, body) = app.get_json("/api/v1/suggest?q=qqqq").await;
    assert_eq!(body["suggestions"], serde_json::json!([]));
}
