//! Two `tok server` replicas on one PostgreSQL database (issue 8): a session made on one
//! works on the other; a token created on A and revoked on B is inactive when introspected
//! on A; one Idempotency-Key sent to both at once creates once; and clients creating tokens
//! concurrently across both for [`LOAD`] lose and duplicate nothing.
//!
//! The database comes from `TOK_TEST_DATABASE_URL` (`eval "$(scripts/pg-cluster start)"`);
//! each test works in a schema of its own, dropped at the end. Without it the tests say
//! SKIPPED on stderr, and fail under CI (`CI` set).

use std::collections::BTreeSet;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::{ADMIN, ADMIN_PASSWORD, ServerProcess, TestEnv, expect_exit, path_str};
use crate::server_api::{Api, Reply, create_tenant};
use crate::server_postgres::{Schema, introspect, start_logged, test_database_url};

/// How long the clients of the load test create tokens (the issue says 10 s).
const LOAD: Duration = Duration::from_secs(10);
/// How many client threads the load test runs, alternating between the replicas.
const CLIENTS: usize = 8;

const TOKENS: &str = "/v1/orgs/local/tenants/acme/tokens";

/// The names of tenant `acme`'s token rows, one per row (duplicates kept).
fn token_names(schema: &mut Schema) -> Vec<String> {
    schema
        .client
        .query(
            "SELECT t.name FROM tokens t JOIN tenants n ON n.id = t.tenant_id \
             WHERE n.name = 'acme'",
            &[],
        )
        .expect("token rows")
        .iter()
        .map(|row| row.get(0))
        .collect()
}

/// One schema initialised once, and two replicas serving it. Fields drop in order: the
/// servers stop before their files go and before the schema is dropped.
struct Replicas {
    a: ServerProcess,
    b: ServerProcess,
    _env: TestEnv,
    schema: Schema,
}

impl Replicas {
    fn start(base: &str) -> Replicas {
        let schema = Schema::create(base, "tok_replicas");
        let env = TestEnv::new();
        let key = path_str(&env.path().join("master.key"));
        let out = env.run_stdin(
            &[
                "server",
                "init",
                "--database",
                &schema.url,
                "--master-key-file",
                &key,
                "--org",
                "local",
                "--instance",
                "local",
                "--admin",
                ADMIN,
                "--password-stdin",
            ],
            ADMIN_PASSWORD,
        );
        expect_exit(&out, 0);
        let a = start_replica(&env, "a", &schema.url, &key);
        let b = start_replica(&env, "b", &schema.url, &key);
        assert_ne!(a.url, b.url, "two replicas, two addresses");
        Replicas {
            a,
            b,
            _env: env,
            schema,
        }
    }

    /// The replicas' logs, for failure messages.
    fn logs(&self) -> String {
        [&self.a, &self.b]
            .iter()
            .map(|s| {
                format!(
                    "--- {} ---\n{}",
                    s.url,
                    std::fs::read_to_string(&s.log).unwrap_or_default()
                )
            })
            .collect()
    }
}

/// `tok server start` on `database`, logging to `server-NAME.log`.
fn start_replica(env: &TestEnv, name: &str, database: &str, key: &str) -> ServerProcess {
    start_logged(env, &format!("server-{name}"), key, |cmd| {
        cmd.args(["--database", database]);
    })
}

/// A client of `server` carrying `session` (made on any replica).
fn with_session(server: &ServerProcess, session: &Api) -> Api {
    let mut api = Api::anonymous(server);
    api.token.clone_from(&session.token);
    api
}

#[test]
fn a_session_a_revocation_and_an_idempotency_key_hold_across_two_replicas() {
    let Some(base) = test_database_url() else {
        return;
    };
    let mut r = Replicas::start(&base);
    let a = Api::admin(&r.a);
    let b = Api::admin(&r.b);

    // A session made on one replica works on the other: they share the database.
    for (session, other, what) in [(&a, &r.b, "A's session on B"), (&b, &r.a, "B's on A")] {
        let reply = with_session(other, session).get("/v1/orgs/local/tenants");
        assert_eq!(reply.status, 200, "{what}: {}", reply.text);
    }
    create_tenant(&a, "acme");
    assert_eq!(b.get("/v1/orgs/local/tenants/acme").status, 200);

    // Created on A, revoked on B, introspected on A: inactive.
    let created = a.create(TOKENS, &json!({"name": "ci", "expires": "7d"}));
    let jwt = created["token"].as_str().expect("the token");
    let id = created["id"].as_str().expect("its id");
    let answer = introspect(&a, jwt);
    assert_eq!(answer["active"], true, "{answer}");
    let revoked = b.delete(&format!("{TOKENS}/{id}"));
    revoked.expect(200);
    assert!(revoked.json()["revoked_at"].is_string(), "{}", revoked.text);
    let answer = introspect(&a, jwt);
    assert_eq!(
        answer["active"], false,
        "revoked on B, still active on A: {answer}"
    );
    assert!(
        answer["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("revoked"),
        "{answer}"
    );
    assert_eq!(introspect(&b, jwt)["active"], false);

    // One Idempotency-Key and body sent to A and B at the same moment: created once, both
    // answers name that one token.
    let body = json!({"name": "once", "expires": "30d"});
    let key = [("Idempotency-Key", "replicas-race-0001")];
    let barrier = Barrier::new(2);
    let replies: Vec<Reply> = std::thread::scope(|s| {
        let handles: Vec<_> = [&a, &b]
            .into_iter()
            .map(|api| {
                let (barrier, body) = (&barrier, &body);
                s.spawn(move || {
                    barrier.wait();
                    api.post_with(TOKENS, body, &key)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (reply, replica) in replies.iter().zip(["A", "B"]) {
        assert_eq!(
            reply.status,
            201,
            "replica {replica}: {}\n{}",
            reply.text,
            r.logs()
        );
    }
    let ids: Vec<Value> = replies.iter().map(|r| r.json()["id"].clone()).collect();
    assert!(ids[0].is_string(), "{}", replies[0].text);
    assert_eq!(ids[0], ids[1], "both replicas answer the same token");
    assert_eq!(replies[0].text, replies[1].text, "the replay is the answer");
    let replayed = replies
        .iter()
        .filter(|r| r.header("idempotent-replayed").is_some())
        .count();
    assert_eq!(replayed, 1, "one ran, the other replayed its answer");
    assert_eq!(
        r.schema
            .count("SELECT count(*) FROM tokens WHERE name = 'once'"),
        1
    );
    assert_eq!(r.schema.count("SELECT count(*) FROM tokens"), 2);
    assert_eq!(r.schema.count("SELECT count(*) FROM idempotency_keys"), 1);

    // The purge: each replica looked at start-up (long done by now); one ran it, and the
    // other found it done.
    let ran: Vec<&ServerProcess> = [&r.a, &r.b]
        .into_iter()
        .filter(|s| {
            std::fs::read_to_string(&s.log)
                .unwrap_or_default()
                .contains("purge ran")
        })
        .collect();
    assert_eq!(ran.len(), 1, "one replica purges:\n{}", r.logs());
    let holder: String = r
        .schema
        .client
        .query_one("SELECT holder FROM job_runs WHERE name = 'purge'", &[])
        .expect("the purge's run")
        .get(0);
    assert!(
        holder.ends_with(&format!(":{}", ran[0].child.id())),
        "job_runs names the replica that ran it: {holder}"
    );
    assert_eq!(r.schema.count("SELECT count(*) FROM job_runs"), 1);
}

#[test]
fn clients_creating_tokens_on_both_replicas_lose_and_duplicate_nothing() {
    let Some(base) = test_database_url() else {
        return;
    };
    let mut r = Replicas::start(&base);
    let a = Api::admin(&r.a);
    let b = Api::admin(&r.b);
    create_tenant(&a, "acme");

    // CLIENTS threads, alternating replicas, each creating uniquely named tokens until the
    // time is up and keeping the name of every 201 it got.
    let barrier = Barrier::new(CLIENTS);
    let started = Instant::now();
    let outcomes: Vec<(Vec<String>, Vec<String>)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..CLIENTS)
            .map(|client| {
                let api = if client % 2 == 0 { &a } else { &b };
                let barrier = &barrier;
                s.spawn(move || {
                    let (mut acked, mut failures) = (Vec::new(), Vec::new());
                    barrier.wait();
                    let end = Instant::now() + LOAD;
                    let mut n = 0;
                    while Instant::now() < end {
                        let name = format!("c{client}-{n:05}");
                        n += 1;
                        let reply = api.post(TOKENS, &json!({"name": name, "expires": "1d"}));
                        if reply.status == 201 {
                            assert_eq!(reply.json()["name"], name.as_str(), "{}", reply.text);
                            acked.push(name);
                        } else {
                            failures.push(format!("{name}: {} {}", reply.status, reply.text));
                        }
                    }
                    (acked, failures)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let elapsed = started.elapsed();

    let failures: Vec<&String> = outcomes.iter().flat_map(|(_, f)| f).collect();
    assert!(
        failures.is_empty(),
        "{} creates failed, e.g. {:?}\n{}",
        failures.len(),
        &failures[..failures.len().min(5)],
        r.logs()
    );
    let acked: Vec<&String> = outcomes.iter().flat_map(|(a, _)| a).collect();
    let acked_set: BTreeSet<&str> = acked.iter().map(|s| s.as_str()).collect();
    assert_eq!(acked_set.len(), acked.len(), "names are unique");
    let rows = token_names(&mut r.schema);
    let row_set: BTreeSet<&str> = rows.iter().map(String::as_str).collect();
    assert_eq!(row_set.len(), rows.len(), "a name stored twice");
    let lost: Vec<_> = acked_set.difference(&row_set).collect();
    let extra: Vec<_> = row_set.difference(&acked_set).collect();
    assert!(
        lost.is_empty() && extra.is_empty(),
        "acknowledged but not stored: {lost:?}; stored but not acknowledged: {extra:?}"
    );
    let per_client: Vec<usize> = outcomes.iter().map(|(a, _)| a.len()).collect();
    assert!(per_client.iter().all(|&n| n > 0), "{per_client:?}");
    eprintln!(
        "{} tokens created by {CLIENTS} clients across 2 replicas in {elapsed:.1?} \
         (per client: {per_client:?})",
        acked.len()
    );
}
