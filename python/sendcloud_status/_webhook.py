"""Event webhooks: verify a delivery the vendor POSTs (the Rust core's
``webhook::Verifier``), and read it as a typed :class:`WebhookEvent`."""

from __future__ import annotations

import datetime as _dt
import math
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Container, Mapping, Optional, Union

from . import _native
from ._models import _CATEGORIES, _SUB_STATUSES, Category, SubStatus
from .errors import ValidationError

__all__ = ["WebhookEvent", "verify_webhook", "DEFAULT_WEBHOOK_TOLERANCE"]

DEFAULT_WEBHOOK_TOLERANCE: _dt.timedelta = _dt.timedelta(seconds=_native.DEFAULT_WEBHOOK_TOLERANCE)
"""How far an event's timestamp may be from now, either way, by default (35 minutes:
the vendor's last retry comes about 31 minutes after the first attempt)."""

_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)


@dataclass(frozen=True)
class WebhookEvent:
    """One verified webhook event (immutable). Only ``timestamp`` and ``token`` are
    signed by the vendor: see the README's "Real time" section."""

    kind: str
    """One spelling per kind: ``request``, ``delivered``, ``invalid``, ``soft_bounce``,
    ``open``, ``click``, ``unsubscribe``, ``spam_report``, ``route``, or the name
    lower-cased with ``-`` folded to ``_``."""
    event: str
    """``event`` exactly as received (``deliver``, ``delivered``, …)."""
    category: Optional[Category]
    """The :class:`Category` a status event reports (request → ``SENDING``,
    delivered, invalid, soft bounce), as records have; ``None`` for other events."""
    email_id: str
    """``emailId``."""
    recipient: Optional[str]
    api_user: Optional[str]
    """``apiUser``."""
    label_id: Optional[int]
    """``labelId`` when numeric (otherwise it stays in ``extra``)."""
    label_name: Optional[str]
    timestamp: str
    """``timestamp`` exactly as received: the signed text."""
    time: _dt.datetime
    """What ``timestamp`` means (milliseconds, or seconds below 10¹¹), in UTC."""
    token: str
    """The event's random token: store it to recognise repeats (``seen``)."""
    signature: str
    """``signature`` as received (hex)."""
    sub_status: Union[SubStatus, int, None]
    """The bounce sub-status (``subStatus``, ``subStat``, ``sub_status``, ``substatus``):
    a :class:`SubStatus`, a plain ``int`` for undocumented codes, or ``None``."""
    message: Optional[str]
    """``message``: text such as the receiving server's answer."""
    extra: Mapping[str, Any]
    """Every other field (read-only): form values as strings (a repeated one as a
    list), JSON values as they were."""
    repeated: bool
    """Whether ``seen`` already held the token: a vendor retry or a replay. Answer
    HTTP 200 and store nothing."""

    @property
    def is_status(self) -> bool:
        """Whether the event reports a delivery status (``category`` is set)."""
        return self.category is not None


def _now_ms(now: Union[_dt.datetime, float, None]) -> Optional[int]:
    if now is None:
        return None
    if isinstance(now, _dt.datetime):
        if now.utcoffset() is None:
            raise ValidationError("now must be a timezone-aware datetime", field="now")
        return (now - _EPOCH) // _dt.timedelta(milliseconds=1)
    if isinstance(now, bool) or not isinstance(now, (int, float)) or not math.isfinite(now):
        raise ValidationError("now must be a datetime or Unix seconds", field="now")
    return int(round(now * 1000))


def _tolerance_ms(tolerance: Union[float, _dt.timedelta]) -> int:
    if isinstance(tolerance, _dt.timedelta):
        ms = tolerance // _dt.timedelta(milliseconds=1)
    elif isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)) or not math.isfinite(tolerance):
        raise ValidationError("tolerance must be seconds or a timedelta", field="tolerance")
    else:
        ms = int(round(tolerance * 1000))
    if ms < 0:
        raise ValidationError("tolerance must not be negative", field="tolerance")
    return ms


def verify_webhook(
    body: Union[bytes, bytearray, str],
    app_key: str,
    *,
    content_type: Optional[str] = None,
    now: Union[_dt.datetime, float, None] = None,
    tolerance: Union[float, _dt.timedelta] = DEFAULT_WEBHOOK_TOLERANCE,
    seen: Optional[Container[str]] = None,
) -> WebhookEvent:
    """Parses and checks one webhook delivery; pass the raw request body.

    Checks, in order: the body parses (JSON when its first non-blank character is
    ``{`` or ``[``, else a form; ``content_type`` is informative only: the body
    decides) → :class:`WebhookMalformedError` (HTTP 400); the signature →
    :class:`WebhookSignatureError` (403); the timestamp is within ``tolerance`` of
    ``now`` (a timezone-aware datetime or Unix seconds; default the clock) →
    :class:`WebhookStaleError` (403); the token is in ``seen`` (any container of
    tokens stored before, such as a set) → the event with ``repeated=True``, which a
    receiver acknowledges with HTTP 200 without storing it. A repeat is not an error.

    An empty ``app_key`` is a :class:`ValidationError`. The key never appears in an
    event, a message or a repr. Pure and fast: no I/O.
    """
    del content_type  # informative only: the body decides (see the docstring)
    if not isinstance(app_key, str):
        raise TypeError("app_key must be a str")
    if isinstance(body, memoryview):
        body = body.tobytes()
    t = _native.verify_webhook(body, app_key, _now_ms(now), _tolerance_ms(tolerance))
    kind, event, category, email_id, recipient, api_user, label_id, label_name = t[:8]
    timestamp, time_ms, token, signature, sub, message, extra = t[8:]
    return WebhookEvent(
        kind=kind,
        event=event,
        category=None if category is None else _CATEGORIES.get(category, Category.UNKNOWN),
        email_id=email_id,
        recipient=recipient,
        api_user=api_user,
        label_id=label_id,
        label_name=label_name,
        timestamp=timestamp,
        time=_EPOCH + _dt.timedelta(milliseconds=time_ms),
        token=token,
        signature=signature,
        sub_status=None if sub is None else _SUB_STATUSES.get(sub, sub),
        message=message,
        extra=MappingProxyType(extra),
        repeated=seen is not None and token in seen,
    )
