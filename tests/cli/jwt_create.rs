//! `tok jwt create`: expiry, claims and headers, algorithm choice, and every KEYREF form.

use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::common::{
    SECRET, TestEnv, b64, expect_error, expect_exit, now, part_json, path_str, stderr, stdout,
};

const THIRTY_DAYS: i64 = 30 * 86_400;

/// `tok jwt create --subject app-1 --secret-key <SECRET file> EXTRA… -o json`.
fn create(env: &TestEnv, extra: &[&str]) -> std::process::Output {
    let key = env.secret_file();
    let mut args = vec![
        "jwt",
        "create",
        "--subject",
        "app-1",
        "--secret-key",
        &key,
        "-o",
        "json",
    ];
    args.extend_from_slice(extra);
    env.run(&args)
}

fn created(env: &TestEnv, extra: &[&str]) -> Value {
    let out = create(env, extra);
    expect_exit(&out, 0);
    crate::common::json(&out)
}

/// Verifies `token` with `key` (a KEYREF) and returns `verified_with`.
fn verified_with(env: &TestEnv, token: &str, flag: &str, key: &str) -> String {
    let doc = env.ok_json(&["jwt", "verify", token, flag, key]);
    doc["verified_with"].as_str().unwrap().to_string()
}

#[test]
fn defaults_to_thirty_days_and_prints_the_token_alone() {
    let env = TestEnv::new();
    let doc = created(&env, &[]);
    let claims = &doc["claims"];
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        THIRTY_DAYS
    );
    assert_eq!(claims["sub"], "app-1");
    assert_eq!(doc["header"], json!({"alg": "HS256", "typ": "JWT"}));
    assert_eq!(doc["algorithm"], "HS256");
    let exp = OffsetDateTime::from_unix_timestamp(claims["exp"].as_i64().unwrap()).unwrap();
    assert_eq!(doc["expires_at"], exp.format(&Rfc3339).unwrap());
    let token = doc["token"].as_str().unwrap();
    assert_eq!(
        &part_json(token, 1),
        claims,
        "the JSON describes the token it carries"
    );
    assert_eq!(
        stderr(&create(&env, &[])),
        "",
        "nothing on stderr by default"
    );

    let token = env.mint(&["--secret-key", &env.secret_file()]);
    assert!(!token.contains(char::is_whitespace));
    let csv = env.ok(&[
        "jwt",
        "create",
        "--subject",
        "a",
        "--secret-key",
        &env.secret_file(),
        "-o",
        "csv",
    ]);
    assert!(csv.starts_with("token,algorithm,expires_at\neyJ"), "{csv}");
    let yaml = env.ok(&[
        "jwt",
        "create",
        "--subject",
        "a",
        "--secret-key",
        &env.secret_file(),
        "-o",
        "yaml",
    ]);
    assert!(yaml.contains("algorithm: HS256"), "{yaml}");
}

#[test]
fn never_means_no_exp_and_a_warning() {
    let env = TestEnv::new();
    let out = create(&env, &["--expires", "never"]);
    expect_exit(&out, 0);
    let doc = crate::common::json(&out);
    assert!(doc["claims"].get("exp").is_none(), "{doc}");
    assert_eq!(doc["expires_at"], Value::Null);
    assert!(
        stderr(&out).contains("warning: this token never expires"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn durations_and_timestamps_set_exp() {
    let env = TestEnv::new();
    for (input, secs) in [
        ("30m", 1800),
        ("12h", 43_200),
        ("7d", 604_800),
        ("2w", 1_209_600),
        ("1y", 31_536_000),
        ("1d12h", 129_600),
    ] {
        let claims = &created(&env, &["--expires", input])["claims"];
        assert_eq!(
            claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
            secs,
            "{input}"
        );
    }
    let at = now() + 400 * 86_400;
    let stamp = OffsetDateTime::from_unix_timestamp(at)
        .unwrap()
        .format(&Rfc3339)
        .unwrap();
    let doc = created(&env, &["--expires", &stamp]);
    assert_eq!(doc["claims"]["exp"], at);
    assert_eq!(doc["expires_at"], stamp.as_str());
}

#[test]
fn zero_negative_past_and_malformed_expiry_exit_2_naming_the_forms() {
    let env = TestEnv::new();
    for bad in [
        "0d",
        "0",
        "-1d",
        "2020-01-01T00:00:00Z",
        "soon",
        "7",
        "1x",
        "",
        "2030-13-01T00:00:00Z",
        "1001y",
    ] {
        let message = expect_error(
            &create(&env, &[&format!("--expires={bad}")]),
            2,
            "invalid_input",
        );
        for form in ["30m", "7d", "RFC 3339", "never"] {
            assert!(message.contains(form), "{bad:?}: {message}");
        }
    }
}

#[test]
fn claims_parse_as_json_when_they_can() {
    let env = TestEnv::new();
    let doc = created(
        &env,
        &[
            "--claim",
            "admin=true",
            "--claim",
            "name=bob",
            "--claim",
            "n=42",
            "--claim",
            r#"tier="gold""#,
            "--claim",
            "roles=[\"a\",\"b\"]",
            "--claim",
            r#"obj={"k":1}"#,
            "--claim",
            "empty=",
            "--claim",
            "eq=a=b",
            "--claim",
            "nbf=1",
            "--header",
            "kid=2026-11",
            "--header",
            "x5t=abc",
        ],
    );
    let claims = &doc["claims"];
    assert_eq!(claims["admin"], json!(true));
    assert_eq!(claims["name"], json!("bob"));
    assert_eq!(claims["n"], json!(42));
    assert_eq!(claims["tier"], json!("gold"));
    assert_eq!(claims["roles"], json!(["a", "b"]));
    assert_eq!(claims["obj"], json!({"k": 1}));
    assert_eq!(claims["empty"], json!(""));
    assert_eq!(claims["eq"], json!("a=b"));
    assert_eq!(claims["nbf"], json!(1));
    assert_eq!(
        doc["header"],
        json!({"alg": "HS256", "typ": "JWT", "kid": "2026-11", "x5t": "abc"})
    );
    assert_eq!(part_json(doc["token"].as_str().unwrap(), 0), doc["header"]);
}

#[test]
fn reserved_claims_and_headers_are_refused() {
    let env = TestEnv::new();
    for args in [
        vec!["--claim", "sub=root"],
        vec!["--claim", "iat=1"],
        vec!["--claim", "exp=99999999999"],
        vec!["--expires", "never", "--claim", "exp=1"],
        vec!["--audience", "a", "--claim", "aud=b"],
        vec!["--issuer", "a", "--claim", "iss=b"],
    ] {
        let message = expect_error(&create(&env, &args), 2, "invalid_input");
        assert!(message.contains("would replace"), "{args:?}: {message}");
    }
    for header in ["alg=none", "typ=JWE"] {
        let message = expect_error(&create(&env, &["--header", header]), 2, "invalid_input");
        assert!(message.contains("is not allowed"), "{message}");
    }
    for pair in ["novalue", "=v"] {
        let message = expect_error(&create(&env, &["--claim", pair]), 2, "invalid_input");
        assert!(message.contains("is not KEY=VALUE"), "{message}");
    }
    // Without --audience, an `aud` array is a claim like any other.
    assert_eq!(
        created(&env, &["--claim", r#"aud=["a","b"]"#])["claims"]["aud"],
        json!(["a", "b"])
    );
    let out = env.run(&[
        "jwt",
        "create",
        "--subject",
        " ",
        "--secret-key",
        &env.secret_file(),
    ]);
    expect_exit(&out, 2);
}

#[test]
fn the_hs_algorithm_follows_the_key_length() {
    let env = TestEnv::new();
    for (len, alg) in [
        (32, "HS256"),
        (40, "HS256"),
        (48, "HS384"),
        (63, "HS384"),
        (64, "HS512"),
        (100, "HS512"),
    ] {
        let key = format!("data:;base64,{}", b64(&vec![5u8; len]));
        let doc = env.ok_json(&["jwt", "create", "--subject", "a", "--secret-key", &key]);
        assert_eq!(doc["algorithm"], alg, "{len} bytes");
        assert_eq!(doc["header"]["alg"], alg);
        assert_eq!(
            verified_with(&env, doc["token"].as_str().unwrap(), "--secret-key", &key),
            alg
        );
    }
    let key = format!("data:;base64,{}", b64(&[5u8; 64]));
    let doc = env.ok_json(&[
        "jwt",
        "create",
        "--subject",
        "a",
        "--secret-key",
        &key,
        "--alg",
        "HS256",
    ]);
    assert_eq!(
        doc["algorithm"], "HS256",
        "a longer key may sign with a shorter hash"
    );

    let message = expect_error(&create(&env, &["--alg", "HS512"]), 2, "invalid_key");
    assert!(
        message.contains("HS512 needs an HMAC secret key of at least 64 bytes"),
        "{message}"
    );
    let short = format!("data:;base64,{}", b64(&[5u8; 31]));
    let out = env.run(&[
        "jwt",
        "create",
        "--subject",
        "a",
        "--secret-key",
        &short,
        "-o",
        "json",
    ]);
    let message = expect_error(&out, 2, "invalid_key");
    assert!(
        message.contains("31 bytes") && message.contains("at least 32"),
        "{message}"
    );
}

#[test]
fn alg_is_checked_against_the_key_type() {
    let env = TestEnv::new();
    let message = expect_error(&create(&env, &["--alg", "RS256"]), 2, "invalid_key");
    assert!(message.contains("RS256 needs an RSA key"), "{message}");
    let (rsa, _) = env.key_pair("RS256", "rsa");
    let (ec, _) = env.key_pair("ES256", "ec");
    for (key, alg, why) in [
        (&rsa, "HS256", "HMAC secret key"),
        (&rsa, "ES256", "an EC key"),
        (&ec, "ES384", "ES384 needs an EC key"),
        (&ec, "RS256", "RSA"),
    ] {
        let out = env.run(&[
            "jwt",
            "create",
            "--subject",
            "a",
            "--private-key",
            key,
            "--alg",
            alg,
            "-o",
            "json",
        ]);
        let message = expect_error(&out, 2, "invalid_key");
        assert!(
            message.starts_with("--alg: ") && message.contains(why),
            "{alg}: {message}"
        );
    }
    let out = env.run(&[
        "jwt",
        "create",
        "--subject",
        "a",
        "--private-key",
        &rsa,
        "--alg",
        "PS256",
    ]);
    expect_exit(&out, 2);
    assert!(
        stderr(&out).contains("accepted: HS256, HS384, HS512, RS256"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn every_keyref_form_signs_with_the_same_bytes() {
    let env = TestEnv::new();
    let path = env.secret_file();
    let data = format!("data:;base64,{}", b64(SECRET));
    for keyref in [
        format!("file://{path}"),
        data.clone(),
        "secret.key".to_string(),
        path.clone(),
        b64(SECRET),
    ] {
        let token = env.mint(&["--secret-key", &keyref]);
        assert_eq!(
            verified_with(&env, &token, "--secret-key", &data),
            "HS256",
            "{keyref}"
        );
    }
    // File bytes are used exactly as stored: a trailing newline is part of the key.
    let newline = path_str(&env.write("newline.key", &[SECRET.as_slice(), b"\n"].concat()));
    let token = env.mint(&["--secret-key", &newline]);
    let with_newline = format!("data:;base64,{}", b64(&[SECRET.as_slice(), b"\n"].concat()));
    assert_eq!(
        verified_with(&env, &token, "--secret-key", &with_newline),
        "HS256"
    );
    expect_error(
        &env.run(&["jwt", "verify", &token, "--secret-key", &data, "-o", "json"]),
        4,
        "bad_signature",
    );

    let (private, public) = env.key_pair("ES256", "ec");
    let der = std::fs::read(&private).unwrap();
    let pem_key = env.path().join("ec-pem.key");
    env.ok(&[
        "jwt",
        "create-key-pair",
        "--alg",
        "ES256",
        "--format",
        "pem",
        "--private-key",
        "ec-pem.key",
        "--public-key",
        "ec-pem.pub",
    ]);
    let pem_public = path_str(&env.path().join("ec-pem.pub"));
    for (keyref, public) in [
        (format!("file://{private}"), &public),
        (format!("data:;base64,{}", b64(&der)), &public),
        ("ec.key".to_string(), &public),
        (b64(&der), &public),
        (path_str(&pem_key), &pem_public),
    ] {
        let token = env.mint(&["--private-key", &keyref]);
        assert_eq!(
            verified_with(&env, &token, "--public-key", public),
            "ES256",
            "{keyref}"
        );
        assert_eq!(
            verified_with(&env, &token, "--public-key", &format!("file://{public}")),
            "ES256"
        );
    }
}

#[test]
fn bad_key_references_exit_2() {
    let env = TestEnv::new();
    let (_, public) = env.key_pair("RS256", "rsa");
    let pem = env.path().join("pub.pem");
    env.ok(&[
        "jwt",
        "create-key-pair",
        "--format",
        "pem",
        "--private-key",
        "p.pem",
        "--public-key",
        "pub.pem",
    ]);
    for (flag, keyref, why) in [
        (
            "--secret-key",
            "file://relative.key".to_string(),
            "absolute path",
        ),
        ("--secret-key", "./missing.key".to_string(), "no such file"),
        ("--private-key", public.clone(), "this is a public key"),
        ("--private-key", path_str(&pem), "this is a public key"),
        (
            "--private-key",
            "data:;base64,AAAA".to_string(),
            "not a private key",
        ),
    ] {
        let out = env.run(&[
            "jwt",
            "create",
            "--subject",
            "a",
            flag,
            &keyref,
            "-o",
            "json",
        ]);
        let message = expect_error(&out, 2, "invalid_key");
        assert!(
            message.starts_with(flag) && message.contains(why),
            "{keyref}: {message}"
        );
    }
    let out = env.run(&[
        "jwt",
        "create",
        "--subject",
        "a",
        "--secret-key",
        "k",
        "--private-key",
        "k",
    ]);
    expect_exit(&out, 2); // one key only
    assert!(stdout(&out).is_empty());
}
