//! `REGION:AMI-ID`: one AMI in one region, with the one rule every crate
//! applies to it.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// An AMI in one region: `us-east-1:ami-0123456789abcdef0`; as an in-toto
/// subject name `ami://us-east-1/ami-0123456789abcdef0`.
///
/// Valid by construction ([`AmiRef::parse`], [`AmiRef::new`], and
/// deserialisation all apply the same rule), so a store can build object
/// keys from it without checking again:
///
/// * region: AWS region syntax, at most 32 bytes: at least three `-`-separated
///   parts of `[a-z0-9]`, the first letters only, the last digits only
///   (`us-east-1`, `eu-central-2`, `us-gov-west-1`, `cn-north-1`,
///   `us-isob-east-1`);
/// * AMI id: `ami-` and 8 or 17 lower-case hex digits.
///
/// Nothing is trimmed: `" us-east-1:ami-12345678"` is malformed (a list
/// format that allows blanks around its items trims them itself).
///
/// Serialised (the attestation store's index) as `{"region": …, "ami_id": …}`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "AmiRefFields")]
pub struct AmiRef {
    region: String,
    ami_id: String,
}

/// The serialised shape, checked by `TryFrom` on the way in.
#[derive(Deserialize)]
struct AmiRefFields {
    region: String,
    ami_id: String,
}

impl TryFrom<AmiRefFields> for AmiRef {
    type Error = AmiRefError;
    fn try_from(f: AmiRefFields) -> Result<AmiRef, AmiRefError> {
        AmiRef::new(&f.region, &f.ami_id)
    }
}

/// Which part of an AMI reference is wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AmiRefProblem {
    /// No `:` between region and AMI id (no `/` in a subject name).
    NoSeparator,
    /// The region is not AWS region syntax.
    Region,
    /// The AMI id is not `ami-` and 8 or 17 lower-case hex digits.
    AmiId,
    /// A subject name that does not start with `ami://`.
    NotSubjectName,
}

impl fmt::Display for AmiRefProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AmiRefProblem::NoSeparator => "no separator between region and AMI id",
            AmiRefProblem::Region => "not an AWS region",
            AmiRefProblem::AmiId => "not ami- and 8 or 17 lower-case hex digits",
            AmiRefProblem::NotSubjectName => "not an ami:// subject name",
        })
    }
}

/// A malformed AMI reference.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "malformed AMI reference {input:?} ({problem}): expected REGION:AMI-ID, e.g. \
     us-east-1:ami-0123456789abcdef0"
)]
pub struct AmiRefError {
    /// What was given (`region:ami_id` when built from parts).
    pub input: String,
    pub problem: AmiRefProblem,
}

/// Longest region accepted (the longest real one is 14 bytes).
const MAX_REGION_LEN: usize = 32;

fn valid_region(r: &str) -> bool {
    if r.len() > MAX_REGION_LEN {
        return false;
    }
    let mut parts = r.split('-');
    let Some(first) = parts.next() else {
        return false;
    };
    let rest: Vec<&str> = parts.collect();
    let Some(last) = rest.last() else {
        return false;
    };
    rest.len() >= 2
        && !first.is_empty()
        && first.bytes().all(|b| b.is_ascii_lowercase())
        && !last.is_empty()
        && last.bytes().all(|b| b.is_ascii_digit())
        && rest.iter().all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

fn valid_ami_id(id: &str) -> bool {
    id.strip_prefix("ami-").is_some_and(|h| {
        (h.len() == 8 || h.len() == 17) && h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    })
}

impl AmiRef {
    /// From a region and an AMI id.
    pub fn new(region: &str, ami_id: &str) -> Result<AmiRef, AmiRefError> {
        let err = |problem| AmiRefError {
            input: format!("{region}:{ami_id}"),
            problem,
        };
        if !valid_region(region) {
            return Err(err(AmiRefProblem::Region));
        }
        if !valid_ami_id(ami_id) {
            return Err(err(AmiRefProblem::AmiId));
        }
        Ok(AmiRef {
            region: region.to_owned(),
            ami_id: ami_id.to_owned(),
        })
    }

    /// `REGION:AMI-ID`, e.g. `us-east-1:ami-0123456789abcdef0`.
    pub fn parse(s: &str) -> Result<AmiRef, AmiRefError> {
        let err = |problem| AmiRefError {
            input: s.to_owned(),
            problem,
        };
        let (region, id) = s
            .split_once(':')
            .ok_or_else(|| err(AmiRefProblem::NoSeparator))?;
        AmiRef::new(region, id).map_err(|e| err(e.problem))
    }

    /// The subject name `ami://REGION/AMI-ID`.
    pub fn subject_name(&self) -> String {
        format!("ami://{}/{}", self.region, self.ami_id)
    }

    /// Parses a subject name `ami://REGION/AMI-ID`.
    pub fn from_subject_name(name: &str) -> Result<AmiRef, AmiRefError> {
        let err = |problem| AmiRefError {
            input: name.to_owned(),
            problem,
        };
        let rest = name
            .strip_prefix("ami://")
            .ok_or_else(|| err(AmiRefProblem::NotSubjectName))?;
        let (region, id) = rest
            .split_once('/')
            .ok_or_else(|| err(AmiRefProblem::NoSeparator))?;
        AmiRef::new(region, id).map_err(|e| err(e.problem))
    }

    /// `us-east-1`.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// `ami-0123456789abcdef0`.
    pub fn ami_id(&self) -> &str {
        &self.ami_id
    }
}

impl fmt::Display for AmiRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.region, self.ami_id)
    }
}

impl FromStr for AmiRef {
    type Err = AmiRefError;
    fn from_str(s: &str) -> Result<AmiRef, AmiRefError> {
        AmiRef::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid() {
        for (s, region, id) in [
            (
                "us-east-1:ami-0123456789abcdef0",
                "us-east-1",
                "ami-0123456789abcdef0",
            ),
            ("eu-west-1:ami-11111111", "eu-west-1", "ami-11111111"),
            (
                "us-gov-west-1:ami-12345678",
                "us-gov-west-1",
                "ami-12345678",
            ),
            (
                "us-isob-east-1:ami-abcdef01",
                "us-isob-east-1",
                "ami-abcdef01",
            ),
            ("cn-north-1:ami-abcdef01", "cn-north-1", "ami-abcdef01"),
            (
                "ap-southeast-5:ami-abcdef01",
                "ap-southeast-5",
                "ami-abcdef01",
            ),
            ("il-central-1:ami-abcdef01", "il-central-1", "ami-abcdef01"),
        ] {
            let a = AmiRef::parse(s).unwrap();
            assert_eq!((a.region(), a.ami_id()), (region, id));
            assert_eq!(a.to_string(), s);
            assert_eq!(s.parse::<AmiRef>().unwrap(), a);
            assert_eq!(AmiRef::new(region, id).unwrap(), a);
            assert_eq!(AmiRef::from_subject_name(&a.subject_name()).unwrap(), a);
        }
        assert_eq!(
            AmiRef::parse("us-east-1:ami-0123456789abcdef0")
                .unwrap()
                .subject_name(),
            "ami://us-east-1/ami-0123456789abcdef0"
        );
    }

    #[test]
    fn invalid() {
        use AmiRefProblem::*;
        for (bad, problem) in [
            ("", NoSeparator),
            ("us-east-1", NoSeparator),
            ("us-east-1/ami-12345678", NoSeparator),
            (":ami-12345678", Region),
            ("us-east-1:", AmiId),
            ("us-east-1:ami-", AmiId),
            ("us-east-1:ami-1234567", AmiId),
            ("us-east-1:ami-123456789", AmiId),
            ("us-east-1:ami-0123456789abcdef", AmiId),
            ("us-east-1:ami-0123456789abcdef01", AmiId),
            ("us-east-1:ami-0123456789ABCDEF0", AmiId),
            ("us-east-1:ami-1234567g", AmiId),
            ("us-east-1:AMI-12345678", AmiId),
            ("us-east-1:snap-12345678", AmiId),
            ("us-east-1:ami-12345678:x", AmiId),
            ("US-east-1:ami-12345678", Region),
            ("useast1:ami-12345678", Region),
            ("us-east:ami-12345678", Region),
            ("us-east-x:ami-12345678", Region),
            ("1s-east-1:ami-12345678", Region),
            ("us--east-1:ami-12345678", Region),
            ("-us-east-1:ami-12345678", Region),
            ("us-east-1-:ami-12345678", Region),
            ("us-east-1a:ami-12345678", Region),
            ("us_east-1:ami-12345678", Region),
            ("../../x-1:ami-12345678", Region),
            ("us-éast-1:ami-12345678", Region),
            // Blanks are not trimmed.
            (" us-east-1:ami-12345678", Region),
            ("us-east-1:ami-12345678 ", AmiId),
            ("us-east-1 :ami-12345678", Region),
        ] {
            let e = AmiRef::parse(bad).unwrap_err();
            assert_eq!(e.problem, problem, "{bad:?}");
            assert_eq!(e.input, bad);
            assert!(e.to_string().starts_with("malformed AMI reference"));
        }
        let long = format!("{}-east-1:ami-12345678", "u".repeat(26));
        assert_eq!(long.split(':').next().unwrap().len(), 33);
        assert_eq!(AmiRef::parse(&long).unwrap_err().problem, Region);
        let ok = format!("{}-east-1:ami-12345678", "u".repeat(25));
        assert!(AmiRef::parse(&ok).is_ok());
    }

    #[test]
    fn subject_names() {
        use AmiRefProblem::*;
        for (bad, problem) in [
            ("us-east-1:ami-12345678", NotSubjectName),
            ("ami:/us-east-1/ami-12345678", NotSubjectName),
            ("ami://us-east-1:ami-12345678", NoSeparator),
            ("ami://us-east-1/ami-12345678/", AmiId),
            ("ami:// us-east-1/ami-12345678", Region),
            ("ami://us-east-1/ami-12345678:x", AmiId),
            ("ami://../ami-12345678", Region),
        ] {
            assert_eq!(
                AmiRef::from_subject_name(bad).unwrap_err().problem,
                problem,
                "{bad:?}"
            );
        }
    }

    #[test]
    fn serde_checks_on_the_way_in() {
        let a = AmiRef::parse("us-east-1:ami-12345678").unwrap();
        let j = serde_json::to_string(&a).unwrap();
        assert_eq!(j, r#"{"region":"us-east-1","ami_id":"ami-12345678"}"#);
        assert_eq!(serde_json::from_str::<AmiRef>(&j).unwrap(), a);
        for bad in [
            r#"{"region":"../..","ami_id":"ami-12345678"}"#,
            r#"{"region":"us-east-1","ami_id":"ami-1"}"#,
            r#"{"region":"us-east-1"}"#,
        ] {
            assert!(serde_json::from_str::<AmiRef>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ordered_by_region_then_id() {
        let mut v = [
            AmiRef::parse("us-east-1:ami-22222222").unwrap(),
            AmiRef::parse("eu-west-1:ami-33333333").unwrap(),
            AmiRef::parse("us-east-1:ami-11111111").unwrap(),
        ];
        v.sort();
        let s: Vec<String> = v.iter().map(ToString::to_string).collect();
        assert_eq!(
            s,
            [
                "eu-west-1:ami-33333333",
                "us-east-1:ami-11111111",
                "us-east-1:ami-22222222"
            ]
        );
    }
}
