"""Exports: equal to the ground truth, no duplicates, max_records, cursors, reports."""

from __future__ import annotations

import datetime as dt
import itertools
import time
from collections import Counter
from typing import Any, Iterator, List, Optional, Tuple, Union

import pytest

import sendcloud_status as sc
from conftest import KEY, Sandbox, TODAY, USER


def ids(records: sc.Records) -> List[str]:
    return [r.email_id for r in records if r.email_id is not None]


@pytest.mark.parametrize("parallel", [1, 4])
def test_full_export_equals_ground_truth(sandbox: Sandbox, client: sc.Client, parallel: int) -> None:
    truth = sandbox.truth(days=30)
    assert len(truth) > 1500
    records = client.records(days=30, parallel=parallel, today=TODAY)
    got = ids(records)
    assert got == truth
    assert len(set(got)) == len(got)
    assert records.cursor is None
    stats = records.stats
    assert stats["records"] == len(truth) and stats["duplicates"] == 0 and stats["failures"] == 0


def test_small_pages(sandbox: Sandbox, client: sc.Client) -> None:
    records = client.records(days=2, page_size=7, today=TODAY)
    assert ids(records) == sandbox.truth(days=2)
    assert records.stats["pages"] >= len(sandbox.truth(days=2)) // 7


def test_client_parallel_setting(sandbox: Sandbox) -> None:
    c = sandbox.client(parallel=3)
    assert c.parallel == 3
    assert ids(c.records(days=5, page_size=50, today=TODAY)) == sandbox.truth(days=5)
    one = sandbox.client(parallel=1)
    assert one.parallel == 1
    assert ids(one.records(days=5, page_size=50, today=TODAY)) == sandbox.truth(days=5)
    # Per export: "auto" or a number, over the client's setting.
    assert ids(one.records(days=5, page_size=50, parallel="auto", today=TODAY)) == sandbox.truth(days=5)
    assert ids(c.records(days=5, page_size=50, parallel=1, today=TODAY)) == sandbox.truth(days=5)


@pytest.fixture(scope="module")
def latency_100ms() -> Iterator[Sandbox]:
    sb = Sandbox("--rate-limit", "0", "--records", "3000", "--latency-ms", "100")
    yield sb
    sb.close()


@pytest.mark.parametrize("rate_limit", [3000, None])
def test_the_default_keeps_several_requests_in_flight(latency_100ms: Sandbox, rate_limit: Optional[int]) -> None:
    # The same export, one request at a time and with the defaults: at 100 ms a request,
    # ~25 pages take 2.5 s or more one by one; "auto" keeps several in flight at once
    # (a fixed ratio, whatever the machine's speed: both runs wait on the same latency).
    sb = latency_100ms
    truth = sb.truth(days=3)
    client = sc.Client(USER, KEY, base_url=sb.base_url, rate_limit_per_minute=rate_limit)
    assert client.parallel == "auto"

    def timed(**options: Any) -> Tuple[float, sc.ExportStats]:
        t0 = time.monotonic()
        records = client.records(days=3, page_size=6, today=TODAY, **options)
        assert ids(records) == truth
        return time.monotonic() - t0, records.stats

    one, one_stats = timed(parallel=1)
    auto, auto_stats = timed()
    assert one_stats["requests"] >= 20 and auto_stats["requests"] == one_stats["requests"]
    assert auto < one * 0.6, f"auto {auto:.2f} s vs one at a time {one:.2f} s"


@pytest.mark.parametrize("n", [1, 99, 100, 101, 250])  # 0 is refused: see test_errors
def test_max_records(sandbox: Sandbox, client: sc.Client, n: int) -> None:
    records = client.records(days=7, max_records=n, today=TODAY)
    assert ids(records) == sandbox.truth(days=7)[:n]
    assert records.cursor is not None  # more records remain


def test_max_records_above_total(sandbox: Sandbox, client: sc.Client) -> None:
    truth = sandbox.truth(days=1)
    records = client.records(days=1, max_records=len(truth) + 10, today=TODAY)
    assert ids(records) == truth


@pytest.mark.parametrize("n", [1, 137, 200, 333])
def test_resume_with_cursor_after_max_records(sandbox: Sandbox, client: sc.Client, n: int) -> None:
    truth = sandbox.truth(days=7)
    first = client.records(days=7, max_records=n, today=TODAY)
    head = ids(first)
    cursor = first.cursor
    assert isinstance(cursor, str) and cursor.startswith("sc2.")
    # The cursor carries the export's dates: no `today` needed to resume on them.
    rest = client.records(days=7, cursor=cursor)
    assert head + ids(rest) == truth
    assert rest.cursor is None


@pytest.mark.parametrize("stop", [1, 42, 100, 155])
def test_resume_mid_page_after_break(sandbox: Sandbox, client: sc.Client, stop: int) -> None:
    truth = sandbox.truth(days=4)
    records = client.records(days=4, page_size=50, today=TODAY)
    head = [r.email_id for r in itertools.islice(records, stop)]
    cursor = records.cursor
    assert cursor is not None
    # The cursor resumes at the next record, even in another client.
    rest = ids(sandbox.client().records(days=4, page_size=50, cursor=cursor))
    assert head + rest == truth


def test_cursor_chain_of_small_exports(sandbox: Sandbox, client: sc.Client) -> None:
    truth = sandbox.truth(days=5)
    got: List[str] = []
    cursor = None
    for _ in range(100):
        part = client.records(days=5, max_records=120, cursor=cursor, today=TODAY)  # the cursor's dates win
        got += ids(part)
        cursor = part.cursor
        if cursor is None:
            break
    assert got == truth


def test_cursor_before_iteration_resumes_at_the_start(sandbox: Sandbox, client: sc.Client) -> None:
    cursor = client.records(days=2, today=TODAY).cursor
    assert cursor is not None
    assert ids(client.records(days=2, cursor=cursor)) == sandbox.truth(days=2)


def test_cursor_of_another_query_is_refused(client: sc.Client) -> None:
    cursor = client.records(days=2, today=TODAY).cursor
    with pytest.raises(sc.ValidationError) as e:
        client.records(days=3, cursor=cursor)
    assert e.value.field == "cursor"


@pytest.mark.parametrize("bad", ["garbage", "", "sc1.2024.1.2.3.x"])
def test_malformed_cursor(client: sc.Client, bad: str) -> None:
    with pytest.raises(sc.ValidationError) as e:
        client.records(days=2, cursor=bad)
    assert e.value.field == "cursor"


def test_records_is_lazy_and_reads_one_page_ahead(sandbox: Sandbox, client: sc.Client) -> None:
    sandbox.clear()
    records = client.records(days=3, page_size=20, parallel=1, today=TODAY)
    assert sandbox.requests() == []
    next(records)
    # The page handed out, and the next one fetched while Python works on it:
    # never more than one page ahead.
    time.sleep(0.5)
    assert len(sandbox.requests()) == 2
    assert iter(records) is records


@pytest.mark.parametrize(
    "server_now",
    [
        "2024-05-20 12:00:00",
        " 2024-05-20T12:00:00.000 ",
        dt.datetime(2024, 5, 20, 12, 0, 0),  # naive: the server's wall time
        dt.datetime(2024, 5, 20, 4, 0, 0, tzinfo=dt.timezone.utc),  # aware: converted to UTC+8
    ],
)
def test_server_now_plans_the_export_on_that_server_time(
    sandbox: Sandbox, client: sc.Client, server_now: Union[str, dt.datetime]
) -> None:
    records = client.records(days=2, page_size=50, server_now=server_now)
    assert ids(records) == sandbox.truth(days=2)
    # The sandbox's clock started at 12:00:00 and nothing arrived since: no row is newer
    # than the start, so nothing counts as a change.
    stats = records.stats
    assert (stats["passes"], stats["units_reread"], stats["total_drift"], stats["unstable_units"]) == (1, 0, 0, [])


def test_rows_newer_than_server_now_count_as_changes(sandbox: Sandbox, client: sc.Client) -> None:
    # 17:00 UTC is 01:00 on 2024-05-20 at UTC+8: `days=2` is 05-19..05-20, and the rows sent
    # between 01:00 and 12:00 look like mail that arrived during the export, so the window
    # is read again — and the output is the same, since nothing moved.
    one_am = dt.datetime(2024, 5, 19, 17, 0, tzinfo=dt.timezone.utc)
    records = client.records(days=2, page_size=50, server_now=one_am)
    assert ids(records) == sandbox.truth(days=2)
    stats = records.stats
    assert (stats["passes"], stats["units_reread"], stats["unstable_units"]) == (2, 1, [])
    assert stats["duplicates"] >= stats["records"]  # the re-read found every row again (overlaps too)


def test_page(sandbox: Sandbox, client: sc.Client, today: str) -> None:
    truth = sandbox.truth(days=1)
    page = client.page(days=1, limit=5)
    assert page.total == len(truth)
    assert len(page) == 5 and [r.email_id for r in page] == truth[:5]
    assert page.window is None  # days sent as is
    page = client.page(start_date=today, end_date=today, start=5, limit=3)
    assert [r.email_id for r in page.records] == truth[5:8]


def test_page_refuses_windows_longer_than_the_endpoint(client: sc.Client) -> None:
    with pytest.raises(sc.ValidationError) as e:
        client.page(days=4)
    assert e.value.field == "days"


def test_record_fields(client: sc.Client) -> None:
    records = list(client.records(days=30, status="invalid", max_records=50, today=TODAY))
    r = records[0]
    assert r.category is sc.Category.INVALID and r.is_hard_bounce and r.should_suppress
    assert isinstance(r.sub_status, sc.SubStatus) and 401 <= r.sub_status <= 409
    assert r.sub_status_description
    assert r.request_time is not None and r.request_time.utcoffset() is not None
    assert r.request_time.utcoffset().total_seconds() == 8 * 3600  # type: ignore[union-attr]
    d = r.to_dict()
    assert d["category"] == "invalid" and d["sub_status"] == int(r.sub_status)
    assert d["request_time"] == r.request_time.isoformat()
    assert set(d) >= {"email_id", "status", "api_user", "recipient", "modified_time", "send_log"}
    delivered = next(iter(client.records(days=3, status="delivered", today=TODAY)))
    assert delivered.sub_status is None and not delivered.is_hard_bounce and not delivered.is_soft_bounce


def test_summary_matches_truth(sandbox: Sandbox, client: sc.Client) -> None:
    summary = client.summary(days=7, today=TODAY)
    assert summary["total"] == len(sandbox.truth(days=7))
    counts = {c["category"]: c["count"] for c in summary["categories"]}
    for name, code in {"delivered": 1, "invalid": 4, "soft_bounce": 5, "sending": 18}.items():
        assert counts[name] == len(sandbox.truth(days=7, status=code))
    rate = summary["deliverability_rate"]
    assert rate is not None
    assert rate == pytest.approx(counts["delivered"] / (counts["delivered"] + counts["invalid"] + counts["soft_bounce"]))
    assert sum(s["count"] for s in summary["sub_statuses"]) == counts["invalid"] + counts["soft_bounce"]
    assert len(summary["days"]) == 7 and sum(d["total"] for d in summary["days"]) == summary["total"]
    assert summary["sub_statuses"][0]["class"] in ("permanent", "temporary")


def test_suppressions(sandbox: Sandbox, client: sc.Client) -> None:
    hard = client.suppressions(days=12, today=TODAY)
    addresses = [s.address for s in hard]
    assert hard and len(addresses) == len({a.lower() for a in addresses})
    assert addresses == sorted(addresses, key=str.lower)
    assert all(s.reason == "permanent" for s in hard)
    invalid = {r.recipient.lower() for r in client.records(days=12, status="invalid", today=TODAY) if r.recipient}
    assert {a.lower() for a in addresses} >= invalid

    both = client.suppressions(days=12, soft_bounces=1, today=TODAY)
    reasons = Counter(s.reason for s in both)
    assert reasons["permanent"] == len(hard) and reasons["repeated_soft_bounces"] > 0
    with pytest.raises(sc.ValidationError) as e:
        client.suppressions(days=1, soft_bounces=0)
    assert e.value.field == "soft_bounces"
