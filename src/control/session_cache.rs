//! A short-lived in-process cache of session rows, keyed by the token's HMAC, so that a
//! burst of requests with one session costs one lookup instead of one per request.
//!
//! Only lookups that found a session are cached, for at most the cache's TTL
//! (`tok server start --session-cache`, default [`DEFAULT_TTL`], `0s` turns it off); every rule
//! (expiry, the sliding window, the absolute cap) is still evaluated on each request
//! against the clock. A session this server ends (logout, password change, user deleted)
//! leaves the cache at once; one ended by another replica sharing the database stops
//! working here within the TTL. A rejection is never served from the cache: an
//! entry that looks expired is looked up again before the request is refused.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::model::{PrincipalKind, Session};

/// How long a looked-up session row is reused unless configured otherwise.
pub const DEFAULT_TTL: Duration = Duration::from_secs(1);
/// Entries kept before stale ones are swept out (and all of them, if none is stale).
const MAX_ENTRIES: usize = 100_000;

pub struct SessionCache {
    ttl: Duration,
    entries: Mutex<HashMap<Vec<u8>, (Session, Instant)>>,
    /// Moves on every forget: a row read before a forget is not cached after it (it may
    /// hold the grants, or the session, the forget was for).
    generation: AtomicU64,
}

impl SessionCache {
    /// A cache that reuses rows for `ttl` (zero: never).
    pub fn new(ttl: Duration) -> SessionCache {
        SessionCache {
            ttl,
            entries: Mutex::new(HashMap::new()),
            generation: AtomicU64::new(0),
        }
    }

    /// Read before looking a row up, and passed to [`SessionCache::put`].
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    fn moved(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// The cached row for `digest`, if it was looked up less than the TTL before `now`.
    pub fn get(&self, digest: &[u8], now: Instant) -> Option<Session> {
        let entries = self.entries.lock().ok()?;
        entries
            .get(digest)
            .filter(|(_, at)| now.saturating_duration_since(*at) < self.ttl)
            .map(|(s, _)| s.clone())
    }

    /// Keeps a row looked up at `now`, unless something was forgotten since `generation`
    /// (read before the lookup): the row may be what was forgotten.
    pub fn put(&self, digest: Vec<u8>, session: Session, now: Instant, generation: u64) {
        if self.ttl.is_zero() {
            return;
        }
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        // Checked under the lock that every forget takes, so none can slip in between.
        if self.generation() != generation {
            return;
        }
        if entries.len() >= MAX_ENTRIES {
            let ttl = self.ttl;
            entries.retain(|_, (_, at)| now.saturating_duration_since(*at) < ttl);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(digest, (session, now));
    }

    #[cfg(test)]
    fn entries(&self) -> usize {
        self.entries.lock().map_or(0, |e| e.len())
    }

    /// Records a slid expiry written for `digest`.
    pub fn slid(&self, digest: &[u8], expires_at: i64) {
        if let Ok(mut entries) = self.entries.lock()
            && let Some((s, _)) = entries.get_mut(digest)
        {
            s.expires_at = s.expires_at.max(expires_at);
        }
    }

    pub fn forget(&self, digest: &[u8]) {
        if let Ok(mut entries) = self.entries.lock() {
            self.moved();
            entries.remove(digest);
        }
    }

    /// Forgets every session of one principal (password change, user deleted or
    /// disabled, roles changed, application token revoked).
    pub fn forget_principal(&self, org: &str, kind: PrincipalKind, name: &str) {
        if let Ok(mut entries) = self.entries.lock() {
            self.moved();
            entries.retain(|_, (s, _)| {
                !(s.org == org && s.principal_kind == kind && s.principal_name == name)
            });
        }
    }

    /// Forgets every row (a role's policy changed: any session may hold it).
    pub fn clear(&self) {
        if let Ok(mut entries) = self.entries.lock() {
            self.moved();
            entries.clear();
        }
    }

    /// Forgets one session by id.
    pub fn forget_session(&self, session_id: &str) {
        if let Ok(mut entries) = self.entries.lock() {
            self.moved();
            entries.retain(|_, (s, _)| s.id != session_id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(id: &str, user: &str, org: &str) -> Session {
        Session {
            id: id.into(),
            principal_kind: PrincipalKind::User,
            principal_id: format!("usr-{user}"),
            principal_name: user.into(),
            org: org.into(),
            created_at: 0,
            expires_at: 1800,
            max_expires_at: 43_200,
            last_used_at: 0,
            grants: Default::default(),
        }
    }

    #[test]
    fn rows_are_reused_only_within_the_ttl() {
        let cache = SessionCache::new(Duration::from_secs(1));
        let t0 = Instant::now();
        cache.put(
            b"a".to_vec(),
            session("s1", "alice", "acme"),
            t0,
            cache.generation(),
        );
        assert!(cache.get(b"a", t0).is_some());
        assert!(cache.get(b"a", t0 + Duration::from_millis(999)).is_some());
        assert!(cache.get(b"a", t0 + Duration::from_secs(1)).is_none());
        assert!(cache.get(b"b", t0).is_none());
    }

    #[test]
    fn a_zero_ttl_caches_nothing() {
        let cache = SessionCache::new(Duration::ZERO);
        let t0 = Instant::now();
        cache.put(
            b"a".to_vec(),
            session("s1", "alice", "acme"),
            t0,
            cache.generation(),
        );
        assert!(cache.get(b"a", t0).is_none());
        assert_eq!(cache.entries(), 0);
    }

    #[test]
    fn forgetting_removes_exactly_the_named_sessions() {
        let cache = SessionCache::new(Duration::from_secs(1));
        let t0 = Instant::now();
        cache.put(
            b"a".to_vec(),
            session("s1", "alice", "acme"),
            t0,
            cache.generation(),
        );
        cache.put(
            b"b".to_vec(),
            session("s2", "alice", "acme"),
            t0,
            cache.generation(),
        );
        cache.put(
            b"c".to_vec(),
            session("s3", "alice", "other"),
            t0,
            cache.generation(),
        );
        cache.put(
            b"d".to_vec(),
            session("s4", "bob", "acme"),
            t0,
            cache.generation(),
        );
        cache.forget_principal("acme", PrincipalKind::Application, "alice");
        assert!(cache.get(b"a", t0).is_some(), "same name, another kind");
        cache.forget_principal("acme", PrincipalKind::User, "alice");
        assert!(cache.get(b"a", t0).is_none() && cache.get(b"b", t0).is_none());
        assert!(cache.get(b"c", t0).is_some(), "same name, other org");
        cache.forget_session("s4");
        assert!(cache.get(b"d", t0).is_none());
        cache.forget(b"c");
        assert_eq!(cache.entries(), 0);
        // A row read before a forget is not kept after it.
        let read_at = cache.generation();
        cache.forget_principal("acme", PrincipalKind::User, "carol");
        cache.put(b"c".to_vec(), session("s3", "carol", "acme"), t0, read_at);
        assert_eq!(
            cache.entries(),
            0,
            "the forget came between the read and the put"
        );
        cache.put(
            b"e".to_vec(),
            session("s5", "carol", "acme"),
            t0,
            cache.generation(),
        );
        cache.clear();
        assert_eq!(cache.entries(), 0);
    }

    #[test]
    fn a_slide_only_moves_the_expiry_forward() {
        let cache = SessionCache::new(Duration::from_secs(1));
        let t0 = Instant::now();
        cache.put(
            b"a".to_vec(),
            session("s1", "alice", "acme"),
            t0,
            cache.generation(),
        );
        cache.slid(b"a", 3600);
        assert_eq!(cache.get(b"a", t0).unwrap().expires_at, 3600);
        cache.slid(b"a", 100);
        assert_eq!(cache.get(b"a", t0).unwrap().expires_at, 3600);
    }

    #[test]
    fn a_full_cache_sweeps_stale_rows_first() {
        let cache = SessionCache::new(Duration::from_secs(1));
        let t0 = Instant::now();
        for i in 0..MAX_ENTRIES {
            cache.put(
                i.to_le_bytes().to_vec(),
                session("s", "u", "o"),
                t0,
                cache.generation(),
            );
        }
        let later = t0 + Duration::from_secs(2);
        cache.put(
            b"fresh".to_vec(),
            session("s", "u", "o"),
            later,
            cache.generation(),
        );
        assert_eq!(cache.entries(), 1, "every stale row went");
        assert!(cache.get(b"fresh", later).is_some());
    }
}
