#!/usr/bin/env python3
# Copied unchanged (apart from these two comment lines) from the project's shared/bench/count_sbom.py,
# the counting script of the peer baselines (shared/bench/run-peers.sh); keep the two in step.
"""Count what an SBOM holds: packages, file entries, per-file SHA-256 digests.

usage: count_sbom.py [--tsv] FILE...

Understands syft-json (has "artifacts") and CycloneDX JSON (has "bomFormat").
Prints one line per file; with --tsv: path, format, packages, file_entries,
files_with_sha256, bytes.

"packages" is
  * syft-json: len(artifacts);
  * CycloneDX: components (nested ones included) except the operating-system
    component, file components, and application components without a purl
    (trivy's per-target aggregates such as "usr/local/bin/docker").
"files_with_sha256" is
  * syft-json: entries of "files" whose "digests" contain sha256;
  * CycloneDX: components of type "file" with a SHA-256 hash.
"""
import collections
import json
import os
import sys


def walk_components(comps):
    for c in comps or []:
        yield c
        yield from walk_components(c.get("components"))


def count(path):
    with open(path, "rb") as f:
        doc = json.load(f)
    size = os.path.getsize(path)
    if "artifacts" in doc:
        files = doc.get("files") or []
        sha = sum(1 for x in files
                  if any(d.get("algorithm") == "sha256" for d in (x.get("digests") or [])))
        kinds = collections.Counter((x.get("metadata") or {}).get("type") for x in files)
        types = collections.Counter(a.get("type") for a in doc["artifacts"])
        return dict(path=path, format="syft-json", packages=len(doc["artifacts"]),
                    file_entries=len(files), files_with_sha256=sha, bytes=size,
                    detail=f"file kinds {dict(kinds)}; package types {dict(types.most_common(6))}")
    if doc.get("bomFormat") == "CycloneDX":
        comps = list(walk_components(doc.get("components")))
        pk = [c for c in comps
              if c.get("type") not in ("operating-system", "file")
              and not (c.get("type") == "application" and not c.get("purl"))]
        fcomps = [c for c in comps if c.get("type") == "file"]
        fsha = sum(1 for c in fcomps
                   if any(h.get("alg") == "SHA-256" for h in (c.get("hashes") or [])))
        purl = collections.Counter((c.get("purl") or "none").split("/")[0] for c in pk)
        types = collections.Counter(c.get("type") for c in comps)
        return dict(path=path, format=f"cyclonedx-{doc.get('specVersion')}", packages=len(pk),
                    file_entries=len(fcomps), files_with_sha256=fsha, bytes=size,
                    detail=f"component types {dict(types)}; purl types {dict(purl.most_common(6))}")
    raise SystemExit(f"{path}: neither syft-json nor CycloneDX JSON")


def main(argv):
    tsv = "--tsv" in argv
    for p in [a for a in argv if a != "--tsv"]:
        r = count(p)
        if tsv:
            print("\t".join(str(r[k]) for k in
                            ("path", "format", "packages", "file_entries", "files_with_sha256", "bytes")))
        else:
            print(f"{r['path']}: {r['format']} packages={r['packages']} file_entries={r['file_entries']} "
                  f"files_with_sha256={r['files_with_sha256']} bytes={r['bytes']} ({r['detail']})")


if __name__ == "__main__":
    main(sys.argv[1:])
