//! Service accounts, API keys and the revocation feed (issue 6), over the test store
//! (`test_store`) with the clock as a parameter: the default expiry and the claims, revoke
//! versus delete, the retention purge, the cascades that feed the feed, introspection and
//! `check_api_key`, and a seeded random simulation checked against a model after every
//! step. Nothing here sleeps.

use std::collections::HashSet;
use std::fmt::Debug;
use std::sync::Arc;

use aws_lc_rs::digest;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};

use super::apikeys::{self, ApiKeySpec, CreatedApiKey, DEFAULT_RETENTION_SECS, status};
use super::auth::LAST_USED_GRANULARITY;
use super::introspect::{self, Introspection, check_api_key};
use super::opaque::{self, Kind};
use super::test_store::{self, TestStore};
use super::*;
use crate::duration::Expiry;
use crate::jwt::{self, Algorithm, Signer};
use crate::keys;
use crate::model::{ApiKeyFilter, CreateApiKey};

const NOW: i64 = 1_800_000_000;
const DAY: i64 = 86_400;
/// The tolerance introspection allows on `exp` (a private constant of `introspect`).
const LEEWAY: i64 = 30;
const RETENTION: i64 = DEFAULT_RETENTION_SECS;
const READER: &str = "Read Only User";

type Cp = ControlPlane<Arc<TestStore>>;

/// A scratch directory for the database. The SQLite store fsyncs every commit
/// (`synchronous = FULL`), and the simulation commits thousands of times: on tmpfs that
/// costs nothing.
fn scratch() -> tempfile::TempDir {
    let shm = std::path::Path::new("/dev/shm");
    if shm.is_dir()
        && let Ok(dir) = tempfile::tempdir_in(shm)
    {
        return dir;
    }
    tempfile::tempdir().unwrap()
}

fn hs256(name: &str) -> InstanceSpec {
    InstanceSpec {
        name: name.into(),
        algorithm: Some(Algorithm::HS256),
        ..InstanceSpec::default()
    }
}

/// The owner of `org` over `store`, with an HS256 instance `local` (quicker to make than
/// the default RSA key).
fn in_org(store: Arc<TestStore>, master: Arc<MasterKey>, org: &str) -> Cp {
    let cp = ControlPlane::new(store, master, org, &format!("{org}:test"));
    cp.bootstrap(None, NOW).unwrap();
    cp.create_instance(&hs256(LOCAL_INSTANCE), NOW).unwrap();
    cp
}

/// The owner of the org `local` over a new test store in `dir`.
fn owner(dir: &tempfile::TempDir) -> Cp {
    let store = Arc::new(test_store::open(dir.path()));
    let sealer = Sealer::from_encoded(&Sealer::generate_master_key().unwrap()).unwrap();
    in_org(store, Arc::new(MasterKey::ready(sealer)), LOCAL_ORG)
}

fn names(roles: &[&str]) -> Vec<String> {
    roles.iter().map(|s| s.to_string()).collect()
}

fn account(cp: &Cp, name: &str, roles: &[&str]) -> ServiceAccount {
    cp.create_service_account(name, None, &names(roles), NOW)
        .unwrap()
}

fn spec(service_account: &str, name: &str, expiry: Expiry) -> ApiKeySpec {
    ApiKeySpec {
        service_account: service_account.into(),
        instance: None,
        name: Some(name.into()),
        description: None,
        expiry,
    }
}

fn key(cp: &Cp, service_account: &str, name: &str, expiry: Expiry, now: i64) -> CreatedApiKey {
    cp.create_api_key(&spec(service_account, name, expiry), now)
        .unwrap()
}

fn token_spec(tenant: &str, name: &str, expiry: Expiry) -> TokenSpec {
    TokenSpec {
        tenant: tenant.into(),
        name: Some(name.into()),
        subject: None,
        description: None,
        expiry,
        roles: Vec::new(),
    }
}

/// The whole feed, from the start.
fn feed(cp: &Cp) -> Vec<Revocation> {
    cp.revocations(0, 1_000_000).unwrap()
}

fn feed_jtis(cp: &Cp) -> Vec<String> {
    feed(cp).into_iter().map(|r| r.jti).collect()
}

fn listed(cp: &Cp) -> Vec<String> {
    cp.api_keys().unwrap().into_iter().map(|k| k.name).collect()
}

/// Introspection at `now`: never an error, whatever the token.
fn look(cp: &Cp, token: &str, now: i64) -> Introspection {
    cp.introspect(token, now)
        .unwrap_or_else(|e| panic!("introspecting {token:?} failed instead of answering: {e}"))
}

/// An inactive answer: a reason, and nothing else.
fn assert_inactive(i: &Introspection, reason_has: &str) {
    let reason = i.reason.clone().unwrap_or_default();
    assert!(
        !i.active && reason.contains(reason_has),
        "expected inactive because of '{reason_has}', got {i:?}"
    );
    let bare = Introspection {
        reason: None,
        ..i.clone()
    };
    assert_eq!(
        bare,
        Introspection::default(),
        "an inactive answer tells nothing else"
    );
}

fn sha256(s: &str) -> Vec<u8> {
    digest::digest(&digest::SHA256, s.as_bytes())
        .as_ref()
        .to_vec()
}

/// Every field of a key record but the two that may change: `revoked_at` and
/// `last_used_at`.
fn fixed(k: &ApiKey) -> String {
    let mut k = k.clone();
    k.revoked_at = None;
    k.last_used_at = None;
    format!("{k:?}")
}

fn not_found<T: Debug>(r: ControlResult<T>) -> (&'static str, String, String) {
    match r {
        Err(ControlError::NotFound { what, name, hint }) => (what, name, hint.unwrap_or_default()),
        other => panic!("expected NotFound, got {other:?}"),
    }
}

fn conflict<T: Debug>(r: ControlResult<T>) -> (String, String) {
    match r {
        Err(ControlError::Conflict { message, hint }) => (message, hint.unwrap_or_default()),
        other => panic!("expected Conflict, got {other:?}"),
    }
}

fn unauthenticated<T: Debug>(r: ControlResult<T>) -> (&'static str, String) {
    match r {
        Err(ControlError::Unauthenticated { code, message, .. }) => (code, message),
        other => panic!("expected Unauthenticated, got {other:?}"),
    }
}

/// A compact JWT signed by `signer`, with `kid` in its header when given.
fn forge(signer: &Signer, kid: Option<&str>, claims: Value) -> String {
    let mut header = Map::new();
    if let Some(kid) = kid {
        header.insert("kid".into(), Value::from(kid));
    }
    let Value::Object(claims) = claims else {
        panic!("claims must be an object")
    };
    signer.sign(&header, &claims).unwrap()
}

/// An HS256 signer with a fresh secret nobody else has.
fn stranger() -> Signer {
    let secret = keys::generate_secret(Algorithm::HS256).unwrap();
    Signer::new(
        keys::parse_secret_key(&secret).unwrap(),
        Some(Algorithm::HS256),
    )
    .unwrap()
}

fn create_req(service_account: &str, name: Option<&str>, expires: Option<&str>) -> CreateApiKey {
    CreateApiKey {
        service_account: service_account.into(),
        name: name.map(str::to_string),
        expires: expires.map(str::to_string),
        ..CreateApiKey::default()
    }
}

// ----------------------------------------------------------------------------------------
// The service layer
// ----------------------------------------------------------------------------------------

#[test]
fn a_key_expires_in_30_days_by_default_and_carries_its_claims() {
    let dir = scratch();
    let cp = owner(&dir);
    let sa = account(&cp, "ci", &[READER]);
    let instance = cp.instance(LOCAL_INSTANCE).unwrap();
    let view = cp
        .create_api_key_req(&create_req("ci", Some("ci-key"), None), NOW)
        .unwrap();
    let jwt = view.key.clone().expect("the JWT is shown at creation");
    assert_eq!(view.expires_at, Some(NOW + 30 * DAY));
    assert_eq!(view.created_at, NOW);
    assert_eq!(view.status, "active");
    assert_eq!(view.service_account, "ci");
    assert_eq!(view.instance, LOCAL_INSTANCE);

    let d = jwt::decode(&jwt).unwrap();
    assert_eq!(d.claims["exp"], NOW + 30 * DAY);
    assert_eq!(d.claims["sub"], "ci@local");
    assert_eq!(d.claims["aud"], instance.audience.as_str());
    assert_eq!(instance.audience, "urn:tok:local:local");
    assert_eq!(d.claims["jti"], view.id.as_str());
    assert_eq!(d.claims["iat"], NOW);
    let mut claim_names: Vec<&str> = d.claims.keys().map(String::as_str).collect();
    claim_names.sort_unstable();
    assert_eq!(claim_names, ["aud", "exp", "iat", "jti", "sub"]);
    assert_eq!(d.header["kid"], instance.kid.as_str());
    assert_eq!(d.header["alg"], "HS256");

    // The record: the JWT only as its SHA-256, never shown again.
    let rec = cp.api_key("ci-key").unwrap();
    assert_eq!(rec.id, view.id);
    assert_eq!(rec.org_id, sa.org_id);
    assert_eq!(rec.service_account_id, sa.id);
    assert_eq!(rec.service_account, "ci");
    assert_eq!(rec.instance_id, instance.id);
    assert_eq!(rec.instance, LOCAL_INSTANCE);
    assert_eq!(rec.kid, instance.kid);
    assert_eq!(rec.key_hash, sha256(&jwt));
    assert_eq!(rec.created_at, NOW);
    assert_eq!(rec.expires_at, Some(NOW + 30 * DAY));
    assert_eq!((rec.last_used_at, rec.revoked_at), (None, None));
    assert_eq!(
        fixed(&cp.api_key(&view.id).unwrap()),
        fixed(&rec),
        "by id too"
    );
    assert!(cp.api_key_info("ci-key", NOW).unwrap().key.is_none());
    let all = cp.api_keys_info(&ApiKeyFilter::default(), NOW).unwrap();
    assert!(all.iter().all(|k| k.key.is_none()));

    // It introspects as what it claims.
    let i = look(&cp, &jwt, NOW + 1);
    assert!(i.active, "{i:?}");
    assert_eq!(i.token_type, Some("apikey"));
    assert_eq!(i.sub.as_deref(), Some("ci@local"));
    assert_eq!(i.aud.as_deref(), Some(instance.audience.as_str()));
    assert_eq!(i.exp, Some(NOW + 30 * DAY));
    assert_eq!(i.iat, Some(NOW));
    assert_eq!(i.jti.as_deref(), Some(view.id.as_str()));
    assert_eq!(i.service_account.as_deref(), Some("ci"));
    assert_eq!(i.tenant, None);
    assert_eq!(i.reason, None);
    let scope = i.scope.unwrap_or_default();
    assert!(scope.split(' ').any(|a| a == "consume"), "{scope}");
    assert!(!scope.split(' ').any(|a| a == "apikey-write"), "{scope}");

    // A generated name: `<service account>-<6 hex>`.
    let generated = cp
        .create_api_key_req(&create_req("ci", None, Some("7d")), NOW)
        .unwrap();
    let suffix = generated.name.strip_prefix("ci-").unwrap();
    assert!(suffix.len() == 6 && suffix.chars().all(|c| c.is_ascii_hexdigit()));
    assert_eq!(generated.expires_at, Some(NOW + 7 * DAY));
}

#[test]
fn a_key_that_never_expires_has_no_exp() {
    let dir = scratch();
    let cp = owner(&dir);
    account(&cp, "ci", &[]);
    let view = cp
        .create_api_key_req(&create_req("ci", Some("forever"), Some("never")), NOW)
        .unwrap();
    assert_eq!(view.expires_at, None);
    let jwt = view.key.unwrap();
    assert!(jwt::decode(&jwt).unwrap().claims.get("exp").is_none());
    let rec = cp.api_key("forever").unwrap();
    assert_eq!(rec.expires_at, None);
    let far = NOW + 100 * 365 * DAY;
    assert_eq!(status(&rec, far), "active");
    let i = look(&cp, &jwt, far);
    assert!(i.active, "{i:?}");
    assert_eq!(i.exp, None);
    // A service account without roles: a key that may do nothing.
    assert_eq!(i.scope, None);
}

#[test]
fn status_is_active_then_expired_and_revoked_wins() {
    let dir = scratch();
    let cp = owner(&dir);
    account(&cp, "ci", &[]);
    let exp = NOW + 3600;
    key(&cp, "ci", "a", Expiry::At(exp), NOW);
    key(&cp, "ci", "b", Expiry::At(exp), NOW);
    let a = cp.api_key("a").unwrap();
    assert_eq!(status(&a, NOW), "active");
    assert_eq!(status(&a, exp - 1), "active");
    assert_eq!(status(&a, exp), "expired");
    assert_eq!(status(&a, exp + 10 * DAY), "expired");
    let (b, revoked) = cp.revoke_api_key("b", NOW + 10).unwrap();
    assert!(revoked);
    assert_eq!(status(&b, NOW + 10), "revoked");
    assert_eq!(
        status(&b, exp + 1),
        "revoked",
        "revoked and expired: revoked"
    );
    assert_eq!(status(&cp.api_key("b").unwrap(), exp + 1), "revoked");

    let by_status = |s: &str, now: i64| -> Vec<String> {
        let filter = ApiKeyFilter {
            status: Some(s.into()),
            ..ApiKeyFilter::default()
        };
        cp.api_keys_info(&filter, now)
            .unwrap()
            .into_iter()
            .map(|k| k.name)
            .collect()
    };
    assert_eq!(by_status("active", exp - 1), ["a"]);
    assert_eq!(by_status("expired", exp - 1), Vec::<String>::new());
    assert_eq!(by_status("expired", exp), ["a"]);
    assert_eq!(by_status("revoked", exp), ["b"]);
    assert!(matches!(
        cp.api_keys_info(
            &ApiKeyFilter {
                status: Some("gone".into()),
                ..ApiKeyFilter::default()
            },
            NOW
        ),
        Err(ControlError::Invalid(_))
    ));
}

#[test]
fn a_revoked_key_is_listed_for_exactly_15_days_and_the_purge_is_idempotent() {
    let dir = scratch();
    let cp = owner(&dir);
    let store = cp.store();
    account(&cp, "ci", &[]);
    cp.create_tenant("acme", None, None, NOW).unwrap();
    // Listed oldest first (by creation time).
    let forever = key(&cp, "ci", "forever", Expiry::Never, NOW);
    let short = key(&cp, "ci", "short", Expiry::At(NOW + 2 * DAY), NOW + 1);
    let long = key(&cp, "ci", "long", Expiry::At(NOW + 40 * DAY), NOW + 2);
    key(&cp, "ci", "live", Expiry::Never, NOW + 3);
    let stream = cp
        .create_token(&token_spec("acme", "t", Expiry::At(NOW + DAY)), NOW)
        .unwrap();
    let t = NOW + 100;
    for n in ["forever", "short", "long"] {
        assert!(cp.revoke_api_key(n, t).unwrap().1);
    }
    cp.revoke_token("acme", "t", t).unwrap();
    let all_four = vec![
        forever.record.id.clone(),
        short.record.id.clone(),
        long.record.id.clone(),
        stream.record.id.clone(),
    ];
    assert_eq!(feed_jtis(&cp), all_four);

    // One second short of the retention: nothing to purge; all still listed, revoked.
    assert_eq!(
        apikeys::purge(store, RETENTION, t + RETENTION - 1).unwrap(),
        (0, 0)
    );
    assert_eq!(listed(&cp), ["forever", "short", "long", "live"]);
    assert_eq!(
        status(&cp.api_key("short").unwrap(), t + RETENTION - 1),
        "revoked"
    );
    assert_eq!(feed_jtis(&cp), all_four);

    // At T + 15 d the revoked keys go; the feed forgets only what has also expired (the
    // short key, the streaming token), whatever kind it is.
    assert_eq!(
        apikeys::purge(store, RETENTION, t + RETENTION).unwrap(),
        (3, 2)
    );
    assert_eq!(listed(&cp), ["live"]);
    assert_eq!(
        feed_jtis(&cp),
        [forever.record.id.clone(), long.record.id.clone()]
    );
    // Idempotent: a second run, then or a little later, removes nothing.
    assert_eq!(
        apikeys::purge(store, RETENTION, t + RETENTION).unwrap(),
        (0, 0)
    );
    assert_eq!(
        apikeys::purge(store, RETENTION, t + RETENTION + 1).unwrap(),
        (0, 0)
    );
    assert_eq!(listed(&cp), ["live"]);

    // A purged key is not found and introspects inactive; its name is free again.
    for k in [&forever, &short, &long] {
        not_found(cp.api_key(&k.record.id));
        let reason = if k.record.name == "short" {
            "expired"
        } else {
            "no token or API key"
        };
        assert_inactive(&look(&cp, &k.jwt, t + RETENTION), reason);
    }
    key(&cp, "ci", "short", Expiry::Never, t + RETENTION);

    // The long key stays in the feed until its JWT expires.
    assert_eq!(
        apikeys::purge(store, RETENTION, NOW + 40 * DAY - 1).unwrap(),
        (0, 0)
    );
    assert_eq!(
        apikeys::purge(store, RETENTION, NOW + 40 * DAY).unwrap(),
        (0, 1)
    );
    assert_eq!(feed_jtis(&cp), std::slice::from_ref(&forever.record.id));
    // A key that never expires is refused for ever: its entry is never purged.
    assert_eq!(
        apikeys::purge(store, RETENTION, NOW + 100 * 365 * DAY).unwrap(),
        (0, 0)
    );
    assert_eq!(feed_jtis(&cp), std::slice::from_ref(&forever.record.id));
    assert_eq!(listed(&cp), ["live", "short"]);
}

#[test]
fn deleting_a_service_account_deletes_its_keys_and_feeds_each_once() {
    let dir = scratch();
    let cp = owner(&dir);
    account(&cp, "ci", &[READER]);
    account(&cp, "other", &[READER]);
    let revoked = key(&cp, "ci", "revoked", Expiry::Never, NOW);
    let live = key(&cp, "ci", "live", Expiry::Never, NOW + 1);
    let expired = key(&cp, "ci", "expired", Expiry::At(NOW + 10), NOW + 2);
    let kept = key(&cp, "other", "kept", Expiry::Never, NOW);
    cp.revoke_api_key("revoked", NOW + 5).unwrap();
    assert_eq!(cp.service_account("ci").unwrap().0.apikey_count, 2);

    let t = NOW + 100;
    let deleted = cp.delete_service_account("ci", t).unwrap();
    assert_eq!(deleted.name, "ci");
    let ids: Vec<&str> = deleted.keys.iter().map(|k| k.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            revoked.record.id.as_str(),
            live.record.id.as_str(),
            expired.record.id.as_str()
        ]
    );
    assert_eq!(listed(&cp), ["kept"]);
    let entries = feed(&cp);
    let got: Vec<(&str, &str, i64, Option<i64>)> = entries
        .iter()
        .map(|r| (r.jti.as_str(), r.kind.as_str(), r.revoked_at, r.expires_at))
        .collect();
    assert_eq!(
        got,
        [
            (revoked.record.id.as_str(), "apikey", NOW + 5, None),
            (live.record.id.as_str(), "apikey", t, None),
            (expired.record.id.as_str(), "apikey", t, Some(NOW + 10)),
        ]
    );
    for k in [&revoked, &live, &expired] {
        // (The expired one is refused for its expiry before it is looked up.)
        let reason = if k.record.name == "expired" {
            "expired"
        } else {
            "no token or API key"
        };
        assert_inactive(&look(&cp, &k.jwt, t), reason);
        not_found(cp.api_key(&k.record.name));
    }
    assert!(look(&cp, &kept.jwt, t).active);
    let (what, _, hint) = not_found(cp.service_account("ci"));
    assert_eq!(what, "service account");
    assert!(hint.contains("tok service-account create ci"), "{hint}");
    not_found(cp.delete_service_account("ci", t + 1));

    // A new account of the same name has none of the old keys, and they stay dead although
    // their `sub` is its principal again.
    account(&cp, "ci", &[READER]);
    let (sa, keys) = cp.service_account("ci").unwrap();
    assert_eq!((sa.apikey_count, keys.len()), (0, 0));
    assert_inactive(&look(&cp, &live.jwt, t + 2), "no token or API key");
    assert_eq!(feed(&cp), entries, "the feed did not change");
}

#[test]
fn a_key_record_never_changes_but_for_its_revocation_and_its_last_use() {
    let dir = scratch();
    let cp = owner(&dir);
    account(&cp, "ci", &[READER]);
    let created = key(&cp, "ci", "ci-key", Expiry::At(NOW + 10 * DAY), NOW);
    let original = fixed(&created.record);
    let check = |when: &str| {
        let now = cp.api_key("ci-key").unwrap();
        assert_eq!(fixed(&now), original, "after {when}");
        assert_eq!(now.key_hash, sha256(&created.jwt), "after {when}");
    };
    check("creation");
    assert!(look(&cp, &created.jwt, NOW + 10).active);
    assert_eq!(cp.api_key("ci-key").unwrap().last_used_at, Some(NOW + 10));
    check("an introspection");
    key(&cp, "ci", "another", Expiry::Never, NOW + 20);
    cp.revoke_api_key("another", NOW + 21).unwrap();
    check("another key's creation and revocation");
    // A rotated instance key: the record keeps the kid that signed it, and it still
    // introspects (the retired key verifies it).
    let rotation = cp.rotate_key(LOCAL_INSTANCE, NOW + 30).unwrap();
    assert_eq!(rotation.retired_kid, created.record.kid);
    check("a key rotation");
    assert!(look(&cp, &created.jwt, NOW + 31).active);
    assert!(
        check_api_key(cp.store(), cp.master(), &created.jwt, NOW + 31).is_ok(),
        "a key signed by a retired instance key still authenticates"
    );
    cp.set_max_token_lifetime(Some(DAY), NOW + 40).unwrap();
    check("a new maximum lifetime");
    assert!(look(&cp, &created.jwt, NOW + 41).active);
    apikeys::purge(cp.store(), RETENTION, NOW + 50).unwrap();
    check("a purge");
    let (_, revoked) = cp.revoke_api_key("ci-key", NOW + 60).unwrap();
    assert!(revoked);
    check("its revocation");
    let now = cp.api_key("ci-key").unwrap();
    assert_eq!(now.revoked_at, Some(NOW + 60));
    assert_eq!(now.last_used_at, Some(NOW + 10));
    cp.revoke_api_key("ci-key", NOW + 70).unwrap();
    check("a second revocation");
}

#[test]
fn revoking_twice_changes_nothing_and_says_so() {
    let dir = scratch();
    let cp = owner(&dir);
    account(&cp, "ci", &[]);
    let k = key(&cp, "ci", "k", Expiry::At(NOW + DAY), NOW);
    let (first, revoked) = cp.revoke_api_key("k", NOW + 10).unwrap();
    assert!(revoked);
    assert_eq!(first.revoked_at, Some(NOW + 10));
    let before = feed(&cp);
    assert_eq!(before.len(), 1);
    assert_eq!(
        (before[0].jti.as_str(), before[0].kind.as_str()),
        (k.record.id.as_str(), "apikey")
    );
    assert_eq!(
        (before[0].revoked_at, before[0].expires_at),
        (NOW + 10, Some(NOW + DAY))
    );
    let audit = cp.audit(0).unwrap().len();
    // By name and by id.
    for handle in ["k", k.record.id.as_str()] {
        let (again, revoked) = cp.revoke_api_key(handle, NOW + 20).unwrap();
        assert!(!revoked);
        assert_eq!(
            again.revoked_at,
            Some(NOW + 10),
            "the first revocation stands"
        );
    }
    assert_eq!(
        feed(&cp),
        before,
        "the feed is unchanged (same entries, same seq)"
    );
    assert_eq!(cp.audit(0).unwrap().len(), audit, "nothing was written");
    let view = cp.revoke_api_key_req("k", NOW + 30).unwrap();
    assert!(!view.1);
    assert_eq!(view.0.status, "revoked");
}

#[test]
fn deleting_a_revoked_key_feeds_nothing_more() {
    let dir = scratch();
    let cp = owner(&dir);
    account(&cp, "ci", &[]);
    let k = key(&cp, "ci", "k", Expiry::Never, NOW);
    cp.revoke_api_key("k", NOW + 10).unwrap();
    let before = feed(&cp);
    let deleted = cp.delete_api_key("k", NOW + 20).unwrap();
    assert_eq!(deleted.id, k.record.id);
    assert_eq!(feed(&cp), before);
    assert_eq!(before[0].revoked_at, NOW + 10);
    assert!(listed(&cp).is_empty());
    let (what, name, hint) = not_found(cp.api_key("k"));
    assert_eq!((what, name.as_str()), ("API key", "k"));
    assert!(hint.contains("tok apikey list"), "{hint}");
    not_found(cp.delete_api_key("k", NOW + 30));
    not_found(cp.revoke_api_key("k", NOW + 30));
    not_found(cp.delete_api_key(&k.record.id, NOW + 30));
    assert_inactive(&look(&cp, &k.jwt, NOW + 30), "no token or API key");
    // Deleting a live key revokes it into the feed at once.
    let live = key(&cp, "ci", "live", Expiry::Never, NOW + 40);
    cp.delete_api_key(&live.record.id, NOW + 50).unwrap();
    let after = feed(&cp);
    assert_eq!(after.len(), 2);
    assert_eq!(after[0], before[0]);
    assert_eq!(
        (after[1].jti.as_str(), after[1].revoked_at),
        (live.record.id.as_str(), NOW + 50)
    );
    assert!(after[1].seq > after[0].seq);
}

#[test]
fn an_expired_key_can_be_deleted_and_its_entry_is_purged_after_the_retention() {
    let dir = scratch();
    let cp = owner(&dir);
    account(&cp, "ci", &[]);
    let k = key(&cp, "ci", "k", Expiry::At(NOW + 60), NOW);
    let t = NOW + 1000;
    assert_eq!(status(&cp.api_key("k").unwrap(), t), "expired");
    let deleted = cp.delete_api_key("k", t).unwrap();
    assert_eq!(deleted.id, k.record.id);
    assert!(listed(&cp).is_empty());
    let entries = feed(&cp);
    assert_eq!(entries.len(), 1);
    assert_eq!(
        (entries[0].revoked_at, entries[0].expires_at),
        (t, Some(NOW + 60))
    );
    assert_eq!(
        apikeys::purge(cp.store(), RETENTION, t + RETENTION - 1).unwrap(),
        (0, 0)
    );
    assert_eq!(
        apikeys::purge(cp.store(), RETENTION, t + RETENTION).unwrap(),
        (0, 1)
    );
    assert!(feed(&cp).is_empty());
}

#[test]
fn names_are_unique_and_unknown_parents_are_not_found_with_a_hint() {
    let dir = scratch();
    let cp = owner(&dir);
    account(&cp, "ci", &[]);
    account(&cp, "ops", &[]);
    key(&cp, "ci", "k", Expiry::Never, NOW);
    let audit = cp.audit(0).unwrap().len();
    for sa in ["ci", "ops"] {
        let (message, hint) = conflict(cp.create_api_key(&spec(sa, "k", Expiry::Never), NOW));
        assert!(message.contains("'k'"), "{message}");
        assert!(hint.contains("tok apikey list"), "{hint}");
    }
    // A revoked key keeps its name until it is purged.
    cp.revoke_api_key("k", NOW + 1).unwrap();
    conflict(cp.create_api_key(&spec("ci", "k", Expiry::Never), NOW + 2));
    assert_eq!(listed(&cp), ["k"]);
    assert_eq!(cp.audit(0).unwrap().len(), audit + 1, "only the revocation");
    conflict(cp.create_service_account("ci", None, &[], NOW));

    let (what, name, hint) = not_found(cp.create_api_key(&spec("ghost", "g", Expiry::Never), NOW));
    assert_eq!((what, name.as_str()), ("service account", "ghost"));
    assert!(hint.contains("tok service-account create ghost"), "{hint}");
    let mut elsewhere = spec("ci", "g", Expiry::Never);
    elsewhere.instance = Some("nope".into());
    let (what, name, hint) = not_found(cp.create_api_key(&elsewhere, NOW));
    assert_eq!((what, name.as_str()), ("instance", "nope"));
    assert!(hint.contains("tok instance create nope"), "{hint}");
    let (what, _, hint) = not_found(cp.create_api_key_req(&create_req("ghost", None, None), NOW));
    assert_eq!(what, "service account");
    assert!(hint.contains("tok service-account create"), "{hint}");

    // No instance at all: the hint names the command that creates one.
    let dir2 = scratch();
    let bare = {
        let store = Arc::new(test_store::open(dir2.path()));
        let sealer = Sealer::from_encoded(&Sealer::generate_master_key().unwrap()).unwrap();
        let cp = ControlPlane::new(store, MasterKey::ready(sealer), LOCAL_ORG, "local:test");
        cp.bootstrap(None, NOW).unwrap();
        cp
    };
    account(&bare, "ci", &[]);
    let (what, _, hint) = not_found(bare.create_api_key(&spec("ci", "g", Expiry::Never), NOW));
    assert_eq!(what, "instance");
    assert!(hint.contains("tok instance create"), "{hint}");

    // Bad input is refused before anything is written.
    let bad = [
        spec("ci", "bad name", Expiry::Never),
        spec("ci", "past", Expiry::At(NOW)),
    ];
    for s in &bad {
        assert!(matches!(
            cp.create_api_key(s, NOW),
            Err(ControlError::Invalid(_))
        ));
    }
    assert!(matches!(
        cp.create_api_key_req(&create_req("ci", Some("x"), Some("soon")), NOW),
        Err(ControlError::Invalid(_))
    ));
    assert!(matches!(
        cp.create_service_account("Bad Name", None, &[], NOW),
        Err(ControlError::Invalid(_))
    ));
    // The org's maximum lifetime holds for API keys: `never` and the 30-day default too.
    cp.set_max_token_lifetime(Some(7 * DAY), NOW).unwrap();
    for expires in [Some("never"), None, Some("8d")] {
        assert!(matches!(
            cp.create_api_key_req(&create_req("ci", Some("x"), expires), NOW),
            Err(ControlError::Invalid(_))
        ));
    }
    cp.create_api_key_req(&create_req("ci", Some("x"), Some("7d")), NOW)
        .unwrap();
}

#[test]
fn deleting_a_tenant_or_an_instance_feeds_the_live_credentials_once() {
    let dir = scratch();
    let cp = owner(&dir);
    account(&cp, "ci", &[]);
    cp.create_instance(&hs256("edge"), NOW).unwrap();
    cp.create_tenant("acme", Some(LOCAL_INSTANCE), None, NOW)
        .unwrap();
    cp.create_tenant("beta", Some("edge"), None, NOW).unwrap();
    let tok = |tenant: &str, name: &str| {
        cp.create_token(&token_spec(tenant, name, Expiry::At(NOW + DAY)), NOW)
            .unwrap()
    };
    let a1 = tok("acme", "a1");
    let a2 = tok("acme", "a2");
    let b1 = tok("beta", "b1");
    let b2 = tok("beta", "b2");
    let on_edge = |name: &str| ApiKeySpec {
        instance: Some("edge".into()),
        ..spec("ci", name, Expiry::Never)
    };
    let k1 = cp.create_api_key(&on_edge("k1"), NOW).unwrap();
    let k2 = cp.create_api_key(&on_edge("k2"), NOW).unwrap();
    cp.revoke_token("acme", "a2", NOW + 1).unwrap();
    cp.revoke_token("beta", "b2", NOW + 2).unwrap();
    cp.revoke_api_key("k2", NOW + 3).unwrap();
    // A revoked token is revoked once: a second revocation does not find it.
    not_found(cp.revoke_token("acme", "a2", NOW + 4));

    assert_eq!(cp.delete_tenant("acme", NOW + 10).unwrap(), 1);
    // Without --cascade, the API keys on an instance (revoked ones too) keep it.
    cp.delete_tenant("beta", NOW + 11).unwrap();
    let (message, hint) = conflict(cp.delete_instance("edge", false, NOW + 12));
    assert!(message.contains("API key"), "{message}");
    assert!(hint.contains("--cascade"), "{hint}");
    cp.create_tenant("gamma", Some("edge"), None, NOW + 13)
        .unwrap();
    let g1 = cp
        .create_token(&token_spec("gamma", "g1", Expiry::Never), NOW + 13)
        .unwrap();
    assert_eq!(cp.delete_instance("edge", true, NOW + 20).unwrap(), 1);

    let entries = feed(&cp);
    let got: Vec<(&str, &str, i64)> = entries
        .iter()
        .map(|r| (r.jti.as_str(), r.kind.as_str(), r.revoked_at))
        .collect();
    assert_eq!(
        got,
        [
            (a2.record.id.as_str(), "streaming", NOW + 1),
            (b2.record.id.as_str(), "streaming", NOW + 2),
            (k2.record.id.as_str(), "apikey", NOW + 3),
            (a1.record.id.as_str(), "streaming", NOW + 10),
            (b1.record.id.as_str(), "streaming", NOW + 11),
            (g1.record.id.as_str(), "streaming", NOW + 20),
            (k1.record.id.as_str(), "apikey", NOW + 20),
        ]
    );
    assert!(entries.windows(2).all(|w| w[0].seq < w[1].seq));
    for jwt in [&a1.jwt, &a2.jwt, &b1.jwt, &g1.jwt, &k1.jwt, &k2.jwt] {
        assert!(!look(&cp, jwt, NOW + 21).active);
    }
    assert!(listed(&cp).is_empty());

    // The cursor: entries after a position, in order, `limit` at a time.
    let after = cp.revocations(entries[2].seq, 2).unwrap();
    assert_eq!(after, entries[3..5]);
    let page = cp
        .revocation_feed(Some(&entries[4].seq.to_string()), 100)
        .unwrap();
    assert_eq!(page.items.len(), 2);
    assert_eq!(page.next_cursor, entries[6].seq.to_string());
    let end = cp.revocation_feed(Some(&page.next_cursor), 100).unwrap();
    assert!(end.items.is_empty());
    assert_eq!(
        end.next_cursor, page.next_cursor,
        "nothing new: the same cursor"
    );
    assert!(matches!(
        cp.revocation_feed(Some("-1"), 10),
        Err(ControlError::Invalid(_))
    ));
}

// ----------------------------------------------------------------------------------------
// Introspection and check_api_key
// ----------------------------------------------------------------------------------------

#[test]
fn an_api_key_is_active_until_its_expiry_plus_the_leeway() {
    let dir = scratch();
    let cp = owner(&dir);
    account(&cp, "ci", &[READER]);
    let exp = NOW + 3600;
    let k = key(&cp, "ci", "k", Expiry::At(exp), NOW);
    for now in [NOW, exp - 1, exp, exp + LEEWAY - 1] {
        let i = look(&cp, &k.jwt, now);
        assert!(i.active, "at exp{:+}: {i:?}", now - exp);
        assert_eq!(i.exp, Some(exp));
        assert!(check_api_key(cp.store(), cp.master(), &k.jwt, now).is_ok());
    }
    for now in [exp + LEEWAY, exp + LEEWAY + 1, exp + 365 * DAY] {
        assert_inactive(&look(&cp, &k.jwt, now), "expired");
        let (code, message) = unauthenticated(check_api_key(cp.store(), cp.master(), &k.jwt, now));
        assert_eq!(code, "invalid_token", "{message}");
    }
    // A streaming token: the same rule.
    cp.create_tenant("acme", None, None, NOW).unwrap();
    let t = cp
        .create_token(&token_spec("acme", "t", Expiry::At(exp)), NOW)
        .unwrap();
    assert!(look(&cp, &t.jwt, exp + LEEWAY - 1).active);
    assert_inactive(&look(&cp, &t.jwt, exp + LEEWAY), "expired");
}

#[test]
fn revoked_credentials_are_inactive_with_a_reason() {
    let dir = scratch();
    let cp = owner(&dir);
    account(&cp, "ci", &[READER]);
    cp.create_tenant("acme", None, None, NOW).unwrap();
    let k = key(&cp, "ci", "k", Expiry::Never, NOW);
    let t = cp
        .create_token(&token_spec("acme", "t", Expiry::Never), NOW)
        .unwrap();
    let i = look(&cp, &t.jwt, NOW + 1);
    assert!(i.active, "{i:?}");
    assert_eq!(i.token_type, Some("streaming"));
    assert_eq!(i.tenant.as_deref(), Some("acme"));
    assert_eq!(i.sub.as_deref(), Some("t"));
    assert_eq!(i.jti.as_deref(), Some(t.record.id.as_str()));
    assert_eq!(i.service_account, None);

    cp.revoke_api_key("k", NOW + 10).unwrap();
    cp.revoke_token("acme", "t", NOW + 10).unwrap();
    for jwt in [&k.jwt, &t.jwt] {
        for now in [NOW + 10, NOW + 11, NOW + 100 * DAY] {
            assert_inactive(&look(&cp, jwt, now), "revoked at");
        }
    }
    let (code, message) = unauthenticated(check_api_key(cp.store(), cp.master(), &k.jwt, NOW + 11));
    assert_eq!(code, "key_revoked");
    assert!(message.contains("'k'"), "{message}");
    // Deleted: unknown, whether it was revoked first or not.
    let fresh = key(&cp, "ci", "fresh", Expiry::Never, NOW + 20);
    cp.delete_api_key("k", NOW + 30).unwrap();
    cp.delete_api_key("fresh", NOW + 30).unwrap();
    for jwt in [&k.jwt, &fresh.jwt] {
        assert_inactive(&look(&cp, jwt, NOW + 31), "no token or API key");
        let (code, _) = unauthenticated(check_api_key(cp.store(), cp.master(), jwt, NOW + 31));
        assert_eq!(code, "invalid_token");
    }
    // The tenant's deletion takes the token's record too: unknown.
    cp.delete_tenant("acme", NOW + 40).unwrap();
    assert_inactive(&look(&cp, &t.jwt, NOW + 41), "no token or API key");
}

#[test]
fn another_orgs_credentials_are_inactive_here() {
    let dir = scratch();
    let cp = owner(&dir);
    let other = in_org(Arc::clone(cp.store()), Arc::clone(&cp.master), "other");
    // The same names in both orgs: names are unique per org only.
    for plane in [&cp, &other] {
        account(plane, "ci", &[READER]);
        plane.create_tenant("acme", None, None, NOW).unwrap();
    }
    let mine = key(&cp, "ci", "k", Expiry::Never, NOW);
    let theirs = key(&other, "ci", "k", Expiry::Never, NOW);
    let their_token = other
        .create_token(&token_spec("acme", "t", Expiry::Never), NOW)
        .unwrap();
    assert_eq!(jwt::decode(&theirs.jwt).unwrap().claims["sub"], "ci@other");
    for jwt in [&theirs.jwt, &their_token.jwt] {
        // Exactly what an unknown key gets: nothing of the other org is told.
        assert_inactive(
            &look(&cp, jwt, NOW + 1),
            "signed by a key this control plane does not have",
        );
        assert!(look(&other, jwt, NOW + 1).active);
    }
    assert!(look(&cp, &mine.jwt, NOW + 1).active);
    assert_inactive(
        &look(&other, &mine.jwt, NOW + 1),
        "signed by a key this control plane does not have",
    );
    // check_api_key names the key's own org: the caller compares it with the path's.
    let (p, _) = check_api_key(cp.store(), cp.master(), &theirs.jwt, NOW + 1).unwrap();
    assert_eq!(p.org, "other");
    // Another org's key is not found here, by id either.
    not_found(cp.revoke_api_key(&theirs.record.id, NOW + 2));
    not_found(cp.delete_api_key(&theirs.record.id, NOW + 2));
    // Each org's feed is its own.
    other.revoke_api_key("k", NOW + 2).unwrap();
    assert!(feed(&cp).is_empty());
    assert_eq!(feed_jtis(&other), std::slice::from_ref(&theirs.record.id));
    assert!(look(&cp, &mine.jwt, NOW + 3).active);
    assert_eq!(listed(&cp), ["k"]);
    assert_eq!(cp.api_key("k").unwrap().id, mine.record.id);
}

#[test]
fn garbage_and_forgeries_are_inactive_never_an_error() {
    let dir = scratch();
    let cp = owner(&dir);
    account(&cp, "ci", &[READER]);
    let k = key(&cp, "ci", "k", Expiry::Never, NOW);
    let instance = cp.instance(LOCAL_INSTANCE).unwrap();
    let real = cp.signer(&instance).unwrap();
    // Never the key's own claims (its `iat` is NOW): HS256 is deterministic.
    let claims = |jti: &str| json!({"sub": "ci@local", "aud": instance.audience, "jti": jti, "iat": NOW + 1});
    let b64 = |v: Value| URL_SAFE_NO_PAD.encode(serde_json::to_vec(&v).unwrap());
    let unsigned = format!(
        "{}.{}.",
        b64(json!({"alg": "none", "kid": instance.kid})),
        b64(claims(&k.record.id))
    );
    let mut tampered_parts: Vec<String> = k.jwt.split('.').map(str::to_string).collect();
    tampered_parts[1] = b64(json!({"sub": "admin@local", "aud": instance.audience,
        "jti": k.record.id, "iat": NOW}));
    let tampered = tampered_parts.join(".");
    let session = opaque::generate(Kind::Session).unwrap();
    let app = opaque::generate(Kind::Application).unwrap();

    let cases: Vec<(&str, String, &str)> = vec![
        ("empty", String::new(), "not a token"),
        ("blank", "  \n ".into(), "not a token"),
        ("garbage", "garbage".into(), "not a token"),
        ("three dots", "a.b.c".into(), "not a token"),
        (
            "two parts",
            "eyJhbGciOiJIUzI1NiJ9.e30".into(),
            "not a token",
        ),
        (
            "a bearer prefix",
            format!("Bearer {}", k.jwt),
            "not a token",
        ),
        (
            "a malformed session token",
            "toks_garbage".into(),
            "session",
        ),
        ("a malformed application token", "toka_garbage".into(), ""),
        ("an unknown session token", session, "unknown session"),
        ("an unknown application token", app, ""),
        (
            "a JWT with no kid",
            forge(&real, None, claims(&k.record.id)),
            "names no key",
        ),
        (
            "a JWT signed by an unknown key",
            forge(&stranger(), Some("nobody-123456"), claims(&k.record.id)),
            "does not have",
        ),
        (
            "a JWT naming our kid, signed by another key",
            forge(&stranger(), Some(&instance.kid), claims(&k.record.id)),
            "",
        ),
        ("an unsigned JWT (alg none)", unsigned, ""),
        ("a tampered payload", tampered, ""),
        (
            "our key, another audience",
            forge(
                &real,
                Some(&instance.kid),
                json!({"sub": "ci@local", "aud": "urn:elsewhere", "jti": k.record.id}),
            ),
            "audience",
        ),
        (
            "our key, no jti",
            forge(
                &real,
                Some(&instance.kid),
                json!({"sub": "ci@local", "aud": instance.audience}),
            ),
            "jti",
        ),
        (
            "our key, an unknown jti",
            forge(&real, Some(&instance.kid), claims("key_unknown")),
            "no token or API key",
        ),
        (
            "our key, the key's jti, other content",
            forge(&real, Some(&instance.kid), claims(&k.record.id)),
            "not the key issued",
        ),
    ];
    for (what, token, reason) in &cases {
        let i = cp
            .introspect(token, NOW + 1)
            .unwrap_or_else(|e| panic!("{what}: an error instead of an answer: {e}"));
        assert!(!i.active, "{what}: {i:?}");
        assert!(
            i.reason.as_deref().is_some_and(|r| r.contains(reason)),
            "{what}: reason should mention '{reason}': {i:?}"
        );
        assert_inactive(&i, "");
        let (code, _) = unauthenticated(check_api_key(cp.store(), cp.master(), token, NOW + 1));
        assert_eq!(code, "invalid_token", "{what}");
    }
    // And none of it used the key.
    assert_eq!(cp.api_key("k").unwrap().last_used_at, None);
    assert!(look(&cp, &k.jwt, NOW + 2).active);
}

#[test]
fn check_api_key_authenticates_the_service_account_with_its_roles() {
    let dir = scratch();
    let cp = owner(&dir);
    let sa = account(&cp, "ci", &[READER, "Token Manager"]);
    let k = key(&cp, "ci", "k", Expiry::At(NOW + DAY), NOW);
    let (p, due) = check_api_key(cp.store(), cp.master(), &k.jwt, NOW + 1).unwrap();
    assert_eq!(p.kind, PrincipalKind::ServiceAccount);
    assert_eq!(p.id, sa.id);
    assert_eq!(p.name, "ci");
    assert_eq!(p.org, LOCAL_ORG);
    assert_eq!(p.session_id, None);
    assert_eq!(p.expires_at, Some(NOW + DAY));
    let mut roles = p.grants.roles.clone();
    roles.sort();
    assert_eq!(roles, [READER, "Token Manager"]);
    assert_eq!(p.grants.policies.len(), 2);
    assert_eq!(p.actor(), "service-account:ci");
    assert_eq!(due.as_deref(), Some(k.record.id.as_str()));

    // The use is written by the caller, at most once a minute.
    introspect::Touch::ApiKey(k.record.id.clone())
        .apply(cp.store(), NOW + 1)
        .unwrap();
    assert_eq!(cp.api_key("k").unwrap().last_used_at, Some(NOW + 1));
    let due_at = |now: i64| {
        check_api_key(cp.store(), cp.master(), &k.jwt, now)
            .unwrap()
            .1
    };
    assert_eq!(due_at(NOW + LAST_USED_GRANULARITY), None);
    assert_eq!(due_at(NOW + 1 + LAST_USED_GRANULARITY - 1), None);
    assert_eq!(
        due_at(NOW + 1 + LAST_USED_GRANULARITY).as_deref(),
        Some(k.record.id.as_str())
    );

    // A streaming token is not an API key.
    cp.create_tenant("acme", None, None, NOW).unwrap();
    let t = cp
        .create_token(&token_spec("acme", "t", Expiry::Never), NOW)
        .unwrap();
    let (code, _) = unauthenticated(check_api_key(cp.store(), cp.master(), &t.jwt, NOW + 1));
    assert_eq!(code, "invalid_token");

    // Revoked: refused as such.
    cp.revoke_api_key("k", NOW + 100).unwrap();
    let (code, _) = unauthenticated(check_api_key(cp.store(), cp.master(), &k.jwt, NOW + 100));
    assert_eq!(code, "key_revoked");
    // And the account's roles are read afresh: a key of an account without roles carries none.
    account(&cp, "bare", &[]);
    let b = key(&cp, "bare", "b", Expiry::Never, NOW);
    let (p, _) = check_api_key(cp.store(), cp.master(), &b.jwt, NOW + 1).unwrap();
    assert!(p.grants.roles.is_empty() && p.grants.policies.is_empty());
}

#[test]
fn introspection_records_a_use_at_most_once_a_minute() {
    let dir = scratch();
    let cp = owner(&dir);
    account(&cp, "ci", &[]);
    cp.create_tenant("acme", None, None, NOW).unwrap();
    let k = key(&cp, "ci", "k", Expiry::Never, NOW);
    let t = cp
        .create_token(&token_spec("acme", "t", Expiry::Never), NOW)
        .unwrap();
    let key_used = || cp.api_key("k").unwrap().last_used_at;
    let token_used = || cp.token("acme", "t").unwrap().last_used_at;
    let audit = cp.audit(0).unwrap().len();
    let t0 = NOW + 1000;
    for (now, expected) in [
        (t0, t0),
        (t0 + 1, t0),
        (t0 + LAST_USED_GRANULARITY - 1, t0),
        (t0 + LAST_USED_GRANULARITY, t0 + LAST_USED_GRANULARITY),
        (t0 + LAST_USED_GRANULARITY + 59, t0 + LAST_USED_GRANULARITY),
        (t0 + 10 * DAY, t0 + 10 * DAY),
    ] {
        assert!(look(&cp, &k.jwt, now).active);
        assert!(look(&cp, &t.jwt, now).active);
        assert_eq!(key_used(), Some(expected), "key at t0{:+}", now - t0);
        assert_eq!(token_used(), Some(expected), "token at t0{:+}", now - t0);
    }
    // A clock that goes back never moves the last use back.
    assert!(look(&cp, &k.jwt, t0).active);
    assert_eq!(key_used(), Some(t0 + 10 * DAY));
    // A revoked key's introspection records nothing.
    cp.revoke_api_key("k", t0 + 11 * DAY).unwrap();
    assert!(!look(&cp, &k.jwt, t0 + 12 * DAY).active);
    assert_eq!(key_used(), Some(t0 + 10 * DAY));
    assert_eq!(
        cp.audit(0).unwrap().len(),
        audit + 1,
        "a use is not an audited change; the revocation is"
    );
}

// ----------------------------------------------------------------------------------------
// A seeded random simulation against a model
// ----------------------------------------------------------------------------------------

/// splitmix64: small, deterministic, good enough to pick events.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// In `lo..=hi`.
    fn between(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo + 1) as u64) as i64
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

const ACCOUNTS: [&str; 3] = ["sa-a", "sa-b", "sa-c"];
const ACCOUNT_ROLES: [&[&str]; 3] = [&[], &[READER], &["API Read/Write User", READER]];

/// An API key as the model knows it.
struct MKey {
    /// As created (the fields that never change).
    record: ApiKey,
    jwt: String,
    revoked_at: Option<i64>,
    last_used_at: Option<i64>,
    /// When it entered the feed (revoked, deleted, or deleted with its account).
    fed_at: Option<i64>,
    /// Why it is no longer listed.
    gone: Option<&'static str>,
}

struct MToken {
    id: String,
    name: String,
    jwt: String,
    expires_at: Option<i64>,
    revoked_at: Option<i64>,
    last_used_at: Option<i64>,
}

struct MEntry {
    jti: String,
    kind: &'static str,
    revoked_at: i64,
    expires_at: Option<i64>,
    /// Its position, once seen: it must never change.
    seq: Option<i64>,
}

struct Sim {
    cp: Cp,
    rng: Rng,
    seed: u64,
    step: usize,
    event: String,
    now: i64,
    accounts: Vec<String>,
    keys: Vec<MKey>,
    tokens: Vec<MToken>,
    feed: Vec<MEntry>,
    /// The highest feed position seen so far (purged entries included).
    max_seq: i64,
    counter: usize,
}

impl Drop for Sim {
    // A failing run must name its seed, whatever failed (an assertion or an unwrap).
    #[allow(clippy::print_stderr)]
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "apikeys simulation FAILED: seed {:#x}, step {}, event [{}], now {}",
                self.seed, self.step, self.event, self.now
            );
        }
    }
}

/// Whether a credential is good at `now`: not revoked, and not past `exp` + the leeway.
fn alive(revoked_at: Option<i64>, expires_at: Option<i64>, now: i64) -> bool {
    revoked_at.is_none() && expires_at.is_none_or(|e| now < e + LEEWAY)
}

fn due(last_used_at: Option<i64>, now: i64) -> bool {
    last_used_at.is_none_or(|at| now - at >= LAST_USED_GRANULARITY)
}

impl Sim {
    fn new(seed: u64) -> (Sim, tempfile::TempDir) {
        let dir = scratch();
        let cp = owner(&dir);
        cp.create_tenant("acme", None, None, NOW).unwrap();
        let sim = Sim {
            cp,
            rng: Rng(seed),
            seed,
            step: 0,
            event: "setup".into(),
            now: NOW,
            accounts: Vec::new(),
            keys: Vec::new(),
            tokens: Vec::new(),
            feed: Vec::new(),
            max_seq: 0,
            counter: 0,
        };
        (sim, dir)
    }

    fn ctx(&self) -> String {
        format!(
            "seed {:#x} step {} [{}] now {}",
            self.seed, self.step, self.event, self.now
        )
    }

    fn expiry(&mut self) -> Expiry {
        match self.rng.below(4) {
            0 => Expiry::Never,
            1 => Expiry::At(self.now + self.rng.between(1, 3600)),
            _ => Expiry::At(self.now + self.rng.between(3600, 6 * DAY)),
        }
    }

    fn push_feed(&mut self, jti: &str, kind: &'static str, expires_at: Option<i64>) {
        self.feed.push(MEntry {
            jti: jti.to_string(),
            kind,
            revoked_at: self.now,
            expires_at,
            seq: None,
        });
    }

    fn run(&mut self, steps: usize) {
        self.check();
        for step in 1..=steps {
            self.step = step;
            match self.rng.below(100) {
                0..20 => self.create_key(),
                20..32 => self.revoke_key(),
                32..38 => self.delete_key(),
                38..46 => self.use_credential(),
                46..62 => self.advance(3 * DAY),
                62..68 => self.advance(120),
                68..72 => self.jump_to_an_expiry(),
                72..80 => self.purge(),
                80..88 => self.create_token(),
                88..95 => self.revoke_token(),
                _ => self.delete_account(),
            }
            self.check();
        }
    }

    fn create_key(&mut self) {
        let sa = ACCOUNTS[self.rng.below(ACCOUNTS.len())];
        if !self.accounts.iter().any(|a| a == sa) {
            let roles = names(ACCOUNT_ROLES[self.rng.below(ACCOUNT_ROLES.len())]);
            self.event = format!("create account {sa} {roles:?}");
            self.cp
                .create_service_account(sa, None, &roles, self.now)
                .unwrap_or_else(|e| panic!("{}: {e}", self.ctx()));
            self.accounts.push(sa.to_string());
        }
        let expiry = self.expiry();
        let listed: Vec<String> = self
            .keys
            .iter()
            .filter(|k| k.gone.is_none())
            .map(|k| k.record.name.clone())
            .collect();
        if !listed.is_empty() && self.rng.chance(10) {
            // A name already taken (revoked keys hold theirs until purged): refused.
            let name = listed[self.rng.below(listed.len())].clone();
            self.event = format!("create key {name} of {sa} again");
            let r = self.cp.create_api_key(&spec(sa, &name, expiry), self.now);
            assert!(
                matches!(r, Err(ControlError::Conflict { .. })),
                "{}: {r:?}",
                self.ctx()
            );
            return;
        }
        self.counter += 1;
        let name = format!("k{}", self.counter);
        self.event = format!("create key {name} of {sa}, {expiry:?}");
        let created = self
            .cp
            .create_api_key(&spec(sa, &name, expiry), self.now)
            .unwrap_or_else(|e| panic!("{}: {e}", self.ctx()));
        let r = &created.record;
        assert_eq!(
            (r.created_at, r.expires_at, r.revoked_at, r.last_used_at),
            (
                self.now,
                match expiry {
                    Expiry::At(e) => Some(e),
                    Expiry::Never => None,
                },
                None,
                None
            ),
            "{}",
            self.ctx()
        );
        self.keys.push(MKey {
            record: created.record,
            jwt: created.jwt,
            revoked_at: None,
            last_used_at: None,
            fed_at: None,
            gone: None,
        });
    }

    /// A key, by name or by id.
    fn pick_key(&mut self) -> Option<(usize, String)> {
        if self.keys.is_empty() {
            return None;
        }
        let i = self.rng.below(self.keys.len());
        let handle = if self.rng.chance(50) {
            self.keys[i].record.name.clone()
        } else {
            self.keys[i].record.id.clone()
        };
        Some((i, handle))
    }

    fn revoke_key(&mut self) {
        let Some((i, handle)) = self.pick_key() else {
            self.event = "revoke: no key".into();
            return;
        };
        self.event = format!(
            "revoke key {handle} ({})",
            self.keys[i].gone.unwrap_or("listed")
        );
        let r = self.cp.revoke_api_key(&handle, self.now);
        let k = &self.keys[i];
        match (k.gone, k.revoked_at) {
            (Some(_), _) => {
                let (what, ..) = not_found(r);
                assert_eq!(what, "API key", "{}", self.ctx());
            }
            (None, Some(at)) => {
                let (key, revoked) = r.unwrap_or_else(|e| panic!("{}: {e}", self.ctx()));
                assert!(!revoked, "{}", self.ctx());
                assert_eq!(key.revoked_at, Some(at), "{}", self.ctx());
            }
            (None, None) => {
                let (key, revoked) = r.unwrap_or_else(|e| panic!("{}: {e}", self.ctx()));
                assert!(revoked, "{}", self.ctx());
                assert_eq!(key.revoked_at, Some(self.now), "{}", self.ctx());
                let (id, exp) = (k.record.id.clone(), k.record.expires_at);
                let now = self.now;
                let k = &mut self.keys[i];
                k.revoked_at = Some(now);
                k.fed_at = Some(now);
                self.push_feed(&id, "apikey", exp);
            }
        }
    }

    fn delete_key(&mut self) {
        let Some((i, handle)) = self.pick_key() else {
            self.event = "delete: no key".into();
            return;
        };
        self.event = format!(
            "delete key {handle} ({})",
            self.keys[i].gone.unwrap_or("listed")
        );
        let r = self.cp.delete_api_key(&handle, self.now);
        let k = &self.keys[i];
        if k.gone.is_some() {
            not_found(r);
            return;
        }
        let deleted = r.unwrap_or_else(|e| panic!("{}: {e}", self.ctx()));
        assert_eq!(deleted.id, k.record.id, "{}", self.ctx());
        let (id, exp, revoked) = (k.record.id.clone(), k.record.expires_at, k.revoked_at);
        let now = self.now;
        let k = &mut self.keys[i];
        k.gone = Some("deleted");
        if revoked.is_none() {
            k.fed_at = Some(now);
            self.push_feed(&id, "apikey", exp);
        }
    }

    fn delete_account(&mut self) {
        let sa = ACCOUNTS[self.rng.below(ACCOUNTS.len())];
        self.event = format!("delete account {sa}");
        let r = self.cp.delete_service_account(sa, self.now);
        if !self.accounts.iter().any(|a| a == sa) {
            let (what, ..) = not_found(r);
            assert_eq!(what, "service account", "{}", self.ctx());
            return;
        }
        let deleted = r.unwrap_or_else(|e| panic!("{}: {e}", self.ctx()));
        let mut mine: Vec<usize> = (0..self.keys.len())
            .filter(|&i| self.keys[i].gone.is_none() && self.keys[i].record.service_account == sa)
            .collect();
        mine.sort_by(|&a, &b| {
            let (a, b) = (&self.keys[a].record, &self.keys[b].record);
            (a.created_at, &a.id).cmp(&(b.created_at, &b.id))
        });
        let got: Vec<&str> = deleted.keys.iter().map(|k| k.id.as_str()).collect();
        let expected: Vec<&str> = mine
            .iter()
            .map(|&i| self.keys[i].record.id.as_str())
            .collect();
        assert_eq!(got, expected, "{}", self.ctx());
        let now = self.now;
        for i in mine {
            let k = &mut self.keys[i];
            k.gone = Some("deleted with its account");
            if k.revoked_at.is_none() {
                k.fed_at = Some(now);
                let (id, exp) = (k.record.id.clone(), k.record.expires_at);
                self.push_feed(&id, "apikey", exp);
            }
        }
        self.accounts.retain(|a| a != sa);
    }

    fn advance(&mut self, max: i64) {
        let by = self.rng.between(0, max);
        self.event = format!("advance {by} s");
        self.now += by;
    }

    /// Jumps to just before, at or just after the end of a credential's leeway.
    fn jump_to_an_expiry(&mut self) {
        let now = self.now;
        let ends: Vec<i64> = self
            .keys
            .iter()
            .map(|k| k.record.expires_at)
            .chain(self.tokens.iter().map(|t| t.expires_at))
            .flatten()
            .filter(|e| e + LEEWAY > now)
            .collect();
        if ends.is_empty() {
            self.event = "to an expiry: none ahead".into();
            return;
        }
        let exp = ends[self.rng.below(ends.len())];
        let offsets = [-1, 0, LEEWAY - 1, LEEWAY];
        let target = exp + offsets[self.rng.below(offsets.len())];
        self.event = format!("to exp {exp}{:+}", target - exp);
        self.now = self.now.max(target);
    }

    fn purge(&mut self) {
        self.event = "purge".into();
        let (now, cut) = (self.now, self.now - RETENTION);
        let keys = self
            .keys
            .iter()
            .filter(|k| k.gone.is_none() && k.revoked_at.is_some_and(|r| r <= cut))
            .count();
        let forgotten = |e: &MEntry| e.revoked_at <= cut && e.expires_at.is_some_and(|x| x <= now);
        let entries = self.feed.iter().filter(|e| forgotten(e)).count();
        let got = apikeys::purge(self.cp.store(), RETENTION, now)
            .unwrap_or_else(|e| panic!("{}: {e}", self.ctx()));
        assert_eq!(got, (keys, entries), "{}", self.ctx());
        for k in &mut self.keys {
            if k.gone.is_none() && k.revoked_at.is_some_and(|r| r <= cut) {
                k.gone = Some("purged");
            }
        }
        self.feed.retain(|e| !forgotten(e));
        if self.rng.chance(30) {
            let again = apikeys::purge(self.cp.store(), RETENTION, now)
                .unwrap_or_else(|e| panic!("{}: {e}", self.ctx()));
            assert_eq!(again, (0, 0), "{}: the purge is idempotent", self.ctx());
        }
    }

    fn create_token(&mut self) {
        self.counter += 1;
        let name = format!("t{}", self.counter);
        let expiry = self.expiry();
        self.event = format!("create token {name}, {expiry:?}");
        let created = self
            .cp
            .create_token(&token_spec("acme", &name, expiry), self.now)
            .unwrap_or_else(|e| panic!("{}: {e}", self.ctx()));
        self.tokens.push(MToken {
            id: created.record.id,
            name,
            jwt: created.jwt,
            expires_at: created.record.expires_at,
            revoked_at: None,
            last_used_at: None,
        });
    }

    fn revoke_token(&mut self) {
        if self.tokens.is_empty() {
            self.event = "revoke token: none".into();
            return;
        }
        let i = self.rng.below(self.tokens.len());
        let t = &self.tokens[i];
        self.event = format!("revoke token {}", t.name);
        let r = self.cp.revoke_token("acme", &t.name, self.now);
        if t.revoked_at.is_some() {
            not_found(r);
            return;
        }
        let revoked = r.unwrap_or_else(|e| panic!("{}: {e}", self.ctx()));
        assert_eq!(revoked.revoked_at, Some(self.now), "{}", self.ctx());
        let (id, exp) = (t.id.clone(), t.expires_at);
        self.tokens[i].revoked_at = Some(self.now);
        self.push_feed(&id, "streaming", exp);
    }

    /// Authenticates with a key (and a streaming token) as the server does: check, then
    /// record the use when it is due.
    fn use_credential(&mut self) {
        if let Some((i, _)) = self.pick_key() {
            let now = self.now;
            let k = &self.keys[i];
            self.event = format!("use key {} ({})", k.record.name, k.gone.unwrap_or("listed"));
            let r = check_api_key(self.cp.store(), self.cp.master(), &k.jwt, now);
            let expired = k.record.expires_at.is_some_and(|e| now >= e + LEEWAY);
            if k.gone.is_some() || expired {
                let (code, _) = unauthenticated(r);
                assert_eq!(code, "invalid_token", "{}", self.ctx());
            } else if k.revoked_at.is_some() {
                let (code, _) = unauthenticated(r);
                assert_eq!(code, "key_revoked", "{}", self.ctx());
            } else {
                let (p, is_due) = r.unwrap_or_else(|e| panic!("{}: {e}", self.ctx()));
                assert_eq!(p.kind, PrincipalKind::ServiceAccount, "{}", self.ctx());
                assert_eq!(p.id, k.record.service_account_id, "{}", self.ctx());
                assert_eq!(p.name, k.record.service_account, "{}", self.ctx());
                assert_eq!(p.expires_at, k.record.expires_at, "{}", self.ctx());
                assert_eq!(is_due.is_some(), due(k.last_used_at, now), "{}", self.ctx());
                if let Some(id) = is_due {
                    introspect::Touch::ApiKey(id.clone())
                        .apply(self.cp.store(), now)
                        .unwrap_or_else(|e| panic!("{}: {e}", self.ctx()));
                    self.keys[i].last_used_at = Some(now);
                }
            }
        }
        if !self.tokens.is_empty() {
            let t = &self.tokens[self.rng.below(self.tokens.len())];
            let r = check_api_key(self.cp.store(), self.cp.master(), &t.jwt, self.now);
            let (code, _) = unauthenticated(r);
            assert_eq!(code, "invalid_token", "{}: a streaming token", self.ctx());
        }
    }

    /// Every invariant, against the model.
    fn check(&mut self) {
        let ctx = self.ctx();
        let now = self.now;

        // `api_keys()` lists exactly the keys neither deleted nor purged, oldest first, each
        // as created but for its revocation and last use.
        let listed = self.cp.api_keys().unwrap_or_else(|e| panic!("{ctx}: {e}"));
        let mut expected: Vec<&MKey> = self.keys.iter().filter(|k| k.gone.is_none()).collect();
        expected.sort_by(|a, b| {
            (a.record.created_at, &a.record.id).cmp(&(b.record.created_at, &b.record.id))
        });
        let got_names: Vec<&str> = listed.iter().map(|k| k.name.as_str()).collect();
        let expected_names: Vec<&str> = expected.iter().map(|k| k.record.name.as_str()).collect();
        assert_eq!(got_names, expected_names, "{ctx}: the keys listed");
        for (got, m) in listed.iter().zip(&expected) {
            assert_eq!(
                fixed(got),
                fixed(&m.record),
                "{ctx}: {} changed",
                m.record.name
            );
            assert_eq!(
                (got.revoked_at, got.last_used_at),
                (m.revoked_at, m.last_used_at),
                "{ctx}: {} (revoked_at, last_used_at)",
                m.record.name
            );
            let expected_status = if m.revoked_at.is_some() {
                "revoked"
            } else if m.record.expires_at.is_some_and(|e| e <= now) {
                "expired"
            } else {
                "active"
            };
            assert_eq!(
                status(got, now),
                expected_status,
                "{ctx}: {}",
                m.record.name
            );
        }

        // The service accounts, with their counts of keys not revoked.
        let accounts = self
            .cp
            .service_accounts()
            .unwrap_or_else(|e| panic!("{ctx}: {e}"));
        let mut expected_accounts = self.accounts.clone();
        expected_accounts.sort();
        let got_accounts: Vec<&str> = accounts.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(
            got_accounts, expected_accounts,
            "{ctx}: the service accounts"
        );
        for a in &accounts {
            let live = self
                .keys
                .iter()
                .filter(|k| {
                    k.gone.is_none() && k.revoked_at.is_none() && k.record.service_account == a.name
                })
                .count();
            assert_eq!(a.apikey_count, live as i64, "{ctx}: keys of {}", a.name);
        }

        // The streaming tokens (never removed here).
        let tokens = self
            .cp
            .tokens(Some("acme"))
            .unwrap_or_else(|e| panic!("{ctx}: {e}"));
        assert_eq!(tokens.len(), self.tokens.len(), "{ctx}: the tokens listed");
        for m in &self.tokens {
            let got = tokens
                .iter()
                .find(|t| t.id == m.id)
                .unwrap_or_else(|| panic!("{ctx}: token {} is not listed", m.name));
            assert_eq!(
                (got.revoked_at, got.last_used_at, got.expires_at),
                (m.revoked_at, m.last_used_at, m.expires_at),
                "{ctx}: token {}",
                m.name
            );
        }

        // The feed: every revocation exactly once, in the order made, nothing else; a
        // position never changes and a new one is past every earlier one (purged included).
        let entries = self
            .cp
            .revocations(0, 1_000_000)
            .unwrap_or_else(|e| panic!("{ctx}: {e}"));
        let got: Vec<(&str, &str, i64, Option<i64>)> = entries
            .iter()
            .map(|r| (r.jti.as_str(), r.kind.as_str(), r.revoked_at, r.expires_at))
            .collect();
        let want: Vec<(&str, &str, i64, Option<i64>)> = self
            .feed
            .iter()
            .map(|e| (e.jti.as_str(), e.kind, e.revoked_at, e.expires_at))
            .collect();
        assert_eq!(got, want, "{ctx}: the feed");
        let unique: HashSet<&str> = entries.iter().map(|r| r.jti.as_str()).collect();
        assert_eq!(
            unique.len(),
            entries.len(),
            "{ctx}: a jti twice in the feed"
        );
        assert!(
            entries.windows(2).all(|w| w[0].seq < w[1].seq),
            "{ctx}: the feed's positions"
        );
        for (r, m) in entries.iter().zip(&mut self.feed) {
            match m.seq {
                Some(seq) => assert_eq!(r.seq, seq, "{ctx}: {} moved in the feed", m.jti),
                None => {
                    assert!(r.seq > self.max_seq, "{ctx}: {} reuses a position", m.jti);
                    self.max_seq = r.seq;
                    m.seq = Some(r.seq);
                }
            }
        }
        // Polling from any position gives what follows it.
        if entries.len() > 1 {
            let i = self.rng.below(entries.len() - 1);
            let after = self
                .cp
                .revocations(entries[i].seq, 1_000_000)
                .unwrap_or_else(|e| panic!("{ctx}: {e}"));
            assert_eq!(after, entries[i + 1..], "{ctx}: the feed after #{i}");
            let one = self
                .cp
                .revocations(entries[i].seq, 1)
                .unwrap_or_else(|e| panic!("{ctx}: {e}"));
            assert_eq!(one, entries[i + 1..i + 2], "{ctx}: limit 1 after #{i}");
        }
        // A revoked credential stays in the feed for the retention window, and after it
        // for as long as its JWT is good (purged keys included).
        let fed = self
            .keys
            .iter()
            .filter_map(|k| k.fed_at.map(|at| (&k.record.id, at, k.record.expires_at)))
            .chain(
                self.tokens
                    .iter()
                    .filter_map(|t| t.revoked_at.map(|at| (&t.id, at, t.expires_at))),
            );
        for (jti, at, exp) in fed {
            if at > now - RETENTION || exp.is_none_or(|e| e > now) {
                assert!(
                    unique.contains(jti.as_str()),
                    "{ctx}: {jti} (revoked at {at}, exp {exp:?}) left the feed too early"
                );
            }
        }

        // Introspection: a revoked, expired, deleted or purged credential is never active,
        // and a good one always is. Each good one's use is recorded, at most once a minute.
        for k in &mut self.keys {
            let i = self
                .cp
                .introspect(&k.jwt, now)
                .unwrap_or_else(|e| panic!("{ctx}: introspection failed: {e}"));
            let good = k.gone.is_none() && alive(k.revoked_at, k.record.expires_at, now);
            assert_eq!(
                i.active,
                good,
                "{ctx}: key {} ({}, revoked {:?}, exp {:?}): {i:?}",
                k.record.name,
                k.gone.unwrap_or("listed"),
                k.revoked_at,
                k.record.expires_at
            );
            if good {
                assert_eq!(i.token_type, Some("apikey"), "{ctx}");
                assert_eq!(i.jti.as_deref(), Some(k.record.id.as_str()), "{ctx}");
                assert_eq!(i.exp, k.record.expires_at, "{ctx}");
                assert_eq!(
                    i.service_account.as_deref(),
                    Some(k.record.service_account.as_str()),
                    "{ctx}"
                );
                if due(k.last_used_at, now) {
                    k.last_used_at = Some(now);
                }
            } else {
                assert!(i.reason.is_some(), "{ctx}: no reason: {i:?}");
            }
        }
        for t in &mut self.tokens {
            let i = self
                .cp
                .introspect(&t.jwt, now)
                .unwrap_or_else(|e| panic!("{ctx}: introspection failed: {e}"));
            let good = alive(t.revoked_at, t.expires_at, now);
            assert_eq!(
                i.active, good,
                "{ctx}: token {} (revoked {:?}, exp {:?}): {i:?}",
                t.name, t.revoked_at, t.expires_at
            );
            if good {
                assert_eq!(i.token_type, Some("streaming"), "{ctx}");
                assert_eq!(i.jti.as_deref(), Some(t.id.as_str()), "{ctx}");
                if due(t.last_used_at, now) {
                    t.last_used_at = Some(now);
                }
            } else {
                assert!(i.reason.is_some(), "{ctx}: no reason: {i:?}");
            }
        }
    }
}

#[test]
fn a_random_history_keeps_every_invariant() {
    for seed in [
        0x5EED_0001_u64,
        0xC0FF_EE00_D15E_A5E5,
        0x0123_4567_89AB_CDEF,
    ] {
        let (mut sim, _dir) = Sim::new(seed);
        sim.run(400);
        // The history did what it was meant to: keys were revoked, deleted and purged,
        // accounts deleted, and the feed both grew and shrank.
        let gone = |why: &str| sim.keys.iter().filter(|k| k.gone == Some(why)).count();
        assert!(
            gone("deleted") > 0 && gone("purged") > 0 && gone("deleted with its account") > 0,
            "seed {seed:#x}: a dull history (deleted {}, purged {}, with account {})",
            gone("deleted"),
            gone("purged"),
            gone("deleted with its account")
        );
        assert!(
            sim.max_seq > sim.feed.len() as i64,
            "seed {seed:#x}: nothing left the feed"
        );
    }
}

#[test]
fn a_remembered_signature_never_hides_an_expiry_or_a_revocation() {
    let dir = scratch();
    let cp = owner(&dir);
    account(&cp, "ci", &[READER]);
    let k = key(&cp, "ci", "k", Expiry::At(NOW + DAY), NOW);
    let cache = introspect::IssuedCache::new(std::time::Duration::from_secs(300));
    let with = |now: i64| cp.introspect_with(&k.jwt, now, Some(&cache)).unwrap();
    assert!(with(NOW + 1).active, "verified, and remembered");
    assert!(with(NOW + 2).active, "from the cache");
    assert_inactive(&with(NOW + DAY + LEEWAY), "expired");
    assert!(with(NOW + 3).active, "the entry is still there");
    cp.revoke_api_key("k", NOW + 4).unwrap();
    assert_inactive(&with(NOW + 5), "revoked");
    // A token that fails verification is never remembered.
    let tampered = format!("{}x", k.jwt);
    assert!(
        !cp.introspect_with(&tampered, NOW + 6, Some(&cache))
            .unwrap()
            .active
    );
    assert!(
        !cp.introspect_with(&tampered, NOW + 7, Some(&cache))
            .unwrap()
            .active
    );
}

#[test]
fn a_streaming_token_cannot_take_a_service_accounts_subject() {
    let dir = scratch();
    let cp = owner(&dir);
    cp.create_tenant("acme", None, None, NOW).unwrap();
    account(&cp, "ingest", &[READER]);
    let spec = TokenSpec {
        subject: Some("ingest@local".into()),
        ..token_spec("acme", "t", Expiry::Never)
    };
    match cp.create_token(&spec, NOW) {
        Err(ControlError::Invalid(m)) => assert!(m.contains("'@local'"), "{m}"),
        other => panic!("expected Invalid, got {other:?}"),
    }
    // Another org's suffix, or none, is an ordinary subject.
    let spec = TokenSpec {
        subject: Some("ingest@elsewhere".into()),
        ..token_spec("acme", "t2", Expiry::Never)
    };
    cp.create_token(&spec, NOW).unwrap();
}
