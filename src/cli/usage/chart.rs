//! What `tok usage show` prints for people: the table's rows and, on a terminal, one bar
//! chart per metric so a trend shows at a glance. Pure functions of the points: no I/O.
//!
//! Numbers for people come from [`human`]:
//! - bytes metrics (`bytes_in`, `bytes_out`, `storage_bytes`): exact below 1000 (`0 B`,
//!   `999 B`), then decimal (SI, powers of 1000) units `kB`, `MB`, `GB`, `TB`, `PB`, `EB`
//!   (then `ZB`, `YB`, `RB`, `QB` for sums) with three significant digits: `1.00 kB`,
//!   `12.3 MB`, `456 GB`;
//! - every other metric (counts): exact with thousands separators up to `999,999`, then
//!   short-scale units `M` (million), `B` (billion), `T` (trillion), `Qa` (quadrillion),
//!   `Qi` (quintillion) with three significant digits: `1.00 M`, `45.6 M`, `1.20 B`.
//!
//! Rounding is half up, in integers. A value that rounds up to 1000 of a unit is shown in
//! the next unit (`999,999 B` is `1.00 MB`, not `1000 kB`). Past the last unit, the
//! rounded whole number of that unit, with separators (`1,234 Qi`).

use std::collections::{BTreeMap, BTreeSet};

use time::{Date, Month};

use crate::control::usage::billing::Metric;
use crate::model::UsagePoint;
use crate::output::Style;

/// Every known metric, in display order: data plane, then control plane
/// ([`Metric::STORED`]). Other metrics follow, by name, and count as counters.
const METRICS: [Metric; 9] = Metric::STORED;

/// The metrics counted in bytes.
const BYTES_METRICS: [&str; 3] = ["bytes_in", "bytes_out", "storage_bytes"];

/// The gauge: a period's figure is a level, not an increase, so a chart says the latest.
const GAUGE: &str = "storage_bytes";

const BYTE_UNITS: [(u128, &str); 10] = [
    (1_000, "kB"),
    (1_000_000, "MB"),
    (1_000_000_000, "GB"),
    (1_000_000_000_000, "TB"),
    (1_000_000_000_000_000, "PB"),
    (1_000_000_000_000_000_000, "EB"),
    (1_000_000_000_000_000_000_000, "ZB"),
    (1_000_000_000_000_000_000_000_000, "YB"),
    (1_000_000_000_000_000_000_000_000_000, "RB"),
    (1_000_000_000_000_000_000_000_000_000_000, "QB"),
];

const COUNT_UNITS: [(u128, &str); 5] = [
    (1_000_000, "M"),
    (1_000_000_000, "B"),
    (1_000_000_000_000, "T"),
    (1_000_000_000_000_000, "Qa"),
    (1_000_000_000_000_000_000, "Qi"),
];

/// A bar never has fewer cells than this, however narrow the terminal.
const MIN_BAR_CELLS: usize = 10;

/// Wider terminals are treated as this wide: a chart is for reading, not for filling.
const MAX_WIDTH: usize = 1000;

/// Calendar gaps are filled only when the filled series has at most this many periods
/// (about 2.7 years by day, 83 years by month); otherwise only the periods with data show.
const MAX_FILLED_PERIODS: usize = 1000;

const FULL_BLOCK: char = '█';

/// The partial cell for 1 to 7 eighths.
const EIGHTHS: [char; 7] = ['▏', '▎', '▍', '▌', '▋', '▊', '▉'];

/// A value for people, by its metric's unit: bytes metrics (`bytes_in`, `bytes_out`,
/// `storage_bytes`) in decimal units (`0 B`, `999 B`, `1.00 kB`, `1.23 GB`, `18.4 EB`),
/// other metrics as counts, exact with separators up to `999,999`, then `1.00 M`,
/// `45.6 M`, `1.20 B`. Three significant digits once scaled, rounded half up; see the
/// module documentation for the full rule.
pub fn human(metric: &str, value: u64) -> String {
    human_wide(metric, u128::from(value))
}

/// Rows for the table: TENANT (`(org)` for org-level figures), PERIOD, METRIC, VALUE
/// ([`human`]) — sorted by period, then tenant (`(org)` first, then by name), then metric
/// (in the order of the known metrics, other metrics after them by name). Points equal in
/// all three keep their input order.
pub fn table_rows(points: &[UsagePoint]) -> Vec<[String; 4]> {
    let mut sorted: Vec<&UsagePoint> = points.iter().collect();
    sorted.sort_by(|a, b| {
        a.period
            .cmp(&b.period)
            .then_with(|| a.tenant.as_deref().cmp(&b.tenant.as_deref()))
            .then_with(|| metric_rank(&a.metric).cmp(&metric_rank(&b.metric)))
    });
    sorted
        .into_iter()
        .map(|p| {
            [
                p.tenant.clone().unwrap_or_else(|| "(org)".to_string()),
                p.period.clone(),
                p.metric.clone(),
                human(&p.metric, p.value),
            ]
        })
        .collect()
}

/// The bar charts: one block per metric present (known metrics in their order, then others
/// by name), blocks separated by an empty line, every line ending in `\n`; empty input
/// gives an empty string.
///
/// A block's title is `metric · scope · total V` (`latest V` for `storage_bytes`, a gauge:
/// the last period's figure), where the scope is the tenant's name when all the metric's
/// points are of one tenant, and `all tenants` otherwise (several tenants, or the org).
/// Then one line per period, oldest first: the period, the bar, the value right-aligned,
/// two spaces apart. A period's value is the sum over tenants. The bar is proportional to
/// the value relative to the largest period (which gets every cell), drawn with `█` and,
/// for the last cell, eighth blocks `▏▎▍▌▋▊▉` (rounded half up to the nearest eighth); zero
/// draws nothing, any other value at least `▏`. The bar gets the cells `width` leaves after
/// the period and value columns, at least 10 (`width` is capped at 1000).
///
/// When every period is a day (`YYYY-MM-DD`), or every period a month (`YYYY-MM`), the
/// periods without data between the first and the last show as zero rows, so gaps show
/// (unless that would make more than 1000 rows). Other periods are not filled in and sort
/// as text.
///
/// With `color`, bars are painted ([`Style::Hint`]) and titles bold ([`Style::Bold`]);
/// without, there is no escape code at all. Padding is never painted, so removing the
/// escape codes gives exactly the output without colour.
pub fn render_charts(points: &[UsagePoint], width: usize, color: bool) -> String {
    let metrics: BTreeSet<&str> = points.iter().map(|p| p.metric.as_str()).collect();
    let mut metrics: Vec<&str> = metrics.into_iter().collect();
    metrics.sort_by_key(|m| metric_rank(m));
    metrics
        .into_iter()
        .map(|metric| {
            let of_metric: Vec<&UsagePoint> =
                points.iter().filter(|p| p.metric == metric).collect();
            chart(metric, &of_metric, width, color)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Where a metric sorts: known metrics by their place, then the others by name.
fn metric_rank(metric: &str) -> (usize, &str) {
    match METRICS.iter().position(|m| m.as_str() == metric) {
        Some(i) => (i, ""),
        None => (METRICS.len(), metric),
    }
}

/// [`human`] for sums over tenants, which may pass `u64::MAX`.
fn human_wide(metric: &str, value: u128) -> String {
    if BYTES_METRICS.contains(&metric) {
        if value < 1_000 {
            format!("{value} B")
        } else {
            scaled(value, &BYTE_UNITS)
        }
    } else if value < 1_000_000 {
        group_thousands(value)
    } else {
        scaled(value, &COUNT_UNITS)
    }
}

/// `value` in the first unit where it shows as 1.00 to 999 with three significant digits
/// (the caller makes sure it is at least the first unit); past the last unit, the rounded
/// whole number of it with separators.
fn scaled(value: u128, units: &[(u128, &str)]) -> String {
    for &(unit, name) in units {
        for decimals in [2u32, 1, 0] {
            let step = unit / 10u128.pow(decimals);
            let digits = round_div(value, step);
            if digits < 1_000 {
                return match decimals {
                    2 => format!("{}.{:02} {name}", digits / 100, digits % 100),
                    1 => format!("{}.{} {name}", digits / 10, digits % 10),
                    _ => format!("{digits} {name}"),
                };
            }
        }
    }
    match units.last() {
        Some(&(unit, name)) => format!("{} {name}", group_thousands(round_div(value, unit))),
        None => group_thousands(value),
    }
}

/// `n / d` rounded half up, without overflow; 0 when `d` is 0.
fn round_div(n: u128, d: u128) -> u128 {
    if d == 0 {
        return 0;
    }
    let (q, r) = (n / d, n % d);
    if r >= d - r { q + 1 } else { q }
}

/// `1234567` → `1,234,567`.
fn group_thousands(value: u128) -> String {
    let digits = value.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// One metric's block (its points are all of that metric).
fn chart(metric: &str, points: &[&UsagePoint], width: usize, color: bool) -> String {
    let mut tenants: BTreeSet<Option<&str>> = BTreeSet::new();
    let mut by_period: BTreeMap<&str, u128> = BTreeMap::new();
    for p in points {
        tenants.insert(p.tenant.as_deref());
        let sum = by_period.entry(p.period.as_str()).or_insert(0);
        *sum = sum.saturating_add(u128::from(p.value));
    }
    let series = fill_gaps(&by_period);

    let scope = match tenants.first() {
        Some(Some(tenant)) if tenants.len() == 1 => *tenant,
        _ => "all tenants",
    };
    let figure = if metric == GAUGE {
        let latest = series.last().map_or(0, |(_, v)| *v);
        format!("latest {}", human_wide(metric, latest))
    } else {
        let total = series.iter().fold(0u128, |t, (_, v)| t.saturating_add(*v));
        format!("total {}", human_wide(metric, total))
    };
    let mut out = Style::Bold.paint(&format!("{metric} · {scope} · {figure}"), color);
    out.push('\n');

    let values: Vec<String> = series.iter().map(|(_, v)| human_wide(metric, *v)).collect();
    let period_width = series
        .iter()
        .map(|(p, _)| p.chars().count())
        .max()
        .unwrap_or(0);
    let value_width = values.iter().map(|v| v.chars().count()).max().unwrap_or(0);
    let cells = bar_cells(width, period_width, value_width);
    let max = series.iter().map(|(_, v)| *v).max().unwrap_or(0);

    for ((period, value), shown) in series.iter().zip(&values) {
        let bar = bar(*value, max, cells);
        let bar_len = bar.chars().count();
        out.push_str(period);
        push_spaces(
            &mut out,
            period_width.saturating_sub(period.chars().count()) + 2,
        );
        if !bar.is_empty() {
            out.push_str(&Style::Hint.paint(&bar, color));
        }
        push_spaces(&mut out, cells.saturating_sub(bar_len) + 2);
        push_spaces(&mut out, value_width.saturating_sub(shown.chars().count()));
        out.push_str(shown);
        out.push('\n');
    }
    out
}

/// The bar's cells: what `width` leaves after the period and value columns and the two
/// two-space gaps, at least [`MIN_BAR_CELLS`].
fn bar_cells(width: usize, period_width: usize, value_width: usize) -> usize {
    let used = period_width.saturating_add(value_width).saturating_add(4);
    width.min(MAX_WIDTH).saturating_sub(used).max(MIN_BAR_CELLS)
}

fn push_spaces(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

/// The bar of `value` where `max` fills `cells` cells.
fn bar(value: u128, max: u128, cells: usize) -> String {
    let eighths = bar_eighths(value, max, cells);
    let mut bar: String = std::iter::repeat_n(FULL_BLOCK, eighths / 8).collect();
    if let Some(partial) = (eighths % 8).checked_sub(1).and_then(|i| EIGHTHS.get(i)) {
        bar.push(*partial);
    }
    bar
}

/// `value / max` of `cells × 8` eighths, rounded half up; 0 for 0, at least 1 otherwise,
/// never more than all of them.
fn bar_eighths(value: u128, max: u128, cells: usize) -> usize {
    if value == 0 || max == 0 {
        return 0;
    }
    let total = cells.saturating_mul(8);
    let value = value.min(max);
    // Keep `value × total × 2` within u128: drop low bits both share, which moves the
    // proportion by far less than an eighth.
    let shift = (128 - max.leading_zeros()).saturating_sub(96);
    let (value, max) = (value >> shift, max >> shift);
    let wide_total = u128::try_from(total).unwrap_or(u128::MAX).min(1 << 30);
    let eighths = round_div(value.saturating_mul(wide_total), max);
    usize::try_from(eighths)
        .unwrap_or(total)
        .clamp(1, total.max(1))
}

/// How periods are spelled, when they all are dates of one kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Calendar {
    /// `YYYY-MM-DD`.
    Day,
    /// `YYYY-MM`.
    Month,
}

impl Calendar {
    fn parse(self, period: &str) -> Option<Date> {
        let b = period.as_bytes();
        let (len, dashes): (usize, &[usize]) = match self {
            Calendar::Day => (10, &[4, 7]),
            Calendar::Month => (7, &[4]),
        };
        let well_formed = b.len() == len
            && b.iter().enumerate().all(|(i, c)| {
                if dashes.contains(&i) {
                    *c == b'-'
                } else {
                    c.is_ascii_digit()
                }
            });
        if !well_formed {
            return None;
        }
        let year: i32 = period.get(0..4)?.parse().ok()?;
        let month = Month::try_from(period.get(5..7)?.parse::<u8>().ok()?).ok()?;
        let day: u8 = match self {
            Calendar::Day => period.get(8..10)?.parse().ok()?,
            Calendar::Month => 1,
        };
        Date::from_calendar_date(year, month, day).ok()
    }

    fn format(self, date: Date) -> String {
        match self {
            Calendar::Day => format!(
                "{:04}-{:02}-{:02}",
                date.year(),
                u8::from(date.month()),
                date.day()
            ),
            Calendar::Month => format!("{:04}-{:02}", date.year(), u8::from(date.month())),
        }
    }

    /// The next period's first day; `None` past the calendar's end.
    fn next(self, date: Date) -> Option<Date> {
        match self {
            Calendar::Day => date.next_day(),
            Calendar::Month => {
                let year = if date.month() == Month::December {
                    date.year().checked_add(1)?
                } else {
                    date.year()
                };
                Date::from_calendar_date(year, date.month().next(), 1).ok()
            }
        }
    }
}

/// The periods oldest first with their sums, calendar gaps filled with zeros when every
/// period is a day, or every period a month; otherwise the periods with data, as text.
fn fill_gaps(by_period: &BTreeMap<&str, u128>) -> Vec<(String, u128)> {
    let as_text = || {
        by_period
            .iter()
            .map(|(p, v)| ((*p).to_string(), *v))
            .collect()
    };
    let Some(calendar) = [Calendar::Day, Calendar::Month]
        .into_iter()
        .find(|c| by_period.keys().all(|p| c.parse(p).is_some()))
    else {
        return as_text();
    };
    let by_date: BTreeMap<Date, u128> = by_period
        .iter()
        .filter_map(|(p, v)| Some((calendar.parse(p)?, *v)))
        .collect();
    let (Some((&first, _)), Some((&last, _))) =
        (by_date.first_key_value(), by_date.last_key_value())
    else {
        return as_text();
    };
    let mut filled = Vec::new();
    let mut date = first;
    loop {
        if filled.len() >= MAX_FILLED_PERIODS {
            return as_text();
        }
        filled.push((
            calendar.format(date),
            by_date.get(&date).copied().unwrap_or(0),
        ));
        if date >= last {
            return filled;
        }
        match calendar.next(date) {
            Some(next) => date = next,
            None => return as_text(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(tenant: Option<&str>, period: &str, metric: &str, value: u64) -> UsagePoint {
        UsagePoint {
            tenant: tenant.map(str::to_string),
            period: period.to_string(),
            metric: metric.to_string(),
            value,
        }
    }

    /// Compares a rendering with its fixture; with `TOK_UPDATE_SNAPSHOTS=1`, rewrites the
    /// fixture instead (then rerun).
    fn assert_snapshot(name: &str, expected: &str, actual: &str) {
        if actual == expected {
            return;
        }
        if std::env::var_os("TOK_UPDATE_SNAPSHOTS").is_some() {
            let path = format!(
                "{}/tests/fixtures/usage/{name}.txt",
                env!("CARGO_MANIFEST_DIR")
            );
            std::fs::write(&path, actual).unwrap();
            panic!("snapshot {name} rewritten at {path}: rerun the tests");
        }
        panic!(
            "snapshot {name} differs (set TOK_UPDATE_SNAPSHOTS=1 to rewrite \
             tests/fixtures/usage/{name}.txt)\n--- expected ---\n{expected}--- actual ---\n\
             {actual}--- end ---\nexpected (debug): {expected:?}\nactual (debug):   {actual:?}"
        );
    }

    /// Removes `ESC [ … m` sequences.
    fn strip_ansi(s: &str) -> String {
        let mut out = String::new();
        let mut chars = s.chars();
        while let Some(c) = chars.next() {
            if c == '\x1b' {
                for d in chars.by_ref() {
                    if d == 'm' {
                        break;
                    }
                }
            } else {
                out.push(c);
            }
        }
        out
    }

    /// 14 days of acme's `bytes_in`, 2026-11-01 to 2026-11-14, without 11-06, a spike on
    /// 11-10 and a quiet 11-13; given out of order.
    fn acme_days() -> Vec<UsagePoint> {
        let values: [(u32, u64); 13] = [
            (1, 1_180_000_000),
            (2, 1_250_000_000),
            (3, 1_310_500_000),
            (4, 1_205_000_000),
            (5, 980_000_000),
            (7, 1_120_000_000),
            (8, 1_400_000_000),
            (9, 1_350_000_000),
            (10, 5_870_000_000),
            (11, 1_510_000_000),
            (12, 1_290_000_000),
            (13, 310_000),
            (14, 1_330_000_000),
        ];
        let mut points: Vec<UsagePoint> = values
            .iter()
            .map(|(d, v)| point(Some("acme"), &format!("2026-11-{d:02}"), "bytes_in", *v))
            .collect();
        points.reverse();
        points
    }

    /// Three tenants' worth of figures over 2026-11-28 to 2026-12-02 (across a month end),
    /// metrics given out of display order.
    fn multi() -> Vec<UsagePoint> {
        vec![
            point(None, "2026-11-28", "api_calls", 1_204),
            point(Some("acme"), "2026-11-28", "api_calls", 310),
            point(None, "2026-11-29", "api_calls", 980),
            point(None, "2026-12-01", "api_calls", 2_750),
            point(Some("globex"), "2026-12-02", "api_calls", 44),
            point(None, "2026-11-28", "tokens_issued", 12),
            point(None, "2026-12-02", "tokens_issued", 3),
            point(Some("acme"), "2026-11-28", "messages_in", 1_250_000),
            point(Some("globex"), "2026-11-28", "messages_in", 430_500),
            point(Some("acme"), "2026-11-29", "messages_in", 1_410_000),
            point(Some("globex"), "2026-11-29", "messages_in", 512_000),
            point(Some("acme"), "2026-11-30", "messages_in", 0),
            point(Some("acme"), "2026-12-01", "messages_in", 2_030_000),
            point(Some("globex"), "2026-12-01", "messages_in", 77_000),
            point(Some("acme"), "2026-12-02", "messages_in", 1_980_000),
            point(Some("acme"), "2026-11-28", "storage_bytes", 52_000_000_000),
            point(Some("globex"), "2026-11-28", "storage_bytes", 7_400_000_000),
            point(Some("acme"), "2026-11-29", "storage_bytes", 54_100_000_000),
            point(Some("globex"), "2026-11-29", "storage_bytes", 7_450_000_000),
            point(Some("acme"), "2026-11-30", "storage_bytes", 54_100_000_000),
            point(Some("globex"), "2026-11-30", "storage_bytes", 7_500_000_000),
            point(Some("acme"), "2026-12-01", "storage_bytes", 58_800_000_000),
            point(Some("globex"), "2026-12-01", "storage_bytes", 7_700_000_000),
            point(Some("acme"), "2026-12-02", "storage_bytes", 61_500_000_000),
            point(Some("globex"), "2026-12-02", "storage_bytes", 7_900_000_000),
        ]
    }

    /// acme's stored bytes by month, 2025-10 to 2026-04, no figure for 2026-01.
    fn acme_months() -> Vec<UsagePoint> {
        [
            ("2025-10", 12_000_000_000u64),
            ("2025-11", 18_500_000_000),
            ("2025-12", 24_200_000_000),
            ("2026-02", 31_000_000_000),
            ("2026-03", 29_750_000_000),
            ("2026-04", 40_100_000_000),
        ]
        .iter()
        .map(|(m, v)| point(Some("acme"), m, "storage_bytes", *v))
        .collect()
    }

    #[test]
    fn snapshot_days_with_gap_and_spike() {
        let actual = render_charts(&acme_days(), 80, false);
        assert_snapshot(
            "chart_days",
            include_str!("../../../tests/fixtures/usage/chart_days.txt"),
            &actual,
        );
    }

    #[test]
    fn snapshot_several_tenants_and_metrics() {
        let actual = render_charts(&multi(), 80, false);
        assert_snapshot(
            "chart_multi",
            include_str!("../../../tests/fixtures/usage/chart_multi.txt"),
            &actual,
        );
    }

    #[test]
    fn snapshot_months_across_a_year() {
        let actual = render_charts(&acme_months(), 80, false);
        assert_snapshot(
            "chart_months",
            include_str!("../../../tests/fixtures/usage/chart_months.txt"),
            &actual,
        );
    }

    #[test]
    fn color_paints_bars_and_titles_only() {
        for points in [acme_days(), multi(), acme_months()] {
            let plain = render_charts(&points, 80, false);
            let painted = render_charts(&points, 80, true);
            assert!(!plain.contains('\x1b'), "{plain}");
            assert!(painted.contains("\x1b[36m█"), "{painted:?}");
            assert!(painted.contains("\x1b[1m"), "{painted:?}");
            assert!(painted.contains("\x1b[0m"), "{painted:?}");
            assert_eq!(strip_ansi(&painted), plain);
        }
    }

    #[test]
    fn every_line_fits_the_width() {
        for width in [40, 60, 80, 120, 200] {
            for points in [acme_days(), multi(), acme_months()] {
                let out = render_charts(&points, width, false);
                for line in out.lines().filter(|l| l.contains("  ")) {
                    assert!(
                        line.chars().count() <= width,
                        "width {width}: {} > {width}: {line}",
                        line.chars().count()
                    );
                }
                // The largest period fills the bar: the line is exactly the width.
                let longest = out
                    .lines()
                    .filter(|l| l.contains("  "))
                    .map(|l| l.chars().count())
                    .max()
                    .unwrap();
                assert_eq!(longest, width, "{out}");
            }
        }
    }

    #[test]
    fn human_counts() {
        let cases: [(u64, &str); 14] = [
            (0, "0"),
            (7, "7"),
            (999, "999"),
            (1_000, "1,000"),
            (12_345, "12,345"),
            (999_999, "999,999"),
            (1_000_000, "1.00 M"),
            (1_234_567, "1.23 M"),
            (1_235_000, "1.24 M"),
            (45_600_000, "45.6 M"),
            (999_499_999, "999 M"),
            (999_500_000, "1.00 B"),
            (1_200_000_000, "1.20 B"),
            (u64::MAX, "18.4 Qi"),
        ];
        for (value, shown) in cases {
            assert_eq!(human("messages_in", value), shown, "{value}");
        }
        assert_eq!(human("api_calls", 999_999), "999,999");
        assert_eq!(human("some_new_metric", 2_000_000), "2.00 M");
    }

    #[test]
    fn human_bytes() {
        let cases: [(u64, &str); 14] = [
            (0, "0 B"),
            (999, "999 B"),
            (1_000, "1.00 kB"),
            (1_005, "1.01 kB"),
            (9_994, "9.99 kB"),
            (9_995, "10.0 kB"),
            (99_950, "100 kB"),
            (999_499, "999 kB"),
            (999_500, "1.00 MB"),
            (999_999, "1.00 MB"),
            (12_300_000, "12.3 MB"),
            (1_234_567_890, "1.23 GB"),
            (4_560_000_000_000, "4.56 TB"),
            (u64::MAX, "18.4 EB"),
        ];
        for (value, shown) in cases {
            assert_eq!(human("bytes_in", value), shown, "{value}");
        }
        assert_eq!(human("bytes_out", 1_000_000_000), "1.00 GB");
        assert_eq!(human("storage_bytes", 999), "999 B");
    }

    #[test]
    fn human_wide_past_the_units() {
        let max = u128::MAX;
        assert_eq!(human_wide("bytes_in", max), "340,282,367 QB");
        assert_eq!(
            human_wide("messages_in", max),
            "340,282,366,920,938,463,463 Qi"
        );
        assert_eq!(human_wide("bytes_in", 2 * u128::from(u64::MAX)), "36.9 EB");
    }

    #[test]
    fn table_rows_sorted_and_human() {
        let points = vec![
            point(Some("globex"), "2026-11-02", "bytes_in", 1_500),
            point(Some("acme"), "2026-11-02", "api_calls", 5),
            point(Some("acme"), "2026-11-02", "messages_in", 2_000_000),
            point(None, "2026-11-02", "tokens_issued", 4),
            point(Some("acme"), "2026-11-01", "zz_custom", 1),
            point(Some("acme"), "2026-11-01", "storage_bytes", 3_000),
        ];
        let rows = table_rows(&points);
        let expected: Vec<[&str; 4]> = vec![
            ["acme", "2026-11-01", "storage_bytes", "3.00 kB"],
            ["acme", "2026-11-01", "zz_custom", "1"],
            ["(org)", "2026-11-02", "tokens_issued", "4"],
            ["acme", "2026-11-02", "messages_in", "2.00 M"],
            ["acme", "2026-11-02", "api_calls", "5"],
            ["globex", "2026-11-02", "bytes_in", "1.50 kB"],
        ];
        let rows: Vec<[&str; 4]> = rows
            .iter()
            .map(|r| [r[0].as_str(), r[1].as_str(), r[2].as_str(), r[3].as_str()])
            .collect();
        assert_eq!(rows, expected);
        assert!(table_rows(&[]).is_empty());
    }

    #[test]
    fn bar_proportions() {
        // The largest value gets every cell.
        assert_eq!(bar(1_000, 1_000, 20), "█".repeat(20));
        assert_eq!(
            bar_eighths(u128::from(u64::MAX), u128::from(u64::MAX), 59),
            59 * 8
        );
        // Half gets half, within an eighth.
        for cells in [10, 11, 37, 59, 1000] {
            for max in [2u128, 1_000, 999_999_999, u128::from(u64::MAX), u128::MAX] {
                let half = bar_eighths(max / 2, max, cells);
                let exact = cells * 4;
                assert!(
                    half.abs_diff(exact) <= 1,
                    "{cells} {max}: {half} vs {exact}"
                );
            }
        }
        // Zero draws nothing; the tiniest value still shows.
        assert_eq!(bar(0, 1_000, 20), "");
        assert_eq!(bar(1, u128::from(u64::MAX), 20), "▏");
        assert_eq!(bar(0, 0, 20), "");
    }

    #[test]
    fn eighth_blocks_round_half_up() {
        // One cell of 8 eighths, max 16: each 2 of value is an eighth.
        let shown: Vec<String> = (0..=16).map(|v| bar(v, 16, 1)).collect();
        assert_eq!(
            shown,
            [
                "", "▏", "▏", "▎", "▎", "▍", "▍", "▌", "▌", "▋", "▋", "▊", "▊", "▉", "▉", "█", "█"
            ]
        );
        // 1 of 16 is half an eighth: rounds up. 3 of 16 is an eighth and a half: two.
        assert_eq!(bar_eighths(1, 16, 1), 1);
        assert_eq!(bar_eighths(3, 16, 1), 2);
        // 2.5 cells of 10.
        assert_eq!(bar(25, 100, 10), "██▌");
        assert_eq!(bar(26, 100, 10), "██▋");
        assert_eq!(bar(27, 100, 10), "██▊");
    }

    #[test]
    fn gaps_filled_by_day_and_month() {
        let days = BTreeMap::from([("2026-02-27", 5u128), ("2026-03-02", 7)]);
        assert_eq!(
            fill_gaps(&days),
            [
                ("2026-02-27".to_string(), 5),
                ("2026-02-28".to_string(), 0),
                ("2026-03-01".to_string(), 0),
                ("2026-03-02".to_string(), 7),
            ]
        );
        let months = BTreeMap::from([("2025-11", 1u128), ("2026-02", 2)]);
        assert_eq!(
            fill_gaps(&months),
            [
                ("2025-11".to_string(), 1),
                ("2025-12".to_string(), 0),
                ("2026-01".to_string(), 0),
                ("2026-02".to_string(), 2),
            ]
        );
        // Leap day.
        let leap = BTreeMap::from([("2028-02-28", 1u128), ("2028-03-01", 1)]);
        assert_eq!(fill_gaps(&leap).len(), 3);
    }

    #[test]
    fn gaps_left_alone_when_not_all_dates() {
        for periods in [
            vec!["2026-11-01", "2026-11-05", "last week"],
            vec!["2026-11-01", "2026-12"],
            vec!["2026-02-30", "2026-03-02"],
            vec!["2026-13", "2026-01"],
            vec!["2026-1-5", "2026-01-09"],
            vec!["２０２６-11-01", "2026-11-03"],
        ] {
            let map: BTreeMap<&str, u128> = periods.iter().map(|p| (*p, 1)).collect();
            let filled = fill_gaps(&map);
            let expected: Vec<(String, u128)> =
                map.iter().map(|(p, v)| (p.to_string(), *v)).collect();
            assert_eq!(filled, expected, "{periods:?}");
        }
        // A span too long to fill shows the periods with data only.
        let far = BTreeMap::from([("1900-01-01", 1u128), ("2026-01-01", 2)]);
        assert_eq!(fill_gaps(&far).len(), 2);
        let far_months = BTreeMap::from([("0001-01", 1u128), ("9999-12", 2)]);
        assert_eq!(fill_gaps(&far_months).len(), 2);
        // The calendar's last day.
        let end = BTreeMap::from([("9999-12-30", 1u128), ("9999-12-31", 2)]);
        assert_eq!(fill_gaps(&end).len(), 2);
    }

    #[test]
    fn empty_input_renders_nothing() {
        assert_eq!(render_charts(&[], 80, false), "");
        assert_eq!(render_charts(&[], 80, true), "");
    }

    #[test]
    fn single_point() {
        let out = render_charts(
            &[point(Some("acme"), "2026-11-20", "messages_out", 1_234)],
            40,
            false,
        );
        let bar = "█".repeat(40 - 10 - 5 - 4);
        assert_eq!(
            out,
            format!("messages_out · acme · total 1,234\n2026-11-20  {bar}  1,234\n")
        );
    }

    #[test]
    fn org_only_and_zero_only() {
        let out = render_charts(
            &[
                point(None, "2026-11-20", "tokens_issued", 0),
                point(None, "2026-11-22", "tokens_issued", 0),
            ],
            40,
            false,
        );
        // 40 columns: the period, 2 + 25 empty cells + 2, the value.
        let gap = " ".repeat(29);
        assert_eq!(
            out,
            format!(
                "tokens_issued · all tenants · total 0\n\
                 2026-11-20{gap}0\n2026-11-21{gap}0\n2026-11-22{gap}0\n"
            )
        );
    }

    #[test]
    fn gauge_says_latest_and_sums_tenants() {
        let out = render_charts(
            &[
                point(Some("acme"), "2026-11", "storage_bytes", 5_000),
                point(Some("acme"), "2026-12", "storage_bytes", 2_000),
                point(Some("globex"), "2026-12", "storage_bytes", 1_000),
            ],
            80,
            false,
        );
        assert!(
            out.starts_with("storage_bytes · all tenants · latest 3.00 kB\n"),
            "{out}"
        );
    }

    #[test]
    fn tiny_huge_and_odd_inputs_do_not_panic() {
        let points = vec![
            point(Some("a"), "2026-11-01", "bytes_in", u64::MAX),
            point(Some("b"), "2026-11-01", "bytes_in", u64::MAX),
            point(Some("a"), "2026-11-03", "bytes_in", 1),
            point(Some("a"), "not a date", "messages_in", u64::MAX),
            point(Some("a"), "", "messages_in", 0),
            point(None, "2026-11-01", "", 3),
            point(Some("ü"), "2026-11-01", "weird metric ✓", 1),
        ];
        for width in [0, 1, 5, 14, 80, usize::MAX] {
            for color in [false, true] {
                let out = render_charts(&points, width, color);
                assert!(
                    out.contains("bytes_in · all tenants · total 36.9 EB"),
                    "{out}"
                );
                // The minimum bar: 10 cells of full blocks for the largest period.
                assert!(out.contains(&"█".repeat(10)), "{out}");
                if width == usize::MAX {
                    assert!(
                        out.lines()
                            .all(|l| strip_ansi(l).chars().count() <= MAX_WIDTH)
                    );
                }
            }
        }
        let tiny = render_charts(
            &[point(Some("acme"), "2026-11-01", "bytes_in", 5)],
            0,
            false,
        );
        assert_eq!(
            tiny,
            "bytes_in · acme · total 5 B\n2026-11-01  ██████████  5 B\n"
        );
    }
}
