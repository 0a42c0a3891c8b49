"""The sans-IO protocol core: encode a query, decode a response body. For the
conformance vectors, and for callers who bring their own HTTP stack."""

from __future__ import annotations

from typing import TYPE_CHECKING, List, Optional, Tuple, Union

from . import _native
from ._client import _METHOD, _SERVER_UTC_OFFSET, UtcOffset, _offset
from ._models import DecodedPage, EncodedRequest, _record

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from ._client import QueryFilters

__all__ = ["encode_query", "encode_request", "decode_page"]


def encode_query(
    *,
    start: Optional[int] = None,
    limit: Optional[int] = None,
    region: Optional[str] = None,
    base_url: Optional[str] = None,
    max_window_days: Optional[int] = None,
    **filters: Unpack[QueryFilters],
) -> List[Tuple[str, str]]:
    """The wire parameters (camelCase, credentials excluded, in the API's table order)
    of the single page the filters describe, e.g. ``[("days", "1"), ("start", "0"),
    ("limit", "100")]``. Raises :class:`ValidationError` like the client would,
    including for a window longer than the endpoint allows."""
    return [
        (name, value)
        for name, value in _native.encode_query(
            region=region, base_url=base_url, max_window_days=max_window_days, start=start, limit=limit, **filters
        )
    ]


def encode_request(
    api_user: str,
    api_key: str,
    *,
    method: str = _METHOD,
    start: Optional[int] = None,
    limit: Optional[int] = None,
    region: Optional[str] = None,
    base_url: Optional[str] = None,
    max_window_days: Optional[int] = None,
    **filters: Unpack[QueryFilters],
) -> EncodedRequest:
    """The complete HTTP request for the single page the filters describe."""
    m, url, headers, body = _native.encode_request(
        api_user,
        api_key,
        method=method,
        region=region,
        base_url=base_url,
        max_window_days=max_window_days,
        start=start,
        limit=limit,
        **filters,
    )
    return EncodedRequest(m, url, list(headers), body)


def decode_page(
    http_status: int, body: Union[bytes, str], server_utc_offset: UtcOffset = _SERVER_UTC_OFFSET
) -> DecodedPage:
    """Decodes one answer of the API leniently, or raises the classified error
    (:class:`RateLimitError` for 50000, :class:`DecodeError` for an unreadable body, …)."""
    total, list_size, records = _native.decode_page(http_status, body, _offset(server_utc_offset))
    return DecodedPage(total, list_size, [_record(r) for r in records])
