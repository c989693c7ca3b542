//! Session and login rules (`auth.rs`, `users.rs`) over the test store (`test_store`), with
//! the clock passed in: nothing here sleeps. The one test that reads the SQLite file itself
//! opens a `SqliteStore` by name.

use std::fmt::Debug;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::auth::{self, AuthPolicy, LOGIN_FAILED, Principal};
use super::opaque::{self, Kind};
use super::sqlite::SqliteStore;
use super::test_store::{self, TestStore};
use super::*;
use crate::duration::rfc3339;

const NOW: i64 = 1_800_000_000;
const USER: &str = "alice";
const PASSWORD: &str = "correct horse battery";
const WRONG: &str = "incorrect horse battery";

/// A control plane over `store` with its org created (no instance: users need none, and
/// generating a signing key would only slow the tests down).
fn plane_over<S: Store>(store: S) -> ControlPlane<S> {
    let sealer = Sealer::from_encoded(&Sealer::generate_master_key().unwrap()).unwrap();
    let cp = ControlPlane::new(store, MasterKey::ready(sealer), LOCAL_ORG, "local:test");
    cp.bootstrap(None, NOW).unwrap();
    cp
}

fn db_path(dir: &tempfile::TempDir) -> std::path::PathBuf {
    dir.path().join("tok.db")
}

/// A plane over a fresh test store in `dir` with the user `alice`.
fn plane(dir: &tempfile::TempDir) -> ControlPlane<TestStore> {
    let cp = plane_over(test_store::open(dir.path()));
    cp.create_user(USER, PASSWORD, &[], NOW).unwrap();
    cp
}

/// A plane over a SQLite file at `db_path(dir)` with the user `alice`, for the test that
/// reads the file.
fn sqlite_plane(dir: &tempfile::TempDir) -> ControlPlane<SqliteStore> {
    let cp = plane_over(SqliteStore::open(&db_path(dir)).unwrap());
    cp.create_user(USER, PASSWORD, &[], NOW).unwrap();
    cp
}

fn pepper<S: Store>(cp: &ControlPlane<S>) -> Vec<u8> {
    cp.master().get().unwrap().pepper().to_vec()
}

fn login_at<S: Store>(
    cp: &ControlPlane<S>,
    username: &str,
    password: &str,
    now: i64,
) -> ControlResult<(String, Session)> {
    let policy = AuthPolicy::default();
    auth::login(
        cp.store(),
        &pepper(cp),
        &policy,
        username,
        password,
        None,
        now,
    )
}

fn auth_at<S: Store>(cp: &ControlPlane<S>, token: &str, now: i64) -> ControlResult<Principal> {
    auth::authenticate(cp.store(), &pepper(cp), &AuthPolicy::default(), token, now)
}

/// The code and message of an `Unauthenticated` error; anything else fails the test.
fn unauthenticated<T: Debug>(r: ControlResult<T>) -> (&'static str, String) {
    match r {
        Err(ControlError::Unauthenticated { code, message, .. }) => (code, message),
        other => panic!("expected Unauthenticated, got {other:?}"),
    }
}

fn code_of<T: Debug>(r: ControlResult<T>) -> &'static str {
    unauthenticated(r).0
}

#[test]
fn the_policy_defaults_are_the_documented_ones() {
    let p = AuthPolicy::default();
    assert_eq!(p.session_ttl, 1800);
    assert_eq!(p.session_max_lifetime, 43_200);
    assert_eq!(p.lockout_threshold, 5);
    assert_eq!(p.lockout_secs, 900);
    assert_eq!(p.slide_granularity(), 18);
}

#[test]
fn a_session_slides_with_use_and_lapses_after_the_ttl_without_use() {
    let dir = tempfile::tempdir().unwrap();
    let cp = plane(&dir);
    let (token, session) = login_at(&cp, USER, PASSWORD, NOW).unwrap();
    assert_eq!(session.created_at, NOW);
    assert_eq!(session.expires_at, NOW + 1800);
    assert_eq!(session.max_expires_at, NOW + 43_200);
    assert_eq!(session.principal_name, USER);
    assert_eq!(session.org, LOCAL_ORG);

    // One second before it lapses, a use extends it to 30 minutes after that use.
    let used = NOW + 29 * 60 + 59;
    let p = auth_at(&cp, &token, used).unwrap();
    assert_eq!(p.expires_at.unwrap(), NOW + (29 * 60 + 59) + 30 * 60);
    assert_eq!(p.expires_at.unwrap(), used + 1800);
    assert_eq!(p.max_expires_at.unwrap(), NOW + 43_200);
    assert_eq!(p.session_id.as_deref(), Some(session.id.as_str()));
    assert_eq!(p.name, USER);
    assert_eq!(p.org, LOCAL_ORG);

    // 30 minutes and a second without use: expired, and the message says so.
    let (code, message) = unauthenticated(auth_at(&cp, &token, used + 30 * 60 + 1));
    assert_eq!(code, "session_expired");
    assert_eq!(
        message,
        format!(
            "the session expired after a period without use at {}",
            rfc3339(used + 1800).unwrap()
        )
    );
    // A failed use does not revive it.
    assert_eq!(
        code_of(auth_at(&cp, &token, used + 1800)),
        "session_expired"
    );

    // Without any use in between, the session lapses exactly at login + TTL...
    let (token, _) = login_at(&cp, USER, PASSWORD, NOW).unwrap();
    let (code, message) = unauthenticated(auth_at(&cp, &token, NOW + 1800));
    assert_eq!(code, "session_expired");
    assert!(
        message.contains("expired after a period without use"),
        "{message}"
    );
    // ...and is still good one second before.
    let (token, _) = login_at(&cp, USER, PASSWORD, NOW).unwrap();
    let p = auth_at(&cp, &token, NOW + 1800 - 1).unwrap();
    assert_eq!(p.expires_at.unwrap(), NOW + 1799 + 1800);
}

#[test]
fn no_use_extends_a_session_past_its_maximum_lifetime() {
    let dir = tempfile::tempdir().unwrap();
    let cp = plane(&dir);
    let (token, session) = login_at(&cp, USER, PASSWORD, NOW).unwrap();
    let max = NOW + 43_200;
    assert_eq!(session.max_expires_at, max);

    let mut uses = 0;
    let mut last_expiry = session.expires_at;
    let mut t = NOW;
    while t < max {
        let p = auth_at(&cp, &token, t)
            .unwrap_or_else(|e| panic!("use at NOW+{} failed: {e}", t - NOW));
        assert_eq!(p.max_expires_at.unwrap(), max);
        assert!(
            p.expires_at.unwrap() <= max,
            "NOW+{}: {}",
            t - NOW,
            p.expires_at.unwrap() - NOW
        );
        assert_eq!(
            p.expires_at.unwrap(),
            (t + 1800).min(max),
            "use at NOW+{}",
            t - NOW
        );
        assert!(p.expires_at.unwrap() >= last_expiry);
        last_expiry = p.expires_at.unwrap();
        uses += 1;
        t += 20 * 60;
    }
    assert_eq!(uses, 36); // NOW, NOW+20m, ..., NOW+11h40m
    assert_eq!(t, max);
    assert_eq!(last_expiry, max);

    let (code, message) = unauthenticated(auth_at(&cp, &token, max));
    assert_eq!(code, "session_expired");
    assert!(message.contains("maximum lifetime"), "{message}");
    assert_eq!(
        message,
        format!(
            "the session reached its maximum lifetime at {}",
            rfc3339(max).unwrap()
        )
    );
}

/// Counts the transactions a rule opens, delegating them to the test store.
struct CountingStore {
    inner: TestStore,
    reads: AtomicUsize,
    writes: AtomicUsize,
}

impl CountingStore {
    fn open(dir: &std::path::Path) -> Self {
        CountingStore {
            inner: test_store::open(dir),
            reads: AtomicUsize::new(0),
            writes: AtomicUsize::new(0),
        }
    }

    fn reads(&self) -> usize {
        self.reads.load(Ordering::SeqCst)
    }

    fn writes(&self) -> usize {
        self.writes.load(Ordering::SeqCst)
    }

    fn reset(&self) {
        self.reads.store(0, Ordering::SeqCst);
        self.writes.store(0, Ordering::SeqCst);
    }
}

impl Store for CountingStore {
    fn write<T>(&self, f: impl FnOnce(&mut dyn Tx) -> ControlResult<T>) -> ControlResult<T> {
        self.writes.fetch_add(1, Ordering::SeqCst);
        self.inner.write(f)
    }

    fn read<T>(&self, f: impl FnOnce(&mut dyn Tx) -> ControlResult<T>) -> ControlResult<T> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        self.inner.read(f)
    }
}

fn counting_plane(dir: &tempfile::TempDir) -> ControlPlane<CountingStore> {
    let cp = plane_over(CountingStore::open(dir.path()));
    cp.create_user(USER, PASSWORD, &[], NOW).unwrap();
    cp.store().reset();
    cp
}

#[test]
fn a_small_slide_is_not_written() {
    let dir = tempfile::tempdir().unwrap();
    let cp = counting_plane(&dir);
    let (token, _) = login_at(&cp, USER, PASSWORD, NOW).unwrap();

    // First use a minute after login: the expiry moves 60 s (>= 18 s), so it is written.
    cp.store().reset();
    let first = auth_at(&cp, &token, NOW + 60).unwrap();
    assert_eq!(first.expires_at.unwrap(), NOW + 60 + 1800);
    assert_eq!((cp.store().reads(), cp.store().writes()), (1, 1));

    // Second use 5 s later: the slide would be 5 s, below the granularity of 1% of the
    // TTL (18 s), so nothing is written and the stored expiry is returned unchanged. This
    // is what lets a burst of requests cost one write instead of one each; the price is
    // that a session may lapse up to 17 s earlier than "30 minutes after the last use".
    cp.store().reset();
    let second = auth_at(&cp, &token, NOW + 65).unwrap();
    assert_eq!(second.expires_at.unwrap(), first.expires_at.unwrap());
    assert_eq!(second.expires_at.unwrap(), NOW + 60 + 1800);
    assert_eq!((cp.store().reads(), cp.store().writes()), (1, 0));

    // The stored row still holds the first use.
    let digest = opaque::digest(&pepper(&cp), &token);
    let stored = cp.store().read(|tx| tx.session(&digest)).unwrap().unwrap();
    let (expires_at, last_used_at) = (stored.expires_at, stored.last_used_at);
    assert_eq!((expires_at, last_used_at), (NOW + 60 + 1800, NOW + 60));

    // 17 s after the written use: still no write; 18 s after it: written.
    cp.store().reset();
    assert_eq!(
        auth_at(&cp, &token, NOW + 77).unwrap().expires_at,
        Some(NOW + 1860)
    );
    assert_eq!(cp.store().writes(), 0);
    assert_eq!(
        auth_at(&cp, &token, NOW + 78).unwrap().expires_at,
        Some(NOW + 1878)
    );
    assert_eq!(cp.store().writes(), 1);
}

#[test]
fn repeated_failures_lock_the_account_and_a_success_resets_the_count() {
    let dir = tempfile::tempdir().unwrap();
    let cp = plane(&dir);

    // Unknown users fail exactly like wrong passwords.
    let (code, message) = unauthenticated(login_at(&cp, "mallory", PASSWORD, NOW));
    assert_eq!(
        (code, message.as_str()),
        ("invalid_credentials", LOGIN_FAILED)
    );

    for i in 1..=5 {
        let (code, message) = unauthenticated(login_at(&cp, USER, WRONG, NOW + i));
        assert_eq!(
            (code, message.as_str()),
            ("invalid_credentials", LOGIN_FAILED),
            "attempt {i}"
        );
        let user = cp.user(USER).unwrap();
        if i < 5 {
            assert_eq!(
                (user.failed_logins, user.locked_until),
                (i, None),
                "attempt {i}"
            );
        }
    }
    let fifth = NOW + 5;
    let user = cp.user(USER).unwrap();
    assert_eq!(user.locked_until, Some(fifth + 900));

    // The right password inside the lock fails exactly like a wrong one.
    let (code, message) = unauthenticated(login_at(&cp, USER, PASSWORD, fifth + 1));
    assert_eq!(
        (code, message.as_str()),
        ("invalid_credentials", LOGIN_FAILED)
    );
    // A wrong password during the lock does not extend it.
    assert_eq!(
        code_of(login_at(&cp, USER, WRONG, fifth + 2)),
        "invalid_credentials"
    );
    assert_eq!(cp.user(USER).unwrap().locked_until, Some(fifth + 900));
    let (code, message) = unauthenticated(login_at(&cp, USER, PASSWORD, fifth + 899));
    assert_eq!(
        (code, message.as_str()),
        ("invalid_credentials", LOGIN_FAILED)
    );

    // At the end of the lock the right password works.
    let unlocked = fifth + 900;
    let (token, _) = login_at(&cp, USER, PASSWORD, unlocked).unwrap();
    auth_at(&cp, &token, unlocked + 1).unwrap();
    let user = cp.user(USER).unwrap();
    assert_eq!((user.failed_logins, user.locked_until), (0, None));

    // Four failures, then a success: the success resets the count, so four more
    // failures still do not lock.
    for i in 1..=4 {
        assert_eq!(
            code_of(login_at(&cp, USER, WRONG, unlocked + 10 + i)),
            "invalid_credentials"
        );
    }
    assert_eq!(cp.user(USER).unwrap().failed_logins, 4);
    login_at(&cp, USER, PASSWORD, unlocked + 20).unwrap();
    let user = cp.user(USER).unwrap();
    assert_eq!((user.failed_logins, user.locked_until), (0, None));

    let locks = cp
        .audit(0)
        .unwrap()
        .into_iter()
        .filter(|a| a.action == "user.lock")
        .count();
    assert_eq!(locks, 1);
}

#[test]
fn set_password_ends_sessions_unlocks_and_applies_the_policy() {
    let dir = tempfile::tempdir().unwrap();
    let cp = plane(&dir);
    let (token, _) = login_at(&cp, USER, PASSWORD, NOW).unwrap();
    auth_at(&cp, &token, NOW + 1).unwrap();

    // Lock the account.
    for i in 1..=5 {
        assert_eq!(
            code_of(login_at(&cp, USER, WRONG, NOW + 10 + i)),
            "invalid_credentials"
        );
    }
    assert_eq!(cp.user(USER).unwrap().locked_until, Some(NOW + 15 + 900));

    let new_password = "staple battery horse correct";
    assert_eq!(cp.set_password(USER, new_password, NOW + 20).unwrap(), 1);
    assert_eq!(code_of(auth_at(&cp, &token, NOW + 21)), "unknown_session");
    let user = cp.user(USER).unwrap();
    assert_eq!((user.failed_logins, user.locked_until), (0, None));
    // Inside what was the lock window, the new password works and the old one does not.
    assert_eq!(
        code_of(login_at(&cp, USER, PASSWORD, NOW + 22)),
        "invalid_credentials"
    );
    let (token, _) = login_at(&cp, USER, new_password, NOW + 23).unwrap();
    auth_at(&cp, &token, NOW + 24).unwrap();

    // The policy: too short, or the username (ignoring case and surrounding spaces).
    assert!(matches!(
        cp.set_password(USER, "short", NOW + 30),
        Err(ControlError::Invalid(m)) if m.contains("at least 12")
    ));
    assert!(matches!(
        cp.set_password(USER, "elevenchars", NOW + 30),
        Err(ControlError::Invalid(_))
    ));
    let long_name = "alice-the-admin";
    cp.create_user(long_name, PASSWORD, &[], NOW).unwrap();
    for bad in [long_name, "Alice-The-Admin", " alice-the-admin "] {
        assert!(
            matches!(
                cp.set_password(long_name, bad, NOW + 30),
                Err(ControlError::Invalid(ref m)) if m.contains("username")
            ),
            "{bad:?}"
        );
    }
    assert!(matches!(
        cp.create_user("bob-the-builder", "Bob-The-Builder", &[], NOW),
        Err(ControlError::Invalid(_))
    ));
    // A refused change changes nothing: the session survives, the password stands.
    auth_at(&cp, &token, NOW + 31).unwrap();
    login_at(&cp, USER, new_password, NOW + 32).unwrap();
}

#[test]
fn deleting_a_user_ends_its_sessions_but_the_last_user_stays() {
    let dir = tempfile::tempdir().unwrap();
    let cp = plane(&dir);
    cp.create_user("bob", PASSWORD, &[], NOW).unwrap();
    let (alice_token, _) = login_at(&cp, USER, PASSWORD, NOW).unwrap();
    let (bob_token, _) = login_at(&cp, "bob", PASSWORD, NOW).unwrap();

    cp.delete_user("bob", NOW + 1).unwrap();
    assert_eq!(
        code_of(auth_at(&cp, &bob_token, NOW + 2)),
        "unknown_session"
    );
    assert_eq!(
        code_of(login_at(&cp, "bob", PASSWORD, NOW + 3)),
        "invalid_credentials"
    );
    auth_at(&cp, &alice_token, NOW + 2).unwrap();

    assert!(matches!(
        cp.delete_user(USER, NOW + 4),
        Err(ControlError::Conflict { .. })
    ));
    assert_eq!(cp.users().unwrap().len(), 1);
    auth_at(&cp, &alice_token, NOW + 5).unwrap();
}

#[test]
fn malformed_tokens_are_refused_without_touching_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let cp = counting_plane(&dir);
    let (token, _) = login_at(&cp, USER, PASSWORD, NOW).unwrap();

    let mut bad_checksum = token.clone();
    let last = bad_checksum.pop().unwrap();
    bad_checksum.push(if last == 'a' { 'b' } else { 'a' });
    let truncated = token[..token.len() - 1].to_string();
    let wrong_prefix = token.replacen("toks_", "tokt_", 1);
    for bad in [
        bad_checksum.as_str(),
        truncated.as_str(),
        wrong_prefix.as_str(),
        "",
        "toks_",
        "not a token",
    ] {
        cp.store().reset();
        let (code, message) = unauthenticated(auth_at(&cp, bad, NOW + 1));
        assert_eq!(code, "invalid_token", "{bad:?}");
        assert!(
            message.starts_with("the credential is not a valid session token"),
            "{message}"
        );
        assert_eq!((cp.store().reads(), cp.store().writes()), (0, 0), "{bad:?}");
    }

    // A well-formed token nobody issued is looked up, and is unknown.
    let stranger = opaque::generate(Kind::Session).unwrap();
    cp.store().reset();
    assert_eq!(code_of(auth_at(&cp, &stranger, NOW + 1)), "unknown_session");
    assert!(cp.store().reads() > 0);
    assert_eq!(cp.store().writes(), 0);

    // The real token still works.
    auth_at(&cp, &token, NOW + 1).unwrap();
}

#[test]
fn logout_ends_only_that_session() {
    let dir = tempfile::tempdir().unwrap();
    let cp = plane(&dir);
    let (token, _) = login_at(&cp, USER, PASSWORD, NOW).unwrap();
    let (other, _) = login_at(&cp, USER, PASSWORD, NOW).unwrap();
    let principal = auth_at(&cp, &token, NOW + 1).unwrap();
    auth::logout(cp.store(), &principal).unwrap();
    let (code, message) = unauthenticated(auth_at(&cp, &token, NOW + 2));
    assert_eq!(code, "unknown_session");
    assert!(message.contains("logout"), "{message}");
    auth_at(&cp, &other, NOW + 2).unwrap();
}

#[test]
fn the_database_keeps_only_an_hmac_of_the_session_token() {
    let dir = tempfile::tempdir().unwrap();
    let cp = plane(&dir);
    let (token, session) = login_at(&cp, USER, PASSWORD, NOW).unwrap();
    auth_at(&cp, &token, NOW + 60).unwrap();

    // The store finds the session by the token's HMAC under the pepper.
    let digest = opaque::digest(&pepper(&cp), &token);
    assert_eq!(digest.len(), 32);
    let lookup = |hash: &[u8]| cp.store().read(|tx| tx.session(hash)).unwrap();
    let found = lookup(&digest).expect("the session is stored under the token's digest");
    assert_eq!(found.id, session.id);
    assert_eq!(found.principal_kind, PrincipalKind::User);
    assert_eq!(
        (found.principal_id.as_str(), found.principal_name.as_str()),
        (session.principal_id.as_str(), USER)
    );
    // The digest is keyed: under another pepper the same token gives another one, which
    // finds nothing.
    let other = opaque::digest(b"another pepper", &token);
    assert_ne!(other, digest);
    assert!(lookup(&other).is_none());

    // No plaintext: the stored hash (the digest it is found by) is not the token, holds no
    // part of it, and the token itself, whole or without its prefix, finds nothing.
    let body = &token["toks_".len()..];
    assert_ne!(digest.as_slice(), token.as_bytes());
    assert!(
        !digest
            .windows(8)
            .any(|w| body.as_bytes().windows(8).any(|b| b == w)),
        "the stored hash holds no part of the token"
    );
    assert!(lookup(token.as_bytes()).is_none());
    assert!(lookup(body.as_bytes()).is_none());
    let row = format!("{found:?}");
    assert!(!row.contains(body), "the session row holds no token");

    // One row: the login's.
    let ended = cp
        .store()
        .write(|tx| tx.delete_sessions_of(PrincipalKind::User, &session.principal_id))
        .unwrap();
    assert_eq!(ended, 1);
    assert!(lookup(&digest).is_none());
}

// SQLite only: it searches the database file (`tok.db`, `tok.db-wal`) for the token and
// reads the `sessions` table with rusqlite; the rules half is
// `the_database_keeps_only_an_hmac_of_the_session_token`.
#[test]
fn the_sqlite_file_holds_the_session_tokens_hmac_and_not_the_token() {
    let dir = tempfile::tempdir().unwrap();
    let cp = sqlite_plane(&dir);
    let (token, session) = login_at(&cp, USER, PASSWORD, NOW).unwrap();
    auth_at(&cp, &token, NOW + 60).unwrap();

    let db = std::fs::read(db_path(&dir)).unwrap();
    let wal = std::fs::read(dir.path().join("tok.db-wal")).unwrap_or_default();
    assert!(!db.is_empty());
    let body = &token["toks_".len()..];
    for bytes in [&db, &wal] {
        assert!(
            !bytes.windows(body.len()).any(|w| w == body.as_bytes()),
            "the session token must never be stored"
        );
    }

    let digest = opaque::digest(&pepper(&cp), &token);
    let conn = rusqlite::Connection::open(db_path(&dir)).unwrap();
    let stored: Vec<u8> = conn
        .query_row(
            "SELECT token_hash FROM sessions WHERE id = ?1",
            [&session.id],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(stored, digest);
    // The byte search above would have found the token: it finds the digest.
    assert!(
        [&db, &wal]
            .iter()
            .any(|bytes| bytes.windows(digest.len()).any(|w| w == digest.as_slice())),
        "the digest is in the file"
    );
    assert_ne!(stored, opaque::digest(b"another pepper", &token));
    let rows: i64 = conn
        .query_row("SELECT COUNT(*) FROM sessions", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 1);
}

/// The server's path: `check_session` with a cache. A second use reads nothing; a row
/// that looks expired in the cache is read again (another replica may have slid it), and
/// a session ended on this server is gone from the cache at once.
#[test]
fn the_cache_saves_reads_but_never_refuses_on_a_stale_row() {
    use super::session_cache::SessionCache;
    let dir = tempfile::tempdir().unwrap();
    let cp = counting_plane(&dir);
    let (token, _) = login_at(&cp, USER, PASSWORD, NOW).unwrap();
    let policy = AuthPolicy::default();
    let cache = SessionCache::new(std::time::Duration::from_secs(60));
    let check = |now: i64| {
        auth::check_session(cp.store(), &pepper(&cp), &policy, &token, now, Some(&cache))
    };

    cp.store().reset();
    let (first, slide) = check(NOW + 1).unwrap();
    assert!(slide.is_none(), "1 s of slide is below the granularity");
    assert_eq!(first.expires_at.unwrap(), NOW + 1800);
    assert_eq!(cp.store().reads(), 1);
    check(NOW + 2).unwrap();
    assert_eq!(cp.store().reads(), 1, "the second use came from the cache");

    // Another replica slides the session to NOW+1000+1800 without this cache knowing.
    let (_, elsewhere) =
        auth::check_session(cp.store(), &pepper(&cp), &policy, &token, NOW + 1000, None).unwrap();
    auth::apply_slide(cp.store(), &elsewhere.unwrap(), None).unwrap();
    // Here the cached row says it expired at NOW+1800; the database says otherwise.
    cp.store().reset();
    let (later, _) = check(NOW + 1900).unwrap();
    assert_eq!(cp.store().reads(), 1, "read again instead of refused");
    assert_eq!(later.expires_at.unwrap(), NOW + 1900 + 1800);

    // A logout on this server forgets the row: the next use is refused.
    auth::logout(cp.store(), &later).unwrap();
    cache.forget_session(later.session_id.as_deref().unwrap());
    assert_eq!(code_of(check(NOW + 1901)), "unknown_session");
}

/// Guesses in parallel do not undo the lock: a failure that read the account before
/// another one locked it leaves the lock alone.
#[test]
fn parallel_wrong_passwords_leave_the_account_locked() {
    let dir = tempfile::tempdir().unwrap();
    let cp = plane(&dir);
    // The threads share the plane's store: a login reads the account and records the
    // failure in two transactions, and the guesses interleave between them.
    std::thread::scope(|s| {
        for _ in 0..12 {
            s.spawn(|| {
                let policy = AuthPolicy::default();
                let pepper = pepper(&cp);
                let _ = auth::login(cp.store(), &pepper, &policy, USER, WRONG, None, NOW);
            });
        }
    });
    let user = cp.user(USER).unwrap();
    assert_eq!(user.locked_until, Some(NOW + 900), "still locked");
    assert_eq!(
        code_of(login_at(&cp, USER, PASSWORD, NOW + 1)),
        "invalid_credentials"
    );
}
