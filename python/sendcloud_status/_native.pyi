"""Type stub of the Rust extension module (bindings/python). Not a public API:
use the ``sendcloud_status`` package."""

import datetime
import os
from typing import Any, Dict, Iterable, List, Literal, Optional, Tuple, Union, final

from ._models import Defaults, ExportStats

__version__: str
DEFAULTS: Defaults
RECORD_FIELDS: List[str]
DEFAULT_MAX_RETRIES: int
DEFAULT_PARALLEL: str
DEFAULT_RATE_LIMIT_PER_MINUTE: int
MAX_PARALLEL: int
DEFAULT_LOOKBACK_DAYS: int
DEFAULT_SENDING_MAX_AGE_DAYS: int
DEFAULT_RESCAN_AFTER: float
DEFAULT_FIRST_RUN_DAYS: int
DEFAULT_WEBHOOK_TOLERANCE: float  # seconds
DEFAULT_WATCH_INTERVAL: float  # seconds
MIN_WATCH_INTERVAL: float
DEFAULT_SOFT_BOUNCE_GRACE: float
DEFAULT_WATCH_TIMEOUT: float

# (email_id, status, category, sub_status, sub_status_description, api_user,
#  recipient, request_time, request_time_text, modified_time, modified_time_text,
#  send_log, extra, is_hard_bounce, is_soft_bounce, should_suppress)
# Record fields in `Record`'s order: email_id, status, category name, sub-status code,
# sub_status_description, api_user, recipient, request_time, modified_time, send_log, extra,
# is_hard_bounce, is_soft_bounce, should_suppress, request_time_text, modified_time_text.
RecordTuple = Tuple[
    Optional[str],
    Optional[str],
    str,
    Optional[int],
    Optional[str],
    Optional[str],
    Optional[str],
    Optional[datetime.datetime],
    Optional[datetime.datetime],
    Optional[str],
    Dict[str, Any],
    bool,
    bool,
    bool,
    Optional[str],
    Optional[str],
]

# (total, records, (window, chunk, offset), (first_day, last_day) | None, rows_received)
PageTuple = Tuple[
    Optional[int],
    List[RecordTuple],
    Tuple[int, int, int],
    Optional[Tuple[datetime.date, datetime.date]],
    int,
]

class NativeError(Exception):
    """The Rust error behind a sendcloud_status exception, attached as its __cause__."""

@final
class NativeClient:
    def __init__(
        self,
        api_user: Optional[str] = None,
        api_key: Optional[str] = None,
        *,
        region: Optional[str] = None,
        base_url: Optional[str] = None,
        method: Optional[str] = None,  # None: the core's default (POST)
        timeout: Optional[float] = None,  # None: the core's default
        connect_timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        rate_limit_per_minute: Optional[int] = None,  # None or 0: no client-side pacing
        parallel: Union[int, str, None] = None,  # None: "auto"
        server_utc_offset: Union[str, int, None] = None,
        max_window_days: Optional[int] = None,
        jitter_seed: Optional[int] = None,
        user_agent: Optional[str] = None,
        email_id_chunk: Optional[int] = None,
        retry_base_delay: Optional[float] = None,
        retry_rate_limit_delay: Optional[float] = None,
        retry_max_delay: Optional[float] = None,
        retry_deadline: Optional[float] = None,
    ) -> None: ...
    @property
    def api_user(self) -> str: ...
    @property
    def base_url(self) -> str: ...
    @property
    def endpoint_url(self) -> str: ...
    @property
    def region(self) -> Optional[str]: ...
    @property
    def max_window_days(self) -> int: ...
    @property
    def method(self) -> str: ...
    @property
    def parallel(self) -> Union[int, str]: ...
    @property
    def server_utc_offset(self) -> str: ...
    def server_today(self) -> datetime.date: ...
    def page(self, **filters: Any) -> PageTuple: ...
    def export(
        self,
        *,
        max_records: Optional[int] = None,
        cursor: Optional[str] = None,
        parallel: Union[int, str, None] = None,
        today: Union[datetime.date, str, None] = None,
        server_now: Union[datetime.datetime, str, None] = None,
        **filters: Any,
    ) -> NativeExport: ...
    def sync_job(
        self,
        path: Union[str, os.PathLike[str]],
        *,
        since: Union[datetime.date, str, None] = None,
        lookback_days: int,
        sending_max_age_days: int,
        rescan_after: float,
        api_users: Union[str, Iterable[str], None] = None,
        today: Union[datetime.date, str, None] = None,
        server_now: Union[datetime.datetime, str, None] = None,
    ) -> NativeSync: ...
    def watch(
        self,
        email_ids: Union[str, Iterable[str], None] = None,
        *,
        email: Optional[str] = None,
        interval: float,
        soft_bounce_grace: float,
        timeout: Optional[float],  # None: no deadline
        today: Union[datetime.date, str, None] = None,
        jitter_seed: Optional[int] = None,
    ) -> NativeWatch: ...

# (email_id, recipient, from category name | None, from sub-status code | None, to category
#  name, to sub-status code | None, sub_status_description, changed_at, changed_at RFC 3339,
#  observed_at, observed_at RFC 3339)
WatchTransitionTuple = Tuple[
    str,
    Optional[str],
    Optional[str],
    Optional[int],
    str,
    Optional[int],
    Optional[str],
    Optional[datetime.datetime],
    Optional[str],
    datetime.datetime,
    str,
]
# ("transition", WatchTransitionTuple) | ("notice", text) | ("done", None)
WatchEventTuple = Union[
    Tuple[Literal["transition"], WatchTransitionTuple],
    Tuple[Literal["notice"], str],
    Tuple[Literal["done"], None],
]

@final
class NativeWatch:
    def next_event(self) -> Optional[WatchEventTuple]: ...
    def cancel(self) -> None: ...
    @property
    def closed(self) -> bool: ...
    # (end, delivered, invalid, soft_bounced, pending, polls)
    @property
    def result(self) -> Optional[Tuple[str, List[str], List[str], List[str], List[str], int]]: ...

@final
class NativeSync:
    # The SyncReport dataclass's fields.
    def run(self) -> Dict[str, Any]: ...
    def cancel(self) -> None: ...

# (status, category name, sub-status code, modified_time, modified_time_text, seen_at)
HistoryTuple = Tuple[
    Optional[str], str, Optional[int], Optional[datetime.datetime], Optional[str], datetime.datetime
]
# (record, first_seen_at, last_seen_at, history)
ArchivedEmailTuple = Tuple[RecordTuple, datetime.datetime, datetime.datetime, List[HistoryTuple]]

@final
class NativeArchive:
    def __init__(
        self, path: Union[str, os.PathLike[str]], *, server_utc_offset: Union[str, int, None] = None
    ) -> None: ...
    @property
    def path(self) -> os.PathLike[str]: ...  # a pathlib.Path
    def records(self, *, today: Union[datetime.date, str, None] = None, **filters: Any) -> NativeArchiveRecords: ...
    def feed(
        self, report: NativeReport, *, today: Union[datetime.date, str, None] = None, **filters: Any
    ) -> int: ...
    def history(self, address_or_id: str) -> List[ArchivedEmailTuple]: ...
    def close(self) -> None: ...
    @property
    def closed(self) -> bool: ...

@final
class NativeArchiveRecords:
    def __iter__(self) -> NativeArchiveRecords: ...
    def __next__(self) -> RecordTuple: ...
    def close(self) -> None: ...
    @property
    def done(self) -> bool: ...

@final
class NativeExport:
    def __iter__(self) -> NativeExport: ...
    def __next__(self) -> RecordTuple: ...
    def fill(self) -> bool: ...
    def take(self) -> Optional[RecordTuple]: ...
    @property
    def buffered(self) -> int: ...
    def feed(self, report: NativeReport) -> bool: ...
    @property
    def cursor(self) -> Optional[str]: ...
    @property
    def stats(self) -> ExportStats: ...
    def close(self) -> None: ...
    @property
    def closed(self) -> bool: ...

@final
class NativeReport:
    @staticmethod
    def summary() -> NativeReport: ...
    @staticmethod
    def suppressions(soft_bounces: Optional[int] = None) -> NativeReport: ...
    # The summary dict, or the list of suppression dicts (the CLI's JSON shapes).
    def result(self) -> Union[Dict[str, Any], List[Dict[str, Any]]]: ...

def encode_query(
    *,
    region: Optional[str] = None,
    base_url: Optional[str] = None,
    max_window_days: Optional[int] = None,
    **filters: Any,
) -> List[Tuple[str, str]]: ...
def encode_request(
    api_user: str,
    api_key: str,
    *,
    method: Optional[str] = None,
    region: Optional[str] = None,
    base_url: Optional[str] = None,
    max_window_days: Optional[int] = None,
    **filters: Any,
) -> Tuple[str, str, List[Tuple[str, str]], bytes]: ...
def decode_page(
    http_status: int, body: Union[bytes, str], server_utc_offset: Union[str, int, None] = None
) -> Tuple[Optional[int], Optional[int], List[RecordTuple]]: ...
def sub_status_table() -> List[Tuple[int, str, str]]: ...

# (kind, event, category name | None, email_id, recipient, api_user, label_id, label_name,
#  timestamp, time_ms, token, signature, sub_status code, message, extra)
WebhookTuple = Tuple[
    str,
    str,
    Optional[str],
    str,
    Optional[str],
    Optional[str],
    Optional[int],
    Optional[str],
    str,
    int,
    str,
    str,
    Optional[int],
    Optional[str],
    Dict[str, Any],
]

def verify_webhook(
    body: Union[bytes, bytearray, str],
    app_key: str,
    now_ms: Optional[int] = None,
    tolerance_ms: Optional[int] = None,
) -> WebhookTuple: ...
