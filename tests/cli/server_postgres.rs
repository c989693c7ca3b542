//! `tok server init` and `tok server start` on PostgreSQL (issue 8): a whole scenario —
//! init, start (the URL from TOK_DATABASE_URL), login, a tenant and a token created,
//! listed, introspected, revoked and introspected again — with the data checked in the
//! database itself, and the password of the URL in no output and no log line.
//!
//! The database comes from `TOK_TEST_DATABASE_URL` (`eval "$(scripts/pg-cluster start)"`);
//! each test works in a schema of its own, dropped at the end. Without it the tests say
//! SKIPPED on stderr, and fail under CI (`CI` set).

use std::io::BufRead;
use std::path::PathBuf;
use std::process::Stdio;

use serde_json::{Value, json};

use crate::common::{
    ADMIN, ADMIN_PASSWORD, ServerProcess, TOK, TestEnv, expect_exit, path_str, stderr, stdout,
};
use crate::server_api::Api;

/// The password put in every URL the tests hand to tok; a trust-authenticated test cluster
/// ignores it. It must never show: tok prints such URLs as `tok:***@`.
const PASSWORD: &str = "secret";

/// `TOK_TEST_DATABASE_URL`, or `None` (after saying SKIPPED) when it is not set; under CI
/// a missing database fails the test instead (as the library's PostgreSQL tests do).
pub(crate) fn test_database_url() -> Option<String> {
    match std::env::var("TOK_TEST_DATABASE_URL") {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var_os("CI").is_none(),
                "TOK_TEST_DATABASE_URL is not set, and CI must run the PostgreSQL tests"
            );
            eprintln!("SKIPPED: TOK_TEST_DATABASE_URL is not set");
            None
        }
    }
}

/// A schema of its own (`tok_cli_<random>`), dropped with everything in it on drop.
pub(crate) struct Schema {
    pub(crate) client: postgres::Client,
    name: String,
    /// The test database's URL with `search_path` set to the schema.
    pub(crate) url: String,
}

impl Schema {
    /// A fresh schema named `<prefix>_<pid>_<time>`.
    pub(crate) fn create(base: &str, prefix: &str) -> Schema {
        let mut client = postgres::Client::connect(base, postgres::NoTls)
            .unwrap_or_else(|e| panic!("connecting to TOK_TEST_DATABASE_URL: {e:?}"));
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let name = format!("{prefix}_{}_{nanos:x}", std::process::id());
        client
            .batch_execute(&format!(
                "CREATE SCHEMA \"{name}\"; SET search_path TO \"{name}\""
            ))
            .unwrap_or_else(|e| panic!("creating the schema {name}: {e}"));
        let url = with_search_path(base, &name);
        Schema { client, name, url }
    }

    /// One number from `sql`, run in the schema.
    pub(crate) fn count(&mut self, sql: &str) -> i64 {
        self.client
            .query_one(sql, &[])
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
            .get(0)
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        let sql = format!("DROP SCHEMA IF EXISTS \"{}\" CASCADE", self.name);
        if let Err(e) = self.client.batch_execute(&sql) {
            eprintln!("could not drop the test schema {}: {e}", self.name);
        }
    }
}

/// `url` with `?options=-c search_path=<schema>` (or `&…` after an existing query).
fn with_search_path(url: &str, schema: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}options=-c%20search_path%3D{schema}")
}

/// `postgres://user@host…` as `postgres://user:password@host…` (any password replaced).
fn with_password(url: &str, password: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("a postgres:// URL");
    let (creds, host) = rest
        .split_once('@')
        .expect("TOK_TEST_DATABASE_URL names its user (user@host)");
    let user = creds.split_once(':').map_or(creds, |(u, _)| u);
    format!("{scheme}://{user}:{password}@{host}")
}

/// Asserts that `text` (what `what` printed) does not hold the password.
#[track_caller]
fn assert_no_password(what: &str, text: &str) {
    assert!(
        !text.contains(&format!(":{PASSWORD}@")) && !text.contains(&format!(":{PASSWORD}")),
        "{what} shows the database password:\n{text}"
    );
}

/// `tok server start --listen 127.0.0.1:0` with the database from `TOK_DATABASE_URL`;
/// waits for the URL it prints.
fn start_server(env: &TestEnv, database: &str, key: &str) -> ServerProcess {
    start_logged(env, "server", key, |cmd| {
        cmd.env("TOK_DATABASE_URL", database);
    })
}

/// `tok server start --listen 127.0.0.1:0 --master-key-file KEY`, with what `configure`
/// adds (the database), logging to `NAME.log`; waits for the URL it prints.
pub(crate) fn start_logged(
    env: &TestEnv,
    name: &str,
    key: &str,
    configure: impl FnOnce(&mut std::process::Command),
) -> ServerProcess {
    let log = env.path().join(format!("{name}.log"));
    let mut cmd = env.command(TOK);
    cmd.args(["server", "start", "--listen", "127.0.0.1:0"])
        .args(["--master-key-file", key])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).expect("server log"));
    configure(&mut cmd);
    let mut child = cmd.spawn().expect("tok server starts");
    let stdout = child.stdout.take().expect("server stdout");
    let mut line = String::new();
    std::io::BufReader::new(stdout)
        .read_line(&mut line)
        .expect("server prints its URL");
    let server = ServerProcess {
        child,
        url: line.trim().to_string(),
        database: PathBuf::new(),
        master_key_file: PathBuf::from(key),
        log,
    };
    assert!(
        server.url.starts_with("http://127.0.0.1:"),
        "{name} did not print its URL; log:\n{}",
        std::fs::read_to_string(&server.log).unwrap_or_default()
    );
    server
}

/// `POST /v1/introspect` for `token`; insists on 200.
#[track_caller]
pub(crate) fn introspect(api: &Api, token: &str) -> Value {
    let reply = api.post("/v1/introspect", &json!({"token": token}));
    reply.expect(200);
    reply.json()
}

#[test]
fn init_and_start_on_postgres_serve_tokens_and_never_show_the_password() {
    let Some(base) = test_database_url() else {
        return;
    };
    let mut schema = Schema::create(&base, "tok_cli");
    schema.url = with_password(&schema.url, PASSWORD);
    let env = TestEnv::new();
    let key = path_str(&env.path().join("master.key"));
    let url = schema.url.clone();
    let init = |org: &str, admin: &str| {
        env.run_stdin(
            &[
                "server",
                "init",
                "--database",
                &url,
                "--master-key-file",
                &key,
                "--org",
                org,
                "--instance",
                "local",
                "--admin",
                admin,
                "--password-stdin",
                "-o",
                "json",
            ],
            ADMIN_PASSWORD,
        )
    };

    // init creates the schema's tables, the org, its instance and its administrator.
    let out = init("local", ADMIN);
    expect_exit(&out, 0);
    assert_no_password("init's stdout", &stdout(&out));
    assert_no_password("init's stderr", &stderr(&out));
    let view: Value = serde_json::from_slice(&out.stdout).expect("init prints JSON");
    assert_eq!(view["org"], "local");
    assert_eq!(view["admin"], ADMIN);
    let shown = view["database"].as_str().expect("database");
    assert!(shown.starts_with("postgres://tok:***@"), "{view}");
    assert!(
        stderr(&out).contains("postgres://"),
        "init says where: {}",
        stderr(&out)
    );
    assert_eq!(schema.count("SELECT count(*) FROM orgs"), 1);
    assert_eq!(schema.count("SELECT count(*) FROM users"), 1);

    // A second init of the same org is refused, naming the database without its password.
    let out = init("local", "someone");
    expect_exit(&out, 5);
    assert!(stderr(&out).contains("already exists"), "{}", stderr(&out));
    assert_no_password("a refused init", &stderr(&out));

    // start, with the URL from TOK_DATABASE_URL.
    let mut server = start_server(&env, &url, &key);
    env.login(&server.url);
    assert_eq!(env.ok_json(&["whoami"])["principal"], ADMIN);

    assert_eq!(env.ok_json(&["tenant", "create", "acme"])["name"], "acme");
    let token = env.ok_json(&["token", "create", "--tenant", "acme", "--name", "ci"]);
    assert_eq!(token["name"], "ci", "{token}");
    let jwt = token["token"].as_str().expect("the token").to_string();
    assert_eq!(schema.count("SELECT count(*) FROM tenants"), 1);
    assert_eq!(schema.count("SELECT count(*) FROM tokens"), 1);

    let listed = env.ok_json(&["token", "list", "--tenant", "acme"]);
    let names: Vec<&str> = listed
        .as_array()
        .expect("a list")
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["ci"], "{listed}");
    let tenants = env.ok_json(&["tenant", "list"]);
    assert_eq!(tenants.as_array().map(Vec::len), Some(1), "{tenants}");

    let api = Api::admin(&server);
    let answer = introspect(&api, &jwt);
    assert_eq!(answer["active"], true, "{answer}");
    assert_eq!(answer["tenant"], "acme", "{answer}");
    assert_eq!(answer["jti"], token["id"], "{answer}");

    env.ok(&["token", "revoke", "ci", "--tenant", "acme", "--yes", "-q"]);
    let answer = introspect(&api, &jwt);
    assert_eq!(answer["active"], false, "{answer}");
    assert_eq!(
        schema.count("SELECT count(*) FROM tokens WHERE revoked_at IS NOT NULL"),
        1
    );
    let all = env.ok_json(&["token", "list", "--all"]);
    assert!(all[0]["revoked_at"].is_string(), "{all}");
    assert!(
        env.ok_json(&["token", "list", "--tenant", "acme"])
            .as_array()
            .is_some_and(Vec::is_empty),
        "a revoked token is not listed by default"
    );

    server.terminate().expect("the server stops");
    let log = std::fs::read_to_string(&server.log).expect("server log");
    assert_no_password("the server's log", &log);
    assert!(
        log.contains("postgres://tok:***@"),
        "the startup line names the database without its password:\n{log}"
    );
    assert!(log.contains("request_id"), "log:\n{log}");
    drop(server);
    drop(schema);
}

#[test]
fn a_database_that_cannot_be_reached_is_reported_without_the_password() {
    let Some(base) = test_database_url() else {
        return;
    };
    let env = TestEnv::new();
    let key = path_str(&env.path().join("master.key"));
    // A port nothing listens on (the cluster's own port, plus one, is not it for sure; port
    // 1 is privileged and closed).
    let (_, rest) = base.split_once('@').expect("user@host");
    let db = rest.split_once('/').map_or("postgres", |(_, d)| d);
    let unreachable = format!("postgres://tok:{PASSWORD}@127.0.0.1:1/{db}");
    for command in ["init", "start"] {
        let mut args = vec![
            "server",
            command,
            "--database",
            &unreachable,
            "--master-key-file",
            &key,
        ];
        if command == "init" {
            args.extend(["--org", "x", "--admin", "root", "--password-stdin"]);
        } else {
            args.extend(["--listen", "127.0.0.1:0"]);
        }
        let out = env.run_stdin(&args, ADMIN_PASSWORD);
        assert_ne!(out.status.code(), Some(0), "{command} succeeded");
        assert!(out.stdout.is_empty(), "{command}: {}", stdout(&out));
        let err = stderr(&out);
        assert!(err.contains("127.0.0.1:1"), "{command}: {err}");
        assert_no_password(command, &err);
    }
    // An unknown scheme is refused as a usage error, its password hidden too.
    let out = env.run(&[
        "server",
        "start",
        "--database",
        &format!("mysql://root:{PASSWORD}@127.0.0.1/x"),
        "--master-key-file",
        &key,
    ]);
    expect_exit(&out, 2);
    assert!(stderr(&out).contains("mysql"), "{}", stderr(&out));
    assert_no_password("an unknown scheme", &stderr(&out));
}

#[test]
fn migrate_data_copies_the_embedded_database_verifies_it_and_refuses_a_second_copy() {
    let Some(base) = test_database_url() else {
        return;
    };
    let mut schema = Schema::create(&base, "tok_cli");
    schema.url = with_password(&schema.url, PASSWORD);
    let env = TestEnv::new();
    // Something in the embedded database: a tenant, a token, their audit.
    env.ok(&["tenant", "create", "acme"]);
    env.ok(&[
        "token",
        "create",
        "--tenant",
        "acme",
        "--name",
        "t1",
        "--expires",
        "1d",
    ]);
    let from = format!("sqlite://{}", path_str(&env.data_dir().join("tok.db")));
    let url = schema.url.clone();
    let migrate = |extra: &[&str]| {
        let mut args = vec![
            "server",
            "migrate-data",
            "--from",
            &from,
            "--to",
            &url,
            "-o",
            "json",
        ];
        args.extend_from_slice(extra);
        env.run(&args)
    };

    let out = migrate(&[]);
    expect_exit(&out, 0);
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_no_password("migrate-data", &all);
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["verified_only"], false);
    let rows = |table: &str| {
        doc["tables"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["table"] == table)
            .unwrap_or_else(|| panic!("no {table} in {doc}"))["rows"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(rows("tenants"), 1);
    assert_eq!(rows("tokens"), 1);
    assert_eq!(schema.count("SELECT COUNT(*) FROM tokens"), 1);
    assert_eq!(
        schema.count("SELECT COUNT(*) FROM audit") as u64,
        rows("audit"),
        "{doc}"
    );

    // The two agree; a second copy into the same database is refused and changes nothing.
    let out = migrate(&["--verify-only"]);
    expect_exit(&out, 0);
    let verified: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(verified["tables"], doc["tables"]);
    let out = migrate(&[]);
    expect_exit(&out, 5);
    assert_no_password(
        "a refused migrate-data",
        &String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(schema.count("SELECT COUNT(*) FROM tokens"), 1);

    // Sources and targets of the wrong kind are usage errors.
    let out = env.run(&["server", "migrate-data", "--from", &url, "--to", &url]);
    expect_exit(&out, 2);
    assert_no_password(
        "migrate-data --from postgres",
        &String::from_utf8_lossy(&out.stderr),
    );
    let out = env.run(&["server", "migrate-data", "--from", &from, "--to", &from]);
    expect_exit(&out, 2);
}
