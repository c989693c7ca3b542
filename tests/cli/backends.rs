//! The harness itself: the same scenario against the embedded control plane and a real
//! `tok server`, with the same JSON and exit codes.

use crate::both_backends;
use crate::common::{TestEnv, expect_error};

fn tenant_round_trip(env: &TestEnv) {
    let created = env.ok_json(&["tenant", "create", "acme"]);
    assert_eq!(created["instance"], "local");
    let token = env.ok_json(&["token", "create", "--tenant", "acme", "--expires", "7d"]);
    assert!(token["token"].as_str().unwrap().starts_with("ey"));
    let out = env.run(&["tenant", "get", "nope", "-o", "json"]);
    expect_error(&out, 3, "not_found");
    let out = env.run(&["tenant", "create", "acme", "-o", "json"]);
    expect_error(&out, 5, "conflict");
}

both_backends!(tenant_round_trip);
