//! The conventions every command shares (DESIGN.md "Output contract", "Exit codes"):
//! data on stdout, everything else on stderr, JSON errors, --quiet, colour, closed pipes.

use crate::common::{TestEnv, expect_error, expect_exit, json, json_error, stderr, stdout};
use serde_json::Value;

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
    let out = env.run_env(&["jwt", "decode", "--bogus"], &[("TOK_OUTPUT", "json")]);
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

    let from_env = env.run_env(&["profile", "list"], &[("TOK_OUTPUT", "json")]);
    assert_eq!(json(&from_env), doc, "TOK_OUTPUT picks the format");
}

#[test]
fn completion_prints_a_script_for_every_shell() {
    let env = TestEnv::new();
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef tok"),
        ("fish", "complete -c tok"),
        ("powershell", "Register-ArgumentCompleter"),
        ("elvish", "edit:completion:arg-completer[tok]"),
    ] {
        let out = env.run(&["completion", shell]);
        expect_exit(&out, 0);
        assert!(stdout(&out).contains(marker), "{shell}");
        assert!(
            stdout(&out).contains("create-key-pair"),
            "{shell} knows the jwt verbs"
        );
        assert_eq!(stderr(&out), "");
    }
}

#[test]
fn a_broken_config_file_fails_only_the_commands_that_read_it() {
    let env = TestEnv::new();
    std::fs::create_dir_all(env.config_dir()).unwrap();
    std::fs::write(env.config_dir().join("config.toml"), "profiles = [not toml").unwrap();
    let out = env.run(&["profile", "list", "-o", "json"]);
    let body = json_error(&out);
    expect_exit(&out, 1);
    assert_eq!(body["code"], "internal");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("config.toml is not valid"),
        "{body}"
    );
    assert!(
        body["hint"].as_str().unwrap().starts_with("fix or remove "),
        "{body}"
    );
    // The offline toolkit never needs the config file.
    assert!(!env.ok(&["jwt", "create-secret-key"]).is_empty());
}
