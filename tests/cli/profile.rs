//! `tok profile list|show|use|set|delete`, `--profile` / `TOK_PROFILE`, a profile's
//! default output, and a config file that never holds a secret.

use serde_json::{Value, json};
use tok::credentials::{Credentials, StoreKind};

use crate::common::{TestEnv, expect_error, expect_exit, hs256, json_error, stderr};

fn config_text(env: &TestEnv) -> String {
    std::fs::read_to_string(env.config_dir().join("config.toml")).unwrap_or_default()
}

fn names(list: &Value) -> Vec<(String, bool)> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_string(),
                p["current"].as_bool().unwrap(),
            )
        })
        .collect()
}

#[test]
fn local_is_always_there_and_current_by_default() {
    let env = TestEnv::new();
    let list = env.ok_json(&["profile", "list"]);
    assert_eq!(
        list,
        json!([{"name": "local", "current": true, "mode": "embedded", "server": null,
                "org": null, "instance": null, "output": null}])
    );
    let table = env.ok(&["profile", "list"]);
    assert!(
        table
            .lines()
            .nth(1)
            .unwrap()
            .starts_with("*        local  embedded"),
        "{table}"
    );
    assert_eq!(env.ok_json(&["profile", "show"])["name"], "local");
    assert!(
        !env.config_dir().join("config.toml").exists(),
        "reading writes nothing"
    );
}

#[test]
fn set_creates_updates_and_unsets() {
    let env = TestEnv::new();
    let out = env.run(&[
        "profile",
        "set",
        "staging",
        "server=https://tok.example.com/",
        "org=acme",
        "instance=eu",
        "output=yaml",
    ]);
    expect_exit(&out, 0);
    let err = stderr(&out);
    assert!(
        err.contains("created profile 'staging'")
            && err.contains("hint: make it current with `tok profile use staging`"),
        "{err}"
    );
    let shown = env.ok_json(&["profile", "show", "staging"]);
    assert_eq!(
        shown,
        json!({"name": "staging", "current": false, "mode": "server", "server": "https://tok.example.com",
               "org": "acme", "instance": "eu", "output": "yaml"})
    );
    let out = env.run(&["profile", "set", "staging", "org=", "output=JSON"]);
    assert!(
        stderr(&out).contains("updated profile 'staging'"),
        "{}",
        stderr(&out)
    );
    let shown = env.ok_json(&["profile", "show", "staging"]);
    assert_eq!(shown["org"], Value::Null);
    assert_eq!(shown["output"], "json");

    let config: toml::Table = toml::from_str(&config_text(&env)).expect("config.toml is TOML");
    assert_eq!(
        config["profiles"]["staging"]["server"].as_str(),
        Some("https://tok.example.com")
    );
    let table = env.ok(&["profile", "show", "staging", "-o", "table"]);
    assert!(
        table.contains("server:    https://tok.example.com"),
        "{table}"
    );
}

#[test]
fn set_rejects_bad_keys_values_and_names() {
    let env = TestEnv::new();
    let cases = [
        (
            vec!["staging", "token=abc123"],
            "unknown profile setting 'token'; settings are server, org, instance, output",
        ),
        (
            vec!["staging", "server=ftp://tok.example.com"],
            "use an http:// or https:// URL",
        ),
        (
            vec!["staging", "server=tok.example.com"],
            "use an http:// or https:// URL",
        ),
        (
            vec!["staging", "output=xml"],
            "use table, json, yaml or csv",
        ),
        (vec!["staging", "org"], "is not KEY=VALUE"),
        (vec!["Staging", "org=a"], "invalid profile name"),
        (vec!["-x", "org=a"], ""), // clap: looks like a flag
        (
            vec!["local", "server=http://127.0.0.1:8420"],
            "cannot have a server",
        ),
    ];
    for (args, why) in cases {
        let mut full = vec!["profile", "set"];
        full.extend(&args);
        full.extend(["-o", "json"]);
        let out = env.run(&full);
        expect_exit(&out, 2);
        let message = json_error(&out)["message"].as_str().unwrap().to_string();
        assert!(message.contains(why), "{args:?}: {message}");
    }
    let out = env.run(&["profile", "set", "local", "server=http://x", "-o", "json"]);
    assert!(
        json_error(&out)["hint"]
            .as_str()
            .unwrap()
            .contains("tok profile set NAME")
    );
    // Nothing was saved by any of them.
    expect_error(
        &env.run(&["profile", "show", "staging", "-o", "json"]),
        3,
        "profile_not_found",
    );
    assert!(!config_text(&env).contains("abc123"));
    env.ok(&["profile", "set", "local", "org=acme"]); // local takes everything but a server
}

#[test]
fn use_switches_the_current_profile() {
    let env = TestEnv::new();
    env.ok(&[
        "profile",
        "set",
        "staging",
        "server=https://tok.example.com",
    ]);
    let out = env.run(&["profile", "use", "staging"]);
    expect_exit(&out, 0);
    assert!(stderr(&out).contains("now using profile 'staging'"));
    assert_eq!(
        names(&env.ok_json(&["profile", "list"])),
        [("local".into(), false), ("staging".into(), true)]
    );
    assert_eq!(env.ok_json(&["profile", "show"])["name"], "staging");

    let out = env.run(&["profile", "use", "prod", "-o", "json"]);
    let body = json_error(&out);
    expect_exit(&out, 3);
    assert_eq!(body["code"], "profile_not_found");
    assert!(
        body["hint"]
            .as_str()
            .unwrap()
            .contains("tok profile set prod server=URL"),
        "{body}"
    );
    assert_eq!(
        env.ok_json(&["profile", "show"])["name"],
        "staging",
        "a failed use changes nothing"
    );

    env.ok(&["profile", "use", "local"]);
    assert_eq!(
        names(&env.ok_json(&["profile", "list"]))[0],
        ("local".into(), true)
    );
}

#[test]
fn profile_and_tok_profile_pick_a_profile_for_one_command() {
    let env = TestEnv::new();
    env.ok(&["profile", "set", "ci", "server=https://ci.example.com"]);
    assert_eq!(
        env.ok_json(&["--profile", "ci", "profile", "show"])["name"],
        "ci"
    );
    let out = env
        .tok()
        .args(["profile", "show", "-o", "json"])
        .env("TOK_PROFILE", "ci")
        .output()
        .unwrap();
    assert_eq!(
        crate::common::json(&out)["server"],
        "https://ci.example.com"
    );
    // --profile beats TOK_PROFILE; neither changes the saved current profile.
    let out = env
        .tok()
        .args(["--profile", "local", "profile", "show", "-o", "json"])
        .env("TOK_PROFILE", "ci")
        .output()
        .unwrap();
    assert_eq!(crate::common::json(&out)["name"], "local");
    assert_eq!(
        names(&env.ok_json(&["profile", "list"]))[0],
        ("local".into(), true)
    );
    expect_error(
        &env.run(&["--profile", "nope", "profile", "show", "-o", "json"]),
        3,
        "profile_not_found",
    );
}

#[test]
fn a_profile_output_setting_is_the_default_format() {
    let env = TestEnv::new();
    let token = hs256(&json!({"sub": "a"}));
    env.ok(&["profile", "set", "local", "output=json"]);
    let doc: Value = serde_json::from_str(&env.ok(&["profile", "list"])).expect("JSON by default");
    assert!(doc.is_array());
    let decoded: Value = serde_json::from_str(&env.ok(&["jwt", "decode", &token])).unwrap();
    assert_eq!(decoded["claims"]["sub"], "a");
    assert!(
        env.ok(&["profile", "list", "-o", "table"])
            .starts_with("CURRENT"),
        "-o wins"
    );
    // Errors follow the profile's format too.
    let out = env.run(&["profile", "use", "nope"]);
    assert_eq!(json_error(&out)["code"], "profile_not_found");

    env.ok(&["profile", "set", "ci", "output=csv"]);
    let csv = env.ok(&["--profile", "ci", "jwt", "decode", &token]);
    assert!(
        csv.starts_with("subject,audience,expires_at,expired\n"),
        "{csv}"
    );
    let out = env
        .tok()
        .args(["jwt", "decode", &token])
        .env("TOK_PROFILE", "ci")
        .output()
        .unwrap();
    assert!(crate::common::stdout(&out).starts_with("subject,"));
}

#[test]
fn delete_needs_confirmation_and_removes_the_credential() {
    let env = TestEnv::new();
    env.ok(&[
        "profile",
        "set",
        "staging",
        "server=https://tok.example.com",
    ]);
    env.ok(&["profile", "use", "staging"]);
    let store = Credentials::new(StoreKind::File, &env.data_dir());
    store.set("staging", "s3cret-value").unwrap();

    for extra in [vec![], vec!["--no-input"]] {
        let mut args = vec!["profile", "delete", "staging", "-o", "json"];
        args.extend(extra);
        let out = env.run(&args);
        let body = json_error(&out);
        expect_exit(&out, 2);
        assert_eq!(body["code"], "confirmation_required");
        assert_eq!(body["hint"], "pass --yes to confirm");
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .contains("nothing was changed"),
            "{body}"
        );
    }
    let out = env
        .tok()
        .args(["profile", "delete", "staging"])
        .env("TOK_NO_INPUT", "1")
        .output()
        .unwrap();
    expect_exit(&out, 2);
    assert!(
        stderr(&out).contains("hint: pass --yes to confirm"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        env.ok_json(&["profile", "show", "staging"])["current"],
        true,
        "still there"
    );
    assert!(store.get("staging").unwrap().is_some());

    let out = env.run(&["profile", "delete", "staging", "--yes"]);
    expect_exit(&out, 0);
    assert!(stderr(&out).contains("deleted profile 'staging'"));
    expect_error(
        &env.run(&["profile", "show", "staging", "-o", "json"]),
        3,
        "profile_not_found",
    );
    assert_eq!(
        store.get("staging").unwrap(),
        None,
        "its stored credential went with it"
    );
    assert_eq!(
        env.ok_json(&["profile", "show"])["name"],
        "local",
        "back to local"
    );

    expect_error(
        &env.run(&["profile", "delete", "staging", "-y", "-o", "json"]),
        3,
        "profile_not_found",
    );
    let out = env.run(&["profile", "delete", "local", "--yes", "-o", "json"]);
    let message = expect_error(&out, 2, "invalid_input");
    assert!(
        message.contains("'local' profile cannot be deleted"),
        "{message}"
    );
}

#[test]
fn the_config_file_never_holds_a_secret() {
    let env = TestEnv::new();
    env.ok(&[
        "profile",
        "set",
        "prod",
        "server=https://tok.example.com",
        "org=acme",
    ]);
    Credentials::new(StoreKind::File, &env.data_dir())
        .set("prod", "s3cret-value")
        .unwrap();
    env.ok(&["profile", "use", "prod"]);
    let text = config_text(&env);
    let config: toml::Table = toml::from_str(&text).unwrap();
    assert_eq!(config["current"].as_str(), Some("prod"));
    assert!(!text.contains("s3cret"), "{text}");
    let allowed = ["server", "org", "instance", "output"];
    for (name, settings) in config["profiles"].as_table().unwrap() {
        for key in settings.as_table().unwrap().keys() {
            assert!(allowed.contains(&key.as_str()), "{name}.{key} in\n{text}");
        }
    }
    let shown = env.ok(&["profile", "show", "prod", "-o", "yaml"]);
    assert!(!shown.contains("s3cret"), "{shown}");
}
