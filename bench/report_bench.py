"""Render time of the PDF reports (issue 13), cold and cached.

1. A session report of a session with the three real GHOSTLY recordings (analysed first, in
   this process, by the same pipeline as a worker): the first render in the process (WeasyPrint
   loads fonts and its stylesheets), the median of further uncached renders, the median of
   cold answers (cache cleared before each: what the first click costs), and the median of
   cached answers (``reports.services.session_report_pdf``: the facts digest, 2-3 queries, and
   a cache read).
2. A progress report over 30 sessions (each with a stored analysis): uncached and cached.

    .venv/bin/python bench/report_bench.py [--repeat 5] [--json out.json]

Runs on a throwaway SQLite database (or DATABASE_URL) in the embedded mode (no Redis: tasks in
process, local-memory cache). Targets (issue): session report <= 1 s cold, <= 50 ms cached;
progress report <= 3 s.
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
GHOSTLY = REPO.parent / "shared/data/c3d/ghostly"


CPU: dict[str, list[float]] = {}


def timed(fn, label: str = "") -> tuple[float, object]:
    """Wall time in ms (and the CPU time of this process, kept per label: on a shared, loaded
    machine the wall time is mostly waiting for a core)."""
    started, cpu = time.perf_counter(), time.process_time()
    result = fn()
    if label:
        CPU.setdefault(label, []).append((time.process_time() - cpu) * 1000)
    return (time.perf_counter() - started) * 1000, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", metavar="PATH")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="report-bench-")
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{tmp}/bench.sqlite3")
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("MEDIA_ROOT", f"{tmp}/media")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

    import django

    django.setup()
    from django.core.cache import cache
    from django.core.files.base import ContentFile
    from django.core.management import call_command
    from django.utils import timezone

    from analysis.models import RecordingAnalysis
    from analysis.pipeline.store import analysis_save
    from clinic.models import Clinic
    from patients.models import Patient
    from reports import services
    from sessions.models import Recording, TherapySession
    from sessions.uploads import recording_upload

    call_command("migrate", verbosity=0)
    clinic = Clinic.objects.create(name="Bench clinic", code=f"bench-{int(time.time())}")
    patient = Patient.objects.create(
        clinic=clinic, code="BENCH", first_name="Bench", last_name="Patient"
    )
    session = TherapySession.objects.create(patient=patient, rpe=5)
    for path in sorted(GHOSTLY.glob("*.c3d")):
        recording_upload(session=session, uploaded_file=ContentFile(path.read_bytes(), path.name))
    statuses = list(Recording.objects.filter(session=session).values_list("status", flat=True))
    if statuses != ["done"] * 3:
        print(f"the recordings were not analysed: {statuses}", file=sys.stderr)
        return 1

    figures: dict[str, float] = {}
    first_ms, report = timed(
        lambda: services.session_report_pdf(None, session, use_cache=False), "session_first"
    )
    figures["session_first_in_process_ms"] = first_ms
    uncached = [
        timed(lambda: services.session_report_pdf(None, session, use_cache=False), "session")[0]
        for _ in range(args.repeat)
    ]
    figures["session_uncached_median_ms"] = statistics.median(uncached)
    cold = []
    for _ in range(args.repeat):
        cache.clear()
        cold.append(timed(lambda: services.session_report_pdf(None, session), "session_cold")[0])
    figures["session_cold_cache_miss_ms"] = statistics.median(cold)
    cached = [timed(lambda: services.session_report_pdf(None, session))[0] for _ in range(20)]
    figures["session_cached_median_ms"] = statistics.median(cached)
    figures["session_bytes"] = len(report.pdf)

    # 30 sessions: the real one and 29 more with one stored analysis each (a real document).
    template = RecordingAnalysis.objects.filter(recording__session=session).first()
    for i in range(29):
        started = timezone.now() - timezone.timedelta(days=2 * (30 - i))
        other = TherapySession.objects.create(patient=patient, started_at=started, rpe=3 + i % 6)
        data = f"bench-{i}".encode()
        recording = Recording(
            session=other,
            sha256=f"{i:064x}",
            size_bytes=len(data),
            original_name=f"bench-{i}.c3d",
        )
        recording.file.save(f"bench-{i}.c3d", ContentFile(data), save=False)
        recording.save()
        analysis_save(
            recording=recording,
            document=template.document,
            parameters=template.parameters,
            trigger="upload",
            timings={},
        )
    progress_first, progress = timed(
        lambda: services.progress_report_pdf(None, patient, use_cache=False), "progress_first"
    )
    figures["progress_30_sessions_first_ms"] = progress_first
    figures["progress_30_sessions_uncached_median_ms"] = statistics.median(
        timed(lambda: services.progress_report_pdf(None, patient, use_cache=False), "progress")[0]
        for _ in range(args.repeat)
    )
    services.progress_report_pdf(None, patient)
    figures["progress_cached_median_ms"] = statistics.median(
        timed(lambda: services.progress_report_pdf(None, patient))[0] for _ in range(20)
    )
    figures["progress_bytes"] = len(progress.pdf)

    for label, values in CPU.items():
        figures[f"{label}_cpu_median_ms"] = statistics.median(values)
    for name, value in figures.items():
        print(f"{name:42s} {value:10.1f}")
    print(f"load average (1, 5, 15 min): {os.getloadavg()}, cores: {os.cpu_count()}")
    targets = [
        ("session report cold <= 1000 ms (wall)", figures["session_cold_cache_miss_ms"] <= 1000),
        (
            "session report cold <= 1000 ms (CPU of this process)",
            figures["session_cold_cpu_median_ms"] <= 1000,
        ),
        ("session report cached <= 50 ms", figures["session_cached_median_ms"] <= 50),
        ("progress report <= 3000 ms", figures["progress_30_sessions_uncached_median_ms"] <= 3000),
    ]
    for label, met in targets:
        print(f"{'met   ' if met else 'MISSED'} {label}")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
