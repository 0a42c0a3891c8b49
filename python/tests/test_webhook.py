"""verify_webhook beyond the vectors: argument forms, typed errors, repeats, redaction."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import urllib.parse

import pytest

import sendcloud_status as sc

KEY = "SENTINEL-WEBHOOK-KEY"
TS = 1716170000000
NOW = dt.datetime(2024, 5, 20, 1, 53, 25, tzinfo=dt.timezone.utc)  # TS + 5 s


def body(event: str = "deliver", ts: int = TS, token: str = "tok-" + "x" * 46, key: str = KEY, **more: str) -> str:
    sig = hmac.new(key.encode(), f"{ts}{token}".encode(), hashlib.sha256).hexdigest()
    fields = {"event": event, "emailId": "1_2_3$a@b.com", "recipient": "a@b.com", "timestamp": str(ts)}
    fields.update(token=token, signature=sig, **more)
    return urllib.parse.urlencode(fields)


def test_a_signed_event_is_typed_and_immutable() -> None:
    ev = sc.verify_webhook(body(subStatus="503", Foo="bar"), KEY, now=NOW)
    assert isinstance(ev, sc.WebhookEvent)
    assert (ev.kind, ev.event, ev.category) == ("delivered", "deliver", sc.Category.DELIVERED)
    assert ev.is_status and not ev.repeated
    assert ev.time == dt.datetime(2024, 5, 20, 1, 53, 20, tzinfo=dt.timezone.utc)
    assert ev.sub_status is sc.SubStatus(503)
    assert dict(ev.extra) == {"Foo": "bar"}
    with pytest.raises(dataclasses.FrozenInstanceError):
        ev.token = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        ev.extra["Foo"] = "baz"  # type: ignore[index]
    assert KEY not in repr(ev)


def test_engagement_events_have_no_category() -> None:
    ev = sc.verify_webhook(body("open"), KEY, now=NOW)
    assert (ev.kind, ev.category, ev.is_status) == ("open", None, False)
    assert sc.verify_webhook(body("request"), KEY, now=NOW).category is sc.Category.SENDING


def test_seen_tokens_make_a_repeat_not_an_error() -> None:
    b = body()
    seen: set[str] = set()
    first = sc.verify_webhook(b, KEY, now=NOW, seen=seen)
    assert not first.repeated
    seen.add(first.token)
    assert sc.verify_webhook(b, KEY, now=NOW, seen=seen).repeated
    assert sc.verify_webhook(b, KEY, now=NOW, seen=frozenset([first.token])).repeated
    assert sc.verify_webhook(b, KEY, now=NOW, seen={first.token: 1}).repeated  # any container


def test_now_as_unix_seconds_and_tolerance_forms() -> None:
    b = body()
    assert sc.verify_webhook(b, KEY, now=TS / 1000 + 5).token
    assert sc.verify_webhook(b, KEY, now=TS / 1000 + 60, tolerance=60).token
    with pytest.raises(sc.WebhookStaleError):
        sc.verify_webhook(b, KEY, now=TS / 1000 + 60.001, tolerance=60)
    assert sc.verify_webhook(b, KEY, now=TS / 1000 - 60, tolerance=dt.timedelta(minutes=1)).token
    assert sc.DEFAULT_WEBHOOK_TOLERANCE == dt.timedelta(minutes=35)


def test_the_clock_is_the_default_now() -> None:
    now_ms = int(dt.datetime.now(dt.timezone.utc).timestamp() * 1000)
    assert sc.verify_webhook(body(ts=now_ms), KEY).timestamp == str(now_ms)
    with pytest.raises(sc.WebhookStaleError):
        sc.verify_webhook(body(), KEY)  # 2024: far from the clock


def test_stale_errors_carry_the_skew_and_the_tolerance() -> None:
    with pytest.raises(sc.WebhookStaleError) as e:
        sc.verify_webhook(body(), KEY, now=NOW + dt.timedelta(hours=1))
    err = e.value
    assert (err.kind, err.http_status) == ("stale", 403)
    assert err.skew == dt.timedelta(hours=1, seconds=5)
    assert err.tolerance == sc.DEFAULT_WEBHOOK_TOLERANCE
    assert isinstance(err, sc.WebhookError) and isinstance(err, sc.SendCloudError)
    assert not isinstance(err, ValueError)
    assert isinstance(err.__cause__, sc._native.NativeError)


def test_the_error_classes() -> None:
    with pytest.raises(sc.WebhookSignatureError) as sig:
        sc.verify_webhook(body(key="another-key"), KEY, now=NOW)
    assert (sig.value.kind, sig.value.http_status) == ("bad_signature", 403)
    with pytest.raises(sc.WebhookMalformedError) as bad:
        sc.verify_webhook(b"event=deliver", KEY, now=NOW)
    assert isinstance(bad.value, ValueError)
    assert (bad.value.kind, bad.value.http_status) == ("malformed", 400)
    assert "emailId" in str(bad.value)
    for e in (sig.value, bad.value):
        assert KEY not in str(e) and KEY not in repr(e) and KEY not in repr(e.__cause__)


def test_invalid_arguments() -> None:
    with pytest.raises(sc.ValidationError) as e:
        sc.verify_webhook(body(), "  ", now=NOW)
    assert e.value.field == "app_key" and isinstance(e.value, ValueError)
    with pytest.raises(sc.ValidationError) as e:
        sc.verify_webhook(body(), KEY, now=dt.datetime(2024, 5, 20))
    assert e.value.field == "now"
    with pytest.raises(sc.ValidationError) as e:
        sc.verify_webhook(body(), KEY, now=NOW, tolerance=-1)
    assert e.value.field == "tolerance"
    with pytest.raises(TypeError):
        sc.verify_webhook(123, KEY, now=NOW)  # type: ignore[arg-type]
    assert sc.verify_webhook(bytearray(body().encode()), KEY, now=NOW).kind == "delivered"
