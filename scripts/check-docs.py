#!/usr/bin/env python3
"""Checks the repository's Markdown links and protocol citations.

- Every relative link (and its `#anchor`) in the Markdown files below resolves.
- Every "protocol.md §N" citation in code, docs and tests names a section of
  docs/protocol.md (its sections are numbered headings, `## N. Title`).
- No file cites a path outside the repository (`../shared/…`, `/work/…`).

Usage: scripts/check-docs.py        (from anywhere; exits 1 on a broken link)
"""

from __future__ import annotations

import os
import re
import sys
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MARKDOWN = ["README.md", "CHANGELOG.md", "docs/protocol.md", "docs/architecture.md", "tests/vectors/README.md",
            "python/README.md", "node/README.md"]
SOURCES = (".rs", ".md", ".py", ".pyi", ".js", ".mjs", ".ts", ".sh", ".toml")
SKIP_DIRS = {"target", "node_modules", ".git", ".venv", "dist"}
FENCE = re.compile(r"```.*?```", re.S)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, letters, digits, `-`, `_`; spaces become `-`."""
    kept = (c for c in heading.strip().lower()
            if c in "-_ " or unicodedata.category(c)[0] in "LN")
    return "".join(kept).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    return {slug(m.group(1)) for m in re.finditer(r"^#{1,6}\s+(.*)$", text, re.M)}


def source_files() -> list[Path]:
    found = []
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS]
        found += [Path(folder) / f for f in files if f.endswith(SOURCES)]
    return found


def main() -> int:
    problems: list[str] = []
    checked = 0
    for name in MARKDOWN:
        path = ROOT / name
        if not path.exists():
            continue
        for m in re.finditer(r"\]\(([^)\s]+)\)", FENCE.sub("", path.read_text(encoding="utf-8"))):
            link = m.group(1)
            if re.match(r"[a-z]+:", link):
                continue
            checked += 1
            target, _, fragment = link.partition("#")
            dest = (path.parent / target).resolve() if target else path
            if not dest.exists():
                problems.append(f"{name}: {link}: no such file")
            elif fragment and dest.suffix == ".md" and fragment not in anchors(dest):
                problems.append(f"{name}: {link}: no such heading")

    protocol = (ROOT / "docs/protocol.md").read_text(encoding="utf-8")
    sections = {int(n) for n in re.findall(r"^## (\d+)\. ", protocol, re.M)}
    for path in source_files():
        if path.name == "check-docs.py":
            continue
        for i, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            where = f"{path.relative_to(ROOT)}:{i}"
            for m in re.finditer(r"protocol\.md`?,? §(\d+)", line):
                checked += 1
                if int(m.group(1)) not in sections:
                    problems.append(f"{where}: cites protocol.md §{m.group(1)}, which does not exist")
            if re.search(r"shared/reference|\bAPI\.md\b|\bWEBHOOK\.md\b", line):
                problems.append(f"{where}: cites a file outside the repository")

    for p in problems:
        print(p, file=sys.stderr)
    print(f"{checked} links and citations checked, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
