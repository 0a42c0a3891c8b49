"""AsyncClient: the same results as Client, as coroutines and async iterators."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any, Awaitable, List, TypeVar

import pytest

import sendcloud_status as sc
from conftest import Sandbox, TODAY

T = TypeVar("T")


def run(aw: Awaitable[T]) -> T:
    async def main() -> T:
        return await aw

    return asyncio.run(main())


async def collect(records: sc.AsyncRecords) -> List[sc.Record]:
    return [r async for r in records]


def test_async_page_equals_sync(sandbox: Sandbox, client: sc.Client) -> None:
    aclient = sandbox.async_client()
    assert run(aclient.page(days=2, start=3, limit=7)) == client.page(days=2, start=3, limit=7)


@pytest.mark.parametrize("parallel", [None, 3])
def test_async_records_equal_truth(sandbox: Sandbox, parallel: Any) -> None:
    aclient = sandbox.async_client()
    records = aclient.records(days=7, page_size=60, parallel=parallel, today=TODAY)
    got = run(collect(records))
    assert [r.email_id for r in got] == sandbox.truth(days=7)
    assert records.cursor is None and records.stats["records"] == len(got)
    assert records.__aiter__() is records


def test_async_cursor_resume(sandbox: Sandbox) -> None:
    aclient = sandbox.async_client()

    async def main() -> List[str]:
        records = aclient.records(days=3, page_size=40, today=TODAY)
        head = []
        async for r in records:
            head.append(r.email_id or "")
            if len(head) == 57:
                break
        rest = await collect(aclient.records(days=3, page_size=40, cursor=records.cursor))
        return head + [r.email_id or "" for r in rest]

    assert run(main()) == sandbox.truth(days=3)


def test_async_max_records(sandbox: Sandbox) -> None:
    got = run(collect(sandbox.async_client().records(days=3, max_records=33, today=TODAY)))
    assert [r.email_id for r in got] == sandbox.truth(days=3)[:33]


def test_async_reports_equal_sync(sandbox: Sandbox, client: sc.Client) -> None:
    aclient = sandbox.async_client()
    assert run(aclient.summary(days=5, today=TODAY)) == client.summary(days=5, today=TODAY)
    suppressions = run(aclient.suppressions(days=5, soft_bounces=2, today=TODAY))
    assert suppressions == client.suppressions(days=5, soft_bounces=2, today=TODAY)


def test_async_validation_errors(sandbox: Sandbox) -> None:
    aclient = sandbox.async_client()
    with pytest.raises(sc.ValidationError) as e:
        aclient.records(days=0)  # raised at the call, before iteration
    assert e.value.field == "days"
    with pytest.raises(sc.ValidationError) as e:
        run(aclient.page(days=1, limit=500))
    assert e.value.field == "limit"
    with pytest.raises(sc.ValidationError):
        run(aclient.summary(start_date="2024-01-02", end_date="2024-01-01"))


def test_async_api_error_propagates(sandbox: Sandbox) -> None:
    aclient = sc.AsyncClient("sandbox_user", "not-the-key", base_url=sandbox.base_url)

    async def main() -> None:
        async for _ in aclient.records(days=1):
            pass

    with pytest.raises(sc.AuthenticationError):
        run(main())
    with pytest.raises(sc.AuthenticationError):
        run(aclient.page(days=1))


def test_async_client_properties(sandbox: Sandbox) -> None:
    aclient = sandbox.async_client()
    assert aclient.api_user == "sandbox_user" and aclient.base_url == sandbox.base_url and aclient.region is None
    assert isinstance(aclient.blocking, sc.Client)
    assert repr(aclient).startswith("AsyncClient(") and "sandbox-demo-key" not in repr(aclient)
    # Sync and async iteration of one export can be interleaved.
    records = aclient.records(days=2, page_size=10, today=TODAY)
    first = run(records.__anext__())
    rest = list(itertools.islice(aclient.blocking.records(days=2, page_size=10, cursor=records.cursor), 5))
    assert [first.email_id] + [r.email_id for r in rest] == sandbox.truth(days=2)[:6]
