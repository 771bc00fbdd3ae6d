//! The systemd facts against the real `systemctl --root=DIR
//! list-unit-files` (systemd 252 on Debian 12) on generated unit trees:
//! unit files in every unit directory with `[Install]` sections of every
//! kind, `*.wants`/`*.requires` links under their own names, aliases,
//! instances and other names, absolute, relative and dangling targets,
//! masks, aliases, same-named links, usrmerged and split roots.

mod common;

use std::collections::BTreeMap;
use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::Command;

use bakeproof_audit::facts::systemd;
use bakeproof_index::Root;

fn systemctl(root: &Path, enabled_only: bool) -> BTreeMap<String, String> {
    let mut cmd = Command::new("systemctl");
    cmd.arg(format!("--root={}", root.display())).args([
        "list-unit-files",
        "--no-legend",
        "--no-pager",
    ]);
    if enabled_only {
        cmd.arg("--state=enabled");
    }
    let out = cmd.output().expect("systemctl (systemd) is installed");
    // With --state and nothing to list, systemctl exits 1 silently.
    assert!(
        out.status.success() || (enabled_only && out.stdout.is_empty()),
        "systemctl failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            Some((w.next()?.to_string(), w.next()?.to_string()))
        })
        .collect()
}

fn ours(root: &Path) -> systemd::UnitFacts {
    systemd::read(&Root::open(root).expect("open root"))
}

fn listing(root: &Path) -> String {
    let out = Command::new("find")
        .arg(root)
        .args(["-printf", "%P %y %l\\n"])
        .output()
        .expect("find");
    let mut s = String::from_utf8_lossy(&out.stdout).into_owned();
    for e in walk(root) {
        if e.is_file()
            && !e.is_symlink()
            && let Ok(t) = std::fs::read_to_string(&e)
        {
            s.push_str(&format!(
                "--- {}\n{t}",
                e.strip_prefix(root).unwrap_or(&e).display()
            ));
        }
    }
    s
}

fn walk(p: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(p) {
        for e in rd.flatten() {
            let path = e.path();
            if path.is_dir() && !path.is_symlink() {
                out.extend(walk(&path));
            } else {
                out.push(path);
            }
        }
    }
    out
}

fn compare(root: &Path) -> Result<(), String> {
    let theirs = systemctl(root, false);
    let mine = ours(root);
    let mut diffs = Vec::new();
    for (k, v) in &theirs {
        match mine.states.get(k) {
            Some(m) if m == v => {}
            m => diffs.push(format!("{k}: systemctl {v}, ours {m:?}")),
        }
    }
    for (k, v) in &mine.states {
        if !theirs.contains_key(k) {
            diffs.push(format!("{k}: ours {v}, systemctl lists none"));
        }
    }
    let enabled: Vec<String> = systemctl(root, true).into_keys().collect();
    if enabled != mine.enabled() {
        diffs.push(format!(
            "--state=enabled: systemctl {enabled:?}, ours {:?}",
            mine.enabled()
        ));
    }
    if diffs.is_empty() {
        Ok(())
    } else {
        Err(diffs.join("\n"))
    }
}

fn write(root: &Path, path: &str, text: &str) {
    let p = root.join(path.trim_start_matches('/'));
    std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
    std::fs::write(p, text).expect("write");
}

fn link(root: &Path, path: &str, target: &str) {
    let p = root.join(path.trim_start_matches('/'));
    std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
    let _ = std::fs::remove_file(&p);
    symlink(target, p).expect("symlink");
}

#[test]
fn debian_like_tree() {
    let dir = tempfile::tempdir().expect("tmp");
    let r = dir.path();
    std::fs::create_dir_all(r.join("usr/lib")).expect("mkdir");
    symlink("usr/lib", r.join("lib")).expect("usrmerge");
    let svc = "[Unit]\nDescription=x\n[Service]\nExecStart=/bin/true\n";
    write(
        r,
        "/usr/lib/systemd/system/ssh.service",
        &format!("{svc}[Install]\nWantedBy=multi-user.target\nAlias=sshd.service\n"),
    );
    write(
        r,
        "/usr/lib/systemd/system/ssh.socket",
        "[Socket]\nListenStream=22\n[Install]\nWantedBy=sockets.target\n",
    );
    write(
        r,
        "/usr/lib/systemd/system/cron.service",
        &format!("{svc}[Install]\nWantedBy=multi-user.target\n"),
    );
    write(
        r,
        "/usr/lib/systemd/system/nftables.service",
        &format!("{svc}[Install]\nWantedBy=sysinit.target\n"),
    );
    write(
        r,
        "/usr/lib/systemd/system/getty@.service",
        &format!("{svc}[Install]\nWantedBy=getty.target\nDefaultInstance=tty1\n"),
    );
    write(
        r,
        "/usr/lib/systemd/system/multi-user.target",
        "[Unit]\nDescription=m\n",
    );
    write(
        r,
        "/usr/lib/systemd/system/rsync.service",
        &format!("{svc}[Install]\nWantedBy=multi-user.target\n"),
    );
    link(
        r,
        "/etc/systemd/system/multi-user.target.wants/ssh.service",
        "/lib/systemd/system/ssh.service",
    );
    link(
        r,
        "/etc/systemd/system/sshd.service",
        "/lib/systemd/system/ssh.service",
    );
    link(
        r,
        "/etc/systemd/system/multi-user.target.wants/cron.service",
        "/lib/systemd/system/cron.service",
    );
    link(
        r,
        "/etc/systemd/system/getty.target.wants/getty@tty1.service",
        "/lib/systemd/system/getty@.service",
    );
    link(r, "/etc/systemd/system/rsync.service", "/dev/null");
    compare(r).unwrap_or_else(|e| panic!("{}\n{e}", listing(r)));
    let facts = ours(r);
    assert!(facts.is_enabled("ssh"));
    assert!(facts.is_enabled("sshd"), "through its alias");
    assert_eq!(facts.state("sshd"), Some("alias"));
    assert!(!facts.is_enabled("nftables"));
    assert_eq!(facts.state("rsync"), Some("masked"));
}

#[test]
fn links_out_of_the_root_never_read_the_host() {
    let dir = tempfile::tempdir().expect("tmp");
    let r = dir.path();
    // The host's own unit directory is not this root's: a unit linked
    // to a host path is read inside the root (where it is missing).
    let host = tempfile::tempdir().expect("tmp");
    let unit = host.path().join("evil.service");
    std::fs::write(&unit, "[Install]\nWantedBy=multi-user.target\n").expect("write");
    link(
        r,
        "/etc/systemd/system/evil.service",
        &unit.display().to_string(),
    );
    link(
        r,
        "/etc/systemd/system/multi-user.target.wants/evil.service",
        &unit.display().to_string(),
    );
    let facts = ours(r);
    assert_eq!(facts.state("evil"), Some("bad"), "{facts:?}");
    compare(r).unwrap_or_else(|e| panic!("{}\n{e}", listing(r)));
}

use common::Rng;

const NAMES: &[&str] = &[
    "a.service",
    "b.service",
    "c.socket",
    "d.timer",
    "e.service",
    "t@.service",
    "u@.service",
    "x.target",
    "web.service",
];

const DIRS: &[&str] = &[
    "/etc/systemd/system",
    "/run/systemd/system",
    "/usr/local/lib/systemd/system",
    "/lib/systemd/system",
    "/usr/lib/systemd/system",
    "/etc/systemd/system.control",
    "/run/systemd/generator",
];

fn install(rng: &mut Rng, name: &str) -> String {
    let mut s = String::from("[Unit]\nDescription=generated\n");
    if rng.below(5) == 0 {
        return s;
    }
    s.push_str("[Install]\n");
    for _ in 0..1 + rng.below(3) {
        let line = match rng.below(9) {
            0 | 1 => "WantedBy=multi-user.target".to_string(),
            2 => "RequiredBy=x.target".to_string(),
            3 => "UpheldBy=x.target".to_string(),
            4 => format!("Alias={}", alias_of(name)),
            5 => "Also=a.service".to_string(),
            6 if name.contains("@.") => "DefaultInstance=one".to_string(),
            7 => "WantedBy=".to_string(),
            _ => "# nothing".to_string(),
        };
        s.push_str(&line);
        s.push('\n');
    }
    s
}

fn alias_of(name: &str) -> String {
    let (stem, suffix) = name.rsplit_once('.').unwrap_or((name, "service"));
    format!("{}-alias.{suffix}", stem.trim_end_matches('@'))
}

fn link_name(rng: &mut Rng, name: &str) -> String {
    match rng.below(5) {
        0 => alias_of(name),
        1 if name.contains("@.") => name.replace("@.", "@one."),
        2 if name.contains("@.") => name.replace("@.", "@two."),
        3 => (*rng.pick(NAMES)).to_string(),
        _ => name.to_string(),
    }
}

fn gen_tree(rng: &mut Rng, r: &Path) {
    if rng.below(2) == 0 {
        std::fs::create_dir_all(r.join("usr/lib")).expect("mkdir");
        symlink("usr/lib", r.join("lib")).expect("usrmerge");
    }
    let mut placed: Vec<(String, String)> = Vec::new();
    for _ in 0..2 + rng.below(7) {
        let name = *rng.pick(NAMES);
        let dir = if rng.below(3) == 0 {
            *rng.pick(DIRS)
        } else {
            *rng.pick(&["/lib/systemd/system", "/usr/lib/systemd/system"])
        };
        let text = if rng.below(12) == 0 {
            String::new()
        } else {
            install(rng, name)
        };
        write(r, &format!("{dir}/{name}"), &text);
        placed.push((dir.to_string(), name.to_string()));
    }
    for _ in 0..rng.below(8) {
        let (dir, name) = rng.pick(&placed).clone();
        let target = match rng.below(5) {
            0 => format!("../{name}"),
            1 => format!("/nowhere/{name}"),
            2 => format!("{dir}/{name}"),
            _ => format!("/lib/systemd/system/{name}"),
        };
        let cfg = *rng.pick(&[
            "/etc/systemd/system",
            "/etc/systemd/system",
            "/etc/systemd/system",
            "/run/systemd/system",
            "/lib/systemd/system",
            "/etc/systemd/system.control",
        ]);
        let sub = *rng.pick(&[
            "multi-user.target.wants",
            "x.target.requires",
            "x.target.upholds",
            "x.target.d",
            "",
        ]);
        let lname = link_name(rng, &name);
        let at = if sub.is_empty() {
            format!("{cfg}/{lname}")
        } else {
            format!("{cfg}/{sub}/{lname}")
        };
        if sub.is_empty() && (lname == name || rng.below(3) == 0) {
            // A top-level link under the unit's own name: a mask, a link
            // into another unit directory (bad) or out of them (linked).
            match rng.below(3) {
                0 => link(r, &at, "/dev/null"),
                1 => {
                    write(r, &format!("/opt/units/{lname}"), &install(rng, &lname));
                    link(r, &at, &format!("/opt/units/{lname}"));
                }
                _ => link(r, &at, &target),
            }
        } else {
            link(r, &at, &target);
        }
    }
}

#[test]
fn generated_unit_trees_match_systemctl() {
    let mut failures = Vec::new();
    let cases = 300;
    for seed in 1..=cases as u64 {
        let mut rng = Rng(0x2545_f491_4f6c_dd1d ^ seed.wrapping_mul(0x9e37_79b9));
        let dir = tempfile::tempdir().expect("tmp");
        gen_tree(&mut rng, dir.path());
        if let Err(e) = compare(dir.path()) {
            failures.push(format!("seed {seed}:\n{}{e}\n", listing(dir.path())));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {cases} generated trees differ from systemctl --root:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn this_machine_matches_systemctl() {
    // The running system's own unit directories, read-only.
    compare(Path::new("/")).unwrap_or_else(|e| panic!("/:\n{e}"));
}
