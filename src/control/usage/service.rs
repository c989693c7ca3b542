//! The control plane's usage and billing operations: recording batches of data-plane usage,
//! daily and monthly reports, the rate card and a month's bill. Every operation checks the
//! caller's grants first (`usage-write`, `usage-read`, `billing-read`, `billing-write`); a
//! caller whose grants cover only some tenants sees and records only those.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::{Date, Month};

use super::billing::{self, Metric, RateCard};
use super::delta::{SECONDS_PER_DAY, day_of, day_start};
use super::meter::Meter;
use crate::control::error::{ControlError, ControlResult};
use crate::control::policy::Action;
use crate::control::store::{DailyUsage, Store, StoredBatch, Tx, UsageDelta};
use crate::control::{ControlPlane, Token};
use crate::model;

/// The most records one batch may hold.
pub const MAX_BATCH_RECORDS: usize = 10_000;
/// How far in the future a record's `at` may be (clock skew between a broker and us).
pub const MAX_FUTURE_SKEW_SECS: i64 = 300;
/// The largest value one record may carry: 2^53 − 1, exact in every JSON reader.
pub const MAX_RECORD_VALUE: u64 = (1 << 53) - 1;
/// How long a batch id is remembered (a batch re-sent within this time is not counted twice).
pub const BATCH_RETENTION_SECS: i64 = 35 * SECONDS_PER_DAY;
/// The longest report: ten years of days.
const MAX_REPORT_DAYS: i64 = 3_660;
/// Records before this (2000-01-01) are refused: most likely a unit mistake.
const EARLIEST_AT: i64 = 946_684_800;

/// The data-plane metrics a record may carry (the control plane meters the others itself).
const RECORD_METRICS: [Metric; 5] = [
    Metric::MessagesIn,
    Metric::MessagesOut,
    Metric::BytesIn,
    Metric::BytesOut,
    Metric::StorageBytes,
];

/// The rate card as stored (JSON in `rate_cards.card`).
#[derive(Debug, Serialize, Deserialize)]
struct StoredCard {
    currency: String,
    minor_units: u32,
    prices: BTreeMap<String, String>,
}

/// `YYYY-MM-DD` → UTC day number.
pub fn parse_day(s: &str) -> Result<i64, String> {
    let form = "expected a date such as 2026-11-01 (YYYY-MM-DD, UTC)";
    let parts: Vec<&str> = s.trim().split('-').collect();
    let [y, m, d] = parts.as_slice() else {
        return Err(format!("invalid date {s:?}: {form}"));
    };
    let num = |p: &str, len: usize| {
        (p.len() == len && p.bytes().all(|b| b.is_ascii_digit()))
            .then(|| p.parse::<i32>().ok())
            .flatten()
    };
    let (Some(y), Some(m), Some(d)) = (num(y, 4), num(m, 2), num(d, 2)) else {
        return Err(format!("invalid date {s:?}: {form}"));
    };
    let month = u8::try_from(m)
        .ok()
        .and_then(|m| Month::try_from(m).ok())
        .ok_or_else(|| format!("invalid date {s:?}: month {m} is not 01-12"))?;
    let date = Date::from_calendar_date(y, month, u8::try_from(d).unwrap_or(0))
        .map_err(|_| format!("invalid date {s:?}: {month} {y} has no day {d}"))?;
    Ok(day_of(date.midnight().assume_utc().unix_timestamp()))
}

/// UTC day number → `YYYY-MM-DD`.
pub fn format_day(day: i64) -> String {
    crate::duration::rfc3339(day_start(day))
        .and_then(|t| t.get(..10).map(str::to_string))
        .unwrap_or_else(|| format!("day {day}"))
}

/// UTC day number → `YYYY-MM`.
fn format_month(day: i64) -> String {
    let d = format_day(day);
    d.get(..7).map_or(d.clone(), str::to_string)
}

fn rounding(minor_units: u32) -> String {
    let unit = if minor_units == 0 {
        "1".to_string()
    } else {
        format!("0.{}1", "0".repeat(minor_units as usize - 1))
    };
    format!("half to even, per line, to {unit}; totals are sums of rounded lines")
}

fn valid_batch_id(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'))
}

/// A Pulsar namespace or tenant name: `A-Za-z0-9_-=:.%`, 1-255 characters.
fn valid_pulsar_name(name: &str) -> bool {
    (1..=255).contains(&name.len())
        && name.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'=' | b':' | b'.' | b'%')
        })
}

/// Checks a batch as a whole (its id and size), before any record is looked at.
pub fn check_batch(batch: &model::UsageBatch) -> ControlResult<()> {
    if !valid_batch_id(&batch.batch_id) {
        return Err(ControlError::invalid(format!(
            "invalid batch id {:?}: 1-128 of A-Z, a-z, 0-9, '.', '_', ':' and '-'",
            batch.batch_id
        )));
    }
    if batch.records.len() > MAX_BATCH_RECORDS {
        return Err(ControlError::invalid(format!(
            "a batch holds at most {MAX_BATCH_RECORDS} records; this one has {}: split it",
            batch.records.len()
        )));
    }
    Ok(())
}

/// One record, validated.
struct Checked {
    tenant: String,
    namespace: String,
    /// What a gauge's figure covers; empty when not given.
    source: String,
    metric: Metric,
    value: u64,
    at: i64,
}

/// `v` as JSON with object keys sorted: the same records sent with their keys in another
/// order are the same batch.
fn canonical(v: &Value, out: &mut Vec<u8>) {
    match v {
        Value::Object(o) => {
            let mut keys: Vec<&String> = o.keys().collect();
            keys.sort();
            out.push(b'{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                // Writing JSON to a Vec cannot fail.
                let _ = serde_json::to_writer(&mut *out, k);
                out.push(b':');
                if let Some(v) = o.get(k) {
                    canonical(v, out);
                }
            }
            out.push(b'}');
        }
        Value::Array(a) => {
            out.push(b'[');
            for (i, v) in a.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                canonical(v, out);
            }
            out.push(b']');
        }
        other => {
            let _ = serde_json::to_writer(&mut *out, other);
        }
    }
}

fn record_metric_names() -> String {
    RECORD_METRICS.map(Metric::as_str).join(", ")
}

/// Checks one record's shape and values (not its tenant, which needs the store).
fn check_record(v: &Value, now: i64) -> Result<Checked, String> {
    let Value::Object(o) = v else {
        return Err(format!(
            "expected an object {{tenant, namespace?, metric, value, at}}, got {}",
            crate::model::json_kind(v)
        ));
    };
    if let Some(k) = o.keys().find(|k| {
        !matches!(
            k.as_str(),
            "tenant" | "namespace" | "metric" | "value" | "at" | "source"
        )
    }) {
        return Err(format!(
            "unknown field {k:?}: a record has tenant, namespace (optional), metric, value, at \
             and source (optional)"
        ));
    }
    let text = |name: &str| -> Result<Option<&str>, String> {
        match o.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(other) => Err(format!(
                "{name} must be a string, got {}",
                crate::model::json_kind(other)
            )),
        }
    };
    let tenant = text("tenant")?.ok_or("tenant is missing")?;
    let namespace = match text("namespace")? {
        None => String::new(),
        Some(ns) => {
            // "tenant/ns" is accepted when the tenant matches.
            let local = match ns.split_once('/') {
                Some((t, local)) if t == tenant => local,
                Some(_) => {
                    return Err(format!(
                        "namespace {ns:?} is not in tenant {tenant:?}: give the namespace's \
                         own name, or {tenant}/<namespace>"
                    ));
                }
                None => ns,
            };
            if !valid_pulsar_name(local) {
                return Err(format!(
                    "invalid namespace {ns:?}: 1-255 of A-Z, a-z, 0-9, _ - = : . %"
                ));
            }
            local.to_string()
        }
    };
    let source = match text("source")? {
        None => String::new(),
        Some(s) if (1..=255).contains(&s.chars().count()) && !s.chars().any(char::is_control) => {
            s.to_string()
        }
        Some(_) => {
            return Err(
                "invalid source: 1-255 characters without control characters (a topic or a \
                 broker that a gauge's figure covers)"
                    .into(),
            );
        }
    };
    let metric_name = text("metric")?.ok_or("metric is missing")?;
    let metric: Metric = match metric_name.parse::<Metric>() {
        Ok(m) if RECORD_METRICS.contains(&m) => m,
        Ok(m) => {
            return Err(format!(
                "{m} is metered by the control plane itself; records carry {}",
                record_metric_names()
            ));
        }
        Err(_) => {
            return Err(format!(
                "unknown metric {metric_name:?}: expected one of {}",
                record_metric_names()
            ));
        }
    };
    let value = match o.get("value") {
        None | Some(Value::Null) => return Err("value is missing".into()),
        Some(Value::Number(n)) => {
            if let Some(u) = n.as_u64() {
                u
            } else if n.as_i64().is_some_and(|i| i < 0) || n.as_f64().is_some_and(|f| f < 0.0) {
                return Err(format!("negative value {n}: usage is 0 or more"));
            } else {
                match n.as_f64() {
                    Some(f) if f.fract() == 0.0 && f <= MAX_RECORD_VALUE as f64 => f as u64,
                    Some(f) if f.fract() != 0.0 => {
                        return Err(format!(
                            "value {n} is not a whole number: records count messages and bytes"
                        ));
                    }
                    _ => {
                        return Err(format!(
                            "value {n} is too large: at most {MAX_RECORD_VALUE} per record"
                        ));
                    }
                }
            }
        }
        Some(other) => {
            return Err(format!(
                "value must be a number, got {}",
                crate::model::json_kind(other)
            ));
        }
    };
    if value > MAX_RECORD_VALUE {
        return Err(format!(
            "value {value} is too large: at most {MAX_RECORD_VALUE} per record"
        ));
    }
    let at = match o.get("at") {
        None | Some(Value::Null) => return Err("at is missing".into()),
        Some(Value::String(s)) => crate::duration::parse_instant(s)?,
        Some(Value::Number(n)) => n.as_i64().ok_or_else(|| {
            format!("at {n} is not Unix seconds: give whole seconds or an RFC 3339 time")
        })?,
        Some(other) => {
            return Err(format!(
                "at must be an RFC 3339 time or Unix seconds, got {}",
                crate::model::json_kind(other)
            ));
        }
    };
    if at > now.saturating_add(MAX_FUTURE_SKEW_SECS) {
        let shown = crate::duration::rfc3339(at).unwrap_or_else(|| at.to_string());
        return Err(format!(
            "at {shown} is in the future (more than {MAX_FUTURE_SKEW_SECS} s ahead); Unix \
             times are seconds, not milliseconds"
        ));
    }
    if at < EARLIEST_AT {
        return Err(format!(
            "at {at} is before 2000-01-01: give Unix seconds or an RFC 3339 time"
        ));
    }
    Ok(Checked {
        tenant: tenant.to_string(),
        namespace,
        source,
        metric,
        value,
        at,
    })
}

/// Before a tenant's tokens are deleted with it: writes the days each was usable, up to
/// today, as stored `active_token_days` of the tenant, so that bills of the months it lived in
/// do not change when it goes.
pub(crate) fn keep_token_days(
    tx: &mut dyn Tx,
    org_id: &str,
    tenant: &crate::control::Tenant,
    now: i64,
) -> ControlResult<()> {
    let today = day_of(now);
    let tokens = tx.tokens(org_id, Some(&tenant.id))?;
    // Per day, how many tokens were usable: +1 on a token's first day, −1 after its last.
    let mut changes: BTreeMap<i64, i64> = BTreeMap::new();
    for t in &tokens {
        let from = day_of(t.created_at);
        let days = active_days(t, from, today);
        if days == 0 {
            continue;
        }
        let days = i64::try_from(days).unwrap_or(i64::MAX);
        *changes.entry(from).or_default() += 1;
        *changes.entry(from.saturating_add(days)).or_default() -= 1;
    }
    let mut rows: Vec<(i64, i64)> = Vec::new();
    let mut active = 0i64;
    let mut points = changes.into_iter().peekable();
    while let Some((day, change)) = points.next() {
        active += change;
        let next = points.peek().map_or(day, |(d, _)| *d);
        if active > 0 {
            rows.extend((day..next).map(|d| (d, active)));
        }
    }
    let metric = Metric::ActiveTokenDays.as_str();
    let deltas: Vec<UsageDelta<'_>> = rows
        .iter()
        .map(|&(day, value)| UsageDelta {
            tenant: &tenant.name,
            namespace: "",
            metric,
            source: "",
            day,
            value,
            at: now,
            gauge: false,
        })
        .collect();
    tx.add_usage(org_id, &deltas)
}

/// The days `[from, to]` of a token's life that fall in it: the count of UTC days `d` in
/// `[from_day, to_day]` on which the token was usable at some moment.
fn active_days(t: &Token, from_day: i64, to_day: i64) -> u64 {
    let start = t.created_at;
    let end = match (t.expires_at, t.revoked_at) {
        (Some(e), Some(r)) => e.min(r),
        (Some(e), None) => e,
        (None, Some(r)) => r,
        (None, None) => i64::MAX,
    };
    if end <= start {
        return 0;
    }
    let first = day_of(start).max(from_day);
    let last = day_of(end.saturating_sub(1)).min(to_day);
    u64::try_from(last - first + 1).unwrap_or(0)
}

impl<S: Store> ControlPlane<S> {
    /// The meter that counts this control plane's own work (shared by every plane `acting`
    /// from the same one).
    pub fn meter(&self) -> &Arc<Meter> {
        &self.meter
    }

    /// Writes the counts the meter holds (see [`Meter::flush`]).
    pub fn flush_usage(&self) -> ControlResult<u64> {
        self.meter.flush(&self.store)
    }

    /// Counts one event of the control plane's own (`tenant` empty: none).
    pub(crate) fn meter_count(&self, tenant: &str, metric: Metric, now: i64) {
        self.meter.count(&self.org, tenant, metric, now);
    }

    /// Whether the caller may do `action` on `tenant`'s usage (`""`: the org's own).
    fn may_usage(&self, action: Action, tenant: &str) -> bool {
        if tenant.is_empty() {
            self.may(action, &self.org_resource())
        } else {
            self.may(action, &self.tenant_resource(tenant))
        }
    }

    /// Records a batch of data-plane usage. Each record is checked on its own; bad ones are
    /// listed by index with the reason, and the rest recorded — unless `batch.atomic`, when
    /// one bad record refuses the batch and nothing is recorded. A batch id already recorded
    /// answers its first result (`replayed`), or a conflict when the records differ.
    pub fn record_usage(
        &self,
        batch: &model::UsageBatch,
        now: i64,
    ) -> ControlResult<model::UsageBatchResult> {
        self.require_somewhere(Action::UsageWrite)?;
        check_batch(batch)?;
        let mut bytes = Vec::new();
        for r in &batch.records {
            canonical(r, &mut bytes);
            bytes.push(b'\n');
        }
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &bytes);
        let digest = digest.as_ref();
        let checked: Vec<Result<Checked, String>> =
            batch.records.iter().map(|r| check_record(r, now)).collect();

        self.store.write(|tx| {
            let org_id = self.org_id(tx)?;
            if let Some(stored) = tx.usage_batch(&org_id, &batch.batch_id)? {
                // The answer was for its sender: another principal (whose grants may reach
                // other tenants) learns nothing from it.
                if stored.actor != self.actor {
                    return Err(ControlError::conflict(
                        format!(
                            "batch id {} is taken by another principal's batch",
                            batch.batch_id
                        ),
                        Some("give your batch an id of its own".into()),
                    ));
                }
                if stored.digest != digest {
                    return Err(ControlError::conflict(
                        format!(
                            "batch {} was recorded before with other records",
                            batch.batch_id
                        ),
                        Some("give a new batch id to new records".into()),
                    ));
                }
                let mut result: model::UsageBatchResult = serde_json::from_str(&stored.result)
                    .map_err(|e| ControlError::store(format!("stored batch result: {e}")))?;
                result.replayed = true;
                return Ok(result);
            }
            let tenants: HashSet<String> = tx
                .tenants(&org_id, None)?
                .into_iter()
                .map(|t| t.name)
                .collect();
            let mut rejected = Vec::new();
            let mut good = Vec::new();
            for (index, c) in checked.iter().enumerate() {
                let reason = match c {
                    Err(reason) => Some(reason.clone()),
                    Ok(c) => self.tenant_refusal(&tenants, &c.tenant),
                };
                match reason {
                    Some(reason) => rejected.push(model::RejectedRecord { index, reason }),
                    None => {
                        if let Ok(c) = c {
                            good.push(c);
                        }
                    }
                }
            }
            if batch.atomic && !rejected.is_empty() {
                return Err(ControlError::invalid(atomic_refusal(&rejected)));
            }
            add_checked(tx, &org_id, &good)?;
            // Batch ids past their retention go here as well as in a server's purge loop, so
            // that a long-running embedded collector does not keep them forever.
            tx.purge_usage_batches(now - BATCH_RETENTION_SECS)?;
            let result = model::UsageBatchResult {
                batch_id: batch.batch_id.clone(),
                accepted: good.len() as u64,
                rejected,
                replayed: false,
            };
            let json = serde_json::to_string(&result)
                .map_err(|e| ControlError::store(format!("batch result: {e}")))?;
            let stored = StoredBatch {
                digest: digest.to_vec(),
                result: json,
                actor: self.actor.clone(),
            };
            tx.insert_usage_batch(&org_id, &batch.batch_id, &stored, now)?;
            let detail = format!(
                "{} recorded, {} rejected",
                result.accepted,
                result.rejected.len()
            );
            self.audit_write(
                tx,
                &org_id,
                now,
                "usage.record",
                &batch.batch_id,
                Some(&detail),
            )?;
            Ok(result)
        })
    }

    /// Why a record for `tenant` is refused, if it is: a tenant the caller's grants do not
    /// reach is as unknown as one that does not exist.
    fn tenant_refusal(&self, tenants: &HashSet<String>, tenant: &str) -> Option<String> {
        let resource = self.tenant_resource(tenant);
        if self.may(Action::UsageWrite, &resource) {
            if tenants.contains(tenant) {
                None
            } else {
                Some(format!(
                    "tenant {tenant:?} does not exist (`tok tenant list` shows them)"
                ))
            }
        } else if self.grants.reaches(&resource) && tenants.contains(tenant) {
            Some(format!(
                "not allowed: {} holds no role that grants usage-write on {resource}",
                self.actor
            ))
        } else {
            Some(format!(
                "tenant {tenant:?} does not exist (`tok tenant list` shows them)"
            ))
        }
    }

    /// Usage by day or month: `{tenant, period, metric, value}` sorted by period, tenant and
    /// metric. Counters are totals over the period; `storage_bytes` is the period's last
    /// figure (for a month, its last day with data).
    pub fn usage_report(&self, q: &model::UsageQuery) -> ControlResult<Vec<model::UsagePoint>> {
        self.require_somewhere(Action::UsageRead)?;
        let from = parse_day(&q.from).map_err(|e| ControlError::invalid(format!("--from: {e}")))?;
        let to = parse_day(&q.to).map_err(|e| ControlError::invalid(format!("--to: {e}")))?;
        if from > to {
            return Err(ControlError::invalid(format!(
                "--from {} is after --to {}",
                q.from, q.to
            )));
        }
        if to - from >= MAX_REPORT_DAYS {
            return Err(ControlError::invalid(format!(
                "a report covers at most {MAX_REPORT_DAYS} days; {} to {} is {} days",
                q.from,
                q.to,
                to - from + 1
            )));
        }
        let by_month = match q.by.as_deref() {
            None | Some("day") => false,
            Some("month") => true,
            Some(other) => {
                return Err(ControlError::invalid(format!(
                    "invalid --by {other:?}: expected day or month"
                )));
            }
        };
        let metric = q.metric.as_deref().map(stored_metric).transpose()?;
        let tenant = q.tenant.as_deref();
        if let Some(t) = tenant {
            self.require_tenant_usage(Action::UsageRead, t)?;
        }
        let rows = self.store.read(|tx| {
            let org_id = self.org_id(tx)?;
            tx.usage_daily(&org_id, from, to, tenant, metric.map(Metric::as_str))
        })?;
        // Token-days of deleted tenants are kept for their bills, not reported by day.
        let derived = Metric::ActiveTokenDays.as_str();
        let rows = rows
            .into_iter()
            .filter(|r| r.metric != derived && self.may_usage(Action::UsageRead, &r.tenant));
        Ok(if by_month {
            by_months(rows)
        } else {
            rows.map(|r| model::UsagePoint {
                tenant: (!r.tenant.is_empty()).then_some(r.tenant),
                period: format_day(r.day),
                metric: r.metric,
                value: u64::try_from(r.value).unwrap_or(0),
            })
            .collect()
        })
    }

    /// A named tenant's usage is refused like the tenant itself: not found when the caller's
    /// grants reach nothing there.
    fn require_tenant_usage(&self, action: Action, tenant: &str) -> ControlResult<()> {
        let resource = self.tenant_resource(tenant);
        self.require_on(action, &resource, || ControlError::NotFound {
            what: "tenant",
            name: tenant.to_string(),
            hint: Some("`tok tenant list` shows the tenants you may see".into()),
        })
    }

    /// The org's rate card (a default empty one in USD until one is set).
    pub fn rate_card(&self) -> ControlResult<model::RateCard> {
        self.require_somewhere(Action::BillingRead)?;
        let card = self.store.read(|tx| {
            let org_id = self.org_id(tx)?;
            load_card(tx, &org_id)
        })?;
        Ok(card_info(&card))
    }

    /// Changes the currency and prices of the rate card, all at once or not at all.
    pub fn update_rate_card(
        &self,
        update: &model::RateCardUpdate,
        now: i64,
    ) -> ControlResult<model::RateCard> {
        self.require_org(Action::BillingWrite)?;
        let mut changes = Vec::new();
        for (name, price) in &update.prices {
            let metric: Metric = name.parse().map_err(ControlError::Invalid)?;
            let price = match price {
                Some(p) => Some(
                    billing::parse_price(p)
                        .and_then(|d| billing::validate_price(metric, d))
                        .map_err(ControlError::Invalid)?,
                ),
                None => None,
            };
            changes.push((metric, price));
        }
        if let Some(c) = &update.currency {
            billing::validate_currency(c).map_err(ControlError::Invalid)?;
        }
        if changes.is_empty() && update.currency.is_none() {
            return Err(ControlError::invalid(
                "nothing to change: give a currency and/or prices",
            ));
        }
        let card = self.store.write(|tx| {
            let org_id = self.org_id(tx)?;
            let mut card = load_card(tx, &org_id)?;
            if let Some(c) = &update.currency {
                card.currency = c.clone();
                card.minor_units = billing::iso_minor_units(c);
            }
            for (metric, price) in &changes {
                match price {
                    Some(p) => card.set_price(*metric, *p).map_err(ControlError::Invalid)?,
                    None => {
                        card.remove_price(*metric);
                    }
                }
            }
            card.validate().map_err(ControlError::Invalid)?;
            let stored = StoredCard {
                currency: card.currency.clone(),
                minor_units: card.minor_units,
                prices: card
                    .prices
                    .iter()
                    .map(|(m, p)| (m.as_str().to_string(), p.to_string()))
                    .collect(),
            };
            let json = serde_json::to_string(&stored)
                .map_err(|e| ControlError::store(format!("rate card: {e}")))?;
            tx.set_rate_card(&org_id, &json, now)?;
            let mut detail: Vec<String> = Vec::new();
            if let Some(c) = &update.currency {
                detail.push(format!("currency {c}"));
            }
            for (metric, price) in &changes {
                detail.push(match price {
                    Some(p) => format!("{metric} {p}"),
                    None => format!("{metric} unpriced"),
                });
            }
            self.audit_write(
                tx,
                &org_id,
                now,
                "usage.rates",
                &self.org,
                Some(&detail.join(", ")),
            )?;
            Ok(card)
        })?;
        Ok(card_info(&card))
    }

    /// A month's bill at `now`: usage × the rate card, one line per tenant and priced metric.
    /// Token-days are counted up to today: days still to come are not billed.
    pub fn usage_bill(
        &self,
        month: &str,
        tenant: Option<&str>,
        now: i64,
    ) -> ControlResult<model::Bill> {
        self.require_somewhere(Action::BillingRead)?;
        let (year, mon) = billing::parse_month(month).map_err(ControlError::Invalid)?;
        if let Some(t) = tenant {
            self.require_tenant_usage(Action::BillingRead, t)?;
        }
        let first = parse_day(&format!("{year:04}-{mon:02}-01")).map_err(ControlError::Invalid)?;
        let last = first + i64::from(billing::days_in_month(year, mon)) - 1;
        let (card, rows, tokens) = self.store.read(|tx| {
            let org_id = self.org_id(tx)?;
            let card = load_card(tx, &org_id)?;
            let rows = tx.usage_daily(&org_id, first, last, tenant, None)?;
            let tokens = if card.price(Metric::ActiveTokenDays).is_some() {
                let tenant_id = match tenant {
                    Some(t) => match tx.tenant_ref(&org_id, t)? {
                        Some(t) => Some(t.id),
                        None => return Ok((card, rows, Vec::new())),
                    },
                    None => None,
                };
                tx.tokens(&org_id, tenant_id.as_deref())?
            } else {
                Vec::new()
            };
            Ok((card, rows, tokens))
        })?;
        let mut usage: Vec<(String, Metric, u128)> = Vec::new();
        for r in rows {
            if !self.may_usage(Action::BillingRead, &r.tenant) {
                continue;
            }
            let Ok(metric) = r.metric.parse::<Metric>() else {
                continue;
            };
            // Counters add up over the month; storage adds up to byte-days.
            usage.push((r.tenant, metric, u128::try_from(r.value).unwrap_or(0)));
        }
        let until = last.min(day_of(now));
        for t in &tokens {
            if !self.may_usage(Action::BillingRead, &t.tenant) {
                continue;
            }
            let days = active_days(t, first, until);
            if days > 0 {
                usage.push((t.tenant.clone(), Metric::ActiveTokenDays, u128::from(days)));
            }
        }
        let bill = billing::bill(month, &card, &usage).map_err(ControlError::Invalid)?;
        let money = |d: Decimal| billing::money(d, bill.minor_units);
        Ok(model::Bill {
            month: bill.month.clone(),
            currency: bill.currency.clone(),
            rounding: rounding(bill.minor_units),
            tenants: bill
                .tenants
                .iter()
                .map(|t| model::TenantBill {
                    tenant: (!t.tenant.is_empty()).then(|| t.tenant.clone()),
                    lines: t
                        .lines
                        .iter()
                        .map(|l| model::BillLine {
                            metric: l.metric.as_str().to_string(),
                            quantity: l.quantity.to_string(),
                            unit: l.unit.as_str().to_string(),
                            unit_price: l.unit_price.to_string(),
                            amount: money(l.amount),
                        })
                        .collect(),
                    total: money(t.total),
                })
                .collect(),
            total: money(bill.total),
        })
    }
}

fn stored_metric(name: &str) -> ControlResult<Metric> {
    let names = Metric::STORED.map(Metric::as_str).join(", ");
    match name.parse::<Metric>() {
        Ok(m) if Metric::STORED.contains(&m) => Ok(m),
        Ok(m) => Err(ControlError::invalid(format!(
            "{m} is derived for billing (`tok usage billing`), not reported by day; \
             expected one of {names}"
        ))),
        Err(_) => Err(ControlError::invalid(format!(
            "unknown metric {name:?}: expected one of {names}"
        ))),
    }
}

/// Daily rows (sorted by day) → monthly points: counters add up, a gauge keeps its last
/// day's figure.
fn by_months(rows: impl Iterator<Item = DailyUsage>) -> Vec<model::UsagePoint> {
    let mut months: BTreeMap<(String, String, String), (i64, u64)> = BTreeMap::new();
    for r in rows {
        let gauge = r.metric.parse::<Metric>().is_ok_and(Metric::is_gauge);
        let value = u64::try_from(r.value).unwrap_or(0);
        let e = months
            .entry((format_month(r.day), r.tenant, r.metric))
            .or_insert((i64::MIN, 0));
        if gauge {
            if r.day >= e.0 {
                *e = (r.day, value);
            }
        } else {
            e.0 = e.0.max(r.day);
            e.1 = e.1.saturating_add(value);
        }
    }
    months
        .into_iter()
        .map(|((period, tenant, metric), (_, value))| model::UsagePoint {
            tenant: (!tenant.is_empty()).then_some(tenant),
            period,
            metric,
            value,
        })
        .collect()
}

fn atomic_refusal(rejected: &[model::RejectedRecord]) -> String {
    const SHOWN: usize = 20;
    let mut lines: Vec<String> = rejected
        .iter()
        .take(SHOWN)
        .map(|r| format!("record {}: {}", r.index, r.reason))
        .collect();
    if rejected.len() > SHOWN {
        lines.push(format!("… and {} more", rejected.len() - SHOWN));
    }
    format!(
        "{} record(s) rejected; the batch is atomic, so nothing was recorded:\n  {}",
        rejected.len(),
        lines.join("\n  ")
    )
}

/// Adds checked records, aggregated first: per (day, tenant, namespace, metric), counters
/// add up and a gauge keeps its latest value.
fn add_checked(tx: &mut dyn Tx, org_id: &str, records: &[&Checked]) -> ControlResult<()> {
    type Series<'a> = (i64, &'a str, &'a str, Metric, &'a str);
    let mut sums: HashMap<Series<'_>, (u64, i64)> = HashMap::new();
    for c in records {
        let e = sums
            .entry((day_of(c.at), &c.tenant, &c.namespace, c.metric, &c.source))
            .or_insert((0, i64::MIN));
        if c.metric.is_gauge() {
            if c.at > e.1 || (c.at == e.1 && c.value > e.0) {
                *e = (c.value, c.at);
            }
        } else {
            e.0 = e.0.saturating_add(c.value);
            e.1 = e.1.max(c.at);
        }
    }
    let mut rows: Vec<UsageDelta<'_>> = sums
        .iter()
        .map(
            |(&(day, tenant, namespace, metric, source), &(value, at))| UsageDelta {
                tenant,
                namespace,
                metric: metric.as_str(),
                source,
                day,
                value: i64::try_from(value).unwrap_or(i64::MAX),
                at,
                gauge: metric.is_gauge(),
            },
        )
        .collect();
    // A fixed order, so that concurrent writers touch rows in the same order.
    rows.sort_by(|a, b| {
        (a.day, a.tenant, a.namespace, a.metric, a.source).cmp(&(
            b.day,
            b.tenant,
            b.namespace,
            b.metric,
            b.source,
        ))
    });
    tx.add_usage(org_id, &rows)
}

fn load_card(tx: &mut dyn Tx, org_id: &str) -> ControlResult<RateCard> {
    let Some(json) = tx.rate_card(org_id)? else {
        return RateCard::for_currency("USD").map_err(ControlError::store);
    };
    let stored: StoredCard = serde_json::from_str(&json)
        .map_err(|e| ControlError::store(format!("the stored rate card is unreadable: {e}")))?;
    let mut card =
        RateCard::new(&stored.currency, stored.minor_units).map_err(ControlError::store)?;
    for (name, price) in &stored.prices {
        let metric: Metric = name.parse().map_err(ControlError::store)?;
        let price = billing::parse_price(price).map_err(ControlError::store)?;
        card.set_price(metric, price).map_err(ControlError::store)?;
    }
    Ok(card)
}

fn card_info(card: &RateCard) -> model::RateCard {
    model::RateCard {
        currency: card.currency.clone(),
        minor_units: card.minor_units,
        rounding: rounding(card.minor_units),
        rates: Metric::ALL
            .iter()
            .map(|&m| model::Rate {
                metric: m.as_str().to_string(),
                unit: m.unit().as_str().to_string(),
                price: card.price(m).map(|p| p.to_string()),
            })
            .collect(),
    }
}

#[cfg(test)]
#[path = "service_tests.rs"]
mod tests;
