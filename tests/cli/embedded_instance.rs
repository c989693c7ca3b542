//! `tok instance create|list|get|delete|public-key|broker-config|rotate-key` in table and
//! JSON: name rules, unknown and duplicate names, the cascade and confirmation rules.

use crate::both_backends;
use crate::common::{TestEnv, expect_error, expect_exit, path_str, stderr, stdout};
use crate::embedded_helpers::{
    assert_fields, broker_conf, data_url_bytes, expect_hint, expect_unconfirmed, jwt_parts,
    new_token, tenant_names, token_names, with_acme,
};

const INSTANCE_FIELDS: [&str; 6] = [
    "name",
    "algorithm",
    "audience",
    "issuer",
    "kid",
    "created_at",
];

fn instance_names(env: &TestEnv) -> Vec<String> {
    let list = env.ok_json(&["instance", "list"]);
    let names = list.as_array().unwrap().iter();
    names
        .map(|i| i["name"].as_str().unwrap().to_string())
        .collect()
}

fn create_list_get_in_table_and_json(env: &TestEnv) {
    let created = env.ok_json(&[
        "instance",
        "create",
        "prod",
        "--alg",
        "ES384",
        "--audience",
        "urn:pulsar:prod",
        "--issuer",
        "https://tok.example.com",
    ]);
    assert_fields(&created, &INSTANCE_FIELDS);
    assert_eq!(created["algorithm"], "ES384");
    assert_eq!(created["audience"], "urn:pulsar:prod");
    assert_eq!(created["issuer"], "https://tok.example.com");
    assert!(created["kid"].as_str().unwrap().starts_with("prod-"));

    let mut names = instance_names(env);
    names.sort();
    assert_eq!(names, ["local", "prod"], "local was created on first use");
    let local = env.ok_json(&["instance", "get", "local"]);
    assert_eq!(local["algorithm"], "RS256");
    assert_eq!(local["audience"], "urn:tok:local:local");
    assert!(local["issuer"].is_null());
    let keys = local["keys"].as_array().expect("get adds keys");
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0]["kid"], local["kid"]);
    assert!(keys[0]["retired_at"].is_null());

    let table = env.ok(&["instance", "list"]);
    for word in [
        "NAME",
        "ALGORITHM",
        "prod",
        "ES384",
        "urn:pulsar:prod",
        "local",
        "RS256",
    ] {
        assert!(table.contains(word), "{word}: {table}");
    }
    let table = env.ok(&["instance", "get", "prod"]);
    assert!(
        table.contains("https://tok.example.com") && table.contains("active"),
        "{table}"
    );

    env.ok(&["tenant", "create", "acme", "--instance", "prod", "-q"]);
    let token = new_token(env, &["--tenant", "acme"]);
    assert_eq!(token["instance"], "prod");
    let (header, claims) = jwt_parts(token["token"].as_str().unwrap());
    assert_eq!(header["alg"], "ES384");
    assert_eq!(header["kid"], created["kid"]);
    assert_eq!(claims["aud"], "urn:pulsar:prod");
    assert_eq!(claims["iss"], "https://tok.example.com");
}

fn bad_names_algorithms_and_duplicates(env: &TestEnv) {
    let out = env.run(&["instance", "create", "dup", "--alg", "HS256"]);
    expect_exit(&out, 0);
    assert!(stdout(&out).contains("HS256") && stdout(&out).contains("dup-"));
    assert!(
        stderr(&out).contains("tok instance broker-config dup"),
        "{}",
        stderr(&out)
    );
    for bad in ["Prod", "-x", "a_b", "", &"x".repeat(64)] {
        let out = env.run(&["instance", "create", bad, "-o", "json"]);
        expect_error(&out, 2, "invalid_input");
    }
    let out = env.run(&["instance", "create", "x", "--alg", "PS256"]);
    expect_exit(&out, 2);
    let out = env.run(&["instance", "create", "local", "-o", "json"]);
    expect_hint(&out, 5, "conflict", "tok instance list");
    let out = env.run(&["instance", "create", "dup", "--alg", "HS256", "-o", "json"]);
    expect_error(&out, 5, "conflict");
    assert_eq!(instance_names(env).len(), 2);
}

fn unknown_instance_is_not_found_with_a_hint(env: &TestEnv) {
    for verb in ["get", "delete", "public-key", "broker-config", "rotate-key"] {
        let out = env.run(&["instance", verb, "nope", "--yes", "-o", "json"]);
        expect_hint(&out, 3, "not_found", "tok instance create nope");
    }
    let out = env.run(&["instance", "get", "nope"]);
    expect_exit(&out, 3);
    assert!(stderr(&out).contains("hint: create it with `tok instance create nope`"));
}

fn delete_needs_confirmation_and_refuses_while_tenants_exist(env: &TestEnv) {
    with_acme(env);
    env.ok(&["instance", "create", "prod", "--alg", "HS256", "-q"]);
    expect_unconfirmed(&env.run(&["instance", "delete", "prod", "-o", "json"]));
    expect_unconfirmed(&env.run(&["instance", "delete", "prod", "--no-input", "-o", "json"]));
    assert_eq!(instance_names(env), ["local", "prod"], "nothing deleted");

    env.ok(&["tenant", "create", "p1", "--instance", "prod", "-q"]);
    new_token(env, &["--tenant", "p1", "--name", "ci"]);
    for extra in [&["--yes"][..], &[]] {
        let mut args = vec!["instance", "delete", "prod", "-o", "json"];
        args.extend_from_slice(extra);
        let out = env.run(&args);
        let message = expect_error(&out, 5, "conflict");
        assert!(message.contains("p1"), "names the tenants: {message}");
    }
    expect_unconfirmed(&env.run(&["instance", "delete", "prod", "--cascade", "-o", "json"]));
    assert_eq!(instance_names(env), ["local", "prod"]);
    assert_eq!(tenant_names(env), ["acme", "p1"]);
    assert_eq!(token_names(env, &[]), ["ci"]);

    let out = env.run(&["instance", "delete", "prod", "--cascade", "--yes"]);
    expect_exit(&out, 0);
    assert!(stderr(&out).contains("1 tenant(s)"), "{}", stderr(&out));
    assert_eq!(instance_names(env), ["local"]);
    assert_eq!(tenant_names(env), ["acme"], "only prod's tenants went");
    assert!(token_names(env, &["--all"]).is_empty());

    env.ok(&["instance", "create", "empty", "--alg", "ES256", "-q"]);
    expect_exit(&env.run(&["instance", "delete", "empty", "--yes"]), 0);
    assert_eq!(instance_names(env), ["local"]);
}

fn public_key_formats_match_broker_config(env: &TestEnv) {
    env.ok(&["instance", "create", "ec", "--alg", "ES256", "-q"]);
    for name in ["local", "ec"] {
        let conf = broker_conf(env, name);
        let der = data_url_bytes(&conf["tokenPublicKey"]);
        let data_url = env.ok(&["instance", "public-key", name, "--format", "data-url"]);
        assert_eq!(data_url, conf["tokenPublicKey"]);
        let pem_text = env.ok(&["instance", "public-key", name, "--format", "pem"]);
        let pem = pem::parse(&pem_text).expect("PEM");
        assert_eq!(pem.tag(), "PUBLIC KEY");
        assert_eq!(pem.contents(), der.as_slice());
        let file = path_str(&env.path().join(format!("{name}.der")));
        let out = env.run(&[
            "instance",
            "public-key",
            name,
            "--format",
            "der",
            "--output",
            &file,
        ]);
        expect_exit(&out, 0);
        assert!(stdout(&out).is_empty(), "the key went to the file");
        assert_eq!(std::fs::read(&file).unwrap(), der);
        let jwk = env.ok_json(&["instance", "public-key", name, "--format", "jwk"]);
        let instance = env.ok_json(&["instance", "get", name]);
        assert_eq!(jwk["kid"], instance["kid"]);
        assert_eq!(jwk["alg"], instance["algorithm"]);
    }
    env.ok(&["instance", "create", "hs", "--alg", "HS512", "-q"]);
    let out = env.run(&["instance", "public-key", "hs", "-o", "json"]);
    let message = expect_error(&out, 2, "invalid_input");
    assert!(message.contains("broker-config"), "{message}");
}

fn broker_config_prints_the_broker_conf_lines(env: &TestEnv) {
    env.ok(&[
        "instance",
        "create",
        "hs",
        "--alg",
        "HS384",
        "--audience",
        "aud-1",
        "-q",
    ]);
    let rs = env.ok(&["instance", "broker-config", "local"]);
    let keys: Vec<&str> = rs.lines().map(|l| l.split('=').next().unwrap()).collect();
    assert_eq!(
        keys,
        [
            "authenticationEnabled",
            "authenticationProviders",
            "tokenPublicKey",
            "tokenPublicAlg",
            "tokenAudienceClaim",
            "tokenAudience"
        ]
    );
    let conf = broker_conf(env, "local");
    assert_eq!(conf["authenticationEnabled"], "true");
    assert_eq!(
        conf["authenticationProviders"],
        "org.apache.pulsar.broker.authentication.AuthenticationProviderToken"
    );
    assert_eq!(conf["tokenPublicAlg"], "RS256");
    assert_eq!(conf["tokenAudienceClaim"], "aud");
    assert_eq!(conf["tokenAudience"], "urn:tok:local:local");

    let hs = broker_conf(env, "hs");
    assert!(!hs.contains_key("tokenPublicKey") && !hs.contains_key("tokenPublicAlg"));
    assert_eq!(
        data_url_bytes(&hs["tokenSecretKey"]).len(),
        48,
        "HS384: 48 raw bytes"
    );
    assert_eq!(hs["tokenAudience"], "aud-1");
    let lines = env.ok_json(&["instance", "broker-config", "hs"]);
    let text = env.ok(&["instance", "broker-config", "hs"]);
    let joined: Vec<&str> = lines
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert_eq!(joined.join("\n"), text, "JSON: the same lines as an array");
}

both_backends!(
    create_list_get_in_table_and_json,
    bad_names_algorithms_and_duplicates,
    unknown_instance_is_not_found_with_a_hint,
    delete_needs_confirmation_and_refuses_while_tenants_exist,
    public_key_formats_match_broker_config,
    broker_config_prints_the_broker_conf_lines,
);
