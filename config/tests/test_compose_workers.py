"""Every Celery queue a task is sent to has a worker in the compose deployment, at the CPU
priority the README's "Sizing" gives it (a queue nobody consumes fills Redis silently)."""

from pathlib import Path

import yaml
from celery import current_app
from django.conf import settings

from config.celery import queues_in_use

COMPOSE = Path(__file__).resolve().parents[2] / "docker-compose.yml"


def worker_commands() -> dict[str, list[str]]:
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    return {
        name: service["command"]
        for name, service in services.items()
        if "celery" in service.get("command", []) and "worker" in service["command"]
    }


def queues_of(command: list[str]) -> set[str]:
    return {
        queue
        for arg in command
        if arg.startswith("--queues=")
        for queue in arg.removeprefix("--queues=").split(",")
    }


def test_every_queue_tasks_are_routed_to_has_a_worker():
    wanted = set(queues_in_use())
    assert settings.REPORT_PRERENDER_QUEUE in wanted
    consumed = set().union(*map(queues_of, worker_commands().values()))
    assert wanted <= consumed, f"no worker consumes {wanted - consumed}"


def test_report_prerendering_runs_at_idle_priority_and_analyses_below_the_web():
    commands = worker_commands()
    by_queue = {queue: cmd for cmd in commands.values() for queue in queues_of(cmd)}
    assert by_queue[settings.REPORT_PRERENDER_QUEUE][:3] == ["chrt", "--idle", "0"]
    assert by_queue[current_app.conf.task_default_queue][:3] == ["nice", "-n", "10"]
