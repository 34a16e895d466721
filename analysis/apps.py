from django.apps import AppConfig


class AnalysisConfig(AppConfig):
    """Runs the pure numeric core (analysis/core) on recordings and stores the results."""

    name = "analysis"

    def ready(self):
        # Register the Celery tasks in every process, not only in workers: the pipeline sends
        # them by name, and in the embedded mode (tasks run in-process) Celery needs the task
        # object itself; autodiscovery alone imports task modules only when a worker starts.
        from analysis import tasks  # noqa: F401
