"""Nothing is lost when Redis goes away or a worker process is killed mid-task.

These start real processes: a private redis-server (the shared one is never touched), real
``celery worker -P prefork`` processes on the test database, and the import command.
"""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from analysis import core
from analysis.models import RecordingAnalysis
from analysis.pipeline.worker import gave_up_reason
from analysis.tests.support import (
    OwnRedis,
    TcpProxy,
    WorkerProcess,
    purge_broker,
    wait_for,
    worker_env,
)
from conftest import shared_c3d_dir
from sessions.models import Recording
from sessions.uploads import recording_upload

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

REPO = Path(__file__).resolve().parents[2]
LONG_GAME = "ghostly/Ghostly_Emg_20230321_17-50-17-0881.c3d"  # 175 s, the slowest real file


@pytest.fixture
def session(session_of, alices_patient):
    return session_of(alices_patient)


def status_of(recording_id):
    return Recording.objects.values_list("status", "attempts").get(pk=recording_id)


def test_an_upload_while_redis_is_down_is_kept_and_processed_when_it_returns(tmp_path, session):
    redis_server = OwnRedis(tmp_path).start()
    env = worker_env(
        REDIS_URL=redis_server.url,
        CELERY_BROKER_URL=redis_server.url,
        RECORDING_SWEEP_EVERY_S=1,
        RECORDING_PENDING_STUCK_AFTER_S=1,
    )
    worker = WorkerProcess(
        env, tmp_path / "worker.log", beat=True, schedule_path=tmp_path / "beat-schedule"
    )
    try:
        worker.start()
        redis_server.stop()
        # The upload goes through the same service, in a process whose broker is now down.
        imported = subprocess.run(
            [sys.executable, "manage.py", "import_recordings", str(shared_c3d_dir() / LONG_GAME)]
            + ["--session", str(session.pk), "--json"],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert imported.returncode == 0, imported.stderr[-2000:]
        row = json.loads(imported.stdout.strip().splitlines()[-1])
        assert row["status"] == "pending"
        recording = Recording.objects.get(pk=row["recording"])
        assert recording.enqueued_at is None  # the broker refused it; the row is kept
        with recording.file.open("rb") as stored:
            assert len(stored.read()) == recording.size_bytes

        redis_server.start()  # same port: the worker reconnects, beat's sweeper re-enqueues
        wait_for(
            lambda: status_of(recording.pk)[0] in ("done", "failed"),
            timeout=60,
            what="the recording to be processed after Redis returned",
        )
        recording.refresh_from_db()
        assert recording.status == "done", recording.failure_reason or worker.output()[-3000:]
        assert RecordingAnalysis.objects.filter(recording=recording, is_current=True).count() == 1
    finally:
        worker.stop()
        redis_server.stop()


def kill_pool_child_while_processing(worker, recording_id, attempt):
    wait_for(
        lambda: status_of(recording_id) == ("processing", attempt),
        timeout=30,
        interval=0.01,
        what=f"attempt {attempt} to start",
    )
    children = worker.pool_children()
    assert children, "no pool process to kill"
    for pid in children:
        os.kill(pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def marathon_game(tmp_path_factory):
    """A genuinely slow input: the longest real game played six times over (17.5 min, 9 MB).

    Its analysis keeps a worker busy for a few hundred milliseconds (the 175 s original takes
    a few tens), a window the test can hit reliably without any test-only hook in the code.
    """

    game = core.read_recording(shared_c3d_dir() / LONG_GAME, isolated=False)
    path = tmp_path_factory.mktemp("marathon") / "Ghostly_Emg_20230321_18-00-00-0000.c3d"
    core.write_recording(
        path,
        rate_hz=game.rate_hz,
        channels={c.label: np.tile(c.values, 6) for c in game.emg_channels},
        started_at=game.started_at,
        metadata=game.metadata,
    )
    return path


def upload_long_game(session, alice, path):
    return recording_upload(
        session=session, uploaded_file=SimpleUploadedFile(path.name, path.read_bytes()), user=alice
    )


def test_a_worker_killed_mid_task_still_completes_the_recording(
    tmp_path, session, alice, marathon_game
):
    purge_broker()
    worker = WorkerProcess(worker_env(), tmp_path / "worker.log").start()
    try:
        recording = upload_long_game(session, alice, marathon_game)
        kill_pool_child_while_processing(worker, recording.pk, attempt=1)
        wait_for(
            lambda: status_of(recording.pk)[0] in ("done", "failed"),
            timeout=60,
            what="the redelivered task to finish",
        )
        assert status_of(recording.pk) == ("done", 2), worker.output()[-3000:]
        assert RecordingAnalysis.objects.filter(recording=recording).count() == 1
    finally:
        worker.stop()


def test_a_file_that_kills_its_worker_every_time_ends_failed_after_the_cap(
    tmp_path, session, alice, settings, marathon_game
):
    purge_broker()
    worker = WorkerProcess(worker_env(), tmp_path / "worker.log").start()
    try:
        recording = upload_long_game(session, alice, marathon_game)
        for attempt in range(1, settings.RECORDING_MAX_ATTEMPTS + 1):
            kill_pool_child_while_processing(worker, recording.pk, attempt)
        wait_for(
            lambda: status_of(recording.pk)[0] == "failed",
            timeout=60,
            what="the recording to be given up",
        )
        recording.refresh_from_db()
        assert recording.failure_reason == gave_up_reason(settings.RECORDING_MAX_ATTEMPTS)
        assert not RecordingAnalysis.objects.filter(recording=recording).exists()
    finally:
        worker.stop()


def test_a_database_outage_is_retried_with_backoff_until_it_ends(tmp_path, session, alice):
    # The worker reaches PostgreSQL through a proxy that this test cuts and restores.
    db = settings.DATABASES["default"]
    proxy = TcpProxy(db["HOST"] or "127.0.0.1", db["PORT"] or 5432).start()
    purge_broker()
    worker = WorkerProcess(
        worker_env(DATABASE_URL=f"postgres://{db['USER']}@127.0.0.1:{proxy.port}/{db['NAME']}"),
        tmp_path / "worker.log",
    ).start()
    try:
        proxy.stop()  # the worker's database goes away; the upload (this process) still works
        path = shared_c3d_dir() / "ghostly" / "Ghostly_Emg_20231004_13-18-43-0464.c3d"
        recording = recording_upload(
            session=session,
            uploaded_file=SimpleUploadedFile(path.name, path.read_bytes()),
            user=alice,
        )
        wait_for(lambda: "Retry in" in worker.output(), timeout=30, what="a retry")
        assert "OperationalError" in worker.output()
        assert status_of(recording.pk) == ("pending", 0)
        proxy.start()
        wait_for(
            lambda: status_of(recording.pk)[0] in ("done", "failed"),
            timeout=60,
            what="the retried task to finish",
        )
        recording.refresh_from_db()
        assert status_of(recording.pk) == ("done", 1), recording.failure_reason
    finally:
        worker.stop()
        proxy.stop()
