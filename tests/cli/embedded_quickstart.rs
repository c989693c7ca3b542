//! The quick start on a fresh data dir: `tok tenant create acme && tok token create
//! --tenant acme --expires 7d` prints the token alone, once; nothing else ever shows or
//! stores it (listings, `get`, the database file, the audit trail).

use serde_json::Value;

use crate::both_backends;
use crate::common::{TestEnv, expect_exit, stderr, stdout};
use crate::embedded_helpers::{
    TOKEN_FIELDS, assert_fields, contains_bytes, database_bytes, jwt_parts, new_token, with_acme,
};

const DAY: i64 = 86_400;

fn epoch(rfc3339: &Value) -> i64 {
    let text = rfc3339.as_str().expect("an RFC 3339 string");
    assert!(text.ends_with('Z'), "UTC: {text}");
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .expect("RFC 3339")
        .unix_timestamp()
}

fn quick_start_prints_the_token_alone_and_says_it_is_shown_once(env: &TestEnv) {
    let out = env.run(&["tenant", "create", "acme"]);
    expect_exit(&out, 0);
    let out = env.run(&["token", "create", "--tenant", "acme", "--expires", "7d"]);
    expect_exit(&out, 0);
    let token = stdout(&out);
    assert_eq!(token.lines().count(), 1, "one line on stdout: {token}");
    assert!(!token.contains(' '), "the token alone: {token}");
    assert!(stderr(&out).contains("shown only once"), "{}", stderr(&out));
    assert!(!stderr(&out).contains(&token), "the token is not on stderr");

    let (header, claims) = jwt_parts(&token);
    assert_eq!(header["alg"], "RS256", "instance local is RS256: {header}");
    assert!(header["kid"].as_str().is_some_and(|k| !k.is_empty()));
    assert_eq!(claims["aud"], "urn:tok:local:local");
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        7 * DAY
    );
    let name = claims["sub"]
        .as_str()
        .expect("sub: the token's name by default");
    assert!(name.starts_with("acme-"), "{claims}");

    let listed = env.ok(&["token", "list"]);
    assert!(listed.contains(name), "{listed}");
}

fn token_json_has_every_documented_field_and_the_token(env: &TestEnv) {
    with_acme(env);
    let created = new_token(
        env,
        &[
            "--tenant",
            "acme",
            "--name",
            "ci",
            "--expires",
            "7d",
            "--description",
            "CI",
        ],
    );
    assert_fields(&created, &TOKEN_FIELDS);
    assert_fields(&created, &["token"]);
    assert_eq!(created["name"], "ci");
    assert_eq!(created["type"], "streaming");
    assert_eq!(created["tenant"], "acme");
    assert_eq!(created["instance"], "local");
    assert_eq!(created["subject"], "ci", "the subject defaults to the name");
    assert_eq!(created["roles"], serde_json::json!([]));
    assert!(created["client_id"].is_null());
    assert_eq!(created["description"], "CI");
    assert!(created["last_used_at"].is_null());
    assert!(created["revoked_at"].is_null());
    let lifetime = epoch(&created["expires_at"]) - epoch(&created["created_at"]);
    assert_eq!(lifetime, 7 * DAY);

    let jwt = created["token"].as_str().unwrap();
    let (_, claims) = jwt_parts(jwt);
    assert_eq!(claims["jti"], created["id"], "id is the jti");
    assert_eq!(claims["sub"], "ci");
    assert_eq!(claims["iat"].as_i64(), Some(epoch(&created["created_at"])));
    assert_eq!(claims["exp"].as_i64(), Some(epoch(&created["expires_at"])));

    let mut metadata = created.clone();
    metadata.as_object_mut().unwrap().remove("token");
    let got = env.ok_json(&["token", "get", "ci", "--tenant", "acme"]);
    assert_eq!(got, metadata, "get: the same object without the token");
    let list = env.ok_json(&["token", "list", "--tenant", "acme"]);
    assert_eq!(list, serde_json::json!([metadata]), "list: the same object");
}

fn the_token_is_never_shown_or_stored_again(env: &TestEnv) {
    with_acme(env);
    let created = new_token(
        env,
        &["--tenant", "acme", "--name", "ci", "--expires", "7d"],
    );
    let jwt = created["token"].as_str().unwrap().to_string();
    let signature = jwt.rsplit('.').next().unwrap().to_string();
    let id = created["id"].as_str().unwrap().to_string();
    // Another token, minted by the default path (no name, no expiry).
    let plain = env.ok(&["token", "create", "--tenant", "acme"]);

    let mut shown = Vec::new();
    for args in [
        vec!["token", "list"],
        vec!["token", "list", "--all"],
        vec!["token", "list", "--tenant", "acme", "-o", "json"],
        vec!["token", "list", "--all", "-o", "yaml"],
        vec!["token", "list", "-o", "csv"],
        vec!["token", "get", "ci", "--tenant", "acme"],
        vec!["token", "get", &id, "--tenant", "acme", "-o", "json"],
        vec!["tenant", "get", "acme", "-o", "json"],
        vec!["audit", "list", "-o", "json"],
        vec!["audit", "list"],
    ] {
        let out = env.run(&args);
        expect_exit(&out, 0);
        shown.push((args.join(" "), stdout(&out), stderr(&out)));
    }
    for (cmd, out, err) in &shown {
        for secret in [&jwt, &signature, &plain] {
            assert!(
                !out.contains(secret.as_str()),
                "`tok {cmd}` printed a token:\n{out}"
            );
            assert!(
                !err.contains(secret.as_str()),
                "`tok {cmd}` put a token on stderr"
            );
        }
    }
    assert!(
        shown[0].1.contains("ci"),
        "the listing shows the token's name"
    );

    let db = database_bytes(env);
    for secret in [&jwt, &signature, &plain] {
        assert!(
            !contains_bytes(&db, secret.as_bytes()),
            "tok.db holds a token"
        );
    }
    assert!(contains_bytes(&db, id.as_bytes()), "tok.db holds the jti");
}

fn create_shortcut_and_defaults(env: &TestEnv) {
    with_acme(env);
    let out = env.run(&[
        "create",
        "--tenant",
        "acme",
        "--name",
        "ci-producer",
        "--expires",
        "30d",
        "-o",
        "json",
    ]);
    expect_exit(&out, 0);
    let created = crate::common::json(&out);
    assert_eq!(created["name"], "ci-producer");
    assert!(created["token"].is_string());

    let default = new_token(env, &["--tenant", "acme", "--subject", "role-a"]);
    let (_, claims) = jwt_parts(default["token"].as_str().unwrap());
    assert_eq!(claims["sub"], "role-a");
    assert_eq!(default["subject"], "role-a");
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        30 * DAY,
        "the default expiry is 30 days"
    );
    let tenant = env.ok_json(&["tenant", "get", "acme"]);
    assert_eq!(tenant["token_count"], 2);
}

both_backends!(
    quick_start_prints_the_token_alone_and_says_it_is_shown_once,
    token_json_has_every_documented_field_and_the_token,
    the_token_is_never_shown_or_stored_again,
    create_shortcut_and_defaults,
);
