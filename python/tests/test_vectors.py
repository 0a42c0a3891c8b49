"""The language-neutral conformance vectors of tests/vectors/, through the public API."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Set, Tuple

import pytest

import sendcloud_status as sc

VECTORS = Path(__file__).resolve().parents[2] / "tests" / "vectors"


def cases(suite: str) -> List[Any]:
    found = []
    for path in sorted(VECTORS.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("suite") == suite:
            found += [pytest.param(case, id=f"{path.name}::{case['name']}") for case in data["cases"]]
    return found


def check_error(err: sc.SendCloudError, expected: Dict[str, Any]) -> None:
    assert err.kind == expected["kind"], err
    if "field" in expected:
        assert err.field == expected["field"], err
    if "reason" in expected:
        assert err.reason == expected["reason"], err
    if "api_code" in expected:
        assert err.code == expected["api_code"], err
    if "http_status" in expected:
        assert err.http_status == expected["http_status"], err


def check_keys(case: Dict[str, Any], allowed: Set[str]) -> None:
    unknown = set(case) - allowed
    assert not unknown, f"runner is older than the vectors: unknown keys {unknown}"


@pytest.mark.parametrize("case", cases("query"))
def test_query_vector(case: Dict[str, Any]) -> None:
    check_keys(case, {"name", "note", "query", "endpoint", "method", "expect"})
    endpoint = case.get("endpoint", {})
    method = case.get("method", "POST")
    expect = case["expect"]
    if "error" in expect:
        with pytest.raises(sc.SendCloudError) as e:
            sc.encode_query(**endpoint, **case["query"])
        check_error(e.value, expect["error"])
        with pytest.raises(sc.SendCloudError) as e:
            sc.encode_request("u", "k", method=method, **endpoint, **case["query"])
        check_error(e.value, expect["error"])
        return
    params = sc.encode_query(**endpoint, **case["query"])
    assert [list(p) for p in params] == expect["params"]
    req = sc.encode_request("u", "k", method=method, **endpoint, **case["query"])
    assert req.method == method
    form = req.url.split("?", 1)[1] if method == "GET" else req.body.decode()
    decoded = urllib.parse.parse_qsl(form, keep_blank_values=True)
    assert decoded[:2] == [("apiUser", "u"), ("apiKey", "k")]
    assert [list(p) for p in decoded[2:]] == expect["params"]
    if "body" in expect:
        assert req.body.decode() == expect["body"]
    if "url" in expect:
        assert req.url == expect["url"]
    if method == "POST":
        assert ("Content-Type", "application/x-www-form-urlencoded") in req.headers


@pytest.mark.parametrize("case", cases("endpoint"))
def test_endpoint_vector(case: Dict[str, Any]) -> None:
    check_keys(case, {"name", "note", "endpoint", "expect"})
    expect = case["expect"]
    if "error" in expect:
        with pytest.raises(sc.SendCloudError) as e:
            sc.Client("u", "k", **case["endpoint"])
        check_error(e.value, expect["error"])
        return
    c = sc.Client("u", "k", **case["endpoint"])
    assert (c.base_url, c.endpoint_url, c.max_window_days, c.region) == (
        expect["base_url"],
        expect["url"],
        expect["max_window_days"],
        expect["region"],
    )


@pytest.mark.parametrize("case", cases("decode"))
def test_decode_vector(case: Dict[str, Any]) -> None:
    check_keys(case, {"name", "note", "http_status", "body", "body_file", "body_hex", "utc_offset", "expect"})
    if "body" in case:
        body = case["body"].encode("utf-8")
    elif "body_file" in case:
        body = (VECTORS / case["body_file"]).read_bytes()
    else:
        body = bytes.fromhex(case["body_hex"])
    expect = case["expect"]
    offset = case.get("utc_offset", "+08:00")
    if "error" in expect:
        with pytest.raises(sc.SendCloudError) as e:
            sc.decode_page(case["http_status"], body, offset)
        check_error(e.value, expect["error"])
        return
    page = sc.decode_page(case["http_status"], body, offset)
    assert page.total == expect["total"]
    if "list_size" in expect:
        assert page.list_size == expect["list_size"]
    assert [r.to_dict() for r in page.records] == expect["records"]
    for r in page.records:  # the typed view agrees with the canonical one
        assert r.category.value == r.to_dict()["category"]
        if r.request_time is not None:
            assert r.request_time.utcoffset() is not None
            assert r.request_time_text is not None
            assert r.request_time_text.startswith(r.request_time.strftime("%Y-%m-%dT%H:%M:%S"))


WEBHOOK_KEYS = {"name", "note", "key", "content_type", "body", "now_ms", "tolerance_ms", "seen_tokens", "expect"}
WEBHOOK_EVENT_KEYS = {
    "kind",
    "event",
    "category",
    "email_id",
    "recipient",
    "api_user",
    "label_id",
    "label_name",
    "timestamp",
    "time_ms",
    "token",
    "sub_status",
    "message",
    "extra",
}
WEBHOOK_ERRORS = {
    "malformed": sc.WebhookMalformedError,
    "bad_signature": sc.WebhookSignatureError,
    "stale": sc.WebhookStaleError,
}


@pytest.mark.parametrize("case", cases("webhook"))
def test_webhook_vector(case: Dict[str, Any]) -> None:
    check_keys(case, WEBHOOK_KEYS)
    now = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(milliseconds=case["now_ms"])
    kwargs: Dict[str, Any] = {"content_type": case["content_type"], "now": now, "seen": set(case.get("seen_tokens", []))}
    if "tolerance_ms" in case:
        kwargs["tolerance"] = dt.timedelta(milliseconds=case["tolerance_ms"])
    expect = case["expect"]
    check_keys(expect, {"verdict", "event", "error"})
    if "error" in expect:
        check_keys(expect["error"], {"kind", "http_status"})
        with pytest.raises(sc.WebhookError) as e:
            sc.verify_webhook(case["body"].encode("utf-8"), case["key"], **kwargs)
        assert type(e.value) is WEBHOOK_ERRORS[expect["error"]["kind"]], e.value
        check_error(e.value, expect["error"])
        assert case["key"] not in repr(e.value) and case["key"] not in str(e.value)
        return
    # bytes and str bodies agree
    event = sc.verify_webhook(case["body"].encode("utf-8"), case["key"], **kwargs)
    assert sc.verify_webhook(case["body"], case["key"], **kwargs) == event
    assert event.repeated == {"new": False, "repeated": True}[expect["verdict"]]
    actual = {
        "kind": event.kind,
        "event": event.event,
        "category": None if event.category is None else event.category.value,
        "email_id": event.email_id,
        "recipient": event.recipient,
        "api_user": event.api_user,
        "label_id": event.label_id,
        "label_name": event.label_name,
        "timestamp": event.timestamp,
        "time_ms": (event.time - dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)) // dt.timedelta(milliseconds=1),
        "token": event.token,
        "sub_status": None if event.sub_status is None else int(event.sub_status),
        "message": event.message,
        "extra": dict(event.extra),
    }
    check_keys(expect["event"], WEBHOOK_EVENT_KEYS)
    for key, want in expect["event"].items():
        assert actual[key] == want, key
    assert case["key"] not in repr(event)


Row = Dict[str, Any]

SERVER_KEYS = {"rows", "omit_total", "total_bias", "cache", "advance_day_before_request", "changes"}
ROW_KEYS = {"email_id", "date", "modified"}
CHANGE_KEYS = {"before_request", "remove", "append", "prepend"}
STATS_KEYS = {"passes", "units_reread", "total_drift", "short_pages", "empty_pages", "duplicates", "unstable_units"}
EXPECT_KEYS = {"email_ids", "error_kind", "error_field", "requests", "sent", "stats"}


def rows_of(rows: List[Any]) -> List[Row]:
    for r in rows:
        check_keys(r, ROW_KEYS)
        dt.date.fromisoformat(r["date"])  # a runner error, not a server answer, if malformed
    return [dict(r) for r in rows]


class FakeServer:
    """The fake server of tests/vectors/README.md (`export.json`), over loopback HTTP: live
    changes keyed by request index, the day advance, both cache models, faults.

    Each :meth:`configure` starts a new generation with its own base URL path: a request of
    an earlier case still in flight (a parallel export stopped by ``max_records``) is answered
    410 and neither counted nor logged."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.generation = 0
        self.configure({"rows": []}, "2024-01-01", 100, {}, None)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode() if self.command == "POST" else self.path.partition("?")[2]
                path = self.path.partition("?")[0]
                status, body = fake.answer(path, urllib.parse.parse_qsl(raw, keep_blank_values=True))
                if status == 0:  # reset / timeout: no answer at all
                    self.close_connection = True
                    return
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _handle

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.root = f"http://127.0.0.1:{self.server.server_address[1]}"

    @property
    def base_url(self) -> str:
        """The base URL of the current case."""
        return f"{self.root}/g{self.generation}/api/"

    def configure(
        self, server: Dict[str, Any], today: str, page_size: int, faults: Dict[int, str], timeout: Optional[float]
    ) -> None:
        check_keys(server, SERVER_KEYS)
        with self.lock:
            self.generation += 1
        self.rows = rows_of(server["rows"])
        self.omit_total = bool(server.get("omit_total", False))
        self.total_bias = int(server.get("total_bias", 0))
        cache = server.get("cache", "snapshot")
        assert cache in ("snapshot", "per_request"), f"unknown cache model {cache!r}"
        self.per_request = cache == "per_request"
        self.advance_day_at: Optional[int] = server.get("advance_day_before_request")
        # request index → [("remove", id) | ("append", row) | ("prepend", [rows])], in order
        self.changes: Dict[int, List[Tuple[str, Any]]] = {}
        for change in server.get("changes", []):
            check_keys(change, CHANGE_KEYS)
            ops = self.changes.setdefault(int(change["before_request"]), [])
            for key, value in change.items():
                if key == "remove":
                    ops += [("remove", i) for i in value]
                elif key == "append":
                    ops += [("append", r) for r in rows_of(value)]
                elif key == "prepend":
                    ops.append(("prepend", rows_of(value)))
        self.snapshots: Dict[Tuple[dt.date, dt.date, Optional[str]], List[Row]] = {}
        self.today = dt.date.fromisoformat(today)
        self.page_size = page_size
        self.faults = faults
        self.timeout = timeout or 1.0
        self.received = 0
        self.log: List[str] = []
        self.violations: List[str] = []

    def apply_changes(self, index: int) -> None:
        """Before request `index`: the day advance, then the changes listed for it."""
        if self.advance_day_at == index:
            self.today += dt.timedelta(days=1)
        for kind, value in self.changes.get(index, []):
            if kind == "remove":
                self.rows = [r for r in self.rows if r["email_id"] != value]
            elif kind == "append":
                self.rows.append(value)
            else:  # prepend: the entry's rows, in the order listed, as a block at the start
                self.rows[0:0] = value

    def matching(self, lo: dt.date, hi: dt.date, ids: Optional[str]) -> List[Row]:
        def compute() -> List[Row]:
            wanted = None if ids is None else set(ids.split(";"))
            return [
                r
                for r in self.rows
                if lo <= dt.date.fromisoformat(r["date"]) <= hi and (wanted is None or r["email_id"] in wanted)
            ]

        if self.per_request:
            return compute()
        key = (lo, hi, ids)
        if key not in self.snapshots:
            self.snapshots[key] = compute()
        return self.snapshots[key]

    def answer(self, path: str, params: List[Tuple[str, str]]) -> Tuple[int, bytes]:
        with self.lock:
            if path != f"/g{self.generation}/api/data/emailStatus":
                return 410, b"a request of another case"
            index = self.received
            self.received += 1
            self.apply_changes(index)
            try:
                lo, hi, ids, start, limit, line = self.parse(params)
            except ValueError as e:
                self.log.append(f"invalid: {e}")
                self.violations.append(f"request {index}: {e}")
                return 400, b"bad request"
            self.log.append(line)
            fault = self.faults.get(index)
            if fault in (None, "truncated"):
                matching = self.matching(lo, hi, ids)
                page = matching[start : start + limit]
                total = len(matching) + self.total_bias

        def error(code: int, key: str, message: str) -> Tuple[int, bytes]:
            return 200, json.dumps({"result": False, key: code, "message": message, "info": {}}).encode()

        if fault == "rate_limited":
            return error(50000, "statuscode", "interface frequency limited")
        if fault == "server_501":
            return error(501, "statusCode", "server exception")
        if fault == "auth":
            return error(40005, "statusCode", "authentication failed")
        if fault == "quota":
            return error(40913, "statusCode", "request quota exceeded")
        if fault == "http_429":
            return 429, b"Too Many Requests"
        if fault == "http_502":
            return 502, b"<html><head><title>502 Bad Gateway</title></head><body>502 Bad Gateway</body></html>"
        if fault == "reset":
            return 0, b""
        if fault == "timeout":
            time.sleep(self.timeout + 0.3)
            return 0, b""
        assert fault in (None, "truncated"), fault
        rows = []
        for r in page:
            row = {"emailId": r["email_id"], "status": "送达", "requestTime": f"{r['date']} 10:00:00"}
            if "modified" in r:
                row["modifiedTime"] = r["modified"]
            rows.append(row)
        info: Dict[str, Any] = {"voListSize": len(rows), "voList": rows}
        if not self.omit_total:
            info["total"] = str(total)
        body = json.dumps({"result": True, "statusCode": 200, "message": "请求成功", "info": info}).encode()
        if fault == "truncated":
            body = body[: len(body) // 2]
        return 200, body

    def parse(self, params: List[Tuple[str, str]]) -> Tuple[dt.date, dt.date, Optional[str], int, int, str]:
        names = [n for n, _ in params]
        for name, value in params:
            if value == "":
                raise ValueError(f"empty parameter {name}")
            if names.count(name) > 1:
                raise ValueError(f"repeated parameter {name}")
        p = dict(params)
        if "apiUser" not in p or "apiKey" not in p:
            raise ValueError("missing credentials")
        if "days" in p:
            if "startDate" in p or "endDate" in p:
                raise ValueError("days together with startDate/endDate")
            n = int(p["days"])
            lo, hi, window = self.today - dt.timedelta(days=n - 1), self.today, f"days={n}"
        else:
            lo, hi = dt.date.fromisoformat(p["startDate"]), dt.date.fromisoformat(p["endDate"])
            if lo > hi:
                raise ValueError("startDate after endDate")
            window = f"{lo}..{hi}"
        start, limit = int(p["start"]), int(p["limit"])
        if not 1 <= limit <= 100:
            raise ValueError(f"limit {limit} out of 1..=100")
        ids = p.get("emailIds")
        line = f"{window} start={start}"
        if limit != self.page_size:
            line += f" limit={limit}"
        if ids is not None:
            line += f" ids={len(ids.split(';'))}"
        return lo, hi, ids, start, limit, line

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def fake_server() -> Iterator[FakeServer]:
    server = FakeServer()
    yield server
    server.close()


EXPORT_KEYS = {
    "name",
    "note",
    "query",
    "page_size",
    "today",
    "started_at",
    "resume",
    "options",
    "server",
    "faults",
    "expect",
}


def check_stats(stats: sc.ExportStats, expected: Dict[str, Any]) -> None:
    check_keys(expected, STATS_KEYS)
    got = {k: len(stats["unstable_units"]) if k == "unstable_units" else stats[k] for k in expected}  # type: ignore[literal-required]
    assert got == expected, f"stats {stats}"


@pytest.mark.parametrize("case", cases("export"))
def test_export_vector(case: Dict[str, Any], fake_server: FakeServer) -> None:
    check_keys(case, EXPORT_KEYS)
    expect = case["expect"]
    check_keys(expect, EXPECT_KEYS)
    opts = dict(case.get("options", {}))
    retry = dict(opts.pop("retry", {}))
    timeout_ms = opts.pop("request_timeout_ms", None)
    faults = {int(f["request_index"]): str(f["kind"]) for f in case["faults"]}
    fake_server.configure(case["server"], case["today"], case["page_size"], faults, timeout_ms and timeout_ms / 1000)

    def ms(key: str) -> Optional[float]:
        return None if key not in retry else float(retry.pop(key)) / 1000

    settings: Dict[str, Any] = dict(
        base_url=fake_server.base_url,
        max_window_days=opts.pop("max_window_days", 3),
        email_id_chunk=opts.pop("email_id_chunk", 20),
        parallel=opts.pop("parallelism", 1),
        method=opts.pop("method", "POST"),
        rate_limit_per_minute=opts.pop("rate_limit_per_minute", None),
        retry_base_delay=ms("base_delay_ms"),
        retry_rate_limit_delay=ms("rate_limit_base_delay_ms"),
        retry_max_delay=ms("max_delay_ms"),
        retry_deadline=ms("deadline_ms"),
        jitter_seed=1,
    )
    if "max_attempts" in retry:
        settings["max_retries"] = retry.pop("max_attempts") - 1
    if timeout_ms is not None:
        settings["timeout"] = timeout_ms / 1000
    max_records = opts.pop("max_records", None)
    assert not opts and not retry, f"unknown options {opts} {retry}"

    # The plan: `started_at` is the server time the export starts at (its date is `today`);
    # without it, only the day.
    plan: Dict[str, Any] = {"today": case["today"]}
    if "started_at" in case:
        assert case["started_at"].startswith(case["today"] + " "), "started_at falls on another day than today"
        plan = {"server_now": case["started_at"]}
    client = sc.Client("u", "k", **settings)
    try:
        records = client.records(
            page_size=case["page_size"], max_records=max_records, cursor=case.get("resume"), **plan, **case["query"]
        )
    except sc.SendCloudError as refused:
        # Refused before anything was sent (a cursor from another plan, a version 1 cursor).
        assert "error_kind" in expect, refused
        assert refused.kind == expect["error_kind"], refused
        if "error_field" in expect:
            assert refused.field == expect["error_field"], refused
        assert expect["email_ids"] == [] and fake_server.received == 0
        return
    got: List[Optional[str]] = []
    error: Optional[sc.SendCloudError] = None
    try:
        for r in records:
            got.append(r.email_id)
    except sc.SendCloudError as e:
        error = e

    assert not fake_server.violations
    if "error_kind" in expect:
        assert error is not None and error.kind == expect["error_kind"], error
        if "error_field" in expect:
            assert error.field == expect["error_field"], error
    else:
        assert error is None, error
    assert got == expect["email_ids"]
    if "requests" in expect:
        assert fake_server.received == expect["requests"]
        assert records.stats["requests"] == expect["requests"]
    if "sent" in expect:
        assert fake_server.log == expect["sent"]
    if "stats" in expect:
        check_stats(records.stats, expect["stats"])


def test_a_window_still_moving_after_its_rereads_is_listed_in_stats(fake_server: FakeServer) -> None:
    """Beyond the vectors: a result that shrinks from the front faster than any re-read's
    overlap (6 rows before every request) stays unstable after the last re-read, and
    ``stats["unstable_units"]`` names its window, as dates, and its chunk."""
    steady = [{"email_id": f"s{i}$r@example.com", "date": "2024-05-19"} for i in range(5)]
    moving = [{"email_id": f"m{i}$r@example.com", "date": "2024-05-20"} for i in range(2000)]
    changes = [
        {"before_request": k, "remove": [r["email_id"] for r in moving[6 * (k - 1) : 6 * k]]} for k in range(1, 334)
    ]
    fake_server.configure({"rows": steady + moving, "cache": "per_request", "changes": changes}, "2024-05-20", 4, {}, None)
    client = sc.Client(
        "u", "k", base_url=fake_server.base_url, max_window_days=1, rate_limit_per_minute=None, parallel=1
    )
    # One request at a time: the changes are keyed by request index.
    records = client.records(days=2, page_size=4, today="2024-05-20")
    got = [r.email_id for r in records]
    assert got[:5] == [r["email_id"] for r in steady]
    stats = records.stats
    assert stats["unstable_units"] == [{"start": dt.date(2024, 5, 20), "end": dt.date(2024, 5, 20), "chunk": 0}]
    assert (stats["passes"], stats["units_reread"]) == (1 + 4, 1)  # the steady window, then 1 + 3 re-reads
    assert stats["total_drift"] > 0 and stats["empty_pages"] + stats["short_pages"] > 0
