"""Celery application, configured from Django settings (the CELERY_ namespace)."""

import os

from celery import Celery
from django.conf import settings

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("myoclinic")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def queues_in_use() -> list[str]:
    """Every queue a task may be sent to: the default one and those of CELERY_TASK_ROUTES
    (each needs a worker; README "Sizing")."""
    routed = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()}
    return sorted(routed | {app.conf.task_default_queue})
