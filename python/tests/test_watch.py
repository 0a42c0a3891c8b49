"""``Client.watch`` and ``AsyncClient.watch`` against a live sandbox: "sending" rows settle
while the watch polls (delivered, invalid), a deadline passes with an email pending, an
address's emails are found, ``close()``, task cancellation and Ctrl-C stop a watch that is
waiting, and bad settings fail before any request (the Python side of
``crates/sendcloud-status/tests/watch.rs``).

How a "sending" row ends is known in advance: the sandbox draws its settles from a seed in a
fixed order, so a twin sandbox that settles everything shows each outcome."""

from __future__ import annotations

import _thread
import asyncio
import datetime as dt
import socket
import threading
import time
import warnings
from collections import Counter
from typing import Dict, Iterator, List, Tuple

import pytest

import sendcloud_status as sc
from conftest import TODAY, Sandbox

ACCOUNT = ("--records", "2000", "--seed", "5", "--rate-limit", "0", "--cache", "per-request")
SETTLE = dict(settle_per_second=2000, cache="per-request")


@pytest.fixture(scope="module")
def outcomes() -> Dict[str, int]:
    """Each "sending" row's status code once it settles, by email id."""
    twin = Sandbox(*ACCOUNT, "--settle-per-second", "2000")
    try:
        seen = 0
        while True:
            time.sleep(0.1)
            changes = twin.changes()
            if changes and len(changes) == seen:
                return {c["email_id"]: c["status_code"] for c in changes}
            seen = len(changes)
    finally:
        twin.close()


@pytest.fixture()
def account() -> Iterator[Sandbox]:
    """A fresh account, nothing settling yet."""
    sb = Sandbox(*ACCOUNT)
    yield sb
    sb.close()


def sending_id(sb: Sandbox, outcomes: Dict[str, int], code: int) -> str:
    """A "sending" email of the demo apiUser that settles to ``code``."""
    return next(i for i in sb.truth(days=30, status=18) if outcomes.get(i) == code)


Move = Tuple[object, object]


def test_a_sending_email_that_gets_delivered(account: Sandbox, outcomes: Dict[str, int]) -> None:
    email_id = sending_id(account, outcomes, 1)
    seen: List[sc.WatchTransition] = []
    with account.client().watch(email_id, interval=1, timeout=60, jitter_seed=3) as watcher:
        for t in watcher:
            seen.append(t)
            if t.to_category is sc.Category.SENDING:
                account.live(**SETTLE)
    moves: List[Move] = [(t.from_category, t.to_category) for t in seen]
    assert moves == [(None, sc.Category.SENDING), (sc.Category.SENDING, sc.Category.DELIVERED)]
    assert all(t.email_id == email_id and t.recipient for t in seen)
    last = seen[-1]
    assert last.is_final and last.observed_at.utcoffset() == dt.timedelta(hours=8)
    assert last.changed_at is not None and last.changed_at.isoformat() == last.changed_at_text
    assert list(last.to_dict()) == [
        "email_id", "recipient", "from", "to", "sub_status", "sub_status_description", "changed_at", "observed_at"
    ]  # fmt: skip
    assert (last.to_dict()["from"], last.to_dict()["to"]) == ("sending", "delivered")
    assert watcher.notices == [], "no cache warning on loopback"
    result = watcher.result
    assert result is not None and result.all_delivered and result.ended_by is sc.WatchEnd.ALL_DELIVERED
    assert (result.delivered, result.failed, result.pending) == ([email_id], [], [])
    assert result.polls == len(account.requests())


def test_an_email_that_turns_invalid_async(account: Sandbox, outcomes: Dict[str, int]) -> None:
    email_id = sending_id(account, outcomes, 4)

    async def main() -> Tuple[List[sc.WatchTransition], sc.AsyncWatcher]:
        seen = []
        async with account.async_client().watch([email_id], interval=dt.timedelta(seconds=1), timeout=60) as w:
            async for t in w:
                seen.append(t)
                if t.to_category is sc.Category.SENDING:
                    await asyncio.to_thread(account.live, **SETTLE)
        return seen, w

    seen, watcher = asyncio.run(main())
    assert [(t.from_category, t.to_category) for t in seen] == [
        (None, sc.Category.SENDING),
        (sc.Category.SENDING, sc.Category.INVALID),
    ]
    sub = seen[-1].to_sub_status
    assert isinstance(sub, sc.SubStatus) and 401 <= sub <= 409, seen[-1]
    assert seen[-1].sub_status_description == sub.description
    result = watcher.result
    assert result is not None and result.ended_by is sc.WatchEnd.FAILED
    assert (result.invalid, result.failed, result.delivered) == ([email_id], [email_id], [])


def test_the_deadline_ends_a_watch_with_the_email_pending(account: Sandbox) -> None:
    email_id = account.truth(days=3, status=18)[0]
    watcher = account.client().watch(email_id, interval=1, timeout=dt.timedelta(seconds=3))
    moves = [(t.from_category, t.to_category) for t in watcher]
    assert moves == [(None, sc.Category.SENDING)]
    result = watcher.result
    assert result is not None and result.ended_by is sc.WatchEnd.DEADLINE_PASSED
    assert (result.pending, result.delivered, result.failed) == ([email_id], [], [])
    assert result.polls == len(account.requests())


def test_every_email_to_an_address(account: Sandbox) -> None:
    # An address whose mail of the last 3 days (at least two emails) is all delivered.
    counts = Counter(r.recipient for r in account.client().records(days=3, today=TODAY))
    address = next(
        a
        for a, n in counts.items()
        if a and n >= 2 and account.truth(days=3, email=a, status=1) == account.truth(days=3, email=a)
    )
    expected = account.truth(days=3, email=address)
    watcher = account.client().watch(email=address, interval=1, timeout=20, today=TODAY)
    seen = list(watcher)
    assert sorted(t.email_id for t in seen) == sorted(expected)
    assert all(t.recipient == address and t.from_category is None for t in seen)
    assert all(t.to_category is sc.Category.DELIVERED for t in seen)
    result = watcher.result
    assert result is not None and result.all_delivered and sorted(result.delivered) == sorted(expected)


def test_close_stops_a_waiting_watch(account: Sandbox) -> None:
    # An hour between polls: only close() can end the wait (the deadline would, after 60 s).
    watcher = account.client().watch(account.truth(days=3, status=18)[0], interval=3600, timeout=60)
    assert next(watcher).to_category is sc.Category.SENDING
    rest: List[List[sc.WatchTransition]] = []
    waiter = threading.Thread(target=lambda: rest.append(list(watcher)))
    waiter.start()
    watcher.close()
    waiter.join(timeout=30)
    assert not waiter.is_alive() and rest == [[]], "the blocked iteration ended, empty"
    assert watcher.closed and watcher.result is None
    assert len(account.requests()) == 1, "no poll after close()"
    with pytest.raises(StopIteration):
        next(watcher)


def test_cancelling_the_task_stops_the_watch(account: Sandbox) -> None:
    aclient = account.async_client()

    async def main() -> sc.AsyncWatcher:
        w = aclient.watch(account.truth(days=3, status=18)[0], interval=3600, timeout=60)
        first = await w.__anext__()
        assert first.to_category is sc.Category.SENDING
        task = asyncio.ensure_future(w.__anext__())
        await asyncio.sleep(0)  # the task starts waiting in its worker thread
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return w

    watcher = asyncio.run(main())  # returns once the worker thread has ended
    assert watcher.closed and watcher.result is None
    assert len(account.requests()) == 1


def test_ctrl_c_interrupts_the_wait(account: Sandbox) -> None:
    # Without signal checks the wait would last until the 30 s deadline, then end quietly.
    watcher = account.client().watch(account.truth(days=3, status=18)[0], interval=3600, timeout=30)
    next(watcher)
    with pytest.raises(KeyboardInterrupt):
        threading.Timer(0.2, _thread.interrupt_main).start()
        next(watcher)
    watcher.close()
    assert len(account.requests()) == 1


def test_a_short_interval_on_a_remote_host_warns_before_any_request(monkeypatch: pytest.MonkeyPatch) -> None:
    # Every request would go to a closed loopback port (the proxy): nothing leaves the machine.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}"
    for name in ("ALL_PROXY", "HTTPS_PROXY", "HTTP_PROXY", "all_proxy", "https_proxy", "http_proxy"):
        monkeypatch.setenv(name, closed)
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    client = sc.Client("user", "key", max_retries=0)
    with client.watch("1716170000000_1_2.sc-1-inbound0$a@example.com", interval=60) as watcher:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with pytest.raises(UserWarning, match="cache for 10 minutes"):
                next(watcher)
        assert len(watcher.notices) == 1 and "every 60 s" in watcher.notices[0]


@pytest.mark.parametrize(
    "args, kwargs, field",
    [
        ((), {}, "email_ids"),
        ((None,), {"email": None}, "email_ids"),
        (([],), {}, "email_ids"),
        (("a;b",), {}, "email_ids"),
        ((["x", 7],), {}, "email_ids"),
        ((), {"email": "nope"}, "email"),
        (("x",), {"interval": 0.5}, "interval"),
        (("x",), {"interval": True}, "interval"),
        (("x",), {"interval": "60"}, "interval"),
        (("x",), {"interval": float("nan")}, "interval"),
        (("x",), {"timeout": 0}, "timeout"),
        (("x",), {"timeout": -1}, "timeout"),
        (("x",), {"timeout": 2 * 86400}, "timeout"),
        (("x",), {"soft_bounce_grace": dt.timedelta(days=2)}, "soft_bounce_grace"),
        (("x",), {"soft_bounce_grace": dt.timedelta(seconds=-1)}, "soft_bounce_grace"),
        (("x",), {"today": "2024-13-01"}, "today"),
    ],
)
def test_bad_settings_fail_before_any_request(
    sandbox: Sandbox, args: Tuple[object, ...], kwargs: Dict[str, object], field: str
) -> None:
    before = len(sandbox.requests())
    for client in (sandbox.client(), sandbox.async_client()):
        with pytest.raises(sc.ValidationError) as e:
            client.watch(*args, **kwargs)  # type: ignore[arg-type]
        assert e.value.field == field, e.value
    assert len(sandbox.requests()) == before


def test_no_deadline_and_the_defaults(sandbox: Sandbox) -> None:
    assert (sc.DEFAULT_WATCH_INTERVAL, sc.MIN_WATCH_INTERVAL) == (600.0, 1.0)
    assert (sc.DEFAULT_SOFT_BOUNCE_GRACE, sc.DEFAULT_WATCH_TIMEOUT) == (3600.0, 7200.0)
    # timeout=None (no deadline) is accepted; nothing is sent before iteration.
    before = len(sandbox.requests())
    with sandbox.client().watch("x", timeout=None) as watcher:
        assert watcher.result is None and not watcher.closed
    assert watcher.closed and len(sandbox.requests()) == before
