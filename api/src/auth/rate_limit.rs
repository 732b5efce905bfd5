//! Login throttling per client IP and per account (in memory, per process).

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::net::IpAddr;
use std::num::NonZeroU32;

/// Keyed limiters for login attempts.
pub struct LoginLimiter {
    by_ip: DefaultKeyedRateLimiter<IpAddr>,
    by_account: DefaultKeyedRateLimiter<String>,
}

impl LoginLimiter {
    /// Allows `per_ip` attempts a minute from one address and `per_account` a minute for one
    /// e-mail address, each with that many in a burst.
    pub fn new(per_ip: NonZeroU32, per_account: NonZeroU32) -> Self {
        LoginLimiter {
            by_ip: RateLimiter::keyed(Quota::per_minute(per_ip)),
            by_account: RateLimiter::keyed(Quota::per_minute(per_account)),
        }
    }

    /// Counts one attempt; `Err(seconds)` says how long until the next one is allowed.
    pub fn check(&self, ip: IpAddr, email: &str) -> Result<(), u64> {
        let clock = DefaultClock::default();
        let wait = |not_until: governor::NotUntil<_>| {
            not_until.wait_time_from(clock.now()).as_secs().max(1)
        };
        self.by_ip.check_key(&ip).map_err(wait)?;
        self.by_account.check_key(&email.to_owned()).map_err(wait)?;
        // Forget idle keys now and then so the maps stay small.
        if self.by_ip.len() > 10_000 {
            self.by_ip.retain_recent();
        }
        if self.by_account.len() > 10_000 {
            self.by_account.retain_recent();
        }
        Ok(())
    }
}
