"""The local archive from Python: ``Client.sync`` / ``AsyncClient.sync`` into an SQLite file,
``Archive`` reading it offline, against the sandbox with live switches (rows settling between
syncs), and the archive's errors: busy, missing, not an archive, bad settings.

The sandboxes run on a fixed clock (``NOW``); syncs plan on it (``server_now=`` its ``now``) and
read every planned day again at once (``rescan_after=0``)."""

from __future__ import annotations

import asyncio
import pickle
import signal
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List

import pytest

import sendcloud_status as sc
from conftest import Sandbox, TODAY, USER

FIRST, LAST = "2024-05-17", str(TODAY)  # four days, ending on the sandboxes' today
WINDOW: sc.QueryFilters = {"start_date": FIRST, "end_date": LAST}
CODES = {"delivered": 1, "invalid": 4, "soft_bounce": 5, "sending": 18}
SECRET = "archive-SECRET-key-4c1d"


def ids(records: Any) -> List[str]:
    return [r.email_id for r in records]


def history_rows(path: Path) -> int:
    with sqlite3.connect(path) as db:
        return int(db.execute("SELECT count(*) FROM status_history").fetchone()[0])


def runs(path: Path) -> List[str]:
    with sqlite3.connect(path) as db:
        return [row[0] for row in db.execute("SELECT outcome FROM sync_runs ORDER BY id")]


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    """Polls `condition` (a "did not hang" bound, not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


@pytest.fixture()
def live() -> Iterator[Sandbox]:
    """8000 records over four days (~80 still "sending" for the demo apiUser); live switches off."""
    sb = Sandbox("--records", "8000", "--days-of-data", "4", "--rate-limit", "0")
    yield sb
    sb.close()


@pytest.fixture(scope="module")
def slowish() -> Iterator[Sandbox]:
    """Answers after 100 ms: a sync of 30 days takes a while (~60 pages)."""
    sb = Sandbox("--records", "12000", "--rate-limit", "0", "--latency-ms", "100")
    yield sb
    sb.close()


def test_sync_settle_sync_and_read_back(live: Sandbox, tmp_path: Path) -> None:
    sb, path = live, tmp_path / "status.db"
    client = sb.client()
    truth = sb.truth(startDate=FIRST, endDate=LAST)
    sending = sb.truth(startDate=FIRST, endDate=LAST, status=18)
    assert len(truth) > 2000 and len(sending) >= 30, (len(truth), len(sending))

    # A first sync: every day new, every row inserted once, with one history row each.
    first = client.sync(path, since=FIRST, server_now=sb.now(), rescan_after=0)
    assert isinstance(first, sc.SyncReport)
    assert (first.outcome, first.exact, first.days_read, first.days_planned) == ("complete", True, 4, 4)
    assert [str(d) for d, _ in first.planned] == ["2024-05-17", "2024-05-18", "2024-05-19", LAST]
    assert {reason for _, reason in first.planned} == {"new"}
    assert (first.records_seen, first.inserted, first.changed) == (len(truth), len(truth), 0)
    assert first.requests == first.stats["requests"] > 0 and first.stats["unstable_units"] == []
    assert first.today == TODAY and str(first.start) == FIRST and first.clamped_since is None
    assert str(first).startswith("4 days read, ")
    assert history_rows(path) == len(truth)

    # "Sending" rows settle on the server, then it holds still.
    sb.live(settle_per_second=400)
    time.sleep(0.3)
    sb.live()
    settled = {c["email_id"] for c in sb.changes()} & set(truth)
    assert len(settled) >= 10, len(settled)

    # The second sync reads the lookback again and records each settled email's new state.
    second = client.sync(path, since=FIRST, server_now=sb.now(), rescan_after=0)
    assert (second.inserted, second.changed, second.outcome) == (0, len(settled), "complete")
    assert {reason for _, reason in second.planned} <= {"lookback", "incomplete"}
    assert history_rows(path) == len(truth) + len(settled)

    now = sb.now()
    with sc.Archive(path) as archive:
        # The archive equals the sandbox's truth for the synced days, status by status.
        assert ids(archive.records(**WINDOW)) == truth
        for name, code in CODES.items():
            assert ids(archive.records(status=name, start_date=FIRST, end_date=LAST)) == sb.truth(startDate=FIRST, endDate=LAST, status=code)
        # Record for record what an export of the same days returns (times, texts, extra).
        online = list(client.records(server_now=now, **WINDOW))
        assert list(archive.records(**WINDOW)) == online
        assert list(archive.records(days=2, today=TODAY)) == list(client.records(days=2, server_now=now))
        # No window: every archived day.
        assert ids(archive.records()) == truth

        # A settled email's history: first seen sending, then its final state.
        for email_id in sorted(settled)[:5]:
            (email,) = archive.history(email_id)
            assert isinstance(email, sc.ArchivedEmail) and email.record.email_id == email_id
            states = [h.category for h in email.history]
            assert states[0] is sc.Category.SENDING and len(states) == 2, states
            assert states[1] is not sc.Category.SENDING and email.record.category is states[1]
            # (The sandbox's clock stands still at NOW, so the times a sync stamps are not ordered
            # across syncs.)
            assert all(h.seen_at.utcoffset() is not None for h in email.history)
            assert email.first_seen_at.utcoffset() is not None and email.last_seen_at.utcoffset() is not None
            assert email.history[1].modified_time is not None and email.history[1].modified_time_text
        # By address (any case): every email sent to it.
        (one,) = archive.history(sorted(settled)[0])
        address = one.record.recipient
        assert address is not None
        by_address = archive.history(address.upper())
        assert sorted(settled)[0] in [e.record.email_id for e in by_address]
        assert all((e.record.recipient or "").lower() == address.lower() for e in by_address)
        assert archive.history("nobody@example.com") == []

        # Reports from the archive equal the online reports of the same days.
        assert archive.summary(**WINDOW) == client.summary(server_now=now, **WINDOW)
        assert archive.summary(days=3, today=TODAY, status="invalid") == client.summary(
            days=3, server_now=now, status="invalid"
        )
        assert archive.suppressions(soft_bounces=1, **WINDOW) == client.suppressions(
            soft_bounces=1, server_now=now, **WINDOW
        )

    # Nothing new on the server: a third sync adds no email and no history row.
    before = history_rows(path)
    third = client.sync(path, since=FIRST, server_now=sb.now(), rescan_after=0)
    assert (third.inserted, third.changed) == (0, 0) and third.days_read >= 1
    assert history_rows(path) == before
    assert runs(path) == ["complete", "complete", "complete"]


def test_the_next_sync_skips_days_read_within_rescan_after(live: Sandbox, tmp_path: Path) -> None:
    client, path = live.client(), tmp_path / "a.db"
    client.sync(path, since=TODAY, server_now=live.now(), rescan_after=0)
    live.clear()
    again = client.sync(path, since=TODAY, server_now=live.now())  # default: 10 minutes
    assert (again.days_read, again.requests, again.skipped_recent) == (0, 0, [TODAY])
    assert live.requests() == []


def test_archive_records_stream_and_close(live: Sandbox, tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    live.client().sync(path, since=FIRST, server_now=live.now(), rescan_after=0)
    truth = live.truth(startDate=FIRST, endDate=LAST)
    archive = sc.Archive(str(path))
    assert archive.path == str(path) and repr(archive) == f"Archive({str(path)!r})"
    # More records than one batch of the reader thread, handed out in order.
    records = archive.records(**WINDOW)
    head = [next(records).email_id for _ in range(1500)]
    assert head == truth[:1500] and not records.done
    records.close()
    records.close()
    assert records.done and list(records) == []
    with archive.records(**WINDOW) as more:
        assert next(more).email_id == truth[0]
    assert more.done
    # Dropped unfinished: its reader thread ends (no leak, nothing blocks).
    for _ in range(20):
        partial = archive.records(**WINDOW)
        next(partial)
        del partial
    wait_for(lambda: sum(t.name == "sendcloud-archive-read" for t in threading.enumerate()) == 0, "reader threads")
    archive.close()
    archive.close()
    assert archive.closed
    with pytest.raises(RuntimeError, match="closed"):
        archive.summary()


def test_async_sync_equals_the_blocking_one(live: Sandbox, tmp_path: Path) -> None:
    aclient = live.async_client()
    assert isinstance(aclient.blocking, sc.Client)
    report = asyncio.run(aclient.sync(tmp_path / "a.db", since=FIRST, server_now=live.now(), rescan_after=0))
    blocking = live.client().sync(tmp_path / "b.db", since=FIRST, server_now=live.now(), rescan_after=0)
    assert (report.inserted, report.days_read, report.outcome) == (blocking.inserted, 4, "complete")
    assert list(sc.Archive(tmp_path / "a.db").records()) == list(sc.Archive(tmp_path / "b.db").records())


def test_a_second_sync_while_one_runs_is_told_the_archive_is_busy(slowish: Sandbox, tmp_path: Path) -> None:
    sb, path = slowish, tmp_path / "busy.db"
    # The second sync's key is wrong, and never shows: the lock is checked before any request.
    client = sc.Client(USER, SECRET, base_url=sb.base_url, rate_limit_per_minute=None)
    good = sb.client()
    sb.clear()
    result: Dict[str, Any] = {}
    worker = threading.Thread(target=lambda: result.update(report=good.sync(path, server_now=sb.now())))
    worker.start()
    try:
        wait_for(lambda: len(sb.requests()) > 0, "the first sync's first request")
        with pytest.raises(sc.ArchiveBusyError) as e:
            client.sync(path, server_now=sb.now())
        err = e.value
        assert isinstance(err, sc.ArchiveError) and isinstance(err, sc.SendCloudError)
        assert err.kind == "archive_busy" and err.retryable and "busy" in err.message and str(path) in err.message
        for text in (str(err), repr(err), repr(err.__cause__)):
            assert SECRET not in text
        # Reading is not blocked: the pages written so far are there.
        with sc.Archive(path) as archive:
            archive.summary()
    finally:
        worker.join(timeout=60)
    assert not worker.is_alive(), "the first sync did not finish"
    assert result["report"].outcome == "complete" and result["report"].days_read == 30
    # Once it is done, the next sync runs.
    assert good.sync(path, server_now=sb.now(), rescan_after=0).outcome == "complete"


def test_cancelling_an_async_sync_stops_it_after_its_page(slowish: Sandbox, tmp_path: Path) -> None:
    sb, path = slowish, tmp_path / "cancel.db"
    aclient = sb.async_client()

    async def main() -> None:
        sb.clear()
        task = asyncio.ensure_future(aclient.sync(path, server_now=sb.now()))
        await asyncio.to_thread(wait_for, lambda: len(sb.requests()) > 0, "the sync's first request")
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    # The worker thread ends after the page it was writing, then lets go of the archive.
    reports: List[sc.SyncReport] = []

    def synced() -> bool:
        try:
            reports.append(sb.client().sync(path, server_now=sb.now(), rescan_after=0))
            return True
        except sc.ArchiveBusyError:
            return False

    wait_for(synced, "the archive to be free")
    assert reports[0].outcome == "complete" and runs(path) == ["interrupted", "complete"]
    with sc.Archive(path) as archive:
        assert ids(archive.records(days=30, today=TODAY)) == sb.truth(days=30)


@pytest.mark.skipif(not hasattr(signal, "pthread_kill"), reason="needs pthread_kill")
def test_ctrl_c_stops_a_sync_between_pages(slowish: Sandbox, tmp_path: Path) -> None:
    sb, path = slowish, tmp_path / "sigint.db"
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        sb.clear()
        main = threading.get_ident()

        def interrupt() -> None:
            wait_for(lambda: len(sb.requests()) > 3, "the sync's first requests")
            signal.pthread_kill(main, signal.SIGINT)

        timer = threading.Thread(target=interrupt)
        timer.start()
        with pytest.raises(KeyboardInterrupt):
            sb.client().sync(path, server_now=sb.now())
        timer.join()
    finally:
        signal.signal(signal.SIGINT, previous)
    assert runs(path) == ["interrupted"]
    # Whole pages were kept; the next sync finishes the job.
    assert sb.client().sync(path, server_now=sb.now(), rescan_after=0).outcome == "complete"
    with sc.Archive(path) as archive:
        assert ids(archive.records()) == sb.truth(days=30)


def test_sync_releases_the_gil(slowish: Sandbox, tmp_path: Path) -> None:
    count = 0
    stop = threading.Event()

    def spin() -> None:
        nonlocal count
        while not stop.is_set():
            count += 1

    spinner = threading.Thread(target=spin, daemon=True)
    spinner.start()
    time.sleep(0.05)
    try:
        before = count
        report = slowish.client().sync(tmp_path / "gil.db", since=TODAY, server_now=slowish.now())
        during = count - before
    finally:
        stop.set()
        spinner.join()
    assert report.requests >= 1
    # Held GIL: the spinner would be frozen while the sync waits on 100 ms answers.
    assert during > 20_000, during


def test_archive_errors(sandbox: Sandbox, tmp_path: Path) -> None:
    missing = tmp_path / "missing.db"
    with pytest.raises(sc.ArchiveMissingError) as e:
        sc.Archive(missing)
    assert isinstance(e.value, FileNotFoundError) and isinstance(e.value, sc.ArchiveError)
    assert e.value.field == "path" and e.value.kind == "archive_missing" and not missing.exists()

    text = tmp_path / "notes.txt"
    text.write_text("not a database, " * 100)
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE t (x)")
        db.execute("INSERT INTO t VALUES (42)")
    content = text.read_bytes()
    for path in (text, other):
        sandbox.clear()
        for call in (lambda: sc.Archive(path), lambda: sandbox.client().sync(path, server_now=sandbox.now())):
            with pytest.raises(sc.NotAnArchiveError) as e2:
                call()
            err = e2.value
            assert isinstance(err, ValueError) and err.field == "path" and err.kind == "not_an_archive"
            assert str(path) in err.message
        assert sandbox.requests() == [], "nothing was sent"
    assert text.read_bytes() == content, "left untouched"
    # Another application's database keeps its contents. (The archive crate sets WAL mode
    # on it before it looks inside, which changes two header bytes: not checked here.)
    with sqlite3.connect(other) as db:
        assert db.execute("SELECT name FROM sqlite_schema").fetchall() == [("t",)]
        assert db.execute("SELECT x FROM t").fetchall() == [(42,)]

    newer = tmp_path / "newer.db"
    sandbox.client().sync(newer, since=TODAY, server_now=sandbox.now())
    with sqlite3.connect(newer) as db:
        db.execute("PRAGMA user_version = 999")
    with pytest.raises(sc.ArchiveVersionError) as e3:
        sc.Archive(newer)
    assert e3.value.field == "path" and "999" in e3.value.message


@pytest.mark.parametrize(
    "settings, field",
    [
        ({"lookback_days": -1}, "lookback_days"),
        ({"lookback_days": 1.5}, "lookback_days"),
        ({"sending_max_age_days": -1}, "sending_max_age_days"),
        ({"rescan_after": -1}, "rescan_after"),
        ({"rescan_after": "10m"}, "rescan_after"),
        ({"since": "2024-13-01"}, "since"),
        ({"since": "2024-06-01"}, "since"),  # after today
        ({"api_users": [""]}, "api_users"),
        ({"api_users": []}, "api_users"),
        ({"today": "2024-05-20", "server_now": "2024-05-20 12:00:00"}, "server_now"),
        ({"server_now": "yesterday"}, "server_now"),
    ],
)
def test_bad_sync_settings_are_refused_before_any_request(
    sandbox: Sandbox, tmp_path: Path, settings: Dict[str, Any], field: str
) -> None:
    sandbox.clear()
    settings = dict(settings)
    settings.setdefault("server_now", None if "today" in settings else sandbox.now())
    client, aclient = sandbox.client(), sandbox.async_client()
    with pytest.raises(sc.ValidationError) as e:
        client.sync(tmp_path / "a.db", **settings)
    assert e.value.field == field, e.value
    with pytest.raises(sc.ValidationError) as e:
        asyncio.run(aclient.sync(tmp_path / "b.db", **settings))
    assert e.value.field == field, e.value
    assert sandbox.requests() == []


@pytest.mark.parametrize("path", [42, "", None])
def test_a_bad_path_is_a_validation_error(sandbox: Sandbox, path: Any) -> None:
    with pytest.raises(sc.ValidationError) as e:
        sandbox.client().sync(path)
    assert e.value.field == "path"
    with pytest.raises(sc.ValidationError) as e:
        sc.Archive(path)
    assert e.value.field == "path"


def test_bad_archive_filters(live: Sandbox, tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    live.client().sync(path, since=TODAY, server_now=live.now())
    archive = sc.Archive(path)
    cases: List[Any] = [
        ({"days": 0}, "days"),
        ({"label_id": 3}, "label_id"),
        ({"label_name": "news"}, "label_name"),
        ({"status": "bounced"}, "status"),
        ({"start_date": FIRST}, "window"),
        ({"days": 1, "today": "20.05.2024"}, "today"),
    ]
    for filters, field in cases:
        for call in (archive.records, archive.summary, archive.suppressions):
            with pytest.raises(sc.ValidationError) as e:
                call(**filters)
            assert e.value.field == field, (call, filters, e.value)
    with pytest.raises(sc.ValidationError) as e:
        archive.suppressions(soft_bounces=0)
    assert e.value.field == "soft_bounces"
    with pytest.raises(sc.ValidationError) as e:
        archive.history("  ")
    assert e.value.field == "address_or_id"
    with pytest.raises(TypeError, match="start"):
        archive.records(days=1, start=5)  # type: ignore[call-arg]


def test_errors_are_exported_and_ordered() -> None:
    assert sc.errors.__all__[-9:-4] == [
        "ArchiveError", "ArchiveBusyError", "ArchiveMissingError", "NotAnArchiveError", "ArchiveVersionError",
    ]  # fmt: skip
    for cls in (sc.ArchiveBusyError, sc.ArchiveMissingError, sc.NotAnArchiveError, sc.ArchiveVersionError):
        assert issubclass(cls, sc.ArchiveError) and issubclass(cls, sc.SendCloudError)
    assert sc.ArchiveBusyError("x").kind == "archive_busy"
    again = pickle.loads(pickle.dumps(sc.ArchiveMissingError("no archive at x", field="path")))
    assert type(again) is sc.ArchiveMissingError and again.field == "path" and isinstance(again, FileNotFoundError)
    # The sync defaults are the Rust planner's, read from the native module.
    assert (sc.DEFAULT_LOOKBACK_DAYS, sc.DEFAULT_SENDING_MAX_AGE_DAYS, sc.DEFAULT_RESCAN_AFTER) == (3, 7, 600.0)
