//! `tok jwt create`: expiry, claims and headers. Keys and algorithms are in `jwt_create_keys`.

use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::common::{TestEnv, expect_error, expect_exit, json, stderr};
use crate::tokens::{now, part_json};

const THIRTY_DAYS: i64 = 30 * 86_400;

/// `tok jwt create … -o json EXTRA…` with the test secret; insists on success.
fn created(env: &TestEnv, extra: &[&str]) -> Value {
    let out = env.create(extra);
    expect_exit(&out, 0);
    json(&out)
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
    assert_eq!(stderr(&env.create(&[])), "", "nothing on stderr by default");

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
    let out = env.create(&["--expires", "never"]);
    expect_exit(&out, 0);
    let doc = json(&out);
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
            &env.create(&[&format!("--expires={bad}")]),
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
fn a_numeric_looking_kid_stays_a_string() {
    let env = TestEnv::new();
    let doc = created(&env, &["--header", "kid=2026", "--header", "n=7"]);
    assert_eq!(doc["header"]["kid"], json!("2026"));
    assert_eq!(doc["header"]["n"], json!(7));
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
        let message = expect_error(&env.create(&args), 2, "invalid_input");
        assert!(message.contains("would replace"), "{args:?}: {message}");
    }
    for header in ["alg=none", "typ=JWE"] {
        let message = expect_error(&env.create(&["--header", header]), 2, "invalid_input");
        assert!(message.contains("is not allowed"), "{message}");
    }
    for pair in ["novalue", "=v"] {
        let message = expect_error(&env.create(&["--claim", pair]), 2, "invalid_input");
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
