//! `tok token create|list|get|delete` (alias `revoke`) in table and JSON: names, expiry
//! rules and the org maximum, listing filters, and the confirmation rules of `delete`.

use crate::both_backends;
use crate::common::{TestEnv, expect_error, expect_exit, json, stderr, stdout};
use crate::embedded_helpers::{
    acme, expect_hint, expect_unconfirmed, jwt_parts, new_token, sql, token_names, with_acme,
};

fn names_are_unique_per_tenant_and_generated_when_missing(env: &TestEnv) {
    with_acme(env);
    env.ok(&["tenant", "create", "beta", "-q"]);
    new_token(env, &["--tenant", "acme", "--name", "ci"]);
    let out = env.run(&[
        "token", "create", "--tenant", "acme", "--name", "ci", "-o", "json",
    ]);
    expect_hint(&out, 5, "conflict", "tok token list --tenant acme");
    new_token(env, &["--tenant", "beta", "--name", "ci"]);

    let a = new_token(env, &["--tenant", "acme"]);
    let b = new_token(env, &["--tenant", "acme"]);
    for generated in [&a, &b] {
        let name = generated["name"].as_str().unwrap();
        let suffix = name.strip_prefix("acme-").expect("<tenant>-<hex>");
        assert_eq!(suffix.len(), 6, "{name}");
        assert!(suffix.chars().all(|c| c.is_ascii_hexdigit()), "{name}");
    }
    assert_ne!(a["name"], b["name"]);
    assert_eq!(token_names(env, &["--tenant", "acme"]).len(), 3);
    assert_eq!(
        token_names(env, &[]).len(),
        4,
        "without --tenant: every tenant"
    );

    for bad in ["a b", "a/b", ""] {
        let out = env.run(&[
            "token", "create", "--tenant", "acme", "--name", bad, "-o", "json",
        ]);
        expect_error(&out, 2, "invalid_input");
    }
}

fn zero_past_and_malformed_expiries_are_usage_errors(env: &TestEnv) {
    with_acme(env);
    for bad in [
        "0s",
        "0d",
        "-1d",
        "2020-01-01T00:00:00Z",
        "bogus",
        "7x",
        "",
        "d",
    ] {
        let expires = format!("--expires={bad}");
        let out = env.run(&[
            "token", "create", "--tenant", "acme", &expires, "-o", "json",
        ]);
        let message = expect_error(&out, 2, "invalid_input");
        assert!(
            message.contains("never"),
            "{bad:?}: names the accepted forms: {message}"
        );
    }
    let out = env.run(&["token", "create", "--tenant", "acme", "--expires", "0s"]);
    expect_exit(&out, 2);
    assert!(stdout(&out).is_empty());
    assert!(
        token_names(env, &["--all"]).is_empty(),
        "nothing was created"
    );
}

fn never_has_no_exp_until_the_org_sets_a_maximum(env: &TestEnv) {
    with_acme(env);
    let out = env.run(&[
        "token",
        "create",
        "--tenant",
        "acme",
        "--expires",
        "never",
        "-o",
        "json",
    ]);
    expect_exit(&out, 0);
    assert!(stderr(&out).contains("never expires"), "{}", stderr(&out));
    let created = json(&out);
    assert!(created["expires_at"].is_null());
    let (_, claims) = jwt_parts(created["token"].as_str().unwrap());
    assert!(claims.get("exp").is_none(), "no exp claim: {claims}");
    assert!(claims["iat"].is_i64());

    let org = env.ok_json(&["org", "set-max-token-lifetime", "30d"]);
    assert_eq!(org["max_token_lifetime"], "30d");
    assert_eq!(org["max_token_lifetime_seconds"], 30 * 86_400);
    assert_eq!(env.ok_json(&["org", "show"]), org);
    let table = env.ok(&["org", "show"]);
    assert!(
        table.contains("max token lifetime") && table.contains("30d"),
        "{table}"
    );
    for beyond in ["never", "31d", "30d1s", "1y"] {
        let out = env.run(&[
            "token",
            "create",
            "--tenant",
            "acme",
            "--expires",
            beyond,
            "-o",
            "json",
        ]);
        let message = expect_error(&out, 2, "invalid_input");
        assert!(
            message.contains("30d"),
            "{beyond}: names the maximum: {message}"
        );
    }
    new_token(
        env,
        &["--tenant", "acme", "--expires", "30d", "--name", "at-max"],
    );
    assert_eq!(
        token_names(env, &[]).len(),
        2,
        "only the allowed ones exist"
    );

    for bad in ["0d", "bogus", "5x"] {
        let out = env.run(&["org", "set-max-token-lifetime", bad, "-o", "json"]);
        expect_error(&out, 2, "invalid_input");
    }
    let org = env.ok_json(&["org", "set-max-token-lifetime", "none"]);
    assert!(org["max_token_lifetime"].is_null());
    assert!(org["max_token_lifetime_seconds"].is_null());
    new_token(
        env,
        &["--tenant", "acme", "--expires", "never", "--name", "again"],
    );
}

#[test]
fn list_hides_revoked_and_expired_unless_asked() {
    let env = acme();
    for name in ["live", "revoked", "expired"] {
        new_token(&env, &["--tenant", "acme", "--name", name]);
    }
    env.ok(&[
        "token", "revoke", "revoked", "--tenant", "acme", "--yes", "-q",
    ]);
    // Expiry is in the past only after time passes; move it there instead of waiting.
    let changed = sql(
        &env,
        "UPDATE tokens SET expires_at = 1000000000 WHERE name = 'expired'",
    );
    assert_eq!(changed, 1);

    assert_eq!(token_names(&env, &[]), ["live"]);
    assert_eq!(token_names(&env, &["--tenant", "acme"]), ["live"]);
    assert_eq!(token_names(&env, &["--expired"]), ["expired", "live"]);
    assert_eq!(
        token_names(&env, &["--all"]),
        ["expired", "live", "revoked"]
    );

    let all = env.ok_json(&["token", "list", "--all"]);
    for t in all.as_array().unwrap() {
        let revoked = t["name"] == "revoked";
        assert_eq!(t["revoked_at"].is_string(), revoked, "{t}");
    }
    let table = env.ok(&["token", "list", "--all"]);
    for word in [
        "EXPIRES AT",
        "STATUS",
        "revoked",
        "expired",
        "active",
        "ago",
    ] {
        assert!(table.contains(word), "{word}: {table}");
    }
    let soon = env.ok(&[
        "token",
        "create",
        "--tenant",
        "acme",
        "--expires",
        "2d",
        "-q",
    ]);
    assert!(!soon.is_empty());
    let table = env.ok(&["token", "list"]);
    assert!(
        table.contains("expiring") && table.contains("in 2 days"),
        "{table}"
    );
}

fn get_by_name_or_id_in_table_and_json(env: &TestEnv) {
    with_acme(env);
    let created = new_token(
        env,
        &["--tenant", "acme", "--name", "ci", "--subject", "role"],
    );
    let id = created["id"].as_str().unwrap();
    let by_id = env.ok_json(&["token", "get", id, "--tenant", "acme"]);
    assert_eq!(by_id["name"], "ci");
    assert_eq!(by_id["subject"], "role");
    assert!(by_id.get("token").is_none(), "get never shows the token");
    let table = env.ok(&["token", "get", "ci", "--tenant", "acme"]);
    for word in ["ci", "role", "acme", "local", id] {
        assert!(table.contains(word), "{word}: {table}");
    }
    let out = env.run(&["token", "get", "nope", "--tenant", "acme", "-o", "json"]);
    expect_hint(&out, 3, "not_found", "tok token list --tenant acme");
}

fn delete_needs_confirmation_and_revokes(env: &TestEnv) {
    with_acme(env);
    new_token(env, &["--tenant", "acme", "--name", "ci"]);
    for verb in ["delete", "revoke"] {
        let out = env.run(&["token", verb, "ci", "--tenant", "acme", "-o", "json"]);
        expect_unconfirmed(&out);
        let out = env.run(&["token", verb, "ci", "--tenant", "acme", "--no-input"]);
        expect_exit(&out, 2);
        assert!(stderr(&out).contains("hint: pass --yes to confirm"));
    }
    assert_eq!(token_names(env, &[]), ["ci"], "nothing was revoked");
    let got = env.ok_json(&["token", "get", "ci", "--tenant", "acme"]);
    assert!(got["revoked_at"].is_null());

    let out = env.run(&["token", "delete", "ci", "--tenant", "acme", "--yes"]);
    expect_exit(&out, 0);
    assert!(
        stderr(&out).contains("revoked token 'acme/ci'"),
        "{}",
        stderr(&out)
    );
    assert!(token_names(env, &[]).is_empty());
    let got = env.ok_json(&["token", "get", "ci", "--tenant", "acme"]);
    assert!(got["revoked_at"].is_string(), "kept, as revoked: {got}");
    assert_eq!(env.ok_json(&["tenant", "get", "acme"])["token_count"], 0);

    let out = env.run(&[
        "token", "revoke", "ci", "--tenant", "acme", "--yes", "-o", "json",
    ]);
    expect_error(&out, 3, "not_found");
    let out = env.run(&[
        "token", "delete", "nope", "--tenant", "acme", "--yes", "-o", "json",
    ]);
    expect_error(&out, 3, "not_found");
}

fn a_revoked_name_stays_taken(env: &TestEnv) {
    with_acme(env);
    new_token(env, &["--tenant", "acme", "--name", "ci"]);
    env.ok(&["token", "revoke", "ci", "--tenant", "acme", "--yes", "-q"]);
    let out = env.run(&[
        "token", "create", "--tenant", "acme", "--name", "ci", "-o", "json",
    ]);
    expect_error(&out, 5, "conflict");
}

both_backends!(
    names_are_unique_per_tenant_and_generated_when_missing,
    zero_past_and_malformed_expiries_are_usage_errors,
    never_has_no_exp_until_the_org_sets_a_maximum,
    get_by_name_or_id_in_table_and_json,
    delete_needs_confirmation_and_revokes,
    a_revoked_name_stays_taken,
);
