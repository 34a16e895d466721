from django.apps import AppConfig


class TherapySessionsConfig(AppConfig):
    """Therapy sessions and recordings; labelled `therapy_sessions` (django.contrib.sessions owns
    the `sessions` label)."""

    name = "sessions"
    label = "therapy_sessions"
    verbose_name = "Therapy sessions"
