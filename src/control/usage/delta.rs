//! Scraped Prometheus counters → per-UTC-day increases (issue 7).
//!
//! A Pulsar broker exposes cumulative counters per topic or namespace, labelled with
//! `tenant` and `namespace` (`pulsar_in_messages_total`, `pulsar_out_messages_total`,
//! `pulsar_in_bytes_total`, `pulsar_out_bytes_total`, …). `tok usage collect` scrapes them
//! every few seconds; this module turns successive scrapes of one series into how much the
//! counter grew on each UTC day. Mapping metric names and recording the results is the
//! caller's business.
//!
//! Everything here is pure: time is a parameter (Unix seconds, UTC — there is no local
//! time anywhere), nothing reads a clock or does I/O.
//!
//! The rules, in one place:
//!
//! - **Values are integers.** The exposition format carries floats, but these counters
//!   count messages and bytes; the caller rounds and validates them into `u64`.
//! - **A decrease is a reset** (a broker restart starts its counters from zero), so the
//!   increase across a decrease is the new value ([`increase`]).
//! - **The first sample of a series counts nothing**: what happened before it was scraped is
//!   unknown (the broker may have been up for a year), so it only sets the baseline.
//! - **A sample not newer than the series' last one is ignored** (out of order or repeated).
//! - **Gaps are spread over the days they cover**, in proportion to the seconds of the gap in
//!   each day ([`split_by_day`]); the total is preserved exactly.
//!
//! Gauges such as `pulsar_storage_size` (billed per GB-month) are not handled here: they are
//! not increases of anything, and the caller records the last value seen on each day.

use std::collections::HashMap;
use std::hash::Hash;

/// Seconds in a UTC day (Unix time has no leap seconds).
pub const SECONDS_PER_DAY: i64 = 86_400;

/// One scrape of one counter series: its value at Unix time `at` (seconds, UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample {
    pub at: i64,
    pub value: u64,
}

/// The UTC day number of Unix time `at`: day 0 is 1970-01-01, day −1 is 1969-12-31.
pub fn day_of(at: i64) -> i64 {
    at.div_euclid(SECONDS_PER_DAY)
}

/// The Unix time of midnight UTC that starts `day` (saturating far outside any real date).
pub fn day_start(day: i64) -> i64 {
    day.saturating_mul(SECONDS_PER_DAY)
}

/// How much a counter grew between a scrape reading `prev` and the next reading `next`.
///
/// A counter never decreases, so a decrease means it was reset (broker restart) and counted
/// again from zero: the increase is then `next` itself. (A reset followed by growth past the
/// old value before the next scrape cannot be told apart from ordinary growth; scraping
/// often is the only cure.)
pub fn increase(prev: u64, next: u64) -> u64 {
    if next >= prev { next - prev } else { next }
}

/// Attributes `amount`, which accrued between Unix times `from` and `to`, to the UTC days
/// the interval covers, in proportion to the seconds of the interval falling in each day.
///
/// - The interval is half-open, `[from, to)`: a scrape at exactly midnight closes the day
///   that ends there, so `from` = midnight of day D and `to` = midnight of day D+1 puts
///   everything on day D and nothing on D+1.
/// - Shares are exact integers that sum to `amount`: each day gets the floor of its exact
///   proportional share, and the units left over go, one each, to the days with the largest
///   fractional remainders (largest remainder method); among equal remainders the later day
///   wins. Every share is therefore the floor or the ceiling of its exact share.
/// - Days whose share is zero are omitted, so `amount == 0` gives an empty vector. The
///   result is sorted by day, each day at most once, all within
///   `[day_of(from), day_of(to)]`, and has at most `min(days covered, amount)` entries.
/// - `to <= from` (no elapsed time): all of `amount` goes to `day_of(to)`.
///
/// Arithmetic is done in 128 bits, so no timestamps or amounts overflow or panic.
pub fn split_by_day(from: i64, to: i64, amount: u64) -> Vec<(i64, u64)> {
    if amount == 0 {
        return Vec::new();
    }
    if to <= from {
        return vec![(day_of(to), amount)];
    }
    let first_day = day_of(from);
    // The last second inside [from, to); `to - 1` cannot overflow since to > from.
    let last_day = day_of(to - 1);
    if first_day == last_day {
        return vec![(first_day, amount)];
    }

    let day = i128::from(SECONDS_PER_DAY);
    let total = i128::from(to) - i128::from(from);
    // Seconds of the interval in its first, last and (each of its) middle days; all > 0.
    let first_secs = (i128::from(first_day) + 1) * day - i128::from(from);
    let last_secs = i128::from(to) - i128::from(last_day) * day;
    let middle_days = i128::from(last_day) - i128::from(first_day) - 1;

    let total = as_u128(total);
    let amount_wide = u128::from(amount);
    // amount < 2^64 and every span < 2^64, so these products fit in u128.
    let share = |secs: i128| {
        let exact = amount_wide * as_u128(secs);
        (exact / total, exact % total)
    };
    let (first_q, first_r) = share(first_secs);
    let (last_q, last_r) = share(last_secs);
    let (mid_q, mid_r) = share(day);
    let middle = as_u128(middle_days);

    // Units left after flooring: sum of remainders / total, so fewer than the days covered.
    let floors = first_q + last_q + mid_q * middle;
    let mut leftover = amount_wide - floors;

    // Largest remainder, ties to the later day: rank the groups by remainder, descending;
    // the stable sort keeps the day-descending order (last, middle, first) among equals.
    #[derive(Clone, Copy)]
    enum Group {
        Last,
        Middle,
        First,
    }
    let mut groups = [
        (last_r, Group::Last),
        (mid_r, Group::Middle),
        (first_r, Group::First),
    ];
    groups.sort_by_key(|g| std::cmp::Reverse(g.0));
    let (mut first_bonus, mut last_bonus, mut middle_bonus) = (0u128, 0u128, 0u128);
    for (_, group) in groups {
        let room = match group {
            Group::Last | Group::First => 1,
            Group::Middle => middle,
        };
        let given = leftover.min(room);
        leftover -= given;
        match group {
            Group::Last => last_bonus = given,
            Group::Middle => middle_bonus = given,
            Group::First => first_bonus = given,
        }
    }
    debug_assert_eq!(leftover, 0);

    let mut out = Vec::new();
    let mut push = |day: i64, units: u128| {
        if units > 0 {
            // Every share is at most `amount`, which is a u64.
            out.push((day, u64::try_from(units).unwrap_or(u64::MAX)));
        }
    };
    push(first_day, first_q + first_bonus);
    if mid_q > 0 {
        // Every middle day has a share; the bonuses go to the latest `middle_bonus` of them.
        let bonus_from = last_day - as_i64(middle_bonus);
        for d in first_day + 1..last_day {
            push(d, mid_q + u128::from(d >= bonus_from));
        }
    } else {
        // Only the bonused (latest) middle days are non-zero: at most `amount` of them, so a
        // small amount over an absurdly long gap stays a short vector.
        for d in last_day - as_i64(middle_bonus)..last_day {
            push(d, 1);
        }
    }
    push(last_day, last_q + last_bonus);
    out
}

/// A non-negative i128 known to fit (spans of two i64s) as u128.
fn as_u128(v: i128) -> u128 {
    u128::try_from(v).unwrap_or(0)
}

/// A count of middle days (fewer than the days between two i64 times) as i64.
fn as_i64(v: u128) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// The last sample of every counter series seen, turning each new scrape into per-day
/// increases. A series key is whatever identifies a series to the caller (metric name plus
/// labels, typically); the default is a `String`.
#[derive(Debug, Clone)]
pub struct CounterTracker<K = String> {
    last: HashMap<K, Sample>,
}

impl<K> Default for CounterTracker<K> {
    fn default() -> Self {
        Self {
            last: HashMap::new(),
        }
    }
}

impl<K: Hash + Eq> CounterTracker<K> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records `sample` for series `key` and returns how much the series grew on each UTC day
    /// since its previous sample (see [`split_by_day`]: sorted by day, zero days omitted).
    ///
    /// Returns nothing, and:
    /// - on the first sample of a series, keeps it as the baseline (earlier history is
    ///   unknown and is not counted);
    /// - on a sample not newer than the series' last one, ignores it entirely (the last
    ///   sample stays as it was).
    pub fn observe(&mut self, key: K, sample: Sample) -> Vec<(i64, u64)> {
        match self.last.get_mut(&key) {
            None => {
                self.last.insert(key, sample);
                Vec::new()
            }
            Some(prev) if sample.at <= prev.at => Vec::new(),
            Some(prev) => {
                let from = prev.at;
                let amount = increase(prev.value, sample.value);
                *prev = sample;
                split_by_day(from, sample.at, amount)
            }
        }
    }

    /// The last sample kept for series `key`, if any.
    pub fn last(&self, key: &K) -> Option<Sample> {
        self.last.get(key).copied()
    }

    /// Drops the series whose last sample is older than `at` (a series seen at exactly `at`
    /// stays). A dropped series that comes back starts over with a fresh baseline.
    pub fn forget_older_than(&mut self, at: i64) {
        self.last.retain(|_, s| s.at >= at);
    }

    /// How many series are tracked.
    pub fn len(&self) -> usize {
        self.last.len()
    }

    pub fn is_empty(&self) -> bool {
        self.last.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    const DAY: i64 = SECONDS_PER_DAY;

    /// `(from, to, amount, [(day offset, share)], why)`.
    type SplitCase = (i64, i64, u64, &'static [(i64, u64)], &'static str);
    /// 2024-03-10T00:00:00Z, a Sunday — and a DST change in the US, which must not matter.
    const D0: i64 = 1_710_028_800;

    fn s(at: i64, value: u64) -> Sample {
        Sample { at, value }
    }

    fn sum(parts: &[(i64, u64)]) -> u128 {
        parts.iter().map(|&(_, v)| u128::from(v)).sum()
    }

    /// The obvious, slow version: walk every day, floor, hand out the remainder by largest
    /// remainder with ties to the later day. Only for short spans.
    fn reference(from: i64, to: i64, amount: u64) -> Vec<(i64, u64)> {
        if amount == 0 {
            return vec![];
        }
        if to <= from {
            return vec![(day_of(to), amount)];
        }
        let total = u128::try_from(i128::from(to) - i128::from(from)).unwrap();
        let mut rows = Vec::new();
        for d in day_of(from)..=day_of(to - 1) {
            let lo = i128::from(from).max(i128::from(d) * 86_400);
            let hi = i128::from(to).min((i128::from(d) + 1) * 86_400);
            let exact = u128::from(amount) * u128::try_from(hi - lo).unwrap();
            rows.push((d, exact / total, exact % total));
        }
        let mut left = u128::from(amount) - rows.iter().map(|r| r.1).sum::<u128>();
        let mut order: Vec<usize> = (0..rows.len()).collect();
        order.sort_by(|&a, &b| rows[b].2.cmp(&rows[a].2).then(rows[b].0.cmp(&rows[a].0)));
        for i in order {
            if left == 0 {
                break;
            }
            rows[i].1 += 1;
            left -= 1;
        }
        rows.into_iter()
            .filter(|r| r.1 > 0)
            .map(|r| (r.0, u64::try_from(r.1).unwrap()))
            .collect()
    }

    #[test]
    fn day_numbers_are_utc() {
        assert_eq!(day_of(0), 0);
        assert_eq!(day_of(DAY - 1), 0);
        assert_eq!(day_of(DAY), 1);
        assert_eq!(day_of(-1), -1);
        assert_eq!(day_of(-DAY), -1);
        assert_eq!(day_of(-DAY - 1), -2);
        // 2024-03-10 is day 19792 since the epoch, whatever the local zone says.
        assert_eq!(day_of(D0), 19_792);
        assert_eq!(day_of(D0 + 23 * 3600 + 3599), 19_792);
        assert_eq!(day_start(19_792), D0);
        assert_eq!(day_start(-1), -DAY);
        assert_eq!(day_start(day_of(D0 + 12_345)), D0);
        // No overflow at the extremes.
        assert_eq!(day_start(i64::MAX), i64::MAX);
        assert_eq!(day_start(i64::MIN), i64::MIN);
        let _ = day_of(i64::MIN);
        let _ = day_of(i64::MAX);
    }

    #[test]
    fn increase_table() {
        let cases: &[(u64, u64, u64, &str)] = &[
            (0, 0, 0, "idle at zero"),
            (5, 5, 0, "idle"),
            (5, 12, 7, "growth"),
            (0, u64::MAX, u64::MAX, "growth from zero to the top"),
            (12, 3, 3, "reset: counted from zero"),
            (12, 0, 0, "reset to exactly zero"),
            (u64::MAX, 1, 1, "reset from the top"),
        ];
        for &(prev, next, want, why) in cases {
            assert_eq!(increase(prev, next), want, "{why}: {prev} -> {next}");
        }
    }

    #[test]
    fn split_table() {
        let d = day_of(D0);
        // Expected days are offsets from `d`, the day starting at D0.
        let cases: &[SplitCase] = &[
            (D0 + 100, D0 + 160, 60, &[(0, 60)], "within one day"),
            (
                D0 - 60,
                D0 + 60,
                120,
                &[(-1, 60), (0, 60)],
                "across midnight, even",
            ),
            (
                D0 - 30,
                D0 + 90,
                120,
                &[(-1, 30), (0, 90)],
                "across midnight, uneven",
            ),
            (
                D0,
                D0 + DAY,
                1000,
                &[(0, 1000)],
                "midnight to midnight: the day that ends",
            ),
            (
                D0,
                D0 + 2 * DAY,
                1000,
                &[(0, 500), (1, 500)],
                "two whole days",
            ),
            (
                D0 - DAY,
                D0 + 1,
                86_401,
                &[(-1, 86_400), (0, 1)],
                "one second into the day",
            ),
            (
                D0,
                D0,
                7,
                &[(0, 7)],
                "no elapsed time, at midnight: the day of `to`",
            ),
            (D0 + 10, D0 + 10, 7, &[(0, 7)], "no elapsed time"),
            (
                D0 + 10,
                D0 - 10,
                7,
                &[(-1, 7)],
                "backwards: the day of `to`",
            ),
            (D0 - 10, D0 + 10, 0, &[], "nothing to split"),
            (D0 - 1, D0 + 2, 1, &[(0, 1)], "one unit, larger part wins"),
            (
                D0 - 1,
                D0 + 1,
                1,
                &[(0, 1)],
                "one unit, a tie: the later day wins",
            ),
            (
                D0 - 1,
                D0 + 1,
                3,
                &[(-1, 1), (0, 2)],
                "odd amount, a tie: the later day",
            ),
            // 3 days from noon to noon: 12h + 24h + 24h + 12h over 72h.
            (
                D0 + DAY / 2,
                D0 + 3 * DAY + DAY / 2,
                600,
                &[(0, 100), (1, 200), (2, 200), (3, 100)],
                "gap of 3 days",
            ),
            (
                D0 + DAY / 2,
                D0 + 3 * DAY + DAY / 2,
                6,
                &[(0, 1), (1, 2), (2, 2), (3, 1)],
                "small amount over 3 days",
            ),
            // 1/6 each for first and last, 1/3 each for the middle days → 2 units.
            (
                D0 + DAY / 2,
                D0 + 3 * DAY + DAY / 2,
                2,
                &[(1, 1), (2, 1)],
                "2 units over 3 days: zero shares omitted",
            ),
            (
                D0 + DAY / 2,
                D0 + 3 * DAY + DAY / 2,
                1,
                &[(2, 1)],
                "1 unit over 3 days: the later middle day",
            ),
        ];
        for &(from, to, amount, want, why) in cases {
            let want: Vec<(i64, u64)> = want.iter().map(|&(o, v)| (d + o, v)).collect();
            assert_eq!(split_by_day(from, to, amount), want, "{why}");
            assert_eq!(reference(from, to, amount), want, "reference: {why}");
        }
    }

    #[test]
    fn split_with_negative_and_extreme_times_does_not_panic() {
        assert_eq!(split_by_day(-60, 60, 120), vec![(-1, 60), (0, 60)]);
        assert_eq!(split_by_day(-DAY, 0, 9), vec![(-1, 9)]);
        // The whole i64 range: a small amount lands on few days, without allocating per day.
        let parts = split_by_day(i64::MIN, i64::MAX, 3);
        assert_eq!(sum(&parts), 3);
        assert!(parts.len() <= 3);
        let parts = split_by_day(i64::MIN, i64::MAX, u64::MAX >> 40);
        assert_eq!(sum(&parts), u128::from(u64::MAX >> 40));
        let parts = split_by_day(i64::MIN, i64::MIN + 3 * DAY, u64::MAX);
        assert_eq!(sum(&parts), u128::from(u64::MAX));
        assert_eq!(
            split_by_day(i64::MAX, i64::MIN, 5),
            vec![(day_of(i64::MIN), 5)]
        );
        assert_eq!(
            split_by_day(i64::MAX - 1, i64::MAX, 5),
            vec![(day_of(i64::MAX), 5)]
        );
    }

    #[test]
    fn tracker_first_sample_is_a_baseline() {
        let mut t = CounterTracker::new();
        assert!(t.observe("a".to_string(), s(D0, 1_000_000)).is_empty());
        assert_eq!(
            t.observe("a".to_string(), s(D0 + 60, 1_000_010)),
            vec![(day_of(D0), 10)]
        );
        // Another series is independent and starts with its own baseline.
        assert!(t.observe("b".to_string(), s(D0 + 60, 5)).is_empty());
        assert_eq!(t.len(), 2);
    }

    #[test]
    fn tracker_resets_table() {
        let d = day_of(D0);
        // (value at D0 + 60·i, per-day increase expected from that scrape)
        let cases: &[(&str, &[(u64, u64)])] = &[
            (
                "a reset counts the new value",
                &[(100, 0), (150, 50), (20, 20), (30, 10)],
            ),
            (
                "a reset to exactly zero",
                &[(100, 0), (0, 0), (0, 0), (4, 4)],
            ),
            (
                "resets in a row",
                &[(100, 0), (50, 50), (10, 10), (3, 3), (9, 6)],
            ),
            (
                "reset on the first scrape is just a baseline",
                &[(0, 0), (7, 7)],
            ),
            ("flat counter", &[(42, 0), (42, 0), (42, 0)]),
        ];
        for &(why, steps) in cases {
            let mut t: CounterTracker<&str> = CounterTracker::new();
            for (i, &(value, want)) in steps.iter().enumerate() {
                let at = D0 + 60 * i64::try_from(i).unwrap();
                let want: Vec<(i64, u64)> = if want == 0 { vec![] } else { vec![(d, want)] };
                assert_eq!(t.observe("k", s(at, value)), want, "{why}, step {i}");
            }
        }
    }

    #[test]
    fn tracker_gaps_table() {
        let d = day_of(D0);
        let cases: &[SplitCase] = &[
            (D0 + 3600, D0 + 7200, 10, &[(0, 10)], "gap within a day"),
            (
                D0 - 600,
                D0 + 1800,
                40,
                &[(-1, 10), (0, 30)],
                "gap across one midnight",
            ),
            (
                D0 - DAY / 2,
                D0 + DAY + DAY / 2,
                200,
                &[(-1, 50), (0, 100), (1, 50)],
                "gap covering a whole day",
            ),
            (
                D0 + DAY / 2,
                D0 + 3 * DAY + DAY / 2,
                600,
                &[(0, 100), (1, 200), (2, 200), (3, 100)],
                "gap of 3 days",
            ),
            (
                D0,
                D0 + DAY,
                30,
                &[(0, 30)],
                "scrapes at midnight: the day that ends",
            ),
        ];
        for &(from, to, grew, want, why) in cases {
            let mut t = CounterTracker::new();
            assert!(t.observe(1u32, s(from, 1_000)).is_empty());
            let want: Vec<(i64, u64)> = want.iter().map(|&(o, v)| (d + o, v)).collect();
            assert_eq!(t.observe(1u32, s(to, 1_000 + grew)), want, "{why}");
        }
    }

    #[test]
    fn tracker_ignores_stale_samples() {
        let mut t = CounterTracker::new();
        t.observe("k", s(D0 + 100, 50));
        assert!(t.observe("k", s(D0 + 100, 80)).is_empty(), "same time");
        assert!(
            t.observe("k", s(D0 + 40, 10)).is_empty(),
            "older, looks like a reset"
        );
        assert_eq!(
            t.last(&"k"),
            Some(s(D0 + 100, 50)),
            "stale samples leave no trace"
        );
        assert_eq!(t.observe("k", s(D0 + 160, 60)), vec![(day_of(D0), 10)]);
    }

    #[test]
    fn tracker_forgets_quiet_series() {
        let mut t = CounterTracker::new();
        t.observe("old", s(D0, 5));
        t.observe("new", s(D0 + 300, 5));
        t.forget_older_than(D0 + 300);
        assert_eq!(t.len(), 1);
        assert_eq!(t.last(&"old"), None);
        assert!(t.last(&"new").is_some());
        // The forgotten series comes back with a fresh baseline: its growth meanwhile is lost.
        assert!(t.observe("old", s(D0 + 600, 500)).is_empty());
        t.forget_older_than(i64::MAX);
        assert!(t.is_empty());
    }

    #[test]
    fn tracker_negative_times_do_not_panic() {
        let mut t = CounterTracker::new();
        t.observe("k", s(-DAY - 30, 0));
        assert_eq!(
            t.observe("k", s(30, 86_460)),
            vec![(-2, 30), (-1, 86_400), (0, 30)]
        );
        t.observe("x", s(i64::MIN, 0));
        assert_eq!(sum(&t.observe("x", s(i64::MAX, 2))), 2);
    }

    /// Scrape times: a start and positive steps from a second to a few days.
    fn times(n: usize) -> impl Strategy<Value = (i64, Vec<i64>)> {
        (
            -10 * DAY..60 * 365 * DAY,
            proptest::collection::vec(1..4 * DAY, n),
        )
    }

    proptest! {
        #[test]
        fn split_sums_and_stays_in_range(
            from in -3_000_000_000i64..3_000_000_000,
            len in -DAY..40 * DAY,
            amount in any::<u64>(),
        ) {
            let to = from + len;
            let parts = split_by_day(from, to, amount);
            prop_assert_eq!(sum(&parts), u128::from(amount));
            let (lo, hi) = (day_of(from).min(day_of(to)), day_of(from).max(day_of(to)));
            for w in parts.windows(2) {
                prop_assert!(w[0].0 < w[1].0, "sorted, each day once");
            }
            for &(d, v) in &parts {
                prop_assert!(v > 0, "zero shares omitted");
                prop_assert!(lo <= d && d <= hi, "day {} outside [{}, {}]", d, lo, hi);
            }
            prop_assert!(parts.len() as u128 <= u128::from(amount));
            prop_assert_eq!(parts, reference(from, to, amount));
        }

        #[test]
        fn split_shares_are_floor_or_ceiling(
            from in any::<i64>(),
            len in 1i64..20 * DAY,
            amount in any::<u64>(),
        ) {
            let to = from.saturating_add(len);
            prop_assume!(to > from);
            let total = u128::try_from(i128::from(to) - i128::from(from)).unwrap();
            let parts: BTreeMap<i64, u64> = split_by_day(from, to, amount).into_iter().collect();
            prop_assert_eq!(parts.values().map(|&v| u128::from(v)).sum::<u128>(), u128::from(amount));
            for d in day_of(from)..=day_of(to - 1) {
                let lo = i128::from(from).max(i128::from(d) * 86_400);
                let hi = i128::from(to).min((i128::from(d) + 1) * 86_400);
                let exact = u128::from(amount) * u128::try_from(hi - lo).unwrap();
                let got = u128::from(parts.get(&d).copied().unwrap_or(0));
                prop_assert!(got * total + total > exact && got * total < exact + total,
                    "day {}: {} is not floor/ceil of {}/{}", d, got, exact, total);
            }
        }

        #[test]
        fn split_long_spans_match_totals(
            from in any::<i64>(),
            to in any::<i64>(),
            amount in 0u64..10_000,
        ) {
            let parts = split_by_day(from, to, amount);
            prop_assert_eq!(sum(&parts), u128::from(amount));
            prop_assert!(parts.len() as u64 <= amount);
        }

        #[test]
        fn tracker_monotone_counter_totals_last_minus_first(
            (start, steps) in times(30),
            first in 0u64..1 << 50,
            incs in proptest::collection::vec(0u64..1 << 30, 30),
        ) {
            let mut t = CounterTracker::new();
            let (mut at, mut value) = (start, first);
            prop_assert!(t.observe("k", s(at, value)).is_empty(), "first sample yields nothing");
            let mut total = 0u128;
            for (step, inc) in steps.iter().zip(&incs) {
                let prev_at = at;
                at += step;
                value += inc;
                let parts = t.observe("k", s(at, value));
                for &(d, _) in &parts {
                    prop_assert!(day_of(prev_at) <= d && d <= day_of(at));
                }
                total += sum(&parts);
            }
            prop_assert_eq!(total, u128::from(value - first));
        }

        /// Segments between resets: the first counts from its first sample, every later one
        /// (which starts below the previous segment's end) counts from zero. Stale samples
        /// sprinkled in must change nothing.
        #[test]
        fn tracker_with_resets_totals_segment_increases(
            (start, steps) in times(40),
            first in 0u64..1 << 40,
            ops in proptest::collection::vec((0u64..1 << 20, any::<bool>(), any::<u64>(), any::<bool>()), 40),
        ) {
            let mut t = CounterTracker::new();
            let mut at = start;
            let mut value = first;
            prop_assert!(t.observe("k", s(at, value)).is_empty());
            let mut seg_first = first;
            let mut expected = 0u128;
            let mut is_first_seg = true;
            let mut total = 0u128;
            for (step, &(inc, reset, pick, stale)) in steps.iter().zip(&ops) {
                if stale {
                    // A sample at or before the last accepted one, with any value.
                    let old = at - i64::try_from(pick % 1000).unwrap();
                    prop_assert!(t.observe("k", s(old, pick)).is_empty(), "stale sample counted");
                }
                at += step;
                if reset && value > 0 {
                    // Close the segment; restart strictly below the last value.
                    expected += u128::from(if is_first_seg { value - seg_first } else { value });
                    is_first_seg = false;
                    value = pick % value;
                    seg_first = value;
                } else {
                    value += inc;
                }
                total += sum(&t.observe("k", s(at, value)));
            }
            expected += u128::from(if is_first_seg { value - seg_first } else { value });
            prop_assert_eq!(total, expected);
        }

        #[test]
        fn tracker_total_per_day_is_independent_of_scrape_times(
            (start, steps) in times(20),
            rate in 1u64..1000,
        ) {
            // A counter growing at a constant rate per second: each day gets exactly
            // rate × its covered seconds, however the scrapes fall.
            let mut t = CounterTracker::new();
            let mut at = start;
            t.observe((), s(at, 0));
            let mut per_day: BTreeMap<i64, u64> = BTreeMap::new();
            for step in &steps {
                at += step;
                let value = rate * u64::try_from(at - start).unwrap();
                for (d, v) in t.observe((), s(at, value)) {
                    *per_day.entry(d).or_default() += v;
                }
            }
            for (d, v) in per_day {
                let lo = start.max(d * DAY);
                let hi = at.min((d + 1) * DAY);
                prop_assert_eq!(v, rate * u64::try_from(hi - lo).unwrap(), "day {}", d);
            }
        }
    }
}
