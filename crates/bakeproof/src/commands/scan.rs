//! `bakeproof scan` and `bakeproof verify-packages`.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use bakeproof_index::{Progress, Root};
use bakeproof_inventory::{ImageScan, Inventory, ScanSettings, Scanned};
use bakeproof_sbom::ScanMeta;

use super::source_date_epoch;
use crate::args::scan::{Format, ScanArgs, VerifyArgs};
use crate::output::{self, ScanProgress, exit, human_bytes, warn, write_output};

pub fn run(args: ScanArgs) -> Result<u8> {
    let started = Instant::now();
    let meta_path = std::fs::metadata(&args.root)
        .with_context(|| format!("cannot scan {}", args.root.display()))?;
    if args.seal_report.is_some() && !meta_path.is_dir() {
        bail!(
            "--seal-report needs a root directory, not {}",
            args.root.display()
        );
    }
    if args.distro.is_some() && !meta_path.is_file() {
        bail!(
            "--distro applies to a bare package database file; the OS of root {} is its os-release",
            args.root.display()
        );
    }
    let (scanned, root) = if meta_path.is_file() {
        (
            bakeproof_inventory::scan_bare_database(&args.root, args.distro.as_ref())?,
            None,
        )
    } else if meta_path.is_dir() {
        let (scanned, root) = scan_root(&args)?;
        (scanned, Some(root))
    } else {
        bail!(
            "{}: neither a directory nor a package database file",
            args.root.display()
        );
    };

    let meta = ScanMeta {
        image_name: args
            .name
            .clone()
            .unwrap_or_else(|| bakeproof_sbom::default_image_name(&args.root)),
        timestamp: source_date_epoch()?,
        files_indexed: meta_path.is_dir() && !args.packages_only,
        ..ScanMeta::of_scan(&scanned, &args.root, env!("CARGO_PKG_VERSION"))
    };
    let inventory = &scanned.inventory;

    let format = args.format;
    write_output(args.output.as_deref(), |w| match format {
        Format::CyclonedxJson => {
            bakeproof_sbom::write_json(inventory, &meta, w)?;
            w.write_all(b"\n")?;
            Ok(())
        }
        Format::Table => render_table(inventory, w),
    })?;

    let mut unsealed = false;
    if let (Some(path), Some(root)) = (&args.seal_report, &root) {
        let report = bakeproof_seal::check_inventory(
            root,
            inventory,
            &bakeproof_seal::CheckOptions {
                strict: args.seal_strict,
                timestamp: source_date_epoch()?,
                threads: args.threads,
                source: Some(args.root.display().to_string()),
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
        print_summary(inventory, &args.root, started.elapsed());
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

/// The scan pipeline's settings from `scan`'s flags.
fn settings(args: &ScanArgs) -> ScanSettings {
    ScanSettings {
        excludes: args.exclude.clone(),
        cross_mounts: args.cross_mounts,
        include_runtime_dirs: args.include_runtime_dirs,
        threads: args.threads,
        packages_only: args.packages_only,
        only_paths: None,
    }
}

fn scan_root(args: &ScanArgs) -> Result<(Scanned, Root)> {
    let root = Root::open(&args.root)?;
    let bar = ScanProgress::start(!args.quiet && !args.packages_only);
    let mut scan = ImageScan::new(&root, settings(args));
    if args.seal_report.is_some() {
        // The seal check's content observer rides the same single read.
        scan = scan.observer(bakeproof_seal::SealObserver::shared());
    }
    if let Some(b) = &bar {
        scan = scan.progress(b.clone() as Arc<dyn Progress>);
    }
    let scanned = scan.run()?;
    if let Some(b) = bar {
        b.finish();
    }
    Ok((scanned, root))
}

fn print_summary(inv: &Inventory, root: &Path, elapsed: Duration) {
    let s = &inv.scan.stats;
    let i = inv.stats();
    let kinds: Vec<String> = inv
        .dbs
        .iter()
        .map(|d| format!("{} {}", d.packages.len(), d.kind.as_str()))
        .collect();
    eprintln!(
        "bakeproof: scanned {}: {} packages{}; {} entries ({} files, {} directories, {} symlinks, {} special); {} hashed; {} owned, {} unowned ({} regular files); {} modified, {} missing, {} unverifiable; {} errors, {} directories skipped; {:.2} s",
        root.display(),
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
    if !std::fs::metadata(&args.root)
        .with_context(|| format!("cannot verify {}", args.root.display()))?
        .is_dir()
    {
        bail!("{}: not a directory", args.root.display());
    }
    let root = Root::open(&args.root)?;
    let settings = ScanSettings {
        excludes: args.exclude,
        threads: args.threads,
        ..Default::default()
    };
    let scanned = ImageScan::new(&root, settings).run()?;
    for e in &scanned.problems {
        eprintln!("bakeproof: error: {e}");
    }
    let inv = &scanned.inventory;
    if inv.dbs.is_empty() {
        bail!("{}: no package database found", args.root.display());
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
