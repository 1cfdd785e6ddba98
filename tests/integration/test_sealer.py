"""The sealer on both databases: in the projector's loop, when it signs, and two at once."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

from api.runtime import open_runtime
from api.settings import Settings
from projections.chain_store import checkpoints
from tests.conftest import Database
from tests.integration.tamper_helpers import TEST_KEY, sealing

WAIT_SECONDS = 60


def test_the_projector_loop_seals_new_events_and_signs_a_checkpoint(database: Database) -> None:
    settings = Settings(
        database_url=database.database_url,
        read_database_url=database.read_url,
        projector_poll_seconds=0.05,
        # Sign after every catch-up: with the default minute between checkpoints, a loop that
        # caught up between the two teams would sign the next one only after the wait.
        checkpoint_seconds=0.0,
    )
    runtime = open_runtime(settings, schema=database.schema)
    try:
        runtime.start_projector()
        runtime.app.form_team(name="Billing", formed_by="admin")
        runtime.app.form_team(name="Tech", formed_by="admin")
        target = runtime.log_position()
        deadline = time.monotonic() + WAIT_SECONDS
        latest = None
        while time.monotonic() < deadline:
            latest = runtime.integrity.latest_checkpoint()
            if latest is not None and latest.position == target:
                break
            time.sleep(0.05)
        assert latest is not None
        assert latest.position == target
        assert latest.key_id == runtime.integrity.public_key.key_id
        report = runtime.integrity.verify()
        assert report.clean
        assert (report.sealed_head, report.signed_head, report.not_yet_sealed) == (target,) * 2 + (
            0,
        )
    finally:
        runtime.close()


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 12, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def test_checkpoints_come_every_n_events_and_after_catching_up_at_most_so_often(
    database: Database,
) -> None:
    clock = Clock()
    with sealing(database, checkpoint_every=4, batch_size=2) as store:
        store.sealer.clock = clock
        store.sealer.checkpoint_seconds = 60
        for n in range(9):
            store.app.form_team(name=f"Team {n}", formed_by="admin")
        last = int(store.app.recorder.max_notification_id() or 0)
        store.sealer.seal()
        positions = [c.position for c in checkpoints(store.sealer.engine)]
        assert last == 9
        assert positions == [4, 8]  # every 4 events; at 9, caught up, but 8 was signed just now
        store.app.form_team(name="Late", formed_by="admin")
        store.sealer.seal()
        assert [c.position for c in checkpoints(store.sealer.engine)] == positions  # too soon
        clock.now += timedelta(seconds=61)
        outcome = store.sealer.seal()
        assert outcome.checkpoint is not None
        assert outcome.checkpoint.position == last + 1
        assert outcome.checkpoint.signed_at == clock.now
        assert store.integrity.verify().clean


def test_two_sealers_at_once_never_fork_the_chain(database: Database) -> None:
    with sealing(database, batch_size=3) as first, sealing(database, batch_size=5) as second:
        for n in range(40):
            first.app.form_team(name=f"Team {n}", formed_by="admin")
        errors: list[BaseException] = []

        def run(store: object) -> None:
            try:
                for _ in range(20):
                    store.sealer.seal(force_checkpoint=True)  # type: ignore[attr-defined]
            except BaseException as error:  # reported below
                errors.append(error)

        threads = [threading.Thread(target=run, args=(s,)) for s in (first, second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(WAIT_SECONDS)
        assert not errors, errors
        report = first.integrity.verify()
        assert report.clean, report.problems
        assert report.sealed_head == first.app.recorder.max_notification_id()
        assert first.sealer.key is TEST_KEY


def test_a_verification_while_events_are_recorded_and_sealed_finds_nothing_wrong(
    database: Database,
) -> None:
    with sealing(database, checkpoint_every=3, batch_size=2) as store:
        for n in range(10):
            store.app.form_team(name=f"Early {n}", formed_by="admin")
        store.sealer.seal(force_checkpoint=True)
        done = threading.Event()
        errors: list[BaseException] = []

        def keep_writing() -> None:
            try:
                for n in range(60):
                    store.app.form_team(name=f"Team {n}", formed_by="admin")
                    store.sealer.seal(force_checkpoint=n % 4 == 0)
            except BaseException as error:  # reported below
                errors.append(error)
            finally:
                done.set()

        writer = threading.Thread(target=keep_writing)
        writer.start()
        reports = []
        while not done.is_set():
            reports.append(store.integrity.verify())
        writer.join(WAIT_SECONDS)
        reports.append(store.integrity.verify())
        assert not errors, errors
        assert len(reports) > 1
        assert all(r.clean for r in reports), [r.problems for r in reports if not r.clean]
