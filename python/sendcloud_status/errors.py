"""The exceptions of :mod:`sendcloud_status`.

Every error is a :class:`SendCloudError`; which subclass is raised follows the
Rust core's ``ErrorKind``::

    SendCloudError
    ├── ValidationError      (also a ValueError)   kind "validation"
    ├── ApiError                                    kind "api" (any other API refusal)
    │   ├── AuthenticationError (alias AuthError)   kind "auth"
    │   ├── RateLimitError (alias RateLimitedError) kind "rate_limited"
    │   ├── QuotaError                              kind "quota"
    │   ├── ServerError                             kind "server"
    │   └── DecodeError                             kind "decode" (unreadable answer)
    ├── TransportError       (also a ConnectionError) kind "transport"
    ├── InternalError                               kind "internal" (a bug of this library: please report it)
    ├── ArchiveError                                kind "archive" (the local archive: SQLite, disk)
    │   ├── ArchiveBusyError                        kind "archive_busy" (another sync writes it)
    │   ├── ArchiveMissingError  (also a FileNotFoundError) kind "archive_missing"
    │   ├── NotAnArchiveError    (also a ValueError)  kind "not_an_archive"
    │   └── ArchiveVersionError                     kind "archive_version" (written by a newer version)
    └── WebhookError                                a webhook delivery refused by verify_webhook
        ├── WebhookMalformedError (also a ValueError) kind "malformed", http_status 400
        ├── WebhookSignatureError                   kind "bad_signature", http_status 403
        └── WebhookStaleError                       kind "stale", http_status 403 (skew, tolerance)

Every instance carries ``message``, ``kind``, ``code`` (the API's ``statusCode``
when the server sent one), ``http_status``, ``field`` (the argument at fault for
validation errors), ``reason`` and ``retryable``. ``reason`` is the detail below the
kind, a stable name: for a :class:`ValidationError` why the value was refused
(``"missing"``, ``"conflict"``, ``"incomplete"``, ``"out_of_range"``, ``"malformed"``,
``"unknown_name"``, ``"contradiction"``, ``"rejected_by_server"``, ``"other"``), for a
:class:`TransportError` what failed (``"dns"``, ``"refused"``, ``"connect"``,
``"timeout"``, ``"connection_reset"``, ``"body_incomplete"``, ``"tls"``, ``"other"``,
``"fatal"``); branch on these, never on the message. The class names are the Node
package's too (there ``AuthError`` and ``RateLimitedError`` are the same aliases).

Errors raised by the library have the Rust error as ``__cause__`` (a
``sendcloud_status._native.NativeError``). No message, attribute or repr ever contains
the API key (nor the webhook app key).
"""

from __future__ import annotations

import datetime as _dt
from typing import Optional

__all__ = [
    "SendCloudError",
    "ValidationError",
    "ApiError",
    "AuthenticationError",
    "AuthError",
    "RateLimitError",
    "RateLimitedError",
    "QuotaError",
    "ServerError",
    "DecodeError",
    "TransportError",
    "InternalError",
    "ArchiveError",
    "ArchiveBusyError",
    "ArchiveMissingError",
    "NotAnArchiveError",
    "ArchiveVersionError",
    "WebhookError",
    "WebhookMalformedError",
    "WebhookSignatureError",
    "WebhookStaleError",
]


class SendCloudError(Exception):
    """Base class of every error raised by ``sendcloud_status``."""

    _kind = "api"

    message: str
    kind: str
    code: Optional[int]
    http_status: Optional[int]
    field: Optional[str]
    reason: Optional[str]
    retryable: bool

    def __init__(
        self,
        message: str,
        *,
        kind: Optional[str] = None,
        code: Optional[int] = None,
        http_status: Optional[int] = None,
        field: Optional[str] = None,
        reason: Optional[str] = None,
        retryable: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind if kind is not None else self._kind
        self.code = code
        self.http_status = http_status
        self.field = field
        self.reason = reason
        self.retryable = retryable

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        extras = "".join(
            f", {name}={value!r}"
            for name, value in (
                ("code", self.code),
                ("http_status", self.http_status),
                ("field", self.field),
                ("reason", self.reason),
            )
            if value is not None
        )
        return f"{type(self).__name__}({self.message!r}{extras})"


class ValidationError(SendCloudError, ValueError):
    """A query or setting is invalid: nothing was sent (``field`` names it), or the
    server rejected a parameter (a 400xx ``code``)."""

    _kind = "validation"


class ApiError(SendCloudError):
    """The API refused the request (``code`` is its ``statusCode`` when it sent one)."""

    _kind = "api"


class AuthenticationError(ApiError):
    """Credentials were refused (40005, 40301, 6001, HTTP 401/403). An account works
    only in its own region."""

    _kind = "auth"


class RateLimitError(ApiError):
    """The server kept answering 50000 "interface frequency limited" (or HTTP 429)
    after the retries."""

    _kind = "rate_limited"


#: The Node package's name of :class:`AuthenticationError` (the same class).
AuthError = AuthenticationError
#: The Node package's name of :class:`RateLimitError` (the same class).
RateLimitedError = RateLimitError


class QuotaError(ApiError):
    """The account's request quota is exhausted (40913). Not retried."""

    _kind = "quota"


class ServerError(ApiError):
    """A server fault (501, HTTP 5xx) persisted after the retries."""

    _kind = "server"


class DecodeError(ApiError):
    """The answer could not be decoded (not JSON, or not the documented shape)."""

    _kind = "decode"


class TransportError(SendCloudError, ConnectionError):
    """The request did not complete: connection refused or reset, timeout, truncated
    body, TLS failure."""

    _kind = "transport"


class InternalError(SendCloudError):
    """A bug or a broken invariant of this library (a panic caught in Rust, a thread that
    could not start), not the input nor the server. Please report it."""

    _kind = "internal"


class ArchiveError(SendCloudError):
    """The local archive failed: SQLite or the disk (full, read-only, I/O error). The
    message names the file. Subclasses name the cases a program handles."""

    _kind = "archive"


class ArchiveBusyError(ArchiveError):
    """Another sync is writing the archive (it holds the archive's lock file, in this
    process or another): only one sync at a time. Reading is never blocked. Retryable:
    try again once the other sync has finished."""

    _kind = "archive_busy"


class ArchiveMissingError(ArchiveError, FileNotFoundError):
    """:class:`Archive` was given a path where no file exists (a sync creates it).
    ``field`` is ``"path"``."""

    _kind = "archive_missing"


class NotAnArchiveError(ArchiveError, ValueError):
    """The file is not a sendcloud-status archive (another SQLite database, another
    kind of file, or a damaged one); it was left untouched. ``field`` is ``"path"``."""

    _kind = "not_an_archive"


class ArchiveVersionError(ArchiveError):
    """The archive was written by a newer version of sendcloud-status (its schema is
    newer than this one knows); it was left untouched. ``field`` is ``"path"``."""

    _kind = "archive_version"


class WebhookError(SendCloudError):
    """A webhook delivery was refused by :func:`sendcloud_status.verify_webhook`.
    ``http_status`` is what the receiver answers: 400 for a malformed body, 403 for a
    bad signature or a stale timestamp."""

    _kind = "webhook"


class WebhookMalformedError(WebhookError, ValueError):
    """Not an event: an unreadable body, a required field (``event``, ``emailId``,
    ``timestamp``, ``token``, ``signature``) missing or empty, a timestamp that is not
    a Unix time, a signed field given twice. ``http_status`` is 400."""

    _kind = "malformed"


class WebhookSignatureError(WebhookError):
    """The signature is not ``HMAC-SHA256(app key, timestamp + token)``: the sender
    did not prove it is the vendor. ``http_status`` is 403."""

    _kind = "bad_signature"


class WebhookStaleError(WebhookError):
    """The event's timestamp is further from now than the tolerance (a replay, or a
    clock far off). ``skew`` is ``now - timestamp`` (negative: in the future),
    ``tolerance`` the tolerance in force. ``http_status`` is 403."""

    _kind = "stale"

    skew: Optional[_dt.timedelta]
    tolerance: Optional[_dt.timedelta]

    def __init__(
        self,
        message: str,
        *,
        skew_ms: Optional[int] = None,
        tolerance_ms: Optional[int] = None,
        kind: Optional[str] = None,
        code: Optional[int] = None,
        http_status: Optional[int] = None,
        field: Optional[str] = None,
        reason: Optional[str] = None,
        retryable: bool = False,
    ) -> None:
        super().__init__(
            message, kind=kind, code=code, http_status=http_status, field=field, reason=reason, retryable=retryable
        )
        self.skew = None if skew_ms is None else _dt.timedelta(milliseconds=skew_ms)
        self.tolerance = None if tolerance_ms is None else _dt.timedelta(milliseconds=tolerance_ms)
