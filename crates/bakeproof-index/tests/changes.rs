//! Files that vanish or change while the scan reads them: recorded as
//! errors, the scan goes on, nothing else is lost.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use bakeproof_index::{
    ContentObserver, ContentSink, EntryError, FileKind, Root, ScanOptions, scan,
};

/// On the first file it sees, deletes every other file of the directory.
struct Deleter {
    dir: PathBuf,
    done: Mutex<bool>,
}

impl ContentObserver for Deleter {
    fn name(&self) -> &'static str {
        "deleter"
    }
    fn start(&self, path: &[u8], _size: u64) -> Option<Box<dyn ContentSink>> {
        let mut done = self.done.lock().unwrap();
        if !*done && path.starts_with(b"/d/") {
            *done = true;
            let me = std::str::from_utf8(path)
                .unwrap()
                .rsplit('/')
                .next()
                .unwrap()
                .to_owned();
            for e in std::fs::read_dir(&self.dir).unwrap() {
                let e = e.unwrap();
                if e.file_name().to_str() != Some(&me) {
                    std::fs::remove_file(e.path()).unwrap();
                }
            }
        }
        None
    }
}

#[test]
fn files_removed_mid_scan_are_recorded_as_vanished() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("d");
    std::fs::create_dir(&d).unwrap();
    for i in 0..5 {
        std::fs::write(d.join(format!("f{i}")), format!("{i}")).unwrap();
    }
    std::fs::write(t.path().join("stays"), b"x").unwrap();
    let root = Root::open(t.path()).unwrap();
    let opts = ScanOptions {
        threads: Some(1),
        observers: vec![Arc::new(Deleter {
            dir: d.clone(),
            done: Mutex::new(false),
        })],
        ..ScanOptions::default()
    };
    let r = scan(&root, &opts).unwrap();
    let in_d: Vec<_> = r
        .entries
        .iter()
        .filter(|e| e.path.starts_with(b"/d/"))
        .collect();
    assert_eq!(in_d.len(), 5, "every listed file is recorded");
    let vanished = in_d
        .iter()
        .filter(|e| e.error == Some(EntryError::Vanished))
        .count();
    assert_eq!(vanished, 4);
    assert_eq!(in_d.iter().filter(|e| e.sha256.is_some()).count(), 1);
    assert_eq!(r.stats.errors, 4);
    let stays = r.entries.iter().find(|e| e.path == b"/stays").unwrap();
    assert!(stays.sha256.is_some());
}

/// Appends to the file while it is being read.
struct Appender(PathBuf);

struct AppendSink(PathBuf, bool);

impl ContentSink for AppendSink {
    fn update(&mut self, _chunk: &[u8]) {
        if !self.1 {
            self.1 = true;
            use std::io::Write;
            let mut f = std::fs::OpenOptions::new()
                .append(true)
                .open(&self.0)
                .unwrap();
            f.write_all(b"more").unwrap();
        }
    }
    fn finish(self: Box<Self>) -> Vec<(String, String)> {
        vec![("seen".into(), "yes".into())]
    }
}

impl ContentObserver for Appender {
    fn name(&self) -> &'static str {
        "appender"
    }
    fn start(&self, path: &[u8], _size: u64) -> Option<Box<dyn ContentSink>> {
        (path == b"/grows")
            .then(|| Box::new(AppendSink(self.0.join("grows"), false)) as Box<dyn ContentSink>)
    }
}

#[test]
fn file_changed_while_read_is_recorded_as_changed() {
    let t = tempfile::tempdir().unwrap();
    std::fs::write(t.path().join("grows"), vec![7u8; 1 << 20]).unwrap();
    std::fs::write(t.path().join("calm"), b"calm").unwrap();
    let root = Root::open(t.path()).unwrap();
    let opts = ScanOptions {
        observers: vec![Arc::new(Appender(t.path().to_owned()))],
        ..ScanOptions::default()
    };
    let r = scan(&root, &opts).unwrap();
    let g = r.entries.iter().find(|e| e.path == b"/grows").unwrap();
    assert!(
        matches!(g.error, Some(EntryError::Changed(_))),
        "{:?}",
        g.error
    );
    assert!(
        g.sha256.is_none(),
        "no digest for a version that never existed"
    );
    assert!(
        g.annotations.is_empty(),
        "observers finish only on clean reads"
    );
    let c = r.entries.iter().find(|e| e.path == b"/calm").unwrap();
    assert_eq!(c.kind, FileKind::Regular);
    assert!(c.sha256.is_some());
}

#[test]
fn excludes_prune_and_match_names() {
    let t = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(t.path().join("var/log/journal")).unwrap();
    std::fs::write(t.path().join("var/log/journal/x"), b"x").unwrap();
    std::fs::write(t.path().join("var/keep.pyc"), b"x").unwrap();
    std::fs::write(t.path().join("var/keep"), b"x").unwrap();
    let root = Root::open(t.path()).unwrap();
    let opts = ScanOptions {
        excludes: vec!["/var/log".into(), "*.pyc".into()],
        ..ScanOptions::default()
    };
    let r = scan(&root, &opts).unwrap();
    let paths: Vec<&[u8]> = r.entries.iter().map(|e| e.path.as_slice()).collect();
    assert_eq!(paths, vec![&b"/var"[..], b"/var/keep"]);
}

#[test]
fn tree_digest_ignores_mtime_but_not_content_or_mode() {
    use std::os::unix::fs::PermissionsExt;
    let t = tempfile::tempdir().unwrap();
    let f = t.path().join("f");
    std::fs::write(&f, b"a").unwrap();
    let root = Root::open(t.path()).unwrap();
    let d1 = scan(&root, &ScanOptions::default()).unwrap().tree_digest;
    let old = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1000);
    std::fs::File::options()
        .write(true)
        .open(&f)
        .unwrap()
        .set_modified(old)
        .unwrap();
    let d2 = scan(&root, &ScanOptions::default()).unwrap().tree_digest;
    assert_eq!(d1, d2);
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600)).unwrap();
    let d3 = scan(&root, &ScanOptions::default()).unwrap().tree_digest;
    assert_ne!(d2, d3);
    std::fs::write(&f, b"b").unwrap();
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600)).unwrap();
    let d4 = scan(&root, &ScanOptions::default()).unwrap().tree_digest;
    assert_ne!(d3, d4);
}
