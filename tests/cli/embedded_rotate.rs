//! `tok instance rotate-key`: a new key with a new `kid`, the old one listed as retired,
//! the tokens still on the old key named, and new tokens signed with the new key.

use crate::both_backends;
use crate::common::{TestEnv, expect_exit, json, stderr};
use crate::embedded_helpers::{broker_conf, jwt_parts, new_token, with_acme};

fn kid_of(token: &str) -> String {
    let (header, _) = jwt_parts(token);
    header["kid"].as_str().expect("kid header").to_string()
}

fn rotation_retires_the_old_key_and_names_its_tokens(env: &TestEnv) {
    with_acme(env);
    let old_kid = env.ok_json(&["instance", "get", "local"])["kid"]
        .as_str()
        .unwrap()
        .to_string();
    let old_key = broker_conf(env, "local")["tokenPublicKey"].clone();
    let live = new_token(env, &["--tenant", "acme", "--name", "still-old"]);
    let live = live["token"].as_str().unwrap().to_string();
    new_token(env, &["--tenant", "acme", "--name", "revoked-old"]);
    env.ok(&[
        "token",
        "revoke",
        "revoked-old",
        "--tenant",
        "acme",
        "--yes",
        "-q",
    ]);
    assert_eq!(kid_of(&live), old_kid);

    let out = env.run(&["instance", "rotate-key", "local", "-o", "json"]);
    expect_exit(&out, 0);
    let rotated = json(&out);
    let err = stderr(&out);
    assert!(
        err.contains("acme/still-old"),
        "names the live token: {err}"
    );
    assert!(!err.contains("revoked-old"), "not the revoked one: {err}");
    assert!(err.contains(&old_kid), "{err}");
    let new_kid = rotated["kid"].as_str().unwrap().to_string();
    assert_ne!(new_kid, old_kid);

    let got = env.ok_json(&["instance", "get", "local"]);
    assert_eq!(got["kid"], new_kid.as_str());
    let keys = got["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2, "{got}");
    let key = |kid: &str| {
        keys.iter()
            .find(|k| k["kid"] == kid)
            .expect("listed")
            .clone()
    };
    assert!(
        key(&new_kid)["retired_at"].is_null(),
        "the new key is active"
    );
    assert!(
        key(&old_kid)["retired_at"].is_string(),
        "the old key is retired"
    );
    assert_eq!(rotated["keys"], got["keys"]);
    let table = env.ok(&["instance", "get", "local"]);
    assert!(
        table.contains(&format!("{old_kid} (RS256, retired")),
        "{table}"
    );

    let fresh = env.ok(&["token", "create", "--tenant", "acme", "-q"]);
    assert_eq!(kid_of(&fresh), new_kid, "new tokens carry the new kid");
    let new_key = broker_conf(env, "local")["tokenPublicKey"].clone();
    assert_ne!(new_key, old_key, "broker-config prints the new key");
    expect_exit(&env.verify(&fresh, "--public-key", &new_key), 0);
    expect_exit(&env.verify(&live, "--public-key", &old_key), 0);
    expect_exit(&env.verify(&live, "--public-key", &new_key), 4);

    let out = env.run(&["instance", "rotate-key", "local"]);
    expect_exit(&out, 0);
    let err = stderr(&out);
    assert!(
        err.contains("acme/"),
        "the token made after the first rotation: {err}"
    );
    assert!(
        !err.contains("still-old"),
        "its key was retired before: {err}"
    );
    let out = env.run(&["instance", "rotate-key", "local"]);
    assert!(
        stderr(&out).contains("no live token uses the retired key"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        env.ok_json(&["instance", "get", "local"])["keys"]
            .as_array()
            .unwrap()
            .len(),
        4
    );
}

fn rotating_an_hmac_instance_changes_the_secret(env: &TestEnv) {
    with_acme(env);
    env.ok(&["instance", "create", "hs", "--alg", "HS512", "-q"]);
    let before = broker_conf(env, "hs")["tokenSecretKey"].clone();
    let rotated = env.ok_json(&["instance", "rotate-key", "hs"]);
    assert_eq!(rotated["algorithm"], "HS512", "the algorithm stays");
    let after = broker_conf(env, "hs")["tokenSecretKey"].clone();
    assert_ne!(before, after);
    env.ok(&["tenant", "create", "h1", "--instance", "hs", "-q"]);
    let token = env.ok(&["token", "create", "--tenant", "h1", "-q"]);
    assert_eq!(kid_of(&token), rotated["kid"].as_str().unwrap());
    expect_exit(&env.verify(&token, "--secret-key", &after), 0);
    expect_exit(&env.verify(&token, "--secret-key", &before), 4);
}

both_backends!(
    rotation_retires_the_old_key_and_names_its_tokens,
    rotating_an_hmac_instance_changes_the_secret,
);
