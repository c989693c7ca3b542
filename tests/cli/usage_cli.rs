//! `tok usage`: importing data-plane records (each bad one reported by index and reason,
//! `--atomic` all or nothing, replays counted once), `usage show` by day and month (counters
//! add up, `storage_bytes` keeps each namespace's latest figure), the table and chart, the
//! rate card and a month's bill (exact quantities, half-to-even amounts, decimal strings),
//! and against a real `tok server`: the same answers, the records API's limits, callers
//! scoped to one tenant, and the control plane metering its own work (flushed every
//! `--meter-flush-interval` and on a graceful stop).

use std::process::Output;
use std::time::Duration;

use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::common::{ServerProcess, TestEnv, expect_exit, json, stderr};
use crate::server_api::Api;

/// The test server's org, as a path.
const ORG: &str = "/v1/orgs/local";

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// One usage record (`namespace` left out when `None`).
fn rec(tenant: &str, namespace: Option<&str>, metric: &str, value: Value, at: Value) -> Value {
    let mut r = json!({"tenant": tenant, "metric": metric, "value": value, "at": at});
    if let Some(ns) = namespace {
        r["namespace"] = json!(ns);
    }
    r
}

/// A record with an integer value at an RFC 3339 time.
fn at(tenant: &str, namespace: Option<&str>, metric: &str, value: u64, when: &str) -> Value {
    rec(tenant, namespace, metric, json!(value), json!(when))
}

/// Records as JSON lines.
fn lines(records: &[Value]) -> String {
    records.iter().map(|r| format!("{r}\n")).collect()
}

/// Writes `records` as a JSON array to `name` in the env; returns its path.
fn records_file(env: &TestEnv, name: &str, records: &[Value]) -> String {
    let path = env.write(name, Value::Array(records.to_vec()).to_string().as_bytes());
    path.to_str().unwrap().to_string()
}

/// `tok usage import ARGS -o json`, whatever it exits with.
fn import(env: &TestEnv, args: &[&str]) -> Output {
    let mut all = vec!["usage", "import"];
    all.extend_from_slice(args);
    all.extend(["-o", "json"]);
    env.run(&all)
}

/// `tok usage import - -o json` with `input` on stdin.
fn import_stdin(env: &TestEnv, input: &str) -> Output {
    env.run_stdin(&["usage", "import", "-", "-o", "json"], input)
}

/// The import summary `-o json` printed on stdout.
#[track_caller]
fn summary(out: &Output) -> Value {
    let doc = json(out);
    for field in [
        "source", "batch_id", "records", "accepted", "rejected", "replayed",
    ] {
        assert!(
            doc.get(field).is_some(),
            "import summary has {field}: {doc}"
        );
    }
    doc
}

/// The `{"error": {…}}` object on stderr's last line (stdout may hold a summary).
#[track_caller]
fn error_json(out: &Output) -> Value {
    let err = stderr(out);
    let last = err.lines().last().unwrap_or_default();
    let doc: Value = serde_json::from_str(last)
        .unwrap_or_else(|e| panic!("stderr's last line is not JSON ({e}):\n{err}"));
    doc["error"].clone()
}

/// Asserts exit `code` and error code `error_code` (stdout empty); returns the message.
#[track_caller]
fn expect_failure(out: &Output, code: i32, error_code: &str) -> String {
    expect_exit(out, code);
    let err = error_json(out);
    assert_eq!(err["code"], error_code, "{err}");
    assert!(
        out.stdout.is_empty(),
        "no data on stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    err["message"].as_str().unwrap_or_default().to_string()
}

/// `tok usage show ARGS -o json`, insisting on exit 0.
fn show(env: &TestEnv, args: &[&str]) -> Value {
    let mut all = vec!["usage", "show"];
    all.extend_from_slice(args);
    env.ok_json(&all)
}

/// `tok usage show --from FROM --to TO -o json`.
fn show_range(env: &TestEnv, from: &str, to: &str) -> Value {
    show(env, &["--from", from, "--to", to])
}

/// The `usage show` JSON array for `(tenant, period, metric, value)` rows.
fn points(rows: &[(Option<&str>, &str, &str, u64)]) -> Value {
    Value::Array(
        rows.iter()
            .map(|(tenant, period, metric, value)| {
                json!({"tenant": tenant, "period": period, "metric": metric, "value": value})
            })
            .collect(),
    )
}

/// `tok usage billing --month MONTH EXTRA… -o json`, with `rounding` checked and removed.
#[track_caller]
fn bill(env: &TestEnv, month: &str, extra: &[&str]) -> Value {
    let mut args = vec!["usage", "billing", "--month", month];
    args.extend_from_slice(extra);
    let mut doc = env.ok_json(&args);
    let rounding = doc["rounding"].as_str().unwrap_or_default().to_string();
    assert!(rounding.starts_with("half to even"), "rounding: {doc}");
    doc.as_object_mut().unwrap().remove("rounding");
    doc
}

/// `tok usage rates show -o json`.
fn rates(env: &TestEnv) -> Value {
    env.ok_json(&["usage", "rates", "show"])
}

/// The price of `metric` on a rate card (null when unpriced).
fn price(card: &Value, metric: &str) -> Value {
    card["rates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["metric"] == metric)
        .unwrap_or_else(|| panic!("{metric} is on the card: {card}"))["price"]
        .clone()
}

/// A bill line.
fn line(metric: &str, quantity: &str, unit: &str, unit_price: &str, amount: &str) -> Value {
    json!({"metric": metric, "quantity": quantity, "unit": unit, "unit_price": unit_price,
           "amount": amount})
}

/// Today (UTC) as `YYYY-MM-DD`.
fn today() -> String {
    let d = OffsetDateTime::now_utc().date();
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// A fresh embedded environment with tenants `acme` and `beta`.
fn acme_and_beta() -> TestEnv {
    let env = TestEnv::new();
    env.ok(&["tenant", "create", "acme"]);
    env.ok(&["tenant", "create", "beta"]);
    env
}

/// The records of the first scenario: good ones and one of each kind of bad one.
fn mixed_records() -> Vec<Value> {
    vec![
        // 0: good, a namespace of the tenant's own.
        at("acme", Some("ns1"), "bytes_in", 100, "2026-11-01T10:00:00Z"),
        // 1: a tenant that does not exist.
        at("nosuch", None, "bytes_in", 1, "2026-11-01T10:00:00Z"),
        // 2: a negative value.
        rec(
            "acme",
            None,
            "bytes_in",
            json!(-5),
            json!("2026-11-01T10:00:00Z"),
        ),
        // 3: an unknown metric.
        at("acme", None, "bogus", 1, "2026-11-01T10:00:00Z"),
        // 4: a metric the control plane meters itself.
        at("acme", None, "tokens_issued", 1, "2026-11-01T10:00:00Z"),
        // 5: no value.
        json!({"tenant": "acme", "metric": "bytes_in", "at": "2026-11-01T10:00:00Z"}),
        // 6: far in the future.
        at("acme", None, "bytes_in", 1, "2030-01-01T00:00:00Z"),
        // 7: Unix milliseconds instead of seconds (2026-11-04T10:00:00Z).
        rec(
            "acme",
            None,
            "bytes_in",
            json!(1),
            json!(1_793_786_400_000_i64),
        ),
        // 8: a fractional value.
        rec(
            "acme",
            None,
            "bytes_in",
            json!(1.5),
            json!("2026-11-01T10:00:00Z"),
        ),
        // 9: a namespace of another tenant.
        at(
            "acme",
            Some("other/ns"),
            "bytes_in",
            1,
            "2026-11-01T10:00:00Z",
        ),
        // 10: good, Unix seconds (2026-11-04T10:00:00Z) and a tenant/namespace name.
        rec(
            "beta",
            Some("beta/ns"),
            "messages_in",
            json!(7),
            json!(1_793_786_400_i64),
        ),
        // 11: good, storage in a namespace written tenant/namespace.
        at(
            "acme",
            Some("acme/ns2"),
            "storage_bytes",
            42,
            "2026-11-02T23:00:00Z",
        ),
    ]
}

/// What `usage show` holds after [`mixed_records`] (the good ones only).
fn mixed_expected() -> Value {
    points(&[
        (Some("acme"), "2026-11-01", "bytes_in", 100),
        (Some("acme"), "2026-11-02", "storage_bytes", 42),
        (Some("beta"), "2026-11-04", "messages_in", 7),
    ])
}

/// Checks the summary of importing [`mixed_records`]: 3 of 12 accepted, and the index and
/// reason of each rejected record.
#[track_caller]
fn check_mixed_summary(doc: &Value) {
    assert_eq!(doc["source"], "tok usage records", "{doc}");
    assert_eq!(doc["records"], 12, "{doc}");
    assert_eq!(doc["accepted"], 3, "{doc}");
    let rejected = doc["rejected"].as_array().expect("rejected is an array");
    let expected: [(u64, &[&str]); 9] = [
        (1, &["tenant \"nosuch\" does not exist"]),
        (2, &["negative value -5"]),
        (3, &["unknown metric \"bogus\"", "messages_in"]),
        (4, &["tokens_issued is metered by the control plane itself"]),
        (5, &["value is missing"]),
        (6, &["2030-01-01T00:00:00Z is in the future"]),
        (7, &["1793786400000", "seconds, not milliseconds"]),
        (8, &["value 1.5 is not a whole number"]),
        (9, &["namespace \"other/ns\" is not in tenant \"acme\""]),
    ];
    let indices: Vec<u64> = rejected
        .iter()
        .map(|r| r["index"].as_u64().unwrap())
        .collect();
    assert_eq!(
        indices,
        expected.iter().map(|(i, _)| *i).collect::<Vec<_>>(),
        "{doc}"
    );
    for (r, (index, phrases)) in rejected.iter().zip(expected) {
        let reason = r["reason"].as_str().unwrap();
        for phrase in phrases {
            assert!(
                reason.contains(phrase),
                "record {index}: {reason:?} says {phrase:?}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------
// Embedded: import
// ---------------------------------------------------------------------------------------

#[test]
fn import_rejects_bad_records_by_index_records_the_rest_and_replays_once() {
    let env = acme_and_beta();
    let file = records_file(&env, "mixed.json", &mixed_records());

    let first = import(&env, &[&file]);
    expect_exit(&first, 1);
    let doc = summary(&first);
    check_mixed_summary(&doc);
    assert_eq!(doc["replayed"], 0, "{doc}");
    let batch = doc["batch_id"].as_str().unwrap().to_string();
    assert!(batch.starts_with("import-"), "{doc}");
    let err = error_json(&first);
    assert_eq!(err["code"], "records_rejected", "{err}");
    assert!(
        err["message"].as_str().unwrap().contains("9 of 12"),
        "{err}"
    );
    // The table form warns once per rejected record, by index.
    assert!(stderr(&first).contains("record 9:"), "{}", stderr(&first));
    assert_eq!(
        show_range(&env, "2026-11-01", "2026-11-07"),
        mixed_expected()
    );

    // The same file again: the first answer, marked replayed, and nothing counted twice.
    let again = import(&env, &[&file]);
    expect_exit(&again, 1);
    let replay = summary(&again);
    assert_eq!(replay["replayed"], 1, "{replay}");
    let mut unchanged = replay.clone();
    unchanged["replayed"] = json!(0);
    assert_eq!(unchanged, doc, "a replay answers the first result");
    assert_eq!(
        show_range(&env, "2026-11-01", "2026-11-07"),
        mixed_expected()
    );

    // The same batch id with other records is a conflict; nothing is recorded.
    let other = records_file(
        &env,
        "other.json",
        &[at("acme", None, "bytes_in", 5, "2026-11-01T11:00:00Z")],
    );
    let conflict = import(&env, &[&other, "--batch-id", &batch]);
    let message = expect_failure(&conflict, 5, "conflict");
    assert!(message.contains(&batch), "{message}");
    assert_eq!(
        show_range(&env, "2026-11-01", "2026-11-07"),
        mixed_expected()
    );
    // Under a new batch id the same records count again.
    let fresh = import(&env, &[&other, "--batch-id", "fresh-1"]);
    expect_exit(&fresh, 0);
    let fresh = summary(&fresh);
    assert_eq!(
        (&fresh["batch_id"], &fresh["accepted"], &fresh["replayed"]),
        (&json!("fresh-1"), &json!(1), &json!(0))
    );
    assert_eq!(
        show(
            &env,
            &[
                "--from",
                "2026-11-01",
                "--to",
                "2026-11-01",
                "--metric",
                "bytes_in"
            ]
        ),
        points(&[(Some("acme"), "2026-11-01", "bytes_in", 105)])
    );
}

#[test]
fn atomic_import_with_one_bad_record_records_nothing() {
    let env = acme_and_beta();
    let good = at("acme", None, "bytes_in", 5, "2026-11-02T10:00:00Z");
    let bad = rec(
        "acme",
        None,
        "bytes_in",
        json!(-1),
        json!("2026-11-02T10:00:00Z"),
    );
    let file = records_file(&env, "bad.json", &[good.clone(), good.clone(), bad]);

    let out = import(&env, &[&file, "--atomic"]);
    let message = expect_failure(&out, 2, "invalid_input");
    assert!(message.contains("record 2: negative value -1"), "{message}");
    assert!(message.contains("nothing was recorded"), "{message}");
    assert_eq!(show_range(&env, "2026-11-01", "2026-11-07"), json!([]));

    // A refused atomic batch leaves no batch id behind: the file imports without --atomic.
    let partial = import(&env, &[&file]);
    expect_exit(&partial, 1);
    assert_eq!(summary(&partial)["accepted"], 2);
    assert_eq!(
        show_range(&env, "2026-11-01", "2026-11-07"),
        points(&[(Some("acme"), "2026-11-02", "bytes_in", 10)])
    );

    // An atomic batch of good records is recorded whole.
    let clean = records_file(
        &env,
        "clean.json",
        &[
            good,
            at("beta", None, "bytes_out", 3, "2026-11-02T10:00:00Z"),
        ],
    );
    let out = import(&env, &[&clean, "--atomic"]);
    expect_exit(&out, 0);
    let doc = summary(&out);
    assert_eq!(
        (&doc["accepted"], &doc["rejected"]),
        (&json!(2), &json!([]))
    );
    assert_eq!(
        show_range(&env, "2026-11-01", "2026-11-07"),
        points(&[
            (Some("acme"), "2026-11-02", "bytes_in", 15),
            (Some("beta"), "2026-11-02", "bytes_out", 3),
        ])
    );
}

#[test]
fn records_come_from_stdin_as_json_lines_or_a_records_object() {
    let env = acme_and_beta();

    // JSON lines, with a blank line between records.
    let input = format!(
        "{}\n{}",
        lines(&[at("acme", None, "bytes_in", 5, "2026-11-02T10:00:00Z")]),
        lines(&[at("beta", None, "bytes_out", 6, "2026-11-02T11:00:00Z")]),
    );
    let out = import_stdin(&env, &input);
    expect_exit(&out, 0);
    let doc = summary(&out);
    assert_eq!(
        (&doc["source"], &doc["records"], &doc["accepted"]),
        (&json!("tok usage records"), &json!(2), &json!(2))
    );
    assert_eq!(doc["rejected"], json!([]));

    // {"records": [...]}.
    let input = json!({"records": [at("acme", None, "messages_out", 3, "2026-11-03T00:00:00Z")]});
    let out = import_stdin(&env, &input.to_string());
    expect_exit(&out, 0);
    assert_eq!(summary(&out)["accepted"], 1);

    // The same stdin again is a replay.
    let out = import_stdin(&env, &input.to_string());
    expect_exit(&out, 0);
    let doc = summary(&out);
    assert_eq!((&doc["accepted"], &doc["replayed"]), (&json!(1), &json!(1)));

    // The table form says what it did.
    let out = env.run_stdin(
        &["usage", "import", "-"],
        &lines(&[at("beta", None, "messages_in", 9, "2026-11-05T00:00:00Z")]),
    );
    expect_exit(&out, 0);
    assert_eq!(
        crate::common::stdout(&out),
        "Recorded 1 of 1 records (tok usage records)"
    );

    assert_eq!(
        show_range(&env, "2026-11-01", "2026-11-07"),
        points(&[
            (Some("acme"), "2026-11-02", "bytes_in", 5),
            (Some("beta"), "2026-11-02", "bytes_out", 6),
            (Some("acme"), "2026-11-03", "messages_out", 3),
            (Some("beta"), "2026-11-05", "messages_in", 9),
        ])
    );
}

// ---------------------------------------------------------------------------------------
// Embedded: show
// ---------------------------------------------------------------------------------------

/// Two imports of counters and storage over 2026-10-31 … 2026-11-05.
fn import_show_data(env: &TestEnv) {
    let first = [
        at("acme", Some("ns1"), "bytes_in", 100, "2026-11-01T01:00:00Z"),
        at(
            "acme",
            Some("acme/ns1"),
            "bytes_in",
            200,
            "2026-11-01T02:00:00Z",
        ),
        at("acme", Some("ns2"), "bytes_in", 50, "2026-11-01T03:00:00Z"),
        at("acme", None, "bytes_in", 1, "2026-11-01T23:59:59Z"),
        // ns1's latest figure of the day is 700 (12:00); acme/ns1 is the same namespace.
        at(
            "acme",
            Some("ns1"),
            "storage_bytes",
            1000,
            "2026-11-01T10:00:00Z",
        ),
        at(
            "acme",
            Some("ns1"),
            "storage_bytes",
            700,
            "2026-11-01T12:00:00Z",
        ),
        at(
            "acme",
            Some("acme/ns1"),
            "storage_bytes",
            5000,
            "2026-11-01T11:00:00Z",
        ),
        at(
            "acme",
            Some("ns2"),
            "storage_bytes",
            300,
            "2026-11-01T09:00:00Z",
        ),
        at("beta", None, "messages_in", 10, "2026-11-02T00:00:00Z"),
    ];
    let second = [
        at(
            "acme",
            Some("ns1"),
            "bytes_in",
            1000,
            "2026-11-01T05:00:00Z",
        ),
        // Older than ns1's 12:00 figure: ignored. Later than ns2's 09:00: replaces it.
        at(
            "acme",
            Some("ns1"),
            "storage_bytes",
            9999,
            "2026-11-01T08:00:00Z",
        ),
        at(
            "acme",
            Some("ns2"),
            "storage_bytes",
            400,
            "2026-11-01T23:00:00Z",
        ),
        at(
            "acme",
            Some("ns1"),
            "storage_bytes",
            2000,
            "2026-11-03T00:00:00Z",
        ),
        at("acme", None, "bytes_out", 4, "2026-11-03T00:00:00Z"),
        at("beta", None, "messages_in", 20, "2026-11-05T00:00:00Z"),
        at("acme", None, "bytes_in", 3, "2026-10-31T23:59:59Z"),
    ];
    for (name, records) in [("first.json", &first[..]), ("second.json", &second[..])] {
        let file = records_file(env, name, records);
        let out = import(env, &[&file]);
        expect_exit(&out, 0);
        assert_eq!(summary(&out)["accepted"], records.len());
    }
}

#[test]
fn counters_add_up_and_storage_keeps_each_namespaces_latest_figure() {
    let env = acme_and_beta();
    import_show_data(&env);

    // bytes_in on 11-01: 100 + 200 + 50 + 1 + 1000 across namespaces and imports;
    // storage on 11-01: ns1's 700 (12:00) + ns2's 400 (23:00).
    assert_eq!(
        show_range(&env, "2026-11-01", "2026-11-30"),
        points(&[
            (Some("acme"), "2026-11-01", "bytes_in", 1351),
            (Some("acme"), "2026-11-01", "storage_bytes", 1100),
            (Some("beta"), "2026-11-02", "messages_in", 10),
            (Some("acme"), "2026-11-03", "bytes_out", 4),
            (Some("acme"), "2026-11-03", "storage_bytes", 2000),
            (Some("beta"), "2026-11-05", "messages_in", 20),
        ])
    );

    // By month: counters are totals, storage is the month's last day with data.
    assert_eq!(
        show(
            &env,
            &[
                "--from",
                "2026-10-01",
                "--to",
                "2026-11-30",
                "--by",
                "month"
            ]
        ),
        points(&[
            (Some("acme"), "2026-10", "bytes_in", 3),
            (Some("acme"), "2026-11", "bytes_in", 1351),
            (Some("acme"), "2026-11", "bytes_out", 4),
            (Some("acme"), "2026-11", "storage_bytes", 2000),
            (Some("beta"), "2026-11", "messages_in", 30),
        ])
    );
}

#[test]
fn show_filters_by_metric_tenant_and_inclusive_range_in_json_and_csv() {
    let env = acme_and_beta();
    import_show_data(&env);

    assert_eq!(
        show(
            &env,
            &[
                "--from",
                "2026-10-01",
                "--to",
                "2026-11-30",
                "--metric",
                "storage_bytes"
            ]
        ),
        points(&[
            (Some("acme"), "2026-11-01", "storage_bytes", 1100),
            (Some("acme"), "2026-11-03", "storage_bytes", 2000),
        ])
    );
    assert_eq!(
        show(
            &env,
            &[
                "--from",
                "2026-10-01",
                "--to",
                "2026-11-30",
                "--tenant",
                "beta"
            ]
        ),
        points(&[
            (Some("beta"), "2026-11-02", "messages_in", 10),
            (Some("beta"), "2026-11-05", "messages_in", 20),
        ])
    );
    assert_eq!(
        show(
            &env,
            &[
                "--from",
                "2026-10-01",
                "--to",
                "2026-11-30",
                "--tenant",
                "acme",
                "--metric",
                "bytes_in",
                "--by",
                "month",
            ]
        ),
        points(&[
            (Some("acme"), "2026-10", "bytes_in", 3),
            (Some("acme"), "2026-11", "bytes_in", 1351),
        ])
    );
    // Both ends are included: 10-31 (23:59:59) and 11-01, not 11-02.
    assert_eq!(
        show(
            &env,
            &[
                "--from",
                "2026-10-31",
                "--to",
                "2026-11-01",
                "--metric",
                "bytes_in"
            ]
        ),
        points(&[
            (Some("acme"), "2026-10-31", "bytes_in", 3),
            (Some("acme"), "2026-11-01", "bytes_in", 1351),
        ])
    );
    assert_eq!(
        show_range(&env, "2026-11-02", "2026-11-03"),
        points(&[
            (Some("beta"), "2026-11-02", "messages_in", 10),
            (Some("acme"), "2026-11-03", "bytes_out", 4),
            (Some("acme"), "2026-11-03", "storage_bytes", 2000),
        ])
    );

    // CSV: a header and one row per point.
    let csv = env.ok(&[
        "usage",
        "show",
        "--from",
        "2026-11-02",
        "--to",
        "2026-11-03",
        "-o",
        "csv",
    ]);
    assert_eq!(
        csv,
        "tenant,period,metric,value\n\
         beta,2026-11-02,messages_in,10\n\
         acme,2026-11-03,bytes_out,4\n\
         acme,2026-11-03,storage_bytes,2000"
    );

    // An empty range: [] in JSON, a bare header in CSV, exit 0.
    assert_eq!(show_range(&env, "2026-10-01", "2026-10-05"), json!([]));
    let csv = env.ok(&[
        "usage",
        "show",
        "--from",
        "2026-10-01",
        "--to",
        "2026-10-05",
        "-o",
        "csv",
    ]);
    assert_eq!(csv, "tenant,period,metric,value");
    let table = env.run(&[
        "usage",
        "show",
        "--from",
        "2026-10-01",
        "--to",
        "2026-10-05",
    ]);
    expect_exit(&table, 0);
    assert!(table.stdout.is_empty(), "no data, no table");

    // A reversed range is invalid input.
    let out = env.run(&[
        "usage",
        "show",
        "--from",
        "2026-11-05",
        "--to",
        "2026-11-01",
        "-o",
        "json",
    ]);
    let message = expect_failure(&out, 2, "invalid_input");
    assert!(message.contains("2026-11-05"), "{message}");
}

#[test]
fn show_prints_the_table_then_the_chart() {
    let env = acme_and_beta();
    let file = records_file(
        &env,
        "chart.json",
        &[
            at("acme", None, "bytes_in", 1_000_000, "2026-11-01T08:00:00Z"),
            at("acme", None, "bytes_in", 500_000, "2026-11-02T08:00:00Z"),
            at("acme", None, "bytes_in", 2_000_000, "2026-11-04T08:00:00Z"),
            at("acme", None, "bytes_in", 250, "2026-11-07T08:00:00Z"),
            // Outside the range, metric or tenant: not shown.
            at("acme", None, "bytes_in", 999, "2026-11-08T08:00:00Z"),
            at("acme", None, "messages_in", 5, "2026-11-03T08:00:00Z"),
            at("beta", None, "bytes_in", 7, "2026-11-03T08:00:00Z"),
        ],
    );
    expect_exit(&import(&env, &[&file]), 0);

    let out = env.run(&[
        "usage",
        "show",
        "--from",
        "2026-11-01",
        "--to",
        "2026-11-07",
        "--tenant",
        "acme",
        "--metric",
        "bytes_in",
        "--chart",
        "always",
        "--color",
        "never",
    ]);
    expect_exit(&out, 0);
    // Not a terminal: 80 columns, so 59 bar cells; 2.00 MB fills them, 1.00 MB is 29½,
    // 500 kB 14¾, 250 B the smallest mark; days without data show as 0 B.
    let expected = "\
TENANT  PERIOD      METRIC    VALUE
acme    2026-11-01  bytes_in  1.00 MB
acme    2026-11-02  bytes_in  500 kB
acme    2026-11-04  bytes_in  2.00 MB
acme    2026-11-07  bytes_in  250 B

bytes_in · acme · total 3.50 MB
2026-11-01  █████████████████████████████▌                               1.00 MB
2026-11-02  ██████████████▊                                               500 kB
2026-11-03                                                                   0 B
2026-11-04  ███████████████████████████████████████████████████████████  2.00 MB
2026-11-05                                                                   0 B
2026-11-06                                                                   0 B
2026-11-07  ▏                                                              250 B
";
    assert_eq!(String::from_utf8_lossy(&out.stdout), expected);
}

// ---------------------------------------------------------------------------------------
// Embedded: rates and billing
// ---------------------------------------------------------------------------------------

/// October 2026 (31 days) for acme and beta, plus a record on each side of it.
fn import_october(env: &TestEnv) {
    let mut records = vec![
        // acme: 2.5 GB in, 250,000 messages in, 7 GB out (unpriced).
        at(
            "acme",
            Some("a"),
            "bytes_in",
            2_000_000_000,
            "2026-10-01T00:00:00Z",
        ),
        at(
            "acme",
            Some("b"),
            "bytes_in",
            500_000_000,
            "2026-10-31T23:59:59Z",
        ),
        at("acme", None, "messages_in", 100_000, "2026-10-03T12:00:00Z"),
        at("acme", None, "messages_in", 150_000, "2026-10-04T12:00:00Z"),
        at(
            "acme",
            None,
            "bytes_out",
            7_000_000_000,
            "2026-10-05T00:00:00Z",
        ),
        // acme storage: 100 GB on each of 10-01 … 10-10 (10-01: 60 GB in a, superseding
        // 999 GB earlier that day, plus 40 GB in b).
        at(
            "acme",
            Some("a"),
            "storage_bytes",
            999_000_000_000,
            "2026-10-01T01:00:00Z",
        ),
        at(
            "acme",
            Some("a"),
            "storage_bytes",
            60_000_000_000,
            "2026-10-01T12:00:00Z",
        ),
        at(
            "acme",
            Some("b"),
            "storage_bytes",
            40_000_000_000,
            "2026-10-01T12:00:00Z",
        ),
        // beta: 1.5 GB in, 270,000 messages in.
        at(
            "beta",
            None,
            "bytes_in",
            1_500_000_000,
            "2026-10-15T00:00:00Z",
        ),
        at("beta", None, "messages_in", 270_000, "2026-10-15T00:00:00Z"),
        // Outside October.
        at(
            "acme",
            None,
            "bytes_in",
            1_000_000_000,
            "2026-09-30T23:59:59Z",
        ),
        at(
            "acme",
            None,
            "bytes_in",
            1_000_000_000,
            "2026-11-01T00:00:00Z",
        ),
    ];
    for day in 2..=10 {
        records.push(at(
            "acme",
            Some("a"),
            "storage_bytes",
            100_000_000_000,
            &format!("2026-10-{day:02}T12:00:00Z"),
        ));
    }
    let file = records_file(env, "october.json", &records);
    let out = import(env, &[&file]);
    expect_exit(&out, 0);
    assert_eq!(summary(&out)["accepted"], records.len());
}

/// The October bill at bytes_in 0.09, messages_in 0.5, storage_bytes 0.023 (USD).
fn october_bill_usd() -> Value {
    json!({
        "month": "2026-10",
        "currency": "USD",
        "tenants": [
            {
                "tenant": "acme",
                "lines": [
                    // 0.25 × 0.5 = 0.125 → 0.12 (half to even, not 0.13).
                    line("messages_in", "0.25", "million messages", "0.5", "0.12"),
                    // 2.5 × 0.09 = 0.225 → 0.22.
                    line("bytes_in", "2.5", "GB", "0.09", "0.22"),
                    // 10 days × 100 GB = 1e12 byte-days ÷ 31 days = 32.258064516 GB-month;
                    // × 0.023 = 0.74193548… → 0.74.
                    line("storage_bytes", "32.258064516", "GB-month", "0.023", "0.74"),
                ],
                "total": "1.08"
            },
            {
                "tenant": "beta",
                "lines": [
                    // 0.27 × 0.5 = 0.135 → 0.14 (half to even, not 0.13).
                    line("messages_in", "0.27", "million messages", "0.5", "0.14"),
                    // 1.5 × 0.09 = 0.135 → 0.14.
                    line("bytes_in", "1.5", "GB", "0.09", "0.14"),
                ],
                "total": "0.28"
            }
        ],
        "total": "1.36"
    })
}

#[test]
fn billing_prices_a_month_exactly_with_half_to_even_amounts() {
    let env = acme_and_beta();
    import_october(&env);

    // Nothing priced yet: an empty bill.
    assert_eq!(
        bill(&env, "2026-10", &[]),
        json!({"month": "2026-10", "currency": "USD", "tenants": [], "total": "0.00"})
    );

    let card = env.ok_json(&[
        "usage",
        "rates",
        "set",
        "bytes_in",
        "0.09",
        "messages_in",
        "0.5",
        "storage_bytes",
        "0.023",
    ]);
    assert_eq!(card["currency"], "USD");
    assert_eq!(card["minor_units"], 2);
    assert_eq!(price(&card, "bytes_in"), "0.09");
    assert_eq!(price(&card, "messages_in"), "0.5");
    assert_eq!(price(&card, "storage_bytes"), "0.023");
    assert_eq!(price(&card, "bytes_out"), Value::Null);
    assert_eq!(rates(&env), card, "rates show gives what set answered");

    assert_eq!(bill(&env, "2026-10", &[]), october_bill_usd());

    // One tenant's part of the bill.
    let mut beta_only = october_bill_usd();
    beta_only["tenants"] = json!([october_bill_usd()["tenants"][1].clone()]);
    beta_only["total"] = json!("0.28");
    assert_eq!(bill(&env, "2026-10", &["--tenant", "beta"]), beta_only);

    // The neighbouring months hold only the records on either side of October.
    let september = json!({
        "month": "2026-09", "currency": "USD",
        "tenants": [{"tenant": "acme", "lines": [line("bytes_in", "1", "GB", "0.09", "0.09")],
                     "total": "0.09"}],
        "total": "0.09"
    });
    assert_eq!(bill(&env, "2026-09", &[]), september);
    // A month without data: empty, total 0.00, exit 0.
    assert_eq!(
        bill(&env, "2026-08", &[]),
        json!({"month": "2026-08", "currency": "USD", "tenants": [], "total": "0.00"})
    );

    // CSV: a row per line, a total row per tenant and one for the bill.
    let csv = env.ok(&["usage", "billing", "--month", "2026-10", "-o", "csv"]);
    assert_eq!(
        csv,
        "month,tenant,metric,quantity,unit,unit_price,amount,currency\n\
         2026-10,acme,messages_in,0.25,million messages,0.5,0.12,USD\n\
         2026-10,acme,bytes_in,2.5,GB,0.09,0.22,USD\n\
         2026-10,acme,storage_bytes,32.258064516,GB-month,0.023,0.74,USD\n\
         2026-10,acme,total,,,,1.08,USD\n\
         2026-10,beta,messages_in,0.27,million messages,0.5,0.14,USD\n\
         2026-10,beta,bytes_in,1.5,GB,0.09,0.14,USD\n\
         2026-10,beta,total,,,,0.28,USD\n\
         2026-10,(all),total,,,,1.36,USD"
    );

    // Unpricing a metric drops its line (and changes the totals).
    let card = env.ok_json(&["usage", "rates", "unset", "storage_bytes"]);
    assert_eq!(price(&card, "storage_bytes"), Value::Null);
    assert_eq!(price(&card, "bytes_in"), "0.09");
    let mut unpriced = october_bill_usd();
    unpriced["tenants"][0]["lines"]
        .as_array_mut()
        .unwrap()
        .truncate(2);
    unpriced["tenants"][0]["total"] = json!("0.34");
    unpriced["total"] = json!("0.62");
    assert_eq!(bill(&env, "2026-10", &[]), unpriced);

    // JPY: no minor units, so amounts are whole yen (still half to even).
    let card = env.ok_json(&[
        "usage",
        "rates",
        "set",
        "bytes_in",
        "13",
        "messages_in",
        "500",
        "storage_bytes",
        "3",
        "--currency",
        "JPY",
    ]);
    assert_eq!(
        (&card["currency"], &card["minor_units"]),
        (&json!("JPY"), &json!(0))
    );
    let jpy = json!({
        "month": "2026-10",
        "currency": "JPY",
        "tenants": [
            {
                "tenant": "acme",
                "lines": [
                    line("messages_in", "0.25", "million messages", "500", "125"),
                    // 2.5 × 13 = 32.5 → 32.
                    line("bytes_in", "2.5", "GB", "13", "32"),
                    // 32.258064516 × 3 = 96.77… → 97.
                    line("storage_bytes", "32.258064516", "GB-month", "3", "97"),
                ],
                "total": "254"
            },
            {
                "tenant": "beta",
                "lines": [
                    line("messages_in", "0.27", "million messages", "500", "135"),
                    // 1.5 × 13 = 19.5 → 20.
                    line("bytes_in", "1.5", "GB", "13", "20"),
                ],
                "total": "155"
            }
        ],
        "total": "409"
    });
    assert_eq!(bill(&env, "2026-10", &[]), jpy);
    assert_eq!(
        bill(&env, "2026-08", &[]),
        json!({"month": "2026-08", "currency": "JPY", "tenants": [], "total": "0"})
    );
}

#[test]
fn rate_card_changes_are_checked_and_all_or_nothing() {
    let env = TestEnv::new();
    env.ok_json(&["usage", "rates", "set", "bytes_in", "0.09"]);
    let before = rates(&env);
    assert_eq!(price(&before, "bytes_in"), "0.09");

    // A negative price (clap reads a bare -1 as an option; after -- it reaches the check).
    let out = env.run(&["usage", "rates", "set", "bytes_in", "-1"]);
    expect_exit(&out, 2);
    assert_eq!(rates(&env), before);
    let out = env.run(&[
        "usage", "rates", "set", "-o", "json", "--", "bytes_in", "-1",
    ]);
    let message = expect_failure(&out, 2, "invalid_input");
    assert!(message.contains("negative"), "{message}");
    assert_eq!(rates(&env), before);
    // One bad price among good ones changes nothing.
    let out = env.run(&[
        "usage",
        "rates",
        "set",
        "-o",
        "json",
        "--",
        "bytes_in",
        "0.5",
        "messages_in",
        "-1",
    ]);
    expect_failure(&out, 2, "invalid_input");
    assert_eq!(rates(&env), before);

    // An unknown metric: the message names the valid ones.
    let out = env.run(&[
        "usage", "rates", "set", "bytes_in", "0.5", "bogus", "1", "-o", "json",
    ]);
    let message = expect_failure(&out, 2, "invalid_input");
    assert!(message.contains("\"bogus\""), "{message}");
    for metric in [
        "messages_in",
        "messages_out",
        "bytes_in",
        "bytes_out",
        "storage_bytes",
        "tokens_issued",
        "authentications",
        "introspections",
        "api_calls",
        "active_token_days",
    ] {
        assert!(message.contains(metric), "{message:?} names {metric}");
    }
    assert_eq!(rates(&env), before);

    // An odd number of arguments: a metric without its price.
    let out = env.run(&[
        "usage",
        "rates",
        "set",
        "bytes_in",
        "0.5",
        "messages_in",
        "-o",
        "json",
    ]);
    let message = expect_failure(&out, 2, "invalid_input");
    assert!(message.contains("messages_in"), "{message}");
    assert_eq!(rates(&env), before);

    // Too many decimals, a malformed currency, nothing at all.
    for args in [
        &["bytes_in", "0.1234567"][..],
        &["--currency", "usd"][..],
        &[][..],
    ] {
        let mut all = vec!["usage", "rates", "set", "-o", "json"];
        all.extend_from_slice(args);
        expect_failure(&env.run(&all), 2, "invalid_input");
        assert_eq!(rates(&env), before, "{args:?}");
    }
    // Unset needs a metric, and a known one.
    expect_exit(&env.run(&["usage", "rates", "unset"]), 2);
    expect_failure(
        &env.run(&["usage", "rates", "unset", "bogus", "-o", "json"]),
        2,
        "invalid_input",
    );
    assert_eq!(rates(&env), before);
}

#[test]
fn active_token_days_bill_the_month_a_token_was_usable_and_issuing_is_metered() {
    let env = acme_and_beta();
    env.ok_json(&["usage", "rates", "set", "active_token_days", "0.25"]);
    // Usable from now to the end of today (UTC): exactly one token-day, this month.
    let today = today();
    let month = &today[..7];
    env.ok_json(&[
        "token",
        "create",
        "--tenant",
        "acme",
        "--name",
        "today-only",
        "--expires",
        &format!("{today}T23:59:59Z"),
    ]);

    assert_eq!(
        bill(&env, month, &[]),
        json!({
            "month": month,
            "currency": "USD",
            "tenants": [{
                "tenant": "acme",
                "lines": [line("active_token_days", "1", "token-day", "0.25", "0.25")],
                "total": "0.25"
            }],
            "total": "0.25"
        })
    );
    // The token did not exist in October.
    assert_eq!(
        bill(&env, "2026-10", &[]),
        json!({"month": "2026-10", "currency": "USD", "tenants": [], "total": "0.00"})
    );
    assert_eq!(
        bill(&env, month, &["--tenant", "beta"]),
        json!({"month": month, "currency": "USD", "tenants": [], "total": "0.00"})
    );

    // The embedded control plane metered the token it issued, at the end of the command.
    assert_eq!(
        show(&env, &["--since", "1d", "--metric", "tokens_issued"]),
        points(&[(Some("acme"), &today, "tokens_issued", 1)])
    );
}

/// Bug: a bill for a month that has not begun charges active_token_days for days that have
/// not happened (a never-expiring token created today bills every day of next month).
#[test]
fn a_future_month_has_no_usage_to_bill() {
    let env = acme_and_beta();
    env.ok_json(&["usage", "rates", "set", "active_token_days", "0.25"]);
    env.ok_json(&[
        "token",
        "create",
        "--tenant",
        "acme",
        "--name",
        "forever",
        "--expires",
        "never",
    ]);
    let now = OffsetDateTime::now_utc().date();
    let (year, month) = if u8::from(now.month()) == 12 {
        (now.year() + 1, 1)
    } else {
        (now.year(), u8::from(now.month()) + 1)
    };
    let next = format!("{year:04}-{month:02}");
    assert_eq!(
        bill(&env, &next, &[]),
        json!({"month": next, "currency": "USD", "tenants": [], "total": "0.00"})
    );
}

// ---------------------------------------------------------------------------------------
// Server
// ---------------------------------------------------------------------------------------

/// `tok ARGS -o json` with `TOK_TOKEN=token` (the env's server profile gives the URL).
fn as_token(env: &TestEnv, token: &str, args: &[&str]) -> Output {
    let mut all = args.to_vec();
    all.extend(["-o", "json"]);
    env.run_env(&all, &[("TOK_TOKEN", token)])
}

/// A custom role granting `action` on tenant acme only, and an application token holding it.
fn scoped_token(env: &TestEnv, name: &str, action: &str) -> String {
    env.ok_json(&[
        "role",
        "create",
        name,
        "--action",
        action,
        "--resource",
        "drn:tok:local:tenant:acme",
    ]);
    let created = env.ok_json(&["token", "create", "--role", name, "--name", name]);
    created["token"].as_str().expect("the token").to_string()
}

/// `POST /v1/orgs/local/usage/records`.
fn post_records(api: &Api, batch: &Value) -> crate::server_api::Reply {
    api.post(&format!("{ORG}/usage/records"), batch)
}

/// A server env (org `local`, logged in as admin) started with `extra` flags.
fn server_env(extra: &[&str]) -> (TestEnv, ServerProcess) {
    let env = TestEnv::new();
    let server = env.start_server(extra);
    env.login(&server.url);
    (env, server)
}

/// Polls `check` every 300 ms, up to `tries` times; true when it held.
fn eventually(tries: usize, mut check: impl FnMut() -> bool) -> bool {
    for _ in 0..tries {
        if check() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(300));
    }
    check()
}

/// The value of `(tenant, metric)` in `usage show` JSON for one day (0 when absent).
fn value_of(points: &Value, tenant: Option<&str>, metric: &str) -> u64 {
    points
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["tenant"].as_str() == tenant && p["metric"] == metric)
        .map(|p| p["value"].as_u64().unwrap())
        .sum()
}

#[test]
fn server_records_reports_and_meters_usage() {
    // One server for every server-side check but the graceful stop; counts flush each second.
    let (env, server) = server_env(&["--meter-flush-interval", "1s"]);
    let embedded = acme_and_beta();
    env.ok(&["tenant", "create", "acme"]);
    env.ok(&["tenant", "create", "beta"]);

    // The same import through the server profile: the same answer as embedded, and the same
    // report.
    let records = mixed_records();
    let remote_file = records_file(&env, "mixed.json", &records);
    let local_file = records_file(&embedded, "mixed.json", &records);
    let remote = import(&env, &[&remote_file]);
    let local = import(&embedded, &[&local_file]);
    expect_exit(&remote, 1);
    expect_exit(&local, 1);
    check_mixed_summary(&summary(&remote));
    assert_eq!(summary(&remote), summary(&local));
    assert_eq!(error_json(&remote)["code"], error_json(&local)["code"]);
    let report = show_range(&env, "2026-11-01", "2026-11-07");
    assert_eq!(report, mixed_expected());
    assert_eq!(report, show_range(&embedded, "2026-11-01", "2026-11-07"));
    let replay = import(&env, &[&remote_file]);
    expect_exit(&replay, 1);
    assert_eq!(summary(&replay)["replayed"], 1);
    assert_eq!(
        show_range(&env, "2026-11-01", "2026-11-07"),
        mixed_expected()
    );
    // --atomic with a bad record: exit 2, nothing recorded.
    let atomic = import(&env, &[&remote_file, "--atomic", "--batch-id", "atomic-1"]);
    expect_exit(&atomic, 2);
    assert_eq!(
        show_range(&env, "2026-11-01", "2026-11-07"),
        mixed_expected()
    );

    // The records API, raw.
    let admin = Api::admin(&server);
    let one = |value: i64, day: &str| {
        json!({"tenant": "acme", "metric": "bytes_out", "value": value,
               "at": format!("{day}T00:00:00Z")})
    };
    let out_on = |day: &str| show(&env, &["--from", day, "--to", day, "--metric", "bytes_out"]);
    // 10,001 records: 400, nothing recorded.
    let reply = post_records(
        &admin,
        &json!({"batch_id": "too-many", "records": vec![one(1, "2026-11-05"); 10_001]}),
    );
    let problem = reply.problem(400, "invalid_input");
    assert!(
        problem["detail"].as_str().unwrap().contains("10000"),
        "{problem}"
    );
    assert_eq!(out_on("2026-11-05"), json!([]));
    // The same batch id with other records: 409, the first stands.
    let reply = post_records(
        &admin,
        &json!({"batch_id": "b-1", "records": [one(5, "2026-11-05")]}),
    );
    reply.expect(200);
    assert_eq!(
        reply.json(),
        json!({"batch_id": "b-1", "accepted": 1, "rejected": [], "replayed": false})
    );
    let reply = post_records(
        &admin,
        &json!({"batch_id": "b-1", "records": [one(6, "2026-11-05")]}),
    );
    reply.problem(409, "conflict");
    let reply = post_records(
        &admin,
        &json!({"batch_id": "b-1", "records": [one(5, "2026-11-05")]}),
    );
    reply.expect(200);
    assert_eq!(reply.json()["replayed"], true);
    assert_eq!(
        out_on("2026-11-05"),
        points(&[(Some("acme"), "2026-11-05", "bytes_out", 5)])
    );
    // Atomic with a bad record: 422, nothing recorded.
    let reply = post_records(
        &admin,
        &json!({"batch_id": "atomic-2", "atomic": true,
                "records": [one(7, "2026-11-06"), one(-1, "2026-11-06")]}),
    );
    reply.expect(422);
    assert!(reply.text.contains("record 1"), "{}", reply.text);
    assert_eq!(out_on("2026-11-06"), json!([]));
    // 10,000 records in a body over 2 MB: accepted.
    let namespace = "n".repeat(150);
    let big: Vec<Value> = (0..10_000)
        .map(|i| {
            json!({"tenant": "acme", "namespace": format!("{namespace}{}", i % 7),
                   "metric": "bytes_out", "value": 1, "at": "2026-11-06T12:00:00Z"})
        })
        .collect();
    let body = json!({"batch_id": "two-megabytes", "records": big});
    assert!(body.to_string().len() > 2_000_000, "the body is over 2 MB");
    let reply = post_records(&admin, &body);
    reply.expect(200);
    assert_eq!(reply.json()["accepted"], 10_000);
    assert_eq!(
        out_on("2026-11-06"),
        points(&[(Some("acme"), "2026-11-06", "bytes_out", 10_000)])
    );

    // A caller who may read acme's usage only.
    let reader = scoped_token(&env, "usage-reader-acme", "usage-read");
    let out = as_token(
        &env,
        &reader,
        &[
            "usage",
            "show",
            "--from",
            "2026-11-01",
            "--to",
            "2026-11-07",
        ],
    );
    expect_exit(&out, 0);
    assert_eq!(
        json(&out),
        points(&[
            (Some("acme"), "2026-11-01", "bytes_in", 100),
            (Some("acme"), "2026-11-02", "storage_bytes", 42),
            (Some("acme"), "2026-11-05", "bytes_out", 5),
            (Some("acme"), "2026-11-06", "bytes_out", 10_000),
        ])
    );
    // beta is as unknown to it as a tenant that does not exist.
    let range = ["--from", "2026-11-01", "--to", "2026-11-07"];
    let mut beta = vec!["usage", "show", "--tenant", "beta"];
    beta.extend(range);
    let beta_message = expect_failure(&as_token(&env, &reader, &beta), 3, "not_found");
    let mut nosuch = vec!["usage", "show", "--tenant", "nosuch"];
    nosuch.extend(range);
    let nosuch_message = expect_failure(&as_token(&env, &reader, &nosuch), 3, "not_found");
    assert_eq!(beta_message.replace("beta", "nosuch"), nosuch_message);
    // Billing is another grant.
    expect_failure(
        &as_token(&env, &reader, &["usage", "billing", "--month", "2026-11"]),
        4,
        "forbidden",
    );

    // A caller who may record acme's usage only: beta is "does not exist", like nosuch.
    let writer = scoped_token(&env, "usage-writer-acme", "usage-write");
    let file = records_file(
        &env,
        "scoped.json",
        &[
            at("acme", None, "messages_out", 11, "2026-11-07T10:00:00Z"),
            at("beta", None, "messages_out", 12, "2026-11-07T10:00:00Z"),
            at("nosuch", None, "messages_out", 13, "2026-11-07T10:00:00Z"),
        ],
    );
    let out = as_token(&env, &writer, &["usage", "import", &file]);
    expect_exit(&out, 1);
    let doc = summary(&out);
    assert_eq!(doc["accepted"], 1, "{doc}");
    assert_eq!(
        doc["rejected"],
        json!([
            {"index": 1, "reason": "tenant \"beta\" does not exist (`tok tenant list` shows them)"},
            {"index": 2, "reason": "tenant \"nosuch\" does not exist (`tok tenant list` shows them)"},
        ])
    );
    assert_eq!(
        show(
            &env,
            &[
                "--from",
                "2026-11-07",
                "--to",
                "2026-11-07",
                "--metric",
                "messages_out"
            ]
        ),
        points(&[(Some("acme"), "2026-11-07", "messages_out", 11)])
    );

    // Metering: a token issued in acme, a login, API calls and an introspection.
    let token = env.ok_json(&[
        "token",
        "create",
        "--tenant",
        "acme",
        "--name",
        "metered",
        "--expires",
        "1d",
    ]);
    env.login(&server.url);
    env.ok_json(&["token", "list", "--tenant", "acme"]);
    env.ok_json(&["tenant", "list"]);
    let inspected = env.ok_json(&["token", "inspect", token["token"].as_str().unwrap()]);
    assert_eq!(inspected["active"], true);
    let today = today();
    let mut usage = json!([]);
    let flushed = eventually(15, || {
        usage = show(&env, &["--since", "1d"]);
        value_of(&usage, Some("acme"), "introspections") >= 1
            && value_of(&usage, Some("acme"), "tokens_issued") >= 1
            && value_of(&usage, None, "authentications") >= 1
            && value_of(&usage, Some("acme"), "api_calls") >= 1
    });
    assert!(flushed, "the meter's counts were written: {usage}");
    for p in usage.as_array().unwrap() {
        assert_eq!(p["period"], today.as_str(), "{usage}");
    }
    // Exactly one streaming token was issued in acme and introspected.
    assert_eq!(
        value_of(&usage, Some("acme"), "tokens_issued"),
        1,
        "{usage}"
    );
    assert_eq!(
        value_of(&usage, Some("acme"), "introspections"),
        1,
        "{usage}"
    );
    // Logins: the first one, Api::admin, and the second one.
    assert!(value_of(&usage, None, "authentications") >= 3, "{usage}");
    // The two application tokens are the org's own.
    assert!(value_of(&usage, None, "tokens_issued") >= 2, "{usage}");
    assert!(value_of(&usage, None, "api_calls") > 0, "{usage}");
    // --metric api_calls shows only that metric.
    let calls = show(&env, &["--since", "1d", "--metric", "api_calls"]);
    assert!(!calls.as_array().unwrap().is_empty(), "{calls}");
    assert!(
        calls
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["metric"] == "api_calls"),
        "{calls}"
    );
}

#[test]
fn a_graceful_stop_writes_the_last_counts() {
    let help = TestEnv::new().ok(&["server", "start", "--help"]);
    assert!(help.contains("--meter-flush-interval <DURATION>"), "{help}");
    // Counts are written every hour, or when the server stops.
    let (env, mut server) = server_env(&["--meter-flush-interval", "1h"]);
    env.ok(&["tenant", "create", "acme"]);
    let admin = Api::admin(&server);
    const CALLS: u64 = 7;
    for _ in 0..CALLS {
        admin.get(&format!("{ORG}/tenants/acme")).expect(200);
    }
    assert_eq!(
        show(&env, &["--since", "1d", "--tenant", "acme"]),
        json!([]),
        "nothing was written before the stop"
    );
    let status = server.terminate().expect("the server stops on SIGTERM");
    assert!(status.success(), "a clean stop: {status:?}");

    let restarted = env.spawn_server(
        &server.database,
        &server.master_key_file,
        &["--meter-flush-interval", "1h"],
    );
    env.login(&restarted.url);
    // Exactly the calls made on acme's path; the two logins before the stop.
    let today = today();
    assert_eq!(
        show(&env, &["--since", "1d", "--tenant", "acme"]),
        points(&[(Some("acme"), &today, "api_calls", CALLS)])
    );
    assert_eq!(
        show(&env, &["--since", "1d", "--metric", "authentications"]),
        points(&[(None, &today, "authentications", 2)])
    );
}

/// Bug: a request naming a tenant that does not exist is metered as that tenant's usage.
#[test]
fn calls_naming_a_tenant_that_does_not_exist_are_not_its_usage() {
    let (env, server) = server_env(&["--meter-flush-interval", "1s"]);
    let admin = Api::admin(&server);
    admin.get(&format!("{ORG}/tenants/ghost")).expect(404);
    admin
        .get(&format!("{ORG}/tenants/ghost/tokens"))
        .expect(404);
    let mut usage = json!([]);
    let flushed = eventually(15, || {
        usage = show(&env, &["--since", "1d"]);
        value_of(&usage, None, "authentications") >= 1
    });
    assert!(flushed, "the meter's counts were written: {usage}");
    assert!(
        usage
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["tenant"] != "ghost"),
        "no usage for a tenant that does not exist: {usage}"
    );
}

/// Bug: the same refused `--atomic` import gives a different error code embedded
/// (`invalid_input`) and against a server (`records_rejected`).
#[test]
fn atomic_refusal_has_one_error_code_on_both_backends() {
    let (env, _server) = server_env(&[]);
    env.ok(&["tenant", "create", "acme"]);
    let embedded = acme_and_beta();
    let records = [rec(
        "acme",
        None,
        "bytes_in",
        json!(-1),
        json!("2026-11-02T10:00:00Z"),
    )];
    let remote = import(
        &env,
        &[&records_file(&env, "bad.json", &records), "--atomic"],
    );
    let local = import(
        &embedded,
        &[&records_file(&embedded, "bad.json", &records), "--atomic"],
    );
    expect_exit(&remote, 2);
    expect_exit(&local, 2);
    assert_eq!(error_json(&remote)["code"], error_json(&local)["code"]);
}

/// Bug: batch ids are shared by every caller of the org, so a caller scoped to acme who
/// imports a file an administrator imported before gets the administrator's answer — beta's
/// record "accepted" — where its own import would say beta does not exist.
#[test]
fn a_replay_does_not_reveal_tenants_the_caller_may_not_see() {
    let (env, _server) = server_env(&[]);
    env.ok(&["tenant", "create", "acme"]);
    env.ok(&["tenant", "create", "beta"]);
    let writer = scoped_token(&env, "usage-writer-acme", "usage-write");
    let file = records_file(
        &env,
        "both.json",
        &[
            at("acme", None, "bytes_out", 11, "2026-11-06T10:00:00Z"),
            at("beta", None, "bytes_out", 12, "2026-11-06T10:00:00Z"),
        ],
    );
    let out = import(&env, &[&file]);
    expect_exit(&out, 0);
    assert_eq!(summary(&out)["accepted"], 2);

    // The same file from another principal: its batch id is taken, and the first answer
    // (which names beta's record as recorded) is not handed to a caller who may not see beta.
    let out = as_token(&env, &writer, &["usage", "import", &file]);
    expect_exit(&out, 5);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("another principal"), "{err}");
    assert!(!err.contains("beta"), "{err}");
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // Its own batch id: acme recorded once more, beta refused as unknown to it.
    let out = as_token(
        &env,
        &writer,
        &["usage", "import", &file, "--batch-id", "writer-1"],
    );
    expect_exit(&out, 1);
    let doc = summary(&out);
    assert_eq!(
        doc["rejected"],
        json!([{"index": 1,
                "reason": "tenant \"beta\" does not exist (`tok tenant list` shows them)"}]),
        "{doc}"
    );
    assert_eq!(doc["accepted"], 1, "{doc}");
}
