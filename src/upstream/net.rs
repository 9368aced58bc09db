//! How the server reaches other hosts: name resolution (with fixed answers for some hosts, and
//! one address family if asked) for both HTTP clients, the control plane's (reqwest) and the
//! data plane's (hyper).
//!
//! googlevideo URLs are bound to the address that resolved them (`ip=` in the URL): yt-dlp and
//! the media requests must leave from the same address family and the same proxy, so
//! `--ip-family` and `--upstream-proxy` apply to both (yt-dlp gets `--force-ipv4`/`-6` and
//! `--proxy`).
//!
//! Both also apply the egress policy ([`super::egress`]): the resolver drops the addresses it
//! forbids, the connector refuses forbidden IP literals (which no resolver sees).

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use hyper_util::client::legacy::connect::proxy::{SocksV5, Tunnel};
use hyper_util::client::legacy::connect::HttpConnector;

use super::egress::{ip_literal, EgressPolicy, ForbiddenTarget};

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
    /// Which addresses may be fetched from for a client.
    pub egress: EgressPolicy,
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

    fn host(&self) -> &str {
        self.url.host_str().unwrap_or_default()
    }

    fn address(&self) -> http::Uri {
        let port = self.url.port_or_known_default().unwrap_or(1080);
        format!("http://{}:{port}", self.host())
            .parse()
            .expect("a host and a port")
    }

    fn credentials(&self) -> Option<(String, String)> {
        let decode = |s: &str| percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned();
        (!self.url.username().is_empty())
            .then(|| (decode(self.url.username()), decode(self.url.password().unwrap_or(""))))
    }
}

type Base = HttpConnector<Resolver>;
type Stream = hyper_util::rt::TokioIo<tokio::net::TcpStream>;

/// The data plane's TCP connector: direct, or through the upstream proxy; every target
/// admitted by the egress policy first.
#[derive(Clone)]
pub struct Connector {
    resolver: Resolver,
    way: Way,
}

#[derive(Clone)]
enum Way {
    Direct(Base),
    Tunnel(Tunnel<Base>),
    Socks(SocksV5<Base>),
}

impl Connector {
    /// Connections to upstreams: the resolver, the address family, the proxy, no Nagle.
    pub fn new(config: &NetConfig, resolver: Resolver, connect_timeout: std::time::Duration) -> Connector {
        let mut base = HttpConnector::new_with_resolver(resolver.clone());
        base.set_local_address(config.family.map(IpFamily::local_address));
        base.set_nodelay(true);
        base.enforce_http(false);
        base.set_connect_timeout(Some(connect_timeout));
        let Some(proxy) = &config.proxy else {
            return Connector {
                resolver,
                way: Way::Direct(base),
            };
        };
        let way = match proxy.url.scheme() {
            "http" => {
                let mut tunnel = Tunnel::new(proxy.address(), base);
                if let Some((user, pass)) = proxy.credentials() {
                    use base64::Engine;
                    let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
                    if let Ok(value) = http::HeaderValue::from_str(&format!("Basic {token}")) {
                        tunnel = tunnel.with_auth(value);
                    }
                }
                Way::Tunnel(tunnel)
            }
            scheme => {
                let mut socks = SocksV5::new(proxy.address(), base).local_dns(scheme == "socks5");
                if let Some((user, pass)) = proxy.credentials() {
                    socks = socks.with_auth(user, pass);
                }
                Way::Socks(socks)
            }
        };
        Connector { resolver, way }
    }
}

type Connecting = Pin<Box<dyn Future<Output = Result<Stream, Box<dyn std::error::Error + Send + Sync>>> + Send>>;

impl tower_service::Service<http::Uri> for Connector {
    type Response = Stream;
    type Error = Box<dyn std::error::Error + Send + Sync>;
    type Future = Connecting;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        match &mut self.way {
            Way::Direct(c) => c.poll_ready(cx).map_err(Into::into),
            Way::Tunnel(c) => c.poll_ready(cx).map_err(Into::into),
            Way::Socks(c) => c.poll_ready(cx).map_err(Into::into),
        }
    }

    fn call(&mut self, dst: http::Uri) -> Connecting {
        let admitted = {
            let (resolver, host) = (self.resolver.clone(), dst.host().unwrap_or_default().to_owned());
            async move { resolver.admit(&host, NameCheck::AtConnect).await }
        };
        // The connection starts once the target is admitted. The inner connectors are always
        // ready (they only poll their own inner one, down to `HttpConnector`), so calling a
        // clone of one after that wait keeps tower's poll-then-call contract.
        match self.way.clone() {
            Way::Direct(mut c) => Box::pin(async move {
                admitted.await?;
                c.call(dst).await.map_err(Into::into)
            }),
            // A tunnel to a URL without a port would go to 443: give it the scheme's own.
            Way::Tunnel(mut c) => Box::pin(async move {
                admitted.await?;
                c.call(with_port(dst)).await.map_err(Into::into)
            }),
            Way::Socks(mut c) => Box::pin(async move {
                admitted.await?;
                c.call(with_port(dst)).await.map_err(Into::into)
            }),
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

    /// The addresses of `host` that a connection may go to (port 0: the connector puts the
    /// URL's port in): of the configured family, and admitted by the egress policy unless
    /// `host` is the upstream proxy's own.
    pub async fn lookup(self, host: String) -> io::Result<Vec<SocketAddr>> {
        let is_proxy = self
            .config
            .proxy
            .as_ref()
            .is_some_and(|p| p.host().eq_ignore_ascii_case(&host));
        let found = self.addresses(&host).await?;
        let kept: Vec<SocketAddr> = found
            .iter()
            .filter(|ip| is_proxy || self.config.egress.permits(**ip))
            .map(|ip| SocketAddr::new(*ip, 0))
            .collect();
        if kept.is_empty() {
            return Err(forbidden(&host));
        }
        Ok(kept)
    }

    /// The addresses of `host` of the configured family: the fixed answers first, else DNS.
    async fn addresses(&self, host: &str) -> io::Result<Vec<IpAddr>> {
        let found: Vec<IpAddr> = match self.config.hosts.get(&host.to_ascii_lowercase()) {
            Some(fixed) => fixed.clone(),
            None => tokio::net::lookup_host((host, 0)).await?.map(|a| a.ip()).collect(),
        };
        let kept: Vec<IpAddr> = found
            .into_iter()
            .filter(|ip| self.config.family.is_none_or(|f| f.admits(ip)))
            .collect();
        if kept.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("{host} has no address of the allowed family"),
            ));
        }
        Ok(kept)
    }

    /// Refuses `host` (a URL's host) when the egress policy forbids it: an IP literal at
    /// once; a name when any of its addresses is refused, checked now, or left to the
    /// connection's own lookup (`AtConnect`: no second lookup, no rebinding window) unless an
    /// upstream proxy makes that connection, which then resolves it.
    pub async fn admit(&self, host: &str, when: NameCheck) -> io::Result<()> {
        let policy = &self.config.egress;
        if policy.permits_all() {
            return Ok(());
        }
        match ip_literal(host) {
            Some(ip) if policy.permits(ip) => Ok(()),
            Some(_) => Err(forbidden(host)),
            None if when == NameCheck::AtConnect && self.config.proxy.is_none() => Ok(()),
            None => {
                let found = self.addresses(host).await?;
                if found.iter().all(|ip| policy.permits(*ip)) {
                    Ok(())
                } else {
                    Err(forbidden(host))
                }
            }
        }
    }
}

/// When a URL's host name is checked against the egress policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameCheck {
    /// Where the connection resolves it: this server's own connections.
    AtConnect,
    /// Before the request: a program that connects by itself (yt-dlp).
    Now,
}

fn forbidden(host: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::PermissionDenied,
        ForbiddenTarget { host: host.to_owned() },
    )
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
        let open = EgressPolicy {
            allow_private: true,
            ..EgressPolicy::default()
        };
        let both = Resolver::new(NetConfig {
            hosts: hosts.clone(),
            egress: open.clone(),
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
            egress: open,
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

    #[tokio::test]
    async fn the_resolver_keeps_only_admitted_addresses_but_the_proxy_is_exempt() {
        let mut hosts = HashMap::new();
        let mixed = vec!["127.0.0.1".parse().unwrap(), "8.8.8.8".parse().unwrap()];
        hosts.insert("mixed.example".to_owned(), mixed);
        hosts.insert("inside.example".to_owned(), vec!["10.0.0.1".parse().unwrap()]);
        hosts.insert("proxy.lan".to_owned(), vec!["192.168.1.2".parse().unwrap()]);
        hosts.insert("public.example".to_owned(), vec!["8.8.8.8".parse().unwrap()]);
        let resolver = Resolver::new(NetConfig {
            hosts,
            proxy: Some(UpstreamProxy::parse("http://proxy.lan:3128").unwrap()),
            ..NetConfig::default()
        });
        let found = resolver.clone().lookup("mixed.example".into()).await.unwrap();
        assert_eq!(
            found,
            vec!["8.8.8.8:0".parse().unwrap()],
            "the loopback answer is dropped"
        );
        let refused = resolver.clone().lookup("inside.example".into()).await.unwrap_err();
        assert!(super::super::egress::forbidden_in(&refused).is_some(), "{refused}");
        let proxy = resolver.clone().lookup("proxy.lan".into()).await.unwrap();
        assert_eq!(proxy, vec!["192.168.1.2:0".parse().unwrap()], "the proxy's own address");
        // Through the proxy, a target's name is resolved and checked before the request: every
        // answer must be admitted, as the proxy may connect to any of them.
        for (host, admitted) in [
            ("inside.example", false),
            ("mixed.example", false),
            ("10.0.0.1", false),
            ("public.example", true),
            ("8.8.8.8", true),
        ] {
            let result = resolver.admit(host, NameCheck::AtConnect).await;
            assert_eq!(result.is_ok(), admitted, "{host}: {result:?}");
        }
        // The proxy's host is exempt only as the proxy, never as a target.
        assert!(resolver.admit("proxy.lan", NameCheck::Now).await.is_err());
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
