"""Latency of the REST API under load: p50/p95/p99 of the patient list, the session list and a
recording detail, from concurrent clients against real Daphne processes on loopback.

    DATABASE_URL=postgres://... REDIS_URL=redis://... python bench/api_bench.py \
        [--patients 10000] [--sessions 100000] [--clients 20] [--requests 400] \
        [--processes 1] [--think 0 0] [--json out.json]

Use a throwaway PostgreSQL database: it is migrated, then filled with one clinic of
``--patients`` patients and ``--sessions`` sessions (bulk inserts; a second run adds only what
is missing) and one recording analysed in-process from a real GHOSTLY file. The clients call
as the clinic's manager (who sees every patient) with a personal API token; throttling is
lifted for the run (the throttle itself still runs: its Redis round trips are measured).

The first row, ``/healthz``, is the floor: the same clients against Daphne and Django's
middleware with one database and one cache round trip and no API code.

Two modes, printed with every table:

- closed loop (``--think 0 0``, the default): each of ``--clients`` clients sends its next
  request as soon as the previous one answered. This is "20 concurrent clients" at its
  hardest: the server is saturated, so p50 is about clients / throughput.
- paced (``--think MIN MAX``): each client waits a random MIN..MAX seconds between requests,
  like a person or a tablet; latency is then mostly service time plus queueing.

``--processes N`` starts N Daphne processes, each on its own port, and deals the clients out
to them in turn (a proxy spreading connections would do the same). The servers use the
production connection pool (``DB_POOL_MAX_SIZE``, default 4 here unless set). Each endpoint
gets ``--requests`` timed requests spread over the clients, after one warm-up request each.
Besides latency it prints the CPU time the Daphne processes, PostgreSQL (the whole local
cluster: live backends plus those that exited) and this load generator spent per request,
and the load average: on a shared machine CPU per request is the fair figure.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from quiet_generator import collector_paused

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ.setdefault("DJANGO_DEBUG", "false")
NO_THROTTLE = "100000000/minute"


def seed(n_patients: int, n_sessions: int) -> dict:
    """The clinic, its people, patients, sessions and one analysed recording (bulk)."""
    import datetime as dt

    from django.contrib.auth.models import Group
    from django.core.files import File
    from django.utils import timezone

    from analysis import core
    from analysis.pipeline.store import analysis_save
    from clinic.models import Clinic, User
    from clinic.roles import CLINIC_MANAGER, THERAPIST
    from clinic.services import api_token_create
    from patients.models import Patient
    from sessions.models import TherapySession
    from sessions.uploads import recording_upload

    clinic, _ = Clinic.objects.get_or_create(code="bench-api", defaults={"name": "API bench"})
    manager, _ = User.objects.get_or_create(email="manager@bench-api.test", clinic=clinic)
    manager.groups.add(Group.objects.get(name=CLINIC_MANAGER))
    therapist, _ = User.objects.get_or_create(email="therapist@bench-api.test", clinic=clinic)
    therapist.groups.add(Group.objects.get(name=THERAPIST))
    have = Patient.objects.filter(clinic=clinic).count()
    Patient.objects.bulk_create(
        [
            Patient(
                clinic=clinic,
                code=f"B{i:05d}",
                first_name=f"First{i}",
                last_name=f"Last{i}",
                mrn=f"BM{i:06d}",
                date_of_birth=dt.date(1940 + i % 50, 1 + i % 12, 1 + i % 28),
            )
            for i in range(have, n_patients)
        ],
        batch_size=2000,
    )
    patients = list(
        Patient.objects.filter(clinic=clinic).order_by("pk").values_list("pk", flat=True)
    )
    Patient.therapists.through.objects.bulk_create(
        [Patient.therapists.through(patient_id=p, user_id=therapist.pk) for p in patients],
        ignore_conflicts=True,
        batch_size=5000,
    )
    have = TherapySession.objects.filter(patient__clinic=clinic).count()
    start = timezone.now() - dt.timedelta(days=400)
    TherapySession.objects.bulk_create(
        [
            TherapySession(
                patient_id=patients[i % len(patients)],
                therapist=therapist,
                started_at=start + dt.timedelta(minutes=5 * i),
                rpe=i % 11,
            )
            for i in range(have, n_sessions)
        ],
        batch_size=5000,
    )
    session = TherapySession.objects.filter(patient__clinic=clinic).order_by("-started_at").first()
    path = sorted((REPO.parent / "shared" / "data" / "c3d" / "ghostly").glob("*.c3d"))[0]
    recording = session.recordings.first()
    if recording is None:
        with path.open("rb") as handle:
            recording = recording_upload(session=session, uploaded_file=File(handle, path.name))
        document = core.analyse_file(str(path), include_envelope=True)
        analysis_save(
            recording=recording,
            document=document,
            parameters={"scoring": {}, "clinic_settings_version": None},
            trigger="upload",
            timings={},
        )
    _, token = api_token_create(user=manager, name="bench")
    return {"token": token, "recording": recording.pk}


def load(
    urls: list[str], path: str, token: str, *, clients: int, requests_total: int, think, cpu
) -> dict:
    """Time ``requests_total`` GETs of ``path`` from ``clients`` threads (client i on
    ``urls[i % len(urls)]``, one keep-alive connection each), after one warm-up each."""
    import http.client
    import random

    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    per_client = max(1, requests_total // clients)
    ready = threading.Barrier(clients + 1)
    headers = {"Authorization": f"Token {token}", "Accept": "application/json"}

    def run(i):
        host, port = urls[i % len(urls)].rsplit("/", 1)[-1].split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=120)
        rng = random.Random(i)

        def get():
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            body = response.read()
            if response.status != 200:
                errors.append(f"{response.status} {body[:200]!r}")

        get()  # warm-up: the connection and the server's caches
        ready.wait()
        mine = []
        for _ in range(per_client):
            if think[1] > 0:
                time.sleep(rng.uniform(*think))
            began = time.perf_counter()
            get()
            mine.append((time.perf_counter() - began) * 1000)
        conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    ready.wait()
    before, began = cpu(), time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed, after = time.perf_counter() - began, cpu()
    if errors:
        raise SystemExit(f"{path}: {len(errors)} errors, first: {errors[0]}")
    n = len(latencies)
    spent = {key: (after[key] - before[key]) / n * 1000 for key in before if key in after}
    return {
        "requests": n,
        "req_per_s": n / elapsed,
        "p50": percentile(latencies, 50),
        "p95": percentile(latencies, 95),
        "p99": percentile(latencies, 99),
        "mean": statistics.fmean(latencies),
        "cpu_ms_per_request": spent,
        "load_average": os.getloadavg(),
    }


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


# CPU time of processes, from /proc (Linux): seconds of user + system time.
TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            text = handle.read()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()  # fields from the 3rd (state) on


def process_cpu(pid: int, *, children: bool = False) -> float:
    fields = _stat(pid)
    if fields is None:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    if children:
        ticks += int(fields[13]) + int(fields[14])  # cutime, cstime: exited children
    return ticks / TICK


def postgres_cpu(postmaster: int | None) -> float | None:
    """The local PostgreSQL cluster: the postmaster, its live children and those that exited
    (so backends of short connections count too)."""
    if postmaster is None:
        return None
    total = process_cpu(postmaster, children=True)
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat(int(entry))
            if fields is not None and int(fields[1]) == postmaster:  # ppid
                total += (int(fields[11]) + int(fields[12])) / TICK
    return total


def find_postmaster() -> int | None:
    from django.db import connection

    if connection.vendor != "postgresql" or connection.settings_dict.get("HOST") not in (
        "127.0.0.1",
        "localhost",
        "::1",
        "",
    ):
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    fields = _stat(backend)
    return int(fields[1]) if fields else None  # when PostgreSQL runs on this machine


def start_servers(n: int, env: dict, log) -> tuple[list, list[str]]:
    from analysis.tests.support import free_port, http_answers, wait_for

    servers, urls = [], []
    for _ in range(n):
        port = free_port()
        servers.append(
            subprocess.Popen(
                [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port)]
                + ["config.asgi:application"],
                cwd=REPO,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
        urls.append(f"http://127.0.0.1:{port}")
    for url in urls:
        wait_for(lambda url=url: http_answers(url + "/accounts/login/"), timeout=90, what="daphne")
    return servers, urls


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--sessions", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=400, help="timed requests per endpoint")
    parser.add_argument("--processes", type=int, default=1, help="Daphne processes")
    parser.add_argument(
        "--think",
        type=float,
        nargs=2,
        default=(0.0, 0.0),
        metavar=("MIN", "MAX"),
        help="seconds each client waits between requests (0 0: closed loop)",
    )
    parser.add_argument("--only", nargs="*", help="endpoints: healthz patients sessions recording")
    parser.add_argument("--json", help="write the figures to this file")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("Set DATABASE_URL to a throwaway PostgreSQL database.")

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    began = time.perf_counter()
    seeded = seed(args.patients, args.sessions)
    took = time.perf_counter() - began
    print(f"seeded {args.patients} patients, {args.sessions} sessions in {took:.0f} s")
    postmaster = find_postmaster()

    env = {
        **os.environ,
        "API_THROTTLE_USER": NO_THROTTLE,
        "ALLOWED_HOSTS": "127.0.0.1",
        "DB_POOL_MAX_SIZE": os.environ.get("DB_POOL_MAX_SIZE", "4"),
    }
    mode = (
        "closed loop (no think time)"
        if args.think[1] <= 0
        else f"paced ({args.think[0]:g}-{args.think[1]:g} s think time per client)"
    )
    figures = {"mode": mode, "processes": args.processes, "clients": args.clients, "rows": {}}
    with tempfile.TemporaryFile() as log:
        servers, urls = start_servers(args.processes, env, log)

        def cpu() -> dict:
            out = {
                "daphne": sum(process_cpu(s.pid) for s in servers),
                "generator": time.process_time(),
            }
            pg = postgres_cpu(postmaster)
            if pg is not None:
                out["postgres"] = pg
            return out

        try:
            targets = {
                # the floor: Daphne, Django's middleware and one database and cache round trip,
                # no API code; what any endpoint costs at least under the same load
                "healthz": ("/healthz (floor)", "/healthz"),
                "patients": ("patient list", "/api/v1/patients/"),
                "sessions": ("session list", "/api/v1/sessions/"),
                "recording": ("recording detail", f"/api/v1/recordings/{seeded['recording']}/"),
            }
            print(
                f"{mode}; {args.clients} clients over {args.processes} Daphne process(es) "
                f"(DB_POOL_MAX_SIZE={env['DB_POOL_MAX_SIZE']}, "
                f"{os.environ.get('DJANGO_SETTINGS_MODULE')}); {os.cpu_count()} CPUs"
            )
            print(
                f"{'endpoint':<17} {'p50':>7} {'p95':>7} {'p99':>7} {'mean':>7} {'req/s':>6}"
                f" | CPU ms/request: {'daphne':>6} {'postgres':>8} {'generator':>9}"
                f" | load average"
            )
            for key, (name, path) in targets.items():
                if args.only and key not in args.only:
                    continue
                with collector_paused():
                    row = load(
                        urls,
                        path,
                        seeded["token"],
                        clients=args.clients,
                        requests_total=args.requests,
                        think=args.think,
                        cpu=cpu,
                    )
                figures["rows"][name] = row
                spent = row["cpu_ms_per_request"]
                pg = f"{spent['postgres']:8.1f}" if "postgres" in spent else f"{'n/a':>8}"
                print(
                    f"{name:<17} {row['p50']:7.1f} {row['p95']:7.1f} {row['p99']:7.1f} "
                    f"{row['mean']:7.1f} {row['req_per_s']:6.1f} |                 "
                    f"{spent['daphne']:6.1f} {pg} {spent['generator']:9.1f} | "
                    + " ".join(f"{x:.1f}" for x in row["load_average"])
                )
            print("latencies in ms; CPU per request = CPU seconds spent in the window / requests")
        finally:
            for server in servers:
                server.terminate()
            for server in servers:
                server.wait(timeout=30)
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
