//! A Pulsar broker's `/metrics` scrape → usage records (issue 7), for `tok usage collect`.
//!
//! Pure: the scrape body and its Unix time are parameters; nothing here fetches, sleeps, reads
//! a clock or sends. The caller fetches `/metrics`, calls [`Collector::observe`] with the body
//! and the time of the fetch, sends [`ScrapeReport::records`], and between `--once` runs keeps
//! [`Collector::save`]'s JSON to [`Collector::load`] it next time.
//!
//! # What is read
//!
//! The broker's Prometheus text exposition is parsed by `prometheus-parse`. Only these series
//! are used, **by sample name** (Pulsar declares every one of them `# TYPE … gauge`, and an
//! OpenMetrics-style exporter may declare `# TYPE pulsar_in_bytes counter` for
//! `pulsar_in_bytes_total`, so the declared type says nothing):
//!
//! | sample name                 | record metric   | kind    |
//! |-----------------------------|-----------------|---------|
//! | `pulsar_in_messages_total`  | `messages_in`   | counter |
//! | `pulsar_in_bytes_total`     | `bytes_in`      | counter |
//! | `pulsar_out_messages_total` | `messages_out`  | counter |
//! | `pulsar_out_bytes_total`    | `bytes_out`     | counter |
//! | `pulsar_storage_size`       | `storage_bytes` | gauge   |
//!
//! The counters are also accepted without `_total` (the counter's family name in OpenMetrics);
//! Pulsar's own broker has always written the `_total` sample names. When both spellings of
//! one series appear in a scrape, the `_total` one is used.
//!
//! Pulsar labels them (`TopicStats` / `NamespaceStatsAggregator` in
//! `org.apache.pulsar.broker.stats.prometheus`):
//!
//! - with topic-level metrics (`exposeTopicLevelMetricsInPrometheus=true`, the default):
//!   `cluster`, `namespace` (`tenant/ns`), `topic` (`persistent://tenant/ns/t`, partitions
//!   as `…-partition-N`, or split into `topic` + `partition` with
//!   `splitTopicAndPartitionIndexLabel`). The in counters and the storage size are per topic;
//!   the out counters are per subscription (an extra `subscription` label) and, with
//!   consumer-level metrics on, also per consumer (`subscription`, `consumer_name`,
//!   `consumer_id`);
//! - without: per namespace, `cluster` and `namespace` only;
//! - always: broker-wide placeholders with only `cluster` (`pulsar_storage_size{cluster="c"} 0`).
//!
//! Pulsar 2.x wrote `{cluster="c", namespace="t/ns"}` (a space after the comma) and topics
//! without the `persistent://` scheme; both are understood. Sample timestamps are ignored
//! (see [`Collector::observe`]).
//!
//! # Rules
//!
//! - **Owner**: the tenant is the `tenant` label, else the first part of `namespace`
//!   (`tenant/ns`, or v1 `tenant/cluster/ns`), else the first part of `topic`. The namespace is
//!   its local name (the last part of `namespace`; from a topic, the part after the tenant, or
//!   after the cluster for a v1 topic). A series with none of these labels is a broker-wide
//!   total ([`ScrapeReport::broker_wide`]); one with them but no tenant to derive is skipped.
//! - **No double counting**: where a series exists at several levels of detail (per topic,
//!   per subscription, per consumer), only the coarsest present is used: series that differ
//!   only by `subscription`, `consumer_name`, `consumer_id`, `producer_name` or `producer_id`
//!   are grouped, and only those with the fewest of these labels are kept.
//! - **Values** are validated into `u64`: finite, not negative, rounded to the nearest integer
//!   and at most `u64::MAX`; any other value skips its series for this scrape.
//! - **Counters** (one per metric name and full label set) go through a [`CounterTracker`]:
//!   the first sample of a series is its baseline, a decrease is a reset, gaps are split
//!   over the UTC days they cover. The increases are summed per tenant, namespace, metric and
//!   day, and sent with `at` = the scrape time for today and midnight UTC for an earlier
//!   day. Zero increases are not sent.
//! - **`storage_bytes`** is the sum of the namespace's `pulsar_storage_size` series in this
//!   scrape, sent with `at` = the scrape time, even when zero.
//! - **Forgetting**: a counter series not seen for two days is dropped; if it comes back it
//!   starts over with a new baseline.

use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, HashMap};

use prometheus_parse::{LineInfo, Scrape, Value};
use serde::Deserialize;
use serde_json::json;

use crate::control::usage::delta::{CounterTracker, SECONDS_PER_DAY, Sample, day_of, day_start};
use crate::duration::rfc3339;
use crate::model::UsageRecord;

/// Counter series not seen for this long are forgotten.
pub const FORGET_AFTER_SECS: i64 = 2 * SECONDS_PER_DAY;

/// The version of [`Collector::save`]'s JSON.
const STATE_VERSION: u64 = 1;

/// Error messages quote at most this many characters of the body.
const QUOTE_CHARS: usize = 80;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Counter,
    Gauge,
}

/// One Pulsar metric that becomes usage.
#[derive(Debug)]
struct PulsarMetric {
    /// The sample name Pulsar writes (for counters, with `_total`).
    name: &'static str,
    /// The same without `_total`, for counters.
    alias: Option<&'static str>,
    /// The usage record's metric.
    usage: &'static str,
    kind: Kind,
}

const METRICS: [PulsarMetric; 5] = [
    PulsarMetric {
        name: "pulsar_in_messages_total",
        alias: Some("pulsar_in_messages"),
        usage: "messages_in",
        kind: Kind::Counter,
    },
    PulsarMetric {
        name: "pulsar_out_messages_total",
        alias: Some("pulsar_out_messages"),
        usage: "messages_out",
        kind: Kind::Counter,
    },
    PulsarMetric {
        name: "pulsar_in_bytes_total",
        alias: Some("pulsar_in_bytes"),
        usage: "bytes_in",
        kind: Kind::Counter,
    },
    PulsarMetric {
        name: "pulsar_out_bytes_total",
        alias: Some("pulsar_out_bytes"),
        usage: "bytes_out",
        kind: Kind::Counter,
    },
    PulsarMetric {
        name: "pulsar_storage_size",
        alias: None,
        usage: "storage_bytes",
        kind: Kind::Gauge,
    },
];

/// The metric a sample name stands for, and whether it is spelt the canonical way.
fn recognise(sample_name: &str) -> Option<(&'static PulsarMetric, bool)> {
    METRICS.iter().find_map(|m| {
        if m.name == sample_name {
            Some((m, true))
        } else if m.alias == Some(sample_name) {
            Some((m, false))
        } else {
            None
        }
    })
}

/// A counter metric by its canonical name (for loading saved state).
fn counter_by_name(name: &str) -> Option<&'static PulsarMetric> {
    METRICS
        .iter()
        .find(|m| m.name == name && m.kind == Kind::Counter)
}

/// Labels that break one topic's figure down further (per subscription, consumer or
/// producer); see "No double counting" in the module docs.
const DETAIL_LABELS: [&str; 5] = [
    "subscription",
    "consumer_name",
    "consumer_id",
    "producer_name",
    "producer_id",
];

/// One series: the canonical metric name and the full, sorted label set.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct SeriesKey {
    metric: &'static str,
    labels: BTreeMap<String, String>,
}

/// Who a series' usage belongs to: tenant and namespace local name.
type Owner = (String, Option<String>);

/// Series that differ only by detail labels: the metric and the other labels.
type Group = (&'static str, BTreeMap<String, String>);

/// Where an amount is summed: tenant, namespace, usage metric and Unix time.
type SumKey = (String, Option<String>, &'static str, i64);

/// What one scrape gave.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScrapeReport {
    /// The records to send now, sorted by tenant, namespace, metric and time.
    pub records: Vec<UsageRecord>,
    /// Pulsar series used from this scrape (after leaving out finer-grained duplicates).
    pub series: usize,
    /// Series of a recognised metric left out: no tenant could be derived from their labels,
    /// or their value was not a non-negative number.
    pub skipped: usize,
    /// Series of a recognised metric with no `tenant`, `namespace` or `topic` label at all:
    /// broker-wide totals (every broker writes `pulsar_storage_size{cluster="…"} 0`), which
    /// belong to no tenant. Not an error.
    pub broker_wide: usize,
    /// Counter series seen for the first time: their value is only a baseline.
    pub baseline: usize,
    /// Counter series whose value went down (a broker restart or topic unload): their new
    /// value is counted as the increase.
    pub resets: usize,
}

/// Turns successive scrapes of one broker into usage records. See the module docs.
#[derive(Debug, Clone, Default)]
pub struct Collector {
    tracker: CounterTracker<SeriesKey>,
    /// The tracker's contents, kept alongside it for [`Collector::save`]: the tracker cannot
    /// list its series. Updated from `tracker.last` after every observation, so it never
    /// disagrees with it.
    last: HashMap<SeriesKey, Sample>,
}

/// A series found in this scrape, before the detail-level selection.
struct Found {
    metric: &'static PulsarMetric,
    canonical: bool,
    value: u64,
    owner: Owner,
}

impl Collector {
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses one scrape body taken at Unix time `now` (seconds) and returns the records to
    /// send.
    ///
    /// Every sample is taken at `now`, whatever timestamp the exposition carries: Pulsar
    /// stamps samples with the broker's clock when it generated them (some versions, or a
    /// cached response, stamp them earlier; others not at all), and mixing the broker's clock
    /// with ours would shift increases between days and make a series look stale or
    /// out of order after a restart. One clock, the scraper's, keeps the gaps and the day
    /// split consistent across series, scrapes and saved state.
    ///
    /// Errors, changing nothing, when `now` cannot be written as an RFC 3339 time or the body
    /// is not a Prometheus text exposition at all (empty, HTML, JSON, or without a single
    /// sample line). A valid exposition without Pulsar metrics is not an error: the report
    /// then has zero series.
    pub fn observe(&mut self, body: &str, now: i64) -> Result<ScrapeReport, String> {
        let now_text = rfc3339(now)
            .ok_or_else(|| format!("the scrape time {now} is outside the years 0-9999"))?;
        let scrape = parse_body(body)?;
        let mut report = ScrapeReport::default();

        // 1. The recognised series, validated and owned, one per metric and label set.
        let mut found: BTreeMap<SeriesKey, Found> = BTreeMap::new();
        for sample in scrape.samples {
            let Some((metric, canonical)) = recognise(&sample.metric) else {
                continue;
            };
            let labels = normalise_labels(&sample.labels);
            let owner = match owner(&labels) {
                Some(owner) => owner,
                None if is_broker_wide(&labels) => {
                    report.broker_wide += 1;
                    continue;
                }
                None => {
                    report.skipped += 1;
                    continue;
                }
            };
            let value = match sample.value {
                Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => whole(v),
                Value::Histogram(_) | Value::Summary(_) => None,
            };
            let Some(value) = value else {
                report.skipped += 1;
                continue;
            };
            let key = SeriesKey {
                metric: metric.name,
                labels,
            };
            match found.entry(key) {
                Entry::Vacant(e) => {
                    e.insert(Found {
                        metric,
                        canonical,
                        value,
                        owner,
                    });
                }
                Entry::Occupied(mut e) => {
                    let seen = e.get_mut();
                    if seen.canonical == canonical {
                        // The format forbids repeating a series; it happens when the parser
                        // dropped a label it could not read (a value with `,` or `=`), which
                        // merges distinct series. Adding them keeps the total right.
                        seen.value = seen.value.saturating_add(value);
                    } else if canonical {
                        // `_total` wins over the same series spelt without it.
                        *seen = Found {
                            metric,
                            canonical,
                            value,
                            owner,
                        };
                    }
                }
            }
        }

        // 2. Only the coarsest level of detail of each figure.
        let mut coarsest: HashMap<Group, usize> = HashMap::new();
        let levels: Vec<(Group, usize)> = found
            .keys()
            .map(|key| {
                let (base, level) = detail_level(&key.labels);
                ((key.metric, base), level)
            })
            .collect();
        for (group, level) in &levels {
            coarsest
                .entry(group.clone())
                .and_modify(|l| *l = (*l).min(*level))
                .or_insert(*level);
        }

        // 3. Counters through the tracker, gauges summed; per (tenant, namespace, metric, at).
        let today = day_of(now);
        let mut sums: BTreeMap<SumKey, u64> = BTreeMap::new();
        for ((key, f), (group, level)) in found.into_iter().zip(levels) {
            if coarsest.get(&group).is_some_and(|&min| level > min) {
                continue;
            }
            report.series += 1;
            let (tenant, namespace) = f.owner;
            match f.metric.kind {
                Kind::Gauge => {
                    let sum = sums
                        .entry((tenant, namespace, f.metric.usage, now))
                        .or_insert(0);
                    *sum = sum.saturating_add(f.value);
                }
                Kind::Counter => {
                    match self.tracker.last(&key) {
                        None => report.baseline += 1,
                        Some(prev) if now > prev.at && f.value < prev.value => report.resets += 1,
                        Some(_) => {}
                    }
                    let sample = Sample {
                        at: now,
                        value: f.value,
                    };
                    let parts = self.tracker.observe(key.clone(), sample);
                    if let Some(kept) = self.tracker.last(&key) {
                        self.last.insert(key, kept);
                    }
                    for (day, increase) in parts {
                        let at = if day == today { now } else { day_start(day) };
                        let sum = sums
                            .entry((tenant.clone(), namespace.clone(), f.metric.usage, at))
                            .or_insert(0);
                        *sum = sum.saturating_add(increase);
                    }
                }
            }
        }

        // 4. Series gone for two days are forgotten (after observing, so that a `--once` run
        // every few days still continues the series it sees).
        let cutoff = now.saturating_sub(FORGET_AFTER_SECS);
        self.tracker.forget_older_than(cutoff);
        self.last.retain(|_, s| s.at >= cutoff);

        // 5. Records, in the map's order: tenant, namespace, metric, time.
        report.records = sums
            .into_iter()
            .map(|((tenant, namespace, metric, at), value)| UsageRecord {
                tenant,
                namespace,
                metric: metric.to_string(),
                value,
                // Every `at` is `now` or a midnight between a kept sample and `now`, all
                // within the range `now` and loaded state were checked against.
                at: if at == now {
                    now_text.clone()
                } else {
                    rfc3339(at).unwrap_or_else(|| now_text.clone())
                },
                source: None,
            })
            .collect();
        Ok(report)
    }

    /// The state (the last sample of every counter series) as JSON, for [`Collector::load`]:
    /// `{"version":1,"series":[{"metric":…,"labels":{…},"at":…,"value":…},…]}`, sorted.
    pub fn save(&self) -> String {
        let mut series: Vec<(&SeriesKey, &Sample)> = self.last.iter().collect();
        series.sort_by(|a, b| a.0.cmp(b.0));
        let series: Vec<serde_json::Value> = series
            .into_iter()
            .map(|(key, sample)| {
                json!({
                    "metric": key.metric,
                    "labels": key.labels,
                    "at": sample.at,
                    "value": sample.value,
                })
            })
            .collect();
        json!({ "version": STATE_VERSION, "series": series }).to_string()
    }

    /// A collector continuing from [`Collector::save`]'s JSON. Errors on anything else.
    pub fn load(json: &str) -> Result<Collector, String> {
        const WHAT: &str = "the usage collector state";
        let value: serde_json::Value =
            serde_json::from_str(json).map_err(|e| format!("{WHAT} is not valid JSON: {e}"))?;
        let version = value
            .get("version")
            .ok_or_else(|| format!("{WHAT} has no \"version\": not a `tok usage collect` state"))?;
        if version.as_u64() != Some(STATE_VERSION) {
            return Err(format!(
                "{WHAT} has version {version}; this tok reads version {STATE_VERSION}"
            ));
        }
        let state: StateFile =
            serde_json::from_value(value).map_err(|e| format!("{WHAT} is malformed: {e}"))?;

        let mut collector = Collector::new();
        for (i, s) in state.series.into_iter().enumerate() {
            let metric = counter_by_name(&s.metric)
                .ok_or_else(|| format!("{WHAT}: series {i} has unknown counter {:?}", s.metric))?;
            if s.labels
                .keys()
                .any(|k| k.trim().is_empty() || k.trim() != k)
            {
                return Err(format!("{WHAT}: series {i} has an invalid label name"));
            }
            if rfc3339(s.at).is_none() {
                return Err(format!(
                    "{WHAT}: series {i} has time {} outside the years 0-9999",
                    s.at
                ));
            }
            let key = SeriesKey {
                metric: metric.name,
                labels: s.labels,
            };
            if collector.last.contains_key(&key) {
                return Err(format!("{WHAT}: series {i} is listed twice"));
            }
            let sample = Sample {
                at: s.at,
                value: s.value,
            };
            // A new series' first sample is only its baseline: the tracker now holds it.
            collector.tracker.observe(key.clone(), sample);
            collector.last.insert(key, sample);
        }
        Ok(collector)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StateFile {
    #[allow(dead_code)]
    version: u64,
    series: Vec<StateSeries>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StateSeries {
    metric: String,
    labels: BTreeMap<String, String>,
    at: i64,
    value: u64,
}

/// Parses the body, keeping only the lines that matter (comments and Pulsar's usage series):
/// a broker with topic-level metrics writes hundreds of thousands of lines, nearly all of
/// them irrelevant. Errors when the body is not an exposition at all.
fn parse_body(body: &str) -> Result<Scrape, String> {
    const EXPECTED: &str = "expected Prometheus text exposition format, lines like \
                            `pulsar_in_bytes_total{namespace=\"tenant/ns\"} 1234`; check that \
                            the URL is the broker's /metrics endpoint";
    let body = body.strip_prefix('\u{feff}').unwrap_or(body);
    let Some(first) = body.lines().map(str::trim).find(|l| !l.is_empty()) else {
        return Err(format!("the metrics response is empty: {EXPECTED}"));
    };
    if first.starts_with('<') {
        return Err(format!(
            "the metrics response is HTML (it starts with {}), not metrics: {EXPECTED}",
            quote(first)
        ));
    }
    if first.starts_with('{') || first.starts_with('[') {
        return Err(format!(
            "the metrics response is JSON (it starts with {}), not metrics: {EXPECTED}",
            quote(first)
        ));
    }

    let mut wanted: Vec<&str> = Vec::new();
    let mut other_sample = false;
    for line in body.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with('#') || recognise(leading_name(trimmed)).is_some() {
            wanted.push(line);
        } else if !other_sample {
            // Only to tell an exposition without Pulsar metrics from something else.
            other_sample = matches!(
                LineInfo::parse(line),
                LineInfo::Sample { value, .. } if value.to_ascii_lowercase().parse::<f64>().is_ok()
            );
        }
    }
    // Sample timestamps are ignored (see `Collector::observe`); the epoch stands in for
    // samples without one, so that parsing reads no clock.
    let scrape = Scrape::parse_at(
        wanted.into_iter().map(|l| Ok(l.to_string())),
        Default::default(),
    )
    .map_err(|e| format!("cannot read the metrics response: {e}"))?;
    if scrape.samples.is_empty() && !other_sample {
        return Err(format!(
            "the metrics response has no metric samples (it starts with {}): {EXPECTED}",
            quote(first)
        ));
    }
    Ok(scrape)
}

/// The metric name a sample line starts with (empty if none).
fn leading_name(line: &str) -> &str {
    let end = line
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
        .unwrap_or(line.len());
    let name = &line[..end];
    // A name must end at a label set or whitespace; `pulsar_storage_size_x` is another name.
    match line[end..].chars().next() {
        None | Some('{') => name,
        Some(c) if c.is_whitespace() => name,
        Some(_) => "",
    }
}

/// `text` in backquotes, at most [`QUOTE_CHARS`] characters, control characters replaced.
fn quote(text: &str) -> String {
    let mut shown: String = text
        .chars()
        .take(QUOTE_CHARS)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if text.chars().count() > QUOTE_CHARS {
        shown.push('…');
    }
    format!("`{shown}`")
}

/// Label names without the blanks Pulsar 2.x put after commas (`prometheus-parse` keeps
/// them), values without blanks or quotes around them; empty names dropped.
fn normalise_labels(labels: &prometheus_parse::Labels) -> BTreeMap<String, String> {
    labels
        .iter()
        .filter_map(|(k, v)| {
            let k = k.trim();
            (!k.is_empty()).then(|| (k.to_string(), v.trim().trim_matches('"').to_string()))
        })
        .collect()
}

/// A sample value as a whole non-negative count: finite, not negative, rounded to the nearest
/// integer, below 2^64.
fn whole(v: f64) -> Option<u64> {
    const TWO_POW_64: f64 = 18_446_744_073_709_551_616.0;
    if !v.is_finite() || v < 0.0 {
        return None;
    }
    let r = v.round();
    // In range, so the conversion is exact (the value is a whole number below 2^64).
    (r < TWO_POW_64).then_some(r as u64)
}

/// The labels without the detail ones, and how many detail labels there were.
fn detail_level(labels: &BTreeMap<String, String>) -> (BTreeMap<String, String>, usize) {
    let mut base = labels.clone();
    let mut level = 0;
    for d in DETAIL_LABELS {
        if base.remove(d).is_some() {
            level += 1;
        }
    }
    (base, level)
}

fn is_broker_wide(labels: &BTreeMap<String, String>) -> bool {
    !["tenant", "namespace", "topic"]
        .iter()
        .any(|l| labels.contains_key(*l))
}

/// The tenant and namespace local name a series belongs to (see "Owner" in the module docs).
fn owner(labels: &BTreeMap<String, String>) -> Option<Owner> {
    let label = |name: &str| {
        labels
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    };
    let from_namespace = label("namespace").and_then(parse_namespace);
    let from_topic = label("topic").and_then(parse_topic);
    if let Some(tenant) = label("tenant") {
        let namespace = label("namespace")
            .and_then(|ns| ns.rsplit('/').next())
            .filter(|ns| !ns.is_empty())
            .map(str::to_string)
            .or_else(|| from_topic.and_then(|(_, ns)| ns));
        return Some((tenant.to_string(), namespace));
    }
    from_namespace.or(from_topic)
}

/// `tenant/ns` or v1 `tenant/cluster/ns`.
fn parse_namespace(ns: &str) -> Option<Owner> {
    let parts: Vec<&str> = ns.split('/').collect();
    if !(2..=3).contains(&parts.len()) || parts.iter().any(|p| p.is_empty()) {
        return None;
    }
    let (first, last) = (parts.first()?, parts.last()?);
    Some((first.to_string(), Some(last.to_string())))
}

/// `persistent://tenant/ns/topic`, v1 `persistent://tenant/cluster/ns/topic` (the local name
/// may then contain `/`), with or without the scheme (Pulsar 2.x left it out).
fn parse_topic(topic: &str) -> Option<Owner> {
    let rest = topic.split_once("://").map_or(topic, |(_, rest)| rest);
    let parts: Vec<&str> = rest.splitn(4, '/').collect();
    let (tenant, namespace) = match parts.as_slice() {
        [tenant, ns, local] if !local.is_empty() => (*tenant, *ns),
        [tenant, _cluster, ns, local] if !local.is_empty() => (*tenant, *ns),
        _ => return None,
    };
    if tenant.is_empty() || namespace.is_empty() {
        return None;
    }
    Some((tenant.to_string(), Some(namespace.to_string())))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = SECONDS_PER_DAY;
    /// 2024-03-10T00:00:00Z.
    const D0: i64 = 1_710_028_800;

    /// A broker of cluster `prod-eu` with topic-level metrics, consumer-level metrics on one
    /// subscription, two tenants and a partitioned topic, as Pulsar 2.10+ writes it (every
    /// metric typed `gauge`, samples stamped in milliseconds). Counters grow linearly with
    /// `t`; their rates per namespace are, for (messages_in, bytes_in, messages_out,
    /// bytes_out): acme/orders (30, 3000, 27, 2700), acme/audit (5, 500, 5, 500),
    /// globex/default (3, 300, 5, 500). Storage: acme/orders 7 000 000 + 20 t,
    /// acme/audit 250 000, globex/default 1 000 000 + 100 t.
    fn broker(t: u64) -> String {
        let c = |base: u64, rate: u64| base + rate * t;
        let (p0_in_m, p0_in_b, p0_st) = (c(1000, 10), c(100_000, 1000), c(3_000_000, 10));
        let (p0_out_m, p0_out_b) = (c(900, 9), c(90_000, 900));
        let (p1_in_m, p1_in_b, p1_st) = (c(2000, 20), c(200_000, 2000), c(4_000_000, 10));
        let (p1_out_m, p1_out_b) = (c(1800, 18), c(180_000, 1800));
        let (au_in_m, au_in_b, au_out_m, au_out_b) =
            (c(50, 5), c(5000, 500), c(50, 5), c(5000, 500));
        let (gx_in_m, gx_in_b, gx_st) = (c(7, 3), c(700, 300), c(1_000_000, 100));
        let (s1_m, s1_b, s2_m, s2_b) = (c(7, 3), c(700, 300), c(4, 2), c(400, 200));
        let p0 = r#"cluster="prod-eu",namespace="acme/orders",topic="persistent://acme/orders/events-partition-0""#;
        let p1 = r#"cluster="prod-eu",namespace="acme/orders",topic="persistent://acme/orders/events-partition-1""#;
        let au = r#"cluster="prod-eu",namespace="acme/audit",topic="persistent://acme/audit/log""#;
        let gx = r#"cluster="prod-eu",namespace="globex/default",topic="persistent://globex/default/clicks""#;
        format!(
            r#"# HELP jvm_memory_bytes_used Used bytes of a given JVM memory area.
# TYPE jvm_memory_bytes_used gauge
jvm_memory_bytes_used{{cluster="prod-eu",area="heap"}} 3.01123632E8
jvm_memory_bytes_used{{cluster="prod-eu",area="nonheap"}} 1.27959784E8
# TYPE jvm_gc_collection_seconds summary
jvm_gc_collection_seconds_count{{cluster="prod-eu",gc="G1 Young Generation"}} 14.0
jvm_gc_collection_seconds_sum{{cluster="prod-eu",gc="G1 Young Generation"}} 3.13
# TYPE pulsar_broker_publish_latency summary
pulsar_broker_publish_latency{{cluster="prod-eu",quantile="0.5"}} 2.559
pulsar_broker_publish_latency_count{{cluster="prod-eu"}} 95832.0
# TYPE pulsar_topics_count gauge
pulsar_topics_count{{cluster="prod-eu"}} 0 1583775788853
# TYPE pulsar_storage_size gauge
pulsar_storage_size{{cluster="prod-eu"}} 0 1583775788853
pulsar_storage_size{{{p0}}} {p0_st}.0 1583775788853
pulsar_storage_size{{{p1}}} {p1_st}.0 1583775788853
pulsar_storage_size{{{au}}} 250000.0 1583775788853
pulsar_storage_size{{{gx}}} {gx_st}.0 1583775788853
# TYPE pulsar_rate_in gauge
pulsar_rate_in{{cluster="prod-eu"}} 0 1583775788853
pulsar_rate_in{{{p0}}} 10.002 1583775788853
pulsar_rate_in{{{p1}}} 20.004 1583775788853
pulsar_rate_in{{{au}}} 5.0 1583775788853
pulsar_rate_in{{{gx}}} 3.0 1583775788853
# TYPE pulsar_subscription_back_log gauge
pulsar_subscription_back_log{{{p0},subscription="billing"}} 12 1583775788853
# TYPE pulsar_out_bytes_total gauge
pulsar_out_bytes_total{{{p0},subscription="billing"}} {p0_out_b} 1583775788853
pulsar_out_bytes_total{{{p0},subscription="billing",consumer_name="billing-0",consumer_id="0"}} {p0_out_b} 1583775788853
pulsar_out_bytes_total{{{p1},subscription="billing"}} {p1_out_b} 1583775788853
pulsar_out_bytes_total{{{au},subscription="archiver"}} {au_out_b} 1583775788853
pulsar_out_bytes_total{{{gx},subscription="s1"}} {s1_b} 1583775788853
pulsar_out_bytes_total{{{gx},subscription="s2"}} {s2_b} 1583775788853
# TYPE pulsar_out_messages_total gauge
pulsar_out_messages_total{{{p0},subscription="billing"}} {p0_out_m} 1583775788853
pulsar_out_messages_total{{{p0},subscription="billing",consumer_name="billing-0",consumer_id="0"}} {p0_out_m} 1583775788853
pulsar_out_messages_total{{{p1},subscription="billing"}} {p1_out_m} 1583775788853
pulsar_out_messages_total{{{au},subscription="archiver"}} {au_out_m} 1583775788853
pulsar_out_messages_total{{{gx},subscription="s1"}} {s1_m} 1583775788853
pulsar_out_messages_total{{{gx},subscription="s2"}} {s2_m} 1583775788853
# TYPE pulsar_in_bytes_total gauge
pulsar_in_bytes_total{{{p0}}} {p0_in_b}.0 1583775788853
pulsar_in_bytes_total{{{p1}}} {p1_in_b}.0 1583775788853
pulsar_in_bytes_total{{{au}}} {au_in_b}.0 1583775788853
pulsar_in_bytes_total{{{gx}}} {gx_in_b}.0 1583775788853
# TYPE pulsar_in_messages_total gauge
pulsar_in_messages_total{{{p0}}} {p0_in_m}.0 1583775788853
pulsar_in_messages_total{{{p1}}} {p1_in_m}.0 1583775788853
pulsar_in_messages_total{{{au}}} {au_in_m}.0 1583775788853
pulsar_in_messages_total{{{gx}}} {gx_in_m}.0 1583775788853
# TYPE pulsar_storage_write_latency_le_1 gauge
pulsar_storage_write_latency_le_1{{{p0}}} 23 1583775788853
"#
        )
    }

    fn rec(tenant: &str, ns: &str, metric: &str, value: u64, at: &str) -> UsageRecord {
        UsageRecord {
            tenant: tenant.to_string(),
            namespace: Some(ns.to_string()),
            metric: metric.to_string(),
            value,
            at: at.to_string(),
            source: None,
        }
    }

    #[test]
    fn fixture_first_scrape_is_a_baseline_plus_storage() {
        let mut c = Collector::new();
        let r = c.observe(&broker(0), D0 + 3600).unwrap();
        let at = "2024-03-10T01:00:00Z";
        assert_eq!(
            r.records,
            vec![
                rec("acme", "audit", "storage_bytes", 250_000, at),
                rec("acme", "orders", "storage_bytes", 7_000_000, at),
                rec("globex", "default", "storage_bytes", 1_000_000, at),
            ]
        );
        // 4 series per topic of acme (2 in, 2 out per subscription, storage: 5), 7 for
        // globex's topic with two subscriptions; the consumer-level duplicates are left out.
        assert_eq!(r.series, 22);
        assert_eq!(r.baseline, 18, "every counter series is new");
        assert_eq!((r.skipped, r.resets, r.broker_wide), (0, 0, 1));
        assert_eq!(c.last.len(), 18);
    }

    #[test]
    fn fixture_second_scrape_counts_exact_increases_per_namespace() {
        let mut c = Collector::new();
        c.observe(&broker(0), D0 + 3600).unwrap();
        let r = c.observe(&broker(60), D0 + 3660).unwrap();
        let at = "2024-03-10T01:01:00Z";
        assert_eq!(
            r.records,
            vec![
                rec("acme", "audit", "bytes_in", 30_000, at),
                rec("acme", "audit", "bytes_out", 30_000, at),
                rec("acme", "audit", "messages_in", 300, at),
                rec("acme", "audit", "messages_out", 300, at),
                rec("acme", "audit", "storage_bytes", 250_000, at),
                rec("acme", "orders", "bytes_in", 180_000, at),
                rec("acme", "orders", "bytes_out", 162_000, at),
                rec("acme", "orders", "messages_in", 1_800, at),
                rec("acme", "orders", "messages_out", 1_620, at),
                rec("acme", "orders", "storage_bytes", 7_001_200, at),
                rec("globex", "default", "bytes_in", 18_000, at),
                rec("globex", "default", "bytes_out", 30_000, at),
                rec("globex", "default", "messages_in", 180, at),
                rec("globex", "default", "messages_out", 300, at),
                rec("globex", "default", "storage_bytes", 1_006_000, at),
            ]
        );
        assert_eq!((r.series, r.baseline, r.resets, r.skipped), (22, 0, 0, 0));

        // Nothing moved: no counter records, storage still reported.
        let r = c.observe(&broker(60), D0 + 3720).unwrap();
        let metrics: Vec<&str> = r.records.iter().map(|r| r.metric.as_str()).collect();
        assert_eq!(metrics, ["storage_bytes"; 3]);
    }

    #[test]
    fn a_counter_reset_counts_the_new_value() {
        let body = |p0: u64, p1: u64| {
            format!(
                "# TYPE pulsar_in_messages_total gauge\n\
                 pulsar_in_messages_total{{cluster=\"c\",namespace=\"acme/orders\",topic=\"persistent://acme/orders/a\"}} {p0}\n\
                 pulsar_in_messages_total{{cluster=\"c\",namespace=\"acme/orders\",topic=\"persistent://acme/orders/b\"}} {p1}\n"
            )
        };
        let mut c = Collector::new();
        let r = c.observe(&body(5_000, 100), D0 + 100).unwrap();
        assert_eq!((r.baseline, r.records.len()), (2, 0));
        // Topic a's broker restarted: 5 000 → 40 counts 40; b grew by 50.
        let r = c.observe(&body(40, 150), D0 + 160).unwrap();
        assert_eq!(
            r.records,
            vec![rec(
                "acme",
                "orders",
                "messages_in",
                90,
                "2024-03-10T00:02:40Z"
            )]
        );
        assert_eq!((r.resets, r.baseline), (1, 0));
        // And it goes on from the new value.
        let r = c.observe(&body(45, 150), D0 + 220).unwrap();
        assert_eq!(r.records[0].value, 5);
        assert_eq!(r.resets, 0);
    }

    #[test]
    fn a_gap_over_midnight_is_split_between_the_days() {
        let mut c = Collector::new();
        // 23:50 and 00:05 the next day: 600 s on 2024-03-10, 300 s on 2024-03-11.
        c.observe(&broker(0), D0 + DAY - 600).unwrap();
        let r = c.observe(&broker(30), D0 + DAY + 300).unwrap();
        let (d0, d1) = ("2024-03-10T00:00:00Z", "2024-03-11T00:05:00Z");
        assert_eq!(
            r.records,
            vec![
                rec("acme", "audit", "bytes_in", 10_000, d0),
                rec("acme", "audit", "bytes_in", 5_000, d1),
                rec("acme", "audit", "bytes_out", 10_000, d0),
                rec("acme", "audit", "bytes_out", 5_000, d1),
                rec("acme", "audit", "messages_in", 100, d0),
                rec("acme", "audit", "messages_in", 50, d1),
                rec("acme", "audit", "messages_out", 100, d0),
                rec("acme", "audit", "messages_out", 50, d1),
                rec("acme", "audit", "storage_bytes", 250_000, d1),
                rec("acme", "orders", "bytes_in", 60_000, d0),
                rec("acme", "orders", "bytes_in", 30_000, d1),
                rec("acme", "orders", "bytes_out", 54_000, d0),
                rec("acme", "orders", "bytes_out", 27_000, d1),
                rec("acme", "orders", "messages_in", 600, d0),
                rec("acme", "orders", "messages_in", 300, d1),
                rec("acme", "orders", "messages_out", 540, d0),
                rec("acme", "orders", "messages_out", 270, d1),
                rec("acme", "orders", "storage_bytes", 7_000_600, d1),
                rec("globex", "default", "bytes_in", 6_000, d0),
                rec("globex", "default", "bytes_in", 3_000, d1),
                rec("globex", "default", "bytes_out", 10_000, d0),
                rec("globex", "default", "bytes_out", 5_000, d1),
                rec("globex", "default", "messages_in", 60, d0),
                rec("globex", "default", "messages_in", 30, d1),
                rec("globex", "default", "messages_out", 100, d0),
                rec("globex", "default", "messages_out", 50, d1),
                rec("globex", "default", "storage_bytes", 1_003_000, d1),
            ]
        );
    }

    #[test]
    fn save_load_continue_matches_an_uninterrupted_collector() {
        let times = [D0 + 3600, D0 + DAY - 10, D0 + DAY + 50, D0 + 2 * DAY + 7];
        let mut straight = Collector::new();
        let mut resumed = Collector::new();
        for (i, &now) in times.iter().enumerate() {
            let body = broker(u64::try_from(i).unwrap() * 97);
            let want = straight.observe(&body, now).unwrap();
            let saved = resumed.save();
            resumed = Collector::load(&saved).unwrap();
            assert_eq!(resumed.save(), saved, "save/load round-trips");
            assert_eq!(resumed.observe(&body, now).unwrap(), want, "scrape {i}");
        }
        assert_eq!(resumed.save(), straight.save());
        assert!(
            straight
                .save()
                .starts_with(r#"{"version":1,"series":[{"metric":"#)
        );
    }

    #[test]
    fn load_rejects_garbage() {
        let good = r#"{"metric":"pulsar_in_bytes_total","labels":{"namespace":"a/b"},"at":1710028800,"value":5}"#;
        let cases = [
            ("", "not valid JSON"),
            ("<html>", "not valid JSON"),
            ("[]", "no \"version\""),
            ("{}", "no \"version\""),
            ("null", "no \"version\""),
            (r#"{"version":2,"series":[]}"#, "version 2"),
            (r#"{"version":"1","series":[]}"#, "version \"1\""),
            (r#"{"version":1}"#, "malformed"),
            (r#"{"version":1,"series":{}}"#, "malformed"),
            (r#"{"version":1,"series":[],"extra":1}"#, "malformed"),
            (r#"{"version":1,"series":[{"metric":"x"}]}"#, "malformed"),
            (
                r#"{"version":1,"series":[{"metric":"pulsar_storage_size","labels":{},"at":0,"value":1}]}"#,
                "unknown counter",
            ),
            (
                r#"{"version":1,"series":[{"metric":"pulsar_in_bytes_total","labels":{},"at":0,"value":-1}]}"#,
                "malformed",
            ),
            (
                r#"{"version":1,"series":[{"metric":"pulsar_in_bytes_total","labels":{},"at":1e3,"value":1}]}"#,
                "malformed",
            ),
            (
                r#"{"version":1,"series":[{"metric":"pulsar_in_bytes_total","labels":{},"at":-9223372036854775808,"value":1}]}"#,
                "outside",
            ),
            (
                r#"{"version":1,"series":[{"metric":"pulsar_in_bytes_total","labels":{" a":"b"},"at":0,"value":1}]}"#,
                "label name",
            ),
        ];
        for (json, want) in cases {
            let err = Collector::load(json).unwrap_err();
            assert!(err.contains(want), "{json}: {err}");
        }
        let twice = format!(r#"{{"version":1,"series":[{good},{good}]}}"#);
        assert!(Collector::load(&twice).unwrap_err().contains("twice"));
        let once = format!(r#"{{"version":1,"series":[{good}]}}"#);
        assert_eq!(Collector::load(&once).unwrap().last.len(), 1);
        // Deeply nested input is an error, not a stack overflow.
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(Collector::load(&deep).is_err());
    }

    #[test]
    fn not_an_exposition_is_an_error() {
        let long = format!("{}<", "x".repeat(200));
        let cases = [
            ("", "empty"),
            ("  \n\r\n\t\n", "empty"),
            (
                "<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head></html>\n",
                "is HTML (it starts with `<!DOCTYPE html>`)",
            ),
            ("\n  <html>\nfoo 1\n", "is HTML"),
            (r#"{"error":"not found","status":404}"#, "is JSON"),
            ("[1, 2]", "is JSON"),
            (
                "Not Found\n",
                "no metric samples (it starts with `Not Found`)",
            ),
            ("# HELP a thing\n# TYPE a gauge\n", "no metric samples"),
            (long.as_str(), "no metric samples"),
        ];
        for (body, want) in cases {
            let mut c = Collector::new();
            let err = c.observe(body, D0).unwrap_err();
            assert!(err.contains(want), "{body:?}: {err}");
            assert!(err.contains("Prometheus text exposition"), "{err}");
        }
        let mut c = Collector::new();
        let err = c.observe(&long, D0).unwrap_err();
        assert!(err.contains(&format!("`{}…`", "x".repeat(80))), "{err}");
        assert!(!err.contains(&"x".repeat(81)), "{err}");
        // A scrape time no RFC 3339 time can show.
        assert!(
            c.observe(&broker(0), i64::MAX)
                .unwrap_err()
                .contains("scrape time")
        );
        assert_eq!(c.last.len(), 0, "errors change nothing");
    }

    #[test]
    fn an_exposition_without_pulsar_metrics_has_no_series() {
        let body = "# HELP jvm_threads_current Current thread count.\n\
                    # TYPE jvm_threads_current gauge\n\
                    jvm_threads_current{cluster=\"standalone\"} 293.0\n\
                    process_cpu_seconds_total 492.64\n\
                    pulsar_rate_in{cluster=\"c\",namespace=\"acme/orders\"} 12.5\n";
        let mut c = Collector::new();
        let r = c.observe(body, D0).unwrap();
        assert_eq!(r, ScrapeReport::default());
    }

    #[test]
    fn bad_values_and_ownerless_series_are_skipped() {
        let t = |name: &str| {
            format!(
                r#"cluster="c",namespace="acme/orders",topic="persistent://acme/orders/{name}""#
            )
        };
        let body = format!(
            "# TYPE pulsar_storage_size gauge\n\
             pulsar_storage_size{{{a}}} -1\n\
             pulsar_storage_size{{{b}}} 2048\n\
             pulsar_storage_size{{{c}}} 1e30\n\
             pulsar_in_bytes_total{{{a}}} NaN\n\
             pulsar_in_bytes_total{{{b}}} +Inf\n\
             pulsar_in_bytes_total{{{c}}} -0.4\n\
             pulsar_in_messages_total{{{a}}} 1.4e1\n\
             pulsar_in_messages_total{{{b}}} 12.5\n\
             pulsar_in_messages_total{{cluster=\"c\",topic=\"garbage\"}} 5\n\
             pulsar_in_messages_total{{cluster=\"c\",namespace=\"nons\"}} 5\n\
             pulsar_out_messages_total{{cluster=\"c\"}} 5\n",
            a = t("a"),
            b = t("b"),
            c = t("c"),
        );
        let mut c = Collector::new();
        let r = c.observe(&body, D0 + 60).unwrap();
        assert_eq!(
            r.records,
            vec![rec(
                "acme",
                "orders",
                "storage_bytes",
                2048,
                "2024-03-10T00:01:00Z"
            )]
        );
        // -1, 1e30, NaN, +Inf, -0.4, and two series with no tenant to be found.
        assert_eq!(r.skipped, 7);
        assert_eq!((r.series, r.baseline, r.broker_wide), (3, 2, 1));
        // The rounded values were kept: 14 and 13 (12.5 rounds away from zero).
        let body2 = body.replace("} 1.4e1", "} 20").replace("} 12.5", "} 13");
        let r = c.observe(&body2, D0 + 120).unwrap();
        assert_eq!(
            r.records[0],
            rec("acme", "orders", "messages_in", 6, "2024-03-10T00:02:00Z")
        );
    }

    #[test]
    fn namespace_level_metrics_of_pulsar_2() {
        // `exposeTopicLevelMetricsInPrometheus=false`, as Pulsar 2.x wrote it: a blank after
        // each comma, a v1 namespace, and TYPE lines missing for some families.
        let body = |n: u64| {
            format!(
                "# TYPE pulsar_storage_size gauge\n\
                 pulsar_storage_size{{cluster=\"standalone\"}} 0 1583775788853\n\
                 pulsar_storage_size{{cluster=\"standalone\", namespace=\"sample/dev\"}} 2684208 1583775788853\n\
                 pulsar_storage_size{{cluster=\"standalone\", namespace=\"sample/standalone/legacy\"}} 10 1583775788853\n\
                 pulsar_in_bytes_total{{cluster=\"standalone\", namespace=\"sample/dev\"}} {} 1583775788853\n\
                 pulsar_in_bytes_total{{cluster=\"standalone\", namespace=\"sample/standalone/legacy\"}} {} 1583775788853\n\
                 pulsar_out_bytes_total{{cluster=\"standalone\", namespace=\"sample/dev\"}} {} 1583775788853\n",
                7800 + n,
                100 + 2 * n,
                3 * n
            )
        };
        let mut c = Collector::new();
        let r = c.observe(&body(0), D0).unwrap();
        assert_eq!((r.series, r.baseline, r.broker_wide), (5, 3, 1));
        let r = c.observe(&body(10), D0 + 30).unwrap();
        let at = "2024-03-10T00:00:30Z";
        assert_eq!(
            r.records,
            vec![
                rec("sample", "dev", "bytes_in", 10, at),
                rec("sample", "dev", "bytes_out", 30, at),
                rec("sample", "dev", "storage_bytes", 2_684_208, at),
                rec("sample", "legacy", "bytes_in", 20, at),
                rec("sample", "legacy", "storage_bytes", 10, at),
            ]
        );
    }

    #[test]
    fn names_without_total_are_accepted_and_total_wins() {
        let body = |total: u64, bare: u64, out: u64| {
            format!(
                "# TYPE pulsar_in_bytes counter\n\
                 pulsar_in_bytes_total{{namespace=\"acme/orders\"}} {total}\n\
                 pulsar_in_bytes{{namespace=\"acme/orders\"}} {bare}\n\
                 # TYPE pulsar_out_messages counter\n\
                 pulsar_out_messages{{tenant=\"acme\",namespace=\"acme/orders\"}} {out}\n"
            )
        };
        let mut c = Collector::new();
        let r = c.observe(&body(100, 999, 1), D0).unwrap();
        assert_eq!((r.series, r.baseline), (2, 2));
        let r = c.observe(&body(150, 5, 4), D0 + 10).unwrap();
        let at = "2024-03-10T00:00:10Z";
        assert_eq!(
            r.records,
            vec![
                rec("acme", "orders", "bytes_in", 50, at),
                rec("acme", "orders", "messages_out", 3, at),
            ]
        );
        assert_eq!(r.resets, 0, "the bare spelling's drop is not seen");
    }

    #[test]
    fn series_unseen_for_two_days_are_forgotten() {
        let only_orders: String = broker(0)
            .lines()
            .filter(|l| !l.contains("acme/audit") && !l.contains("globex"))
            .map(|l| format!("{l}\n"))
            .collect();
        let mut c = Collector::new();
        c.observe(&broker(0), D0).unwrap();
        assert_eq!(c.last.len(), 18);
        c.observe(&only_orders, D0 + FORGET_AFTER_SECS).unwrap();
        assert_eq!(c.last.len(), 18, "seen exactly two days ago: kept");
        c.observe(&only_orders, D0 + FORGET_AFTER_SECS + 1).unwrap();
        assert_eq!(c.last.len(), 8, "acme/orders' 8 counters remain");
        // The forgotten series come back with a fresh baseline; a long gap still counts for
        // the series that were there throughout.
        let r = c.observe(&broker(10), D0 + 5 * DAY).unwrap();
        assert_eq!(r.baseline, 10);
        let orders_in: u64 = r
            .records
            .iter()
            .filter(|r| r.metric == "messages_in")
            .map(|r| r.value)
            .sum();
        assert_eq!(orders_in, 300);
        assert!(
            !r.records
                .iter()
                .any(|r| r.tenant == "globex" && r.metric != "storage_bytes")
        );
    }

    #[test]
    fn timestamps_in_the_exposition_are_ignored() {
        let body = |v: u64, ts: &str| {
            format!("pulsar_in_messages_total{{namespace=\"acme/orders\"}} {v} {ts}\n")
        };
        let mut c = Collector::new();
        c.observe(&body(1, "4102444800000"), D0).unwrap();
        // The broker's stamp goes backwards; the scrape time is what counts.
        let r = c.observe(&body(11, "1000"), D0 + 60).unwrap();
        assert_eq!(
            r.records,
            vec![rec(
                "acme",
                "orders",
                "messages_in",
                10,
                "2024-03-10T00:01:00Z"
            )]
        );
        // A second scrape at the same time counts nothing (the tracker ignores it).
        let r = c.observe(&body(50, ""), D0 + 60).unwrap();
        assert_eq!((r.records.len(), r.resets), (0, 0));
    }

    #[test]
    fn owners_from_labels() {
        let owner_of = |pairs: &[(&str, &str)]| {
            let labels: BTreeMap<String, String> = pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            owner(&labels)
        };
        let o = |t: &str, ns: Option<&str>| Some((t.to_string(), ns.map(str::to_string)));
        assert_eq!(
            owner_of(&[("namespace", "acme/orders")]),
            o("acme", Some("orders"))
        );
        assert_eq!(
            owner_of(&[("namespace", "acme/eu/orders")]),
            o("acme", Some("orders"))
        );
        assert_eq!(owner_of(&[("namespace", "acme")]), None);
        assert_eq!(owner_of(&[("namespace", "acme/")]), None);
        assert_eq!(owner_of(&[("namespace", "a/b/c/d")]), None);
        assert_eq!(
            owner_of(&[("topic", "persistent://acme/orders/t-partition-3")]),
            o("acme", Some("orders"))
        );
        assert_eq!(
            owner_of(&[("topic", "non-persistent://acme/eu/orders/a/b")]),
            o("acme", Some("orders"))
        );
        assert_eq!(
            owner_of(&[("topic", "acme/orders/t")]),
            o("acme", Some("orders"))
        );
        assert_eq!(owner_of(&[("topic", "persistent://acme/orders")]), None);
        assert_eq!(owner_of(&[("topic", "persistent://acme/orders/")]), None);
        // A bad namespace label falls back on the topic.
        assert_eq!(
            owner_of(&[
                ("namespace", "odd"),
                ("topic", "persistent://acme/orders/t")
            ]),
            o("acme", Some("orders"))
        );
        assert_eq!(owner_of(&[("tenant", "acme")]), o("acme", None));
        assert_eq!(
            owner_of(&[("tenant", "acme"), ("namespace", "acme/orders")]),
            o("acme", Some("orders"))
        );
        assert_eq!(
            owner_of(&[("tenant", "acme"), ("topic", "persistent://acme/orders/t")]),
            o("acme", Some("orders"))
        );
        assert_eq!(owner_of(&[("tenant", ""), ("cluster", "c")]), None);
        assert_eq!(owner_of(&[("cluster", "c")]), None);
    }

    #[test]
    fn leading_names() {
        assert_eq!(
            leading_name("pulsar_storage_size{a=\"b\"} 1"),
            "pulsar_storage_size"
        );
        assert_eq!(leading_name("pulsar_storage_size 1"), "pulsar_storage_size");
        assert_eq!(leading_name("pulsar_storage_size"), "pulsar_storage_size");
        assert_eq!(
            leading_name("pulsar_storage_size_x 1"),
            "pulsar_storage_size_x"
        );
        assert_eq!(leading_name("pulsar-x 1"), "");
        assert_eq!(leading_name("é 1"), "");
        assert!(recognise(leading_name("pulsar_storage_size_x 1")).is_none());
    }

    #[test]
    fn whole_values() {
        assert_eq!(whole(0.0), Some(0));
        assert_eq!(whole(-0.0), Some(0));
        assert_eq!(whole(2.5), Some(3));
        assert_eq!(whole(2.4999), Some(2));
        assert_eq!(
            whole(18_446_744_073_709_549_568.0),
            Some(18_446_744_073_709_549_568)
        );
        assert_eq!(whole(18_446_744_073_709_551_616.0), None, "2^64");
        assert_eq!(whole(-1e-9), None);
        assert_eq!(whole(f64::NAN), None);
        assert_eq!(whole(f64::INFINITY), None);
    }
}
