//! Serving media bytes: range arithmetic and token signing (pure), the decision of what to
//! answer ([`plan`]), the rendering of that decision into a status and headers ([`render_head`]),
//! and the body sources (local files here; the upstream proxy shares the same head).

pub mod file_send;
pub mod local;
pub mod paced;
pub mod plan;
pub mod proxy;
pub mod range;
pub mod token;

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};

use plan::{Plan, Representation};
use range::ByteRange;

/// The status and headers for `plan`, and the bytes the body must carry (None: no body).
pub fn render_head(
    plan: &Plan,
    rep: &Representation,
    content_type: &str,
) -> (StatusCode, HeaderMap, Option<ByteRange>) {
    let mut headers = HeaderMap::new();
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if let Some(etag) = rep.etag.as_deref().and_then(|e| HeaderValue::from_str(e).ok()) {
        headers.insert(header::ETAG, etag);
    }
    if let Some(modified) = rep.last_modified {
        headers.insert(
            header::LAST_MODIFIED,
            HeaderValue::from_str(&plan::http_date(modified)).expect("dates are ASCII"),
        );
    }
    let content_type =
        HeaderValue::from_str(content_type).unwrap_or(HeaderValue::from_static("application/octet-stream"));
    let length = |n: u64| HeaderValue::from(n);
    match plan {
        Plan::NotModified => (StatusCode::NOT_MODIFIED, headers, None),
        Plan::PreconditionFailed => {
            headers.insert(header::CONTENT_LENGTH, length(0));
            (StatusCode::PRECONDITION_FAILED, headers, None)
        }
        Plan::Unsatisfiable => {
            headers.insert(
                header::CONTENT_RANGE,
                HeaderValue::from_str(&format!("bytes */{}", rep.len)).expect("ASCII"),
            );
            headers.insert(header::CONTENT_LENGTH, length(0));
            (StatusCode::RANGE_NOT_SATISFIABLE, headers, None)
        }
        Plan::Full => {
            headers.insert(header::CONTENT_TYPE, content_type);
            headers.insert(header::CONTENT_LENGTH, length(rep.len));
            let body = (rep.len > 0).then_some(ByteRange {
                start: 0,
                end: rep.len - 1,
            });
            (StatusCode::OK, headers, body)
        }
        Plan::Partial(r) => {
            headers.insert(header::CONTENT_TYPE, content_type);
            headers.insert(header::CONTENT_LENGTH, length(r.len()));
            headers.insert(
                header::CONTENT_RANGE,
                HeaderValue::from_str(&r.content_range(rep.len)).expect("ASCII"),
            );
            (StatusCode::PARTIAL_CONTENT, headers, Some(*r))
        }
    }
}
