"""What happened to the emails you sent through SendCloud / Aurora SendCloud.

>>> from sendcloud_status import Client
>>> client = Client("api_user", "api_key")                      # or SENDCLOUD_* variables
>>> for record in client.records(days=7, status="invalid"):      # doctest: +SKIP
...     print(record.recipient, record.sub_status, record.sub_status_description)

A thin layer over the Rust ``sendcloud-status`` client: validation, encoding,
lenient decoding, window splitting, pagination, retries, rate limiting and
cursors all happen in Rust; so do the local archive's sync and reads (``Client.sync``,
``Archive``); and event-webhook verification (``verify_webhook``). See
``python/README.md``.
"""

from __future__ import annotations

from . import _native
from ._archive import Archive, ArchivedEmail, ArchiveRecords, HistoryEntry, SyncReport
from ._client import (
    DEFAULTS,
    DEFAULT_LOOKBACK_DAYS,
    DEFAULT_MAX_RETRIES,
    DEFAULT_PARALLEL,
    DEFAULT_RATE_LIMIT_PER_MINUTE,
    DEFAULT_RESCAN_AFTER,
    DEFAULT_SENDING_MAX_AGE_DAYS,
    MAX_PARALLEL,
    AsyncClient,
    AsyncRecords,
    Client,
    Parallel,
    QueryFilters,
    Records,
)
from ._models import (
    Category,
    CategoryShare,
    RECORD_FIELDS,
    DaySummary,
    DecodedPage,
    Defaults,
    EncodedRequest,
    ExportStats,
    Page,
    Position,
    Record,
    Status,
    SubStatus,
    SubStatusShare,
    Summary,
    Suppression,
    UnstableUnit,
)
from ._sansio import decode_page, encode_query, encode_request
from ._webhook import DEFAULT_WEBHOOK_TOLERANCE, WebhookEvent, verify_webhook
from .errors import (
    ApiError,
    ArchiveBusyError,
    ArchiveError,
    ArchiveMissingError,
    ArchiveVersionError,
    AuthenticationError,
    AuthError,
    DecodeError,
    InternalError,
    NotAnArchiveError,
    QuotaError,
    RateLimitedError,
    RateLimitError,
    SendCloudError,
    ServerError,
    TransportError,
    ValidationError,
    WebhookError,
    WebhookMalformedError,
    WebhookSignatureError,
    WebhookStaleError,
)

__version__: str = _native.__version__

__all__ = [
    "Client",
    "AsyncClient",
    "Records",
    "AsyncRecords",
    "QueryFilters",
    "Parallel",
    "DEFAULTS",
    "Defaults",
    "RECORD_FIELDS",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_PARALLEL",
    "DEFAULT_RATE_LIMIT_PER_MINUTE",
    "MAX_PARALLEL",
    "DEFAULT_LOOKBACK_DAYS",
    "DEFAULT_SENDING_MAX_AGE_DAYS",
    "DEFAULT_RESCAN_AFTER",
    "Archive",
    "ArchiveRecords",
    "ArchivedEmail",
    "HistoryEntry",
    "SyncReport",
    "Record",
    "Page",
    "Position",
    "Status",
    "Category",
    "SubStatus",
    "Summary",
    "CategoryShare",
    "SubStatusShare",
    "DaySummary",
    "Suppression",
    "ExportStats",
    "UnstableUnit",
    "DecodedPage",
    "EncodedRequest",
    "decode_page",
    "encode_query",
    "encode_request",
    "verify_webhook",
    "WebhookEvent",
    "DEFAULT_WEBHOOK_TOLERANCE",
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
    "__version__",
]
