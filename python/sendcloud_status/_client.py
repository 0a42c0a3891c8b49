"""``Client`` (blocking, GIL released during I/O) and ``AsyncClient`` (asyncio)."""

from __future__ import annotations

import asyncio
import datetime as _dt
from typing import (
    TYPE_CHECKING,
    Any,
    AsyncIterator,
    Dict,
    Iterable,
    Iterator,
    List,
    Literal,
    Optional,
    TypedDict,
    Union,
    cast,
)

from . import _native
from ._lifecycle import AsyncClosesOnExit, ClosesOnExit
from ._models import Defaults, ExportStats, Page, Position, Record, Status, Summary, Suppression, _record
from ._watch import (
    DEFAULT_SOFT_BOUNCE_GRACE,
    DEFAULT_WATCH_INTERVAL,
    DEFAULT_WATCH_TIMEOUT,
    AsyncWatcher,
    Seconds,
    Watcher,
    _seconds,
)

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from ._archive import PathLike, SyncReport
    from ._native import NativeExport, NativeSync, NativeWatch, PageTuple

__all__ = [
    "Client",
    "AsyncClient",
    "Records",
    "AsyncRecords",
    "QueryFilters",
    "Parallel",
    "DEFAULTS",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_PARALLEL",
    "DEFAULT_RATE_LIMIT_PER_MINUTE",
    "MAX_PARALLEL",
    "DEFAULT_LOOKBACK_DAYS",
    "DEFAULT_SENDING_MAX_AGE_DAYS",
    "DEFAULT_RESCAN_AFTER",
]

#: Requests in flight during an export: ``"auto"`` (as many as fill the rate limit at the
#: latency observed, up to 32) or a fixed number from 1 to :data:`MAX_PARALLEL`.
Parallel = Union[int, Literal["auto"]]

#: Every default of the client, of exports and of ``sync``, read from the Rust core (the
#: same values the CLI and the Node package use; durations in seconds). The arguments
#: below default to these.
DEFAULTS: Defaults = _native.DEFAULTS
_TIMEOUT: float = DEFAULTS["timeout"]
_CONNECT_TIMEOUT: float = DEFAULTS["connect_timeout"]
_METHOD: str = DEFAULTS["method"]
_SERVER_UTC_OFFSET: str = DEFAULTS["server_utc_offset"]
_PAGE_SIZE: int = DEFAULTS["page_size"]

#: Retries per request after the first attempt (the Rust client's default).
DEFAULT_MAX_RETRIES: int = _native.DEFAULT_MAX_RETRIES
#: The default ``parallel``: ``"auto"`` (the Rust client's default).
DEFAULT_PARALLEL: Parallel = cast(Parallel, _native.DEFAULT_PARALLEL)
#: The default client-side limit, requests per minute (the documented account limit).
DEFAULT_RATE_LIMIT_PER_MINUTE: int = _native.DEFAULT_RATE_LIMIT_PER_MINUTE
#: The most requests a client or an export may keep in flight.
MAX_PARALLEL: int = _native.MAX_PARALLEL
#: Sync: days before the last complete day that later syncs read again (late bounces).
DEFAULT_LOOKBACK_DAYS: int = _native.DEFAULT_LOOKBACK_DAYS
#: Sync: the oldest day, in days before today, read again for its rows still "sending".
DEFAULT_SENDING_MAX_AGE_DAYS: int = _native.DEFAULT_SENDING_MAX_AGE_DAYS
#: Sync: a day read less than this many seconds ago is not read again (the server answers
#: the same query from its cache for 10 minutes).
DEFAULT_RESCAN_AFTER: float = _native.DEFAULT_RESCAN_AFTER

DateLike = Union[_dt.date, str]
ServerTime = Union[_dt.datetime, str]
UtcOffset = Union[str, int, _dt.timedelta, _dt.timezone]


class QueryFilters(TypedDict, total=False):
    """The filters every query method accepts (``None`` means unset). Exactly one of
    ``days`` or ``start_date`` + ``end_date`` is required."""

    days: Optional[int]
    """The last N days on the server's calendar, ``days=1`` being today."""
    start_date: Optional[DateLike]
    """First day, inclusive: a ``datetime.date`` or ``"yyyy-MM-dd"``."""
    end_date: Optional[DateLike]
    """Last day, inclusive."""
    email: Optional[str]
    """One recipient address."""
    email_ids: Union[str, Iterable[str], None]
    """Ids returned by the send API (long lists are sent 20 per request)."""
    label_id: Optional[int]
    label_name: Optional[str]
    """Fuzzy match when sent without ``label_id``."""
    api_users: Union[str, Iterable[str], None]
    """Several apiUsers of the account (``apiUserList``)."""
    status: Union[Status, str, None]
    """``"delivered"``, ``"invalid"``, ``"soft_bounce"``, ``"sending"`` or a :class:`Status`."""
    sub_status: Union[int, Iterable[int], None]
    """Sub-status codes (ints or :class:`SubStatus` members)."""


def _offset(value: UtcOffset) -> Union[str, int]:
    if isinstance(value, _dt.timezone):
        value = value.utcoffset(None)
    if isinstance(value, _dt.timedelta):
        return int(value.total_seconds())
    return value


def _page(t: PageTuple) -> Page:
    total, records, position, window, rows = t
    return Page(total, [_record(r) for r in records], Position(*position), window, rows)


class Records(Iterator[Record], ClosesOnExit):
    """The records of an export, fetched lazily page by page (the GIL is released
    during each fetch; Ctrl-C is honoured between pages).

    ``cursor`` is where to resume after the records handed out so far: pass it as
    ``cursor=`` to the same query later (even in another process). It is ``None``
    once the export is complete.

    Pages are fetched in background threads (one page ahead, and ``parallel``
    requests at once). :meth:`close` stops them; so does leaving a ``with`` block
    or dropping the last reference to an unfinished iterator::

        with client.records(days=7) as records:
            for record in records:
                ...
    """

    __slots__ = ("_native",)

    def __init__(self, native: NativeExport) -> None:
        self._native = native

    def __iter__(self) -> Records:
        return self

    def __next__(self) -> Record:
        return _record(next(self._native))

    def close(self) -> None:
        """Stops the export: cancels its requests and background threads without
        waiting (a ``next()`` blocked in another thread returns, ending the
        iteration). Iteration then ends; :attr:`cursor` still resumes after the
        records handed out. Calling it again does nothing."""
        self._native.close()

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._native.closed

    @property
    def cursor(self) -> Optional[str]:
        return self._native.cursor

    @property
    def stats(self) -> ExportStats:
        """Counters as of the records handed out: requests, retries, rate-limit answers,
        failures, records, duplicates, pages, and how the export coped with a live account
        (``passes``, ``units_reread``, ``total_drift``, ``short_pages``, ``empty_pages``,
        ``unstable_units``). The export is exact when ``unstable_units`` is empty."""
        return self._native.stats

    def __repr__(self) -> str:
        return f"<Records cursor={self.cursor!r}>"


class AsyncRecords(AsyncIterator[Record], AsyncClosesOnExit):
    """``async for`` over an export: each page is fetched in a worker thread, so the
    event loop keeps running. ``cursor`` and ``stats`` as for :class:`Records`.

    :meth:`aclose` (or leaving ``async with``, or dropping an unfinished iterator)
    stops the export's background work::

        async with aclient.records(days=7) as records:
            async for record in records:
                ...
    """

    __slots__ = ("_native",)

    def __init__(self, native: NativeExport) -> None:
        self._native = native

    def __aiter__(self) -> AsyncRecords:
        return self

    async def aclose(self) -> None:
        """Stops the export, as :meth:`Records.close` (it never blocks the loop: a
        page being fetched in a worker thread ends with ``StopAsyncIteration``)."""
        self._native.close()

    @property
    def closed(self) -> bool:
        """Whether :meth:`aclose` was called."""
        return self._native.closed

    async def __anext__(self) -> Record:
        t = self._native.take()
        if t is None:
            if not await asyncio.to_thread(self._native.fill):
                raise StopAsyncIteration
            t = self._native.take()
            if t is None:
                raise StopAsyncIteration
        return _record(t)

    @property
    def cursor(self) -> Optional[str]:
        return self._native.cursor

    @property
    def stats(self) -> ExportStats:
        """See :attr:`Records.stats`."""
        return self._native.stats

    def __repr__(self) -> str:
        return f"<AsyncRecords cursor={self.cursor!r}>"


class Client:
    """A blocking client for the SendCloud / Aurora SendCloud ``emailStatus`` API.

    Unset ``api_user``, ``api_key``, ``region`` and ``base_url`` fall back to
    ``SENDCLOUD_API_USER``, ``SENDCLOUD_API_KEY``, ``SENDCLOUD_REGION`` and
    ``SENDCLOUD_BASE_URL``; the region defaults to ``"aurora-sg"``. A client is
    thread-safe; its requests share one connection pool and one rate limiter.

    :param region: ``aurora-sg``, ``aurora-us``, ``aurora-hk``, ``sendcloud-intl`` or ``sendcloud-cn``.
    :param base_url: a custom base URL (HTTPS, or HTTP to a loopback host); wins over ``region``.
    :param method: ``"POST"`` (default: the key stays out of URLs) or ``"GET"``.
    :param timeout: seconds for a whole request; ``connect_timeout`` for connecting.
    :param max_retries: retries per request after the first attempt (rate limits,
        server faults, transport failures); ``0`` never retries.
    :param rate_limit_per_minute: the client-side limit (default 3000, the documented account
        limit); ``0`` or ``None`` turn client-side pacing off (then only the server's
        ``50000`` answers slow an export down).
    :param parallel: requests in flight at once during exports: ``"auto"`` (the default: as
        many as fill the rate limit at the latency the client observes, up to 32, backing
        off when the server throttles) or a fixed number from 1 to 64 (``1``: one request at
        a time). The output is the same either way.
    :param server_utc_offset: the server's calendar: ``"+08:00"`` (the default), ``"-05:30"``,
        ``"+0800"``, ``"Z"``, seconds east of UTC, a ``timedelta`` or a ``timezone``.
    :param max_window_days: the window maximum of a custom base URL (default 3).
    :param jitter_seed: fixes the retry jitter, for reproducible runs.
    :param user_agent: the ``User-Agent`` header (default ``sendcloud-status/<version>``);
        a valid header value (no control characters such as a newline).

    Every argument is checked here: a bad one raises :class:`ValidationError` (a
    ``ValueError``) naming it, before any request.
    :param email_id_chunk: email ids per request when a query has many (default 20).
    :param retry_base_delay: backoff base in seconds after a server or transport fault
        (default 0.2; waits double per attempt, with full jitter).
    :param retry_rate_limit_delay: backoff base after a rate-limit answer (default 1.0).
    :param retry_max_delay: the longest single wait (default 30).
    :param retry_deadline: give up on a request this many seconds after its first attempt (default 300).
    """

    __slots__ = ("_native",)

    def __init__(
        self,
        api_user: Optional[str] = None,
        api_key: Optional[str] = None,
        *,
        region: Optional[str] = None,
        base_url: Optional[str] = None,
        method: str = _METHOD,
        timeout: float = _TIMEOUT,
        connect_timeout: float = _CONNECT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        rate_limit_per_minute: Optional[int] = DEFAULT_RATE_LIMIT_PER_MINUTE,
        parallel: Parallel = DEFAULT_PARALLEL,
        server_utc_offset: UtcOffset = _SERVER_UTC_OFFSET,
        max_window_days: Optional[int] = None,
        jitter_seed: Optional[int] = None,
        user_agent: Optional[str] = None,
        email_id_chunk: Optional[int] = None,
        retry_base_delay: Optional[float] = None,
        retry_rate_limit_delay: Optional[float] = None,
        retry_max_delay: Optional[float] = None,
        retry_deadline: Optional[float] = None,
    ) -> None:
        self._native = _native.NativeClient(
            api_user,
            api_key,
            region=region,
            base_url=base_url,
            method=method,
            timeout=timeout,
            connect_timeout=connect_timeout,
            max_retries=max_retries,
            rate_limit_per_minute=rate_limit_per_minute,
            parallel=parallel,
            server_utc_offset=_offset(server_utc_offset),
            max_window_days=max_window_days,
            jitter_seed=jitter_seed,
            user_agent=user_agent,
            email_id_chunk=email_id_chunk,
            retry_base_delay=retry_base_delay,
            retry_rate_limit_delay=retry_rate_limit_delay,
            retry_max_delay=retry_max_delay,
            retry_deadline=retry_deadline,
        )

    @property
    def api_user(self) -> str:
        return self._native.api_user

    @property
    def region(self) -> Optional[str]:
        """The region preset, ``None`` for a custom base URL."""
        return self._native.region

    @property
    def base_url(self) -> str:
        return self._native.base_url

    @property
    def endpoint_url(self) -> str:
        """The full URL of the ``emailStatus`` endpoint."""
        return self._native.endpoint_url

    @property
    def max_window_days(self) -> int:
        """The longest window one request may span; exports split longer ones."""
        return self._native.max_window_days

    @property
    def method(self) -> str:
        return self._native.method

    @property
    def parallel(self) -> Parallel:
        """``"auto"`` or the fixed number of requests in flight during exports."""
        return cast(Parallel, self._native.parallel)

    @property
    def server_utc_offset(self) -> str:
        return self._native.server_utc_offset

    def server_today(self) -> _dt.date:
        """Today on the server's calendar (it anchors ``days`` windows)."""
        return self._native.server_today()

    def __repr__(self) -> str:
        return (
            f"Client(api_user={self.api_user!r}, region={self.region!r}, "
            f"base_url={self.base_url!r}, method={self.method!r})"
        )

    def page(self, *, start: int = 0, limit: int = _PAGE_SIZE, **filters: Unpack[QueryFilters]) -> Page:
        """Exactly the page the filters describe (``start`` offset, ``limit`` 1..100 rows),
        with retries. The window must fit :attr:`max_window_days`; use :meth:`records`
        for longer ones. Raises :class:`ValidationError` before any request."""
        return _page(self._native.page(start=start, limit=limit, **filters))

    def records(
        self,
        *,
        max_records: Optional[int] = None,
        cursor: Optional[str] = None,
        page_size: int = _PAGE_SIZE,
        parallel: Optional[Parallel] = None,
        today: Optional[DateLike] = None,
        server_now: Optional[ServerTime] = None,
        **filters: Unpack[QueryFilters],
    ) -> Records:
        """Every matching record, lazily, across pages, date windows and id chunks,
        without duplicates. Stops after ``max_records``; resumes from a ``cursor``
        taken from an earlier :attr:`Records.cursor` of the same query.

        The export is planned once, when it starts, on the server's clock as this
        machine reads it (at :attr:`server_utc_offset`): ``days`` becomes dates, and rows
        changed after the start show the account moving under the export. ``today``
        anchors ``days`` on another server-local day instead; ``server_now`` (a
        ``datetime``, naive for the server's wall time, or ``"yyyy-MM-dd HH:mm:ss"``)
        plans the export as if the server's clock read that time — for a server whose
        clock is not this machine's, such as a sandbox. Give at most one of them.

        ``parallel`` overrides the client's setting for this export (``"auto"`` or 1 to 64);
        ``None`` keeps the client's (``"auto"`` by default).

        Filters and options are validated now (:class:`ValidationError`); nothing is sent
        until iteration."""
        return Records(self._export(max_records, cursor, page_size, parallel, filters, today, server_now))

    def summary(
        self,
        *,
        page_size: int = _PAGE_SIZE,
        parallel: Optional[Parallel] = None,
        today: Optional[DateLike] = None,
        server_now: Optional[ServerTime] = None,
        **filters: Unpack[QueryFilters],
    ) -> Summary:
        """Counts and shares by category, sub-status and day over every matching record.
        ``today`` and ``server_now`` as for :meth:`records`."""
        export = self._export(None, None, page_size, parallel, filters, today, server_now)
        report = _native.NativeReport.summary()
        try:
            while export.feed(report):
                pass
        finally:
            export.close()
        return cast(Summary, report.result())

    def suppressions(
        self,
        *,
        soft_bounces: Optional[int] = None,
        page_size: int = _PAGE_SIZE,
        parallel: Optional[Parallel] = None,
        today: Optional[DateLike] = None,
        server_now: Optional[ServerTime] = None,
        **filters: Unpack[QueryFilters],
    ) -> List[Suppression]:
        """The unique addresses to stop mailing, sorted: every permanent failure, and with
        ``soft_bounces=n`` also addresses that soft-bounced at least ``n`` times.
        ``today`` and ``server_now`` as for :meth:`records`."""
        report = _native.NativeReport.suppressions(soft_bounces)
        export = self._export(None, None, page_size, parallel, filters, today, server_now)
        try:
            while export.feed(report):
                pass
        finally:
            export.close()
        return _suppressions(report)

    def sync(
        self,
        path: PathLike,
        *,
        since: Optional[DateLike] = None,
        lookback_days: int = DEFAULT_LOOKBACK_DAYS,
        sending_max_age_days: int = DEFAULT_SENDING_MAX_AGE_DAYS,
        rescan_after: float = DEFAULT_RESCAN_AFTER,
        api_users: Union[str, Iterable[str], None] = None,
        today: Optional[DateLike] = None,
        server_now: Optional[ServerTime] = None,
    ) -> SyncReport:
        """Brings the local archive at ``path`` (an SQLite file, created when missing) up to
        date with the account, and says what it did. Read it offline with :class:`Archive`.

        Which days are read is the planner's choice (the CLI's ``sync``): on a first run,
        every day from ``since`` (default: 30 days back) to today; later, the days after the
        last complete one plus the ``lookback_days`` before it (where late bounces still
        change rows), days whose last read was not exact, and older days still holding
        "sending" rows (within ``sending_max_age_days``, by the ids of those rows when that
        is cheaper). A day read less than ``rescan_after`` seconds ago is skipped (the server
        would answer from its cache); ``0`` never skips. ``api_users`` syncs an
        ``apiUserList`` (default: the calling apiUser). ``today`` / ``server_now`` set the
        server's clock as for :meth:`records` (not both).

        Each page is written in one transaction, with a history row for every email whose
        state changed. The GIL is released for the whole sync. Ctrl-C (on the main thread)
        stops it after the page being written and raises ``KeyboardInterrupt``; every whole
        page stays, and the next sync reads the unfinished days again.

        :raises ValidationError: a bad setting, before anything is opened or sent.
        :raises ArchiveBusyError: another sync is writing the archive.
        :raises NotAnArchiveError: ``path`` is another kind of file (left untouched).
        :raises ArchiveError: SQLite or the disk failed.
        Errors of the API as for :meth:`records`."""
        from ._archive import _sync_report

        job = self._sync_job(path, since, lookback_days, sending_max_age_days, rescan_after, api_users, today, server_now)
        return _sync_report(job.run())

    def _sync_job(
        self,
        path: PathLike,
        since: Optional[DateLike],
        lookback_days: int,
        sending_max_age_days: int,
        rescan_after: float,
        api_users: Union[str, Iterable[str], None],
        today: Optional[DateLike],
        server_now: Optional[ServerTime],
    ) -> NativeSync:
        return self._native.sync_job(
            path,
            since=since,
            lookback_days=lookback_days,
            sending_max_age_days=sending_max_age_days,
            rescan_after=rescan_after,
            api_users=api_users,
            today=today,
            server_now=server_now,
        )

    def watch(
        self,
        email_ids: Union[str, Iterable[str], None] = None,
        *,
        email: Optional[str] = None,
        timeout: Optional[Seconds] = DEFAULT_WATCH_TIMEOUT,
        interval: Seconds = DEFAULT_WATCH_INTERVAL,
        soft_bounce_grace: Seconds = DEFAULT_SOFT_BOUNCE_GRACE,
        today: Optional[DateLike] = None,
        jitter_seed: Optional[int] = None,
    ) -> Watcher:
        """Follows emails until each is final, yielding every change as a poll sees it (the
        CLI's ``watch``): ``email_ids`` (one id or an iterable) and/or every email sent to
        ``email`` in the last 3 days (``today`` moves those days, as for :meth:`records`).
        Iterate the :class:`Watcher` for each :class:`WatchTransition`; its ``result`` then
        says how it ended (:class:`WatchResult`).

        Final means delivered, invalid, or a soft bounce unchanged for ``soft_bounce_grace``
        after its ``modifiedTime`` (the vendor may retry it until then). Polls ask for pending
        emails only, at least ``interval`` apart (default 10 minutes, the server's cache
        period; at least 1 second, for sandboxes) plus up to a tenth of it as jitter; below
        10 minutes against a host that is not loopback, a ``UserWarning`` says answers may be
        cached. The watch ends ``timeout`` after it starts (default 2 hours; ``None``: never)
        with the emails still pending. Durations are seconds or a ``timedelta``. ``jitter_seed``
        fixes the jitter, for reproducible runs.

        :raises ValidationError: no ids and no address, a bad id or address, an interval below
            1 second, a bad duration — at the call, before any request.
        Errors of the API as for :meth:`records`, when a poll cannot succeed."""
        return Watcher(self._watch(email_ids, email, timeout, interval, soft_bounce_grace, today, jitter_seed))

    def _watch(
        self,
        email_ids: Union[str, Iterable[str], None],
        email: Optional[str],
        timeout: Optional[Seconds],
        interval: Seconds,
        soft_bounce_grace: Seconds,
        today: Optional[DateLike],
        jitter_seed: Optional[int],
    ) -> NativeWatch:
        return self._native.watch(
            email_ids,
            email=email,
            interval=_seconds(interval),
            soft_bounce_grace=_seconds(soft_bounce_grace),
            timeout=None if timeout is None else _seconds(timeout),
            today=today,
            jitter_seed=jitter_seed,
        )

    def _export(
        self,
        max_records: Optional[int],
        cursor: Optional[str],
        page_size: int,
        parallel: Optional[Parallel],
        filters: Any,
        today: Optional[DateLike] = None,
        server_now: Optional[ServerTime] = None,
    ) -> NativeExport:
        return self._native.export(
            max_records=max_records,
            cursor=cursor,
            parallel=parallel,
            today=today,
            server_now=server_now,
            limit=page_size,
            **filters,
        )


def _suppressions(report: _native.NativeReport) -> List[Suppression]:
    return [Suppression(**entry) for entry in cast(List[Dict[str, Any]], report.result())]


class AsyncClient:
    """The asyncio twin of :class:`Client` (same arguments): every request runs in a
    worker thread, so the event loop never blocks. ``records()`` returns an async
    iterator; the other methods are coroutines. :attr:`blocking` is the :class:`Client`
    underneath."""

    __slots__ = ("_client",)

    def __init__(
        self,
        api_user: Optional[str] = None,
        api_key: Optional[str] = None,
        *,
        region: Optional[str] = None,
        base_url: Optional[str] = None,
        method: str = _METHOD,
        timeout: float = _TIMEOUT,
        connect_timeout: float = _CONNECT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        rate_limit_per_minute: Optional[int] = DEFAULT_RATE_LIMIT_PER_MINUTE,
        parallel: Parallel = DEFAULT_PARALLEL,
        server_utc_offset: UtcOffset = _SERVER_UTC_OFFSET,
        max_window_days: Optional[int] = None,
        jitter_seed: Optional[int] = None,
        user_agent: Optional[str] = None,
        email_id_chunk: Optional[int] = None,
        retry_base_delay: Optional[float] = None,
        retry_rate_limit_delay: Optional[float] = None,
        retry_max_delay: Optional[float] = None,
        retry_deadline: Optional[float] = None,
    ) -> None:
        self._client = Client(
            api_user,
            api_key,
            region=region,
            base_url=base_url,
            method=method,
            timeout=timeout,
            connect_timeout=connect_timeout,
            max_retries=max_retries,
            rate_limit_per_minute=rate_limit_per_minute,
            parallel=parallel,
            server_utc_offset=server_utc_offset,
            max_window_days=max_window_days,
            jitter_seed=jitter_seed,
            user_agent=user_agent,
            email_id_chunk=email_id_chunk,
            retry_base_delay=retry_base_delay,
            retry_rate_limit_delay=retry_rate_limit_delay,
            retry_max_delay=retry_max_delay,
            retry_deadline=retry_deadline,
        )

    @property
    def blocking(self) -> Client:
        """The blocking client underneath (same connection pool and rate limiter)."""
        return self._client

    @property
    def api_user(self) -> str:
        return self._client.api_user

    @property
    def region(self) -> Optional[str]:
        return self._client.region

    @property
    def base_url(self) -> str:
        return self._client.base_url

    def __repr__(self) -> str:
        return "Async" + repr(self._client)

    async def page(self, *, start: int = 0, limit: int = _PAGE_SIZE, **filters: Unpack[QueryFilters]) -> Page:
        """See :meth:`Client.page`."""
        return await asyncio.to_thread(self._client.page, start=start, limit=limit, **filters)

    def records(
        self,
        *,
        max_records: Optional[int] = None,
        cursor: Optional[str] = None,
        page_size: int = _PAGE_SIZE,
        parallel: Optional[Parallel] = None,
        today: Optional[DateLike] = None,
        server_now: Optional[ServerTime] = None,
        **filters: Unpack[QueryFilters],
    ) -> AsyncRecords:
        """See :meth:`Client.records`; use with ``async for``."""
        return AsyncRecords(self._client._export(max_records, cursor, page_size, parallel, filters, today, server_now))

    async def summary(
        self,
        *,
        page_size: int = _PAGE_SIZE,
        parallel: Optional[Parallel] = None,
        today: Optional[DateLike] = None,
        server_now: Optional[ServerTime] = None,
        **filters: Unpack[QueryFilters],
    ) -> Summary:
        """See :meth:`Client.summary`."""
        export = self._client._export(None, None, page_size, parallel, filters, today, server_now)
        report = _native.NativeReport.summary()
        try:
            while await asyncio.to_thread(export.feed, report):
                pass
        finally:
            # Also when the task is cancelled: the worker thread's fetch ends.
            export.close()
        return cast(Summary, report.result())

    async def suppressions(
        self,
        *,
        soft_bounces: Optional[int] = None,
        page_size: int = _PAGE_SIZE,
        parallel: Optional[Parallel] = None,
        today: Optional[DateLike] = None,
        server_now: Optional[ServerTime] = None,
        **filters: Unpack[QueryFilters],
    ) -> List[Suppression]:
        """See :meth:`Client.suppressions`."""
        report = _native.NativeReport.suppressions(soft_bounces)
        export = self._client._export(None, None, page_size, parallel, filters, today, server_now)
        try:
            while await asyncio.to_thread(export.feed, report):
                pass
        finally:
            export.close()
        return _suppressions(report)

    async def sync(
        self,
        path: PathLike,
        *,
        since: Optional[DateLike] = None,
        lookback_days: int = DEFAULT_LOOKBACK_DAYS,
        sending_max_age_days: int = DEFAULT_SENDING_MAX_AGE_DAYS,
        rescan_after: float = DEFAULT_RESCAN_AFTER,
        api_users: Union[str, Iterable[str], None] = None,
        today: Optional[DateLike] = None,
        server_now: Optional[ServerTime] = None,
    ) -> SyncReport:
        """See :meth:`Client.sync`; the sync runs in a worker thread. Settings are validated
        at the call. Cancelling the task stops the sync after the page being written (the
        worker thread ends then; until it has, the archive is still busy)."""
        from ._archive import _sync_report

        job = self._client._sync_job(
            path, since, lookback_days, sending_max_age_days, rescan_after, api_users, today, server_now
        )
        try:
            report = await asyncio.to_thread(job.run)
        finally:
            # Also when the task is cancelled: the worker thread stops after its page.
            job.cancel()
        return _sync_report(report)

    def watch(
        self,
        email_ids: Union[str, Iterable[str], None] = None,
        *,
        email: Optional[str] = None,
        timeout: Optional[Seconds] = DEFAULT_WATCH_TIMEOUT,
        interval: Seconds = DEFAULT_WATCH_INTERVAL,
        soft_bounce_grace: Seconds = DEFAULT_SOFT_BOUNCE_GRACE,
        today: Optional[DateLike] = None,
        jitter_seed: Optional[int] = None,
    ) -> AsyncWatcher:
        """See :meth:`Client.watch`; use with ``async for``. Settings are validated at the
        call. Each poll and each wait runs in a worker thread; cancelling the task awaiting
        the next transition stops the watch."""
        return AsyncWatcher(
            self._client._watch(email_ids, email, timeout, interval, soft_bounce_grace, today, jitter_seed)
        )
