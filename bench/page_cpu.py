"""CPU time per page of ``load.py``'s mix, in process (issue 17).

    export DATABASE_URL=postgres://... REDIS_URL=redis://... SECRET_KEY=... \\
        DJANGO_SETTINGS_MODULE=config.settings.production ALLOWED_HOSTS=127.0.0.1
    python bench/page_cpu.py [--repeat 20] [--profile dashboard] [--top 25]

Runs each page of ``load.py`` (the same URLs, picked the same way) through the whole Django
stack in this process (``django.test.Client``: middleware, views, templates, the audit entry),
as a clinic manager and as a therapist of the clinic ``load.py`` seeded (run ``load.py
--seed-only`` first), on one database connection kept open as the pool would. Per page and
role: median wall time, median CPU time of this process (``time.process_time``: Python, the
driver and the template engine; the database's own work is the difference to wall time on an
idle machine), and queries per request. Uploads are measured as the upload page (GET) only;
their analysis runs in the worker. ``--profile PAGE`` prints the top functions (cProfile,
ordered by ``--sort``: cumulative or tottime; ``--timer cpu`` to count CPU time only) of that
page's requests. Wall times depend on what
else the machine runs; CPU times much less so.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import random
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

PAGES = (
    "patient list",
    "patient search",
    "patient page",
    "progress page",
    "session page",
    "dashboard",
    "heavy patient page",
    "heavy progress page",
    "upload page",
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=20, help="requests per page and role")
    parser.add_argument("--profile", default="", help="a page name: print its cProfile top")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--sort", default="cumulative", help="pstats order: cumulative, tottime")
    parser.add_argument("--pages", default="", help="comma-separated page names (default all)")
    parser.add_argument(
        "--timer",
        choices=("wall", "cpu"),
        default="wall",
        help="the profile's clock: wall time, or this process's CPU time (waits on the "
        "database and on other processes for the cores left out)",
    )
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from load import CLINIC, pick_path, work_for

    from clinic.models import Clinic, User
    from clinic.roles import CLINIC_MANAGER, THERAPIST
    from patients.models import Patient

    clinic = Clinic.objects.filter(code=CLINIC).first()
    if clinic is None:
        print(f"no clinic '{CLINIC}': seed it with load.py --seed-only first", file=sys.stderr)
        return 2
    heavy = Patient.objects.filter(clinic=clinic).order_by("code").values_list("pk", flat=True)[0]
    host = settings.ALLOWED_HOSTS[0] if settings.ALLOWED_HOSTS else "testserver"
    pages = [p.strip() for p in args.pages.split(",") if p.strip()] or list(PAGES)
    print(
        f"{Patient.objects.filter(clinic=clinic).count()} patients in '{CLINIC}'; "
        f"{args.repeat} requests per page and role; median per request"
    )
    print(f"{'page':<22} {'role':<9} {'wall ms':>8} {'CPU ms':>8} {'queries':>8} {'KiB':>6}")
    profiler = cProfile.Profile(time.process_time) if args.timer == "cpu" else cProfile.Profile()
    for role in (CLINIC_MANAGER, THERAPIST):
        user = User.objects.filter(clinic=clinic, groups__name=role).order_by("email").first()
        client = Client(HTTP_HOST=host)
        client.force_login(user)
        work = work_for(user, heavy)
        rng = random.Random(1)
        for page in pages:
            walls, cpus, queries, sizes = [], [], [], []
            for i in range(args.repeat + 2):  # two warm-up requests
                if page == "upload page":
                    path = f"/sessions/{rng.choice(work['sessions'])}/upload/"
                else:
                    path = pick_path(page, work, rng)
                profiling = args.profile == page and i >= 2
                with CaptureQueriesContext(connection) as captured:
                    if profiling:
                        profiler.enable()
                    w0, c0 = time.perf_counter(), time.process_time()
                    response = client.get(path, secure=True)
                    c1, w1 = time.process_time(), time.perf_counter()
                    if profiling:
                        profiler.disable()
                if response.status_code != 200:
                    print(f"{page} {path}: HTTP {response.status_code}", file=sys.stderr)
                    return 1
                if i >= 2:
                    walls.append((w1 - w0) * 1000)
                    cpus.append((c1 - c0) * 1000)
                    queries.append(len(captured.captured_queries))
                    sizes.append(len(response.content) / 1024)
            label = "manager" if role == CLINIC_MANAGER else "therapist"
            print(
                f"{page:<22} {label:<9} {statistics.median(walls):8.1f} "
                f"{statistics.median(cpus):8.1f} {statistics.median(queries):8.0f} "
                f"{statistics.median(sizes):6.0f}",
                flush=True,
            )
    if args.profile:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(args.sort).print_stats(args.top)
        print(out.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main())
