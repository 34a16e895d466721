"""CPU time per request of ``api_bench.py``'s endpoints, in process, stage by stage (issue 14).

    export DATABASE_URL=postgres://... REDIS_URL=redis://... SECRET_KEY=... \\
        DJANGO_SETTINGS_MODULE=config.settings.production ALLOWED_HOSTS=127.0.0.1
    python bench/api_cpu.py [--only patients sessions recording] [--reps 10] [--per-rep 40]

Runs ``/healthz`` (the floor), the patient list, the session list and the recording detail
through the whole Django stack in this process (``django.test.Client`` with the manager's
personal API token: middleware, DRF, the audit entry), on the database ``api_bench.py`` seeded
(run it once first). Per endpoint it prints the CPU time of this process per request
(``time.process_time``, the garbage collector paused; the best of ``--reps`` runs of
``--per-rep`` requests, the least disturbed by other jobs on a shared machine) and where it
went: the CPU time spent inside each stage (authentication, throttles, permissions, the
queryset, the filter set, the page and its COUNT, serialising, the audit entry, the JSON
rendering, the Redis and database round trips), measured by timing those functions in place.
Stages nest (the queries are inside the page, the Redis calls inside authentication and the
throttle), so the column does not add up to the total. Unlike a profiler it costs next to
nothing per call, so the figures are the real ones; Daphne's own cost (the floor's
difference under ``api_bench.py``) is not in them.
"""

from __future__ import annotations

import argparse
import collections
import functools
import gc
import logging
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
# The throttle still runs (its Redis round trips are measured) but never refuses.
os.environ.setdefault("API_THROTTLE_USER", "100000000/minute")

SPENT: collections.Counter = collections.Counter()


def timed(owner, name: str, label: str) -> None:
    """Replace ``owner.name`` with a wrapper that adds its CPU time to ``SPENT[label]``."""
    original = getattr(owner, name)

    @functools.wraps(original)
    def wrapper(*args, **kwargs):
        began = time.process_time()
        try:
            return original(*args, **kwargs)
        finally:
            SPENT[label] += time.process_time() - began

    setattr(owner, name, wrapper)


def instrument() -> None:
    import django_filters.rest_framework
    from django.core.cache.backends import redis as redis_cache
    from django.db.backends import utils as db_utils
    from django.db.models import query
    from rest_framework import generics, renderers, serializers, throttling, views

    from clinic import access
    from clinic.api import auth, base
    from patients import selectors as patient_selectors
    from sessions import api_recordings, selectors

    stages = [
        (views.APIView, "dispatch", "DRF dispatch (the view, all of it)"),
        (views.APIView, "perform_authentication", "authentication"),
        (auth, "_check_not_blocked", "  the address's failed tokens (Redis)"),
        (access, "load_roles", "roles and permissions (one query)"),
        (views.APIView, "check_permissions", "permissions"),
        (throttling.SimpleRateThrottle, "allow_request", "throttle (Redis get and set)"),
        (
            django_filters.rest_framework.DjangoFilterBackend,
            "filter_queryset",
            "filter set (built, validated, applied)",
        ),
        (patient_selectors, "patients_listed", "the visible patients' queryset"),
        (selectors, "sessions_listed", "the visible sessions' queryset"),
        (generics.GenericAPIView, "paginate_queryset", "page rows and COUNT"),
        (query.QuerySet, "count", "  COUNT"),
        (serializers.ListSerializer, "to_representation", "serialising the page"),
        (selectors, "recording_for", "recording_for (the recording, in scope)"),
        (api_recordings, "recording_document", "the analysis document"),
        (base.AuditedMixin, "_record", "audit entry"),
        (renderers.JSONRenderer, "render", "JSON rendering"),
        (db_utils.CursorWrapper, "execute", "database: sending the statements"),
        (redis_cache.RedisCache, "get", "Redis: get"),
        (redis_cache.RedisCache, "set", "Redis: set"),
    ]
    for owner, name, label in stages:
        timed(owner, name, label)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="endpoints: healthz patients sessions recording")
    parser.add_argument("--reps", type=int, default=10, help="runs per endpoint (best kept)")
    parser.add_argument("--per-rep", type=int, default=40, help="requests per run")
    args = parser.parse_args()

    import django

    django.setup()
    logging.disable(logging.WARNING)
    from django.test import Client

    from clinic.models import User
    from clinic.services import api_token_create
    from sessions.models import Recording

    try:
        manager = User.objects.get(email="manager@bench-api.test")
    except User.DoesNotExist:
        raise SystemExit("Run bench/api_bench.py once on this database first.") from None
    recording = Recording.objects.filter(session__clinic=manager.clinic).order_by("pk").first()
    _, token = api_token_create(user=manager, name="api_cpu")
    instrument()
    client = Client(
        HTTP_AUTHORIZATION=f"Token {token}", HTTP_ACCEPT="application/json", SERVER_NAME="127.0.0.1"
    )
    targets = {
        "healthz": "/healthz",
        "patients": "/api/v1/patients/",
        "sessions": "/api/v1/sessions/",
        "recording": f"/api/v1/recordings/{recording.pk}/",
    }
    for key, path in targets.items():
        if args.only and key not in args.only:
            continue
        for _ in range(20):  # warm-up: caches, the token's last use, the interpreter
            response = client.get(path)
        if response.status_code != 200:
            raise SystemExit(f"{path}: {response.status_code} {response.content[:200]!r}")
        best = None
        for _ in range(args.reps):
            SPENT.clear()
            gc.disable()
            began = time.process_time()
            for _ in range(args.per_rep):
                client.get(path)
            total = time.process_time() - began
            gc.enable()
            if best is None or total < best[0]:
                best = (total, dict(SPENT))
        total, parts = best
        print(f"{key}: {total / args.per_rep * 1000:.2f} ms CPU per request (best of {args.reps})")
        for label, spent in sorted(parts.items(), key=lambda item: -item[1]):
            print(f"  {spent / args.per_rep * 1000:6.2f}  {label}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
