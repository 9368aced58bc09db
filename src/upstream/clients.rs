//! The one place that builds HTTP clients. Both share the resolver (fixed answers, address
//! family), the proxy, the User-Agent and the pool and connect settings:
//!
//! - `control` (reqwest): probes, imports, feeds, artwork; follows redirects, reads whole
//!   documents. Each call sets its own timeout.
//! - `media` (hyper): the streaming proxy's data plane, with small read buffers (what bounds a
//!   stream's memory) and no redirects of its own (the proxy decides which to follow).

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use bytes::Bytes;
use http_body_util::Empty;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};

use super::net::{Connector, IpFamily, NetConfig, Resolver};
use crate::error::Error;

/// What every outbound request says it is, unless a source gives its own (yt-dlp's headers).
pub const USER_AGENT: &str = concat!("anyaudio/", env!("CARGO_PKG_VERSION"));

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long an idle upstream connection is kept for reuse. The pool sweeps at this interval,
/// so one lingers up to twice as long: the soak test waits that long to see the server idle.
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// Bytes one media connection reads at a time (hyper's default grows to ~400 KiB): with the
/// proxy's channel and the client connection's buffer, what bounds a stream's memory.
const MEDIA_READ_BUFFER: usize = 64 * 1024;

/// The data plane's pooled keep-alive client (HTTP/1.1; HTTP/2 where TLS negotiates it).
pub type MediaClient = Client<HttpsConnector<Connector>, Empty<Bytes>>;

/// The server's two HTTP clients; cheap to clone.
#[derive(Clone)]
pub struct Clients {
    pub control: reqwest::Client,
    pub media: MediaClient,
}

impl Clients {
    pub fn build(net: &NetConfig) -> anyhow::Result<Clients> {
        let resolver = Resolver::new(net.clone());
        Ok(Clients {
            control: control(resolver.clone(), net)?,
            media: media(Connector::new(net, resolver, CONNECT_TIMEOUT)),
        })
    }
}

fn control(resolver: Resolver, net: &NetConfig) -> anyhow::Result<reqwest::Client> {
    let mut builder = reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .connect_timeout(CONNECT_TIMEOUT)
        .pool_idle_timeout(POOL_IDLE_TIMEOUT)
        .tcp_nodelay(true)
        .dns_resolver(Arc::new(resolver))
        .local_address(net.family.map(IpFamily::local_address));
    builder = match &net.proxy {
        Some(proxy) => builder.proxy(reqwest::Proxy::all(proxy.as_str()).context("the upstream proxy")?),
        // Not the environment's HTTP_PROXY either: the media requests would not follow it.
        None => builder.no_proxy(),
    };
    builder.build().context("building the upstream HTTP client")
}

fn media(connector: Connector) -> MediaClient {
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_webpki_roots()
        .https_or_http()
        .enable_http1()
        .enable_http2()
        .wrap_connector(connector);
    Client::builder(TokioExecutor::new())
        .http1_max_buf_size(MEDIA_READ_BUFFER)
        .pool_idle_timeout(POOL_IDLE_TIMEOUT)
        .pool_timer(TokioTimer::new())
        .timer(TokioTimer::new())
        .build(https)
}

/// Sends a control-plane request for `url`: no answer within `timeout` is an upstream timeout,
/// a failure to reach it an upstream error, in our words (the client's error is the cause).
pub async fn send(
    request: reqwest::RequestBuilder,
    url: &url::Url,
    timeout: Duration,
) -> Result<reqwest::Response, Error> {
    match tokio::time::timeout(timeout, request.send()).await {
        Err(_) => Err(Error::UpstreamTimeout(format!(
            "{} did not answer in {timeout:?}",
            redact(url)
        ))),
        Ok(Err(e)) => Err(Error::upstream_because(
            format!("could not reach {}", redact(url)),
            e.without_url(),
        )),
        Ok(Ok(response)) => Ok(response),
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
