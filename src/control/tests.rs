//! Service-layer tests over the test store (`test_store`), with the clock passed in. The
//! few that look at the SQLite file itself open a `SqliteStore` by name.

use super::sqlite::SqliteStore;
use super::test_store::{self, TestStore};
use super::*;
use crate::duration::Expiry;
use crate::jwt::{Algorithm, VerifyKey, VerifyOptions, decode, verify};
use crate::keys::parse_public_key;

const NOW: i64 = 1_800_000_000;

/// A bootstrapped plane over `store`.
fn plane_over<S: Store>(store: S) -> ControlPlane<S> {
    let sealer = Sealer::from_encoded(&Sealer::generate_master_key().unwrap()).unwrap();
    let cp = ControlPlane::new(store, MasterKey::ready(sealer), LOCAL_ORG, "local:test");
    cp.bootstrap(Some(LOCAL_INSTANCE), NOW).unwrap();
    cp
}

/// A bootstrapped plane over a fresh test store in `dir`.
fn plane(dir: &tempfile::TempDir) -> ControlPlane<TestStore> {
    plane_over(test_store::open(dir.path()))
}

/// A bootstrapped plane over a SQLite file at `dir/tok.db`, for the tests that read the file.
fn sqlite_plane(dir: &tempfile::TempDir) -> ControlPlane<SqliteStore> {
    plane_over(SqliteStore::open(&dir.path().join("tok.db")).unwrap())
}

fn spec(tenant: &str, name: &str, expiry: Expiry) -> TokenSpec {
    TokenSpec {
        tenant: tenant.into(),
        name: Some(name.into()),
        subject: None,
        description: None,
        expiry,
        roles: Vec::new(),
    }
}

#[test]
fn bootstrap_is_idempotent_and_creates_an_rs256_local_instance() {
    let dir = tempfile::tempdir().unwrap();
    let cp = plane(&dir);
    cp.bootstrap(Some(LOCAL_INSTANCE), NOW + 5).unwrap();
    let all = cp.instances().unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].algorithm, Algorithm::RS256);
    assert_eq!(all[0].audience, "urn:tok:local:local");
}

#[test]
fn a_token_verifies_with_the_instance_key_and_carries_the_asked_claims() {
    let dir = tempfile::tempdir().unwrap();
    let cp = plane(&dir);
    cp.create_tenant("acme", None, None, NOW).unwrap();
    let created = cp
        .create_token(&spec("acme", "ci", Expiry::At(NOW + 7 * 86_400)), NOW)
        .unwrap();
    let (_, der) = cp.public_key("local").unwrap();
    let keys = [VerifyKey {
        kid: None,
        key: parse_public_key(&der).unwrap(),
    }];
    let opts = VerifyOptions {
        audience: Some("urn:tok:local:local".into()),
        now: NOW + 1,
        ..VerifyOptions::default()
    };
    let v = verify(&created.jwt, &keys, &opts).unwrap();
    assert_eq!(v.claims["sub"], "ci");
    assert_eq!(v.claims["jti"], created.record.id.as_str());
    assert_eq!(v.expires_at, Some(NOW + 7 * 86_400));
    assert_eq!(v.header["kid"], created.record.kid.as_str());
    // Expired one second after its expiry, valid one second before.
    let late = VerifyOptions {
        now: NOW + 7 * 86_400,
        ..opts.clone()
    };
    assert!(verify(&created.jwt, &keys, &late).is_err());
    let early = VerifyOptions {
        now: NOW + 7 * 86_400 - 1,
        ..opts
    };
    assert!(verify(&created.jwt, &keys, &early).is_ok());
}

#[test]
fn never_means_no_exp_and_past_expiry_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let cp = plane(&dir);
    cp.create_tenant("acme", None, None, NOW).unwrap();
    let t = cp
        .create_token(&spec("acme", "forever", Expiry::Never), NOW)
        .unwrap();
    assert!(decode(&t.jwt).unwrap().claims.get("exp").is_none());
    assert!(matches!(
        cp.create_token(&spec("acme", "past", Expiry::At(NOW)), NOW),
        Err(ControlError::Invalid(_))
    ));
}

#[test]
fn names_are_unique_and_unknown_parents_are_not_found() {
    let dir = tempfile::tempdir().unwrap();
    let cp = plane(&dir);
    cp.create_tenant("acme", None, None, NOW).unwrap();
    assert!(matches!(
        cp.create_tenant("acme", None, None, NOW),
        Err(ControlError::Conflict { .. })
    ));
    assert!(matches!(
        cp.create_tenant("a/b", None, None, NOW),
        Err(ControlError::Invalid(_))
    ));
    assert!(matches!(
        cp.create_tenant("other", Some("nope"), None, NOW),
        Err(ControlError::NotFound {
            what: "instance",
            ..
        })
    ));
    cp.create_token(&spec("acme", "ci", Expiry::Never), NOW)
        .unwrap();
    assert!(matches!(
        cp.create_token(&spec("acme", "ci", Expiry::Never), NOW),
        Err(ControlError::Conflict { .. })
    ));
    assert!(matches!(
        cp.create_token(&spec("ghost", "ci", Expiry::Never), NOW),
        Err(ControlError::NotFound { what: "tenant", .. })
    ));
}

#[test]
fn cascades_delete_what_hangs_below() {
    let dir = tempfile::tempdir().unwrap();
    let cp = plane(&dir);
    cp.create_tenant("acme", None, None, NOW).unwrap();
    for n in ["a", "b", "c"] {
        cp.create_token(&spec("acme", n, Expiry::Never), NOW)
            .unwrap();
    }
    cp.revoke_token("acme", "a", NOW + 1).unwrap();
    assert_eq!(cp.tenant("acme").unwrap().token_count, 2);
    assert!(matches!(
        cp.delete_instance("local", false, NOW),
        Err(ControlError::Conflict { .. })
    ));
    assert_eq!(cp.delete_tenant("acme", NOW).unwrap(), 2);
    assert!(cp.tokens(None).unwrap().is_empty());
    cp.create_tenant("beta", None, None, NOW).unwrap();
    assert_eq!(cp.delete_instance("local", true, NOW).unwrap(), 1);
    assert!(cp.instances().unwrap().is_empty());
}

#[test]
fn a_tenant_ref_is_the_tenant_without_its_count() {
    let dir = tempfile::tempdir().unwrap();
    let cp = plane(&dir);
    cp.create_tenant("acme", None, None, NOW).unwrap();
    cp.create_token(&spec("acme", "ci", Expiry::Never), NOW)
        .unwrap();
    let full = cp.tenant("acme").unwrap();
    cp.store()
        .read(|tx| {
            let org_id = tx.org_id(LOCAL_ORG)?.unwrap();
            let r = tx.tenant_ref(&org_id, "acme")?.unwrap();
            assert_eq!(
                (r.id.as_str(), r.name.as_str(), r.instance.as_str()),
                (full.id.as_str(), "acme", full.instance.as_str())
            );
            assert!(tx.tenant_ref(&org_id, "ghost")?.is_none());
            assert!(tx.tenant_ref(&org_id, "ACME")?.is_none());
            assert!(tx.tenant_ref("org_other", "acme")?.is_none());
            Ok(())
        })
        .unwrap();
}

#[test]
fn rotation_retires_the_old_key_and_names_the_tokens_still_on_it() {
    let dir = tempfile::tempdir().unwrap();
    let cp = plane(&dir);
    cp.create_tenant("acme", None, None, NOW).unwrap();
    let old = cp
        .create_token(&spec("acme", "ci", Expiry::Never), NOW)
        .unwrap();
    let rot = cp.rotate_key("local", NOW + 10).unwrap();
    assert_eq!(rot.retired_kid, old.record.kid);
    assert_ne!(rot.instance.kid, old.record.kid);
    assert_eq!(rot.still_using_old.len(), 1);
    let keys = cp.instance_keys("local").unwrap();
    assert_eq!(keys.len(), 2);
    assert!(keys.iter().any(|k| k.retired_at == Some(NOW + 10)));
    let new = cp
        .create_token(&spec("acme", "cd", Expiry::Never), NOW + 11)
        .unwrap();
    assert_eq!(new.record.kid, rot.instance.kid);
}

/// Makes one change of each kind on `cp` (an HS256 instance, a tenant, a token, its
/// revocation, the tenant's deletion); returns the token's JWT and the instance's HMAC
/// secret (base64), the secrets that must reach neither the audit nor the store.
fn audited_changes<S: Store>(cp: &ControlPlane<S>) -> (String, String) {
    cp.create_instance(
        &InstanceSpec {
            name: "hs".into(),
            algorithm: Some(Algorithm::HS256),
            ..InstanceSpec::default()
        },
        NOW,
    )
    .unwrap();
    cp.create_tenant("acme", Some("hs"), None, NOW).unwrap();
    let t = cp
        .create_token(&spec("acme", "ci", Expiry::Never), NOW + 1)
        .unwrap();
    cp.revoke_token("acme", "ci", NOW + 2).unwrap();
    cp.delete_tenant("acme", NOW + 3).unwrap();
    let secret_line = cp.broker_config("hs").unwrap()[2].clone();
    let secret = secret_line.trim_start_matches("tokenSecretKey=data:;base64,");
    assert_ne!(
        secret, secret_line,
        "an HS256 instance's config carries its secret"
    );
    (t.jwt, secret.to_string())
}

#[test]
fn every_change_is_audited_and_no_secret_reaches_the_audit() {
    let dir = tempfile::tempdir().unwrap();
    let cp = plane(&dir);
    let (jwt, secret) = audited_changes(&cp);
    let actions: Vec<_> = cp.audit(0).unwrap().into_iter().map(|a| a.action).collect();
    assert_eq!(
        actions,
        [
            "org.create",
            "instance.create",
            "instance.create",
            "tenant.create",
            "token.create",
            "token.delete",
            "tenant.delete"
        ]
    );
    for a in cp.audit(0).unwrap() {
        let row = format!("{a:?}");
        assert!(!row.contains(&jwt) && !row.contains(&secret));
    }
    assert_eq!(cp.audit(NOW + 2).unwrap().len(), 2, "--since filters");
}

// SQLite only: it searches the database file (`tok.db`, `tok.db-wal`) for the token and the
// HMAC secret; the audit half is `every_change_is_audited_and_no_secret_reaches_the_audit`.
#[test]
fn no_token_or_hmac_secret_reaches_the_sqlite_file() {
    let dir = tempfile::tempdir().unwrap();
    let cp = sqlite_plane(&dir);
    let (jwt, secret) = audited_changes(&cp);
    let db = std::fs::read(dir.path().join("tok.db")).unwrap();
    let wal = std::fs::read(dir.path().join("tok.db-wal")).unwrap_or_default();
    for bytes in [&db, &wal] {
        let text = String::from_utf8_lossy(bytes);
        assert!(!text.contains(&jwt), "the token must never be stored");
        assert!(
            !text.contains(&secret),
            "the HMAC secret must be sealed at rest"
        );
    }
}

// SQLite only: the SQLite store's own file handling (schema version, a file that is not a
// database), poked with rusqlite.
#[test]
fn a_newer_database_is_refused_and_a_corrupt_one_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tok.db");
    drop(SqliteStore::open(&path).unwrap());
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute("INSERT INTO schema_version (version) VALUES (99)", [])
            .unwrap();
    }
    let err = SqliteStore::open(&path).err().unwrap().to_string();
    assert!(err.contains("newer"), "{err}");

    let junk = dir.path().join("junk.db");
    let garbage = b"this is not a database, it is a text file that must survive".repeat(100);
    std::fs::write(&junk, &garbage).unwrap();
    let err = SqliteStore::open(&junk).err().unwrap().to_string();
    assert!(err.contains("cannot open"), "{err}");
    assert_eq!(std::fs::read(&junk).unwrap(), garbage);
}

#[test]
fn the_org_maximum_lifetime_is_enforced_at_the_boundary() {
    let dir = tempfile::tempdir().unwrap();
    let cp = plane(&dir);
    cp.create_tenant("acme", None, None, NOW).unwrap();
    cp.set_max_token_lifetime(Some(7 * 86_400), NOW).unwrap();
    assert_eq!(cp.max_token_lifetime().unwrap(), Some(7 * 86_400));
    cp.create_token(&spec("acme", "ok", Expiry::At(NOW + 7 * 86_400)), NOW)
        .unwrap();
    for (name, expiry) in [
        ("long", Expiry::At(NOW + 7 * 86_400 + 1)),
        ("never", Expiry::Never),
    ] {
        let err = cp
            .create_token(&spec("acme", name, expiry), NOW)
            .unwrap_err();
        assert!(err.to_string().contains("at most 7d"), "{err}");
    }
    cp.set_max_token_lifetime(None, NOW).unwrap();
    cp.create_token(&spec("acme", "never", Expiry::Never), NOW)
        .unwrap();
    assert!(cp.set_max_token_lifetime(Some(0), NOW).is_err());
}

#[test]
fn an_org_whose_instances_were_deleted_does_not_get_one_back() {
    let dir = tempfile::tempdir().unwrap();
    let cp = plane(&dir);
    cp.delete_instance("local", false, NOW).unwrap();
    cp.bootstrap(Some(LOCAL_INSTANCE), NOW + 1).unwrap();
    assert!(cp.instances().unwrap().is_empty());
}

/// A panic inside a write transaction rolls it back and leaves the connection usable:
/// the next writer does not wait for a lock nobody will release.
#[test]
fn a_panic_in_a_transaction_rolls_back_and_frees_the_connection() {
    let dir = tempfile::tempdir().unwrap();
    let cp = plane(&dir);
    let store = cp.store();
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = store.write(|tx| {
            let org_id = tx.org_id(LOCAL_ORG)?.unwrap();
            tx.set_max_token_lifetime(&org_id, Some(60))?;
            panic!("boom");
            #[allow(unreachable_code)]
            Ok(())
        });
    }));
    assert!(panicked.is_err());
    assert_eq!(cp.max_token_lifetime().unwrap(), None, "rolled back");
    cp.set_max_token_lifetime(Some(3600), NOW).unwrap();
    assert_eq!(cp.max_token_lifetime().unwrap(), Some(3600));
}
