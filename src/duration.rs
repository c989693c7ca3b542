//! Durations and instants as operators type them (`30m`, `1d12h`, RFC 3339,
//! `never`) and as people read them ("in 6 days", "3 hours ago").

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The forms `--expires` accepts, for error messages.
pub const EXPIRY_FORMS: &str = "a duration such as 30m, 12h, 7d, 2w, 1y or 1d12h, \
an RFC 3339 timestamp such as 2027-01-31T00:00:00Z, or 'never'";

/// The forms a plain duration accepts, for error messages.
pub const DURATION_FORMS: &str = "a number with a unit: s, m, h, d, w or y (e.g. 30s, 30m, 12h, \
7d, 2w, 1y), or a combination such as 1d12h";

/// When a credential stops being valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    /// No `exp` claim.
    Never,
    /// Unix seconds.
    At(i64),
}

/// Parses a duration into whole seconds. Zero and negative values are rejected.
pub fn parse_duration(input: &str) -> Result<u64, String> {
    duration_secs(input.trim())
        .map_err(|why| format!("invalid duration '{input}': {why}; use {DURATION_FORMS}"))
}

/// Parses `--expires`: a duration from `now`, an RFC 3339 instant in the future, or `never`.
pub fn parse_expiry(input: &str, now: i64) -> Result<Expiry, String> {
    let s = input.trim();
    let bad = |why: &str| format!("invalid expiry '{input}': {why}; use {EXPIRY_FORMS}");
    if s.eq_ignore_ascii_case("never") {
        return Ok(Expiry::Never);
    }
    if s.contains('T') || s.contains(':') {
        let at = OffsetDateTime::parse(s, &Rfc3339)
            .map_err(|e| bad(&format!("not an RFC 3339 timestamp ({e})")))?
            .unix_timestamp();
        if at <= now {
            return Err(bad("it is in the past"));
        }
        return Ok(Expiry::At(at));
    }
    let secs = duration_secs(s).map_err(|why| bad(&why))?;
    // duration_secs caps the value far below i64::MAX.
    Ok(Expiry::At(now.saturating_add(secs as i64)))
}

/// The reason a duration is not valid, or its length in seconds.
fn duration_secs(s: &str) -> Result<u64, String> {
    if s.is_empty() {
        return Err("it is empty".into());
    }
    if s.starts_with('-') {
        return Err("it is negative".into());
    }
    if !s.starts_with(|c: char| c.is_ascii_digit()) {
        return Err("it is not a duration".into());
    }
    let mut total: u64 = 0;
    let mut digits = String::new();
    for c in s.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit: u64 = match c.to_ascii_lowercase() {
            's' => 1,
            'm' => 60,
            'h' => 3_600,
            'd' => 86_400,
            'w' => 7 * 86_400,
            'y' => 365 * 86_400,
            _ => return Err(format!("'{c}' is not a unit, so it is not a duration")),
        };
        if digits.is_empty() {
            return Err(format!("unit '{c}' has no number before it"));
        }
        let n: u64 = digits
            .parse()
            .map_err(|_| "the number is too large".to_string())?;
        total = n
            .checked_mul(unit)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(|| "it is too large".to_string())?;
        digits.clear();
    }
    if !digits.is_empty() {
        return Err(format!("'{digits}' has no unit"));
    }
    if total == 0 {
        return Err("it is zero".into());
    }
    // Keep every instant representable: 1000 years is far beyond any sane expiry.
    if total > 1000 * 365 * 86_400 {
        return Err("it is more than 1000 years".into());
    }
    Ok(total)
}

/// Parses an RFC 3339 instant into Unix seconds.
pub fn parse_instant(input: &str) -> Result<i64, String> {
    OffsetDateTime::parse(input.trim(), &Rfc3339)
        .map(OffsetDateTime::unix_timestamp)
        .map_err(|e| {
            format!("'{input}' is not an RFC 3339 time such as 2026-11-01T00:00:00Z ({e})")
        })
}

/// Seconds as the shortest duration an operator would type back: `90d`, `1d12h`, `45m`.
pub fn format_duration(secs: i64) -> String {
    if secs <= 0 {
        return "0s".into();
    }
    let mut rest = secs;
    let mut out = String::new();
    for (unit, size) in [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)] {
        if rest >= size {
            out.push_str(&format!("{}{unit}", rest / size));
            rest %= size;
        }
    }
    out
}

/// The current time in Unix seconds.
pub fn now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

/// An RFC 3339 UTC timestamp (`2026-11-23T09:32:12Z`); `None` when out of range.
pub fn rfc3339(ts: i64) -> Option<String> {
    OffsetDateTime::from_unix_timestamp(ts)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
}

/// "in 6 days", "3 hours ago", "just now".
pub fn relative(ts: i64, now: i64) -> String {
    let delta = ts - now;
    let secs = delta.unsigned_abs();
    if secs < 45 {
        return "just now".to_string();
    }
    let (n, unit) = match secs {
        s if s < 45 * 60 => (s.div_ceil(60).max(1), "minute"),
        s if s < 22 * 3_600 => ((s + 1_800) / 3_600, "hour"),
        s if s < 26 * 86_400 => ((s + 43_200) / 86_400, "day"),
        s if s < 320 * 86_400 => ((s + 15 * 86_400) / (30 * 86_400), "month"),
        s => ((s + 182 * 86_400) / (365 * 86_400), "year"),
    };
    let plural = if n == 1 { "" } else { "s" };
    if delta > 0 {
        format!("in {n} {unit}{plural}")
    } else {
        format!("{n} {unit}{plural} ago")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_in_every_unit_and_combination() {
        assert_eq!(parse_duration("30s"), Ok(30));
        assert_eq!(parse_duration("30m"), Ok(1_800));
        assert_eq!(parse_duration("12h"), Ok(43_200));
        assert_eq!(parse_duration("7d"), Ok(604_800));
        assert_eq!(parse_duration("2w"), Ok(1_209_600));
        assert_eq!(parse_duration("1y"), Ok(31_536_000));
        assert_eq!(parse_duration("1d12h"), Ok(129_600));
        assert_eq!(parse_duration("1D"), Ok(86_400));
    }

    #[test]
    fn bad_durations_name_the_accepted_forms() {
        for bad in [
            "",
            "0",
            "0d",
            "-1d",
            "7",
            "d",
            "7x",
            "1d2",
            "99999999999999999999d",
            "1001y",
        ] {
            let err = parse_duration(bad).unwrap_err();
            assert!(err.contains("30m"), "{bad}: {err}");
        }
    }

    #[test]
    fn expiry_accepts_durations_timestamps_and_never() {
        let now = 1_700_000_000;
        assert_eq!(parse_expiry("never", now), Ok(Expiry::Never));
        assert_eq!(parse_expiry("1h", now), Ok(Expiry::At(now + 3_600)));
        assert_eq!(
            parse_expiry("2033-05-18T03:33:20Z", now),
            Ok(Expiry::At(2_000_000_000))
        );
    }

    #[test]
    fn expiry_rejects_zero_negative_past_and_malformed() {
        let now = 1_700_000_000;
        let cases = [
            ("0d", "zero"),
            ("-1d", "negative"),
            ("2020-01-01T00:00:00Z", "past"),
            ("2023-11-14T22:13:20Z", "past"),
            ("soon", "not a duration"),
            ("2027-13-01T00:00:00Z", "RFC 3339"),
        ];
        for (input, why) in cases {
            let err = parse_expiry(input, now).unwrap_err();
            assert!(err.contains(why), "{input}: {err}");
            assert!(err.contains("never"), "{input}: {err}");
        }
    }

    #[test]
    fn relative_times_read_naturally() {
        let now = 1_700_000_000;
        assert_eq!(relative(now, now), "just now");
        assert_eq!(relative(now + 6 * 86_400, now), "in 6 days");
        assert_eq!(relative(now - 3 * 3_600, now), "3 hours ago");
        assert_eq!(relative(now + 60, now), "in 1 minute");
        assert_eq!(relative(now - 400 * 86_400, now), "1 year ago");
        assert_eq!(relative(now + 3_600, now), "in 1 hour");
        assert_eq!(relative(now + 30 * 86_400, now), "in 1 month");
        assert_eq!(rfc3339(0).as_deref(), Some("1970-01-01T00:00:00Z"));
        assert_eq!(format_duration(90 * 86_400), "90d");
        assert_eq!(format_duration(129_600), "1d12h");
    }
}
