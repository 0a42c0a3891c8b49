"""The GIL is released during I/O, asyncio never blocks, Ctrl-C interrupts exports."""

from __future__ import annotations

import asyncio
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Iterator, List

import pytest

import sendcloud_status as sc
from conftest import Sandbox, TODAY

LATENCY = 0.8


class Spinner:
    """A thread that counts as fast as the GIL lets it."""

    def __init__(self) -> None:
        self.count = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._spin, daemon=True)

    def _spin(self) -> None:
        while not self._stop.is_set():
            self.count += 1

    def __enter__(self) -> Spinner:
        self._thread.start()
        time.sleep(0.05)
        return self

    def rate(self) -> float:
        """Increments per second while the main thread sleeps (GIL free): the baseline."""
        before, t0 = self.count, time.monotonic()
        time.sleep(0.3)
        return (self.count - before) / (time.monotonic() - t0)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def test_gil_is_released_while_a_page_is_fetched(slow: Sandbox) -> None:
    client = slow.client()
    with Spinner() as spinner:
        baseline = spinner.rate()
        before = spinner.count
        t0 = time.monotonic()
        page = client.page(days=1, limit=5)
        elapsed = time.monotonic() - t0
        during = spinner.count - before
    assert len(page) == 5
    assert elapsed >= LATENCY * 0.9
    # Held GIL: the spinner is frozen for the whole wait (a handful of increments
    # at most). Released: it counts at about its baseline rate. Compared with the
    # rate measured on this machine now, not an absolute count, so a loaded CI
    # machine slows both alike.
    assert during > 0.2 * baseline * elapsed, (during, baseline, elapsed)


def test_gil_is_released_during_exports(slow: Sandbox) -> None:
    client = slow.client()
    with Spinner() as spinner:
        baseline = spinner.rate()
        before = spinner.count
        t0 = time.monotonic()
        got = [r.email_id for r in client.records(days=1, page_size=50, today=TODAY)]
        elapsed = time.monotonic() - t0
        during = spinner.count - before
    assert got == slow.truth(days=1)
    assert elapsed >= LATENCY * 0.9
    assert during > 0.2 * baseline * elapsed, (during, baseline, elapsed)


def arrivals_overlap(sandbox: Sandbox, n: int) -> None:
    """The last `n` requests all reached the server while the first of them was still
    being answered (each answer takes LATENCY): they were in flight together, not
    serialized behind the GIL or the event loop. Read from the server's log, so a slow
    machine does not make it flaky."""
    received = sorted(r["received_ms"] for r in sandbox.requests()[-n:])
    assert len(received) == n
    assert received[-1] - received[0] < LATENCY * 1000, received


def test_threads_share_a_client(slow: Sandbox) -> None:
    client = slow.client()
    slow.clear()
    with ThreadPoolExecutor(4) as pool:
        pages = list(pool.map(lambda s: client.page(days=1, start=s, limit=5), [0, 5, 10, 15]))
    assert [r.email_id for p in pages for r in p] == slow.truth(days=1)[:20]
    arrivals_overlap(slow, 4)


def test_one_export_advanced_from_two_threads(slow: Sandbox) -> None:
    records = slow.client().records(days=1, page_size=5, today=TODAY)
    worker = threading.Thread(target=lambda: next(records))
    worker.start()
    time.sleep(0.2)  # the worker is now waiting for the first page, GIL released
    with pytest.raises(RuntimeError, match="already fetching"):
        next(records)
    worker.join()
    assert next(records).email_id == slow.truth(days=1)[1]


def test_asyncio_loop_keeps_ticking(slow: Sandbox) -> None:
    aclient = slow.async_client()

    async def main() -> List[int]:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        task = asyncio.create_task(ticker())
        await asyncio.sleep(0.02)
        start = ticks
        page = await aclient.page(days=1, limit=5)
        during_page = ticks - start
        start = ticks
        ids = [r.email_id async for r in aclient.records(days=1, page_size=50, today=TODAY)]
        during_export = ticks - start
        task.cancel()
        assert len(page) == 5 and ids == slow.truth(days=1)
        return [during_page, during_export]

    during_page, during_export = asyncio.run(main())
    # 800 ms at one tick per 10 ms: ~80 ticks if the loop never blocks; a loop
    # blocked for the whole call ticks once at most. A few ticks tell them apart
    # however loaded the machine is.
    assert during_page >= 5, during_page
    assert during_export >= 5, during_export


def test_async_requests_overlap(slow: Sandbox) -> None:
    aclient = slow.async_client()

    async def main() -> None:
        pages = await asyncio.gather(*(aclient.page(days=1, start=s, limit=5) for s in (0, 5, 10)))
        assert [r.email_id for p in pages for r in p] == slow.truth(days=1)[:15]

    slow.clear()
    asyncio.run(main())
    arrivals_overlap(slow, 3)


@pytest.fixture()
def sigint_default() -> Iterator[None]:
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


@pytest.mark.skipif(not hasattr(signal, "pthread_kill"), reason="needs pthread_kill")
def test_ctrl_c_interrupts_an_export_between_pages(sigint_default: None) -> None:
    sb = Sandbox("--rate-limit", "0", "--records", "8000", "--latency-ms", "100")  # 54 rows today
    try:
        client = sb.client(parallel=1)  # one page in flight at a time: the interrupt lands between pages
        records = client.records(days=1, page_size=4, today=TODAY)  # ~13 pages: ~1.3 s uninterrupted
        main = threading.get_ident()
        timer = threading.Timer(0.5, signal.pthread_kill, (main, signal.SIGINT))
        got: List[str] = []
        timer.start()
        with pytest.raises(KeyboardInterrupt):
            for r in records:
                got.append(r.email_id or "")
        timer.join()
        # It ends when the page in flight ends, not the export: pages were left unread.
        assert len(got) < len(sb.truth(days=1)) - 4
        # Nothing is lost: the interrupted page stays buffered, the cursor resumes at it.
        rest = [r.email_id for r in client.records(days=1, page_size=4, cursor=records.cursor)]
        assert got + rest == sb.truth(days=1)
    finally:
        sb.close()
