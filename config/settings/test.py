"""Settings for the test suite: real PostgreSQL and Redis, started by scripts/test.

The suite refuses SQLite: the one smoke test of the embedded defaults runs them in a subprocess.
"""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import DATABASES, REDIS_URL

if not DATABASES["default"]["ENGINE"].endswith("postgresql") or not REDIS_URL:
    raise ImproperlyConfigured(
        "The test suite runs on PostgreSQL and Redis: run it with scripts/test, which starts "
        "both, or set DATABASE_URL and REDIS_URL."
    )

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_ALWAYS_EAGER = False
ACCOUNT_RATE_LIMITS = {"login_failed": "10/m/ip,5/5m/key"}
STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}
# Static files straight from static/ (no collectstatic before tests), as in development.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# Off by default; tests of two-factor switch it on (settings.MFA_REQUIRED = True).
MFA_REQUIRED = False
