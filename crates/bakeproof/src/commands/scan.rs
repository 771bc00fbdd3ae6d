//! `bakeproof scan` and `bakeproof verify-packages`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use bakeproof_index::{Progress, ReadOnlyTree};
use bakeproof_inventory::{ImageScan, Inventory, ScanSettings, Scanned};
use bakeproof_sbom::ScanMeta;

use super::source::{self, Opened, Spec};
use super::source_date_epoch;
use crate::args::scan::{Format, ScanArgs, VerifyArgs};
use crate::output::{self, ScanProgress, exit, human_bytes, warn, write_output};

pub fn run(args: ScanArgs) -> Result<u8> {
    let started = Instant::now();
    let outputs = parse_outputs(&args.output, args.format)?;
    let spdx = outputs.iter().any(|o| o.format == OutputFormat::Spdx);
    let spec = Spec::parse(args.root.as_os_str())?;
    let opened = source::open(&spec, &args.image, !args.quiet)?;
    let is_database = matches!(opened, Opened::Database(_));
    if args.seal_report.is_some() && is_database {
        bail!(
            "--seal-report needs a root directory or an image, not the package database {}",
            args.root.display()
        );
    }
    if args.distro.is_some() && !is_database {
        bail!(
            "--distro applies to a bare package database file; the OS of {} is its os-release",
            spec.label()
        );
    }
    if let Opened::Image(image) = &opened
        && !args.quiet
    {
        source::report_found(&spec.label(), image);
    }
    let scanned = match (&opened, opened.tree()) {
        (Opened::Database(p), _) => {
            bakeproof_inventory::scan_bare_database(p, args.distro.as_ref())?
        }
        (_, Some(tree)) => scan_tree(&args, tree, spdx)?,
        (_, None) => bail!("{}: nothing to scan", spec.label()),
    };
    if let Opened::Image(image) = &opened
        && !args.quiet
    {
        source::report_fetches(image);
    }
    let label = spec.label();
    let meta = ScanMeta {
        image_name: args.name.clone().unwrap_or_else(|| spec.default_name()),
        source: label.clone(),
        timestamp: source_date_epoch()?,
        files_indexed: !is_database && !args.packages_only,
        ..ScanMeta::of_scan(&scanned, Path::new(&label), env!("CARGO_PKG_VERSION"))
    };
    let inventory = &scanned.inventory;
    // One serial number and time for every document of this scan.
    let meta = meta.resolved(inventory);

    for out in &outputs {
        write_output(out.path.as_deref(), |w| match out.format {
            OutputFormat::CycloneDx { spec, files } => {
                bakeproof_sbom::write_cyclonedx(
                    inventory,
                    &meta,
                    bakeproof_sbom::CycloneDxOptions { spec, files },
                    w,
                )?;
                w.write_all(b"\n")?;
                Ok(())
            }
            OutputFormat::Spdx => {
                bakeproof_sbom::spdx::write_spdx_json(inventory, &meta, w)?;
                w.write_all(b"\n")?;
                Ok(())
            }
            OutputFormat::Table => render_table(inventory, w),
        })?;
    }

    let mut unsealed = false;
    if let (Some(path), Some(root)) = (&args.seal_report, opened.tree()) {
        let report = bakeproof_seal::check_inventory(
            root,
            inventory,
            &bakeproof_seal::CheckOptions {
                strict: args.seal_strict,
                timestamp: source_date_epoch()?,
                threads: args.threads,
                source: Some(label.clone()),
            },
        )?;
        write_output(Some(path), |w| {
            w.write_all(report.to_json().as_bytes())?;
            Ok(())
        })?;
        unsealed = !report.sealed();
        if unsealed && !args.quiet {
            let _ = report.write_text(&mut std::io::stderr().lock());
        }
    }

    if !args.quiet {
        print_summary(inventory, &label, started.elapsed());
    }
    for e in &scanned.problems {
        warn(e);
    }
    // Records lost from a database read make the inventory incomplete: said
    // on stderr even with --quiet, and exit 3.
    for db in inventory.dbs.iter().filter(|db| db.dropped > 0) {
        warn(format_args!(
            "{}: {} records could not be read (their packages are not in the SBOM)",
            db.location, db.dropped
        ));
    }
    if args.unowned {
        let mut err = std::io::stderr().lock();
        for e in inventory.unowned() {
            let _ = writeln!(
                err,
                "unowned {} {}",
                e.kind,
                // One token whatever the name: a newline in it cannot
                // forge a second line.
                bakeproof_index::escape_path(&e.path)
            );
        }
    }
    Ok(if scanned.is_incomplete() {
        exit::INCOMPLETE
    } else if unsealed {
        exit::FINDINGS
    } else {
        exit::OK
    })
}

/// What one `-o` asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum OutputFormat {
    CycloneDx {
        spec: bakeproof_sbom::CdxSpec,
        files: bool,
    },
    Spdx,
    Table,
}

impl OutputFormat {
    /// The format named `name` (`cyclonedx-json@1.6`), `None` when it is
    /// not a format name.
    fn parse(name: &str) -> Option<OutputFormat> {
        use bakeproof_sbom::CdxSpec;
        let (base, version) = match name.split_once('@') {
            Some((b, v)) => (b, Some(v)),
            None => (name, None),
        };
        let cdx = |files| {
            let spec = match version {
                None | Some("1.5") => CdxSpec::V1_5,
                Some("1.6") => CdxSpec::V1_6,
                Some(_) => return None,
            };
            Some(OutputFormat::CycloneDx { spec, files })
        };
        match (base, version) {
            ("cyclonedx-json", _) => cdx(true),
            ("cyclonedx-json-packages", _) => cdx(false),
            ("spdx-json", None | Some("2.3")) => Some(OutputFormat::Spdx),
            ("table", None) => Some(OutputFormat::Table),
            _ => None,
        }
    }
}

impl From<Format> for OutputFormat {
    fn from(f: Format) -> OutputFormat {
        match f {
            Format::CyclonedxJson => OutputFormat::CycloneDx {
                spec: bakeproof_sbom::CdxSpec::V1_5,
                files: true,
            },
            Format::Table => OutputFormat::Table,
        }
    }
}

/// One output: its format and file (`None`: standard output).
#[derive(Clone, Debug, PartialEq, Eq)]
struct Output {
    format: OutputFormat,
    path: Option<PathBuf>,
}

/// The outputs of `-o` values: `FORMAT=FILE`, `FORMAT` (standard output)
/// when FORMAT is a format name, else a bare `FILE` in the `--format`
/// format (the meaning `-o FILE` always had); none: `--format` on standard
/// output. At most one goes to standard output, and no file twice.
fn parse_outputs(values: &[PathBuf], format: Option<Format>) -> Result<Vec<Output>> {
    use std::os::unix::ffi::OsStrExt;
    let default: OutputFormat = format.unwrap_or(Format::CyclonedxJson).into();
    let mut out: Vec<Output> = Vec::new();
    let mut bare = false;
    for v in values {
        let bytes = v.as_os_str().as_bytes();
        let named = std::str::from_utf8(bytes)
            .ok()
            .and_then(|s| match s.split_once('=') {
                Some((f, p)) => OutputFormat::parse(f).map(|f| (f, Some(p))),
                None => OutputFormat::parse(s).map(|f| (f, None)),
            });
        let o = match named {
            Some((_, Some(""))) => bail!("-o {}: no file after `=`", v.display()),
            Some((format, p)) => Output {
                format,
                path: p.map(PathBuf::from).filter(|p| p != Path::new("-")),
            },
            None => {
                bare = true;
                Output {
                    format: default,
                    path: Some(v.clone()).filter(|p| p != Path::new("-")),
                }
            }
        };
        out.push(o);
    }
    if out.is_empty() {
        out.push(Output {
            format: default,
            path: None,
        });
    } else if format.is_some() && !bare && out.iter().all(|o| o.path.is_some()) {
        bail!(
            "--format applies to a bare -o FILE or to standard output, and every -o names its \
             format: drop --format (or write -o FORMAT for standard output)"
        );
    }
    if out.iter().filter(|o| o.path.is_none()).count() > 1 {
        bail!(
            "at most one output can go to standard output: name a file for the others (-o FORMAT=FILE)"
        );
    }
    let mut seen = std::collections::HashSet::new();
    for p in out.iter().filter_map(|o| o.path.as_ref()) {
        if !seen.insert(p) {
            bail!("-o: {} is named twice", p.display());
        }
    }
    Ok(out)
}

/// The scan pipeline's settings from `scan`'s flags.
fn settings(args: &ScanArgs) -> ScanSettings {
    ScanSettings {
        excludes: args.exclude.clone(),
        cross_mounts: args.cross_mounts,
        include_runtime_dirs: args.include_runtime_dirs,
        threads: args.threads,
        packages_only: args.packages_only,
        only_paths: None,
        ecosystems: args.ecosystems,
    }
}

fn scan_tree(args: &ScanArgs, root: &dyn ReadOnlyTree, spdx: bool) -> Result<Scanned> {
    let bar = ScanProgress::start(!args.quiet && !args.packages_only);
    let mut scan = ImageScan::new(root, settings(args));
    if args.seal_report.is_some() {
        // The seal check's content observer rides the same single read.
        scan = scan.observer(bakeproof_seal::SealObserver::shared());
    }
    if spdx && !args.packages_only {
        // SPDX wants every file's SHA-1: computed in the same single read.
        scan = scan.observer(bakeproof_sbom::spdx::Sha1Observer::shared());
    }
    if let Some(b) = &bar {
        scan = scan.progress(b.clone() as Arc<dyn Progress>);
    }
    let scanned = scan.run()?;
    if let Some(b) = bar {
        b.finish();
    }
    Ok(scanned)
}

fn print_summary(inv: &Inventory, root: &str, elapsed: Duration) {
    let s = &inv.scan.stats;
    let i = inv.stats();
    let kinds: Vec<String> = inv
        .dbs
        .iter()
        .map(|d| format!("{} {}", d.packages.len(), d.kind.as_str()))
        .collect();
    eprintln!(
        "bakeproof: scanned {}: {} packages{}; {} entries ({} files, {} directories, {} symlinks, {} special); {} hashed; {} owned, {} unowned ({} regular files); {} modified, {} missing, {} unverifiable; {} errors, {} directories skipped; {:.2} s",
        root,
        i.packages,
        if kinds.is_empty() {
            String::new()
        } else {
            format!(" ({})", kinds.join(", "))
        },
        s.entries,
        s.files,
        s.directories,
        s.symlinks,
        s.special,
        human_bytes(s.bytes_hashed),
        i.owned_entries,
        i.unowned_entries,
        i.unowned_files,
        i.modified,
        i.missing,
        i.unverifiable,
        s.errors,
        s.skipped_dirs,
        elapsed.as_secs_f64(),
    );
    for db in &inv.dbs {
        for w in &db.warnings {
            warn(format_args!("{}: {w}", db.location));
        }
    }
    let mut shown = 0;
    for e in &inv.scan.entries {
        if let Some(err) = &e.error {
            if shown < 20 {
                warn(format_args!(
                    "{}: {err}",
                    bakeproof_index::encode_path(&e.path)
                ));
            }
            shown += 1;
        }
    }
    if shown > 20 {
        eprintln!(
            "bakeproof: ... and {} more entries with errors (see bakeproof:file:error in the SBOM)",
            shown - 20
        );
    }
}

fn render_table(inv: &Inventory, out: &mut dyn Write) -> Result<()> {
    let mut rows: Vec<(String, String, String, usize, usize)> = Vec::new();
    let mut modified: std::collections::HashMap<(usize, usize), usize> = Default::default();
    for v in &inv.verify {
        if v.verdict != bakeproof_inventory::FileVerdict::Ok {
            *modified.entry(v.pkg).or_default() += 1;
        }
    }
    for (d, db) in inv.dbs.iter().enumerate() {
        for (p, pkg) in db.packages.iter().enumerate() {
            rows.push((
                pkg.name.clone(),
                pkg.version.clone(),
                pkg.arch.clone(),
                pkg.files.len(),
                modified.get(&(d, p)).copied().unwrap_or(0),
            ));
        }
    }
    rows.sort();
    let w0 = rows.iter().map(|r| r.0.len()).max().unwrap_or(4).max(4);
    let w1 = rows.iter().map(|r| r.1.len()).max().unwrap_or(7).max(7);
    let w2 = rows.iter().map(|r| r.2.len()).max().unwrap_or(4).max(4);
    writeln!(
        out,
        "{:w0$}  {:w1$}  {:w2$}  {:>6}  {:>8}",
        "NAME", "VERSION", "ARCH", "FILES", "CHANGED"
    )?;
    for r in &rows {
        writeln!(
            out,
            "{:w0$}  {:w1$}  {:w2$}  {:>6}  {:>8}",
            r.0, r.1, r.2, r.3, r.4
        )?;
    }
    let s = &inv.scan.stats;
    let i = inv.stats();
    writeln!(out)?;
    writeln!(out, "packages        {}", i.packages)?;
    writeln!(
        out,
        "entries         {} ({} files, {} directories, {} symlinks, {} special)",
        s.entries, s.files, s.directories, s.symlinks, s.special
    )?;
    writeln!(out, "hashed          {}", human_bytes(s.bytes_hashed))?;
    writeln!(out, "owned           {}", i.owned_entries)?;
    writeln!(
        out,
        "unowned         {} ({} regular files)",
        i.unowned_entries, i.unowned_files
    )?;
    writeln!(out, "modified        {}", i.modified)?;
    writeln!(out, "missing         {}", i.missing)?;
    writeln!(out, "errors          {}", s.errors)?;
    writeln!(
        out,
        "tree digest     sha256:{}",
        hex_digest(&inv.scan.tree_digest)
    )?;
    Ok(())
}

fn hex_digest(d: &[u8; 32]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// `bakeproof verify-packages`: the same index and join as `scan`, printed
/// as the package manager's own verify output.
pub fn run_verify(args: VerifyArgs) -> Result<u8> {
    let spec = Spec::parse(args.root.as_os_str())?;
    let opened = source::open(&spec, &args.image, false)?;
    let Some(root) = opened.tree() else {
        bail!("{}: not a directory or a disk image", spec.label());
    };
    let settings = ScanSettings {
        excludes: args.exclude,
        threads: args.threads,
        ..Default::default()
    };
    let scanned = ImageScan::new(root, settings).run()?;
    for e in &scanned.problems {
        eprintln!("bakeproof: error: {e}");
    }
    let inv = &scanned.inventory;
    if inv.dbs.is_empty() {
        bail!("{}: no package database found", spec.label());
    }
    // Raw bytes, as dpkg and rpm print the path.
    let lines = inv.native_verify_lines();
    output::print_byte_lines(&lines)?;
    Ok(if lines.is_empty() {
        exit::OK
    } else {
        exit::FINDINGS
    })
}

#[cfg(test)]
mod output_tests {
    use super::*;
    use bakeproof_sbom::CdxSpec;

    fn parse(v: &[&str], f: Option<Format>) -> Result<Vec<Output>> {
        let v: Vec<PathBuf> = v.iter().map(PathBuf::from).collect();
        parse_outputs(&v, f)
    }

    #[test]
    fn output_values() {
        let full = |spec| OutputFormat::CycloneDx { spec, files: true };
        let o = parse(
            &[
                "cyclonedx-json=a.json",
                "cyclonedx-json@1.6=b.json",
                "cyclonedx-json-packages=c.json",
                "spdx-json=d.spdx.json",
                "table",
            ],
            None,
        )
        .unwrap();
        assert_eq!(o[0].format, full(CdxSpec::V1_5));
        assert_eq!(o[0].path.as_deref(), Some(Path::new("a.json")));
        assert_eq!(o[1].format, full(CdxSpec::V1_6));
        assert_eq!(
            o[2].format,
            OutputFormat::CycloneDx {
                spec: CdxSpec::V1_5,
                files: false
            }
        );
        assert_eq!(o[3].format, OutputFormat::Spdx);
        assert_eq!(
            o[4],
            Output {
                format: OutputFormat::Table,
                path: None
            }
        );
        // a bare path keeps its old meaning: the --format format to FILE
        let o = parse(&["sbom.json"], None).unwrap();
        assert_eq!(o[0].format, full(CdxSpec::V1_5));
        assert_eq!(o[0].path.as_deref(), Some(Path::new("sbom.json")));
        let o = parse(&["t.txt"], Some(Format::Table)).unwrap();
        assert_eq!(o[0].format, OutputFormat::Table);
        // `=` in a file name that does not start with a format name
        let o = parse(&["x=y.json"], None).unwrap();
        assert_eq!(o[0].path.as_deref(), Some(Path::new("x=y.json")));
        // no -o: --format on stdout
        assert_eq!(parse(&[], Some(Format::Table)).unwrap()[0].path, None);
        // unknown versions are not formats, so a path
        let o = parse(&["cyclonedx-json@1.4"], None).unwrap();
        assert_eq!(o[0].path.as_deref(), Some(Path::new("cyclonedx-json@1.4")));
    }

    #[test]
    fn refused_outputs() {
        let e = parse(&["table", "spdx-json"], None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("at most one output"), "{e}");
        let e = parse(&["table", "spdx-json=-"], None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("at most one output"), "{e}");
        let e = parse(&["spdx-json=a", "table=a"], None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("named twice"), "{e}");
        let e = parse(&["spdx-json="], None).unwrap_err().to_string();
        assert!(e.contains("no file"), "{e}");
        let e = parse(&["spdx-json=a"], Some(Format::Table))
            .unwrap_err()
            .to_string();
        assert!(e.contains("--format"), "{e}");
    }
}
