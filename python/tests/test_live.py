"""Exports against a live sandbox account over loopback HTTP: "sending" rows settling while a
``status="sending"`` export pages them, mail arriving during a plain export, and the server's
midnight passing mid-export, in both cache models and both result orders (the Python side of
``crates/sendcloud-status/tests/live.rs``).

The account changes in real time, so how much moves differs from run to run; every assertion
holds whatever moved: each row that was in the window at the start and did not change is
emitted exactly once, nothing twice, nothing from outside the window, and the export says it
is exact. The client plans on the sandbox's clock (``server_now=`` its ``now``).
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Iterator, List, Optional, Set, Tuple

import pytest

import sendcloud_status as sc
from conftest import Sandbox

START = "2024-05-20 15:00:00"


def live_sandbox(order: str = "oldest-first", cache: str = "snapshot") -> Sandbox:
    """60,000 records over three days (about 600 "sending" for the demo apiUser), answers
    slowed a little so that the account moves while it is paged. Live switches off."""
    return Sandbox(
        "--now", START,
        "--records", "60000",
        "--days-of-data", "3",
        "--latency-ms", "2",
        "--rate-limit", "0",
        "--order", order,
        "--cache", cache,
    )  # fmt: skip


def export(
    sb: Sandbox, client: sc.Client, each: Optional[Callable[[int], None]] = None, **options: Any
) -> Tuple[List[str], sc.ExportStats]:
    """Runs the export on the sandbox's clock; calls ``each`` with the records taken so far."""
    records = client.records(server_now=sb.now(), **options)
    got: List[str] = []
    for r in records:
        assert r.email_id is not None
        got.append(r.email_id)
        if each is not None:
            each(len(got))
    return got, records.stats


def check(got: List[str], truth: List[str], changed: Set[str], possible: Set[str], stats: sc.ExportStats) -> None:
    """Every id once; every unchanged row of ``truth`` present; nothing outside ``possible``."""
    seen: Set[str] = set()
    for email_id in got:
        assert email_id not in seen, f"{email_id} emitted twice; {stats}"
        assert email_id in possible, f"{email_id} is not in the window; {stats}"
        seen.add(email_id)
    assert stats["unstable_units"] == [], stats
    lost = [i for i in truth if i not in changed and i not in seen]
    assert not lost, f"{len(lost)} unchanged rows lost, e.g. {lost[:3]}; {stats}"


@pytest.fixture()
def sandboxes() -> Iterator[Callable[..., Sandbox]]:
    started: List[Sandbox] = []

    def start(**kwargs: str) -> Sandbox:
        started.append(live_sandbox(**kwargs))
        return started[-1]

    yield start
    for sb in started:
        sb.close()


@pytest.mark.parametrize("parallel", [1, 4])
@pytest.mark.parametrize("order", ["oldest-first", "newest-first"])
@pytest.mark.parametrize("cache", ["per-request", "snapshot"])
def test_status_sending_under_settling_loses_no_unchanged_row(
    sandboxes: Callable[..., Sandbox], cache: str, order: str, parallel: int
) -> None:
    sb = sandboxes(order=order, cache=cache)
    truth = sb.truth(days=3, status=18)
    assert len(truth) > 400, f"enough sending rows to page: {len(truth)}"
    settings: Dict[str, Any] = dict(order=order, cache=cache, settle_per_second=400)
    sb.live(**settings)

    def halfway(n: int) -> None:
        # Setting the live account again drops every cached snapshot: under the snapshot
        # cache, the pages after this read a result that moved.
        if n == len(truth) // 2:
            sb.live(**settings)

    got, stats = export(sb, sb.client(), halfway, days=3, status="sending", page_size=20, parallel=parallel)
    changed = {c["email_id"] for c in sb.changes()}
    assert changed, "rows settled during the export"
    check(got, truth, changed, set(truth), stats)
    if cache == "per-request":
        # Every page read the live rows: the result shrank under the paginator, and the
        # export noticed and read the window again.
        assert stats["units_reread"] >= 1 and stats["passes"] >= 2 and stats["total_drift"] > 0, stats


def test_nothing_moving_leaves_the_live_counters_at_zero(sandboxes: Callable[..., Sandbox]) -> None:
    sb = sandboxes(cache="per-request")
    truth = sb.truth(days=3, status=18)
    got, stats = export(sb, sb.client(), days=3, status="sending", page_size=20)
    assert got == truth
    moved = {k: stats[k] for k in ("units_reread", "total_drift", "short_pages", "empty_pages")}
    assert moved == {"units_reread": 0, "total_drift": 0, "short_pages": 0, "empty_pages": 0}, stats
    assert stats["passes"] == 1 and stats["unstable_units"] == [] and stats["duplicates"] == 0, stats
    assert sb.changes() == []


def test_plain_export_under_arrivals_loses_nothing_and_repeats_nothing(sandboxes: Callable[..., Sandbox]) -> None:
    sb = sandboxes(order="newest-first", cache="per-request")
    truth = sb.truth(days=1)
    sb.live(order="newest-first", cache="per-request", arrivals_per_second=300)
    got, stats = export(sb, sb.client(parallel=2), days=1, page_size=50)
    arrived = {c["email_id"] for c in sb.changes()}
    assert arrived, "mail arrived during the export"
    # Nothing that was there changed: every row of the start is due.
    check(got, truth, set(), set(truth) | arrived, stats)
    # New mail ahead of the paginator (newest first) pushed the rows along: read again.
    assert stats["units_reread"] >= 1, stats


@pytest.mark.parametrize("parallel", [1, 3])
def test_an_export_across_the_servers_midnight_returns_the_window_of_its_start(
    sandboxes: Callable[..., Sandbox], parallel: int
) -> None:
    sb = sandboxes()
    truth = sb.truth(days=3)
    sb.live(day_advance_after_requests=5)  # the server's day moves on after the fifth request
    got, stats = export(sb, sb.client(parallel=parallel), days=3, page_size=100)
    assert sb.info()["today"] == "2024-05-21", "midnight passed during the export"
    assert got == truth, "exactly the window as it stood at the start"
    assert stats["units_reread"] == 0 and stats["unstable_units"] == [], f"nothing moved: no re-read; {stats}"
    check(got, truth, set(), set(truth), stats)
