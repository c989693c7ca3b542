//! Pricing usage exactly: metrics and their billing units, the rate card, and a month's bill.
//!
//! Everything here is pure arithmetic on [`Decimal`] and integers — never a float, no I/O,
//! no clock. The rules a finance team can check against a spreadsheet:
//!
//! * **Units.** Bytes are billed per decimal gigabyte (GB = 10^9 bytes, not GiB), messages per
//!   million, stored bytes per GB-month, active tokens per token-day, and the control-plane
//!   counters (`tokens_issued`, `authentications`, `introspections`, `api_calls`) per thousand.
//!   See [`Metric::unit`] and [`quantity`].
//! * **Storage** is a gauge: the caller passes the sum over the month's days of each day's
//!   stored bytes (the day's last value). GB-months = that sum ÷ the number of days in the
//!   month ÷ 10^9 — i.e. the average stored bytes over the whole month (days without a value
//!   count as zero), rounded half to even to a whole byte, expressed in GB.
//! * **Quantities are exact** decimals (at most 9 decimal places; shown normalized, with no
//!   trailing zeros), so `quantity × unit_price` is exactly reproducible from the figures shown.
//! * **Amounts** are `quantity × unit_price` rounded to the currency's minor units (2 for
//!   USD/EUR, 0 for JPY) with banker's rounding — round half to even: 0.135 → 0.14,
//!   0.125 → 0.12. Each line is rounded once; a tenant's total is the sum of its rounded lines
//!   and the bill's total the sum of the tenant totals, so every total adds up exactly.
//! * **Unpriced metrics are not billed**: a metric without a price on the rate card yields no
//!   line. A price of zero is billed (a line with amount 0).

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Serialize, Serializer};

/// The most decimal places a unit price may have.
pub const MAX_PRICE_DECIMALS: u32 = 6;

/// The most minor-unit digits a currency may have (ISO 4217 goes up to 4, e.g. CLF).
pub const MAX_MINOR_UNITS: u32 = 4;

/// A metered figure. The order of the variants is the order of lines on a bill.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Metric {
    /// Data plane: messages published (counter).
    MessagesIn,
    /// Data plane: messages delivered (counter).
    MessagesOut,
    /// Data plane: bytes published (counter).
    BytesIn,
    /// Data plane: bytes delivered (counter).
    BytesOut,
    /// Data plane: bytes stored (gauge; a day's figure is its last value).
    StorageBytes,
    /// Control plane: tokens and keys issued (counter).
    TokensIssued,
    /// Control plane: authentications (counter).
    Authentications,
    /// Control plane: token introspections (counter).
    Introspections,
    /// Control plane: API calls (counter).
    ApiCalls,
    /// Derived by the caller: the number of (token, day) pairs in which a token was active.
    ActiveTokenDays,
}

impl Metric {
    /// Every metric, in bill order.
    pub const ALL: [Metric; 10] = [
        Metric::MessagesIn,
        Metric::MessagesOut,
        Metric::BytesIn,
        Metric::BytesOut,
        Metric::StorageBytes,
        Metric::TokensIssued,
        Metric::Authentications,
        Metric::Introspections,
        Metric::ApiCalls,
        Metric::ActiveTokenDays,
    ];

    /// The metrics recorded per day — every one but the derived `active_token_days` — in the
    /// order reports list them.
    pub const STORED: [Metric; 9] = [
        Metric::MessagesIn,
        Metric::MessagesOut,
        Metric::BytesIn,
        Metric::BytesOut,
        Metric::StorageBytes,
        Metric::TokensIssued,
        Metric::Authentications,
        Metric::Introspections,
        Metric::ApiCalls,
    ];

    /// The metric's name as written on the command line and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Metric::MessagesIn => "messages_in",
            Metric::MessagesOut => "messages_out",
            Metric::BytesIn => "bytes_in",
            Metric::BytesOut => "bytes_out",
            Metric::StorageBytes => "storage_bytes",
            Metric::TokensIssued => "tokens_issued",
            Metric::Authentications => "authentications",
            Metric::Introspections => "introspections",
            Metric::ApiCalls => "api_calls",
            Metric::ActiveTokenDays => "active_token_days",
        }
    }

    /// The unit the metric is priced and billed in.
    pub fn unit(self) -> Unit {
        match self {
            Metric::MessagesIn | Metric::MessagesOut => Unit::MillionMessages,
            Metric::BytesIn | Metric::BytesOut => Unit::Gb,
            Metric::StorageBytes => Unit::GbMonth,
            Metric::ActiveTokenDays => Unit::TokenDay,
            Metric::TokensIssued
            | Metric::Authentications
            | Metric::Introspections
            | Metric::ApiCalls => Unit::Thousand,
        }
    }

    /// Whether the metric is a gauge (a day's figure is its last value, not a sum of deltas).
    /// Only `storage_bytes` is.
    pub fn is_gauge(self) -> bool {
        matches!(self, Metric::StorageBytes)
    }

    fn names() -> String {
        Metric::ALL.map(Metric::as_str).join(", ")
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Metric {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Metric::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| format!("unknown metric {s:?}: expected one of {}", Metric::names()))
    }
}

impl Serialize for Metric {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// A billing unit: what one unit of a price buys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Unit {
    /// A decimal gigabyte: 10^9 bytes (not a GiB).
    Gb,
    /// 10^6 messages.
    MillionMessages,
    /// One GB (10^9 bytes) stored for a whole calendar month.
    GbMonth,
    /// One token active on one day.
    TokenDay,
    /// 10^3 events (tokens issued, authentications, introspections, API calls).
    Thousand,
}

impl Unit {
    /// The unit's name as shown on a bill.
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Gb => "GB",
            Unit::MillionMessages => "million messages",
            Unit::GbMonth => "GB-month",
            Unit::TokenDay => "token-day",
            Unit::Thousand => "thousand",
        }
    }

    /// The power of ten that turns a raw figure (bytes, messages, events, token-days) into
    /// this unit: a quantity is `raw ÷ 10^decimals()` (for GB-months, of the month's average).
    pub fn decimals(self) -> u32 {
        match self {
            Unit::Gb | Unit::GbMonth => 9,
            Unit::MillionMessages => 6,
            Unit::Thousand => 3,
            Unit::TokenDay => 0,
        }
    }
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Unit {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// A quantity as an exact fixed-point number: `mantissa ÷ 10^scale`.
#[derive(Debug, Clone, Copy)]
struct Exact {
    mantissa: u128,
    scale: u32,
}

/// `n ÷ d` rounded half to even. `d` must not be zero.
fn div_half_even(n: u128, d: u128) -> u128 {
    let q = n / d;
    let r = n % d;
    let rest = d - r;
    if r > rest || (r == rest && q % 2 == 1) {
        q + 1
    } else {
        q
    }
}

fn exact_quantity(metric: Metric, raw: u128, days_in_month: u32) -> Result<Exact, String> {
    let unit = metric.unit();
    let mantissa = if metric.is_gauge() {
        if days_in_month == 0 {
            return Err(format!("{metric}: a month has at least one day"));
        }
        div_half_even(raw, u128::from(days_in_month))
    } else {
        raw
    };
    Ok(Exact {
        mantissa,
        scale: unit.decimals(),
    })
}

fn to_decimal(mantissa: u128, scale: u32) -> Option<Decimal> {
    let m = i128::try_from(mantissa).ok()?;
    Decimal::try_from_i128_with_scale(m, scale).ok()
}

/// Converts raw usage into billing units ([`Metric::unit`]), exactly:
///
/// * bytes → GB: `raw ÷ 10^9`;
/// * messages → millions: `raw ÷ 10^6`;
/// * tokens issued, authentications, introspections, API calls → thousands: `raw ÷ 10^3`;
/// * active token-days → token-days: `raw` as is;
/// * `storage_bytes` → GB-months: `raw` is the sum over the month's days of each day's stored
///   bytes; the quantity is `raw ÷ days_in_month`, rounded half to even to a whole byte,
///   `÷ 10^9` — the month's average stored GB.
///
/// The result is normalized (no trailing zeros) and has at most 9 decimal places. Errors on
/// `days_in_month == 0` for storage and on quantities beyond [`Decimal`]'s range (about 7.9e28
/// raw units).
pub fn quantity(metric: Metric, raw: u128, days_in_month: u32) -> Result<Decimal, String> {
    let q = exact_quantity(metric, raw, days_in_month)?;
    to_decimal(q.mantissa, q.scale)
        .map(|d| d.normalize())
        .ok_or_else(|| format!("{metric}: usage {raw} is too large"))
}

/// `q × price` in minor units (`10^-minor_units`), rounded half to even; `None` on overflow.
/// `price` must be non-negative with at most [`MAX_PRICE_DECIMALS`] decimal places.
fn amount_minor(q: Exact, price: Decimal, minor_units: u32) -> Option<u128> {
    let price = price.normalize();
    let p = u128::try_from(price.mantissa()).ok()?;
    let n = q.mantissa.checked_mul(p)?;
    let scale = q.scale + price.scale();
    if minor_units >= scale {
        n.checked_mul(10u128.checked_pow(minor_units - scale)?)
    } else {
        Some(div_half_even(n, 10u128.checked_pow(scale - minor_units)?))
    }
}

/// Checks that a currency code is three ASCII upper-case letters (ISO 4217 form, e.g. `USD`).
pub fn validate_currency(currency: &str) -> Result<(), String> {
    if currency.len() == 3 && currency.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(())
    } else {
        Err(format!(
            "invalid currency {currency:?}: expected an ISO 4217 code of three upper-case letters such as USD, EUR or JPY"
        ))
    }
}

/// The number of minor-unit digits ISO 4217 gives a currency: 0 for JPY, KRW and others without
/// subunits, 3 for BHD, KWD, …, 4 for CLF and UYW, and 2 for every other code.
pub fn iso_minor_units(currency: &str) -> u32 {
    match currency {
        "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX"
        | "UYI" | "VND" | "VUV" | "XAF" | "XOF" | "XPF" => 0,
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        "CLF" | "UYW" => 4,
        _ => 2,
    }
}

/// Checks a unit price for `metric`: zero or more, at most [`MAX_PRICE_DECIMALS`] decimal places
/// (trailing zeros do not count). Returns it normalized. Errors name the metric.
pub fn validate_price(metric: Metric, price: Decimal) -> Result<Decimal, String> {
    let price = price.normalize();
    if price.is_sign_negative() && !price.is_zero() {
        return Err(format!(
            "price for {metric} is negative ({price}): prices are zero or more"
        ));
    }
    if price.scale() > MAX_PRICE_DECIMALS {
        return Err(format!(
            "price for {metric} ({price}) has {} decimal places: at most {MAX_PRICE_DECIMALS} are allowed",
            price.scale()
        ));
    }
    // A negative zero would print as "-0".
    Ok(if price.is_zero() {
        Decimal::ZERO
    } else {
        price
    })
}

/// Parses a unit price written as a plain decimal: digits, optionally a point and more digits
/// (`"0.09"`, `"12"`, `"0.000125"`); surrounding whitespace is ignored. Refused, with a message
/// saying why: an empty string, a sign (negative prices are errors; write no `+`), an exponent
/// (`"1e-3"` — write `0.001`), `NaN`/`inf` or any other text, more than
/// [`MAX_PRICE_DECIMALS`] decimal places (trailing zeros do not count), and values beyond
/// [`Decimal`]'s range. The result is normalized (`"0.090"` → `0.09`).
pub fn parse_price(s: &str) -> Result<Decimal, String> {
    const FORM: &str = "expected a plain decimal such as 0.09 or 12";
    let t = s.trim();
    if t.is_empty() {
        return Err(format!("price is empty: {FORM}"));
    }
    if t.starts_with('-') {
        return Err(format!("price {s:?} is negative: prices are zero or more"));
    }
    let (int, frac) = match t.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (t, None),
    };
    let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    if !digits(int) || !frac.is_none_or(digits) {
        if t.bytes().any(|b| b.is_ascii_digit()) && t.contains(['e', 'E']) {
            return Err(format!(
                "price {s:?} uses an exponent: write it as a plain decimal such as 0.001"
            ));
        }
        return Err(format!("price {s:?} is not a number: {FORM}"));
    }
    let decimals = frac.map_or(0, |f| f.trim_end_matches('0').len());
    if decimals > MAX_PRICE_DECIMALS as usize {
        return Err(format!(
            "price {s:?} has {decimals} decimal places: at most {MAX_PRICE_DECIMALS} are allowed"
        ));
    }
    // Trailing zeros past the allowed places carry no value; drop them so they cannot push the
    // number past Decimal's 28-digit scale limit.
    let text = match frac {
        Some(f) => format!("{int}.{}", f.trim_end_matches('0')),
        None => int.to_string(),
    };
    let text = text.trim_end_matches('.');
    Decimal::from_str_exact(text)
        .map(|d| d.normalize())
        .map_err(|_| format!("price {s:?} is too large"))
}

/// An organisation's prices: per [`Metric::unit`] of each priced metric, in one currency.
/// Metrics without a price are not billed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateCard {
    /// ISO 4217 code: three upper-case ASCII letters.
    pub currency: String,
    /// Digits after the point that amounts are rounded to: 2 for USD/EUR, 0 for JPY; at most
    /// [`MAX_MINOR_UNITS`].
    pub minor_units: u32,
    /// Unit prices: non-negative, at most [`MAX_PRICE_DECIMALS`] decimal places.
    pub prices: BTreeMap<Metric, Decimal>,
}

impl RateCard {
    /// An empty rate card (nothing priced).
    pub fn new(currency: &str, minor_units: u32) -> Result<RateCard, String> {
        let card = RateCard {
            currency: currency.to_string(),
            minor_units,
            prices: BTreeMap::new(),
        };
        card.validate()?;
        Ok(card)
    }

    /// An empty rate card whose minor units are ISO 4217's for the currency
    /// ([`iso_minor_units`]).
    pub fn for_currency(currency: &str) -> Result<RateCard, String> {
        RateCard::new(currency, iso_minor_units(currency))
    }

    /// Sets (or replaces) the unit price of `metric`, after [`validate_price`].
    pub fn set_price(&mut self, metric: Metric, price: Decimal) -> Result<(), String> {
        let price = validate_price(metric, price)?;
        self.prices.insert(metric, price);
        Ok(())
    }

    /// Removes the price of `metric` (it is no longer billed); returns the old price.
    pub fn remove_price(&mut self, metric: Metric) -> Option<Decimal> {
        self.prices.remove(&metric)
    }

    /// The unit price of `metric`, if it is priced.
    pub fn price(&self, metric: Metric) -> Option<Decimal> {
        self.prices.get(&metric).copied()
    }

    /// Checks the currency, the minor units and every price (errors name the metric).
    pub fn validate(&self) -> Result<(), String> {
        validate_currency(&self.currency)?;
        if self.minor_units > MAX_MINOR_UNITS {
            return Err(format!(
                "invalid minor units {} for {}: expected 0 to {MAX_MINOR_UNITS} (2 for USD or EUR, 0 for JPY)",
                self.minor_units, self.currency
            ));
        }
        for (&metric, &price) in &self.prices {
            validate_price(metric, price)?;
        }
        Ok(())
    }
}

/// Whether `year` is a leap year in the Gregorian calendar.
pub fn is_leap_year(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// The number of days in `month` (1–12) of `year`, Gregorian calendar (February has 29 days in
/// leap years). Returns 0 for a month outside 1–12.
pub fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Parses a billing month written `YYYY-MM` (four-digit year, two-digit month 01–12, e.g.
/// `2026-11`) into `(year, month)`.
pub fn parse_month(s: &str) -> Result<(i32, u32), String> {
    let err = || format!("invalid month {s:?}: expected YYYY-MM, e.g. 2026-11");
    let b = s.as_bytes();
    let shape = b.len() == 7
        && b[4] == b'-'
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[5..].iter().all(u8::is_ascii_digit);
    if !shape {
        return Err(err());
    }
    let year: i32 = s[..4].parse().map_err(|_| err())?;
    let month: u32 = s[5..].parse().map_err(|_| err())?;
    if !(1..=12).contains(&month) {
        return Err(format!(
            "invalid month {s:?}: the month must be 01 to 12 (expected YYYY-MM, e.g. 2026-11)"
        ));
    }
    Ok((year, month))
}

/// One billed metric of one tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Line {
    pub metric: Metric,
    /// Exact usage in `unit`, normalized (at most 9 decimal places, no trailing zeros).
    pub quantity: Decimal,
    pub unit: Unit,
    /// Price per `unit`, normalized.
    pub unit_price: Decimal,
    /// `quantity × unit_price` rounded half to even to the currency's minor units; its scale is
    /// exactly the minor units (so it prints as `"0.10"`, not `"0.1"`).
    pub amount: Decimal,
}

/// One tenant's lines for the month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TenantBill {
    pub tenant: String,
    /// One line per priced metric with non-zero usage, in [`Metric`] order.
    pub lines: Vec<Line>,
    /// The sum of the lines' (rounded) amounts.
    pub total: Decimal,
}

/// A month's bill for an organisation. Serializes as the `usage billing` JSON:
/// `{month, currency, tenants: [{tenant, lines: [{metric, quantity, unit, unit_price, amount}],
/// total}], total}` with every number a decimal string.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Bill {
    /// `YYYY-MM`.
    pub month: String,
    pub currency: String,
    /// The currency's minor units: every amount and total has exactly this many decimals.
    #[serde(skip)]
    pub minor_units: u32,
    /// Tenants with at least one line, sorted by name (byte order; the org's own usage, with
    /// an empty name, first).
    pub tenants: Vec<TenantBill>,
    /// The sum of the tenant totals.
    pub total: Decimal,
}

/// Prices a month's usage.
///
/// `usage` rows are `(tenant, metric, raw)`: for counters the month's total (bytes, messages,
/// events, token-days); for `storage_bytes` the sum over the month's days of each day's stored
/// bytes (see [`quantity`]). Rows for the same tenant and metric are added together.
///
/// The bill has one line per tenant and priced metric with non-zero usage, sorted by tenant
/// then metric; unpriced metrics are left out, and so are tenants without lines. Each line's
/// amount is `quantity × unit_price` computed exactly and rounded **half to even** (banker's
/// rounding) to the currency's minor units; a tenant's total is the sum of its rounded lines,
/// and the bill's total the sum of the tenant totals — so the totals always add up exactly.
/// A month without usage is an empty bill with total 0.
///
/// Errors: a malformed month, an invalid rate card (negative price, more than 6 decimals, bad
/// currency — named), and figures too large to price exactly. An empty tenant name stands for
/// the org's own usage tied to no tenant; it sorts first.
pub fn bill(
    month: &str,
    card: &RateCard,
    usage: &[(String, Metric, u128)],
) -> Result<Bill, String> {
    let (year, mon) = parse_month(month)?;
    card.validate()?;
    let days = days_in_month(year, mon);
    let minor = card.minor_units;

    let mut by_tenant: BTreeMap<&str, BTreeMap<Metric, u128>> = BTreeMap::new();
    for (tenant, metric, raw) in usage {
        if !card.prices.contains_key(metric) {
            continue;
        }
        let sum = by_tenant
            .entry(tenant.as_str())
            .or_default()
            .entry(*metric)
            .or_insert(0);
        *sum = sum
            .checked_add(*raw)
            .ok_or_else(|| format!("tenant {tenant}: {metric} usage is too large to add up"))?;
    }

    let too_large = |what: &str| format!("{what} is too large to price exactly");
    let mut tenants = Vec::new();
    let mut bill_minor: u128 = 0;
    for (tenant, metrics) in by_tenant {
        let mut lines = Vec::new();
        let mut tenant_minor: u128 = 0;
        for (metric, raw) in metrics {
            let Some(unit_price) = card.price(metric) else {
                continue;
            };
            if raw == 0 {
                continue;
            }
            let unit_price = validate_price(metric, unit_price)?;
            let q = exact_quantity(metric, raw, days)?;
            let what = || too_large(&format!("tenant {tenant}: {metric}"));
            let quantity = to_decimal(q.mantissa, q.scale)
                .ok_or_else(what)?
                .normalize();
            let amount = amount_minor(q, unit_price, minor).ok_or_else(what)?;
            tenant_minor = tenant_minor.checked_add(amount).ok_or_else(what)?;
            lines.push(Line {
                metric,
                quantity,
                unit: metric.unit(),
                unit_price,
                amount: to_decimal(amount, minor).ok_or_else(what)?,
            });
        }
        if lines.is_empty() {
            continue;
        }
        let what = || too_large(&format!("tenant {tenant}: the total"));
        bill_minor = bill_minor.checked_add(tenant_minor).ok_or_else(what)?;
        tenants.push(TenantBill {
            tenant: tenant.to_string(),
            lines,
            total: to_decimal(tenant_minor, minor).ok_or_else(what)?,
        });
    }
    Ok(Bill {
        month: month.to_string(),
        currency: card.currency.clone(),
        minor_units: minor,
        tenants,
        total: to_decimal(bill_minor, minor).ok_or_else(|| too_large("the bill's total"))?,
    })
}

/// Formats money with exactly `minor_units` decimals (`"12.30"`, `"0.00"`, `"1234"` for JPY),
/// rounding half to even first if `d` has more decimals. Zero never prints as `-0`.
pub fn money(d: Decimal, minor_units: u32) -> String {
    let r = d
        .round_dp_with_strategy(minor_units, RoundingStrategy::MidpointNearestEven)
        .normalize();
    let r = if r.is_zero() { Decimal::ZERO } else { r };
    let s = r.to_string();
    if minor_units == 0 {
        return s;
    }
    let have = s.split_once('.').map_or(0, |(_, f)| f.len());
    let pad = (minor_units as usize).saturating_sub(have);
    let point = if have == 0 { "." } else { "" };
    format!("{s}{point}{}", "0".repeat(pad))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn dec(s: &str) -> Decimal {
        Decimal::from_str_exact(s).unwrap()
    }

    fn card(currency: &str, minor: u32, prices: &[(Metric, &str)]) -> RateCard {
        let mut c = RateCard::new(currency, minor).unwrap();
        for (m, p) in prices {
            c.set_price(*m, parse_price(p).unwrap()).unwrap();
        }
        c
    }

    fn row(t: &str, m: Metric, raw: u128) -> (String, Metric, u128) {
        (t.to_string(), m, raw)
    }

    fn one_line(b: &Bill) -> &Line {
        assert_eq!(b.tenants.len(), 1, "{b:?}");
        assert_eq!(b.tenants[0].lines.len(), 1, "{b:?}");
        &b.tenants[0].lines[0]
    }

    #[test]
    fn metric_names_round_trip_and_unknown_lists_them() {
        for m in Metric::ALL {
            assert_eq!(m.as_str().parse::<Metric>().unwrap(), m);
            assert_eq!(m.to_string(), m.as_str());
        }
        let e = "bytes".parse::<Metric>().unwrap_err();
        assert!(e.contains("unknown metric \"bytes\""), "{e}");
        for m in Metric::ALL {
            assert!(e.contains(m.as_str()), "{e} lacks {m}");
        }
        assert_eq!(
            Metric::ALL
                .iter()
                .filter(|m| m.is_gauge())
                .collect::<Vec<_>>(),
            [&Metric::StorageBytes]
        );
    }

    #[test]
    fn units_of_every_metric() {
        use Metric::*;
        let units: Vec<_> = Metric::ALL.map(|m| m.unit().as_str()).into();
        assert_eq!(
            units,
            [
                "million messages",
                "million messages",
                "GB",
                "GB",
                "GB-month",
                "thousand",
                "thousand",
                "thousand",
                "thousand",
                "token-day"
            ]
        );
        assert_eq!(quantity(BytesIn, 1_500_000_000, 30).unwrap(), dec("1.5"));
        assert_eq!(quantity(BytesOut, 1, 30).unwrap(), dec("0.000000001"));
        assert_eq!(quantity(MessagesIn, 2_500_000, 30).unwrap(), dec("2.5"));
        assert_eq!(quantity(ApiCalls, 1234, 30).unwrap(), dec("1.234"));
        assert_eq!(quantity(ActiveTokenDays, 42, 30).unwrap(), dec("42"));
        // 10 GB every day of a 30-day month = 10 GB-months.
        assert_eq!(
            quantity(StorageBytes, 30 * 10_000_000_000, 30).unwrap(),
            dec("10")
        );
        assert_eq!(
            quantity(BytesIn, 1_500_000_000, 30).unwrap().to_string(),
            "1.5"
        );
        assert!(quantity(StorageBytes, 1, 0).is_err());
        assert!(
            quantity(BytesIn, u128::MAX, 30)
                .unwrap_err()
                .contains("too large")
        );
    }

    #[test]
    fn half_even_rounding_of_amounts() {
        // 1.5 GB × 0.09 = 0.135 → 0.14 (3 is odd, rounds up to the even 4).
        let c = card("USD", 2, &[(Metric::BytesIn, "0.09")]);
        let b = bill(
            "2026-11",
            &c,
            &[row("acme", Metric::BytesIn, 1_500_000_000)],
        )
        .unwrap();
        let l = one_line(&b);
        assert_eq!(l.quantity, dec("1.5"));
        assert_eq!(l.unit, Unit::Gb);
        assert_eq!(l.unit_price, dec("0.09"));
        assert_eq!(l.amount.to_string(), "0.14");
        // 0.125 → 0.12 (2 is even, stays).
        let c = card("USD", 2, &[(Metric::MessagesIn, "1")]);
        let b = bill("2026-11", &c, &[row("acme", Metric::MessagesIn, 125_000)]).unwrap();
        assert_eq!(one_line(&b).amount.to_string(), "0.12");
        // 0.145 → 0.14, 0.155 → 0.16, 0.1251 → 0.13 (not a midpoint).
        for (raw, want) in [(145_000, "0.14"), (155_000, "0.16"), (125_100, "0.13")] {
            let b = bill("2026-11", &c, &[row("acme", Metric::MessagesIn, raw)]).unwrap();
            assert_eq!(one_line(&b).amount.to_string(), want, "{raw}");
        }
    }

    #[test]
    fn totals_are_sums_of_rounded_lines() {
        // Three lines of 0.135 each (each → 0.14): the total is 0.42, not round(0.405) = 0.40.
        let c = card(
            "EUR",
            2,
            &[
                (Metric::BytesIn, "0.09"),
                (Metric::BytesOut, "0.09"),
                (Metric::MessagesOut, "0.09"),
            ],
        );
        let usage = [
            row("zeta", Metric::BytesIn, 1_500_000_000),
            row("acme", Metric::BytesOut, 1_500_000_000),
            row("acme", Metric::BytesIn, 1_500_000_000),
            row("acme", Metric::MessagesOut, 1_500_000),
        ];
        let b = bill("2026-11", &c, &usage).unwrap();
        assert_eq!(b.currency, "EUR");
        assert_eq!(b.month, "2026-11");
        let names: Vec<_> = b.tenants.iter().map(|t| t.tenant.as_str()).collect();
        assert_eq!(names, ["acme", "zeta"]);
        let acme = &b.tenants[0];
        let metrics: Vec<_> = acme.lines.iter().map(|l| l.metric).collect();
        assert_eq!(
            metrics,
            [Metric::MessagesOut, Metric::BytesIn, Metric::BytesOut]
        );
        assert!(acme.lines.iter().all(|l| l.amount == dec("0.14")));
        assert_eq!(acme.total.to_string(), "0.42");
        assert_eq!(b.tenants[1].total.to_string(), "0.14");
        assert_eq!(b.total.to_string(), "0.56");
    }

    #[test]
    fn rows_for_the_same_tenant_and_metric_add_up() {
        let c = card("USD", 2, &[(Metric::BytesIn, "0.09")]);
        let usage = [
            row("acme", Metric::BytesIn, 1_000_000_000),
            row("acme", Metric::BytesIn, 500_000_000),
        ];
        let b = bill("2026-11", &c, &usage).unwrap();
        assert_eq!(one_line(&b).quantity, dec("1.5"));
        assert_eq!(one_line(&b).amount, dec("0.14"));
    }

    #[test]
    fn storage_gb_months_follow_the_month_length() {
        let c = card("USD", 2, &[(Metric::StorageBytes, "10")]);
        // 10 GB stored on every day of February: 10 GB-months in a leap year and in a common one.
        for (month, days) in [("2024-02", 29u128), ("2025-02", 28)] {
            let b = bill(
                month,
                &c,
                &[row("acme", Metric::StorageBytes, days * 10_000_000_000)],
            )
            .unwrap();
            let l = one_line(&b);
            assert_eq!(l.unit, Unit::GbMonth);
            assert_eq!(l.quantity, dec("10"), "{month}");
            assert_eq!(l.amount.to_string(), "100.00", "{month}");
        }
        // 29 GB on one day only: 1 GB-month over a 29-day February…
        let usage = [row("acme", Metric::StorageBytes, 29_000_000_000)];
        let b = bill("2024-02", &c, &usage).unwrap();
        assert_eq!(one_line(&b).quantity, dec("1"));
        assert_eq!(one_line(&b).amount.to_string(), "10.00");
        // …but 29/28 GB-months over a 28-day one: 1035714285.714… bytes → 1035714286 bytes.
        let b = bill("2023-02", &c, &usage).unwrap();
        assert_eq!(one_line(&b).quantity, dec("1.035714286"));
        assert_eq!(one_line(&b).amount.to_string(), "10.36");
        // The month's average is rounded half to even to a whole byte (here over 2 days):
        // 1.5 → 2, 2.5 → 2, 3.5 → 4 bytes.
        assert_eq!(
            quantity(Metric::StorageBytes, 3, 2).unwrap(),
            dec("0.000000002")
        );
        assert_eq!(
            quantity(Metric::StorageBytes, 5, 2).unwrap(),
            dec("0.000000002")
        );
        assert_eq!(
            quantity(Metric::StorageBytes, 7, 2).unwrap(),
            dec("0.000000004")
        );
    }

    #[test]
    fn yen_has_no_decimals() {
        let c = RateCard::for_currency("JPY").unwrap();
        assert_eq!(c.minor_units, 0);
        let mut c = c;
        c.set_price(Metric::BytesIn, dec("15")).unwrap();
        // 1.5 × 15 = 22.5 → 22 (even); 2.5 × 15 = 37.5 → 38 (even).
        let b = bill(
            "2026-11",
            &c,
            &[
                row("a", Metric::BytesIn, 1_500_000_000),
                row("b", Metric::BytesIn, 2_500_000_000),
            ],
        )
        .unwrap();
        assert_eq!(b.tenants[0].total.to_string(), "22");
        assert_eq!(b.tenants[1].total.to_string(), "38");
        assert_eq!(b.total.to_string(), "60");
        assert_eq!(money(b.total, b.minor_units), "60");
        assert_eq!(iso_minor_units("USD"), 2);
        assert_eq!(iso_minor_units("KWD"), 3);
    }

    #[test]
    fn unpriced_metrics_and_zero_usage_are_not_billed() {
        let c = card(
            "USD",
            2,
            &[(Metric::BytesIn, "0.09"), (Metric::ApiCalls, "0")],
        );
        let usage = [
            row("acme", Metric::BytesOut, 5_000_000_000), // unpriced
            row("acme", Metric::BytesIn, 0),              // priced, no usage
            row("acme", Metric::ApiCalls, 2000),          // priced at zero: billed as 0.00
            row("only-unpriced", Metric::MessagesIn, 10),
        ];
        let b = bill("2026-11", &c, &usage).unwrap();
        let l = one_line(&b);
        assert_eq!(b.tenants[0].tenant, "acme");
        assert_eq!(l.metric, Metric::ApiCalls);
        assert_eq!(l.quantity, dec("2"));
        assert_eq!(l.unit, Unit::Thousand);
        assert_eq!(l.amount.to_string(), "0.00");
        assert_eq!(b.total.to_string(), "0.00");
    }

    #[test]
    fn an_empty_month_is_an_empty_bill() {
        let c = card("USD", 2, &[(Metric::BytesIn, "0.09")]);
        let b = bill("2026-11", &c, &[]).unwrap();
        assert!(b.tenants.is_empty());
        assert_eq!(b.total.to_string(), "0.00");
        assert!(b.total.is_zero());
        let json = serde_json::to_string(&b).unwrap();
        assert_eq!(
            json,
            r#"{"month":"2026-11","currency":"USD","tenants":[],"total":"0.00"}"#
        );
    }

    #[test]
    fn bill_serializes_as_the_documented_json() {
        let c = card("USD", 2, &[(Metric::BytesIn, "0.09")]);
        let b = bill(
            "2026-11",
            &c,
            &[row("acme", Metric::BytesIn, 1_500_000_000)],
        )
        .unwrap();
        assert_eq!(
            serde_json::to_string(&b).unwrap(),
            r#"{"month":"2026-11","currency":"USD","tenants":[{"tenant":"acme","lines":[{"metric":"bytes_in","quantity":"1.5","unit":"GB","unit_price":"0.09","amount":"0.14"}],"total":"0.14"}],"total":"0.14"}"#
        );
    }

    #[test]
    fn large_values_do_not_overflow() {
        let c = card(
            "USD",
            2,
            &[
                (Metric::BytesIn, "0.09"),
                (Metric::StorageBytes, "0.023"),
                (Metric::MessagesIn, "0.000001"),
            ],
        );
        let exa = 1_000_000_000_000_000_000u128; // 10^18 bytes = 10^9 GB
        let usage = [
            row("acme", Metric::BytesIn, exa),
            row("acme", Metric::StorageBytes, 31 * exa), // 1 EB every day of a 31-day month
            row("acme", Metric::MessagesIn, u64::MAX.into()),
        ];
        let b = bill("2026-12", &c, &usage).unwrap();
        let t = &b.tenants[0];
        assert_eq!(t.lines[0].metric, Metric::MessagesIn);
        // 18446744073709.551615 million × 0.000001 = 18446744.073709551615 → 18446744.07
        assert_eq!(t.lines[0].amount.to_string(), "18446744.07");
        assert_eq!(t.lines[1].quantity.to_string(), "1000000000");
        assert_eq!(t.lines[1].amount.to_string(), "90000000.00");
        assert_eq!(t.lines[2].quantity.to_string(), "1000000000");
        assert_eq!(t.lines[2].amount.to_string(), "23000000.00");
        assert_eq!(b.total.to_string(), "131446744.07");
        // Beyond what can be priced exactly: an error, not a panic or a wrong figure.
        let e = bill("2026-12", &c, &[row("acme", Metric::BytesIn, u128::MAX)]).unwrap_err();
        assert!(e.contains("too large") && e.contains("bytes_in"), "{e}");
        let e = bill(
            "2026-12",
            &c,
            &[
                row("acme", Metric::BytesIn, u128::MAX),
                row("acme", Metric::BytesIn, 1),
            ],
        )
        .unwrap_err();
        assert!(e.contains("too large"), "{e}");
    }

    #[test]
    fn prices_parse_as_plain_decimals_only() {
        assert_eq!(parse_price("0.09").unwrap(), dec("0.09"));
        assert_eq!(parse_price("12").unwrap(), dec("12"));
        assert_eq!(parse_price(" 0.090 ").unwrap().to_string(), "0.09");
        assert_eq!(parse_price("0.000125").unwrap(), dec("0.000125"));
        assert_eq!(
            parse_price("0.0000010000000000000000000000000").unwrap(),
            dec("0.000001")
        );
        assert_eq!(parse_price("0").unwrap().to_string(), "0");
        assert_eq!(parse_price("0.000").unwrap().to_string(), "0");
        let cases = [
            ("", "empty"),
            ("  ", "empty"),
            ("-0.01", "negative"),
            ("-0", "negative"),
            ("+1", "not a number"),
            ("1e-3", "exponent"),
            ("1E3", "exponent"),
            ("NaN", "not a number"),
            ("inf", "not a number"),
            ("abc", "not a number"),
            ("1,5", "not a number"),
            ("1.", "not a number"),
            (".5", "not a number"),
            ("1.2.3", "not a number"),
            ("0x10", "not a number"),
            ("1_000", "not a number"),
            ("0.0000001", "7 decimal places"),
            ("99999999999999999999999999999999", "too large"),
        ];
        for (s, want) in cases {
            let e = parse_price(s).unwrap_err();
            assert!(e.contains(want), "{s:?}: {e}");
        }
    }

    #[test]
    fn rate_card_validation_names_the_problem() {
        let mut c = RateCard::new("USD", 2).unwrap();
        let e = c.set_price(Metric::BytesOut, dec("-0.01")).unwrap_err();
        assert!(e.contains("bytes_out") && e.contains("negative"), "{e}");
        let e = c.set_price(Metric::BytesIn, dec("0.0000001")).unwrap_err();
        assert!(
            e.contains("bytes_in") && e.contains("decimal places"),
            "{e}"
        );
        c.set_price(Metric::BytesIn, dec("0.0900000")).unwrap();
        assert_eq!(c.price(Metric::BytesIn).unwrap().to_string(), "0.09");
        assert_eq!(c.remove_price(Metric::BytesIn), Some(dec("0.09")));
        assert_eq!(c.price(Metric::BytesIn), None);

        // A card built by hand is checked by bill().
        let mut bad = RateCard::new("USD", 2).unwrap();
        bad.prices.insert(Metric::StorageBytes, dec("-1"));
        let e = bill("2026-11", &bad, &[]).unwrap_err();
        assert!(e.contains("storage_bytes") && e.contains("negative"), "{e}");
        bad.prices.insert(Metric::StorageBytes, dec("0.1234567"));
        let e = bill("2026-11", &bad, &[]).unwrap_err();
        assert!(
            e.contains("storage_bytes") && e.contains("at most 6"),
            "{e}"
        );

        for cur in ["usd", "US", "USDT", "U$D", "ÜSD", ""] {
            let e = RateCard::new(cur, 2).unwrap_err();
            assert!(e.contains("ISO 4217"), "{cur:?}: {e}");
        }
        let e = RateCard::new("USD", 5).unwrap_err();
        assert!(e.contains("minor units"), "{e}");
        // An empty tenant name is the org's own usage: billed, and listed first.
        let b = bill(
            "2026-11",
            &card("USD", 2, &[(Metric::BytesIn, "1")]),
            &[
                row("acme", Metric::BytesIn, 1_000_000_000),
                row("", Metric::BytesIn, 2_000_000_000),
            ],
        )
        .unwrap();
        let names: Vec<&str> = b.tenants.iter().map(|t| t.tenant.as_str()).collect();
        assert_eq!(names, ["", "acme"]);
        assert_eq!(b.total.to_string(), "3.00");
    }

    #[test]
    fn months_and_their_lengths() {
        assert_eq!(parse_month("2026-11").unwrap(), (2026, 11));
        assert_eq!(parse_month("2024-02").unwrap(), (2024, 2));
        for bad in [
            "2026-13",
            "2026-00",
            "26-11",
            "2026-1",
            "2026/11",
            "2026-11-01",
            "",
            "２０２６-11",
            "+026-11",
        ] {
            let e = parse_month(bad).unwrap_err();
            assert!(e.contains("YYYY-MM"), "{bad:?}: {e}");
        }
        let e = bill("2026-13", &card("USD", 2, &[]), &[]).unwrap_err();
        assert!(e.contains("YYYY-MM"), "{e}");
        assert_eq!(days_in_month(2024, 2), 29);
        assert_eq!(days_in_month(2025, 2), 28);
        assert_eq!(days_in_month(2000, 2), 29);
        assert_eq!(days_in_month(2100, 2), 28);
        assert_eq!(days_in_month(2026, 1), 31);
        assert_eq!(days_in_month(2026, 4), 30);
        assert_eq!(days_in_month(2026, 12), 31);
        assert_eq!(days_in_month(2026, 13), 0);
        let year: u32 = (1..=12).map(|m| days_in_month(2026, m)).sum();
        assert_eq!(year, 365);
        let leap: u32 = (1..=12).map(|m| days_in_month(2024, m)).sum();
        assert_eq!(leap, 366);
    }

    #[test]
    fn money_has_exactly_the_minor_units() {
        assert_eq!(money(dec("12.3"), 2), "12.30");
        assert_eq!(money(dec("0"), 2), "0.00");
        assert_eq!(money(dec("12.30"), 2), "12.30");
        assert_eq!(money(dec("1234"), 0), "1234");
        assert_eq!(money(dec("1234.5"), 0), "1234");
        assert_eq!(money(dec("1235.5"), 0), "1236");
        assert_eq!(money(dec("0.135"), 2), "0.14");
        assert_eq!(money(dec("0.125"), 2), "0.12");
        assert_eq!(money(dec("-0.001"), 2), "0.00");
        assert_eq!(money(dec("-1.5"), 2), "-1.50");
        assert_eq!(money(dec("7"), 3), "7.000");
        assert_eq!(
            money(dec("79228162514264337593543950335"), 2),
            "79228162514264337593543950335.00"
        );
    }

    const TENANTS: [&str; 4] = ["acme", "beta", "gamma", "zeta"];

    fn usage_rows() -> impl Strategy<Value = Vec<(usize, usize, u64)>> {
        proptest::collection::vec(
            (
                0..TENANTS.len(),
                0..Metric::ALL.len(),
                prop_oneof![
                    0u64..1000,
                    0u64..10_000_000_000,
                    0u64..=1_000_000_000_000_000
                ],
            ),
            0..40,
        )
    }

    fn prices() -> impl Strategy<Value = Vec<Option<(u64, u32)>>> {
        proptest::collection::vec(
            proptest::option::of((0u64..=1_000_000_000, 0u32..=MAX_PRICE_DECIMALS)),
            Metric::ALL.len(),
        )
    }

    proptest! {
        /// Amounts have at most the currency's decimals and lie within half a minor unit of
        /// quantity × price (they are exactly its half-even rounding); totals add up exactly;
        /// there is one line per tenant and priced metric with usage, in order.
        #[test]
        fn bills_add_up_and_round_correctly(
            rows in usage_rows(),
            price_list in prices(),
            minor in 0u32..=MAX_MINOR_UNITS,
            year in 1990i32..2100,
            mon in 1u32..=12,
        ) {
            let mut c = RateCard::new("XTS", minor).unwrap();
            for (m, p) in Metric::ALL.iter().zip(&price_list) {
                if let Some((mantissa, scale)) = p {
                    c.set_price(*m, Decimal::new(*mantissa as i64, *scale)).unwrap();
                }
            }
            let usage: Vec<_> = rows
                .iter()
                .map(|&(t, m, raw)| row(TENANTS[t], Metric::ALL[m], raw.into()))
                .collect();
            let month = format!("{year:04}-{mon:02}");
            let b = bill(&month, &c, &usage).unwrap();
            let days = days_in_month(year, mon);
            let half = Decimal::new(5, minor + 1);

            let mut expected: BTreeMap<(&str, Metric), u128> = BTreeMap::new();
            for (t, m, raw) in &usage {
                if c.price(*m).is_some() {
                    *expected.entry((t.as_str(), *m)).or_default() += raw;
                }
            }
            expected.retain(|_, v| *v > 0);
            let mut seen = Vec::new();

            let mut sum_tenants = Decimal::ZERO;
            for t in &b.tenants {
                prop_assert!(!t.lines.is_empty());
                let mut sum_lines = Decimal::ZERO;
                for l in &t.lines {
                    seen.push((t.tenant.as_str(), l.metric));
                    prop_assert_eq!(l.unit, l.metric.unit());
                    prop_assert_eq!(Some(l.unit_price), c.price(l.metric));
                    let raw = expected[&(t.tenant.as_str(), l.metric)];
                    prop_assert_eq!(l.quantity, quantity(l.metric, raw, days).unwrap());
                    prop_assert!(l.amount.scale() == minor, "{} has scale {}", l.amount, l.amount.scale());
                    let exact = l.quantity.checked_mul(l.unit_price).unwrap();
                    prop_assert!((l.amount - exact).abs() <= half, "{} vs {}", l.amount, exact);
                    prop_assert_eq!(
                        l.amount,
                        exact.round_dp_with_strategy(minor, RoundingStrategy::MidpointNearestEven)
                    );
                    sum_lines += l.amount;
                }
                prop_assert_eq!(t.total, sum_lines);
                prop_assert_eq!(t.total.scale(), minor);
                sum_tenants += t.total;
            }
            prop_assert_eq!(b.total, sum_tenants);
            prop_assert_eq!(b.total.scale(), minor);
            prop_assert_eq!(money(b.total, minor), b.total.to_string());
            let want: Vec<_> = expected.keys().copied().collect();
            prop_assert_eq!(seen, want);
        }

        /// Any price printed as a plain decimal with at most 6 places parses back to itself.
        #[test]
        fn printed_prices_parse_back(mantissa in 0u64..=u64::MAX, scale in 0u32..=MAX_PRICE_DECIMALS) {
            let d = Decimal::new(i64::try_from(mantissa / 2).unwrap(), scale);
            prop_assert_eq!(parse_price(&d.to_string()).unwrap(), d);
        }
    }
}
