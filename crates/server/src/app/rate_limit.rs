//! An in-memory token bucket per (client IP, site) for writes. It stops a script from filling a
//! site's inbox; it is not a defence against a botnet, and it resets on restart.
//!
//! The client IP is the TCP peer. `X-Forwarded-For` is deliberately not trusted: behind a
//! reverse proxy all clients share the proxy's bucket, which fails safe (too strict), whereas
//! trusting the header would let anyone pick a fresh IP per request.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Above this many buckets, full (idle) ones are dropped so memory stays bounded.
const PRUNE_ABOVE: usize = 10_000;

#[derive(Debug)]
pub struct RateLimiter {
    per_minute: u32,
    buckets: Mutex<HashMap<(IpAddr, String), Bucket>>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

impl RateLimiter {
    /// `per_minute == 0` turns limiting off.
    pub fn new(per_minute: u32) -> RateLimiter {
        RateLimiter { per_minute, buckets: Mutex::new(HashMap::new()) }
    }

    /// Takes one token, or says how long until one is available. A full bucket allows a burst of
    /// `per_minute` requests, refilled evenly over the minute.
    pub fn check(&self, ip: IpAddr, site: &str, now: Instant) -> Result<(), Duration> {
        if self.per_minute == 0 {
            return Ok(());
        }
        let capacity = f64::from(self.per_minute);
        let per_sec = capacity / 60.0;
        let mut buckets = self.buckets.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if buckets.len() > PRUNE_ABOVE {
            buckets
                .retain(|_, b| b.tokens + now.saturating_duration_since(b.updated).as_secs_f64() * per_sec < capacity);
        }
        let bucket = buckets.entry((ip, site.to_owned())).or_insert(Bucket { tokens: capacity, updated: now });
        let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * per_sec).min(capacity);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / per_sec))
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;

    #[test]
    fn bucket_allows_a_burst_then_refills() {
        let limiter = RateLimiter::new(2);
        let ip = IpAddr::V4(Ipv4Addr::LOCALHOST);
        let t0 = Instant::now();
        assert!(limiter.check(ip, "demo", t0).is_ok());
        assert!(limiter.check(ip, "demo", t0).is_ok());
        let wait = limiter.check(ip, "demo", t0).unwrap_err();
        assert_eq!(wait.as_secs(), 30);
        // Another site has its own bucket.
        assert!(limiter.check(ip, "other", t0).is_ok());
        assert!(limiter.check(ip, "demo", t0 + Duration::from_secs(30)).is_ok());
    }

    #[test]
    fn zero_means_off() {
        let limiter = RateLimiter::new(0);
        for _ in 0..1000 {
            assert!(limiter.check(IpAddr::V4(Ipv4Addr::LOCALHOST), "demo", Instant::now()).is_ok());
        }
    }
}
