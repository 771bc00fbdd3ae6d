//! Everything the CLI writes to the terminal or to an output file, in one
//! place: exit codes, atomic output files, the scan's progress bar on
//! standard error, the password prompt, and small formatting helpers.
//! Commands render their results through these; the library crates never
//! print, prompt or exit.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use bakeproof_attest::KeyError;
use bakeproof_index::Progress;
use zeroize::Zeroizing;

/// Exit codes (documented in docs/cli.md; a contract for scripts).
pub mod exit {
    /// Success.
    pub const OK: u8 = 0;
    /// A check found differences (`verify-packages`: a file differs from its
    /// package or is missing).
    pub const FINDINGS: u8 = 1;
    /// Usage error, or a fatal error before any output was written.
    pub const ERROR: u8 = 2;
    /// The scan completed and its output was written, but some entries could
    /// not be indexed (unreadable, vanished, changed during the scan); they
    /// are recorded in the SBOM.
    pub const INCOMPLETE: u8 = 3;
}

/// The process exit status of a command's outcome: its code, or
/// [`exit::ERROR`] after printing the error on standard error.
pub fn exit_code(result: Result<u8>) -> std::process::ExitCode {
    match result {
        Ok(code) => std::process::ExitCode::from(code),
        Err(e) => {
            eprintln!("bakeproof: error: {}", error_chain(&e));
            std::process::ExitCode::from(exit::ERROR)
        }
    }
}

/// An error and its causes, `: `-separated, as anyhow's `{:#}` prints
/// them, but without a cause the message before it already ends with
/// (a typed error that both shows and exposes its source would otherwise
/// print it twice: `cannot open root X: ... (os error 2): ... (os error 2)`).
pub fn error_chain(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if out.is_empty() {
            out = text;
        } else if !out.ends_with(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
    }
    out
}

/// The exit status of a command line clap refused (or `--help`/`--version`,
/// which clap reports the same way): its message printed, 2 for an error, 0
/// for help and version.
pub fn usage_exit(e: &clap::Error) -> std::process::ExitCode {
    let code = if e.use_stderr() {
        exit::ERROR
    } else {
        exit::OK
    };
    let _ = e.print();
    std::process::ExitCode::from(code)
}

/// Reports a store error of `bakeproof CMD` (`publish`, `fetch`) and maps
/// it to its exit code: the store answered with wrong or incomplete content
/// (an integrity error), [`exit::FINDINGS`]; anything else (unreachable,
/// refused, unusable input), [`exit::ERROR`].
pub fn store_failure(cmd: &str, e: &bakeproof_store::StoreError) -> u8 {
    eprintln!("bakeproof {cmd}: error: {e}");
    if e.is_integrity() {
        exit::FINDINGS
    } else {
        exit::ERROR
    }
}

/// `bakeproof: MESSAGE` on standard error (what a command found or did,
/// for people; `--quiet` callers do not call it).
pub fn note(message: impl std::fmt::Display) {
    eprintln!("bakeproof: {message}");
}

/// `bakeproof: warning: MESSAGE` on standard error.
pub fn warn(message: impl std::fmt::Display) {
    eprintln!("bakeproof: warning: {message}");
}

/// Streams the output to standard output or, through a temporary file and a
/// rename, to `path`: readers never see a half-written SBOM, and a failed run
/// leaves an existing file intact.
///
/// The rename is only used when `path` is absent or a regular file. Anything
/// else (`-o /dev/null`, a FIFO, `/dev/stdout`) is opened and written in
/// place: renaming over it would replace the device node with a regular file,
/// which, run as root, silently breaks `/dev/null` for the whole machine.
pub fn write_output(
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
pub fn is_regular_or_absent(p: &Path) -> bool {
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
            // Named by the directory and the output asked for: the
            // temporary name means nothing to the user.
            Err(e) => {
                return Err(e).with_context(|| {
                    format!(
                        "cannot write {}: cannot create a file in {}",
                        target.display(),
                        dir.display()
                    )
                });
            }
        }
    }
    bail!("cannot create a temporary file in {}", dir.display())
}

/// Writes `lines` to standard output, each followed by a newline, as raw
/// bytes (paths as the package managers print them).
pub fn print_byte_lines(lines: &[Vec<u8>]) -> Result<()> {
    let mut out = std::io::stdout().lock();
    for l in lines {
        out.write_all(l)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(())
}

/// Writes `text` to standard output; a reader that went away (EPIPE) ends
/// the output quietly.
pub fn print_text(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(e).context("cannot write to standard output"),
    }
}

/// Whether standard output is a terminal.
pub fn stdout_is_terminal() -> bool {
    std::io::stdout().is_terminal()
}

/// Whether colour is wanted on a terminal: `NO_COLOR` unset or empty.
pub fn color_allowed() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// `b` bytes in binary units with one decimal (`512 B`, `1.5 KiB`).
pub fn human_bytes(b: u64) -> String {
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

/// The scan's progress on standard error, shown only when standard error is
/// a terminal: a spinner with the bytes hashed and the entries done; once
/// the package databases tell how much there is to hash
/// ([`Progress::expect_bytes`]), a bar with that total and an ETA (an
/// estimate: past it, the total follows the bytes hashed).
/// The bar's position is the bytes hashed (so `{bytes}` and
/// `{bytes_per_sec}` are right); entries are counted beside it and shown in
/// the message, refreshed every 1024 entries.
pub struct ScanProgress(indicatif::ProgressBar, AtomicU64);

impl ScanProgress {
    /// A started bar when `wanted` and standard error is a terminal.
    pub fn start(wanted: bool) -> Option<Arc<ScanProgress>> {
        (wanted && std::io::stderr().is_terminal()).then(|| {
            let pb = indicatif::ProgressBar::new_spinner();
            pb.set_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} {msg:>16}  {bytes:>10} hashed  {bytes_per_sec:>12}  {elapsed}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
            );
            pb.enable_steady_tick(Duration::from_millis(120));
            Arc::new(ScanProgress(pb, AtomicU64::new(0)))
        })
    }

    /// Removes the bar from the terminal.
    pub fn finish(&self) {
        self.0.finish_and_clear();
    }
}

impl Progress for ScanProgress {
    fn entry_done(&self, bytes: u64) {
        if bytes > 0 {
            self.0.inc(bytes);
        }
        let n = self.1.fetch_add(1, Ordering::Relaxed) + 1;
        if n.is_multiple_of(1024) {
            self.0.set_message(format!("{n} entries"));
            if let Some(len) = self.0.length()
                && self.0.position() > len
            {
                self.0.set_length(self.0.position());
            }
        }
    }

    fn expect_bytes(&self, estimate: u64) {
        self.0.set_style(
            indicatif::ProgressStyle::with_template(
                "{msg:>14} [{bar:20}] {bytes:>9}/~{total_bytes:<9} {bytes_per_sec:>11} ETA {eta}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        self.0.set_length(estimate.max(self.0.position()));
    }
}

/// The environment variable with a log filter (`RUST_LOG`'s syntax:
/// `debug`, `bakeproof_store=trace,info`); it wins over `-v`.
pub const LOG_ENV: &str = "BAKEPROOF_LOG";

/// Standard error's logger for the libraries' `log` records: `-v` shows
/// `info` (what is being done), `-vv` `debug`, `-vvv` `trace`; without
/// either, warnings and errors only. Lines are `bakeproof: LEVEL: message`
/// (`[module]` added from `debug` on), drawn above a progress bar.
struct StderrLog(env_filter::Filter);

impl log::Log for StderrLog {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        self.0.enabled(metadata)
    }

    fn log(&self, record: &log::Record<'_>) {
        if !self.0.matches(record) {
            return;
        }
        let level = record.level().as_str().to_ascii_lowercase();
        let line = if record.level() >= log::Level::Debug {
            format!(
                "bakeproof: {level}: [{}] {}",
                record.target(),
                record.args()
            )
        } else {
            format!("bakeproof: {level}: {}", record.args())
        };
        let _ = writeln!(std::io::stderr().lock(), "{line}");
    }

    fn flush(&self) {}
}

/// Installs the logger (once, from `main`); a malformed BAKEPROOF_LOG is a
/// usage error rather than silently ignored.
pub fn init_logging(verbose: u8) -> Result<()> {
    let mut b = env_filter::Builder::new();
    match std::env::var(LOG_ENV) {
        Ok(spec) if !spec.trim().is_empty() => {
            b.try_parse(&spec)
                .map_err(|e| anyhow::anyhow!("{LOG_ENV}={spec:?}: {e}"))?;
        }
        _ => {
            b.filter_level(match verbose {
                0 => log::LevelFilter::Warn,
                1 => log::LevelFilter::Info,
                2 => log::LevelFilter::Debug,
                _ => log::LevelFilter::Trace,
            });
        }
    }
    let filter = b.build();
    log::set_max_level(filter.filter());
    log::set_boxed_logger(Box::new(StderrLog(filter)))
        .map_err(|e| anyhow::anyhow!("cannot install the logger: {e}"))?;
    Ok(())
}

/// The private key's password: `COSIGN_PASSWORD` when set (even empty, as
/// cosign does), else a prompt on the terminal (twice when `confirm`).
pub fn read_password(confirm: bool) -> Result<Zeroizing<String>, KeyError> {
    if let Some(p) = std::env::var_os(bakeproof_attest::keys::PASSWORD_ENV) {
        return Ok(Zeroizing::new(p.to_string_lossy().into_owned()));
    }
    let first = Zeroizing::new(
        rpassword::prompt_password("Enter password for private key: ")
            .map_err(|e| KeyError::NoPassword(e.to_string()))?,
    );
    if confirm {
        let again = Zeroizing::new(
            rpassword::prompt_password("Enter password for private key again: ")
                .map_err(|e| KeyError::NoPassword(e.to_string()))?,
        );
        if *again != *first {
            return Err(KeyError::PasswordMismatch);
        }
    }
    Ok(first)
}

#[cfg(test)]
mod chain_tests {
    use super::error_chain;

    /// As the libraries' thiserror types with `{source}` in the message
    /// and `#[source]` on the field.
    #[derive(Debug)]
    struct Open {
        path: String,
        source: std::io::Error,
    }

    impl std::fmt::Display for Open {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "cannot open root {}: {}", self.path, self.source)
        }
    }

    impl std::error::Error for Open {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.source)
        }
    }

    #[test]
    fn a_cause_the_message_already_shows_is_not_repeated() {
        let io = std::io::Error::from_raw_os_error(2);
        let want = format!("cannot open root /x: {io}");
        let e = anyhow::Error::new(Open {
            path: "/x".into(),
            source: io,
        });
        assert_eq!(error_chain(&e), want);
        // a cause the message does not show is kept, as `{:#}` keeps it
        let e = anyhow::Error::new(std::io::Error::from_raw_os_error(2)).context("reading /y");
        assert_eq!(error_chain(&e), format!("{e:#}"));
        assert!(error_chain(&e).starts_with("reading /y: "));
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn human_bytes_units() {
        assert_eq!(super::human_bytes(0), "0 B");
        assert_eq!(super::human_bytes(1023), "1023 B");
        assert_eq!(super::human_bytes(1536), "1.5 KiB");
        assert_eq!(super::human_bytes(5 << 40), "5.0 TiB");
        assert_eq!(super::human_bytes(5 << 50), "5120.0 TiB");
    }
}
