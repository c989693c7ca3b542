//! `tok usage`: usage by tenant and day (what the control plane meters itself and what
//! brokers send), a month's bill, the rate card, and the two ways data-plane usage comes in —
//! `import` (records, or `pulsar-admin … stats` JSON) and `collect` (a broker's Prometheus
//! metrics, as per-day increases).

pub mod chart;
mod collect;
pub mod scrape;
pub mod stats;

use std::io::Read;

use clap::{Subcommand, ValueEnum};

use super::Ctx;
use crate::control::hex;
use crate::control::usage::MAX_BATCH_RECORDS;
use crate::duration::{now, parse_duration};
use crate::error::{Error, ErrorKind, Result};
use crate::model::{Bill, RateCard, RateCardUpdate, UsageBatch, UsagePoint, UsageQuery};
use crate::output::{Format, Render, Style, grid};

const SHOW_JSON: &str = "\
JSON fields (-o json): an array of {tenant, period, metric, value}: tenant is null for the
org's own usage tied to no tenant; period is YYYY-MM-DD (or YYYY-MM with --by month); value is
an integer (bytes, messages or events). Counters (messages_in, messages_out, bytes_in,
bytes_out, tokens_issued, authentications, introspections, api_calls) are totals over the
period; storage_bytes is a gauge: the period's last figure (a day's last value summed over
namespaces; for a month, its last day with data). Days without data are left out of JSON and
CSV; the chart shows them as zero.

Metrics the control plane meters itself, per tenant when the event names one: tokens_issued
(streaming tokens, application tokens, API keys), authentications (logins to a server),
introspections, api_calls (authenticated requests to a server; a request about a tenant
counts for that tenant only when it succeeded). A server writes its counts
every --meter-flush-interval (10 s), so a crash loses at most that much of them; the embedded
mode writes them at the end of each command.";

const BILLING_JSON: &str = "\
JSON fields (-o json): {month, currency, rounding, tenants: [{tenant, lines: [{metric,
quantity, unit, unit_price, amount}], total}], total}. Every number is a decimal string; tenant
is null for the org's own usage. Quantities are exact: bytes in GB (10^9 bytes), messages in
millions, storage in GB-months (the month's average stored bytes: the sum of each day's figure
÷ the days in the month), active_token_days in token-days (days on which each streaming token
was usable), control-plane counters in thousands. Each amount is quantity × unit_price rounded
half to even to the currency's minor units; a tenant's total is the sum of its lines, and the
bill's total the sum of the tenants'. Unpriced metrics are not billed. A month without usage is
an empty bill with total 0 (exit 0).

-o csv gives one row per line plus a total row per tenant and one for the bill: month, tenant,
metric, quantity, unit, unit_price, amount, currency (tenant \"(org)\" for the org's own usage,
\"(all)\" on the bill's total row; metric \"total\" on total rows).";

const RATES_HELP: &str = "\
Prices are per unit: bytes_in and bytes_out per GB (10^9 bytes), messages_in and messages_out
per million messages, storage_bytes per GB-month, active_token_days per token-day, and
tokens_issued, authentications, introspections and api_calls per thousand. A price is a plain
decimal, zero or more, with at most 6 decimal places. The currency is an ISO 4217 code (USD by
default); amounts are rounded half to even to its minor units (2 for USD and EUR, 0 for JPY).

JSON fields (-o json): {currency, minor_units, rounding, rates: [{metric, unit, price}]}; price
is a decimal string, or null when the metric is not priced (not billed).";

const IMPORT_HELP: &str = "\
FILE (or - for stdin) holds either tok usage records — a JSON array, {\"records\": [...]}, or
JSON lines, each {tenant, namespace?, metric, value, at, source?} with metric one of
messages_in, messages_out, bytes_in, bytes_out, storage_bytes, a whole value of 0 or more, at an
RFC 3339 time (or Unix seconds), and source naming what a storage_bytes figure covers (a topic,
a broker: a day keeps each source's latest figure and adds the sources up) — or the JSON that pulsar-admin prints for `topics stats`,
`topics partitioned-stats` or `broker-stats topics` (messages and bytes in and out, storage
size, mapped to the tenant and namespace of each topic, storage per topic; `topics stats` does
not name its topic, so give --topic or --namespace). Counters in pulsar-admin stats are totals since the topic was
loaded: import a snapshot once per period, or use `tok usage collect` for increases.

Each record is checked on its own: a bad one (unknown metric, negative value, a tenant that
does not exist, a time more than 5 minutes ahead) is reported with its index and reason and the
rest are recorded (exit 1 when any was rejected); with --atomic one bad record rejects them all
and nothing is recorded (exit 2). Records go in batches of 10,000 whose ids derive from the
file's content, so importing the same file again records nothing twice.

JSON fields (-o json): {source, batch_id, records, accepted, rejected: [{index, reason}],
replayed} (replayed: batches recorded before, skipped).";

#[derive(Debug, Subcommand)]
pub enum UsageCommand {
    /// Usage by tenant and day (or month): a table, and on a terminal a bar chart per metric
    #[command(after_long_help = SHOW_JSON)]
    Show(ShowArgs),
    /// A month's bill: usage × the rate card, one row per tenant and metric, with totals
    #[command(after_long_help = BILLING_JSON)]
    Billing {
        /// The month, YYYY-MM (UTC)
        #[arg(long, value_name = "YYYY-MM")]
        month: String,
        /// Only this tenant
        #[arg(long)]
        tenant: Option<String>,
    },
    /// The rate card: the price per unit of each metric, and the currency
    #[command(subcommand)]
    Rates(RatesCommand),
    /// Record usage from a file of records or from pulsar-admin stats JSON
    #[command(after_long_help = IMPORT_HELP)]
    Import(ImportArgs),
    /// Scrape a broker's Prometheus metrics and record per-day increases per tenant
    #[command(after_long_help = collect::COLLECT_HELP)]
    Collect(collect::CollectArgs),
}

#[derive(Debug, Subcommand)]
pub enum RatesCommand {
    /// Show the rate card
    #[command(after_long_help = RATES_HELP)]
    Show,
    /// Set prices (METRIC PRICE pairs) and/or the currency
    #[command(after_long_help = RATES_HELP)]
    Set {
        /// METRIC PRICE pairs, e.g. `bytes_in 0.09 messages_in 0.50`
        #[arg(value_name = "METRIC PRICE")]
        pairs: Vec<String>,
        /// ISO 4217 currency code, e.g. EUR (amounts are rounded to its minor units)
        #[arg(long)]
        currency: Option<String>,
    },
    /// Stop billing metrics (remove their prices)
    #[command(after_long_help = RATES_HELP)]
    Unset {
        /// Metrics to unprice
        #[arg(required = true, value_name = "METRIC")]
        metrics: Vec<String>,
    },
}

/// When to draw the bar chart under `usage show`'s table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum When {
    /// On a terminal, with -o table
    Auto,
    Always,
    Never,
}

#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// Only this tenant
    #[arg(long)]
    tenant: Option<String>,
    /// The last N days up to today (30d, 2w) [default: 30d]
    #[arg(long, value_name = "DURATION", conflicts_with_all = ["from", "to"])]
    since: Option<String>,
    /// First day, YYYY-MM-DD (UTC)
    #[arg(long, value_name = "DATE")]
    from: Option<String>,
    /// Last day, YYYY-MM-DD (UTC) [default: today]
    #[arg(long, value_name = "DATE", requires = "from")]
    to: Option<String>,
    /// Only this metric
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(
        crate::control::usage::billing::Metric::STORED.map(|m| m.as_str())
    ))]
    metric: Option<String>,
    /// Group by day or by month
    #[arg(long, value_parser = ["day", "month"], default_value = "day")]
    by: String,
    /// Draw the bar chart (table output only)
    #[arg(long, value_enum, default_value_t = When::Auto, value_name = "WHEN")]
    chart: When,
}

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// A JSON file, or - for stdin
    #[arg(value_name = "FILE|-")]
    file: String,
    /// Reject the whole file if any record is bad (at most 10,000 records)
    #[arg(long)]
    atomic: bool,
    /// The batch id (default: derived from the file's content)
    #[arg(long, value_name = "ID")]
    batch_id: Option<String>,
    /// When pulsar-admin stats were taken (RFC 3339) [default: now]
    #[arg(long, value_name = "TIME")]
    at: Option<String>,
    /// The topic a `topics stats` document is about (persistent://tenant/namespace/topic)
    #[arg(long, conflicts_with = "namespace")]
    topic: Option<String>,
    /// The namespace a `topics stats` document belongs to (tenant/namespace)
    #[arg(long)]
    namespace: Option<String>,
}

pub fn run(ctx: &Ctx, cmd: UsageCommand) -> Result<()> {
    match cmd {
        UsageCommand::Show(args) => show(ctx, &args),
        UsageCommand::Billing { month, tenant } => billing(ctx, &month, tenant.as_deref()),
        UsageCommand::Rates(RatesCommand::Show) => {
            let card = ctx.api()?.rate_card()?;
            print_card(ctx, &card)
        }
        UsageCommand::Rates(RatesCommand::Set { pairs, currency }) => {
            if pairs.len() % 2 != 0 {
                return Err(Error::usage(format!(
                    "prices come in METRIC PRICE pairs; '{}' has no price",
                    pairs.last().map(String::as_str).unwrap_or_default()
                ))
                .with_hint("e.g. `tok usage rates set bytes_in 0.09 messages_in 0.50`"));
            }
            if pairs.is_empty() && currency.is_none() {
                return Err(
                    Error::usage("nothing to set: give METRIC PRICE pairs or --currency")
                        .with_hint("e.g. `tok usage rates set bytes_in 0.09 --currency EUR`"),
                );
            }
            let mut update = RateCardUpdate {
                currency,
                ..RateCardUpdate::default()
            };
            for pair in pairs.chunks(2) {
                if let [metric, price] = pair {
                    update.prices.insert(metric.clone(), Some(price.clone()));
                }
            }
            let card = ctx.api()?.update_rate_card(&update)?;
            print_card(ctx, &card)
        }
        UsageCommand::Rates(RatesCommand::Unset { metrics }) => {
            let update = RateCardUpdate {
                currency: None,
                prices: metrics.into_iter().map(|m| (m, None)).collect(),
            };
            let card = ctx.api()?.update_rate_card(&update)?;
            print_card(ctx, &card)
        }
        UsageCommand::Import(args) => import(ctx, &args),
        UsageCommand::Collect(args) => collect::run(ctx, &args),
    }
}

/// Today as a UTC day number.
fn today() -> i64 {
    crate::control::usage::delta::day_of(now())
}

fn show(ctx: &Ctx, args: &ShowArgs) -> Result<()> {
    let (from, to) = match (&args.from, &args.to) {
        (Some(from), to) => (
            from.clone(),
            to.clone()
                .unwrap_or_else(|| crate::control::usage::format_day(today())),
        ),
        (None, _) => {
            let since = args.since.as_deref().unwrap_or("30d");
            let secs = parse_duration(since).map_err(|e| Error::usage(format!("--since: {e}")))?;
            let days = secs.div_ceil(86_400).max(1) as i64;
            let today = today();
            (
                crate::control::usage::format_day(today - days + 1),
                crate::control::usage::format_day(today),
            )
        }
    };
    let query = UsageQuery {
        tenant: args.tenant.clone(),
        from: from.clone(),
        to: to.clone(),
        metric: args.metric.clone(),
        by: Some(args.by.clone()),
    };
    let points = ctx.api()?.usage(&query)?;
    let out = &ctx.out;
    if out.format != Format::Table {
        return out.list(&points);
    }
    if points.is_empty() {
        out.info(&format!("no usage from {from} to {to}"));
        return Ok(());
    }
    let mut rows = vec![
        ["TENANT", "PERIOD", "METRIC", "VALUE"]
            .map(str::to_string)
            .to_vec(),
    ];
    rows.extend(chart::table_rows(&points).into_iter().map(|r| r.to_vec()));
    let table = grid(&rows);
    let mut lines = table.lines();
    let mut text = String::new();
    if let Some(header) = lines.next() {
        text.push_str(&Style::Bold.paint(header, out.color));
    }
    for line in lines {
        text.push('\n');
        text.push_str(line);
    }
    out.line(&text)?;
    let draw = match args.chart {
        When::Always => true,
        When::Never => false,
        When::Auto => out.stdout_tty,
    };
    if draw {
        let padded = pad_range(&points, &from, &to, args.by == "month");
        out.line("")?;
        out.line(chart::render_charts(&padded, out.width(), out.color).trim_end())?;
    }
    Ok(())
}

/// The points, with a zero at each end of the asked range for every metric, so that the
/// chart spans the whole range (it fills the days in between) and not only the days with data.
/// A gauge gets only the start: its chart's title gives its latest figure, which a zero
/// after its last day with data would hide.
fn pad_range(points: &[UsagePoint], from: &str, to: &str, by_month: bool) -> Vec<UsagePoint> {
    let period = |d: &str| {
        if by_month {
            d.get(..7).unwrap_or(d).to_string()
        } else {
            d.to_string()
        }
    };
    let mut out = points.to_vec();
    let mut seen: Vec<(&str, &Option<String>)> = Vec::new();
    for p in points {
        if !seen.iter().any(|(m, _)| *m == p.metric) {
            seen.push((&p.metric, &p.tenant));
        }
    }
    for (metric, tenant) in seen {
        let gauge = metric
            .parse::<crate::control::usage::billing::Metric>()
            .is_ok_and(crate::control::usage::billing::Metric::is_gauge);
        let ends = if gauge {
            vec![period(from)]
        } else {
            vec![period(from), period(to)]
        };
        for end in ends {
            out.push(UsagePoint {
                tenant: tenant.clone(),
                period: end,
                metric: metric.to_string(),
                value: 0,
            });
        }
    }
    out
}

impl Render for UsagePoint {
    fn columns() -> &'static [&'static str] {
        &["tenant", "period", "metric", "value"]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.tenant.clone().unwrap_or_else(|| "(org)".into()),
            self.period.clone(),
            self.metric.clone(),
            chart::human(&self.metric, self.value),
        ]
    }
    fn csv_row(&self) -> Vec<String> {
        vec![
            self.tenant.clone().unwrap_or_default(),
            self.period.clone(),
            self.metric.clone(),
            self.value.to_string(),
        ]
    }
}

fn tenant_label(t: &Option<String>) -> String {
    t.clone().unwrap_or_else(|| "(org)".into())
}

fn billing(ctx: &Ctx, month: &str, tenant: Option<&str>) -> Result<()> {
    let bill = ctx.api()?.usage_bill(month, tenant)?;
    let out = &ctx.out;
    match out.format {
        Format::Json | Format::Yaml => print_doc(out, &bill),
        Format::Csv => out.bytes(&bill_csv(&bill)?),
        Format::Table => out.line(&bill_table(&bill, out.color)),
    }
}

fn bill_csv(bill: &Bill) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let encode = |e: csv::Error| Error::other(format!("cannot encode CSV: {e}"));
    w.write_record([
        "month",
        "tenant",
        "metric",
        "quantity",
        "unit",
        "unit_price",
        "amount",
        "currency",
    ])
    .map_err(encode)?;
    for t in &bill.tenants {
        let tenant = tenant_label(&t.tenant);
        for l in &t.lines {
            w.write_record([
                bill.month.as_str(),
                &tenant,
                &l.metric,
                &l.quantity,
                &l.unit,
                &l.unit_price,
                &l.amount,
                &bill.currency,
            ])
            .map_err(encode)?;
        }
        w.write_record([
            bill.month.as_str(),
            &tenant,
            "total",
            "",
            "",
            "",
            &t.total,
            &bill.currency,
        ])
        .map_err(encode)?;
    }
    w.write_record([
        bill.month.as_str(),
        "(all)",
        "total",
        "",
        "",
        "",
        &bill.total,
        &bill.currency,
    ])
    .map_err(encode)?;
    w.into_inner()
        .map_err(|e| Error::other(format!("cannot encode CSV: {e}")))
}

/// The bill for people: a heading, one row per line, each tenant's total, the bill's total.
pub fn bill_table(bill: &Bill, color: bool) -> String {
    let mut text = format!(
        "Bill for {} in {} (rounding: {})\n",
        bill.month, bill.currency, bill.rounding
    );
    if bill.tenants.is_empty() {
        text.push_str(&format!(
            "No billable usage in {} (nothing priced was used).\n",
            bill.month
        ));
    }
    let mut rows = vec![
        [
            "TENANT",
            "METRIC",
            "QUANTITY",
            "UNIT",
            "UNIT PRICE",
            "AMOUNT",
        ]
        .map(str::to_string)
        .to_vec(),
    ];
    for t in &bill.tenants {
        let tenant = tenant_label(&t.tenant);
        for (i, l) in t.lines.iter().enumerate() {
            rows.push(vec![
                if i == 0 {
                    tenant.clone()
                } else {
                    String::new()
                },
                l.metric.clone(),
                l.quantity.clone(),
                l.unit.clone(),
                l.unit_price.clone(),
                l.amount.clone(),
            ]);
        }
        rows.push(vec![
            String::new(),
            "total".into(),
            String::new(),
            String::new(),
            String::new(),
            t.total.clone(),
        ]);
    }
    rows.push(vec![
        "TOTAL".into(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        format!("{} {}", bill.total, bill.currency),
    ]);
    let table = grid(&rows);
    for (i, line) in table.lines().enumerate() {
        if i == 0 {
            text.push_str(&Style::Bold.paint(line, color));
        } else {
            text.push('\n');
            text.push_str(line);
        }
    }
    text
}

fn print_card(ctx: &Ctx, card: &RateCard) -> Result<()> {
    let out = &ctx.out;
    match out.format {
        Format::Json | Format::Yaml => print_doc(out, card),
        Format::Csv => {
            let mut w = csv::Writer::from_writer(Vec::new());
            let encode = |e: csv::Error| Error::other(format!("cannot encode CSV: {e}"));
            w.write_record(["metric", "unit", "price", "currency"])
                .map_err(encode)?;
            for r in &card.rates {
                w.write_record([
                    r.metric.as_str(),
                    &r.unit,
                    r.price.as_deref().unwrap_or_default(),
                    &card.currency,
                ])
                .map_err(encode)?;
            }
            let data = w
                .into_inner()
                .map_err(|e| Error::other(format!("cannot encode CSV: {e}")))?;
            out.bytes(&data)
        }
        Format::Table => {
            let mut rows = vec![["METRIC", "PRICE", "PER"].map(str::to_string).to_vec()];
            for r in &card.rates {
                rows.push(vec![
                    r.metric.clone(),
                    r.price
                        .as_ref()
                        .map_or_else(|| "-".to_string(), |p| format!("{p} {}", card.currency)),
                    r.unit.clone(),
                ]);
            }
            let table = grid(&rows);
            let mut text = format!("Currency {} · rounding: {}\n", card.currency, card.rounding);
            for (i, line) in table.lines().enumerate() {
                if i == 0 {
                    text.push_str(&Style::Bold.paint(line, out.color));
                } else {
                    text.push('\n');
                    text.push_str(line);
                }
            }
            out.line(&text)
        }
    }
}

/// The most bytes of records one batch carries: under the server's 4 MiB body limit with
/// room for the envelope.
const MAX_BATCH_BYTES: usize = 3 * 1024 * 1024 + 512 * 1024;

/// Counts what a value serializes to, without keeping it.
struct Counter(usize);

impl std::io::Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Splits records into batches of at most 10,000 records and [`MAX_BATCH_BYTES`] of JSON
/// (long names make 10,000 records larger than a request may be). The split depends only on
/// the records, so the same file splits the same way every time.
pub(crate) fn batches(records: &[serde_json::Value]) -> Vec<&[serde_json::Value]> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut bytes = 0;
    for (i, r) in records.iter().enumerate() {
        let mut n = Counter(0);
        // Writing to a counter cannot fail.
        let _ = serde_json::to_writer(&mut n, r);
        let n = n.0 + 1;
        if i > start && (i - start == MAX_BATCH_RECORDS || bytes + n > MAX_BATCH_BYTES) {
            out.push(&records[start..i]);
            start = i;
            bytes = 0;
        }
        bytes += n;
    }
    if start < records.len() {
        out.push(&records[start..]);
    }
    out
}

/// What `tok usage import` did.
#[derive(Debug, serde::Serialize)]
struct ImportSummary {
    /// What the file held, e.g. "pulsar-admin topics stats".
    source: &'static str,
    /// The batch id (of the first batch when there were several).
    batch_id: String,
    records: usize,
    accepted: u64,
    rejected: Vec<crate::model::RejectedRecord>,
    /// Batches recorded before (skipped).
    replayed: usize,
}

/// A summary document in the chosen format: JSON, YAML, or `field,value` CSV rows (nested
/// values as JSON); with `table`, the caller prints its own sentence.
pub(crate) fn print_doc<T: serde::Serialize>(out: &crate::output::Output, doc: &T) -> Result<()> {
    match out.format {
        Format::Yaml => {
            let text = serde_yaml_ng::to_string(doc)
                .map_err(|e| Error::other(format!("cannot encode YAML: {e}")))?;
            out.line(text.trim_end())
        }
        Format::Csv => {
            let value = serde_json::to_value(doc)
                .map_err(|e| Error::other(format!("cannot encode CSV: {e}")))?;
            let mut w = csv::Writer::from_writer(Vec::new());
            let encode = |e: csv::Error| Error::other(format!("cannot encode CSV: {e}"));
            w.write_record(["field", "value"]).map_err(encode)?;
            if let serde_json::Value::Object(o) = value {
                for (k, v) in o {
                    let cell = match v {
                        serde_json::Value::String(s) => s,
                        other => other.to_string(),
                    };
                    w.write_record([k, cell]).map_err(encode)?;
                }
            }
            let data = w
                .into_inner()
                .map_err(|e| Error::other(format!("cannot encode CSV: {e}")))?;
            out.bytes(&data)
        }
        _ => out.json(doc),
    }
}

fn read_input(file: &str) -> Result<String> {
    if file == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| Error::io("reading stdin", &e))?;
        Ok(text)
    } else {
        std::fs::read_to_string(file).map_err(|e| {
            let err = Error::io(format!("reading {file}"), &e);
            if e.kind() == std::io::ErrorKind::NotFound {
                Error::usage(err.message)
            } else {
                err
            }
        })
    }
}

fn import(ctx: &Ctx, args: &ImportArgs) -> Result<()> {
    let text = read_input(&args.file)?;
    let at = match &args.at {
        Some(t) => {
            crate::duration::parse_instant(t).map_err(|e| Error::usage(format!("--at: {e}")))?
        }
        None => now(),
    };
    let opts = stats::ImportOptions {
        at,
        topic: args.topic.clone(),
        namespace: args.namespace.clone(),
    };
    let imported = stats::parse_import(&text, &opts).map_err(|e| {
        Error::usage(format!(
            "{}: {e}",
            if args.file == "-" {
                "stdin"
            } else {
                &args.file
            }
        ))
    })?;
    let total = imported.records.len();
    let sizes: Vec<usize> = batches(&imported.records).iter().map(|c| c.len()).collect();
    let n_batches = sizes.len();
    if args.atomic && n_batches > 1 {
        return Err(Error::usage(format!(
            "--atomic covers one batch (at most {MAX_BATCH_RECORDS} records and 3.5 MiB); \
             this file has {total} records in {n_batches} batches"
        ))
        .with_hint("split the file, or import it without --atomic"));
    }
    // Batch ids from the content: importing the same file (or stats taken at the same time)
    // twice records it once.
    let prefix = match &args.batch_id {
        Some(id) => id.clone(),
        None => {
            let mut ctx_digest = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
            ctx_digest.update(text.as_bytes());
            // What changes the records, and nothing else: not the time of the import.
            for part in [&args.at, &args.topic, &args.namespace] {
                ctx_digest.update(b"\0");
                ctx_digest.update(part.as_deref().unwrap_or_default().as_bytes());
            }
            let digest = ctx_digest.finish();
            format!("import-{}", hex(&digest.as_ref()[..12]))
        }
    };
    let api = ctx.api()?;
    let many = n_batches > 1;
    let mut summary = ImportSummary {
        source: imported.shape.describe(),
        batch_id: if many {
            format!("{prefix}-0")
        } else {
            prefix.clone()
        },
        records: total,
        accepted: 0,
        rejected: Vec::new(),
        replayed: 0,
    };
    let mut offset = 0;
    let mut fresh = 0;
    // Each batch takes its records out of the file's (no copy).
    let mut rest = imported.records.into_iter();
    for (i, size) in sizes.into_iter().enumerate() {
        let batch = UsageBatch {
            batch_id: if many {
                format!("{prefix}-{i}")
            } else {
                prefix.clone()
            },
            atomic: args.atomic,
            records: rest.by_ref().take(size).collect(),
        };
        let result = api.record_usage(&batch).map_err(|e| {
            if e.kind == ErrorKind::Conflict {
                // The batch id (from the file's content) was used for other records: the
                // same file read at another time, stats taken without --at, or another
                // principal's import of it.
                e.with_hint(if args.batch_id.is_some() {
                    "give another --batch-id to record it as new usage"
                } else {
                    "pass --batch-id to record it as new usage"
                })
            } else {
                e
            }
        })?;
        summary.accepted += result.accepted;
        if result.replayed {
            summary.replayed += 1;
        } else {
            fresh += result.accepted;
        }
        summary
            .rejected
            .extend(result.rejected.into_iter().map(|mut r| {
                r.index += offset;
                r
            }));
        offset += batch.records.len();
        if many {
            ctx.out.progress(&format!(
                "sent {offset} of {total} records ({} batches)",
                i + 1
            ));
        }
    }
    if many {
        ctx.out.progress_done();
    }
    let out = &ctx.out;
    match out.format {
        Format::Table => {
            let line = if summary.replayed == 0 {
                format!(
                    "Recorded {fresh} of {} records ({})",
                    summary.records, summary.source
                )
            } else if summary.replayed == n_batches {
                format!(
                    "Nothing new: these {} records ({}) were imported before, and {} of them \
                     recorded then",
                    summary.records, summary.source, summary.accepted
                )
            } else {
                format!(
                    "Recorded {fresh} of {} records ({}); {} of {} batches were imported \
                     before and skipped",
                    summary.records, summary.source, summary.replayed, n_batches
                )
            };
            out.line(&line)?;
        }
        _ => print_doc(out, &summary)?,
    }
    if summary.rejected.is_empty() {
        return Ok(());
    }
    const SHOWN: usize = 20;
    for r in summary.rejected.iter().take(SHOWN) {
        out.warn(&format!("record {}: {}", r.index, r.reason));
    }
    if summary.rejected.len() > SHOWN {
        out.warn(&format!(
            "… and {} more (-o json lists them all)",
            summary.rejected.len() - SHOWN
        ));
    }
    Err(Error::new(
        ErrorKind::Other,
        format!(
            "{} of {} records rejected, {} recorded",
            summary.rejected.len(),
            summary.records,
            summary.accepted
        ),
    )
    .with_code("records_rejected")
    .with_hint("fix those records and import them again (with a new --batch-id), or use --atomic to record all or nothing"))
}
