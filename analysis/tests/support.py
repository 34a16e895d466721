"""Helpers shared by the pipeline tests (recordings, result documents, real workers, Redis)."""

from __future__ import annotations

import threading


def make_recording(session, name="round1.c3d", data=None, **fields):
    """A Recording row with a small stored file (for tests that never run the core)."""
    import hashlib

    from django.core.files.base import ContentFile

    from sessions.models import Recording

    data = data if data is not None else name.encode()
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


def contract_document(*, overall=80.0, left_good=10, version="test-1"):
    """A result document shaped like the numeric core's contract, with known numbers."""

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
        }

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


# ---------------------------------------------------------------------------------------------
# Real workers and a private Redis
# ---------------------------------------------------------------------------------------------


def free_port() -> int:
    import socket

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
        import shutil
        import subprocess
        import time

        import redis

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
        for _ in range(100):
            try:
                if client.ping():
                    return self
            except redis.exceptions.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None


def worker_env(**extra) -> dict:
    """Environment for a subprocess (worker, command) that uses this test's database."""
    import os

    from django.conf import settings

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


class WorkerProcess:
    """`celery -A config worker -P prefork -c 1` (optionally with beat) as a real subprocess."""

    def __init__(self, env: dict, log_path, *, beat: bool = False, schedule_path=None):
        self.env = env
        self.log_path = log_path
        self.beat = beat
        self.schedule_path = schedule_path
        self.process = None

    def start(self, *, ready_timeout=30.0):
        import subprocess
        import sys
        import time
        from pathlib import Path

        args = [sys.executable, "-m", "celery", "-A", "config", "worker", "-P", "prefork"]
        args += ["-c", "1", "--loglevel", "INFO", "--without-mingle", "--without-gossip"]
        args += ["-n", f"test-{time.time_ns()}@%h"]
        if self.beat:
            args += ["-B", "-s", str(self.schedule_path)]
        self.log = open(self.log_path, "w")  # noqa: SIM115 - closed in stop()
        repo = Path(__file__).resolve().parents[2]
        self.process = subprocess.Popen(
            args, cwd=repo, env=self.env, stdout=self.log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + ready_timeout
        while time.monotonic() < deadline:
            if " ready." in Path(self.log_path).read_text():
                return self
            if self.process.poll() is not None:
                raise RuntimeError(Path(self.log_path).read_text()[-3000:])
            time.sleep(0.1)
        raise RuntimeError("worker not ready:\n" + Path(self.log_path).read_text()[-3000:])

    def pool_children(self) -> list[int]:
        """Pids of the worker's pool processes (children of the main process)."""
        from pathlib import Path

        children = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(fields[1]) == self.process.pid:
                children.append(int(stat.parent.name))
        return children

    def stop(self):
        import signal
        import subprocess

        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        if getattr(self, "log", None):
            self.log.close()

    def output(self) -> str:
        from pathlib import Path

        return Path(self.log_path).read_text()


def wait_for(predicate, *, timeout=30.0, interval=0.1, what="condition"):
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def purge_broker():
    """Drop messages other tests left in this run's queue (ids may collide across runs)."""
    from config.celery import app

    with app.connection_for_write() as conn:
        app.control.purge(connection=conn)


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
        import socket
        import threading

        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return self

    def _accept(self, listener):
        import socket
        import threading

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
        import socket

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
        import socket

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
