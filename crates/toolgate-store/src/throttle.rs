//! Rate-limit counters: GCRA (the generic cell rate algorithm, ITU-T I.371; the algorithm of
//! `governor` and `redis-cell`) kept in the state store, so every replica sharing it shares the
//! limit.
//!
//! A limit of `requests` per `period` with a `burst` admits `burst` requests at once, then one
//! every `period / requests`. The store keeps one number per key, the *theoretical arrival
//! time* (TAT, microseconds): a request at `now` is admitted when
//! `max(TAT, now) + interval - burst × interval <= now`, and then moves TAT on by one interval.
//! A refused request leaves TAT alone and learns how long until it would be admitted. The entry
//! expires when TAT has passed (the limit is back to a full burst), so an idle key costs nothing.
//!
//! [`step`] is the arithmetic; the memory backend runs it under its lock, the Redis backend runs
//! the same lines as one Lua script ([`REDIS_SCRIPT`]) on Redis's own clock, so replicas with
//! skewed clocks still agree.

use std::time::Duration;

/// A GCRA limit: `requests` per `period`, at most `burst` at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Gcra {
    /// Microseconds between two requests at the sustained rate (`period / requests`).
    interval_us: u64,
    /// Microseconds of credit a full burst holds (`burst × interval`).
    tolerance_us: u64,
}

/// A limit that cannot be enforced as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InvalidLimit {
    #[error("requests must be at least 1")]
    NoRequests,
    #[error("the period must be at least 1 second")]
    NoPeriod,
    #[error("burst must be at least 1")]
    NoBurst,
    #[error("the rate is above 1,000,000 requests per second")]
    TooFast,
    #[error("burst × period / requests is too long to count")]
    TooLong,
}

impl Gcra {
    /// `requests` per `period`, `burst` at once (usually `requests`: the whole period's worth).
    pub fn new(requests: u64, period: Duration, burst: u64) -> Result<Self, InvalidLimit> {
        if requests == 0 {
            return Err(InvalidLimit::NoRequests);
        }
        if period < Duration::from_secs(1) {
            return Err(InvalidLimit::NoPeriod);
        }
        if burst == 0 {
            return Err(InvalidLimit::NoBurst);
        }
        let period_us = u64::try_from(period.as_micros()).map_err(|_| InvalidLimit::TooLong)?;
        let interval_us = period_us / requests;
        if interval_us == 0 {
            return Err(InvalidLimit::TooFast);
        }
        let tolerance_us = interval_us.checked_mul(burst).ok_or(InvalidLimit::TooLong)?;
        // Lua numbers are doubles: keep every value exactly representable (2^53 µs ≈ 285 years).
        if tolerance_us > MAX_EXACT_US {
            return Err(InvalidLimit::TooLong);
        }
        Ok(Self {
            interval_us,
            tolerance_us,
        })
    }

    /// Time between two requests at the sustained rate.
    pub fn interval(&self) -> Duration {
        Duration::from_micros(self.interval_us)
    }

    /// How many requests are admitted at once after the key has been idle.
    pub fn burst(&self) -> u64 {
        self.tolerance_us / self.interval_us.max(1)
    }

    pub(crate) fn interval_us(&self) -> u64 {
        self.interval_us
    }

    pub(crate) fn tolerance_us(&self) -> u64 {
        self.tolerance_us
    }
}

/// Values above this lose precision in Lua's doubles.
const MAX_EXACT_US: u64 = 1 << 52;

/// What the limit said about one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Admitted,
    /// Over the limit: the same request is admitted after `retry_after`.
    Refused {
        retry_after: Duration,
    },
}

impl Verdict {
    pub fn is_admitted(&self) -> bool {
        matches!(self, Self::Admitted)
    }
}

/// One request at `now_us` against the stored TAT (`None`: no entry). Returns the verdict and,
/// when admitted, the TAT to store with the TTL `new_tat - now`.
pub(crate) fn step(tat_us: Option<u64>, now_us: u64, limit: Gcra) -> (Verdict, Option<u64>) {
    let tat = tat_us.unwrap_or(now_us).max(now_us);
    let new_tat = tat.saturating_add(limit.interval_us);
    let allow_at = new_tat.saturating_sub(limit.tolerance_us);
    if now_us < allow_at {
        let retry_after = Duration::from_micros(allow_at - now_us);
        return (Verdict::Refused { retry_after }, None);
    }
    (Verdict::Admitted, Some(new_tat))
}

/// [`step`] as one atomic Lua script on Redis's clock (`TIME`). `KEYS[1]`: the counter;
/// `ARGV[1]`: interval, `ARGV[2]`: tolerance (µs). Returns `{1, 0}` when admitted,
/// `{0, retry_after_us}` when refused. TAT is written with `%.0f` so a large double never
/// becomes `1.7e+15`.
pub(crate) const REDIS_SCRIPT: &str = r"
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local tat = tonumber(redis.call('GET', KEYS[1]))
if tat == nil or tat < now then tat = now end
local new_tat = tat + interval
local allow_at = new_tat - tolerance
if now < allow_at then
  return {0, allow_at - now}
end
local ttl = math.ceil((new_tat - now) / 1000)
if ttl < 1 then ttl = 1 end
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', ttl)
return {1, 0}
";

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn run(limit: Gcra, times: &[u64]) -> Vec<Verdict> {
        let mut tat = None;
        times
            .iter()
            .map(|&now| {
                let (verdict, new_tat) = step(tat, now, limit);
                if new_tat.is_some() {
                    tat = new_tat;
                }
                verdict
            })
            .collect()
    }

    #[test]
    fn a_full_burst_then_one_per_interval() {
        // 4 per second, burst 2: interval 250 ms.
        let limit = Gcra::new(4, Duration::from_secs(1), 2).unwrap();
        assert_eq!(limit.interval(), Duration::from_millis(250));
        assert_eq!(limit.burst(), 2);
        let verdicts = run(limit, &[0, 0, 0, 250_000, 250_000, 1_000_000, 1_000_000, 1_000_000]);
        assert_eq!(
            verdicts,
            [
                Verdict::Admitted,
                Verdict::Admitted,
                Verdict::Refused {
                    retry_after: Duration::from_millis(250)
                },
                Verdict::Admitted,
                Verdict::Refused {
                    retry_after: Duration::from_millis(250)
                },
                Verdict::Admitted,
                Verdict::Admitted,
                Verdict::Refused {
                    retry_after: Duration::from_millis(250)
                },
            ]
        );
    }

    #[test]
    fn refusals_do_not_consume_the_limit() {
        let limit = Gcra::new(1, Duration::from_secs(10), 1).unwrap();
        let verdicts = run(limit, &[0, 1, 2, 3, 10_000_000]);
        assert!(verdicts[0].is_admitted());
        assert_eq!(
            verdicts[3],
            Verdict::Refused {
                retry_after: Duration::from_micros(9_999_997)
            }
        );
        assert!(verdicts[4].is_admitted());
    }

    #[test]
    fn invalid_limits_are_named() {
        assert_eq!(Gcra::new(0, Duration::from_secs(1), 1), Err(InvalidLimit::NoRequests));
        assert_eq!(Gcra::new(1, Duration::ZERO, 1), Err(InvalidLimit::NoPeriod));
        assert_eq!(Gcra::new(1, Duration::from_secs(1), 0), Err(InvalidLimit::NoBurst));
        assert_eq!(
            Gcra::new(2_000_000, Duration::from_secs(1), 1),
            Err(InvalidLimit::TooFast)
        );
        assert_eq!(
            Gcra::new(1, Duration::from_secs(86_400 * 365), u64::MAX),
            Err(InvalidLimit::TooLong)
        );
    }
}
