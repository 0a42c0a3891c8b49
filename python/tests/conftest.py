"""Fixtures: sandbox processes (the Rust simulator binary) and their control API."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest

import sendcloud_status as sc

ROOT = Path(__file__).resolve().parents[2]
TARGET_DIR = Path(os.environ.get("CARGO_TARGET_DIR") or ROOT / "target")
SANDBOX_BIN = os.environ.get("SENDCLOUD_SANDBOX_BIN") or str(TARGET_DIR / "debug" / "sendcloud-status-sandbox")
USER = "sandbox_user"
KEY = "sandbox-demo-key"
ENV_VARS = ("SENDCLOUD_API_USER", "SENDCLOUD_API_KEY", "SENDCLOUD_REGION", "SENDCLOUD_BASE_URL")

#: Where the sandboxes' clocks start (server time, UTC+8), so that no test depends on the time
#: of day it runs at: on the real clock, "today" holds few rows between 00:00 and 01:00 UTC+8,
#: and midnight can pass between the client's plan and the sandbox's answer. Exports of
#: `days` windows pass ``today=TODAY`` (or ``server_now``) to plan on the sandbox's calendar.
NOW = "2024-05-20 12:00:00"
TODAY = dt.date(2024, 5, 20)


class Sandbox:
    """One `sendcloud-status-sandbox --port 0 …` process, its clock started at :data:`NOW`
    unless the arguments set it (``--now``, ``--today``) or ``real_clock`` is true."""

    def __init__(self, *args: str, real_clock: bool = False) -> None:
        if not Path(SANDBOX_BIN).exists():
            pytest.fail(f"sandbox binary not found at {SANDBOX_BIN}: run `cargo build -p sendcloud-status-sandbox`")
        clock = [] if real_clock or "--now" in args or "--today" in args else ["--now", NOW]
        self.proc = subprocess.Popen(
            [SANDBOX_BIN, "--port", "0", *clock, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.startswith("listening on "):
            self.proc.kill()
            _, err = self.proc.communicate(timeout=5)
            pytest.fail(f"sandbox did not start: {line!r} {err!r}")
        self.base_url = line.split()[-1]  # http://127.0.0.1:PORT/api/
        self.root = self.base_url[: -len("api/")]

    def _call(self, method: str, path: str, body: Optional[bytes] = None) -> Any:
        req = urllib.request.Request(self.root + "_sandbox/" + path, data=body, method=method)
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read())

    def info(self) -> Dict[str, Any]:
        return self._call("GET", "info")  # type: ignore[no-any-return]

    def truth(self, **params: Any) -> List[str]:
        """Ground truth for API (camelCase) filter parameters: email ids in server order."""
        query = urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})
        return self._call("GET", "truth?" + query)["email_ids"]  # type: ignore[no-any-return]

    def requests(self) -> List[Dict[str, Any]]:
        return self._call("GET", "requests")  # type: ignore[no-any-return]

    def clear(self) -> None:
        self._call("POST", "clear", b"")

    def faults(self, **faults: Any) -> None:
        self._call("POST", "faults", json.dumps(faults).encode())

    def live(self, **settings: Any) -> str:
        """Sets the live account (``POST /_sandbox/live``: ``arrivals_per_second``,
        ``settle_per_second``, ``day_advance_after_requests``, ``order``, ``cache``…; unset
        means off), counting from now; drops cached snapshots. Returns the server time."""
        return str(self._call("POST", "live", json.dumps(settings).encode())["now"])

    def changes(self) -> List[Dict[str, Any]]:
        """The live account's change log: ``{seq, email_id, kind, at, after_request, …}``."""
        return self._call("GET", "changes")  # type: ignore[no-any-return]

    def now(self) -> str:
        """The server clock, ``yyyy-MM-dd HH:mm:ss``."""
        return str(self.info()["now"])

    def client(self, **kwargs: Any) -> sc.Client:
        kwargs.setdefault("rate_limit_per_minute", None)
        return sc.Client(USER, KEY, base_url=self.base_url, **kwargs)

    def async_client(self, **kwargs: Any) -> sc.AsyncClient:
        kwargs.setdefault("rate_limit_per_minute", None)
        return sc.AsyncClient(USER, KEY, base_url=self.base_url, **kwargs)

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=10)
        for f in (self.proc.stdout, self.proc.stderr):
            if f is not None:
                f.close()


@pytest.fixture(autouse=True)
def _no_sendcloud_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests pass settings explicitly; the developer's SENDCLOUD_* must not leak in."""
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Sandbox]:
    """The shared sandbox: 4000 records over 30 days, no server-side rate limit, no faults."""
    sb = Sandbox("--rate-limit", "0", "--records", "4000")
    yield sb
    sb.close()


@pytest.fixture(scope="session")
def today(sandbox: Sandbox) -> str:
    return str(sandbox.info()["today"])


@pytest.fixture(scope="session")
def client(sandbox: Sandbox) -> sc.Client:
    return sandbox.client()


@pytest.fixture(scope="module")
def faulty() -> Iterator[Sandbox]:
    """A sandbox whose faults each test sets (and resets)."""
    sb = Sandbox("--rate-limit", "0", "--records", "3000")
    yield sb
    sb.close()


@pytest.fixture(scope="module")
def slow() -> Iterator[Sandbox]:
    """A sandbox adding 800 ms to every answer."""
    sb = Sandbox("--rate-limit", "0", "--records", "3000", "--latency-ms", "800")
    yield sb
    sb.close()
