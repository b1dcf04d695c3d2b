//! Counting what one caller has in flight, and holding a slot until the response is sent.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Arc;

use parking_lot::Mutex;

/// At most `max` concurrent holders per key (a principal, a session's request id …). Keys with
/// nothing in flight take no memory.
#[derive(Debug)]
pub struct InFlight<K: Eq + Hash> {
    max: usize,
    counts: Mutex<HashMap<K, usize>>,
}

/// A slot, given back when dropped.
#[derive(Debug)]
pub struct Slot<K: Eq + Hash> {
    owner: Arc<InFlight<K>>,
    key: Option<K>,
}

impl<K: Eq + Hash + Clone> InFlight<K> {
    pub fn new(max: usize) -> Arc<Self> {
        Arc::new(Self {
            max: max.max(1),
            counts: Mutex::new(HashMap::new()),
        })
    }

    /// A slot for `key`, or `None` when `key` already holds `max`.
    pub fn try_acquire(self: &Arc<Self>, key: K) -> Option<Slot<K>> {
        let mut counts = self.counts.lock();
        let count = counts.entry(key.clone()).or_insert(0);
        if *count >= self.max {
            return None;
        }
        *count += 1;
        Some(Slot {
            owner: self.clone(),
            key: Some(key),
        })
    }

    /// Slots held for `key` (tests, metrics).
    pub fn held(&self, key: &K) -> usize {
        self.counts.lock().get(key).copied().unwrap_or(0)
    }
}

impl<K: Eq + Hash> Drop for Slot<K> {
    fn drop(&mut self) {
        let Some(key) = self.key.take() else { return };
        let mut counts = self.owner.counts.lock();
        if let Some(count) = counts.get_mut(&key) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                counts.remove(&key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_bounded_per_key_and_given_back() {
        let in_flight = InFlight::new(2);
        let a1 = in_flight.try_acquire("a");
        let a2 = in_flight.try_acquire("a");
        assert!(a1.is_some() && a2.is_some());
        assert!(in_flight.try_acquire("a").is_none());
        assert!(in_flight.try_acquire("b").is_some());
        drop(a1);
        assert_eq!(in_flight.held(&"a"), 1);
        assert!(in_flight.try_acquire("a").is_some());
        drop(a2);
        assert_eq!(in_flight.held(&"a"), 0);
        assert!(in_flight.counts.lock().is_empty());
    }
}
