"""Watching emails until each is final: :meth:`Client.watch` returns a :class:`Watcher`,
:meth:`AsyncClient.watch` an :class:`AsyncWatcher`.

A thin layer over the Rust client's watch driver (the CLI's ``watch``): which ids are asked
for, how polls are spaced and when an email is final are the Rust core's."""

from __future__ import annotations

import asyncio
import datetime as _dt
import warnings
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any, AsyncIterator, Dict, Iterator, List, NamedTuple, Optional, Union

from . import _native
from ._lifecycle import AsyncClosesOnExit, ClosesOnExit
from ._models import _CATEGORIES, _SUB_STATUSES, Category, SubStatus

if TYPE_CHECKING:
    from ._native import NativeWatch, WatchTransitionTuple

__all__ = [
    "Watcher",
    "AsyncWatcher",
    "WatchTransition",
    "WatchResult",
    "WatchEnd",
    "Seconds",
    "DEFAULT_WATCH_INTERVAL",
    "MIN_WATCH_INTERVAL",
    "DEFAULT_SOFT_BOUNCE_GRACE",
    "DEFAULT_WATCH_TIMEOUT",
]

#: A duration: seconds, or a ``datetime.timedelta``.
Seconds = Union[float, _dt.timedelta]

#: The default time between polls (seconds): the server answers the same query from its cache
#: for 10 minutes, so polling sooner shows nothing new.
DEFAULT_WATCH_INTERVAL: float = _native.DEFAULT_WATCH_INTERVAL
#: The shortest interval accepted (seconds), for sandboxes and tests.
MIN_WATCH_INTERVAL: float = _native.MIN_WATCH_INTERVAL
#: The default time (seconds) a soft bounce may still turn into something else.
DEFAULT_SOFT_BOUNCE_GRACE: float = _native.DEFAULT_SOFT_BOUNCE_GRACE
#: The default deadline of a watch (seconds).
DEFAULT_WATCH_TIMEOUT: float = _native.DEFAULT_WATCH_TIMEOUT


def _seconds(value: Any) -> Any:
    """A ``timedelta`` as seconds; anything else as given (the native layer checks it)."""
    return value.total_seconds() if isinstance(value, _dt.timedelta) else value


def _sub_status(code: Optional[int]) -> Union[SubStatus, int, None]:
    return None if code is None else _SUB_STATUSES.get(code, code)


class WatchTransition(NamedTuple):
    """An email that changed state, as a poll saw it."""

    email_id: str
    recipient: Optional[str]
    """The recipient, once known."""
    from_category: Optional[Category]
    """The state before; ``None`` at the first sighting."""
    from_sub_status: Union[SubStatus, int, None]
    to_category: Category
    """The state now."""
    to_sub_status: Union[SubStatus, int, None]
    sub_status_description: Optional[str]
    """The documented English text of ``to_sub_status``."""
    changed_at: Optional[_dt.datetime]
    """When the server says it changed (``modifiedTime``, aware), if it said."""
    changed_at_text: Optional[str]
    """``changed_at`` in RFC 3339."""
    observed_at: _dt.datetime
    """When the poll that saw it started (the server's clock as this machine reads it, aware)."""
    observed_at_text: str
    """``observed_at`` in RFC 3339."""

    @property
    def is_final(self) -> bool:
        """Delivered or invalid. (A soft bounce becomes final only after the grace period.)"""
        return self.to_category in (Category.DELIVERED, Category.INVALID)

    def to_dict(self) -> Dict[str, Any]:
        """The JSON form of the CLI's ``watch --format jsonl`` lines."""
        return {
            "email_id": self.email_id,
            "recipient": self.recipient,
            "from": None if self.from_category is None else self.from_category.value,
            "to": self.to_category.value,
            "sub_status": None if self.to_sub_status is None else int(self.to_sub_status),
            "sub_status_description": self.sub_status_description,
            "changed_at": self.changed_at_text,
            "observed_at": self.observed_at_text,
        }


def _transition(t: WatchTransitionTuple) -> WatchTransition:
    email_id, recipient, before, before_sub, after, after_sub, desc, changed, changed_text, seen, seen_text = t
    return WatchTransition(
        email_id,
        recipient,
        None if before is None else _CATEGORIES.get(before, Category.UNKNOWN),
        _sub_status(before_sub),
        _CATEGORIES.get(after, Category.UNKNOWN),
        _sub_status(after_sub),
        desc,
        changed,
        changed_text,
        seen,
        seen_text,
    )


class WatchEnd(str, Enum):
    """How a watch ended."""

    ALL_DELIVERED = "all_delivered"
    """Every email was delivered."""
    FAILED = "failed"
    """At least one email failed: invalid, or a soft bounce unchanged for the grace period
    (others may have been pending at the deadline)."""
    DEADLINE_PASSED = "deadline_passed"
    """The deadline passed with emails still pending, none failed."""

    def __str__(self) -> str:
        return str(self.value)


@dataclass(frozen=True)
class WatchResult:
    """The outcome of a watch, by email id."""

    ended_by: WatchEnd
    delivered: List[str]
    invalid: List[str]
    """Permanent failures."""
    soft_bounced: List[str]
    """Soft bounces unchanged for the grace period."""
    pending: List[str]
    """Emails not final at the end (an address with no email seen adds no id)."""
    polls: int
    """Polls completed."""

    @property
    def failed(self) -> List[str]:
        """``invalid`` and ``soft_bounced``."""
        return self.invalid + self.soft_bounced

    @property
    def all_delivered(self) -> bool:
        return self.ended_by is WatchEnd.ALL_DELIVERED


def _result(native: NativeWatch) -> Optional[WatchResult]:
    r = native.result
    if r is None:
        return None
    end, delivered, invalid, soft_bounced, pending, polls = r
    return WatchResult(WatchEnd(end), delivered, invalid, soft_bounced, pending, polls)


def _notice(notices: List[str], text: str) -> None:
    notices.append(text)
    # stacklevel 3: the line that advanced the iteration.
    warnings.warn(text, UserWarning, stacklevel=3)


class Watcher(Iterator[WatchTransition], ClosesOnExit):
    """The transitions of a watch, as they are seen: iterate until every email is final or
    the deadline passes, then read :attr:`result`. Polls run as exports, with the GIL
    released, and the waits between them too (Ctrl-C is honoured within a fraction of a
    second). A failed poll is tried again at the next one; one that cannot succeed
    (authentication, quota), or three in a row, raise.

    :meth:`close` stops it at once (a poll in progress is cancelled; from another thread too),
    as does leaving a ``with`` block or dropping it::

        with client.watch(ids, timeout=1800) as watcher:
            for t in watcher:
                print(t.email_id, t.from_category, "→", t.to_category)
        print(watcher.result)
    """

    __slots__ = ("_native", "_notices")

    def __init__(self, native: NativeWatch) -> None:
        self._native = native
        self._notices: List[str] = []

    def __iter__(self) -> Watcher:
        return self

    def __next__(self) -> WatchTransition:
        while True:
            event = self._native.next_event()
            if event is None:
                raise StopIteration
            if event[0] == "transition":
                return _transition(event[1])
            if event[0] == "notice":
                _notice(self._notices, event[1])

    @property
    def result(self) -> Optional[WatchResult]:
        """How the watch ended, once the iteration is over; ``None`` before, and for a watch
        closed before its end or that raised."""
        return _result(self._native)

    @property
    def notices(self) -> List[str]:
        """Warnings given so far (each also issued as a ``UserWarning``): an interval below the
        server's 10-minute cache against a host that is not loopback."""
        return list(self._notices)

    def close(self) -> None:
        """Stops the watch without waiting (a ``next()`` blocked in another thread returns,
        ending the iteration). Calling it again does nothing."""
        self._native.cancel()

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._native.closed

    def __repr__(self) -> str:
        return f"<Watcher closed={self.closed} result={self.result!r}>"


class AsyncWatcher(AsyncIterator[WatchTransition], AsyncClosesOnExit):
    """``async for`` over a watch: each step runs in a worker thread, so the event loop keeps
    running. :attr:`result` and :attr:`notices` as for :class:`Watcher`.

    :meth:`aclose` (or leaving ``async with``, or cancelling the task awaiting it) stops the
    watch at once::

        async with aclient.watch(ids, interval=600) as watcher:
            async for t in watcher:
                ...
    """

    __slots__ = ("_native", "_notices")

    def __init__(self, native: NativeWatch) -> None:
        self._native = native
        self._notices: List[str] = []

    def __aiter__(self) -> AsyncWatcher:
        return self

    async def __anext__(self) -> WatchTransition:
        while True:
            try:
                event = await asyncio.to_thread(self._native.next_event)
            except asyncio.CancelledError:
                # The worker thread is still waiting or polling: stop it.
                self._native.cancel()
                raise
            if event is None:
                raise StopAsyncIteration
            if event[0] == "transition":
                return _transition(event[1])
            if event[0] == "notice":
                _notice(self._notices, event[1])

    @property
    def result(self) -> Optional[WatchResult]:
        """See :attr:`Watcher.result`."""
        return _result(self._native)

    @property
    def notices(self) -> List[str]:
        """See :attr:`Watcher.notices`."""
        return list(self._notices)

    async def aclose(self) -> None:
        """Stops the watch, as :meth:`Watcher.close` (it never blocks the loop)."""
        self._native.cancel()

    @property
    def closed(self) -> bool:
        """Whether :meth:`aclose` was called."""
        return self._native.closed

    def __repr__(self) -> str:
        return f"<AsyncWatcher closed={self.closed} result={self.result!r}>"
