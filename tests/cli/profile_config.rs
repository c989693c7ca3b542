//! Profiles at work: `--profile` / `TOK_PROFILE` for one command, a profile's default
//! output format, and a config file that never holds a secret.

use serde_json::{Value, json};
use tok::credentials::{Credentials, StoreKind};

use crate::common::{TestEnv, expect_error, json, json_error, stdout};
use crate::tokens::hs256;

#[test]
fn profile_and_tok_profile_pick_a_profile_for_one_command() {
    let env = TestEnv::new();
    env.ok(&["profile", "set", "ci", "server=https://ci.example.com"]);
    assert_eq!(
        env.ok_json(&["--profile", "ci", "profile", "show"])["name"],
        "ci"
    );
    let out = env.run_env(&["profile", "show", "-o", "json"], &[("TOK_PROFILE", "ci")]);
    assert_eq!(json(&out)["server"], "https://ci.example.com");
    // --profile beats TOK_PROFILE; neither changes the saved current profile.
    let out = env.run_env(
        &["--profile", "local", "profile", "show", "-o", "json"],
        &[("TOK_PROFILE", "ci")],
    );
    assert_eq!(json(&out)["name"], "local");
    assert_eq!(env.profiles()[0], ("local".into(), true));
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
    let out = env.run_env(&["jwt", "decode", &token], &[("TOK_PROFILE", "ci")]);
    assert!(stdout(&out).starts_with("subject,"));
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
    let text = env.config_text();
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
