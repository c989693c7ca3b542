//! Metering the control plane's own work: tokens and keys issued, authentications,
//! introspections and API calls, per org, tenant and UTC day.
//!
//! Counting is an in-memory add under a mutex (no I/O on the request's path); [`Meter::flush`]
//! writes what was counted in one transaction. A server flushes every `--meter-flush-interval`
//! (10 s by default) and when it stops, so a crash loses at most the counts of the last
//! interval; the embedded mode flushes after each command. A failed flush puts the counts back,
//! so the next one writes them.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use super::billing::Metric;
use super::delta::day_of;
use crate::control::error::ControlResult;
use crate::control::store::{Store, UsageDelta};

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    org: String,
    /// Empty: the org's own usage, tied to no tenant.
    tenant: String,
    metric: Metric,
    day: i64,
}

#[derive(Debug, Clone, Copy, Default)]
struct Count {
    n: u64,
    last_at: i64,
}

/// Counts by org, then tenant, then (metric, day): looked up by `&str`, so that counting an
/// event of a known org and tenant allocates nothing.
type Pending = HashMap<String, HashMap<String, HashMap<(Metric, i64), Count>>>;

/// Counts waiting to be written.
#[derive(Debug, Default)]
pub struct Meter {
    pending: Mutex<Pending>,
}

impl Meter {
    pub fn new() -> Meter {
        Meter::default()
    }

    fn lock(&self) -> MutexGuard<'_, Pending> {
        // A panic elsewhere while holding the lock leaves counts that are still valid.
        self.pending
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Counts one `metric` event in `org` (`tenant` empty: none) at Unix time `at`.
    pub fn count(&self, org: &str, tenant: &str, metric: Metric, at: i64) {
        self.add(org, tenant, metric, at, 1);
    }

    /// Counts `n` events.
    pub fn add(&self, org: &str, tenant: &str, metric: Metric, at: i64, n: u64) {
        if n == 0 {
            return;
        }
        let mut pending = self.lock();
        let tenants = match pending.get_mut(org) {
            Some(t) => t,
            None => pending.entry(org.to_string()).or_default(),
        };
        let metrics = match tenants.get_mut(tenant) {
            Some(m) => m,
            None => tenants.entry(tenant.to_string()).or_default(),
        };
        merge(metrics.entry((metric, day_of(at))).or_default(), n, at);
    }

    /// How many (org, tenant, metric, day) counts wait to be written.
    pub fn pending(&self) -> usize {
        self.lock()
            .values()
            .flat_map(HashMap::values)
            .map(HashMap::len)
            .sum()
    }

    /// Writes every waiting count in one transaction and returns how many events it wrote.
    /// Counts for an org that no longer exists are dropped. On failure the counts are put
    /// back (added to whatever was counted meanwhile) and the error returned.
    pub fn flush<S: Store>(&self, store: &S) -> ControlResult<u64> {
        let taken: Vec<(Key, Count)> = std::mem::take(&mut *self.lock())
            .into_iter()
            .flat_map(|(org, tenants)| {
                tenants.into_iter().flat_map(move |(tenant, metrics)| {
                    let org = org.clone();
                    metrics.into_iter().map(move |((metric, day), count)| {
                        let key = Key {
                            org: org.clone(),
                            tenant: tenant.clone(),
                            metric,
                            day,
                        };
                        (key, count)
                    })
                })
            })
            .collect();
        if taken.is_empty() {
            return Ok(0);
        }
        let result = store.write(|tx| {
            let mut org_ids: HashMap<&str, Option<String>> = HashMap::new();
            let mut written = 0u64;
            let mut rows = Vec::with_capacity(taken.len());
            for (key, count) in &taken {
                let org_id = match org_ids.get(key.org.as_str()) {
                    Some(id) => id.clone(),
                    None => {
                        let id = tx.org_id(&key.org)?;
                        org_ids.insert(&key.org, id.clone());
                        id
                    }
                };
                let Some(org_id) = org_id else { continue };
                rows.push((org_id, key, count));
            }
            for (org_id, key, count) in &rows {
                let value = i64::try_from(count.n).unwrap_or(i64::MAX);
                tx.add_usage(
                    org_id,
                    &[UsageDelta {
                        tenant: &key.tenant,
                        namespace: "",
                        metric: key.metric.as_str(),
                        source: "",
                        day: key.day,
                        value,
                        at: count.last_at,
                        gauge: false,
                    }],
                )?;
                written = written.saturating_add(count.n);
            }
            Ok(written)
        });
        if result.is_err() {
            let mut pending = self.lock();
            for (key, count) in taken {
                let c = pending
                    .entry(key.org)
                    .or_default()
                    .entry(key.tenant)
                    .or_default()
                    .entry((key.metric, key.day))
                    .or_default();
                merge(c, count.n, count.last_at);
            }
        }
        result
    }
}

fn merge(c: &mut Count, n: u64, at: i64) {
    c.n = c.n.saturating_add(n);
    c.last_at = c.last_at.max(at);
}
