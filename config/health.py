"""Liveness/readiness probe for load balancers and container orchestrators.

Answered by the first middleware, before host validation and the HTTPS redirect, so that probes
can call `http://127.0.0.1:8000/healthz` inside a container whatever ALLOWED_HOSTS says.
"""

from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse

HEALTH_PATH = "/healthz"


def health_status() -> tuple[bool, dict]:
    """Whether the database and the cache answer; reveals nothing else."""
    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception:  # noqa: BLE001 - any failure means "not ready"
        checks["database"] = "error"
    try:
        cache.set("healthz", "1", 5)
        checks["cache"] = "ok" if cache.get("healthz") == "1" else "error"
    except Exception:  # noqa: BLE001
        checks["cache"] = "error"
    return all(value == "ok" for value in checks.values()), checks


class HealthCheckMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path != HEALTH_PATH:
            return self.get_response(request)
        healthy, checks = health_status()
        response = JsonResponse(
            {"status": "ok" if healthy else "error", **checks}, status=200 if healthy else 503
        )
        response["Cache-Control"] = "no-store"
        return response
