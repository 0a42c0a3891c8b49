"""Every filter, through a full export, against the sandbox's ground truth."""

from __future__ import annotations

import datetime as dt
from typing import Any, Dict, List

import pytest

import sendcloud_status as sc
from conftest import Sandbox, TODAY


def ids(records: sc.Records) -> List[str]:
    out = [r.email_id for r in records]
    assert all(i is not None for i in out)
    return [i for i in out if i is not None]


def d(s: str, days: int = 0) -> dt.date:
    return dt.date.fromisoformat(s) + dt.timedelta(days=days)


def test_days_one_is_today(sandbox: Sandbox, client: sc.Client, today: str) -> None:
    got = ids(client.records(days=1, today=TODAY))
    assert got and got == sandbox.truth(days=1)
    assert all(r.request_time and r.request_time.date().isoformat() == today for r in client.records(days=1, today=TODAY))


def test_days_count_back_from_the_servers_clock_by_default() -> None:
    """Without ``today`` or ``server_now`` an export plans on the server's clock as this
    machine reads it: on a sandbox running on the real clock, the rows of its own ``days=3``.
    Midnight (UTC+8) may pass between the plan and the sandbox's answer; then the run is
    repeated (once: midnight does not pass twice)."""
    sb = Sandbox("--rate-limit", "0", "--records", "3000", real_clock=True)
    try:
        for _ in range(2):
            before = sb.info()["today"]
            got = ids(sb.client().records(days=3))
            truth = sb.truth(days=3)
            if sb.info()["today"] == before:
                break
        assert got and got == truth  # two full days at least: never empty
    finally:
        sb.close()


@pytest.mark.parametrize("days", [2, 3, 7, 30])
def test_days_windows_are_split_and_merged_in_order(sandbox: Sandbox, client: sc.Client, days: int) -> None:
    got = ids(client.records(days=days, today=TODAY))
    assert got == sandbox.truth(days=days)
    assert len(got) == len(set(got))


@pytest.mark.parametrize("as_date", [False, True])
def test_date_range(sandbox: Sandbox, client: sc.Client, today: str, as_date: bool) -> None:
    start, end = d(today, -9), d(today, -3)  # 7 days: three windows on a 3-day endpoint
    got = ids(
        client.records(start_date=start, end_date=end)
        if as_date
        else client.records(start_date=start.isoformat(), end_date=end.isoformat())
    )
    truth = sandbox.truth(startDate=start.isoformat(), endDate=end.isoformat())
    assert got and got == truth


def test_email(sandbox: Sandbox, client: sc.Client) -> None:
    recipients = [r.recipient for r in client.records(days=30, max_records=300, today=TODAY)]
    target = max(set(recipients), key=recipients.count)  # an address with several emails
    assert target is not None
    got = list(client.records(days=30, email=target, today=TODAY))
    assert got and all(r.recipient == target for r in got)
    assert [r.email_id for r in got] == sandbox.truth(days=30, email=target)


def test_email_ids_are_chunked_and_complete(sandbox: Sandbox, client: sc.Client) -> None:
    wanted = sandbox.truth(days=7)[::5][:45]  # 45 ids: three chunks of at most 20
    assert len(wanted) == 45
    got = ids(client.records(days=7, email_ids=wanted, today=TODAY))
    assert sorted(got) == sorted(wanted)
    assert len(got) == len(set(got))
    client.records(days=3, email_ids=iter(wanted[:2]), today=TODAY)  # any iterable


def test_email_ids_single_string(sandbox: Sandbox, client: sc.Client) -> None:
    one = sandbox.truth(days=1)[0]
    assert ids(client.records(days=1, email_ids=one, today=TODAY)) == [one]


@pytest.fixture(scope="module")
def labels(sandbox: Sandbox) -> List[Any]:
    return list(sandbox.info()["labels"])


def test_label_id(sandbox: Sandbox, client: sc.Client, labels: List[Any]) -> None:
    label_id = labels[0][0]
    got = ids(client.records(days=7, label_id=label_id, today=TODAY))
    assert got and got == sandbox.truth(days=7, labelId=label_id)


def test_label_name_fuzzy(sandbox: Sandbox, client: sc.Client, labels: List[Any]) -> None:
    fragment = labels[1][1][:5]
    got = ids(client.records(days=7, label_name=fragment, today=TODAY))
    assert got and got == sandbox.truth(days=7, labelName=fragment)


def test_label_id_wins_over_label_name(sandbox: Sandbox, client: sc.Client, labels: List[Any]) -> None:
    got = ids(client.records(days=3, label_id=labels[2][0], label_name=labels[3][1], today=TODAY))
    assert got == sandbox.truth(days=3, labelId=labels[2][0], labelName=labels[3][1])
    assert got == sandbox.truth(days=3, labelId=labels[2][0])


def test_api_users(sandbox: Sandbox, client: sc.Client) -> None:
    users = sandbox.info()["api_users"][1:3]
    got = list(client.records(days=3, api_users=users, today=TODAY))
    assert got and {r.api_user for r in got} <= set(users)
    assert [r.email_id for r in got] == sandbox.truth(days=3, apiUserList=";".join(users))
    # Without apiUserList only the calling apiUser's records come back.
    assert {r.api_user for r in client.records(days=3, today=TODAY)} == {"sandbox_user"}


STATUS_CODES = {"delivered": 1, "invalid": 4, "soft_bounce": 5, "sending": 18}


@pytest.mark.parametrize("status", ["delivered", "invalid", "soft_bounce", "sending"])
def test_status_by_name(sandbox: Sandbox, client: sc.Client, status: str) -> None:
    got = list(client.records(days=7, status=status, today=TODAY))
    assert got and [r.email_id for r in got] == sandbox.truth(days=7, status=STATUS_CODES[status])
    assert {r.category.value for r in got} == {status}


@pytest.mark.parametrize("status", list(sc.Status))
def test_status_by_enum(sandbox: Sandbox, client: sc.Client, status: sc.Status) -> None:
    got = ids(client.records(days=3, status=status, today=TODAY))
    assert got == sandbox.truth(days=3, status=STATUS_CODES[status.value])


def test_sub_status_ints(sandbox: Sandbox, client: sc.Client) -> None:
    got = list(client.records(days=30, sub_status=[406, 401], today=TODAY))
    assert got and {r.sub_status for r in got} <= {406, 401}
    assert [r.email_id for r in got] == sandbox.truth(days=30, subStatus="406;401")
    assert all(isinstance(r.sub_status, sc.SubStatus) for r in got)


def test_sub_status_enum_members_with_status(sandbox: Sandbox, client: sc.Client) -> None:
    codes = [sc.SubStatus.SOFT_SERVER_UNREACHABLE, sc.SubStatus.SOFT_OTHER]
    got = list(client.records(days=30, status=sc.Status.SOFT_BOUNCE, sub_status=codes, today=TODAY))
    assert got and all(r.is_soft_bounce and not r.is_hard_bounce for r in got)
    assert [r.email_id for r in got] == sandbox.truth(days=30, status=5, subStatus="503;509")


def test_sub_status_single_int(sandbox: Sandbox, client: sc.Client) -> None:
    assert ids(client.records(days=30, sub_status=406, today=TODAY)) == sandbox.truth(days=30, subStatus="406")


def test_every_filter_at_once(sandbox: Sandbox, client: sc.Client, today: str, labels: List[Any]) -> None:
    filters: Dict[str, Any] = dict(
        start_date=d(today, -20),
        end_date=d(today),
        api_users=sandbox.info()["api_users"],
        status="invalid",
        sub_status=[401, 402, 403, 404, 405, 406, 407, 408, 409],
        label_name=labels[0][1],
    )
    got = ids(client.records(**filters))
    truth = sandbox.truth(
        startDate=d(today, -20).isoformat(),
        endDate=today,
        apiUserList=";".join(filters["api_users"]),
        status=4,
        subStatus=";".join(str(c) for c in filters["sub_status"]),
        labelName=labels[0][1],
    )
    assert got and got == truth


def test_page_filters_match_the_first_page_of_truth(sandbox: Sandbox, client: sc.Client) -> None:
    truth = sandbox.truth(days=3, status=1)
    page = client.page(days=3, status="delivered", start=10, limit=25)
    assert page.total == len(truth)
    assert [r.email_id for r in page] == truth[10:35]
    assert page.position == sc.Position(0, 0, 10)
    assert page.rows_received == 25
