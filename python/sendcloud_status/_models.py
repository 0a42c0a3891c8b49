"""Values returned by the client: records, pages, enums and report shapes."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from enum import Enum, IntEnum
from typing import TYPE_CHECKING, Any, Dict, Iterator, List, NamedTuple, Optional, Tuple, TypedDict, Union

from . import _native

if TYPE_CHECKING:
    from ._native import RecordTuple

__all__ = [
    "Defaults",
    "RECORD_FIELDS",
    "Status",
    "Category",
    "SubStatus",
    "Record",
    "Page",
    "Position",
    "DecodedPage",
    "EncodedRequest",
    "Suppression",
    "Summary",
    "CategoryShare",
    "SubStatusShare",
    "DaySummary",
    "ExportStats",
    "UnstableUnit",
]


#: The keys of a record's canonical form (JSON, the CLI's CSV columns), in order: read
#: from the Rust core, which serializes records by this list.
RECORD_FIELDS: Tuple[str, ...] = tuple(_native.RECORD_FIELDS)


class Defaults(TypedDict):
    """The defaults of the client, of exports, of ``sync`` and of ``watch``, read from the Rust core
    (:data:`sendcloud_status.DEFAULTS`; durations in seconds)."""

    method: str
    timeout: float
    connect_timeout: float
    max_retries: int
    rate_limit_per_minute: int
    parallel: str
    max_parallel: int
    server_utc_offset: str
    page_size: int
    email_id_chunk: int
    max_window_days: int
    retry_base_delay: float
    retry_rate_limit_delay: float
    retry_max_delay: float
    retry_deadline: float
    lookback_days: int
    sending_max_age_days: int
    rescan_after: float
    first_run_days: int
    watch_interval: float
    min_watch_interval: float
    soft_bounce_grace: float
    watch_timeout: float


class Status(str, Enum):
    """The ``status`` filter: what the API can select on. Filters also accept the names as
    strings, ``"soft_bounce"`` or ``"soft-bounce"``; output always spells ``soft_bounce``."""

    DELIVERED = "delivered"
    INVALID = "invalid"
    SOFT_BOUNCE = "soft_bounce"
    SENDING = "sending"

    def __str__(self) -> str:
        return str(self.value)


class Category(str, Enum):
    """What happened to an email, derived from a record's sub-status, then its status text."""

    DELIVERED = "delivered"
    INVALID = "invalid"
    SOFT_BOUNCE = "soft_bounce"
    SENDING = "sending"
    UNKNOWN = "unknown"

    def __str__(self) -> str:
        return str(self.value)


class SubStatus(IntEnum):
    """Documented bounce sub-statuses: 4xx invalid (permanent), 5xx soft bounce (temporary).

    Records carry an undocumented code as a plain ``int``.
    """

    BLACKLISTED = 401
    UNSUBSCRIBED = 402
    SERVER_UNREACHABLE = 403
    ADDRESS_FORMAT_ERROR = 404
    IP_DOMAIN_REJECTED = 405
    ADDRESS_NOT_EXIST = 406
    SPAM = 407
    SENDER_RECIPIENT_REJECTED = 408
    INVALID_OTHER = 409
    SOFT_SERVER_UNREACHABLE = 503
    SOFT_IP_DOMAIN_REJECTED = 505
    SOFT_ADDRESS_NOT_EXIST = 506
    SOFT_SPAM_REJECTED = 507
    SOFT_SENDER_RECIPIENT_REJECTED = 508
    SOFT_OTHER = 509

    @property
    def description(self) -> str:
        """The documented English description, e.g. ``"Invalid — address does not exist"``."""
        return _DESCRIPTIONS[int(self)][0]

    @property
    def description_zh(self) -> str:
        """The documented Chinese description, e.g. ``"无效邮件-地址不存在"``."""
        return _DESCRIPTIONS[int(self)][1]


# The table lives in the Rust core; the enum only names its codes.
_DESCRIPTIONS: Dict[int, Tuple[str, str]] = {code: (en, zh) for code, en, zh in _native.sub_status_table()}
_SUB_STATUSES: Dict[int, SubStatus] = {int(s): s for s in SubStatus}
_CATEGORIES: Dict[str, Category] = {c.value: c for c in Category}


class Record(NamedTuple):
    """One email's delivery status. Fields the server omitted are ``None``; fields this
    library does not model are kept in ``extra``.

    An immutable named tuple: attribute access by name, cheap to create (an export
    makes one per email), compared field by field."""

    email_id: Optional[str]
    """``emailId``: the id the send API returned."""
    status: Optional[str]
    """``status`` as the server wrote it: display text such as ``"投递成功"``, not a code."""
    category: Category
    """The category derived from the sub-status, then the status text."""
    sub_status: Union[SubStatus, int, None]
    """A :class:`SubStatus` member, a plain ``int`` for undocumented codes, or ``None``."""
    sub_status_description: Optional[str]
    """``subStatusDesc`` from the server, else the documented English text."""
    api_user: Optional[str]
    recipient: Optional[str]
    """``recipients``: the recipient address."""
    request_time: Optional[_dt.datetime]
    """``requestTime`` as a timezone-aware datetime (the server's UTC offset), if it parsed."""
    modified_time: Optional[_dt.datetime]
    """``modifiedTime``, likewise."""
    send_log: Optional[str]
    """``sendLog``: the receiving server's answer."""
    extra: Dict[str, Any]
    """Row fields not modelled here (and values of known fields with an unexpected type)."""
    is_hard_bounce: bool
    """A permanent failure (invalid email): remove the address."""
    is_soft_bounce: bool
    """A temporary failure: retry later."""
    should_suppress: bool
    """Stop mailing the recipient: a permanent failure, unsubscribe or blacklisting."""
    request_time_text: Optional[str]
    """``request_time`` in RFC 3339, or the raw text when it did not parse."""
    modified_time_text: Optional[str]
    """``modified_time`` in RFC 3339, or the raw text when it did not parse."""

    def to_dict(self) -> Dict[str, Any]:
        """The JSON form shared with the CLI and the other bindings: the keys of
        :data:`RECORD_FIELDS` in order, times as RFC 3339 text (or as received), enums as
        their values, ``extra`` only when non-empty (as the core serializes it)."""
        d: Dict[str, Any] = {}
        for key in RECORD_FIELDS:
            value = getattr(self, _JSON_ATTRIBUTES.get(key, key))
            d[key] = value.value if isinstance(value, Enum) else value
        if not self.extra:
            del d["extra"]
        return d


# Where a key of the canonical form is read from when it is not the attribute of that
# name: times as their text.
_JSON_ATTRIBUTES: Dict[str, str] = {"request_time": "request_time_text", "modified_time": "modified_time_text"}

_new_record = tuple.__new__


def _record(t: RecordTuple) -> Record:
    # The native tuple is already in field order; only the two enums are mapped.
    # ``tuple.__new__`` skips the generated ``__new__``: one C call per record.
    sub = t[3]
    return _new_record(
        Record,
        (t[0], t[1], _CATEGORIES.get(t[2], Category.UNKNOWN), None if sub is None else _SUB_STATUSES.get(sub, sub))
        + t[4:],
    )


class Position(NamedTuple):
    """Where a page sits in an export."""

    window: int
    """Index of the date window (0 for unsplit queries)."""
    chunk: int
    """Index of the ``emailIds`` chunk (0 without ids)."""
    offset: int
    """The page's ``start`` offset."""


@dataclass(frozen=True)
class Page:
    """One page of results."""

    total: Optional[int]
    """``info.total``: rows matching the request, when the server said."""
    records: List[Record]
    position: Position
    window: Optional[Tuple[_dt.date, _dt.date]]
    """The inclusive date range of the page's window, when known (``None`` for a
    ``days`` query sent as is)."""
    rows_received: int
    """Rows the server returned, before de-duplication."""

    def __len__(self) -> int:
        return len(self.records)

    def __iter__(self) -> Iterator[Record]:
        return iter(self.records)


@dataclass(frozen=True)
class DecodedPage:
    """A response body decoded by :func:`decode_page`."""

    total: Optional[int]
    list_size: Optional[int]
    """``info.voListSize``, when present and numeric."""
    records: List[Record]


@dataclass(frozen=True)
class EncodedRequest:
    """A request encoded by :func:`encode_request`. The URL (GET) or the body (POST)
    holds the key, as the API requires: the repr shows neither."""

    method: str
    url: str
    headers: List[Tuple[str, str]]
    body: bytes

    def __repr__(self) -> str:
        return f"EncodedRequest(method={self.method!r}, url={self.url.split('?', 1)[0]!r}, body=<{len(self.body)} bytes>)"


@dataclass(frozen=True)
class Suppression:
    """One address to stop mailing (see :meth:`Client.suppressions`)."""

    address: str
    reason: str
    """``"permanent"`` or ``"repeated_soft_bounces"``."""
    code: Optional[int]
    """The latest sub-status code seen for the address."""
    description: str
    failures: int
    """Failing records seen for the address."""
    last_seen: Optional[str]
    """The latest failure's time, RFC 3339 (or as received)."""


class CategoryShare(TypedDict):
    category: str
    count: int
    share: float


SubStatusShare = TypedDict(
    "SubStatusShare",
    {"code": int, "description": str, "class": str, "count": int, "share": float},
)


class DaySummary(TypedDict):
    date: str
    total: int
    delivered: int
    invalid: int
    soft_bounce: int
    sending: int
    unknown: int
    deliverability_rate: Optional[float]


class Summary(TypedDict):
    """Deliverability at a glance (the CLI's ``summary`` JSON)."""

    total: int
    deliverability_rate: Optional[float]
    """delivered ÷ (delivered + invalid + soft bounce); ``None`` when nothing has an outcome."""
    categories: List[CategoryShare]
    sub_statuses: List[SubStatusShare]
    """Most frequent first."""
    days: List[DaySummary]
    """Per server-local day of the request time, oldest first."""


class UnstableUnit(TypedDict):
    """A window × ``email_ids`` chunk whose results were still moving after the last
    re-read: rows of it that did not change may be missing from the export."""

    start: _dt.date
    """First server day of the window."""
    end: _dt.date
    """Last server day of the window (inclusive)."""
    chunk: int
    """Index of the ``email_ids`` chunk (0 without ``email_ids``)."""


class ExportStats(TypedDict):
    """Counters of an export (:attr:`Records.stats`), as of the records handed out.

    The export is *exact* when ``unstable_units`` is empty: then every row that did not
    change while the export ran was delivered, exactly once."""

    requests: int
    """Requests sent, retries included."""
    retries: int
    """Requests that were retries."""
    rate_limited: int
    """Rate-limit answers received (``50000`` / HTTP 429)."""
    failures: int
    """Failed attempts of any kind."""
    records: int
    """Records delivered."""
    duplicates: int
    """Rows skipped because the same window and chunk already delivered their email id."""
    pages: int
    """Pages delivered."""
    passes: int
    """Passes over windows × chunks: one per unit read, plus every re-read."""
    units_reread: int
    """Windows × chunks read again because their results moved while being paged."""
    total_drift: int
    """How far ``total`` moved, summed over passes."""
    short_pages: int
    """Non-empty pages shorter than the page size while ``total`` said more rows remained."""
    empty_pages: int
    """Empty pages while ``total`` said more rows remained."""
    unstable_units: List[UnstableUnit]
    """Windows × chunks still moving after the last re-read; empty in an exact export."""
