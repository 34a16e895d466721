"""The suite's plain helpers: recordings and result documents, logins, waiting, real processes.

Fixtures (personas, the broker, an embedded worker, Daphne, the browser) are in the root
``conftest.py``; the helpers here are plain functions and classes that tests and those fixtures
call. Every one is defined once, here.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import redis
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.test import Client

from analysis.pipeline.store import analysis_save
from config.celery import app, queues_in_use
from sessions.models import Recording

# A C3D-like header block: enough for pages and the download view, which never parse the file.
TINY_C3D = b"\x02\x50" + b"\x00" * 510


# ---------------------------------------------------------------------------------------------
# Recordings and results
# ---------------------------------------------------------------------------------------------


# What the audit entry of one page costs in queries (clinic.audit.record_access), for the pinned
# query counts: in a test's transaction a savepoint, the one call (clinic_audit_append) that locks
# and moves the chain head and inserts the entry, and the savepoint's release (in production: the
# call). Pages of a session or recording add one to find its patient (AUDIT_LOOKUP); a therapist's
# assignment check (the entry's purpose) is part of the call (AUDIT_PURPOSE: none).
AUDIT_ENTRY = 3
AUDIT_LOOKUP = 1
AUDIT_PURPOSE = 0


def make_recording(session, name="round1.c3d", data=None, **fields):
    """A Recording row with a small stored file (for tests that never run the core).

    The file is saved through the private storage API (never a public URL); its content is
    ``data``, by default a C3D-like header followed by the name, so each name has its own hash.
    ``fields`` are set on the row (``status``, ``failure_reason``, ``attempts`` ...).
    """

    data = data if data is not None else TINY_C3D + name.encode()
    recording = Recording(
        session=session,
        sha256=hashlib.sha256(data).hexdigest(),
        size_bytes=len(data),
        original_name=name,
        **fields,
    )
    recording.file.save(name, ContentFile(data), save=False)
    recording.save()
    return recording


def contract_document(*, overall=80.0, left_good=10, version="test-1", agreement=None):
    """A result document shaped like the numeric core's contract, with known numbers.

    ``agreement`` (``{"matched", "only_ours", "only_game", "spanning"}``) is set on every
    channel when given; without it the document is of a core that did not compare yet.
    """

    def contraction(i, good):
        return {
            "start_s": 5.0 * i,
            "end_s": 5.0 * i + 2.5,
            "duration_s": 2.5,
            "peak": 0.0009,
            "mean": 0.0006,
            "peak_pct_mvc": 90.0 if good else 40.0,
            "mean_pct_mvc": 60.0,
            "area": 0.0015,
            "mnf_hz": 80.0 - i,
            "mdf_hz": 70.0 - i,
            "fi_nsm5": 1e-12,
            "meets_intensity": good,
            "meets_duration": True,
            "good": good,
        }

    def channel(label, side, good, game_count):
        return {
            "label": label,
            "muscle": "quadriceps",
            "side": side,
            "mvc": 0.001,
            "mvc_source": "calibration" if side == "left" else "estimated",
            "threshold": 0.0001,
            "threshold_off": 0.00005,
            "noise": 0.00002,
            "contractions": [contraction(i, i < good) for i in range(12)],
            "game_contractions": [
                {"start_s": 5.0 * i, "end_s": 5.0 * i + 2.0, "duration_s": 2.0, "peak": 0.5}
                for i in range(game_count)
            ],
            "summary": {
                "count": 12,
                "good": good,
                "intensity_ok": good,
                "duration_ok": 12,
                "time_under_tension_s": 30.0,
                "rms": 0.0003,
                "mav": 0.0002,
                "mnf_slope_hz_per_contraction": -1.0,
                "mdf_slope_hz_per_contraction": -1.0,
                "mnf_slope_pct_per_min": -2.5,
                "mdf_slope_pct_per_min": -3.0 if side == "left" else float("nan"),
                "fi_nsm5_ratio": 1.4,
                "saturation_pct": 0.0,
                "snr_db": 25.0,
                "game_count": game_count,
            },
            "envelope": {"rate_hz": 10.0, "values": [0.0, 0.0002, 0.0009, 0.0001]},
        } | ({"agreement": dict(agreement)} if agreement is not None else {})

    return {
        "version": version,
        "units": {"amplitude": "V"},
        "recording": {
            "rate_hz": 990.0,
            "duration_s": 75.03,
            "n_samples": 74280,
            "started_at": "2023-03-21T17:23:00",
            "metadata": {"game_name": "Ghostly", "game_level": 2, "game_score": 24},
            "warnings": ["CH2 Raw: clipped runs at -5.5 mV"],
            "saturation": {},
        },
        "channels": [
            channel("CH1 Raw", "left", left_good, 11),
            channel("CH2 Raw", "right", 6, 12),
        ],
        "score": {
            "overall": overall,
            "compliance": {"CH1 Raw": 90.0, "CH2 Raw": 70.0, "mean": 80.0},
            "symmetry": 87.5,
            "effort": None,
            "game": None,
            "missing": ["effort", "game"],
            "weights": {"compliance": 0.5, "symmetry": 0.2, "effort": 0.2, "game": 0.1},
            "bfr": {"pressure_pct_aop": None, "in_safe_band": None, "gated": False},
        },
        "parameters": {},
    }


def analysed(session, name="round1.c3d", *, scoring=None, **doc):
    """A recording of ``session`` whose current analysis is ``contract_document(**doc)``.

    Stored through the pipeline's ``analysis_save`` as an upload analysed with a 75 % MVC
    target (and the ``scoring`` keys given, e.g. ``game_score_max``), as the worker would;
    the recording comes back refreshed (status ``done``).
    """

    recording = make_recording(session, name)
    analysis_save(
        recording=recording,
        document=contract_document(**doc),
        parameters={
            "scoring": {"target_pct_mvc": 75.0, **(scoring or {})},
            "clinic_settings_version": None,
        },
        trigger="upload",
        timings={},
    )
    recording.refresh_from_db()
    return recording


def login_session(user) -> str:
    """The ``sessionid`` cookie value of a real login (database sessions) of ``user``.

    For clients that are not Django's test client: websockets, Daphne, Chromium.
    """

    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


# ---------------------------------------------------------------------------------------------
# Waiting without fixed sleeps
# ---------------------------------------------------------------------------------------------


def wait_for(predicate, *, timeout=30.0, interval=0.1, what="condition"):
    """Poll ``predicate`` until it returns something true (returned), or fail at the deadline.

    The predicate may raise to give up early (a process that died will never become ready).
    """

    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def http_answers(url: str) -> bool:
    """True once ``url`` answers 2xx/3xx (for ``wait_for``): a server that is up and serving."""

    try:
        with urllib.request.urlopen(url, timeout=5):  # noqa: S310 - loopback URLs we built
            return True
    except OSError:
        return False


# ---------------------------------------------------------------------------------------------
# The broker and real workers
# ---------------------------------------------------------------------------------------------


def purge_broker():
    """Drop messages other tests left in this run's queues (ids may collide across runs)."""

    with app.connection_for_write() as conn:
        for queue in queues_in_use():
            conn.default_channel.queue_purge(queue)


@contextlib.contextmanager
def embedded_worker(*, purge: bool = True, **options):
    """A real Celery worker in a thread of this process, by default on emptied queues.

    The root conftest's ``worker`` fixture is this with the defaults (solo pool, every queue
    a task may be sent to, as a deployment's workers together); ``options`` go to
    ``celery.contrib.testing.worker.start_worker`` (e.g. a threads pool, ``queues``).
    """

    if purge:
        purge_broker()
    options.setdefault("queues", queues_in_use())
    with start_worker(app, perform_ping_check=False, shutdown_timeout=30, **options) as running:
        yield running


def free_port() -> int:

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class OwnRedis:
    """A redis-server of this test only (the shared one is never stopped), restartable."""

    def __init__(self, folder):
        self.folder = folder
        self.port = free_port()
        self.process = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):

        self.process = subprocess.Popen(
            [
                shutil.which("redis-server") or "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.folder),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url)

        def answers():
            if self.process.poll() is not None:
                raise RuntimeError("redis-server exited")
            try:
                return client.ping()
            except redis.exceptions.ConnectionError:
                return False

        wait_for(answers, timeout=5, interval=0.05, what="redis-server to start")
        client.close()
        return self

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None


def run_on_embedded_sqlite(code: str, var_dir: Path) -> str:
    """Run ``code`` in a fresh process on the embedded defaults (SQLite in ``var_dir``, just
    migrated), for what must also hold on the demo's database; its stdout, or a failed
    assertion with its stderr."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "MEDIA_ROOT", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(DJANGO_SETTINGS_MODULE="config.settings.local", MYOCLINIC_VAR_DIR=str(var_dir))
    script = (
        "import django; django.setup()\n"
        "from django.core.management import call_command\n"
        "from django.db import connection\n"
        "assert connection.vendor == 'sqlite', connection.vendor\n"
        "call_command('migrate', verbosity=0)\n"
    ) + code
    result = subprocess.run(  # noqa: S603 - fixed argv
        [sys.executable, "-c", script],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def worker_env(**extra) -> dict:
    """Environment for a subprocess (worker, server, command) that uses this test's database."""

    db = settings.DATABASES["default"]
    env = dict(os.environ)
    env.update(
        DATABASE_URL=(
            f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
            if not db.get("PASSWORD")
            else f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
        ),
        DJANGO_SETTINGS_MODULE="config.settings.test",
        MEDIA_ROOT=str(settings.MEDIA_ROOT),
        PYTHONUNBUFFERED="1",
    )
    env.update({k: str(v) for k, v in extra.items()})
    return env


class LoggedProcess:
    """A subprocess whose output goes to a log file, waited for by an event, stopped politely."""

    def __init__(self, env: dict, log_path):
        self.env = env
        self.log_path = log_path
        self.process = None
        self.log = None

    def spawn(self, args):

        repo = Path(__file__).resolve().parents[2]
        self.log = open(self.log_path, "w")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            args, cwd=repo, env=self.env, stdout=self.log, stderr=subprocess.STDOUT
        )

    def output(self) -> str:

        return Path(self.log_path).read_text()

    def wait_until(self, predicate, *, timeout: float, what: str):
        """``wait_for`` the event, failing at once (with the log) if the process died."""

        def ready():
            if self.process.poll() is not None:
                raise RuntimeError(f"{what}: the process exited\n" + self.output()[-3000:])
            return predicate()

        try:
            return wait_for(ready, timeout=timeout, what=what)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n" + self.output()[-3000:]) from None

    def stop(self):

        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        if self.log is not None:
            self.log.close()
            self.log = None


class WorkerProcess(LoggedProcess):
    """`celery -A config worker -P prefork -c 1` (optionally with beat) as a real subprocess."""

    def __init__(self, env: dict, log_path, *, beat: bool = False, schedule_path=None):
        super().__init__(env, log_path)
        self.beat = beat
        self.schedule_path = schedule_path

    def start(self, *, ready_timeout=30.0):

        args = [sys.executable, "-m", "celery", "-A", "config", "worker", "-P", "prefork"]
        args += ["-c", "1", "--loglevel", "INFO", "--without-mingle", "--without-gossip"]
        args += ["-n", f"test-{time.time_ns()}@%h"]
        if self.beat:
            args += ["-B", "-s", str(self.schedule_path)]
        self.spawn(args)
        self.wait_until(
            lambda: " ready." in self.output(), timeout=ready_timeout, what="the worker to be ready"
        )
        return self

    def pool_children(self) -> list[int]:
        """Pids of the worker's pool processes (children of the main process)."""

        children = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(fields[1]) == self.process.pid:
                children.append(int(stat.parent.name))
        return children


class DaphneProcess(LoggedProcess):
    """A real Daphne serving ``config.asgi`` on a free loopback port."""

    def start(self, *, ready_timeout=30.0):

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.spawn(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port)]
            + ["config.asgi:application"]
        )
        self.wait_until(
            lambda: http_answers(self.url + "/accounts/login/"),
            timeout=ready_timeout,
            what="daphne to serve pages",
        )
        return self


class TcpProxy:
    """A TCP forwarder that can be cut and restored: a database outage without touching it.

    Subprocesses connect to ``port``; ``stop()`` refuses new connections and drops open ones,
    ``start()`` accepts again on the same port.
    """

    def __init__(self, upstream_host: str, upstream_port: int):
        self.upstream = (upstream_host, int(upstream_port))
        self.port = free_port()
        self.listener = None
        self.sockets = []
        self.lock = threading.Lock()

    def start(self):

        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return self

    def _accept(self, listener):

        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.upstream)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.sockets += [client, upstream]
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(src, dst), daemon=True).start()

    @staticmethod
    def _pipe(src, dst):

        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def stop(self):

        if self.listener is not None:
            # shutdown() wakes the thread blocked in accept(); close() alone would not.
            try:
                self.listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.listener.close()
            self.listener = None
        with self.lock:
            for sock in self.sockets:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                    sock.close()
                except OSError:
                    pass
            self.sockets = []


def forget_token_failures():
    """Delete the API's invalid-token counters only (the same Redis holds the task queue)."""
    backend = settings.CACHES["default"]
    if "redis" not in backend["BACKEND"].lower():
        cache.clear()
        return
    with redis.Redis.from_url(backend["LOCATION"]) as client:
        keys = list(client.scan_iter(match=cache.make_key("api-token-failures:*")))
        if keys:
            client.delete(*keys)


# ---------------------------------------------------------------------------------------------
# Query plans (PostgreSQL)
# ---------------------------------------------------------------------------------------------


def _plan_nodes(node):
    yield node
    for child in node.get("Plans", []):
        yield from _plan_nodes(child)


def query_plan(query, *, analyze=False) -> dict:
    """The PostgreSQL plan (EXPLAIN ... FORMAT JSON) of a queryset or an SQL string, top node."""
    sql, params = (query, ()) if isinstance(query, str) else query.query.sql_with_params()
    options = "ANALYZE, FORMAT JSON" if analyze else "FORMAT JSON"
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN ({options}) {sql}", params)
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return plan[0]["Plan"]


def rows_touched(query, *, tables=None) -> int:
    """Rows every node of the executed plan read (returned or filtered out), loops counted.

    A query whose cost follows the page keeps this constant when the tables grow; one that
    scans, sorts or groups every row grows with them. ``tables``: count only the nodes that read
    these tables (the ones a test grows), so rows another test left in an unrelated table, which
    the planner may scan whole while it is tiny, do not count.
    """
    total = 0
    for node in _plan_nodes(query_plan(query, analyze=True)):
        if tables is not None and node.get("Relation Name") not in tables:
            continue
        read = node.get("Actual Rows", 0) + node.get("Rows Removed by Filter", 0)
        total += read * max(node.get("Actual Loops", 1), 1)
    return total


def index_names(query) -> set[str]:
    """The indexes the planner chose for a queryset or an SQL string (EXPLAIN, not run)."""
    return {node["Index Name"] for node in _plan_nodes(query_plan(query)) if "Index Name" in node}


def analyze_tables(*models) -> None:
    """Fresh planner statistics after a bulk insert, as autovacuum would leave them later.

    Also merges the GIN indexes' pending lists (autovacuum and autoanalyze do; a manual ANALYZE
    does not): rows just inserted wait there, and the planner rightly prices a long pending list
    as dearer than a scan.
    """
    with connection.cursor() as cursor:
        for model in models:
            table = model._meta.db_table
            cursor.execute(f'ANALYZE "{table}"')
            cursor.execute(
                "SELECT gin_clean_pending_list(i.indexrelid) FROM pg_index i"
                " JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam"
                " WHERE i.indrelid = %s::regclass AND a.amname = 'gin'",
                [table],
            )


@contextlib.contextmanager
def uncommitted_in_another_transaction(write):
    """Run ``write()`` in a transaction of another thread (its own connection), held open for
    the block and committed when the block ends."""
    written, commit, done = threading.Event(), threading.Event(), threading.Event()

    def writer():
        try:
            with transaction.atomic():
                write()
                written.set()
                commit.wait(30)
        finally:
            connection.close()
            done.set()

    thread = threading.Thread(target=writer)
    thread.start()
    assert written.wait(30)
    try:
        yield
    finally:
        commit.set()
        assert done.wait(30)
        thread.join()


def live_inputs(**extra):
    """What a live analysis needs (``analysis.pipeline.live.LiveInputs``) with no MVC and no
    targets, for one channel "CH1 Raw" at a 1e-5 V noise floor; ``extra`` overrides."""
    from analysis import core
    from analysis.pipeline.live import LiveInputs

    base = {
        "mvc": {},
        "noise": {"CH1 Raw": 1e-5},
        "activity": {},
        "channel_map": None,
        "scoring": core.ScoringConfig(),
        "target_count": 0,
        "target_pct_mvc": 30.0,
        "bfr_pct_aop": None,
        "bfr_band": (40.0, 80.0),
    }
    return LiveInputs(**(base | extra))
