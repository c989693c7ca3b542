//! The HTTP API of `tok server`, raw: health, request ids, the OpenAPI document and its
//! drift from the committed file, idempotency keys, pagination, the public JWKS, and the
//! shape of a created token. [`Api`] and [`Reply`] are shared with `server_failure`.

use std::collections::BTreeSet;
use std::time::Duration;

use reqwest::Method;
use reqwest::blocking::Client;
use serde_json::{Value, json};

use crate::common::{ADMIN, ADMIN_PASSWORD, ServerProcess, TestEnv};
use crate::embedded_helpers::TOKEN_FIELDS;

/// One answer: status, headers and the body as text.
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Reply {
    /// The body as JSON.
    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", self.text))
    }

    /// A header as text.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| v.to_str().expect("header is text").to_string())
    }

    /// Asserts the status, showing the body when it differs.
    #[track_caller]
    pub fn expect(&self, status: u16) -> &Reply {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.text
        );
        self
    }

    /// Asserts a problem+json answer with `status` and `code`; returns the problem.
    #[track_caller]
    pub fn problem(&self, status: u16, code: &str) -> Value {
        self.expect(status);
        let ct = self.header("content-type").unwrap_or_default();
        assert!(
            ct.starts_with("application/problem+json"),
            "content-type {ct:?}; body: {}",
            self.text
        );
        let p = self.json();
        assert_eq!(p["code"], code, "{p}");
        assert_eq!(p["status"], status, "{p}");
        assert!(p["type"].is_string() && p["title"].is_string(), "{p}");
        assert!(!p["detail"].as_str().unwrap_or_default().is_empty(), "{p}");
        p
    }
}

/// A raw HTTP client for one server, optionally with a session token.
pub struct Api {
    pub client: Client,
    pub base: String,
    pub token: Option<String>,
}

impl Api {
    /// An anonymous client of `server`.
    pub fn anonymous(server: &ServerProcess) -> Api {
        Api::at(&server.url)
    }

    pub fn at(base: &str) -> Api {
        Api {
            client: Client::builder()
                .no_proxy()
                .timeout(Duration::from_secs(60))
                .build()
                .expect("HTTP client"),
            base: base.to_string(),
            token: None,
        }
    }

    /// A client of `server` logged in as [`ADMIN`].
    pub fn admin(server: &ServerProcess) -> Api {
        Api::user(server, ADMIN, ADMIN_PASSWORD)
    }

    /// A client of `server` logged in as `username`.
    pub fn user(server: &ServerProcess, username: &str, password: &str) -> Api {
        let mut api = Api::anonymous(server);
        let reply = api.login(username, password);
        reply.expect(201);
        api.token = Some(reply.json()["auth_token"].as_str().unwrap().to_string());
        api
    }

    /// `POST /v1/auth`.
    pub fn login(&self, username: &str, password: &str) -> Reply {
        self.post(
            "/v1/auth",
            &json!({"username": username, "password": password}),
        )
    }

    /// Sends `method path` with an optional raw body and extra headers.
    pub fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<(&str, Vec<u8>)>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        if let Some(token) = &self.token {
            req = req.bearer_auth(token);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some((content_type, bytes)) = body {
            req = req.header("content-type", content_type).body(bytes);
        }
        let resp = req.send().unwrap_or_else(|e| panic!("{path}: {e}"));
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().expect("response body");
        Reply {
            status,
            headers,
            text,
        }
    }

    pub fn get(&self, path: &str) -> Reply {
        self.send(Method::GET, path, None, &[])
    }

    pub fn delete(&self, path: &str) -> Reply {
        self.send(Method::DELETE, path, None, &[])
    }

    pub fn post(&self, path: &str, body: &Value) -> Reply {
        self.post_with(path, body, &[])
    }

    pub fn post_with(&self, path: &str, body: &Value, headers: &[(&str, &str)]) -> Reply {
        let bytes = serde_json::to_vec(body).unwrap();
        self.send(
            Method::POST,
            path,
            Some(("application/json", bytes)),
            headers,
        )
    }

    /// `POST path BODY`, insisting on 201; returns the created resource.
    #[track_caller]
    pub fn create(&self, path: &str, body: &Value) -> Value {
        let reply = self.post(path, body);
        reply.expect(201);
        reply.json()
    }
}

/// Disposes of a server whose process has exited and been reaped (its drop then sends
/// no signal: `ServerProcess::terminate` checks for an exit first).
pub fn forget_exited(mut server: ServerProcess) {
    assert!(
        matches!(server.child.try_wait(), Ok(Some(_))),
        "the server is still running"
    );
    drop(server);
}

/// Creates tenant `name` on instance `local`.
pub fn create_tenant(api: &Api, name: &str) -> Value {
    api.create("/v1/orgs/local/tenants", &json!({"name": name}))
}

const TOKENS: &str = "/v1/orgs/local/tenants/acme/tokens";

#[test]
fn health_answers_and_every_response_has_its_own_request_id() {
    let env = TestEnv::new();
    let server = env.start_server(&[]);
    let api = Api::anonymous(&server);
    let healthz = api.get("/healthz");
    healthz.expect(200);
    assert_eq!(healthz.json()["status"], "ok");
    let readyz = api.get("/readyz");
    readyz.expect(200);
    assert_eq!(readyz.json()["status"], "ready");
    let replies = [
        healthz,
        readyz,
        api.get("/healthz"),
        api.get("/v1/no/such/route"),
        api.get("/v1/whoami"),
        api.login(ADMIN, "not the password"),
        api.get("/v1/openapi.json"),
    ];
    let mut ids = BTreeSet::new();
    for reply in &replies {
        let id = reply
            .header("x-request-id")
            .unwrap_or_else(|| panic!("no x-request-id on a {} answer", reply.status));
        assert!(!id.is_empty());
        ids.insert(id);
    }
    assert_eq!(ids.len(), replies.len(), "request ids repeat: {ids:?}");
}

#[test]
fn openapi_is_served_as_committed_and_every_documented_operation_is_routed() {
    let env = TestEnv::new();
    let server = env.start_server(&[]);
    let api = Api::admin(&server);

    let served = Api::anonymous(&server).get("/v1/openapi.json");
    served.expect(200);
    assert!(
        served
            .header("content-type")
            .unwrap_or_default()
            .starts_with("application/json")
    );
    let doc = served.json();
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.json"))
        .expect("openapi.json is committed");
    assert!(
        served.text == committed,
        "the served OpenAPI document differs from openapi.json in the repository: regenerate \
         the file"
    );

    create_tenant(&api, "acme");
    api.create(TOKENS, &json!({"name": "t1", "expires": "7d"}));

    let mut operations = Vec::new();
    for (template, item) in doc["paths"].as_object().expect("paths") {
        if !template.starts_with("/v1/orgs") {
            continue;
        }
        let path = template
            .replace("{org}", "local")
            .replace("{instance}", "local")
            .replace("{tenant}", "acme")
            .replace("{token}", "t1")
            .replace("{username}", ADMIN)
            .replace("{role}", "Read Only User")
            .replace("{name}", "nosuch-sa")
            .replace("{key}", "nosuch-key");
        assert!(!path.contains('{'), "unsubstituted parameter in {template}");
        for method in item.as_object().expect("path item").keys() {
            let method: Method = method.to_uppercase().parse().expect("an HTTP method");
            operations.push((method, path.clone()));
        }
    }
    assert!(operations.len() >= 20, "too few operations: {operations:?}");
    // Reads and writes first, then deletes from the most specific path up, so that no
    // delete removes what a later request needs.
    operations.sort_by_key(|(m, p)| (*m == Method::DELETE, std::cmp::Reverse(p.len())));
    for (method, path) in operations {
        let body = [Method::POST, Method::PUT, Method::PATCH]
            .contains(&method)
            .then(|| ("application/json", b"{}".to_vec()));
        let reply = api.send(method.clone(), &path, body, &[]);
        let code = if reply.status >= 400 {
            reply.json()["code"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        } else {
            String::new()
        };
        assert!(
            !(reply.status == 404 && code == "no_route") && reply.status != 405,
            "{method} {path} is documented but not routed: {} {}",
            reply.status,
            reply.text
        );
        assert!(
            reply.status < 500,
            "{method} {path}: {} {}",
            reply.status,
            reply.text
        );
        assert_ne!(reply.status, 401, "{method} {path}: {}", reply.text);
    }
}

#[test]
fn idempotency_key_replays_the_first_answer_even_after_a_restart() {
    let env = TestEnv::new();
    let mut server = env.start_server(&[]);
    let api = Api::admin(&server);
    create_tenant(&api, "acme");
    let key = [("Idempotency-Key", "req-test-0001")];
    let body = json!({"expires": "7d", "description": "replayed"});

    let first = api.post_with(TOKENS, &body, &key);
    first.expect(201);
    assert_eq!(first.header("idempotent-replayed"), None);
    let second = api.post_with(TOKENS, &body, &key);
    second.expect(201);
    assert_eq!(
        second.header("idempotent-replayed").as_deref(),
        Some("true")
    );
    assert_eq!(second.text, first.text, "a replay is the first answer");
    let created = first.json();
    assert!(created["token"].as_str().unwrap().starts_with("ey"));
    assert_eq!(second.json()["id"], created["id"]);
    let list = api.get(TOKENS);
    list.expect(200);
    let items = list.json()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0]["id"], created["id"]);

    let other = api.post_with(TOKENS, &json!({"expires": "1d"}), &key);
    other.problem(422, "idempotency_key_reused");

    // Keys are per caller: another user's same key is a new request.
    api.create(
        "/v1/orgs/local/users",
        &json!({"username": "bob", "password": "bob's long password",
                "roles": ["Tenant Administrator"]}),
    );
    let bob = Api::user(&server, "bob", "bob's long password");
    let theirs = bob.post_with(TOKENS, &body, &key);
    theirs.expect(201);
    assert_eq!(theirs.header("idempotent-replayed"), None);
    assert_ne!(theirs.json()["id"], created["id"]);
    assert_eq!(api.get(TOKENS).json()["items"].as_array().unwrap().len(), 2);

    // The stored answer survives a restart on the same database.
    let status = server.terminate().expect("the server stops on SIGTERM");
    assert!(status.success(), "{status:?}");
    let (database, master_key_file) = (server.database.clone(), server.master_key_file.clone());
    forget_exited(server);
    let server = env.spawn_server(&database, &master_key_file, &[]);
    let api = Api::admin(&server);
    let after = api.post_with(TOKENS, &body, &key);
    after.expect(201);
    assert_eq!(after.header("idempotent-replayed").as_deref(), Some("true"));
    assert_eq!(after.text, first.text);
    assert_eq!(api.get(TOKENS).json()["items"].as_array().unwrap().len(), 2);
}

#[test]
fn concurrent_requests_with_one_idempotency_key_create_once() {
    let env = TestEnv::new();
    let server = env.start_server(&[]);
    let api = Api::admin(&server);
    create_tenant(&api, "acme");
    let body = json!({"expires": "30d"});
    let replies: Vec<Reply> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|_| s.spawn(|| api.post_with(TOKENS, &body, &[("Idempotency-Key", "req-race")])))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for reply in &replies {
        reply.expect(201);
        assert_eq!(
            reply.text, replies[0].text,
            "every answer is the one created"
        );
    }
    let replayed = replies
        .iter()
        .filter(|r| r.header("idempotent-replayed").is_some())
        .count();
    assert_eq!(replayed, 7, "one request ran, the others were replays");
    let items = api.get(TOKENS).json()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0]["id"], replies[0].json()["id"]);
}

#[test]
fn lists_page_with_cursors_and_refuse_bad_limits_and_cursors() {
    let env = TestEnv::new();
    let server = env.start_server(&[]);
    let api = Api::admin(&server);
    // Created out of order: the list is in name order.
    let mut expected: Vec<String> = (0..25).map(|i| format!("t{:02}", (i * 7) % 25)).collect();
    for name in &expected {
        create_tenant(&api, name);
    }
    expected.sort();

    let mut names = Vec::new();
    let mut cursor: Option<String> = None;
    let mut sizes = Vec::new();
    loop {
        let path = match &cursor {
            None => "/v1/orgs/local/tenants?limit=10".to_string(),
            Some(c) => format!("/v1/orgs/local/tenants?limit=10&cursor={c}"),
        };
        let reply = api.get(&path);
        reply.expect(200);
        let page = reply.json();
        let items = page["items"].as_array().unwrap();
        sizes.push(items.len());
        names.extend(
            items
                .iter()
                .map(|t| t["name"].as_str().unwrap().to_string()),
        );
        match &page["next_cursor"] {
            Value::Null => break,
            Value::String(c) => cursor = Some(c.clone()),
            other => panic!("next_cursor: {other}"),
        }
        assert!(sizes.len() < 10, "the cursors do not end");
    }
    assert_eq!(sizes, [10, 10, 5]);
    assert_eq!(names, expected);

    for limit in ["0", "5000"] {
        let p = api
            .get(&format!("/v1/orgs/local/tenants?limit={limit}"))
            .problem(400, "invalid_input");
        assert_eq!(p["field"], "limit", "{p}");
    }
    let p = api
        .get("/v1/orgs/local/tenants?cursor=not*a*cursor")
        .problem(400, "invalid_input");
    assert_eq!(p["field"], "cursor", "{p}");
}

#[test]
fn jwks_is_public_and_names_the_instance_key() {
    let env = TestEnv::new();
    let server = env.start_server(&[]);
    let jwks = Api::anonymous(&server).get("/v1/orgs/local/instances/local/jwks.json");
    jwks.expect(200);
    let jwks = jwks.json();
    let keys = jwks["keys"].as_array().expect("keys");
    assert_eq!(keys.len(), 1, "{jwks}");
    let key = &keys[0];
    assert_eq!(key["kty"], "RSA", "{key}");
    assert_eq!(key["alg"], "RS256", "{key}");
    assert_eq!(key["use"], "sig", "{key}");
    for field in ["kid", "n", "e"] {
        assert!(
            !key[field].as_str().unwrap_or_default().is_empty(),
            "{field}: {key}"
        );
    }
    let instance = Api::admin(&server).get("/v1/orgs/local/instances/local");
    instance.expect(200);
    assert_eq!(instance.json()["kid"], key["kid"]);
}

#[test]
fn a_created_token_shows_its_secret_once() {
    let env = TestEnv::new();
    let server = env.start_server(&[]);
    let api = Api::admin(&server);
    create_tenant(&api, "acme");
    let created = api.create(
        TOKENS,
        &json!({"name": "app", "subject": "app-sub", "expires": "7d"}),
    );
    let fields: BTreeSet<&str> = created
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let expected: BTreeSet<&str> = TOKEN_FIELDS.into_iter().chain(["token"]).collect();
    assert_eq!(fields, expected, "{created}");
    assert_eq!(created["name"], "app");
    assert_eq!(created["subject"], "app-sub");
    assert_eq!(created["tenant"], "acme");
    assert_eq!(created["instance"], "local");
    assert!(created["token"].as_str().unwrap().starts_with("ey"));

    let id = created["id"].as_str().unwrap();
    for path in [format!("{TOKENS}/app"), format!("{TOKENS}/{id}")] {
        let got = api.get(&path);
        got.expect(200);
        let mut got = got.json();
        assert!(got.get("token").is_none(), "GET shows the secret: {got}");
        got["token"] = created["token"].clone();
        assert_eq!(got, created, "GET {path} differs from the created token");
    }
    let list = api.get(TOKENS).json();
    for item in list["items"].as_array().unwrap() {
        assert!(
            item.get("token").is_none(),
            "a list shows the secret: {item}"
        );
    }
}
