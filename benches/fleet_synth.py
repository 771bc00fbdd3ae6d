#!/usr/bin/env python3
"""Synthesize N AMIs' SBOMs for benches/fleet.sh by mutating real SBOMs.

Each base is a real `bakeproof scan` CycloneDX (of a root holding a real
package database: this machine's dpkg status, the cbl-mariner rpmdb). Per
AMI: pick a base, bump a few package versions (the last digit run of the
version, so dpkg/rpm syntax is kept), remove a few packages, add a few
(clones of a real component under a new name), and give ~5% of the AMIs an
xz-utils (deb) / xz (rpm) version from XZ_VERSIONS (liblzma5 / xz-libs
follow). name, version, purl, bom-ref, the rpm/trivy version properties
and the dependency graph are edited together. The tree digest (metadata)
is the base's, so the base's seal report attests every mutant.

Writes OUT/sboms/AMI.json and OUT/manifest.tsv:
region ami base sbom seal xz_version expected(1 = xz in [5.6.0, 5.6.2)
by `dpkg --compare-versions`).

usage: fleet_synth.py --n N --out DIR --seed S BASE=SBOM:SEAL...
"""

import argparse
import copy
import json
import random
import re
import subprocess
import sys
import uuid
from pathlib import Path

XZ_VERSIONS = ["5.4.1-0.2", "5.6.0-0.2", "5.6.1-1", "5.6.1+really5.4.5-1", "5.6.2-1"]
REGIONS = ["us-east-1", "us-west-2", "eu-west-1", "ap-southeast-2"]
XZ_NAMES = {"deb": ("xz-utils", "liblzma5"), "rpm": ("xz", "xz-libs")}
PROTECTED = {"xz-utils", "liblzma5", "xz", "xz-libs", "xz-devel", "liblzma-dev"}
ADD_NAMES = [
    "amazon-ssm-agent", "cloud-init-extras", "nginx-core", "jq", "htop", "chrony-extra",
    "node-exporter", "fluent-bit", "corp-ca-certificates", "corp-baseline", "falco",
    "aws-cli-v2", "ec2-instance-connect", "osquery", "wazuh-agent", "datadog-agent",
]

_cmp_cache = {}


def dpkg_ge(a, b):
    """a >= b in dpkg order."""
    k = (a, b)
    if k not in _cmp_cache:
        _cmp_cache[k] = subprocess.run(["dpkg", "--compare-versions", a, "ge", b]).returncode == 0
    return _cmp_cache[k]


def in_range(v):
    return dpkg_ge(v, "5.6.0") and not dpkg_ge(v, "5.6.2")


def encode_version(v):
    # bakeproof's purl version encoding: what the bases show ('+' -> %2B);
    # ':' (epoch) is kept, as in pkg:deb/debian/attr@1:2.5.1-4
    return v.replace("%", "%25").replace("+", "%2B").replace("~", "%7E")


def split_purl(purl):
    head, sep, rest = purl.partition("?")
    name, _, ver = head.rpartition("@")
    return name, ver, sep + rest


def bump(v, rng):
    """Increment the last run of digits (by 1..3)."""
    m = list(re.finditer(r"\d+", v))
    if not m:
        return None
    last = m[-1]
    return v[: last.start()] + str(int(last.group()) + rng.randint(1, 3)) + v[last.end():]


def set_version(c, new, ptype):
    """Rewrite component c to version `new`; returns (old_ref, new_ref)."""
    old = c["version"]
    name, pver, tail = split_purl(c["purl"])
    old_ref = c.get("bom-ref")
    ref_name, _, ref_tail = split_purl(old_ref)
    # the qualifiers of a bom-ref are unescaped; the upstream qualifier of an
    # rpm names the source rpm with the full version: follow the bump
    new_ref = f"{ref_name}@{encode_version(new)}{ref_tail.replace(old, new)}"
    c["purl"] = f"{name}@{encode_version(new)}{tail.replace(encode_version(old), encode_version(new))}"
    c["bom-ref"] = new_ref
    c["version"] = new
    if ptype == "rpm":
        v, _, r = new.rpartition("-")
    else:
        v, _, r = new.rpartition("-") if "-" in new else (new, "", "")
    for p in c.get("properties", []):
        n = p["name"]
        if n == "bakeproof:package:rpm:version":
            p["value"] = v
        elif n == "bakeproof:package:rpm:release":
            p["value"] = r
        elif n in ("bakeproof:package:source-version", "bakeproof:package:rpm:sourcerpm"):
            p["value"] = p["value"].replace(old, new)
    # trivy's source version: only when the source is at the binary's version
    props = {p["name"]: p for p in c.get("properties", [])}
    sv, sr = props.get("aquasecurity:trivy:SrcVersion"), props.get("aquasecurity:trivy:SrcRelease")
    if sv and sr and f"{sv['value']}-{sr['value']}" in (old, old.split(":", 1)[-1]):
        sv["value"], sr["value"] = (v.split(":", 1)[-1], r)
    return old_ref, new_ref


def mutate(base, ptype, rng, xz_version):
    d = copy.deepcopy(base)
    d["serialNumber"] = f"urn:uuid:{uuid.UUID(int=rng.getrandbits(128), version=4)}"
    comps = d["components"]
    pkgs = [c for c in comps if c.get("type") == "library" and c.get("purl", "").startswith(f"pkg:{ptype}/")]
    renames = {}
    # bump 3..15 packages
    for c in rng.sample([c for c in pkgs if c["name"] not in PROTECTED], min(len(pkgs) - 8, rng.randint(3, 15))):
        nv = bump(c["version"], rng)
        if nv:
            o, n = set_version(c, nv, ptype)
            renames[o] = n
    # the xz of this AMI
    if xz_version:
        for c in pkgs:
            if c["name"] in XZ_NAMES[ptype]:
                o, n = set_version(c, xz_version, ptype)
                renames[o] = n
    # remove 0..3
    removed = set()
    for c in rng.sample([c for c in pkgs if c["name"] not in PROTECTED], rng.randint(0, 3)):
        removed.add(c["bom-ref"])
    comps[:] = [c for c in comps if c.get("bom-ref") not in removed]
    # add 0..3: a clone of a real package under a new name
    have = {c["name"] for c in comps}
    added = []
    for name in rng.sample(ADD_NAMES, rng.randint(0, 3)):
        if name in have:
            continue
        t = copy.deepcopy(rng.choice(pkgs))
        if t.get("bom-ref") in removed:
            continue
        old_name = t["name"]
        ver = f"{rng.randint(1, 9)}.{rng.randint(0, 30)}.{rng.randint(0, 9)}-{rng.randint(1, 5)}"
        if ptype == "rpm":
            ver += ".cm2"
        for k in ("purl", "bom-ref"):
            pn, pv, tail = split_purl(t[k])
            pn = pn[: -len(old_name)] + name
            t[k] = f"{pn}@{encode_version(ver)}{tail}"
            # an upstream qualifier of the template names another source
            t[k] = re.sub(r"&upstream=[^&#]*", "", t[k])
        t["name"] = name
        t["version"] = ver
        t["description"] = f"{name} (synthetic)"
        t["properties"] = [p for p in t.get("properties", [])
                           if not p["name"].startswith(("bakeproof:package:missing", "aquasecurity:"))
                           and p["name"] not in ("bakeproof:package:source-name", "bakeproof:package:source-version",
                                                 "bakeproof:package:rpm:sourcerpm")]
        for p in t["properties"]:
            if p["name"] == "bakeproof:package:rpm:version":
                p["value"] = ver.rpartition("-")[0]
            elif p["name"] == "bakeproof:package:rpm:release":
                p["value"] = ver.rpartition("-")[2]
        comps.append(t)
        added.append(t["bom-ref"])
    # dependency graph
    deps = []
    for e in d.get("dependencies", []):
        if e["ref"] in removed:
            continue
        e["ref"] = renames.get(e["ref"], e["ref"])
        if "dependsOn" in e:
            e["dependsOn"] = [renames.get(r, r) for r in e["dependsOn"] if r not in removed]
        if e["ref"] == "image":
            e["dependsOn"] += added
        deps.append(e)
    deps += [{"ref": r, "dependsOn": []} for r in added]
    d["dependencies"] = deps
    return d


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--xz-share", type=float, default=0.05)
    ap.add_argument("bases", nargs="+", help="NAME=SBOM:SEAL (NAME deb... or rpm...)")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    bases = []
    for b in a.bases:
        name, _, rest = b.partition("=")
        sbom, _, seal = rest.partition(":")
        ptype = "rpm" if name.startswith("rpm") else "deb"
        bases.append((name, ptype, json.load(open(sbom)), seal))
    (a.out / "sboms").mkdir(parents=True, exist_ok=True)
    # at least two, so a small fleet has an affected and an unaffected xz
    n_xz = min(a.n, max(2, round(a.n * a.xz_share)))
    xz_idx = set(rng.sample(range(a.n), n_xz))
    # the five versions in turn (an affected one first), so each appears
    # whenever n_xz allows; the AMIs they go to are random
    cycle = ["5.6.1-1", "5.6.2-1", "5.6.0-0.2", "5.4.1-0.2", "5.6.1+really5.4.5-1"]
    assert sorted(cycle) == sorted(XZ_VERSIONS)
    xz_order = [cycle[i % len(cycle)] for i in range(n_xz)][::-1]
    seen = set()
    rows = []
    for i in range(a.n):
        name, ptype, base, seal = bases[rng.randrange(len(bases))] if i >= len(bases) else bases[i]
        while True:
            ami = "ami-" + "".join(rng.choice("0123456789abcdef") for _ in range(17))
            if ami not in seen:
                seen.add(ami)
                break
        region = REGIONS[i % len(REGIONS)]
        xz = xz_order.pop() if i in xz_idx else ""
        d = mutate(base, ptype, rng, xz)
        p = a.out / "sboms" / f"{ami}.json"
        p.write_text(json.dumps(d, separators=(",", ":")))
        # the AMI's xz: the mutated one, else the base's
        xzv = next(c["version"] for c in d["components"] if c.get("name") == XZ_NAMES[ptype][0])
        rows.append((region, ami, name, str(p), seal, xzv, "1" if in_range(xzv) else "0"))
    with open(a.out / "manifest.tsv", "w") as f:
        for r in rows:
            f.write("\t".join(r) + "\n")
    print(f"{a.n} AMIs, {sum(r[6] == '1' for r in rows)} with xz in [5.6.0, 5.6.2)", file=sys.stderr)


if __name__ == "__main__":
    main()
