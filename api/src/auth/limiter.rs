//! Limits on failed sign-ins, per client id and per network address: token buckets kept in
//! memory by each instance. A caller whose bucket is empty is answered 429 with `Retry-After`
//! before any secret is hashed, so guessing costs the service nothing once limited.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Instant;

/// How many failures a key may have at once, and how fast they are forgiven.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    /// Failures allowed in a burst.
    pub burst: f64,
    /// Failures forgiven per second.
    pub per_second: f64,
}

/// Failures of one client id: 10 at once, then one every 6 seconds.
pub const PER_CLIENT: Limit = Limit {
    burst: 10.0,
    per_second: 1.0 / 6.0,
};
/// Failures from one address: 30 at once, then one every 2 seconds.
pub const PER_ADDRESS: Limit = Limit {
    burst: 30.0,
    per_second: 0.5,
};

/// Keys kept before the buckets that are full again are forgotten.
const MAX_KEYS: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// The failed sign-ins of every client id and address.
#[derive(Debug, Default)]
pub struct SignInLimits {
    buckets: Mutex<HashMap<String, Bucket>>,
}

/// The keys a sign-in is limited by. An IPv6 address is limited by its /64, the block one
/// subscriber holds: its 2^64 addresses are one caller's.
pub fn keys(client_id: &str, address: Option<IpAddr>) -> Vec<(String, Limit)> {
    let mut keys = vec![(format!("client:{client_id}"), PER_CLIENT)];
    match address {
        Some(IpAddr::V6(ip)) if ip.to_ipv4_mapped().is_none() => {
            let [a, b, c, d, ..] = ip.segments();
            keys.push((format!("ip:{a:x}:{b:x}:{c:x}:{d:x}::/64"), PER_ADDRESS));
        }
        Some(ip) => keys.push((format!("ip:{}", ip.to_canonical()), PER_ADDRESS)),
        None => {}
    }
    keys
}

/// The address a sign-in comes from: the connection's peer, or, when the peer is one of
/// `trusted` proxies, the nearest address its `X-Forwarded-For` headers name that is not one of
/// them (read right to left: what a client writes itself stands to the left of what the
/// proxies add). Behind a load balancer every connection's peer is the balancer, and one caller
/// out of its failures would have stopped every sign-in.
pub fn client_address<'h>(
    peer: Option<IpAddr>,
    forwarded_for: impl DoubleEndedIterator<Item = &'h str>,
    trusted: &[IpAddr],
) -> Option<IpAddr> {
    let peer = peer?;
    if !trusted.contains(&peer.to_canonical()) {
        return Some(peer);
    }
    let mut nearest = peer;
    for entry in forwarded_for.rev().flat_map(|h| h.rsplit(',')) {
        // A bare address, or one with its port (`203.0.113.7:4711`, `[2001:db8::7]:4711`), as
        // some balancers write it.
        let entry = entry.trim();
        let Some(ip) = entry
            .parse::<IpAddr>()
            .ok()
            .or_else(|| entry.parse::<std::net::SocketAddr>().ok().map(|a| a.ip()))
        else {
            // Not an address: what lies to its left cannot be trusted either.
            break;
        };
        nearest = ip;
        if !trusted.contains(&ip.to_canonical()) {
            break;
        }
    }
    Some(nearest)
}

impl SignInLimits {
    /// `Err(seconds)` when any of `keys` has no failure left: the caller retries after that long.
    pub fn check(&self, keys: &[(String, Limit)], now: Instant) -> Result<(), u64> {
        let buckets = self.lock();
        let mut wait: f64 = 0.0;
        for (key, limit) in keys {
            if let Some(b) = buckets.get(key) {
                let tokens = refill(*b, *limit, now);
                if tokens < 1.0 {
                    wait = wait.max((1.0 - tokens) / limit.per_second);
                }
            }
        }
        if wait > 0.0 {
            // Whole seconds, rounded up: never zero.
            Err((wait.ceil() as u64).max(1))
        } else {
            Ok(())
        }
    }

    /// Counts a failed sign-in against every one of `keys`.
    pub fn fail(&self, keys: &[(String, Limit)], now: Instant) {
        let mut buckets = self.lock();
        if buckets.len() >= MAX_KEYS {
            let limit_of = |key: &str| {
                if key.starts_with("ip:") {
                    PER_ADDRESS
                } else {
                    PER_CLIENT
                }
            };
            buckets.retain(|key, b| refill(*b, limit_of(key), now) < limit_of(key).burst);
        }
        for (key, limit) in keys {
            let bucket = buckets.entry(key.clone()).or_insert(Bucket {
                tokens: limit.burst,
                at: now,
            });
            bucket.tokens = refill(*bucket, *limit, now) - 1.0;
            bucket.at = now;
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Bucket>> {
        // A panic while holding the lock leaves the counts usable.
        self.buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn refill(b: Bucket, limit: Limit, now: Instant) -> f64 {
    let elapsed = now.saturating_duration_since(b.at).as_secs_f64();
    (b.tokens + elapsed * limit.per_second).min(limit.burst)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_client_is_limited_after_its_burst_and_forgiven_over_time() {
        let limits = SignInLimits::default();
        let keys = keys("vendor", Some("10.0.0.1".parse().unwrap()));
        let t0 = Instant::now();
        for _ in 0..10 {
            assert!(limits.check(&keys, t0).is_ok());
            limits.fail(&keys, t0);
        }
        // Ten failures: the eleventh attempt waits for one to be forgiven (6 s).
        assert_eq!(limits.check(&keys, t0), Err(6));
        assert_eq!(limits.check(&keys, t0 + Duration::from_secs(3)), Err(3));
        assert!(limits.check(&keys, t0 + Duration::from_secs(6)).is_ok());
        // Another client from the same address is not limited by the first one's failures.
        let other = super::keys("other", Some("10.0.0.1".parse().unwrap()));
        assert!(limits.check(&other, t0).is_ok());
    }

    #[test]
    fn behind_a_trusted_proxy_the_forwarded_address_is_the_callers() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let proxies = [ip("10.0.0.5"), ip("10.0.0.6")];
        let of = |peer: &str, headers: &[&str]| {
            client_address(Some(ip(peer)), headers.iter().copied(), &proxies)
        };
        // Not from a proxy: the peer, whatever it claims.
        assert_eq!(
            of("203.0.113.9", &["198.51.100.1"]),
            Some(ip("203.0.113.9"))
        );
        // From a proxy: the nearest address it did not add itself; what the client wrote to
        // the left is not believed.
        assert_eq!(
            of("10.0.0.5", &["1.2.3.4, 198.51.100.7"]),
            Some(ip("198.51.100.7"))
        );
        assert_eq!(
            of("10.0.0.5", &["1.2.3.4", "198.51.100.7, 10.0.0.6"]),
            Some(ip("198.51.100.7"))
        );
        // Nothing forwarded, or nonsense: the proxy itself.
        assert_eq!(of("10.0.0.5", &[]), Some(ip("10.0.0.5")));
        assert_eq!(of("10.0.0.5", &["unknown"]), Some(ip("10.0.0.5")));
        assert_eq!(
            of("::ffff:10.0.0.5", &["198.51.100.8"]),
            Some(ip("198.51.100.8"))
        );
        // With their ports, as some balancers write them.
        assert_eq!(
            of("10.0.0.5", &["198.51.100.9:4711"]),
            Some(ip("198.51.100.9"))
        );
        assert_eq!(
            of("10.0.0.5", &["[2001:db8::9]:4711, 10.0.0.6:80"]),
            Some(ip("2001:db8::9"))
        );
    }

    #[test]
    fn an_ipv6_caller_is_one_address_across_its_64() {
        let limits = SignInLimits::default();
        let t0 = Instant::now();
        for i in 0..30 {
            let address = format!("2001:db8:1:2::{:x}", i + 1).parse().ok();
            limits.fail(&keys(&format!("guess-{i}"), address), t0);
        }
        let same_block = keys("never-tried", "2001:db8:1:2:ffff::1".parse().ok());
        assert!(limits.check(&same_block, t0).is_err());
        let next_block = keys("never-tried", "2001:db8:1:3::1".parse().ok());
        assert!(limits.check(&next_block, t0).is_ok());
    }

    #[test]
    fn an_address_is_limited_across_client_ids() {
        let limits = SignInLimits::default();
        let t0 = Instant::now();
        for i in 0..30 {
            let k = keys(&format!("guess-{i}"), Some("10.0.0.2".parse().unwrap()));
            limits.fail(&k, t0);
        }
        let fresh = keys("never-tried", Some("10.0.0.2".parse().unwrap()));
        assert_eq!(limits.check(&fresh, t0), Err(2));
        let elsewhere = keys("never-tried", Some("10.0.0.3".parse().unwrap()));
        assert!(limits.check(&elsewhere, t0).is_ok());
    }
}
