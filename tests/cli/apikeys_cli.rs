//! Service accounts and API keys through the CLI, StreamNative's verbs: `tok service-account`
//! create/list/get/delete, `tok apikey` create/list/get/revoke/delete, `tok token inspect`
//! and the revocation feed (`tok token revocations`), as one scenario on the embedded
//! control plane and against a real `tok server`, in table and JSON. Then: the key is shown
//! only by the command that creates it, and (server only) a key used as `TOK_TOKEN` acts
//! with its service account's roles until it is revoked.

use std::process::Output;

use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::both_backends;
use crate::common::{Backend, TestEnv, expect_error, expect_exit, json, stderr, stdout};
use crate::embedded_helpers::{assert_fields, expect_hint, expect_unconfirmed, jwt_parts};

/// DESIGN.md's API key fields (`create` adds `key`).
const APIKEY_FIELDS: [&str; 10] = [
    "id",
    "name",
    "service_account",
    "instance",
    "description",
    "status",
    "created_at",
    "expires_at",
    "revoked_at",
    "last_used_at",
];

/// DESIGN.md's service account fields, plus `principal` (documented in `--help`).
const SA_FIELDS: [&str; 6] = [
    "name",
    "principal",
    "description",
    "roles",
    "created_at",
    "apikey_count",
];

const DAY: i64 = 86_400;
const READ_ONLY: &str = "Read Only User";

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// `tok ARGS -o json`, whatever it exits with.
fn run_json(env: &TestEnv, args: &[&str]) -> Output {
    let mut args = args.to_vec();
    args.extend(["-o", "json"]);
    env.run(&args)
}

/// `tok apikey create --service-account SA EXTRA… -o json`: the created key (with `key`).
fn create_key(env: &TestEnv, sa: &str, extra: &[&str]) -> Value {
    let mut args = vec!["apikey", "create", "--service-account", sa];
    args.extend_from_slice(extra);
    let key = env.ok_json(&args);
    assert_fields(&key, &APIKEY_FIELDS);
    assert_fields(&key, &["key"]);
    key
}

/// A string field of a JSON object.
#[track_caller]
fn text<'a>(doc: &'a Value, field: &str) -> &'a str {
    doc[field]
        .as_str()
        .unwrap_or_else(|| panic!("`{field}` is a string in {doc}"))
}

/// An RFC 3339 timestamp as Unix seconds.
#[track_caller]
fn unix(ts: &Value) -> i64 {
    let s = ts
        .as_str()
        .unwrap_or_else(|| panic!("a timestamp, not {ts}"));
    assert!(s.ends_with('Z'), "UTC: {s}");
    OffsetDateTime::parse(s, &Rfc3339)
        .unwrap_or_else(|e| panic!("RFC 3339 ({e}): {s}"))
        .unix_timestamp()
}

/// Unix seconds now.
fn now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

/// The `name` of each object of a JSON array, sorted.
#[track_caller]
fn names(list: &Value) -> Vec<String> {
    let mut names: Vec<String> = list
        .as_array()
        .unwrap_or_else(|| panic!("an array: {list}"))
        .iter()
        .map(|item| text(item, "name").to_string())
        .collect();
    names.sort();
    names
}

/// The sorted key names of `tok apikey list FILTERS… -o json`, every object checked for
/// its fields and for the absence of the key.
fn listed(env: &TestEnv, filters: &[&str]) -> Vec<String> {
    let mut args = vec!["apikey", "list"];
    args.extend_from_slice(filters);
    let list = env.ok_json(&args);
    for key in list.as_array().expect("an array") {
        assert_fields(key, &APIKEY_FIELDS);
        assert!(key.get("key").is_none(), "a listing shows no key: {key}");
    }
    names(&list)
}

/// Owned strings, for comparing with [`names`].
fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// `tok token revocations [--since CURSOR] -o json`: the jtis in order and the next cursor.
fn feed(env: &TestEnv, since: Option<&str>) -> (Vec<String>, String) {
    let mut args = vec!["token", "revocations"];
    if let Some(cursor) = since {
        args.extend(["--since", cursor]);
    }
    let doc = env.ok_json(&args);
    let items = doc["items"]
        .as_array()
        .unwrap_or_else(|| panic!("items: {doc}"));
    let jtis = items
        .iter()
        .map(|item| {
            assert_fields(item, &["jti", "kind", "revoked_at", "expires_at"]);
            assert_eq!(item["kind"], "apikey", "{item}");
            unix(&item["revoked_at"]);
            text(item, "jti").to_string()
        })
        .collect();
    (jtis, text(&doc, "next_cursor").to_string())
}

/// `tok token inspect KEY -o json` (exit 0 whether active or not).
fn inspect(env: &TestEnv, key: &str) -> Value {
    env.ok_json(&["token", "inspect", key])
}

/// `tok token inspect - -o json` with the key (and a newline) on stdin.
fn inspect_stdin(env: &TestEnv, key: &str) -> Value {
    let out = env.run_stdin(
        &["token", "inspect", "-", "-o", "json"],
        &format!("{key}\n"),
    );
    expect_exit(&out, 0);
    json(&out)
}

/// Asserts that `secret` appears in neither stream of `out`.
#[track_caller]
fn assert_hidden(out: &Output, secret: &str, what: &str) {
    let all = format!("{}{}", stdout(out), stderr(out));
    assert!(!all.contains(secret), "{what} shows the key:\n{all}");
}

// ---------------------------------------------------------------------------------------
// 1. The scenario, on both backends
// ---------------------------------------------------------------------------------------

fn service_accounts(env: &TestEnv) {
    // Table output: one record, principal included; the progress line on stderr.
    let out = env.run(&["sa", "create", "ingest", "--description", "ingests"]);
    expect_exit(&out, 0);
    let table = stdout(&out);
    assert!(table.contains("ingest@local"), "{table}");
    assert!(
        stderr(&out).contains("created service account 'ingest'"),
        "{}",
        stderr(&out)
    );

    let ro = env.ok_json(&[
        "service-account",
        "create",
        "ro",
        "--role",
        READ_ONLY,
        "--description",
        "reads",
    ]);
    assert_fields(&ro, &SA_FIELDS);
    assert_eq!(ro["name"], "ro");
    assert_eq!(ro["principal"], "ro@local");
    assert_eq!(ro["roles"], serde_json::json!([READ_ONLY]));
    assert_eq!(ro["description"], "reads");
    assert_eq!(ro["apikey_count"], 0);
    assert!((unix(&ro["created_at"]) - now()).abs() < 60, "{ro}");

    let ingest = env.ok_json(&["sa", "get", "ingest"]);
    assert_fields(&ingest, &SA_FIELDS);
    assert_eq!(ingest["roles"], serde_json::json!([]));
    assert_eq!(ingest["description"], "ingests");
    assert_eq!(ingest["apikeys"], serde_json::json!([]));

    // Refusals change nothing.
    expect_error(&run_json(env, &["sa", "create", "ingest"]), 5, "conflict");
    expect_error(
        &run_json(env, &["sa", "create", "ro", "--role", READ_ONLY]),
        5,
        "conflict",
    );
    for bad in ["Bad Name!", "-dash", "UPPER", "a b"] {
        let out = run_json(env, &["sa", "create", bad]);
        expect_error(&out, 2, "invalid_input");
    }
    let out = run_json(env, &["sa", "create", "x", "--role", "No Such Role"]);
    let message = expect_error(&out, 2, "invalid_input");
    assert!(message.contains("No Such Role"), "{message}");

    let list = env.ok_json(&["sa", "list"]);
    assert_eq!(names(&list), strings(&["ingest", "ro"]));
    for sa in list.as_array().unwrap() {
        assert_fields(sa, &SA_FIELDS);
    }
    let table = env.ok(&["service-account", "list"]);
    let ro_row = table
        .lines()
        .find(|l| l.starts_with("ro "))
        .unwrap_or_else(|| panic!("a row for ro:\n{table}"));
    assert!(ro_row.contains(READ_ONLY), "{ro_row}");
    assert!(table.lines().any(|l| l.starts_with("ingest ")), "{table}");

    let out = run_json(env, &["sa", "get", "nope"]);
    expect_hint(&out, 3, "not_found", "tok service-account create nope");
    let out = run_json(env, &["sa", "delete", "nope", "--yes"]);
    expect_error(&out, 3, "not_found");
}

fn apikey_lifecycle(env: &TestEnv) {
    env.ok(&["sa", "create", "ingest", "-q"]);
    env.ok(&["sa", "create", "other", "-q"]);
    let instance = env.ok_json(&["instance", "get", "local"]);
    let audience = text(&instance, "audience");

    // Table create: the key alone on stdout, the rest on stderr.
    let out = env.run(&[
        "apikey",
        "create",
        "--service-account",
        "ingest",
        "--instance",
        "local",
        "--name",
        "ingest-1",
        "--description",
        "first key",
    ]);
    expect_exit(&out, 0);
    let raw = String::from_utf8(out.stdout.clone()).expect("UTF-8");
    let key1 = raw.trim_end_matches('\n');
    assert_eq!(raw, format!("{key1}\n"), "the key alone on stdout");
    assert_eq!(key1.split('.').count(), 3, "a compact JWT: {key1}");
    assert!(stderr(&out).contains("only once"), "{}", stderr(&out));
    let key1 = key1.to_string();
    let decoded = env.ok_json(&["jwt", "decode", &key1]);
    let id1 = text(&decoded["claims"], "jti").to_string();
    assert_eq!(decoded["claims"]["sub"], "ingest@local");
    assert_eq!(decoded["claims"]["aud"], audience);

    // JSON create: every field, the key, and claims that agree with them.
    let before = now();
    let k2 = create_key(env, "ingest", &["--name", "ingest-2"]);
    let after = now();
    let key2 = text(&k2, "key").to_string();
    let id2 = text(&k2, "id").to_string();
    assert_eq!(k2["name"], "ingest-2");
    assert_eq!(k2["service_account"], "ingest");
    assert_eq!(
        k2["instance"], "local",
        "the org's only instance by default"
    );
    assert_eq!(k2["status"], "active");
    assert_eq!(k2["description"], Value::Null);
    assert_eq!(k2["revoked_at"], Value::Null);
    assert_eq!(k2["last_used_at"], Value::Null);
    let (header, claims) = jwt_parts(&key2);
    assert_eq!(header["alg"], instance["algorithm"]);
    assert_eq!(header["kid"], instance["kid"]);
    assert_eq!(claims["sub"], "ingest@local");
    assert_eq!(claims["aud"], audience);
    assert_eq!(claims["jti"], id2.as_str());
    let iat = claims["iat"].as_i64().expect("iat");
    let exp = claims["exp"].as_i64().expect("exp");
    assert!((before - 1..=after + 1).contains(&iat), "iat {iat}");
    assert_eq!(exp, unix(&k2["expires_at"]), "exp = expires_at");
    assert_eq!(exp - iat, 30 * DAY, "30 days by default");
    assert!((unix(&k2["created_at"]) - iat).abs() <= 1, "{k2}");
    assert_eq!(
        text(&env.ok_json(&["apikey", "get", "ingest-1"]), "id"),
        id1
    );

    // `--expires never`: no exp, expires_at null, and a warning on stderr.
    let out = run_json(
        env,
        &[
            "apikey",
            "create",
            "--service-account",
            "ingest",
            "--name",
            "ingest-3",
            "--expires",
            "never",
        ],
    );
    expect_exit(&out, 0);
    let k3 = json(&out);
    assert_eq!(k3["expires_at"], Value::Null, "{k3}");
    assert!(stderr(&out).contains("warning"), "{}", stderr(&out));
    assert!(stderr(&out).contains("never expires"), "{}", stderr(&out));
    let (_, claims3) = jwt_parts(text(&k3, "key"));
    assert!(claims3.get("exp").is_none(), "no exp: {claims3}");
    let id3 = text(&k3, "id").to_string();

    // An explicit duration, and a generated name.
    let k4 = create_key(env, "ingest", &["--name", "ingest-4", "--expires", "7d"]);
    let (_, claims4) = jwt_parts(text(&k4, "key"));
    assert_eq!(
        claims4["exp"].as_i64().unwrap() - claims4["iat"].as_i64().unwrap(),
        7 * DAY
    );
    let id4 = text(&k4, "id").to_string();
    let short = create_key(env, "other", &["--name", "short", "--expires", "1s"]);
    let generated = create_key(env, "other", &["--description", "unnamed"]);
    let generated_name = text(&generated, "name").to_string();
    assert!(generated_name.starts_with("other-"), "{generated}");

    // A second instance: keys are bound to one, and leaving --instance out is ambiguous.
    let edge = env.ok_json(&["instance", "create", "edge"]);
    let out = run_json(env, &["apikey", "create", "--service-account", "other"]);
    let message = expect_error(&out, 2, "invalid_input");
    assert!(
        message.contains("local") && message.contains("edge"),
        "{message}"
    );
    let ek = create_key(
        env,
        "other",
        &["--instance", "edge", "--name", "edge-1", "--expires", "12h"],
    );
    assert_eq!(ek["instance"], "edge");
    let (_, eclaims) = jwt_parts(text(&ek, "key"));
    assert_eq!(eclaims["aud"], edge["audience"]);
    assert_ne!(eclaims["aud"], audience);
    assert_eq!(eclaims["sub"], "other@local");

    // Listings and their filters.
    let all = [
        "edge-1",
        "ingest-1",
        "ingest-2",
        "ingest-3",
        "ingest-4",
        &generated_name,
        "short",
    ];
    let mut all = strings(&all);
    all.sort();
    assert_eq!(listed(env, &[]), all);
    let ingest_keys = strings(&["ingest-1", "ingest-2", "ingest-3", "ingest-4"]);
    assert_eq!(listed(env, &["--service-account", "ingest"]), ingest_keys);
    let mut other_keys = strings(&["edge-1", &generated_name, "short"]);
    other_keys.sort();
    assert_eq!(listed(env, &["--service-account", "other"]), other_keys);
    assert_eq!(listed(env, &["--instance", "edge"]), strings(&["edge-1"]));
    assert_eq!(
        listed(env, &["--instance", "local", "--service-account", "other"]),
        {
            let mut v = strings(&[&generated_name, "short"]);
            v.sort();
            v
        }
    );
    assert_eq!(listed(env, &["--status", "revoked"]), Vec::<String>::new());
    let table = env.ok(&["apikey", "list", "--service-account", "ingest"]);
    for name in ["ingest-1", "ingest-2", "ingest-3", "ingest-4"] {
        assert!(table.contains(name), "{name} in:\n{table}");
    }
    assert!(!table.contains("edge-1"), "{table}");

    // get by name and by id: the same object, never the key.
    let by_name = env.ok_json(&["apikey", "get", "ingest-2"]);
    let by_id = env.ok_json(&["apikey", "get", &id2]);
    assert_eq!(by_name, by_id);
    assert_fields(&by_name, &APIKEY_FIELDS);
    assert!(by_name.get("key").is_none(), "{by_name}");
    let mut created = k2.clone();
    created.as_object_mut().unwrap().remove("key");
    assert_eq!(by_name, created, "get shows what create recorded");
    let table = env.ok(&["apikey", "get", "ingest-1"]);
    for part in ["ingest-1", &id1, "first key", "active"] {
        assert!(table.contains(part), "{part} in:\n{table}");
    }

    // sa get shows the account's keys (table and JSON).
    let sa = env.ok_json(&["sa", "get", "ingest"]);
    assert_eq!(sa["apikey_count"], 4);
    assert_eq!(names(&sa["apikeys"]), ingest_keys);
    let table = env.ok(&["sa", "get", "ingest"]);
    for name in ["ingest-1", "ingest-2", "ingest-3", "ingest-4"] {
        assert!(table.contains(name), "{name} under the account:\n{table}");
    }
    assert!(!table.contains("edge-1"), "{table}");

    // Inspect while active: from the argument and from stdin.
    for answer in [inspect(env, &key2), inspect_stdin(env, &key2)] {
        assert_eq!(answer["active"], true, "{answer}");
        assert_eq!(answer["token_type"], "apikey", "{answer}");
        assert_eq!(answer["sub"], "ingest@local", "{answer}");
        assert_eq!(answer["aud"], audience, "{answer}");
        assert_eq!(answer["jti"], id2.as_str(), "{answer}");
        assert_eq!(answer["exp"], exp, "{answer}");
        assert_eq!(answer["service_account"], "ingest", "{answer}");
    }
    let out = env.run(&["token", "inspect", &key2]);
    expect_exit(&out, 0);

    // Revoke: confirmation first, nothing changed without it.
    for args in [
        &["apikey", "revoke", "ingest-2", "-o", "json"][..],
        &["apikey", "revoke", "ingest-2", "--no-input", "-o", "json"][..],
    ] {
        expect_unconfirmed(&env.run(args));
    }
    let still = env.ok_json(&["apikey", "get", "ingest-2"]);
    assert_eq!(still["status"], "active");
    assert_eq!(still["revoked_at"], Value::Null);
    assert_eq!(inspect(env, &key2)["active"], true);
    assert_eq!(feed(env, None).0, Vec::<String>::new());

    let out = run_json(env, &["apikey", "revoke", "ingest-2", "--yes"]);
    expect_exit(&out, 0);
    let revoked = json(&out);
    assert_eq!(revoked["status"], "revoked", "{revoked}");
    let revoked_at = unix(&revoked["revoked_at"]);
    assert!((revoked_at - now()).abs() < 60, "{revoked}");
    assert!(revoked.get("key").is_none(), "{revoked}");
    assert_eq!(
        env.ok_json(&["apikey", "get", &id2])["status"],
        "revoked",
        "revoked is kept and listed"
    );

    // Revoking again is not an error, and says so.
    for args in [
        &["apikey", "revoke", "ingest-2", "--yes", "-o", "json"][..],
        &["apikey", "revoke", &id2, "-o", "json"][..],
    ] {
        let out = env.run(args);
        expect_exit(&out, 0);
        assert!(stderr(&out).contains("already"), "{}", stderr(&out));
        assert_eq!(unix(&json(&out)["revoked_at"]), revoked_at, "unchanged");
    }

    // Inspect after revoke: inactive with a reason, exit 0.
    for answer in [inspect(env, &key2), inspect_stdin(env, &key2)] {
        assert_eq!(answer["active"], false, "{answer}");
        let reason = text(&answer, "reason");
        assert!(reason.contains("revoked"), "{reason}");
        assert!(
            answer.get("sub").is_none(),
            "nothing more when inactive: {answer}"
        );
    }
    let out = env.run(&["token", "inspect", &key2]);
    expect_exit(&out, 0);
    assert!(stdout(&out).contains("revoked"), "{}", stdout(&out));
    assert_eq!(
        inspect(env, &key1)["active"],
        true,
        "other keys stay active"
    );

    // Revoke by id.
    let r1 = env.ok_json(&["apikey", "revoke", &id1, "--yes"]);
    assert_eq!(r1["name"], "ingest-1");
    assert_eq!(r1["status"], "revoked");
    assert_eq!(inspect(env, &key1)["active"], false);

    // Status filters, including an expired key.
    let wait = unix(&short["expires_at"]) + 1 - now();
    if wait > 0 {
        std::thread::sleep(std::time::Duration::from_secs(wait as u64));
    }
    assert_eq!(
        listed(env, &["--status", "revoked"]),
        strings(&["ingest-1", "ingest-2"])
    );
    assert_eq!(listed(env, &["--status", "expired"]), strings(&["short"]));
    let mut active = strings(&["edge-1", "ingest-3", "ingest-4", &generated_name]);
    active.sort();
    assert_eq!(listed(env, &["--status", "active"]), active);
    assert_eq!(
        listed(env, &["--status", "revoked", "--service-account", "other"]),
        Vec::<String>::new()
    );
    let short_now = env.ok_json(&["apikey", "get", "short"]);
    assert_eq!(short_now["status"], "expired");
    // (`token inspect` allows 30 s of leeway past `exp`, so it is not asked here.)
    assert_eq!(env.ok_json(&["sa", "get", "ingest"])["apikey_count"], 2);

    // The feed: each revoked jti once, in order; the cursor moves only when something is new.
    let (jtis, cursor) = feed(env, None);
    assert_eq!(jtis, vec![id2.clone(), id1.clone()]);
    let (none, same) = feed(env, Some(&cursor));
    assert!(none.is_empty(), "nothing new: {none:?}");
    assert_eq!(same, cursor);

    // Delete: confirmation first; then gone at once, and into the feed.
    expect_unconfirmed(&run_json(env, &["apikey", "delete", "ingest-3"]));
    assert_eq!(
        env.ok_json(&["apikey", "get", "ingest-3"])["status"],
        "active"
    );
    assert_eq!(feed(env, Some(&cursor)).0, Vec::<String>::new());
    let out = env.run(&["apikey", "delete", "ingest-3", "--yes"]);
    expect_exit(&out, 0);
    for target in ["ingest-3", id3.as_str()] {
        let out = run_json(env, &["apikey", "get", target]);
        expect_hint(&out, 3, "not_found", "tok apikey list");
        expect_error(
            &run_json(env, &["apikey", "delete", target, "--yes"]),
            3,
            "not_found",
        );
        expect_error(
            &run_json(env, &["apikey", "revoke", target, "--yes"]),
            3,
            "not_found",
        );
    }
    assert!(!listed(env, &[]).contains(&"ingest-3".to_string()));
    assert_eq!(inspect(env, text(&k3, "key"))["active"], false);
    // Deleting a revoked key (by id) adds nothing to the feed: it is there already.
    env.ok(&["apikey", "delete", &id2, "--yes", "-q"]);
    expect_error(
        &run_json(env, &["apikey", "get", "ingest-2"]),
        3,
        "not_found",
    );
    let (jtis, cursor2) = feed(env, Some(&cursor));
    assert_eq!(jtis, vec![id3.clone()]);
    assert_ne!(cursor2, cursor);
    let (none, same) = feed(env, Some(&cursor2));
    assert!(none.is_empty(), "nothing new: {none:?}");
    assert_eq!(same, cursor2);

    // Deleting the service account takes its keys (ingest-1 revoked, ingest-4 active).
    let out = run_json(env, &["sa", "delete", "ingest"]);
    let message = expect_error(&out, 2, "confirmation_required");
    assert!(message.contains("2 API key"), "says how many: {message}");
    expect_unconfirmed(&out);
    assert_eq!(
        env.ok_json(&["sa", "get", "ingest"])["apikeys"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(inspect(env, text(&k4, "key"))["active"], true);

    let deleted = env.ok_json(&["service-account", "delete", "ingest", "--yes"]);
    assert_eq!(deleted["name"], "ingest");
    assert_eq!(deleted["apikeys_deleted"], 2);
    expect_hint(
        &run_json(env, &["sa", "get", "ingest"]),
        3,
        "not_found",
        "tok service-account create ingest",
    );
    for target in ["ingest-1", "ingest-4", id4.as_str()] {
        expect_error(&run_json(env, &["apikey", "get", target]), 3, "not_found");
    }
    // Filtering by an account that no longer exists is a mistake, as for tokens of a tenant.
    expect_error(
        &run_json(env, &["apikey", "list", "--service-account", "ingest"]),
        3,
        "not_found",
    );
    assert!(!listed(env, &[]).iter().any(|k| k.starts_with("ingest-")));
    assert_eq!(names(&env.ok_json(&["sa", "list"])), strings(&["other"]));
    assert_eq!(inspect(env, text(&k4, "key"))["active"], false);
    let (jtis, cursor3) = feed(env, Some(&cursor2));
    assert_eq!(jtis, vec![id4.clone()], "only the key not yet revoked");
    assert!(feed(env, Some(&cursor3)).0.is_empty());
    let (all_jtis, _) = feed(env, None);
    assert_eq!(
        all_jtis,
        vec![id2, id1, id3, id4],
        "each jti once, in order"
    );

    // The other account is untouched.
    assert_eq!(listed(env, &["--service-account", "other"]), other_keys);
    assert_eq!(inspect(env, text(&ek, "key"))["active"], true);
}

fn apikey_input_errors(env: &TestEnv) {
    env.ok(&["sa", "create", "ingest", "-q"]);
    env.ok(&[
        "apikey",
        "create",
        "--service-account",
        "ingest",
        "--name",
        "k1",
        "-q",
    ]);

    let out = run_json(env, &["apikey", "create", "--service-account", "nope"]);
    expect_hint(&out, 3, "not_found", "tok service-account create nope");
    let out = run_json(
        env,
        &[
            "apikey",
            "create",
            "--service-account",
            "ingest",
            "--instance",
            "nope",
        ],
    );
    expect_hint(&out, 3, "not_found", "tok instance create nope");
    let out = run_json(
        env,
        &[
            "apikey",
            "create",
            "--service-account",
            "ingest",
            "--name",
            "k1",
        ],
    );
    expect_error(&out, 5, "conflict");
    // Names are unique per org, not per service account.
    env.ok(&["sa", "create", "other", "-q"]);
    let out = run_json(
        env,
        &[
            "apikey",
            "create",
            "--service-account",
            "other",
            "--name",
            "k1",
        ],
    );
    expect_error(&out, 5, "conflict");

    for expires in [
        "2020-01-01T00:00:00Z",
        "5x",
        "soon",
        "0d",
        "-1d",
        "",
        "2026-13-45T00:00:00Z",
    ] {
        let flag = format!("--expires={expires}");
        let out = run_json(
            env,
            &["apikey", "create", "--service-account", "ingest", &flag],
        );
        let message = expect_error(&out, 2, "invalid_input");
        assert!(
            message.contains("never") && message.contains("7d"),
            "{expires:?}: names the accepted forms: {message}"
        );
    }
    for status in ["bogus", "ACTIVE", ""] {
        let flag = format!("--status={status}");
        expect_error(
            &run_json(env, &["apikey", "list", &flag]),
            2,
            "invalid_input",
        );
    }
    for verb in ["get", "revoke", "delete"] {
        let out = run_json(env, &["apikey", verb, "nope", "--yes"]);
        expect_hint(&out, 3, "not_found", "tok apikey list");
    }
    let out = run_json(env, &["token", "revocations", "--since", "garbage"]);
    expect_error(&out, 2, "invalid_input");

    // Nothing above created anything.
    assert_eq!(listed(env, &[]), strings(&["k1"]));
    assert!(feed(env, None).0.is_empty());
}

/// The confirm-by-name prompt of `sa delete` on a terminal: how many keys go, and which
/// were used in the last 7 days.
fn service_account_delete_prompt(env: &TestEnv) {
    env.ok(&["sa", "create", "s2", "-q"]);
    let used = env.ok(&[
        "apikey",
        "create",
        "--service-account",
        "s2",
        "--name",
        "s2a",
    ]);
    env.ok(&[
        "apikey",
        "create",
        "--service-account",
        "s2",
        "--name",
        "s2b",
        "-q",
    ]);
    assert_eq!(inspect(env, &used)["active"], true);
    assert!(
        env.ok_json(&["apikey", "get", "s2a"])["last_used_at"].is_string(),
        "inspecting a key counts as using it"
    );
    let Some(out) = env.pty(&["sa", "delete", "s2"], "wrong\n", &[]) else {
        return;
    };
    expect_exit(&out, 130);
    let screen = stdout(&out);
    assert!(
        screen.contains("Type the service account name 's2'"),
        "{screen}"
    );
    assert!(screen.contains("2 API key"), "{screen}");
    assert!(
        screen.contains("1 used in the last 7 days: s2a"),
        "{screen}"
    );
    assert_eq!(listed(env, &["--service-account", "s2"]).len(), 2, "kept");

    let out = env.pty(&["sa", "delete", "s2"], "s2\n", &[]).unwrap();
    expect_exit(&out, 0);
    expect_error(&run_json(env, &["sa", "get", "s2"]), 3, "not_found");
    assert_eq!(feed(env, None).0.len(), 2);
}

// ---------------------------------------------------------------------------------------
// 2. The key is shown once
// ---------------------------------------------------------------------------------------

fn secrets_only_on_create(env: &TestEnv) {
    env.ok(&["sa", "create", "ingest", "-q"]);
    let table_key = env.ok(&[
        "apikey",
        "create",
        "--service-account",
        "ingest",
        "--name",
        "t",
    ]);
    let created = create_key(env, "ingest", &["--name", "j"]);
    let json_key = text(&created, "key").to_string();
    let id = text(&created, "id").to_string();
    let yaml = env.ok(&[
        "apikey",
        "create",
        "--service-account",
        "ingest",
        "--name",
        "y",
        "-o",
        "yaml",
    ]);
    let keys: Vec<String> = [table_key.clone(), json_key.clone()]
        .into_iter()
        .chain(
            yaml.lines()
                .filter_map(|l| l.strip_prefix("key:"))
                .map(|k| k.trim().trim_matches(['\'', '"']).to_string()),
        )
        .collect();
    assert_eq!(keys.len(), 3, "yaml create shows key: {yaml}");
    // The signature alone must not leak either.
    let secrets: Vec<String> = keys
        .iter()
        .flat_map(|k| [k.clone(), k.rsplit('.').next().unwrap().to_string()])
        .collect();

    let mut reads: Vec<Vec<&str>> = Vec::new();
    for format in ["table", "json", "yaml", "csv"] {
        reads.push(vec!["apikey", "list", "-o", format]);
        reads.push(vec![
            "apikey",
            "list",
            "--service-account",
            "ingest",
            "-o",
            format,
        ]);
        reads.push(vec!["apikey", "list", "--status", "active", "-o", format]);
        reads.push(vec!["apikey", "get", "t", "-o", format]);
        reads.push(vec!["apikey", "get", "j", "-o", format]);
        reads.push(vec!["apikey", "get", &id, "-o", format]);
        reads.push(vec!["sa", "get", "ingest", "-o", format]);
        reads.push(vec!["sa", "list", "-o", format]);
    }
    for args in &reads {
        let out = env.run(args);
        expect_exit(&out, 0);
        for secret in &secrets {
            assert_hidden(&out, secret, &args.join(" "));
        }
    }
    for key in env.ok_json(&["apikey", "list"]).as_array().unwrap() {
        assert!(key.get("key").is_none(), "{key}");
    }
    for key in env.ok_json(&["sa", "get", "ingest"])["apikeys"]
        .as_array()
        .unwrap()
    {
        assert!(key.get("key").is_none(), "{key}");
    }

    // Revoke, inspect and delete answers do not repeat it either.
    let changes: [&[&str]; 5] = [
        &["apikey", "revoke", "t", "--yes", "-o", "json"],
        &["apikey", "revoke", "t", "--yes"],
        &["apikey", "delete", "j", "--yes", "-o", "json"],
        &["token", "revocations", "-o", "json"],
        &["sa", "delete", "ingest", "--yes", "-o", "json"],
    ];
    let out = env.run(&["token", "inspect", &json_key, "-o", "json"]);
    expect_exit(&out, 0);
    assert_hidden(&out, &json_key, "token inspect");
    for args in changes {
        let out = env.run(args);
        expect_exit(&out, 0);
        for secret in &secrets {
            assert_hidden(&out, secret, &args.join(" "));
        }
    }
}

both_backends!(
    service_accounts,
    apikey_lifecycle,
    apikey_input_errors,
    service_account_delete_prompt,
    secrets_only_on_create,
);

// ---------------------------------------------------------------------------------------
// 3. A key is a bearer credential for its service account (server only)
// ---------------------------------------------------------------------------------------

/// `tok ARGS -o json` with `TOK_TOKEN=key`.
fn as_key(env: &TestEnv, key: &str, args: &[&str]) -> Output {
    let mut args = args.to_vec();
    args.extend(["-o", "json"]);
    env.run_env(&args, &[("TOK_TOKEN", key)])
}

#[test]
fn an_api_key_acts_as_its_service_account_until_revoked() {
    let env = TestEnv::with_backend(Backend::Server);
    env.ok(&["tenant", "create", "acme", "-q"]);
    env.ok(&["sa", "create", "ro", "--role", READ_ONLY, "-q"]);
    let key = env.ok(&[
        "apikey",
        "create",
        "--service-account",
        "ro",
        "--name",
        "ro-1",
    ]);
    let spare = env.ok(&[
        "apikey",
        "create",
        "--service-account",
        "ro",
        "--name",
        "ro-2",
    ]);

    let out = as_key(&env, &key, &["tenant", "list"]);
    expect_exit(&out, 0);
    assert_eq!(names(&json(&out)), strings(&["acme"]));
    let who = json(&as_key(&env, &key, &["whoami"]));
    assert!(
        text(&who, "principal").starts_with("ro"),
        "acts as the service account: {who}"
    );
    assert_eq!(who["roles"], serde_json::json!([READ_ONLY]));

    let out = as_key(&env, &key, &["tenant", "create", "x"]);
    let message = expect_error(&out, 4, "forbidden");
    assert!(message.contains("tenant-write"), "{message}");
    let out = as_key(&env, &key, &["apikey", "create", "--service-account", "ro"]);
    expect_exit(&out, 4);
    assert_eq!(
        names(&env.ok_json(&["tenant", "list"])),
        strings(&["acme"]),
        "nothing created"
    );
    assert!(
        env.ok_json(&["apikey", "get", "ro-1"])["last_used_at"].is_string(),
        "use is recorded"
    );

    // The admin revokes it: the next request is refused.
    env.ok(&["apikey", "revoke", "ro-1", "--yes", "-q"]);
    let out = as_key(&env, &key, &["tenant", "list"]);
    expect_exit(&out, 4);
    assert!(stderr(&out).contains("revoked"), "{}", stderr(&out));
    assert_hidden(&out, &key, "the refusal");
    let out = as_key(&env, &spare, &["tenant", "list"]);
    expect_exit(&out, 0);

    // Every key of a deleted service account is refused, even once the name is reused
    // (with more roles) by a new account.
    env.ok(&["sa", "delete", "ro", "--yes", "-q"]);
    let out = as_key(&env, &spare, &["tenant", "list"]);
    expect_exit(&out, 4);
    env.ok(&[
        "sa",
        "create",
        "ro",
        "--role",
        "Organization Administrator",
        "-q",
    ]);
    for old in [&key, &spare] {
        let out = as_key(&env, old, &["tenant", "list"]);
        expect_exit(&out, 4);
    }
}
