#!/usr/bin/env python3
"""Runs the README's code blocks that are marked runnable, as written, against a sandbox.

A block is runnable when the line before its fence is ``<!-- readme-test -->``. Each runs
in a fresh temporary directory with the sandbox's credentials in the environment
(``SENDCLOUD_API_USER``, ``SENDCLOUD_API_KEY``, ``SENDCLOUD_BASE_URL``), the way a reader
with an account runs it with theirs:

- ``python``: with the interpreter running this script (the test command runs it from the
  project's .venv, where the package is installed);
- ``js``: as CommonJS (``.cjs``) when it calls ``require(``, else as an ES module
  (``.mjs``), with ``node_modules/sendcloud-status`` pointing at ``node/``;
- ``sh``: with ``bash -euo pipefail``, the debug build of the ``sendcloud-status`` command
  first on ``PATH``.

The Rust blocks are run by ``cargo test -p sendcloud-status-readme-tests``.
A block fails the run when it exits non-zero or writes nothing on stdout.

Usage: scripts/test-readme.py [README.md]
Env:   CARGO_TARGET_DIR (default target/), SENDCLOUD_SANDBOX_BIN, SENDCLOUD_CLI_BIN
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import List, Tuple

ROOT = Path(__file__).resolve().parents[1]
TARGET = Path(os.environ.get("CARGO_TARGET_DIR") or ROOT / "target")
SANDBOX_BIN = os.environ.get("SENDCLOUD_SANDBOX_BIN") or str(TARGET / "debug" / "sendcloud-status-sandbox")
CLI_BIN = Path(os.environ.get("SENDCLOUD_CLI_BIN") or TARGET / "debug" / "sendcloud-status")
MARKER = "<!-- readme-test -->"
LANGUAGES = {"python", "js", "sh"}
TIMEOUT_S = 120


def blocks(text: str) -> List[Tuple[int, str, str]]:
    """(line number of the fence, language, code) of every marked block."""
    lines = text.splitlines()
    found = []
    for i, line in enumerate(lines):
        if line.strip() != MARKER or i + 1 >= len(lines):
            continue
        fence = re.match(r"^\s*```(\w+)", lines[i + 1])
        if not fence:
            sys.exit(f"README line {i + 1}: {MARKER} is not followed by a fenced block")
        end = next(j for j in range(i + 2, len(lines)) if lines[j].lstrip().startswith("```"))
        found.append((i + 2, fence.group(1), "\n".join(lines[i + 2 : end]) + "\n"))
    return found


def start_sandbox() -> Tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [SANDBOX_BIN, "--port", "0", "--records", "5000"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("listening on "):
        proc.kill()
        sys.exit(f"the sandbox did not start: {line!r}")
    return proc, line.split()[-1]


def run(line: int, language: str, code: str, env: dict[str, str]) -> str | None:
    """Runs one block; returns a failure message, or None."""
    with tempfile.TemporaryDirectory(prefix="readme-") as tmp:
        work = Path(tmp)
        if language == "python":
            (work / "snippet.py").write_text(code)
            cmd = [sys.executable, "snippet.py"]
        elif language == "js":
            modules = work / "node_modules"
            modules.mkdir()
            (modules / "sendcloud-status").symlink_to(ROOT / "node", target_is_directory=True)
            name = "snippet.cjs" if "require(" in code else "snippet.mjs"
            (work / name).write_text(code)
            cmd = ["node", name]
        else:
            (work / "snippet.sh").write_text(code)
            cmd = ["bash", "-euo", "pipefail", "snippet.sh"]
        try:
            done = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True, timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            return f"README line {line} ({language}): still running after {TIMEOUT_S} s"
    if done.returncode != 0:
        return f"README line {line} ({language}): exit {done.returncode}\n{done.stdout[-2000:]}{done.stderr[-2000:]}"
    if not done.stdout.strip():
        return f"README line {line} ({language}): printed nothing\n{done.stderr[-2000:]}"
    print(f"  ok  README line {line} ({language}): {len(done.stdout.splitlines())} lines of output")
    return None


def main() -> int:
    readme = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "README.md"
    found = blocks(readme.read_text())
    unknown = sorted({lang for _, lang, _ in found} - LANGUAGES - {"rust"})
    if unknown:
        sys.exit(f"marked blocks in languages this script cannot run: {unknown}")
    runnable = [b for b in found if b[1] in LANGUAGES]
    if not runnable:
        sys.exit(f"{readme} has no block marked {MARKER}")
    if not CLI_BIN.exists():
        sys.exit(f"{CLI_BIN} is missing: build it first (cargo build -p sendcloud-status-cli)")
    proc, base_url = start_sandbox()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SENDCLOUD_")}
    env.update(
        SENDCLOUD_API_USER="sandbox_user",
        SENDCLOUD_API_KEY="sandbox-demo-key",
        SENDCLOUD_BASE_URL=base_url,
        PATH=f"{CLI_BIN.parent}{os.pathsep}{env.get('PATH', '')}",
    )
    try:
        failures = [f for f in (run(line, lang, code, env) for line, lang, code in runnable) if f]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    for f in failures:
        print(f"FAIL {f}", file=sys.stderr)
    print(f"{len(runnable) - len(failures)} of {len(runnable)} README blocks ran as written")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
