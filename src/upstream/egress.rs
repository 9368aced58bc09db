//! Which addresses the server fetches from because a client asked (an HTTP source, a playlist
//! or feed entry, a redirect, a yt-dlp import): public ones only, unless the operator allows
//! more (`--allow-private-sources`, `--allow-source-net CIDR`). Otherwise anyone who can add a
//! source could read the server's own loopback services and LAN through `/stream/…` (SSRF).
//!
//! The check is made on the address a connection goes to, where it is chosen: the resolver
//! drops forbidden answers for names ([`super::net::Resolver`]) and the connectors refuse
//! forbidden IP literals before connecting, so no later DNS answer (rebinding) and no redirect
//! gets past it. Through an upstream proxy the proxy connects, so the target is resolved and
//! checked here first; the proxy's own address is the one exempt.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::LazyLock;

use ipnet::IpNet;

/// What the operator allows beyond the public internet.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EgressPolicy {
    /// `--allow-private-sources`: every address (a self-hoster's LAN, tests' loopback origins).
    pub allow_private: bool,
    /// `--allow-source-net`: these networks too.
    pub allowed_nets: Vec<IpNet>,
}

impl EgressPolicy {
    /// Whether a connection to `ip` may be made for a client.
    pub fn permits(&self, ip: IpAddr) -> bool {
        self.allow_private || is_public(ip) || self.allowed_nets.iter().any(|net| net.contains(&ip))
    }

    /// Nothing is refused: no need to resolve a name to check it.
    pub fn permits_all(&self) -> bool {
        self.allow_private
    }
}

/// A request refused because its target is not a public address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{host} is not a public address")]
pub struct ForbiddenTarget {
    pub host: String,
}

/// The refusal somewhere in `error`'s cause chain (the HTTP clients wrap what the resolver and
/// the connector return; `io::Error` hides its inner error from `source()`).
pub fn forbidden_in<'e>(error: &'e (dyn std::error::Error + 'static)) -> Option<&'e ForbiddenTarget> {
    let mut next = Some(error);
    while let Some(e) = next {
        if let Some(found) = e.downcast_ref::<ForbiddenTarget>() {
            return Some(found);
        }
        if let Some(found) = e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .and_then(|inner| inner.downcast_ref::<ForbiddenTarget>())
        {
            return Some(found);
        }
        next = e.source();
    }
    None
}

/// The IP address a URL's host spells, if it is a literal (`[::1]` with or without brackets).
pub fn ip_literal(host: &str) -> Option<IpAddr> {
    host.trim_start_matches('[').trim_end_matches(']').parse().ok()
}

/// Networks that are not the public internet: IANA's special-purpose address registries
/// (RFC 6890 and its updates) for IPv4 and IPv6, less the ranges that are globally reachable.
/// IPv6 forms that embed an IPv4 address are judged by that address (NAT64, 6to4) or refused
/// outright (IPv4-mapped and -compatible: connecting to `::ffff:127.0.0.1` reaches loopback).
static NOT_PUBLIC: LazyLock<Vec<IpNet>> = LazyLock::new(|| {
    [
        "0.0.0.0/8",       // "this network", 0.0.0.0 reaches the host itself
        "10.0.0.0/8",      // private (RFC 1918)
        "100.64.0.0/10",   // carrier-grade NAT (RFC 6598)
        "127.0.0.0/8",     // loopback
        "169.254.0.0/16",  // link-local, cloud metadata services (169.254.169.254)
        "172.16.0.0/12",   // private
        "192.0.0.0/24",    // IETF protocol assignments
        "192.0.2.0/24",    // documentation
        "192.88.99.0/24",  // 6to4 relay anycast (deprecated)
        "192.168.0.0/16",  // private
        "198.18.0.0/15",   // benchmarking
        "198.51.100.0/24", // documentation
        "203.0.113.0/24",  // documentation
        "224.0.0.0/4",     // multicast
        "240.0.0.0/4",     // reserved, and 255.255.255.255 broadcast
        "::/96",           // unspecified, loopback, IPv4-compatible
        "::ffff:0:0/96",   // IPv4-mapped
        "64:ff9b:1::/48",  // local-use NAT64
        "100::/64",        // discard
        "2001::/23",       // IETF protocol assignments (Teredo, ORCHID, ...)
        "2001:db8::/32",   // documentation
        "fc00::/7",        // unique local
        "fe80::/10",       // link-local
        "fec0::/10",       // site-local (deprecated)
        "ff00::/8",        // multicast
    ]
    .iter()
    .map(|net| net.parse().expect("a network"))
    .collect()
});

/// Whether `ip` is an address of the public internet.
pub fn is_public(ip: IpAddr) -> bool {
    if let IpAddr::V6(v6) = ip {
        if let Some(embedded) = embedded_v4(v6) {
            return is_public(IpAddr::V4(embedded));
        }
    }
    !NOT_PUBLIC.iter().any(|net| net.contains(&ip))
}

/// The IPv4 address inside a NAT64 (`64:ff9b::/96`, RFC 6052) or 6to4 (`2002::/16`, RFC 3056)
/// address: the host these reach.
fn embedded_v4(v6: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = v6.segments();
    let o = v6.octets();
    match s {
        [0x64, 0xff9b, 0, 0, 0, 0, _, _] => Some(Ipv4Addr::new(o[12], o[13], o[14], o[15])),
        [0x2002, ..] => Some(Ipv4Addr::new(o[2], o[3], o[4], o[5])),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn every_spelling_of_an_inside_address_is_refused() {
        // What the url crate makes of the spellings an attacker tries (WHATWG host parsing):
        // 0x7f000001, 2130706433, 127.1 and 0177.0.0.1 are all 127.0.0.1 by the time we see them.
        for raw in [
            "http://0x7f000001/",
            "http://2130706433/",
            "http://127.1/",
            "http://0177.0.0.1/",
            "http://[::ffff:127.0.0.1]/",
            "http://[::1]/",
            "http://0.0.0.0/",
            "http://[::]/",
        ] {
            let url: url::Url = raw.parse().unwrap();
            let host = url.host_str().unwrap();
            let addr = ip_literal(host).unwrap_or_else(|| panic!("{raw} → {host} is a literal"));
            assert!(!is_public(addr), "{raw} → {addr}");
        }
        for inside in [
            "10.1.2.3",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "fd00::1",
            "fe80::1",
            "ff02::1",
            "::ffff:8.8.8.8", // mapped: refused whatever it maps to
            "64:ff9b::a00:1", // NAT64 of 10.0.0.1
            "2002:7f00:1::",  // 6to4 of 127.0.0.1
        ] {
            assert!(!is_public(ip(inside)), "{inside}");
        }
        for outside in [
            "8.8.8.8",
            "1.1.1.1",
            "2606:4700:4700::1111",
            "64:ff9b::808:808",
            "2002:808:808::",
        ] {
            assert!(is_public(ip(outside)), "{outside}");
        }
    }

    #[test]
    fn the_operator_allows_networks_or_everything() {
        let lan = EgressPolicy {
            allow_private: false,
            allowed_nets: vec!["10.0.0.0/8".parse().unwrap()],
        };
        assert!(lan.permits(ip("10.9.8.7")));
        assert!(!lan.permits(ip("192.168.1.1")));
        assert!(!lan.permits(ip("127.0.0.1")));
        assert!(lan.permits(ip("8.8.8.8")));
        let all = EgressPolicy {
            allow_private: true,
            ..EgressPolicy::default()
        };
        assert!(all.permits(ip("127.0.0.1")) && all.permits_all());
    }

    #[test]
    fn the_refusal_is_found_inside_io_errors_and_chains() {
        let refusal = ForbiddenTarget {
            host: "127.0.0.1".into(),
        };
        let io = std::io::Error::new(std::io::ErrorKind::PermissionDenied, refusal.clone());
        assert_eq!(forbidden_in(&io), Some(&refusal));
        let wrapped = anyhow::Error::new(io).context("connecting");
        assert_eq!(forbidden_in(wrapped.as_ref()), Some(&refusal));
        assert_eq!(forbidden_in(&std::io::Error::other("refused")), None);
    }

    proptest! {
        /// Every IPv4-mapped and loopback address is refused, however written.
        #[test]
        fn mapped_and_loopback_addresses_are_never_public(a in any::<u32>(), low in any::<u32>()) {
            let v4 = Ipv4Addr::from(a);
            prop_assert!(!is_public(IpAddr::V6(v4.to_ipv6_mapped())));
            let loopback = Ipv4Addr::from(0x7f00_0000 | (low & 0x00ff_ffff));
            prop_assert!(!is_public(IpAddr::V4(loopback)));
            // A NAT64 form is exactly as public as the address inside it.
            let nat64 = Ipv6Addr::from((0x0064_ff9b_u128 << 96) | u128::from(a));
            prop_assert_eq!(is_public(IpAddr::V6(nat64)), is_public(IpAddr::V4(v4)));
        }
    }
}
