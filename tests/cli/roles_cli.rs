//! Roles as an operator meets them: `tok role` on both backends (built-in roles refused for
//! edits, every action and resource checked, held roles kept unless forced), users holding
//! roles on a server (grant, revoke, disable, enable; the org keeps an enabled
//! administrator), application tokens (secrets shown once, bearer use, client-credential
//! sessions, revocation), streaming tokens recording roles, and no escalation: nobody
//! grants more than it holds. The first test is the scenario of the issue.

use std::process::Output;

use serde_json::{Value, json};

use crate::both_backends;
use crate::common::{
    ADMIN, Backend, TestEnv, expect_error, expect_exit, json, json_error, stderr, stdout,
};
use crate::embedded_helpers::{TOKEN_FIELDS, assert_fields, expect_unconfirmed};
use crate::server_api::Api;

/// The org of both backends' test environments.
const ORG: &str = "local";
const ACME: &str = "drn:tok:local:tenant:acme";
const ORG_ADMIN: &str = "Organization Administrator";
const BUILTINS: [&str; 8] = [
    "Organization Administrator",
    "Read Only User",
    "API Read Only User",
    "API Read/Write User",
    "Database Administrator",
    "Tenant Administrator",
    "Billing Administrator",
    "Token Manager",
];

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

fn server_env() -> TestEnv {
    TestEnv::with_backend(Backend::Server)
}

fn server_url(env: &TestEnv) -> String {
    env.server().expect("a server env").url.clone()
}

/// `tok role create topic-reader`: consume, tenant-read and token-read on tenant acme.
fn create_topic_reader(env: &TestEnv) -> Value {
    env.ok_json(&[
        "role",
        "create",
        "topic-reader",
        "--action",
        "consume",
        "--action",
        "tenant-read",
        "--action",
        "token-read",
        "--resource",
        ACME,
        "--description",
        "reads acme",
    ])
}

/// The password a test gives user `name`.
fn password(name: &str) -> String {
    format!("{name}'s long password")
}

/// `tok user create NAME --role R… --password-stdin -o json` as the env's principal.
fn create_user(env: &TestEnv, name: &str, roles: &[&str]) -> Output {
    let mut args = vec!["user", "create", name, "--password-stdin", "-o", "json"];
    for role in roles {
        args.extend(["--role", *role]);
    }
    env.run_stdin(&args, &password(name))
}

/// A user created by the env's administrator, then logged in from its own fresh env.
fn user_session(env: &TestEnv, name: &str, roles: &[&str]) -> TestEnv {
    expect_exit(&create_user(env, name, roles), 0);
    let user = TestEnv::new();
    expect_exit(&login(&user, &server_url(env), name), 0);
    user
}

/// `tok login --server URL --username NAME --password-stdin -o json` with its password.
fn login(env: &TestEnv, url: &str, name: &str) -> Output {
    env.run_stdin(
        &[
            "login",
            "--server",
            url,
            "--username",
            name,
            "--password-stdin",
            "-o",
            "json",
        ],
        &password(name),
    )
}

/// `tok ARGS -o json` with `TOK_TOKEN=token` (the env's server profile supplies the URL).
fn as_token(env: &TestEnv, token: &str, args: &[&str]) -> Output {
    let mut args = args.to_vec();
    args.extend(["-o", "json"]);
    env.run_env(&args, &[("TOK_TOKEN", token)])
}

/// [`as_token`], insisting on success; the JSON document it printed.
#[track_caller]
fn ok_as(env: &TestEnv, token: &str, args: &[&str]) -> Value {
    let out = as_token(env, token, args);
    expect_exit(&out, 0);
    json(&out)
}

/// `tok ARGS -o json` (no extra input).
fn run_json(env: &TestEnv, args: &[&str]) -> Output {
    let mut args = args.to_vec();
    args.extend(["-o", "json"]);
    env.run(&args)
}

/// A 403: exit 4, code `forbidden`, and a message naming each of `names`.
#[track_caller]
fn expect_denied(out: &Output, names: &[&str]) -> String {
    let message = expect_error(out, 4, "forbidden");
    for name in names {
        assert!(message.contains(name), "{message:?} names {name:?}");
    }
    message
}

/// An invalid input: exit 2, code `invalid_input`, and a message naming each of `names`.
#[track_caller]
fn expect_invalid(out: &Output, names: &[&str]) -> String {
    let message = expect_error(out, 2, "invalid_input");
    for name in names {
        assert!(message.contains(name), "{message:?} names {name:?}");
    }
    message
}

/// The names of `tok role list -o json`, in order.
fn role_names(env: &TestEnv) -> Vec<String> {
    names(&env.ok_json(&["role", "list"]), "name")
}

/// The `field` of each object of a JSON array.
fn names(list: &Value, field: &str) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("an array: {list}"))
        .iter()
        .map(|item| item[field].as_str().expect("a string field").to_string())
        .collect()
}

/// The actions of a role's policy, sorted.
fn actions(role: &Value) -> Vec<String> {
    let mut actions = names_of(&role["policy"]["actions"]);
    actions.sort();
    actions
}

/// A JSON array of strings as a vector.
fn names_of(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("an array: {list}"))
        .iter()
        .map(|s| s.as_str().expect("a string").to_string())
        .collect()
}

/// The line of `table` whose first cell is `first`.
#[track_caller]
fn row<'a>(table: &'a str, first: &str) -> &'a str {
    table
        .lines()
        .find(|line| {
            line.strip_prefix(first)
                .is_some_and(|rest| rest.starts_with("  "))
        })
        .unwrap_or_else(|| panic!("no row {first:?} in:\n{table}"))
}

/// `secret` with its last character changed: the checksum no longer matches.
fn mistyped(secret: &str) -> String {
    let mut s = secret.to_string();
    let last = s.pop().expect("non-empty");
    s.push(if last == 'A' { 'B' } else { 'A' });
    s
}

/// Asserts that no created secret (`token`, `client_secret`) appears in `text`.
#[track_caller]
fn assert_no_secret(text: &str, created: &Value) {
    for field in ["token", "client_secret"] {
        let secret = created[field].as_str().expect("a created secret");
        assert!(!text.contains(secret), "{field} leaked:\n{text}");
    }
}

// ---------------------------------------------------------------------------------------
// The scenario
// ---------------------------------------------------------------------------------------

#[test]
fn a_topic_reader_application_token_reads_acme_and_nothing_else() {
    let env = server_env();
    create_topic_reader(&env);
    env.ok(&["tenant", "create", "acme"]);
    env.ok(&["tenant", "create", "other"]);
    env.ok_json(&["token", "create", "--tenant", "acme", "--name", "producer"]);
    env.ok_json(&[
        "token",
        "create",
        "--tenant",
        "other",
        "--name",
        "elsewhere",
    ]);
    let app = env.ok_json(&[
        "token",
        "create",
        "--role",
        "topic-reader",
        "--name",
        "reader-app",
    ]);
    let token = app["token"].as_str().expect("the application token");
    assert!(token.starts_with("toka_"), "{app}");

    // What topic-reader grants.
    let acme = ok_as(&env, token, &["tenant", "get", "acme"]);
    assert_eq!(acme["name"], "acme");
    assert_eq!(
        names(&ok_as(&env, token, &["tenant", "list"]), "name"),
        ["acme"]
    );
    let tokens = ok_as(&env, token, &["token", "list", "--tenant", "acme"]);
    assert_eq!(names(&tokens, "name"), ["producer"]);
    // Without --tenant the list holds only what it may read.
    let tokens = ok_as(&env, token, &["token", "list"]);
    assert_eq!(names(&tokens, "name"), ["producer"], "{tokens}");

    // Everything else is refused, naming the action that was missing.
    let denied: [(&[&str], &str); 8] = [
        (&["tenant", "create", "x"], "tenant-write"),
        (&["token", "create", "--tenant", "acme"], "token-write"),
        (&["user", "list"], "user-read"),
        (
            &[
                "role",
                "create",
                "r2",
                "--action",
                "consume",
                "--resource",
                ACME,
            ],
            "role-write",
        ),
        (&["role", "list"], "role-read"),
        (&["instance", "list"], "instance-read"),
        (&["audit", "list"], "audit-read"),
        (&["token", "create", "--role", ORG_ADMIN], "token-write"),
    ];
    for (args, action) in denied {
        let out = as_token(&env, token, args);
        let message = expect_denied(&out, &[action, "reader-app"]);
        assert!(!message.contains(token), "{message}");
    }

    // Another tenant is not found, exactly as a tenant that does not exist: no leak.
    let other = expect_error(
        &as_token(&env, token, &["tenant", "get", "other"]),
        3,
        "not_found",
    );
    let nope = expect_error(
        &as_token(&env, token, &["tenant", "get", "nope"]),
        3,
        "not_found",
    );
    assert_eq!(other.replace("other", "nope"), nope);
    expect_error(
        &as_token(&env, token, &["token", "list", "--tenant", "other"]),
        3,
        "not_found",
    );
    expect_error(
        &as_token(
            &env,
            token,
            &["token", "get", "elsewhere", "--tenant", "other"],
        ),
        3,
        "not_found",
    );

    // Nothing was created by the refused commands.
    assert_eq!(
        names(&env.ok_json(&["tenant", "list"]), "name"),
        ["acme", "other"]
    );
    assert_eq!(
        names(&env.ok_json(&["token", "list", "--tenant", "acme"]), "name"),
        ["producer"]
    );
    assert_eq!(
        names(
            &env.ok_json(&["token", "list", "--type", "application"]),
            "name"
        ),
        ["reader-app"]
    );
    assert!(!role_names(&env).contains(&"r2".to_string()));
}

// ---------------------------------------------------------------------------------------
// tok role, on both backends
// ---------------------------------------------------------------------------------------

fn role_lifecycle(env: &TestEnv) {
    let created = create_topic_reader(env);
    assert_fields(
        &created,
        &[
            "id",
            "name",
            "description",
            "builtin",
            "policy",
            "created_at",
            "updated_at",
        ],
    );
    assert!(
        created["id"].as_str().unwrap().starts_with("rol_"),
        "{created}"
    );
    assert_eq!(created["name"], "topic-reader");
    assert_eq!(created["description"], "reads acme");
    assert_eq!(created["builtin"], false);
    assert_eq!(
        created["policy"],
        json!({"effect": "allow", "actions": ["consume", "tenant-read", "token-read"],
               "resources": [ACME]})
    );
    assert!(created["created_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(created["updated_at"], created["created_at"]);

    // The list: the built-ins, in order, then the custom role.
    let list = env.ok_json(&["role", "list"]);
    let mut expected: Vec<String> = BUILTINS.iter().map(|s| s.to_string()).collect();
    expected.push("topic-reader".into());
    assert_eq!(names(&list, "name"), expected);
    for role in list.as_array().unwrap().iter().take(BUILTINS.len()) {
        assert_eq!(role["builtin"], true, "{role}");
        assert!(
            role["id"].as_str().unwrap().starts_with("builtin:"),
            "{role}"
        );
        assert!(role["created_at"].is_null() && role["updated_at"].is_null());
        assert_eq!(
            role["policy"]["resources"],
            json!([format!("drn:tok:{ORG}")])
        );
        assert_eq!(role["policy"]["effect"], "allow");
    }
    assert_eq!(list[BUILTINS.len()], created);

    // get by name and by id; built-ins by name in any case or by id.
    assert_eq!(env.ok_json(&["role", "get", "topic-reader"]), created);
    let id = created["id"].as_str().unwrap();
    assert_eq!(env.ok_json(&["role", "get", id]), created);
    let tm = env.ok_json(&["role", "get", "token manager"]);
    assert_eq!(tm["name"], "Token Manager");
    assert_eq!(env.ok_json(&["role", "get", "builtin:token-manager"]), tm);
    expect_error(&run_json(env, &["role", "get", "nosuch"]), 3, "not_found");

    // Tables show the policy readably.
    let table = env.ok(&["role", "list"]);
    let custom = row(&table, "topic-reader");
    for cell in [
        "custom",
        "consume, tenant-read, token-read",
        ACME,
        "reads acme",
    ] {
        assert!(custom.contains(cell), "{cell:?} in {custom:?}");
    }
    assert!(row(&table, ORG_ADMIN).contains("built-in"), "{table}");
    assert!(
        row(&table, "Token Manager").contains("token-write"),
        "{table}"
    );
    let shown = env.ok(&["role", "get", "topic-reader"]);
    assert!(
        shown.contains("consume, tenant-read, token-read"),
        "{shown}"
    );
    assert!(shown.contains(&format!("on {ACME}")), "{shown}");
    assert!(shown.contains("custom"), "{shown}");

    // A second role of the same name is a conflict, so is a built-in's name.
    let out = run_json(
        env,
        &[
            "role",
            "create",
            "topic-reader",
            "--action",
            "consume",
            "--resource",
            ACME,
        ],
    );
    expect_error(&out, 5, "conflict");
    let out = run_json(
        env,
        &[
            "role",
            "create",
            "token manager",
            "--action",
            "consume",
            "--resource",
            ACME,
        ],
    );
    expect_error(&out, 5, "conflict");

    // update: the actions given replace the actions; the rest stays.
    let updated = env.ok_json(&[
        "role",
        "update",
        "topic-reader",
        "--action",
        "produce",
        "--action",
        "consume",
    ]);
    assert_eq!(actions(&updated), ["consume", "produce"]);
    assert_eq!(updated["policy"]["resources"], json!([ACME]));
    assert_eq!(updated["description"], "reads acme");
    assert_eq!(updated["id"], created["id"]);
    assert_eq!(updated["created_at"], created["created_at"]);
    assert!(updated["updated_at"].as_str() >= created["updated_at"].as_str());
    let ns = "drn:tok:local:tenant:acme:namespace:*";
    let updated = env.ok_json(&[
        "role",
        "update",
        "topic-reader",
        "--resource",
        ns,
        "--description",
        "reads acme's namespaces",
    ]);
    assert_eq!(actions(&updated), ["consume", "produce"]);
    assert_eq!(updated["policy"]["resources"], json!([ns]));
    assert_eq!(updated["description"], "reads acme's namespaces");
    assert_eq!(env.ok_json(&["role", "get", "topic-reader"]), updated);
    // Nothing to change is a usage error; an unknown role is not found.
    expect_error(
        &run_json(env, &["role", "update", "topic-reader"]),
        2,
        "invalid_input",
    );
    expect_error(
        &run_json(env, &["role", "update", "nosuch", "--action", "consume"]),
        3,
        "not_found",
    );

    // Built-ins are immutable.
    for name in [ORG_ADMIN, "builtin:token-manager", "read only user"] {
        let out = run_json(env, &["role", "update", name, "--action", "consume"]);
        expect_invalid(&out, &["built-in"]);
        let out = run_json(env, &["role", "delete", name, "--yes"]);
        expect_invalid(&out, &["built-in"]);
    }
    assert_eq!(role_names(env).len(), BUILTINS.len() + 1);
    assert_eq!(env.ok_json(&["role", "get", "Token Manager"]), tm);

    // delete asks to type the name; without a terminal it needs --yes.
    let out = run_json(env, &["role", "delete", "topic-reader"]);
    expect_unconfirmed(&out);
    assert_eq!(env.ok_json(&["role", "get", "topic-reader"]), updated);
    let deleted = env.ok_json(&["role", "delete", "topic-reader", "--yes"]);
    assert_eq!(deleted, json!({"name": "topic-reader", "holders": []}));
    expect_error(
        &run_json(env, &["role", "get", "topic-reader"]),
        3,
        "not_found",
    );
    expect_error(
        &run_json(env, &["role", "delete", "topic-reader", "--yes"]),
        3,
        "not_found",
    );
    assert_eq!(role_names(env), BUILTINS);
}

fn role_input_errors(env: &TestEnv) {
    env.ok(&["tenant", "create", "acme"]);
    let create = |action: &str, resource: &str| {
        run_json(
            env,
            &[
                "role",
                "create",
                "r1",
                "--action",
                action,
                "--resource",
                resource,
            ],
        )
    };

    // An unknown action: clap names it and lists the valid ones.
    let out = create("fly", ACME);
    expect_error(&out, 2, "invalid_input");
    let err = stderr(&out);
    for word in ["fly", "consume", "tenant-read", "user-write", "db-schema"] {
        assert!(err.contains(word), "{word:?} in:\n{err}");
    }

    // Malformed resources name what is wrong and the accepted shape.
    let shape = "tenant:<t>[:namespace:<ns>";
    expect_invalid(
        &create("consume", "drn:tok:local:bogus:x"),
        &["drn:tok:local:bogus:x", "bogus", shape],
    );
    expect_invalid(
        &create("consume", "garbage"),
        &["garbage", "drn:tok:", shape],
    );
    expect_invalid(
        &create("consume", "drn:tok:local:tenant:"),
        &["tenant name is empty", shape],
    );
    expect_invalid(
        &create("consume", "drn:tok:local:tenant:acme:b"),
        &["'b'", shape],
    );
    // Outside the org, a wildcard org included.
    for resource in ["drn:tok:elsewhere:tenant:acme", "drn:tok:*"] {
        expect_invalid(
            &create("consume", resource),
            &[resource, "outside org 'local'", "drn:tok:local"],
        );
    }
    // A bad name.
    let out = run_json(
        env,
        &[
            "role",
            "create",
            "builtin:mine",
            "--action",
            "consume",
            "--resource",
            ACME,
        ],
    );
    expect_invalid(&out, &["builtin:"]);
    assert_eq!(role_names(env), BUILTINS, "nothing was created");

    // update checks the same way and leaves the role as it was.
    let role = create_topic_reader(env);
    let out = run_json(env, &["role", "update", "topic-reader", "--action", "fly"]);
    expect_exit(&out, 2);
    let out = run_json(
        env,
        &[
            "role",
            "update",
            "topic-reader",
            "--resource",
            "drn:tok:other",
        ],
    );
    expect_invalid(&out, &["outside org 'local'"]);
    let out = run_json(
        env,
        &[
            "role",
            "update",
            "topic-reader",
            "--resource",
            "drn:tok:local:tenant:acme:topic:t",
        ],
    );
    expect_exit(&out, 2);
    assert_eq!(env.ok_json(&["role", "get", "topic-reader"]), role);

    // An unknown role name on a token: named, with the roles that exist; nothing created.
    let out = run_json(
        env,
        &["token", "create", "--tenant", "acme", "--role", "nosuch"],
    );
    expect_invalid(
        &out,
        &["'nosuch'", ORG_ADMIN, "Token Manager", "topic-reader"],
    );
    // One unknown among known ones is still refused.
    let out = run_json(
        env,
        &[
            "token",
            "create",
            "--tenant",
            "acme",
            "--role",
            "topic-reader",
            "--role",
            "nosuch",
        ],
    );
    expect_invalid(&out, &["'nosuch'"]);
    assert_eq!(
        env.ok_json(&["token", "list", "--tenant", "acme", "--all"]),
        json!([])
    );
}

fn held_role_delete(env: &TestEnv) {
    env.ok(&["tenant", "create", "acme"]);
    create_topic_reader(env);
    env.ok_json(&[
        "token",
        "create",
        "--tenant",
        "acme",
        "--role",
        "topic-reader",
        "--name",
        "st1",
    ]);

    // Held: refused, naming the holder, pointing at --force; nothing changes.
    let out = run_json(env, &["role", "delete", "topic-reader", "--yes"]);
    let message = expect_error(&out, 5, "conflict");
    assert!(message.contains("acme/st1"), "{message}");
    let hint = json_error(&out)["hint"].as_str().unwrap().to_string();
    assert!(hint.contains("--force"), "{hint}");
    env.ok_json(&["role", "get", "topic-reader"]);
    let st1 = env.ok_json(&["token", "get", "st1", "--tenant", "acme"]);
    assert_eq!(st1["roles"], json!(["topic-reader"]));

    // --force still asks for confirmation.
    let out = run_json(env, &["role", "delete", "topic-reader", "--force"]);
    expect_unconfirmed(&out);
    env.ok_json(&["role", "get", "topic-reader"]);

    // Forced: deleted, and the holder loses it.
    let deleted = env.ok_json(&["role", "delete", "topic-reader", "--force", "--yes"]);
    assert_eq!(deleted["name"], "topic-reader");
    assert_eq!(deleted["holders"], json!(["streaming-token acme/st1"]));
    expect_error(
        &run_json(env, &["role", "get", "topic-reader"]),
        3,
        "not_found",
    );
    let st1 = env.ok_json(&["token", "get", "st1", "--tenant", "acme"]);
    assert_eq!(st1["roles"], json!([]));
    assert_eq!(st1["permissions"], json!([]));
    assert!(st1["revoked_at"].is_null(), "the token itself stays: {st1}");
}

fn streaming_token_permissions(env: &TestEnv) {
    env.ok(&["tenant", "create", "acme"]);
    env.ok(&["tenant", "create", "other"]);
    create_topic_reader(env);
    let created = env.ok_json(&[
        "token",
        "create",
        "--tenant",
        "acme",
        "--role",
        "topic-reader",
        "--name",
        "reader",
    ]);
    assert_fields(&created, &TOKEN_FIELDS);
    let consume = json!([{"action": "consume", "resource": ACME}]);
    assert_eq!(created["roles"], json!(["topic-reader"]));
    // tenant-read and token-read are not Pulsar actions.
    assert_eq!(created["permissions"], consume);
    let got = env.ok_json(&["token", "get", "reader", "--tenant", "acme"]);
    assert_eq!(got["roles"], json!(["topic-reader"]));
    assert_eq!(got["permissions"], consume);
    let listed = env.ok_json(&["token", "list", "--tenant", "acme"]);
    assert_eq!(listed[0]["permissions"], consume);
    let shown = env.ok(&["token", "get", "reader", "--tenant", "acme"]);
    assert!(shown.contains(&format!("consume on {ACME}")), "{shown}");
    assert!(shown.contains("topic-reader"), "{shown}");

    // The same role on another tenant would allow nothing there: refused, nothing made.
    let out = env.run(&[
        "token",
        "create",
        "--tenant",
        "other",
        "--role",
        "topic-reader",
        "-o",
        "json",
    ]);
    let message = expect_error(&out, 2, "invalid_input");
    assert!(
        message.contains("'topic-reader' grants no Pulsar action") && message.contains("'other'"),
        "{message}"
    );
    assert_eq!(
        env.ok_json(&["token", "list", "--tenant", "other"]),
        json!([])
    );

    // A role's new policy applies to its holders at once.
    env.ok_json(&[
        "role",
        "update",
        "topic-reader",
        "--action",
        "consume",
        "--action",
        "produce",
    ]);
    let got = env.ok_json(&["token", "get", "reader", "--tenant", "acme"]);
    let mut permissions: Vec<(String, String)> = got["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["action"].as_str().unwrap().to_string(),
                p["resource"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    permissions.sort();
    assert_eq!(
        permissions,
        [
            ("consume".to_string(), ACME.to_string()),
            ("produce".to_string(), ACME.to_string())
        ]
    );

    // A built-in org-wide role: its Pulsar actions, narrowed to the token's tenant.
    let admin = env.ok_json(&[
        "token", "create", "--tenant", "acme", "--role", ORG_ADMIN, "--name", "all",
    ]);
    let mut granted: Vec<String> = admin["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            assert_eq!(p["resource"], ACME, "{admin}");
            p["action"].as_str().unwrap().to_string()
        })
        .collect();
    granted.sort();
    assert_eq!(
        granted,
        [
            "consume",
            "functions",
            "packages",
            "produce",
            "sinks",
            "sources"
        ]
    );
}

both_backends!(
    role_lifecycle,
    role_input_errors,
    held_role_delete,
    streaming_token_permissions
);

#[test]
fn users_and_application_tokens_need_a_server() {
    let env = TestEnv::with_backend(Backend::Embedded);
    env.ok(&["tenant", "create", "acme"]);
    let refused: [&[&str]; 6] = [
        &["token", "create", "--role", "Token Manager"],
        &["user", "grant-role", ADMIN, "Token Manager"],
        &["user", "revoke-role", ADMIN, ORG_ADMIN, "--yes"],
        &["user", "disable", ADMIN, "--yes"],
        &["user", "enable", ADMIN],
        &["user", "list"],
    ];
    for args in refused {
        expect_error(&run_json(&env, args), 2, "invalid_input");
    }
    let out = env.run_stdin(
        &[
            "user",
            "create",
            "bob",
            "--role",
            "Token Manager",
            "--password-stdin",
            "-o",
            "json",
        ],
        &password("bob"),
    );
    expect_error(&out, 2, "invalid_input");
    assert_eq!(env.ok_json(&["token", "list", "--all"]), json!([]));
}

// ---------------------------------------------------------------------------------------
// Holders on a server
// ---------------------------------------------------------------------------------------

#[test]
fn a_forced_delete_takes_the_role_from_users_and_application_tokens() {
    let env = server_env();
    env.ok(&["tenant", "create", "acme"]);
    create_topic_reader(&env);
    let app = env.ok_json(&["token", "create", "--role", "topic-reader", "--name", "app"]);
    let token = app["token"].as_str().unwrap();
    let bob = user_session(&env, "bob", &["topic-reader"]);
    ok_as(&env, token, &["tenant", "get", "acme"]);
    bob.ok_json(&["tenant", "get", "acme"]);

    let out = run_json(&env, &["role", "delete", "topic-reader", "--yes"]);
    let message = expect_error(&out, 5, "conflict");
    for holder in ["application app", "user bob"] {
        assert!(message.contains(holder), "{holder:?} in {message:?}");
    }
    ok_as(&env, token, &["tenant", "get", "acme"]);

    let deleted = env.ok_json(&["role", "delete", "topic-reader", "--yes", "--force"]);
    assert_eq!(deleted["holders"], json!(["application app", "user bob"]));
    assert_eq!(env.ok_json(&["user", "get", "bob"])["roles"], json!([]));
    let me = ok_as(&env, token, &["whoami"]);
    assert_eq!(me["roles"], json!([]));
    // Both lose what it granted at once, sessions already open included.
    expect_denied(
        &as_token(&env, token, &["tenant", "get", "acme"]),
        &["tenant-read"],
    );
    expect_denied(
        &run_json(&bob, &["tenant", "get", "acme"]),
        &["tenant-read"],
    );
}

// ---------------------------------------------------------------------------------------
// No escalation
// ---------------------------------------------------------------------------------------

#[test]
fn a_token_manager_grants_nothing_beyond_its_role() {
    let env = server_env();
    env.ok(&["tenant", "create", "acme"]);
    let tina = user_session(&env, "tina", &["Token Manager"]);
    expect_exit(&create_user(&env, "bob", &[]), 0);

    // No role-write at all, so no role granting user-write.
    let out = run_json(
        &tina,
        &[
            "role",
            "create",
            "uw",
            "--action",
            "user-write",
            "--resource",
            "drn:tok:local",
        ],
    );
    expect_denied(&out, &["role-write", "tina"]);
    // No token carrying a role it does not hold, application or streaming.
    let out = run_json(&tina, &["token", "create", "--role", ORG_ADMIN]);
    expect_denied(&out, &[ORG_ADMIN]);
    let out = run_json(
        &tina,
        &["token", "create", "--tenant", "acme", "--role", ORG_ADMIN],
    );
    expect_denied(&out, &[ORG_ADMIN, "produce"]);
    // No granting roles, not even its own.
    for (user, role) in [
        ("bob", "Token Manager"),
        ("tina", ORG_ADMIN),
        ("bob", ORG_ADMIN),
    ] {
        let out = run_json(&tina, &["user", "grant-role", user, role]);
        expect_denied(&out, &["user-write"]);
    }
    // What it holds it may pass on.
    let own = tina.ok_json(&["token", "create", "--role", "Token Manager", "--name", "tm"]);
    assert_eq!(own["roles"], json!(["Token Manager"]));

    assert_eq!(role_names(&env), BUILTINS);
    assert_eq!(
        names(
            &env.ok_json(&["token", "list", "--type", "application"]),
            "name"
        ),
        ["tm"]
    );
    assert_eq!(
        env.ok_json(&["token", "list", "--tenant", "acme"]),
        json!([])
    );
    assert_eq!(env.ok_json(&["user", "get", "bob"])["roles"], json!([]));
    assert_eq!(
        env.ok_json(&["user", "get", "tina"])["roles"],
        json!(["Token Manager"])
    );
}

#[test]
fn a_role_author_writes_no_role_beyond_its_own() {
    let env = server_env();
    create_topic_reader(&env);
    env.ok_json(&[
        "role",
        "create",
        "role-author",
        "--action",
        "role-read",
        "--action",
        "role-write",
        "--action",
        "consume",
        "--resource",
        "drn:tok:local",
    ]);
    let rita = user_session(&env, "rita", &["role-author"]);

    let out = run_json(
        &rita,
        &[
            "role",
            "create",
            "uw",
            "--action",
            "user-write",
            "--resource",
            "drn:tok:local",
        ],
    );
    expect_denied(&out, &["user-write", "rita"]);
    let mine = rita.ok_json(&[
        "role",
        "create",
        "mine",
        "--action",
        "consume",
        "--resource",
        ACME,
    ]);
    // Widening its own role beyond what it holds is refused, and so is touching a role
    // that grants what it does not hold.
    let out = run_json(
        &rita,
        &[
            "role", "update", "mine", "--action", "consume", "--action", "produce",
        ],
    );
    expect_denied(&out, &["produce"]);
    let out = run_json(
        &rita,
        &[
            "role",
            "update",
            "topic-reader",
            "--resource",
            "drn:tok:local",
        ],
    );
    expect_denied(&out, &["tenant-read"]);
    let out = run_json(&rita, &["role", "delete", "topic-reader", "--yes"]);
    expect_exit(&out, 4);

    let mut expected: Vec<String> = BUILTINS.iter().map(|s| s.to_string()).collect();
    expected.extend(["mine", "role-author", "topic-reader"].map(String::from));
    let mut got = role_names(&env);
    got.sort();
    expected.sort();
    assert_eq!(got, expected);
    assert_eq!(env.ok_json(&["role", "get", "mine"]), mine);
    let reader = env.ok_json(&["role", "get", "topic-reader"]);
    assert_eq!(reader["policy"]["resources"], json!([ACME]));
}

#[test]
fn a_user_writer_cannot_touch_administrators_but_creates_peers() {
    let env = server_env();
    env.ok_json(&[
        "role",
        "create",
        "user-admin",
        "--action",
        "user-read",
        "--action",
        "user-write",
        "--action",
        "role-read",
        "--resource",
        "drn:tok:local",
    ]);
    let uma = user_session(&env, "uma", &["user-admin"]);
    expect_exit(&create_user(&env, "bob", &[]), 0);

    for user in ["bob", "uma"] {
        let out = run_json(&uma, &["user", "grant-role", user, ORG_ADMIN]);
        expect_denied(&out, &[ORG_ADMIN]);
    }
    let out = uma.run_stdin(
        &[
            "user",
            "set-password",
            ADMIN,
            "--password-stdin",
            "-o",
            "json",
        ],
        "a password of uma's choosing",
    );
    expect_denied(&out, &[ADMIN]);
    for args in [
        &["user", "disable", ADMIN, "--yes"][..],
        &["user", "delete", ADMIN, "--yes"],
        &["user", "revoke-role", ADMIN, ORG_ADMIN, "--yes"],
    ] {
        expect_exit(&run_json(&uma, args), 4);
    }
    // Nor a user with a role it does not hold.
    expect_denied(
        &create_user(&uma, "vera", &["Token Manager"]),
        &["Token Manager"],
    );

    // A peer with its own role is fine, and it can manage that peer.
    let out = create_user(&uma, "vic", &["user-admin"]);
    expect_exit(&out, 0);
    assert_eq!(json(&out)["roles"], json!(["user-admin"]));
    let disabled = uma.ok_json(&["user", "disable", "vic", "--yes"]);
    assert!(disabled["disabled_at"].is_string(), "{disabled}");

    // The administrator is untouched: still enabled, still an administrator, same password.
    let admin = env.ok_json(&["user", "get", ADMIN]);
    assert_eq!(admin["roles"], json!([ORG_ADMIN]));
    assert!(admin["disabled_at"].is_null(), "{admin}");
    let again = TestEnv::new();
    again.login(&server_url(&env));
    assert_eq!(
        names(&env.ok_json(&["user", "list"]), "username"),
        [ADMIN, "bob", "uma", "vic"]
    );
    assert_eq!(env.ok_json(&["user", "get", "bob"])["roles"], json!([]));
}

// ---------------------------------------------------------------------------------------
// Application tokens
// ---------------------------------------------------------------------------------------

#[test]
fn application_token_secrets_are_shown_once() {
    let env = server_env();
    env.ok(&["tenant", "create", "acme"]);
    create_topic_reader(&env);
    let created = env.ok_json(&[
        "token",
        "create",
        "--role",
        "topic-reader",
        "--name",
        "reader-app",
        "--description",
        "dashboards",
    ]);
    assert_fields(&created, &TOKEN_FIELDS);
    assert_eq!(created["type"], "application");
    assert_eq!(created["roles"], json!(["topic-reader"]));
    assert_eq!(created["description"], "dashboards");
    for field in ["tenant", "instance", "subject", "expires_at", "revoked_at"] {
        assert!(created[field].is_null(), "{field}: {created}");
    }
    let client_id = created["client_id"].as_str().unwrap();
    assert!(client_id.starts_with("tokci_"), "{created}");
    assert!(
        created["client_secret"]
            .as_str()
            .unwrap()
            .starts_with("tokcs_")
    );
    assert!(created["token"].as_str().unwrap().starts_with("toka_"));
    let mut permissions = created["permissions"].as_array().unwrap().clone();
    permissions.sort_by_key(|p| p["action"].as_str().unwrap().to_string());
    assert_eq!(
        Value::Array(permissions),
        json!([
            {"action": "consume", "resource": ACME},
            {"action": "tenant-read", "resource": ACME},
            {"action": "token-read", "resource": ACME},
        ])
    );

    // Listings and get never show the secrets.
    let out = run_json(&env, &["token", "list", "--type", "application"]);
    expect_exit(&out, 0);
    assert_no_secret(&stdout(&out), &created);
    let list = json(&out);
    assert_eq!(names(&list, "name"), ["reader-app"]);
    let listed = &list[0];
    assert_fields(listed, &TOKEN_FIELDS);
    for field in ["token", "client_secret"] {
        assert!(listed.get(field).is_none(), "{field} in {listed}");
    }
    let mut expected = created.clone();
    let object = expected.as_object_mut().unwrap();
    object.remove("token");
    object.remove("client_secret");
    assert_eq!(listed, &expected);
    for name in ["reader-app", client_id] {
        let out = run_json(&env, &["token", "get", name]);
        expect_exit(&out, 0);
        assert_no_secret(&stdout(&out), &created);
        assert_eq!(json(&out), expected);
    }
    // An application token is no streaming token.
    assert_eq!(
        env.ok_json(&["token", "list", "--type", "streaming"]),
        json!([])
    );
    expect_error(
        &run_json(&env, &["token", "get", "reader-app", "--tenant", "acme"]),
        3,
        "not_found",
    );

    // The table: its columns and the row, no secret.
    let table = env.ok(&["token", "list", "--type", "application"]);
    assert_no_secret(&table, &created);
    let header = table.lines().next().unwrap();
    for column in [
        "NAME",
        "CLIENT ID",
        "ROLES",
        "DESCRIPTION",
        "EXPIRES AT",
        "LAST USED AT",
        "STATUS",
        "CREATED AT",
    ] {
        assert!(header.contains(column), "{column:?} in {header:?}");
    }
    assert!(!header.contains("TENANT"), "{header}");
    let line = row(&table, "reader-app");
    for cell in [client_id, "topic-reader", "dashboards", "never", "active"] {
        assert!(line.contains(cell), "{cell:?} in {line:?}");
    }
    let shown = env.ok(&["token", "get", "reader-app"]);
    assert_no_secret(&shown, &created);
    assert!(shown.contains(client_id), "{shown}");
    assert!(shown.contains(&format!("token-read on {ACME}")), "{shown}");
}

#[test]
fn application_tokens_authenticate_until_revoked() {
    let env = server_env();
    env.ok(&["tenant", "create", "acme"]);
    create_topic_reader(&env);
    let created = env.ok_json(&["token", "create", "--role", "topic-reader", "--name", "app"]);
    let token = created["token"].as_str().unwrap();
    let client_id = created["client_id"].as_str().unwrap();
    let secret = created["client_secret"].as_str().unwrap();

    // As a bearer token.
    let me = ok_as(&env, token, &["whoami"]);
    assert_eq!(me["kind"], "application");
    assert_eq!(me["principal"], "app");
    assert_eq!(me["org"], ORG);
    assert_eq!(me["roles"], json!(["topic-reader"]));
    assert!(me["expires_at"].is_null(), "{me}");
    // Its use is recorded.
    let used = env.ok_json(&["token", "get", "app"]);
    assert!(used["last_used_at"].is_string(), "{used}");

    // The client id and secret buy a session.
    let server = env.server().unwrap();
    let api = Api::anonymous(server);
    let reply = api.post(
        "/v1/auth",
        &json!({"client_id": client_id, "client_secret": secret}),
    );
    reply.expect(201);
    let session = reply.json();
    assert_eq!(session["kind"], "application");
    assert_eq!(session["username"], "app");
    assert_eq!(session["org"], ORG);
    let session_token = session["auth_token"].as_str().unwrap().to_string();
    assert!(session_token.starts_with("toks_"), "{session}");
    let me = ok_as(&env, &session_token, &["whoami"]);
    assert_eq!(me["kind"], "application");
    assert!(me["expires_at"].is_string(), "a session lapses: {me}");
    ok_as(&env, &session_token, &["tenant", "get", "acme"]);
    expect_denied(
        &as_token(&env, &session_token, &["tenant", "create", "x"]),
        &["tenant-write"],
    );

    // A mistyped secret is caught by its checksum; a wrong pair is refused alike.
    let reply = api.post(
        "/v1/auth",
        &json!({"client_id": client_id, "client_secret": mistyped(secret)}),
    );
    let problem = reply.problem(401, "invalid_credentials");
    assert!(
        problem["detail"].as_str().unwrap().contains("checksum"),
        "{problem}"
    );
    let reply = api.post(
        "/v1/auth",
        &json!({"client_id": "tokci_000000000000000000000000", "client_secret": secret}),
    );
    reply.expect(401);
    let reply = api.post(
        "/v1/auth",
        &json!({"client_id": client_id, "client_secret": token}),
    );
    reply.expect(401);
    // The token itself, mistyped, is not authenticated.
    expect_exit(&as_token(&env, &mistyped(token), &["whoami"]), 4);

    // Revoking needs confirmation (by name or client id)…
    expect_unconfirmed(&run_json(&env, &["token", "delete", "app"]));
    ok_as(&env, token, &["tenant", "get", "acme"]);
    // …and then the token and the session it bought stop working at once.
    expect_exit(&run_json(&env, &["token", "delete", client_id, "--yes"]), 0);
    expect_exit(&as_token(&env, token, &["tenant", "get", "acme"]), 4);
    expect_exit(&as_token(&env, token, &["whoami"]), 4);
    expect_exit(
        &as_token(&env, &session_token, &["tenant", "get", "acme"]),
        4,
    );
    let reply = api.post(
        "/v1/auth",
        &json!({"client_id": client_id, "client_secret": secret}),
    );
    reply.expect(401);
    assert_eq!(
        env.ok_json(&["token", "list", "--type", "application"]),
        json!([])
    );
    let all = env.ok_json(&["token", "list", "--type", "application", "--all"]);
    assert_eq!(names(&all, "name"), ["app"]);
    assert!(all[0]["revoked_at"].is_string(), "{all}");
}

#[test]
fn login_with_an_application_token() {
    let env = server_env();
    env.ok(&["tenant", "create", "acme"]);
    env.ok(&["tenant", "create", "other"]);
    create_topic_reader(&env);
    let created = env.ok_json(&["token", "create", "--role", "topic-reader", "--name", "ci"]);
    let token = created["token"].as_str().unwrap();
    let url = server_url(&env);

    let ci = TestEnv::new();
    let out = ci.run_stdin(&["login", "--server", &url, "--with-token"], token);
    expect_exit(&out, 0);
    let me = ci.ok_json(&["whoami"]);
    assert_eq!(me["kind"], "application");
    assert_eq!(me["principal"], "ci");
    assert_eq!(me["server"], url.as_str());
    assert_eq!(me["roles"], json!(["topic-reader"]));
    assert_eq!(names(&ci.ok_json(&["tenant", "list"]), "name"), ["acme"]);
    assert!(!ci.config_text().contains(token), "no secret in the config");

    // A revoked token cannot log in.
    env.ok(&["token", "delete", "ci", "--yes"]);
    expect_exit(&ci.run(&["whoami", "-o", "json"]), 4);
    let again = TestEnv::new();
    let out = again.run_stdin(&["login", "--server", &url, "--with-token"], token);
    expect_exit(&out, 4);
}

// ---------------------------------------------------------------------------------------
// Disabled users and the last administrator
// ---------------------------------------------------------------------------------------

#[test]
fn a_disabled_user_cannot_log_in_or_use_its_session() {
    let env = server_env();
    env.ok(&["tenant", "create", "acme"]);
    create_topic_reader(&env);
    let url = server_url(&env);
    let bob = user_session(&env, "bob", &["topic-reader"]);
    bob.ok_json(&["tenant", "get", "acme"]);

    // disable asks for confirmation.
    expect_unconfirmed(&run_json(&env, &["user", "disable", "bob"]));
    bob.ok_json(&["tenant", "get", "acme"]);
    let disabled = env.ok_json(&["user", "disable", "bob", "--yes"]);
    assert!(disabled["disabled_at"].is_string(), "{disabled}");
    assert_eq!(disabled["roles"], json!(["topic-reader"]));

    // Its open session ends at once, and the right password does not log it in.
    expect_exit(&run_json(&bob, &["tenant", "get", "acme"]), 4);
    let elsewhere = TestEnv::new();
    let out = login(&elsewhere, &url, "bob");
    expect_exit(&out, 4);
    let message = json_error(&out)["message"].as_str().unwrap().to_string();
    assert!(message.contains("disabled"), "{message}");
    let reply = Api::anonymous(env.server().unwrap()).login("bob", &password("bob"));
    reply.expect(401);
    // A wrong password says nothing about the account.
    let out = elsewhere.run_stdin(
        &[
            "login",
            "--server",
            &url,
            "--username",
            "bob",
            "--password-stdin",
            "-o",
            "json",
        ],
        "not bob's password at all",
    );
    expect_exit(&out, 4);
    assert!(!stderr(&out).contains("disabled"), "{}", stderr(&out));

    // enable: the password works again.
    let enabled = env.ok_json(&["user", "enable", "bob"]);
    assert!(enabled["disabled_at"].is_null(), "{enabled}");
    expect_exit(&login(&elsewhere, &url, "bob"), 0);
    assert_eq!(elsewhere.ok_json(&["whoami"])["principal"], "bob");
    elsewhere.ok_json(&["tenant", "get", "acme"]);
}

#[test]
fn the_org_keeps_an_enabled_administrator() {
    let env = server_env();
    let out = run_json(&env, &["user", "disable", ADMIN, "--yes"]);
    let message = expect_error(&out, 5, "conflict");
    assert!(message.contains(ORG_ADMIN), "{message}");
    let out = run_json(&env, &["user", "revoke-role", ADMIN, ORG_ADMIN, "--yes"]);
    let message = expect_error(&out, 5, "conflict");
    assert!(message.contains(ORG_ADMIN), "{message}");
    let admin = env.ok_json(&["user", "get", ADMIN]);
    assert_eq!(admin["roles"], json!([ORG_ADMIN]));
    assert!(admin["disabled_at"].is_null(), "{admin}");

    // A disabled second administrator does not count.
    expect_exit(&create_user(&env, "bea", &[ORG_ADMIN]), 0);
    env.ok_json(&["user", "disable", "bea", "--yes"]);
    expect_exit(&run_json(&env, &["user", "disable", ADMIN, "--yes"]), 5);
    expect_exit(
        &run_json(&env, &["user", "revoke-role", ADMIN, ORG_ADMIN, "--yes"]),
        5,
    );

    // An enabled one does: then the role can go, and its holder loses it at once.
    env.ok_json(&["user", "enable", "bea"]);
    let revoked = env.ok_json(&["user", "revoke-role", ADMIN, ORG_ADMIN, "--yes"]);
    assert_eq!(revoked["roles"], json!([]));
    expect_denied(&run_json(&env, &["user", "list"]), &["user-read"]);
    // Granting it back takes another administrator.
    let bea = TestEnv::new();
    expect_exit(&login(&bea, &server_url(&env), "bea"), 0);
    let granted = bea.ok_json(&["user", "grant-role", ADMIN, ORG_ADMIN]);
    assert_eq!(granted["roles"], json!([ORG_ADMIN]));
    // bea is now not the last one: she may step down.
    let out = run_json(&bea, &["user", "revoke-role", "bea", ORG_ADMIN, "--yes"]);
    expect_exit(&out, 0);
    env.ok_json(&["user", "list"]);
}
