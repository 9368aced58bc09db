//! How the server reaches other hosts: name resolution (with fixed answers for some hosts, and
//! one address family if asked) for both HTTP clients, the control plane's (reqwest) and the
//! data plane's (hyper).
//!
//! googlevideo URLs are bound to the address that resolved them (`ip=` in the URL): yt-dlp and
//! the media requests must leave from the same address family, so `--ip-family` applies to
//! both (yt-dlp gets `--force-ipv4`/`--force-ipv6`).

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

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
impl tower::Service<hyper_util::client::legacy::connect::dns::Name> for Resolver {
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
            family: None,
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
    fn families_parse() {
        assert_eq!(IpFamily::parse("4"), Some(IpFamily::V4));
        assert_eq!(IpFamily::parse("6"), Some(IpFamily::V6));
        assert_eq!(IpFamily::parse("5"), None);
    }
}
