"""Closing exports: close(), context managers, garbage collection, a bad User-Agent."""

from __future__ import annotations

import asyncio
import gc
import threading
import time
from typing import Any, Dict, Iterator, List

import pytest

import sendcloud_status as sc
from conftest import Sandbox, TODAY

# Every request retried fast for a long time: without a cancel, an export
# against a sandbox failing every request would keep sending for minutes.
RETRY_FOREVER: Dict[str, Any] = dict(
    max_retries=100, retry_base_delay=0.005, retry_max_delay=0.02, retry_deadline=600.0
)
# One request per 0.5 s: after the first page, an open export's read-ahead
# thread waits on the client's rate limit, then sends the next request.
PACED: Dict[str, Any] = dict(rate_limit_per_minute=120, parallel=2)


@pytest.fixture()
def sb(faulty: Sandbox) -> Iterator[Sandbox]:
    """The module's sandbox with an empty log; faults reset afterwards."""
    faulty.clear()
    yield faulty
    faulty.faults()


def request_count(sb: Sandbox) -> int:
    return len(sb.requests())


def growing(sb: Sandbox) -> bool:
    """Whether requests are being sent (more after a short wait)."""
    before = request_count(sb)
    time.sleep(0.15)
    return request_count(sb) > before


def no_request_for(sb: Sandbox, seconds: float = 1.2) -> None:
    """No request in `seconds`: over two intervals of the PACED rate."""
    before = request_count(sb)
    time.sleep(seconds)
    assert request_count(sb) == before, "a request after the export was closed"


def settled(sb: Sandbox, timeout: float = 5.0) -> None:
    """Requests stop (none for 0.3 s, then none for 0.3 s more), failing after
    `timeout` seconds of growth. For exports retrying as fast as they can: a
    request being sent when they were closed may still land."""
    deadline = time.monotonic() + timeout
    last = request_count(sb)
    while True:
        time.sleep(0.3)
        now = request_count(sb)
        if now == last:
            break
        assert time.monotonic() < deadline, "requests kept coming after the export was closed"
        last = now
    no_request_for(sb, 0.3)


@pytest.mark.parametrize("ua", ["app/1.0\nX-Injected: 1", "app/1.0\r\n", "", "nul\x00", " padded "])
def test_bad_user_agent_is_a_validation_error_at_construction(sandbox: Sandbox, ua: str) -> None:
    for cls in (sc.Client, sc.AsyncClient):
        with pytest.raises(sc.ValidationError) as e:
            cls("u", "k", base_url=sandbox.base_url, user_agent=ua, parallel=2)
        assert e.value.field == "user_agent"
        assert isinstance(e.value, ValueError)
    # The process stays healthy: a good client still exports in parallel.
    c = sandbox.client(user_agent="ops-report/2.1 (+https://example.com)", parallel=2)
    assert [r.email_id for r in c.records(days=1, today=TODAY)] == sandbox.truth(days=1)


def test_close_keeps_the_cursor_and_ends_iteration(sandbox: Sandbox, client: sc.Client) -> None:
    records = client.records(days=2, page_size=50, today=TODAY)
    head = [next(records).email_id for _ in range(70)]
    cursor = records.cursor
    assert not records.closed
    records.close()
    records.close()  # idempotent
    assert records.closed and records.cursor == cursor
    with pytest.raises(StopIteration):
        next(records)
    rest = [r.email_id for r in client.records(days=2, page_size=50, cursor=cursor)]
    assert head + rest == sandbox.truth(days=2)


def test_an_open_export_keeps_reading_ahead(sb: Sandbox) -> None:
    # The control for the tests below: left open, it sends more.
    records = sb.client(**PACED).records(days=5, page_size=10, today=TODAY)
    next(records)
    before = request_count(sb)
    time.sleep(1.2)
    assert request_count(sb) > before
    records.close()


def test_close_stops_reading_ahead(sb: Sandbox) -> None:
    records = sb.client(**PACED).records(days=5, page_size=10, today=TODAY)
    next(records)
    records.close()
    no_request_for(sb)


def test_with_block_closes(sb: Sandbox) -> None:
    with sb.client(**PACED).records(days=5, page_size=10, today=TODAY) as records:
        next(records)
    assert records.closed
    no_request_for(sb)
    with pytest.raises(StopIteration):
        next(records)


def test_garbage_collection_cancels_an_unfinished_iterator(sb: Sandbox) -> None:
    records = sb.client(**PACED).records(days=5, page_size=10, today=TODAY)
    next(records)
    del records
    gc.collect()
    no_request_for(sb)


def test_close_from_another_thread_ends_a_blocked_iteration(sb: Sandbox) -> None:
    sb.faults(http_502=1.0, seed=2)
    records = sb.client(parallel=2, **RETRY_FOREVER).records(days=5, page_size=10, today=TODAY)
    got: List[Any] = []
    worker = threading.Thread(target=lambda: got.extend(records))
    worker.start()
    assert growing(sb)  # the iteration is stuck retrying
    records.close()
    worker.join(timeout=5)
    assert not worker.is_alive(), "the iteration did not end after close()"
    assert got == []
    settled(sb)


def test_async_with_closes(sb: Sandbox) -> None:
    async def main() -> sc.AsyncRecords:
        async with sb.async_client(**PACED).records(days=5, page_size=10, today=TODAY) as records:
            async for _ in records:
                break
        with pytest.raises(StopAsyncIteration):
            await records.__anext__()
        return records

    assert asyncio.run(main()).closed
    no_request_for(sb)


def test_garbage_collection_cancels_an_unfinished_async_iterator(sb: Sandbox) -> None:
    async def main() -> None:
        records = sb.async_client(**PACED).records(days=5, page_size=10, today=TODAY)
        await records.__anext__()
        del records
        gc.collect()

    asyncio.run(main())
    no_request_for(sb)


def test_aclose_ends_a_fetch_running_in_a_worker_thread(sb: Sandbox) -> None:
    sb.faults(http_502=1.0, seed=5)
    aclient = sb.async_client(parallel=2, **RETRY_FOREVER)

    async def main() -> None:
        records = aclient.records(days=5, page_size=10, today=TODAY)
        pending = asyncio.ensure_future(records.__anext__())
        assert await asyncio.to_thread(growing, sb)
        await records.aclose()
        with pytest.raises(StopAsyncIteration):
            await asyncio.wait_for(pending, 5)

    asyncio.run(main())
    settled(sb)


def test_a_cancelled_summary_stops_its_export(sb: Sandbox) -> None:
    sb.faults(http_502=1.0, seed=6)
    aclient = sb.async_client(parallel=2, **RETRY_FOREVER)

    async def main() -> None:
        task = asyncio.ensure_future(aclient.summary(days=5, today=TODAY))
        assert await asyncio.to_thread(growing, sb)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    settled(sb)
