//! Token-bucket rate limits whose memory stays bounded however many clients appear: a bucket that
//! has refilled is the same as no bucket and is dropped first, and past the cap the least recently
//! seen half goes, so a flood of addresses costs at most `capacity` entries.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Instant;

/// Token-bucket limits: `burst` requests at once, refilled at `per_second`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limit {
    /// Bucket size.
    pub burst: f64,
    /// Refill rate.
    pub per_second: f64,
}

/// Buckets keyed by client address or device, at most `capacity` of them.
pub struct Buckets<K> {
    map: Mutex<HashMap<K, (f64, Instant)>>,
    capacity: usize,
}

impl<K: Hash + Eq + Clone> Buckets<K> {
    /// Empty buckets, holding at most `capacity` keys.
    pub fn new(capacity: usize) -> Self {
        Buckets {
            map: Mutex::new(HashMap::new()),
            capacity: capacity.max(2),
        }
    }

    /// Takes one token for `key` at `now`; `false` when its bucket is empty.
    pub fn take(&self, key: &K, limit: Limit, now: Instant) -> bool {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        if !map.contains_key(key) && map.len() >= self.capacity {
            evict(&mut map, limit, now, self.capacity);
        }
        let (tokens, at) = map.entry(key.clone()).or_insert((limit.burst, now));
        *tokens = (*tokens + now.saturating_duration_since(*at).as_secs_f64() * limit.per_second)
            .min(limit.burst);
        *at = now;
        if *tokens < 1.0 {
            return false;
        }
        *tokens -= 1.0;
        true
    }

    /// How many keys are held now.
    pub fn len(&self) -> usize {
        self.map.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// Whether no key is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn evict<K: Hash + Eq + Clone>(
    map: &mut HashMap<K, (f64, Instant)>,
    limit: Limit,
    now: Instant,
    capacity: usize,
) {
    // Refilled buckets hold nothing a fresh one would not.
    map.retain(|_, (tokens, at)| {
        *tokens + now.saturating_duration_since(*at).as_secs_f64() * limit.per_second < limit.burst
    });
    if map.len() >= capacity {
        let mut seen: Vec<Instant> = map.values().map(|(_, at)| *at).collect();
        let mid = seen.len() / 2;
        let (_, cut, _) = seen.select_nth_unstable(mid);
        let cut = *cut;
        map.retain(|_, (_, at)| *at > cut);
    }
}

/// The key of a client address: IPv4 as it is, IPv6 by its /64 (one subscriber's whole block).
pub fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    const L: Limit = Limit {
        burst: 3.0,
        per_second: 1.0,
    };

    #[test]
    fn a_burst_then_the_refill_rate() {
        let b = Buckets::new(10);
        let t0 = Instant::now();
        assert!((0..3).all(|_| b.take(&1u32, L, t0)));
        assert!(!b.take(&1u32, L, t0));
        assert!(b.take(&1u32, L, t0 + Duration::from_millis(1_000)));
        assert!(!b.take(&1u32, L, t0 + Duration::from_millis(1_100)));
    }

    #[test]
    fn a_million_addresses_never_hold_more_than_the_cap_and_the_honest_client_is_served_again() {
        let cap = 1_000;
        let b = Buckets::new(cap);
        let t0 = Instant::now();
        // The honest client has used its burst.
        assert!((0..3).all(|_| b.take(&u32::MAX, L, t0)));
        for i in 0..1_000_000u32 {
            let now = t0 + Duration::from_micros(i as u64);
            b.take(&i, L, now);
            assert!(b.len() <= cap);
        }
        assert!(b.len() <= cap);
        // Whatever was evicted, the client is served again once refilled.
        assert!(b.take(&u32::MAX, L, t0 + Duration::from_secs(5)));
    }

    #[test]
    fn ipv6_clients_are_keyed_by_their_64_block() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(client_key(a), client_key(b));
        assert_ne!(client_key(a), client_key(c));
        let mapped: IpAddr = "::ffff:10.1.2.3".parse().unwrap();
        assert_eq!(client_key(mapped), "10.1.2.3".parse::<IpAddr>().unwrap());
    }
}
