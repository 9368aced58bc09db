//! Login attempts limited per key (a client address, a user name): a burst at once, then one
//! per period. An attempt takes its place *before* the password is checked, so a thousand
//! attempts sent at once still get only the burst's checks, and gives it back when it
//! succeeded, so only failures use the allowance up: a household behind one address logs in
//! as often as it likes. (governor, the usual crate, has no way to give a cell back.)
//!
//! Each key keeps one instant, as in GCRA: when its allowance will be whole again.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct Attempts<K> {
    burst: u32,
    period: Duration,
    /// Per key: the instant its allowance is whole again (absent: whole now).
    full_at: Mutex<HashMap<K, Instant>>,
}

/// Keys past this many are pruned of those whose allowance is whole again.
const PRUNE_ABOVE: usize = 4096;

impl<K: Hash + Eq + Clone> Attempts<K> {
    pub fn new(burst: u32, period: Duration) -> Self {
        assert!(burst > 0 && !period.is_zero());
        Attempts {
            burst,
            period,
            full_at: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one attempt for `key`, or says how long to wait for the next.
    pub fn take(&self, key: &K, now: Instant) -> Result<(), Duration> {
        let mut map = self.full_at.lock().unwrap_or_else(|e| e.into_inner());
        let from = map.get(key).copied().filter(|t| *t > now).unwrap_or(now);
        let slack = self.period * (self.burst - 1);
        let used = from - now;
        if used > slack {
            return Err(used - slack);
        }
        if map.len() >= PRUNE_ABOVE && !map.contains_key(key) {
            map.retain(|_, t| *t > now);
        }
        map.insert(key.clone(), from + self.period);
        Ok(())
    }

    /// Gives back an attempt taken for `key` (it succeeded).
    pub fn give_back(&self, key: &K, now: Instant) {
        let mut map = self.full_at.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(t) = map.get_mut(key) {
            *t = t.checked_sub(self.period).unwrap_or(now);
            if *t <= now {
                map.remove(key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PERIOD: Duration = Duration::from_secs(12);

    #[test]
    fn a_burst_then_one_per_period() {
        let attempts = Attempts::new(5, PERIOD);
        let t0 = Instant::now();
        for _ in 0..5 {
            assert_eq!(attempts.take(&"ana", t0), Ok(()));
        }
        assert_eq!(attempts.take(&"ana", t0), Err(PERIOD));
        assert_eq!(
            attempts.take(&"ana", t0 + Duration::from_secs(5)),
            Err(Duration::from_secs(7))
        );
        assert_eq!(attempts.take(&"ana", t0 + PERIOD), Ok(()));
        assert!(attempts.take(&"ana", t0 + PERIOD).is_err());
        // Other keys are not affected; after a quiet while the burst is whole again.
        assert_eq!(attempts.take(&"bo", t0), Ok(()));
        for _ in 0..5 {
            assert_eq!(attempts.take(&"ana", t0 + PERIOD * 7), Ok(()));
        }
    }

    #[test]
    fn successes_give_their_attempt_back() {
        let attempts = Attempts::new(5, PERIOD);
        let t0 = Instant::now();
        for _ in 0..100 {
            attempts.take(&"ana", t0).unwrap();
            attempts.give_back(&"ana", t0);
        }
        for _ in 0..5 {
            assert_eq!(attempts.take(&"ana", t0), Ok(()));
        }
        assert!(attempts.take(&"ana", t0).is_err());
        assert!(attempts.full_at.lock().unwrap().len() == 1);
        attempts.give_back(&"nobody", t0); // nothing taken: nothing to give back
        assert!(attempts.full_at.lock().unwrap().len() == 1);
    }

    #[test]
    fn the_table_of_keys_stays_bounded() {
        let attempts = Attempts::new(1, PERIOD);
        let t0 = Instant::now();
        for i in 0..PRUNE_ABOVE {
            attempts.take(&i, t0).unwrap();
        }
        // A new key, once every earlier one is whole again: they are dropped.
        attempts.take(&usize::MAX, t0 + PERIOD).unwrap();
        assert_eq!(attempts.full_at.lock().unwrap().len(), 1);
    }
}
