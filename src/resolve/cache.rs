//! A map of values that expire, where concurrent callers for a missing key wait for one
//! computation instead of each starting their own. Errors are returned to the callers waiting
//! on that computation and are not stored.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use tokio::sync::OnceCell;

type Slot<V> = Arc<OnceCell<(V, Option<SystemTime>)>>;

pub struct SingleFlightCache<K, V> {
    slots: Mutex<HashMap<K, Slot<V>>>,
}

impl<K, V> Default for SingleFlightCache<K, V> {
    fn default() -> Self {
        SingleFlightCache {
            slots: Mutex::new(HashMap::new()),
        }
    }
}

impl<K: Eq + Hash + Clone, V: Clone> SingleFlightCache<K, V> {
    /// The value for `key` if it is valid at `now`, else the result of `compute` (which returns
    /// the value and when it stops being valid; None: never).
    pub async fn get_or_try_insert<E, F, Fut>(&self, key: K, now: SystemTime, compute: F) -> Result<V, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<(V, Option<SystemTime>), E>>,
    {
        let slot = {
            let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
            let expired = slots
                .get(&key)
                .and_then(|s| s.get())
                .is_some_and(|(_, until)| until.is_some_and(|t| t <= now));
            if expired {
                slots.remove(&key);
            }
            slots.entry(key.clone()).or_default().clone()
        };
        // `get_or_try_init` runs one computation at a time per slot; waiters get its value.
        let result = slot.get_or_try_init(compute).await.map(|(v, _)| v.clone());
        if result.is_err() {
            // Drop the empty slot so the map does not grow with failed keys.
            let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
            if slots
                .get(&key)
                .is_some_and(|s| Arc::ptr_eq(s, &slot) && s.get().is_none())
            {
                slots.remove(&key);
            }
        }
        result
    }

    /// The value for `key` if one is stored and valid at `now` (never computes).
    pub fn get<Q>(&self, key: &Q, now: SystemTime) -> Option<V>
    where
        K: std::borrow::Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        let slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        let (value, until) = slots.get(key)?.get()?;
        until.is_none_or(|t| t > now).then(|| value.clone())
    }

    pub fn remove<Q>(&self, key: &Q)
    where
        K: std::borrow::Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        self.slots.lock().unwrap_or_else(|p| p.into_inner()).remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::time::Duration;

    #[tokio::test]
    async fn concurrent_callers_share_one_computation() {
        let cache: Arc<SingleFlightCache<&str, u32>> = Arc::default();
        let runs = Arc::new(AtomicU32::new(0));
        let mut tasks = Vec::new();
        for _ in 0..20 {
            let (cache, runs) = (cache.clone(), runs.clone());
            tasks.push(tokio::spawn(async move {
                cache
                    .get_or_try_insert("k", SystemTime::now(), || async {
                        runs.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        Ok::<_, ()>((7, None))
                    })
                    .await
            }));
        }
        for t in tasks {
            assert_eq!(t.await.unwrap(), Ok(7));
        }
        assert_eq!(runs.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn expired_values_are_computed_again() {
        let cache: SingleFlightCache<&str, u32> = SingleFlightCache::default();
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1000);
        let until = Some(t0 + Duration::from_secs(10));
        assert_eq!(
            cache
                .get_or_try_insert("k", t0, || async { Ok::<_, ()>((1, until)) })
                .await,
            Ok(1)
        );
        assert_eq!(
            cache
                .get_or_try_insert("k", t0 + Duration::from_secs(5), || async { Ok::<_, ()>((2, None)) })
                .await,
            Ok(1)
        );
        assert_eq!(
            cache
                .get_or_try_insert("k", t0 + Duration::from_secs(10), || async { Ok::<_, ()>((3, None)) })
                .await,
            Ok(3)
        );
    }

    #[tokio::test]
    async fn errors_are_not_cached() {
        let cache: SingleFlightCache<&str, u32> = SingleFlightCache::default();
        let now = SystemTime::now();
        assert_eq!(
            cache
                .get_or_try_insert("k", now, || async { Err::<(u32, Option<SystemTime>), _>("boom") })
                .await,
            Err("boom")
        );
        assert_eq!(
            cache
                .get_or_try_insert("k", now, || async { Ok::<_, &str>((5, None)) })
                .await,
            Ok(5)
        );
        cache.remove("k");
        assert_eq!(
            cache
                .get_or_try_insert("k", now, || async { Ok::<_, &str>((6, None)) })
                .await,
            Ok(6)
        );
    }
}
