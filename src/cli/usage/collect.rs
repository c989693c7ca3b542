//! `tok usage collect`: scrape a Pulsar broker's Prometheus metrics every `--interval`, turn
//! its counters into per-day increases per tenant and namespace ([`super::scrape`]), and record
//! them. The last samples are kept in a state file after every recorded scrape, so a restart —
//! or the next `--once` from cron — continues where the last one stopped.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use super::scrape::{Collector, ScrapeReport};
use crate::cli::Ctx;
use crate::client::Api;
use crate::control::hex;
use crate::duration::{now, parse_duration, rfc3339};
use crate::error::{Error, ErrorKind, Result};
use crate::model::UsageBatch;

pub const COLLECT_HELP: &str = "\
Scrapes each URL (a Pulsar broker's /metrics, in the Prometheus text format) and maps
pulsar_in_messages_total, pulsar_out_messages_total, pulsar_in_bytes_total and
pulsar_out_bytes_total (counters) to messages_in, messages_out, bytes_in and bytes_out, and
pulsar_storage_size (a gauge) to storage_bytes, by the tenant and namespace in each series'
labels. A counter's first scrape is only a baseline; after that each scrape records how much it
grew, split across the UTC days the interval covers; a counter that went down was reset (a
broker restart) and counts from zero. Give every broker of a cluster (--prometheus repeated):
a namespace's storage is served in parts by the brokers that own its bundles, and is recorded
as their sum (left out of a round in which a broker could not be scraped). The storage figures
of separate collectors add up too (each is a source of its own).

One state file (--state; by default in the data dir, one per set of URLs) keeps each target's
last samples and the batches not yet recorded, written at once after every round: `--once`
from cron records the increase since the previous run, and a collector restarted — or one
whose control plane was unreachable for a while — sends what it owes first, under the same
batch ids, so nothing is lost or counted twice.

On a terminal a progress line shows the scrapes; Ctrl-C stops after the scrape in progress
(exit 0). An unreachable target or an answer that is not a Prometheus exposition is an error on
the first scrape (exit 6 or 1); later, a warning, and the collector tries again at the next
interval.

JSON fields (-o json, printed when it stops): {urls, scrapes, series, records, accepted, rejected,
baseline, resets, pending (records not yet recorded), state}.";

#[derive(Debug, clap::Args)]
pub struct CollectArgs {
    /// A broker's metrics URL, e.g. http://broker:8080/metrics; repeat it for every broker of
    /// a cluster, so that storage (served in parts by several brokers) is added up
    #[arg(long, value_name = "URL", required = true)]
    prometheus: Vec<String>,
    /// Time between scrapes (10s at least)
    #[arg(long, value_name = "DURATION", default_value = "60s")]
    interval: String,
    /// Scrape once, record, save the state, and exit
    #[arg(long)]
    once: bool,
    /// The state file [default: <data dir>/usage-collect/<hash of the URLs>.json]
    #[arg(long, value_name = "FILE")]
    state: Option<PathBuf>,
    /// How long one scrape may take
    #[arg(long, value_name = "DURATION", default_value = "10s")]
    timeout: String,
}

#[derive(Debug, Default, serde::Serialize)]
struct Summary {
    urls: Vec<String>,
    scrapes: u64,
    /// Series recognised in the last round.
    series: usize,
    records: u64,
    accepted: u64,
    rejected: u64,
    /// Counter series seen for the first time (their history before is not counted).
    baseline: usize,
    resets: usize,
    /// Records not yet recorded (kept in the state file for the next round or run).
    pending: u64,
    state: String,
}

/// One broker: where to scrape it and what its counters read last.
struct Target {
    url: reqwest::Url,
    /// The URL with any credentials masked, for messages.
    shown: String,
    /// Names it in the state file (a hash: the URL may carry credentials).
    id: String,
    collector: Collector,
}

/// The state file: each target's last samples and the batches the control plane has not
/// recorded yet, written together so that the two always agree.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct State {
    version: u32,
    /// Target id → its collector's state.
    targets: std::collections::BTreeMap<String, serde_json::Value>,
    pending: Vec<UsageBatch>,
}

fn secs(what: &str, text: &str) -> Result<Duration> {
    parse_duration(text)
        .map(Duration::from_secs)
        .map_err(|e| Error::usage(format!("{what}: {e}")))
}

/// A short, stable name for a URL (state files, batch ids): never the URL itself, which may
/// carry credentials.
fn url_id(url: &str) -> String {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, url.as_bytes());
    hex(&d.as_ref()[..8])
}

fn parse_target(text: &str) -> Result<reqwest::Url> {
    let url = reqwest::Url::parse(text).map_err(|e| {
        Error::usage(format!(
            "invalid --prometheus URL: {e}; expected e.g. http://broker:8080/metrics"
        ))
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Error::usage(format!(
            "invalid --prometheus URL: scheme {} is not http or https",
            url.scheme()
        )));
    }
    Ok(url)
}

pub fn run(ctx: &Ctx, args: &CollectArgs) -> Result<()> {
    let interval = secs("--interval", &args.interval)?;
    if interval < Duration::from_secs(10) {
        return Err(Error::usage(format!(
            "--interval {} is too short: scrape every 10s or more",
            args.interval
        )));
    }
    let timeout = secs("--timeout", &args.timeout)?;
    let mut urls = Vec::new();
    for text in &args.prometheus {
        let url = parse_target(text)?;
        if urls.contains(&url) {
            return Err(Error::usage(format!(
                "--prometheus {} is given twice",
                crate::client::redact_url(url.as_str())
            )));
        }
        urls.push(url);
    }
    let all: Vec<&str> = urls.iter().map(reqwest::Url::as_str).collect();
    let id = url_id(&all.join("\n"));
    let state_path = match &args.state {
        Some(p) => p.clone(),
        None => {
            let (paths, _) = ctx.config()?;
            paths
                .data_dir
                .join("usage-collect")
                .join(format!("{id}.json"))
        }
    };
    let mut state = load_state(&state_path)?;
    let mut targets = Vec::new();
    for url in urls {
        let tid = url_id(url.as_str());
        let collector = match state.targets.get(&tid) {
            Some(saved) => Collector::load(&saved.to_string()).map_err(|e| {
                Error::other(format!(
                    "the collector state {} is unreadable: {e}",
                    state_path.display()
                ))
            })?,
            None => Collector::new(),
        };
        targets.push(Target {
            shown: crate::client::redact_url(url.as_str()),
            url,
            id: tid,
            collector,
        });
    }
    let http = reqwest::blocking::Client::builder()
        .timeout(timeout)
        .user_agent(concat!("tok/", env!("CARGO_PKG_VERSION"), " usage-collect"))
        .build()
        .map_err(|e| Error::other(format!("cannot build an HTTP client: {e}")))?;
    let api = ctx.api()?;
    let stop = if args.once {
        None
    } else {
        Some(stop_on_ctrl_c())
    };
    let mut summary = Summary {
        urls: targets.iter().map(|t| t.shown.clone()).collect(),
        state: state_path.display().to_string(),
        ..Summary::default()
    };
    let out = &ctx.out;
    let mut warned = std::collections::HashSet::new();
    loop {
        let at = now();
        let first = summary.scrapes == 0 || args.once;
        let mut reports = Vec::new();
        let mut complete = true;
        for t in &mut targets {
            let scraped = scrape(&http, &t.url, &t.shown).and_then(|body| {
                t.collector
                    .observe(&body, at)
                    .map_err(|e| not_prometheus(&t.shown, &e))
            });
            match scraped {
                Ok(report) => {
                    if report.series == 0 {
                        out.warn(&format!(
                            "{} exposes no Pulsar usage metrics (pulsar_in_bytes_total, \
                             pulsar_storage_size, …)",
                            t.shown
                        ));
                    }
                    reports.push(report);
                }
                Err(e) if first => {
                    out.progress_done();
                    return Err(e);
                }
                Err(e) => {
                    complete = false;
                    out.warn(&format!("{}; retrying at the next interval", e.message));
                }
            }
        }
        let report = merge(&id, reports, complete);
        // The round's batches join those still owed; the samples that produced them and the
        // batches are written together, before anything is sent.
        state.pending.extend(round_batches(&id, at, &report)?);
        state.version = 2;
        for t in &targets {
            let saved: serde_json::Value = serde_json::from_str(&t.collector.save())
                .map_err(|e| Error::other(format!("cannot encode the collector state: {e}")))?;
            state.targets.insert(t.id.clone(), saved);
        }
        save_state(&state_path, &state)?;
        let sent = send(api, &mut state.pending);
        save_state(&state_path, &state)?;
        summary.pending = state.pending.iter().map(|b| b.records.len() as u64).sum();
        tally(&mut summary, &report, &sent);
        // Each reason once per run: a missing tenant would say so every round.
        for reason in &sent.reasons {
            if warned.insert(reason.clone()) {
                out.warn(&format!("a record was refused: {reason}"));
            }
        }
        match sent.error {
            None => out.progress(&progress_line(&summary, &report, at, args.once, interval)),
            Some(e) if first => {
                out.progress_done();
                return Err(e.with_hint(
                    "the records are kept in the state file and sent first by the next run",
                ));
            }
            Some(e) => out.warn(&format!(
                "recording failed: {}; {} record(s) kept for the next round",
                e.message, summary.pending
            )),
        }
        let Some(stop) = &stop else { break };
        match stop.recv_timeout(interval) {
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            // Ctrl-C, or the signal thread is gone.
            Ok(()) | Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    out.progress_done();
    match out.format {
        crate::output::Format::Table => out.info(&format!(
            "stopped after {} scrape(s): {} record(s) sent, {} recorded, {} rejected, {} \
             pending; state in {}",
            summary.scrapes,
            summary.records,
            summary.accepted,
            summary.rejected,
            summary.pending,
            summary.state
        )),
        _ => super::print_doc(out, &summary)?,
    }
    Ok(())
}

/// One round's reports as one: counter increases side by side (the control plane adds them
/// up), and each namespace's stored bytes summed over the brokers that serve parts of it —
/// left out when a broker could not be scraped, since a part would stand for the whole.
fn merge(id: &str, reports: Vec<ScrapeReport>, complete: bool) -> ScrapeReport {
    let mut merged = ScrapeReport::default();
    let mut storage: std::collections::BTreeMap<(String, Option<String>, String), u64> =
        std::collections::BTreeMap::new();
    for r in reports {
        merged.series += r.series;
        merged.skipped += r.skipped;
        merged.broker_wide += r.broker_wide;
        merged.baseline += r.baseline;
        merged.resets += r.resets;
        for rec in r.records {
            if rec.metric == "storage_bytes" {
                if complete {
                    let v = storage
                        .entry((rec.tenant, rec.namespace, rec.at))
                        .or_insert(0);
                    *v = v.saturating_add(rec.value);
                }
            } else {
                merged.records.push(rec);
            }
        }
    }
    merged
        .records
        .extend(storage.into_iter().map(|((tenant, namespace, at), value)| {
            crate::model::UsageRecord {
                tenant,
                namespace,
                metric: "storage_bytes".into(),
                value,
                at,
                // This collector's figure: collectors of other brokers (or clusters) add theirs.
                source: Some(format!("collect:{id}")),
            }
        }));
    merged
}

fn tally(summary: &mut Summary, report: &ScrapeReport, sent: &Sent) {
    if sent.error.is_none() {
        summary.scrapes += 1;
    }
    summary.series = report.series;
    summary.records += report.records.len() as u64;
    summary.accepted += sent.accepted;
    summary.rejected += sent.rejected;
    summary.baseline += report.baseline;
    summary.resets += report.resets;
}

fn progress_line(s: &Summary, r: &ScrapeReport, at: i64, once: bool, every: Duration) -> String {
    let mut line = format!(
        "scrape {} at {} · {} series · {} record(s) sent, {} recorded",
        s.scrapes,
        rfc3339(at).unwrap_or_default(),
        r.series,
        r.records.len(),
        s.accepted
    );
    if r.baseline > 0 {
        line.push_str(&format!(" · {} new series (baseline)", r.baseline));
    }
    if r.resets > 0 {
        line.push_str(&format!(" · {} reset(s)", r.resets));
    }
    if !once {
        line.push_str(&format!(" · next in {}s (Ctrl-C stops)", every.as_secs()));
    }
    line
}

/// Fetches the exposition; errors say whether the target could not be reached or answered
/// something other than metrics.
fn scrape(http: &reqwest::blocking::Client, url: &reqwest::Url, shown: &str) -> Result<String> {
    let resp = http.get(url.clone()).send().map_err(|e| {
        let why = if e.is_timeout() {
            "timed out".to_string()
        } else if e.is_connect() {
            "connection failed".to_string()
        } else {
            e.without_url().to_string()
        };
        Error::new(
            ErrorKind::Unreachable,
            format!("cannot scrape {shown}: {why}"),
        )
        .with_hint("check the URL and that the broker's HTTP port is reachable from here")
    })?;
    let status = resp.status();
    if !status.is_success() {
        return Err(Error::other(format!(
            "cannot scrape {shown}: HTTP {status}"
        ))
        .with_hint("the URL should be the broker's Prometheus endpoint, e.g. http://broker:8080/metrics"));
    }
    let content_type = resp
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if content_type.starts_with("text/html") || content_type.starts_with("application/json") {
        return Err(not_prometheus(
            shown,
            &format!("it answered {content_type}, not the Prometheus text format"),
        ));
    }
    resp.text()
        .map_err(|e| Error::other(format!("cannot read {shown}: {}", e.without_url())))
}

fn not_prometheus(shown: &str, why: &str) -> Error {
    Error::other(format!(
        "{shown} is not a Prometheus metrics endpoint: {why}"
    ))
    .with_code("not_prometheus")
    .with_hint("a Pulsar broker serves them at http://<broker>:8080/metrics")
}

/// Records a scrape's records; returns how many were recorded and the distinct reasons for
/// the ones refused.
/// What the control plane did with the batches sent.
struct Sent {
    accepted: u64,
    rejected: u64,
    /// The distinct reasons records were refused.
    reasons: Vec<String>,
    /// Why sending stopped, if it did (the batches not sent stay pending).
    error: Option<Error>,
}

/// A round's records as batches. Each id names the collector (its URLs), the round and the
/// records: a batch sent again is recorded once, and another run in the same second (other
/// records) is a batch of its own.
fn round_batches(id: &str, at: i64, report: &ScrapeReport) -> Result<Vec<UsageBatch>> {
    let records: Vec<serde_json::Value> = report
        .records
        .iter()
        .map(serde_json::to_value)
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| Error::other(format!("cannot encode records: {e}")))?;
    let mut out = Vec::new();
    for (i, chunk) in super::batches(&records).into_iter().enumerate() {
        let bytes = serde_json::to_vec(chunk)
            .map_err(|e| Error::other(format!("cannot encode records: {e}")))?;
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &bytes);
        out.push(UsageBatch {
            batch_id: format!("collect-{id}-{at}-{}-{i}", hex(&digest.as_ref()[..8])),
            atomic: false,
            records: chunk.to_vec(),
        });
    }
    Ok(out)
}

/// Sends the pending batches in order, removing each the control plane answered; stops at
/// the first failure.
fn send(api: &dyn Api, pending: &mut Vec<UsageBatch>) -> Sent {
    let mut sent = Sent {
        accepted: 0,
        rejected: 0,
        reasons: Vec::new(),
        error: None,
    };
    while let Some(batch) = pending.first() {
        match api.record_usage(batch) {
            Ok(result) => {
                if !result.replayed {
                    sent.accepted += result.accepted;
                    sent.rejected += result.rejected.len() as u64;
                }
                for r in result.rejected {
                    if !sent.reasons.contains(&r.reason) {
                        sent.reasons.push(r.reason);
                    }
                }
                pending.remove(0);
            }
            Err(e) => {
                sent.error = Some(e);
                break;
            }
        }
    }
    sent
}

fn load_state(path: &Path) -> Result<State> {
    let unreadable = |e: String| {
        Error::other(format!(
            "the collector state {} is unreadable: {e}",
            path.display()
        ))
        .with_hint(
            "move it aside to start afresh (counters then start from a new baseline, and \
             records it held that were not yet recorded are lost)",
        )
    };
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let state: State =
                serde_json::from_str(&text).map_err(|e| unreadable(e.to_string()))?;
            if state.version != 2 {
                return Err(unreadable(format!(
                    "version {} (this tok reads version 2)",
                    state.version
                )));
            }
            Ok(state)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(State::default()),
        Err(e) => Err(Error::io(format!("reading {}", path.display()), &e)),
    }
}

/// Writes the state atomically (a temporary file renamed over the old one).
fn save_state(path: &Path, state: &State) -> Result<()> {
    let text = serde_json::to_string(state)
        .map_err(|e| Error::other(format!("cannot encode the collector state: {e}")))?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::io(format!("creating {}", dir.display()), &e))?;
    }
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, text)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| Error::io(format!("writing {}", path.display()), &e))
}

/// A channel that receives once on Ctrl-C (SIGINT) or SIGTERM, from a thread of its own, so
/// that the blocking loop can wait on it between scrapes.
fn stop_on_ctrl_c() -> mpsc::Receiver<()> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let Ok(rt) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            return;
        };
        rt.block_on(async {
            #[cfg(unix)]
            {
                use tokio::signal::unix::{SignalKind, signal};
                match signal(SignalKind::terminate()) {
                    Ok(mut term) => {
                        tokio::select! {
                            _ = tokio::signal::ctrl_c() => {},
                            _ = term.recv() => {},
                        }
                    }
                    Err(_) => {
                        let _ = tokio::signal::ctrl_c().await;
                    }
                }
            }
            #[cfg(not(unix))]
            {
                let _ = tokio::signal::ctrl_c().await;
            }
        });
        let _ = tx.send(());
    });
    rx
}
