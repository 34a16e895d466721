"""Throughput of one Celery worker process on a batch of real and synthetic recordings.

End to end: upload through the upload service (sha256, private storage, enqueue on commit),
the broker, one ``celery worker -P prefork -c 1`` process (claim, isolated read, analysis,
one-transaction write of every channel and contraction row), until the last recording is
finished. Prints recordings per second and the per-stage times the analyses recorded.

    DATABASE_URL=postgres://... REDIS_URL=redis://... python bench/pipeline_bench.py

It creates a throwaway clinic, patient and session in that database and removes them after
(``--keep`` keeps them). It starts its own worker, so stop other workers on the same queue first.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ.setdefault("DJANGO_DEBUG", "false")


def real_files() -> list[Path]:
    folder = REPO.parent / "shared" / "data" / "c3d"
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.stat().st_size > 0)


def synthetic_files(folder: Path, count: int, duration_s: float) -> list[Path]:
    """Game-format recordings from the core's generator, different seeds."""
    from analysis.core import synth

    paths = []
    for seed in range(count):
        recording, truth = synth.generate_session(seed, duration_s=duration_s, rate_hz=990.0)
        path = folder / f"synthetic-{seed:03d}.c3d"
        synth.write_session(path, recording, truth)
        paths.append(path)
    return paths


def start_worker(log_path: Path) -> subprocess.Popen:
    log = log_path.open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-P", "prefork", "-c", "1"]
        + ["--loglevel", "WARNING", "--without-mingle", "--without-gossip", "-n", "bench@%h"],
        cwd=REPO,
        stdout=log,
        stderr=subprocess.STDOUT,
        env=os.environ.copy(),
    )
    return process


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--synthetic", type=int, default=20, help="synthetic recordings")
    parser.add_argument("--duration", type=float, default=90.0, help="synthetic length (s)")
    parser.add_argument("--repeat-real", type=int, default=3, help="copies of each real file")
    parser.add_argument("--keep", action="store_true", help="keep the bench rows")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL") or not os.environ.get("REDIS_URL"):
        print("set DATABASE_URL and REDIS_URL (PostgreSQL and Redis)", file=sys.stderr)
        return 2

    import django

    django.setup()
    from django.core.files.base import ContentFile
    from django.core.management import call_command

    from analysis.models import RecordingAnalysis
    from analysis.pipeline.queue import recordings_wait
    from clinic.models import Clinic
    from patients.models import Patient
    from sessions.models import Recording, TherapySession
    from sessions.uploads import UploadRefused, recording_upload

    call_command("migrate", verbosity=0)
    stamp = time.strftime("%Y%m%d%H%M%S")
    clinic = Clinic.objects.create(name=f"Bench {stamp}", code=f"bench-{stamp}")
    patient = Patient.objects.create(clinic=clinic, code="BENCH", first_name="B", last_name="B")
    session = TherapySession.objects.create(patient=patient)

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        t0 = time.perf_counter()
        synthetic = synthetic_files(tmp, args.synthetic, args.duration)
        synth_s = time.perf_counter() - t0
        batch = []
        for copy in range(args.repeat_real):
            for path in real_files():
                # A byte appended after the last block changes the hash (one file per session
                # is the rule) without changing what a reader sees.
                batch.append((f"{copy}-{path.name}", path.read_bytes() + b"\0" * copy))
        batch += [(p.name, p.read_bytes()) for p in synthetic]

        worker = start_worker(tmp / "worker.log")
        try:
            time.sleep(3)  # let the worker connect before the clock starts
            ids, refused = [], 0
            started = time.perf_counter()
            for name, data in batch:
                try:
                    ids.append(
                        recording_upload(
                            session=session, uploaded_file=ContentFile(data, name=name)
                        ).pk
                    )
                except UploadRefused:
                    refused += 1
            upload_s = time.perf_counter() - started
            statuses = recordings_wait(recording_ids=ids, timeout_s=1800, poll_s=0.05)
            elapsed = time.perf_counter() - started
        finally:
            worker.terminate()
            worker.wait(timeout=30)

        done = sum(1 for s in statuses.values() if s == "done")
        failed = sum(1 for s in statuses.values() if s == "failed")
        analyses = list(RecordingAnalysis.objects.filter(recording_id__in=ids, is_current=True))
        seconds = sum(a.duration_s or 0 for a in analyses)

        def ms(values):
            values = [v for v in values if v is not None]
            return f"median {statistics.median(values):.0f} ms" if values else "n/a"

        print(f"batch: {len(batch)} files ({len(synthetic)} synthetic of {args.duration:.0f} s,")
        print(f"       {len(batch) - len(synthetic)} real), {refused} refused at upload")
        print(f"synthetic generation: {synth_s:.1f} s (not timed below)")
        print(f"uploads: {upload_s:.2f} s for {len(ids)} files ({len(ids) / upload_s:.1f}/s)")
        print(f"end to end, one worker process: {elapsed:.2f} s for {len(ids)} recordings")
        print(f"  -> {len(ids) / elapsed:.2f} recordings/s ({done} done, {failed} failed)")
        print(f"  -> {seconds / elapsed:.0f} s of EMG analysed per second")
        print(f"read (isolated child): {ms(a.read_ms for a in analyses)}")
        print(f"analyse: {ms(a.analyse_ms for a in analyses)}")
        print(f"task total: {ms(a.total_ms for a in analyses)}")

    if not args.keep:
        RecordingAnalysis.objects.filter(recording__session=session).delete()
        for recording in Recording.objects.filter(session=session):
            recording.file.delete(save=False)
        Recording.objects.filter(session=session).delete()
        session.delete()
        patient.delete()
        clinic.delete()
    return 0


if __name__ == "__main__":
    sys.exit(main())
