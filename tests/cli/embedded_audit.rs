//! `tok audit list`: one record per change (actor, action, target, at), none for reads or
//! refused commands, `--since`, and never a secret.

use serde_json::Value;

use crate::both_backends;
use crate::common::{TestEnv, expect_error, expect_exit, stdout};
use crate::embedded_helpers::{assert_fields, audit_actions, broker_conf, new_token, sql};

const FIELDS: [&str; 6] = ["id", "at", "actor", "action", "target", "detail"];

/// The records of `tok audit list -o json`, oldest first, less a server's records of its
/// users and sessions (`user.*` from `tok server init`, `session.*` from `tok login`),
/// which the embedded control plane has no counterpart for.
fn change_records(env: &TestEnv) -> Vec<Value> {
    let list = env.ok_json(&["audit", "list"]);
    let records = list.as_array().expect("a JSON array").iter().cloned();
    let server_only = |r: &Value| {
        let action = r["action"].as_str().unwrap();
        env.server().is_some() && (action.starts_with("user.") || action.starts_with("session."))
    };
    records.filter(|r| !server_only(r)).collect()
}

/// The `action target` pairs of [`change_records`].
fn change_actions(env: &TestEnv) -> Vec<String> {
    let records = change_records(env);
    let pair = |r: &Value| {
        format!(
            "{} {}",
            r["action"].as_str().unwrap(),
            r["target"].as_str().unwrap()
        )
    };
    records.iter().map(pair).collect()
}

fn every_change_writes_one_record_and_nothing_else_does(env: &TestEnv) {
    let user = [("USER", "auditor")];
    let run = |args: &[&str]| env.run_env(args, &user);
    expect_exit(&run(&["tenant", "create", "acme", "-q"]), 0);
    expect_exit(
        &run(&["token", "create", "--tenant", "acme", "--name", "ci", "-q"]),
        0,
    );
    expect_exit(
        &run(&["token", "revoke", "ci", "--tenant", "acme", "--yes"]),
        0,
    );
    expect_exit(&run(&["org", "set-max-token-lifetime", "90d"]), 0);
    expect_exit(
        &run(&["instance", "create", "prod", "--alg", "ES256", "-q"]),
        0,
    );
    expect_exit(&run(&["instance", "rotate-key", "prod", "-q"]), 0);
    expect_exit(
        &run(&["tenant", "create", "p1", "--instance", "prod", "-q"]),
        0,
    );
    expect_exit(
        &run(&["instance", "delete", "prod", "--cascade", "--yes"]),
        0,
    );
    expect_exit(&run(&["tenant", "delete", "acme", "--yes"]), 0);
    let expected = [
        "org.create local",
        "instance.create local",
        "tenant.create acme",
        "token.create acme/ci",
        "token.delete acme/ci",
        "org.set-max-token-lifetime local",
        "instance.create prod",
        "instance.rotate-key prod",
        "tenant.create p1",
        "tenant.delete p1",
        "instance.delete prod",
        "tenant.delete acme",
    ];
    assert_eq!(change_actions(env), expected);

    // Reads, refusals and unconfirmed deletes change nothing, so they write nothing.
    env.ok(&["tenant", "create", "beta", "-q"]);
    let before = change_actions(env);
    for (args, code) in [
        (&["tenant", "list"][..], 0),
        (&["token", "list", "--all"], 0),
        (&["instance", "get", "local"], 0),
        (&["instance", "broker-config", "local"], 0),
        (&["org", "show"], 0),
        (&["tenant", "create", "beta"], 5),
        (&["tenant", "create", "a/b"], 2),
        (
            &["token", "create", "--tenant", "beta", "--expires", "never"],
            2,
        ),
        (&["tenant", "delete", "beta"], 2),
        (&["token", "create", "--tenant", "nope"], 3),
    ] {
        expect_exit(&env.run(args), code);
    }
    assert_eq!(change_actions(env), before);

    let records = change_records(env);
    for r in &records {
        assert_fields(r, &FIELDS);
        assert!(
            r["at"].as_str().unwrap().ends_with('Z'),
            "RFC 3339 UTC: {r}"
        );
        let actor = r["actor"].as_str().unwrap();
        match env.server() {
            None => assert!(actor.starts_with("local:"), "{r}"),
            // `tok server init` wrote org.create and instance.create; the rest is admin's.
            Some(_) => assert!(
                actor.starts_with("server-init:") || actor == "user:admin",
                "{r}"
            ),
        }
    }
    // Embedded: the OS user. On a server: the logged-in user, whatever USER says.
    let actor = if env.server().is_some() {
        "user:admin"
    } else {
        "local:auditor"
    };
    let with_user = &records[2];
    assert_eq!(with_user["actor"], actor, "the user: {with_user}");
    let table = env.ok(&["audit", "list"]);
    for word in ["ACTOR", "ACTION", "token.create", "acme/ci", actor] {
        assert!(table.contains(word), "{word}: {table}");
    }
}

#[test]
fn since_filters_by_age_or_time() {
    let env = TestEnv::new();
    env.ok(&["tenant", "create", "old", "-q"]);
    // Records are written with the current time; age the first three instead of waiting.
    let aged = sql(&env, "UPDATE audit SET at = at - 10 * 86400 WHERE id <= 3");
    assert_eq!(aged, 3);
    env.ok(&["tenant", "create", "new", "-q"]);
    let all = audit_actions(&env);
    assert_eq!(all.len(), 4);
    let since = |arg: &str| -> usize {
        let list = env.ok_json(&["audit", "list", "--since", arg]);
        list.as_array().unwrap().len()
    };
    assert_eq!(since("7d"), 1, "only the record of the last week");
    assert_eq!(since("11d"), 4);
    assert_eq!(since("2000-01-01T00:00:00Z"), 4);
    assert_eq!(since("2999-01-01T00:00:00Z"), 0);
    assert_eq!(
        env.ok(&[
            "audit",
            "list",
            "--since",
            "2999-01-01T00:00:00Z",
            "-o",
            "json"
        ]),
        "[]"
    );
    let recent = env.ok_json(&["audit", "list", "--since", "1d"]);
    assert_eq!(recent[0]["target"], "new");
    for bad in ["bogus", "7x", "2026-13-01T00:00:00Z"] {
        let out = env.run(&["audit", "list", "--since", bad, "-o", "json"]);
        expect_error(&out, 2, "invalid_input");
    }
}

fn no_secret_reaches_the_audit_trail(env: &TestEnv) {
    env.ok(&["instance", "create", "hs", "--alg", "HS256", "-q"]);
    env.ok(&["tenant", "create", "acme", "--instance", "hs", "-q"]);
    let token = new_token(env, &["--tenant", "acme", "--name", "ci"]);
    let jwt = token["token"].as_str().unwrap();
    env.ok(&["instance", "rotate-key", "hs", "-q"]);
    let secret = broker_conf(env, "hs")["tokenSecretKey"].clone();
    let b64 = secret.strip_prefix("data:;base64,").unwrap().to_string();
    let mut secrets = vec![
        jwt.to_string(),
        jwt.rsplit('.').next().unwrap().to_string(),
        b64,
    ];
    // Embedded: the master key. On a server: the session token of `tok login`, and the
    // server's master key is in its own file.
    let stored = std::fs::read_to_string(env.data_dir().join("credentials.json")).unwrap();
    let stored: Value = serde_json::from_str(&stored).unwrap();
    let stored = stored.as_object().unwrap().values();
    secrets.extend(stored.map(|v| v.as_str().unwrap().to_string()));
    if let Some(server) = env.server() {
        let master = std::fs::read_to_string(&server.master_key_file).unwrap();
        secrets.push(master.trim().to_string());
    }
    assert!(secrets.len() >= 4, "{secrets:?}");

    for format in ["json", "table", "yaml", "csv"] {
        let out = env.run(&["audit", "list", "-o", format]);
        expect_exit(&out, 0);
        let text = stdout(&out);
        assert!(text.contains("token.create"), "{text}");
        for s in &secrets {
            assert!(
                !text.contains(s.as_str()),
                "a secret in `tok audit list -o {format}`:\n{text}"
            );
        }
    }
}

both_backends!(
    every_change_writes_one_record_and_nothing_else_does,
    no_secret_reaches_the_audit_trail,
);
