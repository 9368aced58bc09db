//! How the server reaches other hosts: name resolution (with fixed answers for some hosts, and
//! one address family if asked) for both HTTP clients, the control plane's (reqwest) and the
//! data plane's (hyper).
//!
//! googlevideo URLs are bound to the address that resolved them (`ip=` in the URL): yt-dlp and
//! the media requests must leave from the same address family and the same proxy, so
//! `--ip-family` and `--upstream-proxy` apply to both (yt-dlp gets `--force-ipv4`/`-6` and
//! `--proxy`).

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use hyper_util::client::legacy::connect::proxy::{SocksV5, Tunnel};
use hyper_util::client::legacy::connect::HttpConnector;

/// One address family for every outbound connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IpFamily {
    V4,
    V6,
}

impl IpFamily {
    pub fn parse(s: &str) -> Option<IpFamily> {
        match s {
            "4" | "ipv4" => Some(IpFamily::V4),
            "6" | "ipv6" => Some(IpFamily::V6),
            _ => None,
        }
    }

    fn admits(self, ip: &IpAddr) -> bool {
        match self {
            IpFamily::V4 => ip.is_ipv4(),
            IpFamily::V6 => ip.is_ipv6(),
        }
    }

    /// The unspecified local address of this family, to bind outbound sockets to.
    pub fn local_address(self) -> IpAddr {
        match self {
            IpFamily::V4 => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            IpFamily::V6 => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        }
    }

    /// yt-dlp's option for the same family.
    pub fn ytdlp_option(self) -> &'static str {
        match self {
            IpFamily::V4 => "--force-ipv4",
            IpFamily::V6 => "--force-ipv6",
        }
    }
}

/// Settings of outbound connections.
#[derive(Debug, Clone, Default)]
pub struct NetConfig {
    /// Hosts answered with these addresses instead of DNS (as curl's `--resolve`); the URL's
    /// port is kept.
    pub hosts: HashMap<String, Vec<IpAddr>>,
    pub family: Option<IpFamily>,
    /// Every upstream connection goes through this proxy.
    pub proxy: Option<UpstreamProxy>,
}

/// A proxy for upstream connections: `http://[user:pass@]host:port` (HTTP CONNECT tunnels,
/// RFC 9110 §9.3.6) or `socks5://` (names resolved here) / `socks5h://` (names resolved by the
/// proxy), as yt-dlp's `--proxy` takes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamProxy {
    url: url::Url,
}

impl UpstreamProxy {
    pub fn parse(s: &str) -> Result<UpstreamProxy, String> {
        let url: url::Url = s.parse().map_err(|e| format!("{s:?} is not a URL: {e}"))?;
        if !matches!(url.scheme(), "http" | "socks5" | "socks5h") {
            return Err(format!("{s:?}: the proxy must be http://, socks5:// or socks5h://"));
        }
        if url.host_str().is_none() || url.port_or_known_default().is_none() && url.port().is_none() {
            return Err(format!("{s:?}: the proxy needs a host and a port"));
        }
        if url.port().is_none() && url.scheme() != "http" {
            return Err(format!("{s:?}: a SOCKS proxy needs a port"));
        }
        Ok(UpstreamProxy { url })
    }

    /// The URL as yt-dlp's `--proxy` and reqwest's `Proxy::all` take it.
    pub fn as_str(&self) -> &str {
        self.url.as_str()
    }

    fn address(&self) -> http::Uri {
        let host = self.url.host_str().unwrap_or_default();
        let port = self.url.port_or_known_default().unwrap_or(1080);
        format!("http://{host}:{port}").parse().expect("a host and a port")
    }

    fn credentials(&self) -> Option<(String, String)> {
        let decode = |s: &str| percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned();
        (!self.url.username().is_empty())
            .then(|| (decode(self.url.username()), decode(self.url.password().unwrap_or(""))))
    }
}

type Base = HttpConnector<Resolver>;
type Stream = hyper_util::rt::TokioIo<tokio::net::TcpStream>;

/// The data plane's TCP connector: direct, or through the upstream proxy.
#[derive(Clone)]
pub enum Connector {
    Direct(Base),
    Tunnel(Tunnel<Base>),
    Socks(SocksV5<Base>),
}

impl Connector {
    /// Connections to upstreams: the resolver, the address family, the proxy, no Nagle.
    pub fn new(config: &NetConfig, resolver: Resolver, connect_timeout: std::time::Duration) -> Connector {
        let mut base = HttpConnector::new_with_resolver(resolver);
        base.set_local_address(config.family.map(IpFamily::local_address));
        base.set_nodelay(true);
        base.enforce_http(false);
        base.set_connect_timeout(Some(connect_timeout));
        let Some(proxy) = &config.proxy else {
            return Connector::Direct(base);
        };
        match proxy.url.scheme() {
            "http" => {
                let mut tunnel = Tunnel::new(proxy.address(), base);
                if let Some((user, pass)) = proxy.credentials() {
                    use base64::Engine;
                    let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
                    if let Ok(value) = http::HeaderValue::from_str(&format!("Basic {token}")) {
                        tunnel = tunnel.with_auth(value);
                    }
                }
                Connector::Tunnel(tunnel)
            }
            scheme => {
                let mut socks = SocksV5::new(proxy.address(), base).local_dns(scheme == "socks5");
                if let Some((user, pass)) = proxy.credentials() {
                    socks = socks.with_auth(user, pass);
                }
                Connector::Socks(socks)
            }
        }
    }
}

type Connecting = Pin<Box<dyn Future<Output = Result<Stream, Box<dyn std::error::Error + Send + Sync>>> + Send>>;

impl tower_service::Service<http::Uri> for Connector {
    type Response = Stream;
    type Error = Box<dyn std::error::Error + Send + Sync>;
    type Future = Connecting;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        match self {
            Connector::Direct(c) => c.poll_ready(cx).map_err(Into::into),
            Connector::Tunnel(c) => c.poll_ready(cx).map_err(Into::into),
            Connector::Socks(c) => c.poll_ready(cx).map_err(Into::into),
        }
    }

    fn call(&mut self, dst: http::Uri) -> Connecting {
        match self {
            Connector::Direct(c) => {
                let connecting = c.call(dst);
                Box::pin(async move { connecting.await.map_err(Into::into) })
            }
            // A tunnel to a URL without a port would go to 443: give it the scheme's own.
            Connector::Tunnel(c) => {
                let connecting = c.call(with_port(dst));
                Box::pin(async move { connecting.await.map_err(Into::into) })
            }
            Connector::Socks(c) => {
                let connecting = c.call(with_port(dst));
                Box::pin(async move { connecting.await.map_err(Into::into) })
            }
        }
    }
}

/// `dst` with its port written out (80 for http, 443 for https).
fn with_port(dst: http::Uri) -> http::Uri {
    if dst.port().is_some() {
        return dst;
    }
    let port = if dst.scheme_str() == Some("http") { 80 } else { 443 };
    let Some(host) = dst.host() else { return dst };
    let authority = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let mut parts = dst.clone().into_parts();
    match authority.parse() {
        Ok(a) => {
            parts.authority = Some(a);
            http::Uri::from_parts(parts).unwrap_or(dst)
        }
        Err(_) => dst,
    }
}

/// A name resolver for both HTTP clients: the fixed answers first, else the system's
/// resolver; only addresses of the configured family.
#[derive(Clone, Default)]
pub struct Resolver {
    config: Arc<NetConfig>,
}

impl Resolver {
    pub fn new(config: NetConfig) -> Self {
        Resolver {
            config: Arc::new(config),
        }
    }

    /// The addresses of `host` (port 0: the connector puts the URL's port in).
    pub async fn lookup(self, host: String) -> io::Result<Vec<SocketAddr>> {
        let found: Vec<IpAddr> = match self.config.hosts.get(&host.to_ascii_lowercase()) {
            Some(fixed) => fixed.clone(),
            None => tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .map(|a| a.ip())
                .collect(),
        };
        let kept: Vec<SocketAddr> = found
            .into_iter()
            .filter(|ip| self.config.family.is_none_or(|f| f.admits(ip)))
            .map(|ip| SocketAddr::new(ip, 0))
            .collect();
        if kept.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("{host} has no address of the allowed family"),
            ));
        }
        Ok(kept)
    }
}

type Lookup = Pin<Box<dyn Future<Output = io::Result<std::vec::IntoIter<SocketAddr>>> + Send>>;

/// For hyper-util's `HttpConnector::new_with_resolver`.
impl tower_service::Service<hyper_util::client::legacy::connect::dns::Name> for Resolver {
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = io::Error;
    type Future = Lookup;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, name: hyper_util::client::legacy::connect::dns::Name) -> Lookup {
        let resolver = self.clone();
        Box::pin(async move { Ok(resolver.lookup(name.as_str().to_owned()).await?.into_iter()) })
    }
}

/// For reqwest's `ClientBuilder::dns_resolver`.
impl reqwest::dns::Resolve for Resolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let resolver = self.clone();
        Box::pin(async move {
            let addrs = resolver.lookup(name.as_str().to_owned()).await?;
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn fixed_hosts_answer_first_and_the_family_filters() {
        let mut hosts = HashMap::new();
        hosts.insert(
            "rr1---sn-test.googlevideo.com".to_owned(),
            vec!["127.0.0.1".parse().unwrap(), "::1".parse().unwrap()],
        );
        let both = Resolver::new(NetConfig {
            hosts: hosts.clone(),
            ..NetConfig::default()
        });
        let found = both
            .clone()
            .lookup("RR1---sn-test.googlevideo.com".into())
            .await
            .unwrap();
        assert_eq!(found.len(), 2);
        let v6 = Resolver::new(NetConfig {
            hosts,
            family: Some(IpFamily::V6),
            ..NetConfig::default()
        });
        let found = v6.clone().lookup("rr1---sn-test.googlevideo.com".into()).await.unwrap();
        assert_eq!(found, vec!["[::1]:0".parse().unwrap()]);
        assert!(
            v6.lookup("127.0.0.1".into()).await.is_err(),
            "no v4 address under --ip-family 6"
        );
        let found = both.lookup("localhost".into()).await.unwrap();
        assert!(found.iter().all(|a| a.ip().is_loopback()), "{found:?}");
    }

    #[test]
    fn proxies_parse_as_yt_dlp_takes_them() {
        let p = UpstreamProxy::parse("http://user:p%40ss@127.0.0.1:3128").unwrap();
        assert_eq!(p.address(), "http://127.0.0.1:3128");
        assert_eq!(p.credentials(), Some(("user".into(), "p@ss".into())));
        assert_eq!(
            UpstreamProxy::parse("http://proxy.lan").unwrap().address(),
            "http://proxy.lan:80"
        );
        assert!(UpstreamProxy::parse("socks5h://127.0.0.1:1080").is_ok());
        for bad in ["ftp://x:1", "socks5://x", "not a url", "http://:3128"] {
            assert!(UpstreamProxy::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(with_port("http://a.example/x".parse().unwrap()).port_u16(), Some(80));
        assert_eq!(with_port("https://a.example/x".parse().unwrap()).port_u16(), Some(443));
        assert_eq!(
            with_port("http://a.example:8080/x".parse().unwrap()).port_u16(),
            Some(8080)
        );
    }

    #[test]
    fn families_parse() {
        assert_eq!(IpFamily::parse("4"), Some(IpFamily::V4));
        assert_eq!(IpFamily::parse("6"), Some(IpFamily::V6));
        assert_eq!(IpFamily::parse("5"), None);
    }
}
