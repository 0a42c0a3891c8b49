"""Client settings, environment fallback, repr, methods on the wire, enums."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any, Dict, cast

import pytest

import sendcloud_status as sc
from conftest import KEY, Sandbox, TODAY, USER
from sendcloud_status import _native

SECRET = "s3cret-KEY-do-not-print"


def test_repr_never_shows_the_key(sandbox: Sandbox) -> None:
    c = sc.Client(USER, SECRET, base_url=sandbox.base_url)
    for text in (repr(c), str(c), repr(c._native), repr(sc.AsyncClient(USER, SECRET)), repr(c.records(days=1))):
        assert SECRET not in text
    assert repr(c) == f"Client(api_user='{USER}', region=None, base_url='{sandbox.base_url}', method='POST')"
    assert not hasattr(c, "api_key")
    req = sc.encode_request("u", SECRET, days=1)
    assert SECRET.encode() in req.body  # the body must carry it, as the API requires
    assert SECRET not in repr(req)


def test_defaults() -> None:
    c = sc.Client("u", "k")
    assert c.region == "aurora-sg" and c.base_url == "https://api.aurorasendcloud.com/api/"
    assert c.endpoint_url == "https://api.aurorasendcloud.com/api/data/emailStatus"
    assert (c.method, c.parallel, c.max_window_days, c.server_utc_offset) == ("POST", "auto", 3, "+08:00")
    # The defaults are the Rust client's, read from the native module.
    assert (sc.DEFAULT_PARALLEL, sc.DEFAULT_RATE_LIMIT_PER_MINUTE, sc.MAX_PARALLEL) == ("auto", 3000, 64)
    assert (_native.DEFAULT_PARALLEL, _native.DEFAULT_RATE_LIMIT_PER_MINUTE) == ("auto", 3000)
    assert sc.Client("u", "k", parallel=4).parallel == 4 and sc.Client("u", "k", parallel=cast(Any, "AUTO")).parallel == "auto"
    utc8 = dt.timezone(dt.timedelta(hours=8))
    before = dt.datetime.now(utc8).date()
    got = c.server_today()
    after = dt.datetime.now(utc8).date()
    assert got in (before, after)  # midnight (UTC+8) may pass between the reads


def test_every_default_is_read_from_the_core() -> None:
    import inspect

    d = sc.DEFAULTS
    assert d == _native.DEFAULTS and set(d) == set(sc.Defaults.__annotations__)
    # The documented values, as the CLI and the Node package have them.
    assert (d["timeout"], d["connect_timeout"], d["max_retries"], d["rate_limit_per_minute"]) == (30.0, 10.0, 7, 3000)
    assert (d["server_utc_offset"], d["page_size"], d["parallel"], d["method"]) == ("+08:00", 100, "auto", "POST")
    # The signatures default to those values rather than restating them.
    params = inspect.signature(sc.Client).parameters
    for name in ("method", "timeout", "connect_timeout", "max_retries", "rate_limit_per_minute", "server_utc_offset"):
        assert params[name].default == d[name], name
    assert inspect.signature(sc.Client.records).parameters["page_size"].default == d["page_size"]
    assert inspect.signature(sc.Client.page).parameters["limit"].default == d["page_size"]
    assert (sc.DEFAULT_MAX_RETRIES, sc.DEFAULT_RATE_LIMIT_PER_MINUTE) == (d["max_retries"], d["rate_limit_per_minute"])


def test_record_fields_come_from_the_core(client: sc.Client) -> None:
    assert sc.RECORD_FIELDS == tuple(_native.RECORD_FIELDS)
    assert sc.Record._fields[: len(sc.RECORD_FIELDS)] == sc.RECORD_FIELDS  # the named tuple starts with them
    [record] = client.page(days=1, limit=1).records
    assert not record.extra
    assert tuple(record.to_dict()) == tuple(f for f in sc.RECORD_FIELDS if f != "extra")
    with_extra = record._replace(extra={"labelId": 7})
    assert tuple(with_extra.to_dict()) == sc.RECORD_FIELDS and with_extra.to_dict()["extra"] == {"labelId": 7}


def test_reports_come_from_rust_without_json_text(client: sc.Client, monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    def no_json(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a report went through JSON text")

    monkeypatch.setattr(json, "loads", no_json)
    summary = client.summary(days=2, today=TODAY)
    assert summary["total"] == sum(c["count"] for c in summary["categories"]) > 0
    assert all(isinstance(c["share"], float) for c in summary["categories"])
    suppressions = client.suppressions(days=2, today=TODAY)
    assert suppressions and all(isinstance(s, sc.Suppression) for s in suppressions)


def test_environment_fallback(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SENDCLOUD_API_USER", USER)
    monkeypatch.setenv("SENDCLOUD_API_KEY", KEY)
    monkeypatch.setenv("SENDCLOUD_BASE_URL", sandbox.base_url)
    c = sc.Client()
    assert c.api_user == USER and c.base_url == sandbox.base_url
    assert len(c.page(days=1, limit=2)) == 2
    monkeypatch.delenv("SENDCLOUD_BASE_URL")
    monkeypatch.setenv("SENDCLOUD_REGION", "sendcloud-cn")
    c = sc.Client()
    assert c.region == "sendcloud-cn" and c.max_window_days == 30
    c = sc.Client(region="aurora-us")  # an argument wins over the environment
    assert c.region == "aurora-us"
    c = sc.Client("other_user")  # the key alone from the environment
    assert c.api_user == "other_user"


@pytest.mark.parametrize("missing, field", [({"api_key": "k"}, "api_user"), ({"api_user": "u"}, "api_key")])
def test_missing_credentials(missing: Dict[str, Any], field: str) -> None:
    with pytest.raises(sc.ValidationError) as e:
        sc.Client(**missing)
    assert e.value.field == field


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"region": "mars"}, "region"),
        ({"base_url": "http://example.com/api/"}, "base_url"),
        ({"base_url": "not a url"}, "base_url"),
        ({"method": "PUT"}, "method"),
        ({"timeout": 0}, "timeout"),
        ({"timeout": -1.0}, "timeout"),
        ({"connect_timeout": float("nan")}, "connect_timeout"),
        ({"max_retries": -1}, "max_retries"),
        ({"rate_limit_per_minute": -1}, "rate_limit_per_minute"),
        ({"rate_limit_per_minute": 2.5}, "rate_limit_per_minute"),
        ({"rate_limit_per_minute": True}, "rate_limit_per_minute"),
        ({"parallel": 0}, "parallel"),
        ({"parallel": -1}, "parallel"),
        ({"parallel": 65}, "parallel"),
        ({"parallel": "fast"}, "parallel"),
        ({"parallel": "4"}, "parallel"),
        ({"parallel": ""}, "parallel"),
        ({"parallel": True}, "parallel"),
        ({"parallel": 2.0}, "parallel"),
        ({"server_utc_offset": "8 hours"}, "server_utc_offset"),
        ({"server_utc_offset": "+25:00"}, "server_utc_offset"),
        ({"server_utc_offset": "+08:0"}, "server_utc_offset"),
        ({"server_utc_offset": 30}, "server_utc_offset"),
        ({"max_retries": 101}, "max_retries"),
        ({"email_id_chunk": 10_001}, "email_id_chunk"),
        ({"base_url": "http://127.0.0.1:1/api/", "max_window_days": 0}, "max_window_days"),
    ],
)
def test_bad_settings(kwargs: Dict[str, Any], field: str) -> None:
    with pytest.raises(sc.ValidationError) as e:
        sc.Client("u", "k", **kwargs)
    assert e.value.field == field


@pytest.mark.parametrize("off", [0, None])
def test_rate_limit_zero_or_none_turns_client_pacing_off(sandbox: Sandbox, off: Any) -> None:
    # The same one-at-a-time export (~35 requests), paced at the default 3000/min (about
    # 0.6 s), then unpaced (only the requests' own time): off must not mean the default.
    truth = sandbox.truth(days=3)

    def timed(client: sc.Client) -> float:
        t0 = time.monotonic()
        records = client.records(days=3, page_size=5, parallel=1, today=TODAY)
        got = [r.email_id for r in records]
        elapsed = time.monotonic() - t0
        assert got == truth and records.stats["requests"] > 30
        return elapsed

    paced = timed(sc.Client(USER, KEY, base_url=sandbox.base_url, rate_limit_per_minute=3000))
    unpaced = timed(sc.Client(USER, KEY, base_url=sandbox.base_url, rate_limit_per_minute=off))
    assert unpaced * 2 < paced, (unpaced, paced)


def test_custom_window_and_regions() -> None:
    c = sc.Client("u", "k", base_url="http://localhost:9/api", max_window_days=7)
    assert c.base_url == "http://localhost:9/api/" and c.max_window_days == 7 and c.region is None
    assert sc.Client("u", "k", region=" SendCloud-CN ").endpoint_url == "https://api.sendcloud.net/apiv2/data/emailStatus"


@pytest.mark.parametrize(
    "offset, seconds",
    [("+09:00", 9 * 3600), ("-05:30", -(5 * 3600 + 1800)), (dt.timedelta(hours=2), 7200), (dt.timezone.utc, 0), (3600, 3600)],
)
def test_server_utc_offset_applies_to_times(sandbox: Sandbox, offset: Any, seconds: int) -> None:
    c = sandbox.client(server_utc_offset=offset)
    base = sandbox.client().page(days=1, limit=1).records[0]
    r = c.page(days=1, limit=1).records[0]
    assert r.request_time is not None and base.request_time is not None
    assert r.request_time.utcoffset() == dt.timedelta(seconds=seconds)
    assert r.request_time.replace(tzinfo=None) == base.request_time.replace(tzinfo=None)  # same wall time


@pytest.mark.parametrize("method", ["POST", "GET", "get"])
def test_methods_on_the_wire(sandbox: Sandbox, method: str) -> None:
    c = sandbox.client(method=method)
    assert c.method == method.upper()
    sandbox.clear()
    page = c.page(days=1, limit=3, email_ids=sandbox.truth(days=1)[:2])
    assert [r.email_id for r in page] == sandbox.truth(days=1)[:2]
    (logged,) = sandbox.requests()
    assert logged["method"] == method.upper()
    assert logged["key_in_url"] == (method.upper() == "GET")
    assert logged["param_names"] == ["apiUser", "apiKey", "days", "emailIds", "start", "limit"]


def test_client_side_rate_limit_paces_requests() -> None:
    from conftest import Sandbox as SB

    sb = SB("--records", "3000")  # the sandbox enforces the documented 3000/min
    try:
        c = sc.Client(USER, KEY, base_url=sb.base_url)  # and so does the client, by default
        records = c.records(days=3, page_size=2, today=TODAY)  # ~80 requests: beyond the server's burst
        assert [r.email_id for r in records] == sb.truth(days=3)
        assert records.stats["requests"] > 60
        assert records.stats["rate_limited"] == 0
    finally:
        sb.close()


def test_enums() -> None:
    assert [s.value for s in sc.Status] == ["delivered", "invalid", "soft_bounce", "sending"]
    assert [c.value for c in sc.Category] == ["delivered", "invalid", "soft_bounce", "sending", "unknown"]
    assert str(sc.Status.SOFT_BOUNCE) == "soft_bounce" and sc.Status("invalid") is sc.Status.INVALID
    table = _native.sub_status_table()
    assert [code for code, _, _ in table] == [int(s) for s in sc.SubStatus]  # the enum names the core's table
    assert sc.SubStatus(406).description == "Invalid — address does not exist"
    assert sc.SubStatus.SOFT_OTHER.description_zh == "软退信-其他"
    assert int(sc.SubStatus.ADDRESS_NOT_EXIST) == 406 and sc.SubStatus.ADDRESS_NOT_EXIST in {406}


def test_unknown_sub_status_is_a_plain_int() -> None:
    body = '{"result":true,"statusCode":200,"info":{"voList":[{"subStatus":510},{"subStatus":406}]}}'
    a, b = sc.decode_page(200, body).records
    assert a.sub_status == 510 and type(a.sub_status) is int and a.category is sc.Category.SOFT_BOUNCE
    assert b.sub_status is sc.SubStatus.ADDRESS_NOT_EXIST and b.is_hard_bounce and b.should_suppress


def test_version() -> None:
    assert sc.__version__ == _native.__version__ and sc.__version__.count(".") == 2
