//! `tok profile list|show|use|set|delete`: the built-in `local`, checked settings,
//! and deletion that needs confirmation and takes the stored credential with it.

use serde_json::{Value, json};
use tok::credentials::{Credentials, StoreKind};

use crate::common::{TestEnv, expect_error, expect_exit, json_error, stderr};

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

    let config: toml::Table = toml::from_str(&env.config_text()).expect("config.toml is TOML");
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
    assert!(!env.config_text().contains("abc123"));
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
        env.profiles(),
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
    assert_eq!(env.profiles()[0], ("local".into(), true));
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
    store.set("profile:staging", "s3cret-value").unwrap();

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
    let out = env.run_env(&["profile", "delete", "staging"], &[("TOK_NO_INPUT", "1")]);
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
    assert!(store.get("profile:staging").unwrap().is_some());

    let out = env.run(&["profile", "delete", "staging", "--yes"]);
    expect_exit(&out, 0);
    assert!(stderr(&out).contains("deleted profile 'staging'"));
    expect_error(
        &env.run(&["profile", "show", "staging", "-o", "json"]),
        3,
        "profile_not_found",
    );
    assert_eq!(
        store.get("profile:staging").unwrap(),
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
