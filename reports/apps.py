from django.apps import AppConfig


class ReportsConfig(AppConfig):
    """PDF session and progress reports (WeasyPrint)."""

    name = "reports"
