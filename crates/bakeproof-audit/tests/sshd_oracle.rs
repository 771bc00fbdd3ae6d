//! The sshd facts against the real `sshd -T` (openssh-server, installed by
//! tests/run-all.sh) on the same files: generated configurations with
//! drop-ins, `Include` globs and relative paths, `Match` blocks, every
//! separator and quoting form, case variants, comments and errors.
//!
//! sshd reads `/etc/ssh`; the test runs it in a private mount namespace
//! (`unshare -m`) where the scratch root's `etc/ssh` is bind-mounted on
//! `/etc/ssh` and a tmpfs on `/run` (its privilege separation directory),
//! so nothing outside the scratch space is touched.

mod common;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use bakeproof_audit::facts::sshd;
use bakeproof_index::Root;

const SSHD: &str = "/usr/sbin/sshd";

fn require_tools() {
    assert!(
        Path::new(SSHD).exists(),
        "{SSHD} missing: install openssh-server (tests/run-all.sh does)"
    );
    assert!(
        Command::new("unshare")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success()),
        "unshare (util-linux) missing"
    );
}

/// `sshd -T` on ROOT/etc/ssh: Ok(keyword → lines) or Err(stderr).
fn sshd_t(root: &Path) -> Result<BTreeMap<String, Vec<String>>, String> {
    let etc = root.join("etc/ssh");
    let script = format!(
        "set -e; mount --make-rprivate /; mount --bind '{}' /etc/ssh; \
         mount -t tmpfs tmpfs /run; mkdir -p /run/sshd; cd /; exec {SSHD} -T -f /etc/ssh/sshd_config",
        etc.display()
    );
    let out = Command::new("unshare")
        .args(["-m", "sh", "-c", &script])
        .output()
        .expect("run unshare");
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let (k, v) = line.split_once(' ').unwrap_or((line, ""));
        map.entry(k.to_string()).or_default().push(v.to_string());
    }
    Ok(map)
}

fn host_key(root: &Path) {
    let key = root.join("etc/ssh/ssh_host_ed25519_key");
    let st = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&key)
        .status()
        .expect("ssh-keygen");
    assert!(st.success());
}

/// Writes `files` (path under the root → text) into a fresh root with a
/// host key, returns (ours, sshd's).
struct Case {
    dir: tempfile::TempDir,
}

impl Case {
    fn new(files: &[(String, String)]) -> Case {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("etc/ssh/sshd_config.d")).expect("mkdir");
        host_key(dir.path());
        for (p, text) in files {
            let path = dir.path().join(p.trim_start_matches('/'));
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(&path, text).expect("write");
        }
        Case { dir }
    }
    fn ours(&self) -> sshd::SshdConfig {
        let root = Root::open(self.dir.path()).expect("open root");
        sshd::read(&root)
            .expect("read")
            .expect("sshd_config present")
    }
    fn describe(&self) -> String {
        let mut s = String::new();
        let base = self.dir.path();
        let mut stack = vec![base.join("etc/ssh")];
        while let Some(d) = stack.pop() {
            let Ok(rd) = std::fs::read_dir(&d) else {
                continue;
            };
            let mut ents: Vec<_> = rd.flatten().collect();
            ents.sort_by_key(|e| e.path());
            for e in ents {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else if !p.to_string_lossy().contains("host_") {
                    let _ = writeln!(
                        s,
                        "--- {}\n{}",
                        p.strip_prefix(base).unwrap_or(&p).display(),
                        std::fs::read_to_string(&p).unwrap_or_default()
                    );
                }
            }
        }
        s
    }
}

/// Our facts against sshd's output: every keyword sshd prints (but the
/// host keys, which sshd lists with the test's key, and what we flag as
/// unresolved) has our value, and we print nothing sshd does not.
fn compare(case: &Case) -> Result<(), String> {
    let ours = case.ours();
    let theirs = sshd_t(case.dir.path());
    match (&ours.error, theirs) {
        (Some(_), Err(_)) => Ok(()),
        (Some(e), Ok(_)) => Err(format!("we refuse ({e}), sshd accepts")),
        (None, Err(e)) => Err(format!("sshd refuses ({}), we accept", e.trim())),
        (None, Ok(theirs)) => {
            let mut diffs = Vec::new();
            for (k, v) in &theirs {
                if ours.unresolved.contains(k) {
                    continue;
                }
                match ours.values.get(k) {
                    Some(o) if o == v => {}
                    o => diffs.push(format!("{k}: sshd {v:?}, ours {o:?}")),
                }
            }
            for k in ours.values.keys() {
                if !theirs.contains_key(k) && !ours.unresolved.contains(k) {
                    diffs.push(format!("{k}: ours {:?}, sshd prints none", ours.values[k]));
                }
            }
            if diffs.is_empty() {
                Ok(())
            } else {
                Err(diffs.join("\n"))
            }
        }
    }
}

fn check(files: &[(&str, &str)]) {
    let files: Vec<(String, String)> = files
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    let case = Case::new(&files);
    if let Err(e) = compare(&case) {
        panic!("{}\n{e}", case.describe());
    }
}

const MAIN: &str = "/etc/ssh/sshd_config";

#[test]
fn empty_configuration_is_the_builtin_defaults() {
    require_tools();
    check(&[(MAIN, "")]);
}

#[test]
fn debian_layout_with_drop_ins() {
    require_tools();
    check(&[
        (
            MAIN,
            "Include /etc/ssh/sshd_config.d/*.conf\nKbdInteractiveAuthentication no\nUsePAM yes\n\
             X11Forwarding yes\nPrintMotd no\nAcceptEnv LANG LC_*\n\
             Subsystem\tsftp\t/usr/lib/openssh/sftp-server\nPermitRootLogin yes\n",
        ),
        (
            "/etc/ssh/sshd_config.d/50-cloud-init.conf",
            "PasswordAuthentication no\n",
        ),
        (
            "/etc/ssh/sshd_config.d/10-hardening.conf",
            "PermitRootLogin no\nPasswordAuthentication yes\nMaxAuthTries 3\n",
        ),
        ("/etc/ssh/sshd_config.d/.hidden.conf", "X11Forwarding no\n"),
        ("/etc/ssh/sshd_config.d/readme.txt", "PermitRootLogin yes\n"),
    ]);
}

#[test]
fn relative_include_nested_and_match_in_drop_in() {
    require_tools();
    check(&[
        (MAIN, "Include sub/*.conf extra.conf\nPermitRootLogin yes\n"),
        (
            "/etc/ssh/sub/a.conf",
            "Match User admin\nPermitRootLogin yes\nPasswordAuthentication yes\n",
        ),
        (
            "/etc/ssh/sub/b.conf",
            "PasswordAuthentication no\nInclude deeper.conf\n",
        ),
        ("/etc/ssh/deeper.conf", "ClientAliveInterval 5m\n"),
        ("/etc/ssh/extra.conf", "LoginGraceTime 1m30s\n"),
    ]);
}

#[test]
fn the_packaged_debian_sshd_config() {
    require_tools();
    // The file openssh-server installs on Debian 12 (the one on this
    // machine, when it is the packaged one), with a cloud drop-in.
    let packaged = std::fs::read_to_string("/usr/share/openssh/sshd_config")
        .or_else(|_| std::fs::read_to_string("/etc/ssh/sshd_config"))
        .expect("openssh-server's sshd_config");
    check(&[
        (MAIN, packaged.as_str()),
        (
            "/etc/ssh/sshd_config.d/60-cloudimg-settings.conf",
            "PasswordAuthentication no\n",
        ),
    ]);
}

#[test]
fn include_inside_match_blocks() {
    require_tools();
    // Included from a Match block that does not apply: the file's own
    // Match all does not apply either; from Match all, it does.
    check(&[
        (MAIN, "Match User x\nInclude /etc/ssh/m.conf\n"),
        (
            "/etc/ssh/m.conf",
            "PermitRootLogin yes\nMatch all\nX11Forwarding yes\n",
        ),
    ]);
    check(&[
        (
            MAIN,
            "PermitRootLogin no\nMatch all\nInclude /etc/ssh/m.conf\n",
        ),
        (
            "/etc/ssh/m.conf",
            "PermitRootLogin yes\nX11Forwarding yes\n",
        ),
    ]);
}

#[test]
fn match_all_replaces_global_values() {
    require_tools();
    check(&[(
        MAIN,
        "PermitRootLogin no\nAcceptEnv A B\nMatch all\nPermitRootLogin yes\nAcceptEnv C\n",
    )]);
    check(&[
        (
            MAIN,
            "Include /etc/ssh/sshd_config.d/*\nPermitRootLogin no\n",
        ),
        (
            "/etc/ssh/sshd_config.d/x",
            "Match all\nPasswordAuthentication no\nX11Forwarding yes\n",
        ),
    ]);
}

#[test]
fn include_loop_and_bad_lines_are_refused_like_sshd() {
    require_tools();
    check(&[(MAIN, "Include /etc/ssh/sshd_config\n")]);
    check(&[(MAIN, "NoSuchOption yes\n")]);
    check(&[(MAIN, "PermitRootLogin\n")]);
    check(&[(MAIN, "PermitRootLogin maybe\n")]);
    check(&[(MAIN, "Banner \"/x\n")]);
    check(&[(MAIN, "Match User x\nPort 2222\n")]);
}

#[test]
fn symlink_out_of_the_root_never_reads_the_host() {
    let outside = tempfile::NamedTempFile::new().expect("tmp");
    std::fs::write(outside.path(), "PermitRootLogin yes\n").expect("write");
    let case = Case::new(&[(
        MAIN.to_string(),
        "Include /etc/ssh/sshd_config.d/*.conf\n".to_string(),
    )]);
    std::os::unix::fs::symlink(
        outside.path(),
        case.dir.path().join("etc/ssh/sshd_config.d/evil.conf"),
    )
    .expect("symlink");
    let ours = case.ours();
    assert_ne!(ours.get("permitrootlogin").as_deref(), Some("yes"));
    assert!(
        ours.error.is_some(),
        "a dangling include is sshd's fatal error"
    );
    // A relative link that climbs out stops at the root.
    let case = Case::new(&[
        (
            MAIN.to_string(),
            "Include /etc/ssh/sshd_config.d/*.conf\n".to_string(),
        ),
        (
            "/inside.conf".to_string(),
            "PermitRootLogin no\n".to_string(),
        ),
    ]);
    std::os::unix::fs::symlink(
        "../../../../../../../../inside.conf",
        case.dir.path().join("etc/ssh/sshd_config.d/up.conf"),
    )
    .expect("symlink");
    assert_eq!(case.ours().get("permitrootlogin").as_deref(), Some("no"));
}

// ---- generated configurations ------------------------------------------------

use common::Rng;

/// (keyword, valid values).
const POOL: &[(&str, &[&str])] = &[
    (
        "PermitRootLogin",
        &[
            "yes",
            "no",
            "prohibit-password",
            "without-password",
            "forced-commands-only",
            "NO",
        ],
    ),
    ("PasswordAuthentication", &["yes", "no", "Yes"]),
    ("KbdInteractiveAuthentication", &["yes", "no"]),
    ("ChallengeResponseAuthentication", &["yes", "no"]),
    ("PubkeyAuthentication", &["yes", "no"]),
    ("PermitEmptyPasswords", &["yes", "no"]),
    ("UsePAM", &["yes", "no"]),
    ("X11Forwarding", &["yes", "no"]),
    (
        "AllowTcpForwarding",
        &["yes", "no", "local", "remote", "all"],
    ),
    ("AllowAgentForwarding", &["yes", "no"]),
    ("GatewayPorts", &["yes", "no", "clientspecified"]),
    ("Compression", &["yes", "no", "delayed"]),
    ("PermitTunnel", &["yes", "no", "point-to-point", "ethernet"]),
    ("IgnoreRhosts", &["yes", "no", "shosts-only"]),
    ("MaxAuthTries", &["3", "6", "10"]),
    ("MaxSessions", &["1", "10"]),
    ("ClientAliveInterval", &["0", "300", "5m", "1h"]),
    ("ClientAliveCountMax", &["0", "3"]),
    ("LoginGraceTime", &["30", "2m", "1m30s"]),
    ("LogLevel", &["INFO", "verbose", "DEBUG2", "error"]),
    ("SyslogFacility", &["AUTH", "authpriv", "LOCAL0"]),
    ("Banner", &["none", "/etc/issue.net", "\"/etc/my banner\""]),
    ("PrintMotd", &["yes", "no"]),
    ("TCPKeepAlive", &["yes", "no"]),
    ("UseDNS", &["yes", "no"]),
    ("StrictModes", &["yes", "no"]),
    ("AcceptEnv", &["LANG", "LC_* XMODIFIERS", "GIT_*"]),
    ("AllowUsers", &["alice", "bob carol", "ops@10.0.0.0/8"]),
    ("DenyUsers", &["root", "guest"]),
    ("AllowGroups", &["wheel", "ssh-users"]),
    (
        "AuthorizedKeysFile",
        &[
            ".ssh/authorized_keys",
            "/etc/ssh/keys/%u .ssh/authorized_keys",
        ],
    ),
    ("Port", &["22", "2222"]),
    ("AddressFamily", &["any", "inet", "inet6"]),
    (
        "Ciphers",
        &[
            "aes256-gcm@openssh.com,aes128-ctr",
            "chacha20-poly1305@openssh.com",
        ],
    ),
    ("MACs", &["hmac-sha2-512,hmac-sha2-256"]),
    (
        "KexAlgorithms",
        &["curve25519-sha256", "-diffie-hellman-group14-sha256"],
    ),
    (
        "Subsystem",
        &["sftp /usr/lib/openssh/sftp-server", "sftp internal-sftp"],
    ),
    ("PermitUserEnvironment", &["no", "yes"]),
    ("MaxStartups", &["10:30:100", "5"]),
    ("ForceCommand", &["internal-sftp", "/usr/bin/true  -x"]),
    ("ChrootDirectory", &["none", "/srv/%u"]),
    ("PidFile", &["/run/sshd.pid", "/var/run/sshd2.pid"]),
    ("DisableForwarding", &["yes", "no"]),
    ("SetEnv", &["A=1", "B=2 C=3"]),
    (
        "ListenAddress",
        &["0.0.0.0", "127.0.0.1:2200", "[::1]:2201"],
    ),
    (
        "PermitListen",
        &["any", "none", "8080", "localhost:8080 9090"],
    ),
    ("PermitOpen", &["any", "none", "db:5432 cache:6379"]),
    (
        "AuthenticationMethods",
        &[
            "any",
            "publickey",
            "publickey,password publickey,keyboard-interactive",
        ],
    ),
    (
        "PubkeyAuthOptions",
        &["none", "touch-required", "verify-required touch-required"],
    ),
    ("LogVerbose", &["kex.c:*:1000", "none"]),
    ("RekeyLimit", &["0 0", "default none", "1G 1h"]),
    ("X11DisplayOffset", &["10", "20"]),
    ("X11UseLocalhost", &["yes", "no"]),
    ("PermitTTY", &["yes", "no"]),
    ("PermitUserRC", &["yes", "no"]),
    ("IgnoreUserKnownHosts", &["yes", "no"]),
    ("HostbasedAuthentication", &["yes", "no"]),
    ("GSSAPIAuthentication", &["yes", "no"]),
    ("KerberosAuthentication", &["yes", "no"]),
    ("ExposeAuthInfo", &["yes", "no"]),
    ("StreamLocalBindMask", &["0077", "022", "0"]),
    ("StreamLocalBindUnlink", &["yes", "no"]),
    ("FingerprintHash", &["md5", "SHA256"]),
    ("PrintLastLog", &["yes", "no"]),
    ("UnusedConnectionTimeout", &["none", "1h", "0"]),
    ("RequiredRSASize", &["2048", "3072"]),
    ("PerSourceMaxStartups", &["none", "10"]),
    ("PerSourceNetBlockSize", &["32:128", "24", "16:64"]),
    ("AuthorizedPrincipalsFile", &["none", ".ssh/principals"]),
    ("AuthorizedKeysCommand", &["none", "/usr/bin/keys %u  %f"]),
    ("AuthorizedKeysCommandUser", &["nobody"]),
    ("TrustedUserCAKeys", &["none", "/etc/ssh/ca.pub"]),
    ("RevokedKeys", &["none", "revoked"]),
    ("VersionAddendum", &["none", "hello  world"]),
    ("IPQoS", &["af21", "lowdelay throughput", "cs1 af41"]),
    ("Protocol", &["2"]),
    ("DebianBanner", &["yes", "no"]),
    ("HostKeyAgent", &["none", "/run/agent.sock"]),
    (
        "ChannelTimeout",
        &["session=5m", "agent-connection=1h direct-tcpip=10m"],
    ),
];

fn keyword_spelling(rng: &mut Rng, k: &str) -> String {
    match rng.below(4) {
        0 => k.to_ascii_lowercase(),
        1 => k.to_ascii_uppercase(),
        _ => k.to_string(),
    }
}

fn gen_line(rng: &mut Rng, in_match: bool) -> String {
    let mut tries = 0;
    loop {
        let (k, vals) = rng.pick(POOL);
        tries += 1;
        // Global-only keywords inside a Match block that does not apply
        // are refused by sshd: keep most cases valid.
        let global_only = matches!(
            *k,
            "UsePAM"
                | "Compression"
                | "PrintMotd"
                | "TCPKeepAlive"
                | "UseDNS"
                | "StrictModes"
                | "Port"
                | "AddressFamily"
                | "Ciphers"
                | "MACs"
                | "KexAlgorithms"
                | "Subsystem"
                | "PermitUserEnvironment"
                | "MaxStartups"
                | "PidFile"
                | "ListenAddress"
                | "SyslogFacility"
        );
        if in_match && global_only && tries < 50 {
            continue;
        }
        let v = rng.pick(vals);
        // Now and then a line sshd refuses or reads in an unusual form.
        match rng.below(60) {
            0 => return k.to_string(),
            1 => return format!("{k} {v} extra"),
            2 => return "NoSuchKeyword yes".to_string(),
            3 => return format!("\"{k}\" {v}"),
            4 => return format!("{k} '{v}'"),
            5 => return format!("{k} \"{v}"),
            _ => {}
        }
        let sep = *rng.pick(&[" ", "\t", "=", " = ", "  ", " ="]);
        let lead = *rng.pick(&["", "", "  ", "\t"]);
        let trail = *rng.pick(&["", "", " ", " # comment", "\t"]);
        return format!("{lead}{}{sep}{v}{trail}", keyword_spelling(rng, k));
    }
}

fn gen_file(rng: &mut Rng, lines: usize, allow_match: bool) -> String {
    let mut s = String::new();
    let mut in_match = false;
    for _ in 0..lines {
        match rng.below(12) {
            0 => s.push_str("# a comment line\n"),
            1 => s.push('\n'),
            2 if allow_match => {
                let m = *rng.pick(&[
                    "Match User admin",
                    "Match Group wheel,!guests",
                    "Match Address 10.0.0.0/8",
                    "Match Host *.example.com User bob",
                    "Match all",
                    "match user root",
                    "Match LocalAddress 10.1.1.1",
                    "Match RDomain x",
                    "Match Bogus x",
                ]);
                s.push_str(m);
                s.push('\n');
                in_match = !m.ends_with("all");
            }
            _ => {
                s.push_str(&gen_line(rng, in_match));
                s.push('\n');
            }
        }
    }
    s
}

#[test]
fn generated_configurations_match_sshd_t() {
    require_tools();
    let mut failures = Vec::new();
    let cases = 400;
    for seed in 1..=cases as u64 {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ seed.wrapping_mul(0x1000_0001));
        let mut files = Vec::new();
        let mut main = String::new();
        let layout = rng.below(4);
        if layout != 0 {
            main.push_str(match layout {
                1 => "Include /etc/ssh/sshd_config.d/*.conf\n",
                2 => "Include sshd_config.d/*.conf\n",
                _ => "Include sshd_config.d/[0-9]*.conf /etc/ssh/extra.conf\n",
            });
            for i in 0..rng.below(4) {
                let name = format!("/etc/ssh/sshd_config.d/{}{}-drop.conf", rng.below(9), i);
                let n = 1 + rng.below(5);
                files.push((name, gen_file(&mut rng, n, true)));
            }
            if layout == 3 {
                files.push((
                    "/etc/ssh/extra.conf".to_string(),
                    gen_file(&mut rng, 3, false),
                ));
            }
        }
        let n = 3 + rng.below(12);
        main.push_str(&gen_file(&mut rng, n, true));
        files.push((MAIN.to_string(), main));
        let case = Case::new(&files);
        if let Err(e) = compare(&case) {
            failures.push(format!("seed {seed}:\n{}{e}\n", case.describe()));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {cases} generated configurations differ from sshd -T:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn this_machine_matches_sshd_t() {
    require_tools();
    // The running system's own /etc/ssh (the openssh-server package's),
    // read-only; sshd -T runs in a private namespace as above.
    let root = Root::open("/").expect("open /");
    let ours = sshd::read(&root)
        .expect("read")
        .expect("openssh-server installs /etc/ssh/sshd_config");
    let theirs = sshd_t(Path::new("/")).expect("sshd -T accepts this machine's configuration");
    for (k, v) in &theirs {
        if !ours.unresolved.contains(k) {
            assert_eq!(ours.values.get(k), Some(v), "{k}");
        }
    }
}

#[test]
fn bounded_file_size_and_include_count() {
    // A drop-in larger than the 1 MiB limit is refused, not read.
    let big = "# padding\n".repeat(120_000);
    let case = Case::new(&[
        (
            MAIN.to_string(),
            "Include /etc/ssh/sshd_config.d/*.conf\n".to_string(),
        ),
        ("/etc/ssh/sshd_config.d/big.conf".to_string(), big),
    ]);
    let e = case.ours().error.expect("too large");
    assert!(e.contains("limit"), "{e}");
    // An include tree without a loop that fans out past 1,024 file reads
    // (each level includes the next twice: 2^12 reads) stops there.
    let mut files = vec![(MAIN.to_string(), "Include l1.conf l1.conf\n".to_string())];
    for i in 1..12 {
        files.push((
            format!("/etc/ssh/l{i}.conf"),
            format!("Include l{}.conf l{}.conf\n", i + 1, i + 1),
        ));
    }
    files.push(("/etc/ssh/l12.conf".to_string(), "Port 2222\n".to_string()));
    let e = Case::new(&files).ours().error.expect("bounded");
    assert!(e.contains("1024"), "{e}");
}
