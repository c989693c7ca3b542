//! `tok usage import FILE|-`: a usage file, read into records for the control plane.
//!
//! [`parse_import`] tells the shape by content, never by file name:
//!
//! - **tok usage records**: a JSON array of objects, an object `{"records": [...]}` (other
//!   keys, such as `batch_id`, are ignored) or JSON Lines (one object per line, blank lines
//!   allowed). The records pass through as they are: the server validates each one and
//!   reports the bad ones by index.
//! - **`pulsar-admin topics stats TOPIC`** (`TopicStatsImpl`; `NonPersistentTopicStatsImpl`
//!   for a non-persistent topic). The document does not name its topic, so `--topic` or
//!   `--namespace` says where it belongs.
//! - **`pulsar-admin topics partitioned-stats TOPIC`** (`PartitionedTopicStatsImpl`): the
//!   aggregated top level is used. `partitions` (filled only with `--per-partition`) name the
//!   topic and its namespace; their figures are summed only when the top level has none.
//! - **`pulsar-admin broker-stats topics`**: one broker's topics, as
//!   `{namespace: {bundle range: {"persistent" | "non-persistent": {topic: stats}}}}`, with
//!   counters named `msgInCount`, `bytesInCount`, `msgOutCount` and `bytesOutCount`. `{}`
//!   (a broker with no topics loaded) is read as this, with no records.
//!
//! Pulsar stats become records `{tenant, namespace, metric, value, at}` (and `source` for
//! storage): `msgInCounter` → `messages_in`, `msgOutCounter` → `messages_out`,
//! `bytesInCounter` → `bytes_in`, `bytesOutCounter` → `bytes_out` (a zero counter gives no
//! record) and `storageSize` → `storage_bytes` (a gauge: zero is recorded). `namespace` is the
//! local name (`ns` in `tenant/ns` and in the v1 `tenant/cluster/ns`), `at` is `--at`, and
//! records are sorted by tenant, namespace, metric and source. Only the topic-level fields
//! count: the per-subscription and per-consumer counters nested inside are parts of them.
//!
//! - Counters are summed per tenant and namespace over the document's topics, one record each,
//!   without `source`: the server adds counter records up.
//! - Storage is one record per topic, with `source` naming the topic: the server keeps a
//!   gauge's latest value per (day, tenant, namespace, source) and adds sources up, so storage
//!   from files of different topics (two `topics stats` of one namespace, `broker-stats topics`
//!   of two brokers) adds up instead of the later file replacing the earlier. The source is,
//!   for `topics stats`, the `--topic` name made full (`acme/orders/x` and `x` read as
//!   `persistent://acme/orders/x` and `persistent://public/default/x`); for `topics
//!   partitioned-stats`, the partitioned topic without `-partition-N` (one record: the
//!   aggregate's `storageSize`, or its partitions' summed when it has none); for `broker-stats
//!   topics`, each topic as listed (a partition under its own name). With only `--namespace`
//!   the topic is unknown and the source is `namespace:TENANT/NS` (local name): two such
//!   imports for one namespace replace each other, so give `--topic` to add them up. Importing
//!   one topic whole (partitioned-stats) and by partition (broker-stats) counts it twice. A
//!   topic name that is not a valid source (1-255 characters, no control characters) is
//!   refused.
//!
//! Counters in pulsar-admin stats are totals since the topic was loaded on its broker (they
//! start again from zero when the topic is unloaded or moves, or the broker restarts).
//! Importing a snapshot records those totals as usage at `--at`; to meter increases, import
//! once per period with the counters reset in between, or use `tok usage collect`, which
//! computes deltas.
//!
//! pulsar-admin has no namespace or tenant stats document. `broker-stats monitoring-metrics`
//! has per-namespace figures, but they are rates and a backlog estimate, not counters, so it
//! is refused, as are `topics stats-internal` and `partitioned-stats-internal`.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::duration::rfc3339;

/// How to read a file, beyond what it says itself.
///
/// `topic` and `namespace` are for stats that do not name their topic; with a file that
/// names its namespaces (records, broker-stats topics) they are refused rather than ignored,
/// and where both they and the file name one (per-partition stats), they must agree.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportOptions {
    /// The time the stats were taken (Unix seconds, UTC): Pulsar stats become records at this
    /// time. Records files carry their own `at` and ignore it.
    pub at: i64,
    /// `--topic persistent://t/ns/x`: where a topic-stats document that does not name its
    /// topic belongs, and the `source` of its storage.
    pub topic: Option<String>,
    /// `--namespace t/ns`: the same, by namespace (storage `source`: `namespace:t/ns`).
    pub namespace: Option<String>,
}

/// What a usage file turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// tok usage records: an array, `{"records": [...]}` or JSON Lines.
    Records,
    /// `pulsar-admin topics stats`.
    TopicStats,
    /// `pulsar-admin topics partitioned-stats`.
    PartitionedTopicStats,
    /// `pulsar-admin broker-stats topics`.
    BrokerStatsTopics,
}

impl Shape {
    /// The shape as the user would name it, e.g. "pulsar-admin topics stats".
    pub fn describe(&self) -> &'static str {
        match self {
            Shape::Records => "tok usage records",
            Shape::TopicStats => "pulsar-admin topics stats",
            Shape::PartitionedTopicStats => "pulsar-admin topics partitioned-stats",
            Shape::BrokerStatsTopics => "pulsar-admin broker-stats topics",
        }
    }
}

/// A file read: its shape and the records to send (JSON objects; for Pulsar stats
/// `{tenant, namespace, metric, value, at}`, and `source` for `storage_bytes`).
#[derive(Debug, Clone, PartialEq)]
pub struct Imported {
    pub shape: Shape,
    pub records: Vec<Value>,
}

const ACCEPTED: &str = "expected tok usage records (a JSON array, {\"records\": [...]}, or JSON \
     lines) or pulsar-admin stats JSON (topics stats, topics partitioned-stats, broker-stats \
     topics)";

/// The counter metrics, in output order (alphabetical, so records sort by metric too).
const COUNTERS: [&str; 4] = ["bytes_in", "bytes_out", "messages_in", "messages_out"];
/// The one gauge, after the counters in output order: its zero is recorded.
const STORAGE: &str = "storage_bytes";
/// The longest `source` a record may have, in characters.
const MAX_SOURCE_CHARS: usize = 255;

/// Where a kind of stats document keeps the metrics.
struct Fields {
    /// The counters, in [`COUNTERS`] order.
    counters: [&'static str; 4],
    /// The storage gauge.
    storage: &'static str,
}

impl Fields {
    fn all(&self) -> impl Iterator<Item = &'static str> {
        self.counters.into_iter().chain([self.storage])
    }
}

/// The fields of `topics stats` and `topics partitioned-stats`.
const TOPIC_STATS_FIELDS: Fields = Fields {
    counters: [
        "bytesInCounter",
        "bytesOutCounter",
        "msgInCounter",
        "msgOutCounter",
    ],
    storage: "storageSize",
};
/// The fields of `broker-stats topics` (`PersistentTopic.updateRates`).
const BROKER_STATS_FIELDS: Fields = Fields {
    counters: ["bytesInCount", "bytesOutCount", "msgInCount", "msgOutCount"],
    storage: "storageSize",
};
/// Fields every `topics stats` document has (and no record does).
const TOPIC_STATS_SIGNATURE: [&str; 8] = [
    "msgRateIn",
    "msgRateOut",
    "msgThroughputIn",
    "msgThroughputOut",
    "msgInCounter",
    "msgOutCounter",
    "bytesInCounter",
    "bytesOutCounter",
];
/// The fields of a usage record: a one-line object with one of them is a JSON Lines file.
const RECORD_FIELDS: [&str; 5] = ["tenant", "namespace", "metric", "value", "at"];

/// (tenant, namespace local name).
type Key = (String, String);

/// What Pulsar stats come to, before they are records.
#[derive(Debug, Default)]
struct Totals {
    /// Counter sums per namespace, in [`COUNTERS`] order; `None`: no topic had the field.
    counters: BTreeMap<Key, [Option<u64>; 4]>,
    /// Storage per namespace and source (a topic, or `namespace:TENANT/NS`).
    storage: BTreeMap<(Key, String), u64>,
}

/// Reads a usage file (see the module documentation for the shapes).
pub fn parse_import(text: &str, opts: &ImportOptions) -> Result<Imported, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim().is_empty() {
        return Err(not_usage("it is empty"));
    }
    let doc = match serde_json::from_str::<Value>(text) {
        Ok(doc) => recognise(doc, !text.trim().contains('\n'))?,
        Err(whole) => Doc::Records(json_lines(text, &whole)?),
    };
    let shape = doc.shape();
    if !matches!(shape, Shape::TopicStats | Shape::PartitionedTopicStats)
        && let Some(flag) = given_flag(opts)
    {
        return Err(format!(
            "{flag} is only for pulsar-admin topics stats and topics partitioned-stats, which do \
             not name their topic; this file is {}",
            shape.describe()
        ));
    }
    let totals = match doc {
        Doc::Records(records) => return Ok(Imported { shape, records }),
        Doc::Topic(stats) => topic_stats(&stats, opts)?,
        Doc::Partitioned(stats) => partitioned_stats(&stats, opts)?,
        Doc::Broker(stats) => broker_stats(&stats)?,
    };
    let at = rfc3339(opts.at).ok_or_else(|| format!("--at {} is out of range", opts.at))?;
    Ok(Imported {
        shape,
        records: records_from(totals, &at),
    })
}

/// A recognised document.
enum Doc {
    Records(Vec<Value>),
    Topic(Map<String, Value>),
    Partitioned(Map<String, Value>),
    Broker(Map<String, Value>),
}

impl Doc {
    fn shape(&self) -> Shape {
        match self {
            Doc::Records(_) => Shape::Records,
            Doc::Topic(_) => Shape::TopicStats,
            Doc::Partitioned(_) => Shape::PartitionedTopicStats,
            Doc::Broker(_) => Shape::BrokerStatsTopics,
        }
    }
}

fn recognise(doc: Value, one_line: bool) -> Result<Doc, String> {
    match doc {
        Value::Array(items) => {
            if is_monitoring_metrics(&items) {
                return Err(unsupported(
                    "pulsar-admin broker-stats monitoring-metrics",
                    "its namespace figures are rates and a backlog estimate, not counters",
                ));
            }
            Ok(Doc::Records(record_objects(items, "the records array")?))
        }
        Value::Object(map) => recognise_object(map, one_line),
        other => Err(not_usage(&format!("a JSON {}", kind(&other)))),
    }
}

fn recognise_object(mut map: Map<String, Value>, one_line: bool) -> Result<Doc, String> {
    if let Some(records) = map.remove("records") {
        return match records {
            Value::Array(items) => Ok(Doc::Records(record_objects(items, "\"records\"")?)),
            other => Err(format!(
                "\"records\" is a JSON {}, not an array of records",
                kind(&other)
            )),
        };
    }
    let partitions = map.get("partitions").and_then(Value::as_object);
    if let Some(partitions) = partitions
        && map.get("metadata").is_some_and(Value::is_object)
    {
        let any_partition_stats = partitions
            .values()
            .any(|p| p.as_object().is_some_and(looks_like_topic_stats));
        if looks_like_topic_stats(&map) || any_partition_stats {
            return Ok(Doc::Partitioned(map));
        }
        return Err(unsupported(
            "pulsar-admin topics partitioned-stats-internal",
            "it has no usage counters: use topics partitioned-stats",
        ));
    }
    if looks_like_topic_stats(&map) {
        return Ok(Doc::Topic(map));
    }
    if map.contains_key("entriesAddedCounter")
        || (map.contains_key("ledgers") && map.contains_key("cursors"))
    {
        return Err(unsupported(
            "pulsar-admin topics stats-internal",
            "it has no usage counters: use topics stats",
        ));
    }
    if is_broker_stats(&map) {
        return Ok(Doc::Broker(map));
    }
    if RECORD_FIELDS.iter().any(|f| map.contains_key(*f)) {
        // One line holding one object is also a JSON Lines file of one record.
        if one_line {
            return Ok(Doc::Records(vec![Value::Object(map)]));
        }
        return Err(not_usage(
            "one JSON object over several lines: put records in an array, in \
             {\"records\": [...]}, or one per line",
        ));
    }
    let mut keys: Vec<String> = map.keys().take(5).map(|k| format!("{k:?}")).collect();
    if map.len() > keys.len() {
        keys.push("…".to_string());
    }
    Err(not_usage(&format!(
        "a JSON object with keys {}",
        keys.join(", ")
    )))
}

/// One object per non-blank line. The first line decides whether this is JSON Lines at all.
fn json_lines(text: &str, whole: &serde_json::Error) -> Result<Vec<Value>, String> {
    let mut records = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let first = records.is_empty();
        match serde_json::from_str::<Value>(line) {
            Ok(Value::Object(map)) if looks_like_topic_stats(&map) => {
                return Err(format!(
                    "JSON lines: line {n} is pulsar-admin topics stats, which does not name its \
                     topic: import one stats document per file, with --topic or --namespace"
                ));
            }
            Ok(Value::Object(map)) => records.push(Value::Object(map)),
            Ok(_) | Err(_) if first => return Err(not_usage(&format!("not JSON: {whole}"))),
            Ok(other) => {
                return Err(format!(
                    "JSON lines: line {n} is a JSON {}, not an object",
                    kind(&other)
                ));
            }
            Err(e) => return Err(format!("JSON lines: line {n} is not valid JSON: {e}")),
        }
    }
    Ok(records)
}

fn record_objects(items: Vec<Value>, what: &str) -> Result<Vec<Value>, String> {
    if let Some((i, item)) = items.iter().enumerate().find(|(_, v)| !v.is_object()) {
        return Err(format!(
            "element {i} of {what} is a JSON {}, not an object: a usage record is a JSON object",
            kind(item)
        ));
    }
    Ok(items)
}

fn topic_stats(stats: &Map<String, Value>, opts: &ImportOptions) -> Result<Totals, String> {
    let Some(target) = target(opts)? else {
        return Err(
            "pulsar-admin topics stats does not name its topic: give --topic \
             persistent://TENANT/NAMESPACE/TOPIC or --namespace TENANT/NAMESPACE"
                .to_string(),
        );
    };
    let source = match target.topic {
        Some(topic) => topic,
        None => namespace_source(&target.key),
    };
    let mut totals = Totals::default();
    add(
        &mut totals,
        &target.key,
        stats,
        &TOPIC_STATS_FIELDS,
        &target.label,
        &source,
    )?;
    Ok(totals)
}

fn partitioned_stats(stats: &Map<String, Value>, opts: &ImportOptions) -> Result<Totals, String> {
    let empty = Map::new();
    let partitions = stats
        .get("partitions")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    // The partitions' namespace and partitioned topic.
    let mut named: Option<(Key, String)> = None;
    let mut parts = Vec::with_capacity(partitions.len());
    for (name, partition) in partitions {
        let key = parse_topic(name).map_err(|e| format!("partitioned-stats: partition {e}"))?;
        let base = partitioned_name(&full_topic_name(name)).to_string();
        if let Some((prev_key, prev_base)) = &named {
            if *prev_key != key {
                return Err(format!(
                    "partitioned-stats: partition {name} is not in {}/{} like the others",
                    prev_key.0, prev_key.1
                ));
            }
            if *prev_base != base {
                return Err(format!(
                    "partitioned-stats: partition {name} is not a partition of {prev_base} like \
                     the others"
                ));
            }
        }
        let partition = partition.as_object().ok_or_else(|| {
            format!(
                "partitioned-stats: partition {name} is a JSON {}, not an object",
                kind(partition)
            )
        })?;
        named = Some((key, base));
        parts.push((name, partition));
    }
    let given = target(opts)?;
    let (key, label, source) = match (named, given) {
        (Some((named, _)), Some(given)) if named != given.key => {
            return Err(format!(
                "{} is not where the partitions are ({}/{})",
                given.label, named.0, named.1
            ));
        }
        (Some((_, base)), Some(given))
            if given
                .topic
                .as_deref()
                .is_some_and(|topic| partitioned_name(topic) != base) =>
        {
            return Err(format!(
                "--topic {} is not the partitioned topic of the partitions ({base})",
                given.label
            ));
        }
        (Some((named, base)), given) => {
            let label = given.map_or_else(|| "the partitioned topic".to_string(), |g| g.label);
            (named, label, base)
        }
        (None, Some(given)) => {
            let source = match &given.topic {
                Some(topic) => partitioned_name(topic).to_string(),
                None => namespace_source(&given.key),
            };
            (given.key, given.label, source)
        }
        (None, None) => {
            return Err(
                "pulsar-admin topics partitioned-stats does not name its topic (its partitions \
                 are listed only with --per-partition): give --topic \
                 persistent://TENANT/NAMESPACE/TOPIC or --namespace TENANT/NAMESPACE"
                    .to_string(),
            );
        }
    };
    let fields = &TOPIC_STATS_FIELDS;
    let mut totals = Totals::default();
    if fields.all().any(|f| stats.contains_key(f)) {
        add_counters(&mut totals, &key, stats, fields, &label)?;
    } else {
        for (name, partition) in &parts {
            add_counters(&mut totals, &key, partition, fields, name)?;
        }
    }
    if stats.contains_key(fields.storage) {
        add_storage(&mut totals, &key, stats, fields.storage, &label, &source)?;
    } else {
        for (name, partition) in &parts {
            add_storage(&mut totals, &key, partition, fields.storage, name, &source)?;
        }
    }
    Ok(totals)
}

fn broker_stats(stats: &Map<String, Value>) -> Result<Totals, String> {
    let mut totals = Totals::default();
    for (namespace, bundles) in stats {
        let key = parse_namespace(namespace)
            .ok_or_else(|| format!("broker-stats topics: {namespace:?} is not a namespace"))?;
        for domains in objects(bundles, namespace)?.values() {
            for topics in objects(domains, namespace)?.values() {
                for (topic, topic_stats) in objects(topics, namespace)? {
                    let topic_stats = topic_stats.as_object().ok_or_else(|| {
                        format!(
                            "broker-stats topics: {topic} is a JSON {}, not an object",
                            kind(topic_stats)
                        )
                    })?;
                    // Storage per topic, a partition under its own name: it is a topic of
                    // its own on the broker.
                    add(
                        &mut totals,
                        &key,
                        topic_stats,
                        &BROKER_STATS_FIELDS,
                        topic,
                        topic,
                    )?;
                }
            }
        }
    }
    Ok(totals)
}

fn objects<'a>(value: &'a Value, namespace: &str) -> Result<&'a Map<String, Value>, String> {
    value.as_object().ok_or_else(|| {
        format!(
            "broker-stats topics: {namespace} holds a JSON {} where an object belongs",
            kind(value)
        )
    })
}

/// Adds one topic's (or one aggregate's) fields: its counters to its namespace's sums, its
/// storage to `source`'s.
fn add(
    totals: &mut Totals,
    key: &Key,
    stats: &Map<String, Value>,
    fields: &Fields,
    topic: &str,
    source: &str,
) -> Result<(), String> {
    add_counters(totals, key, stats, fields, topic)?;
    add_storage(totals, key, stats, fields.storage, topic, source)
}

/// Adds one topic's (or one aggregate's) counters to its namespace's sums.
fn add_counters(
    totals: &mut Totals,
    key: &Key,
    stats: &Map<String, Value>,
    fields: &Fields,
    topic: &str,
) -> Result<(), String> {
    let sums = totals.counters.entry(key.clone()).or_default();
    for (sum, field) in sums.iter_mut().zip(fields.counters) {
        let Some(value) = stats.get(field) else {
            continue;
        };
        let n = whole_number(value, field, topic)?;
        *sum = Some(match *sum {
            None => n,
            Some(acc) => acc.checked_add(n).ok_or_else(|| {
                format!(
                    "{field}: the sum over {}/{} is more than {}",
                    key.0,
                    key.1,
                    u64::MAX
                )
            })?,
        });
    }
    Ok(())
}

/// Adds one topic's (or one aggregate's or partition's) storage to `source`'s: summed only
/// over the partitions of one partitioned topic.
fn add_storage(
    totals: &mut Totals,
    key: &Key,
    stats: &Map<String, Value>,
    field: &str,
    topic: &str,
    source: &str,
) -> Result<(), String> {
    let Some(value) = stats.get(field) else {
        return Ok(());
    };
    let n = whole_number(value, field, topic)?;
    check_source(source)?;
    let sum = totals
        .storage
        .entry((key.clone(), source.to_string()))
        .or_insert(0);
    *sum = sum
        .checked_add(n)
        .ok_or_else(|| format!("{field}: the sum over {source} is more than {}", u64::MAX))?;
    Ok(())
}

/// A usage record's `source`: 1-255 characters, none of them a control character.
fn check_source(source: &str) -> Result<(), String> {
    let chars = source.chars().count();
    let why = if chars == 0 {
        "is empty".to_string()
    } else if chars > MAX_SOURCE_CHARS {
        format!("has {chars} characters")
    } else if source.chars().any(char::is_control) {
        "has a control character".to_string()
    } else {
        return Ok(());
    };
    Err(format!(
        "the storage of {source:?} cannot be recorded: its name {why}, and a usage record's \
         source (the topic its storage is for) is 1-{MAX_SOURCE_CHARS} characters without \
         control characters"
    ))
}

/// 2^53: above it, not every integer is a float, so a float there may have been rounded.
const MAX_EXACT_FLOAT: f64 = 9_007_199_254_740_992.0;

/// A counter's value: a non-negative integer, exactly. `1.0` is 1; nothing is rounded.
fn whole_number(value: &Value, field: &str, topic: &str) -> Result<u64, String> {
    let Value::Number(n) = value else {
        return Err(format!(
            "{field} of {topic} is a JSON {}, not a number",
            kind(value)
        ));
    };
    if let Some(u) = n.as_u64() {
        return Ok(u);
    }
    if let Some(i) = n.as_i64() {
        return Err(format!("{field} of {topic} is negative ({i})"));
    }
    let f = n.as_f64().unwrap_or(f64::NAN);
    if !f.is_finite() {
        return Err(format!("{field} of {topic} is not a finite number ({n})"));
    }
    if f < 0.0 {
        return Err(format!("{field} of {topic} is negative ({n})"));
    }
    if f.fract() != 0.0 {
        return Err(format!("{field} of {topic} is not a whole number ({n})"));
    }
    if f > MAX_EXACT_FLOAT {
        return Err(format!(
            "{field} of {topic} is too large to be exact ({n}): at most {} as an integer",
            u64::MAX
        ));
    }
    // Whole, non-negative and at most 2^53: the conversion is exact.
    Ok(f as u64)
}

fn records_from(totals: Totals, at: &str) -> Vec<Value> {
    let mut rows: Vec<(Key, &str, Option<String>, u64)> = Vec::new();
    for (key, sums) in totals.counters {
        for (metric, sum) in COUNTERS.into_iter().zip(sums) {
            if let Some(value) = sum
                && value != 0
            {
                rows.push((key.clone(), metric, None, value));
            }
        }
    }
    for ((key, source), value) in totals.storage {
        rows.push((key, STORAGE, Some(source), value));
    }
    // Tenant, namespace, metric, source.
    rows.sort();
    rows.into_iter()
        .map(|((tenant, namespace), metric, source, value)| {
            let mut record = json!({
                "tenant": tenant,
                "namespace": namespace,
                "metric": metric,
                "value": value,
                "at": at,
            });
            if let Some(source) = source {
                record["source"] = Value::String(source);
            }
            record
        })
        .collect()
}

/// Where `--topic` or `--namespace` says stats belong.
#[derive(Debug)]
struct Target {
    key: Key,
    /// How to name the stats in messages: `--topic` as given, or "the topic in TENANT/NS".
    label: String,
    /// `--topic`'s full name (see [`full_topic_name`]); `None` with only `--namespace`.
    topic: Option<String>,
}

/// `--topic` or `--namespace`, whichever is given (they must agree).
fn target(opts: &ImportOptions) -> Result<Option<Target>, String> {
    let topic = match &opts.topic {
        Some(topic) => Some((
            parse_topic(topic).map_err(|e| format!("--topic {e}"))?,
            topic,
        )),
        None => None,
    };
    let namespace = match &opts.namespace {
        Some(ns) => Some(parse_namespace(ns).ok_or_else(|| {
            format!("--namespace {ns:?}: expected TENANT/NAMESPACE, e.g. acme/orders")
        })?),
        None => None,
    };
    match (topic, namespace) {
        (Some((from_topic, topic)), Some(ns)) if from_topic != ns => Err(format!(
            "--topic {topic} is in {}/{}, not in --namespace {}",
            from_topic.0,
            from_topic.1,
            opts.namespace.as_deref().unwrap_or_default()
        )),
        (Some((key, topic)), _) => Ok(Some(Target {
            key,
            label: topic.clone(),
            topic: Some(full_topic_name(topic)),
        })),
        (None, Some(key)) => Ok(Some(Target {
            label: format!("the topic in {}/{}", key.0, key.1),
            key,
            topic: None,
        })),
        (None, None) => Ok(None),
    }
}

/// The storage source of stats known only by namespace: `namespace:TENANT/NS`.
fn namespace_source(key: &Key) -> String {
    format!("namespace:{}/{}", key.0, key.1)
}

fn given_flag(opts: &ImportOptions) -> Option<&'static str> {
    match (&opts.topic, &opts.namespace) {
        (Some(_), _) => Some("--topic"),
        (None, Some(_)) => Some("--namespace"),
        (None, None) => None,
    }
}

/// `tenant/ns` or the v1 `tenant/cluster/ns`, as Pulsar's `NamespaceName` splits it.
fn parse_namespace(name: &str) -> Option<Key> {
    let parts: Vec<&str> = name.split('/').collect();
    let (tenant, local) = match parts.as_slice() {
        [tenant, local] | [tenant, _, local] => (*tenant, *local),
        _ => return None,
    };
    if parts.iter().any(|p| p.is_empty()) {
        return None;
    }
    Some((tenant.to_string(), local.to_string()))
}

/// A topic's namespace, as Pulsar's `TopicName` reads the name:
/// `persistent://tenant/ns/x` (also `non-persistent://`), the v1
/// `persistent://tenant/cluster/ns/x`, and the short `tenant/ns/x` and `x` (in
/// `public/default`). A partition (`x-partition-3`) is in its topic's namespace.
fn parse_topic(name: &str) -> Result<Key, String> {
    let invalid = |why: &str| format!("{name:?} is not a topic name: {why}");
    let rest = match name.split_once("://") {
        Some(("persistent" | "non-persistent", rest)) => rest,
        Some(_) => return Err(invalid("expected persistent:// or non-persistent://")),
        None if !name.is_empty() && !name.contains('/') => {
            return Ok(("public".to_string(), "default".to_string()));
        }
        None if name.split('/').count() == 3 => name,
        None => return Err(invalid("expected persistent://TENANT/NAMESPACE/TOPIC")),
    };
    let parts: Vec<&str> = rest.splitn(4, '/').collect();
    let (tenant, local) = match parts.as_slice() {
        [tenant, ns, _] | [tenant, _, ns, _] => (*tenant, *ns),
        _ => return Err(invalid("expected persistent://TENANT/NAMESPACE/TOPIC")),
    };
    if parts.iter().any(|p| p.is_empty()) {
        return Err(invalid("an empty tenant, namespace or topic"));
    }
    Ok((tenant.to_string(), local.to_string()))
}

/// A topic name (one [`parse_topic`] accepts) made full, as Pulsar's `TopicName` completes
/// it: `x` is `persistent://public/default/x` and `tenant/ns/x` is
/// `persistent://tenant/ns/x`; a name with a domain is kept as it is.
fn full_topic_name(name: &str) -> String {
    if name.contains("://") {
        name.to_string()
    } else if name.contains('/') {
        format!("persistent://{name}")
    } else {
        format!("persistent://public/default/{name}")
    }
}

/// A partition's partitioned topic (`x-partition-3` → `x`); any other name as it is.
fn partitioned_name(name: &str) -> &str {
    match name.rsplit_once("-partition-") {
        Some((base, index))
            if !index.is_empty()
                && index.bytes().all(|b| b.is_ascii_digit())
                && !base.is_empty()
                && !base.ends_with('/') =>
        {
            base
        }
        _ => name,
    }
}

fn looks_like_topic_stats(map: &Map<String, Value>) -> bool {
    TOPIC_STATS_SIGNATURE.iter().any(|f| map.contains_key(*f))
}

/// `{namespace: {bundle: {"persistent" | "non-persistent": {topic: {...}}}}}`; `{}` is a
/// broker with no topics loaded.
fn is_broker_stats(map: &Map<String, Value>) -> bool {
    map.iter().all(|(namespace, bundles)| {
        parse_namespace(namespace).is_some()
            && bundles.as_object().is_some_and(|bundles| {
                bundles.values().all(|domains| {
                    domains.as_object().is_some_and(|domains| {
                        domains.iter().all(|(domain, topics)| {
                            matches!(domain.as_str(), "persistent" | "non-persistent")
                                && topics.is_object()
                        })
                    })
                })
            })
    })
}

/// `[{"metrics": {...}, "dimensions": {...}}, ...]` (Pulsar's `Metrics`).
fn is_monitoring_metrics(items: &[Value]) -> bool {
    !items.is_empty()
        && items.iter().all(|item| {
            item.as_object().is_some_and(|m| {
                m.get("metrics").is_some_and(Value::is_object)
                    && m.get("dimensions").is_some_and(Value::is_object)
            })
        })
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn not_usage(what: &str) -> String {
    format!("not a usage file ({what}): {ACCEPTED}")
}

fn unsupported(what: &str, why: &str) -> String {
    format!("this is {what}, which tok usage import does not read: {why}")
}

#[cfg(test)]
mod tests {
    use super::*;

    // Fixtures, modelled on the real output (field names, order, nesting and types):
    //
    // - topic-stats.json, topic-stats-non-persistent.json: `pulsar-admin topics stats`, i.e.
    //   Jackson's pretty print of pulsar-common/src/main/java/org/apache/pulsar/common/
    //   policies/data/stats/TopicStatsImpl.java (3.x/4.x: with systemTopicBytesInCounter,
    //   bytesOutInternalCounter, backlogQuotaLimit*, oldestBacklogMessage*, ownerBroker) and
    //   its SubscriptionStatsImpl, ConsumerStatsImpl, PublisherStatsImpl; the non-persistent
    //   one is NonPersistentTopicStatsImpl (msgDropRate; storageSize 0).
    // - partitioned-stats.json: `pulsar-admin topics partitioned-stats` without
    //   --per-partition (CmdTopics.GetPartitionedStats: perPartition = false), so
    //   `partitions` is empty; PartitionedTopicStatsImpl.java adds `metadata`
    //   (PartitionedTopicMetadata: partitions) and `partitions` to TopicStatsImpl.
    // - partitioned-stats-per-partition.json: the same with --per-partition.
    // - broker-stats-topics.json: `pulsar-admin broker-stats topics -i`, the JSON written by
    //   pulsar-broker/src/main/java/org/apache/pulsar/broker/stats/PulsarStats.java
    //   (updateStats: namespace → bundle range → "persistent" / "non-persistent" → topic)
    //   with each topic from PersistentTopic.updateRates / NonPersistentTopic.updateRates
    //   (publishers, replication, subscriptions, producerCount, averageMsgSize, msgRateIn,
    //   msgRateOut, msgInCount, bytesInCount, msgOutCount, bytesOutCount, msgThroughputIn,
    //   msgThroughputOut, storageSize, backlogSize, pendingAddEntriesCount; non-persistent
    //   topics have no storageSize) and StreamingStats.java for publishers and consumers.
    //   One namespace is a v1 name (tenant/cluster/ns).
    const TOPIC_STATS: &str = include_str!("../../../tests/fixtures/pulsar/topic-stats.json");
    const NON_PERSISTENT_TOPIC_STATS: &str =
        include_str!("../../../tests/fixtures/pulsar/topic-stats-non-persistent.json");
    const PARTITIONED_STATS: &str =
        include_str!("../../../tests/fixtures/pulsar/partitioned-stats.json");
    const PARTITIONED_STATS_PER_PARTITION: &str =
        include_str!("../../../tests/fixtures/pulsar/partitioned-stats-per-partition.json");
    const BROKER_STATS_TOPICS: &str =
        include_str!("../../../tests/fixtures/pulsar/broker-stats-topics.json");

    /// 2026-11-20T10:00:00Z.
    const AT: i64 = 1_795_168_800;
    const AT_TEXT: &str = "2026-11-20T10:00:00Z";

    fn opts() -> ImportOptions {
        ImportOptions {
            at: AT,
            topic: None,
            namespace: None,
        }
    }

    fn with_topic(topic: &str) -> ImportOptions {
        ImportOptions {
            topic: Some(topic.to_string()),
            ..opts()
        }
    }

    fn with_namespace(namespace: &str) -> ImportOptions {
        ImportOptions {
            namespace: Some(namespace.to_string()),
            ..opts()
        }
    }

    fn rec(tenant: &str, namespace: &str, metric: &str, value: u64) -> Value {
        json!({"tenant": tenant, "namespace": namespace, "metric": metric, "value": value, "at": AT_TEXT})
    }

    /// A `storage_bytes` record of `source`.
    fn storage(tenant: &str, namespace: &str, source: &str, value: u64) -> Value {
        let mut record = rec(tenant, namespace, "storage_bytes", value);
        record["source"] = json!(source);
        record
    }

    fn ok(text: &str, opts: &ImportOptions) -> Imported {
        match parse_import(text, opts) {
            Ok(imported) => imported,
            Err(e) => panic!("expected Ok, got Err({e})"),
        }
    }

    fn err(text: &str, opts: &ImportOptions) -> String {
        match parse_import(text, opts) {
            Ok(imported) => panic!("expected Err, got {imported:?}"),
            Err(e) => e,
        }
    }

    fn assert_contains(haystack: &str, needles: &[&str]) {
        for needle in needles {
            assert!(haystack.contains(needle), "{needle:?} not in {haystack:?}");
        }
    }

    /// The fixture as a JSON object, to edit.
    fn object(text: &str) -> Map<String, Value> {
        match serde_json::from_str(text) {
            Ok(Value::Object(map)) => map,
            other => panic!("fixture is not an object: {other:?}"),
        }
    }

    fn text(map: &Map<String, Value>) -> String {
        serde_json::to_string_pretty(map).unwrap()
    }

    // ---- tok usage records ----

    #[test]
    fn records_array_passes_through_unvalidated() {
        let input = r#"[
            {"tenant":"acme","namespace":"orders","metric":"bytes_in","value":1234,"at":"2026-11-20T10:00:00Z"},
            {"tenant":"acme","metric":"messages_in","value":-1,"at":1795168800},
            {"nonsense":true}
        ]"#;
        let imported = ok(input, &opts());
        assert_eq!(imported.shape, Shape::Records);
        assert_eq!(
            imported.records,
            vec![
                json!({"tenant":"acme","namespace":"orders","metric":"bytes_in","value":1234,"at":"2026-11-20T10:00:00Z"}),
                json!({"tenant":"acme","metric":"messages_in","value":-1,"at":1795168800}),
                json!({"nonsense":true}),
            ]
        );
    }

    #[test]
    fn records_object_ignores_other_keys() {
        let input = r#"{"batch_id":"nightly-2026-11-20","atomic":true,"records":[
            {"tenant":"acme","namespace":"orders","metric":"storage_bytes","value":0,"at":"2026-11-20T10:00:00Z"}
        ]}"#;
        let imported = ok(input, &opts());
        assert_eq!(imported.shape, Shape::Records);
        assert_eq!(
            imported.records,
            vec![
                json!({"tenant":"acme","namespace":"orders","metric":"storage_bytes","value":0,"at":"2026-11-20T10:00:00Z"})
            ]
        );
    }

    #[test]
    fn records_json_lines_with_blank_lines_and_crlf() {
        let input = "\u{feff}{\"tenant\":\"acme\",\"metric\":\"bytes_in\",\"value\":1,\"at\":\"2026-11-20T10:00:00Z\"}\r\n\
                     \r\n\
                     {\"tenant\":\"beta\",\"metric\":\"bytes_out\",\"value\":2,\"at\":\"2026-11-20T10:00:00Z\"}\n\
                     \n   \n\
                     {\"tenant\":\"acme\",\"metric\":\"messages_in\",\"value\":3,\"at\":\"2026-11-20T10:00:00Z\"}\n";
        let imported = ok(input, &opts());
        assert_eq!(imported.shape, Shape::Records);
        assert_eq!(
            imported.records,
            vec![
                json!({"tenant":"acme","metric":"bytes_in","value":1,"at":"2026-11-20T10:00:00Z"}),
                json!({"tenant":"beta","metric":"bytes_out","value":2,"at":"2026-11-20T10:00:00Z"}),
                json!({"tenant":"acme","metric":"messages_in","value":3,"at":"2026-11-20T10:00:00Z"}),
            ]
        );
    }

    #[test]
    fn one_line_record_is_json_lines() {
        let input =
            r#"{"tenant":"acme","metric":"bytes_in","value":1,"at":"2026-11-20T10:00:00Z"}"#;
        let imported = ok(input, &opts());
        assert_eq!(imported.shape, Shape::Records);
        assert_eq!(
            imported.records,
            vec![serde_json::from_str::<Value>(input).unwrap()]
        );
    }

    #[test]
    fn empty_records_are_fine() {
        for input in ["[]", " [ ]\n", r#"{"batch_id":"b","records":[]}"#] {
            let imported = ok(input, &opts());
            assert_eq!(imported.shape, Shape::Records, "{input}");
            assert!(imported.records.is_empty(), "{input}");
        }
    }

    #[test]
    fn a_record_that_is_not_an_object_is_named_by_index() {
        let e = err(r#"[{"tenant":"acme"}, {"tenant":"b"}, "oops"]"#, &opts());
        assert_contains(&e, &["element 2", "string", "not an object"]);
        let e = err(r#"{"records":[{"tenant":"acme"}, [1]]}"#, &opts());
        assert_contains(&e, &["element 1", "\"records\"", "array"]);
        let e = err(r#"{"records":{"tenant":"acme"}}"#, &opts());
        assert_contains(&e, &["\"records\" is a JSON object, not an array"]);
    }

    #[test]
    fn json_lines_errors_name_the_line() {
        let input = "{\"tenant\":\"a\"}\n\n{\"tenant\":\"b\"\n";
        assert_contains(&err(input, &opts()), &["line 3", "not valid JSON"]);
        let input = "{\"tenant\":\"a\"}\n[1,2]\n";
        assert_contains(&err(input, &opts()), &["line 2", "array", "not an object"]);
        let input = "{\"tenant\":\"a\"}\n{\"msgRateIn\":1.0,\"msgInCounter\":5}\n";
        assert_contains(&err(input, &opts()), &["line 2", "topics stats"]);
    }

    #[test]
    fn options_are_refused_where_the_file_names_its_own_namespaces() {
        let records = r#"[{"tenant":"acme"}]"#;
        assert_contains(
            &err(records, &with_topic("persistent://acme/orders/x")),
            &["--topic", "tok usage records"],
        );
        assert_contains(
            &err(BROKER_STATS_TOPICS, &with_namespace("acme/orders")),
            &["--namespace", "pulsar-admin broker-stats topics"],
        );
    }

    // ---- pulsar-admin topics stats ----

    #[test]
    fn topic_stats_with_topic() {
        let imported = ok(
            TOPIC_STATS,
            &with_topic("persistent://acme/orders/payments"),
        );
        assert_eq!(imported.shape, Shape::TopicStats);
        // The per-subscription and per-consumer counters nested inside are not added again.
        assert_eq!(
            imported.records,
            vec![
                rec("acme", "orders", "bytes_in", 52_443_000),
                rec("acme", "orders", "bytes_out", 104_886_000),
                rec("acme", "orders", "messages_in", 97_650),
                rec("acme", "orders", "messages_out", 195_300),
                storage(
                    "acme",
                    "orders",
                    "persistent://acme/orders/payments",
                    73_400_320
                ),
            ]
        );
    }

    #[test]
    fn topic_stats_compact_one_line_is_still_topic_stats() {
        let compact = serde_json::to_string(&object(TOPIC_STATS)).unwrap();
        assert!(!compact.contains('\n'));
        let imported = ok(&compact, &with_namespace("acme/orders"));
        assert_eq!(imported.shape, Shape::TopicStats);
        assert_eq!(imported.records.len(), 5);
    }

    #[test]
    fn topic_stats_namespace_names_and_storage_sources() {
        let cases = [
            (
                with_namespace("acme/orders"),
                ("acme", "orders"),
                "namespace:acme/orders",
            ),
            (
                with_namespace("sample/standalone/ns1"),
                ("sample", "ns1"),
                "namespace:sample/ns1",
            ),
            (
                with_topic("persistent://sample/standalone/ns1/legacy"),
                ("sample", "ns1"),
                "persistent://sample/standalone/ns1/legacy",
            ),
            // One partition's stats are that partition's, a topic of its own.
            (
                with_topic("persistent://acme/orders/payments-partition-7"),
                ("acme", "orders"),
                "persistent://acme/orders/payments-partition-7",
            ),
            (
                with_topic("acme/orders/payments"),
                ("acme", "orders"),
                "persistent://acme/orders/payments",
            ),
            (
                with_topic("payments"),
                ("public", "default"),
                "persistent://public/default/payments",
            ),
            (
                with_topic("non-persistent://acme/orders/live"),
                ("acme", "orders"),
                "non-persistent://acme/orders/live",
            ),
            (
                ImportOptions {
                    topic: Some("persistent://acme/orders/payments".to_string()),
                    namespace: Some("acme/orders".to_string()),
                    ..opts()
                },
                ("acme", "orders"),
                "persistent://acme/orders/payments",
            ),
        ];
        for (options, (tenant, namespace), source) in cases {
            let imported = ok(TOPIC_STATS, &options);
            assert_eq!(
                imported.records,
                vec![
                    rec(tenant, namespace, "bytes_in", 52_443_000),
                    rec(tenant, namespace, "bytes_out", 104_886_000),
                    rec(tenant, namespace, "messages_in", 97_650),
                    rec(tenant, namespace, "messages_out", 195_300),
                    storage(tenant, namespace, source, 73_400_320),
                ],
                "{options:?}"
            );
        }
    }

    #[test]
    fn two_topics_of_one_namespace_have_storage_of_their_own() {
        // The server keeps a gauge's latest value per source: two topics' stats taken at the
        // same time must not share one.
        let payments = ok(
            TOPIC_STATS,
            &with_topic("persistent://acme/orders/payments"),
        );
        let refunds = ok(TOPIC_STATS, &with_topic("acme/orders/refunds"));
        assert_eq!(
            payments.records[4]["source"],
            json!("persistent://acme/orders/payments")
        );
        assert_eq!(
            refunds.records[4]["source"],
            json!("persistent://acme/orders/refunds")
        );
        // Counters have no source: the server adds them up as they are.
        for record in payments.records[..4].iter().chain(&refunds.records[..4]) {
            assert!(record.get("source").is_none(), "{record}");
        }
    }

    #[test]
    fn non_persistent_topic_stats_omit_zero_counters_but_keep_zero_storage() {
        let imported = ok(
            NON_PERSISTENT_TOPIC_STATS,
            &with_topic("non-persistent://acme/telemetry/heartbeats"),
        );
        assert_eq!(imported.shape, Shape::TopicStats);
        assert_eq!(
            imported.records,
            vec![
                rec("acme", "telemetry", "bytes_in", 640_000),
                rec("acme", "telemetry", "messages_in", 5_000),
                storage(
                    "acme",
                    "telemetry",
                    "non-persistent://acme/telemetry/heartbeats",
                    0
                ),
            ]
        );
    }

    #[test]
    fn topic_stats_need_topic_or_namespace() {
        let e = err(TOPIC_STATS, &opts());
        assert_contains(&e, &["does not name its topic", "--topic", "--namespace"]);
    }

    #[test]
    fn bad_topic_and_namespace_options() {
        for topic in [
            "kafka://acme/orders/x",
            "persistent://acme/orders",
            "persistent://acme//x",
            "acme/orders",
            "",
        ] {
            assert_contains(
                &err(TOPIC_STATS, &with_topic(topic)),
                &["--topic", "not a topic name"],
            );
        }
        for namespace in ["acme", "acme/", "a/b/c/d", "/orders"] {
            assert_contains(
                &err(TOPIC_STATS, &with_namespace(namespace)),
                &["--namespace"],
            );
        }
        let both = ImportOptions {
            topic: Some("persistent://acme/orders/x".to_string()),
            namespace: Some("acme/billing".to_string()),
            ..opts()
        };
        assert_contains(&err(TOPIC_STATS, &both), &["acme/orders", "acme/billing"]);
    }

    #[test]
    fn values_must_be_exact_non_negative_integers() {
        let topic = with_topic("persistent://acme/orders/payments");
        let set = |field: &str, value: &str| {
            let mut map = object(TOPIC_STATS);
            map.insert(field.to_string(), serde_json::from_str(value).unwrap());
            text(&map)
        };
        let e = err(&set("msgInCounter", "-5"), &topic);
        assert_contains(
            &e,
            &[
                "msgInCounter",
                "persistent://acme/orders/payments",
                "negative",
            ],
        );
        let e = err(&set("bytesOutCounter", "12.5"), &topic);
        assert_contains(&e, &["bytesOutCounter", "not a whole number"]);
        let e = err(&set("storageSize", "-0.5"), &topic);
        assert_contains(&e, &["storageSize", "negative"]);
        let e = err(&set("msgOutCounter", "\"12\""), &topic);
        assert_contains(&e, &["msgOutCounter", "string", "not a number"]);
        let e = err(&set("msgOutCounter", "null"), &topic);
        assert_contains(&e, &["msgOutCounter", "null"]);
        // One more than u64::MAX: serde_json reads it as a float.
        let e = err(&set("bytesInCounter", "18446744073709551616"), &topic);
        assert_contains(&e, &["bytesInCounter", "too large"]);
        // A float above 2^53 may already have been rounded.
        let e = err(&set("bytesInCounter", "9007199254740993.0"), &topic);
        assert_contains(&e, &["bytesInCounter", "too large"]);
        // Whole floats are exact; u64::MAX as an integer is fine.
        let imported = ok(&set("msgInCounter", "97650.0"), &topic);
        assert_eq!(
            imported.records[2],
            rec("acme", "orders", "messages_in", 97_650)
        );
        let imported = ok(&set("storageSize", "18446744073709551615"), &topic);
        assert_eq!(
            imported.records[4],
            storage(
                "acme",
                "orders",
                "persistent://acme/orders/payments",
                u64::MAX
            )
        );
        let imported = ok(&set("storageSize", "1e15"), &topic);
        assert_eq!(
            imported.records[4],
            storage(
                "acme",
                "orders",
                "persistent://acme/orders/payments",
                1_000_000_000_000_000
            )
        );
        // Non-counter fields are never read: -1 quota limits are fine.
        assert_eq!(object(TOPIC_STATS)["backlogQuotaLimitSize"], json!(-1));
    }

    #[test]
    fn at_out_of_range() {
        let options = ImportOptions {
            at: i64::MAX,
            ..with_namespace("acme/orders")
        };
        assert_contains(&err(TOPIC_STATS, &options), &["--at", "out of range"]);
        // Records carry their own `at`.
        let options = ImportOptions {
            at: i64::MAX,
            ..opts()
        };
        assert!(parse_import("[]", &options).is_ok());
    }

    // ---- pulsar-admin topics partitioned-stats ----

    #[test]
    fn partitioned_stats_use_the_aggregate() {
        let imported = ok(
            PARTITIONED_STATS,
            &with_topic("persistent://acme/orders/events"),
        );
        assert_eq!(imported.shape, Shape::PartitionedTopicStats);
        assert_eq!(
            imported.records,
            vec![
                rec("acme", "orders", "bytes_in", 153_600_000),
                rec("acme", "orders", "bytes_out", 153_600_000),
                rec("acme", "orders", "messages_in", 300_000),
                rec("acme", "orders", "messages_out", 300_000),
                storage(
                    "acme",
                    "orders",
                    "persistent://acme/orders/events",
                    460_800_000
                ),
            ]
        );
    }

    #[test]
    fn partitioned_stats_without_partitions_need_topic_or_namespace() {
        let e = err(PARTITIONED_STATS, &opts());
        assert_contains(
            &e,
            &[
                "partitioned-stats",
                "--per-partition",
                "--topic",
                "--namespace",
            ],
        );
    }

    #[test]
    fn per_partition_stats_name_their_namespace_and_are_not_double_counted() {
        let expected = vec![
            rec("acme", "web", "bytes_in", 200_000),
            rec("acme", "web", "messages_in", 2_000),
            storage("acme", "web", "persistent://acme/web/clicks", 420_000),
        ];
        let imported = ok(PARTITIONED_STATS_PER_PARTITION, &opts());
        assert_eq!(imported.shape, Shape::PartitionedTopicStats);
        assert_eq!(imported.records, expected);
        // Agreeing options are fine (the storage source is the partitioned topic); disagreeing
        // ones are refused.
        for options in [
            with_topic("persistent://acme/web/clicks"),
            with_topic("acme/web/clicks"),
            with_topic("persistent://acme/web/clicks-partition-1"),
            with_namespace("acme/web"),
        ] {
            let imported = ok(PARTITIONED_STATS_PER_PARTITION, &options);
            assert_eq!(imported.records, expected, "{options:?}");
        }
        let e = err(
            PARTITIONED_STATS_PER_PARTITION,
            &with_namespace("acme/orders"),
        );
        assert_contains(&e, &["acme/orders", "acme/web"]);
        let e = err(
            PARTITIONED_STATS_PER_PARTITION,
            &with_topic("persistent://acme/web/views"),
        );
        assert_contains(
            &e,
            &[
                "--topic persistent://acme/web/views",
                "persistent://acme/web/clicks",
            ],
        );
    }

    #[test]
    fn partitioned_stats_storage_source_is_the_partitioned_topic() {
        for (topic, source) in [
            (
                "persistent://acme/orders/events",
                "persistent://acme/orders/events",
            ),
            (
                "persistent://acme/orders/events-partition-2",
                "persistent://acme/orders/events",
            ),
            ("acme/orders/events", "persistent://acme/orders/events"),
        ] {
            let imported = ok(PARTITIONED_STATS, &with_topic(topic));
            assert_eq!(
                imported.records[4],
                storage("acme", "orders", source, 460_800_000),
                "{topic}"
            );
        }
    }

    #[test]
    fn partitions_storage_is_summed_when_the_top_level_has_none() {
        let mut map = object(PARTITIONED_STATS_PER_PARTITION);
        assert!(map.remove("storageSize").is_some());
        // Make the sum differ from the aggregate that was removed.
        map["partitions"]["persistent://acme/web/clicks-partition-1"]["storageSize"] = json!(5);
        let imported = ok(&text(&map), &opts());
        assert_eq!(
            imported.records,
            vec![
                rec("acme", "web", "bytes_in", 200_000),
                rec("acme", "web", "messages_in", 2_000),
                storage("acme", "web", "persistent://acme/web/clicks", 250_005),
            ]
        );
        // No storage anywhere: no storage record.
        for partition in map["partitions"].as_object_mut().unwrap().values_mut() {
            partition.as_object_mut().unwrap().remove("storageSize");
        }
        let imported = ok(&text(&map), &opts());
        assert_eq!(imported.records.len(), 2);
    }

    #[test]
    fn partitions_are_summed_when_the_top_level_has_no_counters() {
        let mut map = object(PARTITIONED_STATS_PER_PARTITION);
        for field in TOPIC_STATS_FIELDS.all() {
            assert!(map.remove(field).is_some(), "{field}");
        }
        // Make the sum differ from the aggregate that was removed.
        map["partitions"]["persistent://acme/web/clicks-partition-1"]["msgOutCounter"] = json!(7);
        let imported = ok(&text(&map), &opts());
        assert_eq!(imported.shape, Shape::PartitionedTopicStats);
        assert_eq!(
            imported.records,
            vec![
                rec("acme", "web", "bytes_in", 200_000),
                rec("acme", "web", "messages_in", 2_000),
                rec("acme", "web", "messages_out", 7),
                storage("acme", "web", "persistent://acme/web/clicks", 420_000),
            ]
        );
        // An error in a partition names the partition.
        map["partitions"]["persistent://acme/web/clicks-partition-0"]["msgInCounter"] = json!(-3);
        assert_contains(
            &err(&text(&map), &opts()),
            &[
                "msgInCounter",
                "persistent://acme/web/clicks-partition-0",
                "negative",
            ],
        );
    }

    #[test]
    fn partitions_in_two_namespaces_or_topics_or_with_bad_names_are_refused() {
        let mut map = object(PARTITIONED_STATS_PER_PARTITION);
        let partitions = map["partitions"].as_object_mut().unwrap();
        let p1 = partitions
            .remove("persistent://acme/web/clicks-partition-1")
            .unwrap();
        partitions.insert(
            "persistent://acme/other/clicks-partition-1".to_string(),
            p1.clone(),
        );
        assert_contains(&err(&text(&map), &opts()), &["acme/other", "acme/web"]);
        let partitions = map["partitions"].as_object_mut().unwrap();
        partitions.remove("persistent://acme/other/clicks-partition-1");
        // Partitions of two topics.
        partitions.insert(
            "persistent://acme/web/views-partition-1".to_string(),
            p1.clone(),
        );
        assert_contains(
            &err(&text(&map), &opts()),
            &[
                "persistent://acme/web/views-partition-1",
                "not a partition of persistent://acme/web/clicks",
            ],
        );
        let partitions = map["partitions"].as_object_mut().unwrap();
        partitions.remove("persistent://acme/web/views-partition-1");
        partitions.insert("clicks/partition/1/x/y".to_string(), p1);
        assert_contains(
            &err(&text(&map), &opts()),
            &["partition", "not a topic name"],
        );
    }

    // ---- pulsar-admin broker-stats topics ----

    fn broker_stats_records() -> Vec<Value> {
        vec![
            rec(
                "acme",
                "orders",
                "bytes_in",
                52_443_000 + 2 * 51_200_000 + 640_000,
            ),
            rec(
                "acme",
                "orders",
                "bytes_out",
                104_886_000 + 2 * 51_200_000 + 638_720,
            ),
            rec(
                "acme",
                "orders",
                "messages_in",
                97_650 + 2 * 100_000 + 5_000,
            ),
            rec(
                "acme",
                "orders",
                "messages_out",
                195_300 + 2 * 100_000 + 4_990,
            ),
            // Storage per topic, each partition its own; the non-persistent topic has no
            // storageSize.
            storage(
                "acme",
                "orders",
                "persistent://acme/orders/events-partition-0",
                153_600_000,
            ),
            storage(
                "acme",
                "orders",
                "persistent://acme/orders/events-partition-1",
                153_600_000,
            ),
            storage(
                "acme",
                "orders",
                "persistent://acme/orders/payments",
                73_400_320,
            ),
            // An idle topic: zero counters omitted, zero storage kept.
            storage("public", "default", "persistent://public/default/idle", 0),
            // A v1 namespace (sample/standalone/ns1).
            rec("sample", "ns1", "bytes_in", 2_048),
            rec("sample", "ns1", "bytes_out", 2_048),
            rec("sample", "ns1", "messages_in", 10),
            rec("sample", "ns1", "messages_out", 10),
            storage(
                "sample",
                "ns1",
                "persistent://sample/standalone/ns1/legacy",
                4_096,
            ),
        ]
    }

    #[test]
    fn broker_stats_topics_sum_counters_per_namespace_and_keep_storage_per_topic() {
        let imported = ok(BROKER_STATS_TOPICS, &opts());
        assert_eq!(imported.shape, Shape::BrokerStatsTopics);
        assert_eq!(imported.records, broker_stats_records());
    }

    #[test]
    fn broker_stats_topics_without_indent_is_one_line() {
        let compact = serde_json::to_string(&object(BROKER_STATS_TOPICS)).unwrap();
        assert!(!compact.contains('\n'));
        assert_eq!(ok(&compact, &opts()).records, broker_stats_records());
    }

    #[test]
    fn broker_stats_of_an_idle_broker_is_empty() {
        let imported = ok("{}", &opts());
        assert_eq!(imported.shape, Shape::BrokerStatsTopics);
        assert!(imported.records.is_empty());
    }

    #[test]
    fn two_topics_of_one_namespace_give_two_storage_records() {
        let doc = json!({"acme/orders": {
            "0x00000000_0x80000000": {"persistent": {
                "persistent://acme/orders/b": {"msgInCount": 3, "storageSize": 200},
            }},
            "0x80000000_0xffffffff": {"persistent": {
                "persistent://acme/orders/a": {"msgInCount": 4, "storageSize": 100},
            }},
        }});
        let imported = ok(&doc.to_string(), &opts());
        assert_eq!(
            imported.records,
            vec![
                rec("acme", "orders", "messages_in", 7),
                storage("acme", "orders", "persistent://acme/orders/a", 100),
                storage("acme", "orders", "persistent://acme/orders/b", 200),
            ]
        );
        // Stats known only by namespace have the namespace as their source.
        let imported = ok(TOPIC_STATS, &with_namespace("acme/orders"));
        assert_eq!(
            imported.records[4],
            storage("acme", "orders", "namespace:acme/orders", 73_400_320)
        );
        let imported = ok(PARTITIONED_STATS, &with_namespace("acme/orders"));
        assert_eq!(
            imported.records[4],
            storage("acme", "orders", "namespace:acme/orders", 460_800_000)
        );
    }

    #[test]
    fn topic_names_that_cannot_be_sources_are_refused() {
        let doc = |topic: &str| {
            json!({"acme/orders": {"0x00000000_0xffffffff": {"persistent": {
                topic: {"msgInCount": 1, "storageSize": 1},
            }}}})
            .to_string()
        };
        let prefix = "persistent://acme/orders/";
        let longest = format!("{prefix}{}", "é".repeat(255 - prefix.len()));
        assert_eq!(longest.chars().count(), 255);
        assert_eq!(
            ok(&doc(&longest), &opts()).records[1],
            storage("acme", "orders", &longest, 1)
        );
        let too_long = format!("{longest}x");
        assert_contains(
            &err(&doc(&too_long), &opts()),
            &["256 characters", "source", "1-255"],
        );
        assert_contains(
            &err(&doc("persistent://acme/orders/a\u{7}b"), &opts()),
            &["control character", "source"],
        );
        assert_contains(
            &err(&doc("persistent://acme/orders/a\nb"), &opts()),
            &["control character"],
        );
        assert_contains(&err(&doc(""), &opts()), &["is empty"]);
        // Without storage, a topic needs no source.
        let no_storage = json!({"acme/orders": {"0x00000000_0xffffffff": {"non-persistent": {
            too_long.clone(): {"msgInCount": 1},
        }}}});
        assert_eq!(
            ok(&no_storage.to_string(), &opts()).records,
            vec![rec("acme", "orders", "messages_in", 1)]
        );
        // --topic too.
        let e = err(TOPIC_STATS, &with_topic(&too_long));
        assert_contains(&e, &["256 characters"]);
    }

    #[test]
    fn output_order_does_not_depend_on_input_order() {
        // Reverse every level of the document.
        fn reversed(value: &Value) -> Value {
            match value {
                Value::Object(map) => Value::Object(
                    map.iter()
                        .rev()
                        .map(|(k, v)| (k.clone(), reversed(v)))
                        .collect(),
                ),
                other => other.clone(),
            }
        }
        let reversed_doc = reversed(&Value::Object(object(BROKER_STATS_TOPICS)));
        let first_key = reversed_doc.as_object().unwrap().keys().next().cloned();
        assert_eq!(first_key.as_deref(), Some("public/default"));
        let imported = ok(
            &serde_json::to_string_pretty(&reversed_doc).unwrap(),
            &opts(),
        );
        assert_eq!(imported.records, broker_stats_records());
    }

    #[test]
    fn broker_stats_errors_name_the_topic() {
        let mut map = object(BROKER_STATS_TOPICS);
        map["acme/orders"]["0x80000000_0xffffffff"]["non-persistent"]["non-persistent://acme/orders/live"]
            ["bytesInCount"] = json!(1.5);
        assert_contains(
            &err(&text(&map), &opts()),
            &[
                "bytesInCount",
                "non-persistent://acme/orders/live",
                "not a whole number",
            ],
        );
        map["acme/orders"]["0x80000000_0xffffffff"]["non-persistent"]["non-persistent://acme/orders/live"] =
            json!(3);
        assert_contains(
            &err(&text(&map), &opts()),
            &["non-persistent://acme/orders/live", "number"],
        );
    }

    #[test]
    fn sums_that_overflow_are_refused() {
        let doc = json!({"acme/orders": {"0x00000000_0xffffffff": {"persistent": {
            "persistent://acme/orders/a": {"msgInCount": u64::MAX, "storageSize": 1},
            "persistent://acme/orders/b": {"msgInCount": 1, "storageSize": 1},
        }}}});
        assert_contains(
            &err(&doc.to_string(), &opts()),
            &["msgInCount", "acme/orders", "more than"],
        );
        // Storage is summed only over the partitions of one topic.
        let doc = json!({"acme/orders": {"0x00000000_0xffffffff": {"persistent": {
            "persistent://acme/orders/a": {"storageSize": u64::MAX},
            "persistent://acme/orders/b": {"storageSize": u64::MAX},
        }}}});
        assert_eq!(ok(&doc.to_string(), &opts()).records.len(), 2);
        let mut map = object(PARTITIONED_STATS_PER_PARTITION);
        map.remove("storageSize");
        map["partitions"]["persistent://acme/web/clicks-partition-0"]["storageSize"] =
            json!(u64::MAX);
        assert_contains(
            &err(&text(&map), &opts()),
            &["storageSize", "persistent://acme/web/clicks", "more than"],
        );
    }

    // ---- anything else ----

    #[test]
    fn garbage_is_not_a_usage_file() {
        for input in [
            "",
            " \n\t\n",
            "hello",
            "[1, 2",
            "42",
            "\"records\"",
            "null",
            "true",
            "{\n  \"hello\": \"world\"\n}",
            r#"{"hello": "world"}"#,
            "a,b,c\n1,2,3\n",
            "# HELP pulsar_in_messages_total\npulsar_in_messages_total{tenant=\"a\"} 1\n",
        ] {
            let e = err(input, &opts());
            assert!(e.starts_with("not a usage file ("), "{input:?}: {e}");
            assert_contains(
                &e,
                &[
                    "tok usage records",
                    "JSON lines",
                    "topics stats",
                    "partitioned-stats",
                    "broker-stats topics",
                ],
            );
        }
        assert_contains(&err("{\"hello\": 1}\n", &opts()), &["keys \"hello\""]);
        let pretty_record = "{\n  \"tenant\": \"acme\",\n  \"metric\": \"bytes_in\"\n}";
        assert_contains(
            &err(pretty_record, &opts()),
            &["several lines", "one per line"],
        );
        assert_contains(&err("[1,2", &opts()), &["not JSON"]);
    }

    #[test]
    fn other_pulsar_outputs_are_named() {
        let internal = r#"{
  "entriesAddedCounter" : 97650,
  "numberOfEntries" : 97650,
  "totalSize" : 73400320,
  "currentLedgerEntries" : 1200,
  "currentLedgerSize" : 645000,
  "lastLedgerCreatedTimestamp" : "2026-11-20T09:12:44.108Z",
  "waitingCursorsCount" : 1,
  "pendingAddEntriesCount" : 0,
  "lastConfirmedEntry" : "1234:1199",
  "state" : "LedgerOpened",
  "ledgers" : [ { "ledgerId" : 1234, "entries" : 0, "size" : 0, "offloaded" : false, "underReplicated" : false } ],
  "cursors" : { }
}"#;
        assert_contains(&err(internal, &opts()), &["topics stats-internal"]);
        let partitioned_internal = format!(
            r#"{{"metadata": {{"partitions": 1}}, "partitions": {{"persistent://acme/orders/x-partition-0": {internal}}}}}"#
        );
        assert_contains(
            &err(&partitioned_internal, &opts()),
            &["partitioned-stats-internal"],
        );
        let metrics = r#"[{"metrics": {"brk_in_rate": 12.5, "brk_storage_size": 1048576.0},
                           "dimensions": {"broker": "10.0.1.4", "cluster": "us-east", "namespace": "acme/orders"}}]"#;
        assert_contains(
            &err(metrics, &opts()),
            &["broker-stats monitoring-metrics", "rates"],
        );
    }

    #[test]
    fn no_input_prefix_panics() {
        for fixture in [
            TOPIC_STATS,
            NON_PERSISTENT_TOPIC_STATS,
            PARTITIONED_STATS,
            PARTITIONED_STATS_PER_PARTITION,
            BROKER_STATS_TOPICS,
        ] {
            let ends = fixture.char_indices().map(|(i, _)| i).step_by(13);
            for end in ends {
                let _ = parse_import(&fixture[..end], &with_namespace("acme/orders"));
                let _ = parse_import(&fixture[..end], &opts());
            }
        }
        let deep = "[".repeat(10_000);
        assert!(parse_import(&deep, &opts()).is_err());
    }

    #[test]
    fn topic_names() {
        let key = |t: &str, n: &str| Ok((t.to_string(), n.to_string()));
        assert_eq!(
            parse_topic("persistent://acme/orders/x"),
            key("acme", "orders")
        );
        assert_eq!(
            parse_topic("non-persistent://acme/orders/x"),
            key("acme", "orders")
        );
        assert_eq!(
            parse_topic("persistent://acme/orders/x-partition-12"),
            key("acme", "orders")
        );
        assert_eq!(
            parse_topic("persistent://acme/us-east/orders/x"),
            key("acme", "orders")
        );
        // As in Pulsar's TopicName: a v2 local name with '/' reads as v1.
        assert_eq!(
            parse_topic("persistent://acme/orders/a/b"),
            key("acme", "a")
        );
        assert_eq!(parse_topic("acme/orders/x"), key("acme", "orders"));
        assert_eq!(parse_topic("x"), key("public", "default"));
        assert!(parse_topic("persistent://acme/orders/").is_err());
        assert!(parse_topic("acme/x").is_err());
        assert_eq!(
            parse_namespace("acme/orders"),
            Some(("acme".into(), "orders".into()))
        );
        assert_eq!(
            parse_namespace("acme/us-east/orders"),
            Some(("acme".into(), "orders".into()))
        );
        assert_eq!(parse_namespace("acme"), None);
        assert_eq!(parse_namespace("acme//orders"), None);
        for (name, full) in [
            ("persistent://acme/orders/x", "persistent://acme/orders/x"),
            (
                "non-persistent://acme/orders/x",
                "non-persistent://acme/orders/x",
            ),
            (
                "persistent://acme/c1/orders/x",
                "persistent://acme/c1/orders/x",
            ),
            ("acme/orders/x", "persistent://acme/orders/x"),
            ("x", "persistent://public/default/x"),
        ] {
            assert_eq!(full_topic_name(name), full, "{name}");
        }
        for (name, base) in [
            (
                "persistent://acme/orders/x-partition-12",
                "persistent://acme/orders/x",
            ),
            ("persistent://acme/orders/x", "persistent://acme/orders/x"),
            (
                "persistent://acme/orders/x-partition-",
                "persistent://acme/orders/x-partition-",
            ),
            (
                "persistent://acme/orders/x-partition-a",
                "persistent://acme/orders/x-partition-a",
            ),
            (
                "persistent://acme/orders/-partition-1",
                "persistent://acme/orders/-partition-1",
            ),
            (
                "persistent://acme/orders/x-partition-1-partition-2",
                "persistent://acme/orders/x-partition-1",
            ),
        ] {
            assert_eq!(partitioned_name(name), base, "{name}");
        }
    }

    #[test]
    fn shapes_describe_themselves() {
        assert_eq!(Shape::Records.describe(), "tok usage records");
        assert_eq!(Shape::TopicStats.describe(), "pulsar-admin topics stats");
        assert_eq!(
            Shape::PartitionedTopicStats.describe(),
            "pulsar-admin topics partitioned-stats"
        );
        assert_eq!(
            Shape::BrokerStatsTopics.describe(),
            "pulsar-admin broker-stats topics"
        );
    }
}
