//! Service accounts, API keys and introspection against a real `tok server`: RFC 7662
//! introspection of every kind of credential (JSON and form-encoded), active until it is
//! revoked and never for anything else; the revocation feed; an API key as the bearer of
//! the tok API, acting with its service account's roles; and PyJWT verifying a key with
//! the instance's JWKS fetched from the server.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{ServerProcess, TestEnv, pyjwt_available, python};
use crate::server_api::{Api, Reply, create_tenant};
use crate::tokens::{SECRET, b64, b64url, hmac_token, now, part_json};

/// The test server's org, as a path.
const ORG: &str = "/v1/orgs/local";

/// A client of `server` presenting `token`.
fn bearer(server: &ServerProcess, token: &str) -> Api {
    let mut api = Api::anonymous(server);
    api.token = Some(token.to_string());
    api
}

/// An application token holding a new role `name` (`actions` on the org), as a client.
fn principal(admin: &Api, server: &ServerProcess, name: &str, actions: &[&str]) -> Api {
    admin.create(
        &format!("{ORG}/roles"),
        &json!({"name": name, "actions": actions, "resources": ["drn:tok:local"]}),
    );
    let created = admin.create(
        &format!("{ORG}/tokens"),
        &json!({"name": name, "roles": [name]}),
    );
    bearer(server, created["token"].as_str().unwrap())
}

/// A string field of a JSON document.
#[track_caller]
fn text(doc: &Value, field: &str) -> String {
    doc[field]
        .as_str()
        .unwrap_or_else(|| panic!("no string {field} in {doc}"))
        .to_string()
}

/// `application/x-www-form-urlencoded`, every byte but the unreserved ones escaped.
fn form(pairs: &[(&str, &str)]) -> Vec<u8> {
    let escape = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    let encoded: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{}={}", escape(k), escape(v)))
        .collect();
    encoded.join("&").into_bytes()
}

/// `POST /v1/introspect` with a JSON body.
fn introspect_json(api: &Api, token: &str) -> Reply {
    api.post("/v1/introspect", &json!({"token": token}))
}

/// `POST /v1/introspect` form-encoded, with RFC 7662's `token_type_hint`.
fn introspect_form(api: &Api, token: &str) -> Reply {
    let body = form(&[("token", token), ("token_type_hint", "access_token")]);
    api.send(
        Method::POST,
        "/v1/introspect",
        Some(("application/x-www-form-urlencoded", body)),
        &[],
    )
}

/// Introspects `token` both ways; insists on 200 and the same answer; returns it.
#[track_caller]
fn introspect(api: &Api, token: &str) -> Value {
    let as_json = introspect_json(api, token);
    let as_form = introspect_form(api, token);
    for (how, reply) in [("JSON", &as_json), ("form", &as_form)] {
        assert_eq!(
            reply.status, 200,
            "introspecting {token:?} ({how}) answered {}: {}",
            reply.status, reply.text
        );
        let ct = reply.header("content-type").unwrap_or_default();
        assert!(ct.starts_with("application/json"), "{how}: {ct}");
    }
    assert_eq!(
        as_json.json(),
        as_form.json(),
        "JSON and form-encoded introspection of {token:?} differ"
    );
    as_json.json()
}

/// Asserts `answer` is `{"active": false, "reason": "…"}` and nothing else; returns the
/// reason.
#[track_caller]
fn expect_inactive(answer: &Value, what: &str) -> String {
    let fields: BTreeSet<&str> = answer
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        fields,
        BTreeSet::from(["active", "reason"]),
        "{what}: {answer}"
    );
    assert_eq!(answer["active"], false, "{what}: {answer}");
    let reason = text(answer, "reason");
    assert!(!reason.trim().is_empty(), "{what}: {answer}");
    reason
}

/// Asserts `answer` is active with exactly the fields `expected` (compared) and `present`
/// (any value).
#[track_caller]
fn expect_active(answer: &Value, expected: &Value, present: &[&str]) {
    let mut want: BTreeSet<&str> = expected
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    want.extend(present);
    want.insert("active");
    let got: BTreeSet<&str> = answer
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(got, want, "fields of {answer}");
    assert_eq!(answer["active"], true, "{answer}");
    for (k, v) in expected.as_object().unwrap() {
        assert_eq!(&answer[k], v, "{k} of {answer}");
    }
}

/// The actions a role grants, as a set.
fn role_actions(admin: &Api, role: &str) -> BTreeSet<String> {
    let reply = admin.get(&format!("{ORG}/roles/{role}"));
    reply.expect(200);
    serde_json::from_value(reply.json()["policy"]["actions"].clone()).unwrap()
}

/// A `scope` (space-separated actions) as a set.
#[track_caller]
fn scope_of(answer: &Value) -> BTreeSet<String> {
    text(answer, "scope")
        .split(' ')
        .map(str::to_string)
        .collect()
}

/// Unix seconds of an RFC 3339 timestamp.
#[track_caller]
fn unix(doc: &Value, field: &str) -> i64 {
    let at = time::OffsetDateTime::parse(
        &text(doc, field),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap_or_else(|e| panic!("{field} of {doc}: {e}"));
    at.unix_timestamp()
}

#[test]
fn introspection_shows_each_kind_of_credential_active_until_it_is_revoked() {
    let env = TestEnv::new();
    let server = env.start_server(&[]);
    let admin = Api::admin(&server);
    let instance = admin.get(&format!("{ORG}/instances/local"));
    instance.expect(200);
    let audience = text(&instance.json(), "audience");

    // One credential of each kind.
    create_tenant(&admin, "acme");
    let streaming = admin.create(
        &format!("{ORG}/tenants/acme/tokens"),
        &json!({"name": "producer", "expires": "7d"}),
    );
    admin.create(
        &format!("{ORG}/service-accounts"),
        &json!({"name": "ingest", "roles": ["Read Only User"]}),
    );
    let key = admin.create(
        &format!("{ORG}/apikeys"),
        &json!({"service_account": "ingest", "name": "ingest-1"}),
    );
    let app = admin.create(
        &format!("{ORG}/tokens"),
        &json!({"name": "dashboards", "roles": ["Read Only User"]}),
    );
    let session = Api::admin(&server);
    let read_only = role_actions(&admin, "Read Only User");
    let administrator = role_actions(&admin, "Organization Administrator");

    // The caller holds `introspect` and nothing else.
    let gateway = principal(&admin, &server, "gateway", &["introspect"]);

    let jwt = text(&streaming, "token");
    let claims = part_json(&jwt, 1);
    let answer = introspect(&gateway, &jwt);
    expect_active(
        &answer,
        &json!({
            "token_type": "streaming",
            "tenant": "acme",
            "sub": streaming["subject"],
            "aud": audience,
            "jti": streaming["id"],
            "exp": unix(&streaming, "expires_at"),
            "iat": claims["iat"],
        }),
        &[],
    );
    assert_eq!(claims["exp"], answer["exp"]);

    let api_key = text(&key, "key");
    let claims = part_json(&api_key, 1);
    assert_eq!(claims["sub"], "ingest@local", "{claims}");
    assert_eq!(claims["aud"], audience.as_str(), "{claims}");
    assert_eq!(claims["jti"], key["id"], "{claims}");
    assert_eq!(
        unix(&key, "expires_at") - unix(&key, "created_at"),
        30 * 86_400,
        "an API key lasts 30 days unless asked: {key}"
    );
    let answer = introspect(&gateway, &api_key);
    expect_active(
        &answer,
        &json!({
            "token_type": "apikey",
            "service_account": "ingest",
            "sub": "ingest@local",
            "aud": audience,
            "jti": key["id"],
            "exp": unix(&key, "expires_at"),
            "iat": unix(&key, "created_at"),
        }),
        &["scope"],
    );
    assert_eq!(scope_of(&answer), read_only, "{answer}");

    let answer = introspect(&gateway, &text(&app, "token"));
    // No `exp`: it never expires.
    expect_active(
        &answer,
        &json!({
            "token_type": "application",
            "sub": "dashboards",
            "client_id": app["client_id"],
            "iat": unix(&app, "created_at"),
        }),
        &["scope"],
    );
    assert_eq!(scope_of(&answer), read_only, "{answer}");

    let session_token = session.token.clone().unwrap();
    let answer = introspect(&gateway, &session_token);
    expect_active(
        &answer,
        &json!({"token_type": "session", "username": "admin", "sub": "admin"}),
        &["exp", "iat", "scope"],
    );
    let (iat, exp) = (
        answer["iat"].as_i64().unwrap(),
        answer["exp"].as_i64().unwrap(),
    );
    assert!(iat <= now() && now() < exp, "{answer}");
    assert_eq!(scope_of(&answer), administrator, "{answer}");

    // Introspecting the key counted as its use.
    let got = admin.get(&format!("{ORG}/apikeys/ingest-1"));
    got.expect(200);
    assert!(got.json()["last_used_at"].is_string(), "{}", got.text);

    // Revoked, each is inactive, with a reason and nothing else.
    admin
        .delete(&format!("{ORG}/tenants/acme/tokens/producer"))
        .expect(200);
    admin
        .send(
            Method::POST,
            &format!("{ORG}/apikeys/ingest-1/revoke"),
            None,
            &[],
        )
        .expect(200);
    admin
        .delete(&format!("{ORG}/tokens/dashboards"))
        .expect(200);
    session.delete("/v1/auth").expect(204);
    for (what, token) in [
        ("a deleted streaming token", &jwt),
        ("a revoked API key", &api_key),
        ("a deleted application token", &text(&app, "token")),
        ("an ended session", &session_token),
    ] {
        expect_inactive(&introspect(&gateway, token), what);
    }
    // A deleted key is no more active than a revoked one.
    admin.delete(&format!("{ORG}/apikeys/ingest-1")).expect(200);
    expect_inactive(&introspect(&gateway, &api_key), "a deleted API key");
}

#[test]
fn introspection_of_anything_else_is_inactive_and_needs_the_introspect_action() {
    let env = TestEnv::new();
    let server = env.start_server(&[]);
    let admin = Api::admin(&server);
    let local = admin.get(&format!("{ORG}/instances/local"));
    local.expect(200);
    let local = local.json();
    admin.create(
        &format!("{ORG}/service-accounts"),
        &json!({"name": "ingest", "roles": ["Read Only User"]}),
    );
    // An HMAC instance whose secret the test knows, so that it can sign what the control
    // plane never would: an API key whose `exp` is past, one re-signed with other claims.
    admin.create(
        &format!("{ORG}/instances"),
        &json!({"name": "hs", "algorithm": "HS256", "secret_key": b64(SECRET)}),
    );
    let key = admin.create(
        &format!("{ORG}/apikeys"),
        &json!({"service_account": "ingest", "instance": "hs", "name": "hs-1"}),
    );
    let key = text(&key, "key");
    let (header, claims) = (part_json(&key, 0), part_json(&key, 1));
    let with = |changes: Value| {
        let mut c = claims.clone();
        for (k, v) in changes.as_object().unwrap() {
            c[k] = v.clone();
        }
        c
    };
    let expired = hmac_token(
        "HS256",
        SECRET,
        &header,
        &with(json!({"iat": now() - 7200, "exp": now() - 3600})),
    );
    let resigned = hmac_token(
        "HS256",
        SECRET,
        &header,
        &with(json!({"exp": now() + 3600})),
    );
    let other_secret = b"another 32-byte secret, not hs's";
    let foreign = hmac_token("HS256", other_secret, &header, &claims);
    // HMAC under the RSA instance's kid, keyed with its public key: algorithm confusion.
    let public = admin.get(&format!("{ORG}/instances/local/public-key"));
    public.expect(200);
    let der = STANDARD.decode(text(&public.json(), "der")).unwrap();
    let confused = hmac_token(
        "HS256",
        &der,
        &json!({"alg": "HS256", "typ": "JWT", "kid": local["kid"]}),
        &with(json!({"aud": local["audience"]})),
    );
    let unknown_jti = hmac_token(
        "HS256",
        SECRET,
        &header,
        &with(json!({"jti": "key_00000000000000000000000000000000"})),
    );
    let no_kid = hmac_token(
        "HS256",
        SECRET,
        &json!({"alg": "HS256", "typ": "JWT"}),
        &claims,
    );
    let none = format!(
        "{}.{}.",
        b64url(
            json!({"alg": "none", "kid": header["kid"]})
                .to_string()
                .as_bytes()
        ),
        b64url(claims.to_string().as_bytes())
    );

    let gateway = principal(&admin, &server, "gateway", &["introspect"]);
    // The genuine key is active: what is wrong with each forgery is what it changed.
    assert_eq!(introspect(&gateway, &key)["active"], true);
    let cases = [
        ("an API key whose exp is past", expired.as_str()),
        ("an API key re-signed with another exp", resigned.as_str()),
        ("an API key signed by another secret", foreign.as_str()),
        ("HS256 under an RS256 instance's kid", confused.as_str()),
        ("a JWT with an unknown jti", unknown_jti.as_str()),
        ("a JWT with no kid", no_kid.as_str()),
        ("an unsigned JWT (alg none)", none.as_str()),
        (
            "a JWT of another issuer",
            &crate::tokens::hs256(&json!({"sub": "x"})),
        ),
        ("three dots of garbage", "eyJ.eyJ.eyJ"),
        ("garbage", "garbage"),
        ("nothing", ""),
        ("spaces and symbols", " +&=%?/ "),
        ("an application token's prefix", "toka_notarealtoken"),
        (
            "an application token with a bad checksum",
            "toka_0123456789abcdefghijABCDEFGHIJ01000000",
        ),
        ("a session token's prefix", "toks_notarealsession"),
        ("a client secret", "tokcs_notarealsecret"),
    ];
    for (what, token) in cases {
        expect_inactive(&introspect(&gateway, token), what);
    }
    let reason = expect_inactive(&introspect(&gateway, &expired), "expired");
    assert!(reason.contains("expire"), "{reason}");

    // As bearer tokens of the tok API, the forgeries are refused too.
    for token in [&resigned, &foreign, &confused, &unknown_jti, &none] {
        bearer(&server, token)
            .get("/v1/whoami")
            .problem(401, "invalid_token");
    }
    let reply = bearer(&server, &expired).get("/v1/whoami");
    let p = reply.problem(401, &text(&reply.json(), "code"));
    assert!(text(&p, "detail").contains("expire"), "{p}");
    bearer(&server, &key).get("/v1/whoami").expect(200);

    // Introspection is for authenticated callers holding `introspect`.
    let anonymous = Api::anonymous(&server);
    for reply in [
        introspect_json(&anonymous, &key),
        introspect_form(&anonymous, &key),
    ] {
        reply.problem(401, "unauthenticated");
        assert!(reply.header("www-authenticate").is_some());
    }
    let reader = principal(&admin, &server, "reader", &["tenant-read", "token-read"]);
    for reply in [
        introspect_json(&reader, &key),
        introspect_form(&reader, &key),
    ] {
        let p = reply.problem(403, "forbidden");
        assert!(text(&p, "detail").contains("introspect"), "{p}");
    }
    // An API key acts as its service account: Read Only User does not introspect.
    introspect_json(&bearer(&server, &key), &key).problem(403, "forbidden");
    // A request with no token is a bad request, not an answer about a credential.
    gateway
        .post("/v1/introspect", &json!({}))
        .problem(400, "invalid_input");
}

/// The feed from `cursor` in pages of `limit`: every item, and the last `next_cursor`.
fn drain(api: &Api, cursor: Option<&str>, limit: u32) -> (Vec<Value>, String) {
    let mut items = Vec::new();
    let mut cursor = cursor.map(str::to_string);
    loop {
        let path = match &cursor {
            Some(c) => format!("{ORG}/revocations?since={c}&limit={limit}"),
            None => format!("{ORG}/revocations?limit={limit}"),
        };
        let reply = api.get(&path);
        reply.expect(200);
        let page = reply.json();
        let got = page["items"].as_array().unwrap().clone();
        let next = text(&page, "next_cursor");
        assert!(got.len() <= limit as usize, "{page}");
        if got.is_empty() {
            if let Some(c) = &cursor {
                assert_eq!(&next, c, "nothing new keeps the cursor");
            }
            return (items, next);
        }
        assert_ne!(
            Some(&next),
            cursor.as_ref(),
            "the cursor moves past {got:?}"
        );
        items.extend(got);
        cursor = Some(next);
    }
}

#[test]
fn the_revocation_feed_lists_each_revoked_jwt_once_in_order() {
    let env = TestEnv::new();
    let server = env.start_server(&[]);
    let admin = Api::admin(&server);
    let feed = principal(&admin, &server, "feed-reader", &["introspect"]);
    let (items, start) = drain(&feed, None, 1000);
    assert!(items.is_empty(), "a new org's feed is empty: {items:?}");

    create_tenant(&admin, "acme");
    create_tenant(&admin, "doomed");
    let token = |tenant: &str, name: &str, expires: &str| {
        admin.create(
            &format!("{ORG}/tenants/{tenant}/tokens"),
            &json!({"name": name, "expires": expires}),
        )
    };
    let t1 = token("acme", "t1", "7d");
    let t2 = token("doomed", "t2", "never");
    let t3 = token("doomed", "t3", "1d");
    for sa in ["ingest", "gone"] {
        admin.create(
            &format!("{ORG}/service-accounts"),
            &json!({"name": sa, "roles": ["Read Only User"]}),
        );
    }
    let key = |sa: &str, name: &str, expires: &str| {
        admin.create(
            &format!("{ORG}/apikeys"),
            &json!({"service_account": sa, "name": name, "expires": expires}),
        )
    };
    let k1 = key("ingest", "k1", "never");
    let k2 = key("gone", "k2", "30d");
    let k3 = key("gone", "k3", "1d");
    let k4 = key("gone", "k4", "7d");
    let revoke = |name: &str| {
        admin.send(
            Method::POST,
            &format!("{ORG}/apikeys/{name}/revoke"),
            None,
            &[],
        )
    };

    // Each revocation, in order; what was revoked already is not fed again.
    let first = revoke("k1");
    first.expect(200);
    assert_eq!(first.header("x-already-revoked").as_deref(), Some("false"));
    let again = revoke("k1");
    again.expect(200);
    assert_eq!(again.header("x-already-revoked").as_deref(), Some("true"));
    admin.delete(&format!("{ORG}/apikeys/k1")).expect(200);
    admin
        .delete(&format!("{ORG}/tenants/acme/tokens/t1"))
        .expect(200);
    admin
        .delete(&format!("{ORG}/tenants/doomed/tokens/t3"))
        .expect(200);
    revoke("k4").expect(200);
    let gone = admin.get(&format!("{ORG}/service-accounts/gone"));
    gone.expect(200);
    let gone = gone.json();
    assert_eq!(gone["apikey_count"], 2, "revoked keys do not count: {gone}");
    let mut statuses: Vec<(&str, &str)> = gone["apikeys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| (k["name"].as_str().unwrap(), k["status"].as_str().unwrap()))
        .collect();
    statuses.sort();
    assert_eq!(
        statuses,
        [("k2", "active"), ("k3", "active"), ("k4", "revoked")]
    );
    let deleted = admin.delete(&format!("{ORG}/tenants/doomed"));
    deleted.expect(200);
    let deleted = admin.delete(&format!("{ORG}/service-accounts/gone"));
    deleted.expect(200);
    assert_eq!(deleted.json()["apikeys_deleted"], 3, "{}", deleted.text);
    let groups: [(&str, Vec<&Value>); 6] = [
        ("apikey", vec![&k1]),
        ("streaming", vec![&t1]),
        ("streaming", vec![&t3]),
        ("apikey", vec![&k4]),
        ("streaming", vec![&t2]),
        // One delete: the order within it is not specified.
        ("apikey", vec![&k2, &k3]),
    ];

    let (items, last) = drain(&feed, None, 1000);
    let expected_len: usize = groups.iter().map(|(_, g)| g.len()).sum();
    assert_eq!(items.len(), expected_len, "{items:#?}");
    let mut rest = &items[..];
    let mut previous = 0;
    for (kind, group) in &groups {
        let (these, after) = rest.split_at(group.len());
        rest = after;
        let jtis: BTreeSet<String> = these.iter().map(|i| text(i, "jti")).collect();
        let ids: BTreeSet<String> = group.iter().map(|c| text(c, "id")).collect();
        assert_eq!(jtis, ids, "feed {items:#?}");
        for item in these {
            let fields: BTreeSet<&str> = item
                .as_object()
                .unwrap()
                .keys()
                .map(String::as_str)
                .collect();
            assert_eq!(
                fields,
                BTreeSet::from(["jti", "kind", "revoked_at", "expires_at"]),
                "{item}"
            );
            assert_eq!(item["kind"], *kind, "{item}");
            let record = group.iter().find(|c| c["id"] == item["jti"]).unwrap();
            assert_eq!(item["expires_at"], record["expires_at"], "{item}");
            let at = unix(item, "revoked_at");
            assert!(previous <= at && at <= now(), "{item}");
            previous = at;
        }
    }
    assert!(t2["expires_at"].is_null() && k1["expires_at"].is_null());

    // Page by page, the same entries; then nothing new, and the same cursor.
    let (paged, paged_last) = drain(&feed, None, 1);
    assert_eq!(paged, items);
    assert_eq!(paged_last, last);
    let (same, _) = drain(&feed, Some(&start), 3);
    assert_eq!(same, items);
    for _ in 0..2 {
        let poll = feed.get(&format!("{ORG}/revocations?since={last}"));
        poll.expect(200);
        assert_eq!(
            poll.json(),
            json!({"items": [], "next_cursor": last}),
            "polling at the end"
        );
    }

    // A new revocation is all a poll from the last cursor sees.
    let k5 = key("ingest", "k5", "1d");
    revoke("k5").expect(200);
    let poll = feed.get(&format!("{ORG}/revocations?since={last}"));
    poll.expect(200);
    let poll = poll.json();
    let new: Vec<&Value> = poll["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| &i["jti"])
        .collect();
    assert_eq!(new, [&k5["id"]], "{poll}");
    assert_ne!(poll["next_cursor"], json!(last));

    // Cursors and limits it never handed out are refused.
    for query in [
        "since=abc",
        "since=-1",
        "since=1.5",
        "since=",
        "limit=0",
        "limit=1001",
    ] {
        let reply = feed.get(&format!("{ORG}/revocations?{query}"));
        let p = reply.problem(400, "invalid_input");
        assert!(!text(&p, "detail").is_empty());
    }
}

/// Waits up to 5 s for an API key's `last_used_at` (written in the background).
fn last_used_at(admin: &Api, key: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let got = admin.get(&format!("{ORG}/apikeys/{key}"));
        got.expect(200);
        let at = got.json()["last_used_at"].clone();
        if !at.is_null() || Instant::now() > deadline {
            return at;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn an_api_key_acts_with_its_service_accounts_roles_until_revoked() {
    let env = TestEnv::new();
    let server = env.start_server(&[]);
    let admin = Api::admin(&server);
    create_tenant(&admin, "acme");
    admin.create(
        &format!("{ORG}/service-accounts"),
        &json!({"name": "viewer", "roles": ["Read Only User"]}),
    );
    let key = |name: &str| {
        let created = admin.create(
            &format!("{ORG}/apikeys"),
            &json!({"service_account": "viewer", "name": name}),
        );
        bearer(&server, &text(&created, "key"))
    };
    let (v1, v2, v3) = (key("v1"), key("v2"), key("v3"));
    let got = admin.get(&format!("{ORG}/apikeys/v1"));
    got.expect(200);
    assert!(got.json()["last_used_at"].is_null(), "{}", got.text);

    // Read Only User: it reads, and changes nothing.
    let whoami = v1.get("/v1/whoami");
    whoami.expect(200);
    assert_eq!(
        whoami.json()["roles"],
        json!(["Read Only User"]),
        "{}",
        whoami.text
    );
    assert_eq!(whoami.json()["org"], "local");
    let tenants = v1.get(&format!("{ORG}/tenants"));
    tenants.expect(200);
    assert_eq!(tenants.json()["items"][0]["name"], "acme");
    v1.get(&format!("{ORG}/tenants/acme")).expect(200);
    v1.post(
        &format!("{ORG}/tenants"),
        &json!({"name": "sneaky", "instance": "local"}),
    )
    .problem(403, "forbidden");
    v1.delete(&format!("{ORG}/tenants/acme"))
        .problem(403, "forbidden");
    v1.post(
        &format!("{ORG}/apikeys"),
        &json!({"service_account": "viewer"}),
    )
    .problem(403, "forbidden");
    admin.get(&format!("{ORG}/tenants/acme")).expect(200);
    assert!(
        last_used_at(&admin, "v1").is_string(),
        "last_used_at is set once the key was used"
    );

    // Revoked: refused as revoked, with a challenge.
    admin
        .send(Method::POST, &format!("{ORG}/apikeys/v1/revoke"), None, &[])
        .expect(200);
    let refused = v1.get(&format!("{ORG}/tenants"));
    refused.problem(401, "key_revoked");
    assert!(refused.header("www-authenticate").is_some());
    v1.get("/v1/whoami").problem(401, "key_revoked");

    // Deleted, or gone with its service account: not a credential at all.
    v2.get("/v1/whoami").expect(200);
    admin.delete(&format!("{ORG}/apikeys/v2")).expect(200);
    v2.get("/v1/whoami").problem(401, "invalid_token");
    v3.get("/v1/whoami").expect(200);
    admin
        .delete(&format!("{ORG}/service-accounts/viewer"))
        .expect(200);
    v3.get(&format!("{ORG}/tenants"))
        .problem(401, "invalid_token");

    // A streaming token, signed by the same instance key, is no API key.
    let streaming = admin.create(
        &format!("{ORG}/tenants/acme/tokens"),
        &json!({"name": "t1", "expires": "1d"}),
    );
    bearer(&server, &text(&streaming, "token"))
        .get(&format!("{ORG}/tenants"))
        .problem(401, "invalid_token");
}

/// Fetches the JWKS with urllib, picks the key the token's `kid` names, and verifies the
/// token with the audience given and with another one.
const VERIFY_WITH_JWKS: &str = r#"
import json, sys, urllib.request
import jwt

url, token, audience = sys.argv[1:4]
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
with opener.open(url, timeout=30) as response:
    jwks = json.load(response)
kid = jwt.get_unverified_header(token)["kid"]
matching = [k for k in jwks["keys"] if k.get("kid") == kid]
assert len(matching) == 1, (kid, jwks)
jwk = jwt.PyJWK.from_dict(matching[0])
out = {"algorithm": jwk.algorithm_name}
out["claims"] = jwt.decode(token, jwk.key, algorithms=[jwk.algorithm_name], audience=audience)
try:
    jwt.decode(token, jwk.key, algorithms=[jwk.algorithm_name], audience="urn:tok:local:other")
    out["other_audience"] = "accepted"
except jwt.InvalidAudienceError as e:
    out["other_audience"] = type(e).__name__
print(json.dumps(out))
"#;

#[test]
fn pyjwt_verifies_an_api_key_with_the_jwks_it_fetches_from_the_server() {
    if !pyjwt_available() {
        return;
    }
    let env = TestEnv::new();
    let server = env.start_server(&[]);
    let admin = Api::admin(&server);
    let instance = admin.get(&format!("{ORG}/instances/local"));
    instance.expect(200);
    let instance = instance.json();
    admin.create(
        &format!("{ORG}/service-accounts"),
        &json!({"name": "ingest", "roles": ["Read Only User"]}),
    );
    let key = admin.create(
        &format!("{ORG}/apikeys"),
        &json!({"service_account": "ingest", "instance": "local", "name": "ingest-1"}),
    );
    let jwks = format!("{}{ORG}/instances/local/jwks.json", server.url);
    let audience = text(&instance, "audience");
    let verified = python(
        &env,
        VERIFY_WITH_JWKS,
        &[&jwks, &text(&key, "key"), &audience],
    );
    assert_eq!(verified["algorithm"], instance["algorithm"], "{verified}");
    let claims = &verified["claims"];
    assert_eq!(claims["sub"], "ingest@local", "{verified}");
    assert_eq!(claims["aud"], audience.as_str(), "{verified}");
    assert_eq!(claims["jti"], key["id"], "{verified}");
    assert_eq!(claims["exp"], unix(&key, "expires_at"), "{verified}");
    assert_eq!(verified["other_audience"], "InvalidAudienceError");
}

#[test]
fn nobody_hands_out_or_stops_a_key_that_may_do_more_than_they_may() {
    let env = TestEnv::new();
    let server = env.start_server(&[]);
    let admin = Api::admin(&server);
    let actions = [
        "service-account-read",
        "service-account-write",
        "apikey-read",
        "apikey-write",
    ];
    let keymaster = principal(&admin, &server, "keymaster", &actions);
    admin.create(
        &format!("{ORG}/service-accounts"),
        &json!({"name": "power", "roles": ["Organization Administrator"]}),
    );
    let key = admin.create(
        &format!("{ORG}/apikeys"),
        &json!({"service_account": "power", "name": "pk"}),
    );
    let audit_len = || {
        let reply = admin.get(&format!("{ORG}/audit?limit=1000"));
        reply.expect(200);
        reply.json()["items"].as_array().unwrap().len()
    };
    let before = audit_len();

    // What would hand out, or stop, more than it holds is refused, and changes nothing.
    let refusals = [
        keymaster.post(
            &format!("{ORG}/service-accounts"),
            &json!({"name": "p2", "roles": ["Organization Administrator"]}),
        ),
        keymaster.post(
            &format!("{ORG}/apikeys"),
            &json!({"service_account": "power", "name": "pk2"}),
        ),
        keymaster.send(Method::POST, &format!("{ORG}/apikeys/pk/revoke"), None, &[]),
        keymaster.delete(&format!("{ORG}/apikeys/pk")),
        keymaster.delete(&format!("{ORG}/service-accounts/power")),
    ];
    for reply in &refusals {
        let p = reply.problem(403, "forbidden");
        assert!(text(&p, "detail").contains("does not hold"), "{p}");
    }
    assert_eq!(audit_len(), before, "refused, yet audited");
    let power = admin.get(&format!("{ORG}/service-accounts/power"));
    power.expect(200);
    assert_eq!(power.json()["apikey_count"], 1, "{}", power.text);
    let gateway = principal(&admin, &server, "gateway", &["introspect"]);
    let feed = gateway.get(&format!("{ORG}/revocations"));
    feed.expect(200);
    assert_eq!(feed.json()["items"], json!([]));
    assert_eq!(introspect(&gateway, &text(&key, "key"))["active"], true);

    // Within what it holds, it may.
    keymaster
        .post(
            &format!("{ORG}/service-accounts"),
            &json!({"name": "own", "roles": ["keymaster"]}),
        )
        .expect(201);
    keymaster
        .post(
            &format!("{ORG}/apikeys"),
            &json!({"service_account": "own", "name": "own-1"}),
        )
        .expect(201);
    keymaster
        .send(
            Method::POST,
            &format!("{ORG}/apikeys/own-1/revoke"),
            None,
            &[],
        )
        .expect(200);
    keymaster
        .delete(&format!("{ORG}/service-accounts/own"))
        .expect(200);
}
