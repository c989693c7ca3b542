//! `tok usage collect` against a real Prometheus exposition: Python's third-party
//! `prometheus_client` serves Pulsar-named counters and gauges with tenant/namespace labels on
//! 127.0.0.1:0 (tests/fixtures/prometheus_broker.py), and the test advances them between
//! scrapes, resets them as a broker restart does, and runs two brokers side by side.
//!
//! Without python3 and prometheus_client those tests say they were skipped, unless `CI` is
//! set: then they fail.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Output, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use crate::both_backends;
use crate::common::{
    TOK, TestEnv, expect_error, expect_exit, json, path_str, skip_or_fail, stderr, stdout,
};

const SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/prometheus_broker.py"
);

/// The four counters and the gauge tok maps, as prometheus_client declares them (it writes
/// the counters' samples with `_total`, as Pulsar does).
const IN_MSGS: &str = "pulsar_in_messages";
const IN_BYTES: &str = "pulsar_in_bytes";
const OUT_MSGS: &str = "pulsar_out_messages";
const OUT_BYTES: &str = "pulsar_out_bytes";
const STORAGE: &str = "pulsar_storage_size";

/// Whether python3 can import prometheus_client (or the test may be skipped outside CI).
fn prometheus_client_available() -> bool {
    let ok = std::process::Command::new("python3")
        .args(["-c", "import prometheus_client"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        skip_or_fail("python3 with prometheus_client is needed: pip install prometheus_client");
    }
    ok
}

/// One fake broker: the fixture script, serving /metrics on 127.0.0.1 until dropped.
struct Broker {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
    /// `http://127.0.0.1:PORT/metrics`
    url: String,
    port: u16,
    log: PathBuf,
}

impl Broker {
    /// Starts a broker, or returns `None` (after [`skip_or_fail`]) without prometheus_client.
    fn start(env: &TestEnv, name: &str) -> Option<Broker> {
        if !prometheus_client_available() {
            return None;
        }
        let log = env.path().join(format!("broker-{name}.log"));
        let mut child = env
            .command("python3")
            .arg(SCRIPT)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).expect("broker log"))
            .spawn()
            .expect("python3 starts");
        let stdin = child.stdin.take();
        let stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        let mut broker = Broker {
            child,
            stdin,
            stdout,
            url: String::new(),
            port: 0,
            log,
        };
        let line = broker.read_line();
        broker.port = line.trim().parse().unwrap_or_else(|_| {
            panic!(
                "the broker did not print its port but {line:?}; log:\n{}",
                std::fs::read_to_string(&broker.log).unwrap_or_default()
            )
        });
        broker.url = format!("http://127.0.0.1:{}/metrics", broker.port);
        Some(broker)
    }

    fn read_line(&mut self) -> String {
        let mut line = String::new();
        self.stdout.read_line(&mut line).expect("read the broker");
        line
    }

    /// Sends one command and insists on `ok`.
    fn send(&mut self, command: &str) {
        let stdin = self.stdin.as_mut().expect("the broker runs");
        writeln!(stdin, "{command}")
            .and_then(|()| stdin.flush())
            .expect("write to the broker");
        let answer = self.read_line();
        assert_eq!(
            answer.trim(),
            "ok",
            "broker command {command:?}; log:\n{}",
            std::fs::read_to_string(&self.log).unwrap_or_default()
        );
    }

    /// Adds `amount` to a counter series.
    fn inc(&mut self, metric: &str, labels: &Value, amount: u64) {
        self.send(&format!("inc {metric} {labels} {amount}"));
    }

    /// Sets a gauge series.
    fn set(&mut self, metric: &str, labels: &Value, value: u64) {
        self.send(&format!("set {metric} {labels} {value}"));
    }

    /// Every counter starts again from zero (and every series is gone until set again).
    fn restart(&mut self) {
        self.send("reset");
    }

    /// Answers `body` as `content_type` instead of the metrics.
    fn serve(&mut self, content_type: &str, body: &str) {
        self.send(&format!("serve {} {}", json!(content_type), json!(body)));
    }

    /// Stops the process; its port is closed when this returns.
    fn stop(&mut self) {
        if self.stdin.is_some() {
            self.send("quit");
            self.stdin = None;
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        // Closing stdin ends the script; kill it anyway so that nothing is left listening.
        self.stdin = None;
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// A spawned `tok`, killed if still running when dropped.
struct Running(Option<Child>);

impl Running {
    fn child(&mut self) -> &mut Child {
        self.0.as_mut().expect("not collected yet")
    }

    /// Waits for the (exited) process and returns what it printed.
    fn output(&mut self) -> Output {
        self.0
            .take()
            .expect("not collected yet")
            .wait_with_output()
            .expect("tok's output")
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(child) = self.0.as_mut() {
            if let Ok(None) = child.try_wait() {
                let _ = child.kill();
            }
            let _ = child.wait();
        }
    }
}

/// The labels Pulsar puts on a topic's series.
fn topic(namespace: &str, name: &str) -> Value {
    json!({
        "cluster": "standalone",
        "namespace": namespace,
        "topic": format!("persistent://{namespace}/{name}"),
    })
}

/// A topic's labels plus `subscription`, as on Pulsar's out counters.
fn subscription(namespace: &str, name: &str, sub: &str) -> Value {
    let mut labels = topic(namespace, name);
    labels["subscription"] = json!(sub);
    labels
}

fn unix_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
}

std::thread_local! {
    /// The second in which this test's last `tok usage collect` ended.
    static LAST_RUN: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// Sleeps until the second in which this test last ran `tok usage collect` is over. A
/// scrape's time is whole seconds: one in the same second as the last is not counted (the
/// counters' last samples are at that second) and its batch id is the last one's (see
/// [`two_runs_within_one_second_both_succeed`]).
fn wait_for_next_second() {
    let last = LAST_RUN.with(std::cell::Cell::get);
    while unix_secs() <= last {
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// `tok usage collect ARGS -o json`.
fn collect(env: &TestEnv, args: &[&str]) -> Output {
    let mut all = vec!["usage", "collect"];
    all.extend_from_slice(args);
    all.extend(["--timeout", "5s", "-o", "json"]);
    env.run(&all)
}

/// `collect` with `--once` in a second of its own, insisting on exit 0; returns the summary
/// and stderr.
fn collect_once(env: &TestEnv, args: &[&str]) -> (Value, String) {
    let mut all = args.to_vec();
    all.push("--once");
    wait_for_next_second();
    let out = collect(env, &all);
    LAST_RUN.with(|l| l.set(unix_secs()));
    expect_exit(&out, 0);
    (json(&out), stderr(&out))
}

/// A Unix time's UTC date, YYYY-MM-DD (days to civil, proleptic Gregorian).
fn utc_date(secs: i64) -> String {
    let z = secs.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

fn today() -> String {
    utc_date(i64::try_from(unix_secs()).expect("seconds fit"))
}

#[test]
fn utc_dates() {
    assert_eq!(utc_date(0), "1970-01-01");
    assert_eq!(utc_date(951_782_400), "2000-02-29");
    assert_eq!(utc_date(1_710_028_799), "2024-03-09");
    assert_eq!(utc_date(1_710_028_800), "2024-03-10");
    assert_eq!(utc_date(4_102_444_800), "2100-01-01");
}

/// The data-plane usage `tok usage show -o json` reports, by (tenant, metric): counters
/// summed over days, storage_bytes the latest day's figure. Every day must be between
/// `since` (the test's first day) and today: a scrape records today's increase.
fn usage(env: &TestEnv, since: &str) -> BTreeMap<(String, String), u64> {
    let shown = env.ok_json(&["usage", "show"]);
    let until = today();
    let mut storage_day: BTreeMap<String, String> = BTreeMap::new();
    let mut usage = BTreeMap::new();
    for row in shown.as_array().expect("an array") {
        let metric = row["metric"].as_str().expect("metric").to_string();
        if ![
            "messages_in",
            "messages_out",
            "bytes_in",
            "bytes_out",
            "storage_bytes",
        ]
        .contains(&metric.as_str())
        {
            continue; // what the control plane meters itself
        }
        let tenant = row["tenant"].as_str().expect("a tenant").to_string();
        let day = row["period"].as_str().expect("period").to_string();
        assert!(
            *since <= *day && day <= until,
            "{row} is not dated {since}..{until}"
        );
        let value = row["value"].as_u64().expect("a whole value");
        if metric == "storage_bytes" {
            let latest = storage_day.entry(tenant.clone()).or_default();
            if day < *latest {
                continue;
            }
            *latest = day;
            usage.insert((tenant, metric), value);
        } else {
            *usage.entry((tenant, metric)).or_insert(0) += value;
        }
    }
    usage
}

/// `[(tenant, metric, value)]` as [`usage`]'s map.
fn expected(rows: &[(&str, &str, u64)]) -> BTreeMap<(String, String), u64> {
    rows.iter()
        .map(|(t, m, v)| ((t.to_string(), m.to_string()), *v))
        .collect()
}

/// A port on 127.0.0.1 nothing listens on (bound, then released).
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local addr").port()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A state file, checked for shape: `{"version":2,"targets":{…},"pending":[…]}`.
fn state_doc(path: &Path) -> Value {
    let text = read(path);
    let doc: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not JSON ({e}): {text}", path.display()));
    assert_eq!(doc["version"], 2, "{doc}");
    assert!(doc["targets"].is_object(), "{doc}");
    assert!(doc["pending"].is_array(), "{doc}");
    doc
}

/// How many records a state file holds that were not yet recorded.
fn pending(path: &Path) -> usize {
    state_doc(path)["pending"]
        .as_array()
        .expect("pending")
        .iter()
        .map(|b| b["records"].as_array().expect("a batch's records").len())
        .sum()
}

/// How tok names a URL, or a set of them joined by `\n`, in state files and batch ids: the
/// first 8 bytes of its SHA-256, in hex.
fn url_id(text: &str) -> String {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, text.as_bytes());
    d.as_ref()[..8].iter().map(|b| format!("{b:02x}")).collect()
}

both_backends!(counters_advanced_between_scrapes_become_daily_increases);

/// Baseline, increases summed per tenant over topics and subscriptions, a tenant tok does not
/// know, a round without change, and a broker restart — one state file throughout.
fn counters_advanced_between_scrapes_become_daily_increases(env: &TestEnv) {
    let since = today();
    let Some(mut broker) = Broker::start(env, "a") else {
        return;
    };
    env.ok(&["tenant", "create", "acme"]);
    env.ok(&["tenant", "create", "beta"]);
    let state_path = env.path().join("collect-state.json");
    let state = path_str(&state_path);
    let url = broker.url.clone();
    let args = ["--prometheus", url.as_str(), "--state", state.as_str()];

    let t1 = topic("acme/orders", "t1");
    let t2 = topic("acme/orders", "t2");
    let audit = topic("acme/audit", "a");
    let logs = topic("beta/logs", "x");
    let ghost = topic("ghost/ns", "y");
    let s1 = subscription("acme/orders", "t1", "s1");
    let s2 = subscription("acme/orders", "t1", "s2");
    // What the broker counted before the collector started: not usage of this period.
    for (labels, messages, bytes) in [
        (&t1, 100, 10_000),
        (&t2, 50, 4_000),
        (&logs, 7, 700),
        (&ghost, 9, 900),
    ] {
        broker.inc(IN_MSGS, labels, messages);
        broker.inc(IN_BYTES, labels, bytes);
    }
    for (labels, messages, bytes) in [(&s1, 30, 3_000), (&s2, 20, 2_000)] {
        broker.inc(OUT_MSGS, labels, messages);
        broker.inc(OUT_BYTES, labels, bytes);
    }
    for (labels, size) in [(&t1, 1_000), (&t2, 500), (&audit, 250), (&logs, 42)] {
        broker.set(STORAGE, labels, size);
    }

    // 1. The first scrape: counters are a baseline; storage is recorded.
    let (summary, err) = collect_once(env, &args);
    assert_eq!(summary["urls"], json!([url]), "{summary}");
    assert_eq!(summary["state"], json!(state), "{summary}");
    assert_eq!(summary["scrapes"], 1, "{summary}");
    assert_eq!(summary["pending"], 0, "{summary}");
    assert_eq!(summary["series"], 16, "12 counters and 4 gauges: {summary}");
    assert_eq!(summary["baseline"], 12, "{summary}");
    assert_eq!(summary["resets"], 0, "{summary}");
    assert_eq!(summary["records"], 3, "storage of 3 namespaces: {summary}");
    assert_eq!(summary["accepted"], 3, "{summary}");
    assert_eq!(summary["rejected"], 0, "{summary}");
    assert!(!err.contains("refused"), "{err}");
    assert!(state_path.is_file(), "the state is saved");
    assert_eq!(pending(&state_path), 0, "everything was recorded");
    assert_eq!(
        usage(env, &since),
        expected(&[
            ("acme", "storage_bytes", 1_750),
            ("beta", "storage_bytes", 42)
        ]),
        "no counter usage after a baseline"
    );

    // 2. Counters advance on two tenants' topics (and on a tenant tok does not know).
    broker.inc(IN_MSGS, &t1, 10);
    broker.inc(IN_BYTES, &t1, 1_000);
    broker.inc(IN_MSGS, &t2, 5);
    broker.inc(IN_BYTES, &t2, 300);
    broker.inc(OUT_MSGS, &s1, 7);
    broker.inc(OUT_MSGS, &s2, 3);
    broker.inc(OUT_BYTES, &s1, 700);
    broker.inc(OUT_BYTES, &s2, 300);
    broker.inc(IN_MSGS, &logs, 2);
    broker.inc(IN_BYTES, &logs, 64);
    broker.inc(IN_MSGS, &ghost, 9);
    broker.inc(IN_BYTES, &ghost, 900);
    broker.set(STORAGE, &t1, 1_200);
    let (summary, err) = collect_once(env, &args);
    assert!(
        err.contains("warning: a record was refused") && err.contains("\"ghost\""),
        "{err}"
    );
    assert_eq!(summary["baseline"], 0, "{summary}");
    assert_eq!(summary["resets"], 0, "{summary}");
    // acme/orders: 4 counters + storage; acme/audit: storage; beta/logs: 2 + storage;
    // ghost/ns: 2 (refused).
    assert_eq!(summary["records"], 11, "{summary}");
    assert_eq!(summary["accepted"], 9, "{summary}");
    assert_eq!(summary["rejected"], 2, "{summary}");
    assert_eq!(
        summary["pending"], 0,
        "refused records are answered, not owed: {summary}"
    );
    assert_eq!(pending(&state_path), 0);
    let mut want = expected(&[
        ("acme", "messages_in", 15),
        ("acme", "bytes_in", 1_300),
        ("acme", "messages_out", 10),
        ("acme", "bytes_out", 1_000),
        ("acme", "storage_bytes", 1_950),
        ("beta", "messages_in", 2),
        ("beta", "bytes_in", 64),
        ("beta", "storage_bytes", 42),
    ]);
    assert_eq!(usage(env, &since), want, "exactly the increases");

    // 3. Nothing moved: nothing more is counted (and nothing is refused).
    let (summary, err) = collect_once(env, &args);
    assert_eq!(summary["records"], 3, "storage only: {summary}");
    assert!(!err.contains("refused"), "{err}");
    assert_eq!(usage(env, &since), want, "a round without change");

    // 4. The broker restarts: its counters start again from zero.
    broker.restart();
    broker.inc(IN_MSGS, &t1, 4);
    broker.inc(IN_BYTES, &t1, 400);
    for (labels, size) in [(&t1, 1_200), (&t2, 500), (&audit, 250), (&logs, 42)] {
        broker.set(STORAGE, labels, size);
    }
    let (summary, _) = collect_once(env, &args);
    assert_eq!(summary["resets"], 2, "{summary}");
    assert_eq!(summary["baseline"], 0, "known series: {summary}");
    want.insert(("acme".into(), "messages_in".into()), 15 + 4);
    want.insert(("acme".into(), "bytes_in".into()), 1_300 + 400);
    assert_eq!(usage(env, &since), want, "a reset counts from zero");

    // 5. After the restart: t1 grows as usual, and t2 comes back below its old total.
    broker.inc(IN_MSGS, &t1, 6);
    broker.inc(IN_MSGS, &t2, 3);
    let (summary, _) = collect_once(env, &args);
    assert_eq!(summary["resets"], 1, "t2: {summary}");
    want.insert(("acme".into(), "messages_in".into()), 19 + 6 + 3);
    assert_eq!(usage(env, &since), want);
}

#[test]
fn summary_counts_every_refused_record() {
    let env = TestEnv::new();
    let Some(mut broker) = Broker::start(&env, "a") else {
        return;
    };
    env.ok(&["tenant", "create", "acme"]);
    let url = broker.url.clone();
    let args = ["--prometheus", url.as_str()];
    let acme = topic("acme/orders", "t");
    let ghost = topic("ghost/ns", "t");
    for labels in [&acme, &ghost] {
        broker.inc(IN_MSGS, labels, 1);
        broker.inc(IN_BYTES, labels, 10);
    }
    collect_once(&env, &args);
    for labels in [&acme, &ghost] {
        broker.inc(IN_MSGS, labels, 1);
        broker.inc(IN_BYTES, labels, 10);
    }
    let (summary, err) = collect_once(&env, &args);
    assert!(err.contains("\"ghost\" does not exist"), "{err}");
    assert_eq!(summary["records"], 4, "{summary}");
    assert_eq!(summary["accepted"], 2, "{summary}");
    assert_eq!(
        summary["rejected"], 2,
        "ghost's messages_in and bytes_in were both refused: {summary}"
    );
}

/// A namespace's storage is served in parts by two brokers: recorded as the sum. Counters of
/// both add up. Both brokers share one state file, named after the set of URLs. A round in
/// which one broker is down records nothing and saves no state, so the next round from that
/// state counts what it missed.
#[test]
fn two_brokers_add_up() {
    let env = TestEnv::new();
    let since = today();
    let Some(mut a) = Broker::start(&env, "a") else {
        return;
    };
    let Some(mut b) = Broker::start(&env, "b") else {
        return;
    };
    env.ok(&["tenant", "create", "acme"]);
    let (t1, t2) = (topic("acme/orders", "t1"), topic("acme/orders", "t2"));
    a.inc(IN_MSGS, &t1, 5);
    a.set(STORAGE, &t1, 1_000);
    b.inc(IN_MSGS, &t2, 7);
    b.set(STORAGE, &t2, 234);
    let (url_a, url_b) = (a.url.clone(), b.url.clone());
    let both = [
        "--prometheus",
        url_a.as_str(),
        "--prometheus",
        url_b.as_str(),
    ];

    let (summary, _) = collect_once(&env, &both);
    assert_eq!(summary["urls"], json!([a.url, b.url]), "{summary}");
    assert_eq!(summary["baseline"], 2, "{summary}");
    assert_eq!(summary["records"], 1, "one storage record: {summary}");
    assert_eq!(summary["pending"], 0, "{summary}");
    // One state file for the pair, named after both URLs, holding each broker's samples.
    let state_path = env
        .data_dir()
        .join("usage-collect")
        .join(format!("{}.json", url_id(&format!("{url_a}\n{url_b}"))));
    assert_eq!(summary["state"], json!(path_str(&state_path)), "{summary}");
    let doc = state_doc(&state_path);
    let ids: std::collections::BTreeSet<String> = doc["targets"]
        .as_object()
        .expect("targets")
        .keys()
        .cloned()
        .collect();
    assert_eq!(ids, [url_id(&url_a), url_id(&url_b)].into(), "{doc}");
    assert_eq!(doc["pending"], json!([]), "{doc}");
    assert_eq!(
        usage(&env, &since),
        expected(&[("acme", "storage_bytes", 1_234)])
    );

    a.inc(IN_MSGS, &t1, 10);
    a.set(STORAGE, &t1, 1_100);
    b.inc(IN_MSGS, &t2, 20);
    collect_once(&env, &both);
    assert_eq!(
        usage(&env, &since),
        expected(&[
            ("acme", "messages_in", 30),
            ("acme", "storage_bytes", 1_334)
        ])
    );

    // Broker b goes away: the round fails (exit 6, naming b) and records nothing.
    a.inc(IN_MSGS, &t1, 1);
    b.stop();
    let saved = read(&state_path);
    let mut failing = both.to_vec();
    failing.push("--once");
    wait_for_next_second();
    let out = collect(&env, &failing);
    LAST_RUN.with(|l| l.set(unix_secs()));
    let message = expect_error(&out, 6, "unreachable");
    assert!(message.contains(&b.url), "{message}");
    assert_eq!(
        read(&state_path),
        saved,
        "no state is saved for a round not recorded"
    );
    assert_eq!(
        usage(&env, &since)[&("acme".into(), "messages_in".into())],
        30
    );

    // Broker a alone, from the pair's state (--state), continues from its own samples: the
    // missed increase is counted.
    let state = path_str(&state_path);
    let (summary, _) = collect_once(&env, &["--prometheus", &url_a, "--state", &state]);
    assert_eq!(summary["state"], json!(state), "{summary}");
    assert_eq!(summary["baseline"], 0, "{summary}");
    assert_eq!(summary["pending"], 0, "{summary}");
    assert_eq!(
        usage(&env, &since)[&("acme".into(), "messages_in".into())],
        31
    );

    // Broker a alone by default is another set of URLs, so another state file: a collector
    // of its own, which starts from a baseline and counts nothing twice.
    let (summary, _) = collect_once(&env, &["--prometheus", &url_a]);
    let alone = env
        .data_dir()
        .join("usage-collect")
        .join(format!("{}.json", url_id(&url_a)));
    assert_eq!(summary["state"], json!(path_str(&alone)), "{summary}");
    assert_eq!(summary["baseline"], 1, "{summary}");
    assert_eq!(
        usage(&env, &since)[&("acme".into(), "messages_in".into())],
        31
    );
}

/// The control plane is down for a `--once`: it fails (exit 6) but keeps the round's records
/// in the state file with the samples that produced them, and the next run — the server back
/// on the same database — sends them first, then its own. Usage is exactly the total
/// increase: nothing lost, nothing counted twice; a batch sent again after it was recorded
/// is a replay.
#[test]
fn records_the_control_plane_missed_are_sent_by_the_next_run() {
    let env = TestEnv::new();
    let since = today();
    let Some(mut broker) = Broker::start(&env, "a") else {
        return;
    };
    let mut server = env.start_server(&[]);
    env.login(&server.url);
    env.ok(&["tenant", "create", "acme"]);
    let t1 = topic("acme/orders", "t1");
    broker.inc(IN_MSGS, &t1, 100);
    broker.inc(IN_BYTES, &t1, 10_000);
    broker.set(STORAGE, &t1, 1_000);
    let state_path = env.path().join("state.json");
    let state = path_str(&state_path);
    let url = broker.url.clone();
    let args = ["--prometheus", url.as_str(), "--state", state.as_str()];

    // 1. A baseline, recorded.
    let (summary, _) = collect_once(&env, &args);
    assert_eq!(summary["baseline"], 2, "{summary}");
    assert_eq!(summary["accepted"], 1, "storage: {summary}");
    assert_eq!(summary["pending"], 0, "{summary}");

    // 2. The counters advance and the server stops: the round is not recorded (exit 6), but
    // its records are kept, under the collector's batch id, with the new samples.
    broker.inc(IN_MSGS, &t1, 10);
    broker.inc(IN_BYTES, &t1, 1_000);
    broker.set(STORAGE, &t1, 1_100);
    let status = server.terminate().expect("the server stops on SIGTERM");
    assert!(status.success(), "a clean stop: {status:?}");
    let mut once = args.to_vec();
    once.push("--once");
    wait_for_next_second();
    let out = collect(&env, &once);
    LAST_RUN.with(|l| l.set(unix_secs()));
    let message = expect_error(&out, 6, "connection_failed");
    assert!(message.contains(&server.url), "{message}");
    assert!(
        stderr(&out).contains("kept in the state file"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        pending(&state_path),
        3,
        "messages_in, bytes_in and storage_bytes are owed"
    );
    let owed = state_doc(&state_path)["pending"].clone();
    for batch in owed.as_array().expect("pending") {
        let id = batch["batch_id"].as_str().expect("a batch id");
        assert!(
            id.starts_with(&format!("collect-{}-", url_id(&url))),
            "{id}"
        );
    }

    // 3. The counters advance again; the server comes back on the same database. The next
    // run sends what was owed, then its own round.
    broker.inc(IN_MSGS, &t1, 5);
    broker.inc(IN_BYTES, &t1, 500);
    broker.set(STORAGE, &t1, 1_500);
    let restarted = env.spawn_server(&server.database, &server.master_key_file, &[]);
    env.login(&restarted.url);
    let (summary, _) = collect_once(&env, &args);
    assert_eq!(summary["scrapes"], 1, "{summary}");
    assert_eq!(summary["baseline"], 0, "{summary}");
    assert_eq!(summary["records"], 3, "this round's: {summary}");
    assert_eq!(
        summary["accepted"], 6,
        "the 3 owed and this round's 3: {summary}"
    );
    assert_eq!(summary["pending"], 0, "{summary}");
    assert_eq!(pending(&state_path), 0);
    let want = expected(&[
        ("acme", "messages_in", 10 + 5),
        ("acme", "bytes_in", 1_000 + 500),
        ("acme", "storage_bytes", 1_500),
    ]);
    assert_eq!(usage(&env, &since), want, "exactly the total increase");

    // 4. As if the collector had stopped after the control plane recorded those batches but
    // before it wrote its state: they are owed again. Sent again, they are replays.
    let mut doc = state_doc(&state_path);
    doc["pending"] = owed;
    std::fs::write(&state_path, doc.to_string()).expect("write the state");
    let (summary, _) = collect_once(&env, &args);
    assert_eq!(summary["records"], 1, "storage only: {summary}");
    assert_eq!(summary["accepted"], 1, "replays are not counted: {summary}");
    assert_eq!(summary["pending"], 0, "{summary}");
    assert_eq!(pending(&state_path), 0);
    assert_eq!(usage(&env, &since), want, "nothing counted twice");
}

/// Targets that answer, but not with metrics: exit 1, and no state saved.
#[test]
fn a_target_that_is_not_prometheus_is_an_error() {
    let env = TestEnv::new();
    let Some(mut broker) = Broker::start(&env, "a") else {
        return;
    };
    let state_path = env.path().join("state.json");
    let state = path_str(&state_path);
    let url = broker.url.clone();
    let args = [
        "--prometheus",
        url.as_str(),
        "--state",
        state.as_str(),
        "--once",
    ];
    let html = "<!DOCTYPE html>\n<html><head><title>Pulsar</title></head><body></body></html>\n";
    for (content_type, body, why) in [
        ("text/html; charset=utf-8", html, "text/html"),
        ("application/json", r#"{"brokers":[]}"#, "application/json"),
        ("text/plain", html, "is HTML"),
        ("text/plain", "[1, 2]", "is JSON"),
        ("text/plain", "", "empty"),
    ] {
        broker.serve(content_type, body);
        let out = collect(&env, &args);
        let message = expect_error(&out, 1, "not_prometheus");
        assert!(
            message.contains(&format!(
                "{} is not a Prometheus metrics endpoint",
                broker.url
            )) && message.contains(why),
            "{content_type} {body:?}: {message}"
        );
    }
    broker.send("status 404");
    let out = collect(&env, &args);
    expect_exit(&out, 1);
    assert!(stderr(&out).contains("HTTP 404"), "{}", stderr(&out));
    assert!(!state_path.exists(), "nothing was recorded");

    // An exposition without Pulsar metrics is only a warning.
    broker.send("metrics");
    broker.inc("process_requests", &json!({"cluster": "standalone"}), 3);
    let out = collect(&env, &args);
    expect_exit(&out, 0);
    assert!(
        stderr(&out).contains("exposes no Pulsar usage metrics"),
        "{}",
        stderr(&out)
    );
    assert_eq!(json(&out)["series"], 0);
}

/// Usage errors (exit 2), an unreachable target (exit 6), a target that never answers, and
/// an unreadable state file.
#[test]
fn bad_arguments_and_unreachable_targets() {
    let env = TestEnv::new();
    let port = closed_port();
    let closed = format!("http://127.0.0.1:{port}/metrics");
    for (args, want) in [
        (
            vec!["--prometheus", "not a url"],
            "invalid --prometheus URL",
        ),
        (
            vec!["--prometheus", "ftp://127.0.0.1/metrics"],
            "scheme ftp",
        ),
        (
            vec!["--prometheus", &closed, "--interval", "1s"],
            "too short",
        ),
        (
            vec!["--prometheus", &closed, "--interval", "9s"],
            "too short",
        ),
        (
            vec!["--prometheus", &closed, "--interval", "soon"],
            "--interval",
        ),
        (vec!["--prometheus", &closed, "--timeout", "x"], "--timeout"),
        (
            vec!["--prometheus", &closed, "--prometheus", &closed],
            "given twice",
        ),
    ] {
        let out = collect(&env, &args);
        let message = expect_error(&out, 2, "invalid_input");
        assert!(message.contains(want), "{args:?}: {message}");
    }
    let out = env.run(&["usage", "collect", "--once"]);
    expect_exit(&out, 2);

    // Nothing listens: exit 6, naming the URL, with any credentials masked.
    let state_path = env.path().join("state.json");
    let state = path_str(&state_path);
    let out = collect(
        &env,
        &["--prometheus", &closed, "--state", &state, "--once"],
    );
    let message = expect_error(&out, 6, "unreachable");
    assert!(message.contains(&closed), "{message}");
    let secret = format!("http://scraper:s3cr3t@127.0.0.1:{port}/metrics");
    let out = collect(
        &env,
        &["--prometheus", &secret, "--state", &state, "--once"],
    );
    let message = expect_error(&out, 6, "unreachable");
    assert!(
        message.contains(&format!("***@127.0.0.1:{port}/metrics")),
        "{message}"
    );
    assert!(!stderr(&out).contains("s3cr3t"), "{}", stderr(&out));
    assert!(!state_path.exists(), "nothing was recorded");

    // --state with several URLs is their one state file: not a usage error. Neither target
    // answers, so nothing is written.
    let out = collect(
        &env,
        &[
            "--prometheus",
            &closed,
            "--prometheus",
            "http://127.0.0.1:1/metrics",
            "--state",
            &state,
            "--once",
        ],
    );
    let message = expect_error(&out, 6, "unreachable");
    assert!(message.contains(&closed), "{message}");
    assert!(!state_path.exists(), "nothing was recorded");

    // Something accepts the connection but never answers: --timeout.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!(
        "http://127.0.0.1:{}/metrics",
        silent.local_addr().expect("addr").port()
    );
    let started = Instant::now();
    let out = env.run(&[
        "usage",
        "collect",
        "--prometheus",
        &url,
        "--once",
        "--timeout",
        "1s",
        "-o",
        "json",
    ]);
    let message = expect_error(&out, 6, "unreachable");
    assert!(message.contains("timed out"), "{message}");
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
    drop(silent);

    // A state file that is not tok's.
    std::fs::write(&state_path, "<html>").expect("write state");
    let out = collect(
        &env,
        &["--prometheus", &closed, "--state", &state, "--once"],
    );
    let message = expect_error(&out, 1, "internal");
    assert!(message.contains("unreadable"), "{message}");
    assert_eq!(read(&state_path), "<html>", "left as it was");
}

/// Without --once: the first round is recorded, then the signal stops it at once with exit 0
/// and the JSON summary (URL credentials masked); `--once` later continues from its state.
fn loop_stops_on(signal: &str) {
    let env = TestEnv::new();
    let since = today();
    let Some(mut broker) = Broker::start(&env, "a") else {
        return;
    };
    env.ok(&["tenant", "create", "acme"]);
    let t1 = topic("acme/orders", "t1");
    broker.inc(IN_MSGS, &t1, 100);
    broker.set(STORAGE, &t1, 2_048);
    let secret_url = format!("http://scraper:s3cr3t@127.0.0.1:{}/metrics", broker.port);
    let state_path = env.path().join("state.json");
    let state = path_str(&state_path);
    let mut child = Running(Some(
        env.command(TOK)
            .args([
                "usage",
                "collect",
                "--prometheus",
                &secret_url,
                "--interval",
                "10s",
                "--state",
                &state,
                "-o",
                "json",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("tok starts"),
    ));
    // The first round is recorded once the state file holds nothing pending (it is written
    // before the round's batches are sent, and again after).
    let deadline = Instant::now() + Duration::from_secs(10);
    while !(state_path.exists() && pending(&state_path) == 0) {
        if let Ok(Some(status)) = child.child().try_wait() {
            let out = child.output();
            panic!("tok exited early ({status}): {}", stderr(&out));
        }
        assert!(Instant::now() < deadline, "no round recorded within 10 s");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        usage(&env, &since),
        expected(&[("acme", "storage_bytes", 2_048)])
    );
    broker.inc(IN_MSGS, &t1, 25);

    let pid = child.child().id().to_string();
    let sent = Instant::now();
    let killed = std::process::Command::new("kill")
        .args([signal, &pid])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    while child.child().try_wait().expect("try_wait").is_none() {
        assert!(
            sent.elapsed() < Duration::from_secs(5),
            "still running 5 s after {signal}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let stopped_in = sent.elapsed();
    let out = child.output();
    LAST_RUN.with(|l| l.set(unix_secs()));
    expect_exit(&out, 0);
    assert!(
        stopped_in < Duration::from_secs(2),
        "stopped {stopped_in:?} after {signal}"
    );
    let summary = json(&out);
    assert_eq!(
        summary["urls"],
        json!([format!("http://***@127.0.0.1:{}/metrics", broker.port)]),
        "{summary}"
    );
    assert_eq!(summary["scrapes"], 1, "{summary}");
    assert_eq!(summary["baseline"], 1, "{summary}");
    assert_eq!(summary["state"], json!(state), "{summary}");
    assert_eq!(summary["pending"], 0, "{summary}");
    assert_eq!(pending(&state_path), 0);
    let all = format!("{}{}", stdout(&out), stderr(&out));
    assert!(!all.contains("s3cr3t"), "{all}");

    // The increase after the loop's round is counted by the next run.
    let (summary, _) = collect_once(&env, &["--prometheus", &secret_url, "--state", &state]);
    assert_eq!(summary["baseline"], 0, "{summary}");
    assert_eq!(
        usage(&env, &since),
        expected(&[
            ("acme", "messages_in", 25),
            ("acme", "storage_bytes", 2_048)
        ])
    );
}

#[test]
fn the_loop_stops_on_sigint() {
    loop_stops_on("-INT");
}

#[test]
fn the_loop_stops_on_sigterm() {
    loop_stops_on("-TERM");
}

/// Two `--once` runs for the same URL within one wall-clock second: the second has the first
/// one's batch id (`collect-<hash of the URLs>-<scrape second>-0`), so when its records differ
/// (here the stored bytes changed) it is refused as a conflict.
#[test]
fn two_runs_within_one_second_both_succeed() {
    let env = TestEnv::new();
    let Some(mut broker) = Broker::start(&env, "a") else {
        return;
    };
    env.ok(&["tenant", "create", "acme"]);
    let t1 = topic("acme/orders", "t1");
    let args = [
        "usage",
        "collect",
        "--prometheus",
        broker.url.as_str(),
        "--once",
        "-o",
        "json",
    ]
    .map(str::to_string);
    for attempt in 0..5 {
        broker.set(STORAGE, &t1, 1_000 + attempt);
        // Start just after a second begins, so that both runs fit in it.
        while SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock")
            .subsec_millis()
            > 20
        {
            std::thread::sleep(Duration::from_millis(2));
        }
        let second = unix_secs();
        let first = env.tok().args(&args).output().expect("tok runs");
        expect_exit(&first, 0);
        broker.set(STORAGE, &t1, 2_000 + attempt);
        let again = env.tok().args(&args).output().expect("tok runs");
        if unix_secs() != second {
            continue; // not within one second after all: try again
        }
        expect_exit(&again, 0);
        return;
    }
    panic!("two runs never fitted in one second");
}
