//! `SOURCE_DATE_EPOCH` (reproducible-builds.org): the one rule for the value
//! that pins every timestamp bakeproof writes.
//!
//! Libraries never read the environment: the CLI reads the variable once and
//! hands the resolved value down.

use std::ffi::OsStr;
use std::fmt;
use std::str::FromStr;

/// Seconds since 1970-01-01T00:00:00Z, within the years 0000 to 9999 (what
/// RFC 3339 can write, so every consumer can format it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SourceDateEpoch(i64);

/// `0000-01-01T00:00:00Z`.
const MIN_SECS: i64 = -62_167_219_200;
/// `9999-12-31T23:59:59Z`.
const MAX_SECS: i64 = 253_402_300_799;

/// A `SOURCE_DATE_EPOCH` that is set but not usable.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SourceDateEpochError {
    #[error("SOURCE_DATE_EPOCH={0:?} is not a number of seconds")]
    NotANumber(String),
    #[error("SOURCE_DATE_EPOCH={0} is out of range (years 0000 to 9999)")]
    OutOfRange(i64),
}

impl SourceDateEpoch {
    /// The variable's value as the environment gives it (`None`: unset).
    ///
    /// Unset, empty or blank: `None` (now). Otherwise a decimal integer,
    /// blanks around it allowed, in range; anything else, including a value
    /// that is not UTF-8, is an error rather than a silent "now".
    pub fn resolve(value: Option<&OsStr>) -> Result<Option<SourceDateEpoch>, SourceDateEpochError> {
        let Some(v) = value else {
            return Ok(None);
        };
        let Some(s) = v.to_str() else {
            return Err(SourceDateEpochError::NotANumber(
                v.to_string_lossy().into_owned(),
            ));
        };
        if s.trim().is_empty() {
            return Ok(None);
        }
        s.parse().map(Some)
    }

    pub fn from_secs(secs: i64) -> Result<SourceDateEpoch, SourceDateEpochError> {
        if (MIN_SECS..=MAX_SECS).contains(&secs) {
            Ok(SourceDateEpoch(secs))
        } else {
            Err(SourceDateEpochError::OutOfRange(secs))
        }
    }

    /// Seconds since the Unix epoch.
    pub fn secs(self) -> i64 {
        self.0
    }
}

/// A set value: a decimal integer (blanks around it allowed), in range.
impl FromStr for SourceDateEpoch {
    type Err = SourceDateEpochError;
    fn from_str(s: &str) -> Result<SourceDateEpoch, SourceDateEpochError> {
        let secs = s
            .trim()
            .parse::<i64>()
            .map_err(|_| SourceDateEpochError::NotANumber(s.to_owned()))?;
        SourceDateEpoch::from_secs(secs)
    }
}

impl fmt::Display for SourceDateEpoch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: &str) -> Result<Option<i64>, SourceDateEpochError> {
        SourceDateEpoch::resolve(Some(OsStr::new(s))).map(|o| o.map(SourceDateEpoch::secs))
    }

    #[test]
    fn unset_or_blank_is_now() {
        assert_eq!(SourceDateEpoch::resolve(None), Ok(None));
        assert_eq!(r(""), Ok(None));
        assert_eq!(r("  \t"), Ok(None));
    }

    #[test]
    fn numbers() {
        assert_eq!(r("1704067200"), Ok(Some(1_704_067_200)));
        assert_eq!(r(" 1704067200\n"), Ok(Some(1_704_067_200)));
        assert_eq!(r("0"), Ok(Some(0)));
        assert_eq!(r("-1"), Ok(Some(-1)));
        assert_eq!(r("253402300799"), Ok(Some(MAX_SECS)));
        assert_eq!(r("-62167219200"), Ok(Some(MIN_SECS)));
        assert_eq!("7".parse::<SourceDateEpoch>().unwrap().to_string(), "7");
    }

    #[test]
    fn anything_else_is_an_error() {
        for bad in ["now", "1.5", "1e9", "0x10", "1 2", "１２"] {
            assert_eq!(
                r(bad),
                Err(SourceDateEpochError::NotANumber(bad.into())),
                "{bad:?}"
            );
        }
        assert_eq!(
            r("99999999999999999999"),
            Err(SourceDateEpochError::NotANumber(
                "99999999999999999999".into()
            ))
        );
        assert_eq!(
            r("253402300800"),
            Err(SourceDateEpochError::OutOfRange(253_402_300_800))
        );
        assert_eq!(
            r("-62167219201"),
            Err(SourceDateEpochError::OutOfRange(-62_167_219_201))
        );
        assert_eq!(
            r("x").unwrap_err().to_string(),
            "SOURCE_DATE_EPOCH=\"x\" is not a number of seconds"
        );
    }

    #[cfg(unix)]
    #[test]
    fn not_utf8_is_an_error() {
        use std::os::unix::ffi::OsStrExt;
        let v = OsStr::from_bytes(b"17\xff");
        assert!(matches!(
            SourceDateEpoch::resolve(Some(v)),
            Err(SourceDateEpochError::NotANumber(_))
        ));
    }
}
