//! Amplification: inputs of a few MB that describe GBs of paths or file
//! entries must be read within the memory budget, or refused with a budget
//! error, never built.
//!
//! The oracle is this binary's own allocator: it counts live heap bytes,
//! records the peak, and refuses any allocation past 1 GiB (so the old,
//! unbudgeted code aborts here instead of taking the machine's memory).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use bakeproof_index::Root;
use bakeproof_pkgdb::rpm::{HeaderError, parse_header_blob};
use bakeproof_pkgdb::{Budget, BudgetScope, PkgDbError, read_root, read_root_in};

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
const CAP: usize = 1 << 30;

fn grow(n: usize) -> bool {
    let now = LIVE.fetch_add(n, Ordering::SeqCst) + n;
    if now > CAP {
        LIVE.fetch_sub(n, Ordering::SeqCst);
        return false;
    }
    PEAK.fetch_max(now, Ordering::SeqCst);
    true
}

// A counting allocator is the oracle of these tests; implementing
// `GlobalAlloc` is unsafe by definition.
#[allow(unsafe_code)]
// SAFETY: every method forwards to `System` with the caller's own arguments,
// so `System`'s guarantees hold; the only other thing done is counting, and a
// refusal returns null, which `GlobalAlloc` allows.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        if !grow(l.size()) {
            return std::ptr::null_mut();
        }
        // SAFETY: `l` is the caller's layout, valid as `alloc` requires.
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size(), Ordering::SeqCst);
        // SAFETY: `p` was allocated by `System` (through this allocator) with `l`.
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        if new > l.size() && !grow(new - l.size()) {
            return std::ptr::null_mut();
        }
        // SAFETY: `p` and `l` come from `System` (through this allocator),
        // `new` is the caller's, valid as `realloc` requires.
        let q = unsafe { System.realloc(p, l, new) };
        if q.is_null() {
            if new > l.size() {
                LIVE.fetch_sub(new - l.size(), Ordering::SeqCst);
            }
        } else if new < l.size() {
            LIVE.fetch_sub(l.size() - new, Ordering::SeqCst);
        }
        q
    }
}

#[global_allocator]
static A: Counting = Counting;

/// One measurement at a time (the counters are process-wide).
static SERIAL: Mutex<()> = Mutex::new(());

/// Peak heap bytes above the level at the start, while `f` runs.
fn peak_during<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = LIVE.load(Ordering::SeqCst);
    PEAK.store(base, Ordering::SeqCst);
    let out = f();
    (out, PEAK.load(Ordering::SeqCst) - base)
}

const T_STRING: u32 = 6;
const T_INT32: u32 = 4;
const T_STRING_ARRAY: u32 = 8;

/// A header blob (no region): `entries` = (tag, type, data, count).
fn blob(entries: &[(u32, u32, Vec<u8>, u32)]) -> Vec<u8> {
    let mut data = Vec::new();
    let mut index = Vec::new();
    for (tag, ty, d, count) in entries {
        while ty == &T_INT32 && data.len() % 4 != 0 {
            data.push(0);
        }
        index.push([*tag, *ty, data.len() as u32, *count]);
        data.extend_from_slice(d);
    }
    let mut out = Vec::new();
    out.extend_from_slice(&(index.len() as u32).to_be_bytes());
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    for e in index {
        for w in e {
            out.extend_from_slice(&w.to_be_bytes());
        }
    }
    out.extend_from_slice(&data);
    out
}

/// The amplifier: one 20 KB directory name, 200,000 one-byte base
/// names all indexing it (4 GB of joined paths from a 1.2 MB blob).
pub fn amplifying_header() -> Vec<u8> {
    let n = 200_000u32;
    let mut dir = vec![b'/'];
    dir.extend(std::iter::repeat_n(b'd', 20_000));
    dir.extend_from_slice(b"/\0");
    let mut bases = Vec::new();
    for i in 0..n {
        bases.push(b'a' + (i % 26) as u8);
        bases.push(0);
    }
    let idx: Vec<u8> = (0..n).flat_map(|_| 0u32.to_be_bytes()).collect();
    blob(&[
        (1000, T_STRING, b"amp\0".to_vec(), 1),
        (1001, T_STRING, b"1\0".to_vec(), 1),
        (1002, T_STRING, b"1\0".to_vec(), 1),
        (1116, T_INT32, idx, n),
        (1117, T_STRING_ARRAY, bases, n),
        (1118, T_STRING_ARRAY, dir, 1),
    ])
}

#[test]
fn rpm_header_dirname_amplification_is_a_budget_error() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let b = amplifying_header();
    assert!(b.len() < 2 << 20, "{}", b.len());
    let (r, peak) = peak_during(|| parse_header_blob(&b));
    match r {
        Err(HeaderError::Budget(e)) => {
            assert_eq!(e.scope, BudgetScope::Database);
            assert!(e.what.contains("200000 file entries"), "{e}");
            assert!(e.needed > 4_000_000_000, "{e}");
        }
        other => panic!("expected a budget error, got {other:?}"),
    }
    // Only the per-tag arrays (slices into the blob) were built.
    assert!(peak < 32 << 20, "peak {peak} bytes");

    // The same shape at a size that fits is read, paths joined as rpm does.
    let small = {
        let mut dir = b"/usr/share/x/\0".to_vec();
        dir.truncate(dir.len());
        blob(&[
            (1000, T_STRING, b"ok\0".to_vec(), 1),
            (1116, T_INT32, [0u8; 8].to_vec(), 2),
            (1117, T_STRING_ARRAY, b"a\0b\0".to_vec(), 2),
            (1118, T_STRING_ARRAY, dir, 1),
        ])
    };
    let h = parse_header_blob(&small).expect("small header");
    let paths: Vec<&[u8]> = h.files.iter().map(|f| f.path.as_slice()).collect();
    assert_eq!(paths, [&b"/usr/share/x/a"[..], b"/usr/share/x/b"]);
}

/// A root with `var/lib/rpm/rpmdb.sqlite` holding `blob` as its one record.
fn rpm_root(blob: &[u8]) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("var/lib/rpm");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let c = rusqlite::Connection::open(dir.join("rpmdb.sqlite")).expect("sqlite");
    c.execute_batch(
        "CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL)",
    )
    .expect("create");
    c.execute("INSERT INTO Packages (hnum, blob) VALUES (1, ?1)", [blob])
        .expect("insert");
    drop(c);
    tmp
}

#[test]
fn rpm_database_with_amplifying_header_is_a_budget_error() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let tmp = rpm_root(&amplifying_header());
    let root = Root::open(tmp.path()).expect("root");
    let (r, peak) = peak_during(|| read_root(&root));
    match r {
        Err(PkgDbError::Budget { file, source }) => {
            assert_eq!(file, "/var/lib/rpm/rpmdb.sqlite");
            assert!(source.what.starts_with("record 1: amp"), "{source}");
        }
        other => panic!("expected a budget error, got {other:?}"),
    }
    assert!(peak < 64 << 20, "peak {peak} bytes");
}

/// `n` lines of 27 bytes: `/usr/share/amp/f0000000001` ...
fn list_of(lines: usize) -> Vec<u8> {
    let mut l = Vec::with_capacity(lines * 27);
    for i in 0..lines {
        l.extend_from_slice(format!("/usr/share/amp/f{i:010}\n").as_bytes());
    }
    l
}

fn dpkg_root(status: &str, lists: &[(&str, &[u8])]) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("tmp");
    let info = tmp.path().join("var/lib/dpkg/info");
    std::fs::create_dir_all(&info).expect("mkdir");
    std::fs::write(tmp.path().join("var/lib/dpkg/status"), status).expect("status");
    for (name, body) in lists {
        std::fs::write(info.join(name), body).expect("list");
    }
    tmp
}

#[test]
fn dpkg_multiarch_fallback_list_is_read_once() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    // 32 `Multi-Arch: same` instances of one package, none with its own
    // `amp:ARCH.list`, all falling back to one 8 MiB `amp.list`.
    let mut status = String::new();
    for i in 0..32 {
        status.push_str(&format!(
            "Package: amp\nStatus: install ok installed\nArchitecture: arch{i}\n\
             Multi-Arch: same\nVersion: 1\n\n"
        ));
    }
    let lines = (8 << 20) / 27;
    let list = list_of(lines);
    let tmp = dpkg_root(&status, &[("amp.list", &list)]);
    let root = Root::open(tmp.path()).expect("root");
    let (dbs, peak) = peak_during(|| read_root(&root).expect("read"));
    let db = &dbs[0];
    assert_eq!(db.packages.len(), 32);
    let with_files: Vec<&str> = db
        .packages
        .iter()
        .filter(|p| !p.files.is_empty())
        .map(|p| p.db_key.as_str())
        .collect();
    assert_eq!(
        with_files,
        ["amp:arch0"],
        "the list is the first instance's"
    );
    assert_eq!(db.packages[0].files.len(), lines);
    assert_eq!(
        db.warnings
            .iter()
            .filter(|w| w.contains("amp.list not used as its file list: it is amp:arch0's"))
            .count(),
        31,
        "{:?}",
        &db.warnings[..3]
    );
    // One copy of the list's entries (~290,000 × ~260 bytes), not 32.
    assert!(peak < 200 << 20, "peak {peak} bytes");
    drop(dbs);

    // Distinct packages, each with its own 8 MiB list: bounded by the
    // per-database budget, a clear error.
    let mut status = String::new();
    let mut names = Vec::new();
    for i in 0..8 {
        status.push_str(&format!(
            "Package: p{i}\nStatus: install ok installed\nArchitecture: all\nVersion: 1\n\n"
        ));
        names.push(format!("p{i}.list"));
    }
    let lists: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &list[..])).collect();
    let tmp = dpkg_root(&status, &lists);
    let root = Root::open(tmp.path()).expect("root");
    let (r, peak) = peak_during(|| read_root_in(&root, &mut Budget::new(256 << 20, 1 << 30)));
    match r {
        Err(PkgDbError::Budget { file, source }) => {
            assert_eq!(file, "/var/lib/dpkg/status");
            assert_eq!(source.scope, BudgetScope::Database);
            assert!(
                source.what.contains("file list /var/lib/dpkg/info/p"),
                "{source}"
            );
        }
        other => panic!("expected a budget error, got {:?}", other.map(|d| d.len())),
    }
    assert!(peak < 320 << 20, "peak {peak} bytes");
    // The per-scan limit counts across databases: here it is the lower one.
    let (r, _) = peak_during(|| read_root_in(&root, &mut Budget::new(1 << 30, 128 << 20)));
    match r {
        Err(PkgDbError::Budget { source, .. }) => assert_eq!(source.scope, BudgetScope::Scan),
        other => panic!("expected a budget error, got {:?}", other.map(|d| d.len())),
    }
}

#[test]
fn real_databases_fit_the_default_budget() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let fx = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/rpmdb");
    for (dir, file) in [
        ("sle15-bci", "Packages.db"),
        ("centos8-dive", "Packages"),
        ("cbl-mariner-2.0", "rpmdb.sqlite"),
    ] {
        let bytes = std::fs::read(fx.join(dir).join(file)).expect("fixture");
        let kind = bakeproof_pkgdb::rpm::sniff(&bytes).expect("kind");
        let mut b = Budget::default();
        let before = LIVE.load(Ordering::SeqCst);
        let db = bakeproof_pkgdb::rpm::read_rpm_bytes(kind, &bytes, None, file, None, &mut b)
            .expect(dir);
        let kept = LIVE.load(Ordering::SeqCst) - before;
        let files: usize = db.packages.iter().map(|p| p.files.len()).sum();
        let (used, _) = b.used();
        // The charge is an upper estimate of what is kept, and not a wild one.
        assert!(files > 0, "{dir}");
        assert!(kept as u64 <= used, "{dir}: kept {kept} > charged {used}");
        assert!(
            used <= 4 * kept as u64,
            "{dir}: charged {used} for {kept} kept"
        );
        eprintln!(
            "{dir}: {} packages, {files} files, {kept} bytes kept, {used} charged ({} per file)",
            db.packages.len(),
            used as usize / files
        );
    }
}
