//! Which IP addresses a server-side fetch may connect to: only globally routable unicast.
//!
//! Ranges from the IANA IPv4 and IPv6 Special-Purpose Address Registries (RFC 6890 and updates).
//! IPv6 is allow-listed to global unicast `2000::/3` minus its special blocks; addresses that embed
//! an IPv4 address (IPv4-mapped, IPv4-compatible, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`) are judged
//! by the embedded address, so `::ffff:127.0.0.1` is loopback.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// What kind of address an IP is, as far as a server-side fetch cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AddressClass {
    /// Globally routable unicast: the only class a fetch may reach by default.
    Public,
    /// `0.0.0.0/8`, `::`.
    Unspecified,
    /// `127.0.0.0/8`, `::1`.
    Loopback,
    /// RFC 1918: `10/8`, `172.16/12`, `192.168/16`.
    Private,
    /// RFC 6598 shared address space (carrier-grade NAT): `100.64.0.0/10`.
    SharedCgnat,
    /// `169.254.0.0/16` (cloud metadata lives at 169.254.169.254), `fe80::/10`.
    LinkLocal,
    /// RFC 4193 `fc00::/7`, and deprecated site-local `fec0::/10`.
    UniqueLocal,
    /// `224.0.0.0/4`, `ff00::/8`.
    Multicast,
    /// `255.255.255.255`.
    Broadcast,
    /// `192.0.2/24`, `198.51.100/24`, `203.0.113/24`, `2001:db8::/32`.
    Documentation,
    /// `198.18.0.0/15`.
    Benchmarking,
    /// Anything else special-purpose or unallocated: `192.0.0/24`, `192.88.99/24`, `240/4`, IPv6
    /// outside `2000::/3`, Teredo and other `2001::/23` blocks, NAT64 local-use, discard-only, ….
    Reserved,
}

impl AddressClass {
    pub fn is_public(self) -> bool {
        self == Self::Public
    }
}

/// Classifies an address (IPv6 addresses embedding IPv4 are classified by the embedded address).
pub fn classify_address(ip: IpAddr) -> AddressClass {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

fn classify_v4(ip: Ipv4Addr) -> AddressClass {
    let [a, b, c, _] = ip.octets();
    match (a, b, c) {
        (0, _, _) => AddressClass::Unspecified,
        (10, _, _) => AddressClass::Private,
        (100, 64..=127, _) => AddressClass::SharedCgnat,
        (127, _, _) => AddressClass::Loopback,
        (169, 254, _) => AddressClass::LinkLocal,
        (172, 16..=31, _) => AddressClass::Private,
        (192, 0, 0) => AddressClass::Reserved,
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => AddressClass::Documentation,
        (192, 88, 99) => AddressClass::Reserved,
        (192, 168, _) => AddressClass::Private,
        (198, 18..=19, _) => AddressClass::Benchmarking,
        (224..=239, _, _) => AddressClass::Multicast,
        _ if ip == Ipv4Addr::BROADCAST => AddressClass::Broadcast,
        (240..=255, _, _) => AddressClass::Reserved,
        _ => AddressClass::Public,
    }
}

fn classify_v6(ip: Ipv6Addr) -> AddressClass {
    let segments = ip.segments();
    if ip.is_unspecified() {
        return AddressClass::Unspecified;
    }
    if ip.is_loopback() {
        return AddressClass::Loopback;
    }
    // ::ffff:a.b.c.d (IPv4-mapped): what a dual-stack socket really connects to.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return classify_v4(v4);
    }
    // ::a.b.c.d (IPv4-compatible) is deprecated (RFC 4291 §2.5.5.1) and never a legitimate target.
    if segments[..6] == [0; 6] {
        return AddressClass::Reserved;
    }
    match segments[0] {
        0xff00..=0xffff => return AddressClass::Multicast,
        0xfe80..=0xfebf => return AddressClass::LinkLocal,
        0xfec0..=0xfeff | 0xfc00..=0xfdff => return AddressClass::UniqueLocal,
        _ => {}
    }
    // NAT64 well-known prefix 64:ff9b::/96: judged by the embedded IPv4 address.
    if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return classify_v4(embedded_v4(segments[6], segments[7]));
    }
    // 6to4 2002::/16 carries an IPv4 address in bits 16..48.
    if segments[0] == 0x2002 {
        return classify_v4(embedded_v4(segments[1], segments[2]));
    }
    if segments[0] == 0x2001 && segments[1] == 0x0db8 {
        return AddressClass::Documentation;
    }
    // 2001::/23: IETF protocol assignments (Teredo 2001::/32, benchmarking, ORCHID, …).
    if segments[0] == 0x2001 && segments[1] < 0x0200 {
        return AddressClass::Reserved;
    }
    // 3fff::/20 is documentation too (RFC 9637).
    if segments[0] == 0x3fff && segments[1] < 0x1000 {
        return AddressClass::Documentation;
    }
    if (0x2000..=0x3fff).contains(&segments[0]) {
        return AddressClass::Public;
    }
    AddressClass::Reserved
}

fn embedded_v4(high: u16, low: u16) -> Ipv4Addr {
    let [a, b] = high.to_be_bytes();
    let [c, d] = low.to_be_bytes();
    Ipv4Addr::new(a, b, c, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(literal: &str) -> AddressClass {
        match literal.parse::<IpAddr>() {
            Ok(ip) => classify_address(ip),
            Err(e) => panic!("{literal}: {e}"),
        }
    }

    #[test]
    fn ipv4_ranges() {
        use AddressClass::*;
        for (literal, expected) in [
            ("0.0.0.0", Unspecified),
            ("0.1.2.3", Unspecified),
            ("10.0.0.1", Private),
            ("10.255.255.255", Private),
            ("100.63.255.255", Public),
            ("100.64.0.1", SharedCgnat),
            ("100.127.255.255", SharedCgnat),
            ("100.128.0.0", Public),
            ("127.0.0.1", Loopback),
            ("127.255.255.254", Loopback),
            ("169.254.169.254", LinkLocal),
            ("169.254.0.1", LinkLocal),
            ("169.253.0.1", Public),
            ("172.15.255.255", Public),
            ("172.16.0.1", Private),
            ("172.31.255.255", Private),
            ("172.32.0.0", Public),
            ("192.0.0.8", Reserved),
            ("192.0.2.1", Documentation),
            ("192.88.99.1", Reserved),
            ("192.168.1.1", Private),
            ("192.169.0.1", Public),
            ("198.18.0.1", Benchmarking),
            ("198.19.255.255", Benchmarking),
            ("198.20.0.1", Public),
            ("198.51.100.7", Documentation),
            ("203.0.113.9", Documentation),
            ("224.0.0.1", Multicast),
            ("239.255.255.250", Multicast),
            ("240.0.0.1", Reserved),
            ("255.255.255.255", Broadcast),
            ("1.1.1.1", Public),
            ("8.8.8.8", Public),
            ("20.190.160.1", Public),
        ] {
            assert_eq!(class(literal), expected, "{literal}");
        }
    }

    #[test]
    fn ipv6_ranges() {
        use AddressClass::*;
        for (literal, expected) in [
            ("::", Unspecified),
            ("::1", Loopback),
            ("::ffff:127.0.0.1", Loopback),
            ("::ffff:7f00:1", Loopback),
            ("::ffff:10.0.0.1", Private),
            ("::ffff:169.254.169.254", LinkLocal),
            ("::ffff:100.64.0.1", SharedCgnat),
            ("::ffff:0.0.0.0", Unspecified),
            ("::ffff:8.8.8.8", Public),
            ("::127.0.0.1", Reserved),
            ("::8.8.8.8", Reserved),
            ("64:ff9b::7f00:1", Loopback),
            ("64:ff9b::a9fe:a9fe", LinkLocal),
            ("64:ff9b::808:808", Public),
            ("64:ff9b:1::1", Reserved),
            ("100::1", Reserved),
            ("2002:7f00:1::1", Loopback),
            ("2002:c0a8:101::1", Private),
            ("2002:808:808::1", Public),
            ("2001::1", Reserved),
            ("2001:0:4136:e378::1", Reserved),
            ("2001:10::1", Reserved),
            ("2001:db8::1", Documentation),
            ("3fff::1", Documentation),
            ("fc00::1", UniqueLocal),
            ("fd00::1", UniqueLocal),
            ("fdff:ffff::1", UniqueLocal),
            ("fe80::1", LinkLocal),
            ("febf::1", LinkLocal),
            ("fec0::1", UniqueLocal),
            ("ff02::1", Multicast),
            ("ff0e::1", Multicast),
            ("2606:4700:4700::1111", Public),
            ("2001:4860:4860::8888", Public),
            ("2a01:111:f400::1", Public),
            ("4000::1", Reserved),
            ("1000::1", Reserved),
            ("::2", Reserved),
        ] {
            assert_eq!(class(literal), expected, "{literal}");
        }
    }

    #[test]
    fn only_public_is_public() {
        assert!(AddressClass::Public.is_public());
        assert!(!AddressClass::Loopback.is_public());
        assert!(!class("::ffff:127.0.0.1").is_public());
        assert!(!class("169.254.169.254").is_public());
        assert!(!class("100.64.0.1").is_public());
        assert!(!class("fd00::1").is_public());
    }
}
