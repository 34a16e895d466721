from django.apps import AppConfig


class AnalysisConfig(AppConfig):
    """Runs the pure numeric core (analysis/core) on recordings and stores the results."""

    name = "analysis"
