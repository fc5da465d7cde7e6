//! Who the client is, network-wise: the address to count limits against, and whether a request came
//! straight from this machine.
//!
//! Forwarding headers are believed only from `trusted_proxies`. When the TCP peer is trusted,
//! `X-Forwarded-For` is read right to left (proxies append), skipping trusted hops; the first untrusted
//! address is the client. An unparseable hop stops the walk at the peer: anything further left was written
//! by whoever sent the request. Upstream trusted a single boolean and kept walking past garbage.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use construct_core::config::Cidr;
use http::HeaderMap;

/// Headers a proxy adds to say whom it forwards for.
pub const FORWARDING_HEADERS: [&str; 3] = ["x-forwarded-for", "forwarded", "x-real-ip"];

/// The key a client's requests are counted under: its address, with IPv4-mapped IPv6 unwrapped and IPv6
/// grouped by /64 (one customer network usually holds a whole /64, so per-address limits would not bind).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClientKey(IpAddr);

impl ClientKey {
    /// The key for `ip`.
    pub fn from_ip(ip: IpAddr) -> Self {
        match normalize(ip) {
            IpAddr::V6(v6) => {
                let mut segments = v6.segments();
                segments[4..].fill(0);
                Self(IpAddr::V6(Ipv6Addr::from(segments)))
            }
            v4 => Self(v4),
        }
    }

    /// The (grouped) address.
    pub fn ip(&self) -> IpAddr {
        self.0
    }
}

impl std::fmt::Display for ClientKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            IpAddr::V6(v6) => write!(f, "{v6}/64"),
            v4 => write!(f, "{v4}"),
        }
    }
}

/// `::ffff:a.b.c.d` → `a.b.c.d`; everything else unchanged.
pub fn normalize(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// Resolves client addresses with the configured trusted proxies.
#[derive(Debug, Clone, Default)]
pub struct ClientResolver {
    trusted: Vec<Cidr>,
}

impl ClientResolver {
    /// A resolver trusting these proxies.
    pub fn new(trusted: Vec<Cidr>) -> Self {
        Self { trusted }
    }

    /// Whether any proxy is trusted.
    pub fn has_trusted_proxies(&self) -> bool {
        !self.trusted.is_empty()
    }

    fn is_trusted(&self, ip: IpAddr) -> bool {
        self.trusted.iter().any(|cidr| cidr.contains(ip))
    }

    /// Whether the TCP peer itself is a trusted proxy.
    pub fn is_trusted_peer(&self, peer: SocketAddr) -> bool {
        self.is_trusted(normalize(peer.ip()))
    }

    /// The client's address for a request from `peer` carrying `headers`.
    pub fn client_ip(&self, peer: SocketAddr, headers: &HeaderMap) -> IpAddr {
        let peer_ip = normalize(peer.ip());
        if !self.is_trusted(peer_ip) {
            return peer_ip;
        }
        let hops: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .collect();
        if hops.is_empty() {
            return headers
                .get("x-real-ip")
                .and_then(|v| v.to_str().ok())
                .and_then(parse_hop)
                .unwrap_or(peer_ip);
        }
        let mut client = peer_ip;
        for hop in hops.iter().rev() {
            let Some(ip) = parse_hop(hop) else { return peer_ip };
            client = ip;
            if !self.is_trusted(ip) {
                return ip;
            }
        }
        // Every hop is a trusted proxy: the leftmost one originated the request.
        client
    }

    /// The rate-limit and lockout key for the request.
    pub fn client_key(&self, peer: SocketAddr, headers: &HeaderMap) -> ClientKey {
        ClientKey::from_ip(self.client_ip(peer, headers))
    }

    /// Whether the request came straight from this machine: a loopback TCP peer, no forwarding headers,
    /// and no trusted proxies configured (a same-host proxy or tunnel would make every client look local).
    pub fn is_direct_loopback(&self, peer: SocketAddr, headers: &HeaderMap) -> bool {
        !self.has_trusted_proxies()
            && normalize(peer.ip()).is_loopback()
            && FORWARDING_HEADERS.iter().all(|name| !headers.contains_key(*name))
    }
}

/// Parses one forwarding hop: an IP, an `ip:port`, or a bracketed IPv6 with or without a port.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim().trim_matches('"');
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(normalize(ip));
    }
    if let Ok(addr) = hop.parse::<SocketAddr>() {
        return Some(normalize(addr.ip()));
    }
    hop.strip_prefix('[').and_then(|h| h.strip_suffix(']')).and_then(|h| h.parse().ok()).map(normalize)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::headers;
    use http::HeaderValue;

    fn peer(ip: &str) -> SocketAddr {
        SocketAddr::new(ip.parse().unwrap(), 4000)
    }

    fn trusting(cidrs: &[&str]) -> ClientResolver {
        ClientResolver::new(cidrs.iter().map(|c| c.parse().unwrap()).collect())
    }

    #[test]
    fn without_trusted_proxies_headers_are_ignored() {
        let r = ClientResolver::default();
        let h = headers(&[("x-forwarded-for", "203.0.113.9"), ("x-real-ip", "203.0.113.8")]);
        assert_eq!(r.client_ip(peer("10.0.0.5"), &h), "10.0.0.5".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn untrusted_peer_cannot_spoof() {
        let r = trusting(&["10.0.0.0/8"]);
        let h = headers(&[("x-forwarded-for", "127.0.0.1")]);
        assert_eq!(r.client_ip(peer("198.51.100.4"), &h), "198.51.100.4".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn rightmost_untrusted_hop_is_the_client() {
        let r = trusting(&["10.0.0.0/8"]);
        // The client claims to be 127.0.0.1; its real address was appended by our proxies.
        let h = headers(&[("x-forwarded-for", "127.0.0.1, 203.0.113.11, 10.1.1.1")]);
        assert_eq!(r.client_ip(peer("10.0.0.2"), &h), "203.0.113.11".parse::<IpAddr>().unwrap());
        // Several header lines are one list.
        let h = headers(&[("x-forwarded-for", "1.1.1.1"), ("x-forwarded-for", "203.0.113.12")]);
        assert_eq!(r.client_ip(peer("10.0.0.2"), &h), "203.0.113.12".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn garbage_stops_the_walk_at_the_peer() {
        let r = trusting(&["10.0.0.0/8"]);
        let h = headers(&[("x-forwarded-for", "203.0.113.11, not-an-ip")]);
        assert_eq!(r.client_ip(peer("10.0.0.2"), &h), "10.0.0.2".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn hop_formats_and_mapped_addresses() {
        let r = trusting(&["10.0.0.0/8"]);
        for (hop, want) in [
            ("203.0.113.5:8080", "203.0.113.5"),
            ("[2001:db8::1]:443", "2001:db8::1"),
            ("[2001:db8::2]", "2001:db8::2"),
            ("\"::ffff:203.0.113.6\"", "203.0.113.6"),
        ] {
            let mut h = HeaderMap::new();
            h.insert("x-forwarded-for", HeaderValue::from_str(hop).unwrap());
            assert_eq!(r.client_ip(peer("::ffff:10.0.0.2"), &h), want.parse::<IpAddr>().unwrap(), "{hop}");
        }
        let h = headers(&[("x-real-ip", "203.0.113.7")]);
        assert_eq!(r.client_ip(peer("10.0.0.2"), &h), "203.0.113.7".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn keys_group_ipv6_by_64() {
        let a = ClientKey::from_ip("2001:db8:1:2:aaaa::1".parse().unwrap());
        let b = ClientKey::from_ip("2001:db8:1:2:bbbb::2".parse().unwrap());
        let c = ClientKey::from_ip("2001:db8:1:3::1".parse().unwrap());
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(a.to_string(), "2001:db8:1:2::/64");
        assert_eq!(ClientKey::from_ip("::ffff:192.0.2.1".parse().unwrap()).to_string(), "192.0.2.1");
    }

    #[test]
    fn direct_loopback_needs_no_proxy_and_no_forwarding_headers() {
        let r = ClientResolver::default();
        assert!(r.is_direct_loopback(peer("127.0.0.1"), &HeaderMap::new()));
        assert!(r.is_direct_loopback(peer("::1"), &HeaderMap::new()));
        assert!(r.is_direct_loopback(peer("::ffff:127.0.0.1"), &HeaderMap::new()));
        assert!(!r.is_direct_loopback(peer("192.168.1.10"), &HeaderMap::new()));
        for name in ["x-forwarded-for", "forwarded", "x-real-ip"] {
            let mut h = HeaderMap::new();
            h.insert(name, HeaderValue::from_static("127.0.0.1"));
            assert!(!r.is_direct_loopback(peer("127.0.0.1"), &h), "{name}");
        }
        assert!(!trusting(&["127.0.0.1"]).is_direct_loopback(peer("127.0.0.1"), &HeaderMap::new()));
    }
}
