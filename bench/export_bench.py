"""How long the exports of one patient with a long history take (issue 14).

A throwaway clinic, therapist and patient with ``--sessions`` sessions of ``--rounds`` analysed
recordings each, every one stored through the pipeline's ``analysis_save`` with the numeric
core's real document of a real GHOSTLY recording (two muscles, their contractions, the game's,
and the decimated envelopes), all inside one transaction that is rolled back at the end. Then,
as the therapist, the median of ``--repeat`` runs of each export (the whole output produced and
serialised), with its size and query count.

    DATABASE_URL=postgres://... python bench/export_bench.py [--sessions 100] [--rounds 3]

Needs PostgreSQL (the production database); stores nothing (MEDIA_ROOT is a temporary folder).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ.setdefault("DJANGO_DEBUG", "false")
os.environ.setdefault("MEDIA_ROOT", tempfile.mkdtemp(prefix="export-bench-"))


def real_document() -> dict:
    from analysis import core

    folder = REPO.parent / "shared" / "data" / "c3d" / "ghostly"
    path = sorted(p for p in folder.rglob("*.c3d") if p.stat().st_size > 0)[0]
    return core.analyse_file(path, rpe=5)


def build(sessions: int, rounds: int, document: dict):
    import datetime as dt

    from django.contrib.auth.models import Group
    from django.core.files.base import ContentFile

    from analysis.pipeline.store import analysis_save
    from clinic.models import Clinic, User
    from clinic.roles import THERAPIST
    from patients.models import Patient
    from sessions.models import Recording, TherapySession

    clinic = Clinic.objects.create(name="Bench clinic", code="bench-export")
    therapist = User.objects.create_user(email="bench-export@bench.test", password=None)
    therapist.clinic = clinic
    therapist.save()
    therapist.groups.add(Group.objects.get(name=THERAPIST))
    patient = Patient.objects.create(
        clinic=clinic, code="B001", first_name="Bench", last_name="Patient", mrn="B-1"
    )
    patient.therapists.add(therapist)
    start = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
    for s in range(sessions):
        session = TherapySession.objects.create(
            patient=patient, therapist=therapist, started_at=start + dt.timedelta(days=s), rpe=5
        )
        for r in range(rounds):
            data = b"\x02\x50" + f"bench {s} {r}".encode()
            recording = Recording(
                session=session, sha256=f"{s:032d}{r:032d}", size_bytes=len(data),
                original_name=f"Ghostly_Emg_{s}_{r}.c3d",
            )  # fmt: skip
            recording.file.save("bench.c3d", ContentFile(data), save=False)
            recording.save()
            analysis_save(
                recording=recording,
                document=document,
                parameters={"scoring": {"target_pct_mvc": 75.0}},
                trigger="upload",
                timings={},
            )
    return User.objects.get(pk=therapist.pk), patient


def measure(label, function, repeat):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times, size, queries = [], 0, 0
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as captured:
            began = time.perf_counter()
            size = function()
            times.append(time.perf_counter() - began)
        queries = len(captured)
    print(
        f"{label:<28} median {statistics.median(times) * 1000:8.1f} ms"
        f"  (min {min(times) * 1000:7.1f})  {size / 1e6:6.2f} MB  {queries:3d} queries"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection, transaction

    from analysis import exports, fhir

    if connection.vendor != "postgresql":
        sys.exit("export_bench needs PostgreSQL: set DATABASE_URL=postgres://...")
    document = real_document()
    channels = len(document["channels"])
    contractions = sum(
        len(c["contractions"]) + len(c.get("game_contractions") or []) for c in document["channels"]
    )
    with transaction.atomic():
        began = time.perf_counter()
        user, patient = build(args.sessions, args.rounds, document)
        print(
            f"patient with {args.sessions} sessions x {args.rounds} recordings x {channels}"
            f" muscles, {contractions} contractions per recording"
            f" (set up in {time.perf_counter() - began:.1f} s)"
        )

        def csv_table(table):
            return lambda: sum(
                len(line) for line in exports.patient_export_csv(user, patient.pk, table)
            )

        for table in exports.TABLES:
            measure(f"CSV {table}", csv_table(table), args.repeat)
        measure(
            "JSON document",
            lambda: len(json.dumps(exports.patient_export_document(user, patient.pk))),
            args.repeat,
        )
        measure(
            "FHIR R4 bundle",
            lambda: len(json.dumps(fhir.patient_bundle(user, patient.pk))),
            args.repeat,
        )
        transaction.set_rollback(True)


if __name__ == "__main__":
    main()
