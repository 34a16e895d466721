from django.apps import AppConfig


class ReportsConfig(AppConfig):
    """PDF session and progress reports (WeasyPrint)."""

    name = "reports"

    def ready(self):
        # Register the Celery task in every process (see AnalysisConfig.ready): the progress
        # report is sent by the web process and runs in-process in the embedded mode.
        from reports import tasks  # noqa: F401
