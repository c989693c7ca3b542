//! `tok jwt decode`: every way in, every output format, and malformed input naming
//! the part that is wrong.

use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::common::{TestEnv, expect_error, expect_exit, json, stderr, stdout};
use crate::tokens::{b64url, hs256, now};

fn rfc3339(ts: i64) -> String {
    OffsetDateTime::from_unix_timestamp(ts)
        .unwrap()
        .format(&Rfc3339)
        .unwrap()
}

#[test]
fn reads_the_argument_stdin_and_a_file_trimming_whitespace_and_bearer() {
    let env = TestEnv::new();
    let exp = now() + 3600;
    let token = hs256(&json!({"sub": "app-1", "aud": "urn:pulsar:prod", "exp": exp}));
    let expected = env.ok_json(&["jwt", "decode", &token]);
    assert_eq!(expected["claims"]["sub"], "app-1");

    let pasted = format!("  Bearer {token}\n\n");
    let file = env.write("token.txt", pasted.as_bytes());
    let runs = [
        env.run(&["jwt", "decode", &format!("Bearer {token}"), "-o", "json"]),
        env.run(&["jwt", "decode", &format!("bearer  {token} "), "-o", "json"]),
        env.run_stdin(&["jwt", "decode", "-", "-o", "json"], &pasted),
        env.run_stdin(&["jwt", "decode", "-o", "json"], &pasted), // piped stdin, no argument
        env.run(&[
            "jwt",
            "decode",
            "--file",
            file.to_str().unwrap(),
            "-o",
            "json",
        ]),
    ];
    for out in &runs {
        expect_exit(out, 0);
        assert_eq!(json(out), expected);
    }
}

#[test]
fn json_has_header_claims_expires_at_and_expired() {
    let env = TestEnv::new();
    let exp = now() + 3600;
    let doc = env.ok_json(&["jwt", "decode", &hs256(&json!({"sub": "a", "exp": exp}))]);
    assert_eq!(doc["header"], json!({"alg": "HS256", "typ": "JWT"}));
    assert_eq!(doc["claims"], json!({"sub": "a", "exp": exp}));
    assert_eq!(doc["expires_at"], rfc3339(exp));
    assert_eq!(doc["expired"], false);

    let past = now() - 1;
    let doc = env.ok_json(&["jwt", "decode", &hs256(&json!({"sub": "a", "exp": past}))]);
    assert_eq!(doc["expires_at"], rfc3339(past));
    assert_eq!(
        doc["expired"], true,
        "decode reports expiry; it still exits 0"
    );

    let doc = env.ok_json(&["jwt", "decode", &hs256(&json!({"sub": "a"}))]);
    assert_eq!(
        doc["expires_at"],
        Value::Null,
        "no exp: null, never expires"
    );
    assert_eq!(doc["expired"], false);

    // An exp that is not a NumericDate is shown, not trusted.
    let doc = env.ok_json(&["jwt", "decode", &hs256(&json!({"sub": "a", "exp": "soon"}))]);
    assert_eq!(doc["claims"]["exp"], "soon");
    assert_eq!(doc["expires_at"], Value::Null);
}

#[test]
fn table_yaml_and_csv_say_what_the_claims_mean() {
    let env = TestEnv::new();
    let token = hs256(&json!({"sub": "app-1", "aud": "urn:x", "exp": now() - 7200}));
    let table = env.ok(&["jwt", "decode", &token]);
    for expected in [
        "Header",
        "Claims",
        "subject: the role",
        "audience",
        "EXPIRED 2 hours ago",
        "not checked",
    ] {
        assert!(table.contains(expected), "{expected:?} in:\n{table}");
    }
    let never = env.ok(&["jwt", "decode", &hs256(&json!({"sub": "a"}))]);
    assert!(never.contains("never expires"), "{never}");
    let bad = env.ok(&["jwt", "decode", &hs256(&json!({"sub": "a", "nbf": "x"}))]);
    assert!(bad.contains("not a NumericDate"), "{bad}");

    let yaml: Value =
        serde_yaml_ng::from_str(&env.ok(&["jwt", "decode", &token, "-o", "yaml"])).unwrap();
    assert_eq!(yaml, env.ok_json(&["jwt", "decode", &token]));

    let csv = env.ok(&["jwt", "decode", &token, "-o", "csv"]);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "subject,audience,expires_at,expired");
    assert!(
        lines[1].starts_with("app-1,urn:x,") && lines[1].ends_with(",true"),
        "{csv}"
    );
}

#[test]
fn malformed_tokens_exit_2_naming_the_part() {
    let env = TestEnv::new();
    let obj = b64url(b"{}");
    let sig = b64url(b"sig");
    let cases = [
        ("a.b".to_string(), "three base64url parts"),
        ("a.b.c.d".to_string(), "but this has 4"),
        ("justonepart".to_string(), "but this has 1"),
        (
            format!("!!.{obj}.{sig}"),
            "header (part 1) is not valid base64url",
        ),
        (
            format!("{obj}.!!.{sig}"),
            "payload (part 2) is not valid base64url",
        ),
        (
            format!("{obj}.{obj}.!!"),
            "signature (part 3) is not valid base64url",
        ),
        (
            format!("{obj}.{obj}.a+b/"),
            "signature (part 3) is not valid base64url",
        ),
        (
            format!("{}.{obj}.{sig}", b64url(b"not json")),
            "header (part 1) is not valid JSON",
        ),
        (
            format!("{obj}.{}.{sig}", b64url(b"{\"sub\":")),
            "payload (part 2) is not valid JSON",
        ),
        (format!(".{obj}.{sig}"), "header (part 1) is not valid JSON"),
        (
            format!("{}.{obj}.{sig}", b64url(b"[1]")),
            "header (part 1) is not a JSON object",
        ),
        (
            format!("{obj}.{}.{sig}", b64url(b"\"app\"")),
            "payload (part 2) is not a JSON object",
        ),
        (
            format!("{obj}.{}.{sig}", b64url(b"42")),
            "payload (part 2) is not a JSON object",
        ),
        (" \n ".to_string(), "no token given"),
    ];
    for (token, why) in cases {
        let message = expect_error(
            &env.run(&["jwt", "decode", &token, "-o", "json"]),
            2,
            "malformed_token",
        );
        assert!(message.contains(why), "{token:?}: {message}");
        // Table output says the same on stderr, and prints no data.
        let out = env.run(&["jwt", "decode", &token]);
        expect_exit(&out, 2);
        assert!(stdout(&out).is_empty());
        assert!(stderr(&out).starts_with("error: malformed token: "));
    }
}

#[test]
fn missing_input_is_a_usage_error() {
    let env = TestEnv::new();
    let out = env.run_stdin(&["jwt", "decode", "-", "-o", "json"], "  \n");
    let message = expect_error(&out, 2, "malformed_token");
    assert!(message.contains("no token given"), "{message}");

    let out = env.run(&["jwt", "decode", "--file", "missing.txt", "-o", "json"]);
    let message = expect_error(&out, 2, "invalid_input");
    assert!(
        message.contains("cannot read token file missing.txt"),
        "{message}"
    );

    let out = env.run(&["jwt", "decode", "a.b.c", "--file", "t.txt"]);
    expect_exit(&out, 2); // a token and --file conflict
}
