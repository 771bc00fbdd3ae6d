#!/usr/bin/env python3
"""Validate SPDX 2.3 JSON documents with PyPI spdx-tools (the SPDX project's
Python library, pinned in tests/tools/requirements.txt).

usage: validate_spdx.py FILE...

Each FILE is parsed by spdx-tools' JSON parser (which refuses what does not
map onto the SPDX model) and checked by ``validate_full_spdx_document``
(the library's validation: SPDX ids resolve, relationships name existing
elements, every file has a SHA1 checksum, licence expressions are SPDX,
URIs and actors are well formed, ...) as SPDX-2.3.

Exit status: 0 when every FILE is valid, 1 when any is not (the messages go
to stderr), 2 on usage errors or when the library is missing.
"""
from __future__ import annotations

import sys

try:
    from spdx_tools.spdx.parser.error import SPDXParsingError
    from spdx_tools.spdx.parser.json import json_parser
    from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document
except ImportError as err:  # pragma: no cover - environment problem
    print(f"validate_spdx.py: cannot import spdx-tools ({err}); "
          "run tests/run-all.sh to create .venv", file=sys.stderr)
    sys.exit(2)

MAX_MESSAGES = 50


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    bad = False
    for path in argv:
        try:
            doc = json_parser.parse_from_file(path)
        except SPDXParsingError as e:
            bad = True
            msgs = e.get_messages()
            print(f"{path}: not parsed by spdx-tools ({len(msgs)} messages)", file=sys.stderr)
            for m in msgs[:MAX_MESSAGES]:
                print(f"  {m}", file=sys.stderr)
            continue
        except Exception as e:  # malformed JSON, unreadable file
            bad = True
            print(f"{path}: cannot parse: {e}", file=sys.stderr)
            continue
        messages = validate_full_spdx_document(doc, "SPDX-2.3")
        if messages:
            bad = True
            print(f"{path}: {len(messages)} validation messages", file=sys.stderr)
            for m in messages[:MAX_MESSAGES]:
                print(f"  {m.validation_message} ({m.context.spdx_id})", file=sys.stderr)
        else:
            print(f"{path}: valid SPDX-2.3 ({len(doc.packages)} packages, "
                  f"{len(doc.files)} files, {len(doc.relationships)} relationships)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
