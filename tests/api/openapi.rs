//! The OpenAPI document against what the server serves: every documented operation is routed
//! (none answers "no such route" or "method not allowed"), every operation of the README's API
//! table is documented and the other way round, and the document validates
//! (openapi-spec-validator, installed by scripts/test.sh).

use std::collections::BTreeSet;

use serde_json::Value;

use crate::support::spawn_app;

/// `METHOD /path` of every operation in `doc`.
fn documented(doc: &Value) -> BTreeSet<String> {
    let mut ops = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in ["get", "post", "put", "delete", "patch"] {
            if item.get(method).is_some() {
                ops.insert(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    ops
}

#[tokio::test]
async fn every_documented_operation_is_served() {
    let app = spawn_app().await;
    let (status, doc) = app.get_json("/api/v1/openapi.json").await;
    assert_eq!(status, 200);
    let ops = documented(&doc);
    assert!(ops.len() >= 17, "{ops:?}");
    for op in &ops {
        let (method, path) = op.split_once(' ').unwrap();
        // Well-formed ids that name nothing: the route must answer, with a 404 of its own.
        let concrete = path
            .replace("{id}", "0000000000")
            .replace("{token}", "x.y")
            .replace("{name}", "nobody");
        let request = match method {
            "GET" => app.client.get(app.url(&concrete)),
            "POST" => app.client.post(app.url(&concrete)).json(&serde_json::json!({})),
            "PUT" => app.client.put(app.url(&concrete)).json(&serde_json::json!({})),
            "DELETE" => app
                .client
                .delete(app.url(&concrete))
                .header("x-requested-with", "anyaudio"),
            other => panic!("unexpected method {other}"),
        };
        let response = request.send().await.unwrap();
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        let code = body["error"]["code"].as_str().unwrap_or("");
        assert!(
            status != 405 && code != "not_found" && code != "method_not_allowed",
            "{op} is documented but not served: {status} {body}"
        );
    }
}

#[tokio::test]
async fn the_readme_api_table_and_the_document_name_the_same_operations() {
    let app = spawn_app().await;
    let (_, doc) = app.get_json("/api/v1/openapi.json").await;
    let in_doc: BTreeSet<String> = documented(&doc)
        .into_iter()
        .filter(|op| op.contains(" /api/v1/"))
        .collect();
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let mut in_readme = BTreeSet::new();
    for row in readme.lines().filter(|l| l.starts_with("| `")) {
        let cell = row.split('|').nth(1).unwrap();
        // "`GET /api/v1/scan`, `POST /api/v1/scan`" or "`POST /api/v1/sources/http` `{"url": …}`"
        for quoted in cell.split('`').skip(1).step_by(2) {
            if let Some((method, path)) = quoted.split_once(' ') {
                if ["GET", "POST", "PUT", "DELETE"].contains(&method) && path.starts_with("/api/v1/") {
                    in_readme.insert(format!("{method} {}", path.split('?').next().unwrap()));
                }
            }
        }
    }
    assert_eq!(in_readme, in_doc, "README's API table against /api/v1/openapi.json");
}

#[tokio::test]
async fn the_document_validates() {
    let Some(validator) = std::env::var_os("ANYAUDIO_TEST_OPENAPI_VALIDATOR") else {
        panic!("set ANYAUDIO_TEST_OPENAPI_VALIDATOR to openapi-spec-validator (scripts/test.sh installs it)");
    };
    let app = spawn_app().await;
    let body = app.get("/api/v1/openapi.json").await.text().await.unwrap();
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), body).unwrap();
    let output = std::process::Command::new(validator).arg(file.path()).output().unwrap();
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
