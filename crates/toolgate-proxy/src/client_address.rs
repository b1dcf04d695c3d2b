//! Which client address a request counts against, for the per-address limits.
//!
//! The address is the TCP peer the server saw ([`toolgate_core::PeerAddr`]). `X-Forwarded-For` is
//! believed only when that peer is one of the configured trusted proxies (`trusted_proxies`):
//! then the header is read from the right, trusted hops are skipped, and the first address that
//! is not a trusted proxy is the client. Anything else a client can write itself, so it is
//! ignored — a flood cannot escape its budget by inventing addresses.
//!
//! IPv6 addresses count per /64 (one customer network: an attacker with one /64 has 2^64
//! addresses); IPv4-mapped IPv6 addresses count as the IPv4 address.

use std::fmt;
use std::net::{IpAddr, Ipv6Addr};
use std::str::FromStr;

use thiserror::Error;
use toolgate_core::{HttpRequest, PeerAddr};

/// Most `X-Forwarded-For` entries looked at (from the right).
const MAX_FORWARDED_HOPS: usize = 16;

/// An IP network (`10.0.0.0/8`, `fd00::/8`, or a single address), for `trusted_proxies`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNetwork {
    addr: IpAddr,
    prefix: u8,
}

/// A `trusted_proxies` entry that is not an address or `address/prefix`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("`{0}` is not an IP address or network (`10.0.0.0/8`, `fd00::/8`, `192.0.2.7`)")]
pub struct IpNetworkError(String);

impl FromStr for IpNetwork {
    type Err = IpNetworkError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || IpNetworkError(text.chars().take(80).collect());
        let (addr, prefix) = match text.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (text, None),
        };
        let addr = canonical(IpAddr::from_str(addr.trim()).map_err(|_| bad())?);
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p.trim().parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(bad)?,
            None => max,
        };
        Ok(Self { addr, prefix })
    }
}

impl IpNetwork {
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix)).unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl fmt::Display for IpNetwork {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// IPv4-mapped IPv6 (`::ffff:a.b.c.d`) as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

/// The key a client address is counted under: the IPv4 address, or the IPv6 /64.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ClientAddress(String);

impl ClientAddress {
    fn of(ip: IpAddr) -> Self {
        match canonical(ip) {
            IpAddr::V4(v4) => Self(v4.to_string()),
            IpAddr::V6(v6) => {
                let network = u128::from(v6) & (u128::MAX << 64);
                Self(format!("{}/64", Ipv6Addr::from(network)))
            }
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The address `request` counts against, if the server told the peer.
pub(crate) fn client_address(request: &HttpRequest, trusted_proxies: &[IpNetwork]) -> Option<ClientAddress> {
    let peer = canonical(request.extensions().get::<PeerAddr>()?.0.ip());
    let trusted = |ip: IpAddr| trusted_proxies.iter().any(|network| network.contains(ip));
    if !trusted(peer) {
        return Some(ClientAddress::of(peer));
    }
    let forwarded: Vec<&str> = request
        .headers()
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .collect();
    let mut client = peer;
    for hop in forwarded.iter().rev().take(MAX_FORWARDED_HOPS) {
        // An entry that is not an address ends the trusted chain: the last trusted hop is counted.
        let Ok(ip) = IpAddr::from_str(hop) else {
            break;
        };
        client = canonical(ip);
        if !trusted(client) {
            break;
        }
    }
    Some(ClientAddress::of(client))
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use super::*;

    fn networks(items: &[&str]) -> Vec<IpNetwork> {
        items.iter().map(|s| s.parse().unwrap()).collect()
    }

    fn request(peer: &str, forwarded: &[&str]) -> HttpRequest {
        let mut builder = http::Request::builder().uri("/authorize");
        for value in forwarded {
            builder = builder.header("x-forwarded-for", *value);
        }
        let peer: SocketAddr = peer.parse().unwrap();
        builder.extension(PeerAddr(peer)).body(bytes::Bytes::new()).unwrap()
    }

    fn address(peer: &str, forwarded: &[&str], trusted: &[&str]) -> Option<String> {
        client_address(&request(peer, forwarded), &networks(trusted)).map(|a| a.as_str().to_owned())
    }

    #[test]
    fn networks_parse_and_contain() {
        let net: IpNetwork = "10.0.0.0/8".parse().unwrap();
        assert!(net.contains("10.255.1.2".parse().unwrap()));
        assert!(!net.contains("11.0.0.1".parse().unwrap()));
        assert!(net.contains("::ffff:10.1.1.1".parse().unwrap()), "IPv4-mapped");
        let one: IpNetwork = "192.0.2.7".parse().unwrap();
        assert!(one.contains("192.0.2.7".parse().unwrap()) && !one.contains("192.0.2.8".parse().unwrap()));
        let v6: IpNetwork = "fd00::/8".parse().unwrap();
        assert!(v6.contains("fd12::1".parse().unwrap()) && !v6.contains("fe80::1".parse().unwrap()));
        let all: IpNetwork = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains("8.8.8.8".parse().unwrap()));
        assert_eq!(one.to_string(), "192.0.2.7/32");
        for bad in [
            "10.0.0.0/33",
            "fd00::/129",
            "example.com",
            "10.0.0.0/x",
            "",
            "10.0.0.0/",
        ] {
            assert!(bad.parse::<IpNetwork>().is_err(), "{bad}");
        }
    }

    #[test]
    fn the_peer_counts_unless_it_is_a_trusted_proxy() {
        // A client cannot pick its own address with X-Forwarded-For.
        assert_eq!(
            address("203.0.113.9:5000", &["1.2.3.4"], &[]).as_deref(),
            Some("203.0.113.9")
        );
        assert_eq!(
            address("203.0.113.9:5000", &["1.2.3.4"], &["10.0.0.0/8"]).as_deref(),
            Some("203.0.113.9")
        );
        // Behind a trusted proxy: the first untrusted address from the right.
        assert_eq!(
            address("10.0.0.2:5000", &["1.2.3.4, 198.51.100.7"], &["10.0.0.0/8"]).as_deref(),
            Some("198.51.100.7"),
            "the client's own X-Forwarded-For entry (1.2.3.4) is not believed"
        );
        assert_eq!(
            address("10.0.0.2:5000", &["198.51.100.7", "10.0.0.9"], &["10.0.0.0/8"]).as_deref(),
            Some("198.51.100.7"),
            "several header lines, trusted hops skipped"
        );
        assert_eq!(
            address("10.0.0.2:5000", &[], &["10.0.0.0/8"]).as_deref(),
            Some("10.0.0.2"),
            "no header: the proxy itself"
        );
        assert_eq!(
            address("10.0.0.2:5000", &["garbage, 10.0.0.5"], &["10.0.0.0/8"]).as_deref(),
            Some("10.0.0.5"),
            "an unreadable entry ends the chain at the last trusted hop"
        );
    }

    #[test]
    fn ipv6_counts_per_64_and_mapped_ipv4_as_ipv4() {
        assert_eq!(
            address("[2001:db8:1:2:aaaa::1]:5000", &[], &[]).as_deref(),
            Some("2001:db8:1:2::/64")
        );
        assert_eq!(
            address("[2001:db8:1:2:bbbb::9]:5000", &[], &[]).as_deref(),
            Some("2001:db8:1:2::/64")
        );
        assert_eq!(
            address("[::ffff:203.0.113.9]:5000", &[], &[]).as_deref(),
            Some("203.0.113.9")
        );
    }

    #[test]
    fn without_a_peer_there_is_no_address() {
        let request = http::Request::builder().body(bytes::Bytes::new()).unwrap();
        assert_eq!(client_address(&request, &[]), None);
    }
}
