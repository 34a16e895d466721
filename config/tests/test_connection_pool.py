"""Database connections are pooled per process and bounded (DB_POOL_MAX_SIZE), under Daphne
(pages in threads, the status websocket through database_sync_to_async) and in a Celery prefork
worker, where each pool child builds its own pool after the fork."""

import asyncio
import json
import threading
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
import websockets
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse

from analysis.models import RecordingAnalysis
from analysis.tests.support import (
    DaphneProcess,
    WorkerProcess,
    login_session,
    make_recording,
    purge_broker,
    wait_for,
    worker_env,
)
from conftest import shared_c3d_dir
from sessions.models import Recording
from sessions.uploads import recording_upload

pytestmark = [pytest.mark.server, pytest.mark.django_db(transaction=True)]
POOL = {"DB_POOL_MAX_SIZE": 2, "DB_POOL_MIN_SIZE": 1, "DB_POOL_TIMEOUT": 20}


def server_connections(name) -> int:
    """Connections to the test database opened by the processes started with PGAPPNAME=name."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND application_name = %s",
            [name],
        )
        return cursor.fetchone()[0]


def get(url, cookie):
    request = urllib.request.Request(url, headers={"Cookie": cookie})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, response.read()


def test_daphne_serves_many_requests_at_once_through_a_bounded_pool(
    tmp_path, alice, alices_patient, session_of
):
    session = session_of(alices_patient)
    make_recording(session, "pooled.c3d")
    cookie = f"sessionid={login_session(alice)}"
    server = DaphneProcess(
        worker_env(ALLOWED_HOSTS="127.0.0.1", PGAPPNAME="pooled-daphne", **POOL),
        tmp_path / "daphne.log",
    ).start()
    peak = [0]
    done = threading.Event()

    def watch():
        while not done.is_set():
            peak[0] = max(peak[0], server_connections("pooled-daphne"))
            done.wait(0.01)

    paths = [
        reverse("patients:list"),
        reverse("patients:detail", args=[alices_patient.pk]),
        reverse("patients:progress", args=[alices_patient.pk]),
        reverse("sessions:detail", args=[session.pk]),
        "/",
    ] * 8

    async def websocket_snapshot():
        url = server.url.replace("http://", "ws://") + f"/ws/sessions/{session.pk}/status/"
        async with websockets.connect(
            url, origin=server.url, additional_headers={"Cookie": cookie}
        ) as ws:
            return json.loads(await asyncio.wait_for(ws.recv(), 20))

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        with ThreadPoolExecutor(max_workers=12) as pool:
            statuses = list(pool.map(lambda p: get(server.url + p, cookie)[0], paths))
            snapshot = asyncio.run(websocket_snapshot())
    finally:
        done.set()
        watcher.join()
        server.stop()
    assert statuses == [200] * len(paths), server.output()[-3000:]
    assert snapshot["recordings"][0]["recording"] > 0
    assert 1 <= peak[0] <= POOL["DB_POOL_MAX_SIZE"], server.output()[-3000:]
    assert "PoolTimeout" not in server.output()


def test_a_prefork_worker_with_a_pool_analyses_uploads(tmp_path, alice, alices_patient, session_of):
    session = session_of(alices_patient)
    purge_broker()
    worker = WorkerProcess(worker_env(**POOL), tmp_path / "worker.log").start()
    try:
        ids = [
            recording_upload(
                session=session,
                uploaded_file=SimpleUploadedFile(path.name, path.read_bytes()),
                user=alice,
            ).pk
            for path in sorted((shared_c3d_dir() / "ghostly").glob("*.c3d"))
        ]
        assert len(ids) == 3
        wait_for(
            lambda: (
                set(Recording.objects.filter(pk__in=ids).values_list("status", flat=True))
                <= {"done", "failed"}
            ),
            timeout=90,
            what="the pooled worker to analyse every upload",
        )
    finally:
        worker.stop()
    statuses = dict(Recording.objects.filter(pk__in=ids).values_list("pk", "status"))
    assert set(statuses.values()) == {"done"}, worker.output()[-3000:]
    assert RecordingAnalysis.objects.filter(recording__in=ids, is_current=True).count() == 3
