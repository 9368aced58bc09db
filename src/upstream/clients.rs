//! The one place that builds HTTP clients. Both share the resolver (fixed answers, address
//! family, the egress policy), the proxy, the User-Agent and the pool and connect settings:
//!
//! - `control` ([`ControlClient`], over reqwest): probes, imports, feeds; follows redirects
//!   itself, checking every hop's target. Each call sets its own timeout.
//! - `media` ([`MediaClient`]): the streaming proxy's data plane, HTTP/1.1, whose streams read
//!   their connections themselves (what bounds a stream's memory), with no redirects of its own
//!   (the proxy decides which to follow); its connector checks every connection's target.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use http::header::{AUTHORIZATION, COOKIE, LOCATION, PROXY_AUTHORIZATION};
use http::{HeaderMap, StatusCode};

use super::egress::forbidden_in;
use super::media::MediaClient;
use super::net::{Connector, IpFamily, NameCheck, NetConfig, Resolver};
use crate::error::Error;

/// What every outbound request says it is, unless a source gives its own (yt-dlp's headers).
pub const USER_AGENT: &str = concat!("anyaudio/", env!("CARGO_PKG_VERSION"));

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long an idle upstream connection is kept for reuse. The pool sweeps at this interval,
/// so one lingers up to twice as long: the soak test waits that long to see the server idle.
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// How many idle media connections are kept per origin: as many as the streams one origin
/// serves at once may hand back together. With 32 (nginx's `keepalive` example), 256 clients
/// asking MiB ranges of one origin had the proxy open 600 to 780 connections in 5 s, one
/// request in ten, as those idle beyond 32 were closed; each new one costs a handshake on both
/// sides and starts slow (`nstat`: twice the retransmitted segments), and the proxy's CPU a
/// MiB was 8 to 10 % higher (BENCHMARKS.md, issue 18). An idle connection holds a descriptor
/// and empty buffers, for [`POOL_IDLE_TIMEOUT`] at most.
const POOL_IDLE_PER_HOST: usize = 256;

/// The server's two HTTP clients; cheap to clone.
#[derive(Clone)]
pub struct Clients {
    pub control: ControlClient,
    pub media: MediaClient,
}

impl Clients {
    pub fn build(net: &NetConfig) -> anyhow::Result<Clients> {
        let resolver = Resolver::new(net.clone());
        Ok(Clients {
            control: ControlClient {
                client: control(resolver.clone(), net)?,
                resolver: resolver.clone(),
            },
            media: media(Connector::new(net, resolver, CONNECT_TIMEOUT)),
        })
    }
}

/// Redirects followed for one control-plane request (browsers and curl stop near 20, reqwest
/// at 10).
const MAX_REDIRECTS: usize = 10;

/// The control plane's client: GETs whose every hop is checked against the egress policy
/// before it is made; cheap to clone.
#[derive(Clone)]
pub struct ControlClient {
    client: reqwest::Client,
    resolver: Resolver,
}

impl ControlClient {
    /// GETs `url` with `headers`, following redirects (a hop to another origin loses the
    /// credentials and cookies, as in reqwest and browsers). No answer within `timeout` is an
    /// upstream timeout, a failure to reach it an upstream error, in our words (the client's
    /// error is the cause); a target the policy forbids is a `forbidden_target`.
    pub async fn get(&self, url: &url::Url, headers: HeaderMap, timeout: Duration) -> Result<reqwest::Response, Error> {
        tokio::time::timeout(timeout, self.follow(url, headers))
            .await
            .map_err(|_| Error::UpstreamTimeout(format!("{} did not answer in {timeout:?}", redact(url))))?
    }

    async fn follow(&self, url: &url::Url, mut headers: HeaderMap) -> Result<reqwest::Response, Error> {
        let mut at = url.clone();
        for _ in 0..=MAX_REDIRECTS {
            self.admit(&at, NameCheck::AtConnect).await?;
            let response = self
                .client
                .get(at.clone())
                .headers(headers.clone())
                .send()
                .await
                .map_err(|e| match forbidden_in(&e) {
                    Some(refused) => Error::ForbiddenTarget(refused.host.clone()),
                    None => Error::upstream_because(format!("could not reach {}", redact(&at)), e.without_url()),
                })?;
            let Some(next) = redirect_target(&at, response.status(), response.headers()) else {
                return Ok(response);
            };
            if next.origin() != at.origin() {
                for sensitive in [AUTHORIZATION, COOKIE, PROXY_AUTHORIZATION] {
                    headers.remove(sensitive);
                }
            }
            at = super::range::carry_credentials(&at, next);
        }
        Err(Error::upstream(format!("{} redirects too many times", redact(url))))
    }

    /// Refuses a URL that the egress policy forbids, for a program that fetches it itself
    /// (yt-dlp): its host name is resolved and checked now.
    pub async fn admit_for_program(&self, url: &str) -> Result<(), Error> {
        let Ok(url) = url::Url::parse(url) else {
            return Ok(()); // not a URL: a yt-dlp search or an id, nothing of ours to check
        };
        self.admit(&url, NameCheck::Now).await
    }

    async fn admit(&self, url: &url::Url, when: NameCheck) -> Result<(), Error> {
        let Some(host) = url.host_str() else {
            return Ok(());
        };
        self.resolver
            .admit(host, when)
            .await
            .map_err(|e| match forbidden_in(&e) {
                Some(refused) => Error::ForbiddenTarget(refused.host.clone()),
                None => Error::upstream_because(format!("could not resolve {host}"), e),
            })
    }
}

/// Where a redirect answer sends the request next (http and https only), if it is one.
fn redirect_target(from: &url::Url, status: StatusCode, headers: &HeaderMap) -> Option<url::Url> {
    if !matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308) {
        return None;
    }
    let to = from.join(headers.get(LOCATION)?.to_str().ok()?).ok()?;
    matches!(to.scheme(), "http" | "https").then_some(to)
}

fn control(resolver: Resolver, net: &NetConfig) -> anyhow::Result<reqwest::Client> {
    let mut builder = reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .connect_timeout(CONNECT_TIMEOUT)
        .pool_idle_timeout(POOL_IDLE_TIMEOUT)
        .tcp_nodelay(true)
        .dns_resolver(Arc::new(resolver))
        // Followed by `ControlClient::follow`, which checks each hop.
        .redirect(reqwest::redirect::Policy::none())
        .local_address(net.family.map(IpFamily::local_address));
    builder = match &net.proxy {
        Some(proxy) => builder.proxy(reqwest::Proxy::all(proxy.as_str()).context("the upstream proxy")?),
        // Not the environment's HTTP_PROXY either: the media requests would not follow it.
        None => builder.no_proxy(),
    };
    builder.build().context("building the upstream HTTP client")
}

fn media(connector: Connector) -> MediaClient {
    // HTTP/1.1 alone: see `media` for why streams do not share HTTP/2 connections.
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_webpki_roots()
        .https_or_http()
        .enable_http1()
        .wrap_connector(connector);
    MediaClient::new(https, POOL_IDLE_TIMEOUT, POOL_IDLE_PER_HOST)
}

/// A URL (or anything a user gave as one) to show back: as it was, less a password in it.
pub fn without_password(location: &str) -> String {
    match url::Url::parse(location) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(None);
            url.to_string()
        }
        _ => location.to_owned(),
    }
}

/// A URL for messages: no query string (signed URLs carry secrets there), no password.
pub fn redact(url: &url::Url) -> String {
    let mut shown = url.clone();
    shown.set_query(None);
    shown.set_fragment(None);
    let _ = shown.set_password(None);
    shown.to_string()
}
