//! docs/packer.md and docs/examples/packer/ kept in step with the CLI.
//!
//! * Every `bakeproof ...` command line in the page's code blocks and in the
//!   example's files (shell line continuations, HCL strings, quoted shell
//!   words and variables handled) names a real subcommand, and every flag it
//!   uses is one the real binary's `--help` lists.
//! * The template: every `${path.root}/...` file exists; the in-VM outputs
//!   are on tmpfs (`/run`, `/dev/shm`); they are fetched by `file`
//!   provisioners with `direction = "download"` to exactly the paths the
//!   post-processor attests; the manifest the post-processor reads is the one
//!   the `manifest` post-processor writes.
//! * The example's scripts and post-processor commands are run for real:
//!   `seal-and-scan.sh` on a scratch root, `install-bakeproof.sh` into a
//!   `DESTDIR` (its generated unit drop-in checked like the rest), and the
//!   `shell-local` lines, variables substituted, against the page's example
//!   manifest and a local store.
//! * The checker itself rejects a bogus flag and a bogus subcommand.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use common::run::{bakeproof_bin, describe, extract};
use common::schema::repo_root;

const PASSWORD: &str = "packer example password";

fn example_dir() -> PathBuf {
    repo_root().join("docs/examples/packer")
}

fn read(p: &Path) -> String {
    fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

// ---------------------------------------------------------------------------
// The CLI's own description of itself.

/// Commands listed in a `--help` output's `Commands:` section (without `help`).
fn help_commands(help: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut inside = false;
    for line in help.lines() {
        if line.trim_end() == "Commands:" {
            inside = true;
        } else if inside && line.trim().is_empty() {
            inside = false;
        } else if inside {
            // "  name   description"; continuation lines are indented further.
            let name = line.strip_prefix("  ").filter(|l| !l.starts_with(' '));
            if let Some(name) = name.and_then(|l| l.split_whitespace().next())
                && name != "help"
            {
                out.push(name.to_owned());
            }
        }
    }
    out
}

/// Flags an option-definition line of `--help` names (`-o, --output <FILE>`).
fn help_flags(help: &str) -> BTreeSet<String> {
    let mut flags = BTreeSet::new();
    for line in help.lines() {
        let t = line.trim_start();
        if !t.starts_with('-') {
            continue;
        }
        for part in t.split(", ") {
            let Some(word) = part.split_whitespace().next() else {
                continue;
            };
            let word = word.trim_end_matches(',');
            let long = word.len() > 2 && word.starts_with("--");
            let short = word.len() == 2 && word.starts_with('-') && word != "--";
            if long || short {
                flags.insert(word.to_owned());
            }
        }
    }
    flags
}

fn help_of(path: &[&str]) -> String {
    let mut args: Vec<&str> = path.to_vec();
    args.push("--help");
    let o = Command::new(bakeproof_bin())
        .args(&args)
        .output()
        .expect("run bakeproof --help");
    assert!(
        o.status.success(),
        "bakeproof {} failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).expect("help is UTF-8")
}

/// The real CLI: subcommand path ("scan", "seal check") → accepted flags.
struct Cli {
    top: BTreeSet<String>,
    groups: BTreeMap<String, BTreeSet<String>>,
    leaves: BTreeMap<String, BTreeSet<String>>,
}

fn cli() -> &'static Cli {
    static CLI: OnceLock<Cli> = OnceLock::new();
    CLI.get_or_init(|| {
        let top_help = help_of(&[]);
        let top: BTreeSet<String> = help_commands(&top_help).into_iter().collect();
        assert!(
            top.contains("scan") && top.contains("attest"),
            "could not read the command list from `bakeproof --help`:\n{top_help}"
        );
        let mut groups = BTreeMap::new();
        let mut leaves = BTreeMap::new();
        leaves.insert(String::new(), help_flags(&top_help));
        for sub in &top {
            let h = help_of(&[sub]);
            let nested = help_commands(&h);
            if nested.is_empty() {
                leaves.insert(sub.clone(), help_flags(&h));
            } else {
                for n in &nested {
                    leaves.insert(format!("{sub} {n}"), help_flags(&help_of(&[sub, n])));
                }
                groups.insert(sub.clone(), nested.into_iter().collect());
            }
        }
        Cli {
            top,
            groups,
            leaves,
        }
    })
}

// ---------------------------------------------------------------------------
// Finding command lines.

/// One `bakeproof ...` invocation found in a document.
#[derive(Debug, Clone)]
struct Invocation {
    origin: String,
    /// The words after `bakeproof`, quotes removed, variables as written.
    words: Vec<String>,
    /// The target of a `>` redirection, when there is one.
    redirect: Option<String>,
}

impl Invocation {
    /// "scan", "seal check"... (None when the words name no subcommand).
    fn subcommand(&self) -> Option<String> {
        let first = self.words.first()?;
        if first.starts_with('-') {
            return None;
        }
        match cli().groups.get(first.as_str()) {
            Some(_) => Some(format!("{first} {}", self.words.get(1)?)),
            None => Some(first.clone()),
        }
    }

    fn flags(&self) -> impl Iterator<Item = &str> {
        self.words
            .iter()
            .filter(|w| w.starts_with('-') && w.len() > 1)
            .map(|w| w.split('=').next().unwrap())
    }

    /// The value of `flag` (or of its other spelling).
    fn value(&self, names: &[&str]) -> Option<&str> {
        let i = self
            .words
            .iter()
            .position(|w| names.contains(&w.as_str()))?;
        self.words.get(i + 1).map(String::as_str)
    }

    /// Positional words after the subcommand (words that are neither flags
    /// nor a flag's value; a flag takes a value when its help says so).
    fn positionals(&self) -> Vec<&str> {
        let sub = self.subcommand().unwrap_or_default();
        let skip = sub.split(' ').count();
        let valued = valued_flags(&sub);
        let mut out = Vec::new();
        let mut it = self.words.iter().skip(skip);
        while let Some(w) = it.next() {
            if w.starts_with('-') && w.len() > 1 {
                if valued.contains(w.as_str()) {
                    it.next();
                }
            } else {
                out.push(w.as_str());
            }
        }
        out
    }

    fn text(&self) -> String {
        format!("{}: bakeproof {}", self.origin, self.words.join(" "))
    }
}

/// Flags of `sub` that take a value (`--sbom <SBOM>`).
fn valued_flags(sub: &str) -> BTreeSet<String> {
    let path: Vec<&str> = sub.split(' ').filter(|s| !s.is_empty()).collect();
    let help = help_of(&path);
    let mut out = BTreeSet::new();
    for line in help.lines() {
        let t = line.trim_start();
        if !t.starts_with('-') || !t.contains('<') {
            continue;
        }
        for part in t.split(", ") {
            if let Some(w) = part.split_whitespace().next() {
                out.insert(w.trim_end_matches(',').to_owned());
            }
        }
    }
    out
}

/// Lines with shell (and systemd) `\` continuations joined; comment lines
/// (`#`, `//`) dropped.
fn logical_lines(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for line in text.lines() {
        let t = line.trim_start();
        if cur.is_empty() && (t.starts_with('#') || t.starts_with("//")) {
            continue;
        }
        match line.trim_end().strip_suffix('\\') {
            Some(head) => {
                cur.push_str(head);
                cur.push(' ');
            }
            None => {
                cur.push_str(line);
                out.push(std::mem::take(&mut cur));
            }
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Quote {
    None,
    Single,
    Double,
}

/// The `bakeproof` invocations of one document.
fn invocations(origin: &str, text: &str) -> Vec<Invocation> {
    let mut out = Vec::new();
    for line in logical_lines(text) {
        let b = line.as_bytes();
        let mut quote = Quote::None;
        let mut depth = 0usize; // `${ ... }` nesting inside a double-quoted string
        let mut i = 0;
        while i < b.len() {
            let c = b[i];
            if depth > 0 {
                match c {
                    b'{' => depth += 1,
                    b'}' => depth -= 1,
                    _ => {}
                }
                i += 1;
                continue;
            }
            match (quote, c) {
                (Quote::None, b'#') if i == 0 || b[i - 1].is_ascii_whitespace() => break,
                (Quote::None, b'\'') => quote = Quote::Single,
                (Quote::None, b'"') => quote = Quote::Double,
                (Quote::Single, b'\'') => quote = Quote::None,
                (Quote::Double, b'"') => quote = Quote::None,
                (Quote::Double, b'\\') => i += 1,
                (Quote::Double | Quote::None, b'$') if b.get(i + 1) == Some(&b'{') => {
                    depth = 1;
                    i += 1;
                }
                _ => {}
            }
            if line[i..].starts_with("bakeproof") {
                let before_ok = i == 0 || b" \t/\"'(`=;|&".contains(&b[i - 1]);
                let end = i + "bakeproof".len();
                let after_ok = b.get(end).is_some_and(u8::is_ascii_whitespace);
                if before_ok && after_ok {
                    let (words, redirect) = lex(&line[end..], quote);
                    let first_ok = words.first().is_some_and(|w| {
                        w.starts_with('-')
                            || (w.starts_with(|c: char| c.is_ascii_lowercase())
                                && w.chars().all(|c| c.is_ascii_lowercase() || c == '-'))
                    });
                    if first_ok {
                        out.push(Invocation {
                            origin: origin.to_owned(),
                            words,
                            redirect,
                        });
                    }
                }
            }
            i += 1;
        }
    }
    out
}

/// Splits a command's arguments into words: up to the end of the string it
/// is in (`enclosing`), or, outside quotes, up to a shell operator or a
/// comment. Quotes are removed; `${...}` and `$(...)` are kept whole.
fn lex(rest: &str, enclosing: Quote) -> (Vec<String>, Option<String>) {
    let mut words = Vec::new();
    let mut redirect = None;
    let mut cur = String::new();
    let mut started = false;
    let mut inner = Quote::None;
    let mut want_redirect = false;
    let chars: Vec<char> = rest.chars().collect();
    let mut i = 0;
    let mut push = |cur: &mut String, started: &mut bool, want: &mut bool| {
        if *started {
            if *want {
                redirect = Some(std::mem::take(cur));
                *want = false;
            } else {
                words.push(std::mem::take(cur));
            }
        }
        *started = false;
    };
    while i < chars.len() {
        let c = chars[i];
        // `${...}` / `$(...)`: copied whole.
        if c == '$' && matches!(chars.get(i + 1), Some('{') | Some('(')) && inner != Quote::Single {
            let (open, close) = if chars[i + 1] == '{' {
                ('{', '}')
            } else {
                ('(', ')')
            };
            let mut depth = 0;
            while i < chars.len() {
                cur.push(chars[i]);
                if chars[i] == open {
                    depth += 1;
                } else if chars[i] == close {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                i += 1;
            }
            started = true;
            i += 1;
            continue;
        }
        match inner {
            Quote::Single if c == '\'' => {
                inner = Quote::None;
                i += 1;
                continue;
            }
            Quote::Double if c == '"' => {
                inner = Quote::None;
                i += 1;
                continue;
            }
            Quote::Double if c == '\\' && enclosing != Quote::Double => {
                if let Some(n) = chars.get(i + 1) {
                    cur.push(*n);
                }
                i += 2;
                continue;
            }
            Quote::Single | Quote::Double => {
                cur.push(c);
                i += 1;
                continue;
            }
            Quote::None => {}
        }
        // Outside inner quotes: the end of the enclosing string ends the command.
        match (enclosing, c) {
            (Quote::Single, '\'') => break,
            (Quote::Double, '"') => break,
            (Quote::Double, '\\') if chars.get(i + 1) == Some(&'"') => {
                // An escaped quote inside an HCL string: a shell double quote.
                inner = Quote::Double;
                started = true;
                i += 2;
                continue;
            }
            _ => {}
        }
        match c {
            c if c.is_whitespace() => push(&mut cur, &mut started, &mut want_redirect),
            '\'' if enclosing != Quote::Single => {
                inner = Quote::Single;
                started = true;
            }
            '"' if enclosing == Quote::None => {
                inner = Quote::Double;
                started = true;
            }
            '>' => {
                push(&mut cur, &mut started, &mut want_redirect);
                want_redirect = true;
            }
            ';' | '|' | '&' | '<' | ')' | '`' => break,
            '#' if !started => break,
            _ => {
                cur.push(c);
                started = true;
            }
        }
        i += 1;
    }
    push(&mut cur, &mut started, &mut want_redirect);
    (words, redirect)
}

/// Fenced code blocks of a Markdown file.
fn code_blocks(md: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut cur: Option<(String, String)> = None;
    for line in md.lines() {
        let t = line.trim_start();
        if let Some(lang) = t.strip_prefix("```") {
            match cur.take() {
                Some(block) => out.push(block),
                None => cur = Some((lang.trim().to_owned(), String::new())),
            }
            continue;
        }
        if let Some((_, body)) = cur.as_mut() {
            body.push_str(line);
            body.push('\n');
        }
    }
    assert!(cur.is_none(), "unterminated code block");
    out
}

/// Every problem with `inv` against the real CLI (empty: fine).
fn check_invocation(inv: &Invocation) -> Vec<String> {
    let cli = cli();
    let mut errs = Vec::new();
    let first = inv.words.first().map(String::as_str).unwrap_or("");
    let leaf = if first.starts_with('-') {
        String::new()
    } else if !cli.top.contains(first) {
        errs.push(format!("{}: no subcommand {first:?}", inv.text()));
        return errs;
    } else if let Some(nested) = cli.groups.get(first) {
        let second = inv.words.get(1).map(String::as_str).unwrap_or("");
        if !nested.contains(second) {
            errs.push(format!("{}: no subcommand {first} {second:?}", inv.text()));
            return errs;
        }
        format!("{first} {second}")
    } else {
        first.to_owned()
    };
    let accepted = &cli.leaves[&leaf];
    for f in inv.flags() {
        if !accepted.contains(f) {
            errs.push(format!(
                "{}: `bakeproof {leaf}` has no flag {f} (it has {accepted:?})",
                inv.text()
            ));
        }
    }
    errs
}

// ---------------------------------------------------------------------------
// Variables.

/// `NAME=value` and `NAME="${X:-value}"` assignments of a shell script.
fn shell_defaults(script: &str) -> BTreeMap<String, String> {
    let mut vars = BTreeMap::new();
    for line in script.lines() {
        let t = line.trim();
        let Some((name, value)) = t.split_once('=') else {
            continue;
        };
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_uppercase() || c == '_') {
            continue;
        }
        let v = value.trim_matches('"');
        let v = match v.strip_prefix("${").and_then(|s| s.strip_suffix('}')) {
            Some(inner) => match inner.split_once(":-") {
                Some((_, d)) => d.to_owned(),
                None => continue,
            },
            None => v.to_owned(),
        };
        vars.insert(name.to_owned(), v);
    }
    vars
}

/// Replaces `$NAME` and `${NAME}` by their values.
fn expand(word: &str, vars: &BTreeMap<String, String>) -> String {
    let mut s = word.to_owned();
    for (k, v) in vars {
        s = s.replace(&format!("${{{k}}}"), v);
        s = s.replace(&format!("${k}"), v);
    }
    s
}

fn on_tmpfs(path: &str) -> bool {
    path.starts_with("/run/") || path.starts_with("/dev/shm/")
}

// ---------------------------------------------------------------------------
// HCL (just enough of it: blocks by brace matching, `name = "string"`).

/// The bodies of every block whose header starts with `header`
/// (`provisioner "file"`), in order.
fn hcl_blocks<'a>(hcl: &'a str, header: &str) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(pos) = hcl[from..].find(header) {
        let start = from + pos;
        let open = start + hcl[start..].find('{').expect("block has a body");
        let mut depth = 0;
        let mut end = open;
        for (i, c) in hcl[open..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = open + i;
                        break;
                    }
                }
                _ => {}
            }
        }
        out.push(&hcl[open + 1..end]);
        from = end;
    }
    out
}

/// `name = "value"` (or a bare expression) in a block body.
fn hcl_attr(body: &str, name: &str) -> Option<String> {
    body.lines().find_map(|l| {
        let (k, v) = l.trim().split_once('=')?;
        (k.trim() == name).then(|| v.trim().trim_matches('"').to_owned())
    })
}

/// The string elements of `name = [ "...", ... ]`.
fn hcl_string_list(body: &str, name: &str) -> Vec<String> {
    let start = body
        .find(&format!("{name} "))
        .or_else(|| body.find(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} in {body}"));
    let open = start + body[start..].find('[').unwrap();
    let mut out = Vec::new();
    let b: Vec<char> = body[open + 1..].chars().collect();
    let mut i = 0;
    while i < b.len() && b[i] != ']' {
        if b[i] == '"' {
            let mut s = String::new();
            let mut depth = 0;
            i += 1;
            while i < b.len() {
                match b[i] {
                    '"' if depth == 0 => break,
                    '\\' if depth == 0 => {
                        i += 1;
                        s.push(b[i]);
                    }
                    '{' if s.ends_with('$') => {
                        depth += 1;
                        s.push('{');
                    }
                    '}' if depth > 0 => {
                        depth -= 1;
                        s.push('}');
                    }
                    c => s.push(c),
                }
                i += 1;
            }
            out.push(s);
        }
        i += 1;
    }
    out
}

fn hcl_locals(hcl: &str) -> BTreeMap<String, String> {
    let mut vars = BTreeMap::new();
    for body in hcl_blocks(hcl, "locals {") {
        for l in body.lines() {
            if let Some((k, v)) = l.trim().split_once('=') {
                let v = v.trim();
                if v.starts_with('"') && v.ends_with('"') {
                    vars.insert(
                        format!("local.{}", k.trim()),
                        v.trim_matches('"').to_owned(),
                    );
                }
            }
        }
    }
    vars
}

/// Replaces `${NAME}` (HCL interpolation) by `vars[NAME]`.
fn hcl_subst(s: &str, vars: &BTreeMap<String, String>) -> String {
    let mut s = s.to_owned();
    for (k, v) in vars {
        s = s.replace(&format!("${{{k}}}"), v);
    }
    s
}

// ---------------------------------------------------------------------------
// Sources.

fn example_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(example_dir())
        .expect("docs/examples/packer")
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

fn packer_md() -> String {
    read(&repo_root().join("docs/packer.md"))
}

fn all_invocations() -> Vec<Invocation> {
    let mut out = Vec::new();
    for (n, (lang, body)) in code_blocks(&packer_md()).iter().enumerate() {
        out.extend(invocations(
            &format!("docs/packer.md block {} ({lang})", n + 1),
            body,
        ));
    }
    for f in example_files() {
        let name = f.strip_prefix(repo_root()).unwrap().display().to_string();
        out.extend(invocations(&name, &read(&f)));
    }
    out
}

fn subcommands_of(invs: &[Invocation], origin_prefix: &str) -> BTreeSet<String> {
    invs.iter()
        .filter(|i| i.origin.starts_with(origin_prefix))
        .filter_map(Invocation::subcommand)
        .collect()
}

// ---------------------------------------------------------------------------
// Tests.

#[test]
fn every_command_line_matches_the_cli() {
    let invs = all_invocations();
    let errs: Vec<String> = invs.iter().flat_map(check_invocation).collect();
    assert!(errs.is_empty(), "{}", errs.join("\n"));

    // The parse found what the page and the example are about.
    for (prefix, needed) in [
        (
            "docs/packer.md",
            &[
                "seal apply",
                "scan",
                "seal check",
                "attest",
                "publish",
                "verify",
            ][..],
        ),
        (
            "docs/examples/packer/",
            &[
                "seal apply",
                "scan",
                "seal check",
                "attest",
                "verify-attestation",
                "publish",
                "verify",
            ][..],
        ),
    ] {
        let found = subcommands_of(&invs, prefix);
        for n in needed {
            assert!(
                found.contains(*n),
                "no `bakeproof {n}` found in {prefix}* (found {found:?})"
            );
        }
    }
    for inv in invs
        .iter()
        .filter(|i| i.subcommand().as_deref() == Some("attest"))
    {
        assert!(
            inv.value(&["--packer-manifest"]).is_some(),
            "{}: attest without --packer-manifest",
            inv.text()
        );
    }
    let n = invs.len();
    assert!(n >= 15, "only {n} command lines found: {invs:#?}");
}

#[test]
fn in_vm_outputs_are_on_tmpfs() {
    let script = read(&example_dir().join("seal-and-scan.sh"));
    let mut vars = shell_defaults(&script);
    assert_eq!(vars.get("ROOT").map(String::as_str), Some("/"));
    assert!(
        vars.get("OUT").is_some_and(|o| on_tmpfs(&format!("{o}/"))),
        "{vars:?}"
    );
    vars.insert("ROOT".into(), "/".into());

    let mut sources: Vec<(String, BTreeMap<String, String>)> = vec![(script, vars)];
    for (_, body) in code_blocks(&packer_md()) {
        sources.push((body, BTreeMap::new()));
    }
    let mut checked = 0;
    for (text, vars) in &sources {
        for inv in invocations("", text) {
            let sub = inv.subcommand();
            if !matches!(sub.as_deref(), Some("scan") | Some("seal check")) {
                continue;
            }
            let pos = inv.positionals();
            let root = pos.first().map(|r| expand(r, vars));
            if root.as_deref() != Some("/") {
                continue;
            }
            // Every file it writes: the SBOM or report (-o, or a redirect),
            // and a seal report written beside the SBOM (--seal-report).
            let outs: Vec<String> = inv
                .value(&["-o", "--output"])
                .map(str::to_owned)
                .or(inv.redirect.clone())
                .into_iter()
                .chain(inv.value(&["--seal-report"]).map(str::to_owned))
                .map(|o| expand(&o, vars))
                .collect();
            if outs.is_empty() {
                // Text to the terminal (the script's failure report).
                assert!(
                    inv.value(&["--format"]) != Some("json"),
                    "{}: JSON report not written anywhere",
                    inv.text()
                );
                continue;
            }
            for o in &outs {
                assert!(on_tmpfs(o), "{}: writes {o} into the image", inv.text());
                checked += 1;
            }
        }
    }
    assert!(
        checked >= 4,
        "expected scan and seal check of / in the script and the page"
    );
}

#[test]
fn template_references_downloads_and_manifest_agree() {
    let dir = example_dir();
    let hcl = read(&dir.join("golden.pkr.hcl"));
    let vars_hcl = read(&dir.join("variables.pkr.hcl"));

    // Every ${path.root}/FILE exists.
    let mut refs = 0;
    for (i, _) in hcl.match_indices("${path.root}/") {
        let rest = &hcl[i + "${path.root}/".len()..];
        let rel: String = rest
            .chars()
            .take_while(|c| !matches!(c, '"' | '\'' | ' '))
            .collect();
        assert!(
            dir.join(&rel).is_file(),
            "golden.pkr.hcl references {rel}, missing"
        );
        refs += 1;
    }
    assert!(
        refs >= 3,
        "the template references its scripts and the unit"
    );
    assert!(hcl.contains("${path.root}/../bakeproof-verify.service"));

    // Every var.X used is declared.
    for (i, _) in hcl.match_indices("var.") {
        let name: String = hcl[i + 4..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        assert!(
            vars_hcl.contains(&format!("variable \"{name}\"")),
            "var.{name} is not declared in variables.pkr.hcl"
        );
    }

    // Plugin, builder, blocks.
    assert!(hcl.contains("required_plugins") && hcl.contains("github.com/hashicorp/amazon"));
    assert!(hcl.contains("source \"amazon-ebs\" \"golden\""));
    assert!(hcl.contains("ami_regions"));

    // Downloads: from tmpfs, direction = "download".
    let locals = hcl_locals(&hcl);
    let files = hcl_blocks(&hcl, "provisioner \"file\"");
    let mut downloads = BTreeMap::new();
    for body in &files {
        let source = hcl_subst(&hcl_attr(body, "source").expect("file source"), &locals);
        let direction = hcl_attr(body, "direction");
        if on_tmpfs(&source) {
            assert_eq!(
                direction.as_deref(),
                Some("download"),
                "the file provisioner of {source} must download"
            );
            let name = source.rsplit('/').next().unwrap().to_owned();
            downloads.insert(name, hcl_attr(body, "destination").expect("destination"));
        } else {
            assert_ne!(direction.as_deref(), Some("download"), "{body}");
        }
    }
    assert_eq!(
        downloads.keys().map(String::as_str).collect::<Vec<_>>(),
        ["sbom.cdx.json", "seal.json"]
    );

    // The seal script runs from tmpfs, last among the remote provisioners.
    let shells = hcl_blocks(&hcl, "provisioner \"shell\"");
    let last = shells.last().expect("shell provisioners");
    assert!(
        last.contains("${path.root}/seal-and-scan.sh"),
        "seal-and-scan.sh must be the last shell provisioner"
    );
    let folder = hcl_attr(last, "remote_folder").expect("remote_folder");
    assert!(on_tmpfs(&format!("{folder}/")), "{folder}");
    let out_env = hcl_subst(
        &hcl_string_list(last, "environment_vars")
            .into_iter()
            .find_map(|e| e.strip_prefix("BAKEPROOF_OUT=").map(str::to_owned))
            .expect("BAKEPROOF_OUT"),
        &locals,
    );
    assert!(on_tmpfs(&format!("{out_env}/")), "{out_env}");
    let after_seal = &hcl[hcl.find("seal-and-scan.sh\"").unwrap()..];
    assert!(
        !after_seal.contains("provisioner \"shell\""),
        "nothing may run in the VM after the seal"
    );

    // Post-processors: manifest, then shell-local attesting the downloads
    // with the manifest it wrote, publishing what attest wrote.
    let pps = hcl_blocks(&hcl, "post-processors {");
    assert_eq!(pps.len(), 1);
    let manifest_at = pps[0]
        .find("post-processor \"manifest\"")
        .expect("manifest");
    let shell_at = pps[0]
        .find("post-processor \"shell-local\"")
        .expect("shell-local");
    assert!(manifest_at < shell_at);
    let manifest_out = hcl_attr(
        hcl_blocks(pps[0], "post-processor \"manifest\"")[0],
        "output",
    )
    .unwrap();
    let inline = hcl_string_list(
        hcl_blocks(pps[0], "post-processor \"shell-local\"")[0],
        "inline",
    );
    let invs: Vec<Invocation> = inline
        .iter()
        .flat_map(|l| invocations("shell-local", l))
        .collect();
    let attest = invs
        .iter()
        .find(|i| i.subcommand().as_deref() == Some("attest"))
        .expect("attest");
    assert_eq!(
        attest.value(&["--sbom"]),
        Some(downloads["sbom.cdx.json"].as_str())
    );
    assert_eq!(
        attest.value(&["--seal"]),
        Some(downloads["seal.json"].as_str())
    );
    assert_eq!(
        attest.value(&["--packer-manifest"]),
        Some(manifest_out.as_str())
    );
    let att_dir = attest.value(&["-o", "--output"]).expect("attest -o");
    let publish = invs
        .iter()
        .find(|i| i.subcommand().as_deref() == Some("publish"))
        .expect("publish");
    assert_eq!(publish.positionals(), [att_dir]);
    assert!(publish.value(&["--store"]).is_some());
    // The password comes from the environment, not from the template
    // (comments may say so).
    for f in example_files() {
        for line in read(&f).lines() {
            let t = line.trim_start();
            assert!(
                t.starts_with('#') || !t.contains("COSIGN_PASSWORD"),
                "{}: {line}",
                f.display()
            );
        }
    }
}

fn run_script(script: &Path, envs: &[(&str, &Path)], extra: &[(&str, &str)]) -> Output {
    let bin_dir = bakeproof_bin().parent().unwrap().to_path_buf();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut c = Command::new("sh");
    c.arg("-eu")
        .arg(script)
        .env("PATH", path)
        .env("SOURCE_DATE_EPOCH", "1704067200")
        .env_remove("DESTDIR")
        .env_remove("SUDO_USER");
    for (k, v) in envs {
        c.env(k, v);
    }
    for (k, v) in extra {
        c.env(k, v);
    }
    c.output().expect("run sh")
}

#[test]
fn example_runs_end_to_end_on_a_scratch_root() {
    let dir = example_dir();
    let root = extract("dpkgroot/clean.tar.gz");
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let r = root.path();

    // A build VM's leftovers.
    fs::write(
        r.join("etc/machine-id"),
        "0123456789abcdef0123456789abcdef\n",
    )
    .unwrap();
    fs::create_dir_all(r.join("home/admin/.ssh")).unwrap();
    fs::write(
        r.join("home/admin/.ssh/authorized_keys"),
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOdrPgxur9cbJEpOJPXddcy7YwD8rMkaYLZsKEUMZUci packer_6650f8d2\n",
    )
    .unwrap();
    fs::create_dir_all(r.join("tmp")).unwrap();
    fs::write(r.join("tmp/script_1234.sh"), "echo\n").unwrap();

    // install-bakeproof.sh into the root (DESTDIR), from a stage like the
    // template's uploads.
    let stage = w.join("stage");
    fs::create_dir_all(stage.join("keys")).unwrap();
    fs::create_dir_all(stage.join("aws-identity")).unwrap();
    fs::copy(bakeproof_bin(), stage.join("bakeproof")).unwrap();
    let o = Command::new(bakeproof_bin())
        .args(["key", "generate", "--prefix", "release", "--output-dir"])
        .arg(w)
        .env("COSIGN_PASSWORD", PASSWORD)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", describe(&o));
    fs::copy(w.join("release.pub"), stage.join("keys/release.pub")).unwrap();
    for region in ["us-east-1", "eu-west-1"] {
        fs::write(
            stage.join(format!("aws-identity/{region}.pem")),
            "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
    }
    fs::copy(
        repo_root().join("docs/examples/bakeproof-verify.service"),
        stage.join("bakeproof-verify.service"),
    )
    .unwrap();
    let o = run_script(
        &dir.join("install-bakeproof.sh"),
        &[("DESTDIR", r), ("BAKEPROOF_STAGE", &stage)],
        &[
            ("BAKEPROOF_STORE", "s3://example-attestations/prod"),
            ("BAKEPROOF_STORE_REGION", "us-east-1"),
        ],
    );
    assert!(o.status.success(), "install-bakeproof.sh: {}", describe(&o));
    assert!(r.join("usr/local/bin/bakeproof").is_file());
    assert!(r.join("etc/bakeproof/keys/release.pub").is_file());
    assert!(
        fs::symlink_metadata(
            r.join("etc/systemd/system/multi-user.target.wants/bakeproof-verify.service")
        )
        .is_ok()
    );
    let dropin = read(&r.join("etc/systemd/system/bakeproof-verify.service.d/site.conf"));
    assert!(
        dropin.contains("Environment=BAKEPROOF_STORE=s3://example-attestations/prod"),
        "{dropin}"
    );
    let verify: Vec<Invocation> = invocations("site.conf", &dropin);
    assert_eq!(verify.len(), 1, "{dropin}");
    let errs = check_invocation(&verify[0]);
    assert!(errs.is_empty(), "{}", errs.join("\n"));
    let certs: Vec<&str> = verify[0]
        .words
        .windows(2)
        .filter(|w| w[0] == "--identity-cert")
        .map(|w| w[1].as_str())
        .collect();
    assert_eq!(
        certs,
        [
            "/etc/bakeproof/aws-identity/eu-west-1.pem",
            "/etc/bakeproof/aws-identity/us-east-1.pem"
        ]
    );
    assert_eq!(verify[0].value(&["--region"]), Some("us-east-1"));
    assert!(!stage.exists(), "the stage is removed");

    // seal-and-scan.sh on the root.
    let out = w.join("vm-out");
    let o = run_script(
        &dir.join("seal-and-scan.sh"),
        &[("BAKEPROOF_ROOT", r), ("BAKEPROOF_OUT", &out)],
        &[("BAKEPROOF_NAME", "golden"), ("BAKEPROOF_SEAL_STRICT", "1")],
    );
    assert!(o.status.success(), "seal-and-scan.sh: {}", describe(&o));
    let seal: serde_json::Value =
        serde_json::from_str(&read(&out.join("seal.json"))).expect("seal.json");
    assert_eq!(seal["status"], "sealed", "{seal:#}");
    assert_eq!(seal["strict"], true);
    assert_eq!(read(&r.join("etc/machine-id")), "");
    assert_eq!(read(&r.join("home/admin/.ssh/authorized_keys")), "");

    // The same root, dirtied after the seal: the script's check fails the build.
    let dirty = extract("dpkgroot/clean.tar.gz");
    fs::create_dir_all(dirty.path().join("root")).unwrap();
    fs::write(
        dirty.path().join("root/.aws-creds.sh"),
        "export DB_PASSWORD=hunter2\n",
    )
    .unwrap();
    let o = run_script(
        &dir.join("seal-and-scan.sh"),
        &[
            ("BAKEPROOF_ROOT", dirty.path()),
            ("BAKEPROOF_OUT", &w.join("dirty-out")),
        ],
        &[],
    );
    assert_eq!(
        o.status.code(),
        Some(1),
        "an unsealed image: {}",
        describe(&o)
    );
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("FAIL secrets"),
        "{}",
        describe(&o)
    );

    // With a design document: the audit after the seal, of the same tree
    // (its tree digest is the SBOM's); a requirement not met fails the
    // build.
    let designed = extract("dpkgroot/clean.tar.gz");
    let design = w.join("design-spec.txt");
    fs::write(
        &design,
        "# 設計書: SYS-2025-001\n# 対象: golden\nbzip2 >= 1.0.8\nlibbz2-1.0 >= 1.0\n",
    )
    .unwrap();
    let audit_out = w.join("audit-out");
    let o = run_script(
        &dir.join("seal-and-scan.sh"),
        &[
            ("BAKEPROOF_ROOT", designed.path()),
            ("BAKEPROOF_OUT", &audit_out),
            ("BAKEPROOF_DESIGN", &design),
        ],
        &[],
    );
    assert!(o.status.success(), "seal-and-scan.sh: {}", describe(&o));
    let audit: serde_json::Value =
        serde_json::from_str(&read(&audit_out.join("audit.json"))).expect("audit.json");
    let sbom: serde_json::Value =
        serde_json::from_str(&read(&audit_out.join("sbom.cdx.json"))).unwrap();
    assert_eq!(audit["status"], "pass", "{audit:#}");
    assert_eq!(audit["document"]["id"], "SYS-2025-001");
    assert_eq!(
        audit["image"]["tree_digest"].as_str().unwrap(),
        format!(
            "sha256:{}",
            sbom["metadata"]["component"]["hashes"][0]["content"]
                .as_str()
                .unwrap()
        )
    );
    fs::write(&design, "bzip2 >= 99\n").unwrap();
    let o = run_script(
        &dir.join("seal-and-scan.sh"),
        &[
            ("BAKEPROOF_ROOT", designed.path()),
            ("BAKEPROOF_OUT", &w.join("audit-out-2")),
            ("BAKEPROOF_DESIGN", &design),
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(1), "{}", describe(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("does not match its design"),
        "{}",
        describe(&o)
    );

    // The "downloads" and the page's example manifest.
    let hcl = read(&dir.join("golden.pkr.hcl"));
    let build = w.join("build");
    let vars: BTreeMap<String, String> = [
        ("var.output_dir", build.display().to_string()),
        ("source.name", "golden".into()),
        (
            "var.signing_key",
            w.join("release.key").display().to_string(),
        ),
        (
            "var.signing_public_key",
            w.join("release.pub").display().to_string(),
        ),
        ("var.store", w.join("store").display().to_string()),
        ("var.store_region", "us-east-1".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let golden = build.join("golden");
    fs::create_dir_all(&golden).unwrap();
    fs::copy(out.join("sbom.cdx.json"), golden.join("sbom.cdx.json")).unwrap();
    fs::copy(out.join("seal.json"), golden.join("seal.json")).unwrap();
    let manifest = code_blocks(&packer_md())
        .into_iter()
        .find(|(lang, body)| lang == "json" && body.contains("last_run_uuid"))
        .expect("docs/packer.md shows a manifest")
        .1;
    let manifest_doc: serde_json::Value = serde_json::from_str(&manifest).expect("manifest JSON");
    let artifact = manifest_doc["builds"][0]["artifact_id"].as_str().unwrap();
    assert!(artifact.contains(','), "a multi-region artifact_id");
    fs::write(golden.join("manifest.json"), &manifest).unwrap();

    // The shell-local post-processor's lines, as /bin/sh -e runs them.
    let pp = hcl_blocks(&hcl, "post-processor \"shell-local\"")[0];
    let bin_dir = bakeproof_bin().parent().unwrap().to_path_buf();
    for line in hcl_string_list(pp, "inline") {
        let cmd = hcl_subst(&line, &vars);
        assert!(!cmd.contains("${"), "unknown template variable in {cmd}");
        let o = Command::new("sh")
            .args(["-e", "-c", &cmd])
            .current_dir(w)
            .env(
                "PATH",
                format!(
                    "{}:{}",
                    bin_dir.display(),
                    std::env::var("PATH").unwrap_or_default()
                ),
            )
            .env("COSIGN_PASSWORD", PASSWORD)
            .env("SOURCE_DATE_EPOCH", "1704067200")
            .output()
            .unwrap();
        assert!(o.status.success(), "{cmd}: {}", describe(&o));
    }
    for pair in artifact.split(',') {
        let (region, ami) = pair.split_once(':').unwrap();
        let index = w.join(format!("store/amis/{region}/{ami}/index.json"));
        assert!(index.is_file(), "no index for {pair}");
    }
    // The attested tree is the scanned one.
    let att_index: serde_json::Value =
        serde_json::from_str(&read(&golden.join("attestations/index.json"))).unwrap();
    let sbom: serde_json::Value =
        serde_json::from_str(&read(&golden.join("sbom.cdx.json"))).unwrap();
    assert_eq!(
        att_index["treeDigest"]["sha256"],
        sbom["metadata"]["component"]["hashes"][0]["content"]
    );

    // Without COSIGN_PASSWORD the post-processor fails (the build fails).
    let attest_line = hcl_string_list(pp, "inline")
        .into_iter()
        .find(|l| l.starts_with("bakeproof attest"))
        .unwrap();
    let o = Command::new("sh")
        .args(["-e", "-c", &hcl_subst(&attest_line, &vars)])
        .current_dir(w)
        .env(
            "PATH",
            format!(
                "{}:{}",
                bin_dir.display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        )
        .env_remove("COSIGN_PASSWORD")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", describe(&o));
}

#[test]
fn the_checker_rejects_bogus_flags_and_subcommands() {
    let hcl = read(&example_dir().join("golden.pkr.hcl"));
    let md = packer_md();
    let mutations = [
        (
            hcl.replace("--packer-manifest", "--packer-manifesto"),
            "--packer-manifesto",
        ),
        (
            hcl.replace("bakeproof publish", "bakeproof pubish"),
            "pubish",
        ),
        (
            md.replace("bakeproof seal check /", "bakeproof seal chekc /"),
            "chekc",
        ),
        (
            md.replace(
                "bakeproof scan / -o",
                "bakeproof scan / --no-such-flag \\\n    -o",
            ),
            "--no-such-flag",
        ),
        (
            md.replace("--region us-east-1", "--regoin us-east-1"),
            "--regoin",
        ),
    ];
    for (text, bogus) in mutations {
        assert!(text.contains(bogus), "mutation {bogus} did not apply");
        let blocks = if text.starts_with('#') && text.contains("```") {
            code_blocks(&text).into_iter().map(|(_, b)| b).collect()
        } else {
            vec![text]
        };
        let errs: Vec<String> = blocks
            .iter()
            .flat_map(|b| invocations("mutated", b))
            .flat_map(|i| check_invocation(&i))
            .collect();
        assert!(
            errs.iter().any(|e| e.contains(bogus)),
            "{bogus} not reported: {errs:?}"
        );
    }
}
