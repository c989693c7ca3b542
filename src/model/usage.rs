//! Usage and billing on the wire (issue 7): records in, daily and monthly figures out, a
//! month's bill and the org's rate card. Money is always a decimal string, never a float.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One usage record, as `tok usage import` reads it and `tok usage collect` sends it.
/// `at` is an RFC 3339 timestamp (or, on input, Unix seconds); the record counts on the UTC
/// day of `at`. The server validates records one by one (see [`UsageBatch`]), so this typed
/// form is what producers write, not what the server requires to parse a batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct UsageRecord {
    pub tenant: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// `messages_in`, `messages_out`, `bytes_in`, `bytes_out` (counters: the increase) or
    /// `storage_bytes` (a gauge: the stored bytes at `at`).
    pub metric: String,
    pub value: u64,
    /// RFC 3339, e.g. `2026-11-20T10:00:00Z`.
    pub at: String,
    /// What a gauge's figure covers (a topic, a broker): a gauge keeps its latest value per
    /// source, and sources add up. Leave it out when one record covers the whole namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// `POST /v1/orgs/{org}/usage/records`: a batch of records, idempotent per `batch_id`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UsageBatch {
    /// 1-128 of `A-Za-z0-9._:-`. Sending the same id again with the same records answers the
    /// first result (`replayed: true`) and records nothing; with other records it is a
    /// conflict (409).
    pub batch_id: String,
    /// When true, one bad record rejects the whole batch (422) and nothing is recorded;
    /// when false (the default) the good records are recorded and the bad ones listed.
    #[serde(default)]
    pub atomic: bool,
    /// Objects `{tenant, namespace?, metric, value, at}`; each is validated on its own.
    #[schema(value_type = Vec<UsageRecord>)]
    pub records: Vec<serde_json::Value>,
}

/// A record the server refused, by its position in the batch (from 0).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RejectedRecord {
    pub index: usize,
    pub reason: String,
}

/// The answer to a batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct UsageBatchResult {
    pub batch_id: String,
    /// Records recorded.
    pub accepted: u64,
    /// Records refused, in index order.
    pub rejected: Vec<RejectedRecord>,
    /// True when this batch id was recorded before: nothing was recorded this time.
    pub replayed: bool,
}

/// `GET /v1/orgs/{org}/usage` query.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct UsageQuery {
    /// One tenant; all the caller may read when absent.
    pub tenant: Option<String>,
    /// First day, `YYYY-MM-DD` (UTC), inclusive.
    pub from: String,
    /// Last day, `YYYY-MM-DD` (UTC), inclusive.
    pub to: String,
    /// One metric; all when absent.
    pub metric: Option<String>,
    /// `day` (default) or `month`.
    pub by: Option<String>,
}

/// One figure of `tok usage show`: a metric of a tenant over a day or a month. Counters are
/// totals over the period; `storage_bytes` is the period's last stored figure (the sum over
/// namespaces of each one's last value that day; for a month, its last day with data).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct UsagePoint {
    /// The tenant; null for control-plane figures tied to no tenant (logins, API keys,
    /// application tokens, calls outside a tenant).
    pub tenant: Option<String>,
    /// `YYYY-MM-DD` or `YYYY-MM`.
    pub period: String,
    pub metric: String,
    pub value: u64,
}

/// One billed metric of one tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BillLine {
    pub metric: String,
    /// Exact decimal quantity in `unit`.
    pub quantity: String,
    /// `GB`, `million messages`, `GB-month`, `token-day` or `thousand`.
    pub unit: String,
    /// Price per `unit`, a decimal string.
    pub unit_price: String,
    /// `quantity × unit_price` rounded half to even to the currency's minor units.
    pub amount: String,
}

/// One tenant's part of a bill.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TenantBill {
    /// Null for the org's control-plane usage tied to no tenant.
    pub tenant: Option<String>,
    pub lines: Vec<BillLine>,
    /// The sum of the lines' amounts.
    pub total: String,
}

/// `GET /v1/orgs/{org}/usage/billing?month=YYYY-MM`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Bill {
    pub month: String,
    pub currency: String,
    /// How amounts are rounded, e.g. "half to even per line, to 0.01".
    pub rounding: String,
    pub tenants: Vec<TenantBill>,
    /// The sum of the tenant totals.
    pub total: String,
}

/// One price on the rate card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Rate {
    pub metric: String,
    pub unit: String,
    /// Price per `unit`; null when the metric is not priced (not billed).
    pub price: Option<String>,
}

/// The org's rate card (`GET /v1/orgs/{org}/usage/rates`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RateCard {
    /// ISO 4217 code, e.g. `USD`.
    pub currency: String,
    /// The currency's minor units: amounts have exactly this many decimals.
    pub minor_units: u32,
    /// How amounts are rounded.
    pub rounding: String,
    /// Every metric, priced or not, in bill order.
    pub rates: Vec<Rate>,
}

/// `PATCH /v1/orgs/{org}/usage/rates`: change the currency and/or prices, all at once.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RateCardUpdate {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// Metric → price per unit (a decimal string), or null to stop billing the metric.
    #[serde(default)]
    pub prices: std::collections::BTreeMap<String, Option<String>>,
}
