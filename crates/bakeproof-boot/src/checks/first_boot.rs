//! The `first-boot` check (`--level files`): what changed at first boot in
//! the accounts, `sudoers.d`, `authorized_keys` (only the keys the instance
//! was given), the new default user's home and under the ignored paths,
//! judged by meaning against the seal report's signed baseline
//! ([`bakeproof_seal::firstboot::judge`]).

use bakeproof_diff::SealReportError;
use bakeproof_index::Root;
use bakeproof_seal::SealReport;
use bakeproof_seal::firstboot;

use crate::config::{Ignored, glob_set};
use crate::report::Check;

const ID: &str = "first-boot";

/// The check's outcome and what it means for the file comparison.
pub(crate) struct FirstBoot {
    pub(crate) check: Check,
    /// The live scan's excludes (the ignored paths: not read).
    pub(crate) excludes: Vec<String>,
    /// The globs the file comparison leaves alone: the ignored paths,
    /// everything below an excluded directory, and what the rules judged.
    pub(crate) leave: globset::GlobSet,
}

/// The keys the instance was given (OpenSSH public key lines) and how the
/// detail names them; an error when they could not be had.
pub(crate) type GivenKeys<'a> = &'a dyn Fn() -> Result<(Vec<String>, String), String>;

pub(crate) fn check(
    root: &Root,
    report: &Result<SealReport, SealReportError>,
    ignored: &Ignored,
    given_keys: GivenKeys<'_>,
) -> FirstBoot {
    let globs = ignored.globs();
    // The scan prunes a matching directory: the comparison must leave
    // everything below it alone too.
    let excludes: Vec<String> = globs
        .iter()
        .filter(|g| g.starts_with('/'))
        .cloned()
        .collect();
    let mut leave: Vec<String> = globs.to_vec();
    leave.extend(
        excludes
            .iter()
            .filter(|g| !g.ends_with("/**"))
            .map(|g| format!("{g}/**")),
    );
    let judge = || -> Result<(String, Vec<String>), String> {
        let report = report
            .as_ref()
            .map_err(|e| format!("no readable seal report ({e}): no first-boot baseline"))?;
        let Some(baseline) = &report.baseline else {
            return Err(
                "the seal report has no first-boot baseline (sealed by an older bakeproof): re-seal"
                    .into(),
            );
        };
        let (keys, given) = given_keys()?;
        let j = firstboot::judge(root, baseline, globs, &keys).map_err(|e| e.to_string())?;
        if !j.findings.is_empty() {
            let mut shown: Vec<String> = j
                .findings
                .iter()
                .take(20)
                .map(|f| format!("{} {}: {}", f.kind, f.path, f.detail))
                .collect();
            if j.findings.len() > 20 {
                shown.push(format!("... {} more", j.findings.len() - 20));
            }
            return Err(format!(
                "{} first-boot finding(s): {}",
                j.findings.len(),
                shown.join("; ")
            ));
        }
        Ok((
            format!(
                "accounts, sudoers.d, authorized_keys ({given}) and {} entries under the ignored paths judged against the seal baseline",
                j.walked
            ),
            j.judged,
        ))
    };
    let check = match judge() {
        Ok((detail, judged)) => {
            if ignored.defaults() {
                leave.extend(judged.iter().map(|p| globset::escape(p)));
            }
            Check::pass(ID, detail)
        }
        Err(detail) => {
            // Reported here; the digest comparison still sees them as
            // files unless the defaults are off.
            if ignored.defaults() {
                leave.extend(firstboot::JUDGED.iter().map(|p| globset::escape(p)));
            }
            Check::fail(ID, detail)
        }
    };
    // Globs that do not compile were refused with the configuration;
    // escaped paths always do.
    let leave = glob_set(&leave).unwrap_or_else(|_| ignored.set().clone());
    FirstBoot {
        check,
        excludes,
        leave,
    }
}
