//! Behind a reverse proxy that terminates TLS (Caddy, nginx), every request arrives from the
//! proxy's address; the client's own address is in `X-Forwarded-For`. That header is believed only
//! when the connection comes from a proxy the ward named, so a phone cannot pick its own address
//! to escape its rate limit.

use axum::http::HeaderMap;
use ipnet::IpNet;
use std::net::IpAddr;

/// The proxies whose `X-Forwarded-For` is believed (none: the header is ignored).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Trusts these addresses and networks.
    pub fn new(nets: Vec<IpNet>) -> Self {
        TrustedProxies(nets)
    }

    /// Parses "10.0.0.5", "::1" or "10.0.0.0/24".
    pub fn parse_one(text: &str) -> Result<IpNet, String> {
        let text = text.trim();
        text.parse::<IpNet>()
            .or_else(|_| text.parse::<IpAddr>().map(IpNet::from))
            .map_err(|_| format!("'{text}' is not an address or a network like 10.0.0.0/24"))
    }

    /// Whether any proxy is trusted.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `ip` is one of the trusted proxies.
    pub fn trusts(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|n| n.contains(&ip))
    }

    /// The client's address: `peer` itself, unless `peer` is a trusted proxy; then the nearest
    /// address in `X-Forwarded-For` (read from the right) that is not a trusted proxy. A header
    /// that does not parse counts as absent, and the proxy's own address is used.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = canonical(peer);
        if !self.trusts(peer) {
            return peer;
        }
        let mut hops: Vec<IpAddr> = Vec::new();
        for value in headers.get_all("x-forwarded-for") {
            let Ok(text) = value.to_str() else {
                return peer;
            };
            for part in text.split(',') {
                match part.trim().parse::<IpAddr>() {
                    Ok(ip) => hops.push(canonical(ip)),
                    Err(_) => return peer,
                }
            }
        }
        hops.into_iter()
            .rev()
            .find(|ip| !self.trusts(*ip))
            .unwrap_or(peer)
    }
}

/// IPv4 addresses seen through an IPv6 socket (::ffff:a.b.c.d) as plain IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;
    use proptest::prelude::*;

    fn proxies(list: &[&str]) -> TrustedProxies {
        TrustedProxies::new(
            list.iter()
                .map(|s| TrustedProxies::parse_one(s).unwrap())
                .collect(),
        )
    }

    fn xff(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn the_header_counts_only_from_a_trusted_proxy() {
        let p = proxies(&["10.0.0.5", "fd00::/8"]);
        let h = xff(&["203.0.113.7"]);
        assert_eq!(p.client(ip("10.0.0.5"), &h), ip("203.0.113.7"));
        assert_eq!(p.client(ip("::ffff:10.0.0.5"), &h), ip("203.0.113.7"));
        assert_eq!(p.client(ip("fd00::1"), &h), ip("203.0.113.7"));
        // Anyone else sending the header is taken at their own address.
        assert_eq!(p.client(ip("198.51.100.1"), &h), ip("198.51.100.1"));
        assert_eq!(
            TrustedProxies::default().client(ip("10.0.0.5"), &h),
            ip("10.0.0.5")
        );
    }

    #[test]
    fn a_client_cannot_hide_behind_an_address_it_wrote_itself() {
        let p = proxies(&["10.0.0.0/24"]);
        // The phone wrote "1.2.3.4"; the proxy appended the address it saw.
        let h = xff(&["1.2.3.4, 203.0.113.7"]);
        assert_eq!(p.client(ip("10.0.0.5"), &h), ip("203.0.113.7"));
        // Two proxies in a row: the nearest untrusted hop is the client.
        let h = xff(&["1.2.3.4", "203.0.113.7, 10.0.0.9"]);
        assert_eq!(p.client(ip("10.0.0.5"), &h), ip("203.0.113.7"));
    }

    #[test]
    fn a_broken_header_is_the_proxys_address() {
        let p = proxies(&["10.0.0.5"]);
        assert_eq!(p.client(ip("10.0.0.5"), &xff(&["unknown"])), ip("10.0.0.5"));
        assert_eq!(p.client(ip("10.0.0.5"), &HeaderMap::new()), ip("10.0.0.5"));
        assert!(TrustedProxies::parse_one("10.0.0.0/33").is_err());
        assert!(TrustedProxies::parse_one("proxy").is_err());
    }

    proptest! {
        #[test]
        fn the_answer_is_the_peer_or_an_untrusted_hop(
            hops in proptest::collection::vec(any::<[u8; 4]>(), 0..6),
            peer in any::<[u8; 4]>(),
        ) {
            let p = proxies(&["10.0.0.0/8"]);
            let text: Vec<String> = hops.iter().map(|h| std::net::Ipv4Addr::from(*h).to_string()).collect();
            let h = if text.is_empty() { HeaderMap::new() } else { xff(&[&text.join(", ")]) };
            let peer = IpAddr::from(peer);
            let got = p.client(peer, &h);
            prop_assert!(got == peer || (!p.trusts(got) && text.contains(&got.to_string())));
            if !p.trusts(peer) { prop_assert_eq!(got, peer); }
        }
    }
}
