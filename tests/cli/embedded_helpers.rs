//! Helpers shared by the embedded control-plane tests (`embedded_*`): a data dir with a
//! tenant in it, tokens created and decoded, the database file itself, broker.conf lines,
//! and PyJWT as the third party that checks what a broker would accept.

use std::collections::BTreeMap;
use std::process::Output;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

use crate::common::{TestEnv, expect_error, stderr};
use crate::tokens::b64url_decode;

/// Every field DESIGN.md lists for a token, (`create` adds `token`).
pub const TOKEN_FIELDS: [&str; 14] = [
    "id",
    "name",
    "type",
    "tenant",
    "instance",
    "subject",
    "permissions",
    "roles",
    "client_id",
    "description",
    "created_at",
    "expires_at",
    "last_used_at",
    "revoked_at",
];

/// The hint every unconfirmed delete must give.
pub const PASS_YES: &str = "pass --yes to confirm";

/// A fresh environment with tenant `acme` on the embedded instance `local`.
pub fn acme() -> TestEnv {
    let env = TestEnv::new();
    with_acme(&env);
    env
}

/// Creates tenant `acme` on instance `local` of `env`'s control plane (either backend).
pub fn with_acme(env: &TestEnv) {
    env.ok(&["tenant", "create", "acme", "-q"]);
}

/// `tok token create ARGS -o json`: the created token object (with `token`).
pub fn new_token(env: &TestEnv, args: &[&str]) -> Value {
    let mut all = vec!["token", "create"];
    all.extend_from_slice(args);
    env.ok_json(&all)
}

/// The header and claims of a compact JWT, decoded without verifying it.
pub fn jwt_parts(token: &str) -> (Value, Value) {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "a compact JWT: {token}");
    let decode = |part: &str| -> Value {
        serde_json::from_slice(&b64url_decode(part)).expect("a JSON segment")
    };
    (decode(parts[0]), decode(parts[1]))
}

/// The sorted names `tok token list ARGS -o json` shows.
pub fn token_names(env: &TestEnv, args: &[&str]) -> Vec<String> {
    let mut all = vec!["token", "list"];
    all.extend_from_slice(args);
    let mut names: Vec<String> = env
        .ok_json(&all)
        .as_array()
        .expect("a JSON array")
        .iter()
        .map(|t| t["name"].as_str().expect("name").to_string())
        .collect();
    names.sort();
    names
}

/// The sorted names `tok tenant list -o json` shows.
pub fn tenant_names(env: &TestEnv) -> Vec<String> {
    let list = env.ok_json(&["tenant", "list"]);
    let mut names: Vec<String> = list
        .as_array()
        .expect("a JSON array")
        .iter()
        .map(|t| t["name"].as_str().expect("name").to_string())
        .collect();
    names.sort();
    names
}

/// The `action target` pairs of `tok audit list -o json`, oldest first.
pub fn audit_actions(env: &TestEnv) -> Vec<String> {
    env.ok_json(&["audit", "list"])
        .as_array()
        .expect("a JSON array")
        .iter()
        .map(|r| {
            format!(
                "{} {}",
                r["action"].as_str().unwrap(),
                r["target"].as_str().unwrap()
            )
        })
        .collect()
}

/// The path of the embedded database.
pub fn db_path(env: &TestEnv) -> std::path::PathBuf {
    env.data_dir().join("tok.db")
}

/// Every byte of the database and its WAL/shared-memory companions, as they are on disk:
/// the embedded one, or the server's for a [`crate::common::Backend::Server`] env.
pub fn database_bytes(env: &TestEnv) -> Vec<u8> {
    let dir = match env.server() {
        Some(server) => server.database.parent().expect("server dir").to_path_buf(),
        None => env.data_dir(),
    };
    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(dir).expect("data dir") {
        let path = entry.expect("dir entry").path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if name.starts_with("tok.db") {
            bytes.extend(std::fs::read(&path).expect("read database file"));
        }
    }
    assert!(!bytes.is_empty(), "the database exists");
    bytes
}

/// Whether `needle` occurs anywhere in `haystack`.
pub fn contains_bytes(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Runs one SQL statement on tok.db directly, for states the CLI cannot produce without
/// waiting (a token that has expired, an audit record from last week).
pub fn sql(env: &TestEnv, statement: &str) -> usize {
    let conn = rusqlite::Connection::open(db_path(env)).expect("open tok.db");
    conn.execute(statement, []).expect("SQL runs")
}

/// `tok instance broker-config NAME` (table mode, the lines to paste) as key → value.
pub fn broker_conf(env: &TestEnv, instance: &str) -> BTreeMap<String, String> {
    let text = env.ok(&["instance", "broker-config", instance]);
    text.lines()
        .map(|l| {
            let (k, v) = l
                .split_once('=')
                .unwrap_or_else(|| panic!("key=value: {l}"));
            (k.to_string(), v.to_string())
        })
        .collect()
}

/// The bytes behind a broker.conf `data:;base64,…` value, decoded as the broker does.
pub fn data_url_bytes(value: &str) -> Vec<u8> {
    let b64 = value
        .strip_prefix("data:;base64,")
        .unwrap_or_else(|| panic!("a data URL: {value}"));
    STANDARD.decode(b64).expect("standard base64")
}

/// Asserts an error's exit code, JSON code and that its hint mentions `hint`.
#[track_caller]
pub fn expect_hint(out: &Output, exit: i32, code: &str, hint: &str) {
    expect_error(out, exit, code);
    let err = stderr(out);
    let body: Value = serde_json::from_str(err.lines().last().unwrap()).unwrap();
    let given = body["error"]["hint"].as_str().unwrap_or_default();
    assert!(given.contains(hint), "hint {given:?} lacks {hint:?}\n{err}");
}

/// An unconfirmed delete: exit 2, `confirmation_required`, the `--yes` hint.
#[track_caller]
pub fn expect_unconfirmed(out: &Output) {
    expect_hint(out, 2, "confirmation_required", PASS_YES);
}

/// Folds the WAL into tok.db and removes it, as any SQLite client's clean close does, so
/// that tok.db alone is the whole database.
pub fn checkpoint(env: &TestEnv) {
    let conn = rusqlite::Connection::open(db_path(env)).expect("open tok.db");
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .expect("checkpoint");
    drop(conn);
    assert!(
        !env.data_dir().join("tok.db-wal").exists(),
        "the WAL is gone"
    );
}

/// Asserts that a JSON object has every field in `fields` (more are allowed: DESIGN.md
/// lets fields be added, never renamed or dropped).
#[track_caller]
pub fn assert_fields(doc: &Value, fields: &[&str]) {
    let object = doc
        .as_object()
        .unwrap_or_else(|| panic!("an object: {doc}"));
    for field in fields {
        assert!(object.contains_key(*field), "no `{field}` in {doc}");
    }
}
