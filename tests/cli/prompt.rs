//! The confirm-by-name prompt on a real pseudo-terminal (util-linux `script`):
//! the right name goes ahead, anything else cancels with exit 130 and changes nothing.

use crate::common::{TestEnv, expect_error, expect_exit, stdout};

const QUESTION: &str = "Type the profile name 'staging' to delete it and its stored credential";

fn with_staging() -> TestEnv {
    let env = TestEnv::new();
    env.ok(&[
        "profile",
        "set",
        "staging",
        "server=https://tok.example.com",
        "-q",
    ]);
    env
}

fn staging_exists(env: &TestEnv) -> bool {
    let out = env.run(&["profile", "show", "staging", "-o", "json"]);
    match out.status.code() {
        Some(0) => true,
        _ => {
            expect_error(&out, 3, "profile_not_found");
            false
        }
    }
}

#[test]
fn typing_the_name_deletes() {
    let env = with_staging();
    let Some(out) = env.pty(&["profile", "delete", "staging"], "staging\n", &[]) else {
        return;
    };
    expect_exit(&out, 0);
    let screen = stdout(&out);
    assert!(screen.contains(QUESTION), "{screen}");
    assert!(screen.contains("deleted profile 'staging'"), "{screen}");
    assert!(!staging_exists(&env));
}

#[test]
fn a_wrong_name_cancels_with_130_and_changes_nothing() {
    let env = with_staging();
    for answer in ["wrong\n", "\n", "Staging\n", "stag\n"] {
        let Some(out) = env.pty(&["profile", "delete", "staging"], answer, &[]) else {
            return;
        };
        expect_exit(&out, 130);
        let screen = stdout(&out);
        assert!(screen.contains(QUESTION), "{answer:?}: {screen}");
        assert!(
            screen.contains(
                "cancelled: the name typed does not match 'staging'; nothing was changed"
            ),
            "{screen}"
        );
        assert!(staging_exists(&env), "{answer:?} kept the profile");
    }
}

// Nothing is typed here: these commands must not read the terminal (and `script` would
// linger for unread input).
#[test]
fn no_input_and_yes_skip_the_prompt_even_on_a_terminal() {
    let env = with_staging();
    let Some(out) = env.pty(&["profile", "delete", "staging", "--no-input"], "", &[]) else {
        return;
    };
    expect_exit(&out, 2);
    let screen = stdout(&out);
    assert!(
        !screen.contains(QUESTION),
        "--no-input never prompts: {screen}"
    );
    assert!(screen.contains("pass --yes to confirm"), "{screen}");
    assert!(staging_exists(&env));

    let out = env
        .pty(
            &["profile", "delete", "staging"],
            "",
            &[("TOK_NO_INPUT", "true")],
        )
        .unwrap();
    expect_exit(&out, 2);
    assert!(staging_exists(&env));

    let out = env
        .pty(&["profile", "delete", "staging", "--yes"], "", &[])
        .unwrap();
    expect_exit(&out, 0);
    assert!(!stdout(&out).contains(QUESTION), "{}", stdout(&out));
    assert!(!staging_exists(&env));
}
