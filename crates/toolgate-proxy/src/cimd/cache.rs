//! A bounded in-memory cache of validated CIMD clients, keyed by the exact client id URL, with a
//! lifetime taken from `Cache-Control` (RFC 9111 §5.2.2) and clamped to configured bounds.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;

use crate::client::RegisteredClient;

/// What a response's `Cache-Control` allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Freshness {
    /// `no-store` or `no-cache`: do not keep (revalidation is not implemented, so `no-cache` is
    /// treated like `no-store`).
    DoNotStore,
    /// `max-age=N` (or `s-maxage=N`, which wins when both are present: this is a shared cache).
    MaxAge(u64),
    /// No usable directive.
    Unspecified,
}

impl Freshness {
    pub(crate) fn from_header(value: Option<&str>) -> Self {
        let Some(value) = value else { return Self::Unspecified };
        let mut max_age = None;
        let mut s_maxage = None;
        for directive in value.split(',') {
            let directive = directive.trim();
            let (name, argument) = match directive.split_once('=') {
                Some((name, argument)) => (name.trim(), Some(argument.trim().trim_matches('"'))),
                None => (directive, None),
            };
            let name = name.to_ascii_lowercase();
            match name.as_str() {
                "no-store" | "no-cache" | "private" => return Self::DoNotStore,
                "max-age" => max_age = argument.and_then(|a| a.parse::<u64>().ok()),
                "s-maxage" => s_maxage = argument.and_then(|a| a.parse::<u64>().ok()),
                _ => {}
            }
        }
        match s_maxage.or(max_age) {
            Some(0) => Self::DoNotStore,
            Some(seconds) => Self::MaxAge(seconds),
            None => Self::Unspecified,
        }
    }

    /// How long to keep the entry, if at all.
    pub(crate) fn ttl(self, min: Duration, max: Duration, default: Duration) -> Option<Duration> {
        match self {
            Self::DoNotStore => None,
            Self::MaxAge(seconds) => Some(Duration::from_secs(seconds).clamp(min, max.max(min))),
            Self::Unspecified => Some(default.clamp(min, max.max(min))),
        }
    }
}

struct Entry {
    client: Arc<RegisteredClient>,
    expires_at: i64,
}

pub(crate) struct CimdCache {
    entries: Mutex<HashMap<String, Entry>>,
    capacity: usize,
}

impl CimdCache {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
            capacity,
        }
    }

    pub(crate) fn get(&self, key: &str, now: i64) -> Option<Arc<RegisteredClient>> {
        let mut entries = self.entries.lock();
        match entries.get(key) {
            Some(entry) if entry.expires_at > now => Some(Arc::clone(&entry.client)),
            Some(_) => {
                entries.remove(key);
                None
            }
            None => None,
        }
    }

    /// Inserts, first dropping expired entries and then, if still full, the one expiring soonest.
    pub(crate) fn insert(&self, key: String, client: Arc<RegisteredClient>, expires_at: i64, now: i64) {
        if self.capacity == 0 {
            return;
        }
        let mut entries = self.entries.lock();
        if entries.len() >= self.capacity && !entries.contains_key(&key) {
            entries.retain(|_, entry| entry.expires_at > now);
            if entries.len() >= self.capacity {
                let soonest = entries
                    .iter()
                    .min_by_key(|(_, entry)| entry.expires_at)
                    .map(|(k, _)| k.clone());
                if let Some(soonest) = soonest {
                    entries.remove(&soonest);
                }
            }
        }
        entries.insert(key, Entry { client, expires_at });
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.lock().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::{ClientId, ClientSource};
    use crate::registration::{RegistrationPolicy, RegistrationRequest};

    const MIN: Duration = Duration::from_secs(60);
    const MAX: Duration = Duration::from_secs(86_400);
    const DEFAULT: Duration = Duration::from_secs(300);

    #[test]
    fn cache_control_parsing() {
        for (header, expected) in [
            (None, Freshness::Unspecified),
            (Some("max-age=600"), Freshness::MaxAge(600)),
            (Some("public, max-age=120"), Freshness::MaxAge(120)),
            (Some("Max-Age=\"30\""), Freshness::MaxAge(30)),
            (Some("max-age=600, s-maxage=900"), Freshness::MaxAge(900)),
            (Some("no-store"), Freshness::DoNotStore),
            (Some("max-age=600, no-store"), Freshness::DoNotStore),
            (Some("no-cache"), Freshness::DoNotStore),
            (Some("private, max-age=600"), Freshness::DoNotStore),
            (Some("max-age=0"), Freshness::DoNotStore),
            (Some("max-age=abc"), Freshness::Unspecified),
            (Some("immutable"), Freshness::Unspecified),
        ] {
            assert_eq!(Freshness::from_header(header), expected, "{header:?}");
        }
    }

    #[test]
    fn ttl_is_clamped() {
        assert_eq!(Freshness::MaxAge(1).ttl(MIN, MAX, DEFAULT), Some(MIN));
        assert_eq!(
            Freshness::MaxAge(600).ttl(MIN, MAX, DEFAULT),
            Some(Duration::from_secs(600))
        );
        assert_eq!(Freshness::MaxAge(10_000_000).ttl(MIN, MAX, DEFAULT), Some(MAX));
        assert_eq!(Freshness::Unspecified.ttl(MIN, MAX, DEFAULT), Some(DEFAULT));
        assert_eq!(Freshness::DoNotStore.ttl(MIN, MAX, DEFAULT), None);
    }

    fn client(id: &str) -> Result<Arc<RegisteredClient>, crate::RegistrationError> {
        let validated = RegistrationRequest {
            redirect_uris: Some(vec!["https://app.example.com/cb".to_owned()]),
            ..RegistrationRequest::default()
        }
        .validate(&RegistrationPolicy::default())?;
        Ok(Arc::new(RegisteredClient::from_validated(
            ClientId::new(id),
            validated,
            None,
            0,
            ClientSource::Cimd,
        )))
    }

    #[test]
    fn entries_expire_and_capacity_is_bounded() -> Result<(), crate::RegistrationError> {
        let cache = CimdCache::new(2);
        cache.insert("a".to_owned(), client("a")?, 100, 0);
        assert!(cache.get("a", 99).is_some());
        assert!(cache.get("a", 100).is_none());
        assert_eq!(cache.len(), 0);

        cache.insert("a".to_owned(), client("a")?, 100, 0);
        cache.insert("b".to_owned(), client("b")?, 200, 0);
        cache.insert("c".to_owned(), client("c")?, 300, 0);
        assert_eq!(cache.len(), 2);
        assert!(cache.get("a", 0).is_none(), "the entry expiring soonest was evicted");
        assert!(cache.get("b", 0).is_some() && cache.get("c", 0).is_some());

        let none = CimdCache::new(0);
        none.insert("a".to_owned(), client("a")?, 100, 0);
        assert_eq!(none.len(), 0);
        Ok(())
    }
}
