//! `tok tenant create|list|get|delete` in table and JSON: Pulsar's name rules, unknown
//! and duplicate names, and the confirmation rules of `delete`.

use crate::both_backends;
use crate::common::{TestEnv, expect_error, expect_exit, stderr, stdout};
use crate::embedded_helpers::{
    assert_fields, expect_hint, expect_unconfirmed, new_token, tenant_names, token_names, with_acme,
};

fn create_list_get_in_table_and_json(env: &TestEnv) {
    assert_eq!(
        env.ok(&["tenant", "list", "-o", "json"]),
        "[]",
        "[] when empty"
    );
    let out = env.run(&["tenant", "create", "acme", "--description", "Acme Corp"]);
    expect_exit(&out, 0);
    assert!(stdout(&out).contains("acme"), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("created tenant 'acme'"),
        "{}",
        stderr(&out)
    );

    let created = env.ok_json(&["tenant", "create", "beta"]);
    let fields = [
        "name",
        "instance",
        "description",
        "created_at",
        "token_count",
    ];
    assert_fields(&created, &fields);
    assert_eq!(created["instance"], "local");
    assert!(created["description"].is_null());
    assert_eq!(created["token_count"], 0);

    let table = env.ok(&["tenant", "list"]);
    for word in ["NAME", "acme", "beta", "Acme Corp", "local"] {
        assert!(table.contains(word), "{word}: {table}");
    }
    assert_eq!(tenant_names(env), ["acme", "beta"]);

    new_token(env, &["--tenant", "acme"]);
    let got = env.ok_json(&["tenant", "get", "acme"]);
    assert_eq!(got["description"], "Acme Corp");
    assert_eq!(got["token_count"], 1);
    let table = env.ok(&["tenant", "get", "acme"]);
    assert!(
        table.contains("Acme Corp") && table.contains("local"),
        "{table}"
    );
}

fn names_follow_pulsar_rules(env: &TestEnv) {
    for ok in ["my-tenant_1", "a=b:c.d", "T"] {
        env.ok(&["tenant", "create", ok, "-q"]);
    }
    let too_long = "x".repeat(65);
    for bad in ["a/b", "a b", ".", "..", "ü", "", too_long.as_str()] {
        let out = env.run(&["tenant", "create", bad, "-o", "json"]);
        let message = expect_error(&out, 2, "invalid_input");
        assert!(
            message.contains("Pulsar"),
            "{bad:?}: explains the rule: {message}"
        );
    }
    assert_eq!(tenant_names(env), ["T", "a=b:c.d", "my-tenant_1"]);
}

fn duplicate_is_a_conflict(env: &TestEnv) {
    with_acme(env);
    for extra in [&[][..], &["-o", "json"]] {
        let mut args = vec!["tenant", "create", "acme"];
        args.extend_from_slice(extra);
        let out = env.run(&args);
        expect_exit(&out, 5);
        assert!(stderr(&out).contains("already exists"), "{}", stderr(&out));
    }
    let out = env.run(&["tenant", "create", "acme", "-o", "json"]);
    expect_error(&out, 5, "conflict");
    assert_eq!(tenant_names(env), ["acme"]);
}

fn unknown_tenant_or_instance_is_not_found_with_a_hint(env: &TestEnv) {
    with_acme(env);
    for args in [
        &["tenant", "get", "nope"][..],
        &["tenant", "delete", "nope", "--yes"],
        &["token", "create", "--tenant", "nope"],
        &["token", "list", "--tenant", "nope"],
        &["token", "get", "x", "--tenant", "nope"],
    ] {
        let mut args = args.to_vec();
        args.extend(["-o", "json"]);
        let out = env.run(&args);
        expect_hint(&out, 3, "not_found", "tok tenant create nope");
    }
    let out = env.run(&["tenant", "get", "nope"]);
    expect_exit(&out, 3);
    assert!(stderr(&out).contains("hint: create it with `tok tenant create nope`"));

    let out = env.run(&["tenant", "create", "t2", "--instance", "nope", "-o", "json"]);
    expect_hint(&out, 3, "not_found", "tok instance create nope");
    let out = env.run(&["tenant", "list", "--instance", "nope", "-o", "json"]);
    expect_hint(&out, 3, "not_found", "tok instance create nope");
    assert_eq!(tenant_names(env), ["acme"]);
}

fn with_several_instances_the_instance_must_be_named(env: &TestEnv) {
    with_acme(env);
    env.ok(&["instance", "create", "second", "--alg", "ES256", "-q"]);
    let out = env.run(&["tenant", "create", "beta", "-o", "json"]);
    let message = expect_error(&out, 2, "invalid_input");
    assert!(
        message.contains("local") && message.contains("second"),
        "{message}"
    );
    let created = env.ok_json(&["tenant", "create", "beta", "--instance", "second"]);
    assert_eq!(created["instance"], "second");
    let on_second = env.ok_json(&["tenant", "list", "--instance", "second"]);
    assert_eq!(on_second.as_array().unwrap().len(), 1);
    assert_eq!(on_second[0]["name"], "beta");
}

fn delete_without_a_terminal_changes_nothing(env: &TestEnv) {
    with_acme(env);
    new_token(env, &["--tenant", "acme", "--name", "t1"]);
    for extra in [&[][..], &["--no-input"], &["-o", "json"]] {
        let mut args = vec!["tenant", "delete", "acme"];
        args.extend_from_slice(extra);
        let out = env.run(&args);
        expect_exit(&out, 2);
        assert!(
            stderr(&out).contains("hint: pass --yes to confirm"),
            "{}",
            stderr(&out)
        );
        assert!(stdout(&out).is_empty());
    }
    expect_unconfirmed(&env.run(&["tenant", "delete", "acme", "-o", "json"]));
    let out = env.run_env(
        &["tenant", "delete", "acme", "-o", "json"],
        &[("TOK_NO_INPUT", "1")],
    );
    expect_unconfirmed(&out);
    assert_eq!(tenant_names(env), ["acme"]);
    assert_eq!(token_names(env, &["--tenant", "acme"]), ["t1"]);
}

fn delete_with_yes_takes_its_tokens(env: &TestEnv) {
    with_acme(env);
    env.ok(&["tenant", "create", "beta", "-q"]);
    new_token(env, &["--tenant", "acme", "--name", "t1"]);
    new_token(env, &["--tenant", "acme", "--name", "t2"]);
    new_token(env, &["--tenant", "beta", "--name", "b1"]);
    let out = env.run(&["tenant", "delete", "acme", "--yes"]);
    expect_exit(&out, 0);
    assert!(
        stderr(&out).contains("deleted tenant 'acme' and 2 token(s)"),
        "{}",
        stderr(&out)
    );
    assert_eq!(tenant_names(env), ["beta"]);
    assert_eq!(
        token_names(env, &["--all"]),
        ["b1"],
        "acme's tokens went with it"
    );
    expect_exit(&env.run(&["tenant", "get", "acme"]), 3);
    expect_exit(&env.run(&["tenant", "delete", "beta", "-y", "-q"]), 0);
    assert_eq!(env.ok(&["tenant", "list", "-o", "json"]), "[]");
}

fn delete_prompt_says_how_many_tokens_go_and_wants_the_name(env: &TestEnv) {
    with_acme(env);
    new_token(env, &["--tenant", "acme"]);
    new_token(env, &["--tenant", "acme"]);
    let Some(out) = env.pty(&["tenant", "delete", "acme"], "acme-typo\n", &[]) else {
        return;
    };
    expect_exit(&out, 130);
    let screen = stdout(&out);
    assert!(
        screen.contains("Type the tenant name 'acme' to delete it and its 2 token(s)"),
        "{screen}"
    );
    assert_eq!(tenant_names(env), ["acme"]);
    let Some(out) = env.pty(&["tenant", "delete", "acme"], "acme\n", &[]) else {
        return;
    };
    expect_exit(&out, 0);
    assert!(tenant_names(env).is_empty());
}

both_backends!(
    create_list_get_in_table_and_json,
    names_follow_pulsar_rules,
    duplicate_is_a_conflict,
    unknown_tenant_or_instance_is_not_found_with_a_hint,
    with_several_instances_the_instance_must_be_named,
    delete_without_a_terminal_changes_nothing,
    delete_with_yes_takes_its_tokens,
    delete_prompt_says_how_many_tokens_go_and_wants_the_name,
);
