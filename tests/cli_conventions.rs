//! The conventions users of syft, trivy and cosign expect from the binary
//! itself: `version --json`, shell completion, manual pages, `-v` and
//! BAKEPROOF_LOG, and the scan's expected total. Each is checked against an
//! independent oracle: git, rustc, bash's completion machinery, zsh,
//! groff and man, dpkg-query.

mod common;

use std::path::Path;
use std::process::Command;

use common::run::{bakeproof, bakeproof_bin, describe, extract};
use common::schema::{repo_root, validate_with_schema};

fn run(args: &[&str]) -> std::process::Output {
    let a: Vec<&std::ffi::OsStr> = args.iter().map(std::ffi::OsStr::new).collect();
    bakeproof(&a)
}

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn git(args: &[&str]) -> Option<String> {
    let o = Command::new("git")
        .arg("-C")
        .arg(repo_root())
        .args(args)
        .output()
        .ok()?;
    o.status
        .success()
        .then(|| String::from_utf8_lossy(&o.stdout).trim().to_owned())
}

#[test]
fn version_json_names_the_commit_and_target_it_was_built_from() {
    let o = run(&["version", "--json"]);
    assert!(o.status.success(), "{}", describe(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    validate_with_schema("version.schema.json", &v).expect("schemas/version.schema.json");
    assert_eq!(v["version"], env!("CARGO_PKG_VERSION"));
    // The oracles: git for the commit and its date, rustc for the host
    // triple (the e2e binary is a host build).
    let head = git(&["rev-parse", "HEAD"]).expect("the tests run in a git checkout");
    assert_eq!(v["commit"], head.as_str());
    let ct: i64 = git(&["log", "-1", "--format=%ct"])
        .unwrap()
        .parse()
        .unwrap();
    let date = v["commit_date"].as_str().expect("commit_date");
    let parsed = time::OffsetDateTime::parse(date, &time::format_description::well_known::Rfc3339)
        .expect("RFC 3339");
    assert_eq!(parsed.unix_timestamp(), ct, "{date}");
    let rustc = Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into()))
        .arg("-vV")
        .output()
        .expect("rustc -vV");
    let host = String::from_utf8_lossy(&rustc.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_owned))
        .expect("host line");
    assert_eq!(v["target"], host.as_str());
    assert!(v["rustc"].as_str().unwrap().starts_with("rustc "), "{v}");

    // The text form says the same in one line people read.
    let o = run(&["version"]);
    assert!(o.status.success(), "{}", describe(&o));
    let first = stdout(&o).lines().next().unwrap_or_default().to_owned();
    assert!(
        first.starts_with(&format!(
            "bakeproof {} ({}",
            env!("CARGO_PKG_VERSION"),
            &head[..12]
        )),
        "{first}"
    );
}

/// Every command `bakeproof help` lists (clap's own listing is the oracle
/// of what the completion and the manual must cover).
fn commands() -> Vec<String> {
    let o = run(&["help"]);
    assert!(o.status.success(), "{}", describe(&o));
    let text = stdout(&o);
    let mut in_commands = false;
    let mut out = Vec::new();
    for l in text.lines() {
        if l.starts_with("Commands:") {
            in_commands = true;
            continue;
        }
        if in_commands {
            if l.trim().is_empty() {
                break;
            }
            if let Some(name) = l.split_whitespace().next()
                && l.starts_with("  ")
                && !l.starts_with("   ")
                && name != "help"
            {
                out.push(name.to_owned());
            }
        }
    }
    assert!(
        out.len() >= 10,
        "commands from `bakeproof help`: {out:?}\n{text}"
    );
    out
}

/// bash's own completion machinery, fed the generated script: completing
/// `bakeproof <TAB>` offers every command, `bakeproof scan --exc<TAB>`
/// offers `--exclude`.
#[test]
fn bash_completion_completes_commands_and_flags() {
    let o = run(&["completion", "bash"]);
    assert!(o.status.success(), "{}", describe(&o));
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("bakeproof.bash");
    std::fs::write(&script, &o.stdout).unwrap();
    let complete = |words: &str, cword: usize| -> Vec<String> {
        let prog = format!(
            "source {}; COMP_WORDS=({words}); COMP_CWORD={cword}; COMP_LINE='{words}'; COMP_POINT=${{#COMP_LINE}}; \
             f=$(complete -p bakeproof | sed -E 's/.*-F ([^ ]+).*/\\1/'); \
             \"$f\" bakeproof \"${{COMP_WORDS[$COMP_CWORD]}}\" \"${{COMP_WORDS[$((COMP_CWORD-1))]}}\"; \
             printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            script.display()
        );
        let out = Command::new("bash")
            .arg("--norc")
            .arg("-c")
            .arg(prog)
            .output()
            .expect("bash");
        assert!(out.status.success(), "{}", describe(&out));
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_owned)
            .collect()
    };
    let offered = complete("bakeproof ''", 1);
    for c in commands() {
        assert!(
            offered.contains(&c),
            "`bakeproof <TAB>` lacks {c}: {offered:?}"
        );
    }
    let offered = complete("bakeproof scan --exc", 2);
    assert_eq!(offered, vec!["--exclude".to_owned()]);
    let offered = complete("bakeproof verify --lev", 2);
    assert_eq!(offered, vec!["--level".to_owned()]);
}

/// zsh parses and loads the zsh script (`compdef` through compinit); the
/// other shells' scripts are at least written.
#[test]
fn zsh_and_other_shells_completion_scripts() {
    let o = run(&["completion", "zsh"]);
    assert!(o.status.success(), "{}", describe(&o));
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("_bakeproof");
    std::fs::write(&script, &o.stdout).unwrap();
    let zsh = Command::new("zsh")
        .arg("-f")
        .arg("-c")
        .arg(format!(
            "fpath=({} $fpath); autoload -Uz compinit && compinit -u -D && autoload -Uz _bakeproof && \
             (( $+functions[_bakeproof] )) && print ok",
            dir.path().display()
        ))
        .env("HOME", dir.path())
        .output()
        .expect("zsh (installed by tests/run-all.sh)");
    assert!(
        zsh.status.success() && stdout(&zsh).trim() == "ok",
        "{}",
        describe(&zsh)
    );
    let syntax = Command::new("zsh")
        .arg("-n")
        .arg(&script)
        .output()
        .expect("zsh");
    assert!(syntax.status.success(), "{}", describe(&syntax));
    for shell in ["fish", "elvish", "powershell"] {
        let o = run(&["completion", shell]);
        assert!(
            o.status.success() && !o.stdout.is_empty(),
            "{shell}: {}",
            describe(&o)
        );
        assert!(stdout(&o).contains("exclude"), "{shell}");
    }
    let bad = run(&["completion", "tcsh"]);
    assert_eq!(bad.status.code(), Some(2), "{}", describe(&bad));
}

/// One page per command (and for the top level), each formatted by groff
/// without a warning, and `man -l` shows each command's options.
#[test]
fn man_pages_for_every_command_format_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("man1");
    let o = run(&["man", "-o", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", describe(&o));
    let mut pages = vec!["bakeproof".to_owned()];
    pages.extend(commands().into_iter().map(|c| format!("bakeproof-{c}")));
    for page in &pages {
        let path = out.join(format!("{page}.1"));
        assert!(path.is_file(), "{} missing", path.display());
        let g = Command::new("groff")
            .args(["-man", "-Tutf8", "-ww", "-z"])
            .arg(&path)
            .output()
            .expect("groff");
        assert!(
            g.status.success() && g.stderr.is_empty(),
            "{page}: {}",
            describe(&g)
        );
    }
    let m = Command::new("man")
        .arg("-l")
        .arg(out.join("bakeproof-scan.1"))
        .env("MANPAGER", "cat")
        .env("MANWIDTH", "100")
        .output()
        .expect("man");
    assert!(m.status.success(), "{}", describe(&m));
    let text = stdout(&m);
    for want in ["--exclude", "--packages-only", "--cross-mounts"] {
        assert!(
            text.contains(want),
            "man bakeproof-scan lacks {want}:\n{text}"
        );
    }
    let top = Command::new("man")
        .arg("-l")
        .arg(out.join("bakeproof.1"))
        .env("MANPAGER", "cat")
        .output()
        .expect("man");
    assert!(stdout(&top).contains("--verbose"), "{}", describe(&top));
}

/// The packages' installed sizes as dpkg-query reports them, in bytes.
fn dpkg_installed_bytes(root: &Path) -> u64 {
    let o = Command::new("dpkg-query")
        .arg(format!(
            "--admindir={}",
            root.join("var/lib/dpkg").display()
        ))
        .args(["-W", "-f", "${Installed-Size}\\n"])
        .output()
        .expect("dpkg-query");
    assert!(o.status.success(), "{}", describe(&o));
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.trim().parse::<u64>().expect("KiB") * 1024)
        .sum()
}

/// `-v` says what is being done: the databases found with their package
/// counts (dpkg-query's), the walk; `-vv` the progress bar's expected total
/// (the installed sizes dpkg-query reports); BAKEPROOF_LOG sets the level
/// too, and a malformed one is a usage error, not silently ignored.
#[test]
fn verbose_reports_what_is_done() {
    let root_dir = extract("dpkgroot/clean.tar.gz");
    let root = root_dir.path().to_owned();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("sbom.json");
    let count = {
        let o = Command::new("dpkg-query")
            .arg(format!(
                "--admindir={}",
                root.join("var/lib/dpkg").display()
            ))
            .args(["-W", "-f", "${Package}\\n"])
            .output()
            .expect("dpkg-query");
        String::from_utf8_lossy(&o.stdout).lines().count()
    };
    let quiet = Command::new(bakeproof_bin())
        .args(["scan", "-q", "-o"])
        .arg(&out)
        .arg(&root)
        .output()
        .unwrap();
    assert!(quiet.status.success(), "{}", describe(&quiet));
    assert!(quiet.stderr.is_empty(), "{}", describe(&quiet));

    let v = Command::new(bakeproof_bin())
        .args(["-v", "scan", "-q", "-o"])
        .arg(&out)
        .arg(&root)
        .output()
        .unwrap();
    assert!(v.status.success(), "{}", describe(&v));
    let e = stderr(&v);
    assert!(
        e.contains(&format!(
            "bakeproof: info: dpkg database /var/lib/dpkg/status: {count} packages"
        )),
        "{e}"
    );
    assert!(e.contains("bakeproof: info: walking "), "{e}");
    assert!(!e.contains("bakeproof: debug:"), "-v is info only: {e}");

    let vv = Command::new(bakeproof_bin())
        .args(["scan", "-vv", "-o"])
        .arg(&out)
        .arg(&root)
        .output()
        .unwrap();
    assert!(vv.status.success(), "{}", describe(&vv));
    let e = stderr(&vv);
    let want = dpkg_installed_bytes(&root);
    assert!(
        e.contains(&format!("about {want} bytes to hash")),
        "expected total {want} (dpkg-query Installed-Size) not in:\n{e}"
    );

    let env = Command::new(bakeproof_bin())
        .args(["scan", "-q", "-o"])
        .arg(&out)
        .arg(&root)
        .env("BAKEPROOF_LOG", "bakeproof_pkgdb=info")
        .output()
        .unwrap();
    let e = stderr(&env);
    assert!(e.contains("dpkg database"), "{e}");
    assert!(!e.contains("walking"), "only bakeproof_pkgdb: {e}");

    let bad = Command::new(bakeproof_bin())
        .args(["version"])
        .env("BAKEPROOF_LOG", "bakeproof_store=loud")
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2), "{}", describe(&bad));
    assert!(stderr(&bad).contains("BAKEPROOF_LOG"), "{}", describe(&bad));
}

/// The common flags from BAKEPROOF_* variables (a Packer template or a
/// systemd drop-in sets them once): BAKEPROOF_KEY signs, BAKEPROOF_PUBLIC_KEY
/// verifies (a wrong one fails, so the variable is what is used),
/// BAKEPROOF_STORE is where publish and diff go, BAKEPROOF_THREADS sizes the
/// walk; a flag wins over its variable.
#[test]
fn environment_variables_stand_for_the_common_flags() {
    const PW: &str = "env-test-password";
    let s = common::attest::attest_inputs(PW);
    let other = tempfile::tempdir().unwrap();
    let o = Command::new(bakeproof_bin())
        .args(["key", "generate", "--output-dir"])
        .arg(other.path())
        .env("COSIGN_PASSWORD", PW)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", describe(&o));
    let out = s.p("out");
    let ami = "eu-west-1:ami-0123456789abcdef0";
    let bp = |args: &[&str], env: &[(&str, &Path)]| {
        let mut c = Command::new(bakeproof_bin());
        c.args(args).env("COSIGN_PASSWORD", PW);
        for k in [
            "BAKEPROOF_KEY",
            "BAKEPROOF_PUBLIC_KEY",
            "BAKEPROOF_STORE",
            "BAKEPROOF_THREADS",
        ] {
            c.env_remove(k);
        }
        for (k, v) in env {
            c.env(k, v);
        }
        c.output().unwrap()
    };
    let sbom = s.s("sbom.cdx.json");
    let seal = s.s("seal.json");
    let o = bp(
        &[
            "attest",
            "--sbom",
            &sbom,
            "--seal",
            &seal,
            "--ami",
            ami,
            "--allow-unsealed",
            "-o",
            out.to_str().unwrap(),
        ],
        &[("BAKEPROOF_KEY", &s.p("cosign.key"))],
    );
    assert!(
        o.status.success(),
        "attest with BAKEPROOF_KEY: {}",
        describe(&o)
    );
    let bundles: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".sigstore.json"))
        .map(|p| p.to_str().unwrap().to_owned())
        .collect();
    assert!(!bundles.is_empty());
    let mut va = vec!["verify-attestation"];
    va.extend(bundles.iter().map(String::as_str));
    let good = bp(&va, &[("BAKEPROOF_PUBLIC_KEY", &s.p("cosign.pub"))]);
    assert!(good.status.success(), "{}", describe(&good));
    let wrong = bp(
        &va,
        &[("BAKEPROOF_PUBLIC_KEY", &other.path().join("cosign.pub"))],
    );
    assert_eq!(wrong.status.code(), Some(1), "{}", describe(&wrong));
    // The flag wins over the variable.
    let mut flagged = va.clone();
    let pubkey = s.s("cosign.pub");
    flagged.extend(["--key", &pubkey]);
    let o = bp(
        &flagged,
        &[("BAKEPROOF_PUBLIC_KEY", &other.path().join("cosign.pub"))],
    );
    assert!(
        o.status.success(),
        "--key over BAKEPROOF_PUBLIC_KEY: {}",
        describe(&o)
    );

    let store = s.p("store");
    let o = bp(
        &["publish", out.to_str().unwrap()],
        &[("BAKEPROOF_STORE", &store)],
    );
    assert!(
        o.status.success(),
        "publish with BAKEPROOF_STORE: {}",
        describe(&o)
    );
    assert!(
        store
            .join("amis/eu-west-1/ami-0123456789abcdef0/index.json")
            .is_file(),
        "the index is in the store named by BAKEPROOF_STORE"
    );
    let o = bp(
        &["diff", ami, &sbom, "--format", "json"],
        &[
            ("BAKEPROOF_STORE", &store),
            ("BAKEPROOF_PUBLIC_KEY", &s.p("cosign.pub")),
        ],
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "diff REGION:AMI from the environment: {}",
        describe(&o)
    );
    let d: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(d["summary"]["added"], 0, "{d}");

    let o = bp(
        &[
            "-v",
            "scan",
            "-q",
            "-o",
            s.p("again.json").to_str().unwrap(),
            s.root.path().to_str().unwrap(),
        ],
        &[("BAKEPROOF_THREADS", Path::new("1"))],
    );
    assert!(o.status.success(), "{}", describe(&o));
    assert!(stderr(&o).contains("with 1 threads"), "{}", describe(&o));
}
