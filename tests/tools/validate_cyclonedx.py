#!/usr/bin/env python3
"""Validate CycloneDX JSON documents with cyclonedx-python-lib.

usage: validate_cyclonedx.py [--spec-version X.Y | --any-version] FILE...

Each FILE is parsed as JSON, its declared "specVersion" is read, and the
document is validated with cyclonedx-python-lib's
``JsonStrictValidator(SchemaVersion.V<declared>)`` (the library's bundled
CycloneDX schema, JSON Schema draft-07, with format checks on).

By default only specVersion 1.5 is accepted: a document declaring anything
else is an error, even if it would be valid for its own version.
  --spec-version X.Y   accept (and require) X.Y instead of 1.5
  --any-version        validate each document against the version it declares

Exit status: 0 when every FILE is valid, 1 when any is not (the errors go to
stderr), 2 on usage errors or when the library is missing.

The library version is pinned in tests/tools/requirements.txt; tests/run-all.sh
installs it into .venv.
"""
from __future__ import annotations

import argparse
import json
import sys

try:
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator
except ImportError as err:  # pragma: no cover - environment problem
    print(f"validate_cyclonedx.py: cannot import cyclonedx-python-lib ({err}); "
          "run tests/run-all.sh to create .venv", file=sys.stderr)
    sys.exit(2)

DEFAULT_VERSION = "1.5"
MAX_ERRORS_PER_FILE = 50


def _error_path(err) -> str:
    inner = getattr(err, "data", None)
    path = getattr(inner, "absolute_path", None) or getattr(inner, "path", None)
    if path is None:
        return "$"
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)


def _error_message(err) -> str:
    inner = getattr(err, "data", None)
    msg = getattr(inner, "message", None)
    return msg if msg is not None else str(err)


def validate_file(path: str, want: str | None) -> list[str]:
    """Return a list of error strings (empty when valid)."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
        text = raw.decode("utf-8")
        doc = json.loads(text)
    except (OSError, UnicodeDecodeError, ValueError) as e:
        return [f"cannot read/parse JSON: {e}"]
    if not isinstance(doc, dict):
        return ["top-level JSON value is not an object"]
    declared = doc.get("specVersion")
    if not isinstance(declared, str):
        return [f"missing or non-string specVersion: {declared!r}"]
    if want is not None and declared != want:
        return [f"specVersion is {declared!r}, expected {want!r} "
                "(use --spec-version or --any-version to accept it)"]
    try:
        schema_version = SchemaVersion.from_version(declared)
    except Exception:  # unknown version string
        return [f"unsupported specVersion {declared!r}"]
    validator = JsonStrictValidator(schema_version)
    errors = validator.validate_str(text, all_errors=True)
    if errors is None:
        return []
    out = []
    for i, e in enumerate(errors):
        if i >= MAX_ERRORS_PER_FILE:
            out.append("... (more errors omitted)")
            break
        out.append(f"{_error_path(e)}: {_error_message(e)}")
    return out


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--spec-version", default=DEFAULT_VERSION, metavar="X.Y",
                   help="required specVersion (default %(default)s)")
    g.add_argument("--any-version", action="store_true",
                   help="validate against whatever specVersion the document declares")
    ap.add_argument("files", nargs="+", metavar="FILE")
    args = ap.parse_args(argv)
    want = None if args.any_version else args.spec_version
    bad = 0
    for path in args.files:
        errs = validate_file(path, want)
        if errs:
            bad += 1
            print(f"{path}: INVALID ({len(errs)} error(s))", file=sys.stderr)
            for e in errs:
                print(f"  {e}", file=sys.stderr)
        else:
            print(f"{path}: valid CycloneDX {want or 'declared version'}")
    if bad:
        print(f"{bad} of {len(args.files)} file(s) invalid", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
