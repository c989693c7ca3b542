//! Several `tok` processes on one database at the same time: no lost, duplicated or
//! broken rows, whether they add tokens to an existing database or all start on a fresh one.

use std::collections::HashSet;
use std::process::Output;
use std::sync::{Arc, Barrier};

use crate::common::{TOK, TestEnv, expect_exit};
use crate::embedded_helpers::{acme, tenant_names};

/// Tokens each writer creates, one `tok` process per token.
const N: usize = 15;

/// Runs each writer's commands on its own thread, one process after another; the threads
/// are released together so the writers' processes overlap.
fn run_writers(env: &TestEnv, writers: Vec<Vec<Vec<String>>>) -> Vec<Output> {
    let barrier = Arc::new(Barrier::new(writers.len()));
    let threads: Vec<_> = writers
        .into_iter()
        .map(|commands| {
            let barrier = Arc::clone(&barrier);
            let cmds: Vec<std::process::Command> = commands
                .iter()
                .map(|args| {
                    let mut cmd = env.command(TOK);
                    cmd.args(args).stdin(std::process::Stdio::null());
                    cmd
                })
                .collect();
            std::thread::spawn(move || {
                barrier.wait();
                cmds.into_iter()
                    .map(|mut cmd| cmd.output().expect("tok runs"))
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    threads
        .into_iter()
        .flat_map(|t| t.join().expect("writer thread"))
        .collect()
}

fn args(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| w.to_string()).collect()
}

#[test]
fn concurrent_writers_lose_and_duplicate_nothing() {
    let env = acme();
    let writers: Vec<Vec<Vec<String>>> = ["a", "b", "c"]
        .iter()
        .map(|w| {
            (0..N)
                .map(|i| {
                    let name = format!("{w}-{i}");
                    args(&["token", "create", "--tenant", "acme", "--name", &name, "-q"])
                })
                .collect()
        })
        .collect();
    let writers_count = writers.len();
    let outputs = run_writers(&env, writers);
    assert_eq!(outputs.len(), writers_count * N);
    let mut printed = HashSet::new();
    for out in &outputs {
        expect_exit(out, 0);
        let token = String::from_utf8_lossy(&out.stdout).trim().to_string();
        assert!(printed.insert(token), "every process printed its own token");
    }

    let list = env.ok_json(&["token", "list", "--tenant", "acme"]);
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), writers_count * N, "no lost or duplicated rows");
    let ids: HashSet<&str> = list.iter().map(|t| t["id"].as_str().unwrap()).collect();
    let names: HashSet<&str> = list.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), list.len(), "unique ids");
    assert_eq!(names.len(), list.len(), "unique names");
    for w in ["a", "b", "c"] {
        for i in 0..N {
            assert!(
                names.contains(format!("{w}-{i}").as_str()),
                "{w}-{i} is there"
            );
        }
    }
    assert_eq!(
        env.ok_json(&["tenant", "get", "acme"])["token_count"],
        list.len()
    );
    let audit = env.ok_json(&["audit", "list"]);
    let creates = audit.as_array().unwrap().iter();
    let creates = creates.filter(|r| r["action"] == "token.create").count();
    assert_eq!(creates, list.len(), "one audit record per token");
}

#[test]
fn concurrent_first_use_of_a_fresh_data_dir_agrees_on_one_master_key() {
    let env = TestEnv::new();
    let writers: Vec<Vec<Vec<String>>> = (0..6)
        .map(|i| vec![args(&["tenant", "create", &format!("t{i}"), "-q"])])
        .collect();
    for out in run_writers(&env, writers) {
        expect_exit(&out, 0);
    }
    assert_eq!(tenant_names(&env), ["t0", "t1", "t2", "t3", "t4", "t5"]);
    let instances = env.ok_json(&["instance", "list"]);
    assert_eq!(
        instances.as_array().unwrap().len(),
        1,
        "one instance local: {instances}"
    );
    for i in 0..6 {
        // Signing unseals the instance key: it fails if a process sealed it under a
        // master key that another process then replaced.
        env.ok(&["token", "create", "--tenant", &format!("t{i}"), "-q"]);
    }
}
