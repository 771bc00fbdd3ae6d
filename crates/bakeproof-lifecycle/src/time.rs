//! RFC 3339 times (UTC, whole seconds) and the durations the CLI takes.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Unix seconds → `YYYY-MM-DDTHH:MM:SSZ`.
pub fn rfc3339(secs: i64) -> String {
    OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".to_string())
}

/// An RFC 3339 date-time (any offset) → Unix seconds; also a plain date
/// `YYYY-MM-DD` (midnight UTC).
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Some(t.unix_timestamp());
    }
    let d = time::Date::parse(s, time::macros::format_description!("[year]-[month]-[day]")).ok()?;
    Some(d.midnight().assume_utc().unix_timestamp())
}

/// `30s`, `15m`, `12h`, `7d` (or a bare number of seconds) → seconds.
pub fn parse_duration(s: &str) -> Option<i64> {
    let (num, mult) = match s.as_bytes().last()? {
        b's' => (&s[..s.len() - 1], 1),
        b'm' => (&s[..s.len() - 1], 60),
        b'h' => (&s[..s.len() - 1], 3600),
        b'd' => (&s[..s.len() - 1], 86_400),
        b'0'..=b'9' => (s, 1),
        _ => return None,
    };
    let n: i64 = num.parse().ok().filter(|n| *n > 0)?;
    n.checked_mul(mult)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(parse_rfc3339("1970-01-02T00:00:00Z"), Some(86_400));
        assert_eq!(parse_rfc3339("1970-01-02T01:00:00+01:00"), Some(86_400));
        assert_eq!(parse_rfc3339("1970-01-03"), Some(2 * 86_400));
        assert_eq!(parse_rfc3339("tomorrow"), None);
        assert_eq!(parse_duration("7d"), Some(7 * 86_400));
        assert_eq!(parse_duration("90"), Some(90));
        assert_eq!(parse_duration("0s"), None);
        assert_eq!(parse_duration("x"), None);
        assert_eq!(parse_duration(""), None);
    }
}
