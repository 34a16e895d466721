"""Latency of the REST API under load: p50/p95 of the patient list, the session list and a
recording detail, at 20 concurrent clients against a real Daphne on loopback.

    DATABASE_URL=postgres://... REDIS_URL=redis://... python bench/api_bench.py \
        [--patients 10000] [--sessions 100000] [--clients 20] [--requests 400]

Use a throwaway PostgreSQL database: it is migrated, then filled with one clinic of
``--patients`` patients and ``--sessions`` sessions (bulk inserts) and one recording analysed
in-process from a real GHOSTLY file. The clients call as the clinic's manager (who sees every
patient) with a personal API token; throttling is lifted for the run. Each endpoint gets
``--requests`` requests spread over ``--clients`` threads, after a warm-up.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

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


def load(url: str, token: str, *, clients: int, requests_total: int) -> list[float]:
    """Latencies (ms) of ``requests_total`` GETs of ``url`` from ``clients`` threads."""
    import requests

    latencies: list[float] = []
    lock = threading.Lock()
    per_client = max(1, requests_total // clients)
    errors: list[str] = []

    def run():
        http = requests.Session()
        http.headers["Authorization"] = f"Token {token}"
        http.get(url, timeout=60)  # warm-up: the connection and the server's caches
        mine = []
        for _ in range(per_client):
            began = time.perf_counter()
            response = http.get(url, timeout=60)
            mine.append((time.perf_counter() - began) * 1000)
            if response.status_code != 200:
                errors.append(f"{response.status_code} {response.text[:200]}")
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=run) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise SystemExit(f"{url}: {len(errors)} errors, first: {errors[0]}")
    return latencies


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--sessions", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=400)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("Set DATABASE_URL to a throwaway PostgreSQL database.")

    import django

    django.setup()
    from django.core.management import call_command

    from analysis.tests.support import free_port, http_answers, wait_for

    call_command("migrate", verbosity=0)
    began = time.perf_counter()
    seeded = seed(args.patients, args.sessions)
    took = time.perf_counter() - began
    print(f"seeded {args.patients} patients, {args.sessions} sessions in {took:.0f} s")

    port = free_port()
    env = {**os.environ, "API_THROTTLE_USER": NO_THROTTLE, "ALLOWED_HOSTS": "127.0.0.1"}
    with tempfile.TemporaryFile() as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port)]
            + ["config.asgi:application"],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            wait_for(lambda: http_answers(base + "/accounts/login/"), timeout=60, what="daphne")
            targets = {
                "patient list": f"{base}/api/v1/patients/",
                "session list": f"{base}/api/v1/sessions/",
                "recording detail": f"{base}/api/v1/recordings/{seeded['recording']}/",
            }
            print(f"{args.clients} concurrent clients, {args.requests} requests per endpoint")
            print(f"{'endpoint':<18} {'p50 ms':>8} {'p95 ms':>8} {'mean ms':>8} {'req/s':>7}")
            for name, url in targets.items():
                began = time.perf_counter()
                latencies = load(
                    url, seeded["token"], clients=args.clients, requests_total=args.requests
                )
                elapsed = time.perf_counter() - began
                print(
                    f"{name:<18} {statistics.median(latencies):8.1f} "
                    f"{percentile(latencies, 95):8.1f} {statistics.fmean(latencies):8.1f} "
                    f"{len(latencies) / elapsed:7.1f}"
                )
        finally:
            server.terminate()
            server.wait(timeout=30)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
