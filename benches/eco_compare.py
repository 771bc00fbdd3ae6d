#!/usr/bin/env python3
"""Language-ecosystem packages of a bakeproof CycloneDX SBOM against syft's syft-json.

usage: eco_compare.py BAKEPROOF.cdx.json SYFT.json [--missing N]

Prints, per ecosystem (python, npm, go, java, rust), how many packages each tool
reports, how many distinct (name, version) pairs, and how many of syft's pairs
bakeproof has; with --missing N, up to N of syft's pairs bakeproof lacks (and the
reverse), with syft's location, so that every difference can be looked at.

Names are compared in the ecosystem's normal form: Python names per PEP 503
(lower case, runs of -_. as -), Java as syft names them (artifactId; bakeproof's
name is the artifactId too), Go module paths as is.
"""
import collections
import json
import re
import sys

SYFT_TYPES = {
    "python": "python", "npm": "npm", "go-module": "go", "java-archive": "java",
    "jenkins-plugin": "java", "rust-crate": "rust",
}
PURL_TYPES = {"pypi": "python", "npm": "npm", "golang": "go", "maven": "java", "cargo": "rust"}


def norm(eco, name):
    if eco == "python":
        return re.sub(r"[-_.]+", "-", name).lower()
    return name


def bakeproof(path):
    doc = json.load(open(path))
    out = collections.defaultdict(list)
    for c in doc.get("components") or []:
        purl = c.get("purl") or ""
        t = purl[4:].split("/")[0] if purl.startswith("pkg:") else ""
        eco = PURL_TYPES.get(t)
        if not eco:
            continue
        props = {p["name"]: p["value"] for p in c.get("properties") or []}
        loc = props.get("bakeproof:package:location", "")
        out[eco].append((norm(eco, c["name"]), c.get("version", ""), loc))
    return out


def syft(path):
    doc = json.load(open(path))
    out = collections.defaultdict(list)
    for a in doc.get("artifacts") or []:
        eco = SYFT_TYPES.get(a.get("type"))
        if not eco:
            continue
        locs = a.get("locations") or []
        loc = locs[0].get("path", "") if locs else ""
        name = a["name"]
        if eco == "npm" and name.startswith("@"):
            pass
        out[eco].append((norm(eco, name), a.get("version", ""), loc))
    return out


def main():
    args = sys.argv[1:]
    missing = 0
    if "--missing" in args:
        i = args.index("--missing")
        missing = int(args[i + 1])
        del args[i:i + 2]
    if len(args) != 2:
        raise SystemExit(__doc__)
    b, s = bakeproof(args[0]), syft(args[1])
    print("| ecosystem | bakeproof packages | syft packages | bakeproof name@version | syft name@version | syft's found by bakeproof |")
    print("| --- | --- | --- | --- | --- | --- |")
    tb = ts = tf = 0
    for eco in ["python", "npm", "go", "java", "rust"]:
        bp = {(n, v) for n, v, _ in b[eco]}
        sp = {(n, v) for n, v, _ in s[eco]}
        found = len(sp & bp)
        tb += len(b[eco]); ts += len(s[eco]); tf += found
        print(f"| {eco} | {len(b[eco])} | {len(s[eco])} | {len(bp)} | {len(sp)} | {found} of {len(sp)} |")
    print(f"| all | {tb} | {ts} | | | {tf} |")
    if missing:
        for eco in ["python", "npm", "go", "java", "rust"]:
            bp = {(n, v) for n, v, _ in b[eco]}
            sl = {(n, v): l for n, v, l in s[eco]}
            bl = {(n, v): l for n, v, l in b[eco]}
            gone = sorted(set(sl) - bp)[:missing]
            extra = sorted(set(bl) - set(sl))[:missing]
            for k in gone:
                print(f"syft only  {eco} {k[0]}@{k[1]}  ({sl[k]})")
            for k in extra:
                print(f"bakeproof only  {eco} {k[0]}@{k[1]}  ({bl[k]})")


if __name__ == "__main__":
    main()
