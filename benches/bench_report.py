#!/usr/bin/env python3
"""Helpers for benches/scan-vs-syft.sh (standard library only, plus count_sbom.py beside it).

  bench_report.py tree-stats TREE [EXCLUDED_TOP_LEVEL_NAME...]
      Walks TREE without following symlinks and without crossing into other
      filesystems (like bakeproof's default), pruning TREE/NAME for each name given.
      Prints: "<regular files> <bytes> <largest file size> <largest file path>".

  bench_report.py sha-rate-python [MiB]
      Single-thread hashlib SHA-256 rate over an in-memory buffer (default 256 MiB),
      best of 3. Prints bytes per second.

  bench_report.py report --out DIR --tree TREE ... (see main())
      Prints the Markdown summary from DIR/{bakeproof,syft,trivy}.times and the SBOMs
      (bakeproof.cdx.json, syft.json, trivy.cdx.json), for bakeproof and the --peers given.
"""
import argparse
import hashlib
import json
import os
import stat
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import count_sbom  # noqa: E402  (copied from shared/bench, see its header)

MiB = 1024 * 1024


def tree_stats(tree, excludes):
    tree = os.path.abspath(tree)
    root_dev = os.lstat(tree).st_dev
    pruned = {os.path.join(tree, e.strip("/")) for e in excludes}
    files = total = 0
    largest = (0, "")
    stack = [tree]
    while stack:
        d = stack.pop()
        try:
            it = os.scandir(d)
        except OSError:
            continue
        with it:
            for e in it:
                try:
                    st = e.stat(follow_symlinks=False)
                except OSError:
                    continue
                if stat.S_ISDIR(st.st_mode):
                    if e.path in pruned or st.st_dev != root_dev:
                        continue
                    stack.append(e.path)
                elif stat.S_ISREG(st.st_mode):
                    files += 1
                    total += st.st_size
                    if st.st_size > largest[0]:
                        largest = (st.st_size, e.path)
    print(files, total, largest[0], largest[1])


def sha_rate_python(mib):
    buf = os.urandom(mib * MiB)
    best = 0.0
    for _ in range(3):
        t0 = time.perf_counter()
        hashlib.sha256(buf).digest()
        dt = time.perf_counter() - t0
        best = max(best, len(buf) / dt)
    print(int(best))


def read_times(path):
    """GNU time lines '%e %U %S %M' -> list of (wall, user+sys, peak KiB)."""
    rows = []
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) < 4 or line.startswith("Command"):
                continue
            try:
                w, u, s, m = map(float, parts[-4:])
            except ValueError:
                continue
            rows.append((w, u + s, m))
    if not rows:
        raise SystemExit(f"{path}: no timing rows")
    return rows


def med(rows, i):
    return statistics.median(r[i] for r in rows)


def bakeproof_counts(path):
    c = count_sbom.count(path)
    with open(path, "rb") as f:
        doc = json.load(f)
    props = {p.get("name"): p.get("value")
             for p in ((doc.get("metadata") or {}).get("properties") or [])}
    bytes_hashed = props.get("bakeproof:scan:bytes-hashed")
    return c["files_with_sha256"], (int(bytes_hashed) if bytes_hashed else None), c


def syft_counts(path):
    c = count_sbom.count(path)
    with open(path, "rb") as f:
        doc = json.load(f)
    total = 0
    for x in doc.get("files") or []:
        if any(d.get("algorithm") == "sha256" for d in (x.get("digests") or [])):
            total += int((x.get("metadata") or {}).get("size") or 0)
    return c["files_with_sha256"], total, c


def trivy_counts(path):
    # trivy records packages only: no file components, no file digests.
    c = count_sbom.count(path)
    return c["files_with_sha256"], None, c


def fmt_bytes(n):
    if n is None:
        return "-"
    return f"{n} ({n / MiB / 1024:.2f} GiB)" if n >= 1024 * MiB else f"{n} ({n / MiB:.1f} MiB)"


def report(a):
    out = a.out
    tree_files, tree_bytes = a.tree_files, a.tree_bytes
    limit_s = tree_bytes / (a.threads * a.sha_rate) if a.sha_rate > 0 else float("nan")
    lines = []
    mode = "COLD (page cache dropped before every run)" if a.cold else "warm page cache"
    peers = a.peers.split()
    title = " vs ".join(["bakeproof"] + peers)
    versions = "; ".join(v for v in (f"syft {a.syft_version}" if "syft" in peers else "",
                                     f"trivy {a.trivy_version}" if "trivy" in peers else "") if v)
    lines.append(f"# {title} on {a.tree}"
                 + (f" (excluding: {a.excludes})" if a.excludes else ""))
    lines.append("")
    lines.append(f"{a.date}, {a.host}, {a.nproc} cores, {mode}; median of {a.runs} timed runs "
                 f"after 1 warm-up run each; " + (f"{versions}; " if versions else "")
                 + f"bakeproof {a.bakeproof_version}")
    lines.append("")
    lines.append(f"Tree: {tree_files} regular files, {fmt_bytes(tree_bytes)} "
                 "(one filesystem, symlinks not followed, excludes pruned).")
    lines.append(f"Single-thread SHA-256 rate: {a.sha_rate / 1e6:.0f} MB/s ({a.sha_tool}); "
                 f"hashing limit with {a.threads} thread(s): {limit_s:.3f} s.")
    if a.disk:
        lines.append(f"Disk sequential read: {a.disk}.")
    lines.append("")
    lines.append("| tool | median wall s | median user+sys s | median peak RSS MiB | packages | files hashed (SHA-256) | bytes hashed | wall min–max s |")
    lines.append("|---|---|---|---|---|---|---|---|")
    walls = {}
    tools = [("bakeproof", "bakeproof scan", "bakeproof.times", "bakeproof.cdx.json", bakeproof_counts, "")]
    if a.baseline:
        tools.append(("baseline", f"bakeproof scan, baseline `{a.baseline}`", "baseline.times",
                      "baseline.cdx.json", bakeproof_counts, ""))
    if "syft" in peers:
        tools.append(("syft", "syft, all files sha256, syft-json", "syft.times", "syft.json", syft_counts, ""))
    if "trivy" in peers:
        tools.append(("trivy", "trivy rootfs, CycloneDX, offline", "trivy.times", "trivy.cdx.json", trivy_counts,
                      " (trivy hashes no files)"))
    for key, name, times, sbom, counter, note in tools:
        tp = os.path.join(out, times)
        if not os.path.exists(tp):
            continue
        rows = read_times(tp)
        walls[key] = med(rows, 0)
        try:
            nfiles, nbytes, c = counter(os.path.join(out, sbom))
            npkgs = c["packages"]
        except (OSError, ValueError, SystemExit) as e:
            nfiles, nbytes, npkgs = f"? ({e})", None, "?"
        lines.append(f"| {name} | {med(rows, 0):.3f} | {med(rows, 1):.3f} | {med(rows, 2) / 1024:.1f} "
                     f"| {npkgs} | {nfiles}{note} | {fmt_bytes(nbytes)} "
                     f"| {min(r[0] for r in rows):.3f}–{max(r[0] for r in rows):.3f} |")
    lines.append(f"| SHA-256 limit ({a.threads} thr × {a.sha_rate / 1e6:.0f} MB/s) | {limit_s:.3f} | - | - | - "
                 f"| {tree_files} | {fmt_bytes(tree_bytes)} | - |")
    lines.append("")
    lines.append("packages: count_sbom.py's count (syft-json: artifacts; CycloneDX: components other than "
                 "the OS, files, and applications without a purl); each tool has its own idea of a package.")
    lines.append("")
    b = walls.get("bakeproof")
    for key, what in (("baseline", "the same scan by the baseline binary"),
                      ("syft", "hashes every file"), ("trivy", "packages only, no file hashes")):
        p = walls.get(key)
        if b and p:
            lines.append(f"- {key} wall / bakeproof wall: **{p / b:.2f}×** ({key} {what})")
    if b and limit_s == limit_s and limit_s > 0:
        lines.append(f"- bakeproof wall / hashing limit: **{b / limit_s:.2f}×** "
                     f"(limit = {tree_bytes} B ÷ ({a.threads} × {a.sha_rate:.0f} B/s))")
    print("\n".join(lines))


def main(argv):
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    cmd, rest = argv[0], argv[1:]
    if cmd == "tree-stats":
        tree_stats(rest[0], rest[1:])
        return 0
    if cmd == "sha-rate-python":
        sha_rate_python(int(rest[0]) if rest else 256)
        return 0
    if cmd == "report":
        ap = argparse.ArgumentParser(prog="bench_report.py report")
        for opt in ("--out", "--tree", "--excludes", "--sha-tool", "--disk", "--date", "--host",
                    "--syft-version", "--trivy-version", "--bakeproof-version"):
            ap.add_argument(opt, default="")
        ap.add_argument("--peers", default="syft")
        ap.add_argument("--baseline", default="")
        ap.add_argument("--tree-files", type=int, required=True)
        ap.add_argument("--tree-bytes", type=int, required=True)
        ap.add_argument("--threads", type=int, required=True)
        ap.add_argument("--nproc", type=int, required=True)
        ap.add_argument("--runs", type=int, required=True)
        ap.add_argument("--sha-rate", type=float, required=True)
        ap.add_argument("--cold", action="store_true")
        report(ap.parse_args(rest))
        return 0
    print(f"unknown command {cmd}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
