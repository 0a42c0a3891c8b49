"""The local archive: :meth:`Client.sync` keeps an SQLite file up to date with the
account; :class:`Archive` answers queries from it offline, in the shapes the online
methods return.

A thin layer over the Rust ``sendcloud-status-archive`` crate (the CLI's ``sync`` and
``--db``): which days a sync reads, how pages are written (one transaction each), the
history rows and the lock against a second writer are all the crate's."""

from __future__ import annotations

import datetime as _dt
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Dict, Iterator, List, NamedTuple, Optional, Tuple, Union, cast

from . import _native
from ._lifecycle import ClosesOnExit
from ._client import _SERVER_UTC_OFFSET, DateLike, QueryFilters, UtcOffset, _offset, _suppressions
from ._models import _CATEGORIES, _SUB_STATUSES, Category, ExportStats, Record, SubStatus, Summary, Suppression, _record

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from ._native import NativeArchiveRecords

__all__ = ["Archive", "ArchiveRecords", "ArchivedEmail", "HistoryEntry", "SyncReport", "PathLike"]

#: An archive file: a ``str`` or an ``os.PathLike`` (``pathlib.Path``).
PathLike = Union[str, "os.PathLike[str]"]


@dataclass(frozen=True)
class SyncReport:
    """What :meth:`Client.sync` did. A sync that fails raises instead (the pages it wrote
    stay, and the next sync reads the unfinished days again)."""

    run_id: int
    """The run's row in the archive's ``sync_runs`` table."""
    outcome: str
    """``"complete"``, or ``"inexact"`` when some days kept changing while they were read
    (they are not marked read: the next sync reads them again)."""
    today: _dt.date
    """The server's today the plan was made on."""
    start: _dt.date
    """The first day considered (``since``, the archive's oldest day, or 30 days back)."""
    clamped_since: Optional[_dt.date]
    """The ``since`` asked for, when it was past the server's 180-day retention (then
    ``start`` is the oldest day the server still keeps)."""
    days_planned: int
    """Days the plan read."""
    planned: List[Tuple[_dt.date, str]]
    """Each planned day and why: ``"new"``, ``"incomplete"``, ``"lookback"`` or ``"sending"``
    (an older day read by the ids of its rows still "sending")."""
    skipped_recent: List[_dt.date]
    """Days not read because they were read less than ``rescan_after`` ago."""
    days_read: int
    """Days read to the end."""
    inexact_days: List[_dt.date]
    """Days whose results kept moving while they were read."""
    requests: int
    """Requests sent, retries included."""
    records_seen: int
    """Records read."""
    inserted: int
    """Emails new to the archive."""
    changed: int
    """Emails whose state changed (one history row each)."""
    unchanged: int
    """Emails seen again in the state already archived."""
    stale: int
    """Records older than the archived state (a cached answer), ignored."""
    without_id: int
    """Records without an email id (they cannot be archived)."""
    stats: ExportStats
    """The exports' counters, merged."""

    @property
    def exact(self) -> bool:
        """Every day read ended exactly."""
        return not self.inexact_days

    def __str__(self) -> str:
        text = (
            f"{self.days_read} days read, {self.requests} requests, {self.records_seen} records seen, "
            f"{self.inserted} new, {self.changed} changed"
        )
        if self.inexact_days:
            text += f", {len(self.inexact_days)} days still moving (read again next run)"
        return text


def _sync_report(d: Dict[str, Any]) -> SyncReport:
    return SyncReport(**d)


class HistoryEntry(NamedTuple):
    """One state an archived email was seen in (a ``status_history`` row)."""

    status: Optional[str]
    """The status text, as the server wrote it."""
    category: Category
    sub_status: Union[SubStatus, int, None]
    modified_time: Optional[_dt.datetime]
    """The row's ``modifiedTime`` in that state (aware), if it parsed."""
    modified_time_text: Optional[str]
    """``modified_time`` in RFC 3339, or as received when it did not parse."""
    seen_at: _dt.datetime
    """When a sync first saw the state (the server's clock, aware)."""


@dataclass(frozen=True)
class ArchivedEmail:
    """One archived email: its current record and the states it went through."""

    record: Record
    """The current state, as the online methods return it."""
    first_seen_at: _dt.datetime
    """When a sync first saw it."""
    last_seen_at: _dt.datetime
    """When a sync last saw it."""
    history: List[HistoryEntry]
    """Every state observed, oldest first: the first sighting, then each change."""


def _archived_email(t: Any) -> ArchivedEmail:
    record, first, last, history = t
    entries = [
        HistoryEntry(
            status,
            _CATEGORIES.get(category, Category.UNKNOWN),
            None if sub is None else _SUB_STATUSES.get(sub, sub),
            modified,
            modified_text,
            seen,
        )
        for status, category, sub, modified, modified_text, seen in history
    ]
    return ArchivedEmail(_record(record), first, last, entries)


class ArchiveRecords(Iterator[Record], ClosesOnExit):
    """Archived records, streamed: a reader thread reads batches from the file (with its
    own connection) while the caller works through them, so an archive of any size takes
    little memory and the GIL is never held while SQLite reads. :meth:`close` (or leaving a
    ``with`` block, or dropping the iterator) stops the reader::

        with archive.records(days=7) as records:
            for record in records:
                ...
    """

    __slots__ = ("_native",)

    def __init__(self, native: NativeArchiveRecords) -> None:
        self._native = native

    def __iter__(self) -> ArchiveRecords:
        return self

    def __next__(self) -> Record:
        return _record(next(self._native))

    def close(self) -> None:
        """Stops reading; iteration ends. Idempotent."""
        self._native.close()

    @property
    def done(self) -> bool:
        """Whether every record was handed out (or the stream failed or was closed)."""
        return self._native.done

    def __repr__(self) -> str:
        return f"<ArchiveRecords done={self.done}>"


class Archive(ClosesOnExit):
    """A local archive written by :meth:`Client.sync`, read offline: no request, no
    credentials. The methods take the filters of :meth:`Client.records` (except
    ``label_id``/``label_name``: the API's rows carry no label, so the archive has none) and
    return the same shapes, in the same order as the server pages them.

    Differences from the online methods:

    - No window means every archived day (online, a window is required).
    - Without ``api_users``, every apiUser in the archive (online: the calling apiUser). A
      sync without ``api_users`` archives the calling apiUser only, so the two agree.
    - ``days`` counts back from ``today`` (default: today at ``server_utc_offset``).

    The file must exist (:class:`ArchiveMissingError` otherwise; a typo must not report an
    empty archive). Opening it, and every read, release the GIL. Reading never waits for a
    sync writing the file: it sees the pages written so far. One ``Archive`` is one SQLite
    connection, used by one call at a time (calls from several threads take turns);
    :meth:`records` streams over a connection of its own.

    :raises ArchiveMissingError: no file at ``path``.
    :raises NotAnArchiveError: the file is not an archive (left untouched).
    :raises ArchiveVersionError: written by a newer version (left untouched).
    """

    __slots__ = ("_native",)

    def __init__(self, path: PathLike, *, server_utc_offset: UtcOffset = _SERVER_UTC_OFFSET) -> None:
        self._native = _native.NativeArchive(path, server_utc_offset=_offset(server_utc_offset))

    @property
    def path(self) -> str:
        """The archive file."""
        return os.fspath(self._native.path)

    def records(self, *, today: Optional[DateLike] = None, **filters: Unpack[QueryFilters]) -> ArchiveRecords:
        """The archived records the filters select, oldest request first (as the server pages
        them), streamed. Filters are validated now (:class:`ValidationError`)."""
        return ArchiveRecords(self._native.records(today=today, **filters))

    def history(self, address_or_id: str) -> List[ArchivedEmail]:
        """Every archived email sent to an address (matched case-insensitively), or the one
        email with that id (email ids hold a ``$``), oldest request first, each with the
        states it went through."""
        return [_archived_email(t) for t in self._native.history(address_or_id)]

    def summary(self, *, today: Optional[DateLike] = None, **filters: Unpack[QueryFilters]) -> Summary:
        """:meth:`Client.summary` over the archived records the filters select."""
        report = _native.NativeReport.summary()
        self._native.feed(report, today=today, **filters)
        return cast(Summary, report.result())

    def suppressions(
        self,
        *,
        soft_bounces: Optional[int] = None,
        today: Optional[DateLike] = None,
        **filters: Unpack[QueryFilters],
    ) -> List[Suppression]:
        """:meth:`Client.suppressions` over the archived records the filters select."""
        report = _native.NativeReport.suppressions(soft_bounces)
        self._native.feed(report, today=today, **filters)
        return _suppressions(report)

    def close(self) -> None:
        """Closes the connection (open :class:`ArchiveRecords` keep theirs). Idempotent;
        later calls raise ``RuntimeError``."""
        self._native.close()

    @property
    def closed(self) -> bool:
        return self._native.closed

    def __repr__(self) -> str:
        return f"Archive({self.path!r})"
