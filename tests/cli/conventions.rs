//! The conventions every command shares (DESIGN.md "Output contract", "Exit codes"):
//! data on stdout, everything else on stderr, JSON errors, --quiet, colour, closed pipes.

use std::fmt::Write as _;
use std::process::Stdio;

use serde_json::Value;

use crate::common::{
    TestEnv, expect_error, expect_exit, has_ansi, json, json_error, stderr, stdout,
};

#[test]
fn data_goes_to_stdout_and_warnings_to_stderr() {
    let env = TestEnv::new();
    let key = env.secret_file();
    let out = env.run(&[
        "jwt",
        "create",
        "--subject",
        "a",
        "--secret-key",
        &key,
        "--expires",
        "never",
    ]);
    expect_exit(&out, 0);
    let token = stdout(&out);
    assert_eq!(
        token.lines().count(),
        1,
        "the token alone on stdout: {token}"
    );
    assert_eq!(token.split('.').count(), 3, "{token}");
    assert!(!token.contains("warning"), "{token}");
    let err = stderr(&out);
    assert!(
        err.starts_with("warning: ") && err.contains("never expires"),
        "{err}"
    );
}

#[test]
fn quiet_silences_progress_and_hints_but_not_warnings() {
    let env = TestEnv::new();
    let out = env.run(&["jwt", "create-secret-key", "--output", "a.key"]);
    expect_exit(&out, 0);
    let err = stderr(&out);
    assert!(
        err.contains("wrote a 32-byte HS256 secret key") && err.contains("\nhint: "),
        "{err}"
    );
    assert!(
        out.stdout.is_empty(),
        "key bytes went to the file, not stdout"
    );

    let out = env.run(&["jwt", "create-secret-key", "--output", "b.key", "--quiet"]);
    expect_exit(&out, 0);
    assert_eq!(stderr(&out), "", "--quiet prints nothing on success");

    let out = env.run(&["profile", "set", "staging", "org=acme", "-q"]);
    expect_exit(&out, 0);
    assert_eq!(stderr(&out), "");

    let key = env.secret_file();
    let out = env.run(&[
        "jwt",
        "create",
        "--subject",
        "a",
        "--secret-key",
        &key,
        "--expires",
        "never",
        "-q",
    ]);
    expect_exit(&out, 0);
    assert!(
        stderr(&out).contains("warning: "),
        "warnings survive --quiet"
    );
}

#[test]
fn errors_have_a_message_and_a_hint_and_json_with_o_json() {
    let env = TestEnv::new();
    let out = env.run(&["profile", "use", "nope"]);
    expect_exit(&out, 3);
    let err = stderr(&out);
    assert!(
        err.starts_with("error: profile 'nope' does not exist\nhint: "),
        "{err}"
    );
    assert!(!err.contains('{'), "no JSON without -o json: {err}");

    let out = env.run(&["profile", "use", "nope", "-o", "json"]);
    let body = json_error(&out);
    expect_exit(&out, 3);
    assert_eq!(body["code"], "profile_not_found");
    assert_eq!(body["message"], "profile 'nope' does not exist");
    assert!(
        body["hint"].as_str().unwrap().contains("tok profile list"),
        "{body}"
    );

    // A JSON error with no hint says so with null.
    let out = env.run(&["jwt", "decode", "a.b", "-o", "json"]);
    let body = json_error(&out);
    assert_eq!(body["hint"], Value::Null);
}

#[test]
fn usage_errors_exit_2_with_json_on_request() {
    let env = TestEnv::new();
    for args in [
        vec!["jwt", "decode", "--bogus"],
        vec!["nonsense"],
        vec!["jwt", "create", "--subject", "x"], // no key
        vec!["jwt", "verify", "x.y.z"],          // no key
        vec!["completion", "tcsh"],
    ] {
        let out = env.run(&args);
        expect_exit(&out, 2);
        assert!(
            stderr(&out).contains("error:"),
            "{args:?}: {}",
            stderr(&out)
        );

        let mut with_json = args.clone();
        with_json.extend(["-o", "json"]);
        let body = json_error(&env.run(&with_json));
        assert_eq!(body["code"], "invalid_input", "{args:?}");
        assert!(body["hint"].as_str().unwrap().contains("--help"), "{body}");
    }
    // TOK_OUTPUT=json asks for JSON errors too.
    let out = env
        .tok()
        .args(["jwt", "decode", "--bogus"])
        .env("TOK_OUTPUT", "json")
        .output()
        .unwrap();
    expect_error(&out, 2, "invalid_input");
}

#[test]
fn help_and_version_exit_0_and_bad_output_format_exits_2() {
    let env = TestEnv::new();
    let help = env.ok(&["--help"]);
    assert!(
        help.contains("Exit status:") && help.contains("130"),
        "{help}"
    );
    assert!(env.ok(&["--version"]).starts_with("tok "));
    let out = env.run(&["profile", "list", "-o", "xml"]);
    expect_exit(&out, 2);
    assert!(
        stderr(&out).contains("use table, json, yaml or csv"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn every_output_format_for_a_list() {
    let env = TestEnv::new();
    env.ok(&[
        "profile",
        "set",
        "staging",
        "server=https://tok.example.com",
    ]);
    let doc = env.ok_json(&["profile", "list"]);
    assert_eq!(doc.as_array().map(Vec::len), Some(2), "{doc}");

    let yaml: Value = serde_yaml_ng::from_str(&env.ok(&["profile", "list", "-o", "yaml"])).unwrap();
    assert_eq!(yaml, doc, "YAML carries the same document as JSON");

    let csv = env.ok(&["profile", "list", "-o", "csv"]);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "current,name,mode,server,org,instance,output");
    assert_eq!(lines[2], "false,staging,server,https://tok.example.com,,,");

    let table = env.ok(&["profile", "list"]);
    assert!(table.starts_with("CURRENT  NAME"), "{table}");
    assert!(
        table.contains("staging  server    https://tok.example.com"),
        "{table}"
    );

    let from_env = env
        .tok()
        .args(["profile", "list"])
        .env("TOK_OUTPUT", "json")
        .output()
        .unwrap();
    assert_eq!(json(&from_env), doc, "TOK_OUTPUT picks the format");
}

#[test]
fn colour_only_with_color_always_when_not_a_terminal() {
    let env = TestEnv::new();
    let plain = env.run(&["profile", "list"]);
    assert!(!has_ansi(&stdout(&plain)), "no colour when piped");
    let never = env.run(&["profile", "list", "--color", "never"]);
    assert!(!has_ansi(&stdout(&never)));
    let no_color = env
        .tok()
        .args(["profile", "list"])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(!has_ansi(&stdout(&no_color)));

    let always = env.run(&["profile", "list", "--color", "always"]);
    assert!(has_ansi(&stdout(&always)), "{}", stdout(&always));
    let failed = env.run(&["profile", "use", "nope", "--color", "always"]);
    assert!(
        stderr(&failed).starts_with("\x1b[1;31merror:\x1b[0m "),
        "{}",
        stderr(&failed)
    );
    let plain_err = env.run(&["profile", "use", "nope"]);
    assert!(!has_ansi(&stderr(&plain_err)));
    // JSON is never painted.
    let doc = env.run(&["profile", "list", "-o", "json", "--color", "always"]);
    assert!(!has_ansi(&stdout(&doc)));
}

#[test]
fn colour_on_a_terminal_unless_no_color_or_color_never() {
    let env = TestEnv::new();
    let Some(auto) = env.pty(&["profile", "list"], "", &[]) else {
        return;
    };
    expect_exit(&auto, 0);
    assert!(
        has_ansi(&stdout(&auto)),
        "a terminal gets colour: {}",
        stdout(&auto)
    );
    let no_color = env
        .pty(&["profile", "list"], "", &[("NO_COLOR", "1")])
        .unwrap();
    expect_exit(&no_color, 0);
    assert!(
        stdout(&no_color).contains("CURRENT"),
        "{}",
        stdout(&no_color)
    );
    assert!(
        !has_ansi(&stdout(&no_color)),
        "NO_COLOR is honoured: {}",
        stdout(&no_color)
    );
    let never = env
        .pty(&["profile", "list", "--color", "never"], "", &[])
        .unwrap();
    assert!(!has_ansi(&stdout(&never)), "{}", stdout(&never));
}

/// Runs `tok ARGS | head -c1` in sh and returns (tok's exit code, sh's stderr).
fn into_head(env: &TestEnv, args: &[&str]) -> (String, String) {
    let out = env
        .command("sh")
        .arg("-c")
        .arg(r#"{ "$0" "$@"; echo $? > tok.rc; } | head -c1 > /dev/null"#)
        .arg(crate::common::TOK)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("sh runs");
    let rc = std::fs::read_to_string(env.path().join("tok.rc")).expect("tok.rc written");
    (rc.trim().to_string(), stderr(&out))
}

#[test]
fn a_closed_pipe_exits_quietly() {
    let env = TestEnv::new();
    let (rc, err) = into_head(&env, &["completion", "bash"]);
    assert_eq!(rc, "0", "{err}");
    assert!(!err.contains("error"), "{err}");

    // Far more than a pipe buffer, so the reader is sure to be gone while tok still writes.
    let mut config = String::new();
    for i in 0..5000 {
        let host = "x".repeat(100);
        writeln!(
            config,
            "[profiles.p{i:05}]\nserver = \"https://{host}.example.com\"\n"
        )
        .unwrap();
    }
    std::fs::create_dir_all(env.config_dir()).unwrap();
    std::fs::write(env.config_dir().join("config.toml"), config).unwrap();
    for format in ["table", "json"] {
        let (rc, err) = into_head(&env, &["profile", "list", "-o", format]);
        assert_eq!(rc, "0", "{format}: {err}");
        assert!(!err.contains("error"), "{format}: {err}");
    }
}

#[test]
fn stdout_closed_before_the_first_write_exits_quietly() {
    let env = TestEnv::new();
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader); // every write now fails with EPIPE, whatever the output size
    let out = env
        .command(crate::common::TOK)
        .args(["completion", "bash"])
        .stdin(Stdio::null())
        .stdout(writer)
        .output()
        .expect("tok runs");
    expect_exit(&out, 0);
    assert_eq!(stderr(&out), "", "nothing to say about a reader that left");
}
