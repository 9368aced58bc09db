//! Same-origin by default: which hosts the server answers to, and who may change its state.
//!
//! - **Host.** A request must name the server by an IP address, `localhost`, or a name given
//!   with `--host`. A page on `evil.example` that rebinds its name to 127.0.0.1 sends
//!   `Host: evil.example` and gets a 421 (DNS rebinding). An IP literal can't be rebound.
//! - **State changes** (every method but GET, HEAD, OPTIONS) must not be "simple" requests a
//!   page can send without a preflight: a POST needs `Content-Type: application/json` or an
//!   `X-Requested-With` header (415 otherwise). Browsers send `Origin` with every such request;
//!   when it is there it must be the server's own origin (403 otherwise), whatever
//!   `--cors-origin` allows, since CORS here covers reading only. The Subsonic API (`/rest`),
//!   whose calls carry their own credentials, is exempt.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::header::{CONTENT_TYPE, HOST, ORIGIN};
use http::{HeaderMap, Method};

use crate::error::Error;

/// The names the server answers to besides IP addresses and `localhost`, lowercase.
#[derive(Clone, Debug, Default)]
pub struct Hosts(pub Arc<Vec<String>>);

pub async fn same_origin(State(hosts): State<Hosts>, request: Request, next: Next) -> Response {
    let host = request
        .headers()
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
        .or_else(|| request.uri().authority().map(|a| a.to_string()));
    // No Host at all (HTTP/1.0) names no other site: nothing to rebind.
    if let Some(host) = &host {
        if !host_allowed(host, &hosts.0) {
            return Error::UnknownHost(host.clone()).into_response();
        }
    }
    // Subsonic calls carry their credentials in the call itself (never a cookie): another
    // page can't make one that works, so they may come from anywhere, as form posts too.
    let carries_credentials = super::subsonic::is_subsonic(request.uri().path());
    if !carries_credentials && !matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        if let Some(origin) = request.headers().get(ORIGIN) {
            let origin = origin.to_str().unwrap_or("null");
            if !host.as_deref().is_some_and(|host| same_origin_as(origin, host)) {
                return Error::CrossOrigin(origin.to_owned()).into_response();
            }
        }
        // POST is the one method a page may send without a preflight (PUT, DELETE, ... always
        // have one, which CORS here refuses).
        if request.method() == Method::POST && !non_simple(request.headers()) {
            return Error::SimpleRequest.into_response();
        }
    }
    next.run(request).await
}

/// Whether a `Host` header names this server: an IP address, `localhost` (and names under
/// it, RFC 6761), or one of `names`.
pub fn host_allowed(host: &str, names: &[String]) -> bool {
    let name = match host.strip_prefix('[') {
        // `[::1]:8080`: an IPv6 literal.
        Some(rest) => {
            return rest
                .split(']')
                .next()
                .is_some_and(|ip| ip.parse::<std::net::Ipv6Addr>().is_ok())
        }
        None => match host.rsplit_once(':') {
            Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
            _ => host,
        },
    };
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    name.parse::<std::net::Ipv4Addr>().is_ok()
        || name == "localhost"
        || name.ends_with(".localhost")
        || names.contains(&name)
}

/// Whether an `Origin` header is the origin of a page served from `host` (scheme aside: the
/// server can't tell whether a reverse proxy in front of it speaks TLS).
pub fn same_origin_as(origin: &str, host: &str) -> bool {
    let Ok(url) = url::Url::parse(origin) else { return false };
    let Some(origin_host) = url.host_str() else {
        return false;
    };
    let authority = match url.port() {
        Some(port) => format!("{origin_host}:{port}"),
        None => origin_host.to_owned(),
    };
    let default_port = |h: &str| match url.port_or_known_default() {
        Some(p) => h.strip_suffix(&format!(":{p}")).unwrap_or(h).to_ascii_lowercase(),
        None => h.to_ascii_lowercase(),
    };
    default_port(&authority) == default_port(host)
}

/// A request a page can't send cross-origin without a CORS preflight.
fn non_simple(headers: &HeaderMap) -> bool {
    let json = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"));
    json || headers.contains_key("x-requested-with")
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn hosts_the_server_answers_to() {
        let names = vec!["music.example".to_owned()];
        for host in [
            "127.0.0.1:8080",
            "127.0.0.1",
            "[::1]:8080",
            "192.168.1.5:8080",
            "localhost:8080",
            "LocalHost",
            "app.localhost:8080",
            "music.example",
            "Music.Example:443",
            "music.example.",
        ] {
            assert!(host_allowed(host, &names), "{host}");
        }
        for host in [
            "evil.example:8080",
            "evil.example",
            "127.0.0.1.evil.example",
            "localhost.evil.example",
            "0x7f000001",
            "[evil]:80",
            "",
        ] {
            assert!(!host_allowed(host, &names), "{host}");
        }
    }

    #[test]
    fn origins_of_the_server_itself() {
        assert!(same_origin_as("http://127.0.0.1:8080", "127.0.0.1:8080"));
        assert!(same_origin_as("http://localhost:8080", "LOCALHOST:8080"));
        assert!(same_origin_as("https://music.example", "music.example"));
        assert!(same_origin_as("https://music.example", "music.example:443"));
        assert!(same_origin_as("http://[::1]:8080", "[::1]:8080"));
        assert!(!same_origin_as("http://evil.example:8080", "127.0.0.1:8080"));
        assert!(!same_origin_as("http://127.0.0.1:9999", "127.0.0.1:8080"));
        assert!(!same_origin_as("null", "127.0.0.1:8080"));
    }

    proptest! {
        #[test]
        fn any_host_or_origin_is_judged_without_panic(host in "\\PC{0,40}", origin in "\\PC{0,40}") {
            let _ = host_allowed(&host, &[]);
            let _ = same_origin_as(&origin, &host);
        }
    }
}
