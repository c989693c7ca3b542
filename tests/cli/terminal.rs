//! How tok treats terminals and pipes: colour only where it belongs (`--color`,
//! `NO_COLOR`, a pseudo-terminal), and a quiet exit when the reader of stdout goes away.

use std::fmt::Write as _;
use std::process::Stdio;

use crate::common::{TOK, TestEnv, expect_exit, has_ansi, stderr, stdout};

#[test]
fn colour_only_with_color_always_when_not_a_terminal() {
    let env = TestEnv::new();
    let plain = env.run(&["profile", "list"]);
    assert!(!has_ansi(&stdout(&plain)), "no colour when piped");
    let never = env.run(&["profile", "list", "--color", "never"]);
    assert!(!has_ansi(&stdout(&never)));
    let no_color = env.run_env(&["profile", "list"], &[("NO_COLOR", "1")]);
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
        .arg(TOK)
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
    // The bash script (~43 KB) may fit in the pipe buffer before `head` exits, so this
    // run may not hit EPIPE; the profile list below and the next test always do.
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
        .command(TOK)
        .args(["completion", "bash"])
        .stdin(Stdio::null())
        .stdout(writer)
        .output()
        .expect("tok runs");
    expect_exit(&out, 0);
    assert_eq!(stderr(&out), "", "nothing to say about a reader that left");
}
