//! `tok audit list`: one record per change (actor, action, target, at), none for reads or
//! refused commands, `--since`, and never a secret.

use crate::common::{TestEnv, expect_error, expect_exit, stdout};
use crate::embedded_helpers::{assert_fields, audit_actions, broker_conf, new_token, sql};

const FIELDS: [&str; 6] = ["id", "at", "actor", "action", "target", "detail"];

#[test]
fn every_change_writes_one_record_and_nothing_else_does() {
    let env = TestEnv::new();
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
    assert_eq!(audit_actions(&env), expected);

    // Reads, refusals and unconfirmed deletes change nothing, so they write nothing.
    env.ok(&["tenant", "create", "beta", "-q"]);
    let before = audit_actions(&env);
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
    assert_eq!(audit_actions(&env), before);

    let records = env.ok_json(&["audit", "list"]);
    for r in records.as_array().unwrap() {
        assert_fields(r, &FIELDS);
        assert!(
            r["at"].as_str().unwrap().ends_with('Z'),
            "RFC 3339 UTC: {r}"
        );
        let actor = r["actor"].as_str().unwrap();
        assert!(actor.starts_with("local:"), "{r}");
    }
    let with_user = &records.as_array().unwrap()[2];
    assert_eq!(
        with_user["actor"], "local:auditor",
        "the OS user: {with_user}"
    );
    let table = env.ok(&["audit", "list"]);
    for word in [
        "ACTOR",
        "ACTION",
        "token.create",
        "acme/ci",
        "local:auditor",
    ] {
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

#[test]
fn no_secret_reaches_the_audit_trail() {
    let env = TestEnv::new();
    env.ok(&["instance", "create", "hs", "--alg", "HS256", "-q"]);
    env.ok(&["tenant", "create", "acme", "--instance", "hs", "-q"]);
    let token = new_token(&env, &["--tenant", "acme", "--name", "ci"]);
    let jwt = token["token"].as_str().unwrap();
    env.ok(&["instance", "rotate-key", "hs", "-q"]);
    let secret = broker_conf(&env, "hs")["tokenSecretKey"].clone();
    let b64 = secret.strip_prefix("data:;base64,").unwrap().to_string();
    let master = std::fs::read_to_string(env.data_dir().join("credentials.json")).unwrap();
    let master: serde_json::Value = serde_json::from_str(&master).unwrap();
    let master = master
        .as_object()
        .unwrap()
        .values()
        .next()
        .unwrap()
        .as_str()
        .unwrap()
        .to_string();

    for format in ["json", "table", "yaml", "csv"] {
        let out = env.run(&["audit", "list", "-o", format]);
        expect_exit(&out, 0);
        let text = stdout(&out);
        assert!(text.contains("token.create"), "{text}");
        for s in [jwt, jwt.rsplit('.').next().unwrap(), &b64, &master] {
            assert!(
                !text.contains(s),
                "a secret in `tok audit list -o {format}`:\n{text}"
            );
        }
    }
}
