"""What the audit trail adds to a page view: p50/p95 with and without the audit entry.

The same page through the whole Django stack (URL resolution, middleware, session, login,
template), once as served (``clinic.web.audited`` writes the entry: purpose, lock the chain head,
insert, move the head, commit) and once with the undecorated view function, at the same URL (the
bench points the page's URL pattern at a view that runs either, chosen by a bench-only request
header), interleaved request by request so both see the same machine. Also the cost of
``record_access`` alone.

    DATABASE_URL=postgres://... python bench/audit_bench.py [--requests 400] [--plain-url]

``--plain-url`` compares as the bench did before: the plain view under a bench-only URL matched
first, so the real page's longer URL resolution (about 0.08 ms) counts as the audit's.

It migrates the database and adds a clinic, a manager, a therapist and a patient with a
session. Entries are append-only, so use a throwaway database. Target (issue 12): <= 2 ms added
per page view.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import time
import types
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")


def percentiles(samples_s: list[float]) -> tuple[float, float]:
    """p50 and p95 in milliseconds."""
    ordered = sorted(samples_s)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered) * 1e3, p95 * 1e3


def load() -> str:
    return ", ".join(f"{x:.1f}" for x in os.getloadavg())


def server_time_ms(cursor) -> float | None:
    """PostgreSQL's time on this database's statements since the last reset (ms): execution,
    plus planning when the server tracks it (``pg_stat_statements.track_planning = on``; a
    statement planned on every call can spend longer planning than running). None when
    pg_stat_statements is not loaded (shared_preload_libraries)."""
    from django.db import DatabaseError

    try:
        cursor.execute(
            "SELECT COALESCE(SUM(total_exec_time + total_plan_time), 0) FROM pg_stat_statements "
            "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "AND query NOT ILIKE '%pg_stat_statements%'"
        )
        return cursor.fetchone()[0]
    except DatabaseError:
        return None


SERVER_ROUNDS, SERVER_BLOCK = 7, 20


class AuditStepTimer:
    """Times the audit step inside each audited request: ``clinic.web.audited`` calls
    ``patient_ids_for`` (the URL's object's patient) and ``record_access`` (the entry), looked up
    in ``clinic.web`` at call time; both are wrapped for the bench. The direct cost, measured
    inside the request, rather than the difference of two noisy whole-request medians."""

    def __init__(self):
        from clinic import web

        self.web = web
        self.originals = {name: getattr(web, name) for name in ("patient_ids_for", "record_access")}
        self.wall = self.cpu = 0.0
        for name, original in self.originals.items():
            setattr(web, name, self._timed(original))

    def _timed(self, function):
        def timed(*args, **kwargs):
            started, cpu_started = time.perf_counter(), time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                self.wall += time.perf_counter() - started
                self.cpu += time.process_time() - cpu_started

        return timed

    def take(self) -> tuple[float, float]:
        """Wall and CPU seconds since the last take."""
        taken, self.wall, self.cpu = (self.wall, self.cpu), 0.0, 0.0
        return taken

    def close(self):
        for name, original in self.originals.items():
            setattr(self.web, name, original)


# The request header that picks the variant at the page's own URL ("audited" or "plain").
VARIANT_HEADER = "HTTP_X_AUDIT_BENCH"


def either_view(audited_view):
    """The page's view as served (``@login_required @audited(...)``) or, when the request's
    bench header says "plain", the same view function with the login only."""
    from django.contrib.auth.decorators import login_required

    plain_view = login_required(audited_view.__wrapped__.__wrapped__)

    def view(request, *args, **kwargs):
        chosen = plain_view if request.META.get(VARIANT_HEADER) == "plain" else audited_view
        return chosen(request, *args, **kwargs)

    return view


def swap_view(resolver, view, replacement):
    """Point the URL pattern whose view is ``view`` at ``replacement``; a function undoes it."""
    from django.urls import URLResolver

    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            if undo := swap_view(pattern, view, replacement):
                return undo
        elif pattern.callback is view:
            pattern.callback = replacement
            return lambda: setattr(pattern, "callback", view)
    return None


def server_added_ms(client, variants) -> tuple[float, float] | None:
    """PostgreSQL's time per request of the audited and the plain page: alternating blocks of
    requests, pg_stat_statements reset before each (medians over the blocks). The server's own
    time is less disturbed by a busy client machine than wall time."""
    from django.db import DatabaseError, connection

    per_request = {variant: [] for variant in variants}
    for _ in range(SERVER_ROUNDS):
        for variant, (url, headers) in variants.items():
            with connection.cursor() as cursor:
                try:
                    cursor.execute("SELECT pg_stat_statements_reset()")
                except DatabaseError:
                    return None
            for _ in range(SERVER_BLOCK):
                assert client.get(url, **headers).status_code == 200
            with connection.cursor() as cursor:
                total = server_time_ms(cursor)
            if total is None:
                return None
            per_request[variant].append(total / SERVER_BLOCK)
    return statistics.median(per_request["audited"]), statistics.median(per_request["plain"])


def record_access_cost(user, patient, n: int) -> str:
    """``record_access`` alone: wall p50/p95, CPU p50, round trips and server time per entry."""
    from django.db import DatabaseError, connection
    from django.test.utils import CaptureQueriesContext

    from clinic.audit import record_access

    with connection.cursor() as cursor, contextlib.suppress(DatabaseError):  # optional
        cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    record_access(user, "view", [patient.pk], object_type="patients.patient")  # loads the roles
    with CaptureQueriesContext(connection) as queries:
        record_access(user, "view", [patient.pk], object_type="patients.patient")
    round_trips = len(queries)
    with connection.cursor() as cursor, contextlib.suppress(DatabaseError):
        cursor.execute("SELECT pg_stat_statements_reset()")
    wall, cpu = [], []
    for _ in range(n):
        started, cpu_started = time.perf_counter(), time.process_time()
        record_access(user, "view", [patient.pk], object_type="patients.patient")
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - cpu_started)
    with connection.cursor() as cursor:
        server = server_time_ms(cursor)
    w50, w95 = percentiles(wall)
    c50, c95 = percentiles(cpu)
    server_text = f", server {server / n:.3f} ms/entry" if server is not None else ""
    return (
        f"record_access alone (manager, {n}x): wall p50 {w50:.2f} / p95 {w95:.2f} ms, "
        f"CPU p50 {c50:.3f} / p95 {c95:.3f} ms, {round_trips} round trips{server_text} "
        f"(load average {load()})"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=400, help="timed requests per variant")
    parser.add_argument("--warmup", type=int, default=40, help="untimed requests first")
    parser.add_argument(
        "--fresh-connections",
        action="store_true",
        help="a new database connection per request (CONN_MAX_AGE=0, no pool); by default one "
        "persistent connection, as the deployment's pool (DB_POOL_MAX_SIZE) gives a request",
    )
    parser.add_argument(
        "--plain-url",
        action="store_true",
        help="the plain view under a bench-only URL matched first (the comparison before "
        "2026-11-30: it counts the real page's longer URL resolution as the audit's)",
    )
    args = parser.parse_args()
    # A fresh PostgreSQL backend per request loads its catalog caches again for every table a
    # request touches, the trail's included: that is the connection's cost, not the audit's.
    os.environ["CONN_MAX_AGE"] = "0" if args.fresh_connections else "600"
    os.environ.pop("DB_POOL_MAX_SIZE", None)
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        print("set DATABASE_URL to a throwaway PostgreSQL database", file=sys.stderr)
        return 2

    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth.decorators import login_required
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.db import DatabaseError, connection
    from django.test import Client
    from django.test.utils import override_settings
    from django.urls import get_resolver, include, path

    from clinic.models import AuditEntry, Clinic, User
    from clinic.roles import CLINIC_MANAGER, THERAPIST
    from patients.models import Patient
    from patients.views import records
    from sessions import views as session_views
    from sessions.models import TherapySession

    call_command("migrate", verbosity=0)
    stamp = time.strftime("%Y%m%d%H%M%S")
    clinic = Clinic.objects.create(name=f"Audit bench {stamp}", code=f"ab-{stamp}")
    password = "bench-only-password"  # noqa: S105 - throwaway accounts, force_login below
    manager = User.objects.create_user(f"m-{stamp}@bench.test", password, clinic=clinic)
    manager.groups.add(Group.objects.get(name=CLINIC_MANAGER))
    therapist = User.objects.create_user(f"t-{stamp}@bench.test", password, clinic=clinic)
    therapist.groups.add(Group.objects.get(name=THERAPIST))
    patient = Patient.objects.create(clinic=clinic, code="AB1", first_name="A", last_name="B")
    patient.therapists.add(therapist)
    session = TherapySession.objects.create(patient=patient, therapist=therapist)

    def unaudited(view):
        """The view function under ``@login_required @audited(...)``, with the login only."""
        return login_required(view.__wrapped__.__wrapped__)

    bench_urls = types.ModuleType("audit_bench_urls")
    bench_urls.urlpatterns = [
        path("bench/patient/<int:pk>/", unaudited(records.patient_detail)),
        path("bench/session/<int:pk>/", unaudited(session_views.session_detail)),
        path("", include("config.urls")),
    ]
    sys.modules["audit_bench_urls"] = bench_urls
    urlconf = "audit_bench_urls" if args.plain_url else settings.ROOT_URLCONF

    pages = [
        ("patient page, manager", manager, records.patient_detail, f"/patients/{patient.pk}/"),
        (
            "session page, therapist",
            therapist,
            session_views.session_detail,
            f"/sessions/{session.pk}/",
        ),
    ]
    if not args.plain_url:
        undo = [
            swap_view(get_resolver(urlconf), view, either_view(view)) for _, _, view, _ in pages
        ]
        assert all(undo), "a page's URL pattern was not found"

    def variants_of(url):
        """Each variant's URL and request headers."""
        if args.plain_url:
            prefix = "/bench/patient/" if url.startswith("/patients/") else "/bench/session/"
            return {
                "audited": (url, {}),
                "plain": (prefix + url.rstrip("/").rsplit("/", 1)[1] + "/", {}),
            }
        return {variant: (url, {VARIANT_HEADER: variant}) for variant in ("audited", "plain")}

    print(
        f"{args.requests} requests per variant, interleaved, after {args.warmup} warm-up; "
        + ("a new connection per request" if args.fresh_connections else "persistent connection")
        + ("; plain view under a bench-only URL" if args.plain_url else "; both at the page's URL")
    )
    print(
        f"{'page':<26}{'audited p50/p95 ms':>22}{'plain p50/p95 ms':>20}{'added p50/p95':>16}"
        f"{'added CPU p50':>15}"
    )
    with override_settings(ROOT_URLCONF=urlconf, DEBUG=False, ALLOWED_HOSTS=["testserver"]):
        for label, user, _, page_url in pages:
            client = Client()
            client.force_login(user)
            variants = variants_of(page_url)
            before = AuditEntry.objects.count()
            timings = {"audited": [], "plain": []}
            cpu = {"audited": [], "plain": []}
            step_wall, step_cpu = [], []
            step = AuditStepTimer()
            for i in range(args.warmup + args.requests):
                order = list(variants.items())
                for variant, (url, headers) in order if i % 2 else reversed(order):
                    started, cpu_started = time.perf_counter(), time.process_time()
                    response = client.get(url, **headers)
                    elapsed = time.perf_counter() - started
                    cpu_s = time.process_time() - cpu_started
                    assert response.status_code == 200, (url, response.status_code)
                    step_s = step.take()
                    if i >= args.warmup:
                        timings[variant].append(elapsed)
                        cpu[variant].append(cpu_s)
                        if variant == "audited":
                            step_wall.append(step_s[0])
                            step_cpu.append(step_s[1])
            step.close()
            written = AuditEntry.objects.count() - before
            assert written == args.warmup + args.requests, written
            with connection.cursor() as cursor, contextlib.suppress(DatabaseError):
                cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            a50, a95 = percentiles(timings["audited"])
            p50, p95 = percentiles(timings["plain"])
            cpu_added = (statistics.median(cpu["audited"]) - statistics.median(cpu["plain"])) * 1e3
            print(
                f"{label:<26}{a50:>11.2f} / {a95:<8.2f}{p50:>9.2f} / {p95:<8.2f}"
                f"{a50 - p50:>7.2f} / {a95 - p95:<7.2f}{cpu_added:>9.2f}   (load average {load()})"
            )
            sw50, sw95 = percentiles(step_wall)
            sc50, sc95 = percentiles(step_cpu)
            print(
                f"{'':<26}audit step inside the request: wall p50 {sw50:.2f} / p95 {sw95:.2f} ms,"
                f" CPU p50 {sc50:.2f} / p95 {sc95:.2f} ms   (load average {load()})"
            )
            server = server_added_ms(client, variants)
            if server is not None:
                print(
                    f"{'':<26}PostgreSQL per request: audited {server[0]:.3f} ms, plain "
                    f"{server[1]:.3f} ms, added {server[0] - server[1]:.3f} ms "
                    f"(median of {SERVER_ROUNDS} blocks of {SERVER_BLOCK}; load average {load()})"
                )

    for restore in undo if not args.plain_url else ():
        restore()
    print(f"  (load average {load()})")
    print(record_access_cost(manager, patient, args.requests))
    print("target: <= 2 ms added per page view (p50)")
    print("added CPU = this process's CPU time per request (Django's side, not PostgreSQL's);")
    print(
        "server = PostgreSQL's execution time of the entry's statements, planning included when "
        "pg_stat_statements.track_planning is on (pg_stat_statements)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
