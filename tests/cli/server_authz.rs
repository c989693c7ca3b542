//! Authorization on every route of `tok server`, driven by the served OpenAPI document:
//! each operation is public, open to any authenticated caller, or in [`cases`] (or, when
//! its path names no org, [`own_org_cases`]) with the action it needs — a new route in
//! none of them fails the suite. For each case a caller holding every action but that one
//! is refused (403 naming the action, nothing written), a caller holding only that action
//! succeeds, and on a tenant's paths a caller holding the action on another tenant only
//! gets the same 404 as for a tenant that does not exist. Also: 401 without a credential,
//! another org's callers (and what introspection tells them), tenant hiding in lists, and
//! what a user holding no role may still do to itself.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet};

use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{ADMIN, ADMIN_PASSWORD, ServerProcess, TestEnv, expect_exit, path_str};
use crate::server_api::{Api, Reply};

/// The test server's org and the resource naming all of it.
const ORG: &str = "local";
const ORG_DRN: &str = "drn:tok:local";
const PASSWORD: &str = "a password long enough";

/// Operations anyone may call without a credential.
const PUBLIC: [(&str, &str); 4] = [
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("POST", "/v1/auth"),
    ("GET", "/v1/orgs/{org}/instances/{instance}/jwks.json"),
];

/// Operations any authenticated caller may call, whatever roles it holds.
const AUTHENTICATED: [(&str, &str); 2] = [("GET", "/v1/whoami"), ("DELETE", "/v1/auth")];

/// One request: a path under `/v1/orgs/local` and an optional JSON body.
#[derive(Clone)]
struct Call {
    path: String,
    body: Option<Value>,
}

fn at(path: &str) -> Call {
    Call {
        path: format!("/v1/orgs/{ORG}{path}"),
        body: None,
    }
}

impl Call {
    fn body(self, body: Value) -> Call {
        Call {
            body: Some(body),
            ..self
        }
    }

    /// The same request in another org.
    fn in_org(&self, org: &str) -> Call {
        let rest = self.path.strip_prefix(&format!("/v1/orgs/{ORG}")).unwrap();
        Call {
            path: format!("/v1/orgs/{org}{rest}"),
            body: self.body.clone(),
        }
    }

    /// The same request on another tenant, and the tenant it named.
    fn on_tenant(&self, tenant: &str) -> (Call, String) {
        let mut parts: Vec<&str> = self.path.split('/').collect();
        let i = 1 + parts.iter().position(|p| *p == "tenants").unwrap();
        let named = parts[i].to_string();
        parts[i] = tenant;
        let call = Call {
            path: parts.join("/"),
            body: self.body.clone(),
        };
        (call, named)
    }
}

/// An operation that needs an action.
struct Case {
    method: &'static str,
    template: &'static str,
    action: &'static str,
    /// The answer to a caller holding the action.
    status: u16,
    /// Makes what the request acts on (as the administrator), then the request. The
    /// `&str` is an action the caller holds: what a request handing out grants hands out,
    /// so that escalation checks never stand in for the check under test.
    build: fn(&Fixtures, &str) -> Call,
}

/// Every operation that needs an action, with the action and a request that succeeds.
fn cases() -> Vec<Case> {
    let case = |method, template, action, status, build| Case {
        method,
        template,
        action,
        status,
        build,
    };
    let o = "/v1/orgs/{org}";
    let mut cases = vec![
        case("GET", o, "org-read", 200, |_, _| at("")),
        case("PATCH", o, "org-write", 200, |_, _| {
            at("").body(json!({"max_token_lifetime_seconds": null}))
        }),
        case("GET", "/v1/orgs/{org}/audit", "audit-read", 200, |_, _| {
            at("/audit")
        }),
    ];
    let i = "/v1/orgs/{org}/instances";
    let one = "/v1/orgs/{org}/instances/{instance}";
    cases.extend([
        case("GET", i, "instance-read", 200, |_, _| at("/instances")),
        case("POST", i, "instance-write", 201, |fx, _| {
            at("/instances").body(json!({"name": fx.name("ins"), "algorithm": "HS256"}))
        }),
        case("GET", one, "instance-read", 200, |_, _| {
            at("/instances/local")
        }),
        case("DELETE", one, "instance-write", 200, |fx, _| {
            at(&format!("/instances/{}", fx.instance()))
        }),
        case(
            "GET",
            "/v1/orgs/{org}/instances/{instance}/broker-config",
            "instance-read",
            200,
            |_, _| at("/instances/local/broker-config"),
        ),
        case(
            "GET",
            "/v1/orgs/{org}/instances/{instance}/public-key",
            "instance-read",
            200,
            |_, _| at("/instances/local/public-key"),
        ),
        case(
            "POST",
            "/v1/orgs/{org}/instances/{instance}/rotate-key",
            "instance-write",
            200,
            |fx, _| at(&format!("/instances/{}/rotate-key", fx.instance())),
        ),
    ]);
    let r = "/v1/orgs/{org}/roles";
    let role = "/v1/orgs/{org}/roles/{role}";
    cases.extend([
        case("GET", r, "role-read", 200, |_, _| at("/roles")),
        case("POST", r, "role-write", 201, |fx, held| {
            at("/roles")
                .body(json!({"name": fx.name("role"), "actions": [held], "resources": [ORG_DRN]}))
        }),
        case("GET", role, "role-read", 200, |_, _| at("/roles/reader")),
        case("PATCH", role, "role-write", 200, |fx, held| {
            at(&format!("/roles/{}", fx.role(held))).body(json!({"description": "changed"}))
        }),
        case("DELETE", role, "role-write", 200, |fx, held| {
            at(&format!("/roles/{}", fx.role(held)))
        }),
    ]);
    let t = "/v1/orgs/{org}/tenants";
    let tenant = "/v1/orgs/{org}/tenants/{tenant}";
    let st = "/v1/orgs/{org}/tenants/{tenant}/tokens";
    let s1 = "/v1/orgs/{org}/tenants/{tenant}/tokens/{token}";
    cases.extend([
        case("GET", t, "tenant-read", 200, |_, _| at("/tenants")),
        case("POST", t, "tenant-write", 201, |fx, _| {
            at("/tenants").body(json!({"name": fx.name("tenant"), "instance": "local"}))
        }),
        case("GET", tenant, "tenant-read", 200, |_, _| {
            at("/tenants/acme")
        }),
        case("DELETE", tenant, "tenant-write", 200, |fx, _| {
            at(&format!("/tenants/{}", fx.tenant()))
        }),
        case("GET", st, "token-read", 200, |_, _| {
            at("/tenants/acme/tokens")
        }),
        case("POST", st, "token-write", 201, |fx, _| {
            at("/tenants/acme/tokens").body(json!({"name": fx.name("jwt"), "expires": "1d"}))
        }),
        case("GET", s1, "token-read", 200, |_, _| {
            at("/tenants/acme/tokens/t1")
        }),
        case("DELETE", s1, "token-write", 200, |fx, _| {
            at(&format!("/tenants/acme/tokens/{}", fx.token("acme")))
        }),
    ]);
    let a = "/v1/orgs/{org}/tokens";
    let a1 = "/v1/orgs/{org}/tokens/{token}";
    cases.extend([
        case("GET", a, "token-read", 200, |_, _| at("/tokens")),
        case("POST", a, "token-write", 201, |fx, held| {
            at("/tokens").body(json!({"name": fx.name("app"), "roles": [fx.grantable(held)]}))
        }),
        case("GET", a1, "token-read", 200, |_, _| at("/tokens/app1")),
        // Revoking a token takes the grants it carries: it carries only what the caller holds.
        case("DELETE", a1, "token-write", 200, |fx, held| {
            at(&format!(
                "/tokens/{}",
                fx.app_token_with(&fx.grantable(held))
            ))
        }),
    ]);
    let u = "/v1/orgs/{org}/users";
    let u1 = "/v1/orgs/{org}/users/{username}";
    let ur = "/v1/orgs/{org}/users/{username}/roles/{role}";
    cases.extend([
        case("GET", u, "user-read", 200, |_, _| at("/users")),
        case("POST", u, "user-write", 201, |fx, _| {
            at("/users")
                .body(json!({"username": fx.name("user"), "password": PASSWORD, "roles": []}))
        }),
        case("GET", u1, "user-read", 200, |_, _| {
            at(&format!("/users/{ADMIN}"))
        }),
        case("DELETE", u1, "user-write", 204, |fx, _| {
            at(&format!("/users/{}", fx.user(None)))
        }),
        case("PATCH", u1, "user-write", 200, |fx, _| {
            at(&format!("/users/{}", fx.user(None))).body(json!({"disabled": true}))
        }),
        case(
            "PUT",
            "/v1/orgs/{org}/users/{username}/password",
            "user-write",
            204,
            |fx, _| {
                at(&format!("/users/{}/password", fx.user(None)))
                    .body(json!({"password": "another long password"}))
            },
        ),
        case("PUT", ur, "user-write", 200, |fx, held| {
            at(&format!(
                "/users/{}/roles/{}",
                fx.user(None),
                fx.grantable(held)
            ))
        }),
        case("DELETE", ur, "user-write", 200, |fx, held| {
            let role = fx.grantable(held);
            at(&format!("/users/{}/roles/{role}", fx.user(Some(&role))))
        }),
    ]);
    // Creating a service account hands out its roles; creating, revoking or deleting a key
    // or deleting an account takes what the account's roles grant: each account here holds
    // only what the caller holds.
    let sa = "/v1/orgs/{org}/service-accounts";
    let sa1 = "/v1/orgs/{org}/service-accounts/{name}";
    cases.extend([
        case("GET", sa, "service-account-read", 200, |_, _| {
            at("/service-accounts")
        }),
        case("POST", sa, "service-account-write", 201, |fx, held| {
            at("/service-accounts")
                .body(json!({"name": fx.name("sa"), "roles": [fx.grantable(held)]}))
        }),
        case("GET", sa1, "service-account-read", 200, |_, _| {
            at("/service-accounts/sa1")
        }),
        // With a key: it goes with the account, and takes no other action.
        case("DELETE", sa1, "service-account-write", 200, |fx, held| {
            let account = fx.service_account_with(&fx.grantable(held));
            fx.api_key_of(&account);
            at(&format!("/service-accounts/{account}"))
        }),
    ]);
    let k = "/v1/orgs/{org}/apikeys";
    let k1 = "/v1/orgs/{org}/apikeys/{key}";
    cases.extend([
        case("GET", k, "apikey-read", 200, |_, _| at("/apikeys")),
        case("POST", k, "apikey-write", 201, |fx, held| {
            let account = fx.service_account_with(&fx.grantable(held));
            at("/apikeys").body(json!({
                "service_account": account,
                "instance": "local",
                "name": fx.name("key"),
                "expires": "1d",
            }))
        }),
        case("GET", k1, "apikey-read", 200, |_, _| at("/apikeys/key1")),
        case("DELETE", k1, "apikey-write", 200, |fx, held| {
            let account = fx.service_account_with(&fx.grantable(held));
            at(&format!("/apikeys/{}", fx.api_key_of(&account)))
        }),
        case(
            "POST",
            "/v1/orgs/{org}/apikeys/{key}/revoke",
            "apikey-write",
            200,
            |fx, held| {
                let account = fx.service_account_with(&fx.grantable(held));
                at(&format!("/apikeys/{}/revoke", fx.api_key_of(&account)))
            },
        ),
        case(
            "GET",
            "/v1/orgs/{org}/revocations",
            "introspect",
            200,
            |_, _| at("/revocations"),
        ),
    ]);
    let rates = "/v1/orgs/{org}/usage/rates";
    cases.extend([
        case("GET", "/v1/orgs/{org}/usage", "usage-read", 200, |_, _| {
            at("/usage?from=2026-11-01&to=2026-11-30")
        }),
        case(
            "POST",
            "/v1/orgs/{org}/usage/records",
            "usage-write",
            200,
            |fx, _| {
                at("/usage/records").body(json!({
                    "batch_id": fx.name("batch"),
                    "records": [{"tenant": "acme", "metric": "bytes_in", "value": 1,
                                 "at": "2026-11-01T00:00:00Z"}],
                }))
            },
        ),
        case(
            "GET",
            "/v1/orgs/{org}/usage/billing",
            "billing-read",
            200,
            |_, _| at("/usage/billing?month=2026-11"),
        ),
        case("GET", rates, "billing-read", 200, |_, _| at("/usage/rates")),
        case("PATCH", rates, "billing-write", 200, |_, _| {
            at("/usage/rates").body(json!({"prices": {"bytes_in": "0.09"}}))
        }),
    ]);
    cases
}

/// Operations with no `{org}` in their path: they act in the caller's own org, so
/// [`Call::in_org`] cannot move them to another one. They are held to everything
/// [`cases`] are held to but that, and [`an_operation_on_the_callers_own_org_never_reaches_another`]
/// checks that they reach no other org.
fn own_org_cases() -> Vec<Case> {
    vec![Case {
        method: "POST",
        template: "/v1/introspect",
        action: "introspect",
        status: 200,
        build: |fx, _| Call {
            path: "/v1/introspect".into(),
            body: Some(json!({"token": fx.jwt("acme")})),
        },
    }]
}

/// An action a caller holding every action but `action` holds (and may hand out).
fn other_than(action: &str) -> &'static str {
    if action == "org-read" {
        "audit-read"
    } else {
        "org-read"
    }
}

/// What the administrator makes for the requests to act on.
struct Fixtures {
    admin: Api,
    next: Cell<u32>,
    /// The `grant-<action>` roles made so far.
    grantable: RefCell<BTreeSet<String>>,
}

impl Fixtures {
    /// Logs in as the administrator; makes tenants `acme` (with token `t1`) and `other`,
    /// application token `app1`, custom role `reader`, and service account `sa1` (holding
    /// Read Only User) with API key `key1`.
    fn new(server: &ServerProcess) -> Fixtures {
        let fx = Fixtures {
            admin: Api::admin(server),
            next: Cell::new(0),
            grantable: RefCell::default(),
        };
        for name in ["acme", "other"] {
            fx.create("/tenants", json!({"name": name, "instance": "local"}));
        }
        fx.create(
            "/tenants/acme/tokens",
            json!({"name": "t1", "expires": "7d"}),
        );
        fx.create(
            "/tokens",
            json!({"name": "app1", "roles": ["Read Only User"]}),
        );
        fx.create(
            "/roles",
            json!({"name": "reader", "actions": ["org-read"], "resources": [ORG_DRN]}),
        );
        fx.create(
            "/service-accounts",
            json!({"name": "sa1", "roles": ["Read Only User"]}),
        );
        fx.create(
            "/apikeys",
            json!({"service_account": "sa1", "instance": "local", "name": "key1"}),
        );
        fx
    }

    /// `stem-N`, never the same twice.
    fn name(&self, stem: &str) -> String {
        self.next.set(self.next.get() + 1);
        format!("{stem}-{}", self.next.get())
    }

    #[track_caller]
    fn create(&self, path: &str, body: Value) -> Value {
        self.admin.create(&format!("/v1/orgs/{ORG}{path}"), &body)
    }

    fn tenant(&self) -> String {
        let name = self.name("tenant");
        self.create("/tenants", json!({"name": name, "instance": "local"}));
        name
    }

    fn token(&self, tenant: &str) -> String {
        let name = self.name("jwt");
        self.create(
            &format!("/tenants/{tenant}/tokens"),
            json!({"name": name, "expires": "1d"}),
        );
        name
    }

    /// A new streaming token of `tenant`: the JWT itself.
    fn jwt(&self, tenant: &str) -> String {
        let name = self.name("jwt");
        let created = self.create(
            &format!("/tenants/{tenant}/tokens"),
            json!({"name": name, "expires": "1d"}),
        );
        created["token"].as_str().unwrap().to_string()
    }

    /// A service account holding `role`.
    fn service_account_with(&self, role: &str) -> String {
        let name = self.name("sa");
        self.create("/service-accounts", json!({"name": name, "roles": [role]}));
        name
    }

    /// A new API key (on instance `local`) of `account`: its name.
    fn api_key_of(&self, account: &str) -> String {
        let name = self.name("key");
        self.create(
            "/apikeys",
            json!({"service_account": account, "instance": "local", "name": name, "expires": "1d"}),
        );
        name
    }

    /// An application token carrying `role`.
    fn app_token_with(&self, role: &str) -> String {
        let name = self.name("app");
        self.create("/tokens", json!({"name": name, "roles": [role]}));
        name
    }

    /// A user holding `role`, or no role.
    fn user(&self, role: Option<&str>) -> String {
        let name = self.name("user");
        let roles: Vec<&str> = role.into_iter().collect();
        self.create(
            "/users",
            json!({"username": name, "password": PASSWORD, "roles": roles}),
        );
        name
    }

    /// A custom role granting `action` on the org.
    fn role(&self, action: &str) -> String {
        let name = self.name("role");
        self.create(
            "/roles",
            json!({"name": name, "actions": [action], "resources": [ORG_DRN]}),
        );
        name
    }

    /// `grant-<action>`: a role granting `action` on the org, made once.
    fn grantable(&self, action: &str) -> String {
        let name = format!("grant-{action}");
        if self.grantable.borrow_mut().insert(name.clone()) {
            self.create(
                "/roles",
                json!({"name": name, "actions": [action], "resources": [ORG_DRN]}),
            );
        }
        name
    }

    /// An HMAC instance (fast to make), with no tenant.
    fn instance(&self) -> String {
        let name = self.name("ins");
        self.create("/instances", json!({"name": name, "algorithm": "HS256"}));
        name
    }

    /// An application token holding a new role `name`: `actions` on `resource`.
    fn principal(
        &self,
        server: &ServerProcess,
        name: &str,
        actions: &[&str],
        resource: &str,
    ) -> Api {
        self.create(
            "/roles",
            json!({"name": name, "actions": actions, "resources": [resource]}),
        );
        let created = self.create("/tokens", json!({"name": name, "roles": [name]}));
        bearer(server, created["token"].as_str().unwrap())
    }

    /// Every action there is: what Organization Administrator grants.
    fn every_action(&self) -> Vec<String> {
        let role = self
            .admin
            .get(&format!("/v1/orgs/{ORG}/roles/Organization Administrator"));
        role.expect(200);
        let actions = role.json()["policy"]["actions"].clone();
        serde_json::from_value(actions).unwrap()
    }

    /// How many audit records the org has: every change writes one.
    fn audit_len(&self) -> usize {
        audit(&self.admin, ORG).len()
    }
}

/// Every audit record of `org`, oldest first, as `api` reads them.
fn audit(api: &Api, org: &str) -> Vec<Value> {
    let mut items = Vec::new();
    let mut path = format!("/v1/orgs/{org}/audit?limit=1000");
    loop {
        let page = api.get(&path);
        page.expect(200);
        let page = page.json();
        items.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => path = format!("/v1/orgs/{org}/audit?limit=1000&cursor={c}"),
            None => return items,
        }
    }
}

/// A client of `server` presenting `token`.
fn bearer(server: &ServerProcess, token: &str) -> Api {
    let mut api = Api::anonymous(server);
    api.token = Some(token.to_string());
    api
}

fn send(api: &Api, method: &str, call: &Call) -> Reply {
    let method: Method = method.parse().unwrap();
    let body = call
        .body
        .as_ref()
        .map(|b| ("application/json", serde_json::to_vec(b).unwrap()));
    api.send(method, &call.path, body, &[])
}

/// What is wrong with `reply` as a problem `status` with `code`, if anything.
fn problem_mismatch(reply: &Reply, status: u16, code: &str) -> Option<String> {
    let ct = reply.header("content-type").unwrap_or_default();
    let p: Value = serde_json::from_str(&reply.text).unwrap_or_default();
    let ok = reply.status == status
        && ct.starts_with("application/problem+json")
        && p["code"] == code
        && p["status"] == status
        && !p["detail"].as_str().unwrap_or_default().is_empty();
    (!ok).then(|| {
        format!(
            "answered {} ({ct}) instead of {status} {code}: {}",
            reply.status, reply.text
        )
    })
}

/// `failures` gets `what` unless `check` found nothing wrong.
fn note(failures: &mut Vec<String>, what: String, check: Option<String>) {
    if let Some(why) = check {
        failures.push(format!("{what}: {why}"));
    }
}

#[track_caller]
fn assert_none_failed(failures: &[String]) {
    assert!(
        failures.is_empty(),
        "{} authorization failure(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Whether `path` is an instance of `template`: the builders hit the route they name.
fn fits(template: &str, path: &str) -> bool {
    let path = path.split('?').next().unwrap_or(path);
    let (t, p): (Vec<&str>, Vec<&str>) = (template.split('/').collect(), path.split('/').collect());
    t.len() == p.len()
        && t.iter()
            .zip(&p)
            .all(|(t, p)| t == p || (t.starts_with('{') && !p.is_empty()))
}

/// The path of `template` on fixtures that exist once [`Fixtures::new`] ran.
fn sample_path(template: &str) -> String {
    let path = template
        .replace("{org}", ORG)
        .replace("{instance}", "local")
        .replace("{tenant}", "acme")
        .replace("{token}", "t1")
        .replace("{username}", ADMIN)
        .replace("{role}", "Read Only User")
        .replace("{name}", "sa1")
        .replace("{key}", "key1");
    assert!(!path.contains('{'), "unsubstituted parameter in {template}");
    path
}

#[test]
fn every_documented_operation_is_classified_and_needs_a_credential_unless_public() {
    let env = TestEnv::new();
    let server = env.start_server(&[]);
    let anonymous = Api::anonymous(&server);
    let doc = anonymous.get("/v1/openapi.json");
    doc.expect(200);
    let doc = doc.json();

    let mut documented = BTreeMap::new();
    for (template, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("a path item") {
            let secured = op["security"].as_array().is_some_and(|s| !s.is_empty());
            documented.insert((method.to_uppercase(), template.clone()), secured);
        }
    }
    let cases: Vec<Case> = cases().into_iter().chain(own_org_cases()).collect();
    let mut classified = BTreeSet::new();
    let table = cases.iter().map(|c| (c.method, c.template));
    for (method, template) in table.chain(PUBLIC).chain(AUTHENTICATED) {
        let new = classified.insert((method.to_string(), template.to_string()));
        assert!(
            new,
            "{method} {template} is listed twice in server_authz.rs"
        );
    }
    let unclassified: Vec<String> = documented
        .keys()
        .filter(|op| !classified.contains(*op))
        .map(|(m, t)| format!("{m} {t}"))
        .collect();
    assert!(
        unclassified.is_empty(),
        "operations with no authorization case: {unclassified:?}. Add each to `cases()` in \
         tests/cli/server_authz.rs with the action it requires (`own_org_cases()` if its path \
         names no org; PUBLIC / AUTHENTICATED if it truly needs none), and make its handler \
         check it"
    );
    let gone: Vec<String> = classified
        .iter()
        .filter(|op| !documented.contains_key(*op))
        .map(|(m, t)| format!("{m} {t}"))
        .collect();
    assert!(
        gone.is_empty(),
        "server_authz.rs lists operations the API no longer has: {gone:?}"
    );
    for ((method, template), secured) in &documented {
        let public = PUBLIC.contains(&(method.as_str(), template.as_str()));
        assert_eq!(
            *secured, !public,
            "{method} {template}: the document's security does not say whether it is public"
        );
    }

    // Public operations answer without a credential.
    for path in [
        "/healthz",
        "/readyz",
        "/v1/orgs/local/instances/local/jwks.json",
    ] {
        anonymous.get(path).expect(200);
    }
    anonymous.login(ADMIN, ADMIN_PASSWORD).expect(201);

    // Every other one refuses a request without a credential, or with one that is none.
    let impostor = bearer(&server, "toka_notarealtoken");
    let mut failures = Vec::new();
    for (method, template) in documented.keys() {
        if PUBLIC.contains(&(method.as_str(), template.as_str())) {
            continue;
        }
        let call = Call {
            path: sample_path(template),
            body: (["POST", "PUT", "PATCH"].contains(&method.as_str())).then(|| json!({})),
        };
        let reply = send(&anonymous, method, &call);
        let mut check = problem_mismatch(&reply, 401, "unauthenticated");
        if check.is_none() && reply.header("www-authenticate").is_none() {
            check = Some("no WWW-Authenticate header".into());
        }
        note(
            &mut failures,
            format!("{method} {template} anonymously"),
            check,
        );
        let reply = send(&impostor, method, &call);
        note(
            &mut failures,
            format!("{method} {template} with a forged token"),
            problem_mismatch(&reply, 401, "invalid_token"),
        );
    }
    assert_none_failed(&failures);
}

#[test]
fn every_operation_refuses_a_caller_without_its_action_and_serves_one_with_only_it() {
    let env = TestEnv::new();
    let server = env.start_server(&[]);
    let fx = Fixtures::new(&server);
    let cases: Vec<Case> = cases().into_iter().chain(own_org_cases()).collect();
    let every = fx.every_action();

    // Application tokens as callers (no Argon2 per principal): for each action, one
    // holding only it, one holding every other action, and — for actions on tenants —
    // one holding it on another tenant only.
    let needed: BTreeSet<&str> = cases.iter().map(|c| c.action).collect();
    let mut only_it = BTreeMap::new();
    let mut all_but = BTreeMap::new();
    let mut elsewhere = BTreeMap::new();
    for action in &needed {
        assert!(every.iter().any(|a| a == action), "unknown action {action}");
        let others: Vec<&str> = every
            .iter()
            .map(String::as_str)
            .filter(|a| a != action)
            .collect();
        let name = format!("only-{action}");
        only_it.insert(*action, fx.principal(&server, &name, &[action], ORG_DRN));
        let name = format!("all-but-{action}");
        all_but.insert(*action, fx.principal(&server, &name, &others, ORG_DRN));
    }
    for c in cases.iter().filter(|c| c.template.contains("{tenant}")) {
        if !elsewhere.contains_key(c.action) {
            let name = format!("elsewhere-{}", c.action);
            let scope = format!("{ORG_DRN}:tenant:elsewhere");
            let api = fx.principal(&server, &name, &[c.action], &scope);
            elsewhere.insert(c.action, api);
        }
    }

    let mut failures = Vec::new();
    for case in &cases {
        let op = format!("{} {}", case.method, case.template);
        let action = case.action;

        let call = (case.build)(&fx, other_than(action));
        assert!(fits(case.template, &call.path), "{op} builds {}", call.path);
        let before = fx.audit_len();
        let reply = send(&all_but[action], case.method, &call);
        let mut check = problem_mismatch(&reply, 403, "forbidden");
        let names = format!("grants {action} on {ORG_DRN}");
        if check.is_none() && !reply.json()["detail"].as_str().unwrap().contains(&names) {
            check = Some(format!(
                "the refusal does not say it {names}: {}",
                reply.text
            ));
        }
        note(
            &mut failures,
            format!("{op} by a caller holding all but {action}"),
            check,
        );
        let written = fx.audit_len() - before;
        if written != 0 {
            failures.push(format!(
                "{op} was refused but wrote {written} audit record(s)"
            ));
        }

        let call = (case.build)(&fx, action);
        let before = fx.audit_len();
        let reply = send(&only_it[action], case.method, &call);
        if reply.status != case.status {
            let mut why = format!(
                "{op} by a caller holding only {action}: answered {} instead of {}: {}",
                reply.status, case.status, reply.text
            );
            let written = fx.audit_len() - before;
            if reply.status >= 400 && written != 0 {
                why.push_str(&format!(" — yet it wrote {written} audit record(s)"));
            }
            failures.push(why);
        }

        let on_a_tenant = case.template.contains("{tenant}");
        if let Some(scoped) = elsewhere.get(action).filter(|_| on_a_tenant) {
            // The caller holds the action, on no tenant that exists: an existing tenant
            // and a missing one answer alike.
            let call = (case.build)(&fx, action);
            let before = fx.audit_len();
            let hidden = send(scoped, case.method, &call);
            let (missing_call, tenant) = call.on_tenant("nosuch");
            let missing = send(scoped, case.method, &missing_call);
            let who = format!("{op} by a caller holding {action} on another tenant");
            note(
                &mut failures,
                format!("{who}, tenant {tenant}"),
                problem_mismatch(&hidden, 404, "not_found"),
            );
            note(
                &mut failures,
                format!("{who}, no such tenant"),
                problem_mismatch(&missing, 404, "not_found"),
            );
            let seen = |r: &Reply| (r.json()["detail"].clone(), r.json()["hint"].clone());
            if hidden.status == 404 && missing.status == 404 {
                let (detail, hint) = seen(&hidden);
                let as_missing =
                    |v: &Value| json!(v.as_str().map(|s| s.replace(&tenant, "nosuch")));
                if (as_missing(&detail), as_missing(&hint)) != seen(&missing) {
                    failures.push(format!(
                        "{who}: a hidden tenant is told apart from a missing one: {} vs {}",
                        hidden.text, missing.text
                    ));
                }
            }
            if fx.audit_len() != before {
                failures.push(format!("{who} was refused but wrote audit records"));
            }
        }
    }
    assert_none_failed(&failures);
}

#[test]
fn a_tenant_scoped_caller_sees_only_its_tenant_and_cannot_tell_hidden_from_missing() {
    let env = TestEnv::new();
    let server = env.start_server(&[]);
    let fx = Fixtures::new(&server);
    let acme = format!("{ORG_DRN}:tenant:acme");
    fx.create(
        "/roles",
        json!({"name": "acme-reader", "actions": ["tenant-read"], "resources": [acme]}),
    );
    fx.create(
        "/users",
        json!({"username": "tina", "password": PASSWORD, "roles": ["acme-reader"]}),
    );
    // A session token (password login) as the caller.
    let tina = Api::user(&server, "tina", PASSWORD);
    let whoami = tina.get("/v1/whoami");
    whoami.expect(200);
    assert_eq!(whoami.json()["roles"], json!(["acme-reader"]));

    let tenants = "/v1/orgs/local/tenants";
    let got = tina.get(&format!("{tenants}/acme"));
    got.expect(200);
    assert_eq!(got.json()["name"], "acme");
    let hidden = tina
        .get(&format!("{tenants}/other"))
        .problem(404, "not_found");
    let missing = tina
        .get(&format!("{tenants}/nosuch"))
        .problem(404, "not_found");
    let as_missing = |v: &Value| json!(v.as_str().map(|s| s.replace("other", "nosuch")));
    assert_eq!(as_missing(&hidden["detail"]), missing["detail"]);
    assert_eq!(as_missing(&hidden["hint"]), missing["hint"]);
    let list = tina.get(tenants);
    list.expect(200);
    let names: Vec<Value> = list.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].clone())
        .collect();
    assert_eq!(names, [json!("acme")]);

    // Actions it holds nowhere are refused alike whether the tenant exists or not.
    for tenant in ["acme", "other", "nosuch"] {
        tina.delete(&format!("{tenants}/{tenant}"))
            .problem(403, "forbidden");
        tina.get(&format!("{tenants}/{tenant}/tokens"))
            .problem(403, "forbidden");
    }
    tina.post(tenants, &json!({"name": "acme2", "instance": "local"}))
        .problem(403, "forbidden");
    tina.get("/v1/orgs/local/tokens").problem(403, "forbidden");

    // A token manager of acme only: its tokens, listed without anyone else's.
    fx.create(
        "/tenants/other/tokens",
        json!({"name": "o1", "expires": "7d"}),
    );
    let manager = fx.principal(
        &server,
        "acme-tokens",
        &["token-read", "token-write"],
        &acme,
    );
    let list = manager.get("/v1/orgs/local/tokens");
    list.expect(200);
    let items = list.json()["items"].as_array().unwrap().clone();
    let seen: Vec<(&str, &str)> = items
        .iter()
        .map(|t| (t["type"].as_str().unwrap(), t["name"].as_str().unwrap()))
        .collect();
    assert_eq!(seen, [("streaming", "t1")], "{items:?}");
    manager
        .get(&format!("{tenants}/acme/tokens/t1"))
        .expect(200);
    for (tenant, token) in [("other", "o1"), ("nosuch", "o1")] {
        let base = format!("{tenants}/{tenant}/tokens");
        manager.get(&base).problem(404, "not_found");
        manager
            .get(&format!("{base}/{token}"))
            .problem(404, "not_found");
        manager
            .delete(&format!("{base}/{token}"))
            .problem(404, "not_found");
        manager
            .post(&base, &json!({"expires": "1d"}))
            .problem(404, "not_found");
    }
    manager
        .get("/v1/orgs/local/tokens?type=application")
        .problem(403, "forbidden");
    manager
        .get("/v1/orgs/local/tokens/app1")
        .problem(403, "forbidden");
    let created = manager.post(&format!("{tenants}/acme/tokens"), &json!({"expires": "1d"}));
    created.expect(201);
}

#[test]
fn a_caller_of_another_org_finds_nothing_of_this_one() {
    let env = TestEnv::new();
    let server = env.start_server(&[]);
    let fx = Fixtures::new(&server);
    let bob = org_beta(&env, &server);
    bob.get("/v1/orgs/beta").expect(200);
    let anonymous = Api::anonymous(&server);
    anonymous
        .get("/v1/orgs/beta/instances/beta/jwks.json")
        .expect(200);
    anonymous
        .get("/v1/orgs/beta/instances/local/jwks.json")
        .problem(404, "not_found");

    let mut failures = Vec::new();
    for case in cases() {
        let op = format!("{} {}", case.method, case.template);
        let call = (case.build)(&fx, "org-read");
        let attempts = [
            (&bob, call.clone(), "beta's administrator in org local"),
            (
                &bob,
                call.in_org("nosuch"),
                "beta's administrator in a missing org",
            ),
            (
                &fx.admin,
                call.in_org("beta"),
                "local's administrator in org beta",
            ),
        ];
        for (api, call, who) in attempts {
            let reply = send(api, case.method, &call);
            note(
                &mut failures,
                format!("{op} by {who}"),
                problem_mismatch(&reply, 404, "not_found"),
            );
        }
    }
    // Building the requests wrote as local's administrator; nothing else wrote anywhere.
    for (api, org, outsider) in [(&fx.admin, ORG, "user:bob"), (&bob, "beta", "user:admin")] {
        let by_outsider: Vec<Value> = audit(api, org)
            .into_iter()
            .filter(|a| a["actor"] == outsider)
            .collect();
        assert!(
            by_outsider.is_empty(),
            "{outsider} changed org {org}: {by_outsider:?}"
        );
    }
    assert_none_failed(&failures);
}

/// Adds org `beta` (instance `beta`) to `server`'s database, with administrator `bob`;
/// returns bob, logged in (Organization Administrator of beta).
fn org_beta(env: &TestEnv, server: &ServerProcess) -> Api {
    let out = env.run_stdin(
        &[
            "server",
            "init",
            "--database",
            &format!("sqlite://{}", server.database.display()),
            "--master-key-file",
            &path_str(&server.master_key_file),
            "--org",
            "beta",
            "--instance",
            "beta",
            "--admin",
            "bob",
            "--password-stdin",
        ],
        PASSWORD,
    );
    expect_exit(&out, 0);
    Api::user(server, "bob", PASSWORD)
}

#[test]
fn an_operation_on_the_callers_own_org_never_reaches_another() {
    let covered = ["POST /v1/introspect"];
    let listed: Vec<String> = own_org_cases()
        .iter()
        .map(|c| format!("{} {}", c.method, c.template))
        .collect();
    assert_eq!(
        listed, covered,
        "an operation of own_org_cases() this test does not check yet"
    );

    let env = TestEnv::new();
    let server = env.start_server(&[]);
    let fx = Fixtures::new(&server);
    let bob = org_beta(&env, &server);
    let introspect = |api: &Api, token: &str| {
        let reply = api.post("/v1/introspect", &json!({"token": token}));
        reply.expect(200);
        reply.json()
    };

    // One credential of each kind in each org.
    let app = fx.create("/tokens", json!({"name": "app-x", "roles": ["reader"]}));
    let key = fx.create(
        "/apikeys",
        json!({"service_account": "sa1", "instance": "local", "name": "key-x"}),
    );
    let local = [
        ("a streaming token", fx.jwt("acme")),
        ("an API key", key["key"].as_str().unwrap().to_string()),
        (
            "an application token",
            app["token"].as_str().unwrap().to_string(),
        ),
        ("a session token", fx.admin.token.clone().unwrap()),
    ];
    bob.create(
        "/v1/orgs/beta/tenants",
        &json!({"name": "b", "instance": "beta"}),
    );
    let beta_jwt = bob.create("/v1/orgs/beta/tenants/b/tokens", &json!({"expires": "1d"}));
    let beta = [
        (
            "a streaming token",
            beta_jwt["token"].as_str().unwrap().to_string(),
        ),
        ("a session token", bob.token.clone().unwrap()),
    ];

    // Each is active to its own org and to nobody else: no field of it leaks.
    let mut failures = Vec::new();
    for (asker, own, others, theirs) in [
        (&fx.admin, &local[..], &beta[..], "beta's"),
        (&bob, &beta[..], &local[..], "local's"),
    ] {
        for (what, token) in own {
            if introspect(asker, token)["active"] != true {
                failures.push(format!("{what} is not active to its own org"));
            }
        }
        for (what, token) in others {
            let answer = introspect(asker, token);
            let fields: BTreeSet<&str> = answer
                .as_object()
                .unwrap()
                .keys()
                .map(String::as_str)
                .collect();
            if answer["active"] != false || !fields.is_subset(&["active", "reason"].into()) {
                failures.push(format!(
                    "{theirs} {what}, introspected in another org: {answer}"
                ));
            }
        }
    }
    assert_none_failed(&failures);

    // An org-wide action: granted on a tenant only, it is refused.
    let scoped = fx.principal(
        &server,
        "acme-introspect",
        &["introspect"],
        &format!("{ORG_DRN}:tenant:acme"),
    );
    scoped
        .post("/v1/introspect", &json!({"token": fx.jwt("acme")}))
        .problem(403, "forbidden");

    // Nothing of local was changed by beta's administrator.
    let by_bob: Vec<Value> = audit(&fx.admin, ORG)
        .into_iter()
        .filter(|a| a["actor"] == "user:bob")
        .collect();
    assert!(by_bob.is_empty(), "user:bob changed org local: {by_bob:?}");
}

#[test]
fn introspection_tells_another_orgs_caller_nothing_of_a_revoked_credential() {
    let env = TestEnv::new();
    let server = env.start_server(&[]);
    let fx = Fixtures::new(&server);
    let bob = org_beta(&env, &server);
    // Revoked credentials of beta's, asked about in local: nothing of them may show, not
    // even in the reason (their names, when they were revoked).
    let app = bob.create(
        "/v1/orgs/beta/tokens",
        &json!({"name": "beta-secret-app", "roles": ["Read Only User"]}),
    );
    bob.delete("/v1/orgs/beta/tokens/beta-secret-app")
        .expect(200);
    bob.create(
        "/v1/orgs/beta/tenants",
        &json!({"name": "b", "instance": "beta"}),
    );
    let jwt = bob.create(
        "/v1/orgs/beta/tenants/b/tokens",
        &json!({"name": "beta-secret-jwt", "expires": "1d"}),
    );
    bob.delete("/v1/orgs/beta/tenants/b/tokens/beta-secret-jwt")
        .expect(200);
    bob.create(
        "/v1/orgs/beta/service-accounts",
        &json!({"name": "beta-secret-sa", "roles": ["Read Only User"]}),
    );
    let key = bob.create(
        "/v1/orgs/beta/apikeys",
        &json!({"service_account": "beta-secret-sa", "name": "beta-secret-key"}),
    );
    bob.send(
        Method::POST,
        "/v1/orgs/beta/apikeys/beta-secret-key/revoke",
        None,
        &[],
    )
    .expect(200);
    let mut failures = Vec::new();
    for (what, token) in [
        ("a revoked application token", &app["token"]),
        ("a revoked streaming token", &jwt["token"]),
        ("a revoked API key", &key["key"]),
    ] {
        let token = token.as_str().unwrap();
        let reply = fx.admin.post("/v1/introspect", &json!({"token": token}));
        reply.expect(200);
        let answer = reply.json();
        let reason = answer["reason"].as_str().unwrap_or_default();
        if answer["active"] != false || reason.contains("beta-secret") || reason.contains("revoked")
        {
            failures.push(format!("beta's {what}, introspected in local: {answer}"));
        }
    }
    assert_none_failed(&failures);
}

#[test]
fn a_user_holding_no_role_may_only_read_itself_change_its_password_and_log_out() {
    let env = TestEnv::new();
    let server = env.start_server(&[]);
    let fx = Fixtures::new(&server);
    fx.create(
        "/users",
        json!({"username": "nora", "password": PASSWORD, "roles": []}),
    );
    let nora = Api::user(&server, "nora", PASSWORD);
    let whoami = nora.get("/v1/whoami");
    whoami.expect(200);
    assert_eq!(whoami.json()["principal"], "nora");
    assert_eq!(whoami.json()["roles"], json!([]));

    // Every operation that needs an action is refused, on what exists.
    let mut failures = Vec::new();
    for case in cases().into_iter().chain(own_org_cases()) {
        let call = (case.build)(&fx, "org-read");
        let reply = send(&nora, case.method, &call);
        note(
            &mut failures,
            format!(
                "{} {} by a user holding no role",
                case.method, case.template
            ),
            problem_mismatch(&reply, 403, "forbidden"),
        );
    }
    assert_none_failed(&failures);

    // Itself, though, it may read and re-key, and nothing more.
    let me = "/v1/orgs/local/users/nora";
    let got = nora.get(me);
    got.expect(200);
    assert_eq!(got.json()["username"], "nora");
    nora.send(
        Method::PATCH,
        me,
        Some(("application/json", br#"{"disabled": false}"#.to_vec())),
        &[],
    )
    .problem(403, "forbidden");
    let new_password = json!({"password": "nora's new long password"});
    let put = |api: &Api, path: &str| {
        let bytes = serde_json::to_vec(&new_password).unwrap();
        api.send(Method::PUT, path, Some(("application/json", bytes)), &[])
    };
    put(&nora, &format!("/v1/orgs/local/users/{ADMIN}/password")).problem(403, "forbidden");
    put(&nora, &format!("{me}/password")).expect(204);
    // Changing the password ended its sessions.
    nora.get("/v1/whoami").problem(401, "unknown_session");
    let nora = Api::user(&server, "nora", "nora's new long password");
    nora.get(me).expect(200);
    nora.delete("/v1/auth").expect(204);
    nora.get("/v1/whoami").expect(401);
}
