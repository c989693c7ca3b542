//! Authorization rules (`authz.rs`) as every operation applies them, over the test store
//! (`test_store`): refusals change nothing, tenants a caller cannot see are "not found",
//! nobody grants more than they hold, users are protected from those who hold less, and
//! application tokens authenticate, expire and are revoked. The clock is a parameter:
//! nothing here sleeps. The one test that reads the SQLite file itself opens a
//! `SqliteStore` by name.

use std::fmt::Debug;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::apptokens::AppTokenSpec;
use super::auth::{self, AuthPolicy, CLIENT_LOGIN_FAILED, Principal};
use super::opaque;
use super::policy::{Action, Policy, Resource};
use super::roles::{RoleSpec, RoleUpdate};
use super::sqlite::SqliteStore;
use super::test_store::{self, TestStore};
use super::tokens::effective_permissions;
use super::users::ADMIN_ROLE;
use super::*;
use crate::duration::Expiry;
use crate::jwt::Algorithm;

const NOW: i64 = 1_800_000_000;
const PASSWORD: &str = "correct horse battery";
const NEW_PASSWORD: &str = "a brand new passphrase";

type Cp = ControlPlane<Arc<TestStore>>;

/// The org owner's plane over `store`, with an HS256 instance (quicker to make than the
/// default RSA key).
fn owner_over<S: Store>(store: S) -> ControlPlane<S> {
    let sealer = Sealer::from_encoded(&Sealer::generate_master_key().unwrap()).unwrap();
    let cp = ControlPlane::new(store, MasterKey::ready(sealer), LOCAL_ORG, "local:test");
    cp.bootstrap(None, NOW).unwrap();
    cp.create_instance(
        &InstanceSpec {
            name: LOCAL_INSTANCE.into(),
            algorithm: Some(Algorithm::HS256),
            ..InstanceSpec::default()
        },
        NOW,
    )
    .unwrap();
    cp
}

/// The org owner's plane over a fresh test store in `dir`.
fn owner(dir: &tempfile::TempDir) -> Cp {
    owner_over(Arc::new(test_store::open(dir.path())))
}

/// The org owner's plane over a SQLite file at `dir/tok.db`, for the test that reads the
/// file.
fn sqlite_owner(dir: &tempfile::TempDir) -> ControlPlane<Arc<SqliteStore>> {
    owner_over(Arc::new(
        SqliteStore::open(&dir.path().join("tok.db")).unwrap(),
    ))
}

fn res(s: &str) -> Resource {
    s.parse().unwrap_or_else(|e| panic!("{e}"))
}

fn policy(actions: &[Action], resources: &[&str]) -> Policy {
    Policy {
        actions: actions.to_vec(),
        resources: resources.iter().map(|r| res(r)).collect(),
    }
}

/// A custom role that exists only in a principal's hands (never stored).
fn custom(name: &str, actions: &[Action], resources: &[&str]) -> Role {
    Role {
        id: format!("rol_{name}"),
        org_id: String::new(),
        name: name.into(),
        description: None,
        policy: policy(actions, resources),
        builtin: false,
        created_at: NOW,
        updated_at: NOW,
    }
}

fn builtin(cp: &Cp, name: &str) -> Role {
    cp.role(name).unwrap()
}

fn principal(kind: PrincipalKind, name: &str, roles: Vec<Role>) -> Principal {
    Principal {
        kind,
        id: format!("id_{name}"),
        name: name.into(),
        org: LOCAL_ORG.into(),
        session_id: None,
        expires_at: None,
        max_expires_at: None,
        grants: std::sync::Arc::new(auth::grants_of(&roles)),
    }
}

/// The owner's plane acting for the user `name` holding `roles`.
fn as_user(cp: &Cp, name: &str, roles: Vec<Role>) -> Cp {
    cp.acting(
        LOCAL_ORG,
        &principal(PrincipalKind::User, name, roles),
        None,
    )
}

fn names(roles: &[&str]) -> Vec<String> {
    roles.iter().map(|s| s.to_string()).collect()
}

fn role_spec(name: &str, actions: &[&str], resources: &[&str]) -> RoleSpec {
    RoleSpec {
        name: name.into(),
        description: None,
        actions: names(actions),
        resources: names(resources),
    }
}

fn token_spec(tenant: &str, name: &str, roles: &[&str]) -> TokenSpec {
    TokenSpec {
        tenant: tenant.into(),
        name: Some(name.into()),
        subject: None,
        description: None,
        expiry: Expiry::Never,
        roles: names(roles),
    }
}

fn app_spec(name: &str, roles: &[&str], expiry: Expiry) -> AppTokenSpec {
    AppTokenSpec {
        name: Some(name.into()),
        description: None,
        roles: names(roles),
        expiry,
    }
}

fn pepper<S: Store>(cp: &ControlPlane<S>) -> Vec<u8> {
    cp.master().get().unwrap().pepper().to_vec()
}

/// The message of a `Forbidden`; anything else fails the test.
fn forbidden<T: Debug>(r: ControlResult<T>) -> String {
    match r {
        Err(ControlError::Forbidden { message, .. }) => message,
        other => panic!("expected Forbidden, got {other:?}"),
    }
}

/// What and which name a `NotFound` names; anything else fails the test.
fn not_found<T: Debug>(r: ControlResult<T>) -> (&'static str, String) {
    match r {
        Err(ControlError::NotFound { what, name, .. }) => (what, name),
        other => panic!("expected NotFound, got {other:?}"),
    }
}

fn conflict<T: Debug>(r: ControlResult<T>) -> String {
    match r {
        Err(ControlError::Conflict { message, .. }) => message,
        other => panic!("expected Conflict, got {other:?}"),
    }
}

fn unauthenticated<T: Debug>(r: ControlResult<T>) -> (&'static str, String) {
    match r {
        Err(ControlError::Unauthenticated { code, message, .. }) => (code, message),
        other => panic!("expected Unauthenticated, got {other:?}"),
    }
}

/// Everything the org holds, as the owner sees it: equal before and after means a
/// refused operation changed nothing (every change also writes an audit record).
fn snapshot(cp: &Cp) -> Vec<String> {
    let mut out = vec![format!("audit {}", cp.audit(0).unwrap().len())];
    out.push(format!("max {:?}", cp.max_token_lifetime().unwrap()));
    for i in cp.instances().unwrap() {
        let kids: Vec<String> = cp
            .instance_keys(&i.name)
            .unwrap()
            .into_iter()
            .map(|k| format!("{}:{:?}", k.kid, k.retired_at))
            .collect();
        out.push(format!("instance {} {} {kids:?}", i.name, i.kid));
    }
    for t in cp.tenants(None).unwrap() {
        out.push(format!("tenant {} {}", t.name, t.token_count));
    }
    for t in cp.tokens(None).unwrap() {
        out.push(format!("token {}/{} {:?}", t.tenant, t.name, t.revoked_at));
    }
    for r in cp.roles().unwrap() {
        out.push(format!("role {} {:?}", r.name, r.policy));
    }
    for u in cp.users().unwrap() {
        out.push(format!(
            "user {} {:?} {:?} {}",
            u.username, u.roles, u.disabled_at, u.password_hash
        ));
    }
    for a in cp.app_tokens().unwrap() {
        out.push(format!("app {} {:?}", a.name, a.revoked_at));
    }
    out
}

type Op = Box<dyn Fn(&Cp) -> ControlResult<()>>;

fn op<T>(f: impl Fn(&Cp) -> ControlResult<T> + 'static) -> Op {
    Box::new(move |cp| f(cp).map(drop))
}

/// Every public operation of the control plane that needs a grant, with arguments that
/// would succeed for the owner.
fn every_operation() -> Vec<(&'static str, Op)> {
    vec![
        ("org_info", op(|cp| cp.org_info())),
        (
            "update_org",
            op(|cp| {
                cp.update_org(
                    &crate::model::OrgUpdate {
                        max_token_lifetime_seconds: Some(3600),
                    },
                    NOW,
                )
            }),
        ),
        ("max_token_lifetime", op(|cp| cp.max_token_lifetime())),
        (
            "set_max_token_lifetime",
            op(|cp| cp.set_max_token_lifetime(None, NOW)),
        ),
        ("audit", op(|cp| cp.audit(0))),
        ("audit_entries", op(|cp| cp.audit_entries(0))),
        ("instances", op(|cp| cp.instances())),
        ("instance", op(|cp| cp.instance(LOCAL_INSTANCE))),
        ("instance_info", op(|cp| cp.instance_info(LOCAL_INSTANCE))),
        ("instance_keys", op(|cp| cp.instance_keys(LOCAL_INSTANCE))),
        ("broker_config", op(|cp| cp.broker_config(LOCAL_INSTANCE))),
        (
            "create_instance",
            op(|cp| {
                cp.create_instance(
                    &InstanceSpec {
                        name: "second".into(),
                        algorithm: Some(Algorithm::HS256),
                        ..InstanceSpec::default()
                    },
                    NOW,
                )
            }),
        ),
        (
            "delete_instance",
            op(|cp| cp.delete_instance(LOCAL_INSTANCE, true, NOW)),
        ),
        ("rotate_key", op(|cp| cp.rotate_key(LOCAL_INSTANCE, NOW))),
        ("roles", op(|cp| cp.roles())),
        ("role (built-in)", op(|cp| cp.role("Token Manager"))),
        ("role (custom)", op(|cp| cp.role("custom"))),
        (
            "create_role",
            op(|cp| cp.create_role(&role_spec("r2", &["consume"], &["drn:tok:local"]), NOW)),
        ),
        (
            "update_role",
            op(|cp| {
                cp.update_role(
                    "custom",
                    &RoleUpdate {
                        description: Some("changed".into()),
                        ..RoleUpdate::default()
                    },
                    NOW,
                )
            }),
        ),
        ("delete_role", op(|cp| cp.delete_role("custom", true, NOW))),
        ("users", op(|cp| cp.users())),
        ("user", op(|cp| cp.user("root"))),
        (
            "create_user",
            op(|cp| cp.create_user("eve", PASSWORD, &[], NOW)),
        ),
        ("delete_user", op(|cp| cp.delete_user("carol", NOW))),
        (
            "set_password",
            op(|cp| cp.set_password("carol", NEW_PASSWORD, NOW)),
        ),
        (
            "grant_role",
            op(|cp| cp.grant_role("carol", "Read Only User", NOW)),
        ),
        (
            "revoke_role",
            op(|cp| cp.revoke_role("root", "Token Manager", NOW)),
        ),
        (
            "set_user_disabled",
            op(|cp| cp.set_user_disabled("carol", true, NOW)),
        ),
        ("app_tokens", op(|cp| cp.app_tokens())),
        ("app_token", op(|cp| cp.app_token("app1"))),
        (
            "create_app_token",
            op(|cp| cp.create_app_token(&app_spec("app2", &["Token Manager"], Expiry::Never), NOW)),
        ),
        (
            "revoke_app_token",
            op(|cp| cp.revoke_app_token("app1", NOW)),
        ),
        ("tenants", op(|cp| cp.tenants(None))),
        (
            "tenants (of an instance)",
            op(|cp| cp.tenants(Some(LOCAL_INSTANCE))),
        ),
        ("tenant", op(|cp| cp.tenant("acme"))),
        (
            "create_tenant",
            op(|cp| cp.create_tenant("new", None, None, NOW)),
        ),
        ("delete_tenant", op(|cp| cp.delete_tenant("acme", NOW))),
        ("tokens", op(|cp| cp.tokens(None))),
        ("tokens (of a tenant)", op(|cp| cp.tokens(Some("acme")))),
        ("token", op(|cp| cp.token("acme", "t1"))),
        (
            "create_token",
            op(|cp| cp.create_token(&token_spec("acme", "t2", &[]), NOW)),
        ),
        ("revoke_token", op(|cp| cp.revoke_token("acme", "t1", NOW))),
    ]
}

/// An org with an instance, tenants `acme` (token `t1`) and `other` (token `o1`), the
/// custom role `custom`, the users `root` (Organization Administrator and Token Manager)
/// and `carol` (no role), and the application token `app1`. The users are inserted with
/// a password hash made once per process (Argon2 is slow on purpose).
fn populated(dir: &tempfile::TempDir) -> Cp {
    use std::sync::OnceLock;
    static HASH: OnceLock<String> = OnceLock::new();
    let hash = HASH.get_or_init(|| users::hash_password(PASSWORD).unwrap());
    let cp = owner(dir);
    cp.create_tenant("acme", None, None, NOW).unwrap();
    cp.create_tenant("other", None, None, NOW).unwrap();
    cp.create_token(&token_spec("acme", "t1", &[]), NOW)
        .unwrap();
    cp.create_token(&token_spec("other", "o1", &[]), NOW)
        .unwrap();
    cp.create_role(&role_spec("custom", &["consume"], &["drn:tok:local"]), NOW)
        .unwrap();
    cp.store()
        .write(|tx| {
            let org_id = tx.org_id(LOCAL_ORG)?.unwrap();
            for (name, roles) in [
                ("root", vec![ADMIN_ROLE, "Token Manager"]),
                ("carol", vec![]),
            ] {
                let user = User {
                    id: format!("usr_{name}"),
                    org_id: org_id.clone(),
                    org: LOCAL_ORG.into(),
                    username: name.into(),
                    password_hash: hash.clone(),
                    created_at: NOW,
                    failed_logins: 0,
                    locked_until: None,
                    disabled_at: None,
                    roles: Vec::new(),
                };
                tx.insert_user(&user)?;
                for role in roles {
                    tx.assign_role(
                        &roles::builtin_id(role),
                        super::model::HOLDER_USER,
                        &user.id,
                        name,
                    )?;
                }
            }
            Ok(())
        })
        .unwrap();
    cp.create_app_token(&app_spec("app1", &["Token Manager"], Expiry::Never), NOW)
        .unwrap();
    cp
}

// 1. Every operation refuses a principal whose roles grant nothing of it.

#[test]
fn every_operation_refuses_a_principal_without_roles_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let cp = populated(&dir);
    let before = snapshot(&cp);
    // No role at all; and only data-plane actions on the whole org (no management one).
    let data_plane: Vec<Action> = Action::ALL
        .into_iter()
        .filter(|a| a.is_data_plane())
        .collect();
    let callers = [
        ("user:nobody", as_user(&cp, "nobody", Vec::new()), "no role"),
        (
            "application:pipes",
            cp.acting(
                LOCAL_ORG,
                &principal(
                    PrincipalKind::Application,
                    "pipes",
                    vec![custom("data", &data_plane, &["drn:tok:local"])],
                ),
                None,
            ),
            "roles data",
        ),
    ];
    for (actor, caller, held) in &callers {
        for (name, f) in every_operation() {
            match f(caller) {
                Err(ControlError::Forbidden { message, hint }) => {
                    assert!(
                        message.starts_with(&format!("not allowed: {actor} holds no role")),
                        "{actor} {name}: {message}"
                    );
                    let hint = hint.unwrap_or_default();
                    assert!(
                        hint.contains(&format!("it holds {held}")),
                        "{actor} {name}: {hint}"
                    );
                }
                other => panic!("{actor} {name}: expected Forbidden, got {other:?}"),
            }
        }
        assert_eq!(snapshot(&cp), before, "{actor}: nothing changed");
    }
    // Application callers are told they cannot be given more.
    let hint = match cp
        .acting(
            LOCAL_ORG,
            &principal(PrincipalKind::Application, "pipes", Vec::new()),
            None,
        )
        .tenants(None)
    {
        Err(ControlError::Forbidden { hint, .. }) => hint.unwrap(),
        other => panic!("expected Forbidden, got {other:?}"),
    };
    assert!(hint.contains("application tokens are immutable"), "{hint}");

    // The same table succeeds for the owner (so each row really needs a grant), and the
    // public JWKS needs none.
    let nobody = as_user(&cp, "nobody", Vec::new());
    assert!(nobody.jwks(LOCAL_INSTANCE).is_ok(), "the JWKS is public");
    for (name, f) in every_operation() {
        // Run the owner's table on a fresh org: the rows delete what later rows use.
        let dir = tempfile::tempdir().unwrap();
        let fresh = populated(&dir);
        f(&fresh).unwrap_or_else(|e| panic!("the owner: {name}: {e:?}"));
    }
}

// 2. Hiding: a tenant the caller's roles do not reach is "not found", existing or not.

#[test]
fn a_tenant_reader_sees_only_its_tenant_and_others_are_not_found() {
    let dir = tempfile::tempdir().unwrap();
    let cp = populated(&dir);
    let before = snapshot(&cp);
    let reader = as_user(
        &cp,
        "reader",
        vec![custom(
            "acme-reader",
            &[Action::TenantRead, Action::TokenRead],
            &["drn:tok:local:tenant:acme"],
        )],
    );

    assert_eq!(reader.tenant("acme").unwrap().name, "acme");
    // An existing tenant and a missing one give the same answer.
    for name in ["other", "nosuch"] {
        assert_eq!(not_found(reader.tenant(name)), ("tenant", name.to_string()));
        assert_eq!(
            not_found(reader.tokens(Some(name))),
            ("tenant", name.to_string())
        );
        assert_eq!(
            not_found(reader.token(name, "o1")),
            ("tenant", name.to_string())
        );
    }
    let listed: Vec<String> = reader
        .tenants(None)
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(listed, ["acme"]);
    // Which instances exist is for those who may read instances.
    assert!(forbidden(reader.tenants(Some(LOCAL_INSTANCE))).contains("instance-read"));
    let tokens: Vec<String> = reader
        .tokens(None)
        .unwrap()
        .into_iter()
        .map(|t| format!("{}/{}", t.tenant, t.name))
        .collect();
    assert_eq!(tokens, ["acme/t1"]);
    assert_eq!(reader.token("acme", "t1").unwrap().name, "t1");
    // The token listing with application tokens: only org-wide readers see those.
    let all: Vec<String> = reader
        .tokens_info(None, None)
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(all, ["t1"]);
    assert!(forbidden(reader.tokens_info(None, Some("application"))).contains("token-read"));

    // Visible but not writable: Forbidden, naming the action; holding no write anywhere
    // is Forbidden too, whatever the tenant.
    let m = forbidden(reader.delete_tenant("acme", NOW));
    assert!(
        m.contains("user:reader") && m.contains("tenant-write on drn:tok:local:tenant:acme"),
        "{m}"
    );
    for name in ["other", "nosuch"] {
        forbidden(reader.delete_tenant(name, NOW));
    }
    let m = forbidden(reader.create_tenant("x", None, None, NOW));
    assert!(m.contains("tenant-write on drn:tok:local:tenant:x"), "{m}");
    assert!(forbidden(reader.revoke_token("acme", "t1", NOW)).contains("token-write"));
    assert!(
        forbidden(reader.create_token(&token_spec("acme", "t9", &[]), NOW)).contains("token-write")
    );

    // Holding tenant-write on acme only: other tenants, existing or not, are not found.
    let writer = as_user(
        &cp,
        "writer",
        vec![custom(
            "acme-writer",
            &[Action::TenantWrite, Action::TokenWrite],
            &["drn:tok:local:tenant:acme"],
        )],
    );
    for name in ["other", "nosuch"] {
        assert_eq!(
            not_found(writer.delete_tenant(name, NOW)),
            ("tenant", name.to_string())
        );
        assert_eq!(
            not_found(writer.revoke_token(name, "o1", NOW)),
            ("tenant", name.to_string())
        );
        assert_eq!(
            not_found(writer.create_token(&token_spec(name, "t9", &[]), NOW)),
            ("tenant", name.to_string())
        );
    }
    // ... and creating a tenant elsewhere is refused, not hidden.
    forbidden(writer.create_tenant("x", None, None, NOW));
    assert_eq!(snapshot(&cp), before, "nothing changed");

    // A wildcard scope reaches the tenants it matches, and only those.
    let cp_tenants = as_user(
        &cp,
        "star",
        vec![custom(
            "ac-star",
            &[Action::TenantRead],
            &["drn:tok:local:tenant:ac*"],
        )],
    );
    let listed: Vec<String> = cp_tenants
        .tenants(None)
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(listed, ["acme"]);
    assert_eq!(not_found(cp_tenants.tenant("other")).0, "tenant");
    assert_eq!(
        not_found(cp_tenants.tenant("acx")).0,
        "tenant",
        "reachable but missing: plain not found"
    );
}

// 3. No escalation: nobody grants what they do not hold.

#[test]
fn roles_and_application_tokens_grant_only_what_their_author_holds() {
    let dir = tempfile::tempdir().unwrap();
    let cp = owner(&dir);
    let tm = builtin(&cp, "Token Manager");

    // Token Manager alone may not write roles at all.
    let plain_tm = as_user(&cp, "tm", vec![tm.clone()]);
    assert!(
        forbidden(plain_tm.create_role(&role_spec("r", &["token-read"], &["drn:tok:local"]), NOW))
            .contains("role-write on drn:tok:local")
    );

    // With role-write besides, it may hand out what it holds, and nothing else.
    let writer = custom("role-writer", &[Action::RoleWrite], &["drn:tok:local"]);
    let tm = as_user(&cp, "tm", vec![tm, writer.clone()]);
    tm.create_role(
        &role_spec(
            "readers",
            &["token-read", "tenant-read"],
            &["drn:tok:local"],
        ),
        NOW,
    )
    .unwrap();
    let m = forbidden(tm.create_role(
        &role_spec("admins", &["token-read", "user-write"], &["drn:tok:local"]),
        NOW,
    ));
    assert!(
        m.contains("user-write on drn:tok:local")
            && m.contains("user:tm may not")
            && m.contains("role 'admins'"),
        "{m}"
    );
    let m =
        forbidden(tm.create_app_token(&app_spec("root-app", &[ADMIN_ROLE], Expiry::Never), NOW));
    assert!(m.contains("role 'Organization Administrator'"), "{m}");
    tm.create_app_token(&app_spec("tm-app", &["Token Manager"], Expiry::Never), NOW)
        .unwrap();
    let apps: Vec<String> = cp
        .app_tokens()
        .unwrap()
        .into_iter()
        .map(|a| a.name)
        .collect();
    assert_eq!(apps, ["tm-app"]);
    let roles: Vec<String> = cp
        .roles()
        .unwrap()
        .into_iter()
        .filter(|r| !r.builtin)
        .map(|r| r.name)
        .collect();
    assert_eq!(roles, ["readers"]);

    // A user-writer may not create or promote a user beyond itself either.
    let uw = as_user(
        &cp,
        "uw",
        vec![custom(
            "uw",
            &[Action::UserWrite, Action::UserRead],
            &["drn:tok:local"],
        )],
    );
    assert!(
        forbidden(uw.create_user("eve", PASSWORD, &names(&[ADMIN_ROLE]), NOW))
            .contains("role 'Organization Administrator'")
    );
    assert!(uw.users().unwrap().is_empty(), "nobody was created");
}

#[test]
fn a_scoped_role_writer_narrows_but_never_widens() {
    let dir = tempfile::tempdir().unwrap();
    let cp = owner(&dir);
    let p = as_user(
        &cp,
        "scoped",
        vec![
            custom("role-writer", &[Action::RoleWrite], &["drn:tok:local"]),
            custom(
                "acme-consumer",
                &[Action::Consume],
                &["drn:tok:local:tenant:acme"],
            ),
        ],
    );
    // Narrower than held: fine.
    p.create_role(
        &role_spec(
            "ns",
            &["consume"],
            &["drn:tok:local:tenant:acme:namespace:*"],
        ),
        NOW,
    )
    .unwrap();
    // Wider scope, other action, or the whole org: refused, naming the first gap.
    let wider: &[(&[&str], &[&str], &str)] = &[
        (
            &["consume"],
            &["drn:tok:local:tenant:*"],
            "consume on drn:tok:local:tenant:*",
        ),
        (
            &["consume"],
            &["drn:tok:local:tenant:ac*"],
            "consume on drn:tok:local:tenant:ac*",
        ),
        (
            &["produce"],
            &["drn:tok:local:tenant:acme"],
            "produce on drn:tok:local:tenant:acme",
        ),
        (&["consume"], &["drn:tok:local"], "consume on drn:tok:local"),
        (
            &["consume"],
            &["drn:tok:local:tenant:acme", "drn:tok:local:tenant:other"],
            "consume on drn:tok:local:tenant:other",
        ),
        (
            &["consume", "role-read"],
            &["drn:tok:local:tenant:acme"],
            "role-read on drn:tok:local:tenant:acme",
        ),
    ];
    for (actions, resources, gap) in wider {
        let m = forbidden(p.create_role(&role_spec("wide", actions, resources), NOW));
        assert!(m.contains(gap), "{actions:?} {resources:?}: {m}");
    }
    assert!(matches!(
        cp.role("wide"),
        Err(ControlError::NotFound { .. })
    ));

    // Updating its own role: widening is refused and leaves it as it was; narrowing or
    // re-scoping within what it holds is fine.
    let before = cp.role("ns").unwrap();
    for update in [
        RoleUpdate {
            resources: Some(names(&["drn:tok:local:tenant:*"])),
            ..RoleUpdate::default()
        },
        RoleUpdate {
            actions: Some(names(&["produce"])),
            ..RoleUpdate::default()
        },
        RoleUpdate {
            actions: Some(names(&["consume", "produce"])),
            resources: Some(names(&["drn:tok:local:tenant:acme:namespace:x"])),
            ..RoleUpdate::default()
        },
    ] {
        let m = forbidden(p.update_role("ns", &update, NOW + 1));
        assert!(
            m.contains("user:scoped may not") && m.contains("role 'ns'"),
            "{m}"
        );
    }
    assert_eq!(cp.role("ns").unwrap(), before, "unchanged");
    let updated = p
        .update_role(
            "ns",
            &RoleUpdate {
                resources: Some(names(&["drn:tok:local:tenant:acme"])),
                ..RoleUpdate::default()
            },
            NOW + 2,
        )
        .unwrap();
    assert_eq!(
        updated.policy,
        policy(&[Action::Consume], &["drn:tok:local:tenant:acme"])
    );

    // A role wider than the caller cannot be edited (even narrowed) or deleted by it.
    cp.create_role(&role_spec("wide", &["produce"], &["drn:tok:local"]), NOW)
        .unwrap();
    let wide = cp.role("wide").unwrap();
    let m = forbidden(p.update_role(
        "wide",
        &RoleUpdate {
            actions: Some(names(&["consume"])),
            resources: Some(names(&["drn:tok:local:tenant:acme"])),
            ..RoleUpdate::default()
        },
        NOW + 3,
    ));
    assert!(m.contains("produce on drn:tok:local"), "{m}");
    forbidden(p.update_role(
        "wide",
        &RoleUpdate {
            description: Some("only the text".into()),
            ..RoleUpdate::default()
        },
        NOW + 3,
    ));
    forbidden(p.delete_role("wide", true, NOW + 3));
    assert_eq!(cp.role("wide").unwrap(), wide, "unchanged");
    p.delete_role("ns", false, NOW + 4).unwrap();
}

#[test]
fn a_streaming_token_carries_only_roles_whose_pulsar_actions_its_author_holds() {
    let dir = tempfile::tempdir().unwrap();
    let cp = owner(&dir);
    cp.create_tenant("acme", None, None, NOW).unwrap();
    cp.create_tenant("other", None, None, NOW).unwrap();

    let ta = as_user(&cp, "ta", vec![builtin(&cp, "Tenant Administrator")]);
    let created = ta
        .create_token(&token_spec("acme", "rw", &["API Read/Write User"]), NOW)
        .unwrap();
    let held: Vec<&str> = created
        .record
        .roles
        .iter()
        .map(|r| r.name.as_str())
        .collect();
    assert_eq!(held, ["API Read/Write User"]);
    assert_eq!(
        effective_permissions(&created.record.roles, LOCAL_ORG, "acme"),
        [policy(
            &[Action::Produce, Action::Consume],
            &["drn:tok:local:tenant:acme"]
        )]
    );
    // The token as shown says the same.
    let view = cp.token_info("acme", "rw").unwrap();
    let perms: Vec<String> = view
        .permissions
        .iter()
        .map(|p| format!("{} {}", p.action, p.resource))
        .collect();
    assert_eq!(
        perms,
        [
            "produce drn:tok:local:tenant:acme",
            "consume drn:tok:local:tenant:acme"
        ]
    );

    // Roles are read within the tenant: even Organization Administrator on a streaming
    // token means only the Pulsar actions there, which TA holds.
    let admin_token = ta
        .create_token(&token_spec("acme", "admin", &[ADMIN_ROLE]), NOW)
        .unwrap();
    assert_eq!(
        effective_permissions(&admin_token.record.roles, LOCAL_ORG, "acme"),
        [policy(
            &[
                Action::Produce,
                Action::Consume,
                Action::Functions,
                Action::Sources,
                Action::Sinks,
                Action::Packages
            ],
            &["drn:tok:local:tenant:acme"]
        )]
    );

    // Holding only token-write on the tenant: a token, yes; one carrying produce, no.
    let tw = as_user(
        &cp,
        "tw",
        vec![custom(
            "acme-tokens",
            &[Action::TokenWrite],
            &["drn:tok:local:tenant:acme"],
        )],
    );
    let audit = cp.audit(0).unwrap().len();
    let m = forbidden(tw.create_token(&token_spec("acme", "rw2", &["API Read/Write User"]), NOW));
    assert!(
        m.contains("role 'API Read/Write User'")
            && m.contains("produce on drn:tok:local:tenant:acme"),
        "{m}"
    );
    assert_eq!(cp.audit(0).unwrap().len(), audit, "nothing created");
    tw.create_token(&token_spec("acme", "plain", &[]), NOW)
        .unwrap();
    // A role without Pulsar actions would give the token nothing within the tenant: refused.
    match tw.create_token(&token_spec("acme", "tm", &["Token Manager"]), NOW) {
        Err(ControlError::Invalid(m)) => {
            assert!(m.contains("'Token Manager' grants no Pulsar action"), "{m}")
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
    // Another tenant is hidden from it.
    assert_eq!(
        not_found(tw.create_token(&token_spec("other", "x", &[]), NOW)).0,
        "tenant"
    );

    // Consume within acme held: a role consuming on every tenant is fine for acme (it is
    // read within the tenant), producing is not.
    cp.create_role(
        &role_spec("all-consume", &["consume"], &["drn:tok:local:tenant:*"]),
        NOW,
    )
    .unwrap();
    let consumer = as_user(
        &cp,
        "consumer",
        vec![custom(
            "acme-consumer",
            &[Action::TokenWrite, Action::Consume],
            &["drn:tok:local:tenant:acme"],
        )],
    );
    consumer
        .create_token(&token_spec("acme", "c", &["all-consume"]), NOW)
        .unwrap();
    forbidden(consumer.create_token(&token_spec("acme", "c2", &["API Read/Write User"]), NOW));
}

// 4. Users: protected from those who hold less; the org keeps an administrator.

#[test]
fn a_user_who_holds_more_than_the_caller_cannot_be_changed_by_it() {
    let dir = tempfile::tempdir().unwrap();
    let cp = owner(&dir);
    cp.create_user("dba", PASSWORD, &names(&["Database Administrator"]), NOW)
        .unwrap();
    cp.create_user("ta", PASSWORD, &names(&["Tenant Administrator"]), NOW)
        .unwrap();
    let mgr = as_user(
        &cp,
        "mgr",
        vec![
            custom(
                "user-manager",
                &[Action::UserRead, Action::UserWrite],
                &["drn:tok:local"],
            ),
            builtin(&cp, "Tenant Administrator"),
        ],
    );
    let before = snapshot(&cp);
    let over = |m: String| {
        assert!(
            m.contains("user:mgr may not")
                && m.contains("'dba'")
                && m.contains("role 'Database Administrator'")
                && m.contains("db-cql on drn:tok:local"),
            "{m}"
        );
    };
    over(forbidden(mgr.set_user_disabled("dba", true, NOW)));
    over(forbidden(mgr.set_user_disabled("dba", false, NOW)));
    over(forbidden(mgr.delete_user("dba", NOW)));
    over(forbidden(mgr.set_password("dba", NEW_PASSWORD, NOW)));
    assert!(
        forbidden(mgr.revoke_role("dba", "Database Administrator", NOW))
            .contains("role 'Database Administrator'")
    );
    assert_eq!(snapshot(&cp), before, "nothing changed");

    // A user who holds no more than the caller: every change goes through.
    let (_, granted) = mgr.grant_role("ta", "Tenant Administrator", NOW).unwrap();
    assert!(!granted, "held already");
    assert_eq!(
        mgr.set_user_disabled("ta", true, NOW).unwrap().disabled_at,
        Some(NOW)
    );
    assert!(
        mgr.set_user_disabled("ta", false, NOW)
            .unwrap()
            .disabled_at
            .is_none()
    );
    mgr.set_password("ta", NEW_PASSWORD, NOW).unwrap();
    // ... but not beyond what the caller holds.
    assert!(
        forbidden(mgr.grant_role("ta", "Read Only User", NOW)).contains("role 'Read Only User'")
    );
    assert!(
        mgr.revoke_role("ta", "Tenant Administrator", NOW)
            .unwrap()
            .roles
            .is_empty()
    );
    mgr.delete_user("ta", NOW).unwrap();
    assert_eq!(
        not_found(cp.user("ta")),
        ("user", "ta".to_string()),
        "deleted"
    );
}

/// README, "No escalation": "nobody changes (password, roles, disable, delete) a user who
/// holds more than they do". `grant_role` and `revoke_role` check only the role, not the
/// user's other roles.
#[test]
fn the_roles_of_a_user_who_holds_more_than_the_caller_cannot_be_changed_by_it() {
    let dir = tempfile::tempdir().unwrap();
    let cp = owner(&dir);
    cp.create_user(
        "both",
        PASSWORD,
        &names(&["Tenant Administrator", "Database Administrator"]),
        NOW,
    )
    .unwrap();
    let mgr = as_user(
        &cp,
        "mgr",
        vec![
            custom(
                "user-manager",
                &[Action::UserRead, Action::UserWrite],
                &["drn:tok:local"],
            ),
            builtin(&cp, "Tenant Administrator"),
        ],
    );
    cp.create_user("dba", PASSWORD, &names(&["Database Administrator"]), NOW)
        .unwrap();
    let before = snapshot(&cp);
    // Both roles are ones mgr holds itself: only the users' other roles should stop it.
    let revoke = mgr.revoke_role("both", "Tenant Administrator", NOW);
    let grant = mgr
        .grant_role("dba", "Tenant Administrator", NOW)
        .map(|(u, granted)| (u.roles, granted));
    assert!(
        matches!(revoke, Err(ControlError::Forbidden { .. }))
            && matches!(grant, Err(ControlError::Forbidden { .. })),
        "revoke: {revoke:?}; grant: {grant:?}"
    );
    assert_eq!(snapshot(&cp), before, "nothing changed");
}

#[test]
fn the_last_enabled_administrator_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let cp = owner(&dir);
    cp.create_user("root", PASSWORD, &names(&[ADMIN_ROLE]), NOW)
        .unwrap();
    cp.create_user("bob", PASSWORD, &[], NOW).unwrap();
    let last = |m: String| {
        assert!(
            m.contains(
                "would leave org 'local' without an enabled user holding Organization Administrator"
            ),
            "{m}"
        );
    };
    let before = snapshot(&cp);
    last(conflict(cp.set_user_disabled("root", true, NOW)));
    last(conflict(cp.delete_user("root", NOW)));
    last(conflict(cp.revoke_role("root", ADMIN_ROLE, NOW)));
    assert_eq!(snapshot(&cp), before, "nothing changed");

    // Granting twice changes nothing the second time.
    let (bob, granted) = cp.grant_role("bob", ADMIN_ROLE, NOW).unwrap();
    assert!(granted);
    assert_eq!(bob.roles, [ADMIN_ROLE]);
    let audit = cp.audit(0).unwrap().len();
    let (bob, granted) = cp
        .grant_role("bob", "organization administrator", NOW)
        .unwrap();
    assert!(!granted);
    assert_eq!(bob.roles, [ADMIN_ROLE]);
    assert_eq!(cp.audit(0).unwrap().len(), audit, "not audited twice");

    // A disabled administrator does not count.
    cp.set_user_disabled("bob", true, NOW).unwrap();
    last(conflict(cp.set_user_disabled("root", true, NOW)));
    last(conflict(cp.revoke_role("root", ADMIN_ROLE, NOW)));
    last(conflict(cp.delete_user("root", NOW)));
    cp.set_user_disabled("bob", false, NOW).unwrap();

    // With another enabled administrator, root may lose the role.
    let root = cp.revoke_role("root", ADMIN_ROLE, NOW).unwrap();
    assert!(root.roles.is_empty());
    assert_eq!(
        not_found(cp.revoke_role("root", ADMIN_ROLE, NOW)),
        ("role assignment", format!("root: {ADMIN_ROLE}"))
    );
    assert_eq!(
        not_found(cp.revoke_role("root", "Read Only User", NOW)).0,
        "role assignment"
    );
    assert!(matches!(
        cp.revoke_role("root", "Superuser", NOW),
        Err(ControlError::Invalid(m)) if m.contains("unknown role 'Superuser'")
    ));
    // Now bob is the last one.
    last(conflict(cp.delete_user("bob", NOW)));
    last(conflict(cp.set_user_disabled("bob", true, NOW)));
    cp.delete_user("root", NOW).unwrap();
}

#[test]
fn a_user_reads_itself_and_sets_its_own_password_without_user_grants() {
    let dir = tempfile::tempdir().unwrap();
    let cp = owner(&dir);
    cp.create_user("root", PASSWORD, &names(&[ADMIN_ROLE]), NOW)
        .unwrap();
    cp.create_user("carol", PASSWORD, &[], NOW).unwrap();
    let policy = AuthPolicy::default();
    let pepper = pepper(&cp);
    let (session, _) =
        auth::login(cp.store(), &pepper, &policy, "carol", PASSWORD, None, NOW).unwrap();

    let carol = as_user(&cp, "carol", Vec::new());
    let me = carol.user("carol").unwrap();
    assert_eq!(me.username, "carol");
    assert!(me.roles.is_empty());
    assert!(forbidden(carol.user("root")).contains("user-read"));
    assert!(forbidden(carol.users()).contains("user-read"));
    assert!(forbidden(carol.set_password("root", NEW_PASSWORD, NOW)).contains("user-write"));
    assert!(matches!(
        carol.set_password("carol", "short", NOW),
        Err(ControlError::Invalid(_))
    ));
    // An application token named carol is not the user carol.
    let app = cp.acting(
        LOCAL_ORG,
        &principal(PrincipalKind::Application, "carol", Vec::new()),
        None,
    );
    forbidden(app.user("carol"));
    forbidden(app.set_password("carol", NEW_PASSWORD, NOW));

    assert_eq!(
        carol.set_password("carol", NEW_PASSWORD, NOW + 1).unwrap(),
        1
    );
    assert_eq!(
        unauthenticated(auth::check_session(
            cp.store(),
            &pepper,
            &policy,
            &session,
            NOW + 2,
            None
        ))
        .0,
        "unknown_session",
        "the password change ended its session"
    );
    auth::login(
        cp.store(),
        &pepper,
        &policy,
        "carol",
        NEW_PASSWORD,
        None,
        NOW + 3,
    )
    .unwrap();
    let last = cp.audit(0).unwrap().into_iter().rev().nth(1).unwrap();
    assert_eq!(
        (
            last.actor.as_str(),
            last.action.as_str(),
            last.target.as_str()
        ),
        ("user:carol", "user.set-password", "carol")
    );
}

// 5. Application tokens.

/// Counts the transactions opened on a store.
struct Counting<'a, S: Store> {
    inner: &'a S,
    calls: AtomicUsize,
}

impl<S: Store> Store for Counting<'_, S> {
    fn write<T>(&self, f: impl FnOnce(&mut dyn Tx) -> ControlResult<T>) -> ControlResult<T> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.inner.write(f)
    }

    fn read<T>(&self, f: impl FnOnce(&mut dyn Tx) -> ControlResult<T>) -> ControlResult<T> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.inner.read(f)
    }
}

/// `secret` with the character at `i` replaced by another letter or digit.
fn one_char_changed(secret: &str, i: usize) -> String {
    let mut bytes = secret.as_bytes().to_vec();
    bytes[i] = if bytes[i] == b'a' { b'b' } else { b'a' };
    String::from_utf8(bytes).unwrap()
}

#[test]
fn an_application_token_authenticates_is_stored_hashed_and_lapses() {
    let dir = tempfile::tempdir().unwrap();
    let cp = owner(&dir);
    cp.create_tenant("acme", None, None, NOW).unwrap();
    let pepper = pepper(&cp);
    let policy = AuthPolicy::default();
    let expires = NOW + 3600;
    let created = cp
        .create_app_token(
            &app_spec("dash", &["Tenant Administrator"], Expiry::At(expires)),
            NOW,
        )
        .unwrap();
    assert!(created.token.starts_with("toka_"));
    assert!(created.client_secret.starts_with("tokcs_"));
    assert!(created.record.client_id.starts_with("tokci_"));
    opaque::check(opaque::Kind::Application, &created.token).unwrap();
    opaque::check(opaque::Kind::ClientSecret, &created.client_secret).unwrap();
    assert_eq!(created.record.expires_at, Some(expires));

    // Only HMACs are stored, not the secrets (the database file itself:
    // `an_application_tokens_secrets_never_reach_the_sqlite_file`).
    let stored = cp.app_token("dash").unwrap();
    assert_eq!(stored.client_id, created.record.client_id);
    assert_eq!(stored.token_hash, opaque::digest(&pepper, &created.token));
    assert_eq!(
        stored.secret_hash,
        opaque::digest(&pepper, &created.client_secret)
    );
    assert_ne!(stored.token_hash, created.token.as_bytes());
    assert_ne!(stored.secret_hash, created.client_secret.as_bytes());
    assert_eq!(cp.app_token(&stored.client_id).unwrap().name, "dash");
    for record in cp.audit(0).unwrap() {
        let line = format!("{record:?}");
        assert!(!line.contains(&created.token) && !line.contains(&created.client_secret));
    }

    // The bearer token: its roles, and what they allow.
    let (p, due) = auth::check_app_token(cp.store(), &pepper, &created.token, NOW).unwrap();
    assert!(due, "never used yet");
    assert_eq!(p.kind, PrincipalKind::Application);
    assert_eq!((p.name.as_str(), p.org.as_str()), ("dash", LOCAL_ORG));
    assert_eq!(p.expires_at, Some(expires));
    let held: Vec<&str> = p.grants.roles.iter().map(String::as_str).collect();
    assert_eq!(held, ["Tenant Administrator"]);
    let app = cp.acting(LOCAL_ORG, &p, None);
    assert_eq!(app.tenant("acme").unwrap().name, "acme");
    assert!(forbidden(app.users()).contains("application:dash"));

    // last_used_at: written at most once a minute.
    let last_used = || cp.app_token("dash").unwrap().last_used_at;
    assert_eq!(last_used(), None, "a check alone writes nothing");
    let bearer = |now| auth::authenticate(cp.store(), &pepper, &policy, &created.token, now);
    bearer(NOW + 10).unwrap();
    assert_eq!(last_used(), Some(NOW + 10));
    for now in [NOW + 11, NOW + 69] {
        let (_, due) = auth::check_app_token(cp.store(), &pepper, &created.token, now).unwrap();
        assert!(!due, "{now}");
        bearer(now).unwrap();
        assert_eq!(last_used(), Some(NOW + 10));
    }
    let (_, due) = auth::check_app_token(cp.store(), &pepper, &created.token, NOW + 70).unwrap();
    assert!(due);
    bearer(NOW + 70).unwrap();
    assert_eq!(last_used(), Some(NOW + 70));

    // Client credentials: a session that never outlives the token.
    let (session_token, session) = auth::login_client(
        cp.store(),
        &pepper,
        &policy,
        &created.record.client_id,
        &created.client_secret,
        None,
        NOW + 100,
    )
    .unwrap();
    assert_eq!(session.principal_kind, PrincipalKind::Application);
    assert_eq!(session.principal_name, "dash");
    assert_eq!(session.max_expires_at, expires);
    assert!(session.max_expires_at <= created.record.expires_at.unwrap());
    assert_eq!(session.expires_at, NOW + 100 + policy.session_ttl);
    let session_at = |now| auth::authenticate(cp.store(), &pepper, &policy, &session_token, now);
    let p = session_at(NOW + 200).unwrap();
    assert_eq!(p.kind, PrincipalKind::Application);
    assert_eq!(p.name, "dash");
    assert_eq!(p.grants.roles, ["Tenant Administrator"]);
    assert!(p.max_expires_at.unwrap() <= expires);
    // Used again and again, it slides only up to the token's expiry.
    assert_eq!(session_at(NOW + 1900).unwrap().expires_at, Some(expires));
    assert_eq!(session_at(expires - 60).unwrap().expires_at, Some(expires));

    // Past the expiry: the token, its session and new exchanges all fail.
    let (code, message) = unauthenticated(auth::check_app_token(
        cp.store(),
        &pepper,
        &created.token,
        expires,
    ));
    assert_eq!(code, "token_expired");
    assert!(message.contains("'dash' expired"), "{message}");
    assert_eq!(
        unauthenticated(auth::check_session(
            cp.store(),
            &pepper,
            &policy,
            &session_token,
            expires,
            None
        ))
        .0,
        "session_expired"
    );
    let (code, message) = unauthenticated(auth::login_client(
        cp.store(),
        &pepper,
        &policy,
        &created.record.client_id,
        &created.client_secret,
        None,
        expires,
    ));
    assert_eq!(
        (code, message.as_str()),
        ("invalid_credentials", CLIENT_LOGIN_FAILED)
    );
}

// SQLite only: it searches the database file (`tok.db`, `tok.db-wal`) for the token and the
// client secret; the rules half is
// `an_application_token_authenticates_is_stored_hashed_and_lapses`.
#[test]
fn an_application_tokens_secrets_never_reach_the_sqlite_file() {
    let dir = tempfile::tempdir().unwrap();
    let cp = sqlite_owner(&dir);
    cp.create_tenant("acme", None, None, NOW).unwrap();
    let created = cp
        .create_app_token(
            &app_spec("dash", &["Tenant Administrator"], Expiry::At(NOW + 3600)),
            NOW,
        )
        .unwrap();
    let mut on_disk = Vec::new();
    for file in ["tok.db", "tok.db-wal"] {
        if let Ok(bytes) = std::fs::read(dir.path().join(file)) {
            on_disk.extend(bytes);
        }
    }
    assert!(!on_disk.is_empty());
    for secret in [&created.token, &created.client_secret] {
        let needle = &secret.as_bytes()[secret.find('_').unwrap() + 1..];
        assert!(
            !on_disk.windows(needle.len()).any(|w| w == needle),
            "a secret reached the database"
        );
    }
}

#[test]
fn a_mistyped_client_secret_is_refused_before_any_lookup() {
    let dir = tempfile::tempdir().unwrap();
    let cp = owner(&dir);
    let pepper = pepper(&cp);
    let policy = AuthPolicy::default();
    let created = cp
        .create_app_token(&app_spec("ci", &["Token Manager"], Expiry::Never), NOW)
        .unwrap();
    let counting = Counting {
        inner: cp.store(),
        calls: AtomicUsize::new(0),
    };
    let secret = &created.client_secret;
    for i in ["tokcs_".len(), secret.len() / 2, secret.len() - 1] {
        let typo = one_char_changed(secret, i);
        assert_ne!(&typo, secret);
        let (code, message) = unauthenticated(auth::login_client(
            &counting,
            &pepper,
            &policy,
            &created.record.client_id,
            &typo,
            None,
            NOW,
        ));
        assert_eq!(code, "invalid_credentials");
        assert!(
            message.starts_with("the client secret is malformed: "),
            "{i}: {message}"
        );
    }
    for bad in ["", "tokcs_", "toka_abc", created.token.as_str()] {
        let (_, message) = unauthenticated(auth::login_client(
            &counting,
            &pepper,
            &policy,
            &created.record.client_id,
            bad,
            None,
            NOW,
        ));
        assert!(
            message.starts_with("the client secret is malformed"),
            "{bad}: {message}"
        );
    }
    assert_eq!(counting.calls.load(Ordering::SeqCst), 0, "no lookup");

    // A well-formed secret that is not this token's: looked up, and the generic answer.
    let other = opaque::generate(opaque::Kind::ClientSecret).unwrap();
    for (client_id, secret) in [
        (created.record.client_id.as_str(), other.as_str()),
        ("tokci_nosuch", created.client_secret.as_str()),
    ] {
        let (code, message) = unauthenticated(auth::login_client(
            &counting, &pepper, &policy, client_id, secret, None, NOW,
        ));
        assert_eq!(
            (code, message.as_str()),
            ("invalid_credentials", CLIENT_LOGIN_FAILED)
        );
    }
    assert!(counting.calls.load(Ordering::SeqCst) > 0);

    // The bearer token with a typo: refused offline too.
    let counting = Counting {
        inner: cp.store(),
        calls: AtomicUsize::new(0),
    };
    let (code, message) = unauthenticated(auth::check_app_token(
        &counting,
        &pepper,
        &one_char_changed(&created.token, 10),
        NOW,
    ));
    assert_eq!(code, "invalid_token");
    assert!(
        message.contains("not a valid application token"),
        "{message}"
    );
    assert_eq!(counting.calls.load(Ordering::SeqCst), 0, "no lookup");
    let (code, _) = unauthenticated(auth::check_app_token(
        cp.store(),
        &pepper,
        &opaque::generate(opaque::Kind::Application).unwrap(),
        NOW,
    ));
    assert_eq!(code, "unknown_token");
}

#[test]
fn a_revoked_application_token_and_its_sessions_stop_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let cp = owner(&dir);
    let pepper = pepper(&cp);
    let policy = AuthPolicy::default();
    let created = cp
        .create_app_token(&app_spec("ci", &["Token Manager"], Expiry::Never), NOW)
        .unwrap();
    assert_eq!(created.record.expires_at, None);
    let (session_token, session) = auth::login_client(
        cp.store(),
        &pepper,
        &policy,
        &created.record.client_id,
        &created.client_secret,
        None,
        NOW,
    )
    .unwrap();
    assert_eq!(session.max_expires_at, NOW + policy.session_max_lifetime);
    auth::check_session(cp.store(), &pepper, &policy, &session_token, NOW + 1, None).unwrap();

    // Only someone holding token-write on the org may revoke it.
    let reader = as_user(&cp, "reader", vec![builtin(&cp, "Read Only User")]);
    forbidden(reader.revoke_app_token("ci", NOW + 2));
    auth::check_app_token(cp.store(), &pepper, &created.token, NOW + 2).unwrap();

    let revoked = cp
        .revoke_app_token(&created.record.client_id, NOW + 5)
        .unwrap();
    assert_eq!(revoked.revoked_at, Some(NOW + 5));
    let (code, message) = unauthenticated(auth::check_app_token(
        cp.store(),
        &pepper,
        &created.token,
        NOW + 6,
    ));
    assert_eq!(code, "token_revoked");
    assert!(message.contains("'ci' was revoked"), "{message}");
    assert_eq!(
        unauthenticated(auth::check_session(
            cp.store(),
            &pepper,
            &policy,
            &session_token,
            NOW + 6,
            None
        ))
        .0,
        "unknown_session",
        "the session it bought is gone"
    );
    let (_, message) = unauthenticated(auth::login_client(
        cp.store(),
        &pepper,
        &policy,
        &created.record.client_id,
        &created.client_secret,
        None,
        NOW + 6,
    ));
    assert_eq!(message, CLIENT_LOGIN_FAILED);
    // Still listed, as revoked; revoking again finds nothing to revoke.
    assert_eq!(cp.app_tokens().unwrap()[0].revoked_at, Some(NOW + 5));
    assert_eq!(
        not_found(cp.revoke_app_token("ci", NOW + 7)),
        ("application token", "ci".to_string())
    );
}

// 6. What a policy means for a streaming token of one tenant.

#[test]
fn within_tenant_keeps_pulsar_actions_on_the_part_inside_the_tenant() {
    use Action::*;
    let all_pulsar = [Produce, Consume, Functions, Sources, Sinks, Packages];
    type Case<'a> = (
        &'a str,
        &'a [Action],
        &'a [&'a str],
        Option<(&'a [Action], &'a [&'a str])>,
    );
    let cases: &[Case] = &[
        (
            "org-wide: the tenant",
            &[Produce, Consume, TenantRead, TokenWrite],
            &["drn:tok:local"],
            Some((&[Produce, Consume], &["drn:tok:local:tenant:acme"])),
        ),
        (
            "every Pulsar action is kept",
            &Action::ALL,
            &["drn:tok:local"],
            Some((&all_pulsar, &["drn:tok:local:tenant:acme"])),
        ),
        (
            "tenant:* becomes the tenant",
            &[Consume],
            &["drn:tok:local:tenant:*"],
            Some((&[Consume], &["drn:tok:local:tenant:acme"])),
        ),
        (
            "a matching tenant pattern becomes the tenant",
            &[Consume],
            &["drn:tok:local:tenant:ac*"],
            Some((&[Consume], &["drn:tok:local:tenant:acme"])),
        ),
        (
            "the tenant itself",
            &[Produce],
            &["drn:tok:local:tenant:acme"],
            Some((&[Produce], &["drn:tok:local:tenant:acme"])),
        ),
        (
            "below the tenant: kept as is",
            &[Consume],
            &["drn:tok:local:tenant:acme:namespace:x"],
            Some((&[Consume], &["drn:tok:local:tenant:acme:namespace:x"])),
        ),
        (
            "below a tenant pattern: the deeper segments kept",
            &[Consume],
            &["drn:tok:local:tenant:*:namespace:ns:topic:t*"],
            Some((
                &[Consume],
                &["drn:tok:local:tenant:acme:namespace:ns:topic:t*"],
            )),
        ),
        (
            "another tenant: dropped",
            &[Consume],
            &["drn:tok:local:tenant:other"],
            None,
        ),
        (
            "a pattern that does not match: dropped",
            &[Consume],
            &["drn:tok:local:tenant:b*"],
            None,
        ),
        (
            "another tenant dropped, this one kept",
            &[Consume],
            &[
                "drn:tok:local:tenant:other",
                "drn:tok:local:tenant:acme:namespace:n",
            ],
            Some((&[Consume], &["drn:tok:local:tenant:acme:namespace:n"])),
        ),
        (
            "db resources: dropped",
            &[Consume, DbRead],
            &["drn:tok:local:db:db1"],
            None,
        ),
        (
            "db resources dropped beside the org",
            &[Produce],
            &["drn:tok:local:db:db1", "drn:tok:local"],
            Some((&[Produce], &["drn:tok:local:tenant:acme"])),
        ),
        (
            "management actions only: nothing",
            &[TenantRead, TenantWrite, TokenRead, TokenWrite, OrgRead],
            &["drn:tok:local"],
            None,
        ),
        (
            "database actions only: nothing",
            &[DbCql, DbRest, DbRead, DbWrite, DbSchema],
            &["drn:tok:local:tenant:acme"],
            None,
        ),
        ("another org: dropped", &[Consume], &["drn:tok:other"], None),
        (
            "another org's tenant of the same name: dropped",
            &[Consume],
            &["drn:tok:other:tenant:acme"],
            None,
        ),
        (
            "an org pattern that matches",
            &[Consume],
            &["drn:tok:*:tenant:acme"],
            Some((&[Consume], &["drn:tok:local:tenant:acme"])),
        ),
        (
            "several resources meaning the tenant: once",
            &[Consume],
            &[
                "drn:tok:local",
                "drn:tok:local:tenant:*",
                "drn:tok:local:tenant:acme",
            ],
            Some((&[Consume], &["drn:tok:local:tenant:acme"])),
        ),
    ];
    for (what, actions, resources, want) in cases {
        let got = policy(actions, resources).within_tenant(LOCAL_ORG, "acme");
        let want = want.map(|(a, r)| policy(a, r));
        assert_eq!(got, want, "{what}");
        // Whatever is kept is inside the tenant, and allows nothing the policy did not.
        if let Some(scoped) = &got {
            let tenant = res("drn:tok:local:tenant:acme");
            for r in &scoped.resources {
                assert!(tenant.covers(r), "{what}: {r}");
            }
            let original = policy(actions, resources);
            for a in &scoped.actions {
                assert!(a.is_pulsar(), "{what}: {a}");
                for r in &scoped.resources {
                    assert!(original.allows(*a, r), "{what}: {a} on {r}");
                }
            }
        }
    }
}

#[test]
fn effective_permissions_are_each_roles_pulsar_actions_within_the_tenant() {
    let dir = tempfile::tempdir().unwrap();
    let cp = owner(&dir);
    let roles = vec![
        builtin(&cp, "API Read Only User"),
        builtin(&cp, "Token Manager"),
        builtin(&cp, "Database Administrator"),
        custom(
            "other-consumer",
            &[Action::Consume],
            &["drn:tok:local:tenant:other"],
        ),
        custom(
            "ns-producer",
            &[Action::Produce, Action::TenantRead],
            &["drn:tok:local:tenant:*:namespace:n"],
        ),
    ];
    assert_eq!(
        effective_permissions(&roles, LOCAL_ORG, "acme"),
        [
            policy(&[Action::Consume], &["drn:tok:local:tenant:acme"]),
            policy(
                &[Action::Produce],
                &["drn:tok:local:tenant:acme:namespace:n"]
            ),
        ]
    );
    assert_eq!(
        effective_permissions(&roles, LOCAL_ORG, "other"),
        [
            policy(&[Action::Consume], &["drn:tok:local:tenant:other"]),
            policy(&[Action::Consume], &["drn:tok:local:tenant:other"]),
            policy(
                &[Action::Produce],
                &["drn:tok:local:tenant:other:namespace:n"]
            ),
        ]
    );
    assert!(effective_permissions(&[], LOCAL_ORG, "acme").is_empty());
    let admin = builtin(&cp, ADMIN_ROLE);
    assert_eq!(
        effective_permissions(std::slice::from_ref(&admin), "elsewhere", "acme"),
        Vec::<Policy>::new(),
        "a role of org local means nothing in another org"
    );
}

// 7. A refusal never follows a committed change.

/// `rotate_key_info` (the server's `POST …/rotate-key` and the embedded mode) rotates
/// and commits, then reads the keys with `instance_keys`, which needs `instance-read`: a
/// caller holding `instance-write` alone gets 403 for a rotation that happened.
#[test]
fn a_rotation_refused_by_its_answer_does_not_happen() {
    let dir = tempfile::tempdir().unwrap();
    let cp = owner(&dir);
    let writer = as_user(
        &cp,
        "iw",
        vec![custom("iw", &[Action::InstanceWrite], &["drn:tok:local"])],
    );
    let before = snapshot(&cp);
    match writer.rotate_key_info(LOCAL_INSTANCE, NOW + 1) {
        Ok(rotation) => assert_ne!(rotation.instance.kid, rotation.retired_kid),
        Err(e) => {
            assert!(matches!(e, ControlError::Forbidden { .. }), "{e:?}");
            assert_eq!(snapshot(&cp), before, "refused, yet the key was rotated");
        }
    }
}
