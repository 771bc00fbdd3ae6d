//! `bakeproof scan`.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use bakeproof_index::{Progress, Root};
use bakeproof_inventory::{ImageScan, Inventory, ScanSettings, Scanned};
use bakeproof_sbom::ScanMeta;
use clap::{Args, ValueEnum};

use crate::exit;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// CycloneDX 1.5 JSON.
    CyclonedxJson,
    /// A readable table of packages and totals.
    Table,
}

#[derive(Args, Debug)]
pub struct ScanArgs {
    /// Root filesystem to index (`/` inside a build VM, or a mounted image),
    /// or a bare package database file (a dpkg `status` file).
    #[arg(default_value = "/")]
    pub root: PathBuf,
    /// Write the output here instead of standard output (written atomically).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::CyclonedxJson)]
    pub format: Format,
    /// Skip paths matching GLOB (matched against the path inside ROOT,
    /// starting with `/`; a pattern without `/` matches a name at any depth;
    /// a matching directory is not descended). Repeatable.
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Descend into other mounted filesystems (kernel pseudo filesystems such
    /// as proc and sysfs are never scanned).
    #[arg(long)]
    pub cross_mounts: bool,
    /// Also scan /proc, /sys, /dev and /run when ROOT is the running system's `/`.
    #[arg(long)]
    pub include_runtime_dirs: bool,
    /// Worker threads (default: one per core).
    #[arg(long, short = 'j', value_name = "N")]
    pub threads: Option<usize>,
    /// Name of the image in the SBOM (default: the last component of ROOT).
    #[arg(long)]
    pub name: Option<String>,
    /// List the entries no package owns on standard error after the summary.
    #[arg(long)]
    pub unowned: bool,
    /// No progress bar and no summary.
    #[arg(short, long)]
    pub quiet: bool,
    /// Read the package databases only: no walk, no file hashing, no file
    /// components and no tree digest (an inventory in milliseconds; such an
    /// SBOM cannot be attested as an image).
    #[arg(long)]
    pub packages_only: bool,
    /// Also run `seal check` on the same walk and write its JSON report to
    /// FILE (written atomically): the report's tree digest is the SBOM's by
    /// construction. Exit 1 when the report is unsealed.
    #[arg(long, value_name = "FILE", conflicts_with = "packages_only")]
    pub seal_report: Option<PathBuf>,
    /// With --seal-report: warnings make the report unsealed (seal check --strict).
    #[arg(long, requires = "seal_report")]
    pub seal_strict: bool,
}

/// `SOURCE_DATE_EPOCH` (seconds), which pins every timestamp bakeproof writes.
pub(crate) fn source_date_epoch() -> Result<Option<i64>> {
    Ok(resolved_source_date_epoch()?.map(bakeproof_types::SourceDateEpoch::secs))
}

/// The one place the CLI reads `SOURCE_DATE_EPOCH` (libraries take the
/// resolved value); the rule is [`bakeproof_types::SourceDateEpoch::resolve`].
pub(crate) fn resolved_source_date_epoch() -> Result<Option<bakeproof_types::SourceDateEpoch>> {
    Ok(bakeproof_types::SourceDateEpoch::resolve(
        std::env::var_os("SOURCE_DATE_EPOCH").as_deref(),
    )?)
}

fn image_name(root: &Path) -> String {
    let canon = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_owned());
    match canon.file_name() {
        Some(n) => n.to_string_lossy().into_owned(),
        None => "root".into(),
    }
}

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
    let (scanned, root) = if meta_path.is_file() {
        (scan_bare_db(&args)?, None)
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
        image_name: args.name.clone().unwrap_or_else(|| image_name(&args.root)),
        source: args.root.display().to_string(),
        tool_name: "bakeproof".into(),
        tool_version: env!("CARGO_PKG_VERSION").into(),
        timestamp: source_date_epoch()?,
        serial: None,
        os: scanned.os.clone(),
        db_errors: problem_strings(&scanned),
        files_indexed: meta_path.is_dir() && !args.packages_only,
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
        eprintln!("bakeproof: warning: {e}");
    }
    // Records lost from a database read make the inventory incomplete: said
    // on stderr even with --quiet, and exit 3.
    for db in inventory.dbs.iter().filter(|db| db.dropped > 0) {
        eprintln!(
            "bakeproof: warning: {}: {} records could not be read (their packages are not in the SBOM)",
            db.location, db.dropped
        );
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

/// The problems of a scan as the SBOM records them (`bakeproof:package-db:error`).
pub(crate) fn problem_strings(scanned: &Scanned) -> Vec<String> {
    scanned.problems.iter().map(|p| p.to_string()).collect()
}

fn scan_root(args: &ScanArgs) -> Result<(Scanned, Root)> {
    let root = Root::open(&args.root)?;
    let bar = (!args.quiet && !args.packages_only && std::io::stderr().is_terminal()).then(|| {
        let pb = indicatif::ProgressBar::new_spinner();
        pb.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} {msg:>16}  {bytes:>10} hashed  {bytes_per_sec:>12}  {elapsed}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        pb.enable_steady_tick(Duration::from_millis(120));
        Arc::new(EntryBar(pb, std::sync::atomic::AtomicU64::new(0)))
    });
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
        b.0.finish_and_clear();
    }
    Ok((scanned, root))
}

/// Progress: the bar's position is the bytes hashed (so `{bytes}` and
/// `{bytes_per_sec}` are right); entries are counted beside it and shown in
/// the message, refreshed every 1024 entries.
struct EntryBar(indicatif::ProgressBar, std::sync::atomic::AtomicU64);

impl Progress for EntryBar {
    fn entry_done(&self, bytes: u64) {
        if bytes > 0 {
            self.0.inc(bytes);
        }
        let n = self.1.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        if n.is_multiple_of(1024) {
            self.0.set_message(format!("{n} entries"));
        }
    }
}

fn scan_bare_db(args: &ScanArgs) -> Result<Scanned> {
    const LIMIT: u64 = 1 << 30;
    let size = std::fs::metadata(&args.root)?.len();
    if size > LIMIT {
        bail!("{}: larger than {LIMIT} bytes", args.root.display());
    }
    let bytes = std::fs::read(&args.root)
        .with_context(|| format!("cannot read {}", args.root.display()))?;
    let file_name = args
        .root
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // rpm databases by path: an sqlite database's `-wal` beside it holds
    // transactions not yet in the main file.
    let db = if bakeproof_pkgdb::rpm::sniff(&bytes).is_some() {
        bakeproof_pkgdb::rpm::read_bare_rpm_file(&args.root, None)
    } else {
        bakeproof_pkgdb::read_bare_file(&bytes, &file_name, None)
    }
    .with_context(|| format!("{}", args.root.display()))?;
    let os = db.os.clone();
    Ok(Scanned::of_databases(vec![db], os))
}

/// Streams the output to standard output or, through a temporary file and a
/// rename, to `path`: readers never see a half-written SBOM, and a failed run
/// leaves an existing file intact.
///
/// The rename is only used when `path` is absent or a regular file. Anything
/// else (`-o /dev/null`, a FIFO, `/dev/stdout`) is opened and written in
/// place: renaming over it would replace the device node with a regular file,
/// which, run as root, silently breaks `/dev/null` for the whole machine.
pub(crate) fn write_output(
    path: Option<&Path>,
    render: impl FnOnce(&mut dyn Write) -> Result<()>,
) -> Result<()> {
    match path {
        Some(p) if p != Path::new("-") && !is_regular_or_absent(p) => {
            let file = std::fs::OpenOptions::new()
                .write(true)
                .open(p)
                .with_context(|| format!("cannot open {}", p.display()))?;
            let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
            render(&mut w).with_context(|| format!("writing {}", p.display()))?;
            w.flush()
                .with_context(|| format!("writing {}", p.display()))?;
        }
        Some(p) if p != Path::new("-") => {
            let dir = p
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            let (tmp, file) = tempfile_in(dir, p)?;
            let result = (|| -> Result<()> {
                let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
                render(&mut w)?;
                let file = w.into_inner().map_err(|e| e.into_error())?;
                file.sync_all()?;
                Ok(())
            })();
            if let Err(e) = result {
                let _ = std::fs::remove_file(&tmp);
                return Err(e.context(format!("writing {}", p.display())));
            }
            std::fs::rename(&tmp, p).with_context(|| format!("writing {}", p.display()))?;
        }
        _ => {
            let mut w = std::io::BufWriter::with_capacity(1 << 20, std::io::stdout().lock());
            render(&mut w).context("writing to standard output")?;
            w.flush().context("writing to standard output")?;
        }
    }
    Ok(())
}

/// True when `p` does not exist or is a regular file: the only cases where
/// replacing it by rename is what the user means. A symlink is written through
/// (in place), so the link survives and its target gets the output.
pub(crate) fn is_regular_or_absent(p: &Path) -> bool {
    match std::fs::symlink_metadata(p) {
        Ok(m) => m.is_file(),
        Err(_) => true,
    }
}

fn tempfile_in(dir: &Path, target: &Path) -> Result<(PathBuf, std::fs::File)> {
    let base = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    for i in 0..100u32 {
        let p = dir.join(format!(".{base}.{}.{i}.tmp", std::process::id()));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&p)
        {
            Ok(f) => return Ok((p, f)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e).with_context(|| format!("cannot create {}", p.display())),
        }
    }
    bail!("cannot create a temporary file in {}", dir.display())
}

fn human_bytes(b: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = b as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{b} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
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
            eprintln!("bakeproof: warning: {}: {w}", db.location);
        }
    }
    let mut shown = 0;
    for e in &inv.scan.entries {
        if let Some(err) = &e.error {
            if shown < 20 {
                eprintln!(
                    "bakeproof: warning: {}: {err}",
                    bakeproof_index::encode_path(&e.path)
                );
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

#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// Root filesystem whose packages to verify.
    #[arg(default_value = "/")]
    pub root: PathBuf,
    /// Skip paths matching GLOB (as for `scan`).
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Worker threads (default: one per core).
    #[arg(long, short = 'j', value_name = "N")]
    pub threads: Option<usize>,
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
    let mut out = std::io::stdout().lock();
    for l in &lines {
        out.write_all(l)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(if lines.is_empty() {
        exit::OK
    } else {
        exit::FINDINGS
    })
}
