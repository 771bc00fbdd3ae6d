//! `bakeproof diff`: reads two CycloneDX JSON SBOMs (and, when given or
//! attested, their seal reports), prints the difference (text, JSON or
//! Markdown) and maps `--fail-on` to exit 1. The comparison itself is
//! `bakeproof_diff` (this file parses the flags into its settings); see
//! docs/diff.md.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use bakeproof_boot::SealWanted;
use bakeproof_diff::{self as diff, ChangeKind, FailOn};

use crate::args::diff::{DiffArgs, DiffFormat};
use crate::output::{self, exit};

/// The refusal's hint for `what`: an SBOM's limit is `--max-input-bytes`.
fn hint(what: &str) -> &'static str {
    if what == "SBOM" {
        " (raise the limit with --max-input-bytes BYTES)"
    } else {
        ""
    }
}

/// [`super::read_capped`] with diff's hint.
fn read_capped(path: &Path, max: u64, what: &str) -> Result<Vec<u8>> {
    super::read_capped(path, max, what, hint(what))
}

fn check_size(len: usize, max: u64, name: &str, what: &str) -> Result<()> {
    if len as u64 > max {
        bail!(
            "{name}: {what} larger than {max} bytes: refused{}",
            hint(what)
        );
    }
    Ok(())
}

/// Whether `s` is meant as `REGION:AMI-ID` (e.g. `eu-west-1:ami-0123456789abcdef0`)
/// rather than a file name: it is one, or only its `ami-` id is malformed
/// (then reading it as an AMI reports that, not a missing file).
fn is_ami_ref(s: &str) -> bool {
    match bakeproof_attest::AmiRef::parse(s) {
        Ok(_) => true,
        Err(e) => {
            e.problem == bakeproof_types::AmiRefProblem::AmiId
                && s.split_once(':')
                    .is_some_and(|(_, id)| id.starts_with("ami-"))
        }
    }
}

/// One side's input: the SBOM bytes and, for an AMI with a seal
/// attestation, the verified seal report (JSON bytes).
struct Side {
    sbom: Vec<u8>,
    seal: Option<Vec<u8>>,
    /// The verified audit report of an AMI that carries one.
    audit: Option<Vec<u8>>,
}

/// The SBOM of `arg`: a file, or `REGION:AMI-ID` looked up in the store
/// ([`bakeproof_boot::fetch_attestations`], as the boot check does): every
/// bundle its index lists fetched (a missing or tampered one is an error),
/// verified with `key` (the AMI among the subjects, one tree, a referenced
/// SBOM checked against its pinned digest) before anything of it is used.
/// For an AMI and `want_seal`, also its seal report: every seal attestation
/// listed must verify and carry the same report; none listed, no report.
/// Fail-closed: any doubt is an error.
fn read(
    arg: &str,
    store: Option<(&str, &bakeproof_store::StoreOptions)>,
    key: Option<&Path>,
    want_seal: bool,
    max: u64,
) -> Result<Side> {
    let path = Path::new(arg);
    if !is_ami_ref(arg) || path.exists() {
        let sbom = read_capped(path, max, "SBOM")?;
        return Ok(Side {
            sbom,
            seal: None,
            audit: None,
        });
    }
    let (Some((url, opts)), Some(key)) = (store, key) else {
        bail!(
            "{arg}: looking up an AMI needs --store URL and --key PUB (to verify its attestation)"
        );
    };
    let ami = bakeproof_attest::AmiRef::parse(arg).map_err(|e| anyhow::anyhow!("{arg}: {e}"))?;
    let seal = if want_seal {
        SealWanted::IfListed
    } else {
        SealWanted::Skip
    };
    let (store, att) = super::fetch_ami(arg, &ami, url, opts, key, seal)?;
    check_size(att.sbom.entry.size as usize, max, arg, "attestation")?;
    let sbom = att
        .sbom_document(&*store)
        .map_err(|e| super::fetch_error(arg, e))?;
    check_size(sbom.len(), max, arg, "SBOM")?;
    let seal = match &att.seal {
        Some(s) => {
            check_size(
                s.entry.size as usize,
                diff::MAX_SEAL_BYTES,
                arg,
                "seal attestation",
            )?;
            Some(serde_json::to_vec(&s.statement.predicate).context("seal report")?)
        }
        None => None,
    };
    let audit = match &att.audit {
        Some(a) => {
            check_size(
                a.entry.size as usize,
                diff::MAX_AUDIT_BYTES,
                arg,
                "audit attestation",
            )?;
            Some(serde_json::to_vec(&a.statement.predicate).context("audit report")?)
        }
        None => None,
    };
    Ok(Side { sbom, seal, audit })
}

/// A seal report for `--old-seal`/`--new-seal` or from an attestation;
/// `what` names it in errors.
fn parse_seal(bytes: &[u8], what: &str) -> Result<bakeproof_seal::SealReport> {
    diff::parse_seal(bytes).with_context(|| what.to_owned())
}

pub fn run(args: DiffArgs) -> Result<u8> {
    let fail_on = match &args.fail_on {
        Some(s) => parse_fail_on(s).map_err(anyhow::Error::msg)?,
        None => FailOn::default(),
    };
    let opts = super::lookup_options(&args.lookup)?;
    let store = args.lookup.store.as_deref().map(|u| (u, &opts));
    let key = args.lookup.key.as_deref();
    let max = args.max_input_bytes;
    let old_side = read(&args.old, store, key, args.old_seal.is_none(), max)?;
    let new_side = read(&args.new, store, key, args.new_seal.is_none(), max)?;
    // a file given with --old-seal/--new-seal wins over the store's
    let seal_of = |flag: &Option<PathBuf>, side: &Side, arg: &str| -> Result<_> {
        match flag {
            Some(p) => {
                let b = read_capped(p, diff::MAX_SEAL_BYTES, "seal report")?;
                parse_seal(&b, &p.display().to_string()).map(Some)
            }
            None => side
                .seal
                .as_deref()
                .map(|b| parse_seal(b, &format!("{arg}: attested seal report")))
                .transpose(),
        }
    };
    let old_seal = seal_of(&args.old_seal, &old_side, &args.old)?;
    let new_seal = seal_of(&args.new_seal, &new_side, &args.new)?;
    // The same for audit reports: a file given wins over the store's.
    let audit_of = |flag: &Option<PathBuf>, side: &Side, arg: &str| -> Result<_> {
        let (bytes, what) = match flag {
            Some(p) => (
                read_capped(p, diff::MAX_AUDIT_BYTES, "audit report")?,
                p.display().to_string(),
            ),
            None => match &side.audit {
                Some(b) => (b.clone(), format!("{arg}: attested audit report")),
                None => return Ok(None),
            },
        };
        diff::parse_audit(&bytes)
            .with_context(|| what.clone())
            .map(|r| Some((r, what)))
    };
    let old_audit = audit_of(&args.old_audit, &old_side, &args.old)?;
    let new_audit = audit_of(&args.new_audit, &new_side, &args.new)?;
    let (old_bytes, new_bytes) = (old_side.sbom, new_side.sbom);
    // both documents parsed at once (the larger cost for 100k-file SBOMs)
    let (old, new) = std::thread::scope(|s| {
        let h = s.spawn(|| diff::parse(&old_bytes));
        let new = diff::parse(&new_bytes);
        (h.join().expect("parse does not panic"), new)
    });
    let old = old.with_context(|| args.old.clone())?;
    let new = new.with_context(|| args.new.clone())?;
    // A seal report is compared only beside the SBOM of the tree it checked.
    for (sbom, seal, arg, flag) in [
        (&old, &old_seal, &args.old, &args.old_seal),
        (&new, &new_seal, &args.new, &args.new_seal),
    ] {
        if let Some(seal) = seal {
            let what = match flag {
                Some(p) => p.display().to_string(),
                None => format!("{arg}: attested seal report"),
            };
            diff::check_seal_binding(sbom, seal).with_context(|| format!("{what} with {arg}"))?;
        }
    }
    // And an audit report only beside the SBOM of the tree it audited.
    for (sbom, audit, arg) in [(&old, &old_audit, &args.old), (&new, &new_audit, &args.new)] {
        if let Some((r, what)) = audit {
            diff::check_audit_binding(sbom, r).with_context(|| format!("{what} with {arg}"))?;
        }
    }
    let mut d = diff::diff_with_seal(&old, &new, old_seal.as_ref(), new_seal.as_ref());
    d.audit = diff::diff_audit(
        old_audit.as_ref().map(|(r, _)| r),
        new_audit.as_ref().map(|(r, _)| r),
    );
    // The process ends right after: freeing hundreds of thousands of parsed
    // components one by one would only cost time.
    std::mem::forget((old, new));
    let to_terminal = args.output.is_none() && output::stdout_is_terminal();
    let color = to_terminal && output::color_allowed();
    let text = match args.format {
        DiffFormat::Text => diff::render::text::render(&d, color),
        DiffFormat::Markdown => diff::render::markdown::render(&d),
        DiffFormat::Json => diff::render::json::render(&d),
    };
    match &args.output {
        // As `scan -o`: a create-exclusive temporary file renamed over `p`.
        Some(p) => output::write_output(Some(p), |w| Ok(w.write_all(text.as_bytes())?))?,
        None => output::print_text(&text)?,
    }
    std::mem::forget((old_bytes, new_bytes));
    let matched = d.matched(&fail_on);
    if matched.is_empty() {
        return Ok(exit::OK);
    }
    // Exit 1 says which kinds made it, on standard error (the output
    // itself stays the diff).
    let kinds: Vec<String> = matched
        .iter()
        .map(|(k, n)| format!("{} ({n})", k.as_str()))
        .collect();
    eprintln!("bakeproof: diff: --fail-on matched: {}", kinds.join(", "));
    Ok(exit::FINDINGS)
}

/// The `--fail-on` kinds in `spec` (comma-separated; `all` = every kind).
/// Unknown names are an error naming the valid ones.
fn parse_fail_on(spec: &str) -> Result<FailOn, String> {
    let mut out = FailOn::default();
    for w in spec.split(',').map(str::trim).filter(|w| !w.is_empty()) {
        if w == "all" {
            out.0.extend(FailOn::all().0);
            continue;
        }
        match ChangeKind::parse(w) {
            Some(k) => {
                out.0.insert(k);
            }
            None => {
                let valid: Vec<&str> = ChangeKind::ALL.iter().map(|k| k.as_str()).collect();
                return Err(format!(
                    "unknown --fail-on kind {w:?} (valid: {}, all)",
                    valid.join(", ")
                ));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn ami_refs() {
        assert!(super::is_ami_ref("eu-west-1:ami-0123456789abcdef0"));
        assert!(!super::is_ami_ref("old.json"));
        assert!(!super::is_ami_ref("C:ami-1"));
        assert!(super::is_ami_ref("eu-west-1:ami-123"));
        assert!(!super::is_ami_ref("eu-west-1:x.json"));
    }

    #[test]
    fn fail_on_kinds() {
        use bakeproof_diff::ChangeKind;
        assert!(super::parse_fail_on("added,bogus").is_err());
        assert_eq!(
            super::parse_fail_on("all").unwrap().0.len(),
            ChangeKind::ALL.len()
        );
        let f = super::parse_fail_on(" seal , added-files,").unwrap();
        assert_eq!(
            f.0.into_iter().collect::<Vec<_>>(),
            [ChangeKind::AddedFiles, ChangeKind::Seal]
        );
    }
}
